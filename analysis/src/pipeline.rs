//! `flowmeter analyze`: named stages in a fixed order, each rewriting its own
//! derived table.
//!
//! 1. `deployments`: resolve every environment's sources (branch, tags, file,
//!    GitHub deployments, workflow runs) into one time-ordered list per repo
//!    and environment.
//! 2. `deployment_commits`: one marking pass per environment over the parent
//!    graph. A deployment ships the ancestors of its sha that no earlier
//!    deployment there shipped. The first deployment's history is baseline.
//!    Redeploying an already-shipped sha ships nothing and is a rollback.
//! 3. `changes`: each shipped commit with its lead time (clock skew flagged,
//!    never clamped) and its PR.
//! 4. `deployment_stats`: batch sizes, failure signals with reasons, recovery
//!    and rework.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use flowmeter_store::{WriteGuard, CHANGES, DEPLOYMENT_COMMITS, DEPLOYMENT_STATS};
use polars::prelude::*;
use serde::Serialize;

use crate::config::{Config, Environment, LeadTimeStart};
use crate::error::{polars_err, Result};
use crate::frame::{list_col, time_col};
use crate::inputs::{Graph, Inputs};

/// The stages, in the order they run.
pub const STAGES: &[&str] = &[
    "deployments",
    "deployment_commits",
    "changes",
    "deployment_stats",
    "env_arrivals",
    "promotions",
    "drift_daily",
    "misalignments",
];

const NONE: u32 = u32::MAX;

/// One resolved deployment.
#[derive(Debug, Clone)]
pub struct Deploy {
    pub repo: String,
    pub env: String,
    pub env_pos: usize,
    pub id: String,
    pub sha: String,
    pub commit: Option<u32>,
    pub at: i64,
    pub status: String,
    pub source: String,
    pub ref_: Option<String>,
    pub production: bool,
    /// Sort key: `at`, except on a branch, where it never decreases along the
    /// first-parent chain (a child committed "before" its parent still deploys after it).
    pub order: i64,
    /// Longest path from a root: breaks time ties parent-first.
    pub generation: u32,
}

/// What a deployment shipped, from the marking pass.
#[derive(Debug, Clone, Default)]
pub struct Shipped {
    pub commits: Vec<u32>,
    pub baseline: Vec<u32>,
    pub is_baseline: bool,
    pub is_rollback: bool,
    /// Indices (into the deploy list) of the rollbacks that undid this deployment.
    pub rolled_back_by: Vec<usize>,
}

/// What `analyze` did, stage by stage.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyzeReport {
    pub config: String,
    pub stages: Vec<StageReport>,
    /// The marking pass alone (every environment), inside `deployment_commits`.
    pub marking_pass_s: f64,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    pub name: &'static str,
    pub rows: usize,
    #[serde(serialize_with = "ser_secs")]
    pub elapsed: Duration,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Runs every stage and writes the derived tables.
pub fn analyze(guard: &WriteGuard, config: &Config) -> Result<AnalyzeReport> {
    let inputs = Inputs::load(guard.store())?;
    let mut report = AnalyzeReport {
        config: config.describe(),
        stages: vec![],
        marking_pass_s: 0.0,
        warnings: vec![],
    };

    let t = Instant::now();
    let deploys = resolve_deployments(config, &inputs, &mut report.warnings);
    report.stages.push(StageReport {
        name: STAGES[0],
        rows: deploys.len(),
        elapsed: t.elapsed(),
    });

    let t = Instant::now();
    let shipped = map_commits(&inputs, &deploys);
    report.marking_pass_s = t.elapsed().as_secs_f64();
    let dc = deployment_commits_frame(&inputs, &deploys, &shipped)?;
    report.stages.push(StageReport {
        name: STAGES[1],
        rows: dc.height(),
        elapsed: t.elapsed(),
    });
    guard.replace(&DEPLOYMENT_COMMITS, None, dc)?;

    let t = Instant::now();
    let ch = changes_frame(config, &inputs, &deploys, &shipped)?;
    report.stages.push(StageReport {
        name: STAGES[2],
        rows: ch.height(),
        elapsed: t.elapsed(),
    });
    guard.replace(&CHANGES, None, ch)?;

    let t = Instant::now();
    let stats = compute_stats(config, &inputs, &deploys, &shipped);
    let st = stats_frame(&deploys, &shipped, &stats)?;
    report.stages.push(StageReport {
        name: STAGES[3],
        rows: st.height(),
        elapsed: t.elapsed(),
    });
    guard.replace(&DEPLOYMENT_STATS, None, st)?;

    // Stages 5-8: the environment promotion flow (computed once, one table each).
    let t = Instant::now();
    let (_, tables) = crate::flow::write_tables(guard, config, &inputs)?;
    let per = t.elapsed() / tables.len().max(1) as u32;
    for (name, rows) in tables {
        report.stages.push(StageReport {
            name,
            rows,
            elapsed: per,
        });
    }
    Ok(report)
}

// ---- stage 1: deployments ---------------------------------------------------

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Resolves every environment's sources into deployments, sorted by repo,
/// environment (promotion order), time and id.
pub fn resolve_deployments(
    config: &Config,
    inp: &Inputs,
    warnings: &mut Vec<String>,
) -> Vec<Deploy> {
    let mut out: Vec<Deploy> = vec![];
    let mut repos: BTreeSet<String> = inp.graphs.keys().cloned().collect();
    repos.extend(inp.deployments.iter().filter_map(|d| d.repo.clone()));
    let gens: HashMap<&str, Vec<u32>> = inp
        .graphs
        .iter()
        .map(|(r, g)| (r.as_str(), generations(g)))
        .collect();
    for (pos, env) in config.environments.iter().enumerate() {
        for repo in &repos {
            let before = out.len();
            let graph = inp.graphs.get(repo);
            let gen = gens.get(repo.as_str());
            let mut push = |id: String,
                            sha: String,
                            at: i64,
                            status: &str,
                            source: &str,
                            ref_: Option<String>| {
                let commit = graph.and_then(|g| g.resolve(&sha));
                let sha = match (commit, graph) {
                    (Some(c), Some(g)) => g.shas[c as usize].clone(),
                    _ => sha,
                };
                out.push(Deploy {
                    repo: repo.clone(),
                    env: env.name.clone(),
                    env_pos: pos,
                    id,
                    sha,
                    commit,
                    at,
                    status: status.to_string(),
                    source: source.to_string(),
                    ref_,
                    production: env.production,
                    order: at,
                    generation: commit.and_then(|c| gen.map(|g| g[c as usize])).unwrap_or(0),
                });
            };
            if let Some(g) = graph {
                if let Some(branch) = branch_of(env, inp, repo) {
                    match branch_tip(inp, repo, &branch) {
                        Some(tip) => match g.resolve(&tip) {
                            Some(mut c) => loop {
                                let sha = g.shas[c as usize].clone();
                                let at = g.committed[c as usize].unwrap_or(0);
                                push(format!("branch:{branch}:{}", short(&sha)), sha, at, "success", "branch", Some(branch.clone()));
                                match g.parents[c as usize].first() {
                                    Some(p) => c = *p,
                                    None => break,
                                }
                            },
                            None => warnings.push(format!("{repo}: branch `{branch}` points at {tip}, which is not in the commits table")),
                        },
                        None if !env.default_branch => warnings.push(format!(
                            "{repo}: environment `{}`: no branch `{branch}` in refs", env.name
                        )),
                        None => {}
                    }
                }
                if let Some(pat) = &env.tags {
                    for r in inp.refs.get(repo).into_iter().flatten() {
                        if r.kind == "tag" && pat.is_match(&r.name) {
                            let at = r.tagged_at.or_else(|| {
                                g.resolve(&r.sha).and_then(|c| g.committed[c as usize])
                            });
                            if let Some(at) = at {
                                push(
                                    format!("tag:{}", r.name),
                                    r.sha.clone(),
                                    at,
                                    "success",
                                    "tag",
                                    Some(r.name.clone()),
                                );
                            }
                        }
                    }
                }
            }
            for d in &inp.deployments {
                let wanted = match d.source.as_str() {
                    "github_deployment" => env
                        .github_deployments
                        .as_ref()
                        .is_some_and(|p| p.is_match(&d.environment)),
                    "file" => env.file.is_some() && d.environment == env.name,
                    _ => false,
                };
                if !wanted {
                    continue;
                }
                let belongs = match &d.repo {
                    Some(r) => r == repo,
                    // A row without a repo belongs to the first repo (by name) that has its sha.
                    None => {
                        inp.graphs
                            .iter()
                            .find(|(_, g)| g.resolve(&d.sha).is_some())
                            .map(|(r, _)| r)
                            == Some(repo)
                    }
                };
                if belongs {
                    push(
                        d.deployment_id.clone(),
                        d.sha.clone(),
                        d.deployed_at,
                        &d.status,
                        &d.source,
                        d.ref_.clone(),
                    );
                }
            }
            if let Some(pat) = &env.workflow {
                for r in inp.runs.iter().filter(|r| &r.repo == repo) {
                    if pat.is_match(&r.workflow_name) && r.conclusion.as_deref() == Some("success")
                    {
                        push(
                            format!("run:{}", r.run_id),
                            r.head_sha.clone(),
                            r.at,
                            "success",
                            "workflow_run",
                            r.head_branch.clone(),
                        );
                    }
                }
            }
            // Branch deployments were pushed first, tip to root: their order never
            // decreases from root to tip, whatever the committer clocks said.
            let nb = out[before..]
                .iter()
                .take_while(|d| d.source == "branch")
                .count();
            let mut floor = i64::MIN;
            for d in out[before..before + nb].iter_mut().rev() {
                floor = floor.max(d.at);
                d.order = floor;
            }
            let slice = &mut out[before..];
            slice.sort_by(|a, b| {
                (a.order, a.generation, &a.id).cmp(&(b.order, b.generation, &b.id))
            });
            // The same id from two sources is one deployment.
            let mut seen = BTreeSet::new();
            let mut keep: Vec<Deploy> = out
                .drain(before..)
                .filter(|d| seen.insert(d.id.clone()))
                .collect();
            for d in &keep {
                if d.commit.is_none() {
                    warnings.push(format!(
                        "{repo}: deployment `{}` to `{}` names {}, which is not in the commits table: it ships nothing",
                        d.id, d.env, d.sha
                    ));
                }
            }
            out.append(&mut keep);
        }
    }
    // Deploy-log rows that no environment takes are worth a word.
    let mut unused: std::collections::BTreeMap<&str, usize> = Default::default();
    for d in inp.deployments.iter().filter(|d| d.source == "file") {
        if !config
            .environments
            .iter()
            .any(|e| e.file.is_some() && e.name == d.environment)
        {
            *unused.entry(d.environment.as_str()).or_default() += 1;
        }
    }
    let orphans = inp
        .deployments
        .iter()
        .filter(|d| d.repo.is_none() && !inp.graphs.values().any(|g| g.resolve(&d.sha).is_some()))
        .count();
    if orphans > 0 {
        warnings.push(format!(
            "{orphans} imported deployment rows have no repo and a sha no ingested repo has: they are not used"
        ));
    }
    for (env, n) in unused {
        warnings.push(format!(
            "{n} imported deployment rows for environment `{env}` are not used: give that [[environment]] a `file = \"...\"` source"
        ));
    }
    out
}

/// Each commit's generation: 1 + the largest generation of its parents.
fn generations(g: &Graph) -> Vec<u32> {
    let n = g.shas.len();
    let mut gen = vec![0u32; n];
    let mut stack: Vec<(u32, bool)> = vec![];
    for root in 0..n as u32 {
        if gen[root as usize] != 0 {
            continue;
        }
        stack.push((root, false));
        while let Some((c, expanded)) = stack.pop() {
            let ci = c as usize;
            if gen[ci] != 0 {
                continue;
            }
            if expanded {
                gen[ci] = 1 + g.parents[ci]
                    .iter()
                    .map(|p| gen[*p as usize])
                    .max()
                    .unwrap_or(0);
            } else {
                stack.push((c, true));
                for &p in &g.parents[ci] {
                    if gen[p as usize] == 0 {
                        stack.push((p, false));
                    }
                }
            }
        }
    }
    gen
}

pub(crate) fn branch_of(env: &Environment, inp: &Inputs, repo: &str) -> Option<String> {
    if env.default_branch {
        inp.default_branch.get(repo).cloned().or_else(|| {
            let refs = inp.refs.get(repo)?;
            ["main", "master"]
                .iter()
                .find(|b| refs.iter().any(|r| r.kind == "branch" && r.name == **b))
                .map(|b| b.to_string())
        })
    } else {
        env.branch.clone()
    }
}

pub(crate) fn branch_tip(inp: &Inputs, repo: &str, branch: &str) -> Option<String> {
    let refs = inp.refs.get(repo)?;
    refs.iter()
        .find(|r| r.kind == "branch" && r.name == branch)
        .or_else(|| {
            refs.iter().find(|r| {
                r.name == format!("refs/remotes/origin/{branch}")
                    || r.name == format!("origin/{branch}")
            })
        })
        .map(|r| r.sha.clone())
}

// ---- stage 2: deployment_commits ---------------------------------------------

/// The marking pass: for each (repo, environment), walk the deployments in
/// time order and mark each commit with the first deployment that reaches it.
/// Every commit is visited at most once per environment.
pub fn map_commits(inp: &Inputs, deploys: &[Deploy]) -> Vec<Shipped> {
    let mut out = vec![Shipped::default(); deploys.len()];
    let mut start = 0;
    while start < deploys.len() {
        let (repo, env) = (&deploys[start].repo, &deploys[start].env);
        let end = start
            + deploys[start..]
                .iter()
                .take_while(|d| &d.repo == repo && &d.env == env)
                .count();
        if let Some(g) = inp.graphs.get(repo) {
            mark_env(g, &deploys[start..end], &mut out[start..end], start);
        }
        start = end;
    }
    out
}

fn mark_env(g: &Graph, deploys: &[Deploy], out: &mut [Shipped], offset: usize) {
    let mut mark = vec![NONE; g.shas.len()];
    let mut current: Option<u32> = None;
    let mut seen_first = false;
    let mut stack = vec![];
    for (i, d) in deploys.iter().enumerate() {
        let Some(c) = d.commit else { continue };
        if mark[c as usize] != NONE {
            // Already shipped: nothing new. Going back to an older sha is a rollback.
            if current != Some(c) {
                out[i].is_rollback = true;
                // Undone: every later deployment that shipped something, and the one
                // that shipped `c` too unless `c` was its own sha.
                let k = mark[c as usize] as usize;
                let from = if deploys[k].commit == Some(c) {
                    k + 1
                } else {
                    k
                };
                for o in &mut out[from..i] {
                    if !o.commits.is_empty() {
                        o.rolled_back_by.push(offset + i);
                    }
                }
            }
            current = Some(c);
            continue;
        }
        let mut got = vec![];
        stack.push(c);
        mark[c as usize] = i as u32;
        while let Some(x) = stack.pop() {
            got.push(x);
            for &p in &g.parents[x as usize] {
                if mark[p as usize] == NONE {
                    mark[p as usize] = i as u32;
                    stack.push(p);
                }
            }
        }
        // Commit indices follow sha order (the graph is built from a sorted map).
        got.sort_unstable();
        if seen_first {
            out[i].commits = got;
        } else {
            // History before the first observed deployment is baseline, not its batch.
            out[i].baseline = got;
            out[i].is_baseline = true;
            seen_first = true;
        }
        current = Some(c);
    }
}

fn deployment_commits_frame(
    inp: &Inputs,
    deploys: &[Deploy],
    shipped: &[Shipped],
) -> Result<DataFrame> {
    let mut rows: Vec<(&str, &str, &str, &str)> = vec![];
    for (d, s) in deploys.iter().zip(shipped) {
        let g = &inp.graphs[&d.repo];
        for c in &s.commits {
            rows.push((&d.repo, &d.env, &d.id, &g.shas[*c as usize]));
        }
    }
    // Already in a fixed order: repo, environment (config order), deployment
    // time and id, sha.
    df!(
        "repo" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "environment" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "deployment_id" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "sha" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    )
    .map_err(polars_err("building deployment_commits"))
}

// ---- stage 3: changes -----------------------------------------------------------

fn changes_frame(
    config: &Config,
    inp: &Inputs,
    deploys: &[Deploy],
    shipped: &[Shipped],
) -> Result<DataFrame> {
    struct Row<'a> {
        repo: &'a str,
        sha: &'a str,
        env: &'a str,
        pr: Option<i64>,
        authored: Option<i64>,
        committed: Option<i64>,
        merged: Option<i64>,
        dep: Option<&'a str>,
        at: Option<i64>,
        lead: Option<i64>,
        baseline: bool,
        anomaly: Option<&'static str>,
        is_merge: bool,
    }
    let mut rows = vec![];
    for (d, s) in deploys.iter().zip(shipped) {
        let g = &inp.graphs[&d.repo];
        let prs = inp.prs.get(&d.repo);
        for (c, baseline) in s
            .commits
            .iter()
            .map(|c| (c, false))
            .chain(s.baseline.iter().map(|c| (c, true)))
        {
            let c = *c as usize;
            let sha = g.shas[c].as_str();
            let pr = prs.and_then(|(list, by)| by.get(sha).map(|k| &list[*k]));
            let start = match config.lead_time_start {
                LeadTimeStart::Authored => g.authored[c],
                LeadTimeStart::Committed => g.committed[c],
            };
            let (dep, at, lead, anomaly) = if baseline {
                (None, None, None, Some("baseline"))
            } else {
                match start.map(|s| (d.at - s) / 1_000_000) {
                    Some(l) if l < 0 => (Some(d.id.as_str()), Some(d.at), None, Some("clock_skew")),
                    Some(l) => (Some(d.id.as_str()), Some(d.at), Some(l), None),
                    None => (Some(d.id.as_str()), Some(d.at), None, Some("no_start_time")),
                }
            };
            rows.push(Row {
                repo: &d.repo,
                sha,
                env: &d.env,
                pr: pr.map(|p| p.number),
                authored: g.authored[c],
                committed: g.committed[c],
                merged: pr.and_then(|p| p.merged_at),
                dep,
                at,
                lead,
                baseline,
                anomaly,
                is_merge: g.is_merge[c],
            });
        }
    }
    rows.sort_by(|a, b| (a.repo, a.env, a.sha).cmp(&(b.repo, b.env, b.sha)));
    let mut df = df!(
        "repo" => rows.iter().map(|r| r.repo).collect::<Vec<_>>(),
        "sha" => rows.iter().map(|r| r.sha).collect::<Vec<_>>(),
        "environment" => rows.iter().map(|r| r.env).collect::<Vec<_>>(),
        "pr_number" => rows.iter().map(|r| r.pr).collect::<Vec<_>>(),
        "deployment_id" => rows.iter().map(|r| r.dep).collect::<Vec<_>>(),
        "lead_time_s" => rows.iter().map(|r| r.lead).collect::<Vec<_>>(),
        "is_baseline" => rows.iter().map(|r| r.baseline).collect::<Vec<_>>(),
        "anomaly" => rows.iter().map(|r| r.anomaly).collect::<Vec<_>>(),
        "is_merge" => rows.iter().map(|r| r.is_merge).collect::<Vec<_>>(),
    )
    .map_err(polars_err("building changes"))?;
    for (name, v) in [
        (
            "authored_at",
            rows.iter().map(|r| r.authored).collect::<Vec<_>>(),
        ),
        ("committed_at", rows.iter().map(|r| r.committed).collect()),
        ("merged_at", rows.iter().map(|r| r.merged).collect()),
        ("deployed_at", rows.iter().map(|r| r.at).collect()),
    ] {
        df.with_column(time_col(name, v)?)
            .map_err(polars_err("building changes"))?;
    }
    Ok(df)
}

// ---- stage 4: deployment_stats -----------------------------------------------------

/// The stage-4 outcome for one deployment.
#[derive(Debug, Clone, Default)]
pub struct Stat {
    pub batch_commits: i64,
    pub batch_prs: i64,
    pub additions: i64,
    pub deletions: i64,
    pub files: i64,
    pub reasons: Vec<String>,
    pub recovered_at: Option<i64>,
    pub is_hotfix: bool,
    pub ships_revert: bool,
    /// Incidents linked by a signal, for recovery.
    pub incidents: Vec<usize>,
}

impl Stat {
    pub fn failed(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// A compact span: `3h`, `1d2h`, `45m`, `30s`.
pub fn fmt_span(secs: i64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let neg = secs < 0;
    let mut s = secs.abs();
    let mut out = String::new();
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= n {
            out.push_str(&format!("{}{unit}", s / n));
            s %= n;
        }
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

/// The branch a merge commit's summary says it merged, if any.
fn merged_branch(summary: &str) -> Option<String> {
    if let Some(rest) = summary.strip_prefix("Merge branch '") {
        return rest.split('\'').next().map(str::to_string);
    }
    if let Some(rest) = summary.strip_prefix("Merge remote-tracking branch '") {
        let b = rest.split('\'').next()?;
        return Some(b.split_once('/').map_or(b, |(_, b)| b).to_string());
    }
    if let Some(rest) = summary.strip_prefix("Merge pull request #") {
        let from = rest.split(" from ").nth(1)?;
        let b = from.split_whitespace().next()?;
        return Some(b.split_once('/').map_or(b, |(_, b)| b).to_string());
    }
    None
}

fn compute_stats(
    config: &Config,
    inp: &Inputs,
    deploys: &[Deploy],
    shipped: &[Shipped],
) -> Vec<Stat> {
    let f = &config.failure;
    let sig = f.signals;
    let mut stats = vec![Stat::default(); deploys.len()];
    // Batch sizes and hotfix/revert detection.
    for (i, (d, s)) in deploys.iter().zip(shipped).enumerate() {
        let st = &mut stats[i];
        let g = &inp.graphs[&d.repo];
        let prs = inp.prs.get(&d.repo);
        let mut pr_set = BTreeSet::new();
        let mut hotfix = d
            .ref_
            .as_deref()
            .is_some_and(|r| f.hotfix_branch.as_ref().is_some_and(|p| p.is_match(r)))
            && d.source != "branch"
            && d.source != "tag";
        for &c in &s.commits {
            let c = c as usize;
            if let Some((list, by)) = prs {
                if let Some(k) = by.get(&g.shas[c]) {
                    pr_set.insert(*k);
                    let pr = &list[*k];
                    if f.hotfix_label
                        .as_ref()
                        .is_some_and(|l| pr.labels.iter().any(|x| x == l))
                        || f.hotfix_branch
                            .as_ref()
                            .is_some_and(|p| pr.head_ref.as_deref().is_some_and(|h| p.is_match(h)))
                    {
                        hotfix = true;
                    }
                }
            }
            if g.reverts[c].is_some() {
                st.ships_revert = true;
            }
            let summary = &g.summary[c];
            if f.hotfix_message
                .as_ref()
                .is_some_and(|r| r.is_match(summary))
                || (g.is_merge[c]
                    && f.hotfix_branch
                        .as_ref()
                        .is_some_and(|p| merged_branch(summary).is_some_and(|b| p.is_match(&b))))
            {
                hotfix = true;
            }
            if !g.is_merge[c] {
                st.batch_commits += 1;
                st.additions += g.additions[c];
                st.deletions += g.deletions[c];
                st.files += g.files[c];
            }
        }
        st.batch_prs = pr_set.len() as i64;
        st.is_hotfix = hotfix;
    }
    // Where each commit first shipped, per repo and environment.
    let mut shipped_by: HashMap<(&str, &str, u32), usize> = HashMap::new();
    for (i, (d, s)) in deploys.iter().zip(shipped).enumerate() {
        for &c in &s.commits {
            shipped_by.insert((&d.repo, &d.env, c), i);
        }
    }
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, d) in deploys.iter().enumerate() {
        by_id.entry(d.id.as_str()).or_default().push(i);
    }

    // 1. Own status.
    if sig.status {
        for (i, d) in deploys.iter().enumerate() {
            if d.status == "failure" || d.status == "error" {
                stats[i].reasons.push(format!("status: {}", d.status));
            }
        }
    }
    // 2 and 3. Incidents, production environments only.
    let prod: Vec<usize> = (0..deploys.len())
        .filter(|i| deploys[*i].production)
        .collect();
    for (k, inc) in inp.incidents.iter().enumerate() {
        let in_repo = |d: &Deploy| inc.repo.as_ref().is_none_or(|r| r == &d.repo);
        let mut linked = false;
        if sig.incident {
            if let Some(id) = &inc.deployment_id {
                for &i in by_id.get(id.as_str()).into_iter().flatten() {
                    if deploys[i].production && in_repo(&deploys[i]) {
                        stats[i].reasons.push(format!(
                            "incident {}: names this deployment",
                            inc.incident_id
                        ));
                        stats[i].incidents.push(k);
                        linked = true;
                    }
                }
            }
            if let Some(sha) = &inc.caused_by_sha {
                for (repo, g) in &inp.graphs {
                    if inc.repo.as_ref().is_some_and(|r| r != repo) {
                        continue;
                    }
                    let Some(c) = g.resolve(sha) else { continue };
                    for env in config.environments.iter().filter(|e| e.production) {
                        if let Some(&i) = shipped_by.get(&(repo.as_str(), env.name.as_str(), c)) {
                            if !stats[i].incidents.contains(&k) {
                                stats[i].reasons.push(format!(
                                    "incident {}: names shipped commit {}",
                                    inc.incident_id,
                                    short(&g.shas[c as usize])
                                ));
                                stats[i].incidents.push(k);
                            }
                            linked = true;
                        }
                    }
                }
            }
        }
        if !linked && sig.incident_window {
            let latest = prod
                .iter()
                .copied()
                .filter(|&i| in_repo(&deploys[i]) && deploys[i].at <= inc.opened_at)
                .max_by_key(|&i| (deploys[i].at, i));
            if let Some(i) = latest {
                let gap = (inc.opened_at - deploys[i].at) / 1_000_000;
                if gap <= f.incident_window_s {
                    stats[i].reasons.push(format!(
                        "incident {}: opened {} after, within incident_window {}",
                        inc.incident_id,
                        fmt_span(gap),
                        fmt_span(f.incident_window_s)
                    ));
                    stats[i].incidents.push(k);
                }
            }
        }
    }
    // 4. Reverts of shipped commits within the window.
    if sig.revert {
        for (repo, g) in &inp.graphs {
            for (c, target) in g.reverts.iter().enumerate() {
                let Some(target) = target else { continue };
                let Some(t) = g.resolve(target) else { continue };
                let Some(when) = g.committed[c] else { continue };
                for env in &config.environments {
                    if let Some(&i) = shipped_by.get(&(repo.as_str(), env.name.as_str(), t)) {
                        let gap = (when - deploys[i].at) / 1_000_000;
                        if (0..=f.revert_window_s).contains(&gap) {
                            stats[i].reasons.push(format!(
                                "revert {} of {}: committed {} after, within revert_window {}",
                                short(&g.shas[c]),
                                short(&g.shas[t as usize]),
                                fmt_span(gap),
                                fmt_span(f.revert_window_s)
                            ));
                        }
                    }
                }
            }
        }
    }
    // 5. Rollbacks.
    if sig.rollback {
        for (i, s) in shipped.iter().enumerate() {
            for &j in &s.rolled_back_by {
                stats[i]
                    .reasons
                    .push(format!("rolled back by {}", deploys[j].id));
            }
        }
    }
    // 6. A hotfix before the next regular deployment. Only a deployment that
    // shipped something can be fixed; a regular one ships something and is
    // neither a hotfix nor a rollback.
    if sig.hotfix {
        for i in 0..deploys.len() {
            if shipped[i].commits.is_empty() {
                continue;
            }
            for j in (i + 1)..deploys.len() {
                if deploys[j].repo != deploys[i].repo || deploys[j].env != deploys[i].env {
                    break;
                }
                if stats[j].is_hotfix {
                    let r = format!("hotfix {} followed", deploys[j].id);
                    stats[i].reasons.push(r);
                    break;
                }
                if !shipped[j].is_rollback && !shipped[j].commits.is_empty() {
                    break;
                }
            }
        }
    }
    // Recovery: the linked incidents' resolution, else the next deployment that did not fail.
    for i in 0..deploys.len() {
        if !stats[i].failed() {
            continue;
        }
        let resolved: Option<i64> = stats[i]
            .incidents
            .iter()
            .map(|k| inp.incidents[*k].resolved_at)
            .collect::<Option<Vec<i64>>>()
            .and_then(|v| v.into_iter().max());
        stats[i].recovered_at = resolved.or_else(|| {
            ((i + 1)..deploys.len())
                .take_while(|&j| {
                    deploys[j].repo == deploys[i].repo && deploys[j].env == deploys[i].env
                })
                .find(|&j| !stats[j].failed())
                .map(|j| deploys[j].at)
        });
    }
    stats
}

fn stats_frame(deploys: &[Deploy], shipped: &[Shipped], stats: &[Stat]) -> Result<DataFrame> {
    let mut order: Vec<usize> = (0..deploys.len()).collect();
    order.sort_by(|&a, &b| {
        (
            &deploys[a].repo,
            deploys[a].env_pos,
            deploys[a].at,
            &deploys[a].id,
        )
            .cmp(&(
                &deploys[b].repo,
                deploys[b].env_pos,
                deploys[b].at,
                &deploys[b].id,
            ))
    });
    let d = |f: &dyn Fn(&Deploy) -> Option<String>| {
        order.iter().map(|&i| f(&deploys[i])).collect::<Vec<_>>()
    };
    let st = |f: &dyn Fn(&Stat) -> i64| order.iter().map(|&i| f(&stats[i])).collect::<Vec<_>>();
    let recovery: Vec<Option<i64>> = order
        .iter()
        .map(|&i| {
            stats[i]
                .recovered_at
                .map(|r| (r - deploys[i].at) / 1_000_000)
                .filter(|s| *s >= 0)
        })
        .collect();
    let reasons: Vec<Vec<String>> = order.iter().map(|&i| stats[i].reasons.clone()).collect();
    let mut df = df!(
        "repo" => d(&|x| Some(x.repo.clone())),
        "environment" => d(&|x| Some(x.env.clone())),
        "deployment_id" => d(&|x| Some(x.id.clone())),
        "sha" => d(&|x| Some(x.sha.clone())),
        "source" => d(&|x| Some(x.source.clone())),
        "status" => d(&|x| Some(x.status.clone())),
        "batch_commits" => st(&|s| s.batch_commits),
        "batch_prs" => st(&|s| s.batch_prs),
        "batch_additions" => st(&|s| s.additions),
        "batch_deletions" => st(&|s| s.deletions),
        "batch_files" => st(&|s| s.files),
        "failed" => order.iter().map(|&i| stats[i].failed()).collect::<Vec<_>>(),
        "recovery_s" => recovery,
        "is_rework" => order.iter().map(|&i| stats[i].is_hotfix || shipped[i].is_rollback || stats[i].ships_revert).collect::<Vec<_>>(),
        "is_rollback" => order.iter().map(|&i| shipped[i].is_rollback).collect::<Vec<_>>(),
        "is_hotfix" => order.iter().map(|&i| stats[i].is_hotfix).collect::<Vec<_>>(),
        "is_baseline" => order.iter().map(|&i| shipped[i].is_baseline).collect::<Vec<_>>(),
        "baseline_commits" => order.iter().map(|&i| shipped[i].baseline.len() as i64).collect::<Vec<_>>(),
    )
    .map_err(polars_err("building deployment_stats"))?;
    df.with_column(list_col("failure_reasons", &reasons))
        .map_err(polars_err("building deployment_stats"))?;
    df.with_column(time_col(
        "deployed_at",
        order.iter().map(|&i| Some(deploys[i].at)).collect(),
    )?)
    .map_err(polars_err("building deployment_stats"))?;
    df.with_column(time_col(
        "recovered_at",
        order.iter().map(|&i| stats[i].recovered_at).collect(),
    )?)
    .map_err(polars_err("building deployment_stats"))?;
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// a - b - c ------ m - f
    ///      \- d - e --/
    fn graph() -> Inputs {
        let names = ["a", "b", "c", "d", "e", "m", "f"];
        let parents: [&[usize]; 7] = [&[], &[0], &[1], &[1], &[3], &[2, 4], &[5]];
        let mut g = Graph::default();
        for (i, n) in names.iter().enumerate() {
            g.shas.push(n.to_string());
            g.index.insert(n.to_string(), i as u32);
            g.parents
                .push(parents[i].iter().map(|p| *p as u32).collect());
            g.authored.push(Some(i as i64 * 1_000_000));
            g.committed.push(Some(i as i64 * 1_000_000));
            g.summary.push(n.to_string());
            g.is_merge.push(parents[i].len() > 1);
            g.files.push(1);
            g.additions.push(1);
            g.deletions.push(0);
            g.reverts.push(None);
        }
        let mut inp = Inputs::default();
        inp.graphs.insert("r".into(), g);
        inp
    }

    fn deploy(inp: &Inputs, id: &str, sha: &str, at: i64) -> Deploy {
        Deploy {
            repo: "r".into(),
            env: "production".into(),
            env_pos: 0,
            id: id.into(),
            sha: sha.into(),
            commit: inp.graphs["r"].resolve(sha),
            at,
            status: "success".into(),
            source: "file".into(),
            ref_: None,
            production: true,
            order: at,
            generation: 0,
        }
    }

    fn names(inp: &Inputs, v: &[u32]) -> Vec<String> {
        let mut n: Vec<String> = v
            .iter()
            .map(|c| inp.graphs["r"].shas[*c as usize].clone())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn marking_pass_baseline_merges_rollbacks_and_redeploys() {
        let inp = graph();
        let d = vec![
            deploy(&inp, "d0", "b", 10),
            deploy(&inp, "d1", "m", 20),
            deploy(&inp, "d2", "c", 30), // back to an ancestor of m: rollback of d1
            deploy(&inp, "d3", "f", 40),
            deploy(&inp, "d4", "f", 50), // same sha again: nothing, not a rollback
            deploy(&inp, "d5", "zzz", 60), // unknown sha: nothing
        ];
        let s = map_commits(&inp, &d);
        assert!(s[0].is_baseline);
        assert_eq!(names(&inp, &s[0].baseline), ["a", "b"]);
        assert!(s[0].commits.is_empty());
        assert_eq!(names(&inp, &s[1].commits), ["c", "d", "e", "m"]);
        assert!(s[2].is_rollback && s[2].commits.is_empty());
        assert_eq!(s[1].rolled_back_by, vec![2]);
        assert_eq!(names(&inp, &s[3].commits), ["f"]);
        assert!(!s[4].is_rollback && s[4].commits.is_empty());
        assert!(!s[5].is_rollback && s[5].commits.is_empty());
    }

    #[test]
    fn branch_order_survives_clock_skew_and_ties() {
        // a(100) - b(300) - c(200) - d(200): c was committed "before" b, and d
        // at the same second as c; the branch order must still be a b c d.
        let mut g = Graph::default();
        for (i, (n, t)) in [("a", 100), ("b", 300), ("c", 200), ("d", 200)]
            .iter()
            .enumerate()
        {
            g.shas.push(n.to_string());
            g.index.insert(n.to_string(), i as u32);
            g.parents
                .push(if i == 0 { vec![] } else { vec![i as u32 - 1] });
            g.authored.push(Some(t * 1_000_000));
            g.committed.push(Some(t * 1_000_000));
            g.summary.push(n.to_string());
            g.is_merge.push(false);
            g.files.push(1);
            g.additions.push(1);
            g.deletions.push(0);
            g.reverts.push(None);
        }
        let mut inp = Inputs::default();
        inp.graphs.insert("r".into(), g);
        inp.refs.insert(
            "r".into(),
            vec![crate::inputs::RefRow {
                name: "prod".into(),
                kind: "branch".into(),
                sha: "d".into(),
                tagged_at: None,
            }],
        );
        let cfg = Config::parse(
            "[[environment]]\nname = \"production\"\nbranch = \"prod\"\n",
            "f.toml".as_ref(),
        )
        .unwrap();
        let mut warnings = vec![];
        let d = resolve_deployments(&cfg, &inp, &mut warnings);
        let shas: Vec<&str> = d.iter().map(|x| x.sha.as_str()).collect();
        assert_eq!(shas, ["a", "b", "c", "d"]);
        let s = map_commits(&inp, &d);
        assert!(s.iter().all(|x| !x.is_rollback));
        assert_eq!(
            s.iter().map(|x| x.commits.len()).collect::<Vec<_>>(),
            [0, 1, 1, 1]
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn spans_and_merge_branches() {
        assert_eq!(fmt_span(194_400), "2d6h");
        assert_eq!(fmt_span(3600), "1h");
        assert_eq!(fmt_span(-90), "-1m30s");
        assert_eq!(
            merged_branch("Merge branch 'hotfix/x' into main").as_deref(),
            Some("hotfix/x")
        );
        assert_eq!(
            merged_branch("Merge pull request #12 from acme/hotfix/y").as_deref(),
            Some("hotfix/y")
        );
        assert_eq!(merged_branch("feature"), None);
    }
}

//! `flowmeter analyze`: the one stage runner. It loads the base tables once,
//! resolves every environment's deployments once ([`crate::deploy`]), maps
//! commits once ([`crate::mapping`]), and writes every derived table from that
//! one result, each stage rewriting its own table:
//!
//! 1. `deployments`: every source resolved into one time-ordered list per repo
//!    and environment (the branch, time and fast-forward rules live there).
//! 2. `deployment_commits`: the marking pass.
//! 3. `changes`: each shipped commit with its lead time (clock skew flagged,
//!    never clamped) and its PR.
//! 4. `deployment_stats`: batch sizes, failure signals with reasons, recovery
//!    and rework.
//! 5. to 8. the promotion flow (`env_arrivals`, `promotions`, `drift_daily`,
//!    `misalignments`, with `tip_drift` and `train_waits`), from the same
//!    deployments and marking, and `analysis_notes`.
//!
//! `flow`, `metrics`, `risk`, `whatif`, `compare`, `explain` and the reports
//! read these tables; nothing maps commits a second time.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use flowmeter_store::{WriteGuard, ANALYSIS_NOTES, CHANGES, DEPLOYMENT_COMMITS, DEPLOYMENT_STATS};
use polars::prelude::*;
use serde::Serialize;

use crate::config::{Config, LeadTimeStart};
use crate::deploy::{resolve_deployments, short, Deploy};
use crate::error::{polars_err, Result};
use crate::frame::{list_col, time_col};
use crate::inputs::Inputs;
use crate::mapping::{map_commits, Shipped};

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
    "tip_drift",
    "train_waits",
    "analysis_notes",
];

/// What `analyze` did, stage by stage.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyzeReport {
    pub config: String,
    pub stages: Vec<StageReport>,
    /// The marking pass alone (every environment), inside `deployment_commits`.
    pub marking_pass_s: f64,
    pub warnings: Vec<String>,
    /// How the rules read this store (fast-forwarded branches, moved times,
    /// repositories without history): also in the `analysis_notes` table.
    pub notes: Vec<String>,
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
        notes: vec![],
    };

    let t = Instant::now();
    let resolved = resolve_deployments(config, &inputs);
    let deploys = resolved.deploys;
    report.warnings = resolved.warnings;
    let mut notes: Vec<(&'static str, String)> = resolved
        .notes
        .into_iter()
        .map(|n| ("deployments", n))
        .collect();
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

    // The promotion flow, from the same deployments and marking.
    let t = Instant::now();
    let flow = crate::flow::compute(config, &inputs, &deploys, &shipped);
    notes.extend(flow.notes.iter().map(|n| ("flow", n.clone())));
    let tables = crate::flow::write_tables(guard, &flow)?;
    let per = t.elapsed() / tables.len().max(1) as u32;
    for (name, rows) in tables {
        report.stages.push(StageReport {
            name,
            rows,
            elapsed: per,
        });
    }

    let t = Instant::now();
    let nf = df!(
        "stage" => notes.iter().map(|n| n.0).collect::<Vec<_>>(),
        "note" => notes.iter().map(|n| n.1.as_str()).collect::<Vec<_>>(),
    )
    .map_err(polars_err("building analysis_notes"))?;
    report.stages.push(StageReport {
        name: "analysis_notes",
        rows: nf.height(),
        elapsed: t.elapsed(),
    });
    guard.replace(&ANALYSIS_NOTES, None, nf)?;
    report.notes = notes.into_iter().map(|n| n.1).collect();
    Ok(report)
}

// ---- stage 2: deployment_commits ---------------------------------------------
fn deployment_commits_frame(
    inp: &Inputs,
    deploys: &[Deploy],
    shipped: &[Shipped],
) -> Result<DataFrame> {
    let mut rows: Vec<(&str, &str, &str, &str)> = vec![];
    for (d, s) in deploys.iter().zip(shipped) {
        // A repo without git history ships nothing (stage 1 noted it).
        let Some(g) = inp.graphs.get(&d.repo) else {
            continue;
        };
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
        let Some(g) = inp.graphs.get(&d.repo) else {
            continue;
        };
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
    /// Each signal that fired, with when and by whom (parallel to `reasons`).
    pub signals: Vec<Signal>,
    /// The earliest signal at or after the deployment: when the failure was detected.
    pub detected: Option<Signal>,
    /// The rollback or revert deployment (index) that undid this failed one.
    pub restored_by: Option<usize>,
    /// A rollback or revert deployment: `automated` or `manual`, and why.
    pub trigger: Option<(&'static str, String)>,
    /// Linked incidents weighed by severity (`[defects]`).
    pub defect_weight: f64,
    /// Tests passed on what it shipped: the deploy log's word, else a green
    /// `[tests]` workflow run before it; `None` when nothing says.
    pub tests_passed: Option<bool>,
}

/// One failure signal: what kind, when it fired, and who or what raised it.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// `status`, `incident`, `revert`, `rollback` or `hotfix`.
    pub kind: &'static str,
    /// µs UTC.
    pub at: i64,
    /// Who or what: `deploy pipeline`, `incident tool (pagerduty)`, the
    /// reverting person's name, the rollback's actor.
    pub by: String,
}

impl Stat {
    pub fn failed(&self) -> bool {
        !self.reasons.is_empty()
    }

    fn fire(&mut self, reason: String, kind: &'static str, at: i64, by: String) {
        self.reasons.push(reason);
        self.signals.push(Signal { kind, at, by });
    }
}

/// The name part of `name <email>` (emails stay out of reports).
fn person(committer: &str) -> String {
    let name = committer.split('<').next().unwrap_or("").trim();
    if name.is_empty() {
        "a person".into()
    } else {
        name.to_string()
    }
}

/// Who ran a deployment, for a rollback or hotfix signal.
fn deployer(d: &Deploy) -> String {
    match &d.actor {
        Some(a) => a.clone(),
        None => format!("{} deployment", d.source.replace('_', " ")),
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
        let Some(g) = inp.graphs.get(&d.repo) else {
            continue;
        };
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
                let by = match &d.actor {
                    Some(a) => format!("deploy pipeline ({a})"),
                    None => "deploy pipeline".into(),
                };
                stats[i].fire(format!("status: {}", d.status), "status", d.at, by);
            }
        }
    }
    // 2 and 3. Incidents, production environments only.
    let prod: Vec<usize> = (0..deploys.len())
        .filter(|i| deploys[*i].production)
        .collect();
    for (k, inc) in inp.incidents.iter().enumerate() {
        let in_repo = |d: &Deploy| inc.repo.as_ref().is_none_or(|r| r == &d.repo);
        let tool = match inc.source.as_deref() {
            Some(s) if !s.is_empty() => format!("incident tool ({s})"),
            _ => "incident tool".to_string(),
        };
        let mut linked = false;
        if sig.incident {
            if let Some(id) = &inc.deployment_id {
                for &i in by_id.get(id.as_str()).into_iter().flatten() {
                    if deploys[i].production && in_repo(&deploys[i]) {
                        stats[i].fire(
                            format!("incident {}: names this deployment", inc.incident_id),
                            "incident",
                            inc.opened_at,
                            tool.clone(),
                        );
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
                                stats[i].fire(
                                    format!(
                                        "incident {}: names shipped commit {}",
                                        inc.incident_id,
                                        short(&g.shas[c as usize])
                                    ),
                                    "incident",
                                    inc.opened_at,
                                    tool.clone(),
                                );
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
                .filter(|&i| {
                    in_repo(&deploys[i])
                        && deploys[i].at <= inc.opened_at
                        && !deploys[i].failed_status()
                })
                .max_by_key(|&i| (deploys[i].at, i));
            if let Some(i) = latest {
                let gap = (inc.opened_at - deploys[i].at) / 1_000_000;
                if gap <= f.incident_window_s {
                    stats[i].fire(
                        format!(
                            "incident {}: opened {} after, within incident_window {}",
                            inc.incident_id,
                            fmt_span(gap),
                            fmt_span(f.incident_window_s)
                        ),
                        "incident",
                        inc.opened_at,
                        tool.clone(),
                    );
                    stats[i].incidents.push(k);
                }
            }
        }
    }
    // 4. Reverts of shipped commits within the window.
    // (failed deployment, revert commit), for the remedy below.
    let mut reverted_by: Vec<(usize, u32)> = vec![];
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
                            // Detected when the person started the revert (authored),
                            // at the latest when they committed it.
                            let started = g.authored[c].unwrap_or(when).min(when);
                            stats[i].fire(
                                format!(
                                    "revert {} of {}: committed {} after, within revert_window {}",
                                    short(&g.shas[c]),
                                    short(&g.shas[t as usize]),
                                    fmt_span(gap),
                                    fmt_span(f.revert_window_s)
                                ),
                                "revert",
                                started,
                                person(&g.committer[c]),
                            );
                            reverted_by.push((i, c as u32));
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
                stats[i].fire(
                    format!("rolled back by {}", deploys[j].id),
                    "rollback",
                    deploys[j].at,
                    deployer(&deploys[j]),
                );
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
                    let by = deployer(&deploys[j]);
                    stats[i].fire(r, "hotfix", deploys[j].at, by);
                    break;
                }
                if !shipped[j].is_rollback && !shipped[j].commits.is_empty() {
                    break;
                }
            }
        }
    }
    safety_evidence(
        config,
        inp,
        deploys,
        shipped,
        &shipped_by,
        &reverted_by,
        &mut stats,
    );
    for (st, t) in stats.iter_mut().zip(test_evidence(config, inp, deploys)) {
        st.tests_passed = t;
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

/// Whether tests passed on what each deployment shipped. The deploy log's
/// `tests_passed` wins. Otherwise, for a production deployment of a repo with
/// runs of the `[tests] workflows`: a run that concluded `success` and
/// finished at or before the deployment, on the deployed sha or on the head of
/// the pull request that sha belongs to (its merge or squash commit), is green
/// (`true`); no such run is `false`. A repo with no such runs at all, or a
/// config without `[tests]`, gives `None`: no test data, not a failure.
fn test_evidence(config: &Config, inp: &Inputs, deploys: &[Deploy]) -> Vec<Option<bool>> {
    let is_test = |name: &str| {
        config
            .test_workflows
            .iter()
            .any(|p| p.is_match(name) || p.is_match(&name.to_lowercase()))
    };
    // Per (repo, head sha): the finish times of green runs; and the repos with any test run.
    let mut green: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
    let mut has_runs: BTreeSet<&str> = BTreeSet::new();
    if !config.test_workflows.is_empty() {
        for r in inp.runs.iter().filter(|r| is_test(&r.workflow_name)) {
            has_runs.insert(&r.repo);
            if r.conclusion.as_deref() == Some("success") {
                green
                    .entry((r.repo.as_str(), r.head_sha.as_str()))
                    .or_default()
                    .push(r.at);
            }
        }
    }
    deploys
        .iter()
        .map(|d| {
            if d.tests_passed.is_some() {
                return d.tests_passed;
            }
            if !d.production || !has_runs.contains(d.repo.as_str()) {
                return None;
            }
            let mut candidates = vec![d.sha.as_str()];
            if let Some((list, by_sha)) = inp.prs.get(&d.repo) {
                if let Some(h) = by_sha
                    .get(&d.sha)
                    .and_then(|k| list[*k].head_sha.as_deref())
                {
                    candidates.push(h);
                }
            }
            let ok = candidates.iter().any(|s| {
                green
                    .get(&(d.repo.as_str(), *s))
                    .is_some_and(|ts| ts.iter().any(|t| *t <= d.at))
            });
            Some(ok)
        })
        .collect()
}

/// The safety-net evidence per deployment, from the signals stage 4 found:
/// when each failure was detected and by what, which rollback or revert
/// deployment undid it, whether each rollback and revert deployment was
/// automated, and the incidents it caused weighed as defects.
fn safety_evidence(
    config: &Config,
    inp: &Inputs,
    deploys: &[Deploy],
    shipped: &[Shipped],
    shipped_by: &HashMap<(&str, &str, u32), usize>,
    reverted_by: &[(usize, u32)],
    stats: &mut [Stat],
) {
    for (i, st) in stats.iter_mut().enumerate() {
        // A signal before the deployment (an incident already open) did not
        // detect this deployment's failure.
        st.detected = st
            .signals
            .iter()
            .filter(|s| s.at >= deploys[i].at)
            .min_by_key(|s| s.at)
            .cloned();
        st.defect_weight = st
            .incidents
            .iter()
            .map(|k| config.defects.weight(inp.incidents[*k].severity.as_deref()))
            .fold(0.0, |a, w| a + w);
    }
    // Remedies: the rollbacks that undid a deployment, and the deployments
    // that shipped a revert of one of its commits; the earliest one restored it.
    let mut remedies: Vec<Vec<usize>> = vec![vec![]; deploys.len()];
    for (i, s) in shipped.iter().enumerate() {
        remedies[i].extend(s.rolled_back_by.iter().copied());
    }
    for &(i, c) in reverted_by {
        let d = &deploys[i];
        if let Some(&j) = shipped_by.get(&(d.repo.as_str(), d.env.as_str(), c)) {
            remedies[i].push(j);
        }
    }
    for i in 0..deploys.len() {
        if !stats[i].failed() {
            continue;
        }
        stats[i].restored_by = remedies[i]
            .iter()
            .copied()
            .filter(|&j| j != i && deploys[j].at >= deploys[i].at)
            .min_by_key(|&j| (deploys[j].at, j));
    }
    // Automated or manual, for every rollback and revert deployment.
    let rules = &config.rollback;
    let matching = |who: &str| {
        let name = person(who);
        rules
            .automated_actors
            .iter()
            .find(|p| p.is_match(who) || p.is_match(&name))
            .map(|p| p.as_str().to_string())
    };
    for j in 0..deploys.len() {
        if !(shipped[j].is_rollback || stats[j].ships_revert) {
            continue;
        }
        let d = &deploys[j];
        let what = if shipped[j].is_rollback {
            "rollback"
        } else {
            "revert deployment"
        };
        let revert_committers: Vec<&str> = inp
            .graphs
            .get(&d.repo)
            .map(|g| {
                shipped[j]
                    .commits
                    .iter()
                    .filter(|&&c| g.reverts[c as usize].is_some())
                    .map(|&c| g.committer[c as usize].as_str())
                    .collect()
            })
            .unwrap_or_default();
        // The failure it restored, detected how long before it.
        let reaction = (0..deploys.len())
            .filter(|&i| stats[i].restored_by == Some(j))
            .filter_map(|i| {
                stats[i]
                    .detected
                    .as_ref()
                    .map(|s| (d.at - s.at) / 1_000_000)
            })
            .filter(|gap| *gap >= 0)
            .min();
        let trigger: (&'static str, String) = if let Some(t) = &d.trigger {
            let class = if t == "automated" {
                "automated"
            } else {
                "manual"
            };
            (class, format!("{what}: the deploy log's trigger says {t}"))
        } else if let Some((a, p)) = d.actor.as_deref().and_then(|a| matching(a).map(|p| (a, p))) {
            (
                "automated",
                format!("{what}: actor {a} matches rollback.automated_actors `{p}`"),
            )
        } else if let Some((c, p)) = revert_committers
            .iter()
            .find_map(|c| matching(c).map(|p| (person(c), p)))
        {
            (
                "automated",
                format!(
                    "{what}: revert committed by {c}, who matches rollback.automated_actors `{p}`"
                ),
            )
        } else if let (Some(gap), Some(within)) = (reaction, rules.automated_within_s) {
            if gap <= within {
                (
                    "automated",
                    format!(
                        "{what}: {} after the failure was detected, within rollback.automated_within {}",
                        fmt_span(gap),
                        fmt_span(within)
                    ),
                )
            } else {
                (
                    "manual",
                    format!(
                        "{what}: {} after the failure was detected, slower than rollback.automated_within {}",
                        fmt_span(gap),
                        fmt_span(within)
                    ),
                )
            }
        } else if rules.automated_actors.is_empty() && rules.automated_within_s.is_none() {
            (
                "manual",
                format!("{what}: no trigger in the deploy log and no [rollback] rules in the config, so nothing shows it was automated"),
            )
        } else {
            (
                "manual",
                format!("{what}: no trigger in the deploy log, and neither its actor nor rollback.automated_within marks it automated"),
            )
        };
        stats[j].trigger = Some(trigger);
    }
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
        "shipped_commits" => order.iter().map(|&i| shipped[i].commits.len() as i64).collect::<Vec<_>>(),
        "is_roll_forward" => order.iter().map(|&i| shipped[i].is_roll_forward).collect::<Vec<_>>(),
        "note" => d(&|x| x.note.clone()),
        "detected_by" => order.iter().map(|&i| stats[i].detected.as_ref().map(|s| s.kind)).collect::<Vec<_>>(),
        "detector" => order.iter().map(|&i| stats[i].detected.as_ref().map(|s| s.by.clone())).collect::<Vec<_>>(),
        "time_to_detect_s" => order.iter().map(|&i| stats[i].detected.as_ref().map(|s| (s.at - deploys[i].at) / 1_000_000)).collect::<Vec<_>>(),
        "time_to_restore_s" => order.iter().map(|&i| match (&stats[i].detected, stats[i].recovered_at) {
            (Some(s), Some(r)) if r >= s.at => Some((r - s.at) / 1_000_000),
            _ => None,
        }).collect::<Vec<_>>(),
        "restored_by" => order.iter().map(|&i| stats[i].restored_by.map(|j| deploys[j].id.clone())).collect::<Vec<_>>(),
        "trigger" => order.iter().map(|&i| stats[i].trigger.as_ref().map(|t| t.0)).collect::<Vec<_>>(),
        "trigger_reason" => order.iter().map(|&i| stats[i].trigger.as_ref().map(|t| t.1.clone())).collect::<Vec<_>>(),
        "incidents" => order.iter().map(|&i| stats[i].incidents.len() as i64).collect::<Vec<_>>(),
        "defect_weight" => order.iter().map(|&i| stats[i].defect_weight).collect::<Vec<_>>(),
        "tests_passed" => order.iter().map(|&i| stats[i].tests_passed).collect::<Vec<_>>(),
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
    df.with_column(time_col(
        "detected_at",
        order
            .iter()
            .map(|&i| stats[i].detected.as_ref().map(|s| s.at))
            .collect(),
    )?)
    .map_err(polars_err("building deployment_stats"))?;
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::*;

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

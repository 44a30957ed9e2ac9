//! Stage 1, `deployments`: every environment's sources (branch, tags, deploy
//! log, GitHub deployments, workflow runs) resolved into one time-ordered list
//! per repo and environment. This is the one place that decides which events
//! are deployments; every later stage, table and command reads its result.
//!
//! **Branch sources.** A first-parent commit of an environment branch is a
//! deployment when it was *made on* that branch: a merge into it (a promotion
//! or a pull request from a feature branch) or a commit made on it directly.
//! A first-parent commit that also sits on the mainline's first-parent chain,
//! or on an earlier environment's, was made elsewhere: the branch was
//! fast-forwarded to it and does not record when. Such commits are baseline
//! (arrival unknown), and the branch's current tip is always a deployment.
//!
//! **Branch time.** The branch's state at time T is what
//! `git rev-list -1 --first-parent --before=T` says: the first commit along the
//! first-parent chain, from the tip, committed at or before T. A branch
//! deployment therefore happens at the smallest committer time among itself
//! and its first-parent descendants; where a descendant's clock ran behind,
//! that moves the deployment earlier, and the deployment's note says so.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::config::{Config, Environment};
use crate::inputs::{Graph, Inputs};

/// One resolved deployment: the one deployment type every stage works with.
#[derive(Debug, Clone)]
pub struct Deploy {
    pub repo: String,
    pub env: String,
    pub env_pos: usize,
    pub id: String,
    pub sha: String,
    pub commit: Option<u32>,
    /// When it happened (µs). On a branch: when git's branch state first held it.
    pub at: i64,
    pub status: String,
    pub source: String,
    pub ref_: Option<String>,
    pub production: bool,
    /// Longest path from a root: breaks time ties parent-first.
    pub generation: u32,
    /// First-parent commits before this one on its branch that were made
    /// elsewhere (fast-forwarded), each with the time git's branch state first
    /// held it: their history is baseline, shipped by no one.
    pub baseline_seeds: Vec<(u32, i64)>,
    /// Why this deployment's time or content differs from the obvious reading.
    pub note: Option<String>,
    /// A branch tip made elsewhere: the branch's state now, not a recorded move.
    pub ff_tip: bool,
    /// Who or what started it, when the source says (deploy log, GitHub creator).
    pub actor: Option<String>,
    /// `automated` or `manual`, when the source says.
    pub trigger: Option<String>,
    /// Whether the tests passed on what it shipped, when the source says.
    pub tests_passed: Option<bool>,
}

impl Deploy {
    /// Its own status says it did not go out: it ships nothing, and its
    /// commits ship with the next successful deployment of the environment.
    pub fn failed_status(&self) -> bool {
        self.status == "failure" || self.status == "error"
    }
}

/// What stage 1 found besides the deployments: warnings about the input, and
/// notes on how the rules read it (both shown by `analyze`, `flow` and reports).
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub deploys: Vec<Deploy>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
    /// The notes about fast-forwarded environment branches (also in `notes`).
    pub fast_forwarded: Vec<String>,
}

pub(crate) fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// The first-parent chain from `tip`, tip first.
pub(crate) fn first_parent_chain(g: &Graph, tip: u32) -> Vec<u32> {
    let mut chain = vec![tip];
    let mut seen = BTreeSet::from([tip]);
    while let Some(&p) = g.parents[*chain.last().expect("non-empty") as usize].first() {
        if !seen.insert(p) {
            break;
        }
        chain.push(p);
    }
    chain
}

/// The repository's mainline branch: its recorded default branch, else `main`
/// or `master` when it has one.
pub(crate) fn mainline_of(inp: &Inputs, repo: &str) -> Option<String> {
    inp.default_branch.get(repo).cloned().or_else(|| {
        let refs = inp.refs.get(repo)?;
        ["main", "master"]
            .iter()
            .find(|b| refs.iter().any(|r| r.kind == "branch" && r.name == **b))
            .map(|b| b.to_string())
    })
}

pub(crate) fn branch_of(env: &Environment, inp: &Inputs, repo: &str) -> Option<String> {
    if env.default_branch {
        mainline_of(inp, repo)
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

/// Each commit's generation: 1 + the largest generation of its parents.
pub(crate) fn generations(g: &Graph) -> Vec<u32> {
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

fn iso(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| us.to_string())
}

/// One branch source's deployments: (commit, time, seeds, note), root first.
struct BranchDeploy {
    commit: u32,
    at: i64,
    seeds: Vec<(u32, i64)>,
    note: Option<String>,
    ff_tip: bool,
}

/// Applies the made-on rule and git's branch-state time to one branch.
/// `elsewhere[c]` is true for first-parent commits of the mainline or of an
/// earlier environment's branch. Returns the deployments root first and the
/// number of first-parent commits that were fast-forwarded (made elsewhere).
fn branch_deploys(g: &Graph, tip: u32, elsewhere: &[bool]) -> (Vec<BranchDeploy>, usize, usize) {
    let chain = first_parent_chain(g, tip);
    // Git's state rule: a chain position is reached at the smallest committer
    // time among itself and every position nearer the tip.
    let mut reach = vec![0i64; chain.len()];
    let mut min = i64::MAX;
    for (p, &c) in chain.iter().enumerate() {
        min = min.min(g.committed[c as usize].unwrap_or(i64::MAX));
        reach[p] = if min == i64::MAX { 0 } else { min };
    }
    // The shared history below the branch's first commit of its own is where
    // it started, not a fast-forward: its seeds are baseline without a word.
    let start = (0..chain.len())
        .rev()
        .find(|&p| !elsewhere[chain[p] as usize]);
    let mut out = vec![];
    let mut seeds = vec![];
    let (mut fast_forwarded, mut moved) = (0, 0);
    for p in (0..chain.len()).rev() {
        let c = chain[p];
        let made_on = !elsewhere[c as usize];
        let above_start = start.is_none_or(|s| p < s);
        if !made_on && above_start {
            fast_forwarded += 1;
        }
        if !made_on && p != 0 {
            seeds.push((c, reach[p]));
            continue;
        }
        let committed = g.committed[c as usize];
        let mut notes = vec![];
        if committed.is_some_and(|t| t > reach[p]) {
            moved += 1;
            notes.push(format!(
                "committed {}, but a later first-parent commit on the branch was committed at {}: git's branch state held it from then",
                iso(committed.unwrap_or(0)),
                iso(reach[p])
            ));
        }
        if !made_on {
            // Its own content arrived at an unknown time too.
            seeds.push((c, reach[p]));
            notes.push("the branch tip was made elsewhere (fast-forwarded): the branch does not record when it moved, so this is its current state, at the tip's committer time".into());
        }
        if start.is_none_or(|s| p < s) && seeds.len() > usize::from(!made_on) {
            notes.push(format!(
                "{} first-parent commit(s) before it were fast-forwarded onto the branch: their history is baseline (arrival unknown)",
                seeds.len() - usize::from(!made_on)
            ));
        }
        out.push(BranchDeploy {
            commit: c,
            at: reach[p],
            seeds: std::mem::take(&mut seeds),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            ff_tip: !made_on,
        });
    }
    (out, fast_forwarded, moved)
}

/// The notes stage 1 would give about fast-forwarded environment branches,
/// with a hint: `init` shows them as warnings for the config it writes.
pub fn fast_forward_warnings(
    store: &flowmeter_store::Store,
    config: &Config,
) -> crate::error::Result<Vec<String>> {
    let inp = Inputs::load(store)?;
    Ok(resolve_deployments(config, &inp)
        .fast_forwarded
        .into_iter()
        .map(|n| {
            format!(
                "{n} Consider `tags = \"...\"` or `file = \"deploys.csv\"` for that environment."
            )
        })
        .collect())
}

/// Resolves every environment's sources into deployments, sorted by repo,
/// environment (promotion order), time, generation and id.
pub fn resolve_deployments(config: &Config, inp: &Inputs) -> Resolved {
    let mut res = Resolved::default();
    let mut repos: BTreeSet<String> = inp.graphs.keys().cloned().collect();
    repos.extend(inp.deployments.iter().filter_map(|d| d.repo.clone()));
    repos.extend(inp.runs.iter().map(|r| r.repo.clone()));
    let gens: HashMap<&str, Vec<u32>> = inp
        .graphs
        .iter()
        .map(|(r, g)| (r.as_str(), generations(g)))
        .collect();
    for repo in &repos {
        if !inp.graphs.contains_key(repo) {
            res.notes.push(format!(
                "{repo}: no git history in the store, so lead time and batch size are empty for it (deployment frequency, change fail rate, recovery and rework still count); fill them in with `flowmeter ingest git PATH --name {repo}`"
            ));
        }
    }
    // Per repo: the first-parent chains that own their commits (the mainline
    // and each environment's branch, in promotion order).
    for repo in &repos {
        let graph = inp.graphs.get(repo);
        let mut owned: Option<Vec<bool>> = None;
        let mut owned_branches: Vec<String> = vec![];
        if let Some(g) = graph {
            let mut v = vec![false; g.shas.len()];
            if let Some(main) = mainline_of(inp, repo) {
                if let Some(t) = branch_tip(inp, repo, &main).and_then(|t| g.resolve(&t)) {
                    for c in first_parent_chain(g, t) {
                        v[c as usize] = true;
                    }
                    owned_branches.push(main);
                }
            }
            owned = Some(v);
        }
        for (pos, env) in config.environments.iter().enumerate() {
            let before = res.deploys.len();
            let gen = gens.get(repo.as_str());
            let mut push = |id: String,
                            sha: String,
                            at: i64,
                            status: &str,
                            source: &str,
                            ref_: Option<String>,
                            seeds: Vec<(u32, i64)>,
                            note: Option<String>,
                            ff_tip: bool,
                            meta: Option<&crate::inputs::DeployRow>| {
                let commit = graph.and_then(|g| g.resolve(&sha));
                let sha = match (commit, graph) {
                    (Some(c), Some(g)) => g.shas[c as usize].clone(),
                    _ => sha,
                };
                res.deploys.push(Deploy {
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
                    generation: commit.and_then(|c| gen.map(|g| g[c as usize])).unwrap_or(0),
                    baseline_seeds: seeds,
                    note,
                    ff_tip,
                    actor: meta.and_then(|m| m.actor.clone()),
                    trigger: meta.and_then(|m| m.trigger.clone()),
                    tests_passed: meta.and_then(|m| m.tests_passed),
                });
            };
            if let (Some(g), Some(owned)) = (graph, owned.as_mut()) {
                if let Some(branch) = branch_of(env, inp, repo) {
                    match branch_tip(inp, repo, &branch) {
                        Some(tip) => match g.resolve(&tip) {
                            Some(t) => {
                                // A branch owns its own chain: compare it with the others only.
                                let own = owned_branches.contains(&branch);
                                let empty = vec![false; g.shas.len()];
                                let elsewhere: &[bool] = if own { &empty } else { owned };
                                let (list, ff, moved) = branch_deploys(g, t, elsewhere);
                                if ff > 0 {
                                    res.fast_forwarded.push(format!(
                                        "{repo}: branch `{branch}` (environment {}) was fast-forwarded: {ff} of its first-parent commits were made on {} first, so the branch does not record when they arrived. They are baseline (arrival unknown); its merges and own commits ({} of them) and its tip are deployments. Tags or a deploy log record the real deployment times.",
                                        env.name,
                                        owned_branches.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(" or "),
                                        list.len() - usize::from(elsewhere[t as usize]),
                                    ));
                                    res.notes.extend(res.fast_forwarded.last().cloned());
                                }
                                if moved > 0 {
                                    res.notes.push(format!(
                                        "{repo}: {moved} deployment(s) on branch `{branch}` (environment {}) moved earlier than their committer time, to when git's branch state first held them (a later first-parent commit was committed earlier: clock skew)",
                                        env.name
                                    ));
                                }
                                for d in list {
                                    let sha = g.shas[d.commit as usize].clone();
                                    push(
                                        format!("branch:{branch}:{}", short(&sha)),
                                        sha,
                                        d.at,
                                        "success",
                                        "branch",
                                        Some(branch.clone()),
                                        d.seeds,
                                        d.note,
                                        d.ff_tip,
                                        None,
                                    );
                                }
                                if !own {
                                    for c in first_parent_chain(g, t) {
                                        owned[c as usize] = true;
                                    }
                                    owned_branches.push(branch.clone());
                                }
                            }
                            None => res.warnings.push(format!(
                                "{repo}: branch `{branch}` points at {tip}, which is not in the commits table"
                            )),
                        },
                        None if !env.default_branch => res.warnings.push(format!(
                            "{repo}: environment `{}`: no branch `{branch}` in refs",
                            env.name
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
                                    vec![],
                                    None,
                                    false,
                                    None,
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
                        vec![],
                        None,
                        false,
                        Some(d),
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
                            vec![],
                            None,
                            false,
                            None,
                        );
                    }
                }
            }
            // A fast-forwarded tip is the branch's state now: it comes after every
            // recorded deployment of the environment, and adds nothing when one of
            // them already deployed its sha.
            let others: Vec<(i64, Option<u32>)> = res.deploys[before..]
                .iter()
                .filter(|d| !d.ff_tip && !d.failed_status())
                .map(|d| (d.at, d.commit))
                .collect();
            if let Some(tip) = res.deploys[before..].iter().position(|d| d.ff_tip) {
                let t = &mut res.deploys[before + tip];
                if others.iter().any(|o| o.1.is_some() && o.1 == t.commit) {
                    res.deploys.remove(before + tip);
                } else if let Some(last) = others.iter().map(|o| o.0).max() {
                    if last > t.at {
                        t.at = last;
                        t.note = Some(format!(
                            "{}; placed after the environment's last recorded deployment ({})",
                            t.note.take().unwrap_or_default(),
                            iso(last)
                        ));
                    }
                }
            }
            let slice = &mut res.deploys[before..];
            slice.sort_by(|a, b| {
                (a.at, a.ff_tip, a.generation, &a.id).cmp(&(b.at, b.ff_tip, b.generation, &b.id))
            });
            // The same id from two sources is one deployment.
            let mut seen = BTreeSet::new();
            let mut keep: Vec<Deploy> = res
                .deploys
                .drain(before..)
                .filter(|d| seen.insert(d.id.clone()))
                .collect();
            for d in &keep {
                if d.commit.is_none() && graph.is_some() {
                    res.warnings.push(format!(
                        "{repo}: deployment `{}` to `{}` names {}, which is not in the commits table: it ships nothing",
                        d.id, d.env, d.sha
                    ));
                }
            }
            res.deploys.append(&mut keep);
        }
    }
    // Environments in promotion order within each repo.
    res.deploys
        .sort_by(|a, b| (&a.repo, a.env_pos).cmp(&(&b.repo, b.env_pos)));
    // Deploy-log rows that no environment takes are worth a word.
    let mut unused: BTreeMap<&str, usize> = Default::default();
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
        res.warnings.push(format!(
            "{orphans} imported deployment rows have no repo and a sha no ingested repo has: they are not used"
        ));
    }
    for (env, n) in unused {
        res.warnings.push(format!(
            "{n} imported deployment rows for environment `{env}` are not used: give that [[environment]] a `file = \"...\"` source"
        ));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::RefRow;
    use crate::mapping::map_commits;

    fn branch(name: &str, sha: &str) -> RefRow {
        RefRow {
            name: name.into(),
            kind: "branch".into(),
            sha: sha.into(),
            tagged_at: None,
        }
    }

    /// Commits as (name, parents, committer time in seconds), in order.
    fn inputs(commits: &[(&str, &[usize], i64)], refs: Vec<RefRow>) -> Inputs {
        let mut g = Graph::default();
        for (n, p, t) in commits {
            g.push_test_commit(n, p, *t);
        }
        g.finish_test();
        let mut inp = Inputs::default();
        inp.graphs.insert("r".into(), g);
        inp.refs.insert("r".into(), refs);
        inp.default_branch.insert("r".into(), "main".into());
        inp
    }

    fn config(extra: &str) -> Config {
        crate::parse_config(
            &format!("[[environment]]\nname = \"production\"\nbranch = \"production\"\n{extra}"),
            "f.toml".as_ref(),
        )
        .unwrap()
    }

    #[test]
    fn a_fast_forwarded_branch_keeps_only_its_tip_and_its_tags() {
        // main: a - b - c; production was fast-forwarded to c; tag v1 on b.
        let mut inp = inputs(
            &[("a", &[], 100), ("b", &[0], 200), ("c", &[1], 300)],
            vec![branch("main", "c"), branch("production", "c")],
        );
        inp.refs.get_mut("r").unwrap().push(RefRow {
            name: "v1".into(),
            kind: "tag".into(),
            sha: "b".into(),
            tagged_at: Some(250_000_000),
        });
        let res = resolve_deployments(&config("tags = \"v*\"\n"), &inp);
        let ids: Vec<&str> = res.deploys.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["tag:v1", "branch:production:c"]);
        let tip = &res.deploys[1];
        assert_eq!(tip.at, 300_000_000);
        assert!(tip.note.as_deref().unwrap().contains("fast-forwarded"));
        assert!(res
            .notes
            .iter()
            .any(|n| n.contains("3 of its first-parent commits")));
        let s = map_commits(&inp, &res.deploys);
        // v1 is the first deployment: a and b are baseline. The tip's c arrived
        // at an unknown time: baseline too, shipped by no one.
        assert!(s[0].is_baseline && s[0].baseline.len() == 2);
        assert!(s[1].commits.is_empty() && s[1].baseline.len() == 1 && s[1].is_baseline);
    }

    #[test]
    fn pull_request_merges_into_an_environment_branch_are_deployments() {
        // main: a - b; production: a - P1(a, f1) - P2(P1, f2), never a merge from main.
        let inp = inputs(
            &[
                ("a", &[], 100),
                ("b", &[0], 200),
                ("f1", &[0], 150),
                ("p1", &[0, 2], 300),
                ("f2", &[3], 350),
                ("p2", &[3, 4], 400),
            ],
            vec![branch("main", "b"), branch("production", "p2")],
        );
        let res = resolve_deployments(&config(""), &inp);
        let ids: Vec<&str> = res.deploys.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["branch:production:p1", "branch:production:p2"]);
        let g = &inp.graphs["r"];
        assert_eq!(
            res.deploys[0].baseline_seeds,
            vec![(g.resolve("a").unwrap(), 100_000_000)]
        );
        let s = map_commits(&inp, &res.deploys);
        let names =
            |v: &[u32]| -> Vec<&str> { v.iter().map(|c| g.shas[*c as usize].as_str()).collect() };
        assert_eq!(names(&s[0].baseline), ["a"]);
        assert_eq!(names(&s[0].commits), ["f1", "p1"]);
        assert_eq!(names(&s[1].commits), ["f2", "p2"]);
    }

    #[test]
    fn branch_time_follows_git_state_under_clock_skew() {
        // The mainline itself: a(100) - b(300) - c(200) - d(200). At T = 250
        // `git rev-list -1 --first-parent --before=T main` is d, so b and c
        // arrived at 200 with it, not at 300.
        let inp = inputs(
            &[
                ("a", &[], 100),
                ("b", &[0], 300),
                ("c", &[1], 200),
                ("d", &[2], 200),
            ],
            vec![branch("main", "d")],
        );
        let cfg = crate::parse_config(
            "[[environment]]\nname = \"production\"\nbranch = \"main\"\n",
            "f.toml".as_ref(),
        )
        .unwrap();
        let res = resolve_deployments(&cfg, &inp);
        let got: Vec<(&str, i64)> = res
            .deploys
            .iter()
            .map(|d| (d.sha.as_str(), d.at / 1_000_000))
            .collect();
        assert_eq!(got, [("a", 100), ("b", 200), ("c", 200), ("d", 200)]);
        assert!(res.deploys[1]
            .note
            .as_deref()
            .unwrap()
            .contains("git's branch state"));
        assert!(res.deploys[2].note.is_none());
        assert!(
            res.notes.iter().any(|n| n.contains("1 deployment(s)")),
            "{:?}",
            res.notes
        );
        let s = map_commits(&inp, &res.deploys);
        assert!(s.iter().all(|x| !x.is_rollback));
        assert_eq!(
            s.iter().map(|x| x.commits.len()).collect::<Vec<_>>(),
            [0, 1, 1, 1]
        );
        assert!(res.warnings.is_empty(), "{:?}", res.warnings);
    }

    #[test]
    fn a_repo_without_history_gets_a_note_and_its_deployments() {
        let mut inp = Inputs::default();
        inp.deployments.push(crate::inputs::DeployRow {
            repo: Some("acme/web".into()),
            deployment_id: "gh-1".into(),
            environment: "production".into(),
            sha: "abc1234".into(),
            deployed_at: 1,
            status: "success".into(),
            source: "github_deployment".into(),
            ref_: None,
            actor: None,
            trigger: None,
            tests_passed: None,
        });
        let cfg = crate::parse_config(
            "[[environment]]\nname = \"production\"\ngithub_deployments = \"production\"\n",
            "f.toml".as_ref(),
        )
        .unwrap();
        let res = resolve_deployments(&cfg, &inp);
        assert_eq!(res.deploys.len(), 1);
        assert!(
            res.notes[0].contains("ingest git PATH --name acme/web"),
            "{:?}",
            res.notes
        );
        assert!(res.warnings.is_empty());
        let s = map_commits(&inp, &res.deploys);
        assert!(s[0].commits.is_empty());
    }
}

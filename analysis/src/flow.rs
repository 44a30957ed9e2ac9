//! Environment promotion flow: where changes wait between environments and
//! where the environment branches disagree.
//!
//! Four analysis stages run after `deployment_stats`, each rewriting its own table:
//!
//! - `env_arrivals`: a change's arrival in an environment is the first deployment
//!   of that environment that ships it (the environment's own commit mapping,
//!   never a commit timestamp), with the dwell time to the next environment.
//! - `promotions`: merges on environment branch N+1 whose second parent is in
//!   the history of environment branch N, with the batch they brought.
//! - `drift_daily`: per day and adjacent pair, the non-merge changes that have
//!   arrived in the earlier environment but not yet in the later one.
//! - `misalignments`: skipped stages, cherry-pick duplicates, branches ahead of
//!   their predecessor, and pollution of other branches by later environments.
//!
//! An environment branch (after the first) whose first-parent chain has no
//! promotion merge from its predecessor keeps only tips: its past deployments
//! cannot be read from it. Only its tip is then used (everything it holds is
//! baseline), and a note says so: no history is invented.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate};
use flowmeter_store::{
    Store, WriteGuard, COMMITS, DRIFT_DAILY, ENV_ARRIVALS, MISALIGNMENTS, PROMOTIONS,
};
use polars::prelude::*;
use serde::Serialize;

use crate::config::{Config, LeadTimeStart};
use crate::error::{polars_err, Result};
use crate::frame::{time_col, Cols};
use crate::inputs::{Graph, Inputs};
use crate::metrics::{period_of, quantile, By};
use crate::pipeline::{branch_of, branch_tip, map_commits, resolve_deployments, Deploy};

const DAY_US: i64 = 86_400_000_000;

/// A change in an environment (one `env_arrivals` row).
#[derive(Debug, Clone, Serialize)]
pub struct ArrivalRow {
    pub repo: String,
    pub sha: String,
    pub environment: String,
    pub stage_index: i64,
    pub deployment_id: String,
    /// `None` for baseline: present at the first observed deployment, time unknown.
    pub arrived_at: Option<i64>,
    pub is_baseline: bool,
    /// The earliest known arrival over all environments.
    pub first_env_at: Option<i64>,
    pub next_environment: Option<String>,
    pub next_arrived_at: Option<i64>,
    /// `next_arrived_at - arrived_at`; negative values are anomalies, kept as they are.
    pub dwell_s: Option<i64>,
    pub is_merge: bool,
    pub pr_number: Option<i64>,
    /// Lead-time start (authored or committed, per config).
    #[serde(skip)]
    pub start_at: Option<i64>,
}

/// A merge of one environment branch into the next (one `promotions` row).
#[derive(Debug, Clone, Serialize)]
pub struct Promotion {
    pub repo: String,
    pub from_env: String,
    pub to_env: String,
    /// The merge commit on the later environment's branch.
    pub sha: String,
    /// Its second parent: the earlier environment's commit that was promoted.
    pub merged_sha: String,
    pub promoted_at: Option<i64>,
    pub batch_commits: i64,
    pub batch_prs: i64,
    /// The merge's committer, `name <email>`.
    pub triggered_by: String,
}

/// One day of drift between adjacent environments (one `drift_daily` row).
#[derive(Debug, Clone, Serialize)]
pub struct DriftRow {
    pub repo: String,
    /// Midnight UTC starting the day; counts are as of the end of the day.
    pub day: i64,
    pub from_env: String,
    pub to_env: String,
    pub commits_ahead: i64,
    pub prs_ahead: i64,
    /// End of day minus the earliest arrival in `from_env` among those waiting.
    pub oldest_age_s: Option<i64>,
    pub oldest_sha: Option<String>,
}

/// One finding (one `misalignments` row).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub repo: String,
    pub kind: String,
    pub environment: String,
    pub sha: String,
    pub related_sha: Option<String>,
    pub detail: String,
}

/// What the branch tips say today, per adjacent pair.
#[derive(Debug, Clone, Serialize)]
pub struct TipDrift {
    pub repo: String,
    pub from_env: String,
    pub to_env: String,
    pub from_tip: Option<String>,
    pub to_tip: Option<String>,
    /// Non-merge commits on the earlier branch, not on the later one.
    pub commits_ahead: i64,
    /// Non-merge commits on the later branch, not on the earlier one.
    pub commits_behind: i64,
}

/// A production deployment that shipped something: one train.
#[derive(Debug, Clone, Serialize)]
pub struct Train {
    pub repo: String,
    pub environment: String,
    pub deployment_id: String,
    pub at: i64,
}

/// A change's wait for the train: from its arrival in the stage before
/// production to the next production deployment.
#[derive(Debug, Clone, Serialize)]
pub struct TrainWait {
    pub repo: String,
    pub environment: String,
    pub sha: String,
    pub prev_arrived_at: i64,
    pub arrived_at: i64,
    pub wait_s: i64,
    pub lead_s: Option<i64>,
}

/// Everything the flow stages compute.
#[derive(Debug, Clone, Default)]
pub struct Flow {
    pub environments: Vec<String>,
    pub arrivals: Vec<ArrivalRow>,
    pub promotions: Vec<Promotion>,
    pub drift: Vec<DriftRow>,
    pub misalignments: Vec<Finding>,
    pub tips: Vec<TipDrift>,
    pub trains: Vec<Train>,
    pub waits: Vec<TrainWait>,
    pub notes: Vec<String>,
}

/// Commit columns the base `Inputs` do not carry.
struct Extra {
    committer: Vec<String>,
    patch_id: Vec<Option<String>>,
    picked_from: Vec<Option<u32>>,
}

fn load_extra(store: &Store, inp: &Inputs) -> Result<BTreeMap<String, Extra>> {
    let df = store.read(&COMMITS)?;
    let c = Cols::new(&df, "commits");
    let (repo, sha, cn, ce, pid, cpf) = (
        c.str("repo")?,
        c.str("sha")?,
        c.str("committer_name")?,
        c.str("committer_email")?,
        c.str("patch_id")?,
        c.str("cherry_picked_from")?,
    );
    let mut out: BTreeMap<String, Extra> = inp
        .graphs
        .iter()
        .map(|(r, g)| {
            let n = g.shas.len();
            (
                r.clone(),
                Extra {
                    committer: vec![String::new(); n],
                    patch_id: vec![None; n],
                    picked_from: vec![None; n],
                },
            )
        })
        .collect();
    for i in 0..df.height() {
        let (Some(r), Some(s)) = (&repo[i], &sha[i]) else {
            continue;
        };
        let (Some(g), Some(e)) = (inp.graphs.get(r), out.get_mut(r)) else {
            continue;
        };
        let Some(&k) = g.index.get(s) else { continue };
        let k = k as usize;
        e.committer[k] = format!(
            "{} <{}>",
            cn[i].as_deref().unwrap_or(""),
            ce[i].as_deref().unwrap_or("")
        );
        e.patch_id[k] = pid[i].clone().filter(|p| !p.is_empty());
        e.picked_from[k] = cpf[i]
            .as_deref()
            .and_then(|p| g.resolve(p))
            .filter(|p| *p as usize != k);
    }
    Ok(out)
}

fn ancestors(g: &Graph, tip: u32) -> Vec<bool> {
    let mut seen = vec![false; g.shas.len()];
    let mut stack = vec![tip];
    seen[tip as usize] = true;
    while let Some(x) = stack.pop() {
        for &p in &g.parents[x as usize] {
            if !seen[p as usize] {
                seen[p as usize] = true;
                stack.push(p);
            }
        }
    }
    seen
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

fn midnight(us: i64) -> i64 {
    us.div_euclid(DAY_US) * DAY_US
}

/// The environments' names joined with `, `.
fn names(config: &Config, ks: &[usize]) -> String {
    ks.iter()
        .map(|k| config.environments[*k].name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Per repo: environment branches, tips and their histories.
struct RepoEnvs {
    branches: Vec<Option<String>>,
    tips: Vec<Option<u32>>,
    anc: Vec<Option<Vec<bool>>>,
    tips_only: Vec<bool>,
}

/// Computes every flow result from the base tables and the config.
// Commits are indices into several parallel per-environment arrays.
#[allow(clippy::needless_range_loop)]
pub fn compute(store: &Store, config: &Config, inp: &Inputs) -> Result<Flow> {
    let extra = load_extra(store, inp)?;
    let envs = &config.environments;
    let n = envs.len();
    let mut flow = Flow {
        environments: envs.iter().map(|e| e.name.clone()).collect(),
        ..Flow::default()
    };

    // Pass 1: branches, promotions, tips-only detection.
    let mut per_repo: BTreeMap<&str, RepoEnvs> = BTreeMap::new();
    for (repo, g) in &inp.graphs {
        let ex = &extra[repo];
        let branches: Vec<Option<String>> = envs.iter().map(|e| branch_of(e, inp, repo)).collect();
        let tips: Vec<Option<u32>> = branches
            .iter()
            .map(|b| {
                b.as_ref()
                    .and_then(|b| branch_tip(inp, repo, b))
                    .and_then(|t| g.resolve(&t))
            })
            .collect();
        let anc: Vec<Option<Vec<bool>>> = tips.iter().map(|t| t.map(|t| ancestors(g, t))).collect();
        let mut tips_only = vec![false; n];
        for k in 1..n {
            let (Some(tip), Some(prev)) = (tips[k], &anc[k - 1]) else {
                continue;
            };
            if branches[k] == branches[k - 1] {
                continue;
            }
            let found = promotions_into(g, tip, prev);
            if found.is_empty() {
                tips_only[k] = true;
                flow.notes.push(format!(
                    "{repo}: the history of branch `{}` (environment {}) shows tips only: its first-parent chain has no merge from `{}` ({}), so its past deployments cannot be read from it. Only its tip {} is used; what it holds is baseline (arrival time unknown), and no drift series, dwell time or train is derived from it.",
                    branches[k].as_deref().unwrap_or(""),
                    envs[k].name,
                    branches[k - 1].as_deref().unwrap_or(""),
                    envs[k - 1].name,
                    short(&g.shas[tip as usize]),
                ));
            }
            for (m, p2, batch) in found {
                let prs: BTreeSet<usize> = batch
                    .iter()
                    .filter_map(|c| {
                        inp.prs
                            .get(repo)
                            .and_then(|(_, by)| by.get(&g.shas[*c as usize]).copied())
                    })
                    .collect();
                flow.promotions.push(Promotion {
                    repo: repo.clone(),
                    from_env: envs[k - 1].name.clone(),
                    to_env: envs[k].name.clone(),
                    sha: g.shas[m as usize].clone(),
                    merged_sha: g.shas[p2 as usize].clone(),
                    promoted_at: g.committed[m as usize],
                    batch_commits: batch.iter().filter(|c| !g.is_merge[**c as usize]).count()
                        as i64,
                    batch_prs: prs.len() as i64,
                    triggered_by: ex.committer[m as usize].clone(),
                });
            }
        }
        per_repo.insert(
            repo.as_str(),
            RepoEnvs {
                branches,
                tips,
                anc,
                tips_only,
            },
        );
    }

    // Pass 2: each environment's own mapping, tips-only branches reduced to their tip.
    let mut ignored = vec![];
    let deploys: Vec<Deploy> = resolve_deployments(config, inp, &mut ignored)
        .into_iter()
        .filter(|d| {
            let Some(re) = per_repo.get(d.repo.as_str()) else {
                return true;
            };
            !(d.source == "branch" && re.tips_only[d.env_pos] && d.commit != re.tips[d.env_pos])
        })
        .collect();
    let shipped = map_commits(inp, &deploys);

    for (repo, g) in &inp.graphs {
        let re = &per_repo[repo.as_str()];
        let ex = &extra[repo];
        let len = g.shas.len();
        // present[k][c] = (deploy index, baseline)
        let mut present: Vec<Vec<Option<(usize, bool)>>> = vec![vec![None; len]; n];
        let mut env_deploys: Vec<Vec<usize>> = vec![vec![]; n];
        for (i, (d, s)) in deploys.iter().zip(&shipped).enumerate() {
            if &d.repo != repo {
                continue;
            }
            env_deploys[d.env_pos].push(i);
            for &c in &s.commits {
                present[d.env_pos][c as usize] = Some((i, false));
            }
            for &c in &s.baseline {
                present[d.env_pos][c as usize] = Some((i, true));
            }
        }
        let arrived = |k: usize, c: usize| -> Option<i64> {
            present[k][c].and_then(|(i, b)| (!b).then_some(deploys[i].at))
        };
        let pr_of = |c: usize| -> Option<i64> {
            inp.prs
                .get(repo)
                .and_then(|(list, by)| by.get(&g.shas[c]).map(|k| list[*k].number))
        };

        // env_arrivals
        for c in 0..len {
            let first_env_at = (0..n).filter_map(|k| arrived(k, c)).min();
            for k in 0..n {
                let Some((i, baseline)) = present[k][c] else {
                    continue;
                };
                let at = arrived(k, c);
                let next_at = if k + 1 < n { arrived(k + 1, c) } else { None };
                flow.arrivals.push(ArrivalRow {
                    repo: repo.clone(),
                    sha: g.shas[c].clone(),
                    environment: envs[k].name.clone(),
                    stage_index: k as i64,
                    deployment_id: deploys[i].id.clone(),
                    arrived_at: at,
                    is_baseline: baseline,
                    first_env_at,
                    next_environment: envs.get(k + 1).map(|e| e.name.clone()),
                    next_arrived_at: next_at,
                    dwell_s: match (at, next_at) {
                        (Some(a), Some(b)) => Some((b - a) / 1_000_000),
                        _ => None,
                    },
                    is_merge: g.is_merge[c],
                    pr_number: pr_of(c),
                    start_at: match config.lead_time_start {
                        LeadTimeStart::Authored => g.authored[c],
                        LeadTimeStart::Committed => g.committed[c],
                    },
                });
            }
        }

        // drift_daily
        for k in 0..n.saturating_sub(1) {
            if re.tips_only[k] || re.tips_only[k + 1] {
                continue;
            }
            let times: Vec<i64> = env_deploys[k]
                .iter()
                .chain(&env_deploys[k + 1])
                .map(|&i| deploys[i].at)
                .collect();
            let (Some(lo), Some(hi)) = (times.iter().min(), times.iter().max()) else {
                continue;
            };
            if env_deploys[k].is_empty() || env_deploys[k + 1].is_empty() {
                continue;
            }
            // Each non-merge change in `k`: waiting from `enter` (arrival in k) until `leave`.
            let mut items: Vec<(i64, i64, u32)> = vec![];
            for c in 0..len {
                if g.is_merge[c] {
                    continue;
                }
                let Some((i, _)) = present[k][c] else {
                    continue;
                };
                let enter = deploys[i].at;
                let leave = present[k + 1][c].map_or(i64::MAX, |(j, _)| deploys[j].at.max(enter));
                items.push((enter, leave, c as u32));
            }
            let mut by_enter = items.clone();
            by_enter.sort();
            let mut by_leave = items;
            by_leave.sort_by_key(|x| (x.1, x.0, x.2));
            let (mut ei, mut li) = (0, 0);
            // Ties in arrival go to the older commit, then the sha order.
            let mut active: BTreeSet<(i64, i64, u32)> = BTreeSet::new();
            let mut prs: HashMap<i64, usize> = HashMap::new();
            let mut day = midnight(*lo);
            while day <= midnight(*hi) {
                let end = day + DAY_US;
                while ei < by_enter.len() && by_enter[ei].0 < end {
                    let (e, _, c) = by_enter[ei];
                    active.insert((e, g.committed[c as usize].unwrap_or(i64::MAX), c));
                    if let Some(p) = pr_of(c as usize) {
                        *prs.entry(p).or_default() += 1;
                    }
                    ei += 1;
                }
                while li < by_leave.len() && by_leave[li].1 < end {
                    let (e, _, c) = by_leave[li];
                    if active.remove(&(e, g.committed[c as usize].unwrap_or(i64::MAX), c)) {
                        if let Some(p) = pr_of(c as usize) {
                            let n = prs.get_mut(&p).expect("added on entry");
                            *n -= 1;
                            if *n == 0 {
                                prs.remove(&p);
                            }
                        }
                    }
                    li += 1;
                }
                let oldest = active.first();
                flow.drift.push(DriftRow {
                    repo: repo.clone(),
                    day,
                    from_env: envs[k].name.clone(),
                    to_env: envs[k + 1].name.clone(),
                    commits_ahead: active.len() as i64,
                    prs_ahead: prs.len() as i64,
                    oldest_age_s: oldest.map(|(e, _, _)| (end - e) / 1_000_000),
                    oldest_sha: oldest.map(|(_, _, c)| g.shas[*c as usize].clone()),
                });
                day = end;
            }
        }

        // Misalignments.
        let has_deploys: Vec<bool> = env_deploys.iter().map(|v| !v.is_empty()).collect();
        flow.misalignments.extend(misalignments(
            config,
            inp,
            repo,
            g,
            ex,
            re,
            &present,
            &has_deploys,
        ));

        // Tips today.
        for k in 0..n.saturating_sub(1) {
            let count = |a: &Option<Vec<bool>>, b: &Option<Vec<bool>>| -> i64 {
                match (a, b) {
                    (Some(a), Some(b)) => (0..len)
                        .filter(|&c| a[c] && !b[c] && !g.is_merge[c])
                        .count() as i64,
                    _ => 0,
                }
            };
            // Only two branches can be compared.
            if re.tips[k].is_none() || re.tips[k + 1].is_none() {
                continue;
            }
            flow.tips.push(TipDrift {
                repo: repo.clone(),
                from_env: envs[k].name.clone(),
                to_env: envs[k + 1].name.clone(),
                from_tip: re.tips[k].map(|t| g.shas[t as usize].clone()),
                to_tip: re.tips[k + 1].map(|t| g.shas[t as usize].clone()),
                commits_ahead: count(&re.anc[k], &re.anc[k + 1]),
                commits_behind: count(&re.anc[k + 1], &re.anc[k]),
            });
        }

        // Release trains: production deployments that shipped something.
        let mut prod: Vec<usize> = (0..n).filter(|k| envs[*k].production).collect();
        if prod.is_empty() && n > 0 {
            prod.push(n - 1);
        }
        for p in prod {
            if re.tips_only[p] {
                continue;
            }
            let mut trains: Vec<i64> = vec![];
            for &i in &env_deploys[p] {
                if !shipped[i].commits.is_empty() {
                    trains.push(deploys[i].at);
                    flow.trains.push(Train {
                        repo: repo.clone(),
                        environment: envs[p].name.clone(),
                        deployment_id: deploys[i].id.clone(),
                        at: deploys[i].at,
                    });
                }
            }
            trains.sort_unstable();
            if p == 0 {
                continue;
            }
            for c in 0..len {
                if g.is_merge[c] {
                    continue;
                }
                let (Some(prev), Some(at)) = (arrived(p - 1, c), arrived(p, c)) else {
                    continue;
                };
                let next = trains[trains.partition_point(|t| *t < prev)..]
                    .first()
                    .copied()
                    .unwrap_or(at)
                    .min(at);
                let start = match config.lead_time_start {
                    LeadTimeStart::Authored => g.authored[c],
                    LeadTimeStart::Committed => g.committed[c],
                };
                flow.waits.push(TrainWait {
                    repo: repo.clone(),
                    environment: envs[p].name.clone(),
                    sha: g.shas[c].clone(),
                    prev_arrived_at: prev,
                    arrived_at: at,
                    wait_s: (next - prev) / 1_000_000,
                    lead_s: start.map(|s| (at - s) / 1_000_000),
                });
            }
        }
    }
    flow.arrivals
        .sort_by(|a, b| (&a.repo, &a.sha, a.stage_index).cmp(&(&b.repo, &b.sha, b.stage_index)));
    flow.promotions.sort_by(|a, b| {
        (&a.repo, &a.to_env, a.promoted_at, &a.sha).cmp(&(
            &b.repo,
            &b.to_env,
            b.promoted_at,
            &b.sha,
        ))
    });
    flow.misalignments.sort();
    flow.misalignments.dedup();
    Ok(flow)
}

/// Merges on the first-parent chain of `tip`, not in `prev`, whose second parent is in `prev`,
/// root first, each with the commits it brought (the merge itself excluded).
fn promotions_into(g: &Graph, tip: u32, prev: &[bool]) -> Vec<(u32, u32, Vec<u32>)> {
    let mut chain = vec![tip];
    while let Some(p) = g.parents[*chain.last().expect("non-empty") as usize].first() {
        chain.push(*p);
    }
    let mut seen = vec![false; g.shas.len()];
    let mut out = vec![];
    for &c in chain.iter().rev() {
        if seen[c as usize] {
            continue;
        }
        seen[c as usize] = true;
        let mut batch = vec![];
        let mut stack = vec![c];
        while let Some(x) = stack.pop() {
            if x != c {
                batch.push(x);
            }
            for &p in &g.parents[x as usize] {
                if !seen[p as usize] {
                    seen[p as usize] = true;
                    stack.push(p);
                }
            }
        }
        let ps = &g.parents[c as usize];
        // On the later branch only: a merge the earlier branch also has is its own history.
        if ps.len() >= 2 && prev[ps[1] as usize] && !prev[c as usize] {
            batch.sort_unstable();
            out.push((c, ps[1], batch));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn misalignments(
    config: &Config,
    inp: &Inputs,
    repo: &str,
    g: &Graph,
    ex: &Extra,
    re: &RepoEnvs,
    present: &[Vec<Option<(usize, bool)>>],
    has_deploys: &[bool],
) -> Vec<Finding> {
    let envs = &config.environments;
    let n = envs.len();
    let len = g.shas.len();
    let mut out = vec![];
    let in_envs =
        |c: usize| -> Vec<usize> { (0..n).filter(|k| present[*k][c].is_some()).collect() };

    // Patch-equivalence groups (same patch_id, or a cherry-pick link) among
    // non-merge commits in some environment.
    let mut parent: HashMap<u32, u32> = HashMap::new();
    fn find(parent: &mut HashMap<u32, u32>, x: u32) -> u32 {
        let p = *parent.get(&x).unwrap_or(&x);
        if p == x {
            return x;
        }
        let r = find(parent, p);
        parent.insert(x, r);
        r
    }
    let mut by_patch: HashMap<&str, u32> = HashMap::new();
    let mut picked_link: HashMap<(u32, u32), ()> = HashMap::new();
    for c in 0..len {
        if g.is_merge[c] || in_envs(c).is_empty() {
            continue;
        }
        if let Some(p) = ex.patch_id[c].as_deref() {
            match by_patch.get(p) {
                Some(&o) => {
                    let (a, b) = (find(&mut parent, o), find(&mut parent, c as u32));
                    parent.insert(a.max(b), a.min(b));
                }
                None => {
                    by_patch.insert(p, c as u32);
                }
            }
        }
        if let Some(o) = ex.picked_from[c] {
            if !in_envs(o as usize).is_empty() {
                picked_link.insert((c as u32, o), ());
                let (a, b) = (find(&mut parent, o), find(&mut parent, c as u32));
                parent.insert(a.max(b), a.min(b));
            }
        }
    }
    let mut groups: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let keys: Vec<u32> = parent.keys().copied().collect();
    for x in keys {
        let r = find(&mut parent, x);
        groups.entry(r).or_default().extend([x, r]);
    }
    let mut group_of: HashMap<u32, Vec<u32>> = HashMap::new();
    for members in groups.values_mut() {
        members.sort_unstable();
        members.dedup();
        for &m in members.iter() {
            group_of.insert(m, members.clone());
        }
    }

    // (a) skipped_stage
    for c in 0..len {
        if g.is_merge[c] {
            continue;
        }
        let s = in_envs(c);
        let Some(&last) = s.last() else { continue };
        let equivalents = group_of.get(&(c as u32));
        // An environment with no deployment in this repo cannot have been skipped.
        let missing: Vec<usize> = (0..last)
            .filter(|j| has_deploys[*j] && present[*j][c].is_none())
            .filter(|j| {
                !equivalents.is_some_and(|eq| eq.iter().any(|e| present[*j][*e as usize].is_some()))
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        out.push(Finding {
            repo: repo.to_string(),
            kind: "skipped_stage".into(),
            environment: envs[s[0]].name.clone(),
            sha: g.shas[c].clone(),
            related_sha: None,
            detail: format!(
                "on {}; never on {}: {}",
                names(config, &s),
                names(config, &missing),
                g.summary[c]
            ),
        });
    }

    // (b) cherry_pick_duplicate
    for members in groups.values() {
        let mut m: Vec<(usize, i64, &str, u32)> = members
            .iter()
            .map(|&c| {
                let s = in_envs(c as usize);
                (
                    s.first().copied().unwrap_or(n),
                    g.committed[c as usize].unwrap_or(i64::MAX),
                    g.shas[c as usize].as_str(),
                    c,
                )
            })
            .collect();
        m.sort();
        m.dedup();
        let Some(&(_, _, osha, o)) = m.first() else {
            continue;
        };
        let oenvs = in_envs(o as usize);
        for &(_, _, dsha, d) in &m[1..] {
            let denvs = in_envs(d as usize);
            if denvs == oenvs {
                continue;
            }
            let how = if picked_link.contains_key(&(d, o)) {
                format!("cherry-picked from {}", short(osha))
            } else {
                format!("same patch_id as {}", short(osha))
            };
            out.push(Finding {
                repo: repo.to_string(),
                kind: "cherry_pick_duplicate".into(),
                environment: envs[denvs[0]].name.clone(),
                sha: dsha.to_string(),
                related_sha: Some(osha.to_string()),
                detail: format!(
                    "{how}; this copy is on {}, the original on {}",
                    names(config, &denvs),
                    names(config, &oenvs)
                ),
            });
        }
    }

    // (c) branch_ahead: the later branch's tip has commits its predecessor's lacks.
    for k in 0..n.saturating_sub(1) {
        let (Some(a), Some(b), Some(ta)) = (&re.anc[k], &re.anc[k + 1], re.tips[k]) else {
            continue;
        };
        if re.branches[k] == re.branches[k + 1] {
            continue;
        }
        for c in 0..len {
            if b[c] && !a[c] && !g.is_merge[c] {
                out.push(Finding {
                    repo: repo.to_string(),
                    kind: "branch_ahead".into(),
                    environment: envs[k + 1].name.clone(),
                    sha: g.shas[c].clone(),
                    related_sha: Some(g.shas[ta as usize].clone()),
                    detail: format!(
                        "on branch `{}` ({}), not on `{}` ({}): {}",
                        re.branches[k + 1].as_deref().unwrap_or(""),
                        envs[k + 1].name,
                        re.branches[k].as_deref().unwrap_or(""),
                        envs[k].name,
                        g.summary[c]
                    ),
                });
            }
        }
    }

    // (d) pollution: other branches holding commits only later environment
    // branches (other than main/master/the default branch) have.
    let default = inp.default_branch.get(repo).cloned();
    let mainline = |b: &str| b == "main" || b == "master" || default.as_deref() == Some(b);
    let refs = inp.refs.get(repo).map(Vec::as_slice).unwrap_or(&[]);
    let main_anc: Vec<Vec<bool>> = refs
        .iter()
        .filter(|r| r.kind == "branch" && mainline(&r.name))
        .filter_map(|r| g.resolve(&r.sha))
        .map(|t| ancestors(g, t))
        .collect();
    let later: Vec<usize> = (1..n)
        .filter(|k| {
            re.anc[*k].is_some() && re.branches[*k].as_deref().is_some_and(|b| !mainline(b))
        })
        .collect();
    if later.is_empty() {
        return out;
    }
    let later_only = |c: usize| -> Option<Vec<usize>> {
        if g.is_merge[c] || re.anc[0].as_ref().is_some_and(|a| a[c]) {
            return None;
        }
        if main_anc.iter().any(|a| a[c]) {
            return None;
        }
        let on: Vec<usize> = later
            .iter()
            .copied()
            .filter(|k| re.anc[*k].as_ref().is_some_and(|a| a[c]))
            .collect();
        (!on.is_empty()).then_some(on)
    };
    let env_branches: BTreeSet<&str> = re.branches.iter().flatten().map(String::as_str).collect();
    // A branch named like a configured environment is that environment's
    // branch even when the environment takes its deployments from a deploy log
    // or tags: it is not a team branch, so it cannot be "polluted".
    let env_named = |b: &str| envs.iter().any(|e| e.name == b);
    for r in refs {
        if r.kind != "branch"
            || env_branches.contains(r.name.as_str())
            || env_named(&r.name)
            || mainline(&r.name)
        {
            continue;
        }
        let Some(t) = g.resolve(&r.sha) else { continue };
        let a = ancestors(g, t);
        for (c, _) in a.iter().enumerate().filter(|(_, x)| **x) {
            if let Some(on) = later_only(c) {
                out.push(Finding {
                    repo: repo.to_string(),
                    kind: "pollution".into(),
                    environment: envs[on[0]].name.clone(),
                    sha: g.shas[c].clone(),
                    related_sha: Some(g.shas[t as usize].clone()),
                    detail: format!(
                        "branch `{}` contains {}, which is only on {} (not on {}): {}",
                        r.name,
                        short(&g.shas[c]),
                        names(config, &on),
                        envs[0].name,
                        g.summary[c]
                    ),
                });
            }
        }
    }
    out
}

// ---- tables ---------------------------------------------------------------------

fn err(table: &str) -> impl FnOnce(PolarsError) -> crate::error::Error + '_ {
    move |e| polars_err(format!("building {table}"))(e)
}

/// `env_arrivals`, sorted by repo, sha and stage.
pub fn arrivals_frame(flow: &Flow) -> Result<DataFrame> {
    let r = &flow.arrivals;
    let mut df = df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "sha" => r.iter().map(|x| x.sha.as_str()).collect::<Vec<_>>(),
        "environment" => r.iter().map(|x| x.environment.as_str()).collect::<Vec<_>>(),
        "stage_index" => r.iter().map(|x| x.stage_index).collect::<Vec<_>>(),
        "deployment_id" => r.iter().map(|x| x.deployment_id.as_str()).collect::<Vec<_>>(),
        "is_baseline" => r.iter().map(|x| x.is_baseline).collect::<Vec<_>>(),
        "next_environment" => r.iter().map(|x| x.next_environment.clone()).collect::<Vec<_>>(),
        "dwell_s" => r.iter().map(|x| x.dwell_s).collect::<Vec<_>>(),
        "is_merge" => r.iter().map(|x| x.is_merge).collect::<Vec<_>>(),
        "pr_number" => r.iter().map(|x| x.pr_number).collect::<Vec<_>>(),
    )
    .map_err(err("env_arrivals"))?;
    for (name, v) in [
        (
            "arrived_at",
            r.iter().map(|x| x.arrived_at).collect::<Vec<_>>(),
        ),
        ("first_env_at", r.iter().map(|x| x.first_env_at).collect()),
        (
            "next_arrived_at",
            r.iter().map(|x| x.next_arrived_at).collect(),
        ),
    ] {
        df.with_column(time_col(name, v)?)
            .map_err(err("env_arrivals"))?;
    }
    Ok(df)
}

/// `promotions`, sorted by repo, target environment and time.
pub fn promotions_frame(flow: &Flow) -> Result<DataFrame> {
    let r = &flow.promotions;
    let mut df = df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "from_env" => r.iter().map(|x| x.from_env.as_str()).collect::<Vec<_>>(),
        "to_env" => r.iter().map(|x| x.to_env.as_str()).collect::<Vec<_>>(),
        "sha" => r.iter().map(|x| x.sha.as_str()).collect::<Vec<_>>(),
        "merged_sha" => r.iter().map(|x| x.merged_sha.as_str()).collect::<Vec<_>>(),
        "batch_commits" => r.iter().map(|x| x.batch_commits).collect::<Vec<_>>(),
        "batch_prs" => r.iter().map(|x| x.batch_prs).collect::<Vec<_>>(),
        "triggered_by" => r.iter().map(|x| x.triggered_by.as_str()).collect::<Vec<_>>(),
    )
    .map_err(err("promotions"))?;
    df.with_column(time_col(
        "promoted_at",
        r.iter().map(|x| x.promoted_at).collect(),
    )?)
    .map_err(err("promotions"))?;
    Ok(df)
}

/// `drift_daily`, sorted by repo, pair and day.
pub fn drift_frame(rows: &[DriftRow]) -> Result<DataFrame> {
    let r = rows;
    let mut df = df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "from_env" => r.iter().map(|x| x.from_env.as_str()).collect::<Vec<_>>(),
        "to_env" => r.iter().map(|x| x.to_env.as_str()).collect::<Vec<_>>(),
        "commits_ahead" => r.iter().map(|x| x.commits_ahead).collect::<Vec<_>>(),
        "prs_ahead" => r.iter().map(|x| x.prs_ahead).collect::<Vec<_>>(),
        "oldest_age_s" => r.iter().map(|x| x.oldest_age_s).collect::<Vec<_>>(),
        "oldest_sha" => r.iter().map(|x| x.oldest_sha.clone()).collect::<Vec<_>>(),
    )
    .map_err(err("drift_daily"))?;
    df.with_column(time_col("day", r.iter().map(|x| Some(x.day)).collect())?)
        .map_err(err("drift_daily"))?;
    Ok(df)
}

/// `misalignments`, sorted by repo, kind, environment and sha.
pub fn misalignments_frame(rows: &[Finding]) -> Result<DataFrame> {
    let r = rows;
    df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "kind" => r.iter().map(|x| x.kind.as_str()).collect::<Vec<_>>(),
        "environment" => r.iter().map(|x| x.environment.as_str()).collect::<Vec<_>>(),
        "sha" => r.iter().map(|x| x.sha.as_str()).collect::<Vec<_>>(),
        "related_sha" => r.iter().map(|x| x.related_sha.clone()).collect::<Vec<_>>(),
        "detail" => r.iter().map(|x| x.detail.as_str()).collect::<Vec<_>>(),
    )
    .map_err(err("misalignments"))
}

/// Runs the four flow stages: computes once, then rewrites each table.
/// Returns (stage name, rows) in stage order.
pub(crate) fn write_tables(
    guard: &WriteGuard,
    config: &Config,
    inp: &Inputs,
) -> Result<(Flow, Vec<(&'static str, usize)>)> {
    let flow = compute(guard.store(), config, inp)?;
    let mut out = vec![];
    let df = arrivals_frame(&flow)?;
    out.push(("env_arrivals", df.height()));
    guard.replace(&ENV_ARRIVALS, None, df)?;
    let df = promotions_frame(&flow)?;
    out.push(("promotions", df.height()));
    guard.replace(&PROMOTIONS, None, df)?;
    let df = drift_frame(&flow.drift)?;
    out.push(("drift_daily", df.height()));
    guard.replace(&DRIFT_DAILY, None, df)?;
    let df = misalignments_frame(&flow.misalignments)?;
    out.push(("misalignments", df.height()));
    guard.replace(&MISALIGNMENTS, None, df)?;
    Ok((flow, out))
}

// ---- the `flow` report ------------------------------------------------------------

/// `--since` / `--until` for the report (inclusive days, UTC).
#[derive(Debug, Clone, Default)]
pub struct FlowOptions {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// Median and p90 dwell of one stage in one period (`all` for the whole range).
#[derive(Debug, Clone, Serialize)]
pub struct DwellStat {
    pub stage: String,
    pub period: String,
    pub changes: i64,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
    /// Negative dwell times (clock or mapping anomalies), left out of the quantiles.
    pub negative: i64,
}

/// One stage's share of total lead time, over changes with every arrival known.
#[derive(Debug, Clone, Serialize)]
pub struct StageShare {
    pub stage: String,
    pub changes: i64,
    pub total_s: i64,
    pub share: Option<f64>,
}

/// Production cadence and the time changes spend waiting for a train.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub repo: String,
    pub environment: String,
    pub trains: i64,
    pub median_interval_s: Option<f64>,
    pub p25_interval_s: Option<f64>,
    pub p75_interval_s: Option<f64>,
    pub iqr_s: Option<f64>,
    /// Standard deviation / mean of the intervals: 0 is a perfectly regular train.
    pub cv: Option<f64>,
    pub changes: i64,
    pub median_wait_s: Option<f64>,
    /// Sum of train waits / sum of lead times, over the same changes.
    pub wait_share: Option<f64>,
}

/// Everything `flowmeter flow` prints.
#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    pub environments: Vec<String>,
    pub dwell: Vec<DwellStat>,
    pub shares: Vec<StageShare>,
    pub promotions: Vec<Promotion>,
    pub drift: Vec<DriftRow>,
    pub tips: Vec<TipDrift>,
    pub misalignments: Vec<Finding>,
    pub trains: Vec<TrainSummary>,
    pub notes: Vec<String>,
}

fn day_of(us: i64) -> NaiveDate {
    DateTime::from_timestamp_micros(us)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

impl FlowOptions {
    fn keep(&self, us: i64) -> bool {
        let d = day_of(us);
        self.since.is_none_or(|s| d >= s) && self.until.is_none_or(|u| d <= u)
    }
}

fn stats(v: &[f64]) -> (Option<f64>, Option<f64>) {
    (quantile(v, 0.5), quantile(v, 0.9))
}

/// Summarises a computed flow for the report.
pub fn summarize(flow: &Flow, opts: &FlowOptions) -> FlowReport {
    let envs = &flow.environments;
    let n = envs.len();
    let stage = |k: usize| format!("{}→{}", envs[k], envs[k + 1]);

    // Dwell per stage and period (the month of arrival in the later environment).
    let mut per: BTreeMap<(usize, String), (Vec<f64>, i64)> = BTreeMap::new();
    for a in &flow.arrivals {
        let (Some(d), Some(next)) = (a.dwell_s, a.next_arrived_at) else {
            continue;
        };
        if a.is_merge || !opts.keep(next) {
            continue;
        }
        let k = a.stage_index as usize;
        for period in [period_of(day_of(next), By::Month).0, "all".to_string()] {
            let e = per.entry((k, period)).or_default();
            if d < 0 {
                e.1 += 1;
            } else {
                e.0.push(d as f64);
            }
        }
    }
    let mut dwell: Vec<DwellStat> = per
        .into_iter()
        .map(|((k, period), (v, neg))| {
            let (median_s, p90_s) = stats(&v);
            DwellStat {
                stage: stage(k),
                period,
                changes: v.len() as i64,
                median_s,
                p90_s,
                negative: neg,
            }
        })
        .collect();
    // `all` last within each stage.
    dwell.sort_by(|a, b| {
        (&a.stage, a.period == "all", &a.period).cmp(&(&b.stage, b.period == "all", &b.period))
    });
    let order: HashMap<String, usize> = (0..n.saturating_sub(1)).map(|k| (stage(k), k)).collect();
    dwell.sort_by_key(|d| order.get(&d.stage).copied().unwrap_or(usize::MAX));

    // Shares: commit→first environment, then each stage, over changes with
    // every arrival known and no negative segment.
    let mut seg = vec![0i64; n];
    let mut total = 0i64;
    let mut count = 0i64;
    let mut by_sha: BTreeMap<(&str, &str), Vec<&ArrivalRow>> = BTreeMap::new();
    for a in &flow.arrivals {
        by_sha.entry((&a.repo, &a.sha)).or_default().push(a);
    }
    for rows in by_sha.values() {
        if rows.len() != n || rows[0].is_merge || n == 0 {
            continue;
        }
        let ats: Option<Vec<i64>> = rows.iter().map(|r| r.arrived_at).collect();
        let (Some(ats), Some(start)) = (ats, rows[0].start_at) else {
            continue;
        };
        if !opts.keep(ats[n - 1]) {
            continue;
        }
        let mut parts = vec![(ats[0] - start) / 1_000_000];
        parts.extend((1..n).map(|k| (ats[k] - ats[k - 1]) / 1_000_000));
        if parts.iter().any(|p| *p < 0) {
            continue;
        }
        for (s, p) in seg.iter_mut().zip(&parts) {
            *s += p;
        }
        total += parts.iter().sum::<i64>();
        count += 1;
    }
    let shares = (0..n)
        .map(|k| StageShare {
            stage: if k == 0 {
                format!("commit→{}", envs[0])
            } else {
                stage(k - 1)
            },
            changes: count,
            total_s: seg[k],
            share: (total > 0).then(|| seg[k] as f64 / total as f64),
        })
        .collect();

    // Trains.
    let mut trains = vec![];
    let mut keys: BTreeSet<(&str, &str)> = BTreeSet::new();
    for t in &flow.trains {
        keys.insert((&t.repo, &t.environment));
    }
    for (repo, env) in keys {
        let mut at: Vec<i64> = flow
            .trains
            .iter()
            .filter(|t| t.repo == repo && t.environment == env && opts.keep(t.at))
            .map(|t| t.at)
            .collect();
        at.sort_unstable();
        let iv: Vec<f64> = at
            .windows(2)
            .map(|w| ((w[1] - w[0]) / 1_000_000) as f64)
            .collect();
        let (p25, p75) = (quantile(&iv, 0.25), quantile(&iv, 0.75));
        let cv = (iv.len() >= 2).then(|| {
            let mean = iv.iter().sum::<f64>() / iv.len() as f64;
            let var = iv.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / iv.len() as f64;
            if mean > 0.0 {
                var.sqrt() / mean
            } else {
                0.0
            }
        });
        let waits: Vec<&TrainWait> = flow
            .waits
            .iter()
            .filter(|w| w.repo == repo && w.environment == env && opts.keep(w.arrived_at))
            .filter(|w| w.wait_s >= 0 && w.lead_s.is_some_and(|l| l >= 0))
            .collect();
        let ws: Vec<f64> = waits.iter().map(|w| w.wait_s as f64).collect();
        let lead: i64 = waits.iter().filter_map(|w| w.lead_s).sum();
        let wait: i64 = waits.iter().map(|w| w.wait_s).sum();
        trains.push(TrainSummary {
            repo: repo.to_string(),
            environment: env.to_string(),
            trains: at.len() as i64,
            median_interval_s: quantile(&iv, 0.5),
            p25_interval_s: p25,
            p75_interval_s: p75,
            iqr_s: p25.zip(p75).map(|(a, b)| b - a),
            cv,
            changes: waits.len() as i64,
            median_wait_s: quantile(&ws, 0.5),
            wait_share: (lead > 0).then(|| wait as f64 / lead as f64),
        });
    }

    FlowReport {
        environments: envs.clone(),
        dwell,
        shares,
        promotions: flow
            .promotions
            .iter()
            .filter(|p| p.promoted_at.is_none_or(|t| opts.keep(t)))
            .cloned()
            .collect(),
        drift: flow
            .drift
            .iter()
            .filter(|d| opts.keep(d.day))
            .cloned()
            .collect(),
        tips: flow.tips.clone(),
        misalignments: flow.misalignments.clone(),
        trains,
        notes: flow.notes.clone(),
    }
}

/// `flowmeter flow`: recomputes the flow from the store and summarises it.
pub fn flow_report(store: &Store, config: &Config, opts: &FlowOptions) -> Result<FlowReport> {
    let inp = Inputs::load(store)?;
    let flow = compute(store, config, &inp)?;
    let mut r = summarize(&flow, opts);
    if config.environments.len() < 2 {
        r.notes.push(format!(
            "only {} environment(s) configured: list them in promotion order ([[environment]] in flowmeter.toml) to see stages, drift and promotions",
            config.environments.len()
        ));
    }
    Ok(r)
}

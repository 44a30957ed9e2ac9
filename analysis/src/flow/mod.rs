//! Environment promotion flow: where changes wait between environments and
//! where the environment branches disagree.
//!
//! The flow is computed once, inside `analyze`, from the same deployments and
//! marking pass as every other derived table ([`compute`]), and written as
//! tables ([`tables`]): `env_arrivals`, `promotions`, `drift_daily`,
//! `misalignments`, `tip_drift` and `train_waits`. `flowmeter flow` and the
//! reports read those tables back and summarise them ([`report`]); nothing here
//! resolves deployments or maps commits a second time.
//!
//! - `env_arrivals`: a change's arrival in an environment is the first
//!   deployment of that environment that ships it (the environment's own commit
//!   mapping, never a commit timestamp), with the dwell time to the next one.
//! - `promotions`: merges on environment branch N+1 whose second parent is in
//!   the history of environment branch N, with the batch they brought.
//! - `drift_daily`: per day and adjacent pair, the non-merge changes that have
//!   arrived in the earlier environment but not yet in the later one.
//! - `misalignments`: skipped stages, cherry-pick duplicates, branches ahead of
//!   their predecessor, and pollution of other branches by later environments.
//! - release trains: the production deployments that shipped something, and
//!   each change's wait for the next one.

mod misalign;
pub(crate) mod report;
pub(crate) mod tables;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::config::{Config, LeadTimeStart};
use crate::deploy::{branch_of, branch_tip, Deploy};
use crate::inputs::{Graph, Inputs};
use crate::mapping::Shipped;

pub use report::{
    flow_report, DriftSummary, DwellStat, FlowOptions, FlowReport, KindCount, StageShare,
    TrainSummary,
};
pub(crate) use tables::write_tables;
pub use tables::{arrivals_frame, drift_frame, misalignments_frame, promotions_frame};

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
    /// Release trains: (repo, environment, deployed_at) of each production
    /// deployment that shipped something.
    pub trains: Vec<(String, String, i64)>,
    pub waits: Vec<TrainWait>,
    pub notes: Vec<String>,
}

pub(crate) fn ancestors(g: &Graph, tip: u32) -> Vec<bool> {
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

pub(crate) fn midnight(us: i64) -> i64 {
    us.div_euclid(DAY_US) * DAY_US
}

/// The environments' names joined with `, `.
pub(crate) fn names(config: &Config, ks: &[usize]) -> String {
    ks.iter()
        .map(|k| config.environments[*k].name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Per repo: environment branches, tips and their histories.
pub(crate) struct RepoEnvs {
    pub branches: Vec<Option<String>>,
    pub tips: Vec<Option<u32>>,
    pub anc: Vec<Option<Vec<bool>>>,
}

/// Computes every flow result from the stage-1 deployments and the stage-2
/// marking (the same ones every other derived table comes from).
// Commits are indices into several parallel per-environment arrays.
#[allow(clippy::needless_range_loop)]
pub fn compute(config: &Config, inp: &Inputs, deploys: &[Deploy], shipped: &[Shipped]) -> Flow {
    let envs = &config.environments;
    let n = envs.len();
    let mut flow = Flow {
        environments: envs.iter().map(|e| e.name.clone()).collect(),
        ..Flow::default()
    };

    // Pass 1: branches, tips and promotions.
    let mut per_repo: BTreeMap<&str, RepoEnvs> = BTreeMap::new();
    for (repo, g) in &inp.graphs {
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
        for k in 1..n {
            let (Some(tip), Some(prev)) = (tips[k], &anc[k - 1]) else {
                continue;
            };
            if branches[k] == branches[k - 1] {
                continue;
            }
            for (m, p2, batch) in promotions_into(g, tip, prev) {
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
                    triggered_by: g.committer[m as usize].clone(),
                });
            }
        }
        per_repo.insert(
            repo.as_str(),
            RepoEnvs {
                branches,
                tips,
                anc,
            },
        );
    }

    // Pass 2: each environment's own mapping, as stage 2 made it.
    let mut by_repo: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, d) in deploys.iter().enumerate() {
        by_repo.entry(d.repo.as_str()).or_default().push(i);
    }
    for (repo, g) in &inp.graphs {
        let re = &per_repo[repo.as_str()];
        let len = g.shas.len();
        // present[k][c] = (deploy index, baseline)
        let mut present: Vec<Vec<Option<(usize, bool)>>> = vec![vec![None; len]; n];
        let mut env_deploys: Vec<Vec<usize>> = vec![vec![]; n];
        // held[k][c] = when environment k first held c, as git sees it (for drift).
        let mut held: Vec<Vec<Option<i64>>> = vec![vec![None; len]; n];
        for &i in by_repo.get(repo.as_str()).into_iter().flatten() {
            let (d, s) = (&deploys[i], &shipped[i]);
            env_deploys[d.env_pos].push(i);
            for &c in &s.commits {
                present[d.env_pos][c as usize] = Some((i, false));
                held[d.env_pos][c as usize] = Some(d.at);
            }
            for (&c, &at) in s.baseline.iter().zip(&s.baseline_at) {
                present[d.env_pos][c as usize] = Some((i, true));
                held[d.env_pos][c as usize] = Some(at);
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
            if env_deploys[k].is_empty() || env_deploys[k + 1].is_empty() {
                continue;
            }
            // From the first day either environment held anything to the last deployment.
            let times: Vec<i64> = env_deploys[k]
                .iter()
                .chain(&env_deploys[k + 1])
                .map(|&i| deploys[i].at)
                .collect();
            let first_held = held[k].iter().chain(&held[k + 1]).flatten().min().copied();
            let (Some(lo), Some(hi)) = (
                times.iter().copied().chain(first_held).min(),
                times.iter().max(),
            ) else {
                continue;
            };
            // Each non-merge change in `k`: waiting from `enter` (arrival in k) until `leave`.
            let mut items: Vec<(i64, i64, u32)> = vec![];
            for c in 0..len {
                if g.is_merge[c] {
                    continue;
                }
                let Some(enter) = held[k][c] else {
                    continue;
                };
                let leave = held[k + 1][c].map_or(i64::MAX, |t| t.max(enter));
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
            let mut day = midnight(lo);
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
        flow.misalignments.extend(misalign::misalignments(
            config,
            inp,
            repo,
            g,
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
        // (The config always marks one environment as production.)
        for p in (0..n).filter(|k| envs[*k].production) {
            let mut trains: Vec<i64> = vec![];
            for &i in &env_deploys[p] {
                if !shipped[i].commits.is_empty() {
                    trains.push(deploys[i].at);
                    flow.trains
                        .push((repo.clone(), envs[p].name.clone(), deploys[i].at));
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
    flow
}

/// Merges on the first-parent chain of `tip`, not in `prev`, whose second parent is in `prev`,
/// root first, each with the commits it brought (the merge itself excluded).
pub(crate) fn promotions_into(g: &Graph, tip: u32, prev: &[bool]) -> Vec<(u32, u32, Vec<u32>)> {
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

//! What-if release cadences: replay the changes that reached the mainline
//! under other release policies, and predict failures with the risk model.
//!
//! **Release times** (all UTC). Trains leave at 12:00.
//! - `daily`: every weekday (Monday to Friday) at 12:00;
//! - `weekly`: every Tuesday at 12:00 (a subset of the daily trains);
//! - `biweekly`: every other weekly train (weeks counted from Tuesday
//!   1970-01-06, even weeks);
//! - `monthly`: every fourth weekly train (weeks divisible by 4), so it is a
//!   subset of the two-weekly trains too;
//! - `on-merge`: the pipeline runs back to back. A run starts every DELAY,
//!   aligned so that one lands on 12:00 every day, ships every change merged
//!   before it started, and lands DELAY later. So every daily train time is
//!   also an on-merge time, merges less than DELAY apart can share a
//!   deployment, and merges at least DELAY apart never do.
//!
//! A change ships at the first release time at least DELAY after it reached
//! the mainline. Because the policies are nested (on-merge ⊇ daily ⊇ weekly ⊇
//! biweekly ⊇ monthly), every change's lead time can only grow as the cadence
//! gets sparser, and so can every quantile of the lead times.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use polars::prelude::*;
use serde::Serialize;

use crate::risk::{bool_col, i64_col, str_col, Deployment};
use crate::stats::{self, LogisticFit, Result, RiskError, SplitMix64};

const SECOND: i64 = 1_000_000;
const HOUR: i64 = 3600 * SECOND;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// Trains leave at 12:00 UTC.
const TRAIN_OFFSET: i64 = 12 * HOUR;
/// Day number (since 1970-01-01) of the first Tuesday, 1970-01-06.
const FIRST_TUESDAY: i64 = 5;
/// The average month, 365.25 / 12 days.
pub const MONTH_DAYS: f64 = 30.4375;

/// A release policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cadence {
    OnMerge,
    Daily,
    Weekly,
    Biweekly,
    Monthly,
}

impl Cadence {
    /// Every policy, from the most to the least frequent.
    pub const ALL: [Cadence; 5] = [
        Cadence::OnMerge,
        Cadence::Daily,
        Cadence::Weekly,
        Cadence::Biweekly,
        Cadence::Monthly,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Cadence::OnMerge => "on-merge",
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Biweekly => "biweekly",
            Cadence::Monthly => "monthly",
        }
    }
}

impl FromStr for Cadence {
    type Err = RiskError;
    fn from_str(s: &str) -> Result<Cadence> {
        Cadence::ALL
            .into_iter()
            .find(|c| c.name() == s.trim())
            .ok_or_else(|| {
                RiskError::Invalid(format!(
                    "unknown cadence {s:?}: expected one of on-merge, daily, weekly, biweekly, monthly"
                ))
            })
    }
}

/// The first 12:00 UTC at or after `t` (µs).
fn next_anchor(t: i64) -> i64 {
    (t - TRAIN_OFFSET).div_euclid(DAY) * DAY
        + TRAIN_OFFSET
        + if (t - TRAIN_OFFSET).rem_euclid(DAY) == 0 {
            0
        } else {
            DAY
        }
}

/// Day number since 1970-01-01 of an anchor.
fn day_number(anchor: i64) -> i64 {
    (anchor - TRAIN_OFFSET).div_euclid(DAY)
}

/// The first release of `cadence` at or after `ready` (µs). `delay` (µs) is the
/// pipeline duration, which sets the on-merge slot spacing.
pub fn release_at_or_after(cadence: Cadence, ready: i64, delay: i64) -> i64 {
    let anchor = next_anchor(ready);
    match cadence {
        Cadence::OnMerge => {
            if delay <= 0 {
                return ready;
            }
            anchor - (anchor - ready) / delay * delay
        }
        Cadence::Daily => {
            let mut a = anchor;
            // 1970-01-01 was a Thursday: Monday = 0 is (day + 3) mod 7.
            while (day_number(a) + 3).rem_euclid(7) >= 5 {
                a += DAY;
            }
            a
        }
        Cadence::Weekly | Cadence::Biweekly | Cadence::Monthly => {
            let every = match cadence {
                Cadence::Weekly => 1,
                Cadence::Biweekly => 2,
                _ => 4,
            };
            let mut a = anchor;
            while (day_number(a) - FIRST_TUESDAY).rem_euclid(7) != 0 {
                a += DAY;
            }
            while ((day_number(a) - FIRST_TUESDAY) / 7).rem_euclid(every) != 0 {
                a += WEEK;
            }
            a
        }
    }
}

/// A change reaching the mainline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MainlineChange {
    pub repo: String,
    pub sha: String,
    /// When it reached the mainline, µs UTC.
    pub at: i64,
    /// When it actually reached production, if it did (for the "current" row).
    pub shipped_at: Option<i64>,
}

/// The outcome of replaying the arrivals under one policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub cadence: Cadence,
    /// Per arrival (same order): its ship time, µs.
    pub ship: Vec<i64>,
    /// Per deployment (repo, release time) in time order: changes shipped.
    pub batches: Vec<usize>,
}

impl Replay {
    /// Per arrival: lead time from the mainline to production, in hours.
    pub fn lead_hours(&self, arrivals: &[MainlineChange]) -> Vec<f64> {
        self.ship
            .iter()
            .zip(arrivals)
            .map(|(s, a)| (s - a.at) as f64 / HOUR as f64)
            .collect()
    }
}

/// Replays `arrivals` under `cadence`: each change ships at the first release
/// at least `delay` (µs) after its arrival; each repo deploys separately.
pub fn replay(arrivals: &[MainlineChange], cadence: Cadence, delay: i64) -> Replay {
    let ship: Vec<i64> = arrivals
        .iter()
        .map(|a| release_at_or_after(cadence, a.at + delay, delay))
        .collect();
    let mut by_release: BTreeMap<(i64, &str), usize> = BTreeMap::new();
    for (a, s) in arrivals.iter().zip(&ship) {
        *by_release.entry((*s, a.repo.as_str())).or_default() += 1;
    }
    Replay {
        cadence,
        ship,
        batches: by_release.into_values().collect(),
    }
}

/// A value with its uncertainty interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One row of the what-if table: a policy, or the actual history ("current").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIfRow {
    /// `current`, `on-merge`, `daily`, …
    pub policy: String,
    pub deployments: usize,
    pub deployments_per_month: f64,
    /// Changes shipped (for `current`: the replayed changes that reached production).
    pub changes: usize,
    pub lead_time_median_h: Option<f64>,
    pub lead_time_p90_h: Option<f64>,
    pub batch_median: Option<f64>,
    pub batch_p90: Option<f64>,
    pub batch_max: Option<usize>,
    /// Expected failed deployments under the fitted model, with the 95%
    /// interval from the uncertainty of the fit's coefficients.
    pub predicted_failures: Option<Estimate>,
    /// Expected changes that ship inside a failed deployment.
    pub predicted_changes_in_failed: Option<Estimate>,
    /// Expected defects (incidents) per week: the expected failures times
    /// the history's incidents per failed deployment, over the window's weeks.
    pub expected_defects_per_week: Option<Estimate>,
    /// `current` only: failed deployments actually observed.
    pub observed_failures: Option<usize>,
    /// Share of this row's deployments whose batch lies outside the middle
    /// 90% (p5-p95) of the batches the risk model was fitted on: how much of
    /// the prediction is extrapolation.
    pub extrapolated_share: Option<f64>,
}

/// The check of the model against the actual history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurrentCheck {
    pub deployments: usize,
    pub observed_failures: usize,
    pub predicted_failures: f64,
    /// 95% predictive interval of the failure count: coefficient uncertainty
    /// plus the chance of which deployments fail.
    pub predictive_lo: f64,
    pub predictive_hi: f64,
    pub consistent: bool,
}

/// Options of the what-if replay.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIfOptions {
    pub cadences: Vec<Cadence>,
    /// Pipeline delay, µs.
    pub delay: i64,
    /// Parametric draws of the fit's coefficients.
    pub draws: usize,
    pub seed: u64,
}

impl Default for WhatIfOptions {
    fn default() -> Self {
        WhatIfOptions {
            cadences: Cadence::ALL.to_vec(),
            delay: 30 * 60 * SECOND,
            draws: 2000,
            seed: 42,
        }
    }
}

/// The whole `whatif` result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIfReport {
    /// Changes replayed.
    pub changes: usize,
    /// First and last arrival, µs UTC.
    pub window_start: Option<i64>,
    pub window_end: Option<i64>,
    /// Months in the window (days / 30.4375), the deployments-per-month divisor.
    pub months: f64,
    pub pipeline_delay_s: i64,
    pub rows: Vec<WhatIfRow>,
    pub check: Option<CurrentCheck>,
    /// Current lead times that came out negative (clock skew): excluded, counted.
    pub negative_lead_times: usize,
    pub assumptions: Vec<String>,
    pub warnings: Vec<String>,
}

fn dist(values: &mut [f64]) -> (Option<f64>, Option<f64>) {
    values.sort_by(f64::total_cmp);
    (
        stats::quantile_sorted(values, 0.5),
        stats::quantile_sorted(values, 0.9),
    )
}

/// Expected failures and expected changes in failed deployments for batch
/// sizes `batches`, with 95% intervals over `draws` coefficient draws.
pub fn predict_failures(
    fit: &LogisticFit,
    batches: &[usize],
    draws: &[(f64, f64)],
) -> (Estimate, Estimate) {
    let eval = |b0: f64, b1: f64| -> (f64, f64) {
        batches
            .iter()
            .filter(|b| **b > 0)
            .map(|&b| {
                let p = stats::logistic(b0 + b1 * (b as f64).log2());
                (p, p * b as f64)
            })
            .fold((0.0, 0.0), |acc, v| (acc.0 + v.0, acc.1 + v.1))
    };
    let (f, c) = eval(fit.intercept, fit.slope);
    let mut fs = Vec::with_capacity(draws.len());
    let mut cs = Vec::with_capacity(draws.len());
    for &(b0, b1) in draws {
        let (a, b) = eval(b0, b1);
        fs.push(a);
        cs.push(b);
    }
    fs.sort_by(f64::total_cmp);
    cs.sort_by(f64::total_cmp);
    let est = |v: f64, s: &[f64]| Estimate {
        value: v,
        lo: stats::quantile_sorted(s, 0.025).unwrap_or(v),
        hi: stats::quantile_sorted(s, 0.975).unwrap_or(v),
    };
    (est(f, &fs), est(c, &cs))
}

/// Checks the model against the actual deployments: the observed failure count
/// against a 95% predictive interval (coefficient draws, then one Bernoulli
/// draw per deployment).
pub fn check_current(
    fit: &LogisticFit,
    deployments: &[Deployment],
    draws: &[(f64, f64)],
    seed: u64,
) -> CurrentCheck {
    let used: Vec<&Deployment> = deployments.iter().filter(|d| d.batch_commits > 0).collect();
    let observed = used.iter().filter(|d| d.failed).count();
    let predicted: f64 = used
        .iter()
        .map(|d| fit.predict((d.batch_commits as f64).log2()))
        .sum();
    let mut rng = SplitMix64::new(seed ^ 0x5EED_C4EC);
    let mut counts: Vec<f64> = draws
        .iter()
        .map(|&(b0, b1)| {
            used.iter()
                .filter(|d| {
                    rng.uniform() < stats::logistic(b0 + b1 * (d.batch_commits as f64).log2())
                })
                .count() as f64
        })
        .collect();
    counts.sort_by(f64::total_cmp);
    let lo = stats::quantile_sorted(&counts, 0.025).unwrap_or(predicted);
    let hi = stats::quantile_sorted(&counts, 0.975).unwrap_or(predicted);
    CurrentCheck {
        deployments: used.len(),
        observed_failures: observed,
        predicted_failures: predicted,
        predictive_lo: lo,
        predictive_hi: hi,
        consistent: (observed as f64) >= lo && (observed as f64) <= hi,
    }
}

/// Replays `arrivals` under each policy of `opts` and compares with the actual
/// production `deployments` ("current"). `fit` is the risk model (failure on
/// log2 commits per deployment); without it the failure columns are empty.
pub fn whatif(
    arrivals: &[MainlineChange],
    deployments: &[Deployment],
    fit: Option<&LogisticFit>,
    opts: &WhatIfOptions,
) -> WhatIfReport {
    let mut arrivals: Vec<MainlineChange> = arrivals.to_vec();
    arrivals.sort_by(|a, b| (a.at, &a.repo, &a.sha).cmp(&(b.at, &b.repo, &b.sha)));
    let window_start = arrivals.first().map(|a| a.at);
    let window_end = arrivals.last().map(|a| a.at);
    let months = match (window_start, window_end) {
        (Some(s), Some(e)) => ((e - s) as f64 / DAY as f64 / MONTH_DAYS).max(1.0 / MONTH_DAYS),
        _ => 0.0,
    };
    let per_month = |n: usize| if months > 0.0 { n as f64 / months } else { 0.0 };
    let draws = fit
        .map(|f| f.draw_coefficients(opts.draws, &mut SplitMix64::new(opts.seed)))
        .unwrap_or_default();
    // The batch sizes the model has seen (p5-p95 of the fitted deployments).
    let mut seen: Vec<f64> = deployments
        .iter()
        .filter(|d| d.batch_commits > 0)
        .map(|d| d.batch_commits as f64)
        .collect();
    seen.sort_by(f64::total_cmp);
    let seen = stats::quantile_sorted(&seen, 0.05).zip(stats::quantile_sorted(&seen, 0.95));
    let outside = |batches: &[usize]| -> Option<f64> {
        let (lo, hi) = seen?;
        if batches.is_empty() || fit.is_none() {
            return None;
        }
        let n = batches
            .iter()
            .filter(|b| (**b as f64) < lo || (**b as f64) > hi)
            .count();
        Some(n as f64 / batches.len() as f64)
    };
    let mut rows = vec![];
    let mut warnings = vec![];

    // The actual history.
    let current_deps: Vec<Deployment> = deployments
        .iter()
        .filter(|d| window_start.is_some_and(|s| d.deployed_at >= s) && d.batch_commits > 0)
        .cloned()
        .collect();
    let mut negative = 0;
    let mut current_leads: Vec<f64> = vec![];
    for a in &arrivals {
        if let Some(s) = a.shipped_at {
            if s < a.at {
                negative += 1;
            } else {
                current_leads.push((s - a.at) as f64 / HOUR as f64);
            }
        }
    }
    let (lm, l90) = dist(&mut current_leads);
    let mut cb: Vec<f64> = current_deps
        .iter()
        .map(|d| d.batch_commits as f64)
        .collect();
    let (bm, b90) = dist(&mut cb);
    let current_batches: Vec<usize> = current_deps
        .iter()
        .map(|d| d.batch_commits as usize)
        .collect();
    let (pf, pc) = match fit {
        Some(f) => {
            let (a, b) = predict_failures(f, &current_batches, &draws);
            (Some(a), Some(b))
        }
        None => (None, None),
    };
    rows.push(WhatIfRow {
        policy: "current".into(),
        deployments: current_deps.len(),
        deployments_per_month: per_month(current_deps.len()),
        changes: current_leads.len(),
        lead_time_median_h: lm,
        lead_time_p90_h: l90,
        batch_median: bm,
        batch_p90: b90,
        batch_max: current_batches.iter().copied().max(),
        predicted_failures: pf,
        predicted_changes_in_failed: pc,
        expected_defects_per_week: None,
        observed_failures: Some(current_deps.iter().filter(|d| d.failed).count()),
        extrapolated_share: outside(&current_batches),
    });
    let check = fit.map(|f| check_current(f, &current_deps, &draws, opts.seed));
    if let Some(c) = &check {
        if !c.consistent {
            warnings.push(format!(
                "the model predicts {:.1} failures (95% predictive interval {:.0}-{:.0}) for the actual history but {} were observed: the model does not describe this history well, so treat its predictions with caution",
                c.predicted_failures, c.predictive_lo, c.predictive_hi, c.observed_failures
            ));
        }
    }

    let mut cadences = opts.cadences.clone();
    cadences.sort();
    cadences.dedup();
    for cadence in cadences {
        let r = replay(&arrivals, cadence, opts.delay);
        let mut leads = r.lead_hours(&arrivals);
        let (lm, l90) = dist(&mut leads);
        let mut bs: Vec<f64> = r.batches.iter().map(|b| *b as f64).collect();
        let (bm, b90) = dist(&mut bs);
        let (pf, pc) = match fit {
            Some(f) => {
                let (a, b) = predict_failures(f, &r.batches, &draws);
                (Some(a), Some(b))
            }
            None => (None, None),
        };
        rows.push(WhatIfRow {
            policy: cadence.name().into(),
            deployments: r.batches.len(),
            deployments_per_month: per_month(r.batches.len()),
            changes: r.batches.iter().sum(),
            lead_time_median_h: lm,
            lead_time_p90_h: l90,
            batch_median: bm,
            batch_p90: b90,
            batch_max: r.batches.iter().copied().max(),
            predicted_failures: pf,
            predicted_changes_in_failed: pc,
            expected_defects_per_week: None,
            observed_failures: None,
            extrapolated_share: outside(&r.batches),
        });
    }
    if let Some((lo, hi)) = seen.filter(|_| fit.is_some()) {
        for row in rows
            .iter()
            .filter(|r| r.extrapolated_share.is_some_and(|s| s > 0.25))
        {
            warnings.push(format!(
                "{}: {:.0}% of its deployments have batch sizes outside the range where 90% of the fitted deployments lie ({lo:.0}-{hi:.0} commits), so its predicted failures are an extrapolation of the model",
                row.policy,
                100.0 * row.extrapolated_share.unwrap_or(0.0)
            ));
        }
    }
    if let Some(f) = fit.filter(|f| f.p_value >= 0.05) {
        warnings.push(format!(
            "the risk model finds no significant link between batch size and failure (odds ratio per doubling {:.2}, p = {:.2}): differences in predicted failures between policies then mostly follow the number of deployments, and their intervals are wide",
            f.odds_ratio(),
            f.p_value
        ));
    }
    if fit.is_none() {
        warnings.push(
            "no risk model could be fitted (see `flowmeter risk`): failures are not predicted"
                .into(),
        );
    }
    if arrivals.is_empty() {
        warnings.push("no changes reached the mainline: nothing to replay".into());
    }
    let delay_s = opts.delay / SECOND;
    let assumptions = vec![
        "The same changes reach the mainline at the same times under every policy; only the release times change.".into(),
        format!("Each change ships at the first release at least the pipeline delay ({delay_s} s) after it reached the mainline; each repository deploys separately."),
        "Release times are UTC. daily: weekdays at 12:00. weekly: Tuesdays at 12:00 (a subset of daily). biweekly: every other weekly train (subset of weekly). monthly: every fourth weekly train (subset of biweekly). on-merge: back-to-back pipeline runs every delay, aligned to land at 12:00 (a superset of daily).".into(),
        "Failure risk depends only on the number of commits in a deployment, through the logistic fit of `flowmeter risk`; the intervals cover the uncertainty of its coefficients, not which deployments happen to fail.".into(),
        "Deployments per month divide by the months between the first and last mainline arrival.".into(),
    ];
    WhatIfReport {
        changes: arrivals.len(),
        window_start,
        window_end,
        months,
        pipeline_delay_s: delay_s,
        rows,
        check,
        negative_lead_times: negative,
        assumptions,
        warnings,
    }
}

/// When each commit reached `environment`, from the `changes` table:
/// `(repo, sha) → deployed_at` (µs).
pub fn arrival_times(
    changes: &DataFrame,
    environment: &str,
) -> Result<HashMap<(String, String), i64>> {
    let t = "changes";
    let env = str_col(changes, t, "environment")?;
    let repo = str_col(changes, t, "repo")?;
    let sha = str_col(changes, t, "sha")?;
    let at = i64_col(changes, t, "deployed_at")?;
    let mut out = HashMap::new();
    for k in 0..env.len() {
        if env[k].as_deref() != Some(environment) {
            continue;
        }
        if let (Some(r), Some(s), Some(a)) = (&repo[k], &sha[k], at[k]) {
            let e = out.entry((r.clone(), s.clone())).or_insert(a);
            *e = (*e).min(a);
        }
    }
    Ok(out)
}

/// The merge commits of `commits`, `(repo, sha)`, so that they can be left out
/// of the replay: batch sizes count non-merge commits.
pub fn merge_commits(commits: &DataFrame) -> Result<HashSet<(String, String)>> {
    let t = "commits";
    let repo = str_col(commits, t, "repo")?;
    let sha = str_col(commits, t, "sha")?;
    let merge = bool_col(commits, t, "is_merge")?;
    Ok((0..sha.len())
        .filter(|k| merge[*k] == Some(true))
        .filter_map(|k| Some((repo[k].clone()?, sha[k].clone()?)))
        .collect())
}

/// The non-merge changes that reached `mainline` (from `changes`), each with
/// the time it reached `production`, if it did.
pub fn mainline_arrivals(
    changes: &DataFrame,
    commits: &DataFrame,
    mainline: &str,
    production: &str,
) -> Result<Vec<MainlineChange>> {
    let main = arrival_times(changes, mainline)?;
    let prod = arrival_times(changes, production)?;
    let merges = merge_commits(commits)?;
    let mut out: Vec<MainlineChange> = main
        .into_iter()
        .filter(|(k, _)| !merges.contains(k))
        .map(|((repo, sha), at)| {
            let shipped_at = prod.get(&(repo.clone(), sha.clone())).copied();
            MainlineChange {
                repo,
                sha,
                at,
                shipped_at,
            }
        })
        .collect();
    out.sort_by(|a, b| (a.at, &a.repo, &a.sha).cmp(&(b.at, &b.repo, &b.sha)));
    Ok(out)
}

/// The fallback when no environment precedes production: the non-merge
/// commits of each repo's default branch (`repos.default_branch`, tip from
/// `refs`), each arriving when the first-parent commit that brought it in was
/// committed. `shipped` gives production arrival times (from
/// [`arrival_times`]).
pub fn default_branch_arrivals(
    commits: &DataFrame,
    refs: &DataFrame,
    repos: &DataFrame,
    shipped: &HashMap<(String, String), i64>,
) -> Result<Vec<MainlineChange>> {
    let (rr, rb) = (
        str_col(repos, "repos", "repo")?,
        str_col(repos, "repos", "default_branch")?,
    );
    let (fr, fname, fkind, fsha) = (
        str_col(refs, "refs", "repo")?,
        str_col(refs, "refs", "name")?,
        str_col(refs, "refs", "kind")?,
        str_col(refs, "refs", "sha")?,
    );
    let t = "commits";
    let (crepo, csha, cat) = (
        str_col(commits, t, "repo")?,
        str_col(commits, t, "sha")?,
        i64_col(commits, t, "committed_at")?,
    );
    let merge = bool_col(commits, t, "is_merge")?;
    let parents_col = commits
        .column("parents")
        .map_err(|e| RiskError::Table {
            table: t.into(),
            message: e.to_string(),
        })?
        .list()
        .map_err(|e| RiskError::Table {
            table: t.into(),
            message: format!("column `parents`: {e}"),
        })?
        .clone();
    // (repo, sha) -> (committed_at, is_merge, parents)
    let mut graph: HashMap<(&str, &str), (i64, bool, Vec<String>)> = HashMap::new();
    for k in 0..parents_col.len() {
        let (Some(r), Some(s), Some(at)) = (crepo[k].as_deref(), csha[k].as_deref(), cat[k]) else {
            continue;
        };
        let ps: Vec<String> = match parents_col.get_as_series(k) {
            Some(p) => p
                .str()
                .map(|ca| ca.iter().flatten().map(str::to_string).collect())
                .unwrap_or_default(),
            None => vec![],
        };
        graph.insert((r, s), (at, merge[k] == Some(true), ps));
    }
    let mut out = vec![];
    for (repo, branch) in rr.iter().zip(&rb) {
        let (Some(repo), Some(branch)) = (repo, branch) else {
            continue;
        };
        let tip = (0..fname.len()).find(|&k| {
            fr[k].as_deref() == Some(repo.as_str())
                && fname[k].as_deref() == Some(branch.as_str())
                && fkind[k].as_deref() == Some("branch")
        });
        let Some(tip) = tip.and_then(|k| fsha[k].clone()) else {
            continue;
        };
        // The first-parent chain, oldest first.
        let mut chain = vec![];
        let mut cur = Some(tip);
        while let Some(c) = cur {
            let Some(node) = graph.get(&(repo.as_str(), c.as_str())) else {
                break;
            };
            cur = node.2.first().cloned();
            chain.push(c);
        }
        chain.reverse();
        let mut seen: HashSet<String> = HashSet::new();
        for c in chain {
            let at = graph[&(repo.as_str(), c.as_str())].0;
            let mut stack = vec![c];
            while let Some(s) = stack.pop() {
                if !seen.insert(s.clone()) {
                    continue;
                }
                let Some((_, is_merge, parents)) = graph.get(&(repo.as_str(), s.as_str())) else {
                    continue;
                };
                stack.extend(parents.iter().filter(|p| !seen.contains(*p)).cloned());
                if !is_merge {
                    let key = (repo.clone(), s.clone());
                    out.push(MainlineChange {
                        shipped_at: shipped.get(&key).copied(),
                        repo: key.0,
                        sha: key.1,
                        at,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| (a.at, &a.repo, &a.sha).cmp(&(b.at, &b.repo, &b.sha)));
    Ok(out)
}

/// Parses a duration such as `30m`, `2h`, `1d`, `90s` or `0` into µs.
pub fn parse_delay(s: &str) -> Result<i64> {
    let t = s.trim();
    let bad = || {
        RiskError::Invalid(format!(
            "bad duration {s:?}: expected a number with a unit, such as 90s, 30m, 2h or 1d"
        ))
    };
    if t == "0" {
        return Ok(0);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let mult = match unit {
        "s" => SECOND,
        "m" | "min" => 60 * SECOND,
        "h" => HOUR,
        "d" => DAY,
        "w" => WEEK,
        _ => return Err(bad()),
    };
    Ok(n * mult)
}

/// The what-if replay with one answer for every caller: `flowmeter whatif`,
/// the deck and the digest. It reads the derived tables, picks the mainline
/// (`mainline_env`, else the config's first environment), falls back to the
/// default branch's commits when that environment is production or has no
/// changes, and says which source it replayed in the first assumption.
pub fn whatif_from_store(
    store: &flowmeter_store::Store,
    config: &crate::Config,
    env: &str,
    mainline_env: Option<&str>,
    opts: &WhatIfOptions,
) -> crate::Result<WhatIfReport> {
    use flowmeter_store::{CHANGES, COMMITS, DEPLOYMENT_STATS, REFS, REPOS};
    let stats = store.read(&DEPLOYMENT_STATS)?;
    let changes = store.read(&CHANGES)?;
    let commits = store.read(&COMMITS)?;
    let deployments = crate::risk::production_deployments(&stats, env)?;
    let fit = crate::risk::risk_fit(&deployments, crate::Measure::Commits);
    // The first environment in promotion order is where changes land first.
    let mainline = mainline_env
        .map(str::to_string)
        .or_else(|| config.environments.first().map(|e| e.name.clone()));
    let mut source = String::new();
    let mut arrivals = vec![];
    if let Some(m) = mainline.as_ref().filter(|m| m.as_str() != env) {
        arrivals = mainline_arrivals(&changes, &commits, m, env)?;
        source = format!("changes reaching environment `{m}` (table `changes`)");
    }
    if arrivals.is_empty() {
        let refs = store.read(&REFS)?;
        let repos = store.read(&REPOS)?;
        let shipped = arrival_times(&changes, env)?;
        arrivals = default_branch_arrivals(&commits, &refs, &repos, &shipped)?;
        source = "non-merge commits of each repo's default branch, at the time the first-parent commit that brought them in was committed (no earlier environment than production had changes)".into();
    }
    let mut report = whatif(&arrivals, &deployments, fit.fit.as_ref(), opts);
    // Defects per week: each expected failure brings the history's incidents
    // per failed deployment (analysis::safety counts them once).
    let rows = crate::safety::safety_rows(&stats)?;
    let failed: Vec<&crate::SafetyRow> = rows
        .iter()
        .filter(|r| r.environment == env && r.failed)
        .collect();
    let incidents: i64 = failed.iter().map(|r| r.incidents).sum();
    let weeks = report.months * MONTH_DAYS / 7.0;
    let has_incidents = store.read(&flowmeter_store::INCIDENTS)?.height() > 0;
    if has_incidents && !failed.is_empty() && weeks > 0.0 {
        let per_failure = incidents as f64 / failed.len() as f64;
        let k = per_failure / weeks;
        for row in &mut report.rows {
            row.expected_defects_per_week = row.predicted_failures.map(|e| Estimate {
                value: e.value * k,
                lo: e.lo * k,
                hi: e.hi * k,
            });
        }
        report.assumptions.push(format!(
            "Defects per week: expected failed deployments × {per_failure:.2} incidents per failed deployment (the history's {incidents} over {} failures) ÷ {weeks:.1} weeks; the interval is the failures' interval scaled, so it leaves out the uncertainty of the incidents per failure.",
            failed.len()
        ));
    } else {
        report.assumptions.push(
            "Defects per week: not available (no incidents in the store, or no failed deployment to learn incidents per failure from).".into(),
        );
    }
    report
        .assumptions
        .insert(0, format!("Mainline arrivals: {source}."));
    if report.negative_lead_times > 0 {
        report.warnings.push(format!(
            "{} changes reached production before the mainline (clock skew or hotfixes): left out of the current lead times",
            report.negative_lead_times
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// µs of an RFC 3339 time.
    fn t(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    }

    #[test]
    fn release_times_by_hand() {
        let d = 30 * 60 * SECOND;
        // 2024-03-06 is a Wednesday; 2024-03-05 a Tuesday.
        let wed_0930 = t("2024-03-06T09:30:00Z");
        assert_eq!(
            release_at_or_after(Cadence::Daily, wed_0930, d),
            t("2024-03-06T12:00:00Z")
        );
        // Friday after noon -> Monday.
        assert_eq!(
            release_at_or_after(Cadence::Daily, t("2024-03-08T12:00:01Z"), d),
            t("2024-03-11T12:00:00Z")
        );
        assert_eq!(
            release_at_or_after(Cadence::Weekly, wed_0930, d),
            t("2024-03-12T12:00:00Z")
        );
        // Exactly at a train: that train.
        assert_eq!(
            release_at_or_after(Cadence::Weekly, t("2024-03-05T12:00:00Z"), d),
            t("2024-03-05T12:00:00Z")
        );
        // On-merge slots every 30 min, aligned on 12:00: 09:40 -> 10:00.
        assert_eq!(
            release_at_or_after(Cadence::OnMerge, t("2024-03-06T09:40:00Z"), d),
            t("2024-03-06T10:00:00Z")
        );
        // Biweekly and monthly trains are weekly trains, spaced 2 and 4 weeks.
        let b1 = release_at_or_after(Cadence::Biweekly, wed_0930, d);
        let b2 = release_at_or_after(Cadence::Biweekly, b1 + 1, d);
        assert_eq!(b2 - b1, 2 * WEEK);
        assert_eq!(release_at_or_after(Cadence::Weekly, b1, d), b1);
        let m1 = release_at_or_after(Cadence::Monthly, wed_0930, d);
        assert_eq!(
            release_at_or_after(Cadence::Monthly, m1 + 1, d) - m1,
            4 * WEEK
        );
        assert_eq!(release_at_or_after(Cadence::Biweekly, m1, d), m1);
        // Week 0 (1970-01-06) is a monthly train.
        assert_eq!(
            release_at_or_after(Cadence::Monthly, 0, d),
            t("1970-01-06T12:00:00Z")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_delay("30m").unwrap(), 1800 * SECOND);
        assert_eq!(parse_delay("2h").unwrap(), 7200 * SECOND);
        assert_eq!(parse_delay("0").unwrap(), 0);
        let e = parse_delay("30 minutes").unwrap_err().to_string();
        assert!(e.contains("\"30 minutes\""), "{e}");
        assert!("fortnightly".parse::<Cadence>().is_err());
        assert_eq!("on-merge".parse::<Cadence>().unwrap(), Cadence::OnMerge);
    }

    fn arrival(repo: &str, at: i64) -> MainlineChange {
        MainlineChange {
            repo: repo.into(),
            sha: format!("{repo}{at}"),
            at,
            shipped_at: None,
        }
    }

    /// A random bursty history: `n` merges over up to ~6 months in 1-3 repos.
    fn random_history(rng: &mut SplitMix64) -> Vec<MainlineChange> {
        let n = 1 + rng.index(250);
        let repos = ["api", "web", "ops"];
        let nrepos = 1 + rng.index(3);
        let start = t("2024-01-01T00:00:00Z") + (rng.uniform() * 30.0 * DAY as f64) as i64;
        let span = (rng.uniform() * 180.0 * DAY as f64) as i64 + HOUR;
        let mut out = vec![];
        let mut burst = start;
        for _ in 0..n {
            // Half the merges cluster in bursts of minutes, half spread out.
            let at = if rng.uniform() < 0.5 {
                burst + (rng.uniform() * 20.0 * 60.0 * SECOND as f64) as i64
            } else {
                burst = start + (rng.uniform() * span as f64) as i64;
                burst
            };
            out.push(arrival(repos[rng.index(nrepos)], at));
        }
        out
    }

    const DELAYS: [i64; 6] = [0, 5 * 60 * SECOND, 30 * 60 * SECOND, 2 * HOUR, DAY, 3 * DAY];

    #[test]
    fn property_lead_time_never_grows_as_cadence_gets_more_frequent() {
        let mut rng = SplitMix64::new(2024);
        for case in 0..300 {
            let arrivals = random_history(&mut rng);
            let delay = DELAYS[rng.index(DELAYS.len())];
            // From the most to the least frequent.
            let replays: Vec<Replay> = Cadence::ALL
                .iter()
                .map(|c| replay(&arrivals, *c, delay))
                .collect();
            let mut last: Option<(f64, f64)> = None;
            for (i, r) in replays.iter().enumerate() {
                for (a, s) in arrivals.iter().zip(&r.ship) {
                    assert!(*s >= a.at + delay, "case {case}: shipped before the delay");
                }
                if i > 0 {
                    // Per change, not only in the median: the policies are nested.
                    for (s_more, s_less) in replays[i - 1].ship.iter().zip(&r.ship) {
                        assert!(s_more <= s_less, "case {case} {:?}", r.cadence);
                    }
                }
                let mut leads = r.lead_hours(&arrivals);
                let (m, p90) = dist(&mut leads);
                let (m, p90) = (m.unwrap(), p90.unwrap());
                if let Some((pm, pp)) = last {
                    assert!(
                        pm <= m && pp <= p90,
                        "case {case} {:?}: median {pm} -> {m}",
                        r.cadence
                    );
                }
                last = Some((m, p90));
            }
        }
    }

    #[test]
    fn property_every_policy_ships_every_change_exactly_once() {
        let mut rng = SplitMix64::new(7);
        for case in 0..300 {
            let arrivals = random_history(&mut rng);
            let delay = DELAYS[rng.index(DELAYS.len())];
            for c in Cadence::ALL {
                let r = replay(&arrivals, c, delay);
                assert_eq!(r.ship.len(), arrivals.len());
                assert_eq!(
                    r.batches.iter().sum::<usize>(),
                    arrivals.len(),
                    "case {case} {c:?}"
                );
                assert!(r.batches.iter().all(|b| *b >= 1));
            }
            // Fewer (or as many) deployments as the cadence gets sparser.
            let n: Vec<usize> = Cadence::ALL
                .iter()
                .map(|c| replay(&arrivals, *c, delay).batches.len())
                .collect();
            assert!(n.windows(2).all(|w| w[0] >= w[1]), "case {case}: {n:?}");
        }
    }

    #[test]
    fn property_on_merge_ships_one_change_per_deployment_when_merges_do_not_collide() {
        let mut rng = SplitMix64::new(99);
        for case in 0..300 {
            let delay = DELAYS[1 + rng.index(DELAYS.len() - 1)];
            // Merges at least `delay` apart.
            let mut at = t("2024-05-01T08:00:00Z") + (rng.uniform() * DAY as f64) as i64;
            let mut arrivals = vec![];
            for _ in 0..1 + rng.index(100) {
                arrivals.push(arrival("api", at));
                at += delay + (rng.uniform() * rng.uniform() * 3.0 * DAY as f64) as i64;
            }
            let r = replay(&arrivals, Cadence::OnMerge, delay);
            assert!(
                r.batches.iter().all(|b| *b == 1),
                "case {case}: {:?}",
                r.batches
            );
            // Lead time under on-merge is less than two pipeline runs.
            for (a, s) in arrivals.iter().zip(&r.ship) {
                assert!(*s - a.at < 2 * delay);
            }
        }
        // Merges 10 minutes apart within one 30-minute run share a deployment:
        // 09:35 and 09:45 are both shipped by the run starting 10:00, landing 10:30.
        let d = 30 * 60 * SECOND;
        let r = replay(
            &[
                arrival("api", t("2024-03-06T09:35:00Z")),
                arrival("api", t("2024-03-06T09:45:00Z")),
                arrival("web", t("2024-03-06T09:45:00Z")),
            ],
            Cadence::OnMerge,
            d,
        );
        assert_eq!(r.ship, vec![t("2024-03-06T10:30:00Z"); 3]);
        assert_eq!(r.batches, vec![2, 1]); // api, web: repos deploy separately
    }

    /// Draws a Bernoulli outcome per deployment from a planted logistic model.
    fn planted(b0: f64, b1: f64, batch: usize, rng: &mut SplitMix64) -> bool {
        rng.uniform() < stats::logistic(b0 + b1 * (batch as f64).log2())
    }

    #[test]
    fn ground_truth_risk_recovers_the_planted_odds_ratio() {
        // Failure probability planted as logistic(-3 + 0.7 * log2(batch)):
        // the odds double (x e^0.7 = 2.01) with each doubling of the batch.
        let (b0, b1) = (-3.0, 0.7);
        let mut rng = SplitMix64::new(11);
        let mut covered = 0;
        let reps = 200;
        for rep in 0..reps {
            let deps: Vec<Deployment> = (0..400)
                .map(|k| {
                    let batch = 1usize << rng.index(7); // 1..64, log-uniform
                    let batch = batch + rng.index(batch); // fill in between
                    Deployment {
                        repo: "api".into(),
                        deployment_id: format!("{rep}-{k}"),
                        deployed_at: k as i64 * DAY,
                        batch_commits: batch as i64,
                        batch_lines: 10 * batch as i64,
                        failed: planted(b0, b1, batch, &mut rng),
                        recovery_s: None,
                    }
                })
                .collect();
            let fit = crate::risk::risk_fit(&deps, crate::risk::Measure::Commits);
            let (lo, hi) = (fit.ci_lo.unwrap(), fit.ci_hi.unwrap());
            if lo <= b1.exp() && b1.exp() <= hi {
                covered += 1;
            }
            if rep == 0 {
                // The first replicate, as one user would see it.
                assert!(lo <= b1.exp() && b1.exp() <= hi, "{fit:?}");
                assert!(fit.p_value.unwrap() < 0.001, "{fit:?}");
            }
        }
        eprintln!("planted odds ratio covered in {covered}/{reps} replicates");
        // A 95% interval should cover the truth in about 95% of replicates
        // (binomial sd for 200 replicates is 1.5 points).
        assert!((180..=199).contains(&covered), "coverage {covered}/{reps}");
    }

    #[test]
    fn ground_truth_whatif_predicts_the_observed_failures_of_the_real_cadence() {
        // Two years of merges shipped by a weekly train; failures planted.
        let (b0, b1) = (-3.0, 0.7);
        let delay = 30 * 60 * SECOND;
        let mut rng = SplitMix64::new(5);
        let start = t("2023-01-02T00:00:00Z");
        let mut arrivals: Vec<MainlineChange> = (0..1500)
            .map(|_| arrival("api", start + (rng.uniform() * 730.0 * DAY as f64) as i64))
            .collect();
        arrivals.sort_by_key(|a| a.at);
        let weekly = replay(&arrivals, Cadence::Weekly, delay);
        for (a, s) in arrivals.iter_mut().zip(&weekly.ship) {
            a.shipped_at = Some(*s);
        }
        let mut releases: Vec<i64> = weekly.ship.clone();
        releases.sort();
        releases.dedup();
        let deployments: Vec<Deployment> = releases
            .iter()
            .zip(&weekly.batches)
            .enumerate()
            .map(|(k, (at, batch))| Deployment {
                repo: "api".into(),
                deployment_id: format!("w{k}"),
                deployed_at: *at,
                batch_commits: *batch as i64,
                batch_lines: 0,
                failed: planted(b0, b1, *batch, &mut rng),
                recovery_s: None,
            })
            .collect();
        let observed = deployments.iter().filter(|d| d.failed).count();
        let fit = crate::risk::risk_fit(&deployments, crate::risk::Measure::Commits);
        let fit = fit.fit.expect("fits");
        let report = whatif(
            &arrivals,
            &deployments,
            Some(&fit),
            &WhatIfOptions::default(),
        );
        let current = &report.rows[0];
        assert_eq!(current.policy, "current");
        assert_eq!(current.observed_failures, Some(observed));
        let check = report.check.as_ref().unwrap();
        assert!(check.consistent, "{check:?}");
        assert!((check.predicted_failures - observed as f64).abs() < 1e-6);
        // The weekly replay is the real cadence: same batches, same prediction.
        let weekly_row = report.rows.iter().find(|r| r.policy == "weekly").unwrap();
        assert_eq!(weekly_row.deployments, deployments.len());
        let (pc, pw) = (
            current.predicted_failures.unwrap(),
            weekly_row.predicted_failures.unwrap(),
        );
        assert!((pc.value - pw.value).abs() < 1e-9);
        assert_eq!(current.lead_time_median_h, weekly_row.lead_time_median_h);
        // The truth (expected failures under the planted model) is inside the
        // prediction's interval for every policy.
        for c in Cadence::ALL {
            let r = replay(&arrivals, c, delay);
            let truth: f64 = r
                .batches
                .iter()
                .map(|b| stats::logistic(b0 + b1 * (*b as f64).log2()))
                .sum();
            let row = report.rows.iter().find(|x| x.policy == c.name()).unwrap();
            let p = row.predicted_failures.unwrap();
            assert!(
                p.lo <= truth && truth <= p.hi,
                "{c:?}: truth {truth}, {p:?}"
            );
        }
        // On-merge batches (1-2 changes) lie far below the weekly batches the
        // model was fitted on: flagged as extrapolation. Weekly is not.
        let on_merge = report.rows.iter().find(|r| r.policy == "on-merge").unwrap();
        assert!(on_merge.extrapolated_share.unwrap() > 0.9, "{on_merge:?}");
        assert!(weekly_row.extrapolated_share.unwrap() <= 0.1 + 1e-9);
        assert!(report
            .warnings
            .iter()
            .any(|w| w.starts_with("on-merge: ") && w.contains("extrapolation")));
        assert!(!report.warnings.iter().any(|w| w.starts_with("weekly: ")));
        // Same seed, same report.
        assert_eq!(
            report,
            whatif(
                &arrivals,
                &deployments,
                Some(&fit),
                &WhatIfOptions::default()
            )
        );
    }
}

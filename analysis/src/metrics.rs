//! The DORA metrics per period, from the derived tables.
//!
//! [`metrics`] returns one [`PeriodMetrics`] per period (and a final `all`
//! row), the same rows as a polars frame, and a [`MetricsSummary`] that names
//! the definitions, environments and tier table used. The monthly report
//! calls it too.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate};
use flowmeter_store::{Store, CHANGES, DEPLOYMENT_STATS, PULL_REQUESTS};
use polars::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::error::{polars_err, Error, Result};
use crate::frame::Cols;
use crate::quickcheck::{self, Benchmarks, Measured, Population, PopulationData, QuickCheck};
use crate::safety::{safety_net, safety_rows, NetOptions, SafetyRow};
use crate::stats::quantile;
use crate::tiers;

/// Periods with fewer deployments than this are marked low-confidence.
pub const LOW_CONFIDENCE_BELOW: i64 = 10;

/// The period length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Week,
    Month,
    Quarter,
}

/// What to compute over.
#[derive(Debug, Clone)]
pub struct MetricsOptions {
    /// Environments (default: the production ones).
    pub envs: Vec<String>,
    /// Inclusive start day.
    pub since: Option<NaiveDate>,
    /// Inclusive end day.
    pub until: Option<NaiveDate>,
    pub by: By,
    pub repo: Option<String>,
    /// Benchmark year (default: the config's): 2023 or 2024 tiers, 2025 scores.
    pub tiers: Option<u16>,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions {
            envs: vec![],
            since: None,
            until: None,
            by: By::Month,
            repo: None,
            tiers: None,
        }
    }
}

/// One period's metrics. Times are hours; rates are fractions.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct PeriodMetrics {
    pub period: String,
    pub start: String,
    pub days: i64,
    pub deployments: i64,
    pub deploy_days: i64,
    pub deploy_days_per_week: f64,
    pub frequency: String,
    pub lead_time_median_h: Option<f64>,
    pub lead_time_p75_h: Option<f64>,
    pub lead_time_p90_h: Option<f64>,
    pub failed: i64,
    pub change_fail_rate: Option<f64>,
    pub recovery_median_h: Option<f64>,
    pub rework: i64,
    pub rework_rate: Option<f64>,
    pub batch_commits_median: Option<f64>,
    pub batch_commits_p90: Option<f64>,
    pub batch_prs_median: Option<f64>,
    pub batch_prs_p90: Option<f64>,
    pub batch_lines_median: Option<f64>,
    pub batch_lines_p90: Option<f64>,
    pub changes: i64,
    pub clock_skew: i64,
    pub baseline_commits: i64,
    pub low_confidence: bool,
    pub tier_deploy_frequency: Option<String>,
    pub tier_lead_time: Option<String>,
    pub tier_change_fail_rate: Option<String>,
    pub tier_recovery: Option<String>,
    /// 2025: the dora.dev Quick Check scores (0–10) beside the population's
    /// mean ± sd; `None` for 2023 and 2024, whose tiers are above.
    pub quick_check: Option<QuickCheck>,
    pub prs: i64,
    pub coding_median_h: Option<f64>,
    pub pickup_median_h: Option<f64>,
    pub review_median_h: Option<f64>,
    pub waiting_median_h: Option<f64>,
    pub pr_anomalies: i64,
    /// The safety net (see [`crate::safety`]): deployment → first failure
    /// signal, and that signal → recovery, of failed deployments.
    pub time_to_detect_median_h: Option<f64>,
    pub time_to_detect_p90_h: Option<f64>,
    pub time_to_restore_median_h: Option<f64>,
    pub time_to_restore_p90_h: Option<f64>,
    /// Rollback and revert deployments, and those of them that were automated.
    pub rollbacks: i64,
    pub automated_rollbacks: i64,
    pub automated_rollback_share: Option<f64>,
    /// Incidents linked to a deployment, per deployment.
    pub incidents: i64,
    pub defects_per_deployment: Option<f64>,
    /// Deployments shipped with green tests, of all.
    pub tests_green: i64,
    pub tests_green_share: Option<f64>,
}

/// What the numbers mean and where they came from.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsSummary {
    pub environments: Vec<String>,
    pub repo: Option<String>,
    pub by: By,
    pub tiers_year: u16,
    /// 2025: where the Quick Check benchmarks come from and what they are.
    pub benchmarks: Option<QuickCheckSource>,
    pub lead_time_start: &'static str,
    pub low_confidence_below: i64,
    pub has_pull_requests: bool,
    pub config: String,
    pub definitions: Vec<(&'static str, &'static str)>,
}

/// The 2025 benchmarks a run compared with, and their source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuickCheckSource {
    pub population: Population,
    /// The benchmarks (transformed so 10 is best), population name included.
    pub benchmarks: Benchmarks,
    /// `dora-team/dora.dev@<commit> (<date>)`.
    pub source: String,
    /// The benchmark file and the scoring code in that repository.
    pub files: Vec<&'static str>,
}

impl QuickCheckSource {
    /// The source of `population`'s benchmarks.
    pub fn of(population: &Population) -> QuickCheckSource {
        QuickCheckSource {
            population: population.clone(),
            benchmarks: population.benchmarks(),
            source: format!(
                "{}@{} ({})",
                quickcheck::SOURCE_REPO,
                quickcheck::SOURCE_COMMIT,
                quickcheck::SOURCE_DATE
            ),
            files: vec![population.file(), quickcheck::SOURCE_CODE],
        }
    }
}

/// The columns of the 2025 scores in the metrics frame, with the metric each scores.
pub const SCORE_COLUMNS: &[(&str, &str)] = &[
    ("score_lead_time", "lead_time"),
    ("score_deploy_frequency", "deploy_frequency"),
    ("score_recovery", "recovery"),
    ("score_change_fail_rate", "change_fail_rate"),
    ("score_rework_rate", "rework_rate"),
    ("score_overall", "overall"),
];

/// The result: rows, the same as a frame, and the summary.
#[derive(Debug, Clone)]
pub struct Metrics {
    pub periods: Vec<PeriodMetrics>,
    pub frame: DataFrame,
    pub summary: MetricsSummary,
}

impl Metrics {
    /// The per-period frame as a lazy frame, for further polars work.
    pub fn lazy(&self) -> LazyFrame {
        self.frame.clone().lazy()
    }
}

/// The definitions every report states.
pub const DEFINITIONS: &[(&str, &str)] = &[
    ("deployments", "deployments to the selected environments whose deployed_at falls in the period"),
    ("deploy_days_per_week", "distinct UTC days with a successful deployment (own status not failure or error) / (days in period / 7); daily >= 3, weekly >= 1, monthly >= 12/52 (Four Keys)"),
    ("lead_time", "deployed_at - authored_at (or committed_at) of each non-merge, non-baseline commit first shipped in the period; median, p75, p90 by linear interpolation; negative spans are clock_skew and excluded"),
    ("change_fail_rate", "failed deployments / deployments; a deployment fails when any enabled signal fires (failure_reasons)"),
    ("recovery", "median recovery_s of failed deployments: to the linked incident's resolved_at, else to the next deployment there that did not fail"),
    ("rework_rate", "hotfix, rollback and revert deployments / deployments"),
    ("batch", "per non-baseline deployment: non-merge commits, PRs, lines added + deleted; median and p90"),
    ("time_to_detect", "of failed deployments: deployed_at -> the first failure signal at or after it (incident opened, failing status, revert authored, rollback or hotfix deployed); median and p90"),
    ("time_to_restore", "of failed deployments: the first failure signal -> recovered_at; median and p90"),
    ("automated_rollback_share", "rollback and revert deployments that were automated (the deploy log's trigger, an actor in [rollback] automated_actors, or within [rollback] automated_within of the detection) / all of them"),
    ("defects_per_deployment", "incidents linked to a deployment by a failure signal / deployments"),
    ("tests_green_share", "deployments whose tests passed on what they shipped / deployments (unknown counts as not green)"),
    ("benchmarks_2025", "dora.dev Quick Check score 0-10 per metric (10 best), beside the 2025 population mean +/- sd: lead time and recovery medians as answers <1h, <1d, <1w, <30d, <180d, more; deploy frequency on demand when >= 3 deploy days/week with >= 2 deployments per deploy day, daily at >= 3, weekly >= 1, monthly >= 12/52, six-monthly >= 2/52; rates as whole percents; score = (answer-1)/5*10 or 10 - percent/10"),
    ("pr_breakdown", "per PR first deployed in the period: coding = first commit -> opened, pickup = opened -> first review, review = first review -> merged, waiting = merged -> deployed"),
];

fn micros_to_date(t: i64) -> NaiveDate {
    DateTime::from_timestamp_micros(t)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// The period containing `d`: (key, first day, first day of the next period).
pub fn period_of(d: NaiveDate, by: By) -> (String, NaiveDate, NaiveDate) {
    match by {
        By::Week => {
            let start = d - Duration::days(d.weekday().num_days_from_monday() as i64);
            let iso = start.iso_week();
            (
                format!("{}-W{:02}", iso.year(), iso.week()),
                start,
                start + Duration::days(7),
            )
        }
        By::Month => {
            let start = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid");
            let next = if d.month() == 12 {
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
            }
            .expect("valid");
            (format!("{}-{:02}", d.year(), d.month()), start, next)
        }
        By::Quarter => {
            let q = (d.month() - 1) / 3;
            let start = NaiveDate::from_ymd_opt(d.year(), q * 3 + 1, 1).expect("valid");
            let next = if q == 3 {
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(d.year(), q * 3 + 4, 1)
            }
            .expect("valid");
            (format!("{}-Q{}", d.year(), q + 1), start, next)
        }
    }
}

#[derive(Default)]
struct Bucket {
    deployments: i64,
    days: BTreeSet<NaiveDate>,
    failed: i64,
    rework: i64,
    recovery: Vec<f64>,
    batch_commits: Vec<f64>,
    batch_prs: Vec<f64>,
    batch_lines: Vec<f64>,
    baseline: i64,
    lead: Vec<f64>,
    changes: i64,
    clock_skew: i64,
    coding: Vec<f64>,
    pickup: Vec<f64>,
    review: Vec<f64>,
    waiting: Vec<f64>,
    prs: i64,
    pr_anomalies: i64,
    safety: Vec<SafetyRow>,
}

impl Bucket {
    fn absorb(&mut self, o: &Bucket) {
        self.deployments += o.deployments;
        self.days.extend(o.days.iter().copied());
        self.failed += o.failed;
        self.rework += o.rework;
        for (a, b) in [
            (&mut self.recovery, &o.recovery),
            (&mut self.batch_commits, &o.batch_commits),
            (&mut self.batch_prs, &o.batch_prs),
            (&mut self.batch_lines, &o.batch_lines),
            (&mut self.lead, &o.lead),
            (&mut self.coding, &o.coding),
            (&mut self.pickup, &o.pickup),
            (&mut self.review, &o.review),
            (&mut self.waiting, &o.waiting),
        ] {
            a.extend_from_slice(b);
        }
        self.baseline += o.baseline;
        self.changes += o.changes;
        self.clock_skew += o.clock_skew;
        self.prs += o.prs;
        self.pr_anomalies += o.pr_anomalies;
        self.safety.extend(o.safety.iter().cloned());
    }

    fn finish(
        &self,
        period: String,
        start: NaiveDate,
        days: i64,
        year: u16,
        population: &Population,
    ) -> PeriodMetrics {
        let h = |v: Option<f64>| v.map(|x| x / 3600.0);
        let rate = |n: i64| (self.deployments > 0).then(|| n as f64 / self.deployments as f64);
        let per_week = if days > 0 {
            self.days.len() as f64 / (days as f64 / 7.0)
        } else {
            0.0
        };
        let frequency = if per_week >= 3.0 {
            "daily"
        } else if per_week >= 1.0 {
            "weekly"
        } else if per_week >= 12.0 / 52.0 {
            "monthly"
        } else if self.deployments > 0 {
            "less than monthly"
        } else {
            "none"
        };
        let lead_median = h(quantile(&self.lead, 0.5));
        let cfr = rate(self.failed);
        let recovery = h(quantile(&self.recovery, 0.5));
        let net = safety_net(
            &self.safety,
            NetOptions {
                weighted: false,
                bootstrap: false,
            },
        );
        let rework_rate = rate(self.rework);
        // 2025 has no tiers: the Quick Check scores instead, never a label.
        let tiered = year != quickcheck::YEAR;
        let tier = |metric: &str, v: Option<f64>| {
            tiered
                .then(|| tiers::tier(year, metric, v))
                .flatten()
                .map(str::to_string)
        };
        let quick_check = (!tiered).then(|| {
            quickcheck::quick_check(
                &Measured {
                    lead_time_h: lead_median,
                    deploy_days_per_week: per_week,
                    deployments: self.deployments,
                    deploy_days: self.days.len() as i64,
                    recovery_h: recovery,
                    change_fail_rate: cfr,
                    rework_rate,
                },
                population,
            )
        });
        PeriodMetrics {
            time_to_detect_median_h: net.time_to_detect.median_h,
            time_to_detect_p90_h: net.time_to_detect.p90_h,
            time_to_restore_median_h: net.time_to_restore.median_h,
            time_to_restore_p90_h: net.time_to_restore.p90_h,
            rollbacks: net.rollbacks.automated.n as i64,
            automated_rollbacks: net.rollbacks.automated.k as i64,
            automated_rollback_share: net.rollbacks.automated.value,
            incidents: net.defects.incidents,
            defects_per_deployment: net.defects.per_deployment,
            tests_green: net.tests.green.k as i64,
            tests_green_share: net.tests.green.value,
            period,
            start: start.to_string(),
            days,
            deployments: self.deployments,
            deploy_days: self.days.len() as i64,
            deploy_days_per_week: per_week,
            frequency: frequency.into(),
            lead_time_median_h: lead_median,
            lead_time_p75_h: h(quantile(&self.lead, 0.75)),
            lead_time_p90_h: h(quantile(&self.lead, 0.9)),
            failed: self.failed,
            change_fail_rate: cfr,
            recovery_median_h: recovery,
            rework: self.rework,
            rework_rate,
            batch_commits_median: quantile(&self.batch_commits, 0.5),
            batch_commits_p90: quantile(&self.batch_commits, 0.9),
            batch_prs_median: quantile(&self.batch_prs, 0.5),
            batch_prs_p90: quantile(&self.batch_prs, 0.9),
            batch_lines_median: quantile(&self.batch_lines, 0.5),
            batch_lines_p90: quantile(&self.batch_lines, 0.9),
            changes: self.changes,
            clock_skew: self.clock_skew,
            baseline_commits: self.baseline,
            low_confidence: self.deployments < LOW_CONFIDENCE_BELOW,
            tier_deploy_frequency: tier(
                "deploy_frequency",
                (self.deployments > 0).then_some(per_week),
            ),
            tier_lead_time: tier("lead_time", lead_median),
            tier_change_fail_rate: tier("change_fail_rate", cfr),
            tier_recovery: tier("recovery", recovery),
            quick_check,
            prs: self.prs,
            coding_median_h: h(quantile(&self.coding, 0.5)),
            pickup_median_h: h(quantile(&self.pickup, 0.5)),
            review_median_h: h(quantile(&self.review, 0.5)),
            waiting_median_h: h(quantile(&self.waiting, 0.5)),
            pr_anomalies: self.pr_anomalies,
        }
    }
}

/// Computes the metrics from the derived tables (run the analysis first).
pub fn metrics(store: &Store, config: &Config, opts: &MetricsOptions) -> Result<Metrics> {
    let envs: Vec<String> = if opts.envs.is_empty() {
        config.production_envs()
    } else {
        opts.envs.clone()
    };
    for e in &envs {
        if config.environment(e).is_none() {
            let known: Vec<_> = config
                .environments
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            return Err(Error::NotFound {
                what: "environment",
                id: e.clone(),
                hint: format!(" in the config; known: {}", known.join(", ")),
            });
        }
    }
    let year = opts.tiers.unwrap_or(config.tiers);
    if !crate::config::benchmark_years().contains(&year) {
        return Err(Error::Invalid(format!(
            "no benchmarks for {year}; known years: {:?}",
            crate::config::benchmark_years()
        )));
    }
    let population = &config.population;
    let lo = opts.since.map(|d| {
        d.and_hms_opt(0, 0, 0)
            .expect("valid")
            .and_utc()
            .timestamp_micros()
    });
    let hi = opts.until.map(|d| {
        (d + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .expect("valid")
            .and_utc()
            .timestamp_micros()
    });
    let keep = |repo: &Option<String>, env: &Option<String>, at: Option<i64>| -> Option<i64> {
        let at = at?;
        if !env.as_ref().is_some_and(|e| envs.contains(e)) {
            return None;
        }
        if opts.repo.as_ref().is_some_and(|r| repo.as_ref() != Some(r)) {
            return None;
        }
        if lo.is_some_and(|l| at < l) || hi.is_some_and(|h| at >= h) {
            return None;
        }
        Some(at)
    };
    let mut buckets: BTreeMap<NaiveDate, (String, NaiveDate, Bucket)> = BTreeMap::new();
    let by = opts.by;
    fn get(
        buckets: &mut BTreeMap<NaiveDate, (String, NaiveDate, Bucket)>,
        by: By,
        at: i64,
    ) -> &mut Bucket {
        let (key, start, next) = period_of(micros_to_date(at), by);
        &mut buckets
            .entry(start)
            .or_insert_with(|| (key, next, Bucket::default()))
            .2
    }

    let df = store.read(&DEPLOYMENT_STATS)?;
    let c = Cols::new(&df, "deployment_stats");
    let (repo, env, at) = (c.str("repo")?, c.str("environment")?, c.int("deployed_at")?);
    let (failed, rework, rec) = (
        c.bool("failed")?,
        c.bool("is_rework")?,
        c.int("recovery_s")?,
    );
    let (bc, bp, ba, bd) = (
        c.int("batch_commits")?,
        c.int("batch_prs")?,
        c.int("batch_additions")?,
        c.int("batch_deletions")?,
    );
    let (is_base, base_n) = (c.bool("is_baseline")?, c.int("baseline_commits")?);
    let status = c.str("status")?;
    let safety = safety_rows(&df)?;
    for i in 0..df.height() {
        let Some(t) = keep(&repo[i], &env[i], at[i]) else {
            continue;
        };
        let b = get(&mut buckets, by, t);
        b.deployments += 1;
        b.safety.push(safety[i].clone());
        // Frequency counts successful deployments (dora.dev, Four Keys); a
        // deployment whose own status failed still counts in the fail rate.
        if !matches!(status[i].as_deref(), Some("failure") | Some("error")) {
            b.days.insert(micros_to_date(t));
        }
        if failed[i] == Some(true) {
            b.failed += 1;
            if let Some(r) = rec[i] {
                b.recovery.push(r as f64);
            }
        }
        if rework[i] == Some(true) {
            b.rework += 1;
        }
        b.baseline += base_n[i].unwrap_or(0);
        if is_base[i] != Some(true) {
            b.batch_commits.push(bc[i].unwrap_or(0) as f64);
            b.batch_prs.push(bp[i].unwrap_or(0) as f64);
            b.batch_lines
                .push((ba[i].unwrap_or(0) + bd[i].unwrap_or(0)) as f64);
        }
    }

    let df = store.read(&CHANGES)?;
    let c = Cols::new(&df, "changes");
    let (repo, env, at) = (c.str("repo")?, c.str("environment")?, c.int("deployed_at")?);
    let (lead, base, anomaly, merge, pr) = (
        c.int("lead_time_s")?,
        c.bool("is_baseline")?,
        c.str("anomaly")?,
        c.bool("is_merge")?,
        c.int("pr_number")?,
    );
    // Per (repo, env, pr): first deployment time.
    let mut pr_first: BTreeMap<(String, String, i64), i64> = BTreeMap::new();
    for i in 0..df.height() {
        let sample = lead_sample(base[i], merge[i], lead[i], anomaly[i].as_deref());
        if sample == LeadSample::NotCounted {
            if let (Some(p), Some(t)) = (pr[i], keep(&repo[i], &env[i], at[i])) {
                let k = (
                    repo[i].clone().unwrap_or_default(),
                    env[i].clone().unwrap_or_default(),
                    p,
                );
                let e = pr_first.entry(k).or_insert(t);
                *e = (*e).min(t);
            }
            continue;
        }
        let Some(t) = keep(&repo[i], &env[i], at[i]) else {
            continue;
        };
        if let Some(p) = pr[i] {
            let k = (
                repo[i].clone().unwrap_or_default(),
                env[i].clone().unwrap_or_default(),
                p,
            );
            let e = pr_first.entry(k).or_insert(t);
            *e = (*e).min(t);
        }
        let b = get(&mut buckets, by, t);
        b.changes += 1;
        match sample {
            LeadSample::Valid(l) => b.lead.push(l as f64),
            LeadSample::ClockSkew => b.clock_skew += 1,
            LeadSample::Unknown | LeadSample::NotCounted => {}
        }
    }

    let prs_df = store.read(&PULL_REQUESTS)?;
    let has_prs = prs_df.height() > 0;
    if has_prs && !pr_first.is_empty() {
        let c = Cols::new(&prs_df, "pull_requests");
        let (repo, num, created, merged, fc, fr) = (
            c.str("repo")?,
            c.int("number")?,
            c.int("created_at")?,
            c.int("merged_at")?,
            c.int("first_commit_at")?,
            c.int("first_review_at")?,
        );
        let mut by_key = BTreeMap::new();
        for i in 0..prs_df.height() {
            if let (Some(r), Some(n)) = (&repo[i], num[i]) {
                by_key.insert((r.clone(), n), i);
            }
        }
        for ((r, _env, n), t) in &pr_first {
            let Some(&i) = by_key.get(&(r.clone(), *n)) else {
                continue;
            };
            let b = get(&mut buckets, by, *t);
            b.prs += 1;
            let span = |a: Option<i64>, z: Option<i64>, out: &mut Vec<f64>, bad: &mut i64| {
                if let (Some(a), Some(z)) = (a, z) {
                    let s = (z - a) / 1_000_000;
                    if s < 0 {
                        *bad += 1;
                    } else {
                        out.push(s as f64);
                    }
                }
            };
            let mut bad = 0;
            span(fc[i], created[i], &mut b.coding, &mut bad);
            span(created[i], fr[i], &mut b.pickup, &mut bad);
            span(fr[i], merged[i], &mut b.review, &mut bad);
            span(merged[i], Some(*t), &mut b.waiting, &mut bad);
            b.pr_anomalies += bad;
        }
    }

    // Every period from the first to the last, empty ones included.
    let mut periods = vec![];
    let mut total = Bucket::default();
    let mut total_days = 0;
    if let (Some(first), Some(last)) = (
        buckets.keys().next().copied(),
        buckets.keys().last().copied(),
    ) {
        let mut d = first;
        while d <= last {
            let (key, start, next) = period_of(d, opts.by);
            // A period cut by --since/--until counts only its days in range.
            let from = opts.since.map_or(start, |s| s.max(start));
            let to = opts
                .until
                .map_or(next, |u| (u + Duration::days(1)).min(next));
            let days = (to - from).num_days().max(0);
            let empty = Bucket::default();
            let b = buckets.get(&start).map(|x| &x.2).unwrap_or(&empty);
            periods.push(b.finish(key, start, days, year, population));
            total.absorb(b);
            total_days += days;
            d = next;
        }
        periods.push(total.finish("all".into(), first, total_days, year, population));
    }
    let frame = frame_of(&periods, has_prs, year == quickcheck::YEAR)?;
    Ok(Metrics {
        periods,
        frame,
        summary: MetricsSummary {
            environments: envs,
            repo: opts.repo.clone(),
            by: opts.by,
            tiers_year: year,
            benchmarks: (year == quickcheck::YEAR).then(|| QuickCheckSource::of(population)),
            lead_time_start: config.lead_time_start.as_str(),
            low_confidence_below: LOW_CONFIDENCE_BELOW,
            has_pull_requests: has_prs,
            config: config.describe(),
            // The 2025 mapping only where 2025 scores are shown.
            definitions: DEFINITIONS
                .iter()
                .filter(|(m, _)| (*m == "benchmarks_2025") == (year == quickcheck::YEAR))
                .copied()
                .collect(),
        },
    })
}

fn frame_of(rows: &[PeriodMetrics], with_prs: bool, scored: bool) -> Result<DataFrame> {
    let s = |f: fn(&PeriodMetrics) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let i = |f: fn(&PeriodMetrics) -> i64| rows.iter().map(f).collect::<Vec<_>>();
    let o = |f: fn(&PeriodMetrics) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    let t = |f: fn(&PeriodMetrics) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let mut df = df!(
        "period" => s(|r| r.period.clone()),
        "start" => s(|r| r.start.clone()),
        "deployments" => i(|r| r.deployments),
        "deploy_days" => i(|r| r.deploy_days),
        "deploy_days_per_week" => rows.iter().map(|r| r.deploy_days_per_week).collect::<Vec<_>>(),
        "frequency" => s(|r| r.frequency.clone()),
        "lead_time_median_h" => o(|r| r.lead_time_median_h),
        "lead_time_p75_h" => o(|r| r.lead_time_p75_h),
        "lead_time_p90_h" => o(|r| r.lead_time_p90_h),
        "failed" => i(|r| r.failed),
        "change_fail_rate" => o(|r| r.change_fail_rate),
        "recovery_median_h" => o(|r| r.recovery_median_h),
        "rework" => i(|r| r.rework),
        "rework_rate" => o(|r| r.rework_rate),
        "batch_commits_median" => o(|r| r.batch_commits_median),
        "batch_commits_p90" => o(|r| r.batch_commits_p90),
        "batch_prs_median" => o(|r| r.batch_prs_median),
        "batch_prs_p90" => o(|r| r.batch_prs_p90),
        "batch_lines_median" => o(|r| r.batch_lines_median),
        "batch_lines_p90" => o(|r| r.batch_lines_p90),
        "changes" => i(|r| r.changes),
        "clock_skew" => i(|r| r.clock_skew),
        "baseline_commits" => i(|r| r.baseline_commits),
        "low_confidence" => rows.iter().map(|r| r.low_confidence).collect::<Vec<_>>(),
        "time_to_detect_median_h" => o(|r| r.time_to_detect_median_h),
        "time_to_detect_p90_h" => o(|r| r.time_to_detect_p90_h),
        "time_to_restore_median_h" => o(|r| r.time_to_restore_median_h),
        "time_to_restore_p90_h" => o(|r| r.time_to_restore_p90_h),
        "rollbacks" => i(|r| r.rollbacks),
        "automated_rollbacks" => i(|r| r.automated_rollbacks),
        "automated_rollback_share" => o(|r| r.automated_rollback_share),
        "incidents" => i(|r| r.incidents),
        "defects_per_deployment" => o(|r| r.defects_per_deployment),
        "tests_green" => i(|r| r.tests_green),
        "tests_green_share" => o(|r| r.tests_green_share),
    )
    .map_err(polars_err("building metrics"))?;
    // 2023/2024: the tier labels; 2025: the Quick Check scores, no label.
    let bench = if scored {
        let cols: Vec<Column> = SCORE_COLUMNS
            .iter()
            .map(|(name, metric)| {
                let v: Vec<Option<f64>> = rows
                    .iter()
                    .map(|r| {
                        let q = r.quick_check.as_ref()?;
                        match *metric {
                            "overall" => q.overall,
                            m => q.get(m).map(|s| s.score),
                        }
                    })
                    .collect();
                Column::new((*name).into(), v)
            })
            .collect();
        DataFrame::new(rows.len(), cols)
    } else {
        df!(
            "tier_deploy_frequency" => t(|r| r.tier_deploy_frequency.clone()),
            "tier_lead_time" => t(|r| r.tier_lead_time.clone()),
            "tier_change_fail_rate" => t(|r| r.tier_change_fail_rate.clone()),
            "tier_recovery" => t(|r| r.tier_recovery.clone()),
        )
    }
    .map_err(polars_err("building metrics"))?;
    df = df
        .hstack(bench.columns())
        .map_err(polars_err("building metrics"))?;
    if with_prs {
        let extra = df!(
            "prs" => i(|r| r.prs),
            "coding_median_h" => o(|r| r.coding_median_h),
            "pickup_median_h" => o(|r| r.pickup_median_h),
            "review_median_h" => o(|r| r.review_median_h),
            "waiting_median_h" => o(|r| r.waiting_median_h),
            "pr_anomalies" => i(|r| r.pr_anomalies),
        )
        .map_err(polars_err("building metrics"))?;
        df = df
            .hstack(extra.columns())
            .map_err(polars_err("building metrics"))?;
    }
    Ok(df)
}

/// How one `changes` row counts toward lead time, the one rule every reader
/// of `changes` uses (DESIGN.md): baselines and merge commits are not
/// changes; a negative span, or one `analyze` marked `clock_skew`, is counted
/// apart and never clamped to zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeadSample {
    /// A baseline or merge commit: not a change.
    NotCounted,
    /// A change with its lead time in seconds (zero or more).
    Valid(i64),
    /// A change whose lead time is negative: clock skew.
    ClockSkew,
    /// A change without a lead time (its start time is unknown).
    Unknown,
}

pub(crate) fn lead_sample(
    is_baseline: Option<bool>,
    is_merge: Option<bool>,
    lead_s: Option<i64>,
    anomaly: Option<&str>,
) -> LeadSample {
    if is_baseline == Some(true) || is_merge == Some(true) {
        return LeadSample::NotCounted;
    }
    match lead_s {
        Some(l) if l < 0 => LeadSample::ClockSkew,
        _ if anomaly == Some("clock_skew") => LeadSample::ClockSkew,
        Some(l) => LeadSample::Valid(l),
        None => LeadSample::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lead_time_rule_for_every_reader() {
        use LeadSample::*;
        assert_eq!(lead_sample(Some(true), None, Some(60), None), NotCounted);
        assert_eq!(lead_sample(None, Some(true), Some(60), None), NotCounted);
        assert_eq!(
            lead_sample(Some(false), Some(false), Some(60), None),
            Valid(60)
        );
        assert_eq!(lead_sample(None, None, Some(0), None), Valid(0));
        // A negative span is clock skew whether or not analyze marked it.
        assert_eq!(lead_sample(None, None, Some(-5), None), ClockSkew);
        assert_eq!(lead_sample(None, None, None, Some("clock_skew")), ClockSkew);
        assert_eq!(lead_sample(None, None, None, None), Unknown);
    }

    #[test]
    fn quantiles_interpolate() {
        // sorted 1 2 3 4: median at 1.5 -> 2.5; p90 at 2.7 -> 3.7
        assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        assert!((quantile(&[4.0, 1.0, 3.0, 2.0], 0.9).unwrap() - 3.7).abs() < 1e-9);
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn periods() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 6).unwrap();
        assert_eq!(period_of(d, By::Week).0, "2024-W10");
        assert_eq!(
            period_of(d, By::Week).1,
            NaiveDate::from_ymd_opt(2024, 3, 4).unwrap()
        );
        assert_eq!(period_of(d, By::Month).0, "2024-03");
        let (k, s, n) = period_of(d, By::Quarter);
        assert_eq!(
            (k.as_str(), s.to_string(), n.to_string()),
            ("2024-Q1", "2024-01-01".into(), "2024-04-01".into())
        );
    }
}

//! The digest: every number behind the monthly report and the deck, computed
//! once here from the derived tables (`deployment_stats`, `changes`, the
//! commits' summaries and the PR titles) and from [`metrics`](crate::metrics),
//! [`risk_report`](crate::risk_report), [`flow_report`](crate::flow_report) and
//! [`whatif_from_store`](crate::whatif_from_store). It holds numbers, tiers,
//! the largest and failed deployments and the flow findings as data; the
//! `reports` crate turns it into words and pictures, and `report`, `demo` and
//! `summary.json` all read it.
//!
//! ```
//! use flowmeter_analysis::digest::Month;
//!
//! let m = Month::parse("2026-01")?;
//! assert_eq!(m.prev().label(), "2025-12");
//! assert!(Month::parse("2026-13").is_err());
//! # Ok::<(), flowmeter_analysis::Error>(())
//! ```

mod before_after;
mod flow;
mod series;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use flowmeter_store::{Store, CHANGES, COMMITS, DEPLOYMENT_STATS, INCIDENTS, PULL_REQUESTS};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::frame::Cols;
use crate::metrics::{lead_sample, LeadSample};
use crate::quickcheck::{self, Population, QuickCheck};
use crate::safety::{net_section, safety_rows, NetSection, SafetyRow};
use crate::tiers::{self, Tier, TierBand, TierLimit};
use crate::QuickCheckSource;
use crate::{stats, By, Config, Measure, MetricsOptions, Period, PeriodMetrics};

pub use before_after::{
    periods_around, BeforeAfter, BeforeAfterRow, PeriodSpan, Verdict, BEFORE_AFTER_METRICS,
};
pub use flow::{Example, Finding, FlowDigest, Why, MISALIGNMENT_ORDER};
pub use series::{
    BatchBucket, BatchPoint, DriftPoint, DriftSeries, FailMonth, HistogramBin, LeadTimeHistogram,
    LeadTimeMonth, RecoveryPoint, StagePeriod, TrainWait, WeekCount, WhatIfLeadTime, WhatIfPolicy,
};

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

impl Month {
    /// A month from `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Month> {
        NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
            .map(Month::of)
            .map_err(|_| Error::Invalid(format!("invalid --month {s:?}: expected YYYY-MM")))
    }
    /// The month holding a day.
    pub fn of(d: NaiveDate) -> Month {
        Month {
            year: d.year(),
            month: d.month(),
        }
    }
    /// Its first day.
    pub fn start(self) -> NaiveDate {
        // Always valid: a Month is only made from a date.
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }
    pub fn prev(self) -> Month {
        Month::of(self.start() - TimeDelta::days(1))
    }
    pub fn next(self) -> Month {
        Month::of(self.start() + TimeDelta::days(32))
    }
    /// `YYYY-MM`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// The DORA tiers reached in one period.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PeriodTiers {
    pub deploy_frequency: Option<Tier>,
    pub lead_time: Option<Tier>,
    pub change_fail_rate: Option<Tier>,
    pub recovery: Option<Tier>,
}

/// The headline numbers of one month (or of a deck's whole period), from the
/// `metrics` row of that period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodFigures {
    /// `YYYY-MM`, or the deck's `since – until`.
    pub period: String,
    pub deployments: u64,
    pub failed: u64,
    pub change_fail_rate: Option<f64>,
    pub rework_rate: Option<f64>,
    pub deploy_days_per_week: f64,
    /// Changes with a valid lead time (clock-skewed ones are counted apart).
    pub changes: u64,
    pub lead_p25_hours: Option<f64>,
    pub lead_median_hours: Option<f64>,
    pub lead_p75_hours: Option<f64>,
    pub lead_p90_hours: Option<f64>,
    pub recovery_median_hours: Option<f64>,
    pub batch_median_commits: Option<f64>,
    /// 2023/2024: the tiers reached (all `None` for 2025).
    pub tiers: PeriodTiers,
    /// 2025: the Quick Check scores beside the population mean ± sd.
    pub quick_check: Option<QuickCheck>,
    pub low_confidence: bool,
}

/// Medians over the three months before the previous one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trailing {
    pub deployments: Option<f64>,
    pub lead_median_hours: Option<f64>,
    pub change_fail_rate: Option<f64>,
    pub recovery_median_hours: Option<f64>,
    pub batch_median_commits: Option<f64>,
    pub rework_rate: Option<f64>,
}

/// The benchmarks of one year. 2023/2024: each metric's tier limits
/// (direction from [`THRESHOLDS`](crate::THRESHOLDS)), the change-fail-rate
/// bands and the recovery reference bounds. 2025 has no tiers (those lists
/// are empty) and `quick_check` holds the population and its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierTable {
    pub year: u16,
    pub deploy_frequency: Vec<TierLimit>,
    pub lead_time: Vec<TierLimit>,
    pub change_fail_rate: Vec<TierLimit>,
    pub recovery: Vec<TierLimit>,
    pub change_fail_rate_bands: Vec<TierBand>,
    pub recovery_bounds: Vec<(Tier, f64)>,
    /// 2025: the population compared with, its mean ± sd and the source.
    pub quick_check: Option<QuickCheckSource>,
}

impl TierTable {
    pub fn of(year: u16, population: &Population) -> TierTable {
        TierTable {
            year,
            quick_check: (year == quickcheck::YEAR).then(|| QuickCheckSource::of(population)),
            deploy_frequency: tiers::tier_limits(year, "deploy_frequency"),
            lead_time: tiers::tier_limits(year, "lead_time"),
            change_fail_rate: tiers::tier_limits(year, "change_fail_rate"),
            recovery: tiers::tier_limits(year, "recovery"),
            change_fail_rate_bands: tiers::tier_bands(year, "change_fail_rate", 0.0, 1.0),
            recovery_bounds: tiers::tier_bounds(year, "recovery"),
        }
    }
}

/// One deployment as a report table lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRow {
    pub repo: String,
    pub deployment_id: String,
    pub environment: String,
    pub deployed_at: DateTime<Utc>,
    pub sha: String,
    pub batch_commits: u64,
    pub batch_lines: u64,
    pub failed: bool,
    pub failure_reasons: Vec<String>,
    pub recovered_at: Option<DateTime<Utc>>,
    pub recovery_hours: Option<f64>,
    /// Up to three PR titles (`#12 title`) or commit summaries.
    pub shipped: Vec<String>,
    /// How many more the deployment shipped.
    pub shipped_more: u64,
}

/// The series over a window of deployments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub weeks: Vec<WeekCount>,
    /// The 4-week trailing mean of `weeks`.
    pub trend: Vec<f64>,
    pub lead_histogram: LeadTimeHistogram,
    /// Every production deployment: its commits and whether it failed.
    pub batches: Vec<BatchPoint>,
    /// Every failed deployment's recovery.
    pub recoveries: Vec<RecoveryPoint>,
    /// Failure rate by commits per deployment (the `risk` buckets).
    pub by_batch: Vec<BatchBucket>,
    pub overall_fail_rate: Option<f64>,
}

/// The monthly report's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthlyDigest {
    pub month: Month,
    pub environment: String,
    pub repos: Vec<String>,
    pub tiers: TierTable,
    /// The report month and the five before it, oldest first.
    pub months: Vec<PeriodFigures>,
    pub trailing_3m: Trailing,
    /// Over the six months.
    pub series: Series,
    /// The month's five largest deployments by commits, then lines.
    pub largest: Vec<DeploymentRow>,
    /// The month's failed deployments.
    pub failed: Vec<DeploymentRow>,
    /// Over the six months.
    pub flow: FlowDigest,
    /// The safety net over the quarter ending with the month, against the quarter before.
    pub safety: NetSection,
}

impl MonthlyDigest {
    /// The report month.
    pub fn this(&self) -> &PeriodFigures {
        &self.months[self.months.len() - 1]
    }
    /// The month before.
    pub fn previous(&self) -> &PeriodFigures {
        &self.months[self.months.len() - 2]
    }
}

/// The logistic fit of failure on commits, as the deck states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFit {
    pub odds_ratio_per_doubling: f64,
    pub ci_lo: f64,
    pub ci_hi: f64,
    pub p_value: f64,
    pub deployments: u64,
    pub failures: u64,
    /// The risk analysis's first warning, if any.
    pub warning: Option<String>,
}

/// The numbers behind the deck's slides, as `deck.json` holds them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeckNumbers {
    pub environment: String,
    pub deployments: u64,
    pub failed: u64,
    pub change_fail_rate: Option<f64>,
    pub deploy_days_per_week: f64,
    pub lead_time_median_hours: Option<f64>,
    pub recovery_median_hours: Option<f64>,
    /// Deployments of the period that shipped at least one commit.
    pub trains: u64,
}

/// The deck's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeckDigest {
    pub since: NaiveDate,
    pub until: NaiveDate,
    pub environment: String,
    pub repos: Vec<String>,
    pub tiers: TierTable,
    pub period: PeriodFigures,
    pub numbers: DeckNumbers,
    pub series: Series,
    /// Stage periods only where a change completed a stage.
    pub flow: FlowDigest,
    pub fit: Option<RiskFit>,
    /// `None` when there is nothing to replay.
    pub whatif: Option<WhatIfLeadTime>,
    /// The safety net over the quarter ending with `until`, against the quarter before.
    pub safety: NetSection,
    /// `compare` over the periods before and after the config's process
    /// change, or over the periods asked for; `None` without either.
    pub before_after: Option<BeforeAfter>,
    /// Why there is no before/after comparison although a process change is
    /// configured ("not available: why").
    pub before_after_unavailable: Option<String>,
}

#[derive(Debug, Clone)]
struct Dep {
    repo: String,
    id: String,
    at: DateTime<Utc>,
    sha: String,
    commits: u64,
    /// Commits (merges included) this deployment put into the environment.
    shipped: u64,
    lines: u64,
    failed: bool,
    reasons: Vec<String>,
    recovered_at: Option<DateTime<Utc>>,
    recovery_s: Option<i64>,
}

#[derive(Debug, Clone)]
struct Change {
    repo: String,
    sha: String,
    deployment_id: Option<String>,
    pr: Option<i64>,
    at: DateTime<Utc>,
    lead_s: Option<i64>,
}

fn time(us: Option<i64>) -> Option<DateTime<Utc>> {
    us.and_then(DateTime::<Utc>::from_timestamp_micros)
}

use series::utc;

/// The production deployments and changes of one environment, loaded once;
/// each report asks it for a month or a period.
pub struct Digester<'a> {
    store: &'a Store,
    config: &'a Config,
    env: String,
    /// The DORA tier table year (the config's `tiers`).
    year: u16,
    risk_deps: Vec<crate::Deployment>,
    /// The changes `compare` reads ([`crate::shipped_changes`]).
    shipped: Vec<crate::ShippedChange>,
    repos: Vec<String>,
    deps: Vec<Dep>,
    changes: Vec<Change>,
    /// Deploy times of changes with a negative lead time (clock skew).
    negative: Vec<DateTime<Utc>>,
    summaries: HashMap<(String, String), String>,
    pr_titles: HashMap<(String, i64), String>,
    /// The environment's safety-net evidence, per deployment.
    safety: Vec<SafetyRow>,
    /// The store has incidents at all (else the verdict names the gap).
    has_incidents: bool,
}

impl<'a> Digester<'a> {
    /// Loads the environment's deployments (`env`, or the config's production
    /// environment) and changes from the derived tables.
    pub fn load(store: &'a Store, config: &'a Config, env: Option<&str>) -> Result<Self> {
        let ds = store.read(&DEPLOYMENT_STATS)?;
        if ds.height() == 0 {
            return Err(Error::Invalid(format!(
                "the derived table deployment_stats is empty in {}: ingest history and run the analysis first",
                store.root().display()
            )));
        }
        let c = Cols::new(&ds, "deployment_stats");
        let envs = c.str("environment")?;
        let mut names: Vec<String> = envs.iter().flatten().cloned().collect();
        names.sort();
        names.dedup();
        let env = config.production_env(env);
        if !names.contains(&env) {
            return Err(Error::Invalid(format!(
                "no deployments to environment `{env}` in deployment_stats; environments present: {} (choose one with --env)",
                names.join(", ")
            )));
        }
        let (repo, id, at, sha) = (
            c.str("repo")?,
            c.str("deployment_id")?,
            c.int("deployed_at")?,
            c.str("sha")?,
        );
        let (bc, ba, bd, shipped) = (
            c.int("batch_commits")?,
            c.int("batch_additions")?,
            c.int("batch_deletions")?,
            c.int("shipped_commits")?,
        );
        let (failed, reasons, rec_at, rec_s) = (
            c.bool("failed")?,
            c.str_list("failure_reasons")?,
            c.int("recovered_at")?,
            c.int("recovery_s")?,
        );
        let safety: Vec<SafetyRow> = safety_rows(&ds)?
            .into_iter()
            .filter(|r| r.environment == env)
            .collect();
        let has_incidents = store.read(&INCIDENTS)?.height() > 0;
        let mut deps = vec![];
        for i in 0..ds.height() {
            if envs[i].as_deref() != Some(env.as_str()) {
                continue;
            }
            let Some(at) = time(at[i]) else {
                return Err(Error::Invalid(format!(
                    "deployment_stats row {} (deployment {:?}) has no deployed_at",
                    i + 1,
                    id[i]
                )));
            };
            deps.push(Dep {
                repo: repo[i].clone().unwrap_or_default(),
                id: id[i].clone().unwrap_or_default(),
                at,
                sha: sha[i].clone().unwrap_or_default(),
                commits: bc[i].unwrap_or(0).max(0) as u64,
                shipped: shipped[i].unwrap_or(0).max(0) as u64,
                lines: (ba[i].unwrap_or(0) + bd[i].unwrap_or(0)).max(0) as u64,
                failed: failed[i].unwrap_or(false),
                reasons: reasons[i].clone(),
                recovered_at: time(rec_at[i]),
                recovery_s: rec_s[i],
            });
        }
        deps.sort_by(|a, b| (a.at, &a.repo, &a.id).cmp(&(b.at, &b.repo, &b.id)));
        let mut repos: Vec<String> = deps.iter().map(|d| d.repo.clone()).collect();
        repos.sort();
        repos.dedup();

        let ch = store.read(&CHANGES)?;
        let c = Cols::new(&ch, "changes");
        let (crepo, csha, cenv, cpr, cdep, cat, clead, cbase) = (
            c.str("repo")?,
            c.str("sha")?,
            c.str("environment")?,
            c.int("pr_number")?,
            c.str("deployment_id")?,
            c.int("deployed_at")?,
            c.int("lead_time_s")?,
            c.bool("is_baseline")?,
        );
        let canomaly = c.str("anomaly")?;
        let cmerge = c.bool("is_merge")?;
        let mut changes = vec![];
        let mut negative = vec![];
        for i in 0..ch.height() {
            let sample = lead_sample(cbase[i], cmerge[i], clead[i], canomaly[i].as_deref());
            if cenv[i].as_deref() != Some(env.as_str()) || sample == LeadSample::NotCounted {
                continue;
            }
            let Some(at) = time(cat[i]) else { continue };
            if sample == LeadSample::ClockSkew {
                // Counted and reported, never clamped to zero.
                negative.push(at);
            }
            changes.push(Change {
                repo: crepo[i].clone().unwrap_or_default(),
                sha: csha[i].clone().unwrap_or_default(),
                deployment_id: cdep[i].clone(),
                pr: cpr[i],
                at,
                lead_s: match sample {
                    LeadSample::Valid(l) => Some(l),
                    _ => None,
                },
            });
        }

        let shipped = crate::shipped_changes(&ch, &env)?;
        let cm = store.read(&COMMITS)?;
        let c = Cols::new(&cm, "commits");
        let mut summaries = HashMap::new();
        for ((r, s), m) in c
            .str("repo")?
            .into_iter()
            .zip(c.str("sha")?)
            .zip(c.str("summary")?)
        {
            if let (Some(r), Some(s), Some(m)) = (r, s, m) {
                summaries.insert((r, s), m);
            }
        }
        let pr = store.read(&PULL_REQUESTS)?;
        let c = Cols::new(&pr, "pull_requests");
        let mut pr_titles = HashMap::new();
        for ((r, n), title) in c
            .str("repo")?
            .into_iter()
            .zip(c.int("number")?)
            .zip(c.str("title")?)
        {
            if let (Some(r), Some(n), Some(title)) = (r, n, title) {
                pr_titles.insert((r, n), title);
            }
        }
        let risk_deps = crate::production_deployments(&ds, &env)?;
        Ok(Digester {
            store,
            config,
            env,
            year: config.tiers,
            risk_deps,
            shipped,
            repos,
            deps,
            changes,
            negative,
            summaries,
            pr_titles,
            safety,
            has_incidents,
        })
    }

    /// The safety net over the three calendar months ending at `end`
    /// (exclusive), against the three months before.
    fn safety(&self, end: NaiveDate) -> NetSection {
        let start = end - chrono::Months::new(3);
        let previous = start - chrono::Months::new(3);
        net_section(
            &self.safety,
            utc(previous).timestamp_micros(),
            utc(start).timestamp_micros(),
            utc(end).timestamp_micros(),
            !self.config.defects.severity_weights.is_empty(),
            self.has_incidents,
        )
    }

    fn deps_in(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<&Dep> {
        self.deps
            .iter()
            .filter(|d| d.at >= from && d.at < to)
            .collect()
    }

    fn leads_in(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .changes
            .iter()
            .filter(|c| c.at >= from && c.at < to)
            .filter_map(|c| Some(c.lead_s? as f64 / 3600.0))
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The risk analysis over deployments in `[from, to)`.
    fn risk(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> crate::RiskReport {
        let (a, b) = (from.timestamp_micros(), to.timestamp_micros());
        let deps: Vec<crate::Deployment> = self
            .risk_deps
            .iter()
            .filter(|d| d.deployed_at >= a && d.deployed_at < b)
            .cloned()
            .collect();
        crate::risk_report(&deps, &self.env)
    }

    /// The metrics, one row per month plus `all`.
    fn metrics(&self, since: NaiveDate, until: NaiveDate) -> Result<Vec<PeriodMetrics>> {
        let opts = MetricsOptions {
            envs: vec![self.env.clone()],
            since: Some(since),
            until: Some(until),
            by: By::Month,
            repo: None,
            tiers: Some(self.year),
        };
        Ok(crate::metrics(self.store, self.config, &opts)?.periods)
    }

    /// One period's figures from its metrics row (none: nothing deployed);
    /// `[from, to)` bounds the changes of the p25 lead time.
    fn figures(
        &self,
        period: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        p: Option<&PeriodMetrics>,
    ) -> PeriodFigures {
        let t = |s: &Option<String>| s.as_deref().and_then(Tier::parse);
        match p {
            Some(p) => PeriodFigures {
                period,
                deployments: p.deployments.max(0) as u64,
                failed: p.failed.max(0) as u64,
                change_fail_rate: p.change_fail_rate,
                rework_rate: p.rework_rate,
                deploy_days_per_week: p.deploy_days_per_week,
                changes: (p.changes - p.clock_skew).max(0) as u64,
                lead_p25_hours: stats::quantile_sorted(&self.leads_in(from, to), 0.25),
                lead_median_hours: p.lead_time_median_h,
                lead_p75_hours: p.lead_time_p75_h,
                lead_p90_hours: p.lead_time_p90_h,
                recovery_median_hours: p.recovery_median_h,
                batch_median_commits: p.batch_commits_median,
                quick_check: p.quick_check.clone(),
                tiers: PeriodTiers {
                    deploy_frequency: t(&p.tier_deploy_frequency),
                    lead_time: t(&p.tier_lead_time),
                    change_fail_rate: t(&p.tier_change_fail_rate),
                    recovery: t(&p.tier_recovery),
                },
                low_confidence: p.low_confidence,
            },
            None => PeriodFigures {
                period,
                deployments: 0,
                failed: 0,
                change_fail_rate: None,
                rework_rate: None,
                deploy_days_per_week: 0.0,
                changes: 0,
                lead_p25_hours: None,
                lead_median_hours: None,
                lead_p75_hours: None,
                lead_p90_hours: None,
                recovery_median_hours: None,
                batch_median_commits: None,
                // Nothing deployed: the lowest tier for 2023/2024 and, as in
                // `metrics`, no deploy-frequency answer for 2025.
                tiers: PeriodTiers {
                    deploy_frequency: tiers::tier(self.year, "deploy_frequency", Some(0.0))
                        .and_then(Tier::parse),
                    ..PeriodTiers::default()
                },
                quick_check: (self.year == quickcheck::YEAR)
                    .then(|| quickcheck::quick_check(&Default::default(), &self.config.population)),
                low_confidence: true,
            },
        }
    }

    fn row(&self, d: &Dep) -> DeploymentRow {
        // PR titles first, then summaries of commits without a PR.
        let mut items: Vec<String> = vec![];
        let mut prs_seen = vec![];
        for c in self
            .changes
            .iter()
            .filter(|c| c.deployment_id.as_deref() == Some(d.id.as_str()) && c.repo == d.repo)
        {
            match c.pr {
                Some(n) if !prs_seen.contains(&n) => {
                    prs_seen.push(n);
                    items.push(match self.pr_titles.get(&(c.repo.clone(), n)) {
                        Some(t) => format!("#{n} {t}"),
                        None => format!("#{n}"),
                    });
                }
                Some(_) => {}
                None => {
                    if let Some(s) = self.summaries.get(&(c.repo.clone(), c.sha.clone())) {
                        items.push(s.clone());
                    }
                }
            }
        }
        let more = items.len().saturating_sub(3) as u64;
        items.truncate(3);
        DeploymentRow {
            repo: d.repo.clone(),
            deployment_id: d.id.clone(),
            environment: self.env.clone(),
            deployed_at: d.at,
            sha: d.sha.clone(),
            batch_commits: d.commits,
            batch_lines: d.lines,
            failed: d.failed,
            failure_reasons: d.reasons.clone(),
            recovered_at: d.recovered_at,
            recovery_hours: d.recovery_s.map(|s| s as f64 / 3600.0),
            shipped: items,
            shipped_more: more,
        }
    }

    /// The series over `[from, to)`.
    fn series(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Series {
        let deps = self.deps_in(from, to);
        let at: Vec<DateTime<Utc>> = deps.iter().map(|d| d.at).collect();
        let (weeks, trend) = series::weeks(from, to, &at);
        let negative = self
            .negative
            .iter()
            .filter(|t| **t >= from && **t < to)
            .count() as u64;
        let risk = self.risk(from, to);
        Series {
            weeks,
            trend,
            lead_histogram: series::histogram(&self.leads_in(from, to), negative),
            batches: deps
                .iter()
                .map(|d| BatchPoint {
                    deployed_at: d.at,
                    size: d.commits,
                    failed: d.failed,
                })
                .collect(),
            recoveries: deps
                .iter()
                .filter(|d| d.failed)
                .map(|d| RecoveryPoint {
                    deployed_at: d.at,
                    recovery_hours: d.recovery_s.map(|s| s as f64 / 3600.0),
                })
                .collect(),
            by_batch: risk
                .buckets
                .iter()
                .filter(|b| b.measure == Measure::Commits)
                .map(|b| BatchBucket {
                    label: b.bucket.replace('-', "–"),
                    deployments: b.deployments as u64,
                    failed: b.failures as u64,
                    rate: b.failure_rate,
                    lo: b.ci_lo,
                    hi: b.ci_hi,
                })
                .collect(),
            overall_fail_rate: (risk.deployments > 0)
                .then(|| risk.failures as f64 / risk.deployments as f64),
        }
    }

    /// The promotion flow over `since..=until` (inclusive days).
    fn flow(&self, since: NaiveDate, until: NaiveDate) -> Result<FlowDigest> {
        let n = self.config.environments.len();
        if n < 2 {
            return Ok(FlowDigest::unavailable(n, since, until));
        }
        let opts = crate::FlowOptions {
            since: Some(since),
            until: Some(until),
        };
        let r = crate::flow_report(self.store, self.config, &opts)?;
        Ok(flow::digest(&r, &self.env, since, until))
    }

    /// The monthly report's numbers for `month`: its window is the month and
    /// the five before it.
    pub fn monthly(&self, month: Month) -> Result<MonthlyDigest> {
        let mut window = vec![month];
        for _ in 0..5 {
            window.insert(0, window[0].prev());
        }
        let (first, last) = (window[0].start(), month.next().start() - TimeDelta::days(1));
        let periods = self.metrics(first, last)?;
        let months: Vec<PeriodFigures> = window
            .iter()
            .map(|m| {
                let p = periods.iter().find(|p| p.period == m.label());
                self.figures(m.label(), utc(m.start()), utc(m.next().start()), p)
            })
            .collect();
        let before = &months[1..4];
        let trailing = |f: &dyn Fn(&PeriodFigures) -> Option<f64>| {
            let v: Vec<f64> = before.iter().filter_map(f).collect();
            stats::quantile(&v, 0.5)
        };
        let trailing_3m = Trailing {
            deployments: trailing(&|m| Some(m.deployments as f64)),
            lead_median_hours: trailing(&|m| m.lead_median_hours),
            change_fail_rate: trailing(&|m| m.change_fail_rate),
            recovery_median_hours: trailing(&|m| m.recovery_median_hours),
            batch_median_commits: trailing(&|m| m.batch_median_commits),
            rework_rate: trailing(&|m| m.rework_rate),
        };
        let (mfrom, mto) = (utc(month.start()), utc(month.next().start()));
        let in_month = self.deps_in(mfrom, mto);
        let mut largest = in_month.clone();
        largest.sort_by(|a, b| (b.commits, b.lines, a.at).cmp(&(a.commits, a.lines, b.at)));
        Ok(MonthlyDigest {
            month,
            environment: self.env.clone(),
            repos: self.repos.clone(),
            tiers: TierTable::of(self.year, &self.config.population),
            months,
            trailing_3m,
            series: self.series(utc(first), mto),
            largest: largest.iter().take(5).map(|d| self.row(d)).collect(),
            failed: in_month
                .iter()
                .filter(|d| d.failed)
                .map(|d| self.row(d))
                .collect(),
            flow: self.flow(first, last)?,
            safety: self.safety(month.next().start()),
        })
    }

    /// The deck's numbers over `since..=until` (inclusive days; by default the
    /// first and the last deployment's day). The before/after section compares
    /// the `compared` periods when given, else the days before and after the config's
    /// process change within `since..=until`.
    pub fn deck(
        &self,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
        compared: Option<(Period, Period)>,
    ) -> Result<DeckDigest> {
        let first = self.deps.first().map(|d| d.at.date_naive());
        let last = self.deps.last().map(|d| d.at.date_naive());
        let since = since.or(first).unwrap_or_default();
        let until = until.or(last).unwrap_or(since);
        let (from, to) = (utc(since), utc(until + TimeDelta::days(1)));
        let periods = self.metrics(since, until)?;
        let period = self.figures(
            format!("{since} – {until}"),
            from,
            to,
            periods.iter().find(|p| p.period == "all"),
        );
        let mut flow = self.flow(since, until)?;
        flow.retain_moving_months();
        let risk = self.risk(from, to);
        let fit = risk
            .fits
            .iter()
            .find(|f| f.measure == Measure::Commits)
            .and_then(|f| {
                Some(RiskFit {
                    odds_ratio_per_doubling: f.odds_ratio_per_doubling?,
                    ci_lo: f.ci_lo?,
                    ci_hi: f.ci_hi?,
                    p_value: f.p_value?,
                    deployments: f.deployments as u64,
                    failures: f.failures as u64,
                    warning: risk.warnings.first().cloned(),
                })
            });
        let numbers = DeckNumbers {
            environment: self.env.clone(),
            deployments: period.deployments,
            failed: period.failed,
            change_fail_rate: period.change_fail_rate,
            deploy_days_per_week: period.deploy_days_per_week,
            lead_time_median_hours: period.lead_median_hours,
            recovery_median_hours: period.recovery_median_hours,
            trains: self
                .deps_in(from, to)
                .iter()
                .filter(|d| d.shipped > 0)
                .count() as u64,
        };
        let (before_after, before_after_unavailable) = self.before_after(since, until, compared)?;
        Ok(DeckDigest {
            since,
            until,
            environment: self.env.clone(),
            repos: self.repos.clone(),
            tiers: TierTable::of(self.year, &self.config.population),
            period,
            numbers,
            series: self.series(from, to),
            flow,
            fit,
            whatif: self.whatif()?,
            safety: self.safety(until + TimeDelta::days(1)),
            before_after,
            before_after_unavailable,
        })
    }

    /// `compare` with `flowmeter compare`'s defaults over `periods`, or over
    /// the days around the config's process change within `since..=until`.
    fn before_after(
        &self,
        since: NaiveDate,
        until: NaiveDate,
        periods: Option<(Period, Period)>,
    ) -> Result<(Option<BeforeAfter>, Option<String>)> {
        let (before, after, date, label) = match (periods, &self.config.process_change) {
            (Some((b, a)), _) => (b, a, None, None),
            (None, Some(pc)) => match periods_around(pc.date, since, until) {
                Ok((b, a)) => (
                    crate::parse_period(&b)?,
                    crate::parse_period(&a)?,
                    Some(pc.date),
                    pc.label.clone(),
                ),
                Err(why) => return Ok((None, Some(why))),
            },
            (None, None) => return Ok((None, None)),
        };
        let report = crate::compare(
            &self.env,
            &self.risk_deps,
            &self.shipped,
            before,
            after,
            &crate::CompareOptions::default(),
        );
        Ok((Some(BeforeAfter::of(&report, date, label)), None))
    }

    /// The what-if cadences as `flowmeter whatif` computes them with its
    /// defaults; `None` when there is nothing to replay.
    fn whatif(&self) -> Result<Option<WhatIfLeadTime>> {
        let report = crate::whatif_from_store(
            self.store,
            self.config,
            &self.env,
            None,
            &crate::WhatIfOptions::default(),
        )?;
        if report.changes == 0 {
            return Ok(None);
        }
        let policies: Vec<WhatIfPolicy> = report
            .rows
            .iter()
            .filter_map(|r| {
                Some(WhatIfPolicy {
                    name: r.policy.clone(),
                    deployments_per_month: r.deployments_per_month,
                    lead_median_hours: r.lead_time_median_h?,
                    lead_p90_hours: r.lead_time_p90_h?,
                    batch_median: r.batch_median,
                    predicted_failures: r.predicted_failures.map(|e| e.value),
                    predicted_failures_lo: r.predicted_failures.map(|e| e.lo),
                    predicted_failures_hi: r.predicted_failures.map(|e| e.hi),
                    predicted_changes_in_failed: r.predicted_changes_in_failed.map(|e| e.value),
                    predicted_changes_in_failed_lo: r.predicted_changes_in_failed.map(|e| e.lo),
                    predicted_changes_in_failed_hi: r.predicted_changes_in_failed.map(|e| e.hi),
                })
            })
            .collect();
        if policies.len() < 2 {
            return Ok(None);
        }
        let mut assumptions = report.assumptions.clone();
        assumptions.push(
            "the replay covers the whole ingested history, not only the deck's period".into(),
        );
        Ok(Some(WhatIfLeadTime {
            policies,
            assumptions,
            warnings: report.warnings.clone(),
        }))
    }
}

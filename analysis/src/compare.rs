//! Before and after: each delivery metric in two periods, with a seeded
//! bootstrap interval of the difference and a Mann–Whitney U test where the
//! data are per change or per deployment.

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use serde::Serialize;

use crate::metrics::{lead_sample, LeadSample};
use crate::risk::{bool_col, i64_col, str_col, Deployment};
use crate::stats::{self, BootstrapCi, MannWhitney, Result, RiskError};

const HOUR: f64 = 3600.0;
const DAY_US: i64 = 86_400_000_000;

/// A half-open period `[start, end)` in µs UTC, from `YYYY-MM-DD..YYYY-MM-DD`
/// (both days included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// The range as given.
    pub label: String,
    pub start: i64,
    pub end: i64,
}

impl Period {
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && t < self.end
    }
}

/// Parses `2024-01-01..2024-06-30`: from the start of the first day to the
/// end of the last, UTC.
pub fn parse_period(s: &str) -> Result<Period> {
    let bad = |why: &str| {
        RiskError::Invalid(format!(
            "bad range {s:?}: {why} (expected FROM..TO with dates like 2024-01-01..2024-06-30, both days included)"
        ))
    };
    let (a, b) = s.split_once("..").ok_or_else(|| bad("no `..`"))?;
    let day = |d: &str| {
        NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .map_err(|_| bad(&format!("{:?} is not a date", d.trim())))
    };
    let (a, b) = (day(a)?, day(b)?);
    if b < a {
        return Err(bad("the end is before the start"));
    }
    let micros = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_micros()
    };
    Ok(Period {
        label: s.trim().to_string(),
        start: micros(a),
        end: micros(b) + DAY_US,
    })
}

/// A change that reached production, for the lead-time comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShippedChange {
    pub deployed_at: i64,
    /// `None` for a clock-skewed change: counted, never clamped.
    pub lead_time_s: Option<i64>,
}

/// The changes of `environment` with a lead time, from the `changes` table,
/// by the one lead-time rule of `metrics` ([`lead_sample`]): baseline and
/// merge commits are left out, and clock-skewed ones kept without a lead time
/// so that the report can count them.
pub fn shipped_changes(changes: &DataFrame, environment: &str) -> Result<Vec<ShippedChange>> {
    let t = "changes";
    let env = str_col(changes, t, "environment")?;
    let at = i64_col(changes, t, "deployed_at")?;
    let lead = i64_col(changes, t, "lead_time_s")?;
    let base = bool_col(changes, t, "is_baseline")?;
    let merge = bool_col(changes, t, "is_merge")?;
    let anomaly = str_col(changes, t, "anomaly")?;
    Ok((0..env.len())
        .filter(|k| env[*k].as_deref() == Some(environment))
        .filter_map(|k| {
            let lead_time_s = match lead_sample(base[k], merge[k], lead[k], anomaly[k].as_deref()) {
                LeadSample::Valid(l) => Some(l),
                LeadSample::ClockSkew => None,
                LeadSample::NotCounted | LeadSample::Unknown => return None,
            };
            Some(ShippedChange {
                deployed_at: at[k]?,
                lead_time_s,
            })
        })
        .collect())
}

/// One metric compared across the two periods.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareRow {
    pub metric: String,
    pub unit: String,
    /// `median`; `mean` for deployments per week (a median of mostly-zero
    /// weekly counts says little); `rate` for the change fail rate.
    pub statistic: String,
    /// What one observation is: `change`, `deployment`, `failed deployment`, `week`.
    pub per: String,
    pub n_before: usize,
    pub n_after: usize,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// `after − before`, with its seeded percentile-bootstrap 95% interval.
    pub difference: Option<BootstrapCi>,
    /// Mann–Whitney U test of after against before (per-change and
    /// per-deployment data only).
    pub mann_whitney: Option<MannWhitney>,
}

/// The whole `compare` result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareReport {
    pub environment: String,
    pub before: Period,
    pub after: Period,
    pub rows: Vec<CompareRow>,
    /// Negative lead times (clock skew) left out, per period.
    pub negative_lead_times: usize,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    pub resamples: usize,
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            resamples: 2000,
            seed: 42,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    metric: &str,
    unit: &str,
    per: &str,
    statistic: &str,
    before: &[f64],
    after: &[f64],
    rank_test: bool,
    opts: &CompareOptions,
) -> CompareRow {
    let stat: fn(&[f64]) -> Option<f64> = if statistic == "median" {
        stats::median
    } else {
        stats::mean
    };
    CompareRow {
        metric: metric.into(),
        unit: unit.into(),
        statistic: statistic.into(),
        per: per.into(),
        n_before: before.len(),
        n_after: after.len(),
        before: stat(before),
        after: stat(after),
        difference: stats::bootstrap_diff(before, after, stat, opts.resamples, 0.95, opts.seed),
        mann_whitney: if rank_test {
            stats::mann_whitney(after, before)
        } else {
            None
        },
    }
}

/// Deployments per 7-day block from the period's start (a last partial block
/// is dropped unless the period is shorter than a week).
fn weekly_counts(deployments: &[Deployment], p: &Period) -> Vec<f64> {
    let weeks = ((p.end - p.start) / (7 * DAY_US)).max(1) as usize;
    let mut counts = vec![0.0; weeks];
    for d in deployments.iter().filter(|d| p.contains(d.deployed_at)) {
        let w = ((d.deployed_at - p.start) / (7 * DAY_US)) as usize;
        if w < weeks {
            counts[w] += 1.0;
        }
    }
    counts
}

/// Compares the production `deployments` and `changes` of two periods.
pub fn compare(
    environment: &str,
    deployments: &[Deployment],
    changes: &[ShippedChange],
    before: Period,
    after: Period,
    opts: &CompareOptions,
) -> CompareReport {
    let mut negative = 0;
    let mut leads = |p: &Period| -> Vec<f64> {
        let mut v = vec![];
        for c in changes.iter().filter(|c| p.contains(c.deployed_at)) {
            match c.lead_time_s {
                Some(l) => v.push(l as f64 / HOUR),
                None => negative += 1,
            }
        }
        v
    };
    let (lb, la) = (leads(&before), leads(&after));
    let deps = |p: &Period| -> Vec<&Deployment> {
        deployments
            .iter()
            .filter(|d| p.contains(d.deployed_at))
            .collect()
    };
    let (db, da) = (deps(&before), deps(&after));
    let of = |ds: &[&Deployment], f: &dyn Fn(&Deployment) -> Option<f64>| -> Vec<f64> {
        ds.iter().filter_map(|d| f(d)).collect()
    };
    let commits = |d: &Deployment| Some(d.batch_commits as f64);
    let lines = |d: &Deployment| Some(d.batch_lines as f64);
    let failed = |d: &Deployment| Some(if d.failed { 1.0 } else { 0.0 });
    let recovery = |d: &Deployment| {
        d.recovery_s
            .filter(|s| d.failed && *s >= 0)
            .map(|s| s as f64 / HOUR)
    };
    let rows = vec![
        row(
            "lead_time",
            "hours",
            "change",
            "median",
            &lb,
            &la,
            true,
            opts,
        ),
        row(
            "deployments_per_week",
            "deployments",
            "week",
            "mean",
            &weekly_counts(deployments, &before),
            &weekly_counts(deployments, &after),
            false,
            opts,
        ),
        row(
            "batch_commits",
            "commits",
            "deployment",
            "median",
            &of(&db, &commits),
            &of(&da, &commits),
            true,
            opts,
        ),
        row(
            "batch_lines",
            "lines",
            "deployment",
            "median",
            &of(&db, &lines),
            &of(&da, &lines),
            true,
            opts,
        ),
        row(
            "change_fail_rate",
            "fraction",
            "deployment",
            "rate",
            &of(&db, &failed),
            &of(&da, &failed),
            true,
            opts,
        ),
        row(
            "recovery_time",
            "hours",
            "failed deployment",
            "median",
            &of(&db, &recovery),
            &of(&da, &recovery),
            true,
            opts,
        ),
    ];
    let mut warnings = vec![];
    for r in &rows {
        if r.n_before == 0 || r.n_after == 0 {
            warnings.push(format!(
                "{}: no data in the {} period, so no comparison",
                r.metric,
                if r.n_before == 0 { "before" } else { "after" }
            ));
        } else if r.n_before < 10 || r.n_after < 10 {
            warnings.push(format!(
                "{}: only {} before and {} after: the interval is wide and a real change may not show",
                r.metric, r.n_before, r.n_after
            ));
        }
    }
    if before.start < after.end && after.start < before.end {
        warnings.push("the periods overlap: data in both count twice".into());
    }
    // The caveat first: it is the one a reader of any output must not miss.
    let notes = vec![
        "A before/after difference shows change over time, not its cause: other things changed too.".into(),
        format!(
            "difference = after − before; 95% percentile bootstrap, {} resamples, seed {} (same seed, same interval).",
            opts.resamples, opts.seed
        ),
        "Mann–Whitney U: two-sided, normal approximation with tie and continuity correction; a small p says after's values tend to be larger or smaller than before's.".into(),
        "change_fail_rate is a rate (mean of 0/1), so its Mann–Whitney test compares the two proportions.".into(),
    ];
    CompareReport {
        environment: environment.to_string(),
        before,
        after,
        rows,
        negative_lead_times: negative,
        warnings,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_include_both_days() {
        let p = parse_period("2024-01-01..2024-01-31").unwrap();
        assert_eq!(p.start, 1_704_067_200_000_000);
        assert_eq!(p.end - p.start, 31 * DAY_US);
        assert!(p.contains(p.end - 1) && !p.contains(p.end));
        let e = parse_period("2024-13-01..2024-01-02")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"2024-13-01\" is not a date"), "{e}");
        assert!(parse_period("2024-02-01..2024-01-01").is_err());
        assert!(parse_period("2024-02-01").is_err());
    }
}

//! Risk versus batch size: failure rate by batch-size bucket with Wilson
//! intervals, median recovery per bucket, and a logistic fit of failure on
//! log2(batch size).

use polars::prelude::*;
use serde::Serialize;

use crate::stats::{self, LogisticFit, Result, RiskError};

/// Deployments fewer than this make the risk numbers descriptive only.
pub const MIN_DEPLOYMENTS: usize = 30;
/// Failures fewer than this make the risk numbers descriptive only.
pub const MIN_FAILURES: usize = 5;

/// One production deployment, as the risk analysis sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub repo: String,
    pub deployment_id: String,
    /// µs since the epoch, UTC.
    pub deployed_at: i64,
    /// Non-merge commits shipped (`batch_commits`).
    pub batch_commits: i64,
    /// Lines changed: `batch_additions + batch_deletions`.
    pub batch_lines: i64,
    pub failed: bool,
    pub recovery_s: Option<i64>,
}

fn table_err(table: &str, e: impl std::fmt::Display) -> RiskError {
    RiskError::Table {
        table: table.into(),
        message: e.to_string(),
    }
}

/// A column as owned strings, with the table named in errors.
pub(crate) fn str_col(df: &DataFrame, table: &str, name: &str) -> Result<Vec<Option<String>>> {
    let c = df
        .column(name)
        .map_err(|e| table_err(table, e))?
        .cast(&DataType::String)
        .map_err(|e| table_err(table, format!("column `{name}`: {e}")))?;
    let ca = c.str().map_err(|e| table_err(table, e))?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

/// A column as i64 (times as µs), with the table named in errors.
pub(crate) fn i64_col(df: &DataFrame, table: &str, name: &str) -> Result<Vec<Option<i64>>> {
    let c = df
        .column(name)
        .map_err(|e| table_err(table, e))?
        .cast(&DataType::Int64)
        .map_err(|e| table_err(table, format!("column `{name}`: {e}")))?;
    Ok(c.i64().map_err(|e| table_err(table, e))?.iter().collect())
}

/// A boolean column, with the table named in errors.
pub(crate) fn bool_col(df: &DataFrame, table: &str, name: &str) -> Result<Vec<Option<bool>>> {
    let c = df
        .column(name)
        .map_err(|e| table_err(table, e))?
        .cast(&DataType::Boolean)
        .map_err(|e| table_err(table, format!("column `{name}`: {e}")))?;
    Ok(c.bool().map_err(|e| table_err(table, e))?.iter().collect())
}

/// The deployments of `environment` from a `deployment_stats` frame, in time
/// order. Null batch columns count as 0, a null `failed` as not failed.
pub fn production_deployments(stats: &DataFrame, environment: &str) -> Result<Vec<Deployment>> {
    let t = "deployment_stats";
    let df = stats
        .clone()
        .lazy()
        .filter(col("environment").eq(lit(environment)))
        .select([
            col("repo").cast(DataType::String),
            col("deployment_id").cast(DataType::String),
            col("deployed_at").cast(DataType::Int64),
            col("batch_commits")
                .cast(DataType::Int64)
                .fill_null(lit(0i64)),
            (col("batch_additions")
                .cast(DataType::Int64)
                .fill_null(lit(0i64))
                + col("batch_deletions")
                    .cast(DataType::Int64)
                    .fill_null(lit(0i64)))
            .alias("batch_lines"),
            col("failed").fill_null(lit(false)),
            col("recovery_s").cast(DataType::Int64),
        ])
        .sort(["deployed_at", "deployment_id"], Default::default())
        .collect()
        .map_err(|e| table_err(t, e))?;
    let s = |name: &str| -> Result<StringChunked> {
        Ok(df.column(name)?.str().map_err(|e| table_err(t, e))?.clone())
    };
    let i = |name: &str| -> Result<Int64Chunked> {
        Ok(df.column(name)?.i64().map_err(|e| table_err(t, e))?.clone())
    };
    let (repo, id) = (s("repo")?, s("deployment_id")?);
    let (at, commits, lines, rec) = (
        i("deployed_at")?,
        i("batch_commits")?,
        i("batch_lines")?,
        i("recovery_s")?,
    );
    let failed = df.column("failed")?.bool().map_err(|e| table_err(t, e))?;
    let mut out = Vec::with_capacity(df.height());
    for k in 0..df.height() {
        let deployed_at = at.get(k).ok_or_else(|| {
            table_err(
                t,
                format!(
                    "deployment {:?} has no deployed_at",
                    id.get(k).unwrap_or("?")
                ),
            )
        })?;
        out.push(Deployment {
            repo: repo.get(k).unwrap_or("").to_string(),
            deployment_id: id.get(k).unwrap_or("").to_string(),
            deployed_at,
            batch_commits: commits.get(k).unwrap_or(0),
            batch_lines: lines.get(k).unwrap_or(0),
            failed: failed.get(k).unwrap_or(false),
            recovery_s: rec.get(k),
        });
    }
    Ok(out)
}

/// Which batch-size measure a bucket or fit uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Non-merge commits per deployment.
    Commits,
    /// Lines added plus deleted per deployment.
    Lines,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Commits => "commits",
            Measure::Lines => "lines",
        }
    }

    pub fn of(self, d: &Deployment) -> i64 {
        match self {
            Measure::Commits => d.batch_commits,
            Measure::Lines => d.batch_lines,
        }
    }

    /// Bucket lower bounds; each bucket runs to the next bound minus one.
    fn bounds(self) -> &'static [i64] {
        match self {
            Measure::Commits => &[0, 1, 2, 4, 8, 16, 32, 64],
            Measure::Lines => &[0, 1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
        }
    }
}

/// Failure statistics of the deployments whose batch falls in `[min, max]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskBucket {
    pub measure: Measure,
    /// `"2-3"`, `"64+"`.
    pub bucket: String,
    pub min: i64,
    /// `None` for the open last bucket.
    pub max: Option<i64>,
    pub deployments: usize,
    pub failures: usize,
    pub failure_rate: f64,
    /// 95% Wilson interval of the failure rate.
    pub ci_lo: f64,
    pub ci_hi: f64,
    /// Median recovery of the failed deployments that have one, in hours.
    pub median_recovery_h: Option<f64>,
}

/// The logistic fit of failure on log2(batch size) for one measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskFit {
    pub measure: Measure,
    /// Deployments in the fit (batch size ≥ 1).
    pub deployments: usize,
    pub failures: usize,
    /// `exp(slope)`: how the odds of failure multiply when the batch doubles.
    pub odds_ratio_per_doubling: Option<f64>,
    pub ci_lo: Option<f64>,
    pub ci_hi: Option<f64>,
    /// Two-sided Wald p-value of the slope.
    pub p_value: Option<f64>,
    pub fit: Option<LogisticFit>,
    /// Why there is no fit, when there is none.
    pub error: Option<String>,
}

/// The whole `risk` result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskReport {
    pub environment: String,
    pub deployments: usize,
    pub failures: usize,
    /// Deployments that shipped no commits (rollbacks, redeploys): in the
    /// buckets, left out of the commits fit because log2(0) is undefined.
    pub empty_deployments: usize,
    pub buckets: Vec<RiskBucket>,
    pub fits: Vec<RiskFit>,
    /// Small-sample and model warnings, in words.
    pub warnings: Vec<String>,
    /// How to read the numbers.
    pub notes: Vec<String>,
}

impl RiskReport {
    /// The fit on commits, the model `whatif` uses.
    pub fn commits_fit(&self) -> Option<&LogisticFit> {
        self.fits
            .iter()
            .find(|f| f.measure == Measure::Commits)
            .and_then(|f| f.fit.as_ref())
    }
}

/// Buckets `deployments` by `measure`; empty buckets are left out.
pub fn risk_buckets(deployments: &[Deployment], measure: Measure) -> Vec<RiskBucket> {
    let bounds = measure.bounds();
    let mut out = vec![];
    for (k, &min) in bounds.iter().enumerate() {
        let max = bounds.get(k + 1).map(|b| b - 1);
        let inside: Vec<&Deployment> = deployments
            .iter()
            .filter(|d| {
                let v = measure.of(d);
                v >= min && max.is_none_or(|m| v <= m)
            })
            .collect();
        if inside.is_empty() {
            continue;
        }
        let n = inside.len();
        let failures = inside.iter().filter(|d| d.failed).count();
        let (ci_lo, ci_hi) = stats::wilson(failures as u64, n as u64, 0.95).unwrap_or((0.0, 1.0));
        let rec: Vec<f64> = inside
            .iter()
            .filter(|d| d.failed)
            .filter_map(|d| d.recovery_s)
            .filter(|s| *s >= 0)
            .map(|s| s as f64 / 3600.0)
            .collect();
        let bucket = match max {
            Some(m) if m == min => min.to_string(),
            Some(m) => format!("{min}-{m}"),
            None => format!("{min}+"),
        };
        out.push(RiskBucket {
            measure,
            bucket,
            min,
            max,
            deployments: n,
            failures,
            failure_rate: failures as f64 / n as f64,
            ci_lo,
            ci_hi,
            median_recovery_h: stats::median(&rec),
        });
    }
    out
}

/// Fits failure on log2(batch size) over the deployments with a batch ≥ 1.
pub fn risk_fit(deployments: &[Deployment], measure: Measure) -> RiskFit {
    let used: Vec<&Deployment> = deployments.iter().filter(|d| measure.of(d) >= 1).collect();
    let x: Vec<f64> = used.iter().map(|d| (measure.of(d) as f64).log2()).collect();
    let y: Vec<bool> = used.iter().map(|d| d.failed).collect();
    let failures = y.iter().filter(|b| **b).count();
    match stats::logistic_regression(&x, &y) {
        Ok(fit) => {
            let (lo, hi) = fit.odds_ratio_ci(0.95);
            RiskFit {
                measure,
                deployments: used.len(),
                failures,
                odds_ratio_per_doubling: Some(fit.odds_ratio()),
                ci_lo: Some(lo),
                ci_hi: Some(hi),
                p_value: Some(fit.p_value),
                fit: Some(fit),
                error: None,
            }
        }
        Err(e) => RiskFit {
            measure,
            deployments: used.len(),
            failures,
            odds_ratio_per_doubling: None,
            ci_lo: None,
            ci_hi: None,
            p_value: None,
            fit: None,
            error: Some(e.to_string()),
        },
    }
}

/// The `risk` analysis of the deployments of one environment.
pub fn risk_report(deployments: &[Deployment], environment: &str) -> RiskReport {
    let n = deployments.len();
    let failures = deployments.iter().filter(|d| d.failed).count();
    let mut buckets = risk_buckets(deployments, Measure::Commits);
    buckets.extend(risk_buckets(deployments, Measure::Lines));
    let fits = vec![
        risk_fit(deployments, Measure::Commits),
        risk_fit(deployments, Measure::Lines),
    ];
    let mut warnings = vec![];
    if n == 0 {
        warnings.push(format!(
            "no deployments to environment `{environment}`: nothing can be concluded (is `--env` the production environment, and has `flowmeter analyze` run?)"
        ));
    } else if n < MIN_DEPLOYMENTS || failures < MIN_FAILURES {
        warnings.push(format!(
            "small sample: {n} deployments and {failures} failures (fewer than {MIN_DEPLOYMENTS} deployments or {MIN_FAILURES} failures). \
             The bucket rates have wide intervals, and the fit cannot show that batch size affects failure, nor rule it out: \
             read these numbers as a description of this history, not as evidence."
        ));
    }
    for f in &fits {
        if let Some(e) = &f.error {
            warnings.push(format!("{} fit: {e}", f.measure.name()));
        }
    }
    let mut notes = vec![];
    for f in &fits {
        if let (Some(or), Some(lo), Some(hi), Some(p)) =
            (f.odds_ratio_per_doubling, f.ci_lo, f.ci_hi, f.p_value)
        {
            let verdict = if lo > 1.0 {
                "bigger batches failed more often, beyond what chance explains at the 5% level"
            } else if hi < 1.0 {
                "bigger batches failed less often, beyond what chance explains at the 5% level"
            } else {
                "the interval includes 1, so these data cannot tell a batch-size effect from chance"
            };
            notes.push(format!(
                "{}: each doubling of the batch multiplies the odds of failure by {or:.2} (95% CI {lo:.2}-{hi:.2}, p = {p:.3}): {verdict}.",
                f.measure.name()
            ));
        }
    }
    let empty = deployments.iter().filter(|d| d.batch_commits == 0).count();
    if empty > 0 {
        notes.push(format!(
            "{empty} deployments shipped no commits (rollbacks, redeploys): they are in bucket 0 but not in the commits fit, since log2(0) is undefined."
        ));
    }
    notes.push(
        "Intervals are 95% Wilson score intervals; the fit is a logistic regression of failure on log2(batch size) with Wald intervals. \
         It shows association in this history, not causation: big batches may coincide with risky work."
            .into(),
    );
    RiskReport {
        environment: environment.to_string(),
        deployments: n,
        failures,
        empty_deployments: empty,
        buckets,
        fits,
        warnings,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(commits: i64, lines: i64, failed: bool, rec: Option<i64>) -> Deployment {
        Deployment {
            repo: "r".into(),
            deployment_id: format!("d{commits}-{lines}"),
            deployed_at: 0,
            batch_commits: commits,
            batch_lines: lines,
            failed,
            recovery_s: rec,
        }
    }

    #[test]
    fn buckets_count_rates_and_recovery_by_hand() {
        let d = vec![
            dep(0, 0, false, None),
            dep(1, 5, false, None),
            dep(2, 12, true, Some(3600)),
            dep(3, 60, true, Some(3 * 3600)),
            dep(3, 60, false, None),
            dep(70, 9000, true, None),
        ];
        let b = risk_buckets(&d, Measure::Commits);
        let labels: Vec<&str> = b.iter().map(|b| b.bucket.as_str()).collect();
        assert_eq!(labels, ["0", "1", "2-3", "64+"]);
        let b23 = &b[2];
        assert_eq!((b23.deployments, b23.failures), (3, 2));
        assert!((b23.failure_rate - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(b23.median_recovery_h, Some(2.0));
        assert_eq!(b[3].median_recovery_h, None);
        let l = risk_buckets(&d, Measure::Lines);
        let labels: Vec<&str> = l.iter().map(|b| b.bucket.as_str()).collect();
        assert_eq!(labels, ["0", "1-9", "10-49", "50-99", "5000+"]);
    }

    #[test]
    fn small_samples_warn_and_say_what_cannot_be_concluded() {
        let d = vec![dep(1, 1, false, None), dep(4, 1, true, None)];
        let r = risk_report(&d, "production");
        assert!(r.warnings[0].contains("small sample: 2 deployments and 1 failures"));
        assert!(r.warnings[0].contains("nor rule it out"));
        // Two points cannot be fitted.
        assert!(r.fits[0].error.is_some());
        assert!(risk_report(&[], "prod").warnings[0].contains("no deployments"));
    }
}

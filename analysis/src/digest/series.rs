//! The digest's series: the number structs each chart draws, and the weekly
//! counts and lead-time bins behind them.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Production deployments in one week (Monday-based).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekCount {
    /// The Monday that starts the week.
    pub week_start: NaiveDate,
    pub deployments: u64,
}

/// Lead-time quantiles of one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadTimeMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Changes with a lead time (clock-skewed ones are counted apart).
    pub changes: u64,
    pub p25_hours: Option<f64>,
    pub median_hours: Option<f64>,
    pub p75_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

/// Lead times on bins that double in width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadTimeHistogram {
    pub bins: Vec<HistogramBin>,
    pub median_hours: Option<f64>,
    /// Negative lead times (clock skew): left out of the bins, counted here.
    pub excluded_negative: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramBin {
    pub lo_hours: f64,
    pub hi_hours: f64,
    pub count: u64,
}

/// One deployment's batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchPoint {
    pub deployed_at: DateTime<Utc>,
    pub size: u64,
    pub failed: bool,
}

/// Deployments and failures of one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailMonth {
    pub month: String,
    pub deployments: u64,
    pub failed: u64,
    /// `None` when nothing was deployed.
    pub rate: Option<f64>,
}

/// One failed deployment's time to recovery (`None`: not recovered yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryPoint {
    pub deployed_at: DateTime<Utc>,
    pub recovery_hours: Option<f64>,
}

/// Failure rate of one batch-size bucket, with its 95% Wilson interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchBucket {
    /// The bucket, e.g. `3–5`.
    pub label: String,
    pub deployments: u64,
    pub failed: u64,
    pub rate: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Median dwell per environment stage in one month (`NaN`: no change
/// completed that stage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StagePeriod {
    pub label: String,
    /// The most changes any one stage saw.
    pub changes: u64,
    /// One value per stage, in promotion order.
    pub hours: Vec<f64>,
}

/// Daily drift between two adjacent environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftSeries {
    pub from: String,
    pub to: String,
    pub points: Vec<DriftPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftPoint {
    pub date: NaiveDate,
    /// Non-merge changes in `from` and not yet in `to` at the end of the day.
    pub changes: u64,
}

/// One environment's wait for the next release train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainWait {
    pub repo: String,
    pub environment: String,
    /// The share of lead time spent waiting for a train.
    pub share: f64,
    pub median_wait_hours: Option<f64>,
    pub changes: u64,
}

/// Lead time under alternative release cadences (the what-if results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfLeadTime {
    pub policies: Vec<WhatIfPolicy>,
    pub assumptions: Vec<String>,
    /// `whatif`'s warnings (extrapolation, a fit without a significant link).
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfPolicy {
    /// e.g. "current", "weekly".
    pub name: String,
    pub deployments_per_month: f64,
    pub lead_median_hours: f64,
    pub lead_p90_hours: f64,
    pub batch_median: Option<f64>,
    /// Expected failed deployments under the risk model, with its 95% interval;
    /// `None` without a fitted model.
    pub predicted_failures: Option<f64>,
    pub predicted_failures_lo: Option<f64>,
    pub predicted_failures_hi: Option<f64>,
    /// Expected changes that ship inside a failed deployment (stuck until it
    /// is recovered), with its 95% interval; `None` without a fitted model.
    #[serde(default)]
    pub predicted_changes_in_failed: Option<f64>,
    #[serde(default)]
    pub predicted_changes_in_failed_lo: Option<f64>,
    #[serde(default)]
    pub predicted_changes_in_failed_hi: Option<f64>,
}

/// Mondays from the week holding `from` until `to`, with the deployments of
/// each week, and the 4-week trailing mean of those counts.
pub(super) fn weeks(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    at: &[DateTime<Utc>],
) -> (Vec<WeekCount>, Vec<f64>) {
    let d = from.date_naive();
    let mut w = d - TimeDelta::days(d.weekday().num_days_from_monday() as i64);
    let mut weeks = vec![];
    while utc(w) < to {
        let (a, b) = (utc(w), utc(w + TimeDelta::days(7)));
        weeks.push(WeekCount {
            week_start: w,
            deployments: at.iter().filter(|t| **t >= a && **t < b).count() as u64,
        });
        w += TimeDelta::days(7);
    }
    let trend = (0..weeks.len())
        .map(|i| {
            let lo = i.saturating_sub(3);
            let s: u64 = weeks[lo..=i].iter().map(|w| w.deployments).sum();
            s as f64 / (i - lo + 1) as f64
        })
        .collect();
    (weeks, trend)
}

/// Lead times on bins doubling from 15 minutes; zero lead times go in the
/// first bin.
pub(super) fn histogram(sorted_hours: &[f64], negative: u64) -> LeadTimeHistogram {
    let mut bins: BTreeMap<i32, u64> = BTreeMap::new();
    for h in sorted_hours {
        let k = if *h <= 0.25 {
            0
        } else {
            (h / 0.25).log2().ceil() as i32
        };
        *bins.entry(k).or_default() += 1;
    }
    let (lo, hi) = match (bins.keys().next(), bins.keys().last()) {
        (Some(a), Some(b)) => (*a, *b),
        _ => (0, -1),
    };
    LeadTimeHistogram {
        bins: (lo..=hi)
            .map(|k| {
                let top = 0.25 * 2f64.powi(k);
                HistogramBin {
                    lo_hours: if k == 0 { 0.125 } else { top / 2.0 },
                    hi_hours: top,
                    count: bins.get(&k).copied().unwrap_or(0),
                }
            })
            .collect(),
        median_hours: crate::stats::quantile_sorted(sorted_hours, 0.5),
        excluded_negative: negative,
    }
}

/// Midnight UTC of a day.
pub(super) fn utc(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_double_from_a_quarter_hour() {
        // 0 h and 0.25 h in the first bin, 0.3 h in (0.25, 0.5], 3 h in (2, 4].
        let h = histogram(&[0.0, 0.25, 0.3, 3.0], 2);
        let bins: Vec<(f64, f64, u64)> = h
            .bins
            .iter()
            .map(|b| (b.lo_hours, b.hi_hours, b.count))
            .collect();
        assert_eq!(
            bins,
            [
                (0.125, 0.25, 2),
                (0.25, 0.5, 1),
                (0.5, 1.0, 0),
                (1.0, 2.0, 0),
                (2.0, 4.0, 1)
            ]
        );
        assert_eq!(h.median_hours, Some(0.275));
        assert_eq!(h.excluded_negative, 2);
        assert!(histogram(&[], 0).bins.is_empty());
    }

    #[test]
    fn weeks_start_on_monday_with_a_trailing_mean() {
        let d = |s: &str| utc(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        // 2026-03-04 is a Wednesday: the first week starts Monday 03-02.
        let at = [d("2026-03-02"), d("2026-03-08"), d("2026-03-10")];
        let (w, t) = weeks(d("2026-03-04"), d("2026-03-16"), &at);
        let counts: Vec<(String, u64)> = w
            .iter()
            .map(|w| (w.week_start.to_string(), w.deployments))
            .collect();
        assert_eq!(
            counts,
            [("2026-03-02".to_string(), 2), ("2026-03-09".to_string(), 1)]
        );
        assert_eq!(t, [2.0, 1.5]);
    }
}

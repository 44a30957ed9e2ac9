//! The deck's before/after section: [`compare`](crate::compare) over the two
//! periods around a process change (`[process_change]` in the config) or over
//! two given periods, for the four metrics the slide shows, each with the
//! direction its interval supports.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::compare::{CompareReport, CompareRow, Period};

/// The metrics the slide shows, in order (`compare`'s metric names).
pub const BEFORE_AFTER_METRICS: [&str; 4] = [
    "lead_time",
    "batch_commits",
    "change_fail_rate",
    "recovery_time",
];

/// What the 95% interval of `after − before` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The whole interval is below zero: after is lower.
    Lower,
    /// The whole interval is above zero: after is higher.
    Higher,
    /// The interval includes zero: the data cannot tell a change from chance.
    NoClearChange,
    /// A period has no data for this metric.
    NoData,
}

impl Verdict {
    /// The verdict of an interval `lo..=hi` of `after − before`.
    pub fn of(difference: Option<(f64, f64)>) -> Verdict {
        match difference {
            None => Verdict::NoData,
            Some((_, hi)) if hi < 0.0 => Verdict::Lower,
            Some((lo, _)) if lo > 0.0 => Verdict::Higher,
            Some(_) => Verdict::NoClearChange,
        }
    }
}

/// One period, as days (both included) and as `compare` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSpan {
    /// `FROM..TO`, as `flowmeter compare --before/--after` takes it.
    pub label: String,
    pub from: NaiveDate,
    /// The last day included.
    pub to: NaiveDate,
}

impl PeriodSpan {
    fn of(p: &Period) -> PeriodSpan {
        let day = |us: i64| {
            DateTime::<Utc>::from_timestamp_micros(us)
                .map(|t| t.date_naive())
                .unwrap_or_default()
        };
        PeriodSpan {
            label: p.label.clone(),
            from: day(p.start),
            to: day(p.end) - TimeDelta::days(1),
        }
    }
}

/// One metric before and after: `compare`'s row, flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeforeAfterRow {
    /// `compare`'s metric name: `lead_time`, `batch_commits`, `change_fail_rate`, `recovery_time`.
    pub metric: String,
    /// `hours`, `commits`, `fraction`.
    pub unit: String,
    /// `median` or `rate`.
    pub statistic: String,
    /// What one observation is: `change`, `deployment`, `failed deployment`.
    pub per: String,
    pub n_before: u64,
    pub n_after: u64,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// `after − before`, with its 95% bootstrap interval.
    pub difference: Option<f64>,
    pub difference_lo: Option<f64>,
    pub difference_hi: Option<f64>,
    /// The Mann–Whitney U test's two-sided p-value.
    pub p_value: Option<f64>,
    pub verdict: Verdict,
}

impl BeforeAfterRow {
    fn of(r: &CompareRow) -> BeforeAfterRow {
        let d = r.difference.as_ref();
        BeforeAfterRow {
            metric: r.metric.clone(),
            unit: r.unit.clone(),
            statistic: r.statistic.clone(),
            per: r.per.clone(),
            n_before: r.n_before as u64,
            n_after: r.n_after as u64,
            before: r.before,
            after: r.after,
            difference: d.map(|d| d.estimate),
            difference_lo: d.map(|d| d.lo),
            difference_hi: d.map(|d| d.hi),
            p_value: r.mann_whitney.as_ref().map(|m| m.p_value),
            verdict: Verdict::of(d.map(|d| (d.lo, d.hi))),
        }
    }
}

/// The before/after comparison the deck shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeforeAfter {
    /// The config's process change date, when the periods come from it
    /// (`None`: they were given as `--before`/`--after`).
    pub change_date: Option<NaiveDate>,
    /// What changed, from the config.
    pub label: Option<String>,
    pub before: PeriodSpan,
    pub after: PeriodSpan,
    /// [`BEFORE_AFTER_METRICS`], in that order.
    pub rows: Vec<BeforeAfterRow>,
    /// Bootstrap resamples and seed (as `flowmeter compare`'s defaults).
    pub resamples: usize,
    pub seed: u64,
    /// `compare`'s warnings for these rows (small samples, overlap, clock skew).
    pub warnings: Vec<String>,
    /// How the numbers were computed.
    pub notes: Vec<String>,
}

impl BeforeAfter {
    /// The slide's section of a `compare` report.
    pub fn of(
        r: &CompareReport,
        change_date: Option<NaiveDate>,
        label: Option<String>,
    ) -> BeforeAfter {
        let rows: Vec<BeforeAfterRow> = BEFORE_AFTER_METRICS
            .iter()
            .filter_map(|m| r.rows.iter().find(|row| row.metric == *m))
            .map(BeforeAfterRow::of)
            .collect();
        let shown = |w: &String| {
            // Per-metric warnings start with the metric's name.
            match w.split_once(':') {
                Some((m, _)) if r.rows.iter().any(|row| row.metric == m) => {
                    BEFORE_AFTER_METRICS.contains(&m)
                }
                _ => true,
            }
        };
        let mut warnings: Vec<String> = r.warnings.iter().filter(|w| shown(w)).cloned().collect();
        if r.negative_lead_times > 0 {
            warnings.push(format!(
                "{} negative lead times (clock skew) left out",
                r.negative_lead_times
            ));
        }
        let (resamples, seed) = r
            .rows
            .iter()
            .find_map(|row| row.difference.as_ref())
            .map(|d| (d.resamples, d.seed))
            .unwrap_or_default();
        BeforeAfter {
            change_date,
            label,
            before: PeriodSpan::of(&r.before),
            after: PeriodSpan::of(&r.after),
            rows,
            resamples,
            seed,
            warnings,
            notes: r.notes.clone(),
        }
    }
}

/// The two periods around a process change on `date`, within the deck's
/// `since..=until`: `since..date−1` and `date..until`. `Err` says why there
/// is no comparison.
pub fn periods_around(
    date: NaiveDate,
    since: NaiveDate,
    until: NaiveDate,
) -> std::result::Result<(String, String), String> {
    if date <= since || date > until {
        return Err(format!(
            "not available: before/after the process change of {date} (the deck covers {since} – {until}, so one side is empty)"
        ));
    }
    Ok((
        format!("{since}..{}", date - TimeDelta::days(1)),
        format!("{date}..{until}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_follows_the_interval() {
        assert_eq!(Verdict::of(Some((-3.0, -1.0))), Verdict::Lower);
        assert_eq!(Verdict::of(Some((0.5, 2.0))), Verdict::Higher);
        assert_eq!(Verdict::of(Some((-1.0, 2.0))), Verdict::NoClearChange);
        assert_eq!(Verdict::of(Some((0.0, 2.0))), Verdict::NoClearChange);
        assert_eq!(Verdict::of(None), Verdict::NoData);
    }

    /// Twenty deployments a period: before, big batches, every other one
    /// failed; after, small batches, one in ten failed; lead times 100 h → 10 h.
    #[test]
    fn the_section_is_compare_for_the_four_metrics_with_their_verdicts() {
        use crate::compare::{compare, parse_period, CompareOptions, ShippedChange};
        use crate::risk::Deployment;
        let before = parse_period("2025-01-01..2025-01-31").unwrap();
        let after = parse_period("2025-02-01..2025-02-28").unwrap();
        let hour = 3_600_000_000i64;
        let mut deps = vec![];
        let mut changes = vec![];
        for i in 0..20i64 {
            for (p, batch, failed, lead) in [
                (&before, 40, i % 2 == 0, 100 + i),
                (&after, 3, i % 10 == 0, 10 + i % 3),
            ] {
                let at = p.start + (i + 1) * 24 * hour;
                deps.push(Deployment {
                    repo: "r".into(),
                    deployment_id: format!("{at}"),
                    deployed_at: at,
                    batch_commits: batch,
                    batch_lines: 10 * batch,
                    failed,
                    // Recovery is alike on both sides: no clear change.
                    recovery_s: failed.then_some(3600 * (2 + i % 3)),
                });
                changes.push(ShippedChange {
                    deployed_at: at,
                    lead_time_s: Some(lead * 3600),
                });
            }
        }
        let r = compare(
            "production",
            &deps,
            &changes,
            before,
            after,
            &CompareOptions::default(),
        );
        let d = NaiveDate::from_ymd_opt(2025, 2, 1).unwrap();
        let b = BeforeAfter::of(&r, Some(d), Some("trunk".into()));
        let metrics: Vec<&str> = b.rows.iter().map(|r| r.metric.as_str()).collect();
        assert_eq!(metrics, BEFORE_AFTER_METRICS);
        assert_eq!(b.before.from.to_string(), "2025-01-01");
        assert_eq!(b.before.to.to_string(), "2025-01-31");
        assert_eq!(b.after.label, "2025-02-01..2025-02-28");
        assert_eq!((b.resamples, b.seed), (2000, 42));
        // Every number is compare's own.
        for row in &b.rows {
            let c = r.rows.iter().find(|c| c.metric == row.metric).unwrap();
            assert_eq!(row.before, c.before);
            assert_eq!(row.after, c.after);
            assert_eq!(row.difference, c.difference.as_ref().map(|d| d.estimate));
            assert_eq!(row.difference_lo, c.difference.as_ref().map(|d| d.lo));
            assert_eq!(row.difference_hi, c.difference.as_ref().map(|d| d.hi));
            assert_eq!(row.p_value, c.mann_whitney.as_ref().map(|m| m.p_value));
            assert_eq!(
                (row.n_before, row.n_after),
                (c.n_before as u64, c.n_after as u64)
            );
        }
        let verdict = |m: &str| b.rows.iter().find(|r| r.metric == m).unwrap().verdict;
        assert_eq!(verdict("lead_time"), Verdict::Lower);
        assert_eq!(verdict("batch_commits"), Verdict::Lower);
        assert_eq!(verdict("change_fail_rate"), Verdict::Lower);
        assert_eq!(verdict("recovery_time"), Verdict::NoClearChange);
        // Warnings about metrics the slide leaves out are left out too.
        assert!(
            b.warnings
                .iter()
                .all(|w| !w.starts_with("deployments_per_week")),
            "{:?}",
            b.warnings
        );
        assert!(
            b.warnings
                .iter()
                .any(|w| w.starts_with("recovery_time: only 10 before and 2 after")),
            "{:?}",
            b.warnings
        );
    }

    #[test]
    fn periods_split_at_the_change_day() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            periods_around(d("2025-07-01"), d("2025-01-02"), d("2025-12-30")),
            Ok((
                "2025-01-02..2025-06-30".to_string(),
                "2025-07-01..2025-12-30".to_string()
            ))
        );
        // The change on the deck's first day leaves no "before".
        assert!(periods_around(d("2025-01-02"), d("2025-01-02"), d("2025-12-30")).is_err());
        assert!(
            periods_around(d("2026-01-01"), d("2025-01-02"), d("2025-12-30"))
                .unwrap_err()
                .contains("one side is empty")
        );
        // The change on the last day leaves one day after.
        assert!(periods_around(d("2025-12-30"), d("2025-01-02"), d("2025-12-30")).is_ok());
    }
}

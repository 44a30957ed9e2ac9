//! DORA performance tiers as versioned data, keyed by report year.
//!
//! Each row is one tier's boundary for one metric in one year's report, from
//! the *Accelerate State of DevOps* reports (2023 and 2024, dora.dev). The
//! reports give ranges in words ("between once per day and once per week");
//! the numbers below are those words as boundaries. Tiers are tried from best
//! to worst and the first one whose boundary holds wins.

/// The report years with a tier table.
pub const YEARS: &[u16] = &[2023, 2024];

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// One boundary: `tier` holds when the value is `>= bound` (Higher) or `<= bound` (Lower).
#[derive(Debug, Clone, Copy)]
pub struct Threshold {
    pub year: u16,
    pub metric: &'static str,
    pub tier: &'static str,
    pub better: Better,
    pub bound: f64,
}

const fn t(
    year: u16,
    metric: &'static str,
    tier: &'static str,
    better: Better,
    bound: f64,
) -> Threshold {
    Threshold {
        year,
        metric,
        tier,
        better,
        bound,
    }
}

use Better::*;

/// Metrics: `deploy_frequency` in deploy days per week, `lead_time` and
/// `recovery` in hours, `change_fail_rate` and `rework_rate` as fractions.
pub const THRESHOLDS: &[Threshold] = &[
    // 2023: elite = on demand (daily or more), high = daily..weekly, medium = weekly..monthly.
    t(2023, "deploy_frequency", "elite", Higher, 7.0),
    t(2023, "deploy_frequency", "high", Higher, 1.0),
    t(2023, "deploy_frequency", "medium", Higher, 0.25),
    t(2023, "deploy_frequency", "low", Higher, 0.0),
    t(2023, "lead_time", "elite", Lower, 24.0),
    t(2023, "lead_time", "high", Lower, 168.0),
    t(2023, "lead_time", "medium", Lower, 720.0),
    t(2023, "lead_time", "low", Lower, f64::INFINITY),
    t(2023, "change_fail_rate", "elite", Lower, 0.05),
    t(2023, "change_fail_rate", "high", Lower, 0.10),
    t(2023, "change_fail_rate", "medium", Lower, 0.15),
    t(2023, "change_fail_rate", "low", Lower, 1.0),
    t(2023, "recovery", "elite", Lower, 1.0),
    t(2023, "recovery", "high", Lower, 24.0),
    t(2023, "recovery", "medium", Lower, 168.0),
    t(2023, "recovery", "low", Lower, f64::INFINITY),
    // 2024: same frequency and lead-time bands; change fail rate 5% / 20% / 10% / 40%
    // (the report's medium cluster fails less often than its high cluster, so with
    // best-first matching a rate in (10%, 20%] is "high"); recovery < 1h / < 1d / < 1d / 1w..1m.
    t(2024, "deploy_frequency", "elite", Higher, 7.0),
    t(2024, "deploy_frequency", "high", Higher, 1.0),
    t(2024, "deploy_frequency", "medium", Higher, 0.25),
    t(2024, "deploy_frequency", "low", Higher, 0.0),
    t(2024, "lead_time", "elite", Lower, 24.0),
    t(2024, "lead_time", "high", Lower, 168.0),
    t(2024, "lead_time", "medium", Lower, 720.0),
    t(2024, "lead_time", "low", Lower, f64::INFINITY),
    t(2024, "change_fail_rate", "elite", Lower, 0.05),
    t(2024, "change_fail_rate", "high", Lower, 0.20),
    t(2024, "change_fail_rate", "medium", Lower, 0.10),
    t(2024, "change_fail_rate", "low", Lower, 1.0),
    t(2024, "recovery", "elite", Lower, 1.0),
    t(2024, "recovery", "high", Lower, 24.0),
    t(2024, "recovery", "medium", Lower, 24.0),
    t(2024, "recovery", "low", Lower, f64::INFINITY),
];

/// The tier of `value` for `metric` in `year`'s table; `None` without a value.
pub fn tier(year: u16, metric: &str, value: Option<f64>) -> Option<&'static str> {
    let v = value?;
    THRESHOLDS
        .iter()
        .filter(|t| t.year == year && t.metric == metric)
        .find(|t| match t.better {
            Higher => v >= t.bound,
            Lower => v <= t.bound,
        })
        .map(|t| t.tier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_by_year() {
        assert_eq!(tier(2024, "lead_time", Some(23.0)), Some("elite"));
        assert_eq!(tier(2024, "lead_time", Some(100.0)), Some("high"));
        assert_eq!(tier(2024, "lead_time", Some(1000.0)), Some("low"));
        assert_eq!(tier(2023, "change_fail_rate", Some(0.12)), Some("medium"));
        assert_eq!(tier(2024, "change_fail_rate", Some(0.12)), Some("high"));
        assert_eq!(tier(2024, "deploy_frequency", Some(0.5)), Some("medium"));
        assert_eq!(tier(2024, "recovery", None), None);
        for y in YEARS {
            for m in [
                "deploy_frequency",
                "lead_time",
                "change_fail_rate",
                "recovery",
            ] {
                assert_eq!(
                    THRESHOLDS
                        .iter()
                        .filter(|t| t.year == *y && t.metric == m)
                        .count(),
                    4
                );
            }
        }
    }
}

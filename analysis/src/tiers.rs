//! DORA performance tiers as versioned data, keyed by report year.
//!
//! Each row is one tier's boundary for one metric in one year's report, from
//! the *Accelerate State of DevOps* reports (2023 and 2024, dora.dev). The
//! reports give ranges in words ("between once per day and once per week");
//! the numbers below are those words as boundaries. Tiers are tried from best
//! to worst and the first one whose boundary holds wins.

/// The report years with a tier table.
use serde::{Deserialize, Serialize};

pub const YEARS: &[u16] = &[2023, 2024];

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
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

/// A DORA performance tier, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Elite,
    High,
    Medium,
    Low,
}

impl Tier {
    /// All tiers, best first.
    pub const ALL: [Tier; 4] = [Tier::Elite, Tier::High, Tier::Medium, Tier::Low];

    /// The key used in [`THRESHOLDS`] and in metric tables (`"elite"`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Tier::Elite => "elite",
            Tier::High => "high",
            Tier::Medium => "medium",
            Tier::Low => "low",
        }
    }

    /// The tier's name as printed.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Elite => "Elite",
            Tier::High => "High",
            Tier::Medium => "Medium",
            Tier::Low => "Low",
        }
    }

    /// The tier of a key as [`tier`] returns it.
    pub fn parse(key: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.key() == key)
    }
}

/// What a tier's boundary says of a value, as best-first matching applies it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "op", content = "bound", rename_all = "snake_case")]
pub enum Limit {
    /// The tier holds at or above the bound (higher is better).
    AtLeast(f64),
    /// The tier holds at or below the bound (lower is better).
    AtMost(f64),
    /// The worst tier, below the loosest bound above it (higher is better).
    Below(f64),
    /// The worst tier, past the loosest bound above it (lower is better).
    Above(f64),
    /// No boundary in the table.
    None,
}

/// One tier's boundary for one metric, as a scorecard lists it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierLimit {
    pub tier: Tier,
    pub limit: Limit,
}

/// A value range that best-first matching gives one tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TierBand {
    pub tier: Tier,
    pub lo: f64,
    pub hi: f64,
}

fn bound(year: u16, metric: &str, tier: Tier) -> Option<&'static Threshold> {
    THRESHOLDS
        .iter()
        .find(|t| t.year == year && t.metric == metric && t.tier == tier.key())
}

/// The direction of `metric` in `year`'s table (`None`: not a tiered metric).
pub fn better(year: u16, metric: &str) -> Option<Better> {
    THRESHOLDS
        .iter()
        .find(|t| t.year == year && t.metric == metric)
        .map(|t| t.better)
}

/// Each tier's boundary, Elite first, with the direction taken from the
/// table: the worst tier starts past the loosest bound of the tiers above it.
/// Empty for a metric the table does not tier.
pub fn tier_limits(year: u16, metric: &str) -> Vec<TierLimit> {
    let Some(direction) = better(year, metric) else {
        return vec![];
    };
    let higher = direction == Higher;
    let mut out = vec![];
    let mut loosest: Option<f64> = None;
    for tier in Tier::ALL {
        let b = bound(year, metric, tier).map(|t| t.bound);
        let limit = match (tier, b, loosest) {
            (Tier::Low, _, Some(p)) if higher => Limit::Below(p),
            (Tier::Low, _, Some(p)) => Limit::Above(p),
            (_, Some(b), _) if higher => Limit::AtLeast(b),
            (_, Some(b), _) => Limit::AtMost(b),
            _ => Limit::None,
        };
        if let Some(b) = b.filter(|b| b.is_finite()) {
            loosest = Some(match loosest {
                Some(p) if higher => p.min(b),
                Some(p) => p.max(b),
                None => b,
            });
        }
        out.push(TierLimit { tier, limit });
    }
    out
}

/// The bands best-first matching assigns over `[lo, hi]` for a lower-is-better
/// metric: a tier whose bound is below a better tier's never matches and gets
/// no band. Empty for a higher-is-better metric.
pub fn tier_bands(year: u16, metric: &str, lo: f64, hi: f64) -> Vec<TierBand> {
    if better(year, metric) != Some(Lower) {
        return vec![];
    }
    let mut from = lo;
    let mut out = vec![];
    for tier in Tier::ALL {
        let Some(t) = bound(year, metric, tier) else {
            continue;
        };
        let to = t.bound.min(hi);
        if to > from {
            out.push(TierBand {
                tier,
                lo: from,
                hi: to,
            });
            from = to;
        }
    }
    out
}

/// The distinct finite boundaries of `metric`, best tier first (reference
/// lines on a chart).
pub fn tier_bounds(year: u16, metric: &str) -> Vec<(Tier, f64)> {
    let mut out: Vec<(Tier, f64)> = vec![];
    for tier in Tier::ALL {
        let Some(b) = bound(year, metric, tier).map(|t| t.bound) else {
            continue;
        };
        if b.is_finite() && !out.iter().any(|(_, x)| *x == b) {
            out.push((tier, b));
        }
    }
    out
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

    #[test]
    fn limits_and_bands_follow_best_first_matching() {
        // 2024: elite ≤ 5%, high ≤ 20%, medium ≤ 10% (never reached), low beyond.
        let l: Vec<Limit> = tier_limits(2024, "change_fail_rate")
            .iter()
            .map(|t| t.limit)
            .collect();
        assert_eq!(
            l,
            [
                Limit::AtMost(0.05),
                Limit::AtMost(0.2),
                Limit::AtMost(0.1),
                Limit::Above(0.2)
            ]
        );
        let bands: Vec<(Tier, f64, f64)> = tier_bands(2024, "change_fail_rate", 0.0, 1.0)
            .into_iter()
            .map(|b| (b.tier, b.lo, b.hi))
            .collect();
        assert_eq!(
            bands,
            [
                (Tier::Elite, 0.0, 0.05),
                (Tier::High, 0.05, 0.2),
                (Tier::Low, 0.2, 1.0)
            ]
        );
        // Deploy frequency is higher-is-better, read from the table.
        let f: Vec<Limit> = tier_limits(2023, "deploy_frequency")
            .iter()
            .map(|t| t.limit)
            .collect();
        assert_eq!(
            f,
            [
                Limit::AtLeast(7.0),
                Limit::AtLeast(1.0),
                Limit::AtLeast(0.25),
                Limit::Below(0.25)
            ]
        );
        assert!(tier_bands(2023, "deploy_frequency", 0.0, 7.0).is_empty());
        // 2024 recovery: high and medium share 24 h; one line per distinct bound.
        let lines: Vec<f64> = tier_bounds(2024, "recovery").iter().map(|l| l.1).collect();
        assert_eq!(lines, [1.0, 24.0]);
        assert_eq!(Tier::parse("medium"), Some(Tier::Medium));
        assert_eq!(Tier::parse("great"), None);
    }
}

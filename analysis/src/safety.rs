//! The safety-net evidence: did tests, monitoring and rollback keep defects
//! per deployment low and recovery fast? Computed here, once, from the
//! per-deployment evidence that stage 4 writes to `deployment_stats`
//! (`detected_at`, `time_to_detect_s`, `time_to_restore_s`, `restored_by`,
//! `trigger`, `incidents`, `defect_weight`, `tests_passed`); `metrics`,
//! `explain`, the report and the deck read it from here.
//!
//! Intervals are 95%: Wilson for shares, the exact Poisson (Garwood) interval
//! for incidents per deployment, seeded percentile bootstraps for medians and
//! for the weighted defect rate.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::frame::Cols;
use crate::stats::{self, BootstrapCi};

/// Bootstrap resamples and seed for the intervals of medians.
pub const RESAMPLES: usize = 2000;
pub const SEED: u64 = 42;

/// One deployment's safety-net evidence (a `deployment_stats` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SafetyRow {
    pub repo: String,
    pub environment: String,
    pub deployment_id: String,
    /// µs UTC.
    pub deployed_at: i64,
    pub failed: bool,
    pub recovery_s: Option<i64>,
    pub time_to_detect_s: Option<i64>,
    pub time_to_restore_s: Option<i64>,
    /// `status`, `incident`, `revert`, `rollback`, `hotfix`.
    pub detected_by: Option<String>,
    pub detector: Option<String>,
    /// A rollback or revert deployment: `automated` or `manual`.
    pub trigger: Option<String>,
    pub restored_by: Option<String>,
    /// The trigger of the deployment in `restored_by`.
    pub restored_by_trigger: Option<String>,
    pub incidents: i64,
    pub defect_weight: f64,
    pub tests_passed: Option<bool>,
}

/// Every row of a `deployment_stats` frame, in frame order.
pub fn safety_rows(df: &DataFrame) -> Result<Vec<SafetyRow>> {
    let c = Cols::new(df, "deployment_stats");
    let (repo, env, id, at) = (
        c.str("repo")?,
        c.str("environment")?,
        c.str("deployment_id")?,
        c.int("deployed_at")?,
    );
    let (failed, rec, ttd, ttr) = (
        c.bool("failed")?,
        c.int("recovery_s")?,
        c.int("time_to_detect_s")?,
        c.int("time_to_restore_s")?,
    );
    let (by, detector, trigger, restored) = (
        c.str("detected_by")?,
        c.str("detector")?,
        c.str("trigger")?,
        c.str("restored_by")?,
    );
    let (incidents, tests) = (c.int("incidents")?, c.bool("tests_passed")?);
    let weight = c.float("defect_weight")?;
    let key = |i: usize| {
        (
            repo[i].clone().unwrap_or_default(),
            env[i].clone().unwrap_or_default(),
            id[i].clone().unwrap_or_default(),
        )
    };
    let triggers: HashMap<(String, String, String), String> = (0..df.height())
        .filter_map(|i| trigger[i].clone().map(|t| (key(i), t)))
        .collect();
    Ok((0..df.height())
        .map(|i| {
            let (r, e, d) = key(i);
            let restored_by_trigger = restored[i]
                .as_ref()
                .and_then(|j| triggers.get(&(r.clone(), e.clone(), j.clone())).cloned());
            SafetyRow {
                repo: r,
                environment: e,
                deployment_id: d,
                deployed_at: at[i].unwrap_or(0),
                failed: failed[i] == Some(true),
                recovery_s: rec[i],
                time_to_detect_s: ttd[i],
                time_to_restore_s: ttr[i],
                detected_by: by[i].clone(),
                detector: detector[i].clone(),
                trigger: trigger[i].clone(),
                restored_by: restored[i].clone(),
                restored_by_trigger,
                incidents: incidents[i].unwrap_or(0),
                defect_weight: weight[i].unwrap_or(0.0),
                tests_passed: tests[i],
            }
        })
        .collect())
}

/// `k` of `n`, with its Wilson 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub k: usize,
    pub n: usize,
    pub value: Option<f64>,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Share {
    pub fn of(k: usize, n: usize) -> Share {
        let ci = stats::wilson(k as u64, n as u64, 0.95);
        Share {
            k,
            n,
            value: (n > 0).then(|| k as f64 / n as f64),
            lo: ci.map(|c| c.0),
            hi: ci.map(|c| c.1),
        }
    }
}

/// A distribution of spans, in hours: median with its bootstrap interval, p90.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spans {
    pub n: usize,
    pub median_h: Option<f64>,
    pub p90_h: Option<f64>,
    pub median_ci_h: Option<(f64, f64)>,
}

impl Spans {
    /// `interval`: also bootstrap the median's interval.
    pub fn of_seconds(secs: &[i64], interval: bool) -> Spans {
        let h: Vec<f64> = secs.iter().map(|s| *s as f64 / 3600.0).collect();
        Spans {
            n: h.len(),
            median_h: stats::median(&h),
            p90_h: stats::quantile(&h, 0.9),
            median_ci_h: if interval {
                stats::bootstrap_ci(&h, stats::median, RESAMPLES, 0.95, SEED).map(|c| (c.lo, c.hi))
            } else {
                None
            },
        }
    }
}

/// Test evidence: how many deployments shipped with green tests, and how
/// often those failed against the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestEvidence {
    /// Deployments whose test result is known (passed or not).
    pub known: usize,
    /// Green: tests passed on what it shipped, of all deployments (unknown counts as not shown green).
    pub green: Share,
    /// Failure rate of the deployments with green tests.
    pub fail_rate_green: Share,
    /// Failure rate of the rest (tests failed, or no result).
    pub fail_rate_not_green: Share,
    /// `fail_rate_green − fail_rate_not_green`, with its bootstrap interval.
    pub difference: Option<BootstrapCi>,
    /// The same difference's Newcombe (Wilson-based) 95% interval, which
    /// stays honest for small or all-one-outcome groups where the bootstrap
    /// does not; a difference is only claimed when both exclude zero.
    #[serde(default)]
    pub difference_newcombe: Option<(f64, f64)>,
}

/// Rollback evidence: automated rollbacks of all, and recovery per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackEvidence {
    /// Automated rollback and revert deployments, of all of them.
    pub automated: Share,
    /// Recovery (`recovery_s`) of the failures an automated rollback or revert restored.
    pub recovery_automated: Spans,
    /// Recovery of the failures a manual rollback or revert restored.
    pub recovery_manual: Spans,
}

/// Defects: incidents per deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefectEvidence {
    /// Incidents linked to a deployment by a failure signal.
    pub incidents: i64,
    pub deployments: usize,
    /// `incidents / deployments`, with the exact Poisson 95% interval.
    pub per_deployment: Option<f64>,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    /// Weighted by `[defects] severity_weights`, when configured: the
    /// weighted total per deployment with its bootstrap interval.
    pub weighted_per_deployment: Option<BootstrapCi>,
}

/// How each failure was first detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    /// `status`, `incident`, `revert`, `rollback`, `hotfix`.
    pub signal: String,
    /// Who or what: the incident tool, the deploy pipeline, a person.
    pub detector: String,
    pub failures: usize,
}

/// The safety net over a set of deployments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SafetyNet {
    pub deployments: usize,
    pub failures: Share,
    pub tests: TestEvidence,
    /// Deployment → first failure signal, of failed deployments.
    pub time_to_detect: Spans,
    /// First failure signal → recovery, of failed deployments.
    pub time_to_restore: Spans,
    pub detections: Vec<Detection>,
    pub rollbacks: RollbackEvidence,
    pub defects: DefectEvidence,
}

/// What [`safety_net`] computes besides the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetOptions {
    /// `[defects] severity_weights` are configured: report the weighted rate.
    pub weighted: bool,
    /// Bootstrap the intervals of medians and differences (Wilson and Poisson
    /// intervals are always given; they cost nothing).
    pub bootstrap: bool,
}

/// The safety net of `rows` (one environment's deployments in a window).
pub fn safety_net(rows: &[SafetyRow], opts: NetOptions) -> SafetyNet {
    let (weighted, boot) = (opts.weighted, opts.bootstrap);
    let n = rows.len();
    let failed: Vec<&SafetyRow> = rows.iter().filter(|r| r.failed).collect();
    let green: Vec<&SafetyRow> = rows
        .iter()
        .filter(|r| r.tests_passed == Some(true))
        .collect();
    let rest: Vec<&SafetyRow> = rows
        .iter()
        .filter(|r| r.tests_passed != Some(true))
        .collect();
    let fails = |v: &[&SafetyRow]| v.iter().filter(|r| r.failed).count();
    let as01 = |v: &[&SafetyRow]| -> Vec<f64> {
        v.iter().map(|r| f64::from(u8::from(r.failed))).collect()
    };
    let tests = TestEvidence {
        known: rows.iter().filter(|r| r.tests_passed.is_some()).count(),
        green: Share::of(green.len(), n),
        fail_rate_green: Share::of(fails(&green), green.len()),
        fail_rate_not_green: Share::of(fails(&rest), rest.len()),
        difference_newcombe: stats::newcombe(
            fails(&green) as u64,
            green.len() as u64,
            fails(&rest) as u64,
            rest.len() as u64,
            0.95,
        ),
        // bootstrap_diff gives stat(second) − stat(first).
        difference: if boot {
            stats::bootstrap_diff(
                &as01(&rest),
                &as01(&green),
                stats::mean,
                RESAMPLES,
                0.95,
                SEED,
            )
        } else {
            None
        },
    };
    let secs = |f: &dyn Fn(&SafetyRow) -> Option<i64>| -> Vec<i64> {
        failed
            .iter()
            .filter_map(|r| f(r))
            .filter(|s| *s >= 0)
            .collect()
    };
    let mut det: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &failed {
        if let (Some(s), Some(d)) = (&r.detected_by, &r.detector) {
            *det.entry((s.clone(), d.clone())).or_default() += 1;
        }
    }
    let mut detections: Vec<Detection> = det
        .into_iter()
        .map(|((signal, detector), failures)| Detection {
            signal,
            detector,
            failures,
        })
        .collect();
    detections.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.signal.cmp(&b.signal)));
    let remedies: Vec<&SafetyRow> = rows.iter().filter(|r| r.trigger.is_some()).collect();
    let automated = remedies
        .iter()
        .filter(|r| r.trigger.as_deref() == Some("automated"))
        .count();
    let recovery_of = |class: &str| -> Vec<i64> {
        failed
            .iter()
            .filter(|r| r.restored_by_trigger.as_deref() == Some(class))
            .filter_map(|r| r.recovery_s)
            .collect()
    };
    let incidents: i64 = rows.iter().map(|r| r.incidents).sum();
    let (lo, hi) = stats::poisson_ci(incidents.max(0) as u64, 0.95);
    let weights: Vec<f64> = rows.iter().map(|r| r.defect_weight).collect();
    SafetyNet {
        deployments: n,
        failures: Share::of(failed.len(), n),
        tests,
        time_to_detect: Spans::of_seconds(&secs(&|r| r.time_to_detect_s), boot),
        time_to_restore: Spans::of_seconds(&secs(&|r| r.time_to_restore_s), boot),
        detections,
        rollbacks: RollbackEvidence {
            automated: Share::of(automated, remedies.len()),
            recovery_automated: Spans::of_seconds(&recovery_of("automated"), boot),
            recovery_manual: Spans::of_seconds(&recovery_of("manual"), boot),
        },
        defects: DefectEvidence {
            incidents,
            deployments: n,
            per_deployment: (n > 0).then(|| incidents as f64 / n as f64),
            lo: (n > 0).then(|| lo / n as f64),
            hi: (n > 0).then(|| hi / n as f64),
            weighted_per_deployment: if weighted && boot {
                stats::bootstrap_ci(&weights, stats::mean, RESAMPLES, 0.95, SEED)
            } else {
                None
            },
        },
    }
}

// ---- the safety-net section: the table, its trend and its verdict ----------

/// Fewer deployments than this cannot support a verdict.
pub const MIN_DEPLOYMENTS: usize = 30;
/// The bars "safe to deploy more often" must clear, each on the side of its
/// 95% interval that is least favourable. They are flowmeter's judgement,
/// stated in every report: most deployments tested (green-test share's lower
/// bound at least 90%), few failures (change fail rate's upper bound at most
/// 15%, the 2023 DORA report's medium boundary), recovery within a day (the
/// median time to restore's upper bound at most 24 h, DORA's "less than one
/// day"), and rollback mostly automated (automated share's lower bound at
/// least 50%).
pub const MIN_GREEN_SHARE: f64 = 0.9;
pub const MAX_FAIL_RATE: f64 = 0.15;
pub const MAX_RESTORE_H: f64 = 24.0;
pub const MIN_AUTOMATED_SHARE: f64 = 0.5;

/// One line of the safety-net table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetMetric {
    Deployments,
    GreenTests,
    Failures,
    TimeToDetect,
    TimeToRestore,
    AutomatedRollbacks,
    DefectsPerDeployment,
}

impl NetMetric {
    pub const ALL: [NetMetric; 7] = [
        NetMetric::Deployments,
        NetMetric::GreenTests,
        NetMetric::Failures,
        NetMetric::TimeToDetect,
        NetMetric::TimeToRestore,
        NetMetric::AutomatedRollbacks,
        NetMetric::DefectsPerDeployment,
    ];

    /// Whether a higher value is better (`None`: neither, a count).
    pub fn higher_is_better(self) -> Option<bool> {
        match self {
            NetMetric::Deployments => None,
            NetMetric::GreenTests | NetMetric::AutomatedRollbacks => Some(true),
            _ => Some(false),
        }
    }
}

/// A value with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Value {
    pub value: Option<f64>,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    /// Observations behind it (deployments, failures, rollbacks).
    pub n: usize,
}

/// How a line moved against the previous period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// The intervals do not overlap, and this one is on the better side.
    Better,
    Worse,
    /// The intervals overlap: no change the data can show.
    NoClearChange,
    /// Up or down, for a count without a better side.
    Up,
    Down,
    Same,
    /// One side has no value.
    Unknown,
}

/// One line of the table: this period, the previous one, and the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetLine {
    pub metric: NetMetric,
    pub now: Value,
    pub previous: Value,
    pub trend: Trend,
}

/// What keeps the data from supporting "safe to deploy more often".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "gap", rename_all = "snake_case")]
pub enum Gap {
    /// No deployment has a test result (`tests_passed`).
    NoTestData,
    /// The store has no incidents: failures only show through status, reverts and rollbacks.
    NoIncidentData,
    TooFewDeployments {
        deployments: usize,
        needed: usize,
    },
    /// No rollback or revert deployment to judge rollback by.
    NoRollbacks,
    /// A bar was missed: the metric, the bound that decided, and the bar.
    Missed {
        metric: NetMetric,
        bound: Option<f64>,
        bar: f64,
    },
}

/// The verdict the intervals support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Every bar cleared on the least favourable side of its interval, and nothing missing.
    pub safe_to_deploy_more_often: bool,
    /// The bars that were cleared.
    pub cleared: Vec<NetMetric>,
    pub gaps: Vec<Gap>,
}

/// The safety-net section: this period, the previous one of the same length, the table and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetSection {
    /// µs UTC, `[start, end)`.
    pub start: i64,
    pub end: i64,
    pub previous_start: i64,
    pub now: SafetyNet,
    pub previous: SafetyNet,
    pub lines: Vec<NetLine>,
    pub verdict: Verdict,
}

fn value_of(net: &SafetyNet, m: NetMetric) -> Value {
    let share = |s: &Share| Value {
        value: s.value,
        lo: s.lo,
        hi: s.hi,
        n: s.n,
    };
    let spans = |s: &Spans| Value {
        value: s.median_h,
        lo: s.median_ci_h.map(|c| c.0),
        hi: s.median_ci_h.map(|c| c.1),
        n: s.n,
    };
    match m {
        NetMetric::Deployments => Value {
            value: Some(net.deployments as f64),
            lo: None,
            hi: None,
            n: net.deployments,
        },
        NetMetric::GreenTests => share(&net.tests.green),
        NetMetric::Failures => share(&net.failures),
        NetMetric::TimeToDetect => spans(&net.time_to_detect),
        NetMetric::TimeToRestore => spans(&net.time_to_restore),
        NetMetric::AutomatedRollbacks => share(&net.rollbacks.automated),
        NetMetric::DefectsPerDeployment => Value {
            value: net.defects.per_deployment,
            lo: net.defects.lo,
            hi: net.defects.hi,
            n: net.deployments,
        },
    }
}

fn trend(m: NetMetric, now: &Value, prev: &Value) -> Trend {
    let (Some(a), Some(b)) = (now.value, prev.value) else {
        return Trend::Unknown;
    };
    let Some(higher) = m.higher_is_better() else {
        return match a.total_cmp(&b) {
            std::cmp::Ordering::Greater => Trend::Up,
            std::cmp::Ordering::Less => Trend::Down,
            std::cmp::Ordering::Equal => Trend::Same,
        };
    };
    let (Some(alo), Some(ahi), Some(blo), Some(bhi)) = (now.lo, now.hi, prev.lo, prev.hi) else {
        return Trend::Unknown;
    };
    if alo > bhi {
        if higher {
            Trend::Better
        } else {
            Trend::Worse
        }
    } else if ahi < blo {
        if higher {
            Trend::Worse
        } else {
            Trend::Better
        }
    } else {
        Trend::NoClearChange
    }
}

/// The verdict on `net`. `has_incidents`: the store has any incident at all.
pub fn verdict(net: &SafetyNet, has_incidents: bool) -> Verdict {
    let mut gaps = vec![];
    let mut cleared = vec![];
    if net.deployments < MIN_DEPLOYMENTS {
        gaps.push(Gap::TooFewDeployments {
            deployments: net.deployments,
            needed: MIN_DEPLOYMENTS,
        });
    }
    if net.tests.known == 0 {
        gaps.push(Gap::NoTestData);
    }
    if !has_incidents {
        gaps.push(Gap::NoIncidentData);
    }
    if net.rollbacks.automated.n == 0 {
        gaps.push(Gap::NoRollbacks);
    }
    let mut bar = |metric: NetMetric, bound: Option<f64>, bar: f64, at_least: bool| {
        let ok = bound.is_some_and(|b| if at_least { b >= bar } else { b <= bar });
        if ok {
            cleared.push(metric);
        } else {
            gaps.push(Gap::Missed { metric, bound, bar });
        }
    };
    if net.tests.known > 0 {
        bar(
            NetMetric::GreenTests,
            net.tests.green.lo,
            MIN_GREEN_SHARE,
            true,
        );
    }
    bar(NetMetric::Failures, net.failures.hi, MAX_FAIL_RATE, false);
    if net.failures.k > 0 {
        let hi = net.time_to_restore.median_ci_h.map(|c| c.1);
        bar(NetMetric::TimeToRestore, hi, MAX_RESTORE_H, false);
    }
    if net.rollbacks.automated.n > 0 {
        bar(
            NetMetric::AutomatedRollbacks,
            net.rollbacks.automated.lo,
            MIN_AUTOMATED_SHARE,
            true,
        );
    }
    Verdict {
        safe_to_deploy_more_often: gaps.is_empty(),
        cleared,
        gaps,
    }
}

/// The section for `[start, end)` against `[previous_start, start)` (µs UTC).
pub fn net_section(
    rows: &[SafetyRow],
    previous_start: i64,
    start: i64,
    end: i64,
    weighted: bool,
    has_incidents: bool,
) -> NetSection {
    let opts = NetOptions {
        weighted,
        bootstrap: true,
    };
    let pick = |a: i64, b: i64| -> Vec<SafetyRow> {
        rows.iter()
            .filter(|r| r.deployed_at >= a && r.deployed_at < b)
            .cloned()
            .collect()
    };
    let now = safety_net(&pick(start, end), opts);
    let previous = safety_net(&pick(previous_start, start), opts);
    let lines = NetMetric::ALL
        .iter()
        .map(|&m| {
            let (a, b) = (value_of(&now, m), value_of(&previous, m));
            NetLine {
                metric: m,
                now: a,
                previous: b,
                trend: trend(m, &a, &b),
            }
        })
        .collect();
    let verdict = verdict(&now, has_incidents);
    NetSection {
        start,
        end,
        previous_start,
        now,
        previous,
        lines,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, failed: bool) -> SafetyRow {
        SafetyRow {
            repo: "r".into(),
            environment: "production".into(),
            deployment_id: id.into(),
            deployed_at: 0,
            failed,
            recovery_s: None,
            time_to_detect_s: None,
            time_to_restore_s: None,
            detected_by: None,
            detector: None,
            trigger: None,
            restored_by: None,
            restored_by_trigger: None,
            incidents: 0,
            defect_weight: 0.0,
            tests_passed: None,
        }
    }

    #[test]
    fn hand_computed_net() {
        // Ten deployments; d0..d6 green, d7 red, d8 d9 unknown. Failed: d1 (green),
        // d7 and d8. d1: detected by an incident after 30 min, restored 90 min later
        // by automated rollback d2; d7: by its status at once, restored after 4 h by
        // manual revert d9. d8: no signal time (detected before the deployment).
        let mut rows: Vec<SafetyRow> = (0..10).map(|i| row(&format!("d{i}"), false)).collect();
        for r in rows.iter_mut().take(7) {
            r.tests_passed = Some(true);
        }
        rows[7].tests_passed = Some(false);
        for i in [1, 7, 8] {
            rows[i].failed = true;
        }
        rows[1].time_to_detect_s = Some(1800);
        rows[1].time_to_restore_s = Some(5400);
        rows[1].recovery_s = Some(7200);
        rows[1].detected_by = Some("incident".into());
        rows[1].detector = Some("incident tool (file)".into());
        rows[1].incidents = 2;
        rows[1].defect_weight = 5.0;
        rows[1].restored_by_trigger = Some("automated".into());
        rows[2].trigger = Some("automated".into());
        rows[7].time_to_detect_s = Some(0);
        rows[7].time_to_restore_s = Some(14_400);
        rows[7].recovery_s = Some(14_400);
        rows[7].detected_by = Some("status".into());
        rows[7].detector = Some("deploy pipeline".into());
        rows[7].restored_by_trigger = Some("manual".into());
        rows[9].trigger = Some("manual".into());
        rows[8].incidents = 1;
        rows[8].defect_weight = 1.0;
        let all = NetOptions {
            weighted: true,
            bootstrap: true,
        };
        let net = safety_net(&rows, all);
        assert_eq!(net.deployments, 10);
        assert_eq!((net.failures.k, net.failures.n), (3, 10));
        assert_eq!(net.tests.known, 8);
        assert_eq!((net.tests.green.k, net.tests.green.n), (7, 10));
        assert_eq!(net.tests.fail_rate_green.value, Some(1.0 / 7.0));
        assert_eq!(net.tests.fail_rate_not_green.value, Some(2.0 / 3.0));
        let diff = net.tests.difference.as_ref().unwrap();
        assert!((diff.estimate - (1.0 / 7.0 - 2.0 / 3.0)).abs() < 1e-12);
        // Newcombe's interval of 1/7 − 2/3 from the two Wilson intervals.
        let (lo, hi) = net.tests.difference_newcombe.unwrap();
        assert_eq!((lo, hi), crate::stats::newcombe(1, 7, 2, 3, 0.95).unwrap());
        assert!(
            lo < diff.estimate && diff.estimate < hi && hi > 0.0,
            "{lo} {hi}"
        );
        // Detection: 0 s and 1800 s -> median 0.25 h; p90 = 0 + 0.9 * 0.5 h.
        assert_eq!(net.time_to_detect.n, 2);
        assert_eq!(net.time_to_detect.median_h, Some(0.25));
        assert!((net.time_to_detect.p90_h.unwrap() - 0.45).abs() < 1e-12);
        // Restoration: 1.5 h and 4 h -> median 2.75 h.
        assert_eq!(net.time_to_restore.median_h, Some(2.75));
        assert_eq!(net.detections.len(), 2);
        assert_eq!(
            (net.rollbacks.automated.k, net.rollbacks.automated.n),
            (1, 2)
        );
        assert_eq!(net.rollbacks.recovery_automated.median_h, Some(2.0));
        assert_eq!(net.rollbacks.recovery_manual.median_h, Some(4.0));
        // 3 incidents over 10 deployments; Garwood: [0.6187, 8.7673] / 10.
        assert_eq!(net.defects.incidents, 3);
        assert_eq!(net.defects.per_deployment, Some(0.3));
        assert!((net.defects.lo.unwrap() - 0.061_867_212_289_56).abs() < 1e-9);
        assert!((net.defects.hi.unwrap() - 0.876_727_306_974_23).abs() < 1e-9);
        assert_eq!(
            net.defects
                .weighted_per_deployment
                .as_ref()
                .unwrap()
                .estimate,
            0.6
        );
        let plain = NetOptions {
            weighted: false,
            bootstrap: false,
        };
        let counts = safety_net(&rows, plain);
        assert!(counts.defects.weighted_per_deployment.is_none());
        assert!(counts.time_to_detect.median_ci_h.is_none() && counts.tests.difference.is_none());
        assert_eq!(counts.time_to_detect.median_h, net.time_to_detect.median_h);
        let ci = net.time_to_detect.median_ci_h.unwrap();
        assert!(ci.0 <= 0.25 && 0.25 <= ci.1, "{ci:?}");
    }

    fn net_of(
        deployments: usize,
        failed: usize,
        green: usize,
        rollbacks: &[&str],
    ) -> Vec<SafetyRow> {
        let mut rows: Vec<SafetyRow> = (0..deployments)
            .map(|i| {
                let mut r = row(&format!("d{i}"), i < failed);
                r.tests_passed = Some(i < green);
                if i < failed {
                    r.time_to_detect_s = Some(600);
                    r.time_to_restore_s = Some(3600);
                    r.recovery_s = Some(4200);
                }
                r
            })
            .collect();
        for (k, t) in rollbacks.iter().enumerate() {
            rows[deployments - 1 - k].trigger = Some(t.to_string());
        }
        rows
    }

    #[test]
    fn the_verdict_follows_the_intervals() {
        let opts = NetOptions {
            weighted: false,
            bootstrap: true,
        };
        // 60 deployments, all green (Wilson lower bound 0.9398 >= 0.9), 1 failure
        // (upper bound 0.0886 <= 0.15), restored in 1 h, 4 of 4 rollbacks
        // automated (lower bound 0.5101 >= 0.5): every bar cleared.
        let rows = net_of(60, 1, 60, &["automated"; 4]);
        let v = verdict(&safety_net(&rows, opts), true);
        assert!(v.safe_to_deploy_more_often, "{v:?}");
        assert_eq!(v.cleared.len(), 4);
        // 3 of 4 automated: lower bound 0.3006 < 0.5.
        let rows = net_of(
            60,
            1,
            60,
            &["automated", "automated", "automated", "manual"],
        );
        let v = verdict(&safety_net(&rows, opts), true);
        assert!(!v.safe_to_deploy_more_often);
        assert!(
            matches!(
                v.gaps.as_slice(),
                [Gap::Missed { metric: NetMetric::AutomatedRollbacks, bar, .. }] if *bar == 0.5
            ),
            "{v:?}"
        );
        // 40 deployments, 2 failures: 0.05 observed, but the upper bound 0.165 > 0.15.
        let rows = net_of(40, 2, 40, &["automated"; 4]);
        let v = verdict(&safety_net(&rows, opts), true);
        assert!(v.gaps.iter().any(|g| matches!(g, Gap::Missed { metric: NetMetric::Failures, bound: Some(b), .. } if (b - 0.165_038_773_691_409_6).abs() < 1e-9)), "{v:?}");
        // Missing data is named, never guessed.
        let mut rows = net_of(10, 0, 0, &[]);
        for r in &mut rows {
            r.tests_passed = None;
        }
        let v = verdict(&safety_net(&rows, opts), false);
        assert_eq!(
            v.gaps[..4],
            [
                Gap::TooFewDeployments {
                    deployments: 10,
                    needed: 30
                },
                Gap::NoTestData,
                Gap::NoIncidentData,
                Gap::NoRollbacks
            ]
        );
        assert!(!v.safe_to_deploy_more_often);
    }

    #[test]
    fn trends_need_separate_intervals() {
        let v = |value: f64, lo: f64, hi: f64| Value {
            value: Some(value),
            lo: Some(lo),
            hi: Some(hi),
            n: 10,
        };
        let f = NetMetric::Failures;
        assert_eq!(
            trend(f, &v(0.1, 0.05, 0.2), &v(0.4, 0.3, 0.5)),
            Trend::Better
        );
        assert_eq!(
            trend(f, &v(0.4, 0.3, 0.5), &v(0.1, 0.05, 0.2)),
            Trend::Worse
        );
        assert_eq!(
            trend(f, &v(0.2, 0.1, 0.35), &v(0.4, 0.3, 0.5)),
            Trend::NoClearChange
        );
        let g = NetMetric::GreenTests;
        assert_eq!(
            trend(g, &v(0.9, 0.85, 0.95), &v(0.5, 0.4, 0.6)),
            Trend::Better
        );
        let d = NetMetric::Deployments;
        assert_eq!(trend(d, &v(5.0, 5.0, 5.0), &v(3.0, 3.0, 3.0)), Trend::Up);
        let none = Value {
            value: None,
            lo: None,
            hi: None,
            n: 0,
        };
        assert_eq!(trend(f, &none, &v(0.1, 0.0, 0.2)), Trend::Unknown);
    }

    #[test]
    fn the_section_compares_with_the_period_before() {
        let mut rows = net_of(6, 2, 6, &[]);
        for (i, r) in rows.iter_mut().enumerate() {
            r.deployed_at = i as i64 * 10;
        }
        // [30, 60) against [0, 30): d3 d4 d5 now, d0 d1 d2 (both failures) before.
        let s = net_section(&rows, 0, 30, 60, false, true);
        assert_eq!(s.previous_start, 0);
        assert_eq!((s.now.deployments, s.now.failures.k), (3, 0));
        assert_eq!((s.previous.deployments, s.previous.failures.k), (3, 2));
        assert_eq!(s.lines.len(), 7);
        assert_eq!(s.lines[0].trend, Trend::Same);
        assert_eq!(s.lines[2].metric, NetMetric::Failures);
        assert_eq!(
            s.lines[2].trend,
            Trend::NoClearChange,
            "3 deployments are too few to tell"
        );
    }

    #[test]
    fn empty_is_all_none() {
        let net = safety_net(
            &[],
            NetOptions {
                weighted: false,
                bootstrap: true,
            },
        );
        assert_eq!(net.deployments, 0);
        assert_eq!(net.failures.value, None);
        assert_eq!(net.time_to_detect.median_h, None);
        assert_eq!(net.defects.per_deployment, None);
        assert_eq!(net.rollbacks.automated.value, None);
    }
}

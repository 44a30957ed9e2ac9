//! The promotion-flow part of the digest: stage medians per month, drift
//! summed over repositories per day and pair, and the findings as data (a
//! kind, its figures and the evidence shas). Every number is the flow
//! report's; `reports` words them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::series::{DriftPoint, DriftSeries, StagePeriod, TrainWait};
use super::Month;
use crate::flow::{DriftRow, FlowReport};

/// The misalignment kinds in the order the reports list them; other kinds
/// follow in the order they appear.
pub const MISALIGNMENT_ORDER: [&str; 4] = [
    "skipped_stage",
    "cherry_pick_duplicate",
    "branch_ahead",
    "pollution",
];

/// Why a flow section has nothing to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", content = "environments", rename_all = "snake_case")]
pub enum Why {
    /// Fewer than two environments are configured.
    Environments(usize),
    /// No change moved from one environment to the next in the range.
    NoStageMoves,
    /// No daily drift series in the range.
    NoDrift,
    /// No findings, and the flow report says why (its notes).
    NothingToCompare,
}

/// One example row of a misalignment kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub repo: String,
    pub sha: String,
    pub detail: String,
}

/// A finding about the promotion flow, as data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Commits of one misalignment kind (see [`MISALIGNMENT_ORDER`]).
    Misalignment {
        misalignment: String,
        /// Distinct commits of this kind.
        commits: usize,
        /// The first three rows.
        examples: Vec<Example>,
        /// Rows beyond the examples.
        more_rows: usize,
        /// Every distinct (repo, sha), in the order found.
        evidence: Vec<(String, String)>,
    },
    /// Today's branch tips of an adjacent pair disagree.
    BranchTips {
        repo: String,
        from_env: String,
        to_env: String,
        from_tip: Option<String>,
        to_tip: Option<String>,
        /// Non-merge commits at the tip of `from_env` that `to_env` lacks.
        ahead: i64,
        /// And the reverse.
        behind: i64,
    },
    /// The drift of an adjacent pair on the last day with data.
    Drift {
        repo: String,
        from_env: String,
        to_env: String,
        day: NaiveDate,
        /// The range's last day had no data; `day` is the last day that had.
        before_end: bool,
        changes: i64,
        prs: i64,
        /// The change that has waited longest, and how long.
        oldest_sha: Option<String>,
        oldest_age_hours: Option<f64>,
    },
    /// The longest wait of all drifts at the range's end.
    OldestWaiting {
        repo: String,
        sha: String,
        age_hours: f64,
        from_env: String,
        to_env: String,
        day: NaiveDate,
    },
}

/// The promotion flow of a date range, as the reports draw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowDigest {
    pub since: NaiveDate,
    pub until: NaiveDate,
    /// Adjacent environment pairs, in promotion order.
    pub stages: Vec<(String, String)>,
    /// One row per month of the range.
    pub stage_periods: Vec<StagePeriod>,
    pub stages_why: Option<Why>,
    /// Negative dwell times left out of the stage quantiles.
    pub negative_dwell: i64,
    pub drift: Vec<DriftSeries>,
    pub drift_why: Option<Why>,
    pub findings: Vec<Finding>,
    pub findings_why: Option<Why>,
    pub train_waits: Vec<TrainWait>,
    /// Findings name their repository (more than one has flow data).
    pub several_repos: bool,
    /// An environment branch was only fast-forwarded (tips only).
    pub fast_forwarded: bool,
    /// The flow report's notes, in words.
    pub notes: Vec<String>,
}

impl FlowDigest {
    /// Nothing to show: fewer than two environments are configured.
    pub(super) fn unavailable(environments: usize, since: NaiveDate, until: NaiveDate) -> Self {
        let why = Some(Why::Environments(environments));
        FlowDigest {
            since,
            until,
            stages: vec![],
            stage_periods: vec![],
            stages_why: why,
            negative_dwell: 0,
            drift: vec![],
            drift_why: why,
            findings: vec![],
            findings_why: why,
            train_waits: vec![],
            several_repos: false,
            fast_forwarded: false,
            notes: vec![],
        }
    }

    /// Keeps only the months where a change completed a stage.
    pub(super) fn retain_moving_months(&mut self) {
        self.stage_periods
            .retain(|p| p.hours.iter().any(|h| h.is_finite()));
    }
}

fn day(us: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_micros(us)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// The flow digest of `since..=until` (inclusive days) for the production
/// environment `env` (the train waits are its).
pub(super) fn digest(r: &FlowReport, env: &str, since: NaiveDate, until: NaiveDate) -> FlowDigest {
    let pairs: Vec<(String, String)> = r
        .environments
        .windows(2)
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect();

    // Stage times: the median dwell of each stage, per month.
    let mut months = vec![Month::of(since)];
    while let Some(last) = months.last().copied().filter(|m| *m < Month::of(until)) {
        months.push(last.next());
    }
    let keys: Vec<String> = pairs.iter().map(|(a, b)| format!("{a}→{b}")).collect();
    let dwell = |stage: &str, period: &str| {
        r.dwell
            .iter()
            .find(|d| d.stage == stage && d.period == period)
    };
    let stage_periods: Vec<StagePeriod> = months
        .iter()
        .map(|m| {
            let label = m.label();
            StagePeriod {
                changes: keys
                    .iter()
                    .filter_map(|k| dwell(k, &label))
                    .map(|d| d.changes.max(0) as u64)
                    .max()
                    .unwrap_or(0),
                hours: keys
                    .iter()
                    .map(|k| {
                        dwell(k, &label)
                            .and_then(|d| d.median_s)
                            .map(|s| s / 3600.0)
                            .unwrap_or(f64::NAN)
                    })
                    .collect(),
                label,
            }
        })
        .collect();
    let moved = stage_periods
        .iter()
        .any(|p| p.hours.iter().any(|h| h.is_finite()));
    let negative_dwell = r
        .dwell
        .iter()
        .filter(|d| d.period == "all")
        .map(|d| d.negative)
        .sum();

    // Drift: commits ahead per day and adjacent pair, over all repositories.
    let drift: Vec<DriftSeries> = pairs
        .iter()
        .filter_map(|(a, b)| {
            let mut per: BTreeMap<NaiveDate, u64> = BTreeMap::new();
            for d in r
                .drift
                .iter()
                .filter(|d| d.from_env == *a && d.to_env == *b)
            {
                *per.entry(day(d.day)).or_default() += d.commits_ahead.max(0) as u64;
            }
            (!per.is_empty()).then(|| DriftSeries {
                from: a.clone(),
                to: b.clone(),
                points: per
                    .into_iter()
                    .map(|(date, changes)| DriftPoint { date, changes })
                    .collect(),
            })
        })
        .collect();

    let several_repos = r
        .misalignments
        .iter()
        .map(|f| &f.repo)
        .chain(r.drift.iter().map(|d| &d.repo))
        .collect::<BTreeSet<_>>()
        .len()
        > 1;
    let findings = findings(r, &pairs, until);
    let findings_why =
        (findings.is_empty() && !r.notes.is_empty()).then_some(Why::NothingToCompare);
    let train_waits = r
        .trains
        .iter()
        .filter(|t| t.environment == env)
        .filter_map(|t| {
            Some(TrainWait {
                repo: t.repo.clone(),
                environment: t.environment.clone(),
                share: t.wait_share?,
                median_wait_hours: t.median_wait_s.map(|s| s / 3600.0),
                changes: t.changes.max(0) as u64,
            })
        })
        .collect();
    FlowDigest {
        since,
        until,
        stages: pairs,
        stage_periods,
        stages_why: (!moved).then_some(Why::NoStageMoves),
        negative_dwell,
        drift_why: drift.is_empty().then_some(Why::NoDrift),
        drift,
        findings,
        findings_why,
        train_waits,
        several_repos,
        fast_forwarded: r.notes.iter().any(|n| n.contains("was fast-forwarded")),
        notes: r.notes.clone(),
    }
}

/// Misalignments by kind, today's tips that disagree, the drift at the
/// range's end per repository and pair, and the oldest waiting change.
fn findings(r: &FlowReport, pairs: &[(String, String)], until: NaiveDate) -> Vec<Finding> {
    let mut out = vec![];
    let mut kinds: Vec<&str> = MISALIGNMENT_ORDER.to_vec();
    for f in &r.misalignments {
        if !kinds.contains(&f.kind.as_str()) {
            kinds.push(&f.kind);
        }
    }
    for kind in kinds {
        let rows: Vec<&crate::flow::Finding> =
            r.misalignments.iter().filter(|f| f.kind == kind).collect();
        if rows.is_empty() {
            continue;
        }
        let mut evidence: Vec<(String, String)> = vec![];
        for f in &rows {
            let e = (f.repo.clone(), f.sha.clone());
            if !evidence.contains(&e) {
                evidence.push(e);
            }
        }
        out.push(Finding::Misalignment {
            misalignment: kind.to_string(),
            commits: evidence.len(),
            examples: rows
                .iter()
                .take(3)
                .map(|f| Example {
                    repo: f.repo.clone(),
                    sha: f.sha.clone(),
                    detail: f.detail.clone(),
                })
                .collect(),
            more_rows: rows.len().saturating_sub(3),
            evidence,
        });
    }
    for t in r
        .tips
        .iter()
        .filter(|t| t.commits_ahead != 0 || t.commits_behind != 0)
    {
        out.push(Finding::BranchTips {
            repo: t.repo.clone(),
            from_env: t.from_env.clone(),
            to_env: t.to_env.clone(),
            from_tip: t.from_tip.clone(),
            to_tip: t.to_tip.clone(),
            ahead: t.commits_ahead,
            behind: t.commits_behind,
        });
    }
    let mut oldest: Option<&DriftRow> = None;
    let mut repos: Vec<&str> = r.drift.iter().map(|d| d.repo.as_str()).collect();
    repos.sort();
    repos.dedup();
    for repo in repos {
        for (a, b) in pairs {
            let Some(last) = r
                .drift
                .iter()
                .filter(|d| d.repo == repo && d.from_env == *a && d.to_env == *b)
                .max_by_key(|d| d.day)
            else {
                continue;
            };
            let on = day(last.day);
            if let (Some(age), Some(_)) = (last.oldest_age_s, &last.oldest_sha) {
                if oldest.is_none_or(|o| o.oldest_age_s < Some(age)) {
                    oldest = Some(last);
                }
            }
            out.push(Finding::Drift {
                repo: repo.to_string(),
                from_env: a.clone(),
                to_env: b.clone(),
                day: on,
                before_end: on != until,
                changes: last.commits_ahead,
                prs: last.prs_ahead,
                oldest_sha: last.oldest_sha.clone(),
                oldest_age_hours: last.oldest_age_s.map(|s| s as f64 / 3600.0),
            });
        }
    }
    if let Some(o) = oldest {
        out.push(Finding::OldestWaiting {
            repo: o.repo.clone(),
            sha: o.oldest_sha.clone().unwrap_or_default(),
            age_hours: o.oldest_age_s.unwrap_or(0) as f64 / 3600.0,
            from_env: o.from_env.clone(),
            to_env: o.to_env.clone(),
            day: day(o.day),
        });
    }
    out
}

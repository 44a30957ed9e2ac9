//! From the analysis digest to the report structs: the words, captions and
//! labels of the monthly report and the deck. Every number comes from the
//! digest ([`flowmeter_analysis::digest`]); nothing here computes one.

use flowmeter_analysis::digest::{
    self as dg, DeckDigest, FlowDigest, MonthlyDigest, PeriodFigures, Series, TierTable, Why,
};
use flowmeter_analysis::{Limit, TierLimit, DEFINITIONS};

use crate::charts::{
    BatchSizes, ChangeFailRate, Chart, DeploysPerWeek, Drift, FailMonth, FailureByBatch,
    LeadTimeMonth, LeadTimeMonthly, QuickCheckCard, QuickCheckRow, RecoveryTimes, ReferenceLine,
    ScoreRow, Scorecard, StageTimes,
};
use crate::deck::{BatchRisk, Deck, Waiting};
use crate::monthly::{
    Better, Definition, Figure, Finding, Headline, HeadlineScore, MonthlyReport, Unit,
};
use crate::style::{fmt_hours, fmt_pct};

/// The monthly report of a digest.
pub fn monthly_report(d: &MonthlyDigest, generated_at: String) -> MonthlyReport {
    let (now, prev, tr) = (d.this(), d.previous(), &d.trailing_3m);
    let low = now.low_confidence;
    // 2025: each metric's Quick Check score beside the population mean ± sd.
    let score = |metric: &str| -> Option<HeadlineScore> {
        let b = d.tiers.quick_check.as_ref()?.benchmarks.of(metric)?;
        Some(HeadlineScore {
            score: now
                .quick_check
                .as_ref()
                .and_then(|q| q.get(metric))
                .map(|m| m.score),
            mean: b.mean,
            sd: b.sd,
        })
    };
    let row = |metric: &str,
               unit: Unit,
               f: &dyn Fn(&PeriodFigures) -> Option<f64>,
               trailing: Option<f64>,
               n: u64,
               better: Better,
               tier: Option<crate::style::Tier>,
               score: Option<HeadlineScore>,
               figure: Option<&str>| Headline {
        metric: metric.into(),
        unit,
        this_month: f(now),
        previous_month: f(prev),
        trailing_3m_median: trailing,
        n,
        better,
        tier,
        score,
        low_confidence: low,
        figure: figure.map(str::to_string),
    };
    use Better::{Higher, Lower};
    let headline = vec![
        row(
            "Deployments",
            Unit::Count,
            &|m| Some(m.deployments as f64),
            tr.deployments,
            now.deployments,
            Higher,
            now.tiers.deploy_frequency,
            score("deploy_frequency"),
            Some("deploys-per-week"),
        ),
        row(
            "Median lead time",
            Unit::Hours,
            &|m| m.lead_median_hours,
            tr.lead_median_hours,
            now.changes,
            Lower,
            now.tiers.lead_time,
            score("lead_time"),
            Some("lead-time-monthly"),
        ),
        row(
            "Change fail rate",
            Unit::Fraction,
            &|m| m.change_fail_rate,
            tr.change_fail_rate,
            now.deployments,
            Lower,
            now.tiers.change_fail_rate,
            score("change_fail_rate"),
            Some("change-fail-rate"),
        ),
        row(
            "Median recovery time",
            Unit::Hours,
            &|m| m.recovery_median_hours,
            tr.recovery_median_hours,
            now.failed,
            Lower,
            now.tiers.recovery,
            score("recovery"),
            Some("recovery-times"),
        ),
        row(
            "Median batch size",
            Unit::Commits,
            &|m| m.batch_median_commits,
            tr.batch_median_commits,
            now.deployments,
            Lower,
            None,
            None,
            Some("batch-sizes"),
        ),
        row(
            "Rework rate",
            Unit::Fraction,
            &|m| m.rework_rate,
            tr.rework_rate,
            now.deployments,
            Lower,
            None,
            score("rework_rate"),
            None,
        ),
    ];
    let first = &d.months[0].period;
    let month = d.month.label();
    let w = format!("{first} to {month}");
    let y = d.tiers.year;
    let s = &d.series;
    let bench = match quick_check_card(now, &d.tiers) {
        Some(card) => fig(
            Chart::QuickCheck(card),
            format!("{month}; the dot is the month's score, the band the population mean ± 1 sd of the DORA {y} survey, scored as the dora.dev Quick Check scores the survey answer shown (no tiers in {y})."),
        ),
        None => fig(Chart::Scorecard(scorecard(now, &d.tiers)), format!("{month}; the filled cell is the tier reached.")),
    };
    let tiered = d.tiers.quick_check.is_none();
    let cfr_caption = if tiered {
        format!("{w}, over the DORA {y} tier bands (matched best tier first).")
    } else {
        format!("{w}.")
    };
    let recovery_caption = if tiered {
        format!("From each failed deployment, {w}, to its recovery; dashed lines are the DORA {y} thresholds.")
    } else {
        format!("From each failed deployment, {w}, to its recovery.")
    };
    let mut figures = vec![
        bench,
        fig(
            Chart::DeploysPerWeek(weekly(s)),
            format!("{w}; the line is the 4-week trailing mean."),
        ),
        fig(
            Chart::LeadTimeMonthly(lead_monthly(&d.months)),
            format!("Commit to production, {w}; the band holds the middle half of changes."),
        ),
        fig(
            Chart::LeadTimeHistogram(s.lead_histogram.clone()),
            format!("Changes deployed {w}, on bins that double in width."),
        ),
        fig(
            Chart::BatchSizes(batches(s)),
            format!("Non-merge commits shipped, {w}."),
        ),
        fig(
            Chart::ChangeFailRate(change_fail_rate(&d.months, &d.tiers)),
            cfr_caption,
        ),
        fig(
            Chart::RecoveryTimes(recoveries(s, &d.tiers)),
            recovery_caption,
        ),
        fig(
            Chart::FailureByBatch(by_batch(s)),
            format!("Production deployments {w}; whiskers are 95% Wilson intervals."),
        ),
    ];
    let flow = FlowWords::of(&d.flow, "month end");
    let mut unavailable = vec![];
    match flow.stages {
        Ok(st) => {
            let neg = if d.flow.negative_dwell > 0 {
                format!(
                    " {} negative dwell times (clock or mapping anomalies) are left out.",
                    d.flow.negative_dwell
                )
            } else {
                String::new()
            };
            figures.push(fig(Chart::StageTimes(st), format!("From arriving in one environment to arriving in the next, by month of arrival in the later one, {w}; each stage's median is over the changes that completed it that month, and n is the most changes any one stage saw.{neg}")));
        }
        Err(why) => unavailable.push(why),
    }
    match flow.drift {
        Ok(dr) => figures.push(fig(Chart::Drift(dr), format!("Non-merge changes in the earlier environment and not yet in the later one, at the end of each day (UTC), {w}."))),
        Err(why) => unavailable.push(why),
    }
    let findings = match flow.findings {
        Ok(f) => Some(f),
        Err(why) => {
            unavailable.push(why);
            None
        }
    };
    let mut definitions: Vec<Definition> = DEFINITIONS
        .iter()
        .filter(|(m, _)| tiered != (*m == "benchmarks_2025"))
        .map(|(m, t)| Definition {
            metric: m.to_string(),
            text: t.to_string(),
        })
        .collect();
    definitions.push(match &d.tiers.quick_check {
        None => Definition {
            metric: "tiers".into(),
            text: format!("DORA {y} benchmark thresholds, matched best tier first."),
        },
        Some(q) => Definition {
            metric: "benchmarks".into(),
            text: format!(
                "DORA {y} has no tiers: each metric is scored 0–10 as the dora.dev Quick Check scores its survey answer, beside the {} mean ± 1 sd of the {y} survey; from {} ({}).",
                q.benchmarks.name,
                q.source,
                q.files.join(", ")
            ),
        },
    });
    if findings.is_some() {
        definitions.push(Definition {
            metric: "drift and misalignment".into(),
            text: "drift counts the non-merge changes that have arrived in an environment and not yet in the next one; misalignments (skipped stages, cherry-pick duplicates, branches ahead of their predecessor, pollution) are read from the branches as ingested, not limited to the month.".into(),
        });
    }
    definitions.push(Definition {
        metric: "failure by batch size".into(),
        text: "failure rate per bucket of commits shipped, with a 95% Wilson score interval; a bucket with few deployments has a wide interval.".into(),
    });
    MonthlyReport {
        month,
        previous_month: prev.period.clone(),
        generated_at,
        repos: d.repos.clone(),
        environment: d.environment.clone(),
        tier_year: Some(y),
        benchmark: d.tiers.quick_check.as_ref().map(|q| {
            format!(
                "benchmarks: DORA {y} Quick Check scores (0–10) beside the {} mean ± sd",
                q.benchmarks.name
            )
        }),
        headline,
        largest_deployments: d.largest.clone(),
        failed_deployments: d.failed.clone(),
        findings,
        unavailable,
        definitions,
        figures,
        safety: Some(crate::safety::safety_report(&d.safety)),
    }
}

/// The deck of a digest.
pub fn deck_report(d: &DeckDigest, generated_at: String) -> Deck {
    let flow = FlowWords::of(&d.flow, "period end");
    Deck {
        title: "Delivery performance".into(),
        period: d.period.period.clone(),
        scope: format!("{} · {}", d.repos.join(", "), d.environment),
        generated_at,
        numbers: d.numbers.clone(),
        tiers: scorecard(&d.period, &d.tiers),
        quick_check: quick_check_card(&d.period, &d.tiers),
        waiting: Waiting {
            changes: d.period.changes,
            median_hours: d.period.lead_median_hours,
            p90_hours: d.period.lead_p90_hours,
            histogram: d.series.lead_histogram.clone(),
            stages_unavailable: flow.stages_brief,
            stages: flow.stages.ok(),
            train_waits: d.flow.train_waits.clone(),
        },
        batch_risk: BatchRisk {
            buckets: by_batch(&d.series),
            fit: d.fit.clone(),
        },
        whatif: d.whatif.clone(),
        safety: Some(crate::safety::safety_report(&d.safety)),
        before_after: d.before_after.clone(),
        before_after_unavailable: d.before_after_unavailable.clone(),
    }
}

fn fig(chart: Chart, caption: String) -> Figure {
    Figure { chart, caption }
}

fn weekly(s: &Series) -> DeploysPerWeek {
    DeploysPerWeek {
        weeks: s.weeks.clone(),
        trend: s.trend.clone(),
        trend_label: "4-week trailing mean".into(),
    }
}

fn lead_monthly(months: &[PeriodFigures]) -> LeadTimeMonthly {
    LeadTimeMonthly {
        months: months
            .iter()
            .map(|m| LeadTimeMonth {
                month: m.period.clone(),
                changes: m.changes,
                p25_hours: m.lead_p25_hours,
                median_hours: m.lead_median_hours,
                p75_hours: m.lead_p75_hours,
                p90_hours: m.lead_p90_hours,
            })
            .collect(),
    }
}

fn batches(s: &Series) -> BatchSizes {
    BatchSizes {
        unit: "commits".into(),
        points: s.batches.clone(),
    }
}

fn change_fail_rate(months: &[PeriodFigures], t: &TierTable) -> ChangeFailRate {
    ChangeFailRate {
        months: months
            .iter()
            .map(|m| FailMonth {
                month: m.period.clone(),
                deployments: m.deployments,
                failed: m.failed,
                rate: m.change_fail_rate,
            })
            .collect(),
        tiers: t.change_fail_rate_bands.clone(),
        tier_year: t.quick_check.is_none().then_some(t.year),
    }
}

fn recoveries(s: &Series, t: &TierTable) -> RecoveryTimes {
    RecoveryTimes {
        points: s.recoveries.clone(),
        reference_lines: t
            .recovery_bounds
            .iter()
            .map(|(tier, h)| ReferenceLine {
                label: format!("{}: ≤ {}", tier.name(), fmt_hours(*h)),
                hours: *h,
            })
            .collect(),
    }
}

fn by_batch(s: &Series) -> FailureByBatch {
    FailureByBatch {
        dimension: "commits per deployment".into(),
        interval: "95% Wilson interval".into(),
        buckets: s.by_batch.clone(),
        overall_rate: s.overall_fail_rate,
    }
}

/// A number with at most two decimals, trailing zeros dropped.
fn two_places(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Each tier's boundary as printed, Elite first.
pub(crate) fn limit_texts(limits: &[TierLimit], fmt: impl Fn(f64) -> String) -> Vec<String> {
    limits
        .iter()
        .map(|l| match l.limit {
            Limit::AtLeast(b) => format!("≥ {}", fmt(b)),
            Limit::AtMost(b) => format!("≤ {}", fmt(b)),
            Limit::Below(b) => format!("< {}", fmt(b)),
            Limit::Above(b) => format!("> {}", fmt(b)),
            Limit::None => "–".to_string(),
        })
        .collect()
}

fn scorecard(s: &PeriodFigures, t: &TierTable) -> Scorecard {
    let dash = || "–".to_string();
    Scorecard {
        // 2025 has no tiers: the deck shows `quick_check` instead.
        tier_year: t.quick_check.is_none().then_some(t.year),
        rows: vec![
            ScoreRow {
                metric: "Deployment frequency".into(),
                value: format!("{:.1} days/week", s.deploy_days_per_week),
                tier: s.tiers.deploy_frequency,
                thresholds: limit_texts(&t.deploy_frequency, |v| format!("{}/wk", two_places(v))),
            },
            ScoreRow {
                metric: "Change lead time".into(),
                value: s.lead_median_hours.map(fmt_hours).unwrap_or_else(dash),
                tier: s.tiers.lead_time,
                thresholds: limit_texts(&t.lead_time, fmt_hours),
            },
            ScoreRow {
                metric: "Change fail rate".into(),
                value: s.change_fail_rate.map(fmt_pct).unwrap_or_else(dash),
                tier: s.tiers.change_fail_rate,
                thresholds: limit_texts(&t.change_fail_rate, fmt_pct),
            },
            ScoreRow {
                metric: "Recovery time".into(),
                value: s.recovery_median_hours.map(fmt_hours).unwrap_or_else(dash),
                tier: s.tiers.recovery,
                thresholds: limit_texts(&t.recovery, fmt_hours),
            },
        ],
    }
}

/// 2025: the Quick Check card of a period (`None` for a tier year).
fn quick_check_card(s: &PeriodFigures, t: &TierTable) -> Option<QuickCheckCard> {
    let src = t.quick_check.as_ref()?;
    let b = &src.benchmarks;
    let dash = || "–".to_string();
    let q = s.quick_check.as_ref();
    let row = |metric: &str, label: &str, value: String| {
        let m = q.and_then(|q| q.get(metric));
        let bench = b.of(metric).unwrap_or(b.overall);
        QuickCheckRow {
            metric: label.into(),
            value,
            answer: m.map_or_else(
                || "no value, no score".to_string(),
                |m| format!("answer: {}", m.answer_text),
            ),
            score: m.map(|m| m.score),
            mean: bench.mean,
            sd: bench.sd,
        }
    };
    let mut rows = vec![
        row(
            "deploy_frequency",
            "Deployment frequency",
            format!("{:.1} days/week", s.deploy_days_per_week),
        ),
        row(
            "lead_time",
            "Change lead time",
            s.lead_median_hours.map(fmt_hours).unwrap_or_else(dash),
        ),
        row(
            "change_fail_rate",
            "Change fail rate",
            s.change_fail_rate.map(fmt_pct).unwrap_or_else(dash),
        ),
        row(
            "recovery",
            "Recovery time",
            s.recovery_median_hours.map(fmt_hours).unwrap_or_else(dash),
        ),
        row(
            "rework_rate",
            "Rework rate",
            s.rework_rate.map(fmt_pct).unwrap_or_else(dash),
        ),
    ];
    let overall = q.and_then(|q| q.overall);
    rows.push(QuickCheckRow {
        metric: "Overall".into(),
        value: overall.map_or_else(dash, |_| {
            format!("mean of {} scores", q.map_or(0, |q| q.metrics.len()))
        }),
        answer: String::new(),
        score: overall,
        mean: b.overall.mean,
        sd: b.overall.sd,
    });
    Some(QuickCheckCard {
        year: t.year,
        population: b.name.clone(),
        rows,
    })
}

/// The promotion-flow parts of a report: each drawn from the digest or
/// "not available: why".
struct FlowWords {
    stages: Result<StageTimes, String>,
    /// Why `stages` is missing, short enough for a slide.
    stages_brief: Option<String>,
    drift: Result<Drift, String>,
    findings: Result<Vec<Finding>, String>,
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// What each misalignment kind means (said of one commit, then of several).
fn kind_words(kind: &str) -> (&str, &str, &str) {
    match kind {
        "skipped_stage" => (
            "Skipped stage",
            "reached a later environment without ever being in an earlier one (for example a hotfix never merged back)",
            "reached a later environment without ever being in an earlier one (for example hotfixes never merged back)",
        ),
        "cherry_pick_duplicate" => (
            "Cherry-pick duplicate",
            "is a copy, with another sha, of a change on another environment branch",
            "are copies, with other shas, of changes on other environment branches",
        ),
        "branch_ahead" => (
            "Branch ahead of its predecessor",
            "is on an environment branch but not on the branch before it",
            "are on an environment branch but not on the branch before it",
        ),
        "pollution" => (
            "Pollution",
            "that only a later environment branch (other than main) should have is in another branch",
            "that only a later environment branch (other than main) should have are in other branches",
        ),
        other => (other, "was found", "were found"),
    }
}

impl FlowWords {
    fn of(f: &FlowDigest, end_label: &str) -> FlowWords {
        let range = format!("{} to {}", f.since, f.until);
        let notes = f.notes.join(" ");
        let why = |what: &str, w: Why| -> String {
            let reason = match w {
                Why::Environments(n) => format!("{n} environment(s) configured; list the environments in promotion order ([[environment]] in flowmeter.toml) to see them"),
                Why::NoStageMoves => format!("no change moved from one environment to the next from {range}"),
                Why::NoDrift => format!("no daily drift series from {range}"),
                Why::NothingToCompare => "nothing to compare".to_string(),
            };
            if notes.is_empty() || matches!(w, Why::Environments(_)) {
                format!("not available: {what} ({reason})")
            } else {
                format!("not available: {what} ({reason}; {notes})")
            }
        };
        let stages = match f.stages_why {
            Some(w) => Err(why("time per environment stage", w)),
            None => Ok(StageTimes {
                stages: f.stages.iter().map(|(a, b)| format!("{a} → {b}")).collect(),
                statistic: "median".into(),
                periods: f.stage_periods.clone(),
            }),
        };
        let stages_brief = f.stages_why.map(|w| match w {
            Why::NoStageMoves => format!(
                "not available: time per environment stage (no change moved from one environment to the next from {range}{})",
                if f.fast_forwarded {
                    "; an environment branch was only fast-forwarded, see `flowmeter flow`"
                } else {
                    ""
                }
            ),
            other => why("time per environment stage", other),
        });
        let drift = match f.drift_why {
            Some(w) => Err(why("drift between environments", w)),
            None => Ok(Drift {
                pairs: f.drift.clone(),
            }),
        };
        let findings = match f.findings_why {
            Some(w) => Err(why("misalignment findings", w)),
            None => Ok(f
                .findings
                .iter()
                .map(|x| finding(x, f.several_repos, end_label))
                .collect()),
        };
        FlowWords {
            stages,
            stages_brief,
            drift,
            findings,
        }
    }
}

fn finding(f: &dg::Finding, several: bool, end_label: &str) -> Finding {
    let of = |repo: &str| {
        if several {
            format!("{repo}: ")
        } else {
            String::new()
        }
    };
    let plural = |n: i64| if n == 1 { "" } else { "s" };
    match f {
        dg::Finding::Misalignment {
            misalignment,
            commits,
            examples,
            more_rows,
            evidence,
        } => {
            let (label, one, many) = kind_words(misalignment);
            let details: Vec<String> = examples
                .iter()
                .map(|e| {
                    if e.detail.contains(short(&e.sha)) {
                        e.detail.clone()
                    } else {
                        format!("{} {}", short(&e.sha), e.detail)
                    }
                })
                .collect();
            let mut description = if *commits == 1 {
                format!("1 commit {one}: {}", details.join("; "))
            } else {
                format!("{commits} commits {many}: {}", details.join("; "))
            };
            if *more_rows > 0 {
                description.push_str(&format!("; and {more_rows} more"));
            }
            let mut shas: Vec<String> = evidence
                .iter()
                .map(|(repo, sha)| {
                    if several {
                        format!("{repo}@{}", short(sha))
                    } else {
                        short(sha).to_string()
                    }
                })
                .collect();
            shas.dedup();
            if shas.len() > 20 {
                let rest = shas.len() - 20;
                shas.truncate(20);
                description.push_str(&format!(
                    " (the first 20 shas are listed, {rest} more in `flowmeter flow`)"
                ));
            }
            Finding {
                kind: label.to_string(),
                description,
                shas,
            }
        }
        dg::Finding::BranchTips {
            repo,
            from_env,
            to_env,
            from_tip,
            to_tip,
            ahead,
            behind,
        } => {
            let tip = |x: &Option<String>| {
                x.as_deref()
                    .map(|s| short(s).to_string())
                    .unwrap_or_else(|| "(none)".into())
            };
            let (ft, tt) = (tip(from_tip), tip(to_tip));
            Finding {
                kind: "Branch tips at ingest".into(),
                description: format!(
                    "{}{from_env} → {to_env}: the tip of {from_env} ({ft}) has {ahead} non-merge commit{} that the tip of {to_env} ({tt}) lacks, and lacks {behind} that it has",
                    of(repo),
                    plural(*ahead),
                ),
                shas: from_tip
                    .iter()
                    .chain(to_tip)
                    .map(|s| short(s).to_string())
                    .collect(),
            }
        }
        dg::Finding::Drift {
            repo,
            from_env,
            to_env,
            day,
            before_end,
            changes,
            prs,
            oldest_sha,
            oldest_age_hours,
        } => {
            let mut description = format!(
                "{}{from_env} → {to_env} at the end of {day}{}: {changes} change{} and {prs} PR{} in {from_env} not yet in {to_env}",
                of(repo),
                if *before_end { " (the last day with data)" } else { "" },
                plural(*changes),
                plural(*prs),
            );
            if let (Some(age), Some(sha)) = (oldest_age_hours, oldest_sha) {
                description.push_str(&format!(
                    "; the oldest, {}, has waited {}",
                    short(sha),
                    fmt_hours(*age)
                ));
            }
            Finding {
                kind: format!("Drift at {end_label}"),
                description,
                shas: oldest_sha.iter().map(|s| short(s).to_string()).collect(),
            }
        }
        dg::Finding::OldestWaiting {
            repo,
            sha,
            age_hours,
            from_env,
            to_env,
            day,
        } => Finding {
            kind: "Oldest waiting change".into(),
            description: format!(
                "{}{} has waited {} in {from_env} for {to_env} (at the end of {day})",
                of(repo),
                short(sha),
                fmt_hours(*age_hours),
            ),
            shas: vec![short(sha).to_string()],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmeter_analysis::tier_limits;

    #[test]
    fn limits_read_in_the_table_direction() {
        // 2024: elite ≤ 5%, high ≤ 20%, medium ≤ 10% (never reached), low beyond.
        let t = limit_texts(&tier_limits(2024, "change_fail_rate"), fmt_pct);
        assert_eq!(t, ["≤ 5%", "≤ 20%", "≤ 10%", "> 20%"]);
        // Deploy frequency is higher-is-better in the table itself.
        let f = limit_texts(&tier_limits(2023, "deploy_frequency"), |v| {
            format!("{}/wk", two_places(v))
        });
        assert_eq!(f, ["≥ 7/wk", "≥ 1/wk", "≥ 0.25/wk", "< 0.25/wk"]);
        assert!(limit_texts(&tier_limits(2024, "no_such_metric"), fmt_pct).is_empty());
    }
}

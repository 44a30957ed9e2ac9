//! The safety-net section and slide: the words and the table of
//! [`flowmeter_analysis::safety::NetSection`]. Every number and every
//! judgement (trend, verdict) comes from the analysis; this module only
//! words and draws them.

use flowmeter_analysis::safety::{
    Gap, NetLine, NetMetric, NetSection, Trend, MAX_FAIL_RATE, MAX_RESTORE_H, MIN_AUTOMATED_SHARE,
    MIN_DEPLOYMENTS, MIN_GREEN_SHARE,
};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

use crate::charts::DrawResult;
use crate::style::{fmt_hours, fmt_pct, trim, FONT, GREY};

/// The table as printed: one row per measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SafetyTable {
    /// "2025-10-01 – 2025-12-31".
    pub period: String,
    pub previous_period: String,
    pub rows: Vec<SafetyTableRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SafetyTableRow {
    pub measure: String,
    pub now: String,
    /// "95%: 3.1%–8.0%", or "" without an interval.
    pub interval: String,
    pub previous: String,
    /// "better", "worse", "no clear change", "up", "down", "same", "–".
    pub trend: String,
}

/// The section: the numbers (as the analysis gave them), the table and the verdict in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SafetyReport {
    pub numbers: NetSection,
    pub table: SafetyTable,
    /// One sentence: the verdict.
    pub verdict: String,
    /// Why, one sentence per missing piece or missed bar; then the bars cleared.
    pub reasons: Vec<String>,
    /// The evidence behind the table, one sentence each: green tests against
    /// the rest, recovery per rollback class, how failures were detected.
    #[serde(default)]
    pub details: Vec<String>,
    /// The bars, as the report states them.
    pub bars: String,
}

fn day(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default()
}

fn name(m: NetMetric) -> &'static str {
    match m {
        NetMetric::Deployments => "Deployments",
        NetMetric::GreenTests => "Shipped with green tests",
        NetMetric::Failures => "Failed deployments",
        NetMetric::TimeToDetect => "Time to detect (median)",
        NetMetric::TimeToRestore => "Time to restore (median)",
        NetMetric::AutomatedRollbacks => "Automated rollbacks",
        NetMetric::DefectsPerDeployment => "Incidents per deployment",
    }
}

fn format(m: NetMetric, v: f64) -> String {
    match m {
        NetMetric::Deployments => trim(v),
        NetMetric::GreenTests | NetMetric::Failures | NetMetric::AutomatedRollbacks => fmt_pct(v),
        NetMetric::TimeToDetect | NetMetric::TimeToRestore => fmt_hours(v),
        NetMetric::DefectsPerDeployment => format!("{v:.3}"),
    }
}

fn cell(line: &NetLine, now: bool) -> String {
    let v = if now { &line.now } else { &line.previous };
    let Some(x) = v.value else {
        return "–".into();
    };
    let of = match line.metric {
        NetMetric::GreenTests | NetMetric::Failures | NetMetric::AutomatedRollbacks => {
            // k of n: the share times n is exact for these.
            format!(" ({} of {})", (x * v.n as f64).round(), v.n)
        }
        NetMetric::TimeToDetect | NetMetric::TimeToRestore => format!(" (n={})", v.n),
        _ => String::new(),
    };
    format!("{}{of}", format(line.metric, x))
}

fn trend_word(t: Trend) -> &'static str {
    match t {
        Trend::Better => "better",
        Trend::Worse => "worse",
        Trend::NoClearChange => "no clear change",
        Trend::Up => "up",
        Trend::Down => "down",
        Trend::Same => "same",
        Trend::Unknown => "–",
    }
}

fn gap_words(g: &Gap) -> String {
    match g {
        Gap::TooFewDeployments {
            deployments,
            needed,
        } => format!(
            "Too few deployments: {deployments} in the quarter, at least {needed} are needed."
        ),
        Gap::NoTestData => "No test data: name the CI workflows in [tests] workflows (GitHub Actions), or give the deploy log a tests_passed column.".into(),
        Gap::NoIncidentData => "No incident data: import incidents (flowmeter ingest incidents FILE, or GitHub issues); without them monitoring is not shown to catch failures.".into(),
        Gap::NoRollbacks => "No rollback or revert deployment in the quarter: automated rollback is not shown.".into(),
        Gap::Missed { metric, bound, bar } => {
            let b = |v: f64| format(*metric, v);
            match (metric, bound) {
                (m, None) => format!("{}: no value to judge.", name(*m)),
                (NetMetric::GreenTests | NetMetric::AutomatedRollbacks, Some(x)) => format!(
                    "{}: the lower end of the 95% interval, {}, is below the {} bar.",
                    name(*metric),
                    b(*x),
                    b(*bar)
                ),
                (_, Some(x)) => format!(
                    "{}: the upper end of the 95% interval, {}, is above the {} bar.",
                    name(*metric),
                    b(*x),
                    b(*bar)
                ),
            }
        }
    }
}

/// The section in words.
pub fn safety_report(s: &NetSection) -> SafetyReport {
    let rows = s
        .lines
        .iter()
        .map(|l| SafetyTableRow {
            measure: name(l.metric).into(),
            now: cell(l, true),
            interval: match (l.now.lo, l.now.hi) {
                (Some(lo), Some(hi)) => {
                    format!("{}–{}", format(l.metric, lo), format(l.metric, hi))
                }
                _ => String::new(),
            },
            previous: cell(l, false),
            trend: trend_word(l.trend).into(),
        })
        .collect();
    let end = s.end - 1;
    let table = SafetyTable {
        period: format!("{} – {}", day(s.start), day(end)),
        previous_period: format!("{} – {}", day(s.previous_start), day(s.start - 1)),
        rows,
    };
    let v = &s.verdict;
    let verdict = if v.safe_to_deploy_more_often {
        "The evidence supports deploying more often: every bar is cleared on the cautious side of its 95% interval.".to_string()
    } else {
        "The evidence does not yet show that deploying more often is safe.".to_string()
    };
    let mut reasons: Vec<String> = v.gaps.iter().map(gap_words).collect();
    if !v.cleared.is_empty() {
        reasons.push(format!(
            "Cleared: {}.",
            v.cleared
                .iter()
                .map(|m| name(*m).to_lowercase())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    SafetyReport {
        numbers: s.clone(),
        table,
        verdict,
        reasons,
        details: details(s),
        bars: format!(
            "The bars, each judged on the cautious end of its 95% interval: at least {MIN_DEPLOYMENTS} deployments; green tests on at least {}; failed deployments at most {} (DORA 2023's medium boundary); median time to restore at most {} (less than one day); at least {} of rollbacks automated; incident data present.",
            fmt_pct(MIN_GREEN_SHARE),
            fmt_pct(MAX_FAIL_RATE),
            fmt_hours(MAX_RESTORE_H),
            fmt_pct(MIN_AUTOMATED_SHARE)
        ),
    }
}

fn share(x: &flowmeter_analysis::safety::Share) -> String {
    match (x.value, x.lo, x.hi) {
        (Some(v), Some(lo), Some(hi)) => format!(
            "{} ({} of {}; 95% {}–{})",
            fmt_pct(v),
            x.k,
            x.n,
            fmt_pct(lo),
            fmt_pct(hi)
        ),
        _ => "–".into(),
    }
}

fn spans(x: &flowmeter_analysis::safety::Spans) -> String {
    match x.median_h {
        Some(m) => format!("a median of {} (n={})", fmt_hours(m), x.n),
        None => "none".into(),
    }
}

/// The sentences behind the table, each from the section's numbers.
fn details(s: &NetSection) -> Vec<String> {
    let n = &s.now;
    let mut out = vec![];
    let t = &n.tests;
    if t.known > 0 {
        let mut line = format!(
            "Failure rate with green tests {}, without {}",
            share(&t.fail_rate_green),
            share(&t.fail_rate_not_green)
        );
        if let (Some(d), Some((lo, hi))) = (&t.difference, t.difference_newcombe) {
            let pp = |v: f64| format!("{:+.1} pp", v * 100.0);
            let clear = |a: f64, b: f64| a > 0.0 || b < 0.0;
            line.push_str(&format!(
                "; difference {} (95% {} to {}; bootstrap {} to {}){}",
                pp(d.estimate),
                pp(lo),
                pp(hi),
                pp(d.lo),
                pp(d.hi),
                if clear(lo, hi) && clear(d.lo, d.hi) {
                    ""
                } else {
                    ": the data cannot tell them apart"
                }
            ));
        }
        line.push('.');
        out.push(line);
    }
    let r = &n.rollbacks;
    if r.automated.n > 0 {
        out.push(format!(
            "Failures undone by an automated rollback or revert recovered in {}; by a manual one in {}.",
            spans(&r.recovery_automated),
            spans(&r.recovery_manual)
        ));
    }
    if !n.detections.is_empty() {
        // By signal: who raised the first signal, summed over detectors.
        let mut by: Vec<(String, usize)> = vec![];
        for d in &n.detections {
            match by.iter_mut().find(|(k, _)| *k == d.signal) {
                Some(e) => e.1 += d.failures,
                None => by.push((d.signal.clone(), d.failures)),
            }
        }
        by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.push(format!(
            "First detected by: {}.",
            by.iter()
                .map(|(k, c)| format!("{} {c}", signal_name(k)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(w) = &n.defects.weighted_per_deployment {
        out.push(format!(
            "Incidents per deployment weighted by severity: {:.3} (95% {:.3}–{:.3}).",
            w.estimate, w.lo, w.hi
        ));
    }
    out
}

fn signal_name(k: &str) -> &str {
    match k {
        "incident" => "an incident (monitoring)",
        "status" => "a failing deploy status (the pipeline)",
        "revert" => "a person's revert",
        "rollback" => "a rollback",
        "hotfix" => "a hotfix",
        other => other,
    }
}

/// The title of the table chart.
pub(crate) fn title(t: &SafetyTable) -> String {
    format!("Safety net, {} (vs {})", t.period, t.previous_period)
}

/// Draws the table: measure, this quarter, its interval, the previous quarter, the trend.
pub(crate) fn draw<DB: DrawingBackend>(
    t: &SafetyTable,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let s = (w as f64 / 1600.0).min(h as f64 / 900.0);
    let px = |v: f64| (v * s).round() as i32;
    let m = px(40.0);
    area.draw(&Text::new(
        title.to_string(),
        (m, m / 2),
        (FONT, 40.0 * s).into_font().color(&BLACK),
    ))?;
    let top = px(120.0);
    let rows = t.rows.len() as i32 + 1;
    let row_h = ((h - top - m) / rows).min(px(110.0));
    let cols = [0, 29, 51, 67, 87].map(|p| m + (w - 2 * m) * p / 100);
    let left = Pos::new(HPos::Left, VPos::Center);
    let header = (FONT, 28.0 * s)
        .into_font()
        .style(FontStyle::Bold)
        .color(&BLACK);
    let mid = |y: i32| y + row_h / 2;
    for (i, label) in [
        "measure",
        "this quarter",
        "95% interval",
        "previous quarter",
    ]
    .iter()
    .enumerate()
    {
        area.draw(&Text::new(
            label.to_string(),
            (cols[i], mid(top)),
            header.clone().pos(left),
        ))?;
    }
    area.draw(&Text::new(
        "trend",
        (cols[4], mid(top)),
        header.clone().pos(left),
    ))?;
    for (r, row) in t.rows.iter().enumerate() {
        let y = top + row_h * (r as i32 + 1);
        area.draw(&PathElement::new(
            vec![(m, y), (w - m, y)],
            GREY.mix(0.5).stroke_width(1),
        ))?;
        let font = |bold: bool| {
            let f = (FONT, 30.0 * s).into_font();
            let f = if bold { f.style(FontStyle::Bold) } else { f };
            f.color(&BLACK).pos(left)
        };
        let cells = [
            (row.measure.as_str(), cols[0], false),
            (row.now.as_str(), cols[1], true),
            (row.interval.as_str(), cols[2], false),
            (row.previous.as_str(), cols[3], false),
        ];
        for (text, x, bold) in cells {
            area.draw(&Text::new(text.to_string(), (x, mid(y)), font(bold)))?;
        }
        let colour = match row.trend.as_str() {
            "better" => crate::style::okabe_ito::BLUISH_GREEN,
            "worse" => crate::style::okabe_ito::VERMILLION,
            _ => RGBColor(0x55, 0x55, 0x55),
        };
        area.draw(&Text::new(
            row.trend.clone(),
            (cols[4], mid(y)),
            (FONT, 26.0 * s).into_font().color(&colour).pos(left),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmeter_analysis::safety::{net_section, SafetyRow};

    fn row(i: i64, failed: bool) -> SafetyRow {
        SafetyRow {
            repo: "r".into(),
            environment: "production".into(),
            deployment_id: format!("d{i}"),
            deployed_at: i,
            failed,
            recovery_s: failed.then_some(7200),
            time_to_detect_s: failed.then_some(600),
            time_to_restore_s: failed.then_some(6600),
            detected_by: failed.then(|| "incident".into()),
            detector: failed.then(|| "incident tool".into()),
            trigger: None,
            restored_by: None,
            restored_by_trigger: None,
            incidents: i64::from(failed),
            defect_weight: 0.0,
            tests_passed: Some(true),
        }
    }

    #[test]
    fn words_follow_the_numbers() {
        // 40 deployments now (2 failed), none before; no rollbacks.
        let rows: Vec<SafetyRow> = (100..140).map(|i| row(i, i < 102)).collect();
        let s = safety_report(&net_section(&rows, 0, 100, 200, false, true));
        assert_eq!(s.table.rows.len(), 7);
        let by = |m: &str| s.table.rows.iter().find(|r| r.measure == m).unwrap();
        assert_eq!(by("Deployments").now, "40");
        assert_eq!(by("Deployments").previous, "0");
        assert_eq!(by("Failed deployments").now, "5% (2 of 40)");
        assert_eq!(by("Failed deployments").trend, "–", "no previous value");
        assert_eq!(by("Time to detect (median)").now, "10 min (n=2)");
        assert!(s.verdict.starts_with("The evidence does not yet show"));
        // All green: no deployment without green tests to compare with.
        assert_eq!(
            s.details[0],
            "Failure rate with green tests 5% (2 of 40; 95% 1.4%–16.5%), without –."
        );
        assert_eq!(
            s.details[1],
            "First detected by: an incident (monitoring) 2."
        );
        assert!(s.reasons.iter().any(|r| {
            r == "No rollback or revert deployment in the quarter: automated rollback is not shown."
        }));
        // Wilson upper bound of 2 of 40 is 16.5%: above the 15% bar.
        assert!(
            s.reasons.iter().any(|r| r
                == "Failed deployments: the upper end of the 95% interval, 16.5%, is above the 15% bar."),
            "{:?}",
            s.reasons
        );
    }
}

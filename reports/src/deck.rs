//! The leadership deck: an HTML slide deck (one idea per slide, keyboard
//! navigation, printable to PDF) and each slide as a 1920×1080 PNG.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::charts::{
    BeforeAfterLine, BeforeAfterTable, Chart, DrawResult, FailureByBatch, LeadTimeHistogram,
    QuickCheckCard, Scorecard, StageTimes, WhatIfLeadTime, WhatIfPolicy,
};
use crate::error::Result;
use crate::escape_html;
use crate::render::{png_with, to_svg, write_text};
use crate::safety::SafetyReport;
use crate::style::{fmt_hours, fmt_pct, okabe_ito as oi, trim, Tier, FONT, GREY};
pub use flowmeter_analysis::digest::{
    BeforeAfter, BeforeAfterRow, DeckNumbers, PeriodSpan, RiskFit, TrainWait, Verdict,
};

/// Upper-cases the first letter ("not available: …" → "Not available: …").
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The size of each slide PNG.
pub const SLIDE_SIZE: (u32, u32) = (1920, 1080);

/// Everything the deck shows. The caller computes every number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deck {
    pub title: String,
    /// The period covered, as printed.
    pub period: String,
    /// Repositories and environment, as printed.
    pub scope: String,
    /// The one line that differs between runs on the same data.
    pub generated_at: String,
    /// The period's headline numbers, as `metrics` gives them for the same
    /// period and environment (deck.json carries them; the scorecard prints them).
    #[serde(default)]
    pub numbers: DeckNumbers,
    /// 2023/2024: the tier scorecard (empty rows' tiers for 2025).
    pub tiers: Scorecard,
    /// 2025: the Quick Check scores beside the population mean ± sd; when
    /// present it replaces the tier slide, and no tier is named.
    #[serde(default)]
    pub quick_check: Option<QuickCheckCard>,
    pub waiting: Waiting,
    pub batch_risk: BatchRisk,
    /// `None` until the what-if analysis exists: the slide is then left out.
    pub whatif: Option<WhatIfLeadTime>,
    /// The safety net of the last quarter, with its verdict.
    #[serde(default)]
    pub safety: Option<SafetyReport>,
    /// `compare` before and after the process change (or the periods asked
    /// for); `None` without either: the slide is then left out.
    #[serde(default)]
    pub before_after: Option<BeforeAfter>,
    /// Why a configured process change has no slide ("not available: why").
    #[serde(default)]
    pub before_after_unavailable: Option<String>,
}

/// "How long a change waits, and where."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    pub changes: u64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub histogram: LeadTimeHistogram,
    /// Per-stage dwell times; `None` when the promotion-flow analysis is not available.
    pub stages: Option<StageTimes>,
    /// Why `stages` is `None`, as "not available: why".
    #[serde(default)]
    pub stages_unavailable: Option<String>,
    /// The share of lead time spent waiting for the next production train,
    /// one entry per repository with trains.
    #[serde(default)]
    pub train_waits: Vec<TrainWait>,
}

/// "What batch size does to failure."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRisk {
    pub buckets: FailureByBatch,
    /// The logistic fit, when the risk analysis is available.
    pub fit: Option<RiskFit>,
}

/// One slide, formatted.
#[derive(Debug, Clone, PartialEq)]
pub struct Slide {
    pub id: String,
    pub title: String,
    pub big: String,
    pub big_caption: String,
    pub bullets: Vec<String>,
    /// Small print under the bullets (assumptions).
    pub notes: Vec<String>,
    pub chart: Option<Chart>,
}

/// "Do tests, monitoring and rollback keep deployments safe?": the table and the verdict.
fn safety_slide(s: &SafetyReport) -> Slide {
    let safe = s.numbers.verdict.safe_to_deploy_more_often;
    let mut bullets = vec![s.verdict.clone()];
    bullets.extend(s.reasons.iter().cloned());
    Slide {
        id: "safety-net".into(),
        title: "Do tests, monitoring and rollback keep deployments safe?".into(),
        big: if safe {
            "Supported".into()
        } else {
            "Not yet shown".into()
        },
        big_caption: format!(
            "that deploying more often is safe, on {} (95% intervals)",
            s.table.period
        ),
        bullets,
        notes: s.details.iter().cloned().chain([s.bars.clone()]).collect(),
        chart: Some(Chart::SafetyNet(s.table.clone())),
    }
}

/// The 2025 slide: each score beside the population mean ± sd, no tier.
fn quick_check_slide(q: &QuickCheckCard) -> Slide {
    let scored: Vec<_> = q
        .rows
        .iter()
        .filter(|r| r.metric != "Overall")
        .filter_map(|r| Some((r, r.score?)))
        .collect();
    let at_or_above = scored.iter().filter(|(r, s)| *s >= r.mean).count();
    // Short bullets: the chart beside them carries values and answers.
    let bullets: Vec<String> = q
        .rows
        .iter()
        .map(|r| match r.score {
            Some(s) => format!("{}: {s:.1} (mean {:.1} ± {:.1})", r.metric, r.mean, r.sd),
            None => format!("{}: no score (mean {:.1} ± {:.1})", r.metric, r.mean, r.sd),
        })
        .collect();
    let notes = vec![format!(
        "Scored 0–10 (10 best) as the dora.dev Quick Check scores each survey answer; population: {}, DORA {} survey, which has no tiers.",
        q.population, q.year
    )];
    Slide {
        id: "scores".into(),
        title: format!("Where we are against the DORA {} population", q.year),
        big: format!("{at_or_above} of {}", scored.len()),
        big_caption: format!("metrics at or above the {} mean", q.population),
        bullets,
        notes,
        chart: Some(Chart::QuickCheck(q.clone())),
    }
}

impl Deck {
    fn tier_slide(&self) -> Slide {
        let rated: Vec<&Tier> = self
            .tiers
            .rows
            .iter()
            .filter_map(|r| r.tier.as_ref())
            .collect();
        let good = rated
            .iter()
            .filter(|t| matches!(t, Tier::Elite | Tier::High))
            .count();
        let mut bullets: Vec<String> = self
            .tiers
            .rows
            .iter()
            .map(|r| {
                format!(
                    "{}: {} ({})",
                    r.metric,
                    r.value,
                    r.tier.map(|t| t.name()).unwrap_or("no tier")
                )
            })
            .collect();
        if let Some(y) = self.tiers.tier_year {
            bullets.push(format!("Tier thresholds from the DORA {y} report."));
        }
        Slide {
            id: "tiers".into(),
            title: "Where we are against the DORA tiers".into(),
            big: format!("{good} of {}", rated.len()),
            big_caption: "metrics at High or Elite".into(),
            bullets,
            notes: vec![],
            chart: Some(Chart::Scorecard(self.tiers.clone())),
        }
    }

    /// The slides in order. The what-if slide is present only with what-if results.
    pub fn slides(&self) -> Vec<Slide> {
        let mut out = vec![Slide {
            id: "title".into(),
            title: self.title.clone(),
            big: self.period.clone(),
            big_caption: self.scope.clone(),
            bullets: vec![
                if self.quick_check.is_some() {
                    "Where we are against the DORA 2025 population".into()
                } else {
                    "Where we are against the DORA tiers".into()
                },
                "How long a change waits, and where".into(),
                "What batch size does to failure".into(),
            ]
            .into_iter()
            .chain(match (&self.before_after, &self.before_after_unavailable) {
                (Some(b), _) => Some(before_after_title(b)),
                (None, Some(why)) => Some(format!("{}, so that slide is left out", capitalise(why))),
                (None, None) => None,
            })
            .chain(
                self.safety
                    .as_ref()
                    .map(|_| "Whether tests, monitoring and rollback keep deployments safe".into()),
            )
            .chain([
                if self.whatif.is_some() {
                    "What smaller, more frequent releases would change".into()
                } else {
                    "Not available: what-if cadences (the what-if analysis has not run), so that slide is left out".into()
                },
            ])
            .collect(),
            notes: vec![],
            chart: None,
        }];

        match &self.quick_check {
            Some(q) => out.push(quick_check_slide(q)),
            None => out.push(self.tier_slide()),
        }

        // Waiting.
        let w = &self.waiting;
        let mut bullets = vec![];
        if let Some(p90) = w.p90_hours {
            bullets.push(format!(
                "1 change in 10 waits longer than {}.",
                fmt_hours(p90)
            ));
        }
        bullets.push(format!(
            "Based on {} changes that reached production.",
            w.changes
        ));
        let chart = match &w.stages {
            Some(st) => {
                if let Some(last) = st.periods.last() {
                    let (i, max) =
                        last.hours
                            .iter()
                            .enumerate()
                            .fold(
                                (0, f64::NEG_INFINITY),
                                |a, (i, h)| if *h > a.1 { (i, *h) } else { a },
                            );
                    if let Some(name) = st.stages.get(i).filter(|_| max.is_finite()) {
                        bullets.push(format!(
                            "The longest wait in {} is {}: {} {}.",
                            last.label,
                            name,
                            st.statistic,
                            fmt_hours(max)
                        ));
                    }
                }
                Chart::StageTimes(st.clone())
            }
            None => {
                bullets.push(match &w.stages_unavailable {
                    Some(why) => capitalise(why),
                    None => "Not available: time per environment stage (the promotion-flow analysis has not run).".into(),
                });
                Chart::LeadTimeHistogram(w.histogram.clone())
            }
        };
        match w.train_waits.as_slice() {
            [] => {}
            [t] => bullets.push(format!(
                "{} of lead time is waiting for the next {} train{} ({} changes).",
                fmt_pct(t.share),
                t.environment,
                t.median_wait_hours
                    .map(|h| format!(", a median wait of {}", fmt_hours(h)))
                    .unwrap_or_default(),
                t.changes
            )),
            all => bullets.push(format!(
                "Share of lead time spent waiting for the next {} train: {}.",
                all[0].environment,
                all.iter()
                    .map(|t| format!("{} {}", t.repo, fmt_pct(t.share)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        out.push(Slide {
            id: "waiting".into(),
            title: "How long a change waits, and where".into(),
            big: w.median_hours.map(fmt_hours).unwrap_or_else(|| "–".into()),
            big_caption: "median time from commit to production".into(),
            bullets,
            notes: vec![],
            chart: Some(chart),
        });

        // Batch size and failure.
        let b = &self.batch_risk;
        let mut bullets = vec![];
        let (big, caption) = match &b.fit {
            Some(f) => {
                let inconclusive = f.ci_lo <= 1.0 && f.ci_hi >= 1.0;
                let p = if f.p_value < 0.001 {
                    "p < 0.001".to_string()
                } else {
                    format!("p = {:.3}", f.p_value)
                };
                bullets.push(format!(
                    "Logistic fit on {} deployments with {} failed: {p}.",
                    f.deployments, f.failures
                ));
                if inconclusive {
                    bullets.push(
                        "The interval includes ×1: the data cannot rule out no effect.".into(),
                    );
                }
                if let Some(wn) = &f.warning {
                    bullets.push(wn.clone());
                }
                (
                    format!("×{}", trim(f.odds_ratio_per_doubling)),
                    format!(
                        "odds of failure per doubling of batch size (95% CI ×{}–×{}{})",
                        trim(f.ci_lo),
                        trim(f.ci_hi),
                        if inconclusive { ", inconclusive" } else { "" }
                    ),
                )
            }
            None => {
                bullets.push(
                    "Not available: the logistic fit (the risk analysis has not run).".into(),
                );
                match (b.buckets.buckets.first(), b.buckets.buckets.last()) {
                    (Some(s), Some(l)) if b.buckets.buckets.len() > 1 => (
                        format!("{} → {}", fmt_pct(s.rate), fmt_pct(l.rate)),
                        format!(
                            "failure rate, batches of {} vs {} {}",
                            s.label, l.label, b.buckets.dimension
                        ),
                    ),
                    (Some(s), _) => (fmt_pct(s.rate), "failure rate".to_string()),
                    _ => ("–".into(), "no deployments".to_string()),
                }
            }
        };
        // The per-bucket numbers are on the chart; listed only without a fit.
        for k in b.buckets.buckets.iter().filter(|_| b.fit.is_none()) {
            bullets.push(format!(
                "{}: {} failed of {} ({}, {} {}–{})",
                k.label,
                k.failed,
                k.deployments,
                fmt_pct(k.rate),
                b.buckets.interval,
                fmt_pct(k.lo),
                fmt_pct(k.hi)
            ));
        }
        if let (Some(s), Some(l)) = (b.buckets.buckets.first(), b.buckets.buckets.last()) {
            if b.buckets.buckets.len() > 1 && s.hi >= l.lo && l.hi >= s.lo {
                let fit_clear = b
                    .fit
                    .as_ref()
                    .is_some_and(|f| f.ci_lo > 1.0 || f.ci_hi < 1.0);
                bullets.push(if fit_clear {
                    "Single buckets are small and the intervals of the smallest and largest overlap; \
                     the fit over all deployments is what separates them."
                        .into()
                } else {
                    "The intervals of the smallest and largest batches overlap: more data is needed to tell them apart."
                        .into()
                });
            }
        }
        out.push(Slide {
            id: "batch-risk".into(),
            title: "What batch size does to failure".into(),
            big,
            big_caption: caption,
            bullets,
            notes: vec![],
            chart: Some(Chart::FailureByBatch(b.buckets.clone())),
        });

        if let Some(ba) = &self.before_after {
            out.push(before_after_slide(ba));
        }
        if let Some(s) = &self.safety {
            out.push(safety_slide(s));
        }

        // What-if, only with results.
        if let Some(wi) = &self.whatif {
            out.push(whatif_slide(wi));
        }
        out
    }

    /// The deck as one HTML page: inline CSS and SVG, a few lines of inline
    /// JavaScript for the arrow keys, and print CSS with one slide per page.
    pub fn to_html(&self) -> Result<String> {
        let slides = self.slides();
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
            escape_html(&self.title),
            DECK_CSS
        );
        for (i, s) in slides.iter().enumerate() {
            let _ = writeln!(
                h,
                "<section class=\"slide\" id=\"slide-{}\" data-n=\"{}\">",
                escape_html(&s.id),
                i + 1
            );
            let _ = writeln!(
                h,
                "<h1>{}</h1>\n<div class=\"body\">\n<div class=\"text\">",
                escape_html(&s.title)
            );
            let _ = writeln!(
                h,
                "<p class=\"big{}\">{}</p>\n<p class=\"caption\">{}</p>",
                if s.big.chars().count() > 8 {
                    " long"
                } else {
                    ""
                },
                escape_html(&s.big),
                escape_html(&s.big_caption)
            );
            if !s.bullets.is_empty() {
                h.push_str("<ul>\n");
                for b in &s.bullets {
                    let cls = if b.starts_with("Not available") {
                        " class=\"na\""
                    } else {
                        ""
                    };
                    let _ = writeln!(h, "<li{cls}>{}</li>", escape_html(b));
                }
                h.push_str("</ul>\n");
            }
            if !s.notes.is_empty() {
                h.push_str("<ul class=\"notes\">\n");
                for n in &s.notes {
                    let _ = writeln!(h, "<li>{}</li>", escape_html(n));
                }
                h.push_str("</ul>\n");
            }
            h.push_str("</div>\n");
            if let Some(c) = &s.chart {
                let svg = to_svg(c, (1240, 860))?;
                let svg = svg.replacen(
                    "<svg ",
                    &format!(
                        "<svg role=\"img\" aria-label=\"{}\" ",
                        escape_html(&c.title())
                    ),
                    1,
                );
                let _ = writeln!(h, "<div class=\"chart\">{}</div>", svg.trim());
            }
            let _ = writeln!(
                h,
                "</div>\n<footer>{} · {} · {}/{}</footer>\n</section>",
                escape_html(&self.scope),
                escape_html(&self.generated_at),
                i + 1,
                slides.len()
            );
        }
        h.push_str("<script>\n");
        h.push_str(DECK_JS);
        h.push_str("</script>\n</body>\n</html>\n");
        Ok(h)
    }
}

/// The before/after slide's title: what changed, or the two periods.
fn before_after_title(b: &BeforeAfter) -> String {
    match (&b.change_date, &b.label) {
        (Some(_), Some(l)) if l.chars().count() <= 26 => format!("What changed with {l}"),
        (Some(d), _) => format!("What changed after {d}"),
        (None, _) => "Before and after".to_string(),
    }
}

/// How each compared metric is named and printed.
struct MetricWords {
    name: &'static str,
    per: &'static str,
}

fn metric_words(r: &BeforeAfterRow) -> MetricWords {
    let (name, per) = match r.metric.as_str() {
        "lead_time" => ("Median lead time", "changes"),
        "batch_commits" => ("Median batch size", "deployments"),
        "change_fail_rate" => ("Change fail rate", "deployments"),
        "recovery_time" => ("Median recovery time", "failed deployments"),
        _ => ("", ""),
    };
    MetricWords { name, per }
}

/// A value in its unit: hours as durations, fractions as percentages.
fn value_text(r: &BeforeAfterRow, v: Option<f64>) -> String {
    let Some(v) = v else { return "–".into() };
    match r.unit.as_str() {
        "hours" => fmt_hours(v),
        "fraction" => fmt_pct(v),
        "commits" => format!("{} commits", trim(v)),
        u => format!("{} {u}", trim(v)),
    }
}

/// The unit (name, hours) durations of a difference print in: the one
/// [`fmt_hours`] picks for the largest, or a smaller one where that would
/// print the two ends of the interval alike.
fn diff_unit(r: &BeforeAfterRow) -> (&'static str, f64) {
    const UNITS: [(&str, f64); 4] = [("w", 168.0), ("d", 24.0), ("h", 1.0), ("min", 1.0 / 60.0)];
    let vals: Vec<f64> = [r.difference, r.difference_lo, r.difference_hi]
        .into_iter()
        .flatten()
        .map(f64::abs)
        .collect();
    let max = vals.iter().copied().fold(0.0, f64::max);
    let first = match max {
        m if m < 1.0 => 3,
        m if m < 48.0 => 2,
        m if m < 24.0 * 14.0 => 1,
        _ => 0,
    };
    let mut k = first;
    while k < 3 {
        let (_, d) = UNITS[k];
        match (r.difference_lo, r.difference_hi) {
            (Some(lo), Some(hi)) if lo != hi && trim(lo / d) == trim(hi / d) => k += 1,
            _ => break,
        }
    }
    UNITS[k]
}

/// A signed difference in its unit, as (number, unit); rates as percentage points.
fn diff_parts(r: &BeforeAfterRow, v: f64) -> (String, String) {
    let sign = if v < 0.0 { "−" } else { "+" };
    let a = v.abs();
    let (n, unit) = match r.unit.as_str() {
        "hours" => {
            let (name, d) = diff_unit(r);
            (trim(a / d), name.to_string())
        }
        "fraction" => (trim(100.0 * a), "pp".to_string()),
        u => (trim(a), u.to_string()),
    };
    (format!("{sign}{n}"), unit)
}

fn diff_text(r: &BeforeAfterRow, v: f64) -> String {
    let (n, unit) = diff_parts(r, v);
    format!("{n} {unit}")
}

/// The interval with its unit once: "−25.2 to −25 d".
fn interval_text(r: &BeforeAfterRow) -> String {
    match (r.difference_lo, r.difference_hi) {
        (Some(lo), Some(hi)) => {
            let ((a, unit), (b, _)) = (diff_parts(r, lo), diff_parts(r, hi));
            format!("{a} to {b} {unit}")
        }
        _ => "–".into(),
    }
}

fn p_text(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "p < 0.001".into(),
        Some(p) => format!("p = {:.3}", p),
        None => "–".into(),
    }
}

/// One plain sentence per metric that says only what its interval supports
/// (and when the rank test is less sure than the interval).
fn before_after_sentence(r: &BeforeAfterRow) -> String {
    let w = metric_words(r);
    let (b, a) = (value_text(r, r.before), value_text(r, r.after));
    let unsure = match r.p_value {
        Some(p) if p >= 0.05 => format!(" The rank test is less sure ({}).", p_text(Some(p))),
        _ => String::new(),
    };
    match r.verdict {
        Verdict::Lower => format!(
            "{} fell, {b} → {a}; the change's 95% interval is all below zero.{unsure}",
            w.name
        ),
        Verdict::Higher => format!(
            "{} rose, {b} → {a}; the change's 95% interval is all above zero.{unsure}",
            w.name
        ),
        Verdict::NoClearChange => format!(
            "{}: {b} → {a}, but the change's 95% interval includes zero: no clear change.",
            w.name
        ),
        Verdict::NoData => format!(
            "{}: no {} {}, so no comparison.",
            w.name,
            w.per,
            match (r.n_before, r.n_after) {
                (0, 0) => "in either period",
                (0, _) => "before",
                _ => "after",
            }
        ),
    }
}

fn before_after_slide(b: &BeforeAfter) -> Slide {
    let lead = b.rows.iter().find(|r| r.metric == "lead_time");
    let (big, big_caption) = match lead {
        Some(r) if r.before.is_some() || r.after.is_some() => (
            format!("{} → {}", value_text(r, r.before), value_text(r, r.after)),
            match b.change_date {
                Some(d) => format!("median lead time before and after {d}"),
                None => "median lead time, before vs after".to_string(),
            },
        ),
        _ => ("–".into(), "no lead times to compare".into()),
    };
    let mut bullets = vec![];
    if let (Some(d), Some(l)) = (&b.change_date, &b.label) {
        if before_after_title(b) != format!("What changed with {l}") {
            bullets.push(format!("The change on {d}: {l}."));
        }
    }
    bullets.extend(b.rows.iter().map(before_after_sentence));
    let notes: Vec<String> = b
        .warnings
        .iter()
        .map(|w| format!("Warning: {w}"))
        .chain(b.notes.iter().cloned())
        .collect();
    let table = BeforeAfterTable {
        before: format!("Before ({} – {})", b.before.from, b.before.to),
        after: format!("After ({} – {})", b.after.from, b.after.to),
        rows: b
            .rows
            .iter()
            .map(|r| BeforeAfterLine {
                metric: metric_words(r).name.to_string(),
                per: metric_words(r).per.to_string(),
                before: value_text(r, r.before),
                after: value_text(r, r.after),
                difference: r
                    .difference
                    .map(|d| diff_text(r, d))
                    .unwrap_or_else(|| "–".into()),
                interval: interval_text(r),
                p: p_text(r.p_value),
                n_before: r.n_before,
                n_after: r.n_after,
                clear: matches!(r.verdict, Verdict::Lower | Verdict::Higher),
            })
            .collect(),
    };
    Slide {
        id: "before-after".into(),
        title: before_after_title(b),
        big,
        big_caption,
        bullets,
        notes,
        chart: Some(Chart::BeforeAfter(table)),
    }
}

/// An estimate with its interval: "46.9 (21.6–102)".
fn estimate_text(v: Option<f64>, lo: Option<f64>, hi: Option<f64>) -> Option<String> {
    let v = v?;
    Some(match (lo, hi) {
        (Some(lo), Some(hi)) => format!("{} ({}–{})", trim(v), trim(lo), trim(hi)),
        _ => trim(v),
    })
}

fn policy_line(p: &WhatIfPolicy) -> String {
    let failures = match (
        estimate_text(
            p.predicted_failures,
            p.predicted_failures_lo,
            p.predicted_failures_hi,
        ),
        estimate_text(
            p.predicted_changes_in_failed,
            p.predicted_changes_in_failed_lo,
            p.predicted_changes_in_failed_hi,
        ),
    ) {
        (Some(f), Some(c)) => {
            format!("expected failed deployments {f}, changes stuck in them {c}")
        }
        (Some(f), None) => format!("expected failed deployments {f}"),
        _ => "no failure prediction (no risk model)".to_string(),
    };
    format!(
        "{}: median lead time {}, {} releases/month, median batch {} changes, {}",
        p.name,
        fmt_hours(p.lead_median_hours),
        trim(p.deployments_per_month),
        p.batch_median.map(trim).unwrap_or_else(|| "–".into()),
        failures
    )
}

/// The trade of releasing like `fast` instead of `slow`, in the words its
/// numbers support: more or fewer failed deployments, and more or fewer
/// changes stuck in them.
fn trade_off(slow: &WhatIfPolicy, fast: &WhatIfPolicy) -> Vec<String> {
    let (Some(fs), Some(ff), Some(cs), Some(cf)) = (
        slow.predicted_failures,
        fast.predicted_failures,
        slow.predicted_changes_in_failed,
        fast.predicted_changes_in_failed,
    ) else {
        return vec![];
    };
    let more_failures = ff > fs;
    let more_stuck = cf > cs;
    let who = if slow.name == "current" {
        format!("Releasing {} instead of today's cadence", fast.name)
    } else {
        format!("Releasing {} instead of {}", fast.name, slow.name)
    };
    let verdict = match (more_failures, more_stuck) {
        (true, false) => "more, smaller failures",
        (false, false) => "fewer and smaller failures: no trade-off in this model",
        (true, true) => "more failures and more changes caught in them",
        (false, true) => "fewer but larger failures",
    };
    let mut out = vec![format!(
        "{who}: median lead time {} → {}; over the replayed history, expected failed deployments {} → {} and changes stuck in them {} → {}: {verdict}.",
        fmt_hours(slow.lead_median_hours),
        fmt_hours(fast.lead_median_hours),
        trim(fs),
        trim(ff),
        trim(cs),
        trim(cf)
    )];
    let overlap = |a: (Option<f64>, Option<f64>), b: (Option<f64>, Option<f64>)| match (a, b) {
        ((Some(alo), Some(ahi)), (Some(blo), Some(bhi))) => alo <= bhi && blo <= ahi,
        _ => false,
    };
    if overlap(
        (slow.predicted_failures_lo, slow.predicted_failures_hi),
        (fast.predicted_failures_lo, fast.predicted_failures_hi),
    ) {
        out.push(format!(
            "The 95% intervals of expected failed deployments ({} and {}) overlap: the model cannot tell their counts apart.",
            slow.name, fast.name
        ));
    }
    out
}

fn whatif_slide(wi: &WhatIfLeadTime) -> Slide {
    let current = wi.policies.iter().find(|p| p.name == "current");
    let best = wi
        .policies
        .iter()
        .min_by(|a, b| a.lead_median_hours.total_cmp(&b.lead_median_hours));
    let slowest = wi
        .policies
        .iter()
        .max_by(|a, b| a.lead_median_hours.total_cmp(&b.lead_median_hours));
    let (big, caption) = match (current, best) {
        (Some(c), Some(b)) => (
            format!(
                "{} → {}",
                fmt_hours(c.lead_median_hours),
                fmt_hours(b.lead_median_hours)
            ),
            format!("median lead time, current vs {}", b.name),
        ),
        (_, Some(b)) => (
            fmt_hours(b.lead_median_hours),
            format!("median lead time, {}", b.name),
        ),
        _ => ("–".into(), String::new()),
    };
    // The trade against today's cadence (or, when today's is the fastest,
    // the slowest against today's).
    let pair = match (current, best, slowest) {
        (Some(c), Some(b), _) if !std::ptr::eq(c, b) => Some((c, b)),
        (Some(c), _, Some(s)) if !std::ptr::eq(c, s) => Some((s, c)),
        (None, Some(b), Some(s)) if !std::ptr::eq(b, s) => Some((s, b)),
        _ => None,
    };
    let mut bullets: Vec<String> = pair.map(|(s, f)| trade_off(s, f)).unwrap_or_default();
    if bullets.is_empty() {
        bullets.push("Not available: predicted failures (no risk model could be fitted).".into());
    }
    // Every policy's numbers are on the chart; the notes spell them out.
    let notes: Vec<String> = wi
        .warnings
        .iter()
        .map(|w| format!("Warning: {w}"))
        .chain(wi.policies.iter().map(policy_line))
        .chain(wi.assumptions.iter().map(|a| format!("Assumption: {a}")))
        .collect();
    Slide {
        id: "whatif".into(),
        title: "What smaller, more frequent releases would change".into(),
        big,
        big_caption: caption,
        bullets,
        notes,
        chart: Some(Chart::WhatIfLeadTime(wi.clone())),
    }
}

/// Writes `deck.html` and `slide-NN-<id>.png` for each slide into `dir`, atomically.
pub fn write_deck(deck: &Deck, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = vec![];
    let slides = deck.slides();
    let total = slides.len();
    for (i, s) in slides.iter().enumerate() {
        let p = dir.join(format!("slide-{:02}-{}.png", i + 1, s.id));
        let footer = format!(
            "{} · {} · {}/{}",
            deck.scope,
            deck.generated_at,
            i + 1,
            total
        );
        png_with(&s.id, &p, SLIDE_SIZE, |a| draw_slide(s, &footer, a))?;
        files.push(p);
    }
    let p = dir.join("deck.html");
    write_text(&p, &deck.to_html()?)?;
    files.push(p);
    // The numbers behind every slide, for checks and notebooks.
    let p = dir.join("deck.json");
    write_text(&p, &serde_json::to_string_pretty(deck)?)?;
    files.push(p);
    Ok(files)
}

/// Breaks `text` into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![];
    let mut cur = String::new();
    // A number keeps its unit on its line: "2.3 w." never breaks before "w.".
    let mut words: Vec<String> = vec![];
    for word in text.split_whitespace() {
        let unit = matches!(
            word.trim_end_matches(['.', ',', ';', ':', ')']),
            "min" | "h" | "d" | "w"
        );
        match words.last_mut() {
            Some(prev) if unit && prev.ends_with(|c: char| c.is_ascii_digit()) => {
                prev.push(' ');
                prev.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
    }
    for word in &words {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Draws one slide on a 1920×1080 area.
pub(crate) fn draw_slide<DB: DrawingBackend>(
    s: &Slide,
    footer: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    crate::style::register_fonts();
    area.fill(&WHITE)?;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let title = (FONT, 60.0, FontStyle::Bold).into_font().color(&BLACK);
    area.draw(&Text::new(s.title.clone(), (80, 60), title))?;
    area.draw(&Rectangle::new([(80, 150), (280, 158)], oi::BLUE.filled()))?;
    let footer_style = (FONT, 24.0).into_font().color(&GREY);
    area.draw(&Text::new(footer.to_string(), (80, h - 50), footer_style))?;

    let text_w = if s.chart.is_some() { 620 } else { w - 160 };
    let chars = (text_w as f64 / 17.0) as usize;
    let mut y = 210;
    // The big number fits its column on one line: the font shrinks with length.
    let len = s.big.chars().count().max(1) as f64;
    // DejaVu Sans Bold averages about 0.8 em per character.
    let size = (text_w as f64 / (0.8 * len)).clamp(48.0, 130.0);
    let big = (FONT, size, FontStyle::Bold).into_font().color(&oi::BLUE);
    for line in wrap(&s.big, ((text_w as f64 / (0.8 * size)) as usize).max(4)) {
        area.draw(&Text::new(line, (80, y), big.clone()))?;
        y += (size * 1.1) as i32;
    }
    let cap = (FONT, 34.0).into_font().color(&BLACK);
    for line in wrap(&s.big_caption, (text_w as f64 / 20.0) as usize) {
        area.draw(&Text::new(line, (80, y), cap.clone()))?;
        y += 44;
    }
    y += 30;
    let bullet = (FONT, 27.0).into_font().color(&BLACK);
    let na = (FONT, 27.0, FontStyle::Italic).into_font().color(&GREY);
    for b in &s.bullets {
        let style = if b.starts_with("Not available") {
            &na
        } else {
            &bullet
        };
        for (k, line) in wrap(b, chars).into_iter().enumerate() {
            if y > h - 110 {
                break;
            }
            let text = if k == 0 {
                format!("• {line}")
            } else {
                format!("  {line}")
            };
            area.draw(&Text::new(text, (80, y), style.clone()))?;
            y += 36;
        }
        y += 10;
    }
    let small = (FONT, 20.0).into_font().color(&GREY);
    for line in fit_notes(&s.notes, (text_w as f64 / 11.5) as usize, h - 100 - y) {
        if line.is_empty() {
            y += 6;
            continue;
        }
        area.draw(&Text::new(line, (80, y), small.clone()))?;
        y += 26;
    }
    if let Some(c) = &s.chart {
        let chart_area = area.margin(190, 90, 80 + text_w + 40, 60);
        c.draw(&chart_area)?;
    }
    Ok(())
}

/// The lines of the notes that fit in `room` pixels (26 a line, 6 between
/// notes) of `width` characters: a note is shown whole or not at all, an
/// empty line separates notes, and when some are left out the last line says
/// how many (deck.html lists them all). Code marks are for deck.html; a
/// picture shows the plain words.
pub(crate) fn fit_notes(notes: &[String], width: usize, room: i32) -> Vec<String> {
    let mut out = vec![];
    let mut used = 0i32;
    for (i, n) in notes.iter().enumerate() {
        let lines = wrap(&n.replace('`', ""), width);
        // Keep a line for the "more" line unless this is the last note.
        let reserve = if i + 1 < notes.len() { 26 } else { 0 };
        if used + 26 * lines.len() as i32 + reserve > room {
            let rest = notes.len() - i;
            out.push(format!(
                "{rest} more note{} in deck.html",
                if rest == 1 { "" } else { "s" }
            ));
            break;
        }
        used += 26 * lines.len() as i32 + 6;
        out.extend(lines);
        out.push(String::new());
    }
    out
}

const DECK_CSS: &str = "
*{box-sizing:border-box}
html,body{margin:0;background:#222;font-family:'DejaVu Sans',system-ui,sans-serif;color:#1a1a1a}
.slide{width:100vw;height:100vh;background:#fff;display:flex;flex-direction:column;padding:3vh 4vw 2vh;border-bottom:4px solid #222;overflow:hidden}
.js .slide{display:none}
.js .slide.active{display:flex}
.slide h1{font-size:4.2vh;margin:0 0 2vh;padding-bottom:1vh;border-bottom:.6vh solid #0072b2;display:inline-block}
.body{display:flex;gap:3vw;flex:1;min-height:0}
.text{flex:0 0 32%;overflow-y:auto}
.chart{flex:1;min-width:0;display:flex;align-items:flex-start}
.chart svg{width:100%;height:auto;max-height:72vh}
.big{font-size:9vh;font-weight:bold;color:#0072b2;margin:0;line-height:1.1;white-space:nowrap}
.big.long{font-size:5.5vh}
.notes{font-size:1.4vh;color:#595959;margin-top:1.5vh}
.caption{font-size:2.6vh;margin:.5vh 0 2vh}
ul{font-size:1.9vh;padding-left:1.2em;margin:0}
li{margin:.6vh 0}
.na{color:#595959;font-style:italic}
footer{font-size:1.6vh;color:#595959}
@page{size:1920px 1080px;margin:0}
@media print{
 html,body{background:#fff}
 .slide,.js .slide{display:flex !important;width:1920px;height:1080px;page-break-after:always;break-after:page;border:0}
}
";

const DECK_JS: &str = "(function(){
var s=document.querySelectorAll('.slide'),i=0;
document.body.classList.add('js');
function show(n){i=Math.max(0,Math.min(s.length-1,n));for(var k=0;k<s.length;k++){s[k].classList.toggle('active',k===i);}try{history.replaceState(null,'','#'+(i+1));}catch(x){}}
document.addEventListener('keydown',function(e){
if(e.key==='ArrowRight'||e.key==='PageDown'||e.key===' '){show(i+1);e.preventDefault();}
else if(e.key==='ArrowLeft'||e.key==='PageUp'){show(i-1);e.preventDefault();}
else if(e.key==='Home'){show(0);}else if(e.key==='End'){show(s.length-1);}});
show((parseInt(location.hash.slice(1),10)||1)-1);
})();
";

#[cfg(test)]
mod wrap_tests {
    use super::{fit_notes, wrap};

    #[test]
    fn notes_are_drawn_whole_or_counted() {
        let notes: Vec<String> = ["one two", "`three` four five six", "seven"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // All fit: 4 lines (26 px each) and 6 px after each note.
        assert_eq!(
            fit_notes(&notes, 9, 1000),
            ["one two", "", "three", "four five", "six", "", "seven", ""]
        );
        // Room for the first note and the "more" line only: the second note
        // (3 lines) is not cut, it is counted with the third.
        assert_eq!(
            fit_notes(&notes, 9, 26 + 6 + 26 + 26),
            ["one two", "", "2 more notes in deck.html"]
        );
        // The last note needs no room for a "more" line.
        assert_eq!(fit_notes(&notes[2..], 9, 26), ["seven", ""]);
        assert_eq!(fit_notes(&notes[1..], 9, 26), ["2 more notes in deck.html"]);
    }

    #[test]
    fn numbers_keep_their_units_on_one_line() {
        assert_eq!(
            wrap("1 change in 10 waits longer than 2.3 w.", 34),
            ["1 change in 10 waits longer than", "2.3 w."]
        );
        // A word that only looks like a unit stays free: "d" after a word.
        assert_eq!(wrap("grade d is low", 7), ["grade d", "is low"]);
    }
}

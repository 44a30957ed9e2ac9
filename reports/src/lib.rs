//! flowmeter's reports: charts drawn with plotters (PNG and SVG, with an
//! embedded DejaVu Sans font so no system fonts are needed), the monthly report
//! (self-contained HTML, Markdown with PNGs, JSON) and the leadership deck.
//!
//! This crate draws and formats; it never computes a metric. Every chart and
//! report takes a plain serde-serialisable input struct whose numbers were
//! computed elsewhere, and one Okabe–Ito palette is used throughout.
//!
//! ```
//! use flowmeter_reports::{to_svg, Chart, DeploysPerWeek, WeekCount};
//! use chrono::NaiveDate;
//!
//! let chart = Chart::DeploysPerWeek(DeploysPerWeek {
//!     weeks: vec![WeekCount { week_start: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(), deployments: 3 }],
//!     trend: vec![],
//!     trend_label: String::new(),
//! });
//! let svg = to_svg(&chart, (800, 450))?;
//! assert!(svg.contains("Production deployments per week (n=3)"));
//! assert_eq!(flowmeter_reports::escape_html("<b>&</b>"), "&lt;b&gt;&amp;&lt;/b&gt;");
//! # Ok::<(), flowmeter_reports::Error>(())
//! ```

mod charts;
mod deck;
mod error;
mod monthly;
mod render;
mod safety;
mod style;
#[cfg(test)]
mod tests;
mod words;

pub use charts::{
    BatchBucket, BatchPoint, BatchSizes, BeforeAfterLine, BeforeAfterTable, ChangeFailRate, Chart,
    DeploysPerWeek, Drift, DriftPoint, DriftSeries, FailMonth, FailureByBatch, HistogramBin,
    LeadTimeHistogram, LeadTimeMonth, LeadTimeMonthly, QuickCheckCard, QuickCheckRow,
    RecoveryPoint, RecoveryTimes, ReferenceLine, ScoreRow, Scorecard, StagePeriod, StageTimes,
    TierBand, WeekCount, WhatIfLeadTime, WhatIfPolicy,
};
pub use deck::{
    write_deck, BatchRisk, BeforeAfter, BeforeAfterRow, Deck, DeckNumbers, PeriodSpan, RiskFit,
    Slide, TrainWait, Verdict, Waiting, SLIDE_SIZE,
};
pub use error::{Error, Result};
pub use monthly::{
    write_monthly, Better, Definition, DeploymentRow, Figure, Finding, Headline, HeadlineScore,
    MonthlyReport, Sentence, Unit, Written,
};
pub use render::{to_rgb, to_svg, write_png, PNG_SIZE, SVG_SIZE};
pub use safety::{safety_report, SafetyReport, SafetyTable, SafetyTableRow};
pub use style::{fmt_hours, fmt_pct, okabe_ito, register_fonts, tier_color, Tier};
pub use words::{deck_report, monthly_report};

/// Escapes text for HTML element content and attribute values. Everything that
/// comes from a repository (messages, titles, names) goes through this.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for Markdown: HTML is neutralised as entities (Markdown
/// renderers pass raw HTML through), Markdown punctuation is backslash-escaped,
/// and line breaks become spaces so a value cannot break a table row.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '!' | '~' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

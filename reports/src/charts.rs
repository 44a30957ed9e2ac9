//! The charts: one plain, serialisable input struct per chart, and the code
//! that draws it on any plotters backend. Nothing here computes a metric; every
//! number drawn arrives in the input.

use chrono::{DateTime, NaiveDate, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

use crate::style::{
    fmt_hours_tick, fmt_pct, nice_ceiling, okabe_ito as oi, series_color, tier_color, Tier,
    TimeUnit, FONT, GREY,
};
pub use flowmeter_analysis::digest::{
    BatchBucket, BatchPoint, DriftPoint, DriftSeries, FailMonth, HistogramBin, LeadTimeHistogram,
    LeadTimeMonth, RecoveryPoint, StagePeriod, WeekCount, WhatIfLeadTime, WhatIfPolicy,
};
pub use flowmeter_analysis::TierBand;

/// Axes reach this far above the data so the legend (top corner) never
/// covers a point.
const LEGEND_HEADROOM: f64 = 1.35;

pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Weekly production deployment counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploysPerWeek {
    pub weeks: Vec<WeekCount>,
    /// One value per week (for example a trailing mean); empty for no trend line.
    pub trend: Vec<f64>,
    /// What the trend line is, e.g. "4-week trailing mean".
    pub trend_label: String,
}

/// Lead-time distribution per month, in hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadTimeMonthly {
    pub months: Vec<LeadTimeMonth>,
}

/// Batch size of each production deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSizes {
    /// What is counted, e.g. "commits".
    pub unit: String,
    pub points: Vec<BatchPoint>,
}

/// Change fail rate per month, over the DORA tier bands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeFailRate {
    pub months: Vec<FailMonth>,
    /// The tier bands to shade, as fractions (0.05 = 5%).
    pub tiers: Vec<TierBand>,
    /// Which DORA report year the bands come from.
    pub tier_year: Option<u16>,
}

/// Recovery time of each failed deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryTimes {
    pub points: Vec<RecoveryPoint>,
    /// Horizontal reference lines, e.g. the tier thresholds.
    pub reference_lines: Vec<ReferenceLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceLine {
    pub label: String,
    pub hours: f64,
}

/// Failure rate per batch-size bucket, with 95% intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureByBatch {
    /// The bucketing dimension, e.g. "commits per deployment".
    pub dimension: String,
    /// How the intervals were computed, e.g. "95% Wilson interval".
    pub interval: String,
    pub buckets: Vec<BatchBucket>,
    /// The failure rate over all deployments, drawn as a reference line.
    pub overall_rate: Option<f64>,
}

/// Time a change spends in each environment stage, per period, in hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTimes {
    /// Stage names in promotion order, e.g. "develop → test".
    pub stages: Vec<String>,
    /// The statistic stacked, e.g. "median".
    pub statistic: String,
    pub periods: Vec<StagePeriod>,
}

/// Drift between adjacent environments over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub pairs: Vec<DriftSeries>,
}

/// Where each metric sits against the DORA tiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub tier_year: Option<u16>,
    pub rows: Vec<ScoreRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    pub metric: String,
    /// The value as printed, e.g. "3.2 per week".
    pub value: String,
    pub tier: Option<Tier>,
    /// The threshold of each tier as printed, Elite first (four entries).
    pub thresholds: Vec<String>,
}

/// Each metric's DORA 2025 Quick Check score (0–10, 10 best) beside the
/// population's mean ± 1 sd; 2025 has no tiers, so no tier is named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuickCheckCard {
    pub year: u16,
    /// The population compared with, e.g. "All industries".
    pub population: String,
    pub rows: Vec<QuickCheckRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuickCheckRow {
    pub metric: String,
    /// The measured value as printed, e.g. "18 h".
    pub value: String,
    /// The survey answer it maps to, e.g. "Less than one day".
    pub answer: String,
    /// `None`: no value this period, so no score.
    pub score: Option<f64>,
    pub mean: f64,
    pub sd: f64,
}

/// The before/after table: one row per metric, every cell as printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeforeAfterTable {
    /// The column heads of the two periods, e.g. "Before (2025-01-02 – 2025-06-30)".
    pub before: String,
    pub after: String,
    pub rows: Vec<BeforeAfterLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeforeAfterLine {
    /// e.g. "Median lead time".
    pub metric: String,
    /// What `n` counts, e.g. "changes".
    pub per: String,
    pub before: String,
    pub after: String,
    /// The difference after − before, e.g. "−25 d".
    pub difference: String,
    /// Its 95% interval, e.g. "−25.2 d to −24.9 d".
    pub interval: String,
    /// The rank test, e.g. "p < 0.001".
    pub p: String,
    pub n_before: u64,
    pub n_after: u64,
    /// Whether the interval excludes zero (the difference is drawn bold).
    pub clear: bool,
}

/// Any chart flowmeter draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Chart {
    DeploysPerWeek(DeploysPerWeek),
    LeadTimeMonthly(LeadTimeMonthly),
    LeadTimeHistogram(LeadTimeHistogram),
    BatchSizes(BatchSizes),
    ChangeFailRate(ChangeFailRate),
    RecoveryTimes(RecoveryTimes),
    FailureByBatch(FailureByBatch),
    StageTimes(StageTimes),
    Drift(Drift),
    Scorecard(Scorecard),
    QuickCheck(QuickCheckCard),
    WhatIfLeadTime(WhatIfLeadTime),
    SafetyNet(crate::safety::SafetyTable),
    BeforeAfter(BeforeAfterTable),
}

impl Chart {
    /// A stable file-name stem, e.g. `deploys-per-week`.
    pub fn slug(&self) -> &'static str {
        match self {
            Chart::DeploysPerWeek(_) => "deploys-per-week",
            Chart::LeadTimeMonthly(_) => "lead-time-monthly",
            Chart::LeadTimeHistogram(_) => "lead-time-histogram",
            Chart::BatchSizes(_) => "batch-sizes",
            Chart::ChangeFailRate(_) => "change-fail-rate",
            Chart::RecoveryTimes(_) => "recovery-times",
            Chart::FailureByBatch(_) => "failure-by-batch",
            Chart::StageTimes(_) => "stage-times",
            Chart::Drift(_) => "drift",
            Chart::Scorecard(_) => "scorecard",
            Chart::QuickCheck(_) => "quick-check",
            Chart::WhatIfLeadTime(_) => "whatif-lead-time",
            Chart::BeforeAfter(_) => "before-after",
            Chart::SafetyNet(_) => "safety-net",
        }
    }

    /// The chart's title, with its sample size.
    pub fn title(&self) -> String {
        match self {
            Chart::DeploysPerWeek(c) => format!(
                "Production deployments per week (n={})",
                c.weeks.iter().map(|w| w.deployments).sum::<u64>()
            ),
            Chart::LeadTimeMonthly(c) => format!(
                "Change lead time per month (n={} changes)",
                c.months.iter().map(|m| m.changes).sum::<u64>()
            ),
            Chart::LeadTimeHistogram(c) => format!(
                "Distribution of change lead time (n={} changes)",
                c.bins.iter().map(|b| b.count).sum::<u64>()
            ),
            Chart::BatchSizes(c) => format!(
                "Batch size per production deployment (n={} deployments)",
                c.points.len()
            ),
            Chart::ChangeFailRate(c) => format!(
                "Change fail rate per month (n={} deployments)",
                c.months.iter().map(|m| m.deployments).sum::<u64>()
            ),
            Chart::RecoveryTimes(c) => format!(
                "Recovery time of failed deployments (n={} failures)",
                c.points.len()
            ),
            Chart::FailureByBatch(c) => format!(
                "Failure rate by batch size (n={} deployments)",
                c.buckets.iter().map(|b| b.deployments).sum::<u64>()
            ),
            Chart::StageTimes(c) => format!("Time a change spends in each stage ({})", c.statistic),
            Chart::Drift(_) => "Drift between environments".to_string(),
            Chart::Scorecard(c) => match c.tier_year {
                Some(y) => format!("DORA performance tiers ({y} benchmarks)"),
                None => "DORA performance tiers".to_string(),
            },
            Chart::QuickCheck(c) => format!(
                "DORA {} Quick Check scores vs {} (mean ± sd)",
                c.year, c.population
            ),
            Chart::SafetyNet(t) => crate::safety::title(t),
            Chart::WhatIfLeadTime(c) => {
                if c.policies.iter().any(|p| p.predicted_failures.is_some()) {
                    "Release cadences: lead time against failures".to_string()
                } else {
                    "Lead time under other release cadences".to_string()
                }
            }
            Chart::BeforeAfter(c) => format!(
                "Before and after (n={} / {} deployments)",
                c.rows
                    .iter()
                    .find(|r| r.per == "deployments")
                    .map_or(0, |r| r.n_before),
                c.rows
                    .iter()
                    .find(|r| r.per == "deployments")
                    .map_or(0, |r| r.n_after)
            ),
        }
    }

    /// Draws the chart on `area`.
    pub(crate) fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        crate::style::register_fonts();
        area.fill(&WHITE)?;
        let title = self.title();
        match self {
            Chart::DeploysPerWeek(c) => deploys_per_week(c, &title, area),
            Chart::LeadTimeMonthly(c) => lead_time_monthly(c, &title, area),
            Chart::LeadTimeHistogram(c) => lead_time_histogram(c, &title, area),
            Chart::BatchSizes(c) => batch_sizes(c, &title, area),
            Chart::ChangeFailRate(c) => change_fail_rate(c, &title, area),
            Chart::RecoveryTimes(c) => recovery_times(c, &title, area),
            Chart::FailureByBatch(c) => failure_by_batch(c, &title, area),
            Chart::StageTimes(c) => stage_times(c, &title, area),
            Chart::Drift(c) => drift(c, &title, area),
            Chart::Scorecard(c) => scorecard(c, &title, area),
            Chart::QuickCheck(c) => quick_check(c, &title, area),
            Chart::WhatIfLeadTime(c) => whatif_lead_time(c, &title, area),
            Chart::SafetyNet(t) => crate::safety::draw(t, &title, area),
            Chart::BeforeAfter(c) => before_after(c, &title, area),
        }
    }
}

/// Font sizes and margins scaled to the drawing area (designed at 1600×900).
#[derive(Clone, Copy)]
pub(crate) struct Sizes {
    pub s: f64,
}

impl Sizes {
    pub fn of<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Sizes {
        let (w, h) = area.dim_in_pixel();
        Sizes {
            s: (h as f64 / 900.0).min(w as f64 / 1200.0).max(0.3),
        }
    }
    fn px(self, x: f64) -> u32 {
        (x * self.s).round().max(1.0) as u32
    }
    pub fn title(self) -> TextStyle<'static> {
        (FONT, 40.0 * self.s, FontStyle::Bold)
            .into_font()
            .color(&BLACK)
    }
    pub fn label(self) -> TextStyle<'static> {
        (FONT, 28.0 * self.s).into_font().color(&BLACK)
    }
    pub fn label_bold(self) -> TextStyle<'static> {
        (FONT, 28.0 * self.s, FontStyle::Bold)
            .into_font()
            .color(&BLACK)
    }
    pub fn tick(self) -> TextStyle<'static> {
        (FONT, 23.0 * self.s).into_font().color(&BLACK)
    }
    pub fn note(self) -> TextStyle<'static> {
        (FONT, 21.0 * self.s).into_font().color(&GREY)
    }
}

fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str, what: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let sz = Sizes::of(area);
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        title.to_string(),
        (sz.px(40.0) as i32, sz.px(30.0) as i32),
        sz.title(),
    ))?;
    area.draw(&Text::new(
        format!("No data: {what}"),
        (w as i32 / 2, h as i32 / 2),
        sz.label().pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// A label for the integer position nearest `x`, or nothing between positions.
fn index_label(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// Consecutive present values as separate runs of `(index, value)`, so a line
/// breaks at a period without data instead of bridging it.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![];
    let mut cur = vec![];
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => cur.push((i as f64, *v)),
            None if !cur.is_empty() => out.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Integer tick labels only (counts).
fn count_label(y: f64) -> String {
    if (y - y.round()).abs() < 1e-6 {
        format!("{}", y.round() as i64)
    } else {
        String::new()
    }
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    sz: Sizes,
    pos: SeriesLabelPosition,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(pos)
        .margin(sz.px(16.0))
        .legend_area_size(sz.px(40.0))
        .label_font(sz.tick())
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .draw()?;
    Ok(())
}

fn days(t: DateTime<Utc>) -> f64 {
    t.timestamp() as f64 / 86_400.0
}

fn date_of_days(d: f64) -> String {
    DateTime::<Utc>::from_timestamp((d * 86_400.0) as i64, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// How many tick labels fit: `n` positions, at most `max`, spaced evenly.
fn label_count(n: usize, max: usize) -> usize {
    n.clamp(1, max)
}

fn deploys_per_week<DB: DrawingBackend>(
    c: &DeploysPerWeek,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.weeks.is_empty() {
        return no_data(area, title, "no production deployments in the period");
    }
    let sz = Sizes::of(area);
    let n = c.weeks.len();
    let labels: Vec<String> = c
        .weeks
        .iter()
        .map(|w| w.week_start.format("%Y-%m-%d").to_string())
        .collect();
    let max = c
        .weeks
        .iter()
        .map(|w| w.deployments as f64)
        .chain(c.trend.iter().copied())
        .fold(0.0, f64::max);
    let ymax = nice_ceiling((max * LEGEND_HEADROOM).max(1.0));
    let mut chart = ChartBuilder::on(area)
        .caption(title, sz.title())
        .margin(sz.px(24.0))
        .x_label_area_size(sz.px(80.0))
        .y_label_area_size(sz.px(100.0))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(label_count(n, 8))
        .x_label_formatter(&|x| index_label(&labels, *x))
        .y_label_formatter(&|y| count_label(*y))
        .x_desc("week starting (Monday, UTC)")
        .y_desc("deployments per week")
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .draw()?;
    let bar = oi::SKY_BLUE;
    chart
        .draw_series(c.weeks.iter().enumerate().map(|(i, w)| {
            let x = i as f64;
            Rectangle::new(
                [(x - 0.4, 0.0), (x + 0.4, w.deployments as f64)],
                bar.filled(),
            )
        }))?
        .label("deployments")
        .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], bar.filled()));
    if !c.trend.is_empty() {
        let line = oi::VERMILLION;
        let width = sz.px(4.0);
        chart
            .draw_series(LineSeries::new(
                c.trend.iter().enumerate().map(|(i, v)| (i as f64, *v)),
                line.stroke_width(width),
            ))?
            .label(c.trend_label.clone())
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 24, y)], line.stroke_width(width))
            });
    }
    legend(&mut chart, sz, SeriesLabelPosition::UpperLeft)
}

fn lead_time_monthly<DB: DrawingBackend>(
    c: &LeadTimeMonthly,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.months.iter().all(|m| m.median_hours.is_none()) {
        return no_data(area, title, "no change reached production in the period");
    }
    let sz = Sizes::of(area);
    let n = c.months.len();
    let labels: Vec<String> = c
        .months
        .iter()
        .map(|m| format!("{} (n={})", m.month, m.changes))
        .collect();
    let max = c
        .months
        .iter()
        .flat_map(|m| [m.p75_hours, m.p90_hours, m.median_hours])
        .flatten()
        .fold(0.0, f64::max);
    let unit = TimeUnit::for_max_hours(max);
    let ymax = nice_ceiling((max / unit.divisor * LEGEND_HEADROOM).max(0.1));
    let mut chart = ChartBuilder::on(area)
        .caption(title, sz.title())
        .margin(sz.px(24.0))
        .x_label_area_size(sz.px(80.0))
        .y_label_area_size(sz.px(110.0))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(label_count(n, 6))
        .x_label_formatter(&|x| index_label(&labels, *x))
        .x_desc("month (UTC) and changes deployed")
        .y_label_formatter(&|y| crate::style::trim(*y))
        .y_desc(format!("lead time ({})", unit.name))
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .draw()?;
    // The band: p25–p75 over the months that have both.
    let band: Vec<(f64, f64, f64)> = c
        .months
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((i as f64, m.p25_hours?, m.p75_hours?)))
        .collect();
    if !band.is_empty() {
        let mut poly: Vec<(f64, f64)> = band
            .iter()
            .map(|(x, lo, _)| (*x, lo / unit.divisor))
            .collect();
        poly.extend(band.iter().rev().map(|(x, _, hi)| (*x, hi / unit.divisor)));
        let fill = oi::SKY_BLUE.mix(0.35);
        if band.len() == 1 {
            let (x, lo, hi) = band[0];
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.2, lo / unit.divisor), (x + 0.2, hi / unit.divisor)],
                fill.filled(),
            )))?
        } else {
            chart.draw_series(std::iter::once(Polygon::new(poly, fill.filled())))?
        }
        .label("middle 50% of changes (p25–p75)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], fill.filled()));
    }
    let width = sz.px(4.0);
    let r = sz.px(7.0);
    for (name, color, pick) in [
        (
            "p90",
            oi::VERMILLION,
            (|m: &LeadTimeMonth| m.p90_hours) as fn(&LeadTimeMonth) -> Option<f64>,
        ),
        ("median", oi::BLUE, |m: &LeadTimeMonth| m.median_hours),
    ] {
        let vals: Vec<Option<f64>> = c
            .months
            .iter()
            .map(|m| pick(m).map(|v| v / unit.divisor))
            .collect();
        let pts: Vec<(f64, f64)> = runs(&vals).into_iter().flatten().collect();
        for (k, run) in runs(&vals).into_iter().enumerate() {
            let s = chart.draw_series(LineSeries::new(run, color.stroke_width(width)))?;
            if k == 0 {
                s.label(name).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 24, y)], color.stroke_width(width))
                });
            }
        }
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, r, color.filled())))?;
    }
    legend(&mut chart, sz, SeriesLabelPosition::UpperLeft)
}

fn lead_time_histogram<DB: DrawingBackend>(
    c: &LeadTimeHistogram,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // Bins are log-spaced (each one doubles), so equal-width bars on an index
    // axis are a log scale; the ticks name the bin edges.
    let bins: Vec<&HistogramBin> = c
        .bins
        .iter()
        .filter(|b| b.lo_hours > 0.0 && b.hi_hours > b.lo_hours)
        .collect();
    if bins.is_empty() {
        return no_data(area, title, "no lead times");
    }
    let sz = Sizes::of(area);
    let n = bins.len();
    let mut edges: Vec<f64> = bins.iter().map(|b| b.lo_hours).collect();
    edges.push(bins[n - 1].hi_hours);
    let edge_labels: Vec<String> = edges.iter().map(|e| fmt_hours_tick(*e)).collect();
    let max = bins.iter().map(|b| b.count).max().unwrap_or(0) as f64;
    let ymax = nice_ceiling((max * LEGEND_HEADROOM).max(1.0));
    let mut chart = ChartBuilder::on(area)
        .caption(title, sz.title())
        .margin(sz.px(24.0))
        .x_label_area_size(sz.px(80.0))
        .y_label_area_size(sz.px(100.0))
        .build_cartesian_2d(0f64..n as f64, 0f64..ymax)?;
    let xdesc = if c.excluded_negative > 0 {
        format!(
            "lead time, log scale ({} negative span(s) excluded as clock skew)",
            c.excluded_negative
        )
    } else {
        "lead time (log scale: each bin is twice as wide as the one before)".to_string()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(label_count(n + 1, 14))
        .x_label_formatter(&|x| index_label(&edge_labels, *x))
        .y_label_formatter(&|y| count_label(*y))
        .x_desc(xdesc)
        .y_desc("changes")
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .draw()?;
    let fill = oi::SKY_BLUE;
    chart
        .draw_series(bins.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new([(x + 0.03, 0.0), (x + 0.97, b.count as f64)], fill.filled())
        }))?
        .label("changes per bin")
        .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], fill.filled()));
    if let Some(m) = c.median_hours.filter(|m| *m > 0.0) {
        // Position within its bin on the log scale.
        let x = bins
            .iter()
            .position(|b| m >= b.lo_hours && m < b.hi_hours)
            .map(|i| {
                i as f64 + (m / bins[i].lo_hours).ln() / (bins[i].hi_hours / bins[i].lo_hours).ln()
            })
            .unwrap_or(if m < edges[0] { 0.0 } else { n as f64 });
        let color = oi::VERMILLION;
        let width = sz.px(4.0);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, ymax)],
                color.stroke_width(width),
            )))?
            .label(format!("median {}", crate::style::fmt_hours(m)))
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 24, y)], color.stroke_width(width))
            });
    }
    legend(&mut chart, sz, SeriesLabelPosition::UpperRight)
}

fn batch_sizes<DB: DrawingBackend>(
    c: &BatchSizes,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.points.is_empty() {
        return no_data(area, title, "no production deployments");
    }
    let sz = Sizes::of(area);
    let x0 = c
        .points
        .iter()
        .map(|p| days(p.deployed_at))
        .fold(f64::INFINITY, f64::min);
    let x1 = c
        .points
        .iter()
        .map(|p| days(p.deployed_at))
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = ((x1 - x0) * 0.03).max(1.0);
    let max = c.points.iter().map(|p| p.size).max().unwrap_or(0) as f64;
    let ymax = nice_ceiling((max * LEGEND_HEADROOM).max(1.0));
    let mut chart = ChartBuilder::on(area)
        .caption(title, sz.title())
        .margin(sz.px(24.0))
        .x_label_area_size(sz.px(80.0))
        .y_label_area_size(sz.px(100.0))
        .margin_right(sz.px(80.0))
        .build_cartesian_2d((x0 - pad)..(x1 + pad), 0f64..ymax)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .x_label_formatter(&|x| date_of_days(*x))
        .y_label_formatter(&|y| count_label(*y))
        .x_desc("deployed at (UTC)")
        .y_desc(format!("{} per deployment", c.unit))
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .draw()?;
    let r = sz.px(8.0) as i32;
    let ok_n = c.points.iter().filter(|p| !p.failed).count();
    let ok = oi::BLUE;
    chart
        .draw_series(
            c.points
                .iter()
                .filter(|p| !p.failed)
                .map(|p| Circle::new((days(p.deployed_at), p.size as f64), r, ok.filled())),
        )?
        .label(format!("succeeded (n={ok_n})"))
        .legend(move |(x, y)| Circle::new((x + 12, y), r, ok.filled()));
    let bad = oi::VERMILLION;
    let w = sz.px(4.0);
    chart
        .draw_series(c.points.iter().filter(|p| p.failed).map(|p| {
            Cross::new(
                (days(p.deployed_at), p.size as f64),
                r + 2,
                bad.stroke_width(w),
            )
        }))?
        .label(format!("failed (n={})", c.points.len() - ok_n))
        .legend(move |(x, y)| Cross::new((x + 12, y), r + 2, bad.stroke_width(w)));
    legend(&mut chart, sz, SeriesLabelPosition::UpperLeft)
}

fn change_fail_rate<DB: DrawingBackend>(
    c: &ChangeFailRate,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.months.iter().all(|m| m.rate.is_none()) {
        return no_data(area, title, "no production deployments");
    }
    let sz = Sizes::of(area);
    let n = c.months.len();
    let labels: Vec<String> = c
        .months
        .iter()
        .map(|m| format!("{} (n={})", m.month, m.deployments))
        .collect();
    let max = c.months.iter().filter_map(|m| m.rate).fold(0.0, f64::max);
    let ymax = nice_ceiling((max * LEGEND_HEADROOM).max(0.2)).min(1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(title, sz.title())
        .margin(sz.px(24.0))
        .x_label_area_size(sz.px(80.0))
        .y_label_area_size(sz.px(110.0))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..ymax)?;
    // Bands first, so the data sits on top.
    for band in &c.tiers {
        let (lo, hi) = (band.lo.max(0.0), band.hi.min(ymax));
        if lo >= hi {
            continue;
        }
        let color = tier_color(band.tier);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(-0.5, lo), (n as f64 - 0.5, hi)],
            color.mix(0.18).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!(
                "{} ({}–{})",
                band.tier.name(),
                fmt_pct(lo),
                fmt_pct(band.hi.min(1.0))
            ),
            (n as f64 - 0.5, hi),
            sz.note()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Top)),
        )))?;
    }
    let ydesc = match c.tier_year {
        Some(y) => format!("failed ÷ deployments (bands: DORA {y} tiers)"),
        None => "failed ÷ deployments".to_string(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(label_count(n, 6))
        .x_label_formatter(&|x| index_label(&labels, *x))
        .y_label_formatter(&|y| fmt_pct(*y))
        .x_desc("month (UTC) and production deployments")
        .y_desc(ydesc)
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .draw()?;
    let color = oi::BLUE;
    let width = sz.px(4.0);
    let vals: Vec<Option<f64>> = c.months.iter().map(|m| m.rate).collect();
    let pts: Vec<(f64, f64)> = runs(&vals).into_iter().flatten().collect();
    for (k, run) in runs(&vals).into_iter().enumerate() {
        let s = chart.draw_series(LineSeries::new(run, color.stroke_width(width)))?;
        if k == 0 {
            s.label("change fail rate").legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 24, y)], color.stroke_width(width))
            });
        }
    }
    let r = sz.px(8.0);
    chart.draw_series(pts.iter().map(|p| Circle::new(*p, r, color.filled())))?;
    legend(&mut chart, sz, SeriesLabelPosition::UpperLeft)
}

fn recovery_times<DB: DrawingBackend>(
    c: &RecoveryTimes,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.points.is_empty() {
        return no_data(area, title, "no failed deployments");
    }
    let sz = Sizes::of(area);
    let xs = c.points.iter().map(|p| days(p.deployed_at));
    let x0 = xs.clone().fold(f64::INFINITY, f64::min);
    let x1 = xs.fold(f64::NEG_INFINITY, f64::max);
    let pad = ((x1 - x0) * 0.03).max(1.0);
    let max = c
        .points
        .iter()
        .filter_map(|p| p.recovery_hours)
        .fold(0.0, f64::max);
    let unit = TimeUnit::for_max_hours(max);
    // Reference lines only widen the axis when they are near the data.
    let refmax = c
        .reference_lines
        .iter()
        .map(|r| r.hours)
        .filter(|h| *h <= max.max(1.0) * 2.0)
        .fold(0.0, f64::max);
    let ymax = nice_ceiling((max.max(refmax) / unit.divisor * LEGEND_HEADROOM).max(0.1));
    let open = c
        .points
        .iter()
        .filter(|p| p.recovery_hours.is_none())
        .count();
    let mut chart = ChartBuilder::on(area)
        .caption(title, sz.title())
        .margin(sz.px(24.0))
        .x_label_area_size(sz.px(80.0))
        .y_label_area_size(sz.px(110.0))
        .margin_right(sz.px(80.0))
        .build_cartesian_2d((x0 - pad)..(x1 + pad), 0f64..ymax)?;
    let xdesc = if open > 0 {
        format!("deployed at (UTC); {open} not yet recovered, not drawn")
    } else {
        "deployed at (UTC)".to_string()
    };
    chart
        .configure_mesh()
        .x_labels(6)
        .x_label_formatter(&|x| date_of_days(*x))
        .x_desc(xdesc)
        .y_label_formatter(&|y| crate::style::trim(*y))
        .y_desc(format!("time to recover ({})", unit.name))
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .draw()?;
    for (i, line) in c.reference_lines.iter().enumerate() {
        let y = line.hours / unit.divisor;
        if y > ymax {
            continue;
        }
        let color = series_color(i + 2);
        chart
            .draw_series(DashedLineSeries::new(
                [(x0 - pad, y), (x1 + pad, y)],
                sz.px(12.0),
                sz.px(8.0),
                color.stroke_width(sz.px(3.0)),
            ))?
            .label(line.label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], color.stroke_width(3)));
    }
    let color = oi::VERMILLION;
    let r = sz.px(9.0);
    chart
        .draw_series(c.points.iter().filter_map(|p| {
            Some(Circle::new(
                (days(p.deployed_at), p.recovery_hours? / unit.divisor),
                r,
                color.filled(),
            ))
        }))?
        .label("failed deployment")
        .legend(move |(x, y)| Circle::new((x + 12, y), r, color.filled()));
    legend(&mut chart, sz, SeriesLabelPosition::UpperLeft)
}

fn failure_by_batch<DB: DrawingBackend>(
    c: &FailureByBatch,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.buckets.is_empty() {
        return no_data(area, title, "no production deployments");
    }
    let sz = Sizes::of(area);
    let n = c.buckets.len();
    let labels: Vec<String> = c.buckets.iter().map(|b| b.label.clone()).collect();
    let max = c.buckets.iter().map(|b| b.hi).fold(0.0, f64::max);
    // Headroom above the whiskers for the labels; ticks stop at 100%.
    let ymax = if max * LEGEND_HEADROOM > 1.0 {
        LEGEND_HEADROOM
    } else {
        nice_ceiling((max * LEGEND_HEADROOM).max(0.1))
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, sz.title())
        .margin(sz.px(24.0))
        .x_label_area_size(sz.px(80.0))
        .y_label_area_size(sz.px(110.0))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| index_label(&labels, *x))
        .y_label_formatter(&|y| {
            if *y > 1.0 + 1e-9 {
                String::new()
            } else {
                fmt_pct(*y)
            }
        })
        .x_desc(c.dimension.clone())
        .y_desc(format!("failure rate, {}", c.interval))
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .draw()?;
    let fill = oi::SKY_BLUE;
    chart
        .draw_series(c.buckets.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new([(x - 0.35, 0.0), (x + 0.35, b.rate)], fill.filled())
        }))?
        .label("failure rate")
        .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], fill.filled()));
    let whisker = BLACK;
    let w = sz.px(3.0);
    chart
        .draw_series(c.buckets.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            PathElement::new(vec![(x, b.lo), (x, b.hi)], whisker.stroke_width(w))
        }))?
        .label(c.interval.clone())
        .legend(move |(x, y)| {
            PathElement::new(
                [(x + 12, y - 10), (x + 12, y + 10)],
                whisker.stroke_width(w),
            )
        });
    for (i, b) in c.buckets.iter().enumerate() {
        let x = i as f64;
        for y in [b.lo, b.hi] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x - 0.08, y), (x + 0.08, y)],
                whisker.stroke_width(w),
            )))?;
        }
    }
    chart.draw_series(c.buckets.iter().enumerate().map(|(i, b)| {
        Text::new(
            // The sample size sits on the bar; short when many bars share the width.
            if c.buckets.len() > 5 {
                format!("{}/{}", b.failed, b.deployments)
            } else {
                format!("{} of {} failed", b.failed, b.deployments)
            },
            (i as f64, b.hi),
            sz.tick().pos(Pos::new(HPos::Center, VPos::Bottom)),
        )
    }))?;
    if let Some(rate) = c.overall_rate {
        let color = oi::VERMILLION;
        chart
            .draw_series(DashedLineSeries::new(
                [(-0.5, rate), (n as f64 - 0.5, rate)],
                sz.px(12.0),
                sz.px(8.0),
                color.stroke_width(w),
            ))?
            .label(format!("all deployments: {}", fmt_pct(rate)))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], color.stroke_width(w)));
    }
    legend(&mut chart, sz, SeriesLabelPosition::UpperLeft)
}

fn stage_times<DB: DrawingBackend>(
    c: &StageTimes,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.periods.is_empty() || c.stages.is_empty() {
        return no_data(area, title, "no promotion data");
    }
    let sz = Sizes::of(area);
    let n = c.periods.len();
    let labels: Vec<String> = c
        .periods
        .iter()
        .map(|p| format!("{} (n={})", p.label, p.changes))
        .collect();
    // As many period labels as fit side by side (about 0.5 em per character),
    // counted back from the latest period so that it is always labelled.
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    let plot_w = area.dim_in_pixel().0 as f64 - 160.0 * sz.s;
    let fit = ((plot_w / ((longest * 0.5 * 23.0 + 30.0) * sz.s)) as usize).max(1);
    let step = n.div_ceil(fit).max(1);
    let shown: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if (n - 1 - i).is_multiple_of(step) {
                l.clone()
            } else {
                String::new()
            }
        })
        .collect();
    let max = c
        .periods
        .iter()
        .map(|p| p.hours.iter().filter(|h| h.is_finite()).sum::<f64>())
        .fold(0.0, f64::max);
    let unit = TimeUnit::for_max_hours(max);
    let ymax = nice_ceiling((max / unit.divisor * LEGEND_HEADROOM).max(0.1));
    let mut chart = ChartBuilder::on(area)
        .caption(title, sz.title())
        .margin(sz.px(24.0))
        .x_label_area_size(sz.px(80.0))
        .y_label_area_size(sz.px(110.0))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| index_label(&shown, *x))
        .x_desc("period and changes")
        .y_label_formatter(&|y| crate::style::trim(*y))
        .y_desc(format!(
            "{} time in stage ({}), stacked",
            c.statistic, unit.name
        ))
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .draw()?;
    for (s, stage) in c.stages.iter().enumerate() {
        let color = series_color(s);
        chart
            .draw_series(c.periods.iter().enumerate().map(|(i, p)| {
                let below: f64 = p.hours.iter().take(s).filter(|h| h.is_finite()).sum();
                let v = p
                    .hours
                    .get(s)
                    .copied()
                    .filter(|h| h.is_finite())
                    .unwrap_or(0.0);
                let x = i as f64;
                Rectangle::new(
                    [
                        (x - 0.35, below / unit.divisor),
                        (x + 0.35, (below + v) / unit.divisor),
                    ],
                    color.filled(),
                )
            }))?
            .label(stage.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], color.filled()));
    }
    legend(&mut chart, sz, SeriesLabelPosition::UpperLeft)
}

fn drift<DB: DrawingBackend>(c: &Drift, title: &str, area: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let all: Vec<&DriftPoint> = c.pairs.iter().flat_map(|p| &p.points).collect();
    if all.is_empty() {
        return no_data(area, title, "no drift series");
    }
    let sz = Sizes::of(area);
    let d = |p: &DriftPoint| {
        p.date
            .signed_duration_since(NaiveDate::default())
            .num_days() as f64
    };
    let x0 = all.iter().map(|p| d(p)).fold(f64::INFINITY, f64::min);
    let x1 = all.iter().map(|p| d(p)).fold(f64::NEG_INFINITY, f64::max);
    let max = all.iter().map(|p| p.changes).max().unwrap_or(0) as f64;
    let ymax = nice_ceiling((max * LEGEND_HEADROOM).max(1.0));
    let epoch = NaiveDate::default();
    let fmt = move |x: &f64| {
        (epoch + chrono::Days::new(x.round().max(0.0) as u64))
            .format("%Y-%m-%d")
            .to_string()
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, sz.title())
        .margin(sz.px(24.0))
        .x_label_area_size(sz.px(80.0))
        .y_label_area_size(sz.px(100.0))
        .margin_right(sz.px(80.0))
        .build_cartesian_2d(x0..(x1 + 1.0).max(x0 + 1.0), 0f64..ymax)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .x_label_formatter(&fmt)
        .y_label_formatter(&|y| count_label(*y))
        .x_desc("day (UTC)")
        .y_desc("changes in the earlier environment only")
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25))
        .draw()?;
    let width = sz.px(4.0);
    for (i, pair) in c.pairs.iter().enumerate() {
        let color = series_color(i);
        chart
            .draw_series(LineSeries::new(
                pair.points.iter().map(|p| (d(p), p.changes as f64)),
                color.stroke_width(width),
            ))?
            .label(format!("{} → {}", pair.from, pair.to))
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 24, y)], color.stroke_width(width))
            });
    }
    legend(&mut chart, sz, SeriesLabelPosition::UpperLeft)
}

fn scorecard<DB: DrawingBackend>(
    c: &Scorecard,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.rows.is_empty() {
        return no_data(area, title, "no metrics");
    }
    let sz = Sizes::of(area);
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let m = sz.px(40.0) as i32;
    area.draw(&Text::new(title.to_string(), (m, m / 2), sz.title()))?;
    let top = sz.px(110.0) as i32;
    let rows = c.rows.len() as i32 + 1;
    let row_h = ((h - top - m) / rows).min(sz.px(140.0) as i32);
    // Columns: metric 26%, value 22%, four tiers share the rest.
    let col_metric = m;
    let col_value = m + (w - 2 * m) * 26 / 100;
    let col_tiers = m + (w - 2 * m) * 48 / 100;
    let tier_w = (w - m - col_tiers) / 4;
    let header = sz.label_bold();
    let mid = |y: i32| y + row_h / 2;
    // Long names and values shrink to their column instead of overlapping, one
    // size per column so the rows stay alike.
    let gap = sz.px(16.0) as f64;
    let metric_px = c
        .rows
        .iter()
        .map(|r| {
            fit(
                28.0 * sz.s,
                (col_value - col_metric) as f64 - gap,
                &r.metric,
            )
        })
        .fold(f64::INFINITY, f64::min);
    // One size for every threshold cell, so the tiers read as one table.
    let pad_px = sz.px(6.0) as f64;
    let text_px = c
        .rows
        .iter()
        .flat_map(|r| r.thresholds.iter())
        .map(|t| fit(21.0 * sz.s, tier_w as f64 - 2.0 * pad_px - 4.0, t))
        .fold(21.0 * sz.s, f64::min);
    let value_px = c
        .rows
        .iter()
        .map(|r| fit(28.0 * sz.s, (col_tiers - col_value) as f64 - gap, &r.value))
        .fold(f64::INFINITY, f64::min);
    let left = Pos::new(HPos::Left, VPos::Center);
    let center = Pos::new(HPos::Center, VPos::Center);
    area.draw(&Text::new(
        "metric",
        (col_metric, mid(top)),
        header.pos(left),
    ))?;
    area.draw(&Text::new(
        "this period",
        (col_value, mid(top)),
        header.pos(left),
    ))?;
    for (i, t) in Tier::ALL.iter().enumerate() {
        let x = col_tiers + tier_w * i as i32 + tier_w / 2;
        area.draw(&Text::new(t.name(), (x, mid(top)), header.pos(center)))?;
    }
    for (r, row) in c.rows.iter().enumerate() {
        let y = top + row_h * (r as i32 + 1);
        area.draw(&PathElement::new(
            vec![(m, y), (w - m, y)],
            GREY.mix(0.5).stroke_width(1),
        ))?;
        area.draw(&Text::new(
            row.metric.clone(),
            (col_metric, mid(y)),
            (FONT, metric_px).into_font().color(&BLACK).pos(left),
        ))?;
        area.draw(&Text::new(
            row.value.clone(),
            (col_value, mid(y)),
            (FONT, value_px, FontStyle::Bold)
                .into_font()
                .color(&BLACK)
                .pos(left),
        ))?;
        for (i, t) in Tier::ALL.iter().enumerate() {
            let x = col_tiers + tier_w * i as i32;
            let pad = sz.px(6.0) as i32;
            let hit = row.tier == Some(*t);
            if hit {
                area.draw(&Rectangle::new(
                    [(x + pad, y + pad), (x + tier_w - pad, y + row_h - pad)],
                    tier_color(*t).mix(0.85).filled(),
                ))?;
            }
            let text = row.thresholds.get(i).cloned().unwrap_or_default();
            // The reached tier is marked by a filled cell and bold text, so
            // colour is never the only cue.
            let style = if hit {
                (FONT, text_px, FontStyle::Bold).into_font().color(&BLACK)
            } else {
                (FONT, text_px).into_font().color(&GREY)
            };
            area.draw(&Text::new(
                text,
                (x + tier_w / 2, mid(y)),
                style.pos(center),
            ))?;
        }
    }
    Ok(())
}

fn quick_check<DB: DrawingBackend>(
    c: &QuickCheckCard,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.rows.is_empty() {
        return no_data(area, title, "no metrics");
    }
    let sz = Sizes::of(area);
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let m = sz.px(40.0) as i32;
    area.draw(&Text::new(title.to_string(), (m, m / 2), sz.title()))?;
    let top = sz.px(110.0) as i32;
    // One header row, the metric rows, and the 0–10 axis labels.
    let rows = c.rows.len() as i32 + 2;
    let row_h = ((h - top - m) / rows).min(sz.px(140.0) as i32);
    // Columns: metric 24%, value and answer 26%, the 0–10 track the rest.
    let col_metric = m;
    let col_value = m + (w - 2 * m) * 24 / 100;
    let pad = sz.px(30.0) as i32;
    let col_track = m + (w - 2 * m) * 50 / 100 + pad;
    let track_w = w - m - pad - col_track;
    let x_of = |score: f64| col_track + (score.clamp(0.0, 10.0) / 10.0 * track_w as f64) as i32;
    let mid = |y: i32| y + row_h / 2;
    let gap = sz.px(16.0) as f64;
    let left = Pos::new(HPos::Left, VPos::Center);
    let center = Pos::new(HPos::Center, VPos::Center);
    let metric_px = c
        .rows
        .iter()
        .map(|r| {
            fit(
                28.0 * sz.s,
                (col_value - col_metric) as f64 - gap,
                &r.metric,
            )
        })
        .fold(f64::INFINITY, f64::min);
    let value_px = c
        .rows
        .iter()
        .map(|r| {
            fit(
                28.0 * sz.s,
                (col_track - pad - col_value) as f64 - gap,
                &r.value,
            )
        })
        .fold(f64::INFINITY, f64::min);
    let answer_px = c
        .rows
        .iter()
        .map(|r| {
            fit(
                21.0 * sz.s,
                (col_track - pad - col_value) as f64 - gap,
                &r.answer,
            )
        })
        .fold(21.0 * sz.s, f64::min);
    // Headers shrink to their columns, one size for all three.
    let (h_value, h_track) = ("this period", "score 0–10; band: mean ± 1 sd");
    let header_px = fit(
        28.0 * sz.s,
        (col_track - pad - col_value) as f64 - gap,
        h_value,
    )
    .min(fit(28.0 * sz.s, track_w as f64, h_track));
    let header = (FONT, header_px, FontStyle::Bold).into_font().color(&BLACK);
    area.draw(&Text::new(
        "metric",
        (col_metric, mid(top)),
        header.clone().pos(left),
    ))?;
    area.draw(&Text::new(
        h_value,
        (col_value, mid(top)),
        header.clone().pos(left),
    ))?;
    area.draw(&Text::new(h_track, (col_track, mid(top)), header.pos(left)))?;
    let band = oi::SKY_BLUE.mix(0.35);
    for (r, row) in c.rows.iter().enumerate() {
        let y = top + row_h * (r as i32 + 1);
        area.draw(&PathElement::new(
            vec![(m, y), (w - m, y)],
            GREY.mix(0.5).stroke_width(1),
        ))?;
        area.draw(&Text::new(
            row.metric.clone(),
            (col_metric, mid(y)),
            (FONT, metric_px).into_font().color(&BLACK).pos(left),
        ))?;
        area.draw(&Text::new(
            row.value.clone(),
            (col_value, y + row_h * 35 / 100),
            (FONT, value_px, FontStyle::Bold)
                .into_font()
                .color(&BLACK)
                .pos(left),
        ))?;
        area.draw(&Text::new(
            row.answer.clone(),
            (col_value, y + row_h * 72 / 100),
            (FONT, answer_px).into_font().color(&GREY).pos(left),
        ))?;
        // The track, the population band and mean, then the score on top.
        let ty = y + row_h * 60 / 100;
        area.draw(&PathElement::new(
            vec![(col_track, ty), (col_track + track_w, ty)],
            GREY.mix(0.6).stroke_width(sz.px(3.0)),
        ))?;
        let bh = sz.px(14.0) as i32;
        area.draw(&Rectangle::new(
            [
                (x_of(row.mean - row.sd), ty - bh),
                (x_of(row.mean + row.sd), ty + bh),
            ],
            band.filled(),
        ))?;
        let mh = sz.px(22.0) as i32;
        area.draw(&PathElement::new(
            vec![(x_of(row.mean), ty - mh), (x_of(row.mean), ty + bh)],
            BLACK.stroke_width(sz.px(2.0)),
        ))?;
        // Below the band, clear of the mean's tick.
        area.draw(&Text::new(
            format!("mean {:.1} ± {:.1}", row.mean, row.sd),
            (x_of(row.mean), ty + bh + sz.px(16.0) as i32),
            sz.note().pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        match row.score {
            Some(s) => {
                let x = x_of(s);
                let r = sz.px(11.0) as i32;
                area.draw(&Circle::new((x, ty), r, oi::BLUE.filled()))?;
                area.draw(&Text::new(
                    format!("{s:.1}"),
                    (x, ty - r - sz.px(4.0) as i32),
                    sz.label_bold()
                        .color(&oi::BLUE)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                ))?;
            }
            None => {
                area.draw(&Text::new(
                    "no score (no value)",
                    (col_track, ty - mh),
                    sz.note().pos(Pos::new(HPos::Left, VPos::Bottom)),
                ))?;
            }
        }
    }
    let y = top + row_h * (c.rows.len() as i32 + 1);
    for t in (0..=10).step_by(2) {
        area.draw(&Text::new(
            t.to_string(),
            (x_of(t as f64), y + row_h / 4),
            sz.tick().pos(center),
        ))?;
    }
    Ok(())
}

/// The font size, at most `size`, at which `text` fits in `width` pixels
/// (DejaVu Sans averages under 0.6 em per character; bold a little more).
fn fit(size: f64, width: f64, text: &str) -> f64 {
    let n = text.chars().count().max(1) as f64;
    size.min(width / (0.6 * n)).max(8.0)
}

fn whatif_lead_time<DB: DrawingBackend>(
    c: &WhatIfLeadTime,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.policies.is_empty() {
        return no_data(area, title, "no what-if results");
    }
    let sz = Sizes::of(area);
    let m = sz.px(24.0) as i32;
    area.draw(&Text::new(title.to_string(), (m, m / 2), sz.title()))?;
    let head = sz.px(70.0);
    let (_, h) = area.dim_in_pixel();
    let (_, body) = area.split_vertically(head);
    let predicted = c.policies.iter().any(|p| p.predicted_failures.is_some());
    if !predicted {
        return whatif_lead_panel(c, true, &body, sz);
    }
    // Lead time on top, then the other side of the trade: expected failed
    // deployments and the changes stuck in them, on the same policy axis.
    let rest_h = h.saturating_sub(head) as f64;
    let (top, rest) = body.split_vertically((rest_h * 0.38) as u32);
    let (mid, bottom) = rest.split_vertically((rest_h * 0.28) as u32);
    whatif_lead_panel(c, false, &top, sz)?;
    let est = |v: Option<f64>, lo: Option<f64>, hi: Option<f64>| {
        let v = v.unwrap_or(f64::NAN);
        (v, lo.unwrap_or(v), hi.unwrap_or(v))
    };
    let failures: Vec<(f64, f64, f64)> = c
        .policies
        .iter()
        .map(|p| {
            est(
                p.predicted_failures,
                p.predicted_failures_lo,
                p.predicted_failures_hi,
            )
        })
        .collect();
    let stuck: Vec<(f64, f64, f64)> = c
        .policies
        .iter()
        .map(|p| {
            est(
                p.predicted_changes_in_failed,
                p.predicted_changes_in_failed_lo,
                p.predicted_changes_in_failed_hi,
            )
        })
        .collect();
    whatif_estimate_panel(
        c,
        &failures,
        ("failures", "expected failed deployments"),
        oi::REDDISH_PURPLE,
        false,
        &mid,
        sz,
    )?;
    whatif_estimate_panel(
        c,
        &stuck,
        ("changes", "expected changes stuck in failed deployments"),
        oi::ORANGE,
        true,
        &bottom,
        sz,
    )
}

/// The y label area of every what-if panel, so their bars line up.
fn whatif_y_area(sz: Sizes) -> u32 {
    sz.px(120.0)
}

/// A legend entry drawn in a panel's top margin.
enum Swatch {
    Bar(RGBColor),
    Tick(RGBColor),
    Whisker,
}

/// One line of legend entries at `(x, y)` (the line's vertical centre), left to right.
fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sz: Sizes,
    (x, y): (i32, i32),
    items: &[(Swatch, &str)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut x = x;
    let k = sz.px(12.0) as i32;
    for (swatch, label) in items {
        match swatch {
            Swatch::Bar(c) => area.draw(&Rectangle::new(
                [(x, y - k), (x + 2 * k, y + k)],
                c.filled(),
            ))?,
            Swatch::Tick(c) => area.draw(&PathElement::new(
                vec![(x, y), (x + 2 * k, y)],
                c.stroke_width(sz.px(5.0)),
            ))?,
            Swatch::Whisker => {
                for p in [
                    vec![(x + k, y - k), (x + k, y + k)],
                    vec![(x + k / 2, y - k), (x + 3 * k / 2, y - k)],
                    vec![(x + k / 2, y + k), (x + 3 * k / 2, y + k)],
                ] {
                    area.draw(&PathElement::new(p, BLACK.stroke_width(sz.px(3.0))))?;
                }
            }
        }
        x += 2 * k + sz.px(10.0) as i32;
        area.draw(&Text::new(
            label.to_string(),
            (x, y),
            sz.tick().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        // DejaVu Sans averages under 0.6 em per character.
        x += (label.chars().count() as f64 * 0.56 * 23.0 * sz.s) as i32 + sz.px(36.0) as i32;
    }
    Ok(())
}

fn whatif_lead_panel<DB: DrawingBackend>(
    c: &WhatIfLeadTime,
    x_axis: bool,
    area: &DrawingArea<DB, Shift>,
    sz: Sizes,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = c.policies.len();
    let labels: Vec<String> = c.policies.iter().map(|p| p.name.clone()).collect();
    let max = c
        .policies
        .iter()
        .map(|p| p.lead_p90_hours)
        .fold(0.0, f64::max);
    let unit = TimeUnit::for_max_hours(max);
    // Room above the highest tick for its "/mo" label.
    let ymax = nice_ceiling((max / unit.divisor * 1.2).max(0.1));
    let legend_h = sz.px(40.0);
    legend_row(
        area,
        sz,
        (
            whatif_y_area(sz) as i32 + sz.px(24.0) as i32,
            legend_h as i32 / 2,
        ),
        &[
            (Swatch::Bar(oi::SKY_BLUE), "median lead time"),
            (Swatch::Tick(oi::VERMILLION), "p90 lead time"),
        ],
    )?;
    let mut chart = ChartBuilder::on(area)
        .margin(sz.px(24.0))
        .margin_top(legend_h + sz.px(8.0))
        .margin_bottom(sz.px(if x_axis { 24.0 } else { 4.0 }))
        .x_label_area_size(sz.px(if x_axis { 80.0 } else { 36.0 }))
        .y_label_area_size(whatif_y_area(sz))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..ymax)?;
    let x_fmt = |x: &f64| index_label(&labels, *x);
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&x_fmt)
        .y_labels(5)
        .y_label_formatter(&|y| crate::style::trim(*y))
        .y_desc(format!("lead time ({})", unit.name))
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25));
    if x_axis {
        mesh.x_desc("release policy (deployments per month above each bar)");
    }
    mesh.draw()?;
    let fill = oi::SKY_BLUE;
    chart.draw_series(c.policies.iter().enumerate().map(|(i, p)| {
        let x = i as f64;
        Rectangle::new(
            [
                (x - 0.35, 0.0),
                (x + 0.35, p.lead_median_hours / unit.divisor),
            ],
            fill.filled(),
        )
    }))?;
    let color = oi::VERMILLION;
    let w = sz.px(5.0);
    chart.draw_series(c.policies.iter().enumerate().map(|(i, p)| {
        let x = i as f64;
        let y = p.lead_p90_hours / unit.divisor;
        PathElement::new(vec![(x - 0.35, y), (x + 0.35, y)], color.stroke_width(w))
    }))?;
    // Deployments per month above each policy, where long tick labels would collide.
    chart.draw_series(c.policies.iter().enumerate().map(|(i, p)| {
        let top = p.lead_p90_hours.max(p.lead_median_hours) / unit.divisor;
        Text::new(
            format!("{}/mo", crate::style::trim(p.deployments_per_month)),
            (i as f64, top),
            sz.tick().pos(Pos::new(HPos::Center, VPos::Bottom)),
        )
    }))?;
    Ok(())
}

/// One estimate per policy as a bar with its 95% whisker and its value.
fn whatif_estimate_panel<DB: DrawingBackend>(
    c: &WhatIfLeadTime,
    values: &[(f64, f64, f64)],
    (y_desc, label): (&str, &str),
    fill: RGBColor,
    x_axis: bool,
    area: &DrawingArea<DB, Shift>,
    sz: Sizes,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = c.policies.len();
    let labels: Vec<String> = c.policies.iter().map(|p| p.name.clone()).collect();
    let max = values
        .iter()
        .map(|v| v.2.max(v.0))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    // Room above the highest whisker for its value.
    let ymax = nice_ceiling((max * 1.15).max(1.0));
    let legend_h = sz.px(40.0);
    legend_row(
        area,
        sz,
        (
            whatif_y_area(sz) as i32 + sz.px(24.0) as i32,
            legend_h as i32 / 2,
        ),
        &[
            (Swatch::Bar(fill), label),
            (Swatch::Whisker, "95% interval"),
        ],
    )?;
    let mut chart = ChartBuilder::on(area)
        .margin(sz.px(24.0))
        .margin_top(legend_h + sz.px(8.0))
        .margin_bottom(sz.px(if x_axis { 24.0 } else { 4.0 }))
        .x_label_area_size(sz.px(if x_axis { 80.0 } else { 36.0 }))
        .y_label_area_size(whatif_y_area(sz))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..ymax)?;
    let x_fmt = |x: &f64| index_label(&labels, *x);
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&x_fmt)
        .y_labels(4)
        .y_label_formatter(&|y| crate::style::trim(*y))
        .y_desc(y_desc)
        .label_style(sz.tick())
        .axis_desc_style(sz.label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GREY.mix(0.25));
    if x_axis {
        mesh.x_desc("release policy");
    }
    mesh.draw()?;
    let present = || {
        values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.0.is_finite())
            .map(|(i, v)| (i as f64, *v))
    };
    chart.draw_series(present().map(|(x, v)| {
        Rectangle::new([(x - 0.35, 0.0), (x + 0.35, v.0)], fill.mix(0.75).filled())
    }))?;
    // Each stroke on its own: a path that turns back on itself draws its
    // joins as slanted caps.
    let w = sz.px(3.0);
    chart.draw_series(present().flat_map(|(x, v)| {
        [
            vec![(x, v.1), (x, v.2)],
            vec![(x - 0.12, v.1), (x + 0.12, v.1)],
            vec![(x - 0.12, v.2), (x + 0.12, v.2)],
        ]
        .map(|p| PathElement::new(p, BLACK.stroke_width(w)))
    }))?;
    // The expected value beside the bar's top, clear of the whisker.
    chart.draw_series(present().map(|(x, v)| {
        Text::new(
            crate::style::trim(v.0),
            (x + 0.16, v.0),
            sz.tick().pos(Pos::new(HPos::Left, VPos::Bottom)),
        )
    }))?;
    Ok(())
}

fn before_after<DB: DrawingBackend>(
    c: &BeforeAfterTable,
    title: &str,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if c.rows.is_empty() {
        return no_data(area, title, "no metrics to compare");
    }
    let sz = Sizes::of(area);
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let m = sz.px(30.0) as i32;
    area.draw(&Text::new(title.to_string(), (m, m / 2), sz.title()))?;
    let (before, before_days) = split_head(&c.before);
    let (after, after_days) = split_head(&c.after);
    let periods = format!("{before}: {before_days}   ·   {after}: {after_days}");
    area.draw(&Text::new(
        periods.clone(),
        (m, m / 2 + sz.px(62.0) as i32),
        (FONT, fit(24.0 * sz.s, (w - 2 * m) as f64, &periods))
            .into_font()
            .color(&GREY),
    ))?;
    let top = sz.px(130.0) as i32;
    let head_h = sz.px(60.0) as i32;
    let row_h = ((h - top - head_h - m) / c.rows.len() as i32).min(sz.px(170.0) as i32);
    // Columns, as shares of the inner width.
    let inner = (w - 2 * m) as f64;
    let col = |share: f64| m + (inner * share) as i32;
    let cols = [
        col(0.0),
        col(0.27),
        col(0.42),
        col(0.57),
        col(0.83),
        col(1.0),
    ];
    let width = |k: usize| (cols[k + 1] - cols[k]) as f64 - sz.px(14.0) as f64;
    let left = Pos::new(HPos::Left, VPos::Center);
    let big = 30.0 * sz.s;
    let small = 21.0 * sz.s;
    // One size per column, so the rows read alike.
    let size_of = |k: usize, f: &dyn Fn(&BeforeAfterLine) -> String, base: f64| {
        c.rows
            .iter()
            .map(|r| fit(base, width(k), &f(r)))
            .fold(base, f64::min)
    };
    let heads = [
        "metric".to_string(),
        before,
        after,
        "change (after − before)".to_string(),
        "rank test".to_string(),
    ];
    let head_px = heads
        .iter()
        .enumerate()
        .map(|(k, a)| fit(24.0 * sz.s, width(k), a))
        .fold(24.0 * sz.s, f64::min);
    for (k, a) in heads.iter().enumerate() {
        area.draw(&Text::new(
            a.clone(),
            (cols[k], top + head_h / 2),
            (FONT, head_px, FontStyle::Bold)
                .into_font()
                .color(&BLACK)
                .pos(left),
        ))?;
    }
    let line = |y: i32| Rectangle::new([(m, y), (w - m, y + 2)], GREY.mix(0.5).filled());
    area.draw(&line(top + head_h))?;
    let n_of = |r: &BeforeAfterLine| format!("n = {} / {} {}", r.n_before, r.n_after, r.per);
    let metric_px = size_of(0, &|r| r.metric.clone(), 26.0 * sz.s);
    let before_px = size_of(1, &|r| r.before.clone(), big);
    let after_px = size_of(2, &|r| r.after.clone(), big);
    let diff_px = size_of(3, &|r| r.difference.clone(), big);
    let int_px = size_of(3, &|r| r.interval.clone(), small);
    let p_px = size_of(4, &|r| r.p.clone(), 26.0 * sz.s);
    // The sample sizes span the row, under the numbers.
    let n_px = c
        .rows
        .iter()
        .map(|r| fit(small, (cols[3] - cols[0]) as f64, &n_of(r)))
        .fold(small, f64::min);
    for (i, r) in c.rows.iter().enumerate() {
        let y = top + head_h + i as i32 * row_h;
        let (upper, lower) = (y + row_h * 2 / 5, y + row_h * 3 / 4);
        let text = |s: String, x: i32, y: i32, px: f64, bold: bool, grey: bool| {
            let f = if bold {
                (FONT, px, FontStyle::Bold).into_font()
            } else {
                (FONT, px).into_font()
            };
            let f = f.color(if grey { &GREY } else { &BLACK });
            Text::new(s, (x, y), f.pos(left))
        };
        area.draw(&text(
            r.metric.clone(),
            cols[0],
            upper,
            metric_px,
            true,
            false,
        ))?;
        area.draw(&text(n_of(r), cols[0], lower, n_px, false, true))?;
        area.draw(&text(
            r.before.clone(),
            cols[1],
            upper,
            before_px,
            false,
            false,
        ))?;
        area.draw(&text(
            r.after.clone(),
            cols[2],
            upper,
            after_px,
            false,
            false,
        ))?;
        // A clear change is bold; one the interval cannot tell from chance is grey.
        area.draw(&text(
            r.difference.clone(),
            cols[3],
            upper,
            diff_px,
            r.clear,
            !r.clear,
        ))?;
        let interval = if r.interval == "–" {
            "–".to_string()
        } else {
            format!("95% interval {}", r.interval)
        };
        area.draw(&text(interval, cols[3], lower, int_px, false, true))?;
        area.draw(&text(r.p.clone(), cols[4], upper, p_px, false, false))?;
        area.draw(&line(y + row_h))?;
    }
    Ok(())
}

/// "Before (2025-01-02 – 2025-06-30)" → ("Before", "2025-01-02 – 2025-06-30").
fn split_head(s: &str) -> (String, String) {
    match s.split_once(" (") {
        Some((a, b)) => (a.to_string(), b.trim_end_matches(')').to_string()),
        None => (s.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_at_periods_without_data() {
        let r = runs(&[Some(1.0), Some(2.0), None, Some(4.0), None]);
        assert_eq!(r, vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(3.0, 4.0)]]);
        assert!(runs(&[None, None]).is_empty());
    }

    #[test]
    fn text_shrinks_to_fit_its_column() {
        assert_eq!(fit(28.0, 1000.0, "short"), 28.0);
        // 20 characters in 120 px: 120 / (0.6 × 20) = 10 px.
        assert!((fit(28.0, 120.0, "Deployment frequency") - 10.0).abs() < 1e-9);
    }
}

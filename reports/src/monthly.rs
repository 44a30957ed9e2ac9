//! The monthly report: `report.html` (self-contained), `report.md` with PNGs
//! beside it, and `summary.json`, all from one [`MonthlyReport`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::charts::{Chart, Drift, StageTimes};
use crate::error::Result;
use crate::render::{to_svg, write_png, write_text, PNG_SIZE, SVG_SIZE};
use crate::safety::SafetyReport;
use crate::style::{fmt_hours, fmt_pct, trim, Tier};
use crate::{escape_html, escape_markdown};
pub use flowmeter_analysis::digest::DeploymentRow;

/// Everything the monthly report shows. The caller computes every number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReport {
    /// `YYYY-MM`.
    pub month: String,
    pub previous_month: String,
    /// The one line that differs between runs on the same data.
    pub generated_at: String,
    /// Repositories covered.
    pub repos: Vec<String>,
    /// The environment the DORA metrics are computed for.
    pub environment: String,
    pub tier_year: Option<u16>,
    /// 2025: what the scores are compared with, as printed ("DORA 2025
    /// Quick Check scores (0–10) beside the All industries mean ± sd").
    #[serde(default)]
    pub benchmark: Option<String>,
    pub headline: Vec<Headline>,
    /// The five largest deployments of the month, largest first.
    pub largest_deployments: Vec<DeploymentRow>,
    /// Every failed deployment of the month.
    pub failed_deployments: Vec<DeploymentRow>,
    /// Drift and misalignment findings; `None` when that analysis is not available.
    pub findings: Option<Vec<Finding>>,
    /// Sections left out, each as "not available: why".
    pub unavailable: Vec<String>,
    /// Metric definitions the numbers use.
    pub definitions: Vec<Definition>,
    pub figures: Vec<Figure>,
    /// The safety net of the quarter ending with the month, with its verdict.
    #[serde(default)]
    pub safety: Option<SafetyReport>,
}

/// One headline metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub metric: String,
    pub unit: Unit,
    pub this_month: Option<f64>,
    pub previous_month: Option<f64>,
    /// Median of the monthly values of the three months before this one.
    pub trailing_3m_median: Option<f64>,
    /// The sample behind `this_month` (deployments or changes).
    pub n: u64,
    pub better: Better,
    pub tier: Option<Tier>,
    /// 2025: the Quick Check score beside the population mean ± sd.
    #[serde(default)]
    pub score: Option<HeadlineScore>,
    /// Fewer than 10 deployments behind the number.
    pub low_confidence: bool,
    /// The slug of the figure that shows this metric.
    pub figure: Option<String>,
}

/// A headline metric's DORA 2025 Quick Check score and the population's
/// mean ± sd (no tier: 2025 has none).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeadlineScore {
    /// 0–10, 10 best; `None` without a value this month.
    pub score: Option<f64>,
    pub mean: f64,
    pub sd: f64,
}

impl HeadlineScore {
    /// "6.0 (mean 5.5 ± 2.4)", or "– (mean 5.5 ± 2.4)" without a score.
    pub fn text(&self) -> String {
        let s = self
            .score
            .map_or_else(|| "–".to_string(), |s| format!("{s:.1}"));
        format!("{s} (mean {:.1} ± {:.1})", self.mean, self.sd)
    }
}

/// How a headline value is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Hours,
    Fraction,
    Commits,
}

impl Unit {
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Count => trim(v),
            Unit::Hours => fmt_hours(v),
            Unit::Fraction => fmt_pct(v),
            Unit::Commits => format!("{} commits", trim(v)),
        }
    }
}

/// Which way is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// A drift or misalignment finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: String,
    pub description: String,
    pub shas: Vec<String>,
}

/// A metric's definition, as the report states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub metric: String,
    pub text: String,
}

/// A numbered figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub chart: Chart,
    /// One sentence on how to read it.
    pub caption: String,
}

/// A sentence of the "what changed" section and the figure behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sentence {
    pub text: String,
    /// 1-based figure number.
    pub figure: usize,
    pub figure_slug: String,
}

/// The JSON summary: the report without the chart data.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    month: &'a str,
    previous_month: &'a str,
    generated_at: &'a str,
    repos: &'a [String],
    environment: &'a str,
    tier_year: Option<u16>,
    benchmark: Option<&'a str>,
    headline: &'a [Headline],
    what_changed: Vec<Sentence>,
    largest_deployments: &'a [DeploymentRow],
    failed_deployments: &'a [DeploymentRow],
    findings: &'a Option<Vec<Finding>>,
    /// The stage-times figure's data, when the report has that figure.
    stage_times: Option<&'a StageTimes>,
    /// The drift figure's data, when the report has that figure.
    drift: Option<&'a Drift>,
    unavailable: &'a [String],
    definitions: &'a [Definition],
    figures: Vec<FigureRef>,
    safety: Option<&'a SafetyReport>,
}

#[derive(Debug, Serialize)]
struct FigureRef {
    number: usize,
    title: String,
    png: String,
}

/// The files [`write_monthly`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub files: Vec<PathBuf>,
}

impl MonthlyReport {
    /// " · tiers: DORA 2024 benchmarks", or for 2025 " · " and the benchmark.
    fn benchmark_note(&self) -> String {
        match (&self.benchmark, self.tier_year) {
            (Some(b), _) => format!(" · {b}"),
            (None, Some(y)) => format!(" · tiers: DORA {y} benchmarks"),
            (None, None) => String::new(),
        }
    }

    /// The headline table's benchmark column: "tier", or the 2025 score.
    fn benchmark_column(&self) -> &'static str {
        if self.benchmark.is_some() {
            "2025 score (mean ± sd)"
        } else {
            "tier"
        }
    }

    fn figure_number(&self, slug: &str) -> Option<usize> {
        self.figures
            .iter()
            .position(|f| f.chart.slug() == slug)
            .map(|i| i + 1)
    }

    /// The "what changed" sentences: one per headline metric that has a value
    /// this month and a figure in the report that shows it. Each sentence only
    /// restates numbers from the headline table.
    pub fn what_changed(&self) -> Vec<Sentence> {
        let mut out = vec![];
        for h in &self.headline {
            let Some(slug) = h.figure.as_deref() else {
                continue;
            };
            let Some(fig) = self.figure_number(slug) else {
                continue;
            };
            let Some(now) = h.this_month else { continue };
            let mut text = match h.previous_month {
                Some(prev) if prev == now => format!(
                    "{}: unchanged at {}, as in {}.",
                    h.metric,
                    h.unit.format(now),
                    self.previous_month
                ),
                Some(prev) => {
                    let up = now > prev;
                    let improved = up == (h.better == Better::Higher);
                    let verb = if up { "rose" } else { "fell" };
                    let change = if prev != 0.0 {
                        format!(" ({:+.0}%)", (now - prev) / prev.abs() * 100.0)
                    } else {
                        String::new()
                    };
                    format!(
                        "{}: {} from {} in {} to {}{}, {}.",
                        h.metric,
                        verb,
                        h.unit.format(prev),
                        self.previous_month,
                        h.unit.format(now),
                        change,
                        if improved {
                            "an improvement"
                        } else {
                            "a deterioration"
                        }
                    )
                }
                None => format!(
                    "{}: {}; there is no value for {} to compare with.",
                    h.metric,
                    h.unit.format(now),
                    self.previous_month
                ),
            };
            if let Some(t) = h.trailing_3m_median {
                let rel = if now == t {
                    "Equal to"
                } else if (now > t) == (h.better == Better::Higher) {
                    "Better than"
                } else {
                    "Worse than"
                };
                let _ = write!(
                    text,
                    " {rel} the median of the three months before ({}).",
                    h.unit.format(t)
                );
            }
            if let Some(tier) = h.tier {
                let _ = write!(text, " DORA tier: {}.", tier.name());
            }
            if let Some(sc) = h.score.filter(|s| s.score.is_some()) {
                let _ = write!(text, " DORA 2025 Quick Check score: {}.", sc.text());
            }
            if h.low_confidence {
                text.push_str(" Treat it with caution: fewer than 10 deployments this month.");
            }
            let _ = write!(text, " (Figure {fig})");
            out.push(Sentence {
                text,
                figure: fig,
                figure_slug: slug.to_string(),
            });
        }
        out
    }

    /// The report as one self-contained HTML page: inline CSS and SVG, no
    /// scripts, no external references.
    pub fn to_html(&self) -> Result<String> {
        let mut h = String::new();
        let title = format!("Delivery report {}", self.month);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n",
            escape_html(&title),
            REPORT_CSS
        );
        let _ = writeln!(h, "<h1>{}</h1>", escape_html(&title));
        let _ = writeln!(
            h,
            "<p class=\"meta\">{} · environment <b>{}</b> · compared with {} and the median of the three months before{}</p>",
            escape_html(&self.repos.join(", ")),
            escape_html(&self.environment),
            escape_html(&self.previous_month),
            self.benchmark_note()
        );
        let _ = writeln!(
            h,
            "<p class=\"meta\">{}</p>",
            escape_html(&self.generated_at)
        );

        h.push_str("<section id=\"what-changed\">\n<h2>What changed</h2>\n");
        let sentences = self.what_changed();
        if sentences.is_empty() {
            h.push_str("<p>No metric has a value this month.</p>\n");
        } else {
            h.push_str("<ul>\n");
            for s in &sentences {
                let _ = writeln!(
                    h,
                    "<li>{} <a href=\"#fig-{}\">Figure {}</a></li>",
                    escape_html(s.text.trim_end_matches(&format!(" (Figure {})", s.figure))),
                    s.figure_slug,
                    s.figure
                );
            }
            h.push_str("</ul>\n");
        }
        h.push_str("</section>\n");

        h.push_str("<section id=\"headline\">\n<h2>Headline numbers</h2>\n<table>\n<thead><tr><th>metric</th>");
        let _ = write!(
            h,
            "<th>{}</th><th>{}</th><th>3-month median</th><th>{}</th><th>n</th></tr></thead>\n<tbody>\n",
            escape_html(&self.month),
            escape_html(&self.previous_month),
            escape_html(self.benchmark_column())
        );
        for m in &self.headline {
            let f = |v: Option<f64>| v.map(|v| m.unit.format(v)).unwrap_or_else(|| "–".into());
            let tier = match (m.tier, m.score) {
                (Some(t), _) => format!(
                    "<span class=\"tier\" style=\"background:{}\">{}</span>",
                    crate::style::css(crate::style::tier_color(t)),
                    t.name()
                ),
                (None, Some(sc)) => escape_html(&sc.text()),
                (None, None) => "–".into(),
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"num\"><b>{}</b></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}{}</td></tr>",
                escape_html(&m.metric),
                escape_html(&f(m.this_month)),
                escape_html(&f(m.previous_month)),
                escape_html(&f(m.trailing_3m_median)),
                tier,
                m.n,
                if m.low_confidence { " <span class=\"warn\">low confidence</span>" } else { "" }
            );
        }
        h.push_str("</tbody>\n</table>\n</section>\n");

        if let Some(s) = &self.safety {
            let t = &s.table;
            let _ = writeln!(
                h,
                "<section id=\"safety-net\">\n<h2>Safety net</h2>\n<p><b>{}</b></p>\n<ul>",
                escape_html(&s.verdict)
            );
            for r in &s.reasons {
                let _ = writeln!(h, "<li>{}</li>", escape_html(r));
            }
            let _ = writeln!(
                h,
                "</ul>\n<table>\n<thead><tr><th>measure</th><th>{}</th><th>95% interval</th><th>{}</th><th>trend</th></tr></thead>\n<tbody>",
                escape_html(&t.period),
                escape_html(&t.previous_period)
            );
            for r in &t.rows {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td class=\"num\"><b>{}</b></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                    escape_html(&r.measure),
                    escape_html(&r.now),
                    escape_html(&r.interval),
                    escape_html(&r.previous),
                    escape_html(&r.trend)
                );
            }
            h.push_str("</tbody>\n</table>\n<ul>\n");
            for d in &s.details {
                let _ = writeln!(h, "<li>{}</li>", escape_html(d));
            }
            let _ = writeln!(
                h,
                "</ul>\n<p class=\"meta\">{}</p>\n</section>",
                escape_html(&s.bars)
            );
        }

        h.push_str("<section id=\"figures\">\n<h2>Figures</h2>\n");
        for (i, fig) in self.figures.iter().enumerate() {
            let svg = to_svg(&fig.chart, SVG_SIZE)?;
            let svg = svg.replacen(
                "<svg ",
                &format!(
                    "<svg role=\"img\" aria-label=\"{}\" ",
                    escape_html(&fig.chart.title())
                ),
                1,
            );
            let _ = writeln!(
                h,
                "<figure id=\"fig-{}\">\n{}\n<figcaption><b>Figure {}. {}.</b> {}</figcaption>\n</figure>",
                fig.chart.slug(),
                svg.trim(),
                i + 1,
                escape_html(&fig.chart.title()),
                escape_html(&fig.caption)
            );
        }
        h.push_str("</section>\n");

        h.push_str("<section id=\"largest\">\n<h2>Largest deployments</h2>\n");
        deployments_html(
            &mut h,
            &self.largest_deployments,
            "No deployments this month.",
        );
        h.push_str("</section>\n<section id=\"failed\">\n<h2>Failed deployments</h2>\n");
        deployments_html(
            &mut h,
            &self.failed_deployments,
            "No deployment failed this month.",
        );
        h.push_str("</section>\n<section id=\"findings\">\n<h2>Drift and misalignment</h2>\n");
        match &self.findings {
            None => {
                h.push_str("<p class=\"na\">Not available: see “Not in this report” below.</p>\n")
            }
            Some(f) if f.is_empty() => h.push_str("<p>No findings.</p>\n"),
            Some(f) => {
                h.push_str("<ul>\n");
                for x in f {
                    let shas = if x.shas.is_empty() {
                        String::new()
                    } else {
                        format!(" <code>{}</code>", escape_html(&x.shas.join(" ")))
                    };
                    let _ = writeln!(
                        h,
                        "<li><b>{}</b>: {}{shas}</li>",
                        escape_html(&x.kind),
                        escape_html(&x.description),
                    );
                }
                h.push_str("</ul>\n");
            }
        }
        h.push_str("</section>\n");
        if !self.unavailable.is_empty() {
            h.push_str("<section id=\"unavailable\">\n<h2>Not in this report</h2>\n<ul>\n");
            for u in &self.unavailable {
                let _ = writeln!(h, "<li class=\"na\">{}</li>", escape_html(u));
            }
            h.push_str("</ul>\n</section>\n");
        }
        h.push_str("<section id=\"definitions\">\n<h2>Definitions</h2>\n<dl>\n");
        for d in &self.definitions {
            let _ = writeln!(
                h,
                "<dt>{}</dt><dd>{}</dd>",
                escape_html(&d.metric),
                escape_html(&d.text)
            );
        }
        h.push_str("</dl>\n</section>\n</main>\n</body>\n</html>\n");
        Ok(h)
    }

    /// The report as Markdown, with the figures as PNG files named `<slug>.png`
    /// beside it.
    pub fn to_markdown(&self) -> String {
        let mut m = String::new();
        let _ = writeln!(m, "# Delivery report {}\n", escape_markdown(&self.month));
        let _ = writeln!(
            m,
            "{} · environment **{}** · compared with {} and the median of the three months before{}\n",
            escape_markdown(&self.repos.join(", ")),
            escape_markdown(&self.environment),
            escape_markdown(&self.previous_month),
            escape_markdown(&self.benchmark_note())
        );
        let _ = writeln!(m, "{}\n", escape_markdown(&self.generated_at));
        m.push_str("## What changed\n\n");
        for s in self.what_changed() {
            let _ = writeln!(m, "- {}", escape_markdown(&s.text));
        }
        let _ = writeln!(
            m,
            "\n## Headline numbers\n\n| metric | {} | {} | 3-month median | {} | n |\n|---|--:|--:|--:|---|--:|",
            escape_markdown(&self.month),
            escape_markdown(&self.previous_month),
            self.benchmark_column()
        );
        for h in &self.headline {
            let f = |v: Option<f64>| v.map(|v| h.unit.format(v)).unwrap_or_else(|| "–".into());
            let _ = writeln!(
                m,
                "| {} | **{}** | {} | {} | {} | {}{} |",
                escape_markdown(&h.metric),
                escape_markdown(&f(h.this_month)),
                escape_markdown(&f(h.previous_month)),
                escape_markdown(&f(h.trailing_3m_median)),
                match (h.tier, h.score) {
                    (Some(t), _) => t.name().to_string(),
                    (None, Some(sc)) => escape_markdown(&sc.text()),
                    (None, None) => "–".to_string(),
                },
                h.n,
                if h.low_confidence {
                    " (low confidence)"
                } else {
                    ""
                }
            );
        }
        if let Some(s) = &self.safety {
            let t = &s.table;
            let _ = writeln!(
                m,
                "\n## Safety net\n\n**{}**\n",
                escape_markdown(&s.verdict)
            );
            for r in &s.reasons {
                let _ = writeln!(m, "- {}", escape_markdown(r));
            }
            let _ = writeln!(
                m,
                "\n| measure | {} | 95% interval | {} | trend |\n|---|--:|--:|--:|---|",
                escape_markdown(&t.period),
                escape_markdown(&t.previous_period)
            );
            for r in &t.rows {
                let _ = writeln!(
                    m,
                    "| {} | **{}** | {} | {} | {} |",
                    escape_markdown(&r.measure),
                    escape_markdown(&r.now),
                    escape_markdown(&r.interval),
                    escape_markdown(&r.previous),
                    escape_markdown(&r.trend)
                );
            }
            m.push('\n');
            for d in &s.details {
                let _ = writeln!(m, "- {}", escape_markdown(d));
            }
            let _ = writeln!(m, "\n{}", escape_markdown(&s.bars));
        }
        m.push_str("\n## Figures\n\n");
        for (i, f) in self.figures.iter().enumerate() {
            let _ = writeln!(
                m,
                "![Figure {}: {}]({}.png)\n\n**Figure {}. {}.** {}\n",
                i + 1,
                escape_markdown(&f.chart.title()),
                f.chart.slug(),
                i + 1,
                escape_markdown(&f.chart.title()),
                escape_markdown(&f.caption)
            );
        }
        m.push_str("## Largest deployments\n\n");
        deployments_md(
            &mut m,
            &self.largest_deployments,
            "No deployments this month.",
        );
        m.push_str("\n## Failed deployments\n\n");
        deployments_md(
            &mut m,
            &self.failed_deployments,
            "No deployment failed this month.",
        );
        m.push_str("\n## Drift and misalignment\n\n");
        match &self.findings {
            None => m.push_str("Not available: see “Not in this report” below.\n"),
            Some(f) if f.is_empty() => m.push_str("No findings.\n"),
            Some(f) => {
                for x in f {
                    let shas = if x.shas.is_empty() {
                        String::new()
                    } else {
                        format!(" `{}`", x.shas.join(" ").replace('`', ""))
                    };
                    let _ = writeln!(
                        m,
                        "- **{}**: {}{shas}",
                        escape_markdown(&x.kind),
                        escape_markdown(&x.description),
                    );
                }
            }
        }
        if !self.unavailable.is_empty() {
            m.push_str("\n## Not in this report\n\n");
            for u in &self.unavailable {
                let _ = writeln!(m, "- {}", escape_markdown(u));
            }
        }
        m.push_str("\n## Definitions\n\n");
        for d in &self.definitions {
            let _ = writeln!(
                m,
                "- **{}**: {}",
                escape_markdown(&d.metric),
                escape_markdown(&d.text)
            );
        }
        m
    }

    /// The summary as pretty JSON (the report without chart data).
    pub fn to_json(&self) -> Result<String> {
        let summary = Summary {
            month: &self.month,
            previous_month: &self.previous_month,
            generated_at: &self.generated_at,
            repos: &self.repos,
            environment: &self.environment,
            tier_year: self.tier_year,
            benchmark: self.benchmark.as_deref(),
            headline: &self.headline,
            what_changed: self.what_changed(),
            largest_deployments: &self.largest_deployments,
            failed_deployments: &self.failed_deployments,
            findings: &self.findings,
            stage_times: self.figures.iter().find_map(|f| match &f.chart {
                Chart::StageTimes(s) => Some(s),
                _ => None,
            }),
            drift: self.figures.iter().find_map(|f| match &f.chart {
                Chart::Drift(d) => Some(d),
                _ => None,
            }),
            unavailable: &self.unavailable,
            safety: self.safety.as_ref(),
            definitions: &self.definitions,
            figures: self
                .figures
                .iter()
                .enumerate()
                .map(|(i, f)| FigureRef {
                    number: i + 1,
                    title: f.chart.title(),
                    png: format!("{}.png", f.chart.slug()),
                })
                .collect(),
        };
        // `<`, `>` and `&` only occur inside JSON strings, where `\u` escapes
        // mean the same: the file can then be inlined in HTML safely.
        let json = serde_json::to_string_pretty(&summary)?
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        Ok(json + "\n")
    }
}

/// Writes `report.html`, `report.md`, one PNG per figure and `summary.json`
/// into `dir` (which must exist), each file atomically.
pub fn write_monthly(report: &MonthlyReport, dir: &Path) -> Result<Written> {
    let mut files = vec![];
    for f in &report.figures {
        let p = dir.join(format!("{}.png", f.chart.slug()));
        write_png(&f.chart, &p, PNG_SIZE)?;
        files.push(p);
    }
    for (name, text) in [
        ("report.html", report.to_html()?),
        ("report.md", report.to_markdown()),
        ("summary.json", report.to_json()?),
    ] {
        let p = dir.join(name);
        write_text(&p, &text)?;
        files.push(p);
    }
    Ok(Written { files })
}

fn shipped_text(d: &DeploymentRow) -> Vec<String> {
    let mut v = d.shipped.clone();
    if d.shipped_more > 0 {
        v.push(format!("… and {} more", d.shipped_more));
    }
    v
}

fn recovery_text(d: &DeploymentRow) -> String {
    match (d.recovered_at, d.recovery_hours) {
        (Some(at), Some(h)) => format!("{} (at {})", fmt_hours(h), at.format("%Y-%m-%d %H:%M")),
        (None, Some(h)) => fmt_hours(h),
        (Some(at), None) => at.format("%Y-%m-%d %H:%M").to_string(),
        (None, None) if d.failed => "not recovered".into(),
        (None, None) => "–".into(),
    }
}

fn deployments_html(h: &mut String, rows: &[DeploymentRow], empty: &str) {
    if rows.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", escape_html(empty));
        return;
    }
    h.push_str("<table>\n<thead><tr><th>deployed (UTC)</th><th>repo</th><th>deployment</th><th>commits</th><th>lines</th><th>outcome</th><th>recovery</th><th>shipped</th></tr></thead>\n<tbody>\n");
    for d in rows {
        let outcome = if d.failed {
            format!(
                "<span class=\"fail\">failed</span>: {}",
                escape_html(&d.failure_reasons.join(", "))
            )
        } else {
            "succeeded".into()
        };
        let shipped: Vec<String> = shipped_text(d).iter().map(|s| escape_html(s)).collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code> <code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"shipped\">{}</td></tr>",
            d.deployed_at.format("%Y-%m-%d %H:%M"),
            escape_html(&d.repo),
            escape_html(&d.deployment_id),
            escape_html(&d.sha.chars().take(10).collect::<String>()),
            d.batch_commits,
            d.batch_lines,
            outcome,
            escape_html(&recovery_text(d)),
            shipped.join("<br>")
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

fn deployments_md(m: &mut String, rows: &[DeploymentRow], empty: &str) {
    if rows.is_empty() {
        let _ = writeln!(m, "{empty}");
        return;
    }
    m.push_str("| deployed (UTC) | repo | deployment | commits | lines | outcome | recovery | shipped |\n|---|---|---|--:|--:|---|---|---|\n");
    for d in rows {
        let outcome = if d.failed {
            format!("failed: {}", d.failure_reasons.join(", "))
        } else {
            "succeeded".into()
        };
        let shipped: Vec<String> = shipped_text(d).iter().map(|s| escape_markdown(s)).collect();
        let _ = writeln!(
            m,
            "| {} | {} | {} {} | {} | {} | {} | {} | {} |",
            d.deployed_at.format("%Y-%m-%d %H:%M"),
            escape_markdown(&d.repo),
            escape_markdown(&d.deployment_id),
            escape_markdown(&d.sha.chars().take(10).collect::<String>()),
            d.batch_commits,
            d.batch_lines,
            escape_markdown(&outcome),
            escape_markdown(&recovery_text(d)),
            shipped.join("<br>")
        );
    }
}

const REPORT_CSS: &str = "
:root{--ink:#1a1a1a;--muted:#595959;--line:#d9d9d9;--blue:#0072b2;--fail:#d55e00}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 'DejaVu Sans',system-ui,sans-serif;color:var(--ink);background:#fff}
main{max-width:1200px;margin:0 auto;padding:2rem 1.5rem 4rem}
h1{font-size:2rem;margin:0 0 .25rem}
h2{font-size:1.35rem;margin:2.5rem 0 .75rem;border-bottom:2px solid var(--line);padding-bottom:.25rem}
.meta{color:var(--muted);margin:.2rem 0}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.shipped{max-width:28rem;overflow-wrap:anywhere}
code{font-size:.85em;overflow-wrap:anywhere}
.tier{display:inline-block;padding:0 .5rem;border-radius:.25rem;font-weight:bold;color:#000}
.warn{color:var(--fail);font-size:.8em}
.fail{color:var(--fail);font-weight:bold}
.na{color:var(--muted);font-style:italic}
figure{margin:1.5rem 0;page-break-inside:avoid}
figure svg{width:100%;height:auto;display:block;border:1px solid var(--line)}
figcaption{color:var(--muted);font-size:.92rem;margin-top:.4rem}
a{color:var(--blue)}
@media print{main{max-width:none;padding:0}h2{page-break-after:avoid}}
";

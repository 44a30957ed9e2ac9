//! `flowmeter flow`: the environment promotion flow — dwell per stage,
//! promotions, drift, misalignments and release trains.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use flowmeter_analysis::{
    drift_frame, flow_report, fmt_span, misalignments_frame, FlowOptions, FlowReport,
};
use flowmeter_store::Store;
use polars::prelude::*;

use crate::cli::{GlobalOpts, OutputOpts};
use crate::output::{self, Format};

pub const EXAMPLES: &str = "\
Examples:
  flowmeter --config envs.toml flow                 # every section, as tables
  flowmeter flow --since 2024-01-01 --until 2024-03-31
  flowmeter flow --format json > flow.json          # one object, a key per section
  flowmeter flow --format markdown                  # sections for a wiki page
  flowmeter flow --details                          # every row of every section

Long sections (promotions, drift, misalignments) print as a summary with the
first few rows; --details prints every row, and csv/json always carry them all.

Environments are taken in config order (develop, test, beta, production...).
A change arrives in an environment with the first deployment there that ships
it. Tables for `sql`: env_arrivals, promotions, drift_daily, misalignments.
The flow is computed once by `analyze`, from the same deployments as `metrics`:
an environment branch that was fast-forwarded to commits made elsewhere keeps
only its tip as a deployment (the notes say so); its tags and deploy logs stay.";

#[derive(Debug, clap::Args)]
pub struct FlowArgs {
    /// First day, inclusive (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub since: Option<NaiveDate>,
    /// Last day, inclusive (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub until: Option<NaiveDate>,
    /// Print every row of every section, not a summary and the first rows.
    #[arg(long)]
    pub details: bool,
    #[command(flatten)]
    pub out: OutputOpts,
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("`{s}` is not a YYYY-MM-DD date: {e}"))
}

fn times(name: &str, v: Vec<Option<i64>>) -> Result<Column> {
    Ok(Series::new(name.into(), v)
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
        .into_column())
}

fn span(v: Option<f64>) -> Option<String> {
    v.map(|s| fmt_span(s.round() as i64))
}

/// Rows shown per long section without `--details`.
const EXAMPLES_SHOWN: usize = 5;

fn sections(r: &FlowReport) -> Result<Vec<(&'static str, &'static str, DataFrame)>> {
    let d = &r.dwell;
    let dwell = df!(
        "stage" => d.iter().map(|x| x.stage.clone()).collect::<Vec<_>>(),
        "period" => d.iter().map(|x| x.period.clone()).collect::<Vec<_>>(),
        "changes" => d.iter().map(|x| x.changes).collect::<Vec<_>>(),
        "median_s" => d.iter().map(|x| x.median_s).collect::<Vec<_>>(),
        "p90_s" => d.iter().map(|x| x.p90_s).collect::<Vec<_>>(),
        "median" => d.iter().map(|x| span(x.median_s)).collect::<Vec<_>>(),
        "p90" => d.iter().map(|x| span(x.p90_s)).collect::<Vec<_>>(),
        "negative" => d.iter().map(|x| x.negative).collect::<Vec<_>>(),
    )?;
    let s = &r.shares;
    let shares = df!(
        "stage" => s.iter().map(|x| x.stage.clone()).collect::<Vec<_>>(),
        "changes" => s.iter().map(|x| x.changes).collect::<Vec<_>>(),
        "total_s" => s.iter().map(|x| x.total_s).collect::<Vec<_>>(),
        "share" => s.iter().map(|x| x.share).collect::<Vec<_>>(),
    )?;
    let p = &r.promotions;
    let mut promotions = df!(
        "repo" => p.iter().map(|x| x.repo.clone()).collect::<Vec<_>>(),
        "from_env" => p.iter().map(|x| x.from_env.clone()).collect::<Vec<_>>(),
        "to_env" => p.iter().map(|x| x.to_env.clone()).collect::<Vec<_>>(),
        "sha" => p.iter().map(|x| x.sha[..x.sha.len().min(12)].to_string()).collect::<Vec<_>>(),
        "batch_commits" => p.iter().map(|x| x.batch_commits).collect::<Vec<_>>(),
        "batch_prs" => p.iter().map(|x| x.batch_prs).collect::<Vec<_>>(),
        "triggered_by" => p.iter().map(|x| x.triggered_by.clone()).collect::<Vec<_>>(),
    )?;
    promotions.with_column(times(
        "promoted_at",
        p.iter().map(|x| x.promoted_at).collect(),
    )?)?;
    let drift = drift_frame(&r.drift)?.select([
        "repo",
        "day",
        "from_env",
        "to_env",
        "commits_ahead",
        "prs_ahead",
        "oldest_age_s",
        "oldest_sha",
    ])?;
    let t = &r.tips;
    let tips = df!(
        "repo" => t.iter().map(|x| x.repo.clone()).collect::<Vec<_>>(),
        "from_env" => t.iter().map(|x| x.from_env.clone()).collect::<Vec<_>>(),
        "to_env" => t.iter().map(|x| x.to_env.clone()).collect::<Vec<_>>(),
        "from_tip" => t.iter().map(|x| x.from_tip.as_ref().map(|s| s[..s.len().min(12)].to_string())).collect::<Vec<_>>(),
        "to_tip" => t.iter().map(|x| x.to_tip.as_ref().map(|s| s[..s.len().min(12)].to_string())).collect::<Vec<_>>(),
        "commits_ahead" => t.iter().map(|x| x.commits_ahead).collect::<Vec<_>>(),
        "commits_behind" => t.iter().map(|x| x.commits_behind).collect::<Vec<_>>(),
    )?;
    let misalignments = misalignments_frame(&r.misalignments)?;
    let tr = &r.trains;
    let trains = df!(
        "repo" => tr.iter().map(|x| x.repo.clone()).collect::<Vec<_>>(),
        "environment" => tr.iter().map(|x| x.environment.clone()).collect::<Vec<_>>(),
        "trains" => tr.iter().map(|x| x.trains).collect::<Vec<_>>(),
        "median_interval" => tr.iter().map(|x| span(x.median_interval_s)).collect::<Vec<_>>(),
        "median_interval_s" => tr.iter().map(|x| x.median_interval_s).collect::<Vec<_>>(),
        "iqr_s" => tr.iter().map(|x| x.iqr_s).collect::<Vec<_>>(),
        "cv" => tr.iter().map(|x| x.cv).collect::<Vec<_>>(),
        "changes" => tr.iter().map(|x| x.changes).collect::<Vec<_>>(),
        "median_wait" => tr.iter().map(|x| span(x.median_wait_s)).collect::<Vec<_>>(),
        "median_wait_s" => tr.iter().map(|x| x.median_wait_s).collect::<Vec<_>>(),
        "wait_share" => tr.iter().map(|x| x.wait_share).collect::<Vec<_>>(),
    )?;
    let ds = &r.drift_summary;
    let mut drift_summary = df!(
        "repo" => ds.iter().map(|x| x.repo.clone()).collect::<Vec<_>>(),
        "from_env" => ds.iter().map(|x| x.from_env.clone()).collect::<Vec<_>>(),
        "to_env" => ds.iter().map(|x| x.to_env.clone()).collect::<Vec<_>>(),
        "days" => ds.iter().map(|x| x.days).collect::<Vec<_>>(),
        "latest_commits_ahead" => ds.iter().map(|x| x.latest_commits_ahead).collect::<Vec<_>>(),
        "max_commits_ahead" => ds.iter().map(|x| x.max_commits_ahead).collect::<Vec<_>>(),
    )?;
    drift_summary.with_column(times(
        "latest_day",
        ds.iter().map(|x| Some(x.latest_day)).collect(),
    )?)?;
    drift_summary.with_column(times(
        "max_day",
        ds.iter().map(|x| Some(x.max_day)).collect(),
    )?)?;
    let mc = &r.misalignment_counts;
    let misalignment_counts = df!(
        "kind" => mc.iter().map(|x| x.kind.clone()).collect::<Vec<_>>(),
        "environment" => mc.iter().map(|x| x.environment.clone()).collect::<Vec<_>>(),
        "count" => mc.iter().map(|x| x.count).collect::<Vec<_>>(),
    )?;
    Ok(vec![
        (
            "dwell",
            "Stage dwell times (median and p90 per month of arrival in the later environment)",
            dwell,
        ),
        ("shares", "Share of total lead time per stage", shares),
        (
            "promotions",
            "Promotions (merges of one environment branch into the next)",
            promotions,
        ),
        (
            "drift",
            "Drift per day (non-merge changes in the earlier environment, not yet in the later)",
            drift,
        ),
        ("tips", "Branch tips today", tips),
        ("misalignments", "Misalignments", misalignments),
        (
            "trains",
            "Release trains (production deployments that shipped something)",
            trains,
        ),
        (
            "drift_summary",
            "Drift in brief (per pair: days, latest and peak commits ahead)",
            drift_summary,
        ),
        (
            "misalignment_counts",
            "Misalignments by kind and environment",
            misalignment_counts,
        ),
    ])
}

/// The sections a person reads: summaries first, the first rows of long
/// sections, and a line that says how to see the rest.
fn readable(
    secs: Vec<(&'static str, &'static str, DataFrame)>,
    details: bool,
) -> Result<Vec<(&'static str, String, DataFrame)>> {
    let mut out = vec![];
    for (key, title, df) in secs {
        if details {
            if !matches!(key, "drift_summary" | "misalignment_counts") {
                out.push((key, title.to_string(), df));
            }
            continue;
        }
        match key {
            "dwell" => {
                let all = df.lazy().filter(col("period").eq(lit("all"))).collect()?;
                out.push((
                    key,
                    "Stage dwell times, whole range (per month: --details)".into(),
                    all,
                ));
            }
            "drift" => {}
            "drift_summary" | "misalignment_counts" => out.push((key, title.to_string(), df)),
            "promotions" | "misalignments" if df.height() > EXAMPLES_SHOWN => {
                let n = df.height();
                out.push((
                    key,
                    format!("{title}: the first {EXAMPLES_SHOWN} of {n} (all: --details, or --format csv/json)"),
                    df.head(Some(EXAMPLES_SHOWN)),
                ));
            }
            _ => out.push((key, title.to_string(), df)),
        }
    }
    // Counts before examples.
    if let Some(i) = out.iter().position(|s| s.0 == "misalignment_counts") {
        let counts = out.remove(i);
        let at = out
            .iter()
            .position(|s| s.0 == "misalignments")
            .unwrap_or(out.len());
        out.insert(at, counts);
    }
    if let Some(i) = out.iter().position(|s| s.0 == "drift_summary") {
        let d = out.remove(i);
        let at = out.iter().position(|s| s.0 == "tips").unwrap_or(out.len());
        out.insert(at, d);
    }
    Ok(out)
}

pub fn run(global: &GlobalOpts, args: FlowArgs) -> Result<ExitCode> {
    if let (Some(s), Some(u)) = (args.since, args.until) {
        if s > u {
            bail!("--since {s} is after --until {u}");
        }
    }
    let store = Store::open(&global.data)?;
    let config = crate::cmd::analyze::ensure_fresh(global, &store)?;
    let opts = FlowOptions {
        since: args.since,
        until: args.until,
    };
    let report = flow_report(&store, &config, &opts).context("computing the promotion flow")?;
    let secs = sections(&report)?;
    let bytes = match args.out.format {
        Format::Json => {
            let mut obj = serde_json::Map::new();
            obj.insert(
                "environments".into(),
                serde_json::json!(report.environments),
            );
            for (key, _, df) in &secs {
                obj.insert((*key).into(), output::json_rows(df));
            }
            obj.insert("notes".into(), serde_json::json!(report.notes));
            let mut s = serde_json::to_string_pretty(&serde_json::Value::Object(obj))?;
            s.push('\n');
            s.into_bytes()
        }
        Format::Csv => {
            let mut out = vec![];
            for (key, _, df) in &secs {
                out.extend_from_slice(format!("# {key}\n").as_bytes());
                out.extend(output::render(df, Format::Csv, None)?);
                out.push(b'\n');
            }
            out
        }
        Format::Table | Format::Markdown => {
            let md = args.out.format == Format::Markdown;
            let mut s = String::new();
            s.push_str(&format!(
                "Environments, in promotion order: {}\n\n",
                report.environments.join(" → ")
            ));
            for (_, title, df) in &readable(secs, args.details)? {
                if md {
                    s.push_str(&format!("### {title}\n\n{}\n", output::markdown(df)));
                } else {
                    s.push_str(&format!("{title}\n\n{}\n", output::table(df)));
                }
            }
            if !report.notes.is_empty() {
                s.push_str(if md { "**Notes**\n\n" } else { "Notes:\n" });
                for n in &report.notes {
                    s.push_str(&format!("{} {n}\n", if md { "-" } else { "  -" }));
                }
            }
            s.into_bytes()
        }
        Format::Parquet => bail!("--format parquet is for `sql`; use table, csv, json or markdown"),
    };
    output::emit(args.out.output.as_deref(), &bytes)?;
    Ok(ExitCode::SUCCESS)
}

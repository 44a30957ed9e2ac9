//! `flowmeter metrics`: DORA metrics per period.

use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use flowmeter_analysis::{metrics, By, MetricsOptions, SCORE_COLUMNS};
use flowmeter_store::Store;
use polars::prelude::*;

use crate::cli::{GlobalOpts, OutputOpts};
use crate::output::{cell, emit, render, Format};

pub const EXAMPLES: &str = "\
Examples:
  flowmeter metrics                               # production, by month
  flowmeter metrics --by week --since 2024-01-01 --until 2024-03-31
  flowmeter metrics --env staging --repo acme/api --tiers 2023
  flowmeter metrics --format json                 # {summary, periods}
  flowmeter metrics --format csv > metrics.csv    # one row per period

With `tiers = 2025` (the default) each metric gets the dora.dev Quick Check
score, 0-10 with 10 best (score_* rows), shown beside the 2025 population's
mean +/- sd; `industry` or `org_size` in the config picks the population.
2023 and 2024 show tier labels (tier_* rows) instead.

Table and Markdown show one column per period plus `all`, the newest 12
periods when there are more. Periods with fewer
than 10 deployments are marked low-confidence. Every number can be traced with
`flowmeter explain deployment ID` and `flowmeter sql`.";

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// Environment(s) to measure (default: the production ones).
    #[arg(long = "env", value_name = "NAME")]
    pub envs: Vec<String>,
    /// First day, inclusive (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub since: Option<NaiveDate>,
    /// Last day, inclusive (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub until: Option<NaiveDate>,
    /// Period length.
    #[arg(long, value_enum, default_value = "month")]
    pub by: ByArg,
    /// Only this repo.
    #[arg(long)]
    pub repo: Option<String>,
    /// DORA benchmark year: 2025 Quick Check scores, or 2023/2024 tiers
    /// (default: the config's `tiers`, else 2025).
    #[arg(long)]
    pub tiers: Option<u16>,
    #[command(flatten)]
    pub out: OutputOpts,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ByArg {
    Week,
    Month,
    Quarter,
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("`{s}` is not a YYYY-MM-DD date: {e}"))
}

pub fn run(global: &GlobalOpts, args: MetricsArgs) -> Result<ExitCode> {
    let store = Store::open(&global.data)?;
    let config = crate::cmd::analyze::ensure_fresh(global, &store)?;
    let opts = MetricsOptions {
        envs: args.envs,
        since: args.since,
        until: args.until,
        by: match args.by {
            ByArg::Week => By::Week,
            ByArg::Month => By::Month,
            ByArg::Quarter => By::Quarter,
        },
        repo: args.repo,
        tiers: args.tiers,
    };
    let m = metrics(&store, &config, &opts).context("computing metrics")?;
    let out = args.out.output.as_deref();
    match args.out.format {
        Format::Json => {
            let v = serde_json::json!({"summary": m.summary, "periods": m.periods});
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            emit(out, s.as_bytes())
        }
        Format::Csv | Format::Parquet => emit(out, &render(&m.frame, args.out.format, out)?),
        Format::Table | Format::Markdown => {
            let mut text = String::new();
            let s = &m.summary;
            let md = args.out.format == Format::Markdown;
            let line = |t: &mut String, l: String| {
                t.push_str(&l);
                t.push_str(if md { "  \n" } else { "\n" });
            };
            line(
                &mut text,
                format!(
                    "environments: {}{}",
                    s.environments.join(", "),
                    s.repo
                        .as_ref()
                        .map(|r| format!(" (repo {r})"))
                        .unwrap_or_default()
                ),
            );
            line(&mut text, s.config.clone());
            match &s.benchmarks {
                Some(b) => line(
                    &mut text,
                    format!(
                        "benchmarks: DORA {} Quick Check scores (0-10, 10 best) beside the {} mean +/- sd, from {}; lead time from {}_at",
                        s.tiers_year, b.benchmarks.name, b.source, s.lead_time_start
                    ),
                ),
                None => line(
                    &mut text,
                    format!(
                        "tiers: DORA {} benchmark table; lead time from {}_at",
                        s.tiers_year, s.lead_time_start
                    ),
                ),
            }
            if m.periods.is_empty() {
                line(&mut text, "no deployments in range".into());
                return emit(out, text.as_bytes()).map(|_| ExitCode::SUCCESS);
            }
            // A long history would print hundreds of columns: the table shows
            // the newest periods beside `all`, and says so.
            let dated = m.periods.iter().filter(|p| p.period != "all").count();
            let skip = dated.saturating_sub(MAX_PERIOD_COLUMNS);
            if skip > 0 {
                line(
                    &mut text,
                    format!(
                        "showing the newest {MAX_PERIOD_COLUMNS} of {dated} periods and `all`; \
                         --since/--until narrow the range, --format csv or json gives every period"
                    ),
                );
            }
            let low: Vec<&str> = m
                .periods
                .iter()
                .skip(skip)
                .filter(|p| p.low_confidence)
                .map(|p| p.period.as_str())
                .collect();
            if !low.is_empty() {
                line(
                    &mut text,
                    format!(
                        "low confidence (< {} deployments): {}",
                        s.low_confidence_below,
                        low.join(", ")
                    ),
                );
            }
            text.push('\n');
            let mut t = transpose(&m.frame.slice(skip as i64, m.frame.height() - skip))?;
            if let Some(b) = &s.benchmarks {
                // The population's mean +/- sd beside each score row.
                let names: Vec<String> = t
                    .column("metric")?
                    .str()?
                    .iter()
                    .map(|n| n.unwrap_or("").to_string())
                    .collect();
                let bench: Vec<String> = names
                    .iter()
                    .map(|n| {
                        SCORE_COLUMNS
                            .iter()
                            .find(|(c, _)| c == n)
                            .and_then(|(_, metric)| match *metric {
                                "overall" => Some(b.benchmarks.overall),
                                m => b.benchmarks.of(m),
                            })
                            .map(|x| format!("{:.1} ± {:.1}", x.mean, x.sd))
                            .unwrap_or_default()
                    })
                    .collect();
                t.with_column(Column::new("2025 mean ± sd".into(), bench))?;
            }
            text.push_str(&String::from_utf8(render(&t, args.out.format, out)?)?);
            emit(out, text.as_bytes())
        }
    }?;
    Ok(ExitCode::SUCCESS)
}

/// Table and Markdown show at most this many periods, the newest, beside
/// `all`; CSV, Parquet and JSON keep every period.
const MAX_PERIOD_COLUMNS: usize = 12;

/// One row per metric, one column per period.
fn transpose(df: &DataFrame) -> Result<DataFrame> {
    let periods: Vec<String> = df
        .column("period")?
        .str()?
        .iter()
        .map(|p| p.unwrap_or("").to_string())
        .collect();
    let mut cols = vec![Column::new(
        "metric".into(),
        df.get_column_names()
            .iter()
            .skip(1)
            .map(|n| n.to_string())
            .collect::<Vec<_>>(),
    )];
    for (i, p) in periods.iter().enumerate() {
        let vals: Vec<String> = df
            .columns()
            .iter()
            .skip(1)
            .map(|c| cell(&c.get(i).unwrap_or(AnyValue::Null)))
            .collect();
        cols.push(Column::new(p.as_str().into(), vals));
    }
    Ok(DataFrame::new(df.width() - 1, cols)?)
}

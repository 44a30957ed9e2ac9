//! `flowmeter risk`: failure rate by batch size, with Wilson intervals and a
//! logistic fit. Also the section renderer shared with `whatif` and `compare`.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use flowmeter_analysis::{production_deployments, risk_report, Config, RiskReport};
use flowmeter_store::{Store, DEPLOYMENT_STATS};
use polars::prelude::*;
use serde::Serialize;

use crate::cli::{GlobalOpts, OutputOpts, RiskArgs};
use crate::output::{self, Format};

pub fn run(global: &GlobalOpts, args: RiskArgs) -> Result<ExitCode> {
    let store = Store::open(&global.data)?;
    let config = crate::cmd::analyze::ensure_fresh(global, &store)?;
    let env = production_env(&config, args.env.as_deref());
    let stats = store
        .read(&DEPLOYMENT_STATS)
        .context("reading table `deployment_stats` (built by `flowmeter analyze`)")?;
    let deployments = production_deployments(&stats, &env)?;
    let report = risk_report(&deployments, &env);
    write_report(
        &report,
        &[
            ("Failure rate by batch size", buckets_frame(&report)?),
            (
                "Logistic fit: failure ~ log2(batch size)",
                fits_frame(&report)?,
            ),
        ],
        &[("Warnings", &report.warnings), ("Notes", &report.notes)],
        &args.out,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn buckets_frame(r: &RiskReport) -> Result<DataFrame> {
    let b = &r.buckets;
    Ok(df!(
        "measure" => b.iter().map(|b| b.measure.name()).collect::<Vec<_>>(),
        "bucket" => b.iter().map(|b| b.bucket.clone()).collect::<Vec<_>>(),
        "deployments" => b.iter().map(|b| b.deployments as i64).collect::<Vec<_>>(),
        "failures" => b.iter().map(|b| b.failures as i64).collect::<Vec<_>>(),
        "failure_rate" => b.iter().map(|b| b.failure_rate).collect::<Vec<_>>(),
        "ci95_lo" => b.iter().map(|b| b.ci_lo).collect::<Vec<_>>(),
        "ci95_hi" => b.iter().map(|b| b.ci_hi).collect::<Vec<_>>(),
        "median_recovery_h" => b.iter().map(|b| b.median_recovery_h).collect::<Vec<_>>(),
    )?)
}

fn fits_frame(r: &RiskReport) -> Result<DataFrame> {
    let f = &r.fits;
    Ok(df!(
        "measure" => f.iter().map(|f| f.measure.name()).collect::<Vec<_>>(),
        "deployments" => f.iter().map(|f| f.deployments as i64).collect::<Vec<_>>(),
        "failures" => f.iter().map(|f| f.failures as i64).collect::<Vec<_>>(),
        "odds_ratio_per_doubling" => f.iter().map(|f| f.odds_ratio_per_doubling).collect::<Vec<_>>(),
        "ci95_lo" => f.iter().map(|f| f.ci_lo).collect::<Vec<_>>(),
        "ci95_hi" => f.iter().map(|f| f.ci_hi).collect::<Vec<_>>(),
        "p_value" => f.iter().map(|f| f.p_value).collect::<Vec<_>>(),
    )?)
}

/// `--env NAME`, else the config's (first) production environment.
pub(crate) fn production_env(config: &Config, env: Option<&str>) -> String {
    env.map(str::to_string)
        .or_else(|| config.production_envs().into_iter().next())
        .unwrap_or_else(|| "production".into())
}

/// Writes a multi-part result. `json` is the whole result struct; `table` and
/// `markdown` print every section and the text blocks; `csv` is the first
/// section only (the rest is in the JSON).
pub(crate) fn write_report<T: Serialize>(
    report: &T,
    sections: &[(&str, DataFrame)],
    texts: &[(&str, &[String])],
    out: &OutputOpts,
) -> Result<()> {
    let bytes = match out.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report)?;
            s.push('\n');
            s.into_bytes()
        }
        Format::Csv => output::render(&sections[0].1, Format::Csv, None)?,
        Format::Table => {
            let mut s = String::new();
            for (title, df) in sections {
                s.push_str(&format!("{title}\n\n{}\n", output::table(df)));
            }
            for (title, lines) in texts.iter().filter(|t| !t.1.is_empty()) {
                s.push_str(&format!("{title}:\n"));
                for l in *lines {
                    s.push_str(&format!("  - {l}\n"));
                }
                s.push('\n');
            }
            s.into_bytes()
        }
        Format::Markdown => {
            let mut s = String::new();
            for (title, df) in sections {
                s.push_str(&format!("### {title}\n\n{}\n", output::markdown(df)));
            }
            for (title, lines) in texts.iter().filter(|t| !t.1.is_empty()) {
                s.push_str(&format!("**{title}**\n\n"));
                for l in *lines {
                    s.push_str(&format!("- {}\n", l.replace('|', "\\|")));
                }
                s.push('\n');
            }
            s.into_bytes()
        }
        Format::Parquet => bail!("--format parquet is for `sql`; use table, csv, json or markdown"),
    };
    output::emit(out.output.as_deref(), &bytes)
}

//! `flowmeter risk`: failure rate by batch size, with Wilson intervals and a
//! logistic fit. Also the section renderer shared with `whatif` and `compare`.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use flowmeter_analysis::{production_deployments, risk_report, RiskReport};
use flowmeter_store::{Store, DEPLOYMENT_STATS};
use polars::prelude::*;
use serde::Serialize;

use crate::cli::{GlobalOpts, OutputOpts, RiskArgs};
use crate::output::{self, Format};

pub fn run(global: &GlobalOpts, args: RiskArgs) -> Result<ExitCode> {
    let store = Store::open(&global.data)?;
    let config = crate::cmd::analyze::ensure_fresh(global, &store)?;
    let env = config.production_env(args.env.as_deref());
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
/// For people: p-values below 0.0001 read `<0.0001`, not a rounded `0`
/// (csv and json keep the number).
fn readable_p(df: &DataFrame) -> Result<DataFrame> {
    let mut out = df.clone();
    for name in df.get_column_names_owned() {
        if !(name.ends_with("p_value") || name.ends_with("_p")) {
            continue;
        }
        let col = df.column(&name)?.f64()?;
        let text: Vec<Option<String>> = col
            .iter()
            .map(|p| {
                p.map(|p| {
                    if p < 1e-4 {
                        "<0.0001".to_string()
                    } else {
                        format!("{p:.4}")
                    }
                })
            })
            .collect();
        out.with_column(Column::new(name, text))?;
    }
    Ok(out)
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
                s.push_str(&format!("{title}\n\n{}\n", output::table(&readable_p(df)?)));
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
                s.push_str(&format!(
                    "### {title}\n\n{}\n",
                    output::markdown(&readable_p(df)?)
                ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_p_values_are_not_shown_as_zero() {
        let df = df!(
            "p_value" => [Some(3e-12), Some(0.04321), None],
            "mann_whitney_p" => [Some(0.5), Some(1e-5), Some(1.0)],
            // Other columns keep their numbers.
            "z" => [1e-9, 2.0, 3.0],
        )
        .unwrap();
        let t = output::table(&readable_p(&df).unwrap());
        let rows: Vec<&str> = t.lines().skip(2).take(3).collect();
        assert_eq!(
            rows,
            [
                "<0.0001  0.5000            0",
                "0.0432   <0.0001         2.0",
                "         1.0000          3.0"
            ]
        );
    }
}

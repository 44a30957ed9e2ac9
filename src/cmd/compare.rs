//! `flowmeter compare`: each delivery metric before and after a date range,
//! with bootstrap intervals and Mann–Whitney tests.

use std::process::ExitCode;

use anyhow::{Context, Result};
use flowmeter_analysis::{
    compare, parse_period, production_deployments, shipped_changes, CompareOptions, CompareReport,
};
use flowmeter_store::{Store, CHANGES, DEPLOYMENT_STATS};
use polars::prelude::*;

use crate::cli::{CompareArgs, GlobalOpts};
use crate::cmd::risk::write_report;

pub fn run(global: &GlobalOpts, args: CompareArgs) -> Result<ExitCode> {
    let before = parse_period(&args.before).context("--before")?;
    let after = parse_period(&args.after).context("--after")?;
    let store = Store::open(&global.data)?;
    let config = crate::cmd::analyze::ensure_fresh(global, &store)?;
    let env = config.production_env(args.env.as_deref());
    let stats = store
        .read(&DEPLOYMENT_STATS)
        .context("reading table `deployment_stats` (built by `flowmeter analyze`)")?;
    let changes = store.read(&CHANGES).context("reading table `changes`")?;
    let deployments = production_deployments(&stats, &env)?;
    let shipped = shipped_changes(&changes, &env)?;
    let opts = CompareOptions {
        resamples: args.resamples,
        seed: args.seed,
    };
    let mut report = compare(&env, &deployments, &shipped, before, after, &opts);
    if report.negative_lead_times > 0 {
        report.warnings.push(format!(
            "{} negative lead times (clock skew) left out",
            report.negative_lead_times
        ));
    }
    write_report(
        &report,
        &[(
            &format!(
                "Before {} vs after {} ({})",
                report.before.label, report.after.label, report.environment
            ),
            rows_frame(&report)?,
        )],
        &[("Warnings", &report.warnings), ("Notes", &report.notes)],
        &args.out,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn rows_frame(r: &CompareReport) -> Result<DataFrame> {
    let w = &r.rows;
    Ok(df!(
        "metric" => w.iter().map(|r| r.metric.clone()).collect::<Vec<_>>(),
        "unit" => w.iter().map(|r| r.unit.clone()).collect::<Vec<_>>(),
        "statistic" => w.iter().map(|r| r.statistic.clone()).collect::<Vec<_>>(),
        "per" => w.iter().map(|r| r.per.clone()).collect::<Vec<_>>(),
        "n_before" => w.iter().map(|r| r.n_before as i64).collect::<Vec<_>>(),
        "n_after" => w.iter().map(|r| r.n_after as i64).collect::<Vec<_>>(),
        "before" => w.iter().map(|r| r.before).collect::<Vec<_>>(),
        "after" => w.iter().map(|r| r.after).collect::<Vec<_>>(),
        "difference" => w.iter().map(|r| r.difference.as_ref().map(|d| d.estimate)).collect::<Vec<_>>(),
        "diff_ci95_lo" => w.iter().map(|r| r.difference.as_ref().map(|d| d.lo)).collect::<Vec<_>>(),
        "diff_ci95_hi" => w.iter().map(|r| r.difference.as_ref().map(|d| d.hi)).collect::<Vec<_>>(),
        "mann_whitney_u" => w.iter().map(|r| r.mann_whitney.as_ref().map(|m| m.u)).collect::<Vec<_>>(),
        "mann_whitney_p" => w.iter().map(|r| r.mann_whitney.as_ref().map(|m| m.p_value)).collect::<Vec<_>>(),
    )?)
}

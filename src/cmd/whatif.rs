//! `flowmeter whatif`: replay the mainline history under other release
//! cadences and predict lead time, batch size and failures.

use std::process::ExitCode;

use anyhow::{Context, Result};
use flowmeter_analysis::{parse_delay, whatif_from_store, Cadence, WhatIfOptions, WhatIfReport};
use flowmeter_store::Store;
use polars::prelude::*;

use crate::cli::{GlobalOpts, WhatIfArgs};
use crate::cmd::risk::write_report;

pub fn run(global: &GlobalOpts, args: WhatIfArgs) -> Result<ExitCode> {
    let store = Store::open(&global.data)?;
    let config = crate::cmd::analyze::ensure_fresh(global, &store)?;
    let env = config.production_env(args.env.as_deref());
    let cadences = args
        .cadence
        .iter()
        .map(|c| c.parse::<Cadence>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .context("--cadence")?;
    let delay = parse_delay(&args.pipeline_delay).context("--pipeline-delay")?;
    let opts = WhatIfOptions {
        cadences,
        delay,
        draws: args.draws,
        seed: args.seed,
    };
    let report = whatif_from_store(&store, &config, &env, args.mainline_env.as_deref(), &opts)?;
    let mut check = vec![];
    if let Some(c) = &report.check {
        check.push(format!(
            "current: {} deployments, {} failed; the model predicts {:.1} (95% predictive interval {:.0}-{:.0}): {}.",
            c.deployments,
            c.observed_failures,
            c.predicted_failures,
            c.predictive_lo,
            c.predictive_hi,
            if c.consistent { "consistent" } else { "NOT consistent" }
        ));
        check.push("The fit includes an intercept, so over the deployments it was fitted on the predicted total equals the observed total by construction; the interval shows how far chance alone would move it.".into());
    }
    write_report(
        &report,
        &[("What-if release cadences", rows_frame(&report)?)],
        &[
            ("Check", &check),
            ("Assumptions", &report.assumptions),
            ("Warnings", &report.warnings),
        ],
        &args.out,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn rows_frame(r: &WhatIfReport) -> Result<DataFrame> {
    let w = &r.rows;
    let est = |f: fn(&flowmeter_analysis::WhatIfRow) -> Option<flowmeter_analysis::Estimate>,
               part: usize| {
        w.iter()
            .map(|row| {
                f(row).map(|e| match part {
                    0 => e.value,
                    1 => e.lo,
                    _ => e.hi,
                })
            })
            .collect::<Vec<_>>()
    };
    let pf = |row: &flowmeter_analysis::WhatIfRow| row.predicted_failures;
    let pc = |row: &flowmeter_analysis::WhatIfRow| row.predicted_changes_in_failed;
    let dw = |row: &flowmeter_analysis::WhatIfRow| row.expected_defects_per_week;
    Ok(df!(
        "policy" => w.iter().map(|r| r.policy.clone()).collect::<Vec<_>>(),
        "deployments" => w.iter().map(|r| r.deployments as i64).collect::<Vec<_>>(),
        "per_month" => w.iter().map(|r| r.deployments_per_month).collect::<Vec<_>>(),
        "changes" => w.iter().map(|r| r.changes as i64).collect::<Vec<_>>(),
        "lead_median_h" => w.iter().map(|r| r.lead_time_median_h).collect::<Vec<_>>(),
        "lead_p90_h" => w.iter().map(|r| r.lead_time_p90_h).collect::<Vec<_>>(),
        "batch_median" => w.iter().map(|r| r.batch_median).collect::<Vec<_>>(),
        "batch_p90" => w.iter().map(|r| r.batch_p90).collect::<Vec<_>>(),
        "batch_max" => w.iter().map(|r| r.batch_max.map(|b| b as i64)).collect::<Vec<_>>(),
        "failures_pred" => est(pf, 0),
        "failures_lo" => est(pf, 1),
        "failures_hi" => est(pf, 2),
        "changes_in_failed" => est(pc, 0),
        "changes_in_failed_lo" => est(pc, 1),
        "changes_in_failed_hi" => est(pc, 2),
        "defects_per_week" => est(dw, 0),
        "defects_per_week_lo" => est(dw, 1),
        "defects_per_week_hi" => est(dw, 2),
        "failures_observed" => w.iter().map(|r| r.observed_failures.map(|b| b as i64)).collect::<Vec<_>>(),
        "extrapolated_share" => w.iter().map(|r| r.extrapolated_share).collect::<Vec<_>>(),
    )?)
}

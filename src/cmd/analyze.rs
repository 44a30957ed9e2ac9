//! `flowmeter analyze`: rebuild the derived tables; and the shared config
//! loading and staleness check that `sql`, `metrics` and the reports use.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use flowmeter_analysis::{analyze, fingerprint, is_fresh, mark_fresh, Config};
use flowmeter_store::Store;

use crate::cli::GlobalOpts;
use crate::cmd::ingest::lock;
use crate::cmd::status;

pub const EXAMPLES: &str = "\
Examples:
  flowmeter analyze                          # with ./flowmeter.toml, or the default config
  flowmeter --config envs.toml analyze
  flowmeter analyze --format json            # stage timings as JSON

Stages, in order, each rewriting its own table: deployments, deployment_commits,
changes, deployment_stats, then the promotion flow (see `flowmeter flow`):
env_arrivals, promotions, drift_daily, misalignments, tip_drift, train_waits,
and analysis_notes (how the rules read this store). `sql`, `metrics` and `explain` rerun them by themselves
when the base tables or the config changed since the last run.";

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Print the stage report as JSON.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// The config: `--config FILE`, else `./flowmeter.toml` when present, else the default.
pub fn load_config(global: &GlobalOpts) -> Result<Config> {
    let path = match &global.config {
        Some(p) => p.clone(),
        None => {
            let p = Path::new("flowmeter.toml");
            if !p.exists() {
                return Ok(Config::default_for_repos());
            }
            p.to_path_buf()
        }
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(flowmeter_analysis::parse_config(&text, &path)?)
}

fn has_store(store: &Store) -> bool {
    store.root().join("flowmeter.json").exists()
}

/// Reruns the analysis when the base tables or the config changed since the
/// last run. A store that does not exist yet is left alone.
pub fn ensure_fresh(global: &GlobalOpts, store: &Store) -> Result<Config> {
    let config = load_config(global)?;
    if !has_store(store) || is_fresh(store, &config) {
        return Ok(config);
    }
    let guard = lock(global, store)?;
    let fp = fingerprint(store, &config);
    let report = analyze(&guard, &config).context("analysing (the derived tables were stale)")?;
    mark_fresh(&guard, &fp)?;
    status(
        global.quiet,
        format!("analysis was stale, so it ran again ({})", report.config),
    );
    for w in &report.warnings {
        status(global.quiet, format!("warning: {w}"));
    }
    Ok(config)
}

pub fn run(global: &GlobalOpts, args: AnalyzeArgs) -> Result<ExitCode> {
    let config = load_config(global)?;
    let store = Store::open(&global.data)?;
    let guard = lock(global, &store)?;
    let fp = fingerprint(&store, &config);
    let report = analyze(&guard, &config)?;
    mark_fresh(&guard, &fp)?;
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Text => {
            println!("{}", report.config);
            for s in &report.stages {
                println!(
                    "{:<20} {:>10} rows  {:>8.3}s",
                    s.name,
                    s.rows,
                    s.elapsed.as_secs_f64()
                );
            }
            println!("(marking pass alone: {:.3}s)", report.marking_pass_s);
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            for n in &report.notes {
                eprintln!("note: {n}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

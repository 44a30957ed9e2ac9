//! `flowmeter explain deployment ID | commit SHA`: the audit trail.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use flowmeter_analysis::{explain_commit, explain_deployment, fmt_span};
use flowmeter_store::Store;
use polars::prelude::TimeUnit;

use crate::cli::GlobalOpts;
use crate::output::{emit, fmt_time};

pub const EXAMPLES: &str = "\
Examples:
  flowmeter explain deployment tag:v1.4.0
  flowmeter explain deployment 'branch:production:3f2a9c1d0b7e'
  flowmeter explain commit 3f2a9c1               # a prefix is enough
  flowmeter explain commit 3f2a9c1 --format json";

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    #[command(subcommand)]
    pub what: What,
    /// Output format.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub format: crate::cmd::analyze::ReportFormat,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// What a deployment shipped, its batch, failure signals and recovery.
    Deployment {
        /// The deployment_id (see `deployment_stats`).
        id: String,
    },
    /// When a commit reached each environment, and its lead time.
    Commit {
        /// A sha or a prefix of one (4+ characters).
        sha: String,
    },
}

fn t(us: Option<i64>) -> String {
    us.map(|v| fmt_time(v, TimeUnit::Microseconds))
        .unwrap_or_else(|| "-".into())
}

fn span(s: Option<i64>) -> String {
    s.map(fmt_span).unwrap_or_else(|| "-".into())
}

pub fn run(global: &GlobalOpts, args: ExplainArgs) -> Result<ExitCode> {
    let store = Store::open(&global.data)?;
    let config = crate::cmd::analyze::ensure_fresh(global, &store)?;
    let json = matches!(args.format, crate::cmd::analyze::ReportFormat::Json);
    let mut out = String::new();
    match args.what {
        What::Deployment { id } => {
            let found = explain_deployment(&store, &id)?;
            if json {
                out = serde_json::to_string_pretty(&found)? + "\n";
            }
            for d in found.iter().filter(|_| !json) {
                writeln!(
                    out,
                    "deployment {} ({} to {}, {})",
                    d.deployment_id, d.repo, d.environment, d.source
                )?;
                writeln!(out, "  sha          {}", d.sha)?;
                writeln!(
                    out,
                    "  deployed_at  {}  status {}",
                    t(Some(d.deployed_at)),
                    d.status
                )?;
                if d.is_baseline {
                    writeln!(out, "  baseline     first observed deployment here: its {} commits of history are baseline, not its batch", d.baseline_commits)?;
                } else if d.baseline_commits > 0 {
                    writeln!(out, "  baseline     {} commits fast-forwarded onto the branch before it: arrival unknown, not its batch", d.baseline_commits)?;
                }
                if let Some(n) = &d.note {
                    writeln!(out, "  note         {n}")?;
                }
                writeln!(
                    out,
                    "  batch        {} commits (non-merge), {} PRs, +{} -{} lines, {} files",
                    d.batch_commits,
                    d.batch_prs,
                    d.batch_additions,
                    d.batch_deletions,
                    d.batch_files
                )?;
                let mut kinds = vec![];
                if d.is_rollback {
                    kinds.push("rollback (deploys an ancestor of the live sha; ships nothing)");
                }
                if d.is_roll_forward {
                    writeln!(out, "  roll-forward redeploys a descendant of the live sha that shipped before: ships nothing, not rework")?;
                }
                if d.status == "failure" || d.status == "error" {
                    writeln!(out, "  not shipped  its own status is {}: its commits ship with the next successful deployment here", d.status)?;
                }
                if d.is_hotfix {
                    kinds.push("hotfix");
                }
                if d.is_rework && !d.is_rollback && !d.is_hotfix {
                    kinds.push("ships a revert");
                }
                if !kinds.is_empty() {
                    writeln!(out, "  rework       {}", kinds.join(", "))?;
                }
                if let (Some(class), Some(why)) = (&d.evidence.trigger, &d.trigger_reason) {
                    writeln!(out, "  trigger      {class}: {why}")?;
                }
                if d.evidence.incidents > 0 {
                    writeln!(
                        out,
                        "  defects      {} incident(s), severity weight {}",
                        d.evidence.incidents, d.evidence.defect_weight
                    )?;
                }
                match d.evidence.tests_passed {
                    Some(true) => writeln!(out, "  tests        passed on what it shipped")?,
                    Some(false) => writeln!(out, "  tests        did not pass on what it shipped")?,
                    None => {}
                }
                if d.failed {
                    writeln!(out, "  failed       yes, because:")?;
                    for r in &d.failure_reasons {
                        writeln!(out, "    - {r}")?;
                    }
                    writeln!(
                        out,
                        "  recovered    {} (after {})",
                        t(d.recovered_at),
                        span(d.recovery_s)
                    )?;
                    let e = &d.evidence;
                    match (&e.detector, &e.detected_by) {
                        (Some(who), Some(signal)) => writeln!(
                            out,
                            "  detection    detected {} after, by {who} (signal: {signal})",
                            span(e.time_to_detect_s)
                        )?,
                        _ => writeln!(
                            out,
                            "  detection    unknown: every signal came before the deployment"
                        )?,
                    }
                    if e.time_to_restore_s.is_some() {
                        writeln!(
                            out,
                            "  restoration  restored {} after detection",
                            span(e.time_to_restore_s)
                        )?;
                    }
                    if let Some(j) = &e.restored_by {
                        writeln!(
                            out,
                            "  remedy       undone by {j} ({})",
                            e.restored_by_trigger
                                .as_deref()
                                .unwrap_or("trigger unknown")
                        )?;
                    }
                } else {
                    writeln!(out, "  failed       no signal fired")?;
                }
                writeln!(out, "  shipped:")?;
                for c in &d.shipped {
                    writeln!(
                        out,
                        "    {} {:<40} {:<12} lead {}{}{}{}",
                        &c.sha[..c.sha.len().min(12)],
                        c.summary.chars().take(40).collect::<String>(),
                        c.author.chars().take(12).collect::<String>(),
                        span(c.lead_time_s),
                        c.pr_number
                            .map(|p| format!("  PR #{p}"))
                            .unwrap_or_default(),
                        if c.is_merge { "  (merge)" } else { "" },
                        c.anomaly
                            .as_ref()
                            .map(|a| format!("  [{a}]"))
                            .unwrap_or_default(),
                    )?;
                }
            }
        }
        What::Commit { sha } => {
            let order: Vec<String> = config.environments.iter().map(|e| e.name.clone()).collect();
            let found = explain_commit(&store, &sha, &order)?;
            if json {
                out = serde_json::to_string_pretty(&found)? + "\n";
            }
            for c in found.iter().filter(|_| !json) {
                writeln!(out, "commit {} ({})", c.sha, c.repo)?;
                writeln!(out, "  {}", c.summary)?;
                writeln!(
                    out,
                    "  author {}, authored {}, committed {}",
                    c.author,
                    t(c.authored_at),
                    t(c.committed_at)
                )?;
                if let Some(r) = &c.reverts {
                    writeln!(out, "  reverts {r}")?;
                }
                if c.arrivals.is_empty() {
                    writeln!(out, "  has not reached any configured environment")?;
                }
                for a in &c.arrivals {
                    if a.is_baseline {
                        writeln!(
                            out,
                            "  {:<14} baseline (before the first observed deployment there)",
                            a.environment
                        )?;
                    } else {
                        writeln!(
                            out,
                            "  {:<14} {} by {}, lead time {}{}",
                            a.environment,
                            t(a.deployed_at),
                            a.deployment_id.as_deref().unwrap_or("-"),
                            span(a.lead_time_s),
                            a.anomaly
                                .as_ref()
                                .map(|x| format!(" [{x}: excluded from lead time]"))
                                .unwrap_or_default()
                        )?;
                    }
                }
                if let Some(p) = &c.pr {
                    writeln!(
                        out,
                        "  PR #{} {}",
                        p.number,
                        p.title.as_deref().unwrap_or("")
                    )?;
                    writeln!(
                        out,
                        "    coding {}  pickup {}  review {}  waiting for deploy {}",
                        span(p.coding_s),
                        span(p.pickup_s),
                        span(p.review_s),
                        span(p.waiting_s)
                    )?;
                }
            }
        }
    }
    emit(None, out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

//! flowmeter's analysis: pure functions from store tables (and the config) to
//! derived tables and metrics.
//!
//! This crate never touches git, the network or the terminal: everything it
//! knows comes from [`flowmeter_store`] tables, so rerunning it on the same store
//! gives the same answer. [`analyze`] runs the named [`STAGES`] in order
//! (deployments → deployment_commits → changes → deployment_stats), each
//! rewriting its own derived table; [`metrics()`] turns those into DORA metrics
//! per period; [`explain_deployment`] and [`explain_commit`] give the audit
//! trail behind every number.
//!
//! ```
//! use flowmeter_analysis::{analyze, metrics, Config, MetricsOptions};
//! use flowmeter_store::{Store, COMMITS};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path())?;
//! assert_eq!(store.read(&COMMITS)?.height(), 0);
//! let config = Config::default_for_repos();
//! let guard = store.lock(None, |_| {})?;
//! let report = analyze(&guard, &config)?;
//! assert_eq!(report.stages.len(), 8);
//! let m = metrics(&store, &config, &MetricsOptions::default())?;
//! assert!(m.periods.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod error;
mod explain;
mod flow;
mod frame;
mod fresh;
mod init;
mod inputs;
mod metrics;
mod pipeline;
mod tiers;
// The risk engineer's modules (stats, risk, whatif, compare) go here.

pub use config::{parse_duration, Config, Environment, Failure, LeadTimeStart, Pattern, Signals};
pub use error::{Error, Result};
pub use explain::{
    explain_commit, explain_deployment, Arrival, CommitExplain, DeploymentExplain, PrBreakdown,
    ShippedCommit,
};
pub use flow::{
    arrivals_frame, compute as compute_flow, drift_frame, flow_report, misalignments_frame,
    promotions_frame, summarize as summarize_flow, ArrivalRow, DriftRow, DwellStat, Finding, Flow,
    FlowOptions, FlowReport, Promotion, StageShare, TipDrift, Train, TrainSummary, TrainWait,
};
pub use fresh::{fingerprint, is_fresh, mark_fresh, FINGERPRINT_FILE};
pub use init::guess_config;
pub use inputs::Inputs;
pub use metrics::{
    metrics, period_of, quantile, By, Metrics, MetricsOptions, MetricsSummary, PeriodMetrics,
    DEFINITIONS, LOW_CONFIDENCE_BELOW,
};
pub use pipeline::{
    analyze, fmt_span, map_commits, resolve_deployments, AnalyzeReport, Deploy, Shipped,
    StageReport, STAGES,
};
pub use tiers::{tier, Threshold, THRESHOLDS, YEARS};

pub use flowmeter_store as store;

mod compare;
mod risk;
mod stats;
mod whatif;

pub use compare::*;
pub use risk::*;
pub use stats::*;
pub use whatif::*;

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
//! assert_eq!(report.stages.len(), 11);
//! let m = metrics(&store, &config, &MetricsOptions::default())?;
//! assert!(m.periods.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod deploy;
/// The numbers behind the monthly report and the deck.
pub mod digest;
mod error;
mod explain;
mod flow;
mod frame;
mod fresh;
mod init;
mod inputs;
mod mapping;
mod metrics;
mod pipeline;
/// The DORA 2025 benchmarks: the dora.dev Quick Check's scores and population means.
pub mod quickcheck;
pub mod safety;
mod tiers;
// Risk versus batch size, what-if cadences, before/after.
mod compare;
mod risk;
/// Quantiles, Wilson intervals, logistic regression, Mann–Whitney U and a
/// seeded bootstrap, as used by `risk`, `whatif` and `compare`.
pub mod stats;
mod whatif;

pub use config::{
    parse_config, parse_duration, Config, Environment, Failure, LeadTimeStart, Pattern,
    ProcessChange, Signals,
};
pub use deploy::{fast_forward_warnings, resolve_deployments, Deploy, Resolved};
pub use error::{Error, Result};
pub use explain::{
    explain_commit, explain_deployment, Arrival, CommitExplain, DeploymentExplain, PrBreakdown,
    ShippedCommit,
};
pub use flow::{
    arrivals_frame, compute as compute_flow, drift_frame, flow_report, misalignments_frame,
    promotions_frame, ArrivalRow, DriftRow, DriftSummary, DwellStat, Finding, Flow, FlowOptions,
    FlowReport, KindCount, Promotion, StageShare, TipDrift, TrainSummary, TrainWait,
};
pub use fresh::{fingerprint, is_fresh, mark_fresh, FINGERPRINT_FILE};
pub use init::guess_config;
pub use inputs::Inputs;
pub use mapping::{map_commits, Shipped};
pub use metrics::{
    metrics, period_of, By, Metrics, MetricsOptions, MetricsSummary, PeriodMetrics,
    QuickCheckSource, DEFINITIONS, LOW_CONFIDENCE_BELOW, SCORE_COLUMNS,
};
pub use pipeline::{analyze, fmt_span, AnalyzeReport, StageReport, STAGES};
pub use quickcheck::{quick_check, Population, QuickCheck};
pub use safety::{safety_net, safety_rows, NetOptions, SafetyNet, SafetyRow};
pub use tiers::{
    better, tier, tier_bands, tier_bounds, tier_limits, Better, Limit, Threshold, Tier, TierBand,
    TierLimit, THRESHOLDS, YEARS,
};

pub use compare::{
    compare, parse_period, shipped_changes, CompareOptions, CompareReport, CompareRow, Period,
    ShippedChange,
};
pub use risk::{
    production_deployments, risk_buckets, risk_fit, risk_report, Deployment, Measure, RiskBucket,
    RiskFit, RiskReport, MIN_DEPLOYMENTS, MIN_FAILURES,
};
pub use stats::{
    quantile, quantile_sorted, BootstrapCi, LogisticFit, MannWhitney, RiskError, SplitMix64,
};
pub use whatif::{
    arrival_times, check_current, default_branch_arrivals, mainline_arrivals, merge_commits,
    parse_delay, predict_failures, release_at_or_after, replay, whatif, whatif_from_store, Cadence,
    CurrentCheck, Estimate, MainlineChange, Replay, WhatIfOptions, WhatIfReport, WhatIfRow,
    MONTH_DAYS,
};

pub use flowmeter_store as store;

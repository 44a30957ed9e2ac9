//! flowmeter's integration tests: one binary, one module per area, so polars
//! is linked once.

mod common;
mod consistency;
mod crash;
mod demo;
mod deploy_rules;
mod dora;
mod failures;
mod flow;
mod git_ingest;
mod github;
mod layout;
mod no_panic;
mod readme;
mod report;
mod risk;
mod safety;
mod sql;

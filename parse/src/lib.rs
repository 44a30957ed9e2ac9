//! Every parser flowmeter runs on bytes someone else controls, in one crate
//! that does not link polars:
//!
//! - `git`: commit objects, pack files and indexes, and the revert and
//!   cherry-pick trailers in commit messages;
//! - `config`: `flowmeter.toml`;
//! - `logs`: deployment and incident logs (CSV or JSON);
//! - `github`: GitHub's REST and GraphQL payloads.
//!
//! Keeping them here lets `fuzz/` build its targets in about a minute
//! instead of the 15–25 a polars link costs (`fuzz/README.md`). The crates
//! that store what these return (ingest, analysis) only turn their typed
//! rows into frames.

pub mod config;
pub mod git;
pub mod github;
pub mod logs;

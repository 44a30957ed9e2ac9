//! flowmeter's ingestors. Each reads one kind of source and writes base tables
//! through [`flowmeter_store`]; none of them draws on a terminal.
//!
//! - [`file`]: deployment and incident logs (CSV or JSON), checked whole
//!   before anything is written.
//! - [`git`]: branches, tags and commits of a local repository, with diff
//!   stats against the first parent computed in parallel (one libgit2 handle
//!   per rayon worker), revert and cherry-pick links, and a patch id.
//! - [`github`]: merged pull requests, deployments, releases, tags, Actions
//!   runs and incident issues from the GitHub API (octocrab), incrementally.
//!
//! ```no_run
//! use flowmeter_ingest::git::{ingest_git, GitOptions, NoProgress};
//! use flowmeter_store::Store;
//!
//! let store = Store::open(".flowmeter")?;
//! let guard = store.lock(None, |_| eprintln!("waiting for another writer"))?;
//! let opts = GitOptions { name: "api".into(), extra_refs: vec![], stats: true, threads: 0 };
//! let report = ingest_git(&guard, "path/to/api".as_ref(), &opts, &NoProgress)?;
//! println!("{} new commits", report.commits_new);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod file;
pub mod git;
pub mod github;

pub use error::{Error, Result};

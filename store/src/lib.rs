//! The Parquet data contract of flowmeter.
//!
//! Every table flowmeter writes is declared in [`schema`] with its columns and
//! types. [`Store`] reads and writes those tables under a data directory laid
//! out hive-style (`commits/repo=<name>/part-*.parquet`), so DuckDB, Spark or
//! polars can read the same files. Writes are atomic (a temporary file, then a
//! rename), go through a [`WriteGuard`] that holds the store's writer lock, and
//! are checked against the schema. A store records its schema version and
//! refuses to mix versions.
//!
//! ```
//! use flowmeter_store::{Store, REFS};
//! use polars::prelude::*;
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path())?;
//! // A fresh store reads every table as empty, with its schema.
//! assert_eq!(store.read(&REFS)?.height(), 0);
//!
//! let guard = store.lock(None, |_| {})?;
//! let refs = df!(
//!     "repo" => ["acme/api"], "name" => ["main"], "kind" => ["branch"],
//!     "sha" => ["2c9f..."], "tagged_at" => [None::<i64>], "observed_at" => [Some(0i64)],
//! )?;
//! guard.replace(&REFS, Some("acme/api"), refs)?;
//! assert_eq!(store.read(&REFS)?.height(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod schema;
mod store;

pub use error::{Error, Result};
pub use schema::{
    table, ColType, TableDef, TableKind, ANALYSIS_NOTES, CHANGES, COMMITS, DEPLOYMENTS,
    DEPLOYMENT_COMMITS, DEPLOYMENT_STATS, DRIFT_DAILY, ENV_ARRIVALS, INCIDENTS, MISALIGNMENTS,
    PROMOTIONS, PULL_REQUESTS, REFS, REF_HISTORY, RELEASES, REPOS, SCHEMA_VERSION, SYNC_STATE,
    TABLES, TIP_DRIFT, TRAIN_WAITS, WORKFLOW_RUNS,
};
pub use store::{
    conform, decode_partition, encode_partition, write_atomic, Store, WriteGuard, FINGERPRINT_FILE,
    NULL_PARTITION,
};

/// Re-exported so that downstream crates use the same polars.
pub use polars;

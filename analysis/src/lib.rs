//! flowmeter's analysis: pure functions from store tables (and the config) to
//! derived tables and metrics, written as polars lazy pipelines.
//!
//! This crate never touches git, the network or the terminal: everything it
//! knows comes from [`flowmeter_store`] tables, so rerunning it on the same store
//! gives the same answer.
//!
//! ```
//! use flowmeter_store::{Store, COMMITS};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path())?;
//! let commits = store.read(&COMMITS)?;
//! assert_eq!(commits.height(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use flowmeter_store as store;

mod compare;
mod risk;
mod stats;
mod whatif;

pub use compare::*;
pub use risk::*;
pub use stats::*;
pub use whatif::*;

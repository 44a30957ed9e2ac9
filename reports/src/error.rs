//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while drawing or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// plotters failed to draw a chart.
    #[error("drawing chart `{chart}`: {message}")]
    Draw { chart: String, message: String },
    /// Writing an output file failed.
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Serialising the JSON summary failed.
    #[error("serialising JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

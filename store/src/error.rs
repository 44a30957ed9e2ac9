use std::path::PathBuf;

/// Everything that can go wrong reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a readable Parquet file (corrupt or truncated?): {source}; {hint}", path.display())]
    Corrupt {
        path: PathBuf,
        /// How to get the table back: rerun what writes it.
        hint: String,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error(
        "{} was written with store schema version {found}, this flowmeter reads version {expected}; \
         re-ingest into a new data directory (--data DIR) or use a matching flowmeter"
    , path.display())]
    SchemaVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("{} exists but is not a flowmeter store (no flowmeter.json inside, and it is not empty)", path.display())]
    NotAStore { path: PathBuf },
    #[error("table `{table}`: {message}")]
    Schema { table: String, message: String },
    #[error("unknown table `{0}`")]
    UnknownTable(String),
    #[error("{context}: {source}")]
    Polars {
        context: String,
        #[source]
        source: polars::error::PolarsError,
    },
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) trait IoContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

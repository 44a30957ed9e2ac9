/// Everything analysis can fail on. Each variant names the file, line, key,
/// table or id at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] flowmeter_store::Error),
    #[error("{context}: {source}")]
    Polars {
        context: String,
        #[source]
        source: polars::error::PolarsError,
    },
    /// A malformed `flowmeter.toml`: the file, the 1-based line and the key.
    #[error(transparent)]
    Config(#[from] flowmeter_parse::config::ConfigError),
    #[error("{what} `{id}` not found{hint}")]
    NotFound {
        what: &'static str,
        id: String,
        hint: String,
    },
    #[error("{0}")]
    Invalid(String),
    /// The statistics (risk, what-if, compare) could not answer.
    #[error(transparent)]
    Stats(#[from] crate::stats::RiskError),
}

/// The analysis result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn polars_err(
    context: impl Into<String>,
) -> impl FnOnce(polars::error::PolarsError) -> Error {
    let context = context.into();
    move |source| Error::Polars { context, source }
}

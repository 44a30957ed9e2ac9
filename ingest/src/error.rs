use std::path::PathBuf;

/// Everything ingestion can fail on. Each variant names the file, repo or ref at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] flowmeter_store::Error),
    #[error("{}: not a git repository (no .git directory or bare repository there)", path.display())]
    NotARepo { path: PathBuf },
    #[error("{}: the repository has no commits yet", path.display())]
    EmptyRepo { path: PathBuf },
    #[error(
        "{}: this is a shallow clone, so history is incomplete and every metric would be wrong; \
         run `git fetch --unshallow` first", path.display()
    )]
    Shallow { path: PathBuf },
    /// libgit2's message is part of the text (it is not kept as a source, so
    /// that `{:#}` does not print it twice).
    #[error("{}: {context}: {message}", path.display())]
    Git {
        path: PathBuf,
        context: String,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("{context}: {source}")]
    Polars {
        context: String,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error("invalid ref glob `{glob}`: {source}")]
    Glob {
        glob: String,
        #[source]
        source: globset::Error,
    },
    #[error(transparent)]
    Github(#[from] crate::github::GithubError),
}

/// The ingest result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps a polars error with what was being done.
pub(crate) fn polars_err(
    context: impl Into<String>,
) -> impl Fn(polars::error::PolarsError) -> Error {
    let context = context.into();
    move |source| Error::Polars {
        context: context.clone(),
        source,
    }
}

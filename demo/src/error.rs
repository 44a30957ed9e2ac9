//! The demo's one error type: what failed, with the path or repository it
//! was doing.

/// Everything generating the demo can fail on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--out` is a non-empty directory that the demo did not make.
    #[error("{0}")]
    NotADemoDir(String),
    /// A step failed: `context` says which and on what path.
    #[error("{context}: {source}")]
    Step {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Git(#[from] git2::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
}

/// The demo's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `with_context` for any error: wraps it in [`Error::Step`].
pub(crate) trait Context<T> {
    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Context<T> for std::result::Result<T, E> {
    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T> {
        self.map_err(|e| Error::Step {
            context: f(),
            source: Box::new(e),
        })
    }
}

//! What a GitHub ingest can fail on. Every message names the endpoint at fault
//! and has had the token's value scrubbed out before it was built.

/// A failure talking to the GitHub API.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// The request could not be sent or the answer not read, after retries.
    #[error("{endpoint}: request failed after {attempts} attempts: {message}")]
    Transport {
        endpoint: String,
        attempts: u32,
        message: String,
    },
    /// GitHub answered with an error status that retrying cannot fix.
    #[error("{endpoint}: GitHub answered {status}: {message}")]
    Status {
        endpoint: String,
        status: u16,
        message: String,
    },
    /// The body was not the JSON the endpoint documents (malformed or truncated).
    #[error(
        "{endpoint}: the response is not the expected JSON (malformed or truncated?): {message}"
    )]
    Json { endpoint: String, message: String },
    /// A GraphQL query came back with errors.
    #[error("{endpoint}: GraphQL errors: {message}")]
    Graphql { endpoint: String, message: String },
    /// A `Link` header pointed at another host; following it would send the token there.
    #[error("{endpoint}: refusing to follow a pagination link to another host ({link}); the token is only sent to {base}")]
    ForeignLink {
        endpoint: String,
        link: String,
        base: String,
    },
    /// Bad options: the API URL, a repository name, a glob.
    #[error("{0}")]
    Config(String),
}

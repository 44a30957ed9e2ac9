//! The HTTP layer: octocrab for transport and auth, with our own retry, rate
//! limit and pagination handling so that every wait can be reported and every
//! request counted.
//!
//! Requests always go out with a relative path (`/repos/...`). octocrab then
//! joins it to the base URL and attaches the token; it only attaches the token
//! to relative URIs, and we refuse `Link` URLs that point at another host, so
//! the token is never sent anywhere but the configured API.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT};
use http::{StatusCode, Uri};
use octocrab::secrecy::{ExposeSecret, SecretString};
use octocrab::service::middleware::retry::RetryConfig;
use octocrab::Octocrab;
use serde::de::DeserializeOwned;

use super::error::GithubError;

type Result<T, E = GithubError> = std::result::Result<T, E>;

/// The longest a rate-limit wait may be (GitHub's windows are one hour).
const MAX_RATE_WAIT: Duration = Duration::from_secs(3660);
/// How long to wait on a 429 or secondary limit that names no time.
const DEFAULT_RATE_WAIT: Duration = Duration::from_secs(60);

/// Retry policy for server errors and transport failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt (5xx and transport errors only).
    pub max_retries: u32,
    /// The first backoff; it doubles on each retry.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            backoff: Duration::from_millis(500),
        }
    }
}

pub(crate) struct Client {
    rest: Octocrab,
    graphql: Octocrab,
    /// `scheme://authority` of the API, for checking `Link` URLs.
    origin: String,
    /// The API base as given (for messages and the `repos` table).
    base: String,
    secret: Option<SecretString>,
    retry: RetryPolicy,
    requests: AtomicU64,
}

/// A JSON body and the relative path of the next page, if any.
pub(crate) struct Page<T> {
    pub body: T,
    pub next: Option<String>,
}

impl Client {
    pub fn new(api_url: &str, token: Option<&SecretString>, retry: RetryPolicy) -> Result<Client> {
        let trimmed = api_url.trim_end_matches('/');
        let uri: Uri = trimmed
            .parse()
            .map_err(|e| GithubError::Config(format!("--api-url `{trimmed}` is not a URL: {e}")))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(GithubError::Config(format!(
                "--api-url `{trimmed}` needs a scheme and host, like https://api.github.com or https://ghe.example.com/api/v3"
            )));
        };
        let origin = format!("{scheme}://{authority}");
        // GitHub Enterprise Server serves REST under /api/v3 and GraphQL at /api/graphql.
        let graphql_base = match trimmed.strip_suffix("/v3") {
            Some(api) if api.ends_with("/api") => api.to_string(),
            _ => trimmed.to_string(),
        };
        let build = |base: &str| -> Result<Octocrab> {
            let mut b = Octocrab::builder()
                .base_uri(base)
                .map_err(|e| GithubError::Config(format!("--api-url `{base}`: {e}")))?
                .add_retry_config(RetryConfig::None)
                .set_connect_timeout(Some(Duration::from_secs(15)))
                .set_read_timeout(Some(Duration::from_secs(90)));
            if let Some(t) = token {
                b = b.personal_token(t.clone());
            }
            b.build()
                .map_err(|e| GithubError::Config(format!("building the HTTP client: {e}")))
        };
        Ok(Client {
            rest: build(trimmed)?,
            graphql: build(&graphql_base)?,
            origin,
            base: trimmed.to_string(),
            secret: token.cloned(),
            retry,
            requests: AtomicU64::new(0),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Removes the token's value from a message.
    pub fn redact(&self, s: impl Into<String>) -> String {
        let s = s.into();
        match &self.secret {
            Some(t) if !t.expose_secret().is_empty() => s.replace(t.expose_secret(), "[redacted]"),
            _ => s,
        }
    }

    /// GET `path` (relative, with query) and parse the body as `T`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        notice: &(dyn Fn(&str) + Sync),
    ) -> Result<Page<T>> {
        let endpoint = format!("GET {path}");
        let (_, headers, text) = self.send(&endpoint, path, None, None, notice).await?;
        self.page(&endpoint, &headers, &text)
    }

    /// A conditional GET: `None` when the server answers 304 Not Modified to
    /// `If-None-Match: etag` (which costs no rate-limit quota); otherwise the
    /// page and its `ETag`.
    pub async fn get_if_changed<T: DeserializeOwned>(
        &self,
        path: &str,
        etag: Option<&str>,
        notice: &(dyn Fn(&str) + Sync),
    ) -> Result<Option<(Page<T>, Option<String>)>> {
        let endpoint = format!("GET {path}");
        let (status, headers, text) = self.send(&endpoint, path, None, etag, notice).await?;
        if status == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let etag = header(&headers, "etag").map(str::to_owned);
        Ok(Some((self.page(&endpoint, &headers, &text)?, etag)))
    }

    fn page<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        headers: &HeaderMap,
        text: &str,
    ) -> Result<Page<T>> {
        let body = self.parse(endpoint, text)?;
        let next = match headers.get("link").and_then(|v| v.to_str().ok()) {
            Some(link) => match next_link(link) {
                Some(url) => Some(self.relative(endpoint, &url)?),
                None => None,
            },
            None => None,
        };
        Ok(Page { body, next })
    }

    /// POST a GraphQL query; returns `data` or an error naming the endpoint.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        query: &serde_json::Value,
        notice: &(dyn Fn(&str) + Sync),
    ) -> Result<T> {
        let endpoint = "POST /graphql".to_string();
        #[derive(serde::Deserialize)]
        struct Answer<T> {
            data: Option<T>,
            #[serde(default)]
            errors: Vec<GqlError>,
        }
        #[derive(serde::Deserialize)]
        struct GqlError {
            message: String,
            #[serde(rename = "type")]
            kind: Option<String>,
        }
        loop {
            let (_, headers, text) = self
                .send(&endpoint, "/graphql", Some(query), None, notice)
                .await?;
            let answer: Answer<T> = self.parse(&endpoint, &text)?;
            if answer.errors.is_empty() {
                return answer.data.ok_or_else(|| GithubError::Graphql {
                    endpoint,
                    message: "the answer has neither data nor errors".into(),
                });
            }
            // GraphQL reports its primary limit as a 200 with a RATE_LIMITED error.
            if answer
                .errors
                .iter()
                .any(|e| e.kind.as_deref() == Some("RATE_LIMITED"))
            {
                let wait = reset_wait(&headers).unwrap_or(DEFAULT_RATE_WAIT);
                notice(&format!(
                    "rate limited on {endpoint} (RATE_LIMITED): waiting {}s for the limit to reset",
                    wait.as_secs()
                ));
                tokio::time::sleep(wait).await;
                continue;
            }
            let message = answer
                .errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(GithubError::Graphql {
                endpoint,
                message: self.redact(message),
            });
        }
    }

    fn parse<T: DeserializeOwned>(&self, endpoint: &str, text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| GithubError::Json {
            endpoint: endpoint.to_string(),
            message: self.redact(e.to_string()),
        })
    }

    /// Turns a `Link` URL into a relative path, refusing other hosts.
    fn relative(&self, endpoint: &str, url: &str) -> Result<String> {
        let foreign = || GithubError::ForeignLink {
            endpoint: endpoint.to_string(),
            link: url.to_string(),
            base: self.origin.clone(),
        };
        let uri: Uri = url.parse().map_err(|_| foreign())?;
        if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
            if format!("{scheme}://{authority}") != self.origin {
                return Err(foreign());
            }
        }
        Ok(uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()))
    }

    /// Sends one request with retries for 5xx and transport errors (bounded)
    /// and waits for rate limits (unbounded in count, each wait capped).
    async fn send(
        &self,
        endpoint: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        if_none_match: Option<&str>,
        notice: &(dyn Fn(&str) + Sync),
    ) -> Result<(StatusCode, HeaderMap, String)> {
        let mut retries = 0u32;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let failure = match self.once(path, body, if_none_match).await {
                Ok((status, headers, text)) => {
                    if let Some(wait) = rate_limit_wait(status, &headers, &text) {
                        notice(&format!(
                            "rate limited on {endpoint} ({status}): waiting {}s for the limit to reset",
                            wait.as_secs()
                        ));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if status.is_success() || status == StatusCode::NOT_MODIFIED {
                        return Ok((status, headers, text));
                    }
                    if !status.is_server_error() {
                        return Err(GithubError::Status {
                            endpoint: endpoint.to_string(),
                            status: status.as_u16(),
                            message: self.redact(github_message(&text)),
                        });
                    }
                    format!("GitHub answered {status}")
                }
                Err(message) => message,
            };
            if retries >= self.retry.max_retries {
                return Err(GithubError::Transport {
                    endpoint: endpoint.to_string(),
                    attempts: retries + 1,
                    message: failure,
                });
            }
            let wait = self.retry.backoff * 2u32.saturating_pow(retries);
            retries += 1;
            notice(&format!(
                "{endpoint}: {failure}; retry {retries}/{} in {:.1}s",
                self.retry.max_retries,
                wait.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: status, headers and body text, or a redacted transport error.
    async fn once(
        &self,
        path: &str,
        body: Option<&serde_json::Value>,
        if_none_match: Option<&str>,
    ) -> std::result::Result<(StatusCode, HeaderMap, String), String> {
        let response = match body {
            None => {
                let mut headers = HeaderMap::new();
                headers.insert(
                    ACCEPT,
                    HeaderValue::from_static("application/vnd.github+json"),
                );
                if let Some(v) = if_none_match.and_then(|e| HeaderValue::from_str(e).ok()) {
                    headers.insert(http::header::IF_NONE_MATCH, v);
                }
                self.rest._get_with_headers(path, Some(headers)).await
            }
            Some(b) => self.graphql._post(path, Some(b)).await,
        }
        .map_err(|e| self.redact(error_chain(&e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = self
            .rest
            .body_to_string(response)
            .await
            .map_err(|e| self.redact(format!("reading the body: {}", error_chain(&e))))?;
        Ok((status, headers, text))
    }
}

/// An error with its sources, one after the other.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(src) = cur {
        let m = src.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = src.source();
    }
    s
}

/// GitHub's `message` field from an error body, or the start of the body.
fn github_message(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(200).collect())
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Option<&'a str> {
    headers
        .get(HeaderName::from_static(name))
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// How long to wait when `status` and `headers` say we hit a rate limit:
/// 403 or 429 with `retry-after`, or with `x-ratelimit-remaining: 0` (then
/// until `x-ratelimit-reset`), or a bare 429, or a 403 whose message says
/// "secondary rate limit" without either header (GitHub asks for a minute).
pub(crate) fn rate_limit_wait(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    if let Some(secs) = header(headers, "retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs.max(1)).min(MAX_RATE_WAIT));
    }
    if header(headers, "x-ratelimit-remaining") == Some("0") {
        return Some(reset_wait(headers).unwrap_or(DEFAULT_RATE_WAIT));
    }
    let secondary = github_message(body)
        .to_ascii_lowercase()
        .contains("secondary rate limit");
    (status == StatusCode::TOO_MANY_REQUESTS || secondary).then_some(DEFAULT_RATE_WAIT)
}

/// The time until `x-ratelimit-reset` (epoch seconds), plus a second, capped.
fn reset_wait(headers: &HeaderMap) -> Option<Duration> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    header(headers, "x-ratelimit-reset")
        .and_then(|v| v.parse::<f64>().ok())
        .map(|reset| Duration::from_secs_f64((reset - now).max(0.0) + 1.0).min(MAX_RATE_WAIT))
}

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim();
        let url = url.strip_prefix('<')?.strip_suffix('>')?;
        pieces
            .any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| url.to_string())
    })
}

/// Percent-encodes a query value.
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next() {
        let link = "<https://api.github.com/resource?page=2>; rel=\"next\", <https://api.github.com/resource?page=5>; rel=\"last\"";
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/resource?page=2")
        );
        let last_only = "<https://api.github.com/resource?page=1>; rel=\"prev\", <https://api.github.com/resource?page=1>; rel=\"first\"";
        assert_eq!(next_link(last_only), None);
    }

    #[test]
    fn rate_limit_detection() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &h, ""), None);
        let forbidden = r#"{"message": "Resource not accessible by integration"}"#;
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &h, forbidden), None);
        let secondary = r#"{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h, secondary),
            Some(DEFAULT_RATE_WAIT)
        );
        assert_eq!(
            rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &h, ""),
            Some(DEFAULT_RATE_WAIT)
        );
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h, ""),
            Some(Duration::from_secs(7))
        );
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 2;
        h.insert("x-ratelimit-reset", HeaderValue::from(reset));
        let w = rate_limit_wait(StatusCode::FORBIDDEN, &h, "").unwrap();
        assert!(
            w >= Duration::from_secs(2) && w <= Duration::from_secs(4),
            "{w:?}"
        );
        assert_eq!(rate_limit_wait(StatusCode::OK, &h, ""), None);
        h.insert("x-ratelimit-reset", HeaderValue::from(reset + 100_000));
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h, ""),
            Some(MAX_RATE_WAIT)
        );
    }

    #[test]
    fn links_to_other_hosts_are_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _inside = rt.enter();
        let token = SecretString::from("s3cr3t-value");
        let c = Client::new(
            "http://127.0.0.1:9/api/v3",
            Some(&token),
            RetryPolicy::default(),
        )
        .unwrap();
        assert_eq!(
            c.relative("GET /x", "http://127.0.0.1:9/api/v3/x?page=2")
                .unwrap(),
            "/api/v3/x?page=2"
        );
        let err = c
            .relative("GET /x", "https://evil.example/x?page=2")
            .unwrap_err();
        assert!(err.to_string().contains("refusing"), "{err}");
        assert_eq!(c.redact("Bearer s3cr3t-value!"), "Bearer [redacted]!");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query("sev 1/high"), "sev%201%2Fhigh");
        assert_eq!(
            encode_query(">=2024-01-01T00:00:00Z"),
            "%3E%3D2024-01-01T00%3A00%3A00Z"
        );
    }
}

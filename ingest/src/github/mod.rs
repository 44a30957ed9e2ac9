//! GitHub into the store: merged pull requests, deployments with their latest
//! status, releases, tags, Actions runs of deploy workflows, and incident issues.
//!
//! The API is synchronous: [`ingest_github`] builds one tokio runtime and calls
//! `block_on` around the fetches, so nothing async leaks out of this module.
//! Each page is appended to the store as it arrives (a killed run keeps what
//! it wrote) and every table is compacted by key at the end of its resource,
//! so a rerun never leaves duplicates. High-water marks in `sync_state` make a
//! second run fetch only what changed.
//!
//! ```no_run
//! use flowmeter_ingest::github::{ingest_github, GithubOptions, NoProgress, SecretString};
//! use flowmeter_store::Store;
//!
//! let store = Store::open(".flowmeter")?;
//! let guard = store.lock(None, |_| {})?;
//! let opts = GithubOptions {
//!     token: std::env::var("GITHUB_TOKEN").ok().map(SecretString::from),
//!     ..GithubOptions::default()
//! };
//! let report = ingest_github(&guard, "rust-lang/cargo", &opts, &NoProgress)?;
//! println!("{} merged PRs in {} requests", report.pull_requests, report.requests);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod error;
mod frames;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use flowmeter_store::{
    WriteGuard, COMMITS, DEPLOYMENTS, INCIDENTS, PULL_REQUESTS, REFS, RELEASES, REPOS, SYNC_STATE,
    WORKFLOW_RUNS,
};
use globset::GlobBuilder;
use polars::prelude::*;
use regex::Regex;

pub use client::RetryPolicy;
pub use error::GithubError;
/// The token type: its `Debug` never shows the value.
pub use octocrab::secrecy::SecretString;

use client::{encode_query, Client};
use flowmeter_parse::github::graphql;
use flowmeter_parse::github::*;
use frames::*;

use crate::error::{Error, Result};

/// The public GitHub API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// PRs fetched in detail before their rows are written (REST strategy).
const PR_BATCH: usize = 25;
/// A deployment or run still in progress holds the mark back (so it is
/// fetched again next time) only when it is at most this much older than the
/// newest one; older stragglers would pin the mark forever.
const PENDING_LOOKBACK_US: i64 = 24 * 3600 * 1_000_000;

/// One kind of thing fetched from a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    PullRequests,
    Deployments,
    Releases,
    Tags,
    WorkflowRuns,
    Incidents,
}

impl Resource {
    pub const ALL: [Resource; 6] = [
        Resource::PullRequests,
        Resource::Deployments,
        Resource::Releases,
        Resource::Tags,
        Resource::WorkflowRuns,
        Resource::Incidents,
    ];

    /// The name used in progress messages, `--resources` and `sync_state`.
    pub fn name(self) -> &'static str {
        match self {
            Resource::PullRequests => "pull_requests",
            Resource::Deployments => "deployments",
            Resource::Releases => "releases",
            Resource::Tags => "tags",
            Resource::WorkflowRuns => "workflow_runs",
            Resource::Incidents => "incidents",
        }
    }

    pub fn from_name(s: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.name() == s)
    }
}

/// How merged pull requests are fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrApi {
    /// GraphQL when there is a token (GitHub's GraphQL API refuses anonymous
    /// requests), REST otherwise.
    Auto,
    /// List, then the PR, its commits and its reviews: 1 + 3 requests per PR.
    Rest,
    /// One request per 100 PRs.
    Graphql,
}

/// What to fetch and how.
#[derive(Debug, Clone)]
pub struct GithubOptions {
    /// The REST base URL: `https://api.github.com`, or `https://HOST/api/v3` for
    /// GitHub Enterprise Server (GraphQL is then at `https://HOST/api/graphql`).
    pub api_url: String,
    /// `None` makes anonymous requests (60 an hour on github.com).
    pub token: Option<SecretString>,
    /// Workflows whose name matches this glob (case-insensitive) are ingested:
    /// the deploy workflows.
    pub workflow: String,
    /// CI workflows whose runs are test evidence (`[tests] workflows`), also ingested.
    pub test_workflows: Vec<String>,
    /// Issues with any of these labels are incidents.
    pub incident_labels: Vec<String>,
    pub pr_api: PrApi,
    pub resources: Vec<Resource>,
    pub retry: RetryPolicy,
}

impl Default for GithubOptions {
    fn default() -> Self {
        GithubOptions {
            api_url: DEFAULT_API_URL.into(),
            token: None,
            workflow: "*deploy*".into(),
            test_workflows: vec![],
            incident_labels: vec!["incident".into()],
            pr_api: PrApi::Auto,
            resources: Resource::ALL.to_vec(),
            retry: RetryPolicy::default(),
        }
    }
}

/// Receives progress. No terminal code here: the caller decides how to show it.
pub trait Progress: Sync {
    /// `resource` of `repo` is starting.
    fn start(&self, _repo: &str, _resource: Resource) {}
    /// `n` more items of `resource` were fetched and written.
    fn fetched(&self, _repo: &str, _resource: Resource, _n: u64) {}
    /// `resource` is done, with `rows` rows written this run.
    fn done(&self, _repo: &str, _resource: Resource, _rows: u64) {}
    /// Something the user should know: a rate-limit wait, a retry.
    fn notice(&self, _repo: &str, _message: &str) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What one repository's ingest did.
#[derive(Debug, Clone, Default)]
pub struct GithubReport {
    pub repo: String,
    /// HTTP requests sent, retries and rate-limit repeats included.
    pub requests: u64,
    pub pr_api: Option<PrApi>,
    pub pull_requests: u64,
    pub deployments: u64,
    /// Deployment statuses left out because their `deployment_url` names another deployment.
    pub foreign_statuses: u64,
    pub releases: u64,
    /// The releases list answered 304 Not Modified to its stored ETag.
    pub releases_not_modified: bool,
    pub tags_new: u64,
    pub workflows_matched: u64,
    pub workflow_runs: u64,
    pub incidents: u64,
    /// Items of the issues list that are pull requests, not incidents.
    pub skipped_pull_requests: u64,
    /// The core REST quota before the run: (remaining, limit, reset as epoch
    /// seconds); `None` where the server has no `/rate_limit` (GHES with
    /// rate limiting off).
    pub rate_limit: Option<(i64, i64, i64)>,
    pub elapsed: Duration,
}

/// Checks an `OWNER/REPO` name.
pub fn parse_repo(spec: &str) -> Result<(String, String)> {
    let bad = || {
        Error::Github(GithubError::Config(format!(
            "`{spec}` is not OWNER/REPO (like rust-lang/cargo)"
        )))
    };
    let (owner, name) = spec.split_once('/').ok_or_else(bad)?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !ok(owner) || !ok(name) {
        return Err(bad());
    }
    Ok((owner.to_string(), name.to_string()))
}

/// Ingests one repository (`OWNER/REPO`, also its name in the store).
pub fn ingest_github(
    guard: &WriteGuard,
    repo: &str,
    opts: &GithubOptions,
    progress: &dyn Progress,
) -> Result<GithubReport> {
    let started = Instant::now();
    let (owner, name) = parse_repo(repo)?;
    let mut globs = globset::GlobSetBuilder::new();
    for g in std::iter::once(&opts.workflow).chain(&opts.test_workflows) {
        globs.add(
            GlobBuilder::new(g)
                .case_insensitive(true)
                .build()
                .map_err(|source| Error::Glob {
                    glob: g.clone(),
                    source,
                })?,
        );
    }
    let workflow_glob = globs.build().map_err(|source| Error::Glob {
        glob: opts.workflow.clone(),
        source,
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Github(GithubError::Config(format!("starting tokio: {e}"))))?;
    let mut job = Job {
        guard,
        repo,
        owner: &owner,
        name: &name,
        opts,
        progress,
        workflow_glob,
        client: None,
        report: GithubReport {
            repo: repo.to_string(),
            ..Default::default()
        },
        marks: HashMap::new(),
        etags: HashMap::new(),
        now: chrono::Utc::now().timestamp_micros(),
    };
    let result = runtime.block_on(job.run());
    if let Some(c) = &job.client {
        job.report.requests = c.requests();
    }
    job.report.elapsed = started.elapsed();
    result.map(|()| job.report)
}

struct Job<'a> {
    guard: &'a WriteGuard,
    repo: &'a str,
    owner: &'a str,
    name: &'a str,
    opts: &'a GithubOptions,
    progress: &'a dyn Progress,
    /// The deploy workflow and the test workflows.
    workflow_glob: globset::GlobSet,
    client: Option<Client>,
    report: GithubReport,
    marks: HashMap<String, i64>,
    etags: HashMap<String, String>,
    now: i64,
}

fn gh(e: GithubError) -> Error {
    Error::Github(e)
}

fn iso(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl Job<'_> {
    fn client(&self) -> &Client {
        self.client.as_ref().expect("client is built first")
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<client::Page<T>> {
        let repo = self.repo;
        let progress = self.progress;
        let notice = move |m: &str| progress.notice(repo, m);
        self.client().get(path, &notice).await.map_err(gh)
    }

    /// Every page of a list endpoint.
    async fn get_all<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Vec<T>> {
        let mut out = vec![];
        let mut next = Some(path.to_string());
        while let Some(p) = next {
            let page = self.get::<Vec<T>>(&p).await?;
            out.extend(page.body);
            next = page.next;
        }
        Ok(out)
    }

    async fn run(&mut self) -> Result<()> {
        self.client = Some(
            Client::new(
                &self.opts.api_url,
                self.opts.token.as_ref(),
                self.opts.retry,
            )
            .map_err(gh)?,
        );
        let store = self.guard.store();
        let state = store.read_repo(&SYNC_STATE, self.repo)?;
        let resources = state
            .column("resource")
            .map_err(polars("sync_state"))?
            .str()
            .map_err(polars("sync_state"))?
            .clone();
        let hwm = state
            .column("high_water_mark")
            .map_err(polars("sync_state"))?
            .datetime()
            .map_err(polars("sync_state"))?
            .physical()
            .clone();
        let etags = state
            .column("etag")
            .map_err(polars("sync_state"))?
            .str()
            .map_err(polars("sync_state"))?
            .clone();
        for ((r, m), e) in resources.iter().zip(hwm.iter()).zip(etags.iter()) {
            if let (Some(r), Some(m)) = (r, m) {
                self.marks.insert(r.to_string(), m);
            }
            if let (Some(r), Some(e)) = (r, e) {
                self.etags.insert(r.to_string(), e.to_string());
            }
        }

        // The quota (free to ask). A GHES with rate limiting off answers 404.
        match self.get::<RateLimit>("/rate_limit").await {
            Ok(page) => {
                let c = page.body.resources.core;
                self.report.rate_limit = Some((c.remaining, c.limit, c.reset));
            }
            Err(Error::Github(GithubError::Status { status: 404, .. })) => {}
            Err(e) => return Err(e),
        }
        // The repository itself: its default branch, and a clear error when it does not exist.
        let info = self
            .get::<Repository>(&format!("/repos/{}/{}", self.owner, self.name))
            .await?
            .body;
        let repos = df!(
            "repo" => [self.repo],
            "source" => ["github"],
            "location" => [format!("{}/repos/{}", self.client().base(), self.repo)],
            "default_branch" => [info.default_branch],
            "ingested_at" => [self.now],
            "commit_count" => [None::<i64>],
            "unreadable_blobs" => [None::<i64>],
        )
        .map_err(polars("repos"))?;
        self.guard
            .upsert(&REPOS, Some(self.repo), repos, &["repo", "source"])?;

        for r in Resource::ALL {
            if !self.opts.resources.contains(&r) {
                continue;
            }
            self.progress.start(self.repo, r);
            let rows = match r {
                Resource::PullRequests => self.pull_requests().await?,
                Resource::Deployments => self.deployments().await?,
                Resource::Releases => self.releases().await?,
                Resource::Tags => self.tags().await?,
                Resource::WorkflowRuns => self.workflow_runs().await?,
                Resource::Incidents => self.incidents().await?,
            };
            self.progress.done(self.repo, r, rows);
        }
        Ok(())
    }

    fn set_mark(&mut self, resource: &str, mark: Option<i64>) -> Result<()> {
        self.set_sync(resource, mark, None)
    }

    fn set_sync(&mut self, resource: &str, mark: Option<i64>, etag: Option<&str>) -> Result<()> {
        let Some(mark) = mark else { return Ok(()) };
        self.marks.insert(resource.to_string(), mark);
        let df = sync_frame(self.repo, resource, mark, etag, self.now)?;
        self.guard
            .upsert(&SYNC_STATE, Some(self.repo), df, &["resource"])?;
        Ok(())
    }

    fn fetched(&self, r: Resource, n: usize) {
        self.progress.fetched(self.repo, r, n as u64);
    }

    // ---- pull requests ----

    async fn pull_requests(&mut self) -> Result<u64> {
        let api = match self.opts.pr_api {
            PrApi::Auto if self.opts.token.is_some() => PrApi::Graphql,
            PrApi::Auto => PrApi::Rest,
            other => other,
        };
        self.report.pr_api = Some(api);
        let mark = self.marks.get("pull_requests").copied();
        let (rows, newest) = match api {
            PrApi::Graphql => self.prs_graphql(mark).await?,
            _ => self.prs_rest(mark).await?,
        };
        self.guard
            .compact(&PULL_REQUESTS, Some(self.repo), &["number"])?;
        self.report.pull_requests = rows;
        // Only a complete pass moves the mark: the list runs newest first, so
        // a run cut short must walk down to the old mark again.
        self.set_mark("pull_requests", newest.max(mark))?;
        Ok(rows)
    }

    async fn prs_rest(&mut self, mark: Option<i64>) -> Result<(u64, Option<i64>)> {
        let (o, n) = (self.owner, self.name);
        let mut next = Some(format!(
            "/repos/{o}/{n}/pulls?state=closed&sort=updated&direction=desc&per_page=100"
        ));
        let mut newest = None;
        let mut written = 0u64;
        while let Some(path) = next.take() {
            let page = self.get::<Vec<Pull>>(&path).await?;
            let mut stop = false;
            let mut merged = vec![];
            for p in page.body {
                let updated = micros(&p.updated_at);
                newest = newest.max(Some(updated));
                if mark.is_some_and(|m| updated < m) {
                    stop = true;
                    break;
                }
                if p.merged_at.is_some() {
                    merged.push(p);
                }
            }
            for chunk in merged.chunks(PR_BATCH) {
                let mut rows = Vec::with_capacity(chunk.len());
                for p in chunk {
                    let num = p.number;
                    let detail = self
                        .get::<Pull>(&format!("/repos/{o}/{n}/pulls/{num}"))
                        .await?
                        .body;
                    let commits = self
                        .get_all::<PullCommit>(&format!(
                            "/repos/{o}/{n}/pulls/{num}/commits?per_page=100"
                        ))
                        .await?;
                    let reviews = self
                        .get_all::<Review>(&format!(
                            "/repos/{o}/{n}/pulls/{num}/reviews?per_page=100"
                        ))
                        .await?;
                    rows.extend(PrRow::from_rest(p, Some(&detail), &commits, &reviews));
                }
                self.guard.append(
                    &PULL_REQUESTS,
                    Some(self.repo),
                    prs_frame(self.repo, &rows)?,
                )?;
                written += rows.len() as u64;
                self.fetched(Resource::PullRequests, rows.len());
            }
            if !stop {
                next = page.next;
            }
        }
        Ok((written, newest))
    }

    async fn prs_graphql(&mut self, mark: Option<i64>) -> Result<(u64, Option<i64>)> {
        let (o, n) = (self.owner, self.name);
        let mut cursor: Option<String> = None;
        let mut newest = None;
        let mut written = 0u64;
        loop {
            let query = serde_json::json!({
                "query": graphql::QUERY,
                "variables": { "owner": o, "name": n, "cursor": cursor },
            });
            let repo = self.repo;
            let progress = self.progress;
            let notice = move |m: &str| progress.notice(repo, m);
            let data: graphql::Data = self.client().graphql(&query, &notice).await.map_err(gh)?;
            let conn = data
                .repository
                .ok_or_else(|| {
                    gh(GithubError::Graphql {
                        endpoint: "POST /graphql".into(),
                        message: format!("repository {o}/{n} not found"),
                    })
                })?
                .pull_requests;
            let mut stop = false;
            let mut rows = vec![];
            for pr in &conn.nodes {
                let updated = micros(&pr.updated_at);
                newest = newest.max(Some(updated));
                if mark.is_some_and(|m| updated < m) {
                    stop = true;
                    break;
                }
                let commits = if pr.commits_truncated() {
                    let list = self
                        .get_all::<PullCommit>(&format!(
                            "/repos/{o}/{n}/pulls/{}/commits?per_page=100",
                            pr.number
                        ))
                        .await?;
                    Some(
                        list.iter()
                            .map(|c| (c.sha.clone(), c.authored_at()))
                            .collect(),
                    )
                } else {
                    None
                };
                rows.extend(pr.row(commits));
            }
            self.guard.append(
                &PULL_REQUESTS,
                Some(self.repo),
                prs_frame(self.repo, &rows)?,
            )?;
            written += rows.len() as u64;
            self.fetched(Resource::PullRequests, rows.len());
            if stop || !conn.page_info.has_next_page || conn.page_info.end_cursor.is_none() {
                break;
            }
            cursor = conn.page_info.end_cursor;
        }
        Ok((written, newest))
    }

    // ---- deployments ----

    async fn deployments(&mut self) -> Result<u64> {
        let (o, n) = (self.owner, self.name);
        let mark = self.marks.get("deployments").copied();
        let mut next = Some(format!("/repos/{o}/{n}/deployments?per_page=100"));
        let mut newest = None;
        let mut pending = vec![];
        let mut written = 0u64;
        while let Some(path) = next.take() {
            let page = self.get::<Vec<Deployment>>(&path).await?;
            let mut stop = false;
            let mut rows = vec![];
            for d in &page.body {
                let created = micros(&d.created_at);
                newest = newest.max(Some(created));
                if mark.is_some_and(|m| created < m) {
                    stop = true;
                    break;
                }
                let statuses = self
                    .get::<Vec<DeploymentStatus>>(&format!(
                        "/repos/{o}/{n}/deployments/{}/statuses?per_page=100",
                        d.id
                    ))
                    .await?
                    .body;
                let (row, foreign) = DeploymentRow::new(d, &statuses);
                self.report.foreign_statuses += foreign as u64;
                if row.status == "unknown" {
                    pending.push(row.created_at);
                }
                rows.push(row);
            }
            self.guard.append(
                &DEPLOYMENTS,
                Some(self.repo),
                deployments_frame(self.repo, &rows)?,
            )?;
            written += rows.len() as u64;
            self.fetched(Resource::Deployments, rows.len());
            if !stop {
                next = page.next;
            }
        }
        self.guard
            .compact(&DEPLOYMENTS, Some(self.repo), &["deployment_id", "source"])?;
        self.report.deployments = written;
        let mark = held_mark(newest.max(mark), &pending);
        self.set_mark("deployments", mark)?;
        Ok(written)
    }

    // ---- releases and tags (small: listed whole each run) ----

    /// Releases are listed whole, but conditionally: when the list fit on one
    /// page last time, its `ETag` is sent and a 304 (free of quota) ends it.
    async fn releases(&mut self) -> Result<u64> {
        let (o, n) = (self.owner, self.name);
        let first = format!("/repos/{o}/{n}/releases?per_page=100");
        let etag = self.etags.get("releases").cloned();
        let repo = self.repo;
        let progress = self.progress;
        let notice = move |m: &str| progress.notice(repo, m);
        let Some((mut page, new_etag)) = self
            .client()
            .get_if_changed::<Vec<Release>>(&first, etag.as_deref(), &notice)
            .await
            .map_err(gh)?
        else {
            self.report.releases_not_modified = true;
            return Ok(0);
        };
        // An ETag covers one page: keep it only when the whole list fit on it.
        let new_etag = new_etag.filter(|_| page.next.is_none());
        let mut written = 0u64;
        let mut newest = None;
        loop {
            newest = newest.max(
                page.body
                    .iter()
                    .filter_map(|r| r.created_at.as_ref())
                    .map(micros)
                    .max(),
            );
            self.guard.append(
                &RELEASES,
                Some(self.repo),
                releases_frame(self.repo, &page.body)?,
            )?;
            written += page.body.len() as u64;
            self.fetched(Resource::Releases, page.body.len());
            let Some(next) = page.next.take() else { break };
            page = self.get::<Vec<Release>>(&next).await?;
        }
        self.guard
            .compact(&RELEASES, Some(self.repo), &["release_id"])?;
        self.report.releases = written;
        self.set_sync(
            "releases",
            Some(newest.unwrap_or(self.now)),
            new_etag.as_deref(),
        )?;
        Ok(written)
    }

    /// Tags go to `refs` (kind `tag`), but never over a row that `ingest git`
    /// wrote: git knows the tag's date, the API does not.
    async fn tags(&mut self) -> Result<u64> {
        let (o, n) = (self.owner, self.name);
        let tags = self
            .get_all::<Tag>(&format!("/repos/{o}/{n}/tags?per_page=100"))
            .await?;
        self.fetched(Resource::Tags, tags.len());
        let existing = self.guard.store().read_repo(&REFS, self.repo)?;
        let mut known = HashSet::new();
        if let (Ok(names), Ok(kinds)) = (existing.column("name"), existing.column("kind")) {
            if let (Ok(names), Ok(kinds)) = (names.str(), kinds.str()) {
                for (nm, k) in names.iter().zip(kinds.iter()) {
                    if k == Some("tag") {
                        known.extend(nm.map(str::to_owned));
                    }
                }
            }
        }
        let new: Vec<Tag> = tags
            .into_iter()
            .filter(|t| !known.contains(&t.name))
            .collect();
        self.guard.append(
            &REFS,
            Some(self.repo),
            tags_frame(self.repo, &new, self.now)?,
        )?;
        self.report.tags_new = new.len() as u64;
        Ok(new.len() as u64)
    }

    // ---- Actions runs ----

    async fn workflow_runs(&mut self) -> Result<u64> {
        let (o, n) = (self.owner, self.name);
        let mut workflows = vec![];
        let mut next = Some(format!("/repos/{o}/{n}/actions/workflows?per_page=100"));
        while let Some(path) = next.take() {
            let page = self.get::<Workflows>(&path).await?;
            workflows.extend(page.body.workflows);
            next = page.next;
        }
        let matching: Vec<Workflow> = workflows
            .into_iter()
            .filter(|w| self.workflow_glob.is_match(&w.name))
            .collect();
        self.report.workflows_matched = matching.len() as u64;
        let mut written = 0u64;
        for wf in &matching {
            let key = format!("workflow_runs:{}", wf.id);
            let mark = self.marks.get(&key).copied();
            let mut path = format!(
                "/repos/{o}/{n}/actions/workflows/{}/runs?per_page=100",
                wf.id
            );
            if let Some(m) = mark {
                path.push_str(&format!(
                    "&created={}",
                    encode_query(&format!(">={}", iso(m)))
                ));
            }
            let mut next = Some(path);
            let mut newest = None;
            let mut pending = vec![];
            while let Some(path) = next.take() {
                let page = self.get::<Runs>(&path).await?;
                let runs = page.body.workflow_runs;
                for r in &runs {
                    let created = micros(&r.created_at);
                    newest = newest.max(Some(created));
                    if r.status.as_deref() != Some("completed") {
                        pending.push(created);
                    }
                }
                self.guard.append(
                    &WORKFLOW_RUNS,
                    Some(self.repo),
                    runs_frame(self.repo, &wf.name, &runs)?,
                )?;
                written += runs.len() as u64;
                self.fetched(Resource::WorkflowRuns, runs.len());
                next = page.next;
            }
            self.guard
                .compact(&WORKFLOW_RUNS, Some(self.repo), &["run_id"])?;
            let mark = held_mark(newest.max(mark), &pending);
            self.set_mark(&key, mark)?;
        }
        self.report.workflow_runs = written;
        Ok(written)
    }

    // ---- incidents ----

    async fn incidents(&mut self) -> Result<u64> {
        let (o, n) = (self.owner, self.name);
        let shas = known_shas(self.guard, self.repo)?;
        let mut written = 0u64;
        for label in &self.opts.incident_labels {
            let key = format!("incidents:{label}");
            let mark = self.marks.get(&key).copied();
            let mut path = format!(
                "/repos/{o}/{n}/issues?labels={}&state=all&sort=updated&direction=desc&per_page=100",
                encode_query(label)
            );
            if let Some(m) = mark {
                path.push_str(&format!("&since={}", encode_query(&iso(m))));
            }
            let mut next = Some(path);
            let mut newest = None;
            while let Some(path) = next.take() {
                let page = self.get::<Vec<Issue>>(&path).await?;
                let mut rows = vec![];
                for issue in &page.body {
                    newest = newest.max(Some(micros(&issue.updated_at)));
                    if issue.pull_request.is_some() {
                        self.report.skipped_pull_requests += 1;
                        continue;
                    }
                    rows.push(incident_row(issue, &shas));
                }
                self.guard.append(
                    &INCIDENTS,
                    Some(self.repo),
                    incidents_frame(self.repo, &rows)?,
                )?;
                written += rows.len() as u64;
                self.fetched(Resource::Incidents, rows.len());
                next = page.next;
            }
            self.guard
                .compact(&INCIDENTS, Some(self.repo), &["incident_id", "source"])?;
            self.set_mark(&key, newest.max(mark))?;
        }
        self.report.incidents = written;
        Ok(written)
    }
}

/// The mark to store: the oldest recent item still in progress (so that it
/// is fetched again), or the newest item seen.
fn held_mark(newest: Option<i64>, pending: &[i64]) -> Option<i64> {
    let newest = newest?;
    Some(
        pending
            .iter()
            .copied()
            .filter(|p| *p >= newest - PENDING_LOOKBACK_US)
            .min()
            .unwrap_or(newest),
    )
}

fn polars(table: &'static str) -> impl Fn(PolarsError) -> Error {
    move |source| Error::Polars {
        context: format!("reading {table}"),
        source,
    }
}

/// The full shas of the repo's commits in the store (from `ingest git
/// --name OWNER/REPO`), to expand abbreviated shas named in incidents.
fn known_shas(guard: &WriteGuard, repo: &str) -> Result<Vec<String>> {
    let df = guard.store().read_repo(&COMMITS, repo)?;
    let col = df.column("sha").map_err(polars("commits"))?;
    Ok(col
        .str()
        .map(|ca| ca.iter().flatten().map(str::to_owned).collect())
        .unwrap_or_default())
}

fn severity(labels: &[String]) -> Option<String> {
    let re = Regex::new(r"(?i)^(sev(erity)?[\s:/_-]*\w+|p[0-4])$").expect("valid regex");
    labels.iter().find(|l| re.is_match(l)).cloned()
}

/// The commit an incident's text names: a 7 to 40 digit hex word with at
/// least one digit and one letter (so neither "1234567" nor "defaced"). When
/// the store knows the repo's commits, a unique prefix match wins and is
/// expanded to the full sha.
pub(crate) fn caused_by_sha(text: &str, known: &[String]) -> Option<String> {
    let re = Regex::new(r"\b[0-9a-fA-F]{7,40}\b").expect("valid regex");
    let candidates: Vec<String> = re
        .find_iter(text)
        .map(|m| m.as_str().to_ascii_lowercase())
        .filter(|c| {
            c.bytes().any(|b| b.is_ascii_digit()) && c.bytes().any(|b| b.is_ascii_alphabetic())
        })
        .collect();
    for c in &candidates {
        let mut matches = known.iter().filter(|k| k.starts_with(c.as_str()));
        if let (Some(full), None) = (matches.next(), matches.next()) {
            return Some(full.clone());
        }
    }
    candidates.into_iter().next()
}

fn incident_row(issue: &Issue, known: &[String]) -> IncidentRow {
    let text = format!("{}\n{}", issue.title, issue.body.as_deref().unwrap_or(""));
    IncidentRow {
        incident_id: issue.number.to_string(),
        title: issue.title.clone(),
        opened_at: micros(&issue.created_at),
        resolved_at: issue.closed_at.as_ref().map(micros),
        severity: severity(&issue.labels()),
        caused_by_sha: caused_by_sha(&text, known),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names() {
        assert_eq!(
            parse_repo("rust-lang/cargo").unwrap(),
            ("rust-lang".to_string(), "cargo".to_string())
        );
        for bad in ["cargo", "a/b/c", "/x", "a b/c", ""] {
            assert!(parse_repo(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shas_in_incident_text() {
        let full = "3f786850e387550fdab836ed7e6dc881de23001b".to_string();
        assert_eq!(
            caused_by_sha("broken by 3f78685 in prod", std::slice::from_ref(&full)).as_deref(),
            Some(full.as_str())
        );
        assert_eq!(
            caused_by_sha("broken by 3F78685", &[]).as_deref(),
            Some("3f78685")
        );
        // Digits only, letters only, too short: not commits.
        assert_eq!(caused_by_sha("order 1234567, defaced, abc123", &[]), None);
        assert_eq!(caused_by_sha("no sha here", &[]), None);
    }

    #[test]
    fn severity_labels() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(severity(&l(&["incident", "sev1"])).as_deref(), Some("sev1"));
        assert_eq!(severity(&l(&["P2", "incident"])).as_deref(), Some("P2"));
        assert_eq!(
            severity(&l(&["severity: high"])).as_deref(),
            Some("severity: high")
        );
        assert_eq!(severity(&l(&["incident", "prod"])), None);
    }

    #[test]
    fn marks_hold_for_recent_pending_items() {
        let h = 3600 * 1_000_000i64;
        assert_eq!(held_mark(None, &[]), None);
        assert_eq!(held_mark(Some(100 * h), &[]), Some(100 * h));
        assert_eq!(
            held_mark(Some(100 * h), &[99 * h, 90 * h, 50 * h]),
            Some(90 * h)
        );
        assert_eq!(held_mark(Some(100 * h), &[10 * h]), Some(100 * h));
    }
}

//! GitHub's payloads as serde types (only the fields we keep, so extra or
//! missing optional fields never break a parse), and the rows they become.

use chrono::{DateTime, Utc};
use polars::prelude::*;
use serde::Deserialize;

use crate::error::{Error, Result};

pub(crate) type Time = DateTime<Utc>;

pub(crate) fn micros(t: &Time) -> i64 {
    t.timestamp_micros()
}

#[derive(Debug, Deserialize)]
pub(crate) struct User {
    pub login: String,
}

/// Labels come as objects, or (in some issue payloads) as bare strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Label {
    Object { name: Option<String> },
    Name(String),
}

impl Label {
    pub fn name(&self) -> Option<&str> {
        match self {
            Label::Object { name } => name.as_deref(),
            Label::Name(n) => Some(n),
        }
    }
}

fn label_names(labels: &[Label]) -> Vec<String> {
    labels
        .iter()
        .filter_map(Label::name)
        .map(str::to_owned)
        .collect()
}

#[derive(Debug, Deserialize)]
pub(crate) struct BranchRef {
    #[serde(rename = "ref")]
    pub ref_name: String,
}

/// A pull request from the list or the single-PR endpoint. The list leaves
/// the sizes out, so they are optional.
#[derive(Debug, Deserialize)]
pub(crate) struct Pull {
    pub number: i64,
    pub title: String,
    pub user: Option<User>,
    pub created_at: Time,
    pub updated_at: Time,
    pub closed_at: Option<Time>,
    /// The only field trusted for "merged": GitHub's own examples have
    /// `state: open` and `merged: false` next to a merge time.
    pub merged_at: Option<Time>,
    pub merge_commit_sha: Option<String>,
    pub head: BranchRef,
    pub base: BranchRef,
    #[serde(default)]
    pub labels: Vec<Label>,
    pub additions: Option<i64>,
    pub deletions: Option<i64>,
    pub changed_files: Option<i64>,
    pub commits: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GitSignature {
    pub date: Option<Time>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CommitInfo {
    pub author: Option<GitSignature>,
    pub committer: Option<GitSignature>,
}

/// An item of `GET /repos/{o}/{r}/pulls/{n}/commits`.
#[derive(Debug, Deserialize)]
pub(crate) struct PullCommit {
    pub sha: String,
    pub commit: CommitInfo,
}

impl PullCommit {
    pub fn authored_at(&self) -> Option<Time> {
        self.commit
            .author
            .as_ref()
            .and_then(|a| a.date)
            .or_else(|| self.commit.committer.as_ref().and_then(|c| c.date))
    }
}

/// An item of `GET /repos/{o}/{r}/pulls/{n}/reviews`.
#[derive(Debug, Deserialize)]
pub(crate) struct Review {
    pub user: Option<User>,
    /// Absent on pending (unsubmitted) reviews.
    pub submitted_at: Option<Time>,
}

/// A merged pull request as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PrRow {
    pub number: i64,
    pub title: String,
    pub author: Option<String>,
    pub created_at: i64,
    pub merged_at: i64,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
    pub base_ref: String,
    pub head_ref: String,
    pub merge_commit_sha: Option<String>,
    pub additions: Option<i64>,
    pub deletions: Option<i64>,
    pub changed_files: Option<i64>,
    pub commits: Option<i64>,
    pub commit_shas: Vec<String>,
    pub first_commit_at: Option<i64>,
    pub first_review_at: Option<i64>,
    pub labels: Vec<String>,
}

/// The first review by someone other than the author.
pub(crate) fn first_review(
    author: Option<&str>,
    reviews: &[(Option<String>, Time)],
) -> Option<i64> {
    reviews
        .iter()
        .filter(|(who, _)| who.is_none() || who.as_deref() != author)
        .map(|(_, at)| micros(at))
        .min()
}

impl PrRow {
    /// `detail` is the single-PR answer; `None` when the list item is all we have.
    pub fn from_rest(
        pull: &Pull,
        detail: Option<&Pull>,
        commits: &[PullCommit],
        reviews: &[Review],
    ) -> Option<PrRow> {
        let p = detail.unwrap_or(pull);
        let merged_at = p.merged_at.or(pull.merged_at)?;
        let author = p.user.as_ref().map(|u| u.login.clone());
        let reviews: Vec<(Option<String>, Time)> = reviews
            .iter()
            .filter_map(|r| Some((r.user.as_ref().map(|u| u.login.clone()), r.submitted_at?)))
            .collect();
        Some(PrRow {
            number: p.number,
            title: p.title.clone(),
            first_review_at: first_review(author.as_deref(), &reviews),
            author,
            created_at: micros(&p.created_at),
            merged_at: micros(&merged_at),
            closed_at: p.closed_at.as_ref().map(micros),
            updated_at: micros(&p.updated_at),
            base_ref: p.base.ref_name.clone(),
            head_ref: p.head.ref_name.clone(),
            merge_commit_sha: p.merge_commit_sha.clone(),
            additions: p.additions,
            deletions: p.deletions,
            changed_files: p.changed_files,
            commits: p.commits,
            commit_shas: commits.iter().map(|c| c.sha.clone()).collect(),
            first_commit_at: commits
                .iter()
                .filter_map(PullCommit::authored_at)
                .map(|t| micros(&t))
                .min(),
            labels: label_names(&p.labels),
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Deployment {
    pub id: i64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: Option<String>,
    pub environment: Option<String>,
    pub created_at: Time,
    /// Who created it: a person or an app (`deploy-bot[bot]`).
    #[serde(default)]
    pub creator: Option<User>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeploymentStatus {
    pub state: String,
    pub created_at: Time,
    pub deployment_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeploymentRow {
    pub deployment_id: String,
    pub environment: String,
    pub sha: String,
    pub deployed_at: i64,
    pub status: &'static str,
    pub ref_name: Option<String>,
    pub created_at: i64,
    pub actor: Option<String>,
}

impl DeploymentRow {
    /// Statuses come newest first. Those whose `deployment_url` names another
    /// deployment are left out (GitHub's own example has one); the count of
    /// them is returned next to the row.
    pub fn new(d: &Deployment, statuses: &[DeploymentStatus]) -> (DeploymentRow, usize) {
        let own = |s: &&DeploymentStatus| match &s.deployment_url {
            Some(url) => url
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .is_some_and(|id| id == d.id.to_string()),
            None => true,
        };
        let mine: Vec<&DeploymentStatus> = statuses.iter().filter(own).collect();
        let foreign = statuses.len() - mine.len();
        let latest = mine.iter().max_by_key(|s| s.created_at);
        let last_success = mine
            .iter()
            .filter(|s| s.state == "success")
            .max_by_key(|s| s.created_at);
        let status = match latest.map(|s| s.state.as_str()) {
            Some("success") => "success",
            Some("failure") => "failure",
            Some("error") => "error",
            // `inactive` marks a deployment that a later one superseded: it
            // was live, so it counts as a success when it ever succeeded.
            Some("inactive") if last_success.is_some() => "success",
            _ => "unknown",
        };
        let deployed_at = match (status, last_success, latest) {
            ("success", Some(s), _) => micros(&s.created_at),
            (_, _, Some(l)) => micros(&l.created_at),
            _ => micros(&d.created_at),
        };
        (
            DeploymentRow {
                deployment_id: d.id.to_string(),
                environment: d.environment.clone().unwrap_or_default(),
                sha: d.sha.clone(),
                deployed_at,
                status,
                ref_name: d.ref_name.clone(),
                created_at: micros(&d.created_at),
                actor: d.creator.as_ref().map(|u| u.login.clone()),
            },
            foreign,
        )
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Release {
    pub id: i64,
    pub tag_name: String,
    pub name: Option<String>,
    pub target_commitish: Option<String>,
    pub created_at: Option<Time>,
    pub published_at: Option<Time>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub prerelease: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TagCommit {
    pub sha: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Tag {
    pub name: String,
    pub commit: TagCommit,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Workflow {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Workflows {
    pub workflows: Vec<Workflow>,
}

/// Runs come wrapped: `{ "total_count": n, "workflow_runs": [...] }`.
#[derive(Debug, Deserialize)]
pub(crate) struct Runs {
    pub workflow_runs: Vec<Run>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Run {
    pub id: i64,
    pub name: Option<String>,
    pub head_branch: Option<String>,
    pub head_sha: String,
    pub event: Option<String>,
    pub status: Option<String>,
    /// null until the run completes.
    pub conclusion: Option<String>,
    pub created_at: Time,
    pub updated_at: Option<Time>,
    pub run_started_at: Option<Time>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Issue {
    pub number: i64,
    pub title: String,
    pub body: Option<String>,
    pub created_at: Time,
    pub updated_at: Time,
    pub closed_at: Option<Time>,
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Present when the "issue" is a pull request.
    pub pull_request: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IncidentRow {
    pub incident_id: String,
    pub title: String,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub severity: Option<String>,
    pub caused_by_sha: Option<String>,
}

impl Issue {
    pub fn labels(&self) -> Vec<String> {
        label_names(&self.labels)
    }
}

/// `GET /rate_limit` (free: it does not count against the limit).
#[derive(Debug, Deserialize)]
pub(crate) struct RateLimit {
    pub resources: RateResources,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RateResources {
    pub core: RateWindow,
}

#[derive(Debug, Deserialize, Clone, Copy)]
pub(crate) struct RateWindow {
    pub limit: i64,
    pub remaining: i64,
    pub reset: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Repository {
    pub default_branch: Option<String>,
}

fn polars_err(context: &'static str) -> impl Fn(PolarsError) -> Error {
    move |source| Error::Polars {
        context: context.into(),
        source,
    }
}

fn str_list(name: &str, lists: impl Iterator<Item = Vec<String>>) -> Column {
    let ca: ListChunked = lists
        .map(|l| {
            Some(Series::new(
                PlSmallStr::EMPTY,
                l.iter().map(String::as_str).collect::<Vec<_>>(),
            ))
        })
        .collect();
    ca.with_name(name.into()).into_column()
}

pub(crate) fn prs_frame(repo: &str, rows: &[PrRow]) -> Result<DataFrame> {
    let n = rows.len();
    let mut df = df!(
        "repo" => vec![repo; n],
        "number" => rows.iter().map(|r| r.number).collect::<Vec<_>>(),
        "title" => rows.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(),
        "author" => rows.iter().map(|r| r.author.as_deref()).collect::<Vec<_>>(),
        "created_at" => rows.iter().map(|r| r.created_at).collect::<Vec<_>>(),
        "merged_at" => rows.iter().map(|r| r.merged_at).collect::<Vec<_>>(),
        "closed_at" => rows.iter().map(|r| r.closed_at).collect::<Vec<_>>(),
        "updated_at" => rows.iter().map(|r| r.updated_at).collect::<Vec<_>>(),
        "base_ref" => rows.iter().map(|r| r.base_ref.as_str()).collect::<Vec<_>>(),
        "head_ref" => rows.iter().map(|r| r.head_ref.as_str()).collect::<Vec<_>>(),
        "merge_commit_sha" => rows.iter().map(|r| r.merge_commit_sha.as_deref()).collect::<Vec<_>>(),
        "additions" => rows.iter().map(|r| r.additions).collect::<Vec<_>>(),
        "deletions" => rows.iter().map(|r| r.deletions).collect::<Vec<_>>(),
        "changed_files" => rows.iter().map(|r| r.changed_files).collect::<Vec<_>>(),
        "commits" => rows.iter().map(|r| r.commits).collect::<Vec<_>>(),
        "first_commit_at" => rows.iter().map(|r| r.first_commit_at).collect::<Vec<_>>(),
        "first_review_at" => rows.iter().map(|r| r.first_review_at).collect::<Vec<_>>(),
    )
    .map_err(polars_err("building pull_requests"))?;
    for col in [
        str_list("commit_shas", rows.iter().map(|r| r.commit_shas.clone())),
        str_list("labels", rows.iter().map(|r| r.labels.clone())),
    ] {
        df.with_column(col)
            .map_err(polars_err("building pull_requests"))?;
    }
    Ok(df)
}

pub(crate) fn deployments_frame(repo: &str, rows: &[DeploymentRow]) -> Result<DataFrame> {
    let n = rows.len();
    df!(
        "repo" => vec![repo; n],
        "deployment_id" => rows.iter().map(|r| r.deployment_id.as_str()).collect::<Vec<_>>(),
        "environment" => rows.iter().map(|r| r.environment.as_str()).collect::<Vec<_>>(),
        "sha" => rows.iter().map(|r| r.sha.as_str()).collect::<Vec<_>>(),
        "deployed_at" => rows.iter().map(|r| r.deployed_at).collect::<Vec<_>>(),
        "status" => rows.iter().map(|r| r.status).collect::<Vec<_>>(),
        "source" => vec!["github_deployment"; n],
        "ref" => rows.iter().map(|r| r.ref_name.as_deref()).collect::<Vec<_>>(),
        "actor" => rows.iter().map(|r| r.actor.as_deref()).collect::<Vec<_>>(),
        "trigger" => vec![None::<&str>; n],
        "tests_passed" => vec![None::<bool>; n],
    )
    .map_err(polars_err("building deployments"))
}

pub(crate) fn releases_frame(repo: &str, rows: &[Release]) -> Result<DataFrame> {
    let n = rows.len();
    df!(
        "repo" => vec![repo; n],
        "release_id" => rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        "tag_name" => rows.iter().map(|r| r.tag_name.as_str()).collect::<Vec<_>>(),
        "name" => rows.iter().map(|r| r.name.as_deref()).collect::<Vec<_>>(),
        "target_commitish" => rows.iter().map(|r| r.target_commitish.as_deref()).collect::<Vec<_>>(),
        "created_at" => rows.iter().map(|r| r.created_at.as_ref().map(micros)).collect::<Vec<_>>(),
        "published_at" => rows.iter().map(|r| r.published_at.as_ref().map(micros)).collect::<Vec<_>>(),
        "draft" => rows.iter().map(|r| r.draft).collect::<Vec<_>>(),
        "prerelease" => rows.iter().map(|r| r.prerelease).collect::<Vec<_>>(),
    )
    .map_err(polars_err("building releases"))
}

pub(crate) fn tags_frame(repo: &str, rows: &[Tag], now: i64) -> Result<DataFrame> {
    let n = rows.len();
    df!(
        "repo" => vec![repo; n],
        "name" => rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        "kind" => vec!["tag"; n],
        "sha" => rows.iter().map(|r| r.commit.sha.as_str()).collect::<Vec<_>>(),
        "tagged_at" => vec![None::<i64>; n],
        "observed_at" => vec![now; n],
    )
    .map_err(polars_err("building refs"))
}

pub(crate) fn runs_frame(repo: &str, workflow: &str, rows: &[Run]) -> Result<DataFrame> {
    let n = rows.len();
    df!(
        "repo" => vec![repo; n],
        "run_id" => rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        "workflow_name" => rows.iter().map(|r| r.name.as_deref().unwrap_or(workflow)).collect::<Vec<_>>(),
        "head_branch" => rows.iter().map(|r| r.head_branch.as_deref()).collect::<Vec<_>>(),
        "head_sha" => rows.iter().map(|r| r.head_sha.as_str()).collect::<Vec<_>>(),
        "event" => rows.iter().map(|r| r.event.as_deref()).collect::<Vec<_>>(),
        "status" => rows.iter().map(|r| r.status.as_deref()).collect::<Vec<_>>(),
        "conclusion" => rows.iter().map(|r| r.conclusion.as_deref()).collect::<Vec<_>>(),
        "created_at" => rows.iter().map(|r| micros(&r.created_at)).collect::<Vec<_>>(),
        "updated_at" => rows.iter().map(|r| r.updated_at.as_ref().map(micros)).collect::<Vec<_>>(),
        "run_started_at" => rows.iter().map(|r| r.run_started_at.as_ref().map(micros)).collect::<Vec<_>>(),
    )
    .map_err(polars_err("building workflow_runs"))
}

pub(crate) fn incidents_frame(repo: &str, rows: &[IncidentRow]) -> Result<DataFrame> {
    let n = rows.len();
    df!(
        "repo" => vec![repo; n],
        "incident_id" => rows.iter().map(|r| r.incident_id.as_str()).collect::<Vec<_>>(),
        "title" => rows.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(),
        "opened_at" => rows.iter().map(|r| r.opened_at).collect::<Vec<_>>(),
        "resolved_at" => rows.iter().map(|r| r.resolved_at).collect::<Vec<_>>(),
        "severity" => rows.iter().map(|r| r.severity.as_deref()).collect::<Vec<_>>(),
        "source" => vec!["github_issue"; n],
        "caused_by_sha" => rows.iter().map(|r| r.caused_by_sha.as_deref()).collect::<Vec<_>>(),
        "deployment_id" => vec![None::<&str>; n],
    )
    .map_err(polars_err("building incidents"))
}

pub(crate) fn sync_frame(
    repo: &str,
    resource: &str,
    mark: i64,
    etag: Option<&str>,
    now: i64,
) -> Result<DataFrame> {
    df!(
        "repo" => [repo],
        "resource" => [resource],
        "high_water_mark" => [mark],
        "etag" => [etag],
        "synced_at" => [now],
    )
    .map_err(polars_err("building sync_state"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Time {
        s.parse().unwrap()
    }

    #[test]
    fn inactive_after_success_is_a_success_at_the_success_time() {
        let d = Deployment {
            id: 7,
            sha: "abc".into(),
            ref_name: Some("main".into()),
            environment: Some("production".into()),
            created_at: t("2024-01-01T00:00:00Z"),
            creator: None,
        };
        let st = |state: &str, at: &str, url: &str| DeploymentStatus {
            state: state.into(),
            created_at: t(at),
            deployment_url: Some(url.into()),
        };
        let statuses = [
            st(
                "inactive",
                "2024-01-03T00:00:00Z",
                "https://x/deployments/7",
            ),
            st("success", "2024-01-01T00:10:00Z", "https://x/deployments/7"),
            st("pending", "2024-01-01T00:01:00Z", "https://x/deployments/7"),
            st("failure", "2024-01-05T00:00:00Z", "https://x/deployments/8"),
        ];
        let (row, foreign) = DeploymentRow::new(&d, &statuses);
        assert_eq!(foreign, 1);
        assert_eq!(row.status, "success");
        assert_eq!(row.deployed_at, micros(&t("2024-01-01T00:10:00Z")));
        let (row, _) = DeploymentRow::new(&d, &statuses[2..3]);
        assert_eq!(row.status, "unknown");
        assert_eq!(row.deployed_at, micros(&t("2024-01-01T00:01:00Z")));
        let (row, _) = DeploymentRow::new(&d, &[]);
        assert_eq!(
            (row.status, row.deployed_at),
            ("unknown", micros(&t("2024-01-01T00:00:00Z")))
        );
    }

    #[test]
    fn first_review_skips_the_author() {
        let r = [
            (Some("alice".to_string()), t("2024-01-01T00:00:00Z")),
            (Some("bob".to_string()), t("2024-01-02T00:00:00Z")),
            (Some("carol".to_string()), t("2024-01-03T00:00:00Z")),
        ];
        assert_eq!(first_review(Some("alice"), &r), Some(micros(&r[1].1)));
        assert_eq!(first_review(Some("alice"), &r[..1]), None);
    }
}

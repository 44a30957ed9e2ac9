//! GitHub's payloads as serde types (only the fields we keep, so extra or
//! missing optional fields never break a parse), and the rows they become.

use chrono::{DateTime, Utc};
use serde::Deserialize;

pub type Time = DateTime<Utc>;

pub fn micros(t: &Time) -> i64 {
    t.timestamp_micros()
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub login: String,
}

/// Labels come as objects, or (in some issue payloads) as bare strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Label {
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
pub struct BranchRef {
    #[serde(rename = "ref")]
    pub ref_name: String,
}

/// A pull request from the list or the single-PR endpoint. The list leaves
/// the sizes out, so they are optional.
#[derive(Debug, Deserialize)]
pub struct Pull {
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
pub struct GitSignature {
    pub date: Option<Time>,
}

#[derive(Debug, Deserialize)]
pub struct CommitInfo {
    pub author: Option<GitSignature>,
    pub committer: Option<GitSignature>,
}

/// An item of `GET /repos/{o}/{r}/pulls/{n}/commits`.
#[derive(Debug, Deserialize)]
pub struct PullCommit {
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
pub struct Review {
    pub user: Option<User>,
    /// Absent on pending (unsubmitted) reviews.
    pub submitted_at: Option<Time>,
}

/// A merged pull request as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PrRow {
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
pub fn first_review(author: Option<&str>, reviews: &[(Option<String>, Time)]) -> Option<i64> {
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
pub struct Deployment {
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
pub struct DeploymentStatus {
    pub state: String,
    pub created_at: Time,
    pub deployment_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRow {
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
pub struct Release {
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
pub struct TagCommit {
    pub sha: String,
}

#[derive(Debug, Deserialize)]
pub struct Tag {
    pub name: String,
    pub commit: TagCommit,
}

#[derive(Debug, Deserialize)]
pub struct Workflow {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct Workflows {
    pub workflows: Vec<Workflow>,
}

/// Runs come wrapped: `{ "total_count": n, "workflow_runs": [...] }`.
#[derive(Debug, Deserialize)]
pub struct Runs {
    pub workflow_runs: Vec<Run>,
}

#[derive(Debug, Deserialize)]
pub struct Run {
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
pub struct Issue {
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
pub struct IncidentRow {
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
pub struct RateLimit {
    pub resources: RateResources,
}

#[derive(Debug, Deserialize)]
pub struct RateResources {
    pub core: RateWindow,
}

#[derive(Debug, Deserialize, Clone, Copy)]
pub struct RateWindow {
    pub limit: i64,
    pub remaining: i64,
    pub reset: i64,
}

#[derive(Debug, Deserialize)]
pub struct Repository {
    pub default_branch: Option<String>,
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

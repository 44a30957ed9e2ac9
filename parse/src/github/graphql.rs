//! Merged pull requests through GitHub's GraphQL API: one request brings 100
//! PRs with their sizes, commits, reviews and labels, where REST needs
//! 1 + 3 × 100 (list, then the PR, its commits and its reviews for each).

use serde::Deserialize;

use super::model::{first_review, micros, PrRow, Time};

/// The query: 100 PRs a page, each with up to 100 commits inline (a PR with
/// more gets its commits from REST), 100 reviews and 50 labels.
pub const QUERY: &str = "query($owner: String!, $name: String!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequests(states: MERGED, first: 100, after: $cursor, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number title author { login } createdAt mergedAt closedAt updatedAt
        baseRefName headRefName mergeCommit { oid }
        additions deletions changedFiles
        commits(first: 100) { totalCount nodes { commit { oid authoredDate } } }
        reviews(first: 100) { nodes { author { login } submittedAt } }
        labels(first: 50) { nodes { name } }
      }
    }
  }
}";

#[derive(Debug, Deserialize)]
pub struct Data {
    pub repository: Option<Repo>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repo {
    pub pull_requests: Connection,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub page_info: PageInfo,
    pub nodes: Vec<Pr>,
}

#[derive(Debug, Deserialize)]
pub struct Actor {
    pub login: String,
}

#[derive(Debug, Deserialize)]
pub struct Oid {
    pub oid: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitNode {
    pub oid: String,
    pub authored_date: Option<Time>,
}

#[derive(Debug, Deserialize)]
pub struct PrCommit {
    pub commit: CommitNode,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Commits {
    pub total_count: i64,
    pub nodes: Vec<PrCommit>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewNode {
    pub author: Option<Actor>,
    pub submitted_at: Option<Time>,
}

#[derive(Debug, Deserialize)]
pub struct Nodes<T> {
    pub nodes: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct LabelNode {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pr {
    pub number: i64,
    pub title: String,
    pub author: Option<Actor>,
    pub created_at: Time,
    pub merged_at: Option<Time>,
    pub closed_at: Option<Time>,
    pub updated_at: Time,
    pub base_ref_name: String,
    pub head_ref_name: String,
    pub merge_commit: Option<Oid>,
    pub additions: Option<i64>,
    pub deletions: Option<i64>,
    pub changed_files: Option<i64>,
    pub commits: Commits,
    pub reviews: Option<Nodes<ReviewNode>>,
    pub labels: Option<Nodes<LabelNode>>,
}

impl Pr {
    /// Whether the inline commit list is cut short.
    pub fn commits_truncated(&self) -> bool {
        self.commits.total_count as usize > self.commits.nodes.len()
    }

    /// The stored row. `commits` replaces the inline list when given
    /// (`(sha, authored_at)` from the REST fallback).
    pub fn row(&self, commits: Option<Vec<(String, Option<Time>)>>) -> Option<PrRow> {
        let merged_at = self.merged_at?;
        let author = self.author.as_ref().map(|a| a.login.clone());
        let commits = commits.unwrap_or_else(|| {
            self.commits
                .nodes
                .iter()
                .map(|c| (c.commit.oid.clone(), c.commit.authored_date))
                .collect()
        });
        let reviews: Vec<(Option<String>, Time)> = self
            .reviews
            .iter()
            .flat_map(|r| &r.nodes)
            .filter_map(|r| Some((r.author.as_ref().map(|a| a.login.clone()), r.submitted_at?)))
            .collect();
        Some(PrRow {
            number: self.number,
            title: self.title.clone(),
            first_review_at: first_review(author.as_deref(), &reviews),
            author,
            created_at: micros(&self.created_at),
            merged_at: micros(&merged_at),
            closed_at: self.closed_at.as_ref().map(micros),
            updated_at: micros(&self.updated_at),
            base_ref: self.base_ref_name.clone(),
            head_ref: self.head_ref_name.clone(),
            merge_commit_sha: self.merge_commit.as_ref().map(|m| m.oid.clone()),
            additions: self.additions,
            deletions: self.deletions,
            changed_files: self.changed_files,
            commits: Some(self.commits.total_count),
            first_commit_at: commits
                .iter()
                .filter_map(|c| c.1.as_ref())
                .map(micros)
                .min(),
            commit_shas: commits.into_iter().map(|c| c.0).collect(),
            labels: self
                .labels
                .iter()
                .flat_map(|l| &l.nodes)
                .map(|l| l.name.clone())
                .collect(),
        })
    }
}

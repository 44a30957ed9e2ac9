//! The GitHub rows as the store's frames.

use polars::prelude::*;

use flowmeter_parse::github::*;

use crate::error::{polars_err, Result};

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

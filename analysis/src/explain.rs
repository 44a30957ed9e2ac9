//! `flowmeter explain`: the audit trail behind one deployment or one commit.

use serde::Serialize;

use flowmeter_store::{
    Store, CHANGES, COMMITS, DEPLOYMENT_COMMITS, DEPLOYMENT_STATS, PULL_REQUESTS,
};

use crate::error::{Error, Result};
use crate::frame::Cols;
use crate::safety::{safety_rows, SafetyRow};

/// One shipped commit.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShippedCommit {
    pub sha: String,
    pub summary: String,
    pub author: String,
    pub authored_at: Option<i64>,
    pub is_merge: bool,
    pub pr_number: Option<i64>,
    pub lead_time_s: Option<i64>,
    pub anomaly: Option<String>,
}

/// Everything about one deployment.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentExplain {
    pub repo: String,
    pub environment: String,
    pub deployment_id: String,
    pub sha: String,
    pub source: String,
    pub status: String,
    pub deployed_at: i64,
    pub batch_commits: i64,
    pub batch_prs: i64,
    pub batch_additions: i64,
    pub batch_deletions: i64,
    pub batch_files: i64,
    pub is_baseline: bool,
    pub baseline_commits: i64,
    pub is_rollback: bool,
    pub is_hotfix: bool,
    pub is_rework: bool,
    /// A redeploy of a descendant of the live sha that shipped before: not a rollback.
    pub is_roll_forward: bool,
    /// Why its time or content differs from the obvious reading (clock skew, fast-forward).
    pub note: Option<String>,
    pub failed: bool,
    pub failure_reasons: Vec<String>,
    pub recovered_at: Option<i64>,
    pub recovery_s: Option<i64>,
    /// The safety-net evidence: detection, restoration, remedy, trigger, defects, tests.
    pub evidence: SafetyRow,
    /// Why its trigger (a rollback or revert deployment) is automated or manual.
    pub trigger_reason: Option<String>,
    pub shipped: Vec<ShippedCommit>,
}

/// A commit's arrival in one environment.
#[derive(Debug, Clone, Serialize)]
pub struct Arrival {
    pub environment: String,
    pub deployment_id: Option<String>,
    pub deployed_at: Option<i64>,
    pub lead_time_s: Option<i64>,
    pub is_baseline: bool,
    pub anomaly: Option<String>,
}

/// The PR lead-time breakdown (seconds; negative spans are left as they are and flagged).
#[derive(Debug, Clone, Serialize)]
pub struct PrBreakdown {
    pub number: i64,
    pub title: Option<String>,
    pub first_commit_at: Option<i64>,
    pub created_at: Option<i64>,
    pub first_review_at: Option<i64>,
    pub merged_at: Option<i64>,
    pub coding_s: Option<i64>,
    pub pickup_s: Option<i64>,
    pub review_s: Option<i64>,
    /// Merged to the first production-environment arrival.
    pub waiting_s: Option<i64>,
}

/// Everything about one commit.
#[derive(Debug, Clone, Serialize)]
pub struct CommitExplain {
    pub repo: String,
    pub sha: String,
    pub summary: String,
    pub author: String,
    pub authored_at: Option<i64>,
    pub committed_at: Option<i64>,
    pub is_merge: bool,
    pub reverts: Option<String>,
    pub arrivals: Vec<Arrival>,
    pub pr: Option<PrBreakdown>,
}

/// The deployment(s) with this id (one per repo and environment that has it).
pub fn explain_deployment(store: &Store, id: &str) -> Result<Vec<DeploymentExplain>> {
    let df = store.read(&DEPLOYMENT_STATS)?;
    let c = Cols::new(&df, "deployment_stats");
    let ids = c.str("deployment_id")?;
    let hits: Vec<usize> = (0..df.height())
        .filter(|&i| ids[i].as_deref() == Some(id))
        .collect();
    if hits.is_empty() {
        let mut near: Vec<String> = ids
            .iter()
            .flatten()
            .filter(|x| x.contains(id))
            .take(5)
            .cloned()
            .collect();
        near.dedup();
        return Err(Error::NotFound {
            what: "deployment",
            id: id.into(),
            hint: if near.is_empty() {
                " (list them with `flowmeter sql \"select deployment_id, environment, deployed_at from deployment_stats\"`)".into()
            } else {
                format!("; did you mean {}?", near.join(", "))
            },
        });
    }
    let (repo, env, sha, source, status, at) = (
        c.str("repo")?,
        c.str("environment")?,
        c.str("sha")?,
        c.str("source")?,
        c.str("status")?,
        c.int("deployed_at")?,
    );
    let ints: Vec<Vec<Option<i64>>> = [
        "batch_commits",
        "batch_prs",
        "batch_additions",
        "batch_deletions",
        "batch_files",
        "baseline_commits",
        "recovered_at",
        "recovery_s",
    ]
    .iter()
    .map(|n| c.int(n))
    .collect::<Result<_>>()?;
    let bools: Vec<Vec<Option<bool>>> = [
        "is_baseline",
        "is_rollback",
        "is_hotfix",
        "is_rework",
        "failed",
        "is_roll_forward",
    ]
    .iter()
    .map(|n| c.bool(n))
    .collect::<Result<_>>()?;
    let reasons = c.str_list("failure_reasons")?;
    let note = c.str("note")?;
    let evidence = safety_rows(&df)?;
    let trigger_reason = c.str("trigger_reason")?;

    let dc = store.read(&DEPLOYMENT_COMMITS)?;
    let dcc = Cols::new(&dc, "deployment_commits");
    let (dc_repo, dc_env, dc_id, dc_sha) = (
        dcc.str("repo")?,
        dcc.str("environment")?,
        dcc.str("deployment_id")?,
        dcc.str("sha")?,
    );
    let commits = store.read(&COMMITS)?;
    let cc = Cols::new(&commits, "commits");
    let (c_repo, c_sha, c_sum, c_auth, c_at, c_merge) = (
        cc.str("repo")?,
        cc.str("sha")?,
        cc.str("summary")?,
        cc.str("author_name")?,
        cc.int("authored_at")?,
        cc.bool("is_merge")?,
    );
    let ch = store.read(&CHANGES)?;
    let chc = Cols::new(&ch, "changes");
    let (ch_repo, ch_env, ch_sha, ch_pr, ch_lead, ch_anom) = (
        chc.str("repo")?,
        chc.str("environment")?,
        chc.str("sha")?,
        chc.int("pr_number")?,
        chc.int("lead_time_s")?,
        chc.str("anomaly")?,
    );

    let commit_at: std::collections::HashMap<(&str, &str), usize> = (0..commits.height())
        .filter_map(|j| Some(((c_repo[j].as_deref()?, c_sha[j].as_deref()?), j)))
        .collect();
    let change_at: std::collections::HashMap<(&str, &str, &str), usize> = (0..ch.height())
        .filter_map(|j| {
            Some((
                (
                    ch_repo[j].as_deref()?,
                    ch_env[j].as_deref()?,
                    ch_sha[j].as_deref()?,
                ),
                j,
            ))
        })
        .collect();
    let mut out = vec![];
    for i in hits {
        let (r, e) = (
            repo[i].as_deref().unwrap_or(""),
            env[i].as_deref().unwrap_or(""),
        );
        let mut shipped = vec![];
        for k in 0..dc.height() {
            if dc_id[k].as_deref() == Some(id) && dc_repo[k] == repo[i] && dc_env[k] == env[i] {
                let s = dc_sha[k].clone().unwrap_or_default();
                let ci = commit_at.get(&(r, s.as_str())).copied();
                let chi = change_at.get(&(r, e, s.as_str())).copied();
                shipped.push(ShippedCommit {
                    sha: s,
                    summary: ci.and_then(|j| c_sum[j].clone()).unwrap_or_default(),
                    author: ci.and_then(|j| c_auth[j].clone()).unwrap_or_default(),
                    authored_at: ci.and_then(|j| c_at[j]),
                    is_merge: ci.and_then(|j| c_merge[j]).unwrap_or(false),
                    pr_number: chi.and_then(|j| ch_pr[j]),
                    lead_time_s: chi.and_then(|j| ch_lead[j]),
                    anomaly: chi.and_then(|j| ch_anom[j].clone()),
                });
            }
        }
        shipped.sort_by_key(|s| (s.authored_at, s.sha.clone()));
        out.push(DeploymentExplain {
            repo: repo[i].clone().unwrap_or_default(),
            environment: env[i].clone().unwrap_or_default(),
            deployment_id: id.to_string(),
            sha: sha[i].clone().unwrap_or_default(),
            source: source[i].clone().unwrap_or_default(),
            status: status[i].clone().unwrap_or_default(),
            deployed_at: at[i].unwrap_or(0),
            batch_commits: ints[0][i].unwrap_or(0),
            batch_prs: ints[1][i].unwrap_or(0),
            batch_additions: ints[2][i].unwrap_or(0),
            batch_deletions: ints[3][i].unwrap_or(0),
            batch_files: ints[4][i].unwrap_or(0),
            baseline_commits: ints[5][i].unwrap_or(0),
            recovered_at: ints[6][i],
            recovery_s: ints[7][i],
            is_baseline: bools[0][i].unwrap_or(false),
            is_rollback: bools[1][i].unwrap_or(false),
            is_hotfix: bools[2][i].unwrap_or(false),
            is_rework: bools[3][i].unwrap_or(false),
            failed: bools[4][i].unwrap_or(false),
            is_roll_forward: bools[5][i].unwrap_or(false),
            note: note[i].clone(),
            failure_reasons: reasons[i].clone(),
            evidence: evidence[i].clone(),
            trigger_reason: trigger_reason[i].clone(),
            shipped,
        });
    }
    Ok(out)
}

/// The commit(s) whose sha starts with `prefix`, with their arrivals.
pub fn explain_commit(
    store: &Store,
    prefix: &str,
    env_order: &[String],
) -> Result<Vec<CommitExplain>> {
    let prefix = prefix.trim().to_ascii_lowercase();
    if prefix.len() < 4 {
        return Err(Error::Invalid(format!(
            "`{prefix}`: give at least 4 characters of the sha"
        )));
    }
    let commits = store.read(&COMMITS)?;
    let cc = Cols::new(&commits, "commits");
    let (c_repo, c_sha) = (cc.str("repo")?, cc.str("sha")?);
    let mut hits: Vec<usize> = (0..commits.height())
        .filter(|&j| c_sha[j].as_deref().is_some_and(|s| s.starts_with(&prefix)))
        .collect();
    hits.sort_by_key(|&j| (c_repo[j].clone(), c_sha[j].clone()));
    hits.dedup_by_key(|j| (c_repo[*j].clone(), c_sha[*j].clone()));
    if hits.is_empty() {
        return Err(Error::NotFound {
            what: "commit",
            id: prefix,
            hint: " in the commits table".into(),
        });
    }
    if hits.len() > 10 {
        return Err(Error::Invalid(format!(
            "`{prefix}` matches {} commits; give more of the sha",
            hits.len()
        )));
    }
    let (c_sum, c_auth, c_at, c_cat, c_merge, c_rev) = (
        cc.str("summary")?,
        cc.str("author_name")?,
        cc.int("authored_at")?,
        cc.int("committed_at")?,
        cc.bool("is_merge")?,
        cc.str("reverts")?,
    );
    let ch = store.read(&CHANGES)?;
    let chc = Cols::new(&ch, "changes");
    let (ch_repo, ch_env, ch_sha, ch_pr, ch_lead, ch_anom, ch_dep, ch_at, ch_base) = (
        chc.str("repo")?,
        chc.str("environment")?,
        chc.str("sha")?,
        chc.int("pr_number")?,
        chc.int("lead_time_s")?,
        chc.str("anomaly")?,
        chc.str("deployment_id")?,
        chc.int("deployed_at")?,
        chc.bool("is_baseline")?,
    );
    let prs = store.read(&PULL_REQUESTS)?;
    let pc = Cols::new(&prs, "pull_requests");
    let (p_repo, p_num, p_title, p_fc, p_cr, p_fr, p_mg) = (
        pc.str("repo")?,
        pc.int("number")?,
        pc.str("title")?,
        pc.int("first_commit_at")?,
        pc.int("created_at")?,
        pc.int("first_review_at")?,
        pc.int("merged_at")?,
    );
    let mut out = vec![];
    for j in hits {
        let sha = c_sha[j].clone().unwrap_or_default();
        let mut arrivals = vec![];
        let mut pr_number = None;
        for k in 0..ch.height() {
            if ch_repo[k] == c_repo[j] && ch_sha[k].as_deref() == Some(sha.as_str()) {
                pr_number = pr_number.or(ch_pr[k]);
                arrivals.push(Arrival {
                    environment: ch_env[k].clone().unwrap_or_default(),
                    deployment_id: ch_dep[k].clone(),
                    deployed_at: ch_at[k],
                    lead_time_s: ch_lead[k],
                    is_baseline: ch_base[k].unwrap_or(false),
                    anomaly: ch_anom[k].clone(),
                });
            }
        }
        arrivals.sort_by_key(|a| {
            env_order
                .iter()
                .position(|e| e == &a.environment)
                .unwrap_or(usize::MAX)
        });
        let pr = pr_number.and_then(|n| {
            let k = (0..prs.height()).find(|&k| p_repo[k] == c_repo[j] && p_num[k] == Some(n))?;
            let span = |a: Option<i64>, b: Option<i64>| Some((b? - a?) / 1_000_000);
            let deployed = arrivals.iter().rev().find_map(|a| a.deployed_at);
            Some(PrBreakdown {
                number: n,
                title: p_title[k].clone(),
                first_commit_at: p_fc[k],
                created_at: p_cr[k],
                first_review_at: p_fr[k],
                merged_at: p_mg[k],
                coding_s: span(p_fc[k], p_cr[k]),
                pickup_s: span(p_cr[k], p_fr[k]),
                review_s: span(p_fr[k], p_mg[k]),
                waiting_s: span(p_mg[k], deployed),
            })
        });
        out.push(CommitExplain {
            repo: c_repo[j].clone().unwrap_or_default(),
            sha,
            summary: c_sum[j].clone().unwrap_or_default(),
            author: c_auth[j].clone().unwrap_or_default(),
            authored_at: c_at[j],
            committed_at: c_cat[j],
            is_merge: c_merge[j].unwrap_or(false),
            reverts: c_rev[j].clone(),
            arrivals,
            pr,
        });
    }
    Ok(out)
}

//! The data contract: every table flowmeter writes, with its columns and types.
//!
//! Names and columns here are public API: notebooks, SQL queries and other
//! engines (DuckDB, Spark) read them. Columns may be added, never renamed.

use polars::prelude::{DataType, Field, Schema, TimeUnit};

/// The store's layout version. Bump it when a change makes old files unreadable
/// by new code (a renamed or retyped column, a new layout).
pub const SCHEMA_VERSION: u32 = 1;

/// The logical type of a column. Every time is UTC, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Str,
    Int,
    Float,
    Bool,
    /// `Datetime(µs)`, always UTC (stored without a time-zone tag).
    Time,
    /// `List(String)`.
    StrList,
}

impl ColType {
    /// The polars type used for this column.
    pub fn dtype(self) -> DataType {
        match self {
            ColType::Str => DataType::String,
            ColType::Int => DataType::Int64,
            ColType::Float => DataType::Float64,
            ColType::Bool => DataType::Boolean,
            ColType::Time => DataType::Datetime(TimeUnit::Microseconds, None),
            ColType::StrList => DataType::List(Box::new(DataType::String)),
        }
    }
}

/// Who writes a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// Written by `flowmeter ingest`: facts observed in a source.
    Base,
    /// Written by `flowmeter analyze`: a pure function of base tables and config.
    Derived,
}

/// One table of the contract.
#[derive(Debug)]
pub struct TableDef {
    pub name: &'static str,
    pub kind: TableKind,
    /// Partitioned hive-style by `repo` (`<table>/repo=<name>/part-*.parquet`).
    /// The `repo` column then lives in the directory name, not in the files.
    pub partitioned: bool,
    pub doc: &'static str,
    pub columns: &'static [(&'static str, ColType)],
}

impl TableDef {
    /// The polars schema of the table, `repo` included.
    pub fn schema(&self) -> Schema {
        self.columns
            .iter()
            .map(|(name, ty)| Field::new((*name).into(), ty.dtype()))
            .collect()
    }

    /// The column names, in order.
    pub fn column_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns.iter().map(|(n, _)| *n)
    }
}

use ColType::*;

/// `repos`: one row per ingested repository and source.
pub const REPOS: TableDef = TableDef {
    name: "repos",
    kind: TableKind::Base,
    partitioned: true,
    doc: "one row per ingested repository and source",
    columns: &[
        ("repo", Str),
        ("source", Str),
        ("location", Str),
        ("default_branch", Str),
        ("ingested_at", Time),
        ("commit_count", Int),
        ("unreadable_blobs", Int),
    ],
};

/// `commits`: every commit reachable from the ingested refs.
pub const COMMITS: TableDef = TableDef {
    name: "commits",
    kind: TableKind::Base,
    partitioned: true,
    doc: "every commit reachable from the ingested refs; stats against the first parent",
    columns: &[
        ("repo", Str),
        ("sha", Str),
        ("parents", StrList),
        ("author_name", Str),
        ("author_email", Str),
        ("authored_at", Time),
        ("committer_name", Str),
        ("committer_email", Str),
        ("committed_at", Time),
        ("summary", Str),
        ("is_merge", Bool),
        ("files_changed", Int),
        ("additions", Int),
        ("deletions", Int),
        ("reverts", Str),
        ("cherry_picked_from", Str),
        ("patch_id", Str),
        // false when some blob could not be read (partial clone) or stats were skipped
        ("stats_complete", Bool),
        // false once no ingested ref reaches the commit any more (force-push, deleted branch)
        ("reachable", Bool),
    ],
};

/// `refs`: the branches and tags as of the latest ingest.
pub const REFS: TableDef = TableDef {
    name: "refs",
    kind: TableKind::Base,
    partitioned: true,
    doc: "branches and tags as of the latest ingest, tags peeled to their commit",
    columns: &[
        ("repo", Str),
        ("name", Str),
        ("kind", Str),
        ("sha", Str),
        ("tagged_at", Time),
        ("observed_at", Time),
    ],
};

/// `ref_history`: every tip a ref was seen at, so moves and force-pushes stay visible.
pub const REF_HISTORY: TableDef = TableDef {
    name: "ref_history",
    kind: TableKind::Base,
    partitioned: true,
    doc: "each tip a ref was observed at, one row per change",
    columns: &[
        ("repo", Str),
        ("name", Str),
        ("kind", Str),
        ("sha", Str),
        ("observed_at", Time),
        ("forced", Bool),
    ],
};

/// `pull_requests`: merged pull requests.
pub const PULL_REQUESTS: TableDef = TableDef {
    name: "pull_requests",
    kind: TableKind::Base,
    partitioned: true,
    doc: "merged pull requests",
    columns: &[
        ("repo", Str),
        ("number", Int),
        ("title", Str),
        ("author", Str),
        ("created_at", Time),
        ("merged_at", Time),
        ("closed_at", Time),
        ("updated_at", Time),
        ("base_ref", Str),
        ("head_ref", Str),
        ("merge_commit_sha", Str),
        ("additions", Int),
        ("deletions", Int),
        ("changed_files", Int),
        ("commits", Int),
        ("commit_shas", StrList),
        ("first_commit_at", Time),
        ("first_review_at", Time),
        ("labels", StrList),
    ],
};

/// Columns added to a base table after its first release, as (table, column).
/// Files written before a column existed lack it; reads fill it with nulls,
/// so an older store stays readable without re-ingesting. (A derived table is
/// rewritten by `analyze`, so it needs no entry here.)
pub const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("deployments", "actor"),
    ("deployments", "trigger"),
    ("deployments", "tests_passed"),
];

/// `deployments`: deployment records ingested from files and GitHub.
pub const DEPLOYMENTS: TableDef = TableDef {
    name: "deployments",
    kind: TableKind::Base,
    partitioned: true,
    doc: "deployment records from deploy logs and GitHub (branch and tag deployments are derived by analyze into deployment_stats)",
    columns: &[
        ("repo", Str),
        ("deployment_id", Str),
        ("environment", Str),
        ("sha", Str),
        ("deployed_at", Time),
        ("status", Str),
        ("source", Str),
        ("ref", Str),
        // who or what started it: a deploy log's `actor`, a GitHub deployment's creator
        ("actor", Str),
        // `automated` or `manual`, when the deploy log says (its `trigger` column)
        ("trigger", Str),
        // whether tests passed on what it shipped, when the deploy log says (`tests_passed`)
        ("tests_passed", Bool),
    ],
};

/// `incidents`: incidents from files and GitHub issues.
pub const INCIDENTS: TableDef = TableDef {
    name: "incidents",
    kind: TableKind::Base,
    partitioned: true,
    doc: "incidents from incident-tool exports and GitHub issues",
    columns: &[
        ("repo", Str),
        ("incident_id", Str),
        ("title", Str),
        ("opened_at", Time),
        ("resolved_at", Time),
        ("severity", Str),
        ("source", Str),
        ("caused_by_sha", Str),
        ("deployment_id", Str),
    ],
};

/// `releases`: GitHub releases.
pub const RELEASES: TableDef = TableDef {
    name: "releases",
    kind: TableKind::Base,
    partitioned: true,
    doc: "GitHub releases",
    columns: &[
        ("repo", Str),
        ("release_id", Int),
        ("tag_name", Str),
        ("name", Str),
        ("target_commitish", Str),
        ("created_at", Time),
        ("published_at", Time),
        ("draft", Bool),
        ("prerelease", Bool),
    ],
};

/// `workflow_runs`: GitHub Actions runs of workflows that look like deployments.
pub const WORKFLOW_RUNS: TableDef = TableDef {
    name: "workflow_runs",
    kind: TableKind::Base,
    partitioned: true,
    doc: "GitHub Actions workflow runs",
    columns: &[
        ("repo", Str),
        ("run_id", Int),
        ("workflow_name", Str),
        ("head_branch", Str),
        ("head_sha", Str),
        ("event", Str),
        ("status", Str),
        ("conclusion", Str),
        ("created_at", Time),
        ("updated_at", Time),
        ("run_started_at", Time),
    ],
};

/// `sync_state`: per repo and resource, how far an incremental sync got.
pub const SYNC_STATE: TableDef = TableDef {
    name: "sync_state",
    kind: TableKind::Base,
    partitioned: true,
    doc: "incremental-sync high-water marks per repo and resource",
    columns: &[
        ("repo", Str),
        ("resource", Str),
        ("high_water_mark", Time),
        ("etag", Str),
        ("synced_at", Time),
    ],
};

/// `deployment_commits`: which deployment first shipped each commit.
pub const DEPLOYMENT_COMMITS: TableDef = TableDef {
    name: "deployment_commits",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "commit first shipped by a deployment, per environment",
    columns: &[
        ("repo", Str),
        ("environment", Str),
        ("deployment_id", Str),
        ("sha", Str),
    ],
};

/// `changes`: each commit × environment it reached, with its lead time.
pub const CHANGES: TableDef = TableDef {
    name: "changes",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "commit x environment it reached, with lead time",
    columns: &[
        ("repo", Str),
        ("sha", Str),
        ("environment", Str),
        ("pr_number", Int),
        ("authored_at", Time),
        ("committed_at", Time),
        ("merged_at", Time),
        ("deployment_id", Str),
        ("deployed_at", Time),
        ("lead_time_s", Int),
        ("is_baseline", Bool),
        ("anomaly", Str),
        ("is_merge", Bool),
    ],
};

/// `deployment_stats`: each deployment with its batch, failure and recovery.
pub const DEPLOYMENT_STATS: TableDef = TableDef {
    name: "deployment_stats",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "one row per deployment: batch size, failure signals, recovery",
    columns: &[
        ("repo", Str),
        ("environment", Str),
        ("deployment_id", Str),
        ("deployed_at", Time),
        ("sha", Str),
        ("source", Str),
        ("status", Str),
        ("batch_commits", Int),
        ("batch_prs", Int),
        ("batch_additions", Int),
        ("batch_deletions", Int),
        ("batch_files", Int),
        ("failed", Bool),
        ("failure_reasons", StrList),
        ("recovered_at", Time),
        ("recovery_s", Int),
        ("is_rework", Bool),
        ("is_rollback", Bool),
        ("is_hotfix", Bool),
        // the first observed deployment of its environment: its history is baseline
        ("is_baseline", Bool),
        ("baseline_commits", Int),
        // commits it first shipped, merges included (batch_commits counts non-merges)
        ("shipped_commits", Int),
        // redeploy of a descendant of the live sha that had shipped before: not a rollback
        ("is_roll_forward", Bool),
        // why its time or content differs from the obvious reading (clock skew, fast-forward)
        ("note", Str),
        // the safety-net evidence: the first failure signal at or after it (status,
        // incident, revert, rollback, hotfix) and who or what raised it
        ("detected_at", Time),
        ("detected_by", Str),
        ("detector", Str),
        // deployed_at -> detected_at, and detected_at -> recovered_at
        ("time_to_detect_s", Int),
        ("time_to_restore_s", Int),
        // the rollback or revert deployment that undid this failed one
        ("restored_by", Str),
        // rollback and revert deployments: automated or manual, and why
        ("trigger", Str),
        ("trigger_reason", Str),
        // incidents linked to it by a failure signal, and their [defects] severity weight
        ("incidents", Int),
        ("defect_weight", Float),
        // tests passed on what it shipped (deploy log's tests_passed); null: unknown
        ("tests_passed", Bool),
    ],
};

/// `env_arrivals`: each change's arrival in each environment, with its dwell to the next.
pub const ENV_ARRIVALS: TableDef = TableDef {
    name: "env_arrivals",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "commit x environment: first deployment there that shipped it, and dwell to the next environment",
    columns: &[
        ("repo", Str),
        ("sha", Str),
        ("environment", Str),
        // position of the environment in the config (promotion order), from 0
        ("stage_index", Int),
        ("deployment_id", Str),
        // null for baseline: present at the first observed deployment, time unknown
        ("arrived_at", Time),
        ("is_baseline", Bool),
        ("first_env_at", Time),
        ("next_environment", Str),
        ("next_arrived_at", Time),
        // next_arrived_at - arrived_at; negative values are anomalies, kept as they are
        ("dwell_s", Int),
        ("is_merge", Bool),
        ("pr_number", Int),
        // the change's lead-time start (authored or committed, per config)
        ("lead_start_at", Time),
    ],
};

/// `promotions`: merges of one environment branch into the next.
pub const PROMOTIONS: TableDef = TableDef {
    name: "promotions",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "merge commits on an environment branch whose second parent is in the previous environment branch",
    columns: &[
        ("repo", Str),
        ("from_env", Str),
        ("to_env", Str),
        ("sha", Str),
        ("merged_sha", Str),
        ("promoted_at", Time),
        ("batch_commits", Int),
        ("batch_prs", Int),
        ("triggered_by", Str),
    ],
};

/// `drift_daily`: per day, changes in an environment not yet in the next one.
pub const DRIFT_DAILY: TableDef = TableDef {
    name: "drift_daily",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "per day and adjacent environment pair: non-merge changes in the earlier environment not yet in the later",
    columns: &[
        ("repo", Str),
        ("day", Time),
        ("from_env", Str),
        ("to_env", Str),
        ("commits_ahead", Int),
        ("prs_ahead", Int),
        ("oldest_age_s", Int),
        ("oldest_sha", Str),
    ],
};

/// `misalignments`: where environment branches disagree.
pub const MISALIGNMENTS: TableDef = TableDef {
    name: "misalignments",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "skipped_stage, cherry_pick_duplicate, branch_ahead and pollution findings, with the shas involved",
    columns: &[
        ("repo", Str),
        ("kind", Str),
        ("environment", Str),
        ("sha", Str),
        ("related_sha", Str),
        ("detail", Str),
    ],
};

/// `tip_drift`: what the environment branches' tips hold today, per adjacent pair.
pub const TIP_DRIFT: TableDef = TableDef {
    name: "tip_drift",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "per adjacent environment pair with two branches: non-merge commits one tip has and the other lacks",
    columns: &[
        ("repo", Str),
        ("from_env", Str),
        ("to_env", Str),
        ("from_tip", Str),
        ("to_tip", Str),
        ("commits_ahead", Int),
        ("commits_behind", Int),
    ],
};

/// `train_waits`: each production change's wait for the next release train.
pub const TRAIN_WAITS: TableDef = TableDef {
    name: "train_waits",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "non-merge change x production environment: from arrival in the previous stage to the next production train",
    columns: &[
        ("repo", Str),
        ("environment", Str),
        ("sha", Str),
        ("prev_arrived_at", Time),
        ("arrived_at", Time),
        ("wait_s", Int),
        ("lead_s", Int),
    ],
};

/// `analysis_notes`: how the rules read this store.
pub const ANALYSIS_NOTES: TableDef = TableDef {
    name: "analysis_notes",
    kind: TableKind::Derived,
    partitioned: false,
    doc: "notes from analyze: fast-forwarded branches, moved deployment times, repositories without history",
    columns: &[("stage", Str), ("note", Str)],
};

/// Every table, base first, in the order `sql --schema` lists them.
pub const TABLES: &[&TableDef] = &[
    &REPOS,
    &COMMITS,
    &REFS,
    &REF_HISTORY,
    &PULL_REQUESTS,
    &DEPLOYMENTS,
    &INCIDENTS,
    &RELEASES,
    &WORKFLOW_RUNS,
    &SYNC_STATE,
    &DEPLOYMENT_COMMITS,
    &CHANGES,
    &DEPLOYMENT_STATS,
    &ENV_ARRIVALS,
    &PROMOTIONS,
    &DRIFT_DAILY,
    &MISALIGNMENTS,
    &TIP_DRIFT,
    &TRAIN_WAITS,
    &ANALYSIS_NOTES,
];

/// Looks a table up by name.
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().copied().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_partitioned_tables_lead_with_repo() {
        let mut names: Vec<_> = TABLES.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        for t in TABLES {
            if t.partitioned {
                assert_eq!(t.columns[0].0, "repo", "{}", t.name);
            }
        }
    }

    #[test]
    fn design_minimum_columns_are_present() {
        let want = [
            "repo",
            "sha",
            "parents",
            "author_name",
            "author_email",
            "authored_at",
            "committed_at",
            "summary",
            "is_merge",
            "files_changed",
            "additions",
            "deletions",
            "reverts",
            "cherry_picked_from",
            "patch_id",
        ];
        let have: Vec<_> = COMMITS.column_names().collect();
        for w in want {
            assert!(have.contains(&w), "commits lacks {w}");
        }
        assert_eq!(
            COMMITS.schema().get("parents"),
            Some(&DataType::List(Box::new(DataType::String)))
        );
    }
}

//! No combination of base tables (present, empty or missing) breaks the
//! analysis: every subset of them, analysed in-process, and the commands on a
//! few telling ones (a GitHub-only store among them).

use std::path::Path;

use flowmeter_analysis::{analyze, flow_report, metrics, Config, FlowOptions, MetricsOptions};
use flowmeter_store::{
    Store, TableKind, COMMITS, DEPLOYMENTS, INCIDENTS, PULL_REQUESTS, REFS, REPOS, TABLES,
    WORKFLOW_RUNS,
};

use crate::common::*;

const CONFIG: &str = r#"
[[environment]]
name = "staging"
branch = "main"

[[environment]]
name = "production"
tags = "v*"
file = "deploys.csv"
github_deployments = "production"
workflow = "deploy*"
production = true
"#;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

/// A store with rows in every base table the stages read: git history with a
/// tag, a deploy log (with a failed deployment), an incident log, and
/// pull-request, deployment and workflow-run rows written through the store.
fn full_store(fx: &Fixture) -> (std::path::PathBuf, Config) {
    let c1 = fx.commit("2024-03-01T09:00:00Z", &ALICE, "one", &[("a", b"1\n")]);
    let c2 = fx.commit("2024-03-02T09:00:00Z", &ALICE, "two", &[("b", b"1\n")]);
    fx.git_at(
        "2024-03-02T12:00:00Z",
        &ALICE,
        &["tag", "-a", "v1", "-m", "v1", &c2],
    );
    let c3 = fx.commit("2024-03-03T09:00:00Z", &BOB, "three", &[("c", b"1\n")]);
    let data = fx.dir.path().join("store");
    let cfg = fx.dir.path().join("flowmeter.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    std::fs::write(
        fx.dir.path().join("deploys.csv"),
        format!(
            "deployed_at,environment,sha,status,deployment_id,repo\n\
             2024-03-03T12:00:00Z,production,{c3},failure,d-1,octo/demo\n\
             2024-03-04T12:00:00Z,production,{c3},success,d-2,octo/demo\n\
             2024-03-05T12:00:00Z,production,{c1},success,d-3,octo/demo\n"
        ),
    )
    .unwrap();
    let inc = fx.dir.path().join("incidents.csv");
    std::fs::write(
        &inc,
        format!(
            "incident_id,opened_at,resolved_at,title,caused_by_sha,repo\n\
             INC-1,2024-03-04T13:00:00Z,2024-03-04T15:00:00Z,errors,{c3},octo/demo\n\
             INC-2,2024-03-06T13:00:00Z,,more errors,,\n"
        ),
    )
    .unwrap();
    let cfg_s = cfg.to_str().unwrap();
    ok(
        &data,
        &[
            "ingest",
            "git",
            fx.path.to_str().unwrap(),
            "--name",
            "octo/demo",
        ],
    );
    ok(&data, &["--config", cfg_s, "ingest", "deployments"]);
    ok(&data, &["ingest", "incidents", inc.to_str().unwrap()]);
    // GitHub's tables, as `ingest github` writes them.
    let store = Store::open(&data).unwrap();
    let guard = store.lock(None, |_| {}).unwrap();
    use flowmeter_store::polars::prelude::*;
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    };
    let time = |name: &str, v: Vec<Option<i64>>| -> Column {
        Series::new(name.into(), v)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap()
            .into_column()
    };
    let list = |name: &str, v: &[&str]| -> Column {
        let s = Series::new(
            "".into(),
            v.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
        );
        Series::new(name.into(), &[s]).into_column()
    };
    let schema_frame = |table: &flowmeter_store::TableDef, mut cols: Vec<Column>| -> DataFrame {
        cols.insert(0, Column::new("repo".into(), ["octo/demo"]));
        // Every other column null, of its type.
        for (name, _) in table.columns {
            if cols.iter().any(|c| c.name() == name) {
                continue;
            }
            let dt = table.schema().get(name).unwrap().clone();
            cols.push(Column::full_null((*name).into(), 1, &dt));
        }
        DataFrame::new(1, cols).unwrap()
    };
    let pr = schema_frame(
        &PULL_REQUESTS,
        vec![
            Column::new("number".into(), [7i64]),
            Column::new("title".into(), ["a change"]),
            time("created_at", vec![Some(t("2024-03-02T10:00:00Z"))]),
            time("merged_at", vec![Some(t("2024-03-03T09:00:00Z"))]),
            Column::new("merge_commit_sha".into(), [c3.as_str()]),
            list("commit_shas", &[&c3]),
            list("labels", &["hotfix"]),
        ],
    );
    guard
        .replace(&PULL_REQUESTS, Some("octo/demo"), pr)
        .unwrap();
    let dep = schema_frame(
        &DEPLOYMENTS,
        vec![
            Column::new("deployment_id".into(), ["gh-9"]),
            Column::new("environment".into(), ["production"]),
            Column::new("sha".into(), [c2.as_str()]),
            time("deployed_at", vec![Some(t("2024-03-06T12:00:00Z"))]),
            Column::new("status".into(), ["success"]),
            Column::new("source".into(), ["github_deployment"]),
        ],
    );
    guard.append(&DEPLOYMENTS, Some("octo/demo"), dep).unwrap();
    let run = schema_frame(
        &WORKFLOW_RUNS,
        vec![
            Column::new("run_id".into(), [42i64]),
            Column::new("workflow_name".into(), ["deploy production"]),
            Column::new("head_branch".into(), ["main"]),
            Column::new("head_sha".into(), [c3.as_str()]),
            Column::new("conclusion".into(), ["success"]),
            time("updated_at", vec![Some(t("2024-03-07T12:00:00Z"))]),
        ],
    );
    guard
        .replace(&WORKFLOW_RUNS, Some("octo/demo"), run)
        .unwrap();
    drop(guard);
    let config = flowmeter_analysis::parse_config(CONFIG, &cfg).unwrap();
    (data, config)
}

const BASE: [&flowmeter_store::TableDef; 7] = [
    &COMMITS,
    &REFS,
    &REPOS,
    &PULL_REQUESTS,
    &DEPLOYMENTS,
    &INCIDENTS,
    &WORKFLOW_RUNS,
];

/// Analyses a copy of `full` with each base table missing (bit clear) or
/// present, and `empty` ones holding zero rows.
fn run_combo(full: &Path, dir: &Path, config: &Config, present: u32, empty: Option<usize>) {
    let data = dir.join(format!("s-{present}-{empty:?}"));
    copy_dir(full, &data);
    for t in TABLES.iter().filter(|t| t.kind == TableKind::Derived) {
        let _ = std::fs::remove_dir_all(data.join(t.name));
    }
    for (k, t) in BASE.iter().enumerate() {
        if present & (1 << k) == 0 {
            std::fs::remove_dir_all(data.join(t.name)).ok();
        }
    }
    let store = Store::open(&data).unwrap();
    if let Some(k) = empty {
        let t = BASE[k];
        let guard = store.lock(None, |_| {}).unwrap();
        let mut df = store.read(t).unwrap();
        df = df.head(Some(0));
        std::fs::remove_dir_all(data.join(t.name)).ok();
        guard.replace(t, Some("octo/demo"), df).unwrap();
    }
    let what = format!("present {present:07b}, empty {empty:?}");
    let guard = store.lock(None, |_| {}).unwrap();
    let report = analyze(&guard, config).unwrap_or_else(|e| panic!("{what}: analyze: {e}"));
    drop(guard);
    assert!(!report.stages.is_empty());
    metrics(&store, config, &MetricsOptions::default())
        .unwrap_or_else(|e| panic!("{what}: metrics: {e}"));
    flow_report(&store, config, &FlowOptions::default())
        .unwrap_or_else(|e| panic!("{what}: flow: {e}"));
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn every_subset_of_base_tables_analyses_without_panic() {
    let fx = Fixture::new();
    let (full, config) = full_store(&fx);
    let dir = tempfile::tempdir().unwrap();
    for present in 0..(1u32 << BASE.len()) {
        run_combo(&full, dir.path(), &config, present, None);
    }
    for k in 0..BASE.len() {
        run_combo(&full, dir.path(), &config, (1 << BASE.len()) - 1, Some(k));
    }
}

/// The GitHub-only store (no `ingest git`): every command answers, and
/// `metrics` still gives frequency and the change fail rate.
#[test]
fn commands_answer_on_a_store_without_git_history() {
    let fx = Fixture::new();
    let (full, _) = full_store(&fx);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    copy_dir(&full, &data);
    for t in [&COMMITS, &REFS, &REPOS] {
        std::fs::remove_dir_all(data.join(t.name)).unwrap();
    }
    let cfg = fx.dir.path().join("flowmeter.toml");
    let cfg = cfg.to_str().unwrap();
    let m: serde_json::Value =
        serde_json::from_str(&ok(&data, &["--config", cfg, "metrics", "-f", "json"])).unwrap();
    let all = m["periods"].as_array().unwrap().last().unwrap().clone();
    // d-1 (failure), d-2, d-3, gh-9 and run:42: five deployments, four deploy days.
    assert_eq!(all["deployments"], 5, "{all}");
    assert_eq!(all["deploy_days"], 4, "{all}");
    // d-1 failed by its status; INC-1 names c3, which no deployment shipped
    // (no history): the window charges it to d-2, live when it opened; INC-2
    // (no repo) goes to gh-9, live then. Three of five.
    assert_eq!(all["failed"], 3, "{all}");
    assert_eq!(all["lead_time_median_h"], serde_json::Value::Null, "{all}");
    let analyze = flowmeter(&data, &["--config", cfg, "analyze"]);
    assert!(analyze.status.success());
    let err = String::from_utf8_lossy(&analyze.stderr);
    assert!(err.contains("ingest git PATH --name octo/demo"), "{err}");
    let report = dir.path().join("report");
    let report = report.to_str().unwrap();
    answer_without_panic(
        &data,
        cfg,
        &[
            &["flow"][..],
            &["risk"],
            &["whatif"],
            &[
                "compare",
                "--before",
                "2024-03-01..2024-03-04",
                "--after",
                "2024-03-05..2024-03-08",
            ],
            &["explain", "deployment", "d-2"],
            &["sql", "select * from deployment_stats"],
            &["report", "monthly", "--month", "2024-03", "--out", report],
        ],
    );
    assert!(std::path::Path::new(&dir.path().join("report/report.html")).exists());
}

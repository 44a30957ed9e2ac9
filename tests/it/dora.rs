//! DORA: deployments, the commit mapping, failure signals and metrics on a
//! fixture organisation whose every number is worked out by hand below.

use serde_json::{json, Value};

use crate::common::*;

const CONFIG: &str = r#"
# The hand-computed tiers below are the 2024 table's; 2025 is checked with --tiers.
tiers = 2024

[[environment]]
name = "staging"
branch = "main"

[[environment]]
name = "production"
tags = "v*"
file = "deploys.csv"
production = true

[failure]
incident_window = "2d"
revert_window = "3d"
"#;

/// The fixture: one linear history on main, whose first-parent commits are the
/// staging deployments (a `staging` branch at its tip, only fast-forwarded,
/// would record none: see `deploy_rules`), annotated
/// release tags (production), a deploy CSV (a rollback and a failed deploy)
/// and an incident CSV. Every commit adds or removes one one-line file.
pub(crate) struct Org {
    pub fx: Fixture,
    pub data: std::path::PathBuf,
    pub config: String,
    c: Vec<String>, // c[1]..c[11]; c[0] unused
}

fn tag(fx: &Fixture, name: &str, at: &str, sha: &str) {
    fx.git_at(at, &ALICE, &["tag", "-a", name, "-m", name, sha]);
}

pub(crate) fn build_org() -> Org {
    let fx = Fixture::new();
    let mut c = vec![String::new()];
    let commit = |c: &mut Vec<String>, at: &str, msg: &str, file: &str| {
        let sha = fx.commit(at, &ALICE, msg, &[(file, b"x\n")]);
        c.push(sha);
    };
    commit(&mut c, "2024-03-01T09:00:00Z", "initial", "a.txt"); // c1
    commit(&mut c, "2024-03-01T10:00:00Z", "feature a", "b.txt"); // c2
    tag(&fx, "v1", "2024-03-01T12:00:00Z", &c[2]);
    commit(&mut c, "2024-03-02T08:00:00Z", "feature b", "c3.txt"); // c3
    commit(&mut c, "2024-03-02T20:00:00Z", "feature c", "c4.txt"); // c4
    tag(&fx, "v2", "2024-03-03T00:00:00Z", &c[4]);
    commit(&mut c, "2024-03-04T12:00:00Z", "feature d", "c5.txt"); // c5
    fx.git_at(
        "2024-03-05T06:00:00Z",
        &ALICE,
        &["revert", "--no-edit", &c[4]],
    );
    c.push(fx.head()); // c6: reverts c4
                       // c7 is dated after the tag that ships it: clock skew.
    commit(&mut c, "2024-03-06T18:00:00Z", "feature e", "c7.txt"); // c7
    tag(&fx, "v3", "2024-03-06T12:00:00Z", &c[7]);
    commit(
        &mut c,
        "2024-03-07T15:00:00Z",
        "Hotfix: null check",
        "c8.txt",
    ); // c8
    tag(&fx, "v3.0.1", "2024-03-07T16:00:00Z", &c[8]);
    commit(&mut c, "2024-03-08T10:00:00Z", "feature f", "c9.txt"); // c9
    commit(&mut c, "2024-03-09T09:00:00Z", "feature g", "c10.txt"); // c10
    tag(&fx, "v4", "2024-03-09T10:00:00Z", &c[10]);
    commit(&mut c, "2024-03-12T09:00:00Z", "feature h", "c11.txt"); // c11
    tag(&fx, "v5", "2024-03-12T10:00:00Z", &c[11]);
    fx.git(&["branch", "staging", &c[11]]);

    let data = fx.dir.path().join("store");
    let config = fx.dir.path().join("flowmeter.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let deploys = fx.dir.path().join("deploys.csv");
    std::fs::write(
        &deploys,
        format!(
            "deployed_at,environment,sha,status,deployment_id\n\
             2024-03-07 09:00:00,production,{},success,rb-1\n\
             2024-03-08T12:00:00Z,production,{},failure,d-100\n",
            c[4],
            &c[9][..10]
        ),
    )
    .unwrap();
    let incidents = fx.dir.path().join("incidents.csv");
    std::fs::write(
        &incidents,
        format!(
            "incident_id,opened_at,resolved_at,title,caused_by_sha,deployment_id\n\
             INC-1,2024-03-03 06:00:00,2024-03-03 09:00:00,checkout errors,{},\n\
             INC-2,2024-03-09T20:00:00Z,2024-03-10T02:00:00Z,latency,,\n\
             INC-3,2024-03-20 00:00:00,,unrelated,,\n\
             INC-4,2024-03-08 13:00:00,,deploy d-100 broke login,,d-100\n",
            &c[3][..10]
        ),
    )
    .unwrap();
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    let config = config.to_str().unwrap().to_string();
    ok(&data, &["--config", &config, "ingest", "deployments"]); // the `file =` of the config
    ok(&data, &["ingest", "incidents", incidents.to_str().unwrap()]);
    Org {
        fx,
        data,
        config,
        c,
    }
}

/// `sql` with the fixture's config (without it, sql would re-analyse with the default).
fn q(data: &std::path::Path, cfg: &str, sql: &str) -> Vec<Value> {
    let out = ok(data, &["--config", cfg, "sql", sql, "--format", "json"]);
    match serde_json::from_str(&out).unwrap() {
        Value::Array(rows) => rows,
        other => panic!("not an array: {other}"),
    }
}

fn s12(sha: &str) -> &str {
    &sha[..12]
}

#[test]
fn fixture_org_every_number_by_hand() {
    let org = build_org();
    let (data, cfg, c) = (&org.data, org.config.as_str(), &org.c);
    ok(data, &["--config", cfg, "analyze"]);

    // Production, in time order. Failure signals, in the order they are checked
    // (status, incidents, revert, rollback, hotfix):
    // - v1 (03-01 12:00): first observed deployment: c1, c2 are baseline, batch 0.
    // - v2 (03-03 00:00): ships c3 c4. INC-1 names c3. c6 reverts c4 at 03-05 06:00,
    //   2d6h after v2 (<= 3d). Recovery: INC-1 resolved 03-03 09:00 -> 9h = 32400 s.
    // - v3 (03-06 12:00): ships c5 c6 c7 (a revert: rework). rb-1 redeploys c4 (v2's
    //   sha): v3 is rolled back; the next deployment that ships something is the
    //   hotfix v3.0.1. Recovery: next deployment that did not fail, rb-1 at
    //   03-07 09:00 -> 21h = 75600 s.
    // - rb-1 (03-07 09:00): ships nothing, rollback (rework); not failed.
    // - v3.0.1 (03-07 16:00): ships c8 "Hotfix: ..." (rework); not failed.
    // - d-100 (03-08 12:00): status failure, so it ships nothing (c9 ships with
    //   the next successful deployment, v4); INC-4 names it by
    //   deployment_id but is unresolved, so recovery falls back to the next
    //   deployment that did not fail: v4 failed too, so v5 at 03-12 10:00 ->
    //   3d22h = 338400 s.
    // - v4 (03-09 10:00): ships c9 c10. INC-2 (no sha) opens 03-09 20:00, 10h after
    //   the latest production deployment (<= 2d). Recovery: INC-2 resolved
    //   03-10 02:00 -> 16h = 57600 s.
    // - v5 (03-12 10:00): ships c11. INC-3 opens 7d14h after it: > 2d, no link.
    let rows = q(
        data,
        cfg,
        "select deployment_id, batch_commits, batch_additions + batch_deletions as lines, failed, \
         failure_reasons, recovery_s, is_rework, is_rollback, is_baseline, baseline_commits \
         from deployment_stats where environment = 'production' order by deployed_at",
    );
    let want = json!([
        {"deployment_id": "tag:v1", "batch_commits": 0, "lines": 0, "failed": false, "failure_reasons": [], "recovery_s": null, "is_rework": false, "is_rollback": false, "is_baseline": true, "baseline_commits": 2},
        {"deployment_id": "tag:v2", "batch_commits": 2, "lines": 2, "failed": true, "failure_reasons": [
            format!("incident INC-1: names shipped commit {}", s12(&c[3])),
            format!("revert {} of {}: committed 2d6h after, within revert_window 3d", s12(&c[6]), s12(&c[4])),
        ], "recovery_s": 32400, "is_rework": false, "is_rollback": false, "is_baseline": false, "baseline_commits": 0},
        {"deployment_id": "tag:v3", "batch_commits": 3, "lines": 3, "failed": true, "failure_reasons": [
            "rolled back by rb-1", "hotfix tag:v3.0.1 followed"
        ], "recovery_s": 75600, "is_rework": true, "is_rollback": false, "is_baseline": false, "baseline_commits": 0},
        {"deployment_id": "rb-1", "batch_commits": 0, "lines": 0, "failed": false, "failure_reasons": [], "recovery_s": null, "is_rework": true, "is_rollback": true, "is_baseline": false, "baseline_commits": 0},
        {"deployment_id": "tag:v3.0.1", "batch_commits": 1, "lines": 1, "failed": false, "failure_reasons": [], "recovery_s": null, "is_rework": true, "is_rollback": false, "is_baseline": false, "baseline_commits": 0},
        {"deployment_id": "d-100", "batch_commits": 0, "lines": 0, "failed": true, "failure_reasons": ["status: failure", "incident INC-4: names this deployment"], "recovery_s": 338400, "is_rework": false, "is_rollback": false, "is_baseline": false, "baseline_commits": 0},
        {"deployment_id": "tag:v4", "batch_commits": 2, "lines": 2, "failed": true, "failure_reasons": [
            "incident INC-2: opened 10h after, within incident_window 2d"
        ], "recovery_s": 57600, "is_rework": false, "is_rollback": false, "is_baseline": false, "baseline_commits": 0},
        {"deployment_id": "tag:v5", "batch_commits": 1, "lines": 1, "failed": false, "failure_reasons": [], "recovery_s": null, "is_rework": false, "is_rollback": false, "is_baseline": false, "baseline_commits": 0},
    ]);
    assert_eq!(Value::Array(rows), want);

    // Staging: each first-parent commit of `staging` is a deployment at its
    // committer time. c1 is baseline. c6 reverts c4 2d10h after staging got c4
    // (03-02 20:00 -> 03-05 06:00). c8 is a hotfix, so c7 before it failed. No
    // incident signals outside production.
    let rows = q(
        data,
        cfg,
        "select deployment_id, failure_reasons from deployment_stats \
         where environment = 'staging' and failed order by deployed_at",
    );
    assert_eq!(
        Value::Array(rows),
        json!([
            {"deployment_id": format!("branch:main:{}", s12(&c[4])), "failure_reasons": [
                format!("revert {} of {}: committed 2d10h after, within revert_window 3d", s12(&c[6]), s12(&c[4]))
            ]},
            {"deployment_id": format!("branch:main:{}", s12(&c[7])), "failure_reasons": [
                format!("hotfix branch:main:{} followed", s12(&c[8]))
            ]},
        ])
    );
    let n = q(
        data,
        cfg,
        "select count(*) as n from deployment_stats where environment = 'staging'",
    );
    assert_eq!(n, vec![json!({"n": 11})]);

    // The mapping: which production deployment shipped which commit.
    let rows = q(
        data,
        cfg,
        "select deployment_id, sha from deployment_commits where environment = 'production' order by deployment_id, sha",
    );
    let mut want: Vec<(String, &str)> = vec![
        ("tag:v4".into(), &c[9]),
        ("tag:v2".into(), &c[3]),
        ("tag:v2".into(), &c[4]),
        ("tag:v3".into(), &c[5]),
        ("tag:v3".into(), &c[6]),
        ("tag:v3".into(), &c[7]),
        ("tag:v3.0.1".into(), &c[8]),
        ("tag:v4".into(), &c[10]),
        ("tag:v5".into(), &c[11]),
    ];
    want.sort();
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["deployment_id"].as_str().unwrap().into(),
                r["sha"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        want.iter()
            .map(|(a, b)| (a.clone(), b.to_string()))
            .collect::<Vec<_>>()
    );

    // The clock-skewed commit: excluded, flagged, not clamped.
    let rows = q(
        data,
        cfg,
        &format!("select lead_time_s, anomaly from changes where environment = 'production' and sha = '{}'", c[7]),
    );
    assert_eq!(
        rows,
        vec![json!({"lead_time_s": null, "anomaly": "clock_skew"})]
    );

    // Metrics for March 2024, production.
    // Lead times (s), non-merge, non-baseline: c3 57600, c4 14400, c5 172800,
    // c6 108000, c8 3600, c9 86400 (03-08 10:00 to v4, d-100 failed), c10 3600,
    // c11 3600 (c7 is clock skew).
    // Sorted: 3600 3600 3600 14400 57600 86400 108000 172800 (n = 8)
    //   median: rank 3.5 -> (14400 + 57600) / 2 = 36000 s = 10 h
    //   p75: rank 5.25 -> 86400 + 0.25 * 21600 = 91800 s = 25.5 h
    //   p90: rank 6.3 -> 108000 + 0.3 * 64800 = 127440 s = 35.4 h
    // Deployments 8; failed v2 v3 d-100 v4 = 4 -> 0.5; rework v3 rb-1 v3.0.1 = 3 -> 0.375.
    // Recovery 32400 57600 75600 338400 -> median 66600 s = 18.5 h.
    // Deploy days count successful deployments only, so d-100 (status failure,
    //   the only deployment on 03-08) drops out: 03-01 03-03 03-06 03-07 03-09
    //   03-12 = 6 in 31 days: 6 / (31 / 7) = 1.3548 per week -> weekly.
    // Batch (7 non-baseline deployments) commits 2 3 0 1 0 2 1 -> sorted 0 0 1 1 2 2 3:
    //   median 1; p90 rank 5.4 -> 2 + 0.4 = 2.4; lines the same; PRs all 0.
    // Tiers (2024): deploy frequency >= 1/week high; lead 10 h <= 24 h elite;
    //   CFR 0.5 > 0.2 low; recovery 18.5 h <= 24 h high. 8 < 10: low confidence.
    let out = ok(data, &["--config", cfg, "metrics", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["tiers_year"], 2024);
    assert_eq!(v["summary"]["environments"], json!(["production"]));
    let periods = v["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 2, "{periods:?}"); // 2024-03 and all
    let m = &periods[0];
    assert_eq!(m["period"], "2024-03");
    let want = json!({
        "deployments": 8, "deploy_days": 6, "frequency": "weekly", "failed": 4, "change_fail_rate": 0.5,
        "rework": 3, "rework_rate": 0.375, "recovery_median_h": 18.5,
        "lead_time_median_h": 10.0, "lead_time_p75_h": 25.5,
        "batch_commits_median": 1.0, "batch_prs_median": 0.0, "batch_prs_p90": 0.0, "batch_lines_median": 1.0,
        "changes": 9, "clock_skew": 1, "baseline_commits": 2, "low_confidence": true,
        "tier_deploy_frequency": "high", "tier_lead_time": "elite", "tier_change_fail_rate": "low", "tier_recovery": "high",
    });
    for (k, w) in want.as_object().unwrap() {
        assert_eq!(&m[k], w, "{k}");
    }
    let close = |k: &str, w: f64| {
        let g = m[k].as_f64().unwrap();
        assert!((g - w).abs() < 1e-9, "{k}: {g} != {w}");
    };
    close("lead_time_p90_h", 35.4);
    close("deploy_days_per_week", 42.0 / 31.0);
    close("batch_commits_p90", 2.4);
    close("batch_lines_p90", 2.4);
    assert_eq!(periods[1]["period"], "all");
    assert_eq!(periods[1]["lead_time_median_h"], 10.0);

    // `compare` reads lead times by the same rule: over the two halves of
    // March it has the same 8 lead times and the same 1 clock-skewed change
    // (stored as a null span marked `clock_skew`, which it once dropped).
    let out = ok(
        data,
        &[
            "--config",
            cfg,
            "compare",
            "--before",
            "2024-03-01..2024-03-15",
            "--after",
            "2024-03-16..2024-04-30",
            "--format",
            "json",
        ],
    );
    let cmp: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cmp["negative_lead_times"], m["clock_skew"]);
    let lead = cmp["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "lead_time")
        .unwrap();
    assert_eq!(
        lead["n_before"].as_u64().unwrap() + lead["n_after"].as_u64().unwrap(),
        8
    );

    // --tiers 2023: CFR 0.5 > 0.15 is low, recovery 18.5 h high.
    let out = ok(
        data,
        &[
            "--config", cfg, "metrics", "--format", "json", "--tiers", "2023",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["tiers_year"], 2023);

    // --tiers 2025: no tier labels; the dora.dev Quick Check scores instead,
    // worked out by hand from data-service.ts (categorical score =
    // (answer - 1) / 5 * 10, percentage score = 10 - percent / 10) for the
    // 2024-03 row above:
    //   lead time median 10 h  -> "Less than one day" (5)          -> 8
    //   42/31 = 1.35 deploy days/week (>= 1, < 3) -> "between once per
    //     day and once per week" (4)                                -> 6
    //   recovery median 18.5 h -> "Less than one day" (5)          -> 8
    //   change fail rate 0.5   -> 50%                               -> 5
    //   rework rate 0.375      -> 37.5% rounds to 38%               -> 6.2
    //   overall = (8 + 6 + 8 + 5 + 6.2) / 5 = 6.64
    // The population is "All industries" (2025 industry_metrics.json "all").
    let out = ok(
        data,
        &[
            "--config", cfg, "metrics", "--format", "json", "--tiers", "2025",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["tiers_year"], 2025);
    let b = &v["summary"]["benchmarks"];
    assert_eq!(b["benchmarks"]["name"], "All industries");
    assert_eq!(
        b["benchmarks"]["lead_time"],
        json!({"mean": 5.5, "std": 2.4})
    );
    assert!(
        b["source"]
            .as_str()
            .unwrap()
            .starts_with("dora-team/dora.dev@"),
        "{b}"
    );
    let m = &v["periods"][0];
    for k in [
        "tier_deploy_frequency",
        "tier_lead_time",
        "tier_change_fail_rate",
        "tier_recovery",
    ] {
        assert!(m[k].is_null(), "{k}: {}", m[k]);
    }
    let qc = &m["quick_check"];
    let want = [
        ("lead_time", 5, 8.0),
        ("deploy_frequency", 4, 6.0),
        ("recovery", 5, 8.0),
        ("change_fail_rate", 50, 5.0),
        ("rework_rate", 38, 6.2),
    ];
    let got = qc["metrics"].as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{qc}");
    for (g, (metric, answer, score)) in got.iter().zip(want) {
        assert_eq!(g["metric"], metric);
        assert_eq!(g["answer"], answer, "{g}");
        assert!((g["score"].as_f64().unwrap() - score).abs() < 1e-9, "{g}");
    }
    assert_eq!(got[0]["answer_text"], "Less than one day");
    assert!(
        (qc["overall"].as_f64().unwrap() - 6.64).abs() < 1e-9,
        "{qc}"
    );
    // The table: score rows beside the population's mean ± sd, no tier rows.
    let table = ok(data, &["--config", cfg, "metrics", "--tiers", "2025"]);
    assert!(table.contains("benchmarks: DORA 2025 Quick Check scores (0-10, 10 best) beside the All industries mean +/- sd"), "{table}");
    assert!(table.contains("2025 mean ± sd"), "{table}");
    assert!(table.contains("5.5 ± 2.4"), "{table}");
    assert!(table.contains("score_rework_rate"), "{table}");
    assert!(
        !table.contains("tier_") && !table.contains("elite"),
        "{table}"
    );
    // Weekly periods: 2024-W09 (02-26..03-03) holds v1 and v2.
    let out = ok(
        data,
        &[
            "--config",
            cfg,
            "metrics",
            "--format",
            "json",
            "--by",
            "week",
            "--since",
            "2024-03-01",
            "--until",
            "2024-03-03",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["periods"][0]["period"], "2024-W09");
    assert_eq!(v["periods"][0]["deployments"], 2);
    // Only 03-01..03-03 of that week is in range: 2 deploy days / (3 / 7) = 14 / 3.
    assert_eq!(v["periods"][0]["days"], 3);
    let per_week = v["periods"][0]["deploy_days_per_week"].as_f64().unwrap();
    assert!((per_week - 14.0 / 3.0).abs() < 1e-9, "{per_week}");
    assert_eq!(v["periods"][0]["lead_time_median_h"], 10.0); // (57600 + 14400) / 2 = 36000 s

    // The table names the tier year and flags low confidence.
    let table = ok(data, &["--config", cfg, "metrics"]);
    assert!(table.contains("tiers: DORA 2024"), "{table}");
    assert!(
        table.contains("low confidence (< 10 deployments): 2024-03, all"),
        "{table}"
    );

    // explain: the audit trail.
    let text = ok(data, &["--config", cfg, "explain", "deployment", "tag:v3"]);
    assert!(text.contains("rolled back by rb-1"), "{text}");
    assert!(text.contains("hotfix tag:v3.0.1 followed"), "{text}");
    assert!(
        text.contains("recovered    2024-03-07T09:00:00Z (after 21h)"),
        "{text}"
    );
    assert!(text.contains("[clock_skew]"), "{text}");
    let text = ok(data, &["--config", cfg, "explain", "commit", &c[3][..8]]);
    assert!(
        text.contains("staging        2024-03-02T08:00:00Z"),
        "{text}"
    );
    assert!(
        text.contains("production     2024-03-03T00:00:00Z by tag:v2, lead time 16h"),
        "{text}"
    );
    let err = fails(data, &["--config", cfg, "explain", "deployment", "v3"]);
    assert!(
        err.contains("deployment `v3` not found; did you mean tag:v3"),
        "{err}"
    );
}

fn derived_bytes(data: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    for t in ["deployment_commits", "changes", "deployment_stats"] {
        for (p, b) in snapshot_dir(&data.join(t)) {
            assert!(p.to_str().unwrap().ends_with(".parquet"));
            out.push((t.to_string(), b));
        }
    }
    out
}

#[test]
fn analyze_twice_is_byte_identical() {
    let org = build_org();
    ok(&org.data, &["--config", &org.config, "analyze"]);
    let first = derived_bytes(&org.data);
    assert_eq!(first.len(), 3);
    ok(&org.data, &["--config", &org.config, "analyze"]);
    assert_eq!(derived_bytes(&org.data), first);
}

#[test]
fn sql_reruns_a_stale_analysis() {
    let org = build_org();
    // Never analysed: sql runs the analysis first.
    let n = query(&org.data, "select count(*) as n from deployment_stats");
    assert_eq!(n, vec![json!({"n": 11})]); // default config: `main`, 11 first-parent commits
                                           // A changed config makes it stale again.
    let out = flowmeter(
        &org.data,
        &[
            "--config",
            &org.config,
            "sql",
            "select count(*) as n from deployment_stats",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("analysis was stale"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("19")); // 11 staging + 8 production
    let out = flowmeter(
        &org.data,
        &["--config", &org.config, "sql", "select 1 as one"],
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("stale"));
}

#[test]
fn bad_csv_row_names_the_row_and_leaves_the_store_untouched() {
    let org = build_org();
    let before = snapshot_dir(&org.data);
    let bad = org.fx.dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "deployed_at,environment,sha\n2024-04-01 10:00:00,production,{}\n2024-04-02 25:00:00,production,{}\n",
            org.c[11], org.c[11]
        ),
    )
    .unwrap();
    let err = fails(&org.data, &["ingest", "deployments", bad.to_str().unwrap()]);
    assert!(
        err.contains("bad.csv: row 2 (line 3), column `deployed_at`"),
        "{err}"
    );
    let bad_json = org.fx.dir.path().join("bad.json");
    std::fs::write(&bad_json, r#"[{"incident_id": "X", "opened_at": "2024-04-01 10:00:00"}, {"opened_at": "2024-04-01 10:00:00"}]"#).unwrap();
    let err = fails(
        &org.data,
        &["ingest", "incidents", bad_json.to_str().unwrap()],
    );
    assert!(
        err.contains("bad.json: row 2, column `incident_id`: is required"),
        "{err}"
    );
    assert_eq!(snapshot_dir(&org.data), before);
}

#[test]
fn industry_and_org_size_pick_the_2025_population() {
    let org = build_org();
    let cfg = org.fx.dir.path().join("industry.toml");
    let with = |line: &str| {
        std::fs::write(&cfg, CONFIG.replace("tiers = 2024", line)).unwrap();
        cfg.to_str().unwrap().to_string()
    };
    // Technology (2025 industry_metrics.json): lead time 5.7 ± 2.4; the change
    // fail rate's stored 1.9 is shown as 10 - 1.9 = 8.1. The scores do not
    // depend on the population: lead time 10 h is still 8.
    let c = with("industry = \"technology\"");
    let v: Value = serde_json::from_str(&ok(
        &org.data,
        &["--config", &c, "metrics", "--format", "json"],
    ))
    .unwrap();
    let b = &v["summary"]["benchmarks"];
    assert_eq!(
        b["population"],
        json!({"by": "industry", "key": "technology"})
    );
    assert_eq!(b["benchmarks"]["name"], "Technology");
    assert_eq!(
        b["benchmarks"]["lead_time"],
        json!({"mean": 5.7, "std": 2.4})
    );
    assert!(
        (b["benchmarks"]["change_fail_rate"]["mean"]
            .as_f64()
            .unwrap()
            - 8.1)
            .abs()
            < 1e-9
    );
    let lead = &v["periods"][0]["quick_check"]["metrics"][0];
    assert_eq!(lead["benchmark"], json!({"mean": 5.7, "std": 2.4}));
    assert!((lead["score"].as_f64().unwrap() - 8.0).abs() < 1e-9);
    // 100 to 499 employees: recovery 2.6 ± 2.1 as the file gives it (see docs/metrics.md).
    let c = with("org_size = \"fewer_than_500\"");
    let v: Value = serde_json::from_str(&ok(
        &org.data,
        &["--config", &c, "metrics", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(
        v["summary"]["benchmarks"]["benchmarks"]["name"],
        "100 to 499 employees"
    );
    assert_eq!(
        v["summary"]["benchmarks"]["benchmarks"]["recovery"],
        json!({"mean": 2.6, "std": 2.1})
    );
    assert!(v["summary"]["benchmarks"]["files"][0]
        .as_str()
        .unwrap()
        .ends_with("organization_size_metrics.json"));
    // An unknown key names the file and lists the valid ones.
    let c = with("industry = \"banking\"");
    let err = fails(&org.data, &["--config", &c, "metrics"]);
    assert!(err.contains("industry.toml:3: `industry`: `industry = \"banking\"` is not a key of dora-team/dora.dev svelte/quick-check/src/lib/data/editions/2025/industry_metrics.json; valid values: \"all\" (All industries)"), "{err}");
    assert!(
        err.contains("\"financial_services\" (Financial Services)"),
        "{err}"
    );
}

#[test]
fn config_errors_name_the_line_and_the_key() {
    let org = build_org();
    let cfg = org.fx.dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        CONFIG.replace("revert_window = \"3d\"", "revert_window = \"3 days\""),
    )
    .unwrap();
    let err = fails(&org.data, &["--config", cfg.to_str().unwrap(), "analyze"]);
    assert!(
        err.contains("bad.toml:17: `failure.revert_window`: bad duration `3 days`"),
        "{err}"
    );
    std::fs::write(
        &cfg,
        CONFIG.replace("production = true", "productoin = true"),
    )
    .unwrap();
    let err = fails(&org.data, &["--config", cfg.to_str().unwrap(), "metrics"]);
    assert!(
        err.contains("bad.toml:13: `productoin`: unknown field `productoin`"),
        "{err}"
    );
}

#[test]
fn init_guesses_environments_and_refuses_to_overwrite() {
    let org = build_org();
    org.fx.git(&["branch", "develop"]);
    let out = org.fx.dir.path().join("guessed.toml");
    ok(
        &org.data,
        &[
            "init",
            org.fx.path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("name = \"develop\"\nbranch = \"develop\""),
        "{text}"
    );
    assert!(
        text.contains("name = \"staging\"\nbranch = \"staging\""),
        "{text}"
    );
    assert!(
        text.contains("name = \"production\"\ntags = \"v[0-9]*\""),
        "{text}"
    );
    let err = fails(
        &org.data,
        &[
            "init",
            org.fx.path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(err.contains("already exists; use --force"), "{err}");
    // The guessed config works end to end.
    ok(&org.data, &["--config", out.to_str().unwrap(), "analyze"]);
}

#[test]
fn pr_lead_time_breakdown() {
    use flowmeter_store::polars::prelude::*;
    use flowmeter_store::{Store, PULL_REQUESTS};
    let org = build_org();
    let (data, cfg, c) = (&org.data, org.config.as_str(), &org.c);
    // PR #7 squash/rebase-style: its merge commit is c4 and c3 is one of its commits.
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    };
    let store = Store::open(data).unwrap();
    let guard = store.lock(None, |_| {}).unwrap();
    let mut df = df!(
        "repo" => ["repo"], "number" => [7i64], "title" => ["feature b and c"], "author" => ["alice"],
        "base_ref" => ["main"], "head_ref" => ["feature/bc"], "merge_commit_sha" => [c[4].as_str()],
        "additions" => [2i64], "deletions" => [0i64], "changed_files" => [2i64], "commits" => [2i64],
    )
    .unwrap();
    for (name, v) in [
        ("created_at", t("2024-03-02T09:00:00Z")),
        ("merged_at", t("2024-03-02T20:00:00Z")),
        ("closed_at", t("2024-03-02T20:00:00Z")),
        ("updated_at", t("2024-03-02T20:00:00Z")),
        ("first_commit_at", t("2024-03-02T07:00:00Z")),
        ("first_review_at", t("2024-03-02T12:00:00Z")),
    ] {
        df.with_column(
            Series::new(name.into(), [v])
                .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                .unwrap()
                .into_column(),
        )
        .unwrap();
    }
    let list = |v: &[&str]| {
        Series::new(
            "x".into(),
            [Series::new(
                "".into(),
                v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )],
        )
    };
    df.with_column(list(&[&c[3]]).with_name("commit_shas".into()).into_column())
        .unwrap();
    df.with_column(list(&["feature"]).with_name("labels".into()).into_column())
        .unwrap();
    guard
        .upsert(&PULL_REQUESTS, Some("repo"), df, &["number"])
        .unwrap();
    drop(guard);

    // coding 07:00 -> 09:00 = 2 h, pickup 09:00 -> 12:00 = 3 h, review 12:00 ->
    // 20:00 = 8 h, waiting 03-02 20:00 -> v2 at 03-03 00:00 = 4 h. v2's batch has
    // one PR, the other six non-baseline deployments none: batch_prs sorted
    // 0 0 0 0 0 0 1 -> median 0, p90 rank 5.4 -> 0.4.
    let out = ok(data, &["--config", cfg, "metrics", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let m = &v["periods"][0];
    assert_eq!(v["summary"]["has_pull_requests"], true);
    for (k, w) in [
        ("prs", 1.0),
        ("coding_median_h", 2.0),
        ("pickup_median_h", 3.0),
        ("review_median_h", 8.0),
        ("waiting_median_h", 4.0),
        ("batch_prs_median", 0.0),
    ] {
        assert_eq!(m[k].as_f64(), Some(w), "{k}");
    }
    assert!((m["batch_prs_p90"].as_f64().unwrap() - 0.4).abs() < 1e-9);
    let rows = q(data, cfg, &format!(
        "select pr_number, merged_at from changes where environment = 'production' and sha in ('{}', '{}')",
        c[3], c[4]
    ));
    assert_eq!(
        rows,
        vec![json!({"pr_number": 7, "merged_at": "2024-03-02T20:00:00Z"}); 2]
    );
    let text = ok(data, &["--config", cfg, "explain", "commit", &c[3]]);
    assert!(text.contains("PR #7 feature b and c"), "{text}");
    assert!(
        text.contains("coding 2h  pickup 3h  review 8h  waiting for deploy 4h"),
        "{text}"
    );
}

#[test]
fn tag_mapping_script_agrees_with_git_rev_list() {
    let org = build_org();
    let fx = &org.fx;
    // A lightweight tag older than every other (dated by its commit), and a
    // release from a side branch that later tags do not contain.
    fx.git(&["tag", "v0.9", &org.c[1]]);
    fx.git(&["checkout", "-q", "-b", "side", &org.c[5]]);
    fx.commit(
        "2024-03-10T10:00:00Z",
        &ALICE,
        "side fix",
        &[("side.txt", b"s\n")],
    );
    fx.git(&["tag", "v4.1"]);
    fx.git(&["checkout", "-q", "main"]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/check_tag_mapping.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg(&fx.path)
        .arg("v*")
        .arg(env!("CARGO_BIN_EXE_flowmeter"))
        .env_remove("FLOWMETER_DATA")
        .env_remove("FLOWMETER_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("8 matching tags"), "{stdout}");
    assert!(
        stdout.contains("checked 7 tags after the first: 0 mismatches"),
        "{stdout}"
    );
}

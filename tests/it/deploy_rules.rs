//! What a deployment is: the branch-source rule (made on the branch, or
//! fast-forwarded), git's branch state under clock skew, failed deployments,
//! roll-forwards, on fixtures with pinned dates. Every expected number is
//! worked out by hand in the comments.

use serde_json::{json, Value};

use crate::common::*;

fn q(data: &std::path::Path, cfg: &str, sql: &str) -> Vec<Value> {
    let out = ok(data, &["--config", cfg, "sql", sql, "--format", "json"]);
    serde_json::from_str(&out).unwrap()
}

fn json_of(data: &std::path::Path, cfg: &str, args: &[&str]) -> Value {
    let mut a = vec!["--config", cfg];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--format", "json"]);
    serde_json::from_str(&ok(data, &a)).unwrap()
}

/// The whole-range row of `metrics --format json`.
fn total(m: &Value) -> &Value {
    let periods = m["periods"].as_array().unwrap();
    let last = periods.last().unwrap();
    assert_eq!(last["period"], "all");
    last
}

fn setup(fx: &Fixture, config: &str) -> (std::path::PathBuf, String) {
    let data = fx.dir.path().join("store");
    let cfg = fx.dir.path().join("flowmeter.toml");
    std::fs::write(&cfg, config).unwrap();
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    (data, cfg.to_str().unwrap().to_string())
}

fn tag(fx: &Fixture, name: &str, at: &str, sha: &str) {
    fx.git_at(at, &ALICE, &["tag", "-a", name, "-m", name, sha]);
}

/// `production` was only ever fast-forwarded along `main`, and release tags
/// mark the real deployments.
///
/// | commit | committed (2024-05) | tag                    |
/// |--------|---------------------|------------------------|
/// | c1     | 01 10:00            |                        |
/// | c2     | 02 10:00            | v1 at 02 12:00         |
/// | c3     | 03 10:00            |                        |
/// | c4     | 04 10:00            | v2 at 04 12:00         |
/// | c5     | 05 10:00            | (production's tip)     |
///
/// Every first-parent commit of `production` is one of `main`'s: only its tip
/// (c5) is a branch deployment, and the tags are kept. v1 is the first
/// deployment (c1, c2 baseline); v2 ships c3 and c4 (lead times 1d2h and 2h);
/// the tip c5 arrived at an unknown time: baseline, shipped by no one.
#[test]
fn a_fast_forwarded_branch_keeps_its_tip_and_its_tags_and_flow_agrees_with_metrics() {
    let fx = Fixture::new();
    let mut c = vec![String::new()];
    for (i, day) in ["01", "02", "03", "04", "05"].iter().enumerate() {
        let sha = fx.commit(
            &format!("2024-05-{day}T10:00:00Z"),
            &ALICE,
            &format!("change {}", i + 1),
            &[(&format!("f{i}.txt"), b"x\n")],
        );
        c.push(sha);
    }
    tag(&fx, "v1", "2024-05-02T12:00:00Z", &c[2]);
    tag(&fx, "v2", "2024-05-04T12:00:00Z", &c[4]);
    fx.git(&["branch", "production", &c[5]]);
    let (data, cfg) = setup(
        &fx,
        "[[environment]]\nname = \"main\"\nbranch = \"main\"\n\n\
         [[environment]]\nname = \"production\"\nbranch = \"production\"\ntags = \"v*\"\nproduction = true\n",
    );
    let rows = q(
        &data,
        &cfg,
        "select deployment_id, shipped_commits, baseline_commits, is_baseline from deployment_stats \
         where environment = 'production' order by deployed_at, deployment_id",
    );
    assert_eq!(
        json!(rows),
        json!([
            {"deployment_id": "tag:v1", "shipped_commits": 0, "baseline_commits": 2, "is_baseline": true},
            {"deployment_id": "tag:v2", "shipped_commits": 2, "baseline_commits": 0, "is_baseline": false},
            {"deployment_id": format!("branch:production:{}", &c[5][..12]), "shipped_commits": 0,
             "baseline_commits": 1, "is_baseline": true},
        ])
    );
    // No production deployment is a first-parent commit of main other than the tip.
    let branch = q(
        &data,
        &cfg,
        "select sha from deployment_stats where environment = 'production' and source = 'branch'",
    );
    assert_eq!(json!(branch), json!([{"sha": c[5]}]));
    let lead = q(
        &data,
        &cfg,
        "select sha, lead_time_s from changes where environment = 'production' \
         and lead_time_s is not null order by sha",
    );
    let mut want = vec![
        json!({"sha": c[3], "lead_time_s": 93_600}),
        json!({"sha": c[4], "lead_time_s": 7_200}),
    ];
    want.sort_by_key(|v| v["sha"].as_str().unwrap().to_string());
    assert_eq!(json!(lead), json!(want));

    // `flow` shows the tag train, and it is the deployment `metrics` counts as shipping.
    let flow = json_of(&data, &cfg, &["flow"]);
    let trains = &flow["trains"];
    assert_eq!(trains[0]["environment"], "production");
    assert_eq!(trains[0]["trains"], 1, "{trains}");
    assert!(flow["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("was fast-forwarded")));
    let m = json_of(&data, &cfg, &["metrics", "--env", "production"]);
    assert_eq!(total(&m)["deployments"], 3, "{m}");
    assert_eq!(total(&m)["lead_time_median_h"], 14.0, "{m}");
    // explain says why the tip ships nothing.
    let id = format!("branch:production:{}", &c[5][..12]);
    let text = ok(&data, &["--config", &cfg, "explain", "deployment", &id]);
    assert!(text.contains("fast-forwarded"), "{text}");
    // init, reading the store, warns about the branch.
    let out = flowmeter(
        &data,
        &[
            "init",
            "--out",
            fx.dir.path().join("guess.toml").to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning:") && err.contains("`production`"),
        "{err}"
    );
}

/// A production branch that takes pull requests from feature branches and
/// never a merge from beta: every merge (and a commit made on it) is a
/// deployment.
///
/// | when (2024-05) | branch       | commit                          |
/// |----------------|--------------|---------------------------------|
/// | 01 09:00       | main         | r                               |
/// | 02 10:00       | feature/x    | x1, merged into beta 02 12:00   |
/// | 03 10:00       | feature/a    | a1                              |
/// | 03 12:00       | production   | P1 = merge feature/a            |
/// | 05 10:00       | feature/b    | b1                              |
/// | 05 12:00       | production   | P2 = merge feature/b            |
/// | 06 10:00       | production   | h (made on production directly) |
///
/// r is baseline (main's). P1 ships a1 (2h), P2 ships b1 (2h), h ships h (0).
#[test]
fn pull_request_merges_into_production_are_deployments() {
    let fx = Fixture::new();
    let r = fx.commit("2024-05-01T09:00:00Z", &ALICE, "root", &[("r.txt", b"r\n")]);
    for b in ["beta", "production"] {
        fx.git(&["branch", b, &r]);
    }
    let feature = |name: &str, at: &str, base: &str| {
        fx.git(&["checkout", "-q", "-b", name, base]);
        fx.commit(at, &BOB, name, &[(&format!("{name}.txt"), b"x\n")])
    };
    feature("feature/x", "2024-05-02T10:00:00Z", "beta");
    merge(&fx, "2024-05-02T12:00:00Z", "beta", "feature/x");
    let a1 = feature("feature/a", "2024-05-03T10:00:00Z", "production");
    let p1 = merge(&fx, "2024-05-03T12:00:00Z", "production", "feature/a");
    let b1 = feature("feature/b", "2024-05-05T10:00:00Z", "production");
    let p2 = merge(&fx, "2024-05-05T12:00:00Z", "production", "feature/b");
    fx.git(&["checkout", "-q", "production"]);
    let h = fx.commit(
        "2024-05-06T10:00:00Z",
        &ALICE,
        "hotfix",
        &[("h.txt", b"x\n")],
    );
    fx.git(&["checkout", "-q", "main"]);
    let (data, cfg) = setup(
        &fx,
        "[[environment]]\nname = \"beta\"\nbranch = \"beta\"\n\n\
         [[environment]]\nname = \"production\"\nbranch = \"production\"\nproduction = true\n",
    );
    let rows = q(
        &data,
        &cfg,
        "select sha, batch_commits, is_baseline from deployment_stats \
         where environment = 'production' order by deployed_at",
    );
    assert_eq!(
        json!(rows),
        json!([
            {"sha": p1, "batch_commits": 1, "is_baseline": false},
            {"sha": p2, "batch_commits": 1, "is_baseline": false},
            {"sha": h, "batch_commits": 1, "is_baseline": false},
        ])
    );
    let shipped = q(
        &data,
        &cfg,
        "select sha, lead_time_s, is_baseline from changes where environment = 'production' \
         and not is_merge order by committed_at",
    );
    assert_eq!(
        json!(shipped),
        json!([
            {"sha": r, "lead_time_s": null, "is_baseline": true},
            {"sha": a1, "lead_time_s": 7200, "is_baseline": false},
            {"sha": b1, "lead_time_s": 7200, "is_baseline": false},
            {"sha": h, "lead_time_s": 0, "is_baseline": false},
        ])
    );
    let m = json_of(&data, &cfg, &["metrics", "--env", "production"]);
    assert_eq!(total(&m)["deployments"], 3, "{m}");
    assert_eq!(total(&m)["lead_time_median_h"], 2.0, "{m}");
}

/// A merge on beta whose committer clock ran ahead of its first-parent child.
///
/// | when (2024-05) | branch     | commit                                   |
/// |----------------|------------|------------------------------------------|
/// | 01 09:00       | main       | r                                        |
/// | 02 10:00       | beta       | b1                                       |
/// | 03 10:00       | feature/f  | f1                                       |
/// | 06 10:00 (!)   | beta       | M = merge feature/f (clock ahead)        |
/// | 04 10:00       | beta       | b2 (child of M, committed before it)     |
/// | 05 10:00       | production | P = merge beta                           |
///
/// git's beta on 05-03 is b1 (b2 and M are "later"); on 05-04 it is b2, which
/// holds f1 and M: beta → production drift is 0, 1, 1, 3, 0 for 05-01..05-05.
#[test]
fn arrivals_follow_git_branch_state_under_clock_skew() {
    let fx = Fixture::new();
    let r = fx.commit("2024-05-01T09:00:00Z", &ALICE, "root", &[("r.txt", b"r\n")]);
    for b in ["beta", "production"] {
        fx.git(&["branch", b, &r]);
    }
    fx.git(&["checkout", "-q", "beta"]);
    fx.commit("2024-05-02T10:00:00Z", &ALICE, "b1", &[("b1.txt", b"x\n")]);
    fx.git(&["checkout", "-q", "-b", "feature/f"]);
    fx.commit("2024-05-03T10:00:00Z", &BOB, "f1", &[("f1.txt", b"x\n")]);
    merge(&fx, "2024-05-06T10:00:00Z", "beta", "feature/f");
    fx.commit("2024-05-04T10:00:00Z", &ALICE, "b2", &[("b2.txt", b"x\n")]);
    merge(&fx, "2024-05-05T10:00:00Z", "production", "beta");
    fx.git(&["checkout", "-q", "main"]);
    let (data, cfg) = setup(
        &fx,
        "[[environment]]\nname = \"beta\"\nbranch = \"beta\"\n\n\
         [[environment]]\nname = \"production\"\nbranch = \"production\"\nproduction = true\n",
    );
    let rows = q(
        &data,
        &cfg,
        "select cast(day as date) as day, commits_ahead from drift_daily order by day",
    );
    let tip = |branch: &str, day: &str| -> String {
        fx.git(&[
            "rev-list",
            "-1",
            "--first-parent",
            &format!("--before={day}T23:59:59Z"),
            branch,
        ])
    };
    let mut got = vec![];
    for r in &rows {
        let day = r["day"].as_str().unwrap();
        let want: i64 = fx
            .git(&[
                "rev-list",
                "--count",
                "--no-merges",
                &format!("{}..{}", tip("production", day), tip("beta", day)),
            ])
            .parse()
            .unwrap();
        assert_eq!(r["commits_ahead"].as_i64().unwrap(), want, "{day}");
        got.push(want);
    }
    assert_eq!(got, [0, 1, 1, 3, 0]);
    // The merge's deployment moved to when git's beta first held it, and says so.
    let moved = q(
        &data,
        &cfg,
        "select cast(deployed_at as string) as at, note from deployment_stats \
         where environment = 'beta' and note is not null",
    );
    let moved: Vec<&Value> = moved
        .iter()
        .filter(|r| r["note"].as_str().unwrap().contains("branch state"))
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(
        moved[0]["at"]
            .as_str()
            .unwrap()
            .starts_with("2024-05-04 10:00"),
        "{moved:?}"
    );
    assert!(moved[0]["note"]
        .as_str()
        .unwrap()
        .contains("git's branch state"));
}

/// A failed deployment between two successful ones, an incident after it,
/// and a rollback followed by a roll-forward, all from one deploy log.
///
/// main: c1 05-01 10:00, c2 05-02 10:00, c3 05-03 10:00, c4 05-04 10:00,
/// c5 05-05 10:00. Production deployments (all at 12:00):
///
/// | id    | day | sha | status  | what the rules say                                   |
/// |-------|-----|-----|---------|------------------------------------------------------|
/// | d1    | 01  | c1  | success | first: c1 baseline                                   |
/// | d2    | 03  | c3  | failure | ships nothing; failed (status); recovers at d3: 1d   |
/// | d3    | 04  | c4  | success | ships c2 c3 c4 (lead 2d2h, 1d2h, 2h)                 |
/// | d4    | 05  | c5  | success | ships c5 (lead 2h); rolled back by back (failed)     |
/// | back  | 06  | c4  | success | ancestor of the live c5: rollback, rework            |
/// | again | 07  | c5  | success | descendant of the live c4: roll-forward, not rework  |
///
/// INC-1 opens 05-03 13:00, while d1 is live (d2 never went out): it is d1's,
/// resolved 05-03 15:00, so d1 recovers in 2d3h.
#[test]
fn failed_deployments_ship_nothing_and_a_roll_forward_is_not_rework() {
    let fx = Fixture::new();
    let mut c = vec![String::new()];
    for (i, day) in ["01", "02", "03", "04", "05"].iter().enumerate() {
        c.push(fx.commit(
            &format!("2024-05-{day}T10:00:00Z"),
            &ALICE,
            &format!("change {}", i + 1),
            &[(&format!("f{i}.txt"), b"x\n")],
        ));
    }
    let deploys = fx.dir.path().join("deploys.csv");
    let mut csv = String::from("deployed_at,environment,sha,status,deployment_id\n");
    for (id, day, k, status) in [
        ("d1", "01", 1, "success"),
        ("d2", "03", 3, "failure"),
        ("d3", "04", 4, "success"),
        ("d4", "05", 5, "success"),
        ("back", "06", 4, "success"),
        ("again", "07", 5, "success"),
    ] {
        csv.push_str(&format!(
            "2024-05-{day}T12:00:00Z,production,{},{status},{id}\n",
            c[k]
        ));
    }
    std::fs::write(&deploys, csv).unwrap();
    let incidents = fx.dir.path().join("incidents.csv");
    std::fs::write(
        &incidents,
        "incident_id,opened_at,resolved_at,title\nINC-1,2024-05-03T13:00:00Z,2024-05-03T15:00:00Z,errors\n",
    )
    .unwrap();
    let (data, cfg) = setup(
        &fx,
        "[[environment]]\nname = \"production\"\nfile = \"deploys.csv\"\nproduction = true\n",
    );
    ok(
        &data,
        &[
            "--config",
            &cfg,
            "ingest",
            "deployments",
            deploys.to_str().unwrap(),
        ],
    );
    ok(&data, &["ingest", "incidents", incidents.to_str().unwrap()]);
    let rows = q(
        &data,
        &cfg,
        "select deployment_id, batch_commits, failed, failure_reasons, recovery_s, is_rollback, \
         is_roll_forward, is_rework from deployment_stats order by deployed_at",
    );
    assert_eq!(
        json!(rows),
        json!([
            {"deployment_id": "d1", "batch_commits": 0, "failed": true,
             "failure_reasons": ["incident INC-1: opened 2d1h after, within incident_window 7d"],
             "recovery_s": 183_600, "is_rollback": false, "is_roll_forward": false, "is_rework": false},
            {"deployment_id": "d2", "batch_commits": 0, "failed": true, "failure_reasons": ["status: failure"],
             "recovery_s": 86_400, "is_rollback": false, "is_roll_forward": false, "is_rework": false},
            {"deployment_id": "d3", "batch_commits": 3, "failed": false, "failure_reasons": [],
             "recovery_s": null, "is_rollback": false, "is_roll_forward": false, "is_rework": false},
            {"deployment_id": "d4", "batch_commits": 1, "failed": true, "failure_reasons": ["rolled back by back"],
             "recovery_s": 86_400, "is_rollback": false, "is_roll_forward": false, "is_rework": false},
            {"deployment_id": "back", "batch_commits": 0, "failed": false, "failure_reasons": [],
             "recovery_s": null, "is_rollback": true, "is_roll_forward": false, "is_rework": true},
            {"deployment_id": "again", "batch_commits": 0, "failed": false, "failure_reasons": [],
             "recovery_s": null, "is_rollback": false, "is_roll_forward": true, "is_rework": false},
        ])
    );
    let lead = q(
        &data,
        &cfg,
        "select deployment_id, lead_time_s from changes where lead_time_s is not null order by lead_time_s desc",
    );
    assert_eq!(
        json!(lead),
        json!([
            {"deployment_id": "d3", "lead_time_s": 180_000},
            {"deployment_id": "d3", "lead_time_s": 93_600},
            {"deployment_id": "d3", "lead_time_s": 7_200},
            {"deployment_id": "d4", "lead_time_s": 7_200},
        ])
    );
    let m = json_of(&data, &cfg, &["metrics"]);
    let t = total(&m);
    assert_eq!(t["deployments"], 6, "{m}");
    assert_eq!(t["failed"], 3, "{m}");
    assert_eq!(t["change_fail_rate"], 0.5, "{m}");
    assert_eq!(t["rework"], 1, "{m}");
}

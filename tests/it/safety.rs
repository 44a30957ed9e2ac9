//! The safety-net evidence (time to detect and restore, who detected,
//! automated rollbacks, defects per deployment, green tests) on a fixture
//! whose every number is worked out by hand below.

use serde_json::{json, Value};

use crate::common::*;

const CONFIG: &str = r#"
[[environment]]
name = "production"
file = "deploys.csv"
production = true

[failure]
incident_window = "2d"
revert_window = "3d"

[rollback]
automated_actors = ['*\[bot\]']
automated_within = "15m"

[defects]
severity_weights = { sev1 = 5, sev3 = 1 }
"#;

pub(crate) struct Net {
    pub fx: Fixture,
    pub data: std::path::PathBuf,
    pub config: String,
}

/// One linear main: c1 .. c4, then Bob reverts c4 (c5), then c6. Production
/// comes from a deploy log with actors, triggers and test results:
///
/// | id | at (UTC)    | sha | status  | actor             | trigger | tests |
/// |----|-------------|-----|---------|-------------------|---------|-------|
/// | d1 | 05-01 12:00 | c1  | success | ci-bot            |         | true  |
/// | d2 | 05-02 12:00 | c2  | success | ci-bot            |         | true  |
/// | d3 | 05-02 12:40 | c1  | success | rollback-bot[bot] |         |       |
/// | d4 | 05-03 12:00 | c3  | failure | ci-bot            |         | false |
/// | d5 | 05-04 12:00 | c4  | success | ci-bot            |         | true  |
/// | d6 | 05-06 10:00 | c5  | success | alice             | manual  | true  |
/// | d7 | 05-07 12:00 | c6  | success | ci-bot            |         | true  |
///
/// Incidents: I1 (sev1) names c2, opened 05-02 12:30, resolved 14:00; I2
/// (sev3) opened 05-05 10:00 (22 h after d5, inside the 2-day window),
/// resolved 05-06 10:30; I3 opened 05-10 12:00, 3 days after d7: linked to
/// nothing.
pub(crate) fn build_net() -> Net {
    let fx = Fixture::new();
    let c1 = fx.commit("2024-05-01T09:00:00Z", &ALICE, "one", &[("a", b"1\n")]);
    let c2 = fx.commit("2024-05-02T09:00:00Z", &ALICE, "two", &[("b", b"2\n")]);
    let c3 = fx.commit("2024-05-03T09:00:00Z", &ALICE, "three", &[("c", b"3\n")]);
    let c4 = fx.commit("2024-05-04T09:00:00Z", &ALICE, "four", &[("d", b"4\n")]);
    fx.git_at("2024-05-06T09:00:00Z", &BOB, &["revert", "--no-edit", &c4]);
    let c5 = fx.head();
    let c6 = fx.commit("2024-05-07T09:00:00Z", &ALICE, "six", &[("e", b"6\n")]);
    let data = fx.dir.path().join("store");
    let config = fx.dir.path().join("flowmeter.toml");
    std::fs::write(&config, CONFIG).unwrap();
    std::fs::write(
        fx.dir.path().join("deploys.csv"),
        format!(
            "deployment_id,deployed_at,environment,sha,status,actor,trigger,tests_passed\n\
             d1,2024-05-01T12:00:00Z,production,{c1},success,ci-bot,,true\n\
             d2,2024-05-02T12:00:00Z,production,{c2},success,ci-bot,,true\n\
             d3,2024-05-02T12:40:00Z,production,{c1},success,rollback-bot[bot],,\n\
             d4,2024-05-03T12:00:00Z,production,{c3},failure,ci-bot,,false\n\
             d5,2024-05-04T12:00:00Z,production,{c4},success,ci-bot,,true\n\
             d6,2024-05-06T10:00:00Z,production,{c5},success,alice,manual,true\n\
             d7,2024-05-07T12:00:00Z,production,{c6},success,ci-bot,,true\n"
        ),
    )
    .unwrap();
    let incidents = fx.dir.path().join("incidents.csv");
    std::fs::write(
        &incidents,
        format!(
            "incident_id,opened_at,resolved_at,severity,caused_by_sha\n\
             I1,2024-05-02T12:30:00Z,2024-05-02T14:00:00Z,SEV1,{c2}\n\
             I2,2024-05-05T10:00:00Z,2024-05-06T10:30:00Z,sev3,\n\
             I3,2024-05-10T12:00:00Z,2024-05-10T13:00:00Z,sev1,\n"
        ),
    )
    .unwrap();
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    let config = config.to_str().unwrap().to_string();
    ok(&data, &["--config", &config, "ingest", "deployments"]);
    ok(&data, &["ingest", "incidents", incidents.to_str().unwrap()]);
    ok(&data, &["--config", &config, "analyze"]);
    Net { fx, data, config }
}

fn q(net: &Net, sql: &str) -> Vec<Value> {
    let out = ok(
        &net.data,
        &["--config", &net.config, "sql", sql, "--format", "json"],
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
fn per_deployment_evidence_by_hand() {
    let net = build_net();
    let rows = q(
        &net,
        "select deployment_id, failed, detected_by, detector, time_to_detect_s, \
         time_to_restore_s, recovery_s, restored_by, trigger, incidents, defect_weight, tests_passed \
         from deployment_stats order by deployed_at",
    );
    // d2: I1 at +30 min beats the rollback d3 at +40 min: detected by the
    //   incident tool after 1800 s; restored when I1 resolved, 14:00 - 12:30 =
    //   5400 s; recovery 2 h = 7200 s = 1800 + 5400. Undone by d3.
    // d3: a rollback by rollback-bot[bot], which matches `*\[bot\]`: automated
    //   (also 10 min after detection, inside automated_within; the actor is checked first).
    // d4: its own status failed: detected at once by the deploy pipeline;
    //   recovered by the next deployment that did not fail: d5 failed too, so
    //   d6, 05-03 12:00 -> 05-06 10:00 = 70 h = 252000 s.
    // d5: I2 (window) at +22 h = 79200 s beats Bob's revert of c4 (authored
    //   05-06 09:00, +45 h). Restored when I2 resolved: 05-05 10:00 -> 05-06
    //   10:30 = 88200 s; recovery 46.5 h = 167400 s. Undone by d6, which ships
    //   the revert.
    // d6: a revert deployment; the deploy log says manual.
    // Weights: I1 is SEV1 (5; severities match case-insensitively), I2 sev3 (1).
    let want = json!([
        {"deployment_id": "d1", "failed": false, "detected_by": null, "detector": null,
         "time_to_detect_s": null, "time_to_restore_s": null, "recovery_s": null,
         "restored_by": null, "trigger": null, "incidents": 0, "defect_weight": 0.0, "tests_passed": true},
        {"deployment_id": "d2", "failed": true, "detected_by": "incident", "detector": "incident tool (file)",
         "time_to_detect_s": 1800, "time_to_restore_s": 5400, "recovery_s": 7200,
         "restored_by": "d3", "trigger": null, "incidents": 1, "defect_weight": 5.0, "tests_passed": true},
        {"deployment_id": "d3", "failed": false, "detected_by": null, "detector": null,
         "time_to_detect_s": null, "time_to_restore_s": null, "recovery_s": null,
         "restored_by": null, "trigger": "automated", "incidents": 0, "defect_weight": 0.0, "tests_passed": null},
        {"deployment_id": "d4", "failed": true, "detected_by": "status", "detector": "deploy pipeline (ci-bot)",
         "time_to_detect_s": 0, "time_to_restore_s": 252000, "recovery_s": 252000,
         "restored_by": null, "trigger": null, "incidents": 0, "defect_weight": 0.0, "tests_passed": false},
        {"deployment_id": "d5", "failed": true, "detected_by": "incident", "detector": "incident tool (file)",
         "time_to_detect_s": 79200, "time_to_restore_s": 88200, "recovery_s": 167400,
         "restored_by": "d6", "trigger": null, "incidents": 1, "defect_weight": 1.0, "tests_passed": true},
        {"deployment_id": "d6", "failed": false, "detected_by": null, "detector": null,
         "time_to_detect_s": null, "time_to_restore_s": null, "recovery_s": null,
         "restored_by": null, "trigger": "manual", "incidents": 0, "defect_weight": 0.0, "tests_passed": true},
        {"deployment_id": "d7", "failed": false, "detected_by": null, "detector": null,
         "time_to_detect_s": null, "time_to_restore_s": null, "recovery_s": null,
         "restored_by": null, "trigger": null, "incidents": 0, "defect_weight": 0.0, "tests_passed": true},
    ]);
    assert_eq!(Value::Array(rows), want);
    let why = q(
        &net,
        "select deployment_id, trigger_reason from deployment_stats where trigger is not null order by deployed_at",
    );
    assert!(
        why[0]["trigger_reason"]
            .as_str()
            .unwrap()
            .contains("actor rollback-bot[bot] matches rollback.automated_actors `*\\[bot\\]`"),
        "{why:?}"
    );
    assert!(
        why[1]["trigger_reason"]
            .as_str()
            .unwrap()
            .contains("the deploy log's trigger says manual"),
        "{why:?}"
    );
}

#[test]
fn metrics_carry_the_safety_net() {
    let net = build_net();
    let all = metrics_all(&net.data, &net.config, &[]);
    // Time to detect of d2 d4 d5: 0.5 h, 0 h, 22 h -> sorted 0, 0.5, 22:
    //   median 0.5 h; p90 rank 1.8 -> 0.5 + 0.8 * 21.5 = 17.7 h.
    // Time to restore: 1.5 h, 70 h, 24.5 h -> sorted 1.5, 24.5, 70: median
    //   24.5 h; p90 24.5 + 0.8 * 45.5 = 60.9 h.
    // Rollbacks d3 (automated), d6 (manual): 1 of 2. Incidents 2 (I3 is linked
    // to nothing) over 7 deployments. Green tests: d1 d2 d5 d6 d7 = 5 of 7.
    let want = json!({
        "deployments": 7, "failed": 3, "time_to_detect_median_h": 0.5, "time_to_restore_median_h": 24.5,
        "rollbacks": 2, "automated_rollbacks": 1, "automated_rollback_share": 0.5,
        "incidents": 2, "tests_green": 5,
    });
    for (k, w) in want.as_object().unwrap() {
        assert_eq!(&all[k], w, "{k}");
    }
    let close = |k: &str, w: f64| {
        let g = all[k].as_f64().unwrap();
        assert!((g - w).abs() < 1e-9, "{k}: {g} != {w}");
    };
    close("time_to_detect_p90_h", 17.7);
    close("time_to_restore_p90_h", 60.9);
    close("defects_per_deployment", 2.0 / 7.0);
    close("tests_green_share", 5.0 / 7.0);
}

#[test]
fn explain_names_the_detector_and_the_remedy() {
    let net = build_net();
    let out = ok(
        &net.data,
        &["--config", &net.config, "explain", "deployment", "d2"],
    );
    assert!(
        out.contains("detected 30m after, by incident tool (file) (signal: incident)"),
        "{out}"
    );
    assert!(out.contains("restored 1h30m after detection"), "{out}");
    assert!(out.contains("undone by d3 (automated)"), "{out}");
    let out = ok(
        &net.data,
        &["--config", &net.config, "explain", "deployment", "d3"],
    );
    assert!(
        out.contains("automated: rollback: actor rollback-bot[bot]"),
        "{out}"
    );
    let _ = &net.fx;
}

/// The deck, the monthly report and `metrics` show the same safety net: one
/// computation (`analysis::safety`), read three ways.
#[test]
fn deck_report_and_metrics_agree_on_the_safety_net() {
    let net = build_net();
    let (data, cfg) = (&net.data, net.config.as_str());
    let out = net.fx.dir.path();
    let deck = out.join("deck");
    ok(
        data,
        &[
            "--config",
            cfg,
            "report",
            "deck",
            "--out",
            deck.to_str().unwrap(),
        ],
    );
    let monthly = out.join("monthly");
    ok(
        data,
        &[
            "--config",
            cfg,
            "report",
            "monthly",
            "--month",
            "2024-05",
            "--out",
            monthly.to_str().unwrap(),
        ],
    );
    let deck: Value =
        serde_json::from_str(&std::fs::read_to_string(deck.join("deck.json")).unwrap()).unwrap();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(monthly.join("summary.json")).unwrap())
            .unwrap();
    // The deck ends on the last deployment's day (05-07): its quarter is
    // 02-08 .. 05-07; the report's is March to May. Both hold all 7 deployments.
    let d = &deck["safety"]["numbers"]["now"];
    let s = &summary["safety"]["numbers"]["now"];
    let all = metrics_all(
        data,
        cfg,
        &["--since", "2024-02-08", "--until", "2024-05-07"],
    );
    for net in [d, s] {
        assert_eq!(net["deployments"], all["deployments"]);
        assert_eq!(net["failures"]["k"], all["failed"]);
        assert_eq!(
            net["time_to_detect"]["median_h"],
            all["time_to_detect_median_h"]
        );
        assert_eq!(
            net["time_to_restore"]["median_h"],
            all["time_to_restore_median_h"]
        );
        assert_eq!(
            net["rollbacks"]["automated"]["k"],
            all["automated_rollbacks"]
        );
        assert_eq!(net["rollbacks"]["automated"]["n"], all["rollbacks"]);
        assert_eq!(net["defects"]["incidents"], all["incidents"]);
        assert_eq!(
            net["defects"]["per_deployment"],
            all["defects_per_deployment"]
        );
        assert_eq!(net["tests"]["green"]["k"], all["tests_green"]);
    }
    // By hand (see metrics_carry_the_safety_net): 7 deployments, 3 failed.
    assert_eq!(d["deployments"], json!(7));
    assert_eq!(d["failures"]["k"], json!(3));
    // The recovery of the failures each class of rollback undid: d2 (2 h) by
    // the automated d3, d5 (46.5 h) by the manual d6.
    assert_eq!(d["rollbacks"]["recovery_automated"]["median_h"], json!(2.0));
    assert_eq!(d["rollbacks"]["recovery_manual"]["median_h"], json!(46.5));
    // Weighted defects: (5 + 1) / 7.
    let w = d["defects"]["weighted_per_deployment"]["estimate"]
        .as_f64()
        .unwrap();
    assert!((w - 6.0 / 7.0).abs() < 1e-12, "{w}");
    // 7 deployments are too few for a verdict, and the words say so.
    assert_eq!(
        deck["safety"]["numbers"]["verdict"]["safe_to_deploy_more_often"],
        json!(false)
    );
    let reasons = deck["safety"]["reasons"].to_string();
    assert!(
        reasons.contains("Too few deployments: 7 in the quarter, at least 30 are needed."),
        "{reasons}"
    );
    let html = std::fs::read_to_string(out.join("deck/deck.html")).unwrap();
    assert!(html.contains("Do tests, monitoring and rollback keep deployments safe?"));
    assert!(out.join("deck").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("safety-net")));
    let report = std::fs::read_to_string(monthly.join("report.md")).unwrap();
    assert!(report.contains("## Safety net"), "{report}");
    // Green d1 d2 d5 d6 d7: 2 of 5 failed; the rest d3 d4: 1 of 2.
    let details = deck["safety"]["details"].to_string();
    assert!(
        details.contains("Failure rate with green tests 40% (2 of 5;"),
        "{details}"
    );
    assert!(details.contains("without 50% (1 of 2;"), "{details}");
    assert!(
        details.contains("the data cannot tell them apart"),
        "{details}"
    );
    assert!(
        details.contains("First detected by: an incident (monitoring) 2, a failing deploy status (the pipeline) 1."),
        "{details}"
    );
    let html = std::fs::read_to_string(monthly.join("report.html")).unwrap();
    assert!(
        html.contains("Failures undone by an automated rollback or revert recovered in a median of 2 h (n=1); by a manual one in a median of 46.5 h (n=1)."),
        "{html}"
    );
    assert!(
        report.contains("| Incidents per deployment | **0.286** |"),
        "{report}"
    );
}

/// Without a risk model there are no expected failures, so no expected
/// defects per week either (the demo test checks the numbers).
#[test]
fn whatif_without_a_risk_model_predicts_no_defects() {
    let net = build_net();
    let v: Value = serde_json::from_str(&ok(
        &net.data,
        &["--config", &net.config, "whatif", "--format", "json"],
    ))
    .unwrap();
    for row in v["rows"].as_array().unwrap() {
        assert!(row["predicted_failures"].is_null());
        assert!(row["expected_defects_per_week"].is_null());
    }
    assert!(v["assumptions"]
        .to_string()
        .contains("0.67 incidents per failed deployment (the history's 2 over 3 failures)"));
}

//! The environment promotion flow on a fixture that tells the user's story:
//! develop → test → beta → production, promotions by merge every two weeks,
//! a hotfix straight on production, a fix cherry-picked to beta, and a team
//! branch that merged beta into itself. Every number is worked out by hand.

use serde_json::Value;

use crate::common::*;

const CONFIG: &str = r#"
lead_time_start = "committed"

[[environment]]
name = "develop"
branch = "develop"

[[environment]]
name = "test"
branch = "test"

[[environment]]
name = "beta"
branch = "beta"

[[environment]]
name = "production"
branch = "production"
production = true
"#;

const H: i64 = 3600;
const D: i64 = 86_400;

/// The shas of the fixture, by name.
pub(crate) struct Story {
    pub(crate) fx: Fixture,
    pub(crate) data: std::path::PathBuf,
    pub(crate) config: String,
    pub(crate) r: String,
    pub(crate) a1: String,
    pub(crate) b1: String,
    pub(crate) b2: String,
    pub(crate) c1: String,
    pub(crate) x: String,
    pub(crate) xp: String, // x cherry-picked to beta
    pub(crate) h: String,  // the hotfix on production
    pub(crate) d1: String,
    pub(crate) pt1: String,
    pub(crate) pt2: String,
    pub(crate) pb2: String,
    pub(crate) tm: String, // team/x merging beta
}

/// The timeline (2024, UTC). Every non-merge commit adds its own file.
///
/// | when        | branch      | commit                                   |
/// |-------------|-------------|------------------------------------------|
/// | 03-01 09:00 | main        | R (root; every branch starts here)       |
/// | 03-04 10:00 | feature/a   | A1                                       |
/// | 03-05 10:00 | develop     | M1 = merge feature/a                     |
/// | 03-06 10:00 | feature/b   | B1                                       |
/// | 03-07 10:00 | feature/b   | B2                                       |
/// | 03-08 10:00 | develop     | M2 = merge feature/b                     |
/// | 03-11 10:00 | test        | Pt1 = merge develop (train 1)            |
/// | 03-12 10:00 | feature/c   | C1                                       |
/// | 03-13 10:00 | beta        | Pb1 = merge test                         |
/// | 03-13 12:00 | develop     | M3 = merge feature/c                     |
/// | 03-14 10:00 | develop     | X (a fix, straight on develop)           |
/// | 03-14 15:00 | beta        | X' = cherry-pick -x X                    |
/// | 03-15 10:00 | production  | Pp1 = merge beta                         |
/// | 03-18 10:00 | production  | H (hotfix, never merged back)            |
/// | 03-19 10:00 | team/x      | T1 (team/x starts at M3)                 |
/// | 03-20 10:00 | team/x      | Tm = merge beta (pollution)              |
/// | 03-25 10:00 | test        | Pt2 = merge develop (train 2)            |
/// | 03-26 10:00 | feature/d   | D1                                       |
/// | 03-26 14:00 | develop     | M4 = merge feature/d                     |
/// | 03-27 10:00 | beta        | Pb2 = merge test                         |
/// | 03-29 16:00 | production  | Pp2 = merge beta                         |
pub(crate) fn build() -> Story {
    let fx = Fixture::new();
    let r = fx.commit("2024-03-01T09:00:00Z", &ALICE, "root", &[("r.txt", b"r\n")]);
    for b in ["develop", "test", "beta", "production"] {
        fx.git(&["branch", b, &r]);
    }
    let feature = |name: &str, commits: &[(&str, &str, &str)], merge_at: &str| {
        fx.git(&["checkout", "-q", "-b", name, "develop"]);
        let mut shas = vec![];
        for (at, msg, file) in commits {
            shas.push(fx.commit(at, &BOB, msg, &[(file, b"x\n")]));
        }
        merge(&fx, merge_at, "develop", name);
        shas
    };
    let a = feature(
        "feature/a",
        &[("2024-03-04T10:00:00Z", "feature a", "a1.txt")],
        "2024-03-05T10:00:00Z",
    );
    let b = feature(
        "feature/b",
        &[
            ("2024-03-06T10:00:00Z", "feature b1", "b1.txt"),
            ("2024-03-07T10:00:00Z", "feature b2", "b2.txt"),
        ],
        "2024-03-08T10:00:00Z",
    );
    let pt1 = merge(&fx, "2024-03-11T10:00:00Z", "test", "develop");
    // feature/c starts before Pb1 but merges after it.
    fx.git(&["checkout", "-q", "-b", "feature/c", "develop"]);
    let c1 = fx.commit(
        "2024-03-12T10:00:00Z",
        &BOB,
        "feature c",
        &[("c1.txt", b"x\n")],
    );
    merge(&fx, "2024-03-13T10:00:00Z", "beta", "test");
    let m3 = merge(&fx, "2024-03-13T12:00:00Z", "develop", "feature/c");
    fx.git(&["checkout", "-q", "develop"]);
    let x = fx.commit(
        "2024-03-14T10:00:00Z",
        &ALICE,
        "fix: typo",
        &[("x.txt", b"fixed\n")],
    );
    fx.git(&["checkout", "-q", "beta"]);
    fx.git_at("2024-03-14T15:00:00Z", &ALICE, &["cherry-pick", "-x", &x]);
    let xp = fx.head();
    merge(&fx, "2024-03-15T10:00:00Z", "production", "beta");
    let h = fx.commit(
        "2024-03-18T10:00:00Z",
        &ALICE,
        "hotfix: null check",
        &[("h.txt", b"x\n")],
    );
    fx.git(&["checkout", "-q", "-b", "team/x", &m3]);
    fx.commit(
        "2024-03-19T10:00:00Z",
        &BOB,
        "team work",
        &[("t1.txt", b"x\n")],
    );
    let tm = merge(&fx, "2024-03-20T10:00:00Z", "team/x", "beta");
    let pt2 = merge(&fx, "2024-03-25T10:00:00Z", "test", "develop");
    let d = feature(
        "feature/d",
        &[("2024-03-26T10:00:00Z", "feature d", "d1.txt")],
        "2024-03-26T14:00:00Z",
    );
    let pb2 = merge(&fx, "2024-03-27T10:00:00Z", "beta", "test");
    merge(&fx, "2024-03-29T16:00:00Z", "production", "beta");
    fx.git(&["checkout", "-q", "main"]);

    let data = fx.dir.path().join("store");
    let config = fx.dir.path().join("flowmeter.toml");
    std::fs::write(&config, CONFIG).unwrap();
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    let config = config.to_str().unwrap().to_string();
    Story {
        data,
        config,
        r,
        a1: a[0].clone(),
        b1: b[0].clone(),
        b2: b[1].clone(),
        c1,
        x,
        xp,
        h,
        d1: d[0].clone(),
        pt1,
        pt2,
        pb2,
        tm,
        fx,
    }
}

fn q(s: &Story, sql: &str) -> Vec<Value> {
    let out = ok(
        &s.data,
        &["--config", &s.config, "sql", sql, "--format", "json"],
    );
    match serde_json::from_str(&out).unwrap() {
        Value::Array(rows) => rows,
        other => panic!("not an array: {other}"),
    }
}

fn flow_json(s: &Story, extra: &[&str]) -> Value {
    let mut args = vec!["--config", s.config.as_str(), "flow", "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&s.data, &args)).unwrap()
}

/// The section row whose `key` column is `value`.
fn row<'a>(rows: &'a Value, key: &str, value: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value} in {rows}"))
}

#[test]
fn arrivals_and_dwell_times_by_hand() {
    let s = build();
    // A1: develop 03-05 10:00 (M1), test 03-11 10:00 (Pt1), beta 03-13 10:00
    // (Pb1), production 03-15 10:00 (Pp1). Arrivals come from each branch's own
    // first-parent deployments, not from A1's commit time (03-04).
    let rows = q(
        &s,
        &format!(
            "SELECT environment, arrived_at, dwell_s, is_baseline FROM env_arrivals \
             WHERE sha = '{}' ORDER BY stage_index",
            s.a1
        ),
    );
    let got: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| {
            assert_eq!(r["is_baseline"], false);
            (
                r["environment"].as_str().unwrap().into(),
                r["arrived_at"].as_str().unwrap().into(),
                r["dwell_s"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("develop".into(), "2024-03-05T10:00:00Z".into(), 6 * D), // 03-05 10:00 → 03-11 10:00
            ("test".into(), "2024-03-11T10:00:00Z".into(), 2 * D),    // → 03-13 10:00
            ("beta".into(), "2024-03-13T10:00:00Z".into(), 2 * D),    // → 03-15 10:00
            ("production".into(), "2024-03-15T10:00:00Z".into(), -1), // last stage: no dwell
        ]
    );
    // The cherry-picked copy arrives in beta at 03-14 15:00 and in production
    // with Pp1 at 03-15 10:00: 19h. The hotfix is only in production.
    let rows = q(
        &s,
        &format!(
            "SELECT sha, environment, dwell_s FROM env_arrivals WHERE sha IN ('{}', '{}') \
             ORDER BY sha, stage_index",
            s.xp, s.h
        ),
    );
    let mut want = vec![
        (s.xp.clone(), "beta", Some(19 * H)),
        (s.xp.clone(), "production", None),
        (s.h.clone(), "production", None),
    ];
    want.sort();
    let got: Vec<(String, &str, Option<i64>)> = rows
        .iter()
        .map(|r| {
            (
                r["sha"].as_str().unwrap().to_string(),
                r["environment"].as_str().unwrap(),
                r["dwell_s"].as_i64(),
            )
        })
        .collect();
    assert_eq!(got, want);
    // The root is each branch's first deployment: baseline, arrival unknown.
    let rows = q(
        &s,
        &format!(
            "SELECT count(*) AS n FROM env_arrivals WHERE sha = '{}' AND is_baseline \
             AND arrived_at IS NULL",
            s.r
        ),
    );
    assert_eq!(rows[0]["n"], 4);

    let f = flow_json(&s, &[]);
    // develop→test, non-merge changes (all arrive in test in March):
    //   A1 03-05 10:00 → 03-11 10:00 = 6d     = 518400
    //   B1, B2 03-08 10:00 → 03-11 10:00 = 3d = 259200 (twice)
    //   C1 03-13 12:00 → 03-25 10:00 = 11d22h = 1029600
    //   X  03-14 10:00 → 03-25 10:00 = 11d    = 950400
    //   sorted 259200 259200 518400 950400 1029600: median 518400;
    //   p90 at rank 3.6: 950400 + 0.6 × 79200 = 997920.
    // test→beta: A1 B1 B2 (03-11 → 03-13) and C1 X (03-25 → 03-27): 2d each.
    // beta→production: A1 B1 B2 03-13 10:00 → 03-15 10:00 = 172800 (×3),
    //   X' 19h = 68400, C1 X 03-27 10:00 → 03-29 16:00 = 2d6h = 194400 (×2);
    //   sorted 68400 172800 172800 172800 194400 194400: median (rank 2.5) 172800,
    //   p90 (rank 4.5) 194400.
    for (stage, n, median, p90) in [
        ("develop→test", 5, 518_400.0, 997_920.0),
        ("test→beta", 5, 172_800.0, 172_800.0),
        ("beta→production", 6, 172_800.0, 194_400.0),
    ] {
        for period in ["2024-03", "all"] {
            let r = f["dwell"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["stage"] == stage && r["period"] == period)
                .unwrap_or_else(|| panic!("no {stage} {period}: {}", f["dwell"]));
            assert_eq!(r["changes"], n, "{stage}");
            assert_eq!(r["median_s"].as_f64(), Some(median), "{stage}");
            assert_eq!(r["p90_s"].as_f64(), Some(p90), "{stage}");
            assert_eq!(r["negative"], 0);
        }
    }
    // Shares over the changes with all four arrivals (A1 B1 B2 C1 X), start = commit time:
    //   commit→develop: A1 1d + B1 2d + B2 1d + C1 1d2h + X 0 = 439200
    //   develop→test: 518400 + 259200 × 2 + 1029600 + 950400 = 3016800
    //   test→beta: 172800 × 5 = 864000
    //   beta→production: 172800 × 3 + 194400 × 2 = 907200
    //   total 5227200.
    let shares = &f["shares"];
    for (stage, total) in [
        ("commit→develop", 439_200),
        ("develop→test", 3_016_800),
        ("test→beta", 864_000),
        ("beta→production", 907_200),
    ] {
        let r = row(shares, "stage", stage);
        assert_eq!(r["changes"], 5);
        assert_eq!(r["total_s"], total, "{stage}");
        let share = r["share"].as_f64().unwrap();
        assert!((share - total as f64 / 5_227_200.0).abs() < 1e-9, "{stage}");
    }
    assert_eq!(f["notes"], serde_json::json!([]));
}

#[test]
fn promotions_drift_trains_and_misalignments_by_hand() {
    let s = build();
    let short = |x: &str| x[..12].to_string();

    // Promotions: each merge of the previous environment branch, with the
    // non-merge commits it brought.
    //   test  Pt1 (03-11): A1 B1 B2 = 3       Pt2 (03-25): C1 X = 2
    //   beta  Pb1 (03-13): A1 B1 B2 = 3       Pb2 (03-27): C1 X = 2
    //   prod  Pp1 (03-15): A1 B1 B2 X' = 4    Pp2 (03-29): C1 X = 2
    // The team branch's merge of beta is no promotion (team/x is no environment).
    let rows = q(
        &s,
        "SELECT to_env, promoted_at, batch_commits, batch_prs, triggered_by, merged_sha \
         FROM promotions ORDER BY promoted_at",
    );
    let got: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| {
            assert_eq!(r["triggered_by"], "Committer <ci@example.com>");
            assert_eq!(r["batch_prs"], 0);
            (
                r["to_env"].as_str().unwrap().into(),
                r["promoted_at"].as_str().unwrap()[..10].into(),
                r["batch_commits"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, i64)> = [
        ("test", "2024-03-11", 3),
        ("beta", "2024-03-13", 3),
        ("production", "2024-03-15", 4),
        ("test", "2024-03-25", 2),
        ("beta", "2024-03-27", 2),
        ("production", "2024-03-29", 2),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
    .collect();
    assert_eq!(got, want);
    // Pt2 merged develop's tip of 03-25, which was X (M4 came on 03-26).
    assert_eq!(rows[3]["merged_sha"], s.x.as_str());

    // Drift at the end of chosen days.
    let drift = |from: &str, day: &str| -> (i64, Option<i64>, Option<String>) {
        let rows = q(
            &s,
            &format!(
                "SELECT commits_ahead, oldest_age_s, oldest_sha FROM drift_daily \
                 WHERE from_env = '{from}' AND day = '{day}T00:00:00'"
            ),
        );
        assert_eq!(rows.len(), 1, "{from} {day}");
        (
            rows[0]["commits_ahead"].as_i64().unwrap(),
            rows[0]["oldest_age_s"].as_i64(),
            rows[0]["oldest_sha"].as_str().map(str::to_string),
        )
    };
    // develop→test, 03-10: A1 B1 B2 waiting; A1 since 03-05 10:00, at 03-11 00:00: 5d14h.
    assert_eq!(
        drift("develop", "2024-03-10"),
        (3, Some(5 * D + 14 * H), Some(s.a1.clone()))
    );
    // 03-11: Pt1 took them.
    assert_eq!(drift("develop", "2024-03-11"), (0, None, None));
    // 03-14: C1 (since 03-13 12:00: 1d12h at 03-15 00:00) and X.
    assert_eq!(
        drift("develop", "2024-03-14"),
        (2, Some(D + 12 * H), Some(s.c1.clone()))
    );
    // 03-26: D1 since 14:00, 10h at midnight; C1 and X went with Pt2 on 03-25.
    assert_eq!(
        drift("develop", "2024-03-26"),
        (1, Some(10 * H), Some(s.d1.clone()))
    );
    // beta→production, 03-14: A1 B1 B2 (beta 03-13 10:00, 1d14h old) and X'.
    assert_eq!(
        drift("beta", "2024-03-14"),
        (4, Some(D + 14 * H), Some(s.a1.clone()))
    );
    assert_eq!(drift("beta", "2024-03-15"), (0, None, None));
    // 03-28: C1 X since 03-27 10:00; the hotfix is in production only, not counted.
    assert_eq!(drift("beta", "2024-03-28").0, 2);
    assert_eq!(drift("beta", "2024-03-29").0, 0);

    // Release trains: production deployments that shipped something are
    // Pp1 03-15 10:00, H 03-18 10:00, Pp2 03-29 16:00 (the root is baseline).
    // Intervals 3d = 259200 and 11d6h = 972000: median 615600,
    // p25 259200 + 0.25 × 712800 = 437400, p75 793800, IQR 356400,
    // cv = sd/mean = 356400 / 615600.
    // Waits from beta arrival to the next production deployment:
    //   A1 B1 B2 03-13 10:00 → Pp1 = 172800 (×3); X' 03-14 15:00 → Pp1 = 68400;
    //   C1 X 03-27 10:00 → Pp2 = 194400 (×2): sum 975600, median 172800.
    // Lead (commit → production): A1 11d, B1 9d, B2 8d, X' 19h, C1 17d6h, X 15d6h
    //   = 950400 + 777600 + 691200 + 68400 + 1490400 + 1317600 = 5295600.
    let f = flow_json(&s, &[]);
    let t = row(&f["trains"], "environment", "production");
    assert_eq!(t["trains"], 3);
    assert_eq!(t["median_interval_s"].as_f64(), Some(615_600.0));
    assert_eq!(t["iqr_s"].as_f64(), Some(356_400.0));
    assert!((t["cv"].as_f64().unwrap() - 356_400.0 / 615_600.0).abs() < 1e-9);
    assert_eq!(t["changes"], 6);
    assert_eq!(t["median_wait_s"].as_f64(), Some(172_800.0));
    assert!((t["wait_share"].as_f64().unwrap() - 975_600.0 / 5_295_600.0).abs() < 1e-9);

    // Misalignments, every one:
    //  - H reached production without develop, test or beta (never merged back);
    //  - X' is on beta and production but never on develop or test: not a
    //    skipped stage, since its original X is there; it is a cherry-pick duplicate;
    //  - beta's tip has X', which test's tip lacks; production's tip has H,
    //    which beta's lacks; test's tip has nothing develop lacks;
    //  - team/x contains X', which only beta and production have.
    let rows = q(
        &s,
        "SELECT kind, environment, sha, related_sha, detail FROM misalignments ORDER BY kind, sha",
    );
    let got: Vec<(String, String, String, Option<String>)> = rows
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().into(),
                r["environment"].as_str().unwrap().into(),
                r["sha"].as_str().unwrap().into(),
                r["related_sha"].as_str().map(str::to_string),
            )
        })
        .collect();
    let want = vec![
        (
            "branch_ahead".into(),
            "beta".into(),
            s.xp.clone(),
            Some(s.pt2.clone()),
        ),
        (
            "branch_ahead".into(),
            "production".into(),
            s.h.clone(),
            Some(s.pb2.clone()),
        ),
        (
            "cherry_pick_duplicate".into(),
            "beta".into(),
            s.xp.clone(),
            Some(s.x.clone()),
        ),
        (
            "pollution".into(),
            "beta".into(),
            s.xp.clone(),
            Some(s.tm.clone()),
        ),
        (
            "skipped_stage".into(),
            "production".into(),
            s.h.clone(),
            None,
        ),
    ];
    let mut want: Vec<(String, String, String, Option<String>)> = want;
    want.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
    assert_eq!(got, want);
    let detail = |kind: &str| {
        rows.iter().find(|r| r["kind"] == kind).unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        detail("skipped_stage"),
        "on production; never on develop, test, beta: hotfix: null check"
    );
    assert_eq!(
        detail("cherry_pick_duplicate"),
        format!(
            "cherry-picked from {}; this copy is on beta, production, the original on develop, test, beta, production",
            short(&s.x)
        )
    );
    assert!(detail("pollution").starts_with(&format!(
        "branch `team/x` contains {}, which is only on beta, production (not on develop)",
        short(&s.xp)
    )));

    // Tips today: develop has D1 that test lacks; beta has X' that test lacks;
    // production has H that beta lacks.
    let tips: Vec<(String, i64, i64)> = f["tips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["from_env"].as_str().unwrap().into(),
                r["commits_ahead"].as_i64().unwrap(),
                r["commits_behind"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tips,
        [
            ("develop".to_string(), 1, 0),
            ("test".to_string(), 0, 1),
            ("beta".to_string(), 0, 1)
        ]
    );
    // Pt1 is referenced so the fixture's names stay checked.
    assert_eq!(
        q(
            &s,
            &format!(
                "SELECT count(*) AS n FROM promotions WHERE sha = '{}'",
                s.pt1
            )
        )[0]["n"],
        1
    );
    assert!(!s.b1.is_empty() && !s.b2.is_empty());
}

/// For every day, the tip of each branch is the last first-parent commit with
/// a committer time up to the end of that day; `drift_daily` for beta →
/// production must equal `git rev-list --count --no-merges prod..beta` there.
#[test]
fn drift_agrees_with_git_rev_list_every_day() {
    let s = build();
    let rows = q(
        &s,
        "SELECT day, commits_ahead FROM drift_daily WHERE from_env = 'beta' ORDER BY day",
    );
    // The root's day to the last production deployment's: 03-01 … 03-29.
    assert_eq!(rows.len(), 29);
    let tip = |branch: &str, day: &str| -> Option<String> {
        let t = s.fx.git(&[
            "rev-list",
            "-1",
            "--first-parent",
            &format!("--before={day}T23:59:59Z"),
            branch,
        ]);
        (!t.is_empty()).then_some(t)
    };
    let mut nonzero = 0;
    for r in &rows {
        let day = &r["day"].as_str().unwrap()[..10];
        let (Some(p), Some(b)) = (tip("production", day), tip("beta", day)) else {
            panic!("no tips on {day}");
        };
        let want: i64 =
            s.fx.git(&["rev-list", "--count", "--no-merges", &format!("{p}..{b}")])
                .parse()
                .unwrap();
        assert_eq!(r["commits_ahead"].as_i64().unwrap(), want, "{day}");
        if want > 0 {
            nonzero += 1;
        }
    }
    // 03-13 (3) 03-14 (4) and 03-27 03-28 (2): the check is not vacuous.
    assert_eq!(nonzero, 4);
}

/// An environment branch that is only ever fast-forwarded to the mainline's
/// commits records no deployment of its own: only its tip counts, everything
/// it holds is baseline, `flow` says so and derives no train or dwell from it.
/// Its drift is still git's own view of the two branches, day by day.
#[test]
fn fast_forwarded_branches_are_said_plainly() {
    let fx = Fixture::new();
    let mut last = String::new();
    for (i, day) in ["01", "02", "03", "04"].iter().enumerate() {
        last = fx.commit(
            &format!("2024-05-{day}T10:00:00Z"),
            &ALICE,
            &format!("change {i}"),
            &[(&format!("f{i}.txt"), b"x\n")],
        );
    }
    // production sits on an older main commit: a pointer, no merges.
    let c2 = fx.rev("HEAD~1");
    fx.git(&["branch", "production", &c2]);
    let data = fx.dir.path().join("store");
    let config = fx.dir.path().join("flowmeter.toml");
    std::fs::write(
        &config,
        "[[environment]]\nname = \"main\"\nbranch = \"main\"\n\n\
         [[environment]]\nname = \"production\"\nbranch = \"production\"\nproduction = true\n",
    )
    .unwrap();
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    let cfg = config.to_str().unwrap();
    let out = ok(&data, &["--config", cfg, "flow"]);
    assert!(out.contains("was fast-forwarded"), "{out}");
    let f: Value =
        serde_json::from_str(&ok(&data, &["--config", cfg, "flow", "-f", "json"])).unwrap();
    assert_eq!(f["notes"].as_array().unwrap().len(), 1, "{}", f["notes"]);
    // git's view: production is c0, c1, c2 on 05-01..03 like main; on 05-04 main has c3.
    let ahead: Vec<i64> = f["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["commits_ahead"].as_i64().unwrap())
        .collect();
    assert_eq!(ahead, [0, 0, 0, 1]);
    assert_eq!(f["trains"], serde_json::json!([]));
    assert_eq!(f["dwell"], serde_json::json!([]));
    // Today's tips are still compared: main has one commit production lacks.
    assert_eq!(f["tips"][0]["commits_ahead"], 1);
    assert_eq!(f["tips"][0]["to_tip"], c2[..12]);
    // production's three commits are baseline of its tip, with no arrival time.
    let rows = {
        let out = ok(
            &data,
            &[
                "--config",
                cfg,
                "sql",
                "SELECT count(*) AS n, sum(CAST(is_baseline AS INT)) AS b, count(arrived_at) AS t \
                 FROM env_arrivals WHERE environment = 'production'",
                "-f",
                "json",
            ],
        );
        serde_json::from_str::<Value>(&out).unwrap()
    };
    assert_eq!(rows[0]["n"], 3);
    assert_eq!(rows[0]["b"], 3);
    assert_eq!(rows[0]["t"], 0);
    assert!(!last.is_empty());
}

/// `analyze` rewrites the four tables with sorted rows: a rerun is
/// byte-identical, and every output format prints every section.
#[test]
fn reruns_are_byte_identical_and_formats_print_every_section() {
    let s = build();
    let tables = ["env_arrivals", "promotions", "drift_daily", "misalignments"];
    let bytes = || -> Vec<Vec<u8>> {
        tables
            .iter()
            .flat_map(|t| snapshot_dir(&s.data.join(t)).into_iter().map(|(_, b)| b))
            .collect()
    };
    ok(&s.data, &["--config", &s.config, "analyze"]);
    let first = bytes();
    assert_eq!(first.len(), 4, "one file per table");
    ok(&s.data, &["--config", &s.config, "analyze"]);
    assert_eq!(bytes(), first);

    let table = ok(&s.data, &["--config", &s.config, "flow"]);
    let details = ok(&s.data, &["--config", &s.config, "flow", "--details"]);
    let md = ok(
        &s.data,
        &["--config", &s.config, "flow", "-f", "markdown", "--details"],
    );
    for title in [
        "Stage dwell times",
        "Share of total lead time per stage",
        "Promotions",
        "Drift per day",
        "Branch tips today",
        "Misalignments",
        "Release trains",
    ] {
        assert!(details.contains(title), "--details lacks {title}");
        assert!(
            md.contains(&format!("### {title}")),
            "markdown lacks {title}"
        );
    }
    // Without --details: summaries, the first rows, and how to see the rest.
    assert!(table.contains("Drift in brief"), "{table}");
    assert!(!table.contains("Drift per day"), "{table}");
    assert!(
        table.contains("Misalignments by kind and environment"),
        "{table}"
    );
    assert!(table.len() < details.len());
    let csv = ok(&s.data, &["--config", &s.config, "flow", "-f", "csv"]);
    for key in [
        "dwell",
        "shares",
        "promotions",
        "drift",
        "tips",
        "misalignments",
        "trains",
    ] {
        assert!(csv.contains(&format!("# {key}\n")), "csv lacks {key}");
    }
    // --since/--until keep the promotions of that range only (Pt2, Pb2, Pp2).
    let err = fails(
        &s.data,
        &["flow", "--since", "2024-03-31", "--until", "2024-03-20"],
    );
    assert!(
        err.contains("--since 2024-03-31 is after --until 2024-03-20"),
        "{err}"
    );
    let f = flow_json(&s, &["--since", "2024-03-20", "--until", "2024-03-31"]);
    assert_eq!(f["promotions"].as_array().unwrap().len(), 3);
    // Each pair's days run from its first deployment to its last: develop→test
    // 03-20..26 (M4 on 03-26) = 7, test→beta 03-20..27 (Pb2) = 8,
    // beta→production 03-20..29 (Pp2) = 10.
    assert_eq!(f["drift"].as_array().unwrap().len(), 7 + 8 + 10);
}

/// A fix made on test and merged back into develop arrives in test first: its
/// develop→test dwell is negative. It is counted as an anomaly, kept in
/// `env_arrivals` as it is (never clamped), left out of the quantiles, and it
/// never counts as drift.
#[test]
fn negative_dwell_is_counted_not_clamped() {
    let fx = Fixture::new();
    let r = fx.commit("2024-05-01T08:00:00Z", &ALICE, "root", &[("r.txt", b"r\n")]);
    fx.git(&["branch", "develop", &r]);
    fx.git(&["branch", "test", &r]);
    fx.git(&["checkout", "-q", "develop"]);
    let a = fx.commit(
        "2024-05-01T10:00:00Z",
        &ALICE,
        "feature a",
        &[("a.txt", b"x\n")],
    );
    merge(&fx, "2024-05-02T10:00:00Z", "test", "develop");
    let y = fx.commit(
        "2024-05-02T12:00:00Z",
        &ALICE,
        "fix on test",
        &[("y.txt", b"x\n")],
    );
    merge(&fx, "2024-05-03T10:00:00Z", "develop", "test");
    merge(&fx, "2024-05-04T10:00:00Z", "test", "develop");
    let data = fx.dir.path().join("store");
    let config = fx.dir.path().join("flowmeter.toml");
    std::fs::write(
        &config,
        "[[environment]]\nname = \"develop\"\nbranch = \"develop\"\n\n\
         [[environment]]\nname = \"test\"\nbranch = \"test\"\n",
    )
    .unwrap();
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    let cfg = config.to_str().unwrap();
    // Y: test 05-02 12:00 (its own commit on test), develop 05-03 10:00 (the
    // back-merge): dwell 05-03 10:00 → 05-02 12:00 = -22h.
    let out = ok(
        &data,
        &[
            "--config",
            cfg,
            "sql",
            &format!(
                "SELECT dwell_s FROM env_arrivals WHERE sha = '{y}' AND environment = 'develop'"
            ),
            "-f",
            "json",
        ],
    );
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["dwell_s"], -22 * H);
    let f: Value =
        serde_json::from_str(&ok(&data, &["--config", cfg, "flow", "-f", "json"])).unwrap();
    // A alone in the quantiles: 05-01 10:00 (develop) → 05-02 10:00 (test) = 1d.
    let all = f["dwell"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == "all")
        .unwrap();
    assert_eq!(all["changes"], 1);
    assert_eq!(all["negative"], 1);
    assert_eq!(all["median_s"].as_f64(), Some(D as f64));
    // Y is not skipped_stage (develop has it now) and never drifts.
    assert_eq!(f["misalignments"], serde_json::json!([]));
    let ahead: Vec<i64> = f["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["commits_ahead"].as_i64().unwrap())
        .collect();
    // 05-01: A waits (1); 05-02: A in test (0); 05-03 and 05-04: Y arrived in test first (0).
    assert_eq!(ahead, [1, 0, 0, 0]);
    assert!(!a.is_empty());
}

/// The analysis stays fresh however the store and config paths are spelled
/// (relative or absolute), and in a copy of the store: a reader never pays
/// for a second analysis because of a path.
#[test]
fn freshness_does_not_depend_on_path_spelling() {
    let s = build();
    ok(&s.data, &["--config", &s.config, "analyze"]);
    let stale = |dir: &std::path::Path, data: &str, config: &str| -> bool {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowmeter"))
            .current_dir(dir)
            .args(["--data", data, "--config", config, "metrics"])
            .env_remove("FLOWMETER_DATA")
            .env_remove("FLOWMETER_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).contains("analysis was stale")
    };
    let abs_data = s.data.to_str().unwrap();
    assert!(!stale(s.fx.dir.path(), abs_data, &s.config));
    // The same store and config, spelled from their parent directories.
    let parent = s.data.parent().unwrap();
    let name = s.data.file_name().unwrap().to_str().unwrap();
    let cfg = std::path::Path::new(&s.config);
    let rel_cfg = pathdiff(cfg, parent);
    assert!(
        !stale(parent, name, &rel_cfg),
        "relative spelling re-ran the analysis"
    );
    assert!(!stale(parent, &format!("./{name}/"), &rel_cfg));
    // A changed config is still noticed.
    let changed = s.fx.dir.path().join("changed.toml");
    let mut text = std::fs::read_to_string(cfg).unwrap();
    text.push_str("\n# a comment is a change\n");
    std::fs::write(&changed, text).unwrap();
    assert!(stale(parent, name, changed.to_str().unwrap()));
}

/// `path` relative to `base` when it lies below it, else `path` as it is.
fn pathdiff(path: &std::path::Path, base: &std::path::Path) -> String {
    path.strip_prefix(base)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_string_lossy().into_owned())
}

/// `flow` groups arrivals by change with a scan, because `analyze` writes
/// `env_arrivals` sorted by change and stage. A table in any other order (an
/// older flowmeter, a hand edit) gives the same report, not a wrong one.
#[test]
fn arrivals_in_any_order_give_the_same_flow() {
    use flowmeter_store::{Store, ENV_ARRIVALS};
    let s = build();
    ok(&s.data, &["--config", &s.config, "analyze"]);
    let before = flow_json(&s, &[]);
    let store = Store::open(&s.data).unwrap();
    let df = store.read(&ENV_ARRIVALS).unwrap();
    assert!(df.height() > 10, "the fixture has arrivals to shuffle");
    // Reversed: every change's rows are adjacent but in reverse stage order,
    // and the changes in reverse order.
    let reversed = df.reverse();
    let guard = store.lock(None, |_| {}).unwrap();
    guard.replace(&ENV_ARRIVALS, None, reversed).unwrap();
    drop(guard);
    let after = flow_json(&s, &[]);
    assert_eq!(before["shares"], after["shares"]);
    assert_eq!(before["dwell"], after["dwell"]);
    assert_eq!(before, after);
}

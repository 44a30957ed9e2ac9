//! `flowmeter report monthly|deck` on a store whose derived tables are written
//! directly by the test with pinned values, so every headline number can be
//! worked out by hand. One commit message and one PR title are hostile HTML.

use std::path::Path;

use flowmeter_store::polars::prelude::*;
use flowmeter_store::{Store, CHANGES, COMMITS, DEPLOYMENT_STATS, PULL_REQUESTS};
use serde_json::Value;

use crate::common::{headline, ok};

const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";
const REPO: &str = "acme/api";

/// Microseconds since the epoch of `2026-MM-DDTHH:00:00Z`.
fn t(m: u32, d: u32, h: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(2026, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

/// (sha, deployment, deployed_at, lead hours, pr, baseline)
type ChangeRow = (&'static str, &'static str, i64, i64, Option<i64>, bool);

struct Dep {
    id: &'static str,
    at: i64,
    commits: i64,
    failed: &'static [&'static str],
    recovery_h: Option<i64>,
}

/// The fixture organisation. Production deployments:
/// - 2026-07: one, 6 commits, failed (status), recovered after 2 h;
/// - 2026-08: one, 2 commits; 2026-09: one, 1 commit;
/// - 2026-10: two, 3 and 5 commits;
/// - 2026-11: d1 (1 commit), d2 (4, failed: status, recovered 3 h),
///   d3 (2), d4 (8, failed: incident + revert, recovered 24 h).
///
/// Lead times (hours) of production changes: Jul 3, Aug 1, Sep 2, Oct 5 and 15,
/// Nov 2, 10, 30, 50, plus one negative span (-1 h, clock skew) and one
/// baseline commit in November, both excluded.
fn build_store(data: &Path) {
    let deps = [
        Dep {
            id: "jul",
            at: t(7, 15, 10),
            commits: 6,
            failed: &["status"],
            recovery_h: Some(2),
        },
        Dep {
            id: "aug",
            at: t(8, 12, 10),
            commits: 2,
            failed: &[],
            recovery_h: None,
        },
        Dep {
            id: "sep",
            at: t(9, 9, 10),
            commits: 1,
            failed: &[],
            recovery_h: None,
        },
        Dep {
            id: "oct-a",
            at: t(10, 5, 10),
            commits: 3,
            failed: &[],
            recovery_h: None,
        },
        Dep {
            id: "oct-b",
            at: t(10, 19, 10),
            commits: 5,
            failed: &[],
            recovery_h: None,
        },
        Dep {
            id: "d1",
            at: t(11, 2, 10),
            commits: 1,
            failed: &[],
            recovery_h: None,
        },
        Dep {
            id: "d2",
            at: t(11, 4, 10),
            commits: 4,
            failed: &["status"],
            recovery_h: Some(3),
        },
        Dep {
            id: "d3",
            at: t(11, 10, 10),
            commits: 2,
            failed: &[],
            recovery_h: None,
        },
        Dep {
            id: "d4",
            at: t(11, 20, 10),
            commits: 8,
            failed: &["incident", "revert"],
            recovery_h: Some(24),
        },
        // A staging deployment, which the production report must ignore.
        Dep {
            id: "stg",
            at: t(11, 21, 10),
            commits: 50,
            failed: &["status"],
            recovery_h: None,
        },
    ];
    let n = deps.len();
    let env: Vec<&str> = deps
        .iter()
        .map(|d| {
            if d.id == "stg" {
                "staging"
            } else {
                "production"
            }
        })
        .collect();
    let reasons: Vec<Series> = deps
        .iter()
        .map(|d| {
            Series::new(
                "".into(),
                d.failed.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
        })
        .collect();
    let ds = DataFrame::new(
        n,
        vec![
            Column::new("repo".into(), vec![REPO; n]),
            Column::new("environment".into(), env),
            Column::new(
                "deployment_id".into(),
                deps.iter().map(|d| d.id).collect::<Vec<_>>(),
            ),
            Column::new(
                "deployed_at".into(),
                deps.iter().map(|d| d.at).collect::<Vec<_>>(),
            ),
            Column::new(
                "sha".into(),
                deps.iter()
                    .map(|d| format!("{:0>40}", d.id))
                    .collect::<Vec<_>>(),
            ),
            Column::new("source".into(), vec!["branch"; n]),
            Column::new("status".into(), vec!["success"; n]),
            Column::new(
                "batch_commits".into(),
                deps.iter().map(|d| d.commits).collect::<Vec<_>>(),
            ),
            Column::new("batch_prs".into(), vec![0i64; n]),
            Column::new(
                "batch_additions".into(),
                deps.iter().map(|d| d.commits * 10).collect::<Vec<_>>(),
            ),
            Column::new(
                "batch_deletions".into(),
                deps.iter().map(|d| d.commits).collect::<Vec<_>>(),
            ),
            Column::new("batch_files".into(), vec![1i64; n]),
            Column::new(
                "failed".into(),
                deps.iter()
                    .map(|d| !d.failed.is_empty())
                    .collect::<Vec<_>>(),
            ),
            Column::new("failure_reasons".into(), Series::new("".into(), reasons)),
            Column::new(
                "recovered_at".into(),
                deps.iter()
                    .map(|d| d.recovery_h.map(|h| d.at + h * 3_600_000_000))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "recovery_s".into(),
                deps.iter()
                    .map(|d| d.recovery_h.map(|h| h * 3600))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "is_rework".into(),
                deps.iter().map(|d| d.id == "d2").collect::<Vec<_>>(),
            ),
            Column::new("is_rollback".into(), vec![false; n]),
            Column::new("is_hotfix".into(), vec![false; n]),
            Column::new("is_baseline".into(), vec![false; n]),
            Column::new("baseline_commits".into(), vec![0i64; n]),
            Column::new(
                "shipped_commits".into(),
                deps.iter().map(|d| d.commits).collect::<Vec<_>>(),
            ),
            Column::new("is_roll_forward".into(), vec![false; n]),
            Column::new("note".into(), vec![None::<String>; n]),
        ],
    )
    .unwrap();
    // The safety-net evidence columns: unknown in this fixture.
    let mut ds = ds;
    for (name, ty) in DEPLOYMENT_STATS.columns {
        if ds.column(name).is_err() {
            ds.with_column(Column::full_null((*name).into(), n, &ty.dtype()))
                .unwrap();
        }
    }

    // (sha, deployment, deployed_at, lead hours, pr, baseline)
    let ch: [ChangeRow; 13] = [
        ("c-jul", "jul", t(7, 15, 10), 3, None, false),
        ("c-aug", "aug", t(8, 12, 10), 1, None, false),
        ("c-sep", "sep", t(9, 9, 10), 2, None, false),
        ("c-oct1", "oct-a", t(10, 5, 10), 5, None, false),
        ("c-oct2", "oct-b", t(10, 19, 10), 15, None, false),
        ("c-n1", "d1", t(11, 2, 10), 2, Some(7), false),
        ("c-n2", "d2", t(11, 4, 10), 10, None, false),
        ("c-n3", "d3", t(11, 10, 10), 30, None, false),
        ("c-n4", "d4", t(11, 20, 10), 50, None, false),
        ("c-skew", "d4", t(11, 20, 10), -1, None, false),
        ("c-base", "d4", t(11, 20, 10), 5000, None, true),
        ("c-n5", "d2", t(11, 4, 10), 10, Some(8), false),
        ("c-n6", "d2", t(11, 4, 10), 10, Some(8), false),
    ];
    let m = ch.len();
    let changes = DataFrame::new(
        m,
        vec![
            Column::new("repo".into(), vec![REPO; m]),
            Column::new("sha".into(), ch.iter().map(|c| c.0).collect::<Vec<_>>()),
            Column::new("environment".into(), vec!["production"; m]),
            Column::new(
                "pr_number".into(),
                ch.iter().map(|c| c.4).collect::<Vec<_>>(),
            ),
            Column::new(
                "authored_at".into(),
                ch.iter()
                    .map(|c| c.2 - c.3 * 3_600_000_000)
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "committed_at".into(),
                ch.iter()
                    .map(|c| c.2 - c.3 * 3_600_000_000)
                    .collect::<Vec<_>>(),
            ),
            Column::new("merged_at".into(), vec![None::<i64>; m]),
            Column::new(
                "deployment_id".into(),
                ch.iter().map(|c| c.1).collect::<Vec<_>>(),
            ),
            Column::new(
                "deployed_at".into(),
                ch.iter().map(|c| c.2).collect::<Vec<_>>(),
            ),
            Column::new(
                "lead_time_s".into(),
                // The analysis stores a negative span as null with anomaly `clock_skew`.
                ch.iter()
                    .map(|c| (c.3 >= 0).then_some(c.3 * 3600))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "is_baseline".into(),
                ch.iter().map(|c| c.5).collect::<Vec<_>>(),
            ),
            Column::new(
                "anomaly".into(),
                ch.iter()
                    .map(|c| (c.3 < 0).then_some("clock_skew"))
                    .collect::<Vec<_>>(),
            ),
            Column::new("is_merge".into(), vec![false; m]),
        ],
    )
    .unwrap();

    let k = ch.len();
    let commits = DataFrame::new(
        k,
        vec![
            Column::new("repo".into(), vec![REPO; k]),
            Column::new("sha".into(), ch.iter().map(|c| c.0).collect::<Vec<_>>()),
            Column::new(
                "parents".into(),
                Series::new(
                    "".into(),
                    vec![Series::new("".into(), Vec::<String>::new()); k],
                ),
            ),
            Column::new("author_name".into(), vec!["Alice"; k]),
            Column::new("author_email".into(), vec!["alice@example.com"; k]),
            Column::new("authored_at".into(), vec![t(1, 1, 0); k]),
            Column::new("committer_name".into(), vec!["Alice"; k]),
            Column::new("committer_email".into(), vec!["alice@example.com"; k]),
            Column::new("committed_at".into(), vec![t(1, 1, 0); k]),
            Column::new(
                "summary".into(),
                ch.iter()
                    .map(|c| {
                        if c.0 == "c-n3" {
                            HOSTILE.to_string()
                        } else {
                            format!("change {}", c.0)
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
            Column::new("is_merge".into(), vec![false; k]),
            Column::new("files_changed".into(), vec![1i64; k]),
            Column::new("additions".into(), vec![1i64; k]),
            Column::new("deletions".into(), vec![0i64; k]),
            Column::new("reverts".into(), vec![None::<&str>; k]),
            Column::new("cherry_picked_from".into(), vec![None::<&str>; k]),
            Column::new("patch_id".into(), vec![None::<&str>; k]),
            Column::new("stats_complete".into(), vec![true; k]),
            Column::new("reachable".into(), vec![true; k]),
        ],
    )
    .unwrap();

    let prs = df!(
        "repo" => [REPO, REPO],
        "number" => [7i64, 8],
        "title" => [HOSTILE, "Speed up checkout"],
        "author" => ["alice", "bob"],
        "created_at" => [t(11, 1, 0), t(11, 3, 0)],
        "merged_at" => [t(11, 1, 5), t(11, 3, 5)],
        "closed_at" => [t(11, 1, 5), t(11, 3, 5)],
        "updated_at" => [t(11, 1, 5), t(11, 3, 5)],
        "base_ref" => ["main", "main"],
        "head_ref" => ["feature/x", "feature/y"],
        "merge_commit_sha" => ["c-n1", "c-n5"],
        "additions" => [1i64, 2],
        "deletions" => [0i64, 0],
        "changed_files" => [1i64, 1],
        "commits" => [1i64, 2],
        "commit_shas" => [Series::new("".into(), ["c-n1"]), Series::new("".into(), ["c-n5", "c-n6"])],
        "first_commit_at" => [t(11, 1, 0), t(11, 3, 0)],
        "first_review_at" => [None::<i64>, None],
        "labels" => [Series::new("".into(), Vec::<String>::new()), Series::new("".into(), Vec::<String>::new())],
    )
    .unwrap();

    let store = Store::open(data).unwrap();
    let guard = store.lock(None, |_| {}).unwrap();
    guard.replace(&DEPLOYMENT_STATS, None, ds).unwrap();
    guard.replace(&CHANGES, None, changes).unwrap();
    guard.replace(&COMMITS, Some(REPO), commits).unwrap();
    guard.replace(&PULL_REQUESTS, Some(REPO), prs).unwrap();
    drop(guard);
    // The derived tables above are the fixture: mark them fresh for the
    // default config so that `report` does not rebuild them from base tables.
    let config = flowmeter_analysis::Config::default_for_repos();
    let fp = flowmeter_analysis::fingerprint(&store, &config);
    flowmeter_analysis::mark_fresh(&store.lock(None, |_| {}).unwrap(), &fp).unwrap();
}

/// A config with `tiers = 2024`, for the hand-computed tier assertions, marked
/// fresh like the default one so that the fixture's derived tables stand.
fn tiers_2024(dir: &Path, data: &Path) -> String {
    let path = dir.join("flowmeter.toml");
    let text = "tiers = 2024\n\n[[environment]]\nname = \"production\"\nfile = \"deploys.csv\"\nproduction = true\n";
    std::fs::write(&path, text).unwrap();
    let store = Store::open(data).unwrap();
    let config = flowmeter_analysis::parse_config(text, &path).unwrap();
    let fp = flowmeter_analysis::fingerprint(&store, &config);
    flowmeter_analysis::mark_fresh(&store.lock(None, |_| {}).unwrap(), &fp).unwrap();
    path.to_str().unwrap().to_string()
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

#[test]
fn monthly_report_numbers_match_the_hand_computed_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    build_store(&data);
    let cfg = tiers_2024(dir.path(), &data);
    let out = dir.path().join("out");
    ok(
        &data,
        &[
            "--config",
            &cfg,
            "report",
            "monthly",
            "--month",
            "2026-11",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    for f in [
        "report.html",
        "report.md",
        "summary.json",
        "deploys-per-week.png",
        "scorecard.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["month"], "2026-11");
    assert_eq!(s["previous_month"], "2026-10");
    assert_eq!(s["environment"], "production");

    let d = headline(&s, "Deployments");
    assert!(
        close(&d["this_month"], 4.0) && close(&d["previous_month"], 2.0),
        "{d}"
    );
    assert!(close(&d["trailing_3m_median"], 1.0), "{d}");
    // 4 deploy days in 30 days = 0.93 per week: below weekly, so Medium.
    assert_eq!(d["tier"], "medium");
    assert_eq!(d["low_confidence"], true);

    // Nov leads 2, 10, 10, 10, 30, 50 h (skew and baseline excluded): median 10 h.
    let l = headline(&s, "Median lead time");
    assert!(
        close(&l["this_month"], 10.0) && close(&l["previous_month"], 10.0),
        "{l}"
    );
    assert!(close(&l["trailing_3m_median"], 2.0), "{l}");
    assert_eq!(l["n"], 6);
    assert_eq!(l["tier"], "elite");

    let c = headline(&s, "Change fail rate");
    assert!(
        close(&c["this_month"], 0.5) && close(&c["previous_month"], 0.0),
        "{c}"
    );
    assert!(close(&c["trailing_3m_median"], 0.0), "{c}");
    assert_eq!(c["tier"], "low");

    let r = headline(&s, "Median recovery time");
    assert!(close(&r["this_month"], 13.5), "{r}");
    assert!(r["previous_month"].is_null(), "{r}");
    assert!(close(&r["trailing_3m_median"], 2.0), "{r}");
    assert_eq!(r["tier"], "high");

    let b = headline(&s, "Median batch size");
    assert!(
        close(&b["this_month"], 3.0) && close(&b["previous_month"], 4.0),
        "{b}"
    );
    assert!(close(&b["trailing_3m_median"], 2.0), "{b}");

    let rw = headline(&s, "Rework rate");
    assert!(close(&rw["this_month"], 0.25), "{rw}");

    let largest: Vec<&str> = s["largest_deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["deployment_id"].as_str().unwrap())
        .collect();
    assert_eq!(largest, ["d4", "d2", "d3", "d1"]);
    let failed = s["failed_deployments"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[1]["deployment_id"], "d4");
    assert_eq!(
        failed[1]["failure_reasons"],
        serde_json::json!(["incident", "revert"])
    );
    assert!(close(&failed[1]["recovery_hours"], 24.0));
    // d2 shipped PR #8 (two commits, listed once) and one commit without a PR.
    assert_eq!(
        failed[0]["shipped"],
        serde_json::json!(["change c-n2", "#8 Speed up checkout"])
    );

    // Every "what changed" sentence cites a figure that the report contains.
    let figures = s["figures"].as_array().unwrap();
    for w in s["what_changed"].as_array().unwrap() {
        let n = w["figure"].as_u64().unwrap() as usize;
        assert!(n >= 1 && n <= figures.len(), "{w}");
        assert!(w["text"]
            .as_str()
            .unwrap()
            .ends_with(&format!("(Figure {n})")));
    }
    let cfr_sentence = s["what_changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["figure_slug"] == "change-fail-rate")
        .unwrap();
    assert!(
        cfr_sentence["text"]
            .as_str()
            .unwrap()
            .starts_with("Change fail rate: rose from 0% in 2026-10 to 50%"),
        "{cfr_sentence}"
    );
    // Flow and what-if are not faked.
    assert!(s["findings"].is_null());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // One environment: the flow sections say why they are missing.
    assert!(s["stage_times"].is_null());
    let unavailable: Vec<&str> = s["unavailable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    for what in [
        "time per environment stage",
        "drift between environments",
        "misalignment findings",
    ] {
        let want = format!("not available: {what} (1 environment(s) configured;");
        assert!(
            unavailable.iter().any(|u| u.starts_with(&want)),
            "{unavailable:?}"
        );
    }
    assert!(html.contains("Not available: see “Not in this report” below."));
    assert!(html.contains("not available: drift between environments (1 environment(s)"));
    assert!(!html.contains("stage-times") && !html.contains("id=\"fig-drift\""));
}

#[test]
fn hostile_commit_message_and_pr_title_appear_only_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    build_store(&data);
    let out = dir.path().join("out");
    ok(
        &data,
        &[
            "report",
            "monthly",
            "--month",
            "2026-11",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    ok(&data, &["report", "deck", "--out", out.to_str().unwrap()]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let json = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let deck = std::fs::read_to_string(out.join("deck.html")).unwrap();
    for (name, text) in [
        ("report.html", &html),
        ("report.md", &md),
        ("summary.json", &json),
        ("deck.html", &deck),
    ] {
        assert!(!text.contains("<script>alert"), "{name} has a raw <script>");
        assert!(!text.contains("<img"), "{name} has a raw <img>");
        assert!(
            !text.contains("onerror=alert(2)>"),
            "{name} has the raw payload"
        );
    }
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;";
    assert!(
        html.contains(&format!("#7 {escaped}")),
        "PR title escaped in HTML"
    );
    assert!(html.contains(escaped), "commit message escaped in HTML");
    assert_eq!(
        html.matches(escaped).count(),
        2,
        "commit message and PR title"
    );
    assert!(md.contains(
        "&lt;script&gt;alert\\(1\\)&lt;/script&gt;&lt;img src=x onerror=alert\\(2\\)&gt;"
    ));
    // The JSON keeps the text exactly, with <, > and & as \u escapes.
    let s: Value = serde_json::from_str(&json).unwrap();
    let shipped: Vec<&str> = s["largest_deployments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            d["shipped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
        })
        .collect();
    assert!(shipped.contains(&HOSTILE));
    assert!(shipped.contains(&format!("#7 {HOSTILE}").as_str()));
    // The only script in any output is the deck's own navigation.
    assert_eq!(deck.matches("<script>").count(), 1);
    assert!(!html.contains("<script"));
}

#[test]
fn deck_has_one_png_per_slide_and_leaves_out_what_if() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    build_store(&data);
    let cfg = tiers_2024(dir.path(), &data);
    let out = dir.path().join("deck");
    ok(
        &data,
        &[
            "--config",
            &cfg,
            "report",
            "deck",
            "--out",
            out.to_str().unwrap(),
            "--since",
            "2026-07-01",
            "--until",
            "2026-11-30",
        ],
    );
    let mut pngs: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".png"))
        .collect();
    pngs.sort();
    assert_eq!(
        pngs,
        [
            "slide-01-title.png",
            "slide-02-tiers.png",
            "slide-03-waiting.png",
            "slide-04-batch-risk.png",
            "slide-05-safety-net.png"
        ]
    );
    for p in &pngs {
        let bytes = std::fs::read(out.join(p)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((w, h), (1920, 1080), "{p}");
    }
    let deck = std::fs::read_to_string(out.join("deck.html")).unwrap();
    assert_eq!(deck.matches("<section class=\"slide\"").count(), 5);
    assert!(!deck.contains("id=\"slide-whatif\""));
    assert!(deck.contains("Not available: what-if cadences"));
    // 9 production deployments from July to November, 3 failed.
    assert!(
        deck.contains("n=9 deployments"),
        "sample size on the batch chart"
    );
}

#[test]
fn reports_for_2025_show_scores_beside_the_mean_and_no_tier() {
    // The default config: tiers = 2025, population "All industries".
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    build_store(&data);
    let out = dir.path().join("out");
    ok(
        &data,
        &[
            "report",
            "monthly",
            "--month",
            "2026-11",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(out.join("quick-check.png").is_file());
    assert!(!out.join("scorecard.png").exists());
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["tier_year"], 2025);
    // November's numbers (see the 2024 test above) scored by hand as
    // data-service.ts scores the answers (2025 "all" means, 10 - mean for
    // the two rates):
    //   4 deploy days / 30 days = 0.93 per week (>= 12/52, < 1): answer 3
    //     "Between once per week and once per month" -> (3-1)/5*10 = 4, mean 4.8 ± 2.8
    //   median lead time 10 h: answer 5 "Less than one day" -> 8, mean 5.5 ± 2.4
    //   change fail rate 50% -> 10 - 50/10 = 5, mean 10 - 1.9 = 8.1 ± 2.1
    //   median recovery 13.5 h: answer 5 -> 8, mean 7.4 ± 2.1
    //   rework rate 25% -> 7.5, mean 10 - 2.2 = 7.8 ± 2.2
    let want = [
        ("Deployments", 4.0, 4.8, 2.8),
        ("Median lead time", 8.0, 5.5, 2.4),
        ("Change fail rate", 5.0, 8.1, 2.1),
        ("Median recovery time", 8.0, 7.4, 2.1),
        ("Rework rate", 7.5, 7.8, 2.2),
    ];
    for (metric, score, mean, sd) in want {
        let h = headline(&s, metric);
        assert!(h["tier"].is_null(), "{h}");
        assert!(close(&h["score"]["score"], score), "{h}");
        assert!(close(&h["score"]["mean"], mean), "{h}");
        assert!(close(&h["score"]["sd"], sd), "{h}");
    }
    assert!(headline(&s, "Median batch size")["score"].is_null());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| 2025 score (mean ± sd) |"), "{md}");
    // (Markdown escapes parentheses.)
    assert!(md.contains("| 8.0 \\(mean 5.5 ± 2.4\\) |"), "{md}");
    assert!(md.contains("benchmarks: DORA 2025 Quick Check scores \\(0–10\\) beside the All industries mean ± sd"), "{md}");
    assert!(md.contains("dora-team/dora.dev@"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for text in [&md, &html] {
        for tier in ["Elite", "DORA tier", "tier bands", "class=\"tier\""] {
            assert!(!text.contains(tier), "{tier}");
        }
    }

    let deck_dir = dir.path().join("deck");
    ok(
        &data,
        &[
            "report",
            "deck",
            "--out",
            deck_dir.to_str().unwrap(),
            "--since",
            "2026-07-01",
            "--until",
            "2026-11-30",
        ],
    );
    assert!(deck_dir.join("slide-02-scores.png").is_file());
    let deck = std::fs::read_to_string(deck_dir.join("deck.html")).unwrap();
    assert!(
        deck.contains("Where we are against the DORA 2025 population"),
        "{deck}"
    );
    assert!(!deck.contains("Elite") && !deck.contains("DORA tiers"));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(deck_dir.join("deck.json")).unwrap())
            .unwrap();
    assert_eq!(json["quick_check"]["population"], "All industries");
}

#[test]
fn unknown_environment_and_bad_month_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    build_store(&data);
    let out = dir.path().join("out");
    let err = crate::common::fails(
        &data,
        &[
            "report",
            "monthly",
            "--month",
            "2026-11",
            "--out",
            out.to_str().unwrap(),
            "--env",
            "prod",
        ],
    );
    assert!(
        err.contains("no deployments to environment `prod`") && err.contains("production, staging"),
        "{err}"
    );
    let err = crate::common::fails(
        &data,
        &[
            "report",
            "monthly",
            "--month",
            "2026-13",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(err.contains("invalid --month \"2026-13\""), "{err}");
}

/// `report deck --before/--after`: the slide appears, each flag needs the
/// other, and a bad range says what it expected.
#[test]
fn deck_compares_the_periods_asked_for_and_each_flag_needs_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    build_store(&data);
    let out = dir.path().join("deck");
    let o = out.to_str().unwrap();
    let err = crate::common::fails(
        &data,
        &[
            "report",
            "deck",
            "--out",
            o,
            "--before",
            "2026-07-01..2026-08-31",
        ],
    );
    assert!(err.contains("--after"), "{err}");
    let err = crate::common::fails(
        &data,
        &[
            "report",
            "deck",
            "--out",
            o,
            "--after",
            "2026-09-01..2026-11-30",
        ],
    );
    assert!(err.contains("--before"), "{err}");
    let err = crate::common::fails(
        &data,
        &[
            "report",
            "deck",
            "--out",
            o,
            "--before",
            "2026-07-01",
            "--after",
            "2026-09-01..2026-11-30",
        ],
    );
    assert!(
        err.contains("--before") && err.contains("expected FROM..TO"),
        "{err}"
    );
    ok(
        &data,
        &[
            "report",
            "deck",
            "--out",
            o,
            "--before",
            "2026-07-01..2026-08-31",
            "--after",
            "2026-09-01..2026-11-30",
        ],
    );
    let deck = std::fs::read_to_string(out.join("deck.html")).unwrap();
    assert!(deck.contains("id=\"slide-before-after\""));
    assert!(deck.contains("<h1>Before and after</h1>"), "{deck}");
    assert!(out.join("slide-05-before-after.png").exists());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("deck.json")).unwrap()).unwrap();
    let ba = &json["before_after"];
    assert_eq!(ba["before"]["label"], "2026-07-01..2026-08-31");
    assert_eq!(ba["after"]["to"], "2026-11-30");
    assert!(ba["change_date"].is_null());
    let metrics: Vec<&str> = ba["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metric"].as_str().unwrap())
        .collect();
    assert_eq!(
        metrics,
        [
            "lead_time",
            "batch_commits",
            "change_fail_rate",
            "recovery_time"
        ]
    );
}

/// Writes the fixture store to `$FLOWMETER_REPORT_FIXTURE` for looking at the
/// output by hand: `FLOWMETER_REPORT_FIXTURE=/tmp/fx cargo test --test it
/// report::write_fixture_store -- --ignored`.
#[test]
#[ignore]
fn write_fixture_store() {
    let path = std::env::var("FLOWMETER_REPORT_FIXTURE").expect("set FLOWMETER_REPORT_FIXTURE");
    build_store(Path::new(&path));
}

/// End to end from git: ingest, analyse (run by `report` itself, since the
/// store is stale), then both reports. The hostile text arrives through the
/// real ingest path as a commit message.
#[test]
fn reports_from_a_real_git_history_escape_and_include_what_if_when_it_exists() {
    use crate::common::{Fixture, ALICE};
    let fx = Fixture::new();
    let tag = |name: &str, at: &str| {
        fx.git_at(at, &ALICE, &["tag", "-a", name, "-m", name]);
    };
    fx.commit(
        "2026-09-01T09:00:00Z",
        &ALICE,
        "initial",
        &[("a.txt", b"a\n")],
    );
    tag("v1", "2026-09-01T12:00:00Z");
    fx.commit(
        "2026-09-03T09:00:00Z",
        &ALICE,
        HOSTILE,
        &[("b.txt", b"b\n")],
    );
    fx.commit(
        "2026-09-05T09:00:00Z",
        &ALICE,
        "feature c",
        &[("c.txt", b"c\n")],
    );
    tag("v2", "2026-09-08T12:00:00Z");
    for (i, day) in [10, 12, 15, 17, 22].iter().enumerate() {
        let f = format!("f{i}.txt");
        fx.commit(
            &format!("2026-09-{day}T09:00:00Z"),
            &ALICE,
            &format!("feature {i}"),
            &[(f.as_str(), b"x\n")],
        );
    }
    tag("v3", "2026-09-23T12:00:00Z");
    fx.commit(
        "2026-10-02T09:00:00Z",
        &ALICE,
        "feature z",
        &[("z.txt", b"z\n")],
    );
    tag("v4", "2026-10-05T12:00:00Z");
    fx.git(&["branch", "staging"]);
    let config = fx.dir.path().join("flowmeter.toml");
    std::fs::write(
        &config,
        "[[environment]]\nname = \"staging\"\nbranch = \"staging\"\n\n[[environment]]\nname = \"production\"\ntags = \"v*\"\nproduction = true\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let data = fx.dir.path().join("store");
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    let out = fx.dir.path().join("out");
    let o = out.to_str().unwrap();
    ok(
        &data,
        &[
            "--config", config, "report", "monthly", "--month", "2026-09", "--out", o,
        ],
    );
    ok(&data, &["--config", config, "report", "deck", "--out", o]);

    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    // v1, v2 and v3 are September's production deployments.
    assert!(
        close(&headline(&s, "Deployments")["this_month"], 3.0),
        "{s}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let deck = std::fs::read_to_string(out.join("deck.html")).unwrap();
    for text in [&html, &md, &deck] {
        assert!(!text.contains("<script>alert") && !text.contains("<img"));
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the commit message is listed, escaped"
    );

    // The what-if slide is there exactly when `flowmeter whatif` has results.
    let w: Value = serde_json::from_str(&ok(
        &data,
        &["--config", config, "whatif", "--format", "json"],
    ))
    .unwrap();
    let with_lead = w["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["lead_time_median_h"].is_null() && !r["lead_time_p90_h"].is_null())
        .count();
    assert_eq!(deck.contains("id=\"slide-whatif\""), with_lead >= 2, "{w}");
    assert!(
        with_lead >= 2,
        "this history has a staging mainline to replay: {w}"
    );
}

/// The promotion-flow fixture of `tests/it/flow.rs` (develop → test → beta →
/// production in March 2024): the monthly report draws the stage times and
/// the drift from `flowmeter flow`'s numbers and lists every misalignment; the
/// deck's waiting slide names the longest stage and the wait for the train.
#[test]
fn flow_sections_come_from_the_promotion_flow() {
    let s = crate::flow::build();
    let short = |x: &str| x[..12].to_string();
    let out = s.fx.dir.path().join("monthly");
    let o = out.to_str().unwrap();
    let cfg = s.config.as_str();
    ok(
        &s.data,
        &[
            "--config", cfg, "report", "monthly", "--month", "2024-03", "--out", o,
        ],
    );
    let sum: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(sum["unavailable"], serde_json::json!([]), "{sum}");

    // Stage medians, as tests/it/flow.rs works them out: develop→test 518400 s
    // = 144 h, test→beta 172800 s = 48 h, beta→production 172800 s = 48 h; 6
    // changes completed beta→production. The five months before have none.
    let st = &sum["stage_times"];
    assert_eq!(
        st["stages"],
        serde_json::json!(["develop → test", "test → beta", "beta → production"])
    );
    assert_eq!(st["statistic"], "median");
    let periods = st["periods"].as_array().unwrap();
    let labels: Vec<&str> = periods
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
    );
    let march = &periods[5];
    assert_eq!(march["changes"], 6);
    assert_eq!(march["hours"], serde_json::json!([144.0, 48.0, 48.0]));
    for p in &periods[..5] {
        assert_eq!(p["changes"], 0);
        assert_eq!(p["hours"], serde_json::json!([null, null, null]), "{p}");
    }

    // Drift, summed per day and pair, as the drift_daily asserts of flow.rs.
    let drift = |from: &str, day: &str| -> i64 {
        let pair = sum["drift"]["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["from"] == from)
            .unwrap_or_else(|| panic!("no pair from {from}"));
        pair["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["date"] == day)
            .unwrap_or_else(|| panic!("no {from} drift on {day}"))["changes"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(drift("develop", "2024-03-10"), 3);
    assert_eq!(drift("develop", "2024-03-11"), 0);
    assert_eq!(drift("develop", "2024-03-14"), 2);
    assert_eq!(drift("develop", "2024-03-26"), 1);
    assert_eq!(drift("beta", "2024-03-14"), 4);
    assert_eq!(drift("beta", "2024-03-15"), 0);
    assert_eq!(drift("beta", "2024-03-28"), 2);
    let figures: Vec<&str> = sum["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["png"].as_str().unwrap())
        .collect();
    for png in ["stage-times.png", "drift.png"] {
        assert!(figures.contains(&png), "{figures:?}");
        let bytes = std::fs::read(out.join(png)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{png}");
    }

    // Findings: every misalignment by kind with its shas, then the drift at
    // month end (each pair's last day with data) and the oldest waiting change.
    let findings = sum["findings"].as_array().unwrap();
    let kinds: Vec<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Skipped stage",
            "Cherry-pick duplicate",
            "Branch ahead of its predecessor",
            "Pollution",
            "Branch tips at ingest",
            "Branch tips at ingest",
            "Branch tips at ingest",
            "Drift at month end",
            "Drift at month end",
            "Drift at month end",
            "Oldest waiting change"
        ]
    );
    let shas = |i: usize| -> Vec<String> {
        let mut v: Vec<String> = findings[i]["shas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(shas(0), [short(&s.h)]);
    assert!(findings[0]["description"]
        .as_str()
        .unwrap()
        .starts_with("1 commit reached a later environment without ever being in an earlier one"));
    assert!(findings[0]["description"]
        .as_str()
        .unwrap()
        .contains("on production; never on develop, test, beta: hotfix: null check"));
    assert_eq!(shas(1), [short(&s.xp)]);
    assert_eq!(shas(2), sorted(vec![short(&s.xp), short(&s.h)]));
    assert!(findings[2]["description"]
        .as_str()
        .unwrap()
        .starts_with("2 commits are on an environment branch but not on the branch before it"));
    assert_eq!(shas(3), [short(&s.xp)]);
    // Today's tips (flow.rs): develop (M4) has D1 that test (Pt2) lacks; test
    // lacks X' that beta (Pb2) has; beta lacks H that production (Pp2) has.
    let desc = |i: usize| findings[i]["description"].as_str().unwrap().to_string();
    assert!(
        desc(4).starts_with("develop → test: the tip of develop ("),
        "{}",
        desc(4)
    );
    assert!(desc(4).ends_with(&format!(
        ") has 1 non-merge commit that the tip of test ({}) lacks, and lacks 0 that it has",
        short(&s.pt2)
    )));
    assert_eq!(
        desc(5),
        format!(
            "test → beta: the tip of test ({}) has 0 non-merge commits that the tip of beta ({}) lacks, and lacks 1 that it has",
            short(&s.pt2),
            short(&s.pb2)
        )
    );
    assert_eq!(
        desc(6),
        format!(
            "beta → production: the tip of beta ({}) has 0 non-merge commits that the tip of production ({}) lacks, and lacks 1 that it has",
            short(&s.pb2),
            short(&s.fx.rev("production"))
        )
    );
    // develop → test ends on 03-26 (M4) with D1 waiting since 14:00: 10 h at
    // midnight; test → beta ends on 03-27 (Pb2) and beta → production on
    // 03-29 (Pp2), both with nothing waiting.
    assert_eq!(
        findings[7]["description"],
        format!(
            "develop → test at the end of 2024-03-26 (the last day with data): 1 change and 0 PRs in develop not yet in test; the oldest, {}, has waited 10 h",
            short(&s.d1)
        )
    );
    assert_eq!(shas(7), [short(&s.d1)]);
    assert_eq!(
        findings[8]["description"],
        "test → beta at the end of 2024-03-27 (the last day with data): 0 changes and 0 PRs in test not yet in beta"
    );
    assert_eq!(
        findings[9]["description"],
        "beta → production at the end of 2024-03-29 (the last day with data): 0 changes and 0 PRs in beta not yet in production"
    );
    assert_eq!(
        findings[10]["description"],
        format!(
            "{} has waited 10 h in develop for test (at the end of 2024-03-26)",
            short(&s.d1)
        )
    );
    // The HTML lists them (repository text escaped: the pollution detail names
    // the branch in backticks, which Markdown escapes).
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<b>Skipped stage</b>"));
    assert!(html.contains(&short(&s.h)));
    assert!(html.contains("<figure id=\"fig-stage-times\">"));
    assert!(html.contains("<figure id=\"fig-drift\">"));
    assert!(!html.contains("Not in this report"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("branch \\`team/x\\`"), "{md}");
    assert!(md.contains("![") && md.contains("drift.png"));

    // The deck over March: the waiting slide stacks the same medians and
    // states the train wait: 975600 s of 5295600 s of lead time = 18.4%, a
    // median wait of 172800 s = 2 d, over 6 changes (flow.rs).
    let deck_dir = s.fx.dir.path().join("deck");
    let d = deck_dir.to_str().unwrap();
    ok(
        &s.data,
        &[
            "--config",
            cfg,
            "report",
            "deck",
            "--out",
            d,
            "--since",
            "2024-03-01",
            "--until",
            "2024-03-31",
        ],
    );
    let deck = std::fs::read_to_string(deck_dir.join("deck.html")).unwrap();
    assert!(
        deck.contains("The longest wait in 2024-03 is develop → test: median 6 d."),
        "{deck}"
    );
    assert!(deck.contains(
        "18.4% of lead time is waiting for the next production train, a median wait of 2 d (6 changes)."
    ));
    assert!(!deck.contains("Not available: time per environment stage"));
    assert!(deck_dir.join("slide-03-waiting.png").exists());
}

/// Writes the promotion-flow fixture's store and config into
/// `$FLOWMETER_FLOW_FIXTURE` to look at its reports by hand.
#[test]
#[ignore]
fn write_flow_fixture_store() {
    let path = std::env::var("FLOWMETER_FLOW_FIXTURE").expect("set FLOWMETER_FLOW_FIXTURE");
    let s = crate::flow::build();
    let dest = Path::new(&path);
    for (file, bytes) in crate::common::snapshot_dir(&s.data) {
        let to = dest
            .join("data")
            .join(file.strip_prefix(&s.data).unwrap_or(&file));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, bytes).unwrap();
    }
    std::fs::copy(&s.config, dest.join("flowmeter.toml")).unwrap();
}

/// Two environments whose `production` branch was only fast-forwarded along
/// main: the stage times say "not available" with the fast-forward note, the
/// drift is git's own view of the two branches, the findings keep what the
/// tips say, and the deck's waiting slide says why it shows no stages.
#[test]
fn fast_forwarded_branches_leave_stage_times_not_available() {
    use crate::common::{Fixture, ALICE};
    let fx = Fixture::new();
    for (i, day) in ["01", "02", "03", "04"].iter().enumerate() {
        fx.commit(
            &format!("2024-05-{day}T10:00:00Z"),
            &ALICE,
            &format!("change {i}"),
            &[(&format!("f{i}.txt"), b"x\n")],
        );
    }
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
    let out = fx.dir.path().join("out");
    let o = out.to_str().unwrap();
    // production's tip is baseline: report on the month of main's commits.
    ok(
        &data,
        &[
            "--config", cfg, "report", "monthly", "--month", "2024-05", "--out", o, "--env", "main",
        ],
    );
    let sum: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(sum["stage_times"].is_null(), "{sum}");
    // Drift follows git: production is main's commit of each day until 05-04.
    let points: Vec<i64> = sum["drift"]["pairs"][0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["changes"].as_i64().unwrap())
        .collect();
    assert_eq!(points, [0, 0, 0, 1], "{sum}");
    let unavailable: Vec<&str> = sum["unavailable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(unavailable.len(), 1, "{unavailable:?}");
    assert!(unavailable[0].starts_with(
        "not available: time per environment stage (no change moved from one environment to the next from 2023-12-01 to 2024-05-31; "
    ));
    assert!(
        unavailable[0].contains("was fast-forwarded"),
        "{}",
        unavailable[0]
    );
    // The tips are still compared: main has one commit (change 3) production lacks.
    let f = &sum["findings"][0];
    assert_eq!(f["kind"], "Branch tips at ingest");
    assert_eq!(
        f["description"],
        format!(
            "main → production: the tip of main ({}) has 1 non-merge commit that the tip of production ({}) lacks, and lacks 0 that it has",
            &fx.rev("main")[..12],
            &c2[..12]
        )
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<figure id=\"fig-stage-times\">"));
    assert!(html.contains("was fast-forwarded"));

    let deck = fx.dir.path().join("deck");
    ok(
        &data,
        &[
            "--config",
            cfg,
            "report",
            "deck",
            "--out",
            deck.to_str().unwrap(),
            "--env",
            "main",
        ],
    );
    let deck = std::fs::read_to_string(deck.join("deck.html")).unwrap();
    assert!(
        deck.contains("Not available: time per environment stage (no change moved"),
        "{deck}"
    );
    assert!(deck.contains(
        "to 2024-05-04; an environment branch was only fast-forwarded, see `flowmeter flow`)"
    ));
    assert!(!deck.contains("waiting for the next"));
}

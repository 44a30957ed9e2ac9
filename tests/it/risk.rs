//! `flowmeter risk`, `whatif` and `compare` end to end: derived tables written
//! straight into a store (the DORA stages build them in production), numbers
//! worked out by hand or with the reference tool named beside them.

use std::path::Path;

use flowmeter_analysis::{fingerprint, mark_fresh, Config};
use flowmeter_store::{Store, TableDef, CHANGES, DEPLOYMENT_STATS};
use polars::prelude::*;
use serde_json::Value;

use crate::common::*;

/// µs of an RFC 3339 time.
fn us(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_micros()
}

/// Writes `df` as `table`, the columns it lacks all null.
fn put(data: &Path, table: &TableDef, mut df: DataFrame) {
    let h = df.height();
    for (name, ty) in table.columns {
        if df.column(name).is_err() {
            df.with_column(Column::full_null((*name).into(), h, &ty.dtype()))
                .unwrap();
        }
    }
    let store = Store::open(data).unwrap();
    let guard = store.lock(None, |_| {}).unwrap();
    guard.replace(table, None, df).unwrap();
    drop(guard);
    freeze(data);
}

/// Marks the analysis fresh for the default config, so that the commands use
/// the derived tables written here instead of rebuilding them.
fn freeze(data: &Path) {
    let store = Store::open(data).unwrap();
    let fp = fingerprint(&store, &Config::default_for_repos());
    mark_fresh(&store.lock(None, |_| {}).unwrap(), &fp).unwrap();
}

/// Six production deployments and one staging deployment.
///
/// | id | deployed_at | commits | lines | failed | recovery |
/// |----|-------------|---------|-------|--------|----------|
/// | d1 | 2024-01-08  | 1       | 10    |        |          |
/// | d2 | 2024-01-15  | 2       | 40    | yes    | 2 h      |
/// | d3 | 2024-01-22  | 3       | 5     |        |          |
/// | d4 | 2024-07-01  | 1       | 0     |        |          |
/// | d5 | 2024-07-08  | 8       | 300   | yes    | 1 h      |
/// | d6 | 2024-07-15  | 0       | 0     |        |          | (a rollback)
fn deployments(data: &Path) {
    let df = df!(
        "repo" => ["api"; 7],
        "environment" => ["production", "production", "production", "production", "production", "production", "staging"],
        "deployment_id" => ["d1", "d2", "d3", "d4", "d5", "d6", "s1"],
        "deployed_at" => [
            us("2024-01-08T12:00:00Z"), us("2024-01-15T12:00:00Z"), us("2024-01-22T12:00:00Z"),
            us("2024-07-01T12:00:00Z"), us("2024-07-08T12:00:00Z"), us("2024-07-15T12:00:00Z"),
            us("2024-01-01T12:00:00Z"),
        ],
        "batch_commits" => [1i64, 2, 3, 1, 8, 0, 50],
        "batch_additions" => [6i64, 30, 5, 0, 200, 0, 1000],
        "batch_deletions" => [4i64, 10, 0, 0, 100, 0, 0],
        "failed" => [false, true, false, false, true, false, true],
        "recovery_s" => [None, Some(7200i64), None, None, Some(3600), None, Some(60)],
    )
    .unwrap();
    put(data, &DEPLOYMENT_STATS, df);
}

fn json(data: &Path, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&ok(data, &a)).unwrap()
}

fn close(v: &Value, want: f64, tol: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!((got - want).abs() <= tol, "{got} vs {want}");
}

#[test]
fn risk_buckets_fit_and_small_sample_warning() {
    let dir = tempfile::tempdir().unwrap();
    deployments(dir.path());
    let r = json(dir.path(), &["risk"]);
    assert_eq!(r["deployments"], 6);
    assert_eq!(r["failures"], 2);
    assert_eq!(r["empty_deployments"], 1);
    let commits: Vec<&Value> = r["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["measure"] == "commits")
        .collect();
    let got: Vec<(String, u64, u64)> = commits
        .iter()
        .map(|b| {
            (
                b["bucket"].as_str().unwrap().to_string(),
                b["deployments"].as_u64().unwrap(),
                b["failures"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [("0", 1, 0), ("1", 2, 0), ("2-3", 2, 1), ("8-15", 1, 1)];
    assert_eq!(
        got,
        want.map(|(b, n, f)| (b.to_string(), n, f)).to_vec(),
        "{r:#}"
    );
    // 1 of 2: statsmodels 0.15.0 proportion_confint(1, 2, method="wilson").
    close(&commits[2]["ci_lo"], 0.09453120573423068, 1e-12);
    close(&commits[2]["ci_hi"], 0.9054687942657693, 1e-12);
    close(&commits[2]["median_recovery_h"], 2.0, 0.0);
    close(&commits[3]["median_recovery_h"], 1.0, 0.0);
    // Commits fit over d1..d5 (d6 shipped nothing): statsmodels 0.15.0
    // Logit([0,1,0,0,1], add_constant(log2([1,2,3,1,8]))).fit(tol=1e-12):
    // exp(params[1]), exp(conf_int()[1]), pvalues[1].
    let fit = &r["fits"][0];
    assert_eq!(fit["measure"], "commits");
    assert_eq!(fit["deployments"], 5);
    close(&fit["odds_ratio_per_doubling"], 5.0181743760570745, 1e-6);
    close(&fit["ci_lo"], 0.31625244, 1e-6);
    close(&fit["ci_hi"], 79.62649681, 1e-5);
    close(&fit["p_value"], 0.2527415002373562, 1e-7);
    let warning = r["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("small sample: 6 deployments and 2 failures"),
        "{warning}"
    );
    // The table shows both sections and the warning; csv is the bucket table.
    let table = ok(dir.path(), &["risk"]);
    assert!(table.contains("Failure rate by batch size"), "{table}");
    assert!(table.contains("odds_ratio_per_doubling"), "{table}");
    assert!(table.contains("Warnings:\n  - small sample"), "{table}");
    let csv = ok(dir.path(), &["risk", "--format", "csv"]);
    assert!(csv.starts_with(
        "measure,bucket,deployments,failures,failure_rate,ci95_lo,ci95_hi,median_recovery_h\ncommits,0,1,0,0.0,"
    ), "{csv}");
    let md = ok(dir.path(), &["risk", "--format", "markdown"]);
    assert!(md.contains("### Logistic fit"), "{md}");
    // Another environment is another sample.
    let s = json(dir.path(), &["risk", "--env", "staging"]);
    assert_eq!(s["deployments"], 1);
    let none = json(dir.path(), &["risk", "--env", "prod"]);
    assert!(none["warnings"][0]
        .as_str()
        .unwrap()
        .contains("no deployments to environment `prod`"));
}

#[test]
fn whatif_replays_the_mainline_environment() {
    let dir = tempfile::tempdir().unwrap();
    deployments(dir.path());
    // Three changes reach `main` and later production.
    let main = [
        ("c1", "2024-03-04T09:00:00Z", "2024-03-05T12:00:00Z"), // Monday
        ("c2", "2024-03-04T11:40:00Z", "2024-03-05T12:00:00Z"),
        ("c3", "2024-03-06T15:00:00Z", "2024-03-12T12:00:00Z"), // Wednesday
    ];
    let mut env = vec![];
    let mut sha = vec![];
    let mut at = vec![];
    for (s, m, p) in main {
        env.extend(["main", "production"]);
        sha.extend([s, s]);
        at.extend([us(m), us(p)]);
    }
    let changes = df!(
        "repo" => vec!["api"; 6], "sha" => sha, "environment" => env, "deployed_at" => at,
    )
    .unwrap();
    put(dir.path(), &CHANGES, changes);

    let r = json(dir.path(), &["whatif", "--mainline-env", "main"]);
    assert_eq!(r["changes"], 3);
    assert_eq!(r["pipeline_delay_s"], 1800);
    let row = |p: &str| -> Value {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["policy"] == p)
            .cloned()
            .unwrap_or_else(|| panic!("no row {p}"))
    };
    // on-merge (30 min runs aligned on 12:00): c1 ready 09:30 -> 09:30;
    // c2 ready 12:10 -> 12:30 (50 min); c3 ready 15:30 -> 15:30.
    let m = row("on-merge");
    assert_eq!(m["deployments"], 3);
    close(&m["lead_time_median_h"], 0.5, 1e-9);
    assert_eq!(m["batch_max"], 1);
    // daily: Mon 12:00 (3 h), Tue 12:00 (24 h 20 min), Thu 12:00 (21 h).
    let d = row("daily");
    close(&d["lead_time_median_h"], 21.0, 1e-9);
    // weekly (Tuesdays): c1, c2 on 03-05 (27 h, 24 h 20 min), c3 on 03-12 (141 h).
    let w = row("weekly");
    assert_eq!(w["deployments"], 2);
    assert_eq!(w["batch_max"], 2);
    close(&w["lead_time_median_h"], 27.0, 1e-9);
    // current: the same ship times as weekly.
    let c = row("current");
    close(&c["lead_time_median_h"], 27.0, 1e-9);
    assert_eq!(c["changes"], 3);
    // Every policy ships all three changes, and failures are predicted.
    for p in ["on-merge", "daily", "weekly", "biweekly", "monthly"] {
        assert_eq!(row(p)["changes"], 3, "{p}");
        assert!(row(p)["predicted_failures"]["value"].as_f64().unwrap() > 0.0);
    }
    let a = r["assumptions"].as_array().unwrap();
    assert!(
        a[0].as_str().unwrap().contains("environment `main`"),
        "{a:?}"
    );
    let text = ok(
        dir.path(),
        &[
            "whatif",
            "--mainline-env",
            "main",
            "--cadence",
            "weekly,on-merge",
        ],
    );
    assert!(text.contains("Assumptions:"), "{text}");
    assert!(text.contains("subset of daily"), "{text}");
    assert!(text.contains("Check:"), "{text}");
    assert!(!text.contains("\nmonthly "), "{text}");
    assert!(text.contains("\nweekly "), "{text}");
    let err = fails(dir.path(), &["whatif", "--cadence", "fortnightly"]);
    assert!(
        err.contains("--cadence") && err.contains("\"fortnightly\""),
        "{err}"
    );
    let err = fails(dir.path(), &["whatif", "--pipeline-delay", "soon"]);
    assert!(err.contains("--pipeline-delay"), "{err}");
}

#[test]
fn whatif_falls_back_to_the_default_branch() {
    let fx = Fixture::new();
    fx.commit("2024-03-04T09:00:00Z", &ALICE, "c1", &[("a", b"1")]);
    fx.git(&["checkout", "-q", "-b", "feature"]);
    fx.commit("2024-03-04T10:00:00Z", &BOB, "f1", &[("b", b"1")]);
    fx.git(&["checkout", "-q", "main"]);
    fx.git_at(
        "2024-03-05T13:00:00Z",
        &ALICE,
        &["merge", "-q", "--no-ff", "feature", "-m", "merge feature"],
    );
    fx.commit("2024-03-06T11:00:00Z", &ALICE, "c2", &[("a", b"2")]);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(
        &data,
        &["ingest", "git", fx.path.to_str().unwrap(), "--name", "api"],
    );
    deployments(&data);
    // The default config has one environment, production, so the default
    // branch's commits are the mainline.
    let r = json(&data, &["whatif", "--pipeline-delay", "0"]);
    // c1 at 09:00 Mon, f1 when merged (13:00 Tue), c2 at 11:00 Wed; not the merge.
    assert_eq!(r["changes"], 3, "{r:#}");
    assert_eq!(r["window_start"], us("2024-03-04T09:00:00Z"));
    let daily = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["policy"] == "daily")
        .unwrap()
        .clone();
    // Mon 12:00 (3 h), Wed 12:00 for f1 (23 h) and c2 (1 h): median 3 h.
    close(&daily["lead_time_median_h"], 3.0, 1e-9);
    assert_eq!(daily["deployments"], 2);
    assert_eq!(daily["batch_max"], 2);
    assert!(r["assumptions"][0]
        .as_str()
        .unwrap()
        .contains("default branch"));
}

#[test]
fn compare_before_and_after() {
    let dir = tempfile::tempdir().unwrap();
    deployments(dir.path());
    // "m" is a merge commit: lead time counts non-merge commits only, so its
    // 1000 h must not move the before median (10 h; with it, 15 h).
    let changes = df!(
        "repo" => ["api"; 6],
        "sha" => ["a", "b", "c", "d", "e", "m"],
        "environment" => ["production"; 6],
        "deployed_at" => [
            us("2024-01-08T12:00:00Z"), us("2024-01-15T12:00:00Z"), us("2024-01-15T12:00:00Z"),
            us("2024-07-01T12:00:00Z"), us("2024-07-08T12:00:00Z"), us("2024-01-15T12:00:00Z"),
        ],
        "lead_time_s" => [36_000i64, 72_000, 7200, 3600, -60, 3_600_000],
        "is_baseline" => [false, false, false, false, false, false],
        "is_merge" => [false, false, false, false, false, true],
    )
    .unwrap();
    put(dir.path(), &CHANGES, changes);
    let args = [
        "compare",
        "--before",
        "2024-01-01..2024-01-31",
        "--after",
        "2024-07-01..2024-07-31",
    ];
    let r = json(dir.path(), &args);
    let row = |m: &str| -> Value {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["metric"] == m)
            .cloned()
            .unwrap()
    };
    // Lead times: before 10 h, 20 h, 2 h (median 10 h); after 1 h (the
    // negative one is clock skew, left out and counted).
    let lt = row("lead_time");
    close(&lt["before"], 10.0, 1e-9);
    close(&lt["after"], 1.0, 1e-9);
    close(&lt["difference"]["estimate"], -9.0, 1e-9);
    assert_eq!(r["negative_lead_times"], 1);
    // Batch commits: before 1, 2, 3 (median 2); after 1, 8, 0 (median 1).
    // Mann-Whitney: scipy 1.17.1 mannwhitneyu([1,8,0], [1,2,3],
    // alternative="two-sided", method="asymptotic") -> U 3.5, p 0.8247780950825133.
    let b = row("batch_commits");
    close(&b["before"], 2.0, 0.0);
    close(&b["after"], 1.0, 0.0);
    close(&b["mann_whitney"]["u"], 3.5, 0.0);
    close(&b["mann_whitney"]["p_value"], 0.8247780950825133, 1e-12);
    let d = &b["difference"];
    assert!(d["lo"].as_f64().unwrap() <= -1.0 && -1.0 <= d["hi"].as_f64().unwrap());
    // Change fail rate: 1/3 in both.
    let f = row("change_fail_rate");
    assert_eq!(f["statistic"], "rate");
    close(&f["difference"]["estimate"], 0.0, 1e-12);
    // Weekly deployment counts are aggregates: no rank test.
    assert_eq!(row("deployments_per_week")["mann_whitney"], Value::Null);
    // Seeded: the same output twice, another seed another interval.
    assert_eq!(json(dir.path(), &args), r);
    let mut seeded = args.to_vec();
    seeded.extend(["--seed", "1"]);
    assert_ne!(
        json(dir.path(), &seeded)["rows"][0]["difference"],
        lt["difference"]
    );
    let err = fails(
        dir.path(),
        &[
            "compare",
            "--before",
            "2024-01-01",
            "--after",
            "2024-07-01..2024-07-31",
        ],
    );
    assert!(
        err.contains("--before") && err.contains("\"2024-01-01\""),
        "{err}"
    );
}

#[test]
fn help_ends_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["risk", "whatif", "compare"] {
        let h = ok(dir.path(), &[cmd, "--help"]);
        assert!(h.contains("Examples:\n  flowmeter "), "{cmd}: {h}");
    }
}

#[test]
fn defaults_come_from_the_config() {
    // `live` is production by flag, `develop` is the first environment.
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("flowmeter.toml");
    let text = "[[environment]]\nname = \"develop\"\nbranch = \"develop\"\n\n\
                [[environment]]\nname = \"live\"\ntags = \"v*\"\nproduction = true\n\n\
                [[environment]]\nname = \"archive\"\nbranch = \"archive\"\n";
    std::fs::write(&config_path, text).unwrap();
    let data = dir.path().join("data");
    let stats = df!(
        "repo" => ["api"; 3],
        "environment" => ["live", "live", "archive"],
        "deployment_id" => ["l1", "l2", "a1"],
        "deployed_at" => [us("2024-03-05T12:00:00Z"), us("2024-03-12T12:00:00Z"), us("2024-03-13T12:00:00Z")],
        "batch_commits" => [1i64, 2, 5],
        "failed" => [false, true, false],
    )
    .unwrap();
    put(&data, &DEPLOYMENT_STATS, stats);
    let changes = df!(
        "repo" => ["api"; 2], "sha" => ["c1", "c1"], "environment" => ["develop", "live"],
        "deployed_at" => [us("2024-03-04T09:00:00Z"), us("2024-03-05T12:00:00Z")],
    )
    .unwrap();
    put(&data, &CHANGES, changes);
    // Fresh for this config, so the tables above stand.
    let store = Store::open(&data).unwrap();
    let config = flowmeter_analysis::parse_config(text, &config_path).unwrap();
    let fp = fingerprint(&store, &config);
    mark_fresh(&store.lock(None, |_| {}).unwrap(), &fp).unwrap();
    let cfg = config_path.to_str().unwrap();
    let r = json(&data, &["--config", cfg, "risk"]);
    assert_eq!(r["environment"], "live");
    assert_eq!(r["deployments"], 2);
    let w = json(&data, &["--config", cfg, "whatif"]);
    assert_eq!(w["changes"], 1);
    assert!(w["assumptions"][0]
        .as_str()
        .unwrap()
        .contains("environment `develop`"));
    // c1: develop Monday 09:00, live Tuesday 12:00 -> 27 h.
    close(&w["rows"][0]["lead_time_median_h"], 27.0, 1e-9);
    // --env still wins.
    let a = json(&data, &["--config", cfg, "risk", "--env", "archive"]);
    assert_eq!(a["deployments"], 1);
}

/// The known-ground-truth history, end to end through the store and the CLI:
/// 1200 merges over two years shipped by a weekly train, each deployment
/// failing with probability logistic(-3 + 0.7 log2(batch)), i.e. the odds
/// multiply by e^0.7 = 2.01 per doubling.
#[test]
fn ground_truth_through_the_cli() {
    use flowmeter_analysis::{replay, stats::logistic, Cadence, MainlineChange, SplitMix64};
    let (b0, b1) = (-3.0f64, 0.7f64);
    let mut rng = SplitMix64::new(2026);
    let start = us("2022-01-03T00:00:00Z");
    let day = 86_400_000_000i64;
    let mut merges: Vec<MainlineChange> = (0..1200)
        .map(|k| MainlineChange {
            repo: "api".into(),
            sha: format!("c{k:04}"),
            at: start + (rng.uniform() * 730.0 * day as f64) as i64,
            shipped_at: None,
        })
        .collect();
    merges.sort_by_key(|m| m.at);
    let delay = 30 * 60 * 1_000_000;
    let weekly = replay(&merges, Cadence::Weekly, delay);
    let mut releases = weekly.ship.clone();
    releases.sort();
    releases.dedup();
    assert_eq!(releases.len(), weekly.batches.len());
    let failed: Vec<bool> = weekly
        .batches
        .iter()
        .map(|b| rng.uniform() < logistic(b0 + b1 * (*b as f64).log2()))
        .collect();
    let n = releases.len();
    let stats = df!(
        "repo" => vec!["api"; n],
        "environment" => vec!["production"; n],
        "deployment_id" => (0..n).map(|k| format!("w{k}")).collect::<Vec<_>>(),
        "deployed_at" => releases.clone(),
        "batch_commits" => weekly.batches.iter().map(|b| *b as i64).collect::<Vec<_>>(),
        "failed" => failed.clone(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), &DEPLOYMENT_STATS, stats);
    let mut env = vec![];
    let mut sha = vec![];
    let mut at = vec![];
    for (m, s) in merges.iter().zip(&weekly.ship) {
        env.extend(["main", "production"]);
        sha.extend([m.sha.clone(), m.sha.clone()]);
        at.extend([m.at, *s]);
    }
    let rows = env.len();
    put(
        dir.path(),
        &CHANGES,
        df!("repo" => vec!["api"; rows], "sha" => sha, "environment" => env, "deployed_at" => at)
            .unwrap(),
    );

    let r = json(dir.path(), &["risk"]);
    let fit = &r["fits"][0];
    let (lo, hi) = (
        fit["ci_lo"].as_f64().unwrap(),
        fit["ci_hi"].as_f64().unwrap(),
    );
    assert!(
        lo <= b1.exp() && b1.exp() <= hi,
        "planted {} not in {fit}",
        b1.exp()
    );
    assert!(lo > 1.0, "the effect is detected: {fit}");
    // No small-sample warning; the lines fit has no data (no line counts here).
    assert_eq!(
        r["warnings"],
        serde_json::json!([
            "lines fit: cannot fit the risk model: only 0 observations (with a batch size of at least 1): too few to fit a slope"
        ]),
        "{r:#}"
    );

    let w = json(dir.path(), &["whatif", "--mainline-env", "main"]);
    let observed = failed.iter().filter(|f| **f).count();
    let check = &w["check"];
    assert_eq!(check["observed_failures"], observed);
    assert_eq!(check["consistent"], true, "{check}");
    close(&check["predicted_failures"], observed as f64, 1e-6);
    let row = |p: &str| {
        w["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["policy"] == p)
            .unwrap()
            .clone()
    };
    // The weekly replay is the real cadence: the same deployments and prediction.
    let (current, weekly_row) = (row("current"), row("weekly"));
    assert_eq!(weekly_row["deployments"], n);
    assert_eq!(
        current["lead_time_median_h"],
        weekly_row["lead_time_median_h"]
    );
    close(
        &weekly_row["predicted_failures"]["value"],
        current["predicted_failures"]["value"].as_f64().unwrap(),
        1e-9,
    );
    // With risk rising in batch size, sparser trains are predicted to fail
    // fewer times but to catch more changes in each failure.
    let cif = |p: &str| {
        row(p)["predicted_changes_in_failed"]["value"]
            .as_f64()
            .unwrap()
    };
    assert!(cif("daily") < cif("weekly") && cif("weekly") < cif("monthly"));
}

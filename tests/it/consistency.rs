//! One answer per figure: wherever two outputs report the same number, they
//! agree exactly. On the demo organisation and on the hand-computed `dora`
//! fixture, `metrics`, `flow`, `whatif`, `risk`, `compare`, the monthly
//! report's `summary.json` and the deck's `deck.json` are read back as JSON
//! and compared: deployment counts, failures, median lead time, change fail
//! rate, recovery, the risk buckets and fit, the what-if `current` row, and
//! the trains. (The notebooks print the same figures from the same JSON; the
//! notebooks check in `.ci/run` compares them with the CLI.)

use std::path::Path;

use serde_json::Value;

use crate::common::*;

fn json(data: &Path, cfg: &str, args: &[&str]) -> Value {
    let mut a = vec!["--config", cfg];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--format", "json"]);
    serde_json::from_str(&ok(data, &a)).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// The `metrics` row named `period`.
fn period<'a>(m: &'a Value, period: &str) -> &'a Value {
    m["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == period)
        .unwrap_or_else(|| panic!("no period {period} in {m}"))
}

/// The report month's value of one headline row of `summary.json`.
fn this_month<'a>(summary: &'a Value, metric: &str) -> &'a Value {
    &headline(summary, metric)["this_month"]
}

/// The number of whole days in `month` (YYYY-MM), as its last day.
fn month_end(month: &str) -> String {
    let (y, m): (i32, u32) = (month[..4].parse().unwrap(), month[5..].parse().unwrap());
    let next = if m == 12 {
        chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
    }
    .unwrap();
    (next - chrono::TimeDelta::days(1)).to_string()
}

/// Every cross-output equality, on one store. `deck` and `summary` are the
/// deck's `deck.json` (over the whole history) and a monthly `summary.json`.
/// Returns how many equalities were checked, so a caller can assert that the
/// check was not vacuous.
fn assert_consistent(
    data: &Path,
    cfg: &str,
    deck: &Value,
    summary: &Value,
    before: &str,
    after: &str,
) -> usize {
    let mut checked = 0;
    let mut eq = |what: &str, a: &Value, b: &Value| {
        assert!(!a.is_null() || b.is_null(), "{what}: {a} vs {b}");
        assert_eq!(a, b, "{what}");
        checked += 1;
    };
    let m = json(data, cfg, &["metrics"]);
    let all = period(&m, "all");
    let n = &deck["numbers"];
    eq(
        "deck deployments = metrics",
        &n["deployments"],
        &all["deployments"],
    );
    eq("deck failed = metrics", &n["failed"], &all["failed"]);
    eq(
        "deck change fail rate = metrics",
        &n["change_fail_rate"],
        &all["change_fail_rate"],
    );
    eq(
        "deck lead time = metrics",
        &n["lead_time_median_hours"],
        &all["lead_time_median_h"],
    );
    eq(
        "deck recovery = metrics",
        &n["recovery_median_hours"],
        &all["recovery_median_h"],
    );
    eq(
        "deck waiting median = metrics",
        &deck["waiting"]["median_hours"],
        &all["lead_time_median_h"],
    );

    // The monthly report's headline against `metrics` over that month.
    let month = summary["month"].as_str().unwrap();
    let since = format!("{month}-01");
    let mm = json(
        data,
        cfg,
        &["metrics", "--since", &since, "--until", &month_end(month)],
    );
    let row = period(&mm, month);
    let count = |v: &Value| Value::from(v.as_f64().map(|f| f as i64));
    eq(
        "summary deployments = metrics",
        &count(this_month(summary, "Deployments")),
        &row["deployments"],
    );
    eq(
        "summary lead time = metrics",
        this_month(summary, "Median lead time"),
        &row["lead_time_median_h"],
    );
    eq(
        "summary change fail rate = metrics",
        this_month(summary, "Change fail rate"),
        &row["change_fail_rate"],
    );
    eq(
        "summary recovery = metrics",
        this_month(summary, "Median recovery time"),
        &row["recovery_median_h"],
    );

    // 2025: the Quick Check scores and population means, the same in
    // `metrics`, the monthly report and the deck.
    if m["summary"]["tiers_year"] == 2025 {
        let score = |p: &Value, metric: &str| -> Value {
            p["quick_check"]["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["metric"] == metric)
                .map_or(Value::Null, |x| x["score"].clone())
        };
        let bench = &mm["summary"]["benchmarks"]["benchmarks"];
        for (name, metric) in [
            ("Deployments", "deploy_frequency"),
            ("Median lead time", "lead_time"),
            ("Change fail rate", "change_fail_rate"),
            ("Median recovery time", "recovery"),
            ("Rework rate", "rework_rate"),
        ] {
            let h = &headline(summary, name)["score"];
            eq("summary score = metrics", &h["score"], &score(row, metric));
            eq("summary mean = metrics", &h["mean"], &bench[metric]["mean"]);
            eq("summary sd = metrics", &h["sd"], &bench[metric]["std"]);
        }
        let rows = deck["quick_check"]["rows"].as_array().unwrap();
        for (label, metric) in [
            ("Deployment frequency", "deploy_frequency"),
            ("Change lead time", "lead_time"),
            ("Change fail rate", "change_fail_rate"),
            ("Recovery time", "recovery"),
            ("Rework rate", "rework_rate"),
        ] {
            let r = rows.iter().find(|r| r["metric"] == label).unwrap();
            eq("deck score = metrics", &r["score"], &score(all, metric));
        }
        let overall = rows.iter().find(|r| r["metric"] == "Overall").unwrap();
        eq(
            "deck overall = metrics",
            &overall["score"],
            &all["quick_check"]["overall"],
        );
    }

    // Risk: the same deployments and failures as `metrics`, and the deck's
    // batch-risk slide is `risk`'s commit buckets and fit.
    let r = json(data, cfg, &["risk"]);
    eq(
        "risk deployments = metrics",
        &r["deployments"],
        &all["deployments"],
    );
    eq("risk failures = metrics", &r["failures"], &all["failed"]);
    let buckets: Vec<&Value> = r["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["measure"] == "commits")
        .collect();
    let slide = deck["batch_risk"]["buckets"]["buckets"].as_array().unwrap();
    assert_eq!(slide.len(), buckets.len(), "deck buckets = risk buckets");
    for (s, b) in slide.iter().zip(&buckets) {
        eq("bucket deployments", &s["deployments"], &b["deployments"]);
        eq("bucket failures", &s["failed"], &b["failures"]);
        eq("bucket rate", &s["rate"], &b["failure_rate"]);
        eq("bucket lo", &s["lo"], &b["ci_lo"]);
        eq("bucket hi", &s["hi"], &b["ci_hi"]);
    }
    let fit = r["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["measure"] == "commits")
        .unwrap();
    if !deck["batch_risk"]["fit"].is_null() {
        eq(
            "deck odds ratio = risk",
            &deck["batch_risk"]["fit"]["odds_ratio_per_doubling"],
            &fit["odds_ratio_per_doubling"],
        );
        eq(
            "deck odds ratio lo = risk",
            &deck["batch_risk"]["fit"]["ci_lo"],
            &fit["ci_lo"],
        );
    }

    // What-if: the deck's slide is `whatif`'s default replay, row for row.
    let w = json(data, cfg, &["whatif"]);
    let rows = w["rows"].as_array().unwrap();
    let current = rows.iter().find(|r| r["policy"] == "current").unwrap();
    let policies = deck["whatif"]["policies"]
        .as_array()
        .expect("the deck has the what-if slide");
    for p in policies {
        let row = rows.iter().find(|r| r["policy"] == p["name"]).unwrap();
        eq(
            "what-if per month",
            &p["deployments_per_month"],
            &row["deployments_per_month"],
        );
        eq(
            "what-if lead median",
            &p["lead_median_hours"],
            &row["lead_time_median_h"],
        );
        eq(
            "what-if lead p90",
            &p["lead_p90_hours"],
            &row["lead_time_p90_h"],
        );
        eq(
            "what-if batch median",
            &p["batch_median"],
            &row["batch_median"],
        );
        // Both sides of the trade: expected failures and changes stuck in them.
        for (deck_key, row_key) in [
            ("predicted_failures", "predicted_failures"),
            ("predicted_changes_in_failed", "predicted_changes_in_failed"),
        ] {
            for (suffix, part) in [("", "value"), ("_lo", "lo"), ("_hi", "hi")] {
                eq(
                    &format!("what-if {deck_key}{suffix}"),
                    &p[format!("{deck_key}{suffix}")],
                    &row[row_key][part],
                );
            }
        }
    }
    assert!(policies.iter().any(|p| p["name"] == "current"));

    // Trains: `flow`'s production trains, the deck's, and the what-if's
    // current deployments are one list.
    let f = json(data, cfg, &["flow"]);
    let prod = n["environment"].as_str().unwrap();
    let trains: i64 = f["trains"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["environment"] == prod)
        .map(|t| t["trains"].as_i64().unwrap())
        .sum();
    eq(
        "flow trains = deck trains",
        &Value::from(trains),
        &n["trains"],
    );
    eq(
        "flow trains = what-if current deployments",
        &Value::from(trains),
        &current["deployments"],
    );

    // Compare: each period's median lead time is `metrics`' over the same days.
    let c = json(
        data,
        cfg,
        &["compare", "--before", before, "--after", after],
    );
    let lead = c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "lead_time")
        .unwrap();
    for (side, range) in [("before", before), ("after", after)] {
        let (a, b) = range.split_once("..").unwrap();
        let mp = json(data, cfg, &["metrics", "--since", a, "--until", b]);
        eq(
            &format!("compare {side} lead time = metrics"),
            &lead[side],
            &period(&mp, "all")["lead_time_median_h"],
        );
    }

    // Before/after: the deck's slide is `compare` over the deck's periods,
    // number for number.
    let ba = &deck["before_after"];
    assert!(ba.is_object(), "the deck has the before/after slide: {ba}");
    let label = |side: &str| ba[side]["label"].as_str().unwrap().to_string();
    let c = json(
        data,
        cfg,
        &[
            "compare",
            "--before",
            &label("before"),
            "--after",
            &label("after"),
        ],
    );
    let rows = ba["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        let m = row["metric"].as_str().unwrap();
        let r = c["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == m)
            .unwrap();
        for key in ["n_before", "n_after", "before", "after"] {
            eq(&format!("deck {m} {key} = compare"), &row[key], &r[key]);
        }
        for (key, part) in [
            ("difference", "estimate"),
            ("difference_lo", "lo"),
            ("difference_hi", "hi"),
        ] {
            eq(
                &format!("deck {m} {key} = compare"),
                &row[key],
                &r["difference"][part],
            );
        }
        eq(
            &format!("deck {m} p = compare"),
            &row["p_value"],
            &r["mann_whitney"]["p_value"],
        );
    }
    checked
}

#[test]
fn every_output_agrees_on_the_demo_organisation() {
    let dir = crate::demo::demo_dir();
    let data = dir.join("store");
    let cfg = dir.join("flowmeter.toml");
    let deck = read_json(&dir.join("deck/deck.json"));
    let summary = read_json(&dir.join("report/summary.json"));
    let n = assert_consistent(
        &data,
        cfg.to_str().unwrap(),
        &deck,
        &summary,
        "2025-01-01..2025-06-30",
        "2025-07-01..2025-12-31",
    );
    assert!(n >= 30, "only {n} equalities checked");
}

#[test]
fn every_output_agrees_on_the_hand_computed_fixture() {
    let org = crate::dora::build_org();
    let out = org.fx.dir.path().join("out");
    let (deck_dir, month_dir) = (out.join("deck"), out.join("report"));
    let cfg = org.config.as_str();
    ok(
        &org.data,
        &[
            "--config",
            cfg,
            "report",
            "deck",
            "--out",
            deck_dir.to_str().unwrap(),
            "--before",
            "2024-03-01..2024-03-06",
            "--after",
            "2024-03-07..2024-03-31",
        ],
    );
    ok(
        &org.data,
        &[
            "--config",
            cfg,
            "report",
            "monthly",
            "--month",
            "2024-03",
            "--out",
            month_dir.to_str().unwrap(),
        ],
    );
    let deck = read_json(&deck_dir.join("deck.json"));
    let summary = read_json(&month_dir.join("summary.json"));
    let n = assert_consistent(
        &org.data,
        cfg,
        &deck,
        &summary,
        "2024-03-01..2024-03-06",
        "2024-03-07..2024-03-31",
    );
    assert!(n >= 20, "only {n} equalities checked");
}

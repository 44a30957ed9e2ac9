//! `flowmeter demo`: the same seed gives the same organisation, the story is in
//! the data (git history and CSVs), and the demo runs end to end.
//!
//! The story's numbers come from the generator's design: two-week trains before
//! 2025-07-01 and one production deployment per working day after it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use git2::{Oid, Repository, Sort};

use crate::common::*;

const REPOS: [&str; 3] = ["payments-api", "storefront", "inventory"];
/// 2025-07-01T00:00:00Z, the switch to trunk-based delivery.
const SWITCH: i64 = 1_751_328_000;

/// One small demo (seed 7), generated once per test run and shared by the story
/// tests. It lives under cargo's target tmp dir (a static is never dropped, so a
/// `TempDir` would leak); the next run replaces it.
static DEMO: LazyLock<(PathBuf, String)> = LazyLock::new(|| {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-seed7");
    let stdout = run_demo(&out, "7");
    (out, stdout)
});

fn run_demo(out: &Path, seed: &str) -> String {
    let unused = out.with_extension("unused-data");
    ok(
        &unused,
        &[
            "demo",
            "--small",
            "--seed",
            seed,
            "--out",
            out.to_str().unwrap(),
        ],
    )
}

pub(crate) fn demo_dir() -> PathBuf {
    DEMO.0.clone()
}

fn open(out: &Path, name: &str) -> Repository {
    Repository::open_bare(out.join("repos").join(name)).unwrap()
}

/// Every commit sha reachable from any branch, sorted, plus the branch tips.
fn fingerprint(out: &Path) -> (Vec<String>, BTreeMap<String, String>) {
    let mut shas = vec![];
    let mut tips = BTreeMap::new();
    for name in REPOS {
        let repo = open(out, name);
        let mut walk = repo.revwalk().unwrap();
        for r in repo.references().unwrap() {
            let r = r.unwrap();
            let oid = r.target().unwrap();
            tips.insert(format!("{name}:{}", r.name().unwrap()), oid.to_string());
            walk.push(oid).unwrap();
        }
        for oid in walk {
            shas.push(format!("{name}:{}", oid.unwrap()));
        }
    }
    shas.sort();
    (shas, tips)
}

/// Every file under `dir` (relative path and bytes), the store excluded.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot_dir(dir)
        .into_iter()
        .map(|(p, b)| (p.strip_prefix(dir).unwrap().to_path_buf(), b))
        .filter(|(p, _)| !p.starts_with("store"))
        .collect()
}

#[test]
fn same_seed_gives_byte_identical_repos_and_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    // Another seed is another organisation...
    run_demo(&a, "8");
    let shared = demo_dir();
    let (shas7, tips7) = fingerprint(&shared);
    assert!(shas7.len() > 3000, "{} commits", shas7.len());
    assert_ne!(fingerprint(&a).0, shas7);
    assert_ne!(
        std::fs::read(a.join("deployments.csv")).unwrap(),
        std::fs::read(shared.join("deployments.csv")).unwrap()
    );
    // ...and rerunning seed 7 over it replaces it with a byte-identical copy of
    // the shared seed-7 demo: repositories (packs, refs), logs, config, story.
    let stdout = run_demo(&a, "7");
    // The findings (from the analysis of the store) are the same, word for word.
    let findings = |s: &str| -> String {
        let from = s.find("Headline findings").expect("findings printed");
        let to = s.find("Explore further").expect("closing line printed");
        s[from..to].to_string()
    };
    assert_eq!(findings(&stdout), findings(&DEMO.1));
    let (fa, fs) = (files(&a), files(&shared));
    for must in [
        "deployments.csv",
        "incidents.csv",
        "flowmeter.toml",
        "STORY.md",
        "report/report.html",
        "report/summary.json",
        "report-2025-07/report.html",
        "deck/deck.html",
    ] {
        assert!(fa.contains_key(Path::new(must)), "{must}");
    }
    assert!(fa.keys().any(|p| p.to_string_lossy().ends_with(".pack")));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fs.keys().collect::<Vec<_>>());
    for (p, bytes) in &fa {
        assert!(
            fs[p] == *bytes,
            "{} differs between two runs with seed 7",
            p.display()
        );
    }
    assert_eq!(fingerprint(&a), (shas7, tips7));
}

/// The first-parent chain of `branch`, oldest first: (sha, committer time, parents).
fn first_parent(repo: &Repository, branch: &str) -> Vec<(Oid, i64, usize)> {
    let mut walk = repo.revwalk().unwrap();
    walk.push_ref(&format!("refs/heads/{branch}")).unwrap();
    walk.simplify_first_parent().unwrap();
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE).unwrap();
    walk.map(|o| {
        let c = repo.find_commit(o.unwrap()).unwrap();
        (c.id(), c.time().seconds(), c.parent_count())
    })
    .collect()
}

/// Non-merge commits in `new` but not in `old`.
fn shipped(repo: &Repository, old: Oid, new: Oid) -> Vec<String> {
    let mut walk = repo.revwalk().unwrap();
    walk.push(new).unwrap();
    walk.hide(old).unwrap();
    walk.map(|o| o.unwrap())
        .filter(|o| repo.find_commit(*o).unwrap().parent_count() == 1)
        .map(|o| o.to_string())
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    assert!(!v.is_empty());
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// A production deployment by promotion merge, with the batch it shipped.
struct ProdDeploy {
    repo: &'static str,
    sha: String,
    at: i64,
    batch: Vec<String>,
}

fn prod_merges(out: &Path) -> Vec<ProdDeploy> {
    let mut v = vec![];
    for name in REPOS {
        let repo = open(out, name);
        let chain = first_parent(&repo, "production");
        for w in chain.windows(2) {
            let (old, (new, at, parents)) = (w[0].0, w[1]);
            if parents == 2 {
                v.push(ProdDeploy {
                    repo: name,
                    sha: new.to_string(),
                    at,
                    batch: shipped(&repo, old, new),
                });
            }
        }
    }
    v
}

#[test]
fn batches_shrink_and_deploys_speed_up_after_the_switch() {
    let out = demo_dir();
    let merges = prod_merges(&out);
    let (before, after): (Vec<&ProdDeploy>, Vec<&ProdDeploy>) =
        merges.iter().partition(|d| d.at < SWITCH);
    // Trains: the second Wednesday of every fortnight from 2025-01-08 to 2025-06-25,
    // 13 per repo; the first finds beta still empty, so 12 ship something.
    assert_eq!(before.len(), 3 * 12, "production trains before the switch");
    assert!(after.len() >= 3 * 120, "{} daily deployments", after.len());
    let mb = median(before.iter().map(|d| d.batch.len() as f64).collect());
    let ma = median(after.iter().map(|d| d.batch.len() as f64).collect());
    assert!(
        mb > 4.0 * ma,
        "median batch before {mb} should dwarf after {ma}"
    );

    // Intervals between production deployments (first-parent commits, hotfixes included).
    let mut ib = vec![];
    let mut ia = vec![];
    for name in REPOS {
        let chain = first_parent(&open(&out, name), "production");
        for w in chain.windows(2).skip(1) {
            let h = (w[1].1 - w[0].1) as f64 / 3600.0;
            if w[1].1 < SWITCH {
                ib.push(h);
            } else if w[0].1 >= SWITCH {
                ia.push(h);
            }
        }
    }
    let (mib, mia) = (median(ib), median(ia));
    // 14 days = 336 h, give or take the 30-minute jitter of the train time.
    assert!(
        (335.0..=337.0).contains(&mib),
        "median interval before: {mib} h"
    );
    // One a working day at 14:00-14:15 UTC; urgent deploys shorten some gaps.
    assert!(
        (20.0..=25.0).contains(&mia),
        "median interval after: {mia} h"
    );
}

#[test]
fn hotfixes_live_only_on_production_and_picks_and_reverts_name_real_commits() {
    let out = demo_dir();
    let (mut hotfixes, mut picks, mut reverts) = (0, 0, 0);
    let mut picked = BTreeSet::new();
    for name in REPOS {
        let repo = open(&out, name);
        let reach = |branch: &str| -> BTreeSet<Oid> {
            let mut w = repo.revwalk().unwrap();
            w.push_ref(&format!("refs/heads/{branch}")).unwrap();
            w.map(|o| o.unwrap()).collect()
        };
        let (dev, test, beta, prod) = (
            reach("develop"),
            reach("test"),
            reach("beta"),
            reach("production"),
        );
        let mut all = repo.revwalk().unwrap();
        all.push_glob("refs/heads/*").unwrap();
        for oid in all {
            let oid = oid.unwrap();
            let c = repo.find_commit(oid).unwrap();
            let msg = c.message().unwrap().to_string();
            if msg.starts_with("Hotfix:") {
                hotfixes += 1;
                assert!(prod.contains(&oid), "hotfix {oid} is on production");
                assert!(
                    !dev.contains(&oid) && !test.contains(&oid) && !beta.contains(&oid),
                    "hotfix {oid} in {name} was merged back"
                );
            }
            if let Some(i) = msg.find("(cherry picked from commit ") {
                picks += 1;
                let src = Oid::from_str(&msg[i + 27..i + 67]).unwrap();
                assert!(
                    picked.insert(src),
                    "{src} in {name} was cherry-picked twice"
                );
                let orig = repo.find_commit(src).unwrap();
                assert!(dev.contains(&src), "picked commit {src} came from develop");
                assert_eq!(orig.author().email(), c.author().email());
                assert_eq!(orig.summary(), c.summary());
                assert_ne!(src, oid);
            }
            if let Some(i) = msg.find("This reverts commit ") {
                reverts += 1;
                let target = Oid::from_str(&msg[i + 20..i + 60]).unwrap();
                assert!(
                    repo.find_commit(target).is_ok(),
                    "revert target {target} exists"
                );
                assert!(dev.contains(&oid), "reverts land on develop");
            }
        }
    }
    assert!(hotfixes >= 1, "no hotfix commits");
    assert!(picks >= 3, "only {picks} cherry-picks");
    assert!(reverts >= 3, "only {reverts} reverts");
}

#[test]
fn engineers_commit_from_berlin_and_new_york_time_zones() {
    let out = demo_dir();
    let mut offsets = BTreeSet::new();
    let mut authors = BTreeSet::new();
    for name in REPOS {
        let repo = open(&out, name);
        let mut all = repo.revwalk().unwrap();
        all.push_glob("refs/heads/*").unwrap();
        for oid in all {
            let c = repo.find_commit(oid.unwrap()).unwrap();
            if c.author().email().ok() != Some("deploy-bot@acme.example") {
                offsets.insert(c.author().when().offset_minutes());
                authors.insert(c.author().email().unwrap().to_string());
            }
        }
    }
    // CET, CEST, EST and EDT.
    assert_eq!(offsets, BTreeSet::from([-300, -240, 60, 120]));
    assert_eq!(authors.len(), 12, "--small has 12 engineers");
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn deploy_log_matches_the_branches_and_failures_rise_with_batch_size() {
    let out = demo_dir();
    let (dh, deploys) = read_csv(&out.join("deployments.csv"));
    assert_eq!(
        dh,
        [
            "deployed_at",
            "environment",
            "sha",
            "status",
            "repo",
            "deployment_id",
            "actor",
            "tests_passed"
        ]
    );
    let (ih, incidents) = read_csv(&out.join("incidents.csv"));
    assert_eq!(
        ih,
        [
            "incident_id",
            "opened_at",
            "resolved_at",
            "title",
            "severity",
            "repo",
            "caused_by_sha",
            "deployment_id"
        ]
    );

    // The log is production's: every first-parent commit of the production
    // branch after the import, plus rollbacks, which redeploy an earlier one.
    let mut by_sha: HashMap<(String, String), String> = HashMap::new();
    assert!(deploys.iter().all(|d| d["environment"] == "production"));
    for name in REPOS {
        let repo = open(&out, name);
        let chain: Vec<String> = first_parent(&repo, "production")
            .into_iter()
            .map(|c| c.0.to_string())
            .collect();
        let logged: Vec<&HashMap<String, String>> =
            deploys.iter().filter(|d| d["repo"] == name).collect();
        let logged_shas: BTreeSet<&String> = logged.iter().map(|d| &d["sha"]).collect();
        for sha in &chain[1..] {
            assert!(
                logged_shas.contains(sha),
                "{name}: production commit {sha} is logged"
            );
        }
        let mut seen = BTreeSet::new();
        for d in &logged {
            assert!(d["deployed_at"].ends_with('Z') && d["deployed_at"].len() == 20);
            if !seen.insert(&d["sha"]) {
                // A second deployment of a sha is a rollback to an earlier production commit.
                assert!(
                    chain.contains(&d["sha"]),
                    "{name}: rollback to {}",
                    d["sha"]
                );
                // The rollback bot redeploys; a redeploy runs no tests.
                assert_eq!(d["actor"], "rollback-bot[bot]");
                assert_eq!(d["tests_passed"], "");
            } else {
                assert!(
                    ["release-manager", "deploy-bot[bot]", "on-call engineer"]
                        .contains(&d["actor"].as_str()),
                    "{d:?}"
                );
            }
            by_sha
                .entry((name.to_string(), d["sha"].clone()))
                .or_insert_with(|| d["deployment_id"].clone());
        }
        assert_eq!(logged.len() - seen.len(), logged.len() - (chain.len() - 1));
    }

    // A production merge failed when its deploy job failed, or an incident names
    // the deployment or one of the commits it shipped.
    let merges = prod_merges(&out);
    let failed = |d: &ProdDeploy| -> bool {
        let id = &by_sha[&(d.repo.to_string(), d.sha.clone())];
        let row = deploys.iter().find(|r| &r["deployment_id"] == id).unwrap();
        row["status"] == "failure"
            || incidents.iter().any(|i| {
                &i["deployment_id"] == id
                    || (!i["caused_by_sha"].is_empty() && d.batch.contains(&i["caused_by_sha"]))
            })
    };
    let rate =
        |ds: &[&ProdDeploy]| ds.iter().filter(|d| failed(d)).count() as f64 / ds.len() as f64;
    let mut sorted: Vec<&ProdDeploy> = merges.iter().collect();
    sorted.sort_by_key(|d| (d.batch.len(), d.at));
    let (small, large) = sorted.split_at(sorted.len() / 2);
    let (rs, rl) = (rate(small), rate(large));
    assert!(
        rl > rs,
        "failure rate of large batches {rl:.3} > small batches {rs:.3}"
    );
    let (before, after): (Vec<&ProdDeploy>, Vec<&ProdDeploy>) =
        merges.iter().partition(|d| d.at < SWITCH);
    assert!(
        rate(&before) > rate(&after),
        "change fail rate falls after the switch: {:.3} -> {:.3}",
        rate(&before),
        rate(&after)
    );
    assert!(incidents.iter().all(|i| i["opened_at"] < i["resolved_at"]));
}

#[test]
fn demo_ingests_every_commit_and_says_what_it_did() {
    let out = demo_dir();
    let stdout = &DEMO.1;
    for want in [
        "deployments.csv",
        "incidents.csv",
        "flowmeter.toml",
        "STORY.md",
        "store",
        "report/report.html",
        "deck/",
    ] {
        assert!(stdout.contains(want), "stdout names {want}:\n{stdout}");
    }
    let rows = demo_query("select repo, count(*) as n from commits group by repo order by repo");
    let (shas, _) = fingerprint(&out);
    for name in REPOS {
        let want = shas
            .iter()
            .filter(|s| s.starts_with(&format!("{name}:")))
            .count();
        let got = rows
            .iter()
            .find(|r| r["repo"] == name)
            .unwrap_or_else(|| panic!("{name} not ingested: {rows:?}"))["n"]
            .as_u64()
            .unwrap() as usize;
        assert_eq!(got, want, "{name}: commits in the store vs in git");
    }
    let cfg = std::fs::read_to_string(out.join("flowmeter.toml")).unwrap();
    assert!(cfg.contains("name = \"production\"\nfile = \"deployments.csv\"\nproduction = true"));
    for env in ["develop", "test", "beta"] {
        assert!(
            cfg.contains(&format!("name = \"{env}\"\nbranch = \"{env}\"")),
            "{cfg}"
        );
    }
    assert!(cfg.contains("[failure]") && cfg.contains("production = true"));
}

/// The demo's deck tells the story: the before/after slide around the
/// config's process change (the switch), then the what-if slide with both
/// sides of the trade.
#[test]
fn the_demo_deck_shows_before_after_and_both_sides_of_what_if() {
    let deck = demo_dir().join("deck");
    for png in [
        "slide-05-before-after.png",
        "slide-06-safety-net.png",
        "slide-07-whatif.png",
    ] {
        assert!(deck.join(png).exists(), "{png}");
    }
    let html = std::fs::read_to_string(deck.join("deck.html")).unwrap();
    assert!(html.contains("id=\"slide-before-after\""));
    assert!(html.contains("<h1>What changed with trunk-based delivery</h1>"));
    assert!(html.contains("median lead time before and after 2025-07-01"));
    assert!(html.contains("Median lead time fell"), "{html}");
    assert!(html.contains("id=\"slide-whatif\""));
    assert!(html.contains("changes stuck in them"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(deck.join("deck.json")).unwrap()).unwrap();
    let ba = &json["before_after"];
    assert_eq!(ba["change_date"], "2025-07-01");
    assert_eq!(ba["label"], "trunk-based delivery");
    assert_eq!(ba["before"]["to"], "2025-06-30");
    assert_eq!(ba["after"]["from"], "2025-07-01");
    let verdict = |m: &str| {
        ba["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == m)
            .unwrap()["verdict"]
            .clone()
    };
    // The planted story: weeks of waiting become about a day, batches shrink.
    assert_eq!(verdict("lead_time"), "lower");
    assert_eq!(verdict("batch_commits"), "lower");
    let policies = json["whatif"]["policies"].as_array().unwrap();
    assert!(policies
        .iter()
        .all(|p| p["predicted_changes_in_failed"].is_number()));
}

/// Rows of a query run with the demo's config (so the analysis is not redone with another).
fn demo_query(sql: &str) -> Vec<serde_json::Value> {
    let out = demo_dir();
    let cfg = out.join("flowmeter.toml");
    let stdout = ok(
        &out.join("store"),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "sql",
            sql,
            "--format",
            "json",
        ],
    );
    serde_json::from_str::<Vec<serde_json::Value>>(&stdout).unwrap()
}

#[test]
fn the_analysis_of_the_demo_shows_the_story() {
    assert!(DEMO.1.contains("Headline findings"), "{}", DEMO.1);
    assert!(DEMO.1.contains("Change lead time fell"), "{}", DEMO.1);
    let (_, logged) = read_csv(&demo_dir().join("deployments.csv"));
    let rows = demo_query(
        "select deployed_at, batch_commits, failed from deployment_stats \
         where environment = 'production' and not is_baseline",
    );
    // Every logged production deployment but the three imports (baseline) is analysed.
    assert_eq!(rows.len(), logged.len() - 3);
    let split = |r: &serde_json::Value| r["deployed_at"].as_str().unwrap() < "2025-07-01";
    let (before, after): (Vec<&serde_json::Value>, Vec<&serde_json::Value>) =
        rows.iter().partition(|r| split(r));
    let batch = |v: &[&serde_json::Value]| {
        median(
            v.iter()
                .map(|r| r["batch_commits"].as_f64().unwrap())
                .collect(),
        )
    };
    let cfr = |v: &[&serde_json::Value]| {
        v.iter().filter(|r| r["failed"] == true).count() as f64 / v.len() as f64
    };
    assert!(
        after.len() > 5 * before.len(),
        "{} vs {}",
        before.len(),
        after.len()
    );
    assert!(batch(&before) > 4.0 * batch(&after));
    assert!(
        cfr(&before) > cfr(&after),
        "{} vs {}",
        cfr(&before),
        cfr(&after)
    );
    let leads = demo_query(
        "select deployed_at, lead_time_s from changes \
         where environment = 'production' and lead_time_s is not null",
    );
    let (lb, la): (Vec<&serde_json::Value>, Vec<&serde_json::Value>) =
        leads.iter().partition(|r| split(r));
    let med = |v: &[&serde_json::Value]| {
        median(
            v.iter()
                .map(|r| r["lead_time_s"].as_f64().unwrap())
                .collect(),
        )
    };
    // Weeks of waiting for a train before, about a day after.
    assert!(med(&lb) > 14.0 * 86_400.0, "{}", med(&lb));
    assert!(med(&la) < 3.0 * 86_400.0, "{}", med(&la));

    // The `production` branch is production's own branch even though its
    // deployments come from the deploy log: it is never "polluted".
    let polluted = demo_query(
        "select count(*) as n from misalignments where kind = 'pollution' and detail like 'branch `production`%'",
    );
    assert_eq!(polluted, vec![serde_json::json!({"n": 0})]);
}

#[test]
fn demo_refuses_a_directory_it_did_not_make() {
    let tmp = tempfile::tempdir().unwrap();
    let foreign = tmp.path().join("mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "keep me").unwrap();
    let err = fails(
        &tmp.path().join("d"),
        &["demo", "--small", "--out", foreign.to_str().unwrap()],
    );
    assert!(err.contains("was not made by `flowmeter demo`"), "{err}");
    assert!(err.contains("mine"), "{err}");
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "keep me"
    );
}

/// The demo's what-if turns expected failures into expected defects per
/// week: the expected failed deployments times the incidents per failed
/// production deployment (counted here with SQL), over the replay's weeks.
#[test]
fn the_demo_whatif_has_expected_defects_per_week() {
    let out = demo_dir();
    let cfg = out.join("flowmeter.toml");
    let v: serde_json::Value = serde_json::from_str(&ok(
        &out.join("store"),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "whatif",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let q = demo_query(
        "select sum(incidents) as i, count(*) as f from deployment_stats \
         where environment = 'production' and failed",
    );
    let per_failure = q[0]["i"].as_f64().unwrap() / q[0]["f"].as_f64().unwrap();
    assert!(per_failure > 0.5 && per_failure < 1.5, "{per_failure}");
    let weeks = v["months"].as_f64().unwrap() * 30.4375 / 7.0;
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    for row in rows {
        let pf = &row["predicted_failures"];
        let d = &row["expected_defects_per_week"];
        for k in ["value", "lo", "hi"] {
            let want = pf[k].as_f64().unwrap() * per_failure / weeks;
            let got = d[k].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "{}: {k} {got} != {want}",
                row["policy"]
            );
        }
    }
}

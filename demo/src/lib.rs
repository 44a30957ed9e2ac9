//! `flowmeter demo`: a realistic synthetic organisation, built as real git
//! repositories with git2, plus the deploy and incident logs a CD tool and an
//! incident tool would export, and a `flowmeter.toml` for them.
//!
//! The story: three services and 35 engineers in Berlin and New York. Until
//! 2025-07-01 they promote develop → test → beta → production by merging
//! environment branches on two-week trains; from then on they work
//! trunk-based, with short-lived branches and a small production deployment
//! every working day. Production failures are planted with a logistic model of
//! the batch size (see [`FAIL_SLOPE`]), so smaller batches fail less often.
//!
//! Everything is a function of the seed: no clock, no `HashMap` order, no
//! threads racing for one repository.

mod calendar;
mod people;
mod plan;
mod rng;
mod sim;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

mod error;

use error::Context;
pub use error::{Error, Result};

pub use sim::{Deployment, Incident, Kind};

/// The planted failure model: `logit P(fail) = FAIL_INTERCEPT + FAIL_SLOPE · log2(batch commits)`.
/// `exp(FAIL_SLOPE)` = 1.6 is the odds ratio per doubling of the batch.
pub const FAIL_SLOPE: f64 = 0.470_003_629_245_735_5; // ln 1.6
pub const FAIL_INTERCEPT: f64 = -4.0;
/// The odds ratio per doubling that the demo plants.
pub const PLANTED_ODDS_RATIO: f64 = 1.6;

/// The file that marks a directory as made by `flowmeter demo`, so a rerun may replace it.
pub const MARKER: &str = ".flowmeter-demo";

/// The span of the story.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    /// The switch to trunk-based delivery (UTC seconds).
    pub switch: i64,
    /// The end of the story (UTC seconds, exclusive).
    pub end: i64,
}

impl Timeline {
    pub fn year_2025() -> Timeline {
        Timeline {
            switch: calendar::utc(2025, 7, 1, 0, 0),
            end: calendar::utc(2026, 1, 1, 0, 0),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub out: PathBuf,
    pub seed: u64,
    /// 12 engineers instead of 35: the same story in fewer commits, for tests.
    pub small: bool,
}

/// Per-phase facts of the generated data (ground truth, not measurements).
#[derive(Debug, Clone, Default)]
pub struct PhaseFacts {
    pub production_deployments: usize,
    pub median_batch_commits: f64,
    pub median_interval_hours: f64,
    pub planted_failures: usize,
}

/// What was generated and where.
#[derive(Debug, Clone)]
pub struct Generated {
    pub out: PathBuf,
    pub repos: Vec<(String, PathBuf)>,
    pub deployments_csv: PathBuf,
    pub incidents_csv: PathBuf,
    pub config: PathBuf,
    pub story: PathBuf,
    pub engineers: usize,
    pub commits: usize,
    pub pull_requests: usize,
    pub hotfixes: usize,
    pub cherry_picks: usize,
    pub reverts: usize,
    pub deployments: usize,
    pub incidents: usize,
    pub before: PhaseFacts,
    pub after: PhaseFacts,
}

/// The file names the demo owns inside `--out`.
const OWNED: &[&str] = &[
    "repos",
    "store",
    "deployments.csv",
    "incidents.csv",
    "flowmeter.toml",
    "STORY.md",
    "report",
    "report-2025-07",
    "deck",
];

/// Makes `out` ready: creates it, or clears a previous demo in it. Refuses a
/// non-empty directory that `flowmeter demo` did not make.
fn prepare(out: &Path) -> Result<()> {
    if out.exists() {
        let non_empty = fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_some();
        if non_empty && !out.join(MARKER).exists() {
            return Err(Error::NotADemoDir(format!(
                "{} exists and was not made by `flowmeter demo` (no {MARKER} file); choose another --out",
                out.display()
            )));
        }
        for name in OWNED {
            let p = out.join(name);
            if p.is_dir() {
                fs::remove_dir_all(&p).with_context(|| format!("removing {}", p.display()))?;
            } else if p.exists() {
                fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
            }
        }
    }
    fs::create_dir_all(out.join("repos"))
        .with_context(|| format!("creating {}", out.join("repos").display()))?;
    fs::write(
        out.join(MARKER),
        "made by `flowmeter demo`; a rerun replaces this directory's demo files\n",
    )
    .with_context(|| format!("writing {}", out.join(MARKER).display()))?;
    Ok(())
}

/// Generates the organisation: repositories, CSVs, config and story.
pub fn generate(opts: &DemoOptions) -> Result<Generated> {
    let out = &opts.out;
    prepare(out)?;
    let tl = Timeline::year_2025();
    let people = people::roster(&mut rng::Rng::stream(opts.seed, "roster"), opts.small);
    let features = plan::features(&mut rng::Rng::stream(opts.seed, "plan"), &people, &tl);

    // The objects are made here and read back at once: skip libgit2's
    // re-hashing of every object read and its existence checks on creation
    // (most of the generation time otherwise). Restored below.
    git2::opts::strict_hash_verification(false);
    git2::opts::strict_object_creation(false);
    // One thread per repository; each has its own random stream, so the
    // result does not depend on scheduling.
    let results: Vec<Result<sim::RepoOut>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..people::SERVICES.len())
            .map(|i| {
                let dir = out.join("repos").join(people::SERVICES[i].name);
                let (people, features) = (&people, &features);
                s.spawn(move || {
                    sim::build(&dir, i, people, features, &tl, opts.seed)
                        .with_context(|| format!("building {}", dir.display()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("demo repository thread panicked"))
            .collect()
    });
    git2::opts::strict_hash_verification(true);
    git2::opts::strict_object_creation(true);
    let mut deployments = Vec::new();
    let mut incidents = Vec::new();
    let (mut commits, mut prs, mut hotfixes, mut cherry, mut reverts) = (0, 0, 0, 0, 0);
    for r in results {
        let r = r?;
        commits += r.commits;
        prs += r.pull_requests;
        hotfixes += r.hotfixes;
        cherry += r.cherry_picks;
        reverts += r.reverts;
        deployments.extend(r.deployments);
        incidents.extend(r.incidents);
    }
    deployments.sort_by(|a, b| {
        (a.deployed_at, a.repo, &a.deployment_id).cmp(&(b.deployed_at, b.repo, &b.deployment_id))
    });
    incidents.sort_by(|a, b| (a.opened_at, a.repo).cmp(&(b.opened_at, b.repo)));

    let deployments_csv = out.join("deployments.csv");
    let incidents_csv = out.join("incidents.csv");
    write_deployments(&deployments_csv, &deployments, tl.switch)?;
    write_incidents(&incidents_csv, &incidents)?;
    let config = out.join("flowmeter.toml");
    fs::write(&config, CONFIG).with_context(|| format!("writing {}", config.display()))?;

    let before = phase_facts(&deployments, i64::MIN, tl.switch);
    let after = phase_facts(&deployments, tl.switch, i64::MAX);
    let repos: Vec<(String, PathBuf)> = people::SERVICES
        .iter()
        .map(|s| (s.name.to_string(), out.join("repos").join(s.name)))
        .collect();
    let g = Generated {
        out: out.clone(),
        repos,
        deployments_csv,
        incidents_csv,
        config,
        story: out.join("STORY.md"),
        engineers: people.len(),
        commits,
        pull_requests: prs,
        hotfixes,
        cherry_picks: cherry,
        reverts,
        deployments: deployments
            .iter()
            .filter(|d| d.environment == "production")
            .count(),
        incidents: incidents.len(),
        before,
        after,
    };
    fs::write(&g.story, story(&g, opts.seed))
        .with_context(|| format!("writing {}", g.story.display()))?;
    Ok(g)
}

/// Who started a production deployment, as the CD tool logs it: the release
/// manager runs the trains, the on-call engineer pushes hotfixes, and after
/// the switch a deploy bot promotes and a rollback bot redeploys.
fn actor(d: &Deployment, switch: i64) -> &'static str {
    match (d.kind, d.deployed_at >= switch) {
        (Kind::Rollback, _) => "rollback-bot[bot]",
        (Kind::Hotfix, _) => "on-call engineer",
        (_, true) => "deploy-bot[bot]",
        (_, false) => "release-manager",
    }
}

/// Whether CI passed on what it shipped: every promotion ran the test suite
/// on develop first; a hotfix committed straight on production and a
/// rollback's redeploy ran none (no result, not a failure).
fn tests_passed(d: &Deployment) -> &'static str {
    match d.kind {
        Kind::Hotfix | Kind::Rollback => "",
        _ => "true",
    }
}

fn write_deployments(path: &Path, rows: &[Deployment], switch: i64) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    w.write_record([
        "deployed_at",
        "environment",
        "sha",
        "status",
        "repo",
        "deployment_id",
        "actor",
        "tests_passed",
    ])?;
    // The CD tool's production log: every production deployment (promotion
    // merges and hotfix commits, at deploy time) with its status, and the rollbacks.
    for d in rows.iter().filter(|d| d.environment == "production") {
        w.write_record([
            calendar::iso(d.deployed_at).as_str(),
            d.environment,
            &d.sha,
            d.status,
            d.repo,
            &d.deployment_id,
            actor(d, switch),
            tests_passed(d),
        ])?;
    }
    w.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn write_incidents(path: &Path, rows: &[Incident]) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    w.write_record([
        "incident_id",
        "opened_at",
        "resolved_at",
        "title",
        "severity",
        "repo",
        "caused_by_sha",
        "deployment_id",
    ])?;
    for (i, r) in rows.iter().enumerate() {
        w.write_record([
            format!("INC-{:04}", i + 1).as_str(),
            &calendar::iso(r.opened_at),
            &calendar::iso(r.resolved_at),
            &r.title,
            r.severity,
            r.repo,
            r.caused_by_sha.as_deref().unwrap_or(""),
            r.deployment_id.as_deref().unwrap_or(""),
        ])?;
    }
    w.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Production merges (trains, daily and urgent deploys) in `[from, to)`.
fn phase_facts(all: &[Deployment], from: i64, to: i64) -> PhaseFacts {
    let prod: Vec<&Deployment> = all
        .iter()
        .filter(|d| d.batch_commits.is_some() && (from..to).contains(&d.deployed_at))
        .collect();
    let mut intervals = Vec::new();
    for s in people::SERVICES.iter() {
        let times: Vec<i64> = all
            .iter()
            .filter(|d| {
                d.repo == s.name
                    && d.environment == "production"
                    && d.kind != Kind::Rollback
                    && (from..to).contains(&d.deployed_at)
            })
            .map(|d| d.deployed_at)
            .collect();
        intervals.extend(times.windows(2).map(|w| (w[1] - w[0]) as f64 / 3600.0));
    }
    PhaseFacts {
        production_deployments: prod.len(),
        median_batch_commits: median(
            prod.iter()
                .map(|d| d.batch_commits.unwrap_or(0) as f64)
                .collect(),
        ),
        median_interval_hours: median(intervals),
        planted_failures: prod.iter().filter(|d| d.failed).count(),
    }
}

const CONFIG: &str = r#"# flowmeter configuration for the demo organisation (written by `flowmeter demo`).
# Environments in promotion order. Every first-parent commit on an environment
# branch is a deployment to that environment, at its committer time. Production
# comes from the CD tool's log instead (`flowmeter ingest deployments
# deployments.csv`): the same deployments as the first-parent commits of the
# `production` branch, at the time they went live, with their status, plus the
# rollbacks that no branch shows. (`branch = "production"` also works, without
# those.)

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
file = "deployments.csv"
production = true

[failure]
incident_window = "7d"
revert_window = "14d"
hotfix = { branch = "hotfix/*", message = "(?i)\\bhotfix\\b", label = "hotfix" }

# A rollback by the rollback bot is automated; every other rollback or revert
# deployment is manual (the deploy log's `actor` column says who ran it).
[rollback]
automated_actors = ['rollback-bot\[bot\]']

# Incidents weighed as defects by severity.
[defects]
severity_weights = { sev1 = 5, sev2 = 2, sev3 = 1 }

# The day the teams switched from two-week release trains to trunk-based
# delivery: the deck compares the periods before and after it.
[process_change]
date = "2025-07-01"
label = "trunk-based delivery"
"#;

fn story(g: &Generated, seed: u64) -> String {
    let mut s = String::new();
    let pct =
        |f: &PhaseFacts| 100.0 * f.planted_failures as f64 / f.production_deployments.max(1) as f64;
    let _ = writeln!(s, "# The demo organisation (seed {seed})\n");
    let _ = writeln!(
        s,
        "Generated by `flowmeter demo`. This file is the ground truth that flowmeter's \
analysis should rediscover from the repositories and the CSVs.\n"
    );
    let _ = writeln!(s, "## The story\n");
    let _ = writeln!(
        s,
        "- Three services ({}), {} engineers in Europe/Berlin and America/New_York, \
2025-01-01 to 2025-12-31.",
        people::SERVICES.map(|s| s.name).join(", "),
        g.engineers
    );
    let _ = writeln!(
        s,
        "- Until 2025-07-01: feature branches (2-8 commits, days to weeks) merged into `develop` by pull request; \
two-week trains on Wednesdays merge `beta` into `production` and `develop` into `test`, and \
`test` into `beta` on the Wednesday in between. Urgent fixes are cherry-picked onto `beta` \
(`git cherry-pick -x`). Production incidents are mostly fixed by hotfix commits straight on \
`production`, which are never merged back."
    );
    let _ = writeln!(
        s,
        "- From 2025-07-01: trunk-based. Short-lived branches (1-3 commits, hours) merge into `develop`; \
every working day a bot promotes `develop` → `test` → `beta` → `production` within an hour. \
Incidents are fixed by a revert or a fix forward with an immediate extra deployment, or by a \
rollback (a redeploy of the previous sha, in `deployments.csv` only)."
    );
    let _ = writeln!(
        s,
        "- The storefront team's long-running branch `team/search-rewrite` merges `beta` into itself \
(\"pollution\") before it is merged into `develop`.\n"
    );
    let _ = writeln!(s, "## The planted failure model\n");
    let _ = writeln!(
        s,
        "Each merge into `production` fails with probability `1 / (1 + exp(-({FAIL_INTERCEPT} + {FAIL_SLOPE:.4} * log2(batch))))`, \
where `batch` is the number of non-merge commits it ships (`git rev-list --no-merges old..new`). \
The odds ratio per doubling of the batch is **{PLANTED_ODDS_RATIO}**. Hotfix commits and rollbacks are not given failures. \
A failure shows up as an incident (opened 15 min to 5 h after the deployment; `caused_by_sha` names the culprit \
in about 60% of them, `deployment_id` in about 25%, neither in the rest) or, after the switch, in about 15% \
of cases as a failed deploy job (`status = failure`, no incident). One incident per service is a third-party outage \
that no deployment caused.\n"
    );
    let _ = writeln!(s, "## What was generated\n");
    let _ = writeln!(s, "| | before 2025-07-01 | from 2025-07-01 |");
    let _ = writeln!(s, "|---|---|---|");
    let _ = writeln!(
        s,
        "| production merges | {} | {} |",
        g.before.production_deployments, g.after.production_deployments
    );
    let _ = writeln!(
        s,
        "| median batch (non-merge commits) | {:.1} | {:.1} |",
        g.before.median_batch_commits, g.after.median_batch_commits
    );
    let _ = writeln!(
        s,
        "| median hours between production deployments | {:.1} | {:.1} |",
        g.before.median_interval_hours, g.after.median_interval_hours
    );
    let _ = writeln!(
        s,
        "| planted failures | {} ({:.0}%) | {} ({:.0}%) |\n",
        g.before.planted_failures,
        pct(&g.before),
        g.after.planted_failures,
        pct(&g.after)
    );
    let _ = writeln!(
        s,
        "Totals: {} commits, {} pull requests, {} hotfixes, {} cherry-picks, {} reverts, \
{} production deployments in `deployments.csv`, {} incidents in `incidents.csv`.",
        g.commits,
        g.pull_requests,
        g.hotfixes,
        g.cherry_picks,
        g.reverts,
        g.deployments,
        g.incidents
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_slope_is_ln_of_the_odds_ratio() {
        assert!((FAIL_SLOPE.exp() - PLANTED_ODDS_RATIO).abs() < 1e-12);
        // P(fail) at 1 commit and at 128 commits, worked out by hand:
        // logit = -4 -> 0.01799; logit = -4 + 7 ln 1.6 = -0.7100 -> 0.3296.
        let p = |n: f64| 1.0 / (1.0 + (-(FAIL_INTERCEPT + FAIL_SLOPE * n.log2())).exp());
        assert!((p(1.0) - 0.017_986).abs() < 1e-5, "{}", p(1.0));
        assert!((p(128.0) - 0.329_6).abs() < 1e-3, "{}", p(128.0));
    }

    #[test]
    fn median_of_even_and_odd_samples() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }
}

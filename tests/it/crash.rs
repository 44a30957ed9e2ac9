//! Crash safety, measured: `ingest git`, `analyze` and `ingest deployments`
//! killed with SIGKILL at seeded random moments, then run again to
//! completion, leave a store equal to the store of an uninterrupted run: the
//! same rows, no duplicates, no temporary files. (`ingest github`'s rounds
//! are in `github.rs`, beside its mock server, and use the helpers here.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// How big the git fixture is and how many kills a harness makes: 8,000
/// commits and 10 kills in the test suite (it must stay quick), and what
/// `FLOWMETER_CRASH_COMMITS` and `FLOWMETER_CRASH_KILLS` say otherwise;
/// `.ci/run` runs the `ingest git` harness again at 30,000 commits and 20
/// kills, the size issue #17 asks for.
fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn commits() -> usize {
    size("FLOWMETER_CRASH_COMMITS", 8_000)
}

fn kills() -> usize {
    size("FLOWMETER_CRASH_KILLS", 10)
}

/// `commits()` commits on `main` (a merge from `feature` every 50), a tag
/// every 500, pinned dates, a handful of files so that diff stats are
/// computed.
fn fixture(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("big");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    std::fs::create_dir(&repo).unwrap();
    git(&["init", "-q", "-b", "main"]);
    let mut s = String::new();
    let who = |i: usize, t: i64| format!("A{} <a{}@example.com> {t} +0000\n", i % 7, i % 7);
    for i in 1..=commits() {
        let t = 1_700_000_000 + i as i64 * 900;
        let on_feature = i % 50 == 25;
        let branch = if on_feature { "feature" } else { "main" };
        s.push_str(&format!("commit refs/heads/{branch}\nmark :{i}\n"));
        s.push_str(&format!("author {}committer {}", who(i, t), who(i, t)));
        let msg = format!("change {i}");
        s.push_str(&format!("data {}\n{msg}\n", msg.len()));
        if i > 1 {
            // A feature commit starts from main's previous commit; the next
            // main commit merges it.
            s.push_str(&format!("from :{}\n", i - 1));
            if i % 50 == 26 {
                s.push_str(&format!("merge :{}\n", i - 1));
            }
        }
        let body = format!("{i}\n{}\n", "x".repeat(i % 40));
        s.push_str(&format!(
            "M 644 inline f{}\ndata {}\n{body}\n",
            i % 13,
            body.len()
        ));
        if i % 500 == 0 {
            s.push_str(&format!("reset refs/tags/v{}\nfrom :{i}\n\n", i / 500));
        }
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(&repo)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    repo
}

/// What an uninterrupted run and a killed-then-rerun one must agree on:
/// every row of every table `ingest git` and `analyze` write, without the
/// columns that say when a run happened, as sorted text rows (the files may
/// split the rows differently).
fn tables(data: &Path) -> Vec<(&'static str, Vec<String>)> {
    use flowmeter_store::*;
    rows_of(
        data,
        &[
            &COMMITS,
            &REFS,
            &REF_HISTORY,
            &REPOS,
            &DEPLOYMENT_COMMITS,
            &CHANGES,
            &DEPLOYMENT_STATS,
            &ENV_ARRIVALS,
        ],
    )
}

/// Every row of `tables` in `data`, without the columns that say when a run
/// happened, as sorted text rows.
pub fn rows_of(
    data: &Path,
    tables: &[&'static flowmeter_store::TableDef],
) -> Vec<(&'static str, Vec<String>)> {
    let store = flowmeter_store::Store::open(data).unwrap();
    let mut out = vec![];
    for t in tables {
        let df = store.read(t).unwrap();
        let cols: Vec<_> = df
            .columns()
            .iter()
            .filter(|c| {
                !matches!(
                    c.name().as_str(),
                    "observed_at" | "ingested_at" | "synced_at"
                )
            })
            .collect();
        let mut rows: Vec<String> = (0..df.height())
            .map(|i| {
                cols.iter()
                    .map(|c| c.get(i).unwrap().to_string())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        rows.sort();
        out.push((t.name, rows));
    }
    out
}

pub fn temporaries(data: &Path) -> Vec<PathBuf> {
    snapshot_dir(data)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect()
}

/// A small seeded generator: the kill moments are the same on every run.
struct Moments(u64);
impl Moments {
    fn next(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        max.mul_f64((self.0 % 10_000) as f64 / 10_000.0)
    }
}

/// Starts flowmeter, kills it with SIGKILL after `after`; true if the kill
/// came before it finished.
fn kill_after(data: &Path, args: &[&str], after: Duration) -> bool {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowmeter"));
    cmd.arg("--data")
        .arg(data)
        .args(args)
        .arg("--quiet")
        .env_remove("FLOWMETER_DATA")
        .env_remove("FLOWMETER_CONFIG");
    kill_command_after(cmd, after)
}

/// Starts `cmd`, kills it with SIGKILL after `after`; true if the kill came
/// before it finished.
pub fn kill_command_after(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    killed
}

/// The fixture, ingested once into `ingested` and analysed in a copy of it,
/// `reference`: what every killed-then-rerun store must equal.
struct Reference {
    dir: tempfile::TempDir,
    repo: String,
    ingested: PathBuf,
    want: Vec<(&'static str, Vec<String>)>,
    ingest_time: Duration,
    analyze_time: Duration,
}

/// The tables `ingest git` writes; the rest of [`tables`] are `analyze`'s.
const BASE_TABLES: usize = 4;

impl Reference {
    fn new() -> Reference {
        let dir = tempfile::tempdir().unwrap();
        let repo = fixture(dir.path()).to_str().unwrap().to_string();
        let ingested = dir.path().join("ingested");
        let started = Instant::now();
        ok(&ingested, &["ingest", "git", &repo]);
        let ingest_time = started.elapsed();
        let reference = dir.path().join("reference");
        copy_store(&ingested, &reference);
        let started = Instant::now();
        ok(&reference, &["analyze"]);
        let analyze_time = started.elapsed();
        let want = tables(&reference);
        assert_eq!(want[0].1.len(), commits());
        let rows = |name: &str| want.iter().find(|x| x.0 == name).unwrap().1.len();
        assert!(rows("deployment_stats") > 100 && rows("changes") >= commits());
        Reference {
            dir,
            repo,
            ingested,
            want,
            ingest_time,
            analyze_time,
        }
    }

    /// The first `n` of [`tables`] of `data` equal the reference's, and
    /// `data` holds no temporary file.
    fn check(&self, data: &Path, n: usize, k: usize) {
        assert_same_store(data, &tables(data)[..n], &self.want, k);
    }

    /// [`kills`] rounds of `args` (see [`kill_rounds`]), each in a data
    /// directory that `prepare` fills first, comparing the first `tables`
    /// tables after the run to completion.
    fn kill_rounds(
        &self,
        seed: u64,
        args: &[&str],
        max: Duration,
        tables: usize,
        prepare: impl Fn(&Path),
    ) {
        kill_rounds(
            &format!("{args:?}"),
            seed,
            kills(),
            max,
            self.dir.path(),
            |data, at| {
                prepare(data);
                kill_after(data, args, at)
            },
            |data, k| {
                ok(data, args);
                self.check(data, tables, k);
            },
        );
    }
}

/// The tables of a killed-then-rerun store (`got`, from [`rows_of`]) equal
/// the uninterrupted run's (`want`, compared as far as `got` goes), and
/// `data` holds no temporary file; `k` names the kill.
pub fn assert_same_store(
    data: &Path,
    got: &[(&'static str, Vec<String>)],
    want: &[(&'static str, Vec<String>)],
    k: usize,
) {
    for ((name, got), (_, want)) in got.iter().zip(want) {
        assert!(
            got == want,
            "kill {k}: `{name}` differs ({} rows, want {})",
            got.len(),
            want.len()
        );
    }
    assert_eq!(temporaries(data), Vec::<PathBuf>::new(), "kill {k}");
}

/// `rounds` rounds, each in a new directory under `dir`: `kill(data, at)`
/// starts the command and kills it with SIGKILL at a seeded moment `at`
/// within `max` (true if it was still running), then `rerun_and_check(data,
/// k)` runs it to completion and compares. Asserts that at least half the
/// kills landed while the process ran, or the rounds prove little.
pub fn kill_rounds(
    what: &str,
    seed: u64,
    rounds: usize,
    max: Duration,
    dir: &Path,
    kill: impl Fn(&Path, Duration) -> bool,
    rerun_and_check: impl Fn(&Path, usize),
) {
    let all = Instant::now();
    let mut moments = Moments(seed);
    let mut killed = 0;
    for k in 0..rounds {
        let data = dir.join(format!("killed-{k}"));
        killed += kill(&data, moments.next(max)) as usize;
        rerun_and_check(&data, k);
        std::fs::remove_dir_all(&data).unwrap();
    }
    eprintln!(
        "crash: {what} takes {max:?}; {killed} of {rounds} kills landed; {:?} in all",
        all.elapsed()
    );
    assert!(
        killed * 2 >= rounds,
        "only {killed} of {rounds} kills of {what} landed"
    );
}

/// A copy of a store's files (the lock file included; nothing holds it).
fn copy_store(from: &Path, to: &Path) {
    for (p, bytes) in snapshot_dir(from) {
        let dest = to.join(p.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
}

/// Ten kills of the first `ingest git` into an empty store, each followed
/// by a run to completion: the four tables ingest writes equal an
/// uninterrupted run's, row for row. (`analyze` reads only those tables,
/// through the same readers, so it gives the same answer from them.)
#[test]
fn ingest_git_killed_at_random_moments_leaves_the_uninterrupted_store() {
    let r = Reference::new();
    let args = ["ingest", "git", r.repo.as_str()];
    r.kill_rounds(0x5eed_f10e, &args, r.ingest_time, BASE_TABLES, |_| {});
}

/// Ten kills of `analyze` on a fully ingested store, each followed by a run
/// to completion: all eight tables equal an uninterrupted run's.
#[test]
fn analyze_killed_at_random_moments_leaves_the_uninterrupted_store() {
    let r = Reference::new();
    let prepare = |data: &Path| copy_store(&r.ingested, data);
    r.kill_rounds(
        0xa11a_1e5e,
        &["analyze"],
        r.analyze_time,
        r.want.len(),
        prepare,
    );
}

/// The moment CI's kill found: a run that dies after writing the commits and
/// the ref history but before the refs (which the next run compares with).
/// Simulated exactly by removing the refs partition: the rerun redoes the
/// run, writes the refs, and appends no history row twice.
#[test]
fn a_run_killed_before_its_refs_are_written_is_redone_without_duplicate_history() {
    let fx = Fixture::new();
    fx.commit("2024-03-01T00:00:00Z", &ALICE, "one", &[("a", b"1\n")]);
    fx.git(&["tag", "v1"]);
    fx.commit("2024-03-02T00:00:00Z", &ALICE, "two", &[("a", b"2\n")]);
    let data = fx.dir.path().join("store");
    let repo = fx.path.to_str().unwrap();
    ok(&data, &["ingest", "git", repo]);
    let hist = "select name, kind, sha, forced from ref_history order by kind, name, sha";
    let want_hist = query(&data, hist);
    assert_eq!(want_hist.len(), 2);
    let want_refs = query(
        &data,
        "select name, kind, sha from refs order by kind, name",
    );
    std::fs::remove_dir_all(data.join("refs")).unwrap();
    ok(&data, &["ingest", "git", repo]);
    assert_eq!(query(&data, hist), want_hist, "history appended twice");
    assert_eq!(
        query(
            &data,
            "select name, kind, sha from refs order by kind, name"
        ),
        want_refs
    );
    // A real change after that is still recorded.
    fx.commit("2024-03-03T00:00:00Z", &ALICE, "three", &[("a", b"3\n")]);
    ok(&data, &["ingest", "git", repo]);
    assert_eq!(query(&data, hist).len(), 3);
}

/// A deployment log of 6,000 rows over 30 repos: `ingest deployments`
/// writes one partition per repo, so a kill can land between any two.
fn deployment_log(dir: &Path) -> PathBuf {
    let mut csv = String::from("deployed_at,environment,sha,status,repo,deployment_id\n");
    for i in 0..6_000u64 {
        let day = 1 + i % 28;
        let status = if i % 9 == 0 { "failure" } else { "success" };
        csv.push_str(&format!(
            "2024-02-{day:02} {:02}:{:02}:00,production,{:07x},{status},o/r{},d{i}\n",
            i % 24,
            i % 60,
            0x100_0000 + i,
            i % 30
        ));
    }
    let path = dir.join("deploys.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

/// Ten kills of `ingest deployments` into an empty store, each followed by a
/// run to completion: `deployments` equals an uninterrupted import's, row
/// for row, with no row twice (rows are upserted by id per repo).
#[test]
fn ingest_deployments_killed_at_random_moments_leaves_the_uninterrupted_store() {
    let dir = tempfile::tempdir().unwrap();
    let log = deployment_log(dir.path());
    let log = log.to_str().unwrap();
    let args = ["ingest", "deployments", log];
    let reference = dir.path().join("reference");
    let started = Instant::now();
    ok(&reference, &args);
    let took = started.elapsed();
    let table = [&flowmeter_store::DEPLOYMENTS];
    let want = rows_of(&reference, &table);
    assert_eq!(want[0].1.len(), 6_000);
    kill_rounds(
        "ingest deployments",
        0xde91_0135,
        10,
        took,
        dir.path(),
        |data, at| kill_after(data, &args, at),
        |data, k| {
            ok(data, &args);
            assert_same_store(data, &rows_of(data, &table), &want, k);
        },
    );
}

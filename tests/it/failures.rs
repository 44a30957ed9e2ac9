//! Bad input: a clear error, a non-zero exit, and a store left as it was.

use serde_json::json;

use crate::common::*;

fn seeded_store() -> (Fixture, std::path::PathBuf) {
    let fx = Fixture::new();
    fx.commit("2024-03-01T00:00:00Z", &ALICE, "one", &[("a", b"1\n")]);
    let data = fx.dir.path().join("store");
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    (fx, data)
}

#[test]
fn not_a_repository() {
    let (fx, data) = seeded_store();
    let before = snapshot_dir(&data);
    let nowhere = fx.dir.path().join("plain-dir");
    std::fs::create_dir(&nowhere).unwrap();
    let err = fails(&data, &["ingest", "git", nowhere.to_str().unwrap()]);
    assert!(err.contains("plain-dir: not a git repository"), "{err}");
    // The path once, not "ingesting PATH: PATH: ...".
    assert_eq!(err.matches(nowhere.to_str().unwrap()).count(), 1, "{err}");
    assert_eq!(snapshot_dir(&data), before);
}

#[test]
fn empty_repository() {
    let (_fx, data) = seeded_store();
    let before = snapshot_dir(&data);
    let empty = Fixture::new();
    let err = fails(&data, &["ingest", "git", empty.path.to_str().unwrap()]);
    assert!(err.contains("has no commits yet"), "{err}");
    assert_eq!(snapshot_dir(&data), before);
}

#[test]
fn shallow_clone() {
    let (fx, data) = seeded_store();
    fx.commit("2024-03-02T00:00:00Z", &ALICE, "two", &[("a", b"2\n")]);
    let before = snapshot_dir(&data);
    let shallow = fx.dir.path().join("shallow");
    let url = format!("file://{}", fx.path.display());
    fx.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &url,
        shallow.to_str().unwrap(),
    ]);
    let err = fails(&data, &["ingest", "git", shallow.to_str().unwrap()]);
    assert!(err.contains("shallow clone"), "{err}");
    assert!(err.contains("git fetch --unshallow"), "{err}");
    assert_eq!(snapshot_dir(&data), before);
}

#[test]
fn corrupt_parquet_file() {
    let (fx, data) = seeded_store();
    fx.commit("2024-03-02T00:00:00Z", &ALICE, "two", &[("a", b"2\n")]);
    let part = std::fs::read_dir(data.join("commits/repo=repo"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    std::fs::write(&part, b"PAR1 this is not parquet").unwrap();
    let before = snapshot_dir(&data);
    let err = fails(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    assert!(
        err.contains(part.file_name().unwrap().to_str().unwrap()),
        "{err}"
    );
    assert!(err.contains("not a readable Parquet file"), "{err}");
    assert_eq!(snapshot_dir(&data), before);
    let err = fails(&data, &["sql", "select count(*) from commits"]);
    assert!(err.contains("not a readable Parquet file"), "{err}");
    assert!(err.contains("`commits` is a base table"), "{err}");
    assert!(err.contains("--data NEW_DIR"), "{err}");
}

/// A corrupt file of a derived table says how to rebuild it, and following
/// the hint brings the same numbers back.
#[test]
fn corrupt_derived_table_says_how_to_rebuild_it() {
    let (fx, data) = seeded_store();
    fx.commit("2024-03-02T00:00:00Z", &ALICE, "two", &[("a", b"2\n")]);
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    ok(&data, &["analyze"]);
    let sql = "select count(*) as n from deployment_stats";
    let want = query(&data, sql);
    let part = std::fs::read_dir(data.join("deployment_stats"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .expect("deployment_stats has a file");
    std::fs::write(&part, b"PAR1 not parquet").unwrap();
    let err = fails(&data, &["metrics"]);
    assert!(
        err.contains(part.file_name().unwrap().to_str().unwrap()),
        "{err}"
    );
    assert!(
        err.contains("`deployment_stats` is derived: delete that file and run `flowmeter analyze`"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    std::fs::remove_file(&part).unwrap();
    ok(&data, &["analyze"]);
    assert_eq!(query(&data, sql), want);
}

#[test]
fn schema_version_mismatch() {
    let (_fx, data) = seeded_store();
    std::fs::write(data.join("flowmeter.json"), "{\"schema_version\": 999}").unwrap();
    let err = fails(&data, &["sql", "select 1 as x"]);
    assert!(err.contains("schema version 999"), "{err}");
}

#[test]
fn concurrent_ingests_do_not_corrupt_the_store() {
    let fx = Fixture::new();
    for i in 0..30 {
        fx.commit(
            &format!("2024-03-01T00:{i:02}:00Z"),
            &ALICE,
            &format!("c{i}"),
            &[("a", format!("{i}\n").as_bytes())],
        );
    }
    let data = fx.dir.path().join("store");
    let repo = fx.path.to_str().unwrap().to_string();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (data, repo) = (data.clone(), repo.clone());
            std::thread::spawn(move || flowmeter(&data, &["ingest", "git", &repo]))
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        query(
            &data,
            "select count(*) as n, count(distinct sha) as d from commits"
        ),
        vec![json!({"n": 30, "d": 30})]
    );
}

#[test]
fn missing_blobs_in_a_partial_clone_are_counted_not_fatal() {
    let fx = Fixture::new();
    fx.commit(
        "2024-03-01T00:00:00Z",
        &ALICE,
        "small",
        &[("small.txt", b"1\n2\n")],
    );
    let big: String = (0..400).map(|i| format!("line {i}\n")).collect();
    fx.commit(
        "2024-03-02T00:00:00Z",
        &ALICE,
        "big",
        &[("big.txt", big.as_bytes())],
    );
    let partial = fx.dir.path().join("partial.git");
    let url = format!("file://{}", fx.path.display());
    fx.git(&[
        "clone",
        "-q",
        "--bare",
        "--no-local",
        "--filter=blob:limit=1k",
        "--upload-pack=git -c uploadpack.allowFilter=true upload-pack",
        &url,
        partial.to_str().unwrap(),
    ]);
    let data = fx.dir.path().join("store");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowmeter"))
        .args(["--data", data.to_str().unwrap(), "ingest", "git"])
        .arg(&partial)
        .env("GIT_NO_LAZY_FETCH", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("1 changed files had a blob that could not be read"),
        "{err}"
    );
    assert_eq!(
        query(&data, "select summary, files_changed, additions, stats_complete from commits order by committed_at"),
        vec![
            json!({"summary": "small", "files_changed": 1, "additions": 2, "stats_complete": true}),
            json!({"summary": "big", "files_changed": 1, "additions": 0, "stats_complete": false}),
        ]
    );
}

/// Tags on a tree or a blob and refs whose names are not UTF-8 are not
/// history flowmeter can use: the run leaves them out and names each one,
/// whether the refs are loose files or packed.
#[test]
fn refs_that_are_not_history_are_left_out_and_named() {
    use std::os::unix::ffi::OsStrExt;
    let fx = Fixture::new();
    fx.commit("2024-03-01T00:00:00Z", &ALICE, "one", &[("a", b"1\n")]);
    fx.git(&["tag", "v1"]);
    fx.git(&["tag", "on-a-tree", "HEAD^{tree}"]);
    let blob = fx.rev("HEAD:a");
    fx.git(&["tag", "-a", "-m", "a blob", "on-a-blob", &blob]);
    let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9");
    std::fs::write(
        fx.path.join(".git/refs/tags").join(latin1),
        format!("{}\n", fx.head()),
    )
    .unwrap();
    let data = fx.dir.path().join("store");
    for packed in [false, true] {
        if packed {
            fx.git(&["pack-refs", "--all"]);
        }
        let out = flowmeter(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
        assert!(out.status.success(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("3 refs left out"), "{err}");
        assert!(
            err.contains("refs/tags/on-a-tree (points at a tree)"),
            "{err}"
        );
        assert!(
            err.contains("refs/tags/on-a-blob (points at a blob)"),
            "{err}"
        );
        assert!(
            err.contains("refs/tags/caf\u{fffd} (its name is not UTF-8)"),
            "{err}"
        );
        assert_eq!(
            query(&data, "select kind, name from refs order by kind, name"),
            vec![
                json!({"kind": "branch", "name": "main"}),
                json!({"kind": "tag", "name": "v1"})
            ]
        );
    }
}

/// Dates at the edges of what git stores, 1970 and 2100, are kept to the
/// second, and the analysis covers every month between them (1970-01 to
/// 2100-01 is 130 × 12 + 1 = 1,561 months, plus `all`).
#[test]
fn commit_dates_in_1970_and_2100_are_kept_exactly() {
    let fx = Fixture::new();
    let a = fx.commit("@1 +0000", &ALICE, "one", &[("a", b"1\n")]);
    let b = fx.commit("@4102444800 +0000", &ALICE, "two", &[("a", b"2\n")]);
    let data = fx.dir.path().join("store");
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    assert_eq!(
        query(
            &data,
            "select sha, authored_at, committed_at from commits order by committed_at"
        ),
        vec![
            json!({"sha": a, "authored_at": "1970-01-01T00:00:01Z", "committed_at": "1970-01-01T00:00:01Z"}),
            json!({"sha": b, "authored_at": "2100-01-01T00:00:00Z", "committed_at": "2100-01-01T00:00:00Z"}),
        ]
    );
    let m: serde_json::Value =
        serde_json::from_str(&ok(&data, &["metrics", "--format", "json"])).unwrap();
    let periods = m["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 1562);
    assert_eq!(periods[0]["period"], "1970-01");
    assert_eq!(periods[1560]["period"], "2100-01");
    assert_eq!(periods[1561]["period"], "all");
    assert_eq!(periods[1561]["deployments"], 2);
    // The terminal table shows the newest 12 months beside `all`, not 1,562
    // columns, and says so; CSV keeps every period.
    let table = ok(&data, &["metrics"]);
    assert!(
        table.contains("showing the newest 12 of 1561 periods and `all`"),
        "{table}"
    );
    let header = table
        .lines()
        .find(|l| l.contains("metric") && l.contains("all"))
        .expect("a header row");
    assert!(
        header.contains("2099-02") && header.contains("2100-01") && !header.contains("2099-01"),
        "{header}"
    );
    // Low confidence is listed for the shown periods only.
    let low = table
        .lines()
        .find(|l| l.starts_with("low confidence"))
        .expect("a low-confidence line");
    assert!(
        low.ends_with(": 2099-02, 2099-03, 2099-04, 2099-05, 2099-06, 2099-07, 2099-08, 2099-09, 2099-10, 2099-11, 2099-12, 2100-01, all"),
        "{low}"
    );
    let csv = ok(&data, &["metrics", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 1 + 1562);
}

/// A commit message with bytes that are not UTF-8 is read as git shows it,
/// each bad byte as U+FFFD, and nothing else is lost.
#[test]
fn a_message_that_is_not_utf8_is_read_lossily() {
    let fx = Fixture::new();
    fx.commit("2024-03-01T00:00:00Z", &ALICE, "one", &[("a", b"1\n")]);
    let sha = fx.commit_raw(1709251200, b"A <a@example.com>", b"fix caf\xe9 \xff bytes");
    let data = fx.dir.path().join("store");
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    assert_eq!(
        query(
            &data,
            &format!("select summary, committed_at from commits where sha = '{sha}'")
        ),
        vec![
            json!({"summary": "fix caf\u{fffd} \u{fffd} bytes", "committed_at": "2024-03-01T00:00:00Z"})
        ]
    );
}

/// A repository with a damaged object store: a corrupt loose object at the
/// tip or deeper in history, a truncated pack or pack index, or bytes flipped
/// inside a pack. Each is one error that says the repository is damaged and
/// how to find out more, a non-zero exit, and a store left as it was.
#[test]
fn a_damaged_repository_is_one_clear_error_and_the_store_is_untouched() {
    let (seed, data) = seeded_store();
    let history = |fx: &Fixture| {
        for i in 0..40 {
            fx.commit(
                &format!("2024-03-02T00:{i:02}:00Z"),
                &BOB,
                &format!("c{i}"),
                &[
                    ("a", format!("{i}\n").as_bytes()),
                    (&format!("f{i}"), b"x\n"),
                ],
            );
        }
    };
    let writable = |p: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
    };
    let loose = |fx: &Fixture, rev: &str| {
        let sha = fx.rev(rev);
        fx.path.join(".git/objects").join(&sha[..2]).join(&sha[2..])
    };
    let pack_file = |fx: &Fixture, ext: &str| {
        std::fs::read_dir(fx.path.join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == ext))
            .unwrap()
    };
    type Damage = Box<dyn Fn(&Fixture)>;
    let cases: Vec<(&str, bool, Damage)> = vec![
        (
            "corrupt loose object at the tip",
            false,
            Box::new(move |fx: &Fixture| {
                let p = loose(fx, "HEAD");
                writable(&p);
                std::fs::write(p, b"garbage").unwrap();
            }),
        ),
        (
            "corrupt loose object in history",
            false,
            Box::new(move |fx: &Fixture| {
                let p = loose(fx, "HEAD~20");
                writable(&p);
                std::fs::write(p, b"garbage").unwrap();
            }),
        ),
        (
            "truncated pack",
            true,
            Box::new(move |fx: &Fixture| {
                let p = pack_file(fx, "pack");
                writable(&p);
                let len = std::fs::metadata(&p).unwrap().len();
                std::fs::File::options()
                    .write(true)
                    .open(&p)
                    .unwrap()
                    .set_len(len * 9 / 10)
                    .unwrap();
            }),
        ),
        (
            "truncated pack index",
            true,
            Box::new(move |fx: &Fixture| {
                let p = pack_file(fx, "idx");
                writable(&p);
                std::fs::File::options()
                    .write(true)
                    .open(&p)
                    .unwrap()
                    .set_len(100)
                    .unwrap();
            }),
        ),
        (
            "bytes flipped inside a pack",
            true,
            Box::new(move |fx: &Fixture| {
                let p = pack_file(fx, "pack");
                writable(&p);
                let mut b = std::fs::read(&p).unwrap();
                let mid = b.len() / 2;
                for x in &mut b[mid..mid + 200] {
                    *x ^= 0x55;
                }
                std::fs::write(&p, b).unwrap();
            }),
        ),
    ];
    let before = snapshot_dir(&data);
    for (what, packed, damage) in &cases {
        let fx = Fixture::new();
        history(&fx);
        if *packed {
            fx.git(&["gc", "-q"]);
        }
        damage(&fx);
        let err = fails(
            &data,
            &[
                "ingest",
                "git",
                fx.path.to_str().unwrap(),
                "--name",
                "damaged",
            ],
        );
        assert!(err.contains("the repository is damaged"), "{what}: {err}");
        assert!(err.contains("git fsck"), "{what}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{what}: {err}");
        assert_eq!(snapshot_dir(&data), before, "{what}: the store changed");
    }
    drop(seed);
}

/// Readers during writes: while one process ingests new commits and re-runs
/// the analysis eight times (appends, compactions and whole-table replaces,
/// each deleting the files it supersedes), queries loop in another. Every
/// answer is a state the store really had: no error, no duplicate rows, the
/// commit count never going back, and `deployment_stats` never empty. (The
/// race inside one table read, a file deleted between listing and opening,
/// is driven hard in-process by the store's
/// `reads_during_replaces_see_one_whole_snapshot`.)
#[test]
fn reads_during_writes_see_whole_tables() {
    let fx = Fixture::new();
    for i in 0..20 {
        fx.commit(
            &format!("2024-03-01T{i:02}:00:00Z"),
            &ALICE,
            &format!("c{i}"),
            &[("a", format!("{i}\n").as_bytes())],
        );
    }
    let data = fx.dir.path().join("store");
    let repo = fx.path.to_str().unwrap().to_string();
    ok(&data, &["ingest", "git", &repo]);
    ok(&data, &["analyze"]);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (data, done) = (data.clone(), done.clone());
        let fx_path = fx.path.clone();
        std::thread::spawn(move || {
            for i in 0..8 {
                let out = std::process::Command::new("git")
                    .args(["commit", "-q", "--allow-empty", "-m", &format!("w{i}")])
                    .current_dir(&fx_path)
                    .env("GIT_AUTHOR_DATE", format!("2024-03-02T{i:02}:00:00Z"))
                    .env("GIT_COMMITTER_DATE", format!("2024-03-02T{i:02}:00:00Z"))
                    .env("GIT_AUTHOR_NAME", "W")
                    .env("GIT_AUTHOR_EMAIL", "w@example.com")
                    .env("GIT_COMMITTER_NAME", "W")
                    .env("GIT_COMMITTER_EMAIL", "w@example.com")
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{out:?}");
                let repo = fx_path.to_str().unwrap();
                for args in [&["ingest", "git", repo][..], &["analyze"]] {
                    let out = flowmeter(&data, args);
                    assert!(out.status.success(), "{args:?}: {out:?}");
                }
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let (mut reads, mut last) = (0, 0);
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        let out = flowmeter(
            &data,
            &[
                "sql",
                "select c.n, c.d, s.deps from \
                 (select count(*) as n, count(distinct sha) as d from commits) c \
                 cross join (select count(*) as deps from deployment_stats) s",
                "--format",
                "json",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "read {reads} failed: {stderr}");
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let (n, d, deps) = (
            rows[0]["n"].as_i64().unwrap(),
            rows[0]["d"].as_i64().unwrap(),
            rows[0]["deps"].as_i64().unwrap(),
        );
        assert_eq!(n, d, "read {reads}: duplicate commits");
        assert!((20..=28).contains(&n), "read {reads}: {n} commits");
        assert!(n >= last, "read {reads}: {n} commits after {last}");
        assert!(deps > 0, "read {reads}: deployment_stats was empty");
        last = n;
        reads += 1;
    }
    writer.join().unwrap();
    assert!(reads >= 3, "only {reads} reads overlapped the writes");
    assert_eq!(
        query(&data, "select count(*) as n from commits"),
        vec![json!({"n": 28})]
    );
}

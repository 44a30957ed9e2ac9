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

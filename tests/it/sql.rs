//! `flowmeter sql`: formats, schema listing, empty tables, errors.

use serde_json::json;

use crate::common::*;

#[test]
fn fresh_store_has_every_table_empty_with_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nothing-yet");
    for t in [
        "commits",
        "refs",
        "deployments",
        "incidents",
        "pull_requests",
        "deployment_stats",
    ] {
        let rows = query(&data, &format!("select count(*) as n from {t}"));
        assert_eq!(rows, vec![json!({"n": 0})], "{t}");
    }
    let out = ok(
        &data,
        &[
            "sql",
            "select sha, patch_id from commits",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out, "sha,patch_id\n");
    // Reading does not create the store.
    assert!(!data.exists());
}

#[test]
fn schema_lists_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&ok(dir.path(), &["sql", "--schema", "--format", "json"])).unwrap();
    assert!(rows.contains(
        &json!({"table": "commits", "kind": "base", "column": "parents", "type": "list[str]"})
    ));
    assert!(rows.contains(&json!({"table": "deployment_stats", "kind": "derived", "column": "failure_reasons", "type": "list[str]"})));
    let text = ok(dir.path(), &["sql", "--schema"]);
    assert!(text.contains("authored_at"));
}

#[test]
fn bad_query_quotes_the_query_and_names_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(dir.path(), &["sql", "select nope from commitz"]);
    assert!(err.contains("select nope from commitz"), "{err}");
    assert!(err.contains("tables: repos, commits, refs"), "{err}");
}

#[test]
fn formats() {
    let fx = Fixture::new();
    fx.commit(
        "2024-03-01T12:00:00Z",
        &ALICE,
        "one, with comma",
        &[("a", b"1\n")],
    );
    fx.commit("2024-03-02T12:00:00Z", &BOB, "two | pipe", &[("a", b"2\n")]);
    let data = fx.dir.path().join("store");
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    let q =
        "select author_name, summary, additions, committed_at from commits order by committed_at";
    let csv = ok(&data, &["sql", q, "--format", "csv"]);
    assert_eq!(
        csv,
        "author_name,summary,additions,committed_at\n\
         Alice,\"one, with comma\",1,2024-03-01T12:00:00Z\n\
         Bob,two | pipe,1,2024-03-02T12:00:00Z\n"
    );
    let md = ok(&data, &["sql", q, "--format", "markdown"]);
    assert!(
        md.contains("| Bob | two \\| pipe | 1 | 2024-03-02T12:00:00Z |"),
        "{md}"
    );
    let table = ok(&data, &["sql", q]);
    insta::assert_snapshot!(table, @r"
    author_name  summary          additions  committed_at
    -----------  ---------------  ---------  --------------------
    Alice        one, with comma          1  2024-03-01T12:00:00Z
    Bob          two | pipe               1  2024-03-02T12:00:00Z
    (2 rows)
    ");
    // Parquet round-trips through a file, written atomically.
    let out = fx.dir.path().join("out/commits.parquet");
    ok(
        &data,
        &[
            "sql",
            q,
            "--format",
            "parquet",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
}

/// A query reads the store's tables only: every file-reading table function,
/// however it is spelled or wherever it hides in the query, is refused with
/// a message that names it and the way out; `--allow-files` opts in.
#[test]
fn sql_reads_the_store_only_unless_allow_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let secret = dir.path().join("secret.csv");
    std::fs::write(&secret, "password\nhunter2\n").unwrap();
    let p = secret.display();
    for q in [
        format!("select * from read_csv('{p}')"),
        format!("SELECT * FROM READ_CSV('{p}')"),
        format!("select * from read_parquet('{p}')"),
        format!("select * from read_ipc('{p}')"),
        format!("select * from read_json('{p}')"),
        format!("select * from commits where sha in (select password from read_csv('{p}'))"),
        format!("with s as (select * from read_csv('{p}')) select * from s"),
        format!("select * from commits c join read_csv('{p}') s on true"),
        format!("create table t as select * from read_csv('{p}')"),
    ] {
        let err = fails(&data, &["sql", &q]);
        assert!(err.contains("reads files outside the store"), "{q}: {err}");
        assert!(err.contains("--allow-files"), "{q}: {err}");
        assert!(!err.contains("hunter2"), "{q}: {err}");
    }
    // Refused before anything is read or written: no store appears.
    assert!(!data.exists());
    // The store's own tables are queried as before, and the opt-in works.
    assert_eq!(
        query(&data, "select count(*) as n from commits"),
        vec![json!({"n": 0})]
    );
    let out = ok(
        &data,
        &[
            "sql",
            "--allow-files",
            &format!("select password from read_csv('{p}')"),
            "--format",
            "csv",
        ],
    );
    assert_eq!(out, "password\nhunter2\n");
}

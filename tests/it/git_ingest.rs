//! `flowmeter ingest git` on a fixture whose every row is worked out by hand.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::common::*;

/// The fixture repo and the shas of its commits by label.
pub struct History {
    pub fx: Fixture,
    pub sha: HashMap<&'static str, String>,
}

/// Builds the foundation fixture:
///
/// ```text
/// c1 root ── c2 (tag v0.1) ── c4 (rename + binary) ── m1 (merge feature) ── m2 (octopus o1,o2) ── e1 (empty) ── c5 ── r1 (revert c5) ── c6 ── c7 ── c8 (non-UTF-8 author)   main
///              └── c3 ────────────────────────────────┘  (feature)      ├─ x1 (o1) ─┤
///                                                     tag v1.0 (annotated) └─ x2 (o2) ─┘
///                                                      └── p1 (cherry-pick -x c6) ── p2 (cherry-pick c7, no trailer)   release
/// ```
pub fn build() -> History {
    let fx = Fixture::new();
    let mut sha = HashMap::new();
    sha.insert(
        "c1",
        fx.commit(
            "2024-01-01T10:00:00Z",
            &ALICE,
            "root: add a and b",
            &[("a.txt", b"1\n2\n3\n"), ("b.txt", b"x\n")],
        ),
    );
    sha.insert(
        "c2",
        fx.commit(
            "2024-01-02T10:00:00Z",
            &ALICE,
            "change a",
            &[("a.txt", b"1\nTWO\n3\n4\n")],
        ),
    );
    fx.git(&["tag", "v0.1"]);
    fx.git(&["checkout", "-q", "-b", "feature"]);
    sha.insert(
        "c3",
        fx.commit(
            "2024-01-03T10:00:00Z",
            &BOB,
            "add c",
            &[("c.txt", b"c1\nc2\n")],
        ),
    );
    fx.git(&["checkout", "-q", "main"]);
    fx.git(&["mv", "b.txt", "b2.txt"]);
    sha.insert(
        "c4",
        fx.commit(
            "2024-01-04T10:00:00Z",
            &ALICE,
            "rename b, add a binary",
            &[("bin.dat", b"\x00\x01\x02\n")],
        ),
    );
    fx.git_at(
        "2024-01-05T10:00:00Z",
        &ALICE,
        &["merge", "-q", "--no-ff", "-m", "Merge feature", "feature"],
    );
    sha.insert("m1", fx.head());
    fx.git_at(
        "2024-01-06T09:00:00Z",
        &ALICE,
        &["tag", "-a", "v1.0", "-m", "release 1.0"],
    );
    fx.git(&["checkout", "-q", "-b", "o1"]);
    sha.insert(
        "x1",
        fx.commit("2024-01-07T10:00:00Z", &BOB, "o1", &[("o1.txt", b"a\n")]),
    );
    fx.git(&["checkout", "-q", "main"]);
    fx.git(&["checkout", "-q", "-b", "o2"]);
    sha.insert(
        "x2",
        fx.commit("2024-01-07T11:00:00Z", &BOB, "o2", &[("o2.txt", b"b\n")]),
    );
    fx.git(&["checkout", "-q", "main"]);
    fx.git_at(
        "2024-01-08T10:00:00Z",
        &ALICE,
        &["merge", "-q", "--no-ff", "-m", "Octopus", "o1", "o2"],
    );
    sha.insert("m2", fx.head());
    sha.insert(
        "e1",
        fx.commit("2024-01-09T10:00:00Z", &ALICE, "empty", &[]),
    );
    sha.insert(
        "c5",
        fx.commit(
            "2024-01-10T10:00:00Z",
            &ALICE,
            "add five",
            &[("a.txt", b"1\nTWO\n3\n4\n5\n")],
        ),
    );
    let c5 = sha["c5"].clone();
    fx.git_at("2024-01-11T10:00:00Z", &BOB, &["revert", "--no-edit", &c5]);
    sha.insert("r1", fx.head());
    sha.insert(
        "c6",
        fx.commit(
            "2024-01-12T10:00:00Z",
            &BOB,
            "fix six",
            &[("d.txt", b"d\n")],
        ),
    );
    sha.insert(
        "c7",
        fx.commit(
            "2024-01-14T10:00:00Z",
            &ALICE,
            "fix seven",
            &[("a.txt", b"1\nTWO\n3\n4\nseven\n")],
        ),
    );
    // c8: an author name in Latin-1, written as a raw commit object.
    fx.write("e.txt", b"e\n");
    fx.git(&["add", "-A"]);
    sha.insert(
        "c8",
        fx.commit_raw(1705399200, b"Jos\xe9 <jose@example.com>", b"latin-1 author"),
    );
    fx.git(&["checkout", "-q", "-b", "release", "v1.0"]);
    let c6 = sha["c6"].clone();
    fx.git_at("2024-01-13T10:00:00Z", &BOB, &["cherry-pick", "-x", &c6]);
    sha.insert("p1", fx.head());
    let c7 = sha["c7"].clone();
    fx.git_at("2024-01-15T10:00:00Z", &BOB, &["cherry-pick", &c7]);
    sha.insert("p2", fx.head());
    fx.git(&["checkout", "-q", "main"]);
    History { fx, sha }
}

fn by_sha(rows: Vec<Value>) -> HashMap<String, Value> {
    rows.into_iter()
        .map(|r| (r["sha"].as_str().unwrap().to_string(), r))
        .collect()
}

#[test]
fn every_commit_row_matches_the_hand_computed_values() {
    let h = build();
    let data = h.fx.dir.path().join("store");
    let repo = h.fx.path.to_str().unwrap();
    let out = flowmeter(&data, &["ingest", "git", repo, "--name", "acme/api"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rows = by_sha(query(&data, "select * from commits order by committed_at"));
    assert_eq!(rows.len(), 16);
    // label: (files, additions, deletions, is_merge, parent count)
    let want: &[(&str, i64, i64, i64, bool, usize)] = &[
        ("c1", 2, 4, 0, false, 0), // root: a.txt 3 lines + b.txt 1 line
        ("c2", 1, 2, 1, false, 1), // "2" -> "TWO", "4" added
        ("c3", 1, 2, 0, false, 1),
        ("c4", 2, 0, 0, false, 1), // pure rename counts 0/0, binary counts 0/0
        ("m1", 1, 2, 0, true, 2),  // against the first parent: feature's c.txt
        ("x1", 1, 1, 0, false, 1),
        ("x2", 1, 1, 0, false, 1),
        ("m2", 2, 2, 0, true, 3), // octopus: o1.txt and o2.txt
        ("e1", 0, 0, 0, false, 1),
        ("c5", 1, 1, 0, false, 1),
        ("r1", 1, 0, 1, false, 1),
        ("c6", 1, 1, 0, false, 1),
        ("p1", 1, 1, 0, false, 1),
        ("c7", 1, 1, 0, false, 1),
        ("p2", 1, 1, 0, false, 1),
        ("c8", 1, 1, 0, false, 1),
    ];
    for (label, files, add, del, merge, parents) in want {
        let r = &rows[&h.sha[label]];
        assert_eq!(r["repo"], json!("acme/api"));
        assert_eq!(r["files_changed"], json!(files), "{label} files");
        assert_eq!(r["additions"], json!(add), "{label} additions");
        assert_eq!(r["deletions"], json!(del), "{label} deletions");
        assert_eq!(r["is_merge"], json!(merge), "{label} is_merge");
        assert_eq!(
            r["parents"].as_array().unwrap().len(),
            *parents,
            "{label} parents"
        );
        assert_eq!(r["reachable"], json!(true));
        assert_eq!(r["stats_complete"], json!(true));
    }
    let c1 = &rows[&h.sha["c1"]];
    assert_eq!(c1["author_name"], json!("Alice"));
    assert_eq!(c1["author_email"], json!("alice@example.com"));
    assert_eq!(c1["committer_name"], json!("Committer"));
    assert_eq!(c1["authored_at"], json!("2024-01-01T10:00:00Z"));
    assert_eq!(c1["committed_at"], json!("2024-01-01T10:00:00Z"));
    assert_eq!(c1["summary"], json!("root: add a and b"));
    assert_eq!(
        rows[&h.sha["m2"]]["parents"],
        json!([h.sha["m1"], h.sha["x1"], h.sha["x2"]])
    );
    // A name that is not UTF-8 is kept, with the bad byte replaced.
    assert_eq!(rows[&h.sha["c8"]]["author_name"], json!("Jos\u{FFFD}"));

    // Links between commits.
    assert_eq!(rows[&h.sha["r1"]]["reverts"], json!(h.sha["c5"]));
    assert_eq!(rows[&h.sha["p1"]]["cherry_picked_from"], json!(h.sha["c6"]));
    assert_eq!(rows[&h.sha["p2"]]["cherry_picked_from"], json!(null));
    let pid = |l: &str| rows[&h.sha[l]]["patch_id"].clone();
    assert!(pid("c6").is_string());
    assert_eq!(
        pid("p1"),
        pid("c6"),
        "cherry-pick with trailer keeps the patch id"
    );
    assert_eq!(
        pid("p2"),
        pid("c7"),
        "cherry-pick without trailer keeps the patch id"
    );
    assert_ne!(pid("c6"), pid("c7"));
    assert_eq!(pid("e1"), json!(null), "an empty commit has no patch id");
    assert_eq!(pid("m1"), json!(null), "a merge has no patch id");
    // c5 and its revert change the same line in opposite directions.
    assert_ne!(pid("c5"), pid("r1"));

    // Refs: branches and tags, tags peeled, annotated tag date kept.
    let refs = query(
        &data,
        "select name, kind, sha, tagged_at from refs order by kind, name",
    );
    assert_eq!(
        refs,
        vec![
            json!({"name": "feature", "kind": "branch", "sha": h.sha["c3"], "tagged_at": null}),
            json!({"name": "main", "kind": "branch", "sha": h.sha["c8"], "tagged_at": null}),
            json!({"name": "o1", "kind": "branch", "sha": h.sha["x1"], "tagged_at": null}),
            json!({"name": "o2", "kind": "branch", "sha": h.sha["x2"], "tagged_at": null}),
            json!({"name": "release", "kind": "branch", "sha": h.sha["p2"], "tagged_at": null}),
            json!({"name": "v0.1", "kind": "tag", "sha": h.sha["c2"], "tagged_at": null}),
            json!({"name": "v1.0", "kind": "tag", "sha": h.sha["m1"], "tagged_at": "2024-01-06T09:00:00Z"}),
        ]
    );
    let repos = query(
        &data,
        "select repo, source, default_branch, commit_count from repos",
    );
    assert_eq!(
        repos,
        vec![
            json!({"repo": "acme/api", "source": "git", "default_branch": "main", "commit_count": 16})
        ]
    );
}

/// Parses `git log --numstat --format=%H` into sha -> (files, additions, deletions).
fn git_numstat(fx: &Fixture) -> HashMap<String, (i64, i64, i64)> {
    let out = fx.git(&[
        "log",
        "--branches",
        "--tags",
        "--numstat",
        "--diff-merges=first-parent",
        "--format=%H",
    ]);
    let mut map = HashMap::new();
    let mut cur: Option<String> = None;
    for line in out.lines() {
        if line.len() == 40 && line.bytes().all(|b| b.is_ascii_hexdigit()) {
            cur = Some(line.to_string());
            map.insert(line.to_string(), (0, 0, 0));
        } else if let Some(sha) = &cur {
            let mut parts = line.splitn(3, '\t');
            let (Some(a), Some(d), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let e = map.get_mut(sha).unwrap();
            e.0 += 1;
            e.1 += a.parse::<i64>().unwrap_or(0);
            e.2 += d.parse::<i64>().unwrap_or(0);
        }
    }
    map
}

#[test]
fn agrees_with_git_log_numstat() {
    let h = build();
    let data = h.fx.dir.path().join("store");
    ok(&data, &["ingest", "git", h.fx.path.to_str().unwrap()]);
    let git = git_numstat(&h.fx);
    let count = h.fx.git(&["rev-list", "--branches", "--tags", "--count"]);
    let rows = query(
        &data,
        "select sha, files_changed, additions, deletions from commits",
    );
    assert_eq!(rows.len().to_string(), count);
    assert_eq!(rows.len(), git.len());
    for r in rows {
        let sha = r["sha"].as_str().unwrap();
        let mine = (
            r["files_changed"].as_i64().unwrap(),
            r["additions"].as_i64().unwrap(),
            r["deletions"].as_i64().unwrap(),
        );
        assert_eq!(mine, git[sha], "commit {sha}");
    }
}

#[test]
fn reingest_is_incremental_and_tracks_force_pushes() {
    let h = build();
    let data = h.fx.dir.path().join("store");
    let repo = h.fx.path.to_str().unwrap();
    ok(&data, &["ingest", "git", repo]);
    let before = snapshot_dir(&data);

    // Nothing changed: nothing is written.
    let out = flowmeter(&data, &["ingest", "git", repo]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("up to date"));
    assert_eq!(snapshot_dir(&data), before);

    // One new commit: one new row.
    let c9 =
        h.fx.commit("2024-01-20T10:00:00Z", &ALICE, "nine", &[("f.txt", b"f\n")]);
    let err = String::from_utf8(flowmeter(&data, &["ingest", "git", repo]).stderr).unwrap();
    assert!(err.contains("1 new commits (17 total"), "{err}");
    assert_eq!(
        query(&data, "select count(*) as n from commits"),
        vec![json!({"n": 17})]
    );

    // Force-push main back by one commit: the dropped commit stays, marked unreachable.
    h.fx.git(&["reset", "-q", "--hard", "HEAD~1"]);
    ok(&data, &["ingest", "git", repo]);
    let rows = query(
        &data,
        "select sha, reachable from commits where not reachable",
    );
    assert_eq!(rows, vec![json!({"sha": c9, "reachable": false})]);
    let hist = query(
        &data,
        "select name, sha, forced from ref_history where name = 'main' order by observed_at, forced",
    );
    assert_eq!(hist.len(), 3, "{hist:?}");
    assert_eq!(hist[1], json!({"name": "main", "sha": c9, "forced": false}));
    assert_eq!(
        hist[2],
        json!({"name": "main", "sha": h.sha["c8"], "forced": true})
    );
    let main = query(&data, "select sha from refs where name = 'main'");
    assert_eq!(main, vec![json!({"sha": h.sha["c8"]})]);
}

#[test]
fn no_stats_then_stats_fills_them_in() {
    let h = build();
    let data = h.fx.dir.path().join("store");
    let repo = h.fx.path.to_str().unwrap();
    ok(&data, &["ingest", "git", repo, "--no-stats"]);
    assert_eq!(
        query(
            &data,
            "select count(*) as n from commits where files_changed is null"
        ),
        vec![json!({"n": 16})]
    );
    ok(&data, &["ingest", "git", repo]);
    assert_eq!(
        query(&data, "select count(*) as n, sum(additions) as a from commits where files_changed is not null"),
        vec![json!({"n": 16, "a": 20})]
    );
}

#[test]
fn hidden_refs_only_on_request() {
    let h = build();
    let data = h.fx.dir.path().join("store");
    let repo = h.fx.path.to_str().unwrap();
    let c3 = h.sha["c3"].clone();
    h.fx.git(&["update-ref", "refs/pull/7/head", &c3]);
    ok(&data, &["ingest", "git", repo]);
    assert_eq!(
        query(&data, "select count(*) as n from refs where kind = 'other'"),
        vec![json!({"n": 0})]
    );
    let data2 = h.fx.dir.path().join("store2");
    ok(&data2, &["ingest", "git", repo, "--refs", "refs/pull/*"]);
    assert_eq!(
        query(&data2, "select name, sha from refs where kind = 'other'"),
        vec![json!({"name": "refs/pull/7/head", "sha": c3})]
    );
}

#[test]
fn bare_repositories_and_several_repos_at_once() {
    let h = build();
    let bare = h.fx.dir.path().join("api.git");
    h.fx.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    let other = Fixture::new();
    other.commit("2024-02-01T00:00:00Z", &BOB, "web root", &[("w", b"1\n")]);
    let data = h.fx.dir.path().join("store");
    ok(
        &data,
        &[
            "ingest",
            "git",
            bare.to_str().unwrap(),
            other.path.to_str().unwrap(),
        ],
    );
    assert_eq!(
        query(
            &data,
            "select repo, count(*) as n from commits group by repo order by repo"
        ),
        vec![
            json!({"repo": "api", "n": 16}),
            json!({"repo": "repo", "n": 1})
        ]
    );
}

/// `n` distinct 9-byte lines starting at `from` ("line 000\n", ...).
fn lines(from: u32, n: u32) -> String {
    (from..from + n).map(|i| format!("line {i:03}\n")).collect()
}

/// `git add -A` and a commit at `date`, empty or not.
fn commit_all(fx: &Fixture, date: &str, msg: &str) {
    fx.git(&["add", "-A"]);
    fx.git_at(date, &ALICE, &["commit", "-q", "--allow-empty", "-m", msg]);
}

/// Ingests `fx`, asserts every commit's (files, additions, deletions) equals
/// git's numstat, and returns them by commit summary.
fn ingest_and_match_numstat(fx: &Fixture) -> HashMap<String, (i64, i64, i64)> {
    let data = fx.dir.path().join("store");
    ok(&data, &["ingest", "git", fx.path.to_str().unwrap()]);
    let git = git_numstat(fx);
    let rows = query(
        &data,
        "select sha, summary, files_changed, additions, deletions from commits",
    );
    let mut out = HashMap::new();
    for r in rows {
        let mine = (
            r["files_changed"].as_i64().unwrap(),
            r["additions"].as_i64().unwrap(),
            r["deletions"].as_i64().unwrap(),
        );
        assert_eq!(mine, git[r["sha"].as_str().unwrap()], "{}", r["summary"]);
        out.insert(r["summary"].as_str().unwrap().to_owned(), mine);
    }
    out
}

/// Renames where libgit2's similarity and git's disagree: scores right at
/// 50%, symlinks, identical sources, basename preference, type and mode
/// changes, CRLF. Each commit is one case; every count must equal git's.
#[test]
fn renames_are_paired_as_git_pairs_them() {
    use std::os::unix::fs::symlink;
    let fx = Fixture::new();
    let step = |day: u32, msg: &str| commit_all(&fx, &format!("2024-03-{day:02}T10:00:00Z"), msg);
    let rm = |p: &str| std::fs::remove_file(fx.path.join(p)).unwrap();
    fx.write("half/keep.txt", lines(0, 20).as_bytes());
    fx.write("under/keep.txt", lines(100, 20).as_bytes());
    fx.write("dup1/same.txt", lines(200, 5).as_bytes());
    fx.write("dup2/other.txt", lines(200, 5).as_bytes());
    fx.write("old/a.rs", (lines(300, 16) + &lines(320, 4)).as_bytes());
    fx.write("old/b.rs", (lines(300, 19) + "y\n").as_bytes());
    fx.write("kind.txt", b"one\ntwo\nthree\n");
    fx.write("empty", b"");
    fx.write("tool.sh", lines(400, 10).as_bytes());
    fx.write("unix.txt", lines(500, 10).as_bytes());
    std::fs::create_dir_all(fx.path.join("links")).unwrap();
    symlink("target-one/with/a/long/path", fx.path.join("links/here")).unwrap();
    step(1, "base");

    // Exactly 50%: 10 of 20 lines kept, a new basename. A rename.
    rm("half/keep.txt");
    fx.write(
        "moved/half.txt",
        (lines(0, 10) + &lines(600, 10)).as_bytes(),
    );
    step(2, "rename at exactly 50%");
    // 45%: 9 of 20 lines kept. Not a rename.
    rm("under/keep.txt");
    fx.write(
        "moved/under.txt",
        (lines(100, 9) + &lines(700, 11)).as_bytes(),
    );
    step(3, "rename below 50%");
    // A symlink renamed with a new target is a delete and an add to git.
    rm("links/here");
    symlink("target-one/with/a/long/pathX", fx.path.join("links/there")).unwrap();
    step(4, "symlink renamed and retargeted");
    // Two identical sources: the destination with the same basename takes its namesake.
    rm("dup1/same.txt");
    rm("dup2/other.txt");
    fx.write("new/other.txt", lines(200, 5).as_bytes());
    fx.write("new/zzz.txt", lines(200, 5).as_bytes());
    step(5, "identical sources");
    // A unique basename at 80% beats a 95% match with another name.
    rm("old/a.rs");
    rm("old/b.rs");
    fx.write("new/a.rs", lines(300, 20).as_bytes());
    step(6, "basename before best match");
    // A file that becomes a symlink, and an empty file renamed.
    rm("kind.txt");
    symlink("one", fx.path.join("kind.txt")).unwrap();
    rm("empty");
    fx.write("still-empty", b"");
    step(7, "type change and empty rename");
    // A rename that also turns on the executable bit and edits a line.
    rm("tool.sh");
    fx.write("bin/tool", (lines(400, 9) + "changed\n").as_bytes());
    std::fs::set_permissions(
        fx.path.join("bin/tool"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    step(8, "rename with mode change");
    // CRLF: git ignores the CR when scoring, so this is a rename.
    rm("unix.txt");
    fx.write("dos.txt", lines(500, 10).replace('\n', "\r\n").as_bytes());
    step(9, "line endings changed while renaming");

    assert_eq!(ingest_and_match_numstat(&fx).len(), 9);
    // The cases are what they claim: git's own pairing, commit by commit.
    let status = |k: usize| fx.git(&["show", "--format=", "--name-status", &format!("HEAD~{k}")]);
    let expected = [
        "R050\thalf/keep.txt\tmoved/half.txt",
        "A\tmoved/under.txt\nD\tunder/keep.txt",
        "D\tlinks/here\nA\tlinks/there",
        "R100\tdup2/other.txt\tnew/other.txt\nR100\tdup1/same.txt\tnew/zzz.txt",
        "R080\told/a.rs\tnew/a.rs\nD\told/b.rs",
        "T\tkind.txt\nR100\tempty\tstill-empty",
        "R090\ttool.sh\tbin/tool",
        "R090\tunix.txt\tdos.txt",
    ];
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(status(7 - i), *want);
    }
}

/// The tree walk: a file that becomes a directory and back, a deep tree
/// deleted, a mode-only change, names that sort around `dir/` (`dir.c`,
/// `dir-x`, `dir0`), a submodule added, bumped and replaced by a file, and
/// untouched subtrees beside each change. Every commit must equal git's numstat.
#[test]
fn tree_shapes_match_git_numstat() {
    let fx = Fixture::new();
    let at = |day: u32| format!("2024-04-{day:02}T10:00:00Z");
    let step = |day: u32, msg: &str| commit_all(&fx, &at(day), msg);
    let rm_rf = |p: &str| {
        let path = fx.path.join(p);
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    };
    fx.write("untouched/a/b/c.txt", lines(0, 5).as_bytes());
    fx.write("thing", lines(10, 3).as_bytes());
    fx.write("dir.c", lines(20, 2).as_bytes());
    fx.write("dir-x", lines(30, 2).as_bytes());
    fx.write("dir0", lines(40, 2).as_bytes());
    fx.write("dir/inner.txt", lines(50, 4).as_bytes());
    fx.write("deep/1/2/3/4.txt", lines(60, 6).as_bytes());
    fx.write("deep/1/other.txt", lines(70, 2).as_bytes());
    fx.write("script.sh", lines(80, 3).as_bytes());
    step(1, "base");
    // A file becomes a directory of the same name.
    rm_rf("thing");
    fx.write("thing/now-a-dir.txt", lines(90, 7).as_bytes());
    fx.write("thing/second.txt", lines(100, 1).as_bytes());
    step(2, "file to directory");
    // And back.
    rm_rf("thing");
    fx.write("thing", lines(110, 2).as_bytes());
    step(3, "directory to file");
    // A deep tree deleted; neighbours of `dir/` edited.
    rm_rf("deep");
    fx.write("dir.c", lines(20, 3).as_bytes());
    fx.write("dir0", lines(41, 2).as_bytes());
    fx.write("dir/inner.txt", lines(50, 5).as_bytes());
    step(4, "deep delete, sort neighbours");
    // Only the executable bit.
    std::fs::set_permissions(
        fx.path.join("script.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    step(5, "mode only");
    // A submodule (a gitlink entry), bumped, then replaced by a file.
    let gitlink = |sha: &str| {
        fx.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{sha},vendor/lib"),
        ])
    };
    let commit_at = |day: u32, msg: &str| {
        fx.git_at(&at(day), &ALICE, &["commit", "-q", "-m", msg]);
    };
    gitlink("1111111111111111111111111111111111111111");
    commit_at(6, "submodule added");
    gitlink("2222222222222222222222222222222222222222");
    commit_at(7, "submodule bumped");
    fx.git(&["rm", "-q", "--cached", "vendor/lib"]);
    fx.write("vendor/lib", lines(120, 4).as_bytes());
    step(8, "submodule becomes a file");

    let by_summary = ingest_and_match_numstat(&fx);
    assert_eq!(by_summary.len(), 8);
    // Hand-checked: what each step must count (files, +, -).
    assert_eq!(by_summary["file to directory"], (3, 8, 3));
    assert_eq!(by_summary["directory to file"], (3, 2, 8));
    assert_eq!(by_summary["deep delete, sort neighbours"], (5, 3, 9));
    assert_eq!(by_summary["mode only"], (1, 0, 0));
    assert_eq!(by_summary["submodule added"], (1, 1, 0));
    assert_eq!(by_summary["submodule bumped"], (1, 1, 1));
    assert_eq!(by_summary["submodule becomes a file"], (1, 4, 1));
}

/// Without `--quiet`, an ingest says one summary line per repo on stderr and
/// nothing else; with it, nothing at all (a stray debug print fails this).
#[test]
fn ingest_output_is_one_line_or_nothing() {
    let h = build();
    let repo = h.fx.path.to_str().unwrap();
    for (i, extra) in [&[][..], &["--no-stats"][..]].iter().enumerate() {
        let data = h.fx.dir.path().join(format!("store-{i}"));
        let mut args = vec!["--quiet", "ingest", "git", repo];
        args.extend_from_slice(extra);
        let out = flowmeter(&data, &args);
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let data = h.fx.dir.path().join(format!("store-loud-{i}"));
        let out = flowmeter(&data, &args[1..]);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("16 new commits"), "{stderr}");
    }
}

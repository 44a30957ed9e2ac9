//! Shared test helpers: git fixtures with pinned dates, running the CLI, and a
//! mock HTTP server for it to talk to.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A git repository built by the test through the git CLI, with every date and
/// author pinned so that expected numbers can be worked out by hand.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub struct Author<'a> {
    pub name: &'a [u8],
    pub email: &'a str,
}

pub const ALICE: Author = Author {
    name: b"Alice",
    email: "alice@example.com",
};
pub const BOB: Author = Author {
    name: b"Bob",
    email: "bob@example.com",
};

impl Fixture {
    /// An empty repository whose first branch is `main`.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        std::fs::create_dir(&path).unwrap();
        let f = Fixture { dir, path };
        f.git(&["init", "-q", "-b", "main"]);
        f.git(&["config", "commit.gpgsign", "false"]);
        f.git(&["config", "tag.gpgsign", "false"]);
        f
    }

    /// Runs git with pinned identity and the given date for author and committer.
    pub fn git_at(&self, date: &str, author: &Author, args: &[&str]) -> String {
        self.git_env(args, date, author)
    }

    /// Runs git at a fixed default date (for commands that create no objects).
    pub fn git(&self, args: &[&str]) -> String {
        self.git_env(args, "2024-01-01T00:00:00Z", &ALICE)
    }

    fn git_env(&self, args: &[&str], date: &str, author: &Author) -> String {
        use std::os::unix::ffi::OsStrExt;
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.path)
            .env("GIT_AUTHOR_NAME", OsStr::from_bytes(author.name))
            .env("GIT_AUTHOR_EMAIL", author.email)
            .env("GIT_COMMITTER_NAME", "Committer")
            .env("GIT_COMMITTER_EMAIL", "ci@example.com")
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.dir.path())
            .env("GIT_MERGE_AUTOEDIT", "no")
            .env("EDITOR", "true")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, rel: &str, content: &[u8]) {
        let p = self.path.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }

    /// Writes files, stages everything and commits; returns the new sha.
    pub fn commit(
        &self,
        date: &str,
        author: &Author,
        msg: &str,
        files: &[(&str, &[u8])],
    ) -> String {
        for (p, c) in files {
            self.write(p, c);
        }
        self.git(&["add", "-A"]);
        self.git_at(date, author, &["commit", "-q", "--allow-empty", "-m", msg]);
        self.head()
    }

    /// Commits the staged tree with raw identity bytes (git itself would
    /// re-encode a non-UTF-8 name as Latin-1), moving the current branch.
    pub fn commit_raw(&self, epoch: i64, author_line: &[u8], msg: &[u8]) -> String {
        use std::io::Write;
        let tree = self.git(&["write-tree"]);
        let parent = self.head();
        let mut body = format!("tree {tree}\nparent {parent}\nauthor ").into_bytes();
        body.extend_from_slice(author_line);
        body.extend_from_slice(
            format!(" {epoch} +0000\ncommitter Committer <ci@example.com> {epoch} +0000\n\n")
                .as_bytes(),
        );
        body.extend_from_slice(msg);
        body.push(b'\n');
        let mut child = Command::new("git")
            .args(["hash-object", "-t", "commit", "-w", "--stdin"])
            .current_dir(&self.path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&body).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let sha = String::from_utf8(out.stdout).unwrap().trim().to_string();
        self.git(&["update-ref", "HEAD", &sha]);
        sha
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn rev(&self, r: &str) -> String {
        self.git(&["rev-parse", r])
    }
}

/// Checks out `into` and merges `from` with `--no-ff` at `at`, as
/// "Merge branch 'FROM' into INTO"; returns the merge's sha.
pub fn merge(fx: &Fixture, at: &str, into: &str, from: &str) -> String {
    fx.git(&["checkout", "-q", into]);
    fx.git_at(
        at,
        &ALICE,
        &[
            "merge",
            "--no-ff",
            "-q",
            "-m",
            &format!("Merge branch '{from}' into {into}"),
            from,
        ],
    );
    fx.head()
}

/// Runs the flowmeter binary with `--data DATA`.
pub fn flowmeter(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowmeter"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("FLOWMETER_DATA")
        .env_remove("FLOWMETER_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("flowmeter runs")
}

/// Runs flowmeter and asserts success; returns stdout.
pub fn ok(data: &Path, args: &[&str]) -> String {
    let out = flowmeter(data, args);
    assert!(
        out.status.success(),
        "flowmeter {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs flowmeter and asserts failure; returns stderr.
pub fn fails(data: &Path, args: &[&str]) -> String {
    let out = flowmeter(data, args);
    assert!(
        !out.status.success(),
        "flowmeter {args:?} should have failed; stdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// One headline row of a monthly report's `summary.json`, by metric name.
pub fn headline<'a>(summary: &'a serde_json::Value, metric: &str) -> &'a serde_json::Value {
    summary["headline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["metric"] == metric)
        .unwrap_or_else(|| panic!("no headline {metric} in {summary}"))
}

/// Runs each command (after `--config CONFIG`) and asserts that none panics
/// and each exits 0 or 1 (a clear error), never a crash.
pub fn answer_without_panic(data: &Path, config: &str, commands: &[&[&str]]) {
    for args in commands {
        let mut a = vec!["--config", config];
        a.extend_from_slice(args);
        let out = flowmeter(data, &a);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            out.status.success() || out.status.code() == Some(1),
            "{args:?}: {stderr}"
        );
    }
}

/// `flowmeter --config CONFIG metrics --format json ARGS`: the `all` period.
pub fn metrics_all(data: &Path, config: &str, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["--config", config, "metrics", "--format", "json"];
    a.extend_from_slice(args);
    let v: serde_json::Value = serde_json::from_str(&ok(data, &a)).unwrap();
    v["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == "all")
        .unwrap_or_else(|| panic!("no `all` period in {v}"))
        .clone()
}

/// Runs a query and returns the JSON rows.
pub fn query(data: &Path, sql: &str) -> Vec<serde_json::Value> {
    let out = ok(data, &["sql", sql, "--format", "json"]);
    match serde_json::from_str(&out).unwrap() {
        serde_json::Value::Array(rows) => rows,
        other => panic!("not an array: {other}"),
    }
}

/// Every file under `dir` with its bytes, to prove a failed command left it intact.
pub fn snapshot_dir(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = vec![];
    if !dir.exists() {
        return out;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != ".lock" {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A wiremock server on a runtime of its own, so that synchronous tests can
/// mount mocks and see what flowmeter, a child process, asked for.
pub struct MockHttp {
    rt: tokio::runtime::Runtime,
    server: wiremock::MockServer,
}

impl MockHttp {
    pub fn start() -> MockHttp {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(wiremock::MockServer::start());
        MockHttp { rt, server }
    }

    pub fn mount(&self, mock: wiremock::Mock) {
        self.rt.block_on(mock.mount(&self.server));
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<wiremock::Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }

    /// Forgets the mocks and the requests.
    pub fn reset(&self) {
        self.rt.block_on(self.server.reset());
    }
}

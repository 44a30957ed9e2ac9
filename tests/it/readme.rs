//! Every flowmeter command in README.md and the user guide (`docs/*.md`)
//! runs, in reading order (README first, then the pages of `docs/README.md`,
//! see [`lines::PAGES`]), in a sandbox, and does what the page says it does,
//! so the documentation cannot rot (issue #8).
//!
//! The commands are the lines of the pages' ```sh blocks that run
//! `flowmeter` (or `cargo run -- ...`, run as the built binary) and the
//! `$ flowmeter ...` lines of their ```text blocks; `readme/lines.rs` finds them,
//! and `src/cli.rs` uses the same file to check that they parse.
//!
//! The sandbox is a shell session per code block: each block starts in `~/work/api`,
//! a fixture work tree (see [`build_api`]) with `deploys.csv`, `incidents.csv` and
//! `envs.toml` beside it, and `cd` and `export` last until the block ends.
//! `HOME` is a temp dir holding `~/src/api` (the same history),
//! `~/src/api.git` (a bare copy) and `~/src/web` (a small second repo). The
//! environment is cleared (no FLOWMETER_DATA, FLOWMETER_CONFIG, or a real
//! GITHUB_TOKEN), `ingest github` talks to a wiremock GitHub on 127.0.0.1,
//! the few placeholders the sandbox cannot make real are replaced from
//! [`substitutions`], and [`additions`] adds the mock's URL and the demo's
//! `--small`. Lines that are not flowmeter commands are listed, with
//! the reason they are not run, in [`NOT_RUN`]. The store in `~/work/api`
//! carries over from block to block and page to page, so the order matters.

mod lines;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use git2::{Oid, Repository, Signature, Time};
use serde_json::{json, Value};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::common::MockHttp;

use lines::{all_shell_lines, parse, shell_lines, Parsed, FLOWMETER_COMMANDS, PAGES};

/// Lines of the pages that are not flowmeter commands, and why the test does
/// not run them. Each must match a line of some page, and every other line
/// must be a flowmeter command, `cd` or `export`.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo test --workspace",
        "the test suite this test is part of",
    ),
    (
        "cargo install --path .",
        "a release build of this very binary",
    ),
    ("python3 -m venv", "Python and pip from the network"),
    (
        "PYTHON=.venv/bin/python notebooks/run_all.sh",
        "needs the venv; .ci/run runs the notebooks",
    ),
    (
        ".venv/bin/pip install jupyterlab",
        "an interactive Jupyter server",
    ),
    (
        "python3 analysis/sql/rollup.py",
        "needs DuckDB and PySpark from pip; .ci/run runs both engines",
    ),
];

/// Placeholders in documented commands that the sandbox cannot make real:
/// each text (matched inside an argument) and what stands in for it. Every
/// entry must be used at least once, so the table cannot rot either.
fn substitutions(sb: &Sandbox) -> Vec<(&'static str, String)> {
    vec![
        // A sha cannot be chosen: the fixture commit that v1.4.0 shipped.
        ("3f2a9c1", sb.api.explained[..7].to_string()),
        // Scratch directories go into the sandbox.
        ("/tmp/", format!("{}/", sb.root.join("tmp").display())),
        // A GitHub Enterprise Server: the mock, under the same /api/v3 path.
        ("https://ghe.example.com", sb.github.uri()),
    ]
}

/// Flags added to documented commands that start with the given words (unless
/// the first flag is already there). Every entry must be used.
fn additions(sb: &Sandbox) -> Vec<(Vec<String>, Vec<String>)> {
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        // Never api.github.com: every `ingest github` talks to the mock.
        (
            words(&["ingest", "github"]),
            vec!["--api-url".into(), sb.github.uri()],
        ),
        // The demo's small organisation: the same story and code in less than
        // half the time (16 s instead of 38 s a run in a debug build on two
        // busy cores), and the pages run the demo four times. .ci/run runs
        // the README's `cargo run -- demo` as written.
        (words(&["demo"]), words(&["--small"])),
    ]
}

#[test]
fn every_command_in_the_readme_runs() {
    let t0 = Instant::now();
    let sb = Sandbox::new();
    let subs = substitutions(&sb);
    let mut subs_used = vec![0; subs.len()];
    let mut not_run_used = vec![0; NOT_RUN.len()];
    let additions = additions(&sb);
    let mut additions_used = vec![0; additions.len()];
    let lines = all_shell_lines();
    let found = lines
        .iter()
        .filter(|l| matches!(parse(&l.text), Ok(Parsed::Flowmeter { .. })))
        .count();
    assert_eq!(
        found, FLOWMETER_COMMANDS,
        "flowmeter commands found in the README and docs/"
    );
    let mut ran = 0;
    let mut timings = vec![];
    // A `demo` line repeated word for word, in the same directory, over an
    // output directory that nothing has touched since that line ran, is
    // checked against the first run's output instead of generating the same
    // organisation again: the demo is deterministic (`demo::same_seed_gives_
    // byte_identical_repos_and_logs`), and each run costs seconds. Any change
    // to the output directory in between, or any other argument, runs it.
    let mut demos: Vec<(String, DirBytes, Ran)> = vec![];
    let mut demos_reused = 0;
    let (mut block, mut cwd, mut exports) = (usize::MAX, sb.start.clone(), vec![]);
    for line in &lines {
        let at = format!("{}:{}: {}", line.page, line.number, line.text);
        if line.block != block {
            // A new block is a new terminal in the work tree.
            (block, cwd, exports) = (line.block, sb.start.clone(), vec![]);
        }
        match parse(&line.text).unwrap_or_else(|e| panic!("{at}\n{e}")) {
            Parsed::Cd(dir) => {
                cwd = cwd.join(sb.expand(&dir));
                assert!(cwd.is_dir(), "{at}\nno directory {}", cwd.display());
            }
            Parsed::Export(k, v) => exports.push((k, v)),
            Parsed::Other => {
                let i = NOT_RUN
                    .iter()
                    .position(|(p, _)| line.text.starts_with(p))
                    .unwrap_or_else(|| panic!("{at}\nneither a flowmeter command nor in NOT_RUN"));
                not_run_used[i] += 1;
            }
            Parsed::Flowmeter {
                env,
                args,
                stdout_to,
            } => {
                let mut args: Vec<String> = args
                    .iter()
                    .map(|a| {
                        let mut a = a.clone();
                        for (i, (from, to)) in subs.iter().enumerate() {
                            if a.contains(from) {
                                a = a.replace(from, to);
                                subs_used[i] += 1;
                            }
                        }
                        sb.expand(&a)
                    })
                    .collect();
                for (i, (command, flags)) in additions.iter().enumerate() {
                    if args.starts_with(command) && !args.contains(&flags[0]) {
                        args.extend(flags.iter().cloned());
                        additions_used[i] += 1;
                    }
                }
                let stdout_to = stdout_to.map(|f| cwd.join(sb.expand(&f)));
                let demo_out = (args.first().map(String::as_str) == Some("demo")).then(|| {
                    let out = args.iter().position(|a| a == "--out");
                    cwd.join(out.map_or("flowmeter-demo", |k| args[k + 1].as_str()))
                });
                let key = format!("{cwd:?} {exports:?} {env:?} {args:?} {stdout_to:?}");
                let earlier = demo_out.as_ref().and_then(|out| {
                    let (_, files, run) = demos.iter().find(|(k, _, _)| *k == key)?;
                    (*files == crate::common::snapshot_dir(out)).then(|| run.clone())
                });
                let run = match earlier {
                    Some(run) => {
                        demos_reused += 1;
                        run
                    }
                    None => {
                        let start = Instant::now();
                        let run = sb.run(&at, &cwd, &exports, &env, &args, stdout_to.as_deref());
                        timings.push((start.elapsed(), line.page, line.number));
                        if let Some(out) = &demo_out {
                            demos.push((key, crate::common::snapshot_dir(out), run.clone()));
                        }
                        run
                    }
                };
                check(&at, &cwd, &args, &run);
                ran += 1;
            }
        }
    }
    timings.sort();
    for (d, page, n) in timings.iter().rev().take(8) {
        eprintln!("{:>6.1}s  {page}:{n}", d.as_secs_f64());
    }
    eprintln!(
        "{ran} documented commands in {:.1}s ({demos_reused} repeated demo lines checked against their first run)",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(ran, found, "documented commands run");
    for ((from, _), n) in subs.iter().zip(&subs_used) {
        assert!(
            *n > 0,
            "substitution `{from}` matched no documented command: remove it"
        );
    }
    for ((prefix, _), n) in NOT_RUN.iter().zip(&not_run_used) {
        assert!(
            *n > 0,
            "NOT_RUN `{prefix}` matched no line of any page: remove it"
        );
    }
    for ((command, flags), n) in additions.iter().zip(&additions_used) {
        assert!(*n > 0, "no `{command:?}` command got {flags:?}: remove it");
    }
}

/// Every page of the user guide is in [`PAGES`], so its commands run (and
/// parse, in `src/cli.rs`), and every page there exists.
#[test]
fn every_docs_page_is_in_the_readme_test() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let mut on_disk: Vec<String> = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = PAGES
        .iter()
        .filter(|(p, _)| p.starts_with("docs/"))
        .map(|(p, _)| p.to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, on_disk, "docs/*.md and readme/lines.rs PAGES");
}

/// Every relative link and image of the README and the user guide points to
/// a file that exists, and every `#fragment` to a heading of its page, as
/// GitHub makes the anchors; so moving a section cannot leave a dead link.
#[test]
fn every_link_in_the_readme_and_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for (page, text) in PAGES {
        for (number, target) in links(text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let at = format!("{page}:{number}: ({target})");
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                root.join(page)
            } else {
                root.join(page).parent().unwrap().join(path)
            };
            assert!(
                file.exists(),
                "{at}
no {}",
                file.display()
            );
            if let Some(fragment) = fragment {
                let text = std::fs::read_to_string(&file).unwrap();
                let anchors = anchors(&text);
                assert!(
                    anchors.iter().any(|a| a == fragment),
                    "{at}
no heading `#{fragment}` in {}; there are {anchors:?}",
                    file.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} relative links found");
}

/// The `](target)` of each Markdown link or image outside code blocks, with
/// its 1-based line number.
fn links(text: &str) -> Vec<(usize, String)> {
    let (mut out, mut code) = (vec![], false);
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            code = !code;
        }
        if code {
            continue;
        }
        let mut rest = line;
        while let Some(k) = rest.find("](") {
            rest = &rest[k + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            out.push((i + 1, rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    out
}

/// The anchors GitHub gives a page's headings: lower case, punctuation other
/// than `-` and `_` dropped, spaces as `-`.
fn anchors(text: &str) -> Vec<String> {
    let (mut out, mut code) = (vec![], false);
    for line in text.lines() {
        if line.starts_with("```") {
            code = !code;
        }
        let Some(title) = line.trim_start_matches('#').strip_prefix(' ') else {
            continue;
        };
        if code || !line.starts_with('#') {
            continue;
        }
        out.push(
            title
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect(),
        );
    }
    out
}

/// Every file under a directory, with its bytes.
type DirBytes = Vec<(PathBuf, Vec<u8>)>;

/// What one command did.
#[derive(Clone)]
struct Ran {
    stdout: Vec<u8>,
    stderr: String,
    /// Requests the mock GitHub got during the command.
    github_requests: Vec<String>,
    /// The file `> FILE` wrote.
    stdout_to: Option<PathBuf>,
}

/// Checks that a command did what its page says: exit status 0 is checked by
/// [`Sandbox::run`]; here, the output or the files it claims to write.
fn check(at: &str, cwd: &Path, args: &[String], run: &Ran) {
    let mut data = cwd.join(".flowmeter");
    let mut i = 0;
    while let Some(a) = args.get(i).map(String::as_str) {
        match a {
            "--data" => data = cwd.join(&args[i + 1]),
            "--config" => {}
            "--quiet" | "-q" => {
                i += 1;
                continue;
            }
            _ => break,
        }
        i += 2;
    }
    let sub: Vec<&str> = args[i..].iter().map(String::as_str).collect();
    let flag = |name: &str| {
        sub.iter()
            .position(|a| *a == name)
            .map(|k| sub[k + 1].to_string())
    };
    let stdout = String::from_utf8_lossy(&run.stdout);
    let file = |p: PathBuf| {
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{at}\n{} is missing or empty", p.display());
        p
    };
    let in_store = |table: &str, repo: &str| {
        let dir = data
            .join(table)
            .join(format!("repo={}", repo.replace('/', "%2F")));
        assert!(
            dir.is_dir(),
            "{at}\nthe store has no {}\nstderr:\n{}",
            dir.display(),
            run.stderr
        );
    };
    match sub[..] {
        ["demo", ..] => {
            let dir = cwd.join(flag("--out").unwrap_or("flowmeter-demo".into()));
            for f in [
                "report/report.html",
                "report-2025-07/report.html",
                "deck/deck.html",
                "STORY.md",
                "flowmeter.toml",
                "deployments.csv",
                "store/flowmeter.json",
            ] {
                file(dir.join(f));
            }
            assert!(stdout.contains("1. "), "{at}\nno findings:\n{stdout}");
        }
        ["report", "monthly", ..] => {
            let out = cwd.join(flag("--out").unwrap());
            for f in ["report.html", "report.md", "summary.json"] {
                file(out.join(f));
            }
            let summary: Value =
                serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
            let deployments = &summary["headline"][0];
            assert_eq!(deployments["metric"], "Deployments", "{at}");
            assert!(
                deployments["n"].as_u64() > Some(0),
                "{at}\nno deployments that month"
            );
        }
        ["report", "deck", ..] => {
            let out = cwd.join(flag("--out").unwrap());
            let deck = std::fs::read_to_string(file(out.join("deck.html"))).unwrap();
            file(out.join("slide-01-title.png"));
            assert!(
                !deck.contains(">no deployments<"),
                "{at}\nno deployments in the deck"
            );
            // The periods asked for make the before/after slide.
            assert_eq!(
                deck.contains("id=\"slide-before-after\""),
                flag("--before").is_some(),
                "{at}\nbefore/after slide"
            );
        }
        ["init", ..] => {
            let config = file(cwd.join(flag("--out").unwrap_or("flowmeter.toml".into())));
            let text = std::fs::read_to_string(config).unwrap();
            assert!(text.contains("[[environment]]"), "{at}\n{text}");
        }
        ["ingest", "git", ref rest @ ..] => {
            let mut names = vec![];
            let mut paths = vec![];
            let mut k = 0;
            while k < rest.len() {
                match rest[k] {
                    "--name" => names.push(rest[k + 1].to_string()),
                    "--refs" | "-j" | "--threads" => {}
                    "--no-stats" => {
                        k += 1;
                        continue;
                    }
                    p => {
                        paths.push(p);
                        k += 1;
                        continue;
                    }
                }
                k += 2;
            }
            if names.is_empty() {
                names = paths.iter().map(|p| dir_name(&cwd.join(p))).collect();
            }
            for name in &names {
                let said = run
                    .stderr
                    .lines()
                    .any(|l| l.starts_with(&format!("{name}: ")));
                assert!(said, "{at}\nno summary for {name}:\n{}", run.stderr);
                in_store("commits", name);
            }
        }
        ["ingest", kind @ ("deployments" | "incidents"), ref files @ ..] => {
            for f in files {
                let said = run.stderr.lines().any(|l| {
                    l.strip_prefix(&format!("{f}: "))
                        .and_then(|r| r.split(' ').next()?.parse::<u32>().ok())
                        .is_some_and(|n| n > 0)
                });
                assert!(said, "{at}\nno {kind} from {f}:\n{}", run.stderr);
            }
            assert!(data.join(kind).is_dir(), "{at}\nno {kind} in the store");
        }
        ["ingest", "github", ref rest @ ..] => {
            let repos = rest
                .iter()
                .take_while(|a| !a.starts_with('-'))
                .collect::<Vec<_>>();
            assert!(!repos.is_empty(), "{at}\nno OWNER/REPO");
            for r in repos {
                let asked = run
                    .github_requests
                    .iter()
                    .any(|p| p.ends_with(&format!("/repos/{r}/deployments")));
                assert!(asked, "{at}\nthe mock was not asked about {r}");
                in_store("pull_requests", r);
                in_store("deployments", r);
            }
        }
        ["analyze", ..] => {
            let stats = data.join("deployment_stats");
            assert!(stats.is_dir(), "{at}\nno {}", stats.display());
        }
        ["explain", "deployment" | "commit", id, ..] => {
            assert!(stdout.contains(id), "{at}\n{id} not in:\n{stdout}");
        }
        ["sql" | "metrics" | "flow" | "risk" | "whatif" | "compare", ..] => {
            let (bytes, what) = match (&run.stdout_to, flag("--output")) {
                (Some(p), _) => (std::fs::read(p).unwrap(), p.display().to_string()),
                (None, Some(p)) => (std::fs::read(cwd.join(&p)).unwrap(), p),
                (None, None) => (run.stdout.clone(), "stdout".to_string()),
            };
            assert!(!bytes.is_empty(), "{at}\n{what} is empty");
            let text = String::from_utf8_lossy(&bytes);
            // Every date range in the pages holds data in the fixture: an
            // empty answer means the range or the fixture drifted.
            if flag("--since").is_some() || flag("--before").is_some() {
                empty_range(at, &text);
            }
            match flag("--format").as_deref() {
                Some("json") => {
                    serde_json::from_slice::<Value>(&bytes)
                        .unwrap_or_else(|e| panic!("{at}\n{what} is not JSON: {e}"));
                }
                Some("csv") => assert!(text.lines().any(|l| l.contains(',')), "{at}\n{text}"),
                Some("markdown") => assert!(text.contains("| "), "{at}\n{text}"),
                Some("parquet") => assert!(bytes.starts_with(b"PAR1"), "{at}\n{what}"),
                _ => {}
            }
        }
        _ => panic!("{at}\nno check for this command: add one to `check`"),
    }
}

/// Fails when a ranged `metrics`, `flow` or `compare` found nothing in its range.
fn empty_range(at: &str, out: &str) {
    let fail = |why: &str| panic!("{at}\n{why} in the range:\n{out}");
    if out.contains("no deployments in range") {
        fail("metrics: no deployments");
    }
    if out.starts_with("period,") && out.lines().count() < 2 {
        fail("metrics: no periods");
    }
    if out.lines().find(|l| l.ends_with(" rows)")) == Some("(0 rows)") {
        fail("flow: no dwell times");
    }
    if let Some(header) = out.lines().find(|l| l.contains("n_before")) {
        let header: Vec<&str> = header.split_whitespace().collect();
        let lead_time = out.lines().find(|l| l.starts_with("lead_time ")).unwrap();
        let row: Vec<&str> = lead_time.split_whitespace().collect();
        for column in ["n_before", "n_after"] {
            let i = header.iter().position(|h| *h == column).unwrap();
            if row[i] == "0" {
                fail("compare: no changes in a period");
            }
        }
    }
}

/// The repo name `ingest git` gives a path: its directory name without `.git`.
fn dir_name(p: &Path) -> String {
    let p = p.canonicalize().unwrap();
    let n = p.file_name().unwrap().to_string_lossy();
    n.strip_suffix(".git").unwrap_or(&n).to_string()
}

struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
    /// Where each block starts: `~/work/api`.
    start: PathBuf,
    api: ApiHistory,
    github: GitHub,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let home = root.join("home");
        let start = home.join("work/api");
        let api = build_api(&home.join("src/api"), false);
        assert_eq!(build_api(&home.join("src/api.git"), true), api);
        assert_eq!(build_api(&start, false), api);
        build_web(&home.join("src/web"));
        std::fs::write(start.join("deploys.csv"), &api.deploys_csv).unwrap();
        std::fs::write(start.join("incidents.csv"), &api.incidents_csv).unwrap();
        std::fs::write(start.join("envs.toml"), ENVS_TOML).unwrap();
        std::fs::create_dir(root.join("tmp")).unwrap();
        let github = GitHub::start(&api);
        Sandbox {
            _dir: dir,
            root,
            home,
            start,
            api,
            github,
        }
    }

    /// `~` and `~/...` as the shell expands them.
    fn expand(&self, word: &str) -> String {
        match word.strip_prefix('~') {
            Some("") => self.home.display().to_string(),
            Some(rest) if rest.starts_with('/') => format!("{}{rest}", self.home.display()),
            _ => word.to_string(),
        }
    }

    /// Runs the binary in `cwd` with a cleared environment plus the block's
    /// exports and the line's assignments, and asserts that it succeeded.
    fn run(
        &self,
        at: &str,
        cwd: &Path,
        exports: &[(String, String)],
        env: &[(String, String)],
        args: &[String],
        stdout_to: Option<&Path>,
    ) -> Ran {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowmeter"));
        cmd.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("HOME", &self.home)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1");
        if let Some(tmp) = std::env::var_os("TMPDIR") {
            cmd.env("TMPDIR", tmp);
        }
        cmd.envs(exports.iter().chain(env).map(|(k, v)| (k, v)));
        let before = self.github.paths().len();
        let out = cmd.output().expect("flowmeter runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "{at}\nflowmeter {args:?} in {} failed ({}):\n{stderr}",
            cwd.display(),
            out.status
        );
        if let Some(p) = stdout_to {
            std::fs::write(p, &out.stdout).unwrap();
        }
        Ran {
            stdout: out.stdout,
            stderr,
            github_requests: self.github.paths()[before..].to_vec(),
            stdout_to: stdout_to.map(Path::to_path_buf),
        }
    }
}

/// `flowmeter --config envs.toml flow`: the promotion order, with production
/// from the deploy log.
const ENVS_TOML: &str = r#"# develop -> staging -> production, in promotion order
[[environment]]
name = "develop"
branch = "develop"

[[environment]]
name = "staging"
branch = "staging"

[[environment]]
name = "production"
file = "deploys.csv"
production = true
"#;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2024-01-03T00:00:00Z, a Wednesday: the first train starts.
const FIRST_TRAIN: i64 = 1_704_240_000;
/// Two-week trains; the last one (72) is tagged on 2026-10-20.
const TRAINS: i64 = 73;
const PEOPLE: [(&str, &str); 3] = [
    ("Alice", "alice@example.com"),
    ("Bob", "bob@example.com"),
    ("Carol", "carol@example.com"),
];

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// What the tests need to know of the `acme/api` fixture history.
#[derive(Debug, PartialEq)]
struct ApiHistory {
    /// The commit of pull request #5, shipped by v1.4.0 and named by an incident.
    explained: String,
    /// The merge of pull request #5 into develop.
    pr5_merge: String,
    /// The commit tagged v1.4.0.
    v1_4_0: String,
    deploys_csv: String,
    incidents_csv: String,
}

/// The `acme/api` history: two-week release trains from 2024-01-03 to
/// 2026-10-20, all dates pinned. Each train: a pull request adding an
/// endpoint, merged into `develop` (its head kept as `refs/pull/N/head`);
/// 0-7 more commits on `develop` (batches of 1-8 commits); `develop` merged
/// into `staging`, and that merge tagged `v1.K.0` the next morning
/// (production, and a row of `deploys.csv`). Some trains fail: every fifth
/// has an incident naming its pull request's commit, every seventh's endpoint
/// is reverted in the next train, and every sixth gets a `Hotfix:` commit on
/// staging, tagged `v1.K.1` and never merged back. HEAD is `develop`.
fn build_api(path: &Path, bare: bool) -> ApiHistory {
    Git::build(path, bare, "develop", |g| {
        let start = FIRST_TRAIN - 7 * DAY;
        let first = g.commit("develop", 0, start, "Initial commit", "README.md", |_| {
            Some("# api\n".into())
        });
        g.set_ref("refs/heads/staging", &first);
        let mut deploys = String::from("deployed_at,environment,sha,status,repo\n");
        let mut incidents =
            String::from("incident_id,opened_at,resolved_at,title,severity,repo,caused_by_sha\n");
        let mut h = BTreeMap::new();
        let mut previous: Option<(String, String, String)> = None;
        for k in 0..TRAINS {
            let at = |day: i64, hour: i64| FIRST_TRAIN + (14 * k + day) * DAY + hour * HOUR;
            let who = |i: i64| ((k + i) % 3) as usize;
            let pr = k + 1;
            let branch = format!("feature/endpoint-{pr}");
            g.set_ref(&format!("refs/heads/{branch}"), &g.tip("develop"));
            let file = format!("src/endpoints/endpoint_{pr}.rs");
            let summary = format!("Add endpoint {pr}");
            let change = g.commit(&branch, who(0), at(0, 10), &summary, &file, |_| {
                Some(lines(pr, 20))
            });
            g.set_ref(&format!("refs/pull/{pr}/head"), &change);
            let msg = format!("Merge pull request #{pr} from acme/{branch}");
            let merge = g.merge("develop", &change, who(1), at(1, 9), &msg);
            g.delete_ref(&format!("refs/heads/{branch}"));
            for i in 0..(5 * k) % 8 {
                let f = format!("src/handler_{}.rs", i % 4);
                let msg = format!("Tune handler {}", i % 4);
                g.commit("develop", who(i), at(1 + i, 14), &msg, &f, |old| {
                    Some(old.unwrap_or_default() + &lines(100 * k + i, 5))
                });
            }
            if k % 7 == 3 {
                let (sha, file, summary) = previous.clone().unwrap();
                let msg = format!("Revert \"{summary}\"\n\nThis reverts commit {sha}.\n");
                g.commit("develop", who(2), at(9, 11), &msg, &file, |_| None);
            }
            previous = Some((change.clone(), file, summary));
            let develop = g.tip("develop");
            let msg = "Merge branch 'develop' into staging";
            let promoted = g.merge("staging", &develop, 0, at(12, 15), msg);
            g.tag(&format!("v1.{k}.0"), &promoted, at(13, 9));
            let status = if k % 9 == 7 { "failure" } else { "success" };
            deploys += &format!("{},production,{promoted},{status},api\n", iso(at(13, 9)));
            if k % 5 == 4 {
                let (opened, resolved) = (iso(at(13, 15)), iso(at(13, 18)));
                incidents += &format!(
                    "INC-{k},{opened},{resolved},Errors on endpoint {pr},sev2,api,{change}\n"
                );
            }
            if k % 6 == 2 {
                let msg = "Hotfix: handle an empty basket";
                let fix = g.commit("staging", who(1), at(13, 16), msg, "src/basket.rs", |old| {
                    Some(old.unwrap_or_default() + &format!("// hotfix {k}\n"))
                });
                g.tag(&format!("v1.{k}.1"), &fix, at(13, 17));
                deploys += &format!("{},production,{fix},success,api\n", iso(at(13, 17)));
            }
            if k == 4 {
                h.insert("explained", change);
                h.insert("pr5_merge", merge);
                h.insert("v1_4_0", promoted);
            }
        }
        ApiHistory {
            explained: h["explained"].clone(),
            pr5_merge: h["pr5_merge"].clone(),
            v1_4_0: h["v1_4_0"].clone(),
            deploys_csv: deploys,
            incidents_csv: incidents,
        }
    })
}

/// `~/src/web`: three commits on `main` in 2024, the last two tagged.
fn build_web(path: &Path) {
    Git::build(path, false, "main", |g| {
        let day = |d: i64| FIRST_TRAIN + d * DAY + 10 * HOUR;
        let page = |html: &str| {
            let html = html.to_string();
            move |_| Some(html)
        };
        g.commit(
            "main",
            0,
            day(0),
            "Initial commit",
            "index.html",
            page("<h1>web</h1>\n"),
        );
        let msg = "Add the basket page";
        let a = g.commit(
            "main",
            1,
            day(30),
            msg,
            "basket.html",
            page("<p>basket</p>\n"),
        );
        g.tag("v0.1.0", &a, day(31));
        let msg = "Add the checkout page";
        let b = g.commit(
            "main",
            2,
            day(60),
            msg,
            "checkout.html",
            page("<p>pay</p>\n"),
        );
        g.tag("v0.2.0", &b, day(61));
    })
}

fn lines(n: i64, count: i64) -> String {
    (0..count).map(|i| format!("// {n}.{i}\n")).collect()
}

/// A git2 builder: commits with pinned authors and dates, as `git commit`
/// makes them. Objects and refs stay in memory until [`Git::build`] writes
/// them as one pack and one `packed-refs` file, as a fresh clone has them: a
/// few files instead of thousands of loose objects and refs, which take
/// seconds to write and to delete on a busy disk.
struct Git<'r> {
    repo: &'r Repository,
    /// Each ref and its target; for an annotated tag, the tag object and its commit.
    refs: RefCell<BTreeMap<String, (Oid, Option<Oid>)>>,
}

impl Git<'_> {
    /// A new repository at `path` whose HEAD is `head`, filled by `fill`.
    /// Work trees get HEAD checked out.
    fn build<T>(path: &Path, bare: bool, head: &str, fill: impl FnOnce(&Git) -> T) -> T {
        std::fs::create_dir_all(path).unwrap();
        let repo = if bare {
            Repository::init_bare(path)
        } else {
            Repository::init(path)
        }
        .unwrap();
        repo.set_head(&format!("refs/heads/{head}")).unwrap();
        let odb = repo.odb().unwrap();
        let mempack = odb.add_new_mempack_backend(1000).unwrap();
        let g = Git {
            repo: &repo,
            refs: RefCell::default(),
        };
        let out = fill(&g);
        let mut pb = repo.packbuilder().unwrap();
        let mut walk = repo.revwalk().unwrap();
        let mut packed = String::from("# pack-refs with: peeled fully-peeled sorted \n");
        for (name, (oid, commit)) in g.refs.borrow().iter() {
            walk.push(commit.unwrap_or(*oid)).unwrap();
            packed += &format!("{oid} {name}\n");
            if let Some(commit) = commit {
                pb.insert_object(*oid, None).unwrap();
                packed += &format!("^{commit}\n");
            }
        }
        pb.insert_walk(&mut walk).unwrap();
        let mut pack = git2::Buf::new();
        pb.write_buf(&mut pack).unwrap();
        drop(pb);
        mempack.reset().unwrap();
        let mut writer = odb.packwriter().unwrap();
        std::io::Write::write_all(&mut writer, &pack).unwrap();
        writer.commit().unwrap();
        drop(writer);
        std::fs::write(repo.path().join("packed-refs"), packed).unwrap();
        if !bare {
            let mut opts = git2::build::CheckoutBuilder::new();
            repo.checkout_head(Some(opts.force())).unwrap();
        }
        out
    }

    fn sig(who: usize, at: i64) -> Signature<'static> {
        let (name, email) = PEOPLE[who];
        Signature::new(name, email, &Time::new(at, 0)).unwrap()
    }

    fn tip(&self, branch: &str) -> String {
        self.refs.borrow()[&format!("refs/heads/{branch}")]
            .0
            .to_string()
    }

    fn set_ref(&self, name: &str, sha: &str) {
        let oid = Oid::from_str(sha).unwrap();
        self.refs.borrow_mut().insert(name.to_string(), (oid, None));
    }

    fn delete_ref(&self, name: &str) {
        self.refs.borrow_mut().remove(name);
    }

    /// `tree` with `path` (below it) changed by `change`: old content in,
    /// new content (or `None`: removed) out.
    fn edit(
        &self,
        tree: Option<&git2::Tree>,
        path: &str,
        change: impl FnOnce(Option<String>) -> Option<String>,
    ) -> Oid {
        let mut tb = self.repo.treebuilder(tree).unwrap();
        let entry = |name: &str| tree.and_then(|t| t.get_name(name).map(|e| e.id()));
        match path.split_once('/') {
            Some((dir, rest)) => {
                let sub = entry(dir).map(|id| self.repo.find_tree(id).unwrap());
                let id = self.edit(sub.as_ref(), rest, change);
                tb.insert(dir, id, 0o040000).unwrap();
            }
            None => {
                let old = entry(path).map(|id| {
                    let blob = self.repo.find_blob(id).unwrap();
                    String::from_utf8(blob.content().to_vec()).unwrap()
                });
                match change(old) {
                    Some(new) => {
                        let id = self.repo.blob(new.as_bytes()).unwrap();
                        tb.insert(path, id, 0o100644).unwrap();
                    }
                    None => tb.remove(path).unwrap(),
                }
            }
        }
        tb.write().unwrap()
    }

    /// Commits a change of one file on `branch` (created if unborn).
    fn commit(
        &self,
        branch: &str,
        who: usize,
        at: i64,
        msg: &str,
        path: &str,
        change: impl FnOnce(Option<String>) -> Option<String>,
    ) -> String {
        let name = format!("refs/heads/{branch}");
        let parent = self.refs.borrow().get(&name).map(|(oid, _)| *oid);
        let parent = parent.map(|oid| self.repo.find_commit(oid).unwrap());
        let tree = parent.as_ref().map(|p| p.tree().unwrap());
        let tree = self.edit(tree.as_ref(), path, change);
        let tree = self.repo.find_tree(tree).unwrap();
        let sig = Git::sig(who, at);
        let parents: Vec<_> = parent.iter().collect();
        let oid = self.repo.commit(None, &sig, &sig, msg, &tree, &parents);
        let oid = oid.unwrap();
        self.refs.borrow_mut().insert(name, (oid, None));
        oid.to_string()
    }

    /// Merges `sha` into `branch` with a merge commit (no fast-forward).
    fn merge(&self, branch: &str, sha: &str, who: usize, at: i64, msg: &str) -> String {
        let ours = Oid::from_str(&self.tip(branch)).unwrap();
        let ours = self.repo.find_commit(ours).unwrap();
        let theirs = self.repo.find_commit(Oid::from_str(sha).unwrap()).unwrap();
        let mut index = self.repo.merge_commits(&ours, &theirs, None).unwrap();
        assert!(
            !index.has_conflicts(),
            "fixture merge into {branch} conflicts"
        );
        let tree = index.write_tree_to(self.repo).unwrap();
        let tree = self.repo.find_tree(tree).unwrap();
        let sig = Git::sig(who, at);
        let oid = self
            .repo
            .commit(None, &sig, &sig, msg, &tree, &[&ours, &theirs]);
        let oid = oid.unwrap();
        let name = format!("refs/heads/{branch}");
        self.refs.borrow_mut().insert(name, (oid, None));
        oid.to_string()
    }

    /// An annotated tag, released by Alice at `at`.
    fn tag(&self, name: &str, sha: &str, at: i64) {
        let commit = Oid::from_str(sha).unwrap();
        let target = self.repo.find_object(commit, None).unwrap();
        let msg = format!("Release {name}");
        let tag = self
            .repo
            .tag_annotation_create(name, &target, &Git::sig(0, at), &msg);
        let entry = (tag.unwrap(), Some(commit));
        self.refs
            .borrow_mut()
            .insert(format!("refs/tags/{name}"), entry);
    }
}

/// A GitHub for `acme/api` and `acme/web` on 127.0.0.1: one merged pull
/// request per repo (for acme/api, #5 of the fixture, with its real shas), one
/// production deployment, GitHub's example releases and tags, two workflows
/// ("Deploy production", "Release") with a successful run each, and an
/// incident issue. It answers at `/` and under GHES's `/api/v3`, GraphQL at
/// `/graphql` and `/api/graphql`; anything else is a 404, which fails the
/// command and so this test.
struct GitHub(MockHttp);

impl std::ops::Deref for GitHub {
    type Target = MockHttp;
    fn deref(&self) -> &MockHttp {
        &self.0
    }
}

impl GitHub {
    fn start(api: &ApiHistory) -> GitHub {
        let gh = GitHub(MockHttp::start());
        let facts = Facts::new(api);
        let rest = facts.clone();
        gh.mount(
            Mock::given(method("GET"))
                .and(path_regex(
                    r"^(/api/v3)?/(rate_limit|repos/acme/(api|web)(/.*)?)$",
                ))
                .respond_with(move |req: &Request| rest.answer(req)),
        );
        gh.mount(
            Mock::given(method("POST"))
                .and(path_regex(r"^(/api)?/graphql$"))
                .respond_with(move |req: &Request| {
                    let body: Value = serde_json::from_slice(&req.body).unwrap();
                    let repo = body["variables"]["name"].as_str().unwrap_or_default();
                    let nodes = match facts.pr(repo) {
                        Some(pr) => vec![pr.graphql()],
                        None => vec![],
                    };
                    ok(json!({"data": {"repository": {"pullRequests": {
                        "pageInfo": {"hasNextPage": false, "endCursor": null},
                        "nodes": nodes,
                    }}}}))
                }),
        );
        gh
    }

    /// The paths of every request so far.
    fn paths(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| r.url.path().to_string())
            .collect()
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn data_json(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/github")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// One merged pull request.
#[derive(Clone)]
struct Pr {
    number: i64,
    merge_sha: String,
    commit_sha: String,
    /// When its commit was authored; opened an hour later, reviewed after
    /// five, merged the next morning.
    at: i64,
}

impl Pr {
    fn rest(&self) -> Value {
        let mut p = data_json("pulls_list_closed.json")[0].clone();
        p["number"] = json!(self.number);
        p["title"] = json!(format!("Add endpoint {}", self.number));
        p["created_at"] = json!(iso(self.at + HOUR));
        p["updated_at"] = json!(iso(self.at + 23 * HOUR));
        p["merged_at"] = json!(iso(self.at + 23 * HOUR));
        p["merge_commit_sha"] = json!(self.merge_sha);
        p
    }

    fn graphql(&self) -> Value {
        json!({
            "number": self.number, "title": format!("Add endpoint {}", self.number),
            "author": {"login": "alice"},
            "createdAt": iso(self.at + HOUR), "mergedAt": iso(self.at + 23 * HOUR),
            "closedAt": iso(self.at + 23 * HOUR), "updatedAt": iso(self.at + 23 * HOUR),
            "baseRefName": "develop", "headRefName": format!("feature/endpoint-{}", self.number),
            "mergeCommit": {"oid": self.merge_sha},
            "additions": 20, "deletions": 0, "changedFiles": 1,
            "commits": {"totalCount": 1, "nodes": [{"commit": {"oid": self.commit_sha, "authoredDate": iso(self.at)}}]},
            "reviews": {"nodes": [{"author": {"login": "bob"}, "submittedAt": iso(self.at + 6 * HOUR)}]},
            "labels": {"nodes": []},
        })
    }
}

/// What the mock GitHub says about each repository.
#[derive(Clone)]
struct Facts {
    api_pr: Pr,
    /// The sha v1.4.0 deployed, and when.
    deployed: (String, i64),
}

impl Facts {
    fn new(api: &ApiHistory) -> Facts {
        let train4 = FIRST_TRAIN + 4 * 14 * DAY;
        Facts {
            api_pr: Pr {
                number: 5,
                merge_sha: api.pr5_merge.clone(),
                commit_sha: api.explained.clone(),
                at: train4 + 10 * HOUR,
            },
            deployed: (api.v1_4_0.clone(), train4 + 13 * DAY + 9 * HOUR),
        }
    }

    fn pr(&self, repo: &str) -> Option<Pr> {
        match repo {
            "api" => Some(self.api_pr.clone()),
            "web" => Some(Pr {
                number: 2,
                merge_sha: format!("{:040x}", 0xb0b_u32),
                commit_sha: format!("{:040x}", 0xb0c_u32),
                at: FIRST_TRAIN + 30 * DAY,
            }),
            _ => None,
        }
    }

    fn answer(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        let path = path.strip_prefix("/api/v3").unwrap_or(path);
        if path == "/rate_limit" {
            return ok(data_json("rate_limit.json"));
        }
        let rest = path.strip_prefix("/repos/acme/").unwrap();
        let (repo, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let pr = self.pr(repo).unwrap();
        let n = pr.number;
        let (sha, at) = &self.deployed;
        let run = |id: i64, name: &str| {
            let mut runs = data_json("actions_runs.json");
            let r = &mut runs["workflow_runs"][0];
            r["id"] = json!(id * 100);
            r["workflow_id"] = json!(id);
            r["name"] = json!(name);
            r["status"] = json!("completed");
            r["conclusion"] = json!("success");
            r["head_sha"] = json!(sha);
            r["created_at"] = json!(iso(*at - HOUR));
            r["updated_at"] = json!(iso(*at));
            runs
        };
        match tail {
            "" => ok(json!({"name": repo, "full_name": format!("acme/{repo}"),
                "default_branch": if repo == "api" { "develop" } else { "main" }})),
            "pulls" => ok(json!([pr.rest()])),
            t if t == format!("pulls/{n}") => {
                let mut p = pr.rest();
                p["additions"] = json!(20);
                p["deletions"] = json!(0);
                p["changed_files"] = json!(1);
                p["commits"] = json!(1);
                ok(p)
            }
            t if t == format!("pulls/{n}/commits") => ok(json!([{"sha": pr.commit_sha,
                "commit": {"author": {"date": iso(pr.at)}, "committer": {"date": iso(pr.at)}}}])),
            t if t == format!("pulls/{n}/reviews") => ok(json!([{"user": {"login": "bob"},
                "submitted_at": iso(pr.at + 6 * HOUR), "state": "APPROVED"}])),
            "deployments" => ok(json!([{"id": 11, "sha": sha, "ref": "v1.4.0",
                "environment": "production", "created_at": iso(*at), "updated_at": iso(*at)}])),
            "deployments/11/statuses" => {
                ok(json!([{"state": "success", "created_at": iso(*at + 600),
                "deployment_url": format!("https://api.github.com/repos/acme/{repo}/deployments/11")}]))
            }
            "releases" => ok(data_json("releases.json")),
            "tags" => ok(data_json("tags.json")),
            "actions/workflows" => ok(json!({"total_count": 2, "workflows": [
                {"id": 5, "name": "Deploy production", "path": ".github/workflows/deploy.yml", "state": "active"},
                {"id": 6, "name": "Release", "path": ".github/workflows/release.yml", "state": "active"}]})),
            "actions/workflows/5/runs" => ok(run(5, "Deploy production")),
            "actions/workflows/6/runs" => ok(run(6, "Release")),
            "issues" => ok(
                json!([{"number": 9, "title": "Errors after the v1.4.0 deploy",
                "body": format!("Started with {}.", &pr.commit_sha[..10]), "state": "closed",
                "labels": [{"name": "incident"}, {"name": "sev1"}],
                "created_at": iso(*at + 6 * HOUR), "updated_at": iso(*at + 9 * HOUR),
                "closed_at": iso(*at + 9 * HOUR)}]),
            ),
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }
}

#[test]
fn readme_lines_are_parsed_as_a_shell_would() {
    let f = |env: &[(&str, &str)], args: &[&str], out: Option<&str>| Parsed::Flowmeter {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdout_to: out.map(str::to_string),
    };
    assert_eq!(
        lines::shell_words(r#"flowmeter sql "select 'a b'" --format csv   # note"#),
        ["flowmeter", "sql", "select 'a b'", "--format", "csv"]
    );
    assert_eq!(lines::shell_words("a '' b"), ["a", "", "b"]);
    assert_eq!(
        parse("GITHUB_TOKEN=... flowmeter ingest github acme/api # note").unwrap(),
        f(
            &[("GITHUB_TOKEN", "...")],
            &["ingest", "github", "acme/api"],
            None
        )
    );
    assert_eq!(
        parse("cargo run -- demo   # builds").unwrap(),
        f(&[], &["demo"], None)
    );
    assert_eq!(
        parse("flowmeter flow --format json > flow.json").unwrap(),
        f(&[], &["flow", "--format", "json"], Some("flow.json"))
    );
    assert_eq!(
        parse("cd ~/src/api").unwrap(),
        Parsed::Cd("~/src/api".into())
    );
    assert_eq!(
        parse("export GITHUB_TOKEN=...  # or --token-env NAME").unwrap(),
        Parsed::Export("GITHUB_TOKEN".into(), "...".into())
    );
    assert_eq!(parse("cargo test --workspace").unwrap(), Parsed::Other);
    assert!(parse("flowmeter sql 'select 1' | head").is_err());
    // `--since=2024-01-01` is an argument, not an assignment.
    assert_eq!(
        parse("flowmeter flow --since=2024-01-01").unwrap(),
        f(&[], &["flow", "--since=2024-01-01"], None)
    );
    let md = "```text\n$ flowmeter risk\nmeasure  n\n```\n\n```sh\ncd x\n\nflowmeter flow\n```\n```toml\na = 1\n```\n";
    // Blocks are numbered on from the page's first block number.
    let got: Vec<_> = shell_lines("docs/x.md", md, 5)
        .into_iter()
        .map(|l| (l.page, l.number, l.block, l.text))
        .collect();
    assert_eq!(
        got,
        [
            ("docs/x.md", 2, 5, "flowmeter risk".to_string()),
            ("docs/x.md", 7, 6, "cd x".to_string()),
            ("docs/x.md", 9, 6, "flowmeter flow".to_string())
        ]
    );
    // Over all pages, a block number is never reused by a later page.
    let lines = all_shell_lines();
    for w in lines.windows(2) {
        assert!(
            w[0].block < w[1].block || (w[0].block == w[1].block && w[0].page == w[1].page),
            "{}:{} and {}:{} share block {}",
            w[0].page,
            w[0].number,
            w[1].page,
            w[1].number,
            w[1].block
        );
    }
}

/// Every test that docs/guarantees.md names as a proof exists, so that the
/// page cannot promise on the strength of a test that was renamed or removed.
#[test]
fn every_test_the_guarantees_page_names_exists() {
    let page = include_str!("../../docs/guarantees.md");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = String::new();
    let mut dirs = vec![
        root.join("tests"),
        root.join("store/src"),
        root.join("reports/src"),
    ];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                sources.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let names: Vec<&str> = page
        .split('`')
        .skip(1)
        .step_by(2)
        .flat_map(|code| code.split("::").last())
        .filter(|w| {
            w.matches('_').count() >= 3 && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        })
        .collect();
    assert!(names.len() >= 12, "{names:?}");
    for name in names {
        assert!(
            sources.contains(&format!("fn {name}(")),
            "docs/guarantees.md names `{name}`, which is no test"
        );
    }
    for script in [".ci/disk-check.sh", ".ci/browser-check.sh"] {
        assert!(
            page.contains(script) && root.join(script).exists(),
            "{script}"
        );
    }
}

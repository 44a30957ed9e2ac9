//! The layout the data flow relies on (ingest → store → analysis → reports):
//! the CLI only parses and prints, reports depend on the analysis digest and
//! not on the store, and every statistic lives in `analysis`.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn lines(p: &Path) -> usize {
    std::fs::read_to_string(p).unwrap().lines().count()
}

/// The `[dependencies]` table of a manifest, as text.
fn dependencies(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).unwrap();
    let start = text
        .find("\n[dependencies]")
        .expect("a [dependencies] table");
    let rest = &text[start + 1..];
    let end = rest[1..].find("\n[").map(|i| i + 1).unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn the_cli_only_parses_and_prints() {
    let mut files = vec![];
    rust_files(&root().join("src/cmd"), &mut files);
    assert!(files.len() > 10, "{files:?}");
    let report = root().join("src/cmd/report.rs");
    assert!(
        lines(&report) < 300,
        "src/cmd/report.rs has {} lines",
        lines(&report)
    );
    for f in &files {
        assert!(lines(f) <= 400, "{} has {} lines", f.display(), lines(f));
    }
    let cli = dependencies(&root().join("Cargo.toml"));
    assert!(cli.contains("flowmeter-demo"), "{cli}");
    assert!(
        !cli.contains("git2"),
        "the CLI links git2 only through ingest and demo: {cli}"
    );
}

#[test]
fn reports_read_the_digest_not_the_store() {
    let deps = dependencies(&root().join("reports/Cargo.toml"));
    assert!(deps.contains("flowmeter-analysis"), "{deps}");
    assert!(!deps.contains("flowmeter-store"), "{deps}");
    let mut files = vec![];
    rust_files(&root().join("reports/src"), &mut files);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(
            !text.contains("flowmeter_store"),
            "{} names the store",
            f.display()
        );
    }
}

/// Quantiles, medians and means are defined once, in `analysis`. The one
/// exception is the demo generator's own account of what it planted
/// (`demo/src/lib.rs`), kept apart on purpose so tests can hold the analysis
/// against it.
#[test]
fn statistics_are_defined_only_in_analysis() {
    let defines = ["fn quantile", "fn median(", "fn mean(", "fn percentile"];
    let mut files = vec![];
    for dir in ["src", "store/src", "ingest/src", "reports/src", "demo/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    let mut found = vec![];
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for line in text.lines() {
            let l = line.trim_start();
            if defines.iter().any(|d| l.contains(d)) && !l.starts_with("//") {
                found.push(format!(
                    "{}: {l}",
                    f.strip_prefix(root()).unwrap().display()
                ));
            }
        }
    }
    assert_eq!(
        found,
        ["demo/src/lib.rs: fn median(mut v: Vec<f64>) -> f64 {"],
        "define statistics in analysis/src/stats.rs"
    );
}

#[test]
fn each_library_crate_has_one_error_enum() {
    for krate in ["store", "ingest", "analysis", "reports", "demo"] {
        let mut files = vec![];
        rust_files(&root().join(krate).join("src"), &mut files);
        let n: usize = files
            .iter()
            .map(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .lines()
                    .filter(|l| l.trim_start().starts_with("pub enum Error"))
                    .count()
            })
            .sum();
        assert_eq!(n, 1, "{krate} has {n} `pub enum Error`");
    }
}

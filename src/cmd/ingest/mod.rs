//! `flowmeter ingest ...`: load sources into the store.

use std::process::ExitCode;

use anyhow::{bail, Result};
use flowmeter_ingest::git::{default_name, ingest_git, GitOptions, GitReport, Progress};
use flowmeter_store::Store;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};

use crate::cli::{GitArgs, GlobalOpts, IngestArgs, IngestSource};
use crate::cmd::status;
use crate::progress;

mod github;
use github::run_github;

pub fn run(global: &GlobalOpts, args: IngestArgs) -> Result<ExitCode> {
    match args.source {
        IngestSource::Git(git) => run_git(global, git),
        IngestSource::Deployments(f) => run_file(global, f, Kind::Deployments),
        IngestSource::Incidents(f) => run_file(global, f, Kind::Incidents),
        IngestSource::Github(gh) => run_github(global, gh),
    }
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, _repo: &str, total: u64) {
        self.0.set_length(total);
        self.0.set_message("commits");
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}

/// Takes the writer lock, saying so when another process holds it.
pub(crate) fn lock(global: &GlobalOpts, store: &Store) -> Result<flowmeter_store::WriteGuard> {
    let quiet = global.quiet;
    Ok(store.lock(None, |path| {
        status(
            quiet,
            format!(
                "waiting for another flowmeter process to finish writing ({})",
                path.display()
            ),
        )
    })?)
}

fn run_git(global: &GlobalOpts, args: GitArgs) -> Result<ExitCode> {
    if !args.name.is_empty() && args.name.len() != args.paths.len() {
        bail!(
            "--name was given {} times for {} paths; give one name per PATH, in order",
            args.name.len(),
            args.paths.len()
        );
    }
    let names: Vec<String> = if args.name.is_empty() {
        args.paths.iter().map(|p| default_name(p)).collect()
    } else {
        args.name.clone()
    };
    let mut seen = std::collections::HashSet::new();
    for n in &names {
        if !seen.insert(n) {
            bail!("two repositories would both be named `{n}`; use --name to tell them apart");
        }
    }
    // Check every path before taking the lock or writing anything.
    for p in &args.paths {
        flowmeter_ingest::git::open_repo(p)?;
    }
    let store = Store::open(&global.data)?;
    let guard = lock(global, &store)?;
    let show = progress::enabled(global.quiet);
    let multi = MultiProgress::with_draw_target(if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    // Repos run side by side; the cores are shared between their diff workers.
    let per_repo_threads = args
        .threads
        .unwrap_or(0)
        .max(if args.paths.len() > 1 { 1 } else { 0 });
    let results: Vec<Result<GitReport>> = std::thread::scope(|s| {
        let handles: Vec<_> = args
            .paths
            .iter()
            .zip(&names)
            .map(|(path, name)| {
                let bar = Bar(multi.add(progress::bar(show, 0, name)));
                let opts = GitOptions {
                    name: name.clone(),
                    extra_refs: args.refs.clone(),
                    stats: !args.no_stats,
                    threads: per_repo_threads,
                };
                let guard = &guard;
                s.spawn(move || {
                    let r = ingest_git(guard, path, &opts, &bar).map_err(|e| naming(path, e));
                    bar.0.finish_and_clear();
                    r
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("ingest thread panicked"))
            .collect()
    });
    let mut failed = 0;
    for r in results {
        match r {
            Ok(rep) => status(global.quiet, summary(&rep)),
            Err(e) => {
                eprintln!("Error: {}", crate::output::error_line(&e));
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// An ingest error that names `path`: most of ingest's errors start with it
/// already, and the rest get "ingesting PATH" in front (never both, which
/// would print the path twice).
pub(crate) fn naming(path: &std::path::Path, e: flowmeter_ingest::Error) -> anyhow::Error {
    let shown = path.display().to_string();
    if e.to_string().starts_with(&shown) {
        e.into()
    } else {
        anyhow::Error::from(e).context(format!("ingesting {shown}"))
    }
}

fn summary(r: &GitReport) -> String {
    let secs = r.elapsed.as_secs_f64();
    let mut s = if r.up_to_date {
        format!(
            "{}: up to date ({} commits, {} refs) in {secs:.2}s",
            r.repo, r.commits_total, r.refs
        )
    } else {
        format!(
            "{}: {} new commits ({} total, {} refs) in {secs:.2}s",
            r.repo, r.commits_new, r.commits_total, r.refs
        )
    };
    if r.commits_unreachable > 0 {
        s.push_str(&format!(
            "; {} stored commits are no longer reachable (kept, reachable = false)",
            r.commits_unreachable
        ));
    }
    if !r.skipped_refs.is_empty() {
        const SHOWN: usize = 5;
        let mut names = r.skipped_refs[..r.skipped_refs.len().min(SHOWN)].join(", ");
        if r.skipped_refs.len() > SHOWN {
            names.push_str(&format!(" and {} more", r.skipped_refs.len() - SHOWN));
        }
        s.push_str(&format!(
            "; {} refs left out (branches and tags flowmeter cannot use): {names}",
            r.skipped_refs.len()
        ));
    }
    if r.unreadable_blobs > 0 {
        s.push_str(&format!(
            "; {} changed files had a blob that could not be read (partial clone?): their lines are not counted, and those commits have stats_complete = false",
            r.unreadable_blobs
        ));
    }
    s
}

pub const DEPLOYMENTS_EXAMPLES: &str = "\
Examples:
  flowmeter ingest deployments deploys.csv
  flowmeter ingest deployments argo-export.json
  flowmeter ingest deployments          # every `file =` named in flowmeter.toml

Columns (CSV header or JSON keys): deployed_at, environment, sha (required);
status (success, failure, error, unknown; default success), repo, deployment_id
(default file:<environment>:<sha12>:<epoch>), ref. Times: RFC 3339 with an
offset, or YYYY-MM-DD HH:MM:SS as UTC. The whole file is checked first; a bad
row is reported with its number and nothing is imported. Rows are upserted by
deployment_id, so importing twice adds nothing.";

pub const INCIDENTS_EXAMPLES: &str = "\
Examples:
  flowmeter ingest incidents incidents.csv
  flowmeter ingest incidents pagerduty.json

Columns (CSV header or JSON keys): incident_id, opened_at (required);
resolved_at, title, severity, repo, caused_by_sha, deployment_id. Times: RFC 3339
with an offset, or YYYY-MM-DD HH:MM:SS as UTC. Rows are upserted by incident_id.";

/// `ingest deployments|incidents FILE...`.
#[derive(Debug, clap::Args)]
pub struct FileArgs {
    /// CSV or JSON files (deployments: default the `file =` entries of flowmeter.toml).
    #[arg(value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,
}

#[derive(Clone, Copy)]
enum Kind {
    Deployments,
    Incidents,
}

fn run_file(global: &GlobalOpts, args: FileArgs, kind: Kind) -> Result<ExitCode> {
    use flowmeter_ingest::file;
    let mut files = args.files;
    if files.is_empty() {
        if let Kind::Incidents = kind {
            bail!("give the incident file(s) to import");
        }
        let config = crate::cmd::analyze::load_config(global)?;
        let base = config
            .path
            .as_ref()
            .and_then(|p| p.parent().map(|d| d.to_path_buf()))
            .unwrap_or_default();
        files = config
            .environments
            .iter()
            .filter_map(|e| e.file.as_ref().map(|f| base.join(f)))
            .collect();
        files.sort();
        files.dedup();
        if files.is_empty() {
            bail!("give the deployment file(s) to import; flowmeter.toml names none with `file =`");
        }
    }
    // Check every file whole before writing anything.
    for f in &files {
        match kind {
            Kind::Deployments => {
                file::read_deployments(f)?;
            }
            Kind::Incidents => {
                file::read_incidents(f)?;
            }
        }
    }
    let store = Store::open(&global.data)?;
    let guard = lock(global, &store)?;
    for f in &files {
        let rep = match kind {
            Kind::Deployments => file::ingest_deployments(&guard, f)?,
            Kind::Incidents => file::ingest_incidents(&guard, f)?,
        };
        let what = match kind {
            Kind::Deployments => "deployments",
            Kind::Incidents => "incidents",
        };
        let repos: Vec<String> = rep
            .repos
            .iter()
            .map(|(r, n)| format!("{}: {n}", r.as_deref().unwrap_or("(no repo)")))
            .collect();
        status(
            global.quiet,
            format!(
                "{}: {} {what} ({})",
                f.display(),
                rep.rows,
                repos.join(", ")
            ),
        );
    }
    Ok(ExitCode::SUCCESS)
}

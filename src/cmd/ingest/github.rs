//! `flowmeter ingest github`: pull requests, deployments and statuses from
//! the GitHub API into the store.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use flowmeter_store::Store;
use indicatif::ProgressBar;

use super::lock;
use crate::cli::{GithubArgs, GlobalOpts, PrApiArg};
use crate::cmd::status;
use crate::progress;

/// GitHub progress: a spinner per repo on a terminal, one line per resource
/// otherwise; rate-limit waits and retries are always said on stderr.
struct GithubProgress {
    quiet: bool,
    spinner: ProgressBar,
    count: std::sync::atomic::AtomicU64,
}

impl flowmeter_ingest::github::Progress for GithubProgress {
    fn start(&self, repo: &str, resource: flowmeter_ingest::github::Resource) {
        self.count.store(0, std::sync::atomic::Ordering::Relaxed);
        self.spinner
            .set_message(format!("{repo}: {}", resource.name()));
    }
    fn fetched(&self, repo: &str, resource: flowmeter_ingest::github::Resource, n: u64) {
        let total = self
            .count
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed)
            + n;
        self.spinner
            .set_message(format!("{repo}: {} ({total})", resource.name()));
    }
    fn done(&self, repo: &str, resource: flowmeter_ingest::github::Resource, rows: u64) {
        if self.spinner.is_hidden() {
            status(
                self.quiet,
                format!("{repo}: {}: {rows} fetched", resource.name()),
            );
        }
    }
    fn notice(&self, repo: &str, message: &str) {
        self.spinner.suspend(|| eprintln!("{repo}: {message}"));
    }
}

pub(super) fn run_github(global: &GlobalOpts, args: GithubArgs) -> Result<ExitCode> {
    use flowmeter_ingest::github::{
        ingest_github, parse_repo, GithubOptions, PrApi, Resource, SecretString,
    };
    for r in &args.repos {
        parse_repo(r)?;
    }
    let mut resources = vec![];
    for name in &args.resources {
        let r = Resource::from_name(name.trim()).with_context(|| {
            format!(
                "--resources: unknown resource `{name}`; use {}",
                Resource::ALL.map(Resource::name).join(", ")
            )
        })?;
        resources.push(r);
    }
    if resources.is_empty() {
        resources = Resource::ALL.to_vec();
    }
    // The token goes straight into a SecretString; it is never printed.
    let token = match std::env::var(&args.token_env) {
        Ok(v) if !v.trim().is_empty() => Some(SecretString::from(v.trim().to_string())),
        _ if args.token_env != "GITHUB_TOKEN" => {
            bail!(
                "--token-env {0}: the environment variable {0} is not set",
                args.token_env
            )
        }
        _ => {
            status(
                global.quiet,
                "no GITHUB_TOKEN: making anonymous requests (60 an hour on github.com; PRs via REST)",
            );
            None
        }
    };
    // Test workflows: the flags, else the config's `[tests] workflows`.
    let test_workflows = if args.tests_workflows.is_empty() {
        crate::cmd::analyze::load_config(global)?
            .test_workflows
            .iter()
            .map(|p| p.as_str().to_string())
            .collect()
    } else {
        args.tests_workflows.clone()
    };
    let opts = GithubOptions {
        api_url: args.api_url.clone(),
        token,
        workflow: args.workflow.clone(),
        test_workflows,
        incident_labels: args.incident_labels.clone(),
        pr_api: match args.pr_api {
            PrApiArg::Auto => PrApi::Auto,
            PrApiArg::Rest => PrApi::Rest,
            PrApiArg::Graphql => PrApi::Graphql,
        },
        resources,
        ..GithubOptions::default()
    };
    let store = Store::open(&global.data)?;
    let guard = lock(global, &store)?;
    let show = progress::enabled(global.quiet);
    let mut failed = 0;
    for repo in &args.repos {
        let spinner = if show {
            let s = ProgressBar::new_spinner();
            s.enable_steady_tick(std::time::Duration::from_millis(200));
            s
        } else {
            ProgressBar::hidden()
        };
        let progress = GithubProgress {
            quiet: global.quiet,
            spinner,
            count: Default::default(),
        };
        let result = ingest_github(&guard, repo, &opts, &progress);
        progress.spinner.finish_and_clear();
        match result {
            Ok(r) => {
                if let Some((remaining, limit, reset)) = r.rate_limit {
                    let reset = chrono::DateTime::from_timestamp(reset, 0)
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                        .unwrap_or_else(|| reset.to_string());
                    status(
                        global.quiet,
                        format!("{repo}: rate limit before the run: {remaining}/{limit} requests left, window resets {reset}"),
                    );
                }
                status(
                global.quiet,
                format!(
                    "{}: {} merged PRs, {} deployments, {} releases, {} new tags, {} runs of {} matching workflows, {} incidents ({} PRs in the issue list skipped); {} requests in {:.2}s",
                    r.repo,
                    r.pull_requests,
                    r.deployments,
                    r.releases,
                    r.tags_new,
                    r.workflow_runs,
                    r.workflows_matched,
                    r.incidents,
                    r.skipped_pull_requests,
                    r.requests,
                    r.elapsed.as_secs_f64()
                ) + if r.releases_not_modified {
                    "; releases unchanged (304 Not Modified)"
                } else {
                    ""
                } + &if r.foreign_statuses > 0 {
                    format!(
                        "; {} deployment statuses named another deployment and were left out",
                        r.foreign_statuses
                    )
                } else {
                    String::new()
                },
            );
            }
            Err(e) => {
                eprintln!("Error: ingesting {repo} from GitHub: {e}");
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

//! Command-line arguments (clap derive). Every subcommand's help ends with examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

const ABOUT: &str = "Delivery metrics from your own history: DORA metrics, promotion flow and the case for smaller releases.";

const EXAMPLES: &str = "\
Examples:
  flowmeter ingest git ~/src/api ~/src/web      # history of two repos into ./.flowmeter/
  flowmeter sql \"select count(*) as n from commits\"
  flowmeter sql --schema                        # every table and its columns
  flowmeter --data /srv/metrics sql \"select * from refs\" --format csv";

#[derive(Debug, Parser)]
#[command(name = "flowmeter", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// The data directory (the Parquet store).
    #[arg(
        long,
        global = true,
        env = "FLOWMETER_DATA",
        default_value = ".flowmeter"
    )]
    pub data: PathBuf,
    /// The configuration file (environments, failure signals).
    #[arg(long, global = true, env = "FLOWMETER_CONFIG")]
    pub config: Option<PathBuf>,
    /// No progress bars or status lines on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load history into the store.
    Ingest(IngestArgs),
    /// Run a SQL query over every table.
    Sql(SqlArgs),
    /// Write a commented flowmeter.toml guessed from branch and tag names.
    #[command(after_help = crate::cmd::init::EXAMPLES)]
    Init(crate::cmd::init::InitArgs),
    /// Rebuild the derived tables (deployments, commits shipped, changes, stats).
    #[command(after_help = crate::cmd::analyze::EXAMPLES)]
    Analyze(crate::cmd::analyze::AnalyzeArgs),
    /// DORA metrics per period, with DORA 2025 scores (or 2023/2024 tiers) and the definitions used.
    #[command(after_help = crate::cmd::metrics::EXAMPLES)]
    Metrics(crate::cmd::metrics::MetricsArgs),
    /// The audit trail behind one deployment or one commit.
    #[command(after_help = crate::cmd::explain::EXAMPLES)]
    Explain(crate::cmd::explain::ExplainArgs),
    /// Failure rate by batch size, with a logistic fit: are big releases riskier?
    Risk(RiskArgs),
    /// Replay history under other release cadences: lead time, batch size, predicted failures.
    Whatif(WhatIfArgs),
    /// Compare delivery metrics before and after a date (e.g. a process change).
    Compare(CompareArgs),
    /// Write the monthly report or the leadership deck (HTML, Markdown, PNG, JSON).
    Report(ReportArgs),
    /// Environment promotion flow: dwell per stage, promotions, drift, misalignments, trains.
    #[command(after_help = crate::cmd::flow::EXAMPLES)]
    Flow(crate::cmd::flow::FlowArgs),
    /// Build a realistic demo organisation (git repos, deploy and incident logs), ingest and analyse it.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(subcommand)]
    pub source: IngestSource,
}

#[derive(Debug, Subcommand)]
pub enum IngestSource {
    /// Commits, branches and tags of local git repositories (work trees or bare).
    #[command(after_help = GIT_EXAMPLES)]
    Git(GitArgs),
    /// A deployment log (CSV or JSON): deployed_at, environment, sha[, status, repo, deployment_id, ref].
    #[command(after_help = crate::cmd::ingest::DEPLOYMENTS_EXAMPLES)]
    Deployments(crate::cmd::ingest::FileArgs),
    /// An incident log (CSV or JSON): incident_id, opened_at[, resolved_at, title, severity, repo, caused_by_sha, deployment_id].
    #[command(after_help = crate::cmd::ingest::INCIDENTS_EXAMPLES)]
    Incidents(crate::cmd::ingest::FileArgs),
    /// Merged PRs, deployments, releases, tags, Actions runs and incident issues from GitHub.
    #[command(after_help = GITHUB_EXAMPLES)]
    Github(GithubArgs),
}

const GITHUB_EXAMPLES: &str = "\
Examples:
  GITHUB_TOKEN=... flowmeter ingest github acme/api acme/web
  flowmeter ingest github acme/api --token-env ACME_GH_TOKEN
  flowmeter ingest github acme/api --api-url https://ghe.example.com/api/v3
  flowmeter ingest github acme/api --workflow 'release*' --incident-label outage
  flowmeter ingest github acme/api --tests-workflow 'ci*' --tests-workflow 'test*'
  flowmeter ingest github acme/api --resources pull_requests,deployments

A second run fetches only what changed since the first (marks in the sync_state table).
Without a token, requests are anonymous (60 an hour on github.com) and PRs use REST.";

#[derive(Debug, Args)]
pub struct GithubArgs {
    /// Repositories as OWNER/REPO (also their name in the store).
    #[arg(required = true, value_name = "OWNER/REPO")]
    pub repos: Vec<String>,
    /// The REST API base: GitHub Enterprise Server is https://HOST/api/v3.
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    pub api_url: String,
    /// Read the token from this environment variable instead of GITHUB_TOKEN.
    #[arg(long, value_name = "NAME", default_value = "GITHUB_TOKEN")]
    pub token_env: String,
    /// Actions workflows whose name matches GLOB (case-insensitive) are deployment evidence.
    #[arg(long, value_name = "GLOB", default_value = "*deploy*")]
    pub workflow: String,
    /// CI workflows whose runs are test evidence (repeat for several; default:
    /// the config's `[tests] workflows`).
    #[arg(long = "tests-workflow", value_name = "GLOB")]
    pub tests_workflows: Vec<String>,
    /// Issues with this label are incidents (repeat for several).
    #[arg(long = "incident-label", value_name = "LABEL", default_values_t = vec!["incident".to_string()])]
    pub incident_labels: Vec<String>,
    /// How to fetch merged PRs: graphql (1 request per 100 PRs, needs a token),
    /// rest (about 3 per PR), or auto (graphql with a token).
    #[arg(long, value_enum, default_value_t = PrApiArg::Auto)]
    pub pr_api: PrApiArg,
    /// Only these resources (comma-separated): pull_requests, deployments,
    /// releases, tags, workflow_runs, incidents.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PrApiArg {
    Auto,
    Rest,
    Graphql,
}

const GIT_EXAMPLES: &str = "\
Examples:
  flowmeter ingest git .                         # the repo you are in
  flowmeter ingest git ~/src/api.git --name acme/api
  flowmeter ingest git ~/src/api ~/src/web       # several repos, in parallel
  flowmeter ingest git . --refs 'refs/pull/*'    # also GitHub's PR refs
  flowmeter ingest git . --no-stats              # metadata only, no diffs";

#[derive(Debug, Args)]
pub struct GitArgs {
    /// Repositories: work trees or bare git directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The repo's name in the store, one per PATH in order (default: the directory name).
    #[arg(long, value_name = "NAME")]
    pub name: Vec<String>,
    /// Also ingest refs matching GLOB (e.g. 'refs/pull/*'); branches and tags are always in.
    #[arg(long, value_name = "GLOB")]
    pub refs: Vec<String>,
    /// Skip diff stats (files, additions, deletions, patch_id).
    #[arg(long)]
    pub no_stats: bool,
    /// Worker threads for diff stats (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

const SQL_EXAMPLES: &str = "\
Examples:
  flowmeter sql \"select repo, count(*) as commits from commits group by repo\"
  flowmeter sql \"select name, sha from refs where kind = 'tag'\" --format csv
  flowmeter sql \"select * from commits\" --format parquet --output commits.parquet
  flowmeter sql --schema
  flowmeter sql --allow-files \"select * from read_csv('extra.csv')\"

The dialect is polars SQL. Every table is registered, even when it holds no data yet.
A query reads the store's tables only: the file-reading table functions (read_csv,
read_parquet, read_ipc, read_json) are refused unless --allow-files is given.";

#[derive(Debug, Args)]
#[command(after_help = SQL_EXAMPLES)]
pub struct SqlArgs {
    /// The query.
    #[arg(required_unless_present = "schema", value_name = "QUERY")]
    pub query: Option<String>,
    /// List the tables and their columns instead of running a query.
    #[arg(long, conflicts_with = "query")]
    pub schema: bool,
    /// Let the query read files outside the store (read_csv, read_parquet,
    /// read_ipc, read_json). Off by default, so that a shared query can only
    /// read the store.
    #[arg(long)]
    pub allow_files: bool,
    #[command(flatten)]
    pub out: OutputOpts,
}

/// `--format` and `--output`, shared by every query-like command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputOpts {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout ('-' is stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub kind: ReportKind,
}

#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// The monthly report: report.html (self-contained), report.md with PNG charts, summary.json.
    #[command(after_help = REPORT_MONTHLY_EXAMPLES)]
    Monthly(ReportMonthlyArgs),
    /// The leadership deck: deck.html (arrow keys, printable to PDF) and one 1920x1080 PNG per slide.
    #[command(after_help = REPORT_DECK_EXAMPLES)]
    Deck(ReportDeckArgs),
}

const REPORT_MONTHLY_EXAMPLES: &str = "\
Examples:
  flowmeter report monthly --month 2026-10 --out reports/2026-10
  flowmeter report monthly --month 2026-10 --out /tmp/r --env production
  xdg-open reports/2026-10/report.html";

const REPORT_DECK_EXAMPLES: &str = "\
Examples:
  flowmeter report deck --out deck/
  flowmeter report deck --out deck/ --since 2026-01-01 --until 2026-06-30
  flowmeter report deck --out deck/ --before 2026-01-01..2026-03-31 --after 2026-04-01..2026-06-30
  chromium deck/deck.html        # arrow keys move between slides; print to PDF for a handout

The before/after slide compares the periods before and after the config's
[process_change] date (within --since/--until), or --before and --after when
given (ranges are FROM..TO in UTC dates, both days included, as for compare).";

#[derive(Debug, Args)]
pub struct ReportMonthlyArgs {
    /// The month to report on, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    pub month: String,
    /// The directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The production environment the DORA metrics are about.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportDeckArgs {
    /// The directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// First day covered, YYYY-MM-DD (default: the first deployment).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day covered, YYYY-MM-DD (default: the last deployment).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// The production environment the DORA metrics are about.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// The before/after slide's first period, FROM..TO (overrides the config's
    /// [process_change]; needs --after).
    #[arg(long, value_name = "RANGE", requires = "after")]
    pub before: Option<String>,
    /// The before/after slide's second period, FROM..TO (needs --before).
    #[arg(long, value_name = "RANGE", requires = "before")]
    pub after: Option<String>,
}

const RISK_EXAMPLES: &str = "\
Examples:
  flowmeter risk                                # production deployments
  flowmeter risk --env production --format markdown
  flowmeter risk --format json > risk.json     # buckets, fits, warnings

Reads `deployment_stats`, rerunning the analysis first when it is stale.
Production is --env, or the config's production environment.";

#[derive(Debug, Args)]
#[command(after_help = RISK_EXAMPLES)]
pub struct RiskArgs {
    /// The production environment (default: the config's production environment).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    #[command(flatten)]
    pub out: OutputOpts,
}

const WHATIF_EXAMPLES: &str = "\
Examples:
  flowmeter whatif                                    # every cadence, 30m pipeline
  flowmeter whatif --cadence on-merge,weekly,biweekly --pipeline-delay 45m
  flowmeter whatif --mainline-env develop --format json

Trains leave at 12:00 UTC: daily on weekdays, weekly on Tuesdays, biweekly every
other weekly train, monthly every fourth weekly train; on-merge runs the
pipeline back to back. The policies are nested, so they compare fairly.";

#[derive(Debug, Args)]
#[command(after_help = WHATIF_EXAMPLES)]
pub struct WhatIfArgs {
    /// Release policies to replay.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        default_value = "on-merge,daily,weekly,biweekly,monthly"
    )]
    pub cadence: Vec<String>,
    /// How long the pipeline takes from merge to production (90s, 30m, 2h, 1d).
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub pipeline_delay: String,
    /// The production environment (default: the config's production environment).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// The environment whose arrivals are replayed (default: the config's first
    /// environment; the default branch's commits when that is production).
    #[arg(long, value_name = "NAME")]
    pub mainline_env: Option<String>,
    /// Coefficient draws for the uncertainty of predicted failures.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub draws: usize,
    /// Random seed of the draws (same seed, same intervals).
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub out: OutputOpts,
}

const COMPARE_EXAMPLES: &str = "\
Examples:
  flowmeter compare --before 2024-01-01..2024-06-30 --after 2024-07-01..2024-12-31
  flowmeter compare --before 2024-01-01..2024-03-31 --after 2024-04-01..2024-06-30 --format markdown
  flowmeter compare --before 2023-01-01..2023-12-31 --after 2024-01-01..2024-12-31 --seed 7

Ranges are FROM..TO in UTC dates, both days included.";

#[derive(Debug, Args)]
#[command(after_help = COMPARE_EXAMPLES)]
pub struct CompareArgs {
    /// The first period, FROM..TO (e.g. 2024-01-01..2024-06-30).
    #[arg(long, value_name = "RANGE")]
    pub before: String,
    /// The second period, FROM..TO.
    #[arg(long, value_name = "RANGE")]
    pub after: String,
    /// The production environment (default: the config's production environment).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Bootstrap resamples.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub resamples: usize,
    /// Bootstrap seed (same seed, same intervals).
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub out: OutputOpts,
}

const DEMO_EXAMPLES: &str = "\
Examples:
  flowmeter demo                                 # into ./flowmeter-demo/
  flowmeter demo --out /tmp/acme --seed 7        # another organisation, same story
  flowmeter --data flowmeter-demo/store --config flowmeter-demo/flowmeter.toml metrics --by month

The store goes to DIR/store and the config to DIR/flowmeter.toml (the global --data
and --config are not used); pass both to later commands, or they redo the analysis
with another config. Rerunning replaces the demo files in DIR; a non-empty DIR that
the demo did not make is refused.";

#[derive(Debug, Args)]
#[command(after_help = DEMO_EXAMPLES)]
pub struct DemoArgs {
    /// Where to write the repositories, logs, config and store.
    #[arg(long, value_name = "DIR", default_value = "flowmeter-demo")]
    pub out: PathBuf,
    /// The seed: the same seed gives byte-identical repositories, logs and report.
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
    /// A smaller organisation (12 engineers instead of 35) with the same story, for tests.
    #[arg(long)]
    pub small: bool,
}

#[cfg(test)]
#[path = "../tests/it/readme/lines.rs"]
mod readme_lines;

#[cfg(test)]
mod tests {
    use super::readme_lines::{all_shell_lines, parse, Parsed, FLOWMETER_COMMANDS};
    use super::*;

    /// Every flowmeter command in the README and the user guide in docs/
    /// (their ```sh blocks, the `cargo run -- ...` ones, and the
    /// `$ flowmeter ...` lines of their ```text blocks) parses with today's
    /// arguments, so a renamed flag or subcommand fails here, quickly, before
    /// it misleads a reader. `tests/it/readme.rs` runs them.
    #[test]
    fn every_command_in_the_readme_parses() {
        let mut checked = 0;
        for line in all_shell_lines() {
            let at = format!("{}:{}", line.page, line.number);
            let parsed = parse(&line.text).unwrap_or_else(|e| panic!("{at}: {e}: {}", line.text));
            if let Parsed::Flowmeter { args, .. } = parsed {
                let argv = std::iter::once("flowmeter".to_string()).chain(args);
                if let Err(e) = Cli::try_parse_from(argv) {
                    panic!("{at} does not parse: {}\n{e}", line.text);
                }
                checked += 1;
            }
        }
        assert_eq!(
            checked, FLOWMETER_COMMANDS,
            "flowmeter commands in the README and docs/"
        );
    }
}

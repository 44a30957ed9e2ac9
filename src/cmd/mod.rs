//! One module per subcommand.

pub(crate) mod analyze;
mod compare;
mod demo;
pub(crate) mod explain;
pub(crate) mod flow;
pub(crate) mod ingest;
pub(crate) mod init;
pub(crate) mod metrics;
mod report;
mod risk;
mod sql;
mod whatif;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest(args) => ingest::run(&cli.global, args),
        Command::Sql(args) => sql::run(&cli.global, args),
        Command::Init(args) => init::run(&cli.global, args),
        Command::Analyze(args) => analyze::run(&cli.global, args),
        Command::Metrics(args) => metrics::run(&cli.global, args),
        Command::Explain(args) => explain::run(&cli.global, args),
        Command::Risk(args) => risk::run(&cli.global, args),
        Command::Whatif(args) => whatif::run(&cli.global, args),
        Command::Compare(args) => compare::run(&cli.global, args),
        Command::Report(args) => report::run(&cli.global, args),
        Command::Flow(args) => flow::run(&cli.global, args),
        Command::Demo(args) => demo::run(&cli.global, args),
    }
}

/// Prints a status line on stderr unless `--quiet`.
pub(crate) fn status(quiet: bool, msg: impl std::fmt::Display) {
    if !quiet {
        eprintln!("{msg}");
    }
}

//! One module per subcommand.

mod ingest;
mod report;
mod sql;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest(args) => ingest::run(&cli.global, args),
        Command::Sql(args) => sql::run(&cli.global, args),
        Command::Report(args) => report::run(&cli.global, args),
    }
}

/// Prints a status line on stderr unless `--quiet`.
pub(crate) fn status(quiet: bool, msg: impl std::fmt::Display) {
    if !quiet {
        eprintln!("{msg}");
    }
}

//! The `flowmeter` command line. Argument parsing lives in `cli`, each
//! subcommand in `cmd/<name>.rs`; `main` only maps the result to an exit code.

mod cli;
mod cmd;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`flowmeter sql ... | head`) is not an error.
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("Error: {}", output::error_line(&err));
            ExitCode::from(1)
        }
    }
}

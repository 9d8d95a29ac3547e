//! `kaohe`: the command-line entry point. Parses flags, loads settings and hands each command
//! to its module in `commands/`; the work itself lives in the library crates.

mod cli;
mod commands;
mod settings;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

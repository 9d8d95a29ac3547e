//! `kaohe`: the command-line entry point. Parses flags, loads settings and hands each command
//! to its module in `commands/`; the work itself lives in the library crates.

mod cli;
mod commands;
mod settings;
mod sources;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: bulk imports allocate and free millions of small
/// strings, which glibc's allocator serves several times slower (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

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
            eprintln!("error: {}", report(&err));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each said once: many errors already name their cause
/// in their own message (`file.csv: No such file or directory`), which the chain repeats.
fn report(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

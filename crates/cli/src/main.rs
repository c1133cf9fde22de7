//! `wavecrew`: check, show, graph, scaffold and format Markdown implementation plans, run them
//! with parallel AI coding agents, and show their runs.
//!
//! This binary is a thin layer: arguments ([`cli`]), reading files ([`input`]), printing
//! ([`render`], [`progress`]); the work is done by the `plan`, `engine` and `server` crates.

/// `eprintln!` for what a run says while it runs or ends: stderr may be a closed pipe (`| head`),
/// and saying something must never stop the run from finishing its work.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod config;
mod error;
mod input;
mod notify;
mod progress;
mod render;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            // A closed pipe (`wavecrew show plan.md | head`) is not an error worth a word.
            if error.is_broken_pipe() {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "{error}");
            error.exit_code()
        }
    }
}

//! `wavecrew`: check, show, graph, scaffold and format Markdown implementation plans, and
//! (soon) run them with parallel AI coding agents.
//!
//! This binary is a thin layer: arguments ([`cli`]), reading files ([`input`]), printing
//! ([`render`]); the work is done by the `plan` crate.

mod cli;
mod commands;
mod config;
mod error;
mod input;
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

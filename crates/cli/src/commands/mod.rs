//! One module per subcommand: its arguments and its `run` function.

pub mod check;
pub mod fmt;
pub mod graph;
pub mod new;
pub mod schema;
pub mod show;

use crate::cli::{Cli, Command};
use crate::error::CliError;
use std::process::ExitCode;

/// What every command may need besides its own arguments.
pub struct Context {
    pub color: bool,
}

pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let ctx = Context { color: cli.color.enabled() };
    match cli.command {
        Command::Check(args) => check::run(&ctx, &args),
        Command::Show(args) => show::run(&ctx, &args),
        Command::Graph(args) => graph::run(&ctx, &args),
        Command::New(args) => new::run(&ctx, &args),
        Command::Fmt(args) => fmt::run(&ctx, &args),
        Command::Schema(args) => schema::run(&ctx, &args),
    }
}

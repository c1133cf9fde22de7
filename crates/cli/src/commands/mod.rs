//! One module per subcommand: its arguments and its `run` function.

pub mod agent_double;
pub mod agents;
pub mod check;
pub mod completions;
pub mod demo;
pub mod fmt;
pub mod gaps;
pub mod graph;
pub mod import;
pub mod man;
pub mod mcp;
pub mod new;
pub mod plan;
mod repo_facts;
pub mod run;
pub mod runs;
pub mod schema;
pub mod serve;
pub mod ship;
pub mod show;
pub mod worker;

use crate::cli::{Cli, Command};
use crate::error::CliError;
use std::process::ExitCode;

/// Writes a file a command produced (`new -o`, `gaps -o`, `plan -o`), its folder made when
/// missing: never over an existing one unless `force`; errors name the file and the way out.
pub fn write_new_file(path: &std::path::Path, force: bool, text: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true)
    } else {
        options.create_new(true)
    };
    let shown = path.display();
    // `plans/M3.plan.md` where there is no `plans/` yet: made, as a person would expect.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| {
            CliError::io(format!("error: could not make the folder `{}`: {error}", parent.display()))
        })?;
    }
    let mut file = options.open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => CliError::io(format!("error: `{shown}` already exists"))
            .with_hint("pick another name, or pass --force to overwrite it"),
        _ => CliError::io(format!("error: could not create `{shown}`: {error}")),
    })?;
    file.write_all(text.as_bytes()).map_err(|error| CliError::io(format!("error: could not write `{shown}`: {error}")))
}

/// The top of the git work tree that holds `dir`, if it is in one.
pub fn work_tree_top(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    engine::git::Git::new(dir).run_blocking(&["rev-parse", "--show-toplevel"]).ok().map(std::path::PathBuf::from)
}

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
        Command::Import(args) => import::run(&ctx, &args),
        Command::Plan(args) => plan::run(&ctx, &args),
        Command::Schema(args) => schema::run(&ctx, &args),
        Command::Run(args) => run::run(&ctx, &args),
        Command::Resume(args) => run::resume(&ctx, &args),
        Command::Runs(args) => runs::runs(&ctx, &args),
        Command::Status(args) => runs::status(&ctx, &args),
        Command::Logs(args) => runs::logs(&ctx, &args),
        Command::Cancel(args) => runs::cancel(&ctx, &args),
        Command::Approve(args) => runs::approve(&ctx, &args),
        Command::Reject(args) => runs::reject(&ctx, &args),
        Command::Decide(args) => runs::decide(&ctx, &args),
        Command::Report(args) => runs::report(&ctx, &args),
        Command::Gaps(args) => gaps::run(&ctx, &args),
        Command::Ship(args) => ship::run(&ctx, &args),
        Command::Demo(args) => demo::run(&ctx, &args),
        Command::Agents(args) => agents::run(&ctx, &args),
        Command::Serve(args) => serve::run(&ctx, &args),
        Command::Completions(args) => completions::run(&ctx, &args),
        Command::Man(args) => man::run(&ctx, &args),
        Command::Mcp(args) => mcp::run(&ctx, &args),
        Command::AgentDouble(args) => agent_double::run(&ctx, &args),
        Command::Worker(args) => worker::run(&ctx, &args),
    }
}

pub use engine::report::ellipsize;

#[cfg(test)]
mod tests {
    #[test]
    fn ellipsize_counts_characters() {
        assert_eq!(super::ellipsize("short", 10), "short");
        assert_eq!(super::ellipsize("exactly10!", 10), "exactly10!");
        assert_eq!(super::ellipsize("ééééééééééé", 10), "ééééééééé…");
    }
}

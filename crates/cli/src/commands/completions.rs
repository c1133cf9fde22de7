//! `wavecrew completions SHELL`: the shell's completion script for every subcommand and flag,
//! generated from the same definitions as `--help` (clap_complete).

use super::Context;
use crate::error::CliError;
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Install it where your shell looks for completions, e.g.:
  bash: mkdir -p ~/.local/share/bash-completion/completions
        wavecrew completions bash > ~/.local/share/bash-completion/completions/wavecrew
  zsh:  mkdir -p ~/.zfunc && wavecrew completions zsh > ~/.zfunc/_wavecrew
        (and `fpath+=~/.zfunc` before `compinit` in ~/.zshrc)
  fish: mkdir -p ~/.config/fish/completions
        wavecrew completions fish > ~/.config/fish/completions/wavecrew.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(_ctx: &Context, args: &CompletionsArgs) -> Result<ExitCode, CliError> {
    let mut command = visible_command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "wavecrew", &mut out);
    Ok(ExitCode::SUCCESS)
}

/// The command line as `--help` shows it: given the whole one, clap_complete would also offer
/// the hidden subcommands (`agent-double`, `worker`), which wavecrew starts and no one types.
fn visible_command() -> clap::Command {
    let full = crate::cli::Cli::command();
    let visible: Vec<clap::Command> = full.get_subcommands().filter(|s| !s.is_hide_set()).cloned().collect();
    let mut command =
        clap::Command::new("wavecrew").version(env!("CARGO_PKG_VERSION")).args(full.get_arguments().cloned());
    if let Some(about) = full.get_about() {
        command = command.about(about.clone());
    }
    command.subcommands(visible)
}

//! `wavecrew man`: the manual page in roff, generated from the same definitions as `--help`
//! (clap_mangen): `wavecrew(1)` on stdout, or with `--out DIR` one page per subcommand too.

use super::Context;
use crate::error::CliError;
use clap::{Args, CommandFactory};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Read it with `wavecrew man | man -l -`, or install the pages beside the program:
  wavecrew man --out ~/.cargo/share/man/man1
then `man wavecrew`, `man wavecrew-run` find them (man-db looks there when ~/.cargo/bin is on PATH).")]
pub struct ManArgs {
    /// Write `wavecrew.1` and a page per subcommand (`wavecrew-run.1`, ...) into DIR, which is
    /// made if missing, instead of printing `wavecrew.1`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(_ctx: &Context, args: &ManArgs) -> Result<ExitCode, CliError> {
    // No page for `help` (as `generate_to` does): `wavecrew.1` must not list one.
    let command = crate::cli::Cli::command().disable_help_subcommand(true);
    let Some(dir) = &args.out else {
        clap_mangen::Man::new(command).render(&mut std::io::stdout().lock())?;
        return Ok(ExitCode::SUCCESS);
    };
    let failed = |e: std::io::Error| {
        CliError::io(format!("error: could not write the manual pages into `{}`: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    clap_mangen::generate_to(command, dir).map_err(failed)?;
    eprintln!("wrote wavecrew.1 and a page per subcommand (wavecrew-run.1, ...) into {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

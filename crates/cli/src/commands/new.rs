//! `wavecrew new TITLE --milestone M4`: scaffold a plan from the template.

use super::Context;
use crate::error::CliError;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The plan's title, e.g. "Rooms".
    pub title: String,

    /// The milestone id, used as the commit scope, e.g. `M4`.
    #[arg(long, short)]
    pub milestone: String,

    /// Number of waves; with two or more, the last one holds the quality gates.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub waves: u32,

    /// Write the plan to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(_ctx: &Context, args: &NewArgs) -> Result<ExitCode, CliError> {
    let milestone = args.milestone.trim();
    if milestone.is_empty() || milestone.contains(char::is_whitespace) {
        return Err(CliError::io(format!("error: milestone id `{milestone}` must be one word, e.g. `M4`")));
    }
    let text = plan::scaffold(&plan::ScaffoldOptions {
        milestone: milestone.to_owned(),
        title: args.title.clone(),
        waves: args.waves,
    });
    let Some(path) = &args.output else {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    };
    super::write_new_file(path, args.force, &text)?;
    let shown = path.display().to_string();
    eprintln!("wrote {shown}: fill in every {{...}}, then run `wavecrew check {}`", shell_words::quote(&shown));
    Ok(ExitCode::SUCCESS)
}

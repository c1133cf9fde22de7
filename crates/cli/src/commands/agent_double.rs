//! `wavecrew agent-double --script FILE` (hidden): the scripted agent, a test double that
//! stands in for a real agent CLI. The engine starts it like any agent, in the lane's worktree,
//! with `WAVECREW_TASK`, `WAVECREW_ATTEMPT` and `WAVECREW_ROLE` set.

use super::Context;
use crate::error::CliError;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct AgentDoubleArgs {
    /// The script (JSON: steps per task and attempt).
    #[arg(long, value_name = "FILE")]
    pub script: PathBuf,
}

pub fn run(_ctx: &Context, args: &AgentDoubleArgs) -> Result<ExitCode, CliError> {
    let text = std::fs::read_to_string(&args.script)
        .map_err(|e| CliError::io(format!("error: script `{}`: {e}", args.script.display())))?;
    let script: engine::double::Script = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("error: script `{}`: {e}", args.script.display())))?;
    let task = std::env::var("WAVECREW_TASK").map_err(|_| CliError::usage("error: WAVECREW_TASK is not set"))?;
    let attempt = std::env::var("WAVECREW_ATTEMPT").ok().and_then(|a| a.parse().ok()).unwrap_or(1);
    let role = std::env::var("WAVECREW_ROLE").unwrap_or_else(|_| "task".into());
    let dir = std::env::current_dir().map_err(|e| CliError::io(format!("error: {e}")))?;
    let code =
        engine::double::play(&script, &task, &role, attempt, &dir).map_err(|e| CliError::io(format!("error: {e}")))?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

//! `wavecrew schema`: the JSON Schema of `wavecrew show --json`.

use super::Context;
use crate::error::CliError;
use clap::Args;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct SchemaArgs {}

pub fn run(_ctx: &Context, _args: &SchemaArgs) -> Result<ExitCode, CliError> {
    let schema = schemars::schema_for!(plan::Plan);
    let text = serde_json::to_string_pretty(&schema).map_err(|e| CliError::io(format!("error: {e}")))?;
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(ExitCode::SUCCESS)
}

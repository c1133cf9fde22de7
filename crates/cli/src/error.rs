//! The CLI's one error type: a message, an optional hint, and the exit code it maps to.

use std::fmt;
use std::process::ExitCode;

/// Exit codes, as `docs/plan-format.md` documents them.
pub mod exit {
    /// Everything went well.
    pub const OK: u8 = 0;
    /// The plans have errors (or warnings under `--deny warnings`), or `fmt --check` found changes.
    pub const FINDINGS: u8 = 1;
    /// An input could not be read, or an output could not be written.
    pub const IO: u8 = 2;
}

/// An error that stops a command.
#[derive(Debug)]
pub struct CliError {
    message: String,
    hint: Option<String>,
    code: u8,
    broken_pipe: bool,
}

impl CliError {
    /// An input or output failure (exit code 2).
    pub fn io(message: impl Into<String>) -> Self {
        Self { message: message.into(), hint: None, code: exit::IO, broken_pipe: false }
    }

    /// A request that cannot be carried out as given: bad arguments, a repository in the wrong
    /// state (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::io(message)
    }

    /// The work was done and found problems (exit code 1).
    pub fn findings(message: impl Into<String>) -> Self {
        Self { code: exit::FINDINGS, ..Self::io(message) }
    }

    /// Says why first: `error: WHY: MESSAGE`.
    pub fn with_reason(mut self, why: &str) -> Self {
        self.message = format!("error: {why}: {}", self.message.strip_prefix("error: ").unwrap_or(&self.message));
        self
    }

    /// Adds a `hint:` line saying what to do.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl From<std::io::Error> for CliError {
    /// Failing to write to stdout: a closed pipe ends quietly, anything else is an I/O error.
    fn from(error: std::io::Error) -> Self {
        let broken_pipe = error.kind() == std::io::ErrorKind::BrokenPipe;
        Self { broken_pipe, ..Self::io(format!("error: could not write output: {error}")) }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

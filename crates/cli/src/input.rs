//! Reading plan files: every way it can fail becomes one clear line naming the file.

use crate::error::CliError;
use std::path::{Path, PathBuf};

/// Plans are written by people; anything larger is a mistake (or an attack), not a plan.
pub const MAX_PLAN_BYTES: u64 = 16 * 1024 * 1024;

/// A plan file's bytes, as read.
pub struct PlanFile {
    /// The path as the user gave it, for messages.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl PlanFile {
    /// Reads `path`, refusing directories, special files and files over [`MAX_PLAN_BYTES`].
    pub fn read(path: &Path) -> Result<Self, CliError> {
        let shown = path.display();
        let metadata = std::fs::metadata(path).map_err(|error| {
            let error = match error.kind() {
                std::io::ErrorKind::NotFound => CliError::io(format!("error: `{shown}`: no such file")),
                _ => CliError::io(format!("error: `{shown}`: {error}")),
            };
            error.with_hint("pass the path of a plan file, e.g. `examples/wordfreq.plan.md`")
        })?;
        if metadata.is_dir() {
            return Err(CliError::io(format!("error: `{shown}` is a directory, not a plan file"))
                .with_hint(format!("pass the plan files inside it, e.g. `{}/*.plan.md`", shown)));
        }
        if metadata.len() > MAX_PLAN_BYTES {
            return Err(CliError::io(format!(
                "error: `{shown}` is {} MiB; plans are limited to {} MiB",
                metadata.len() / (1024 * 1024),
                MAX_PLAN_BYTES / (1024 * 1024)
            ))
            .with_hint("split the milestone into several plans"));
        }
        let bytes = read_capped(path).map_err(|error| CliError::io(format!("error: `{shown}`: {error}")))?;
        Ok(Self { path: path.to_owned(), bytes })
    }

    /// The milestone id the file name gives, for plans without a title.
    pub fn fallback_id(&self) -> String {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        plan::milestone_from_file_name(&name)
    }

    pub fn display(&self) -> String {
        self.path.display().to_string()
    }
}

/// Reads at most one byte more than the limit, so a file that grows (or a FIFO) cannot
/// make us hold more than that in memory.
fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_PLAN_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than the {} MiB limit for plans",
            MAX_PLAN_BYTES / (1024 * 1024)
        )));
    }
    Ok(bytes)
}

/// Reads, decodes and parses a plan for commands that show it (`show`, `graph`).
pub fn load_plan(path: &Path) -> Result<plan::Parsed, CliError> {
    let file = PlanFile::read(path)?;
    let decoded = plan::decode(&file.bytes).map_err(|diagnostic| {
        CliError::io(format!("error: `{}`: {}", file.display(), diagnostic.message))
            .with_hint(diagnostic.help.unwrap_or_default())
    })?;
    Ok(plan::parse(decoded.text, &file.fallback_id()))
}

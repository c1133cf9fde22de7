//! `wavecrew import FILE... [-o OUT]`: another tool's plan in wavecrew's format.
//!
//! The conversion is `import::import`, a pure function; this command reads the files, checks
//! the plan it made (`plan::parse`: a plan with errors is a bug and is not written), writes it
//! to OUT through a temporary file renamed into place (never over an existing file without
//! `--force`), and prints what could not be mapped.

use super::Context;
use crate::error::CliError;
use crate::render::{self, FileReport};
use clap::Args;
use import::{ImportError, Options, Source};
use plan::Severity;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The files to import: task-master's `tasks.json` (tagged or legacy), the `*-PLAN.md` files
    /// of a GSD phase (several plans make one milestone plan), or spec-kit's `tasks.md`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Write the plan to OUT instead of standard output.
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// The plan's milestone id, e.g. `M4` (default: task-master's tag, or `M1` for `master`; a
    /// GSD phase, e.g. `03-features`; spec-kit's feature folder, e.g. `002-photo-albums`).
    #[arg(long, short)]
    pub milestone: Option<String>,

    /// task-master: the tag to import (default: `master`, or the file's only tag).
    #[arg(long)]
    pub tag: Option<String>,

    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Context, args: &ImportArgs) -> Result<ExitCode, CliError> {
    let mut texts = Vec::new();
    for path in &args.files {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| CliError::io(format!("error: could not read `{shown}`: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            CliError::io(format!(
                "error: `{shown}` is not UTF-8 text (byte {} is not): not a plan `wavecrew import` knows",
                e.utf8_error().valid_up_to()
            ))
            .with_hint("pass task-master's tasks.json, GSD's *-PLAN.md files or spec-kit's tasks.md")
        })?;
        texts.push((path.display().to_string(), text));
    }
    let sources: Vec<Source<'_>> = texts.iter().map(|(name, text)| Source { name, text }).collect();
    let options = Options { milestone: args.milestone.clone(), tag: args.tag.clone() };
    let imported = import::import(&sources, &options).map_err(import_error)?;

    let shown = args.output.as_ref().map_or_else(|| "<stdout>".to_owned(), |p| p.display().to_string());
    let parsed = plan::parse(&imported.text, &imported.milestone);
    let report = FileReport::new(shown.clone(), imported.text.clone(), parsed.diagnostics, false);
    if report.count(Severity::Error) > 0 {
        let renderer =
            if ctx.color { annotate_snippets::Renderer::styled() } else { annotate_snippets::Renderer::plain() };
        for diagnostic in report.diagnostics.iter().filter(|d| d.severity() == Severity::Error) {
            eprintln!("{}\n", render::human(&report, diagnostic, &renderer));
        }
        return Err(CliError::io(
            "error: the imported plan has errors (a bug of `wavecrew import`): nothing was written",
        )
        .with_hint("please report it with the file you imported"));
    }

    match &args.output {
        Some(path) => write_atomically(path, args.force, &imported.text)?,
        None => std::io::stdout().lock().write_all(imported.text.as_bytes())?,
    }
    let files: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
    eprintln!(
        "imported {} ({}): {} task(s) in {} wave(s), milestone {}",
        files.join(", "),
        imported.format,
        parsed.plan.tasks.len(),
        parsed.plan.waves.len(),
        imported.milestone
    );
    for note in &imported.unmapped {
        eprintln!("note: {note}");
    }
    eprintln!("{}", render::summary(&report, "no problems found"));
    if let Some(path) = &args.output
        && report.diagnostics.iter().any(|d| d.severity() != Severity::Info)
    {
        eprintln!("`wavecrew check {}` shows them", shell_words::quote(&path.display().to_string()));
    }
    Ok(ExitCode::SUCCESS)
}

/// A dependency cycle is a finding about the file (exit 1, as `check`'s); the rest mean it
/// could not be read as a plan (exit 2).
fn import_error(error: ImportError) -> CliError {
    let hint = error.hint();
    let message = match error.code() {
        Some(code) => format!("error[{code}]: {error}"),
        None => format!("error: {error}"),
    };
    let cli = match error {
        ImportError::Cycle { .. } => CliError::findings(message),
        _ => CliError::io(message),
    };
    cli.with_hint(hint)
}

/// Writes `text` to a temporary file beside `path`, then renames it into place: a reader
/// never sees half a plan, and an existing file is replaced only with `force`.
fn write_atomically(path: &Path, force: bool, text: &str) -> Result<(), CliError> {
    let shown = path.display();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !force && path.exists() {
        return Err(CliError::io(format!("error: `{shown}` already exists"))
            .with_hint("pick another name, or pass --force to overwrite it"));
    }
    let mut file = tempfile::Builder::new()
        .prefix(".wavecrew-import-")
        .tempfile_in(dir)
        .map_err(|e| CliError::io(format!("error: could not create a file in `{}`: {e}", dir.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| CliError::io(format!("error: could not write `{shown}`: {e}")))?;
    // A temporary file is private (0600); a plan is an ordinary file of the repository.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o777);
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| CliError::io(format!("error: could not write `{shown}`: {e}")))?;
    }
    let persisted = if force { file.persist(path) } else { file.persist_noclobber(path) };
    persisted.map(drop).map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists => CliError::io(format!("error: `{shown}` already exists"))
            .with_hint("pick another name, or pass --force to overwrite it"),
        _ => CliError::io(format!("error: could not write `{shown}`: {}", e.error)),
    })
}

//! `wavecrew check PLAN...`: report every problem of each plan.

use super::Context;
use crate::error::{CliError, exit};
use crate::input::PlanFile;
use crate::render::{self, FileReport};
use annotate_snippets::Renderer;
use clap::{Args, ValueEnum};
use plan::{Code, Severity};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Plan files to check.
    #[arg(required = true, value_name = "PLAN")]
    pub plans: Vec<PathBuf>,

    /// Output format: `human` (like rustc), `json` (one array), `sarif` (2.1.0).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Treat a class of diagnostics as errors: `--deny warnings`.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub deny: Vec<Deny>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    Warnings,
}

/// Exit 0 without errors, 1 with errors, 2 when a file could not be read or decoded (which wins).
pub fn run(ctx: &Context, args: &CheckArgs) -> Result<ExitCode, CliError> {
    let deny_warnings = args.deny.contains(&Deny::Warnings);
    let mut reports = Vec::new();
    let mut unreadable = false;
    for path in &args.plans {
        match PlanFile::read(path) {
            Ok(file) => reports.push(check_file(&file, deny_warnings)),
            Err(error) => {
                unreadable = true;
                eprintln!("{error}");
            }
        }
    }

    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Human => {
            let renderer = if ctx.color { Renderer::styled() } else { Renderer::plain() };
            for report in &reports {
                for diagnostic in &report.diagnostics {
                    writeln!(out, "{}\n", render::human(report, diagnostic, &renderer))?;
                }
                writeln!(out, "{}", render::summary(report, "no problems found"))?;
            }
        }
        Format::Json => writeln!(out, "{}", render::json(&reports))?,
        Format::Sarif => writeln!(out, "{}", render::sarif(&reports))?,
    }

    // A file that is not UTF-8 could not be read as a plan: that is exit 2, like a missing file.
    let undecodable = reports.iter().any(|r| r.diagnostics.iter().any(|d| d.code == Code::InvalidEncoding));
    let errors = reports.iter().any(|r| r.count(Severity::Error) > 0);
    let code = if unreadable || undecodable {
        exit::IO
    } else if errors {
        exit::FINDINGS
    } else {
        exit::OK
    };
    Ok(ExitCode::from(code))
}

/// Decodes and parses one file; an encoding problem is the file's only diagnostic.
/// Where a plan's repository skills are: the top of the git work tree holding the plan file,
/// else the file's folder.
fn skills_root(plan: &std::path::Path) -> std::path::PathBuf {
    let dir = match plan.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    super::work_tree_top(&dir).unwrap_or(dir)
}

pub fn check_file(file: &PlanFile, deny_warnings: bool) -> FileReport {
    let bytes = file.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&file.bytes);
    match plan::decode(&file.bytes) {
        Ok(decoded) => {
            let parsed = plan::parse(decoded.text, &file.fallback_id());
            let mut diagnostics = parsed.diagnostics;
            // Only a plan that names skills needs its repository looked up (a `git` process).
            if parsed.plan.tasks.iter().any(|t| !t.skills.is_empty()) {
                let root = skills_root(&file.path);
                diagnostics
                    .extend(plan::unknown_skills(&parsed.plan, |name| engine::skills::text(&root, name).is_some()));
                diagnostics.sort_by_key(|d| (d.span.start, d.span.end, d.code));
            }
            FileReport::new(file.display(), decoded.text.to_owned(), diagnostics, deny_warnings)
        }
        Err(diagnostic) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            FileReport::new(file.display(), text, vec![*diagnostic], deny_warnings)
        }
    }
}

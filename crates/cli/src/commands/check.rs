//! `wavecrew check PLAN...`: report every problem of each plan.

use super::Context;
use crate::error::{CliError, exit};
use crate::input::PlanFile;
use crate::render::{self, FileReport};
use annotate_snippets::Renderer;
use clap::{Args, ValueEnum};
use plan::{Code, Severity};
use std::io::Write;
use std::path::{Path, PathBuf};
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

    /// Check the plans against the git work tree at DIR: scripts, make targets, packages, test
    /// paths and programs the commands need, key files, files to create or edit. By default the
    /// work tree holding each plan file, if any.
    #[arg(long, value_name = "DIR", conflicts_with = "no_repo")]
    pub repo: Option<PathBuf>,

    /// Skip the repository-aware checks.
    #[arg(long)]
    pub no_repo: bool,
}

/// Which repository a plan is checked against, besides its own text.
#[derive(Clone, Copy, Debug)]
pub enum Repo<'a> {
    /// None: only the plan's text (and its skills).
    Off,
    /// The git work tree holding the plan file, if there is one.
    OfPlan,
    /// This work tree.
    At(&'a Path),
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
    let top;
    let repo = match (&args.repo, args.no_repo) {
        (_, true) => Repo::Off,
        (Some(dir), false) => {
            top = super::work_tree_top(dir).ok_or_else(|| {
                CliError::io(format!(
                    "error: --repo `{}` is not in a git work tree; pass the repository's folder, or --no-repo",
                    dir.display()
                ))
            })?;
            Repo::At(&top)
        }
        (None, false) => Repo::OfPlan,
    };
    let mut reports = Vec::new();
    let mut unreadable = false;
    for path in &args.plans {
        match PlanFile::read(path) {
            Ok(file) => reports.push(check_file(&file, deny_warnings, repo)),
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

/// The folder holding a plan file (`.` for a bare file name).
fn folder_of(plan: &Path) -> PathBuf {
    match plan.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Decodes and parses one file, and checks it against `repo`; an encoding problem is the
/// file's only diagnostic.
pub fn check_file(file: &PlanFile, deny_warnings: bool, repo: Repo) -> FileReport {
    let bytes = file.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&file.bytes);
    match plan::decode(&file.bytes) {
        Ok(decoded) => {
            let parsed = plan::parse(decoded.text, &file.fallback_id());
            let mut diagnostics = parsed.diagnostics;
            let names_skills = parsed.plan.tasks.iter().any(|t| !t.skills.is_empty());
            // The work tree is looked up (a `git` process) only when something needs it.
            let top = match repo {
                Repo::Off if !names_skills => None,
                Repo::At(top) => Some(top.to_owned()),
                Repo::Off | Repo::OfPlan => super::work_tree_top(&folder_of(&file.path)),
            };
            if names_skills {
                // Skills are looked up in the plan's work tree, else next to the plan.
                let root = top.clone().unwrap_or_else(|| folder_of(&file.path));
                diagnostics
                    .extend(plan::unknown_skills(&parsed.plan, |name| engine::skills::text(&root, name).is_some()));
            }
            let facts = match repo {
                Repo::Off => None,
                _ => top.as_deref().and_then(|top| super::repo_facts::gather(top, &parsed.plan)),
            };
            if let Some(facts) = facts {
                diagnostics.extend(plan::repo_checks(&parsed.plan, &facts));
            }
            diagnostics.sort_by_key(|d| (d.span.start, d.span.end, d.code));
            FileReport::new(file.display(), decoded.text.to_owned(), diagnostics, deny_warnings)
        }
        Err(diagnostic) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            FileReport::new(file.display(), text, vec![*diagnostic], deny_warnings)
        }
    }
}

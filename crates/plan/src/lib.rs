//! `plan`: read, check and format wavecrew's Markdown implementation plans.
//!
//! A plan is Markdown written by people (see `docs/plan-format.md`). This crate turns it into a
//! typed [`Plan`] with a [`Span`] on every element, reports [`Diagnostic`]s with the stable
//! codes of the format's contract, works out the task [`Schedule`], and formats plans
//! ([`format()`]). It does no I/O and never panics on any input.
//!
//! ```
//! let text = "# M1 Implementation Plan: Demo\n\n## Waves\n\n### Wave 1: Only\n> No dependencies.\n\n\
//!             **Task 1.1** (type: auto)\n- **Files**: `src/a.rs`\n- **Action**: Write a\n\
//!             - **Verify**: `cargo test`\n- **Done**: a works\n";
//! let parsed = plan::parse(text, "demo");
//! assert_eq!(parsed.plan.milestone, "M1");
//! assert_eq!(parsed.plan.tasks[0].verify_commands[0].value, "cargo test");
//! assert!(!parsed.has_errors());
//! ```

mod command;
mod diagnostic;
mod format;
mod model;
mod parse;
mod repo;
mod scaffold;
mod schedule;
mod span;
pub mod text;
mod validate;

pub use command::{LongRunning, long_running};
pub use diagnostic::{Code, Diagnostic, Fix, Severity};
pub use format::format;
pub use model::*;
pub use repo::{RepoFacts, make_targets, programs_needed, repo_checks};
pub use scaffold::{ScaffoldOptions, scaffold};
pub use schedule::{Lane, Schedule};
pub use span::{LineIndex, Position, Span, Spanned};

/// A plan and what was found while reading it.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The model, built even when the plan has errors.
    pub plan: Plan,
    /// Every diagnostic, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity() == Severity::Error)
    }
}

/// Parses and checks `text`. `fallback_id` is the milestone id when the plan's title lacks one
/// (callers pass the file name through [`milestone_from_file_name`]).
pub fn parse(text: &str, fallback_id: &str) -> Parsed {
    let (mut plan, doc) = parse::parse_document(text, fallback_id);
    let mut diagnostics = doc.diagnostics;
    let schedule = Schedule::new(&plan);
    for task in &mut plan.tasks {
        task.model = schedule.model_of(task.id).map(str::to_owned);
    }
    diagnostics.extend(validate::validate(&plan, &schedule));
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end, d.code));
    Parsed { plan, diagnostics }
}

/// `unknown-skill` warnings for every **Skill** that `known` does not know, in source order.
///
/// Which skills exist depends on the repository (`.claude/skills/<name>/SKILL.md`,
/// `.wavecrew/skills/<name>.md`) and on the runner's built-in ones, so the caller, which can
/// look, says; this crate reads no files.
pub fn unknown_skills(plan: &Plan, known: impl Fn(&str) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for task in &plan.tasks {
        for skill in task.skills.iter().filter(|s| !known(&s.value)) {
            out.push(
                Diagnostic::new(
                    Code::UnknownSkill,
                    skill.span,
                    format!("task {} names the skill `{}`, which wavecrew does not know", task.id, skill.value),
                )
                .with_label("no such skill")
                .with_help(format!(
                    "use a built-in skill (`production-engineer`, `security-auditor`), or define it in \
                     `.claude/skills/{0}/SKILL.md` or `.wavecrew/skills/{0}.md`",
                    skill.value
                )),
            );
        }
    }
    out
}

/// A plan file's text after decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The text, without its byte-order mark.
    pub text: &'a str,
    /// Whether the file began with a UTF-8 byte-order mark (kept by `fmt`).
    pub bom: bool,
}

/// Decodes a plan file: UTF-8 with or without BOM. Anything else, or a NUL byte (a binary file),
/// is an `invalid-encoding` diagnostic: its message gives the byte offset in the file, its span
/// the offset in the text after the BOM (as every other span).
pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>, Box<Diagnostic>> {
    let (body, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(body) => (body, true),
        None => (bytes, false),
    };
    let skipped = bytes.len() - body.len();
    let invalid = |at: usize, message: String, help: &str| {
        Box::new(Diagnostic::new(Code::InvalidEncoding, Span::new(at, at + 1), message).with_help(help))
    };
    let text = std::str::from_utf8(body).map_err(|error| {
        let at = error.valid_up_to();
        let offset = skipped + at;
        let message = format!("byte {offset} (0x{:02X}) is not UTF-8", bytes[offset]);
        if body.contains(&0) {
            invalid(at, message, "this looks like a binary file; pass a Markdown plan file")
        } else {
            invalid(at, message, "save the plan as UTF-8; if it is Windows-1252 or Latin-1 text, `iconv -f windows-1252 -t utf-8` converts it")
        }
    })?;
    if let Some(nul) = text.find('\0') {
        let message = format!("byte {} is NUL: this looks like a binary file, not a plan", skipped + nul);
        return Err(invalid(nul, message, "pass a Markdown plan file"));
    }
    Ok(Decoded { text, bom })
}

/// Whether two tasks' Files may name a common file: equal entries, a glob matching the other
/// entry (or its text: `tests/*.ts` covers `tests/*.test.ts`), or a directory (`src/`) holding it.
/// The executor uses it to keep such tasks from running at the same time.
pub fn files_overlap(a: &[Spanned<String>], b: &[Spanned<String>]) -> bool {
    a.iter().any(|x| b.iter().any(|y| validate::entries_overlap(x, y)))
}

/// Whether a task's Files name `path`: the same entry, or a directory or glob holding it.
pub fn files_name(files: &[Spanned<String>], path: &str) -> bool {
    files.iter().any(|entry| validate::entries_overlap(entry, path))
}

/// The milestone id a file name gives: `M4.plan.md` → `M4`, `rooms.md` → `rooms`.
pub fn milestone_from_file_name(name: &str) -> String {
    let stem = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = stem.strip_suffix(".md").or_else(|| stem.strip_suffix(".markdown")).unwrap_or(stem);
    let stem = stem.strip_suffix(".plan").unwrap_or(stem);
    if stem.is_empty() { "plan".to_owned() } else { stem.to_owned() }
}

//! Diagnostics: what `check` reports, with a stable code, a severity, a span and a fix.
//!
//! The codes and their severities are the contract of `PLAN_FORMAT.md`; [`Code::ALL`] lists
//! them, and each code documents itself ([`Code::summary`]) for `--format sarif` rule tables.

use crate::span::Span;
use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a check.
    Info,
    /// Probably a mistake; fails a check only under `--deny warnings`.
    Warning,
    /// The plan cannot be run as written.
    Error,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! codes {
    ($($variant:ident => $name:literal, $severity:ident, $summary:literal;)*) => {
        /// A diagnostic code of `PLAN_FORMAT.md`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in the order `PLAN_FORMAT.md` introduces them.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable kebab-case name, e.g. `duplicate-task`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name),* }
            }

            /// The severity this code always has.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity),* }
            }

            /// One sentence saying what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary),* }
            }

            /// The code named `name`, if there is one.
            pub fn from_name(name: &str) -> Option<Code> {
                match name { $($name => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    InvalidEncoding => "invalid-encoding", Error, "The file is not UTF-8 text.";
    MissingTitle => "missing-title", Warning, "The plan does not open with `# <id> Implementation Plan: <title>`.";
    UnknownSection => "unknown-section", Info, "A heading that wavecrew does not know; its content is kept but not run.";
    DuplicateSection => "duplicate-section", Error, "A known section appears twice.";
    MissingWaves => "missing-waves", Error, "The plan has no `## Waves` section.";
    MissingSection => "missing-section", Warning, "An optional section is missing.";
    OrphanArtifact => "orphan-artifact", Warning, "A must_haves artifact is not in any task's Files.";
    DuplicateWave => "duplicate-wave", Error, "Two waves have the same number.";
    UnknownWave => "unknown-wave", Error, "A wave depends on a wave that does not exist.";
    DependencyCycle => "dependency-cycle", Error, "Waves depend on each other in a cycle.";
    ImplicitDependency => "implicit-dependency", Warning, "A wave does not say what it depends on, so it waits for the previous wave.";
    TaskWaveMismatch => "task-wave-mismatch", Error, "A task's id names another wave than the one it is written in.";
    DuplicateTask => "duplicate-task", Error, "Two tasks have the same id.";
    UnknownTaskType => "unknown-task-type", Error, "A task has a type that wavecrew does not know.";
    BadAttempts => "bad-attempts", Error, "A task's **Attempts** is not `<N>` or `<N> parallel` with N from 1 to 8.";
    UnknownField => "unknown-field", Warning, "A task has a field that wavecrew does not know; it is kept.";
    DuplicateField => "duplicate-field", Error, "A task has the same field twice.";
    VagueFiles => "vague-files", Warning, "An auto task's Files is prose instead of paths, so it cannot be locked.";
    PathOutsideRepo => "path-outside-repo", Error, "A path is absolute or leaves the repository.";
    LongRunningVerify => "long-running-verify", Warning, "A Verify or Automated command does not exit by itself (a dev server, a watch mode).";
    MissingField => "missing-field", Error, "A task lacks a field its type requires.";
    ParallelFileConflict => "parallel-file-conflict", Warning, "Two tasks that may run at the same time list the same file.";
    UnknownTask => "unknown-task", Error, "A task id that no task has.";
    TaskAssignedTwice => "task-assigned-twice", Error, "A task is on two Agent Strategy rows.";
    AgentWaveMismatch => "agent-wave-mismatch", Error, "An Agent Strategy row names another wave than its task's.";
    UnassignedTask => "unassigned-task", Warning, "A task is on no Agent Strategy row, so it gets the default agent.";
    OrphanCommitLine => "orphan-commit-line", Warning, "A Commit Strategy line names no task, so no commit uses it.";
    BadCommitLine => "bad-commit-line", Error, "A Commit Strategy line is not a conventional commit.";
    DefaultCommit => "default-commit", Info, "An auto task has no Commit Strategy line, so it gets the default message.";
    UnfilledPlaceholder => "unfilled-placeholder", Warning, "A `{...}` placeholder of the template is still there.";
    Mojibake => "mojibake", Warning, "UTF-8 text that was once decoded as Windows-1252.";
    UnknownSkill => "unknown-skill", Warning, "A task names a skill that is neither built in nor defined in the repository; a run refuses it.";
    UnrunnableCommand => "unrunnable-command", Warning, "A Verify or Automated command cannot run in this repository: a missing package script, make target, Cargo package, test path or program.";
    DanglingKeyLink => "dangling-key-link", Warning, "A key_link names a file that is neither an artifact, nor in a task's Files, nor in the repository.";
    FileStateMismatch => "file-state-mismatch", Info, "A task says to create a file that already exists, or to edit one that does not.";
}

impl Code {
    /// Whether only the repository-aware checks ([`crate::repo_checks`]) report this code.
    pub fn needs_repository(self) -> bool {
        matches!(self, Code::UnrunnableCommand | Code::DanglingKeyLink | Code::FileStateMismatch)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A replacement of the text at `span`, which a tool may apply without asking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// The text to replace.
    pub span: Span,
    /// What to put there.
    pub replacement: String,
}

/// One finding about a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// A sentence saying what is wrong, naming the element.
    pub message: String,
    /// The text the finding is about.
    pub span: Span,
    /// A short label shown under the span.
    pub label: Option<String>,
    /// How to fix it, in words.
    pub help: Option<String>,
    /// A mechanical fix, when there is one.
    pub fix: Option<Fix>,
    /// Other places that explain the finding (e.g. the first definition of a duplicate).
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A diagnostic with `code` about `span`.
    pub fn new(code: Code, span: impl Into<Span>, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            span: span.into(),
            label: None,
            help: None,
            fix: None,
            related: Vec::new(),
        }
    }

    /// The severity of the diagnostic's code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Sets the label shown under the span.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets a mechanical fix.
    pub fn with_fix(mut self, span: impl Into<Span>, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix { span: span.into(), replacement: replacement.into() });
        self
    }

    /// Adds a related place.
    pub fn with_related(mut self, span: impl Into<Span>, label: impl Into<String>) -> Self {
        self.related.push((span.into(), label.into()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_round_trip_and_are_kebab_case() {
        for &code in Code::ALL {
            assert_eq!(Code::from_name(code.as_str()), Some(code));
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{code}");
        }
        // The 31 codes of PLAN_FORMAT.md, and four that need the repository to tell:
        // `unknown-skill` and the repository checks (`Code::needs_repository`).
        assert_eq!(Code::ALL.len(), 35);
    }
}

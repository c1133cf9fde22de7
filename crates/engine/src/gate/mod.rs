//! Quality gates: the checks of a `checkpoint:gate` task, run by wavecrew itself.
//!
//! A gate's verdict comes from evidence wavecrew gathers on the run branch, never from an
//! agent's word. Each skill is a set of checks:
//!
//! - **`production-engineer`**: runs the task's Verify commands and the plan's Verification /
//!   Automated commands; reads test counts from the JUnit XML files they wrote or from their
//!   summary lines, type errors from type-checker output, and coverage from the lcov or
//!   Cobertura reports they wrote, as coverage of the lines the run added or changed, against
//!   the threshold of the task's Done (or `[gates] coverage`).
//! - **`security-auditor`**: scans the files the run changed for secrets and dangerous code,
//!   and audits dependencies when the ecosystem's tool is installed; then the gate's agent
//!   reviews the change against ten principles and the OWASP Top 10 for Agentic Applications.
//! - **a skill the repository defines** (`.claude/skills/<name>/SKILL.md`,
//!   `.wavecrew/skills/<name>.md`, not a built-in name): runs the task's Verify commands as
//!   `production-engineer` does (without a coverage bar); then the gate's agent reviews the
//!   change by the skill's text and lists its findings.
//!
//! A review is the agent's answer in JSON ([`evidence::review`]): a `FAIL` that cites a line
//! that exists at the checked commit is a finding (check `review`) like any other; a `FAIL`
//! without one is a note ("FAIL without valid evidence"), and `PASS` is only counted. A missing
//! or unreadable answer is a finding that says what was wrong. The verdict still comes from
//! what wavecrew can check.
//!
//! The fix loop around the checks (hand the findings to the agent, commit its fix, check
//! again) and the review's agent are in [`task`]; the production and security checks in
//! `checks`, the review's prompt and reading of its answer in `review`.

use crate::events::{GateCheck, GateFinding, GateMetric, GateVerdict};
use crate::process;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// The built-in gate skills wavecrew can check.
pub const SKILLS: &[&str] = &["production-engineer", "security-auditor"];

pub use crate::layout::{ANSWER_DIR, is_answer_scratch};
pub use crate::prompt::{DIFF_EXCERPT_BYTES, fence_for, prompt_excerpt};
pub use review::{ReviewPrompt, parse_review};

mod checks;
mod review;
pub(crate) mod task;

pub(crate) use checks::Observe;
pub(crate) use review::change_and_answer;

/// What wavecrew checks for a gate's skill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateSkill {
    /// `production-engineer`: commands, test counts, type errors, coverage of changed lines.
    ProductionEngineer,
    /// `security-auditor`: secrets, dangerous patterns, dependency audits, then the agent's
    /// security review.
    SecurityAuditor,
    /// A skill the repository defines: the task's Verify commands, then the agent's review.
    Repository,
}

/// The JSON shape a review answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewShape {
    /// Every principle and every ASI threat: [`evidence::review::parse_security`].
    Security,
    /// A list of findings: [`evidence::review::parse_findings`].
    Findings,
}

impl GateSkill {
    /// What wavecrew checks for skill `name` in the repository at `root`: a built-in skill's
    /// checks (even when the repository gives it another text: that changes only what the
    /// agent reads), or a repository skill's. `None` for a skill wavecrew cannot check.
    pub fn of(root: &Path, name: &str) -> Option<GateSkill> {
        match name {
            "production-engineer" => Some(GateSkill::ProductionEngineer),
            "security-auditor" => Some(GateSkill::SecurityAuditor),
            _ if crate::skills::built_in(name).is_some() => None,
            _ => crate::skills::from_repository(root, name).map(|_| GateSkill::Repository),
        }
    }

    /// The review the gate's agent answers after the checks, if the skill has one.
    pub fn review(self) -> Option<ReviewShape> {
        match self {
            GateSkill::ProductionEngineer => None,
            GateSkill::SecurityAuditor => Some(ReviewShape::Security),
            GateSkill::Repository => Some(ReviewShape::Findings),
        }
    }
}

/// What a gate's checks found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    /// What is wrong; none means not red.
    pub findings: Vec<GateFinding>,
    /// What was measured, with its source.
    pub metrics: Vec<GateMetric>,
    /// What could not be checked, and why (a missing tool), where the gate's Done does not ask
    /// for it: shown, but not a finding.
    pub notes: Vec<String>,
    /// What the gate's Done asks for that could not be checked, and why (an audit that did not
    /// run, coverage without a report): without findings, the gate is unverified and needs a
    /// person; never green.
    pub unverified: Vec<String>,
}

impl Verdict {
    /// Whether the checks found nothing wrong (the gate is green, or unverified).
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    /// Green, red, or unverified.
    pub fn state(&self) -> GateVerdict {
        GateVerdict::of(self.passed(), &self.unverified)
    }

    fn find(&mut self, check: GateCheck, message: impl Into<String>, location: Option<String>) {
        self.findings.push(GateFinding { check, message: message.into(), location });
    }

    fn measure(&mut self, name: &str, value: f64, unit: &str, source: impl Into<String>) {
        self.metrics.push(GateMetric { name: name.to_owned(), value, unit: unit.to_owned(), source: source.into() });
    }

    /// The findings as the next round's agent reads them.
    pub fn for_agent(&self) -> String {
        let mut out = String::from("The quality gate is red. wavecrew found:\n");
        for finding in &self.findings {
            let place = finding.location.as_deref().map(|l| format!(" at {l}")).unwrap_or_default();
            out.push_str(&format!("\n- [{}]{place}: {}", finding.check, finding.message));
        }
        out
    }
}

/// Where and how to run a gate's checks.
pub struct Checks<'a> {
    /// A worktree with the run branch's head checked out.
    pub worktree: &'a Path,
    /// The commit the run started from: the run's changes are `base..head`.
    pub base: &'a str,
    /// The run branch's head.
    pub head: &'a str,
    /// The commands to run: the task's Verify commands, then the plan's Automated ones.
    pub commands: Vec<String>,
    /// Required coverage of the changed lines, in percent.
    pub coverage_threshold: Option<f64>,
    /// The gate's Done: what it asks for (tests that pass, no vulnerability). What it asks
    /// for and the checks cannot check makes the gate unverified, not green.
    pub done: &'a str,
    /// Time each command gets.
    pub timeout: Duration,
    /// Where the commands' logs go: `<prefix>-<n>.log`.
    pub log_prefix: PathBuf,
    /// Set when the run is cancelled.
    pub cancel: watch::Receiver<bool>,
    /// Variables of the lane the commands run for (its own `CARGO_TARGET_DIR`), and the
    /// sandbox's `TMPDIR`.
    pub env: Vec<(String, String)>,
    /// The sandbox the commands run in, when the run's is on.
    pub sandbox: Option<crate::sandbox::Rules>,
    /// What the sandbox refused the commands, by command index (`<prefix>-<n>.log`).
    pub denied: std::sync::Mutex<Vec<(usize, crate::sandbox::Denial)>>,
}

/// Runs the checks of `skill` (the deterministic ones: its review is the engine's, with an
/// agent). For a [`GateSkill::Repository`] skill, `checks.commands` are the task's Verify
/// commands.
pub async fn check(skill: GateSkill, checks: &Checks<'_>) -> Result<Verdict, crate::error::EngineError> {
    match skill {
        GateSkill::ProductionEngineer => checks::production_engineer(checks).await,
        GateSkill::SecurityAuditor => checks::security_auditor(checks).await,
        GateSkill::Repository => repository_skill(checks).await,
    }
}

/// A repository skill's checks: the task's Verify commands, read as `production-engineer`
/// reads them (test counts, type errors, JUnit reports); no coverage bar.
async fn repository_skill(checks: &Checks<'_>) -> Result<Verdict, crate::error::EngineError> {
    if checks.commands.is_empty() {
        let mut verdict = Verdict::default();
        verdict.find(
            GateCheck::Command,
            "nothing to run: the task's Verify has no backticked command, and a repository skill's checks are its Verify commands",
            None,
        );
        return Ok(verdict);
    }
    checks::production_engineer(checks).await
}

/// A command's output, read back from its log.
pub(crate) struct Ran {
    pub(crate) command: String,
    pub(crate) outcome: process::Outcome,
    pub(crate) output: String,
}

pub(crate) async fn run_command(
    checks: &Checks<'_>,
    index: usize,
    command: &str,
) -> Result<Ran, crate::error::EngineError> {
    let log = PathBuf::from(format!("{}-{}.log", checks.log_prefix.display(), index + 1));
    let mut spec = process::Spec::shell(command, checks.worktree, checks.env.clone(), checks.timeout, log.clone());
    spec.sandbox = checks.sandbox.clone();
    let outcome = process::run(&spec, |_| {}, |_| {}, checks.cancel.clone()).await?;
    if let Some(rules) = &checks.sandbox {
        let denials =
            crate::sandbox::denials(&outcome.refusals, rules, checks.worktree, crate::sandbox::user_may_write);
        let mut denied = checks.denied.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        denied.extend(denials.into_iter().map(|denial| (index + 1, denial)));
    }
    let output = tokio::fs::read(&log).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    Ok(Ran { command: command.to_owned(), outcome, output })
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_repositorys_own_skills_are_repository_gates() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(GateSkill::of(root, "security-auditor"), Some(GateSkill::SecurityAuditor));
        assert_eq!(GateSkill::of(root, "house-style"), None);
        std::fs::create_dir_all(root.join(".claude/skills/house-style")).unwrap();
        std::fs::write(root.join(".claude/skills/house-style/SKILL.md"), "Tabs, never spaces.").unwrap();
        assert_eq!(GateSkill::of(root, "house-style"), Some(GateSkill::Repository));
        std::fs::create_dir_all(root.join(".claude/skills/security-auditor")).unwrap();
        std::fs::write(root.join(".claude/skills/security-auditor/SKILL.md"), "ours").unwrap();
        assert_eq!(GateSkill::of(root, "security-auditor"), Some(GateSkill::SecurityAuditor), "built-in checks stay");
        assert!(is_answer_scratch(Path::new(".wavecrew/review/2.1-1-x.json")));
        assert!(!is_answer_scratch(Path::new(".wavecrew/skills/x.md")));
    }
}

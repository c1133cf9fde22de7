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
//!   and audits dependencies when the ecosystem's tool is installed.
//!
//! The fix loop around the checks (hand the findings to the agent, commit its fix, check
//! again) is in [`crate::run`].

use crate::events::{GateFinding, GateMetric};
use crate::git::Git;
use crate::process;
use evidence::coverage::Coverage;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// The gate skills wavecrew can check.
pub const SKILLS: &[&str] = &["production-engineer", "security-auditor"];

/// What a gate's checks found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    /// What is wrong; none means green.
    pub findings: Vec<GateFinding>,
    /// What was measured, with its source.
    pub metrics: Vec<GateMetric>,
    /// What could not be checked, and why (a missing tool): shown, but not a finding.
    pub notes: Vec<String>,
}

impl Verdict {
    /// Whether the gate is green.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    fn find(&mut self, check: &str, message: impl Into<String>, location: Option<String>) {
        self.findings.push(GateFinding { check: check.to_owned(), message: message.into(), location });
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
    /// Time each command gets.
    pub timeout: Duration,
    /// Where the commands' logs go: `<prefix>-<n>.log`.
    pub log_prefix: PathBuf,
    /// Set when the run is cancelled.
    pub cancel: watch::Receiver<bool>,
}

/// Runs the checks of `skill`. `None` when wavecrew has no checks for that skill.
pub async fn check(skill: &str, checks: &Checks<'_>) -> Result<Option<Verdict>, crate::run::EngineError> {
    Ok(Some(match skill {
        "production-engineer" => production_engineer(checks).await?,
        "security-auditor" => security_auditor(checks).await?,
        _ => return Ok(None),
    }))
}

/// A command's output, read back from its log.
struct Ran {
    command: String,
    outcome: process::Outcome,
    output: String,
}

async fn run_command(checks: &Checks<'_>, index: usize, command: &str) -> Result<Ran, crate::run::EngineError> {
    let log = PathBuf::from(format!("{}-{}.log", checks.log_prefix.display(), index + 1));
    let spec = process::Spec {
        program: PathBuf::from("sh"),
        args: vec!["-c".into(), command.to_owned()],
        env: Vec::new(),
        inherit: None,
        cwd: checks.worktree.to_owned(),
        timeout: checks.timeout,
        log: log.clone(),
    };
    let outcome = process::run(&spec, |_| {}, |_| {}, checks.cancel.clone()).await?;
    let output = tokio::fs::read(&log).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    Ok(Ran { command: command.to_owned(), outcome, output })
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

async fn production_engineer(checks: &Checks<'_>) -> Result<Verdict, crate::run::EngineError> {
    let mut verdict = Verdict::default();
    if checks.commands.is_empty() {
        verdict.find(
            "command",
            "nothing to run: the task's Verify has no backticked command and the plan has no Verification / Automated commands, so the gate cannot be green",
            None,
        );
        return Ok(verdict);
    }
    // Reports older than this are left over from before: only fresh ones count.
    let started = SystemTime::now() - Duration::from_secs(1);
    let mut failed_tests = 0;
    let mut counted = false;
    for (index, command) in checks.commands.iter().enumerate() {
        let ran = run_command(checks, index, command).await?;
        if ran.outcome.cancelled {
            return Err(crate::run::EngineError::Cancelled);
        }
        if let Some(report) = evidence::results::parse_summary(&ran.output) {
            counted = true;
            failed_tests += report.counts.failed;
            verdict.measure(
                "failed tests",
                report.counts.failed as f64,
                "",
                format!("{} summary of `{}`", report.source, ran.command),
            );
            verdict.measure(
                "passed tests",
                report.counts.passed as f64,
                "",
                format!("{} summary of `{}`", report.source, ran.command),
            );
        }
        if let Some(errors) = evidence::results::type_errors(&ran.output) {
            verdict.measure(
                "type errors",
                errors.errors as f64,
                "",
                format!("{} output of `{}`", errors.source, ran.command),
            );
            if errors.errors > 0 {
                verdict.find("type-check", format!("{} type error(s) from `{}`", errors.errors, ran.command), None);
            }
        }
        if !ran.outcome.success() {
            verdict.find(
                "command",
                format!("`{}` {}; its output ends with:\n{}", ran.command, ran.outcome.ended(), tail(&ran.output, 30)),
                None,
            );
        }
    }

    let reports = fresh_reports(checks.worktree, started);
    for (path, junit) in &reports.junit {
        if let Ok(report) = evidence::results::parse_junit(junit) {
            counted = true;
            failed_tests += report.counts.failed;
            verdict.measure("failed tests", report.counts.failed as f64, "", format!("JUnit XML {path}"));
            for name in report.failures.iter().take(20) {
                verdict.find("tests", format!("test `{name}` failed"), Some(path.clone()));
            }
        }
    }
    if counted && failed_tests > 0 && !verdict.findings.iter().any(|f| f.check == "tests") {
        verdict.find("tests", format!("{failed_tests} test(s) failed"), None);
    }

    let threshold = checks.coverage_threshold;
    let mut coverage: Option<(Coverage, Vec<String>)> = None;
    for (path, text, kind) in &reports.coverage {
        let parsed = match kind {
            CoverageKind::Lcov => evidence::coverage::parse_lcov(text),
            CoverageKind::Cobertura => evidence::coverage::parse_cobertura(text),
        };
        match parsed {
            Ok(parsed) => match &mut coverage {
                Some((all, sources)) => {
                    all.merge(parsed);
                    sources.push(path.clone());
                }
                None => coverage = Some((parsed, vec![path.clone()])),
            },
            Err(error) => verdict.notes.push(format!("{path} is not a coverage report wavecrew can read: {error}")),
        }
    }
    match (coverage, threshold) {
        (Some((coverage, sources)), threshold) => {
            // The run's changed lines are read only when there is coverage to hold them against.
            let diff = Git::new(checks.worktree)
                .run(&["diff", "-U0", "--no-color", "--no-renames", "--no-ext-diff", checks.base, checks.head])
                .await?;
            let changed = evidence::diff::changed_lines(&diff);
            let result = evidence::coverage::changed_coverage(&coverage, &changed);
            let source = sources.join(", ");
            match result.percent() {
                Some(percent) => {
                    verdict.measure("coverage of changed lines", percent, "%", format!("{source}, lines of {}..{}", short(checks.base), short(checks.head)));
                    if let Some(threshold) = threshold.filter(|t| percent + 1e-9 < *t) {
                        let uncovered: Vec<String> =
                            result.uncovered.iter().take(20).map(|(path, line)| format!("{path}:{line}")).collect();
                        verdict.find(
                            "coverage",
                            format!(
                                "{percent:.1}% of the {} coverable lines this run added or changed are covered, {threshold}% required; not covered: {}",
                                result.coverable,
                                uncovered.join(", ")
                            ),
                            result.uncovered.first().map(|(path, line)| format!("{path}:{line}")),
                        );
                    }
                }
                None => verdict.notes.push(format!(
                    "none of the changed lines is coverable according to {source}"
                )),
            }
        }
        (None, Some(threshold)) => verdict.find(
            "coverage",
            format!(
                "{threshold}% coverage of new code is required, but no command wrote an lcov or Cobertura report (e.g. `coverage run -m pytest && coverage lcov`, `c8 --reporter=lcov npm test`, `cargo llvm-cov --lcov --output-path lcov.info`)"
            ),
            None,
        ),
        (None, None) => {}
    }
    Ok(verdict)
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

enum CoverageKind {
    Lcov,
    Cobertura,
}

#[derive(Default)]
struct Reports {
    /// (path relative to the worktree, text)
    junit: Vec<(String, String)>,
    coverage: Vec<(String, String, CoverageKind)>,
}

/// The test and coverage reports written in the worktree since `since`: JUnit XML, lcov and
/// Cobertura XML, found by name and content, ignored folders included (that is where reports
/// go), dependency folders skipped.
fn fresh_reports(worktree: &Path, since: SystemTime) -> Reports {
    const SKIP: &[&str] = &[".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"];
    let mut reports = Reports::default();
    let walker = ignore::WalkBuilder::new(worktree)
        .standard_filters(false)
        .max_depth(Some(6))
        .filter_entry(|entry| !SKIP.iter().any(|skip| entry.file_name() == *skip))
        .build();
    for entry in walker.flatten() {
        let path = entry.path();
        let Ok(metadata) = entry.metadata() else { continue };
        if !metadata.is_file() || metadata.len() > 64 << 20 {
            continue;
        }
        if metadata.modified().map_or(true, |m| m < since) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        let is_lcov =
            name.ends_with(".lcov") || name == "lcov.info" || name.ends_with(".info") && name.contains("lcov");
        if !is_lcov && !name.ends_with(".xml") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let relative = path.strip_prefix(worktree).unwrap_or(path).to_string_lossy().into_owned();
        if is_lcov {
            reports.coverage.push((relative, text, CoverageKind::Lcov));
        } else if text.contains("<coverage") && (text.contains("line-rate") || text.contains("<class")) {
            reports.coverage.push((relative, text, CoverageKind::Cobertura));
        } else if text.contains("<testsuite") || text.contains("<testsuites") {
            reports.junit.push((relative, text));
        }
    }
    reports
}

async fn security_auditor(checks: &Checks<'_>) -> Result<Verdict, crate::run::EngineError> {
    let mut verdict = Verdict::default();
    let git = Git::new(checks.worktree);
    let names =
        git.run(&["diff", "--name-only", "-z", "--diff-filter=AM", "--no-renames", checks.base, checks.head]).await?;
    let mut scanned = 0;
    for path in names.split('\0').filter(|p| !p.is_empty()) {
        let Ok(bytes) = std::fs::read(checks.worktree.join(path)) else { continue };
        if bytes.len() > 4 << 20 || bytes.contains(&0) {
            continue; // binary or huge: not source
        }
        let text = String::from_utf8_lossy(&bytes);
        scanned += 1;
        for finding in evidence::secrets::scan(path, &text) {
            verdict.find(
                "secret",
                format!("{} ({}): {}", finding.message, finding.rule, finding.excerpt),
                Some(format!("{path}:{}", finding.line)),
            );
        }
        for finding in evidence::patterns::scan(path, &text) {
            verdict.find(
                "pattern",
                format!("{} ({}): {}", finding.message, finding.rule, finding.excerpt.trim()),
                Some(format!("{path}:{}", finding.line)),
            );
        }
    }
    verdict.measure(
        "files scanned",
        scanned as f64,
        "",
        format!("files changed in {}..{}", short(checks.base), short(checks.head)),
    );
    dependency_audit(checks, &mut verdict).await?;
    Ok(verdict)
}

/// `cargo audit`, `npm audit` or `pip-audit`, for the ecosystems the worktree has, when the
/// tool is installed. A tool that is missing or cannot reach its advisory database is a note:
/// wavecrew says what it could not check rather than pretend.
async fn dependency_audit(checks: &Checks<'_>, verdict: &mut Verdict) -> Result<(), crate::run::EngineError> {
    let audits: [(&str, &str, &str); 3] = [
        ("Cargo.lock", "cargo-audit", "cargo audit --quiet"),
        ("package-lock.json", "npm", "npm audit --audit-level=high"),
        ("requirements.txt", "pip-audit", "pip-audit -r requirements.txt"),
    ];
    for (index, (lockfile, tool, command)) in audits.into_iter().enumerate() {
        if !checks.worktree.join(lockfile).exists() {
            continue;
        }
        if !on_path(tool) {
            verdict.notes.push(format!("dependencies of {lockfile} not audited: `{tool}` is not installed"));
            continue;
        }
        let ran = run_command(checks, 100 + index, command).await?;
        match ran.outcome.code {
            Some(0) => verdict.measure("vulnerable dependencies", 0.0, "", format!("`{command}`")),
            Some(1) if ran.output.to_ascii_lowercase().contains("vulnerab") => verdict.find(
                "dependency",
                format!("`{command}` reports vulnerable dependencies:\n{}", tail(&ran.output, 20)),
                Some(lockfile.to_owned()),
            ),
            _ => verdict.notes.push(format!(
                "`{command}` could not audit ({}): {}",
                ran.outcome.ended(),
                tail(&ran.output, 3)
            )),
        }
    }
    Ok(())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

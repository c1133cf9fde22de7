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
//! again) and the review's agent are in [`crate::run`].

use crate::events::{GateCheck, GateFinding, GateMetric, GateVerdict};
use crate::git::Git;
use crate::process;
use evidence::coverage::Coverage;
use evidence::review::{Judgement, PRINCIPLES, Review, THREATS};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// The built-in gate skills wavecrew can check.
pub const SKILLS: &[&str] = &["production-engineer", "security-auditor"];

/// Where agents write the answers wavecrew asks for (a gate's review, the truths verifier),
/// relative to their worktree. Never committed: see [`is_answer_scratch`].
pub const ANSWER_DIR: &str = ".wavecrew/review";

/// Whether `path` (relative to a worktree) is an answer file of [`ANSWER_DIR`]: scratch that
/// never goes into a commit.
pub fn is_answer_scratch(path: &Path) -> bool {
    path.starts_with(ANSWER_DIR)
}

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
    /// Variables of the lane the commands run for (its own `CARGO_TARGET_DIR`).
    pub env: Vec<(String, String)>,
}

/// Runs the checks of `skill` (the deterministic ones: its review is the engine's, with an
/// agent). For a [`GateSkill::Repository`] skill, `checks.commands` are the task's Verify
/// commands.
pub async fn check(skill: GateSkill, checks: &Checks<'_>) -> Result<Verdict, crate::run::EngineError> {
    match skill {
        GateSkill::ProductionEngineer => production_engineer(checks).await,
        GateSkill::SecurityAuditor => security_auditor(checks).await,
        GateSkill::Repository => repository_skill(checks).await,
    }
}

/// A repository skill's checks: the task's Verify commands, read as `production-engineer`
/// reads them (test counts, type errors, JUnit reports); no coverage bar.
async fn repository_skill(checks: &Checks<'_>) -> Result<Verdict, crate::run::EngineError> {
    if checks.commands.is_empty() {
        let mut verdict = Verdict::default();
        verdict.find(
            GateCheck::Command,
            "nothing to run: the task's Verify has no backticked command, and a repository skill's checks are its Verify commands",
            None,
        );
        return Ok(verdict);
    }
    production_engineer(checks).await
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
        env: checks.env.clone(),
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
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

async fn production_engineer(checks: &Checks<'_>) -> Result<Verdict, crate::run::EngineError> {
    let mut verdict = Verdict::default();
    if checks.commands.is_empty() {
        verdict.find(
            GateCheck::Command,
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
                verdict.find(
                    GateCheck::TypeCheck,
                    format!("{} type error(s) from `{}`", errors.errors, ran.command),
                    None,
                );
            }
        }
        if !ran.outcome.success() {
            verdict.find(
                GateCheck::Command,
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
                verdict.find(GateCheck::Tests, format!("test `{name}` failed"), Some(path.clone()));
            }
        }
    }
    if counted && failed_tests > 0 && !verdict.findings.iter().any(|f| f.check == GateCheck::Tests) {
        verdict.find(GateCheck::Tests, format!("{failed_tests} test(s) failed"), None);
    }
    if !counted && evidence::expectation::demands_tests(checks.done) {
        verdict.unverified.push(
            "the gate's Done asks that tests pass, but no command printed a test summary wavecrew reads (pytest, unittest, vitest, jest, cargo test, go test, node --test) and none wrote a JUnit XML report".into(),
        );
    }

    let threshold = checks.coverage_threshold;
    let coverage = reports.coverage(&mut verdict.notes);
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
                            GateCheck::Coverage,
                            format!(
                                "{percent:.1}% of the {} coverable lines this run added or changed are covered, {threshold}% required; not covered: {}",
                                result.coverable,
                                uncovered.join(", ")
                            ),
                            result.uncovered.first().map(|(path, line)| format!("{path}:{line}")),
                        );
                    }
                }
                None => {
                    let why = format!(
                        "none of the changed lines is coverable according to {source} (files it has no data for: {})",
                        if result.files_without_data.is_empty() { "none".to_owned() } else { result.files_without_data.join(", ") }
                    );
                    match threshold {
                        // A new module no test loads is in no report: that is not coverage.
                        Some(threshold) => verdict.unverified.push(format!("{threshold}% coverage of new code is required, but {why}")),
                        None => verdict.notes.push(why),
                    }
                }
            }
        }
        (None, Some(threshold)) => verdict.unverified.push(format!(
            "{threshold}% coverage of new code is required, but no command wrote an lcov or Cobertura report (e.g. `coverage run -m pytest && coverage lcov`, `c8 --reporter=lcov npm test`, `vitest run --coverage --coverage.reporter=lcov`, `cargo llvm-cov --lcov --output-path lcov.info`)"
        )),
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

impl Reports {
    /// The coverage reports read and merged, with their paths; a report that cannot be read
    /// is a note.
    fn coverage(&self, notes: &mut Vec<String>) -> Option<(Coverage, Vec<String>)> {
        let mut coverage: Option<(Coverage, Vec<String>)> = None;
        for (path, text, kind) in &self.coverage {
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
                Err(error) => notes.push(format!("{path} is not a coverage report wavecrew can read: {error}")),
            }
        }
        coverage
    }
}

/// Where to look at what a command of the finished run branch showed: for the plan's
/// Automated commands, whose `# comment` wavecrew checks ([`evidence::expectation`]).
pub(crate) struct Observe<'a> {
    /// The worktree the command ran in.
    pub worktree: &'a Path,
    /// The run's change is `base..head`.
    pub base: &'a str,
    /// The checked commit.
    pub head: &'a str,
    /// When the command started: reports older than this are not its own.
    pub since: SystemTime,
}

impl Observe<'_> {
    /// What `command`, which exited 0 and printed `output`, showed: test counts (its summary,
    /// else the JUnit reports it wrote), type errors, and, when an expectation asks for it, the
    /// coverage of the lcov / Cobertura reports it wrote.
    pub async fn command<'o>(
        &self,
        command: &'o str,
        output: &'o str,
        expectations: &[evidence::expectation::Expectation],
    ) -> Result<evidence::expectation::Observed<'o>, crate::run::EngineError> {
        use evidence::expectation::{Expectation, SeenCoverage};
        let wanted = |f: fn(&Expectation) -> bool| expectations.iter().any(f);
        let needs_tests = wanted(|e| matches!(e, Expectation::Tests { .. }));
        let needs_coverage = wanted(|e| matches!(e, Expectation::Coverage { .. }));
        let mut tests = evidence::results::parse_summary(output)
            .map(|report| (report.counts, format!("{} summary", report.source)));
        let reports = if (needs_tests && tests.is_none()) || needs_coverage {
            fresh_reports(self.worktree, self.since)
        } else {
            Reports::default()
        };
        if tests.is_none() {
            for (path, junit) in &reports.junit {
                if let Ok(report) = evidence::results::parse_junit(junit) {
                    let (counts, sources) = tests.get_or_insert_with(Default::default);
                    *counts += report.counts;
                    sources.push_str(&if sources.is_empty() {
                        format!("JUnit XML {path}")
                    } else {
                        format!(", {path}")
                    });
                }
            }
        }
        let mut coverage = None;
        if let Some((report, sources)) = reports.coverage(&mut Vec::new()) {
            let diff = Git::new(self.worktree)
                .run(&["diff", "-U0", "--no-color", "--no-renames", "--no-ext-diff", self.base, self.head])
                .await?;
            let changed = evidence::coverage::changed_coverage(&report, &evidence::diff::changed_lines(&diff));
            coverage = Some(SeenCoverage {
                source: sources.join(", "),
                changed: (changed.covered, changed.coverable),
                total: report.totals(),
                uncovered: changed.uncovered.iter().take(20).map(|(path, line)| format!("{path}:{line}")).collect(),
            });
        }
        Ok(evidence::expectation::Observed {
            command,
            output,
            tests,
            type_errors: evidence::results::type_errors(output),
            coverage,
        })
    }
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
                GateCheck::Secret,
                format!("{} ({}): {}", finding.message, finding.rule, finding.excerpt),
                Some(format!("{path}:{}", finding.line)),
            );
        }
        for finding in evidence::patterns::scan(path, &text) {
            verdict.find(
                GateCheck::Pattern,
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
/// tool is installed. Dependencies that could not be audited (the tool is missing, it cannot
/// reach its advisory database, there is no lockfile it reads) make the gate unverified when
/// its Done asks for an audit ("0 vulnerabilities"), and are a note when it does not:
/// wavecrew says what it could not check rather than pretend.
async fn dependency_audit(checks: &Checks<'_>, verdict: &mut Verdict) -> Result<(), crate::run::EngineError> {
    let demanded = evidence::expectation::demands_audit(checks.done);
    let not_audited = |verdict: &mut Verdict, why: String| {
        if demanded {
            verdict.unverified.push(format!("the gate's Done asks for a dependency audit, but {why}"));
        } else {
            verdict.notes.push(why);
        }
    };
    // npm's audit reads package-lock.json: other lockfiles of package.json are not audited.
    if checks.worktree.join("package.json").exists() && !checks.worktree.join("package-lock.json").exists() {
        let other = ["pnpm-lock.yaml", "yarn.lock", "bun.lockb", "bun.lock"]
            .into_iter()
            .find(|l| checks.worktree.join(l).exists());
        not_audited(verdict, match other {
            Some(lockfile) => format!("the dependencies of package.json were not audited: wavecrew runs `npm audit`, which reads package-lock.json, and this project has {lockfile}"),
            None => "the dependencies of package.json were not audited: there is no package-lock.json for `npm audit` to read".to_owned(),
        });
    }
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
            not_audited(verdict, format!("the dependencies of {lockfile} were not audited: `{tool}` is not installed"));
            continue;
        }
        let ran = run_command(checks, 100 + index, command).await?;
        match ran.outcome.code {
            Some(0) => verdict.measure("vulnerable dependencies", 0.0, "", format!("`{command}`")),
            Some(1) if ran.output.to_ascii_lowercase().contains("vulnerab") => verdict.find(
                GateCheck::Dependency,
                format!("`{command}` reports vulnerable dependencies:\n{}", tail(&ran.output, 20)),
                Some(lockfile.to_owned()),
            ),
            _ => {
                // One line: it is shown in lists (progress, report, the room).
                let last = tail(ran.output.trim(), 3);
                let said: Vec<&str> = last.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
                not_audited(
                    verdict,
                    format!(
                        "`{command}` could not audit the dependencies of {lockfile} ({}): {}",
                        ran.outcome.ended(),
                        said.join(" / ")
                    ),
                )
            }
        }
    }
    Ok(())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Bytes of the run's diff a reviewing agent gets in its prompt; it reads the files for more.
pub const DIFF_EXCERPT_BYTES: usize = 48 * 1024;

/// The first `max_bytes` of `text` (a diff, a command's output; cut at a line), with the lines
/// that hold a secret redacted: a prompt goes to a model provider, and a secret must not.
pub fn prompt_excerpt(text: &str, max_bytes: usize) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut size = 0;
    for line in text.lines() {
        if size + line.len() + 1 > max_bytes {
            break;
        }
        size += line.len() + 1;
        kept.push(line);
    }
    let left = text.lines().count() - kept.len();
    // Only what is kept is scanned: the cut is cheap, a whole large diff is not.
    let secrets: std::collections::HashSet<u32> =
        evidence::secrets::scan("change.diff", &kept.join("\n")).iter().map(|f| f.line).collect();
    let mut out = String::with_capacity(size + 64);
    for (index, line) in kept.iter().enumerate() {
        if secrets.contains(&(index as u32 + 1)) {
            let sign = line.chars().next().filter(|c| matches!(c, '+' | '-' | ' ')).unwrap_or(' ');
            let _ = writeln!(out, "{sign}[wavecrew redacted this line: it holds a secret]");
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    if left > 0 {
        let _ = writeln!(out, "… ({left} more line(s) not shown: read the files)");
    }
    out
}

/// A fence of backticks longer than any run of backticks in `text`.
pub fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// The part of a reviewer's prompt that shows the change (`git diff --stat`, then the diff) and
/// says where the JSON answer goes; the shape follows.
pub(crate) fn change_and_answer(out: &mut String, stat: &str, diff: &str, answer_path: &str) {
    use std::fmt::Write as _;
    let (stat_fence, diff_fence) = (fence_for(stat), fence_for(diff));
    let _ = writeln!(
        out,
        "## The change\n\n{stat_fence}\n{}\n{stat_fence}\n\n{diff_fence}diff\n{diff}{diff_fence}\n",
        stat.trim_end(),
    );
    let _ = writeln!(
        out,
        "## Your answer\n\nWrite this JSON object, and nothing else, to `{answer_path}` (relative to the current \
         directory; make the folder if it is missing):\n"
    );
}

/// What a gate's reviewing agent is told: the change, what the checks found, and the answer
/// wavecrew expects, where.
pub struct ReviewPrompt<'a> {
    /// The plan's milestone id.
    pub milestone: &'a str,
    /// The plan's title.
    pub title: &'a str,
    /// The gate task.
    pub task: &'a plan::Task,
    /// The skill the change is reviewed by.
    pub skill: &'a str,
    /// The skill's text, when the prompt carries it (agents that take a system prompt get it
    /// there).
    pub skill_text: Option<&'a str>,
    /// The shape of the answer.
    pub shape: ReviewShape,
    /// The review round (1: before any fix).
    pub round: u32,
    /// The run's change is `base..head`.
    pub base: &'a str,
    /// The checked commit.
    pub head: &'a str,
    /// `git diff --stat base head`.
    pub stat: &'a str,
    /// The diff, cut and redacted ([`prompt_excerpt`]).
    pub diff: &'a str,
    /// What the skill's checks found this round.
    pub checked: &'a Verdict,
    /// Where the answer goes, relative to the worktree.
    pub answer_path: &'a str,
}

impl ReviewPrompt<'_> {
    /// The prompt.
    pub fn build(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Review of milestone {} as the {} (gate task {}: {}, round {})\n",
            self.milestone,
            self.skill,
            self.task.id,
            self.task.summary(),
            self.round
        );
        let _ = writeln!(
            out,
            "You review the change the run of \"{}\" made: `{}..{}`. The current directory is a git worktree at `{}`. \
             This is a review: do not change any file; write only your answer, as described below. Whatever else you \
             change is discarded.\n",
            self.title,
            short(self.base),
            short(self.head),
            short(self.head)
        );
        let _ = writeln!(
            out,
            "wavecrew does not take a review's word: for each FAIL, cite the places (file and line at this commit) that \
             show it. A FAIL that cites a line that exists becomes a finding the gate's agent must fix; a FAIL without \
             such a place is reported as unproven; PASS and N/A are shown, never trusted.\n"
        );
        if let Some(action) = &self.task.action {
            let _ = writeln!(out, "## The gate\n\n{}\n", action.value.trim());
        }
        if let Some(text) = self.skill_text {
            let _ = writeln!(out, "## Skill: {}\n\n{}\n", self.skill, text.trim_end());
        }
        let _ = writeln!(out, "## What wavecrew's own checks found\n");
        if self.checked.findings.is_empty() && self.checked.notes.is_empty() && self.checked.unverified.is_empty() {
            let _ = writeln!(out, "Nothing.\n");
        } else {
            for finding in &self.checked.findings {
                let place = finding.location.as_deref().map(|l| format!(" at {l}")).unwrap_or_default();
                let first = finding.message.lines().next().unwrap_or_default();
                let _ = writeln!(out, "- [{}]{place}: {first}", finding.check);
            }
            for why in &self.checked.unverified {
                let _ = writeln!(out, "- not checked: {why}");
            }
            for note in &self.checked.notes {
                let _ = writeln!(out, "- note: {note}");
            }
            let _ = writeln!(out);
        }
        change_and_answer(&mut out, self.stat, self.diff, self.answer_path);
        match self.shape {
            ReviewShape::Security => {
                out.push_str(
                    "```json\n{\"principles\": [{\"principle\": \"P1\", \"verdict\": \"PASS\", \"message\": \"what you checked\", \"evidence\": []},\n\
                     \x20               {\"principle\": \"P2\", \"verdict\": \"FAIL\", \"message\": \"what is wrong\", \"evidence\": [{\"file\": \"src/app.py\", \"line\": 12}]}],\n\
                     \x20\"threats\": [{\"threat\": \"ASI01\", \"verdict\": \"N/A\", \"message\": \"why it does not apply\", \"evidence\": []}]}\n```\n\n",
                );
                let _ = writeln!(out, "One entry for each of the ten principles:\n");
                for (id, name) in PRINCIPLES {
                    let _ = writeln!(out, "- {id} {name}");
                }
                let _ = writeln!(out, "\nand one for each threat of the OWASP Top 10 for Agentic Applications:\n");
                for (id, name) in THREATS {
                    let _ = writeln!(out, "- {id} {name}");
                }
                let _ = writeln!(
                    out,
                    "\n`verdict` is PASS, FAIL or N/A (the principle or threat does not apply to this change)."
                );
            }
            ReviewShape::Findings => {
                out.push_str(
                    "```json\n{\"findings\": [{\"verdict\": \"FAIL\", \"message\": \"what is wrong and what to do\", \"evidence\": [{\"file\": \"src/app.py\", \"line\": 12}]}]}\n```\n\n",
                );
                let _ = writeln!(
                    out,
                    "One entry for each problem the skill's rules find in the change (`verdict` FAIL), and if you like \
                     for what you checked and found right (PASS); `\"findings\": []` when there is nothing to report."
                );
            }
        }
        let _ = writeln!(
            out,
            "`message` says what you found; `evidence` lists places as {{\"file\": path relative to the current directory, \
             \"line\": 1-based line at this commit}}."
        );
        out
    }
}

/// Reads a review's answer in `shape`.
pub fn parse_review(shape: ReviewShape, text: &str) -> Result<Review, evidence::review::AnswerError> {
    match shape {
        ReviewShape::Security => evidence::review::parse_security(text),
        ReviewShape::Findings => evidence::review::parse_findings(text),
    }
}

impl Verdict {
    /// Adds what the agent's review of `skill` showed: a finding (check `review`, at the place)
    /// for each FAIL with evidence that holds, a note for each FAIL without, and a note with the
    /// agent's verdicts counted.
    pub fn add_review(&mut self, skill: &str, judged: Judgement) {
        for finding in judged.findings {
            self.find(GateCheck::Review, finding.message, Some(finding.location));
        }
        self.notes.extend(judged.without_evidence);
        self.notes.push(format!("the agent's {skill} review (its word, not evidence): {}", judged.summary));
    }

    /// Adds a review that gave no usable answer, with `why`: a finding, for the answer is part
    /// of the gate's checks.
    pub fn add_unanswered_review(&mut self, why: &str) {
        self.find(
            GateCheck::Review,
            format!(
                "{}\n(Nothing to fix in the code for this finding: the next round's review writes its answer again, exactly in the shape its prompt gives.)",
                why.trim_end()
            ),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_excerpt_is_cut_at_a_line_and_hides_secrets() {
        let diff =
            "+++ b/settings.py\n+DEBUG = False\n+GITHUB_TOKEN = \"ghp_R4nd0mL00k1ngT0k3nV4lu3F0rT3st1ng9Z\"\n+x = 1\n";
        let excerpt = prompt_excerpt(diff, 1000);
        assert!(!excerpt.contains("ghp_"), "{excerpt}");
        assert!(excerpt.contains("+[wavecrew redacted this line: it holds a secret]\n+x = 1\n"), "{excerpt}");
        let cut = prompt_excerpt(diff, 35);
        assert_eq!(cut, "+++ b/settings.py\n+DEBUG = False\n… (2 more line(s) not shown: read the files)\n");
        assert_eq!(fence_for("a ```` b"), "`````");
        assert_eq!(fence_for(""), "```");
    }

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

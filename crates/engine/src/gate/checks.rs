//! The deterministic checks of the built-in gate skills: `production-engineer` (commands, test
//! counts, type errors, coverage of the changed lines from fresh reports) and
//! `security-auditor` (secrets and dangerous code in the changed files, dependency audits).
//! [`Observe`] reads what a command showed, for the gates and for the run's Verification.

use super::{Checks, Verdict, run_command, tail};
use crate::error::EngineError;
use crate::events::GateCheck;
use crate::git::Git;
use evidence::coverage::Coverage;
use std::path::Path;
use std::time::{Duration, SystemTime};

pub(super) async fn production_engineer(checks: &Checks<'_>) -> Result<Verdict, EngineError> {
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
            return Err(EngineError::Cancelled);
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

pub(super) fn short(commit: &str) -> &str {
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
    ) -> Result<evidence::expectation::Observed<'o>, EngineError> {
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

pub(super) async fn security_auditor(checks: &Checks<'_>) -> Result<Verdict, EngineError> {
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
async fn dependency_audit(checks: &Checks<'_>, verdict: &mut Verdict) -> Result<(), EngineError> {
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

//! Test counts from JUnit XML and from the summary lines test runners print, and type-check
//! error counts from the output of type checkers.
//!
//! A gate must not take an agent's word that "all tests pass": the engine runs the task's Verify
//! commands itself and hands their output (or the JUnit file they wrote) to these functions.
//!
//! - [`parse_junit`] reads a JUnit XML report (pytest `--junitxml`, cargo-nextest's JUnit
//!   output, jest-junit, vitest's `junit` reporter, Maven Surefire, go-junit-report, …).
//! - [`parse_summary`] finds the summary of cargo test, cargo-nextest, pytest, vitest, jest,
//!   go test, node's test runner and Python's unittest in console output. It returns `None` when it finds none:
//!   no summary is never read as "0 tests".
//! - [`type_errors`] counts the errors reported by tsc (and vue-tsc), svelte-check, cargo
//!   check/build/clippy, mypy and pyright.
//!
//! Colour codes are stripped before reading, so output captured from a terminal (or from tools
//! forced to colour, as in CI) reads the same as plain output.
//!
//! ```
//! use evidence::results::{parse_summary, Source};
//!
//! let output = "running 3 tests\n...\ntest result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n";
//! let report = parse_summary(output).unwrap();
//! assert_eq!(report.source, Source::CargoTest);
//! assert_eq!((report.counts.passed, report.counts.failed), (2, 1));
//! assert!(parse_summary("Compiling app v0.1.0\nerror[E0425]: cannot find value `x`").is_none());
//! ```

use std::borrow::Cow;
use std::fmt;
use std::ops::AddAssign;
use std::sync::LazyLock;

use regex::Regex;

/// How many failed test names a [`TestReport`] keeps at most. The counts are always complete.
pub const MAX_FAILURE_NAMES: usize = 50;

/// How many tests passed, failed and were skipped.
///
/// `failed` includes tests that ended in an error rather than a failed assertion (JUnit
/// `<error>`, pytest's `error`, nextest's `timed out` and `exec failed`, node's `cancelled`):
/// for a gate, a test that did not pass is a failure whatever the reason. `skipped` includes
/// ignored, todo and expected-failure (`xfailed`) tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct TestCounts {
    /// Tests that ran and passed (including flaky tests that passed on a retry, and pytest's
    /// `xpassed`).
    pub passed: u64,
    /// Tests that ran and failed or errored.
    pub failed: u64,
    /// Tests that did not run: skipped, ignored, todo, or expected to fail.
    pub skipped: u64,
}

impl TestCounts {
    /// All tests counted: passed, failed and skipped.
    pub fn total(&self) -> u64 {
        self.passed.saturating_add(self.failed).saturating_add(self.skipped)
    }
}

impl AddAssign for TestCounts {
    fn add_assign(&mut self, other: TestCounts) {
        self.passed = self.passed.saturating_add(other.passed);
        self.failed = self.failed.saturating_add(other.failed);
        self.skipped = self.skipped.saturating_add(other.skipped);
    }
}

/// Which report format the counts were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A JUnit XML report ([`parse_junit`]).
    #[serde(rename = "junit")]
    JUnit,
    /// `cargo test` (libtest's `test result:` lines).
    CargoTest,
    /// `cargo nextest run` (its `Summary` line).
    Nextest,
    /// pytest (its final `N passed, M failed in 0.12s` line).
    Pytest,
    /// vitest (its `Tests  1 failed | 3 passed (4)` line).
    Vitest,
    /// jest (its `Tests:       1 failed, 5 passed, 6 total` line).
    Jest,
    /// `go test` (its `--- PASS:` / `--- FAIL:` lines, or its `ok` / `FAIL` package lines).
    GoTest,
    /// `node --test` (its `# pass 3` TAP or `ℹ pass 3` spec-reporter lines; other TAP producers
    /// such as tape print the same lines).
    NodeTest,
    /// Python's unittest (`Ran 3 tests in 0.001s`, then `OK` or `FAILED (failures=1)`).
    Unittest,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::JUnit => "JUnit XML",
            Source::CargoTest => "cargo test",
            Source::Nextest => "cargo nextest",
            Source::Pytest => "pytest",
            Source::Vitest => "vitest",
            Source::Jest => "jest",
            Source::GoTest => "go test",
            Source::NodeTest => "node --test",
            Source::Unittest => "unittest",
        })
    }
}

/// The test results found in a report or in console output.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TestReport {
    /// How many tests passed, failed and were skipped.
    pub counts: TestCounts,
    /// The format recognised. When console output holds the summaries of several runners (a
    /// Verify command running `cargo test && npm test`), their counts are added up and this is
    /// the runner that contributed the most tests (the earliest in the output on a tie).
    pub source: Source,
    /// The names of failed tests, when the format gives them, in order of appearance, without
    /// duplicates, at most [`MAX_FAILURE_NAMES`].
    pub failures: Vec<String>,
}

/// Failed test names, without duplicates and at most [`MAX_FAILURE_NAMES`] of them.
#[derive(Default)]
struct Names(Vec<String>);

impl Names {
    fn push(&mut self, name: &str) {
        let name = name.trim();
        if !name.is_empty() && self.0.len() < MAX_FAILURE_NAMES && !self.0.iter().any(|n| n == name) {
            self.0.push(name.to_owned());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JUnit XML
// ---------------------------------------------------------------------------------------------

/// Why a JUnit XML report could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JunitError {
    /// The text is not well-formed XML (the message names the position).
    Xml(String),
    /// The XML is well-formed but its root is neither `<testsuites>` nor `<testsuite>`.
    UnexpectedRoot {
        /// The root element found.
        found: String,
    },
    /// A count attribute (`tests`, `failures`, `errors`, `skipped`, `disabled`) that is not a
    /// non-negative integer.
    BadCount {
        /// The element carrying the attribute.
        element: String,
        /// The attribute's name.
        attribute: String,
        /// The attribute's value.
        value: String,
        /// The 1-based line of the element in the XML text.
        line: u32,
    },
}

impl fmt::Display for JunitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JunitError::Xml(message) => write!(f, "JUnit report is not well-formed XML: {message}"),
            JunitError::UnexpectedRoot { found } => {
                write!(f, "not a JUnit report: the root element is <{found}>, expected <testsuites> or <testsuite>")
            }
            JunitError::BadCount { element, attribute, value, line } => {
                write!(f, "JUnit report line {line}: <{element}> has {attribute}={value:?}, expected a whole number")
            }
        }
    }
}

impl std::error::Error for JunitError {}

/// Reads a JUnit XML report.
///
/// Both root forms are accepted: `<testsuites>` holding `<testsuite>`s (pytest since 5.1,
/// nextest, jest-junit, vitest) and a lone `<testsuite>` (older pytest, Maven Surefire). Suites
/// may nest.
///
/// When the report lists `<testcase>` elements, they are counted one by one: a test case with a
/// `<failure>` or `<error>` child failed, one with a `<skipped>` child was skipped (pytest writes
/// `xfail` this way too), any other passed (nextest's `<flakyFailure>` marks a test that failed,
/// then passed on a retry). Failed test names are `classname::name` (or `name` alone when there
/// is no class name).
///
/// A report without test cases is counted from the suites' attributes: the root
/// `<testsuites>`'s own `tests`, `failures`, `errors` and `skipped` (or `disabled`) when it has
/// a `tests` attribute, else the sum over the outermost `<testsuite>`s that have one.
///
/// ```
/// let xml = r#"<testsuites><testsuite name="pytest" tests="2" failures="1" errors="0" skipped="0">
///   <testcase classname="tests.test_cart" name="test_total" time="0.001"/>
///   <testcase classname="tests.test_cart" name="test_discount" time="0.002"><failure message="assert 90 == 85"/></testcase>
/// </testsuite></testsuites>"#;
/// let report = evidence::results::parse_junit(xml).unwrap();
/// assert_eq!((report.counts.passed, report.counts.failed), (1, 1));
/// assert_eq!(report.failures, ["tests.test_cart::test_discount"]);
/// ```
pub fn parse_junit(xml: &str) -> Result<TestReport, JunitError> {
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..roxmltree::ParsingOptions::default() };
    let doc = roxmltree::Document::parse_with_options(xml, options).map_err(|e| JunitError::Xml(e.to_string()))?;
    let root = doc.root_element();
    let root_name = root.tag_name().name();
    if root_name != "testsuites" && root_name != "testsuite" {
        return Err(JunitError::UnexpectedRoot { found: root_name.to_owned() });
    }

    let mut counts = TestCounts::default();
    let mut names = Names::default();
    let mut cases = root.descendants().filter(|n| n.has_tag_name("testcase")).peekable();
    if cases.peek().is_some() {
        for case in cases {
            let child_named = |tags: &[&str]| case.children().any(|c| tags.contains(&c.tag_name().name()));
            if child_named(&["failure", "error"]) {
                counts.failed += 1;
                names.push(&junit_case_name(case));
            } else if child_named(&["skipped"]) {
                counts.skipped += 1;
            } else {
                counts.passed += 1;
            }
        }
    } else if root_name == "testsuites" && root.has_attribute("tests") {
        counts = suite_counts(&doc, root)?;
    } else {
        counts = nested_suite_counts(&doc, root)?;
    }
    Ok(TestReport { counts, source: Source::JUnit, failures: names.0 })
}

/// The display name of a `<testcase>`: `classname::name`.
fn junit_case_name(case: roxmltree::Node) -> String {
    let name = case.attribute("name").unwrap_or("(unnamed)");
    match case.attribute("classname").filter(|c| !c.is_empty()) {
        Some(class) => format!("{class}::{name}"),
        None => name.to_owned(),
    }
}

/// Sums the counts of `node` when it is a suite with a `tests` attribute, or else of the suites
/// below it.
fn nested_suite_counts(doc: &roxmltree::Document, node: roxmltree::Node) -> Result<TestCounts, JunitError> {
    if node.has_tag_name("testsuite") && node.has_attribute("tests") {
        return suite_counts(doc, node);
    }
    let mut counts = TestCounts::default();
    for child in node.children().filter(|n| n.has_tag_name("testsuite")) {
        counts += nested_suite_counts(doc, child)?;
    }
    Ok(counts)
}

/// The counts a `<testsuites>` or `<testsuite>` element states in its attributes.
fn suite_counts(doc: &roxmltree::Document, node: roxmltree::Node) -> Result<TestCounts, JunitError> {
    let count = |attribute: &str| -> Result<Option<u64>, JunitError> {
        let Some(value) = node.attribute(attribute) else { return Ok(None) };
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        value.parse::<u64>().map(Some).map_err(|_| JunitError::BadCount {
            element: node.tag_name().name().to_owned(),
            attribute: attribute.to_owned(),
            value: value.to_owned(),
            line: doc.text_pos_at(node.range().start).row,
        })
    };
    let tests = count("tests")?.unwrap_or(0);
    let failed = count("failures")?.unwrap_or(0).saturating_add(count("errors")?.unwrap_or(0));
    let skipped = match count("skipped")? {
        Some(skipped) => skipped,
        None => count("disabled")?.unwrap_or(0),
    };
    let passed = tests.saturating_sub(failed).saturating_sub(skipped);
    Ok(TestCounts { passed, failed, skipped })
}

// ---------------------------------------------------------------------------------------------
// Console summaries
// ---------------------------------------------------------------------------------------------

/// Escape sequences: CSI (colours, cursor movement, `ESC[K`), OSC (hyperlinks, titles) and the
/// two-byte forms.
static ANSI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]").unwrap());

/// Removes terminal escape sequences from `text`.
pub fn strip_ansi(text: &str) -> Cow<'_, str> {
    ANSI.replace_all(text, "")
}

/// The lines of (colour-stripped) console output as they would look on screen: for a line
/// redrawn with carriage returns (progress bars), only what was drawn last.
fn screen_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|line| {
            let line = line.trim_end_matches('\r');
            line.rsplit('\r').find(|part| !part.trim().is_empty()).unwrap_or("")
        })
        .collect()
}

/// A summary found in console output: its report and the index of its first summary line.
struct Found {
    report: TestReport,
    first_line: usize,
}

/// Finds the test summary in the console output of a test run.
///
/// Recognised, after stripping colour codes:
///
/// | runner | summary line (example) |
/// |---|---|
/// | cargo test | `test result: FAILED. 3 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.02s` (summed over all such lines: a workspace prints one per test binary and one for doc tests) |
/// | cargo nextest | `     Summary [   0.123s] 10 tests run: 9 passed (1 flaky), 1 failed, 2 skipped` (also `timed out`, `exec failed`, `3/10 tests run` after a cancel) |
/// | pytest | `==== 3 failed, 10 passed, 2 skipped, 1 error in 0.12s ====`, `5 passed in 0.01s` (`-q`), with `xfailed`, `xpassed`, `warnings`, `deselected`, `rerun` |
/// | vitest | `      Tests  1 failed \| 3 passed \| 2 skipped \| 1 todo (7)`, with `Test Files` and `Errors` lines |
/// | jest | `Tests:       1 failed, 2 skipped, 5 passed, 8 total`, with a `Test Suites:` line |
/// | go test | `--- PASS: TestAdd (0.00s)` / `--- FAIL:` / `--- SKIP:` lines (with `-v`); else the `ok  \tpkg` / `FAIL\tpkg` package lines |
/// | node --test | `# pass 3`, `# fail 1`, `# cancelled 0`, `# skipped 0`, `# todo 0` (TAP) or the same with `ℹ` (spec reporter) |
///
/// Errors, timeouts and cancellations count as failed; ignored, todo and expected-failure tests
/// as skipped (see [`TestCounts`]). Some runners report failures outside
/// their test count, and these are folded into `failed` so that a gate cannot miss them: a
/// vitest test file or jest suite that failed to load (when no test failed), vitest's unhandled
/// `Errors`, and a go package that failed to build. Without `-v`, go prints only failures, so
/// its counts are then *packages* (`ok` passed, `FAIL` failed) while the failure names are the
/// failed tests.
///
/// Failed test names come from the lines each runner prints for them (`test x ... FAILED`,
/// nextest's `FAIL [ 0.004s] crate tests::x`, pytest's `FAILED tests/test_a.py::test_x - …`,
/// vitest's `FAIL  src/a.test.ts > suite > test`, jest's `● suite › test`, `--- FAIL: TestX`,
/// TAP's `not ok 2 - x` or node's `✖ x`).
///
/// Returns `None` when no summary is found, for example when the build failed before any test
/// ran: no summary is never read as zero tests. (A runner that itself says no test ran, like
/// pytest's `no tests ran in 0.01s`, gives a report with zero counts.)
pub fn parse_summary(output: &str) -> Option<TestReport> {
    let text = strip_ansi(output);
    let lines = screen_lines(&text);
    let mut found: Vec<Found> = [
        cargo_test(&lines),
        nextest(&lines),
        pytest(&lines),
        vitest(&lines),
        jest(&lines),
        go_test(&lines),
        node_test(&lines),
        unittest(&lines),
    ]
    .into_iter()
    .flatten()
    .collect();
    found.sort_by_key(|f| f.first_line);

    let main = found.iter().max_by_key(|f| (f.report.counts.total(), std::cmp::Reverse(f.first_line)))?;
    let source = main.report.source;
    let mut counts = TestCounts::default();
    let mut names = Names::default();
    for f in &found {
        counts += f.report.counts;
        f.report.failures.iter().for_each(|name| names.push(name));
    }
    Some(TestReport { counts, source, failures: names.0 })
}

/// Compiles a regular expression known to be valid.
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the pattern is valid")
}

/// Reads the number in a capture group (`0` if it overflows, which no real output does).
fn num(captures: &regex::Captures, group: usize) -> u64 {
    captures.get(group).and_then(|m| m.as_str().parse().ok()).unwrap_or(0)
}

/// Builds a [`Found`] when `first_line` is set.
fn found(source: Source, counts: TestCounts, names: Names, first_line: Option<usize>) -> Option<Found> {
    first_line.map(|first_line| Found { report: TestReport { counts, source, failures: names.0 }, first_line })
}

/// cargo test: `test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; …`
fn cargo_test(lines: &[&str]) -> Option<Found> {
    static RESULT: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"^\s*test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored; (\d+) measured; (\d+) filtered out",
        )
    });
    static FAILED_TEST: LazyLock<Regex> = LazyLock::new(|| re(r"^test (.+) \.\.\. FAILED\s*$"));
    static STDOUT_HEADER: LazyLock<Regex> = LazyLock::new(|| re(r"^---- (.+) stdout ----\s*$"));

    let (mut counts, mut names, mut first) = (TestCounts::default(), Names::default(), None);
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = RESULT.captures(line) {
            first.get_or_insert(i);
            counts += TestCounts { passed: num(&c, 1), failed: num(&c, 2), skipped: num(&c, 3) };
        } else if let Some(c) = FAILED_TEST.captures(line).or_else(|| STDOUT_HEADER.captures(line)) {
            names.push(&c[1]);
        }
    }
    found(Source::CargoTest, counts, names, first)
}

/// cargo nextest: `     Summary [   0.123s] 10 tests run: 9 passed (1 flaky), 1 failed, 2 skipped`
fn nextest(lines: &[&str]) -> Option<Found> {
    static SUMMARY: LazyLock<Regex> =
        LazyLock::new(|| re(r"^\s*Summary \[\s*[\d.]+s\] \d+(?:/\d+)? tests? run: (.+?)\s*$"));
    static PARENTHESES: LazyLock<Regex> = LazyLock::new(|| re(r"\s*\([^)]*\)"));
    static ITEM: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d+) (passed|failed|exec failed|timed out|skipped)$"));
    static FAILED_TEST: LazyLock<Regex> = LazyLock::new(|| {
        re(r"^\s*(?:FAIL|TIMEOUT|ABORT|SIG[A-Z]+|LEAK-FAIL|EXECFAIL)\s+\[[^\]]*\]\s+(?:\(\s*\d+/\s*\d+\)\s+)?(.+?)\s*$")
    });

    let (mut counts, mut names, mut first) = (TestCounts::default(), Names::default(), None);
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = SUMMARY.captures(line) {
            first.get_or_insert(i);
            // "9 passed (1 slow, 1 flaky), 1 failed (1 due to being leaky), 2 skipped"
            let items = PARENTHESES.replace_all(&c[1], "");
            for item in items.split(", ").filter_map(|item| ITEM.captures(item.trim())) {
                let n = num(&item, 1);
                match &item[2] {
                    "passed" => counts.passed += n,
                    "skipped" => counts.skipped += n,
                    _ => counts.failed += n,
                }
            }
        } else if let Some(c) = FAILED_TEST.captures(line) {
            names.push(&c[1]);
        }
    }
    found(Source::Nextest, counts, names, first)
}

/// pytest: `==== 3 failed, 10 passed, 2 skipped, 1 error in 0.12s ====`
fn pytest(lines: &[&str]) -> Option<Found> {
    static SUMMARY: LazyLock<Regex> =
        LazyLock::new(|| re(r"^=*\s*(.+?)\s+in\s+\d+(?:\.\d+)?(?:s| seconds)(?:\s*\([\d:.]+\))?\s*=*\s*$"));
    static ITEM: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d+) ([a-z]+)$"));
    static FAILED_TEST: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$"));

    let (mut counts, mut names, mut first) = (TestCounts::default(), Names::default(), None);
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = SUMMARY.captures(line) {
            let Some(line_counts) = pytest_items(&c[1], &ITEM) else { continue };
            first.get_or_insert(i);
            counts += line_counts;
        } else if let Some(c) = FAILED_TEST.captures(line) {
            names.push(&c[1]);
        }
    }
    found(Source::Pytest, counts, names, first)
}

/// Reads the items of a pytest summary (`3 failed, 10 passed, 1 warning`), or `None` when they
/// are not all `N word` items with at least one test outcome among them.
fn pytest_items(items: &str, item_re: &Regex) -> Option<TestCounts> {
    if items == "no tests ran" {
        return Some(TestCounts::default());
    }
    let mut counts = TestCounts::default();
    let mut outcome_seen = false;
    for item in items.split(", ") {
        let c = item_re.captures(item.trim())?;
        let n = num(&c, 1);
        outcome_seen |= matches!(
            &c[2],
            "passed" | "failed" | "error" | "errors" | "skipped" | "xfailed" | "xpassed" | "deselected"
        );
        match &c[2] {
            "passed" | "xpassed" => counts.passed += n,
            "failed" | "error" | "errors" => counts.failed += n,
            "skipped" | "xfailed" => counts.skipped += n,
            // warnings, deselected, rerun(s), and whatever plugins add: not test outcomes.
            _ => {}
        }
    }
    outcome_seen.then_some(counts)
}

/// Reads `1 failed | 3 passed | 2 skipped` (vitest) or `1 failed, 2 skipped, 5 passed` (jest)
/// into `(word, count)` pairs; `None` unless every item has the shape `N word`.
fn counted_items<'a>(text: &'a str, separator: &str) -> Option<Vec<(&'a str, u64)>> {
    text.split(separator)
        .map(|item| {
            let (n, word) = item.trim().split_once(' ')?;
            Some((word.trim(), n.parse().ok()?))
        })
        .collect()
}

/// vitest: `      Tests  1 failed | 3 passed (4)`
fn vitest(lines: &[&str]) -> Option<Found> {
    static TESTS: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*Tests\s{2,}(.+?)\s*(?:\(\d+\))?\s*$"));
    static FILES: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*Test Files\s{2,}(.+?)\s*(?:\(\d+\))?\s*$"));
    static ERRORS: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*Errors\s{2,}(\d+) errors?\b"));
    static FAILED_TEST: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*FAIL\s+(.+ > .+?)\s*$"));

    let (mut counts, mut names, mut first) = (TestCounts::default(), Names::default(), None);
    let (mut failed_files, mut errors) = (0, 0);
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = TESTS.captures(line) {
            let items = if &c[1] == "no tests" { Some(Vec::new()) } else { counted_items(&c[1], " | ") };
            let Some(items) = items else { continue };
            first.get_or_insert(i);
            for (word, n) in items {
                match word {
                    "passed" => counts.passed += n,
                    "failed" => counts.failed += n,
                    "skipped" | "todo" => counts.skipped += n,
                    _ => {}
                }
            }
        } else if let Some(c) = FILES.captures(line) {
            let items = counted_items(&c[1], " | ").unwrap_or_default();
            failed_files += items.iter().filter(|(word, _)| *word == "failed").map(|(_, n)| n).sum::<u64>();
        } else if let Some(c) = ERRORS.captures(line) {
            errors += num(&c, 1);
        } else if let Some(c) = FAILED_TEST.captures(line) {
            names.push(&c[1]);
        }
    }
    if counts.failed == 0 {
        // A test file that failed to load fails no test, but the run failed.
        counts.failed = failed_files;
    }
    counts.failed += errors;
    found(Source::Vitest, counts, names, first)
}

/// jest: `Tests:       1 failed, 2 skipped, 5 passed, 8 total`
fn jest(lines: &[&str]) -> Option<Found> {
    static TESTS: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*Tests:\s+(.*?)\d+ total\s*$"));
    static SUITES: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*Test Suites:\s+(\d+) failed\b"));
    static FAILED_TEST: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*● (.+?)\s*$"));

    let (mut counts, mut names, mut first) = (TestCounts::default(), Names::default(), None);
    let mut failed_suites = 0;
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = TESTS.captures(line) {
            let items = c[1].trim().trim_end_matches(',');
            let items = if items.is_empty() { Some(Vec::new()) } else { counted_items(items, ", ") };
            let Some(items) = items else { continue };
            first.get_or_insert(i);
            for (word, n) in items {
                match word {
                    "passed" => counts.passed += n,
                    "failed" => counts.failed += n,
                    "skipped" | "todo" | "pending" => counts.skipped += n,
                    _ => {}
                }
            }
        } else if let Some(c) = SUITES.captures(line) {
            failed_suites += num(&c, 1);
        } else if let Some(c) = FAILED_TEST.captures(line)
            && !matches!(&c[1], "Console" | "Test suite failed to run")
        {
            names.push(&c[1]);
        }
    }
    if counts.failed == 0 {
        // A suite that failed to run (a syntax error, a missing module) fails no test.
        counts.failed = failed_suites;
    }
    found(Source::Jest, counts, names, first)
}

/// go test: `--- FAIL: TestAdd (0.00s)` per test, `ok  \tpkg\t0.01s` / `FAIL\tpkg\t0.01s` per package.
fn go_test(lines: &[&str]) -> Option<Found> {
    static TEST: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*--- (PASS|FAIL|SKIP): (\S+)"));
    static PACKAGE: LazyLock<Regex> = LazyLock::new(|| re(r"^(ok|FAIL|\?)\s*\t(\S+)(.*)$"));

    let (mut tests, mut packages) = (TestCounts::default(), TestCounts::default());
    let (mut test_names, mut package_names) = (Names::default(), Names::default());
    let (mut verbose, mut broken_packages, mut first) = (false, 0, None);
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = TEST.captures(line) {
            first.get_or_insert(i);
            match &c[1] {
                "PASS" => tests.passed += 1,
                "SKIP" => tests.skipped += 1,
                _ => {
                    tests.failed += 1;
                    test_names.push(&c[2]);
                }
            }
            // Without -v, go prints only the failures.
            verbose |= &c[1] != "FAIL";
        } else if let Some(c) = PACKAGE.captures(line) {
            first.get_or_insert(i);
            match &c[1] {
                "ok" => packages.passed += 1,
                "FAIL" => {
                    packages.failed += 1;
                    package_names.push(&c[2]);
                    if c[3].contains("[build failed]") || c[3].contains("[setup failed]") {
                        broken_packages += 1;
                    }
                }
                _ => {} // `?   \tpkg\t[no test files]`: no tests, nothing to count.
            }
        } else if line.starts_with("=== RUN ") {
            verbose = true;
        }
    }
    let counts = if verbose {
        // Every test printed its outcome; packages that failed without a failing test (a build
        // error, a test binary that timed out) still count as one failure each.
        let mut counts = tests;
        counts.failed += broken_packages;
        if counts.failed == 0 {
            counts.failed = packages.failed;
        }
        counts
    } else if packages.total() > 0 {
        packages
    } else {
        tests
    };
    let names = if test_names.0.is_empty() { package_names } else { test_names };
    found(Source::GoTest, counts, names, first)
}

/// Python's unittest: `Ran 4 tests in 0.002s`, then `OK`, `OK (skipped=1)` or `FAILED (failures=1,
/// errors=1, skipped=1)`. Expected failures count as skipped, unexpected successes as failed
/// (unittest's own verdict is `FAILED` for them since Python 3.11).
fn unittest(lines: &[&str]) -> Option<Found> {
    static RAN: LazyLock<Regex> = LazyLock::new(|| re(r"^Ran (\d+) tests? in \d+(?:\.\d+)?s\s*$"));
    static VERDICT: LazyLock<Regex> = LazyLock::new(|| re(r"^(OK|FAILED)(?: \(([^)]*)\))?\s*$"));
    static ITEM: LazyLock<Regex> = LazyLock::new(|| re(r"^([a-z ]+)=(\d+)$"));
    static FAILED_TEST: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:FAIL|ERROR): (\S+ \([^)]+\))"));

    let (mut counts, mut names, mut first) = (TestCounts::default(), Names::default(), None);
    let mut ran: Option<(usize, u64)> = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = RAN.captures(line) {
            ran = Some((i, num(&c, 1)));
        } else if let Some(c) = FAILED_TEST.captures(line) {
            names.push(&c[1]);
        } else if let (Some((at, total)), Some(c)) = (ran, VERDICT.captures(line.trim())) {
            // The verdict follows its `Ran` line after a blank line; anything else is not unittest's.
            if i > at + 2 {
                continue;
            }
            ran = None;
            first.get_or_insert(at);
            let mut run = TestCounts::default();
            for item in c.get(2).map_or("", |m| m.as_str()).split(", ").filter_map(|item| ITEM.captures(item.trim())) {
                let n = num(&item, 2);
                match &item[1] {
                    "failures" | "errors" | "unexpected successes" => run.failed += n,
                    "skipped" | "expected failures" => run.skipped += n,
                    _ => {}
                }
            }
            run.passed = total.saturating_sub(run.failed).saturating_sub(run.skipped);
            counts += run;
        }
    }
    found(Source::Unittest, counts, names, first)
}

/// node --test: `# pass 3` / `# fail 1` (TAP) or `ℹ pass 3` / `ℹ fail 1` (spec reporter).
fn node_test(lines: &[&str]) -> Option<Found> {
    static COUNT: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:#|ℹ) (pass|fail|cancelled|skipped|todo)\s+(\d+)\s*$"));
    static NOT_OK: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*not ok \d+ - (.+?)\s*$"));
    static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\s#\s*(?:SKIP|TODO)\b"));
    static CROSS: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*✖ (.+?)(?: \([\d.]+m?s\))?\s*$"));

    let (mut counts, mut names, mut first) = (TestCounts::default(), Names::default(), None);
    let (mut saw_pass, mut saw_fail) = (false, false);
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = COUNT.captures(line) {
            first.get_or_insert(i);
            let n = num(&c, 2);
            match &c[1] {
                "pass" => counts.passed += n,
                "fail" | "cancelled" => counts.failed += n,
                _ => counts.skipped += n,
            }
            saw_pass |= &c[1] == "pass";
            saw_fail |= &c[1] == "fail";
        } else if let Some(c) = NOT_OK.captures(line)
            && !DIRECTIVE.is_match(&c[1])
        {
            names.push(&c[1]);
        } else if let Some(c) = CROSS.captures(line)
            && &c[1] != "failing tests:"
        {
            names.push(&c[1]);
        }
    }
    if !(saw_pass && saw_fail) {
        return None;
    }
    found(Source::NodeTest, counts, names, first)
}

// ---------------------------------------------------------------------------------------------
// Type-check errors
// ---------------------------------------------------------------------------------------------

/// Which type checker's output the error count was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeSource {
    /// tsc (and vue-tsc, which prints the same).
    Tsc,
    /// svelte-check (what `npm run check` runs in a SvelteKit project).
    SvelteCheck,
    /// cargo check, build, test or clippy (rustc's errors).
    Cargo,
    /// mypy.
    Mypy,
    /// pyright (and basedpyright).
    Pyright,
}

impl fmt::Display for TypeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TypeSource::Tsc => "tsc",
            TypeSource::SvelteCheck => "svelte-check",
            TypeSource::Cargo => "cargo",
            TypeSource::Mypy => "mypy",
            TypeSource::Pyright => "pyright",
        })
    }
}

/// The number of type-check errors in a command's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TypeErrors {
    /// Errors reported (0 for a clean run that said so).
    pub errors: u64,
    /// The checker recognised. When the output holds several (`cargo check && npm run check`),
    /// their errors are added up and this is the one that reported the most (the earliest in
    /// the output on a tie).
    pub source: TypeSource,
}

/// Counts the type-check errors in a command's output.
///
/// Recognised, after stripping colour codes:
///
/// | checker | errors | clean run |
/// |---|---|---|
/// | tsc, vue-tsc | `Found 3 errors in 2 files.`, `Found 1 error in src/a.ts:3`, `Found 2 errors.`; without a summary, lines with `error TS2322:` (`src/a.ts(1,2): error TS2322: …` or `src/a.ts:1:2 - error TS2322: …`) | `Found 0 errors.` (watch mode) |
/// | svelte-check | `svelte-check found 2 errors and 1 warning` (also `--output machine`'s `COMPLETED 20 FILES 2 ERRORS …`) | `svelte-check found 0 errors and 0 warnings` |
/// | cargo | ``error: could not compile `x` (lib) due to 2 previous errors`` (summed over crates); else rustc's `error: aborting due to 2 previous errors`; else `error[E0308]` lines | ``Finished `dev` profile … target(s) in 0.5s`` |
/// | mypy | `Found 3 errors in 1 file (checked 5 source files)`; without a summary, `x.py:3: error:` lines | `Success: no issues found in 5 source files` |
/// | pyright | `3 errors, 0 warnings, 0 informations` (basedpyright: `… 0 notes`) | `0 errors, 0 warnings, 0 informations` |
///
/// tsc prints nothing at all on success, so its clean runs give `None`: the caller has the exit
/// status. ruff's `Found 3 errors.` (followed by its `[*] … fixable` or `No fixes available`
/// line) is a lint result, not a type check, and is not counted.
///
/// Returns `None` when no checker's output is recognised.
pub fn type_errors(output: &str) -> Option<TypeErrors> {
    let text = strip_ansi(output);
    let lines = screen_lines(&text);
    let found: Vec<(TypeSource, u64, usize)> = [
        (TypeSource::Tsc, tsc_errors(&lines)),
        (TypeSource::SvelteCheck, svelte_check_errors(&lines)),
        (TypeSource::Cargo, cargo_errors(&lines)),
        (TypeSource::Mypy, mypy_errors(&lines)),
        (TypeSource::Pyright, pyright_errors(&lines)),
    ]
    .into_iter()
    .filter_map(|(source, found)| found.map(|(errors, first_line)| (source, errors, first_line)))
    .collect();

    let &(source, _, _) = found.iter().max_by_key(|(_, errors, first)| (*errors, std::cmp::Reverse(*first)))?;
    let errors = found.iter().fold(0u64, |sum, (_, errors, _)| sum.saturating_add(*errors));
    Some(TypeErrors { errors, source })
}

/// Sums the numbers `pattern` captures (group 1; a missing group counts as `default`) over all
/// lines, with the index of the first matching line.
fn sum_matches(lines: &[&str], pattern: &Regex, default: u64) -> Option<(u64, usize)> {
    let mut result: Option<(u64, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = pattern.captures(line) {
            let n = c.get(1).map_or(default, |m| m.as_str().parse().unwrap_or(0));
            let (sum, _) = result.get_or_insert((0, i));
            *sum = sum.saturating_add(n);
        }
    }
    result
}

/// Counts the lines `pattern` matches, with the index of the first one.
fn count_matches(lines: &[&str], pattern: &Regex) -> Option<(u64, usize)> {
    let first = lines.iter().position(|line| pattern.is_match(line))?;
    Some((lines[first..].iter().filter(|line| pattern.is_match(line)).count() as u64, first))
}

/// tsc: `Found 3 errors in 2 files.`, else `error TS2322:` lines.
fn tsc_errors(lines: &[&str]) -> Option<(u64, usize)> {
    static SUMMARY: LazyLock<Regex> = LazyLock::new(|| re(r"\bFound (\d+) errors?\b(.*)$"));
    static RUFF_AFTER: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*(?:\[\*\]|No fixes available)"));
    static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| re(r"(?:^|[\s:)])error TS\d+:"));

    let mut result: Option<(u64, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = SUMMARY.captures(line) else { continue };
        let is_mypy = c[2].contains("(checked ");
        let next = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
        let is_ruff = next.is_some_and(|l| RUFF_AFTER.is_match(l));
        if !is_mypy && !is_ruff {
            let (sum, _) = result.get_or_insert((0, i));
            *sum = sum.saturating_add(num(&c, 1));
        }
    }
    result.or_else(|| count_matches(lines, &ERROR_LINE))
}

/// svelte-check: `svelte-check found 2 errors and 1 warning`, or `COMPLETED 20 FILES 2 ERRORS`.
fn svelte_check_errors(lines: &[&str]) -> Option<(u64, usize)> {
    static SUMMARY: LazyLock<Regex> =
        LazyLock::new(|| re(r"svelte-check found (\d+) errors?\b|\bCOMPLETED \d+ FILES? (\d+) ERRORS?\b"));
    let mut result: Option<(u64, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = SUMMARY.captures(line) {
            let n = num(&c, 1).max(num(&c, 2));
            let (sum, _) = result.get_or_insert((0, i));
            *sum = sum.saturating_add(n);
        }
    }
    result
}

/// cargo: `could not compile … due to N previous errors`, else rustc's `aborting due to`, else
/// `error[E0308]` lines; `Finished … target(s) in` means a clean build.
fn cargo_errors(lines: &[&str]) -> Option<(u64, usize)> {
    static COULD_NOT_COMPILE: LazyLock<Regex> = LazyLock::new(|| {
        re(r"^error: could not compile `[^`]+`(?: \([^)]*\))?(?: due to (?:(\d+) )?previous errors?)?")
    });
    static ABORTING: LazyLock<Regex> = LazyLock::new(|| re(r"^error: aborting due to (?:(\d+) )?previous errors?"));
    static CODED_ERROR: LazyLock<Regex> = LazyLock::new(|| re(r"^error\[E\d{4}\]: "));
    static FINISHED: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*Finished\b.*\btarget\(s\) in "));

    sum_matches(lines, &COULD_NOT_COMPILE, 1)
        .or_else(|| sum_matches(lines, &ABORTING, 1))
        .or_else(|| count_matches(lines, &CODED_ERROR))
        .or_else(|| lines.iter().position(|line| FINISHED.is_match(line)).map(|i| (0, i)))
}

/// mypy: `Found 3 errors in 1 file (checked 5 source files)` or `Success: no issues found`,
/// else `x.py:3: error:` lines.
fn mypy_errors(lines: &[&str]) -> Option<(u64, usize)> {
    static SUMMARY: LazyLock<Regex> =
        LazyLock::new(|| re(r"^Found (\d+) errors? in \d+ files? \(checked \d+ source files?\)"));
    static SUCCESS: LazyLock<Regex> = LazyLock::new(|| re(r"^Success: no issues found in \d+ source files?"));
    static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| re(r"^[^\s:][^:]*\.pyi?:\d+(?::\d+)?: error: "));

    let summaries = sum_matches(lines, &SUMMARY, 0);
    let successes = lines.iter().position(|line| SUCCESS.is_match(line)).map(|i| (0, i));
    match (summaries, successes) {
        (Some((errors, a)), Some((_, b))) => Some((errors, a.min(b))),
        (found, None) | (None, found) => found.or_else(|| count_matches(lines, &ERROR_LINE)),
    }
}

/// pyright: `3 errors, 0 warnings, 0 informations`.
fn pyright_errors(lines: &[&str]) -> Option<(u64, usize)> {
    static SUMMARY: LazyLock<Regex> =
        LazyLock::new(|| re(r"^\s*(\d+) errors?, \d+ warnings?, \d+ (?:informations?|notes?)\s*$"));
    sum_matches(lines, &SUMMARY, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colours_hyperlinks_and_erase_codes() {
        let coloured = "\x1b[1m\x1b[32mok\x1b[0m \x1b]8;;https://x.dev\x1b\\link\x1b]8;;\x1b\\\x1b[K done";
        assert_eq!(strip_ansi(coloured), "ok link done");
    }

    #[test]
    fn carriage_returns_keep_what_was_drawn_last() {
        assert_eq!(screen_lines("[1/3] running\r[3/3] done\r\nnext"), ["[3/3] done", "next"]);
        assert_eq!(screen_lines("line\r\n\r\n"), ["line", ""]);
    }

    #[test]
    fn names_are_deduplicated_and_capped() {
        let mut names = Names::default();
        for i in 0..100 {
            names.push(&format!("test_{}", i % 60));
            names.push("test_0");
        }
        assert_eq!(names.0.len(), MAX_FAILURE_NAMES);
        assert_eq!(names.0.iter().filter(|n| *n == "test_0").count(), 1);
    }

    #[test]
    fn pytest_items_need_an_outcome() {
        let item = Regex::new(r"^(\d+) ([a-z]+)$").unwrap();
        assert_eq!(pytest_items("2 warnings", &item), None);
        assert_eq!(pytest_items("3 passed, 2 warnings", &item), Some(TestCounts { passed: 3, failed: 0, skipped: 0 }));
        assert_eq!(pytest_items("loading took", &item), None);
    }
}

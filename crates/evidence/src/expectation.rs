//! What a plan's Verification / Automated command is expected to show (its trailing `# comment`),
//! read into checks wavecrew can make on what the command printed and wrote.
//!
//! A command that exits 0 proves only that it exits 0. `npm run test:unit    # 80%+ coverage on
//! new modules` asks for more, and wavecrew must either check it or say that it could not:
//!
//! - [`parse`] reads the comment into [`Expectation`]s, one per clause (`0 failures, 80%
//!   coverage` is two). A clause it cannot read is [`Expectation::Unreadable`]: never guessed.
//! - [`judge`] holds them against what the engine observed of the command ([`Observed`]: its
//!   output, the test counts, type errors and coverage read from it and from the reports it
//!   wrote) and gives a [`Judged`]: passed, failed, or unchecked with the reason (a person
//!   checks it).
//!
//! What each expectation needs:
//!
//! | comment | expectation | checked against |
//! |---|---|---|
//! | `exits 0`, `succeeds`, `passes`, `builds`, `compiles`, `imports`, `runs`, `no errors`, `lint passes` | [`Expectation::Succeeds`] | the exit status |
//! | `0 failures`, `0 regressions`, `all tests pass`, `no failing tests` | [`Expectation::Tests`] (at least 1 passed) | the test summary or JUnit report: none failed |
//! | `12 passed`, `12 tests pass`, `three tests pass` | [`Expectation::Tests`] (at least 12) | the same, with at least that many passed |
//! | `80%+ coverage on new modules`, `coverage >= 85%` | [`Expectation::Coverage`] | the fresh lcov / Cobertura report: of the lines the run changed when the comment says new/changed/added, else of the whole report |
//! | `svelte-check passes`, `no type errors`, `0 type errors`, `mypy clean` | [`Expectation::NoTypeErrors`] | the type checker's error count (tsc, silent when clean, counts by its exit status) |
//! | `prints 5 lines`, `prints three lines` | [`Expectation::Lines`] | the output's non-blank lines |
//! | ``prints `ok` ``, `prints "3 rows"` (quoted) | [`Expectation::Prints`] | the output contains the text |
//!
//! ```
//! use evidence::expectation::{self, Expectation, CoverageScope};
//!
//! let read = expectation::parse("0 failures, 80%+ coverage on new modules");
//! assert_eq!(read, [
//!     Expectation::Tests { at_least: 1 },
//!     Expectation::Coverage { percent: 80.0, scope: CoverageScope::Changed },
//! ]);
//! assert_eq!(expectation::parse("greets the user"), [Expectation::Unreadable("greets the user".into())]);
//! ```

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::results::{TestCounts, TypeErrors};

/// Something a command's `# comment` expects that wavecrew can check, or the text it cannot read.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expectation {
    /// Only that the command succeeds: its exit status says it.
    Succeeds,
    /// No test failed, and at least `at_least` passed.
    Tests {
        /// Tests that must have passed (1 when the comment names no number: a run of no test
        /// proves nothing).
        at_least: u64,
    },
    /// Line coverage of at least `percent`.
    Coverage {
        /// The required percentage.
        percent: f64,
        /// Of which lines.
        scope: CoverageScope,
    },
    /// No type error.
    NoTypeErrors,
    /// The output has exactly this many non-blank lines.
    Lines(u64),
    /// The output contains this text.
    Prints(String),
    /// A clause wavecrew cannot read: a person checks it.
    Unreadable(String),
}

/// Which lines a coverage expectation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageScope {
    /// The lines the run added or changed ("on new modules", "of changed code").
    Changed,
    /// Every line the report lists.
    Total,
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expectation::Succeeds => write!(f, "exits 0"),
            Expectation::Tests { at_least: 1 } => write!(f, "no test fails"),
            Expectation::Tests { at_least } => write!(f, "at least {at_least} tests pass, none fails"),
            Expectation::Coverage { percent, scope: CoverageScope::Changed } => {
                write!(f, "{percent}% coverage of the lines the run changed")
            }
            Expectation::Coverage { percent, scope: CoverageScope::Total } => write!(f, "{percent}% coverage"),
            Expectation::NoTypeErrors => write!(f, "no type error"),
            Expectation::Lines(n) => write!(f, "prints {n} line(s)"),
            Expectation::Prints(text) => write!(f, "prints `{text}`"),
            Expectation::Unreadable(text) => write!(f, "{text}"),
        }
    }
}

/// Reads a command's `# comment` into expectations, one per clause (clauses are split at `,`,
/// `;` and ` and `, outside quotes). An empty comment expects nothing but success.
pub fn parse(comment: &str) -> Vec<Expectation> {
    clauses(comment).into_iter().map(clause).collect()
}

/// Splits at `,`, `;` and ` and ` outside quotes and backticks.
fn clauses(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '`' | '"') => quote = Some(c),
            None if matches!(c, ',' | ';') => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            None if text[i..].starts_with(" and ") => {
                out.push(&text[start..i]);
                start = i + " and ".len();
                // Skip the rest of " and " (ASCII: one char per byte).
                chars.nth(" and ".len() - 2);
            }
            None => {}
        }
    }
    out.push(&text[start..]);
    out.into_iter().map(str::trim).filter(|c| !c.is_empty()).collect()
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the pattern is valid")
}

/// A count written as digits or as a word up to twenty.
fn count(word: &str) -> Option<u64> {
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    let word = word.to_ascii_lowercase();
    match word.as_str() {
        "no" | "none" => Some(0),
        _ => word.parse().ok().or_else(|| WORDS.iter().position(|w| *w == word).map(|n| n as u64)),
    }
}

const NUMBER: &str = r"(\d+|no|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty)";

fn clause(text: &str) -> Expectation {
    static SUCCEEDS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^(?:it\s+)?(?:exits?(?:\s+with)?(?:\s+(?:code|status))?\s+0|succeeds|passes|ok|builds(?:\s+cleanly)?|compiles(?:\s+cleanly)?|(?:imports|runs|starts)(?:\s+cleanly|\s+without\s+errors?)?|(?:no|0|zero)\s+errors|(?:lint|build|format)(?:\s+check)?\s+(?:passes|succeeds|is\s+clean)|lints?\s+clean)\.?$",
        )
    });
    static COVERAGE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bcover(?:age|ed)?\b"));
    static CHANGED: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:new|changed|added|touched|modified|diff|patch)\b"));
    static TYPES: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)\b(?:svelte-check|vue-tsc|tsc|mypy|pyright|basedpyright|type[- ]?check(?:s|er|ing)?|types?)\b")
    });
    static TYPES_CLEAN: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:pass(?:es)?|clean|succeeds|ok|no\s+(?:type\s+)?errors?|0\s+(?:type\s+)?errors?|zero\s+(?:type\s+)?errors?)\b",
        )
    });
    static NO_FAILURES: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^(?:(?:0|no|zero)\s+(?:test\s+)?(?:regressions?|failures?|failed(?:\s+tests?)?|failing(?:\s+tests?)?|test\s+failures?)|all\s+(?:the\s+)?(?:unit\s+|e2e\s+|integration\s+)?tests\s+pass(?:es|ed)?|(?:unit\s+|e2e\s+)?tests\s+pass|all\s+green)\.?$",
        )
    });
    static PASSED: LazyLock<Regex> = LazyLock::new(|| {
        re(&format!(r"(?i)^(?:all\s+)?{NUMBER}\s+(?:\w+\s+)?(?:tests?\s+)?(?:pass(?:es|ed)?|passing)\.?$"))
    });
    static LINES: LazyLock<Regex> = LazyLock::new(|| {
        re(&format!(
            r"(?i)^(?:prints|outputs|shows|writes)\s+(?:exactly\s+)?{NUMBER}\s+(?:non-empty\s+|non-blank\s+)?lines?\.?$"
        ))
    });
    static PRINTS: LazyLock<Regex> = LazyLock::new(|| {
        re(r#"(?i)^(?:prints|outputs|shows|says|echoes|writes|contains)\s+(?:`([^`]+)`|"([^"]+)")\s*\.?$"#)
    });

    let unreadable = || Expectation::Unreadable(text.to_owned());
    if SUCCEEDS.is_match(text) {
        return Expectation::Succeeds;
    }
    if let Some(c) = PRINTS.captures(text) {
        let quoted = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
        return Expectation::Prints(quoted.to_owned());
    }
    if let Some(c) = LINES.captures(text) {
        return count(&c[1]).map_or_else(unreadable, Expectation::Lines);
    }
    if COVERAGE.is_match(text) {
        let scope = if CHANGED.is_match(text) { CoverageScope::Changed } else { CoverageScope::Total };
        return crate::coverage::threshold_from_text(text)
            .map_or_else(unreadable, |percent| Expectation::Coverage { percent, scope });
    }
    if TYPES.is_match(text) && TYPES_CLEAN.is_match(text) {
        return Expectation::NoTypeErrors;
    }
    if NO_FAILURES.is_match(text) {
        return Expectation::Tests { at_least: 1 };
    }
    if let Some(c) = PASSED.captures(text) {
        return match count(&c[1]) {
            Some(0) | None => unreadable(),
            Some(n) => Expectation::Tests { at_least: n },
        };
    }
    unreadable()
}

/// Whether a gate's Done text asks for a dependency audit: it speaks of vulnerabilities, CVEs,
/// advisories or an audit ("0 vulnerabilities", "npm audit clean", "no known CVEs").
pub fn demands_audit(done: &str) -> bool {
    static AUDIT: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:vulnerab\w*|cves?|advisor(?:y|ies)|audit(?:s|ed)?|pip-audit)\b"));
    AUDIT.is_match(done)
}

/// Whether a gate's Done text asks that tests pass ("0 test failures", "all tests pass",
/// "0 regressions"): one of its clauses reads as [`Expectation::Tests`].
pub fn demands_tests(done: &str) -> bool {
    parse(done).iter().any(|e| matches!(e, Expectation::Tests { .. }))
}

/// Coverage read from the reports a command wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenCoverage {
    /// The reports, as paths relative to the worktree, joined for the evidence.
    pub source: String,
    /// `(covered, coverable)` of the lines the run added or changed.
    pub changed: (u32, u32),
    /// `(covered, coverable)` of every line the reports list.
    pub total: (u64, u64),
    /// Some changed lines no test ran, as `path:line`, for the evidence.
    pub uncovered: Vec<String>,
}

/// What the engine saw of one command that exited 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed<'a> {
    /// The command, as run.
    pub command: &'a str,
    /// Its output (stdout and stderr).
    pub output: &'a str,
    /// Test counts from its summary or the JUnit reports it wrote, with where they come from.
    pub tests: Option<(TestCounts, String)>,
    /// Type errors counted in its output.
    pub type_errors: Option<TypeErrors>,
    /// Coverage from the lcov / Cobertura reports it wrote.
    pub coverage: Option<SeenCoverage>,
}

/// The verdict on one command's expectations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    /// Every expectation was checked and holds; what showed it.
    Passed(String),
    /// An expectation does not hold; what showed it.
    Failed(String),
    /// Nothing failed, but an expectation could not be checked; why (a person checks it).
    Unchecked(String),
}

/// Holds `expectations` against what was `observed` of a command that exited 0: failed when one
/// does not hold, else unchecked when one could not be checked, else passed. The detail lists
/// what each one came to.
pub fn judge(expectations: &[Expectation], observed: &Observed) -> Judged {
    if expectations.is_empty() {
        return Judged::Passed("exited 0".into());
    }
    let results: Vec<Judged> = expectations.iter().map(|e| judge_one(e, observed)).collect();
    let detail =
        |keep: fn(&Judged) -> Option<&String>| results.iter().filter_map(keep).cloned().collect::<Vec<_>>().join("; ");
    if results.iter().any(|r| matches!(r, Judged::Failed(_))) {
        Judged::Failed(detail(|r| if let Judged::Failed(d) = r { Some(d) } else { None }))
    } else if results.iter().any(|r| matches!(r, Judged::Unchecked(_))) {
        Judged::Unchecked(detail(|r| if let Judged::Unchecked(d) = r { Some(d) } else { None }))
    } else {
        Judged::Passed(detail(|r| if let Judged::Passed(d) = r { Some(d) } else { None }))
    }
}

fn judge_one(expectation: &Expectation, seen: &Observed) -> Judged {
    match expectation {
        Expectation::Succeeds => Judged::Passed("exited 0".into()),
        Expectation::Tests { at_least } => match &seen.tests {
            None => Judged::Unchecked(format!(
                "\"{expectation}\" needs test counts, but its output has no test summary wavecrew reads and it wrote no JUnit XML report"
            )),
            Some((counts, source)) => {
                let shown = format!("{} passed, {} failed (from {source})", counts.passed, counts.failed);
                if counts.failed > 0 {
                    Judged::Failed(format!("{} test(s) failed: {shown}", counts.failed))
                } else if counts.passed < *at_least {
                    Judged::Failed(format!("{at_least} passing test(s) expected: {shown}"))
                } else {
                    Judged::Passed(shown)
                }
            }
        },
        Expectation::Coverage { percent, scope } => {
            let Some(coverage) = &seen.coverage else {
                return Judged::Unchecked(format!(
                    "\"{expectation}\" needs a coverage report, but the command wrote no fresh lcov or Cobertura report (e.g. `vitest run --coverage --coverage.reporter=lcov`, `c8 --reporter=lcov npm test`, `coverage run -m pytest && coverage lcov`)"
                ));
            };
            let (covered, coverable) = match scope {
                CoverageScope::Changed => (u64::from(coverage.changed.0), u64::from(coverage.changed.1)),
                CoverageScope::Total => coverage.total,
            };
            let lines = match scope {
                CoverageScope::Changed => "coverable lines the run added or changed",
                CoverageScope::Total => "coverable lines",
            };
            if coverable == 0 {
                return Judged::Unchecked(format!("{} lists none of the {lines}", coverage.source));
            }
            let measured = covered as f64 * 100.0 / coverable as f64;
            let shown = format!("{measured:.1}% of the {coverable} {lines} are covered (from {})", coverage.source);
            if measured + 1e-9 < *percent {
                let missing = match scope {
                    CoverageScope::Changed if !coverage.uncovered.is_empty() => {
                        format!("; not covered: {}", coverage.uncovered.join(", "))
                    }
                    _ => String::new(),
                };
                Judged::Failed(format!("{shown}, {percent}% expected{missing}"))
            } else {
                Judged::Passed(shown)
            }
        }
        Expectation::NoTypeErrors => match seen.type_errors {
            Some(errors) if errors.errors > 0 => {
                Judged::Failed(format!("{} type error(s) (from {} output)", errors.errors, errors.source))
            }
            Some(errors) => Judged::Passed(format!("0 type errors (from {} output)", errors.source)),
            // tsc prints nothing when there is nothing wrong: its exit status is its verdict.
            None if runs_tsc(seen.command) => Judged::Passed("tsc exited 0 and printed no error".into()),
            None => Judged::Unchecked(format!(
                "\"{expectation}\" needs a type checker's count, but the output has none wavecrew reads (tsc, svelte-check, mypy, pyright, cargo)"
            )),
        },
        Expectation::Lines(n) => {
            let lines = seen.output.lines().filter(|l| !l.trim().is_empty()).count() as u64;
            if lines == *n {
                Judged::Passed(format!("printed {lines} line(s)"))
            } else {
                Judged::Failed(format!("printed {lines} non-blank line(s), {n} expected"))
            }
        }
        Expectation::Prints(text) => {
            if crate::review::output_contains(seen.output, text) {
                Judged::Passed(format!("printed `{text}`"))
            } else {
                Judged::Failed(format!("its output does not contain `{text}`"))
            }
        }
        Expectation::Unreadable(text) => Judged::Unchecked(format!(
            "wavecrew cannot read \"{text}\" as something it checks (test counts, coverage, type errors, lines or text printed): a person checks it"
        )),
    }
}

/// Whether `command` runs tsc (or vue-tsc) itself.
fn runs_tsc(command: &str) -> bool {
    command
        .split(|c: char| c.is_whitespace() || matches!(c, '&' | ';' | '|' | '/'))
        .any(|w| w == "tsc" || w == "vue-tsc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_split_outside_quotes() {
        assert_eq!(clauses("0 failures, 80% coverage and builds"), ["0 failures", "80% coverage", "builds"]);
        assert_eq!(clauses("prints `a, b and c`; ok"), ["prints `a, b and c`", "ok"]);
        assert_eq!(clauses(""), Vec::<&str>::new());
    }

    #[test]
    fn what_a_gates_done_demands() {
        assert!(demands_audit("0 vulnerabilities, 0 secrets"));
        assert!(demands_audit("npm audit is clean"));
        assert!(!demands_audit("no secrets in the code; OWASP reviewed"));
        assert!(demands_tests("0 test failures, 80%+ coverage on new code"));
        assert!(demands_tests("All tests pass."));
        assert!(!demands_tests("it is reviewed"));
    }

    #[test]
    fn counts_are_digits_or_words() {
        assert_eq!(count("3"), Some(3));
        assert_eq!(count("Three"), Some(3));
        assert_eq!(count("no"), Some(0));
        assert_eq!(count("many"), None);
    }
}

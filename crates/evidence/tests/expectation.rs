//! Reading an Automated command's `# comment`, and judging what the command showed against it.

use evidence::expectation::{self, CoverageScope, Expectation, Judged, Observed, SeenCoverage};
use evidence::results::{TestCounts, TypeErrors, TypeSource};
use proptest::prelude::*;

fn one(comment: &str) -> Expectation {
    let mut read = expectation::parse(comment);
    assert_eq!(read.len(), 1, "{comment}: {read:?}");
    read.remove(0)
}

#[test]
fn the_templates_comments_are_read() {
    use Expectation::*;
    assert_eq!(one("80%+ coverage on new modules"), Coverage { percent: 80.0, scope: CoverageScope::Changed });
    assert_eq!(one("0 regressions"), Tests { at_least: 1 });
    assert_eq!(one("svelte-check passes"), NoTypeErrors);
    assert_eq!(one("0 failures"), Tests { at_least: 1 });
    assert_eq!(one("prints 5 lines"), Lines(5));
    assert_eq!(one("prints three lines"), Lines(3));
}

#[test]
fn common_comments_are_read() {
    use Expectation::*;
    for succeeds in [
        "exits 0",
        "exit code 0",
        "succeeds",
        "passes",
        "builds",
        "compiles cleanly",
        "no errors",
        "lint passes",
        "imports",
        "runs without errors",
    ] {
        assert_eq!(one(succeeds), Succeeds, "{succeeds}");
    }
    assert_eq!(one("all tests pass"), Tests { at_least: 1 });
    assert_eq!(one("no failing tests"), Tests { at_least: 1 });
    assert_eq!(one("12 passed"), Tests { at_least: 12 });
    assert_eq!(one("three tests pass"), Tests { at_least: 3 });
    assert_eq!(one("coverage >= 85%"), Coverage { percent: 85.0, scope: CoverageScope::Total });
    assert_eq!(one("no type errors"), NoTypeErrors);
    assert_eq!(one("mypy clean"), NoTypeErrors);
    assert_eq!(one("prints `hello, world`"), Prints("hello, world".into()));
    assert_eq!(one("prints \"3 rows\""), Prints("3 rows".into()));
    assert_eq!(
        expectation::parse("all tests pass and coverage of changed code at least 90%"),
        [Tests { at_least: 1 }, Coverage { percent: 90.0, scope: CoverageScope::Changed }]
    );
}

#[test]
fn what_is_not_understood_is_never_guessed() {
    for text in
        ["greets", "imports the world", "the report looks right", "coverage is good", "prints the report", "2 failures"]
    {
        assert_eq!(one(text), Expectation::Unreadable(text.into()), "{text}");
    }
    assert!(expectation::parse("  ").is_empty());
}

fn tests(passed: u64, failed: u64) -> Option<(TestCounts, String)> {
    Some((TestCounts { passed, failed, skipped: 0 }, "vitest summary".into()))
}

#[test]
fn test_counts_decide_test_expectations() {
    let expect = [Expectation::Tests { at_least: 1 }];
    let seen = Observed { tests: tests(4, 0), ..Default::default() };
    assert_eq!(expectation::judge(&expect, &seen), Judged::Passed("4 passed, 0 failed (from vitest summary)".into()));
    let seen = Observed { tests: tests(3, 1), ..Default::default() };
    assert!(matches!(expectation::judge(&expect, &seen), Judged::Failed(d) if d.starts_with("1 test(s) failed")));
    let seen = Observed { tests: tests(0, 0), ..Default::default() };
    assert!(matches!(expectation::judge(&expect, &seen), Judged::Failed(_)), "no test ran proves nothing");
    let Judged::Unchecked(why) = expectation::judge(&expect, &Observed::default()) else { panic!() };
    assert!(why.contains("no test summary"), "{why}");
    let at_least = [Expectation::Tests { at_least: 5 }];
    assert!(matches!(
        expectation::judge(&at_least, &Observed { tests: tests(4, 0), ..Default::default() }),
        Judged::Failed(_)
    ));
}

#[test]
fn coverage_is_read_from_the_report_of_the_lines_asked_for() {
    let expect = [Expectation::Coverage { percent: 80.0, scope: CoverageScope::Changed }];
    let coverage = SeenCoverage {
        source: "coverage/lcov.info".into(),
        changed: (6, 8),
        total: (90, 100),
        uncovered: vec!["src/lib/store.ts:4".into(), "src/lib/store.ts:9".into()],
    };
    let seen = Observed { coverage: Some(coverage.clone()), ..Default::default() };
    let Judged::Failed(why) = expectation::judge(&expect, &seen) else { panic!() };
    assert_eq!(
        why,
        "75.0% of the 8 coverable lines the run added or changed are covered (from coverage/lcov.info), 80% expected; not covered: src/lib/store.ts:4, src/lib/store.ts:9"
    );
    let total = [Expectation::Coverage { percent: 80.0, scope: CoverageScope::Total }];
    assert!(matches!(expectation::judge(&total, &seen), Judged::Passed(d) if d.starts_with("90.0% of the 100")));
    let Judged::Unchecked(why) = expectation::judge(&expect, &Observed::default()) else { panic!() };
    assert!(why.contains("no fresh lcov or Cobertura report"), "{why}");
}

#[test]
fn type_errors_output_and_unreadable_text() {
    let clean = Some(TypeErrors { errors: 0, source: TypeSource::SvelteCheck });
    let dirty = Some(TypeErrors { errors: 2, source: TypeSource::SvelteCheck });
    let expect = [Expectation::NoTypeErrors];
    assert!(matches!(
        expectation::judge(&expect, &Observed { type_errors: clean, ..Default::default() }),
        Judged::Passed(_)
    ));
    assert!(matches!(
        expectation::judge(&expect, &Observed { type_errors: dirty, ..Default::default() }),
        Judged::Failed(_)
    ));
    let tsc = Observed { command: "npx tsc --noEmit", ..Default::default() };
    assert!(matches!(expectation::judge(&expect, &tsc), Judged::Passed(_)), "tsc is silent when clean");
    assert!(matches!(expectation::judge(&expect, &Observed::default()), Judged::Unchecked(_)));

    let out = Observed { output: "a\n\nb\nc\n", ..Default::default() };
    assert!(matches!(expectation::judge(&[Expectation::Lines(3)], &out), Judged::Passed(_)));
    assert!(matches!(expectation::judge(&[Expectation::Lines(2)], &out), Judged::Failed(_)));
    assert!(matches!(expectation::judge(&[Expectation::Prints("b".into())], &out), Judged::Passed(_)));
    // A failure wins over what could not be checked, which wins over what passed.
    let mixed = [Expectation::Succeeds, Expectation::Unreadable("greets".into()), Expectation::Lines(2)];
    assert!(matches!(expectation::judge(&mixed, &out), Judged::Failed(_)));
    let Judged::Unchecked(why) = expectation::judge(&mixed[..2], &out) else { panic!() };
    assert!(why.contains("\"greets\"") && why.contains("a person checks it"), "{why}");
    assert_eq!(expectation::judge(&[], &out), Judged::Passed("exited 0".into()));
}

proptest! {
    #[test]
    fn any_comment_is_read_without_panicking_and_never_read_as_nothing(comment in "\\PC{0,80}") {
        let read = expectation::parse(&comment);
        // Text with a letter or digit in it (besides the separator ` and `) is never read as no
        // expectation at all.
        if comment.replace(" and ", " ").chars().any(char::is_alphanumeric) {
            prop_assert!(!read.is_empty());
        }
        for e in &read {
            if let Expectation::Unreadable(text) = e {
                prop_assert!(comment.contains(text.as_str()));
            }
        }
        // Judging never passes what it could not read.
        let judged = expectation::judge(&read, &Observed::default());
        if read.iter().any(|e| matches!(e, Expectation::Unreadable(_))) {
            prop_assert!(!matches!(judged, Judged::Passed(_)));
        }
    }
}

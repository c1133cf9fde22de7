//! Test counts and type-check errors read from realistic tool output.

use evidence::results::{
    JunitError, MAX_FAILURE_NAMES, Source, TestCounts, TypeErrors, TypeSource, parse_junit, parse_summary, type_errors,
};
use proptest::prelude::*;

fn counts(passed: u64, failed: u64, skipped: u64) -> TestCounts {
    TestCounts { passed, failed, skipped }
}

// ---------------------------------------------------------------------------------------------
// JUnit XML
// ---------------------------------------------------------------------------------------------

/// `pytest --junitxml=report.xml` (pytest 8): one line, `<testsuites name="pytest tests">`.
const PYTEST_JUNIT: &str = r#"<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="7" time="0.421" timestamp="2024-05-02T10:12:03.412345+00:00" hostname="runner-7"><testcase classname="tests.test_cart" name="test_adds_items" time="0.001" /><testcase classname="tests.test_cart" name="test_discount_applies" time="0.002"><failure message="assert 90 == 85&#10; +  where 90 = total([90], discount=5)">def test_discount_applies():
&gt;       assert total([90], discount=5) == 85
E       assert 90 == 85
E        +  where 90 = total([90], discount=5)

tests/test_cart.py:21: AssertionError</failure></testcase><testcase classname="tests.test_cart" name="test_empty_total[0]" time="0.001" /><testcase classname="tests.test_cart" name="test_slow_checkout" time="0.000"><skipped type="pytest.skip" message="needs a payment sandbox">/home/ci/shop/tests/test_cart.py:30: needs a payment sandbox</skipped></testcase><testcase classname="tests.test_api" name="test_legacy_totals" time="0.003"><skipped type="pytest.xfail" message="rounding bug #212" /></testcase><testcase classname="tests.test_api" name="test_checkout_with_db" time="0.010"><error message="failed on setup with &quot;ConnectionRefusedError: [Errno 111] Connection refused&quot;">@pytest.fixture
    def db():
&gt;       return connect("localhost:5432")
E       ConnectionRefusedError: [Errno 111] Connection refused

tests/conftest.py:8: ConnectionRefusedError</error></testcase><testcase classname="tests.test_api" name="test_health" time="0.001" /></testsuite></testsuites>"#;

/// `cargo nextest run --profile ci` with `[profile.ci.junit] path = "junit.xml"`.
const NEXTEST_JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="4" failures="1" errors="0" uuid="45c50d0d-6d1b-4a4c-a4b6-8e4f7c1f3a7b" timestamp="2024-05-02T10:12:03.412+00:00" time="0.012">
    <testsuite name="shop" tests="3" disabled="0" errors="0" failures="1">
        <testcase name="cart::tests::adds_items" classname="shop" timestamp="2024-05-02T10:12:03.413+00:00" time="0.004">
        </testcase>
        <testcase name="cart::tests::discount_applies_once" classname="shop" timestamp="2024-05-02T10:12:03.413+00:00" time="0.005">
            <failure type="test failure with exit code 101">thread &apos;cart::tests::discount_applies_once&apos; panicked at src/cart.rs:88:9:
assertion `left == right` failed
  left: 90
 right: 85
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace</failure>
            <system-out></system-out>
            <system-err>thread &apos;cart::tests::discount_applies_once&apos; panicked at src/cart.rs:88:9:
assertion `left == right` failed</system-err>
        </testcase>
        <testcase name="cart::tests::flaky_network" classname="shop" timestamp="2024-05-02T10:12:03.414+00:00" time="0.006">
            <flakyFailure type="test failure with exit code 101" timestamp="2024-05-02T10:12:03.414+00:00" time="0.003">
                <system-out></system-out>
                <system-err>thread &apos;cart::tests::flaky_network&apos; panicked at src/cart.rs:120:5:
connection reset</system-err>
            </flakyFailure>
        </testcase>
    </testsuite>
    <testsuite name="shop::api" tests="1" disabled="0" errors="0" failures="0">
        <testcase name="checkout_flow" classname="shop::api" timestamp="2024-05-02T10:12:03.415+00:00" time="0.010">
        </testcase>
    </testsuite>
</testsuites>
"#;

#[test]
fn junit_from_pytest() {
    let report = parse_junit(PYTEST_JUNIT).unwrap();
    assert_eq!(report.source, Source::JUnit);
    // 3 passed; the failure and the setup error fail; skip and xfail are skipped.
    assert_eq!(report.counts, counts(3, 2, 2));
    assert_eq!(report.failures, ["tests.test_cart::test_discount_applies", "tests.test_api::test_checkout_with_db"]);
}

#[test]
fn junit_from_nextest_counts_flaky_tests_as_passed() {
    let report = parse_junit(NEXTEST_JUNIT).unwrap();
    assert_eq!(report.counts, counts(3, 1, 0));
    assert_eq!(report.failures, ["shop::cart::tests::discount_applies_once"]);
}

#[test]
fn junit_with_a_lone_testsuite_root_and_nested_suites() {
    // Maven Surefire writes one <testsuite> per class; some JS reporters nest suites.
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="com.shop.CartTest" time="0.052" tests="3" errors="0" skipped="1" failures="1">
  <properties><property name="java.version" value="21.0.2"/></properties>
  <testsuite name="Discounts" tests="2">
    <testcase name="appliesOnce" classname="com.shop.CartTest" time="0.011">
      <failure message="expected: &lt;85&gt; but was: &lt;90&gt;" type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: expected: &lt;85&gt; but was: &lt;90&gt;</failure>
    </testcase>
    <testcase name="stacks" classname="com.shop.CartTest" time="0.001"><skipped/></testcase>
  </testsuite>
  <testcase name="addsItems" classname="com.shop.CartTest" time="0.002"/>
</testsuite>"#;
    let report = parse_junit(xml).unwrap();
    assert_eq!(report.counts, counts(1, 1, 1));
    assert_eq!(report.failures, ["com.shop.CartTest::appliesOnce"]);
}

#[test]
fn junit_without_testcases_reads_the_attributes() {
    // The root's totals win when it has them.
    let xml = r#"<testsuites name="jest tests" tests="12" failures="2" errors="1" time="3.1">
  <testsuite name="cart" tests="8" failures="2" errors="1" skipped="1"/>
  <testsuite name="api" tests="4" failures="0" errors="0" skipped="0"/>
</testsuites>"#;
    assert_eq!(parse_junit(xml).unwrap().counts, counts(9, 3, 0));

    // Without root totals, the outermost suites that state totals are added up, once.
    let xml = r#"<testsuites>
  <testsuite name="cart" tests="8" failures="2" errors="1" skipped="1">
    <testsuite name="cart/discounts" tests="3" failures="2"/>
  </testsuite>
  <testsuite name="group"><testsuite name="api" tests="4" disabled="1"/></testsuite>
</testsuites>"#;
    assert_eq!(parse_junit(xml).unwrap().counts, counts(7, 3, 2));

    assert_eq!(parse_junit("<testsuites/>").unwrap().counts, counts(0, 0, 0));
}

#[test]
fn junit_errors_say_what_is_wrong() {
    let err = parse_junit("<testsuites><testsuite>").unwrap_err();
    assert!(matches!(err, JunitError::Xml(_)), "{err:?}");
    assert!(err.to_string().starts_with("JUnit report is not well-formed XML"), "{err}");

    let err = parse_junit(r#"<coverage line-rate="0.9"/>"#).unwrap_err();
    assert_eq!(err, JunitError::UnexpectedRoot { found: "coverage".into() });
    assert_eq!(
        err.to_string(),
        "not a JUnit report: the root element is <coverage>, expected <testsuites> or <testsuite>"
    );

    let err = parse_junit("<testsuites>\n  <testsuite name=\"a\" tests=\"many\"/>\n</testsuites>").unwrap_err();
    assert_eq!(err.to_string(), "JUnit report line 2: <testsuite> has tests=\"many\", expected a whole number");
}

#[test]
fn junit_failure_names_are_capped_but_counts_are_not() {
    let mut xml = String::from("<testsuite>");
    for i in 0..120 {
        xml.push_str(&format!(r#"<testcase classname="t" name="case_{i}"><failure/></testcase>"#));
    }
    xml.push_str("</testsuite>");
    let report = parse_junit(&xml).unwrap();
    assert_eq!(report.counts.failed, 120);
    assert_eq!(report.failures.len(), MAX_FAILURE_NAMES);
    assert_eq!(report.failures[0], "t::case_0");
}

// ---------------------------------------------------------------------------------------------
// cargo test and cargo nextest
// ---------------------------------------------------------------------------------------------

/// `cargo test` in a workspace, coloured as in a terminal: a failing unit-test binary, an
/// integration-test binary and doc tests.
const CARGO_TEST: &str = "   \x1b[1m\x1b[32mCompiling\x1b[0m shop v0.1.0 (/home/ci/shop)
    \x1b[1m\x1b[32mFinished\x1b[0m `test` profile [unoptimized + debuginfo] target(s) in 2.31s
     \x1b[1m\x1b[32mRunning\x1b[0m unittests src/lib.rs (target/debug/deps/shop-1a2b3c4d5e6f7a8b)

running 4 tests
test cart::tests::empty_cart_total_is_zero ... \x1b[32mok\x1b[0m
test cart::tests::discount_applies_once ... \x1b[31mFAILED\x1b[0m
test cart::tests::adds_items ... \x1b[32mok\x1b[0m
test cart::tests::slow_checkout ... \x1b[33mignored\x1b[0m

failures:

---- cart::tests::discount_applies_once stdout ----

thread 'cart::tests::discount_applies_once' panicked at src/cart.rs:88:9:
assertion `left == right` failed
  left: 90
 right: 85
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    cart::tests::discount_applies_once

test result: \x1b[31mFAILED\x1b[0m. 2 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

     \x1b[1m\x1b[32mRunning\x1b[0m tests/api.rs (target/debug/deps/api-9f8e7d6c5b4a3f2e)

running 2 tests
test checkout_flow ... \x1b[32mok\x1b[0m
test health ... \x1b[32mok\x1b[0m

test result: \x1b[32mok\x1b[0m. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

   \x1b[1m\x1b[32mDoc-tests\x1b[0m shop

running 2 tests
test src/lib.rs - add (line 5) ... \x1b[32mok\x1b[0m
test src/cart.rs - cart::Cart::total (line 40) ... \x1b[31mFAILED\x1b[0m

test result: \x1b[31mFAILED\x1b[0m. 1 passed; 1 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.12s

\x1b[1m\x1b[31merror\x1b[0m: 2 targets failed:
    `--lib`
    `--doc`
";

#[test]
fn cargo_test_sums_every_binary_and_the_doc_tests() {
    let report = parse_summary(CARGO_TEST).unwrap();
    assert_eq!(report.source, Source::CargoTest);
    assert_eq!(report.counts, counts(5, 2, 1));
    assert_eq!(report.failures, ["cart::tests::discount_applies_once", "src/cart.rs - cart::Cart::total (line 40)"]);
}

#[test]
fn cargo_test_all_green() {
    let output = "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n\
                  running 12 tests\n............\ntest result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.03s\n";
    let report = parse_summary(output).unwrap();
    assert_eq!(report.counts, counts(12, 0, 0));
    assert!(report.failures.is_empty());
}

/// `cargo nextest run`, coloured.
const NEXTEST: &str = "\x1b[1m\x1b[32m    Finished\x1b[0m `test` profile [unoptimized + debuginfo] target(s) in 0.08s
\x1b[1m\x1b[32m    Starting\x1b[0m \x1b[1m6\x1b[0m tests across \x1b[1m2\x1b[0m binaries (\x1b[1m1\x1b[0m test skipped)
\x1b[1m\x1b[32m        PASS\x1b[0m [   0.004s] \x1b[35mshop\x1b[0m \x1b[36mcart::tests::\x1b[0m\x1b[1m\x1b[34madds_items\x1b[0m
\x1b[1m\x1b[31m        FAIL\x1b[0m [   0.005s] \x1b[35mshop\x1b[0m \x1b[36mcart::tests::\x1b[0m\x1b[1m\x1b[34mdiscount_applies_once\x1b[0m

\x1b[1m\x1b[31m--- STDERR:              shop cart::tests::discount_applies_once ---\x1b[0m
thread 'cart::tests::discount_applies_once' panicked at src/cart.rs:88:9:
assertion `left == right` failed
  left: 90
 right: 85

\x1b[1m\x1b[35m   TRY 1 FAIL\x1b[0m [   0.003s] \x1b[35mshop\x1b[0m \x1b[36mcart::tests::\x1b[0m\x1b[1m\x1b[34mflaky_network\x1b[0m
\x1b[1m\x1b[33m  TRY 2 PASS\x1b[0m [   0.003s] \x1b[35mshop\x1b[0m \x1b[36mcart::tests::\x1b[0m\x1b[1m\x1b[34mflaky_network\x1b[0m
\x1b[1m\x1b[31m     TIMEOUT\x1b[0m [  60.002s] \x1b[35mshop::api\x1b[0m \x1b[1m\x1b[34mslow_checkout\x1b[0m
\x1b[1m\x1b[32m        PASS\x1b[0m [   0.010s] \x1b[35mshop::api\x1b[0m \x1b[1m\x1b[34mcheckout_flow\x1b[0m
\x1b[1m\x1b[32m        PASS\x1b[0m [   0.001s] \x1b[35mshop::api\x1b[0m \x1b[1m\x1b[34mhealth\x1b[0m
------------
\x1b[1m\x1b[31m     Summary\x1b[0m [  60.012s] \x1b[1m6\x1b[0m tests run: \x1b[1m4\x1b[0m \x1b[32mpassed\x1b[0m (\x1b[1m1\x1b[0m \x1b[33mflaky\x1b[0m), \x1b[1m1\x1b[0m \x1b[31mfailed\x1b[0m, \x1b[1m1\x1b[0m \x1b[31mtimed out\x1b[0m, \x1b[1m1\x1b[0m \x1b[33mskipped\x1b[0m
\x1b[1m\x1b[31m        FAIL\x1b[0m [   0.005s] \x1b[35mshop\x1b[0m \x1b[36mcart::tests::\x1b[0m\x1b[1m\x1b[34mdiscount_applies_once\x1b[0m
\x1b[1m\x1b[31m     TIMEOUT\x1b[0m [  60.002s] \x1b[35mshop::api\x1b[0m \x1b[1m\x1b[34mslow_checkout\x1b[0m
\x1b[1m\x1b[31merror\x1b[0m: test run failed
";

#[test]
fn nextest_summary_with_flaky_and_timed_out_tests() {
    let report = parse_summary(NEXTEST).unwrap();
    assert_eq!(report.source, Source::Nextest);
    assert_eq!(report.counts, counts(4, 2, 1));
    assert_eq!(report.failures, ["shop cart::tests::discount_applies_once", "shop::api slow_checkout"]);
}

#[test]
fn nextest_summary_variants() {
    let green = "     Summary [   0.123s] 10 tests run: 10 passed, 0 skipped\n";
    assert_eq!(parse_summary(green).unwrap().counts, counts(10, 0, 0));

    let one = "     Summary [   0.002s] 1 test run: 1 passed, 0 skipped\n";
    assert_eq!(parse_summary(one).unwrap().counts, counts(1, 0, 0));

    // Cancelled after the first failure; newer nextest prints progress counters on status lines.
    let cancelled = "        FAIL [   0.005s] (2/10) shop cart::tests::b\n\
                     Cancelling due to test failure\n\
                     ------------\n\
                     \x20    Summary [   0.020s] 2/10 tests run: 1 passed (1 slow, 1 leaky), 1 failed, 2 exec failed, 3 skipped\n";
    let report = parse_summary(cancelled).unwrap();
    assert_eq!(report.counts, counts(1, 3, 3));
    assert_eq!(report.failures, ["shop cart::tests::b"]);
}

// ---------------------------------------------------------------------------------------------
// pytest
// ---------------------------------------------------------------------------------------------

const PYTEST: &str = "============================= test session starts ==============================
platform linux -- Python 3.12.3, pytest-8.2.0, pluggy-1.5.0
rootdir: /home/ci/shop
configfile: pyproject.toml
plugins: cov-5.0.0
collected 17 items / 1 deselected / 16 selected

tests/test_cart.py ..F.s..                                               [ 43%]
tests/test_api.py ....xE...                                              [100%]

==================================== ERRORS ====================================
_________________ ERROR at setup of test_checkout_with_db ______________________

    @pytest.fixture
    def db():
>       return connect(\"localhost:5432\")
E       ConnectionRefusedError: [Errno 111] Connection refused

tests/conftest.py:8: ConnectionRefusedError
=================================== FAILURES ===================================
____________________________ test_discount_applies _____________________________

    def test_discount_applies():
>       assert total([90], discount=5) == 85
E       assert 90 == 85

tests/test_cart.py:21: AssertionError
=============================== warnings summary ===============================
tests/test_api.py::test_health
  /home/ci/shop/src/shop/api.py:4: DeprecationWarning: datetime.utcnow() is deprecated
    return datetime.utcnow()

-- Docs: https://docs.pytest.org/en/stable/how-to/capture-warnings.html
=========================== short test summary info ============================
FAILED tests/test_cart.py::test_discount_applies - assert 90 == 85
ERROR tests/test_api.py::test_checkout_with_db - ConnectionRefusedError: [Errno 111] Connection refused
= 1 failed, 12 passed, 1 skipped, 1 deselected, 1 xfailed, 1 warning, 1 error in 0.42s =
";

#[test]
fn pytest_summary_with_every_outcome() {
    let report = parse_summary(PYTEST).unwrap();
    assert_eq!(report.source, Source::Pytest);
    assert_eq!(report.counts, counts(12, 2, 2));
    assert_eq!(
        report.failures,
        ["tests/test_cart.py::test_discount_applies", "tests/test_api.py::test_checkout_with_db"]
    );
}

#[test]
fn pytest_summary_variants() {
    let quiet = "........                                                                 [100%]\n8 passed in 0.01s\n";
    assert_eq!(parse_summary(quiet).unwrap().counts, counts(8, 0, 0));

    // Coloured, as with `--color=yes` in CI, with a long run's clock time.
    let coloured = "\x1b[31m========= \x1b[31m\x1b[1m3 failed\x1b[0m, \x1b[32m10 passed\x1b[0m, \x1b[33m2 skipped\x1b[0m, \x1b[33m1 xpassed\x1b[0m, \x1b[33m4 warnings\x1b[0m\x1b[31m in 72.08s (0:01:12)\x1b[0m\x1b[31m =========\x1b[0m\n";
    assert_eq!(parse_summary(coloured).unwrap().counts, counts(11, 3, 2));

    // pytest says no test ran: that is a real zero, not a missing summary.
    let none =
        "collected 0 items\n\n============================ no tests ran in 0.01s =============================\n";
    assert_eq!(parse_summary(none).unwrap().counts, counts(0, 0, 0));

    // Older pytest wrote "seconds".
    let old = "==================== 2 failed, 1 passed, 2 errors in 0.05 seconds ====================\n";
    assert_eq!(parse_summary(old).unwrap().counts, counts(1, 4, 0));

    // Collection errors interrupt the session.
    let interrupted = "ERROR tests/test_api.py - ModuleNotFoundError: No module named 'shop.payments'\n\
                       !!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!\n\
                       =============================== 1 error in 0.12s ===============================\n";
    let report = parse_summary(interrupted).unwrap();
    assert_eq!(report.counts, counts(0, 1, 0));
    assert_eq!(report.failures, ["tests/test_api.py"]);
}

// ---------------------------------------------------------------------------------------------
// vitest and jest
// ---------------------------------------------------------------------------------------------

const VITEST: &str = "
\x1b[7m\x1b[1m\x1b[36m RUN \x1b[39m\x1b[22m\x1b[27m \x1b[36mv1.6.0 \x1b[39m\x1b[90m/home/ci/web\x1b[39m

 \x1b[32m✓\x1b[39m src/utils/format.test.ts \x1b[2m (5 tests)\x1b[22m\x1b[90m 4\x1b[2mms\x1b[22m\x1b[39m
 \x1b[31m❯\x1b[39m src/cart.test.ts \x1b[2m (4 tests | \x1b[22m\x1b[31m1 failed\x1b[39m\x1b[2m | \x1b[22m\x1b[33m1 skipped\x1b[39m\x1b[2m)\x1b[22m\x1b[90m 9\x1b[2mms\x1b[22m\x1b[39m
   \x1b[31m   × cart > applies the discount once\x1b[39m

\x1b[31m⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯\x1b[39m

\x1b[41m\x1b[1m FAIL \x1b[22m\x1b[49m src/cart.test.ts \x1b[2m>\x1b[22m cart \x1b[2m>\x1b[22m applies the discount once
\x1b[31m\x1b[1mAssertionError\x1b[22m: expected 90 to be 85 // Object.is equality\x1b[39m

\x1b[32m- Expected\x1b[39m
\x1b[31m+ Received\x1b[39m

\x1b[32m- 85\x1b[39m
\x1b[31m+ 90\x1b[39m

\x1b[36m \x1b[2m❯\x1b[22m src/cart.test.ts:\x1b[2m21:35\x1b[22m\x1b[39m
    \x1b[90m 19| \x1b[39m  \x1b[34mit\x1b[39m(\x1b[32m'applies the discount once'\x1b[39m\x1b[33m,\x1b[39m () \x1b[33m=>\x1b[39m {

\x1b[31m\x1b[2m⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/1]⎯\x1b[22m\x1b[39m

\x1b[2m Test Files \x1b[22m \x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m\x1b[2m | \x1b[22m\x1b[1m\x1b[32m1 passed\x1b[39m\x1b[22m\x1b[90m (2)\x1b[39m
\x1b[2m      Tests \x1b[22m \x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m\x1b[2m | \x1b[22m\x1b[1m\x1b[32m7 passed\x1b[39m\x1b[22m\x1b[2m | \x1b[22m\x1b[33m1 skipped\x1b[39m\x1b[2m | \x1b[22m\x1b[90m1 todo\x1b[39m\x1b[90m (10)\x1b[39m
\x1b[2m   Start at \x1b[22m 10:12:03
\x1b[2m   Duration \x1b[22m 412ms\x1b[2m (transform 58ms, setup 0ms, collect 71ms, tests 13ms, environment 0ms, prepare 142ms)\x1b[22m
";

#[test]
fn vitest_summary_with_colours() {
    let report = parse_summary(VITEST).unwrap();
    assert_eq!(report.source, Source::Vitest);
    assert_eq!(report.counts, counts(7, 1, 2));
    assert_eq!(report.failures, ["src/cart.test.ts > cart > applies the discount once"]);
}

#[test]
fn vitest_counts_a_file_that_failed_to_load() {
    let output = " FAIL  src/cart.test.ts [ src/cart.test.ts ]\n\
                  Error: Failed to load url ./carts (resolved id: ./carts) in /home/ci/web/src/cart.test.ts. Does the file exist?\n\n\
                  \x20Test Files  1 failed | 1 passed (2)\n\
                  \x20     Tests  5 passed (5)\n\
                  \x20  Start at  10:12:03\n\
                  \x20  Duration  301ms\n";
    assert_eq!(parse_summary(output).unwrap().counts, counts(5, 1, 0));

    let nothing_ran = " Test Files  1 failed (1)\n      Tests  no tests\n   Start at  10:12:03\n";
    assert_eq!(parse_summary(nothing_ran).unwrap().counts, counts(0, 1, 0));

    let unhandled = " Test Files  2 passed (2)\n      Tests  9 passed (9)\n     Errors  1 error\n";
    assert_eq!(parse_summary(unhandled).unwrap().counts, counts(9, 1, 0));
}

const JEST: &str = "\x1b[0m\x1b[7m\x1b[1m\x1b[32m PASS \x1b[39m\x1b[22m\x1b[27m\x1b[0m \x1b[2msrc/\x1b[22m\x1b[1mformat.test.js\x1b[22m
\x1b[0m\x1b[7m\x1b[1m\x1b[31m FAIL \x1b[39m\x1b[22m\x1b[27m\x1b[0m \x1b[2msrc/\x1b[22m\x1b[1mcart.test.js\x1b[22m
\x1b[1m\x1b[31m  \x1b[1m● \x1b[22m\x1b[1mcart › applies the discount once\x1b[39m\x1b[22m

    \x1b[2mexpect(\x1b[22m\x1b[31mreceived\x1b[39m\x1b[2m).\x1b[22mtoBe\x1b[2m(\x1b[22m\x1b[32mexpected\x1b[39m\x1b[2m) // Object.is equality\x1b[22m

    Expected: \x1b[32m85\x1b[39m
    Received: \x1b[31m90\x1b[39m

  \x1b[1m● \x1b[22mConsole

    console.log
      computing total

\x1b[1mTest Suites: \x1b[22m\x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m, \x1b[1m\x1b[32m1 passed\x1b[39m\x1b[22m, 2 total
\x1b[1mTests:       \x1b[22m\x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m, \x1b[1m\x1b[33m1 skipped\x1b[39m\x1b[22m, \x1b[1m\x1b[35m1 todo\x1b[39m\x1b[22m, \x1b[1m\x1b[32m7 passed\x1b[39m\x1b[22m, 10 total
\x1b[1mSnapshots:   \x1b[22m0 total
\x1b[1mTime:\x1b[22m        1.234 s
\x1b[2mRan all test suites\x1b[22m\x1b[2m.\x1b[22m
";

#[test]
fn jest_summary_with_colours() {
    let report = parse_summary(JEST).unwrap();
    assert_eq!(report.source, Source::Jest);
    assert_eq!(report.counts, counts(7, 1, 2));
    assert_eq!(report.failures, ["cart › applies the discount once"]);
}

#[test]
fn jest_counts_a_suite_that_failed_to_run() {
    let output = " FAIL  src/cart.test.js\n  ● Test suite failed to run\n\n    Cannot find module './carts' from 'src/cart.test.js'\n\n\
                  Test Suites: 1 failed, 1 passed, 2 total\nTests:       4 passed, 4 total\nSnapshots:   0 total\nTime:        0.9 s\n";
    let report = parse_summary(output).unwrap();
    assert_eq!(report.counts, counts(4, 1, 0));
    assert!(report.failures.is_empty());

    let empty = "Test Suites: 0 total\nTests:       0 total\nSnapshots:   0 total\n";
    assert_eq!(parse_summary(empty).unwrap().counts, counts(0, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// go test
// ---------------------------------------------------------------------------------------------

const GO_TEST_VERBOSE: &str = "=== RUN   TestAdd
--- PASS: TestAdd (0.00s)
=== RUN   TestDiscount
    cart_test.go:21: got 90, want 85
--- FAIL: TestDiscount (0.00s)
=== RUN   TestTable
=== RUN   TestTable/empty
=== RUN   TestTable/one_item
--- PASS: TestTable (0.00s)
    --- PASS: TestTable/empty (0.00s)
    --- PASS: TestTable/one_item (0.00s)
=== RUN   TestSlow
    cart_test.go:40: skipping in short mode
--- SKIP: TestSlow (0.00s)
FAIL
FAIL\texample.com/shop/cart\t0.004s
=== RUN   TestHealth
--- PASS: TestHealth (0.00s)
PASS
ok  \texample.com/shop/api\t0.012s
?   \texample.com/shop/cmd/shop\t[no test files]
FAIL
";

#[test]
fn go_test_verbose_counts_tests_and_subtests() {
    let report = parse_summary(GO_TEST_VERBOSE).unwrap();
    assert_eq!(report.source, Source::GoTest);
    assert_eq!(report.counts, counts(5, 1, 1));
    assert_eq!(report.failures, ["TestDiscount"]);
}

#[test]
fn go_test_without_verbose_counts_packages() {
    let output = "--- FAIL: TestDiscount (0.00s)\n    cart_test.go:21: got 90, want 85\nFAIL\n\
                  FAIL\texample.com/shop/cart\t0.004s\nok  \texample.com/shop/api\t(cached)\n\
                  ?   \texample.com/shop/cmd/shop\t[no test files]\nFAIL\n";
    let report = parse_summary(output).unwrap();
    assert_eq!(report.counts, counts(1, 1, 0));
    assert_eq!(report.failures, ["TestDiscount"]);

    let build_failed = "# example.com/shop/cart [example.com/shop/cart.test]\ncart/cart_test.go:9:2: undefined: Totl\n\
                        FAIL\texample.com/shop/cart [build failed]\nok  \texample.com/shop/api\t0.010s\nFAIL\n";
    let report = parse_summary(build_failed).unwrap();
    assert_eq!(report.counts, counts(1, 1, 0));
    assert_eq!(report.failures, ["example.com/shop/cart"]);
}

#[test]
fn go_test_verbose_still_counts_a_package_that_did_not_build() {
    let output = "FAIL\texample.com/shop/cart [build failed]\n=== RUN   TestHealth\n--- PASS: TestHealth (0.00s)\nPASS\nok  \texample.com/shop/api\t0.012s\nFAIL\n";
    assert_eq!(parse_summary(output).unwrap().counts, counts(1, 1, 0));
}

// ---------------------------------------------------------------------------------------------
// node --test
// ---------------------------------------------------------------------------------------------

const NODE_TAP: &str = "TAP version 13
# Subtest: adds numbers
ok 1 - adds numbers
  ---
  duration_ms: 0.512
  ...
# Subtest: applies the discount once
not ok 2 - applies the discount once
  ---
  duration_ms: 1.03
  location: '/home/ci/shop/test/cart.test.mjs:7:1'
  failureType: 'testCodeFailure'
  error: |-
    Expected values to be strictly equal:

    90 !== 85

  code: 'ERR_ASSERTION'
  ...
# Subtest: later
ok 3 - later # SKIP
  ---
  duration_ms: 0.1
  ...
1..3
# tests 3
# suites 0
# pass 1
# fail 1
# cancelled 0
# skipped 1
# todo 0
# duration_ms 48.2
";

const NODE_SPEC: &str = "\x1b[32m✔ adds numbers \x1b[90m(0.512ms)\x1b[39m\x1b[39m
\x1b[31m✖ applies the discount once \x1b[90m(1.03ms)\x1b[39m\x1b[39m
  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:

  90 !== 85

      at TestContext.<anonymous> (file:///home/ci/shop/test/cart.test.mjs:9:10)

\x1b[34m﹣ later \x1b[90m(0.1ms)\x1b[39m # SKIP\x1b[39m
\x1b[34mℹ tests 3\x1b[39m
\x1b[34mℹ suites 0\x1b[39m
\x1b[34mℹ pass 1\x1b[39m
\x1b[34mℹ fail 1\x1b[39m
\x1b[34mℹ cancelled 0\x1b[39m
\x1b[34mℹ skipped 1\x1b[39m
\x1b[34mℹ todo 0\x1b[39m
\x1b[34mℹ duration_ms 52.3\x1b[39m

\x1b[31m✖ failing tests:\x1b[39m

test at test/cart.test.mjs:7:1
\x1b[31m✖ applies the discount once \x1b[90m(1.03ms)\x1b[39m\x1b[39m
";

#[test]
fn node_test_tap_and_spec_reporters() {
    for output in [NODE_TAP, NODE_SPEC] {
        let report = parse_summary(output).unwrap();
        assert_eq!(report.source, Source::NodeTest);
        assert_eq!(report.counts, counts(1, 1, 1));
        assert_eq!(report.failures, ["applies the discount once"]);
    }
    let cancelled = "# tests 2\n# pass 1\n# fail 0\n# cancelled 1\n# skipped 0\n# todo 1\n";
    assert_eq!(parse_summary(cancelled).unwrap().counts, counts(1, 1, 1));
}

// ---------------------------------------------------------------------------------------------
// Several runners, and no runner at all
// ---------------------------------------------------------------------------------------------

#[test]
fn several_runners_in_one_output_are_added_up() {
    let output = format!("{CARGO_TEST}\n> web@1.0.0 test\n> vitest run\n{VITEST}");
    let report = parse_summary(&output).unwrap();
    assert_eq!(report.counts, counts(12, 3, 3));
    assert_eq!(report.source, Source::Vitest, "vitest ran the most tests");
    assert_eq!(report.failures.len(), 3);
}

#[test]
fn no_summary_is_none_not_zero() {
    let compile_error = "   Compiling shop v0.1.0 (/home/ci/shop)\nerror[E0425]: cannot find value `totl` in this scope\n  --> src/cart.rs:3:5\n\n\
                         error: could not compile `shop` (lib test) due to 1 previous error\n";
    assert_eq!(parse_summary(compile_error), None);
    assert_eq!(parse_summary(""), None);
    assert_eq!(parse_summary("npm ERR! Missing script: \"test\"\n"), None);
    // Lines that only look like summaries.
    assert_eq!(parse_summary("Done in 0.12s\nBuilt 3 packages in 2.5s\n2 warnings in 0.1s\n"), None);
    assert_eq!(parse_summary("# pass 3\n"), None, "TAP needs both a pass and a fail line");
}

// ---------------------------------------------------------------------------------------------
// Type-check errors
// ---------------------------------------------------------------------------------------------

fn errors(errors: u64, source: TypeSource) -> Option<TypeErrors> {
    Some(TypeErrors { errors, source })
}

#[test]
fn tsc_pretty_and_plain() {
    let pretty = "\x1b[96msrc/cart.ts\x1b[0m:\x1b[93m12\x1b[0m:\x1b[93m5\x1b[0m - \x1b[91merror\x1b[0m\x1b[90m TS2322: \x1b[0mType 'string' is not assignable to type 'number'.

\x1b[7m12\x1b[0m     total = \"0\";
\x1b[7m  \x1b[0m \x1b[91m    ~~~~~\x1b[0m

\x1b[96msrc/api.ts\x1b[0m:\x1b[93m30\x1b[0m:\x1b[93m18\x1b[0m - \x1b[91merror\x1b[0m\x1b[90m TS2339: \x1b[0mProperty 'itemz' does not exist on type 'Cart'.


Found 2 errors in 2 files.

Errors  Files
     1  src/api.ts\x1b[90m:30\x1b[0m
     1  src/cart.ts\x1b[90m:12\x1b[0m
";
    assert_eq!(type_errors(pretty), errors(2, TypeSource::Tsc));
    assert_eq!(type_errors("\nFound 1 error in src/cart.ts\x1b[90m:12\x1b[0m\n\n"), errors(1, TypeSource::Tsc));
    assert_eq!(type_errors("[10:12:03 AM] Found 0 errors. Watching for file changes.\n"), errors(0, TypeSource::Tsc));

    // Piped, tsc prints no summary: count the diagnostics.
    let plain = "src/cart.ts(12,5): error TS2322: Type 'string' is not assignable to type 'number'.\n\
                 src/api.ts(30,18): error TS2339: Property 'itemz' does not exist on type 'Cart'.\n\
                 error TS5083: Cannot read file '/home/ci/web/tsconfig.base.json'.\n";
    assert_eq!(type_errors(plain), errors(3, TypeSource::Tsc));
}

#[test]
fn svelte_check() {
    let output = "====================================\nLoading svelte-check in workspace: /home/ci/web\nGetting Svelte diagnostics...\n\n\
                  /home/ci/web/src/routes/+page.svelte:12:5\nError: Type 'string' is not assignable to type 'number'. (ts)\n\n\
                  /home/ci/web/src/lib/Cart.svelte:3:1\nWarn: A11y: <img> element should have an alt attribute (svelte)\n\n\
                  ====================================\nsvelte-check found 2 errors and 1 warning in 2 files\n";
    assert_eq!(type_errors(output), errors(2, TypeSource::SvelteCheck));
    let clean = "> web@0.0.1 check\n> svelte-kit sync && svelte-check --tsconfig ./tsconfig.json\n\n\
                 ====================================\nsvelte-check found 0 errors and 0 warnings\n";
    assert_eq!(type_errors(clean), errors(0, TypeSource::SvelteCheck));
    let machine = "1714644723412 START \"/home/ci/web\"\n1714644723999 COMPLETED 20 FILES 1 ERRORS 3 WARNINGS 2 FILES_WITH_PROBLEMS\n";
    assert_eq!(type_errors(machine), errors(1, TypeSource::SvelteCheck));
}

#[test]
fn cargo_check() {
    let output = "    \x1b[1m\x1b[32mChecking\x1b[0m shop v0.1.0 (/home/ci/shop)
\x1b[1m\x1b[91merror[E0308]\x1b[0m\x1b[1m: mismatched types\x1b[0m
  \x1b[1m\x1b[94m--> \x1b[0msrc/cart.rs:12:20
   \x1b[1m\x1b[94m|\x1b[0m
\x1b[1m\x1b[94m12\x1b[0m \x1b[1m\x1b[94m|\x1b[0m     let total: u32 = \"0\";
   \x1b[1m\x1b[94m|\x1b[0m                \x1b[1m\x1b[94m---\x1b[0m   \x1b[1m\x1b[91m^^^\x1b[0m \x1b[1m\x1b[91mexpected `u32`, found `&str`\x1b[0m

\x1b[1m\x1b[91merror[E0425]\x1b[0m\x1b[1m: cannot find value `itemz` in this scope\x1b[0m
  \x1b[1m\x1b[94m--> \x1b[0msrc/api.rs:30:5

\x1b[1m\x1b[91merror\x1b[0m\x1b[1m: cannot find macro `lgo` in this scope\x1b[0m
  \x1b[1m\x1b[94m--> \x1b[0msrc/api.rs:31:5

\x1b[0m\x1b[1mSome errors have detailed explanations: E0308, E0425.\x1b[0m
\x1b[0m\x1b[1mFor more information about an error, try `rustc --explain E0308`.\x1b[0m
\x1b[1m\x1b[91merror\x1b[0m\x1b[1m:\x1b[0m could not compile `shop` (lib) due to 3 previous errors
";
    assert_eq!(type_errors(output), errors(3, TypeSource::Cargo));

    let two_crates = "error: could not compile `shop-core` (lib) due to 1 previous error; 2 warnings emitted\n\
                      warning: build failed, waiting for other jobs to finish...\n\
                      error: could not compile `shop-api` (lib test) due to 4 previous errors\n";
    assert_eq!(type_errors(two_crates), errors(5, TypeSource::Cargo));
    assert_eq!(type_errors("error: could not compile `shop` due to previous error\n"), errors(1, TypeSource::Cargo));

    let clean = "    Checking shop v0.1.0 (/home/ci/shop)\n    Finished `dev` profile [unoptimized + debuginfo] target(s) in 0.52s\n";
    assert_eq!(type_errors(clean), errors(0, TypeSource::Cargo));
    let old_clean = "    Finished dev [unoptimized + debuginfo] target(s) in 0.52s\n";
    assert_eq!(type_errors(old_clean), errors(0, TypeSource::Cargo));
}

#[test]
fn mypy_and_pyright() {
    let mypy = "src/shop/cart.py:12: error: Incompatible types in assignment (expression has type \"str\", variable has type \"int\")  [assignment]\n\
                src/shop/api.py:30: error: \"Cart\" has no attribute \"itemz\"; maybe \"items\"?  [attr-defined]\n\
                src/shop/api.py:31: note: See https://mypy.rtfd.io/en/stable/_refs.html#code-attr-defined for more info\n\
                Found 2 errors in 2 files (checked 7 source files)\n";
    assert_eq!(type_errors(mypy), errors(2, TypeSource::Mypy));
    assert_eq!(type_errors("Success: no issues found in 7 source files\n"), errors(0, TypeSource::Mypy));
    let no_summary = "src/shop/cart.py:12:9: error: Incompatible types in assignment  [assignment]\n";
    assert_eq!(type_errors(no_summary), errors(1, TypeSource::Mypy));

    let pyright = "/home/ci/shop/src/shop/cart.py\n  /home/ci/shop/src/shop/cart.py:12:13 - error: Type \"Literal['0']\" is not assignable to declared type \"int\"\n\
                   \x20   \"Literal['0']\" is not assignable to \"int\" (reportAssignmentType)\n1 error, 0 warnings, 0 informations \n";
    assert_eq!(type_errors(pyright), errors(1, TypeSource::Pyright));
    assert_eq!(type_errors("0 errors, 0 warnings, 0 informations \n"), errors(0, TypeSource::Pyright));
    assert_eq!(type_errors("0 errors, 2 warnings, 0 notes\n"), errors(0, TypeSource::Pyright));
}

#[test]
fn type_errors_unknown_output_and_lookalikes() {
    assert_eq!(type_errors(""), None);
    assert_eq!(type_errors("added 312 packages in 4s\n"), None);
    // tsc prints nothing on success: unknown, not zero.
    assert_eq!(type_errors("> tsc --noEmit\n\n"), None);
    // ruff is a linter; its "Found N errors." is not a type check.
    let ruff = "src/shop/cart.py:1:8: F401 [*] `os` imported but unused\nFound 1 error.\n[*] 1 fixable with the `--fix` option.\n";
    assert_eq!(type_errors(ruff), None);
    // A C compiler's errors are not mypy's even though the shape is close.
    assert_eq!(type_errors("src/cart.c:12:5: error: expected ';' before '}' token\n"), None);
}

#[test]
fn several_checkers_are_added_up() {
    let output = "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 0.52s\n\
                  svelte-check found 4 errors and 0 warnings in 2 files\n";
    assert_eq!(type_errors(output), errors(4, TypeSource::SvelteCheck));
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// Fragments of the formats above, so that random inputs reach deep into the parsers.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("test result: ok. ".to_string()),
        Just(" passed; ".to_string()),
        Just("Summary [   0.1s] ".to_string()),
        Just(" tests run: ".to_string()),
        Just("==== ".to_string()),
        Just(" in 0.1s".to_string()),
        Just("      Tests  ".to_string()),
        Just(" | ".to_string()),
        Just("Tests:  ".to_string()),
        Just(" total".to_string()),
        Just("--- FAIL: ".to_string()),
        Just("FAIL\t".to_string()),
        Just("ok  \t".to_string()),
        Just("# pass ".to_string()),
        Just("ℹ fail ".to_string()),
        Just("Found ".to_string()),
        Just(" errors".to_string()),
        Just("error: could not compile `x` due to ".to_string()),
        Just("\x1b[31m".to_string()),
        Just("<testsuite tests=\"".to_string()),
        Just("<testcase name=\"a\"><failure/></testcase>".to_string()),
        Just("</testsuite>".to_string()),
        "[0-9]{1,25}",
        "[ ,()|:=\\n\\r]{1,3}",
        "\\PC{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in "\\PC{0,300}") {
        let _ = parse_summary(&text);
        let _ = type_errors(&text);
        let _ = parse_junit(&text);
    }

    #[test]
    fn parsers_never_panic_on_format_fragments(parts in prop::collection::vec(fragment(), 0..40)) {
        let text = parts.concat();
        if let Some(report) = parse_summary(&text) {
            prop_assert!(report.failures.len() <= MAX_FAILURE_NAMES);
        }
        let _ = type_errors(&text);
        let _ = parse_junit(&text);
    }
}

/// Python's unittest, as `python3 -m unittest discover` prints it (on stderr, which the logs
/// interleave with stdout).
const UNITTEST: &str = "FE.sx
======================================================================
ERROR: test_b (test_x.T.test_b)
----------------------------------------------------------------------
Traceback (most recent call last):
  File \"/tmp/ut/test_x.py\", line 4, in test_b
RuntimeError: x

======================================================================
FAIL: test_a (test_x.T.test_a)
----------------------------------------------------------------------
AssertionError: 1 != 2

----------------------------------------------------------------------
Ran 5 tests in 0.001s

FAILED (failures=1, errors=1, skipped=1, expected failures=1)
";

#[test]
fn unittest_summary() {
    let report = parse_summary(UNITTEST).unwrap();
    assert_eq!(report.source, Source::Unittest);
    assert_eq!(report.counts, counts(1, 2, 2));
    assert_eq!(report.failures, ["test_b (test_x.T.test_b)", "test_a (test_x.T.test_a)"]);
    let ok =
        "...\n----------------------------------------------------------------------\nRan 3 tests in 0.000s\n\nOK\n";
    assert_eq!(parse_summary(ok).unwrap().counts, counts(3, 0, 0));
    let skipped = "Ran 2 tests in 0.000s\n\nOK (skipped=1)\n";
    assert_eq!(parse_summary(skipped).unwrap().counts, counts(1, 0, 1));
    // `Ran` without unittest's verdict after it is not a summary.
    assert!(parse_summary("Ran 3 tests in 0.1s\nthen something else\nand more\nOK\n").is_none());
}

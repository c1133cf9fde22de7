//! The dashboard's JavaScript unit tests (`tests/js/*.test.mjs`, on the pages' pure logic),
//! run with the suite: `node --test`, which needs Node 20 or later (`scripts/install-test-deps.sh`
//! installs it). Fails with node's report when a test fails, or when node is missing.

use std::path::Path;
use std::process::Command;

#[test]
fn the_pages_pure_logic_passes_its_node_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let output = Command::new("node").arg("--test").arg(&dir).output().unwrap_or_else(|e| {
        panic!("cannot run `node` ({e}): install Node 20 or later (scripts/install-test-deps.sh does)")
    });
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node --test {} failed:\n{report}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    // node found the tests (a folder without any passes too).
    assert!(report.lines().any(|l| l.starts_with("# pass ") && l != "# pass 0"), "no tests ran:\n{report}");
}

//! One test per diagnostic code: a minimal plan in `fixtures/codes/<code>.plan.md` that
//! raises it, checked through the real binary. The JSON output must contain the code (and,
//! for all but `missing-waves`, nothing else); the human output is snapshotted.

use crate::common::wavecrew_bin;
use assert_cmd::Command;
use plan::Code;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codes")
}

fn check(code: &str, format: &str) -> (String, i32) {
    let output = Command::new(wavecrew_bin())
        .current_dir(fixtures())
        .env("NO_COLOR", "1")
        .args(["check", "--format", format, &format!("{code}.plan.md")])
        .output()
        .unwrap();
    (String::from_utf8(output.stdout).unwrap(), output.status.code().unwrap_or(-1))
}

fn assert_raises(name: &str) {
    let code = Code::from_name(name).expect("a known code");
    let (json, status) = check(name, "json");
    let found: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let mut codes: Vec<&str> = found.iter().map(|d| d["code"].as_str().unwrap()).collect();
    codes.dedup();
    assert!(codes.contains(&name), "{name}.plan.md should raise {name}, got {codes:?}");
    if code != Code::MissingWaves {
        assert!(codes.iter().all(|c| *c == name), "{name}.plan.md should raise only {name}, got {codes:?}");
    }
    let severity = found.iter().find(|d| d["code"] == name).unwrap()["severity"].as_str().unwrap().to_owned();
    assert_eq!(severity, code.severity().as_str());
    let expected_status = match code {
        Code::InvalidEncoding => 2, // the file could not be read as a plan
        _ if code.severity() == plan::Severity::Error => 1,
        _ => 0,
    };
    assert_eq!(status, expected_status, "exit status for {name}");

    let (human, _) = check(name, "human");
    insta::assert_snapshot!(name, human);
}

#[test]
fn every_code_has_a_fixture() {
    for code in Code::ALL {
        let path = fixtures().join(format!("{code}.plan.md"));
        assert!(path.is_file(), "missing fixture {}", path.display());
    }
}

macro_rules! code_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                assert_raises($name);
            }
        )*

        /// Keeps the list above complete.
        #[test]
        fn every_code_has_a_test() {
            let tested = [$($name),*];
            for code in Code::ALL {
                assert!(tested.contains(&code.as_str()), "no test for {code}");
            }
        }
    };
}

code_tests! {
    invalid_encoding => "invalid-encoding",
    missing_title => "missing-title",
    unknown_section => "unknown-section",
    duplicate_section => "duplicate-section",
    missing_waves => "missing-waves",
    missing_section => "missing-section",
    orphan_artifact => "orphan-artifact",
    duplicate_wave => "duplicate-wave",
    unknown_wave => "unknown-wave",
    dependency_cycle => "dependency-cycle",
    implicit_dependency => "implicit-dependency",
    task_wave_mismatch => "task-wave-mismatch",
    duplicate_task => "duplicate-task",
    unknown_task_type => "unknown-task-type",
    bad_attempts => "bad-attempts",
    unknown_field => "unknown-field",
    duplicate_field => "duplicate-field",
    vague_files => "vague-files",
    path_outside_repo => "path-outside-repo",
    long_running_verify => "long-running-verify",
    missing_field => "missing-field",
    parallel_file_conflict => "parallel-file-conflict",
    unknown_task => "unknown-task",
    task_assigned_twice => "task-assigned-twice",
    agent_wave_mismatch => "agent-wave-mismatch",
    unassigned_task => "unassigned-task",
    orphan_commit_line => "orphan-commit-line",
    bad_commit_line => "bad-commit-line",
    default_commit => "default-commit",
    unfilled_placeholder => "unfilled-placeholder",
    mojibake => "mojibake",
    unknown_skill => "unknown-skill",
}

//! One test per diagnostic code: a minimal plan in `fixtures/codes/<code>.plan.md` that
//! raises it, checked through the real binary. The JSON output must contain the code (and,
//! for all but `missing-waves`, nothing else); the human output is snapshotted.
//!
//! The repository-aware codes (`Code::needs_repository`) need a repository: their fixture is a
//! folder, `fixtures/repo-codes/<code>/` with `plan.plan.md`, copied into a new git work tree.
//! The other fixtures are checked with `--no-repo`: they lie in wavecrew's own repository,
//! which is not theirs.

use crate::common::wavecrew_bin;
use assert_cmd::Command;
use plan::Code;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codes")
}

fn repo_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repo-codes")
}

/// A git work tree holding a copy of `fixtures/repo-codes/<code>/`, every file added.
fn fixture_repo(code: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&repo_fixtures().join(code), repo.path());
    crate::common::git(repo.path(), &["init", "-q"]);
    crate::common::git(repo.path(), &["add", "-A"]);
    repo
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn check(code: &str, format: &str) -> (String, i32) {
    let mut command = Command::new(wavecrew_bin());
    command.env("NO_COLOR", "1").args(["check", "--format", format]);
    let _repo;
    if Code::from_name(code).is_some_and(Code::needs_repository) {
        _repo = fixture_repo(code);
        command.current_dir(_repo.path()).arg("plan.plan.md");
    } else {
        command.current_dir(fixtures()).args(["--no-repo", &format!("{code}.plan.md")]);
    }
    let output = command.output().unwrap();
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
        let path = match code.needs_repository() {
            true => repo_fixtures().join(code.as_str()).join("plan.plan.md"),
            false => fixtures().join(format!("{code}.plan.md")),
        };
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
    unrunnable_command => "unrunnable-command",
    dangling_key_link => "dangling-key-link",
    file_state_mismatch => "file-state-mismatch",
}

/// The codes `check --format json` reports for `plan` with `args`, run in `dir`, and its exit code.
fn codes_in(dir: &Path, args: &[&str]) -> (Vec<String>, i32) {
    let output =
        Command::new(wavecrew_bin()).current_dir(dir).args(["check", "--format", "json"]).args(args).output().unwrap();
    let found: Vec<serde_json::Value> =
        serde_json::from_str(&String::from_utf8(output.stdout).unwrap()).unwrap_or_default();
    (found.iter().map(|d| d["code"].as_str().unwrap().to_owned()).collect(), output.status.code().unwrap_or(-1))
}

#[test]
fn repository_checks_follow_the_plan_file_and_the_flags() {
    let repo = fixture_repo("unrunnable-command");
    let unrunnable = |codes: &[String]| codes.iter().filter(|c| *c == "unrunnable-command").count();
    // By default: the work tree holding the plan, from any folder.
    let (codes, status) = codes_in(repo.path(), &["plan.plan.md"]);
    assert_eq!((unrunnable(&codes), status), (5, 0), "{codes:?}");
    let elsewhere = tempfile::tempdir().unwrap();
    let plan = repo.path().join("plan.plan.md");
    let (codes, _) = codes_in(elsewhere.path(), &[plan.to_str().unwrap()]);
    assert_eq!(unrunnable(&codes), 5, "{codes:?}");
    // `--no-repo`: the plan's text only.
    let (codes, status) = codes_in(repo.path(), &["--no-repo", "plan.plan.md"]);
    assert_eq!((codes, status), (vec![], 0));

    // A plan outside any repository is checked as before; `--repo` checks it against one.
    std::fs::copy(&plan, elsewhere.path().join("plan.plan.md")).unwrap();
    let (codes, _) = codes_in(elsewhere.path(), &["plan.plan.md"]);
    assert_eq!(codes, Vec::<String>::new());
    let (codes, _) = codes_in(elsewhere.path(), &["--repo", repo.path().to_str().unwrap(), "plan.plan.md"]);
    assert_eq!(unrunnable(&codes), 5, "{codes:?}");

    // `--repo` on a folder outside any work tree is refused, naming it.
    let output = Command::new(wavecrew_bin())
        .current_dir(elsewhere.path())
        .args(["check", "--repo", ".", "plan.plan.md"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--repo `.` is not in a git work tree"));
}

#[test]
fn run_goes_ahead_with_repository_warnings_as_with_other_warnings() {
    let plan = std::fs::read_to_string(repo_fixtures().join("unrunnable-command/plan.plan.md")).unwrap();
    let repo = crate::common::Repo::builder()
        .files(&[("package.json", r#"{"scripts": {"build": "true"}}"#)])
        .plan(&plan)
        .commit("initial")
        .wavecrew(crate::common::wavecrew())
        .build();
    let (codes, _) = codes_in(repo.root(), &["plan.md"]);
    assert!(codes.contains(&"unrunnable-command".to_owned()), "{codes:?}");
    let output = repo.command(&["run", "plan.md", "--dry-run"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("unrunnable-command"));
}

//! `wavecrew import` on the real binary: the plan it writes passes `check`, an existing plan
//! is kept unless `--force`, and bad input (a cycle, malformed JSON, a file in no format, a
//! binary) gets a clear error and writes nothing.

use crate::common::*;
use serde_json::json;
use std::path::PathBuf;
use std::process::Output;

fn fixture(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures");
    dir.join(name).canonicalize().unwrap().display().to_string()
}

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    wavecrew().command(dir, args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_task_master_file_becomes_a_plan_that_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = fixture("taskmaster/tagged.tasks.json");
    let output = run(dir.path(), &["import", &tasks, "-o", "m1.plan.md"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!(stderr(&output).replace(&tasks, "[tasks.json]"));

    let check = run(dir.path(), &["check", "m1.plan.md"]);
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stdout));
    let show = run(dir.path(), &["show", "m1.plan.md", "--json"]);
    let model: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(model["tasks"].as_array().unwrap().len(), 7);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("m1.plan.md")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
    // Nothing else is left in the folder (no temporary file).
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["m1.plan.md"]);
}

#[test]
fn an_existing_plan_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m1.plan.md");
    std::fs::write(&out, "my own plan\n").unwrap();
    let tasks = fixture("taskmaster/legacy.tasks.json");
    let refused = run(dir.path(), &["import", &tasks, "-o", "m1.plan.md"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("`m1.plan.md` already exists"), "{}", stderr(&refused));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "my own plan\n");

    let forced = run(dir.path(), &["import", &tasks, "-o", "m1.plan.md", "--force", "--milestone", "wf1"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("# wf1 Implementation Plan: Word frequency CLI"));
}

#[test]
fn a_cycle_is_a_dependency_cycle_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = fixture("taskmaster/cycle.tasks.json");
    let output = run(dir.path(), &["import", &tasks, "-o", "m1.plan.md"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(stderr(&output).replace(&tasks, "[tasks.json]"), @r"
    error[dependency-cycle]: [tasks.json]: tasks depend on each other in a cycle: 2 → 3 → 2
    hint: remove one of these dependencies (e.g. `task-master remove-dependency --id=2 --depends-on=3`)
    ");
    assert!(!dir.path().join("m1.plan.md").exists());
}

#[test]
fn bad_input_is_named_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let malformed = fixture("taskmaster/malformed.tasks.json");
    let output = run(dir.path(), &["import", &malformed]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with(&format!("error: {malformed}:4:37: malformed task-master tasks.json")));

    std::fs::write(dir.path().join("notes.md"), "# Notes\n\nbuy milk\n").unwrap();
    let output = run(dir.path(), &["import", "notes.md"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains(
        "notes.md: not a plan `wavecrew import` knows (tried: task-master tasks.json, GSD *-PLAN.md, spec-kit tasks.md)"
    ));

    std::fs::write(dir.path().join("blob.json"), [0xff, 0xfe, 0, 1, 2]).unwrap();
    let output = run(dir.path(), &["import", "blob.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`blob.json` is not UTF-8 text"), "{}", stderr(&output));

    let output = run(dir.path(), &["import", "missing.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("could not read `missing.json`"));
}

#[test]
fn the_plans_of_a_gsd_phase_become_one_plan() {
    let dir = tempfile::tempdir().unwrap();
    let plans: Vec<String> =
        ["03-01", "03-02", "03-03"].iter().map(|p| fixture(&format!("gsd/03-features/{p}-PLAN.md"))).collect();
    let mut args = vec!["import"];
    args.extend(plans.iter().map(String::as_str));
    args.extend(["-o", "03.plan.md"]);
    let output = run(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("8 task(s) in 2 wave(s), milestone 03-features"), "{}", stderr(&output));
    let check = run(dir.path(), &["check", "03.plan.md"]);
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stdout));

    let output = run(dir.path(), &["import", &fixture("gsd/malformed-PLAN.md")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("malformed-PLAN.md:7:"), "{}", stderr(&output));
}

#[test]
fn a_spec_kit_tasks_md_becomes_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = fixture("speckit/specs/002-photo-albums/tasks.md");
    let output = run(dir.path(), &["import", &tasks, "-o", "albums.plan.md", "--milestone", "M7"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("(spec-kit tasks.md): 16 task(s) in 11 wave(s), milestone M7"),
        "{}",
        stderr(&output)
    );
    let check = run(dir.path(), &["check", "albums.plan.md"]);
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stdout));
}

/// As a user would: import a task-master file, then run the plan (the scripted agent, a test
/// double, writes the files); every task lands in dependency order.
#[test]
fn an_imported_plan_runs() {
    let tasks = json!({"master": {"tasks": [
        {"id": 1, "title": "A", "description": "Write a", "details": "Create `a.txt`.", "testStrategy": "`test -f a.txt`",
         "priority": "high", "status": "pending", "dependencies": []},
        {"id": 2, "title": "B", "description": "Write b", "details": "Create `b.txt`.", "testStrategy": "`grep -q b b.txt`",
         "priority": "medium", "status": "pending", "dependencies": []},
        {"id": 3, "title": "C", "description": "Write c and d", "details": "", "testStrategy": "`cat a.txt b.txt c.txt d.txt`",
         "priority": "medium", "status": "pending", "dependencies": [1, 2],
         "subtasks": [{"id": 1, "title": "C1", "description": "Write c", "details": "Create `c.txt`.",
                       "testStrategy": "`cat a.txt b.txt c.txt`", "status": "pending", "dependencies": []}]}
    ]}});
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tasks.json"), tasks.to_string()).unwrap();
    let output = run(dir.path(), &["import", "tasks.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan = String::from_utf8(output.stdout).unwrap();

    // 1 → 1.1, 2 → 1.2, 3.1 → 2.1, the closing task 3 → 3.1.
    let script = json!({"tasks": {
        "1.1": [[write("a.txt", "a\n")]],
        "1.2": [[write("b.txt", "b\n")]],
        "2.1": [[write("c.txt", "c\n")]],
        "3.1": [[write("d.txt", "d\n")]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let commits: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(task, _)| task).collect();
    assert_eq!(commits.len(), 4, "{commits:?}");
    let at = |task: &str| commits.iter().position(|t| t == task).unwrap();
    assert!(at("2.1") > at("1.1") && at("2.1") > at("1.2") && at("3.1") > at("2.1"), "{commits:?}");
}

//! Verify at run time, end to end with the scripted agent (the test double `wavecrew
//! agent-double`): steps for a person are shown, not run; a Verify command that never exits
//! ends its task once; auto-approved checkpoints say which commit they approved; a task's
//! **Attempts** is kept (best of N at once is in `best_of`).

use crate::common::*;
use serde_json::{Value, json};

/// One human-verify checkpoint whose Verify holds a step for a person and a check to run.
const STEP_PLAN: &str = "# M1 Implementation Plan: Steps

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1: Room page** (type: checkpoint:human-verify)
- **Files**: `ui.txt`
- **Action**: Draw the room page
- **Verify**: `test -f ui.txt` passes. Run `npm run dev` and open `/room/1`.
";

#[test]
fn an_auto_approved_checkpoint_shows_its_steps_runs_only_its_checks_and_records_the_commit() {
    let repo = scripted_repo(STEP_PLAN, &json!({"tasks": {"1.1": [[write("ui.txt", "room\n")]]}}));
    let output = repo.run(&["--json", "--auto-approve", "human-verify"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);

    // The step is for a person: `npm run dev` (a server that never exits) and `/room/1` never ran.
    let verified: Vec<&str> =
        of_kind(&events, "verify_started").iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert_eq!(verified, ["test -f ui.txt"]);

    // Waiting first, with the change and the steps; then the answer, with the same change.
    let order: Vec<&str> =
        events.iter().map(|e| e["event"].as_str().unwrap()).filter(|e| e.starts_with("checkpoint_")).collect();
    assert_eq!(order, ["checkpoint_waiting", "checkpoint_answered"]);
    let waiting = of_kind(&events, "checkpoint_waiting")[0];
    let answered = of_kind(&events, "checkpoint_answered")[0];
    let commit = waiting["commit"].as_str().expect("the change it asks about");
    assert_eq!(commit.len(), 40);
    assert_eq!(waiting["auto"], true);
    assert_eq!(waiting["steps"], json!(["Run `npm run dev` and open `/room/1`."]));
    assert!(waiting["details"].as_str().unwrap().contains("Steps for you (wavecrew does not run them):"));
    assert_eq!((answered["answer"].as_str(), answered["auto"].as_bool()), (Some("approved"), Some(true)));
    assert_eq!(answered["commit"].as_str(), Some(commit));

    let report: Value = serde_json::from_slice(&repo.command(&["report", "--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(report["checkpoints"][0]["commit"].as_str(), Some(commit));
    let markdown = String::from_utf8_lossy(&repo.command(&["report"]).output().unwrap().stdout).into_owned();
    assert!(markdown.contains(&format!("- 1.1 approved by --auto-approve (commit `{}`)", &commit[..10])), "{markdown}");
}

#[test]
fn a_verify_command_that_never_exits_fails_its_task_once_with_the_reason() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`tail -f a.txt`")])]);
    let repo = scripted_repo(&plan, &json!({"tasks": {"1.1": [[write("a.txt", "a\n")]]}}));
    let output = repo.run(&["--verify-timeout", "1", "--attempts", "3"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("Verify `tail -f a.txt` did not exit within 1 s: it looks like a watch mode"), "{err}");
    assert!(err.contains("use `tail -n 50` instead"), "{err}");
    let prompts = repo.state_dir().join("runs");
    let run = std::fs::read_dir(&prompts).unwrap().next().unwrap().unwrap().path();
    assert!(run.join("prompts/1.1-1.md").exists());
    assert!(!run.join("prompts/1.1-2.md").exists(), "a second attempt would only time out again");
}

#[test]
fn a_slow_verify_command_that_is_no_server_says_how_to_give_it_more_time() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`sleep 30`")])]);
    let repo = scripted_repo(&plan, &json!({"tasks": {"1.1": [[write("a.txt", "a\n")]]}}));
    let output = repo.run(&["--verify-timeout", "1"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("raise `--verify-timeout` (now 1 s)"), "{}", stderr(&output));
}

#[test]
fn attempts_of_a_task_win_over_the_run_option() {
    let with = |attempts: &str| {
        plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`test -f a.txt`")])])
            .replace("- **Done**: 1.1 done", &format!("- **Done**: 1.1 done\n- **Attempts**: {attempts}"))
    };
    // Every attempt writes nothing, so each fails its Verify.
    let failing = json!({"tasks": {"1.1": [[{"say": "nothing"}]]}});
    let repo = scripted_repo(&with("2"), &failing);
    let output = repo.run(&["--attempts", "5"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("FAILED after 2 attempts"), "{}", stderr(&output));
}

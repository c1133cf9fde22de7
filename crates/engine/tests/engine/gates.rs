//! Gate rounds: a gate's checks run, its findings go to the gate's agent, whose fix lands on
//! the run branch before the checks run again; the verdict comes from the checks.

use crate::support::{repo, start};
use engine::events::RunState;
use engine::run::Options;
use serde_json::json;
use testkit::events::of_kind;
use testkit::fixtures::{CHECK, check_gate_plan, write};
use testkit::git;

const BRANCH: &str = "wavecrew/M1";

/// (round, passed) of each `gate_checked` event.
fn verdicts(events: &[serde_json::Value]) -> Vec<(u64, bool)> {
    of_kind(events, "gate_checked").iter().map(|g| (g["round"].as_u64().unwrap(), g["passed"] == true)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gate_red_in_round_1_is_fixed_by_its_agent_and_green_in_round_2() {
    // 1.1 leaves value.txt at 1: CHECK fails. The gate's agent (task 2.1) sets it to 3.
    let script = json!({"tasks": {
        "1.1": [[write("value.txt", "1\n"), write("check.sh", CHECK)]],
        "2.1": [[write("value.txt", "3\n")]],
    }});
    let repo = repo(&check_gate_plan(), &script);
    let (summary, events) = start(&repo, Options::default()).await.finish().await;
    assert_eq!((summary.state, summary.committed, summary.failed), (RunState::Succeeded, 2, 0), "{events:#?}");

    assert_eq!(verdicts(&events), [(1, false), (2, true)]);
    let red = of_kind(&events, "gate_checked")[0];
    assert!(red["findings"].to_string().contains("exited with code 1"), "{red}");
    assert_eq!(red["metrics"][0]["name"], "failed tests", "{red}");
    assert_eq!(red["metrics"][0]["value"], 1.0, "{red}");

    // The fix landed between the two checks, as the commit the event names.
    let fixes = of_kind(&events, "gate_fix_committed");
    assert_eq!(fixes.len(), 1, "{fixes:?}");
    assert_eq!((fixes[0]["task"].as_str(), fixes[0]["round"].as_u64()), (Some("2.1"), Some(1)));
    let fix = fixes[0]["commit"].as_str().unwrap();
    let at = |kind: &str, round: u64| {
        events
            .iter()
            .position(|e| e["event"] == kind && e["round"] == round)
            .unwrap_or_else(|| panic!("{kind} {round}"))
    };
    assert!(at("gate_checked", 1) < at("gate_fix_committed", 1) && at("gate_fix_committed", 1) < at("gate_checked", 2));

    let root = repo.root();
    let log = git::git(root, &["log", "--reverse", "--format=%H %s", &format!("main..{BRANCH}")]);
    let commits: Vec<(&str, &str)> = log.lines().map(|l| l.split_once(' ').unwrap()).collect();
    let subjects: Vec<&str> = commits.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        subjects,
        [
            "feat(M1): build it",
            "fix(M1): Review (gate round 1)",
            "chore(M1): gate Review green (production-engineer, after 1 fix round(s))",
        ]
    );
    assert_eq!(commits[1].0, fix, "the event names the fix commit");
    assert_eq!(git::changed(root, fix), ["value.txt"]);
    assert_eq!(git::show(root, fix, "value.txt"), "3");
    assert_eq!(git::show(root, BRANCH, "value.txt"), "3");
    assert_eq!(git::trailers(root, BRANCH, "Wavecrew-Task"), ["2.1"], "the verdict commit carries the gate's task");
    assert_eq!(git::show(root, "main", "README.md"), "# project", "the user's branch is left alone");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gate_still_red_after_its_last_round_fails_its_task() {
    // The gate's agent changes value.txt each round, never to 3: CHECK stays red.
    let script = json!({"tasks": {
        "1.1": [[write("value.txt", "1\n"), write("check.sh", CHECK)]],
        "2.1": [[write("value.txt", "2\n")], [write("value.txt", "4\n")]],
    }});
    let repo = repo(&check_gate_plan(), &script);
    let options = Options { gate_rounds: 2, ..Options::default() };
    let (summary, events) = start(&repo, options).await.finish().await;
    assert_eq!((summary.state, summary.committed, summary.failed), (RunState::Failed, 1, 1), "{events:#?}");

    assert_eq!(verdicts(&events), [(1, false), (2, false), (3, false)], "a check, then one after each fix round");
    assert_eq!(of_kind(&events, "gate_fix_committed").len(), 2);
    let failed = of_kind(&events, "task_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["task"], "2.1");
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("needs-human: the gate is still red after 2 fix round(s)"), "{reason}");
    assert!(reason.contains("1 failed, 2 passed"), "the findings go with it: {reason}");

    // The fixes are on the branch (a person picks up from there), the verdict is not.
    let commits = repo.commits(BRANCH);
    let subjects: Vec<&str> = commits.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(subjects, ["feat(M1): build it", "fix(M1): Review (gate round 1)", "fix(M1): Review (gate round 2)"]);
    assert!(!commits.iter().any(|(task, _)| task == "2.1"), "no verdict commit: {commits:?}");
    assert_eq!(git::show(repo.root(), BRANCH, "value.txt"), "4");
}

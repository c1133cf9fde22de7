//! A gate's agent that ends on its account's usage or rate limit (the scripted agent's `limit`
//! step, a test double, limited once): the gate holds as a task's attempt does, and the same
//! call is made again: a fix round is not spent, a review is no finding. With `--on-limit fail`
//! the gate fails as limited.

use crate::support::{repo, start};
use engine::events::RunState;
use engine::limits::OnLimit;
use engine::run::Options;
use serde_json::{Value, json};
use testkit::events::of_kind;
use testkit::fixtures::{CHECK, check_gate_plan, gate_plan, write};
use testkit::git;

/// A `limit` step that ends the call once (its marker in `dir`), resetting `reset_in_ms` later.
fn limited_once(dir: &tempfile::TempDir, reset_in_ms: u64) -> Value {
    let once = dir.path().join("limited").to_string_lossy().into_owned();
    json!({"limit": {"reason": "You've hit your session limit", "reset_in_ms": reset_in_ms, "once": once}})
}

/// `options` with the folder of the `limit` step's marker writable for the agents (the run's
/// sandbox lets them write only to their worktree otherwise).
fn writable(dir: &tempfile::TempDir, mut options: Options) -> Options {
    options.sandbox.writable.push(dir.path().to_owned());
    options
}

/// The one `agent_limited` event: it names the gate, its round and the scripted agent.
fn the_hold(events: &[Value]) -> &Value {
    let limited = of_kind(events, "agent_limited");
    assert_eq!(limited.len(), 1, "{events:#?}");
    let hold = limited[0];
    assert_eq!(
        (hold["agent"].as_str(), hold["task"].as_str(), hold["attempt"].as_u64()),
        (Some("scripted"), Some("2.1"), Some(1))
    );
    assert_eq!(hold["reason"], "scripted: You've hit your session limit");
    hold
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fix_round_that_ends_on_a_limit_holds_then_runs_as_round_1_again_and_the_gate_turns_green() {
    let marker = tempfile::tempdir().unwrap();
    // 1.1 leaves value.txt at 1: the gate is red. Its agent's fix is limited once, then sets 3.
    let script = json!({"tasks": {
        "1.1": [[write("value.txt", "1\n"), write("check.sh", CHECK)]],
        "2.1": [[limited_once(&marker, 1500), write("value.txt", "3\n")]],
    }});
    let repo = repo(&check_gate_plan(), &script);
    // One fix round: had the limited call spent it, the gate would end red.
    let options = writable(&marker, Options { gate_rounds: 1, ..Options::default() });
    let (summary, events) = start(&repo, options).await.finish().await;
    assert_eq!((summary.state, summary.committed, summary.failed), (RunState::Succeeded, 2, 0), "{events:#?}");

    let hold = the_hold(&events);
    assert_eq!(hold["hold"], "reset", "{hold}");
    let until = hold["until_ms"].as_u64().unwrap();
    assert_eq!(hold["reset_ms"].as_u64(), Some(until));
    assert!(of_kind(&events, "attempt_failed").is_empty(), "a limit is not a failed round: {events:#?}");
    // Round 1's fix started twice: limited, then again once the hold ended.
    let fixes: Vec<&Value> =
        of_kind(&events, "attempt_started").into_iter().filter(|e| e["task"] == "2.1" && e["role"].is_null()).collect();
    assert_eq!(fixes.iter().map(|e| e["attempt"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 1], "{fixes:#?}");
    assert!(fixes[1]["at_ms"].as_u64().unwrap() >= until, "the fix ran again only after the hold: {fixes:#?}");
    let checked: Vec<(u64, bool)> =
        of_kind(&events, "gate_checked").iter().map(|g| (g["round"].as_u64().unwrap(), g["passed"] == true)).collect();
    assert_eq!(checked, [(1, false), (2, true)]);
    let subjects = git::git(repo.root(), &["log", "--reverse", "--format=%s", "main..wavecrew/M1"]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [
            "feat(M1): build it",
            "fix(M1): Review (gate round 1)",
            "chore(M1): gate Review green (production-engineer, after 1 fix round(s))",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_review_that_ends_on_a_limit_holds_then_lands_in_the_same_round() {
    let marker = tempfile::tempdir().unwrap();
    let plan = gate_plan("`value.txt`, `check.sh`", "house-style", "`sh check.sh`", "the house style holds");
    let script = json!({"tasks": {
        "1.1": [[write("value.txt", "3\n"), write("check.sh", CHECK)]],
        "2.1/review": [[limited_once(&marker, 1000), write(".wavecrew/review/2.1-1-house-style.json", "{\"findings\": []}")]],
    }});
    let repo = repo(&plan, &script);
    std::fs::create_dir_all(repo.root().join(".wavecrew/skills")).unwrap();
    std::fs::write(repo.root().join(".wavecrew/skills/house-style.md"), "Values are 3.\n").unwrap();
    git::git(repo.root(), &["add", ".wavecrew/skills"]);
    git::git(repo.root(), &["commit", "--quiet", "-m", "house style"]);
    let (summary, events) = start(&repo, writable(&marker, Options::default())).await.finish().await;
    assert_eq!((summary.state, summary.failed), (RunState::Succeeded, 0), "{events:#?}");

    let hold = the_hold(&events);
    let until = hold["until_ms"].as_u64().unwrap();
    let reviews: Vec<&Value> =
        of_kind(&events, "attempt_started").into_iter().filter(|e| e["role"] == "review").collect();
    assert_eq!(reviews.len(), 2, "limited, then asked again: {reviews:#?}");
    assert!(reviews.iter().all(|e| e["attempt"] == 1));
    assert!(reviews[1]["at_ms"].as_u64().unwrap() >= until, "{reviews:#?}");
    // One check of round 1, green, with the review's answer in it and no finding about it.
    let checked = of_kind(&events, "gate_checked");
    assert_eq!(checked.len(), 1, "{checked:#?}");
    assert_eq!((checked[0]["round"].as_u64(), checked[0]["passed"].as_bool()), (Some(1), Some(true)));
    assert!(
        checked[0]["notes"].to_string().contains("house-style review (its word, not evidence): no findings"),
        "{}",
        checked[0]["notes"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_on_limit_fail_a_gate_whose_fix_is_limited_fails_as_limited() {
    let marker = tempfile::tempdir().unwrap();
    let script = json!({"tasks": {
        "1.1": [[write("value.txt", "1\n"), write("check.sh", CHECK)]],
        "2.1": [[limited_once(&marker, 1500), write("value.txt", "3\n")]],
    }});
    let repo = repo(&check_gate_plan(), &script);
    let options = writable(&marker, Options { on_limit: OnLimit::Fail, ..Options::default() });
    let (summary, events) = start(&repo, options).await.finish().await;
    assert_eq!((summary.state, summary.committed, summary.failed), (RunState::Failed, 1, 1), "{events:#?}");

    let hold = the_hold(&events);
    assert_eq!((hold["hold"].as_str(), hold["until_ms"].as_u64()), (Some("fail"), None), "{hold}");
    let failed = of_kind(&events, "task_failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["task"], "2.1");
    assert_eq!(failed[0]["reason"], "scripted: You've hit your session limit (--on-limit fail)");
    assert!(of_kind(&events, "gate_fix_committed").is_empty(), "{events:#?}");
}

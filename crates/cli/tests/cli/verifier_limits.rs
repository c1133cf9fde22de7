//! The verifier of the truths on a usage or rate limit, end to end: the scripted agent (a test
//! double) ends its first call on a limit (its `limit` step), the verification holds by itself
//! after the run loop and asks again, then gives its verdict; `resume` after a kill -9 while
//! it is held goes on holding; with `--on-limit fail` the truths are left to a person, the
//! verifier failed as limited. And the real claude CLI as the
//! verifier, against llm-double (a test double) limiting only the verifier's requests.

use crate::common::*;
use serde_json::{Value, json};
use testkit::events::first_of_kind;

const PLAN: &str = "# M1 Implementation Plan: Verified

## must_haves

### truths (observable outcomes)
- `python3 app.py` greets the world

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: `app.py`
- **Action**: Build it
- **Verify**: `true`
- **Done**: it is built

## Verification

### Automated
```bash
python3 app.py    # prints `hello, world`
```
";

/// A repository whose verifier is limited once (its marker in `marker`, a folder the sandbox
/// lets agents write to), resetting `reset_in_ms` later, then proves the truth by a command.
fn limited_verifier(marker: &tempfile::TempDir, reset_in_ms: u64) -> Repo {
    let once = marker.path().join("limited").to_string_lossy().into_owned();
    let answer = json!({"truths": [{"truth": "T1", "verdict": "PROVEN",
        "evidence": [{"command": "python3 app.py", "output": "hello, world"}]}]});
    let script = json!({"tasks": {
        "1.1": [[write("app.py", "print('hello, ' + 'world')\n")]],
        "verification": [[
            {"limit": {"reason": "You've hit your session limit", "reset_in_ms": reset_in_ms, "once": once}},
            write(".wavecrew/review/verification.json", &answer.to_string()),
        ]],
    }});
    let repo = scripted_repo(PLAN, &script);
    let config = format!("[sandbox]\nwritable = [{:?}]\n", marker.path().to_string_lossy());
    std::fs::write(repo.root().join("wavecrew.toml"), config).unwrap();
    repo
}

/// The one `agent_limited` event: it names the `verification` pseudo-task and its attempt.
fn the_hold(events: &[Value]) -> &Value {
    let limited = of_kind(events, "agent_limited");
    assert_eq!(limited.len(), 1, "{events:#?}");
    let hold = limited[0];
    assert_eq!((hold["task"].as_str(), hold["attempt"].as_u64()), (Some("verification"), Some(1)), "{hold}");
    assert_eq!(
        (hold["agent"].as_str(), hold["reason"].as_str()),
        (Some("scripted"), Some("scripted: You've hit your session limit"))
    );
    hold
}

fn verifiers(events: &[Value]) -> Vec<&Value> {
    of_kind(events, "attempt_started").into_iter().filter(|e| e["role"] == "verify").collect()
}

#[test]
fn a_verifier_that_ends_on_a_limit_holds_then_gives_its_verdict() {
    let marker = tempfile::tempdir().unwrap();
    let repo = limited_verifier(&marker, 1500);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    let hold = the_hold(&events);
    assert_eq!(hold["hold"], "reset", "{hold}");
    let until = hold["until_ms"].as_u64().unwrap();
    let asked = verifiers(&events);
    assert_eq!(asked.len(), 2, "limited, then asked again: {asked:#?}");
    assert!(asked.iter().all(|e| e["attempt"] == 1), "{asked:#?}");
    assert!(asked[1]["at_ms"].as_u64().unwrap() >= until, "asked again only after the hold: {asked:#?}");
    let verified = first_of_kind(&events, "run_verified");
    assert_eq!(verified["verdict"], "passed", "{verified}");
    assert_eq!(verified["must_haves"][0]["verdict"], "VERIFIED", "{verified}");
}

#[test]
fn with_on_limit_fail_a_limited_verifier_leaves_the_truths_to_a_person_as_failed_as_limited() {
    let marker = tempfile::tempdir().unwrap();
    let repo = limited_verifier(&marker, 1500);
    let output = repo.run(&["--json", "--on-limit", "fail"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    let hold = the_hold(&events);
    assert_eq!((hold["hold"].as_str(), hold["until_ms"].as_u64()), (Some("fail"), None), "{hold}");
    assert_eq!(verifiers(&events).len(), 1, "not asked again");
    let verified = first_of_kind(&events, "run_verified");
    assert_eq!(verified["verdict"], "unverified", "{verified}");
    let truth = &verified["must_haves"][0];
    assert_eq!(truth["verdict"], "MANUAL", "{truth}");
    assert_eq!(
        truth["evidence"],
        "no answer: the verifier failed as limited: scripted: You've hit your session limit (--on-limit fail)"
    );
}

#[test]
fn resume_after_kill_9_while_the_verifier_is_held_holds_until_the_reset_then_verifies() {
    let marker = tempfile::tempdir().unwrap();
    let repo = limited_verifier(&marker, 6_000);
    let mut run = repo
        .command(&["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let held = crate::limits::kill_while_held(&mut run);
    assert_eq!(held["task"], "verification", "{held}");
    let until = held["until_ms"].as_u64().unwrap();

    let resumed = repo.command(&["resume", "--json"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let events = events(&resumed);
    let asked = verifiers(&events);
    assert_eq!(asked.len(), 1, "{events:#?}");
    assert!(asked[0]["at_ms"].as_u64().unwrap() >= until, "resume held the verifier until {until}: {asked:#?}");
    assert!(of_kind(&events, "agent_limited").is_empty(), "the hold was read back, not hit again: {events:#?}");
    let verified = first_of_kind(&events, "run_verified");
    assert_eq!(verified["verdict"], "passed", "{verified}");
}

#[test]
fn claude_s_usage_limit_during_the_verification_holds_the_verifier_until_its_reset_then_it_proves_the_truth() {
    use llm_double::{Conversation, Limit, LimitKind, Script, Server, Step};
    const VERIFIER: &str = "# Verify the truths of milestone";
    let answer = json!({"truths": [{"truth": "T1", "verdict": "PROVEN",
        "evidence": [{"command": "python3 app.py", "output": "hello, world"}]}]});
    let script = Script {
        conversations: vec![
            Conversation {
                matches: VERIFIER.into(),
                steps: vec![
                    Step::Write { write: ".wavecrew/review/verification.json".into(), content: answer.to_string() },
                    Step::Text { text: "Done.".into() },
                ],
            },
            Conversation {
                matches: r"# Task 1\.1 of milestone".into(),
                steps: vec![
                    Step::Write { write: "app.py".into(), content: "print('hello, ' + 'world')\n".into() },
                    Step::Text { text: "Done.".into() },
                ],
            },
        ],
        // The task runs unlimited; the account's session limit hits the verifier, for 3 s.
        limit: Some(Limit { kind: LimitKind::Usage, for_ms: 3_000, says_reset: true }),
        limit_matches: Some(VERIFIER.into()),
        ..Script::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(script)).unwrap();
    let dir = crate::agents::project(PLAN, "claude", &server.url(), "");
    // A subscriber's login: Claude Code gives a usage limit's reset time only then.
    let output = crate::agents::wavecrew(dir.path())
        .args(["run", "plan.md", "--agent", "claude", "--yes", "--json"])
        .env_remove("ANTHROPIC_API_KEY")
        .env("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-test-token-for-the-double")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    let limited = of_kind(&events, "agent_limited");
    assert!(!limited.is_empty(), "{events:#?}");
    for hold in &limited {
        assert_eq!(
            (hold["agent"].as_str(), hold["task"].as_str(), hold["attempt"].as_u64()),
            (Some("claude"), Some("verification"), Some(1)),
            "{hold}"
        );
        assert_eq!(hold["hold"], "reset", "Claude Code gave its reset time: {hold}");
        assert!(hold["reason"].as_str().unwrap().contains("hit your session limit"), "{hold}");
    }
    assert!(of_kind(&events, "attempt_failed").is_empty() && of_kind(&events, "task_failed").is_empty(), "{events:#?}");
    let until = limited.iter().filter_map(|e| e["until_ms"].as_u64()).max().unwrap();
    let asked = verifiers(&events);
    assert_eq!(asked.len(), limited.len() + 1, "asked again after each hold: {asked:#?}");
    assert!(asked.last().unwrap()["at_ms"].as_u64().unwrap() >= until, "{asked:#?}");
    let verified = first_of_kind(&events, "run_verified");
    assert_eq!(verified["verdict"], "passed", "{verified}");
    assert_eq!(verified["must_haves"][0]["verdict"], "VERIFIED", "{verified}");
}

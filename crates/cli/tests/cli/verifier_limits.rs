//! The verifier of the truths on a usage or rate limit, end to end: the scripted agent (a test
//! double) ends its first call on a limit (its `limit` step), the verification holds by itself
//! after the run loop and asks again, then gives its verdict; with `--on-limit fail` the truths
//! are left to a person, the verifier failed as limited.

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
/// lets agents write to), resetting 1.5 s later, then proves the truth by a command.
fn limited_verifier(marker: &tempfile::TempDir) -> Repo {
    let once = marker.path().join("limited").to_string_lossy().into_owned();
    let answer = json!({"truths": [{"truth": "T1", "verdict": "PROVEN",
        "evidence": [{"command": "python3 app.py", "output": "hello, world"}]}]});
    let script = json!({"tasks": {
        "1.1": [[write("app.py", "print('hello, ' + 'world')\n")]],
        "verification": [[
            {"limit": {"reason": "You've hit your session limit", "reset_in_ms": 1500, "once": once}},
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
    let repo = limited_verifier(&marker);
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
    let repo = limited_verifier(&marker);
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

//! The checkpoint events' wire format: journals written before `steps`, `auto` (waiting) and
//! `commit` (answered) existed still read, and new events leave out what they do not have.
//! The journal skips an event it cannot read, so a field that broke old rows would lose them.

use engine::events::{AnswerKind, Event, TaskType};
use serde_json::json;

#[test]
fn checkpoint_events_of_older_journals_still_read() {
    let waiting: Event = serde_json::from_value(json!({
        "event": "checkpoint_waiting", "task": "1.1", "kind": "checkpoint:human-verify",
        "options": [], "commit": "abc", "details": "Check: it works\n"
    }))
    .unwrap();
    assert!(matches!(waiting, Event::CheckpointWaiting { ref steps, auto: false, .. } if steps.is_empty()));
    let answered: Event = serde_json::from_value(json!({
        "event": "checkpoint_answered", "task": "1.1", "answer": "approved", "detail": null, "auto": true
    }))
    .unwrap();
    assert!(matches!(answered, Event::CheckpointAnswered { commit: None, auto: true, .. }));
}

#[test]
fn new_checkpoint_events_carry_steps_auto_and_commit_only_when_they_have_them() {
    let answered = Event::CheckpointAnswered {
        task: "1.2".into(),
        answer: AnswerKind::Decided,
        detail: Some("SQLite".into()),
        auto: true,
        commit: None,
    };
    assert!(serde_json::to_value(&answered).unwrap().get("commit").is_none());
    let waiting = Event::CheckpointWaiting {
        task: "1.1".into(),
        kind: TaskType::HumanVerify,
        options: vec![],
        commit: Some("abc".into()),
        details: String::new(),
        steps: vec!["Run `npm run dev` and open `/room/1`.".into()],
        auto: true,
    };
    let value = serde_json::to_value(&waiting).unwrap();
    assert_eq!(
        (value["steps"][0].as_str(), value["auto"].as_bool()),
        (Some("Run `npm run dev` and open `/room/1`."), Some(true))
    );
    let back: Event = serde_json::from_value(value).unwrap();
    assert_eq!(back, waiting);
}

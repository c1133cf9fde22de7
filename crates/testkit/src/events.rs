//! The events of a run as JSON, the form every reader of the event stream sees (`--json`
//! lines, the journal, the dashboard): read from a command's output or from the journal, and
//! found by kind (`"event": "gate_checked"`).

use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// The JSON lines of `bytes` (other lines are skipped).
pub fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The events `wavecrew run --json` printed.
pub fn events(output: &Output) -> Vec<Value> {
    json_lines(&output.stdout)
}

/// The events of kind `kind` (`gate_checked`), in order.
pub fn of_kind<'e>(events: &'e [Value], kind: &str) -> Vec<&'e Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

/// The first event of kind `kind`; panics (failing the test) with the kinds there were when
/// there is none.
pub fn first_of_kind<'e>(events: &'e [Value], kind: &str) -> &'e Value {
    events.iter().find(|e| e["event"] == kind).unwrap_or_else(|| {
        let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
        panic!("no `{kind}` event among {kinds:?}")
    })
}

/// The events the journal in the state folder `state_dir` (`.git/wavecrew`) holds for run
/// `run`, as JSON with the run id, sequence number and time of each.
pub fn journal_events(state_dir: &Path, run: &str) -> Vec<Value> {
    let journal = engine::journal::Journal::open(&state_dir.join("journal.sqlite")).expect("the journal opens");
    journal
        .events(run, 0)
        .expect("the journal's events read")
        .iter()
        .map(|envelope| serde_json::to_value(envelope).expect("an event is JSON"))
        .collect()
}

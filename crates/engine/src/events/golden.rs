//! The wire format of every [`Event`], pinned: one JSON line per event kind (and per shape of
//! its optional fields) against a committed golden file, serialized from typed values and read
//! back. Journals, `--json` and the dashboard all carry these bytes, and journals written by
//! earlier versions must still read: a change here is a change of the format, never a side
//! effect of a refactoring.

use super::*;

fn s(text: &str) -> String {
    text.to_owned()
}

fn finding(check: &str, message: &str, location: Option<&str>) -> GateFinding {
    GateFinding { check: s(check), message: s(message), location: location.map(s) }
}

fn must_have(kind: &str, item: &str, verdict: &str, evidence: &str) -> MustHaveVerdict {
    MustHaveVerdict { kind: s(kind), item: s(item), verdict: s(verdict), evidence: s(evidence) }
}

fn automated(status: AutomatedStatus, expectation: Option<&str>, exit_code: Option<i32>) -> AutomatedResult {
    AutomatedResult {
        command: s("npm test"),
        expectation: expectation.map(s),
        status,
        exit_code,
        detail: s("exited 0"),
    }
}

fn attempt_started(role: Option<&str>, model: Option<&str>) -> Event {
    Event::AttemptStarted {
        task: s("1.1"),
        attempt: 2,
        lane: s("Worker A"),
        agent: s("claude"),
        model: model.map(s),
        worktree: s("/repo/.git/wavecrew/worktrees/r1/worker-a"),
        base: s("0123abc"),
        role: role.map(s),
    }
}

fn activity(kind: &str, detail: &str, usage: Option<(u64, u64, Option<f64>)>) -> Event {
    Event::AgentActivity {
        task: s("1.1"),
        attempt: 1,
        kind: s(kind),
        detail: s(detail),
        tokens_in: usage.map(|u| u.0),
        tokens_out: usage.map(|u| u.1),
        cost_usd: usage.and_then(|u| u.2),
    }
}

fn waiting(kind: &str, options: &[&str], commit: Option<&str>, steps: &[&str], auto: bool) -> Event {
    Event::CheckpointWaiting {
        task: s("2.1"),
        kind: s(kind),
        options: options.iter().copied().map(s).collect(),
        commit: commit.map(s),
        details: s("Action: pick one\nDone when: picked\n"),
        steps: steps.iter().copied().map(s).collect(),
        auto,
    }
}

fn answered(answer: &str, detail: Option<&str>, auto: bool, commit: Option<&str>) -> Event {
    Event::CheckpointAnswered { task: s("2.1"), answer: s(answer), detail: detail.map(s), auto, commit: commit.map(s) }
}

fn run_verified(verdict: &str, must_haves: Vec<MustHaveVerdict>, automated: Vec<AutomatedResult>) -> Event {
    Event::RunVerified { verdict: s(verdict), must_haves, automated, manual: vec![s("Open `/room/1` and chat.")] }
}

/// Every event kind, with its optional fields present and absent where that changes the bytes,
/// and every value of its closed sets (verdicts, answers, roles, activity kinds, checks).
fn samples() -> Vec<Event> {
    vec![
        Event::RunStarted {
            milestone: s("v1.0"),
            title: s("Chat rooms"),
            branch: s("wavecrew/r1"),
            base: s("0123abc"),
            tasks: vec![s("1.1"), s("1.2")],
            lanes: vec![
                LaneInfo { name: s("Worker A"), agent: s("claude"), model: Some(s("sonnet")), tasks: vec![s("1.1")] },
                LaneInfo { name: s("default"), agent: s("scripted"), model: None, tasks: vec![s("1.2")] },
            ],
        },
        Event::RunResumed { committed: vec![s("1.1")], overrides: vec![] },
        Event::RunResumed { committed: vec![], overrides: vec![s("--attempts 5")] },
        attempt_started(None, Some("sonnet")),
        attempt_started(None, None),
        attempt_started(Some("review"), Some("opus")),
        attempt_started(Some("verify"), None),
        Event::LanePrepared { task: s("1.1"), lane: s("Worker A"), detail: s("reset to 0123abc"), duration_ms: 42 },
        Event::AgentSpawned { task: s("1.1"), attempt: 1, pid: 4242 },
        Event::JobSubmitted { task: s("1.1"), attempt: 1, backend: s("slurm"), job: s("17") },
        Event::AgentOutput { task: s("1.1"), attempt: 1, line: s("Writing \"hello.txt\"\t✓") },
        activity("text", "I will write the file.", None),
        activity("tool", "Write hello.txt", None),
        activity("usage", "", Some((1200, 340, Some(0.0123)))),
        activity("usage", "", Some((10, 2, None))),
        activity("error", "rate limited", None),
        Event::AgentExited { task: s("1.1"), attempt: 1, code: Some(0), timed_out: false, duration_ms: 1500 },
        Event::AgentExited { task: s("1.1"), attempt: 2, code: None, timed_out: true, duration_ms: 600_000 },
        Event::VerifyStarted { task: s("1.1"), attempt: 1, command: s("npm test") },
        Event::VerifyFinished {
            task: s("1.1"),
            attempt: 1,
            command: s("npm test"),
            passed: true,
            exit_code: Some(0),
            duration_ms: 900,
        },
        Event::VerifyFinished {
            task: s("1.1"),
            attempt: 1,
            command: s("sleep 999"),
            passed: false,
            exit_code: None,
            duration_ms: 60_000,
        },
        waiting("checkpoint:decision", &["SQLite", "Postgres"], None, &[], false),
        waiting("checkpoint:human-verify", &[], Some("4567def"), &["Run `npm run dev` and open `/room/1`."], true),
        waiting("checkpoint:human-action", &[], None, &[], false),
        waiting("checkpoint:gate", &[], Some("89abcde"), &[], false),
        answered("approved", None, true, Some("4567def")),
        answered("approved", Some("looks good"), false, None),
        answered("rejected", Some("the test is empty"), false, Some("4567def")),
        answered("decided", Some("SQLite"), true, None),
        Event::GateChecked {
            task: s("3.1"),
            round: 1,
            skill: s("code-quality"),
            passed: false,
            findings: vec![
                finding("command", "`npm run lint` exited 1", None),
                finding("tests", "test `greets` failed", Some("tests/app.test.js:12")),
                finding("coverage", "47.1% < 80%", None),
                finding("type-check", "3 type error(s) from `tsc --noEmit`", None),
                finding("secret", "an AWS key", Some("src/config.js:3")),
                finding("pattern", "`console.log` left in", Some("src/app.js:7")),
                finding("dependency", "`npm audit` reports 2 vulnerabilities", None),
                finding("review", "input is not validated", Some("src/routes.js:40")),
            ],
            metrics: vec![
                GateMetric {
                    name: s("coverage of changed lines"),
                    value: 47.1,
                    unit: s("%"),
                    source: s("coverage/lcov.info"),
                },
                GateMetric { name: s("failed tests"), value: 1.0, unit: s(""), source: s("1 failed, 9 passed") },
            ],
            notes: vec![s("`npm audit` needs the network")],
            unverified: vec![],
        },
        Event::GateChecked {
            task: s("3.1"),
            round: 2,
            skill: s("security-auditor"),
            passed: true,
            findings: vec![],
            metrics: vec![],
            notes: vec![],
            unverified: vec![s("`npm audit` did not run: no network")],
        },
        Event::GateFixCommitted { task: s("3.1"), round: 1, commit: s("fedcba9") },
        Event::Integrating { task: s("1.1"), attempt: 1, commit: s("abc1234") },
        Event::TaskCommitted {
            task: s("1.1"),
            attempt: 1,
            commit: s("abc1234"),
            message: s("1.1: write hello\n\nWavecrew-Task: 1.1"),
        },
        Event::AttemptFailed { task: s("1.2"), attempt: 1, reason: s("`npm test` exited 1") },
        Event::TaskFailed { task: s("1.2"), attempts: 3, reason: s("`npm test` exited 1") },
        Event::TaskSkipped { task: s("2.2"), because: s("1.2") },
        run_verified(
            "passed",
            vec![
                must_have("artifact", "src/app.js", "VERIFIED", "substantive, imported by src/index.js:1"),
                must_have("key_link", "`src/app.js` feeds `src/index.js`", "VERIFIED", "src/index.js:1"),
                must_have("truth", "It greets", "MANUAL", "a person checks it"),
            ],
            vec![automated(AutomatedStatus::Passed, Some("0 regressions"), Some(0))],
        ),
        run_verified(
            "failed",
            vec![
                must_have("artifact", "src/stub.js", "STUB", "src/stub.js:1: TODO"),
                must_have("artifact", "src/extra.js", "ORPHANED", "substantive, but nothing imports it"),
                must_have("artifact", "src/gone.js", "MISSING", "`src/gone.js` is not on the run branch"),
                must_have("key_link", "`a.js` feeds `b.js`", "NOT_WIRED", "`b.js` does not import `a.js`"),
            ],
            vec![automated(AutomatedStatus::Failed, None, Some(1)), automated(AutomatedStatus::Failed, None, None)],
        ),
        run_verified(
            "unverified",
            vec![],
            vec![automated(AutomatedStatus::Unchecked, Some("coverage >= 80%"), Some(0))],
        ),
        Event::Stopping { reason: s("cancelled") },
        Event::RunFinished { state: RunState::Running, committed: 0, failed: 0, skipped: 0, duration_ms: 5 },
        Event::RunFinished { state: RunState::Succeeded, committed: 2, failed: 0, skipped: 0, duration_ms: 61_000 },
        Event::RunFinished { state: RunState::Failed, committed: 1, failed: 1, skipped: 1, duration_ms: 62_000 },
        Event::RunFinished { state: RunState::Cancelled, committed: 1, failed: 0, skipped: 0, duration_ms: 3_000 },
    ]
}

/// The position of `event`'s variant. The match has no catch-all: a new variant does not
/// compile until it is listed here, and the test then asks for a sample of it.
fn variant(event: &Event) -> usize {
    match event {
        Event::RunStarted { .. } => 0,
        Event::RunResumed { .. } => 1,
        Event::AttemptStarted { .. } => 2,
        Event::LanePrepared { .. } => 3,
        Event::AgentSpawned { .. } => 4,
        Event::JobSubmitted { .. } => 5,
        Event::AgentOutput { .. } => 6,
        Event::AgentActivity { .. } => 7,
        Event::AgentExited { .. } => 8,
        Event::VerifyStarted { .. } => 9,
        Event::VerifyFinished { .. } => 10,
        Event::CheckpointWaiting { .. } => 11,
        Event::CheckpointAnswered { .. } => 12,
        Event::GateChecked { .. } => 13,
        Event::GateFixCommitted { .. } => 14,
        Event::Integrating { .. } => 15,
        Event::TaskCommitted { .. } => 16,
        Event::AttemptFailed { .. } => 17,
        Event::TaskFailed { .. } => 18,
        Event::TaskSkipped { .. } => 19,
        Event::RunVerified { .. } => 20,
        Event::Stopping { .. } => 21,
        Event::RunFinished { .. } => 22,
    }
}
const VARIANTS: usize = 23;

#[test]
fn every_event_kind_has_a_sample() {
    let samples = samples();
    let missing: Vec<usize> = (0..VARIANTS).filter(|v| !samples.iter().any(|e| variant(e) == *v)).collect();
    assert!(missing.is_empty(), "no sample of the variants at {missing:?} of `variant`");
}

#[test]
fn the_json_of_every_event_kind_is_the_golden_one_and_reads_back() {
    let mut lines = Vec::new();
    for event in samples() {
        let line = serde_json::to_string(&event).unwrap();
        let back: Event = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line} does not read back: {e}"));
        assert_eq!(back, event, "{line}");
        assert_eq!(serde_json::to_string(&back).unwrap(), line, "read back, it writes other bytes");
        lines.push(line);
    }
    // The envelope of `--json` and the dashboard: its fields, then the event's.
    let envelope =
        Envelope { run: s("20261203-101500-ab12"), seq: 7, at_ms: 1_764_756_900_000, event: samples()[0].clone() };
    let line = serde_json::to_string(&envelope).unwrap();
    assert_eq!(serde_json::from_str::<Envelope>(&line).unwrap(), envelope);
    lines.push(line);
    insta::assert_snapshot!("events", lines.join("\n"));
}

//! The wire format of every [`Event`], pinned: one JSON line per event kind (and per shape of
//! its optional fields) against a committed golden file, serialized from typed values and read
//! back. Journals, `--json` and the dashboard all carry these bytes, and journals written by
//! earlier versions must still read: a change here is a change of the format, never a side
//! effect of a refactoring.

use super::*;

fn s(text: &str) -> String {
    text.to_owned()
}

fn finding(check: GateCheck, message: &str, location: Option<&str>) -> GateFinding {
    GateFinding { check, message: s(message), location: location.map(s) }
}

fn must_have(kind: MustHaveKind, item: &str, verdict: MustHaveStatus, evidence: &str) -> MustHaveVerdict {
    MustHaveVerdict { kind, item: s(item), verdict, evidence: s(evidence) }
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

fn attempt_started(role: Option<AgentRole>, model: Option<&str>) -> Event {
    Event::AttemptStarted {
        task: s("1.1"),
        attempt: 2,
        lane: s("Worker A"),
        agent: s("claude"),
        model: model.map(s),
        worktree: s("/repo/.git/wavecrew/worktrees/r1/worker-a"),
        base: s("0123abc"),
        role,
    }
}

fn activity(kind: ActivityKind, detail: &str, usage: Option<(u64, u64, Option<f64>)>) -> Event {
    Event::AgentActivity {
        task: s("1.1"),
        attempt: 1,
        kind,
        detail: s(detail),
        tokens_in: usage.map(|u| u.0),
        tokens_out: usage.map(|u| u.1),
        cost_usd: usage.and_then(|u| u.2),
    }
}

fn waiting(kind: TaskType, options: &[&str], commit: Option<&str>, steps: &[&str], auto: bool) -> Event {
    Event::CheckpointWaiting {
        task: s("2.1"),
        kind,
        options: options.iter().copied().map(s).collect(),
        commit: commit.map(s),
        details: s("Action: pick one\nDone when: picked\n"),
        steps: steps.iter().copied().map(s).collect(),
        auto,
    }
}

fn answered(answer: AnswerKind, detail: Option<&str>, auto: bool, commit: Option<&str>) -> Event {
    Event::CheckpointAnswered { task: s("2.1"), answer, detail: detail.map(s), auto, commit: commit.map(s) }
}

fn candidate_finished(candidate: u32, verdict: CandidateVerdict, reason: Option<&str>) -> Event {
    Event::CandidateFinished {
        task: s("2.1"),
        end: CandidateEnd {
            candidate,
            attempt: candidate,
            verdict,
            commit: Some(format!("c{candidate}c{candidate}c{candidate}")),
            base: s("0123abc"),
            reference: Some(format!("refs/wavecrew/r1/2.1/candidate-{candidate}")),
            outside_lines: u64::from(candidate) - 1,
            diff_lines: 10 * u64::from(candidate),
            tokens: 1000 + u64::from(candidate),
            reason: reason.map(s),
        },
    }
}

fn run_verified(verdict: RunVerdict, must_haves: Vec<MustHaveVerdict>, automated: Vec<AutomatedResult>) -> Event {
    Event::RunVerified { verdict, must_haves, automated, manual: vec![s("Open `/room/1` and chat.")] }
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
        attempt_started(Some(AgentRole::Review), Some("opus")),
        attempt_started(Some(AgentRole::Verify), None),
        Event::LanePrepared { task: s("1.1"), lane: s("Worker A"), detail: s("reset to 0123abc"), duration_ms: 42 },
        Event::SandboxDenied {
            task: s("1.1"),
            attempt: 1,
            process: s("agent"),
            operation: SandboxOperation::Write,
            path: s("/home/u/.bashrc"),
        },
        Event::SandboxDenied {
            task: s("1.1"),
            attempt: 2,
            process: s("verify-1"),
            operation: SandboxOperation::Connect,
            path: s("10.0.0.2:5432"),
        },
        Event::AgentSpawned { task: s("1.1"), attempt: 1, pid: 4242 },
        Event::JobSubmitted { task: s("1.1"), attempt: 1, backend: s("slurm"), job: s("17") },
        Event::AgentOutput { task: s("1.1"), attempt: 1, line: s("Writing \"hello.txt\"\t✓") },
        activity(ActivityKind::Text, "I will write the file.", None),
        activity(ActivityKind::Tool, "Write hello.txt", None),
        activity(ActivityKind::Usage, "", Some((1200, 340, Some(0.0123)))),
        activity(ActivityKind::Usage, "", Some((10, 2, None))),
        activity(ActivityKind::Error, "rate limited", None),
        Event::AgentExited { task: s("1.1"), attempt: 1, code: Some(0), timed_out: false, duration_ms: 1500 },
        Event::AgentExited { task: s("1.1"), attempt: 2, code: None, timed_out: true, duration_ms: 600_000 },
        Event::BudgetExceeded {
            task: s("1.1"),
            attempt: 1,
            cap: crate::budget::Amount::Usd(0.5),
            spent_usd: 0.5123,
            tokens: 41_000,
        },
        Event::BudgetExceeded {
            task: s("1.1"),
            attempt: 2,
            cap: crate::budget::Amount::Tokens(200_000),
            spent_usd: 0.0,
            tokens: 200_340,
        },
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
        waiting(TaskType::Decision, &["SQLite", "Postgres"], None, &[], false),
        waiting(TaskType::HumanVerify, &[], Some("4567def"), &["Run `npm run dev` and open `/room/1`."], true),
        waiting(TaskType::HumanAction, &[], None, &[], false),
        waiting(TaskType::Gate, &[], Some("89abcde"), &[], false),
        answered(AnswerKind::Approved, None, true, Some("4567def")),
        answered(AnswerKind::Approved, Some("looks good"), false, None),
        answered(AnswerKind::Rejected, Some("the test is empty"), false, Some("4567def")),
        answered(AnswerKind::Decided, Some("SQLite"), true, None),
        Event::GateChecked {
            task: s("3.1"),
            round: 1,
            skill: s("code-quality"),
            passed: false,
            findings: vec![
                finding(GateCheck::Command, "`npm run lint` exited 1", None),
                finding(GateCheck::Tests, "test `greets` failed", Some("tests/app.test.js:12")),
                finding(GateCheck::Coverage, "47.1% < 80%", None),
                finding(GateCheck::TypeCheck, "3 type error(s) from `tsc --noEmit`", None),
                finding(GateCheck::Secret, "an AWS key", Some("src/config.js:3")),
                finding(GateCheck::Pattern, "`console.log` left in", Some("src/app.js:7")),
                finding(GateCheck::Dependency, "`npm audit` reports 2 vulnerabilities", None),
                finding(GateCheck::Review, "input is not validated", Some("src/routes.js:40")),
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
        Event::AgentLimited {
            agent: s("claude"),
            task: s("1.1"),
            attempt: 1,
            hold: LimitHold::Reset,
            until_ms: Some(1_764_770_700_000),
            reset_ms: Some(1_764_770_700_000),
            reason: s("claude: You've hit your session limit · resets 2:05pm (UTC)"),
        },
        Event::AgentLimited {
            agent: s("codex"),
            task: s("1.2"),
            attempt: 2,
            hold: LimitHold::Fail,
            until_ms: None,
            reset_ms: None,
            reason: s("codex: exceeded retry limit, last status: 429 Too Many Requests"),
        },
        run_verified(
            RunVerdict::Passed,
            vec![
                must_have(
                    MustHaveKind::Artifact,
                    "src/app.js",
                    MustHaveStatus::Verified,
                    "substantive, imported by src/index.js:1",
                ),
                must_have(
                    MustHaveKind::KeyLink,
                    "`src/app.js` feeds `src/index.js`",
                    MustHaveStatus::Verified,
                    "src/index.js:1",
                ),
                must_have(MustHaveKind::Truth, "It greets", MustHaveStatus::Manual, "a person checks it"),
            ],
            vec![automated(AutomatedStatus::Passed, Some("0 regressions"), Some(0))],
        ),
        run_verified(
            RunVerdict::Failed,
            vec![
                must_have(MustHaveKind::Artifact, "src/stub.js", MustHaveStatus::Stub, "src/stub.js:1: TODO"),
                must_have(
                    MustHaveKind::Artifact,
                    "src/extra.js",
                    MustHaveStatus::Orphaned,
                    "substantive, but nothing imports it",
                ),
                must_have(
                    MustHaveKind::Artifact,
                    "src/gone.js",
                    MustHaveStatus::Missing,
                    "`src/gone.js` is not on the run branch",
                ),
                must_have(
                    MustHaveKind::KeyLink,
                    "`a.js` feeds `b.js`",
                    MustHaveStatus::NotWired,
                    "`b.js` does not import `a.js`",
                ),
            ],
            vec![automated(AutomatedStatus::Failed, None, Some(1)), automated(AutomatedStatus::Failed, None, None)],
        ),
        run_verified(
            RunVerdict::Unverified,
            vec![],
            vec![automated(AutomatedStatus::Unchecked, Some("coverage >= 80%"), Some(0))],
        ),
        Event::CandidatesStarted { task: s("2.1"), attempts: vec![1, 2, 3], kept: vec![] },
        Event::CandidatesStarted { task: s("2.1"), attempts: vec![1, 4, 3], kept: vec![1, 3] },
        candidate_finished(1, CandidateVerdict::Failed, Some("`npm test` exited 1")),
        candidate_finished(2, CandidateVerdict::Passed, None),
        candidate_finished(3, CandidateVerdict::VerifyTimedOut, Some("`npm test` did not exit within 600 s")),
        Event::CandidateFinished {
            task: s("2.1"),
            end: CandidateEnd {
                candidate: 4,
                attempt: 4,
                verdict: CandidateVerdict::Failed,
                commit: None,
                base: s("0123abc"),
                reference: None,
                outside_lines: 0,
                diff_lines: 0,
                tokens: 0,
                reason: Some(s("the agent exited 1")),
            },
        },
        Event::CandidateChosen {
            task: s("2.1"),
            candidate: 2,
            attempt: 2,
            ranking: vec![2],
            why: s("candidate 2 is the only one whose Verify passed; 2 other candidates failed"),
        },
        Event::Stopping { reason: s("cancelled") },
        Event::RunFinished { state: RunState::Running, committed: 0, failed: 0, skipped: 0, duration_ms: 5 },
        Event::RunFinished { state: RunState::Succeeded, committed: 2, failed: 0, skipped: 0, duration_ms: 61_000 },
        Event::RunFinished { state: RunState::Failed, committed: 1, failed: 1, skipped: 1, duration_ms: 62_000 },
        Event::RunFinished { state: RunState::Cancelled, committed: 1, failed: 0, skipped: 0, duration_ms: 3_000 },
        Event::RunShipped {
            url: s("https://github.com/acme/app/pull/7"),
            remote: s("origin"),
            base: s("main"),
            draft: true,
        },
        Event::PreviewStarting { task: s("2.2"), commit: s("4f2c9e1") },
        Event::PreviewReady { task: s("2.2"), url: s("http://localhost:41873/") },
        Event::PreviewStopped { task: s("2.2"), why: PreviewEnd::Answered, detail: None },
        Event::PreviewStopped {
            task: s("2.2"),
            why: PreviewEnd::Failed,
            detail: Some(s("`npm run dev -- --port 41873` exited with code 1")),
        },
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
        Event::SandboxDenied { .. } => 23,
        Event::RunShipped { .. } => 24,
        Event::CandidatesStarted { .. } => 25,
        Event::CandidateFinished { .. } => 26,
        Event::CandidateChosen { .. } => 27,
        Event::BudgetExceeded { .. } => 28,
        Event::AgentLimited { .. } => 29,
        Event::PreviewStarting { .. } => 30,
        Event::PreviewReady { .. } => 31,
        Event::PreviewStopped { .. } => 32,
    }
}
const VARIANTS: usize = 33;

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

/// A journal written by a newer wavecrew (or edited by hand) may hold names this version does
/// not know. The journal skips an event it cannot read, so each must still read: as `Unknown`,
/// written back as it was; a role as the task's work (roles steer the engine, which knows no
/// other).
#[test]
fn events_with_names_this_version_does_not_know_still_read_and_write_back_unchanged() {
    let lines = [
        r#"{"event":"agent_activity","task":"1.1","attempt":1,"kind":"thinking","detail":"hm","tokens_in":null,"tokens_out":null,"cost_usd":null}"#,
        r#"{"event":"checkpoint_waiting","task":"2.1","kind":"checkpoint:vote","options":[],"commit":null,"details":""}"#,
        r#"{"event":"checkpoint_answered","task":"2.1","answer":"deferred","detail":null,"auto":false}"#,
        r#"{"event":"gate_checked","task":"3.1","round":1,"skill":"licenses","passed":false,"findings":[{"check":"license","message":"GPL","location":null}],"metrics":[],"notes":[]}"#,
        r#"{"event":"run_verified","verdict":"partial","must_haves":[{"kind":"fixture","item":"x","verdict":"PARTIAL","evidence":"y"}],"automated":[],"manual":[]}"#,
    ];
    for line in lines {
        let event: Event = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line} does not read: {e}"));
        assert_eq!(serde_json::to_string(&event).unwrap(), line);
    }
    let Event::RunVerified { verdict, must_haves, .. } = serde_json::from_str(lines[4]).unwrap() else { panic!() };
    assert_eq!(verdict, RunVerdict::Unknown("partial".into()));
    assert_eq!(must_haves[0].verdict, MustHaveStatus::Unknown("PARTIAL".into()));
    assert_eq!(must_haves[0].kind, MustHaveKind::Unknown("fixture".into()));

    let judge = r#"{"event":"attempt_started","task":"1.1","attempt":1,"lane":"A","agent":"claude","model":null,"worktree":"/w","base":"b","role":"judge"}"#;
    let Event::AttemptStarted { role, .. } = serde_json::from_str(judge).unwrap() else { panic!() };
    assert_eq!(role, Some(AgentRole::Task));
}

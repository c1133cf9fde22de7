//! Timelines of hand-built event lists, and a property test on generated consistent runs.

use super::*;
use crate::events::{AgentRole, AnswerKind, Envelope, Event, LaneInfo, RunState, RunVerdict, TaskType};
use proptest::prelude::*;

fn at(at_ms: u64, event: Event) -> Envelope {
    Envelope { run: "r".into(), seq: 0, at_ms, event }
}

fn run_started(lanes: &[(&str, &[&str])]) -> Event {
    Event::RunStarted {
        milestone: "M1".into(),
        title: "t".into(),
        branch: "wavecrew/M1".into(),
        base: "base".into(),
        tasks: lanes.iter().flat_map(|(_, tasks)| tasks.iter().map(|t| t.to_string())).collect(),
        lanes: lanes
            .iter()
            .map(|(name, tasks)| LaneInfo {
                name: name.to_string(),
                agent: "scripted".into(),
                model: None,
                tasks: tasks.iter().map(|t| t.to_string()).collect(),
            })
            .collect(),
    }
}

fn attempt_as(task: &str, attempt: u32, lane: &str, role: Option<AgentRole>) -> Event {
    Event::AttemptStarted {
        task: task.into(),
        attempt,
        lane: lane.into(),
        agent: "scripted".into(),
        model: None,
        worktree: String::new(),
        base: String::new(),
        role,
    }
}

fn attempt(task: &str, attempt: u32, lane: &str) -> Event {
    attempt_as(task, attempt, lane, None)
}

fn exited(task: &str, attempt: u32) -> Event {
    Event::AgentExited { task: task.into(), attempt, code: Some(0), timed_out: false, duration_ms: 0 }
}

fn verify_started(task: &str, attempt: u32) -> Event {
    Event::VerifyStarted { task: task.into(), attempt, command: "true".into() }
}

fn verify_finished(task: &str, attempt: u32, duration_ms: u64) -> Event {
    Event::VerifyFinished {
        task: task.into(),
        attempt,
        command: "true".into(),
        passed: true,
        exit_code: Some(0),
        duration_ms,
    }
}

fn integrating(task: &str, attempt: u32) -> Event {
    Event::Integrating { task: task.into(), attempt, commit: "c".into() }
}

fn committed(task: &str, attempt: u32) -> Event {
    Event::TaskCommitted { task: task.into(), attempt, commit: "c".into(), message: "m".into() }
}

fn waiting(task: &str) -> Event {
    Event::CheckpointWaiting {
        task: task.into(),
        kind: TaskType::HumanVerify,
        options: Vec::new(),
        commit: None,
        details: String::new(),
        steps: Vec::new(),
        auto: false,
    }
}

fn answered(task: &str) -> Event {
    Event::CheckpointAnswered {
        task: task.into(),
        answer: AnswerKind::Approved,
        detail: None,
        auto: false,
        commit: None,
    }
}

fn gate_checked(task: &str, round: u32, skill: &str) -> Event {
    Event::GateChecked {
        task: task.into(),
        round,
        skill: skill.into(),
        passed: round > 1,
        findings: Vec::new(),
        metrics: Vec::new(),
        notes: Vec::new(),
        unverified: Vec::new(),
    }
}

fn finished(state: RunState) -> Event {
    Event::RunFinished { state, committed: 0, failed: 0, skipped: 0, duration_ms: 0 }
}

/// A task's whole life: agent from `start` to `agent_end`, Verify until `verify_end`, landed at
/// `end`.
fn life(task: &str, lane: &str, start: u64, agent_end: u64, verify_end: u64, end: u64) -> Vec<Envelope> {
    vec![
        at(start, attempt(task, 1, lane)),
        at(agent_end, exited(task, 1)),
        at(agent_end, verify_started(task, 1)),
        at(verify_end, verify_finished(task, 1, verify_end - agent_end)),
        at(verify_end, integrating(task, 1)),
        at(end, committed(task, 1)),
    ]
}

/// Events in time order (stable: equal times keep the order given).
fn journal(parts: Vec<Vec<Envelope>>) -> Vec<Envelope> {
    let mut events: Vec<Envelope> = parts.into_iter().flatten().collect();
    events.sort_by_key(|e| e.at_ms);
    events
}

fn phases(timeline: &Timeline, task: &str) -> Vec<(Phase, u64, u64)> {
    timeline.bars.iter().filter(|b| b.task == task).map(|b| (b.phase, b.start_ms, b.end_ms)).collect()
}

#[test]
fn two_lanes_in_parallel_then_a_task_waiting_for_both() {
    let events = journal(vec![
        vec![at(1_000, run_started(&[("Worker A", &["1.1", "2.1"]), ("Worker B", &["1.2"])]))],
        life("1.1", "Worker A", 1_000, 4_000, 5_000, 5_200),
        life("1.2", "Worker B", 1_000, 2_000, 2_500, 2_600),
        life("2.1", "Worker A", 5_200, 8_000, 8_500, 9_000),
        vec![at(9_000, finished(RunState::Succeeded))],
    ]);
    let waits = Waits::new([("1.1", vec![]), ("1.2", vec![]), ("2.1", vec!["1.1", "1.2"])]);
    let timeline = Timeline::build(&events, &waits);

    assert_eq!(timeline.makespan_ms, 8_000);
    assert_eq!(timeline.critical_path, ["1.1", "2.1"]);
    assert_eq!(timeline.critical_path_ms, 4_200 + 3_800);
    assert_eq!(timeline.serial_ms, 4_200 + 1_600 + 3_800);
    assert_eq!(timeline.speedup, 9_600.0 / 8_000.0);
    let lanes: Vec<(&str, u64, f64)> =
        timeline.lanes.iter().map(|l| (l.name.as_str(), l.busy_ms, l.utilization)).collect();
    assert_eq!(lanes, [("Worker A", 8_000, 1.0), ("Worker B", 1_600, 0.2)]);
    assert_eq!(
        phases(&timeline, "1.1"),
        [(Phase::Agent, 0, 3_000), (Phase::Verify, 3_000, 4_000), (Phase::Git, 4_000, 4_200)]
    );
    assert!(timeline.bars.iter().all(|b| b.critical == (b.task != "1.2")), "{:?}", timeline.bars);
    assert_eq!(timeline.waiting, Waiting { people_ms: 0, limits_ms: 0, verify_ms: 2_000, git_ms: 800 });
    assert_eq!(timeline.sessions, [Session { start_ms: 0, end_ms: 8_000 }]);
}

#[test]
fn the_gap_before_a_resume_is_left_out_and_recovered_commits_belong_to_the_new_session() {
    let events = vec![
        at(10_000, run_started(&[("A", &["1.1"]), ("B", &["1.2"])])),
        at(10_000, attempt("1.1", 1, "A")),
        at(10_000, attempt("1.2", 1, "B")),
        at(12_000, exited("1.1", 1)),
        at(12_000, integrating("1.1", 1)),
        // The process died here; 88 seconds later `resume` finds 1.1's commit on the run branch.
        at(100_000, committed("1.1", 1)),
        at(100_001, Event::RunResumed { committed: vec!["1.1".into()], overrides: Vec::new() }),
        at(100_010, attempt("1.2", 2, "B")),
        at(101_010, exited("1.2", 2)),
        at(101_010, integrating("1.2", 2)),
        at(101_110, committed("1.2", 2)),
        at(101_200, finished(RunState::Succeeded)),
    ];
    let timeline = Timeline::build(&events, &Waits::new([("1.1", vec![]), ("1.2", vec![])]));

    assert_eq!(timeline.sessions, [Session { start_ms: 0, end_ms: 2_000 }, Session { start_ms: 2_000, end_ms: 3_200 }]);
    assert_eq!(timeline.makespan_ms, 3_200);
    // The attempt killed by the crash ends with its session; the next one starts after the resume.
    assert_eq!(
        phases(&timeline, "1.2"),
        [(Phase::Agent, 0, 2_000), (Phase::Agent, 2_010, 3_010), (Phase::Git, 3_010, 3_110)]
    );
    let spans: Vec<(&str, u64, u64)> = timeline.tasks.iter().map(|t| (t.task.as_str(), t.start_ms, t.end_ms)).collect();
    assert_eq!(spans, [("1.1", 0, 2_000), ("1.2", 0, 3_110)]);
    assert_eq!((timeline.critical_path_ms, timeline.critical_path.clone()), (3_110, vec!["1.2".to_owned()]));
    assert!(timeline.lanes.iter().all(|l| l.utilization <= 1.0));
    // The text chart marks where the sessions meet (2.0 s of 3.2 s: cell 20 of 32) in empty cells.
    let chart = timeline.gantt(39);
    let row = chart.lines().nth(1).unwrap();
    assert_eq!(row.split('|').nth(1).map(|bars| bars.chars().nth(20)), Some(Some('¦')), "{chart}");
    assert!(chart.contains("Resumed: 2 sessions; the time between them is left out"), "{chart}");
}

#[test]
fn a_checkpoint_waits_for_a_person_on_the_critical_path_but_its_lane_is_not_busy_meanwhile() {
    let events = vec![
        at(0, run_started(&[("A", &["1.1"]), ("B", &["1.2"]), ("C", &["2.1"])])),
        at(0, attempt("1.1", 1, "A")),
        at(0, attempt("1.2", 1, "B")),
        at(1_000, exited("1.1", 1)),
        at(1_000, waiting("1.1")),
        at(2_000, exited("1.2", 1)),
        at(2_000, integrating("1.2", 1)),
        at(2_100, committed("1.2", 1)),
        at(61_000, answered("1.1")),
        at(61_000, integrating("1.1", 1)),
        at(61_100, committed("1.1", 1)),
        // A decision: a person's from the start, no agent.
        at(61_100, waiting("2.1")),
        at(
            64_100,
            Event::CheckpointAnswered {
                task: "2.1".into(),
                answer: AnswerKind::Decided,
                detail: Some("sqlite".into()),
                auto: false,
                commit: None,
            },
        ),
        at(64_100, integrating("2.1", 1)),
        at(64_200, committed("2.1", 1)),
        at(64_200, finished(RunState::Succeeded)),
        // Signing the Manual checklist off later waits for no task.
        at(
            90_000,
            Event::CheckpointAnswered {
                task: "manual".into(),
                answer: AnswerKind::Approved,
                detail: None,
                auto: false,
                commit: None,
            },
        ),
    ];
    let waits = Waits::new([("1.1", vec![]), ("1.2", vec![]), ("2.1", vec!["1.1", "1.2"])]);
    let timeline = Timeline::build(&events, &waits);

    assert_eq!(timeline.makespan_ms, 64_200);
    assert_eq!(timeline.waiting.people_ms, 60_000 + 3_000);
    assert_eq!(timeline.critical_path, ["1.1", "2.1"]);
    assert_eq!(timeline.critical_path_ms, 64_200);
    let busy: Vec<u64> = timeline.lanes.iter().map(|l| l.busy_ms).collect();
    assert_eq!(busy, [1_000 + 100, 2_100, 100]);
    assert_eq!(phases(&timeline, "2.1"), [(Phase::Waiting, 61_100, 64_100), (Phase::Git, 64_100, 64_200)]);
    assert!(!timeline.tasks.iter().any(|t| t.task == "manual"));
}

#[test]
fn gate_rounds_start_when_what_they_wait_for_landed_and_reviews_are_part_of_them() {
    let events = vec![
        at(0, run_started(&[("A", &["1.1"]), ("Gate", &["2.1"])])),
        at(0, attempt("1.1", 1, "A")),
        at(1_000, exited("1.1", 1)),
        at(1_000, integrating("1.1", 1)),
        at(1_100, committed("1.1", 1)),
        // Round 1: two skills, each checked then reviewed by the gate's agent.
        at(3_000, attempt_as("2.1", 1, "Gate", Some(AgentRole::Review))),
        at(4_000, exited("2.1", 1)),
        at(4_000, gate_checked("2.1", 1, "production-engineer")),
        at(4_500, attempt_as("2.1", 1, "Gate", Some(AgentRole::Review))),
        at(5_000, exited("2.1", 1)),
        at(5_000, gate_checked("2.1", 1, "security-auditor")),
        // The fix of round 1, then round 2 is green.
        at(5_000, attempt("2.1", 1, "Gate")),
        at(7_000, exited("2.1", 1)),
        at(7_100, Event::GateFixCommitted { task: "2.1".into(), round: 1, commit: "f".into() }),
        at(8_000, gate_checked("2.1", 2, "production-engineer")),
        at(8_200, gate_checked("2.1", 2, "security-auditor")),
        at(8_200, integrating("2.1", 2)),
        at(8_300, committed("2.1", 2)),
        at(8_300, finished(RunState::Succeeded)),
    ];
    let timeline = Timeline::build(&events, &Waits::new([("1.1", vec![]), ("2.1", vec!["1.1"])]));
    assert_eq!(
        phases(&timeline, "2.1"),
        [
            (Phase::Gate, 1_100, 5_000),
            (Phase::Agent, 5_000, 7_000),
            (Phase::Gate, 7_100, 8_200),
            (Phase::Git, 8_200, 8_300)
        ]
    );
    let attempts: Vec<u32> = timeline.bars.iter().filter(|b| b.task == "2.1").map(|b| b.attempt).collect();
    assert_eq!(attempts, [1, 1, 2, 2]);
    assert_eq!((timeline.critical_path_ms, timeline.makespan_ms), (8_300, 8_300));
}

#[test]
fn a_run_still_going_is_measured_to_its_last_event_with_its_open_bars_ending_there() {
    let events = vec![
        at(0, run_started(&[("A", &["1.1"])])),
        at(0, Event::LanePrepared { task: "1.1".into(), lane: "A".into(), detail: "setup".into(), duration_ms: 0 }),
        at(
            500,
            Event::LanePrepared { task: "1.1".into(), lane: "A".into(), detail: "ran setup".into(), duration_ms: 400 },
        ),
        at(500, attempt("1.1", 1, "A")),
        at(2_000, exited("1.1", 1)),
        at(2_000, verify_started("1.1", 1)),
        at(3_000, Event::AgentOutput { task: "1.1".into(), attempt: 1, line: "x".into() }),
    ];
    let timeline = Timeline::build(&events, &Waits::new([("1.1", vec![])]));
    assert_eq!(timeline.makespan_ms, 3_000);
    assert_eq!(
        phases(&timeline, "1.1"),
        [(Phase::Prepare, 100, 500), (Phase::Agent, 500, 2_000), (Phase::Verify, 2_000, 3_000)]
    );
    assert_eq!(timeline.bars[0].attempt, 1, "preparing the lane belongs to the attempt that follows");
    assert_eq!(timeline.tasks[0].duration_ms(), 2_900);
}

#[test]
fn nothing_ran_gives_zeros_not_nan() {
    let timeline = Timeline::build(&[], &Waits::default());
    assert_eq!(timeline, Timeline::default());
    assert_eq!((timeline.speedup, timeline.bound_ratio()), (0.0, 0.0));
    serde_json::to_string(&timeline).unwrap();
}

#[test]
fn unassigned_tasks_each_get_a_lane_of_their_own() {
    let events = journal(vec![
        vec![at(0, run_started(&[("default", &["1.1"]), ("default", &["1.2"])]))],
        life("1.1", "default", 0, 1_000, 1_000, 1_000),
        life("1.2", "default", 0, 2_000, 2_000, 2_000),
    ]);
    let timeline = Timeline::build(&events, &Waits::new([("1.1", vec![]), ("1.2", vec![])]));
    let lanes: Vec<(&str, u64)> = timeline.lanes.iter().map(|l| (l.name.as_str(), l.busy_ms)).collect();
    assert_eq!(lanes, [("default (1.1)", 1_000), ("default (1.2)", 2_000)]);
}

#[test]
fn the_verification_of_the_finished_branch_follows_every_task_on_the_critical_path() {
    let events = journal(vec![
        vec![at(0, run_started(&[("A", &["1.1"])]))],
        life("1.1", "A", 0, 1_000, 1_000, 1_000),
        vec![
            // Reading the must_haves' evidence takes 400 ms before the first event.
            at(1_400, verify_started("verification", 1)),
            at(1_500, verify_finished("verification", 1, 500)),
            at(1_500, attempt_as("verification", 1, "verification", Some(AgentRole::Verify))),
            at(2_500, exited("verification", 1)),
            at(
                2_600,
                Event::RunVerified {
                    verdict: RunVerdict::Passed,
                    must_haves: Vec::new(),
                    automated: Vec::new(),
                    manual: Vec::new(),
                },
            ),
            at(2_600, finished(RunState::Succeeded)),
        ],
    ]);
    let timeline = Timeline::build(&events, &Waits::new([("1.1", vec![])]));
    assert_eq!(timeline.critical_path, ["1.1", "verification"]);
    assert_eq!(timeline.critical_path_ms, 2_600);
    let verification = timeline.tasks.iter().find(|t| t.task == "verification").unwrap();
    assert_eq!((verification.start_ms, verification.end_ms), (1_000, 2_600), "it starts when 1.1 landed");
    assert_eq!(timeline.lanes.last().map(|l| (l.name.as_str(), l.agent.as_str())), Some(("verification", "scripted")));
}

#[test]
fn the_json_has_the_shape_the_room_reads() {
    let events = journal(vec![vec![at(0, run_started(&[("A", &["1.1"])]))], life("1.1", "A", 0, 1_000, 1_500, 1_600)]);
    let json = serde_json::to_value(Timeline::build(&events, &Waits::new([("1.1", vec![])]))).unwrap();
    for key in ["makespan_ms", "critical_path_ms", "critical_path", "serial_ms", "speedup", "lanes", "bars", "waiting"]
    {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
    assert_eq!(json["bars"][1]["phase"], "verify");
    assert_eq!(json["lanes"][0]["utilization"], 1.0);
    assert_eq!(json["waiting"]["limits_ms"], 0);
    let back: Timeline = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(back).unwrap(), json);
}

#[test]
fn the_chrome_trace_has_a_thread_per_lane_and_a_complete_event_per_bar_in_microseconds() {
    let events = vec![
        at(0, run_started(&[("A", &["1.1"]), ("B", &["1.2"])])),
        at(0, attempt("1.1", 1, "A")),
        at(1_000, exited("1.1", 1)),
        at(1_000, waiting("1.1")),
        at(1_000, attempt("1.2", 1, "B")),
        at(3_000, answered("1.1")),
        at(3_000, integrating("1.1", 1)),
        at(3_250, committed("1.1", 1)),
        at(3_500, exited("1.2", 1)),
    ];
    let timeline = Timeline::build(&events, &Waits::new([("1.1", vec![]), ("1.2", vec![])]));
    let trace = timeline.chrome_trace("r1", "M1 · t");
    let events = trace["traceEvents"].as_array().unwrap();
    let threads: Vec<(u64, &str)> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| (e["tid"].as_u64().unwrap(), e["args"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(threads, [(1, "A (scripted)"), (2, "A: waiting"), (3, "B (scripted)"), (5, "critical path")]);
    let complete: Vec<(&str, u64, u64, u64)> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["ts"].as_u64().unwrap(),
                e["dur"].as_u64().unwrap(),
                e["tid"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        complete,
        [
            ("1.1 agent", 0, 1_000_000, 1),
            ("1.1 waiting", 1_000_000, 2_000_000, 2),
            ("1.2 agent", 1_000_000, 2_500_000, 3),
            ("1.1 git", 3_000_000, 250_000, 1),
            ("1.1", 0, 3_250_000, 5),
        ]
    );
    assert_eq!(trace["otherData"]["critical_path"], serde_json::json!(["1.1"]));
}

#[test]
fn the_text_chart_scales_bars_to_its_width_and_marks_the_critical_path() {
    let events = journal(vec![
        vec![at(0, run_started(&[("Worker A", &["1.1", "2.1"]), ("Worker B", &["1.2"])]))],
        life("1.1", "Worker A", 0, 4_000, 4_000, 4_000),
        life("1.2", "Worker B", 0, 2_000, 2_000, 2_000),
        life("2.1", "Worker A", 4_000, 8_000, 8_000, 8_000),
    ]);
    let waits = Waits::new([("1.1", vec![]), ("1.2", vec![]), ("2.1", vec!["1.1", "1.2"])]);
    let chart = Timeline::build(&events, &waits).gantt(51);
    let rows: Vec<&str> = chart.lines().take(3).collect();
    // 51 columns: 8 for the lane's name, a space and two bars leave 40 cells of 200 ms.
    assert_eq!(
        rows,
        [
            "          0s                                  8.0s",
            "Worker A |1.1#################2.1#################|",
            "Worker B |1.2=======                              |",
        ]
    );
    assert!(chart.contains("critical-path bound 8.0s (100% of the makespan): 1.1 → 2.1"), "{chart}");
    assert!(chart.contains("Lanes busy: Worker A 100%, Worker B 25%"), "{chart}");
}

#[test]
fn durations_read_as_people_say_them() {
    assert_eq!(render::duration(850), "850ms");
    assert_eq!(render::duration(12_345), "12.3s");
    assert_eq!(render::duration(245_000), "4m 05s");
    assert_eq!(render::duration(7_380_000), "2h 03m");
}

/// A generated plan: tasks in an order where each waits only for earlier ones, each with its
/// lane and the times its steps take.
#[derive(Clone, Debug)]
struct GenTask {
    waits: Vec<usize>,
    lane: usize,
    delay: u64,
    prepare: u64,
    agent: u64,
    verify: u64,
    person: u64,
    git: u64,
    fails_first: bool,
    /// A quality gate: checked, reviewed, fixed once, then green.
    gate: bool,
}

fn gen_task(index: usize, lanes: usize) -> impl Strategy<Value = GenTask> {
    (
        proptest::collection::vec(any::<bool>(), index),
        0..lanes,
        (0u64..500, 0u64..300, 0u64..3_000, 0u64..1_000, 0u64..2_000, 0u64..200),
        any::<bool>(),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(picks, lane, (delay, prepare, agent, verify, person, git), fails_first, gate)| GenTask {
            waits: picks.iter().enumerate().filter(|(_, p)| **p).map(|(i, _)| i).collect(),
            lane,
            delay,
            prepare,
            agent,
            verify,
            person: if person > 1_500 { person } else { 0 },
            git,
            fails_first,
            gate,
        })
}

fn gen_run() -> impl Strategy<Value = (Vec<GenTask>, usize, Vec<(u64, u64)>)> {
    (1usize..8, 1usize..4).prop_flat_map(|(tasks, lanes)| {
        let tasks: Vec<_> = (0..tasks).map(|i| gen_task(i, lanes)).collect();
        (tasks, Just(lanes), proptest::collection::vec((0u64..8_000, 1u64..100_000), 0..3))
    })
}

/// The journal of a run of `tasks` as the engine would write it: each task starts once what it
/// waits for landed and its lane is free; the process dies `crash` ms into a session and is
/// resumed `gap` ms later, tasks in flight starting again.
fn simulate(tasks: &[GenTask], lanes: usize, crashes: &[(u64, u64)]) -> (Vec<Envelope>, Waits) {
    let name = |i: usize| format!("{}.1", i + 1);
    let lane_name = |l: usize| format!("L{l}");
    let infos: Vec<(String, Vec<String>)> = (0..lanes)
        .map(|l| (lane_name(l), (0..tasks.len()).filter(|&i| tasks[i].lane == l).map(name).collect()))
        .collect();
    let started = Event::RunStarted {
        milestone: "M1".into(),
        title: "t".into(),
        branch: "b".into(),
        base: "c".into(),
        tasks: (0..tasks.len()).map(name).collect(),
        lanes: infos
            .iter()
            .map(|(n, t)| LaneInfo { name: n.clone(), agent: "scripted".into(), model: None, tasks: t.clone() })
            .collect(),
    };
    let mut journal = vec![at(1_000_000, started)];
    let mut landed = vec![false; tasks.len()];
    let mut attempts = vec![0u32; tasks.len()];
    let mut session_start = 1_000_000;
    for session in 0..=crashes.len() {
        let crash = crashes.get(session).map(|(after, gap)| (session_start + after, *gap));
        let mut lane_free = vec![session_start; lanes];
        let mut done_at = vec![session_start; tasks.len()];
        let mut events: Vec<Envelope> = Vec::new();
        for (i, task) in tasks.iter().enumerate() {
            if landed[i] {
                continue;
            }
            let ready = task.waits.iter().map(|&w| done_at[w]).chain([lane_free[task.lane]]).max().unwrap_or(0);
            let mut t = ready + task.delay;
            let (id, lane) = (name(i), lane_name(task.lane));
            // A gate's lane is reset without anything to say (no `lane_prepared`) as often as not.
            if task.prepare > 0 && !(task.gate && task.fails_first) {
                t += task.prepare;
                events.push(at(
                    t,
                    Event::LanePrepared {
                        task: id.clone(),
                        lane: lane.clone(),
                        detail: "setup".into(),
                        duration_ms: task.prepare,
                    },
                ));
            }
            if task.gate {
                // Round 1: checks, then the gate's agent reviews; red, so its agent fixes; round 2 is green.
                let round = attempts[i] + 1;
                t += task.verify;
                events.push(at(t, attempt_as(&id, round, &lane, Some(AgentRole::Review))));
                t += task.agent / 2;
                events.push(at(t, exited(&id, round)));
                events.push(at(t, gate_checked(&id, round, "production-engineer")));
                events.push(at(t, attempt(&id, round, &lane)));
                t += task.agent;
                events.push(at(t, exited(&id, round)));
                events.push(at(t, Event::GateFixCommitted { task: id.clone(), round, commit: "f".into() }));
                t += task.verify;
                events.push(at(t, gate_checked(&id, round + 1, "production-engineer")));
                events.push(at(t, integrating(&id, round + 1)));
                t += task.git;
                events.push(at(t, committed(&id, round + 1)));
                done_at[i] = t;
                lane_free[task.lane] = t;
                continue;
            }
            let tries = if task.fails_first && attempts[i] == 0 { 2 } else { 1 };
            for n in 0..tries {
                let number = attempts[i] + 1 + n;
                events.push(at(t, attempt(&id, number, &lane)));
                t += task.agent;
                events.push(at(t, exited(&id, number)));
                if n + 1 < tries {
                    events.push(at(t, Event::AttemptFailed { task: id.clone(), attempt: number, reason: "x".into() }));
                }
            }
            let number = attempts[i] + tries;
            events.push(at(t, verify_started(&id, number)));
            t += task.verify;
            events.push(at(t, verify_finished(&id, number, task.verify)));
            if task.person > 0 {
                events.push(at(t, waiting(&id)));
                t += task.person;
                events.push(at(t, answered(&id)));
            }
            events.push(at(t, integrating(&id, number)));
            t += task.git;
            events.push(at(t, committed(&id, number)));
            done_at[i] = t;
            lane_free[task.lane] = t;
        }
        events.sort_by_key(|e| e.at_ms);
        let Some((crash_at, gap)) = crash else {
            let end = events.last().map_or(session_start, |e| e.at_ms);
            journal.extend(events);
            verify_and_finish(&mut journal, end);
            break;
        };
        let index = |task: &str| (0..tasks.len()).position(|i| name(i) == task).unwrap_or(0);
        let mut integrating = HashSet::new();
        let mut recovered = Vec::new();
        for envelope in events {
            if envelope.at_ms > crash_at {
                // It was integrating when the process died: `resume` finds it on the run branch.
                if let Event::TaskCommitted { task, .. } = &envelope.event
                    && integrating.contains(task)
                {
                    recovered.push(envelope.event);
                }
                continue;
            }
            match &envelope.event {
                Event::AttemptStarted { task, attempt, .. } => attempts[index(task)] = *attempt,
                Event::Integrating { task, .. } => _ = integrating.insert(task.clone()),
                Event::TaskCommitted { task, .. } => landed[index(task)] = true,
                _ => {}
            }
            journal.push(envelope);
        }
        if landed.iter().all(|l| *l) {
            let end = journal.last().map_or(session_start, |e| e.at_ms);
            verify_and_finish(&mut journal, end);
            break;
        }
        session_start = crash_at.max(journal.last().map_or(0, |e| e.at_ms)) + gap;
        for event in recovered {
            if let Event::TaskCommitted { task, .. } = &event {
                landed[index(task)] = true;
            }
            journal.push(at(session_start, event));
        }
        let done = (0..tasks.len()).filter(|&i| landed[i]).map(name).collect();
        journal.push(at(session_start, Event::RunResumed { committed: done, overrides: Vec::new() }));
    }
    let waits = Waits::new((0..tasks.len()).map(|i| (name(i), tasks[i].waits.iter().map(|&w| name(w)).collect())));
    (journal, waits)
}

/// Every task landed at `end`: wavecrew reads the must_haves, runs the Automated commands and
/// the verifier of the truths on the finished branch, and the run ends.
fn verify_and_finish(journal: &mut Vec<Envelope>, end: u64) {
    journal.extend([
        at(end + 100, verify_started("verification", 1)),
        at(end + 200, verify_finished("verification", 1, 100)),
        at(end + 200, attempt_as("verification", 1, "verification", Some(AgentRole::Verify))),
        at(end + 700, exited("verification", 1)),
        at(
            end + 750,
            Event::RunVerified {
                verdict: RunVerdict::Passed,
                must_haves: Vec::new(),
                automated: Vec::new(),
                manual: Vec::new(),
            },
        ),
        at(end + 750, finished(RunState::Succeeded)),
    ]);
}

proptest! {
    #[test]
    fn the_bound_never_exceeds_the_makespan_and_utilization_stays_within_0_and_1(
        (tasks, lanes, crashes) in gen_run()
    ) {
        let (events, waits) = simulate(&tasks, lanes, &crashes);
        let timeline = Timeline::build(&events, &waits);
        prop_assert!(timeline.critical_path_ms <= timeline.makespan_ms, "{timeline:#?}");
        prop_assert!(timeline.critical_path_ms <= timeline.serial_ms);
        for lane in &timeline.lanes {
            prop_assert!((0.0..=1.0).contains(&lane.utilization), "{lane:?}");
            prop_assert!(lane.busy_ms <= timeline.makespan_ms);
        }
        for bar in &timeline.bars {
            prop_assert!(bar.start_ms < bar.end_ms && bar.end_ms <= timeline.makespan_ms, "{bar:?}");
        }
        let sessions = 1 + events.iter().filter(|e| matches!(e.event, Event::RunResumed { .. })).count();
        prop_assert_eq!(timeline.sessions.len(), sessions);
        prop_assert_eq!(timeline.sessions.last().map_or(0, |s| s.end_ms), timeline.makespan_ms);
        // What makes the bound hold: a task's span starts after those of the tasks it waits for ended.
        let span = |task: &str| timeline.tasks.iter().find(|t| t.task == task);
        for (i, task) in tasks.iter().enumerate() {
            let Some(after) = span(&format!("{}.1", i + 1)) else { continue };
            for before in task.waits.iter().filter_map(|&w| span(&format!("{}.1", w + 1))) {
                prop_assert!(after.start_ms >= before.end_ms, "{before:?} then {after:?}");
            }
        }
        // Every task and the verification landed: the path ends with the verification.
        prop_assert_eq!(timeline.critical_path.last().map(String::as_str), Some("verification"));
    }
}

#[test]
fn a_held_task_waits_for_its_limit_and_the_lane_is_not_busy_meanwhile() {
    let limited = Event::AgentLimited {
        agent: "claude".into(),
        task: "1.1".into(),
        attempt: 1,
        hold: crate::events::LimitHold::Reset,
        until_ms: Some(5_000),
        reset_ms: Some(5_000),
        reason: "claude: You've hit your session limit".into(),
    };
    let events = vec![
        at(1_000, run_started(&[("A", &["1.1"])])),
        at(1_000, attempt("1.1", 1, "A")),
        at(
            2_000,
            Event::AgentExited { task: "1.1".into(), attempt: 1, code: Some(1), timed_out: false, duration_ms: 0 },
        ),
        at(2_000, limited),
        at(5_000, attempt("1.1", 2, "A")),
        at(6_000, exited("1.1", 2)),
        at(6_000, Event::TaskCommitted { task: "1.1".into(), attempt: 2, commit: "c".into(), message: "m".into() }),
    ];
    let timeline = Timeline::build(&events, &Waits::new([("1.1", vec![])]));
    assert_eq!(timeline.waiting.limits_ms, 3_000);
    assert_eq!(
        phases(&timeline, "1.1"),
        [(Phase::Agent, 0, 1_000), (Phase::Limit, 1_000, 4_000), (Phase::Agent, 4_000, 5_000)]
    );
    assert_eq!(timeline.lanes[0].busy_ms, 2_000, "held time is not work");
}

#[test]
fn a_best_of_tasks_candidates_each_get_their_own_bars_side_by_side() {
    let exited_after = |attempt: u32, duration_ms: u64| Event::AgentExited {
        task: "1.1".into(),
        attempt,
        code: Some(0),
        timed_out: false,
        duration_ms,
    };
    let candidates = Event::CandidatesStarted { task: "1.1".into(), attempts: vec![1, 2], kept: Vec::new() };
    let events = vec![
        at(0, run_started(&[("A", &["1.1"])])),
        at(0, candidates),
        at(0, attempt("1.1", 1, "A")),
        at(100, attempt("1.1", 2, "A")),
        at(1_000, exited_after(1, 1_000)),
        at(1_000, verify_started("1.1", 1)),
        at(1_400, exited_after(2, 1_300)),
        at(1_400, verify_started("1.1", 2)),
        at(1_500, verify_finished("1.1", 1, 500)),
        at(1_600, verify_finished("1.1", 2, 200)),
        at(1_600, integrating("1.1", 2)),
        at(1_700, committed("1.1", 2)),
        at(1_700, finished(RunState::Succeeded)),
    ];
    let timeline = Timeline::build(&events, &Waits::new([("1.1", vec![])]));
    let mut bars: Vec<(u32, Phase, u64, u64)> =
        timeline.bars.iter().map(|b| (b.attempt, b.phase, b.start_ms, b.end_ms)).collect();
    bars.sort_by_key(|b| (b.0, b.2));
    assert_eq!(
        bars,
        [
            (1, Phase::Agent, 0, 1_000),
            (1, Phase::Verify, 1_000, 1_500),
            (2, Phase::Agent, 100, 1_400),
            (2, Phase::Verify, 1_400, 1_600),
            (2, Phase::Git, 1_600, 1_700),
        ]
    );
    // Overlapping candidates count once in their lane's busy time.
    assert_eq!(timeline.lanes[0].busy_ms, 1_700);
}

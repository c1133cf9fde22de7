//! The scheduler on its own: hand-made plans for each rule, and random plans run to their end
//! with random outcomes, checking the rules at every step.

use super::*;
use proptest::prelude::*;

fn id(text: &str) -> TaskId {
    TaskId::parse(text).unwrap()
}

/// A wave of a generated plan: its tasks' Files, the waves it depends on, and which agent runs
/// each task.
#[derive(Clone, Debug)]
struct WaveSpec {
    depends_on: Vec<u32>,
    tasks: Vec<(Vec<&'static str>, usize)>,
}

/// The text of a plan with these waves, numbered from 1, each task on agent `A<n>` of its wave.
fn plan_text(waves: &[WaveSpec]) -> String {
    let mut text = String::from("# M1 Implementation Plan: Generated\n\n## Waves\n\n");
    let mut rows = Vec::new();
    for (w, wave) in waves.iter().enumerate() {
        let number = w + 1;
        text.push_str(&format!("### Wave {number}: W{number}\n"));
        if wave.depends_on.is_empty() {
            text.push_str("> No dependencies.\n\n");
        } else {
            let on: Vec<String> = wave.depends_on.iter().map(|d| format!("Wave {d}")).collect();
            text.push_str(&format!("> Depends on: {}\n\n", on.join(", ")));
        }
        for (t, (files, agent)) in wave.tasks.iter().enumerate() {
            let task = format!("{number}.{}", t + 1);
            text.push_str(&format!("**Task {task}** (type: auto)\n"));
            if !files.is_empty() {
                let files: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
                text.push_str(&format!("- **Files**: {}\n", files.join(", ")));
            }
            text.push('\n');
            rows.push((number, format!("A{agent}"), task));
        }
    }
    text.push_str("## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n");
    for (wave, agent, task) in rows {
        text.push_str(&format!("| {wave} | {agent} | sonnet | {task} |\n"));
    }
    text
}

fn scheduler(text: &str, jobs: usize) -> (Plan, Schedule, Scheduler) {
    let parsed = plan::parse(text, "generated.plan.md");
    let plan = parsed.plan;
    let schedule = Schedule::new(&plan);
    let scheduler = Scheduler::new(&plan, &schedule, ScheduleMode::Dag, jobs, false, |_| false);
    (plan, schedule, scheduler)
}

fn started(launches: &[Launch]) -> Vec<TaskId> {
    launches.iter().filter_map(|l| if let Launch::Start(id) = l { Some(*id) } else { None }).collect()
}

#[test]
fn with_fewer_slots_than_ready_tasks_the_longest_chain_starts_first() {
    // 1.1 and 2.1 are ready at once; 2.1 heads a chain of three tasks, 1.1 stands alone.
    let text = "# M1 Implementation Plan: P\n\n## Waves\n\n### Wave 1: A\n> No dependencies.\n\n\
                **Task 1.1** (type: auto)\n- **Files**: `a`\n\n\
                ### Wave 2: B\n> No dependencies.\n\n**Task 2.1** (type: auto)\n- **Files**: `b`\n\n\
                ### Wave 3: C\n> Depends on: Wave 2\n\n**Task 3.1** (type: auto)\n- **Files**: `c`\n\n\
                ### Wave 4: D\n> Depends on: Wave 3\n\n**Task 4.1** (type: auto)\n- **Files**: `d`\n\n\
                ## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n\
                | 1 | A | sonnet | 1.1 |\n| 2 | B | sonnet | 2.1 |\n| 3 | B | sonnet | 3.1 |\n| 4 | B | sonnet | 4.1 |\n";
    let (_, _, mut s) = scheduler(text, 1);
    assert!(s.skip().is_empty());
    assert_eq!(started(&s.launch()), [id("2.1")]);
    // The plan's order (what the benchmark compares with) would start 1.1.
    let (_, _, plan_order) = scheduler(text, 1);
    assert_eq!(started(&plan_order.in_plan_order().launch()), [id("1.1")]);
    s.finished(id("2.1"), TaskEnd::Committed);
    assert_eq!(started(&s.launch()), [id("3.1")]);
    // With slots for everything, everything ready starts.
    let (_, _, mut wide) = scheduler(text, 4);
    assert_eq!(started(&wide.launch()).len(), 2);
}

#[test]
fn a_failure_skips_what_waits_for_it_transitively_and_fail_fast_stops() {
    let waves = vec![
        WaveSpec { depends_on: vec![], tasks: vec![(vec!["a"], 1)] },
        WaveSpec { depends_on: vec![1], tasks: vec![(vec!["b"], 1)] },
        WaveSpec { depends_on: vec![2], tasks: vec![(vec!["c"], 1)] },
    ];
    let text = plan_text(&waves);
    let (plan, schedule, mut s) = scheduler(&text, 2);
    assert_eq!(started(&s.launch()), [id("1.1")]);
    s.finished(id("1.1"), TaskEnd::Failed);
    assert_eq!(s.skip(), [(id("2.1"), id("1.1")), (id("3.1"), id("2.1"))]);
    assert!(s.launch().is_empty() && s.idle());
    assert_eq!((s.count(TaskState::Failed), s.count(TaskState::Skipped)), (1, 2));

    let mut fast = Scheduler::new(&plan, &schedule, ScheduleMode::Dag, 2, true, |_| false);
    fast.launch();
    fast.finished(id("1.1"), TaskEnd::Failed);
    assert_eq!(fast.stop_reason(), Some(&StopReason::FailFast(id("1.1"))));
    assert!(fast.skip().is_empty(), "nothing more is decided once the run stops");
}

#[test]
fn the_strongest_stop_reason_wins_and_reads_as_before() {
    let (_, _, mut s) = scheduler(&plan_text(&[WaveSpec { depends_on: vec![], tasks: vec![(vec![], 1)] }]), 1);
    s.stop(StopReason::Cancelled);
    s.stop(StopReason::FailFast(id("1.1")));
    assert_eq!(s.stop_reason(), Some(&StopReason::Cancelled));
    s.stop(StopReason::Broken("the journal is read-only".into()));
    assert_eq!(s.stop_reason().unwrap().to_string(), "the journal is read-only");
    assert_eq!(StopReason::Cancelled.to_string(), "cancelled");
    assert_eq!(
        StopReason::budget(1.0, 1.23456).to_string(),
        "the budget of $1.00 is spent ($1.2346); running tasks finish, nothing new starts"
    );
    assert_eq!(StopReason::FailFast(id("2.1")).to_string(), "task 2.1 failed and --fail-fast is on");
}

#[test]
fn a_parked_checkpoint_frees_its_slot_and_gets_one_back_before_new_tasks() {
    let waves = vec![WaveSpec { depends_on: vec![], tasks: vec![(vec!["a"], 1), (vec!["b"], 2), (vec!["c"], 3)] }];
    let (_, _, mut s) = scheduler(&plan_text(&waves), 1);
    assert_eq!(started(&s.launch()), [id("1.1")]);
    s.park(id("1.1"));
    assert_eq!(started(&s.launch()), [id("1.2")], "the waiting checkpoint holds no slot");
    s.unpark(id("1.1"));
    assert!(s.launch().is_empty(), "no slot is free: the answered checkpoint waits for one");
    s.finished(id("1.2"), TaskEnd::Committed);
    assert_eq!(s.launch(), [Launch::Grant(id("1.1"))], "it goes before 1.3");
    s.finished(id("1.1"), TaskEnd::Committed);
    assert_eq!(started(&s.launch()), [id("1.3")]);
    // Once stopping, an answered checkpoint may still finish, over the slot count.
    s.park(id("1.3"));
    s.stop(StopReason::Cancelled);
    s.unpark(id("1.3"));
    assert_eq!(s.launch(), [Launch::Grant(id("1.3"))]);
}

#[test]
fn a_wave_settles_when_only_people_can_move_it() {
    let waves = vec![
        WaveSpec { depends_on: vec![], tasks: vec![(vec!["a"], 1), (vec!["b"], 2)] },
        WaveSpec { depends_on: vec![1], tasks: vec![(vec!["c"], 1)] },
    ];
    let (_, _, mut s) = scheduler(&plan_text(&waves), 2);
    s.launch();
    assert!(!s.settled_waves().contains(&1), "its tasks run");
    s.park(id("1.1"));
    assert!(!s.settled_waves().contains(&1), "1.2 still runs");
    s.finished(id("1.2"), TaskEnd::Committed);
    let settled = s.settled_waves();
    assert!(settled.contains(&1), "{settled:?}");
    assert!(settled.contains(&2), "wave 2 waits for 1.1, which waits for a person: {settled:?}");
}

#[test]
fn a_resumed_run_starts_after_what_is_committed() {
    let waves = vec![
        WaveSpec { depends_on: vec![], tasks: vec![(vec!["a"], 1)] },
        WaveSpec { depends_on: vec![1], tasks: vec![(vec!["b"], 1)] },
    ];
    let text = plan_text(&waves);
    let plan = plan::parse(&text, "p").plan;
    let schedule = Schedule::new(&plan);
    let mut s = Scheduler::new(&plan, &schedule, ScheduleMode::Dag, 1, false, |t| t == id("1.1"));
    assert_eq!(started(&s.launch()), [id("2.1")]);
}

/// Random plans: up to 5 waves of up to 4 tasks, Files from a small set (so that they overlap),
/// dependencies on earlier waves, tasks on up to 3 agents per wave.
fn arb_plan() -> impl Strategy<Value = Vec<WaveSpec>> {
    let files = prop::sample::subsequence(vec!["src/a.rs", "src/b.rs", "src/c.rs", "src/d.rs", "src/e.rs"], 0..=2);
    let task = (files, 1usize..=3);
    let wave = (prop::collection::vec(task, 1..=4), prop::collection::vec(any::<bool>(), 5));
    prop::collection::vec(wave, 1..=5).prop_map(|waves| {
        waves
            .into_iter()
            .enumerate()
            .map(|(w, (tasks, picks))| WaveSpec {
                depends_on: (1..=w as u32).filter(|d| picks[*d as usize - 1]).collect(),
                tasks,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the plan, the slots and the order in which tasks end: a started task's
    /// dependencies are committed, no lane runs two tasks, no two running tasks share a file,
    /// never more than `jobs` run, something runs whenever a pending task could, and every task
    /// ends committed, failed or skipped.
    #[test]
    fn the_scheduler_keeps_every_rule_and_always_progresses(
        waves in arb_plan(),
        jobs in 1usize..=4,
        picks in prop::collection::vec((any::<prop::sample::Index>(), 0u8..10), 64),
    ) {
        let text = plan_text(&waves);
        let (plan, schedule, mut s) = scheduler(&text, jobs);
        prop_assume!(schedule.task_order().is_some());
        let lane_of = |t: TaskId| schedule.lane_of(t).map(|l| l.name.clone());
        let mut picks = picks.into_iter().cycle();
        let mut steps = 0;
        loop {
            steps += 1;
            prop_assert!(steps < 1000, "the run does not end");
            s.skip();
            let launched = started(&s.launch());
            for &t in &launched {
                for before in waits_for(&plan, &schedule, ScheduleMode::Dag, t) {
                    prop_assert_eq!(s.state(before), Some(TaskState::Committed), "{} started before {}", t, before);
                }
            }
            let running: Vec<TaskId> = s.running().collect();
            prop_assert!(running.len() <= jobs);
            for (i, &a) in running.iter().enumerate() {
                for &b in &running[i + 1..] {
                    prop_assert_ne!(lane_of(a), lane_of(b), "{} and {} share a lane", a, b);
                    let (fa, fb) = (&plan.task(a).unwrap().files, &plan.task(b).unwrap().files);
                    prop_assert!(!plan::files_overlap(fa, fb), "{} and {} share a file", a, b);
                }
            }
            if running.is_empty() {
                // Nothing runs: then nothing could.
                let pending: Vec<TaskId> = plan.tasks.iter().map(|t| t.id).filter(|&t| s.state(t) == Some(TaskState::Pending)).collect();
                prop_assert!(pending.is_empty(), "stalled with {:?} pending", pending);
                break;
            }
            let (index, roll) = picks.next().unwrap();
            let done = running[index.index(running.len())];
            s.finished(done, if roll < 2 { TaskEnd::Failed } else { TaskEnd::Committed });
        }
        let ended = s.count(TaskState::Committed) + s.count(TaskState::Failed) + s.count(TaskState::Skipped);
        prop_assert_eq!(ended, s.len());
    }
}

fn two_agents_plan() -> String {
    let wave =
        WaveSpec { depends_on: vec![], tasks: vec![(vec!["a"], 0), (vec!["b"], 0), (vec!["c"], 1), (vec!["d"], 1)] };
    plan_text(&[wave])
}

fn usage_limit(reset_ms: u64) -> Limit {
    Limit { reason: "claude: You've hit your session limit".into(), reset: crate::limits::Reset::At(reset_ms) }
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_limited_agent_s_tasks_hold_without_a_slot_and_other_agents_go_on() {
    let (_, _, scheduler) = scheduler(&two_agents_plan(), 2);
    // Lane A0 (1.1, 1.2) on claude; lane A1 (1.3, 1.4) on another agent.
    let mut s = scheduler.with_agent("claude", |id| id == id_of("1.1") || id == id_of("1.2"));
    assert!(s.release(0).is_empty());
    assert_eq!(started(&s.launch()), [id("1.1"), id("1.3")]);
    let decision = s.limited(id("1.1"), &usage_limit(20_000), 1_000, OnLimit::Wait, HOUR);
    assert_eq!(decision, Decision::Hold { until_ms: 20_000, why: crate::limits::HoldWhy::Reset });
    assert_eq!(s.next_release(1_000), Some(20_000));
    // 1.1 holds no slot: the other agent's next task takes it; claude's lane starts nothing.
    s.finished(id("1.3"), TaskEnd::Committed);
    assert!(s.release(2_000).is_empty());
    assert_eq!(started(&s.launch()), [id("1.4")]);
    s.finished(id("1.4"), TaskEnd::Committed);
    assert!(s.release(3_000).is_empty());
    assert!(started(&s.launch()).is_empty(), "claude is held");
    assert!(!s.idle(), "a held task keeps the run going");
    // The reset: 1.1 runs again first, then its lane goes on.
    assert_eq!(s.release(20_000), [Release::Retry(id("1.1"))]);
    assert!(started(&s.launch()).is_empty(), "1.1 has its lane");
    s.finished(id("1.1"), TaskEnd::Committed);
    assert_eq!(started(&s.launch()), [id("1.2")]);
}

fn id_of(text: &str) -> TaskId {
    id(text)
}

#[test]
fn a_hold_capped_at_max_hold_fails_the_task_and_a_stop_releases_every_held_task() {
    let (_, _, scheduler) = scheduler(&two_agents_plan(), 4);
    let mut s = scheduler.with_agent("claude", |_| true);
    s.release(0);
    assert_eq!(s.launch().len(), 2);
    let far = usage_limit(100 * 3_600_000);
    let capped = s.limited(id("1.1"), &far, 0, OnLimit::Wait, HOUR);
    assert_eq!(capped, Decision::Hold { until_ms: 3_600_000, why: crate::limits::HoldWhy::Capped });
    assert!(s.release(3_599_999).is_empty());
    assert_eq!(s.release(3_600_000), [Release::Fail(id("1.1"))]);
    s.finished(id("1.1"), TaskEnd::Failed);
    // Held again, then the run is cancelled: the held task ends at once.
    s.limited(id("1.3"), &usage_limit(9_000_000), 3_600_000, OnLimit::Wait, HOUR);
    s.stop(StopReason::Cancelled);
    assert_eq!(s.release(3_600_001), [Release::Stop(id("1.3"))]);
    s.finished(id("1.3"), TaskEnd::Interrupted);
    assert!(s.idle());
}

#[test]
fn a_hold_read_back_by_resume_keeps_the_agent_s_tasks_waiting() {
    let (_, _, scheduler) = scheduler(&two_agents_plan(), 4);
    let mut s = scheduler.with_agent("claude", |id| id == id_of("1.1"));
    s.restore_hold("claude", 50_000, "claude: usage limit");
    s.release(10_000);
    assert_eq!(started(&s.launch()), [id("1.3")], "1.1's lane waits; the other lane goes on");
    s.finished(id("1.3"), TaskEnd::Committed);
    s.release(10_001);
    assert_eq!(started(&s.launch()), [id("1.4")]);
    s.finished(id("1.4"), TaskEnd::Committed);
    s.release(10_002);
    assert!(s.launch().is_empty());
    assert!(!s.idle(), "the run waits for the hold");
    assert_eq!(s.next_release(10_002), Some(50_000));
    s.release(50_000);
    assert_eq!(started(&s.launch()), [id("1.1")]);
}

#[test]
fn on_limit_fail_keeps_the_slot_for_the_task_to_fail() {
    let (_, _, scheduler) = scheduler(&two_agents_plan(), 4);
    let mut s = scheduler.with_agent("claude", |_| true);
    s.release(0);
    s.launch();
    assert_eq!(s.limited(id("1.1"), &usage_limit(5_000), 0, OnLimit::Fail, HOUR), Decision::Fail);
    assert_eq!(s.next_release(0), None);
    s.finished(id("1.1"), TaskEnd::Failed);
    assert_eq!(s.count(TaskState::Failed), 1);
}

#[test]
fn a_held_task_that_ends_on_a_cancel_before_its_release_leaves_the_run_idle() {
    let (_, _, scheduler) = scheduler(&two_agents_plan(), 4);
    let mut s = scheduler.with_agent("claude", |_| true);
    s.release(0);
    s.launch();
    s.limited(id("1.1"), &usage_limit(60_000), 0, OnLimit::Wait, HOUR);
    // The task saw the cancel and ended first; then the loop stops the run.
    s.finished(id("1.1"), TaskEnd::Interrupted);
    s.stop(StopReason::Cancelled);
    assert!(s.release(1).is_empty());
    for other in ["1.2", "1.3", "1.4"] {
        s.finished(id(other), TaskEnd::Interrupted);
    }
    assert!(s.idle());
}

#[test]
fn a_held_task_frees_its_slot_and_is_launched_again_once_another_task_ends() {
    let wave = WaveSpec { depends_on: vec![], tasks: vec![(vec!["a"], 0), (vec!["b"], 1), (vec!["c"], 2)] };
    let (_, _, mut scheduler) = scheduler(&plan_text(&[wave]), 3);
    assert_eq!(started(&scheduler.launch()), [id("1.1"), id("1.2"), id("1.3")]);
    // Its wave cannot pay for 1.3 until something ends.
    scheduler.hold(id("1.3"));
    assert_eq!(scheduler.state(id("1.3")), Some(TaskState::Pending));
    assert_eq!(scheduler.running().count(), 2);
    assert!(started(&scheduler.launch()).is_empty(), "a held task is not launched again at once");
    scheduler.finished(id("1.1"), TaskEnd::Committed);
    assert_eq!(started(&scheduler.launch()), [id("1.3")], "an end may have made room: it tries again");
    // Held again, then the last running task ends: it may try once more.
    scheduler.hold(id("1.3"));
    scheduler.finished(id("1.2"), TaskEnd::Committed);
    assert_eq!(started(&scheduler.launch()), [id("1.3")]);
}

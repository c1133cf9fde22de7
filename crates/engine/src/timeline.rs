//! The run's timeline: where a run's time went, read from its journaled events.
//!
//! [`Timeline::build`] takes a run's events (in journal order, each with its `at_ms`) and what
//! each of the plan's tasks waits for ([`Waits`]), and works out:
//! - the **makespan**: how long the run took;
//! - each task's **bars** per lane and attempt, by [`Phase`]: preparing the lane (a
//!   `lane_prepared`'s duration), the agent (`attempt_started` to `agent_exited`), Verify
//!   (`verify_started` to `verify_finished`), git (`integrating` to `task_committed`), waiting
//!   for a person (`checkpoint_waiting` to `checkpoint_answered`), and gate rounds (a gate's
//!   checks and review, up to its `gate_checked`);
//! - the **critical-path bound**: the longest chain of tasks that wait for one another, each
//!   weighing what it actually took: no scheduler could have finished the run sooner with
//!   these tasks taking these times;
//! - the **speedup** over running the tasks one after another (the sum of the tasks' times over
//!   the makespan), each lane's **utilization** (the time one of its tasks was at work, over
//!   the makespan), and the time spent waiting: for people, for usage limits, in Verify and in
//!   git (summed over tasks: two tasks waiting a minute each is two minutes).
//!
//! **Times are run time**: milliseconds since the run started, not counting the gaps between
//! sessions. A run that stopped (a crash, a `cancel`) and was resumed later has one session per
//! process; the hours in between are nobody's work, so the chart closes them up and
//! [`Timeline::sessions`] says where each session starts. A session ends at its `run_finished`,
//! or at its last event when its process died; a run still going is measured up to its last
//! event. Bars still open when a session ends (an agent killed by a crash) end with it. `resume`
//! journals the commits it finds on the run branch before it says `run_resumed`: those belong to
//! the new session, not to the gap.
//!
//! A task's time runs from its first bar to its `task_committed` (or `task_failed`), waiting for
//! people included: that is how long it held back the tasks after it. A gate round has no event
//! at its start: it starts when the step before it ended (preparing the lane, the previous
//! round's fix), or, for a first round, when the tasks it waits for had landed and its lane was
//! free. The verification of the finished run branch (task `verification`) waits for every task,
//! and starts when the last one landed (its first event comes after the must_haves were read).
//!
//! Everything here is pure: no I/O, no clock.
//!
//! ```
//! use engine::events::{Envelope, Event};
//! use engine::timeline::{Timeline, Waits};
//! let at = |at_ms, event| Envelope { run: "r".into(), seq: 0, at_ms, event };
//! let started = |task: &str| Event::AttemptStarted {
//!     task: task.into(), attempt: 1, lane: format!("lane {task}"), agent: "claude".into(), model: None,
//!     worktree: String::new(), base: String::new(), role: None,
//! };
//! let committed = |task: &str| Event::TaskCommitted {
//!     task: task.into(), attempt: 1, commit: String::new(), message: String::new(),
//! };
//! let events = [
//!     at(1_000, started("1.1")),
//!     at(1_000, started("1.2")),
//!     at(4_000, committed("1.1")),
//!     at(5_000, committed("1.2")),
//! ];
//! let timeline = Timeline::build(&events, &Waits::new([("1.1", vec![]), ("1.2", vec![])]));
//! assert_eq!(timeline.makespan_ms, 4_000);
//! assert_eq!((timeline.critical_path_ms, timeline.critical_path.clone()), (4_000, vec!["1.2".to_owned()]));
//! assert_eq!(timeline.serial_ms, 7_000);
//! assert_eq!(timeline.speedup, 1.75);
//! ```

mod clock;
mod render;

use crate::agent::AgentRole;
use crate::events::{Envelope, Event, LaneInfo};
use crate::options::ScheduleMode;
use clock::Clock;
use plan::{Plan, Schedule};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What a bar of the chart is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The lane's worktree was made or reset, and its setup ran.
    Prepare,
    /// An agent worked: the task's, or a gate's fix, or the verifier of the plan's truths.
    Agent,
    /// A Verify command ran.
    Verify,
    /// The task's commit was put on the run branch.
    Git,
    /// A checkpoint waited for a person.
    Waiting,
    /// A gate checked the run branch (its commands and its agent's review), one bar a round.
    Gate,
    /// An agent waited for a usage or rate limit to lift: from `agent_limited` to the task's
    /// next attempt.
    Limit,
}

impl Phase {
    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Prepare => "prepare",
            Phase::Agent => "agent",
            Phase::Verify => "verify",
            Phase::Git => "git",
            Phase::Waiting => "waiting",
            Phase::Gate => "gate",
            Phase::Limit => "limit",
        }
    }

    /// Whether the lane waits rather than works during it.
    pub fn is_wait(self) -> bool {
        matches!(self, Phase::Waiting | Phase::Limit)
    }
}

/// A stretch of one task's attempt in one phase, in run time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// The task (`2.1`, or `verification` for the check of the finished run branch).
    pub task: String,
    /// The lane it ran on.
    pub lane: String,
    /// The attempt (a gate's round).
    pub attempt: u32,
    /// What happened.
    pub phase: Phase,
    /// When it started.
    pub start_ms: u64,
    /// When it ended.
    pub end_ms: u64,
    /// Whether its task is on the critical path.
    pub critical: bool,
}

/// A task from its first bar to its end, in run time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpan {
    /// The task.
    pub task: String,
    /// Its lane.
    pub lane: String,
    /// When its first bar started.
    pub start_ms: u64,
    /// When it landed or failed (or, when it did neither, when its last bar ended).
    pub end_ms: u64,
    /// Whether it is on the critical path.
    pub critical: bool,
}

impl TaskSpan {
    /// How long it took.
    pub fn duration_ms(&self) -> u64 {
        self.end_ms - self.start_ms
    }
}

/// How busy a lane was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaneUse {
    /// The lane (the plan's agent name; `default (2.1)` for one of several unassigned tasks).
    pub name: String,
    /// The agent backend that ran it.
    pub agent: String,
    /// The time one of its tasks was at work (not waiting for a person or a limit).
    pub busy_ms: u64,
    /// `busy_ms` over the makespan, in [0, 1].
    pub utilization: f64,
}

/// Time spent waiting, summed over tasks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// For a person to answer a checkpoint.
    pub people_ms: u64,
    /// For an agent's usage or rate limit to lift (from `agent_limited` on).
    pub limits_ms: u64,
    /// In Verify commands.
    pub verify_ms: u64,
    /// Putting commits on the run branch.
    pub git_ms: u64,
}

/// One process's part of the run, in run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Where it starts.
    pub start_ms: u64,
    /// Where it ends.
    pub end_ms: u64,
}

/// Where a run's time went. Every time is run time (see the module's doc).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// How long the run took, gaps between sessions left out.
    pub makespan_ms: u64,
    /// The longest chain of waits, each task weighing its actual time: the run could not have
    /// been shorter with these tasks taking these times.
    pub critical_path_ms: u64,
    /// The tasks of that chain, in order (tasks that took no time left out).
    pub critical_path: Vec<String>,
    /// The tasks' times added up: the run's length with one task after another.
    pub serial_ms: u64,
    /// `serial_ms` over the makespan; 0 when nothing ran.
    pub speedup: f64,
    /// Every lane, in the plan's order, then lanes of work outside the plan (`verification`).
    pub lanes: Vec<LaneUse>,
    /// Every task that ran, the plan's first, in order.
    pub tasks: Vec<TaskSpan>,
    /// What each task did when, by start.
    pub bars: Vec<Bar>,
    /// Time spent waiting.
    pub waiting: Waiting,
    /// The run's sessions (more than one when it was resumed).
    pub sessions: Vec<Session>,
}

/// What each of the plan's tasks waits for, in the plan's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Waits {
    tasks: Vec<(String, Vec<String>)>,
    /// Where each task is in `tasks`.
    index: HashMap<String, usize>,
}

impl Waits {
    /// From `(task, the tasks it waits for)` pairs, in the plan's order.
    pub fn new<T: Into<String>>(pairs: impl IntoIterator<Item = (T, Vec<T>)>) -> Waits {
        let tasks: Vec<(String, Vec<String>)> =
            pairs.into_iter().map(|(task, waits)| (task.into(), waits.into_iter().map(Into::into).collect())).collect();
        let index = tasks.iter().enumerate().map(|(i, (task, _))| (task.clone(), i)).collect();
        Waits { tasks, index }
    }

    /// The waits of `plan`'s tasks as the scheduler sees them with `mode`
    /// ([`crate::graph::waits_for`]).
    pub fn of_plan(plan: &Plan, schedule: &Schedule, mode: ScheduleMode) -> Waits {
        Waits::new(plan.tasks.iter().map(|task| {
            let waits = crate::graph::waits_for(plan, schedule, mode, task.id);
            (task.id.to_string(), waits.iter().map(ToString::to_string).collect())
        }))
    }

    /// What `task` waits for; `None` when the plan has no such task.
    fn get(&self, task: &str) -> Option<&[String]> {
        self.index.get(task).map(|&i| self.tasks[i].1.as_slice())
    }
}

impl Timeline {
    /// The timeline of a run with these `events` (in journal order) and these `waits`.
    pub fn build(events: &[Envelope], waits: &Waits) -> Timeline {
        let clock = Clock::of(events);
        let mut builder = Builder::new(&clock, waits);
        for (index, envelope) in events.iter().enumerate() {
            if index > 0 && clock.session_of[index] != clock.session_of[index - 1] {
                builder.close_all(clock.session_start(index));
            }
            builder.event(index, envelope);
        }
        builder.close_all(clock.makespan());
        builder.finish()
    }

    /// `critical_path_ms` over the makespan: how close the run came to its bound (1 at best).
    pub fn bound_ratio(&self) -> f64 {
        if self.makespan_ms == 0 { 0.0 } else { self.critical_path_ms as f64 / self.makespan_ms as f64 }
    }
}

/// A bar that started and has not ended yet.
#[derive(Clone, Copy, Debug)]
struct Open {
    attempt: u32,
    start: u64,
}

/// What the builder knows of one task so far.
#[derive(Debug, Default)]
struct Track {
    lane: String,
    /// When its first bar started.
    start: Option<u64>,
    /// When it landed or failed.
    end: Option<u64>,
    /// When it landed.
    committed: Option<u64>,
    /// When its last step ended: where a gate round without a start event starts.
    mark: Option<u64>,
    /// Its latest attempt.
    attempt: u32,
    /// The agent at work, and whether it is a gate's review (whose time is the gate round's).
    agent: Option<(Open, bool)>,
    verify: Option<Open>,
    git: Option<Open>,
    waiting: Option<Open>,
    /// Held by its agent's limit, since `agent_limited`.
    limit: Option<Open>,
    /// The bar of the gate round that may go on (a gate checks one skill after another).
    gate: Option<usize>,
    /// A best-of task: its candidates' agents and Verify commands run side by side, so their
    /// bars come from the durations their ends report, not from one open bar at a time.
    fanned: bool,
}

struct Builder<'a> {
    clock: &'a Clock,
    waits: &'a Waits,
    /// Lanes in order: name and agent.
    lanes: Vec<(String, String)>,
    /// Lane names by task, from `run_started`.
    lane_of: HashMap<String, String>,
    /// Tasks in order of their first event.
    order: Vec<String>,
    tracks: HashMap<String, Track>,
    bars: Vec<Bar>,
}

impl<'a> Builder<'a> {
    fn new(clock: &'a Clock, waits: &'a Waits) -> Builder<'a> {
        Builder {
            clock,
            waits,
            lanes: Vec::new(),
            lane_of: HashMap::new(),
            order: Vec::new(),
            tracks: HashMap::new(),
            bars: Vec::new(),
        }
    }

    fn started(&mut self, lanes: &[LaneInfo]) {
        // Unassigned tasks each get a lane named `default`: told apart by their tasks.
        let count = |name: &str| lanes.iter().filter(|l| l.name == name).count();
        for lane in lanes {
            let name = if count(&lane.name) > 1 {
                format!("{} ({})", lane.name, lane.tasks.join(", "))
            } else {
                lane.name.clone()
            };
            for task in &lane.tasks {
                self.lane_of.insert(task.clone(), name.clone());
            }
            self.lane(&name, &lane.agent);
        }
    }

    /// Makes sure lane `name` is known.
    fn lane(&mut self, name: &str, agent: &str) {
        if !self.lanes.iter().any(|(known, _)| known == name) {
            self.lanes.push((name.to_owned(), agent.to_owned()));
        }
    }

    /// The track of `task`, made on its first event (`lane`: the one the event names).
    fn track(&mut self, task: &str, lane: Option<&str>) -> &mut Track {
        if !self.tracks.contains_key(task) {
            // The verification of the finished branch runs on a lane of its own, named after it.
            let fallback = if task == VERIFICATION { VERIFICATION } else { "default" };
            let lane = self.lane_of.get(task).map(String::as_str).or(lane).unwrap_or(fallback).to_owned();
            self.lane(&lane, "-");
            self.order.push(task.to_owned());
            self.tracks.insert(task.to_owned(), Track { lane, ..Track::default() });
        }
        self.tracks.get_mut(task).expect("inserted above")
    }

    fn bar(&mut self, task: &str, phase: Phase, attempt: u32, start: u64, end: u64) -> usize {
        let track = self.track(task, None);
        let start = start.min(end);
        // A bar of no length (an answer given at once) is left out, and does not start the task.
        if end > start {
            track.start = Some(track.start.map_or(start, |s| s.min(start)));
        }
        let lane = track.lane.clone();
        self.bars.push(Bar {
            task: task.to_owned(),
            lane,
            attempt,
            phase,
            start_ms: start,
            end_ms: end,
            critical: false,
        });
        self.bars.len() - 1
    }

    fn event(&mut self, index: usize, envelope: &Envelope) {
        let clock = self.clock;
        let now = clock.at(index, envelope.at_ms);
        let before = |ms: u64| clock.at(index, envelope.at_ms.saturating_sub(ms));
        match &envelope.event {
            Event::RunStarted { lanes, .. } => self.started(lanes),
            Event::AttemptStarted { task, attempt, lane, agent, role, .. } => {
                if let Some(open) = self.track(task, Some(lane)).limit.take() {
                    self.bar(task, Phase::Limit, open.attempt, open.start, now);
                }
                let review = *role == Some(AgentRole::Review);
                let track = self.track(task, Some(lane));
                let lane = track.lane.clone();
                track.attempt = track.attempt.max(*attempt);
                if !review {
                    track.gate = None;
                }
                let open = (Open { attempt: *attempt, start: now }, review);
                let stale = if track.fanned { None } else { track.agent.replace(open) };
                if let Some((open, false)) = stale {
                    self.bar(task, Phase::Agent, open.attempt, open.start, now);
                }
                self.lanes
                    .iter_mut()
                    .filter(|(name, known)| *name == lane && known == "-")
                    .for_each(|l| l.1.clone_from(agent));
            }
            Event::LanePrepared { task, lane, duration_ms, .. } => {
                let attempt = self.track(task, Some(lane)).attempt + 1;
                self.bar(task, Phase::Prepare, attempt, before(*duration_ms), now);
                self.track(task, None).mark = Some(now);
            }
            Event::AgentExited { task, attempt, duration_ms, .. } => {
                match self.track(task, None).agent.take() {
                    Some((_, true)) => {} // a review: its time is the gate round's, which goes on
                    Some((open, false)) => {
                        self.bar(task, Phase::Agent, open.attempt, open.start, now);
                        self.track(task, None).mark = Some(now);
                    }
                    None => {
                        self.bar(task, Phase::Agent, *attempt, before(*duration_ms), now);
                        self.track(task, None).mark = Some(now);
                    }
                }
            }
            Event::VerifyStarted { task, attempt, .. } => {
                let track = self.track(task, None);
                if !track.fanned {
                    track.verify = Some(Open { attempt: *attempt, start: now });
                }
            }
            Event::CandidatesStarted { task, .. } => self.track(task, None).fanned = true,
            Event::VerifyFinished { task, attempt, duration_ms, .. } => {
                let open = self.track(task, None).verify.take();
                let start = open.map_or_else(|| before(*duration_ms), |o| o.start);
                self.bar(task, Phase::Verify, *attempt, start, now);
                self.track(task, None).mark = Some(now);
            }
            Event::Integrating { task, attempt, .. } => {
                self.track(task, None).git = Some(Open { attempt: *attempt, start: now });
            }
            Event::CheckpointWaiting { task, .. } => {
                let attempt = self.track(task, None).attempt.max(1);
                self.track(task, None).waiting = Some(Open { attempt, start: now });
            }
            Event::CheckpointAnswered { task, .. } => {
                // The Manual checklist's sign-off (`manual`) waits for no task: nothing opened it.
                if let Some(open) = self.tracks.get_mut(task).and_then(|t| t.waiting.take()) {
                    self.bar(task, Phase::Waiting, open.attempt, open.start, now);
                    self.track(task, None).mark = Some(now);
                }
            }
            Event::GateChecked { task, round, .. } => {
                let track = self.track(task, None);
                track.attempt = track.attempt.max(*round);
                let (lane, gate, mark) = (track.lane.clone(), track.gate, track.mark);
                match gate.filter(|&bar| self.bars[bar].attempt == *round) {
                    Some(bar) => self.bars[bar].end_ms = now,
                    None => {
                        let start = mark.unwrap_or_else(|| self.ready_at(index, task, &lane));
                        let bar = self.bar(task, Phase::Gate, *round, start.min(now), now);
                        self.track(task, None).gate = Some(bar);
                    }
                }
                self.track(task, None).mark = Some(now);
            }
            Event::GateFixCommitted { task, .. } => self.track(task, None).mark = Some(now),
            Event::AttemptFailed { task, .. } => {
                self.close(task, now);
                self.track(task, None).mark = Some(now);
            }
            Event::TaskCommitted { task, .. } => {
                self.close(task, now);
                let track = self.track(task, None);
                track.end = Some(now);
                track.committed = Some(now);
                track.start.get_or_insert(now);
            }
            Event::TaskFailed { task, .. } => {
                self.close(task, now);
                let track = self.track(task, None);
                track.end = Some(now);
                track.start.get_or_insert(now);
            }
            Event::RunVerified { .. } => {
                if let Some(track) = self.tracks.get_mut(VERIFICATION) {
                    track.end = Some(now);
                }
            }
            // A held task waits for its agent's limit to lift (as `checkpoint_waiting` opens a
            // wait): `waiting.limits_ms` counts it and lane utilization leaves it out.
            Event::AgentLimited { task, attempt, .. } => {
                self.close(task, now);
                let track = self.track(task, None);
                track.limit = Some(Open { attempt: *attempt, start: now });
                track.mark = Some(now);
            }
            _ => {}
        }
    }

    /// When a task of `lane` with no bar yet could have started: once the tasks it waits for
    /// had landed and its lane was free, in this session.
    fn ready_at(&self, index: usize, task: &str, lane: &str) -> u64 {
        let session = self.clock.session_start(index);
        let landed = self.waits.get(task).unwrap_or_default().iter().filter_map(|t| self.tracks.get(t)?.committed);
        let free = self.bars.iter().filter(|b| b.lane == lane && !b.phase.is_wait()).map(|b| b.end_ms);
        landed.chain(free).fold(session, u64::max)
    }

    /// Ends `task`'s open bars at `at`.
    fn close(&mut self, task: &str, at: u64) {
        let Some(track) = self.tracks.get_mut(task) else { return };
        let agent = track.agent.take().filter(|(_, review)| !review).map(|(open, _)| (Phase::Agent, open));
        let verify = track.verify.take().map(|open| (Phase::Verify, open));
        let git = track.git.take().map(|open| (Phase::Git, open));
        let waiting = track.waiting.take().map(|open| (Phase::Waiting, open));
        let limit = track.limit.take().map(|open| (Phase::Limit, open));
        track.gate = None;
        for (phase, open) in [agent, verify, git, waiting, limit].into_iter().flatten() {
            self.bar(task, phase, open.attempt, open.start, at);
        }
    }

    /// Ends every open bar at `at`: the session ended.
    fn close_all(&mut self, at: u64) {
        for task in self.order.clone() {
            self.close(&task, at);
            if let Some(track) = self.tracks.get_mut(&task) {
                track.mark = None;
            }
        }
    }

    fn finish(mut self) -> Timeline {
        let makespan = self.clock.makespan();
        // The plan's tasks in its order, then the work outside it in order of appearance.
        let planned: Vec<&String> = self.waits.tasks.iter().map(|(task, _)| task).collect();
        let names: Vec<String> = planned
            .iter()
            .map(|t| t.to_string())
            .chain(self.order.iter().filter(|t| self.waits.get(t).is_none()).cloned())
            .filter(|t| self.tracks.get(t).is_some_and(|track| track.start.is_some()))
            .collect();
        let mut tasks: Vec<TaskSpan> = names
            .iter()
            .map(|task| {
                let track = &self.tracks[task];
                let start = track.start.unwrap_or_default();
                let last = self.bars.iter().filter(|b| b.task == *task).map(|b| b.end_ms).max().unwrap_or(start);
                let end = track.end.unwrap_or(last).max(start);
                TaskSpan { task: task.clone(), lane: track.lane.clone(), start_ms: start, end_ms: end, critical: false }
            })
            .collect();
        // The verification of the finished branch starts when the last task landed: its first
        // event comes only after wavecrew read the must_haves' evidence.
        let landed = tasks.iter().filter(|t| self.waits.get(&t.task).is_some()).map(|t| t.end_ms).max();
        if let (Some(landed), Some(verification)) = (landed, tasks.iter_mut().find(|t| t.task == VERIFICATION)) {
            verification.start_ms = verification.start_ms.min(landed);
        }

        let (critical_path_ms, critical_path) = critical_path(&tasks, self.waits);
        let critical: HashSet<&str> = critical_path.iter().map(String::as_str).collect();
        for task in &mut tasks {
            task.critical = critical.contains(task.task.as_str());
        }
        for bar in &mut self.bars {
            bar.critical = critical.contains(bar.task.as_str());
        }
        self.bars.retain(|b| b.end_ms > b.start_ms);
        self.bars.sort_by_key(|b| (b.start_ms, b.end_ms));

        let serial_ms: u64 = tasks.iter().map(TaskSpan::duration_ms).sum();
        let share = |ms: u64| if makespan == 0 { 0.0 } else { ms as f64 / makespan as f64 };
        let lanes = self
            .lanes
            .iter()
            .map(|(name, agent)| {
                let busy_ms = busy(name, &tasks, &self.bars);
                LaneUse { name: name.clone(), agent: agent.clone(), busy_ms, utilization: share(busy_ms) }
            })
            .collect();
        let total = |phase: Phase| self.bars.iter().filter(|b| b.phase == phase).map(|b| b.end_ms - b.start_ms).sum();
        let waiting = Waiting {
            people_ms: total(Phase::Waiting),
            limits_ms: total(Phase::Limit),
            verify_ms: total(Phase::Verify),
            git_ms: total(Phase::Git),
        };
        Timeline {
            makespan_ms: makespan,
            critical_path_ms,
            critical_path,
            serial_ms,
            speedup: share(serial_ms),
            lanes,
            tasks,
            bars: self.bars,
            waiting,
            sessions: self.clock.sessions(),
        }
    }
}

/// The task that checks the finished run branch.
const VERIFICATION: &str = "verification";

/// The longest chain of waits among `tasks`, each weighing its time, and its tasks. The
/// verification of the finished branch follows all of the plan's tasks.
fn critical_path(tasks: &[TaskSpan], waits: &Waits) -> (u64, Vec<String>) {
    let duration: HashMap<&str, u64> = tasks.iter().map(|t| (t.task.as_str(), t.duration_ms())).collect();
    // For each task: the longest chain that ends with it, and the task before it on that chain.
    let waited: HashMap<&str, Vec<&str>> =
        waits.tasks.iter().map(|(task, before)| (task.as_str(), before.iter().map(String::as_str).collect())).collect();
    let mut longest = crate::graph::heaviest_chains(
        waits.tasks.iter().map(|(task, _)| task.as_str()),
        |task| waited.get(task).map_or(&[][..], Vec::as_slice),
        |task| duration.get(task).copied().unwrap_or(0),
    );
    let mut end: (u64, Option<&str>) = (0, None);
    for (task, _) in &waits.tasks {
        let length = longest[task.as_str()].0;
        if length > end.0 {
            end = (length, Some(task.as_str()));
        }
    }
    // A task the plan does not know (a journal older than its plan's text) waits for nothing.
    for task in tasks.iter().filter(|t| t.task != VERIFICATION && waits.get(&t.task).is_none()) {
        longest.insert(&task.task, (task.duration_ms(), None));
        if task.duration_ms() > end.0 {
            end = (task.duration_ms(), Some(&task.task));
        }
    }
    let mut chain = Vec::new();
    let mut at = end.1;
    while let Some(task) = at {
        chain.push(task.to_owned());
        at = longest.get(task).and_then(|(_, before)| *before);
    }
    chain.reverse();
    let mut length = end.0;
    if let Some(verification) = tasks.iter().find(|t| t.task == VERIFICATION) {
        length += verification.duration_ms();
        chain.push(verification.task.clone());
    }
    chain.retain(|task| duration.get(task.as_str()).is_some_and(|&d| d > 0));
    (length, chain)
}

/// How long one of `lane`'s tasks was at work: their spans, less their waits, overlaps counted
/// once.
fn busy(lane: &str, tasks: &[TaskSpan], bars: &[Bar]) -> u64 {
    let mut pieces: Vec<(u64, u64)> = Vec::new();
    for task in tasks.iter().filter(|t| t.lane == lane) {
        let mut waits: Vec<(u64, u64)> =
            bars.iter().filter(|b| b.task == task.task && b.phase.is_wait()).map(|b| (b.start_ms, b.end_ms)).collect();
        waits.sort_unstable();
        let mut from = task.start_ms;
        for (start, end) in waits {
            if start > from {
                pieces.push((from, start.min(task.end_ms)));
            }
            from = from.max(end);
        }
        if task.end_ms > from {
            pieces.push((from, task.end_ms));
        }
    }
    pieces.sort_unstable();
    let mut total = 0;
    let mut reached = 0;
    for (start, end) in pieces {
        let start = start.max(reached);
        if end > start {
            total += end - start;
            reached = end;
        }
    }
    total
}

#[cfg(test)]
mod tests;

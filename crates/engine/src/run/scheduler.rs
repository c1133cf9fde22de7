//! The scheduler: which task runs next. A plain struct, with no processes, git, time or
//! channels: the run loop ([`super`]) tells it what happened (a task ended, a checkpoint parked
//! or wants its slot back, the run must stop) and asks it what to do ([`Scheduler::skip`],
//! [`Scheduler::launch`]); it answers with what to start.
//!
//! A task starts once every task it waits for is committed ([`crate::graph::waits_for`]), the
//! task before it on its lane is done, no running task lists an overlapping file, and one of
//! `jobs` slots is free. When more tasks are ready than slots are free, the one with the longest
//! chain of tasks after it goes first (critical path first), then the plan's order. A
//! checkpoint waiting for a person holds no slot; once answered it goes before any new task.
//! A task whose agent hit a usage or rate limit holds no slot either: every task on that agent
//! waits until the hold ends ([`crate::limits::Holds`] decides how long), then the held tasks
//! go first; tasks on other agents go on meanwhile.

use crate::graph::{remaining_path, waits_for};
use crate::limits::{Decision, Holds, Limit, OnLimit};
use crate::options::ScheduleMode;
use plan::{Plan, Schedule, Spanned, TaskId};
use std::cmp::Reverse;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::time::Duration;

pub use crate::events::TaskState;

/// Why a run stops launching tasks. Ordered: when several happen, the strongest is the run's
/// (a person's cancel over `--fail-fast`, a broken journal over everything).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopReason {
    /// The budget (`--budget`, in millionths of a US dollar) is spent.
    Budget {
        /// The budget.
        budget_micro_usd: u64,
        /// What the run's agents spent when it stopped.
        spent_micro_usd: u64,
    },
    /// A budget cannot pay for what is left (`[budget]`), for this reason.
    OverBudget(String),
    /// A task failed and `--fail-fast` is on.
    FailFast(TaskId),
    /// A person cancelled the run (`cancel`, Ctrl-C): it can be resumed.
    Cancelled,
    /// The journal could not be written, for this reason: the run stops and can be resumed once
    /// that is fixed.
    Broken(String),
}

impl StopReason {
    /// The budget of `budget` US dollars is spent: `spent` so far.
    pub fn budget(budget: f64, spent: f64) -> StopReason {
        let micro = |usd: f64| (usd * 1_000_000.0).round().max(0.0) as u64;
        StopReason::Budget { budget_micro_usd: micro(budget), spent_micro_usd: micro(spent) }
    }
}

/// What the `stopping` event says.
impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Budget { budget_micro_usd, spent_micro_usd } => write!(
                f,
                "the budget of ${:.2} is spent (${:.4}); running tasks finish, nothing new starts",
                *budget_micro_usd as f64 / 1_000_000.0,
                *spent_micro_usd as f64 / 1_000_000.0
            ),
            StopReason::OverBudget(why) => write!(f, "{why}; running tasks finish, nothing new starts"),
            StopReason::FailFast(id) => write!(f, "task {id} failed and --fail-fast is on"),
            StopReason::Cancelled => f.write_str("cancelled"),
            StopReason::Broken(why) => f.write_str(why),
        }
    }
}

/// How a task's run ended, as the scheduler needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskEnd {
    /// Its commit is on the run branch.
    Committed,
    /// It failed for good: what waits for it is skipped.
    Failed,
    /// It was stopped (the run was cancelled, or the journal broke): it is pending again, for a
    /// resume.
    Interrupted,
}

/// What the run loop should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Launch {
    /// Start this task: it holds a slot until it ends.
    Start(TaskId),
    /// This answered checkpoint has its slot again: let it go on.
    Grant(TaskId),
}

/// The state of a run's tasks and slots, and the rules of what starts when.
#[derive(Clone, Debug)]
pub struct Scheduler {
    /// Every task, each after those it waits for: the order skips are found in.
    order: Vec<TaskId>,
    /// The same tasks by priority: the longest remaining path first, then `order`.
    priority: Vec<TaskId>,
    state: HashMap<TaskId, TaskState>,
    waits: HashMap<TaskId, Vec<TaskId>>,
    files: HashMap<TaskId, Vec<Spanned<String>>>,
    lane: HashMap<TaskId, usize>,
    waves: Vec<(u32, Vec<TaskId>)>,
    jobs: usize,
    fail_fast: bool,
    /// Tasks holding a slot, with their lane.
    running: HashMap<TaskId, usize>,
    /// Checkpoints waiting for a person, with their lane: they hold no slot.
    parked: HashMap<TaskId, usize>,
    /// Answered checkpoints waiting for a slot, first come first served.
    unparking: VecDeque<TaskId>,
    /// Tasks that were to start but wait for another to end first ([`Scheduler::hold`]).
    held: HashSet<TaskId>,
    stop: Option<StopReason>,
    /// Each task's agent (tasks no agent runs are not in it).
    agent_of: HashMap<TaskId, String>,
    /// How long each limited agent holds.
    holds: Holds,
    /// Tasks whose attempt ended on a limit, with their lane and whether they fail once the
    /// hold ends (it was capped at `max_hold`): they hold no slot.
    limited: HashMap<TaskId, (usize, bool)>,
    /// The time the run loop last told ([`Scheduler::release`]).
    now_ms: u64,
}

/// How a held task goes on once its agent's hold ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// Its attempt runs again (the limited one did not count).
    Retry(TaskId),
    /// It fails as limited: the limit had not reset within `max_hold`.
    Fail(TaskId),
    /// The run is stopping: it ends where it is, pending for a resume.
    Stop(TaskId),
}

impl Scheduler {
    /// A scheduler for `plan` with `jobs` slots; tasks for which `committed` says so are
    /// committed already (a resumed run).
    pub fn new(
        plan: &Plan,
        schedule: &Schedule,
        mode: ScheduleMode,
        jobs: usize,
        fail_fast: bool,
        committed: impl Fn(TaskId) -> bool,
    ) -> Scheduler {
        let order = schedule.task_order().unwrap_or_else(|| plan.tasks.iter().map(|t| t.id).collect());
        let waits: HashMap<TaskId, Vec<TaskId>> =
            order.iter().map(|&id| (id, waits_for(plan, schedule, mode, id))).collect();
        let remaining = remaining_path(&order, &waits, |_| 1);
        let mut priority = order.clone();
        // A stable sort: among equally long paths, the plan's order stays.
        priority.sort_by_key(|id| Reverse(remaining.get(id).copied().unwrap_or(0)));
        Scheduler {
            state: order
                .iter()
                .map(|&id| (id, if committed(id) { TaskState::Committed } else { TaskState::Pending }))
                .collect(),
            // Each task's Files, by id (the first task of an id, as `Plan::task`).
            files: plan.tasks.iter().rev().map(|t| (t.id, t.files.clone())).collect(),
            lane: schedule
                .lanes()
                .iter()
                .enumerate()
                .flat_map(|(i, lane)| lane.tasks.iter().map(move |&t| (t, i)))
                .collect(),
            waves: plan.waves.iter().map(|w| (w.number, w.tasks.clone())).collect(),
            order,
            priority,
            waits,
            jobs: jobs.max(1),
            fail_fast,
            running: HashMap::new(),
            parked: HashMap::new(),
            unparking: VecDeque::new(),
            held: HashSet::new(),
            stop: None,
            agent_of: HashMap::new(),
            holds: Holds::default(),
            limited: HashMap::new(),
            now_ms: 0,
        }
    }

    /// The same scheduler, knowing that `agent` runs the tasks `runs` says: a limit of that
    /// agent holds them all.
    pub fn with_agent(mut self, agent: &str, runs: impl Fn(TaskId) -> bool) -> Scheduler {
        for &id in &self.order {
            if runs(id) {
                self.agent_of.insert(id, agent.to_owned());
            }
        }
        self
    }

    /// `id`'s attempt ended on `limit` at `now_ms`: its agent holds as [`Holds::limited`]
    /// decides, and `id` gives its slot back meanwhile (unless it fails at once).
    pub fn limited(
        &mut self,
        id: TaskId,
        limit: &Limit,
        now_ms: u64,
        on_limit: OnLimit,
        max_hold: Duration,
    ) -> Decision {
        let agent = self.agent_of.get(&id).cloned().unwrap_or_default();
        let decision = self.holds.limited(&agent, limit, now_ms, on_limit, max_hold);
        if let Decision::Hold { why, .. } = &decision
            && let Some(lane) = self.running.remove(&id)
        {
            self.limited.insert(id, (lane, *why == crate::limits::HoldWhy::Capped));
        }
        decision
    }

    /// `agent` is held until `until_ms` (a hold `resume` read back from the journal).
    pub fn restore_hold(&mut self, agent: &str, until_ms: u64, reason: &str) {
        self.holds.restore(agent, until_ms, reason);
    }

    /// An attempt of `id` ended without a limit: its agent's next backoff starts over.
    pub fn answered(&mut self, id: TaskId) {
        if let Some(agent) = self.agent_of.get(&id) {
            self.holds.answered(agent);
        }
    }

    /// It is `now_ms`: the held tasks whose agent's hold is over, while slots are free (all of
    /// them, to stop, once the run is stopping). They hold a slot again.
    pub fn release(&mut self, now_ms: u64) -> Vec<Release> {
        self.now_ms = now_ms;
        let mut due: Vec<TaskId> =
            self.limited.keys().copied().filter(|id| self.stop.is_some() || !self.agent_held(*id)).collect();
        due.sort_by_key(|id| self.priority.iter().position(|p| p == id));
        let mut released = Vec::new();
        for id in due {
            if self.stop.is_none() && self.running.len() >= self.jobs {
                break;
            }
            let Some((lane, fail)) = self.limited.remove(&id) else { continue };
            self.running.insert(id, lane);
            released.push(match (self.stop.is_some(), fail) {
                (true, _) => Release::Stop(id),
                (false, true) => Release::Fail(id),
                (false, false) => Release::Retry(id),
            });
        }
        released
    }

    /// When the next hold ends, after `now_ms`, if a task waits for it.
    pub fn next_release(&self, now_ms: u64) -> Option<u64> {
        self.holds.next_release(now_ms)
    }

    /// Whether `id`'s agent is held (as of the last [`Scheduler::release`]).
    fn agent_held(&self, id: TaskId) -> bool {
        self.agent_of.get(&id).is_some_and(|agent| self.holds.is_held(agent, self.now_ms))
    }

    /// The same scheduler, choosing among ready tasks in the plan's order rather than critical
    /// path first: what the engine did before, kept for `crates/cli/benches/engine.rs` to
    /// compare the two on one plan. The run loop never calls it.
    #[doc(hidden)]
    pub fn in_plan_order(mut self) -> Scheduler {
        self.priority.clone_from(&self.order);
        self
    }

    /// Marks as skipped every pending task that waits for one that failed or was skipped, and
    /// returns them with the task each waited for (nothing once the run is stopping).
    pub fn skip(&mut self) -> Vec<(TaskId, TaskId)> {
        let mut skipped = Vec::new();
        if self.stop.is_some() {
            return skipped;
        }
        // In dependency order, so that a skip skips what waits for it in the same pass.
        for &id in &self.order {
            if self.state[&id] != TaskState::Pending {
                continue;
            }
            let failed = self.waits[&id]
                .iter()
                .find(|t| matches!(self.state.get(t), Some(TaskState::Failed | TaskState::Skipped)))
                .copied();
            if let Some(failed) = failed {
                self.state.insert(id, TaskState::Skipped);
                skipped.push((id, failed));
            }
        }
        skipped
    }

    /// What to start now: answered checkpoints first (their work is done but for landing it),
    /// then ready tasks by priority while slots are free. Once the run is stopping nothing new
    /// starts, but every answered checkpoint may finish.
    pub fn launch(&mut self) -> Vec<Launch> {
        let mut launches = Vec::new();
        if self.stop.is_some() {
            while let Some(id) = self.unparking.pop_front() {
                self.unpark_now(id);
                launches.push(Launch::Grant(id));
            }
            return launches;
        }
        while self.running.len() < self.jobs {
            let Some(id) = self.unparking.pop_front() else { break };
            self.unpark_now(id);
            launches.push(Launch::Grant(id));
        }
        for index in 0..self.priority.len() {
            if self.running.len() >= self.jobs {
                break;
            }
            let id = self.priority[index];
            if self.state[&id] != TaskState::Pending || !self.ready(id) || self.agent_held(id) {
                continue;
            }
            self.state.insert(id, TaskState::Running);
            self.running.insert(id, self.lane.get(&id).copied().unwrap_or(usize::MAX));
            launches.push(Launch::Start(id));
        }
        launches
    }

    /// `id` ended.
    pub fn finished(&mut self, id: TaskId, end: TaskEnd) {
        // What ended may make room for a held task: each may try again.
        self.held.clear();
        self.running.remove(&id);
        self.parked.remove(&id);
        // A held task that saw the run cancelled ends before the scheduler released it.
        self.limited.remove(&id);
        let next = match end {
            TaskEnd::Committed => TaskState::Committed,
            TaskEnd::Failed => {
                if self.fail_fast {
                    self.stop(StopReason::FailFast(id));
                }
                TaskState::Failed
            }
            TaskEnd::Interrupted => TaskState::Pending,
        };
        self.state.insert(id, next);
    }

    /// `id`, just launched, may not start yet (its wave cannot pay for it until a running task
    /// ends: see [`crate::budget::reserve`]): it is pending again, its slot free, and it is not
    /// launched again before another task ends.
    pub fn hold(&mut self, id: TaskId) {
        if self.running.remove(&id).is_some() {
            self.state.insert(id, TaskState::Pending);
            self.held.insert(id);
        }
    }

    /// `id` waits for a person: its slot is free meanwhile.
    pub fn park(&mut self, id: TaskId) {
        if let Some(lane) = self.running.remove(&id) {
            self.parked.insert(id, lane);
        }
    }

    /// `id` was answered and wants a slot again: [`Scheduler::launch`] grants it.
    pub fn unpark(&mut self, id: TaskId) {
        self.unparking.push_back(id);
    }

    fn unpark_now(&mut self, id: TaskId) {
        if let Some(lane) = self.parked.remove(&id) {
            self.running.insert(id, lane);
        }
    }

    /// Nothing new starts from now on; the strongest reason given is the run's.
    pub fn stop(&mut self, reason: StopReason) {
        if self.stop.as_ref().is_none_or(|known| reason > *known) {
            self.stop = Some(reason);
        }
    }

    /// Why the run stops launching tasks, if it does.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.stop.as_ref()
    }

    /// Whether nothing runs, waits for a person or waits for a slot: the run is over.
    pub fn idle(&self) -> bool {
        self.running.is_empty()
            && self.parked.is_empty()
            && self.unparking.is_empty()
            && self.limited.is_empty()
            && (self.stop.is_some()
                || !self.state.iter().any(|(id, s)| *s == TaskState::Pending && self.agent_held(*id)))
    }

    /// Tasks in `state`.
    pub fn count(&self, state: TaskState) -> usize {
        self.state.values().filter(|&&s| s == state).count()
    }

    /// The number of tasks.
    pub fn len(&self) -> usize {
        self.state.len()
    }

    /// Whether the plan has no task.
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// Where `id` is.
    pub fn state(&self, id: TaskId) -> Option<TaskState> {
        self.state.get(&id).copied()
    }

    /// The tasks holding a slot.
    pub fn running(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.running.keys().copied()
    }

    /// Waves where nothing can move but by a person's answer: no task of the wave holds a slot,
    /// and every task of it is over, waits for a person, or waits for something that is not
    /// committed yet. Their human-verify checkpoints are then shown together
    /// (`--batch-checkpoints`).
    pub fn settled_waves(&self) -> HashSet<u32> {
        self.waves
            .iter()
            .filter(|(_, tasks)| {
                tasks.iter().all(|id| {
                    if self.running.contains_key(id) {
                        return false;
                    }
                    match self.state.get(id) {
                        Some(TaskState::Pending) => self
                            .waits
                            .get(id)
                            .is_some_and(|w| w.iter().any(|t| self.state.get(t) != Some(&TaskState::Committed))),
                        Some(TaskState::Running) => self.parked.contains_key(id),
                        _ => true,
                    }
                })
            })
            .map(|(number, _)| *number)
            .collect()
    }

    /// Whether `id` can start now: what it waits for is committed, its lane is free, and no
    /// running task lists an overlapping file.
    fn ready(&self, id: TaskId) -> bool {
        let Some(own) = self.files.get(&id) else { return false };
        let lane = self.lane.get(&id);
        !self.held.contains(&id)
            && self.waits[&id].iter().all(|t| self.state.get(t) == Some(&TaskState::Committed))
            && self.running.values().all(|l| Some(l) != lane)
            && self
                .running
                .keys()
                .all(|other| self.files.get(other).is_none_or(|theirs| !plan::files_overlap(own, theirs)))
    }
}

#[cfg(test)]
mod tests;

//! Which tasks wait for which, which may run at the same time, and in what order.
//!
//! The plan's order is a task-level graph, not wave barriers: a task waits for every task of
//! the waves its wave depends on, for the task before it on its agent's lane (within a wave),
//! and, in a sequential wave, for the task written before it. Tasks of one agent never run at
//! once. `check` (file conflicts), `show` (order, critical path) and `graph` read it from here.

use crate::model::{Plan, TaskId};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// An agent lane: one agent running its tasks one after another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The agent's name from the Agent Strategy table, or `default` for an unassigned task.
    pub name: String,
    /// The model of the agent's first row that names one.
    pub model: Option<String>,
    /// Tasks in the order the agent runs them.
    pub tasks: Vec<TaskId>,
    /// Whether this lane was made for an unassigned task.
    pub default: bool,
}

/// The dependency structure of a plan.
#[derive(Clone, Debug)]
pub struct Schedule {
    lanes: Vec<Lane>,
    lane_of: HashMap<TaskId, usize>,
    wave_of: HashMap<TaskId, u32>,
    /// For each wave number, every wave it waits for, directly or not.
    ancestors: HashMap<u32, HashSet<u32>>,
    /// Waves whose tasks run in order.
    sequential: HashSet<u32>,
    /// For each task, the tasks of its own wave it waits for.
    in_wave_predecessors: HashMap<TaskId, Vec<TaskId>>,
    /// Waves in document order with their tasks.
    waves: Vec<(u32, Vec<TaskId>, Vec<u32>)>,
}

impl Schedule {
    /// Builds the schedule of `plan` (which may have errors: unknown ids are skipped).
    pub fn new(plan: &Plan) -> Self {
        let known: HashSet<TaskId> = plan.tasks.iter().map(|t| t.id).collect();
        let wave_of: HashMap<TaskId, u32> = plan.tasks.iter().rev().map(|t| (t.id, t.wave)).collect();

        let mut lanes: Vec<Lane> = Vec::new();
        let mut lane_of: HashMap<TaskId, usize> = HashMap::new();
        for row in &plan.agents {
            let index = match lanes.iter().position(|lane| !lane.default && lane.name == row.name) {
                Some(index) => index,
                None => {
                    lanes.push(Lane { name: row.name.clone(), model: None, tasks: Vec::new(), default: false });
                    lanes.len() - 1
                }
            };
            if lanes[index].model.is_none() {
                lanes[index].model.clone_from(&row.model);
            }
            for id in row.tasks.iter().map(|t| t.value) {
                if known.contains(&id) && !lane_of.contains_key(&id) {
                    lane_of.insert(id, index);
                    lanes[index].tasks.push(id);
                }
            }
        }
        for task in &plan.tasks {
            if let Entry::Vacant(slot) = lane_of.entry(task.id) {
                slot.insert(lanes.len());
                lanes.push(Lane { name: "default".into(), model: None, tasks: vec![task.id], default: true });
            }
        }

        let waves: Vec<(u32, Vec<TaskId>, Vec<u32>)> = plan
            .waves
            .iter()
            .map(|w| (w.number, w.tasks.clone(), w.depends_on.iter().map(|d| d.value).collect()))
            .collect();
        let sequential = plan.waves.iter().filter(|w| !w.parallel).map(|w| w.number).collect::<HashSet<_>>();
        let ancestors = ancestors(&waves);

        let mut in_wave_predecessors: HashMap<TaskId, Vec<TaskId>> = HashMap::new();
        for lane in &lanes {
            for pair in lane.tasks.windows(2) {
                if wave_of.get(&pair[0]) == wave_of.get(&pair[1]) {
                    in_wave_predecessors.entry(pair[1]).or_default().push(pair[0]);
                }
            }
        }
        for (number, tasks, _) in &waves {
            if sequential.contains(number) {
                for pair in tasks.windows(2) {
                    in_wave_predecessors.entry(pair[1]).or_default().push(pair[0]);
                }
            }
        }
        Schedule { lanes, lane_of, wave_of, ancestors, sequential, in_wave_predecessors, waves }
    }

    /// The agent lanes: named agents first, in table order, then one default lane per unassigned task.
    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// The lane that runs `id`.
    pub fn lane_of(&self, id: TaskId) -> Option<&Lane> {
        self.lane_of.get(&id).map(|&i| &self.lanes[i])
    }

    /// Every wave that `wave` waits for, directly or not.
    pub fn wave_ancestors(&self, wave: u32) -> impl Iterator<Item = u32> + '_ {
        self.ancestors.get(&wave).into_iter().flatten().copied()
    }

    /// Whether `wave` waits for itself through its dependencies.
    pub fn in_cycle(&self, wave: u32) -> bool {
        self.ancestors.get(&wave).is_some_and(|a| a.contains(&wave))
    }

    /// Tasks of its own wave that `id` waits for (the previous task of its lane, or of a sequential wave).
    pub fn in_wave_predecessors(&self, id: TaskId) -> &[TaskId] {
        self.in_wave_predecessors.get(&id).map_or(&[], Vec::as_slice)
    }

    /// Whether tasks `a` and `b` may run at the same time.
    pub fn may_run_together(&self, a: TaskId, b: TaskId) -> bool {
        if a == b || self.lane_of.get(&a) == self.lane_of.get(&b) {
            return false;
        }
        let (Some(&wa), Some(&wb)) = (self.wave_of.get(&a), self.wave_of.get(&b)) else { return false };
        if wa == wb {
            return !self.sequential.contains(&wa);
        }
        let waits = |x: u32, y: u32| self.ancestors.get(&x).is_some_and(|set| set.contains(&y));
        !waits(wa, wb) && !waits(wb, wa)
    }

    /// Waves in an order where each comes after the waves it depends on (document order among
    /// equals); `None` when the dependencies have a cycle.
    pub fn wave_order(&self) -> Option<Vec<u32>> {
        let numbers: Vec<u32> = self.waves.iter().map(|(n, _, _)| *n).collect();
        let exists: HashSet<u32> = numbers.iter().copied().collect();
        let mut done: HashSet<u32> = HashSet::new();
        let mut order = Vec::new();
        while order.len() < numbers.len() {
            let next = self.waves.iter().find(|(n, _, deps)| {
                !done.contains(n) && deps.iter().all(|d| done.contains(d) || !exists.contains(d))
            })?;
            done.insert(next.0);
            order.push(next.0);
        }
        Some(order)
    }

    /// Every task in an order that respects all waits; `None` when the waves have a cycle.
    pub fn task_order(&self) -> Option<Vec<TaskId>> {
        let mut order = Vec::new();
        for number in self.wave_order()? {
            for (_, tasks, _) in self.waves.iter().filter(|(n, _, _)| *n == number) {
                order.extend(self.order_within_wave(tasks));
            }
        }
        Some(order)
    }

    /// Tasks of one wave so that each comes after its in-wave predecessors (document order
    /// among equals; contradictory waits fall back to document order).
    fn order_within_wave(&self, tasks: &[TaskId]) -> Vec<TaskId> {
        let mut placed: HashSet<TaskId> = HashSet::new();
        let mut order = Vec::with_capacity(tasks.len());
        while order.len() < tasks.len() {
            let ready = tasks.iter().find(|t| {
                !placed.contains(t)
                    && self.in_wave_predecessors(**t).iter().all(|p| placed.contains(p) || !tasks.contains(p))
            });
            let next = ready.or_else(|| tasks.iter().find(|t| !placed.contains(t)));
            let Some(&next) = next else { break };
            placed.insert(next);
            order.push(next);
        }
        order
    }

    /// The number of tasks on the longest chain of waits: how many tasks must run one after
    /// another even with unlimited agents. `None` when the waves have a cycle.
    pub fn critical_path(&self) -> Option<usize> {
        let mut finish: HashMap<u32, usize> = HashMap::new();
        let mut longest = 0;
        for number in self.wave_order()? {
            let (_, tasks, deps) = self.waves.iter().find(|(n, _, _)| *n == number)?;
            let base = deps.iter().filter_map(|d| finish.get(d)).copied().max().unwrap_or(0);
            let mut depth: HashMap<TaskId, usize> = HashMap::new();
            for task in self.order_within_wave(tasks) {
                let before =
                    self.in_wave_predecessors(task).iter().filter_map(|p| depth.get(p)).copied().max().unwrap_or(base);
                depth.insert(task, before.max(base) + 1);
            }
            let end = depth.values().copied().max().unwrap_or(base).max(base);
            let entry = finish.entry(number).or_insert(0);
            *entry = (*entry).max(end);
            longest = longest.max(end);
        }
        Some(longest)
    }
}

/// For each wave, the set of waves reachable through `depends_on` (a wave in a cycle reaches itself).
fn ancestors(waves: &[(u32, Vec<TaskId>, Vec<u32>)]) -> HashMap<u32, HashSet<u32>> {
    let mut direct: HashMap<u32, Vec<u32>> = HashMap::new();
    for (number, _, deps) in waves {
        direct.entry(*number).or_default().extend(deps);
    }
    let mut all = HashMap::new();
    for &start in direct.keys() {
        let mut seen: HashSet<u32> = HashSet::new();
        let mut stack: Vec<u32> = direct[&start].clone();
        while let Some(wave) = stack.pop() {
            if seen.insert(wave) {
                stack.extend(direct.get(&wave).into_iter().flatten());
            }
        }
        all.insert(start, seen);
    }
    all
}

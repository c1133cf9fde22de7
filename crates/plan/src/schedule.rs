//! Which tasks wait for which, which may run at the same time, and in what order.
//!
//! The plan's order is a task-level graph, not wave barriers: a task waits for every task of
//! the waves its wave depends on, for the task before it on its agent's lane (within a wave),
//! and, in a sequential wave, for the task written before it. Tasks of one agent never run at
//! once. `check` (file conflicts), `show` (order, critical path) and `graph` read it from here.

use crate::model::{Plan, TaskId};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::hash_map::Entry;

/// An agent lane: one agent running its tasks one after another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The agent's name from the Agent Strategy table, or `default` for an unassigned task.
    pub name: String,
    /// The model of the agent's first row that names one. Each task runs on the model of its
    /// own row, which may differ: see [`Schedule::model_of`].
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
    /// The model of each task's own Agent Strategy row, when that row names one.
    row_model: HashMap<TaskId, String>,
    wave_of: HashMap<TaskId, u32>,
    /// The waves and what each waits for, directly or not.
    graph: WaveGraph,
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
        let mut lane_of: HashMap<TaskId, usize> = HashMap::default();
        let mut row_model: HashMap<TaskId, String> = HashMap::default();
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
                    if let Some(model) = &row.model {
                        row_model.insert(id, model.clone());
                    }
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
        let graph = WaveGraph::new(&waves);

        let mut in_wave_predecessors: HashMap<TaskId, Vec<TaskId>> = HashMap::default();
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
        Schedule { lanes, lane_of, row_model, wave_of, graph, sequential, in_wave_predecessors, waves }
    }

    /// The agent lanes: named agents first, in table order, then one default lane per unassigned task.
    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// The lane that runs `id`.
    pub fn lane_of(&self, id: TaskId) -> Option<&Lane> {
        self.lane_of.get(&id).map(|&i| &self.lanes[i])
    }

    /// The model `id` runs on: the one its own Agent Strategy row names, else its agent's (the
    /// first of the agent's rows that names one), else none (the agent's default).
    pub fn model_of(&self, id: TaskId) -> Option<&str> {
        self.row_model.get(&id).map(String::as_str).or_else(|| self.lane_of(id)?.model.as_deref())
    }

    /// The model of the plan's last wave (in document order) whose tasks name one: the first
    /// such task's. What work that belongs to no task (the verifier of the truths) runs on when
    /// the configuration names no model for it.
    pub fn last_wave_model(&self) -> Option<&str> {
        self.waves.iter().rev().find_map(|(_, tasks, _)| tasks.iter().find_map(|&id| self.model_of(id)))
    }

    /// Every wave that `wave` waits for, directly or not.
    pub fn wave_ancestors(&self, wave: u32) -> impl Iterator<Item = u32> + '_ {
        self.graph.ancestors(wave)
    }

    /// Whether `wave` waits for itself through its dependencies.
    pub fn in_cycle(&self, wave: u32) -> bool {
        self.graph.waits(wave, wave)
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
        !self.graph.waits(wa, wb) && !self.graph.waits(wb, wa)
    }

    /// Waves in an order where each comes after the waves it depends on (document order among
    /// equals); `None` when the dependencies have a cycle.
    pub fn wave_order(&self) -> Option<Vec<u32>> {
        self.graph.order.as_ref().map(|order| order.iter().map(|&i| self.graph.numbers[i]).collect())
    }

    /// Every task in an order that respects all waits; `None` when the waves have a cycle.
    pub fn task_order(&self) -> Option<Vec<TaskId>> {
        let mut order = Vec::new();
        for number in self.wave_order()? {
            for &i in self.graph.written(number) {
                order.extend(self.order_within_wave(&self.waves[i].1));
            }
        }
        Some(order)
    }

    /// Tasks of one wave so that each comes after its in-wave predecessors (document order
    /// among equals; contradictory waits fall back to document order).
    fn order_within_wave(&self, tasks: &[TaskId]) -> Vec<TaskId> {
        let mut placed: HashSet<TaskId> = HashSet::default();
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
        let mut finish: HashMap<u32, usize> = HashMap::default();
        let mut longest = 0;
        for number in self.wave_order()? {
            let (tasks, deps): (Vec<TaskId>, Vec<u32>) =
                self.graph.written(number).iter().fold((vec![], vec![]), |mut acc, &i| {
                    acc.0.extend(&self.waves[i].1);
                    acc.1.extend(&self.waves[i].2);
                    acc
                });
            let base = deps.iter().filter_map(|d| finish.get(d)).copied().max().unwrap_or(0);
            let mut depth: HashMap<TaskId, usize> = HashMap::default();
            for task in self.order_within_wave(&tasks) {
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

/// The wave graph: each distinct wave number once, its direct dependencies (on waves that
/// exist), a topological order when there is one, and what each wave waits for as a bit set.
#[derive(Clone, Debug)]
struct WaveGraph {
    /// Distinct wave numbers, in document order.
    numbers: Vec<u32>,
    index: HashMap<u32, usize>,
    /// For each distinct number, the indices into the schedule's `waves` written with it.
    written: Vec<Vec<usize>>,
    /// Indices of the waves it waits for, directly or not (itself only through a cycle).
    ancestors: Vec<Vec<u64>>,
    /// A topological order of indices, `None` with a cycle.
    order: Option<Vec<usize>>,
}

impl WaveGraph {
    fn new(waves: &[(u32, Vec<TaskId>, Vec<u32>)]) -> Self {
        let mut numbers = Vec::new();
        let mut index: HashMap<u32, usize> = HashMap::default();
        let mut written: Vec<Vec<usize>> = Vec::new();
        for (i, (number, _, _)) in waves.iter().enumerate() {
            let at = *index.entry(*number).or_insert_with(|| {
                numbers.push(*number);
                written.push(Vec::new());
                numbers.len() - 1
            });
            written[at].push(i);
        }
        let n = numbers.len();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (number, _, direct) in waves {
            let at = index[number];
            deps[at].extend(direct.iter().filter_map(|d| index.get(d)));
        }
        let order = topological(&deps);
        let words = n.div_ceil(64);
        let mut ancestors = vec![vec![0u64; words]; n];
        let set = |bits: &mut Vec<u64>, i: usize| bits[i / 64] |= 1 << (i % 64);
        match &order {
            // Without a cycle, one pass in order: a wave waits for its dependencies and theirs.
            Some(order) => {
                for &w in order {
                    let mut bits = vec![0u64; words];
                    for &d in &deps[w] {
                        set(&mut bits, d);
                        for (word, theirs) in bits.iter_mut().zip(&ancestors[d]) {
                            *word |= theirs;
                        }
                    }
                    ancestors[w] = bits;
                }
            }
            // With a cycle (an error the plan must fix), a search from every wave.
            None => {
                for (w, bits) in ancestors.iter_mut().enumerate() {
                    let mut stack = deps[w].clone();
                    while let Some(d) = stack.pop() {
                        if bits[d / 64] & (1 << (d % 64)) == 0 {
                            set(bits, d);
                            stack.extend(&deps[d]);
                        }
                    }
                }
            }
        }
        WaveGraph { numbers, index, written, ancestors, order }
    }

    /// Whether wave `x` waits for wave `y`, directly or not.
    fn waits(&self, x: u32, y: u32) -> bool {
        match (self.index.get(&x), self.index.get(&y)) {
            (Some(&x), Some(&y)) => self.ancestors[x][y / 64] & (1 << (y % 64)) != 0,
            _ => false,
        }
    }

    fn ancestors(&self, wave: u32) -> impl Iterator<Item = u32> + '_ {
        let bits = self.index.get(&wave).map(|&w| &self.ancestors[w]);
        (0..self.numbers.len())
            .filter(move |&i| bits.is_some_and(|b| b[i / 64] & (1 << (i % 64)) != 0))
            .map(|i| self.numbers[i])
    }

    /// Indices into the schedule's `waves` of the waves numbered `number`.
    fn written(&self, number: u32) -> &[usize] {
        self.index.get(&number).map_or(&[], |&i| self.written[i].as_slice())
    }
}

/// Kahn's algorithm, taking the earliest ready node first so that equal waves keep document order.
fn topological(deps: &[Vec<usize>]) -> Option<Vec<usize>> {
    let n = deps.len();
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (w, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(w);
        }
    }
    let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&w| waiting[w] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(w) = ready.pop_first() {
        order.push(w);
        for &next in &dependents[w] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.insert(next);
            }
        }
    }
    (order.len() == n).then_some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> TaskId {
        TaskId::parse(text).unwrap()
    }

    #[test]
    fn a_task_runs_on_the_model_of_its_own_row_and_keeps_its_agents_lane() {
        let text = "# M1 Implementation Plan: Models\n\n## Waves\n\n\
                    ### Wave 1: A\n> No dependencies.\n\n**Task 1.1** (type: auto)\n\n**Task 1.2** (type: auto)\n\n\
                    ### Wave 2: B\n> Depends on: Wave 1.\n\n**Task 2.1** (type: auto)\n\n**Task 2.2** (type: auto)\n\n\
                    ### Wave 3: C\n> Depends on: Wave 2.\n\n**Task 3.1** (type: auto)\n\n\
                    ## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n\
                    | 1 | Worker A | haiku | 1.1 |\n| 1 | Worker B |  | 1.2 |\n| 2 | Worker A | sonnet | 2.1 |\n\
                    | 2 | Worker B | opus | 2.2 |\n";
        let schedule = Schedule::new(&crate::parse(text, "x").plan);
        let lane = schedule.lane_of(id("2.1")).unwrap();
        assert_eq!((lane.name.as_str(), &lane.tasks[..]), ("Worker A", &[id("1.1"), id("2.1")][..]));
        assert_eq!(schedule.model_of(id("1.1")), Some("haiku"));
        assert_eq!(schedule.model_of(id("2.1")), Some("sonnet"), "its own row's model, not its agent's first");
        assert_eq!(schedule.model_of(id("1.2")), Some("opus"), "a row without a model: its agent's");
        assert_eq!(schedule.model_of(id("3.1")), None, "no row, no model");
        assert_eq!(schedule.last_wave_model(), Some("sonnet"), "wave 3 names none; wave 2's first task");
    }
}

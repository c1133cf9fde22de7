//! The plan's dependency graph as a run schedules it: what each task waits for ([`waits_for`],
//! by [`ScheduleMode`]), and how long the longest chain of tasks after each one is
//! ([`remaining_path`]), which the scheduler starts first when it cannot start everything.

use crate::options::ScheduleMode;
use plan::{Plan, Schedule, TaskId};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// The tasks `id` waits for: every task of the waves its wave depends on (with `--schedule
/// waves`, of every earlier wave), and the tasks before it in its own wave.
pub fn waits_for(plan: &Plan, schedule: &Schedule, mode: ScheduleMode, id: TaskId) -> Vec<TaskId> {
    let Some(task) = plan.task(id) else { return Vec::new() };
    let waves: Vec<u32> = match mode {
        ScheduleMode::Dag => {
            plan.wave(task.wave).map(|w| w.depends_on.iter().map(|d| d.value).collect()).unwrap_or_default()
        }
        ScheduleMode::Waves => {
            let order = schedule.wave_order().unwrap_or_default();
            order.iter().take_while(|&&w| w != task.wave).copied().collect()
        }
    };
    let mut before: Vec<TaskId> = plan.tasks.iter().filter(|t| waves.contains(&t.wave)).map(|t| t.id).collect();
    before.extend(schedule.in_wave_predecessors(id));
    before
}

/// For each task of `order`, the length of the longest chain of tasks that starts with it and
/// follows what waits for what (`waits`), counting `weight` of each: the work left on the
/// critical path once it starts. `order` lists every task after those it waits for (the
/// schedule's task order); a task waiting for one outside `order` ignores it.
pub fn remaining_path<W: Fn(TaskId) -> u64>(
    order: &[TaskId],
    waits: &HashMap<TaskId, Vec<TaskId>>,
    weight: W,
) -> HashMap<TaskId, u64> {
    let mut after: HashMap<TaskId, Vec<TaskId>> = HashMap::new();
    for &id in order {
        for &before in waits.get(&id).into_iter().flatten() {
            after.entry(before).or_default().push(id);
        }
    }
    // The heaviest chain that starts with a task is the heaviest that ends with it, going
    // against the waits.
    let next = |id: TaskId| after.get(&id).map_or(&[][..], Vec::as_slice);
    heaviest_chains(order.iter().copied(), next, weight).into_iter().map(|(id, (length, _))| (id, length)).collect()
}

/// For each of `tasks` (and each task reached from them), the heaviest chain that ends with it,
/// following `before` (the tasks it comes after) and counting `weight` of each: its weight, and
/// the task before it on that chain (the first such, in `before`'s order, on a tie). A cycle (a
/// plan with errors) ends a chain rather than going round.
pub fn heaviest_chains<'a, K, B, W>(
    tasks: impl IntoIterator<Item = K>,
    before: B,
    weight: W,
) -> HashMap<K, (u64, Option<K>)>
where
    K: Copy + Eq + Hash + 'a,
    B: Fn(K) -> &'a [K],
    W: Fn(K) -> u64,
{
    fn visit<'a, K: Copy + Eq + Hash + 'a>(
        task: K,
        before: &impl Fn(K) -> &'a [K],
        weight: &impl Fn(K) -> u64,
        chains: &mut HashMap<K, (u64, Option<K>)>,
        visiting: &mut HashSet<K>,
    ) -> u64 {
        if let Some((length, _)) = chains.get(&task) {
            return *length;
        }
        if !visiting.insert(task) {
            return 0;
        }
        let mut best: (u64, Option<K>) = (0, None);
        for &earlier in before(task) {
            let length = visit(earlier, before, weight, chains, visiting);
            if length > best.0 {
                best = (length, Some(earlier));
            }
        }
        let length = best.0 + weight(task);
        chains.insert(task, (length, best.1));
        length
    }
    let mut chains = HashMap::new();
    let mut visiting = HashSet::new();
    for task in tasks {
        visit(task, &before, &weight, &mut chains, &mut visiting);
    }
    chains
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remaining_path_follows_the_longest_chain() {
        let id = |s: &str| TaskId::parse(s).unwrap();
        let order = [id("1.1"), id("1.2"), id("2.1"), id("3.1")];
        // 2.1 waits for 1.1; 3.1 waits for 2.1; 1.2 stands alone.
        let waits: HashMap<TaskId, Vec<TaskId>> =
            [(id("2.1"), vec![id("1.1")]), (id("3.1"), vec![id("2.1")])].into_iter().collect();
        let path = remaining_path(&order, &waits, |_| 1);
        assert_eq!(path[&id("1.1")], 3);
        assert_eq!(path[&id("1.2")], 1);
        assert_eq!(path[&id("3.1")], 1);
        let weighted = remaining_path(&order, &waits, |t| if t == id("1.2") { 10 } else { 2 });
        assert_eq!((weighted[&id("1.1")], weighted[&id("1.2")]), (6, 10));
    }
}

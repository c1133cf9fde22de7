//! The run loop's side of the budgets (`[budget]`, `--budget`): what each running task holds
//! reserved, and, before a task starts, the rooms ([`budget::Room`]) its wave's and the run's
//! budgets leave, for the pure [`budget::reserve`] to decide on.

use crate::budget::{self, Amount, Cost, Reserve, Room, Scope};
use crate::env::AttemptEnv;
use plan::TaskId;
use std::collections::HashMap;

/// What the running tasks hold reserved: each its next attempt's estimate, until it ends.
#[derive(Default)]
pub(super) struct Reservations {
    held: HashMap<TaskId, (Option<u32>, Cost)>,
}

impl Reservations {
    /// Whether `id`, about to make attempt `attempt`, may start now; when it may, its estimate
    /// is reserved until [`Reservations::release`].
    pub(super) fn admit(&mut self, env: &AttemptEnv, id: TaskId, attempt: u32) -> Reserve {
        let wave = wave_of(env, id);
        let budgets = &env.options.budgets;
        if budgets.wave.is_none() && run_cap(env).is_none() {
            return Reserve::Start;
        }
        let ledger = env.spent.ledger();
        let estimate = ledger.estimate(env.attempt_model(&id.to_string(), attempt).as_deref(), budgets.estimate);
        let mut rooms = Vec::new();
        if let (Some(cap), Some(number)) = (budgets.wave, wave) {
            let tasks = env.plan.waves.iter().filter(|w| w.number == number).flat_map(|w| &w.tasks);
            let names: Vec<String> = tasks.map(ToString::to_string).collect();
            let mine = self.held.values().filter(|(w, _)| *w == Some(number));
            rooms.push(Room {
                scope: Scope::Wave(number),
                cap,
                spent: ledger.tasks(names.iter().map(String::as_str)),
                reserved: mine.clone().fold(Cost::default(), |sum, (_, c)| sum + *c),
                busy: mine.count() > 0,
            });
        }
        if let Some(cap) = run_cap(env) {
            rooms.push(Room {
                scope: Scope::Run,
                cap,
                spent: Cost { usd: env.spent.usd(), tokens: ledger.total().tokens },
                reserved: self.held.values().fold(Cost::default(), |sum, (_, c)| sum + *c),
                busy: !self.held.is_empty(),
            });
        }
        let decision = budget::reserve(&id.to_string(), estimate, &rooms);
        if decision == Reserve::Start {
            self.held.insert(id, (wave, estimate));
        }
        decision
    }

    /// `id` ended: its reservation goes back (what it spent is in the ledger now).
    pub(super) fn release(&mut self, id: TaskId) {
        self.held.remove(&id);
    }
}

/// The run's cap: `--budget` (dollars), else `[budget] run`.
fn run_cap(env: &AttemptEnv) -> Option<Amount> {
    env.options.budget_usd.map(Amount::Usd).or(env.options.budgets.run)
}

/// The number of the wave `id` is in.
fn wave_of(env: &AttemptEnv, id: TaskId) -> Option<u32> {
    env.plan.waves.iter().find(|w| w.tasks.contains(&id)).map(|w| w.number)
}

/// Why the run stops starting tasks for `[budget] run` in tokens, once they are spent. (The run's
/// budget in dollars is the older `StopReason::Budget`.)
pub(super) fn tokens_spent(env: &AttemptEnv) -> Option<String> {
    let Some(Amount::Tokens(cap)) = run_cap(env) else { return None };
    let spent = env.spent.ledger().total().tokens;
    (spent >= cap).then(|| format!("the run's budget of {cap} tokens is spent ({spent} tokens)"))
}

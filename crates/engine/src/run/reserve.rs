//! The run loop's side of the budgets (`[budget]`, `--budget`): what each running task holds
//! reserved, and, before a task starts, the rooms ([`budget::Room`]) its wave's and the run's
//! budgets leave, for the pure [`budget::reserve`] to decide on.

use super::scheduler::{Scheduler, StopReason};
use crate::budget::{self, Amount, Cost, Reserve, Room, Scope};
use crate::env::AttemptEnv;
use crate::error::EngineError;
use crate::events::Event;
use plan::{TaskId, TaskType};
use std::collections::{HashMap, HashSet};

/// What the running tasks hold reserved: each its next attempt's estimate, until it ends.
#[derive(Default)]
pub(super) struct Reservations {
    held: HashMap<TaskId, (Option<u32>, Cost)>,
    /// The tasks waiting for room whose wait was said (`budget_wait`), until they start.
    told: HashSet<TaskId>,
}

impl Reservations {
    /// Whether `id`, which `scheduler` just launched to make attempt `attempt`, starts now: its
    /// estimate is then reserved until [`Reservations::release`]. Else the scheduler holds it
    /// until another task ends, and, when no running task can make room, stops the run. Once a
    /// budget stopped the run, what was launched with it does not start either.
    /// A wait is journaled (`budget_wait`) the first time it happens, so that a person sees why
    /// a task that could run does not.
    pub(super) fn admit(
        &mut self,
        env: &AttemptEnv,
        scheduler: &mut Scheduler,
        id: TaskId,
        attempt: u32,
    ) -> Result<bool, EngineError> {
        let decision = if scheduler.stop_reason().is_some() {
            Reserve::Wait(String::new())
        } else {
            self.decide(env, id, attempt)
        };
        let told = match decision {
            Reserve::Start => {
                self.told.remove(&id);
                return Ok(true);
            }
            Reserve::Wait(why) if !why.is_empty() && self.told.insert(id) => Some(why),
            Reserve::Wait(_) => None,
            Reserve::Stop(why) => {
                scheduler.stop(StopReason::OverBudget(why));
                None
            }
        };
        scheduler.hold(id);
        if let Some(why) = told {
            env.emitter.emit(Event::BudgetWait { task: id.to_string(), why })?;
        }
        Ok(false)
    }

    /// [`budget::reserve`] for `id`'s attempt `attempt`, with the rooms its wave's and the run's
    /// budgets leave; reserves its estimate when it starts.
    fn decide(&mut self, env: &AttemptEnv, id: TaskId, attempt: u32) -> Reserve {
        let wave = wave_of(env, id);
        let budgets = &env.options.budgets;
        if budgets.wave.is_none() && run_cap(env).is_none() {
            return Reserve::Start;
        }
        let ledger = env.spent.ledger();
        // A decision or a person's action costs no agent time.
        let manual = env.plan.task(id).is_some_and(|t| matches!(t.kind, TaskType::Decision | TaskType::HumanAction));
        let estimate = if manual {
            Cost::default()
        } else {
            ledger.estimate(env.attempt_model(&id.to_string(), attempt).as_deref(), budgets.estimate)
        };
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

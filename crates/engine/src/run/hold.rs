//! The run loop's side of usage and rate limits: it asks the pure [`Scheduler`] what a limited
//! attempt (or a gate's limited fix round or review) does ([`Scheduler::limited`]), journals
//! the `agent_limited` event ([`crate::limits::hold::event`]), keeps each held
//! task's answer until [`Scheduler::release`] frees it, and knows when to wake up for that.
//! `resume` reads a hold still running back from the journal ([`restore`]).

use super::scheduler::{Release, Scheduler};
use crate::env::AttemptEnv;
use crate::journal::{Journal, now_ms};
use crate::limits::{Decision, Limit};
use crate::slots::HoldEnd;
use plan::TaskId;
use std::collections::HashMap;
use tokio::sync::oneshot;

/// The held tasks' answers, by task.
#[derive(Default)]
pub(super) struct Held {
    answers: HashMap<TaskId, (oneshot::Sender<HoldEnd>, String)>,
}

impl Held {
    /// `task`'s attempt `attempt` ended on `limit`: the scheduler decides, the decision is
    /// journaled, and `answer` is kept until the hold ends (or answered now, to fail).
    pub(super) fn limited(
        &mut self,
        env: &AttemptEnv,
        scheduler: &mut Scheduler,
        (task, attempt, limit): (TaskId, u32, Limit),
        answer: oneshot::Sender<HoldEnd>,
    ) -> Result<(), crate::error::EngineError> {
        let now = now_ms();
        let decision = scheduler.limited(task, &limit, now, env.options.on_limit, env.options.max_hold);
        let agent = env.agent.name();
        env.emitter.emit(crate::limits::hold::event(agent, &task.to_string(), attempt, &limit, &decision))?;
        let failed = crate::limits::hold::failure(&limit, &decision, env.options.max_hold).unwrap_or_default();
        match decision {
            // Capped holds keep why the task fails once the hold ends.
            Decision::Hold { .. } => {
                self.answers.insert(task, (answer, failed));
            }
            Decision::Fail => {
                let _ = answer.send(HoldEnd::Fail(failed));
            }
        }
        Ok(())
    }

    /// Answers the tasks the scheduler released.
    pub(super) fn release(&mut self, released: Vec<Release>) {
        for release in released {
            let (id, end) = match release {
                Release::Retry(id) => (id, None),
                Release::Fail(id) => (id, Some(false)),
                Release::Stop(id) => (id, Some(true)),
            };
            let Some((answer, failed)) = self.answers.remove(&id) else { continue };
            let _ = answer.send(match end {
                None => HoldEnd::Retry,
                Some(false) => HoldEnd::Fail(failed),
                Some(true) => HoldEnd::Stop,
            });
        }
    }
}

/// A hold the run's journal says is still running (its last `agent_limited` for `agent` ends
/// after now): `resume` keeps holding until then.
pub(super) fn restore(journal: &Journal, run: &str, agent: &str, scheduler: &mut Scheduler) {
    let Ok(events) = journal.events(run, 0) else { return };
    for (held, _, until, reason) in crate::limits::holding(&events, now_ms()) {
        if held == agent {
            scheduler.restore_hold(agent, until, &reason);
        }
    }
}

//! The verifier's side of usage and rate limits. The verifier of the truths runs once the run
//! loop has ended, outside the scheduler's slots: no task runs on the agent any more, so there
//! are no lanes to hold, and no loop is left to answer a `SlotRequest::Limited`. It holds by
//! itself, with what a task's attempt holds with: the pure decision ([`Holds`], with
//! `--on-limit` and `[run] max_hold`) and the same `agent_limited` event
//! ([`crate::limits::hold`]), naming the `verification` pseudo-task; the run loop's timer is a
//! sleep here, which cancelling the run interrupts. Then the same call is made again. A hold
//! still running when the run stopped (a `resume` after a kill while the verifier was held) is
//! read back from the journal and waited out before the verifier starts.

use crate::env::AttemptEnv;
use crate::error::EngineError;
use crate::journal::{Journal, now_ms};
use crate::limits::{Decision, Holds, Limit};
use std::time::Duration;

/// How long the run's agent holds, for the verifier.
pub(super) struct VerifierHolds {
    holds: Holds,
}

impl VerifierHolds {
    /// The holds of the run `run`'s agent `agent`: one still running in its journal stands.
    pub(super) fn from_journal(journal: &Journal, run: &str, agent: &str) -> VerifierHolds {
        let mut holds = Holds::default();
        let events = journal.events(run, 0).unwrap_or_default();
        for (held, _, until, reason) in crate::limits::holding(&events, now_ms()) {
            if held == agent {
                holds.restore(agent, until, &reason);
            }
        }
        VerifierHolds { holds }
    }

    /// Waits while the agent is held. [`EngineError::Cancelled`] when the run is cancelled
    /// meanwhile.
    pub(super) async fn wait(&self, env: &AttemptEnv) -> Result<(), EngineError> {
        match self.holds.next_release(now_ms()) {
            Some(until_ms) => sleep_until(env, until_ms).await,
            None => Ok(()),
        }
    }

    /// The verifier's call `attempt` for `task` ended on `limit`: journals `agent_limited` as
    /// the pure decision says and holds until it ends. `Ok(())` to make the same call again;
    /// else why the verifier fails as limited (`--on-limit fail` at once, a reset later than
    /// `[run] max_hold` once it held that long).
    pub(super) async fn limited(
        &mut self,
        env: &AttemptEnv,
        task: &str,
        attempt: u32,
        limit: Limit,
    ) -> Result<Result<(), String>, EngineError> {
        let (on_limit, max_hold) = (env.options.on_limit, env.options.max_hold);
        let decision = self.holds.limited(env.agent.name(), &limit, now_ms(), on_limit, max_hold);
        env.emitter.emit(crate::limits::hold::event(env.agent.name(), task, attempt, &limit, &decision))?;
        if let Decision::Hold { until_ms, .. } = decision {
            sleep_until(env, until_ms).await?;
        }
        Ok(crate::limits::hold::failure(&limit, &decision, max_hold).map_or(Ok(()), Err))
    }
}

/// Sleeps until `until_ms` (milliseconds since the epoch). [`EngineError::Cancelled`] when the
/// run is cancelled first (or nobody can cancel it any more: a closed channel reads as a cancel).
async fn sleep_until(env: &AttemptEnv, until_ms: u64) -> Result<(), EngineError> {
    let mut cancel = env.cancel.clone();
    let wait = Duration::from_millis(until_ms.saturating_sub(now_ms()));
    tokio::select! {
        () = tokio::time::sleep(wait) => Ok(()),
        _ = cancel.wait_for(|&cancelled| cancelled) => Err(EngineError::Cancelled),
    }
}

//! One task from start to end: a decision or a human action waits for its person, a gate runs
//! its rounds ([`crate::gate::task`]), any other task makes attempts (on the run's backend)
//! until one lands or they are used up. A person's rejection and a conflict with work that
//! landed meanwhile do not count as the agent's failures.

use super::Run;
use crate::attempt::{Attempt, Work};
use crate::backend::AttemptJob;
use crate::checkpoint::{self, Answer};
use crate::error::EngineError;
use crate::events::Event;
use crate::integrate::{self, Trailer};
use crate::prompt;
use crate::slots::HoldEnd;
use plan::{TaskId, TaskType};
use std::path::Path;

/// Runs one task to its end in a worktree of the pool (its lane's last one when it is free):
/// `true` once it landed, `false` when it failed for good (journaled). Errors are the run's:
/// it was cancelled ([`EngineError::Cancelled`]), or the journal broke.
pub(super) async fn run_task(run: &Run, id: TaskId, first_attempt: u32) -> Result<bool, EngineError> {
    let ctx = &run.ctx;
    let Some(task) = ctx.env.plan.task(id) else { return Ok(false) };
    let lane = ctx.env.schedule.lane_of(id).map_or("default".to_owned(), |l| l.name.clone());
    let worktree = ctx.pool.take(&lane, &ctx.env.lanes.dir).await;
    let ended = run_to_end(run, task, &lane, &worktree, first_attempt).await;
    ctx.pool.give_back(&lane, worktree).await;
    ended
}

/// [`run_task`] in its worktree.
async fn run_to_end(
    run: &Run,
    task: &plan::Task,
    lane: &str,
    worktree: &Path,
    first_attempt: u32,
) -> Result<bool, EngineError> {
    let ctx = &run.ctx;
    let env = &ctx.env;
    let id = task.id;
    if matches!(task.kind, TaskType::Decision | TaskType::HumanAction) {
        return Ok(matches!(checkpoint::manual_task(ctx, task).await?, Attempt::Committed));
    }
    if task.kind == TaskType::Gate {
        return match crate::gate::task::gate_task(ctx, task, lane, worktree, first_attempt).await? {
            Attempt::Committed => Ok(true),
            Attempt::Failed(reason)
            | Attempt::Conflict(reason)
            | Attempt::Rejected(reason)
            | Attempt::VerifyTimedOut(reason) => {
                env.emitter.emit(Event::TaskFailed { task: id.to_string(), attempts: first_attempt, reason })?;
                Ok(false)
            }
        };
    }
    if let Some(count) = crate::best_of::candidates(task, &env.options) {
        return crate::best_of::run_task(ctx, task, lane, worktree, first_attempt, count).await;
    }
    let mut failure: Option<String> = None;
    // A human-verify checkpoint that was waiting when the run stopped: its change is still there.
    if let Some(Some(commit)) = run.waiting.get(&id) {
        match checkpoint::resume_waiting(ctx, task, commit, first_attempt.saturating_sub(1).max(1)).await? {
            Attempt::Committed => return Ok(true),
            Attempt::Rejected(reason)
            | Attempt::Failed(reason)
            | Attempt::Conflict(reason)
            | Attempt::VerifyTimedOut(reason) => failure = Some(reason),
        }
    }
    let mut conflicts = 0;
    let mut attempt = first_attempt;
    let mut used = 0;
    // The task's own **Attempts** (one after another) wins over `--attempts`.
    let allowed = task.attempts.as_ref().map_or(env.options.attempts, |a| u32::from(a.count));
    // An attempt still running as a scheduler job when the run stopped is followed to its end
    // first, under its own number.
    let mut reattach = run.reattach.get(&id).cloned();
    loop {
        if env.cancelled() {
            return Err(EngineError::Cancelled);
        }
        used += 1;
        let (this, result) = match reattach.take() {
            Some((old, job)) => (old, reattach_once(run, task, old, &job).await),
            None => (attempt, attempt_once(run, task, attempt, lane, worktree, failure.as_deref()).await),
        };
        // A usage or rate limit is not the agent's failure: its lanes hold, and the attempt
        // does not count.
        if let Ok(Attempt::Failed(reason)) = &result
            && let Some(limit) = env.agent.limit(reason)
        {
            let mut cancel = env.cancel.clone();
            match ctx.slots.limited(id, this, limit, &mut cancel).await {
                // The same attempt again, under its number: it was not spent, and an
                // escalation list (`[models] escalate`) must not move it up a model.
                HoldEnd::Retry => {
                    used -= 1;
                    continue;
                }
                HoldEnd::Fail(reason) => {
                    env.emitter.emit(Event::TaskFailed { task: id.to_string(), attempts: this, reason })?;
                    return Ok(false);
                }
                HoldEnd::Stop => return Err(EngineError::Cancelled),
            }
        }
        let reason = match result {
            Ok(Attempt::Committed) => return Ok(true),
            Ok(Attempt::Rejected(reason)) => {
                // A person's rejection is not a failure of the agent: it goes back with the reason.
                used -= 1;
                reason
            }
            Ok(Attempt::Conflict(reason)) if conflicts < env.options.conflict_retries => {
                conflicts += 1;
                used -= 1; // a conflict is not the agent's failure: run again on the new base
                reason
            }
            Ok(Attempt::Conflict(reason) | Attempt::Failed(reason)) => reason,
            // Another attempt would run the same command and wait as long again.
            Ok(Attempt::VerifyTimedOut(reason)) => {
                env.emitter.emit(Event::TaskFailed { task: id.to_string(), attempts: this, reason })?;
                return Ok(false);
            }
            Err(error @ (EngineError::Journal(_) | EngineError::Cancelled)) => return Err(error),
            Err(error) => format!("wavecrew could not run the attempt: {error}"),
        };
        // A task that spent its budget gets no other attempt (`[budget] task`).
        let over = env.spent.ledger().task(&id.to_string());
        if used >= allowed || crate::budget::over_task_cap(&id.to_string(), env.options.budgets.task, over).is_some() {
            env.emitter.emit(Event::TaskFailed { task: id.to_string(), attempts: this, reason })?;
            return Ok(false);
        }
        env.emitter.emit(Event::AttemptFailed { task: id.to_string(), attempt: this, reason: reason.clone() })?;
        failure = Some(reason);
        if this == attempt {
            attempt += 1;
        }
    }
}

/// One attempt on the run's backend, from the run branch's head, then its change landed.
async fn attempt_once(
    run: &Run,
    task: &plan::Task,
    attempt: u32,
    lane: &str,
    worktree: &Path,
    failure: Option<&str>,
) -> Result<Attempt, EngineError> {
    let base = run.ctx.landing.base().await?;
    let job = AttemptJob { task, attempt, lane, worktree, base: &base, failure };
    let work = run.backend.work(&run.ctx.env, job).await?;
    land_work(run, task, attempt, &base, work).await
}

/// Follows attempt `attempt` of `task`, which was running as job `job` when the run stopped,
/// to its end, and lands its change as [`attempt_once`] would.
async fn reattach_once(run: &Run, task: &plan::Task, attempt: u32, job: &str) -> Result<Attempt, EngineError> {
    let (work, base) = run.backend.reattach(&run.ctx.env, task, attempt, job).await?;
    land_work(run, task, attempt, &base, work).await
}

/// Lands what an attempt's work came to: the task's commit of its tree on `base` (after a
/// person's approval, for a human-verify checkpoint), or how it ended without one.
async fn land_work(run: &Run, task: &plan::Task, attempt: u32, base: &str, work: Work) -> Result<Attempt, EngineError> {
    let tree = match work {
        Work::Tree(tree) => tree,
        Work::Failed(reason) => return Ok(Attempt::Failed(reason)),
        Work::VerifyTimedOut(reason) => return Ok(Attempt::VerifyTimedOut(reason)),
    };
    let (ctx, env) = (&run.ctx, &run.ctx.env);
    let id = task.id.to_string();
    let message = integrate::message(&prompt::commit_subject(&env.plan, task), Trailer::Task(&id), &env.run_id);
    let commit = env.repo.commit_tree(&tree, base, &message).await?;
    if task.kind == TaskType::HumanVerify {
        match checkpoint::checkpoint(ctx, task, Some(&commit), base, "").await? {
            Answer::Approved => {}
            Answer::Rejected(reason) => {
                return Ok(Attempt::Rejected(format!("a person rejected this change: {reason}")));
            }
            // A human-verify checkpoint takes no option: `checkpoint` never decides one.
            Answer::Decided(_) => return Err(EngineError::Cancelled),
        }
    }
    Ok(ctx.landing.task(&env.emitter, &id, attempt, base, &commit, &message).await?.into())
}

//! The `local` backend: attempts in the lanes' worktrees on this machine.

use super::{AttemptJob, Backend, Boxed};
use crate::attempt::{Work, agent_and_verify};
use crate::env::AttemptEnv;
use crate::error::EngineError;
use crate::worktree;

/// Attempts in lane worktrees on this machine.
pub(super) struct Local;

impl Backend for Local {
    fn work<'a>(&'a self, env: &'a AttemptEnv, job: AttemptJob<'a>) -> Boxed<'a, Work> {
        Box::pin(async move { work_here(env, &job).await })
    }

    fn reattach<'a>(
        &'a self,
        _env: &'a AttemptEnv,
        _task: &'a plan::Task,
        attempt: u32,
        job: &'a str,
    ) -> Boxed<'a, (Work, String)> {
        Box::pin(async move {
            let reason = format!(
                "attempt {attempt} ran as scheduler job {job}, and this run goes on with the local backend: \
                 it is not followed (resume with --backend slurm to collect it)"
            );
            Ok((Work::Failed(reason), String::new()))
        })
    }
}

/// The local backend's attempt: prepares `worktree` at `base`, then runs the agent and the
/// Verify commands in it.
async fn work_here(env: &AttemptEnv, job: &AttemptJob<'_>) -> Result<Work, EngineError> {
    let id = job.task.id.to_string();
    if let Some(failure) = worktree::prepare(env, &id, job.lane, job.worktree, job.base).await? {
        return Ok(Work::Failed(failure));
    }
    let worktree = job.worktree.to_string_lossy().into_owned();
    env.attempt_started(&id, job.attempt, job.lane, worktree, job.base, None)?;
    agent_and_verify(env, job.task, job.attempt, job.worktree, job.failure).await
}

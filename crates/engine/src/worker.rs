//! A worker's side of an attempt run elsewhere (`wavecrew worker`, in a Slurm job): the same
//! agent and Verify commands as a local lane, in a clone of the repository, with events going
//! to the attempt's spool folder and the agent's work coming back as a bundle.

use crate::agent::Agent;
use crate::attempt::{Work, agent_and_verify};
use crate::emitter::Emitter;
use crate::env::{AttemptEnv, Decisions, Lanes, Spend};
use crate::error::EngineError;
use crate::layout::RunLayout;
use crate::options::Options;
use crate::remote::{AttemptDir, EventWriter, Job, JobResult};
use crate::workspace::Workspace;
use crate::worktree;
use plan::{Schedule, TaskId};
use std::sync::Arc;
use tokio::sync::watch;

/// In `ws` (a clone of the repository), runs the agent and the Verify commands of `job`
/// exactly as a local lane does, writing events to the attempt's spool folder, and bundles the
/// agent's work.
pub async fn work_remote(
    ws: &Workspace,
    spool: &AttemptDir,
    job: &Job,
    agent: Arc<dyn Agent>,
    options: Options,
    cancel: watch::Receiver<bool>,
) -> JobResult {
    let result = async {
        let plan = plan::parse(&job.plan_text, &job.milestone).plan;
        let Some(task) = TaskId::parse(&job.task).and_then(|id| plan.task(id)).cloned() else {
            return Ok(JobResult::Failed { reason: format!("the plan has no task {}", job.task) });
        };
        let env = AttemptEnv {
            run_id: job.run.clone(),
            run_base: if job.run_base.is_empty() { job.base.clone() } else { job.run_base.clone() },
            plan_text: job.plan_text.clone(),
            schedule: Schedule::new(&plan),
            plan,
            agent,
            options: Options { backend: crate::backend::BackendChoice::Local, ..options },
            emitter: Emitter::spooled(EventWriter::open(&spool.events())?),
            repo: ws.git.clone(),
            root: ws.root.clone(),
            layout: RunLayout::at(spool.0.clone()),
            lanes: Lanes::new(ws.worktrees_dir(&job.run)),
            decisions: Decisions::default(),
            spent: Spend::default(),
            cancel,
        };
        for decision in &job.decisions {
            env.decisions.add(decision.clone());
        }
        let worktree = ws.worktrees_dir(&job.run).join(format!("{}-{}", job.task, job.attempt));
        if let Some(failure) = worktree::prepare(&env, &job.task, "worker", &worktree, &job.base).await? {
            return Ok(JobResult::Failed { reason: failure });
        }
        let result = match agent_and_verify(&env, &task, job.attempt, &worktree, job.failure.as_deref()).await {
            Ok(Work::Tree(tree)) => {
                let commit = crate::remote::bundle_result(&ws.git, &tree, &job.base, &spool.bundle()).await?;
                JobResult::Passed { commit }
            }
            Ok(Work::Failed(reason)) => JobResult::Failed { reason },
            Ok(Work::VerifyTimedOut(reason)) => JobResult::VerifyTimedOut { reason },
            Err(EngineError::Cancelled) => JobResult::Cancelled,
            Err(error) => return Err(error),
        };
        let _ = ws.git.remove_worktree(&worktree).await;
        Ok::<_, EngineError>(result)
    }
    .await;
    result
        .unwrap_or_else(|error| JobResult::Failed { reason: format!("the worker could not run the attempt: {error}") })
}

//! Resuming a run after anything (a crash, `kill -9`, Ctrl-C, a failure): processes left
//! behind are stopped (jobs on a cluster are followed again), worktrees are rebuilt, git's run
//! branch says what landed (the trailers of its commits), checkpoints still waiting wait again,
//! and the rest starts over in the same run loop.

use super::{EngineError, Run, Summary, Workspace, execute};
use crate::agent::Agent;
use crate::events::{AnswerKind, Envelope, Event, RunState, TaskState};
use crate::integrate::Landing;
use crate::workspace::pid_alive;
use crate::{process, worktree};
use plan::TaskId;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// Picks up `run` where it stopped: committed tasks stay, the rest starts again from a clean
/// worktree; processes and worktrees left behind are reclaimed. `settings` are what it goes on
/// with (the journal keeps them for the next resume); `overrides` say which of them the person
/// changed from what the run had.
#[allow(clippy::too_many_arguments)]
pub async fn resume(
    ws: &Workspace,
    run_id: &str,
    agent: Arc<dyn Agent>,
    options: crate::options::Options,
    settings: &crate::settings::RunSettings,
    overrides: Vec<String>,
    events: broadcast::Sender<Envelope>,
    cancel: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    let run = ws.journal.run(run_id)?.ok_or_else(|| EngineError::UnknownRun(run_id.to_owned()))?;
    if run.state == RunState::Running && run.pid != std::process::id() && pid_alive(run.pid) {
        return Err(EngineError::Active { run: run.id, pid: run.pid });
    }
    if run.state == RunState::Succeeded {
        return Err(EngineError::Finished(run.id));
    }
    let plan = plan::parse(&run.plan_text, &run.milestone).plan;

    // Processes of the previous session that still run would write into worktrees we reuse.
    // Attempts handed to a scheduler as jobs are followed again instead.
    let mut reattach = HashMap::new();
    for attempt in ws.journal.running_attempts(&run.id)? {
        if let (Some(job), Some(id)) = (&attempt.job, TaskId::parse(&attempt.task)) {
            reattach.insert(id, (attempt.attempt, job.clone()));
            continue;
        }
        if let Some(pid) = attempt.pid.filter(|&pid| process::group_alive(pid)) {
            process::stop_group(pid).await;
        }
    }
    // Worktrees are rebuilt from the branch: whatever was half done in them is not kept.
    worktree::remove_all(&ws.git, &ws.worktrees_dir(&run.id)).await;

    // A crash may have come before the branch was made, or in the middle of moving it.
    let lock = ws.git.common_dir().await?.join(format!("refs/heads/{}.lock", run.branch));
    let _ = tokio::fs::remove_file(lock).await;
    if !ws.git.branch_exists(&run.branch).await {
        ws.git.create_branch(&run.branch, &run.base).await?;
    }
    // Git is the truth about what landed: every commit with this run's trailer is done.
    let landed: HashMap<String, String> =
        Landing::new(ws.git.clone(), &run.branch).landed_tasks(&run.base, &run.id).await?.into_iter().collect();
    ws.journal.claim(&run.id, std::process::id())?;
    ws.journal.set_options(&run.id, &settings.to_json())?;
    // The budget counts what the run's agents spent before it stopped too.
    let spent = ws.journal.spent_usd(&run.id)?;
    let (mut run, slot_requests) = Run::new(ws, run, plan, agent, options, events, cancel);
    run.reattach = reattach;
    let env = &run.ctx.env;
    env.spent.add(spent);
    // The budgets of waves and the estimates count what was spent before too.
    *env.spent.ledger() = crate::budget::Ledger::resumed(&ws.journal.events(&env.run_id, 0)?);
    // For every task: whether it landed, and how many attempts it made (new ones number on).
    let mut prior: HashMap<TaskId, (bool, u32)> = HashMap::new();
    let run_id = env.run_id.clone();
    for record in ws.journal.tasks(&run_id)? {
        let Some(id) = TaskId::parse(&record.task) else { continue };
        match landed.get(&record.task) {
            Some(commit) => {
                if record.state != TaskState::Committed {
                    // It landed, but the journal did not hear of it before the crash.
                    run.ctx.env.emitter.emit(Event::TaskCommitted {
                        task: record.task.clone(),
                        attempt: record.attempts.max(1),
                        commit: commit.clone(),
                        message: "(recovered from the run branch)".into(),
                    })?;
                }
                prior.insert(id, (true, record.attempts));
            }
            None if record.state == TaskState::Waiting => {
                // Still waiting for a person: the change it asks about stays, no agent runs again.
                run.waiting.insert(id, ws.journal.waiting_commit(&run_id, &record.task)?);
                prior.insert(id, (false, record.attempts));
            }
            None => {
                if record.state != TaskState::Pending {
                    ws.journal.reset_task(&run_id, &record.task)?;
                }
                prior.insert(id, (false, record.attempts));
            }
        }
    }
    let mut done: Vec<String> = prior.iter().filter(|(_, p)| p.0).map(|(id, _)| id.to_string()).collect();
    done.sort();
    let env = &run.ctx.env;
    env.emitter.emit(Event::RunResumed { committed: done, overrides })?;
    for envelope in ws.journal.events(&run_id, 0)? {
        if let Event::CheckpointAnswered { task, answer, detail: Some(option), .. } = envelope.event
            && answer == AnswerKind::Decided
        {
            let summary =
                TaskId::parse(&task).and_then(|id| env.plan.task(id)).map(plan::Task::summary).unwrap_or_default();
            env.decisions.add((task, summary, option));
        }
    }
    execute(Arc::new(run), slot_requests, prior).await
}

//! Running a plan: the top of the engine. [`start`] makes the run branch and journals the run;
//! [`resume`] picks one up after anything; both hand over to the run loop, which only carries
//! messages between the tasks and the pure [`scheduler::Scheduler`]: what ended, what parked,
//! what may start. Each task runs in `task` (attempts, gates, checkpoints); once every task
//! landed, the finished branch is checked ([`crate::verify`]).
//!
//! Nothing below this module imports it.

use crate::agent::Agent;
use crate::backend::Backend;
use crate::ctx::RunCtx;
use crate::emitter::Emitter;
use crate::env::{AttemptEnv, Decisions, Lanes, Spend};
use crate::events::{Envelope, Event, LaneInfo, RunState, TaskState};
use crate::integrate::Landing;
use crate::journal::{RunRecord, now_ms};
use crate::slots::{SlotRequest, Slots};
use crate::workspace::{branch_name, new_run_id, plan_hash};
use crate::worktree::{self, Pool};
use plan::{Plan, Schedule, TaskId};
use scheduler::{Launch, Scheduler, StopReason, TaskEnd};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

mod hold;
mod preflight;
mod reserve;
mod resume;
pub mod scheduler;
mod task;

pub use crate::error::EngineError;
pub use crate::graph::waits_for;
pub use crate::options::{Options, ScheduleMode};
pub use crate::workspace::{Workspace, pid_alive, xdg_dir};
pub use resume::resume;

/// Whether `plan`'s best-of tasks (`Attempts: N parallel`, `--best-of`) can run with
/// `options`: what [`start`] checks before it makes anything, for `run --dry-run` to say first.
pub fn check_best_of(plan: &Plan, options: &Options) -> Result<(), EngineError> {
    preflight::check_attempts(plan, options)
}

/// The best-of tasks of `plan` with `options`, in plan order, each with how many candidates it
/// runs at once.
pub fn best_of_tasks(plan: &Plan, options: &Options) -> Vec<(TaskId, u32)> {
    plan.tasks.iter().filter_map(|t| crate::best_of::candidates(t, options).map(|n| (t.id, n))).collect()
}

/// What a run ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The run's id.
    pub run: String,
    /// How it ended.
    pub state: RunState,
    /// Its branch.
    pub branch: String,
    /// Tasks committed.
    pub committed: usize,
    /// Tasks that failed.
    pub failed: usize,
    /// Tasks skipped because a dependency failed.
    pub skipped: usize,
}

/// One run as its loop and its tasks see it: the [`RunCtx`], where attempts run, and what a
/// resumed run picks up (jobs to follow, checkpoints still waiting).
pub(crate) struct Run {
    pub(crate) ctx: RunCtx,
    /// Where attempts run (`--backend`).
    pub(crate) backend: Box<dyn Backend>,
    /// Attempts that were running as scheduler jobs when the run stopped: `resume` follows
    /// them rather than starting new ones. Task -> (attempt, job id).
    pub(crate) reattach: HashMap<TaskId, (u32, String)>,
    /// Checkpoints that were waiting when the run stopped, with the change they ask about.
    pub(crate) waiting: HashMap<TaskId, Option<String>>,
}

/// Starts a run of `plan` (already checked: no errors) in `ws`.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    ws: &Workspace,
    plan_path: &str,
    plan_bytes: &[u8],
    plan: Plan,
    agent: Arc<dyn Agent>,
    options: Options,
    settings: &crate::settings::RunSettings,
    events: broadcast::Sender<Envelope>,
    cancel: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    if let Some(active) = ws.active_run()? {
        return Err(EngineError::Active { run: active.id, pid: active.pid });
    }
    preflight::check_skills(&ws.root, &plan)?;
    preflight::check_attempts(&plan, &options)?;
    let base = ws.git.rev_parse("HEAD").await.map_err(|_| EngineError::NoCommit)?;
    let branch = branch_name(&plan.milestone);
    if ws.git.branch_exists(&branch).await {
        let newest = ws.journal.runs()?.into_iter().find(|r| r.branch == branch);
        let resumable = newest.filter(|r| r.state != RunState::Succeeded).map(|r| r.id);
        return Err(EngineError::BranchExists { branch, resumable });
    }
    let record = RunRecord {
        id: new_run_id(),
        plan_path: plan_path.to_owned(),
        plan_hash: plan_hash(plan_bytes),
        plan_text: String::from_utf8_lossy(plan_bytes).into_owned(),
        milestone: plan.milestone.clone(),
        title: plan.title.clone(),
        branch: branch.clone(),
        base: base.clone(),
        state: RunState::Running,
        started_ms: now_ms(),
        finished_ms: None,
        pid: std::process::id(),
        options: settings.to_json(),
    };
    let tasks: Vec<String> = plan.tasks.iter().map(|t| t.id.to_string()).collect();
    ws.journal.create_run(&record, &tasks)?;
    ws.git.create_branch(&branch, &base).await?;
    let (run, slot_requests) = Run::new(ws, record, plan, agent, options, events, cancel);
    let env = &run.ctx.env;
    env.emitter.emit(Event::RunStarted {
        milestone: env.plan.milestone.clone(),
        title: env.plan.title.clone(),
        branch,
        base,
        tasks,
        lanes: lane_infos(env),
    })?;
    execute(Arc::new(run), slot_requests, HashMap::new()).await
}

impl Run {
    /// A run of `record` in `ws`, and the scheduler's end of its tasks' slot requests.
    fn new(
        ws: &Workspace,
        record: RunRecord,
        plan: Plan,
        agent: Arc<dyn Agent>,
        options: Options,
        events: broadcast::Sender<Envelope>,
        cancel: watch::Receiver<bool>,
    ) -> (Run, mpsc::UnboundedReceiver<SlotRequest>) {
        let backend = crate::backend::make(&options.backend);
        let env = AttemptEnv {
            run_id: record.id.clone(),
            run_base: record.base.clone(),
            plan_text: record.plan_text.clone(),
            schedule: Schedule::new(&plan),
            plan,
            agent,
            options,
            emitter: Emitter::journaled(&record.id, ws.journal.clone(), events),
            repo: ws.git.clone(),
            root: ws.root.clone(),
            layout: ws.layout(&record.id),
            lanes: Lanes::new(ws.worktrees_dir(&record.id)),
            decisions: Decisions::default(),
            spent: Spend::default(),
            cancel,
        };
        let (slots, slot_requests) = Slots::new();
        let ctx = RunCtx {
            landing: Landing::new(ws.git.clone(), &record.branch),
            journal: ws.journal.clone(),
            env,
            run: record,
            slots,
            pool: Pool::default(),
        };
        (Run { ctx, backend, reattach: HashMap::new(), waiting: HashMap::new() }, slot_requests)
    }
}

/// The lanes as `run_started` announces them.
fn lane_infos(env: &AttemptEnv) -> Vec<LaneInfo> {
    env.schedule
        .lanes()
        .iter()
        .map(|lane| LaneInfo {
            name: lane.name.clone(),
            agent: env.agent.name().to_owned(),
            model: lane.model.clone(),
            tasks: lane.tasks.iter().map(ToString::to_string).collect(),
        })
        .collect()
}

/// The run loop: carries messages between the tasks and the [`Scheduler`] (launches, ends,
/// parked checkpoints, cancel), journals skips, and finishes the run. `prior` holds, for a
/// resumed run, each task's (committed, attempts made).
async fn execute(
    run: Arc<Run>,
    mut slot_requests: mpsc::UnboundedReceiver<SlotRequest>,
    prior: HashMap<TaskId, (bool, u32)>,
) -> Result<Summary, EngineError> {
    let ctx = &run.ctx;
    let env = &ctx.env;
    let jobs = env.options.tasks_at_once(&env.schedule);
    let mut scheduler =
        Scheduler::new(&env.plan, &env.schedule, env.options.schedule, jobs, env.options.fail_fast, |id| {
            prior.get(&id).is_some_and(|p| p.0)
        })
        .with_agent(env.agent.name(), |id| {
            env.plan.task(id).is_some_and(|t| !matches!(t.kind, plan::TaskType::Decision | plan::TaskType::HumanAction))
        });
    hold::restore(&ctx.journal, &env.run_id, env.agent.name(), &mut scheduler);
    // Tasks whose agent is held, waiting for the scheduler's word.
    let mut held = hold::Held::default();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(TaskId, Result<bool, EngineError>)>();
    // Answered checkpoints waiting for their slot, told when they have it.
    let mut grants: HashMap<TaskId, oneshot::Sender<()>> = HashMap::new();
    let mut broken: Option<EngineError> = None;
    let mut cancel = env.cancel.clone();
    let mut cancel_seen = false;
    let mut reservations = reserve::Reservations::default();
    loop {
        for (id, because) in scheduler.skip() {
            let skipped = Event::TaskSkipped { task: id.to_string(), because: because.to_string() };
            if let Err(error) = env.emitter.emit(skipped) {
                scheduler.stop(StopReason::Broken(error.to_string()));
                broken.get_or_insert(error.into());
                break;
            }
        }
        if let Some(budget) = env.options.budget_usd
            && env.spent.usd() >= budget
        {
            scheduler.stop(StopReason::budget(budget, env.spent.usd()));
        }
        held.release(scheduler.release(now_ms()));
        if let Some(why) = reserve::tokens_spent(env) {
            scheduler.stop(StopReason::OverBudget(why));
        }
        for launch in scheduler.launch() {
            match launch {
                Launch::Grant(id) => {
                    if let Some(go) = grants.remove(&id) {
                        let _ = go.send(());
                    }
                }
                Launch::Start(id) => {
                    let first_attempt = prior.get(&id).map_or(1, |p| p.1 + 1);
                    // A wave reserves what its tasks' attempts are estimated to cost before
                    // they start: one it cannot pay for waits, or stops the run.
                    match reservations.admit(env, &mut scheduler, id, first_attempt) {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(error) => {
                            scheduler.stop(StopReason::Broken(error.to_string()));
                            broken.get_or_insert(error);
                            continue;
                        }
                    }
                    let (run, done_tx) = (run.clone(), done_tx.clone());
                    tokio::spawn(async move {
                        let outcome = task::run_task(&run, id, first_attempt).await;
                        let _ = done_tx.send((id, outcome));
                    });
                }
            }
        }
        if env.options.batch_checkpoints {
            ctx.slots.publish_settled(scheduler.settled_waves());
        }
        if scheduler.idle() {
            break;
        }
        tokio::select! {
            Some(request) = slot_requests.recv() => match request {
                SlotRequest::Park(id) => scheduler.park(id),
                SlotRequest::Unpark(id, go) => {
                    grants.insert(id, go);
                    scheduler.unpark(id);
                }
                SlotRequest::Limited { task, attempt, limit, answer } => {
                    if let Err(error) = held.limited(env, &mut scheduler, (task, attempt, limit), answer) {
                        scheduler.stop(StopReason::Broken(error.to_string()));
                        broken.get_or_insert(error);
                    }
                }
            },
            // A hold ends: the loop goes round, and the scheduler releases its tasks.
            () = sleep_until_ms(scheduler.next_release(now_ms())), if scheduler.next_release(now_ms()).is_some() => {}
            Some((id, outcome)) = done_rx.recv() => {
                reservations.release(id);
                let end = match outcome {
                    Ok(true) => {
                        scheduler.answered(id);
                        TaskEnd::Committed
                    }
                    Ok(false) => TaskEnd::Failed,
                    Err(EngineError::Cancelled) => TaskEnd::Interrupted,
                    // The journal could not be written: the run must stop.
                    Err(error) => {
                        scheduler.stop(StopReason::Broken(error.to_string()));
                        broken.get_or_insert(error);
                        TaskEnd::Interrupted
                    }
                };
                scheduler.finished(id, end);
            }
            changed = cancel.changed(), if !cancel_seen => {
                if changed.is_err() || *cancel.borrow() {
                    cancel_seen = true;
                    scheduler.stop(StopReason::Cancelled);
                }
            }
        }
    }

    let cancelled = scheduler.stop_reason() == Some(&StopReason::Cancelled);
    if let Some(reason) = scheduler.stop_reason() {
        let _ = env.emitter.emit(Event::Stopping { reason: reason.to_string() });
    }
    if let Some(error) = broken {
        return Err(error);
    }
    let (committed, failed, skipped) = (
        scheduler.count(TaskState::Committed),
        scheduler.count(TaskState::Failed),
        scheduler.count(TaskState::Skipped),
    );
    let mut run_state = if cancelled {
        RunState::Cancelled
    } else if committed == scheduler.len() {
        RunState::Succeeded
    } else {
        RunState::Failed
    };
    if run_state == RunState::Succeeded {
        match crate::verify::run::verify_run(ctx).await {
            Ok(true) => {}
            Ok(false) => run_state = RunState::Failed,
            Err(EngineError::Cancelled) => run_state = RunState::Cancelled,
            Err(error) => return Err(error),
        }
    }
    if run_state != RunState::Cancelled {
        worktree::remove_all(&env.repo, &env.lanes.dir).await;
    }
    env.emitter.emit(Event::RunFinished {
        state: run_state,
        committed,
        failed,
        skipped,
        duration_ms: now_ms().saturating_sub(ctx.run.started_ms),
    })?;
    Ok(Summary {
        run: env.run_id.clone(),
        state: run_state,
        branch: ctx.run.branch.clone(),
        committed,
        failed,
        skipped,
    })
}

/// Sleeps until `at_ms` (milliseconds since the epoch; now when it is past or none).
async fn sleep_until_ms(at_ms: Option<u64>) {
    let wait = at_ms.unwrap_or(0).saturating_sub(now_ms());
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
}

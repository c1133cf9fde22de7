//! Starting the run's agent: [`Launch`] says what for (a task's attempt, a gate's fix or
//! review, the truths verifier), [`start_agent`] writes its prompt, starts its CLI in a
//! worktree with the lane's variables, journals its process, activity (priced, for the budget)
//! and exit, and checks that it left the user's work tree alone ([`UserTree`]).
//! [`launch_agent`] leaves that check to its caller ([`Exited`]), which runs it beside the
//! snapshot of the agent's work.

use crate::agent::{AgentRequest, AgentRole};
use crate::env::AttemptEnv;
use crate::error::EngineError;
use crate::events::{ActivityKind, Event};
use crate::git::Git;
use crate::process;
use std::path::Path;
use std::time::Duration;

/// One start of the run's agent.
pub(crate) struct Launch {
    /// The task its events are about (`verification` for the truths verifier).
    pub(crate) task: String,
    /// The attempt (a gate's round).
    pub(crate) attempt: u32,
    /// Why it is started.
    pub(crate) role: AgentRole,
    /// The model the plan names for it.
    pub(crate) model: Option<String>,
    /// The prompt.
    pub(crate) prompt: String,
    /// The prompt goes to `prompts/<name>.md`.
    pub(crate) name: String,
    /// Its output goes to `logs/<task>-<attempt>-<log_part>.log`.
    pub(crate) log_part: String,
    /// Skills `(name, text)` for agents that take a system prompt.
    pub(crate) skills: Vec<(String, String)>,
    /// Commands it may run without asking.
    pub(crate) verify_commands: Vec<String>,
}

/// Starts the run's agent in `worktree` as `launch` says and reads its output until it exits.
/// `Ok(())` when it finished well and left the user's work tree alone, else why it failed;
/// [`EngineError::Cancelled`] when the run was cancelled. The same path for a task's attempt, a
/// gate's fix and review, and the truths verifier.
pub(crate) async fn start_agent(
    env: &AttemptEnv,
    worktree: &Path,
    launch: Launch,
) -> Result<Result<(), String>, EngineError> {
    Ok(match launch_agent(env, worktree, launch).await? {
        Ok(exited) => exited.check_user_tree(&env.root).await,
        Err(reason) => Err(reason),
    })
}

/// An agent that finished well. Whether it left the user's work tree alone is still to be
/// checked ([`Exited::check_user_tree`]): the caller does it, beside other work if it likes.
#[must_use = "the user's work tree must be checked before the agent's work is used"]
pub(crate) struct Exited {
    /// The user's work tree before the agent started.
    before: UserTree,
}

impl Exited {
    /// `Ok(())` when the user's work tree (at `root`) is as it was before the agent started,
    /// else why the attempt fails.
    pub(crate) async fn check_user_tree(self, root: &Path) -> Result<(), String> {
        if UserTree::read(root).await == self.before {
            Ok(())
        } else {
            Err("your work tree changed while this task's agent ran: agents must work only in their worktree, so nothing of this attempt is committed".into())
        }
    }
}

/// [`start_agent`] but for the check of the user's work tree, which the caller makes with the
/// [`Exited`] it gets when the agent finished well.
pub(crate) async fn launch_agent(
    env: &AttemptEnv,
    worktree: &Path,
    launch: Launch,
) -> Result<Result<Exited, String>, EngineError> {
    let Launch { task: id, attempt, role, model, prompt, name, log_part, skills, verify_commands } = launch;
    let prompt_file = env.layout.prompts().join(format!("{name}.md"));
    tokio::fs::create_dir_all(env.layout.prompts()).await?;
    tokio::fs::write(&prompt_file, &prompt).await?;
    let sandboxed = match env.confines() {
        Ok(confines) => confines,
        Err(reason) => return Ok(Err(reason)),
    };
    let request = AgentRequest {
        task: id.clone(),
        attempt,
        model,
        prompt,
        prompt_file,
        worktree: worktree.to_owned(),
        skills,
        verify_commands,
        role,
        sandboxed,
    };
    let command = env.agent.command(&request);
    let inherit = command.inherited();
    let mut vars = command.env;
    vars.extend(env.env_in(worktree));
    let sandbox_name = format!("{id}-{attempt}-{log_part}");
    let writable = if request.sandboxed { env.agent.writable(&request) } else { Vec::new() };
    let sandboxed = match env.sandbox(worktree, &sandbox_name, writable).await? {
        Ok(sandboxed) => sandboxed,
        Err(reason) => return Ok(Err(reason)),
    };
    vars.extend(sandboxed.env.iter().cloned());
    let spec = process::Spec {
        program: command.program.clone(),
        args: command.args,
        env: vars,
        inherit: Some(inherit),
        cwd: worktree.to_owned(),
        timeout: env.options.agent_timeout,
        log: env.layout.log(&id, attempt, &log_part),
        sandbox: sandboxed.rules.clone(),
    };
    let before = UserTree::read(&env.root).await;
    let emitter = env.emitter.clone();
    let agent = env.agent.clone();
    let model_id = agent.model_id(request.model.as_deref());
    let meter = Meter::new(env, &id, attempt, role, request.model.as_deref());
    let (spawned_task, output_task) = (id.clone(), id.clone());
    let spawned = std::sync::Mutex::new(None);
    let mut coalesce = crate::adapters::Coalesce::default();
    let outcome = process::run(
        &spec,
        |pid| *spawned.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(pid),
        |line| match agent.activity(line) {
            Some(activity) => {
                for activity in coalesce.push(activity) {
                    let activity = meter.account(env, model_id.as_deref(), activity);
                    let _ = emitter.emit(activity_event(&output_task, attempt, activity));
                }
            }
            None => {
                let _ = emitter.emit(Event::AgentOutput { task: output_task.clone(), attempt, line: line.to_owned() });
            }
        },
        meter.cancel.clone(),
    );
    // The pid is journaled as soon as the process exists, so `resume` can reclaim it.
    let outcome = {
        tokio::pin!(outcome);
        let mut journaled = false;
        loop {
            tokio::select! {
                result = &mut outcome => break result,
                () = tokio::time::sleep(Duration::from_millis(20)), if !journaled => {
                    let pid = *spawned.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(pid) = pid {
                        journaled = true;
                        env.emitter.emit(Event::AgentSpawned { task: spawned_task.clone(), attempt, pid })?;
                    }
                }
            }
        }
    };
    let denials = match &outcome {
        Ok(outcome) => env.journal_denials(&id, attempt, &log_part, &sandboxed, outcome)?,
        Err(_) => Vec::new(),
    };
    let confined = sandboxed.rules.is_some();
    sandboxed.done().await;
    if let Some(message) = coalesce.finish() {
        env.emitter.emit(activity_event(&id, attempt, meter.account(env, model_id.as_deref(), message)))?;
    }
    let over_budget = meter.finish(env);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            return Ok(Err(format!("the agent `{}` could not be started: {error}", spec.program.display())));
        }
    };
    env.emitter.emit(Event::AgentExited {
        task: id.clone(),
        attempt,
        code: outcome.code,
        timed_out: outcome.timed_out,
        duration_ms: outcome.duration.as_millis() as u64,
    })?;
    if let Some(reason) = over_budget.filter(|_| outcome.cancelled && !env.cancelled()) {
        return Ok(Err(format!("{reason}\n{}", outcome.tail)));
    }
    if outcome.cancelled {
        return Err(EngineError::Cancelled);
    }
    if outcome.timed_out {
        return Ok(Err(format!(
            "the agent did not finish within {}s and was stopped\n{}",
            env.options.agent_timeout.as_secs(),
            outcome.tail
        )));
    }
    if !outcome.success() {
        let hint = confined.then(|| crate::sandbox::denial_hint(&denials, &outcome.tail)).flatten();
        let hint = hint.map(|hint| format!("\n{hint}")).unwrap_or_default();
        return Ok(Err(format!("the agent {}{hint}\n{}", outcome.ended(), outcome.tail)));
    }
    match env.agent.finished(&request) {
        Ok(activities) => {
            for activity in activities {
                env.emitter.emit(activity_event(&id, attempt, meter.account(env, model_id.as_deref(), activity)))?;
            }
        }
        Err(reason) => return Ok(Err(format!("{reason}\n{}", outcome.tail))),
    }
    Ok(Ok(Exited { before }))
}

/// Where one start of the agent counts its usage: the run's spend, and the ledger of the task's
/// attempts ([`crate::budget`]). A task's own work under a `[budget] task` cap runs with a
/// cancel signal of its own, which the run's cancel also sets, so that going over the cap stops
/// it (its process group) as a cancel would.
struct Meter<'a> {
    task: &'a str,
    attempt: u32,
    /// The plan's model it runs on (an alias), which the estimates are kept by.
    model: Option<String>,
    /// `[budget] task`, for a task's own work.
    cap: Option<crate::budget::Amount>,
    /// What the process is stopped by.
    cancel: tokio::sync::watch::Receiver<bool>,
    /// With a cap: the sender of `cancel`, and what forwards the run's cancel to it.
    stop: Option<(std::sync::Arc<tokio::sync::watch::Sender<bool>>, tokio::task::JoinHandle<()>)>,
    /// Why it was stopped over the cap, once it was.
    over: std::sync::Mutex<Option<String>>,
}

impl<'a> Meter<'a> {
    fn new(env: &AttemptEnv, task: &'a str, attempt: u32, role: AgentRole, model: Option<&str>) -> Meter<'a> {
        let cap = env.options.budgets.task.filter(|_| role == AgentRole::Task);
        let (cancel, stop) = match cap {
            None => (env.cancel.clone(), None),
            Some(_) => {
                let (sender, cancel) = tokio::sync::watch::channel(*env.cancel.borrow());
                let sender = std::sync::Arc::new(sender);
                let (forward, mut run) = (sender.clone(), env.cancel.clone());
                let forwarding = tokio::spawn(async move {
                    // A run whose cancel sender is gone is cancelled, as `process::run` takes it.
                    while !*run.borrow() {
                        if run.changed().await.is_err() {
                            break;
                        }
                    }
                    let _ = forward.send(true);
                });
                (cancel, Some((sender, forwarding)))
            }
        };
        Meter { task, attempt, model: model.map(str::to_owned), cap, cancel, stop, over: Default::default() }
    }

    /// Prices usage that came without a cost from the configuration's table, and adds the cost
    /// to what the run spent (for `--budget`) and to the ledger; stops the agent once its task
    /// is over its cap (journaled as `budget_exceeded`).
    fn account(
        &self,
        env: &AttemptEnv,
        model_id: Option<&str>,
        activity: crate::adapters::Activity,
    ) -> crate::adapters::Activity {
        let crate::adapters::Activity::Usage { input, output, cache_read, cache_write, cost_usd } = activity else {
            return activity;
        };
        let priced = cost_usd.or_else(|| {
            let tokens = crate::options::Tokens { input, output, cache_read, cache_write };
            crate::options::price(&env.options.prices, &env.options.cache_prices, model_id?, tokens)
        });
        if let Some(cost) = priced {
            env.spent.add(cost);
        }
        let tokens = input + output + cache_read + cache_write;
        let cost = crate::budget::Cost { usd: priced.unwrap_or(0.0), tokens };
        let spent = {
            let mut ledger = env.spent.ledger();
            ledger.add(self.task, self.attempt, self.model.as_deref(), cost);
            ledger.task(self.task)
        };
        if let (Some((sender, _)), Some(cap)) = (&self.stop, self.cap)
            && let Some(reason) = crate::budget::over_task_cap(self.task, Some(cap), spent)
        {
            let mut over = self.over.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if over.is_none() {
                *over = Some(reason);
                let _ = env.emitter.emit(Event::BudgetExceeded {
                    task: self.task.to_owned(),
                    attempt: self.attempt,
                    cap,
                    spent_usd: spent.usd,
                    tokens: spent.tokens,
                });
                let _ = sender.send(true);
            }
        }
        crate::adapters::Activity::Usage { input, output, cache_read, cache_write, cost_usd: priced }
    }

    /// The agent exited: its attempt counts in its model's estimate. Why it was stopped over
    /// its task's cap, if it was.
    fn finish(&self, env: &AttemptEnv) -> Option<String> {
        if let Some((_, forwarding)) = &self.stop {
            forwarding.abort();
        }
        env.spent.ledger().finish(self.task, self.attempt, self.model.as_deref());
        self.over.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The event of an agent's activity.
fn activity_event(task: &str, attempt: u32, activity: crate::adapters::Activity) -> Event {
    use crate::adapters::Activity;
    let (kind, detail, tokens_in, tokens_out, cost_usd) = match activity {
        Activity::Text(text) | Activity::TextPiece(text) => (ActivityKind::Text, text, None, None, None),
        Activity::Tool(tool) => (ActivityKind::Tool, tool, None, None, None),
        Activity::Usage { input, output, cost_usd, .. } => {
            (ActivityKind::Usage, String::new(), Some(input), Some(output), cost_usd)
        }
        Activity::Error(error) => (ActivityKind::Error, error, None, None, None),
    };
    Event::AgentActivity { task: task.to_owned(), attempt, kind, detail, tokens_in, tokens_out, cost_usd }
}

/// A fingerprint of the user's work tree: changed and untracked paths with their sizes and
/// modification times. Any agent write there shows up as a difference.
#[derive(Debug, PartialEq, Eq)]
struct UserTree(String);

impl UserTree {
    async fn read(root: &Path) -> UserTree {
        let Ok(paths) = Git::new(root).changed_paths().await else { return UserTree(String::new()) };
        let mut out = String::new();
        for path in paths {
            let meta = std::fs::metadata(root.join(&path)).ok();
            let stamp = meta.map(|m| (m.len(), m.modified().ok()));
            out.push_str(&format!("{path} {stamp:?}\n"));
        }
        UserTree(out)
    }
}

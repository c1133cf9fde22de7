//! [`AttemptEnv`]: what every attempt of a run needs and shares, on this machine or on a worker:
//! the run's identity and plan, the agent, the options, where events go, the repository, the run
//! folder, the lanes' worktrees, the decisions taken so far, what the agents spent, and the
//! cancel signal. Narrower than the run ([`crate::ctx::RunCtx`]): nothing here lands a change,
//! waits for a person or schedules a task.

use crate::agent::{Agent, AgentRole};
use crate::emitter::Emitter;
use crate::events::Event;
use crate::git::Git;
use crate::journal::JournalError;
use crate::layout::RunLayout;
use crate::options::Options;
use plan::{Plan, Schedule, TaskId};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Mutex, watch};

/// A decision taken by a person: (task, its summary, the option), told to later agents.
pub(crate) type Decision = (String, String, String);

/// Everything the attempts of one run share.
pub(crate) struct AttemptEnv {
    /// The run's id.
    pub(crate) run_id: String,
    /// The commit the run branch started from.
    pub(crate) run_base: String,
    /// The plan's text, as the run started with it.
    pub(crate) plan_text: String,
    pub(crate) plan: Plan,
    pub(crate) schedule: Schedule,
    pub(crate) agent: Arc<dyn Agent>,
    pub(crate) options: Options,
    pub(crate) emitter: Emitter,
    /// The user's repository.
    pub(crate) repo: Git,
    /// The top of the user's work tree.
    pub(crate) root: PathBuf,
    /// The run's folder (a worker's spool folder).
    pub(crate) layout: RunLayout,
    pub(crate) lanes: Lanes,
    /// The decisions taken so far, told to later agents.
    pub(crate) decisions: Decisions,
    /// What the run's agents spent (for `--budget`).
    pub(crate) spent: Spend,
    pub(crate) cancel: watch::Receiver<bool>,
}

/// The decisions taken so far, in the order they were taken.
#[derive(Default)]
pub(crate) struct Decisions(std::sync::Mutex<Vec<Decision>>);

impl Decisions {
    /// Every decision so far.
    pub(crate) fn list(&self) -> Vec<Decision> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// A person took a decision (or one taken before a resume is read back).
    pub(crate) fn add(&self, decision: Decision) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(decision);
    }
}

/// US dollars the agents reported (or the price table gave), counted in millionths; and what
/// each task's attempts spent, for the budgets per task and per wave ([`crate::budget`]).
#[derive(Default)]
pub(crate) struct Spend(AtomicU64, std::sync::Mutex<crate::budget::Ledger>);

impl Spend {
    /// Adds `usd`.
    pub(crate) fn add(&self, usd: f64) {
        self.0.fetch_add((usd * 1_000_000.0).round() as u64, Ordering::Relaxed);
    }

    /// What was spent so far, in US dollars.
    pub(crate) fn usd(&self) -> f64 {
        self.0.load(Ordering::Relaxed) as f64 / 1_000_000.0
    }

    /// The ledger of what each attempt spent.
    pub(crate) fn ledger(&self) -> std::sync::MutexGuard<'_, crate::budget::Ledger> {
        self.1.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The lanes' worktrees of a run, and what wavecrew knows about each.
pub(crate) struct Lanes {
    /// The folder the run's worktrees are made in.
    pub(crate) dir: PathBuf,
    /// `git worktree add` races on `.git/config.lock`: one at a time.
    pub(crate) add_worktree: Mutex<()>,
    /// For each worktree, the hash of the setup inputs its setup last ran with.
    pub(crate) setup_done: Mutex<HashMap<PathBuf, String>>,
    /// For each worktree, the variables of the lane that prepared it last (its own
    /// `CARGO_TARGET_DIR`): every command run in it gets them.
    env: std::sync::Mutex<HashMap<PathBuf, Vec<(String, String)>>>,
}

impl Lanes {
    pub(crate) fn new(dir: PathBuf) -> Lanes {
        Lanes {
            dir,
            add_worktree: Mutex::new(()),
            setup_done: Mutex::new(HashMap::new()),
            env: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The variables of the lane whose task runs in `worktree`.
    pub(crate) fn env_in(&self, worktree: &Path) -> Vec<(String, String)> {
        let envs = self.env.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        envs.get(worktree).cloned().unwrap_or_default()
    }

    /// `worktree` serves a lane with these variables now.
    pub(crate) fn set_env(&self, worktree: &Path, env: Vec<(String, String)>) {
        self.env.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(worktree.to_owned(), env);
    }
}

impl AttemptEnv {
    /// Journals that the run's agent starts on `task` (its `attempt`, or a gate's round) in
    /// `worktree` at `base`; `role` when it is not the task's own work (`review`, `verify`).
    pub(crate) fn attempt_started(
        &self,
        task: &str,
        attempt: u32,
        lane: &str,
        worktree: String,
        base: &str,
        role: Option<AgentRole>,
    ) -> Result<(), JournalError> {
        self.emitter.emit(Event::AttemptStarted {
            task: task.to_owned(),
            attempt,
            lane: lane.to_owned(),
            agent: self.agent.name().to_owned(),
            model: match role {
                None | Some(AgentRole::Task) => self.attempt_model(task, attempt),
                Some(role) => self.model_for(task, role),
            },
            worktree,
            base: base.to_owned(),
            role,
        })
    }

    /// The model the agent runs on for `task` as `role` (see [`model_for`]).
    pub(crate) fn model_for(&self, task: &str, role: AgentRole) -> Option<String> {
        model_for(&self.schedule, self.options.verify_model.as_deref(), task, role).map(str::to_owned)
    }

    /// The model attempt `attempt` of `task` runs on: its row's, one further up the escalation
    /// list for each attempt before it ([`crate::escalate`]).
    pub(crate) fn attempt_model(&self, task: &str, attempt: u32) -> Option<String> {
        let own = self.model_for(task, AgentRole::Task);
        crate::escalate::model_for_attempt(&self.options.escalate, own.as_deref(), attempt).map(str::to_owned)
    }

    /// The variables of the lane whose task runs in `worktree` (see [`crate::worktree::prepare`]).
    pub(crate) fn env_in(&self, worktree: &Path) -> Vec<(String, String)> {
        self.lanes.env_in(worktree)
    }

    /// Whether a new file at `path` of a worktree stays out of commits: files brought in from
    /// the main tree, the agent CLI's scratch, and the answers wavecrew asked agents for.
    pub(crate) fn keep_out(&self, path: &Path) -> bool {
        self.options.provision.includes(path) || self.agent.is_scratch(path) || crate::layout::is_answer_scratch(path)
    }

    /// Whether the run was cancelled.
    pub(crate) fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    /// Whether the run's processes are confined here; `Err` says why a required sandbox
    /// cannot apply.
    pub(crate) fn confines(&self) -> Result<bool, String> {
        crate::sandbox::State::of(self.options.sandbox.mode, crate::sandbox::support())
            .map(|state| state.confines())
            .map_err(|error| error.to_string())
    }

    /// The sandbox of one process of an attempt in `worktree` (the agent, when `agent` lists
    /// what its CLI writes, or a Verify command), named `name`: its rules and a fresh private
    /// `TMPDIR`, or nothing when the run's sandbox is off or cannot apply here. `Err` says why a
    /// required sandbox cannot apply: the process must not start.
    pub(crate) async fn sandbox(
        &self,
        worktree: &Path,
        name: &str,
        agent: Vec<PathBuf>,
    ) -> Result<Result<Sandboxed, String>, std::io::Error> {
        let settings = &self.options.sandbox;
        match self.confines() {
            Ok(false) => return Ok(Ok(Sandboxed::default())),
            Ok(true) => {}
            Err(reason) => return Ok(Err(reason)),
        }
        let tmp = self.layout.tmp(name);
        if tmp.exists() {
            tokio::fs::remove_dir_all(&tmp).await?;
        }
        tokio::fs::create_dir_all(&tmp).await?;
        let lane_env = self.env_in(worktree);
        let lane = lane_env.iter().filter(|(var, _)| var == "CARGO_TARGET_DIR").map(|(_, dir)| PathBuf::from(dir));
        let caches = crate::sandbox::user_caches();
        let rules = crate::sandbox::Rules::for_attempt(crate::sandbox::Parts {
            worktree,
            tmp: &tmp,
            agent,
            lane: lane.collect(),
            caches,
            user: &settings.writable,
            connect: settings.connect.as_deref(),
        });
        let env = vec![("TMPDIR".to_owned(), tmp.to_string_lossy().into_owned())];
        Ok(Ok(Sandboxed { rules: Some(rules), env, tmp: Some(tmp), cwd: worktree.to_owned() }))
    }

    /// Runs `spec`, a command (not the agent) of `task`'s `attempt` named `process`
    /// (`verify-1`, `automated-1`, `evidence-1`), in the attempt's sandbox with its own
    /// `TMPDIR`, and journals what the sandbox refused it. `Ok(Err(reason))`: a required sandbox
    /// cannot apply here, and nothing ran.
    pub(crate) async fn run_confined(
        &self,
        mut spec: crate::process::Spec,
        task: &str,
        attempt: u32,
        process: &str,
    ) -> Result<Result<Confined, String>, crate::error::EngineError> {
        let sandboxed = match self.sandbox(&spec.cwd, &format!("{task}-{attempt}-{process}"), vec![]).await? {
            Ok(sandboxed) => sandboxed,
            Err(reason) => return Ok(Err(reason)),
        };
        sandboxed.apply(&mut spec);
        let outcome = crate::process::run(&spec, |_| {}, |_| {}, self.cancel.clone()).await;
        let denials = match &outcome {
            Ok(outcome) => self.journal_denials(task, attempt, process, &sandboxed, outcome)?,
            Err(_) => Vec::new(),
        };
        let confined = sandboxed.rules.is_some();
        sandboxed.done().await;
        Ok(Ok(Confined { outcome: outcome?, denials, confined }))
    }

    /// Journals what the sandbox refused `process` of `task`'s `attempt` (its `outcome` keeps the
    /// lines that show refusals), one `sandbox_denied` event each, and says what it found.
    pub(crate) fn journal_denials(
        &self,
        task: &str,
        attempt: u32,
        process: &str,
        sandboxed: &Sandboxed,
        outcome: &crate::process::Outcome,
    ) -> Result<Vec<crate::sandbox::Denial>, crate::error::EngineError> {
        let Some(rules) = &sandboxed.rules else { return Ok(Vec::new()) };
        let denials = crate::sandbox::denials(&outcome.refusals, rules, &sandboxed.cwd, crate::sandbox::user_may_write);
        for denial in &denials {
            self.journal_denial(task, attempt, process, denial)?;
        }
        Ok(denials)
    }

    /// Journals one refusal of the sandbox (a `sandbox_denied` event).
    pub(crate) fn journal_denial(
        &self,
        task: &str,
        attempt: u32,
        process: &str,
        denial: &crate::sandbox::Denial,
    ) -> Result<(), crate::error::EngineError> {
        self.emitter.emit(Event::SandboxDenied {
            task: task.to_owned(),
            attempt,
            process: process.to_owned(),
            operation: denial.operation.clone(),
            path: denial.path.clone(),
        })?;
        Ok(())
    }
}

/// How a command [`AttemptEnv::run_confined`] ran ended.
pub(crate) struct Confined {
    /// How it ended.
    pub(crate) outcome: crate::process::Outcome,
    /// What the sandbox refused it.
    pub(crate) denials: Vec<crate::sandbox::Denial>,
    /// Whether it ran sandboxed.
    pub(crate) confined: bool,
}

/// What [`AttemptEnv::sandbox`] made for one process: empty when it runs unconfined.
#[derive(Default)]
pub(crate) struct Sandboxed {
    /// Its rules.
    pub(crate) rules: Option<crate::sandbox::Rules>,
    /// Variables it gets (`TMPDIR`).
    pub(crate) env: Vec<(String, String)>,
    tmp: Option<PathBuf>,
    /// Where it runs (relative paths in its refusals are resolved against it).
    cwd: PathBuf,
}

impl Sandboxed {
    /// Makes `spec` run with these rules and variables.
    pub(crate) fn apply(&self, spec: &mut crate::process::Spec) {
        spec.sandbox = self.rules.clone();
        spec.env.extend(self.env.iter().cloned());
    }

    /// The process exited: its temporary folder goes.
    pub(crate) async fn done(self) {
        if let Some(tmp) = self.tmp {
            let _ = tokio::fs::remove_dir_all(tmp).await;
        }
    }
}

/// The model the agent runs on for `task` as `role`: a task's work on the model of its own
/// Agent Strategy row (none when the plan names none for it); a gate's review on
/// `verify_model` (`[verify] model`), else its gate's model; the verifier of the truths on
/// `verify_model`. Reviews and the verifier fall back to the model of the plan's last wave, so
/// that they never run on a CLI's unnamed default when the plan names models.
fn model_for<'a>(
    schedule: &'a Schedule,
    verify_model: Option<&'a str>,
    task: &str,
    role: AgentRole,
) -> Option<&'a str> {
    let own = TaskId::parse(task).and_then(|id| schedule.model_of(id));
    match role {
        AgentRole::Task | AgentRole::Plan => own,
        AgentRole::Review => verify_model.or(own).or_else(|| schedule.last_wave_model()),
        AgentRole::Verify => verify_model.or_else(|| schedule.last_wave_model()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_on_their_rows_model_and_reviews_and_the_verifier_on_a_named_one() {
        let text = "# M1 Implementation Plan: M\n\n## Waves\n\n### Wave 1: A\n> No dependencies.\n\n\
                    **Task 1.1** (type: auto)\n\n**Task 1.2** (type: checkpoint:gate)\n\n\
                    ### Wave 2: B\n> Depends on: Wave 1.\n\n**Task 2.1** (type: auto)\n\n\
                    ## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n\
                    | 1 | A | haiku | 1.1 |\n| 2 | A | sonnet | 2.1 |\n";
        let schedule = Schedule::new(&plan::parse(text, "x").plan);
        let model = |verify: Option<&'static str>, task: &str, role| model_for(&schedule, verify, task, role);
        assert_eq!(model(None, "1.1", AgentRole::Task), Some("haiku"));
        assert_eq!(model(None, "2.1", AgentRole::Task), Some("sonnet"));
        assert_eq!(model(None, "1.2", AgentRole::Task), None, "a task the plan names no model for");
        assert_eq!(model(None, "1.2", AgentRole::Review), Some("sonnet"), "a review never runs on no model");
        assert_eq!(model(Some("opus"), "1.1", AgentRole::Review), Some("opus"));
        assert_eq!(model(None, "verification", AgentRole::Verify), Some("sonnet"), "the last wave's model");
        assert_eq!(model(Some("opus"), "verification", AgentRole::Verify), Some("opus"));
    }
}

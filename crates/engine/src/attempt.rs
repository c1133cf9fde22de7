//! One attempt of a task, wherever it runs: its prompt (with what the tasks it waited for
//! landed), its agent, the snapshot of its work, and its Verify commands, which wavecrew runs
//! itself. [`Attempt`] is how an attempt ended; [`Work`] what its agent and Verify came to.

use crate::agent::AgentRole;
use crate::env::AttemptEnv;
use crate::error::EngineError;
use crate::events::Event;
use crate::git::Git;
use crate::integrate;
use crate::launch::{Exited, Launch, launch_agent};
use crate::{process, prompt};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// How one attempt ended.
pub(crate) enum Attempt {
    Committed,
    Failed(String),
    Conflict(String),
    /// A person rejected the change of a human-verify checkpoint, with this reason.
    Rejected(String),
    /// A Verify command did not exit within the Verify timeout: the task fails without another
    /// attempt, which would only wait as long again.
    VerifyTimedOut(String),
}

impl From<integrate::Landed> for Attempt {
    fn from(landed: integrate::Landed) -> Attempt {
        match landed {
            integrate::Landed::Committed(_) => Attempt::Committed,
            integrate::Landed::Conflict(paths) => Attempt::Conflict(format!(
                "the change conflicts with work that landed meanwhile, in: {}",
                paths.join(", ")
            )),
        }
    }
}

/// What an attempt's agent and Verify commands came to.
pub(crate) enum Work {
    /// Every Verify command passed; the tree of the agent's work (taken before Verify ran).
    Tree(String),
    /// The agent or a Verify command failed, for this reason: nothing to land.
    Failed(String),
    /// A Verify command did not exit in time (see [`Attempt::VerifyTimedOut`]).
    VerifyTimedOut(String),
}

/// Runs the task's agent in `worktree` (ready at the attempt's base), snapshots its work and
/// runs the task's Verify commands: the same on this machine and on a worker.
pub(crate) async fn agent_and_verify(
    env: &AttemptEnv,
    task: &plan::Task,
    attempt: u32,
    worktree: &Path,
    failure: Option<&str>,
) -> Result<Work, EngineError> {
    let exited = match run_agent(env, task, attempt, worktree, failure).await? {
        Ok(exited) => exited,
        Err(reason) => return Ok(Work::Failed(reason)),
    };
    // The task's commit holds what the agent left, taken before the Verify commands run: what
    // they write (coverage data, caches, reports) is not the task's work.
    let tree = match snapshot(env, exited, worktree).await? {
        Ok(tree) => tree,
        Err(reason) => return Ok(Work::Failed(reason)),
    };
    Ok(verify(env, task, attempt, worktree).await?.unwrap_or(Work::Tree(tree)))
}

/// Runs the task's Verify commands in `worktree`, in order, until one fails: `None` when every
/// one passed, else how the attempt ended ([`Work::Failed`] or [`Work::VerifyTimedOut`]).
pub(crate) async fn verify(
    env: &AttemptEnv,
    task: &plan::Task,
    attempt: u32,
    worktree: &Path,
) -> Result<Option<Work>, EngineError> {
    let id = task.id.to_string();
    for (index, command) in task.verify_commands.iter().enumerate() {
        env.emitter.emit(Event::VerifyStarted { task: id.clone(), attempt, command: command.value.clone() })?;
        let log = env.layout.log(&id, attempt, &format!("verify-{}", index + 1));
        let process = format!("verify-{}", index + 1);
        let spec =
            process::Spec::shell(&command.value, worktree, env.env_in(worktree), env.options.verify_timeout, log);
        let crate::env::Confined { outcome: result, denials, confined } =
            match env.run_confined(spec, &id, attempt, &process).await? {
                Ok(ran) => ran,
                Err(reason) => return Ok(Some(Work::Failed(reason))),
            };
        env.emitter.emit(Event::VerifyFinished {
            task: id.clone(),
            attempt,
            command: command.value.clone(),
            passed: result.success(),
            exit_code: result.code,
            duration_ms: result.duration.as_millis() as u64,
        })?;
        if result.cancelled {
            return Err(EngineError::Cancelled);
        }
        if result.timed_out {
            let reason = verify_timed_out(&command.value, env.options.verify_timeout);
            return Ok(Some(Work::VerifyTimedOut(format!("{reason}\n{}", result.tail))));
        }
        if !result.success() {
            let why = result.ended();
            let hint = if result.code == Some(127) { " (command not found)" } else { "" };
            let mut missing =
                env.options.provision.missing_hint(worktree).map(|h| format!("\n{h}")).unwrap_or_default();
            if let Some(hint) = confined.then(|| crate::sandbox::denial_hint(&denials, &result.tail)).flatten() {
                missing.push_str(&format!("\n{hint}"));
            }
            return Ok(Some(Work::Failed(format!("Verify `{}` {why}{hint}{missing}\n{}", command.value, result.tail))));
        }
    }
    Ok(None)
}

/// Why a Verify command that timed out ends the task: what it looks like (a server, a watch
/// mode: [`plan::long_running`]), what to use instead, and why no other attempt follows.
fn verify_timed_out(command: &str, timeout: Duration) -> String {
    let secs = timeout.as_secs();
    let looks = match plan::long_running(command) {
        Some(found) => format!(
            "it looks like {} (`{}` runs until it is killed); use {} instead, or make it a step for a person in a \
             `checkpoint:human-verify` task",
            found.what, found.part, found.instead
        ),
        None => {
            format!("a Verify command must exit by itself; if it is only slow, raise `--verify-timeout` (now {secs} s)")
        }
    };
    format!(
        "Verify `{command}` did not exit within {secs} s: {looks}. Another attempt would wait as long again, so the task stops here."
    )
}

/// The tree of what an agent that `exited` left in `worktree` (without the files
/// [`AttemptEnv::keep_out`] keeps out), once the user's work tree is found unchanged: else why
/// the attempt fails. The two are independent (one reads the user's work tree, the other stages
/// the lane's worktree), and each reads every file of a large repository, so they run at once.
pub(crate) async fn snapshot(
    env: &AttemptEnv,
    exited: Exited,
    worktree: &Path,
) -> Result<Result<String, String>, EngineError> {
    let lane = Git::new(worktree);
    let (alone, tree) = tokio::join!(exited.check_user_tree(&env.root), lane.snapshot_tree(|path| env.keep_out(path)));
    Ok(match alone {
        Ok(()) => Ok(tree?),
        Err(reason) => Err(reason),
    })
}

/// Runs the task's agent once in `worktree`: builds the prompt, starts the agent and reads its
/// output. [`Exited`] when it finished well (the user's work tree is still to check), else why
/// it failed.
pub(crate) async fn run_agent(
    env: &AttemptEnv,
    task: &plan::Task,
    attempt: u32,
    worktree: &Path,
    failure: Option<&str>,
) -> Result<Result<Exited, String>, EngineError> {
    let id = task.id.to_string();
    let decisions = env.decisions.list();
    let skills = crate::skills::for_task(&env.root, task);
    let in_prompt: &[(String, String)] = if env.agent.takes_system_prompt() { &[] } else { &skills };
    let landed = landed_before(env, task, worktree).await;
    let extras = prompt::Extras { failure, decisions: &decisions, skills: in_prompt, landed: &landed };
    let prompt = prompt::build(&env.plan, task, &extras);
    let model = env.attempt_model(&id, attempt);
    let launch = Launch {
        name: format!("{id}-{attempt}"),
        log_part: "agent".into(),
        task: id,
        attempt,
        role: AgentRole::Task,
        model,
        prompt,
        skills,
        verify_commands: task.verify_commands.iter().map(|c| c.value.clone()).collect(),
    };
    launch_agent(env, worktree, launch).await
}

/// What the tasks `task` waited for landed on the run branch: each one's commit subject and
/// files, in plan order, read from the history of `worktree` (at the attempt's base), where the
/// run's commits carry their task in a trailer. Best effort: a history that cannot be read (a
/// shallow clone on a worker) leaves it out of the prompt.
async fn landed_before(env: &AttemptEnv, task: &plan::Task, worktree: &Path) -> Vec<prompt::Landed> {
    let waited = crate::graph::waits_for(&env.plan, &env.schedule, env.options.schedule, task.id);
    if waited.is_empty() {
        return Vec::new();
    }
    let range = format!("{}..HEAD", env.run_base);
    let args = ["log", "--first-parent", "--no-renames", "--name-only", integrate::LOG_FORMAT, &range];
    let Ok(log) = Git::new(worktree).run(&args).await else { return Vec::new() };
    let mut landed: HashMap<String, prompt::Landed> = HashMap::new();
    for commit in integrate::read_log(&log) {
        if commit.run != env.run_id || commit.task.is_empty() {
            continue; // a gate's fix, or not this run's
        }
        // The log is newest first: a task's newest commit wins (it lands once, but be sure).
        landed.entry(commit.task.clone()).or_insert(prompt::Landed {
            task: commit.task,
            subject: commit.subject,
            files: commit.files,
        });
    }
    waited.iter().filter_map(|id| landed.remove(&id.to_string())).collect()
}

//! `wavecrew worker JOB`: one task attempt inside a scheduler's job (`--backend slurm`).
//!
//! It clones the repository the job names at the attempt's base commit into the node's
//! temporary folder, runs the agent and the Verify commands as a local lane does, and leaves
//! the result in the job's spool folder for the head process: events as they happen, then the
//! agent's work as a git bundle and `result.json` (see `engine::remote`). The clone is removed.

use super::Context;
use super::run::{AgentArgs, build_agent, configured_options, engine_error, provision, with_runtime};
use crate::error::CliError;
use clap::{Args, Parser};
use engine::remote::{AttemptDir, JobResult};
use engine::run::Workspace;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The job's `job.json`, in its spool folder.
    #[arg(value_name = "JOB")]
    pub job: PathBuf,
}

/// The agent flags of the head, as jobs submitted by older wavecrews carry them.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct AgentFlags {
    #[command(flatten)]
    agent: AgentArgs,
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    engine::git::Git::new(dir).run_blocking(args).map(drop).map_err(|error| error.to_string())
}

/// A clone of the job's repository in `dir` that has its base commit.
fn clone_at(job: &engine::remote::Job, dir: &Path) -> Result<(), String> {
    let (repo, base) = (job.repo.as_str(), job.base.as_str());
    let parent = dir.parent().unwrap_or(Path::new("/"));
    let name = dir.display().to_string();
    if Path::new(repo).is_dir() {
        // A path every node sees: share its objects rather than copy them.
        git(parent, &["clone", "--quiet", "--shared", "--no-checkout", repo, &name])?;
    } else {
        git(parent, &["clone", "--quiet", "--no-checkout", repo, &name])?;
        // The head pushed the base commit there for this attempt.
        git(dir, &["fetch", "--quiet", "origin", &engine::remote::base_ref(&job.run, &job.task, job.attempt)])?;
    }
    git(dir, &["cat-file", "-e", &format!("{base}^{{commit}}")])
        .map_err(|_| format!("the clone of {repo} does not have the base commit {base}"))
}

/// The job's agent, as the head resolved it (or, from older heads, its flags resolved here),
/// and the configuration of the clone.
fn worker_agent(
    agent: &serde_json::Value,
    clone: &Path,
) -> Result<(std::sync::Arc<dyn engine::agent::Agent>, crate::config::Config), String> {
    let (_, config) =
        super::run::load_config(clone).map_err(|e| format!("the worker could not read its configuration: {e}"))?;
    let spec = match serde_json::from_value::<engine::settings::AgentSpec>(agent.clone()) {
        Ok(spec) => spec,
        Err(_) => {
            let flags: Vec<String> = serde_json::from_value(agent.clone()).unwrap_or_default();
            let AgentFlags { agent: flags } = AgentFlags::try_parse_from(&flags)
                .map_err(|error| format!("the job's agent flags are not valid: {error}"))?;
            flags
                .agent_spec(&config, None)
                .map_err(|error| format!("the worker could not resolve its agent: {error}"))?
        }
    };
    let agent = build_agent(&spec).map_err(|error| format!("the worker could not resolve its agent: {error}"))?;
    Ok((agent, config))
}

pub fn run(_ctx: &Context, args: &WorkerArgs) -> Result<ExitCode, CliError> {
    let folder = args.job.parent().map(Path::to_owned).unwrap_or_default();
    let spool = AttemptDir(std::path::absolute(&folder).unwrap_or(folder));
    let job = spool.read_job().map_err(|e| CliError::usage(format!("error: {e}")))?;
    let scratch = std::env::temp_dir().join(format!("wavecrew-worker-{}-{}-{}", job.run, job.task, job.attempt));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)
        .map_err(|e| CliError::io(format!("error: could not make {}: {e}", scratch.display())))?;
    let clone = scratch.join("repo");
    let result = match clone_at(&job, &clone) {
        Err(reason) => JobResult::Failed { reason: format!("the worker could not get the repository: {reason}") },
        Ok(()) => match worker_agent(&job.agent, &clone) {
            Err(reason) => JobResult::Failed { reason },
            Ok((agent, config)) => {
                let mut options = configured_options(&config);
                options.agent_timeout = Duration::from_secs(job.agent_timeout_secs.max(1));
                options.verify_timeout = Duration::from_secs(job.verify_timeout_secs.max(1));
                options.escalate = job.escalate.clone();
                options.budgets = job.budgets.clone();
                let (spool, job, scratch) = (spool.clone(), job.clone(), scratch.clone());
                with_runtime(move |cancel| {
                    Box::pin(async move {
                        let mut ws = Workspace::open(&clone).await.map_err(engine_error)?;
                        ws.worktree_root = scratch.join("worktrees");
                        options.provision = provision(&ws, &config).await?;
                        Ok::<_, CliError>(engine::worker::work_remote(&ws, &spool, &job, agent, options, cancel).await)
                    })
                })?
                .unwrap_or_else(|error| JobResult::Failed { reason: error.to_string() })
            }
        },
    };
    let _ = std::fs::remove_dir_all(&scratch);
    spool
        .write_result(&result)
        .map_err(|e| CliError::io(format!("error: could not write {}: {e}", spool.result().display())))?;
    Ok(ExitCode::SUCCESS)
}

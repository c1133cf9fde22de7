//! Where a task attempt's agent and Verify commands run: on this machine (`local`, a lane's
//! worktree), or as a job of a cluster scheduler (`slurm`). Everything around an attempt
//! (scheduling, the journal, commits, checkpoints, gates, the dashboard) is the same for both:
//! a backend gets the attempt's base commit and gives back the tree of the agent's work, or how
//! the attempt ended.
//!
//! A further scheduler (Kubernetes Jobs, Ray jobs) is one more [`Backend`]: submit a job that
//! runs `wavecrew worker <job.json>` with the spool folder mounted, follow it, and read the
//! result the worker leaves there ([`crate::remote`]).

use crate::attempt::Work;
use crate::env::AttemptEnv;
use crate::error::EngineError;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

mod local;
mod slurm;

pub use crate::options::{BackendChoice, SlurmOptions};

/// One attempt to run.
pub(crate) struct AttemptJob<'a> {
    pub(crate) task: &'a plan::Task,
    pub(crate) attempt: u32,
    pub(crate) lane: &'a str,
    /// The lane's worktree (the local backend works there).
    pub(crate) worktree: &'a Path,
    /// The commit the attempt starts from.
    pub(crate) base: &'a str,
    /// Why the previous attempt failed, for the prompt.
    pub(crate) failure: Option<&'a str>,
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, EngineError>> + Send + 'a>>;

/// Where attempts run.
pub(crate) trait Backend: Send + Sync {
    /// Runs the agent and the Verify commands of `job`: the tree of the agent's work when
    /// every Verify command passed, else how the attempt ended.
    fn work<'a>(&'a self, env: &'a AttemptEnv, job: AttemptJob<'a>) -> Boxed<'a, Work>;

    /// Follows an attempt that was running as `job` when the run stopped; returns what it came
    /// to and its base commit.
    fn reattach<'a>(
        &'a self,
        env: &'a AttemptEnv,
        task: &'a plan::Task,
        attempt: u32,
        job: &'a str,
    ) -> Boxed<'a, (Work, String)>;
}

/// The backend for `choice`.
pub(crate) fn make(choice: &BackendChoice) -> Box<dyn Backend> {
    match choice {
        BackendChoice::Local => Box::new(local::Local),
        BackendChoice::Slurm(options) => Box::new(slurm::SlurmBackend::new((**options).clone())),
    }
}

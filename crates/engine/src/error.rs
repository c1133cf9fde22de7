//! [`EngineError`]: why a run could not start or go on. The bottom of the engine: every layer
//! returns it, none of them is imported by it.

use crate::git::GitError;
use crate::journal::JournalError;
use std::path::PathBuf;

/// Why a run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The directory is not in a git repository.
    #[error("`{0}` is not inside a git repository")]
    NotARepo(PathBuf),
    /// The repository has no commit to start from.
    #[error("the repository has no commit yet: commit something first, the run branch starts from HEAD")]
    NoCommit,
    /// Another run is active in this repository.
    #[error(
        "run {run} is already active in this repository (process {pid}); wait for it, or stop it with `wavecrew cancel {run}`"
    )]
    Active {
        /// The active run.
        run: String,
        /// Its process.
        pid: u32,
    },
    /// The run branch exists already.
    #[error(
        "branch `{branch}` already exists: {}delete the branch (`git branch -D {branch}`) to start over",
        resumable.as_ref().map(|run| format!("resume its run with `wavecrew resume {run}`, or ")).unwrap_or_default()
    )]
    BranchExists {
        /// The branch.
        branch: String,
        /// The run that made it, when it did not succeed (and so can be resumed).
        resumable: Option<String>,
    },
    /// No run has this id.
    #[error("no run `{0}` in this repository (`wavecrew runs` lists them)")]
    UnknownRun(String),
    /// The run has nothing left to do.
    #[error("run {0} already succeeded; nothing to resume")]
    Finished(String),
    /// The plan uses something this version cannot run yet.
    #[error("{0}")]
    Unsupported(String),
    /// Git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The journal failed; the run stopped and can be resumed once the cause is fixed.
    #[error("{0}; the run stopped and can be resumed once this is fixed")]
    Journal(#[from] JournalError),
    /// A file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The run was cancelled while a check ran.
    #[error("cancelled")]
    Cancelled,
}

//! The git plumbing a run needs, through the `git` binary.
//!
//! Tasks become commits without touching any work tree of the user's: a lane's worktree is
//! staged and written as a tree (`write-tree`), the commit is made with `commit-tree`, and the
//! run branch moves with a compare-and-swap `update-ref`. When the branch moved meanwhile,
//! `merge-tree --write-tree` merges without a checkout.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use tokio::process::Command;
use tokio::sync::OnceCell;

/// A git failure: the command and what it printed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` could not be started.
    #[error("could not run git: {0}")]
    Spawn(#[from] std::io::Error),
    /// `git` ran and failed.
    #[error("`git {args}` failed: {stderr}")]
    Failed {
        /// The arguments, joined.
        args: String,
        /// What git printed on stderr, trimmed.
        stderr: String,
        /// The exit code.
        code: Option<i32>,
    },
}

/// What a finished `git <args>` printed, trimmed of the final newline, or how it failed.
fn output_of(args: &[&str], output: std::process::Output) -> Result<String, GitError> {
    if output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        if text.ends_with('\n') {
            text.pop();
        }
        Ok(text)
    } else {
        Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            code: output.status.code(),
        })
    }
}

/// The result of merging a task's commit into a branch that moved.
#[derive(Debug, PartialEq, Eq)]
pub enum Merge {
    /// The merged tree.
    Clean(String),
    /// The paths in conflict.
    Conflict(Vec<String>),
}

/// For the commands that write a lane worktree's index (wavecrew's own, never the user's): no
/// checksum of the whole index on each write (git 2.40 and later; older ones ignore it). On a
/// large repository that checksum is a few milliseconds of every `add`, `write-tree` and
/// `checkout`, and only `git fsck` reads it.
const LANE_INDEX: [&str; 2] = ["-c", "index.skipHash=true"];

/// A repository, run through `git -C <dir>`.
#[derive(Clone, Debug)]
pub struct Git {
    dir: PathBuf,
    /// Whether the repository has a committer identity, once asked.
    identity: Arc<OnceCell<bool>>,
}

impl Git {
    /// Git in `dir` (a work tree or a worktree).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Git { dir: dir.into(), identity: Arc::new(OnceCell::new()) }
    }

    /// The directory commands run in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `git -C <dir> <args>`, with no prompt, the C locale, and its output captured.
    fn std_command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new("git");
        command
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::from(self.std_command(args));
        command.kill_on_drop(true);
        command
    }

    /// Runs git and returns its stdout, trimmed of the final newline.
    pub async fn run(&self, args: &[&str]) -> Result<String, GitError> {
        self.run_with_env(args, &[]).await
    }

    /// Runs git with extra environment variables.
    pub async fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Result<String, GitError> {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        output_of(args, command.output().await?)
    }

    /// [`Git::run`], blocking the thread: for the CLI's commands outside a run.
    pub fn run_blocking(&self, args: &[&str]) -> Result<String, GitError> {
        self.run_blocking_with_env(args, &[])
    }

    /// [`Git::run_with_env`], blocking the thread.
    pub fn run_blocking_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Result<String, GitError> {
        let mut command = self.std_command(args);
        command.envs(env.iter().copied());
        output_of(args, command.output()?)
    }

    /// Whether `git` succeeds (for questions such as "does this ref exist").
    pub async fn succeeds(&self, args: &[&str]) -> bool {
        self.command(args).output().await.is_ok_and(|o| o.status.success())
    }

    /// The top of the work tree.
    pub async fn toplevel(&self) -> Result<PathBuf, GitError> {
        self.run(&["rev-parse", "--show-toplevel"]).await.map(PathBuf::from)
    }

    /// The repository's common git directory (shared by all worktrees), absolute.
    pub async fn common_dir(&self) -> Result<PathBuf, GitError> {
        let dir = PathBuf::from(self.run(&["rev-parse", "--git-common-dir"]).await?);
        Ok(if dir.is_absolute() { dir } else { self.dir.join(dir) })
    }

    /// The commit `rev` names.
    pub async fn rev_parse(&self, rev: &str) -> Result<String, GitError> {
        self.run(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")]).await
    }

    /// The branch HEAD is on, or `None` when HEAD is detached.
    pub async fn current_branch(&self) -> Result<Option<String>, GitError> {
        match self.run(&["symbolic-ref", "--quiet", "--short", "HEAD"]).await {
            Ok(branch) => Ok(Some(branch)),
            Err(GitError::Failed { code: Some(1), .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether a local branch exists.
    pub async fn branch_exists(&self, branch: &str) -> bool {
        self.succeeds(&["show-ref", "--verify", "--quiet", &format!("refs/heads/{branch}")]).await
    }

    /// Makes `branch` point at `commit`, only if it does not exist yet.
    pub async fn create_branch(&self, branch: &str, commit: &str) -> Result<(), GitError> {
        let zero = "0000000000000000000000000000000000000000";
        self.run(&["update-ref", &format!("refs/heads/{branch}"), commit, zero]).await.map(drop)
    }

    /// Moves `branch` from `old` to `new`; fails if it no longer points at `old`.
    pub async fn compare_and_swap(&self, branch: &str, new: &str, old: &str) -> Result<(), GitError> {
        self.run(&["update-ref", &format!("refs/heads/{branch}"), new, old]).await.map(drop)
    }

    /// Adds a detached worktree at `path` on `commit`. Twice `--force`: a `git worktree add`
    /// killed half way (a `kill -9` of wavecrew) leaves its path registered as a missing but
    /// *locked* worktree, which `prune` keeps and a single `--force` refuses; the paths are
    /// wavecrew's own, so they are taken over.
    pub async fn add_worktree(&self, path: &Path, commit: &str) -> Result<(), GitError> {
        let path = path.to_string_lossy();
        self.run(&["worktree", "add", "--detach", "--force", "--force", &path, commit]).await.map(drop)
    }

    /// Removes the worktree at `path` (and whatever is in it).
    pub async fn remove_worktree(&self, path: &Path) -> Result<(), GitError> {
        let path = path.to_string_lossy();
        self.run(&["worktree", "remove", "--force", "--force", &path]).await.map(drop)
    }

    /// Forgets worktrees whose folders are gone.
    pub async fn prune_worktrees(&self) -> Result<(), GitError> {
        self.run(&["worktree", "prune"]).await.map(drop)
    }

    /// Resets this worktree (a lane's: its index is wavecrew's) to `commit`: detached HEAD
    /// there, tracked files restored, untracked files removed but ignored ones (build outputs)
    /// kept warm.
    pub async fn reset_to(&self, commit: &str) -> Result<(), GitError> {
        // A forced checkout resets the index and the tracked files (staged new files included).
        self.run(&[LANE_INDEX[0], LANE_INDEX[1], "checkout", "--detach", "--force", commit]).await?;
        self.run(&["clean", "-fd", "--quiet"]).await.map(drop)
    }

    /// Stages everything in this worktree (a lane's: its index is wavecrew's), respecting
    /// `.gitignore`, except new files for which `keep_out` says so (files brought in from the
    /// main tree: secrets must never be committed), and writes it as a tree.
    pub async fn snapshot_tree(&self, keep_out: impl Fn(&Path) -> bool) -> Result<String, GitError> {
        self.run(&[LANE_INDEX[0], LANE_INDEX[1], "add", "--all"]).await?;
        let added = self.run(&["diff", "--cached", "--name-only", "--diff-filter=A", "-z"]).await?;
        let excluded: Vec<&str> = added.split('\0').filter(|p| !p.is_empty() && keep_out(Path::new(p))).collect();
        if !excluded.is_empty() {
            let mut args = vec![LANE_INDEX[0], LANE_INDEX[1], "reset", "--quiet", "--"];
            args.extend(excluded);
            self.run(&args).await?;
        }
        self.run(&[LANE_INDEX[0], LANE_INDEX[1], "write-tree"]).await
    }

    /// The tree of `commit`.
    pub async fn tree_of(&self, commit: &str) -> Result<String, GitError> {
        self.run(&["rev-parse", &format!("{commit}^{{tree}}")]).await
    }

    /// Makes a commit of `tree` with `parent` and `message`, touching no work tree. When the
    /// repository has no identity configured, the commit is authored by `wavecrew`.
    pub async fn commit_tree(&self, tree: &str, parent: &str, message: &str) -> Result<String, GitError> {
        // Asked once: the answer does not change during a run, and every task commits.
        let has_identity = *self.identity.get_or_init(|| self.succeeds(&["config", "user.email"])).await;
        let fallback = [
            ("GIT_AUTHOR_NAME", "wavecrew"),
            ("GIT_AUTHOR_EMAIL", "wavecrew@localhost"),
            ("GIT_COMMITTER_NAME", "wavecrew"),
            ("GIT_COMMITTER_EMAIL", "wavecrew@localhost"),
        ];
        let env: &[(&str, &str)] = if has_identity { &[] } else { &fallback };
        self.run_with_env(&["commit-tree", tree, "-p", parent, "-m", message], env).await
    }

    /// Merges `theirs` (made on `base`) into `ours` without a checkout.
    pub async fn merge_tree(&self, base: &str, ours: &str, theirs: &str) -> Result<Merge, GitError> {
        let merge_base = format!("--merge-base={base}");
        match self.run(&["merge-tree", "--write-tree", "--name-only", "--no-messages", &merge_base, ours, theirs]).await
        {
            Ok(out) => Ok(Merge::Clean(out.lines().next().unwrap_or_default().to_owned())),
            Err(GitError::Failed { code: Some(1), .. }) => {
                // Exit 1 means conflicts; the output is the tree, then the conflicted paths.
                let out = self
                    .command(&["merge-tree", "--write-tree", "--name-only", "--no-messages", &merge_base, ours, theirs])
                    .output()
                    .await?;
                let text = String::from_utf8_lossy(&out.stdout);
                Ok(Merge::Conflict(text.lines().skip(1).filter(|l| !l.is_empty()).map(str::to_owned).collect()))
            }
            Err(error) => Err(error),
        }
    }

    /// Paths changed in this worktree compared with HEAD (staged or not, untracked included,
    /// ignored excluded).
    pub async fn changed_paths(&self) -> Result<Vec<String>, GitError> {
        let out = self.run(&["status", "--porcelain=v1", "-z", "--untracked-files=all"]).await?;
        Ok(out.split('\0').filter(|e| e.len() > 3).map(|e| e[3..].to_owned()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_worktree_whose_add_was_killed_half_way_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Git::new(dir.path().join("repo"));
        std::fs::create_dir(repo.dir()).unwrap();
        repo.run(&["init", "--quiet"]).await.unwrap();
        repo.run_with_env(
            &["commit", "--quiet", "--allow-empty", "-m", "start"],
            &[
                ("GIT_AUTHOR_NAME", "t"),
                ("GIT_AUTHOR_EMAIL", "t@t"),
                ("GIT_COMMITTER_NAME", "t"),
                ("GIT_COMMITTER_EMAIL", "t@t"),
            ],
        )
        .await
        .unwrap();
        let slot = dir.path().join("slot-0");
        repo.add_worktree(&slot, "HEAD").await.unwrap();
        // What a `git worktree add` killed before it finished leaves: the admin entry, locked.
        let path = slot.to_string_lossy();
        repo.run(&["worktree", "lock", "--reason", "initializing", &path]).await.unwrap();
        std::fs::remove_dir_all(&slot).unwrap();
        repo.prune_worktrees().await.unwrap();
        repo.add_worktree(&slot, "HEAD").await.unwrap();
        assert!(slot.join(".git").exists());
    }
}

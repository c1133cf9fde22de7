//! A task attempt that runs somewhere else (a Slurm job on another node): what the head hands
//! the worker, and what the worker hands back, all through one folder of the spool directory
//! (which both see: a shared filesystem).
//!
//! ```text
//! <spool>/<run>/<task>-<attempt>/
//!   job.json       the head: everything the worker needs (repository, base commit, plan, agent)
//!   job.sh, job.log  the Slurm job's script and its output
//!   events.jsonl   the worker: the attempt's events as it goes (agent activity, Verify), one per line
//!   result.bundle  the worker: the attempt's commit (a git bundle on top of the base commit)
//!   result.json    the worker, last and atomically: how the attempt ended
//! ```
//!
//! The worker clones the repository at the base commit, runs the agent and the Verify commands
//! exactly as a local lane does, and commits the tree it snapshotted (the
//! agent's work, taken before Verify ran). The head imports the bundle and makes the task's own
//! commit from that tree, so commits look the same whichever backend ran the attempt, and
//! nothing of the worker's (paths, identity, environment) reaches them.

use crate::events::Event;
use crate::git::{Git, GitError};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The ref a worker's bundle carries.
const RESULT_REF: &str = "refs/wavecrew/result";

/// The ref a head pushes an attempt's base commit to, when workers clone from a git URL.
pub fn base_ref(run: &str, task: &str, attempt: u32) -> String {
    format!("refs/wavecrew/{run}/{task}-{attempt}")
}

/// What the head asks a worker to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The run's id.
    pub run: String,
    /// The task id.
    pub task: String,
    /// The attempt number.
    pub attempt: u32,
    /// Where the worker clones the repository from: a path on the shared filesystem, or a URL.
    pub repo: String,
    /// The commit to work on: the run branch's head when the attempt started.
    pub base: String,
    /// The commit the run started from: the run's commits are `run_base..base`, and the
    /// prompt tells what the tasks this one waited for landed. Empty in jobs written before it
    /// existed.
    #[serde(default)]
    pub run_base: String,
    /// The plan the run runs (its text, as journaled), and its milestone.
    pub plan_text: String,
    /// The milestone id.
    pub milestone: String,
    /// Why the previous attempt failed, for the prompt.
    pub failure: Option<String>,
    /// Decisions taken so far, for the prompt: (task, its summary, the option).
    pub decisions: Vec<(String, String, String)>,
    /// How the worker picks its agent: the head's choice, as the CLI resolves it.
    pub agent: serde_json::Value,
    /// Seconds the agent gets.
    pub agent_timeout_secs: u64,
    /// Seconds each Verify command gets.
    pub verify_timeout_secs: u64,
    /// The run's escalation list: the worker runs the attempt on the model the head journaled.
    #[serde(default)]
    pub escalate: Vec<String>,
    /// The run's budgets: the worker stops its agent over the task's cap.
    #[serde(default)]
    pub budgets: crate::budget::Budgets,
}

/// How a worker's attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum JobResult {
    /// The agent finished and every Verify command passed; the bundle holds `commit`, whose
    /// tree is the agent's work.
    Passed {
        /// The worker's commit (its tree is what counts).
        commit: String,
    },
    /// The attempt failed, and why.
    Failed {
        /// Why, as a local attempt would say it.
        reason: String,
    },
    /// A Verify command did not exit in time: the task fails without another attempt.
    VerifyTimedOut {
        /// Why, as a local attempt would say it.
        reason: String,
    },
    /// The worker was stopped.
    Cancelled,
}

/// The files of one attempt in the spool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptDir(pub PathBuf);

impl AttemptDir {
    /// The attempt's folder: `<spool>/<run>/<task>-<attempt>`.
    pub fn new(spool: &Path, run: &str, task: &str, attempt: u32) -> AttemptDir {
        AttemptDir(spool.join(run).join(format!("{task}-{attempt}")))
    }

    /// `job.json`.
    pub fn job(&self) -> PathBuf {
        self.0.join("job.json")
    }

    /// `events.jsonl`.
    pub fn events(&self) -> PathBuf {
        self.0.join("events.jsonl")
    }

    /// `result.json`.
    pub fn result(&self) -> PathBuf {
        self.0.join("result.json")
    }

    /// `result.bundle`.
    pub fn bundle(&self) -> PathBuf {
        self.0.join("result.bundle")
    }

    /// The Slurm job's output.
    pub fn log(&self) -> PathBuf {
        self.0.join("job.log")
    }

    /// Writes `job.json` (a fresh folder: what a previous try left is removed).
    pub fn write_job(&self, job: &Job) -> std::io::Result<()> {
        if self.0.exists() {
            std::fs::remove_dir_all(&self.0)?;
        }
        std::fs::create_dir_all(&self.0)?;
        write_atomically(&self.job(), &serde_json::to_vec_pretty(job).map_err(std::io::Error::other)?)
    }

    /// Reads `job.json`.
    pub fn read_job(&self) -> Result<Job, String> {
        let bytes = std::fs::read(self.job()).map_err(|e| format!("could not read {}: {e}", self.job().display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a wavecrew job: {e}", self.job().display()))
    }

    /// Writes `result.json`, atomically: the head takes its presence as the end of the attempt.
    pub fn write_result(&self, result: &JobResult) -> std::io::Result<()> {
        write_atomically(&self.result(), &serde_json::to_vec_pretty(result).map_err(std::io::Error::other)?)
    }

    /// `result.json`, once the worker wrote it.
    pub fn read_result(&self) -> Option<Result<JobResult, String>> {
        let bytes = std::fs::read(self.result()).ok()?;
        Some(
            serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a job result: {e}", self.result().display())),
        )
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

/// Appends events to `events.jsonl` (the worker's side).
pub struct EventWriter {
    file: std::sync::Mutex<std::fs::File>,
}

impl EventWriter {
    /// Opens (creates) the file for appending.
    pub fn open(path: &Path) -> std::io::Result<EventWriter> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(EventWriter { file: std::sync::Mutex::new(file) })
    }

    /// Writes one event as a line.
    pub fn write(&self, event: &Event) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&line)?;
        file.flush()
    }
}

/// Reads the events a worker added to `events.jsonl` since the last call (the head's side).
/// Only whole lines are read; a line being written is read next time.
#[derive(Debug, Default)]
pub struct EventReader {
    offset: u64,
}

impl EventReader {
    /// New events of `path`.
    pub fn read_new(&mut self, path: &Path) -> Vec<Event> {
        let Ok(mut file) = std::fs::File::open(path) else { return Vec::new() };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut reader = std::io::BufReader::new(file);
        let mut events = Vec::new();
        let mut line = String::new();
        while let Ok(n) = reader.read_line(&mut line) {
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            self.offset += n as u64;
            if let Ok(event) = serde_json::from_str(line.trim_end()) {
                events.push(event);
            }
            line.clear();
        }
        events
    }
}

/// The worker's side: commits `tree` on top of `base` in its clone and writes the bundle that
/// carries it. Returns the commit.
pub async fn bundle_result(clone: &Git, tree: &str, base: &str, bundle: &Path) -> Result<String, GitError> {
    let commit = clone.commit_tree(tree, base, "wavecrew worker result").await?;
    clone.run(&["update-ref", RESULT_REF, &commit]).await?;
    let bundle = bundle.to_string_lossy();
    // The result commit is new even when the tree did not change, so the bundle is never empty.
    clone.run(&["bundle", "create", "--quiet", &bundle, RESULT_REF, &format!("^{base}")]).await?;
    Ok(commit)
}

/// The head's side: brings the worker's commit into the repository; returns its tree.
pub async fn import_result(repo: &Git, bundle: &Path, commit: &str) -> Result<String, GitError> {
    let bundle = bundle.to_string_lossy();
    repo.run(&["bundle", "unbundle", &bundle]).await?;
    repo.tree_of(commit).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_read_line_by_line_and_a_half_written_line_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let writer = EventWriter::open(&path).unwrap();
        let mut reader = EventReader::default();
        assert!(reader.read_new(&path).is_empty());
        let event =
            Event::AgentExited { task: "1.1".into(), attempt: 1, code: Some(0), timed_out: false, duration_ms: 5 };
        writer.write(&event).unwrap();
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"event\":\"stop").unwrap();
        assert_eq!(reader.read_new(&path), [event]);
        assert!(reader.read_new(&path).is_empty());
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"ping\",\"reason\":\"x\"}\n").unwrap();
        assert_eq!(reader.read_new(&path), [Event::Stopping { reason: "x".into() }]);
    }

    #[tokio::test]
    async fn a_worker_s_tree_reaches_the_head_through_the_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let (head_dir, worker_dir) = (dir.path().join("head"), dir.path().join("worker"));
        let sh = |cwd: &Path, script: &str| {
            let ok = std::process::Command::new("sh").arg("-c").arg(script).current_dir(cwd).status().unwrap();
            assert!(ok.success(), "{script}");
        };
        std::fs::create_dir_all(&head_dir).unwrap();
        sh(&head_dir, "git init -q && git -c user.name=t -c user.email=t@e commit -q --allow-empty -m base");
        sh(dir.path(), "git clone -q --shared head worker");
        let (head, worker) = (Git::new(&head_dir), Git::new(&worker_dir));
        let base = head.rev_parse("HEAD").await.unwrap();
        std::fs::write(worker_dir.join("new.txt"), "from the worker\n").unwrap();
        sh(&worker_dir, "git add -A");
        let tree = worker.run(&["write-tree"]).await.unwrap();
        let bundle = dir.path().join("result.bundle");
        let commit = bundle_result(&worker, &tree, &base, &bundle).await.unwrap();
        assert_eq!(import_result(&head, &bundle, &commit).await.unwrap(), tree);
        assert_eq!(head.run(&["cat-file", "-p", &format!("{tree}:new.txt")]).await.unwrap(), "from the worker");
    }

    #[test]
    fn jobs_and_results_round_trip_through_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let attempt = AttemptDir::new(dir.path(), "r1", "1.1", 2);
        let job = Job {
            run: "r1".into(),
            task: "1.1".into(),
            attempt: 2,
            repo: "/shared/repo".into(),
            base: "abc".into(),
            run_base: "0a1".into(),
            plan_text: "# plan".into(),
            milestone: "M1".into(),
            failure: Some("Verify failed".into()),
            decisions: vec![("1.2".into(), "Pick a database".into(), "SQLite".into())],
            agent: serde_json::json!({"agent": "scripted"}),
            agent_timeout_secs: 60,
            verify_timeout_secs: 30,
            escalate: vec!["haiku".into(), "sonnet".into()],
            budgets: crate::budget::Budgets {
                task: Some(crate::budget::Amount::Tokens(200_000)),
                ..Default::default()
            },
        };
        attempt.write_job(&job).unwrap();
        assert_eq!(attempt.read_job().unwrap(), job);
        assert!(attempt.read_result().is_none());
        attempt.write_result(&JobResult::Failed { reason: "no".into() }).unwrap();
        assert_eq!(attempt.read_result().unwrap().unwrap(), JobResult::Failed { reason: "no".into() });
        // A worker's Verify that timed out ends the task on the submitting side too, not retried.
        let timed_out = JobResult::VerifyTimedOut { reason: "Verify `npm run dev` did not exit".into() };
        attempt.write_result(&timed_out).unwrap();
        assert_eq!(attempt.read_result().unwrap().unwrap(), timed_out);
        std::fs::write(attempt.result(), "{").unwrap();
        assert!(attempt.read_result().unwrap().is_err());
    }
}

//! A scratch git repository in a temporary folder, built from files and commits, and what a
//! run leaves in it: the run branch's commits, the state folder, the run's folder.
//!
//! ```no_run
//! # use testkit::Repo;
//! let repo = Repo::builder()
//!     .file("README.md", "# project\n")
//!     .commit("initial")
//!     .file("plan.md", "# M1 Implementation Plan: Test\n")
//!     .build();
//! assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");
//! ```

use crate::git::{self, git};
use crate::wavecrew::Wavecrew;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// One thing the builder does, in the order it was asked for.
enum Step {
    File(PathBuf, Vec<u8>),
    Commit(String),
}

/// Builds a [`Repo`]: `git init` on `main` with a test identity, then files written and
/// commits made in the order given. Files written after the last commit stay uncommitted.
#[must_use]
pub struct RepoBuilder {
    steps: Vec<Step>,
    wavecrew: Option<Wavecrew>,
}

impl RepoBuilder {
    /// Writes `content` to `path` (relative to the repository's root; folders are made).
    pub fn file(mut self, path: impl AsRef<Path>, content: impl AsRef<[u8]>) -> Self {
        self.steps.push(Step::File(path.as_ref().to_owned(), content.as_ref().to_vec()));
        self
    }

    /// Writes each of `files`, `(path, content)`.
    pub fn files(self, files: &[(&str, &str)]) -> Self {
        files.iter().fold(self, |builder, (path, content)| builder.file(path, content))
    }

    /// Writes the plan to `plan.md`.
    pub fn plan(self, text: &str) -> Self {
        self.file("plan.md", text)
    }

    /// Writes the scripted agent's script (see `engine::double`) to `script.json`.
    pub fn script(self, script: &Value) -> Self {
        self.file("script.json", serde_json::to_string_pretty(script).expect("a script is JSON"))
    }

    /// Commits everything written so far (`git add --all`).
    pub fn commit(mut self, message: &str) -> Self {
        self.steps.push(Step::Commit(message.to_owned()));
        self
    }

    /// Runs `wavecrew` in it: [`Repo::command`], [`Repo::run`] and what builds on them.
    pub fn wavecrew(mut self, wavecrew: Wavecrew) -> Self {
        self.wavecrew = Some(wavecrew);
        self
    }

    /// Makes the repository.
    pub fn build(self) -> Repo {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path();
        git(root, &["init", "--quiet", "--initial-branch=main"]);
        git(root, &["config", "user.name", "Test"]);
        git(root, &["config", "user.email", "test@example.com"]);
        for step in self.steps {
            match step {
                Step::File(path, content) => {
                    let path = root.join(path);
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent).unwrap();
                    }
                    std::fs::write(&path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                }
                Step::Commit(message) => {
                    git(root, &["add", "--all"]);
                    git(root, &["commit", "--quiet", "-m", &message]);
                }
            }
        }
        Repo { dir, wavecrew: self.wavecrew }
    }
}

/// A git repository in a temporary folder, removed when dropped.
pub struct Repo {
    /// The temporary folder: the repository's root.
    pub dir: tempfile::TempDir,
    wavecrew: Option<Wavecrew>,
}

impl Repo {
    /// A builder of an empty repository on `main`.
    pub fn builder() -> RepoBuilder {
        RepoBuilder { steps: Vec::new(), wavecrew: None }
    }

    /// The repository most run tests start from: one commit (`README.md`, and a `.gitignore`
    /// that ignores `ignored/`), then `plan.md` and `script.json` for the scripted agent,
    /// uncommitted; `wavecrew` runs in it.
    pub fn scripted(wavecrew: Wavecrew, plan: &str, script: &Value) -> Repo {
        Repo::builder()
            .file("README.md", "# project\n")
            .file(".gitignore", "ignored/\n")
            .commit("initial")
            .plan(plan)
            .script(script)
            .wavecrew(wavecrew)
            .build()
    }

    /// Its root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `git ARGS` in it (see [`git()`]).
    pub fn git(&self, args: &[&str]) -> String {
        git(self.root(), args)
    }

    /// The commits `branch` has that `main` has not, oldest first, as (task trailer, subject).
    pub fn commits(&self, branch: &str) -> Vec<(String, String)> {
        git::commits(self.root(), &format!("main..{branch}"))
    }

    /// wavecrew's state folder of the repository: journal, run folders.
    pub fn state_dir(&self) -> PathBuf {
        self.root().join(".git/wavecrew")
    }

    /// The folder of the repository's run (the first one the state folder lists: tests that
    /// read it make one run).
    pub fn run_dir(&self) -> PathBuf {
        let runs = self.state_dir().join("runs");
        let mut entries = std::fs::read_dir(&runs).unwrap_or_else(|e| panic!("{}: {e}", runs.display()));
        entries.next().unwrap_or_else(|| panic!("no run in {}", runs.display())).unwrap().path()
    }

    /// The file `name` in `folder` (`prompts`, `answers`, `logs`, or "" for reports) of the
    /// repository's run.
    pub fn run_file(&self, folder: &str, name: &str) -> String {
        let path = self.run_dir().join(folder).join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The `wavecrew` this repository was built with.
    pub fn wavecrew(&self) -> &Wavecrew {
        self.wavecrew.as_ref().expect("this Repo was built without `.wavecrew(…)`: it runs no wavecrew")
    }

    /// `wavecrew ARGS` in it (see [`Wavecrew::command`]).
    pub fn command(&self, args: &[&str]) -> Command {
        self.wavecrew().command(self.root(), args)
    }

    /// `wavecrew run plan.md --agent scripted --script script.json --yes EXTRA`, to its end.
    pub fn run(&self, extra: &[&str]) -> Output {
        self.command(&run_args(extra)).output().unwrap()
    }

    /// [`Repo::run`] in the background, stdout to nowhere and stderr piped.
    pub fn spawn_run(&self, extra: &[&str]) -> Child {
        self.command(&run_args(extra)).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// The newest run's id (`wavecrew runs`), once the run is in the journal (at most 30 s).
    pub fn newest_run(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let output = self.command(&["runs"]).output().unwrap();
            let text = String::from_utf8_lossy(&output.stdout);
            let id = text.lines().next().filter(|l| !l.starts_with("no runs")).and_then(|l| l.split(' ').next());
            if let Some(id) = id {
                return id.to_owned();
            }
            assert!(Instant::now() < deadline, "no run appeared: {}", String::from_utf8_lossy(&output.stderr));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits (at most 30 s) until `task` of the newest run is waiting for a person
    /// (`wavecrew status` says so); returns the run's id.
    pub fn wait_for_checkpoint(&self, task: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = self.command(&["status"]).output().unwrap();
            let text = String::from_utf8_lossy(&status.stdout).into_owned();
            if text.lines().any(|l| l.trim_start().starts_with(task) && l.contains("waiting")) {
                return text.split_whitespace().nth(1).unwrap().trim_end_matches(':').to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "{task} never waited: {text}{}",
                String::from_utf8_lossy(&status.stderr)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `run plan.md --agent scripted --script script.json --yes EXTRA`.
fn run_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes"];
    args.extend_from_slice(extra);
    args
}

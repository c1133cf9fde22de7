//! [`RunLayout`]: a run's folder (`<git dir>/wavecrew/runs/<run>`, or a worker's spool folder)
//! and every path in it (and [`ANSWER_DIR`], the one wavecrew names in a worktree): the attempts' logs, the agents' prompts and answers, the reports. The
//! engine, the CLI and the dashboard name these paths only through it.

use std::path::{Path, PathBuf};

/// Where agents write the answers wavecrew asks for (a gate's review, the truths verifier),
/// relative to their worktree. Never committed: see [`is_answer_scratch`].
pub const ANSWER_DIR: &str = ".wavecrew/review";

/// The folder of the worktree `wavecrew plan`'s agent writes its draft in, the only one it may
/// write ([`crate::planner`]), and the draft there (`{plan_file}` of a command agent).
pub const PLAN_DIR: &str = ".wavecrew-plan";
/// See [`PLAN_DIR`].
pub const PLAN_DRAFT: &str = ".wavecrew-plan/plan.md";

/// Whether `path` (relative to a worktree) is an answer file of [`ANSWER_DIR`]: scratch that
/// never goes into a commit.
pub fn is_answer_scratch(path: &Path) -> bool {
    path.starts_with(ANSWER_DIR)
}

/// A run's folder and the paths in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLayout {
    dir: PathBuf,
}

impl RunLayout {
    /// The folder of run `run` in wavecrew's state folder `state_dir` (`<git dir>/wavecrew`).
    pub fn new(state_dir: &Path, run: &str) -> RunLayout {
        RunLayout { dir: state_dir.join("runs").join(run) }
    }

    /// A folder laid out like a run's: a worker's spool folder for one attempt.
    pub fn at(dir: PathBuf) -> RunLayout {
        RunLayout { dir }
    }

    /// The folder itself: reports go here.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log file of one part of an attempt: `logs/<task>-<attempt>-<part>.log`.
    pub fn log(&self, task: &str, attempt: u32, part: &str) -> PathBuf {
        self.logs().join(format!("{task}-{attempt}-{part}.log"))
    }

    /// The logs' folder.
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// Where the checks of a gate's skill in `round` write their logs: the prefix of their names.
    pub fn gate_logs(&self, task: &str, round: u32, skill: &str) -> PathBuf {
        self.logs().join(format!("{task}-gate{round}-{skill}"))
    }

    /// The log of the setup command run for `task` in the worktree `slot`.
    pub fn setup_log(&self, slot: &str, task: &str) -> PathBuf {
        self.logs().join(format!("{slot}-setup-{task}.log"))
    }

    /// The private temporary folder (`TMPDIR`) of one sandboxed process of an attempt:
    /// `tmp/<name>`, removed when it exits.
    pub fn tmp(&self, name: &str) -> PathBuf {
        self.dir.join("tmp").join(name)
    }

    /// The prompts' folder: `prompts/<name>.md` is what an agent was told.
    pub fn prompts(&self) -> PathBuf {
        self.dir.join("prompts")
    }

    /// The answers' folder: `answers/<name>.json` is what a review or the verifier answered.
    pub fn answers(&self) -> PathBuf {
        self.dir.join("answers")
    }

    /// The log files of a task in this folder, with the attempt (or gate round) each belongs to:
    /// by attempt, the agent's before its Verify commands'. Names that carry no attempt number
    /// (`<task>-gate1-…`) count as attempt 0.
    pub fn task_logs(&self, task: &str) -> Vec<(u32, PathBuf)> {
        let prefix = format!("{task}-");
        let mut files: Vec<(u32, bool, String, PathBuf)> = std::fs::read_dir(self.logs())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| {
                        let name = entry.file_name().to_string_lossy().into_owned();
                        let rest = name.strip_prefix(&prefix)?;
                        let attempt = rest.split('-').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                        Some((attempt, !rest.contains("-agent"), name, entry.path()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.into_iter().map(|(attempt, _, _, path)| (attempt, path)).collect()
    }
}

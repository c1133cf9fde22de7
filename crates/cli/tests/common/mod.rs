//! What the end-to-end tests of `wavecrew run` share: a real git repository in a temporary
//! folder, the real binary, and the scripted agent (the test double `wavecrew agent-double`).
#![allow(dead_code)] // each test binary uses its own part

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn wavecrew_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_wavecrew"))
}

/// wavecrew's state folder for the tests (worktrees go there), outside every test repository.
pub fn test_state_home() -> PathBuf {
    std::env::temp_dir().join("wavecrew-test-state")
}

/// A program that `scripts/install-agent-clis.sh` installed (an agent CLI from npm, or a
/// Python tool in its virtual environment), under `$WAVECREW_AGENT_CLIS`.
pub fn installed(name: &str) -> PathBuf {
    let dir = std::env::var_os("WAVECREW_AGENT_CLIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/agent-clis"));
    // npm packages have their programs in node_modules/.bin, Python virtual environments in bin.
    let npm = dir.join(name).join("node_modules/.bin").join(name);
    let program = if npm.exists() { npm } else { dir.join(name).join("bin").join(name) };
    assert!(
        program.exists(),
        "{} is missing: run scripts/install-agent-clis.sh (scripts/test.sh does)",
        program.display()
    );
    program
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim_end().to_owned()
}

/// A repository with one commit, a plan and a script for the scripted agent.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new(plan: &str, script: &Value) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "--quiet", "--initial-branch=main"]);
        git(root, &["config", "user.name", "Test"]);
        git(root, &["config", "user.email", "test@example.com"]);
        std::fs::write(root.join("README.md"), "# project\n").unwrap();
        std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
        git(root, &["add", "."]);
        git(root, &["commit", "--quiet", "-m", "initial"]);
        std::fs::write(root.join("plan.md"), plan).unwrap();
        std::fs::write(root.join("script.json"), serde_json::to_string_pretty(script).unwrap()).unwrap();
        Repo { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(wavecrew_bin());
        // The user's own configuration stays out of the tests.
        command
            .current_dir(self.root())
            .env("NO_COLOR", "1")
            .env("XDG_CONFIG_HOME", self.root().join(".no-config"))
            .env("XDG_STATE_HOME", test_state_home())
            .args(args);
        command
    }

    /// `wavecrew run plan.md --agent scripted --script script.json --yes ARGS`.
    pub fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec!["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes"];
        args.extend_from_slice(extra);
        self.command(&args).output().unwrap()
    }

    /// `wavecrew run plan.md --agent scripted --script script.json --yes ARGS` in the background,
    /// stderr captured.
    pub fn spawn_run(&self, extra: &[&str]) -> std::process::Child {
        let mut args = vec!["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes"];
        args.extend_from_slice(extra);
        self.command(&args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap()
    }

    /// The run branch's commits, oldest first, as (task trailer, subject).
    pub fn commits(&self, branch: &str) -> Vec<(String, String)> {
        let log = git(
            self.root(),
            &[
                "log",
                "--reverse",
                "--format=%(trailers:key=Wavecrew-Task,valueonly,separator=%x2C)%x00%s",
                &format!("main..{branch}"),
            ],
        );
        log.lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (task, subject) = l.split_once('\0').unwrap_or(("", l));
                (task.trim().to_owned(), subject.to_owned())
            })
            .collect()
    }

    pub fn events(output: &Output) -> Vec<Value> {
        String::from_utf8_lossy(&output.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root().join(".git/wavecrew")
    }
}

/// Waits until `task` of the newest run is waiting for a person (`wavecrew status` says so);
/// returns the run id.
pub fn wait_for_checkpoint(repo: &Repo, task: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = repo.command(&["status"]).output().unwrap();
        let text = String::from_utf8_lossy(&status.stdout).into_owned();
        if text.lines().any(|l| l.trim_start().starts_with(task) && l.contains("waiting")) {
            return text.split_whitespace().nth(1).unwrap().trim_end_matches(':').to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{task} never waited: {text}{}",
            String::from_utf8_lossy(&status.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A wave of a test plan: its number, its clause, and its tasks as (id, Files, Verify).
pub struct Wave {
    pub number: u32,
    pub clause: String,
    pub tasks: Vec<(String, String, String)>,
}

pub fn wave(number: u32, clause: &str, tasks: &[(&str, &str, &str)]) -> Wave {
    let tasks =
        tasks.iter().map(|(id, files, verify)| (id.to_string(), files.to_string(), verify.to_string())).collect();
    Wave { number, clause: clause.to_owned(), tasks }
}

/// A plan of `waves`; each task gets an agent of its own and a commit line.
pub fn plan(waves: &[Wave]) -> String {
    let mut text = String::from("# M1 Implementation Plan: Test\n\n## Context\n\nA test.\n\n## Waves\n\n");
    let mut rows = String::new();
    let mut commits = String::new();
    for Wave { number, clause, tasks } in waves {
        text.push_str(&format!("### Wave {number}: W{number}\n> {clause}\n\n"));
        for (id, files, verify) in tasks {
            text.push_str(&format!(
                "**Task {id}** (type: auto)\n- **Files**: {files}\n- **Action**: Do {id}\n- **Verify**: {verify}\n- **Done**: {id} done\n\n"
            ));
            rows.push_str(&format!("| {number} | Agent {id} | haiku | {id} |\n"));
            commits.push_str(&format!("feat(M1): {{task {id} description}}\n"));
        }
    }
    text.push_str(&format!("## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n{rows}\n"));
    text.push_str(&format!("## Commit Strategy\n\n```\n{commits}```\n"));
    text
}

pub fn write(path: &str, content: &str) -> Value {
    json!({"write": path, "content": content})
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A real single-node Slurm cluster in a temporary folder, started by
/// `scripts/slurm-cluster.sh` (Debian's Slurm; `scripts/test.sh` installs it) and stopped when dropped.
pub struct Cluster {
    pub dir: tempfile::TempDir,
}

impl Cluster {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/slurm-cluster.sh")
    }

    pub fn start() -> Cluster {
        let dir = tempfile::Builder::new().prefix("wavecrew-slurm").tempdir().unwrap();
        let output = Command::new(Self::script()).arg("start").arg(dir.path()).output().unwrap();
        assert!(
            output.status.success(),
            "the test cluster did not start (is Debian's slurmctld installed? `scripts/slurm-cluster.sh install`):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Cluster { dir }
    }

    /// Its `slurm.conf`, for `SLURM_CONF`.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("slurm.conf")
    }

    /// The jobs Slurm holds: (id, name, state).
    pub fn jobs(&self) -> Vec<(u64, String, String)> {
        let output = Command::new("squeue").arg("--json").env("SLURM_CONF", self.conf()).output().unwrap();
        let value: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        value["jobs"]
            .as_array()
            .map(|jobs| {
                jobs.iter()
                    .map(|j| {
                        let state = match &j["job_state"] {
                            Value::Array(states) => states.first().and_then(Value::as_str).unwrap_or("").to_owned(),
                            other => other.as_str().unwrap_or("").to_owned(),
                        };
                        (j["job_id"].as_u64().unwrap_or(0), j["name"].as_str().unwrap_or("").to_owned(), state)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(Self::script()).arg("stop").arg(self.dir.path()).output();
    }
}

/// A child process stopped when the test ends, even when it fails (a run left waiting, a
/// server).
pub struct Stopped(pub std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

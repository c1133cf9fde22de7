//! Programs the tests start and stop: the agent CLIs `scripts/install-agent-clis.sh`
//! installed, runs left in the background, and a real single-node Slurm cluster.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// The repository's root.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A program that `scripts/install-agent-clis.sh` installed (an agent CLI from npm, or a
/// Python tool in its virtual environment), under `$WAVECREW_AGENT_CLIS`.
pub fn installed(name: &str) -> PathBuf {
    let dir = std::env::var_os("WAVECREW_AGENT_CLIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/agent-clis"));
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

/// What a command printed on stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A child process stopped when the test ends, even when it fails (a run left waiting, a
/// server).
pub struct Stopped(pub Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for the process in `child` to end (it is stopped if the test fails first), with the
/// output it was given pipes for.
pub fn finish(mut child: Stopped) -> Output {
    use std::io::Read;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    if let Some(mut pipe) = child.0.stdout.take() {
        pipe.read_to_end(&mut stdout).unwrap();
    }
    if let Some(mut pipe) = child.0.stderr.take() {
        pipe.read_to_end(&mut stderr).unwrap();
    }
    let status = child.0.wait().unwrap();
    Output { status, stdout, stderr }
}

/// A real single-node Slurm cluster in a temporary folder, started by
/// `scripts/slurm-cluster.sh` (Debian's Slurm; `scripts/test.sh` installs it) and stopped when
/// dropped.
pub struct Cluster {
    /// Its folder: configuration, state, logs.
    pub dir: tempfile::TempDir,
}

impl Cluster {
    fn script() -> PathBuf {
        workspace_root().join("scripts/slurm-cluster.sh")
    }

    /// Starts one; panics (failing the test) with the script's stderr when it cannot.
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

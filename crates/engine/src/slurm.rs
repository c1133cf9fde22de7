//! Slurm's client commands, as the `slurm` backend uses them: `sbatch` to submit a task attempt
//! as a job, one `squeue --json` per poll for the state of every job, `scancel`, and `scontrol
//! ping` to tell whether the cluster answers.
//!
//! Facts this rests on (measured on Slurm 22.05, see `docs/scale-out.md`): accounting may be
//! off, so state comes from `squeue --json`, whose `exit_code` is a raw wait status and which
//! lists every job the controller still holds (finished ones for `MinJobAge` seconds); a missing
//! `slurm.conf` makes every command retry for a minute, so it is checked first; `sbatch` runs
//! under a cleared environment with `--export=ALL`, so the job gets exactly the variables given.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// How long one Slurm command may take before wavecrew gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A Slurm job id.
pub type JobId = u64;

/// Why a Slurm command failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmError(pub String);

impl std::fmt::Display for SlurmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SlurmError {}

/// Where and how jobs are submitted.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Slurm {
    /// `--partition`, if not the cluster's default.
    pub partition: Option<String>,
    /// `--cpus-per-task`.
    pub cpus: Option<u32>,
    /// `--mem`, e.g. `4G`.
    pub mem: Option<String>,
    /// More `sbatch` arguments, e.g. `--account=x`.
    pub extra_args: Vec<String>,
    /// The `slurm.conf` the client commands read (`SLURM_CONF`), if not the system's.
    pub conf: Option<PathBuf>,
}

/// One job to submit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// `--job-name`.
    pub name: String,
    /// `--chdir`: made before submitting (Slurm would run the job in /tmp instead).
    pub workdir: PathBuf,
    /// `--output`: its folder is made before submitting (Slurm would fail the job).
    pub output: PathBuf,
    /// `--time`, rounded up to whole minutes (Slurm's smallest unit).
    pub time_limit: Duration,
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// The job's whole environment (besides what Slurm adds: `SLURM_*`, `TMPDIR`, …).
    pub env: Vec<(String, String)>,
}

/// What Slurm says about a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobInfo {
    /// Its id.
    pub id: JobId,
    /// Its name.
    pub name: String,
    /// `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `TIMEOUT`, `CANCELLED`, `NODE_FAIL`, …
    pub state: String,
    /// Why it is in that state (`TimeLimit`, `NonZeroExitCode`, `Resources`, …).
    pub reason: String,
    /// Its exit code, once it exited normally.
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
}

impl JobInfo {
    /// Whether the job will not run (any more).
    pub fn is_final(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING" | "SUSPENDED" | "REQUEUED" | "RESIZING" | "STOPPED"
        )
    }

    /// One line for a person: `TIMEOUT (TimeLimit), killed by signal 15`.
    pub fn describe(&self) -> String {
        let mut text = self.state.clone();
        if !self.reason.is_empty() && self.reason != "None" {
            text.push_str(&format!(" ({})", self.reason));
        }
        match (self.signal, self.exit_code) {
            (Some(signal), _) => text.push_str(&format!(", killed by signal {signal}")),
            (None, Some(code)) if code != 0 => text.push_str(&format!(", exit code {code}")),
            _ => {}
        }
        text
    }
}

/// `(exit code, signal)` of a raw wait status as `squeue --json` gives it: 768 is exit 3, 15
/// is SIGTERM.
pub fn decode_wait_status(status: i64) -> (Option<i32>, Option<i32>) {
    let signal = (status & 0x7f) as i32;
    if signal != 0 { (None, Some(signal)) } else { (Some(((status >> 8) & 0xff) as i32), None) }
}

#[derive(Deserialize)]
struct SqueueJson {
    #[serde(default)]
    errors: Vec<serde_json::Value>,
    #[serde(default)]
    jobs: Vec<SqueueJob>,
}

#[derive(Deserialize)]
struct SqueueJob {
    job_id: JobId,
    #[serde(default)]
    name: String,
    #[serde(default)]
    job_state: serde_json::Value,
    #[serde(default)]
    state_reason: String,
    #[serde(default)]
    exit_code: serde_json::Value,
}

/// The jobs of `squeue --json` output (Slurm 22.05's shape; later versions' `job_state` lists
/// and `exit_code` objects are read too).
pub fn parse_squeue_json(text: &str) -> Result<Vec<JobInfo>, SlurmError> {
    let parsed: SqueueJson = serde_json::from_str(text)
        .map_err(|e| SlurmError(format!("squeue --json printed something that is not its JSON: {e}")))?;
    if let Some(error) = parsed.errors.first() {
        let message = error.get("error").and_then(|e| e.as_str()).unwrap_or("an error");
        let source = error.get("source").and_then(|e| e.as_str()).unwrap_or("squeue");
        return Err(SlurmError(format!("squeue: {source}: {message}")));
    }
    Ok(parsed
        .jobs
        .into_iter()
        .map(|job| {
            let state = match &job.job_state {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(list) => list.first().and_then(|s| s.as_str()).unwrap_or("").to_owned(),
                _ => String::new(),
            };
            let (exit_code, signal) = match &job.exit_code {
                serde_json::Value::Number(n) => decode_wait_status(n.as_i64().unwrap_or(0)),
                serde_json::Value::Object(o) => {
                    let number =
                        |key: &str| o.get(key).and_then(|v| v.get("number").or(Some(v))).and_then(|v| v.as_i64());
                    let signal = o.get("signal").and_then(|s| s.get("id")).and_then(|v| v.get("number").or(Some(v)));
                    (
                        number("return_code").map(|c| c as i32),
                        signal.and_then(|v| v.as_i64()).map(|s| s as i32).filter(|s| *s != 0),
                    )
                }
                _ => (None, None),
            };
            JobInfo { id: job.job_id, name: job.name, state, reason: job.state_reason, exit_code, signal }
        })
        .collect())
}

/// The `--time` value: minutes, rounded up, at least 1.
fn minutes(limit: Duration) -> u64 {
    limit.as_secs().div_ceil(60).max(1)
}

impl Slurm {
    /// The `slurm.conf` given, else `SLURM_CONF` of this process's environment.
    fn conf(&self) -> Option<PathBuf> {
        self.conf.clone().or_else(|| std::env::var_os("SLURM_CONF").map(PathBuf::from))
    }

    /// A client command with `SLURM_CONF` set when it is not the system's.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        if let Some(conf) = self.conf() {
            command.env("SLURM_CONF", conf);
        }
        command.kill_on_drop(true);
        command
    }

    /// The configuration file the commands will read; a missing one makes them retry for a minute.
    fn check_conf(&self) -> Result<(), SlurmError> {
        let conf = self.conf().unwrap_or_else(|| PathBuf::from("/etc/slurm/slurm.conf"));
        if conf.is_file() {
            Ok(())
        } else {
            Err(SlurmError(format!(
                "no Slurm configuration at {}: set SLURM_CONF or [slurm] conf in wavecrew.toml",
                conf.display()
            )))
        }
    }

    async fn output(&self, mut command: Command, what: &str) -> Result<String, SlurmError> {
        self.check_conf()?;
        let run = tokio::time::timeout(COMMAND_TIMEOUT, command.output()).await;
        let output = match run {
            Err(_) => return Err(SlurmError(format!("{what} did not answer within {}s", COMMAND_TIMEOUT.as_secs()))),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SlurmError(format!(
                    "{what}: the Slurm client tools are not installed (Debian: slurm-client)"
                )));
            }
            Ok(Err(e)) => return Err(SlurmError(format!("{what}: {e}"))),
            Ok(Ok(output)) => output,
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(SlurmError(format!("{what} failed: {}", stderr.trim())));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Submits `job`; returns its id.
    pub async fn submit(&self, job: &Submission) -> Result<JobId, SlurmError> {
        let made = |dir: &Path| {
            std::fs::create_dir_all(dir)
                .map_err(|e| SlurmError(format!("could not make {} for the job: {e}", dir.display())))
        };
        made(&job.workdir)?;
        if let Some(parent) = job.output.parent() {
            made(parent)?;
        }
        let mut command = self.command("sbatch");
        command.env_clear().envs(job.env.iter().map(|(k, v)| (k, v)));
        if let Some(conf) = self.conf() {
            command.env("SLURM_CONF", conf);
        }
        command
            .arg("--parsable")
            .arg("--export=ALL")
            .arg(format!("--job-name={}", job.name))
            .arg(format!("--chdir={}", job.workdir.display()))
            .arg(format!("--output={}", job.output.display()))
            .arg(format!("--time={}", minutes(job.time_limit)));
        if let Some(partition) = &self.partition {
            command.arg(format!("--partition={partition}"));
        }
        if let Some(cpus) = self.cpus {
            command.arg(format!("--cpus-per-task={cpus}"));
        }
        if let Some(mem) = &self.mem {
            command.arg(format!("--mem={mem}"));
        }
        command.args(&self.extra_args);
        // The job runs the program directly, no shell in between.
        let script = format!("#!/bin/sh\nexec {}\n", shell_words::join(&job.argv));
        let path = job.workdir.join("job.sh");
        std::fs::write(&path, script).map_err(|e| SlurmError(format!("could not write {}: {e}", path.display())))?;
        command.arg(&path);
        let out = self.output(command, "sbatch").await?;
        // `--parsable` prints `id` or `id;cluster`.
        let id = out.trim().split(';').next().unwrap_or_default();
        id.parse().map_err(|_| SlurmError(format!("sbatch printed `{}`, not a job id", out.trim())))
    }

    /// Every job the controller holds, by id.
    pub async fn jobs(&self) -> Result<HashMap<JobId, JobInfo>, SlurmError> {
        let mut command = self.command("squeue");
        command.arg("--json");
        let out = self.output(command, "squeue --json").await?;
        Ok(parse_squeue_json(&out)?.into_iter().map(|job| (job.id, job)).collect())
    }

    /// Cancels jobs (those already finished are ignored by Slurm).
    pub async fn cancel(&self, ids: &[JobId]) -> Result<(), SlurmError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut command = self.command("scancel");
        command.args(ids.iter().map(ToString::to_string));
        self.output(command, "scancel").await.map(drop)
    }

    /// Whether the controller answers: `Slurmctld(primary) at host is UP`, or why not.
    pub async fn ping(&self) -> Result<String, SlurmError> {
        let mut command = self.command("scontrol");
        command.arg("ping");
        let out = self.output(command, "scontrol ping").await?;
        Ok(out.trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_statuses_decode_to_exit_codes_and_signals() {
        assert_eq!(decode_wait_status(0), (Some(0), None));
        assert_eq!(decode_wait_status(768), (Some(3), None));
        assert_eq!(decode_wait_status(15), (None, Some(15)));
        assert_eq!(decode_wait_status(0x0FB5), (None, Some(53)));
    }

    #[test]
    fn squeue_json_of_slurm_22_05_is_read() {
        let text = r#"{"meta": {}, "errors": [], "jobs": [
            {"job_id": 1, "name": "wavecrew-r1-1.1", "job_state": "FAILED", "state_reason": "NonZeroExitCode",
             "exit_code": 768, "derived_exit_code": 0},
            {"job_id": 2, "name": "wavecrew-r1-1.2", "job_state": "TIMEOUT", "state_reason": "TimeLimit", "exit_code": 15},
            {"job_id": 3, "name": "x", "job_state": "PENDING", "state_reason": "Resources", "exit_code": 0}]}"#;
        let jobs = parse_squeue_json(text).unwrap();
        assert_eq!(jobs[0].describe(), "FAILED (NonZeroExitCode), exit code 3");
        assert_eq!(jobs[1].describe(), "TIMEOUT (TimeLimit), killed by signal 15");
        assert!(jobs[0].is_final() && jobs[1].is_final() && !jobs[2].is_final());
    }

    #[test]
    fn later_shapes_and_errors_are_read_too() {
        let later = r#"{"jobs": [{"job_id": 7, "name": "n", "job_state": ["COMPLETED"], "state_reason": "None",
            "exit_code": {"status": ["SUCCESS"], "return_code": {"set": true, "number": 0},
                          "signal": {"id": {"set": false, "number": 0}}}}]}"#;
        let jobs = parse_squeue_json(later).unwrap();
        assert_eq!((jobs[0].state.as_str(), jobs[0].exit_code, jobs[0].signal), ("COMPLETED", Some(0), None));
        let down = r#"{"errors": [{"error": "Unspecified error", "source": "slurm_load_jobs"}], "jobs": []}"#;
        assert_eq!(parse_squeue_json(down).unwrap_err().0, "squeue: slurm_load_jobs: Unspecified error");
        assert!(parse_squeue_json("squeue: error").is_err());
    }

    #[test]
    fn time_limits_round_up_to_minutes() {
        assert_eq!(minutes(Duration::from_secs(1)), 1);
        assert_eq!(minutes(Duration::from_secs(60)), 1);
        assert_eq!(minutes(Duration::from_secs(61)), 2);
        assert_eq!(minutes(Duration::from_secs(1800)), 30);
    }
}

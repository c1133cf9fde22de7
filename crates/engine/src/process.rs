//! Running a child process the way agents and Verify commands need: in its own process group,
//! stdin from `/dev/null`, output to a capped log file, a timeout and cancellation that end
//! the whole group (SIGTERM, then SIGKILL after a grace period).

pub use nix::sys::signal::Signal;
use nix::sys::signal::{kill, killpg};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::watch;

/// How long a process group gets between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(3);
/// Bytes of output kept in the log file; past that only the tail is kept.
pub const LOG_CAP: u64 = 8 * 1024 * 1024;
/// Bytes of the output's end kept in memory (for failure feedback and the log's tail).
const TAIL: usize = 16 * 1024;
/// Longest line passed to the line callback.
const LINE_CAP: usize = 1024;

/// What to run.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// When set, the process gets only the variables of wavecrew's environment these names or
    /// `PREFIX_*` patterns match (then `env`); when `None`, all of it.
    pub inherit: Option<Vec<String>>,
    /// The working directory.
    pub cwd: PathBuf,
    /// Killed after this long.
    pub timeout: Duration,
    /// Output (stdout and stderr, interleaved) goes here.
    pub log: PathBuf,
    /// When set, the process (and all it starts) may write only where these rules say.
    pub sandbox: Option<crate::sandbox::Rules>,
}

impl Spec {
    /// `sh -c <command>` in `cwd`, with `env` added to wavecrew's environment: how every
    /// command of a plan runs (Verify, Automated, setup, gates' checks).
    pub fn shell(command: &str, cwd: &Path, env: Vec<(String, String)>, timeout: Duration, log: PathBuf) -> Spec {
        Spec {
            program: PathBuf::from("sh"),
            args: vec!["-c".into(), command.to_owned()],
            env,
            inherit: None,
            cwd: cwd.to_owned(),
            timeout,
            log,
            sandbox: None,
        }
    }
}

/// How a process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code, when it exited (not killed by a signal).
    pub code: Option<i32>,
    /// Whether the timeout killed it.
    pub timed_out: bool,
    /// Whether cancellation killed it.
    pub cancelled: bool,
    /// How long it ran.
    pub duration: Duration,
    /// The end of its output.
    pub tail: String,
    /// Bytes of output it wrote in all.
    pub output_bytes: u64,
    /// The lines of its output that show a refused operation, when it ran sandboxed (at most
    /// [`crate::sandbox::REFUSALS_KEPT`]; [`crate::sandbox::denials`] reads them).
    pub refusals: Vec<String>,
}

impl Outcome {
    /// Whether it exited with 0.
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out && !self.cancelled
    }

    /// How it ended, for a message: `timed out`, `exited with code 1`, `exited with a signal`.
    pub fn ended(&self) -> String {
        match (self.timed_out, self.code) {
            (true, _) => "timed out".to_owned(),
            (false, Some(code)) => format!("exited with code {code}"),
            (false, None) => "exited with a signal".to_owned(),
        }
    }
}

/// Sends `signal` to the process group `pgid`; a group that is gone is not an error.
pub fn signal_group(pgid: u32, signal: Signal) {
    if let Ok(pid) = i32::try_from(pgid) {
        let _ = killpg(Pid::from_raw(pid), signal);
    }
}

/// Sends `signal` to process `pid`; a process that is gone is not an error.
pub fn signal_pid(pid: u32, signal: Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// Whether a process group still has a member.
pub fn group_alive(pgid: u32) -> bool {
    i32::try_from(pgid).is_ok_and(|pid| killpg(Pid::from_raw(pid), None).is_ok())
}

/// Ends a process group: SIGTERM, then SIGKILL if it is still there after [`GRACE`].
pub async fn stop_group(pgid: u32) {
    signal_group(pgid, Signal::SIGTERM);
    let deadline = Instant::now() + GRACE;
    while group_alive(pgid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal_group(pgid, Signal::SIGKILL);
}

/// Runs `spec`. `on_spawn` gets the process group id right after the start; `on_line` gets
/// each output line (cut to 1 KiB). Cancellation (the watch turning `true`) ends the group.
pub async fn run(
    spec: &Spec,
    on_spawn: impl FnOnce(u32),
    mut on_line: impl FnMut(&str),
    mut cancel: watch::Receiver<bool>,
) -> std::io::Result<Outcome> {
    let mut refusals = Vec::new();
    let sandboxed = spec.sandbox.is_some();
    let mut on_line = |line: &str| {
        if sandboxed && refusals.len() < crate::sandbox::REFUSALS_KEPT && crate::sandbox::shows_refusal(line) {
            refusals.push(line.to_owned());
        }
        on_line(line);
    };
    if let Some(dir) = spec.log.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut log = tokio::fs::File::create(&spec.log).await?;
    let mut command = Command::new(&spec.program);
    if let Some(patterns) = &spec.inherit {
        command.env_clear();
        command
            .envs(std::env::vars_os().filter(|(name, _)| crate::agent::env_matches(&name.to_string_lossy(), patterns)));
    }
    command
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(rules) = &spec.sandbox {
        crate::sandbox::confine(&mut command, rules).map_err(std::io::Error::other)?;
    }
    let started = Instant::now();
    let mut child = command.spawn()?;
    let pgid = child.id().unwrap_or_default();
    on_spawn(pgid);

    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut sink = Sink::default();
    let (mut out_buf, mut err_buf) = ([0u8; 8192], [0u8; 8192]);
    let deadline = tokio::time::sleep(spec.timeout);
    tokio::pin!(deadline);
    let (mut timed_out, mut cancelled) = (false, *cancel.borrow());
    let mut exit = None;
    if cancelled {
        stop_group(pgid).await;
    }
    loop {
        tokio::select! {
            read = read_some(&mut stdout, &mut out_buf), if stdout.is_some() => match read {
                Some(n) => sink.take(&out_buf[..n], &mut log, &mut on_line).await?,
                None => stdout = None,
            },
            read = read_some(&mut stderr, &mut err_buf), if stderr.is_some() => match read {
                Some(n) => sink.take(&err_buf[..n], &mut log, &mut on_line).await?,
                None => stderr = None,
            },
            status = child.wait(), if exit.is_none() => {
                exit = Some(status?);
                // Children that keep the pipes open would hold us forever: the group goes too.
                signal_group(pgid, Signal::SIGKILL);
            }
            () = &mut deadline, if !timed_out && exit.is_none() => {
                timed_out = true;
                stop_group(pgid).await;
            }
            changed = cancel.changed(), if !cancelled && exit.is_none() => {
                if changed.is_err() || *cancel.borrow() {
                    cancelled = true;
                    stop_group(pgid).await;
                }
            }
        }
        if exit.is_some() && stdout.is_none() && stderr.is_none() {
            break;
        }
    }
    sink.finish(&mut log, &mut on_line).await?;
    let status = exit.unwrap_or_default();
    Ok(Outcome {
        code: status.code(),
        timed_out,
        cancelled,
        duration: started.elapsed(),
        tail: sink.tail_text(),
        output_bytes: sink.total,
        refusals,
    })
}

async fn read_some<R: AsyncRead + Unpin>(reader: &mut Option<R>, buf: &mut [u8]) -> Option<usize> {
    match reader.as_mut()?.read(buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(n),
    }
}

/// Where output goes: the log file up to [`LOG_CAP`], a rolling tail, and lines.
#[derive(Default)]
struct Sink {
    total: u64,
    tail: Vec<u8>,
    line: Vec<u8>,
}

impl Sink {
    async fn take(
        &mut self,
        bytes: &[u8],
        log: &mut tokio::fs::File,
        on_line: &mut impl FnMut(&str),
    ) -> std::io::Result<()> {
        let room = LOG_CAP.saturating_sub(self.total) as usize;
        if room > 0 {
            log.write_all(&bytes[..bytes.len().min(room)]).await?;
        }
        self.total += bytes.len() as u64;
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
        for &byte in bytes {
            if byte == b'\n' {
                on_line(&String::from_utf8_lossy(&self.line));
                self.line.clear();
            } else if self.line.len() < LINE_CAP {
                self.line.push(byte);
            }
        }
        Ok(())
    }

    async fn finish(&mut self, log: &mut tokio::fs::File, on_line: &mut impl FnMut(&str)) -> std::io::Result<()> {
        if !self.line.is_empty() {
            on_line(&String::from_utf8_lossy(&self.line));
            self.line.clear();
        }
        if self.total > LOG_CAP {
            let omitted = self.total - LOG_CAP;
            let tail = self.tail_text();
            log.write_all(
                format!("\n[wavecrew: {omitted} bytes of output omitted; the last {} bytes follow]\n", tail.len())
                    .as_bytes(),
            )
            .await?;
            log.write_all(tail.as_bytes()).await?;
        }
        log.flush().await
    }

    fn tail_text(&self) -> String {
        let start = self.tail.len().saturating_sub(TAIL);
        String::from_utf8_lossy(&self.tail[start..]).into_owned()
    }
}

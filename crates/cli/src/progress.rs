//! Showing a run's progress: one plain line per event, or the events as JSON lines. Both read
//! the engine's event stream; neither looks inside the engine.

use engine::events::{Envelope, Event, RunState};
use std::io::Write;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// The consumer of a run's events.
pub struct Progress {
    handle: JoinHandle<()>,
}

impl Progress {
    /// Starts printing events from `rx` (JSON lines when `json`).
    pub fn spawn(mut rx: broadcast::Receiver<Envelope>, json: bool) -> Progress {
        let handle = tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(envelope) => {
                        let line = if json { serde_json::to_string(&envelope).ok() } else { plain(&envelope) };
                        if let Some(line) = line {
                            // Progress goes to stderr: stdout stays free for `--json` consumers.
                            if json {
                                let _ = writeln!(std::io::stdout().lock(), "{line}");
                            } else {
                                let _ = writeln!(std::io::stderr().lock(), "{line}");
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let _ = writeln!(std::io::stderr().lock(), "({n} events not shown: output too slow)");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Progress { handle }
    }

    /// Waits until every event was shown (the stream ends when the run does).
    pub async fn finish(self) {
        let _ = self.handle.await;
    }
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

/// One line for a person, or nothing for chatter (agent output is in the logs).
fn plain(envelope: &Envelope) -> Option<String> {
    let text = match &envelope.event {
        Event::RunStarted { milestone, title, branch, tasks, lanes, .. } => format!(
            "run {} started: {milestone} · {title}: {} tasks on {} lanes, branch `{branch}`",
            envelope.run,
            tasks.len(),
            lanes.len()
        ),
        Event::RunResumed { committed } => {
            format!("run {} resumed: {} tasks already committed", envelope.run, committed.len())
        }
        Event::AttemptStarted { task, attempt, lane, agent, model, .. } => {
            let model = model.as_deref().map(|m| format!(", {m}")).unwrap_or_default();
            format!("{task:>5}  started (attempt {attempt}) on {lane} [{agent}{model}]")
        }
        Event::AgentExited { task, code, timed_out, duration_ms, .. } => {
            let how = if *timed_out {
                "timed out".to_owned()
            } else {
                code.map_or("was killed".into(), |c| format!("exited {c}"))
            };
            format!("{task:>5}  agent {how} after {}", seconds(*duration_ms))
        }
        Event::VerifyFinished { task, command, passed, duration_ms, .. } => {
            format!(
                "{task:>5}  verify `{command}` {} ({})",
                if *passed { "passed" } else { "FAILED" },
                seconds(*duration_ms)
            )
        }
        Event::TaskCommitted { task, commit, message, .. } => {
            format!("{task:>5}  committed {} {message}", short(commit))
        }
        Event::AttemptFailed { task, attempt, reason } => {
            format!("{task:>5}  attempt {attempt} failed: {}", reason.lines().next().unwrap_or_default())
        }
        Event::TaskFailed { task, attempts, reason } => {
            format!("{task:>5}  FAILED after {attempts} attempts: {}", reason.lines().next().unwrap_or_default())
        }
        Event::TaskSkipped { task, because } => format!("{task:>5}  skipped: task {because} failed"),
        Event::Stopping { reason } => format!("stopping: {reason}"),
        Event::RunFinished { state, committed, failed, skipped, duration_ms } => {
            let state = match state {
                RunState::Succeeded => "succeeded",
                RunState::Failed => "failed",
                RunState::Cancelled => "stopped",
                RunState::Running => "running",
            };
            format!(
                "run {state} in {}: {committed} committed, {failed} failed, {skipped} skipped",
                seconds(*duration_ms)
            )
        }
        Event::AgentSpawned { .. }
        | Event::AgentOutput { .. }
        | Event::VerifyStarted { .. }
        | Event::Integrating { .. } => {
            return None;
        }
    };
    Some(text)
}

//! The server's one follower of the journal: it reads the events that any wavecrew process
//! records and the log lines its agents print, and hands both to every live client.
//!
//! One task per server polls the journal (a cheap indexed query every [`POLL`]) and the log
//! files of the attempts that are running; clients subscribe to a broadcast channel and never
//! touch the database while live. A client that falls behind the channel catches up from the
//! journal by sequence number.

use engine::events::{Envelope, Event, RunState};
use engine::journal::Journal;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// How often the journal and the running attempts' logs are read.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// The longest log line sent to clients; longer lines are cut.
const MAX_LINE: usize = 2_000;

/// At most this many bytes of a log are read per poll, so that a flooding agent cannot
/// starve the others.
const MAX_READ: u64 = 256 * 1024;

/// Something to send to the clients of a run.
#[derive(Debug)]
pub(crate) enum Live {
    /// A journal event, with its JSON.
    Event { envelope: Envelope, json: String },
    /// A line an agent printed.
    Log { run: String, json: String },
}

impl Live {
    pub(crate) fn run(&self) -> &str {
        match self {
            Live::Event { envelope, .. } => &envelope.run,
            Live::Log { run, .. } => run,
        }
    }
}

/// The broadcast end: what live clients subscribe to.
#[derive(Clone)]
pub(crate) struct Hub {
    tx: broadcast::Sender<Arc<Live>>,
    /// The journal cursor up to which every event was handed to the clients.
    passed: Arc<std::sync::atomic::AtomicI64>,
}

impl Hub {
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Live>> {
        self.tx.subscribe()
    }

    /// Waits (at most `limit`) until every event the journal holds at `cursor` was handed to
    /// the clients.
    pub(crate) async fn caught_up(&self, cursor: i64, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.passed.load(std::sync::atomic::Ordering::Acquire) < cursor && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A log file being followed.
struct Tail {
    path: PathBuf,
    offset: u64,
    /// The end of a line not yet finished.
    partial: Vec<u8>,
    task: String,
    attempt: u32,
    /// The attempt ended: read what is left once more, then stop.
    ended: bool,
}

/// Starts following `journal`; the task ends when `stop` turns true.
pub(crate) fn start(
    journal: Arc<Journal>,
    state_dir: PathBuf,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Hub, engine::journal::JournalError> {
    let (tx, _) = broadcast::channel(4096);
    let mut cursor = journal.tail_cursor()?;
    let passed = Arc::new(std::sync::atomic::AtomicI64::new(cursor));
    let hub = Hub { tx: tx.clone(), passed: passed.clone() };
    let mut tails: HashMap<(String, String, u32), Tail> = HashMap::new();
    // Attempts running now: follow their logs from their current end.
    for run in journal.runs()?.into_iter().filter(|r| r.state == RunState::Running) {
        for attempt in journal.running_attempts(&run.id)? {
            let path = log_path(&state_dir, &run.id, &attempt.task, attempt.attempt);
            let offset = std::fs::metadata(&path).map_or(0, |m| m.len());
            let key = (run.id.clone(), attempt.task.clone(), attempt.attempt);
            tails.insert(
                key,
                Tail { path, offset, partial: Vec::new(), task: attempt.task, attempt: attempt.attempt, ended: false },
            );
        }
    }
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(POLL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = stop.changed() => break,
            }
            let reader = journal.clone();
            let read = tokio::task::spawn_blocking(move || reader.tail(cursor, 2_000)).await;
            let Ok(Ok((envelopes, next))) = read else { continue };
            cursor = next;
            for envelope in envelopes {
                follow_logs(&mut tails, &state_dir, &envelope);
                let json = serde_json::to_string(&envelope).unwrap_or_default();
                let _ = tx.send(Arc::new(Live::Event { envelope, json }));
            }
            for ((run, _, _), tail) in tails.iter_mut() {
                for line in read_lines(tail) {
                    let json =
                        serde_json::json!({"task": tail.task, "attempt": tail.attempt, "line": line}).to_string();
                    let _ = tx.send(Arc::new(Live::Log { run: run.clone(), json }));
                }
            }
            tails.retain(|_, tail| !tail.ended);
        }
    });
    Ok(hub)
}

/// The agent log of an attempt.
fn log_path(state_dir: &Path, run: &str, task: &str, attempt: u32) -> PathBuf {
    engine::layout::RunLayout::new(state_dir, run).log(task, attempt, "agent")
}

/// Starts following an attempt's log when it starts; marks it ended when its agent exits.
fn follow_logs(tails: &mut HashMap<(String, String, u32), Tail>, state_dir: &Path, envelope: &Envelope) {
    match &envelope.event {
        Event::AttemptStarted { task, attempt, .. } => {
            let key = (envelope.run.clone(), task.clone(), *attempt);
            let path = log_path(state_dir, &envelope.run, task, *attempt);
            tails.insert(
                key,
                Tail { path, offset: 0, partial: Vec::new(), task: task.clone(), attempt: *attempt, ended: false },
            );
        }
        Event::AgentExited { task, attempt, .. } => {
            if let Some(tail) = tails.get_mut(&(envelope.run.clone(), task.clone(), *attempt)) {
                tail.ended = true;
            }
        }
        Event::RunFinished { .. } => {
            for ((run, _, _), tail) in tails.iter_mut() {
                if *run == envelope.run {
                    tail.ended = true;
                }
            }
        }
        _ => {}
    }
}

/// The whole lines added to a log since the last read (and, once the attempt ended, the
/// unfinished last line too).
fn read_lines(tail: &mut Tail) -> Vec<String> {
    let mut chunk = Vec::new();
    if let Ok(mut file) = std::fs::File::open(&tail.path) {
        let len = file.metadata().map_or(0, |m| m.len());
        if len < tail.offset {
            tail.offset = 0; // the file was replaced
        }
        if len > tail.offset && file.seek(SeekFrom::Start(tail.offset)).is_ok() {
            let _ = file.take(MAX_READ).read_to_end(&mut chunk);
            tail.offset += chunk.len() as u64;
        }
    }
    tail.partial.extend_from_slice(&chunk);
    let mut lines = Vec::new();
    while let Some(end) = tail.partial.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = tail.partial.drain(..=end).collect();
        lines.push(clean(&line[..line.len() - 1]));
    }
    if tail.ended && !tail.partial.is_empty() {
        lines.push(clean(&std::mem::take(&mut tail.partial)));
    }
    if tail.partial.len() > MAX_LINE * 4 {
        lines.push(clean(&std::mem::take(&mut tail.partial)));
    }
    lines
}

/// A log line as text: invalid UTF-8 replaced, carriage returns dropped, cut at [`MAX_LINE`].
pub(crate) fn clean(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches('\r');
    match text.char_indices().nth(MAX_LINE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_whole_and_the_last_one_once_the_attempt_ended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "one\ntw").unwrap();
        let mut tail =
            Tail { path: path.clone(), offset: 0, partial: Vec::new(), task: "1.1".into(), attempt: 1, ended: false };
        assert_eq!(read_lines(&mut tail), ["one"]);
        std::fs::write(&path, "one\ntwo\r\nthr\u{e9}").unwrap();
        assert_eq!(read_lines(&mut tail), ["two"]);
        tail.ended = true;
        assert_eq!(read_lines(&mut tail), ["thr\u{e9}"]);
        assert!(read_lines(&mut tail).is_empty());
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let line = "é".repeat(MAX_LINE + 10);
        let cut = clean(line.as_bytes());
        assert_eq!(cut.chars().count(), MAX_LINE + 1);
        assert!(cut.ends_with('…'));
    }
}

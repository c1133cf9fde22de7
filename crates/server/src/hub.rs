//! The server's one follower of the journal: it reads the events that any wavecrew process
//! records and the log lines its agents print, and hands the pages of each run its room (the
//! state [`snapshot::room`] replays from the journal, in Rust) and the lines as they come.
//!
//! One task per server polls the journal (a cheap indexed query every [`POLL`]) and the log
//! files of the attempts that are running; pages never touch the database while live.
//! - Rooms: for each run that a page watches, the task rebuilds the room after the journal
//!   changed and publishes it on a `watch` channel. A burst of events (twenty agents reporting
//!   at once) makes one room, and a page that falls behind gets the newest one, not every one
//!   between. Rebuilds are spaced by [`REBUILD_GAP`], or by ten times what the last one took,
//!   so that a long run's rebuilds never take more than a tenth of a core.
//! - Lines: what the agents print, and a line on the lane when an attempt starts, its worktree
//!   is ready, its agent reports an error or exits, go to every page on a broadcast channel;
//!   they are not kept (the log files have them).

use crate::snapshot::{self, Audience};
use engine::events::{ActivityKind, Envelope, Event, RunState};
use engine::journal::Journal;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};

/// How often the journal and the running attempts' logs are read.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// The shortest time between two rebuilds of a run's room.
pub const REBUILD_GAP: Duration = Duration::from_millis(100);

/// The longest log line sent to clients; longer lines are cut.
const MAX_LINE: usize = 2_000;

/// At most this many bytes of a log are read per poll, so that a flooding agent cannot
/// starve the others.
const MAX_READ: u64 = 256 * 1024;

/// A line for the pages of a run: something an agent printed, or a mark the lane shows.
#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) run: String,
    /// `{"lane", "task", "attempt", "line"}`, or for a mark `{"lane", "task", "attempt",
    /// "mark": "attempt" | "prepared" | "error" | "exited", ...}`.
    pub(crate) json: String,
}

/// A run's room as the live pages get it.
#[derive(Debug)]
pub(crate) struct Room {
    /// The journal event it is the state after.
    pub(crate) seq: u64,
    /// The room's JSON ([`Audience::Stream`]).
    pub(crate) json: String,
}

/// The newest room of a run, for the pages watching it (`None` until the first is built).
pub(crate) type RoomWatch = watch::Receiver<Option<Arc<Room>>>;

/// A run that pages watch.
struct Watched {
    tx: watch::Sender<Option<Arc<Room>>>,
    /// The journal has events the published room does not show.
    stale: bool,
    /// No rebuild before this.
    next: Instant,
}

/// The broadcast end: what live clients subscribe to.
#[derive(Clone)]
pub(crate) struct Hub {
    tx: broadcast::Sender<Arc<Line>>,
    rooms: Arc<Mutex<HashMap<String, Watched>>>,
    /// The journal cursor up to which every event is in the rooms handed to the clients.
    passed: Arc<std::sync::atomic::AtomicI64>,
}

impl Hub {
    /// The agents' lines, of every run.
    pub(crate) fn lines(&self) -> broadcast::Receiver<Arc<Line>> {
        self.tx.subscribe()
    }

    /// The newest room of `run`, from now until the receiver is dropped; the follower builds
    /// the first one at its next poll.
    pub(crate) fn watch(&self, run: &str) -> RoomWatch {
        let mut rooms = self.rooms.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let watched = rooms.entry(run.to_owned()).or_insert_with(|| Watched {
            tx: watch::Sender::new(None),
            stale: true,
            next: Instant::now(),
        });
        watched.tx.subscribe()
    }

    /// Waits (at most `limit`) until every event the journal holds at `cursor` is in the
    /// rooms handed to the clients.
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
    /// The lane it runs on.
    lane: String,
    /// The attempt ended: read what is left once more, then stop.
    ended: bool,
}

type Tails = HashMap<(String, String, u32), Tail>;

/// Starts following `journal` (and tells `previews` what ends them); the task ends when `stop`
/// turns true.
pub(crate) fn start(
    journal: Arc<Journal>,
    state_dir: PathBuf,
    previews: crate::preview::Previews,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Hub, engine::journal::JournalError> {
    let (tx, _) = broadcast::channel(4096);
    let mut cursor = journal.tail_cursor()?;
    let passed = Arc::new(std::sync::atomic::AtomicI64::new(cursor));
    let hub = Hub { tx: tx.clone(), rooms: Arc::default(), passed: passed.clone() };
    let mut tails = Tails::new();
    // Attempts running now: follow their logs from their current end.
    for run in journal.runs()?.into_iter().filter(|r| r.state == RunState::Running) {
        let lanes: HashMap<String, String> =
            journal.tasks(&run.id)?.into_iter().filter_map(|t| Some((t.task, t.lane?))).collect();
        for attempt in journal.running_attempts(&run.id)? {
            let path = log_path(&state_dir, &run.id, &attempt.task, attempt.attempt);
            let offset = std::fs::metadata(&path).map_or(0, |m| m.len());
            let key = (run.id.clone(), attempt.task.clone(), attempt.attempt);
            let lane = lanes.get(&attempt.task).cloned().unwrap_or_default();
            tails.insert(key, Tail { offset, ..Tail::new(path, attempt.task, attempt.attempt, lane) });
        }
    }
    let rooms = hub.rooms.clone();
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
            let touched: HashSet<&str> = envelopes.iter().map(|e| e.run.as_str()).collect();
            mark_stale(&rooms, &touched);
            for envelope in &envelopes {
                previews.observe(envelope);
                for json in follow_logs(&mut tails, &state_dir, envelope) {
                    let _ = tx.send(Arc::new(Line { run: envelope.run.clone(), json }));
                }
            }
            for ((run, _, _), tail) in tails.iter_mut() {
                for line in read_lines(tail) {
                    let _ = tx.send(Arc::new(Line { run: run.clone(), json: tail.line_json(&line) }));
                }
            }
            tails.retain(|_, tail| !tail.ended);
            if rebuild(&rooms, &journal, &state_dir).await {
                passed.store(cursor, std::sync::atomic::Ordering::Release);
            }
        }
    });
    Ok(hub)
}

/// Marks the watched rooms of the runs that have new events; forgets the runs no page watches.
fn mark_stale(rooms: &Mutex<HashMap<String, Watched>>, touched: &HashSet<&str>) {
    let mut rooms = rooms.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    rooms.retain(|_, watched| watched.tx.receiver_count() > 0);
    for (run, watched) in rooms.iter_mut() {
        if touched.contains(run.as_str()) {
            watched.stale = true;
        }
    }
}

/// Rebuilds and publishes the stale rooms whose gap has passed; says whether every watched
/// room is now up to date.
async fn rebuild(rooms: &Arc<Mutex<HashMap<String, Watched>>>, journal: &Arc<Journal>, state_dir: &Path) -> bool {
    let now = Instant::now();
    let due: Vec<String> = {
        let rooms = rooms.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        rooms.iter().filter(|(_, w)| w.stale && w.next <= now).map(|(run, _)| run.clone()).collect()
    };
    for run in due {
        let (journal, state_dir, id) = (journal.clone(), state_dir.to_owned(), run.clone());
        let began = Instant::now();
        let built = tokio::task::spawn_blocking(move || -> Option<Room> {
            let record = journal.run(&id).ok()??;
            let room = snapshot::room(&journal, &state_dir, &record, Audience::Stream).ok()?;
            Some(Room { seq: room.seq, json: serde_json::to_string(&room).ok()? })
        })
        .await
        .ok()
        .flatten();
        let took = began.elapsed();
        let mut rooms = rooms.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(watched) = rooms.get_mut(&run) {
            // A failed build is tried again after the gap; the pages keep the room they have.
            watched.next = Instant::now() + REBUILD_GAP.max(took * 10);
            if let Some(room) = built {
                watched.stale = false;
                watched.tx.send_replace(Some(Arc::new(room)));
            }
        }
    }
    let rooms = rooms.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    rooms.values().all(|w| !w.stale)
}

impl Tail {
    fn new(path: PathBuf, task: String, attempt: u32, lane: String) -> Tail {
        Tail { path, offset: 0, partial: Vec::new(), task, attempt, lane, ended: false }
    }

    /// A line its agent printed, as the pages get it.
    fn line_json(&self, line: &str) -> String {
        serde_json::json!({"lane": self.lane, "task": self.task, "attempt": self.attempt, "line": line}).to_string()
    }
}

/// The agent log of an attempt.
fn log_path(state_dir: &Path, run: &str, task: &str, attempt: u32) -> PathBuf {
    engine::layout::RunLayout::new(state_dir, run).log(task, attempt, "agent")
}

/// Starts following an attempt's log when it starts; marks it ended when its agent exits.
/// Returns the marks the event puts on its lane's log, as JSON.
fn follow_logs(tails: &mut Tails, state_dir: &Path, envelope: &Envelope) -> Vec<String> {
    let lane_of = |tails: &Tails, task: &str, attempt: u32| {
        tails.get(&(envelope.run.clone(), task.to_owned(), attempt)).map(|t| t.lane.clone())
    };
    let mark = |lane: Option<String>, task: &str, attempt: Option<u32>, fields: serde_json::Value| {
        let mut mark = serde_json::json!({"lane": lane, "task": task, "attempt": attempt});
        if let (Some(mark), serde_json::Value::Object(fields)) = (mark.as_object_mut(), fields) {
            mark.extend(fields);
        }
        mark.to_string()
    };
    match &envelope.event {
        Event::AttemptStarted { task, attempt, lane, .. } => {
            let key = (envelope.run.clone(), task.clone(), *attempt);
            let path = log_path(state_dir, &envelope.run, task, *attempt);
            tails.insert(key, Tail::new(path, task.clone(), *attempt, lane.clone()));
            vec![mark(Some(lane.clone()), task, Some(*attempt), serde_json::json!({"mark": "attempt"}))]
        }
        Event::LanePrepared { task, lane, detail, duration_ms } => vec![mark(
            Some(lane.clone()),
            task,
            None,
            serde_json::json!({"mark": "prepared", "detail": detail, "duration_ms": duration_ms}),
        )],
        Event::AgentActivity { task, attempt, kind, detail, .. } => {
            let is_error = *kind == ActivityKind::Error;
            let lane = lane_of(tails, task, *attempt);
            if is_error && lane.is_some() {
                vec![mark(lane, task, Some(*attempt), serde_json::json!({"mark": "error", "detail": detail}))]
            } else {
                Vec::new()
            }
        }
        Event::AgentExited { task, attempt, code, timed_out, duration_ms } => {
            let lane = lane_of(tails, task, *attempt);
            // What the agent printed last goes before the line saying it exited.
            let mut lines = Vec::new();
            if let Some(tail) = tails.get_mut(&(envelope.run.clone(), task.clone(), *attempt)) {
                tail.ended = true;
                lines.extend(read_lines(tail).into_iter().map(|line| tail.line_json(&line)));
            }
            let fields =
                serde_json::json!({"mark": "exited", "code": code, "timed_out": timed_out, "duration_ms": duration_ms});
            lines.extend(lane.map(|lane| mark(Some(lane), task, Some(*attempt), fields)));
            lines
        }
        Event::BudgetExceeded { task, attempt, cap, spent_usd, tokens } => {
            let lane = lane_of(tails, task, *attempt);
            let spent = cap.show(engine::budget::Cost { usd: *spent_usd, tokens: *tokens });
            let fields = serde_json::json!({"mark": "budget", "cap": cap.to_string(), "spent": spent});
            lane.map(|lane| mark(Some(lane), task, Some(*attempt), fields)).into_iter().collect()
        }
        Event::SandboxDenied { task, attempt, process, operation, path } => {
            let lane = lane_of(tails, task, *attempt);
            // The agent's lines that came before the refusal go first.
            let mut lines = Vec::new();
            if let Some(tail) = tails.get_mut(&(envelope.run.clone(), task.clone(), *attempt)) {
                lines.extend(read_lines(tail).into_iter().map(|line| tail.line_json(&line)));
            }
            let fields =
                serde_json::json!({"mark": "denied", "process": process, "operation": operation, "path": path});
            lines.push(mark(lane, task, Some(*attempt), fields));
            lines
        }
        Event::RunFinished { .. } => {
            for ((run, _, _), tail) in tails.iter_mut() {
                if *run == envelope.run {
                    tail.ended = true;
                }
            }
            Vec::new()
        }
        _ => Vec::new(),
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
        let mut tail = Tail::new(path.clone(), "1.1".into(), 1, "A".into());
        assert_eq!(read_lines(&mut tail), ["one"]);
        std::fs::write(&path, "one\ntwo\r\nthr\u{e9}").unwrap();
        assert_eq!(read_lines(&mut tail), ["two"]);
        tail.ended = true;
        assert_eq!(read_lines(&mut tail), ["thr\u{e9}"]);
        assert!(read_lines(&mut tail).is_empty());
    }

    #[test]
    fn an_attempt_s_lines_are_on_its_lane_between_its_start_and_its_exit() {
        let state = tempfile::tempdir().unwrap();
        let mut tails = Tails::new();
        let envelope = |seq, event| Envelope { run: "r1".into(), seq, at_ms: 0, event };
        let started = Event::AttemptStarted {
            task: "1.1".into(),
            attempt: 1,
            lane: "Worker A".into(),
            agent: "scripted".into(),
            model: None,
            worktree: "w".into(),
            base: "b".into(),
            role: None,
        };
        let marks = follow_logs(&mut tails, state.path(), &envelope(1, started));
        let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        assert_eq!(
            marks.iter().map(|m| json(m)).collect::<Vec<_>>(),
            [serde_json::json!({"lane": "Worker A", "task": "1.1", "attempt": 1, "mark": "attempt"})]
        );
        // Stopped over its task's budget: said on its lane, in the budget's unit.
        let over = Event::BudgetExceeded {
            task: "1.1".into(),
            attempt: 1,
            cap: engine::budget::Amount::Usd(0.5),
            spent_usd: 0.6,
            tokens: 2200,
        };
        let marks = follow_logs(&mut tails, state.path(), &envelope(2, over));
        assert_eq!(
            marks.iter().map(|m| json(m)).collect::<Vec<_>>(),
            [
                serde_json::json!({"lane": "Worker A", "task": "1.1", "attempt": 1, "mark": "budget", "cap": "$0.50", "spent": "$0.6000"})
            ]
        );
        // The agent printed and exited within one poll: its lines come before its exit.
        let path = log_path(state.path(), "r1", "1.1", 1);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "done\nno newline").unwrap();
        let exited =
            Event::AgentExited { task: "1.1".into(), attempt: 1, code: Some(0), timed_out: false, duration_ms: 5 };
        let lines: Vec<_> =
            follow_logs(&mut tails, state.path(), &envelope(2, exited)).iter().map(|m| json(m)).collect();
        assert_eq!(
            lines,
            [
                serde_json::json!({"lane": "Worker A", "task": "1.1", "attempt": 1, "line": "done"}),
                serde_json::json!({"lane": "Worker A", "task": "1.1", "attempt": 1, "line": "no newline"}),
                serde_json::json!({"lane": "Worker A", "task": "1.1", "attempt": 1, "mark": "exited", "code": 0, "timed_out": false, "duration_ms": 5}),
            ]
        );
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let line = "é".repeat(MAX_LINE + 10);
        let cut = clean(line.as_bytes());
        assert_eq!(cut.chars().count(), MAX_LINE + 1);
        assert!(cut.ends_with('…'));
    }
}

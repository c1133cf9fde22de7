//! The journal: every state change of every run, in an embedded SQLite database.
//!
//! The engine records an event before it acts on it ([`Journal::record`] applies the event to
//! the run, task and attempt tables and appends it to the event log, in one transaction), so
//! after a crash at any instant `resume` finds what was intended and asks git what happened.
//! The database lives in the repository's git directory (`.git/wavecrew/journal.sqlite`), in
//! WAL mode with full sync: a committed transaction survives a power loss.

use crate::events::{AnswerKind, CandidateVerdict, Envelope, Event, RunState, TaskState};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A journal failure, with the database's path.
#[derive(Debug, thiserror::Error)]
#[error("journal {}: {source}{}", path.display(), hint(source))]
pub struct JournalError {
    path: PathBuf,
    #[source]
    source: rusqlite::Error,
}

impl JournalError {
    /// A file that stands in for the journal (a worker's `events.jsonl`) could not be written.
    pub(crate) fn io(path: &Path, error: std::io::Error) -> JournalError {
        JournalError { path: path.to_owned(), source: rusqlite::Error::ToSqlConversionFailure(Box::new(error)) }
    }
}

/// What a person can do about a storage error.
fn hint(error: &rusqlite::Error) -> &'static str {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure) => {
            " (is the disk full, or a file size limit reached?)"
        }
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::PermissionDenied) => {
            " (the repository's .git folder is not writable)"
        }
        _ => "",
    }
}

type Result<T> = std::result::Result<T, JournalError>;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A run as the journal keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    /// The run's id, e.g. `20261127-041502-3f9a`.
    pub id: String,
    /// The plan file as given.
    pub plan_path: String,
    /// SHA-256 of the plan's bytes.
    pub plan_hash: String,
    /// The plan's text, so that `resume` runs exactly what was started.
    pub plan_text: String,
    /// The milestone id.
    pub milestone: String,
    /// The plan's title.
    pub title: String,
    /// The run branch, `wavecrew/<milestone>`.
    pub branch: String,
    /// The commit the branch was made from.
    pub base: String,
    /// Where the run is: `running` also for an interrupted run.
    pub state: RunState,
    /// When it started.
    pub started_ms: u64,
    /// When it ended, if it did.
    pub finished_ms: Option<u64>,
    /// The process that runs it (or ran it last).
    pub pid: u32,
    /// How the run was started, as versioned JSON ([`crate::settings::RunSettings`]); older
    /// wavecrews wrote other text here (see [`RunRecord::settings`]).
    pub options: String,
}

impl RunRecord {
    /// How the run was started, when the wavecrew that started it recorded it.
    pub fn settings(&self) -> crate::settings::Recorded {
        crate::settings::RunSettings::from_json(&self.options)
    }
}

/// A task's row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TaskRecord {
    /// The task id, e.g. `2.1`.
    pub task: String,
    /// Where the task is.
    pub state: TaskState,
    /// Attempts made so far.
    pub attempts: u32,
    /// The lane of its last attempt.
    pub lane: Option<String>,
    /// Its commit on the run branch, once committed.
    pub commit: Option<String>,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
}

/// What a list of runs shows of each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunTotals {
    /// Its tasks.
    pub tasks: usize,
    /// Of which committed.
    pub committed: usize,
    /// When its last event was recorded.
    pub last_event_ms: Option<u64>,
    /// What its agents cost, when any reported it.
    pub cost_usd: Option<f64>,
}

/// An attempt's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The task id.
    pub task: String,
    /// 1, 2, …
    pub attempt: u32,
    /// The lane's worktree.
    pub worktree: String,
    /// The agent's process group, once spawned.
    pub pid: Option<u32>,
    /// `running`, `committed`, `failed`.
    pub state: String,
    /// The scheduler's job that runs it (`--backend slurm`), once submitted.
    pub job: Option<String>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, plan_path TEXT NOT NULL, plan_hash TEXT NOT NULL, plan_text TEXT NOT NULL,
    milestone TEXT NOT NULL, title TEXT NOT NULL, branch TEXT NOT NULL, base TEXT NOT NULL,
    state TEXT NOT NULL, started_ms INTEGER NOT NULL, finished_ms INTEGER, pid INTEGER NOT NULL,
    options TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    run_id TEXT NOT NULL, task TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    lane TEXT, commit_hash TEXT, reason TEXT, PRIMARY KEY (run_id, task)
);
CREATE TABLE IF NOT EXISTS attempts (
    run_id TEXT NOT NULL, task TEXT NOT NULL, attempt INTEGER NOT NULL, lane TEXT NOT NULL,
    worktree TEXT NOT NULL, base TEXT NOT NULL, pid INTEGER, state TEXT NOT NULL,
    exit_code INTEGER, commit_hash TEXT, started_ms INTEGER NOT NULL, finished_ms INTEGER, job TEXT,
    PRIMARY KEY (run_id, task, attempt)
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
    task TEXT, body TEXT NOT NULL, PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS consents (plan_hash TEXT PRIMARY KEY, granted_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    run_id TEXT NOT NULL, task TEXT NOT NULL, answer TEXT NOT NULL, detail TEXT,
    given_ms INTEGER NOT NULL, taken INTEGER NOT NULL DEFAULT 0
);
";

/// The journal of one repository.
pub struct Journal {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Journal {
    /// Opens (or creates) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal> {
        let fail = |source| JournalError { path: path.to_owned(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        }
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(fail)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        // Journals made before the Slurm backend have no `attempts.job` column.
        let has_job: bool = conn
            .query_row("SELECT COUNT(*) FROM pragma_table_info('attempts') WHERE name = 'job'", [], |r| r.get(0))
            .map_err(fail)?;
        if !has_job {
            match conn.execute_batch("ALTER TABLE attempts ADD COLUMN job TEXT") {
                // Another process opening the same old journal may have added it first.
                Err(error) if error.to_string().contains("duplicate column name") => {}
                result => result.map_err(fail)?,
            }
        }
        Ok(Journal { path: path.to_owned(), conn: Mutex::new(conn) })
    }

    /// Where the database is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut conn).map_err(|source| JournalError { path: self.path.clone(), source })
    }

    /// Records a new run and its tasks, all pending.
    pub fn create_run(&self, run: &RunRecord, tasks: &[String]) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO runs (id, plan_path, plan_hash, plan_text, milestone, title, branch, base, state, started_ms, finished_ms, pid, options)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    run.id, run.plan_path, run.plan_hash, run.plan_text, run.milestone, run.title, run.branch,
                    run.base, run.state.as_str(), run.started_ms as i64, run.finished_ms.map(|m| m as i64), run.pid, run.options
                ],
            )?;
            for task in tasks {
                tx.execute("INSERT INTO tasks (run_id, task, state) VALUES (?1, ?2, 'pending')", params![run.id, task])?;
            }
            tx.commit()
        })
    }

    /// Records `event` of `run` and applies it to the state tables, in one transaction.
    /// Returns the event with its sequence number and time.
    pub fn record(&self, run: &str, event: Event) -> Result<Envelope> {
        let at_ms = now_ms();
        self.with(|conn| {
            let tx = conn.transaction()?;
            let seq: i64 =
                tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE run_id = ?1", [run], |r| r.get(0))?;
            let body = serde_json::to_string(&event).unwrap_or_default();
            tx.execute(
                "INSERT INTO events (run_id, seq, at_ms, kind, task, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![run, seq, at_ms as i64, event.kind(), event.task(), body],
            )?;
            apply(&tx, run, &event, at_ms)?;
            tx.commit()?;
            Ok(Envelope { run: run.to_owned(), seq: seq as u64, at_ms, event })
        })
    }

    /// The run with `id`.
    pub fn run(&self, id: &str) -> Result<Option<RunRecord>> {
        self.with(|conn| conn.query_row("SELECT * FROM runs WHERE id = ?1", [id], run_row).optional())
    }

    /// Every run, newest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        self.with(|conn| {
            let mut statement = conn.prepare("SELECT * FROM runs ORDER BY started_ms DESC, id DESC")?;
            statement.query_map([], run_row)?.collect()
        })
    }

    /// The tasks of `run`, in plan order of insertion.
    pub fn tasks(&self, run: &str) -> Result<Vec<TaskRecord>> {
        self.with(|conn| {
            let mut statement = conn.prepare(
                "SELECT task, state, attempts, lane, commit_hash, reason FROM tasks WHERE run_id = ?1 ORDER BY rowid",
            )?;
            statement
                .query_map([run], |r| {
                    Ok(TaskRecord {
                        task: r.get(0)?,
                        state: TaskState::parse(&r.get::<_, String>(1)?).unwrap_or(TaskState::Pending),
                        attempts: r.get(2)?,
                        lane: r.get(3)?,
                        commit: r.get(4)?,
                        reason: r.get(5)?,
                    })
                })?
                .collect()
        })
    }

    /// Attempts of `run` still marked running (their process may be alive).
    pub fn running_attempts(&self, run: &str) -> Result<Vec<AttemptRecord>> {
        self.with(|conn| {
            let mut statement = conn.prepare(
                "SELECT task, attempt, worktree, pid, state, job FROM attempts WHERE run_id = ?1 AND state = 'running' ORDER BY rowid",
            )?;
            statement
                .query_map([run], |r| {
                    Ok(AttemptRecord {
                        task: r.get(0)?,
                        attempt: r.get(1)?,
                        worktree: r.get(2)?,
                        pid: r.get(3)?,
                        state: r.get(4)?,
                        job: r.get(5)?,
                    })
                })?
                .collect()
        })
    }

    /// Events of `run` after sequence number `after`, in order.
    pub fn events(&self, run: &str, after: u64) -> Result<Vec<Envelope>> {
        self.with(|conn| {
            let mut statement =
                conn.prepare("SELECT seq, at_ms, body FROM events WHERE run_id = ?1 AND seq > ?2 ORDER BY seq")?;
            let rows = statement.query_map(params![run, after as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, at_ms, body) = row?;
                if let Ok(event) = serde_json::from_str(&body) {
                    out.push(Envelope { run: run.to_owned(), seq: seq as u64, at_ms: at_ms as u64, event });
                }
            }
            Ok(out)
        })
    }

    /// Events of every run recorded after `cursor` (at most `limit`), in the order they were
    /// recorded, with the cursor to pass next time. Start from [`Journal::tail_cursor`] to follow
    /// the journal from now on: this is how a process sees the events of runs that another
    /// process runs.
    pub fn tail(&self, cursor: i64, limit: usize) -> Result<(Vec<Envelope>, i64)> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT rowid, run_id, seq, at_ms, body FROM events WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            )?;
            let rows = statement.query_map(params![cursor, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            let mut next = cursor;
            for row in rows {
                let (rowid, run, seq, at_ms, body) = row?;
                next = rowid;
                if let Ok(event) = serde_json::from_str(&body) {
                    out.push(Envelope { run, seq: seq as u64, at_ms: at_ms as u64, event });
                }
            }
            Ok((out, next))
        })
    }

    /// The cursor of the newest event, for [`Journal::tail`].
    pub fn tail_cursor(&self) -> Result<i64> {
        self.with(|conn| conn.query_row("SELECT COALESCE(MAX(rowid), 0) FROM events", [], |r| r.get(0)))
    }

    /// Totals of every run, by id, from the state tables and one pass of SQL over the usage
    /// events (no event is decoded here): what a list of runs shows.
    pub fn run_totals(&self) -> Result<std::collections::HashMap<String, RunTotals>> {
        self.with(|conn| {
            let mut totals: std::collections::HashMap<String, RunTotals> = std::collections::HashMap::new();
            let mut tasks =
                conn.prepare_cached("SELECT run_id, COUNT(*), SUM(state = 'committed') FROM tasks GROUP BY run_id")?;
            for row in
                tasks.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))?
            {
                let (run, total, done) = row?;
                let entry = totals.entry(run).or_default();
                entry.tasks = total as usize;
                entry.committed = done as usize;
            }
            let mut events = conn.prepare_cached(
                "SELECT run_id, MAX(at_ms),
                        SUM(CASE WHEN kind = 'agent_activity' AND json_extract(body, '$.kind') = 'usage'
                                 THEN json_extract(body, '$.cost_usd') END)
                 FROM events GROUP BY run_id",
            )?;
            for row in events.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, Option<f64>>(2)?))
            })? {
                let (run, last, cost) = row?;
                let entry = totals.entry(run).or_default();
                entry.last_event_ms = last.map(|m| m as u64);
                entry.cost_usd = cost;
            }
            Ok(totals)
        })
    }

    /// Sets who runs `run` now and marks it running again (on resume).
    pub fn claim(&self, run: &str, pid: u32) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE runs SET pid = ?2, state = 'running', finished_ms = NULL WHERE id = ?1",
                params![run, pid],
            )
            .map(drop)
        })
    }

    /// Replaces the record of how `run` goes on (its [`crate::settings::RunSettings`]), on resume.
    pub fn set_options(&self, run: &str, options: &str) -> Result<()> {
        self.with(|conn| conn.execute("UPDATE runs SET options = ?2 WHERE id = ?1", params![run, options]).map(drop))
    }

    /// US dollars the agents of `run` cost so far (reported by them, or priced by the run).
    pub fn spent_usd(&self, run: &str) -> Result<f64> {
        self.with(|conn| {
            conn.query_row(
                "SELECT COALESCE(SUM(json_extract(body, '$.cost_usd')), 0.0) FROM events
                 WHERE run_id = ?1 AND kind = 'agent_activity' AND json_extract(body, '$.kind') = 'usage'",
                [run],
                |r| r.get(0),
            )
        })
    }

    /// Puts a task back to pending (on resume, for work that did not land).
    pub fn reset_task(&self, run: &str, task: &str) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE tasks SET state = 'pending', reason = NULL WHERE run_id = ?1 AND task = ?2",
                params![run, task],
            )?;
            tx.execute(
                "UPDATE attempts SET state = 'abandoned' WHERE run_id = ?1 AND task = ?2 AND state = 'running'",
                params![run, task],
            )?;
            tx.commit()
        })
    }

    /// Records a person's answer to a waiting checkpoint.
    pub fn answer(&self, run: &str, task: &str, answer: &AnswerKind, detail: Option<&str>) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO answers (run_id, task, answer, detail, given_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run, task, answer.as_str(), detail, now_ms() as i64],
            )
            .map(drop)
        })
    }

    /// The oldest answer not yet taken for a checkpoint, marked taken (an answer this version
    /// does not know is [`AnswerKind::Unknown`]: no checkpoint takes it).
    pub fn take_answer(&self, run: &str, task: &str) -> Result<Option<(AnswerKind, Option<String>)>> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let row: Option<(i64, String, Option<String>)> = tx
                .query_row(
                    "SELECT rowid, answer, detail FROM answers WHERE run_id = ?1 AND task = ?2 AND taken = 0 ORDER BY rowid LIMIT 1",
                    params![run, task],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            if let Some((rowid, _, _)) = &row {
                tx.execute("UPDATE answers SET taken = 1 WHERE rowid = ?1", [rowid])?;
            }
            tx.commit()?;
            Ok(row.map(|(_, answer, detail)| (AnswerKind::parse(&answer), detail)))
        })
    }

    /// The change a waiting human-verify checkpoint asks about (its last attempt's commit).
    pub fn waiting_commit(&self, run: &str, task: &str) -> Result<Option<String>> {
        self.with(|conn| {
            conn.query_row(
                "SELECT commit_hash FROM attempts WHERE run_id = ?1 AND task = ?2 ORDER BY attempt DESC LIMIT 1",
                params![run, task],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
        })
    }

    /// Whether the plan with this hash was agreed to run its commands.
    pub fn consented(&self, plan_hash: &str) -> Result<bool> {
        self.with(|conn| {
            conn.query_row("SELECT 1 FROM consents WHERE plan_hash = ?1", [plan_hash], |_| Ok(()))
                .optional()
                .map(|r| r.is_some())
        })
    }

    /// Remembers that the plan with this hash may run its commands.
    pub fn consent(&self, plan_hash: &str) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT OR IGNORE INTO consents (plan_hash, granted_ms) VALUES (?1, ?2)",
                params![plan_hash, now_ms() as i64],
            )
            .map(drop)
        })
    }
}

fn run_row(r: &rusqlite::Row) -> rusqlite::Result<RunRecord> {
    let state: String = r.get("state")?;
    Ok(RunRecord {
        id: r.get("id")?,
        plan_path: r.get("plan_path")?,
        plan_hash: r.get("plan_hash")?,
        plan_text: r.get("plan_text")?,
        milestone: r.get("milestone")?,
        title: r.get("title")?,
        branch: r.get("branch")?,
        base: r.get("base")?,
        state: match state.as_str() {
            "succeeded" => RunState::Succeeded,
            "failed" => RunState::Failed,
            "cancelled" => RunState::Cancelled,
            _ => RunState::Running,
        },
        started_ms: r.get::<_, i64>("started_ms")? as u64,
        finished_ms: r.get::<_, Option<i64>>("finished_ms")?.map(|m| m as u64),
        pid: r.get("pid")?,
        options: r.get("options")?,
    })
}

/// Applies an event to the state tables.
fn apply(tx: &rusqlite::Transaction, run: &str, event: &Event, at_ms: u64) -> rusqlite::Result<()> {
    let set_task = |task: &str, state: TaskState| {
        tx.execute("UPDATE tasks SET state = ?3 WHERE run_id = ?1 AND task = ?2", params![run, task, state.as_str()])
            .map(drop)
    };
    match event {
        Event::AttemptStarted { task, attempt, lane, worktree, base, .. } => {
            tx.execute(
                // MAX: a best-of task's candidates start at once, in any order.
                "UPDATE tasks SET state = 'running', attempts = MAX(attempts, ?3), lane = ?4 WHERE run_id = ?1 AND task = ?2",
                params![run, task, attempt, lane],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO attempts (run_id, task, attempt, lane, worktree, base, state, started_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7)",
                params![run, task, attempt, lane, worktree, base, at_ms as i64],
            )?;
        }
        Event::JobSubmitted { task, attempt, job, .. } => {
            tx.execute(
                "UPDATE attempts SET job = ?4 WHERE run_id = ?1 AND task = ?2 AND attempt = ?3",
                params![run, task, attempt, job],
            )?;
        }
        Event::AgentSpawned { task, attempt, pid } => {
            tx.execute(
                "UPDATE attempts SET pid = ?4 WHERE run_id = ?1 AND task = ?2 AND attempt = ?3",
                params![run, task, attempt, pid],
            )?;
        }
        Event::AgentExited { task, attempt, code, .. } => {
            // Its process group is gone: `resume` must not signal that id, which may be reused.
            tx.execute(
                "UPDATE attempts SET exit_code = ?4, pid = NULL WHERE run_id = ?1 AND task = ?2 AND attempt = ?3",
                params![run, task, attempt, code],
            )?;
        }
        Event::VerifyStarted { task, .. } | Event::GateChecked { task, .. } => set_task(task, TaskState::Verifying)?,
        // Answered: the task goes on (to its commit, or back to its agent).
        Event::CheckpointAnswered { task, .. } => set_task(task, TaskState::Running)?,
        Event::CheckpointWaiting { task, commit, .. } => {
            set_task(task, TaskState::Waiting)?;
            if let Some(commit) = commit {
                tx.execute(
                    "UPDATE attempts SET commit_hash = ?3 WHERE run_id = ?1 AND task = ?2 AND attempt = (SELECT MAX(attempt) FROM attempts WHERE run_id = ?1 AND task = ?2)",
                    params![run, task, commit],
                )?;
            }
        }
        Event::Integrating { task, attempt, commit } => {
            set_task(task, TaskState::Integrating)?;
            tx.execute(
                "UPDATE attempts SET commit_hash = ?4 WHERE run_id = ?1 AND task = ?2 AND attempt = ?3",
                params![run, task, attempt, commit],
            )?;
        }
        Event::TaskCommitted { task, attempt, commit, .. } => {
            tx.execute(
                "UPDATE tasks SET state = 'committed', commit_hash = ?3, reason = NULL WHERE run_id = ?1 AND task = ?2",
                params![run, task, commit],
            )?;
            tx.execute(
                "UPDATE attempts SET state = 'committed', commit_hash = ?4, finished_ms = ?5 WHERE run_id = ?1 AND task = ?2 AND attempt = ?3",
                params![run, task, attempt, commit, at_ms as i64],
            )?;
        }
        Event::AttemptFailed { task, attempt, reason } => {
            tx.execute(
                "UPDATE attempts SET state = 'failed', finished_ms = ?4 WHERE run_id = ?1 AND task = ?2 AND attempt = ?3",
                params![run, task, attempt, at_ms as i64],
            )?;
            tx.execute(
                "UPDATE tasks SET state = 'pending', reason = ?3 WHERE run_id = ?1 AND task = ?2",
                params![run, task, reason],
            )?;
        }
        // Not the agent's failure: the task waits for its agent's hold to end.
        Event::AgentLimited { task, attempt, reason, .. } => {
            tx.execute(
                "UPDATE attempts SET state = 'limited', finished_ms = ?4 WHERE run_id = ?1 AND task = ?2 AND attempt = ?3",
                params![run, task, attempt, at_ms as i64],
            )?;
            tx.execute(
                "UPDATE tasks SET state = 'pending', reason = ?3 WHERE run_id = ?1 AND task = ?2",
                params![run, task, reason],
            )?;
        }
        Event::CandidateFinished { task, end } => {
            // A candidate that passed is `passed` until one is chosen (`committed`).
            let state = if end.verdict == CandidateVerdict::Passed { "passed" } else { "failed" };
            tx.execute(
                "UPDATE attempts SET state = ?4, commit_hash = ?5, finished_ms = ?6 WHERE run_id = ?1 AND task = ?2 AND attempt = ?3",
                params![run, task, end.attempt, state, end.commit, at_ms as i64],
            )?;
        }
        Event::TaskFailed { task, reason, .. } => {
            tx.execute(
                "UPDATE tasks SET state = 'failed', reason = ?3 WHERE run_id = ?1 AND task = ?2",
                params![run, task, reason],
            )?;
        }
        Event::TaskSkipped { task, because } => {
            tx.execute(
                "UPDATE tasks SET state = 'skipped', reason = ?3 WHERE run_id = ?1 AND task = ?2",
                params![run, task, format!("task {because} failed")],
            )?;
        }
        Event::RunFinished { state, .. } => {
            tx.execute(
                "UPDATE runs SET state = ?2, finished_ms = ?3 WHERE id = ?1",
                params![run, state.as_str(), at_ms as i64],
            )?;
        }
        Event::RunStarted { .. }
        | Event::LanePrepared { .. }
        | Event::SandboxDenied { .. }
        | Event::RunResumed { .. }
        | Event::AgentOutput { .. }
        | Event::AgentActivity { .. }
        | Event::VerifyFinished { .. }
        | Event::GateFixCommitted { .. }
        | Event::RunVerified { .. }
        | Event::BudgetExceeded { .. }
        | Event::Stopping { .. }
        | Event::RunShipped { .. }
        | Event::PreviewStarting { .. }
        | Event::PreviewReady { .. }
        | Event::PreviewStopped { .. }
        | Event::CandidatesStarted { .. }
        | Event::CandidateChosen { .. } => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_from_before_scheduler_jobs_gets_the_column_and_two_openers_do_not_collide() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let old = Connection::open(&path).unwrap();
        // As every journal is: in WAL mode (the one wavecrew sets when it makes it).
        old.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE attempts (
                run_id TEXT NOT NULL, task TEXT NOT NULL, attempt INTEGER NOT NULL, lane TEXT NOT NULL,
                worktree TEXT NOT NULL, base TEXT NOT NULL, pid INTEGER, state TEXT NOT NULL,
                exit_code INTEGER, commit_hash TEXT, started_ms INTEGER NOT NULL, finished_ms INTEGER,
                PRIMARY KEY (run_id, task, attempt));
             INSERT INTO attempts VALUES ('r', '1.1', 1, 'l', '/w', 'b', NULL, 'running', NULL, NULL, 0, NULL);",
        )
        .unwrap();
        drop(old);
        let openers: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn({
                    let path = path.clone();
                    move || Journal::open(&path).map(drop)
                })
            })
            .collect();
        for opener in openers {
            opener.join().unwrap().unwrap();
        }
        let journal = Journal::open(&path).unwrap();
        let attempts = journal.running_attempts("r").unwrap();
        assert_eq!((attempts.len(), attempts[0].job.as_deref()), (1, None));
    }

    #[test]
    fn an_exited_agent_s_process_id_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("journal.sqlite")).unwrap();
        let run = RunRecord {
            id: "r".into(),
            plan_path: "p".into(),
            plan_hash: "h".into(),
            plan_text: String::new(),
            milestone: "M1".into(),
            title: "t".into(),
            branch: "b".into(),
            base: "c".into(),
            state: RunState::Running,
            started_ms: 0,
            finished_ms: None,
            pid: 1,
            options: "{}".into(),
        };
        journal.create_run(&run, &["1.1".to_owned()]).unwrap();
        let started = Event::AttemptStarted {
            task: "1.1".into(),
            attempt: 1,
            lane: "l".into(),
            agent: "a".into(),
            model: None,
            worktree: "/w".into(),
            base: "c".into(),
            role: None,
        };
        journal.record("r", started).unwrap();
        journal.record("r", Event::AgentSpawned { task: "1.1".into(), attempt: 1, pid: 4242 }).unwrap();
        assert_eq!(journal.running_attempts("r").unwrap()[0].pid, Some(4242));
        let exited =
            Event::AgentExited { task: "1.1".into(), attempt: 1, code: Some(0), timed_out: false, duration_ms: 1 };
        journal.record("r", exited).unwrap();
        assert_eq!(journal.running_attempts("r").unwrap()[0].pid, None);

        // What the runs list shows, without decoding events.
        let usage = |cost: Option<f64>| Event::AgentActivity {
            task: "1.1".into(),
            attempt: 1,
            kind: crate::events::ActivityKind::Usage,
            detail: String::new(),
            tokens_in: Some(10),
            tokens_out: Some(5),
            cost_usd: cost,
        };
        let last = journal.record("r", usage(Some(0.25))).unwrap().at_ms;
        journal.record("r", usage(None)).unwrap();
        let totals = &journal.run_totals().unwrap()["r"];
        assert_eq!((totals.tasks, totals.committed, totals.cost_usd), (1, 0, Some(0.25)));
        assert_eq!(journal.spent_usd("r").unwrap(), 0.25, "what a resumed run's budget starts from");
        assert_eq!(journal.spent_usd("other").unwrap(), 0.0);
        assert!(totals.last_event_ms.unwrap() >= last);
    }

    #[test]
    fn answers_are_taken_once_in_order_and_one_this_version_does_not_know_reads_as_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("journal.sqlite")).unwrap();
        journal.answer("r", "1.1", &AnswerKind::Rejected, Some("too ugly")).unwrap();
        journal
            .with(|conn| {
                conn.execute(
                    "INSERT INTO answers (run_id, task, answer, given_ms) VALUES ('r', '1.1', 'deferred', 0)",
                    [],
                )
            })
            .unwrap();
        journal.answer("r", "1.1", &AnswerKind::Approved, None).unwrap();
        let taken: Vec<_> = std::iter::from_fn(|| journal.take_answer("r", "1.1").unwrap()).collect();
        assert_eq!(
            taken,
            [
                (AnswerKind::Rejected, Some("too ugly".to_owned())),
                (AnswerKind::Unknown("deferred".into()), None),
                (AnswerKind::Approved, None)
            ]
        );
    }
}

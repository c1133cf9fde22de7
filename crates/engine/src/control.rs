//! What people do to a run from outside it: answer a checkpoint, sign the Manual checklist
//! off, cancel. The CLI commands and the dashboard both call these, so both follow the same
//! rules and say the same things.
//!
//! Answers are written to the journal; the process that runs the run (or a later `resume`)
//! picks them up. Nothing here touches git or a worktree.

use crate::events::{AnswerKind, Event, RunState, TaskState};
use crate::journal::{Journal, JournalError, RunRecord};
use crate::report::MANUAL;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why an action was refused.
#[allow(missing_docs)] // the fields are named for what they hold; the variant says the rest
#[derive(Debug)]
pub enum ControlError {
    /// No run has this id (or id suffix).
    NoSuchRun(String),
    /// The repository has no runs.
    NoRuns,
    /// The run has no such task.
    NoSuchTask { run: String, task: String },
    /// The task is not a checkpoint waiting for an answer.
    NotWaiting { task: String, state: TaskState },
    /// The option is not exactly one of the decision's options.
    BadOption { option: String, options: Vec<String> },
    /// The Manual checklist comes once the run branch was verified.
    NotVerified { run: String },
    /// The plan has no Manual checklist.
    NoManual { run: String },
    /// The run's process is not running.
    NotActive { run: String, state: &'static str },
    /// The journal could not be read or written.
    Journal(JournalError),
}

impl ControlError {
    /// What the person can do about it, when there is something.
    pub fn hint(&self) -> Option<String> {
        match self {
            ControlError::NoSuchRun(_) => Some("`wavecrew runs` lists them".into()),
            ControlError::NoRuns => Some("start one with `wavecrew run PLAN`".into()),
            ControlError::BadOption { options, .. } => Some(format!("the options are: {}", options.join(" | "))),
            ControlError::NotActive { run, .. } => Some(format!("`wavecrew resume {run}` continues it")),
            _ => None,
        }
    }

    /// Whether the request was wrong (as opposed to the journal failing).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, ControlError::Journal(_))
    }
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::NoSuchRun(id) => write!(f, "no run `{id}` in this repository"),
            ControlError::NoRuns => write!(f, "this repository has no runs yet"),
            ControlError::NoSuchTask { run, task } => write!(f, "run {run} has no task {task}"),
            ControlError::NotWaiting { task, state } => {
                write!(f, "task {task} is not waiting for an answer (it is {})", state.as_str())
            }
            ControlError::BadOption { option, .. } => write!(f, "`{option}` is not exactly one of the options"),
            ControlError::NotVerified { run } => {
                write!(f, "run {run} has not been verified yet: its Manual checklist comes once every task landed")
            }
            ControlError::NoManual { run } => write!(f, "the plan of run {run} has no Manual checklist"),
            ControlError::NotActive { run, state } => write!(f, "run {run} is not active ({state})"),
            ControlError::Journal(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ControlError {}

impl From<JournalError> for ControlError {
    fn from(error: JournalError) -> Self {
        ControlError::Journal(error)
    }
}

/// The state folder of the repository that `repo` is in: `<git common dir>/wavecrew`, where
/// the journal, the run folders and the worktrees live.
pub fn state_dir(repo: &Path) -> Result<PathBuf, String> {
    match crate::git::Git::new(repo).run_blocking(&["rev-parse", "--path-format=absolute", "--git-common-dir"]) {
        Ok(dir) => Ok(PathBuf::from(dir.trim()).join("wavecrew")),
        Err(crate::git::GitError::Spawn(error)) => Err(format!("could not run git: {error}")),
        Err(_) => Err(format!("`{}` is not inside a git repository", repo.display())),
    }
}

/// The run `wanted` (an id or the end of one), or the newest run.
pub fn find_run(journal: &Journal, wanted: Option<&str>) -> Result<RunRecord, ControlError> {
    let runs = journal.runs()?;
    let found = match wanted {
        Some(id) => runs.into_iter().find(|r| r.id == id || (!id.is_empty() && r.id.ends_with(id))),
        None => runs.into_iter().next(),
    };
    found.ok_or_else(|| match wanted {
        Some(id) => ControlError::NoSuchRun(id.to_owned()),
        None => ControlError::NoRuns,
    })
}

/// What holds the run's agents now, as the views say it ("held until 14:05: claude: …"), one
/// line per held agent; `None` when nothing holds.
pub fn held(journal: &Journal, run: &RunRecord) -> Option<String> {
    if run.state != RunState::Running {
        return None;
    }
    let events = journal.events(&run.id, 0).ok()?;
    let lines: Vec<String> = crate::limits::holding(&events, crate::journal::now_ms())
        .into_iter()
        .map(|(_, hold, until, reason)| crate::limits::describe_local(&hold, Some(until), &reason))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Whether the run's process is alive and running it.
pub fn is_active(run: &RunRecord) -> bool {
    run.state == RunState::Running && crate::workspace::pid_alive(run.pid)
}

/// The state to show: `running` for a run whose process is gone reads `interrupted`.
pub fn state_name(run: &RunRecord) -> &'static str {
    match run.state {
        RunState::Running if !crate::workspace::pid_alive(run.pid) => "interrupted",
        state => state.as_str(),
    }
}

/// A person's answer to a checkpoint.
#[allow(missing_docs)] // the fields are named for what they hold; the variant says the rest
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Let the checkpoint finish, with an optional note.
    Approve { note: Option<String> },
    /// Send a human-verify checkpoint back to its agent with the reason.
    Reject { reason: String },
    /// Pick one of a decision's options (or a prefix of exactly one).
    Decide { option: String },
}

/// What an accepted action did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Done {
    /// The run's id.
    pub run: String,
    /// One sentence for the person: what happens next.
    pub message: String,
}

/// Records `answer` for checkpoint `task` of run `run`; the run (or its `resume`) picks it up.
pub fn answer(journal: &Journal, run: &str, task: &str, answer: Answer) -> Result<Done, ControlError> {
    let record = find_run(journal, Some(run))?;
    let tasks = journal.tasks(&record.id)?;
    let Some(row) = tasks.iter().find(|t| t.task == task) else {
        return Err(ControlError::NoSuchTask { run: record.id, task: task.to_owned() });
    };
    if row.state != TaskState::Waiting {
        return Err(ControlError::NotWaiting { task: task.to_owned(), state: row.state });
    }
    let (kind, detail) = match answer {
        Answer::Approve { note } => (AnswerKind::Approved, note),
        Answer::Reject { reason } => (AnswerKind::Rejected, Some(reason)),
        Answer::Decide { option } => (AnswerKind::Decided, Some(decision_choice(&record, task, &option)?)),
    };
    journal.answer(&record.id, task, &kind, detail.as_deref())?;
    let message = if is_active(&record) {
        format!("recorded: run {} goes on", record.id)
    } else {
        format!("recorded; the run is not active: `wavecrew resume {}` goes on", record.id)
    };
    Ok(Done { run: record.id, message })
}

/// The option of decision `task` that `wanted` names: the option itself or a prefix of exactly
/// one (case does not matter). A decision without listed options takes any answer.
fn decision_choice(record: &RunRecord, task: &str, wanted: &str) -> Result<String, ControlError> {
    let plan = plan::parse(&record.plan_text, &record.milestone).plan;
    let options = plan::TaskId::parse(task)
        .and_then(|id| plan.task(id))
        .map(crate::checkpoint::decision_options)
        .unwrap_or_default();
    if options.is_empty() {
        return Ok(wanted.to_owned());
    }
    let wanted_lower = wanted.to_lowercase();
    if let Some(exact) = options.iter().find(|o| o.to_lowercase() == wanted_lower) {
        return Ok(exact.clone());
    }
    match options.iter().filter(|o| o.to_lowercase().starts_with(&wanted_lower)).collect::<Vec<_>>().as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(ControlError::BadOption { option: wanted.to_owned(), options }),
    }
}

/// Signs the Manual checklist of run `run` off (`wavecrew approve RUN manual`), once its
/// finished branch was verified.
pub fn sign_off_manual(journal: &Journal, run: &str, note: Option<&str>) -> Result<Done, ControlError> {
    let record = find_run(journal, Some(run))?;
    let events = journal.events(&record.id, 0)?;
    let manual = events.iter().rev().find_map(|e| match &e.event {
        Event::RunVerified { manual, .. } => Some(manual.len()),
        _ => None,
    });
    match manual {
        None => Err(ControlError::NotVerified { run: record.id }),
        Some(0) => Err(ControlError::NoManual { run: record.id }),
        Some(steps) => {
            journal.record(
                &record.id,
                Event::CheckpointAnswered {
                    task: MANUAL.to_owned(),
                    answer: AnswerKind::Approved,
                    detail: note.map(str::to_owned),
                    auto: false,
                    commit: None,
                },
            )?;
            Ok(Done { message: format!("signed off the {steps} manual step(s) of run {}", record.id), run: record.id })
        }
    }
}

/// Asks the process of run `run` to stop (SIGTERM): it journals, stops its agents and ends
/// `cancelled`, resumable.
pub fn cancel(journal: &Journal, run: &str) -> Result<Done, ControlError> {
    let record = find_run(journal, Some(run))?;
    if !is_active(&record) {
        return Err(ControlError::NotActive { state: state_name(&record), run: record.id });
    }
    crate::process::signal_pid(record.pid, crate::process::Signal::SIGTERM);
    Ok(Done {
        message: format!("asked run {} (process {}) to stop; it journals and stops its agents", record.id, record.pid),
        run: record.id,
    })
}

//! The engine's one event stream.
//!
//! Everything the engine does is announced as an [`Event`]. The journal records each one before
//! the engine acts on it (so a crash leaves a trail that `resume` can follow), and the terminal
//! view, `--json` output and the dashboard read the same events; none of them looks inside the
//! scheduler.

use serde::{Deserialize, Serialize};

mod vocabulary;

pub use crate::agent::AgentRole;
pub use plan::TaskType;
pub use vocabulary::{
    ActivityKind, AnswerKind, CandidateVerdict, GateCheck, LimitHold, MustHaveKind, MustHaveStatus, PreviewEnd,
    RunVerdict, SandboxOperation,
};

/// How a run ended (or that it has not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Tasks are running, or the run was interrupted and can be resumed.
    Running,
    /// Every task is committed.
    Succeeded,
    /// Some task failed or was skipped.
    Failed,
    /// Stopped by a person (`cancel`, Ctrl-C); resumable.
    Cancelled,
}

impl RunState {
    /// The lowercase name used in the journal and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }
}

/// Where a task is in its life: `pending → running → verifying → integrating → committed`,
/// with the side exits `failed`, `skipped` and `cancelled`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Waiting for its dependencies, its lane, or a free slot.
    Pending,
    /// Its agent is working.
    Running,
    /// The engine runs its Verify commands.
    Verifying,
    /// Its commit is being put on the run branch.
    Integrating,
    /// Its commit is on the run branch.
    Committed,
    /// A checkpoint waits for a person (`approve`, `reject`, `decide`).
    Waiting,
    /// It failed every attempt.
    Failed,
    /// A task it depends on failed.
    Skipped,
}

impl TaskState {
    /// The lowercase name used in the journal and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Verifying => "verifying",
            TaskState::Integrating => "integrating",
            TaskState::Waiting => "waiting",
            TaskState::Committed => "committed",
            TaskState::Failed => "failed",
            TaskState::Skipped => "skipped",
        }
    }

    /// Parses a name written by [`TaskState::as_str`].
    pub fn parse(text: &str) -> Option<TaskState> {
        [
            TaskState::Pending,
            TaskState::Running,
            TaskState::Verifying,
            TaskState::Integrating,
            TaskState::Waiting,
            TaskState::Committed,
            TaskState::Failed,
            TaskState::Skipped,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }

    /// Whether the task will not change any more in this run.
    pub fn is_final(self) -> bool {
        matches!(self, TaskState::Committed | TaskState::Failed | TaskState::Skipped)
    }
}

/// Something a gate found wrong, with where, when it is about a place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateFinding {
    /// The check that found it.
    pub check: GateCheck,
    /// What is wrong, and how to fix it.
    pub message: String,
    /// `path:line`, when it is about a place.
    pub location: Option<String>,
}

/// A number a gate measured, with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateMetric {
    /// What it measures: `failed tests`, `coverage of changed lines`, `type errors`.
    pub name: String,
    /// The value.
    pub value: f64,
    /// `%`, or empty for a count.
    pub unit: String,
    /// Where it came from: the file or the command's summary line it was read from.
    pub source: String,
}

/// A must_have's verdict, with what it rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MustHaveVerdict {
    /// An artifact, a key link or a truth.
    pub kind: MustHaveKind,
    /// The path, or the item as written.
    pub item: String,
    /// The verdict.
    pub verdict: MustHaveStatus,
    /// What it rests on: `path:line` of a reference, what is missing.
    pub evidence: String,
}

/// What came of a Verification / Automated command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomatedStatus {
    /// It exited 0, and wavecrew checked its expectation and it holds.
    Passed,
    /// It did not exit 0, or its expectation does not hold.
    Failed,
    /// It exited 0, but wavecrew could not check its expectation (an expectation it cannot
    /// read, a coverage report it did not write): a person checks it (the Manual checklist).
    Unchecked,
}

impl AutomatedStatus {
    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            AutomatedStatus::Passed => "passed",
            AutomatedStatus::Failed => "failed",
            AutomatedStatus::Unchecked => "unchecked",
        }
    }
}

/// A Verification / Automated command run on the finished run branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "AutomatedResultWire")]
pub struct AutomatedResult {
    /// The command.
    pub command: String,
    /// Its `# expectation`, if the plan gives one.
    pub expectation: Option<String>,
    /// Whether it passed, failed, or could not be checked.
    pub status: AutomatedStatus,
    /// Its exit code.
    pub exit_code: Option<i32>,
    /// What showed that it passed, why it failed, or why it could not be checked.
    pub detail: String,
}

impl AutomatedResult {
    /// Whether it exited 0 and its expectation was checked and holds.
    pub fn passed(&self) -> bool {
        self.status == AutomatedStatus::Passed
    }
}

/// [`AutomatedResult`] as journals hold it: those written before `status` existed have
/// `passed`.
#[derive(Deserialize)]
struct AutomatedResultWire {
    command: String,
    expectation: Option<String>,
    status: Option<AutomatedStatus>,
    #[serde(default)]
    passed: bool,
    exit_code: Option<i32>,
    detail: String,
}

impl From<AutomatedResultWire> for AutomatedResult {
    fn from(wire: AutomatedResultWire) -> Self {
        let old = if wire.passed { AutomatedStatus::Passed } else { AutomatedStatus::Failed };
        AutomatedResult {
            command: wire.command,
            expectation: wire.expectation,
            status: wire.status.unwrap_or(old),
            exit_code: wire.exit_code,
            detail: wire.detail,
        }
    }
}

/// A gate's verdict: from its findings, and from what it was asked to check but could not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateVerdict {
    /// Nothing wrong, and everything the gate asks for was checked.
    Green,
    /// Something is wrong: findings the gate's agent fixes.
    Red,
    /// Nothing found wrong, but something the gate asks for could not be checked (an audit
    /// that did not run, coverage without a report): a person signs it off, or the gate fails.
    Unverified,
}

impl GateVerdict {
    /// The verdict of a check with these findings (`passed`: none) and these demands it could
    /// not check.
    pub fn of(passed: bool, unverified: &[String]) -> GateVerdict {
        match (passed, unverified.is_empty()) {
            (false, _) => GateVerdict::Red,
            (true, true) => GateVerdict::Green,
            (true, false) => GateVerdict::Unverified,
        }
    }

    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            GateVerdict::Green => "green",
            GateVerdict::Red => "red",
            GateVerdict::Unverified => "unverified",
        }
    }
}

/// How a candidate of a best-of task ended (`candidate_finished`): its verdict; its commit on
/// `base` (kept as the ref `reference`; none when its agent left nothing to commit); the lines
/// it changes outside the task's Files and in all; the tokens its agent used; why it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateEnd {
    /// Its number, 1 to N.
    pub candidate: u32,
    /// The attempt it ran as.
    pub attempt: u32,
    /// Passed, failed, Verify timed out.
    pub verdict: CandidateVerdict,
    /// Its commit, when its agent left something.
    pub commit: Option<String>,
    /// The head it started from.
    pub base: String,
    /// The ref that keeps its commit.
    pub reference: Option<String>,
    /// Lines it changes outside the task's Files.
    pub outside_lines: u64,
    /// Lines it changes in all.
    pub diff_lines: u64,
    /// Tokens its agent used.
    pub tokens: u64,
    /// Why it failed.
    pub reason: Option<String>,
}

/// A lane as announced at the start of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneInfo {
    /// The agent name from the plan (`Worker A`), or `default`.
    pub name: String,
    /// The agent backend that runs the lane's tasks.
    pub agent: String,
    /// The model, if the plan names one.
    pub model: Option<String>,
    /// The lane's tasks in order.
    pub tasks: Vec<String>,
}

/// Something that happened in a run.
#[allow(missing_docs)] // the fields are named for what they hold; the variant says the rest
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A run began: its branch was made from `base`.
    RunStarted {
        milestone: String,
        title: String,
        branch: String,
        base: String,
        tasks: Vec<String>,
        lanes: Vec<LaneInfo>,
    },
    /// A run was picked up again; `committed` tasks are kept as they are. `overrides` are the
    /// options given to `resume` that differ from those the run had (`--attempts 5`); absent
    /// when none were (and in journals written before it existed).
    RunResumed {
        committed: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        overrides: Vec<String>,
    },
    /// A task's agent is about to start in `worktree` at `base`. `role` says why when it is not
    /// the task's work (or a gate's fix): `review` (a gate's review; `attempt` is the round) or
    /// `verify` (the verifier of the plan's truths, task `verification`); absent for the task's
    /// work, and in journals written before it existed.
    AttemptStarted {
        task: String,
        attempt: u32,
        lane: String,
        agent: String,
        model: Option<String>,
        worktree: String,
        base: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<AgentRole>,
    },
    /// The sandbox refused an operation of one of a task's processes (`process`: `agent`,
    /// `verify-1`, `gate-…`, `evidence-1`), as its output shows it: a write to `path`, or a TCP
    /// connect to `path` (`host:port`). See docs/sandbox.md.
    SandboxDenied { task: String, attempt: u32, process: String, operation: SandboxOperation, path: String },
    /// A lane's worktree was made or reset for a task: what was brought in and set up.
    LanePrepared { task: String, lane: String, detail: String, duration_ms: u64 },
    /// The agent's process is running (its process group is `pid`).
    AgentSpawned { task: String, attempt: u32, pid: u32 },
    /// The attempt was handed to a scheduler (`backend`, e.g. `slurm`) as job `job`; the agent
    /// and the Verify commands run there, and `resume` re-attaches to the job.
    JobSubmitted { task: String, attempt: u32, backend: String, job: String },
    /// A line the agent printed (not journaled: the attempt's log file has everything).
    AgentOutput { task: String, attempt: u32, line: String },
    /// What the agent did, read from its machine-readable output: text, a tool call, usage
    /// (the tokens and cost) or an error.
    AgentActivity {
        task: String,
        attempt: u32,
        kind: ActivityKind,
        detail: String,
        tokens_in: Option<u64>,
        tokens_out: Option<u64>,
        cost_usd: Option<f64>,
    },
    /// The agent's process ended.
    AgentExited { task: String, attempt: u32, code: Option<i32>, timed_out: bool, duration_ms: u64 },
    /// The attempt went over its task's budget (`[budget] task`): its agent was stopped, and the
    /// task fails without another attempt. `spent_usd` and `tokens`: what the task spent.
    BudgetExceeded { task: String, attempt: u32, cap: crate::budget::Amount, spent_usd: f64, tokens: u64 },
    /// The engine runs a Verify command.
    VerifyStarted { task: String, attempt: u32, command: String },
    /// A Verify command finished.
    VerifyFinished {
        task: String,
        attempt: u32,
        command: String,
        passed: bool,
        exit_code: Option<i32>,
        duration_ms: u64,
    },
    /// A checkpoint waits for a person: to check the change `commit` (human-verify), to pick one
    /// of `options` (decision), or to do something by hand (human-action). `steps` are the
    /// Verify sentences a person follows ("Run `npm run dev` and open `/room/1`"), which
    /// wavecrew does not run. `auto`: `--auto-approve` answers it at once (the answer follows).
    /// `steps` and `auto` are absent in journals written before they existed. `kind` is the
    /// task's type as the plan spells it (`checkpoint:decision`).
    CheckpointWaiting {
        task: String,
        kind: TaskType,
        options: Vec<String>,
        commit: Option<String>,
        details: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        steps: Vec<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        auto: bool,
    },
    /// A person (or `--auto-approve`) answered a checkpoint: `approved`, `rejected` or `decided`,
    /// with the note, the reason or the option; `commit` is the change a human-verify answer was
    /// about (absent in journals written before it existed).
    CheckpointAnswered {
        task: String,
        answer: AnswerKind,
        detail: Option<String>,
        auto: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
    },
    /// A quality gate checked the run branch (round 1 first; every later round follows a fix by
    /// the gate's agent). `passed`: no findings. `unverified`: what the gate's Done asks for
    /// that its checks could not check, and why; with no finding, the gate needs a person
    /// ([`GateVerdict::of`]). The findings and notes of the agent's review (check `review`)
    /// are among those of its skill.
    GateChecked {
        task: String,
        round: u32,
        skill: String,
        passed: bool,
        findings: Vec<GateFinding>,
        metrics: Vec<GateMetric>,
        notes: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unverified: Vec<String>,
    },
    /// The gate's agent fixed findings of `round`; the fix is on the run branch.
    GateFixCommitted { task: String, round: u32, commit: String },
    /// The task's commit was made and is about to go on the run branch.
    Integrating { task: String, attempt: u32, commit: String },
    /// The task's commit is on the run branch.
    TaskCommitted { task: String, attempt: u32, commit: String, message: String },
    /// The attempt failed; another follows.
    AttemptFailed { task: String, attempt: u32, reason: String },
    /// The task failed for good.
    TaskFailed { task: String, attempts: u32, reason: String },
    /// `agent`'s attempt of `task` ended on a usage or rate limit of its account (`reason`, in
    /// the CLI's words): the attempt does not count against the task's attempts, and every lane
    /// on the agent holds until `until_ms` (`hold` says why; none when the task fails as
    /// limited). `reset_ms` is the reset time the CLI gave, if it gave one that could be read.
    AgentLimited {
        agent: String,
        task: String,
        attempt: u32,
        hold: LimitHold,
        until_ms: Option<u64>,
        reset_ms: Option<u64>,
        reason: String,
    },
    /// The task will not run because `because` failed.
    TaskSkipped { task: String, because: String },
    /// Every task landed; the finished run branch was checked: must_haves, the plan's
    /// Verification / Automated commands, and the Manual checklist still to sign off (the
    /// plan's steps, then the Automated expectations wavecrew could not check).
    /// `verdict`: `passed`, `failed`, or `unverified` (nothing checkable proved it, or an
    /// Automated expectation could not be checked).
    RunVerified {
        verdict: RunVerdict,
        must_haves: Vec<MustHaveVerdict>,
        automated: Vec<AutomatedResult>,
        manual: Vec<String>,
    },
    /// A best-of task (`Attempts: N parallel`, `--best-of`) starts its candidates at once, each
    /// an attempt of its own in its own worktree: candidate n is attempt `attempts[n-1]`.
    /// `kept`: candidates that had finished before a resume, judged as they were (absent when
    /// none).
    CandidatesStarted {
        task: String,
        attempts: Vec<u32>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kept: Vec<u32>,
    },
    /// A candidate of a best-of task ended (see [`CandidateEnd`]; its fields are the event's).
    CandidateFinished {
        task: String,
        #[serde(flatten)]
        end: CandidateEnd,
    },
    /// The candidate of a best-of task that lands (`integrating` follows), and why:
    /// `ranking` lists the candidates whose Verify passed, best first.
    CandidateChosen { task: String, candidate: u32, attempt: u32, ranking: Vec<u32>, why: String },
    /// The dashboard starts the preview of the change a checkpoint waits on (`[preview]
    /// command`, asked for on the checkpoint's card): a worktree of `commit`, its setup, then
    /// the command (see [`crate::preview`]).
    PreviewStarting { task: String, commit: String },
    /// The preview of `task`'s checkpoint answers at `url`.
    PreviewReady { task: String, url: String },
    /// The preview of `task`'s checkpoint stopped (its process and worktree are gone), and why;
    /// `detail` says what failed.
    PreviewStopped {
        task: String,
        why: PreviewEnd,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// The run stops launching tasks (Ctrl-C, `cancel`, `--fail-fast`, a journal error).
    Stopping { reason: String },
    /// The run ended.
    RunFinished { state: RunState, committed: usize, failed: usize, skipped: usize, duration_ms: u64 },
    /// `wavecrew ship` pushed the run branch to `remote` and opened a pull (merge) request into
    /// `base` at `url`; `draft`: opened as a draft.
    RunShipped { url: String, remote: String, base: String, draft: bool },
}

impl Event {
    /// The task the event is about, if any.
    pub fn task(&self) -> Option<&str> {
        match self {
            Event::AttemptStarted { task, .. }
            | Event::LanePrepared { task, .. }
            | Event::SandboxDenied { task, .. }
            | Event::AgentSpawned { task, .. }
            | Event::JobSubmitted { task, .. }
            | Event::AgentOutput { task, .. }
            | Event::AgentActivity { task, .. }
            | Event::AgentExited { task, .. }
            | Event::BudgetExceeded { task, .. }
            | Event::VerifyStarted { task, .. }
            | Event::VerifyFinished { task, .. }
            | Event::Integrating { task, .. }
            | Event::GateChecked { task, .. }
            | Event::GateFixCommitted { task, .. }
            | Event::CheckpointWaiting { task, .. }
            | Event::CheckpointAnswered { task, .. }
            | Event::TaskCommitted { task, .. }
            | Event::AttemptFailed { task, .. }
            | Event::TaskFailed { task, .. }
            | Event::AgentLimited { task, .. }
            | Event::TaskSkipped { task, .. }
            | Event::CandidatesStarted { task, .. }
            | Event::CandidateFinished { task, .. }
            | Event::CandidateChosen { task, .. }
            | Event::PreviewStarting { task, .. }
            | Event::PreviewReady { task, .. }
            | Event::PreviewStopped { task, .. } => Some(task),
            _ => None,
        }
    }

    /// The event's name, as in its JSON `event` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run_started",
            Event::RunResumed { .. } => "run_resumed",
            Event::AttemptStarted { .. } => "attempt_started",
            Event::LanePrepared { .. } => "lane_prepared",
            Event::SandboxDenied { .. } => "sandbox_denied",
            Event::AgentSpawned { .. } => "agent_spawned",
            Event::JobSubmitted { .. } => "job_submitted",
            Event::AgentOutput { .. } => "agent_output",
            Event::AgentActivity { .. } => "agent_activity",
            Event::AgentExited { .. } => "agent_exited",
            Event::VerifyStarted { .. } => "verify_started",
            Event::VerifyFinished { .. } => "verify_finished",
            Event::GateChecked { .. } => "gate_checked",
            Event::RunVerified { .. } => "run_verified",
            Event::GateFixCommitted { .. } => "gate_fix_committed",
            Event::Integrating { .. } => "integrating",
            Event::CheckpointWaiting { .. } => "checkpoint_waiting",
            Event::CheckpointAnswered { .. } => "checkpoint_answered",
            Event::TaskCommitted { .. } => "task_committed",
            Event::AttemptFailed { .. } => "attempt_failed",
            Event::TaskFailed { .. } => "task_failed",
            Event::AgentLimited { .. } => "agent_limited",
            Event::BudgetExceeded { .. } => "budget_exceeded",
            Event::TaskSkipped { .. } => "task_skipped",
            Event::CandidatesStarted { .. } => "candidates_started",
            Event::CandidateFinished { .. } => "candidate_finished",
            Event::CandidateChosen { .. } => "candidate_chosen",
            Event::PreviewStarting { .. } => "preview_starting",
            Event::PreviewReady { .. } => "preview_ready",
            Event::PreviewStopped { .. } => "preview_stopped",
            Event::Stopping { .. } => "stopping",
            Event::RunFinished { .. } => "run_finished",
            Event::RunShipped { .. } => "run_shipped",
        }
    }
}

/// An event with its run, its place in the run's sequence and its time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The run's id.
    pub run: String,
    /// 1, 2, 3… within the run (across resumes).
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

#[cfg(test)]
mod golden;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automated_results_of_journals_written_before_status_still_read() {
        let old = r#"{"command": "npm test", "expectation": "0 regressions", "passed": true, "exit_code": 0, "detail": "exited 0"}"#;
        let read: AutomatedResult = serde_json::from_str(old).unwrap();
        assert_eq!(read.status, AutomatedStatus::Passed);
        let new = serde_json::to_value(AutomatedResult { status: AutomatedStatus::Unchecked, ..read }).unwrap();
        assert_eq!(new["status"], "unchecked");
        assert!(new.get("passed").is_none(), "{new}");
        let failed = r#"{"command": "x", "expectation": null, "passed": false, "exit_code": 1, "detail": "exited 1"}"#;
        assert_eq!(serde_json::from_str::<AutomatedResult>(failed).unwrap().status, AutomatedStatus::Failed);
    }

    #[test]
    fn a_gate_without_findings_is_green_only_when_it_checked_everything_asked() {
        assert_eq!(GateVerdict::of(true, &[]), GateVerdict::Green);
        assert_eq!(GateVerdict::of(true, &["npm audit did not run".into()]), GateVerdict::Unverified);
        assert_eq!(GateVerdict::of(false, &["npm audit did not run".into()]), GateVerdict::Red);
        let old = r#"{"event": "gate_checked", "task": "2.1", "round": 1, "skill": "security-auditor", "passed": true, "findings": [], "metrics": [], "notes": []}"#;
        let Event::GateChecked { unverified, .. } = serde_json::from_str(old).unwrap() else { panic!() };
        assert!(unverified.is_empty());
    }
}

//! The engine's one event stream.
//!
//! Everything the engine does is announced as an [`Event`]. The journal records each one before
//! the engine acts on it (so a crash leaves a trail that `resume` can follow), and the terminal
//! view, `--json` output and the dashboard read the same events; none of them looks inside the
//! scheduler.

use serde::{Deserialize, Serialize};

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
    /// The check that found it: `command`, `tests`, `coverage`, `type-check`, `secret`,
    /// `pattern`, `dependency`, `review`.
    pub check: String,
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

/// A must_have's verdict: `VERIFIED`, `STUB`, `ORPHANED`, `MISSING`, `NOT_WIRED` or `MANUAL`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MustHaveVerdict {
    /// `artifact`, `key_link` or `truth`.
    pub kind: String,
    /// The path, or the item as written.
    pub item: String,
    /// The verdict.
    pub verdict: String,
    /// What it rests on: `path:line` of a reference, what is missing.
    pub evidence: String,
}

/// A Verification / Automated command run on the finished run branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomatedResult {
    /// The command.
    pub command: String,
    /// Its `# expectation`, if the plan gives one.
    pub expectation: Option<String>,
    /// Whether it exited 0 and met the expectation wavecrew can check.
    pub passed: bool,
    /// Its exit code.
    pub exit_code: Option<i32>,
    /// Why it failed, or what it showed.
    pub detail: String,
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
    /// `verify` (the verifier of the plan's truths, task `verification`). Absent in journals
    /// written before it existed.
    AttemptStarted {
        task: String,
        attempt: u32,
        lane: String,
        agent: String,
        model: Option<String>,
        worktree: String,
        base: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
    },
    /// A lane's worktree was made or reset for a task: what was brought in and set up.
    LanePrepared { task: String, lane: String, detail: String, duration_ms: u64 },
    /// The agent's process is running (its process group is `pid`).
    AgentSpawned { task: String, attempt: u32, pid: u32 },
    /// The attempt was handed to a scheduler (`backend`, e.g. `slurm`) as job `job`; the agent
    /// and the Verify commands run there, and `resume` re-attaches to the job.
    JobSubmitted { task: String, attempt: u32, backend: String, job: String },
    /// A line the agent printed (not journaled: the attempt's log file has everything).
    AgentOutput { task: String, attempt: u32, line: String },
    /// What the agent did, read from its machine-readable output: `kind` is `text`, `tool`,
    /// `usage` or `error`.
    AgentActivity {
        task: String,
        attempt: u32,
        kind: String,
        detail: String,
        tokens_in: Option<u64>,
        tokens_out: Option<u64>,
        cost_usd: Option<f64>,
    },
    /// The agent's process ended.
    AgentExited { task: String, attempt: u32, code: Option<i32>, timed_out: bool, duration_ms: u64 },
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
    /// of `options` (decision), or to do something by hand (human-action).
    CheckpointWaiting { task: String, kind: String, options: Vec<String>, commit: Option<String>, details: String },
    /// A person (or `--auto-approve`) answered a checkpoint: `approved`, `rejected` or `decided`,
    /// with the note, the reason or the option.
    CheckpointAnswered { task: String, answer: String, detail: Option<String>, auto: bool },
    /// A quality gate checked the run branch (round 1 first; every later round follows a fix by
    /// the gate's agent). The verdict is `passed`: no findings. The findings and notes of the
    /// agent's review (check `review`) are among those of its skill.
    GateChecked {
        task: String,
        round: u32,
        skill: String,
        passed: bool,
        findings: Vec<GateFinding>,
        metrics: Vec<GateMetric>,
        notes: Vec<String>,
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
    /// The task will not run because `because` failed.
    TaskSkipped { task: String, because: String },
    /// Every task landed; the finished run branch was checked: must_haves, the plan's
    /// Verification / Automated commands, and the Manual checklist still to sign off.
    /// `verdict`: `passed`, `failed`, or `unverified` (nothing checkable proved it).
    RunVerified {
        verdict: String,
        must_haves: Vec<MustHaveVerdict>,
        automated: Vec<AutomatedResult>,
        manual: Vec<String>,
    },
    /// The run stops launching tasks (Ctrl-C, `cancel`, `--fail-fast`, a journal error).
    Stopping { reason: String },
    /// The run ended.
    RunFinished { state: RunState, committed: usize, failed: usize, skipped: usize, duration_ms: u64 },
}

impl Event {
    /// The task the event is about, if any.
    pub fn task(&self) -> Option<&str> {
        match self {
            Event::AttemptStarted { task, .. }
            | Event::LanePrepared { task, .. }
            | Event::AgentSpawned { task, .. }
            | Event::JobSubmitted { task, .. }
            | Event::AgentOutput { task, .. }
            | Event::AgentActivity { task, .. }
            | Event::AgentExited { task, .. }
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
            | Event::TaskSkipped { task, .. } => Some(task),
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
            Event::TaskSkipped { .. } => "task_skipped",
            Event::Stopping { .. } => "stopping",
            Event::RunFinished { .. } => "run_finished",
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

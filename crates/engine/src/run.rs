//! Running a plan: the scheduler, the lanes' worktrees, attempts, verification, commits and
//! integration onto the run branch, and resuming after anything.
//!
//! The scheduler works on tasks, not waves: a task starts as soon as every task of the waves
//! its wave depends on is committed, the task before it on its lane is done, no running task
//! lists an overlapping file, and a slot is free (`jobs`). Each attempt runs in its lane's
//! pooled worktree, reset to the run branch's head; once its Verify commands pass, its change
//! becomes one commit, put on the run branch with a compare-and-swap (merged without a checkout
//! if the branch moved meanwhile).

use crate::agent::{Agent, AgentRequest, AgentRole};
use crate::events::{
    ActivityKind, AnswerKind, AutomatedStatus, Envelope, Event, LaneInfo, MustHaveKind, MustHaveStatus, RunState,
    RunVerdict, TaskState,
};
use crate::git::{Git, GitError, Merge};
use crate::journal::{Journal, JournalError, RunRecord, now_ms};
use crate::provision::Provision;
use crate::{process, prompt};
use plan::{Plan, Schedule, TaskId, TaskType};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, broadcast, mpsc, oneshot, watch};

/// Why a run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The directory is not in a git repository.
    #[error("`{0}` is not inside a git repository")]
    NotARepo(PathBuf),
    /// The repository has no commit to start from.
    #[error("the repository has no commit yet: commit something first, the run branch starts from HEAD")]
    NoCommit,
    /// Another run is active in this repository.
    #[error(
        "run {run} is already active in this repository (process {pid}); wait for it, or stop it with `wavecrew cancel {run}`"
    )]
    Active {
        /// The active run.
        run: String,
        /// Its process.
        pid: u32,
    },
    /// The run branch exists already.
    #[error(
        "branch `{branch}` already exists: {}delete the branch (`git branch -D {branch}`) to start over",
        resumable.as_ref().map(|run| format!("resume its run with `wavecrew resume {run}`, or ")).unwrap_or_default()
    )]
    BranchExists {
        /// The branch.
        branch: String,
        /// The run that made it, when it did not succeed (and so can be resumed).
        resumable: Option<String>,
    },
    /// No run has this id.
    #[error("no run `{0}` in this repository (`wavecrew runs` lists them)")]
    UnknownRun(String),
    /// The run has nothing left to do.
    #[error("run {0} already succeeded; nothing to resume")]
    Finished(String),
    /// The plan uses something this version cannot run yet.
    #[error("{0}")]
    Unsupported(String),
    /// Git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The journal failed; the run stopped and can be resumed once the cause is fixed.
    #[error("{0}; the run stopped and can be resumed once this is fixed")]
    Journal(#[from] JournalError),
    /// A file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The run was cancelled while a check ran.
    #[error("cancelled")]
    Cancelled,
}

/// How tasks are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleMode {
    /// Task-level dependencies (the default).
    #[default]
    Dag,
    /// Strict wave barriers: a wave starts when every earlier wave is done.
    Waves,
}

/// Knobs of a run. The journal keeps them (see [`crate::settings`]); a field added later gets
/// its default when an older record is read.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Options {
    /// Tasks running at once; `None`: one per agent of the plan.
    pub jobs: Option<usize>,
    /// Attempts per task before it fails.
    pub attempts: u32,
    /// Time an agent gets per attempt.
    #[serde(rename = "agent_timeout_secs", with = "crate::settings::secs")]
    pub agent_timeout: Duration,
    /// Time each Verify command gets.
    #[serde(rename = "verify_timeout_secs", with = "crate::settings::secs")]
    pub verify_timeout: Duration,
    /// Stop launching tasks after the first failure.
    pub fail_fast: bool,
    /// Task-level dependencies or wave barriers.
    pub schedule: ScheduleMode,
    /// Re-runs of a task whose change conflicts with work that landed meanwhile.
    pub conflict_retries: u32,
    /// What each new lane worktree gets besides the tracked files.
    #[serde(skip)]
    pub provision: Provision,
    /// Time the setup command gets.
    #[serde(rename = "setup_timeout_secs", with = "crate::settings::secs")]
    pub setup_timeout: Duration,
    /// Stop launching attempts once this many US dollars were spent (running ones finish).
    pub budget_usd: Option<f64>,
    /// Prices in US dollars per million tokens, `(input, output)`, by model id: the cost of
    /// CLIs that report tokens but no cost.
    pub prices: HashMap<String, (f64, f64)>,
    /// Checkpoint kinds answered without a person (`human-verify`, `decision`; never
    /// `human-action`): approved, or the first option.
    #[serde(with = "crate::settings::task_types")]
    pub auto_approve: Vec<TaskType>,
    /// Human-verify checkpoints of a wave wait until the rest of the wave can go no further,
    /// so that people answer them together.
    pub batch_checkpoints: bool,
    /// Fix rounds a quality gate gets before it stops as needs-human.
    pub gate_rounds: u32,
    /// Coverage of changed lines a production-engineer gate requires when its Done names none.
    pub coverage_threshold: Option<f64>,
    /// Whether the run's agent is asked to prove the plan's truths once every task landed (the
    /// default); when off, truths are left to a person (`MANUAL`).
    pub verify_truths: bool,
    /// The model gates' reviews and the verifier of the truths run on (`[verify] model`), an
    /// alias resolved per agent like the plan's; `None`: see [`Ctx::model_for`].
    pub verify_model: Option<String>,
    /// Where task attempts run: here, or as jobs of a cluster scheduler.
    #[serde(skip)]
    pub backend: crate::backend::BackendChoice,
}

impl Options {
    /// Tasks running at once for a plan with `schedule`: `-j`, else one per agent of the plan
    /// (tasks on no agent's row share one default lane). Also the most lane worktrees a run makes.
    pub fn tasks_at_once(&self, schedule: &Schedule) -> usize {
        let named = schedule.lanes().iter().filter(|l| !l.default).count();
        let defaults = usize::from(schedule.lanes().iter().any(|l| l.default));
        self.jobs.unwrap_or(named + defaults).max(1)
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jobs: None,
            attempts: 3,
            agent_timeout: Duration::from_secs(30 * 60),
            verify_timeout: Duration::from_secs(10 * 60),
            fail_fast: false,
            schedule: ScheduleMode::Dag,
            conflict_retries: 2,
            provision: Provision::default(),
            setup_timeout: Duration::from_secs(30 * 60),
            auto_approve: Vec::new(),
            batch_checkpoints: false,
            budget_usd: None,
            prices: HashMap::new(),
            gate_rounds: 3,
            coverage_threshold: None,
            verify_truths: true,
            verify_model: None,
            backend: crate::backend::BackendChoice::Local,
        }
    }
}

/// A repository wavecrew runs plans in: its work tree, its git directory and its journal.
pub struct Workspace {
    /// The top of the user's work tree.
    pub root: PathBuf,
    /// `<git dir>/wavecrew`: journal, run folders, worktrees.
    pub state_dir: PathBuf,
    /// The journal.
    pub journal: Arc<Journal>,
    /// `$XDG_STATE_HOME/wavecrew/worktrees/<repository>-<hash>`: the runs' worktrees.
    pub worktree_root: PathBuf,
    git: Git,
}

/// `$XDG_STATE_HOME/wavecrew/worktrees/<repository>-<hash>` for the repository at `root`
/// whose git directory is `common`.
fn worktree_root(root: &Path, common: &Path) -> PathBuf {
    let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "repo".into());
    let id: String = plan_hash(common.to_string_lossy().as_bytes()).chars().take(10).collect();
    let base = xdg_dir("XDG_STATE_HOME", ".local/state").unwrap_or_else(|| common.join("wavecrew"));
    base.join("worktrees").join(format!("{name}-{id}"))
}

impl Workspace {
    /// Opens the repository that holds `dir`.
    pub async fn open(dir: &Path) -> Result<Workspace, EngineError> {
        let probe = Git::new(dir);
        let root = probe.toplevel().await.map_err(|_| EngineError::NotARepo(dir.to_owned()))?;
        let git = Git::new(&root);
        let common = git.common_dir().await?;
        let state_dir = common.join("wavecrew");
        let journal = Arc::new(Journal::open(&state_dir.join("journal.sqlite"))?);
        let worktree_root = worktree_root(&root, &common);
        Ok(Workspace { root, state_dir, journal, worktree_root, git })
    }

    /// The worktrees folder of the repository that holds `dir` (see [`Workspace::worktree_root`]),
    /// found without opening (or making) its journal: for `run --dry-run`.
    pub async fn worktree_root_of(dir: &Path) -> Result<PathBuf, EngineError> {
        let root = Git::new(dir).toplevel().await.map_err(|_| EngineError::NotARepo(dir.to_owned()))?;
        let common = Git::new(&root).common_dir().await?;
        Ok(worktree_root(&root, &common))
    }

    /// The folder of a run: logs, prompts, reports.
    pub fn run_dir(&self, run: &str) -> PathBuf {
        self.state_dir.join("runs").join(run)
    }

    /// Where a run's worktrees go: wavecrew's state folder, outside the repository's `.git`
    /// (agent CLIs refuse to edit files under a `.git` folder) and outside its work tree.
    pub fn worktrees_dir(&self, run: &str) -> PathBuf {
        self.worktree_root.join(run)
    }
    /// A run of this repository that is active: marked running, and its process alive.
    pub fn active_run(&self) -> Result<Option<RunRecord>, EngineError> {
        let me = std::process::id();
        Ok(self.journal.runs()?.into_iter().find(|r| r.state == RunState::Running && r.pid != me && pid_alive(r.pid)))
    }
}

/// wavecrew's folder of an XDG kind: `$<var>/wavecrew`, else `~/<fallback>/wavecrew`.
pub fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    let base = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(fallback)))?;
    Some(base.join("wavecrew"))
}

/// Whether process `pid` exists.
pub fn pid_alive(pid: u32) -> bool {
    i32::try_from(pid).is_ok_and(|pid| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok())
}

/// The branch a milestone's run works on: `wavecrew/<milestone>`, made safe for a ref name.
pub fn branch_name(milestone: &str) -> String {
    let safe: String = milestone
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .collect();
    let safe = safe.trim_matches(['.', '-']).replace("..", ".");
    format!("wavecrew/{}", if safe.is_empty() { "plan" } else { &safe })
}

/// A new run id: UTC time and 4 hex digits, e.g. `20261127-041502-3f9a`.
fn new_run_id() -> String {
    let secs = now_ms() / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let noise = (now_ms() as u32 ^ std::process::id().wrapping_mul(2_654_435_761)) & 0xffff;
    format!("{year:04}{month:02}{day:02}-{:02}{:02}{:02}-{noise:04x}", rest / 3600, rest / 60 % 60, rest % 60)
}

/// SHA-256 of a plan's bytes, hex.
pub fn plan_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a run ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The run's id.
    pub run: String,
    /// How it ended.
    pub state: RunState,
    /// Its branch.
    pub branch: String,
    /// Tasks committed, failed and skipped.
    pub committed: usize,
    /// Tasks that failed.
    pub failed: usize,
    /// Tasks skipped because a dependency failed.
    pub skipped: usize,
}

/// Records events in the journal before anything acts on them, then passes them on.
#[derive(Clone)]
pub(crate) struct Emitter {
    run: String,
    pub(crate) journal: Arc<Journal>,
    tx: broadcast::Sender<Envelope>,
    /// On a worker (a Slurm job): events go to the spool's `events.jsonl` for the head, not to
    /// a journal.
    sink: Option<Arc<crate::remote::EventWriter>>,
}

impl Emitter {
    pub(crate) fn emit(&self, event: Event) -> Result<(), JournalError> {
        if let Some(sink) = &self.sink {
            if matches!(event, Event::AgentOutput { .. }) {
                return Ok(()); // the log file has it
            }
            return sink.write(&event).map_err(|e| JournalError::io(Path::new("events.jsonl"), e));
        }
        let envelope = match event {
            // Agent output is in the attempt's log file; the journal keeps states, not chatter.
            Event::AgentOutput { .. } => Envelope { run: self.run.clone(), seq: 0, at_ms: now_ms(), event },
            event => self.journal.record(&self.run, event)?,
        };
        let _ = self.tx.send(envelope);
        Ok(())
    }
}

/// Everything the attempts of one run share.
pub(crate) struct Ctx {
    pub(crate) run: RunRecord,
    pub(crate) plan: Plan,
    pub(crate) schedule: Schedule,
    pub(crate) agent: Arc<dyn Agent>,
    pub(crate) options: Options,
    pub(crate) emitter: Emitter,
    pub(crate) repo: Git,
    root: PathBuf,
    pub(crate) run_dir: PathBuf,
    worktrees: PathBuf,
    /// Integration onto the run branch happens one task at a time.
    integrate: Mutex<()>,
    /// `git worktree add` races on `.git/config.lock`: one at a time.
    add_worktree: Mutex<()>,
    /// For each lane worktree, the hash of the setup inputs its setup last ran with.
    setup_done: Mutex<HashMap<PathBuf, String>>,
    /// For each worktree, the variables of the lane that prepared it last (its own
    /// `CARGO_TARGET_DIR`): every command run in it gets them.
    lane_env: std::sync::Mutex<HashMap<PathBuf, Vec<(String, String)>>>,
    /// Worktrees not in use, to be reused.
    pool: Pool,
    /// Decisions taken so far: (task, its summary, the option), told to later agents.
    pub(crate) decisions: std::sync::Mutex<Vec<(String, String, String)>>,
    /// Where attempts run (`--backend`).
    backend: Box<dyn crate::backend::Backend>,
    /// Attempts that were running as scheduler jobs when the run stopped: `resume` follows
    /// them rather than starting new ones. Task -> (attempt, job id).
    reattach: HashMap<TaskId, (u32, String)>,
    /// Checkpoints that were waiting when the run stopped, with the change they ask about.
    waiting: HashMap<TaskId, Option<String>>,
    /// US dollars the agents reported (or the price table gave), in millionths.
    spent_micro_usd: std::sync::atomic::AtomicU64,
    /// Checkpoints tell the scheduler when they wait for a person (and free their slot) and
    /// when they want a slot again.
    parking: mpsc::UnboundedSender<Parking>,
    /// The scheduler's end of `parking`, taken once by [`execute`].
    parking_rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Parking>>>,
    /// Waves where nothing but waiting checkpoints can move any more (`--batch-checkpoints`).
    settled_waves: watch::Sender<HashSet<u32>>,
    pub(crate) cancel: watch::Receiver<bool>,
}

impl Ctx {
    /// Journals that the run's agent starts on `task` (its `attempt`, or a gate's round) in
    /// `worktree` at `base`; `role` when it is not the task's own work (`review`, `verify`).
    pub(crate) fn attempt_started(
        &self,
        task: &str,
        attempt: u32,
        lane: &str,
        worktree: String,
        base: &str,
        role: Option<AgentRole>,
    ) -> Result<(), JournalError> {
        self.emitter.emit(Event::AttemptStarted {
            task: task.to_owned(),
            attempt,
            lane: lane.to_owned(),
            agent: self.agent.name().to_owned(),
            model: self.model_for(task, role.unwrap_or_default()),
            worktree,
            base: base.to_owned(),
            role,
        })
    }
}

impl Ctx {
    /// The model the agent runs on for `task` as `role` (see [`model_for`]).
    pub(crate) fn model_for(&self, task: &str, role: AgentRole) -> Option<String> {
        model_for(&self.schedule, self.options.verify_model.as_deref(), task, role).map(str::to_owned)
    }
}

/// The model the agent runs on for `task` as `role`: a task's work on the model of its own
/// Agent Strategy row (none when the plan names none for it); a gate's review on
/// `verify_model` (`[verify] model`), else its gate's model; the verifier of the truths on
/// `verify_model`. Reviews and the verifier fall back to the model of the plan's last wave, so
/// that they never run on a CLI's unnamed default when the plan names models.
fn model_for<'a>(
    schedule: &'a Schedule,
    verify_model: Option<&'a str>,
    task: &str,
    role: AgentRole,
) -> Option<&'a str> {
    let own = TaskId::parse(task).and_then(|id| schedule.model_of(id));
    match role {
        AgentRole::Task => own,
        AgentRole::Review => verify_model.or(own).or_else(|| schedule.last_wave_model()),
        AgentRole::Verify => verify_model.or_else(|| schedule.last_wave_model()),
    }
}

/// A checkpoint's word to the scheduler.
enum Parking {
    /// It waits for a person: its slot is free for other tasks meanwhile.
    Park(TaskId),
    /// It was answered and wants a slot again; the scheduler says when it has one.
    Unpark(TaskId, oneshot::Sender<()>),
}

/// Every skill a task names must have a text (in the repository or built in), and a gate must
/// have a skill whose checks wavecrew runs: a built-in one, or one the repository defines with
/// Verify commands to run. A run does not start on a promise it cannot keep.
fn check_skills(root: &Path, plan: &Plan) -> Result<(), EngineError> {
    use crate::gate::GateSkill;
    for task in &plan.tasks {
        for skill in &task.skills {
            let name = skill.value.as_str();
            if crate::skills::text(root, name).is_none() {
                return Err(EngineError::Unsupported(format!(
                    "task {} names the skill `{name}`, which is neither in .claude/skills/{name}/SKILL.md, nor in .wavecrew/skills/{name}.md, nor built in ({})",
                    task.id,
                    crate::gate::SKILLS.join(", ")
                )));
            }
        }
        if task.kind != TaskType::Gate {
            continue;
        }
        let kinds: Vec<(&str, GateSkill)> = task
            .skills
            .iter()
            .filter_map(|s| GateSkill::of(root, &s.value).map(|kind| (s.value.as_str(), kind)))
            .collect();
        // A repository skill's checks are the task's Verify commands: without one it checks nothing.
        let repository = kinds.iter().find(|(_, kind)| *kind == GateSkill::Repository);
        if let Some((name, _)) = repository.filter(|_| task.verify_commands.is_empty()) {
            return Err(EngineError::Unsupported(format!(
                "gate task {} uses the repository's skill `{name}`, whose checks are the task's Verify commands, but its Verify names no backticked command: a gate's verdict must come from checks; add one (e.g. `make lint`)",
                task.id
            )));
        }
        if kinds.is_empty() {
            return Err(EngineError::Unsupported(format!(
                "gate task {} has no skill whose checks wavecrew runs ({}, or a skill of the repository's .claude/skills or .wavecrew/skills): a gate's verdict must come from checks",
                task.id,
                crate::gate::SKILLS.join(", ")
            )));
        }
    }
    Ok(())
}

/// `Attempts: N parallel` asks for the best of N attempts run at once, chosen by evidence; this
/// version cannot run attempts side by side yet, and running them one after another instead
/// would be another promise than the plan's, so such a plan does not start.
fn check_attempts(plan: &Plan) -> Result<(), EngineError> {
    let parallel = plan.tasks.iter().find_map(|task| {
        let attempts = task.attempts.as_ref().map(|a| a.value)?;
        (attempts.parallel && attempts.count > 1).then_some((task.id, attempts.count))
    });
    match parallel {
        Some((id, count)) => Err(EngineError::Unsupported(format!(
            "task {id} asks for `Attempts: {count} parallel`: best of N attempts at once is not supported yet; \
             write `Attempts: {count}` for up to {count} attempts one after another, or remove the field"
        ))),
        None => Ok(()),
    }
}

/// Whether a new file at `path` of a worktree stays out of commits: files brought in from the
/// main tree, the agent CLI's scratch, and the answers wavecrew asked agents for.
fn keep_out(ctx: &Ctx, path: &Path) -> bool {
    ctx.options.provision.includes(path) || ctx.agent.is_scratch(path) || crate::gate::is_answer_scratch(path)
}

/// Starts a run of `plan` (already checked: no errors) in `ws`.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    ws: &Workspace,
    plan_path: &str,
    plan_bytes: &[u8],
    plan: Plan,
    agent: Arc<dyn Agent>,
    options: Options,
    settings: &crate::settings::RunSettings,
    events: broadcast::Sender<Envelope>,
    cancel: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    if let Some(active) = ws.active_run()? {
        return Err(EngineError::Active { run: active.id, pid: active.pid });
    }
    check_skills(&ws.root, &plan)?;
    check_attempts(&plan)?;
    let base = ws.git.rev_parse("HEAD").await.map_err(|_| EngineError::NoCommit)?;
    let branch = branch_name(&plan.milestone);
    if ws.git.branch_exists(&branch).await {
        let newest = ws.journal.runs()?.into_iter().find(|r| r.branch == branch);
        let resumable = newest.filter(|r| r.state != RunState::Succeeded).map(|r| r.id);
        return Err(EngineError::BranchExists { branch, resumable });
    }
    let run = RunRecord {
        id: new_run_id(),
        plan_path: plan_path.to_owned(),
        plan_hash: plan_hash(plan_bytes),
        plan_text: String::from_utf8_lossy(plan_bytes).into_owned(),
        milestone: plan.milestone.clone(),
        title: plan.title.clone(),
        branch: branch.clone(),
        base: base.clone(),
        state: RunState::Running,
        started_ms: now_ms(),
        finished_ms: None,
        pid: std::process::id(),
        options: settings.to_json(),
    };
    let tasks: Vec<String> = plan.tasks.iter().map(|t| t.id.to_string()).collect();
    ws.journal.create_run(&run, &tasks)?;
    ws.git.create_branch(&branch, &base).await?;
    let ctx = context(ws, run, plan, agent, options, events, cancel);
    let lanes = lane_infos(&ctx);
    ctx.emitter.emit(Event::RunStarted {
        milestone: ctx.plan.milestone.clone(),
        title: ctx.plan.title.clone(),
        branch,
        base,
        tasks,
        lanes,
    })?;
    execute(Arc::new(ctx), HashMap::new()).await
}

/// Picks up `run` where it stopped: committed tasks stay, the rest starts again from a clean
/// worktree; processes and worktrees left behind are reclaimed. `settings` are what it goes on
/// with (the journal keeps them for the next resume); `overrides` say which of them the person
/// changed from what the run had.
#[allow(clippy::too_many_arguments)]
pub async fn resume(
    ws: &Workspace,
    run_id: &str,
    agent: Arc<dyn Agent>,
    options: Options,
    settings: &crate::settings::RunSettings,
    overrides: Vec<String>,
    events: broadcast::Sender<Envelope>,
    cancel: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    let run = ws.journal.run(run_id)?.ok_or_else(|| EngineError::UnknownRun(run_id.to_owned()))?;
    if run.state == RunState::Running && run.pid != std::process::id() && pid_alive(run.pid) {
        return Err(EngineError::Active { run: run.id, pid: run.pid });
    }
    if run.state == RunState::Succeeded {
        return Err(EngineError::Finished(run.id));
    }
    let plan = plan::parse(&run.plan_text, &run.milestone).plan;

    // Processes of the previous session that still run would write into worktrees we reuse.
    // Attempts handed to a scheduler as jobs are followed again instead.
    let mut reattach = HashMap::new();
    for attempt in ws.journal.running_attempts(&run.id)? {
        if let (Some(job), Some(id)) = (&attempt.job, TaskId::parse(&attempt.task)) {
            reattach.insert(id, (attempt.attempt, job.clone()));
            continue;
        }
        if let Some(pid) = attempt.pid.filter(|&pid| process::group_alive(pid)) {
            process::stop_group(pid).await;
        }
    }
    // Worktrees are rebuilt from the branch: whatever was half done in them is not kept.
    let worktrees = ws.worktrees_dir(&run.id);
    remove_worktrees(&ws.git, &worktrees).await;

    // A crash may have come before the branch was made, or in the middle of moving it.
    let lock = ws.git.common_dir().await?.join(format!("refs/heads/{}.lock", run.branch));
    let _ = tokio::fs::remove_file(lock).await;
    if !ws.git.branch_exists(&run.branch).await {
        ws.git.create_branch(&run.branch, &run.base).await?;
    }
    // Git is the truth about what landed: every commit with this run's trailer is done.
    let landed: HashMap<String, String> =
        ws.git.run_commits(&run.base, &run.branch, &run.id).await?.into_iter().map(|(c, t)| (t, c)).collect();
    ws.journal.claim(&run.id, std::process::id())?;
    ws.journal.set_options(&run.id, &settings.to_json())?;
    // The budget counts what the run's agents spent before it stopped too.
    let spent = ws.journal.spent_usd(&run.id)?;
    let ctx = context(ws, run, plan, agent, options, events, cancel);
    // For every task: whether it landed, and how many attempts it made (new ones number on).
    let mut ctx = ctx;
    ctx.reattach = reattach;
    ctx.spent_micro_usd = std::sync::atomic::AtomicU64::new((spent * 1_000_000.0).round() as u64);
    let mut prior: HashMap<TaskId, (bool, u32)> = HashMap::new();
    for record in ws.journal.tasks(&ctx.run.id)? {
        let Some(id) = TaskId::parse(&record.task) else { continue };
        match landed.get(&record.task) {
            Some(commit) => {
                if record.state != TaskState::Committed {
                    // It landed, but the journal did not hear of it before the crash.
                    ctx.emitter.emit(Event::TaskCommitted {
                        task: record.task.clone(),
                        attempt: record.attempts.max(1),
                        commit: commit.clone(),
                        message: "(recovered from the run branch)".into(),
                    })?;
                }
                prior.insert(id, (true, record.attempts));
            }
            None if record.state == TaskState::Waiting => {
                // Still waiting for a person: the change it asks about stays, no agent runs again.
                ctx.waiting.insert(id, ws.journal.waiting_commit(&ctx.run.id, &record.task)?);
                prior.insert(id, (false, record.attempts));
            }
            None => {
                if record.state != TaskState::Pending {
                    ws.journal.reset_task(&ctx.run.id, &record.task)?;
                }
                prior.insert(id, (false, record.attempts));
            }
        }
    }
    let mut done: Vec<String> = prior.iter().filter(|(_, p)| p.0).map(|(id, _)| id.to_string()).collect();
    done.sort();
    ctx.emitter.emit(Event::RunResumed { committed: done, overrides })?;
    for envelope in ws.journal.events(&ctx.run.id, 0)? {
        if let Event::CheckpointAnswered { task, answer, detail: Some(option), .. } = envelope.event
            && answer == AnswerKind::Decided
        {
            let summary =
                TaskId::parse(&task).and_then(|id| ctx.plan.task(id)).map(plan::Task::summary).unwrap_or_default();
            ctx.decisions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((task, summary, option));
        }
    }
    let ctx = Arc::new(ctx);
    execute(ctx, prior).await
}

#[allow(clippy::too_many_arguments)]
fn context(
    ws: &Workspace,
    run: RunRecord,
    plan: Plan,
    agent: Arc<dyn Agent>,
    options: Options,
    events: broadcast::Sender<Envelope>,
    cancel: watch::Receiver<bool>,
) -> Ctx {
    let schedule = Schedule::new(&plan);
    let (parking, parking_rx) = mpsc::unbounded_channel();
    let backend = crate::backend::make(&options.backend);
    Ctx {
        backend,
        reattach: HashMap::new(),
        parking,
        parking_rx: std::sync::Mutex::new(Some(parking_rx)),
        settled_waves: watch::Sender::new(HashSet::new()),
        emitter: Emitter { run: run.id.clone(), journal: ws.journal.clone(), tx: events, sink: None },
        run_dir: ws.run_dir(&run.id),
        worktrees: ws.worktrees_dir(&run.id),
        repo: ws.git.clone(),
        root: ws.root.clone(),
        run,
        plan,
        schedule,
        agent,
        options,
        integrate: Mutex::new(()),
        add_worktree: Mutex::new(()),
        setup_done: Mutex::new(HashMap::new()),
        lane_env: std::sync::Mutex::new(HashMap::new()),
        pool: Pool::default(),
        decisions: std::sync::Mutex::new(Vec::new()),
        waiting: HashMap::new(),
        spent_micro_usd: std::sync::atomic::AtomicU64::new(0),
        cancel,
    }
}

impl Ctx {
    /// The variables of the lane whose task runs in `worktree` (see [`prepare_worktree`]).
    pub(crate) fn env_in(&self, worktree: &Path) -> Vec<(String, String)> {
        let envs = self.lane_env.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        envs.get(worktree).cloned().unwrap_or_default()
    }
}

fn lane_infos(ctx: &Ctx) -> Vec<LaneInfo> {
    ctx.schedule
        .lanes()
        .iter()
        .map(|lane| LaneInfo {
            name: lane.name.clone(),
            agent: ctx.agent.name().to_owned(),
            model: lane.model.clone(),
            tasks: lane.tasks.iter().map(ToString::to_string).collect(),
        })
        .collect()
}

/// Worktrees shared by the run's tasks: at most one per task running at once, so `-j`
/// bounds them (not the number of lanes). A task takes the worktree its lane used last when it
/// is free (its ignored build outputs are warm), else any free one, else a new one.
#[derive(Default)]
struct Pool {
    free: Mutex<Vec<(String, PathBuf)>>,
    made: std::sync::atomic::AtomicUsize,
}

impl Pool {
    async fn take(&self, lane: &str, dir: &Path) -> PathBuf {
        let mut free = self.free.lock().await;
        let index = free.iter().position(|(last, _)| last == lane).or(if free.is_empty() { None } else { Some(0) });
        match index {
            Some(index) => free.swap_remove(index).1,
            None => dir.join(format!("slot-{}", self.made.fetch_add(1, std::sync::atomic::Ordering::Relaxed))),
        }
    }

    async fn give_back(&self, lane: &str, worktree: PathBuf) {
        self.free.lock().await.push((lane.to_owned(), worktree));
    }
}

/// How one task's run ended.
enum Outcome {
    Committed,
    Failed,
    Cancelled,
    /// The journal could not be written: the run must stop.
    Broken(EngineError),
}

/// The scheduler loop: launches ready tasks, collects their ends, skips the dependents of
/// failures, and finishes the run. `prior` holds, for a resumed run, each task's
/// (committed, attempts made).
async fn execute(ctx: Arc<Ctx>, prior: HashMap<TaskId, (bool, u32)>) -> Result<Summary, EngineError> {
    let order = ctx.schedule.task_order().unwrap_or_else(|| ctx.plan.tasks.iter().map(|t| t.id).collect());
    let mut state: HashMap<TaskId, TaskState> = order
        .iter()
        .map(|&id| (id, if prior.get(&id).is_some_and(|p| p.0) { TaskState::Committed } else { TaskState::Pending }))
        .collect();
    let lane_index: HashMap<TaskId, usize> =
        ctx.schedule.lanes().iter().enumerate().flat_map(|(i, lane)| lane.tasks.iter().map(move |&t| (t, i))).collect();
    let jobs = ctx.options.tasks_at_once(&ctx.schedule);

    // What each task waits for, worked out once: the loop below asks after every event.
    let waits: HashMap<TaskId, Vec<TaskId>> =
        order.iter().map(|&id| (id, waits_for(&ctx.plan, &ctx.schedule, ctx.options.schedule, id))).collect();
    // Each task's Files, by id (the first task of an id, as `Plan::task`): asked after every event.
    let files: HashMap<TaskId, &[plan::Spanned<String>]> =
        ctx.plan.tasks.iter().rev().map(|t| (t.id, t.files.as_slice())).collect();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(TaskId, Outcome)>();
    let mut parking = ctx.parking_rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    // Tasks holding a slot (and their lane), and checkpoints waiting for a person (which hold none).
    let mut running: HashMap<TaskId, usize> = HashMap::new();
    let mut parked: HashMap<TaskId, usize> = HashMap::new();
    // Answered checkpoints waiting for a slot, first come first served.
    let mut unparking: Vec<(TaskId, oneshot::Sender<()>)> = Vec::new();
    // Once set, nothing new starts; running tasks finish (or, when cancelled, are stopped).
    let mut stopping: Option<String> = None;
    let mut broken: Option<EngineError> = None;
    let mut cancel = ctx.cancel.clone();
    loop {
        if stopping.is_none() {
            // Skip what can never run, then launch what can.
            for &id in &order {
                if state[&id] != TaskState::Pending {
                    continue;
                }
                if let Some(failed) =
                    waits[&id].iter().find(|t| matches!(state.get(t), Some(TaskState::Failed | TaskState::Skipped)))
                {
                    state.insert(id, TaskState::Skipped);
                    if let Err(error) =
                        ctx.emitter.emit(Event::TaskSkipped { task: id.to_string(), because: failed.to_string() })
                    {
                        broken = Some(error.into());
                        break;
                    }
                }
            }
            if let Some(budget) = ctx.options.budget_usd {
                let spent = ctx.spent_micro_usd.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1_000_000.0;
                if spent >= budget {
                    stopping = Some(format!(
                        "the budget of ${budget:.2} is spent (${spent:.4}); running tasks finish, nothing new starts"
                    ));
                }
            }
            // Answered checkpoints go first: their work is done but for landing it.
            while running.len() < jobs && !unparking.is_empty() {
                let (id, go) = unparking.remove(0);
                if let Some(lane) = parked.remove(&id) {
                    running.insert(id, lane);
                }
                let _ = go.send(());
            }
            for &id in &order {
                if running.len() >= jobs || broken.is_some() || stopping.is_some() {
                    break;
                }
                if state[&id] != TaskState::Pending || !ready(&files, &waits[&id], &state, &running, &lane_index, id) {
                    continue;
                }
                state.insert(id, TaskState::Running);
                running.insert(id, lane_index[&id]);
                let first_attempt = prior.get(&id).map_or(1, |p| p.1 + 1);
                let (ctx, done_tx) = (ctx.clone(), done_tx.clone());
                tokio::spawn(async move {
                    let outcome = run_task(&ctx, id, first_attempt).await;
                    let _ = done_tx.send((id, outcome));
                });
            }
        }
        if stopping.is_some() {
            // Nothing new starts: an answered checkpoint may finish all the same.
            for (id, go) in unparking.drain(..) {
                if let Some(lane) = parked.remove(&id) {
                    running.insert(id, lane);
                }
                let _ = go.send(());
            }
        }
        if ctx.options.batch_checkpoints {
            let settled = settled_waves(&ctx.plan, &state, &running, &parked, &waits);
            ctx.settled_waves.send_if_modified(|known| {
                let changed = *known != settled;
                *known = settled;
                changed
            });
        }
        if running.is_empty() && parked.is_empty() && unparking.is_empty() {
            break;
        }
        tokio::select! {
            Some(message) = async { parking.as_mut()?.recv().await } => match message {
                Parking::Park(id) => {
                    if let Some(lane) = running.remove(&id) {
                        parked.insert(id, lane);
                    }
                }
                Parking::Unpark(id, go) => unparking.push((id, go)),
            },
            Some((id, outcome)) = done_rx.recv() => {
                running.remove(&id);
                parked.remove(&id);
                let next = match outcome {
                    Outcome::Committed => TaskState::Committed,
                    Outcome::Failed => {
                        if ctx.options.fail_fast && stopping.is_none() {
                            stopping = Some(format!("task {id} failed and --fail-fast is on"));
                        }
                        TaskState::Failed
                    }
                    Outcome::Cancelled => TaskState::Pending,
                    Outcome::Broken(error) => {
                        stopping.get_or_insert_with(|| error.to_string());
                        broken.get_or_insert(error);
                        TaskState::Pending
                    }
                };
                state.insert(id, next);
            }
            changed = cancel.changed(), if stopping.is_none() => {
                if changed.is_err() || *cancel.borrow() {
                    stopping = Some("cancelled".into());
                }
            }
        }
    }

    let cancelled = stopping.as_deref() == Some("cancelled");
    if let Some(reason) = &stopping {
        let _ = ctx.emitter.emit(Event::Stopping { reason: reason.clone() });
    }
    if let Some(error) = broken {
        return Err(error);
    }
    let count = |s: TaskState| state.values().filter(|&&v| v == s).count();
    let (committed, failed, skipped) =
        (count(TaskState::Committed), count(TaskState::Failed), count(TaskState::Skipped));
    let mut run_state = if cancelled {
        RunState::Cancelled
    } else if committed == state.len() {
        RunState::Succeeded
    } else {
        RunState::Failed
    };
    if run_state == RunState::Succeeded {
        match verify_run(&ctx).await {
            Ok(true) => {}
            Ok(false) => run_state = RunState::Failed,
            Err(EngineError::Cancelled) => run_state = RunState::Cancelled,
            Err(error) => return Err(error),
        }
    }
    if run_state != RunState::Cancelled {
        remove_worktrees(&ctx.repo, &ctx.worktrees).await;
    }
    ctx.emitter.emit(Event::RunFinished {
        state: run_state,
        committed,
        failed,
        skipped,
        duration_ms: now_ms().saturating_sub(ctx.run.started_ms),
    })?;
    Ok(Summary {
        run: ctx.run.id.clone(),
        state: run_state,
        branch: ctx.run.branch.clone(),
        committed,
        failed,
        skipped,
    })
}

/// Waves where nothing can move but by a person's answer: no task of the wave holds a slot,
/// and every task of it is over, waits for a person, or waits for something that is not
/// committed yet. Their human-verify checkpoints are then shown together (`--batch-checkpoints`).
fn settled_waves(
    plan: &Plan,
    state: &HashMap<TaskId, TaskState>,
    running: &HashMap<TaskId, usize>,
    parked: &HashMap<TaskId, usize>,
    waits: &HashMap<TaskId, Vec<TaskId>>,
) -> HashSet<u32> {
    plan.waves
        .iter()
        .filter(|wave| {
            wave.tasks.iter().all(|id| {
                if running.contains_key(id) {
                    return false;
                }
                match state.get(id) {
                    Some(TaskState::Pending) => {
                        waits.get(id).is_some_and(|w| w.iter().any(|t| state.get(t) != Some(&TaskState::Committed)))
                    }
                    Some(TaskState::Running) => parked.contains_key(id),
                    _ => true,
                }
            })
        })
        .map(|wave| wave.number)
        .collect()
}

/// The tasks `id` waits for: every task of the waves its wave depends on (with `--schedule
/// waves`, of every earlier wave), and the tasks before it in its own wave.
pub fn waits_for(plan: &Plan, schedule: &Schedule, mode: ScheduleMode, id: TaskId) -> Vec<TaskId> {
    let Some(task) = plan.task(id) else { return Vec::new() };
    let waves: Vec<u32> = match mode {
        ScheduleMode::Dag => {
            plan.wave(task.wave).map(|w| w.depends_on.iter().map(|d| d.value).collect()).unwrap_or_default()
        }
        ScheduleMode::Waves => {
            let order = schedule.wave_order().unwrap_or_default();
            order.iter().take_while(|&&w| w != task.wave).copied().collect()
        }
    };
    let mut before: Vec<TaskId> = plan.tasks.iter().filter(|t| waves.contains(&t.wave)).map(|t| t.id).collect();
    before.extend(schedule.in_wave_predecessors(id));
    before
}

/// Whether `id` can start now: what it waits for is committed, its lane is free, and no
/// running task lists an overlapping file.
fn ready(
    files: &HashMap<TaskId, &[plan::Spanned<String>]>,
    waits: &[TaskId],
    state: &HashMap<TaskId, TaskState>,
    running: &HashMap<TaskId, usize>,
    lanes: &HashMap<TaskId, usize>,
    id: TaskId,
) -> bool {
    let Some(own) = files.get(&id) else { return false };
    let lane = lanes.get(&id);
    waits.iter().all(|t| state.get(t) == Some(&TaskState::Committed))
        && running.values().all(|l| Some(l) != lane)
        && running.keys().all(|other| files.get(other).is_none_or(|theirs| !plan::files_overlap(own, theirs)))
}

/// Runs one task to its end: attempts until one commits, or they are used up.
async fn run_task(ctx: &Ctx, id: TaskId, first_attempt: u32) -> Outcome {
    let Some(task) = ctx.plan.task(id) else { return Outcome::Failed };
    let lane_name = ctx.schedule.lane_of(id).map_or("default".to_owned(), |l| l.name.clone());
    let worktree = ctx.pool.take(&lane_name, &ctx.worktrees).await;
    let outcome = run_attempts(ctx, task, &lane_name, &worktree, first_attempt).await;
    ctx.pool.give_back(&lane_name, worktree).await;
    outcome
}

/// The attempts of one task in `worktree`, until one commits or they are used up.
async fn run_attempts(ctx: &Ctx, task: &plan::Task, lane_name: &str, worktree: &Path, first_attempt: u32) -> Outcome {
    let id = task.id;
    if matches!(task.kind, TaskType::Decision | TaskType::HumanAction) {
        return match manual_task(ctx, task).await {
            Ok(Attempt::Committed) => Outcome::Committed,
            Ok(Attempt::Cancelled) => Outcome::Cancelled,
            Ok(_) => Outcome::Failed,
            Err(error) => Outcome::Broken(error),
        };
    }
    if task.kind == TaskType::Gate {
        return match gate_task(ctx, task, lane_name, worktree, first_attempt).await {
            Ok(Attempt::Committed) => Outcome::Committed,
            Ok(Attempt::Cancelled) => Outcome::Cancelled,
            Ok(
                Attempt::Failed(reason)
                | Attempt::Conflict(reason)
                | Attempt::Rejected(reason)
                | Attempt::VerifyTimedOut(reason),
            ) => match ctx.emitter.emit(Event::TaskFailed { task: id.to_string(), attempts: first_attempt, reason }) {
                Ok(()) => Outcome::Failed,
                Err(error) => Outcome::Broken(error.into()),
            },
            Err(error) => Outcome::Broken(error),
        };
    }
    let mut failure: Option<String> = None;
    // A human-verify checkpoint that was waiting when the run stopped: its change is still there.
    if let Some(Some(commit)) = ctx.waiting.get(&id) {
        match resume_waiting(ctx, task, commit, first_attempt.saturating_sub(1).max(1)).await {
            Ok(Attempt::Committed) => return Outcome::Committed,
            Ok(Attempt::Cancelled) => return Outcome::Cancelled,
            Ok(
                Attempt::Rejected(reason)
                | Attempt::Failed(reason)
                | Attempt::Conflict(reason)
                | Attempt::VerifyTimedOut(reason),
            ) => failure = Some(reason),
            Err(error) => return Outcome::Broken(error),
        }
    }
    let mut conflicts = 0;
    let mut attempt = first_attempt;
    let mut used = 0;
    // The task's own **Attempts** (one after another) wins over `--attempts`.
    let allowed = task.attempts.as_ref().map_or(ctx.options.attempts, |a| u32::from(a.count));
    // An attempt still running as a scheduler job when the run stopped is followed to its end
    // first, under its own number.
    let mut reattach = ctx.reattach.get(&id).cloned();
    loop {
        if *ctx.cancel.borrow() {
            return Outcome::Cancelled;
        }
        used += 1;
        let (this, result) = match reattach.take() {
            Some((old, job)) => (old, reattach_once(ctx, task, old, &job).await),
            None => (attempt, attempt_once(ctx, task, attempt, lane_name, worktree, failure.as_deref()).await),
        };
        let reason = match result {
            Ok(Attempt::Committed) => return Outcome::Committed,
            Ok(Attempt::Cancelled) => return Outcome::Cancelled,
            Ok(Attempt::Rejected(reason)) => {
                // A person's rejection is not a failure of the agent: it goes back with the reason.
                used -= 1;
                reason
            }
            Ok(Attempt::Conflict(reason)) if conflicts < ctx.options.conflict_retries => {
                conflicts += 1;
                used -= 1; // a conflict is not the agent's failure: run again on the new base
                reason
            }
            Ok(Attempt::Conflict(reason) | Attempt::Failed(reason)) => reason,
            // Another attempt would run the same command and wait as long again.
            Ok(Attempt::VerifyTimedOut(reason)) => {
                return match ctx.emitter.emit(Event::TaskFailed { task: id.to_string(), attempts: this, reason }) {
                    Ok(()) => Outcome::Failed,
                    Err(error) => Outcome::Broken(error.into()),
                };
            }
            Err(EngineError::Journal(error)) => return Outcome::Broken(EngineError::Journal(error)),
            Err(error) => format!("wavecrew could not run the attempt: {error}"),
        };
        if used >= allowed {
            return match ctx.emitter.emit(Event::TaskFailed { task: id.to_string(), attempts: this, reason }) {
                Ok(()) => Outcome::Failed,
                Err(error) => Outcome::Broken(error.into()),
            };
        }
        if let Err(error) =
            ctx.emitter.emit(Event::AttemptFailed { task: id.to_string(), attempt: this, reason: reason.clone() })
        {
            return Outcome::Broken(error.into());
        }
        failure = Some(reason);
        if this == attempt {
            attempt += 1;
        }
    }
}

/// Follows attempt `attempt` of `task`, which was running as job `job` when the run stopped,
/// to its end, and lands its change as [`attempt_once`] would.
async fn reattach_once(ctx: &Ctx, task: &plan::Task, attempt: u32, job: &str) -> Result<Attempt, EngineError> {
    match ctx.backend.reattach(ctx, task, attempt, job).await? {
        (Work::Tree(tree), base) => land_attempt(ctx, task, attempt, &base, &tree).await,
        (Work::Ended(ended), _) => Ok(ended),
    }
}

/// How one attempt ended.
pub(crate) enum Attempt {
    Committed,
    Failed(String),
    Conflict(String),
    /// A person rejected the change of a human-verify checkpoint, with this reason.
    Rejected(String),
    /// A Verify command did not exit within the Verify timeout: the task fails without another
    /// attempt, which would only wait as long again.
    VerifyTimedOut(String),
    Cancelled,
}

async fn attempt_once(
    ctx: &Ctx,
    task: &plan::Task,
    attempt: u32,
    lane: &str,
    worktree: &Path,
    failure: Option<&str>,
) -> Result<Attempt, EngineError> {
    let base = ctx.repo.rev_parse(&format!("refs/heads/{}", ctx.run.branch)).await?;
    let job = crate::backend::AttemptJob { task, attempt, lane, worktree, base: &base, failure };
    match ctx.backend.work(ctx, job).await? {
        Work::Tree(tree) => land_attempt(ctx, task, attempt, &base, &tree).await,
        Work::Ended(ended) => Ok(ended),
    }
}

/// What an attempt's agent and Verify commands came to.
pub(crate) enum Work {
    /// Every Verify command passed; the tree of the agent's work (taken before Verify ran).
    Tree(String),
    /// The attempt ended without a change to land.
    Ended(Attempt),
}

/// The local backend's attempt: prepares `worktree` at `base`, then runs the agent and the
/// Verify commands in it.
pub(crate) async fn work_here(ctx: &Ctx, job: &crate::backend::AttemptJob<'_>) -> Result<Work, EngineError> {
    let id = job.task.id.to_string();
    if let Some(failure) = prepare_worktree(ctx, &id, job.lane, job.worktree, job.base).await? {
        return Ok(Work::Ended(Attempt::Failed(failure)));
    }
    let worktree = job.worktree.to_string_lossy().into_owned();
    ctx.attempt_started(&id, job.attempt, job.lane, worktree, job.base, None)?;
    agent_and_verify(ctx, job.task, job.attempt, job.worktree, job.failure).await
}

/// Runs the task's agent in `worktree` (ready at the attempt's base), snapshots its work and
/// runs the task's Verify commands: the same on this machine and on a worker.
async fn agent_and_verify(
    ctx: &Ctx,
    task: &plan::Task,
    attempt: u32,
    worktree: &Path,
    failure: Option<&str>,
) -> Result<Work, EngineError> {
    let id = task.id.to_string();
    if let Some(ended) = run_agent(ctx, task, attempt, worktree, failure).await? {
        return Ok(Work::Ended(ended));
    }

    // The task's commit holds what the agent left, taken before the Verify commands run: what
    // they write (coverage data, caches, reports) is not the task's work.
    let tree = Git::new(worktree).snapshot_tree(|path| keep_out(ctx, path)).await?;
    for (index, command) in task.verify_commands.iter().enumerate() {
        ctx.emitter.emit(Event::VerifyStarted { task: id.clone(), attempt, command: command.value.clone() })?;
        let spec = process::Spec {
            program: PathBuf::from("sh"),
            args: vec!["-c".into(), command.value.clone()],
            env: ctx.env_in(worktree),
            inherit: None,
            cwd: worktree.to_owned(),
            timeout: ctx.options.verify_timeout,
            log: log_path(&ctx.run_dir, &id, attempt, &format!("verify-{}", index + 1)),
        };
        let result = process::run(&spec, |_| {}, |_| {}, ctx.cancel.clone()).await?;
        ctx.emitter.emit(Event::VerifyFinished {
            task: id.clone(),
            attempt,
            command: command.value.clone(),
            passed: result.success(),
            exit_code: result.code,
            duration_ms: result.duration.as_millis() as u64,
        })?;
        if result.cancelled {
            return Ok(Work::Ended(Attempt::Cancelled));
        }
        if result.timed_out {
            let reason = verify_timed_out(&command.value, ctx.options.verify_timeout);
            return Ok(Work::Ended(Attempt::VerifyTimedOut(format!("{reason}\n{}", result.tail))));
        }
        if !result.success() {
            let why = result.ended();
            let hint = if result.code == Some(127) { " (command not found)" } else { "" };
            let missing = ctx.options.provision.missing_hint(worktree).map(|h| format!("\n{h}")).unwrap_or_default();
            return Ok(Work::Ended(Attempt::Failed(format!(
                "Verify `{}` {why}{hint}{missing}\n{}",
                command.value, result.tail
            ))));
        }
    }
    Ok(Work::Tree(tree))
}

/// Why a Verify command that timed out ends the task: what it looks like (a server, a watch
/// mode: [`plan::long_running`]), what to use instead, and why no other attempt follows.
fn verify_timed_out(command: &str, timeout: Duration) -> String {
    let secs = timeout.as_secs();
    let looks = match plan::long_running(command) {
        Some(found) => format!(
            "it looks like {} (`{}` runs until it is killed); use {} instead, or make it a step for a person in a \
             `checkpoint:human-verify` task",
            found.what, found.part, found.instead
        ),
        None => {
            format!("a Verify command must exit by itself; if it is only slow, raise `--verify-timeout` (now {secs} s)")
        }
    };
    format!(
        "Verify `{command}` did not exit within {secs} s: {looks}. Another attempt would wait as long again, so the task stops here."
    )
}

/// Makes the task's commit of `tree` on `base` and lands it: after a person's approval for a
/// human-verify checkpoint.
pub(crate) async fn land_attempt(
    ctx: &Ctx,
    task: &plan::Task,
    attempt: u32,
    base: &str,
    tree: &str,
) -> Result<Attempt, EngineError> {
    let id = task.id.to_string();
    let message = prompt::commit_message(&ctx.plan, task, &ctx.run.id);
    let commit = ctx.repo.commit_tree(tree, base, &message).await?;
    if task.kind == TaskType::HumanVerify {
        return match checkpoint(ctx, task, Some(&commit), base, "").await? {
            Answer::Approved => integrate(ctx, &id, attempt, base, &commit, &message).await,
            Answer::Rejected(reason) => Ok(Attempt::Rejected(format!("a person rejected this change: {reason}"))),
            Answer::Decided(_) | Answer::Cancelled => Ok(Attempt::Cancelled),
        };
    }
    integrate(ctx, &id, attempt, base, &commit, &message).await
}

/// A worker's side of an attempt run elsewhere (`wavecrew worker`, in a Slurm job): in `ws` (a
/// clone of the repository), runs the agent and the Verify commands of `job` exactly as a
/// local lane does, writing events to the attempt's spool folder, and bundles the agent's work.
pub async fn work_remote(
    ws: &Workspace,
    spool: &crate::remote::AttemptDir,
    job: &crate::remote::Job,
    agent: Arc<dyn Agent>,
    options: Options,
    cancel: watch::Receiver<bool>,
) -> crate::remote::JobResult {
    use crate::remote::JobResult;
    let result = async {
        let plan = plan::parse(&job.plan_text, &job.milestone).plan;
        let Some(task) = TaskId::parse(&job.task).and_then(|id| plan.task(id)).cloned() else {
            return Ok(JobResult::Failed { reason: format!("the plan has no task {}", job.task) });
        };
        let run = RunRecord {
            id: job.run.clone(),
            plan_path: String::new(),
            plan_hash: String::new(),
            plan_text: job.plan_text.clone(),
            milestone: job.milestone.clone(),
            title: plan.title.clone(),
            branch: String::new(),
            base: if job.run_base.is_empty() { job.base.clone() } else { job.run_base.clone() },
            state: RunState::Running,
            started_ms: now_ms(),
            finished_ms: None,
            pid: std::process::id(),
            options: String::new(),
        };
        let (events, _) = broadcast::channel(16);
        let mut ctx = context(
            ws,
            run,
            plan,
            agent,
            Options { backend: crate::backend::BackendChoice::Local, ..options },
            events,
            cancel,
        );
        ctx.emitter.sink = Some(Arc::new(crate::remote::EventWriter::open(&spool.events())?));
        ctx.run_dir = spool.0.clone();
        *ctx.decisions.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = job.decisions.clone();
        let worktree = ws.worktrees_dir(&job.run).join(format!("{}-{}", job.task, job.attempt));
        if let Some(failure) = prepare_worktree(&ctx, &job.task, "worker", &worktree, &job.base).await? {
            return Ok(JobResult::Failed { reason: failure });
        }
        let work = agent_and_verify(&ctx, &task, job.attempt, &worktree, job.failure.as_deref()).await?;
        let result = match work {
            Work::Tree(tree) => {
                let commit = crate::remote::bundle_result(&ws.git, &tree, &job.base, &spool.bundle()).await?;
                JobResult::Passed { commit }
            }
            Work::Ended(Attempt::Cancelled) => JobResult::Cancelled,
            Work::Ended(Attempt::Failed(reason) | Attempt::Conflict(reason) | Attempt::Rejected(reason)) => {
                JobResult::Failed { reason }
            }
            Work::Ended(Attempt::VerifyTimedOut(reason)) => JobResult::VerifyTimedOut { reason },
            Work::Ended(Attempt::Committed) => JobResult::Failed { reason: "nothing to commit".into() },
        };
        let _ = ws.git.remove_worktree(&worktree).await;
        Ok::<_, EngineError>(result)
    }
    .await;
    result
        .unwrap_or_else(|error| JobResult::Failed { reason: format!("the worker could not run the attempt: {error}") })
}

/// Runs the task's agent once in `worktree`: builds the prompt, starts the agent and reads its
/// output. `None` when it finished well; else how the attempt ended.
async fn run_agent(
    ctx: &Ctx,
    task: &plan::Task,
    attempt: u32,
    worktree: &Path,
    failure: Option<&str>,
) -> Result<Option<Attempt>, EngineError> {
    let id = task.id.to_string();
    let decisions = ctx.decisions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let skills = crate::skills::for_task(&ctx.root, task);
    let in_prompt: &[(String, String)] = if ctx.agent.takes_system_prompt() { &[] } else { &skills };
    let landed = landed_before(ctx, task, worktree).await;
    let extras = prompt::Extras { failure, decisions: &decisions, skills: in_prompt, landed: &landed };
    let prompt = prompt::build(&ctx.plan, task, &extras);
    let launch = Launch {
        name: format!("{id}-{attempt}"),
        log_part: "agent".into(),
        task: id,
        attempt,
        role: AgentRole::Task,
        model: ctx.model_for(&task.id.to_string(), AgentRole::Task),
        prompt,
        skills,
        verify_commands: task.verify_commands.iter().map(|c| c.value.clone()).collect(),
    };
    start_agent(ctx, worktree, launch).await
}

/// What the tasks `task` waited for landed on the run branch: each one's commit subject and
/// files, in plan order, read from the history of `worktree` (at the attempt's base), where the
/// run's commits carry their task in a trailer. Best effort: a history that cannot be read (a
/// shallow clone on a worker) leaves it out of the prompt.
async fn landed_before(ctx: &Ctx, task: &plan::Task, worktree: &Path) -> Vec<prompt::Landed> {
    let waited = waits_for(&ctx.plan, &ctx.schedule, ctx.options.schedule, task.id);
    if waited.is_empty() {
        return Vec::new();
    }
    let format = "--format=%x01%H%x00%s%x00%(trailers:key=Wavecrew-Task,valueonly,separator=%x2C)%x00%(trailers:key=Wavecrew-Run,valueonly,separator=%x2C)";
    let range = format!("{}..HEAD", ctx.run.base);
    let args = ["log", "--first-parent", "--no-renames", "--name-only", format, &range];
    let Ok(log) = Git::new(worktree).run(&args).await else { return Vec::new() };
    let mut landed: HashMap<String, prompt::Landed> = HashMap::new();
    for entry in log.split('\u{1}').filter(|e| !e.trim().is_empty()) {
        let mut parts = entry.splitn(4, '\0');
        let (Some(_commit), Some(subject), Some(id), Some(rest)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let mut lines = rest.lines();
        let run = lines.next().unwrap_or_default().trim();
        let id = id.trim();
        if run != ctx.run.id || id.is_empty() {
            continue; // a gate's fix, or not this run's
        }
        let files = lines.map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        // The log is newest first: a task's newest commit wins (it lands once, but be sure).
        landed.entry(id.to_owned()).or_insert(prompt::Landed {
            task: id.to_owned(),
            subject: subject.to_owned(),
            files,
        });
    }
    waited.iter().filter_map(|id| landed.remove(&id.to_string())).collect()
}

/// One start of the run's agent.
struct Launch {
    /// The task its events are about (`verification` for the truths verifier).
    task: String,
    /// The attempt (a gate's round).
    attempt: u32,
    /// Why it is started.
    role: AgentRole,
    /// The model the plan names for it.
    model: Option<String>,
    /// The prompt.
    prompt: String,
    /// The prompt goes to `prompts/<name>.md`.
    name: String,
    /// Its output goes to `logs/<task>-<attempt>-<log_part>.log`.
    log_part: String,
    /// Skills `(name, text)` for agents that take a system prompt.
    skills: Vec<(String, String)>,
    /// Commands it may run without asking.
    verify_commands: Vec<String>,
}

/// Starts the run's agent in `worktree` as `launch` says and reads its output until it exits.
/// `None` when it finished well; else how it ended. The same path for a task's attempt, a
/// gate's fix and review, and the truths verifier.
async fn start_agent(ctx: &Ctx, worktree: &Path, launch: Launch) -> Result<Option<Attempt>, EngineError> {
    let Launch { task: id, attempt, role, model, prompt, name, log_part, skills, verify_commands } = launch;
    let prompt_file = ctx.run_dir.join("prompts").join(format!("{name}.md"));
    tokio::fs::create_dir_all(ctx.run_dir.join("prompts")).await?;
    tokio::fs::write(&prompt_file, &prompt).await?;
    let request = AgentRequest {
        task: id.clone(),
        attempt,
        model,
        prompt,
        prompt_file,
        worktree: worktree.to_owned(),
        skills,
        verify_commands,
        role,
    };
    let command = ctx.agent.command(&request);
    let inherit = crate::agent::BASE_ENV.iter().map(|p| (*p).to_owned()).chain(command.pass_env).collect();
    let mut env = command.env;
    env.extend(ctx.env_in(worktree));
    let spec = process::Spec {
        program: command.program.clone(),
        args: command.args,
        env,
        inherit: Some(inherit),
        cwd: worktree.to_owned(),
        timeout: ctx.options.agent_timeout,
        log: log_path(&ctx.run_dir, &id, attempt, &log_part),
    };
    let user_tree_before = user_tree_state(&ctx.root).await;
    let emitter = ctx.emitter.clone();
    let agent = ctx.agent.clone();
    let model_id = agent.model_id(request.model.as_deref());
    let (spawned_task, output_task) = (id.clone(), id.clone());
    let spawned = std::sync::Mutex::new(None);
    let mut coalesce = crate::adapters::Coalesce::default();
    let outcome = process::run(
        &spec,
        |pid| *spawned.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(pid),
        |line| match agent.activity(line) {
            Some(activity) => {
                for activity in coalesce.push(activity) {
                    let activity = account(ctx, model_id.as_deref(), activity);
                    let _ = emitter.emit(activity_event(&output_task, attempt, activity));
                }
            }
            None => {
                let _ = emitter.emit(Event::AgentOutput { task: output_task.clone(), attempt, line: line.to_owned() });
            }
        },
        ctx.cancel.clone(),
    );
    // The pid is journaled as soon as the process exists, so `resume` can reclaim it.
    let outcome = {
        tokio::pin!(outcome);
        let mut journaled = false;
        loop {
            tokio::select! {
                result = &mut outcome => break result,
                () = tokio::time::sleep(Duration::from_millis(20)), if !journaled => {
                    let pid = *spawned.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(pid) = pid {
                        journaled = true;
                        ctx.emitter.emit(Event::AgentSpawned { task: spawned_task.clone(), attempt, pid })?;
                    }
                }
            }
        }
    };
    if let Some(message) = coalesce.finish() {
        ctx.emitter.emit(activity_event(&id, attempt, message))?;
    }
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            return Ok(Some(Attempt::Failed(format!(
                "the agent `{}` could not be started: {error}",
                spec.program.display()
            ))));
        }
    };
    ctx.emitter.emit(Event::AgentExited {
        task: id.clone(),
        attempt,
        code: outcome.code,
        timed_out: outcome.timed_out,
        duration_ms: outcome.duration.as_millis() as u64,
    })?;
    if outcome.cancelled {
        return Ok(Some(Attempt::Cancelled));
    }
    if outcome.timed_out {
        return Ok(Some(Attempt::Failed(format!(
            "the agent did not finish within {}s and was stopped\n{}",
            ctx.options.agent_timeout.as_secs(),
            outcome.tail
        ))));
    }
    if !outcome.success() {
        return Ok(Some(Attempt::Failed(format!("the agent {}\n{}", outcome.ended(), outcome.tail))));
    }
    match ctx.agent.finished(&request) {
        Ok(activities) => {
            for activity in activities {
                ctx.emitter.emit(activity_event(&id, attempt, account(ctx, model_id.as_deref(), activity)))?;
            }
        }
        Err(reason) => return Ok(Some(Attempt::Failed(format!("{reason}\n{}", outcome.tail)))),
    }
    if user_tree_state(&ctx.root).await != user_tree_before {
        return Ok(Some(Attempt::Failed(
            "your work tree changed while this task's agent ran: agents must work only in their worktree, so nothing of this attempt is committed".into(),
        )));
    }
    Ok(None)
}

/// Checks the finished run branch: must_haves, then the plan's Verification / Automated
/// commands, then (unless it is off) the verifier of the plan's truths, in a worktree at the
/// branch's head. Whether the run may ship.
async fn verify_run(ctx: &Ctx) -> Result<bool, EngineError> {
    let plan = &ctx.plan;
    if plan.must_haves.artifacts.is_empty()
        && plan.must_haves.key_links.is_empty()
        && plan.must_haves.truths.is_empty()
        && plan.verification.automated.is_empty()
        && plan.verification.manual.is_empty()
    {
        return Ok(true);
    }
    let head = ctx.repo.rev_parse(&format!("refs/heads/{}", ctx.run.branch)).await?;
    let lane = "verification";
    let worktree = ctx.pool.take(lane, &ctx.worktrees).await;
    let result = async {
        if let Some(failure) = prepare_worktree(ctx, lane, lane, &worktree, &head).await? {
            return Err(EngineError::Io(std::io::Error::other(failure)));
        }
        let tracked = Git::new(&worktree).run(&["ls-files", "-z"]).await?;
        let paths: Vec<String> = tracked.split('\0').filter(|p| !p.is_empty()).map(str::to_owned).collect();
        let files = crate::verify::tracked_texts(&worktree, &paths);
        // The plan names every artifact: it is not a reference to any of them.
        let plan_file = std::path::absolute(ctx.root.join(&ctx.run.plan_path)).ok();
        let plan_path =
            plan_file.as_deref().and_then(|p| p.strip_prefix(&ctx.root).ok()).map(|p| p.to_string_lossy().into_owned());
        let must_haves = crate::verify::must_haves(&worktree, plan, &files, plan_path.as_deref());
        let mut automated = Vec::new();
        for (index, check) in plan.verification.automated.iter().enumerate() {
            let log = log_path(&ctx.run_dir, "verification", 1, &format!("automated-{}", index + 1));
            let spec = process::Spec {
                program: PathBuf::from("sh"),
                args: vec!["-c".into(), check.command.clone()],
                env: ctx.env_in(&worktree),
                inherit: None,
                cwd: worktree.clone(),
                timeout: ctx.options.verify_timeout,
                log: log.clone(),
            };
            // Reports older than this are left over from before: only fresh ones count.
            let started = std::time::SystemTime::now() - Duration::from_secs(1);
            let outcome = process::run(&spec, |_| {}, |_| {}, ctx.cancel.clone()).await?;
            if outcome.cancelled {
                return Err(EngineError::Cancelled);
            }
            let (status, detail) = if outcome.success() {
                // Exiting 0 is not what the `# comment` asks for: wavecrew checks that itself.
                let expectations = evidence::expectation::parse(check.expectation.as_deref().unwrap_or_default());
                let output =
                    tokio::fs::read(&log).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                let seen =
                    crate::gate::Observe { worktree: &worktree, base: &ctx.run.base, head: &head, since: started };
                let observed = seen.command(&check.command, &output, &expectations).await?;
                match evidence::expectation::judge(&expectations, &observed) {
                    evidence::expectation::Judged::Passed(detail) => (AutomatedStatus::Passed, detail),
                    evidence::expectation::Judged::Failed(detail) => (AutomatedStatus::Failed, detail),
                    evidence::expectation::Judged::Unchecked(detail) => (AutomatedStatus::Unchecked, detail),
                }
            } else {
                (AutomatedStatus::Failed, format!("{}\n{}", outcome.ended(), outcome.tail))
            };
            automated.push(crate::events::AutomatedResult {
                command: check.command.clone(),
                expectation: check.expectation.clone(),
                status,
                exit_code: outcome.code,
                detail,
            });
        }
        let mut must_haves = must_haves;
        if ctx.options.verify_truths && !plan.must_haves.truths.is_empty() {
            let Some(truths) = verify_truths(ctx, &worktree, &head, &automated).await? else {
                return Err(EngineError::Cancelled);
            };
            // The truths come last, in order: their verdicts are the verifier's now.
            must_haves.retain(|v| v.kind != MustHaveKind::Truth);
            must_haves.extend(truths);
        }
        Ok((must_haves, automated))
    }
    .await;
    ctx.pool.give_back(lane, worktree).await;
    let (must_haves, automated) = result?;
    let broken = must_haves.iter().any(|v| !matches!(v.verdict, MustHaveStatus::Verified | MustHaveStatus::Manual))
        || automated.iter().any(|a| a.status == AutomatedStatus::Failed);
    let checkable = must_haves.iter().any(|v| v.verdict != MustHaveStatus::Manual);
    // An expectation wavecrew could not check goes to the person's checklist, never `passed`.
    let unchecked: Vec<String> = automated
        .iter()
        .filter(|a| a.status == AutomatedStatus::Unchecked)
        .map(|a| {
            let expected = a.expectation.as_deref().unwrap_or_default();
            format!("Check that `{}` shows: {expected} (not checked by wavecrew: {})", a.command, a.detail)
        })
        .collect();
    let verdict = if broken {
        RunVerdict::Failed
    } else if checkable && unchecked.is_empty() {
        RunVerdict::Passed
    } else {
        RunVerdict::Unverified
    };
    let mut manual: Vec<String> = plan.verification.manual.iter().map(|m| m.value.clone()).collect();
    manual.extend(unchecked);
    ctx.emitter.emit(Event::RunVerified { verdict, must_haves, automated, manual })?;
    Ok(!broken)
}

/// The verifier of the plan's truths, once every task landed: the run's agent gets the truths,
/// the run's change and what wavecrew ran, and answers per truth in JSON. wavecrew checks the
/// places it cites, runs the commands it cites again in `worktree` (reset to `head`, with the
/// verify timeout and an agent's environment, not the user's), and keeps only what holds
/// ([`crate::verify::truth_verdicts`]). `None` when the run was cancelled.
async fn verify_truths(
    ctx: &Ctx,
    worktree: &Path,
    head: &str,
    automated: &[crate::events::AutomatedResult],
) -> Result<Option<Vec<crate::events::MustHaveVerdict>>, EngineError> {
    const TASK: &str = "verification";
    let answer_path = format!("{}/verification.json", crate::gate::ANSWER_DIR);
    let (stat, diff) = change_for_prompt(worktree, &ctx.run.base, head).await?;
    let ran: Vec<(crate::events::AutomatedResult, String)> = automated
        .iter()
        .enumerate()
        .map(|(index, result)| {
            let log = log_path(&ctx.run_dir, TASK, 1, &format!("automated-{}", index + 1));
            let output = std::fs::read(log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            (result.clone(), crate::gate::prompt_excerpt(&crate::gate::tail(&output, 20), 4096))
        })
        .collect();
    let prompt = crate::verify::TruthsPrompt {
        plan: &ctx.plan,
        base: &ctx.run.base,
        head,
        stat: &stat,
        diff: &diff,
        automated: &ran,
        answer_path: &answer_path,
        timeout_secs: ctx.options.verify_timeout.as_secs(),
    }
    .build();
    ctx.attempt_started(TASK, 1, TASK, worktree.to_string_lossy().into_owned(), head, Some(AgentRole::Verify))?;
    let launch = Launch {
        task: TASK.to_owned(),
        attempt: 1,
        role: AgentRole::Verify,
        model: ctx.model_for(TASK, AgentRole::Verify),
        prompt,
        name: format!("{TASK}-1"),
        log_part: "agent".into(),
        skills: Vec::new(),
        verify_commands: ctx.plan.verification.automated.iter().map(|c| c.command.clone()).collect(),
    };
    let answer = match ask_for_answer(ctx, worktree, head, &answer_path, launch).await? {
        Answered::Cancelled => return Ok(None),
        Answered::Not(why) => Err(format!("no answer: the verifier {why}")),
        Answered::Text(text) => evidence::review::parse_truths(&text)
            .map_err(|error| format!("no answer: the verifier's answer `{answer_path}` {error}")),
    };
    let truths: Vec<String> = ctx.plan.must_haves.truths.iter().map(|t| t.value.clone()).collect();
    let mut reruns = HashMap::new();
    let mut lines = HashMap::new();
    if let Ok(answers) = &answer {
        for (index, command) in crate::verify::commands_to_rerun(&truths, answers).into_iter().enumerate() {
            ctx.emitter.emit(Event::VerifyStarted { task: TASK.to_owned(), attempt: 1, command: command.clone() })?;
            let log = log_path(&ctx.run_dir, TASK, 1, &format!("evidence-{}", index + 1));
            let spec = process::Spec {
                program: PathBuf::from("sh"),
                args: vec!["-c".into(), command.clone()],
                env: ctx.env_in(worktree),
                // The agent chose this command: it runs with what an agent may see, not the user's secrets.
                inherit: Some(crate::agent::BASE_ENV.iter().map(|p| (*p).to_owned()).collect()),
                cwd: worktree.to_owned(),
                timeout: ctx.options.verify_timeout,
                log: log.clone(),
            };
            let outcome = process::run(&spec, |_| {}, |_| {}, ctx.cancel.clone()).await?;
            ctx.emitter.emit(Event::VerifyFinished {
                task: TASK.to_owned(),
                attempt: 1,
                command: command.clone(),
                passed: outcome.success(),
                exit_code: outcome.code,
                duration_ms: outcome.duration.as_millis() as u64,
            })?;
            if outcome.cancelled {
                return Ok(None);
            }
            let output =
                tokio::fs::read(&log).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            let rerun = crate::verify::Rerun { succeeded: outcome.success(), ended: outcome.ended(), output };
            reruns.insert(command, rerun);
        }
        lines = line_counts(&ctx.repo, head, &crate::verify::places_to_check(&truths, answers)).await;
    }
    Ok(Some(crate::verify::truth_verdicts(&truths, &answer, |path| lines.get(path).copied(), &reruns)))
}

/// A quality gate: check the run branch; while it is red, hand the findings to the gate's agent,
/// commit its fix on the run branch (`fix(<milestone>): …`, trailer `Wavecrew-Fix`) and check
/// again, at most `gate_rounds` fixes; then stop as needs-human. Green: an empty commit with
/// the task's trailer records the verdict.
async fn gate_task(
    ctx: &Ctx,
    task: &plan::Task,
    lane: &str,
    worktree: &Path,
    first_round: u32,
) -> Result<Attempt, EngineError> {
    use crate::gate::GateSkill;
    let id = task.id.to_string();
    let skills: Vec<String> = task.skills.iter().map(|s| s.value.clone()).collect();
    let checked: Vec<(&String, GateSkill)> =
        skills.iter().filter_map(|s| GateSkill::of(&ctx.root, s).map(|kind| (s, kind))).collect();
    if checked.is_empty() {
        return Ok(Attempt::Failed(format!(
            "needs-human: wavecrew has no checks for the gate's skill(s) {}; gates it can check: {}, and skills the repository defines",
            if skills.is_empty() { "(none named)".to_owned() } else { skills.join(", ") },
            crate::gate::SKILLS.join(", ")
        )));
    }
    let verify: Vec<String> = task.verify_commands.iter().map(|c| c.value.clone()).collect();
    let mut commands = verify.clone();
    commands.extend(ctx.plan.verification.automated.iter().map(|c| c.command.clone()));
    let threshold = task
        .done
        .as_ref()
        .and_then(|done| evidence::coverage::threshold_from_text(&done.value))
        .or(ctx.options.coverage_threshold);
    let done = task.done.as_ref().map_or("", |d| d.value.as_str());
    let mut round = first_round.max(1);
    // A person signed off what the checks could not check: asked once per gate.
    let mut signed_off = false;
    loop {
        if *ctx.cancel.borrow() {
            return Ok(Attempt::Cancelled);
        }
        let head = ctx.repo.rev_parse(&format!("refs/heads/{}", ctx.run.branch)).await?;
        if let Some(failure) = prepare_worktree(ctx, &id, lane, worktree, &head).await? {
            return Ok(Attempt::Failed(failure));
        }
        let mut red = crate::gate::Verdict::default();
        for &(skill, kind) in &checked {
            // A repository skill's checks are the task's own Verify commands, without a coverage bar.
            let (commands, coverage_threshold) = match kind {
                GateSkill::Repository => (verify.clone(), None),
                _ => (commands.clone(), threshold),
            };
            let checks = crate::gate::Checks {
                worktree,
                base: &ctx.run.base,
                head: &head,
                commands,
                coverage_threshold,
                done,
                timeout: ctx.options.verify_timeout,
                log_prefix: ctx.run_dir.join("logs").join(format!("{id}-gate{round}-{skill}")),
                env: ctx.env_in(worktree),
                cancel: ctx.cancel.clone(),
            };
            let mut verdict = match crate::gate::check(kind, &checks).await {
                Ok(verdict) => verdict,
                Err(EngineError::Cancelled) => return Ok(Attempt::Cancelled),
                Err(error) => return Err(error),
            };
            if let Some(shape) = kind.review() {
                let review = GateReview { task, lane, worktree, skill, shape, round, head: &head };
                if !review_gate(ctx, &review, &mut verdict).await? {
                    return Ok(Attempt::Cancelled);
                }
            }
            ctx.emitter.emit(Event::GateChecked {
                task: id.clone(),
                round,
                skill: skill.clone(),
                passed: verdict.passed(),
                findings: verdict.findings.clone(),
                metrics: verdict.metrics.clone(),
                notes: verdict.notes.clone(),
                unverified: verdict.unverified.clone(),
            })?;
            red.findings.extend(verdict.findings);
            red.unverified.extend(verdict.unverified.into_iter().map(|why| format!("{skill}: {why}")));
        }
        if red.passed() && !red.unverified.is_empty() && !signed_off {
            // Nothing wrong was found, but not everything the gate asks for was checked: that
            // is never green. A person signs it off, or rejects it and the gate fails.
            let why: String = red.unverified.iter().map(|u| format!("Not checked: {u}\n")).collect();
            match checkpoint(ctx, task, None, "", &why).await? {
                Answer::Approved => signed_off = true,
                Answer::Rejected(reason) => {
                    return Ok(Attempt::Failed(format!(
                        "needs-human: a person rejected the unverified gate: {reason}\n{}",
                        why.trim_end()
                    )));
                }
                Answer::Decided(_) | Answer::Cancelled => return Ok(Attempt::Cancelled),
            }
        }
        if red.passed() {
            let fixes = round - first_round.max(1);
            let verdict = if signed_off { "unverified, signed off by a person" } else { "green" };
            let subject = format!(
                "chore({}): gate {} {verdict} ({}{})",
                ctx.plan.milestone,
                task.summary(),
                skills.join(", "),
                if fixes == 0 { String::new() } else { format!(", after {fixes} fix round(s)") }
            );
            let message = format!("{subject}\n\nWavecrew-Task: {id}\nWavecrew-Run: {}\n", ctx.run.id);
            let tree = ctx.repo.tree_of(&head).await?;
            let commit = ctx.repo.commit_tree(&tree, &head, &message).await?;
            let _guard = ctx.integrate.lock().await;
            if ctx.repo.rev_parse(&format!("refs/heads/{}", ctx.run.branch)).await? != head {
                continue; // something landed since the check: the verdict must be about the new head
            }
            ctx.emitter.emit(Event::Integrating { task: id.clone(), attempt: round, commit: commit.clone() })?;
            ctx.repo.compare_and_swap(&ctx.run.branch, &commit, &head).await?;
            ctx.emitter.emit(Event::TaskCommitted { task: id, attempt: round, commit, message: subject })?;
            return Ok(Attempt::Committed);
        }
        if round >= first_round.max(1) + ctx.options.gate_rounds {
            return Ok(Attempt::Failed(format!(
                "needs-human: the gate is still red after {} fix round(s)\n{}",
                ctx.options.gate_rounds,
                red.for_agent()
            )));
        }
        // A fix round: the gate's agent gets the findings, wavecrew commits what it changed. The
        // checks' own output (reports, coverage data) is cleared first: it is not the fix.
        Git::new(worktree).reset_to(&head).await?;
        ctx.attempt_started(&id, round, lane, worktree.to_string_lossy().into_owned(), &head, None)?;
        match run_agent(ctx, task, round, worktree, Some(&red.for_agent())).await? {
            None => {}
            Some(Attempt::Cancelled) => return Ok(Attempt::Cancelled),
            Some(Attempt::Failed(reason)) => {
                ctx.emitter.emit(Event::AttemptFailed { task: id.clone(), attempt: round, reason })?;
                round += 1;
                continue;
            }
            Some(other) => return Ok(other),
        }
        let tree = Git::new(worktree).snapshot_tree(|path| keep_out(ctx, path)).await?;
        if tree != ctx.repo.tree_of(&head).await? {
            let message = format!(
                "fix({}): {} (gate round {round})\n\nWavecrew-Fix: {id}\nWavecrew-Run: {}\n",
                ctx.plan.milestone,
                task.summary(),
                ctx.run.id
            );
            let commit = ctx.repo.commit_tree(&tree, &head, &message).await?;
            let _guard = ctx.integrate.lock().await;
            // A conflict drops the fix: the next round checks the new head and finds what is left.
            if let Ok(commit) = land(ctx, &head, &commit, &message).await? {
                ctx.emitter.emit(Event::GateFixCommitted { task: id.clone(), round, commit })?;
            }
        }
        round += 1;
    }
}

/// A gate's review: of which skill, in which round, where.
#[derive(Clone, Copy)]
struct GateReview<'a> {
    task: &'a plan::Task,
    lane: &'a str,
    worktree: &'a Path,
    skill: &'a str,
    shape: crate::gate::ReviewShape,
    round: u32,
    head: &'a str,
}

/// The review of a gate's skill, after its checks: the gate's agent reviews the run's change
/// with the skill's text and writes its answer in JSON to a file wavecrew names; what the
/// answer's evidence shows goes into `verdict` ([`crate::gate::Verdict::add_review`]), and no
/// usable answer is a finding. `false` when the run was cancelled.
async fn review_gate(
    ctx: &Ctx,
    review: &GateReview<'_>,
    verdict: &mut crate::gate::Verdict,
) -> Result<bool, EngineError> {
    let GateReview { task, lane, worktree, skill, shape, round, head } = *review;
    let id = task.id.to_string();
    let answer_path = format!("{}/{id}-{round}-{skill}.json", crate::gate::ANSWER_DIR);
    let (stat, diff) = change_for_prompt(worktree, &ctx.run.base, head).await?;
    let skill_text = crate::skills::text(&ctx.root, skill).unwrap_or_default();
    let prompt = crate::gate::ReviewPrompt {
        milestone: &ctx.plan.milestone,
        title: &ctx.plan.title,
        task,
        skill,
        skill_text: (!ctx.agent.takes_system_prompt()).then_some(skill_text.as_str()),
        shape,
        round,
        base: &ctx.run.base,
        head,
        stat: &stat,
        diff: &diff,
        checked: verdict,
        answer_path: &answer_path,
    }
    .build();
    let model = ctx.model_for(&id, AgentRole::Review);
    let worktree_name = worktree.to_string_lossy().into_owned();
    ctx.attempt_started(&id, round, lane, worktree_name, head, Some(AgentRole::Review))?;
    let launch = Launch {
        name: format!("{id}-{round}-review-{skill}"),
        log_part: format!("review-{skill}"),
        task: id,
        attempt: round,
        role: AgentRole::Review,
        model,
        prompt,
        skills: vec![(skill.to_owned(), skill_text)],
        verify_commands: Vec::new(),
    };
    let text = match ask_for_answer(ctx, worktree, head, &answer_path, launch).await? {
        Answered::Cancelled => return Ok(false),
        Answered::Not(why) => {
            verdict.add_unanswered_review(&format!("the review {why}"));
            return Ok(true);
        }
        Answered::Text(text) => text,
    };
    match crate::gate::parse_review(shape, &text) {
        Err(error) => verdict.add_unanswered_review(&format!("the review answer `{answer_path}` {error}")),
        Ok(answer) => {
            let fails = answer.items.iter().filter(|i| i.verdict == evidence::review::Verdict::Fail);
            let files = evidence::review::cited_files(fails.flat_map(|i| &i.evidence));
            let lines = line_counts(&ctx.repo, head, &files).await;
            verdict.add_review(skill, evidence::review::judge(&answer, |path| lines.get(path).copied()));
        }
    }
    Ok(true)
}

/// What an agent asked for an answer left.
enum Answered {
    /// The answer file's text.
    Text(String),
    /// Why there is none, as a predicate of the agent: `wrote nothing to …`, `did not finish: …`.
    Not(String),
    /// The run was cancelled.
    Cancelled,
}

/// Starts the agent of `launch`, whose prompt asks for an answer in `answer_path` (relative to
/// `worktree`), and reads the answer. The answer is kept in the run's folder
/// (`answers/<launch name>.json`); the worktree is reset to `head` afterwards, so that nothing the
/// agent changed stays.
async fn ask_for_answer(
    ctx: &Ctx,
    worktree: &Path,
    head: &str,
    answer_path: &str,
    launch: Launch,
) -> Result<Answered, EngineError> {
    let answer_file = worktree.join(answer_path);
    // An answer left from an earlier round (an ignored file survives a reset) must not count.
    let _ = tokio::fs::remove_file(&answer_file).await;
    if let Some(parent) = answer_file.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let name = launch.name.clone();
    let ended = start_agent(ctx, worktree, launch).await?;
    let read = read_answer(&answer_file).await;
    Git::new(worktree).reset_to(head).await?;
    let _ = tokio::fs::remove_file(&answer_file).await;
    match ended {
        None | Some(Attempt::Committed) => {}
        Some(Attempt::Cancelled) => return Ok(Answered::Cancelled),
        Some(
            Attempt::Failed(reason)
            | Attempt::Conflict(reason)
            | Attempt::Rejected(reason)
            | Attempt::VerifyTimedOut(reason),
        ) => {
            return Ok(Answered::Not(format!("did not finish: {}", reason.trim_end())));
        }
    }
    Ok(match read {
        Ok(Some(text)) => {
            let kept = ctx.run_dir.join("answers").join(format!("{name}.json"));
            tokio::fs::create_dir_all(ctx.run_dir.join("answers")).await?;
            tokio::fs::write(&kept, &text).await?;
            Answered::Text(text)
        }
        Ok(None) => Answered::Not(format!("wrote nothing to `{answer_path}`")),
        Err(why) => Answered::Not(format!("left `{answer_path}`, which cannot be read: {why}")),
    })
}

/// The text of an answer file: `None` when there is none; an error when it is not a regular file
/// or too large to be an answer.
async fn read_answer(path: &Path) -> Result<Option<String>, String> {
    let metadata = match tokio::fs::symlink_metadata(path).await {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    if !metadata.is_file() {
        return Err("it is not a regular file".into());
    }
    if metadata.len() > evidence::review::MAX_ANSWER_BYTES as u64 {
        return Err(format!("it is larger than {} KiB", evidence::review::MAX_ANSWER_BYTES >> 10));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| e.to_string())?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// The run's change `base..head` for an agent's prompt: its `git diff --stat`, and its diff cut
/// to [`crate::gate::DIFF_EXCERPT_BYTES`] with the lines that hold a secret redacted.
async fn change_for_prompt(worktree: &Path, base: &str, head: &str) -> Result<(String, String), EngineError> {
    let git = Git::new(worktree);
    let stat = git.run(&["diff", "--stat", "--no-color", base, head]).await?;
    let diff = git.run(&["diff", "--no-color", "--no-ext-diff", base, head]).await?;
    Ok((stat, crate::gate::prompt_excerpt(&diff, crate::gate::DIFF_EXCERPT_BYTES)))
}

/// Files cited as evidence whose lines are counted, at most.
const MAX_CITED_FILES: usize = 200;

/// The number of lines of each of `paths` at `commit`; paths that are not files there are left
/// out.
async fn line_counts(repo: &Git, commit: &str, paths: &std::collections::BTreeSet<String>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for path in paths.iter().take(MAX_CITED_FILES) {
        if let Ok(text) = repo.run(&["cat-file", "blob", &format!("{commit}:{path}")]).await {
            // `run` drops the final newline: a text of n lines has n - 1 newlines left.
            counts.insert(path.clone(), if text.is_empty() { 0 } else { text.matches('\n').count() + 1 });
        }
    }
    counts
}

/// Puts `commit` (made on `base`) on the run branch: a compare-and-swap when the branch is
/// still at `base`, else a merge without checkout onto its head. One task at a time.
async fn integrate(
    ctx: &Ctx,
    id: &str,
    attempt: u32,
    base: &str,
    commit: &str,
    message: &str,
) -> Result<Attempt, EngineError> {
    let _guard = ctx.integrate.lock().await;
    ctx.emitter.emit(Event::Integrating { task: id.to_owned(), attempt, commit: commit.to_owned() })?;
    let landed = match land(ctx, base, commit, message).await? {
        Ok(landed) => landed,
        Err(paths) => {
            return Ok(Attempt::Conflict(format!(
                "the change conflicts with work that landed meanwhile, in: {}",
                paths.join(", ")
            )));
        }
    };
    ctx.emitter.emit(Event::TaskCommitted {
        task: id.to_owned(),
        attempt,
        commit: landed,
        message: message.lines().next().unwrap_or_default().to_owned(),
    })?;
    Ok(Attempt::Committed)
}

/// Moves the run branch to `commit` (made on `base`): a compare-and-swap when the branch is still
/// at `base`, else `commit` merged without checkout onto the branch's head. The commit that
/// landed, or the paths that conflict. The caller holds `ctx.integrate`.
async fn land(ctx: &Ctx, base: &str, commit: &str, message: &str) -> Result<Result<String, Vec<String>>, EngineError> {
    let head = ctx.repo.rev_parse(&format!("refs/heads/{}", ctx.run.branch)).await?;
    if head == base {
        ctx.repo.compare_and_swap(&ctx.run.branch, commit, base).await?;
        return Ok(Ok(commit.to_owned()));
    }
    Ok(match ctx.repo.merge_tree(base, &head, commit).await? {
        Merge::Clean(merged) => {
            let rebased = ctx.repo.commit_tree(&merged, &head, message).await?;
            ctx.repo.compare_and_swap(&ctx.run.branch, &rebased, &head).await?;
            Ok(rebased)
        }
        Merge::Conflict(paths) => Err(paths),
    })
}

/// A person's answer to a checkpoint.
enum Answer {
    Approved,
    Rejected(String),
    Decided(String),
    Cancelled,
}

/// The options of a decision: the list items of its Action, else what follows `Options:`.
pub fn decision_options(task: &plan::Task) -> Vec<String> {
    let action = task.action.as_ref().map(|a| a.value.as_str()).unwrap_or_default();
    let items: Vec<String> = action
        .lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")))
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect();
    if !items.is_empty() {
        return items;
    }
    let lower = action.to_ascii_lowercase();
    lower.find("options:").map_or_else(Vec::new, |at| {
        action[at + "options:".len()..]
            .split([',', '/', ';'])
            .flat_map(|part| part.split(" or "))
            .map(|o| o.trim().trim_end_matches('.').to_owned())
            .filter(|o| !o.is_empty())
            .collect()
    })
}

/// Waits for a person's answer to `task`'s checkpoint (polling the journal, where `wavecrew
/// approve`, `reject` and `decide` write), unless `--auto-approve` answers for them.
/// `why` (lines, or empty) says what the person is asked about before the task's fields: what an
/// unverified gate could not check.
async fn checkpoint(
    ctx: &Ctx,
    task: &plan::Task,
    commit: Option<&str>,
    base: &str,
    why: &str,
) -> Result<Answer, EngineError> {
    let id = task.id.to_string();
    let options = if task.kind == TaskType::Decision { decision_options(task) } else { Vec::new() };
    // Human actions and unverified gates are a person's by definition: never answered for them.
    let by_a_person = matches!(task.kind, TaskType::HumanAction | TaskType::Gate);
    if ctx.options.auto_approve.contains(&task.kind) && !by_a_person {
        // Journaled like a person's answer, with the change it approved: the report says so.
        let details = checkpoint_details(ctx, task, commit, base, why).await;
        ctx.emitter.emit(checkpoint_waiting(task, &options, commit, details, true))?;
        let (answer, detail, result) = match options.first() {
            Some(first) if task.kind == TaskType::Decision => {
                (AnswerKind::Decided, Some(first.clone()), Answer::Decided(first.clone()))
            }
            _ => (AnswerKind::Approved, None, Answer::Approved),
        };
        ctx.emitter.emit(Event::CheckpointAnswered {
            task: id,
            answer,
            detail,
            auto: true,
            commit: commit.map(str::to_owned),
        })?;
        return Ok(result);
    }
    // Waiting for a person takes no slot: other tasks run meanwhile.
    let _ = ctx.parking.send(Parking::Park(task.id));
    if ctx.options.batch_checkpoints && task.kind == TaskType::HumanVerify {
        // Shown once the rest of the wave can go no further, with the wave's other checkpoints.
        let mut settled = ctx.settled_waves.subscribe();
        let mut cancel = ctx.cancel.clone();
        loop {
            if *cancel.borrow() {
                return Ok(Answer::Cancelled);
            }
            if settled.borrow_and_update().contains(&task.wave) {
                break;
            }
            tokio::select! {
                changed = settled.changed() => if changed.is_err() { break },
                _ = cancel.changed() => {}
            }
        }
    }
    let details = checkpoint_details(ctx, task, commit, base, why).await;
    ctx.emitter.emit(checkpoint_waiting(task, &options, commit, details, false))?;
    let mut cancel = ctx.cancel.clone();
    loop {
        if *cancel.borrow() {
            return Ok(Answer::Cancelled);
        }
        if let Some((answer, detail)) = ctx.emitter.journal.take_answer(&ctx.run.id, &id)? {
            let result = match (&answer, task.kind.clone()) {
                (AnswerKind::Rejected, TaskType::HumanVerify | TaskType::Gate) => {
                    Some(Answer::Rejected(detail.clone().unwrap_or_else(|| "no reason given".into())))
                }
                (AnswerKind::Decided, TaskType::Decision) => detail.clone().map(Answer::Decided),
                (AnswerKind::Approved, TaskType::Decision) => options.first().cloned().map(Answer::Decided),
                (AnswerKind::Approved, _) => Some(Answer::Approved),
                _ => None, // not an answer this checkpoint takes: keep waiting
            };
            if let Some(result) = result {
                let shown = match &result {
                    Answer::Decided(option) => Some(option.clone()),
                    _ => detail,
                };
                let kind = if matches!(result, Answer::Decided(_)) { AnswerKind::Decided } else { answer };
                ctx.emitter.emit(Event::CheckpointAnswered {
                    task: id,
                    answer: kind,
                    detail: shown,
                    auto: false,
                    commit: commit.map(str::to_owned),
                })?;
                // Back to work (landing the change, or the agent again): that needs a slot.
                let (go, granted) = oneshot::channel();
                if ctx.parking.send(Parking::Unpark(task.id, go)).is_ok() {
                    tokio::select! {
                        _ = granted => {}
                        _ = cancel.changed() => return Ok(Answer::Cancelled),
                    }
                }
                return Ok(result);
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = cancel.changed() => {}
        }
    }
}

/// What a waiting checkpoint shows a person: `why` (lines, or empty: what an unverified gate could
/// not check) first, then the task's Action, Verify and Done, the steps of Verify they follow
/// themselves (wavecrew does not run them), and the files `commit` changed.
async fn checkpoint_details(ctx: &Ctx, task: &plan::Task, commit: Option<&str>, base: &str, why: &str) -> String {
    let mut details = why.to_owned();
    if let Some(action) = &task.action {
        details.push_str(&format!("Action: {}\n", action.value));
    }
    if let Some(verify) = &task.verify {
        details.push_str(&format!("Check: {}\n", verify.value));
    }
    if !task.verify_steps.is_empty() {
        details.push_str("Steps for you (wavecrew does not run them):\n");
        for step in &task.verify_steps {
            details.push_str(&format!("  - {}\n", step.value));
        }
    }
    if let Some(done) = &task.done {
        details.push_str(&format!("Done when: {}\n", done.value));
    }
    if let Some(commit) = commit {
        let files = ctx.repo.run(&["diff", "--name-only", base, commit]).await.unwrap_or_default();
        details.push_str(&format!(
            "Changed: {}\n",
            if files.is_empty() { "nothing".into() } else { files.replace('\n', ", ") }
        ));
    }
    details
}

/// The event of a checkpoint that waits for its answer (`auto`: from `--auto-approve`, at once).
fn checkpoint_waiting(
    task: &plan::Task,
    options: &[String],
    commit: Option<&str>,
    details: String,
    auto: bool,
) -> Event {
    Event::CheckpointWaiting {
        task: task.id.to_string(),
        kind: task.kind.clone(),
        options: options.to_vec(),
        commit: commit.map(str::to_owned),
        details,
        steps: task.verify_steps.iter().map(|s| s.value.clone()).collect(),
        auto,
    }
}

/// A decision or a human action: no agent; once answered, an empty commit records it on the
/// run branch, so that every task is there exactly once.
async fn manual_task(ctx: &Ctx, task: &plan::Task) -> Result<Attempt, EngineError> {
    let id = task.id.to_string();
    let answer = checkpoint(ctx, task, None, "", "").await?;
    let subject = match &answer {
        Answer::Cancelled => return Ok(Attempt::Cancelled),
        Answer::Decided(option) => {
            ctx.decisions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((
                id.clone(),
                task.summary(),
                option.clone(),
            ));
            format!("chore({}): decide {}: {option}", ctx.plan.milestone, task.summary())
        }
        _ => format!("chore({}): {} (done by hand)", ctx.plan.milestone, task.summary()),
    };
    let message = format!("{subject}\n\nWavecrew-Task: {id}\nWavecrew-Run: {}\n", ctx.run.id);
    let head = ctx.repo.rev_parse(&format!("refs/heads/{}", ctx.run.branch)).await?;
    let tree = ctx.repo.tree_of(&head).await?;
    let commit = ctx.repo.commit_tree(&tree, &head, &message).await?;
    integrate(ctx, &id, 1, &head, &commit, &message).await
}

/// A human-verify checkpoint that was waiting when the run stopped: wait for its answer again,
/// then put its change (made on its parent) on the branch.
async fn resume_waiting(ctx: &Ctx, task: &plan::Task, commit: &str, attempt: u32) -> Result<Attempt, EngineError> {
    let base = ctx.repo.rev_parse(&format!("{commit}^")).await?;
    let message = ctx.repo.run(&["log", "-1", "--format=%B", commit]).await?;
    match checkpoint(ctx, task, Some(commit), &base, "").await? {
        Answer::Approved => integrate(ctx, &task.id.to_string(), attempt, &base, commit, &message).await,
        Answer::Rejected(reason) => Ok(Attempt::Rejected(format!("a person rejected this change: {reason}"))),
        Answer::Decided(_) | Answer::Cancelled => Ok(Attempt::Cancelled),
    }
}

/// Prices usage that came without a cost from the configuration's table, and adds the cost to
/// what the run spent (for `--budget`).
fn account(ctx: &Ctx, model_id: Option<&str>, activity: crate::adapters::Activity) -> crate::adapters::Activity {
    let crate::adapters::Activity::Usage { input, output, cost_usd } = activity else { return activity };
    let priced = cost_usd.or_else(|| {
        let (per_in, per_out) = ctx.options.prices.get(model_id?)?;
        Some((input as f64 * per_in + output as f64 * per_out) / 1_000_000.0)
    });
    if let Some(cost) = priced {
        ctx.spent_micro_usd.fetch_add((cost * 1_000_000.0).round() as u64, std::sync::atomic::Ordering::Relaxed);
    }
    crate::adapters::Activity::Usage { input, output, cost_usd: priced }
}

/// The event of an agent's activity.
fn activity_event(task: &str, attempt: u32, activity: crate::adapters::Activity) -> Event {
    use crate::adapters::Activity;
    let (kind, detail, tokens_in, tokens_out, cost_usd) = match activity {
        Activity::Text(text) | Activity::TextPiece(text) => (ActivityKind::Text, text, None, None, None),
        Activity::Tool(tool) => (ActivityKind::Tool, tool, None, None, None),
        Activity::Usage { input, output, cost_usd } => {
            (ActivityKind::Usage, String::new(), Some(input), Some(output), cost_usd)
        }
        Activity::Error(error) => (ActivityKind::Error, error, None, None, None),
    };
    Event::AgentActivity { task: task.to_owned(), attempt, kind, detail, tokens_in, tokens_out, cost_usd }
}

/// The log files of a task in `run_dir`, with the attempt (or gate round) each belongs to:
/// by attempt, the agent's before its Verify commands'. Names that carry no attempt number
/// (`<task>-gate1-…`) count as attempt 0.
pub fn task_logs(run_dir: &Path, task: &str) -> Vec<(u32, PathBuf)> {
    let prefix = format!("{task}-");
    let mut files: Vec<(u32, bool, String, PathBuf)> = std::fs::read_dir(run_dir.join("logs"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let rest = name.strip_prefix(&prefix)?;
                    let attempt = rest.split('-').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                    Some((attempt, !rest.contains("-agent"), name, entry.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.into_iter().map(|(attempt, _, _, path)| (attempt, path)).collect()
}

/// The log file of one part of an attempt: `logs/<task>-<attempt>-<part>.log`.
pub fn log_path(run_dir: &Path, task: &str, attempt: u32, part: &str) -> PathBuf {
    run_dir.join("logs").join(format!("{task}-{attempt}-{part}.log"))
}

/// A fingerprint of the user's work tree: changed and untracked paths with their sizes and
/// modification times. Any agent write there shows up as a difference.
async fn user_tree_state(root: &Path) -> String {
    let Ok(paths) = Git::new(root).changed_paths().await else { return String::new() };
    let mut out = String::new();
    for path in paths {
        let meta = std::fs::metadata(root.join(&path)).ok();
        let stamp = meta.map(|m| (m.len(), m.modified().ok()));
        out.push_str(&format!("{path} {stamp:?}\n"));
    }
    out
}

/// Makes `worktree` a clean checkout of `base`: created (and provisioned) the first time,
/// reset after; the setup command runs in a new worktree and again when its inputs changed.
/// Returns why the lane cannot be used, if it cannot (a failed setup): no agent starts then.
async fn prepare_worktree(
    ctx: &Ctx,
    task: &str,
    lane: &str,
    worktree: &Path,
    base: &str,
) -> Result<Option<String>, EngineError> {
    let started = std::time::Instant::now();
    let provision = &ctx.options.provision;
    let mut detail = Vec::new();
    if worktree.join(".git").exists() {
        Git::new(worktree).reset_to(base).await?;
    } else {
        {
            let _one_at_a_time = ctx.add_worktree.lock().await;
            if let Some(parent) = worktree.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            ctx.repo.add_worktree(worktree, base).await?;
        }
        ctx.setup_done.lock().await.remove(worktree);
        let seeded = if provision.files.is_empty() { None } else { Some(provision.seed(&ctx.root, worktree).await?) };
        detail.extend(provision.seeded(seeded.as_ref()));
    }
    // A pooled worktree may have served another lane: it takes this lane's variables.
    provision.link_lane_target(&ctx.worktrees, lane, worktree)?;
    let env = provision.lane_env(&ctx.worktrees, lane);
    if let Some((_, dir)) = env.iter().find(|(name, _)| name == "CARGO_TARGET_DIR")
        && ctx.env_in(worktree) != env
    {
        detail.push(format!("CARGO_TARGET_DIR is {dir}"));
    }
    ctx.lane_env.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(worktree.to_owned(), env);
    if let Some(setup) = &provision.setup {
        let hash = provision.inputs_hash(worktree);
        let done = ctx.setup_done.lock().await.get(worktree) == Some(&hash);
        if !done {
            let slot = worktree.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let spec = process::Spec {
                program: PathBuf::from("sh"),
                args: vec!["-c".into(), setup.clone()],
                env: ctx.env_in(worktree),
                inherit: None,
                cwd: worktree.to_owned(),
                timeout: ctx.options.setup_timeout,
                log: ctx.run_dir.join("logs").join(format!("{slot}-setup-{task}.log")),
            };
            let result = process::run(&spec, |_| {}, |_| {}, ctx.cancel.clone()).await?;
            if !result.success() {
                let why = result.ended();
                return Ok(Some(format!(
                    "setup `{setup}` {why} in lane {lane}, so no agent was started\n{}",
                    result.tail
                )));
            }
            ctx.setup_done.lock().await.insert(worktree.to_owned(), hash);
            detail.push(format!("ran setup `{setup}` ({:.1}s)", result.duration.as_secs_f64()));
        }
    }
    if !detail.is_empty() {
        ctx.emitter.emit(Event::LanePrepared {
            task: task.to_owned(),
            lane: lane.to_owned(),
            detail: detail.join("; "),
            duration_ms: started.elapsed().as_millis() as u64,
        })?;
    }
    Ok(None)
}

/// Removes a run's worktrees (their folders at once, in parallel) and lets git forget them.
async fn remove_worktrees(repo: &Git, dir: &Path) {
    let mut removals = tokio::task::JoinSet::new();
    if let Ok(mut entries) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            removals.spawn(async move { tokio::fs::remove_dir_all(entry.path()).await });
        }
    }
    while removals.join_next().await.is_some() {}
    let _ = tokio::fs::remove_dir_all(dir).await;
    let _ = repo.prune_worktrees().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_on_their_rows_model_and_reviews_and_the_verifier_on_a_named_one() {
        let text = "# M1 Implementation Plan: M\n\n## Waves\n\n### Wave 1: A\n> No dependencies.\n\n\
                    **Task 1.1** (type: auto)\n\n**Task 1.2** (type: checkpoint:gate)\n\n\
                    ### Wave 2: B\n> Depends on: Wave 1.\n\n**Task 2.1** (type: auto)\n\n\
                    ## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n\
                    | 1 | A | haiku | 1.1 |\n| 2 | A | sonnet | 2.1 |\n";
        let schedule = Schedule::new(&plan::parse(text, "x").plan);
        let model = |verify: Option<&'static str>, task: &str, role| model_for(&schedule, verify, task, role);
        assert_eq!(model(None, "1.1", AgentRole::Task), Some("haiku"));
        assert_eq!(model(None, "2.1", AgentRole::Task), Some("sonnet"));
        assert_eq!(model(None, "1.2", AgentRole::Task), None, "a task the plan names no model for");
        assert_eq!(model(None, "1.2", AgentRole::Review), Some("sonnet"), "a review never runs on no model");
        assert_eq!(model(Some("opus"), "1.1", AgentRole::Review), Some("opus"));
        assert_eq!(model(None, "verification", AgentRole::Verify), Some("sonnet"), "the last wave's model");
        assert_eq!(model(Some("opus"), "verification", AgentRole::Verify), Some("opus"));
    }

    #[test]
    fn branch_names_are_safe_refs() {
        assert_eq!(branch_name("M3"), "wavecrew/M3");
        assert_eq!(branch_name("v2 beta/x"), "wavecrew/v2-beta-x");
        assert_eq!(branch_name("..lock.."), "wavecrew/lock");
        assert_eq!(branch_name("{}"), "wavecrew/plan");
    }

    #[test]
    fn run_ids_are_dated() {
        let id = new_run_id();
        assert_eq!(id.len(), "20261127-041502-3f9a".len(), "{id}");
        assert!(id.starts_with("20"), "{id}");
    }
}

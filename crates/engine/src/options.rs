//! [`Options`]: the knobs of a run (`-j`, attempts, timeouts, gates, budget, backend), as the
//! CLI and the configuration set them and the journal keeps them ([`crate::settings`]), and
//! [`BackendChoice`]: where its attempts run.

use crate::provision::Provision;
use crate::slurm::Slurm;
use plan::{Schedule, TaskType};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

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
    #[serde(rename = "agent_timeout_secs", with = "crate::options::secs")]
    pub agent_timeout: Duration,
    /// Time each Verify command gets.
    #[serde(rename = "verify_timeout_secs", with = "crate::options::secs")]
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
    #[serde(rename = "setup_timeout_secs", with = "crate::options::secs")]
    pub setup_timeout: Duration,
    /// Stop launching attempts once this many US dollars were spent (running ones finish).
    pub budget_usd: Option<f64>,
    /// Prices in US dollars per million tokens, `(input, output)`, by model id: the cost of
    /// CLIs that report tokens but no cost.
    pub prices: HashMap<String, (f64, f64)>,
    /// Prices in US dollars per million tokens read from and written to the prompt cache,
    /// `(read, write)`, by model id; a model with `prices` but none here has its cache tokens
    /// priced as input.
    pub cache_prices: HashMap<String, (f64, f64)>,
    /// Checkpoint kinds answered without a person (`human-verify`, `decision`; never
    /// `human-action`): approved, or the first option.
    #[serde(with = "crate::options::task_types")]
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
    pub backend: BackendChoice,
    /// Whether agents and Verify commands run sandboxed, and what they may write besides their
    /// worktree (`[sandbox]`, `--sandbox`).
    pub sandbox: crate::sandbox::Settings,
    /// What an attempt that ends on its agent's usage or rate limit does (`--on-limit`,
    /// `[run] on_limit`): hold the agent's lanes until the reset (the default), or fail.
    pub on_limit: crate::limits::OnLimit,
    /// The longest a limited agent's lanes hold at once (`[run] max_hold`): a reset further
    /// away holds this long, then the task fails as limited.
    #[serde(rename = "max_hold_secs", with = "crate::options::secs")]
    pub max_hold: Duration,
    /// Tasks run as the best of N candidates at once (`--best-of N --tasks 2.1`), by task id;
    /// over the plan's own `Attempts: N parallel`.
    pub best_of: std::collections::BTreeMap<String, u8>,
    /// The caps per task, per wave and per run (`[budget]`), and the first guess of an
    /// attempt's cost (see [`crate::budget`]).
    pub budgets: crate::budget::Budgets,
    /// Models by rank (`[models] escalate`, `--escalate`): each attempt after a task's first runs
    /// one further up (see [`crate::escalate`]). Empty: every attempt on the task's own model.
    pub escalate: Vec<String>,
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
            cache_prices: HashMap::new(),
            gate_rounds: 3,
            coverage_threshold: None,
            verify_truths: true,
            verify_model: None,
            backend: BackendChoice::Local,
            sandbox: crate::sandbox::Settings::default(),
            on_limit: crate::limits::OnLimit::Wait,
            max_hold: Duration::from_secs(6 * 3600),
            best_of: std::collections::BTreeMap::new(),
            budgets: crate::budget::Budgets::default(),
            escalate: Vec::new(),
        }
    }
}

/// Which backend a run uses, with its settings.
#[derive(Clone, Debug, Default)]
pub enum BackendChoice {
    /// Lanes' worktrees on this machine.
    #[default]
    Local,
    /// One Slurm job per attempt.
    Slurm(Box<SlurmOptions>),
}

/// How attempts become Slurm jobs.
#[derive(Clone, Debug)]
pub struct SlurmOptions {
    /// The client: partition, CPUs, memory, extra `sbatch` arguments, `slurm.conf`.
    pub client: Slurm,
    /// A folder every node sees: one folder per attempt ([`AttemptDir`]).
    pub spool: PathBuf,
    /// Where workers clone the repository from: a path every node sees, or a URL the head
    /// pushes each attempt's base commit to.
    pub repo: String,
    /// The worker's command line; `job.json`'s path is added.
    pub worker: Vec<String>,
    /// The agent the worker runs, as the CLI resolves it there (opaque to the engine).
    pub agent: serde_json::Value,
    /// The job's whole environment (nothing else of this process's reaches it).
    pub env: Vec<(String, String)>,
    /// How often job states are read (one `squeue` for all jobs of the run).
    pub poll: Duration,
}

/// `Duration`s as whole seconds in the record.
pub(crate) mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(crate) fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_secs())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(|secs| Duration::from_secs(secs.max(1)))
    }
}

/// Checkpoint kinds by their plan spelling (`checkpoint:human-verify`) in the record.
pub(crate) mod task_types {
    use plan::TaskType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(kinds: &[TaskType], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(kinds.iter().map(TaskType::as_str))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<TaskType>, D::Error> {
        Ok(Vec::<String>::deserialize(deserializer)?.iter().map(|kind| TaskType::parse(kind)).collect())
    }
}

/// Tokens of one usage report, as the price tables count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write: u64,
}

/// What `tokens` of model `model_id` cost at the configured `prices` and `cache_prices` (see
/// [`Options::prices`]), in US dollars; `None` when the model has no price.
pub fn price(
    prices: &HashMap<String, (f64, f64)>,
    cache_prices: &HashMap<String, (f64, f64)>,
    model_id: &str,
    tokens: Tokens,
) -> Option<f64> {
    let (per_in, per_out) = *prices.get(model_id)?;
    let (per_read, per_write) = cache_prices.get(model_id).copied().unwrap_or((per_in, per_in));
    let millionths = tokens.input as f64 * per_in
        + tokens.output as f64 * per_out
        + tokens.cache_read as f64 * per_read
        + tokens.cache_write as f64 * per_write;
    Some(millionths / 1_000_000.0)
}

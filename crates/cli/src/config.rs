//! Configuration: `wavecrew.toml` at the repository's root, then the user's
//! `$XDG_CONFIG_HOME/wavecrew/config.toml` (`~/.config/wavecrew/config.toml`). The repository's
//! file wins key by key; command-line flags win over both. See `docs/config.md`.

use crate::error::CliError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Prices in US dollars per million tokens, a pair per model id.
pub type PriceTable = std::collections::HashMap<String, (f64, f64)>;

/// What the configuration files say; every key is optional.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The agent `run` uses when `--agent` is not given: a name under `[agents]`, or a CLI's
    /// name. Also spelled `default_agent`.
    #[serde(alias = "default_agent")]
    pub agent: Option<String>,
    /// Run settings.
    #[serde(default)]
    pub run: RunConfig,
    /// Agents by name.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentConfig>,
    /// What lane worktrees get besides the tracked files.
    #[serde(default)]
    pub worktree: WorktreeConfig,
    /// Prices per million tokens by model id, for CLIs that report tokens but no cost.
    #[serde(default)]
    pub prices: BTreeMap<String, Price>,
    /// Quality gates.
    #[serde(default)]
    pub gates: GatesConfig,
    /// The Slurm backend (`run --backend slurm`).
    #[serde(default)]
    pub slurm: SlurmConfig,
    /// The final verification.
    #[serde(default)]
    pub verify: VerifyConfig,
    /// The agents' sandbox (see docs/sandbox.md).
    #[serde(default)]
    pub sandbox: SandboxConfig,
    /// Caps per task, per wave and per run.
    #[serde(default)]
    pub budget: BudgetConfig,
    /// How models rank, for escalation.
    #[serde(default)]
    pub models: ModelsConfig,
    /// `wavecrew plan`: the planning agent.
    #[serde(default)]
    pub plan: PlanConfig,
    /// Where a person is told that a run needs them, and that it ended.
    #[serde(default)]
    pub notify: crate::notify::NotifyConfig,
    /// Where `wavecrew ship` opens its pull request, when the remote's URL does not say.
    #[serde(default)]
    pub ship: ShipConfig,
    /// How the dashboard runs the change a checkpoint waits on.
    #[serde(default)]
    pub preview: PreviewConfig,
}

/// `[preview]`: the command that serves a checkpoint's change (a dev server), which the
/// dashboard starts in a worktree of that change when a person asks on its card.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PreviewConfig {
    /// The command, with `{port}` where its port goes (`npm run dev -- --port {port}
    /// --strictPort`); the port is in `PORT` too.
    pub command: Option<String>,
    /// The page to open; default: the one the command announces, else `/`.
    pub path: Option<String>,
    /// Seconds the command gets to listen (default 120).
    pub ready_timeout: Option<u64>,
}

impl PreviewConfig {
    /// The engine's settings, with `[worktree]`'s provisioning; `None` without a command.
    pub fn settings(&self, worktree: &WorktreeConfig) -> Option<engine::preview::Settings> {
        let command = self.command.clone().filter(|c| !c.trim().is_empty())?;
        let path = self
            .path
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|path| if path.starts_with('/') { path.to_owned() } else { format!("/{path}") });
        Some(engine::preview::Settings {
            command,
            path,
            ready_timeout: self
                .ready_timeout
                .map_or(engine::preview::DEFAULT_READY_TIMEOUT, |secs| std::time::Duration::from_secs(secs.max(1))),
            worktree: worktree.settings(),
            setup_timeout: engine::options::Options::default().setup_timeout,
        })
    }
}

/// `[budget]`: what a task, a wave and the run may spend, in dollars (`"$2.50"`) or tokens
/// (`"200k tokens"`); each is checked as it is read, so that a bad one names its file and line.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// What one task may spend over all its attempts.
    #[serde(default, deserialize_with = "amount::task")]
    pub task: Option<engine::budget::Amount>,
    /// What the tasks of one wave may spend together.
    #[serde(default, deserialize_with = "amount::wave")]
    pub wave: Option<engine::budget::Amount>,
    /// What the whole run may spend (`--budget USD` wins).
    #[serde(default, deserialize_with = "amount::run")]
    pub run: Option<engine::budget::Amount>,
    /// What an attempt on a model no attempt finished on yet is taken to cost.
    #[serde(default, deserialize_with = "amount::estimate")]
    pub estimate: Option<engine::budget::Amount>,
}

impl BudgetConfig {
    /// The engine's budgets.
    pub fn budgets(&self) -> engine::budget::Budgets {
        engine::budget::Budgets { task: self.task, wave: self.wave, run: self.run, estimate: self.estimate }
    }
}

/// `[budget]` amounts: a string (`"$2.50"`, `"200k tokens"`) or a number of dollars.
mod amount {
    use engine::budget::Amount;
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(f64),
    }

    fn read<'de, D: Deserializer<'de>>(key: &str, deserializer: D) -> Result<Option<Amount>, D::Error> {
        let text = match Raw::deserialize(deserializer)? {
            Raw::Text(text) => text,
            Raw::Number(number) => number.to_string(),
        };
        Amount::parse(&text).map(Some).map_err(|error| serde::de::Error::custom(format!("[budget] {key}: {error}")))
    }

    pub(super) fn task<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
        read("task", d)
    }
    pub(super) fn wave<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
        read("wave", d)
    }
    pub(super) fn run<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
        read("run", d)
    }
    pub(super) fn estimate<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
        read("estimate", d)
    }
}

/// `[models]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    /// Models by rank, lowest first: each attempt after a task's first runs one further up.
    pub escalate: Option<Vec<String>>,
}

/// `[plan]`: how `wavecrew plan` drafts a plan.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    /// The model the planning agent runs on (an alias or a model id); default: the CLI's.
    pub model: Option<String>,
    /// Rounds of check-and-fix at most (`--rounds`); default 3.
    pub rounds: Option<u32>,
    /// Warning codes a draft may keep: they are not sent back to the agent.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// `[ship]`: the forge of the remote, for a forge of one's own (or a local stand-in).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ShipConfig {
    /// `github`, `gitlab` or `gitea` (Forgejo, Codeberg); default: from the remote's host.
    pub forge: Option<crate::commands::ship::Kind>,
    /// The REST API's base URL (`https://git.example.org/api/v1`); default: the forge's own.
    pub api: Option<String>,
    /// The project, `owner/name` (GitLab: `group/sub/name`); default: from the remote's URL.
    pub project: Option<String>,
}

/// `[sandbox]`: whether agents and Verify commands run confined, and where else they may write.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    /// `landlock` (where the kernel offers it), `required` (refuse to run without it) or `off`.
    pub mode: Option<engine::sandbox::Mode>,
    /// More folders agents may write to: absolute, `~/…`, or relative to the repository root.
    #[serde(default)]
    pub writable: Vec<String>,
    /// The only TCP ports agents and Verify commands may connect to (`[443, 80]`); unset leaves
    /// the network alone.
    pub connect: Option<Vec<i64>>,
}

/// `[slurm]`: where and how task attempts run as Slurm jobs.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SlurmConfig {
    /// The partition (`--partition`); default: the cluster's.
    pub partition: Option<String>,
    /// CPUs per job (`--cpus-per-task`).
    pub cpus: Option<u32>,
    /// Memory per job (`--mem`, e.g. `8G`).
    pub mem: Option<String>,
    /// More `sbatch` arguments, e.g. `["--account=ml", "--qos=normal"]`.
    #[serde(default)]
    pub args: Vec<String>,
    /// The `slurm.conf` to use (`SLURM_CONF`); default: the environment's, else the system's.
    pub conf: Option<PathBuf>,
    /// A folder every node sees (a shared filesystem) for the jobs' files; default:
    /// `.git/wavecrew/spool` of the repository.
    pub spool: Option<PathBuf>,
    /// Where workers clone the repository from: a path every node sees, or a git URL the run
    /// branch is pushed to before each job; default: the repository's own path.
    pub repo: Option<String>,
}

impl SlurmConfig {
    /// The client settings.
    pub fn client(&self) -> engine::slurm::Slurm {
        engine::slurm::Slurm {
            partition: self.partition.clone(),
            cpus: self.cpus,
            mem: self.mem.clone(),
            extra_args: self.args.clone(),
            conf: self.conf.clone(),
        }
    }
}

/// `[verify]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    /// Who judges the plan's truths: the run's agent, proving them with evidence wavecrew
    /// checks (`agent`, the default), or a person (`manual`).
    pub truths: Option<TruthsMode>,
    /// The model gates' reviews and the verifier of the truths run on (an alias or a model id,
    /// resolved per agent like the plan's); default: the model of the plan's last wave.
    pub model: Option<String>,
}

/// `[verify] truths`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TruthsMode {
    /// The run's agent proves them; what its evidence does not show is left to a person.
    Agent,
    /// A person confirms them (the Manual checklist).
    Manual,
}

/// `[gates]`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatesConfig {
    /// Fix rounds a gate gets before it stops as needs-human.
    pub rounds: Option<u32>,
    /// Coverage of changed lines (percent) a production-engineer gate requires when its Done
    /// names none.
    pub coverage: Option<f64>,
}

/// `[prices."MODEL"]`: US dollars per million tokens.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Per million input tokens.
    pub input: f64,
    /// Per million output tokens.
    pub output: f64,
    /// Per million input tokens read from the prompt cache (default: `input`).
    pub cache_read: Option<f64>,
    /// Per million input tokens written to the prompt cache (default: `input`).
    pub cache_write: Option<f64>,
}

/// `[worktree]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WorktreeConfig {
    /// Ignored paths to bring into each worktree (gitignore syntax), besides `.worktreeinclude`.
    #[serde(default)]
    pub include: Vec<String>,
    /// A command run in each new worktree, and again when `setup_inputs` change.
    pub setup: Option<String>,
    /// Files whose content decides whether `setup` runs again (default: the lockfiles found).
    #[serde(default)]
    pub setup_inputs: Vec<String>,
    /// Hard-link brought files when reflinks are not available (an agent writing into such a
    /// file in place would change your copy).
    pub hardlink: Option<bool>,
    /// Bytes of copies each lane worktree may get before `run` asks (without a terminal:
    /// refuses). Default 1 GiB.
    pub max_copy_bytes: Option<u64>,
}

impl WorktreeConfig {
    /// The engine's settings.
    pub fn settings(&self) -> engine::provision::WorktreeSettings {
        engine::provision::WorktreeSettings {
            include: self.include.clone(),
            setup: self.setup.clone(),
            setup_inputs: self.setup_inputs.clone(),
            hardlink: self.hardlink.unwrap_or(false),
            max_copy_bytes: self.max_copy_bytes.unwrap_or(engine::provision::DEFAULT_MAX_COPY_BYTES),
        }
    }
}

/// `[run]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Attempts per task.
    pub attempts: Option<u32>,
    /// Seconds an agent gets per attempt.
    pub timeout: Option<u64>,
    /// Seconds each Verify command gets.
    pub verify_timeout: Option<u64>,
    /// Tasks running at once.
    pub jobs: Option<usize>,
    /// Where task attempts run: `local` (default) or `slurm`.
    pub backend: Option<String>,
    /// What an attempt that ends on its agent's usage or rate limit does: `wait` (hold the
    /// agent's lanes until the reset; default) or `fail`.
    pub on_limit: Option<engine::limits::OnLimit>,
    /// The longest a limited agent's lanes hold at once, in seconds (default 21600: 6 hours).
    pub max_hold: Option<u64>,
}

/// `[agents.NAME]`: a command line, or one of the agent CLIs (`cli = "claude"`, `"codex"`,
/// `"gemini"`; the names `claude`, `codex` and `gemini` are that CLI by default).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The command line, the program first; `{prompt_file}`, `{prompt}`, `{model}`, `{task}` and
    /// `{worktree}` are filled in.
    #[serde(default)]
    pub command: Vec<String>,
    /// The agent CLI this agent runs.
    pub cli: Option<String>,
    /// The CLI's program, when it is not on PATH under its name.
    pub program: Option<PathBuf>,
    /// The model API's base URL (e.g. a gateway, or the scripted test server).
    pub base_url: Option<String>,
    /// Model aliases of plans (`sonnet`) to this CLI's model ids.
    #[serde(default)]
    pub models: BTreeMap<String, String>,
    /// Variables of your environment this agent may see besides PATH, HOME, the locale and
    /// its own provider's (names, or prefixes ending in `*`).
    #[serde(default)]
    pub pass_env: Vec<String>,
    /// Extra arguments for the CLI, after wavecrew's own (e.g. a settings file).
    #[serde(default)]
    pub args: Vec<String>,
    /// This agent's models by rank, over `[models] escalate`.
    pub escalate: Option<Vec<String>>,
}

impl Config {
    /// Reads the user's file, then the repository's over it. Missing files are fine; a file
    /// that does not parse is an error naming the file, the line and the key.
    pub fn load(repo_root: &Path) -> Result<Config, CliError> {
        let mut config = Config::default();
        for path in [user_file(), Some(repo_root.join("wavecrew.toml"))].into_iter().flatten() {
            if let Some(layer) = read(&path)? {
                config.merge(layer);
            }
        }
        Ok(config)
    }

    /// `[prices]` as the engine takes them: `(input, output)` and `(cache read, cache write)`
    /// per million tokens, by model id (cache tokens at the input price unless given).
    pub fn price_tables(&self) -> (PriceTable, PriceTable) {
        let tokens = self.prices.iter().map(|(model, p)| (model.clone(), (p.input, p.output))).collect();
        let cache = self
            .prices
            .iter()
            .map(|(model, p)| (model.clone(), (p.cache_read.unwrap_or(p.input), p.cache_write.unwrap_or(p.input))))
            .collect();
        (tokens, cache)
    }

    fn merge(&mut self, mut over: Config) {
        let over_notify = std::mem::take(&mut over.notify);
        let over_ship = std::mem::take(&mut over.ship);
        let over_preview = std::mem::take(&mut over.preview);
        self.agent = over.agent.or(self.agent.take());
        self.run.attempts = over.run.attempts.or(self.run.attempts);
        self.run.timeout = over.run.timeout.or(self.run.timeout);
        self.run.verify_timeout = over.run.verify_timeout.or(self.run.verify_timeout);
        self.run.jobs = over.run.jobs.or(self.run.jobs);
        self.run.on_limit = over.run.on_limit.or(self.run.on_limit);
        self.run.max_hold = over.run.max_hold.or(self.run.max_hold);
        self.gates.rounds = over.gates.rounds.or(self.gates.rounds);
        self.gates.coverage = over.gates.coverage.or(self.gates.coverage);
        self.verify.truths = over.verify.truths.or(self.verify.truths);
        self.verify.model = over.verify.model.or(self.verify.model.take());
        self.sandbox.mode = over.sandbox.mode.or(self.sandbox.mode);
        self.sandbox.writable.extend(over.sandbox.writable);
        self.sandbox.connect = over.sandbox.connect.or(self.sandbox.connect.take());
        self.plan.model = over.plan.model.or(self.plan.model.take());
        self.plan.rounds = over.plan.rounds.or(self.plan.rounds);
        self.plan.allow.extend(over.plan.allow);
        self.agents.extend(over.agents);
        self.worktree.include.extend(over.worktree.include);
        self.worktree.setup = over.worktree.setup.or(self.worktree.setup.take());
        if !over.worktree.setup_inputs.is_empty() {
            self.worktree.setup_inputs = over.worktree.setup_inputs;
        }
        self.worktree.hardlink = over.worktree.hardlink.or(self.worktree.hardlink);
        self.worktree.max_copy_bytes = over.worktree.max_copy_bytes.or(self.worktree.max_copy_bytes);
        self.prices.extend(over.prices);
        let (budget, over_budget) = (&mut self.budget, over.budget);
        budget.task = over_budget.task.or(budget.task);
        budget.wave = over_budget.wave.or(budget.wave);
        budget.run = over_budget.run.or(budget.run);
        budget.estimate = over_budget.estimate.or(budget.estimate);
        self.models.escalate = over.models.escalate.or(self.models.escalate.take());
        self.run.backend = over.run.backend.or(self.run.backend.take());
        let (slurm, over) = (&mut self.slurm, over.slurm);
        slurm.partition = over.partition.or(slurm.partition.take());
        slurm.cpus = over.cpus.or(slurm.cpus);
        slurm.mem = over.mem.or(slurm.mem.take());
        slurm.args.extend(over.args);
        slurm.conf = over.conf.or(slurm.conf.take());
        slurm.spool = over.spool.or(slurm.spool.take());
        slurm.repo = over.repo.or(slurm.repo.take());
        self.notify.merge(over_notify);
        self.ship.forge = over_ship.forge.or(self.ship.forge);
        self.ship.api = over_ship.api.or(self.ship.api.take());
        self.ship.project = over_ship.project.or(self.ship.project.take());
        self.preview.command = over_preview.command.or(self.preview.command.take());
        self.preview.path = over_preview.path.or(self.preview.path.take());
        self.preview.ready_timeout = over_preview.ready_timeout.or(self.preview.ready_timeout);
    }
}

pub use engine::run::xdg_dir;

fn user_file() -> Option<PathBuf> {
    xdg_dir("XDG_CONFIG_HOME", ".config").map(|dir| dir.join("config.toml"))
}

fn read(path: &Path) -> Result<Option<Config>, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(CliError::io(format!("error: `{}`: {error}", path.display()))),
    };
    toml::from_str(&text).map(Some).map_err(|error| {
        let at = error.span().map(|span| {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!(":{line}")
        });
        CliError::usage(format!("error: `{}{}`: {}", path.display(), at.unwrap_or_default(), error.message()))
            .with_hint("see docs/config.md for the keys wavecrew reads")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_wins_key_by_key() {
        let mut config: Config = toml::from_str("agent = \"a\"\n[run]\nattempts = 2\ntimeout = 5\n").unwrap();
        config
            .merge(toml::from_str("[run]\nattempts = 4\n[agents.b]\ncommand = [\"b\", \"{prompt_file}\"]\n").unwrap());
        assert_eq!(config.agent.as_deref(), Some("a"));
        assert_eq!((config.run.attempts, config.run.timeout), (Some(4), Some(5)));
        assert_eq!(config.agents["b"].command, ["b", "{prompt_file}"]);
    }

    #[test]
    fn default_agent_is_another_spelling_of_agent_and_agents_take_args() {
        let config: Config =
            toml::from_str("default_agent = \"aider\"\n[agents.aider]\nargs = [\"--map-tokens\", \"0\"]\n").unwrap();
        assert_eq!(config.agent.as_deref(), Some("aider"));
        assert_eq!(config.agents["aider"].args, ["--map-tokens", "0"]);
    }

    #[test]
    fn what_a_limit_does_merges_key_by_key_and_a_wrong_word_is_an_error() {
        let mut config: Config = toml::from_str("[run]\non_limit = \"fail\"\nmax_hold = 600\n").unwrap();
        config.merge(toml::from_str("[run]\nmax_hold = 90\n").unwrap());
        assert_eq!((config.run.on_limit, config.run.max_hold), (Some(engine::limits::OnLimit::Fail), Some(90)));
        let error = toml::from_str::<Config>("[run]\non_limit = \"sometimes\"\n").unwrap_err().to_string();
        assert!(error.contains("line 2") && error.contains("wait") && error.contains("fail"), "{error}");
    }

    #[test]
    fn truths_are_left_to_a_person_only_when_asked() {
        let mut config: Config = toml::from_str("[verify]\ntruths = \"manual\"\n").unwrap();
        assert_eq!(config.verify.truths, Some(TruthsMode::Manual));
        config.merge(toml::from_str("[verify]\ntruths = \"agent\"\n").unwrap());
        assert_eq!(config.verify.truths, Some(TruthsMode::Agent));
        assert!(toml::from_str::<Config>("[verify]\ntruths = \"maybe\"\n").is_err());
        config.merge(toml::from_str("[verify]\nmodel = \"haiku\"\n").unwrap());
        assert_eq!((config.verify.truths, config.verify.model.as_deref()), (Some(TruthsMode::Agent), Some("haiku")));
    }

    #[test]
    fn the_backend_and_slurm_settings_merge_key_by_key() {
        let mut config: Config =
            toml::from_str("[slurm]\npartition = \"cpu\"\nconf = \"/etc/slurm/slurm.conf\"\nargs = [\"--qos=low\"]\n")
                .unwrap();
        config.merge(
            toml::from_str(
                "[run]\nbackend = \"slurm\"\n[slurm]\nrepo = \"file:///srv/repo.git\"\nargs = [\"--account=ml\"]\n",
            )
            .unwrap(),
        );
        assert_eq!(config.run.backend.as_deref(), Some("slurm"));
        assert_eq!(config.slurm.partition.as_deref(), Some("cpu"));
        assert_eq!(config.slurm.repo.as_deref(), Some("file:///srv/repo.git"));
        assert_eq!(config.slurm.args, ["--qos=low", "--account=ml"]);
        assert_eq!(config.slurm.client().conf, Some(PathBuf::from("/etc/slurm/slurm.conf")));
    }

    #[test]
    fn the_sandbox_mode_is_the_repository_s_and_writable_folders_add_up() {
        let mut config: Config = toml::from_str("[sandbox]\nmode = \"off\"\nwritable = [\"~/.m2\"]\n").unwrap();
        config.merge(toml::from_str("[sandbox]\nmode = \"landlock\"\nwritable = [\"build\"]\n").unwrap());
        assert_eq!(config.sandbox.mode, Some(engine::sandbox::Mode::Landlock));
        assert_eq!(config.sandbox.writable, ["~/.m2", "build"]);
        assert!(toml::from_str::<Config>("[sandbox]\nmode = \"bubblewrap\"\n").is_err());
    }

    #[test]
    fn budgets_read_dollars_or_tokens_and_merge_key_by_key() {
        use engine::budget::Amount;
        let mut config: Config =
            toml::from_str("[budget]\ntask = \"$2.50\"\nrun = 20\n[models]\nescalate = [\"haiku\", \"opus\"]\n")
                .unwrap();
        config.merge(toml::from_str("[budget]\nwave = \"200k tokens\"\nrun = \"$30\"\n").unwrap());
        assert_eq!(config.budget.task, Some(Amount::Usd(2.5)));
        assert_eq!(config.budget.wave, Some(Amount::Tokens(200_000)));
        assert_eq!(config.budget.run, Some(Amount::Usd(30.0)));
        assert_eq!(config.models.escalate.as_deref(), Some(&["haiku".to_owned(), "opus".to_owned()][..]));
    }

    #[test]
    fn a_budget_of_nothing_or_of_no_amount_names_its_key_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wavecrew.toml");
        for (text, expected) in [
            ("[budget]\ntask = \"$0\"\n", "wavecrew.toml:2`: [budget] task: `$0` must be more than zero"),
            ("[budget]\n\nwave = -3\n", "wavecrew.toml:3`: [budget] wave: `-3` must be more than zero"),
            ("[budget]\nrun = \"lots\"\n", "wavecrew.toml:2`: [budget] run: `lots` is not an amount"),
            ("[budget]\ntask = \"0 tokens\"\n", "[budget] task: `0 tokens` must be more than zero"),
        ] {
            std::fs::write(&file, text).unwrap();
            let error = read(&file).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_bad_file_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("wavecrew.toml"), "[run]\nattempts = 3\nretries = 2\n").unwrap();
        let error = read(&dir.path().join("wavecrew.toml")).unwrap_err().to_string();
        assert!(error.contains("wavecrew.toml:3`: unknown field `retries`"), "{error}");
    }
}

//! `wavecrew run PLAN` and `wavecrew resume [RUN]`: run a plan with agents, or pick a run up.

use super::Context;
use crate::config::Config;
use crate::error::{CliError, exit};
use crate::input::PlanFile;
use crate::notify::Notifier;
use crate::progress::Progress;
use clap::{Args, ValueEnum};
use engine::agent::Agent;
use engine::events::RunState;
use engine::limits::OnLimit;
use engine::run::{self, Options, ScheduleMode, Workspace};
use engine::settings::{self, AgentSpec, BackendSpec, Recorded, RunSettings};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How agents are chosen and run.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Which agent (`--agent`, `--agent-command`, `--script`).
    #[command(flatten)]
    pub choice: AgentChoice,

    /// Attempts per task before it fails [config: run.attempts; default 3].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub attempts: Option<u32>,

    /// Seconds an agent gets per attempt [config: run.timeout; default 1800].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,

    /// Seconds each Verify command gets [config: run.verify_timeout; default 600].
    #[arg(long, value_name = "SECS")]
    pub verify_timeout: Option<u64>,

    /// Tasks running at once [config: run.jobs; default: one per agent of the plan].
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Stop launching tasks after the first failure.
    #[arg(long)]
    pub fail_fast: bool,

    /// `dag`: a task starts when the tasks it depends on are done; `waves`: strict wave
    /// barriers [default: dag].
    #[arg(long, value_enum)]
    pub schedule: Option<Scheduling>,

    /// Where task attempts run: `local` (a worktree per lane here) or `slurm` (one Slurm job per
    /// attempt, see docs/scale-out.md) [config: run.backend; default local].
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,

    /// With `--backend slurm`: the partition [config: slurm.partition].
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,

    /// With `--backend slurm`: one more `sbatch` argument, e.g. `--slurm-arg=--account=ml`
    /// (repeatable) [config: slurm.args].
    #[arg(long = "slurm-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub slurm_args: Vec<String>,

    /// Print the engine's events as JSON lines instead of the progress view.
    #[arg(long)]
    pub json: bool,

    /// Also serve the dashboard while the run goes on (as `wavecrew serve` does); prints its
    /// URL with the access token. It stops when the run ends.
    #[arg(long)]
    pub serve: bool,

    /// With `--serve`: the address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1", requires = "serve")]
    pub serve_bind: std::net::IpAddr,

    /// With `--serve`: the port (0: any free port).
    #[arg(long, value_name = "PORT", default_value_t = 0, requires = "serve")]
    pub serve_port: u16,

    /// Stop launching attempts once the agents have cost this many US dollars (running ones
    /// finish). Costs come from the CLIs, or from `[prices]` for those that report tokens only.
    #[arg(long, value_name = "USD", value_parser = positive_usd)]
    pub budget: Option<f64>,

    /// Models by rank, lowest first: each attempt after a task's first runs one model further
    /// up, from the model of the task's Agent Strategy row (e.g. `haiku,sonnet,opus`)
    /// [config: agents.NAME.escalate, else models.escalate].
    #[arg(long, value_delimiter = ',', value_name = "MODELS")]
    pub escalate: Option<Vec<String>>,

    /// Answer these checkpoints without a person: `human-verify` (approved) and `decision` (the
    /// first option); the report lists every one. `human-action` always waits for `approve`.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub auto_approve: Vec<AutoApprove>,

    /// Show a wave's human-verify checkpoints only once the rest of the wave can go no further,
    /// so that they are answered together. (A waiting checkpoint never holds a `-j` slot.)
    #[arg(long)]
    pub batch_checkpoints: bool,

    /// Fix rounds a quality gate (`checkpoint:gate`) gets before it stops as needs-human
    /// [config: gates.rounds; default 3].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=20))]
    pub gate_rounds: Option<u32>,

    /// Run agents and Verify commands confined (Linux Landlock): they may write only in their
    /// worktree, a private TMPDIR, their CLI's own folders and `[sandbox] writable`
    /// (docs/sandbox.md). `landlock`: where the kernel offers it, else a warning; `required`:
    /// refuse to run without it [config: sandbox.mode; default landlock].
    #[arg(long, value_enum, value_name = "MODE")]
    pub sandbox: Option<SandboxFlag>,

    /// When an attempt ends on its agent's usage or rate limit: `wait` holds every lane on that
    /// agent until the limit resets (or backs off 1, 2, 4 … minutes when the agent gives no
    /// time; other agents go on), and the attempt does not count; `fail` fails the task
    /// [config: run.on_limit; default wait].
    #[arg(long, value_enum, value_name = "WHAT")]
    pub on_limit: Option<OnLimitFlag>,

    /// Run the tasks named by `--tasks` as the best of N candidates at once, each in its own
    /// worktree with its own agent and Verify; only the one chosen by evidence lands (Verify
    /// passes, then the least change outside the task's Files, the smallest diff, the fewest
    /// tokens), the others stay as refs (docs/best-of.md). Over the plan's `Attempts: N parallel`.
    #[arg(long, value_name = "N", requires = "tasks", value_parser = clap::value_parser!(u8).range(1..=8))]
    pub best_of: Option<u8>,

    /// The tasks `--best-of` runs as the best of N, comma-separated: `--tasks 2.1,2.2`.
    #[arg(long, value_name = "IDS", value_delimiter = ',', requires = "best_of")]
    pub tasks: Vec<String>,

    /// When the run succeeds, fast-forward your current branch to the run branch (only when
    /// it is safe: your branch has not moved and your changes do not touch the same files).
    #[arg(long)]
    pub into_current: bool,
}

/// `--budget`: dollars above zero (`2.5`, `$2.50`).
fn positive_usd(text: &str) -> Result<f64, String> {
    match engine::budget::Amount::parse(text) {
        Ok(engine::budget::Amount::Usd(usd)) => Ok(usd),
        Ok(engine::budget::Amount::Tokens(_)) => {
            Err("`--budget` is in US dollars; a budget in tokens goes in `[budget] run` of wavecrew.toml".into())
        }
        Err(error) => Err(error.to_string()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AutoApprove {
    HumanVerify,
    Decision,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SandboxFlag {
    Landlock,
    Required,
    Off,
}

impl From<SandboxFlag> for engine::sandbox::Mode {
    fn from(flag: SandboxFlag) -> Self {
        match flag {
            SandboxFlag::Landlock => engine::sandbox::Mode::Landlock,
            SandboxFlag::Required => engine::sandbox::Mode::Required,
            SandboxFlag::Off => engine::sandbox::Mode::Off,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnLimitFlag {
    Wait,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    Local,
    Slurm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scheduling {
    Dag,
    Waves,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plan file.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,

    /// The repository to run in (default: the one holding the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,

    /// Print the schedule (lanes, order, file locks) and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Agree that the plan's Verify commands may run, without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,

    #[command(flatten)]
    pub agent: AgentArgs,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run to resume (default: the newest run of the repository).
    #[arg(value_name = "RUN")]
    pub run: Option<String>,

    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,

    #[command(flatten)]
    pub agent: AgentArgs,
}

impl AgentArgs {
    /// Where to serve the dashboard, with `--serve`.
    fn dashboard(&self) -> Option<super::serve::ServeAddr> {
        self.serve.then_some(super::serve::ServeAddr { bind: self.serve_bind, port: self.serve_port })
    }

    /// How a new run goes: flags over the configuration over the defaults.
    fn settings(&self, config: &Config, root: &Path) -> Result<RunSettings, CliError> {
        let agent = self.agent_spec(config, None)?;
        let backend = self.backend_spec(config, root, None)?;
        let mut options = configured_options(config);
        if let Some(ladder) = config.agents.get(agent.name()).and_then(|a| a.escalate.clone()) {
            options.escalate = ladder;
        }
        self.apply(&mut options, &mut Vec::new());
        self.check_escalate(&options.escalate, &agent, config)?;
        options.sandbox.writable = sandbox_writable(options.sandbox.mode, config, root)?;
        options.sandbox.connect = sandbox_connect(config)?;
        Ok(RunSettings { version: settings::VERSION, agent, backend, options })
    }

    /// How a resumed run goes on: as it was started, with the flags given now over that. Also
    /// says which flags changed something, as `resume` journals them.
    fn settings_over(
        &self,
        recorded: RunSettings,
        config: &Config,
        root: &Path,
    ) -> Result<(RunSettings, Vec<String>), CliError> {
        let mut overrides = Vec::new();
        let agent = self.agent_spec(config, Some(&recorded.agent))?;
        if agent != recorded.agent {
            overrides.push(format!("--agent {}", agent.name()));
        }
        let backend = self.backend_spec(config, root, Some(&recorded.backend))?;
        if backend != recorded.backend {
            overrides.push(format!("--backend {}", if backend == BackendSpec::Local { "local" } else { "slurm" }));
        }
        let mut options = recorded.options;
        let was_off = options.sandbox.mode == engine::sandbox::Mode::Off;
        self.apply(&mut options, &mut overrides);
        if self.escalate.is_some() {
            self.check_escalate(&options.escalate, &agent, config)?;
        }
        if was_off && options.sandbox.mode != engine::sandbox::Mode::Off {
            // A run started unconfined and resumed with `--sandbox`: its folders are read now.
            options.sandbox.writable = sandbox_writable(options.sandbox.mode, config, root)?;
            options.sandbox.connect = sandbox_connect(config)?;
        }
        Ok((RunSettings { version: settings::VERSION, agent, backend, options }, overrides))
    }

    /// Puts the option flags given over `options`; each that changes something is added to
    /// `changed` as it was given (`--attempts 5`).
    fn apply(&self, options: &mut Options, changed: &mut Vec<String>) {
        fn set<T: PartialEq>(field: &mut T, value: T, flag: String, changed: &mut Vec<String>) {
            if *field != value {
                *field = value;
                changed.push(flag);
            }
        }
        let secs = |s: u64| Duration::from_secs(s.max(1));
        if let Some(n) = self.jobs {
            set(&mut options.jobs, Some(n), format!("-j {n}"), changed);
        }
        if let Some(n) = self.attempts {
            set(&mut options.attempts, n, format!("--attempts {n}"), changed);
        }
        if let Some(s) = self.timeout {
            set(&mut options.agent_timeout, secs(s), format!("--timeout {s}"), changed);
        }
        if let Some(s) = self.verify_timeout {
            set(&mut options.verify_timeout, secs(s), format!("--verify-timeout {s}"), changed);
        }
        if self.fail_fast {
            set(&mut options.fail_fast, true, "--fail-fast".into(), changed);
        }
        if let Some(usd) = self.budget {
            set(&mut options.budget_usd, Some(usd), format!("--budget {usd}"), changed);
        }
        if let Some(ladder) = &self.escalate {
            set(&mut options.escalate, ladder.clone(), format!("--escalate {}", ladder.join(",")), changed);
        }
        if !self.auto_approve.is_empty() {
            let (kinds, names): (Vec<plan::TaskType>, Vec<&str>) = self
                .auto_approve
                .iter()
                .map(|kind| match kind {
                    AutoApprove::HumanVerify => (plan::TaskType::HumanVerify, "human-verify"),
                    AutoApprove::Decision => (plan::TaskType::Decision, "decision"),
                })
                .unzip();
            set(&mut options.auto_approve, kinds, format!("--auto-approve {}", names.join(",")), changed);
        }
        if self.batch_checkpoints {
            set(&mut options.batch_checkpoints, true, "--batch-checkpoints".into(), changed);
        }
        match self.schedule {
            Some(Scheduling::Dag) => set(&mut options.schedule, ScheduleMode::Dag, "--schedule dag".into(), changed),
            Some(Scheduling::Waves) => {
                set(&mut options.schedule, ScheduleMode::Waves, "--schedule waves".into(), changed);
            }
            None => {}
        }
        if let Some(n) = self.gate_rounds {
            set(&mut options.gate_rounds, n, format!("--gate-rounds {n}"), changed);
        }
        match self.on_limit {
            Some(OnLimitFlag::Wait) => set(&mut options.on_limit, OnLimit::Wait, "--on-limit wait".into(), changed),
            Some(OnLimitFlag::Fail) => set(&mut options.on_limit, OnLimit::Fail, "--on-limit fail".into(), changed),
            None => {}
        }
        if let Some(flag) = self.sandbox {
            let mode = engine::sandbox::Mode::from(flag);
            set(&mut options.sandbox.mode, mode, format!("--sandbox {}", mode.as_str()), changed);
        }
        if let Some(n) = self.best_of {
            let mut best_of = options.best_of.clone();
            best_of.extend(self.tasks.iter().map(|task| (task.trim().to_owned(), n)));
            set(&mut options.best_of, best_of, format!("--best-of {n} --tasks {}", self.tasks.join(",")), changed);
        }
    }

    /// The escalation list must name models the run knows (see [`engine::escalate::check`]):
    /// the plan aliases, the agent's `models` and the price table's ids. Said before anything
    /// starts, naming where the list came from.
    fn check_escalate(&self, ladder: &[String], agent: &AgentSpec, config: &Config) -> Result<(), CliError> {
        let mut known: Vec<String> = engine::escalate::PLAN_ALIASES.iter().map(|m| (*m).to_owned()).collect();
        if let AgentSpec::Cli { models, .. } = agent {
            known.extend(models.iter().flat_map(|(alias, id)| [alias.clone(), id.clone()]));
        }
        known.extend(config.prices.keys().cloned());
        engine::escalate::check(ladder, &known).map_err(|error| {
            let from = if self.escalate.is_some() {
                "--escalate".to_owned()
            } else if config.agents.get(agent.name()).is_some_and(|a| a.escalate.is_some()) {
                format!("`[agents.{}] escalate` (wavecrew.toml or ~/.config/wavecrew/config.toml)", agent.name())
            } else {
                "`[models] escalate` (wavecrew.toml or ~/.config/wavecrew/config.toml)".to_owned()
            };
            let add = match agent {
                AgentSpec::Cli { name, .. } => format!("`[agents.{name}] models` or `[prices]`"),
                _ => "`[prices]`".to_owned(),
            };
            CliError::usage(format!("error: {from}: {error}")).with_hint(format!(
                "name models as the plan does (`haiku`, `sonnet`, `opus`), or add the name under {add}"
            ))
        })
    }

    /// The agent: `--agent` (or, for a resumed run, the agent it had; else the
    /// configuration's `agent`), resolved by name.
    pub(super) fn agent_spec(&self, config: &Config, recorded: Option<&AgentSpec>) -> Result<AgentSpec, CliError> {
        self.choice.spec(config, recorded)
    }

    /// The backend: `--backend` (or, for a resumed run, the backend it had; else
    /// `run.backend`), with `[slurm]` and the Slurm flags.
    fn backend_spec(
        &self,
        config: &Config,
        root: &Path,
        recorded: Option<&BackendSpec>,
    ) -> Result<BackendSpec, CliError> {
        let recorded_kind =
            recorded.map(|r| if *r == BackendSpec::Local { BackendKind::Local } else { BackendKind::Slurm });
        let kind = match (self.backend.or(recorded_kind), config.run.backend.as_deref()) {
            (Some(kind), _) => kind,
            (None, None | Some("local")) => BackendKind::Local,
            (None, Some("slurm")) => BackendKind::Slurm,
            (None, Some(other)) => {
                return Err(CliError::usage(format!(
                    "error: wavecrew.toml: run.backend = \"{other}\" is not a backend"
                ))
                .with_hint("the backends are `local` and `slurm`"));
            }
        };
        if kind == BackendKind::Local {
            return Ok(BackendSpec::Local);
        }
        let (mut client, spool, repo) = match recorded {
            Some(BackendSpec::Slurm { client, spool, repo }) => (client.clone(), spool.clone(), repo.clone()),
            _ => {
                let state = engine::control::state_dir(root).map_err(|e| CliError::usage(format!("error: {e}")))?;
                (
                    config.slurm.client(),
                    config.slurm.spool.clone().unwrap_or_else(|| state.join("spool")),
                    config.slurm.repo.clone().unwrap_or_else(|| root.display().to_string()),
                )
            }
        };
        if let Some(partition) = &self.partition {
            client.partition = Some(partition.clone());
        }
        // A resumed run has those it was started with: `--slurm-arg` given again adds nothing.
        for arg in &self.slurm_args {
            if !client.extra_args.contains(arg) {
                client.extra_args.push(arg.clone());
            }
        }
        Ok(BackendSpec::Slurm { client, spool, repo })
    }
}

/// The options the configuration gives a new run, over the defaults (flags go over them).
pub(super) fn configured_options(config: &Config) -> Options {
    let defaults = Options::default();
    let (prices, cache_prices) = config.price_tables();
    let secs = |config: Option<u64>, default: Duration| config.map_or(default, |s| Duration::from_secs(s.max(1)));
    Options {
        jobs: config.run.jobs,
        attempts: config.run.attempts.unwrap_or(defaults.attempts).max(1),
        agent_timeout: secs(config.run.timeout, defaults.agent_timeout),
        verify_timeout: secs(config.run.verify_timeout, defaults.verify_timeout),
        prices,
        cache_prices,
        gate_rounds: config.gates.rounds.unwrap_or(defaults.gate_rounds),
        coverage_threshold: config.gates.coverage,
        verify_truths: config.verify.truths != Some(crate::config::TruthsMode::Manual),
        verify_model: config.verify.model.clone(),
        sandbox: engine::sandbox::Settings {
            mode: config.sandbox.mode.unwrap_or_default(),
            writable: Vec::new(),
            connect: None,
        },
        on_limit: config.run.on_limit.unwrap_or_default(),
        max_hold: secs(config.run.max_hold, defaults.max_hold),
        budgets: config.budget.budgets(),
        escalate: config.models.escalate.clone().unwrap_or_default(),
        ..defaults
    }
}

/// The agent the command line names, for `run`, `resume` and `plan`.
#[derive(Clone, Debug, Default, Args)]
pub struct AgentChoice {
    /// The agent: a name under `[agents]` in the configuration, `command` (any program, see
    /// `--agent-command`) or `scripted` (a test double that plays `--script`). Default: the
    /// configuration's `agent`. The agent CLIs: `claude`, `codex`, `gemini`, `opencode`,
    /// `aider` (see `wavecrew agents`).
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,

    /// For `--agent command`: the command line; `{prompt_file}`, `{prompt}`, `{model}`, `{task}`,
    /// `{worktree}` and, for `wavecrew plan`, `{plan_file}` are filled in. E.g.
    /// `--agent-command 'my-agent --model {model} {prompt_file}'`.
    #[arg(long, value_name = "CMD")]
    pub agent_command: Option<String>,

    /// For `--agent scripted`: the JSON script of file edits per task and attempt (`plan` for
    /// `wavecrew plan`'s drafts).
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
}

impl AgentChoice {
    /// The agent: the one named (or, for a resumed run, the agent it had; else the
    /// configuration's `agent`), resolved by name.
    pub(super) fn spec(&self, config: &Config, recorded: Option<&AgentSpec>) -> Result<AgentSpec, CliError> {
        let flagged = self.agent.is_some() || self.agent_command.is_some() || self.script.is_some();
        if let Some(recorded) = recorded.filter(|_| !flagged) {
            return Ok(recorded.clone());
        }
        let name = self
            .agent
            .clone()
            .or_else(|| recorded.map(|r| r.name().to_owned()))
            .or_else(|| config.agent.clone())
            .ok_or_else(|| {
                CliError::usage("error: choose an agent with `--agent NAME` (or `agent = \"NAME\"` in wavecrew.toml)")
                    .with_hint("`--agent command --agent-command CMD` runs any program; `--agent scripted --script FILE` is the test double; `wavecrew demo` shows a whole run")
            })?;
        match name.as_str() {
            "scripted" => {
                let script = match (&self.script, recorded) {
                    (Some(script), _) => std::path::absolute(script).unwrap_or_else(|_| script.clone()),
                    (None, Some(AgentSpec::Scripted { script })) => script.clone(),
                    (None, _) => {
                        return Err(CliError::usage("error: `--agent scripted` needs `--script FILE`").with_hint(
                            "the script says which files the scripted agent writes for each task (see `wavecrew demo`)",
                        ));
                    }
                };
                Ok(AgentSpec::Scripted { script })
            }
            "command" => {
                let argv = match (&self.agent_command, recorded) {
                    (Some(line), _) => {
                        shell_words::split(line).map_err(|e| CliError::usage(format!("error: --agent-command: {e}")))?
                    }
                    (None, Some(AgentSpec::Command { name, argv, .. })) if name == "command" => argv.clone(),
                    (None, _) => {
                        return Err(CliError::usage("error: `--agent command` needs `--agent-command CMD`")
                            .with_hint("e.g. --agent-command 'my-agent --model {model} {prompt_file}'"));
                    }
                };
                if argv.is_empty() {
                    return Err(CliError::usage("error: --agent-command is empty"));
                }
                Ok(AgentSpec::Command { name, argv, pass_env: Vec::new() })
            }
            name if config.agents.get(name).is_none_or(|a| a.command.is_empty()) && {
                let cli = config.agents.get(name).and_then(|a| a.cli.as_deref()).unwrap_or(name);
                engine::adapters::Cli::from_name(cli).is_some()
            } =>
            {
                let configured = config.agents.get(name).cloned().unwrap_or_default();
                Ok(AgentSpec::Cli {
                    name: name.to_owned(),
                    cli: configured.cli.unwrap_or_else(|| name.to_owned()),
                    program: configured.program,
                    base_url: configured.base_url,
                    models: configured.models,
                    pass_env: configured.pass_env,
                    args: configured.args,
                })
            }
            name => {
                let configured = config.agents.get(name).ok_or_else(|| {
                    let known: Vec<&str> = config
                        .agents
                        .keys()
                        .map(String::as_str)
                        .chain(engine::adapters::Cli::ALL.map(engine::adapters::Cli::name))
                        .chain(["command", "scripted"])
                        .collect();
                    CliError::usage(format!("error: no agent `{name}`")).with_hint(format!(
                        "agents are {}; add others as `[agents.{name}]` with `command = [...]` in wavecrew.toml",
                        known.join(", ")
                    ))
                })?;
                if configured.command.is_empty() {
                    return Err(CliError::usage(format!("error: agent `{name}` has an empty `command`")));
                }
                let argv = configured.command.iter().chain(&configured.args).cloned().collect();
                Ok(AgentSpec::Command { name: name.to_owned(), argv, pass_env: configured.pass_env.clone() })
            }
        }
    }
}

/// `[sandbox] writable` as paths, for a run whose sandbox is `mode`: each checked (it exists,
/// it is not `/` nor the home folder), relative ones resolved against the repository `root`
/// (and said so). With the sandbox off they are not used, and not checked.
pub(super) fn sandbox_writable(
    mode: engine::sandbox::Mode,
    config: &Config,
    root: &Path,
) -> Result<Vec<PathBuf>, CliError> {
    if mode == engine::sandbox::Mode::Off {
        return Ok(Vec::new());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut paths = Vec::new();
    for entry in &config.sandbox.writable {
        let (path, note) = engine::sandbox::check_writable(entry, root, home.as_deref()).map_err(|error| {
            CliError::usage(format!("error: {error}"))
                .with_hint("`[sandbox] writable` is read from wavecrew.toml and ~/.config/wavecrew/config.toml")
        })?;
        if let Some(note) = note {
            eprintln!("note: {note}");
        }
        paths.push(path);
    }
    Ok(paths)
}

/// `[sandbox] connect` as ports, each checked.
pub(super) fn sandbox_connect(config: &Config) -> Result<Option<Vec<u16>>, CliError> {
    let Some(ports) = &config.sandbox.connect else { return Ok(None) };
    let ports = engine::sandbox::check_connect(ports).map_err(|error| {
        CliError::usage(format!("error: {error}"))
            .with_hint("`[sandbox] connect` is read from wavecrew.toml and ~/.config/wavecrew/config.toml")
    })?;
    Ok(Some(ports))
}

/// Whether the run's sandbox can apply here: `--sandbox required` without Landlock is an error;
/// `landlock` without it warns, once, and the run goes on unconfined.
fn check_sandbox(options: &Options) -> Result<(), CliError> {
    match engine::sandbox::State::of(options.sandbox.mode, engine::sandbox::support()) {
        Ok(engine::sandbox::State::Unavailable { reason }) => {
            eprintln!("warning: the sandbox cannot apply here, agents run unconfined: {reason}");
            Ok(())
        }
        Ok(engine::sandbox::State::On { abi })
            if abi < engine::sandbox::NET_ABI && options.sandbox.connect.is_some() =>
        {
            eprintln!(
                "warning: `[sandbox] connect` needs Landlock ABI {} and this kernel has {abi}: TCP connects are not \
                 restricted (files still are)",
                engine::sandbox::NET_ABI
            );
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(error) => Err(CliError::usage(format!("error: {error}"))),
    }
}

/// The root of the repository holding `repo`, and its configuration.
pub fn load_config(repo: &std::path::Path) -> Result<(PathBuf, Config), CliError> {
    let root = super::work_tree_top(repo)
        .ok_or_else(|| CliError::usage(format!("error: `{}` is not inside a git repository", repo.display())))?;
    let config = Config::load(&root)?;
    Ok((root, config))
}

/// The agent of `spec`.
pub(super) fn build_agent(spec: &AgentSpec) -> Result<Arc<dyn Agent>, CliError> {
    let program = std::env::current_exe().map_err(|e| CliError::io(format!("error: where is wavecrew? {e}")))?;
    spec.build(&program).ok_or_else(|| CliError::usage(format!("error: agent `{}` cannot be started", spec.name())))
}

/// The engine's options for `settings`: what the journal keeps, and where attempts run.
fn engine_options(settings: &RunSettings, agent: &dyn Agent) -> Result<Options, CliError> {
    let mut options = settings.options.clone();
    options.backend = match &settings.backend {
        BackendSpec::Local => engine::backend::BackendChoice::Local,
        BackendSpec::Slurm { client, spool, repo } => {
            let program =
                std::env::current_exe().map_err(|e| CliError::io(format!("error: where is wavecrew? {e}")))?;
            engine::backend::BackendChoice::Slurm(Box::new(engine::backend::SlurmOptions {
                client: client.clone(),
                spool: spool.clone(),
                repo: repo.clone(),
                worker: vec![program.display().to_string(), "worker".into()],
                agent: serde_json::to_value(&settings.agent).unwrap_or_default(),
                env: worker_env(agent),
                poll: Duration::from_secs(1),
            }))
        }
    };
    Ok(options)
}

/// A Slurm job's whole environment: what an agent of this run may see of ours (the base
/// variables and the agent's own, as a local lane passes them), and nothing else. Node-local
/// paths (`TMPDIR`) are left to the node.
fn worker_env(agent: &dyn Agent) -> Vec<(String, String)> {
    let probe = engine::agent::AgentRequest {
        task: String::new(),
        attempt: 1,
        model: None,
        prompt: String::new(),
        prompt_file: PathBuf::new(),
        worktree: PathBuf::new(),
        skills: Vec::new(),
        verify_commands: Vec::new(),
        role: engine::agent::AgentRole::Task,
        sandboxed: false,
    };
    let patterns: Vec<String> =
        engine::agent::BASE_ENV.iter().map(|p| (*p).to_owned()).chain(agent.command(&probe).pass_env).collect();
    std::env::vars().filter(|(name, _)| name != "TMPDIR" && engine::agent::env_matches(name, &patterns)).collect()
}

/// What lane worktrees get, worked out from the repository and its configuration; advice
/// (a lockfile without its folder) is said once.
pub(super) async fn provision(ws: &Workspace, config: &Config) -> Result<engine::provision::Provision, CliError> {
    let provision = engine::provision::Provision::plan(&ws.root, &ws.worktree_root, &config.worktree.settings())
        .await
        .map_err(|e| CliError::io(format!("error: could not list the files to bring into worktrees: {e}")))?;
    for advice in &provision.advice {
        say!("note: {advice}");
    }
    Ok(provision)
}

/// Above `max_copy_bytes` of copies per worktree (no reflink), asks before writing them; without
/// a terminal to ask on, refuses, naming the setting. `worktrees`: how many at most, if known.
fn agree_to_copies(provision: &engine::provision::Provision, worktrees: Option<usize>) -> Result<(), CliError> {
    use engine::provision::human_bytes;
    if !provision.over_limit() {
        return Ok(());
    }
    let copied: Vec<String> = provision
        .items
        .iter()
        .filter(|i| i.copy_bytes() > 0)
        .map(|i| format!("{} {}", i.entry, human_bytes(i.copy_bytes())))
        .collect();
    let per_lane = provision.copy_bytes();
    let total = worktrees
        .map(|n| {
            let worktrees = if n == 1 { "1 worktree makes".to_owned() } else { format!("up to {n} worktrees make") };
            format!(", and {worktrees} {} in all", human_bytes(per_lane.saturating_mul(n as u64)))
        })
        .unwrap_or_default();
    let what = format!(
        "each lane's worktree would get {} of copies ({}), above `max_copy_bytes` ({}) under [worktree] in wavecrew.toml: this filesystem cannot clone files (reflink){total}",
        human_bytes(per_lane),
        copied.join(", "),
        human_bytes(provision.max_copy_bytes)
    );
    let hint = "raise `max_copy_bytes` under [worktree] in wavecrew.toml, set `hardlink = true` there, or leave the folder out (.worktreeinclude) and set `setup` to make it in each lane";
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!("error: {what}; nothing was copied")).with_hint(hint));
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "note: {what}.\nCopy them? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(CliError::usage("error: not agreed; nothing was copied").with_hint(hint))
    }
}

/// How many worktrees a run of `plan` makes at most: one per task running at once, and one
/// more per extra candidate of its best-of tasks.
fn worktrees_at_most(plan: &plan::Plan, options: &Options) -> usize {
    options.tasks_at_once(&plan::Schedule::new(plan)) + extra_candidates(plan, options)
}

/// The candidates of `plan`'s best-of tasks beyond the one each runs in its lane's worktree.
fn extra_candidates(plan: &plan::Plan, options: &Options) -> usize {
    run::best_of_tasks(plan, options).iter().map(|(_, n)| *n as usize - 1).sum()
}

/// Returns at Ctrl-C or SIGTERM.
pub(super) async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(term) => term.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
}

/// Starts the runtime and runs `future` with Ctrl-C and SIGTERM turned into cancellation.
pub(super) fn with_runtime<T>(
    future: impl FnOnce(watch::Receiver<bool>) -> std::pin::Pin<Box<dyn std::future::Future<Output = T>>>,
) -> Result<T, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io(format!("error: could not start the runtime: {e}")))?;
    Ok(runtime.block_on(async move {
        let (cancel_tx, cancel_rx) = watch::channel(false);
        tokio::spawn(async move {
            interrupted().await;
            // Stop first: saying so may fail (stderr a closed pipe), and must not prevent it.
            let _ = cancel_tx.send(true);
            let _ = writeln!(
                std::io::stderr(),
                "\nstopping: agents get SIGTERM, then SIGKILL; press Ctrl-C again to quit at once"
            );
            let _ = tokio::signal::ctrl_c().await;
            std::process::exit(130);
        });
        future(cancel_rx).await
    }))
}

pub fn run(ctx: &Context, args: &RunArgs) -> Result<ExitCode, CliError> {
    let file = PlanFile::read(&args.plan)?;
    let decoded =
        plan::decode(&file.bytes).map_err(|d| CliError::io(format!("error: `{}`: {}", file.display(), d.message)))?;
    let parsed = plan::parse(decoded.text, &file.fallback_id());
    if parsed.has_errors() {
        let report = super::check::check_file(&file, false, super::check::Repo::Off);
        let renderer =
            if ctx.color { annotate_snippets::Renderer::styled() } else { annotate_snippets::Renderer::plain() };
        let mut err = std::io::stderr().lock();
        for diagnostic in report.diagnostics.iter().filter(|d| d.severity() == plan::Severity::Error) {
            let _ = writeln!(err, "{}\n", crate::render::human(&report, diagnostic, &renderer));
        }
        return Err(CliError::findings(format!("error: `{}` has errors; fix them before running it", file.display())));
    }
    if args.dry_run {
        let (root, config) = load_config(&args.repo)?;
        let mut options = configured_options(&config);
        args.agent.apply(&mut options, &mut Vec::new());
        run::check_best_of(&parsed.plan, &options).map_err(engine_error)?;
        let described = with_runtime(move |_| {
            Box::pin(async move {
                let worktrees = Workspace::worktree_root_of(&root).await.ok()?;
                engine::provision::Provision::plan(&root, &worktrees, &config.worktree.settings()).await.ok()
            })
        })?;
        print!("{}", dry_run(&parsed.plan, &options));
        if let Some(provision) = described {
            println!("\nEach lane's worktree gets:\n{}", provision.describe(worktrees_at_most(&parsed.plan, &options)));
            for line in &provision.advice {
                println!("note: {line}");
            }
            if provision.over_limit() {
                println!(
                    "note: that is above `max_copy_bytes` ({}) under [worktree] in wavecrew.toml: `run` asks first, and without a terminal refuses",
                    engine::provision::human_bytes(provision.max_copy_bytes)
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let flags = &args.agent;
    let json = flags.json;
    let plan_path = args.plan.display().to_string();
    let repo = args.repo.clone();
    let bytes = file.bytes.clone();
    let yes = args.yes;
    let into_current = args.agent.into_current;
    let serve = args.agent.dashboard();
    let (root, config) = load_config(&repo)?;
    let settings = flags.settings(&config, &root)?;
    let agent = build_agent(&settings.agent)?;
    let mut options = engine_options(&settings, agent.as_ref())?;
    run::check_best_of(&parsed.plan, &options).map_err(engine_error)?;
    with_runtime(move |cancel| {
        Box::pin(async move {
            let ws = Workspace::open(&repo).await.map_err(engine_error)?;
            consent(&ws, &parsed.plan, &bytes, yes)?;
            options.provision = provision(&ws, &config).await?;
            agree_to_copies(&options.provision, Some(worktrees_at_most(&parsed.plan, &options)))?;
            check_backend(&options).await?;
            check_sandbox(&options)?;
            let dashboard = start_dashboard(&ws, &config, serve).await?;
            let (tx, rx) = broadcast::channel(4096);
            let progress = Progress::spawn(rx, json);
            let notifier = Notifier::spawn(tx.subscribe(), &config.notify, dashboard.as_ref().map(|d| d.addr()));
            let result = run::start(&ws, &plan_path, &bytes, parsed.plan, agent, options, &settings, tx, cancel).await;
            progress.finish().await;
            stop_dashboard(dashboard).await;
            let code = finish(&ws, result, into_current);
            notifier.finish().await;
            code
        })
    })?
}

pub fn resume(_ctx: &Context, args: &ResumeArgs) -> Result<ExitCode, CliError> {
    let json = args.agent.json;
    let (root, config) = load_config(&args.repo)?;
    let (_, journal) = super::runs::open(&root)?;
    let record = match &args.run {
        Some(id) => journal.run(id).map_err(|e| CliError::io(format!("error: {e}")))?.ok_or_else(|| {
            CliError::usage(format!("error: no run `{id}` in this repository"))
                .with_hint("`wavecrew runs` lists the runs")
        })?,
        None => journal
            .runs()
            .map_err(|e| CliError::io(format!("error: {e}")))?
            .into_iter()
            .next()
            .ok_or_else(|| CliError::usage("error: this repository has no run to resume"))?,
    };
    drop(journal);
    let (settings, overrides) = resumed_settings(&args.agent, &record, &config, &root)?;
    let agent = build_agent(&settings.agent)?;
    let mut options = engine_options(&settings, agent.as_ref())?;
    let repo = args.repo.clone();
    let run_id = record.id;
    let into_current = args.agent.into_current;
    let serve = args.agent.dashboard();
    with_runtime(move |cancel| {
        Box::pin(async move {
            let ws = Workspace::open(&repo).await.map_err(engine_error)?;
            options.provision = provision(&ws, &config).await?;
            agree_to_copies(&options.provision, None)?;
            check_backend(&options).await?;
            check_sandbox(&options)?;
            let dashboard = start_dashboard(&ws, &config, serve).await?;
            let (tx, rx) = broadcast::channel(4096);
            let progress = Progress::spawn(rx, json);
            let notifier = Notifier::spawn(tx.subscribe(), &config.notify, dashboard.as_ref().map(|d| d.addr()));
            let result = run::resume(&ws, &run_id, agent, options, &settings, overrides, tx, cancel).await;
            progress.finish().await;
            stop_dashboard(dashboard).await;
            let code = finish(&ws, result, into_current);
            notifier.finish().await;
            code
        })
    })?
}

/// What `run` goes on with: what it was started with and the flags given now, or (for a run an
/// older wavecrew started) the flags and the configuration, as `run` takes them. The agent it
/// had must still be here: nothing is journaled when it is not.
fn resumed_settings(
    flags: &AgentArgs,
    run: &engine::journal::RunRecord,
    config: &Config,
    root: &Path,
) -> Result<(RunSettings, Vec<String>), CliError> {
    match run.settings() {
        Recorded::Settings(recorded) => {
            let started_with = recorded.agent.clone();
            let (settings, overrides) = flags.settings_over(*recorded, config, root)?;
            // Another agent given now is checked as `run` checks one: when it starts.
            if let Some(missing) = settings.agent.missing().filter(|_| settings.agent == started_with) {
                let name = settings.agent.name();
                return Err(CliError::usage(format!(
                    "error: run {} was started with the agent `{name}`, which is not installed any more: {missing}",
                    run.id
                ))
                .with_hint(format!(
                    "`wavecrew agents` lists the agents this machine has; install `{name}` again{}, or go on with another one: `wavecrew resume {}` with `--agent` and its name",
                    match &settings.agent {
                        AgentSpec::Cli { cli, .. } => engine::adapters::Cli::from_name(cli)
                            .map(|cli| format!(" (`{}`)", cli.install_hint()))
                            .unwrap_or_default(),
                        _ => String::new(),
                    },
                    run.id
                )));
            }
            Ok((settings, overrides))
        }
        Recorded::Newer(version) => Err(CliError::usage(format!(
            "error: run {} was started by a newer wavecrew (its options are recorded in version {version}; this wavecrew reads version {})",
            run.id,
            settings::VERSION
        ))
        .with_hint("resume it with the wavecrew that started it")),
        Recorded::Nothing => {
            let why = format!("run {} was started by an older wavecrew that did not record its options", run.id);
            let settings = flags.settings(config, root).map_err(|error| error.with_reason(&why))?;
            say!("note: {why}: it goes on with the flags given and the configuration (recorded from now on)");
            Ok((settings, Vec::new()))
        }
    }
}

/// With `--backend slurm`: the cluster must answer before anything starts.
async fn check_backend(options: &Options) -> Result<(), CliError> {
    if let engine::backend::BackendChoice::Slurm(slurm) = &options.backend {
        slurm.client.ping().await.map_err(|e| {
            CliError::usage(format!("error: --backend slurm: the cluster does not answer: {e}")).with_hint(
                "`wavecrew agents` shows what the Slurm client sees; docs/scale-out.md says what a cluster needs",
            )
        })?;
        std::fs::create_dir_all(&slurm.spool).map_err(|e| {
            CliError::io(format!("error: could not make the spool folder {}: {e}", slurm.spool.display()))
        })?;
    }
    Ok(())
}

/// With `--serve`: the dashboard, following this repository's journal.
async fn start_dashboard(
    ws: &Workspace,
    config: &Config,
    serve: Option<super::serve::ServeAddr>,
) -> Result<Option<server::Dashboard>, CliError> {
    let Some(addr) = serve else { return Ok(None) };
    let preview = super::serve::preview(&ws.root, config).await?;
    Ok(Some(super::serve::start(ws.state_dir.clone(), &addr, preview).await?))
}

async fn stop_dashboard(dashboard: Option<server::Dashboard>) {
    if let Some(dashboard) = dashboard
        && let Err(error) = dashboard.stop().await
    {
        say!("warning: the dashboard did not stop cleanly: {error}");
    }
}

pub(super) fn engine_error(error: run::EngineError) -> CliError {
    match error {
        run::EngineError::Journal(_) | run::EngineError::Io(_) => CliError::io(format!("error: {error}")),
        _ => CliError::usage(format!("error: {error}")),
    }
}

/// The run's report (printed, and written to the run's folder), its verdict, and its exit
/// code: 0 succeeded, 1 failed, 130 stopped.
fn finish(
    ws: &Workspace,
    result: Result<run::Summary, run::EngineError>,
    into_current: bool,
) -> Result<ExitCode, CliError> {
    let summary = result.map_err(engine_error)?;
    let folder = ws.run_dir(&summary.run);
    write_report(ws, &summary.run);
    match summary.state {
        RunState::Succeeded => {
            say!("run {} succeeded: {} tasks committed on `{}`", summary.run, summary.committed, summary.branch);
            say!("  report and logs: {}", folder.display());
            if into_current {
                fast_forward(ws, &summary.branch);
            }
            Ok(ExitCode::SUCCESS)
        }
        RunState::Cancelled => {
            say!("run {} stopped: {} tasks committed so far on `{}`", summary.run, summary.committed, summary.branch);
            say!("  resume it with: {}", crate::progress::resume(&summary.run));
            Ok(ExitCode::from(130))
        }
        RunState::Failed | RunState::Running => {
            say!(
                "run {} failed: {} committed, {} failed, {} skipped on `{}`",
                summary.run,
                summary.committed,
                summary.failed,
                summary.skipped,
                summary.branch
            );
            say!(
                "  see `wavecrew status {}`, then `{}` to try the rest again",
                summary.run,
                crate::progress::resume(&summary.run)
            );
            Ok(ExitCode::from(exit::FINDINGS))
        }
    }
}

/// Prints the run's report and writes `report.md`, `report.json` and `junit.xml` in its folder.
pub fn write_report(ws: &Workspace, run: &str) {
    let folder = ws.run_dir(run);
    if let Ok(Some(record)) = ws.journal.run(run)
        && let Ok(report) = engine::report::Report::load(&ws.journal, &record)
    {
        say!("\n{}", report.markdown());
        if let Err(error) = report.write(&folder) {
            say!("warning: could not write the report to {}: {error}", folder.display());
        }
    }
}

/// `--into-current`: `git merge --ff-only` of the run branch into the current branch. Git
/// refuses when the branch moved or when local changes would be overwritten; then nothing
/// changes and the run branch is still there to merge by hand.
fn fast_forward(ws: &Workspace, branch: &str) {
    match engine::git::Git::new(&ws.root).run_blocking(&["merge", "--ff-only", "--quiet", branch]) {
        Ok(_) => say!("  fast-forwarded your current branch to `{branch}`"),
        Err(engine::git::GitError::Failed { stderr, .. }) => say!(
            "  not fast-forwarded (left `{branch}` to merge by hand): {}",
            stderr.lines().next().unwrap_or("git refused")
        ),
        Err(error) => say!("  not fast-forwarded: {error}"),
    }
}

/// The plan's commands run only once someone agreed, remembered per plan content (like `direnv allow`).
fn consent(ws: &Workspace, plan: &plan::Plan, bytes: &[u8], yes: bool) -> Result<(), CliError> {
    let hash = engine::workspace::plan_hash(bytes);
    let journal_error = |e| CliError::io(format!("error: {e}"));
    if ws.journal.consented(&hash).map_err(journal_error)? {
        return Ok(());
    }
    let commands = verify_commands(plan);
    if yes || commands.is_empty() {
        return ws.journal.consent(&hash).map_err(journal_error);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "This plan runs these commands in its worktrees (its Verify commands):");
    for command in &commands {
        let _ = writeln!(err, "{command}");
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage("error: the plan's commands were not agreed to")
            .with_hint("read them above, then run again with --yes (remembered for this plan's content)"));
    }
    let _ = write!(err, "Run them? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        ws.journal.consent(&hash).map_err(journal_error)
    } else {
        Err(CliError::usage("error: not agreed; nothing was run"))
    }
}

/// The commands a plan runs that need a person's consent (its Verify commands), one line
/// each: `  TASK  COMMAND`.
pub(super) fn verify_commands(plan: &plan::Plan) -> Vec<String> {
    plan.tasks.iter().flat_map(|t| t.verify_commands.iter().map(move |c| format!("  {}  {}", t.id, c.value))).collect()
}

/// The schedule a run would follow: lanes, what each task waits for, file locks.
fn dry_run(plan: &plan::Plan, options: &Options) -> String {
    use std::fmt::Write as _;
    let schedule = plan::Schedule::new(plan);
    let mut out = String::new();
    let jobs = options.tasks_at_once(&schedule);
    let _ = writeln!(out, "Dry run of {} · {}: nothing is changed.\n", plan.milestone, plan.title);
    let _ = writeln!(out, "Lanes (at most {jobs} tasks at once)");
    for lane in schedule.lanes() {
        // Each task on the model of its own row: shown per task when they differ on the lane.
        let mixed = lane.tasks.iter().any(|&id| schedule.model_of(id) != lane.model.as_deref());
        let tasks: Vec<String> = lane
            .tasks
            .iter()
            .map(|&id| match schedule.model_of(id) {
                Some(model) if mixed => format!("{id} ({model})"),
                _ => id.to_string(),
            })
            .collect();
        let model = lane.model.as_deref().unwrap_or("default model");
        let _ = writeln!(out, "  {:<18} {:<14} {}", lane.name, model, tasks.join(" → "));
    }
    let best_of = run::best_of_tasks(plan, options);
    if !best_of.is_empty() {
        // A best-of task holds one slot and its lane; its other candidates run beside it.
        let extra = extra_candidates(plan, options);
        let _ = writeln!(
            out,
            "\nBest of N (candidates side by side, each in its own worktree and verified; only the one chosen by evidence lands)"
        );
        for (id, n) in &best_of {
            let beside = if *n == 2 { "1 worktree".to_owned() } else { format!("{} worktrees", n - 1) };
            let _ =
                writeln!(out, "  {:<5} best of {n}: {n} agents at once, {beside} beside its lane's", id.to_string());
        }
        let _ = writeln!(
            out,
            "  so at most {} agents and worktrees at once: {jobs} tasks, and up to {extra} more candidates beside them",
            jobs + extra
        );
    }
    let _ = writeln!(out, "\nOrder (each task waits for the tasks listed)");
    for id in schedule.task_order().unwrap_or_default() {
        let mut waits = run::waits_for(plan, &schedule, options.schedule, id);
        waits.sort();
        waits.dedup();
        let waits: Vec<String> = waits.iter().map(ToString::to_string).collect();
        let waits = if waits.is_empty() { "nothing".to_owned() } else { waits.join(", ") };
        let _ = writeln!(out, "  {:<5} {}", id.to_string(), super::ellipsize(&waits, 80));
    }
    let _ = writeln!(out, "\nFile locks (a task holds its Files while it runs; overlapping tasks take turns)");
    for task in &plan.tasks {
        let files: Vec<&str> = task.files.iter().map(|f| f.value.as_str()).collect();
        if !files.is_empty() {
            let _ = writeln!(out, "  {:<5} {}", task.id.to_string(), files.join(", "));
        }
    }
    out
}

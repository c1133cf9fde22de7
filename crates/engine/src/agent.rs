//! Agents: what runs a task's Action in a lane's worktree.
//!
//! An agent is a command line built for one task: the engine starts it (in its own process
//! group, with a timeout, its output logged) and judges the result itself by running the
//! task's Verify commands. Backends only know how to call their program.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What an agent is asked to do.
#[derive(Clone, Debug)]
pub struct AgentRequest {
    /// The task id, e.g. `2.1`.
    pub task: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The model the plan names for the task's agent, if any.
    pub model: Option<String>,
    /// The prompt, also written to `prompt_file`.
    pub prompt: String,
    /// A file holding the prompt (outside the worktree).
    pub prompt_file: PathBuf,
    /// The lane's worktree, where the agent works.
    pub worktree: PathBuf,
    /// The task's skills, `(name, text)`, for agents that take them as a system prompt (the
    /// prompt carries them for the others).
    pub skills: Vec<(String, String)>,
    /// The task's Verify commands: agents that ask before running a shell command are allowed
    /// these (wavecrew runs them again itself; the agent may check its work with them).
    pub verify_commands: Vec<String>,
    /// Why the agent is started: a task's work (or a gate's fix), a gate's review, or the
    /// verification of the plan's truths.
    pub role: AgentRole,
    /// Whether wavecrew confines the agent ([`crate::sandbox`]): a CLI that brings a sandbox of
    /// its own leaves it off then (codex's cannot start inside another: Landlock refuses the
    /// mounts it makes).
    pub sandboxed: bool,
}

/// Why an agent is started. Agents get it as `WAVECREW_ROLE`; the scripted agent reads its
/// script by it (see [`crate::double`]). Events carry it by the same names
/// ([`crate::events::Event::AttemptStarted`]); a role this version does not know reads as
/// [`AgentRole::Task`], so that the journal that holds it still loads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentRole {
    /// A gate's review of the run's change, answered in JSON.
    Review,
    /// The verification of the plan's truths when every task landed, answered in JSON.
    Verify,
    /// The planning agent of `wavecrew plan`, writing a plan in a read-only worktree.
    Plan,
    /// A task's work, or the fix of a gate's findings (last: serde's fallback must be).
    #[default]
    #[serde(other)]
    Task,
}

impl AgentRole {
    /// `task`, `review` or `verify`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentRole::Task => "task",
            AgentRole::Review => "review",
            AgentRole::Verify => "verify",
            AgentRole::Plan => "plan",
        }
    }
}

/// A command line to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentCommand {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Variables of wavecrew's own environment the agent may see besides [`BASE_ENV`]: names,
    /// or prefixes ending in `*` (`ANTHROPIC_*`). Everything else is withheld.
    pub pass_env: Vec<String>,
}

impl AgentCommand {
    /// The variables of wavecrew's environment the agent sees: [`BASE_ENV`] and `pass_env`.
    pub fn inherited(&self) -> Vec<String> {
        BASE_ENV.iter().map(|p| (*p).to_owned()).chain(self.pass_env.iter().cloned()).collect()
    }
}

/// What every agent process gets of wavecrew's environment: the path, the home folder (where
/// the CLIs keep their logins), the user, the locale and the temporary folder.
pub const BASE_ENV: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_*", "TZ", "TMPDIR", "XDG_*"];

/// Whether `name` is one of `patterns` (names, or prefixes ending in `*`).
pub fn env_matches(name: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == p,
    })
}

/// Something an agent did, read from its output.
#[derive(Clone, Debug, PartialEq)]
pub enum Activity {
    /// It said something (a whole message).
    Text(String),
    /// A piece of a message it streams in parts (gemini's `delta` messages); [`crate::adapters::Coalesce`]
    /// joins the pieces into one [`Activity::Text`].
    TextPiece(String),
    /// It called a tool (`Write hello.txt`, `shell cargo test`).
    Tool(String),
    /// It finished a turn or the task: tokens and cost so far.
    Usage {
        /// Input tokens.
        input: u64,
        /// Output tokens.
        output: u64,
        /// Input tokens read from the prompt cache, besides `input` (priced as `[prices]` says).
        cache_read: u64,
        /// Input tokens written to the prompt cache, besides `input`.
        cache_write: u64,
        /// Cost in US dollars, when the CLI says.
        cost_usd: Option<f64>,
    },
    /// It reported an error (an API error, a rate limit).
    Error(String),
}

/// A way to run tasks.
pub trait Agent: Send + Sync {
    /// The backend's name, as shown and journaled.
    fn name(&self) -> &str;
    /// The command that performs `request`.
    fn command(&self, request: &AgentRequest) -> AgentCommand;

    /// The concrete model id this agent runs for a plan's model (an alias such as `sonnet`),
    /// for the price table.
    fn model_id(&self, model: Option<&str>) -> Option<String> {
        model.map(str::to_owned)
    }

    /// Whether the agent takes skill texts as a system prompt (else they go into the prompt).
    fn takes_system_prompt(&self) -> bool {
        false
    }

    /// What a line of the agent's output says it did, for agents with machine-readable output.
    fn activity(&self, _line: &str) -> Option<Activity> {
        None
    }

    /// The usage or rate limit of its account that the agent's failed run ended on, read from
    /// `output` (its output's tail, or the attempt's failure with it): such an attempt holds
    /// the agent's lanes rather than failing ([`crate::limits`]).
    fn limit(&self, _output: &str) -> Option<crate::limits::Limit> {
        None
    }

    /// Whether a new file at `path` (relative to the worktree) is the agent CLI's own scratch
    /// (aider's `.aider*` caches), never to be committed.
    fn is_scratch(&self, _path: &std::path::Path) -> bool {
        false
    }

    /// Where the agent's program writes outside the worktree for `request` (its state and
    /// cache folders, files of its own next to the prompt): what a sandboxed attempt allows it
    /// besides the worktree. Paths that do not exist are left out of the sandbox's rules.
    fn writable(&self, _request: &AgentRequest) -> Vec<std::path::PathBuf> {
        Vec::new()
    }

    /// Once the agent exited 0: what it left besides its output (usage it logs to a file), or
    /// why the attempt failed after all (aider exits 0 when the model never answered).
    fn finished(&self, _request: &AgentRequest) -> Result<Vec<Activity>, String> {
        Ok(Vec::new())
    }
}

/// Variables every agent process gets, so that any program can find its task.
fn standard_env(request: &AgentRequest) -> Vec<(String, String)> {
    let mut env = vec![
        ("WAVECREW_TASK".into(), request.task.clone()),
        ("WAVECREW_ATTEMPT".into(), request.attempt.to_string()),
        ("WAVECREW_PROMPT_FILE".into(), request.prompt_file.to_string_lossy().into_owned()),
        ("WAVECREW_MODEL".into(), request.model.clone().unwrap_or_default()),
        ("WAVECREW_ROLE".into(), request.role.as_str().into()),
    ];
    if request.role == AgentRole::Plan {
        env.push(("WAVECREW_PLAN_FILE".into(), plan_file(request).to_string_lossy().into_owned()));
    }
    env
}

/// The draft a planning agent writes ([`crate::layout::PLAN_DRAFT`] of its worktree).
fn plan_file(request: &AgentRequest) -> PathBuf {
    request.worktree.join(crate::layout::PLAN_DRAFT)
}

/// The generic backend: any command line, with `{prompt_file}`, `{prompt}`, `{model}`, `{task}`,
/// `{worktree}` and (for `wavecrew plan`) `{plan_file}` filled in each argument.
#[derive(Clone, Debug)]
pub struct CommandAgent {
    name: String,
    argv: Vec<String>,
    pass_env: Vec<String>,
}

impl CommandAgent {
    /// A backend named `name` that runs `argv` (the program first).
    pub fn new(name: impl Into<String>, argv: Vec<String>) -> Option<Self> {
        (!argv.is_empty()).then(|| CommandAgent { name: name.into(), argv, pass_env: Vec::new() })
    }

    /// Lets the agent see these variables of wavecrew's environment too (names or `PREFIX_*`).
    pub fn with_pass_env(mut self, pass_env: Vec<String>) -> Self {
        self.pass_env = pass_env;
        self
    }
}

impl Agent for CommandAgent {
    fn name(&self) -> &str {
        &self.name
    }

    fn command(&self, request: &AgentRequest) -> AgentCommand {
        let fill = |arg: &str| {
            arg.replace("{prompt_file}", &request.prompt_file.to_string_lossy())
                .replace("{prompt}", &request.prompt)
                .replace("{model}", request.model.as_deref().unwrap_or_default())
                .replace("{task}", &request.task)
                .replace("{worktree}", &request.worktree.to_string_lossy())
                .replace("{plan_file}", &plan_file(request).to_string_lossy())
        };
        AgentCommand {
            program: PathBuf::from(fill(&self.argv[0])),
            args: self.argv[1..].iter().map(|a| fill(a)).collect(),
            env: standard_env(request),
            pass_env: self.pass_env.clone(),
        }
    }
}

/// The key of a line of the scripted agent's output that reports usage (`crate::double`'s
/// `usage` step).
pub const SCRIPTED_USAGE: &str = "scripted_usage";

/// The key of a line of the scripted agent's output that ends its call on a usage or rate
/// limit (`crate::double`'s `limit` step): `{"scripted_limit": {"reason": …, "reset_ms": …}}`.
pub const SCRIPTED_LIMIT: &str = "scripted_limit";

/// The limit a scripted agent's `output` ends on, as an adapter reads its CLI's
/// ([`Agent::limit`]): the last [`SCRIPTED_LIMIT`] line.
pub fn scripted_limit(output: &str) -> Option<crate::limits::Limit> {
    let said = output.lines().rev().find_map(|line| {
        let value: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
        value.get(SCRIPTED_LIMIT).cloned()
    })?;
    let reason = said.get("reason").and_then(serde_json::Value::as_str).unwrap_or("limited").to_owned();
    let reset = match said.get("reset_ms").and_then(serde_json::Value::as_u64) {
        Some(at) => crate::limits::Reset::At(at),
        None => crate::limits::Reset::Unsaid,
    };
    Some(crate::limits::Limit { reason: format!("scripted: {reason}"), reset })
}

/// The scripted agent, a test double: `wavecrew agent-double --script FILE` plays the steps the
/// script gives for each task and attempt (see [`crate::double`]). It calls no model.
#[derive(Clone, Debug)]
pub struct ScriptedAgent {
    /// The `wavecrew` executable.
    pub program: PathBuf,
    /// The script.
    pub script: PathBuf,
}

impl Agent for ScriptedAgent {
    fn name(&self) -> &str {
        "scripted"
    }

    fn command(&self, request: &AgentRequest) -> AgentCommand {
        AgentCommand {
            program: self.program.clone(),
            args: vec!["agent-double".into(), "--script".into(), self.script.to_string_lossy().into_owned()],
            env: standard_env(request),
            pass_env: Vec::new(),
        }
    }

    /// The limit its `limit` step ended on.
    fn limit(&self, output: &str) -> Option<crate::limits::Limit> {
        scripted_limit(output)
    }

    /// The usage it reports as a CLI would stream it (`{"scripted_usage": {"input": …}}`).
    fn activity(&self, line: &str) -> Option<Activity> {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        let usage = value.get(SCRIPTED_USAGE)?;
        let count = |key: &str| usage.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0);
        let cost_usd = usage.get("cost_usd").and_then(serde_json::Value::as_f64);
        Some(Activity::Usage {
            input: count("input"),
            output: count("output"),
            cache_read: count("cache_read"),
            cache_write: count("cache_write"),
            cost_usd,
        })
    }
}

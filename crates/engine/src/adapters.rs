//! Adapters for the real agent CLIs: Claude Code (`claude`), Codex (`codex`), Gemini CLI
//! (`gemini`), opencode (`opencode`) and aider (`aider`), each run headless, one task per
//! process, with unattended edits and without the CLI's own commits (wavecrew commits).
//!
//! An adapter knows its CLI's command line, the environment that points it at a provider, the
//! model aliases of plans (`haiku`, `sonnet`, `opus`), and how to read its machine-readable
//! output into [`Activity`]. The engine runs it like any agent and judges the result itself.

use crate::agent::{Agent, AgentCommand, AgentRequest};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The files aider writes next to the prompt: its input and chat histories, its analytics log.
const AIDER_SIDE_FILES: [&str; 3] = ["aider.input", "aider.chat.md", "aider.events.jsonl"];

/// Which CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cli {
    /// Claude Code, npm `@anthropic-ai/claude-code`.
    Claude,
    /// Codex, npm `@openai/codex`.
    Codex,
    /// Gemini CLI, npm `@google/gemini-cli`.
    Gemini,
    /// opencode, npm `opencode-ai`.
    Opencode,
    /// aider, PyPI `aider-chat`.
    Aider,
}

impl Cli {
    /// Every CLI, in the order `wavecrew agents` lists them.
    pub const ALL: [Cli; 5] = [Cli::Claude, Cli::Codex, Cli::Gemini, Cli::Opencode, Cli::Aider];

    /// The CLI named `name` (`claude`, `codex`, `gemini`, `opencode`, `aider`).
    pub fn from_name(name: &str) -> Option<Cli> {
        match name {
            "aider" => Some(Cli::Aider),
            "claude" => Some(Cli::Claude),
            "codex" => Some(Cli::Codex),
            "gemini" => Some(Cli::Gemini),
            "opencode" => Some(Cli::Opencode),
            _ => None,
        }
    }

    /// Its name and program.
    pub fn name(self) -> &'static str {
        match self {
            Cli::Claude => "claude",
            Cli::Codex => "codex",
            Cli::Gemini => "gemini",
            Cli::Opencode => "opencode",
            Cli::Aider => "aider",
        }
    }

    /// How to install it.
    pub fn install_hint(self) -> &'static str {
        match self {
            Cli::Claude => "npm install -g @anthropic-ai/claude-code",
            Cli::Codex => "npm install -g @openai/codex",
            Cli::Gemini => "npm install -g @google/gemini-cli",
            Cli::Opencode => "npm install -g opencode-ai",
            Cli::Aider => "python3 -m pip install aider-chat (or: pipx install aider-chat)",
        }
    }

    /// The files the CLI keeps state in outside [`Cli::state_dirs`] (claude's `~/.claude.json`).
    pub fn state_files(self, home: &Path) -> Vec<PathBuf> {
        match self {
            Cli::Claude => vec![home.join(".claude.json")],
            _ => Vec::new(),
        }
    }

    /// The folders the CLI keeps its state, settings, sessions and caches in, for the home
    /// folder `home`; `var` reads the environment (`CODEX_HOME`, `XDG_*`). A sandboxed attempt
    /// lets the CLI write there (see docs/sandbox.md).
    pub fn state_dirs(self, home: &Path, var: impl Fn(&str) -> Option<String>) -> Vec<PathBuf> {
        let xdg = |name: &str, default: &str| var(name).map_or_else(|| home.join(default), PathBuf::from);
        match self {
            Cli::Claude => vec![var("CLAUDE_CONFIG_DIR").map_or_else(|| home.join(".claude"), PathBuf::from)],
            Cli::Codex => vec![var("CODEX_HOME").map_or_else(|| home.join(".codex"), PathBuf::from)],
            Cli::Gemini => vec![home.join(".gemini")],
            Cli::Opencode => ["XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"]
                .into_iter()
                .zip([".local/share", ".config", ".local/state", ".cache"])
                .map(|(name, default)| xdg(name, default).join("opencode"))
                .collect(),
            Cli::Aider => vec![home.join(".aider")],
        }
    }

    /// The concrete model of a plan's alias for this CLI (a concrete id is passed as it is).
    fn default_model(self, alias: &str) -> Option<&'static str> {
        Some(match (self, alias) {
            (Cli::Claude, "haiku") => "claude-haiku-4-5",
            (Cli::Claude, "sonnet") => "claude-sonnet-4-5",
            (Cli::Claude, "opus") => "claude-opus-4-1",
            // Codex offers its file-editing tool only for model ids it knows.
            (Cli::Codex, "haiku" | "sonnet" | "opus") => "gpt-5.5",
            (Cli::Gemini, "haiku") => "gemini-2.5-flash",
            (Cli::Gemini, "sonnet" | "opus") => "gemini-2.5-pro",
            // aider knows `haiku`, `sonnet` and `opus` itself: they pass through.
            _ => return None,
        })
    }
}

pub use crate::agent::Activity;

/// Joins the pieces of a streamed message into one [`Activity::Text`], so that the journal
/// holds one event per message, not one per chunk ("I co", "uld not finish"). A message ends
/// with whatever comes next (a tool call, usage, an error, a whole message) or with the output.
#[derive(Debug, Default)]
pub struct Coalesce {
    text: String,
}

impl Coalesce {
    /// What to report now for `activity`, in order: nothing while a message is streaming, else
    /// the message so far (if any), then `activity`.
    pub fn push(&mut self, activity: Activity) -> Vec<Activity> {
        if let Activity::TextPiece(piece) = activity {
            self.text.push_str(&piece);
            return Vec::new();
        }
        self.finish().into_iter().chain([activity]).collect()
    }

    /// The message still being streamed when the output ended.
    pub fn finish(&mut self) -> Option<Activity> {
        let text = std::mem::take(&mut self.text);
        (!text.trim().is_empty()).then_some(Activity::Text(text))
    }
}

/// A real agent CLI.
#[derive(Clone, Debug)]
pub struct CliAgent {
    cli: Cli,
    program: PathBuf,
    base_url: Option<String>,
    models: BTreeMap<String, String>,
    pass_env: Vec<String>,
    extra_args: Vec<String>,
}

impl CliAgent {
    /// `cli` run as `program`, talking to `base_url` when given (else the provider its own
    /// environment names), with `models` overriding the default aliases.
    pub fn new(cli: Cli, program: Option<PathBuf>, base_url: Option<String>, models: BTreeMap<String, String>) -> Self {
        CliAgent {
            cli,
            program: program.unwrap_or_else(|| PathBuf::from(cli.name())),
            base_url,
            models,
            pass_env: Vec::new(),
            extra_args: Vec::new(),
        }
    }

    /// Appends these arguments to every command line (after wavecrew's own, before the prompt
    /// where the CLI takes it last).
    pub fn with_args(mut self, args: Vec<String>) -> Self {
        self.extra_args = args;
        self
    }

    /// Lets the CLI see these variables of wavecrew's environment too (names or `PREFIX_*`).
    pub fn with_pass_env(mut self, pass_env: Vec<String>) -> Self {
        self.pass_env = pass_env;
        self
    }

    fn model(&self, alias: Option<&str>) -> Option<String> {
        let alias = alias?;
        Some(
            self.models
                .get(alias)
                .cloned()
                .or_else(|| self.cli.default_model(alias).map(str::to_owned))
                .unwrap_or_else(|| alias.to_owned()),
        )
    }
}

impl Agent for CliAgent {
    fn name(&self) -> &str {
        self.cli.name()
    }

    fn limit(&self, output: &str) -> Option<crate::limits::Limit> {
        // The CLIs write times in the agent's zone, which is wavecrew's own (`TZ` passes).
        crate::limits::read(self.cli.name(), output, &chrono::Local::now())
    }

    fn command(&self, request: &AgentRequest) -> AgentCommand {
        let model = self.model(request.model.as_deref());
        let mut args: Vec<String> = Vec::new();
        let mut env: Vec<(String, String)> = vec![
            ("WAVECREW_TASK".into(), request.task.clone()),
            ("WAVECREW_ATTEMPT".into(), request.attempt.to_string()),
            ("WAVECREW_ROLE".into(), request.role.as_str().into()),
        ];
        let mut push = |items: &[&str]| args.extend(items.iter().map(|s| (*s).to_owned()));
        match self.cli {
            Cli::Claude => {
                push(&[
                    "-p",
                    &request.prompt,
                    "--output-format",
                    "stream-json",
                    "--verbose",
                    "--permission-mode",
                    "acceptEdits",
                ]);
                if let Some(model) = &model {
                    push(&["--model", model]);
                }
                // `[agents.claude] args`, before `--allowedTools`, whose values run to the end.
                push(&self.extra_args.iter().map(String::as_str).collect::<Vec<_>>());
                // acceptEdits lets it edit files; shell commands need asking, and nobody is
                // there to answer: the task's Verify commands are allowed, nothing else.
                if !request.verify_commands.is_empty() {
                    let allowed: Vec<String> = request.verify_commands.iter().map(|c| format!("Bash({c})")).collect();
                    push(&["--allowedTools"]);
                    push(&allowed.iter().map(String::as_str).collect::<Vec<_>>());
                }
                if !request.skills.is_empty() {
                    let text: Vec<String> =
                        request.skills.iter().map(|(name, text)| format!("# Skill: {name}\n\n{text}")).collect();
                    push(&["--append-system-prompt", &text.join("\n\n")]);
                }
                env.push(("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(), "1".into()));
                if let Some(url) = &self.base_url {
                    env.push(("ANTHROPIC_BASE_URL".into(), url.clone()));
                }
            }
            Cli::Codex => {
                let dir = request.worktree.to_string_lossy().into_owned();
                // Its own sandbox, unless wavecrew's confines it (codex's cannot start inside it).
                let sandbox = if request.sandboxed { "danger-full-access" } else { "workspace-write" };
                push(&["exec", "--json", "--ephemeral", "--skip-git-repo-check", "-C", &dir, "-s", sandbox]);
                if let Some(model) = &model {
                    push(&["-m", model]);
                }
                if let Some(url) = &self.base_url {
                    let provider = format!(
                        "model_providers.wavecrew={{name=\"wavecrew\",base_url=\"{url}\",env_key=\"OPENAI_API_KEY\",wire_api=\"responses\"}}"
                    );
                    push(&["-c", "model_provider=\"wavecrew\"", "-c", &provider]);
                }
                args.extend(self.extra_args.iter().cloned());
                args.push(request.prompt.clone());
            }
            Cli::Opencode => {
                let dir = request.worktree.to_string_lossy().into_owned();
                let title = format!("wavecrew task {}", request.task);
                push(&["run", "--format", "json", "--dir", &dir, "--title", &title]);
                match (&self.base_url, &model) {
                    // A provider of our own, described in a config file next to the prompt; the
                    // key stays in the environment (`{env:…}`), never in the file.
                    (Some(url), model) => {
                        let model = model.clone().unwrap_or_else(|| "default".into());
                        let config = serde_json::json!({
                            "autoupdate": false,
                            "share": "disabled",
                            "permission": {"edit": "allow", "bash": "allow"},
                            "provider": {"wavecrew": {"npm": "@ai-sdk/openai-compatible", "name": "wavecrew",
                                "options": {"baseURL": url, "apiKey": "{env:OPENAI_API_KEY}"},
                                "models": {model.clone(): {"name": model}}}}
                        });
                        let path = request.prompt_file.with_extension("opencode.json");
                        if std::fs::write(&path, config.to_string()).is_ok() {
                            env.push(("OPENCODE_CONFIG".into(), path.to_string_lossy().into_owned()));
                        }
                        push(&["-m", &format!("wavecrew/{model}")]);
                    }
                    (None, Some(model)) => push(&["-m", model]),
                    (None, None) => {}
                }
                env.push(("OPENCODE_DISABLE_MODELS_FETCH".into(), "1".into()));
                args.extend(self.extra_args.iter().cloned());
                args.push(request.prompt.clone());
            }
            Cli::Gemini => {
                push(&["-p", &request.prompt, "-o", "stream-json", "--approval-mode", "yolo", "--skip-trust"]);
                if let Some(model) = &model {
                    push(&["-m", model]);
                }
                if let Some(url) = &self.base_url {
                    env.push(("GOOGLE_GEMINI_BASE_URL".into(), url.clone()));
                }
                args.extend(self.extra_args.iter().cloned());
            }
            Cli::Aider => {
                let side =
                    |extension: &str| request.prompt_file.with_extension(extension).to_string_lossy().into_owned();
                push(&["--message-file", &request.prompt_file.to_string_lossy()]);
                // Unattended, no commits of its own, nothing written into the worktree but the
                // task's files: its histories go next to the prompt.
                push(&[
                    "--yes-always",
                    "--no-auto-commits",
                    "--no-dirty-commits",
                    "--no-gitignore",
                    "--no-check-update",
                    "--no-show-release-notes",
                    "--no-analytics",
                    "--no-pretty",
                    "--no-fancy-input",
                    "--no-detect-urls",
                    "--no-suggest-shell-commands",
                    "--no-show-model-warnings",
                ]);
                push(&["--input-history-file", &side("aider.input"), "--chat-history-file", &side("aider.chat.md")]);
                // Its analytics log is the only place that says whether the model answered, and
                // with how many tokens: read in `finished`.
                push(&["--analytics-log", &side("aider.events.jsonl")]);
                match (&self.base_url, &model) {
                    // An OpenAI-compatible endpoint: aider (through litellm) names such models
                    // `openai/<id>`, and must be told their limits or it looks them up online.
                    (Some(url), model) => {
                        let model = model.clone().unwrap_or_else(|| "default".into());
                        let model = if model.contains('/') { model } else { format!("openai/{model}") };
                        let metadata = serde_json::json!({ model.clone(): {
                            "max_input_tokens": 128_000, "max_output_tokens": 8_192, "max_tokens": 8_192,
                            "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
                            "litellm_provider": "openai", "mode": "chat"}});
                        let path = side("aider-models.json");
                        if std::fs::write(&path, metadata.to_string()).is_ok() {
                            push(&["--model-metadata-file", &path]);
                        }
                        push(&["--model", &model, "--openai-api-base", url, "--edit-format", "whole"]);
                    }
                    (None, Some(model)) => push(&["--model", model]),
                    (None, None) => {}
                }
                args.extend(self.extra_args.iter().cloned());
            }
        }
        // Each CLI sees its own provider's variables, and nothing else of the user's environment.
        let own: &[&str] = match self.cli {
            Cli::Claude => &["ANTHROPIC_*", "CLAUDE_*"],
            Cli::Codex => &["OPENAI_*", "CODEX_*"],
            Cli::Gemini => &["GEMINI_*", "GOOGLE_*"],
            Cli::Opencode => &["OPENCODE_*", "OPENAI_*"],
            // aider speaks to many providers through litellm.
            Cli::Aider => &["AIDER_*", "OPENAI_*", "ANTHROPIC_*", "GEMINI_*", "OPENROUTER_*", "DEEPSEEK_*"],
        };
        let pass_env = own.iter().map(|p| (*p).to_owned()).chain(self.pass_env.iter().cloned()).collect();
        AgentCommand { program: self.program.clone(), args, env, pass_env }
    }

    fn takes_system_prompt(&self) -> bool {
        self.cli == Cli::Claude
    }

    fn model_id(&self, model: Option<&str>) -> Option<String> {
        self.model(model)
    }

    fn activity(&self, line: &str) -> Option<Activity> {
        if self.cli == Cli::Aider {
            return aider_activity(line);
        }
        let event: Value = serde_json::from_str(line).ok()?;
        match self.cli {
            Cli::Aider => None,
            Cli::Claude => claude_activity(&event),
            Cli::Codex => codex_activity(&event),
            Cli::Gemini => gemini_activity(&event),
            Cli::Opencode => opencode_activity(&event),
        }
    }

    fn is_scratch(&self, path: &std::path::Path) -> bool {
        // aider's repository map cache (`.aider.tags.cache.v4/`) and any history file it was
        // not told to keep elsewhere.
        self.cli == Cli::Aider
            && path.components().next().is_some_and(|first| first.as_os_str().to_string_lossy().starts_with(".aider"))
    }

    fn writable(&self, request: &AgentRequest) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
            // Made if missing, as the CLI would on its first start (which the sandbox would
            // refuse: the home folder itself is not writable).
            for dir in self.cli.state_dirs(&home, |name| std::env::var(name).ok()) {
                if std::fs::create_dir_all(&dir).is_ok() {
                    paths.push(dir);
                }
            }
            paths.extend(self.cli.state_files(&home));
        }
        if self.cli == Cli::Aider {
            // Its histories and analytics log go next to the prompt (see `command`), made
            // there first so that the sandbox can name them.
            for extension in AIDER_SIDE_FILES {
                let path = request.prompt_file.with_extension(extension);
                if std::fs::OpenOptions::new().create(true).append(true).open(&path).is_ok() {
                    paths.push(path);
                }
            }
        }
        paths
    }

    fn finished(&self, request: &AgentRequest) -> Result<Vec<Activity>, String> {
        if self.cli != Cli::Aider {
            return Ok(Vec::new());
        }
        let log = request.prompt_file.with_extension("aider.events.jsonl");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        aider_usage(&text)
    }
}

/// aider's plain output (`--no-pretty`): the files it edits, and the errors litellm reports.
fn aider_activity(line: &str) -> Option<Activity> {
    let line = line.trim();
    if let Some(path) = line.strip_prefix("Applied edit to ") {
        return Some(Activity::Tool(format!("edit {path}")));
    }
    if line.starts_with("litellm.") || (line.contains("Error:") && line.contains("litellm")) {
        return Some(Activity::Error(line.to_owned()));
    }
    None
}

/// The usage in aider's analytics log: one `message_send` event per model answer. aider exits 0
/// even when the model never answered (an API error it gave up on), so no answer is a failure.
fn aider_usage(log: &str) -> Result<Vec<Activity>, String> {
    let answers: Vec<Activity> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["event"] == "message_send")
        .map(|event| {
            let properties = &event["properties"];
            Activity::Usage {
                input: properties["prompt_tokens"].as_u64().unwrap_or(0),
                output: properties["completion_tokens"].as_u64().unwrap_or(0),
                cache_read: 0,
                cache_write: 0,
                cost_usd: properties["cost"].as_f64().filter(|c| *c > 0.0),
            }
        })
        .collect();
    if answers.is_empty() {
        return Err("aider exited without an answer from the model".into());
    }
    Ok(answers)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Claude Code's `stream-json`: `assistant` messages with text and `tool_use` blocks, then a
/// `result` with usage, cost and `is_error`.
fn claude_activity(event: &Value) -> Option<Activity> {
    match event["type"].as_str()? {
        "assistant" => {
            let blocks = event["message"]["content"].as_array()?;
            blocks.iter().find_map(|block| match block["type"].as_str()? {
                "tool_use" => {
                    let input = &block["input"];
                    let target = input["file_path"]
                        .as_str()
                        .or(input["command"].as_str())
                        .or(input["path"].as_str())
                        .unwrap_or("");
                    Some(Activity::Tool(format!("{} {target}", text(&block["name"])).trim().to_owned()))
                }
                "text" => Some(Activity::Text(text(&block["text"]))),
                _ => None,
            })
        }
        "result" if event["is_error"].as_bool() == Some(true) => Some(Activity::Error(text(&event["result"]))),
        "result" => Some(Activity::Usage {
            input: event["usage"]["input_tokens"].as_u64().unwrap_or(0),
            output: event["usage"]["output_tokens"].as_u64().unwrap_or(0),
            cache_read: event["usage"]["cache_read_input_tokens"].as_u64().unwrap_or(0),
            cache_write: event["usage"]["cache_creation_input_tokens"].as_u64().unwrap_or(0),
            cost_usd: event["total_cost_usd"].as_f64(),
        }),
        _ => None,
    }
}

/// Codex's `--json`: `item.completed` items (messages, file changes, commands), then
/// `turn.completed` with usage or `turn.failed`.
fn codex_activity(event: &Value) -> Option<Activity> {
    match event["type"].as_str()? {
        "item.completed" => {
            let item = &event["item"];
            match item["type"].as_str()? {
                "agent_message" => Some(Activity::Text(text(&item["text"]))),
                "file_change" => {
                    let paths: Vec<String> = item["changes"]
                        .as_array()?
                        .iter()
                        .map(|c| format!("{} {}", text(&c["kind"]), text(&c["path"])))
                        .collect();
                    Some(Activity::Tool(format!("edit {}", paths.join(", "))))
                }
                "command_execution" => Some(Activity::Tool(format!("shell {}", text(&item["command"])))),
                "error" => Some(Activity::Error(text(&item["message"]))),
                _ => None,
            }
        }
        "turn.completed" => Some(Activity::Usage {
            input: event["usage"]["input_tokens"].as_u64().unwrap_or(0),
            output: event["usage"]["output_tokens"].as_u64().unwrap_or(0),
            // Codex counts its cached input in `input_tokens`.
            cache_read: 0,
            cache_write: 0,
            cost_usd: None,
        }),
        "turn.failed" => Some(Activity::Error(text(&event["error"]["message"]))),
        _ => None,
    }
}

/// Gemini CLI's `stream-json`: `message`, `tool_use`, `error`, then `result` with stats.
fn gemini_activity(event: &Value) -> Option<Activity> {
    match event["type"].as_str()? {
        "message" if event["role"] == "assistant" && event["delta"] == true => {
            Some(Activity::TextPiece(text(&event["content"])))
        }
        "message" if event["role"] == "assistant" => Some(Activity::Text(text(&event["content"]))),
        "tool_use" => {
            let target =
                event["parameters"]["file_path"].as_str().or(event["parameters"]["command"].as_str()).unwrap_or("");
            Some(Activity::Tool(format!("{} {target}", text(&event["tool_name"])).trim().to_owned()))
        }
        "error" => Some(Activity::Error(text(&event["message"]))),
        "result" if event["status"] == "error" => Some(Activity::Error(text(&event["error"]["message"]))),
        "result" => Some(Activity::Usage {
            input: event["stats"]["input_tokens"].as_u64().unwrap_or(0),
            output: event["stats"]["output_tokens"].as_u64().unwrap_or(0),
            cache_read: 0,
            cache_write: 0,
            cost_usd: None,
        }),
        _ => None,
    }
}

/// opencode's `--format json`: `tool_use`, `text`, `step_finish` (tokens and cost per step),
/// `error`.
fn opencode_activity(event: &Value) -> Option<Activity> {
    let part = &event["part"];
    match event["type"].as_str()? {
        "tool_use" => {
            let input = &part["state"]["input"];
            let target = input["filePath"].as_str().or(input["command"].as_str()).unwrap_or("");
            Some(Activity::Tool(format!("{} {target}", text(&part["tool"])).trim().to_owned()))
        }
        "text" => Some(Activity::Text(text(&part["text"]))),
        "step_finish" => Some(Activity::Usage {
            input: part["tokens"]["input"].as_u64().unwrap_or(0),
            output: part["tokens"]["output"].as_u64().unwrap_or(0),
            cache_read: part["tokens"]["cache"]["read"].as_u64().unwrap_or(0),
            cache_write: part["tokens"]["cache"]["write"].as_u64().unwrap_or(0),
            cost_usd: part["cost"].as_f64().filter(|c| *c > 0.0),
        }),
        "error" => {
            let error = &event["error"];
            Some(Activity::Error(
                error["data"]["message"].as_str().or(error["name"].as_str()).unwrap_or("error").to_owned(),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lines_become_activity() {
        let claude = CliAgent::new(Cli::Claude, None, None, BTreeMap::new());
        let line = r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Write","input":{"file_path":"/w/hello.txt","content":"hi"}}]}}"#;
        assert_eq!(claude.activity(line), Some(Activity::Tool("Write /w/hello.txt".into())));
        let result = r#"{"type":"result","is_error":false,"usage":{"input_tokens":20,"output_tokens":10,"cache_read_input_tokens":300,"cache_creation_input_tokens":40},"total_cost_usd":0.00021}"#;
        assert_eq!(
            claude.activity(result),
            Some(Activity::Usage { input: 20, output: 10, cache_read: 300, cache_write: 40, cost_usd: Some(0.00021) })
        );
        let codex = CliAgent::new(Cli::Codex, None, None, BTreeMap::new());
        let change = r#"{"type":"item.completed","item":{"type":"file_change","changes":[{"path":"/w/hello.txt","kind":"add"}]}}"#;
        assert_eq!(codex.activity(change), Some(Activity::Tool("edit add /w/hello.txt".into())));
        let gemini = CliAgent::new(Cli::Gemini, None, None, BTreeMap::new());
        let failed = r#"{"type":"result","status":"error","error":{"message":"[API Error: rate]"}}"#;
        assert_eq!(gemini.activity(failed), Some(Activity::Error("[API Error: rate]".into())));
        assert_eq!(gemini.activity("not json"), None);
    }

    #[test]
    fn streamed_pieces_of_a_message_become_one_activity() {
        let gemini = CliAgent::new(Cli::Gemini, None, None, BTreeMap::new());
        let lines = [
            r#"{"type":"message","role":"assistant","content":"I co","delta":true}"#,
            r#"{"type":"message","role":"assistant","content":"uld not finish this time.","delta":true}"#,
            r#"{"type":"tool_use","tool_name":"run_shell_command","parameters":{"command":"ls"}}"#,
            r#"{"type":"message","role":"assistant","content":"Done","delta":true}"#,
            r#"{"type":"message","role":"assistant","content":".","delta":true}"#,
        ];
        let mut coalesce = Coalesce::default();
        let mut out: Vec<Activity> =
            lines.iter().filter_map(|line| gemini.activity(line)).flat_map(|a| coalesce.push(a)).collect();
        out.extend(coalesce.finish());
        assert_eq!(
            out,
            [
                Activity::Text("I could not finish this time.".into()),
                Activity::Tool("run_shell_command ls".into()),
                Activity::Text("Done.".into()),
            ]
        );
        // Whole messages stay whole, and an empty stream leaves nothing behind.
        assert_eq!(coalesce.push(Activity::Text("a".into())), [Activity::Text("a".into())]);
        assert_eq!(coalesce.finish(), None);
    }

    #[test]
    fn codex_leaves_its_own_sandbox_off_only_inside_wavecrew_s() {
        let mut request = AgentRequest {
            task: "1.1".into(),
            attempt: 1,
            model: None,
            prompt: "Do it".into(),
            prompt_file: "/tmp/p.md".into(),
            worktree: "/tmp/w".into(),
            skills: Vec::new(),
            verify_commands: Vec::new(),
            role: crate::agent::AgentRole::Task,
            sandboxed: false,
        };
        let codex = CliAgent::new(Cli::Codex, None, None, BTreeMap::new());
        let sandbox = |request: &AgentRequest| {
            let args = codex.command(request).args;
            args[args.iter().position(|a| a == "-s").expect("-s") + 1].clone()
        };
        assert_eq!(sandbox(&request), "workspace-write");
        request.sandboxed = true;
        assert_eq!(sandbox(&request), "danger-full-access");
    }

    #[test]
    fn claude_may_run_the_tasks_verify_commands_and_nothing_else() {
        let request = AgentRequest {
            task: "1.1".into(),
            attempt: 1,
            model: Some("sonnet".into()),
            prompt: "Do it".into(),
            prompt_file: "/tmp/p.md".into(),
            worktree: "/tmp/w".into(),
            skills: Vec::new(),
            verify_commands: vec!["npm test".into(), "python3 -m unittest".into()],
            role: crate::agent::AgentRole::Task,
            sandboxed: false,
        };
        let command = CliAgent::new(Cli::Claude, None, None, BTreeMap::new()).command(&request);
        let at = command.args.iter().position(|a| a == "--allowedTools").expect("--allowedTools");
        assert_eq!(command.args[at + 1..at + 3], ["Bash(npm test)", "Bash(python3 -m unittest)"]);
        assert!(!command.args.iter().any(|a| a.contains("dangerously")));
    }

    #[test]
    fn aider_is_read_from_its_output_and_its_analytics_log() {
        let aider = CliAgent::new(Cli::Aider, None, None, BTreeMap::new());
        assert_eq!(aider.activity("Applied edit to src/a.py"), Some(Activity::Tool("edit src/a.py".into())));
        let error = "litellm.BadRequestError: OpenAIException - bad";
        assert_eq!(aider.activity(error), Some(Activity::Error(error.into())));
        assert_eq!(aider.activity("Tokens: 10 sent, 5 received."), None);
        let log = r#"{"event": "launched", "properties": {}}
{"event": "message_send", "properties": {"prompt_tokens": 10, "completion_tokens": 5, "cost": 2e-05}}
{"event": "message_send", "properties": {"prompt_tokens": 30, "completion_tokens": 7, "cost": 0.0}}"#;
        assert_eq!(
            aider_usage(log),
            Ok(vec![
                Activity::Usage { input: 10, output: 5, cache_read: 0, cache_write: 0, cost_usd: Some(2e-05) },
                Activity::Usage { input: 30, output: 7, cache_read: 0, cache_write: 0, cost_usd: None },
            ])
        );
        assert!(aider_usage(r#"{"event": "exit", "properties": {}}"#).is_err(), "no answer is a failure");
        assert!(aider.is_scratch(std::path::Path::new(".aider.tags.cache.v4/cache.db")));
        assert!(!aider.is_scratch(std::path::Path::new("src/.aider.py")));
        assert!(!CliAgent::new(Cli::Claude, None, None, BTreeMap::new()).is_scratch(std::path::Path::new(".aider.x")));
    }

    #[test]
    fn each_cli_names_its_own_state_folders_where_its_variables_put_them() {
        let home = Path::new("/home/u");
        let none = |_: &str| None;
        assert_eq!(Cli::Claude.state_dirs(home, none), [home.join(".claude")]);
        assert_eq!(Cli::Claude.state_files(home), [home.join(".claude.json")]);
        assert_eq!(Cli::Codex.state_dirs(home, none), [home.join(".codex")]);
        let codex_home = |name: &str| (name == "CODEX_HOME").then(|| "/elsewhere/codex".to_owned());
        assert_eq!(Cli::Codex.state_dirs(home, codex_home), [PathBuf::from("/elsewhere/codex")]);
        let xdg = |name: &str| (name == "XDG_DATA_HOME").then(|| "/data".to_owned());
        assert_eq!(
            Cli::Opencode.state_dirs(home, xdg),
            [
                PathBuf::from("/data/opencode"),
                home.join(".config/opencode"),
                home.join(".local/state/opencode"),
                home.join(".cache/opencode")
            ]
        );
        for cli in Cli::ALL {
            let paths = cli.state_dirs(home, none);
            assert!(!paths.is_empty() && paths.iter().all(|p| p.starts_with(home) && p != home), "{cli:?}: {paths:?}");
        }
    }

    #[test]
    fn aider_s_files_next_to_the_prompt_exist_and_are_writable_for_the_sandbox() {
        let dir = tempfile::tempdir().unwrap();
        let request = AgentRequest {
            task: "1.1".into(),
            attempt: 1,
            model: None,
            prompt: "p".into(),
            prompt_file: dir.path().join("1.1-1.md"),
            worktree: dir.path().to_owned(),
            skills: vec![],
            verify_commands: vec![],
            role: crate::agent::AgentRole::Task,
            sandboxed: false,
        };
        let paths = CliAgent::new(Cli::Aider, None, None, BTreeMap::new()).writable(&request);
        for side in AIDER_SIDE_FILES {
            let path = dir.path().join(format!("1.1-1.{side}"));
            assert!(path.is_file() && paths.contains(&path), "{path:?} in {paths:?}");
        }
    }

    #[test]
    fn aliases_resolve_per_cli_and_config_wins() {
        let mut models = BTreeMap::new();
        models.insert("sonnet".to_owned(), "my-sonnet".to_owned());
        assert_eq!(
            CliAgent::new(Cli::Claude, None, None, BTreeMap::new()).model(Some("haiku")).as_deref(),
            Some("claude-haiku-4-5")
        );
        assert_eq!(CliAgent::new(Cli::Claude, None, None, models).model(Some("sonnet")).as_deref(), Some("my-sonnet"));
        assert_eq!(
            CliAgent::new(Cli::Gemini, None, None, BTreeMap::new()).model(Some("gemini-x")).as_deref(),
            Some("gemini-x")
        );
    }
}

//! `wavecrew mcp`: an MCP server over stdio, so that the agent a person already talks to
//! (Claude Code, Codex, Gemini CLI, ...) can check a plan, start its run and answer its
//! checkpoints.
//!
//! Each tool is a CLI command, called through the same function the command calls: the text a
//! tool answers with is what the command prints, and a failing tool is an MCP error whose
//! message is the CLI's (`error: ...` and its `hint:` line). Paths are relative to the
//! repository the server was started in; paths that leave it are refused.
//!
//! `start_run` runs nothing without consent: called without `consent` it answers with the
//! plan's Verify commands and the plan's hash; only a second call whose `consent` is that hash
//! starts the run, so the agent has to show the person what will run before it can agree.
//! The run is `wavecrew run` in a process of its own (it outlives this server), its output in
//! the run's folder.
//!
//! `plan` drafts a plan from a goal as `wavecrew plan` does (the planning agent, rounds of
//! `check`), in a child `wavecrew plan` whose lines go to the client as progress notifications
//! while it works (minutes: a client's tool timeout must allow it); the plan is written, not run.

use super::Context;
use crate::error::CliError;
use crate::input::{MAX_PLAN_BYTES, PlanFile};
use clap::Args;
use engine::control::Answer;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource, ResourceContents,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The repository whose plans and runs the tools work on (their paths are relative to
    /// it); default: the one holding the current directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

pub fn run(_ctx: &Context, args: &McpArgs) -> Result<ExitCode, CliError> {
    let dir =
        std::path::absolute(&args.repo).map_err(|e| CliError::io(format!("error: `{}`: {e}", args.repo.display())))?;
    // Outside a repository the plan tools still work; the run tools say what `wavecrew` says.
    let root = super::work_tree_top(&dir).unwrap_or(dir);
    // The tools' paths are relative to the repository and their messages name them as given,
    // as `wavecrew check PATH` run at its root does: the server works from there.
    std::env::set_current_dir(&root)
        .map_err(|e| CliError::io(format!("error: could not work in `{}`: {e}", root.display())))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io(format!("error: could not start the runtime: {e}")))?;
    runtime.block_on(async move {
        let service = Server::new(root)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| CliError::io(format!("error: the MCP client did not start the session: {e}")))?;
        service.waiting().await.map_err(|e| CliError::io(format!("error: the MCP server stopped: {e}")))?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The server: the repository's root and the tools.
#[derive(Clone)]
struct Server {
    root: PathBuf,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct CheckPlanArgs {
    /// The plan file, relative to the repository.
    path: Option<String>,
    /// The plan's Markdown itself, instead of `path`.
    text: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct ShowPlanArgs {
    /// The plan file, relative to the repository.
    path: String,
    /// The plan's model as JSON instead of the summary.
    #[serde(default)]
    json: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct RunArg {
    /// The run's id (or its end); default: the newest run.
    run: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct RunReportArgs {
    /// The run's id (or its end); default: the newest run.
    run: Option<String>,
    /// The report as JSON instead of Markdown.
    #[serde(default)]
    json: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct ApproveArgs {
    /// The run's id (or its end).
    run: String,
    /// The waiting checkpoint task, e.g. `3.2`; `manual` signs the Manual checklist off.
    task: String,
    /// A note kept with the approval.
    note: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct RejectArgs {
    /// The run's id (or its end).
    run: String,
    /// The waiting human-verify checkpoint task.
    task: String,
    /// What is wrong: the task's agent gets it with its next attempt (a reason, comments, or both).
    reason: Option<String>,
    /// Comments on lines of the change's diff: the agent gets each as `path:line: text` under
    /// the reason.
    #[serde(default)]
    comments: Vec<CommentArg>,
}

/// A comment on one line of a checkpoint's diff.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CommentArg {
    /// The file, as the diff names it.
    path: String,
    /// The line's number in the new file (in the old one for a deleted line), from 1.
    line: u64,
    /// Whether the line is a deleted one (its number is then in the old file).
    #[serde(default)]
    deleted: bool,
    /// What should change there.
    text: String,
}

impl CommentArg {
    fn comment(self) -> engine::rejection::LineComment {
        let side = if self.deleted { engine::rejection::Side::Old } else { engine::rejection::Side::New };
        engine::rejection::LineComment { path: self.path, line: self.line, side, text: self.text }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
struct DecideArgs {
    /// The run's id (or its end).
    run: String,
    /// The waiting decision checkpoint task.
    task: String,
    /// The option chosen (one of those the checkpoint shows, or a prefix of one).
    option: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct StartRunArgs {
    /// The plan file, relative to the repository.
    path: String,
    /// The plan's hash, as a call without `consent` answered it, once the person agreed to the
    /// commands that call listed.
    consent: Option<String>,
    /// The agent: a name under `[agents]` in wavecrew.toml or an agent CLI (`claude`, `codex`,
    /// `gemini`, `opencode`, `aider`); default: the configuration's `agent`.
    agent: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct PlanArgs {
    /// What the plan is for, in a sentence or a paragraph.
    goal: String,
    /// Where to write the plan, relative to the repository; default: a name made from the goal
    /// (`<words>.plan.md`). An existing file is not overwritten.
    output: Option<String>,
    /// The milestone id (the commit scope), e.g. `M4`; default: the agent picks one.
    milestone: Option<String>,
    /// Files the planning agent reads first (a PRD, an issue, notes), relative to the repository.
    #[serde(default)]
    from: Vec<String>,
    /// The planning agent: a name under `[agents]` in wavecrew.toml or an agent CLI; default:
    /// the configuration's `agent`.
    agent: Option<String>,
    /// The model it runs on; default: `[plan] model`, else the CLI's.
    model: Option<String>,
    /// Rounds of drafting and fixing at most, 1 to 10; default: `[plan] rounds`, else 3.
    rounds: Option<u32>,
}

#[tool_router]
impl Server {
    fn new(root: PathBuf) -> Self {
        Self { root, tool_router: Self::tool_router() }
    }

    #[tool(
        description = "Check a plan (a file, or its text) and list its problems as JSON, as `wavecrew check --format json` does: each with its code, severity, line, column, message and fix. An empty array: no problems."
    )]
    async fn check_plan(&self, Parameters(args): Parameters<CheckPlanArgs>) -> Result<CallToolResult, ErrorData> {
        // A file is checked as `wavecrew check PATH` checks it (against the work tree holding
        // it); a text against the server's repository, as `wavecrew check --repo` would.
        let (file, text_given) = match (args.path, args.text) {
            (Some(path), None) => {
                let path = self.inside(&path)?;
                (blocking(move || PlanFile::read(&path)).await?, false)
            }
            (None, Some(text)) => {
                if text.len() as u64 > MAX_PLAN_BYTES {
                    return Err(invalid(format!(
                        "error: the plan text is {} MiB; plans are limited to {} MiB",
                        text.len() / (1024 * 1024),
                        MAX_PLAN_BYTES / (1024 * 1024)
                    )));
                }
                (PlanFile { path: PathBuf::from(TEXT_NAME), bytes: text.into_bytes() }, true)
            }
            _ => return Err(invalid("error: pass either `path` (a plan file) or `text` (a plan's Markdown)")),
        };
        let root = self.root.clone();
        let report = blocking(move || {
            let repo = if text_given { super::check::Repo::At(&root) } else { super::check::Repo::OfPlan };
            Ok(super::check::check_file(&file, false, repo))
        })
        .await?;
        Ok(text(crate::render::json(std::slice::from_ref(&report))))
    }

    #[tool(
        description = "Summarize a plan as `wavecrew show` does: waves, agents, the order of its tasks, the critical path; or its model as JSON (`json: true`)."
    )]
    async fn show_plan(&self, Parameters(args): Parameters<ShowPlanArgs>) -> Result<CallToolResult, ErrorData> {
        let path = self.inside(&args.path)?;
        blocking(move || super::show::describe(&path, args.json)).await.map(text)
    }

    #[tool(
        description = "A run's tasks and their states, as `wavecrew status` shows them: which are committed, running, failed, or waiting for a person (checkpoints to approve, reject or decide)."
    )]
    async fn run_status(&self, Parameters(args): Parameters<RunArg>) -> Result<CallToolResult, ErrorData> {
        let root = self.root.clone();
        blocking(move || super::runs::status_text(&root, args.run.as_deref())).await.map(text)
    }

    #[tool(
        description = "A run's report, as `wavecrew report` prints it: tasks, gates, verification verdicts, cost, and the Manual checklist (Markdown, or JSON with `json: true`)."
    )]
    async fn run_report(&self, Parameters(args): Parameters<RunReportArgs>) -> Result<CallToolResult, ErrorData> {
        let root = self.root.clone();
        blocking(move || {
            let (_, report) = super::runs::load_report(&root, args.run.as_deref())?;
            Ok(if args.json { report.json() } else { report.markdown() })
        })
        .await
        .map(text)
    }

    #[tool(
        description = "Approve a waiting checkpoint (human-verify or human-action) of a run, as `wavecrew approve` does; task `manual` signs the plan's Manual checklist off. Only for what the person approved."
    )]
    async fn approve(&self, Parameters(args): Parameters<ApproveArgs>) -> Result<CallToolResult, ErrorData> {
        let root = self.root.clone();
        blocking(move || super::runs::approve_task(&root, &args.run, &args.task, args.note.as_deref())).await.map(text)
    }

    #[tool(
        description = "Send a waiting human-verify checkpoint back to its agent with the reason and comments on lines of its diff, as `wavecrew reject --reason … --comment PATH:LINE:TEXT` does."
    )]
    async fn reject(&self, Parameters(args): Parameters<RejectArgs>) -> Result<CallToolResult, ErrorData> {
        let root = self.root.clone();
        let comments: Vec<_> = args.comments.into_iter().map(CommentArg::comment).collect();
        blocking(move || super::runs::reject_task(&root, &args.run, &args.task, args.reason.as_deref(), &comments))
            .await
            .map(text)
    }

    #[tool(description = "Answer a waiting decision checkpoint with one of its options, as `wavecrew decide` does.")]
    async fn decide(&self, Parameters(args): Parameters<DecideArgs>) -> Result<CallToolResult, ErrorData> {
        let root = self.root.clone();
        let answer = Answer::Decide { option: args.option };
        blocking(move || super::runs::answer(&root, &args.run, &args.task, answer)).await.map(text)
    }

    #[tool(
        description = "A follow-up plan for what a finished run left undone (red gate findings, must_haves that do not hold, failed Automated commands, failed or skipped tasks), as `wavecrew gaps` writes it. Nothing is written to disk."
    )]
    async fn gaps(&self, Parameters(args): Parameters<RunArg>) -> Result<CallToolResult, ErrorData> {
        let root = self.root.clone();
        blocking(move || {
            let gaps = super::gaps::follow_up(&root, args.run.as_deref())?;
            let mut out = gaps.notes.join("\n");
            if let Some(plan) = &gaps.text {
                super::gaps::check_generated(&Context { color: false }, plan, &gaps.milestone, "gaps.plan.md")?;
                out = format!(
                    "{out}{}the follow-up plan starts from `{}`: check that branch out before running it; it runs on `{}`\n\n{plan}",
                    if out.is_empty() { "" } else { "\n" },
                    gaps.branch,
                    engine::workspace::branch_name(&gaps.milestone)
                );
            }
            Ok(out)
        })
        .await
        .map(text)
    }

    #[tool(
        description = "Draft a plan from a goal, as `wavecrew plan` does: a planning agent reads the repository (it cannot change it) and writes a plan, which `check` judges; what it finds goes back to the agent, for a few rounds. Writes the plan file and answers with its summary (a draft still broken is kept as FILE.draft and the answer is an error with the problems). Takes minutes: progress comes as notifications. Runs nothing of the plan: start_run does, with the person's consent."
    )]
    async fn plan(
        &self,
        Parameters(args): Parameters<PlanArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        if args.goal.trim().is_empty() {
            return Err(invalid("error: the goal is empty: say what the plan is for"));
        }
        let mut command = vec!["plan".to_owned()];
        if let Some(output) = &args.output {
            command.push(format!("--output={}", self.inside(output)?.display()));
        }
        for from in &args.from {
            command.push(format!("--from={}", self.inside(from)?.display()));
        }
        for (flag, value) in [("--milestone", &args.milestone), ("--agent", &args.agent), ("--model", &args.model)] {
            match value {
                Some(value) if value.is_empty() || value.starts_with('-') => {
                    return Err(invalid(format!("error: `{value}` is not a {}", &flag[2..])));
                }
                Some(value) => command.push(format!("{flag}={value}")),
                None => {}
            }
        }
        if let Some(rounds) = args.rounds {
            command.push(format!("--rounds={rounds}"));
        }
        command.extend(["--".to_owned(), args.goal]);
        draft(&self.root, &command, &context).await
    }

    #[tool(
        description = "Start a run of a plan: agents in parallel worktrees, its Verify commands, one commit per task. Without `consent` it runs nothing: it answers with the commands the plan runs and the plan's hash. Show those commands to the person; only once they agree, call again with `consent` set to that hash. The run goes on in the background: follow it with run_status."
    )]
    async fn start_run(&self, Parameters(args): Parameters<StartRunArgs>) -> Result<CallToolResult, ErrorData> {
        let path = self.inside(&args.path)?;
        if let Some(agent) = &args.agent
            && (agent.is_empty() || agent.starts_with('-'))
        {
            return Err(invalid(format!("error: `{agent}` is not an agent's name")));
        }
        let root = self.root.clone();
        blocking(move || start(&root, &path, args.consent.as_deref(), args.agent.as_deref())).await.map(text)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("wavecrew", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "wavecrew checks and runs Markdown implementation plans with parallel AI coding agents, in the repository {}. Paths are relative to it. start_run needs the person's consent to the plan's commands: show them what the first call lists before passing its hash as `consent`.",
                self.root.display()
            ))
    }

    /// Each run of the repository (the newest [`LISTED_RUNS`]), twice: its status and its
    /// report.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let root = self.root.clone();
        let runs = blocking(move || {
            let (_, journal) = super::runs::open(&root)?;
            journal.runs().map_err(|e| CliError::io(format!("error: {e}")))
        })
        .await?;
        let resources = runs
            .iter()
            .take(LISTED_RUNS)
            .flat_map(|run| {
                let title = format!("{} · {} ({})", run.milestone, run.title, engine::control::state_name(run));
                [
                    Resource::new(format!("{RUNS}{}/status", run.id), format!("run {} status", run.id))
                        .with_title(format!("Status of {title}"))
                        .with_mime_type("text/plain"),
                    Resource::new(format!("{RUNS}{}/report", run.id), format!("run {} report", run.id))
                        .with_title(format!("Report of {title}"))
                        .with_mime_type("text/markdown"),
                ]
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    /// `wavecrew://runs/RUN/status` (what `run_status` answers) or `.../report` (`run_report`).
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri;
        let Some((run, what)) = uri.strip_prefix(RUNS).and_then(|rest| rest.split_once('/')) else {
            return Err(ErrorData::resource_not_found(
                format!("error: no resource `{uri}`: they are `{RUNS}RUN/status` and `{RUNS}RUN/report`"),
                None,
            ));
        };
        let (root, run, what) = (self.root.clone(), run.to_owned(), what.to_owned());
        let shown = uri.clone();
        let (text, mime) = blocking(move || match what.as_str() {
            "status" => Ok((super::runs::status_text(&root, Some(&run))?, "text/plain")),
            "report" => Ok((super::runs::load_report(&root, Some(&run))?.1.markdown(), "text/markdown")),
            _ => Err(CliError::usage(format!("error: no resource `{shown}`: a run has `status` and `report`"))),
        })
        .await?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri).with_mime_type(mime)]).into())
    }
}

/// What the diagnostics of a plan given as text call its file.
const TEXT_NAME: &str = "<text>";

/// The prefix of the runs' resources.
const RUNS: &str = "wavecrew://runs/";

/// How many runs `resources/list` lists, newest first (older ones are read by their URI).
const LISTED_RUNS: usize = 50;

impl Server {
    /// `given` as a path the tools may read: relative to the repository (the server's working
    /// folder) and inside it, also once symbolic links are followed.
    fn inside(&self, given: &str) -> Result<PathBuf, ErrorData> {
        if given.is_empty() {
            return Err(invalid("error: the path is empty: pass a plan file's path, relative to the repository"));
        }
        let path = Path::new(given);
        let outside = || {
            invalid(format!(
                "error: `{given}` is outside the repository `{}`\nhint: pass a path relative to the repository the server was started in",
                self.root.display()
            ))
        };
        let mut depth = 0usize;
        for component in self.root.join(path).strip_prefix(&self.root).map_err(|_| outside())?.components() {
            match component {
                Component::ParentDir if depth == 0 => return Err(outside()),
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => depth += 1,
                _ => {}
            }
        }
        if let (Ok(real), Ok(root)) = (self.root.join(path).canonicalize(), self.root.canonicalize())
            && !real.starts_with(root)
        {
            return Err(outside());
        }
        Ok(path.to_owned())
    }
}

/// `start_run`: the commands and the hash without consent; with it, a run started.
fn start(root: &Path, path: &Path, consent: Option<&str>, agent: Option<&str>) -> Result<String, CliError> {
    let file = PlanFile::read(path)?;
    let decoded =
        plan::decode(&file.bytes).map_err(|d| CliError::io(format!("error: `{}`: {}", file.display(), d.message)))?;
    let parsed = plan::parse(decoded.text, &file.fallback_id());
    if parsed.has_errors() {
        return Err(CliError::findings(format!("error: `{}` has errors; fix them before running it", file.display()))
            .with_hint("check_plan lists them"));
    }
    let hash = engine::workspace::plan_hash(&file.bytes);
    let commands = super::run::verify_commands(&parsed.plan);
    let Some(consent) = consent else {
        let listed = if commands.is_empty() {
            "This plan has no Verify commands.".to_owned()
        } else {
            format!("This plan runs these commands in its worktrees (its Verify commands):\n{}", commands.join("\n"))
        };
        return Ok(format!(
            "Nothing was run. {listed}\nplan hash: {hash}\nShow these commands to the person. Only once they agree, call start_run again with consent = \"{hash}\"."
        ));
    };
    if consent != hash {
        return Err(CliError::usage(format!(
            "error: `{consent}` is not the hash of `{}` as it is now ({hash}): the plan changed, or the consent is for another plan; nothing was run",
            file.display()
        ))
        .with_hint("call start_run without consent, show the person the commands it lists, and pass its hash once they agree"));
    }
    // The person agreed to this content: remembered as `wavecrew run --yes` remembers it. The
    // run reads the file again; if it changed since, its hash is not agreed and nothing runs.
    let (state, journal) = super::runs::open(root)?;
    journal.consent(&hash).map_err(|e| CliError::io(format!("error: {e}")))?;
    drop(journal);
    spawn_run(root, &state, path, agent)
}

/// Starts `wavecrew run PATH` in a process of its own (its own process group: a Ctrl-C in the
/// MCP client does not stop it, nor does this server's end), its output in a log file that
/// moves to the run's folder once the run is in the journal. Returns what to tell the person.
fn spawn_run(root: &Path, state: &Path, path: &Path, agent: Option<&str>) -> Result<String, CliError> {
    use std::os::unix::process::CommandExt as _;
    let io = |what: &str, e: std::io::Error| CliError::io(format!("error: {what}: {e}"));
    let program = std::env::current_exe().map_err(|e| io("where is wavecrew?", e))?;
    let starting = state.join("mcp");
    std::fs::create_dir_all(&starting).map_err(|e| io(&format!("could not make `{}`", starting.display()), e))?;
    let (log, log_path) = tempfile::Builder::new()
        .prefix("run-")
        .suffix(".log")
        .tempfile_in(&starting)
        .and_then(|file| file.keep().map_err(|e| e.error))
        .map_err(|e| io("could not make the run's log file", e))?;
    let mut command = std::process::Command::new(program);
    command.arg("run").arg("--repo").arg(root);
    if let Some(agent) = agent {
        command.arg(format!("--agent={agent}"));
    }
    command
        .arg("--")
        .arg(path)
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().map_err(|e| io("could not open the run's log file", e))?)
        .stderr(log)
        .process_group(0);
    let mut child = command.spawn().map_err(|e| io("could not start `wavecrew run`", e))?;
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (_, journal) = super::runs::open(root)?;
    let run = loop {
        let runs = journal.runs().map_err(|e| CliError::io(format!("error: {e}")))?;
        if let Some(run) = runs.into_iter().find(|r| r.pid == pid) {
            break run;
        }
        if let Ok(Some(_)) = child.try_wait() {
            // It ended before it journaled a run: what it said is the CLI's error.
            let said = std::fs::read_to_string(&log_path).unwrap_or_default();
            let _ = std::fs::remove_file(&log_path);
            let said = said.trim();
            return Err(CliError::usage(if said.is_empty() { "error: `wavecrew run` ended at once" } else { said }));
        }
        if Instant::now() > deadline {
            return Err(CliError::io(format!(
                "error: `wavecrew run` (pid {pid}) has not started its run after 60 s; its output is in {}",
                log_path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Reaped when it ends, so that it leaves no zombie behind while the server lives.
    std::thread::spawn(move || child.wait());
    let folder = engine::layout::RunLayout::new(state, &run.id).dir().to_owned();
    let log = folder.join("wavecrew-run.log");
    let log = match std::fs::create_dir_all(&folder).and_then(|()| std::fs::rename(&log_path, &log)) {
        Ok(()) => log,
        Err(_) => log_path,
    };
    Ok(format!(
        "run {} started: {} · {}, on branch `{}` (pid {pid}, in the background; its output: {}).\nFollow it with run_status; checkpoints wait for approve, reject or decide.",
        run.id,
        run.milestone,
        run.title,
        run.branch,
        log.display()
    ))
}

/// How often `plan` says it is still drafting when `wavecrew plan` printed nothing.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// Runs `wavecrew ARGS` (`plan …`) in the repository and answers with what it printed: its
/// summary, or its error (and what led to it) as the tool's error. Each line it prints on the
/// way is a progress notification when the client asked for them; the client's cancellation
/// stops it.
async fn draft(
    root: &Path,
    args: &[String],
    context: &RequestContext<RoleServer>,
) -> Result<CallToolResult, ErrorData> {
    use tokio::io::AsyncBufReadExt as _;
    let failed = |what: &str, e: std::io::Error| invalid(format!("error: {what}: {e}"));
    let program = std::env::current_exe().map_err(|e| failed("where is wavecrew?", e))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed("could not start `wavecrew plan`", e))?;
    let stdout = child.stdout.take().map(|out| {
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut tokio::io::BufReader::new(out), &mut text).await;
            text
        })
    });
    let token = context.meta.get_progress_token();
    let mut said = String::new();
    if let Some(err) = child.stderr.take() {
        let mut lines = tokio::io::BufReader::new(err).lines();
        let started = Instant::now();
        let mut step = 0u32;
        // A line now and then while the agent thinks: clients that count silence as a hang
        // (an idle timeout) see it working.
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        loop {
            let (message, printed) = tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(line)) => (line, true),
                    _ => break,
                },
                _ = beat.tick() => (format!("still drafting ({}s)", started.elapsed().as_secs()), false),
                () = context.ct.cancelled() => {
                    // As a Ctrl-C: `wavecrew plan` stops its agent and takes its worktree away.
                    if let Some(pid) = child.id() {
                        engine::process::signal_pid(pid, engine::process::Signal::SIGTERM);
                    }
                    if tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_err() {
                        let _ = child.kill().await;
                    }
                    return Err(invalid("error: cancelled: the planning agent was stopped, nothing was written"));
                }
            };
            if let Some(token) = &token {
                step += 1;
                let progress =
                    rmcp::model::ProgressNotificationParam::new(token.clone(), f64::from(step)).with_message(&message);
                let _ = context.peer.notify_progress(progress).await;
            }
            if printed {
                said.push_str(&message);
                said.push('\n');
            }
        }
    }
    let status = child.wait().await.map_err(|e| failed("`wavecrew plan` did not end", e))?;
    let printed = match stdout {
        Some(task) => task.await.unwrap_or_default(),
        None => String::new(),
    };
    if status.success() { Ok(text(format!("{said}{printed}"))) } else { Err(invalid(said.trim_end().to_owned())) }
}

/// Runs a command's function off the async threads (they read files, run git, open the
/// journal); its error becomes the tool's.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CliError> + Send + 'static,
) -> Result<T, ErrorData> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(|error| invalid(error.to_string())),
        Err(error) => Err(ErrorData::internal_error(format!("error: the tool failed: {error}"), None)),
    }
}

/// An MCP error with the CLI's text: the request cannot be carried out as given.
fn invalid(message: impl Into<String>) -> ErrorData {
    ErrorData::invalid_params(message.into(), None)
}

fn text(text: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

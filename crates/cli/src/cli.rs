//! Command-line arguments. Doc comments here are the `--help` text.

use crate::commands::agent_double::AgentDoubleArgs;
use crate::commands::agents::AgentsArgs;
use crate::commands::completions::CompletionsArgs;
use crate::commands::demo::DemoArgs;
use crate::commands::gaps::GapsArgs;
use crate::commands::import::ImportArgs;
use crate::commands::man::ManArgs;
use crate::commands::mcp::McpArgs;
use crate::commands::plan::PlanArgs;
use crate::commands::run::{ResumeArgs, RunArgs};
use crate::commands::runs::{
    ApproveArgs, CancelArgs, DecideArgs, LogsArgs, RejectArgs, ReportArgs, RunsArgs, StatusArgs,
};
use crate::commands::serve::ServeArgs;
use crate::commands::ship::ShipArgs;
use crate::commands::worker::WorkerArgs;
use crate::commands::{
    check::CheckArgs, fmt::FmtArgs, graph::GraphArgs, new::NewArgs, schema::SchemaArgs, show::ShowArgs,
};
use clap::{Parser, Subcommand, ValueEnum};

/// Run Markdown implementation plans with parallel AI coding agents.
///
/// A plan is a Markdown file: context, must_haves, waves of tasks with Files, Action, Verify
/// and Done, an agent strategy, a commit strategy and a verification list. Start with
/// `wavecrew new`, check it with `wavecrew check`.
#[derive(Debug, Parser)]
#[command(name = "wavecrew", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// When to use colours: `auto` uses them on a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check plans and report problems with their exact place and fix.
    Check(CheckArgs),
    /// Summarize a plan: waves, agents, order, critical path (or print its model as JSON).
    Show(ShowArgs),
    /// Draw a plan's task graph as Mermaid or Graphviz DOT.
    Graph(GraphArgs),
    /// Write a new plan from the template.
    New(NewArgs),
    /// Normalize plans: repair mojibake, align tables, order task fields.
    Fmt(FmtArgs),
    /// Draft a plan for a goal with an agent: it reads the repository (read-only), `check`
    /// judges each draft and the agent fixes what it finds, round after round.
    Plan(PlanArgs),
    /// Make a plan from another tool's: task-master's tasks.json, GSD's phase plans, spec-kit's
    /// tasks.md; prints what it could not map.
    Import(ImportArgs),
    /// Print the JSON Schema of `wavecrew show --json`.
    Schema(SchemaArgs),
    /// Run a plan: agents in parallel worktrees, Verify commands, one commit per task.
    Run(RunArgs),
    /// Pick up a run after a crash, Ctrl-C or failure: committed tasks stay, the rest runs.
    Resume(ResumeArgs),
    /// List the runs of a repository.
    Runs(RunsArgs),
    /// Show a run's tasks and their states.
    Status(StatusArgs),
    /// Print a task's logs (agent output and Verify commands), `-f` to follow.
    Logs(LogsArgs),
    /// Stop an active run (it can be resumed).
    Cancel(CancelArgs),
    /// Approve a waiting checkpoint (human-verify or human-action).
    Approve(ApproveArgs),
    /// Send a human-verify checkpoint back to its agent with a reason, or comments on lines of
    /// its change (`--comment PATH:LINE:TEXT`).
    Reject(RejectArgs),
    /// Answer a decision checkpoint with one of its options.
    Decide(DecideArgs),
    /// Print a run's report (Markdown, or `--json`) or its timeline (`--timeline`, `--trace`);
    /// `report.md`, `report.json` and `junit.xml` are also in the run's folder.
    Report(ReportArgs),
    /// Write a follow-up plan for what a run left undone: red gate findings, must_haves that do
    /// not hold, failed Automated commands, failed or skipped tasks.
    Gaps(GapsArgs),
    /// Push a run's branch and open a pull (merge) request with its report: GitHub (`gh`, or
    /// its API), GitLab, Gitea/Forgejo; a draft unless the verification passed and is signed off.
    Ship(ShipArgs),
    /// Run a small bundled plan end to end on a scratch repository, with the scripted agent.
    Demo(DemoArgs),
    /// List the agents wavecrew can run, with their programs' paths and versions.
    Agents(AgentsArgs),
    /// Serve the dashboard: every run of the repository, live, with approve / reject / decide.
    /// Prints the URL with its access token; opens nothing by itself.
    Serve(ServeArgs),
    /// Serve MCP over stdio, so that an agent (Claude Code, Codex, Gemini CLI) can check and
    /// show plans, start runs with the person's consent, follow them and answer checkpoints.
    Mcp(McpArgs),
    /// Print the completion script of a shell (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one per subcommand with `--out DIR`.
    Man(ManArgs),
    /// The scripted agent (a test double), as the engine starts it.
    #[command(hide = true)]
    AgentDouble(AgentDoubleArgs),
    /// One task attempt inside a scheduler's job (`run --backend slurm` submits it).
    #[command(hide = true)]
    Worker(WorkerArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output written to stdout.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
            }
        }
    }
}

//! Command-line arguments. Doc comments here are the `--help` text.

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
    /// Print the JSON Schema of `wavecrew show --json`.
    Schema(SchemaArgs),
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

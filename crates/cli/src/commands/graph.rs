//! `wavecrew graph PLAN --format mermaid|dot`: the task graph, waves as clusters, one style
//! per agent.
//!
//! Edges are the plan's waits: wave dependencies (between clusters) and the order of tasks
//! within a wave (an agent's lane, or a sequential wave).

use super::Context;
use crate::error::CliError;
use crate::input::load_plan;
use clap::{Args, ValueEnum};
use plan::{Plan, Schedule, TaskId};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The plan file.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,

    /// `mermaid` (for Markdown renderers) or `dot` (for Graphviz).
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

/// Fill and stroke colours, one pair per agent, reused in turn.
const PALETTE: [(&str, &str); 8] = [
    ("#dbeafe", "#1d4ed8"),
    ("#dcfce7", "#15803d"),
    ("#fef3c7", "#b45309"),
    ("#fce7f3", "#be185d"),
    ("#ede9fe", "#6d28d9"),
    ("#cffafe", "#0e7490"),
    ("#fee2e2", "#b91c1c"),
    ("#e5e7eb", "#374151"),
];

pub fn run(_ctx: &Context, args: &GraphArgs) -> Result<ExitCode, CliError> {
    let parsed = load_plan(&args.plan)?;
    let text = match args.format {
        GraphFormat::Mermaid => mermaid(&parsed.plan),
        GraphFormat::Dot => dot(&parsed.plan),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn node(id: TaskId) -> String {
    format!("t{}_{}", id.wave, id.index)
}

/// Agent names in lane order (unassigned tasks share the last style, `default`).
fn agent_names(schedule: &Schedule) -> Vec<String> {
    let mut names: Vec<String> = schedule.lanes().iter().filter(|l| !l.default).map(|l| l.name.clone()).collect();
    names.dedup();
    if schedule.lanes().iter().any(|l| l.default) {
        names.push("default".into());
    }
    names
}

fn agent_index(schedule: &Schedule, names: &[String], id: TaskId) -> usize {
    let name = schedule.lane_of(id).map_or("default", |l| l.name.as_str());
    names.iter().position(|n| n == name).unwrap_or(0)
}

fn label(plan: &Plan, id: TaskId) -> String {
    let task = plan.task(id);
    let kind = task.filter(|t| t.kind != plan::TaskType::Auto).map(|t| format!(" ({})", t.kind)).unwrap_or_default();
    format!("{id} {}{kind}", super::ellipsize(&task.map(|t| t.summary()).unwrap_or_default(), 48))
}

fn wave_label(plan: &Plan, number: u32) -> String {
    match plan.wave(number).and_then(|w| w.name.as_deref()) {
        Some(name) => format!("Wave {number}: {name}"),
        None => format!("Wave {number}"),
    }
}

/// Mermaid flowchart text; labels escaped with Mermaid's entity codes.
pub fn mermaid(plan: &Plan) -> String {
    let escape = |s: &str| s.replace('#', "#35;").replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;");
    let schedule = Schedule::new(plan);
    let names = agent_names(&schedule);
    let mut out = String::from("flowchart LR\n");
    for wave in &plan.waves {
        let _ = writeln!(out, "  subgraph w{}[\"{}\"]", wave.number, escape(&wave_label(plan, wave.number)));
        let _ = writeln!(out, "    direction TB");
        for &id in &wave.tasks {
            let _ = writeln!(out, "    {}[\"{}\"]", node(id), escape(&label(plan, id)));
        }
        let _ = writeln!(out, "  end");
    }
    for wave in &plan.waves {
        for dep in &wave.depends_on {
            if plan.wave(dep.value).is_some() {
                let _ = writeln!(out, "  w{} --> w{}", dep.value, wave.number);
            }
        }
    }
    for task in &plan.tasks {
        for before in schedule.in_wave_predecessors(task.id) {
            let _ = writeln!(out, "  {} --> {}", node(*before), node(task.id));
        }
    }
    for (i, name) in names.iter().enumerate() {
        let (fill, stroke) = PALETTE[i % PALETTE.len()];
        let _ = writeln!(out, "  classDef agent{i} fill:{fill},stroke:{stroke},color:#111827");
        let members: Vec<String> =
            plan.tasks.iter().filter(|t| agent_index(&schedule, &names, t.id) == i).map(|t| node(t.id)).collect();
        if !members.is_empty() {
            let _ = writeln!(out, "  class {} agent{i}", members.join(","));
        }
        let _ = name;
    }
    out
}

/// Graphviz DOT text, with an agent legend.
pub fn dot(plan: &Plan) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"));
    let schedule = Schedule::new(plan);
    let names = agent_names(&schedule);
    let mut out = String::new();
    let _ = writeln!(out, "digraph plan {{");
    let _ = writeln!(
        out,
        "  label={}; labelloc=t; rankdir=LR; compound=true; newrank=true;",
        quote(&format!("{} · {}", plan.milestone, plan.title))
    );
    let _ = writeln!(out, "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];");
    for wave in &plan.waves {
        let _ = writeln!(out, "  subgraph cluster_w{} {{", wave.number);
        let _ = writeln!(out, "    label={}; style=rounded;", quote(&wave_label(plan, wave.number)));
        let _ = writeln!(out, "    w{} [shape=point, style=invis, width=0];", wave.number);
        for &id in &wave.tasks {
            let (fill, stroke) = PALETTE[agent_index(&schedule, &names, id) % PALETTE.len()];
            let _ = writeln!(
                out,
                "    {} [label={}, fillcolor=\"{fill}\", color=\"{stroke}\"];",
                node(id),
                quote(&label(plan, id))
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for wave in &plan.waves {
        for dep in wave.depends_on.iter().filter(|d| plan.wave(d.value).is_some()) {
            let _ = writeln!(
                out,
                "  w{} -> w{} [ltail=cluster_w{}, lhead=cluster_w{}];",
                dep.value, wave.number, dep.value, wave.number
            );
        }
    }
    for task in &plan.tasks {
        for before in schedule.in_wave_predecessors(task.id) {
            let _ = writeln!(out, "  {} -> {};", node(*before), node(task.id));
        }
    }
    let _ = writeln!(out, "  subgraph cluster_agents {{");
    let _ = writeln!(out, "    label=\"Agents\"; style=dashed;");
    for (i, name) in names.iter().enumerate() {
        let (fill, stroke) = PALETTE[i % PALETTE.len()];
        let _ = writeln!(out, "    agent{i} [label={}, fillcolor=\"{fill}\", color=\"{stroke}\"];", quote(name));
    }
    let _ = writeln!(out, "  }}");
    let _ = writeln!(out, "}}");
    out
}

//! `wavecrew show PLAN [--json]`: what a plan will do, in one screen.

use super::Context;
use crate::error::CliError;
use crate::input::load_plan;
use clap::Args;
use plan::{Plan, Schedule, Severity};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The plan file.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,

    /// Print the model as JSON (its schema: `wavecrew schema`).
    #[arg(long)]
    pub json: bool,
}

pub fn run(_ctx: &Context, args: &ShowArgs) -> Result<ExitCode, CliError> {
    let text = describe(&args.plan, args.json)?;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// What `show` prints for the plan at `path`: the summary (with a note when the plan has
/// errors), or the model as JSON. `wavecrew mcp`'s `show_plan` answers with it too.
pub fn describe(path: &std::path::Path, json: bool) -> Result<String, CliError> {
    let parsed = load_plan(path)?;
    if json {
        let text = serde_json::to_string_pretty(&parsed.plan).map_err(|e| CliError::io(format!("error: {e}")))?;
        return Ok(format!("{text}\n"));
    }
    let mut out = summary(&parsed.plan);
    let errors = parsed.diagnostics.iter().filter(|d| d.severity() == Severity::Error).count();
    if errors > 0 {
        let _ = writeln!(out, "\nnote: the plan has {errors} error(s); `wavecrew check {}` shows them", path.display());
    }
    Ok(out)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The text summary: header, waves, agents, order.
pub fn summary(plan: &Plan) -> String {
    let schedule = Schedule::new(plan);
    let mut out = String::new();
    let named_agents = schedule.lanes().iter().filter(|l| !l.default).count();
    let critical = schedule
        .critical_path()
        .map_or_else(|| "none (the waves have a cycle)".to_owned(), |n| plural(n, "task", "tasks"));
    let _ = writeln!(out, "{} · {}", plan.milestone, plan.title);
    let _ = writeln!(
        out,
        "{} in {} · {} · critical path: {critical}",
        plural(plan.tasks.len(), "task", "tasks"),
        plural(plan.waves.len(), "wave", "waves"),
        plural(named_agents, "agent", "agents"),
    );

    let _ = writeln!(out, "\nWaves");
    let name_width = plan.waves.iter().map(|w| w.name.as_deref().unwrap_or("").chars().count()).max().unwrap_or(0);
    for wave in &plan.waves {
        let after = if wave.depends_on.is_empty() {
            "no dependencies".to_owned()
        } else {
            let deps: Vec<String> = wave.depends_on.iter().map(|d| d.value.to_string()).collect();
            format!("after {}{}", deps.join(", "), if wave.implicit_dependency { " (implicit)" } else { "" })
        };
        let ids: Vec<String> = wave.tasks.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "  {:>2}  {:<name_width$}  {:<10}  {:<22}  {}{}",
            wave.number,
            wave.name.as_deref().unwrap_or(""),
            if wave.parallel { "parallel" } else { "sequential" },
            after,
            ids.join(" "),
            if wave.ship_gate { "  [ship gate]" } else { "" },
        );
    }

    let _ = writeln!(out, "\nAgents");
    let lanes: Vec<(String, String, String)> = schedule
        .lanes()
        .iter()
        .filter(|l| !l.default)
        .map(|lane| {
            // An agent whose rows name different models switches model per task: say which.
            let mut models: Vec<&str> = Vec::new();
            for model in lane.tasks.iter().filter_map(|&id| schedule.model_of(id)) {
                if !models.contains(&model) {
                    models.push(model);
                }
            }
            let ids: Vec<String> = lane
                .tasks
                .iter()
                .map(|&id| match schedule.model_of(id) {
                    Some(model) if models.len() > 1 => format!("{id} ({model})"),
                    _ => id.to_string(),
                })
                .collect();
            let models = if models.is_empty() { "default model".to_owned() } else { models.join(", ") };
            (lane.name.clone(), models, ids.join(" → "))
        })
        .collect();
    let unassigned: Vec<String> =
        schedule.lanes().iter().filter(|l| l.default).flat_map(|l| &l.tasks).map(ToString::to_string).collect();
    let agent_width = lanes.iter().map(|l| l.0.chars().count()).max().unwrap_or(0);
    let model_width = lanes.iter().map(|l| l.1.chars().count()).max().unwrap_or(0);
    for (name, model, tasks) in &lanes {
        let _ = writeln!(out, "  {name:<agent_width$}  {model:<model_width$}  {tasks}");
    }
    if !unassigned.is_empty() {
        let _ = writeln!(out, "  default agent (unassigned): {}", unassigned.join(", "));
    }

    let _ = writeln!(out, "\nOrder");
    match schedule.task_order() {
        Some(order) => {
            for (n, id) in order.iter().enumerate() {
                let Some(task) = plan.task(*id) else { continue };
                let lane = schedule.lane_of(*id).filter(|l| !l.default).map_or("default agent", |l| l.name.as_str());
                let model = schedule.model_of(*id).map(|m| format!(", {m}")).unwrap_or_default();
                // `Attempts: N parallel`: N candidates side by side, the best lands.
                let best_of = task
                    .attempts
                    .as_ref()
                    .filter(|a| a.value.parallel && a.value.count > 1)
                    .map(|a| format!(", best of {}", a.value.count))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {:>3}. {:<5} {:<24} {}  [{lane}{model}{best_of}]",
                    n + 1,
                    id.to_string(),
                    task.kind.as_str(),
                    super::ellipsize(&task.summary(), 60)
                );
            }
        }
        None => {
            let _ = writeln!(out, "  none: the waves depend on each other in a cycle");
        }
    }

    let m = &plan.must_haves;
    let _ = writeln!(
        out,
        "\nmust_haves: {}, {}, {} · verification: {} automated, {} manual",
        plural(m.truths.len(), "truth", "truths"),
        plural(m.artifacts.len(), "artifact", "artifacts"),
        plural(m.key_links.len(), "key link", "key links"),
        plan.verification.automated.len(),
        plan.verification.manual.len(),
    );
    out
}

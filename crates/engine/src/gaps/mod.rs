//! The follow-up plan of a run (`wavecrew gaps`), as text in the plan format: one fix task per
//! red gate finding, must_have that does not hold or failed Automated command, the failed or
//! skipped tasks again, the gates that were not green in a ship-gate wave, the original
//! must_haves and Verification, and the truths nobody proved in `### Manual`.
//!
//! [`generate`] is pure: from a run's report and its plan to the follow-up's text, which `check`
//! accepts (the CLI checks it before writing it). This file owns the follow-up's shape (which
//! tasks, in which waves); [`collect`] finds the gaps, [`write`] writes the plan's sections and
//! [`text`] makes what comes from the run safe to put in them.

mod collect;
mod text;
mod write;

#[cfg(test)]
mod tests;

use crate::events::TaskState;
use crate::report::Report;
use collect::{collect_gaps, group};
use plan::{Plan, Span, Spanned, TaskId, TaskType};
use std::fmt::Write as _;
pub use text::safe_path;
use text::{one_line, title_text};
use write::{write_agents, write_commits, write_context, write_must_haves, write_verification, write_waves};

/// `M1` → `M1-gaps`, `M1-gaps` → `M1-gaps2`, `M1-gaps2` → `M1-gaps3`.
pub fn follow_up_id(milestone: &str) -> String {
    let milestone: String = milestone.chars().filter(|c| !c.is_whitespace() && !matches!(c, '{' | '}')).collect();
    if let Some(at) = milestone.rfind("-gaps") {
        let rest = &milestone[at + "-gaps".len()..];
        let number = if rest.is_empty() { Some(1) } else { rest.parse::<u32>().ok().filter(|_| rest.len() <= 6) };
        if let Some(number) = number {
            return format!("{}-gaps{}", &milestone[..at], number + 1);
        }
    }
    if milestone.is_empty() { "plan-gaps".to_owned() } else { format!("{milestone}-gaps") }
}

/// What [`generate`] reads.
pub struct Source<'a> {
    /// The run's report (its verification possibly filled in by `gaps`).
    pub report: &'a Report,
    /// The plan the run ran.
    pub plan: &'a Plan,
    /// The follow-up's milestone id.
    pub milestone: &'a str,
    /// Set when the run stopped before its verification and the must_haves were checked by
    /// `gaps` at this commit of the run branch.
    pub checked_at: Option<&'a str>,
}

/// Gap-fixing tasks beyond this many are merged into the last one.
const MAX_FIX_TASKS: usize = 20;

/// One thing left undone, as a piece of a task.
#[derive(Clone, Debug)]
struct Gap {
    /// The file it is about, when one is known: gaps about the same file become one task.
    path: Option<String>,
    /// Groups gaps without a path (a gate's findings, a command).
    group: String,
    title: String,
    files: Vec<String>,
    /// What is wrong and what to do, as generated Markdown.
    what: String,
    /// What the run saw, quoted verbatim in a fence.
    evidence: Vec<String>,
    /// Commands that show the gap is closed.
    commands: Vec<String>,
    /// The criterion, as plain text: every code span of a Verify is a command.
    criterion: String,
    done: String,
}

/// A task of the follow-up plan.
enum NewTask<'a> {
    /// Closes one or more gaps.
    Fix(Vec<Gap>),
    /// A task of the original plan that did not land, done again (with the gaps about its files).
    Redo { task: &'a plan::Task, state: TaskState, reason: Option<&'a str>, gaps: Vec<Gap> },
    /// A gate of the original plan that was not green, run again.
    Gate { task: &'a plan::Task, state: TaskState, reason: Option<&'a str> },
}

impl NewTask<'_> {
    fn files(&self) -> Vec<Spanned<String>> {
        let spanned = |p: &String| Spanned::new(p.clone(), Span::default());
        match self {
            NewTask::Fix(gaps) => gaps.iter().flat_map(|g| &g.files).map(spanned).collect(),
            NewTask::Redo { task, gaps, .. } => {
                task.files.iter().cloned().chain(gaps.iter().flat_map(|g| &g.files).map(spanned)).collect()
            }
            NewTask::Gate { .. } => Vec::new(),
        }
    }

    fn original(&self) -> Option<&plan::Task> {
        match self {
            NewTask::Fix(_) => None,
            NewTask::Redo { task, .. } | NewTask::Gate { task, .. } => Some(task),
        }
    }
}

struct NewWave<'a> {
    name: String,
    sequential: bool,
    ship_gate: bool,
    tasks: Vec<NewTask<'a>>,
}

/// The follow-up plan for the gaps of `source.report`, or `None` when there is nothing to close.
/// The text is a plan `check` accepts: everything that comes from the run (messages, output,
/// evidence) is quoted in code, so that no Markdown in it can change the plan's structure.
pub fn generate(source: &Source) -> Option<String> {
    let report = source.report;
    let plan = source.plan;
    let undone: Vec<(&plan::Task, TaskState, Option<&str>)> = report
        .tasks
        .iter()
        .filter(|t| t.record.state != TaskState::Committed)
        .filter_map(|t| {
            let task = TaskId::parse(&t.record.task).and_then(|id| plan.task(id))?;
            Some((task, t.record.state, t.record.reason.as_deref()))
        })
        .collect();

    let gaps = collect_gaps(source);
    // Gaps about the files of a task that did not land go with that task.
    let mut redo: Vec<(&plan::Task, TaskState, Option<&str>, Vec<Gap>)> = undone
        .iter()
        .filter(|(task, ..)| task.kind != TaskType::Gate)
        .map(|&(task, state, reason)| (task, state, reason, Vec::new()))
        .collect();
    let mut loose: Vec<Gap> = Vec::new();
    for gap in gaps {
        let owner = gap.path.as_ref().and_then(|path| {
            let entry = [Spanned::new(path.clone(), Span::default())];
            redo.iter().position(|(task, ..)| task.kind == TaskType::Auto && plan::files_overlap(&task.files, &entry))
        });
        match owner {
            Some(at) => redo[at].3.push(gap),
            None => loose.push(gap),
        }
    }
    let mut groups = group(loose);
    if groups.len() > MAX_FIX_TASKS {
        let rest: Vec<Gap> = groups.drain(MAX_FIX_TASKS - 1..).flatten().collect();
        groups.push(rest);
    }
    let gates: Vec<NewTask> = undone
        .iter()
        .filter(|(task, ..)| task.kind == TaskType::Gate)
        .map(|&(task, state, reason)| NewTask::Gate { task, state, reason })
        .collect();
    if groups.is_empty() && redo.is_empty() && gates.is_empty() {
        return None;
    }

    // Waves: the fixes (with the redone tasks of the earliest unfinished wave, when it runs in
    // parallel), the later unfinished waves in their order, then the gates.
    let order = plan::Schedule::new(plan).wave_order().unwrap_or_else(|| plan.waves.iter().map(|w| w.number).collect());
    let mut waves: Vec<NewWave> = Vec::new();
    if !groups.is_empty() {
        waves.push(NewWave {
            name: "Fixes".into(),
            sequential: false,
            ship_gate: false,
            tasks: groups.into_iter().map(NewTask::Fix).collect(),
        });
    }
    let mut first = true;
    for number in order {
        let tasks: Vec<NewTask> = redo
            .iter()
            .filter(|(task, ..)| task.wave == number)
            .map(|(task, state, reason, gaps)| NewTask::Redo {
                task,
                state: *state,
                reason: *reason,
                gaps: gaps.clone(),
            })
            .collect();
        if tasks.is_empty() {
            continue;
        }
        let original = plan.wave(number);
        let sequential = original.is_some_and(|w| !w.parallel);
        let join = std::mem::take(&mut first) && !sequential && !waves.is_empty();
        if join {
            waves[0].tasks.extend(tasks);
            continue;
        }
        let name = match original.and_then(|w| w.name.as_deref()) {
            Some(name) => format!("Finish {}", title_text(name)),
            None => format!("Finish wave {number}"),
        };
        waves.push(NewWave { name, sequential, ship_gate: false, tasks });
    }
    if !gates.is_empty() {
        waves.push(NewWave { name: "Quality Gates".into(), sequential: false, ship_gate: true, tasks: gates });
    }

    let mut out = String::new();
    // The title is Markdown on one line; braces would read as template placeholders.
    let title = if report.title.trim().is_empty() { &report.milestone } else { &report.title };
    let title = one_line(title).replace('{', "(").replace('}', ")");
    let _ = writeln!(out, "# {} Implementation Plan: Close the gaps of {}\n", source.milestone, title);
    write_context(&mut out, source, &undone);
    write_must_haves(&mut out, plan);
    let ids = write_waves(&mut out, source, &waves);
    write_agents(&mut out, plan, &waves, &ids);
    write_commits(&mut out, plan, source.milestone, &waves, &ids);
    write_verification(&mut out, source);
    Some(out)
}

/// `items` in their order, each once.
fn dedup(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

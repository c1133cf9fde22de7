//! What a run checks before it starts, beyond `check`: promises the plan makes that this
//! version or this repository cannot keep (a skill without a text, a gate without checks,
//! best of N where it cannot run) stop it before anything is made.

use crate::error::EngineError;
use crate::options::{BackendChoice, Options};
use plan::{Plan, TaskType};
use std::path::Path;

/// Every skill a task names must have a text (in the repository or built in), and a gate must
/// have a skill whose checks wavecrew runs: a built-in one, or one the repository defines with
/// Verify commands to run. A run does not start on a promise it cannot keep.
pub(super) fn check_skills(root: &Path, plan: &Plan) -> Result<(), EngineError> {
    use crate::gate::GateSkill;
    for task in &plan.tasks {
        for skill in &task.skills {
            let name = skill.value.as_str();
            if crate::skills::text(root, name).is_none() {
                return Err(EngineError::Unsupported(format!(
                    "task {} names the skill `{name}`, which is neither in .claude/skills/{name}/SKILL.md, nor in .wavecrew/skills/{name}.md, nor built in ({})",
                    task.id,
                    crate::gate::SKILLS.join(", ")
                )));
            }
        }
        if task.kind != TaskType::Gate {
            continue;
        }
        let kinds: Vec<(&str, GateSkill)> = task
            .skills
            .iter()
            .filter_map(|s| GateSkill::of(root, &s.value).map(|kind| (s.value.as_str(), kind)))
            .collect();
        // A repository skill's checks are the task's Verify commands: without one it checks nothing.
        let repository = kinds.iter().find(|(_, kind)| *kind == GateSkill::Repository);
        if let Some((name, _)) = repository.filter(|_| task.verify_commands.is_empty()) {
            return Err(EngineError::Unsupported(format!(
                "gate task {} uses the repository's skill `{name}`, whose checks are the task's Verify commands, but its Verify names no backticked command: a gate's verdict must come from checks; add one (e.g. `make lint`)",
                task.id
            )));
        }
        if kinds.is_empty() {
            return Err(EngineError::Unsupported(format!(
                "gate task {} has no skill whose checks wavecrew runs ({}, or a skill of the repository's .claude/skills or .wavecrew/skills): a gate's verdict must come from checks",
                task.id,
                crate::gate::SKILLS.join(", ")
            )));
        }
    }
    Ok(())
}

/// Best of N (`Attempts: N parallel`, `--best-of N --tasks`) runs N candidates of an `auto`
/// task at once, in worktrees on this machine: `--best-of` must name tasks of the plan, with N
/// from 1 to 8, and a best-of task must be an `auto` task run by the local backend. A run does
/// not start on a promise it cannot keep.
pub(super) fn check_attempts(plan: &Plan, options: &Options) -> Result<(), EngineError> {
    let max = plan::Attempts::MAX;
    for (id, &count) in &options.best_of {
        if count == 0 || count > max {
            return Err(EngineError::Unsupported(format!(
                "--best-of {count} for task {id}: best of N takes N from 1 to {max}"
            )));
        }
        if plan::TaskId::parse(id).and_then(|id| plan.task(id)).is_none() {
            return Err(EngineError::Unsupported(format!(
                "--best-of names task {id}, which is not in the plan (`wavecrew show` lists its tasks)"
            )));
        }
    }
    for task in &plan.tasks {
        let Some(count) = crate::best_of::candidates(task, options) else { continue };
        if task.kind != TaskType::Auto {
            return Err(EngineError::Unsupported(format!(
                "task {} ({}) asks for the best of {count} attempts at once, which only `auto` tasks can be: \
                 a checkpoint or a gate lands one change; write `Attempts: {count}` or remove the field",
                task.id,
                task.kind.as_str()
            )));
        }
        if !matches!(options.backend, BackendChoice::Local) {
            return Err(EngineError::Unsupported(format!(
                "task {} asks for the best of {count} attempts at once, which runs on this machine's worktrees: \
                 run it with `--backend local`, or write `Attempts: {count}` for attempts one after another",
                task.id
            )));
        }
    }
    Ok(())
}

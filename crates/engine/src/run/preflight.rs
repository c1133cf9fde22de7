//! What a run checks before it starts, beyond `check`: promises the plan makes that this
//! version or this repository cannot keep (a skill without a text, a gate without checks,
//! attempts side by side) stop it before anything is made.

use crate::error::EngineError;
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

/// `Attempts: N parallel` asks for the best of N attempts run at once, chosen by evidence; this
/// version cannot run attempts side by side yet, and running them one after another instead
/// would be another promise than the plan's, so such a plan does not start.
pub(super) fn check_attempts(plan: &Plan) -> Result<(), EngineError> {
    let parallel = plan.tasks.iter().find_map(|task| {
        let attempts = task.attempts.as_ref().map(|a| a.value)?;
        (attempts.parallel && attempts.count > 1).then_some((task.id, attempts.count))
    });
    match parallel {
        Some((id, count)) => Err(EngineError::Unsupported(format!(
            "task {id} asks for `Attempts: {count} parallel`: best of N attempts at once is not supported yet; \
             write `Attempts: {count}` for up to {count} attempts one after another, or remove the field"
        ))),
        None => Ok(()),
    }
}

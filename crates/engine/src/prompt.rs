//! What an agent is told, and what its commit says.

use plan::{Plan, Task};
use std::fmt::Write as _;

/// The prompt for one attempt of `task`: the plan's context, the task's fields, the commands
/// wavecrew will run, and the failure of the previous attempt when there was one.
/// `decisions` are the choices people made at decision checkpoints: (task, summary, option).
/// `skills` are `(name, text)` of the task's skills to put in the prompt (empty when the agent
/// takes them as a system prompt).
pub fn build(
    plan: &Plan,
    task: &Task,
    failure: Option<&str>,
    decisions: &[(String, String, String)],
    skills: &[(String, String)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Task {} of milestone {}: {}\n", task.id, plan.milestone, task.summary());
    let _ = writeln!(out, "You are one of several agents carrying out the implementation plan \"{}\".", plan.title);
    let _ = writeln!(
        out,
        "Work only inside the current directory (a git worktree). Do not commit: wavecrew commits your changes.\n"
    );
    if !plan.context.trim().is_empty() {
        let _ = writeln!(out, "## Context\n\n{}\n", plan.context.trim());
    }
    if !decisions.is_empty() {
        let _ = writeln!(out, "## Decisions made\n");
        for (id, summary, option) in decisions {
            let _ = writeln!(out, "- Task {id} ({summary}): **{option}**");
        }
        let _ = writeln!(out);
    }
    if !task.files.is_empty() || !task.files_prose.is_empty() {
        let _ = writeln!(out, "## Files\n");
        for file in &task.files {
            let _ = writeln!(out, "- `{}`", file.value);
        }
        for prose in &task.files_prose {
            let _ = writeln!(out, "- {}", prose.value);
        }
        let _ = writeln!(out);
    }
    if let Some(action) = &task.action {
        let _ = writeln!(out, "## Action\n\n{}\n", action.value);
    }
    if let Some(done) = &task.done {
        let _ = writeln!(out, "## Done when\n\n{}\n", done.value);
    }
    for (name, text) in skills {
        let _ = writeln!(out, "## Skill: {name}\n\n{}\n", text.trim_end());
    }
    if let Some(verify) = &task.verify {
        let _ = writeln!(out, "## Verification\n\n{}\n", verify.value);
        if !task.verify_commands.is_empty() {
            let _ = writeln!(out, "When you finish, wavecrew runs these commands here; each must exit 0:\n");
            for command in &task.verify_commands {
                let _ = writeln!(out, "- `{}`", command.value);
            }
            let _ = writeln!(out);
        }
        if !task.verify_steps.is_empty() {
            // A dev server an agent starts never exits: the steps are for the person, not for it.
            let _ =
                writeln!(out, "A person follows these steps before approving your change; do not run them yourself:\n");
            for step in &task.verify_steps {
                let _ = writeln!(out, "- {}", step.value);
            }
            let _ = writeln!(out);
        }
    }
    if let Some(failure) = failure {
        let _ = writeln!(
            out,
            "## The previous attempt failed\n\nFix this, then finish the task:\n\n```\n{}\n```",
            failure.trim_end()
        );
    }
    out
}

/// The task's commit message: its Commit Strategy line with `{task N description}` and `M{N}`
/// filled, or `feat(<milestone>): <summary>`, then the trailers that let `resume` find it.
pub fn commit_message(plan: &Plan, task: &Task, run: &str) -> String {
    let summary = task.summary();
    let subject = match plan.commit_of(task.id) {
        Some(line) => fill_placeholders(&line.message, &plan.milestone, &summary),
        None => format!("feat({}): {}", plan.milestone, lowercase_first(&summary)),
    };
    format!("{subject}\n\nWavecrew-Task: {}\nWavecrew-Run: {run}\n", task.id)
}

/// `{task 1.1 description}` (any `{...}` naming a task) becomes the summary; `M{N}` the milestone.
fn fill_placeholders(line: &str, milestone: &str, summary: &str) -> String {
    let mut out = line.replace("M{N}", milestone);
    while let (Some(open), Some(close)) = (out.find('{'), out.find('}')) {
        if close < open {
            break;
        }
        out.replace_range(open..=close, &lowercase_first(summary));
    }
    out
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        // Keep acronyms and code as they are: `CLI`, `HTTP`.
        Some(first) if chars.clone().next().is_some_and(char::is_lowercase) => {
            first.to_lowercase().chain(chars).collect()
        }
        Some(first) => std::iter::once(first).chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill_placeholders("feat(M{N}): {task 1.1 description}", "M3", "Write the parser"),
            "feat(M3): write the parser"
        );
        assert_eq!(fill_placeholders("test(M2): add tests", "M2", "x"), "test(M2): add tests");
        assert_eq!(fill_placeholders("feat: {a} } {", "M1", "CLI flags"), "feat: CLI flags } {");
    }

    #[test]
    fn the_steps_for_a_person_are_not_among_the_commands_the_agent_is_told_wavecrew_runs() {
        let plan = plan::parse(
            "# M1 Implementation Plan: x\n\n## Waves\n\n### Wave 1\n\n**Task 1.1** (type: checkpoint:human-verify)\n\
             - **Action**: Style the page\n- **Verify**: `npm run build` passes. Run `npm run dev` and open `/room/1`.\n",
            "x",
        )
        .plan;
        let prompt = build(&plan, &plan.tasks[0], None, &[], &[]);
        let (runs, steps) = prompt.split_once("do not run them yourself").unwrap();
        assert!(runs.contains("- `npm run build`") && !runs.contains("- `npm run dev`"), "{prompt}");
        assert!(steps.contains("- Run `npm run dev` and open `/room/1`."), "{prompt}");
    }
}

//! The checks about how a plan will run: **Attempts**, commit lines that name no task,
//! commands that never exit, and steps for a person in a human-verify task.

use plan::{Attempts, Code, Severity, TaskId};

/// A one-wave plan around `tasks` (task text) and `commits` (Commit Strategy lines).
fn plan(tasks: &str, commits: &str) -> plan::Parsed {
    let text = format!(
        "# M1 Implementation Plan: Rooms\n\n## Waves\n\n### Wave 1: Only\n> No dependencies.\n\n{tasks}\n\
         ## Commit Strategy\n\n```\n{commits}\n```\n"
    );
    plan::parse(&text, "m1")
}

fn found(parsed: &plan::Parsed, code: Code) -> Vec<&plan::Diagnostic> {
    parsed.diagnostics.iter().filter(|d| d.code == code).collect()
}

const TASKS: &str = "\
**Task 1.1: Room panel** (type: auto)
- **Files**: `src/panel.ts`
- **Action**: Render the room panel with its members list
- **Verify**: `npm test`
- **Done**: the panel shows

**Task 1.2: Login form** (type: auto)
- **Files**: `src/login.ts`
- **Action**: Validate email and password before submit
- **Verify**: `npm test`
- **Done**: bad input is refused
";

#[test]
fn attempts_are_read_into_the_task() {
    let parsed = plan(
        &TASKS.replace("- **Done**: the panel shows", "- **Done**: the panel shows\n- **Attempts**: 3 parallel"),
        "",
    );
    assert!(found(&parsed, Code::UnknownField).is_empty(), "{:?}", parsed.diagnostics);
    let task = parsed.plan.task(TaskId::parse("1.1").unwrap()).unwrap();
    assert_eq!(task.attempts.as_ref().map(|a| a.value), Some(Attempts { count: 3, parallel: true }));
    assert_eq!(parsed.plan.task(TaskId::parse("1.2").unwrap()).unwrap().attempts, None);
}

#[test]
fn attempts_out_of_range_or_unreadable_are_errors_naming_the_valid_form() {
    for (value, message) in [
        ("9 parallel", "task 1.1 asks for 9 attempts; a task may have 1 to 8"),
        ("0", "task 1.1 asks for 0 attempts; a task may have 1 to 8"),
        ("many", "task 1.1: `many` is not a number of attempts"),
        ("3 at once", "task 1.1: `3 at once` is not a number of attempts"),
    ] {
        let parsed = plan(
            &TASKS.replace(
                "- **Done**: the panel shows",
                &format!("- **Done**: the panel shows\n- **Attempts**: {value}"),
            ),
            "",
        );
        let bad = found(&parsed, Code::BadAttempts);
        assert_eq!(bad.len(), 1, "{value}: {:?}", parsed.diagnostics);
        assert_eq!(bad[0].severity(), Severity::Error);
        assert_eq!(bad[0].message, message);
        assert!(bad[0].help.as_deref().unwrap().contains("`- **Attempts**: 3 parallel`"), "{value}");
        assert!(parsed.plan.tasks[0].attempts.is_none());
    }
}

#[test]
fn a_commit_line_that_names_no_task_is_an_orphan_with_the_task_it_probably_means() {
    let parsed = plan(TASKS, "feat(M1): {task 1.1 description}\nfeat(M1): validate the login form input");
    let orphans = found(&parsed, Code::OrphanCommitLine);
    assert_eq!(orphans.len(), 1, "{:?}", parsed.diagnostics);
    assert_eq!(orphans[0].message, "the commit line `feat(M1): validate the login form input` names no task");
    assert_eq!(
        orphans[0].help.as_deref(),
        Some(
            "it probably means task 1.2 (Login form): write `feat(M1): {task 1.2 description}`, or add `task 1.2` to the line"
        )
    );
    // The task it names is not taken as its line: it still gets the default message.
    assert!(found(&parsed, Code::DefaultCommit).iter().any(|d| d.message.contains("task 1.2")));
}

#[test]
fn an_orphan_line_like_no_task_or_like_two_says_how_to_name_one() {
    for line in ["chore(M1): bump dependencies", "feat(M1): room login"] {
        let parsed = plan(TASKS, line);
        let orphans = found(&parsed, Code::OrphanCommitLine);
        assert_eq!(orphans.len(), 1, "{line}");
        let help = orphans[0].help.as_deref().unwrap();
        assert!(help.starts_with("name the task it is for, as in `"), "{line}: {help}");
        assert!(help.ends_with("the plan's tasks are 1.1, 1.2"), "{line}: {help}");
    }
    // Lines that name a task, and lines that are not commits, are no orphans.
    let parsed = plan(TASKS, "feat(M1): {task 1.1 description}\ntest: task 1.2 tests\nnot a commit");
    assert!(found(&parsed, Code::OrphanCommitLine).is_empty());
}

#[test]
fn verify_and_automated_commands_that_never_exit_are_reported() {
    let tasks = TASKS.replace(
        "- **Verify**: `npm test`\n- **Done**: the panel shows",
        "- **Verify**: `npm run build` and `npm run dev`\n- **Done**: the panel shows",
    );
    let text = format!(
        "# M1 Implementation Plan: Rooms\n\n## Waves\n\n### Wave 1\n> No dependencies.\n\n{tasks}\n\
         ## Verification\n\n### Automated\n```bash\nvitest   # green\nvitest run\n```\n"
    );
    let parsed = plan::parse(&text, "m1");
    let long: Vec<&str> = found(&parsed, Code::LongRunningVerify).iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        long,
        [
            "task 1.1's Verify command `npm run dev` does not exit by itself",
            "the Automated check `vitest` does not exit by itself"
        ]
    );
    let help = found(&parsed, Code::LongRunningVerify)[1].help.clone().unwrap();
    assert!(help.contains("`vitest run`"), "{help}");
}

#[test]
fn in_a_human_verify_task_a_command_in_a_sentence_to_a_person_is_a_step_not_a_check() {
    let tasks = "\
**Task 1.1: Look at it** (type: checkpoint:human-verify)
- **Action**: Style the room page
- **Verify**: `npm run build` passes. Run `npm run dev` and open `/room/1`;
  then check the colours. In a browser, visit `/room/2`.
  - Click `Leave`
";
    let parsed = plan(tasks, "");
    let task = &parsed.plan.tasks[0];
    let run: Vec<&str> = task.verify_commands.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(run, ["npm run build"]);
    let steps: Vec<&str> = task.verify_steps.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(steps, ["Run `npm run dev` and open `/room/1`", "In a browser, visit `/room/2`.", "Click `Leave`"]);
    // A dev server shown to a person is what a human-verify step is for: no warning.
    assert!(found(&parsed, Code::LongRunningVerify).is_empty(), "{:?}", parsed.diagnostics);
}

#[test]
fn outside_human_verify_tasks_every_backticked_span_is_run() {
    let tasks = TASKS.replace(
        "- **Verify**: `npm test`\n- **Done**: the panel shows",
        "- **Verify**: Run `npm test` and check `npm run lint`\n- **Done**: the panel shows",
    );
    let parsed = plan(&tasks, "");
    let task = &parsed.plan.tasks[0];
    assert_eq!(task.verify_commands.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), ["npm test", "npm run lint"]);
    assert!(task.verify_steps.is_empty());
}

#[test]
fn fmt_puts_attempts_after_done() {
    let text = "## Waves\n### Wave 1\n**Task 1.1** (type: auto)\n- **Attempts**: 2 parallel\n- **Files**: `a`\n- **Owner**: me\n";
    assert_eq!(
        plan::format(text),
        "## Waves\n### Wave 1\n**Task 1.1** (type: auto)\n- **Files**: `a`\n- **Attempts**: 2 parallel\n- **Owner**: me\n"
    );
}

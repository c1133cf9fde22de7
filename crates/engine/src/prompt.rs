//! What an agent is told, and what its commit says.
//!
//! A task's prompt carries what touches the task and nothing else: the plan's context and
//! decisions, the task's fields, the must_haves wavecrew will check that concern the task's
//! files, what the tasks it waited for landed, and the commands wavecrew runs.

use plan::{Plan, Task};
use std::fmt::Write as _;

/// Files of a landed task listed in a prompt, at most.
const LANDED_FILES_SHOWN: usize = 20;

/// A task the prompt's task waited for, as it landed on the run branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Landed {
    /// The task's id.
    pub task: String,
    /// Its commit's subject.
    pub subject: String,
    /// The files its commit changed.
    pub files: Vec<String>,
}

/// What an attempt's agent is told besides the task itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extras<'a> {
    /// The failure of the previous attempt, when there was one.
    pub failure: Option<&'a str>,
    /// The choices people made at decision checkpoints: (task, summary, option).
    pub decisions: &'a [(String, String, String)],
    /// `(name, text)` of the task's skills to put in the prompt (empty when the agent takes
    /// them as a system prompt).
    pub skills: &'a [(String, String)],
    /// What the tasks this one waited for landed, in plan order.
    pub landed: &'a [Landed],
}

/// The prompt for one attempt of `task`: the plan's context, the task's fields, the must_haves
/// that concern it, what the tasks it waited for landed, the commands wavecrew will run, and
/// the failure of the previous attempt when there was one.
pub fn build(plan: &Plan, task: &Task, extras: &Extras) -> String {
    let Extras { failure, decisions, skills, landed } = *extras;
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
    if !landed.is_empty() {
        let _ = writeln!(out, "## What the tasks before this one landed\n");
        let _ = writeln!(out, "Their commits are in this worktree already; build on them:\n");
        for done in landed {
            let mut files: Vec<String> = done.files.iter().take(LANDED_FILES_SHOWN).map(|f| format!("`{f}`")).collect();
            if done.files.len() > LANDED_FILES_SHOWN {
                files.push(format!("and {} more", done.files.len() - LANDED_FILES_SHOWN));
            }
            let files = if files.is_empty() { "no file".to_owned() } else { files.join(", ") };
            let _ = writeln!(out, "- Task {}: \"{}\", changed {files}", done.task, done.subject);
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
    must_haves(&mut out, plan, task);
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

/// The must_haves that concern `task`, as wavecrew will check them once every task landed:
/// the artifacts among its Files, the key_links that name one of its files, and the plan's
/// truths. Nothing when none concerns it.
fn must_haves(out: &mut String, plan: &Plan, task: &Task) {
    let names = |reference: &str| {
        if reference.contains(['/', '.']) {
            plan::files_name(&task.files, reference)
        } else {
            // A component name (`TaskPanel`): the file it is named after.
            task.files.iter().any(|f| file_stem(&f.value) == reference)
        }
    };
    let artifacts: Vec<&str> =
        plan.must_haves.artifacts.iter().filter_map(|a| a.path.as_deref()).filter(|path| names(path)).collect();
    let links: Vec<&plan::KeyLink> =
        plan.must_haves.key_links.iter().filter(|link| link.references.iter().any(|r| names(r))).collect();
    let truths = &plan.must_haves.truths;
    if artifacts.is_empty() && links.is_empty() && truths.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## What wavecrew checks when every task has landed\n\nThe plan's must_haves that concern this task; the run fails when one does not hold:\n"
    );
    for path in artifacts {
        let _ = writeln!(
            out,
            "- Artifact `{path}`: it exists, holds real code (no stub, no placeholder), and the code uses it (imports it, or runs it)."
        );
    }
    for link in links {
        let _ = writeln!(
            out,
            "- Key link: {}. Wire it exactly so, with a real import or call in the code (a comment or a string naming it does not count).",
            link.text.trim().trim_end_matches('.')
        );
    }
    for truth in truths {
        let _ = writeln!(out, "- Truth: {}", truth.value.trim());
    }
    let _ = writeln!(out);
}

/// `src/lib/components/TaskPanel.svelte` → `TaskPanel`.
fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('.').next().unwrap_or(name)
}

/// The subject of the task's commit: its Commit Strategy line with `{task N description}` and
/// `M{N}` filled, or `feat(<milestone>): <summary>` (the trailers follow, see
/// `integrate::message`).
pub fn commit_subject(plan: &Plan, task: &Task) -> String {
    let summary = task.summary();
    match plan.commit_of(task.id) {
        Some(line) => fill_placeholders(&line.message, &plan.milestone, &summary),
        None => format!("feat({}): {}", plan.milestone, lowercase_first(&summary)),
    }
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

/// Bytes of the run's diff a reviewing agent gets in its prompt; it reads the files for more.
pub const DIFF_EXCERPT_BYTES: usize = 48 * 1024;

/// The first `max_bytes` of `text` (a diff, a command's output; cut at a line), with the lines
/// that hold a secret redacted: a prompt goes to a model provider, and a secret must not.
pub fn prompt_excerpt(text: &str, max_bytes: usize) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut size = 0;
    for line in text.lines() {
        if size + line.len() + 1 > max_bytes {
            break;
        }
        size += line.len() + 1;
        kept.push(line);
    }
    let left = text.lines().count() - kept.len();
    // Only what is kept is scanned: the cut is cheap, a whole large diff is not.
    let secrets: std::collections::HashSet<u32> =
        evidence::secrets::scan("change.diff", &kept.join("\n")).iter().map(|f| f.line).collect();
    let mut out = String::with_capacity(size + 64);
    for (index, line) in kept.iter().enumerate() {
        if secrets.contains(&(index as u32 + 1)) {
            let sign = line.chars().next().filter(|c| matches!(c, '+' | '-' | ' ')).unwrap_or(' ');
            let _ = writeln!(out, "{sign}[wavecrew redacted this line: it holds a secret]");
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    if left > 0 {
        let _ = writeln!(out, "… ({left} more line(s) not shown: read the files)");
    }
    out
}

/// A fence of backticks longer than any run of backticks in `text`.
pub fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_excerpt_is_cut_at_a_line_and_hides_secrets() {
        let diff =
            "+++ b/settings.py\n+DEBUG = False\n+GITHUB_TOKEN = \"ghp_R4nd0mL00k1ngT0k3nV4lu3F0rT3st1ng9Z\"\n+x = 1\n";
        let excerpt = prompt_excerpt(diff, 1000);
        assert!(!excerpt.contains("ghp_"), "{excerpt}");
        assert!(excerpt.contains("+[wavecrew redacted this line: it holds a secret]\n+x = 1\n"), "{excerpt}");
        let cut = prompt_excerpt(diff, 35);
        assert_eq!(cut, "+++ b/settings.py\n+DEBUG = False\n… (2 more line(s) not shown: read the files)\n");
        assert_eq!(fence_for("a ```` b"), "`````");
        assert_eq!(fence_for(""), "```");
    }

    const LEDGER: &str = r#"# M1 Implementation Plan: Ledger

## Context

A small ledger package.

## must_haves

### truths (observable outcomes)
- `python3 -c "import ledger.report; print(ledger.report.report())"` prints the balance

### artifacts (files produced)
- `ledger/entries.py`
- `ledger/balance.py`
- `ledger/report.py`

### key_links (where breakage cascades)
- `ledger/balance.py` imports `ledger/entries.py`
- `ledger/report.py` imports `ledger/balance.py`

## Waves

### Wave 1: Entries
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: `ledger/__init__.py`, `ledger/entries.py`
- **Action**: Write the entries module
- **Verify**: `python3 -c "import ledger.entries"`
- **Done**: entries load

### Wave 2: Balance
> Depends on: Wave 1

**Task 2.1** (type: auto)
- **Files**: `ledger/balance.py`
- **Action**: Compute the balance of the entries
- **Verify**: `python3 -c "import ledger.balance"`
- **Done**: the balance is the sum of the entries
"#;

    #[test]
    fn a_prompt_names_the_must_haves_of_its_files_and_what_its_dependencies_landed() {
        let plan = plan::parse(LEDGER, "M1").plan;
        let task = plan.task(plan::TaskId::parse("2.1").unwrap()).unwrap();
        let landed = [Landed {
            task: "1.1".into(),
            subject: "feat(M1): write the entries module".into(),
            files: vec!["ledger/__init__.py".into(), "ledger/entries.py".into()],
        }];
        let prompt = build(&plan, task, &Extras { landed: &landed, ..Extras::default() });
        let expected = "## What the tasks before this one landed\n\n\
            Their commits are in this worktree already; build on them:\n\n\
            - Task 1.1: \"feat(M1): write the entries module\", changed `ledger/__init__.py`, `ledger/entries.py`\n";
        assert!(prompt.contains(expected), "{prompt}");
        let expected = "## What wavecrew checks when every task has landed\n\n\
            The plan's must_haves that concern this task; the run fails when one does not hold:\n\n\
            - Artifact `ledger/balance.py`: it exists, holds real code (no stub, no placeholder), and the code uses it (imports it, or runs it).\n\
            - Key link: `ledger/balance.py` imports `ledger/entries.py`. Wire it exactly so, with a real import or call in the code (a comment or a string naming it does not count).\n\
            - Key link: `ledger/report.py` imports `ledger/balance.py`. Wire it exactly so, with a real import or call in the code (a comment or a string naming it does not count).\n\
            - Truth: `python3 -c \"import ledger.report; print(ledger.report.report())\"` prints the balance\n";
        assert!(prompt.contains(expected), "{prompt}");
        // Lean: only what touches the task.
        assert!(
            !prompt.contains("Artifact `ledger/entries.py`") && !prompt.contains("Artifact `ledger/report.py`"),
            "{prompt}"
        );

        // The first task waited for nothing; its must_haves are its own.
        let first = plan.task(plan::TaskId::parse("1.1").unwrap()).unwrap();
        let prompt = build(&plan, first, &Extras::default());
        assert!(!prompt.contains("What the tasks before this one landed"), "{prompt}");
        assert!(
            prompt.contains("- Artifact `ledger/entries.py`") && !prompt.contains("report.py` imports"),
            "{prompt}"
        );
    }

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
        let prompt = build(&plan, &plan.tasks[0], &Extras { failure: None, decisions: &[], skills: &[], landed: &[] });
        let (runs, steps) = prompt.split_once("do not run them yourself").unwrap();
        assert!(runs.contains("- `npm run build`") && !runs.contains("- `npm run dev`"), "{prompt}");
        assert!(steps.contains("- Run `npm run dev` and open `/room/1`."), "{prompt}");
    }
}

//! Writing the follow-up plan's text, section by section: context, must_haves, waves and their
//! tasks, agents, commits and Verification.

use super::text::{cell, code, evidence_lines, fence, inline_markdown, longest_run, one_line, safe_path, title_text};
use super::{Gap, NewTask, NewWave, Source, dedup};
use crate::events::{MustHaveKind, MustHaveStatus, RunVerdict, TaskState};
use plan::{Plan, Spanned, TaskId, TaskType};
use std::collections::HashMap;
use std::fmt::Write as _;

pub(super) fn write_context(out: &mut String, source: &Source, undone: &[(&plan::Task, TaskState, Option<&str>)]) {
    let report = source.report;
    let count = |state: TaskState| report.tasks.iter().filter(|t| t.record.state == state).count();
    let base = &report.base[..report.base.len().min(10)];
    let _ = writeln!(out, "## Context\n");
    let _ = writeln!(
        out,
        "This plan closes the gaps that run {} of milestone {} left: the tasks that did not land, the quality-gate findings, the must_haves that do not hold and the Automated commands that fail, as `wavecrew gaps` read them from the run's journal. That run ended {} on the branch {} (from {}): {} of {} tasks committed, {} failed, {} skipped.\n",
        code(&report.run),
        code(&report.milestone),
        code(&report.state),
        code(&report.branch),
        code(if base.is_empty() { "?" } else { base }),
        count(TaskState::Committed),
        report.tasks.len(),
        count(TaskState::Failed),
        count(TaskState::Skipped),
    );
    let _ = writeln!(
        out,
        "This plan starts from that branch: check it out first (`git checkout {}`), so that the fixes land on top of the run's work; its own run then works on the branch {}. Agents: the original run's work is in the repository already; change what your task names and keep the rest as it is.\n",
        one_line(&report.branch).replace('`', ""),
        code(&crate::workspace::branch_name(source.milestone)),
    );
    match (source.checked_at, &report.verification) {
        (Some(head), _) => {
            let _ = writeln!(
                out,
                "The run stopped before its final verification, so `wavecrew gaps` checked the must_haves on the head of its branch ({}); the Automated commands were not run: they run at the end of this plan.\n",
                code(&head[..head.len().min(10)])
            );
        }
        (None, Some(v)) if v.verdict != RunVerdict::Unverified || !v.automated.is_empty() => {
            let _ = writeln!(out, "The run's final verification said: {}.\n", code(v.verdict.as_str()));
        }
        _ => {}
    }
    let checkpoints: Vec<&(&plan::Task, TaskState, Option<&str>)> =
        undone.iter().filter(|(task, ..)| task.kind.is_human()).collect();
    if !checkpoints.is_empty() {
        let _ = writeln!(out, "Checkpoints of the original plan that did not pass come again, with a person:\n");
        for (task, state, reason) in checkpoints {
            let why = reason
                .and_then(|r| r.lines().map(str::trim).find(|l| !l.is_empty()))
                .map(|l| format!(": {}", code(&crate::report::ellipsize(l, 160))))
                .unwrap_or_default();
            let _ = writeln!(out, "- task {} ({}), {}{why}", task.id, task.kind, state.as_str());
        }
        out.push('\n');
    }
    let m = &source.plan.must_haves;
    if !(m.truths.is_empty() && m.artifacts.is_empty() && m.key_links.is_empty()) {
        let _ = writeln!(
            out,
            "The must_haves below are the original plan's: this plan is verified against the same bar.\n"
        );
    }
}

pub(super) fn write_must_haves(out: &mut String, plan: &Plan) {
    let m = &plan.must_haves;
    if m.truths.is_empty() && m.artifacts.is_empty() && m.key_links.is_empty() {
        return;
    }
    let _ = writeln!(out, "## must_haves\n");
    if !m.truths.is_empty() {
        let _ = writeln!(out, "### truths (observable outcomes)");
        for truth in &m.truths {
            let _ = writeln!(out, "- {}", inline_markdown(&truth.value));
        }
        out.push('\n');
    }
    if !m.artifacts.is_empty() {
        let _ = writeln!(out, "### artifacts (files produced)");
        for artifact in &m.artifacts {
            let _ = writeln!(out, "- {}", inline_markdown(&artifact.text));
        }
        out.push('\n');
    }
    if !m.key_links.is_empty() {
        let _ = writeln!(out, "### key_links (where breakage cascades)");
        for link in &m.key_links {
            let _ = writeln!(out, "- {}", inline_markdown(&link.text));
        }
        out.push('\n');
    }
}

/// Writes the waves; returns the new id of each task, wave by wave.
pub(super) fn write_waves(out: &mut String, source: &Source, waves: &[NewWave]) -> Vec<Vec<TaskId>> {
    let _ = writeln!(out, "## Waves\n");
    let mut ids = Vec::new();
    for (w, wave) in waves.iter().enumerate() {
        let number = w as u32 + 1;
        let mut clause =
            if number == 1 { "No dependencies.".to_owned() } else { format!("Depends on: Wave {}.", number - 1) };
        clause.push_str(if wave.sequential { " All tasks run sequentially." } else { " All tasks run in parallel." });
        if wave.ship_gate {
            clause.push_str(" Must pass before shipping.");
        }
        let _ = writeln!(out, "### Wave {number}: {}\n> {clause}\n", wave.name);
        let mut wave_ids = Vec::new();
        for (k, task) in wave.tasks.iter().enumerate() {
            let id = TaskId { wave: number, index: k as u32 + 1 };
            wave_ids.push(id);
            match task {
                NewTask::Fix(gaps) => write_fix(out, source, id, gaps),
                NewTask::Redo { task, state, reason, gaps } => write_redo(out, source, id, task, *state, *reason, gaps),
                NewTask::Gate { task, state, reason } => write_gate(out, source, id, task, *state, *reason),
            }
            out.push('\n');
        }
        ids.push(wave_ids);
    }
    ids
}

pub(super) fn write_fix(out: &mut String, source: &Source, id: TaskId, gaps: &[Gap]) {
    let titles = dedup(gaps.iter().map(|g| g.title.clone()));
    let title = match (titles.as_slice(), gaps[0].path.as_deref()) {
        ([one], _) => one.clone(),
        (_, Some(path)) if gaps.iter().all(|g| g.path.as_deref() == Some(path)) => {
            format!("Close the gaps in {}", title_text(path))
        }
        _ => format!("Close {} remaining gaps", gaps.len()),
    };
    let _ = writeln!(out, "**Task {id}: {}** (type: auto)", title_text(&title));
    let files = dedup(gaps.iter().flat_map(|g| g.files.iter().cloned()));
    write_files(out, &files);
    let intro = if gaps.len() == 1 {
        format!("Close a gap that run {} left.", code(&source.report.run))
    } else {
        format!("Close {} gaps that run {} left.", gaps.len(), code(&source.report.run))
    };
    let _ = write!(out, "- **Action**: {intro}");
    write_gap_paragraphs(out, gaps);
    out.push('\n');
    write_verify(out, None, gaps);
    let done = dedup(gaps.iter().map(|g| g.done.clone())).join(" ");
    let _ = writeln!(out, "- **Done**: {done}");
}

/// The paragraphs of `gaps` inside a list item: what is wrong, then the evidence in a fence.
pub(super) fn write_gap_paragraphs(out: &mut String, gaps: &[Gap]) {
    for gap in gaps {
        let _ = write!(out, "\n\n  {}", gap.what);
        if !gap.evidence.is_empty() {
            out.push_str("\n\n");
            out.push_str(fence(&gap.evidence, "  ").trim_end_matches('\n'));
        }
    }
}

pub(super) fn write_files(out: &mut String, files: &[String]) {
    let files: Vec<String> = files.iter().filter(|f| safe_path(f)).map(|f| code(f)).collect();
    if files.is_empty() {
        let _ = writeln!(out, "- **Files**: the files the findings below name");
    } else {
        let _ = writeln!(out, "- **Files**: {}", files.join(", "));
    }
}

/// `- **Verify**:` with the original's Verify (if any), the gaps' commands and their criteria.
pub(super) fn write_verify(out: &mut String, original: Option<&str>, gaps: &[Gap]) {
    let commands: Vec<String> = dedup(gaps.iter().flat_map(|g| g.commands.iter().cloned()));
    let criteria = dedup(gaps.iter().map(|g| g.criterion.clone())).join(" ");
    let mut value = String::new();
    if let Some(original) = original {
        value.push_str(original);
    }
    if !commands.is_empty() {
        if !value.is_empty() {
            value.push_str("\nAlso: ");
        }
        value.push_str(&commands.iter().map(|c| code(c)).collect::<Vec<_>>().join(", "));
        value.push('.');
    }
    if !criteria.is_empty() {
        if !value.is_empty() {
            value.push('\n');
        }
        value.push_str(&criteria);
    }
    if value.is_empty() {
        value.push_str("The gaps above are closed.");
    }
    write_field(out, "Verify", &value);
}

/// `- **Name**: value`, continuation lines indented under the item.
pub(super) fn write_field(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, "- **{name}**:");
    for (i, line) in value.trim_end().lines().enumerate() {
        if i == 0 {
            if !line.is_empty() {
                let _ = write!(out, " {line}");
            }
        } else if line.trim().is_empty() {
            out.push('\n');
        } else {
            let _ = write!(out, "\n  {line}");
        }
    }
    out.push('\n');
}

pub(super) fn write_redo(
    out: &mut String,
    source: &Source,
    id: TaskId,
    task: &plan::Task,
    state: TaskState,
    reason: Option<&str>,
    gaps: &[Gap],
) {
    let title = task.title.as_deref().map(|t| format!(": {}", title_text(t))).unwrap_or_default();
    let _ = writeln!(out, "**Task {id}{title}** (type: {})", task.kind);
    if let Some(files) = &task.files_text {
        let extra: Vec<String> = gaps
            .iter()
            .flat_map(|g| g.files.iter())
            .filter(|f| safe_path(f) && !task.files.iter().any(|t| &t.value == *f))
            .map(|f| code(f))
            .collect();
        let mut value = files.value.clone();
        if !extra.is_empty() {
            value = format!("{}, {}", value.trim_end(), dedup(extra).join(", "));
        }
        write_field(out, "Files", &value);
    } else if task.kind == TaskType::Auto {
        write_files(out, &dedup(gaps.iter().flat_map(|g| g.files.iter().cloned())));
    }
    let action = task.action.as_ref().map(|a| a.value.as_str()).filter(|a| !a.trim().is_empty());
    let mut value = action.map_or_else(|| format!("Do task {} of the original plan.", task.id), str::to_owned);
    if task.kind == TaskType::Auto {
        // A decision's options are read from its Action: only auto tasks get the story.
        let landed = match state {
            TaskState::Failed => "failed",
            TaskState::Skipped => "was skipped",
            _ => "did not finish",
        };
        let _ = write!(
            value,
            "\n\nThis is task {} of the original plan: it {landed} in run {}, and nothing of it landed.",
            task.id,
            code(&source.report.run)
        );
        let why = reason.map(evidence_lines).unwrap_or_default();
        if !why.is_empty() {
            value.push_str(" Why:\n\n");
            value.push_str(&fence(&why, ""));
        }
    }
    let mut text = String::new();
    write_field(&mut text, "Action", &value);
    out.push_str(text.trim_end_matches('\n'));
    write_gap_paragraphs(out, gaps);
    out.push('\n');
    let verify = task.verify.as_ref().map(|v| v.value.clone()).filter(|v| !v.trim().is_empty());
    if gaps.is_empty() {
        write_field(out, "Verify", verify.as_deref().unwrap_or("A person checks the result."));
    } else {
        write_verify(out, verify.as_deref(), gaps);
    }
    match &task.done {
        Some(done) if !done.trim().is_empty() => write_field(out, "Done", &done.value),
        _ if task.kind == TaskType::Auto => write_field(out, "Done", "The task's Action is done."),
        _ => {}
    }
    for field in &task.other_fields {
        write_field(out, &title_text(&field.name), &field.value);
    }
}

pub(super) fn write_gate(
    out: &mut String,
    source: &Source,
    id: TaskId,
    task: &plan::Task,
    state: TaskState,
    reason: Option<&str>,
) {
    let skills: Vec<&str> = task.skills.iter().map(|s| s.value.as_str()).collect();
    let title =
        task.title.as_deref().map_or_else(|| format!("Quality gate {}", title_text(&skills.join(", "))), title_text);
    let _ = writeln!(out, "**Task {id}: {title}** (type: checkpoint:gate)");
    let skill_list = if skills.is_empty() {
        "`production-engineer`".to_owned()
    } else {
        skills.iter().map(|s| code(s)).collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(out, "- **Skill**: {skill_list}");
    let mut value = task
        .action
        .as_ref()
        .map(|a| a.value.clone())
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| "Run the quality gates and fix what fails.".into());
    let how = match state {
        TaskState::Failed => "was not green",
        TaskState::Skipped => "was skipped",
        _ => "did not finish",
    };
    let _ = write!(
        value,
        "\n\nThis is gate {} of the original plan: it {how} in run {}.",
        task.id,
        code(&source.report.run)
    );
    let why = reason.map(evidence_lines).unwrap_or_default();
    if !why.is_empty() {
        value.push_str(" Its last word:\n\n");
        value.push_str(&fence(&why, ""));
    }
    write_field(out, "Action", &value);
    let verify = task.verify.as_ref().map(|v| v.value.clone()).filter(|v| !v.trim().is_empty());
    write_field(out, "Verify", verify.as_deref().unwrap_or("All gates pass."));
    let done = task.done.as_ref().map(|v| v.value.clone()).filter(|v| !v.trim().is_empty());
    write_field(out, "Done", done.as_deref().unwrap_or("The gate is green."));
}

pub(super) fn write_agents(out: &mut String, plan: &Plan, waves: &[NewWave], ids: &[Vec<TaskId>]) {
    let _ = writeln!(out, "## Agent Strategy\n");
    let _ = writeln!(out, "| Wave | Agent | Model | Tasks |\n|------|-------|-------|-------|");
    let mut fixers = 0;
    for (w, wave) in waves.iter().enumerate() {
        // Tasks that share a file go to one agent, which runs them one after the other.
        let files: Vec<Vec<Spanned<String>>> = wave.tasks.iter().map(NewTask::files).collect();
        let mut lane: Vec<usize> = (0..wave.tasks.len()).collect();
        fn root(lane: &mut [usize], mut i: usize) -> usize {
            while lane[i] != i {
                i = lane[i];
            }
            i
        }
        for a in 0..files.len() {
            for b in a + 1..files.len() {
                if plan::files_overlap(&files[a], &files[b]) {
                    let (ra, rb) = (root(&mut lane, a), root(&mut lane, b));
                    lane[rb] = ra;
                }
            }
        }
        let mut rows: Vec<(String, String, Vec<TaskId>)> = Vec::new();
        let mut row_of_root: HashMap<usize, usize> = HashMap::new();
        for (k, task) in wave.tasks.iter().enumerate() {
            let r = root(&mut lane, k);
            if let Some(&row) = row_of_root.get(&r) {
                rows[row].2.push(ids[w][k]);
                continue;
            }
            let agent = task
                .original()
                .and_then(|t| plan.agent_of(t.id))
                .map(|row| (one_line(&row.name), row.model.as_deref().map_or_else(|| "sonnet".to_owned(), one_line)));
            let (name, model) = match agent {
                Some((name, model)) => (name, model),
                None => {
                    fixers += 1;
                    (format!("Fixer {fixers}"), "sonnet".to_owned())
                }
            };
            match rows.iter().position(|(n, m, _)| *n == name && *m == model) {
                Some(row) => {
                    rows[row].2.push(ids[w][k]);
                    row_of_root.insert(r, row);
                }
                None => {
                    row_of_root.insert(r, rows.len());
                    rows.push((name, model, vec![ids[w][k]]));
                }
            }
        }
        for (name, model, tasks) in rows {
            let tasks: Vec<String> = tasks.iter().map(TaskId::to_string).collect();
            let _ = writeln!(out, "| {} | {} | {} | {} |", w + 1, cell(&name), cell(&model), tasks.join(", "));
        }
    }
    out.push('\n');
}

pub(super) fn write_commits(out: &mut String, plan: &Plan, milestone: &str, waves: &[NewWave], ids: &[Vec<TaskId>]) {
    let _ = writeln!(out, "## Commit Strategy\n\n```");
    for (w, wave) in waves.iter().enumerate() {
        for (k, task) in wave.tasks.iter().enumerate() {
            let kind = match task {
                NewTask::Fix(_) => "fix".to_owned(),
                NewTask::Redo { task, .. } if matches!(task.kind, TaskType::Auto | TaskType::HumanVerify) => plan
                    .commit_of(task.id)
                    .map(|line| line.message.chars().take_while(char::is_ascii_alphabetic).collect::<String>())
                    .filter(|kind| !kind.is_empty())
                    .unwrap_or_else(|| "feat".into()),
                _ => continue,
            };
            let _ = writeln!(out, "{kind}({milestone}): {{task {} description}}", ids[w][k]);
        }
    }
    let _ = writeln!(out, "```\n");
}

pub(super) fn write_verification(out: &mut String, source: &Source) {
    let plan = source.plan;
    let mut manual: Vec<String> = plan.verification.manual.iter().map(|m| inline_markdown(&m.value)).collect();
    if let Some(verification) = &source.report.verification {
        for item in verification.must_haves.iter().filter(|m| m.verdict == MustHaveStatus::Manual) {
            let what = match item.kind {
                MustHaveKind::Truth => "Confirm",
                MustHaveKind::Artifact => "Check the artifact",
                MustHaveKind::KeyLink => "Check the key link",
                MustHaveKind::Unknown(_) => "Check",
            };
            let step = format!("{what}: {}", inline_markdown(&item.item));
            if !manual.iter().any(|m| *m == step || m.as_str() == inline_markdown(&item.item)) {
                manual.push(step);
            }
        }
    }
    let automated = &plan.verification.automated;
    if automated.is_empty() && manual.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Verification\n");
    if !automated.is_empty() {
        let lines: Vec<String> = automated
            .iter()
            .map(|a| match &a.expectation {
                Some(e) => format!("{}    # {}", a.command, e),
                None => a.command.clone(),
            })
            .collect();
        let ticks = "`".repeat(3.max(lines.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0) + 1));
        let _ = writeln!(out, "### Automated\n{ticks}bash");
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "{ticks}\n");
    }
    if !manual.is_empty() {
        let _ = writeln!(out, "### Manual");
        for (i, step) in manual.iter().enumerate() {
            let _ = writeln!(out, "{}. {step}", i + 1);
        }
    }
}

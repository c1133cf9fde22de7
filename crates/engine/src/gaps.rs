//! The follow-up plan of a run (`wavecrew gaps`), as text in the plan format: one fix task per
//! red gate finding, must_have that does not hold or failed Automated command, the failed or
//! skipped tasks again, the gates that were not green in a ship-gate wave, the original
//! must_haves and Verification, and the truths nobody proved in `### Manual`.
//!
//! [`generate`] is pure: from a run's report and its plan to the follow-up's text, which `check`
//! accepts (the CLI checks it before writing it).

use crate::events::{GateCheck, MustHaveKind, MustHaveStatus, MustHaveVerdict, RunVerdict, TaskState};
use crate::report::Report;
use plan::{Plan, Span, Spanned, TaskId, TaskType};
use std::collections::HashMap;
use std::fmt::Write as _;

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
/// Lines of a message, reason or output kept as evidence.
const EVIDENCE_LINES: usize = 12;
/// Characters of an evidence line kept.
const EVIDENCE_WIDTH: usize = 240;

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

/// Every gap of the report that is not a task of the original plan: red gate findings, must_haves
/// that do not hold, failed Automated commands.
fn collect_gaps(source: &Source) -> Vec<Gap> {
    let report = source.report;
    let plan = source.plan;
    let mut gaps = Vec::new();
    if let Some(verification) = &report.verification {
        for verdict in &verification.must_haves {
            if let Some(gap) = must_have_gap(plan, verdict) {
                gaps.push(gap);
            }
        }
    }
    for gate in report.gates.iter().filter(|g| !g.passed) {
        let task = TaskId::parse(&gate.task).and_then(|id| plan.task(id));
        let commands: Vec<String> = match task {
            Some(task) if !task.verify_commands.is_empty() => {
                task.verify_commands.iter().map(|c| c.value.clone()).collect()
            }
            _ => plan.verification.automated.iter().map(|a| a.command.clone()).collect(),
        };
        let fallback = gate_files(plan, task);
        for finding in &gate.findings {
            let path = finding.location.as_deref().map(location_path).filter(|p| safe_path(p));
            let place = finding.location.as_deref().map(|l| format!(" at {}", code(l))).unwrap_or_default();
            let commands = if matches!(
                finding.check,
                GateCheck::Command | GateCheck::Tests | GateCheck::Coverage | GateCheck::TypeCheck
            ) {
                commands.iter().filter(|c| !c.contains('\n')).cloned().collect()
            } else {
                Vec::new()
            };
            let skill = title_text(&gate.skill);
            gaps.push(Gap {
                title: match &path {
                    Some(path) => format!("Fix the {skill} findings in {}", title_text(path)),
                    None => format!("Make the {skill} gate green"),
                },
                files: path.clone().map_or_else(|| fallback.clone(), |p| vec![p]),
                path,
                group: format!("gate {} {}", gate.task, gate.skill),
                what: format!(
                    "The {} quality gate (task {} of the original plan, round {}) found a {} problem{place}. Fix its cause in the code, not the check, so that the gate finds nothing more. What it found:",
                    code(&gate.skill),
                    code(&gate.task),
                    gate.round,
                    code(finding.check.as_str()),
                ),
                evidence: evidence_lines(&finding.message),
                commands,
                criterion: format!("The {skill} gate at the end of this plan no longer reports it."),
                done: format!("The {} finding{place} is fixed at its cause.", code(finding.check.as_str())),
            });
        }
    }
    if let Some(verification) = &report.verification {
        // An unchecked expectation is a person's to check (the Manual checklist), not a gap.
        for failed in verification.automated.iter().filter(|a| a.status == crate::events::AutomatedStatus::Failed) {
            let expected =
                failed.expectation.as_deref().map(|e| format!(" (expected: {})", code(e))).unwrap_or_default();
            let command = one_line(&failed.command);
            gaps.push(Gap {
                path: None,
                group: format!("automated {}", failed.command),
                title: format!("Make {} pass", title_text(&crate::report::ellipsize(&command, 48))),
                files: all_files(plan),
                what: format!(
                    "The Verification command {}{expected} failed on the finished run branch. Fix the code it checks (not the command) so that it passes. What it said:",
                    code(&failed.command)
                ),
                evidence: evidence_lines(&failed.detail),
                commands: if failed.command.contains('\n') { Vec::new() } else { vec![failed.command.clone()] },
                criterion: match &failed.expectation {
                    Some(e) => format!("The Verification command passes (expected: {}).", plain(e)),
                    None => "The Verification command passes.".into(),
                },
                done: format!("{} passes.", code(&failed.command)),
            });
        }
    }
    gaps
}

/// The gap of a must_have that does not hold, with what to do about it.
fn must_have_gap(plan: &Plan, verdict: &MustHaveVerdict) -> Option<Gap> {
    let evidence = evidence_lines(&verdict.evidence);
    if verdict.kind == MustHaveKind::KeyLink {
        if verdict.verdict != MustHaveStatus::NotWired {
            return None;
        }
        let references: Vec<String> = plan
            .must_haves
            .key_links
            .iter()
            .find(|l| l.text == verdict.item)
            .map(|l| l.references.clone())
            .unwrap_or_default();
        let paths: Vec<String> =
            references.iter().filter(|r| (r.contains('/') || r.contains('.')) && safe_path(r)).cloned().collect();
        let mut commands: Vec<String> = paths.iter().map(|p| format!("test -e {}", sh_quote(p))).collect();
        for pair in paths.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            commands.push(format!(
                "grep -qwF -e {} {} || grep -qwF -e {} {}",
                sh_quote(&stem(b)),
                sh_quote(a),
                sh_quote(&stem(a)),
                sh_quote(b)
            ));
        }
        let names = if references.is_empty() {
            String::new()
        } else {
            format!(" It names {}.", references.iter().map(|r| code(r)).collect::<Vec<_>>().join(", "))
        };
        let mut quoted = evidence_lines(&verdict.item);
        quoted.insert(0, "key link:".into());
        quoted.push("verdict: NOT_WIRED".into());
        quoted.extend(evidence);
        return Some(Gap {
            path: paths.first().cloned(),
            group: format!("key link {}", verdict.item),
            title: match paths.as_slice() {
                [a, b, ..] => format!("Connect {} and {}", title_text(a), title_text(b)),
                _ => "Make a key link of the must_haves hold".into(),
            },
            files: if paths.is_empty() { all_files(plan) } else { paths.clone() },
            what: format!(
                "A key link of the must_haves does not hold (NOT_WIRED).{names} Make the files it names exist and refer to each other the way it says (an import, a call, a link). The link and what the check found:"
            ),
            evidence: quoted,
            commands,
            criterion: "The files of the key link exist and refer to each other.".into(),
            done: "The key link holds: the follow-up run's verification finds it VERIFIED.".into(),
        });
    }
    if verdict.kind != MustHaveKind::Artifact
        || !matches!(verdict.verdict, MustHaveStatus::Stub | MustHaveStatus::Orphaned | MustHaveStatus::Missing)
    {
        return None;
    }
    let path = Some(verdict.item.clone()).filter(|p| safe_path(p));
    let shown = code(&verdict.item);
    let quoted = sh_quote(&verdict.item);
    let mut gap = Gap {
        files: path.clone().map_or_else(|| all_files(plan), |p| vec![p]),
        path: path.clone(),
        group: format!("artifact {}", verdict.item),
        title: String::new(),
        what: String::new(),
        evidence,
        commands: Vec::new(),
        criterion: String::new(),
        done: String::new(),
    };
    let name = title_text(&verdict.item);
    let plain_name = plain(&verdict.item);
    match verdict.verdict {
        MustHaveStatus::Stub => {
            gap.title = format!("Replace the stub in {name}");
            gap.what = format!(
                "The must_have artifact {shown} is a stub (STUB). Replace it with a real, complete implementation of what the plan's must_haves and Context ask for, keeping the names the rest of the code uses. What the check found:"
            );
            if path.is_some() {
                gap.commands = vec![
                    format!("test -s {quoted}"),
                    format!(
                        "! grep -nE 'NotImplementedError|unimplemented!|todo!\\(|[Nn]ot (yet )?implemented' {quoted}"
                    ),
                ];
            }
            gap.criterion = format!("{plain_name} holds a real implementation: no stub is left.");
            gap.done = format!("{shown} is substantive and used.");
        }
        MustHaveStatus::Missing => {
            gap.title = format!("Create {name}");
            gap.what = format!(
                "The must_have artifact {shown} is not on the run branch (MISSING). Create it with a real implementation, and make the code that should use it refer to it. What the check found:"
            );
            if path.is_some() {
                gap.commands = vec![format!("test -s {quoted}")];
            }
            gap.criterion = format!("{plain_name} exists and is not empty.");
            gap.done = format!("{shown} exists, is substantive and is used.");
        }
        _ => {
            gap.title = format!("Wire {name} into the code");
            gap.what = format!(
                "The must_have artifact {shown} is substantive, but nothing uses it (ORPHANED): no file imports it, runs it or names it where its toolchain would, no convention runs it and no command of the plan does. Make the code that should use it import it (or run it, register it, link it) the way the project's tools resolve it; a name in a comment, a string or a Markdown file does not count. What the check found:"
            );
            // No `git grep` Verify: a name in a comment would satisfy it and prove nothing;
            // the follow-up run's own verification judges the wiring.
            gap.criterion = format!("The code that should use {plain_name} imports or runs it.");
            gap.done = format!("{shown} is used by the code that needs it.");
        }
    }
    Some(gap)
}

/// Gaps grouped into tasks: those about the same file together, those of the same gate (or
/// command) without a file together; in the order they were found.
fn group(gaps: Vec<Gap>) -> Vec<Vec<Gap>> {
    let mut groups: Vec<Vec<Gap>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for gap in gaps {
        let key = gap.path.as_ref().map_or_else(|| format!("group:{}", gap.group), |p| format!("path:{p}"));
        match index.get(&key) {
            Some(&at) => groups[at].push(gap),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![gap]);
            }
        }
    }
    groups
}

/// The files of the tasks a gate checks: the auto tasks of the waves its wave depends on (else
/// of the whole plan).
fn gate_files(plan: &Plan, gate: Option<&plan::Task>) -> Vec<String> {
    let waves: Vec<u32> = gate
        .and_then(|g| plan.wave(g.wave))
        .map(|w| w.depends_on.iter().map(|d| d.value).collect())
        .unwrap_or_default();
    let files = dedup(
        plan.tasks
            .iter()
            .filter(|t| t.kind == TaskType::Auto && waves.contains(&t.wave))
            .flat_map(|t| t.files.iter().map(|f| f.value.clone())),
    );
    if files.is_empty() { all_files(plan) } else { files }
}

/// Every file the auto tasks of the plan name.
fn all_files(plan: &Plan) -> Vec<String> {
    dedup(plan.tasks.iter().filter(|t| t.kind == TaskType::Auto).flat_map(|t| t.files.iter().map(|f| f.value.clone())))
}

fn dedup(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn write_context(out: &mut String, source: &Source, undone: &[(&plan::Task, TaskState, Option<&str>)]) {
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
        code(&crate::run::branch_name(source.milestone)),
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

fn write_must_haves(out: &mut String, plan: &Plan) {
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
fn write_waves(out: &mut String, source: &Source, waves: &[NewWave]) -> Vec<Vec<TaskId>> {
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

fn write_fix(out: &mut String, source: &Source, id: TaskId, gaps: &[Gap]) {
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
fn write_gap_paragraphs(out: &mut String, gaps: &[Gap]) {
    for gap in gaps {
        let _ = write!(out, "\n\n  {}", gap.what);
        if !gap.evidence.is_empty() {
            out.push_str("\n\n");
            out.push_str(fence(&gap.evidence, "  ").trim_end_matches('\n'));
        }
    }
}

fn write_files(out: &mut String, files: &[String]) {
    let files: Vec<String> = files.iter().filter(|f| safe_path(f)).map(|f| code(f)).collect();
    if files.is_empty() {
        let _ = writeln!(out, "- **Files**: the files the findings below name");
    } else {
        let _ = writeln!(out, "- **Files**: {}", files.join(", "));
    }
}

/// `- **Verify**:` with the original's Verify (if any), the gaps' commands and their criteria.
fn write_verify(out: &mut String, original: Option<&str>, gaps: &[Gap]) {
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
fn write_field(out: &mut String, name: &str, value: &str) {
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

fn write_redo(
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

fn write_gate(
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

fn write_agents(out: &mut String, plan: &Plan, waves: &[NewWave], ids: &[Vec<TaskId>]) {
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

fn write_commits(out: &mut String, plan: &Plan, milestone: &str, waves: &[NewWave], ids: &[Vec<TaskId>]) {
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

fn write_verification(out: &mut String, source: &Source) {
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

/// `text` on one line: mojibake repaired, control characters and escape sequences gone, line
/// breaks as spaces.
fn one_line(text: &str) -> String {
    clean(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text from a run (output, messages): mojibake repaired, terminal escape sequences dropped,
/// other control characters but tabs and line breaks replaced, tabs as spaces.
fn clean(text: &str) -> String {
    let text = plan::text::repair(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI sequences (`ESC [ ... letter`), colours mostly; other escapes lose their ESC.
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for n in chars.by_ref() {
                        if n.is_ascii_alphabetic() || n == '~' {
                            break;
                        }
                    }
                }
            }
            '\t' => out.push_str("    "),
            '\n' => out.push('\n'),
            '\r' => {}
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The first lines of `text` (blank ones at either end dropped), each cut to a width, with a
/// last line saying how many were left out.
fn evidence_lines(text: &str) -> Vec<String> {
    let cleaned = clean(text);
    let lines: Vec<&str> = cleaned.trim_matches('\n').lines().map(str::trim_end).collect();
    let start = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(lines.len());
    let lines = &lines[start..];
    let mut out: Vec<String> =
        lines.iter().take(EVIDENCE_LINES).map(|l| crate::report::ellipsize(l, EVIDENCE_WIDTH)).collect();
    if lines.len() > EVIDENCE_LINES {
        out.push(format!("… ({} more lines)", lines.len() - EVIDENCE_LINES));
    }
    out
}

/// `lines` in a fenced code block indented by `indent`, its fence longer than any run of
/// backticks inside, so that nothing in them is Markdown.
fn fence(lines: &[String], indent: &str) -> String {
    let longest = lines.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0);
    let ticks = "`".repeat(3.max(longest + 1));
    let mut out = format!("{indent}{ticks}text\n");
    for line in lines {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    let _ = writeln!(out, "{indent}{ticks}");
    out
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// `text` as an inline code span, on one line: nothing in it is Markdown (nor a placeholder).
fn code(text: &str) -> String {
    let text = one_line(text);
    if text.is_empty() {
        return "` `".into();
    }
    let ticks = longest_run(&text, '`');
    if ticks == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(ticks + 1);
    format!("{fence} {text} {fence}")
}

/// Markdown from the original plan on one line; quoted as code when it holds a `{...}` that
/// `check` would take for an unfilled placeholder.
fn inline_markdown(text: &str) -> String {
    let line = one_line(text);
    if plan::text::find_placeholders(&line).is_empty() && !line.starts_with(['#', '>', '<', '|']) {
        line
    } else {
        code(&line)
    }
}

/// Text for a task title (inside `**...**`) or a wave name: no Markdown, no braces.
fn title_text(text: &str) -> String {
    crate::report::ellipsize(&plain(text), 80)
}

/// Prose for a Verify criterion, where every code span would be a command: no Markdown.
fn plain(text: &str) -> String {
    let mapped: String = one_line(text)
        .chars()
        .map(|c| match c {
            '`' | '<' | '>' | '[' | ']' | '|' | '\\' | '*' => ' ',
            '{' => '(',
            '}' => ')',
            c => c,
        })
        .collect();
    crate::report::ellipsize(&mapped.split_whitespace().collect::<Vec<_>>().join(" "), 200)
}

/// A table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// `path:12` or `path:12:3` → `path`.
fn location_path(location: &str) -> String {
    let mut path = location.trim();
    while let Some((head, tail)) = path.rsplit_once(':') {
        if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
        path = head;
    }
    path.trim_start_matches("./").to_owned()
}

/// A path `check` accepts in **Files**: relative, inside the repository, on one line.
pub fn safe_path(path: &str) -> bool {
    let absolute = path.starts_with(['/', '\\', '~'])
        || (path.len() >= 3
            && path.as_bytes()[1] == b':'
            && matches!(path.as_bytes()[2], b'/' | b'\\')
            && path.as_bytes()[0].is_ascii_alphabetic());
    !path.trim().is_empty()
        && !absolute
        && !path.split(['/', '\\']).any(|part| part == "..")
        && !path.chars().any(|c| c.is_control() || c == ',')
}

/// The file name without folders and extension: what code that uses a file names it by.
fn stem(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().filter(|s| !s.is_empty()).unwrap_or(name);
    stem.to_owned()
}

/// `text` quoted for `sh` (only when it needs quotes).
fn sh_quote(text: &str) -> String {
    shell_words::quote(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{AutomatedResult, GateFinding};
    use crate::journal::TaskRecord;
    use crate::report::{GateReport, TaskReport, Verification};
    use plan::Severity;

    const PLAN: &str = "# M7 Implementation Plan: Base

## Context

Base.

## must_haves

### truths (observable outcomes)
- It works

### artifacts (files produced)
- `src/a.py`

### key_links (where breakage cascades)
- `src/a.py` feeds `src/b.py`

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: `src/a.py`, `src/b.py`
- **Action**: Build it
- **Verify**: `true`
- **Done**: built

**Task 1.2** (type: auto)
- **Files**: `src/c.py`
- **Action**: Build c
- **Verify**: `python3 -c 'import c'`
- **Done**: c built

### Wave 2: Gates
> Depends on: Wave 1. Must pass before shipping.

**Task 2.1: Audit** (type: checkpoint:gate)
- **Skill**: `security-auditor`
- **Action**: Audit
- **Verify**: No findings.
- **Done**: 0 vulnerabilities

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Dev | haiku | 1.1, 1.2 |
| 2 | Auditor | opus | 2.1 |

## Verification

### Automated
```bash
make test    # 0 failures
```

### Manual
1. Try it
";

    /// Markdown, HTML, template braces, mojibake, escapes, and lines that look like plan structure.
    const NASTY: &str = "| a | b |\n`tick` ``` ```` fence\n<script>alert('x')</script>\n{{placeholder}} {placeholder} M{N}\n\
                         gates â€” unit tests\n# heading\n> quote\n- **Verify**: `rm -rf /`\n**Task 9.9** (type: auto)\n\
                         ## Waves\n\u{1b}[31mred\u{1b}[0m \u{7} \0 end\n\n\n";

    fn task(id: &str, state: TaskState, reason: Option<&str>) -> TaskReport {
        TaskReport {
            record: TaskRecord {
                task: id.into(),
                state,
                attempts: 1,
                lane: None,
                commit: None,
                reason: reason.map(str::to_owned),
            },
            duration_ms: 0,
            model: None,
            verify: Vec::new(),
            tokens_in: 0,
            tokens_out: 0,
            cost_usd: None,
        }
    }

    fn verdict(kind: MustHaveKind, item: &str, verdict: MustHaveStatus, evidence: &str) -> MustHaveVerdict {
        MustHaveVerdict { kind, item: item.into(), verdict, evidence: evidence.into() }
    }

    fn report(tasks: Vec<TaskReport>, gates: Vec<GateReport>, verification: Option<Verification>) -> Report {
        Report {
            run: "20261127-041502-3f9a".into(),
            milestone: "M7".into(),
            title: format!("Base {NASTY}"),
            state: "failed".into(),
            branch: "wavecrew/M7".into(),
            base: "0123456789abcdef".into(),
            duration_ms: 0,
            tasks,
            checkpoints: Vec::new(),
            gates,
            verification,
        }
    }

    /// The plan `check` sees, with its errors, placeholders and mojibake (none of them allowed).
    fn checked(text: &str) -> Plan {
        let parsed = plan::parse(text, "gaps");
        let bad: Vec<String> = parsed
            .diagnostics
            .iter()
            .filter(|d| {
                d.severity() == Severity::Error
                    || matches!(
                        d.code,
                        plan::Code::UnfilledPlaceholder
                            | plan::Code::Mojibake
                            | plan::Code::UnknownSection
                            | plan::Code::MissingTitle
                            | plan::Code::UnassignedTask
                    )
            })
            .map(|d| format!("{:?} at {}: {}", d.code, d.span.start, d.message))
            .collect();
        assert!(bad.is_empty(), "{bad:#?}\n{text}");
        parsed.plan
    }

    #[test]
    fn evidence_full_of_markdown_never_breaks_the_plan() {
        let original = plan::parse(PLAN, "x").plan;
        let gates = vec![GateReport {
            task: "2.1".into(),
            skill: "security-auditor".into(),
            round: 1,
            verdict: crate::events::GateVerdict::Red,
            passed: false,
            unverified: Vec::new(),
            findings: vec![
                GateFinding {
                    // A check this version does not know (a newer journal's) is escaped too.
                    check: GateCheck::Unknown("pattern|`x`".into()),
                    message: NASTY.into(),
                    location: Some("src/a|b`c.py:3".into()),
                },
                GateFinding { check: GateCheck::Secret, message: NASTY.into(), location: Some("/etc/passwd:1".into()) },
                GateFinding { check: GateCheck::Secret, message: NASTY.into(), location: Some("../out.py:2:7".into()) },
                GateFinding { check: GateCheck::Dependency, message: NASTY.into(), location: None },
            ],
            metrics: Vec::new(),
            notes: Vec::new(),
            rounds: Vec::new(),
        }];
        let verification = Verification {
            verdict: RunVerdict::Failed,
            must_haves: vec![
                verdict(
                    MustHaveKind::Truth,
                    "Shows {{x}} and {placeholder} | `tick",
                    MustHaveStatus::Manual,
                    "a person",
                ),
                verdict(MustHaveKind::Truth, "<script>x</script> {y}", MustHaveStatus::Manual, "a person"),
                verdict(MustHaveKind::Artifact, "weird `name` {x}.py", MustHaveStatus::Stub, NASTY),
                verdict(MustHaveKind::Artifact, "gone it's.py", MustHaveStatus::Missing, NASTY),
                verdict(MustHaveKind::Artifact, "lib/extra.py", MustHaveStatus::Orphaned, NASTY),
                verdict(MustHaveKind::KeyLink, "`src/a.py` feeds `src/b.py`", MustHaveStatus::NotWired, NASTY),
                verdict(MustHaveKind::Artifact, "src/a.py", MustHaveStatus::Verified, "fine"),
            ],
            automated: vec![AutomatedResult {
                command: "echo `date` | grep -c '{x}' ```".into(),
                expectation: Some("{count} | ``` lines".into()),
                status: crate::events::AutomatedStatus::Failed,
                exit_code: Some(1),
                detail: NASTY.into(),
            }],
            manual: vec!["Try it".into()],
            manual_signed_off: false,
        };
        let tasks = vec![
            task("1.1", TaskState::Committed, None),
            task("1.2", TaskState::Failed, Some(NASTY)),
            task("2.1", TaskState::Failed, Some(NASTY)),
        ];
        let report = report(tasks, gates, Some(verification));
        let source = Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: None };
        let text = generate(&source).expect("gaps");
        let plan = checked(&text);
        assert_eq!(plan.milestone, "M7-gaps");
        assert!(plan.title.starts_with("Close the gaps of Base"), "{}", plan.title);
        for task in &plan.tasks {
            for command in &task.verify_commands {
                assert!(!command.value.contains("rm -rf"), "evidence never becomes a command: {text}");
            }
        }
        // The fixes, the redone task 1.2 (with it), then the gate again.
        let waves: Vec<(&str, usize)> =
            plan.waves.iter().map(|w| (w.name.as_deref().unwrap_or(""), w.tasks.len())).collect();
        assert_eq!(waves.first().map(|w| w.0), Some("Fixes"), "{text}");
        assert_eq!(waves.last().copied(), Some(("Quality Gates", 1)), "{text}");
        let gate = plan.tasks.last().unwrap();
        assert_eq!(gate.kind, TaskType::Gate);
        assert_eq!(gate.skills[0].value, "security-auditor");
        assert_eq!(
            plan.agent_of(gate.id).map(|a| (a.name.as_str(), a.model.as_deref())),
            Some(("Auditor", Some("opus")))
        );
        // No path outside the repository gets into Files; the odd one inside does.
        let files: Vec<&str> = plan.tasks.iter().flat_map(|t| t.files.iter().map(|f| f.value.as_str())).collect();
        assert!(!files.iter().any(|f| f.contains("passwd") || f.contains("..")), "{files:?}");
        assert!(files.contains(&"src/a|b`c.py"), "{files:?}");
        // The failed Automated command is a Verify command of its task, verbatim.
        assert!(
            plan.tasks.iter().any(|t| t.verify_commands.iter().any(|c| c.value == "echo `date` | grep -c '{x}' ```")),
            "{text}"
        );
        let manual: Vec<&str> = plan.verification.manual.iter().map(|m| m.value.as_str()).collect();
        assert_eq!(manual.len(), 3, "{manual:?}");
        assert_eq!(manual[0], "Try it");
        assert_eq!(plan.must_haves.artifacts[0].path.as_deref(), Some("src/a.py"));
        assert_eq!(plan.verification.automated[0].command, "make test");
        assert!(text.contains("gates — unit tests") && !text.contains('\u{1b}') && !text.contains('\0'), "{text}");
    }

    #[test]
    fn a_review_finding_is_fixed_at_its_place_and_an_unproven_truth_is_a_manual_step() {
        let original = plan::parse(PLAN, "x").plan;
        let gates = vec![GateReport {
            task: "2.1".into(),
            skill: "security-auditor".into(),
            round: 2,
            verdict: crate::events::GateVerdict::Red,
            passed: false,
            unverified: Vec::new(),
            findings: vec![GateFinding {
                check: GateCheck::Review,
                message: "P2 Input validation at trust boundaries: `name` may hold `../` (FAIL in the agent's review, at src/a.py:5)".into(),
                location: Some("src/a.py:5".into()),
            }],
            metrics: Vec::new(),
            notes: vec!["FAIL without valid evidence: P5 Secrets handling: a guess; cited src/a.py:999 does not exist".into()],
            rounds: Vec::new(),
        }];
        let verification = Verification {
            verdict: RunVerdict::Unverified,
            must_haves: vec![verdict(
                MustHaveKind::Truth,
                "It greets the world",
                MustHaveStatus::Manual,
                "UNPROVEN by the verifier: no test shows it",
            )],
            automated: Vec::new(),
            manual: Vec::new(),
            manual_signed_off: false,
        };
        let tasks = vec![
            task("1.1", TaskState::Committed, None),
            task("1.2", TaskState::Committed, None),
            task("2.1", TaskState::Failed, Some("needs-human: the gate is still red")),
        ];
        let report = report(tasks, gates, Some(verification));
        let source = Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: None };
        let text = generate(&source).expect("gaps");
        let plan = checked(&text);
        let fix = &plan.tasks[0];
        assert_eq!(fix.files.iter().map(|f| f.value.as_str()).collect::<Vec<_>>(), ["src/a.py"], "{text}");
        let action = &fix.action.as_ref().unwrap().value;
        assert!(action.contains("found a `review` problem at `src/a.py:5`") && action.contains("may hold"), "{text}");
        assert!(!text.contains("P5 Secrets handling"), "a FAIL without evidence is not a gap: {text}");
        let manual: Vec<&str> = plan.verification.manual.iter().map(|m| m.value.as_str()).collect();
        assert_eq!(manual, ["Try it", "Confirm: It greets the world"], "the plan's Manual steps, then the truths");
    }

    #[test]
    fn many_gaps_are_capped_and_the_rest_merged_into_one_task() {
        let original = plan::parse(PLAN, "x").plan;
        let must_haves: Vec<MustHaveVerdict> = (0..30)
            .map(|i| verdict(MustHaveKind::Artifact, &format!("gen/f{i}.py"), MustHaveStatus::Missing, "not there"))
            .collect();
        let verification = Verification {
            verdict: RunVerdict::Failed,
            must_haves,
            automated: Vec::new(),
            manual: Vec::new(),
            manual_signed_off: false,
        };
        let tasks = vec![task("1.1", TaskState::Committed, None), task("1.2", TaskState::Committed, None)];
        let report = report(tasks, Vec::new(), Some(verification));
        let source = Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: None };
        let text = generate(&source).unwrap();
        let plan = checked(&text);
        assert_eq!(plan.tasks.len(), MAX_FIX_TASKS, "{text}");
        let last = plan.tasks.last().unwrap();
        assert_eq!(last.files.len(), 11, "gen/f19.py to gen/f29.py");
        assert_eq!(last.title.as_deref(), Some("Close 11 remaining gaps"));
        // Different files: one agent each, all in parallel.
        assert_eq!(plan.agents.len(), MAX_FIX_TASKS);
    }

    #[test]
    fn nothing_undone_is_nothing_to_close() {
        let original = plan::parse(PLAN, "x").plan;
        let verification = Verification {
            verdict: RunVerdict::Passed,
            must_haves: vec![
                verdict(MustHaveKind::Truth, "It works", MustHaveStatus::Manual, "a person"),
                verdict(MustHaveKind::Artifact, "src/a.py", MustHaveStatus::Verified, "ok"),
            ],
            automated: Vec::new(),
            manual: Vec::new(),
            manual_signed_off: false,
        };
        let tasks = ["1.1", "1.2", "2.1"].map(|id| task(id, TaskState::Committed, None)).into();
        let report = report(tasks, Vec::new(), Some(verification));
        let source = Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: None };
        assert!(generate(&source).is_none());
    }

    #[test]
    fn skipped_work_keeps_its_wave_order_and_gaps_join_the_task_of_their_file() {
        let original = plan::parse(PLAN, "x").plan;
        let verification = Verification {
            verdict: RunVerdict::Unverified,
            must_haves: vec![verdict(
                MustHaveKind::Artifact,
                "src/c.py",
                MustHaveStatus::Missing,
                "`src/c.py` is not on the run branch",
            )],
            automated: Vec::new(),
            manual: Vec::new(),
            manual_signed_off: false,
        };
        let tasks = vec![
            task("1.1", TaskState::Committed, None),
            task("1.2", TaskState::Failed, Some("Verify `python3 -c 'import c'` exited with code 1")),
            task("2.1", TaskState::Skipped, Some("task 1.2 failed")),
        ];
        let report = report(tasks, Vec::new(), Some(verification));
        let source =
            Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: Some("abcdef0123456") };
        let text = generate(&source).unwrap();
        let plan = checked(&text);
        let ids: Vec<String> = plan.tasks.iter().map(|t| t.id.to_string()).collect();
        assert_eq!(ids, ["1.1", "2.1"], "{text}");
        let redo = &plan.tasks[0];
        assert_eq!(redo.files[0].value, "src/c.py");
        let commands: Vec<&str> = redo.verify_commands.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(commands, ["python3 -c 'import c'", "test -s src/c.py"], "{text}");
        assert!(redo.action.as_ref().unwrap().contains("MISSING"), "{text}");
        assert_eq!(plan.waves[0].name.as_deref(), Some("Finish Build"));
        assert!(plan.context.contains("`abcdef0123`"), "{}", plan.context);
        // The redone task keeps its agent; the commit line its (default) type.
        assert_eq!(plan.agent_of(redo.id).map(|a| a.name.as_str()), Some("Dev"));
        assert!(text.contains("feat(M7-gaps): {task 1.1 description}"), "{text}");
    }

    #[test]
    fn follow_up_ids_count_up() {
        assert_eq!(follow_up_id("M1"), "M1-gaps");
        assert_eq!(follow_up_id("M1-gaps"), "M1-gaps2");
        assert_eq!(follow_up_id("M1-gaps9"), "M1-gaps10");
        assert_eq!(follow_up_id("M1-gapsx"), "M1-gapsx-gaps");
        assert_eq!(follow_up_id("{N}"), "N-gaps");
    }

    #[test]
    fn text_helpers_quote_what_they_must() {
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(location_path("src/a.rs:12:3"), "src/a.rs");
        assert_eq!(location_path("./a.rs"), "a.rs");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote("src/a.py"), "src/a.py");
        assert_eq!(stem("src/components/LoginForm.tsx"), "LoginForm");
        assert!(!safe_path("../a") && !safe_path("/a") && !safe_path("C:/a") && safe_path("a/b.c"));
        assert_eq!(evidence_lines("\n\nx\n\u{1b}[1my\u{1b}[0m\n"), ["x", "y"]);
    }
}

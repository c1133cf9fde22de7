//! Collecting the gaps of a run: the red gate findings, the must_haves that do not hold and the
//! failed Automated commands, each as a piece of a fix task, and grouping them into tasks.

use super::text::{code, evidence_lines, location_path, one_line, plain, safe_path, sh_quote, stem, title_text};
use super::{Gap, Source, dedup};
use crate::events::{GateCheck, MustHaveKind, MustHaveStatus, MustHaveVerdict};
use plan::{Plan, TaskId, TaskType};
use std::collections::HashMap;

/// Every gap of the report that is not a task of the original plan: red gate findings, must_haves
/// that do not hold, failed Automated commands.
pub(super) fn collect_gaps(source: &Source) -> Vec<Gap> {
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
pub(super) fn must_have_gap(plan: &Plan, verdict: &MustHaveVerdict) -> Option<Gap> {
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
pub(super) fn group(gaps: Vec<Gap>) -> Vec<Vec<Gap>> {
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
pub(super) fn gate_files(plan: &Plan, gate: Option<&plan::Task>) -> Vec<String> {
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
pub(super) fn all_files(plan: &Plan) -> Vec<String> {
    dedup(plan.tasks.iter().filter(|t| t.kind == TaskType::Auto).flat_map(|t| t.files.iter().map(|f| f.value.clone())))
}

//! spec-kit's `tasks.md` (github/spec-kit, `templates/tasks-template.md`, written by `/tasks`).
//!
//! `# Tasks: <feature>`, then `## Phase N: <name>` sections of checklist items
//! `- [ ] T001 [P] [US1] Description with file path`, with `**Purpose**`, `**Goal**`,
//! `**Independent Test**` and `**Checkpoint**` lines, then `## Dependencies & Execution Order`
//! (`### Phase Dependencies` bullets such as `- **Foundational (Phase 2)**: Depends on Setup
//! completion`), a parallel example, the implementation strategy and notes.
//!
//! Mapping: tasks run in order and `[P]` tasks may run together, so a phase becomes waves: each
//! run of consecutive `[P]` tasks one parallel wave, each run of other tasks one sequential wave,
//! each waiting for the one before. A phase's first wave waits for the last wave of the phases
//! its Phase Dependencies bullet names (`No dependencies`, `Depends on Setup`, `All depend on
//! Foundational`, `Depends on all ... user stories`), else for the phase before it. Ids (`T001`)
//! and story labels (`[US1]`) stay in the titles; checked tasks (`[X]`) are left out and listed
//! in the Context; every other line is kept in the Context.

use crate::draft::{Draft, DraftTask, DraftWave, code, one_line};
use crate::{Format, ImportError, Imported, Options, Source};

/// A `## Phase N: name` section.
#[derive(Default)]
struct Phase {
    number: String,
    name: String,
    /// Lines that are not tasks.
    text: Vec<String>,
    tasks: Vec<SpecTask>,
    /// The Independent Test line, the Verify of its tasks.
    independent_test: Option<String>,
}

struct SpecTask {
    id: String,
    parallel: bool,
    /// `[US1]` and other bracketed labels, as written.
    labels: Vec<String>,
    description: String,
    done: bool,
    /// The `###` group it is under (`Tests for User Story 1`).
    group: Option<String>,
    line: usize,
}

/// Whether `text` looks like a spec-kit tasks.md: checklist items with `T001` ids.
pub(crate) fn looks_like(text: &str) -> bool {
    text.lines().any(|line| task_line(line, 0).is_some())
}

pub(crate) fn import(source: &Source<'_>, options: &Options) -> Result<Imported, ImportError> {
    let file = source.name;
    let text = source.text.trim_start_matches('\u{feff}');
    let mut title = String::new();
    let mut preamble: Vec<String> = Vec::new();
    // The template opens with YAML frontmatter (`description: ...`): kept in the Context.
    let mut skip = 0;
    if text.starts_with("---")
        && let Some(end) = text.lines().skip(1).position(|l| l.trim() == "---")
    {
        skip = end + 2;
        let front: Vec<&str> = text.lines().skip(1).take(end).filter(|l| !l.trim().is_empty()).collect();
        if !front.is_empty() {
            preamble.push(format!("spec-kit frontmatter: {}", front.join("; ")));
        }
    }
    let mut phases: Vec<Phase> = Vec::new();
    let mut others: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_phase = false;
    let mut group: Option<String> = None;
    let mut in_comment = false;
    for (index, line) in text.lines().enumerate().skip(skip) {
        // The template's HTML comments are instructions to the agent that writes tasks.md.
        if in_comment || line.trim_start().starts_with("<!--") {
            in_comment = !line.contains("-->");
            continue;
        }
        if let Some(heading) = line.strip_prefix("# ")
            && title.is_empty()
        {
            title = heading.trim().trim_start_matches("Tasks:").trim().to_owned();
            continue;
        }
        if let Some(heading) = line.strip_prefix("## ") {
            group = None;
            match phase_heading(heading) {
                Some((number, name)) => {
                    in_phase = true;
                    phases.push(Phase { number, name, ..Phase::default() });
                }
                None => {
                    in_phase = false;
                    others.push((heading.trim().to_owned(), Vec::new()));
                }
            }
            continue;
        }
        if in_phase {
            let phase = phases.last_mut().expect("in a phase");
            if let Some(heading) = line.strip_prefix("### ") {
                group = Some(heading.trim().to_owned());
                continue;
            }
            if let Some(mut task) = task_line(line, index + 1) {
                task.group = group.clone();
                phase.tasks.push(task);
                continue;
            }
            if let Some(test) = line.trim().strip_prefix("**Independent Test**:") {
                phase.independent_test = Some(test.trim().to_owned());
            }
            if !line.trim().is_empty() && line.trim() != "---" {
                phase.text.push(line.to_owned());
            }
        } else if let Some((_, lines)) = others.last_mut() {
            lines.push(line.to_owned());
        } else if !line.trim().is_empty() && line.trim() != "---" {
            preamble.push(line.to_owned());
        }
    }
    if phases.iter().all(|p| p.tasks.is_empty()) {
        return Err(ImportError::Invalid {
            file: file.to_owned(),
            message: "no `## Phase N: ...` section with `- [ ] T001 ...` tasks".into(),
            hint: "spec-kit's tasks.md groups its tasks under `## Phase 1: Setup` and the like".into(),
        });
    }

    let mut unmapped = vec![
        "tasks.md names no test per task: each task's Verify is its phase's Independent Test, or a review against Done"
            .to_owned(),
    ];
    let phase_deps = phase_dependencies(&phases, &others, &mut unmapped);

    let mut draft = Draft::default();
    draft.context.push(format!(
        "Imported by `wavecrew import` from {} (spec-kit tasks.md). Tasks run in the order written; each run of \
         `[P]` tasks is a parallel wave, each run of other tasks a sequential one.",
        code(file)
    ));
    if !preamble.is_empty() {
        draft.context.push(demote(&preamble));
    }
    let mut done_list = String::new();
    // The last wave of each phase, for the phases that wait for it.
    let mut last_wave: Vec<Option<u32>> = vec![None; phases.len()];
    for (p, phase) in phases.iter().enumerate() {
        if !phase.text.is_empty() {
            draft.context.push(format!("**Phase {}: {}**\n\n{}", phase.number, phase.name, demote(&phase.text)));
        }
        let open: Vec<&SpecTask> = phase.tasks.iter().filter(|t| !t.done).collect();
        for task in phase.tasks.iter().filter(|t| t.done) {
            done_list.push_str(&format!("- {} {}\n", task.id, task.description));
            unmapped.push(format!("{} is checked (done): left out of the waves, listed in the Context", task.id));
        }
        let mut first = true;
        let mut start = 0;
        while start < open.len() {
            let parallel = open[start].parallel;
            let end = (start..open.len()).find(|&i| open[i].parallel != parallel).unwrap_or(open.len());
            let number = draft.waves.len() as u32 + 1;
            let depends_on = if first {
                let mut deps: Vec<u32> = phase_deps[p].iter().filter_map(|&q| last_wave[q]).collect();
                deps.sort_unstable();
                deps.dedup();
                deps
            } else {
                vec![number - 1]
            };
            let part = if first && end == open.len() { String::new() } else { format!(" ({})", open[start].id) };
            let mut wave = DraftWave {
                name: format!("Phase {}: {}{part}", phase.number, phase.name),
                depends_on,
                sequential: !parallel,
                ..DraftWave::default()
            };
            for (k, task) in open[start..end].iter().enumerate() {
                // Lanes of their own per phase: a lane shared with another phase would chain
                // phases that may run together (the user stories).
                let lane = format!("phase-{}", phase.number);
                let agent = if parallel && k > 0 { format!("{lane}-{}", k + 1) } else { lane };
                wave.tasks.push(draft_task(task, phase, agent));
            }
            draft.waves.push(wave);
            last_wave[p] = Some(number);
            first = false;
            start = end;
        }
        // A phase with every task done still stands for what waits for it.
        if last_wave[p].is_none() {
            last_wave[p] = phase_deps[p].iter().filter_map(|&q| last_wave[q]).max();
        }
    }
    if !done_list.is_empty() {
        draft.context.push(format!("Checked (done) in tasks.md, left out of the waves:\n{done_list}"));
    }
    for (heading, lines) in &others {
        let body: Vec<String> = lines.iter().filter(|l| !l.trim().is_empty() && l.trim() != "---").cloned().collect();
        if !body.is_empty() {
            draft.context.push(format!("**{heading}**\n\n{}", demote(lines)));
        }
    }
    if draft.waves.is_empty() {
        return Err(ImportError::Invalid {
            file: file.to_owned(),
            message: "every task is checked (done): nothing is left to plan".into(),
            hint: "import a tasks.md with open tasks".into(),
        });
    }
    let milestone = options.milestone.clone().unwrap_or_else(|| {
        // specs/001-photo-albums/tasks.md → 001-photo-albums.
        let parent = file.rsplit('/').nth(1).unwrap_or_default();
        if parent.is_empty() || parent == "." { "M1".to_owned() } else { parent.to_owned() }
    });
    draft.milestone = crate::check_milestone(file, milestone)?;
    draft.title = if title.is_empty() { "spec-kit tasks".to_owned() } else { title };
    Ok(Imported { format: Format::SpecKit, milestone: draft.milestone.clone(), text: draft.render(), unmapped })
}

/// `Phase 3: User Story 1 - Title (Priority: P1)` → ("3", "User Story 1 - Title (Priority: P1)").
fn phase_heading(heading: &str) -> Option<(String, String)> {
    let rest = heading.trim().strip_prefix("Phase")?;
    let (number, name) = rest.split_once(':')?;
    let number = number.trim();
    (!number.is_empty() && !number.contains(char::is_whitespace))
        .then(|| (number.to_owned(), name.trim().trim_end_matches("🎯 MVP").trim().to_owned()))
}

/// `- [ ] T001 [P] [US1] Description` (or `[X]`, `[x]`).
fn task_line(line: &str, number: usize) -> Option<SpecTask> {
    let rest = line.trim_start().strip_prefix(['-', '*'])?.trim_start();
    let (done, rest) = if let Some(rest) = rest.strip_prefix("[ ]") {
        (false, rest)
    } else {
        (true, rest.strip_prefix("[x]").or_else(|| rest.strip_prefix("[X]"))?)
    };
    let rest = rest.trim_start();
    let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    if !(id.len() >= 2 && id.starts_with('T') && id[1..].chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let mut rest = rest[id.len()..].trim_start();
    let mut parallel = false;
    let mut labels = Vec::new();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(end) = inner.find(']') else { break };
        let label = &inner[..end];
        if label == "P" {
            parallel = true;
        } else if label.contains(char::is_whitespace) {
            break;
        } else {
            labels.push(format!("[{label}]"));
        }
        rest = inner[end + 1..].trim_start();
    }
    Some(SpecTask { id, parallel, labels, description: rest.trim().to_owned(), done, group: None, line: number })
}

/// For each phase, the phases it waits for: from the Phase Dependencies bullets where they
/// say, else the phase before it.
fn phase_dependencies(
    phases: &[Phase],
    others: &[(String, Vec<String>)],
    unmapped: &mut Vec<String>,
) -> Vec<Vec<usize>> {
    let mut deps: Vec<Vec<usize>> = (0..phases.len()).map(|p| if p == 0 { vec![] } else { vec![p - 1] }).collect();
    let lines = others.iter().filter(|(h, _)| h.to_ascii_lowercase().contains("dependencies")).flat_map(|(_, l)| l);
    let last = phases.len().saturating_sub(1);
    let named = |word: &str| -> Vec<usize> {
        let word = word.to_ascii_lowercase();
        (0..phases.len()).filter(|&p| phases[p].name.to_ascii_lowercase().contains(&word)).collect()
    };
    let stories: Vec<usize> = named("user story");
    for line in lines {
        // Only the top-level bullets of Phase Dependencies: `- **Setup (Phase 1)**: ...`.
        let Some(rest) = line.strip_prefix("- **") else { continue };
        let Some((subject, said)) = rest.split_once("**:") else { continue };
        let which: Vec<usize> = if let Some(n) = subject.split("(Phase ").nth(1) {
            let n = n.trim_end_matches(')');
            match n.strip_suffix('+') {
                Some(from) => {
                    let from: u32 = from.parse().unwrap_or(u32::MAX);
                    let at_least = |p: usize| phases[p].number.parse::<u32>().is_ok_and(|n| n >= from);
                    (0..phases.len()).filter(|&p| at_least(p) && p != last && stories.contains(&p)).collect()
                }
                None => (0..phases.len()).filter(|&p| phases[p].number == n).collect(),
            }
        } else if subject.contains("Final Phase") {
            vec![last]
        } else {
            continue;
        };
        let said_lower = said.to_ascii_lowercase();
        let on: Option<Vec<usize>> = if said_lower.contains("no dependencies") {
            Some(vec![])
        } else if said_lower.contains("user stories") && said_lower.contains("depends on all") {
            Some(stories.clone())
        } else if let Some(after) = said_lower.split("depend").nth(1) {
            let found: Vec<usize> = phases
                .iter()
                .enumerate()
                .filter(|(_, phase)| {
                    let first_word = phase.name.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
                    first_word.len() > 3 && after.contains(&first_word) && !first_word.starts_with("user")
                })
                .map(|(p, _)| p)
                .collect();
            (!found.is_empty()).then_some(found)
        } else {
            None
        };
        match on {
            Some(on) => {
                for &p in &which {
                    deps[p] = on.iter().copied().filter(|&q| q < p).collect();
                }
            }
            None => {
                unmapped.push(format!("phase dependency not understood, the phase order stands: {}", one_line(line)))
            }
        }
    }
    deps
}

fn draft_task(task: &SpecTask, phase: &Phase, agent: String) -> DraftTask {
    let mut title = task.id.clone();
    for label in &task.labels {
        title.push(' ');
        title.push_str(label);
    }
    let short = one_line(&task.description);
    title.push(' ');
    title.push_str(&short);
    let files = paths(&task.description);
    let mut notes =
        vec![format!("spec-kit {} (line {}){}", task.id, task.line, if task.parallel { ", [P]" } else { "" })];
    if let Some(group) = &task.group {
        notes.push(format!("spec-kit group: {group}"));
    }
    DraftTask {
        title,
        kind: "auto".into(),
        files_prose: files.is_empty().then(|| "not named in tasks.md".to_owned()),
        files,
        action: task.description.clone(),
        verify: match &phase.independent_test {
            Some(test) => format!("The phase's Independent Test: {test}"),
            None => "tasks.md names no test: review the change against Done".to_owned(),
        },
        done: short,
        agent,
        notes,
    }
}

/// Paths in a description: `in src/models/user.py`, `tests/contract/`.
fn paths(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let word = word.trim_matches(|c: char| matches!(c, '`' | ',' | ';' | ':' | '(' | ')' | '"' | '\''));
        let word = word.strip_suffix('.').unwrap_or(word);
        let looks = word.contains('/')
            && !word.contains("://")
            && !word.starts_with('/')
            && !word.contains("..")
            && !word.contains(['[', ']', '{', '}', '*'])
            && word.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
        if looks && !out.iter().any(|p| p == word) {
            out.push(word.to_owned());
        }
    }
    out
}

/// Lines kept in the Context, with their headings made bold (a heading would start a section).
fn demote(lines: &[String]) -> String {
    // A `---` under a line would make it a heading; between sections it only separates them.
    // Inside a fence (`# a shell comment`) nothing changes.
    let mut in_fence = false;
    let mut out: Vec<String> = Vec::new();
    for line in lines {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        match trimmed.strip_prefix('#') {
            _ if in_fence => out.push(line.clone()),
            _ if line.trim() == "---" => {}
            Some(rest) => out.push(format!("**{}**", rest.trim_start_matches('#').trim())),
            None => out.push(line.clone()),
        }
    }
    out.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_lines_keep_ids_labels_and_parallel() {
        let task = task_line("- [ ] T012 [P] [US1] Create User model in src/models/user.py", 3).unwrap();
        assert_eq!((task.id.as_str(), task.parallel, task.done), ("T012", true, false));
        assert_eq!(task.labels, ["[US1]"]);
        assert_eq!(task.description, "Create User model in src/models/user.py");
        assert!(task_line("- [X] T001 Create project structure", 1).unwrap().done);
        assert!(task_line("- [ ] TXXX Code cleanup", 1).is_none());
        assert!(task_line("- [P] tasks = different files", 1).is_none());
        assert_eq!(
            paths("Implement UserService in src/services/user_service.py (depends on T012)"),
            ["src/services/user_service.py"]
        );
    }
}

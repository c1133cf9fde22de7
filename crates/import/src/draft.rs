//! The plan every importer builds, and its one renderer to wavecrew's plan format.
//!
//! Importers fill a [`Draft`] (waves of tasks, each task on an agent lane) and never write
//! Markdown themselves, so the format's rules (field order, indentation of long values, the
//! Agent Strategy table, the commit lines) live in one place.

use std::fmt::Write as _;

/// A plan before it is written.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub milestone: String,
    pub title: String,
    /// Paragraphs (Markdown) of the Context section.
    pub context: Vec<String>,
    pub truths: Vec<String>,
    /// Artifact paths (written in backticks) with an optional note.
    pub artifacts: Vec<(String, Option<String>)>,
    pub key_links: Vec<String>,
    pub waves: Vec<DraftWave>,
    /// Automated verification commands.
    pub automated: Vec<String>,
    /// Manual verification steps.
    pub manual: Vec<String>,
}

/// A wave; its number is its place in [`Draft::waves`] plus one.
#[derive(Debug, Default)]
pub(crate) struct DraftWave {
    pub name: String,
    /// Numbers of the waves this one waits for.
    pub depends_on: Vec<u32>,
    /// Whether the wave's tasks run one after another.
    pub sequential: bool,
    /// Sentences kept in the wave's blockquote.
    pub notes: Vec<String>,
    pub tasks: Vec<DraftTask>,
}

/// A task of a wave.
#[derive(Debug, Default)]
pub(crate) struct DraftTask {
    pub title: String,
    /// `auto`, `checkpoint:human-verify`, ...
    pub kind: String,
    /// Paths (written in backticks).
    pub files: Vec<String>,
    /// Files as prose, when the source names none.
    pub files_prose: Option<String>,
    pub action: String,
    pub verify: String,
    pub done: String,
    /// The agent lane it runs on.
    pub agent: String,
    /// Bullets after the fields: what the plan format has no field for.
    pub notes: Vec<String>,
}

impl Draft {
    /// The plan's Markdown text.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {} Implementation Plan: {}\n", self.milestone, one_line(&self.title));
        out.push_str("## Context\n\n");
        for paragraph in &self.context {
            out.push_str(&contained(&guard_braces(paragraph.trim_end())));
            out.push_str("\n\n");
        }
        if !self.truths.is_empty() || !self.artifacts.is_empty() || !self.key_links.is_empty() {
            out.push_str("## must_haves\n\n");
            section_list(&mut out, "truths (observable outcomes)", self.truths.iter().map(|t| one_line(t)));
            section_list(
                &mut out,
                "artifacts (files produced)",
                self.artifacts.iter().map(|(path, note)| match note {
                    Some(note) => format!("{} ({})", code(path), one_line(note)),
                    None => code(path),
                }),
            );
            section_list(&mut out, "key_links (where breakage cascades)", self.key_links.iter().map(|t| one_line(t)));
        }
        out.push_str("## Waves\n\n");
        for (index, wave) in self.waves.iter().enumerate() {
            let number = index + 1;
            match one_line(&wave.name) {
                name if name.is_empty() => writeln!(out, "### Wave {number}"),
                name => writeln!(out, "### Wave {number}: {name}"),
            }
            .ok();
            let mut clauses = Vec::new();
            if wave.depends_on.is_empty() {
                clauses.push("No dependencies.".to_owned());
            } else {
                let list: Vec<String> = wave.depends_on.iter().map(|n| format!("Wave {n}")).collect();
                clauses.push(format!("Depends on: {}.", list.join(", ")));
            }
            if wave.tasks.len() > 1 {
                clauses.push(
                    if wave.sequential { "Tasks run sequentially." } else { "All tasks run in parallel." }.into(),
                );
            }
            clauses.extend(wave.notes.iter().map(|n| guard_braces(&one_line(n))));
            let _ = writeln!(out, "> {}\n", clauses.join(" "));
            for (k, task) in wave.tasks.iter().enumerate() {
                render_task(&mut out, number, k + 1, task);
            }
        }
        out.push_str("## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|------|-------|-------|-------|\n");
        for (index, wave) in self.waves.iter().enumerate() {
            let number = index + 1;
            let mut agents: Vec<&str> = Vec::new();
            for task in &wave.tasks {
                if !agents.contains(&task.agent.as_str()) {
                    agents.push(&task.agent);
                }
            }
            for agent in agents {
                let ids: Vec<String> = (wave.tasks.iter().enumerate())
                    .filter(|(_, t)| t.agent == agent)
                    .map(|(k, _)| format!("{number}.{}", k + 1))
                    .collect();
                let _ = writeln!(out, "| {number} | {agent} |  | {} |", ids.join(", "));
            }
        }
        out.push_str("\n## Commit Strategy\n\n```\n");
        for (index, wave) in self.waves.iter().enumerate() {
            for (k, task) in wave.tasks.iter().enumerate() {
                if task.kind == "auto" {
                    let _ = writeln!(out, "feat({}): {{task {}.{} description}}", self.milestone, index + 1, k + 1);
                }
            }
        }
        out.push_str("```\n");
        if !self.automated.is_empty() || !self.manual.is_empty() {
            out.push_str("\n## Verification\n");
            if !self.automated.is_empty() {
                out.push_str("\n### Automated\n\n```bash\n");
                for command in &self.automated {
                    let _ = writeln!(out, "{}", one_line(command));
                }
                out.push_str("```\n");
            }
            if !self.manual.is_empty() {
                out.push_str("\n### Manual\n\n");
                for (i, step) in self.manual.iter().enumerate() {
                    let _ = writeln!(out, "{}. {}", i + 1, guard_braces(&one_line(step)));
                }
            }
        }
        out
    }
}

fn section_list(out: &mut String, heading: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "### {heading}");
    for item in items {
        let _ = writeln!(out, "- {}", guard_braces(&item));
    }
    out.push('\n');
}

fn render_task(out: &mut String, wave: usize, k: usize, task: &DraftTask) {
    match guard_braces(&escape_title(&task.title)) {
        title if title.is_empty() => writeln!(out, "**Task {wave}.{k}** (type: {})", task.kind),
        title => writeln!(out, "**Task {wave}.{k}: {title}** (type: {})", task.kind),
    }
    .ok();
    if !task.files.is_empty() {
        let files: Vec<String> = task.files.iter().map(|f| code(f)).collect();
        field(out, "Files", &files.join(", "));
    } else if let Some(prose) = &task.files_prose {
        field(out, "Files", prose);
    }
    // The plan format requires these; a source that left one empty still gets a task `check`
    // accepts, worded from what it has.
    let or = |value: &str, fallback: String| if value.trim().is_empty() { fallback } else { value.to_owned() };
    field(out, "Action", &or(&task.action, one_line(&task.title)));
    field(out, "Verify", &or(&task.verify, "Review the change against Done".to_owned()));
    field(out, "Done", &or(&task.done, format!("{} is done", one_line(&task.title))));
    for note in &task.notes {
        out.push_str("- ");
        out.push_str(&indent_continuation(&guard_braces(note)));
        out.push('\n');
    }
    out.push('\n');
}

/// `- **Name**: value`, a value of several lines indented under its bullet.
fn field(out: &mut String, name: &str, value: &str) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    let _ = writeln!(out, "- **{name}**: {}", indent_continuation(&guard_braces(value)));
}

/// Lines after the first indented by two spaces, so they stay in the bullet; blank lines are
/// dropped (a blank line inside a bullet would end the plan's field for some readers).
fn indent_continuation(text: &str) -> String {
    let mut lines = text.trim().lines().filter(|l| !l.trim().is_empty());
    let mut out = lines.next().unwrap_or_default().trim_end().to_owned();
    for line in lines {
        out.push_str("\n  ");
        out.push_str(line.trim_end());
    }
    out
}

/// Copied text that cannot reach past itself: a fence left open is closed, and a line opening
/// an HTML block (`<!--`, `<pre>`, which end only at their closing tag) is escaped, so the
/// plan's next section stays a section.
pub(crate) fn contained(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let marker: String = trimmed.chars().take_while(|&c| c == '`' || c == '~').collect();
        match &fence {
            Some(open) if trimmed.starts_with(open.as_str()) && trimmed.trim_end() == marker => fence = None,
            Some(_) => {}
            None if marker.len() >= 3 && marker.chars().all(|c| c == marker.as_bytes()[0] as char) => {
                fence = Some(marker.clone());
            }
            None if trimmed.starts_with('<') => {
                out.push_str(&line[..line.len() - trimmed.len()]);
                out.push('\\');
                out.push_str(trimmed);
                out.push('\n');
                continue;
            }
            None => {}
        }
        out.push_str(line);
        out.push('\n');
    }
    if let Some(open) = fence {
        out.push_str(&open);
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

/// `text` with every `{...}` outside code spans put in one: in a plan, a bare `{...}` is a
/// template's placeholder (`unfilled-placeholder`), and `run` would refuse the plan, while in
/// imported text it is code (`{ id, text }`).
pub(crate) fn guard_braces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            in_code = !in_code;
        } else if c == '{' && !in_code {
            let line_end = rest.find('\n').unwrap_or(rest.len());
            let mut depth = 0usize;
            let close = rest[..line_end].char_indices().find_map(|(at, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(at)
            });
            if let Some(close) = close {
                out.push_str(&code(&rest[..=close]));
                rest = &rest[close + 1..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A value that must stay on one line (titles, table cells, list items).
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A task title inside `**Task 1.1: ...**`: one line, without the `**` that would end it.
fn escape_title(title: &str) -> String {
    one_line(title).replace("**", "")
}

/// `text` in backticks, with enough of them to hold the backticks it contains.
pub(crate) fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest == 0 { format!("`{text}`") } else { format!("{fence} {text} {fence}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied_text_stays_inside() {
        assert_eq!(contained("a\n```bash\nx"), "a\n```bash\nx\n```");
        assert_eq!(contained("```\n<!-- in code\n```\n<!-- open"), "```\n<!-- in code\n```\n\\<!-- open");
    }

    #[test]
    fn braces_outside_code_become_code() {
        assert_eq!(guard_braces("A todo is { id, text }."), "A todo is `{ id, text }`.");
        assert_eq!(guard_braces("kept `{ a }` and {"), "kept `{ a }` and {");
        assert_eq!(guard_braces("é {x}\n{"), "é `{x}`\n{");
        assert_eq!(guard_braces("a {b: {c}} d"), "a `{b: {c}}` d");
    }
}

//! `## Commit Strategy`: a fenced block with one conventional commit per line.

use super::{Block, BlockKind, Doc};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Block as ExtraBlock, CommitLine, Plan, TaskId};
use crate::parse::tasks::find_ignore_case;
use crate::span::{Span, Spanned};
use crate::text;
use pulldown_cmark::Event;

/// Reads the blocks of `## Commit Strategy`: the first fence holds the lines, the rest is kept.
pub(super) struct Parser {
    fence_read: bool,
    /// Whether the plan's milestone id is known (else `M{N}` is an unfilled placeholder).
    milestone_known: bool,
}

impl Parser {
    pub(super) fn new(milestone_known: bool) -> Self {
        Parser { fence_read: false, milestone_known }
    }

    pub(super) fn block(&mut self, doc: &mut Doc, plan: &mut Plan, block: &Block) {
        if block.kind == BlockKind::CodeBlock && !self.fence_read {
            self.fence_read = true;
            for (line, span) in code_lines(doc, block) {
                read_line(doc, line, span, plan, self.milestone_known);
            }
        } else {
            plan.extra.push(ExtraBlock {
                section: "Commit Strategy".into(),
                text: doc.clean(block.span),
                span: block.span,
            });
        }
    }
}

/// The lines of a code block's content, each with its span (`\r` excluded).
pub(super) fn code_lines<'s>(doc: &Doc<'s>, block: &Block) -> Vec<(&'s str, Span)> {
    let texts: Vec<_> =
        block.inner().iter().filter(|(e, _)| matches!(e, Event::Text(_))).map(|(_, r)| r.clone()).collect();
    let (Some(first), Some(last)) = (texts.first(), texts.last()) else { return Vec::new() };
    let (start, end) = (first.start, last.end);
    let mut lines = Vec::new();
    let mut at = start;
    for line in doc.src[start..end].split('\n') {
        let body = line.strip_suffix('\r').unwrap_or(line);
        lines.push((body, Span::new(at, at + body.len())));
        at += line.len() + 1;
    }
    lines
}

fn read_line(doc: &mut Doc, line: &str, span: Span, plan: &mut Plan, milestone_known: bool) {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return;
    }
    let span = Span::new(span.start + (line.len() - line.trim_start().len()), span.start + line.trim_end().len());
    if !is_conventional(trimmed) {
        doc.report(
            Diagnostic::new(Code::BadCommitLine, span, format!("`{trimmed}` is not a conventional commit"))
                .with_help("write `<type>(<scope>): <description>`, e.g. `feat(M3): {task 1.1 description}`"),
        );
        return;
    }
    if !milestone_known {
        let mut from = 0;
        while let Some(at) = trimmed[from..].find("M{N}").map(|p| p + from) {
            let placeholder = Span::new(span.start + at, span.start + at + 4);
            doc.report(
                Diagnostic::new(
                    Code::UnfilledPlaceholder,
                    placeholder,
                    "unfilled placeholder `M{N}`: the plan's milestone id is not known",
                )
                .with_help(
                    "give the plan a title `# M3 Implementation Plan: <title>`; `M{N}` is then replaced by its id",
                ),
            );
            from = at + 4;
        }
    }
    let task = task_reference(trimmed)
        .map(|(id, at, len)| Spanned::new(id, Span::new(span.start + at, span.start + at + len)));
    plan.commits.push(CommitLine { task, message: text::clean(trimmed), span });
}

/// `<type>(<scope>)!: <description>`; the scope and `!` are optional.
fn is_conventional(line: &str) -> bool {
    let kind_len = line.len() - line.trim_start_matches(|c: char| c.is_ascii_alphabetic()).len();
    if kind_len == 0 {
        return false;
    }
    let mut rest = &line[kind_len..];
    if let Some(scoped) = rest.strip_prefix('(') {
        let Some(close) = scoped.find(')') else { return false };
        if close == 0 {
            return false;
        }
        rest = &scoped[close + 1..];
    }
    rest = rest.strip_prefix('!').unwrap_or(rest);
    rest.strip_prefix(": ").is_some_and(|description| !description.trim().is_empty())
}

/// The first `task <w>.<k>` in a line: the id, its offset and its length.
fn task_reference(line: &str) -> Option<(TaskId, usize, usize)> {
    let mut from = 0;
    while let Some(at) = find_ignore_case(&line[from..], "task ").map(|p| p + from) {
        let start = at + "task ".len();
        let len = line[start..].find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(line.len() - start);
        let id_text = line[start..start + len].trim_end_matches('.');
        if let Some(id) = TaskId::parse(id_text) {
            return Some((id, start, id_text.len()));
        }
        from = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_commits() {
        for good in ["feat(M2): {task 1.1 description}", "fix: typo", "refactor(core)!: drop x", "docs(M{N}): y"] {
            assert!(is_conventional(good), "{good}");
        }
        for bad in ["this is not a conventional commit", "feat(): x", "feat(M2):", "feat(M2):x", ": x", "feat(M2 x"] {
            assert!(!is_conventional(bad), "{bad}");
        }
    }

    #[test]
    fn task_references_anywhere_in_the_line() {
        assert_eq!(task_reference("feat(M2): {task 1.10 description}").map(|t| t.0.to_string()), Some("1.10".into()));
        assert_eq!(task_reference("test: Task 2.1.").map(|t| t.0.to_string()), Some("2.1".into()));
        assert_eq!(task_reference("feat: tasks everywhere"), None);
    }
}

//! `## Waves`: `### Wave <n>: <name>` headings, their clause blockquote and their tasks.

use super::tasks::{self, TaskHeader, find_ignore_case};
use super::{Block, BlockKind, Doc};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Block as ExtraBlock, Plan, Wave, strip_prefix_ignore_case};
use crate::span::{Span, Spanned};
use crate::text;

/// Where the parser is inside the Waves section.
#[derive(Default)]
struct Cursor {
    /// Index into `plan.waves` of the wave being read, `None` under a heading that is not a wave.
    wave: Option<usize>,
    /// Index into `plan.tasks` of the task being read.
    task: Option<usize>,
    /// Whether the current task already had its field list.
    fields_read: bool,
    /// Whether the current wave already had its clause blockquote.
    clauses_read: bool,
    /// The section name for kept content, e.g. `Waves / Wave 2`.
    place: String,
}

/// Reads the blocks of a `## Waves` section one by one.
pub(super) struct Parser {
    /// The first task of this section in `plan.tasks` (a plan may repeat the section).
    first_task: usize,
    /// For each wave of the plan, whether it said what it depends on.
    explicit: Vec<bool>,
    at: Cursor,
}

impl Parser {
    pub(super) fn new(plan: &Plan) -> Self {
        Parser {
            first_task: plan.tasks.len(),
            explicit: vec![true; plan.waves.len()],
            at: Cursor { place: "Waves".into(), ..Cursor::default() },
        }
    }

    pub(super) fn block(&mut self, doc: &mut Doc, plan: &mut Plan, block: &Block) {
        let at = &mut self.at;
        match block.kind {
            BlockKind::Heading(3) => {
                let text = block.inline_text();
                *at = Cursor { place: format!("Waves / {text}"), ..Cursor::default() };
                if let Some((number, name)) = parse_heading(&text) {
                    if let Some(first) = plan.waves.iter().find(|w| w.number == number) {
                        doc.report(
                            Diagnostic::new(
                                Code::DuplicateWave,
                                block.span,
                                format!("there are two waves numbered {number}"),
                            )
                            .with_related(first.span, "first written here")
                            .with_help("renumber one of them; wave numbers are unique"),
                        );
                    }
                    at.wave = Some(plan.waves.len());
                    self.explicit.push(false);
                    plan.waves.push(Wave {
                        number,
                        name,
                        depends_on: Vec::new(),
                        implicit_dependency: false,
                        parallel: true,
                        ship_gate: false,
                        notes: Vec::new(),
                        tasks: Vec::new(),
                        span: block.span,
                    });
                } else {
                    doc.report(
                        Diagnostic::new(
                            Code::UnknownSection,
                            block.span,
                            format!("`### {text}` is not a wave heading"),
                        )
                        .with_label("kept, but not run")
                        .with_help("waves are headed `### Wave <n>: <name>`"),
                    );
                }
            }
            BlockKind::BlockQuote if at.wave.is_some() && at.task.is_none() && !at.clauses_read => {
                let index = at.wave.unwrap_or_default();
                self.explicit[index] = parse_clauses(doc, block, &mut plan.waves[index]);
                at.clauses_read = true;
            }
            BlockKind::Paragraph => match tasks::parse_header(doc.raw(block.span)) {
                Some(header) if at.wave.is_some() => start_task(doc, block, &header, at, plan),
                Some(header) => {
                    let id = header.id;
                    doc.report(
                        Diagnostic::new(
                            Code::TaskWaveMismatch,
                            block.span,
                            format!("task {id} is not under a `### Wave <n>` heading, so it never runs"),
                        )
                        .with_help(format!("move it under `### Wave {}`", id.wave)),
                    );
                    keep(doc, block, at, plan);
                }
                None => keep(doc, block, at, plan),
            },
            BlockKind::List if at.task.is_some() && !at.fields_read => {
                let index = at.task.unwrap_or_default();
                tasks::parse_fields(doc, block, &mut plan.tasks[index]);
                doc.layout.field_lists.push(block.span);
                at.fields_read = true;
            }
            _ => keep(doc, block, at, plan),
        }
    }

    /// Reports missing fields and implicit dependencies once every task and wave is known.
    pub(super) fn finish(self, doc: &mut Doc, plan: &mut Plan, heading: Span) {
        for task in &plan.tasks[self.first_task..] {
            tasks::report_missing_fields(doc, task);
        }
        infer_dependencies(doc, plan, &self.explicit);
        if plan.waves.is_empty() {
            doc.report(
                Diagnostic::new(
                    Code::MissingWaves,
                    heading,
                    "`## Waves` has no `### Wave <n>: <name>` heading, so there is nothing to run",
                )
                .with_help("head each wave `### Wave 1: <name>` and put its tasks under it"),
            );
        }
    }
}

/// Starts a task under the current wave; reports a duplicate id.
fn start_task(doc: &mut Doc, block: &Block, header: &TaskHeader, at: &mut Cursor, plan: &mut Plan) {
    let wave_index = at.wave.unwrap_or_default();
    let number = plan.waves[wave_index].number;
    let task = tasks::new_task(doc, block, header, number);
    if let Some(&first) = doc.task_spans.get(&task.id) {
        doc.report(
            Diagnostic::new(Code::DuplicateTask, block.span, format!("there are two tasks {}", task.id))
                .with_related(first, "first written here")
                .with_help("give each task its own id `<wave>.<k>`"),
        );
    }
    doc.task_spans.entry(task.id).or_insert(task.span);
    plan.waves[wave_index].tasks.push(task.id);
    at.task = Some(plan.tasks.len());
    at.fields_read = false;
    plan.tasks.push(task);
}

/// Keeps a block the parser does not interpret: as a note of the current task, or as extra.
fn keep(doc: &Doc, block: &Block, at: &Cursor, plan: &mut Plan) {
    let text = doc.clean(block.span);
    match at.task {
        Some(index) => plan.tasks[index].notes.push(Spanned::new(text, block.span)),
        None => plan.extra.push(ExtraBlock { section: at.place.clone(), text, span: block.span }),
    }
}

/// `Wave 2: Core Logic` → `(2, Some("Core Logic"))`.
fn parse_heading(text: &str) -> Option<(u32, Option<String>)> {
    let rest = strip_prefix_ignore_case(text.trim(), "wave")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let number: u32 = rest[..digits].parse().ok().filter(|&n| n > 0)?;
    let name = rest[digits..].trim_start().trim_start_matches([':', '-', '—', '–', '.']).trim();
    if digits < rest.len() && !rest[digits..].starts_with([':', ' ', '-', '—', '–', '.']) {
        return None;
    }
    Some((number, (!name.is_empty()).then(|| name.to_owned())))
}

/// Reads the clause blockquote; returns whether it said what the wave depends on.
fn parse_clauses(doc: &mut Doc, quote: &Block, wave: &mut Wave) -> bool {
    let base = quote.span.start;
    // The quote with its `>` markers blanked out, so offsets still match the source.
    let mut blank: Vec<u8> = doc.raw(quote.span).as_bytes().to_vec();
    let mut line_start = true;
    for byte in blank.iter_mut() {
        match *byte {
            b'\n' => line_start = true,
            b'>' if line_start => *byte = b' ',
            b' ' | b'\t' | b'\r' => {}
            _ => line_start = false,
        }
    }
    let blank = String::from_utf8_lossy(&blank).into_owned();
    let mut explicit = false;
    for sentence in sentences(&blank) {
        let span = Span::new(base + sentence.start, base + sentence.end);
        let raw = &blank[sentence.range()];
        // Emphasis and code markers do not change what a clause says.
        let plain: String = raw.chars().filter(|c| !matches!(c, '*' | '_' | '`')).collect();
        let lower = plain.trim().trim_end_matches('.').trim().to_lowercase();
        let after_depends = lower.strip_prefix("depends on").map(|rest| rest.trim_start_matches(':').trim());
        match after_depends {
            Some("none" | "nothing" | "no wave" | "no waves") => explicit = true,
            Some(_) => {
                explicit = true;
                // Offsets come from `raw` itself, never from its lowercased copy.
                let list_start = find_ignore_case(raw, "depends on").map_or(0, |at| at + "depends on".len());
                parse_dependency_list(doc, &raw[list_start..], span.start + list_start, wave);
            }
            None if matches!(lower.as_str(), "no dependencies" | "no dependency" | "none") => explicit = true,
            None if lower.ends_with("in parallel") || lower == "parallel" => wave.parallel = true,
            None if lower.contains("sequential")
                || lower.contains("one after another")
                || lower.contains("one at a time") =>
            {
                wave.parallel = false
            }
            None if lower.contains("must pass before shipping") => wave.ship_gate = true,
            None => wave.notes.push(Spanned::new(text::clean(raw.trim()), span)),
        }
    }
    explicit
}

/// Sentence spans of a clause text: split after `.` followed by a space, and at line ends
/// (unless the line ends with `,` or `and`, which continue the sentence).
fn sentences(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut start = 0;
    for i in 0..bytes.len() {
        let end_of_sentence = match bytes[i] {
            b'.' => bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace()),
            b'\n' => {
                let line = text[start..i].trim_end();
                !(line.ends_with(',') || line.to_ascii_lowercase().ends_with(" and"))
            }
            _ => false,
        };
        if end_of_sentence {
            spans.push(Span::new(start, i + 1));
            start = i + 1;
        }
    }
    spans.push(Span::new(start, text.len()));
    spans
        .into_iter()
        .filter_map(|s| {
            let piece = &text[s.range()];
            let lead = piece.len() - piece.trim_start().len();
            let body = piece.trim();
            (!body.trim_end_matches('.').is_empty()).then(|| Span::new(s.start + lead, s.start + lead + body.len()))
        })
        .collect()
}

/// `: Wave 1, Wave 3` / `: Waves 1 and 2 (the data layer)` → the numbers, each with its span.
/// A parenthetical is a comment, not a wave.
fn parse_dependency_list(doc: &mut Doc, list: &str, base: usize, wave: &mut Wave) {
    let mut depth = 0usize;
    let mut start = None;
    let bytes = list.as_bytes();
    for at in 0..=bytes.len() {
        let byte = bytes.get(at).copied();
        match byte {
            Some(b'(') => depth += 1,
            Some(b')') => depth = depth.saturating_sub(1),
            _ => {}
        }
        let separator = byte.is_none_or(|b| b.is_ascii_whitespace() || b",&:;.()".contains(&b)) || depth > 0;
        match (start, separator) {
            (None, false) => start = Some(at),
            (Some(from), true) => {
                start = None;
                dependency_token(doc, &list[from..at], Span::new(base + from, base + at), wave);
            }
            _ => {}
        }
    }
}

fn dependency_token(doc: &mut Doc, token: &str, span: Span, wave: &mut Wave) {
    let word = token.trim_matches(|c: char| matches!(c, '*' | '_' | '`'));
    if word.is_empty() || ["wave", "waves", "and"].iter().any(|w| word.eq_ignore_ascii_case(w)) {
        return;
    }
    match word.parse::<u32>() {
        Ok(number) => wave.depends_on.push(Spanned::new(number, span)),
        Err(_) => doc.report(
            Diagnostic::new(
                Code::UnknownWave,
                span,
                format!("Wave {} depends on `{word}`, which is not a wave number", wave.number),
            )
            .with_help("write `Depends on: Wave 1, Wave 3` or `Depends on: Waves 1 and 2`"),
        ),
    }
}

/// A wave that did not say what it depends on waits for the wave before it.
fn infer_dependencies(doc: &mut Doc, plan: &mut Plan, explicit: &[bool]) {
    for (index, _) in explicit.iter().enumerate().skip(1).filter(|(_, explicit)| !**explicit) {
        let previous = plan.waves[index - 1].number;
        let wave = &mut plan.waves[index];
        wave.depends_on.push(Spanned::new(previous, wave.span));
        wave.implicit_dependency = true;
        doc.report(
            Diagnostic::new(
                Code::ImplicitDependency,
                wave.span,
                format!("Wave {} does not say what it depends on", wave.number),
            )
            .with_label(format!("taken to depend on Wave {previous}"))
            .with_help(format!("add `> Depends on: Wave {previous}.` (or `> No dependencies.`) under the heading")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wave_headings() {
        assert_eq!(parse_heading("Wave 2: Core Logic"), Some((2, Some("Core Logic".into()))));
        assert_eq!(parse_heading("wave 10"), Some((10, None)));
        assert_eq!(parse_heading("Wave 3 — UI"), Some((3, Some("UI".into()))));
        assert_eq!(parse_heading("Wave 0"), None);
        assert_eq!(parse_heading("Waves"), None);
        assert_eq!(parse_heading("Wave 2x"), None);
        assert_eq!(parse_heading("Notes"), None);
    }

    #[test]
    fn sentences_split_at_periods_and_lines() {
        let text = "Depends on: Wave 4. Both tasks run in parallel. Must pass before shipping.";
        let got: Vec<&str> = sentences(text).into_iter().map(|s| &text[s.range()]).collect();
        assert_eq!(got, ["Depends on: Wave 4.", "Both tasks run in parallel.", "Must pass before shipping."]);
        let text = "Depends on: Wave 1,\n  Wave 2\nRun sequentially";
        let got: Vec<&str> = sentences(text).into_iter().map(|s| &text[s.range()]).collect();
        assert_eq!(got, ["Depends on: Wave 1,\n  Wave 2", "Run sequentially"]);
    }
}

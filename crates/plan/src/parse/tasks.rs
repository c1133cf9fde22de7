//! A task: its header paragraph `**Task 2.1: Title** (type: auto)` and its field list.

use super::{Block, Doc};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Attempts, Field, Task, TaskId, TaskType, strip_prefix_ignore_case};
use crate::span::{Span, Spanned};
use crate::text;

/// The parts of a task header, as byte ranges relative to the paragraph's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskHeader {
    pub id: TaskId,
    pub id_span: Span,
    pub title: Option<Span>,
    pub kind: Option<Span>,
    pub rest: Option<Span>,
}

/// Reads `**Task <w>.<k>**` or `**Task <w>.<k>: <title>**`, then an optional `(type: <type>)`.
pub(crate) fn parse_header(raw: &str) -> Option<TaskHeader> {
    let lead = raw.len() - raw.trim_start().len();
    let marker = raw[lead..].get(..2).filter(|m| *m == "**" || *m == "__")?;
    let inner_start = lead + 2;
    let close = raw[inner_start..].find(marker)? + inner_start;
    let inner = &raw[inner_start..close];
    let after_task = strip_prefix_ignore_case(inner, "task")?;
    if !after_task.starts_with(char::is_whitespace) {
        return None;
    }
    let id_start = inner_start + (inner.len() - after_task.trim_start().len());
    let id_len = raw[id_start..close].find(|c: char| c == ':' || c.is_whitespace()).unwrap_or(close - id_start);
    let id_span = Span::new(id_start, id_start + id_len);
    let id = TaskId::parse(&raw[id_span.range()])?;

    // The title: inside the bold after `:`, or right after the bold (`**Task 1.1:** Title`).
    let mut title = trimmed_span(raw, id_span.end, close).map(|s| strip_separator(raw, s)).filter(|s| s.start < s.end);
    let after = close + 2;
    let type_at = find_ignore_case(&raw[after..], "(type:").map(|p| p + after);
    let type_end = type_at.and_then(|at| raw[at..].find(')').map(|p| p + at));
    let before_type = type_at.unwrap_or(raw.len());
    if title.is_none() {
        title = trimmed_span(raw, after, before_type).map(|s| strip_separator(raw, s)).filter(|s| s.start < s.end);
    }
    let kind = match (type_at, type_end) {
        (Some(at), Some(end)) => trimmed_span(raw, at + "(type:".len(), end),
        _ => None,
    };
    let rest = type_end.and_then(|end| trimmed_span(raw, end + 1, raw.len()));
    Some(TaskHeader { id, id_span, title, kind, rest })
}

fn trimmed_span(raw: &str, start: usize, end: usize) -> Option<Span> {
    let slice = raw.get(start..end)?;
    let lead = slice.len() - slice.trim_start().len();
    let trimmed = slice.trim();
    (!trimmed.is_empty()).then(|| Span::new(start + lead, start + lead + trimmed.len()))
}

/// Drops a leading `:`, `-` or `—` separator from a title span.
fn strip_separator(raw: &str, span: Span) -> Span {
    let text = &raw[span.range()];
    let stripped = text.trim_start_matches([':', '-', '—', '–']).trim_start();
    Span::new(span.end - stripped.len(), span.end)
}

pub(crate) fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The fields wavecrew knows, in canonical order (`fmt` sorts them so).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KnownField {
    Skill,
    Files,
    Action,
    Verify,
    Done,
    Attempts,
}

impl KnownField {
    pub fn from_name(name: &str) -> Option<KnownField> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "skill" | "skills" => KnownField::Skill,
            "files" | "file" => KnownField::Files,
            "action" => KnownField::Action,
            "verify" => KnownField::Verify,
            "done" => KnownField::Done,
            "attempts" => KnownField::Attempts,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            KnownField::Skill => "Skill",
            KnownField::Files => "Files",
            KnownField::Action => "Action",
            KnownField::Verify => "Verify",
            KnownField::Done => "Done",
            KnownField::Attempts => "Attempts",
        }
    }
}

/// `**Name**: value` or `**Name:** value` at the start of a list item's content: the name's
/// span and the offset where the value starts (both relative to `content`).
pub(crate) fn parse_field_head(content: &str) -> Option<(Span, usize)> {
    let marker = content.get(..2).filter(|m| *m == "**" || *m == "__")?;
    let close = content[2..].find(marker)? + 2;
    let name = &content[2..close];
    let (name_span, after) = if let Some(stripped) = name.strip_suffix(':') {
        (Span::new(2, 2 + stripped.trim_end().len()), close + 2)
    } else {
        let rest = &content[close + 2..];
        let colon = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if !rest[colon..].starts_with(':') {
            return None;
        }
        (Span::new(2, close), close + 2 + colon + 1)
    };
    let field = &content[name_span.range()];
    if field.trim().is_empty() || field.contains('\n') || field.len() > 40 {
        return None;
    }
    let value_start = after + (content[after..].len() - content[after..].trim_start_matches([' ', '\t']).len());
    Some((name_span, value_start))
}

/// Builds a task from its header paragraph; its fields come later from [`parse_fields`].
pub(crate) fn new_task(doc: &mut Doc, paragraph: &Block, header: &TaskHeader, wave: u32) -> Task {
    let base = paragraph.span.start;
    let shift = |s: Span| Span::new(s.start + base, s.end + base);
    let raw = doc.raw(paragraph.span);
    let kind = match header.kind {
        Some(span) => TaskType::parse(&raw[span.range()]),
        None => TaskType::Auto,
    };
    if let (TaskType::Unknown(name), Some(span)) = (&kind, header.kind) {
        doc.report(
            Diagnostic::new(Code::UnknownTaskType, shift(span), format!("task {} has unknown type `{name}`", header.id))
                .with_help("use one of `auto`, `checkpoint:human-verify`, `checkpoint:gate`, `checkpoint:decision`, `checkpoint:human-action`"),
        );
    }
    if header.id.wave != wave {
        doc.report(
            Diagnostic::new(
                Code::TaskWaveMismatch,
                shift(header.id_span),
                format!("task {} is written under Wave {wave}, but its id names wave {}", header.id, header.id.wave),
            )
            .with_help(format!("renumber it `Task {wave}.<k>`, or move it under `### Wave {}`", header.id.wave)),
        );
    }
    let clean = |s: Span| text::clean(&raw[s.range()]);
    Task {
        id: header.id,
        wave,
        title: header.title.map(|s| clean(s).trim_end_matches(['*', '_']).trim().to_owned()),
        kind,
        model: None,
        files_text: None,
        files: Vec::new(),
        files_prose: Vec::new(),
        action: None,
        verify: None,
        verify_commands: Vec::new(),
        verify_steps: Vec::new(),
        done: None,
        skills: Vec::new(),
        attempts: None,
        other_fields: Vec::new(),
        notes: header.rest.map(|s| Spanned::new(clean(s), shift(s))).into_iter().collect(),
        span: paragraph.span,
    }
}

/// Reads the field list under a task.
pub(crate) fn parse_fields(doc: &mut Doc, list: &Block, task: &mut Task) {
    let mut seen: Vec<(String, Span)> = Vec::new();
    for item in list.list_items() {
        let (content_start, content) = doc.item_content(list, &item);
        let item_span = item.span;
        let Some((name_span, value_offset)) = parse_field_head(content) else {
            task.notes.push(Spanned::new(doc.clean(Span::new(content_start, item_span.end)), item_span));
            continue;
        };
        let name = text::clean(content[name_span.range()].trim());
        let name_span = Span::new(content_start + name_span.start, content_start + name_span.end);
        let value_span = trimmed_end(doc.src, content_start + value_offset, item_span.end);
        let known = KnownField::from_name(&name);
        let key = known.map_or_else(|| name.to_ascii_lowercase(), |k| k.name().to_ascii_lowercase());
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            doc.report(
                Diagnostic::new(
                    Code::DuplicateField,
                    name_span,
                    format!("task {} has the field `{name}` twice", task.id),
                )
                .with_related(*first, "first written here")
                .with_help("merge the two values into one field; wavecrew uses the first"),
            );
            continue;
        }
        seen.push((key, name_span));
        let value = dedent(doc, content_start, value_span);
        let codes = list.code_spans(item.events.clone());
        let codes: Vec<(String, Span)> = codes.into_iter().filter(|(_, s)| s.start >= value_span.start).collect();
        match known {
            Some(KnownField::Files) => {
                parse_files(doc, task, value_span, &codes);
                task.files_text = Some(Spanned::new(value, value_span));
            }
            Some(KnownField::Action) => task.action = Some(Spanned::new(value, value_span)),
            Some(KnownField::Done) => task.done = Some(Spanned::new(value, value_span)),
            Some(KnownField::Verify) => {
                task.verify = Some(Spanned::new(value, value_span));
                let steps = if task.kind == TaskType::HumanVerify {
                    person_steps(doc.src, value_span, &codes)
                } else {
                    Vec::new()
                };
                let in_step = |span: &Span| steps.iter().any(|step| step.start <= span.start && span.end <= step.end);
                task.verify_commands = codes
                    .into_iter()
                    .filter(|(_, span)| !in_step(span))
                    .map(|(code, span)| Spanned::new(code, span))
                    .collect();
                task.verify_steps =
                    steps.into_iter().map(|step| Spanned::new(one_line(&doc.clean(step)), step)).collect();
            }
            Some(KnownField::Attempts) => match Attempts::parse(&doc.clean(value_span)) {
                Some(attempts) => task.attempts = Some(Spanned::new(attempts, value_span)),
                None => doc.report(bad_attempts(task.id, &doc.clean(value_span), value_span, name_span)),
            },
            Some(KnownField::Skill) => {
                task.skills = if codes.is_empty() {
                    comma_pieces(doc.src, value_span, &[]).into_iter().map(|s| Spanned::new(doc.clean(s), s)).collect()
                } else {
                    codes.into_iter().map(|(code, span)| Spanned::new(code, span)).collect()
                };
            }
            None => {
                doc.report(
                    Diagnostic::new(
                        Code::UnknownField,
                        name_span,
                        format!("task {} has an unknown field `{name}`", task.id),
                    )
                    .with_label("kept, but not used")
                    .with_help("known fields are Files, Action, Verify, Done, Skill and Attempts"),
                );
                task.other_fields.push(Field { name, value, span: item_span });
            }
        }
    }
}

/// Reports the fields the task's type requires but the task lacks (or leaves empty).
pub(crate) fn report_missing_fields(doc: &mut Doc, task: &Task) {
    use KnownField::*;
    let required: &[KnownField] = match task.kind {
        TaskType::Auto => &[Files, Action, Verify, Done],
        TaskType::Gate => &[Skill, Action, Verify, Done],
        TaskType::HumanVerify | TaskType::Decision | TaskType::HumanAction => &[Action, Verify],
        TaskType::Unknown(_) => &[],
    };
    let present = |field: KnownField| match field {
        Skill => !task.skills.is_empty(),
        Files => !task.files.is_empty() || !task.files_prose.is_empty(),
        Action => task.action.as_ref().is_some_and(|v| !v.trim().is_empty()),
        Verify => task.verify.as_ref().is_some_and(|v| !v.trim().is_empty()),
        Done => task.done.as_ref().is_some_and(|v| !v.trim().is_empty()),
        Attempts => true, // never required
    };
    let missing: Vec<&str> = required.iter().filter(|&&f| !present(f)).map(|f| f.name()).collect();
    if missing.is_empty() {
        return;
    }
    let list = missing.iter().map(|name| format!("**{name}**")).collect::<Vec<_>>().join(", ");
    doc.report(
        Diagnostic::new(
            Code::MissingField,
            task.span,
            format!("task {} ({}) lacks {}", task.id, task.kind, missing.join(", ")),
        )
        .with_help(format!("add {list} as `- **Name**: value` items under the task")),
    );
}

/// `bad-attempts` for an **Attempts** value that is not `<N>` or `<N> parallel` with N from 1 to 8.
fn bad_attempts(id: TaskId, value: &str, value_span: Span, name_span: Span) -> Diagnostic {
    let count = value.split_whitespace().next().and_then(|word| word.parse::<u64>().ok());
    let message = match count {
        _ if value.trim().is_empty() => format!("task {id} has an empty Attempts field"),
        Some(n) if !(1..=u64::from(Attempts::MAX)).contains(&n) => {
            format!("task {id} asks for {n} attempts; a task may have 1 to {}", Attempts::MAX)
        }
        _ => format!("task {id}: `{value}` is not a number of attempts"),
    };
    let span = if value_span.start == value_span.end { name_span } else { value_span };
    Diagnostic::new(Code::BadAttempts, span, message).with_help(format!(
        "write `- **Attempts**: 3 parallel` (best of 3 attempts at once) or `- **Attempts**: 3` (up to 3, one after \
         another), with a number from 1 to {}",
        Attempts::MAX
    ))
}

/// Words that open a sentence addressed to a person: "Run `npm run dev` and open `/room/1`".
const TO_A_PERSON: &[&str] = &[
    "run", "open", "start", "launch", "visit", "go", "navigate", "browse", "click", "tap", "press", "type", "enter",
    "check", "look", "see", "view", "watch", "confirm", "verify", "ensure", "try", "use", "log", "sign", "reload",
    "refresh", "scroll", "select", "hover", "inspect", "compare", "load", "point", "resize", "drag", "fill", "submit",
];

/// Words that may come before the verb of such a sentence ("Then run …").
const LEAD_INS: &[&str] = &["then", "first", "next", "now", "and", "please", "finally", "also", "manually"];

/// The sentences of a human-verify task's **Verify** that are steps for a person: they open
/// with an imperative verb ([`TO_A_PERSON`], possibly after "then" or after a phrase ending in
/// `,` such as "In a browser,") and hold a backticked span. Sentences end at `.`, `!` or `?`
/// before white space, at `;`, and at a line break before a list item or a blank line; code
/// spans never split a sentence.
fn person_steps(src: &str, value: Span, codes: &[(String, Span)]) -> Vec<Span> {
    sentences(src, value, codes)
        .into_iter()
        .filter(|sentence| codes.iter().any(|(_, code)| sentence.start <= code.start && code.end <= sentence.end))
        .filter(|sentence| {
            let text = &src[sentence.range()];
            // Up to the first code span: the words a person reads before the command.
            let first_code = codes.iter().map(|(_, c)| c.start).filter(|&at| at >= sentence.start).min();
            let head = &text[..first_code.map_or(text.len(), |at| (at - sentence.start).min(text.len()))];
            opens_with_verb(head) || head.split_once(',').is_some_and(|(_, rest)| opens_with_verb(rest))
        })
        .collect()
}

fn opens_with_verb(text: &str) -> bool {
    let mut words = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .skip_while(|w| LEAD_INS.contains(&w.as_str()));
    match words.next().as_deref() {
        Some("make") => words.next().as_deref() == Some("sure"),
        Some(word) => TO_A_PERSON.contains(&word),
        None => false,
    }
}

/// The sentences of `value` (see [`person_steps`]), trimmed, list markers included.
fn sentences(src: &str, value: Span, codes: &[(String, Span)]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = value.start;
    let mut at = value.start;
    let bytes = src.as_bytes();
    let mut push = |from: usize, to: usize| {
        let text = &src[from..to];
        let lead = text.len() - text.trim_start().len();
        let body = text.trim();
        if !body.is_empty() {
            out.push(Span::new(from + lead, from + lead + body.len()));
        }
    };
    while at < value.end {
        // Nothing inside a code span ends a sentence (`a.b; c`).
        if let Some((_, code)) = codes.iter().find(|(_, c)| c.start <= at && at < c.end) {
            at = code.end;
            continue;
        }
        let next = bytes.get(at + 1).copied();
        let ends = match bytes[at] {
            b'.' | b'!' | b'?' => next.is_none_or(|b| b.is_ascii_whitespace()) || at + 1 >= value.end,
            b';' => true,
            b'\n' => {
                let rest = src[at + 1..value.end].trim_start_matches([' ', '\t', '\r']);
                rest.is_empty()
                    || rest.starts_with('\n')
                    || rest.starts_with(['-', '*', '+'])
                    || rest.trim_start_matches(|c: char| c.is_ascii_digit()).starts_with(['.', ')'])
                        && rest.starts_with(|c: char| c.is_ascii_digit())
            }
            _ => false,
        };
        if ends {
            push(start, at + 1);
            start = at + 1;
        }
        at += 1;
    }
    push(start, value.end);
    out
}

/// A step's text on one line, as a person reads it: line breaks and the indentation after them
/// become one space; a list marker before it and a `;` or `,` after it are dropped.
fn one_line(text: &str) -> String {
    let text = text.trim_start_matches(['-', '*', '+', ' ']);
    let numbered = text.trim_start_matches(|c: char| c.is_ascii_digit());
    let text = match numbered.strip_prefix(['.', ')']) {
        Some(rest) if numbered.len() < text.len() => rest,
        _ => text,
    };
    let text = text.trim().trim_end_matches([';', ',']);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `span` with trailing whitespace dropped.
fn trimmed_end(src: &str, start: usize, end: usize) -> Span {
    let start = start.min(end);
    Span::new(start, start + src[start..end].trim_end().len())
}

/// A field value with the item's continuation indentation removed, cleaned.
fn dedent(doc: &Doc, content_start: usize, value: Span) -> String {
    let indent = content_start - doc.line_start(content_start);
    let raw = doc.raw(value);
    let mut out = String::with_capacity(raw.len());
    for (i, line) in raw.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            let strip = line.len() - line.trim_start_matches(' ').len();
            out.push_str(&line[strip.min(indent)..]);
        } else {
            out.push_str(line);
        }
    }
    text::clean(&out)
}

/// Splits `span` at commas outside the given code spans; returns the trimmed pieces.
fn comma_pieces(src: &str, span: Span, codes: &[(String, Span)]) -> Vec<Span> {
    let mut pieces = Vec::new();
    let mut start = span.start;
    let mut at = span.start;
    while at < span.end {
        if let Some((_, code)) = codes.iter().find(|(_, c)| c.start <= at && at < c.end) {
            at = code.end;
            continue;
        }
        if src.as_bytes()[at] == b',' || src.as_bytes()[at] == b'\n' {
            pieces.push(Span::new(start, at));
            start = at + 1;
        }
        at += 1;
    }
    pieces.push(Span::new(start, span.end));
    pieces
        .into_iter()
        .filter_map(|piece| {
            let raw = &src[piece.range()];
            let lead = raw.len() - raw.trim_start_matches([' ', '\t', '\r', '-', '*', '+']).len();
            let body = raw[lead..].trim_end();
            let body = strip_prefix_ignore_case(body, "and ").unwrap_or(body);
            let lead = raw.len() - raw[lead..].len() + (raw[lead..].trim_end().len() - body.len());
            (!body.is_empty()).then(|| Span::new(piece.start + lead, piece.start + lead + body.len()))
        })
        .collect()
}

/// Splits **Files** into paths (backticked, or bare tokens that look like paths) and prose.
fn parse_files(doc: &mut Doc, task: &mut Task, value: Span, codes: &[(String, Span)]) {
    for piece in comma_pieces(doc.src, value, codes) {
        let inside: Vec<&(String, Span)> =
            codes.iter().filter(|(_, c)| piece.start <= c.start && c.end <= piece.end).collect();
        if !inside.is_empty() {
            for (path, span) in inside {
                check_path(doc, path, *span, &format!("task {}", task.id));
                task.files.push(Spanned::new(path.clone(), *span));
            }
            continue;
        }
        let text = doc.clean(piece);
        if looks_like_path(&text) {
            check_path(doc, &text, piece, &format!("task {}", task.id));
            task.files.push(Spanned::new(text, piece));
        } else {
            task.files_prose.push(Spanned::new(text, piece));
        }
    }
    if task.kind == TaskType::Auto {
        for prose in &task.files_prose {
            doc.report(
                Diagnostic::new(Code::VagueFiles, prose.span, format!("task {} lists `{}` instead of paths", task.id, prose.value))
                    .with_label("not a path")
                    .with_help("name the files in backticks, e.g. `src/lib/panel.ts`, or a glob such as `src/components/*.svelte`, so parallel tasks can be kept apart"),
            );
        }
    }
}

/// A bare word that reads as a path: no spaces, and a `/` or a file extension.
fn looks_like_path(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    !text.is_empty()
        && !text.contains(char::is_whitespace)
        && lower != "n/a"
        && text.chars().any(|c| c.is_alphanumeric())
        && (text.contains('/')
            || text.rsplit_once('.').is_some_and(|(stem, ext)| {
                !stem.is_empty() && !ext.is_empty() && ext.chars().all(|c| c.is_ascii_alphanumeric())
            }))
}

/// `path-outside-repo` for absolute paths and paths with a `..` component.
pub(crate) fn check_path(doc: &mut Doc, path: &str, span: Span, owner: &str) {
    let absolute = path.starts_with(['/', '\\', '~'])
        || (path.len() >= 3
            && path.as_bytes()[1] == b':'
            && matches!(path.as_bytes()[2], b'/' | b'\\')
            && path.as_bytes()[0].is_ascii_alphabetic());
    let escapes = path.split(['/', '\\']).any(|part| part == "..");
    if absolute || escapes {
        let why = if absolute { "is absolute" } else { "leaves the repository" };
        doc.report(
            Diagnostic::new(Code::PathOutsideRepo, span, format!("{owner}: path `{path}` {why}"))
                .with_help("write paths relative to the repository root, inside it; agents work in a worktree of the repository and nowhere else"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id, title, type and rest of a header, as text.
    type Parts = (String, Option<String>, Option<String>, Option<String>);

    fn header(raw: &str) -> Option<Parts> {
        let h = parse_header(raw)?;
        let get = |s: Option<Span>| s.map(|s| raw[s.range()].to_owned());
        Some((h.id.to_string(), get(h.title), get(h.kind), get(h.rest)))
    }

    #[test]
    fn task_headers_in_their_usual_shapes() {
        let owned = |s: &str| Some(s.to_owned());
        assert_eq!(header("**Task 1.1** (type: auto)"), Some(("1.1".into(), None, owned("auto"), None)));
        assert_eq!(
            header("**Task 5.1: Production Engineer Review** (type: checkpoint:gate)"),
            Some(("5.1".into(), owned("Production Engineer Review"), owned("checkpoint:gate"), None))
        );
        assert_eq!(
            header("**Task 2.3:** Wire it (Type: auto) now"),
            Some(("2.3".into(), owned("Wire it"), owned("auto"), owned("now")))
        );
        assert_eq!(header("**Task 7.2**"), Some(("7.2".into(), None, None, None)));
        assert_eq!(header("**Tasks 1.1** (type: auto)"), None);
        assert_eq!(header("**Task one** (type: auto)"), None);
        assert_eq!(header("Task 1.1 (type: auto)"), None);
    }

    #[test]
    fn field_heads_with_the_colon_inside_or_outside() {
        assert_eq!(parse_field_head("**Files**: `a`"), Some((Span::new(2, 7), 11)));
        assert_eq!(parse_field_head("**Files:** `a`"), Some((Span::new(2, 7), 11)));
        assert_eq!(parse_field_head("**Files** without colon"), None);
        assert_eq!(parse_field_head("plain text"), None);
    }

    #[test]
    fn bare_paths_are_recognised() {
        for path in ["README.md", "src/lib.rs", "docs/"] {
            assert!(looks_like_path(path), "{path}");
        }
        for prose in ["UI components", "n/a", "none", "e.g.", "..."] {
            assert!(!looks_like_path(prose), "{prose}");
        }
    }
}

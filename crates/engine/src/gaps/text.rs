//! Text from a run and from the original plan made safe for the follow-up plan: one line,
//! cleaned of control characters, quoted as code or in a fence so that nothing in it is
//! Markdown (or a placeholder), paths `check` accepts, and shell quoting.

use std::fmt::Write as _;

/// Lines of a message, reason or output kept as evidence.
const EVIDENCE_LINES: usize = 12;
/// Characters of an evidence line kept.
const EVIDENCE_WIDTH: usize = 240;

/// `text` on one line: mojibake repaired, control characters and escape sequences gone, line
/// breaks as spaces.
pub(super) fn one_line(text: &str) -> String {
    clean(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text from a run (output, messages): mojibake repaired, terminal escape sequences dropped,
/// other control characters but tabs and line breaks replaced, tabs as spaces.
pub(super) fn clean(text: &str) -> String {
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
pub(super) fn evidence_lines(text: &str) -> Vec<String> {
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
pub(super) fn fence(lines: &[String], indent: &str) -> String {
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

pub(super) fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// `text` as an inline code span, on one line: nothing in it is Markdown (nor a placeholder).
pub(super) fn code(text: &str) -> String {
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
pub(super) fn inline_markdown(text: &str) -> String {
    let line = one_line(text);
    if plan::text::find_placeholders(&line).is_empty() && !line.starts_with(['#', '>', '<', '|']) {
        line
    } else {
        code(&line)
    }
}

/// Text for a task title (inside `**...**`) or a wave name: no Markdown, no braces.
pub(super) fn title_text(text: &str) -> String {
    crate::report::ellipsize(&plain(text), 80)
}

/// Prose for a Verify criterion, where every code span would be a command: no Markdown.
pub(super) fn plain(text: &str) -> String {
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
pub(super) fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// `path:12` or `path:12:3` → `path`.
pub(super) fn location_path(location: &str) -> String {
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
pub(super) fn stem(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().filter(|s| !s.is_empty()).unwrap_or(name);
    stem.to_owned()
}

/// `text` quoted for `sh` (only when it needs quotes).
pub(super) fn sh_quote(text: &str) -> String {
    shell_words::quote(text).into_owned()
}

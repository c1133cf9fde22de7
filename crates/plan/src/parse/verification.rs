//! `## Verification`: `### Automated` commands in a fence, `### Manual` steps in a list.

use super::commits::code_lines;
use super::{Block, BlockKind, Doc, normalize_heading};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{AutomatedCheck, Block as ExtraBlock, Plan};
use crate::span::{Span, Spanned};
use crate::text;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Before any `###`: a fence is taken as Automated, a list as Manual.
    Top,
    Automated,
    Manual,
    Unknown,
}

/// Reads the blocks of `## Verification`.
pub(super) struct Parser {
    part: Part,
    place: String,
}

impl Default for Parser {
    fn default() -> Self {
        Parser { part: Part::Top, place: "Verification".to_owned() }
    }
}

impl Parser {
    pub(super) fn block(&mut self, doc: &mut Doc, plan: &mut Plan, block: &Block) {
        match (block.kind, self.part) {
            (BlockKind::Heading(3), _) => {
                let text = block.inline_text();
                self.part = match normalize_heading(&text).as_str() {
                    "automated" => Part::Automated,
                    "manual" => Part::Manual,
                    _ => {
                        doc.report(
                            Diagnostic::new(Code::UnknownSection, block.span, format!("unknown Verification part `### {text}`"))
                                .with_label("kept, but not run")
                                .with_help("Verification has `### Automated` (a fence of commands) and `### Manual` (a numbered list)"),
                        );
                        Part::Unknown
                    }
                };
                self.place = format!("Verification / {text}");
            }
            (BlockKind::CodeBlock, Part::Top | Part::Automated) => read_commands(doc, block, plan),
            (BlockKind::List, Part::Top | Part::Manual) => {
                for item in block.list_items() {
                    let (start, _) = doc.item_content(block, &item);
                    let span = Span::new(start, item.span.end);
                    plan.verification.manual.push(Spanned::new(doc.clean(span), span));
                }
            }
            _ => plan.extra.push(ExtraBlock {
                section: self.place.clone(),
                text: doc.clean(block.span),
                span: block.span,
            }),
        }
    }
}

/// One command per line; a trailing `# comment` is the expectation; `\` continues a line.
fn read_commands(doc: &mut Doc, block: &Block, plan: &mut Plan) {
    let mut pending: Option<(String, Span)> = None;
    for (line, span) in code_lines(doc, block) {
        let (command, expectation) = split_comment(line);
        let command = command.trim();
        if let Some(continued) = command.strip_suffix('\\') {
            let (text, start) = pending.take().map_or((String::new(), span), |(t, s)| (t, s));
            pending = Some((format!("{text}{} ", continued.trim_end()), Span::new(start.start, span.end)));
            continue;
        }
        let (prefix, start) = pending.take().map_or((String::new(), span), |(t, s)| (t, s));
        let command = format!("{prefix}{command}");
        if command.trim().is_empty() {
            continue;
        }
        plan.verification.automated.push(AutomatedCheck {
            command: text::clean(command.trim()),
            expectation: expectation.map(|e| text::clean(e.trim())).filter(|e| !e.is_empty()),
            span: Span::new(start.start, span.end),
        });
    }
    if let Some((command, span)) = pending.filter(|(c, _)| !c.trim().is_empty()) {
        plan.verification.automated.push(AutomatedCheck {
            command: text::clean(command.trim()),
            expectation: None,
            span,
        });
    }
}

/// Splits `cmd   # expectation` at the first `#` that follows whitespace outside quotes.
/// A line that is only a comment has no command.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q && previous != '\\' => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if previous.is_whitespace() => return (&line[..at], Some(&line[at + 1..])),
            _ => {}
        }
        previous = c;
    }
    (line, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_split_outside_quotes() {
        assert_eq!(
            split_comment("npm run test:unit    # 80%+ coverage"),
            ("npm run test:unit    ", Some(" 80%+ coverage"))
        );
        assert_eq!(split_comment("echo '# not a comment' # yes"), ("echo '# not a comment' ", Some(" yes")));
        assert_eq!(split_comment("grep -c foo#bar"), ("grep -c foo#bar", None));
        assert_eq!(split_comment("# only a comment"), ("", Some(" only a comment")));
    }
}

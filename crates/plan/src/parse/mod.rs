//! From Markdown to the [`Plan`] model.
//!
//! pulldown-cmark turns the text into a flat list of events with byte ranges; [`Doc`] keeps that
//! list and splits it into top-level [`Block`]s, then into `##` sections, and each section has a
//! module of its own. Cross-element rules (dependencies, assignments, conflicts) are checked
//! afterwards by [`crate::validate`], on the finished model.

mod agents;
mod commits;
mod must_haves;
pub(crate) mod tasks;
mod verification;
mod waves;

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Block as ExtraBlock, Plan};
use crate::span::Span;
use crate::text;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag};
use std::ops::Range;

/// The Markdown extensions plans use: GFM tables, task lists and strikethrough.
pub(crate) fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH
}

/// What a top-level block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockKind {
    Heading(u8),
    Paragraph,
    List,
    BlockQuote,
    CodeBlock,
    Table,
    Other,
}

/// A block: its kind, its events (`events[range]`, the opening and closing tags included) and
/// its source span.
#[derive(Clone, Debug)]
pub(crate) struct Block {
    pub kind: BlockKind,
    pub events: Range<usize>,
    pub span: Span,
}

impl Block {
    /// The events between the opening and the closing tag.
    pub fn inner(&self) -> Range<usize> {
        if self.events.len() >= 2 { self.events.start + 1..self.events.end - 1 } else { self.events.clone() }
    }
}

/// The text being parsed, its events, and the diagnostics found so far.
pub(crate) struct Doc<'s> {
    pub src: &'s str,
    pub events: Vec<(Event<'s>, Range<usize>)>,
    pub diagnostics: Vec<Diagnostic>,
    pub layout: Layout,
}

/// Where the parser found the structures that `fmt` normalizes, so that the formatter touches
/// exactly what the parser reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layout {
    /// Task field lists.
    pub field_lists: Vec<Span>,
    /// The Agent Strategy table.
    pub agent_table: Option<Span>,
}

impl<'s> Doc<'s> {
    pub fn new(src: &'s str) -> Self {
        let events = Parser::new_ext(src, markdown_options()).into_offset_iter().collect();
        Self { src, events, diagnostics: Vec::new(), layout: Layout::default() }
    }

    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Splits `events[range]` into blocks at depth 0 of that range.
    pub fn blocks(&self, range: Range<usize>) -> Vec<Block> {
        let mut blocks = Vec::new();
        let mut depth = 0usize;
        let mut open = 0;
        for i in range {
            match &self.events[i].0 {
                Event::Start(tag) => {
                    if depth == 0 {
                        open = i;
                    }
                    depth += 1;
                    let _ = tag;
                }
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        blocks.push(self.block(open..i + 1));
                    }
                }
                _ if depth == 0 => blocks.push(self.block(i..i + 1)),
                _ => {}
            }
        }
        blocks
    }

    fn block(&self, events: Range<usize>) -> Block {
        let kind = match &self.events[events.start].0 {
            Event::Start(Tag::Heading { level, .. }) => BlockKind::Heading(heading_level(*level)),
            Event::Start(Tag::Paragraph) => BlockKind::Paragraph,
            Event::Start(Tag::List(_)) => BlockKind::List,
            Event::Start(Tag::BlockQuote(_)) => BlockKind::BlockQuote,
            Event::Start(Tag::CodeBlock(_)) => BlockKind::CodeBlock,
            Event::Start(Tag::Table(_)) => BlockKind::Table,
            _ => BlockKind::Other,
        };
        let range = self.events[events.start].1.clone();
        let span = Span::new(range.start, range.start + self.src[range].trim_end().len());
        Block { kind, events, span }
    }

    /// The source text of `span`.
    pub fn raw(&self, span: Span) -> &'s str {
        &self.src[span.range()]
    }

    /// The source text of `span`, cleaned and trimmed.
    pub fn clean(&self, span: Span) -> String {
        text::clean(self.raw(span).trim())
    }

    /// The text of inline events, as a person reads it: code keeps its backticks, line breaks
    /// become spaces. Used for headings and table cells.
    pub fn inline_text(&self, range: Range<usize>) -> String {
        let mut out = String::new();
        for (event, _) in &self.events[range] {
            match event {
                Event::Text(t)
                | Event::InlineHtml(t)
                | Event::Html(t)
                | Event::InlineMath(t)
                | Event::DisplayMath(t) => out.push_str(t),
                Event::Code(t) => {
                    out.push('`');
                    out.push_str(t);
                    out.push('`');
                }
                Event::SoftBreak | Event::HardBreak => out.push(' '),
                _ => {}
            }
        }
        text::clean(out.trim())
    }

    /// The inline code spans in `events[range]`: their content and their span.
    pub fn code_spans(&self, range: Range<usize>) -> Vec<(String, Span)> {
        self.events[range]
            .iter()
            .filter_map(|(event, r)| match event {
                Event::Code(code) => Some((text::clean(code), Span::from(r.clone()))),
                _ => None,
            })
            .collect()
    }

    /// The items of a list block: each item's event range (tags included) and span.
    pub fn list_items(&self, list: &Block) -> Vec<(Range<usize>, Span)> {
        let mut items = Vec::new();
        let mut depth = 0usize;
        let mut open = 0;
        for i in list.inner() {
            match &self.events[i].0 {
                Event::Start(_) => {
                    if depth == 0 {
                        open = i;
                    }
                    depth += 1;
                }
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 && matches!(self.events[open].0, Event::Start(Tag::Item)) {
                        items.push((open..i + 1, Span::from(self.events[open].1.clone())));
                    }
                }
                _ => {}
            }
        }
        items
    }

    /// The start of the content of a list item (after its marker), and the item's text from there.
    pub fn item_content(&self, item: &(Range<usize>, Span)) -> (usize, &'s str) {
        let (events, span) = item;
        let start = (events.start + 1..events.end.saturating_sub(1))
            .map(|i| &self.events[i])
            .find(|(event, _)| !matches!(event, Event::TaskListMarker(_)))
            .map_or(span.end, |(_, r)| r.start)
            .clamp(span.start, span.end);
        (start, &self.src[start..span.end])
    }

    /// Byte offset of the start of the line holding `offset`.
    pub fn line_start(&self, offset: usize) -> usize {
        self.src[..offset].rfind('\n').map_or(0, |i| i + 1)
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    level as u8
}

/// The known `##` sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Context,
    MustHaves,
    Waves,
    AgentStrategy,
    CommitStrategy,
    Verification,
}

impl Section {
    const ALL: [Section; 6] = [
        Section::Context,
        Section::MustHaves,
        Section::Waves,
        Section::AgentStrategy,
        Section::CommitStrategy,
        Section::Verification,
    ];

    fn title(self) -> &'static str {
        match self {
            Section::Context => "Context",
            Section::MustHaves => "must_haves",
            Section::Waves => "Waves",
            Section::AgentStrategy => "Agent Strategy",
            Section::CommitStrategy => "Commit Strategy",
            Section::Verification => "Verification",
        }
    }

    /// Matches a heading case-insensitively; spaces, `-` and `_` are the same, a trailing `:` is ignored.
    fn from_heading(heading: &str) -> Option<Section> {
        let key = normalize_heading(heading);
        Section::ALL.into_iter().find(|section| normalize_heading(section.title()) == key)
    }
}

/// Lowercase, `-`/` ` folded into `_`, trailing `:` dropped: `Must-Haves:` → `must_haves`.
pub(crate) fn normalize_heading(heading: &str) -> String {
    heading
        .trim()
        .trim_end_matches(':')
        .trim()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c.to_ascii_lowercase() })
        .collect()
}

/// Parses `src` into a plan; `fallback_id` is the milestone id to use when the title has none
/// (the file stem). Returns the plan and the structural diagnostics, unsorted.
pub(crate) fn parse_document(src: &str, fallback_id: &str) -> (Plan, Vec<Diagnostic>, Layout) {
    let mut doc = Doc::new(src);
    let mut plan = Plan::default();
    let blocks = doc.blocks(0..doc.events.len());

    // Split into the title, the preamble and the `##` sections.
    let mut title: Option<Block> = None;
    let mut preamble: Vec<Block> = Vec::new();
    let mut sections: Vec<(Block, Vec<Block>)> = Vec::new();
    for block in blocks {
        match block.kind {
            BlockKind::Heading(1) if title.is_none() && sections.is_empty() => title = Some(block),
            BlockKind::Heading(2) => sections.push((block, Vec::new())),
            _ => match sections.last_mut() {
                Some((_, body)) => body.push(block),
                None => preamble.push(block),
            },
        }
    }

    let milestone_known = parse_title(&mut doc, title.as_ref(), fallback_id, &mut plan);
    if let Some(span) = span_of(&preamble) {
        plan.extra.push(ExtraBlock { section: "Preamble".into(), text: doc.clean(span), span });
    }

    let mut seen: Vec<(Section, Span)> = Vec::new();
    for (heading, body) in &sections {
        let name = doc.inline_text(heading.inner());
        let Some(section) = Section::from_heading(&name) else {
            doc.report(
                Diagnostic::new(Code::UnknownSection, heading.span, format!("unknown section `## {name}`"))
                    .with_label("kept, but not run")
                    .with_help("known sections are Context, must_haves, Waves, Agent Strategy, Commit Strategy and Verification"),
            );
            let span = Span::new(heading.span.start, span_of(body).map_or(heading.span.end, |s| s.end));
            plan.extra.push(ExtraBlock { section: name, text: doc.clean(span), span });
            continue;
        };
        if let Some(&(_, first)) = seen.iter().find(|(s, _)| *s == section) {
            doc.report(
                Diagnostic::new(
                    Code::DuplicateSection,
                    heading.span,
                    format!("section `## {}` appears twice", section.title()),
                )
                .with_related(first, "first written here")
                .with_help("merge the two sections into one"),
            );
        } else {
            seen.push((section, heading.span));
        }
        match section {
            Section::Context => {
                if let Some(span) = span_of(body) {
                    if !plan.context.is_empty() {
                        plan.context.push_str("\n\n");
                    }
                    plan.context.push_str(&doc.clean(span));
                }
            }
            Section::MustHaves => must_haves::parse(&mut doc, body, &mut plan),
            Section::Waves => {
                waves::parse(&mut doc, body, &mut plan);
                if plan.waves.is_empty() {
                    doc.report(
                        Diagnostic::new(
                            Code::MissingWaves,
                            heading.span,
                            "`## Waves` has no `### Wave <n>: <name>` heading, so there is nothing to run",
                        )
                        .with_help("head each wave `### Wave 1: <name>` and put its tasks under it"),
                    );
                }
            }
            Section::AgentStrategy => agents::parse(&mut doc, body, &mut plan),
            Section::CommitStrategy => commits::parse(&mut doc, body, &mut plan, milestone_known),
            Section::Verification => verification::parse(&mut doc, body, &mut plan),
        }
    }

    let anchor = title.as_ref().map_or(Span::new(0, 0), |t| t.span);
    for section in Section::ALL {
        if seen.iter().any(|(s, _)| *s == section) {
            continue;
        }
        let diagnostic = if section == Section::Waves {
            Diagnostic::new(
                Code::MissingWaves,
                anchor,
                "the plan has no `## Waves` section, so there is nothing to run",
            )
            .with_help("add `## Waves` with `### Wave 1: <name>` and its tasks")
        } else {
            Diagnostic::new(Code::MissingSection, anchor, format!("the plan has no `## {}` section", section.title()))
                .with_help(missing_section_help(section))
        };
        doc.report(diagnostic);
    }

    report_placeholders(&mut doc);
    report_mojibake(&mut doc);
    (plan, doc.diagnostics, doc.layout)
}

fn missing_section_help(section: Section) -> &'static str {
    match section {
        Section::Context => "add `## Context`: why the milestone exists; agents read it with every task",
        Section::MustHaves => "add `## must_haves` with truths, artifacts and key_links, so the result can be checked",
        Section::AgentStrategy => {
            "add an `## Agent Strategy` table (`| Wave | Agent | Model | Tasks |`); without it every task gets the default agent"
        }
        Section::CommitStrategy => {
            "add a `## Commit Strategy` block of conventional commits; without it every task gets a default message"
        }
        Section::Verification => "add `## Verification` with `### Automated` commands and `### Manual` steps",
        Section::Waves => "",
    }
}

/// The span from the first to the last block, if any.
pub(crate) fn span_of(blocks: &[Block]) -> Option<Span> {
    Some(Span::new(blocks.first()?.span.start, blocks.last()?.span.end))
}

/// Reads `# <id> Implementation Plan: <title>`; returns whether the milestone id is known
/// (present and not a placeholder).
fn parse_title(doc: &mut Doc, title: Option<&Block>, fallback_id: &str, plan: &mut Plan) -> bool {
    let text = title.map(|block| doc.inline_text(block.inner()));
    let parsed = text.as_deref().and_then(split_title);
    match (parsed, title) {
        (Some((id, name)), _) => {
            plan.milestone = id.to_owned();
            plan.title = name.to_owned();
            !id.contains('{')
        }
        (None, block) => {
            plan.milestone = fallback_id.to_owned();
            plan.title = text.clone().unwrap_or_default();
            let span = block.map_or_else(|| Span::new(0, doc.src.find('\n').unwrap_or(doc.src.len())), |b| b.span);
            let message = match &text {
                Some(text) => format!("the title `# {text}` is not `# <id> Implementation Plan: <title>`"),
                None => "the plan has no `# <id> Implementation Plan: <title>` title".to_owned(),
            };
            doc.report(
                Diagnostic::new(Code::MissingTitle, span, message)
                    .with_label(format!("milestone id taken from the file name: `{fallback_id}`"))
                    .with_help(format!("start the plan with `# {fallback_id} Implementation Plan: <title>`")),
            );
            !fallback_id.contains('{')
        }
    }
}

/// Splits `M3 Implementation Plan: Rooms` into `("M3", "Rooms")`.
fn split_title(text: &str) -> Option<(&str, &str)> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("implementation plan")?;
    let id = text[..at].trim();
    let rest = text[at + "implementation plan".len()..].trim_start();
    let name = rest.strip_prefix(':').unwrap_or(rest).trim();
    (!id.is_empty() && !id.contains(char::is_whitespace)).then_some((id, name))
}

/// `unfilled-placeholder` for every `{...}` in prose: anywhere but code spans, code blocks and HTML.
fn report_placeholders(doc: &mut Doc) {
    let code: Vec<Range<usize>> = doc
        .events
        .iter()
        .filter(|(event, _)| {
            matches!(event, Event::Code(_) | Event::Start(Tag::CodeBlock(_)) | Event::Html(_) | Event::InlineHtml(_))
        })
        .map(|(_, range)| range.clone())
        .collect();
    let in_code = |span: Span| {
        let at = code.partition_point(|r| r.end <= span.start);
        code[at..].iter().take_while(|r| r.start < span.end).next().is_some()
    };
    for span in text::find_placeholders(doc.src) {
        if in_code(span) {
            continue;
        }
        let placeholder = doc.raw(span).to_owned();
        doc.report(
            Diagnostic::new(Code::UnfilledPlaceholder, span, format!("unfilled placeholder `{placeholder}`"))
                .with_help("replace it with the real text: this part of the plan is still the template"),
        );
    }
}

/// `mojibake` for every garbled stretch, with the repair as the fix.
fn report_mojibake(doc: &mut Doc) {
    for found in text::find_mojibake(doc.src) {
        let garbled = doc.raw(found.span);
        let repaired = text::repair(garbled).into_owned();
        doc.report(
            Diagnostic::new(
                Code::Mojibake,
                found.span,
                format!("mojibake `{garbled}`: UTF-8 text that was read as Windows-1252"),
            )
            .with_label(format!("this reads `{repaired}`"))
            .with_help(format!("replace it with `{repaired}` (`wavecrew fmt` does it)"))
            .with_fix(found.span, repaired),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_split_into_id_and_name() {
        assert_eq!(split_title("M3 Implementation Plan: Rooms"), Some(("M3", "Rooms")));
        assert_eq!(split_title("v2.1 implementation plan:Speed"), Some(("v2.1", "Speed")));
        assert_eq!(split_title("Implementation Plan: no id"), None);
        assert_eq!(split_title("Some plan"), None);
    }

    #[test]
    fn section_names_are_matched_loosely() {
        assert_eq!(Section::from_heading("must-haves"), Some(Section::MustHaves));
        assert_eq!(Section::from_heading("AGENT STRATEGY:"), Some(Section::AgentStrategy));
        assert_eq!(Section::from_heading("Risks"), None);
    }
}

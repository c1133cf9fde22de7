//! From Markdown to the [`Plan`] model.
//!
//! pulldown-cmark turns the text into events with byte ranges. [`Blocks`] groups them into
//! top-level blocks as they stream by, and each block goes at once to the parser of the `##`
//! section it is in (one module per section), then is dropped: memory stays proportional to
//! the largest block, not to the plan. Cross-element rules (dependencies, assignments,
//! conflicts) are checked afterwards by [`crate::validate`], on the finished model.

mod agents;
mod commits;
mod must_haves;
pub(crate) mod tasks;
mod verification;
mod waves;

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Block as ExtraBlock, Plan, TaskId};
use crate::span::Span;
use crate::text;
use pulldown_cmark::{Event, HeadingLevel, OffsetIter, Options, Parser, Tag};
use rustc_hash::FxHashMap as HashMap;
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

/// A top-level block: its kind, its events (the opening and closing tags included) and its
/// source span (trailing white space excluded).
#[derive(Clone, Debug)]
pub(crate) struct Block<'s> {
    pub kind: BlockKind,
    pub events: Vec<(Event<'s>, Range<usize>)>,
    pub span: Span,
}

/// An item of a list block: its events (indices into the block's events, tags included) and span.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub events: Range<usize>,
    pub span: Span,
}

impl<'s> Block<'s> {
    fn new(events: Vec<(Event<'s>, Range<usize>)>, src: &str) -> Self {
        let kind = match events.first().map(|(event, _)| event) {
            Some(Event::Start(Tag::Heading { level, .. })) => BlockKind::Heading(heading_level(*level)),
            Some(Event::Start(Tag::Paragraph)) => BlockKind::Paragraph,
            Some(Event::Start(Tag::List(_))) => BlockKind::List,
            Some(Event::Start(Tag::BlockQuote(_))) => BlockKind::BlockQuote,
            Some(Event::Start(Tag::CodeBlock(_))) => BlockKind::CodeBlock,
            Some(Event::Start(Tag::Table(_))) => BlockKind::Table,
            _ => BlockKind::Other,
        };
        let range = events.first().map_or(0..0, |(_, range)| range.clone());
        let span = Span::new(range.start, range.start + src[range].trim_end().len());
        Block { kind, events, span }
    }

    /// The events between the opening and the closing tag.
    pub fn inner(&self) -> &[(Event<'s>, Range<usize>)] {
        if self.events.len() >= 2 { &self.events[1..self.events.len() - 1] } else { &self.events }
    }

    /// The text of the block's inline events, as a person reads it: code keeps its backticks,
    /// line breaks become spaces. Used for headings.
    pub fn inline_text(&self) -> String {
        let mut out = String::new();
        for (event, _) in self.inner() {
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

    /// The inline code spans among `events[range]`: their content and their span.
    pub fn code_spans(&self, range: Range<usize>) -> Vec<(String, Span)> {
        self.events[range]
            .iter()
            .filter_map(|(event, r)| match event {
                Event::Code(code) => Some((text::clean(code), Span::from(r.clone()))),
                _ => None,
            })
            .collect()
    }

    /// The items of a list block.
    pub fn list_items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut depth = 0usize;
        let mut open = 0;
        for (i, (event, _)) in self.events.iter().enumerate().skip(1).take(self.events.len().saturating_sub(2)) {
            match event {
                Event::Start(_) => {
                    if depth == 0 {
                        open = i;
                    }
                    depth += 1;
                }
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 && matches!(self.events[open].0, Event::Start(Tag::Item)) {
                        items.push(Item { events: open..i + 1, span: Span::from(self.events[open].1.clone()) });
                    }
                }
                _ => {}
            }
        }
        items
    }
}

/// Top-level blocks, grouped from pulldown-cmark's events as they stream by. It also notes
/// where code and HTML are, for the placeholder search.
pub(crate) struct Blocks<'s> {
    src: &'s str,
    events: OffsetIter<'s>,
    /// Ranges of code spans, code blocks and HTML, in document order.
    pub code: Vec<Range<usize>>,
}

impl<'s> Blocks<'s> {
    pub fn new(src: &'s str) -> Self {
        Blocks { src, events: Parser::new_ext(src, markdown_options()).into_offset_iter(), code: Vec::new() }
    }
}

impl<'s> Iterator for Blocks<'s> {
    type Item = Block<'s>;

    fn next(&mut self) -> Option<Block<'s>> {
        // Most blocks of a plan (a task header, its field list) hold a few dozen events.
        let mut events = Vec::with_capacity(32);
        let mut depth = 0usize;
        for (event, range) in self.events.by_ref() {
            if matches!(event, Event::Code(_) | Event::Start(Tag::CodeBlock(_)) | Event::Html(_) | Event::InlineHtml(_))
            {
                self.code.push(range.clone());
            }
            match &event {
                Event::Start(_) => depth += 1,
                Event::End(_) => depth = depth.saturating_sub(1),
                _ => {}
            }
            events.push((event, range));
            if depth == 0 {
                return Some(Block::new(events, self.src));
            }
        }
        (!events.is_empty()).then(|| Block::new(events, self.src))
    }
}

/// The text being parsed and what was found so far.
pub(crate) struct Doc<'s> {
    pub src: &'s str,
    pub diagnostics: Vec<Diagnostic>,
    pub layout: Layout,
    /// Where each task id was first written, to find duplicates without scanning every task.
    pub task_spans: HashMap<TaskId, Span>,
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
        Self { src, diagnostics: Vec::new(), layout: Layout::default(), task_spans: HashMap::default() }
    }

    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The source text of `span`.
    pub fn raw(&self, span: Span) -> &'s str {
        &self.src[span.range()]
    }

    /// The source text of `span`, cleaned and trimmed.
    pub fn clean(&self, span: Span) -> String {
        text::clean(self.raw(span).trim())
    }

    /// The start of a list item's content (after its marker), and the item's text from there.
    pub fn item_content(&self, block: &Block, item: &Item) -> (usize, &'s str) {
        let inner = item.events.start + 1..item.events.end.saturating_sub(1);
        let start = block.events[inner]
            .iter()
            .find(|(event, _)| !matches!(event, Event::TaskListMarker(_)))
            .map_or(item.span.end, |(_, r)| r.start)
            .clamp(item.span.start, item.span.end);
        (start, &self.src[start..item.span.end])
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

/// A section being read: its parser gets the section's blocks one by one.
enum Open {
    /// Before the first `##`.
    Preamble,
    Context,
    MustHaves(must_haves::Parser),
    Waves(waves::Parser),
    Agents(agents::Parser),
    Commits(commits::Parser),
    Verification(verification::Parser),
    /// A section wavecrew does not know, kept as one block.
    Unknown(String),
}

/// Parses `src` into a plan; `fallback_id` is the milestone id to use when the title has none
/// (the file stem). Returns the plan and the document, which holds the structural diagnostics
/// (unsorted) and the layout `fmt` needs.
pub(crate) fn parse_document<'s>(src: &'s str, fallback_id: &str) -> (Plan, Doc<'s>) {
    let mut doc = Doc::new(src);
    let mut plan = Plan::default();
    let mut blocks = Blocks::new(src);

    let mut title: Option<Span> = None;
    let mut milestone_known = None;
    let mut open = Open::Preamble;
    // The first and last span of the section being read, and its heading.
    let mut body: Option<Span> = None;
    let mut heading = Span::default();
    let mut seen: Vec<(Section, Span)> = Vec::new();

    for block in blocks.by_ref() {
        match block.kind {
            BlockKind::Heading(1) if title.is_none() && matches!(open, Open::Preamble) => {
                title = Some(block.span);
                milestone_known = Some(parse_title(&mut doc, Some(&block), fallback_id, &mut plan));
            }
            BlockKind::Heading(2) => {
                let known = *milestone_known.get_or_insert_with(|| parse_title(&mut doc, None, fallback_id, &mut plan));
                close(&mut doc, &mut plan, std::mem::replace(&mut open, Open::Preamble), heading, body.take());
                heading = block.span;
                let name = block.inline_text();
                open = match Section::from_heading(&name) {
                    None => Open::Unknown(name),
                    Some(section) => {
                        if let Some(&(_, first)) = seen.iter().find(|(s, _)| *s == section) {
                            doc.report(
                                Diagnostic::new(
                                    Code::DuplicateSection,
                                    block.span,
                                    format!("section `## {}` appears twice", section.title()),
                                )
                                .with_related(first, "first written here")
                                .with_help("merge the two sections into one"),
                            );
                        } else {
                            seen.push((section, block.span));
                        }
                        match section {
                            Section::Context => Open::Context,
                            Section::MustHaves => Open::MustHaves(must_haves::Parser::default()),
                            Section::Waves => Open::Waves(waves::Parser::new(&plan)),
                            Section::AgentStrategy => Open::Agents(agents::Parser::default()),
                            Section::CommitStrategy => Open::Commits(commits::Parser::new(known)),
                            Section::Verification => Open::Verification(verification::Parser::default()),
                        }
                    }
                };
            }
            _ => {
                body = Some(body.map_or(block.span, |b| Span::new(b.start, block.span.end)));
                match &mut open {
                    Open::MustHaves(parser) => parser.block(&mut doc, &mut plan, &block),
                    Open::Waves(parser) => parser.block(&mut doc, &mut plan, &block),
                    Open::Agents(parser) => parser.block(&mut doc, &mut plan, &block),
                    Open::Commits(parser) => parser.block(&mut doc, &mut plan, &block),
                    Open::Verification(parser) => parser.block(&mut doc, &mut plan, &block),
                    Open::Preamble | Open::Context | Open::Unknown(_) => {}
                }
            }
        }
    }
    if milestone_known.is_none() {
        parse_title(&mut doc, None, fallback_id, &mut plan);
    }
    close(&mut doc, &mut plan, open, heading, body);

    let anchor = title.unwrap_or_default();
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

    report_placeholders(&mut doc, &blocks.code);
    report_mojibake(&mut doc);
    (plan, doc)
}

/// Ends the section being read: the preamble and unknown sections are kept whole, Context is
/// stored, and section parsers finish their checks.
fn close(doc: &mut Doc, plan: &mut Plan, open: Open, heading: Span, body: Option<Span>) {
    match open {
        Open::Preamble => {
            if let Some(span) = body {
                plan.extra.push(ExtraBlock { section: "Preamble".into(), text: doc.clean(span), span });
            }
        }
        Open::Unknown(name) => {
            doc.report(
                Diagnostic::new(Code::UnknownSection, heading, format!("unknown section `## {name}`"))
                    .with_label("kept, but not run")
                    .with_help(
                        "known sections are Context, must_haves, Waves, Agent Strategy, Commit Strategy and Verification",
                    ),
            );
            let span = Span::new(heading.start, body.map_or(heading.end, |s| s.end));
            plan.extra.push(ExtraBlock { section: name, text: doc.clean(span), span });
        }
        Open::Context => {
            if let Some(span) = body {
                if !plan.context.is_empty() {
                    plan.context.push_str("\n\n");
                }
                plan.context.push_str(&doc.clean(span));
            }
        }
        Open::Waves(parser) => parser.finish(doc, plan, heading),
        Open::MustHaves(_) | Open::Agents(_) | Open::Commits(_) | Open::Verification(_) => {}
    }
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

/// Reads `# <id> Implementation Plan: <title>`; returns whether the milestone id is known
/// (present and not a placeholder).
fn parse_title(doc: &mut Doc, title: Option<&Block>, fallback_id: &str, plan: &mut Plan) -> bool {
    let text = title.map(Block::inline_text);
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

/// `unfilled-placeholder` for every `{...}` in prose: anywhere but code spans, code blocks and HTML
/// (`code`: their ranges, in document order).
fn report_placeholders(doc: &mut Doc, code: &[Range<usize>]) {
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

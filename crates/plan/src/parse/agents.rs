//! `## Agent Strategy`: a table `| Wave | Agent | Model | Tasks |`, columns in any order.

use super::{Block, BlockKind, Doc};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{AgentRow, Block as ExtraBlock, Plan, TaskId};
use crate::span::{Span, Spanned};
use crate::text;
use pulldown_cmark::{Event, Tag};

/// A column of the table, by header name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Wave,
    Agent,
    Model,
    Tasks,
    Other,
}

impl Column {
    fn from_header(header: &str) -> Column {
        match header.trim().trim_matches(['*', '_']).to_ascii_lowercase().as_str() {
            "wave" | "waves" => Column::Wave,
            "agent" | "agents" | "name" => Column::Agent,
            "model" => Column::Model,
            "tasks" | "task" => Column::Tasks,
            _ => Column::Other,
        }
    }
}

/// Reads the blocks of `## Agent Strategy`: the first table is the strategy, the rest is kept.
#[derive(Default)]
pub(super) struct Parser {
    table_read: bool,
}

impl Parser {
    pub(super) fn block(&mut self, doc: &mut Doc, plan: &mut Plan, block: &Block) {
        if block.kind == BlockKind::Table && !self.table_read {
            self.table_read = true;
            doc.layout.agent_table = Some(block.span);
            read_table(doc, block, plan);
        } else {
            plan.extra.push(ExtraBlock {
                section: "Agent Strategy".into(),
                text: doc.clean(block.span),
                span: block.span,
            });
        }
    }
}

/// The cells of a table, row by row (the header first): each cell's span.
fn rows(table: &Block) -> Vec<(Span, Vec<Span>)> {
    let mut rows: Vec<(Span, Vec<Span>)> = Vec::new();
    for event in table.inner() {
        match event {
            (Event::Start(Tag::TableHead | Tag::TableRow), range) => rows.push((range.clone().into(), Vec::new())),
            (Event::Start(Tag::TableCell), range) => {
                if let Some((_, cells)) = rows.last_mut() {
                    cells.push(range.clone().into());
                }
            }
            _ => {}
        }
    }
    rows
}

fn read_table(doc: &mut Doc, table: &Block, plan: &mut Plan) {
    let rows = rows(table);
    let Some(((_, header), body)) = rows.split_first() else { return };
    let columns: Vec<(Column, String)> = header
        .iter()
        .map(|&cell| {
            let name = doc.clean(cell);
            (Column::from_header(&name), name)
        })
        .collect();
    for (row_span, cells) in body {
        let mut row = AgentRow {
            name: String::new(),
            model: None,
            wave: None,
            tasks: Vec::new(),
            note: None,
            other_columns: Vec::new(),
            span: *row_span,
        };
        for (&cell, (column, header)) in cells.iter().zip(&columns) {
            let value = doc.clean(cell);
            match column {
                Column::Agent => row.name = value,
                Column::Model => row.model = (!value.is_empty()).then_some(value),
                Column::Wave => {
                    row.wave = value
                        .trim_start_matches(|c: char| !c.is_ascii_digit())
                        .split(|c: char| !c.is_ascii_digit())
                        .next()
                        .and_then(|n| n.parse().ok())
                }
                Column::Tasks => read_tasks_cell(doc, cell, &mut row),
                Column::Other => row.other_columns.push((header.clone(), value)),
            }
        }
        plan.agents.push(row);
    }
}

/// `1.1, 1.2 (fast, sequential)` → the ids in order, and the note.
fn read_tasks_cell(doc: &mut Doc, cell: Span, row: &mut AgentRow) {
    let raw = doc.raw(cell);
    let mut list_end = raw.trim_end().len();
    if raw[..list_end].ends_with(')')
        && let Some(open) = raw[..list_end].rfind('(')
    {
        row.note = Some(text::clean(raw[open + 1..list_end - 1].trim()));
        list_end = open;
    }
    // Ids are separated by commas, semicolons, `&` or the word "and"; "Task" before an id is allowed.
    let list = &raw[..list_end];
    let mut start = None;
    for at in 0..=list.len() {
        let separator = list.as_bytes().get(at).is_none_or(|b| b.is_ascii_whitespace() || b",;&".contains(b));
        match (start, separator) {
            (None, false) => start = Some(at),
            (Some(from), true) => {
                start = None;
                let word = list[from..at].trim_matches(['*', '_', '`']);
                if ["and", "task", "tasks"].iter().any(|w| word.eq_ignore_ascii_case(w)) {
                    continue;
                }
                let span = Span::new(cell.start + from, cell.start + at);
                match TaskId::parse(word) {
                    Some(id) => row.tasks.push(Spanned::new(id, span)),
                    None => doc.report(
                        Diagnostic::new(Code::UnknownTask, span, format!("`{word}` is not a task id"))
                            .with_help("list task ids such as `2.1, 2.2`, then an optional note in parentheses"),
                    ),
                }
            }
            _ => {}
        }
    }
}

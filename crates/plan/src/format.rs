//! `wavecrew fmt`: repair mojibake, align tables, put task fields in canonical order.
//!
//! The formatter edits the text in place rather than printing the model back, so everything
//! it does not normalize (wording, spacing, unknown content, line endings) stays byte for byte.
//! It is idempotent, and the formatted plan parses to the same model.

use crate::parse::tasks::{KnownField, parse_field_head};
use crate::parse::{Block, BlockKind, Blocks, Doc, parse_document};
use crate::span::Span;
use crate::text;
use unicode_width::UnicodeWidthStr;

/// Formats a plan's text (without BOM). Returns the text unchanged when it is already formatted.
///
/// Only the structures the parser reads are touched: the Agent Strategy table and task field
/// lists. Other tables are prose as far as the model goes, and stay as written.
pub fn format(source: &str) -> String {
    let repaired = text::repair(source);
    let (_, doc) = parse_document(&repaired, "plan");
    let layout = &doc.layout;
    let mut edits: Vec<(Span, String)> = Vec::new();
    // A second pass over the blocks: only those the parser read are touched.
    for block in Blocks::new(&repaired) {
        match block.kind {
            BlockKind::Table if layout.agent_table == Some(block.span) => edits.extend(align_table(&doc, block.span)),
            BlockKind::List if layout.field_lists.contains(&block.span) => edits.extend(order_fields(&doc, &block)),
            _ => {}
        }
    }
    let mut out = String::with_capacity(repaired.len());
    let mut last = 0;
    for (span, replacement) in edits {
        out.push_str(&repaired[last..span.start]);
        out.push_str(&replacement);
        last = span.end;
    }
    out.push_str(&repaired[last..]);
    out
}

/// The span of whole lines covering `span`, line terminators excluded for the last line.
fn line_span(src: &str, span: Span) -> Span {
    let start = src[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let end = src[span.end..].find('\n').map_or(src.len(), |i| span.end + i);
    let end = if src[..end].ends_with('\r') { end - 1 } else { end };
    Span::new(start, end.max(start))
}

/// Splits a table line into cells at `|` not escaped by `\` (as GFM does, code spans included).
fn split_cells(line: &str) -> Vec<&str> {
    let trimmed = line.trim();
    let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
    let mut cells = Vec::new();
    let mut start = 0;
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'|' => {
                cells.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let tail = inner.get(start..).unwrap_or_default().trim();
    if !tail.is_empty() || !trimmed.ends_with('|') || trimmed == "|" {
        cells.push(tail);
    }
    cells
}

fn is_delimiter(cell: &str) -> bool {
    let body = cell.trim_start_matches(':').trim_end_matches(':');
    !body.is_empty() && body.bytes().all(|b| b == b'-')
}

/// Re-renders a top-level table with padded columns; `None` when it is already aligned or
/// when it is not a plain table at the start of its lines.
fn align_table(doc: &Doc, table: Span) -> Option<(Span, String)> {
    let lines_span = line_span(doc.src, table);
    if lines_span.start != table.start {
        return None; // indented, or inside a container: leave it as written
    }
    let raw = &doc.src[lines_span.range()];
    let lines: Vec<(&str, &str)> = raw
        .split_inclusive('\n')
        .map(|l| {
            let body = l.trim_end_matches(['\n', '\r']);
            (body, &l[body.len()..])
        })
        .collect();
    let rows: Vec<Vec<&str>> = lines.iter().map(|(body, _)| split_cells(body)).collect();
    if rows.len() < 2 || !rows[1].iter().all(|c| is_delimiter(c)) {
        return None;
    }
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![3usize; columns];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if r != 1 {
                widths[c] = widths[c].max(cell.width());
            }
        }
    }
    let mut out = String::with_capacity(raw.len() + 16);
    for (r, (row, (_, ending))) in rows.iter().zip(&lines).enumerate() {
        out.push('|');
        for (c, cell) in row.iter().enumerate() {
            if r == 1 {
                let left = cell.starts_with(':');
                let right = cell.ends_with(':') && cell.len() > 1;
                let dashes = widths[c] - usize::from(left) - usize::from(right);
                out.push(' ');
                out.push_str(if left { ":" } else { "" });
                out.push_str(&"-".repeat(dashes));
                out.push_str(if right { ":" } else { "" });
                out.push_str(" |");
            } else {
                out.push(' ');
                out.push_str(cell);
                out.push_str(&" ".repeat(widths[c] - cell.width()));
                out.push_str(" |");
            }
        }
        out.push_str(ending);
    }
    (out != raw).then_some((lines_span, out))
}

/// Reorders a task's field list into Skill, Files, Action, Verify, Done, Attempts, then the
/// rest in their written order; `None` when it is already in order.
fn order_fields(doc: &Doc, list: &Block) -> Option<(Span, String)> {
    let items = list.list_items();
    let region = line_span(doc.src, list.span);
    if items.is_empty() || doc.line_start(items[0].span.start) != region.start {
        return None;
    }
    let starts: Vec<usize> = items.iter().map(|item| doc.line_start(item.span.start)).collect();
    let mut chunks: Vec<(u8, &str)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(region.end);
        let (_, content) = doc.item_content(list, item);
        let rank = parse_field_head(content)
            .and_then(|(name, _)| KnownField::from_name(&content[name.range()]))
            .map_or(KnownField::Attempts as u8 + 1, |field| field as u8);
        chunks.push((rank, &doc.src[starts[i]..end]));
    }
    if chunks.windows(2).all(|w| w[0].0 <= w[1].0) {
        return None;
    }
    let ending = if doc.src[region.range()].contains("\r\n") { "\r\n" } else { "\n" };
    chunks.sort_by_key(|&(rank, _)| rank);
    let mut out = String::new();
    for (_, chunk) in &chunks {
        out.push_str(chunk);
        if !chunk.ends_with('\n') {
            out.push_str(ending);
        }
    }
    let trimmed = out.strip_suffix(ending).unwrap_or(&out);
    Some((region, trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_split_like_gfm() {
        assert_eq!(split_cells("| a | b |"), ["a", "b"]);
        assert_eq!(split_cells("a | b"), ["a", "b"]);
        assert_eq!(split_cells(r"| a \| b | c |"), [r"a \| b", "c"]);
        assert_eq!(split_cells("|---|:-:|"), ["---", ":-:"]);
        assert_eq!(split_cells("| a | |"), ["a", ""]);
    }

    #[test]
    fn the_agent_table_is_aligned_and_crlf_is_kept() {
        let text = "## Agent Strategy\r\n\r\n| Wave | Agent |\r\n|---|---|\r\n| 1 | Solo writer |\r\n";
        assert_eq!(
            format(text),
            "## Agent Strategy\r\n\r\n| Wave | Agent       |\r\n| ---- | ----------- |\r\n| 1    | Solo writer |\r\n"
        );
        let elsewhere = "## Context\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        assert_eq!(format(elsewhere), elsewhere);
    }

    #[test]
    fn fields_are_put_in_canonical_order() {
        let text = "## Waves\n### Wave 1\n**Task 1.1** (type: auto)\n- **Attempts**: 2\n- **Done**: d\n- **Notes**: n\n- **Files**: `a`\n  more\n- **Action**: a\n- **Verify**: v\n";
        assert_eq!(
            format(text),
            "## Waves\n### Wave 1\n**Task 1.1** (type: auto)\n- **Files**: `a`\n  more\n- **Action**: a\n- **Verify**: v\n- **Done**: d\n- **Attempts**: 2\n- **Notes**: n\n"
        );
    }

    #[test]
    fn mojibake_is_repaired() {
        assert_eq!(format("gates â€” tests\n"), "gates — tests\n");
    }
}

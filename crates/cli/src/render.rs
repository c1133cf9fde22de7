//! Printing diagnostics: rustc-style text, a JSON array, or SARIF 2.1.0.

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use plan::{Code, Diagnostic, LineIndex, Position, Severity, Span};
use serde::Serialize;
use serde_json::json;

/// One checked file: its path, its text and what was found in it.
pub struct FileReport {
    pub path: String,
    pub text: String,
    pub index: LineIndex,
    pub diagnostics: Vec<Diagnostic>,
    /// `--deny warnings`: warnings count, and show, as errors.
    pub deny_warnings: bool,
}

impl FileReport {
    pub fn new(path: String, text: String, diagnostics: Vec<Diagnostic>, deny_warnings: bool) -> Self {
        let index = LineIndex::new(&text);
        Self { path, text, index, diagnostics, deny_warnings }
    }

    /// The severity a diagnostic has in this run.
    pub fn severity(&self, diagnostic: &Diagnostic) -> Severity {
        match diagnostic.severity() {
            Severity::Warning if self.deny_warnings => Severity::Error,
            severity => severity,
        }
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics.iter().filter(|d| self.severity(d) == severity).count()
    }

    fn position(&self, offset: usize) -> Position {
        self.index.position(&self.text, offset)
    }

    /// Start and end (exclusive) positions of a span.
    fn range(&self, span: Span) -> (Position, Position) {
        let start = self.position(span.start);
        let end = if span.end > span.start {
            self.position(span.end)
        } else {
            Position { column: start.column + 1, ..start }
        };
        (start, end)
    }
}

/// Renders one diagnostic like rustc: header, `--> file:line:col`, the source lines with a
/// caret under the span, related places, and `help:`.
pub fn human(report: &FileReport, diagnostic: &Diagnostic, renderer: &Renderer) -> String {
    let severity = report.severity(diagnostic);
    let level = match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    };
    let title = level.primary_title(diagnostic.message.as_str()).id(diagnostic.code.as_str());
    let mut group = Group::with_title(title);
    let primary = excerpt(report, diagnostic.span, AnnotationKind::Primary, diagnostic.label.as_deref());
    group = match primary {
        Some(snippet) => group.element(snippet),
        None => {
            let at = report.position(diagnostic.span.start);
            group.element(Origin::path(report.path.as_str()).line(at.line).char_column(at.column - 1))
        }
    };
    for (span, label) in &diagnostic.related {
        if let Some(snippet) = excerpt(report, *span, AnnotationKind::Context, Some(label)) {
            group = group.element(snippet);
        }
    }
    if let Some(help) = &diagnostic.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    if severity != diagnostic.severity() {
        group = group.element(Level::NOTE.message("`--deny warnings` makes this warning an error"));
    }
    let groups: [Group; 1] = [group];
    renderer.render(&groups)
}

/// The lines around `span` as a snippet (at most 6 lines), or `None` for an empty file.
fn excerpt<'a>(
    report: &'a FileReport,
    span: Span,
    kind: AnnotationKind,
    label: Option<&'a str>,
) -> Option<Snippet<'a, annotate_snippets::Annotation<'a>>> {
    let text = &report.text;
    if text.is_empty() {
        return None;
    }
    // Spans from a lossily decoded file may fall inside a replacement character: widen them.
    let start = floor_boundary(text, span.start.min(text.len()));
    let end = ceil_boundary(text, span.end.clamp(start, text.len()));
    let first = report.index.line_of(start);
    let last = report.index.line_of(end.saturating_sub(1).max(start)).min(first + 5);
    let from = report.index.line_start(first);
    let to = text[from..].match_indices('\n').nth(last - first).map_or(text.len(), |(i, _)| from + i);
    let to = if text[..to].ends_with('\r') { to - 1 } else { to };
    let end = end.min(to.max(start));
    let annotation = kind.span(start - from..end - from).label(label);
    Some(
        Snippet::source(&text[from..to])
            .line_start(first + 1)
            .path(report.path.as_str())
            .fold(false)
            .annotation(annotation),
    )
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// The one-line verdict for a file.
pub fn summary(report: &FileReport, what: &str) -> String {
    let parts: Vec<String> = [(Severity::Error, "error"), (Severity::Warning, "warning"), (Severity::Info, "info")]
        .into_iter()
        .filter_map(|(severity, name)| {
            let n = report.count(severity);
            (n > 0).then(|| format!("{n} {name}{}", if n == 1 || name == "info" { "" } else { "s" }))
        })
        .collect();
    if parts.is_empty() {
        format!("{}: ok ({what})", report.path)
    } else {
        format!("{}: {}", report.path, parts.join(", "))
    }
}

/// A diagnostic in `--format json`.
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: Code,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    help: Option<&'a str>,
    label: Option<&'a str>,
    fix: Option<JsonFix<'a>>,
    related: Vec<JsonRelated<'a>>,
}

/// Another place that explains a diagnostic (e.g. the first of two duplicates).
#[derive(Serialize)]
struct JsonRelated<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    label: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    replacement: &'a str,
}

/// Every diagnostic of every file as one JSON array. Columns count characters, 1-based;
/// `end_column` is exclusive.
pub fn json(reports: &[FileReport]) -> String {
    let items: Vec<JsonDiagnostic> = reports
        .iter()
        .flat_map(|report| {
            report.diagnostics.iter().map(move |d| {
                let (start, end) = report.range(d.span);
                JsonDiagnostic {
                    code: d.code,
                    severity: report.severity(d),
                    message: &d.message,
                    file: &report.path,
                    line: start.line,
                    column: start.column,
                    end_line: end.line,
                    end_column: end.column,
                    help: d.help.as_deref(),
                    label: d.label.as_deref(),
                    related: d
                        .related
                        .iter()
                        .map(|(span, label)| {
                            let (start, end) = report.range(*span);
                            JsonRelated {
                                line: start.line,
                                column: start.column,
                                end_line: end.line,
                                end_column: end.column,
                                label,
                            }
                        })
                        .collect(),
                    fix: d.fix.as_ref().map(|fix| {
                        let (start, end) = report.range(fix.span);
                        JsonFix {
                            line: start.line,
                            column: start.column,
                            end_line: end.line,
                            end_column: end.column,
                            replacement: &fix.replacement,
                        }
                    }),
                }
            })
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

/// Every diagnostic as a SARIF 2.1.0 log, for code-scanning UIs.
pub fn sarif(reports: &[FileReport]) -> String {
    let level = |severity: Severity| match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules: Vec<_> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "shortDescription": { "text": code.summary() },
                "defaultConfiguration": { "level": level(code.severity()) },
            })
        })
        .collect();
    let results: Vec<_> = reports
        .iter()
        .flat_map(|report| {
            report.diagnostics.iter().map(move |d| {
                let (start, end) = report.range(d.span);
                let mut text = d.message.clone();
                if let Some(help) = &d.help {
                    text.push_str("\nhelp: ");
                    text.push_str(help);
                }
                let mut result = json!({
                    "ruleId": d.code.as_str(),
                    "ruleIndex": Code::ALL.iter().position(|c| *c == d.code),
                    "level": level(report.severity(d)),
                    "message": { "text": text },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri(&report.path) },
                            "region": {
                                "startLine": start.line, "startColumn": start.column,
                                "endLine": end.line, "endColumn": end.column,
                            }
                        }
                    }],
                });
                if let Some(fix) = &d.fix {
                    let (start, end) = report.range(fix.span);
                    result["fixes"] = json!([{
                        "description": { "text": d.help.clone().unwrap_or_default() },
                        "artifactChanges": [{
                            "artifactLocation": { "uri": uri(&report.path) },
                            "replacements": [{
                                "deletedRegion": { "startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column },
                                "insertedContent": { "text": fix.replacement },
                            }]
                        }]
                    }]);
                }
                result
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "wavecrew",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/wavecrew/wavecrew",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

/// A relative URI reference for a path: `/` separators, spaces and `%` escaped.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

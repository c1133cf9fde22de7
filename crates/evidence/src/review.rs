//! What reviewing agents answer, and whether the evidence they cite holds.
//!
//! Some checks need judgement: a gate's security review, the review of a skill the repository
//! defines, the truths of a plan's must_haves. wavecrew asks an agent for them, as JSON written
//! to a file it names, and never takes the agent's word for a verdict: only what the answer
//! cites, and wavecrew can check itself, counts.
//!
//! - [`parse_security`] reads a security review: each of the ten [`PRINCIPLES`] and each threat
//!   of the OWASP Top 10 for Agentic Applications ([`THREATS`], `ASI01`..`ASI10`), with a
//!   verdict (`PASS`, `FAIL` or `N/A`), a message and evidence.
//!
//!   ```json
//!   {"principles": [{"principle": "P2", "verdict": "FAIL", "message": "the path is not checked",
//!                    "evidence": [{"file": "src/files.rs", "line": 12}]}, …],
//!    "threats": [{"threat": "ASI05", "verdict": "N/A", "message": "no generated code runs"}, …]}
//!   ```
//! - [`parse_findings`] reads the review of any other skill:
//!   `{"findings": [{"verdict": "FAIL", "message": "…", "evidence": [{"file": "…", "line": 3}]}]}`.
//! - [`judge`] checks the citations of a review's failures against the line counts of the files
//!   at the reviewed commit ([`check_place`]): a `FAIL` that cites at least one place that exists
//!   is a finding; a `FAIL` without one is reported as such, with what was wrong with its
//!   citations. `PASS` and `N/A` are only counted: an agent's word proves nothing.
//! - [`parse_truths`] reads a verifier's answer about truths:
//!   `{"truths": [{"truth": "T1", "verdict": "PROVEN", "evidence": [{"command": "cargo test foo",
//!   "output": "test foo ... ok"}]}]}`; [`answer_for`] finds the answer about a truth, and
//!   [`check_place`] and [`check_command`] judge its evidence once the engine re-ran the commands.
//!
//! Answers are strict about their shape (an unknown field is an error that names it, so that
//! the agent can fix its answer) and forgiving about whitespace, a byte-order mark, the case of
//! verdict words and ids (`p3`, `ASI-05`), and evidence written as `"src/a.rs:12"`. Nothing here
//! panics, whatever the text.
//!
//! ```
//! use evidence::review::{judge, parse_findings};
//!
//! let answer = r#"{"findings": [
//!     {"verdict": "FAIL", "message": "the token is logged", "evidence": [{"file": "src/log.rs", "line": 3}]},
//!     {"verdict": "FAIL", "message": "a guess", "evidence": [{"file": "src/log.rs", "line": 99}]}
//! ]}"#;
//! let review = parse_findings(answer).unwrap();
//! // src/log.rs has 10 lines at the reviewed commit; no other file exists.
//! let judged = judge(&review, |path| (path == "src/log.rs").then_some(10));
//! assert_eq!(judged.findings[0].location, "src/log.rs:3");
//! assert_eq!(
//!     judged.without_evidence[0],
//!     "FAIL without valid evidence: a guess; cited src/log.rs:99 does not exist (src/log.rs has 10 lines)"
//! );
//! ```

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};
use std::fmt;

/// The principles of a security review: `(id, name)`. The built-in `security-auditor` skill
/// explains each.
pub const PRINCIPLES: [(&str, &str); 10] = [
    ("P1", "Least privilege"),
    ("P2", "Input validation at trust boundaries"),
    ("P3", "Injection-safe output (parameters, arguments, encoding)"),
    ("P4", "Authentication and authorization"),
    ("P5", "Secrets handling"),
    ("P6", "Secure defaults"),
    ("P7", "Error handling without leaks"),
    ("P8", "Dependency hygiene"),
    ("P9", "Logging without secrets or personal data"),
    ("P10", "Defence in depth"),
];

/// The OWASP Top 10 for Agentic Applications (2026): `(id, name)`.
pub const THREATS: [(&str, &str); 10] = [
    ("ASI01", "Agent Goal Hijack"),
    ("ASI02", "Tool Misuse and Exploitation"),
    ("ASI03", "Identity and Privilege Abuse"),
    ("ASI04", "Agentic Supply Chain Vulnerabilities"),
    ("ASI05", "Unexpected Code Execution"),
    ("ASI06", "Memory and Context Poisoning"),
    ("ASI07", "Insecure Inter-Agent Communication"),
    ("ASI08", "Cascading Failures"),
    ("ASI09", "Human-Agent Trust Exploitation"),
    ("ASI10", "Rogue Agents"),
];

/// Answers larger than this are refused, unread.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Items of an answer beyond this many are refused (an answer is a summary, not a dump).
const MAX_ITEMS: usize = 500;
/// Pieces of evidence per item that are looked at; the rest are ignored.
pub const MAX_EVIDENCE: usize = 20;
/// Characters of an agent's text (a message, a cited output) kept in what wavecrew reports.
const SHOWN: usize = 300;

/// A reviewer's verdict about a principle, a threat or a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Holds (the agent's word: never trusted for anything).
    Pass,
    /// Violated: a finding when it cites a place that exists.
    Fail,
    /// Does not apply to this change.
    NotApplicable,
}

impl Verdict {
    /// `PASS`, `FAIL` or `N/A`, in any case and with any surrounding whitespace
    /// (`NA`, `NOT_APPLICABLE` and `NOT APPLICABLE` are `N/A` too).
    pub fn parse(word: &str) -> Option<Verdict> {
        match word.trim().to_ascii_uppercase().as_str() {
            "PASS" => Some(Verdict::Pass),
            "FAIL" => Some(Verdict::Fail),
            "N/A" | "NA" | "NOT_APPLICABLE" | "NOT APPLICABLE" => Some(Verdict::NotApplicable),
            _ => None,
        }
    }

    /// `PASS`, `FAIL` or `N/A`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NotApplicable => "N/A",
        }
    }
}

/// A piece of evidence an answer cites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// A line of a file of the repository (the path as the agent wrote it, trimmed).
    Place {
        /// The path, relative to the repository's root.
        file: String,
        /// The line, 1-based.
        line: u64,
    },
    /// A command and (part of) what it prints.
    Command {
        /// The command line, run with `sh -c`.
        command: String,
        /// Text its output contains.
        output: String,
    },
    /// Something that is neither, and why.
    Malformed(String),
}

impl Evidence {
    /// Reads one piece of evidence: `{"file": …, "line": …}`, `{"command": …, "output": …}`
    /// or `"path:line"`. What cannot be read is [`Evidence::Malformed`], not an error: the
    /// item keeps its other evidence.
    fn from_json(value: &Value) -> Evidence {
        match value {
            Value::String(text) => match split_place(text.trim()) {
                Some((file, line)) => Evidence::Place { file, line },
                None => Evidence::Malformed(format!(
                    "`{}` is not a place (write {{\"file\": \"src/a.rs\", \"line\": 12}})",
                    shorten(text, 80)
                )),
            },
            Value::Object(fields) => Evidence::from_fields(fields),
            other => Evidence::Malformed(format!(
                "`{}` is not evidence: use {{\"file\", \"line\"}} or {{\"command\", \"output\"}}",
                shorten(&other.to_string(), 80)
            )),
        }
    }

    fn from_fields(fields: &Map<String, Value>) -> Evidence {
        if let Some(unknown) = fields.keys().find(|k| !matches!(k.as_str(), "file" | "line" | "command" | "output")) {
            return Evidence::Malformed(format!(
                "evidence has an unknown field `{}`: use `file` and `line`, or `command` and `output`",
                shorten(unknown, 40)
            ));
        }
        let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::trim);
        match (fields.get("file"), fields.get("command")) {
            (Some(_), None) => {
                let Some(file) = text("file").filter(|f| !f.is_empty()) else {
                    return Evidence::Malformed("the `file` of a piece of evidence is not a path".into());
                };
                let line = match fields.get("line") {
                    Some(Value::Number(n)) => n.as_u64(),
                    Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
                    None => {
                        return split_place(file).map_or_else(
                            || Evidence::Malformed(format!("`{}` is cited without a `line`", shorten(file, 80))),
                            |(file, line)| Evidence::Place { file, line },
                        );
                    }
                    Some(_) => None,
                };
                match line {
                    Some(line) => Evidence::Place { file: file.to_owned(), line },
                    None => {
                        Evidence::Malformed(format!("the `line` cited in `{}` is not a line number", shorten(file, 80)))
                    }
                }
            }
            (None, Some(_)) => match (text("command").filter(|c| !c.is_empty()), fields.get("output")) {
                (Some(command), Some(Value::String(output))) => {
                    Evidence::Command { command: command.to_owned(), output: output.clone() }
                }
                (Some(command), _) => Evidence::Malformed(format!(
                    "the command `{}` is cited without the `output` (text) it prints",
                    shorten(command, 80)
                )),
                (None, _) => Evidence::Malformed("the `command` of a piece of evidence is not a command line".into()),
            },
            (Some(_), Some(_)) => {
                Evidence::Malformed("a piece of evidence is a place or a command, not both: split it in two".into())
            }
            (None, None) => {
                Evidence::Malformed("a piece of evidence needs `file` and `line`, or `command` and `output`".into())
            }
        }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Place { file, line } => write!(f, "{file}:{line}"),
            Evidence::Command { command, .. } => write!(f, "`{}`", shorten(command, 120)),
            Evidence::Malformed(why) => f.write_str(why),
        }
    }
}

/// `path:line` (a line number after the last colon), as agents often write places.
fn split_place(text: &str) -> Option<(String, u64)> {
    let (file, line) = text.rsplit_once(':')?;
    let line = line.trim().parse::<u64>().ok()?;
    let file = file.trim();
    (!file.is_empty()).then(|| (file.to_owned(), line))
}

/// What an item of a review is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One of the [`PRINCIPLES`].
    Principle,
    /// One of the [`THREATS`].
    Threat,
    /// A finding of a skill's generic review.
    Finding,
}

/// One verdict of a review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// What it is about.
    pub kind: Kind,
    /// `P3 Injection-safe output (…)`, `ASI05 Unexpected Code Execution`; empty for a finding.
    pub subject: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What the agent says, trimmed (possibly empty).
    pub message: String,
    /// What it cites.
    pub evidence: Vec<Evidence>,
}

impl Item {
    /// The subject and the message, as one line for a report.
    pub fn describe(&self) -> String {
        let message = one_line(&self.message);
        let message = if message.is_empty() { "no reason given".to_owned() } else { shorten(&message, SHOWN) };
        if self.subject.is_empty() { message } else { format!("{}: {message}", self.subject) }
    }
}

/// A review, read and checked for shape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Review {
    /// Its verdicts, in the answer's order (a security review: principles, then threats).
    pub items: Vec<Item>,
}

/// Why an answer cannot be used: a clause that follows "the answer", e.g. `is not valid JSON:
/// expected `,` or `}` at line 3 column 5`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerError(String);

impl AnswerError {
    fn new(clause: impl Into<String>) -> AnswerError {
        AnswerError(clause.into())
    }
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AnswerError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    principles: Vec<RawPrinciple>,
    threats: Vec<RawThreat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrinciple {
    principle: String,
    verdict: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    evidence: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreat {
    threat: String,
    verdict: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    evidence: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFindings {
    findings: Vec<RawFinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    verdict: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    evidence: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTruths {
    truths: Vec<RawTruth>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTruth {
    truth: String,
    verdict: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    evidence: Vec<Value>,
}

/// Reads `text` as JSON of type `T`, an object whose shape is `shape` (for messages): a
/// byte-order mark and surrounding whitespace are fine; a syntax error and a wrong shape say
/// where (serde's line and column).
fn from_text<T: serde::de::DeserializeOwned>(text: &str, shape: &str) -> Result<T, AnswerError> {
    if text.len() > MAX_ANSWER_BYTES {
        return Err(AnswerError::new(format!(
            "is larger than {} KiB: write a summary, one entry per item",
            MAX_ANSWER_BYTES >> 10
        )));
    }
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(AnswerError::new("is empty"));
    }
    let syntax = |error: serde_json::Error| {
        let hint =
            if text.starts_with("```") { " (write the JSON object alone, without a Markdown fence)" } else { "" };
        AnswerError::new(format!("is not valid JSON: {error}{hint}"))
    };
    // Syntax first, and the top level: serde would take an array for an object, field by field.
    match serde_json::from_str::<Value>(text).map_err(syntax)? {
        Value::Object(_) => {}
        other => {
            let kind = match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            };
            return Err(AnswerError::new(format!("is {kind}, not an object {shape}")));
        }
    }
    serde_json::from_str(text).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => {
            AnswerError::new(format!("does not have the expected shape {shape}: {error}"))
        }
        _ => syntax(error),
    })
}

fn too_many(count: usize, what: &str) -> Result<(), AnswerError> {
    if count > MAX_ITEMS {
        return Err(AnswerError::new(format!("has {count} {what}; at most {MAX_ITEMS} are read")));
    }
    Ok(())
}

/// The entry of `list` that `given` names: its id in any case, with or without a zero or a
/// separator (`p3`, `ASI-05`, `asi5`), its id followed by its name, or its name.
fn resolve(given: &str, list: &[(&'static str, &'static str)], prefix: &str) -> Option<(&'static str, &'static str)> {
    let given = given.trim();
    let by_id = |word: &str| {
        let compact: String =
            word.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).collect::<String>().to_ascii_uppercase();
        let number: usize = compact.strip_prefix(prefix)?.parse().ok()?;
        list.get(number.checked_sub(1)?).copied()
    };
    by_id(given)
        .or_else(|| given.split_whitespace().next().and_then(by_id))
        .or_else(|| list.iter().copied().find(|(_, name)| name.eq_ignore_ascii_case(given)))
}

/// One item of a security review, checked: a known id, answered once, a known verdict word.
fn security_item(
    kind: Kind,
    given: &str,
    verdict: &str,
    message: Option<&str>,
    evidence: &[Value],
    seen: &mut HashSet<&'static str>,
) -> Result<Item, AnswerError> {
    let (list, prefix, what, range) = match kind {
        Kind::Threat => (&THREATS, "ASI", "threat", "ASI01..ASI10"),
        _ => (&PRINCIPLES, "P", "principle", "P1..P10"),
    };
    let Some((id, name)) = resolve(given, list, prefix) else {
        return Err(AnswerError::new(format!("names `{}`, which is not a {what} ({range})", shorten(given, 60))));
    };
    if !seen.insert(id) {
        return Err(AnswerError::new(format!("answers {what} {id} twice: give one entry per {what}")));
    }
    let Some(verdict) = Verdict::parse(verdict) else {
        return Err(AnswerError::new(format!(
            "gives `{}` as the verdict of {what} {id}: use PASS, FAIL or N/A",
            shorten(verdict, 40)
        )));
    };
    Ok(Item {
        kind,
        subject: format!("{id} {name}"),
        verdict,
        message: message.unwrap_or_default().trim().to_owned(),
        evidence: evidence.iter().take(MAX_EVIDENCE).map(Evidence::from_json).collect(),
    })
}

/// Reads a security review: every principle of [`PRINCIPLES`] and every threat of [`THREATS`]
/// answered exactly once, each `PASS`, `FAIL` or `N/A` (see the [module documentation](self)).
pub fn parse_security(text: &str) -> Result<Review, AnswerError> {
    let raw: RawSecurity = from_text(text, "{\"principles\": […], \"threats\": […]}")?;
    too_many(raw.principles.len(), "principles")?;
    too_many(raw.threats.len(), "threats")?;
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for p in &raw.principles {
        items.push(security_item(
            Kind::Principle,
            &p.principle,
            &p.verdict,
            p.message.as_deref(),
            &p.evidence,
            &mut seen,
        )?);
    }
    for t in &raw.threats {
        items.push(security_item(Kind::Threat, &t.threat, &t.verdict, t.message.as_deref(), &t.evidence, &mut seen)?);
    }
    let missing: Vec<String> = PRINCIPLES
        .iter()
        .map(|p| ("principle", p))
        .chain(THREATS.iter().map(|t| ("threat", t)))
        .filter(|(_, (id, _))| !seen.contains(id))
        .map(|(what, (id, name))| format!("{what} {id} ({name})"))
        .collect();
    if !missing.is_empty() {
        return Err(AnswerError::new(format!(
            "leaves out {}: answer every principle and every threat, N/A where one does not apply",
            missing.join(", ")
        )));
    }
    Ok(Review { items })
}

/// Reads the generic review of a skill: a list of findings, each `PASS`, `FAIL` or `N/A` with a
/// message and evidence; no findings at all is a fine answer.
pub fn parse_findings(text: &str) -> Result<Review, AnswerError> {
    let raw: RawFindings = from_text(text, "{\"findings\": […]}")?;
    too_many(raw.findings.len(), "findings")?;
    let mut items = Vec::new();
    for (index, finding) in raw.findings.iter().enumerate() {
        let Some(verdict) = Verdict::parse(&finding.verdict) else {
            return Err(AnswerError::new(format!(
                "gives `{}` as the verdict of finding {}: use PASS, FAIL or N/A",
                shorten(&finding.verdict, 40),
                index + 1
            )));
        };
        items.push(Item {
            kind: Kind::Finding,
            subject: String::new(),
            verdict,
            message: finding.message.as_deref().unwrap_or_default().trim().to_owned(),
            evidence: finding.evidence.iter().take(MAX_EVIDENCE).map(Evidence::from_json).collect(),
        });
    }
    Ok(Review { items })
}

/// A path as it must be looked up in the repository: surrounding whitespace and leading `./`
/// removed. `None` for a path that is empty, absolute, or leaves the repository (`..`).
pub fn normalize_path(file: &str) -> Option<String> {
    let mut path = file.trim();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    let escapes = path.split(['/', '\\']).any(|part| part == "..");
    let absolute = path.starts_with('/') || path.starts_with('\\') || path.get(1..3) == Some(":\\");
    (!path.is_empty() && !escapes && !absolute && !path.contains('\0')).then(|| path.to_owned())
}

/// Whether `file:line` exists at the reviewed commit, by `lines_of` (the number of lines of a
/// path there, `None` when there is no such file). The place as `path:line`, or why not.
pub fn check_place(file: &str, line: u64, lines_of: impl Fn(&str) -> Option<usize>) -> Result<String, String> {
    let Some(path) = normalize_path(file) else {
        return Err(format!("cited `{}` is not a path inside the repository", shorten(file, 80)));
    };
    if line == 0 {
        return Err(format!("cited {path}:0 does not exist (lines start at 1)"));
    }
    match lines_of(&path) {
        None => Err(format!("cited {path}:{line} does not exist: there is no file {path}")),
        Some(count) if line > count as u64 => {
            let lines = if count == 1 { "1 line".to_owned() } else { format!("{count} lines") };
            Err(format!("cited {path}:{line} does not exist ({path} has {lines})"))
        }
        Some(_) => Ok(format!("{path}:{line}")),
    }
}

/// The paths (normalized) of the places `evidence` cites, to look up before judging.
pub fn cited_files<'a>(evidence: impl IntoIterator<Item = &'a Evidence>) -> BTreeSet<String> {
    evidence
        .into_iter()
        .filter_map(|e| match e {
            Evidence::Place { file, .. } => normalize_path(file),
            _ => None,
        })
        .collect()
}

/// A failure of a review with evidence that holds: a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewFinding {
    /// The first place it cites that exists, `path:line`.
    pub location: String,
    /// What is wrong, with every place that exists (and what did not).
    pub message: String,
}

/// A review sorted by what its evidence shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Judgement {
    /// `FAIL`s that cite at least one place that exists.
    pub findings: Vec<ReviewFinding>,
    /// `FAIL`s that cite none: `FAIL without valid evidence: <what>; <why each citation fails>`.
    pub without_evidence: Vec<String>,
    /// The agent's verdicts counted, e.g. `principles: 9 PASS, 1 FAIL; threats: 7 PASS, 3 N/A`.
    pub summary: String,
}

/// Sorts the failures of `review` by their evidence, checked with `lines_of` (see
/// [`check_place`]). Only places count: a review cites code, it does not run commands.
pub fn judge(review: &Review, lines_of: impl Fn(&str) -> Option<usize>) -> Judgement {
    let mut judged = Judgement::default();
    for item in review.items.iter().filter(|i| i.verdict == Verdict::Fail) {
        let (mut valid, mut invalid) = (Vec::new(), Vec::new());
        for evidence in &item.evidence {
            let checked = match evidence {
                Evidence::Place { file, line } => check_place(file, *line, &lines_of),
                Evidence::Command { command, .. } => Err(format!(
                    "cited command `{}` is not evidence here: a review cites places (file and line)",
                    shorten(command, 80)
                )),
                Evidence::Malformed(why) => Err(why.clone()),
            };
            match checked {
                Ok(place) if !valid.contains(&place) => valid.push(place),
                Ok(_) => {}
                Err(why) => invalid.push(why),
            }
        }
        let what = item.describe();
        match valid.first() {
            Some(first) => {
                let mut message = format!("{what} (FAIL in the agent's review, at {})", valid.join(", "));
                if !invalid.is_empty() {
                    message.push_str(&format!("; also {}", invalid.join("; ")));
                }
                judged.findings.push(ReviewFinding { location: first.clone(), message });
            }
            None => {
                let why = if invalid.is_empty() { "it cites no file and line".to_owned() } else { invalid.join("; ") };
                judged.without_evidence.push(format!("FAIL without valid evidence: {what}; {why}"));
            }
        }
    }
    judged.summary = summary(review);
    judged
}

/// The verdicts of a review counted per kind of item.
fn summary(review: &Review) -> String {
    let mut parts = Vec::new();
    for (kind, name) in [(Kind::Principle, "principles"), (Kind::Threat, "threats"), (Kind::Finding, "findings")] {
        let of_kind: Vec<&Item> = review.items.iter().filter(|i| i.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let counts: Vec<String> = [Verdict::Pass, Verdict::Fail, Verdict::NotApplicable]
            .into_iter()
            .filter_map(|v| {
                let n = of_kind.iter().filter(|i| i.verdict == v).count();
                (n > 0).then(|| format!("{n} {}", v.as_str()))
            })
            .collect();
        parts.push(format!("{name}: {}", counts.join(", ")));
    }
    if parts.is_empty() { "no findings".to_owned() } else { parts.join("; ") }
}

/// A verifier's verdict about a truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TruthVerdict {
    /// The evidence shows it (if wavecrew can check the evidence).
    Proven,
    /// The verifier could not show it.
    Unproven,
}

/// A verifier's answer about one truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TruthAnswer {
    /// The truth as the answer names it: its id (`T1`) or its text.
    pub truth: String,
    /// The verdict.
    pub verdict: TruthVerdict,
    /// What the verifier adds, trimmed (possibly empty).
    pub note: String,
    /// What it cites.
    pub evidence: Vec<Evidence>,
}

/// Reads a verifier's answer (see the [module documentation](self)): each entry names a truth,
/// says `PROVEN` or `UNPROVEN`, and cites places or commands.
pub fn parse_truths(text: &str) -> Result<Vec<TruthAnswer>, AnswerError> {
    let raw: RawTruths = from_text(text, "{\"truths\": […]}")?;
    too_many(raw.truths.len(), "truths")?;
    raw.truths
        .iter()
        .enumerate()
        .map(|(index, truth)| {
            let verdict = match truth.verdict.trim().to_ascii_uppercase().as_str() {
                "PROVEN" => TruthVerdict::Proven,
                "UNPROVEN" => TruthVerdict::Unproven,
                _ => {
                    return Err(AnswerError::new(format!(
                        "gives `{}` as the verdict of truth {} (entry {}): use PROVEN or UNPROVEN",
                        shorten(&truth.verdict, 40),
                        shorten(truth.truth.trim(), 60),
                        index + 1
                    )));
                }
            };
            Ok(TruthAnswer {
                truth: truth.truth.trim().to_owned(),
                verdict,
                note: truth.note.as_deref().unwrap_or_default().trim().to_owned(),
                evidence: truth.evidence.iter().take(MAX_EVIDENCE).map(Evidence::from_json).collect(),
            })
        })
        .collect()
}

/// Text compared loosely: backticks dropped, whitespace collapsed, lower case, without a
/// final full stop.
fn loose(text: &str) -> String {
    let words: Vec<String> = text.replace('`', "").split_whitespace().map(str::to_lowercase).collect();
    words.join(" ").trim_end_matches('.').to_owned()
}

/// The answer about the truth at `index` (0-based; `T1` is the first) whose text is `truth`:
/// the first entry that names its id, or its text (compared without case, backticks and extra
/// whitespace).
pub fn answer_for<'a>(answers: &'a [TruthAnswer], index: usize, truth: &str) -> Option<&'a TruthAnswer> {
    let id = format!("T{}", index + 1);
    let text = loose(truth);
    answers.iter().find(|a| {
        let named = a.truth.trim();
        named.eq_ignore_ascii_case(&id)
            || named.split([':', ' ']).next().is_some_and(|first| first.eq_ignore_ascii_case(&id))
            || loose(named) == text
    })
}

/// How a cited command ended when wavecrew ran it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rerun<'a> {
    /// Whether it exited 0 in time.
    pub succeeded: bool,
    /// How it ended, for a message: `exited with code 1`, `timed out`.
    pub ended: &'a str,
    /// What it printed (stdout and stderr).
    pub output: &'a str,
}

/// Whether a cited command proves something: it exited 0 when wavecrew ran it again, and its
/// output contains the cited output (trimmed; line endings and terminal colours do not count).
/// The evidence as text for a report, or why it does not hold.
pub fn check_command(command: &str, cited_output: &str, rerun: &Rerun) -> Result<String, String> {
    let shown = shorten(&one_line(command), 120);
    let cited = cited_output.trim();
    if cited.is_empty() {
        return Err(format!("cited command `{shown}` comes without the output it prints"));
    }
    if !rerun.succeeded {
        return Err(format!("cited command `{shown}` {}", rerun.ended));
    }
    if !output_contains(rerun.output, cited) {
        return Err(format!(
            "cited command `{shown}` exited 0, but its output does not contain `{}`",
            shorten(&one_line(cited), 120)
        ));
    }
    Ok(format!("`{shown}` exited 0 and printed `{}`", shorten(&one_line(cited), 120)))
}

/// Whether `output` contains `cited` (trimmed), both with `\r\n` as `\n`, and `output` without
/// terminal escape sequences.
pub fn output_contains(output: &str, cited: &str) -> bool {
    let cited = cited.trim().replace("\r\n", "\n");
    if cited.is_empty() {
        return true;
    }
    strip_escapes(output).replace("\r\n", "\n").contains(&cited)
}

/// `text` without ANSI escape sequences (`ESC [ … letter`, the colours of test runners).
fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for n in chars.by_ref() {
                if n.is_ascii_alphabetic() || n == '~' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Text on one line: runs of whitespace as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters of `text`, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_loosely_but_only_known_ones() {
        assert_eq!(resolve("p3", &PRINCIPLES, "P").map(|p| p.0), Some("P3"));
        assert_eq!(resolve(" P03 ", &PRINCIPLES, "P").map(|p| p.0), Some("P3"));
        assert_eq!(resolve("P10 Defence in depth", &PRINCIPLES, "P").map(|p| p.0), Some("P10"));
        assert_eq!(resolve("secrets handling", &PRINCIPLES, "P").map(|p| p.0), Some("P5"));
        assert_eq!(resolve("ASI-05", &THREATS, "ASI").map(|p| p.0), Some("ASI05"));
        assert_eq!(resolve("asi5", &THREATS, "ASI").map(|p| p.0), Some("ASI05"));
        assert_eq!(resolve("P0", &PRINCIPLES, "P"), None);
        assert_eq!(resolve("P11", &PRINCIPLES, "P"), None);
        assert_eq!(resolve("ASI99999999999999999999", &THREATS, "ASI"), None);
        assert_eq!(resolve("", &THREATS, "ASI"), None);
    }

    #[test]
    fn paths_stay_inside_the_repository() {
        assert_eq!(normalize_path(" ./src/a.rs ").as_deref(), Some("src/a.rs"));
        assert_eq!(normalize_path("././a"), Some("a".into()));
        assert_eq!(normalize_path("../etc/passwd"), None);
        assert_eq!(normalize_path("src/../../x"), None);
        assert_eq!(normalize_path("/etc/passwd"), None);
        assert_eq!(normalize_path("C:\\x"), None);
        assert_eq!(normalize_path(""), None);
        assert_eq!(normalize_path("./"), None);
    }

    #[test]
    fn shorten_cuts_on_characters() {
        assert_eq!(shorten("héllo", 2), "hé…");
        assert_eq!(shorten("hé", 2), "hé");
    }
}

//! Line coverage from lcov and Cobertura reports, and the coverage of the lines a diff changed.
//!
//! A gate that asks for "80%+ coverage on new code" needs three things, all here:
//!
//! 1. a line-coverage report read into a [`Coverage`]: [`parse_lcov`] reads the `lcov.info`
//!    written by c8, nyc/istanbul, `cargo llvm-cov --lcov`, coverage.py's `coverage lcov` and
//!    genhtml's `lcov`; [`parse_cobertura`] reads the Cobertura XML written by coverage.py's
//!    `coverage xml`, istanbul/c8's `cobertura` reporter, gcovr and others;
//! 2. the changed lines of the work ([`crate::diff::changed_lines`]);
//! 3. [`changed_coverage`], which puts the two together, and [`threshold_from_text`], which reads
//!    the required percentage from the task's Done text.
//!
//! **Coverable lines.** Only lines the report lists (lcov `DA:` records, Cobertura `<line>`
//! elements) are coverable: a changed comment or blank line is in no report and does not count.
//! A changed file the report does not mention at all (a test file, a README, a config file) is
//! listed in [`ChangedCoverage::files_without_data`] and does not count either.
//!
//! **Matching paths.** The diff names files relative to the repository root (`src/a.py`), while
//! reports hold absolute paths (`/tmp/x/src/a.py`), relative ones (`src/a.py`), or paths relative
//! to a Cobertura `<source>` directory (`a.py` under `/tmp/x/src`). A diff path and a report path
//! match when one is a suffix of the other on a path-component boundary; a report path is also
//! tried joined to each `<source>`. The longest match wins (see [`Coverage::find`]).
//!
//! ```
//! use evidence::{coverage, diff};
//!
//! let lcov = "TN:\nSF:/home/ci/app/src/math.js\nDA:1,1\nDA:2,1\nDA:3,0\nLF:3\nLH:2\nend_of_record\n";
//! let report = coverage::parse_lcov(lcov).unwrap();
//! let changed = diff::changed_lines("+++ b/src/math.js\n@@ -0,0 +1,4 @@\n+a\n+b\n+c\n+// note\n");
//! let result = coverage::changed_coverage(&report, &changed);
//! assert_eq!((result.covered, result.coverable), (2, 3)); // line 4 is a comment: not coverable
//! assert_eq!(result.uncovered, [("src/math.js".to_string(), 3)]);
//! assert_eq!(coverage::threshold_from_text("80%+ coverage on new code"), Some(80.0));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::diff::ChangedLines;

/// How many uncovered lines [`ChangedCoverage::uncovered`] lists at most. The counts
/// ([`ChangedCoverage::covered`], [`ChangedCoverage::coverable`]) are always complete.
pub const MAX_UNCOVERED_LISTED: usize = 200;

/// Hit counts per line, per file, as a coverage report states them.
///
/// Paths are kept exactly as the report writes them (absolute, relative, or relative to one of
/// the Cobertura [`sources`](Coverage::sources)); [`Coverage::find`] matches them to
/// repository-relative paths. When a report names the same file twice (lcov files concatenated
/// from several test runs, or one Cobertura `<class>` per Java inner class), the hit counts of
/// the same line are added up.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    files: BTreeMap<String, BTreeMap<u32, u64>>,
    sources: Vec<String>,
}

impl Coverage {
    /// The file paths as the report writes them, in sorted order.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The hit count of every coverable line of `path` (a path exactly as the report writes it),
    /// or `None` when the report has no such file.
    pub fn lines(&self, path: &str) -> Option<&BTreeMap<u32, u64>> {
        self.files.get(path)
    }

    /// The directories of a Cobertura report's `<sources>` (empty for lcov): report paths that
    /// are relative are relative to one of them.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Adds the lines of `other`, another report of the same code (say a Python and a
    /// JavaScript suite, or one suite written as both lcov and Cobertura): hit counts of a line
    /// both name are added up, and `other`'s Cobertura sources join these.
    pub fn merge(&mut self, other: Coverage) {
        for (path, lines) in other.files {
            let entry = self.files.entry(path).or_default();
            for (line, hits) in lines {
                *entry.entry(line).or_insert(0) += hits;
            }
        }
        for source in other.sources {
            if !self.sources.contains(&source) {
                self.sources.push(source);
            }
        }
    }

    /// Whether the report holds no file at all.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// `(covered, coverable)` over the whole report: lines hit at least once, and lines listed.
    pub fn totals(&self) -> (u64, u64) {
        let lines = self.files.values().flat_map(BTreeMap::values);
        lines.fold((0, 0), |(covered, coverable), &hits| (covered + u64::from(hits > 0), coverable + 1))
    }

    /// The report path that stands for the repository-relative `repo_path`, if any.
    ///
    /// A report path matches when it and `repo_path` (or the report path joined to one of the
    /// [`sources`](Coverage::sources)) are suffixes of one another on a component boundary:
    /// `src/a.py` matches `/tmp/x/src/a.py` and `a.py` under the source `/tmp/x/src`, but not
    /// `/tmp/x/lib/a.py` nor `xsrc/a.py`. The match covering the most components wins; among
    /// equally long matches, the shortest report path, then the first in sorted order.
    /// Backslashes count as separators and `.` components are ignored.
    pub fn find(&self, repo_path: &str) -> Option<&str> {
        PathIndex::new(self).find(repo_path)
    }

    /// Adds `hits` to line `line` of `path`.
    fn add(&mut self, path: &str, line: u32, hits: u64) {
        let file = self.files.entry(path.to_owned()).or_default();
        let count = file.entry(line).or_insert(0);
        *count = count.saturating_add(hits);
    }
}

/// The components of a path: split on `/` and `\`, without empty and `.` components.
fn components(path: &str) -> Vec<&str> {
    path.split(['/', '\\']).filter(|c| !c.is_empty() && *c != ".").collect()
}

/// Whether a report path is absolute (Unix `/x`, Windows `C:\x` or `\\server\x`).
fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.starts_with(['/', '\\']) || (bytes.len() > 2 && bytes[1] == b':' && matches!(bytes[2], b'/' | b'\\'))
}

/// How many components match when the shorter of two paths is a suffix of the longer, given
/// both paths' components from last to first; 0 when neither is a suffix of the other.
fn suffix_match<'x, 'y>(mut a: impl Iterator<Item = &'x str>, mut b: impl Iterator<Item = &'y str>) -> usize {
    let mut matched = 0;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => matched += 1,
            (Some(_), Some(_)) => return 0,
            // One path ran out while all components agreed: it is a suffix of the other.
            _ => return matched,
        }
    }
}

/// A report's paths split into components once, so that matching every file of a diff does
/// not split every report path again. This is what [`Coverage::find`] does.
struct PathIndex<'a> {
    /// The components of each Cobertura `<source>` directory.
    sources: Vec<Vec<&'a str>>,
    /// Each report path, its components, and whether it is absolute.
    files: Vec<(&'a str, Vec<&'a str>, bool)>,
}

impl<'a> PathIndex<'a> {
    fn new(coverage: &'a Coverage) -> PathIndex<'a> {
        PathIndex {
            sources: coverage.sources.iter().map(|s| components(s)).collect(),
            files: coverage.files.keys().map(|path| (path.as_str(), components(path), is_absolute(path))).collect(),
        }
    }

    /// See [`Coverage::find`].
    fn find(&self, repo_path: &str) -> Option<&'a str> {
        let wanted = components(repo_path);
        if wanted.is_empty() {
            return None;
        }
        let wanted = || wanted.iter().rev().copied();
        let mut best: Option<(usize, usize, &'a str)> = None; // (matched components, report length, path)
        for (path, written, absolute) in &self.files {
            let mut score = suffix_match(wanted(), written.iter().rev().copied());
            if !absolute {
                for dir in &self.sources {
                    let joined = written.iter().rev().chain(dir.iter().rev()).copied();
                    score = score.max(suffix_match(wanted(), joined));
                }
            }
            let better = match best {
                _ if score == 0 => false,
                None => true,
                Some((best_score, best_len, _)) => {
                    score > best_score || (score == best_score && written.len() < best_len)
                }
            };
            if better {
                best = Some((score, written.len(), path));
            }
        }
        best.map(|(_, _, path)| path)
    }
}

/// Why a coverage report could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoverageError {
    /// An lcov line that is malformed or out of place.
    Lcov {
        /// The 1-based line number in the lcov text.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The text is not well-formed XML (the message names the position).
    Xml(String),
    /// The XML is well-formed but its root element is not `<coverage>`.
    NotCobertura {
        /// The root element found.
        root: String,
    },
    /// A Cobertura element with a missing or malformed attribute.
    Cobertura {
        /// The 1-based line number of the element in the XML text.
        line: u32,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for CoverageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoverageError::Lcov { line, reason } => write!(f, "lcov line {line}: {reason}"),
            CoverageError::Xml(message) => write!(f, "Cobertura XML is not well-formed: {message}"),
            CoverageError::NotCobertura { root } => {
                write!(f, "not a Cobertura report: the root element is <{root}>, expected <coverage>")
            }
            CoverageError::Cobertura { line, reason } => write!(f, "Cobertura XML line {line}: {reason}"),
        }
    }
}

impl std::error::Error for CoverageError {}

/// Reads an lcov tracefile.
///
/// Records look like this (c8 writes a `TN:` line first; coverage.py's `coverage lcov` adds a
/// checksum to each `DA:` line when asked for one):
///
/// ```text
/// TN:
/// SF:/home/ci/app/src/math.js
/// FN:1,add
/// FNDA:3,add
/// DA:1,3
/// DA:2,0,2aK7kX9Rsq2tA8Pm4gT1aQ
/// LF:2
/// LH:1
/// end_of_record
/// ```
///
/// Only `SF:` (start of a file's record), `DA:line,hits[,checksum]` and `end_of_record` are
/// used; every other `KEY:value` record (`TN`, `FN`, `FNDA`, `FNF`, `FNH`, `FNL`, `FNA`, `BRDA`,
/// `BRF`, `BRH`, `LF`, `LH`, `VER`) and blank lines are skipped. A missing final `end_of_record`
/// is accepted. Fails, naming the line, on a `DA:` outside a record, a `DA:` whose numbers do
/// not parse, an empty `SF:`, or a line that is not lcov at all (so that JSON or HTML handed in
/// by mistake is reported rather than read as an empty report).
pub fn parse_lcov(text: &str) -> Result<Coverage, CoverageError> {
    let mut coverage = Coverage::default();
    let mut current: Option<&str> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        let error = |reason: String| CoverageError::Lcov { line: number, reason };
        if line.is_empty() {
            continue;
        }
        if line == "end_of_record" {
            current = None;
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(error(format!("not an lcov record: {}", excerpt(line))));
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(error(format!("not an lcov record: {}", excerpt(line))));
        }
        match key {
            "SF" => {
                let path = value.trim();
                if path.is_empty() {
                    return Err(error("SF: names no file".to_owned()));
                }
                // A file with no DA lines still exists in the report (all of it uncoverable).
                coverage.files.entry(path.to_owned()).or_default();
                current = Some(path);
            }
            "DA" => {
                let Some(path) = current else {
                    return Err(error("DA: outside a record (no SF: line before it)".to_owned()));
                };
                let mut fields = value.split(',').map(str::trim);
                let line_no = fields.next().and_then(|f| f.parse::<u32>().ok());
                let hits = fields.next().and_then(parse_hits);
                match (line_no, hits) {
                    (Some(line_no), Some(hits)) => coverage.add(path, line_no, hits),
                    _ => return Err(error(format!("expected DA:<line>,<hits>[,<checksum>], found {}", excerpt(line)))),
                }
            }
            _ => {}
        }
    }
    Ok(coverage)
}

/// A hit count: a non-negative integer. Some generators write `-1` for "not instrumented"
/// lines; those read as zero hits.
fn parse_hits(field: &str) -> Option<u64> {
    if let Ok(hits) = field.parse::<u64>() {
        return Some(hits);
    }
    field.parse::<i64>().ok().map(|hits| hits.max(0) as u64)
}

/// The start of `line`, short enough to quote in an error message.
fn excerpt(line: &str) -> String {
    const MAX: usize = 60;
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &line[..cut]),
        None => format!("{line:?}"),
    }
}

/// Reads a Cobertura XML report.
///
/// coverage.py's `coverage xml` writes (abridged):
///
/// ```text
/// <?xml version="1.0" ?>
/// <!DOCTYPE coverage SYSTEM "https://raw.githubusercontent.com/cobertura/web/master/htdocs/xml/coverage-04.dtd">
/// <coverage version="7.4.0" timestamp="1714557600000" lines-valid="12" lines-covered="9" line-rate="0.75" ...>
///   <sources>
///     <source>/home/ci/app/src</source>
///   </sources>
///   <packages>
///     <package name="shop" line-rate="0.75" branch-rate="0" complexity="0">
///       <classes>
///         <class name="cart.py" filename="shop/cart.py" complexity="0" line-rate="0.75" branch-rate="0">
///           <methods/>
///           <lines>
///             <line number="1" hits="1"/>
///             <line number="4" hits="0"/>
/// ```
///
/// Every `<class filename="…">` contributes its `<lines><line number hits>` (the `<line>`s under
/// `<methods>` repeat them and are not read twice). Paths are kept as written and the
/// `<source>` directories are kept in [`Coverage::sources`]. Fails on malformed XML, a root
/// other than `<coverage>`, or a `<class>`/`<line>` with a missing or non-numeric attribute,
/// naming the line of the XML.
pub fn parse_cobertura(xml: &str) -> Result<Coverage, CoverageError> {
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..roxmltree::ParsingOptions::default() };
    let doc = roxmltree::Document::parse_with_options(xml, options).map_err(|e| CoverageError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "coverage" {
        return Err(CoverageError::NotCobertura { root: root.tag_name().name().to_owned() });
    }
    let error = |node: roxmltree::Node, reason: String| CoverageError::Cobertura {
        line: doc.text_pos_at(node.range().start).row,
        reason,
    };

    let mut coverage = Coverage::default();
    for source in root.children().filter(|n| n.has_tag_name("sources")).flat_map(|n| n.children()) {
        if source.has_tag_name("source") {
            let dir = source.text().unwrap_or("").trim();
            if !dir.is_empty() {
                coverage.sources.push(dir.to_owned());
            }
        }
    }

    for class in root.descendants().filter(|n| n.has_tag_name("class")) {
        let Some(path) = class.attribute("filename").map(str::trim).filter(|p| !p.is_empty()) else {
            return Err(error(class, "<class> without a filename attribute".to_owned()));
        };
        coverage.files.entry(path.to_owned()).or_default();
        let lines = class.children().filter(|n| n.has_tag_name("lines")).flat_map(|n| n.children());
        for line in lines.filter(|n| n.has_tag_name("line")) {
            let number = line.attribute("number").and_then(|v| v.trim().parse::<u32>().ok());
            let hits = line.attribute("hits").and_then(|v| parse_hits(v.trim()));
            match (number, hits) {
                (Some(number), Some(hits)) => coverage.add(path, number, hits),
                _ => {
                    let number = line.attribute("number").unwrap_or("(missing)");
                    let hits = line.attribute("hits").unwrap_or("(missing)");
                    return Err(error(
                        line,
                        format!("<line> needs numeric number and hits, found number={number:?} hits={hits:?}"),
                    ));
                }
            }
        }
    }
    Ok(coverage)
}

/// The coverage of a diff's changed lines.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ChangedCoverage {
    /// Changed lines the report lists with at least one hit.
    pub covered: u32,
    /// Changed lines the report lists at all (hit or not).
    pub coverable: u32,
    /// Changed, coverable lines with no hit, as `(repository-relative path, line)`, in path and
    /// line order; at most [`MAX_UNCOVERED_LISTED`] of them (`coverable - covered` is the full
    /// count).
    pub uncovered: Vec<(String, u32)>,
    /// Changed files the report says nothing about (test files, documentation, configuration,
    /// or code the coverage run never loaded), in path order. Their lines do not count.
    pub files_without_data: Vec<String>,
}

impl ChangedCoverage {
    /// The covered share of the coverable changed lines, in percent (0 to 100), or `None` when no
    /// changed line is coverable (there is nothing to judge, which is not the same as 0%).
    pub fn percent(&self) -> Option<f64> {
        (self.coverable > 0).then(|| f64::from(self.covered) * 100.0 / f64::from(self.coverable))
    }

    /// The number of changed, coverable lines with no hit (complete, unlike
    /// [`uncovered`](ChangedCoverage::uncovered)).
    pub fn uncovered_count(&self) -> u32 {
        self.coverable - self.covered
    }
}

/// Measures how many of the `changed` lines the `coverage` report shows as run.
///
/// Each changed file is matched to a report file with [`Coverage::find`]. A changed line the
/// report lists is coverable, and covered when its hit count is above zero; a changed line the
/// report does not list (a comment, a blank line, a closing brace some tools skip) does not
/// count. A changed file with no matching report file goes to
/// [`files_without_data`](ChangedCoverage::files_without_data).
pub fn changed_coverage(coverage: &Coverage, changed: &ChangedLines) -> ChangedCoverage {
    let index = PathIndex::new(coverage);
    let mut result = ChangedCoverage::default();
    for (path, lines) in changed.iter() {
        let Some(hits) = index.find(path).and_then(|report_path| coverage.lines(report_path)) else {
            result.files_without_data.push(path.to_owned());
            continue;
        };
        for line in lines {
            let Some(&count) = hits.get(line) else { continue };
            result.coverable += 1;
            if count > 0 {
                result.covered += 1;
            } else if result.uncovered.len() < MAX_UNCOVERED_LISTED {
                result.uncovered.push((path.to_owned(), *line));
            }
        }
    }
    result
}

/// A sentence (or line) of Done text that talks about coverage.
static COVERAGE_WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\bcover(?:age|ed|s)?\b").unwrap());

/// A percentage: `80%`, `85 %`, `92.5%`, `80 percent`; group 1 is the number, group 2 an
/// "or more" marker right after it (`80%+`, `80% or more`, `80% or higher`, `80% minimum`).
static PERCENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(\d{1,3}(?:\.\d+)?)\s*(?:%|percent\b)(\s*\+|\s+or\s+(?:more|higher|above|better)\b|\s+min(?:imum)?\b)?",
    )
    .unwrap()
});

/// A comparison in front of a number: `>= 85`, `≥ 75`, `at least 90`, `minimum of 80`.
static AT_LEAST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:>=|≥|=>|>|\bat\s+least|\bminimum(?:\s+of)?|\bmin\.?|\bno\s+less\s+than|\bnot\s+below|\babove)\s*(?:of\s+)?(\d{1,3}(?:\.\d+)?)\b(\s*%)?",
    )
    .unwrap()
});

/// The coverage threshold a task's Done text states, in percent: `80%+ coverage on new code`,
/// `coverage >= 85 %`, `at least 90% line coverage`, `coverage of new code ≥ 75%` all give
/// their number.
///
/// Only sentences that mention coverage (`coverage`, `covered`, `covers`) are read, so "p95
/// latency under 200 ms, 99% uptime" gives `None`. In such a sentence, a number with a
/// comparison (`>=`, `≥`, `at least`, `minimum`) or an "or more" marker (`80%+`, `80% or more`)
/// wins; otherwise the largest percentage in the sentence (in "from 60% to 80% coverage" the
/// target is 80). Values above 100 are ignored.
pub fn threshold_from_text(done: &str) -> Option<f64> {
    sentences(done).filter(|s| COVERAGE_WORD.is_match(s)).find_map(threshold_in_sentence)
}

/// The threshold one sentence states, if any.
fn threshold_in_sentence(sentence: &str) -> Option<f64> {
    let valid = |text: &str| text.parse::<f64>().ok().filter(|v| (0.0..=100.0).contains(v));
    // A compared number counts when it is a percentage, or when it follows the word coverage
    // closely ("coverage >= 85"); "at least 2 tests" is not a threshold.
    let compared = AT_LEAST.captures_iter(sentence).filter(|c| {
        let start = c.get(0).map_or(0, |m| m.start());
        let mut from = start.saturating_sub(40);
        while !sentence.is_char_boundary(from) {
            from -= 1;
        }
        let before = &sentence[from..start];
        c.get(2).is_some() || COVERAGE_WORD.is_match(before)
    });
    let compared = compared.filter_map(|c| valid(&c[1]));
    let marked = PERCENT.captures_iter(sentence).filter(|c| c.get(2).is_some()).filter_map(|c| valid(&c[1]));
    if let Some(value) = compared.chain(marked).reduce(f64::max) {
        return Some(value);
    }
    PERCENT.captures_iter(sentence).filter_map(|c| valid(&c[1])).reduce(f64::max)
}

/// Splits text into sentences: at line breaks, at `;`, and at `.`, `!` or `?` followed by white
/// space (so the point of `92.5%` does not split).
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    static BOUNDARY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[\n;]|[.!?](?:\s|$)").unwrap());
    BOUNDARY.split(text).filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matched(a: &str, b: &str) -> usize {
        let (a, b) = (components(a), components(b));
        suffix_match(a.iter().rev().copied(), b.iter().rev().copied())
    }

    #[test]
    fn suffix_match_is_on_component_boundaries() {
        assert_eq!(matched("src/a.py", "/tmp/x/src/a.py"), 2);
        assert_eq!(matched("src/a.py", "a.py"), 1);
        assert_eq!(matched("src/a.py", "/tmp/xsrc/a.py"), 0);
        assert_eq!(matched("tests/__init__.py", "src/__init__.py"), 0);
        assert_eq!(matched("./src/a.py", r"C:\ci\src\a.py"), 2);
        assert_eq!(matched("", "a.py"), 0);
    }

    #[test]
    fn absolute_paths() {
        assert!(is_absolute("/tmp/a.py"));
        assert!(is_absolute(r"C:\ci\a.py"));
        assert!(is_absolute("C:/ci/a.py"));
        assert!(!is_absolute("src/a.py"));
        assert!(!is_absolute("a:b"));
    }

    #[test]
    fn sentences_do_not_split_decimals() {
        let parts: Vec<&str> = sentences("Keep 92.5% coverage. Then ship; done\nok").collect();
        assert_eq!(parts, ["Keep 92.5% coverage", "Then ship", " done", "ok"]);
    }
}

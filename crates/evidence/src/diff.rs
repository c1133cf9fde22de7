//! The lines a unified diff adds or changes, per file, on the new side.
//!
//! The engine runs `git diff -U0 --no-color --no-renames BASE HEAD` and hands the text to
//! [`changed_lines`]. The result says, for every file that still exists after the change, which
//! of its line numbers (in the new version of the file) were added or rewritten. Coverage of
//! changed lines ([`crate::coverage::changed_coverage`]) is computed over exactly these lines.
//!
//! What is read:
//!
//! - `diff --git a/x b/x` starts a new file section (nothing is taken from this line, because
//!   paths with spaces make it ambiguous);
//! - `+++ b/path` names the file on the new side. `+++ /dev/null` means the file was deleted, so
//!   it contributes no lines. Git writes names with unusual bytes in C-style quotes
//!   (`"b/na\303\257ve.txt"` when `core.quotePath` is on) and appends a tab after names that
//!   contain a space; both are undone. The `b/` prefix of git's default output is removed;
//! - `@@ -a,b +c,d @@` starts a hunk: `d` new-side lines beginning at line `c` (a missing `,d`
//!   means one line, `d = 0` means the hunk only removes lines);
//! - inside a hunk, each line starting with `+` is an added line on the new side, a line starting
//!   with a space is context (it advances the new-side line number but is not changed), a line
//!   starting with `-` is removed (it exists only on the old side), and `\ No newline at end of
//!   file` is ignored.
//!
//! Hunks are followed by their line counts, so an added line whose text starts with `++`
//! (shown as `+++…`) is still read as an added line, not as a file header. Binary files
//! (`Binary files a/x and b/x differ`, or a `GIT binary patch`) have no hunks and contribute no
//! lines.
//!
//! ```
//! let diff = "diff --git a/src/lib.rs b/src/lib.rs\n\
//!             index 3b18e51..a9c2f4e 100644\n\
//!             --- a/src/lib.rs\n\
//!             +++ b/src/lib.rs\n\
//!             @@ -3,0 +4,2 @@ fn main() {\n\
//!             +    let x = 1;\n\
//!             +    println!(\"{x}\");\n\
//!             @@ -10 +12 @@ fn helper() {\n\
//!             -    old();\n\
//!             +    new();\n";
//! let changed = evidence::diff::changed_lines(diff);
//! let lines: Vec<u32> = changed.lines("src/lib.rs").unwrap().iter().copied().collect();
//! assert_eq!(lines, [4, 5, 12]);
//! assert_eq!(changed.total(), 3);
//! ```

use std::collections::{BTreeMap, BTreeSet};

/// The added or changed lines of a diff: for each file, the sorted line numbers (1-based, in the
/// new version of the file) that the diff adds or rewrites.
///
/// Only files with at least one such line are listed: a deleted file, a binary file, a mode
/// change or a hunk that only removes lines leaves nothing to cover.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChangedLines {
    files: BTreeMap<String, BTreeSet<u32>>,
}

impl ChangedLines {
    /// The repository-relative paths of the files with changed lines, in sorted order.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The changed line numbers of `path` (as written in the diff, e.g. `src/lib.rs`), or `None`
    /// when the diff changes no line of that file.
    pub fn lines(&self, path: &str) -> Option<&BTreeSet<u32>> {
        self.files.get(path)
    }

    /// Every file with its changed line numbers, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &BTreeSet<u32>)> {
        self.files.iter().map(|(path, lines)| (path.as_str(), lines))
    }

    /// The number of changed lines over all files.
    pub fn total(&self) -> usize {
        self.files.values().map(BTreeSet::len).sum()
    }

    /// Whether the diff adds or changes no line at all.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Records `line` of `path` as changed.
    fn insert(&mut self, path: &str, line: u32) {
        self.files.entry(path.to_owned()).or_default().insert(line);
    }
}

/// Where the parser is between two lines of the diff.
struct Hunk {
    /// Old-side lines the hunk header announced and that have not been seen yet.
    old_left: u64,
    /// New-side lines the hunk header announced and that have not been seen yet.
    new_left: u64,
    /// The new-side line number of the next `+` or context line.
    next_new: u32,
}

/// Reads the added or changed lines of each file from a unified diff (see the [module
/// documentation](self) for the exact format). Anything that is not part of a file header or a
/// hunk (commit messages, `index` lines, `similarity` lines, binary patches) is skipped, and
/// malformed input yields whatever could be read: this function never fails or panics.
pub fn changed_lines(unified_diff: &str) -> ChangedLines {
    let mut changed = ChangedLines::default();
    // The new-side path of the current file section; `None` before the first `+++` line, after
    // `+++ /dev/null`, and after a `diff --git` line until the next `+++`.
    let mut path: Option<String> = None;
    let mut hunk: Option<Hunk> = None;

    for line in unified_diff.lines() {
        if let Some(h) = hunk.as_mut() {
            if h.old_left > 0 || h.new_left > 0 {
                match line.as_bytes().first() {
                    Some(b'+') => {
                        if let Some(p) = &path {
                            changed.insert(p, h.next_new);
                        }
                        h.next_new = h.next_new.saturating_add(1);
                        h.new_left = h.new_left.saturating_sub(1);
                        continue;
                    }
                    Some(b'-') => {
                        h.old_left = h.old_left.saturating_sub(1);
                        continue;
                    }
                    // A context line; some tools strip the single space off empty context lines.
                    Some(b' ') | None => {
                        h.next_new = h.next_new.saturating_add(1);
                        h.old_left = h.old_left.saturating_sub(1);
                        h.new_left = h.new_left.saturating_sub(1);
                        continue;
                    }
                    Some(b'\\') => continue,
                    // Anything else means the hunk was shorter than announced: read it as a header.
                    Some(_) => {}
                }
            } else if line.starts_with('\\') {
                // `\ No newline at end of file` right after the hunk's last line.
                continue;
            }
            hunk = None;
        }

        if line.starts_with("diff ") {
            // `diff --git a/x b/x` (or `diff -u old new`): a new file section begins.
            path = None;
        } else if let Some(name) = line.strip_prefix("+++ ") {
            path = new_side_path(name);
        } else if line.starts_with("@@ ") {
            hunk = parse_hunk_header(line);
        }
    }
    changed
}

/// The repository-relative path named by the text after `+++ `, or `None` for `/dev/null`.
fn new_side_path(name: &str) -> Option<String> {
    let name = name.trim_end_matches('\r');
    let name = if name.starts_with('"') {
        unquote_c_style(name)?
    } else {
        // Git appends a tab after a name containing a space; `diff -u` appends a tab and a
        // timestamp. A real tab in a name would have made git quote it.
        name.split('\t').next().unwrap_or(name).to_owned()
    };
    if name == "/dev/null" || name.is_empty() {
        return None;
    }
    let name = name.strip_prefix("b/").map(str::to_owned).unwrap_or(name);
    Some(name)
}

/// Undoes git's C-style quoting of a path: `"b/sp ace\303\251"` is `b/space` followed by the
/// UTF-8 bytes of `é`. Returns `None` when the closing quote is missing.
fn unquote_c_style(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?;
    let mut bytes = Vec::with_capacity(inner.len());
    let mut rest = inner.as_bytes();
    loop {
        match rest {
            [] => return None,
            [b'"', ..] => break,
            [b'\\', b'0'..=b'3', b'0'..=b'7', b'0'..=b'7', tail @ ..] => {
                let value = (rest[1] - b'0') * 64 + (rest[2] - b'0') * 8 + (rest[3] - b'0');
                bytes.push(value);
                rest = tail;
            }
            [b'\\', escaped, tail @ ..] => {
                bytes.push(match escaped {
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'v' => 0x0b,
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    other => *other,
                });
                rest = tail;
            }
            [byte, tail @ ..] => {
                bytes.push(*byte);
                rest = tail;
            }
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads `@@ -a[,b] +c[,d] @@ …`. Returns `None` for a header that does not have this shape
/// (a combined diff's `@@@`, or garbage), so that its lines are skipped.
fn parse_hunk_header(line: &str) -> Option<Hunk> {
    let rest = line.strip_prefix("@@ -")?;
    let (old, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix('+')?;
    let (new, rest) = rest.split_once(' ')?;
    if !rest.starts_with("@@") {
        return None;
    }
    let (_, old_count) = parse_range(old)?;
    let (new_start, new_count) = parse_range(new)?;
    Some(Hunk { old_left: old_count, new_left: new_count, next_new: new_start })
}

/// Reads `start[,count]`; a missing count is one line.
fn parse_range(range: &str) -> Option<(u32, u64)> {
    match range.split_once(',') {
        Some((start, count)) => Some((parse_digits(start)?, parse_digits(count)?)),
        None => Some((parse_digits(range)?, 1)),
    }
}

/// Parses a plain run of ASCII digits (no sign, no spaces).
fn parse_digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(changed: &ChangedLines, path: &str) -> Vec<u32> {
        changed.lines(path).map(|set| set.iter().copied().collect()).unwrap_or_default()
    }

    #[test]
    fn unquotes_octal_escapes_as_utf8_bytes() {
        assert_eq!(unquote_c_style(r#""b/sp ace\303\251""#).as_deref(), Some("b/sp aceé"));
        assert_eq!(
            unquote_c_style(r#""b/tab\there \"q\" back\\slash""#).as_deref(),
            Some("b/tab\there \"q\" back\\slash")
        );
        assert_eq!(unquote_c_style(r#""b/unterminated"#), None);
    }

    #[test]
    fn hunk_headers() {
        let h = parse_hunk_header("@@ -10 +12 @@ fn helper() {").unwrap();
        assert_eq!((h.old_left, h.new_left, h.next_new), (1, 1, 12));
        let h = parse_hunk_header("@@ -3,0 +4,2 @@").unwrap();
        assert_eq!((h.old_left, h.new_left, h.next_new), (0, 2, 4));
        assert!(parse_hunk_header("@@@ -1,2 -1,2 +1,3 @@@").is_none());
        assert!(parse_hunk_header("@@ -x +1 @@").is_none());
        assert!(parse_hunk_header("@@ -1 +99999999999 @@").is_none());
    }

    #[test]
    fn deletion_only_hunk_adds_nothing() {
        let diff = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -2,2 +1,0 @@\n-one\n-two\n";
        let changed = changed_lines(diff);
        assert!(changed.is_empty());
        assert_eq!(lines_of(&changed, "a.txt"), Vec::<u32>::new());
    }

    #[test]
    fn a_header_looking_line_inside_a_hunk_is_content() {
        // The file's new line 1 is `++ counter` (a C++ increment, say): git shows it as `+++ counter`.
        let diff = "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -0,0 +1,2 @@\n+++ counter\n+--x\n";
        assert_eq!(lines_of(&changed_lines(diff), "x.c"), [1, 2]);
    }
}

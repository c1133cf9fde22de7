//! A commit's diff as the room shows it: files with their status, hunks and numbered lines,
//! read from real git and cut to a size a page can hold.
//!
//! Two git calls make a page. `diff-tree -z --raw --numstat` lists every file of the commit
//! (status, rename source, lines added and deleted, `-` for binary files) without reading
//! a patch; the room pages over that list. Then one `diff-tree -p` limited to the page's paths
//! gives their hunks, read as a stream: a file keeps its first `lines` lines (the page asks for
//! more with "show more"), and the whole read stops at [`MAX_PATCH_BYTES`], so a diff of
//! 50,000 lines or a 20 MB file costs a page no more than its cap. Binary files are named, never
//! shown. The parsers are pure and never panic, whatever git prints.

use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

/// Files on one page of a diff.
pub(crate) const FILES_PER_PAGE: usize = 40;
/// Lines of a file shown before "show more".
pub(crate) const FILE_LINES: usize = 400;
/// The most lines of one file a request may ask for.
pub(crate) const MAX_FILE_LINES: usize = 20_000;
/// The most patch text one request reads from git.
pub(crate) const MAX_PATCH_BYTES: u64 = 16 * 1024 * 1024;

/// What happened to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
    Copied,
    /// Its type changed (a file became a symlink, ...).
    TypeChanged,
}

impl FileStatus {
    /// The status of a `--raw` record's letter (`R` and `C` carry a score after it).
    fn from_letter(letter: u8) -> Option<FileStatus> {
        Some(match letter {
            b'A' => FileStatus::Added,
            b'M' => FileStatus::Modified,
            b'D' => FileStatus::Deleted,
            b'R' => FileStatus::Renamed,
            b'C' => FileStatus::Copied,
            b'T' => FileStatus::TypeChanged,
            _ => return None,
        })
    }
}

/// A file of the commit, as the file list names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct FileEntry {
    pub(crate) path: String,
    /// Where a renamed or copied file came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) old_path: Option<String>,
    pub(crate) status: FileStatus,
    /// Git sees no text in it: it is named, not shown.
    pub(crate) binary: bool,
    pub(crate) added: u64,
    pub(crate) deleted: u64,
}

/// Why git's output could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ParseError(String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads `git diff-tree -r -z --raw --numstat -M`: the `:`-records first (mode, blobs, status,
/// paths), then the numstat records (`added\tdeleted\tpath`, or `\t\0old\0new` for a rename),
/// in the same order.
pub(crate) fn parse_file_list(output: &[u8]) -> Result<Vec<FileEntry>, ParseError> {
    // Git never prints an empty path: an empty field is the end of the output.
    let mut fields = output.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut files = Vec::new();
    let mut counts = Vec::new();
    while let Some(field) = fields.next() {
        if field.starts_with(b":") {
            let letter = field.rsplit(|b| *b == b' ').next().and_then(|s| s.first().copied());
            let status = letter
                .and_then(FileStatus::from_letter)
                .ok_or_else(|| ParseError(format!("unknown change in git's file list: `{}`", text(field))))?;
            let first = fields.next().ok_or_else(|| ParseError("git's file list ends inside a record".into()))?;
            let (path, old_path) = if matches!(status, FileStatus::Renamed | FileStatus::Copied) {
                let second = fields.next().ok_or_else(|| ParseError("git's file list ends inside a rename".into()))?;
                (text(second), Some(text(first)))
            } else {
                (text(first), None)
            };
            files.push(FileEntry { path, old_path, status, binary: false, added: 0, deleted: 0 });
        } else {
            let mut parts = field.splitn(3, |b| *b == b'\t');
            let (Some(added), Some(deleted), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(ParseError(format!("unreadable line count in git's file list: `{}`", text(field))));
            };
            if path.is_empty() {
                // A rename: its two paths follow.
                fields.next();
                fields.next();
            }
            let count = |n: &[u8]| std::str::from_utf8(n).ok().and_then(|n| n.parse::<u64>().ok());
            counts.push(match (count(added), count(deleted)) {
                (Some(added), Some(deleted)) => Some((added, deleted)),
                _ if added == b"-" && deleted == b"-" => None,
                _ => return Err(ParseError(format!("unreadable line count in git's file list: `{}`", text(field)))),
            });
        }
    }
    if !counts.is_empty() && counts.len() != files.len() {
        return Err(ParseError(format!(
            "git's file list names {} files but counts lines of {}",
            files.len(),
            counts.len()
        )));
    }
    for (file, count) in files.iter_mut().zip(counts) {
        match count {
            Some((added, deleted)) => (file.added, file.deleted) = (added, deleted),
            None => file.binary = true,
        }
    }
    Ok(files)
}

/// What a line of a hunk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LineKind {
    Context,
    Added,
    Deleted,
}

/// A line of a hunk with its numbers in the old and the new file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Line {
    pub(crate) kind: LineKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) old: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) new: Option<u64>,
    pub(crate) text: String,
    /// The file ends here without a newline.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) no_newline: bool,
}

/// A hunk: where it starts in each file, and its lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Hunk {
    pub(crate) old_start: u64,
    pub(crate) old_lines: u64,
    pub(crate) new_start: u64,
    pub(crate) new_lines: u64,
    /// The function or section git names after `@@`.
    pub(crate) section: String,
    pub(crate) lines: Vec<Line>,
}

/// One file's patch, as far as it was kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct FilePatch {
    pub(crate) hunks: Vec<Hunk>,
    /// Lines in all its hunks.
    pub(crate) lines_total: usize,
    /// Lines kept (the first `limit`).
    pub(crate) lines_shown: usize,
    /// Git called it binary.
    pub(crate) binary: bool,
}

/// Reads `git diff -p` line by line into one [`FilePatch`] per `diff --git` section, keeping
/// the first `limit` lines of each. Hunk lines are counted against the `@@` header, so a line
/// that reads like a header inside a file's text is never taken for one.
#[derive(Debug)]
pub(crate) struct PatchReader {
    limit: usize,
    files: Vec<FilePatch>,
    /// Old and new lines still expected in the current hunk.
    left: (u64, u64),
    /// The next line numbers in the old and new file.
    next: (u64, u64),
}

impl PatchReader {
    pub(crate) fn new(limit: usize) -> PatchReader {
        PatchReader { limit, files: Vec::new(), left: (0, 0), next: (0, 0) }
    }

    /// Takes one line, without its `\n`.
    pub(crate) fn line(&mut self, line: &[u8]) {
        let in_hunk = self.left != (0, 0);
        if in_hunk && let Some((&first, rest)) = line.split_first() {
            let kind = match first {
                b' ' => Some(LineKind::Context),
                b'+' => Some(LineKind::Added),
                b'-' => Some(LineKind::Deleted),
                _ => None,
            };
            if let Some(kind) = kind {
                self.hunk_line(kind, rest);
                return;
            }
        }
        if line.starts_with(b"\\") {
            // "\ No newline at end of file": about the line before.
            if let Some(last) = self.files.last_mut().and_then(|f| f.hunks.last_mut()).and_then(|h| h.lines.last_mut())
            {
                last.no_newline = true;
            }
            return;
        }
        self.left = (0, 0);
        if line.starts_with(b"diff --git ") {
            self.files.push(FilePatch::default());
        } else if line.starts_with(b"@@ ") {
            if let (Some(file), Some(hunk)) = (self.files.last_mut(), parse_hunk_header(line)) {
                self.left = (hunk.old_lines, hunk.new_lines);
                self.next = (hunk.old_start, hunk.new_start);
                file.hunks.push(hunk);
            }
        } else if (line.starts_with(b"Binary files ") || line == b"GIT binary patch")
            && let Some(file) = self.files.last_mut()
        {
            file.binary = true;
        }
    }

    fn hunk_line(&mut self, kind: LineKind, rest: &[u8]) {
        let (old, new) = match kind {
            LineKind::Context => (Some(self.next.0), Some(self.next.1)),
            LineKind::Added => (None, Some(self.next.1)),
            LineKind::Deleted => (Some(self.next.0), None),
        };
        if old.is_some() {
            self.next.0 += 1;
            self.left.0 = self.left.0.saturating_sub(1);
        }
        if new.is_some() {
            self.next.1 += 1;
            self.left.1 = self.left.1.saturating_sub(1);
        }
        let Some(file) = self.files.last_mut() else { return };
        file.lines_total += 1;
        if file.lines_shown >= self.limit {
            return;
        }
        if let Some(hunk) = file.hunks.last_mut() {
            hunk.lines.push(Line { kind, old, new, text: text(rest), no_newline: false });
            file.lines_shown += 1;
        }
    }

    pub(crate) fn finish(self) -> Vec<FilePatch> {
        self.files
    }
}

/// `@@ -a[,b] +c[,d] @@ section`.
fn parse_hunk_header(line: &[u8]) -> Option<Hunk> {
    let line = std::str::from_utf8(line).ok()?;
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, section) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |r: &str| -> Option<(u64, u64)> {
        match r.split_once(',') {
            Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (old_start, old_lines) = range(old)?;
    let (new_start, new_lines) = range(new)?;
    Some(Hunk { old_start, old_lines, new_start, new_lines, section: section.trim().to_owned(), lines: Vec::new() })
}

/// Parses a whole patch (for tests and small inputs).
#[cfg(test)]
pub(crate) fn parse_patch(patch: &[u8], limit: usize) -> Vec<FilePatch> {
    let mut reader = PatchReader::new(limit);
    for line in patch.split(|b| *b == b'\n') {
        reader.line(line);
    }
    reader.finish()
}

/// A file as the room shows it: its entry and, unless it is binary, its patch.
#[derive(Debug, Serialize)]
pub(crate) struct FileDiff {
    #[serde(flatten)]
    pub(crate) entry: FileEntry,
    pub(crate) hunks: Vec<Hunk>,
    pub(crate) lines_total: usize,
    pub(crate) lines_shown: usize,
    /// Some of its lines are not here: ask again with more `lines`.
    pub(crate) truncated: bool,
}

/// A page of a commit's diff.
#[derive(Debug, Serialize)]
pub(crate) struct DiffPage {
    pub(crate) commit: String,
    /// The commit it is compared with (its first parent); absent for a root commit.
    pub(crate) base: Option<String>,
    pub(crate) files_total: usize,
    pub(crate) page: usize,
    pub(crate) pages: usize,
    pub(crate) files: Vec<FileDiff>,
}

/// What to show of a commit's diff.
#[derive(Clone, Debug)]
pub(crate) struct Want {
    /// The page of files (from 0).
    pub(crate) page: usize,
    /// Only this file (then `page` is ignored).
    pub(crate) file: Option<String>,
    /// Lines kept of each file (0: only the list of files).
    pub(crate) lines: usize,
}

/// Why a diff could not be read.
#[derive(Debug)]
pub(crate) enum DiffError {
    /// The commit is not in the repository (or not a commit id).
    NoCommit(String),
    /// The file asked for is not in the commit's diff.
    NoFile(String),
    /// Git failed or printed what we cannot read.
    Git(String),
}

impl std::fmt::Display for DiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiffError::NoCommit(commit) => write!(f, "commit `{commit}` is not in this repository"),
            DiffError::NoFile(path) => write!(f, "the commit does not change `{path}`"),
            DiffError::Git(message) => f.write_str(message),
        }
    }
}

/// `git -C <git dir>` with no prompt, no colour, no external diff, literal paths.
fn git(git_dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(git_dir)
        .args(["--literal-pathspecs", "-c", "core.quotePath=false", "-c", "diff.noprefix=false"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn output(mut command: Command) -> Result<Vec<u8>, DiffError> {
    let out = command.output().map_err(|e| DiffError::Git(format!("could not run git: {e}")))?;
    if !out.status.success() {
        return Err(DiffError::Git(format!("git failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
    }
    Ok(out.stdout)
}

/// The diff of `commit` against its first parent, in the repository whose git directory is
/// `git_dir`, cut as `want` says.
pub(crate) fn read(git_dir: &Path, commit: &str, want: &Want) -> Result<DiffPage, DiffError> {
    if commit.is_empty() || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DiffError::NoCommit(commit.to_owned()));
    }
    let mut command = git(git_dir);
    command.args(["rev-list", "--parents", "-n", "1", commit, "--"]);
    let parents = output(command).map_err(|_| DiffError::NoCommit(commit.to_owned()))?;
    let parents = String::from_utf8_lossy(&parents);
    let mut ids = parents.split_whitespace();
    let commit = ids.next().ok_or_else(|| DiffError::NoCommit(commit.to_owned()))?.to_owned();
    let base = ids.next().map(str::to_owned);
    let range: Vec<&str> = match &base {
        Some(base) => vec![base, &commit],
        None => vec!["--root", &commit],
    };

    let mut command = git(git_dir);
    command.args(["diff-tree", "-r", "-z", "--no-commit-id", "--raw", "--numstat", "-M"]).args(&range);
    let list = parse_file_list(&output(command)?).map_err(|e| DiffError::Git(e.to_string()))?;
    let files_total = list.len();
    let pages = files_total.div_ceil(FILES_PER_PAGE).max(1);
    let (page, entries): (usize, Vec<FileEntry>) = match &want.file {
        Some(path) => {
            let entry = list.into_iter().find(|f| &f.path == path).ok_or_else(|| DiffError::NoFile(path.clone()))?;
            (0, vec![entry])
        }
        None => {
            let page = want.page.min(pages - 1);
            (page, list.into_iter().skip(page * FILES_PER_PAGE).take(FILES_PER_PAGE).collect())
        }
    };
    let lines = want.lines.min(MAX_FILE_LINES);
    // No lines wanted (a card's list of files): no patch to read.
    let patches =
        if entries.is_empty() || lines == 0 { Vec::new() } else { patches(git_dir, &range, &entries, lines)? };
    let mut patches = patches.into_iter();
    let files = entries
        .into_iter()
        .map(|entry| {
            // Git prints one section per file, in the list's order; a read cut at the byte cap
            // leaves the last ones without.
            let patch = patches.next().unwrap_or_default();
            let counted = (entry.added + entry.deleted) as usize;
            let binary = entry.binary || patch.binary;
            let total = patch.lines_total.max(counted);
            let (hunks, shown) = if binary { (Vec::new(), 0) } else { (patch.hunks, patch.lines_shown) };
            FileDiff {
                entry: FileEntry { binary, ..entry },
                truncated: !binary && shown < total,
                hunks,
                lines_total: if binary { 0 } else { total },
                lines_shown: shown,
            }
        })
        .collect();
    Ok(DiffPage { commit, base, files_total, page, pages, files })
}

/// The patches of `entries`, read as a stream and cut at `lines` a file and
/// [`MAX_PATCH_BYTES`] in all.
fn patches(git_dir: &Path, range: &[&str], entries: &[FileEntry], lines: usize) -> Result<Vec<FilePatch>, DiffError> {
    let mut command = git(git_dir);
    command
        .args(["diff-tree", "-r", "-p", "--no-commit-id", "--no-color", "--no-ext-diff", "--no-textconv", "-M"])
        .args(range)
        .arg("--");
    for entry in entries {
        command.args(entry.old_path.iter()).arg(&entry.path);
    }
    command.stderr(Stdio::null());
    let mut child = command.spawn().map_err(|e| DiffError::Git(format!("could not run git: {e}")))?;
    let stdout = child.stdout.take().ok_or_else(|| DiffError::Git("git gave no output".into()))?;
    let mut reader = PatchReader::new(lines);
    let mut input = BufReader::new(stdout.take(MAX_PATCH_BYTES));
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        reader.line(&line);
    }
    let capped = input.into_inner().limit() == 0;
    // Stopped at the cap, git may still be writing: what it writes is not needed.
    if capped {
        let _ = child.kill();
    }
    match child.wait() {
        Ok(status) if status.success() || capped => Ok(reader.finish()),
        Ok(status) => Err(DiffError::Git(format!("git could not print the patch ({status})"))),
        Err(e) => Err(DiffError::Git(format!("git could not print the patch: {e}"))),
    }
}

#[cfg(test)]
mod tests;

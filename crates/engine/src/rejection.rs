//! A rejection with comments: what a person wrote on lines of a change's diff (in the room, or
//! `wavecrew reject --comment PATH:LINE:TEXT`), folded into the one reason the agent's next
//! prompt holds. The dashboard and the CLI both call [`reason_with_comments`], so the agent
//! reads the same thing whichever way the rejection came. Pure: no I/O.

use serde::Deserialize;
use std::fmt;

/// A comment on one line of a diff.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LineComment {
    /// The file, as the diff names it.
    pub path: String,
    /// The line's number in the new file (in the old one for a deleted line).
    pub line: u64,
    /// `old` for a deleted line; the new file otherwise.
    #[serde(default)]
    pub side: Side,
    /// What the person wrote.
    pub text: String,
}

/// Which file of the diff a line number counts in.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// A deleted line: its number in the file before the change.
    Old,
    /// Any other line: its number in the file after the change.
    #[default]
    New,
}

/// The most comments one rejection carries (the dashboard's body limit caps their text too).
pub const MAX_COMMENTS: usize = 200;

/// Why a rejection cannot be sent as it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RejectionError {
    /// More than [`MAX_COMMENTS`] comments.
    #[error("a rejection carries at most {MAX_COMMENTS} comments (got {0}); send the rest next time")]
    TooManyComments(usize),
    /// A comment without a file, or on line 0.
    #[error("a comment needs a file and a line from 1 (got `{path}:{line}`)")]
    BadPlace {
        /// The comment's file.
        path: String,
        /// The comment's line.
        line: u64,
    },
    /// Neither a reason nor a comment with text.
    #[error("a rejection needs a reason or comments: the agent gets them")]
    Empty,
}

/// The reason a rejection sends: the person's sentence, then each comment as `path:line: text`
/// in file and line order (comments without text left out). A rejection needs one of the two.
pub fn reason_with_comments(reason: Option<&str>, comments: &[LineComment]) -> Result<String, RejectionError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let mut comments: Vec<&LineComment> = comments.iter().filter(|c| !c.text.trim().is_empty()).collect();
    if comments.len() > MAX_COMMENTS {
        return Err(RejectionError::TooManyComments(comments.len()));
    }
    if let Some(bad) = comments.iter().find(|c| c.path.trim().is_empty() || c.line == 0) {
        return Err(RejectionError::BadPlace { path: bad.path.clone(), line: bad.line });
    }
    comments.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    let mut out = match (reason, comments.is_empty()) {
        (Some(reason), _) => reason.to_owned(),
        (None, false) => "see the comments on the diff".to_owned(),
        (None, true) => return Err(RejectionError::Empty),
    };
    if !comments.is_empty() {
        out.push_str("\n\nComments on the diff:");
        for c in comments {
            let old = if c.side == Side::Old { " (a deleted line)" } else { "" };
            // One line each: a comment's own line breaks are kept, indented under it.
            let text = c.text.trim().replace('\n', "\n  ");
            out.push_str(&format!("\n- {}:{}{old}: {text}", c.path, c.line));
        }
    }
    Ok(out)
}

/// Why `PATH:LINE:TEXT` (a comment given on the command line) does not parse. Each says the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommentSyntaxError {
    /// No `:LINE:` after the path.
    NoLine,
    /// `:LINE:` with no path before it.
    NoPath,
    /// `PATH:0:…`: lines count from 1.
    LineZero {
        /// The comment's file.
        path: String,
    },
    /// A line number too large to be one.
    LineTooLarge {
        /// The digits given.
        digits: String,
    },
    /// Nothing after `PATH:LINE:`.
    NoText {
        /// The comment's file.
        path: String,
        /// The comment's line.
        line: u64,
    },
}

impl std::error::Error for CommentSyntaxError {}

impl fmt::Display for CommentSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommentSyntaxError::NoLine => {
                write!(f, "no line number: write PATH:LINE:TEXT, e.g. `src/lib.rs:12:check the bound`")
            }
            CommentSyntaxError::NoPath => {
                write!(f, "no file before the line: write PATH:LINE:TEXT, e.g. `src/lib.rs:12:check the bound`")
            }
            CommentSyntaxError::LineZero { path } => {
                write!(f, "line 0 of {path}: lines count from 1, as the diff numbers them")
            }
            CommentSyntaxError::LineTooLarge { digits } => {
                write!(f, "{digits} is no line number: write PATH:LINE:TEXT with the line the diff shows")
            }
            CommentSyntaxError::NoText { path, line } => {
                write!(f, "the comment on {path}:{line} is empty: write its text after the line, `{path}:{line}:TEXT`")
            }
        }
    }
}

impl LineComment {
    /// Parses `PATH:LINE:TEXT` (a comment on the command line) on `side` of the diff. The first
    /// `:LINE:` splits the path from the text, so the text may hold colons (a path holding
    /// `:DIGITS:` cannot be named this way).
    pub fn parse(arg: &str, side: Side) -> Result<LineComment, CommentSyntaxError> {
        for (at, _) in arg.match_indices(':') {
            let rest = &arg[at + 1..];
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let after = &rest[digits..];
            if digits == 0 || !(after.is_empty() || after.starts_with(':')) {
                continue;
            }
            let path = arg[..at].trim();
            if path.is_empty() {
                return Err(CommentSyntaxError::NoPath);
            }
            let digits = &rest[..digits];
            let line: u64 =
                digits.parse().map_err(|_| CommentSyntaxError::LineTooLarge { digits: digits.to_owned() })?;
            if line == 0 {
                return Err(CommentSyntaxError::LineZero { path: path.to_owned() });
            }
            let text = after.strip_prefix(':').unwrap_or_default().trim();
            if text.is_empty() {
                return Err(CommentSyntaxError::NoText { path: path.to_owned(), line });
            }
            return Ok(LineComment { path: path.to_owned(), line, side, text: text.to_owned() });
        }
        Err(CommentSyntaxError::NoLine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn comment(path: &str, line: u64, side: Side, text: &str) -> LineComment {
        LineComment { path: path.into(), line, side, text: text.into() }
    }

    #[test]
    fn comments_follow_the_reason_in_file_and_line_order() {
        let comments = [
            comment("src/b.rs", 3, Side::New, "rename this"),
            comment("src/a.rs", 12, Side::New, "off by one\nsee the test"),
            comment("src/a.rs", 2, Side::Old, "keep this line"),
            comment("src/c.rs", 1, Side::New, "  "),
        ];
        assert_eq!(
            reason_with_comments(Some(" wrong bounds "), &comments).unwrap(),
            "wrong bounds\n\nComments on the diff:\n- src/a.rs:2 (a deleted line): keep this line\n\
             - src/a.rs:12: off by one\n  see the test\n- src/b.rs:3: rename this"
        );
    }

    #[test]
    fn a_rejection_needs_a_reason_or_a_comment() {
        assert_eq!(reason_with_comments(Some("no"), &[]).unwrap(), "no");
        let only = [comment("a.rs", 1, Side::New, "why")];
        assert_eq!(
            reason_with_comments(None, &only).unwrap(),
            "see the comments on the diff\n\nComments on the diff:\n- a.rs:1: why"
        );
        assert_eq!(reason_with_comments(Some(" "), &[comment("a.rs", 1, Side::New, "")]), Err(RejectionError::Empty));
        assert_eq!(
            reason_with_comments(None, &[comment("a.rs", 0, Side::New, "x")]),
            Err(RejectionError::BadPlace { path: "a.rs".into(), line: 0 })
        );
        assert_eq!(
            reason_with_comments(None, &vec![comment("a.rs", 1, Side::New, "x"); 201]),
            Err(RejectionError::TooManyComments(201))
        );
    }

    #[test]
    fn a_comment_on_the_command_line_is_path_line_text() {
        assert_eq!(
            LineComment::parse("src/a.rs:12:off by one: see the test", Side::New),
            Ok(comment("src/a.rs", 12, Side::New, "off by one: see the test"))
        );
        assert_eq!(LineComment::parse(" a.rs:3: keep it ", Side::Old), Ok(comment("a.rs", 3, Side::Old, "keep it")));
        // The first `:LINE:` splits: a colon in the path before it is kept.
        assert_eq!(LineComment::parse("a:b.rs:7:x", Side::New), Ok(comment("a:b.rs", 7, Side::New, "x")));
    }

    #[test]
    fn a_comment_without_a_line_or_text_says_what_to_write() {
        let err = |arg: &str| LineComment::parse(arg, Side::New).unwrap_err();
        assert_eq!(err("src/a.rs: too long"), CommentSyntaxError::NoLine);
        assert_eq!(err("src/a.rs:x:too long"), CommentSyntaxError::NoLine);
        assert_eq!(err(":3:no file"), CommentSyntaxError::NoPath);
        assert_eq!(err("a.rs:0:x"), CommentSyntaxError::LineZero { path: "a.rs".into() });
        assert_eq!(err("a.rs:4"), CommentSyntaxError::NoText { path: "a.rs".into(), line: 4 });
        assert_eq!(err("a.rs:4:  "), CommentSyntaxError::NoText { path: "a.rs".into(), line: 4 });
        assert!(matches!(err("a.rs:99999999999999999999999:x"), CommentSyntaxError::LineTooLarge { .. }));
        assert!(err("a.rs").to_string().contains("PATH:LINE:TEXT"), "{}", err("a.rs"));
        assert!(err("a.rs:4").to_string().contains("`a.rs:4:TEXT`"), "{}", err("a.rs:4"));
    }

    proptest! {
        #[test]
        fn a_written_comment_parses_back(
            path in "[a-z][a-z0-9_./-]{0,20}",
            line in 1u64..1_000_000,
            text in "[a-zA-Z0-9:;,.!? -]{0,30}[a-zA-Z0-9.!?]",
        ) {
            let parsed = LineComment::parse(&format!("{path}:{line}:{text}"), Side::New).unwrap();
            prop_assert_eq!(parsed, comment(&path, line, Side::New, text.trim()));
        }

        #[test]
        fn any_argument_parses_or_errs_without_a_panic(arg in ".{0,40}") {
            if let Ok(c) = LineComment::parse(&arg, Side::New) {
                prop_assert!(c.line > 0 && !c.path.is_empty() && !c.text.is_empty());
                prop_assert!(reason_with_comments(None, &[c]).is_ok());
            }
        }
    }
}

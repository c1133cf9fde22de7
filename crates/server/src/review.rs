//! A rejection with comments: what a person wrote on lines of a change's diff in the room,
//! folded into the reason the agent's next prompt holds (the same path as `wavecrew reject`).

use serde::Deserialize;

/// A comment on one line of a diff.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct LineComment {
    /// The file, as the diff names it.
    pub(crate) path: String,
    /// The line's number in the new file (in the old one for a deleted line).
    pub(crate) line: u64,
    /// `old` for a deleted line; the new file otherwise.
    #[serde(default)]
    pub(crate) side: Side,
    pub(crate) text: String,
}

/// Which file of the diff a line number counts in.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Side {
    /// A deleted line: its number in the file before the change.
    Old,
    #[default]
    New,
}

/// The most comments one rejection carries (the body limit caps their text too).
const MAX_COMMENTS: usize = 200;

/// The reason a rejection sends: the person's sentence, then each comment as `path:line: text`
/// in file and line order. A rejection needs one of the two.
pub(crate) fn reason_with_comments(reason: Option<&str>, comments: &[LineComment]) -> Result<String, String> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let mut comments: Vec<&LineComment> = comments.iter().filter(|c| !c.text.trim().is_empty()).collect();
    if comments.len() > MAX_COMMENTS {
        return Err(format!("a rejection carries at most {MAX_COMMENTS} comments; send the rest next time"));
    }
    if let Some(bad) = comments.iter().find(|c| c.path.trim().is_empty() || c.line == 0) {
        return Err(format!("a comment needs a file and a line from 1 (got `{}:{}`)", bad.path, bad.line));
    }
    comments.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    let mut out = match (reason, comments.is_empty()) {
        (Some(reason), _) => reason.to_owned(),
        (None, false) => "see the comments on the diff".to_owned(),
        (None, true) => return Err("a rejection needs a reason or comments: the agent gets them".to_owned()),
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(reason_with_comments(Some(" "), &[comment("a.rs", 1, Side::New, "")]).is_err());
        assert!(reason_with_comments(None, &[comment("a.rs", 0, Side::New, "x")]).is_err());
        assert!(reason_with_comments(None, &vec![comment("a.rs", 1, Side::New, "x"); 201]).is_err());
    }
}

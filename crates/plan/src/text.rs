//! Text-level findings that do not depend on Markdown structure: mojibake and placeholders.

use crate::span::Span;
use std::borrow::Cow;
use std::sync::OnceLock;

/// A stretch of mojibake: UTF-8 bytes that were once decoded as Windows-1252.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mojibake {
    /// The garbled text.
    pub span: Span,
    /// What it reads once repaired one time; text garbled twice needs [`repair`].
    pub repaired: String,
}

/// The Windows-1252 byte of `c`, for characters outside ASCII.
///
/// The table of the 0x80..=0x9F range comes from `encoding_rs` (which maps the five undefined
/// bytes to C1 controls, as browsers do), so every byte has a character and back.
fn cp1252_byte(c: char) -> Option<u8> {
    static HIGH: OnceLock<[char; 32]> = OnceLock::new();
    let high = HIGH.get_or_init(|| {
        let bytes: Vec<u8> = (0x80..=0x9F).collect();
        let (decoded, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes);
        let mut table = ['\0'; 32];
        for (slot, c) in table.iter_mut().zip(decoded.chars()) {
            *slot = c;
        }
        table
    });
    match c as u32 {
        0xA0..=0xFF => Some(c as u32 as u8),
        _ => high.iter().position(|&h| h == c).map(|i| 0x80 + i as u8),
    }
}

/// Finds mojibake in `text`, one entry per contiguous stretch.
pub fn find_mojibake(text: &str) -> Vec<Mojibake> {
    let mut found: Vec<Mojibake> = Vec::new();
    // A run of non-ASCII characters that all have a Windows-1252 byte: (byte offset, byte) each.
    let mut run: Vec<(usize, u8)> = Vec::new();
    let mut at = 0;
    // ASCII is never part of mojibake: jump from one non-ASCII byte to the next.
    while let Some(start) = text.as_bytes()[at..].iter().position(|b| !b.is_ascii()).map(|p| p + at) {
        run.clear();
        let mut end = start;
        for (offset, c) in text[start..].char_indices() {
            match cp1252_byte(c) {
                Some(byte) if !c.is_ascii() => {
                    run.push((start + offset, byte));
                    end = start + offset + c.len_utf8();
                }
                _ => break,
            }
        }
        if run.is_empty() {
            // A character with no Windows-1252 byte (`—` written properly, say): step over it.
            at = start + text[start..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        scan_run(&run, end, &mut found);
        at = end;
    }
    found
}

/// Looks for valid multi-byte UTF-8 sequences among the Windows-1252 bytes of one run.
fn scan_run(run: &[(usize, u8)], run_end: usize, found: &mut Vec<Mojibake>) {
    let bytes: Vec<u8> = run.iter().map(|&(_, b)| b).collect();
    let mut i = 0;
    while i < bytes.len() {
        let len = match bytes[i] {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 0,
        };
        let decoded =
            (len > 0 && i + len <= bytes.len()).then(|| std::str::from_utf8(&bytes[i..i + len]).ok()).flatten();
        let Some(decoded) = decoded else {
            i += 1;
            continue;
        };
        let start = run[i].0;
        let end = run.get(i + len).map_or(run_end, |&(offset, _)| offset);
        match found.last_mut() {
            Some(last) if last.span.end == start => {
                last.span.end = end;
                last.repaired.push_str(decoded);
            }
            _ => found.push(Mojibake { span: Span::new(start, end), repaired: decoded.to_owned() }),
        }
        i += len;
    }
}

/// `text` with every stretch of mojibake repaired.
pub fn repair(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let mut current = Cow::Borrowed(text);
    // Each round undoes one garbling; three rounds cover anything seen in practice.
    for _ in 0..3 {
        let found = find_mojibake(&current);
        if found.is_empty() {
            break;
        }
        let mut repaired = String::with_capacity(current.len());
        let mut last = 0;
        for entry in &found {
            repaired.push_str(&current[last..entry.span.start]);
            repaired.push_str(&entry.repaired);
            last = entry.span.end;
        }
        repaired.push_str(&current[last..]);
        current = Cow::Owned(repaired);
    }
    current
}

/// Cleans text taken from the plan: `\r\n` becomes `\n` and mojibake is repaired.
pub(crate) fn clean(raw: &str) -> String {
    let text = if raw.contains('\r') { Cow::Owned(raw.replace("\r\n", "\n")) } else { Cow::Borrowed(raw) };
    repair(&text).into_owned()
}

/// Finds `{...}` template placeholders in `text` (Markdown prose, not code).
///
/// A placeholder is a non-empty `{...}` on one line with no braces inside; `${VAR}` and
/// `{{...}}` are not placeholders.
pub fn find_placeholders(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(open) = memchr(b'{', &bytes[i..]).map(|p| p + i) {
        i = open + 1;
        if open > 0 && matches!(bytes[open - 1], b'$' | b'{') {
            continue;
        }
        let Some(close) =
            bytes[open + 1..].iter().position(|&b| matches!(b, b'}' | b'{' | b'\n')).map(|p| p + open + 1)
        else {
            break;
        };
        if bytes[close] == b'}' && close > open + 1 && bytes.get(close + 1) != Some(&b'}') {
            found.push(Span::new(open, close + 1));
            i = close + 1;
        }
    }
    found
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_the_template_em_dash() {
        let text = "gates â€” unit tests";
        let found = find_mojibake(text);
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].span.range()], "â€”");
        assert_eq!(found[0].repaired, "—");
        assert_eq!(repair(text), "gates — unit tests");
    }

    #[test]
    fn repairs_text_garbled_twice() {
        let once = "caf\u{c3}\u{a9}"; // "café" garbled once: "cafÃ©"
        assert_eq!(repair(once), "café");
        let twice: String = {
            let bytes = once.as_bytes();
            let (decoded, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            decoded.into_owned()
        };
        assert_eq!(repair(&twice), "café");
    }

    #[test]
    fn leaves_real_accents_alone() {
        for text in ["café au lait", "naïve — “quoted”", "Ærø", "½ price", "déjà vu"] {
            assert!(find_mojibake(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn finds_placeholders_but_not_shell_or_mustache() {
        let text = "a {Title} b ${HOME} c {{x}} d {} e {open\nf}";
        let spans: Vec<&str> = find_placeholders(text).into_iter().map(|s| &text[s.range()]).collect();
        assert_eq!(spans, ["{Title}"]);
    }
}

//! Artifacts: is a file real work or a stub, and is it wired into the code that should use it?
//!
//! A plan's `must_haves` name artifacts (files that must exist with real content) and key
//! links (files or components that must refer to each other). The engine reads the files;
//! these functions judge their text:
//!
//! - [`substance`]: is the file [`Substance::Substantive`], a [`Substance::Stub`] or
//!   [`Substance::Empty`]?
//! - [`references`]: does one file refer to another (an import, a `mod`, an include, a link, or
//!   at least its file name)? Plain references: must_haves are judged by [`crate::wiring`],
//!   which resolves imports as the project's toolchain does; it falls back to these when a
//!   config file cannot be read.
//! - [`stem_mentions`]: where does a text name a component, such as `LoginForm` or `/api/auth`?
//!
//! # Stub rules
//!
//! A missed stub costs less than a real file called a stub (an agent would be sent back to
//! redo finished work), so the rules look at the whole file, never at one marker alone, and
//! size alone never makes a stub: a one-line constant or re-export is real. In order, the
//! first that applies decides:
//!
//! 1. **Empty**: nothing but whitespace.
//! 2. **Components** (`.svelte`, `.vue`, `.astro`): the script (`<script>` blocks, Astro's
//!    `---` frontmatter) and the markup are read together, styles left out. The component is a
//!    stub when it has neither code nor markup (`<template></template>`), or when placeholder
//!    lines (`<p>Coming soon</p>`, `TODO: …`, a `<!-- TODO -->` comment) outnumber the lines of
//!    code and markup, or are the only text it shows (`<Layout><p>Coming soon</p></Layout>`).
//!    Bare container tags (`<div>`, `</template>`) count as neither. Otherwise a component is
//!    real: the rules below would misread markup.
//! 3. **Stub functions**: every function in the file is a stub, or more than half of them
//!    are explicit "not implemented" or placeholder stubs. A function is a stub when its body,
//!    without comments and docstrings, is
//!    - empty (`{}`, or Python `pass` / `...` / only a docstring), or
//!    - only `todo!()`, `unimplemented!()`, `panic!("not implemented")` (Rust),
//!      `raise NotImplementedError` (Python), `throw new Error("not implemented" / "TODO…")`
//!      (JS/TS), `panic("not implemented")` (Go), or
//!    - a placeholder: `return null` in a React component (`.jsx`, `.tsx`: it renders
//!      nothing), or, with a `TODO`-style marker in the function, a lone `return` of nothing
//!      new (nothing, `null` / `None` / `nil`, an empty literal, or one of its own arguments:
//!      a pass-through). A constant (`return 30  # TODO: configurable`) is a decision, not a
//!      placeholder.
//!
//!    So a file with real functions and one `todo!()` is substantive, and one whose only
//!    function is `todo!()` is a stub. The rule only judges files made mostly of functions:
//!    with 10 lines of code or more outside them (types, constants, data) it does not apply.
//!    Functions are found in Python, Rust, Go and JS/TS (declarations, class methods, and
//!    arrow functions assigned to a `const`/`let`/`var`); a function inside another one (a
//!    closure, a helper, code in a macro such as `quote!`) is part of it and not counted on its
//!    own. Interfaces are not stubs and are not counted: `.pyi` files, Python methods decorated `@abstractmethod` or `@overload`, and
//!    methods of Python classes that declare themselves abstract (`Base…`, `Abstract…`,
//!    `…Interface`, `…Protocol`, or `ABC` / `ABCMeta` / `Protocol` among the bases).
//! 4. **Markers outnumber code**: lines that are stub markers (a comment-only line with
//!    `TODO`, `FIXME`, `XXX` or `TBD`; code mentioning one of them, such as
//!    `throw new Error("TODO")`; `todo!()`, `NotImplementedError`, "not implemented") are more
//!    than the other lines of code. Imports, package and module declarations and lines of
//!    bare brackets do not count as code. In prose (Markdown, HTML, text) headings are left out
//!    and "coming soon", "lorem ipsum" and "to be written" are markers too; a document of only
//!    headings is a stub. A `TODO` comment next to code (`x = f()  # TODO tune`) is not a marker
//!    line.
//! 5. **Only comments**: nothing is left once comments are removed. Not applied to Python's
//!    `__init__.py`, which is often only a package marker.
//!
//! # Reference rules
//!
//! [`references`] reads the referrer in its own language (comments removed) and resolves what
//! it names against the target, both repo-relative paths with `/`:
//!
//! - Python: `import a.b`, `from a.b import c` (matched as a path suffix, since the import
//!   root is not known: `src/a/b.py` counts), `from . import c`, `from ..a import b`
//!   (relative to the referrer's package).
//! - JS/TS: `import … from './x'`, `export … from`, `import './x'`, `import('./x')`,
//!   `require('./x')`, relative or root-absolute, with or without the extension (`./x.js`
//!   also finds `x.ts`), or a directory's `index`; `@/` and `~/` aliases match as a suffix.
//! - Rust: `mod name;` (`name.rs` or `name/mod.rs` in the referrer's module directory:
//!   beside `lib.rs`, `main.rs`, `mod.rs` and other crate roots, in `a/` for `a.rs`),
//!   `#[path = "…"]`, and `use crate::…`, `use self::…`, `use super::…` down to the file of
//!   the module or item named (brace groups expanded).
//! - C and C++: `#include "x.h"` (relative to the referrer, or as a path suffix for include
//!   directories), `#include <x.h>` as a suffix.
//! - Go: an import (single or in an `import ( … )` block) whose path ends with the target's
//!   directory.
//! - Shell: `source x` / `. x`, relative to the referrer or the repo root, after dropping a
//!   leading `$DIR/`, `${DIR}/` or `$(dirname "$0")/`.
//! - Markdown links and reference definitions, HTML `src=` / `href=`, CSS `@import` and
//!   `url(…)`: relative to the referrer, or to the repo root with a leading `/`; a directory
//!   link finds its `README.md`, `index.md` or `index.html`; CSS finds `.css`, `.scss`, `.sass`
//!   and `.less` files and Sass partials (`_x.scss`).
//! - Any file: the target's file name with its extension appears as a word (a Makefile, a
//!   Dockerfile, CI configuration or a test naming it), outside URLs. Written as a path
//!   (`scripts/seed.py`), the path must lead to the target from the referrer's directory or
//!   the repo root, or be the end of the target's path. Generic names (`index.js`, `mod.rs`,
//!   `__init__.py`, `main.go`, …) count only as such a path, and a suffix only with a
//!   directory that is not generic itself: `auth/index.js` finds `web/auth/index.js`, but
//!   `src/main.rs` in one crate's `Cargo.toml` does not find another crate's.
//!
//! Known gaps, closed by [`crate::wiring`]: Rust paths through another crate's name, TS
//! `paths` aliases other than `@/` and `~/`, Go imports of a directory named differently from
//! its path; the file-name fallback here catches some of them, and counts names that a
//! toolchain never reads (a README, a log line), which is why it is only a fallback.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::patterns::{Language, strip_comments};

/// The verdict on an artifact's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Substance {
    /// Real content.
    Substantive,
    /// Placeholder content: stub functions, a placeholder component, mostly TODO markers, or
    /// only comments.
    Stub {
        /// Which rule decided, with the numbers behind it, for the gate's report.
        reason: String,
        /// 1-based line of the first stub marker or stub function, when there is one.
        line: Option<u32>,
    },
    /// Nothing but whitespace.
    Empty,
}

/// Judges whether the text of the file at `path` is real work (see the module docs for the
/// rules).
///
/// ```
/// use evidence::artifacts::{Substance, substance};
///
/// let stub = "def login(user, password):\n    raise NotImplementedError\n";
/// assert!(matches!(substance("auth.py", stub), Substance::Stub { line: Some(2), .. }));
/// let real = "def login(user, password):\n    return check(user, password)  # TODO: rate limit\n";
/// assert_eq!(substance("auth.py", real), Substance::Substantive);
/// ```
pub fn substance(path: &str, text: &str) -> Substance {
    if text.trim().is_empty() {
        return Substance::Empty;
    }
    if let Some(verdict) = component_substance(path, text) {
        return verdict;
    }
    let language = Language::of(path, text);
    let code = strip_comments(language, text, false);
    let structure = strip_comments(language, text, true);

    if let Some(stub) = stub_functions(language, path, text, &code, &structure) {
        return stub;
    }
    let original: Vec<&str> = text.lines().collect();
    let code_lines: Vec<&str> = code.lines().collect();
    let markers = if is_prose(language) { prose_markers(&original) } else { code_markers(&original, &code_lines) };
    if let Some(stub) = markers {
        return stub;
    }
    // A package's `__init__.py` is often only a marker: being small is its nature.
    if file_name(&normalize(path)) == "__init__.py" {
        return Substance::Substantive;
    }
    if code.trim().is_empty() {
        let reason = "no content besides comments".to_string();
        return Substance::Stub { reason, line: first_marker_line(&original) };
    }
    Substance::Substantive
}

/// The 1-based line where the file `referrer_path` (with text `referrer_text`) first refers to
/// the file `target_path`, or `None` if it never does. Both paths are repo-relative with `/`;
/// see the module docs for what counts as a reference. A file does not refer to itself.
///
/// ```
/// let app = "import React from 'react';\nimport { LoginForm } from './components/LoginForm';\n";
/// let line = evidence::artifacts::references("web/src/App.tsx", app, "web/src/components/LoginForm.tsx");
/// assert_eq!(line, Some(2));
/// ```
pub fn references(referrer_path: &str, referrer_text: &str, target_path: &str) -> Option<u32> {
    let referrer = normalize(referrer_path);
    let target = normalize(target_path);
    if target.is_empty() || referrer == target {
        return None;
    }
    let language = Language::of(&referrer, referrer_text);
    let code = strip_comments(language, referrer_text, false);
    let lines: Vec<&str> = code.lines().collect();
    let context = Context { referrer: &referrer, dir: parent(&referrer), target: &target };
    let name = FileName::of(&target);
    let mut in_go_imports = false;
    for (index, line) in lines.iter().enumerate() {
        let found = match language {
            Language::Python => python_refers(&context, line, &lines[index + 1..]),
            Language::JavaScript => javascript_refers(&context, line),
            Language::Rust => rust_refers(&context, line, &lines[index + 1..]),
            Language::CFamily => c_refers(&context, line),
            Language::Go => go_refers(&context, line, &mut in_go_imports),
            Language::Shell => shell_refers(&context, line),
            Language::Markdown => link_refers(&context, line, &[&MD_LINK, &MD_REFERENCE, &HTML_ATTRIBUTE], false),
            Language::Html => link_refers(&context, line, &[&HTML_ATTRIBUTE, &CSS_URL], false),
            Language::Css => link_refers(&context, line, &[&CSS_IMPORT, &CSS_URL], true),
            _ => false,
        };
        if found || name.appears_in(&context, line) {
            return Some(u32::try_from(index + 1).unwrap_or(u32::MAX));
        }
    }
    None
}

/// The 1-based line where `text` first names `component` as a whole token: an identifier
/// (`LoginForm`, but not `LoginFormTests`) or a path (`/api/auth`, but not `/api/auth/login`),
/// case-sensitive. Used for key links between components named in prose, such as
/// "LoginForm -> /api/auth".
///
/// ```
/// let text = "export function LoginForm() {\n  return fetch(\"/api/auth\", { method: \"POST\" });\n}\n";
/// assert_eq!(evidence::artifacts::stem_mentions(text, "/api/auth"), Some(2));
/// assert_eq!(evidence::artifacts::stem_mentions(text, "LoginForm"), Some(1));
/// assert_eq!(evidence::artifacts::stem_mentions(text, "Login"), None);
/// ```
pub fn stem_mentions(text: &str, component: &str) -> Option<u32> {
    let component = component.trim();
    if component.is_empty() {
        return None;
    }
    let identifier_char = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let path_char = |c: char| identifier_char(c) || matches!(c, '.' | '/' | '-' | '@');
    let is_identifier = component.chars().all(identifier_char);
    // A path token may be followed by sentence punctuation: "calls /api/auth." still names it.
    let extends = |rest: &str| {
        let mut chars = rest.chars();
        match chars.next() {
            None => false,
            Some(c) if is_identifier => identifier_char(c),
            Some('.') => chars.next().is_some_and(path_char),
            Some(c) => path_char(c),
        }
    };
    for (index, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(component) {
            let before = line[..at].chars().next_back();
            let before_ok = before.is_none_or(|c| if is_identifier { !identifier_char(c) } else { !path_char(c) });
            if before_ok && !extends(&line[at + component.len()..]) {
                return Some(u32::try_from(index + 1).unwrap_or(u32::MAX));
            }
        }
    }
    None
}

/// The text of the file at `path` with its comments blanked out (lines kept): what
/// [`stem_mentions`] should read, so that a name in a comment is not a mention.
pub fn code_of(path: &str, text: &str) -> String {
    strip_comments(Language::of(path, text), text, false)
}

// ---------------------------------------------------------------------------------------------
// Substance

/// `TODO`-style markers, as whole upper-case words.
static TODO_MARKER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(?:TODO|FIXME|XXX|TBD)\b").expect("todo"));

/// Code that says it is not written yet.
static NOT_IMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bunimplemented!|\btodo!\s*\(|\bNotImplementedError\b|(?i:\bnot (?:yet )?implemented\b)")
        .expect("not implemented")
});

/// Prose fillers, besides `TODO` and friends.
static PROSE_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bcoming soon\b|\blorem ipsum\b|\bto be (?:written|done|defined|determined)\b")
        .expect("prose marker")
});

/// Lines that are not work of their own: imports, declarations of modules and packages,
/// include guards, bare brackets.
static BOILERPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:",
        r"import\b.*",                                                 // Python, JS/TS, Go, Java
        r"|from\s+\S+\s+import\b.*",                                   // Python
        r"|(?:pub(?:\([^)]*\))?\s+)?(?:use|mod)\s+[^{]*;",             // Rust
        r"|extern\s+crate\b.*",                                        // Rust
        r"|package\s+[\w.]+;?",                                        // Go, Java
        r"|#\s*(?:include|pragma|ifndef|endif|define\s+\w+_H\w*)\b.*", // C and C++ includes, guards
        r"|(?:const|let|var)\s+[\w${},\s]+=\s*require\(.*",            // CommonJS
        r#"|["']use strict["'];?"#,
        r"|export\s*\{\s*\};?",
        r"|module\.exports\s*=\s*\{\s*\};?",
        r"|[{}()\[\];,]+", // bare brackets
        r"|#!.*",          // a `#!` line
        r#"|if\s+__name__\s*==\s*["']__main__["']\s*:"#,
        r")$",
    ))
    .expect("boilerplate")
});

fn is_prose(language: Language) -> bool {
    matches!(language, Language::Markdown | Language::Html | Language::Text)
}

fn first_marker_line(lines: &[&str]) -> Option<u32> {
    lines
        .iter()
        .position(|line| TODO_MARKER.is_match(line) || NOT_IMPLEMENTED.is_match(line))
        .map(|index| u32::try_from(index + 1).unwrap_or(u32::MAX))
}

/// Rule 3 for code: marker lines outnumber the other lines of code.
fn code_markers(original: &[&str], code: &[&str]) -> Option<Substance> {
    let mut markers = 0usize;
    let mut lines_of_code = 0usize;
    let mut first = None;
    for (index, (line, code)) in original.iter().zip(code).enumerate() {
        let code = code.trim();
        let marker = (code.is_empty() && TODO_MARKER.is_match(line))
            || TODO_MARKER.is_match(code)
            || NOT_IMPLEMENTED.is_match(code);
        if marker {
            markers += 1;
            first.get_or_insert(index + 1);
        } else if !code.is_empty() && !BOILERPLATE.is_match(code) {
            lines_of_code += 1;
        }
    }
    (markers > lines_of_code).then(|| Substance::Stub {
        reason: format!("stub markers outnumber code: {markers} marker lines, {lines_of_code} lines of code"),
        line: first.map(|line| u32::try_from(line).unwrap_or(u32::MAX)),
    })
}

/// Rule 3 for prose: marker lines outnumber the other lines, headings left out.
fn prose_markers(original: &[&str]) -> Option<Substance> {
    let mut markers = 0usize;
    let mut lines = 0usize;
    let mut headings = 0usize;
    let mut first = None;
    let mut in_front_matter = false;
    for (index, line) in original.iter().enumerate() {
        let trimmed = line.trim();
        if index == 0 && trimmed == "---" {
            in_front_matter = true;
            continue;
        }
        if in_front_matter {
            in_front_matter = trimmed != "---";
            continue;
        }
        let underline = !trimmed.is_empty() && trimmed.chars().all(|c| c == '=' || c == '-');
        let heading = trimmed.starts_with('#') || underline || is_html_heading(trimmed);
        if trimmed.is_empty() || trimmed.starts_with("<!--") {
            continue;
        }
        if heading {
            headings += 1;
        } else if TODO_MARKER.is_match(trimmed) || PROSE_MARKER.is_match(trimmed) {
            markers += 1;
            first.get_or_insert(index + 1);
        } else {
            lines += 1;
        }
    }
    let line = first.map(|line| u32::try_from(line).unwrap_or(u32::MAX));
    if markers > lines {
        let reason = format!("placeholder text outnumbers content: {markers} marker lines, {lines} other lines");
        return Some(Substance::Stub { reason, line });
    }
    (lines == 0 && markers == 0 && headings > 0)
        .then(|| Substance::Stub { reason: format!("only headings ({headings}), no content"), line: None })
}

/// Rule 2: the verdict on a Svelte, Vue or Astro component, its script and markup read
/// together; `None` for other files.
fn component_substance(path: &str, text: &str) -> Option<Substance> {
    let extension = path.rsplit_once('.').map(|(_, extension)| extension)?;
    if !matches!(extension, "svelte" | "vue" | "astro") {
        return None;
    }
    let placeholder =
        |text: &str| TODO_MARKER.is_match(text) || PROSE_MARKER.is_match(text) || NOT_IMPLEMENTED.is_match(text);
    let parts = ComponentParts::of(text, extension == "astro");
    let script_code = strip_comments(Language::JavaScript, &parts.script, false);
    let markup_code = strip_comments(Language::Html, &parts.markup, false);
    let mut markers = Vec::new();
    let (mut code_lines, mut markup_lines, mut text_lines, mut expressions) = (0usize, 0usize, 0usize, 0usize);
    for ((original, code), &line) in parts.script.lines().zip(script_code.lines()).zip(&parts.script_lines) {
        let code = code.trim();
        if (code.is_empty() && TODO_MARKER.is_match(original))
            || TODO_MARKER.is_match(code)
            || NOT_IMPLEMENTED.is_match(code)
        {
            markers.push(line);
        } else if !code.is_empty() && !BOILERPLATE.is_match(code) {
            code_lines += 1;
        }
    }
    for ((original, code), &line) in parts.markup.lines().zip(markup_code.lines()).zip(&parts.markup_lines) {
        let code = code.trim();
        let words = ANY_TAG.replace_all(code, " ");
        let words = words.trim();
        if code.is_empty() {
            if placeholder(original) {
                markers.push(line); // `<!-- TODO: the form -->`
            }
        } else if placeholder(words) {
            markers.push(line); // `<p>Coming soon</p>`, `TODO: settings form`
        } else if !BARE_TAGS_LINE.is_match(code) {
            markup_lines += 1; // `<TaskPanel />`, `<input bind:value={draft} />`, `Room {id}`
            text_lines += usize::from(!words.is_empty());
            expressions += usize::from(code.contains('{'));
        }
    }
    let line = markers.first().map(|&line| u32::try_from(line).unwrap_or(u32::MAX));
    let work = code_lines + markup_lines;
    if markers.is_empty() && work == 0 {
        let reason = "an empty component: no code and no markup besides bare tags".to_string();
        return Some(Substance::Stub { reason, line: None });
    }
    let markers = markers.len();
    if markers > work {
        let reason = format!("placeholder component: {markers} placeholder lines, {work} lines of code and markup");
        return Some(Substance::Stub { reason, line });
    }
    // A page that wraps "Coming soon" in its layout: the only words it shows are placeholders.
    if markers > 0 && code_lines == 0 && text_lines == 0 && expressions == 0 {
        let reason = "placeholder component: the only text it shows is placeholder text".to_string();
        return Some(Substance::Stub { reason, line });
    }
    // The rules for code and prose would misread markup (an Astro page of headings is real).
    Some(Substance::Substantive)
}

/// Any tag, opening or closing, with its attributes: `<Layout title="About">`, `</p>`.
static ANY_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"</?[A-Za-z][^<>]*>").expect("any tag"));

/// A line of bare tags only: `<div>`, `</template>`, `<ul></ul>`, and closing tags of components
/// (`</Layout>`). Components (`<TaskPanel />`) and tags with attributes or expressions are work.
static BARE_TAGS_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:(?:<[a-z][a-z0-9-]*|</[A-Za-z][\w.:-]*)\s*>\s*)+$").expect("bare tags line"));

/// A component's text split into its script and its markup (styles dropped), each with the
/// 1-based line in the file of every line it holds.
struct ComponentParts {
    script: String,
    script_lines: Vec<usize>,
    markup: String,
    markup_lines: Vec<usize>,
}

impl ComponentParts {
    /// Splits line by line: `<script …>` … `</script>` and Astro's leading `---` … `---`
    /// frontmatter are script, `<style …>` … `</style>` is dropped, the rest is markup.
    fn of(text: &str, astro: bool) -> ComponentParts {
        #[derive(PartialEq)]
        enum In {
            Markup,
            Script,
            Style,
            Frontmatter,
        }
        let mut parts = ComponentParts {
            script: String::new(),
            script_lines: Vec::new(),
            markup: String::new(),
            markup_lines: Vec::new(),
        };
        let mut state = In::Markup;
        for (index, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            let mut push_script = |line: &str| {
                parts.script.push_str(line);
                parts.script.push('\n');
                parts.script_lines.push(index + 1);
            };
            match state {
                In::Markup if astro && index == 0 && trimmed == "---" => state = In::Frontmatter,
                In::Frontmatter if trimmed == "---" => state = In::Markup,
                In::Frontmatter => push_script(line),
                In::Markup if trimmed.starts_with("<script") => {
                    // The script's own text, without its tags: `<script>let x = 1;</script>`.
                    let inner = trimmed.split_once('>').map_or("", |(_, rest)| rest);
                    match inner.split_once("</script>") {
                        Some((code, _)) => push_script(code),
                        None => {
                            push_script(inner);
                            state = In::Script;
                        }
                    }
                }
                In::Script => match line.split_once("</script>") {
                    Some((code, _)) => {
                        push_script(code);
                        state = In::Markup;
                    }
                    None => push_script(line),
                },
                In::Markup if trimmed.starts_with("<style") => {
                    if !trimmed.contains("</style>") {
                        state = In::Style;
                    }
                }
                In::Style => {
                    if trimmed.contains("</style>") {
                        state = In::Markup;
                    }
                }
                In::Markup => {
                    parts.markup.push_str(line);
                    parts.markup.push('\n');
                    parts.markup_lines.push(index + 1);
                }
            }
        }
        parts
    }
}

fn is_html_heading(line: &str) -> bool {
    static HEADING: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^<h[1-6]\b[^>]*>.*</h[1-6]>$|^<title>.*</title>$").expect("html heading"));
    HEADING.is_match(line)
}

/// What a function's body amounts to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    Real,
    /// Nothing, `pass`, `...`: does nothing.
    Empty,
    /// Only a "not implemented" statement.
    NotImplemented,
    /// Stands in for the work: a lone `return` of nothing new next to a `TODO`.
    Placeholder,
    /// A React component that renders nothing: `return null` in a `.jsx` / `.tsx` file.
    RendersNothing,
}

/// Rule 3: stub functions. `text` is the file, `code` has comments removed, `structure` also
/// string contents.
fn stub_functions(language: Language, path: &str, text: &str, code: &str, structure: &str) -> Option<Substance> {
    let functions = match language {
        Language::Python if !path.ends_with(".pyi") => python_functions(text, code, structure),
        Language::Rust | Language::Go | Language::JavaScript => {
            let jsx = path.ends_with(".jsx") || path.ends_with(".tsx");
            let mut functions = brace_functions(language, jsx, text, code, structure);
            if jsx {
                functions.extend(null_arrow_components(code));
            }
            functions
        }
        _ => return None,
    };
    if functions.is_empty() || substance_outside(code, &functions) >= LINES_OUTSIDE_FUNCTIONS {
        return None;
    }
    let total = functions.len();
    let empty = functions.iter().filter(|function| function.body == Body::Empty).count();
    let not_implemented = functions.iter().filter(|function| function.body == Body::NotImplemented).count();
    let placeholders = functions.iter().filter(|function| function.body == Body::Placeholder).count();
    let nothing = functions.iter().filter(|function| function.body == Body::RendersNothing).count();
    let first_stub = functions
        .iter()
        .find(|function| function.body != Body::Real)
        .map(|function| u32::try_from(function.report_line).unwrap_or(u32::MAX));
    let functions = if total == 1 { "function" } else { "functions" };
    // Placeholders say they stand in for the work, as "not implemented" does.
    let explicit = not_implemented + placeholders + nothing;
    let reason = if empty + explicit == total {
        match (empty, not_implemented, placeholders, nothing) {
            (_, 0, 0, 0) => format!("every function body is empty ({total} {functions})"),
            (0, _, 0, 0) => format!("every function only says it is not implemented ({total} {functions})"),
            (0, 0, _, 0) => {
                format!(
                    "every function is a placeholder: it hands back nothing new next to a TODO ({total} {functions})"
                )
            }
            (0, 0, 0, _) => format!("the component renders nothing: it returns null ({total} {functions})"),
            _ => format!(
                "every function is a stub ({not_implemented} not implemented, {} placeholders, {empty} empty, of \
                 {total} {functions})",
                placeholders + nothing
            ),
        }
    } else if explicit * 2 > total {
        format!("most functions only say they are not implemented ({explicit} of {total})")
    } else {
        return None;
    };
    Some(Substance::Stub { reason, line: first_stub })
}

/// Rule 2 looks at files whose code is mostly functions: with this many lines of code or more
/// outside every function (types, constants, data), the file has substance of its own.
const LINES_OUTSIDE_FUNCTIONS: usize = 10;

/// A function found by [`python_functions`] or [`brace_functions`].
struct Function {
    body: Body,
    /// 1-based line to report: the body's first statement (Python) or opening brace.
    report_line: usize,
    /// 0-based lines of the whole function, signature to last line of the body.
    first: usize,
    last: usize,
}

/// Lines of code outside every function: not blank, not boilerplate (imports, brackets), not
/// decorators or attributes.
fn substance_outside(code: &str, functions: &[Function]) -> usize {
    code.lines()
        .enumerate()
        .filter(|&(index, line)| {
            let line = line.trim();
            !line.is_empty()
                && !line.starts_with('@')
                && !line.starts_with("#[")
                && !BOILERPLATE.is_match(line)
                && !functions.iter().any(|function| (function.first..=function.last).contains(&index))
        })
        .count()
}

/// The most lines a Python signature is looked for in (a `def` without its `:` is skipped).
const MAX_SIGNATURE_LINES: usize = 50;

/// Python functions, except interfaces: methods decorated `@abstractmethod` or `@overload`,
/// and methods of classes that declare themselves abstract (`class Base…`, `class Abstract…`,
/// `class …Interface`, `…Protocol`, or with `ABC`, `ABCMeta`, `Protocol` among their bases).
fn python_functions(text: &str, code: &str, structure: &str) -> Vec<Function> {
    static INTERFACE_CLASS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^\s*class\s+(?:Abstract\w*|Base\w*|\w*(?:Base|Interface|Protocol|ABC))\s*[(:]",
            r"|^\s*class\s+\w+\s*\([^)]*\b(?:ABC|ABCMeta|Protocol|Interface)\b",
        ))
        .expect("interface class")
    });
    static DEF: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?def[ \t]+\w+").expect("def"));
    static STUB_STATEMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(?:pass|\.\.\.)$").expect("python no-op"));
    static RAISE_NOT_IMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^raise\s+NotImplementedError\b(?:\s*\(.*\))?$").expect("raise NotImplementedError")
    });
    let original: Vec<&str> = text.lines().collect();
    let code: Vec<&str> = code.lines().collect();
    let structure: Vec<&str> = structure.lines().collect();
    let indent_of = |line: &str| line.len() - line.trim_start().len();
    let mut functions = Vec::new();
    for (index, line) in code.iter().enumerate() {
        let Some(def) = DEF.captures(line) else { continue };
        let indent = def.name("indent").map_or(0, |m| m.as_str().len());
        // Decorators right above: `@abstractmethod` and `@overload` mark interfaces.
        let decorators = code[..index].iter().rev().take_while(|line| line.trim_start().starts_with('@'));
        if decorators.into_iter().any(|line| line.contains("abstractmethod") || line.contains("overload")) {
            continue;
        }
        // The enclosing blocks, innermost first: each nearest line above that is indented less.
        let mut level = indent;
        let enclosing: Vec<&str> = code[..index]
            .iter()
            .rev()
            .filter(|line| {
                let outer = !line.trim().is_empty() && indent_of(line) < level;
                if outer {
                    level = indent_of(line);
                }
                outer
            })
            .copied()
            .collect();
        let in_interface = enclosing.first().is_some_and(|line| INTERFACE_CLASS.is_match(line));
        let nested = enclosing.iter().any(|line| DEF.is_match(line));
        if in_interface || nested {
            continue;
        }
        // The signature ends at the first `:` outside brackets.
        let mut depth = 0i32;
        let mut colon = None;
        'signature: for (row, line) in structure.iter().enumerate().skip(index).take(MAX_SIGNATURE_LINES) {
            for (at, c) in line.char_indices() {
                match c {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth -= 1,
                    ':' if depth == 0 && (row > index || at > def.get(0).map_or(0, |m| m.end())) => {
                        colon = Some((row, at));
                        break 'signature;
                    }
                    _ => {}
                }
            }
        }
        let Some((row, at)) = colon else { continue };
        let inline = code[row].get(at + 1..).unwrap_or("").trim();
        let mut statements: Vec<(usize, &str)> = Vec::new();
        if inline.is_empty() {
            for (body_row, body_line) in code.iter().enumerate().skip(row + 1) {
                if body_line.trim().is_empty() {
                    continue;
                }
                if indent_of(body_line) <= indent {
                    break;
                }
                statements.push((body_row, body_line.trim()));
            }
        } else {
            statements.push((row, inline));
        }
        let report_line = statements.first().map_or(index, |&(row, _)| row) + 1;
        let last = statements.last().map_or(row, |&(row, _)| row);
        // A marker anywhere from the signature to the last statement (comments included).
        let marked = original.get(index..=last).unwrap_or_default().iter().any(|line| TODO_MARKER.is_match(line));
        let body = match statements.as_slice() {
            [] => Body::Empty,
            [(_, only)] if STUB_STATEMENT.is_match(only) => Body::Empty,
            [(_, only)] if RAISE_NOT_IMPLEMENTED.is_match(only) => Body::NotImplemented,
            [(_, only)] if marked && returns_nothing_new(only, &parameters(&structure[index..=row].join("\n"))) => {
                Body::Placeholder
            }
            _ => Body::Real,
        };
        functions.push(Function { body, report_line, first: index, last });
    }
    functions
}

/// Whether a function body of one statement only hands back nothing new: `return`, `null` /
/// `None` / `nil` / `undefined`, an empty literal, or one of its `parameters` (a pass-through);
/// Go's zero values (`return "", false`) when it returns several. Rust's tail expression needs
/// no `return`.
fn returns_nothing_new(body: &str, parameters: &[&str]) -> bool {
    const NOTHING: &[&str] = &[
        "None",
        "null",
        "undefined",
        "nil",
        "[]",
        "{}",
        "()",
        "\"\"",
        "''",
        "``",
        "Vec::new()",
        "String::new()",
        "Default::default()",
        "Ok(())",
    ];
    let body = body.trim().trim_end_matches(';').trim_end();
    let values = match body.strip_prefix("return") {
        Some("") => return true,
        Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim(),
        Some(_) => return false, // `returned`, `return_value`
        None => body,
    };
    let values: Vec<&str> = values.split(',').map(str::trim).collect();
    let several = values.len() > 1;
    values.iter().all(|value| {
        NOTHING.contains(value) || parameters.contains(value) || (several && matches!(*value, "0" | "false"))
    })
}

/// The names in the parameter list of a signature (`def f(a, b=1)`, `fn f(a: &str)`,
/// `function f({ a }, b)`): every identifier between its outer parentheses, types included.
fn parameters(signature: &str) -> Vec<&str> {
    static IDENTIFIER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z_$][\w$]*").expect("identifier"));
    let (Some(open), Some(close)) = (signature.find('('), signature.rfind(')')) else { return Vec::new() };
    signature
        .get(open + 1..close)
        .map_or_else(Vec::new, |list| IDENTIFIER.find_iter(list).map(|m| m.as_str()).collect())
}

/// React components written as arrows that render nothing: `const Banner = () => null;`
/// (arrows with a `{ … }` body are [`brace_functions`]).
fn null_arrow_components(code: &str) -> Vec<Function> {
    static NULL_ARROW: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*(?:export\s+)?(?:const|let|var)\s+[A-Z][\w$]*\s*(?::[^=]+)?=\s*(?:\([^()]*\)|[\w$]+)\s*=>\s*null\s*;?\s*$")
            .expect("null arrow component")
    });
    code.lines()
        .enumerate()
        .filter(|(_, line)| NULL_ARROW.is_match(line))
        .map(|(index, _)| Function { body: Body::RendersNothing, report_line: index + 1, first: index, last: index })
        .collect()
}

/// Functions of brace languages (Rust, Go, JS/TS) that have a body; `jsx` for `.jsx` / `.tsx`
/// files, where a function returning `null` is a component that renders nothing.
fn brace_functions(language: Language, jsx: bool, text: &str, code: &str, structure: &str) -> Vec<Function> {
    static RUST_FN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bfn\s+\w+").expect("rust fn"));
    static GO_FUNC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^func\b").expect("go func"));
    static JS_FUNCTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            // `function name(`, `function* name(`, `function (`
            r"(?m)\bfunction\b\s*\*?\s*[\w$]*\s*\(",
            // class methods: `async name(args): Type {`
            r"|^[ \t]*(?:(?:public|private|protected|static|async|override|readonly|get|set)\s+)*",
            r"#?(?P<method>[A-Za-z_$][\w$]*)\s*(?:<[^<>()]*>)?\s*\([^()]*\)\s*(?::\s*[^{};=]+)?\{",
            // arrow functions given a name: `const name = async (args) => {`
            r"|\b(?:const|let|var)\s+[\w$]+\s*(?::[^=]+)?=\s*(?:async\s*)?(?:\([^()]*\)|[\w$]+)\s*(?::\s*[^=]+?)?=>\s*\{",
        ))
        .expect("js function")
    });
    // The words of a "not implemented" message.
    macro_rules! not_implemented {
        () => {
            r"(?i:(?:not (?:yet )?implemented|unimplemented|todo)"
        };
    }
    static RUST_STUB: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:(?:unimplemented|todo)!\s*\(.*\)",
            r#"|panic!\s*\(\s*""#,
            not_implemented!(),
            r#"[^"]*)"\s*\))\s*;?$"#,
        ))
        .expect("rust stub")
    });
    static JS_STUB: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(r#"^throw\s+new\s+Error\s*\(\s*["'`]"#, not_implemented!(), r#"[^"'`]*)["'`]\s*\)\s*;?$"#))
            .expect("js stub")
    });
    static GO_STUB: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(r#"^panic\s*\(\s*""#, not_implemented!(), r#"[^"]*)"\s*\)$"#)).expect("go stub")
    });
    static RETURN_NULL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^return\s+null\s*;?$").expect("return null"));
    const NOT_METHODS: &[&str] =
        &["if", "for", "while", "switch", "catch", "with", "return", "function", "else", "do", "try", "finally"];

    let (header, stub): (&Regex, &Regex) = match language {
        Language::Rust => (&RUST_FN, &RUST_STUB),
        Language::Go => (&GO_FUNC, &GO_STUB),
        _ => (&JS_FUNCTION, &JS_STUB),
    };
    let bytes = structure.as_bytes();
    let line_of = |byte: usize| structure[..byte].matches('\n').count();
    let mut functions = Vec::new();
    // Where the body of the last outer function ends: headers before it are nested functions.
    let mut outer_end = 0;
    for found in header.captures_iter(structure) {
        if found.name("method").is_some_and(|name| NOT_METHODS.contains(&name.as_str())) {
            continue;
        }
        let Some(whole) = found.get(0) else { continue };
        if whole.start() < outer_end {
            continue;
        }
        // The body opens at the first `{` outside parentheses; a `;` first means a declaration.
        let mut depth = 0i32;
        let mut open = None;
        for (at, &b) in bytes.iter().enumerate().skip(whole.start()) {
            match b {
                b'(' => depth += 1,
                b')' => depth -= 1,
                b'{' if depth <= 0 => {
                    open = Some(at);
                    break;
                }
                b';' if depth <= 0 => break,
                _ => {}
            }
        }
        let Some(open) = open else { continue };
        let mut depth = 0i32;
        let mut close = None;
        for (at, &b) in bytes.iter().enumerate().skip(open) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(at);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else { continue };
        outer_end = close;
        let body_code = code.get(open + 1..close).unwrap_or("");
        let body_code = body_code.split_whitespace().collect::<Vec<_>>().join(" ");
        // Comments are blanked byte for byte, so the same range of the file holds them.
        let marked = text.get(whole.start()..close).is_some_and(|function| TODO_MARKER.is_match(function));
        let body = if body_code.is_empty() {
            Body::Empty
        } else if stub.is_match(&body_code) {
            Body::NotImplemented
        } else if jsx && RETURN_NULL.is_match(&body_code) {
            Body::RendersNothing
        } else if marked && returns_nothing_new(&body_code, &parameters(&structure[whole.start()..open])) {
            Body::Placeholder
        } else {
            Body::Real
        };
        let (first, last) = (line_of(whole.start()), line_of(close));
        functions.push(Function { body, report_line: line_of(open) + 1, first, last });
    }
    functions
}

// ---------------------------------------------------------------------------------------------
// References

/// The referrer and target of one [`references`] call.
struct Context<'a> {
    referrer: &'a str,
    /// The referrer's directory ("" at the repo root).
    dir: &'a str,
    target: &'a str,
}

impl Context<'_> {
    /// Whether `path` is the target or, as a path suffix, the end of it (`a/b.py` for
    /// `src/a/b.py`).
    fn target_ends_with(&self, path: &str) -> bool {
        !path.is_empty()
            && (self.target == path || self.target.strip_suffix(path).is_some_and(|start| start.ends_with('/')))
    }
}

/// A repo-relative path with `/`, without `.` components, `..` resolved (never above the
/// root) and no leading or doubled `/`.
fn normalize(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// `relative` resolved against directory `dir`; `None` when it climbs above the repo root. A
/// leading `/` is read from `dir` too: callers that mean the repo root check for it first.
fn join(dir: &str, relative: &str) -> Option<String> {
    crate::wiring::join(dir, relative.trim_start_matches('/'))
}

/// The directory of `path`, "" for a file at the root.
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// The fallback: the target's file name written in the referrer's text.
///
/// A bare name (`seed.py`) counts unless it is generic: `index.js`, `mod.rs`, `main.go`,
/// `__init__.py` and the like name a file in too many directories. A name written as a path
/// (`scripts/seed.py`, `../lib/index.js`) counts when that path, read from the referrer's
/// directory or from the repo root, is the target, or when the target ends with it and it
/// names a directory that is not itself generic (`auth/index.js`, but not `src/main.rs`).
/// Words inside URLs do not count: `https://example.org/docs/plan.md` is another site's file.
struct FileName<'a> {
    name: &'a str,
    generic: bool,
}

impl<'a> FileName<'a> {
    /// File stems that many directories hold.
    const GENERIC_STEMS: &'static [&'static str] = &[
        "index",
        "mod",
        "lib",
        "main",
        "__init__",
        "__main__",
        "app",
        "init",
        "setup",
        "config",
        "utils",
        "util",
        "types",
        "package",
        "readme",
        "default",
        "helpers",
        "common",
        "test",
        "tests",
        "settings",
        "constants",
        "cargo",
        "go",
        "dockerfile",
        "makefile",
        "build",
    ];
    /// Directory names that many projects hold.
    const GENERIC_DIRS: &'static [&'static str] = &[
        "src", "lib", "app", "apps", "test", "tests", "spec", "pkg", "internal", "cmd", "bin", "packages", "crates",
        "source", "include", ".", "..",
    ];

    fn of(target: &'a str) -> FileName<'a> {
        let name = file_name(target);
        let stem = name.split('.').next().unwrap_or(name).to_ascii_lowercase();
        FileName { name, generic: Self::GENERIC_STEMS.contains(&stem.as_str()) }
    }

    /// Whether `line` names the target (see the type's docs).
    fn appears_in(&self, context: &Context, line: &str) -> bool {
        let name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
        let delimiter = |c: char| {
            c.is_whitespace()
                || matches!(c, '"' | '\'' | '`' | '(' | ')' | '<' | '>' | '[' | ']' | '=' | ',' | ':' | ';')
        };
        line.match_indices(self.name).any(|(at, _)| {
            // The name is a whole word: `myapp.py` and `app.py.bak` are other files.
            let before_ok = line[..at].chars().next_back().is_none_or(|c| !name_char(c) && c != '.');
            let mut after = line[at + self.name.len()..].chars();
            let after_ok = match after.next() {
                None => true,
                Some('.') => !after.next().is_some_and(char::is_alphanumeric),
                Some(c) => !name_char(c),
            };
            if !before_ok || !after_ok {
                return false;
            }
            // The whole path-like word the name ends; a URL (`https://…`) is split at `:` here,
            // so look at what precedes the word too.
            let word_start = line[..at].rfind(delimiter).map_or(0, |start| start + 1);
            if line[..word_start].ends_with(':') && line[word_start..].starts_with("//") {
                return false;
            }
            let word = &line[word_start..at + self.name.len()];
            if word == self.name {
                return !self.generic;
            }
            let path = normalize(word);
            let resolves = join(context.dir, word).is_some_and(|p| p == context.target) || path == context.target;
            let specific_dir = parent(&path).split('/').any(|dir| !Self::GENERIC_DIRS.contains(&dir));
            resolves || ((!self.generic || specific_dir) && context.target_ends_with(&path))
        })
    }
}

/// Python: `import a.b`, `from a.b import c`, relative `from . import c`.
fn python_refers(context: &Context, line: &str, following: &[&str]) -> bool {
    static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*import\s+(?P<modules>[\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)")
            .expect("python import")
    });
    static FROM: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*from\s+(?P<dots>\.*)(?P<module>[\w.]*)\s+import\s+(?P<names>.*)$").expect("python from")
    });
    let Some(target_module) = python_module_of(context.target) else { return false };
    if let Some(caps) = IMPORT.captures(line) {
        let modules = caps.name("modules").map_or("", |m| m.as_str());
        return modules.split(',').any(|module| {
            let module = module.split_whitespace().next().unwrap_or("");
            python_matches(&target_module, &module.replace('.', "/"), false)
        });
    }
    let Some(caps) = FROM.captures(line) else { return false };
    let dots = caps.name("dots").map_or(0, |m| m.as_str().len());
    let module = caps.name("module").map_or("", |m| m.as_str()).replace('.', "/");
    let mut names = caps.name("names").map_or("", |m| m.as_str()).to_string();
    if names.contains('(') && !names.contains(')') {
        for line in following {
            names.push(',');
            names.push_str(line);
            if line.contains(')') {
                break;
            }
        }
    }
    let (base, relative) = if dots == 0 {
        (module, false)
    } else {
        let mut base = Some(context.dir.to_string());
        for _ in 1..dots {
            base = base.and_then(|dir| (!dir.is_empty()).then(|| parent(&dir).to_string()));
        }
        let Some(base) = base else { return false };
        let base = if module.is_empty() { base } else { join(&base, &module).unwrap_or_default() };
        (base, true)
    };
    if (relative || !base.is_empty()) && python_matches(&target_module, &base, relative) {
        return true;
    }
    names.split([',', '(', ')', '\\']).any(|name| {
        let name = name.split_whitespace().next().unwrap_or("");
        let valid = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        let path = if base.is_empty() { name.to_string() } else { format!("{base}/{name}") };
        valid && python_matches(&target_module, &path, relative)
    })
}

/// The module path of a Python file (`src/a/b.py` is `src/a/b`, `a/__init__.py` is `a`).
fn python_module_of(target: &str) -> Option<String> {
    let module = target.strip_suffix(".py").or_else(|| target.strip_suffix(".pyi"))?;
    Some(module.strip_suffix("/__init__").unwrap_or(module).to_string())
}

fn python_matches(target_module: &str, module: &str, relative: bool) -> bool {
    if relative {
        target_module == module
    } else {
        !module.is_empty()
            && (target_module == module || target_module.strip_suffix(module).is_some_and(|start| start.ends_with('/')))
    }
}

/// JS/TS: module specifiers of `import`, `export … from`, `import()` and `require()`.
fn javascript_refers(context: &Context, line: &str) -> bool {
    static SPECIFIER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"\bfrom\s*["'](?P<a>[^"']+)["']"#,          // import … from '…', export … from '…'
            r#"|\bimport\s*\(?\s*["'](?P<b>[^"']+)["']"#, // import '…', import('…')
            r#"|\brequire\s*\(\s*["'](?P<c>[^"']+)["']\s*\)"#, // require('…')
        ))
        .expect("js specifier")
    });
    SPECIFIER.captures_iter(line).any(|caps| {
        let Some(specifier) = caps.name("a").or_else(|| caps.name("b")).or_else(|| caps.name("c")) else {
            return false;
        };
        let specifier = specifier.as_str();
        if let Some(aliased) = specifier.strip_prefix("@/").or_else(|| specifier.strip_prefix("~/")) {
            return javascript_candidates(&normalize(aliased)).iter().any(|path| context.target_ends_with(path));
        }
        let resolved = if specifier.starts_with("./") || specifier.starts_with("../") {
            join(context.dir, specifier)
        } else if specifier.starts_with('/') {
            Some(normalize(specifier))
        } else {
            None // a package
        };
        resolved.is_some_and(|path| javascript_candidates(&path).iter().any(|path| context.target == path))
    })
}

/// The files a resolved JS specifier may name: itself, with each script extension, its
/// `index` file, and, for `./x.js`, the TypeScript `x.ts` it is compiled from.
fn javascript_candidates(path: &str) -> Vec<String> {
    const EXTENSIONS: &[&str] = &["ts", "tsx", "js", "jsx", "mjs", "cjs", "mts", "cts", "vue", "svelte", "json"];
    let mut candidates = vec![path.to_string()];
    let stem = match path.rsplit_once('.') {
        Some((stem, ext)) if EXTENSIONS.contains(&ext) && !stem.ends_with('/') => stem,
        _ => path,
    };
    for ext in EXTENSIONS {
        candidates.push(format!("{stem}.{ext}"));
        candidates.push(format!("{path}/index.{ext}"));
    }
    candidates
}

/// Rust: `mod name;`, `#[path = "…"]`, and `use crate::` / `self::` / `super::` paths.
fn rust_refers(context: &Context, line: &str, following: &[&str]) -> bool {
    static MOD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(?:r#)?(?P<name>\w+)\s*;").expect("rust mod"));
    static PATH_ATTRIBUTE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^\s*#\[path\s*=\s*"(?P<path>[^"]+)"\s*\]"#).expect("rust path attribute"));
    static USE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+(?P<tree>[^;]*)(?P<end>;?)").expect("rust use")
    });
    if !context.target.ends_with(".rs") {
        return false;
    }
    let module_dir = rust_module_dir(context.referrer);
    if let Some(name) = MOD.captures(line).and_then(|caps| caps.name("name")) {
        let name = name.as_str();
        let candidates = [format!("{module_dir}/{name}.rs"), format!("{module_dir}/{name}/mod.rs")];
        return candidates.iter().any(|candidate| normalize(candidate) == context.target);
    }
    if let Some(path) = PATH_ATTRIBUTE.captures(line).and_then(|caps| caps.name("path")) {
        return join(context.dir, path.as_str()).is_some_and(|path| path == context.target);
    }
    let Some(caps) = USE.captures(line) else { return false };
    let mut tree = caps.name("tree").map_or("", |m| m.as_str()).to_string();
    if caps.name("end").is_some_and(|end| end.as_str().is_empty()) {
        // A `use` spread over lines, up to its `;`.
        for line in following.iter().take(50) {
            tree.push_str(line.split(';').next().unwrap_or(""));
            if line.contains(';') {
                break;
            }
        }
    }
    let tree: String = tree.split_whitespace().collect();
    let (root, module) = rust_crate_position(context.referrer);
    expand_use_tree(&tree).iter().any(|path| {
        let segments: Vec<&str> = path.split("::").filter(|segment| !segment.is_empty()).collect();
        let (mut base, rest): (Vec<&str>, &[&str]) = match segments.first() {
            Some(&"crate") => (Vec::new(), &segments[1..]),
            Some(&"self") => (module.clone(), &segments[1..]),
            Some(&"super") => {
                let supers = segments.iter().take_while(|segment| **segment == "super").count();
                let mut base = module.clone();
                for _ in 0..supers {
                    if base.pop().is_none() {
                        return false;
                    }
                }
                (base, &segments[supers..])
            }
            // Uniform paths: a child module of the current module.
            Some(_) => (module.clone(), &segments[..]),
            None => return false,
        };
        rest.iter().filter(|segment| !matches!(**segment, "self" | "*")).any(|segment| {
            let segment = segment.split(" as ").next().unwrap_or(segment);
            base.push(segment);
            let joined = base.join("/");
            let prefix = if root.is_empty() { String::new() } else { format!("{root}/") };
            [format!("{prefix}{joined}.rs"), format!("{prefix}{joined}/mod.rs")]
                .iter()
                .any(|path| path == context.target)
        })
    })
}

/// The directory where `mod x;` in `referrer` looks for `x.rs`: the file's own directory for
/// `lib.rs`, `main.rs`, `mod.rs` and crate roots (`build.rs`, `src/bin/*.rs`, `tests/*.rs`,
/// `examples/*.rs`, `benches/*.rs`), else a directory named after the file.
fn rust_module_dir(referrer: &str) -> String {
    let name = file_name(referrer);
    let dir = parent(referrer);
    let dir_name = file_name(dir);
    let crate_root = matches!(name, "lib.rs" | "main.rs" | "mod.rs" | "build.rs")
        || dir.ends_with("src/bin")
        || matches!(dir_name, "tests" | "examples" | "benches");
    if crate_root { dir.to_string() } else { referrer.strip_suffix(".rs").unwrap_or(referrer).to_string() }
}

/// The crate's source root (`crates/x/src`) and the referrer's module path in it
/// (`["a", "b"]` for `src/a/b.rs` or `src/a/b/mod.rs`).
fn rust_crate_position(referrer: &str) -> (String, Vec<&str>) {
    let parts: Vec<&str> = referrer.split('/').collect();
    let Some(src) = parts[..parts.len().saturating_sub(1)].iter().rposition(|part| *part == "src") else {
        return (parent(referrer).to_string(), Vec::new());
    };
    let root = parts[..=src].join("/");
    let mut module: Vec<&str> = parts[src + 1..].to_vec();
    if let Some(last) = module.pop() {
        match last {
            "lib.rs" | "main.rs" if module.is_empty() => {}
            "mod.rs" => {}
            other => module.push(other.strip_suffix(".rs").unwrap_or(other)),
        }
    }
    (root, module)
}

/// The paths of a `use` tree: `a::{b, c::{d, e}}` gives `a::b`, `a::c::d`, `a::c::e`; a
/// renaming `a::b as c` gives `a::b`.
pub(crate) fn expand_use_tree(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else { return vec![tree.split(" as ").next().unwrap_or(tree).to_string()] };
    let prefix = &tree[..open];
    let mut depth = 0;
    let mut close = tree.len();
    for (at, c) in tree.char_indices().skip_while(|&(at, _)| at < open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = at;
                    break;
                }
            }
            _ => {}
        }
    }
    let inner = tree.get(open + 1..close).unwrap_or("");
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (at, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    let mut paths = vec![prefix.trim_end_matches(':').to_string()];
    for item in items.into_iter().filter(|item| !item.is_empty()) {
        paths.extend(expand_use_tree(item).into_iter().map(|path| format!("{prefix}{path}")));
    }
    paths
}

/// C and C++: `#include "x.h"` and `#include <x.h>`.
fn c_refers(context: &Context, line: &str) -> bool {
    static INCLUDE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^\s*#\s*(?:include|import)\s*(?:"(?P<quoted>[^"]+)"|<(?P<angled>[^>]+)>)"#).expect("include")
    });
    let Some(caps) = INCLUDE.captures(line) else { return false };
    if let Some(quoted) = caps.name("quoted") {
        let relative = join(context.dir, quoted.as_str()).is_some_and(|path| path == context.target);
        return relative || context.target_ends_with(&normalize(quoted.as_str()));
    }
    caps.name("angled").is_some_and(|angled| context.target_ends_with(&normalize(angled.as_str())))
}

/// Go: an import path ending with the target's directory.
fn go_refers(context: &Context, line: &str, in_block: &mut bool) -> bool {
    static SINGLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^\s*import\s+(?:[\w.]+\s+)?"(?P<path>[^"]+)""#).expect("go import"));
    static BLOCK_START: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*import\s*\(").expect("go import block"));
    static BLOCK_LINE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^\s*(?:[\w.]+\s+)?"(?P<path>[^"]+)""#).expect("go import line"));
    let target_dir = parent(context.target);
    let matches_target = |path: &str| {
        context.target.ends_with(".go")
            && !target_dir.is_empty()
            && (path == target_dir || path.strip_suffix(target_dir).is_some_and(|start| start.ends_with('/')))
    };
    if *in_block {
        if line.trim_start().starts_with(')') {
            *in_block = false;
            return false;
        }
        return BLOCK_LINE
            .captures(line)
            .and_then(|caps| caps.name("path"))
            .is_some_and(|p| matches_target(p.as_str()));
    }
    if BLOCK_START.is_match(line) {
        *in_block = !line.contains(')');
        let rest = line.split_once('(').map_or("", |(_, rest)| rest);
        return BLOCK_LINE
            .captures(rest)
            .and_then(|caps| caps.name("path"))
            .is_some_and(|p| matches_target(p.as_str()));
    }
    SINGLE.captures(line).and_then(|caps| caps.name("path")).is_some_and(|p| matches_target(p.as_str()))
}

/// Shell: `source x` and `. x`.
fn shell_refers(context: &Context, line: &str) -> bool {
    static SOURCE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?:^|[;&|]\s*)\s*(?:source|\.)\s+(?P<path>\S+)").expect("shell source"));
    static LEADING_DIR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^(?:(?:\$\{[^}]*\}|\$\([^)]*\)|\$\w+)/)+"#).expect("shell leading directory"));
    SOURCE.captures_iter(line).any(|caps| {
        let Some(path) = caps.name("path") else { return false };
        let path: String = path.as_str().chars().filter(|c| *c != '"' && *c != '\'').collect();
        let path = LEADING_DIR.replace(&path, "");
        join(context.dir, &path).is_some_and(|p| p == context.target) || normalize(&path) == context.target
    })
}

static MD_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\]\(\s*<?(?P<path>[^)\s>]+)>?(?:\s+["'(][^)]*)?\)"#).expect("markdown link"));
static MD_REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s{0,3}\[[^\]]+\]:\s*<?(?P<path>[^\s>]+)>?").expect("markdown reference"));
static HTML_ATTRIBUTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\b(?:src|href)\s*=\s*["'](?P<path>[^"']+)["']"#).expect("html attribute"));
static CSS_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"@import\s+(?:url\(\s*)?["']?(?P<path>[^"')\s;]+)"#).expect("css import"));
static CSS_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\burl\(\s*["']?(?P<path>[^"')\s]+)"#).expect("css url"));

/// Markdown, HTML and CSS: links resolved relative to the referrer (or the root for `/…`).
fn link_refers(context: &Context, line: &str, patterns: &[&Regex], css: bool) -> bool {
    static SCHEME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//|#)").expect("url scheme"));
    patterns.iter().flat_map(|pattern| pattern.captures_iter(line)).any(|caps| {
        let Some(link) = caps.name("path") else { return false };
        let link = link.as_str();
        if SCHEME.is_match(link) {
            return false;
        }
        let link = link.split(['#', '?']).next().unwrap_or(link);
        let link = percent_decode(link);
        let resolved = if link.starts_with('/') { Some(normalize(&link)) } else { join(context.dir, &link) };
        let Some(resolved) = resolved else { return false };
        let mut candidates = vec![resolved.clone()];
        for index in ["README.md", "index.md", "index.html"] {
            candidates.push(format!("{resolved}/{index}"));
        }
        if css {
            let (dir, name) = (parent(&resolved), file_name(&resolved));
            let partial = if dir.is_empty() { format!("_{name}") } else { format!("{dir}/_{name}") };
            for ext in ["", ".css", ".scss", ".sass", ".less"] {
                candidates.push(format!("{resolved}{ext}"));
                candidates.push(format!("{partial}{ext}"));
            }
        }
        candidates.iter().any(|candidate| candidate == context.target)
    })
}

/// `%XX` escapes decoded (as in `my%20notes.md`); an invalid escape is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) =
                (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
        {
            out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

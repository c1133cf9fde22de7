//! Dangerous code patterns, per language, found from a file's text alone.
//!
//! [`scan`] picks the file's language from its extension (or name, such as `Dockerfile`, or a
//! `#!` line when there is no extension), removes comments, and reports each line that matches
//! one of the rules below as a [`Finding`] whose message says why the code is dangerous and
//! what to write instead.
//!
//! | rule | language | what it matches |
//! |------|----------|-----------------|
//! | `shell-from-string` | Python | `shell=True`, `os.system(`, `os.popen(`, `subprocess.getoutput(` / `getstatusoutput(` |
//! | | JS/TS | `exec(` / `execSync(` (bare, `child_process.`, `cp.`) whose arguments hold a template literal with `${` or a `+`; `shell: true` |
//! | | Rust | `Command::new("sh" / "bash" / "zsh" / "dash" / "cmd")` with `"-c"` (`"/C"`) and `format!` within the next lines |
//! | | Go | `exec.Command("sh", "-c", …)` (and `CommandContext`) unless the script is one string literal |
//! | | Ruby | backticks or `%x` with `#{`, `system` / `exec` / `spawn` / `IO.popen` / `Open3.*` with an interpolated string |
//! | | shell, Dockerfile | `eval`, except `eval "$(cmd …)"` with no variable inside (`eval "$(ssh-agent -s)"`) |
//! | `eval` | Python | bare `eval(` and `exec(` (not methods like `model.eval()`, not `ast.literal_eval`, not `def eval(`) |
//! | | JS/TS | bare `eval(`, `new Function(`, `setTimeout` / `setInterval` with a string |
//! | | Ruby | bare `eval` |
//! | `tls-verify-disabled` | Python | `verify=False`, `ssl._create_unverified_context`, `= CERT_NONE` (not `!= CERT_NONE`), `check_hostname = False` |
//! | | JS/TS | `rejectUnauthorized: false`, `NODE_TLS_REJECT_UNAUTHORIZED = '0'` |
//! | | Rust | `danger_accept_invalid_certs(true)`, `danger_accept_invalid_hostnames(true)` |
//! | | Go | `InsecureSkipVerify: true` |
//! | | Ruby | `VERIFY_NONE` assigned or passed |
//! | | shell, Dockerfile, config (YAML, Makefile, …) | `curl -k` / `--insecure` (also inside combined flags such as `-sSLk`), `wget --no-check-certificate`, `GIT_SSL_NO_VERIFY`, `http.sslVerify false`, `NODE_TLS_REJECT_UNAUTHORIZED=0`, `PYTHONHTTPSVERIFY=0` |
//! | `sql-from-string` | Python, JS/TS, Rust, Go, Ruby, C-family | a string literal that starts a query (below) built with an f-string `{…}`, a template literal `${…}`, Ruby `#{…}`, `%` or `.format(` right after it, `+` with a non-literal operand, `format!(` or `fmt.Sprintf(` |
//! | `path-from-user-input` | Python | `os.path.join` / `abspath` / `realpath`, `Path(` with `request.*`, `sys.argv`, `input(`, `args.x`; `open(` / `send_file(` whose first argument is `request.*` |
//! | | JS/TS | `path.join` / `resolve` / `normalize` with `req.params` / `query` / `body` / …, `ctx.*`, `event.*`, `process.argv`; `fs.*(` / `res.sendFile(` / `res.download(` whose first argument is a request value |
//! | | Go | `filepath.Join` with `r.URL`, `r.FormValue`, `mux.Vars`, `c.Param`, `os.Args`…; `os.Open` / `ReadFile` / `http.ServeFile` with a request value |
//! | | Ruby | `File.join` / `open` / `read` / `expand_path`, `send_file` with `params` or `request` |
//!
//! A query literal starts (after whitespace) with `SELECT … FROM`, `INSERT INTO`,
//! `UPDATE <table> SET` or `DELETE FROM`, its first keyword all upper or all lower case (so
//! the prose `"Select a file: " + name` is not a query). Parameterised queries are not
//! reported: the values travel separately (`execute("… %s", (x,))`, `$1`, `?`).
//!
//! A path built from user input is not reported when the same line reduces it to a file name
//! (`secure_filename(`, `basename(`, `filepath.Base(`, `File.basename(`).
//!
//! # What is skipped
//!
//! Comments are removed before matching: line comments (`#`, `//`, `--` in SQL), block comments
//! (`/* … */`, `<!-- … -->`, Ruby `=begin`/`=end`) and Python docstrings (a triple-quoted string
//! that starts its line). Most rules also ignore the inside of string literals, so a message
//! saying "never call eval(…)" is not a call; rules that need the text of a literal (SQL, shell
//! scripts, Ruby interpolation) read it.
//!
//! Test files are scanned like any other file: they are code, they run in CI with real
//! credentials around, and a test that disables TLS checks is often copied into production.
//! A deliberate use is marked with [`ALLOW_MARKER`] (`wavecrew:allow-pattern`) on its line,
//! the escape hatch.
//!
//! # Known gaps
//!
//! Matching is per line (the Rust `sh -c` rule reads on to the end of the statement): a call
//! split over lines, a `Command` whose `-c` is added in a later statement, a query assembled with `+=` or in a multi-line triple-quoted string, and values that
//! travel through variables are missed. Paths built from request values in Rust (the
//! extractors of axum, actix and others vary too much) and in C-family languages are not
//! covered; nor are SQL files, which hold queries rather than build them.

use std::sync::LazyLock;

use regex::{Captures, Regex};

pub use crate::secrets::Finding;
use crate::secrets::{column_of, excerpt, secret_spans};

/// The escape hatch: a line containing this text is not scanned for dangerous patterns.
pub const ALLOW_MARKER: &str = "wavecrew:allow-pattern";

/// Scans the text of the file at repo-relative `path` for dangerous code patterns.
///
/// The language comes from `path` (and from a `#!` line when the name has no extension);
/// files in languages without rules yield no findings. Findings come in line order, then
/// column order; their excerpts have any secret on the line redacted.
///
/// ```
/// let text = "import subprocess\nsubprocess.run(f\"git log {ref}\", shell=True)\n";
/// let findings = evidence::patterns::scan("tools/log.py", text);
/// assert_eq!(findings.len(), 1);
/// assert_eq!(findings[0].rule, "shell-from-string");
/// assert_eq!((findings[0].line, findings[0].column), (2, 34));
/// ```
pub fn scan(path: &str, text: &str) -> Vec<Finding> {
    let language = Language::of(path, text);
    if !language.has_pattern_rules() {
        return Vec::new();
    }
    let code = strip_comments(language, text, false);
    let bare = strip_comments(language, text, true);
    let original: Vec<&str> = text.lines().collect();
    let code: Vec<&str> = code.lines().collect();
    let bare: Vec<&str> = bare.lines().collect();

    let mut findings = Vec::new();
    for (index, (&code_line, &bare_line)) in code.iter().zip(&bare).enumerate() {
        let line = original.get(index).copied().unwrap_or("");
        if code_line.trim().is_empty() || line.contains(ALLOW_MARKER) {
            continue;
        }
        let view = LineView { code: code_line, bare: bare_line, following: &code[index + 1..] };
        let mut hits: Vec<(usize, &'static str, String)> = Vec::new();
        for rule in RULES.iter().filter(|rule| rule.languages.contains(&language)) {
            let subject = if rule.strings { code_line } else { bare_line };
            for caps in rule.pattern.captures_iter(subject) {
                if (rule.guard)(&view, &caps) {
                    let at = caps.iter().skip(1).flatten().next().or_else(|| caps.get(0)).map_or(0, |m| m.start());
                    hits.push((at, rule.id, rule.message.to_string()));
                }
            }
        }
        hits.extend(special_rules(language, &view));

        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let spans = if hits.is_empty() { Vec::new() } else { secret_spans(line) };
        for (at, rule, message) in hits {
            findings.push(Finding {
                rule,
                line: line_number,
                column: column_of(line, at),
                message,
                excerpt: excerpt(line, at, &spans),
            });
        }
    }
    findings.sort_by(|a, b| (a.line, a.column, a.rule).cmp(&(b.line, b.column, b.rule)));
    findings.dedup_by(|a, b| (a.line, a.column, a.rule) == (b.line, b.column, b.rule));
    findings
}

/// A file's language, as far as comments, strings and rules are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Language {
    Python,
    /// JavaScript and TypeScript, with JSX, and Vue / Svelte components.
    JavaScript,
    Rust,
    Go,
    Ruby,
    Shell,
    Dockerfile,
    /// C, C++, Java, C#, Kotlin, Swift, Scala, Dart, PHP: `//` and `/* */` comments.
    CFamily,
    Css,
    Sql,
    Markdown,
    Html,
    /// YAML, TOML, INI, `.env`, Makefiles, ignore files: `#` comments.
    Config,
    /// Anything else: no comment syntax.
    Text,
}

impl Language {
    /// The language of the file at `path`, from its extension or name, else from a `#!` line.
    pub(crate) fn of(path: &str, text: &str) -> Language {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        let extension = lower.rsplit_once('.').map_or("", |(_, ext)| ext);
        match extension {
            "py" | "pyw" | "pyi" => return Language::Python,
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "tsx" | "mts" | "cts" | "vue" | "svelte" => {
                return Language::JavaScript;
            }
            "rs" => return Language::Rust,
            "go" => return Language::Go,
            "rb" | "rake" | "gemspec" | "ru" => return Language::Ruby,
            "sh" | "bash" | "zsh" | "ksh" | "bats" => return Language::Shell,
            "dockerfile" => return Language::Dockerfile,
            "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" | "m" | "mm" | "java" | "kt" | "kts" | "cs"
            | "swift" | "scala" | "groovy" | "gradle" | "dart" | "php" => return Language::CFamily,
            "css" | "scss" | "sass" | "less" => return Language::Css,
            "sql" => return Language::Sql,
            "md" | "markdown" | "mdx" => return Language::Markdown,
            "html" | "htm" | "xhtml" | "xml" | "svg" => return Language::Html,
            "yaml" | "yml" | "toml" | "ini" | "cfg" | "conf" | "properties" | "env" | "mk" => {
                return Language::Config;
            }
            _ => {}
        }
        match lower.as_str() {
            "dockerfile" | "containerfile" => return Language::Dockerfile,
            "gemfile" | "rakefile" | "vagrantfile" | "podfile" => return Language::Ruby,
            ".envrc" | ".bashrc" | ".zshrc" | ".profile" | ".bash_profile" => return Language::Shell,
            "makefile" | "gnumakefile" | ".gitignore" | ".dockerignore" | ".gitattributes" | ".editorconfig"
            | "procfile" => return Language::Config,
            _ if lower.starts_with("dockerfile.") => return Language::Dockerfile,
            _ if lower.starts_with(".env.") => return Language::Config,
            _ => {}
        }
        let first_line = text.lines().next().unwrap_or("");
        if let Some(shebang) = first_line.strip_prefix("#!") {
            // `#!/bin/bash`, or `#!/usr/bin/env python3` (possibly `env -S node --flag`).
            let mut words = shebang.split_whitespace();
            let first = words.next().unwrap_or("");
            let interpreter =
                if first.ends_with("/env") { words.find(|word| !word.starts_with('-')).unwrap_or("") } else { first };
            let program = interpreter.rsplit('/').next().unwrap_or("");
            if program.starts_with("python") {
                return Language::Python;
            }
            if matches!(program, "node" | "deno" | "bun" | "ts-node" | "tsx") {
                return Language::JavaScript;
            }
            if program.starts_with("ruby") {
                return Language::Ruby;
            }
            if matches!(program, "sh" | "bash" | "zsh" | "dash" | "ksh") {
                return Language::Shell;
            }
        }
        Language::Text
    }

    /// Whether [`scan`] has any rule for the language.
    fn has_pattern_rules(self) -> bool {
        !matches!(self, Language::Css | Language::Sql | Language::Markdown | Language::Html | Language::Text)
    }

    /// How comments and strings are written in the language.
    fn syntax(self) -> Syntax {
        const NONE: Syntax = Syntax {
            line_comments: &[],
            block_comment: None,
            nested_blocks: false,
            hash_at_word_start: false,
            quotes: b"",
            multiline_quotes: b"",
            raw_quotes: b"",
            triple_quotes: false,
            char_literals: false,
            raw_strings: false,
            begin_end: false,
        };
        const C_LIKE: Syntax =
            Syntax { line_comments: &["//"], block_comment: Some(("/*", "*/")), quotes: b"\"'", ..NONE };
        match self {
            Language::Python => Syntax { line_comments: &["#"], quotes: b"\"'", triple_quotes: true, ..NONE },
            Language::JavaScript => Syntax { quotes: b"\"'`", multiline_quotes: b"`", ..C_LIKE },
            Language::Rust => Syntax {
                nested_blocks: true,
                quotes: b"\"",
                multiline_quotes: b"\"",
                char_literals: true,
                raw_strings: true,
                ..C_LIKE
            },
            Language::Go => {
                Syntax { quotes: b"\"`", multiline_quotes: b"`", raw_quotes: b"`", char_literals: true, ..C_LIKE }
            }
            Language::CFamily => C_LIKE,
            Language::Ruby => Syntax { line_comments: &["#"], quotes: b"\"'`", begin_end: true, ..NONE },
            Language::Shell | Language::Dockerfile => Syntax {
                line_comments: &["#"],
                hash_at_word_start: true,
                quotes: b"\"'",
                multiline_quotes: b"\"'",
                raw_quotes: b"'",
                ..NONE
            },
            Language::Css => Syntax { block_comment: Some(("/*", "*/")), quotes: b"\"'", ..NONE },
            Language::Sql => Syntax {
                line_comments: &["--"],
                block_comment: Some(("/*", "*/")),
                quotes: b"'\"",
                multiline_quotes: b"'",
                raw_quotes: b"'\"",
                ..NONE
            },
            Language::Markdown | Language::Html => Syntax { block_comment: Some(("<!--", "-->")), ..NONE },
            Language::Config => Syntax { line_comments: &["#"], hash_at_word_start: true, ..NONE },
            Language::Text => NONE,
        }
    }
}

/// How a language writes comments and string literals (only what the stripper needs).
#[derive(Clone, Copy)]
struct Syntax {
    line_comments: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    /// Block comments nest (Rust).
    nested_blocks: bool,
    /// `#` starts a comment only at the start of a word (shell `$#`, YAML `a#b`).
    hash_at_word_start: bool,
    /// Characters that open and close string literals.
    quotes: &'static [u8],
    /// Of those, the ones whose literals may span lines (others end at the line's end).
    multiline_quotes: &'static [u8],
    /// Of those, the ones without backslash escapes.
    raw_quotes: &'static [u8],
    /// Python's `"""` and `'''`; one that starts its line is a docstring, removed as a comment.
    triple_quotes: bool,
    /// `'` opens a character literal only when one character (or escape) and `'` follow;
    /// otherwise it is a lifetime or label (Rust, Go).
    char_literals: bool,
    /// Rust's `r"…"` and `r#"…"#`.
    raw_strings: bool,
    /// Ruby's `=begin` … `=end` block comments.
    begin_end: bool,
}

/// `text` with comments (and, with `blank_strings`, the contents of string literals) replaced
/// by spaces, byte for byte: line breaks stay, so lines and byte offsets match the original.
pub(crate) fn strip_comments(language: Language, text: &str, blank_strings: bool) -> String {
    let syntax = language.syntax();
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let blank = |out: &mut Vec<u8>, range: &[u8]| {
        out.extend(range.iter().map(|&b| if b == b'\n' || b == b'\r' { b } else { b' ' }));
    };
    let string = |out: &mut Vec<u8>, literal: &[u8], open: usize, close: usize| {
        // The delimiters stay; the contents stay or are blanked.
        let close = close.min(literal.len() - open.min(literal.len()));
        out.extend_from_slice(&literal[..open]);
        let contents = &literal[open..literal.len() - close];
        if blank_strings {
            out.extend(contents.iter().map(|&b| if b == b'\n' || b == b'\r' { b } else { b' ' }));
        } else {
            out.extend_from_slice(contents);
        }
        out.extend_from_slice(&literal[literal.len() - close..]);
    };
    let starts = |at: usize, token: &str| bytes[at..].starts_with(token.as_bytes());
    let line_end = |at: usize| bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| at + n);
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';

    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let at_line_start = i == 0 || bytes[i - 1] == b'\n';

        if syntax.begin_end && at_line_start && starts(i, "=begin") {
            let mut end = line_end(i);
            while end < bytes.len() && !starts(end + 1, "=end") {
                end = line_end(end + 1);
            }
            let end = if end < bytes.len() { line_end(end + 1) } else { end };
            blank(&mut out, &bytes[i..end]);
            i = end;
            continue;
        }

        if let Some((open, close)) = syntax.block_comment
            && starts(i, open)
        {
            let mut depth = 0usize;
            let mut j = i;
            while j < bytes.len() {
                if starts(j, open) && (depth == 0 || syntax.nested_blocks) {
                    depth += 1;
                    j += open.len();
                } else if starts(j, close) {
                    depth -= 1;
                    j += close.len();
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            let j = j.min(bytes.len());
            blank(&mut out, &bytes[i..j]);
            i = j;
            continue;
        }

        let comment_here = syntax.line_comments.iter().any(|token| starts(i, token))
            && (!syntax.hash_at_word_start
                || b != b'#'
                || i == 0
                || bytes[i - 1].is_ascii_whitespace()
                || matches!(bytes[i - 1], b';' | b'|' | b'&' | b'('));
        if comment_here {
            let end = line_end(i);
            blank(&mut out, &bytes[i..end]);
            i = end;
            continue;
        }

        if syntax.triple_quotes && (starts(i, "\"\"\"") || starts(i, "'''")) {
            let delimiter = &bytes[i..i + 3];
            let end = bytes[i + 3..].windows(3).position(|w| w == delimiter).map_or(bytes.len(), |n| i + 3 + n + 3);
            let line_start = bytes[..i].iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
            let docstring = bytes[line_start..i].iter().all(u8::is_ascii_whitespace);
            if docstring {
                blank(&mut out, &bytes[i..end]);
            } else {
                string(&mut out, &bytes[i..end], 3, if end - i >= 6 { 3 } else { 0 });
            }
            i = end;
            continue;
        }

        if syntax.raw_strings
            && b == b'r'
            && (i == 0 || !is_ident(bytes[i - 1]) || (bytes[i - 1] == b'b' && (i < 2 || !is_ident(bytes[i - 2]))))
        {
            let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
            if bytes.get(i + 1 + hashes) == Some(&b'"') {
                let open = 1 + hashes + 1;
                let mut closing = Vec::with_capacity(hashes + 1);
                closing.push(b'"');
                closing.extend(std::iter::repeat_n(b'#', hashes));
                let body = i + open;
                let end = bytes[body..]
                    .windows(closing.len())
                    .position(|w| w == closing.as_slice())
                    .map_or(bytes.len(), |n| body + n + closing.len());
                let close =
                    if end - body >= closing.len() && bytes[..end].ends_with(&closing) { closing.len() } else { 0 };
                string(&mut out, &bytes[i..end], open, close);
                i = end;
                continue;
            }
        }

        if syntax.char_literals && b == b'\'' {
            let length = if bytes.get(i + 1) == Some(&b'\\') {
                // An escape (`'\n'`, `'\''`, `'\u{1F600}'`): the closing quote comes after it.
                bytes.get(i + 3..).and_then(|rest| rest.iter().take(10).position(|&b| b == b'\'')).map(|n| n + 4)
            } else {
                // One character, which may take several bytes.
                let width = text.get(i + 1..).and_then(|rest| rest.chars().next()).map_or(0, char::len_utf8);
                (width > 0 && bytes.get(i + 1 + width) == Some(&b'\'')).then_some(width + 2)
            };
            match length {
                Some(length) => {
                    string(&mut out, &bytes[i..i + length], 1, 1);
                    i += length;
                }
                None => {
                    out.push(b);
                    i += 1;
                }
            }
            continue;
        }

        if syntax.quotes.contains(&b) {
            let multiline = syntax.multiline_quotes.contains(&b);
            let escapes = !syntax.raw_quotes.contains(&b);
            let mut j = i + 1;
            let mut closed = false;
            while j < bytes.len() {
                let c = bytes[j];
                if escapes && c == b'\\' {
                    j += 2;
                } else if c == b {
                    j += 1;
                    closed = true;
                    break;
                } else if c == b'\n' && !multiline {
                    break;
                } else {
                    j += 1;
                }
            }
            let j = j.min(bytes.len());
            string(&mut out, &bytes[i..j], 1, usize::from(closed));
            i = j;
            continue;
        }

        out.push(b);
        i += 1;
    }
    // Every replaced range starts and ends at an ASCII delimiter or the text's end, so whole
    // characters were replaced by spaces and the bytes are still UTF-8.
    String::from_utf8(out).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// One line as the rules see it.
struct LineView<'a> {
    /// Comments removed, string literals kept.
    code: &'a str,
    /// Comments removed and the contents of string literals blanked (same byte offsets).
    bare: &'a str,
    /// The lines after this one, comments removed.
    following: &'a [&'a str],
}

/// A rule that is one regular expression per line (plus an optional check).
struct Rule {
    id: &'static str,
    languages: &'static [Language],
    /// Match against the line with string contents kept (`true`) or blanked (`false`).
    strings: bool,
    /// The finding's column is the start of the first capture group that took part in the
    /// match (named `at` by convention), else of the whole match.
    pattern: Regex,
    guard: fn(&LineView, &Captures) -> bool,
    message: &'static str,
}

const PYTHON: &[Language] = &[Language::Python];
const JAVASCRIPT: &[Language] = &[Language::JavaScript];
const RUST: &[Language] = &[Language::Rust];
const GO: &[Language] = &[Language::Go];
const RUBY: &[Language] = &[Language::Ruby];
const SHELL: &[Language] = &[Language::Shell, Language::Dockerfile];
const SCRIPTS: &[Language] = &[Language::Shell, Language::Dockerfile, Language::Config];
const SCRIPTS_AND_JS: &[Language] = &[Language::Shell, Language::Dockerfile, Language::Config, Language::JavaScript];

fn always(_: &LineView, _: &Captures) -> bool {
    true
}

fn rule(
    id: &'static str,
    languages: &'static [Language],
    strings: bool,
    pattern: &str,
    guard: fn(&LineView, &Captures) -> bool,
    message: &'static str,
) -> Rule {
    Rule { id, languages, strings, pattern: Regex::new(pattern).expect("pattern rule"), guard, message }
}

const PY_SHELL_TRUE: &str = "`shell=True` runs the command through /bin/sh, so any value formatted into it can inject \
    more commands. Pass the program and its arguments as a list (`subprocess.run([\"git\", \"log\", rev])`) and \
    leave `shell=False`, the default.";
const PY_OS_SYSTEM: &str = "`os.system` and `os.popen` run their string through the shell, so a value formatted into \
    it can inject more commands. Use `subprocess.run([...])` with a list of arguments (no shell).";
const PY_GETOUTPUT: &str = "`getoutput` and `getstatusoutput` always run their string through the shell. Use \
    `subprocess.run([...], capture_output=True, text=True)` with a list of arguments.";
const JS_EXEC: &str = "`exec`/`execSync` run a string through the shell, and this one is built with a template \
    literal or `+`, so a value in it can inject more commands. Use `execFile` or `spawn` with an argument array \
    (without `shell: true`).";
const JS_SHELL_TRUE: &str = "`shell: true` makes `spawn`/`execFile` run the command through the shell, so values in \
    it can inject more commands. Drop the option and pass the arguments as an array.";
const RUST_SH_C: &str = "`sh -c` with a script built by `format!` lets a value in it inject shell commands. Run the \
    program itself: `Command::new(program).arg(value)`, one `.arg` per argument, no shell.";
const GO_SH_C: &str = "`exec.Command(\"sh\", \"-c\", script)` with a built script lets a value in it inject shell \
    commands. Call the program directly with separate arguments: `exec.Command(\"git\", \"log\", rev)`.";
const RUBY_SHELL: &str = "An interpolated string run by backticks, `%x`, `system`, `exec`, `spawn`, `IO.popen` or \
    `Open3` goes through the shell, so `#{…}` can inject more commands. Pass the program and its arguments \
    separately: `system(\"git\", \"log\", rev)`, `Open3.capture2(\"git\", \"log\", rev)`.";
const SHELL_EVAL: &str = "`eval` parses its arguments again as shell code, so any variable in them can run \
    commands. Use an array (`\"${args[@]}\"`), a `case` statement or indirect expansion (`${!name}`) instead.";
const PY_EVAL: &str = "`eval`/`exec` run a string as Python code: on any value that is not a constant this is code \
    injection. Use `ast.literal_eval` for literals, `json.loads` for data, or a dict of allowed functions.";
const JS_EVAL: &str = "`eval`, `new Function` and string timers compile a string as JavaScript: on any value that \
    is not a constant this is code injection (and it needs `unsafe-eval` in a CSP). Use `JSON.parse` for data, \
    a map of allowed functions, or pass a function to `setTimeout`.";
const RUBY_EVAL: &str = "`eval` runs a string as Ruby code: on any value that is not a constant this is code \
    injection. Use `public_send` with an allow-list of method names, or parse data with `JSON.parse`.";
const PY_TLS: &str = "This turns off TLS certificate verification, so anyone on the network path can impersonate \
    the server (man in the middle). Keep verification on; for a private CA pass its bundle \
    (`verify=\"/path/ca.pem\"`, `ssl.create_default_context(cafile=...)`).";
const JS_TLS: &str = "This turns off TLS certificate verification, so anyone on the network path can impersonate \
    the server (man in the middle). Keep verification on; for a private CA pass it with the `ca` option or \
    `NODE_EXTRA_CA_CERTS`.";
const RUST_TLS: &str = "`danger_accept_invalid_certs(true)`/`danger_accept_invalid_hostnames(true)` turn off TLS \
    verification, so anyone on the network path can impersonate the server. Keep it on; for a private CA use \
    `add_root_certificate`.";
const GO_TLS: &str = "`InsecureSkipVerify: true` turns off TLS certificate verification, so anyone on the network \
    path can impersonate the server. Keep it false; for a private CA set `RootCAs` in the `tls.Config`.";
const RUBY_TLS: &str = "`VERIFY_NONE` turns off TLS certificate verification, so anyone on the network path can \
    impersonate the server. Use `OpenSSL::SSL::VERIFY_PEER`, with `ca_file` for a private CA.";
const SHELL_TLS: &str = "This turns off TLS certificate verification, so a download or request can be tampered with \
    in transit. Drop it; for a private CA pass the certificate (`curl --cacert`, `wget --ca-certificate`, git \
    `http.sslCAInfo`, `NODE_EXTRA_CA_CERTS`).";

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // Shell commands built from strings.
        rule("shell-from-string", PYTHON, false, r"\b(?P<at>shell)\s*=\s*True\b", always, PY_SHELL_TRUE),
        rule("shell-from-string", PYTHON, false, r"\b(?P<at>os\.(?:system|popen))\s*\(", always, PY_OS_SYSTEM),
        rule(
            "shell-from-string",
            PYTHON,
            false,
            r"\b(?P<at>(?:subprocess|commands)\.(?:getoutput|getstatusoutput))\s*\(",
            always,
            PY_GETOUTPUT,
        ),
        rule(
            "shell-from-string",
            JAVASCRIPT,
            false,
            concat!(
                r"(?:^|[^.\w$])(?P<at>(?:(?:child_process|childProcess|cp)\.)?(?:exec|execSync))\s*\(",
                r"|(?P<sync>\.execSync)\s*\(",
            ),
            js_exec_built,
            JS_EXEC,
        ),
        rule("shell-from-string", JAVASCRIPT, false, r"\b(?P<at>shell)\s*:\s*true\b", always, JS_SHELL_TRUE),
        rule(
            "shell-from-string",
            GO,
            true,
            r#"\b(?P<at>exec\.Command(?:Context)?)\s*\((?:\s*\w+\s*,)?\s*"(?:/usr)?(?:/bin/)?(?:sh|bash|zsh|dash)"\s*,\s*"-c"\s*,\s*(?P<script>.*)"#,
            go_script_built,
            GO_SH_C,
        ),
        rule(
            "shell-from-string",
            RUBY,
            true,
            concat!(
                r"(?P<at>`)[^`]*#\{",
                r"|(?P<x>%x[(\[{|])[^)\]}|]*#\{",
                r#"|\b(?P<call>system|exec|spawn|IO\.popen|Open3\.\w+)\s*\(?\s*"[^"]*#\{"#,
            ),
            always,
            RUBY_SHELL,
        ),
        rule(
            "shell-from-string",
            SHELL,
            false,
            r"(?:^|[;&|({]|\s)(?P<at>eval)(?:\s+(?P<args>.*)|$)",
            shell_eval_dynamic,
            SHELL_EVAL,
        ),
        // Code built from strings.
        rule("eval", PYTHON, false, r"(?:^|[^.\w])(?P<at>eval|exec)\s*\(", not_a_definition, PY_EVAL),
        rule("eval", JAVASCRIPT, false, r"(?:^|[^.\w$])(?P<at>eval)\s*\(", not_a_definition, JS_EVAL),
        rule("eval", JAVASCRIPT, false, r"\b(?P<at>new\s+Function)\s*\(", always, JS_EVAL),
        rule("eval", JAVASCRIPT, false, r#"\b(?P<at>set(?:Timeout|Interval))\s*\(\s*["'`]"#, always, JS_EVAL),
        rule("eval", RUBY, false, r"(?:^|[^.\w:])(?P<at>eval)(?:\s*\(|\s+\S)", not_a_definition, RUBY_EVAL),
        // TLS verification turned off.
        rule("tls-verify-disabled", PYTHON, false, r"\b(?P<at>verify)\s*=\s*False\b", always, PY_TLS),
        rule(
            "tls-verify-disabled",
            PYTHON,
            false,
            concat!(
                r"\b(?P<at>ssl\._create_unverified_context)\b",
                // Set or passed (`cert_reqs=ssl.CERT_NONE`), not compared (`!= CERT_NONE`).
                r"|(?:^|[^=!<>])=\s*(?P<none>(?:ssl\.)?CERT_NONE)\b",
                r"|\b(?P<host>check_hostname)\s*=\s*False\b",
            ),
            always,
            PY_TLS,
        ),
        rule(
            "tls-verify-disabled",
            JAVASCRIPT,
            false,
            // An object key, not the property in a ternary (`options.rejectUnauthorized : false`).
            r#"(?:^|[^.\w$])["']?(?P<at>rejectUnauthorized)["']?\s*:\s*false\b"#,
            always,
            JS_TLS,
        ),
        rule(
            "tls-verify-disabled",
            SCRIPTS_AND_JS,
            true,
            r#"\b(?P<at>NODE_TLS_REJECT_UNAUTHORIZED)["'\]]*\s*(?:=|\s|:)\s*["'`]?0\b"#,
            always,
            JS_TLS,
        ),
        rule(
            "tls-verify-disabled",
            RUST,
            false,
            r"\.(?P<at>danger_accept_invalid_(?:certs|hostnames))\s*\(\s*true\s*\)",
            always,
            RUST_TLS,
        ),
        rule("tls-verify-disabled", GO, false, r"\b(?P<at>InsecureSkipVerify)\s*(?::|=)\s*true\b", always, GO_TLS),
        rule(
            "tls-verify-disabled",
            RUBY,
            false,
            // Set or passed (`verify_mode = …`, `verify_mode: …`), not compared.
            r"(?:(?:^|[^=!<>])=|=>|\bverify_mode:)\s*(?:OpenSSL::SSL::)?(?P<at>VERIFY_NONE)\b",
            always,
            RUBY_TLS,
        ),
        rule(
            "tls-verify-disabled",
            SCRIPTS,
            true,
            concat!(
                r"(?i)\b(?P<at>wget)\b[^|;&]*--no-check-certificate",
                r#"|\b(?P<git>GIT_SSL_NO_VERIFY)\s*[=\s]\s*["']?(?:1|true)\b"#,
                r#"|(?P<cfg>http\.sslVerify)["']?\s*[=\s]\s*["']?false\b"#,
                r#"|\b(?P<py>PYTHONHTTPSVERIFY)\s*[=\s]\s*["']?0\b"#,
            ),
            always,
            SHELL_TLS,
        ),
    ]
});

/// `exec(`/`execSync(` whose arguments are built: a template literal with `${`, or a `+`
/// outside string literals.
fn js_exec_built(view: &LineView, caps: &Captures) -> bool {
    let Some(call) = caps.get(0) else { return false };
    let arguments = &view.code[call.end()..];
    let bare_arguments = &view.bare[call.end()..];
    let template = arguments.find('`').is_some_and(|tick| arguments[tick..].contains("${"));
    let concatenation = bare_arguments.match_indices('+').any(|(at, _)| {
        let next = bare_arguments[at + 1..].chars().next();
        let previous = bare_arguments[..at].chars().next_back();
        next != Some('+') && next != Some('=') && previous != Some('+')
    });
    template || concatenation
}

/// Go's `sh -c` script: fine when it is one string literal, built otherwise.
fn go_script_built(_: &LineView, caps: &Captures) -> bool {
    static CONSTANT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^(?:"(?:[^"\\]|\\.)*"|`[^`]*`)\s*\)"#).expect("constant script"));
    caps.name("script").is_some_and(|script| !CONSTANT.is_match(script.as_str()))
}

/// Shell `eval`, except `eval "$(cmd …)"` with no variable inside (`eval "$(ssh-agent -s)"`).
fn shell_eval_dynamic(view: &LineView, caps: &Captures) -> bool {
    static FIXED_SUBSTITUTION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^"?\$\([^$`]*\)"?\s*(?:[;&|].*)?$"#).expect("fixed substitution"));
    let Some(args) = caps.name("args") else { return true };
    let args = view.code.get(args.start()..).unwrap_or("").trim();
    !FIXED_SUBSTITUTION.is_match(args)
}

/// `eval(` that is a call, not the definition of a function or method named `eval`.
fn not_a_definition(view: &LineView, caps: &Captures) -> bool {
    let Some(at) = caps.name("at") else { return true };
    let before = view.bare[..at.start()].trim_end();
    !(before.ends_with("def") || before.ends_with("function"))
}

/// Rules that need more than one regular expression per line.
fn special_rules(language: Language, view: &LineView) -> Vec<(usize, &'static str, String)> {
    let mut hits = Vec::new();
    if matches!(
        language,
        Language::Python | Language::JavaScript | Language::Rust | Language::Go | Language::Ruby | Language::CFamily
    ) && let Some((at, how)) = sql_from_string(language, view)
    {
        hits.push((at, "sql-from-string", format!("{} {how}. {SQL_FIX}", SQL_WHAT)));
    }
    if let Some((at, source)) = path_from_user_input(language, view) {
        hits.push((at, "path-from-user-input", format!("{PATH_WHAT} ({source}). {PATH_FIX}")));
    }
    if language == Language::Rust
        && let Some(at) = rust_shell_with_format(view)
    {
        hits.push((at, "shell-from-string", RUST_SH_C.to_string()));
    }
    if matches!(language, Language::Shell | Language::Dockerfile | Language::Config)
        && let Some(at) = curl_insecure(view.code)
    {
        hits.push((at, "tls-verify-disabled", SHELL_TLS.to_string()));
    }
    hits
}

const SQL_WHAT: &str = "SQL query built from a string with";
const SQL_FIX: &str = "A value containing a quote changes the query (SQL injection). Pass values as query \
    parameters: `cursor.execute(\"... WHERE id = %s\", (id,))`, `db.query(\"... WHERE id = $1\", [id])`, \
    `sqlx::query(\"... WHERE id = ?\").bind(id)`.";
const PATH_WHAT: &str = "File path built from user input";
const PATH_FIX: &str = "A value such as `../../etc/passwd` or an absolute path escapes the intended directory (path \
    traversal). Reduce it to a file name (`werkzeug.utils.secure_filename`, `os.path.basename`, `path.basename`, \
    `filepath.Base`), or resolve the result and check that it is still inside the base directory.";

/// A string literal on one line.
struct Literal<'a> {
    /// Byte range of the literal, quotes and prefix included.
    start: usize,
    end: usize,
    /// Letters right before the opening quote (`f`, `rb`, …).
    prefix: &'a str,
    quote: &'a str,
    content: &'a str,
}

/// The string literals on a line (comments already removed).
fn literals(language: Language, line: &str) -> Vec<Literal<'_>> {
    let quotes: &[u8] = match language {
        Language::Python | Language::Ruby => b"\"'",
        Language::JavaScript => b"\"'`",
        Language::Go => b"\"`",
        _ => b"\"",
    };
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !quotes.contains(&b) {
            i += 1;
            continue;
        }
        let triple =
            language == Language::Python && (bytes[i..].starts_with(b"\"\"\"") || bytes[i..].starts_with(b"'''"));
        let quote = if triple { &line[i..i + 3] } else { &line[i..=i] };
        let raw = b == b'`' && language == Language::Go;
        let body = i + quote.len();
        let mut j = body;
        let mut close = None;
        while j < bytes.len() {
            if !raw && bytes[j] == b'\\' {
                j += 2;
            } else if bytes[j..].starts_with(quote.as_bytes()) {
                close = Some(j);
                break;
            } else {
                j += 1;
            }
        }
        let content_end = close.unwrap_or(bytes.len()).min(bytes.len());
        let end = close.map_or(bytes.len(), |c| c + quote.len());
        let prefix_start = line[..i].trim_end_matches(|c: char| c.is_ascii_alphabetic()).len();
        let prefix_start =
            if line[..prefix_start].ends_with(|c: char| c.is_alphanumeric() || c == '_') { i } else { prefix_start };
        found.push(Literal {
            start: prefix_start,
            end,
            prefix: &line[prefix_start..i],
            quote,
            content: &line[body..content_end],
        });
        i = end;
    }
    found
}

/// Whether a literal's text starts a query: `SELECT … FROM`, `INSERT INTO`, `UPDATE t SET`,
/// `DELETE FROM`, the first keyword all upper or all lower case.
fn is_query(content: &str) -> bool {
    static QUERY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?is)^\s*(?P<select>select)\b.*\bfrom\b",
            r"|^\s*(?P<insert>insert)\s+into\b",
            r"|^\s*(?P<update>update)\s+\S+\s+set\b",
            r"|^\s*(?P<delete>delete)\s+from\b",
        ))
        .expect("query pattern")
    });
    QUERY.captures(content).is_some_and(|caps| {
        let keyword =
            ["select", "insert", "update", "delete"].iter().find_map(|name| caps.name(name)).map_or("", |m| m.as_str());
        keyword == keyword.to_ascii_uppercase() || keyword == keyword.to_ascii_lowercase()
    })
}

/// A `{…}` placeholder that is not an escaped `{{`.
fn has_brace_placeholder(content: &str) -> bool {
    content.replace("{{", "").contains('{')
}

/// The first query literal on the line that is built from values, and how it is built.
fn sql_from_string(language: Language, view: &LineView) -> Option<(usize, &'static str)> {
    let line = view.code;
    let literals = literals(language, line);
    for literal in &literals {
        if !is_query(literal.content) {
            continue;
        }
        let before = line[..literal.start].trim_end();
        let after = line[literal.end..].trim_start();
        let how = if language == Language::Python
            && literal.prefix.contains(['f', 'F'])
            && has_brace_placeholder(literal.content)
        {
            Some("an f-string")
        } else if language == Language::JavaScript && literal.quote == "`" && literal.content.contains("${") {
            Some("a template literal")
        } else if language == Language::Ruby && literal.quote != "'" && literal.content.contains("#{") {
            Some("`#{}` interpolation")
        } else if language == Language::Rust && before.ends_with("format!(") && has_brace_placeholder(literal.content) {
            Some("`format!`")
        } else if language == Language::Go && before.ends_with("Sprintf(") && literal.content.contains('%') {
            Some("`fmt.Sprintf`")
        } else if matches!(language, Language::Python | Language::Ruby)
            && after.starts_with('%')
            && !after.starts_with("%=")
        {
            Some("`%` formatting")
        } else if language == Language::Python && after.starts_with(".format(") {
            Some("`.format()`")
        } else if concatenated(language, view, &literals, literal.end) {
            Some("`+` concatenation")
        } else {
            None
        };
        if let Some(how) = how {
            return Some((literal.start, how));
        }
    }
    None
}

/// Whether the code after byte `from` joins the query with `+` to something other than
/// string literals (a literal-only chain such as `"SELECT … " + "FROM t"` is constant).
fn concatenated(language: Language, view: &LineView, literals: &[Literal], from: usize) -> bool {
    let line = view.code;
    let mut at = from;
    loop {
        let rest = &line[at..];
        let trimmed = rest.trim_start();
        if !trimmed.starts_with('+') || trimmed.starts_with("++") || trimmed.starts_with("+=") {
            return false;
        }
        let operand_at = at + (rest.len() - trimmed.len()) + 1;
        let operand = line[operand_at..].trim_start();
        if operand.is_empty() {
            // The expression goes on on the next line: constant if that line starts a literal.
            let next = view.following.iter().map(|line| line.trim_start()).find(|line| !line.is_empty());
            return !next.is_some_and(|next| next.starts_with(['"', '\'', '`']) || literals_start(language, next));
        }
        let operand_start = line.len() - operand.len();
        match literals.iter().find(|literal| literal.start == operand_start) {
            Some(literal) => at = literal.end,
            None => return true,
        }
    }
}

/// Whether `text` starts with a prefixed string literal such as `f"…"`.
fn literals_start(language: Language, text: &str) -> bool {
    literals(language, text).first().is_some_and(|literal| literal.start == 0)
}

/// A path call with a user-controlled argument: the call's byte offset and the source.
fn path_from_user_input(language: Language, view: &LineView) -> Option<(usize, String)> {
    /// Values from a web request, per language.
    const PY_WEB: &str = concat!(
        r"\brequest\.(?:args|form|values|files|json|data|get_json|GET|POST|FILES|query_params|path_params",
        r"|match_info|view_args|headers|cookies)\b",
    );
    const JS_WEB: &str = concat!(
        r"\b(?:req|request)\.(?:params|query|body|headers|cookies|files?)\b",
        r"|\bctx\.(?:params|query|request)\b",
        r"|\bevent\.(?:queryStringParameters|pathParameters|body)\b",
        r"|\bsearchParams\.get\s*\(",
    );
    const GO_WEB: &str = concat!(
        r"\br\.(?:URL|FormValue|PostFormValue|Form|PostForm|PathValue)\b",
        r"|\bmux\.Vars\s*\(",
        r"|\bc\.(?:Param|Query|PostForm|FormValue)\s*\(",
        r"|\bchi\.URLParam\s*\(",
    );
    fn regex(pattern: &str) -> Regex {
        Regex::new(pattern).expect("path rule pattern")
    }
    static PY_JOIN: LazyLock<Regex> =
        LazyLock::new(|| regex(r"\b(?:os\.path\.(?:join|abspath|realpath)|(?:pathlib\.)?(?:Pure)?Path)\s*\("));
    static PY_OPEN: LazyLock<Regex> = LazyLock::new(|| regex(r"(?:^|[^.\w])(?P<at>open|send_file)\s*\("));
    static PY_REQUEST: LazyLock<Regex> = LazyLock::new(|| regex(PY_WEB));
    // Web values, command-line arguments (`sys.argv`, argparse's `args.x`) and `input()`.
    static PY_ANY: LazyLock<Regex> =
        LazyLock::new(|| regex(&format!(r"{PY_WEB}|\bsys\.argv\b|(?:^|[^.\w])input\s*\(|\bargs\.[A-Za-z_]\w*")));
    static JS_JOIN: LazyLock<Regex> = LazyLock::new(|| regex(r"\bpath\.(?:join|resolve|normalize)\s*\("));
    static JS_FILE: LazyLock<Regex> =
        LazyLock::new(|| regex(r"\b(?:fs(?:\.promises)?\.\w+|fsp\.\w+|res\.(?:sendFile|download))\s*\("));
    static JS_REQUEST: LazyLock<Regex> = LazyLock::new(|| regex(JS_WEB));
    static JS_ANY: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"{JS_WEB}|\bprocess\.argv\b")));
    static GO_JOIN: LazyLock<Regex> = LazyLock::new(|| regex(r"\bfilepath\.Join\s*\("));
    static GO_FILE: LazyLock<Regex> =
        LazyLock::new(|| regex(r"\b(?:os\.(?:Open|OpenFile|ReadFile|Create|Remove)|http\.ServeFile)\s*\("));
    static GO_REQUEST: LazyLock<Regex> = LazyLock::new(|| regex(GO_WEB));
    static GO_ANY: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"{GO_WEB}|\bos\.Args\b")));
    static RUBY_FILE: LazyLock<Regex> =
        LazyLock::new(|| regex(r"\b(?:File\.(?:join|open|read|expand_path)|send_file)\s*\(?"));
    static RUBY_REQUEST: LazyLock<Regex> = LazyLock::new(|| regex(r"\bparams\s*[\[.]|\brequest\."));
    static SANITISED: LazyLock<Regex> =
        LazyLock::new(|| regex(r"\bsecure_filename\s*\(|\bbasename\s*\(|\bfilepath\.Base\s*\(|\bFile\.basename\b"));

    // (call, input sources, whether the input must be the first argument)
    let checks: &[(&Regex, &Regex, bool)] = match language {
        Language::Python => &[(&PY_JOIN, &PY_ANY, false), (&PY_OPEN, &PY_REQUEST, true)],
        Language::JavaScript => &[(&JS_JOIN, &JS_ANY, false), (&JS_FILE, &JS_REQUEST, true)],
        Language::Go => &[(&GO_JOIN, &GO_ANY, false), (&GO_FILE, &GO_REQUEST, false)],
        Language::Ruby => &[(&RUBY_FILE, &RUBY_REQUEST, false)],
        _ => return None,
    };
    let line = view.bare;
    if SANITISED.is_match(line) {
        return None;
    }
    for (call, sources, first_argument) in checks {
        for found in call.captures_iter(line) {
            let (Some(whole), at) = (found.get(0), found.name("at")) else { continue };
            let Some(source) = sources.find_at(line, whole.end()) else { continue };
            if *first_argument && line[whole.end()..source.start()].contains(',') {
                continue;
            }
            let name = source.as_str().trim_start_matches(|c: char| !c.is_alphanumeric()).trim_end_matches('(');
            return Some((at.unwrap_or(whole).start(), format!("`{}`", name.trim_end())));
        }
    }
    None
}

/// `Command::new("sh")` (or `bash`, `zsh`, `dash`, `cmd`) followed in the same statement (up
/// to its `;`, a few lines at most) by `"-c"` (`"/C"`) and `format!`: the byte offset of
/// `Command::new`.
fn rust_shell_with_format(view: &LineView) -> Option<usize> {
    static SHELL_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"Command::new\(\s*"(?:(?:/usr)?/bin/)?(?:sh|bash|zsh|dash|cmd|cmd\.exe)"\s*\)"#)
            .expect("rust shell command")
    });
    let found = SHELL_COMMAND.find(view.code)?;
    // The statement: from `Command::new` to the first `;`, over at most 6 more lines.
    let mut window = String::from(&view.code[found.end()..]);
    for line in view.following.iter().take(6) {
        if window.contains(';') || line.trim().is_empty() {
            break;
        }
        window.push('\n');
        window.push_str(line);
    }
    let window = window.split(';').next().unwrap_or("");
    let flag = window.contains("\"-c\"") || window.contains("\"/C\"") || window.contains("\"/c\"");
    (flag && window.contains("format!(")).then_some(found.start())
}

/// `curl` with `-k` / `--insecure` (also inside combined short flags such as `-sSLk`), within
/// its own command (up to `|`, `;` or `&`): the byte offset of `curl`.
fn curl_insecure(line: &str) -> Option<usize> {
    static CURL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bcurl\b").expect("curl"));
    CURL.find_iter(line).find_map(|curl| {
        let command = line[curl.end()..].split(['|', ';', '&']).next().unwrap_or("");
        command
            .split_whitespace()
            .any(|word| {
                word == "--insecure"
                    || (word.len() > 1
                        && word.starts_with('-')
                        && !word.starts_with("--")
                        && word[1..].chars().all(|c| c.is_ascii_alphabetic())
                        && word.contains('k'))
            })
            .then_some(curl.start())
    })
}

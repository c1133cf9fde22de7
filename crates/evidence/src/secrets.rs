//! Secrets: credentials written into a file, found from the file's text alone.
//!
//! [`scan`] reads one file line by line and reports each credential it recognises as a
//! [`Finding`]. It looks for three kinds of evidence, in this order (on one line, a span
//! claimed by an earlier rule is not reported again by a later one):
//!
//! 1. **Known formats**, tokens whose shape names their issuer:
//!
//!    | rule | what it matches |
//!    |------|-----------------|
//!    | `aws-access-key` | `AKIA` or `ASIA` followed by 16 upper-case letters or digits |
//!    | `aws-secret-key` | 40 base64 characters assigned to a key named like `aws_secret_access_key` |
//!    | `github-token` | `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 30 or more (GitHub issues 36), `github_pat_` + 40 or more |
//!    | `gitlab-token` | `glpat-` + 20 or more |
//!    | `slack-token` | `xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-` + 10 or more |
//!    | `slack-webhook` | `https://hooks.slack.com/services/T…/B…/…` |
//!    | `stripe-key` | `sk_live_` or `rk_live_` + 16 or more |
//!    | `google-api-key` | `AIza` + 35 |
//!    | `anthropic-key` | `sk-ant-` + 20 or more |
//!    | `openai-key` | `sk-`, `sk-proj-`, `sk-svcacct-`, `sk-admin-` + 20 or more, mixing digits and both cases |
//!    | `private-key` | a `-----BEGIN … PRIVATE KEY-----` line followed by key material |
//!    | `jwt` | three base64url parts, the first two starting with `eyJ` (a JSON object) |
//!    | `bearer-token` | `Bearer` followed by a random-looking token of 20 or more characters |
//!    | `credentials-in-url` | the password of `scheme://user:password@host` (not the word `password` itself) |
//!
//!    A token that contains `example` (any case), like AWS's documented `AKIAIOSFODNN7EXAMPLE`,
//!    or that is too repetitive to be random (`ghp_xxxx…`, Shannon entropy under 3 bits per
//!    character), is a placeholder and is not reported.
//!
//! 2. **Credential assignments** (`credential-assignment`): a key whose name ends in `password`,
//!    `passwd`, `passphrase`, `secret`, `secret_key`, `token`, `api_key`, `apikey`, `access_key`,
//!    `private_key`, `auth_key`, `client_secret` or `credential(s)` (any case, any prefix:
//!    `DB_PASSWORD`, `clientSecret`, `"api-key"`) assigned a quoted literal with `=`, `:`, `:=`
//!    or `=>` (a type annotation in between is fine: `const TOKEN: &str = "…"`). In `.env`,
//!    shell, Dockerfile, YAML, INI and properties files an unquoted value counts too
//!    (`DB_PASSWORD=hunter22`). Not reported: values that are not literals (`os.environ[…]`,
//!    `${DB_PASSWORD}`, `{{ .Values.token }}`, `%(pw)s`, `<your key>`), values shorter than 4
//!    characters, values with whitespace (labels and prose, `"Forgot your password?"`),
//!    placeholders (containing `changeme`, `example`, `placeholder`, `your`, `dummy`,
//!    `redacted`, `sample`, `fake`, `test`, `xxx`, `***`, `...`, `todo`, `replace`, `_here`),
//!    one repeated character, the key's own name (`"password": "Password"`), a value naming
//!    the same thing as the key (`USE_CREDENTIALS = "use-credentials"`), setting words
//!    (`id-token: write`, `password: required`, fetch's `credentials: 'include'`), the name
//!    of an environment variable (`password = "DB_PASSWORD"`), paths and URLs.
//!
//! 3. **High-entropy strings** (`high-entropy-string`): a quoted literal (or, in the files
//!    listed above, an unquoted assignment value) without whitespace that is
//!    - *hex*, at least 32 characters, more than 3.0 bits of Shannon entropy per character, or
//!    - *base64-ish* (`A-Z a-z 0-9 + / _ -`, optional `=` padding), at least 20 characters,
//!      with entropy above `min(4.0, log2(len) - 0.7)` bits per character. A random string of
//!      20 characters can only score about 4.1 (few characters repeat in 20 draws), so short
//!      strings get a slightly lower bar; from 27 characters on the bar is 4.0.
//!
//!    To keep false positives low the candidate must also mix letters and digits (and, if
//!    base64-ish, upper and lower case: `x86_64-unknown-linux-gnu` and
//!    `sqlite3_create_function_v2` are names), be at most 256 characters (longer ones are
//!    embedded data such as images, not keys), must not be a placeholder (the list of rule 2:
//!    AWS's documented `…EXAMPLEKEY` is one), must not look like words (identifiers such as
//!    `handleUserLogin2FactorCallback`: letter runs averaging 3 or more characters with a
//!    vowel share of 30 % or more), and must not spell out a character set (four consecutive
//!    characters in order, as in `"ABCDEFGHIJabcdef0123"`). Skipped entirely: hex strings of exactly 40 or 64 characters
//!    (git object ids, SHA-1 and SHA-256 digests; a secret of that shape assigned to a
//!    credential-named key is still reported by rule 2), lines that talk about hashes
//!    (`sha256`, `sha512-…`, `hash`, `digest`, `checksum`, `integrity`, `commit`, `rev`,
//!    `etag`, `uuid`, `guid`, `fingerprint`), lockfiles (`*.lock`, `package-lock.json`,
//!    `npm-shrinkwrap.json`, `pnpm-lock.yaml`, `go.sum`), minified and generated assets
//!    (`*.min.js`, `*.min.css`, `*.map`, `*.svg`).
//!
//! Files whose name says they hold examples (a dot-separated part of the name is `example`,
//! `sample`, `template`, `dist` or `tmpl`, like `.env.example` or `config.sample.yaml`) get only
//! the known-format rules: their assignments are placeholders by design, but a real token
//! pasted into one is still caught.
//!
//! Secrets in comments are reported like any other: a key in a comment has leaked just the same.
//!
//! # Escape hatch
//!
//! A line containing [`ALLOW_MARKER`] (`wavecrew:allow-secret`), usually in a comment, is not
//! scanned. Use it for deliberate fixtures such as a test's fake key.
//!
//! # Redaction
//!
//! A [`Finding`] never holds a secret's full text: in its excerpt every secret found on the
//! line is cut to its first few characters (4 for a secret of 12 characters or more, fewer for
//! shorter ones) followed by `…`.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// The escape hatch: a line containing this text is not scanned for secrets.
pub const ALLOW_MARKER: &str = "wavecrew:allow-secret";

/// One problem found in a file: by [`scan`] here, and by [`crate::patterns::scan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id of the rule that matched, such as `aws-access-key` or `shell-from-string`.
    pub rule: &'static str,
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, counted in Unicode scalar values, where the secret or pattern starts.
    pub column: u32,
    /// What was found, why it matters and how to fix it.
    pub message: String,
    /// The line (trimmed, and cut around the match when very long), with every secret on it
    /// redacted.
    pub excerpt: String,
}

/// Scans the text of the file at repo-relative `path` for credentials.
///
/// `path` only selects rules (lockfiles skip the entropy rule, `.env` files accept unquoted
/// values); nothing is read from disk. Findings come in line order, then column order.
///
/// ```
/// let text = format!("aws_key = \"AKIA{}\"\n", "Q3VZ7H2KX5M4PL8D");
/// let findings = evidence::secrets::scan("config.py", &text);
/// assert_eq!(findings[0].rule, "aws-access-key");
/// assert_eq!((findings[0].line, findings[0].column), (1, 12));
/// assert_eq!(findings[0].excerpt, "aws_key = \"AKIA…\"");
/// ```
pub fn scan(path: &str, text: &str) -> Vec<Finding> {
    let kind = FileKind::of(path);
    let lines: Vec<&str> = text.lines().collect();
    let mut findings = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if line.contains(ALLOW_MARKER) {
            continue;
        }
        let next_line = lines.get(index + 1).copied();
        let hits = hits_on_line(kind, line, next_line);
        if hits.is_empty() {
            continue;
        }
        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let spans: Vec<(usize, usize)> = hits.iter().filter(|hit| hit.redact).map(|hit| (hit.start, hit.end)).collect();
        for hit in hits.iter().filter(|hit| hit.report) {
            findings.push(Finding {
                rule: hit.rule,
                line: line_number,
                column: column_of(line, hit.start),
                message: format!("{} {FIX}", hit.what),
                excerpt: excerpt(line, hit.start, &spans),
            });
        }
    }
    findings.sort_by(|a, b| (a.line, a.column, a.rule).cmp(&(b.line, b.column, b.rule)));
    findings
}

/// Shannon entropy of `text` in bits per character (Unicode scalar value): 0 for an empty or
/// single-character string, `log2(n)` at most for `n` characters.
///
/// ```
/// assert_eq!(evidence::secrets::shannon_entropy("aaaa"), 0.0);
/// assert_eq!(evidence::secrets::shannon_entropy("abcd"), 2.0);
/// ```
pub fn shannon_entropy(text: &str) -> f64 {
    let mut chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    chars.sort_unstable();
    let total = chars.len() as f64;
    let mut entropy = 0.0;
    let mut run = 1usize;
    for i in 1..=chars.len() {
        if i < chars.len() && chars[i] == chars[i - 1] {
            run += 1;
        } else {
            let p = run as f64 / total;
            entropy -= p * p.log2();
            run = 1;
        }
    }
    // `-0.0` for a single repeated character reads oddly in messages and tests.
    entropy.max(0.0)
}

/// Byte ranges of the secrets on `line`, judged as a line of an ordinary source file; other
/// scanners pass them to [`excerpt`] so that their excerpts never leak a credential either.
pub(crate) fn secret_spans(line: &str) -> Vec<(usize, usize)> {
    hits_on_line(FileKind::PLAIN, line, None).iter().filter(|hit| hit.redact).map(|hit| (hit.start, hit.end)).collect()
}

/// 1-based column, in Unicode scalar values, of byte offset `byte` of `line`.
///
/// An offset inside a character is moved back to that character's start.
pub(crate) fn column_of(line: &str, byte: usize) -> u32 {
    let mut byte = byte.min(line.len());
    while !line.is_char_boundary(byte) {
        byte -= 1;
    }
    u32::try_from(line[..byte].chars().count() + 1).unwrap_or(u32::MAX)
}

/// The excerpt of `line` for a finding at byte `focus`: secrets in `spans` redacted, leading
/// and trailing whitespace trimmed, and a window of about [`EXCERPT_CHARS`] characters around
/// the focus (marked with `…` at a cut end) when the line is longer.
pub(crate) fn excerpt(line: &str, focus: usize, spans: &[(usize, usize)]) -> String {
    // Cut the window first, in the original line, so the focus is measured there; then redact
    // the spans, clipped to the window (a clipped secret is still cut to its first characters).
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let (mut from, mut to) = (0, line.len());
    if chars.len() > EXCERPT_CHARS {
        let focus_char = chars.iter().position(|&(byte, _)| byte >= focus).unwrap_or(chars.len());
        let first = focus_char.saturating_sub(EXCERPT_CHARS / 3);
        let last = (first + EXCERPT_CHARS).min(chars.len());
        from = chars[first].0;
        to = chars.get(last).map_or(line.len(), |&(byte, _)| byte);
    }
    let clipped: Vec<(usize, usize)> = spans
        .iter()
        .filter(|&&(start, end)| start < to && end > from)
        .map(|&(start, end)| (start.max(from) - from, end.min(to) - from))
        .collect();
    let mut text = redact_spans(&line[from..to], &clipped).trim().to_string();
    if from > 0 {
        text.insert(0, '…');
    }
    if to < line.len() {
        text.push('…');
    }
    text
}

/// Longest excerpt, in characters, before it is cut around the finding.
const EXCERPT_CHARS: usize = 200;

/// The advice every secret finding ends with.
const FIX: &str = "Rotate or revoke it, remove it from the file (and from the git history if it was committed) \
                   and read it at run time from the environment or a secret store. A deliberate test fixture \
                   can be marked with `wavecrew:allow-secret` on its line.";

/// `line` with each byte range in `spans` replaced by its first few characters and `…`.
/// Ranges must lie on character boundaries; overlapping ranges are merged.
fn redact_spans(line: &str, spans: &[(usize, usize)]) -> String {
    let mut spans: Vec<(usize, usize)> = spans.to_vec();
    spans.sort_unstable();
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (start, end) in spans {
        let start = start.max(at);
        if start >= end {
            continue;
        }
        out.push_str(&line[at..start]);
        let secret = &line[start..end];
        let count = secret.chars().count();
        let keep = if count >= 12 { 4 } else { count / 3 };
        out.extend(secret.chars().take(keep));
        out.push('…');
        at = end;
    }
    out.push_str(&line[at..]);
    out
}

/// What the file's name says about which rules apply.
#[derive(Clone, Copy)]
struct FileKind {
    /// Unquoted `KEY=value` / `key: value` assignments are literals here.
    bare_values: bool,
    /// The entropy rule runs (not a lockfile or generated asset).
    entropy: bool,
    /// The credential-assignment and entropy rules run (not an example file).
    assignments: bool,
}

impl FileKind {
    /// A file with no special name: quoted assignments and the entropy rule apply, bare
    /// values do not.
    const PLAIN: FileKind = FileKind { bare_values: false, entropy: true, assignments: true };

    fn of(path: &str) -> FileKind {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
        let extension = name.rsplit_once('.').map_or("", |(_, ext)| ext);
        let is_env = name == ".env" || name.starts_with(".env.") || name.ends_with(".env") || name == ".envrc";
        let bare_values = is_env
            || name == "dockerfile"
            || name == "containerfile"
            || matches!(extension, "sh" | "bash" | "zsh" | "ini" | "cfg" | "conf" | "properties" | "yaml" | "yml");
        let generated = extension == "lock"
            || matches!(name.as_str(), "package-lock.json" | "npm-shrinkwrap.json" | "pnpm-lock.yaml" | "go.sum")
            || name.ends_with(".min.js")
            || name.ends_with(".min.css")
            || matches!(extension, "map" | "svg");
        // `.env.example`, `config.sample.yaml`, `settings.py.dist`: a component of the name, so
        // that `email_template.py` is still an ordinary file.
        let example = name.split('.').any(|part| matches!(part, "example" | "sample" | "template" | "dist" | "tmpl"));
        FileKind { bare_values, entropy: !generated && !example, assignments: !example }
    }
}

/// A secret found on one line, before it becomes a [`Finding`].
struct Hit {
    rule: &'static str,
    /// Byte range of the secret in the line.
    start: usize,
    end: usize,
    /// First sentence of the message: what was found.
    what: &'static str,
    /// Whether the span is secret text to redact (a private key's BEGIN line is not).
    redact: bool,
    /// Whether the hit becomes a finding (an embedded key's material is only redacted: its
    /// header line is the finding).
    report: bool,
}

/// A token format that names its issuer.
struct KnownFormat {
    rule: &'static str,
    /// Matches the token; the named group `s` is the secret itself.
    pattern: Regex,
    what: &'static str,
    /// Extra test on the secret text that rules out documented examples and placeholders.
    plausible: fn(&str) -> bool,
}

fn known(rule: &'static str, pattern: &str, what: &'static str, plausible: fn(&str) -> bool) -> KnownFormat {
    KnownFormat { rule, pattern: Regex::new(pattern).expect("known-format pattern"), what, plausible }
}

static KNOWN_FORMATS: LazyLock<Vec<KnownFormat>> = LazyLock::new(|| {
    vec![
        known("aws-access-key", r"\b(?P<s>(?:AKIA|ASIA)[0-9A-Z]{16})\b", "AWS access key id.", plausible_token),
        known(
            "aws-secret-key",
            concat!(
                r#"(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)["']?\s*(?:=>|:=|=|:)\s*["']?"#,
                r"(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
            ),
            "AWS secret access key.",
            |s| plausible_token(s) && has_digit(s) && s.chars().any(|c| c.is_ascii_alphabetic()),
        ),
        known("github-token", r"\b(?P<s>gh[pousr]_[A-Za-z0-9]{30,255})\b", "GitHub token.", plausible_token),
        known(
            "github-token",
            r"\b(?P<s>github_pat_[A-Za-z0-9_]{40,255})\b",
            "GitHub fine-grained personal access token.",
            plausible_token,
        ),
        known("gitlab-token", r"\b(?P<s>glpat-[A-Za-z0-9_-]{20,})", "GitLab personal access token.", plausible_token),
        known("slack-token", r"\b(?P<s>xox[baprs]-[A-Za-z0-9-]{10,})", "Slack token.", |s| {
            plausible_token(s) && has_digit(s)
        }),
        known(
            "slack-webhook",
            r"(?P<s>https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,})",
            "Slack incoming-webhook URL (anyone holding it can post to the channel).",
            plausible_token,
        ),
        known("stripe-key", r"\b(?P<s>(?:sk|rk)_live_[A-Za-z0-9]{16,})", "Stripe live secret key.", plausible_token),
        known(
            "google-api-key",
            r"\b(?P<s>AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
            "Google API key.",
            plausible_token,
        ),
        known("anthropic-key", r"\b(?P<s>sk-ant-[A-Za-z0-9_-]{20,})", "Anthropic API key.", plausible_token),
        known("openai-key", r"\b(?P<s>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})", "OpenAI API key.", |s| {
            plausible_token(s)
                && !s.starts_with("sk-ant-")
                && has_digit(s)
                && s[3..].chars().any(|c| c.is_ascii_uppercase())
                && s[3..].chars().any(|c| c.is_ascii_lowercase())
        }),
        known(
            "jwt",
            r"\b(?P<s>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})",
            "JSON Web Token (a signed credential, often long-lived).",
            plausible_token,
        ),
        known(
            "bearer-token",
            r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9._~+/-]{20,}=*)",
            "Bearer token in an Authorization value.",
            |s| plausible_token(s) && shannon_entropy(s) > 3.5 && has_digit(s) && !is_placeholder(s),
        ),
        known(
            "credentials-in-url",
            r#"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'"]+:(?P<s>[^/\s@'"]+)@"#,
            "Password inside a URL (`scheme://user:password@host`).",
            |s| {
                let filler = ["password", "passwd", "pass", "pwd", "pw", "secret", "token"];
                !is_placeholder(s)
                    && !s.starts_with(['$', '{', '<', '%'])
                    && !filler.contains(&s.to_ascii_lowercase().as_str())
            },
        ),
    ]
});

/// A key whose name says its value is a credential, assigned a quoted literal.
static CREDENTIAL_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    // The key (maybe quoted), an optional type annotation (`: &str`), the operator, the value.
    let key = format!(r#"(?i)\b(?P<key>[a-z0-9_.-]*?{CREDENTIAL_WORDS})\b["']?\s*"#);
    let annotation = r"(?::\s*[&\w'<>\[\] ]{1,40}?\s*)?";
    let value = r#"(?:=>|:=|=|:)\s*(?:"(?P<dq>[^"\\]*(?:\\.[^"\\]*)*)"|'(?P<sq>[^'\\]*(?:\\.[^'\\]*)*)')"#;
    Regex::new(&format!("{key}{annotation}{value}")).expect("credential assignment pattern")
});

/// The same key with an unquoted value, in files where that is a literal (`.env`, YAML, …).
static CREDENTIAL_BARE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)^\s*(?:export\s+|ENV\s+)?(?P<key>[a-z0-9_.-]*?{CREDENTIAL_WORDS})\s*(?:=|:|\s)\s*(?P<v>[^\s"'#]+)\s*(?:#.*)?$"#
    ))
    .expect("bare credential pattern")
});

/// The endings of key names that hold credentials.
const CREDENTIAL_WORDS: &str = r"(?:password|passwd|passphrase|secret|secret[_-]?key|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|client[_-]?secret|credentials?)";

/// Candidates for the entropy rule: quoted literals without whitespace or escapes.
static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""(?P<dq>[^"\\\s]{20,})"|'(?P<sq>[^'\\\s]{20,})'|`(?P<bq>[^`\\\s]{20,})`"#).expect("quoted pattern")
});

/// Candidates for the entropy rule in files with bare values: `KEY=value`, `key: value`.
static BARE_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\s*(?:export\s+|ENV\s+)?[A-Za-z_][\w.-]*\s*[=:]\s*(?P<v>[^\s"'#]{20,})\s*$"#).expect("bare value")
});

/// Lines that talk about hashes, whose long hex or base64 values are digests, not secrets.
static HASH_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)sha(?:1|224|256|384|512)?\b|sha\d+-|\bmd5\b|hash|digest|checksum|integrity",
        r"|\bcommit\b|\brev(?:ision)?\b|etag|uuid|guid|fingerprint",
    ))
    .expect("hash context pattern")
});

static HEX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9a-fA-F]+$").expect("hex pattern"));
static BASE64ISH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Za-z0-9+/_-]+={0,2}$").expect("base64 pattern"));

/// The first line of a PEM private key.
static PRIVATE_KEY_BEGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----").expect("private key pattern")
});

/// Base64 key material, as on the line after a PEM header (or after a literal `\n` when the
/// key is embedded in a JSON string).
static KEY_MATERIAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:\\n)?(?:Proc-Type:|(?P<material>[A-Za-z0-9+/=]{16,}))").expect("key material pattern")
});

/// Every secret on `line`, each span claimed by at most one rule.
fn hits_on_line(kind: FileKind, line: &str, next_line: Option<&str>) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();

    for format in KNOWN_FORMATS.iter() {
        for caps in format.pattern.captures_iter(line) {
            let Some(secret) = caps.name("s") else { continue };
            if (format.plausible)(secret.as_str()) {
                let hit = Hit {
                    rule: format.rule,
                    start: secret.start(),
                    end: secret.end(),
                    what: format.what,
                    redact: true,
                    report: true,
                };
                claim(hit, &mut hits);
            }
        }
    }

    if let Some(begin) = PRIVATE_KEY_BEGIN.find(line) {
        let rest = &line[begin.end()..];
        let material_follows = KEY_MATERIAL.is_match(rest) || next_line.is_some_and(|next| KEY_MATERIAL.is_match(next));
        if material_follows {
            let hit = Hit {
                rule: "private-key",
                start: begin.start(),
                end: begin.end(),
                what: "Private key (PEM block).",
                redact: false,
                report: true,
            };
            claim(hit, &mut hits);
            // The key material itself, when it sits on this line (a JSON-embedded key), up to
            // the string's end.
            if let Some(material) = KEY_MATERIAL.captures(rest).and_then(|caps| caps.name("material")) {
                let start = begin.end() + material.start();
                let end = line[start..].find(['"', '\'', ' ', '\t']).map_or(line.len(), |len| start + len);
                hits.push(Hit { rule: "private-key", start, end, what: "", redact: true, report: false });
            }
        }
    }

    if kind.assignments {
        for caps in CREDENTIAL_ASSIGNMENT.captures_iter(line) {
            let (Some(key), Some(value)) = (caps.name("key"), caps.name("dq").or_else(|| caps.name("sq"))) else {
                continue;
            };
            if is_literal_credential(key.as_str(), value.as_str()) {
                let hit = Hit {
                    rule: "credential-assignment",
                    start: value.start(),
                    end: value.end(),
                    what: "Credential assigned as a literal.",
                    redact: true,
                    report: true,
                };
                claim(hit, &mut hits);
            }
        }
        if kind.bare_values
            && let Some(caps) = CREDENTIAL_BARE.captures(line)
            && let (Some(key), Some(value)) = (caps.name("key"), caps.name("v"))
            && !value.as_str().starts_with(['!', '*', '&', '|', '>', '{', '[', '('])
            && !matches!(
                value.as_str().to_ascii_lowercase().as_str(),
                "true" | "false" | "null" | "none" | "yes" | "no"
            )
            && is_literal_credential(key.as_str(), value.as_str())
        {
            let hit = Hit {
                rule: "credential-assignment",
                start: value.start(),
                end: value.end(),
                what: "Credential assigned as a literal.",
                redact: true,
                report: true,
            };
            claim(hit, &mut hits);
        }
    }

    if kind.entropy && kind.assignments && !HASH_CONTEXT.is_match(line) {
        let quoted = QUOTED
            .captures_iter(line)
            .filter_map(|caps| caps.name("dq").or_else(|| caps.name("sq")).or_else(|| caps.name("bq")));
        let bare = if kind.bare_values { BARE_VALUE.captures(line).and_then(|caps| caps.name("v")) } else { None };
        for candidate in quoted.chain(bare) {
            if looks_random(candidate.as_str()) {
                let hit = Hit {
                    rule: "high-entropy-string",
                    start: candidate.start(),
                    end: candidate.end(),
                    what: "High-entropy string that looks like a key or token.",
                    redact: true,
                    report: true,
                };
                claim(hit, &mut hits);
            }
        }
    }
    hits
}

/// Adds `hit` unless an earlier rule already claimed part of its span.
fn claim(hit: Hit, hits: &mut Vec<Hit>) {
    if !hits.iter().any(|other| hit.start < other.end && other.start < hit.end) {
        hits.push(hit);
    }
}

/// Whether a known-format token is a real-looking token, not a documented example or filler.
fn plausible_token(token: &str) -> bool {
    !token.to_ascii_lowercase().contains("example") && shannon_entropy(token) >= 3.0
}

fn has_digit(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
}

/// Whether `value`, assigned to `key`, is a literal credential rather than a placeholder,
/// a reference to somewhere else, or a label (see the module docs, rule 2).
fn is_literal_credential(key: &str, value: &str) -> bool {
    if is_placeholder(value) || value.chars().any(char::is_whitespace) {
        return false;
    }
    // `"password": "Password"`: a label, not a value.
    let key_word = key.rsplit(['_', '-', '.']).next().unwrap_or(key);
    if value.eq_ignore_ascii_case(key_word) || value.eq_ignore_ascii_case(key) {
        return false;
    }
    // `password = "DB_PASSWORD"`: the name of an environment variable.
    if value.contains('_') && value.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
        return false;
    }
    // Paths and URLs: where the secret lives, not the secret.
    let lower = value.to_ascii_lowercase();
    if lower.starts_with(['/', '~', '.']) || lower.contains("://") || lower.starts_with("file:") {
        return false;
    }
    // `USE_CREDENTIALS = "use-credentials"`, `TOKEN_HEADER = "x-auth-token"`: names, not values.
    let names_itself = ["password", "passwd", "passphrase", "secret", "token", "credential"]
        .iter()
        .any(|word| lower.contains(word) && key.to_ascii_lowercase().contains(word));
    // `id-token: write` (GitHub Actions permissions), `password: required`.
    const SETTINGS: &[&str] = &[
        "read",
        "write",
        "none",
        "null",
        "nil",
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "required",
        "optional",
        "enabled",
        "disabled",
        "auto",
        "default",
        "hidden",
        "string",
        "bytes",
        "include",
        "omit",
        "same-origin",
    ];
    !names_itself && !SETTINGS.contains(&lower.as_str())
}

/// Whether `value` is obviously not a real secret: too short, a template or variable
/// reference, filler like `changeme` or `xxxx`.
fn is_placeholder(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "changeme",
        "change_me",
        "change-me",
        "example",
        "placeholder",
        "your",
        "dummy",
        "redacted",
        "sample",
        "fake",
        "test",
        "xxx",
        "***",
        "...",
        "todo",
        "replace",
        "_here",
        "-here",
        "${",
        "{{",
        "%(",
        "#{",
    ];
    let value = value.trim();
    let mut chars = value.chars();
    let Some(first) = chars.next() else { return true };
    if value.chars().count() < 4 || chars.all(|c| c == first) {
        return true;
    }
    if value.starts_with(['$', '<', '%']) || (value.starts_with('{') && value.ends_with('}')) {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    WORDS.iter().any(|word| lower.contains(word))
}

/// The entropy rule's test on one candidate (see the module docs, rule 3).
fn looks_random(candidate: &str) -> bool {
    let len = candidate.chars().count();
    if len > 256 || !has_digit(candidate) || !candidate.chars().any(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    if is_placeholder(candidate) {
        return false;
    }
    if HEX.is_match(candidate) {
        return len >= 32 && len != 40 && len != 64 && shannon_entropy(candidate) > 3.0;
    }
    if !BASE64ISH.is_match(candidate) {
        return false;
    }
    let body = candidate.trim_end_matches('=');
    let len = body.chars().count();
    if len < 20 || body.starts_with("sha") && body.contains('-') {
        return false;
    }
    // Random base64 mixes both cases; single-case strings with digits are names such as
    // `x86_64-unknown-linux-gnu` or `sqlite3_create_function_v2`.
    let mixed_case = body.chars().any(|c| c.is_ascii_uppercase()) && body.chars().any(|c| c.is_ascii_lowercase());
    let threshold = 4.0_f64.min((len as f64).log2() - 0.7);
    mixed_case && shannon_entropy(body) > threshold && !looks_like_words(body) && !has_alphabet_run(body)
}

/// Whether `text` holds four consecutive characters in order (`abcd`, `0123`, `WXYZ`): a
/// character set written out (`"ABCDEFabcdef0123456789"`), not a random string.
fn has_alphabet_run(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(4).any(|w| w.windows(2).all(|pair| (pair[0] as u32) + 1 == pair[1] as u32))
}

/// Whether `text` reads as words (an identifier or a path) rather than random characters:
/// its letter runs, split at case changes (`handleUser` is `handle`, `User`), average 3 or
/// more letters and at least 30 % of its letters are vowels.
fn looks_like_words(text: &str) -> bool {
    let mut runs = 0usize;
    let mut letters = 0usize;
    let mut vowels = 0usize;
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if c.is_ascii_alphabetic() {
            let starts_run = match previous {
                Some(p) if p.is_ascii_alphabetic() => p.is_ascii_lowercase() && c.is_ascii_uppercase(),
                _ => true,
            };
            if starts_run {
                runs += 1;
            }
            letters += 1;
            if matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u') {
                vowels += 1;
            }
        }
        previous = Some(c);
    }
    runs > 0 && letters >= 3 * runs && vowels * 10 >= letters * 3
}

//! The end of a run: the plan's must_haves checked on the finished run branch.
//!
//! - **artifacts**: each path exists, is substantive (not empty, not a stub) and is wired
//!   (another file of the repository refers to it; a test file is wired when it refers to the
//!   code it tests). Verdicts `VERIFIED`, `STUB`, `ORPHANED`, `MISSING`, each with evidence.
//! - **key_links**: the paths or components a link names exist and refer to each other, one
//!   after the other as the link reads; else `NOT_WIRED`.
//! - **truths**: observable outcomes need a person (or a verifier that proves them with
//!   evidence wavecrew can re-run): they become `MANUAL` items.
//!
//! The plan's Verification / Automated commands are run by [`crate::run`] in the same worktree.

use crate::events::MustHaveVerdict;
use evidence::artifacts::Substance;
use std::path::Path;

/// Files smaller than this (without whitespace and comments) are stubs.
const MIN_BYTES: usize = 24;
/// Text files larger than this are not read when looking for references.
const MAX_READ: u64 = 1 << 20;

/// The repository's tracked text files at the worktree's commit, as (path, text).
pub fn tracked_texts(worktree: &Path, paths: &[String]) -> Vec<(String, String)> {
    paths
        .iter()
        .filter_map(|path| {
            let full = worktree.join(path);
            let metadata = std::fs::metadata(&full).ok()?;
            if !metadata.is_file() || metadata.len() > MAX_READ {
                return None;
            }
            let bytes = std::fs::read(&full).ok()?;
            (!bytes.contains(&0)).then(|| (path.clone(), String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect()
}

/// Verdicts for the plan's must_haves. `files` are the repository's tracked text files; `plan_path`
/// (the plan itself, which names every artifact) never counts as a reference.
pub fn must_haves(
    worktree: &Path,
    must_haves: &plan::MustHaves,
    files: &[(String, String)],
    plan_path: Option<&str>,
) -> Vec<MustHaveVerdict> {
    // The plan names every artifact, and wavecrew's own files (`.wavecrew/`) are not the
    // project's: neither counts as a reference.
    let referrers: Vec<&(String, String)> =
        files.iter().filter(|(path, _)| Some(path.as_str()) != plan_path && !path.starts_with(".wavecrew/")).collect();
    let mut verdicts = Vec::new();
    for artifact in &must_haves.artifacts {
        let Some(path) = &artifact.path else {
            verdicts.push(verdict("artifact", &artifact.text, "MANUAL", "no backticked path: a person checks it"));
            continue;
        };
        verdicts.push(artifact_verdict(worktree, path, &referrers));
    }
    for link in &must_haves.key_links {
        verdicts.push(key_link_verdict(worktree, link, &referrers));
    }
    for truth in &must_haves.truths {
        verdicts.push(verdict("truth", &truth.value, "MANUAL", "an observable outcome: a person confirms it"));
    }
    verdicts
}

fn verdict(kind: &str, item: &str, verdict: &str, evidence: impl Into<String>) -> MustHaveVerdict {
    MustHaveVerdict {
        kind: kind.to_owned(),
        item: item.to_owned(),
        verdict: verdict.to_owned(),
        evidence: evidence.into(),
    }
}

/// Whether `path` is a test by the usual conventions (`tests/`, `test_*.py`, `*_test.go`,
/// `*.test.ts`, `*.spec.js`…).
pub fn is_test_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.starts_with("tests/")
        || path.contains("/tests/")
        || path.starts_with("test/")
        || name.starts_with("test_")
        || name.ends_with("_test.go")
        || name.ends_with("_test.py")
        || [".test.", ".spec."].iter().any(|marker| name.contains(marker))
}

/// Files that run by convention rather than by being referred to, and what runs them.
fn entry_point(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    Some(match name {
        "__main__.py" => "`python -m` runs it",
        "main.rs" | "lib.rs" | "build.rs" => "cargo builds it",
        "main.go" => "`go build` starts there",
        "conftest.py" => "pytest loads it",
        "Makefile" | "Dockerfile" | "justfile" => "its tool reads it",
        _ if path.starts_with("src/bin/") && name.ends_with(".rs") => "cargo builds it as a binary",
        _ if path.starts_with("bin/") || path.starts_with(".github/workflows/") => "run as it is",
        _ => return None,
    })
}

fn artifact_verdict(worktree: &Path, path: &str, referrers: &[&(String, String)]) -> MustHaveVerdict {
    let full = worktree.join(path);
    if full.is_dir() {
        return verdict("artifact", path, "VERIFIED", "a folder that exists");
    }
    let Ok(bytes) = std::fs::read(&full) else {
        return verdict("artifact", path, "MISSING", format!("`{path}` is not on the run branch"));
    };
    let text = String::from_utf8_lossy(&bytes);
    match evidence::artifacts::substance(path, &text, MIN_BYTES) {
        Substance::Empty => return verdict("artifact", path, "STUB", "the file is empty"),
        Substance::Stub { reason, line } => {
            let place = line.map(|l| format!("{path}:{l}: ")).unwrap_or_default();
            return verdict("artifact", path, "STUB", format!("{place}{reason}"));
        }
        Substance::Substantive => {}
    }
    // Wired: some other file refers to it, or (for a test) it refers to the code it tests.
    let referred_by = referrers.iter().filter(|(other, _)| other != path).find_map(|(other, other_text)| {
        evidence::artifacts::references(other, other_text, path).map(|line| format!("{other}:{line}"))
    });
    if let Some(place) = referred_by {
        return verdict("artifact", path, "VERIFIED", format!("substantive, referenced at {place}"));
    }
    if let Some(how) = entry_point(path) {
        return verdict("artifact", path, "VERIFIED", format!("substantive, an entry point ({how})"));
    }
    if is_test_file(path) {
        let tests = referrers
            .iter()
            .filter(|(other, _)| other != path)
            .find_map(|(other, _)| evidence::artifacts::references(path, &text, other).map(|line| (other, line)));
        if let Some((other, line)) = tests {
            return verdict("artifact", path, "VERIFIED", format!("a test of {other} (referenced at {path}:{line})"));
        }
    }
    verdict(
        "artifact",
        path,
        "ORPHANED",
        format!("substantive, but no other file of the repository refers to `{path}`"),
    )
}

fn key_link_verdict(worktree: &Path, link: &plan::KeyLink, referrers: &[&(String, String)]) -> MustHaveVerdict {
    let names = &link.references;
    if names.len() < 2 {
        return verdict("key_link", &link.text, "MANUAL", "fewer than two backticked paths or components to connect");
    }
    let is_path = |name: &str| name.contains('/') || name.contains('.');
    for name in names.iter().filter(|n| is_path(n)) {
        if !worktree.join(name).exists() {
            return verdict("key_link", &link.text, "NOT_WIRED", format!("`{name}` does not exist"));
        }
    }
    let text_of = |path: &str| referrers.iter().find(|(p, _)| p == path).map(|(_, t)| t.as_str());
    // Where `from` refers to `to`: an import of a path, or a component named in a file.
    let refers = |from: &str, to: &str| -> Option<String> {
        match (is_path(from), is_path(to)) {
            (true, true) => {
                text_of(from).and_then(|t| evidence::artifacts::references(from, t, to)).map(|l| format!("{from}:{l}"))
            }
            (true, false) => {
                text_of(from).and_then(|t| evidence::artifacts::stem_mentions(t, to)).map(|l| format!("{from}:{l}"))
            }
            (false, _) => None,
        }
    };
    // The link holds when its items are connected by references, in either direction: a
    // tokenizer that "feeds" a counter may do so through the module that imports both.
    let mut group: Vec<usize> = (0..names.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            i = group[i];
        }
        i
    }
    let mut evidence = Vec::new();
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            let (a, b) = (&names[i], &names[j]);
            let place = refers(a, b).or_else(|| refers(b, a)).or_else(|| {
                // Two components: some file names both.
                (!is_path(a) && !is_path(b)).then_some(())?;
                referrers.iter().find_map(|(path, text)| {
                    let line = evidence::artifacts::stem_mentions(text, a)?;
                    evidence::artifacts::stem_mentions(text, b)?;
                    Some(format!("{path}:{line}"))
                })
            });
            if let Some(place) = place {
                evidence.push(format!("`{a}` ↔ `{b}` at {place}"));
                let (ra, rb) = (root(&mut group, i), root(&mut group, j));
                group[ra] = rb;
            }
        }
    }
    let first = root(&mut group, 0);
    if let Some(apart) = (1..names.len()).find(|&i| root(&mut group, i) != first) {
        return verdict(
            "key_link",
            &link.text,
            "NOT_WIRED",
            format!("nothing connects `{}` with `{}`", names[apart], names[0]),
        );
    }
    verdict("key_link", &link.text, "VERIFIED", evidence.join("; "))
}

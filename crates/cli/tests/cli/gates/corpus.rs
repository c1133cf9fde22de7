//! The wiring corpus: small real-stack projects before and after a milestone, each run through
//! `wavecrew run` with the scripted agent (a test double) writing the milestone's files, and the
//! must_haves verdicts compared with what a careful engineer says (`expected.toml`).
//!
//! Cases live in `tests/fixtures/wiring/<case>/` (see the README there): `plan.md`,
//! `expected.toml`, `after/` (what the milestone writes) and `before/` (the project it starts
//! from), or `base = "<name>"` in `expected.toml` for a project shared by several cases
//! (`tests/fixtures/wiring/bases/<name>/`), with `before/` laid over it.
//!
//! The test prints precision and recall per verdict and fails listing every wrong verdict.

use crate::common::{git, test_state_home, wavecrew_bin};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The verdicts the corpus measures, as wavecrew writes them (truths are left to a person or a
/// verifier, not judged here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Verdict {
    Verified,
    Stub,
    Orphaned,
    Missing,
    NotWired,
}

impl Verdict {
    const ALL: [Verdict; 5] =
        [Verdict::Verified, Verdict::Stub, Verdict::Orphaned, Verdict::Missing, Verdict::NotWired];

    fn name(self) -> &'static str {
        match self {
            Verdict::Verified => "VERIFIED",
            Verdict::Stub => "STUB",
            Verdict::Orphaned => "ORPHANED",
            Verdict::Missing => "MISSING",
            Verdict::NotWired => "NOT_WIRED",
        }
    }
}

/// What a must_have is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Artifact,
    KeyLink,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Artifact => "artifact",
            Kind::KeyLink => "key_link",
        }
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wiring")
}

/// A case's `expected.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    /// A shared project under `bases/`, copied before the case's own `before/`.
    base: Option<String>,
    /// One entry per artifact and key_link of the plan.
    verdict: Vec<ExpectedVerdict>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedVerdict {
    kind: Kind,
    /// The artifact's path, or the key_link as the plan writes it.
    item: String,
    verdict: Verdict,
    /// Why, as a careful engineer says it.
    why: String,
}

/// One verdict of one case: what the engineer says and what wavecrew said.
struct Judged {
    case: String,
    kind: Kind,
    item: String,
    expected: Verdict,
    why: String,
    /// As wavecrew wrote it (`(not judged)` when it said nothing about the item).
    got: String,
    evidence: String,
}

impl Judged {
    fn right(&self) -> bool {
        self.got == self.expected.name()
    }
}

/// What running one case gave: its verdicts, or why it could not be judged at all.
type CaseResult = Result<Vec<Judged>, String>;

/// Every file under `dir`, as (path relative to `dir` with `/`, absolute path), sorted.
fn files_under(dir: &Path) -> Vec<(String, PathBuf)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.push((relative, path));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for (relative, path) in files_under(from) {
        let target = to.join(&relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&path, &target).unwrap();
    }
}

/// The plan's tasks and the backticked paths of their `Files`, in order.
fn task_files(plan: &str) -> Vec<(String, Vec<String>)> {
    let mut tasks: Vec<(String, Vec<String>)> = Vec::new();
    for line in plan.lines() {
        if let Some(rest) = line.strip_prefix("**Task ") {
            let id: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
            tasks.push((id, Vec::new()));
        } else if let Some(files) = line.trim_start().strip_prefix("- **Files**:")
            && let Some((_, paths)) = tasks.last_mut()
        {
            paths.extend(files.split('`').skip(1).step_by(2).map(str::to_owned));
        }
    }
    tasks
}

/// The scripted agent's script: each file of `after/` written by the task whose Files list it.
fn script(case: &Path, plan: &str) -> Result<Value, String> {
    let tasks = task_files(plan);
    let mut steps: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (relative, path) in files_under(&case.join("after")) {
        let Some((task, _)) = tasks.iter().find(|(_, files)| files.contains(&relative)) else {
            return Err(format!("after/{relative} is in no task's Files of plan.md"));
        };
        let content = std::fs::read_to_string(&path).map_err(|e| format!("after/{relative}: {e}"))?;
        steps.entry(task.clone()).or_default().push(json!({"write": relative, "content": content}));
    }
    if let Some((task, _)) = tasks.iter().find(|(task, _)| !steps.contains_key(task)) {
        return Err(format!("task {task} writes nothing: give it a file in after/"));
    }
    let tasks: serde_json::Map<String, Value> = steps.into_iter().map(|(task, steps)| (task, json!([steps]))).collect();
    Ok(json!({ "tasks": tasks }))
}

/// Builds the case's repository, runs its plan, and pairs each expected verdict with wavecrew's.
fn run_case(case: &Path) -> CaseResult {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let read = |file: &str| std::fs::read_to_string(case.join(file)).map_err(|e| format!("{file}: {e}"));
    let expected: Expected = toml::from_str(&read("expected.toml")?).map_err(|e| format!("expected.toml: {e}"))?;
    let plan = read("plan.md")?;
    let script = script(case, &plan)?;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    if let Some(base) = &expected.base {
        let base = corpus_dir().join("bases").join(base);
        if !base.is_dir() {
            return Err(format!("no base project {}", base.display()));
        }
        copy_tree(&base, root);
    }
    copy_tree(&case.join("before"), root);
    git(root, &["init", "--quiet", "--initial-branch=main"]);
    git(root, &["config", "user.name", "Test"]);
    git(root, &["config", "user.email", "test@example.com"]);
    git(root, &["add", "."]);
    git(root, &["commit", "--quiet", "-m", "before the milestone"]);
    std::fs::write(root.join("plan.md"), &plan).unwrap();
    std::fs::write(root.join("script.json"), script.to_string()).unwrap();

    let output = Command::new(wavecrew_bin())
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", root.join(".no-config"))
        .env("XDG_STATE_HOME", test_state_home())
        .args(["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let verified = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|event| event["event"] == "run_verified")
        .ok_or_else(|| {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
            format!("the run never verified its must_haves:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
        })?;
    let got: Vec<&Value> = verified["must_haves"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["kind"] == "artifact" || m["kind"] == "key_link")
        .collect();
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let same_item = |a: &str, b: &str| a.split_whitespace().eq(b.split_whitespace());

    let mut judged = Vec::new();
    for want in &expected.verdict {
        let found = got.iter().find(|m| m["kind"] == want.kind.name() && same_item(&text(&m["item"]), &want.item));
        judged.push(Judged {
            case: name.clone(),
            kind: want.kind,
            item: want.item.clone(),
            expected: want.verdict,
            why: want.why.clone(),
            got: found.map_or_else(|| "(not judged)".to_owned(), |m| text(&m["verdict"])),
            evidence: found.map(|m| text(&m["evidence"])).unwrap_or_default(),
        });
    }
    let unexpected: Vec<String> = got
        .iter()
        .filter(|m| {
            !expected.verdict.iter().any(|w| m["kind"] == w.kind.name() && same_item(&text(&m["item"]), &w.item))
        })
        .map(|m| format!("{} `{}`", text(&m["kind"]), text(&m["item"])))
        .collect();
    if !unexpected.is_empty() {
        return Err(format!("must_haves missing from expected.toml: {}", unexpected.join(", ")));
    }
    // A milestone whose must_haves all hold passes its run.
    let all_verified = judged.iter().all(|j| j.expected == Verdict::Verified && j.right());
    if all_verified && !output.status.success() {
        return Err(format!(
            "every must_have is VERIFIED but the run exited {:?} (verdict {})",
            output.status.code(),
            verified["verdict"]
        ));
    }
    Ok(judged)
}

/// Precision and recall per verdict, as a table.
fn table(judged: &[Judged]) -> String {
    let percent = |part: usize, whole: usize| {
        if whole == 0 { "    -".to_owned() } else { format!("{:4.0}%", 100.0 * part as f64 / whole as f64) }
    };
    let mut out = format!(
        "{:<10} {:>8} {:>6} {:>6} {:>10} {:>7}\n",
        "verdict", "expected", "given", "right", "precision", "recall"
    );
    for verdict in Verdict::ALL {
        let expected = judged.iter().filter(|j| j.expected == verdict).count();
        let given = judged.iter().filter(|j| j.got == verdict.name()).count();
        let right = judged.iter().filter(|j| j.expected == verdict && j.right()).count();
        let verdict = verdict.name();
        out.push_str(&format!(
            "{verdict:<10} {expected:>8} {given:>6} {right:>6} {:>10} {:>7}\n",
            percent(right, given),
            percent(right, expected)
        ));
    }
    let right = judged.iter().filter(|j| j.right()).count();
    out.push_str(&format!(
        "all        {:>8} {:>6} {right:>6} {:>10}\n",
        judged.len(),
        judged.len(),
        percent(right, judged.len())
    ));
    // Right verdicts per stack, the part of a case's name before its first `-`.
    let mut stacks: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for j in judged {
        let stack = stacks.entry(j.case.split('-').next().unwrap_or(&j.case)).or_default();
        stack.0 += usize::from(j.right());
        stack.1 += 1;
    }
    let stacks: Vec<String> = stacks.iter().map(|(stack, (right, all))| format!("{stack} {right}/{all}")).collect();
    out.push_str(&format!("\nright per stack: {}\n", stacks.join(", ")));
    out
}

#[test]
fn every_verdict_of_the_wiring_corpus_is_what_a_careful_engineer_says() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.join("expected.toml").is_file())
        .collect();
    cases.sort();
    // A filter for working on a few cases: WAVECREW_CORPUS=sveltekit
    if let Ok(filter) = std::env::var("WAVECREW_CORPUS") {
        cases.retain(|case| case.file_name().unwrap().to_string_lossy().contains(&filter));
    }
    assert!(!cases.is_empty(), "no case in {}", corpus_dir().display());

    // The runs mostly wait on git and child processes: a few more threads than cores.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(String, CaseResult)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.min(cases.len()) {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let name = case.file_name().unwrap().to_string_lossy().into_owned();
                    let result = run_case(case);
                    results.lock().unwrap().push((name, result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));

    let mut judged = Vec::new();
    let mut broken = Vec::new();
    for (name, result) in results {
        match result {
            Ok(verdicts) => judged.extend(verdicts),
            Err(why) => broken.push(format!("{name}: {why}")),
        }
    }
    let negatives = judged.iter().filter(|j| j.expected != Verdict::Verified).count();
    println!(
        "wiring corpus: {} cases, {} verdicts ({} negative, {:.0}%)\n\n{}",
        cases.len(),
        judged.len(),
        negatives,
        100.0 * negatives as f64 / judged.len().max(1) as f64,
        table(&judged)
    );
    let wrong: Vec<String> = judged
        .iter()
        .filter(|j| !j.right())
        .map(|j| {
            format!(
                "{}: {} `{}`: {} expected ({}), got {}: {}",
                j.case,
                j.kind.name(),
                j.item,
                j.expected.name(),
                j.why,
                j.got,
                j.evidence
            )
        })
        .collect();
    for line in broken.iter().chain(&wrong) {
        println!("WRONG {line}");
    }
    assert!(
        broken.is_empty() && wrong.is_empty(),
        "{} wrong verdicts and {} cases that could not be judged (listed above)",
        wrong.len(),
        broken.len()
    );
}

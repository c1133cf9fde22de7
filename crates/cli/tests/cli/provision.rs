//! Lane worktrees get the project's ignored files and dependencies: `.worktreeinclude`, lockfile
//! detection, the setup command, and secrets that never enter a commit. The real binary, real
//! git, real npm and Python, and the scripted agent (a test double).

use crate::common::{Repo, git, stderr, wavecrew, write};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

fn sh(dir: &Path, script: &str) {
    let output = Command::new("sh").current_dir(dir).arg("-c").arg(script).output().unwrap();
    assert!(output.status.success(), "{script}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A repository with `files`, then a one-task-per-wave plan with `verify` commands and the
/// scripted agent's `script`, committed together.
fn repo(files: &[(&str, &str)], tasks: &[(&str, &str)], script: &Value) -> Repo {
    let mut plan = String::from(
        "# M1 Implementation Plan: Provisioning\n\n## Waves\n\n### Wave 1: One lane\n> No dependencies. Tasks run sequentially.\n\n",
    );
    let mut rows = String::new();
    for (id, verify) in tasks {
        plan.push_str(&format!("**Task {id}** (type: auto)\n- **Files**: `out-{id}.txt`\n- **Action**: Do {id}\n- **Verify**: {verify}\n- **Done**: ok\n\n"));
        rows.push_str(&format!("{id}, "));
    }
    plan.push_str(&format!(
        "## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n| 1 | Solo | haiku | {} |\n",
        rows.trim_end_matches(", ")
    ));
    Repo::builder().files(files).plan(&plan).script(script).commit("initial").wavecrew(wavecrew()).build()
}

/// A node project with a local `file:` dependency, installed in the main tree, and a `.env`.
fn node_project() -> Repo {
    let verify = "`node -e \"if (require('dep') !== 42) process.exit(1); require('fs').readFileSync('.env')\"`";
    let dir = repo(
        &[
            ("dep/package.json", r#"{"name":"dep","version":"1.0.0","main":"index.js"}"#),
            ("dep/index.js", "module.exports = 42;\n"),
            ("package.json", r#"{"name":"app","version":"1.0.0","dependencies":{"dep":"file:./dep"}}"#),
            (".gitignore", "node_modules/\n.env\n"),
            (".worktreeinclude", ".env\n"),
        ],
        &[("1.1", verify)],
        &json!({"tasks": {"1.1": [[write("out-1.1.txt", "done\n")]]}}),
    );
    sh(dir.root(), "npm install --offline --no-audit --no-fund --loglevel=error");
    git(dir.root(), &["add", "package-lock.json"]);
    git(dir.root(), &["commit", "--quiet", "-m", "lockfile"]);
    std::fs::write(dir.root().join(".env"), "SECRET=hunter2\n").unwrap();
    dir
}

#[test]
fn a_node_lane_has_its_dependencies_and_env_and_passes_on_the_first_attempt() {
    let dir = node_project();
    let output = dir.run(&["--attempts", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    let modules = file_bytes(&dir.root().join("node_modules"));
    let brought = format!("lane Solo: brought 3 ignored files (.env 15 B, node_modules/ {modules} B) by ");
    assert!(err.contains(&brought), "{err}");
    let written = if err.contains(&format!("{brought}copy")) { 15 + modules } else { 0 };
    assert!(err.contains(&format!(", {written} B written")), "{err}");
    let tree = git(dir.root(), &["ls-tree", "-r", "--name-only", "wavecrew/M1"]);
    assert!(!tree.contains(".env") && !tree.contains("node_modules"), "nothing brought in is committed: {tree}");
    assert_eq!(std::fs::read_to_string(dir.root().join(".env")).unwrap(), "SECRET=hunter2\n");
}

#[test]
fn without_node_modules_the_failure_names_the_missing_setup() {
    let dir = node_project();
    std::fs::remove_dir_all(dir.root().join("node_modules")).unwrap();
    let output = dir.run(&["--attempts", "1"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("note: package-lock.json is here but node_modules/ is not"), "{err}");
    let status = dir.command(&["report", "--json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&status.stdout).unwrap();
    let reason = report["tasks"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("hint: this lane's worktree has no node_modules/") && reason.contains("setup = \"npm ci\""),
        "{reason}"
    );
}

#[test]
fn a_python_lane_gets_its_venv() {
    let dir = repo(
        &[(".gitignore", ".venv/\n"), (".worktreeinclude", ".venv/\n")],
        &[("1.1", "`.venv/bin/python -c \"import sys; assert sys.prefix != sys.base_prefix\"`")],
        &json!({"tasks": {"1.1": [[write("out-1.1.txt", "done\n")]]}}),
    );
    sh(dir.root(), "python3 -m venv --without-pip .venv");
    let output = dir.run(&["--attempts", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_failing_setup_fails_the_lane_before_any_agent_starts() {
    let dir = repo(
        &[("wavecrew.toml", "[worktree]\nsetup = \"echo cannot install; exit 3\"\n")],
        &[("1.1", "`true`")],
        &json!({"tasks": {"1.1": [[write("out-1.1.txt", "done\n")]]}}),
    );
    let output = dir.run(&["--attempts", "1"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("setup `echo cannot install; exit 3` exited with code 3 in lane Solo, so no agent was started"),
        "{err}"
    );
    let logs = dir.root().join(".git/wavecrew/runs");
    let run_dir = std::fs::read_dir(&logs).unwrap().next().unwrap().unwrap().path();
    assert!(!run_dir.join("logs/1.1-1-agent.log").exists(), "no agent ran");
    let setup_log = std::fs::read_dir(run_dir.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("setup"))
        .unwrap();
    assert_eq!(std::fs::read_to_string(setup_log).unwrap(), "cannot install\n");
}

#[test]
fn setup_runs_again_only_when_its_lockfile_changed() {
    let counter = tempfile::tempdir().unwrap();
    let count = counter.path().join("count");
    let config = format!("[worktree]\nsetup = \"echo ran >> {}\"\nsetup_inputs = [\"deps.lock\"]\n", count.display());
    let dir = repo(
        &[("wavecrew.toml", config.as_str()), ("deps.lock", "v1\n")],
        &[("1.1", "`true`"), ("1.2", "`true`"), ("1.3", "`true`")],
        &json!({"tasks": {
            "1.1": [[write("out-1.1.txt", "x\n")]],
            "1.2": [[write("deps.lock", "v2\n"), write("out-1.2.txt", "x\n")]],
            "1.3": [[write("out-1.3.txt", "x\n")]],
        }}),
    );
    let output = dir.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    // 1.1: a new worktree; 1.2: same lockfile, no setup; 1.3: the lockfile changed in 1.2.
    assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 2);
}

#[test]
fn secrets_brought_in_are_never_committed_even_if_a_task_unignores_them() {
    let dir = repo(
        &[(".gitignore", ".env\n"), (".worktreeinclude", ".env\n")],
        &[("1.1", "`grep -q SECRET .env`")],
        &json!({"tasks": {"1.1": [[write(".gitignore", "# nothing ignored any more\n"), write("out-1.1.txt", "x\n")]]}}),
    );
    std::fs::write(dir.root().join(".env"), "SECRET=hunter2\n").unwrap();
    let output = dir.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tree = git(dir.root(), &["ls-tree", "-r", "--name-only", "wavecrew/M1"]);
    assert!(tree.contains("out-1.1.txt") && !tree.contains(".env"), "{tree}");
}

fn dry_run(repo: &Repo) -> String {
    let output = repo.command(&["run", "plan.md", "--dry-run"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether the dry run found that worktrees get clones (btrfs, xfs): nothing is copied then.
fn clones(dry_run: &str) -> bool {
    dry_run.contains("the filesystem clones files (reflink)")
}

#[test]
fn dry_run_says_what_each_lane_gets_in_bytes_and_how() {
    let dir = node_project();
    let text = dry_run(&dir);
    let lines: Vec<&str> = text.lines().skip_while(|l| *l != "Each lane's worktree gets:").collect();
    let method = if clones(&text) { "reflink" } else { "copy" };
    // `.env` is 15 bytes.
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), [".env", "15", "B", "1", "file", method], "{text}");
    // node_modules/ holds npm's `.package-lock.json` and a symlink to the `file:` dependency,
    // which costs nothing.
    let modules = file_bytes(&dir.root().join("node_modules"));
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["node_modules/", &modules.to_string(), "B", "2", "files", method],
        "{text}"
    );
    let (written, how) = if method == "copy" {
        (15 + modules, "no reflink on this filesystem")
    } else {
        (0, "the filesystem clones files (reflink)")
    };
    let total = format!("  = {written} B written into each worktree ({how}); 1 worktree at most: {written} B");
    assert_eq!(lines[3], total, "{text}");
}

/// The bytes of the regular files under `dir` (symlinks are not followed).
fn file_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                file_bytes(&entry.path())
            } else if meta.is_file() {
                meta.len()
            } else {
                0
            }
        })
        .sum()
}

#[test]
fn above_max_copy_bytes_a_run_without_a_terminal_refuses_and_names_the_setting() {
    let dir = node_project();
    std::fs::write(dir.root().join("wavecrew.toml"), "[worktree]\nmax_copy_bytes = 10\n").unwrap();
    if clones(&dry_run(&dir)) {
        eprintln!("skipped: this filesystem clones files, so nothing would be copied");
        return;
    }
    assert!(dry_run(&dir).contains("above `max_copy_bytes` (10 B) under [worktree]"));
    let output = dir.run(&[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    let modules = file_bytes(&dir.root().join("node_modules"));
    let copies = format!("would get {} B of copies (.env 15 B, node_modules/ {modules} B)", 15 + modules);
    assert!(err.contains(&format!("error: each lane's worktree {copies}")), "{err}");
    assert!(err.contains("above `max_copy_bytes` (10 B) under [worktree] in wavecrew.toml"), "{err}");
    assert!(err.contains("hint: raise `max_copy_bytes`"), "{err}");
    assert!(!dir.root().join(".git/wavecrew/runs").exists(), "no run started");
}

/// The agent log of `task`'s first attempt in the repository's only run.
fn agent_log(repo: &Repo, task: &str) -> String {
    repo.run_file("logs", &format!("{task}-1-agent.log"))
}

#[test]
fn a_cargo_lane_builds_in_its_own_target_dir_kept_warm_across_its_tasks() {
    let print_dir = json!({"env": "CARGO_TARGET_DIR"});
    let dir = repo(
        &[
            ("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
            ("src/main.rs", "fn main() {}\n"),
            (".gitignore", "/target\n"),
        ],
        &[
            // The lane's first task builds; `target/debug/app` in the worktree is what it built.
            (
                "1.1",
                "`cargo build --quiet --offline && test -x \"$CARGO_TARGET_DIR/debug/app\" && test -x target/debug/app`",
            ),
            // Its second task finds that build without building.
            ("1.2", "`test -x \"$CARGO_TARGET_DIR/debug/app\"`"),
        ],
        &json!({"tasks": {
            "1.1": [[print_dir.clone(), write("out-1.1.txt", "x\n")]],
            "1.2": [[print_dir, write("out-1.2.txt", "x\n")]],
        }}),
    );
    sh(dir.root(), "cargo generate-lockfile --offline --quiet && cargo build --quiet --offline");
    git(dir.root(), &["add", "Cargo.lock"]);
    git(dir.root(), &["commit", "--quiet", "-m", "lockfile"]);
    let text = dry_run(&dir);
    if clones(&text) {
        eprintln!("skipped: this filesystem clones target/ into each worktree, so lanes keep the default target dir");
        return;
    }
    let target = text.lines().find(|l| l.trim_start().starts_with("target/")).unwrap_or_else(|| panic!("{text}"));
    assert!(target.ends_with("not copied: each lane builds in its own CARGO_TARGET_DIR"), "{text}");

    let output = dir.run(&["--attempts", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("not copied: each lane builds in its own CARGO_TARGET_DIR"), "{err}");
    let value = |task: &str| {
        let log = agent_log(&dir, task);
        log.lines().find_map(|l| l.strip_prefix("CARGO_TARGET_DIR=")).unwrap_or_else(|| panic!("{log}")).to_owned()
    };
    let (first, second) = (value("1.1"), value("1.2"));
    assert!(first.ends_with("/cargo-target/Solo"), "{first}");
    assert_eq!(first, second, "the lane keeps its target dir");
    assert!(!Path::new(&first).starts_with(dir.root()), "outside the repository: {first}");
    let tree = git(dir.root(), &["ls-tree", "-r", "--name-only", "wavecrew/M1"]);
    assert!(tree.contains("out-1.2.txt") && !tree.lines().any(|l| l.starts_with("target")), "{tree}");
}

#[test]
fn a_cargo_project_without_target_gets_no_setup_advice_its_lanes_build_it() {
    let dir = repo(
        &[
            ("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
            ("Cargo.lock", "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n"),
            ("src/main.rs", "fn main() {}\n"),
            (".gitignore", "/target\n"),
        ],
        &[("1.1", "`true`")],
        &json!({"tasks": {"1.1": [[write("out.txt", "x\n")]]}}),
    );
    let text = dry_run(&dir);
    // `cargo fetch` would put nothing in the lane: each lane builds in its own CARGO_TARGET_DIR.
    assert!(!text.contains("Cargo.lock is here but"), "{text}");
    assert!(!text.contains("cargo fetch"), "{text}");
}

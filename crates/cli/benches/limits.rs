//! What a usage limit costs a run: the same plan of 20 independent tasks, run by the real
//! Claude Code (installed by `scripts/install-agent-clis.sh`) against llm-double (a test double
//! of the model API) at `-j 4`, three ways, side by side. Nothing is asserted; it prints the
//! makespans and their ratios to the run without a limit.
//!
//! 1. `no limit`: the baseline.
//! 2. `held`: the account is limited for half the baseline's makespan from the first request;
//!    wavecrew holds the lanes until the reset the CLI gave, then goes on (the default).
//! 3. `fail, then resume`: `--on-limit fail` fails every limited task; a person who resumes the
//!    run the moment the limit lifts (the best case of doing it by hand) runs `resume` then.
//!
//! The limit starts at the model's first request. Under load, Claude Code takes seconds to make
//! it: each limited attempt costs that much before the hold starts.
//!
//! `cargo bench -p wavecrew --bench limits` (about a minute on 2 cores). Without the `--bench`
//! argument that `cargo bench` passes (`cargo test --benches`), the plan shrinks to 4 tasks.
//! `WAVECREW_AGENT_CLIS` says where the CLIs are (default `target/agent-clis`).

use llm_double::{Conversation, Limit, LimitKind, Script, Server, Step};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git").arg("-C").arg(dir).args(args).status().unwrap();
    assert!(status.success(), "git {args:?}");
}

fn claude() -> PathBuf {
    let dir = std::env::var_os("WAVECREW_AGENT_CLIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/agent-clis"));
    dir.join("claude/node_modules/.bin/claude")
}

/// A plan of `tasks` independent tasks on four lanes, each writing its own file.
fn plan(tasks: usize) -> String {
    let mut text =
        String::from("# M1 Implementation Plan: Bench\n\n## Waves\n\n### Wave 1: All\n> No dependencies.\n\n");
    let mut rows = Vec::new();
    for n in 1..=tasks {
        text.push_str(&format!(
            "**Task 1.{n}** (type: auto)\n- **Files**: `f{n}.txt`\n- **Action**: Write f{n}\n- **Verify**: `grep -qx f{n} f{n}.txt`\n- **Done**: f{n}\n\n"
        ));
        rows.push(format!("| 1 | L{} | sonnet | 1.{n} |", n % 4));
    }
    text.push_str("## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n");
    text.push_str(&rows.join("\n"));
    text.push('\n');
    text
}

fn script(tasks: usize, limit_ms: Option<u64>) -> Script {
    Script {
        conversations: (1..=tasks)
            .map(|n| Conversation {
                matches: format!(r"# Task 1\.{n} of milestone"),
                steps: vec![
                    Step::Write { write: format!("f{n}.txt"), content: format!("f{n}") },
                    Step::Text { text: "Done.".into() },
                ],
            })
            .collect(),
        limit: limit_ms.map(|for_ms| Limit { kind: LimitKind::Usage, for_ms, says_reset: true }),
        ..Script::default()
    }
}

/// A repository with the plan, pointing claude at `url`; returns the folder holding it.
fn project(tasks: usize, url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    for sub in ["repo", "home", "tmp"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    git(&repo, &["config", "user.name", "Bench"]);
    git(&repo, &["config", "user.email", "bench@example.com"]);
    std::fs::write(repo.join("plan.md"), plan(tasks)).unwrap();
    let config = format!("[agents.claude]\nprogram = \"{}\"\nbase_url = \"{url}\"\n", claude().display());
    std::fs::write(repo.join("wavecrew.toml"), config).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "plan"]);
    dir
}

/// `wavecrew ARGS` in the project, as a Claude subscriber (its limits come with a reset time).
fn wavecrew(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wavecrew"))
        .current_dir(dir.join("repo"))
        .args(args)
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("TMPDIR", dir.join("tmp"))
        .env("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-bench-token-for-the-double")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .unwrap()
}

const RUN: &[&str] = &["run", "plan.md", "--agent", "claude", "--yes", "--attempts", "1", "-j", "4"];

/// One run of the plan against a double limited for `limit_ms`; with `fail_then_resume`, the
/// run fails its limited tasks and is resumed once the limit lifted. The wall time.
fn measure(tasks: usize, limit_ms: Option<u64>, fail_then_resume: bool) -> Duration {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(script(tasks, limit_ms))).unwrap();
    let dir = project(tasks, &server.url());
    let started = Instant::now();
    if fail_then_resume {
        // The limit starts at the model's first request: the person resumes the moment it
        // lifts, which they learn from the agent's words.
        let first_request = std::thread::scope(|scope| {
            let watch = scope.spawn(|| {
                while !server.requests().iter().any(|r| r.method == "POST") {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Instant::now()
            });
            let failed = wavecrew(dir.path(), &[RUN, &["--on-limit", "fail"]].concat());
            assert!(!failed.status.success(), "the limit failed tasks");
            watch.join().unwrap()
        });
        let lifts = first_request + Duration::from_millis(limit_ms.unwrap_or(0));
        std::thread::sleep(lifts.saturating_duration_since(Instant::now()));
        let resumed = wavecrew(dir.path(), &["resume"]);
        assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    } else {
        let output = wavecrew(dir.path(), RUN);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    started.elapsed()
}

fn main() {
    if !claude().exists() {
        eprintln!("{} is missing: run scripts/install-agent-clis.sh", claude().display());
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    let tasks = if full { 20 } else { 4 };
    let baseline = measure(tasks, None, false);
    let limit = baseline / 2;
    let held = measure(tasks, Some(limit.as_millis() as u64), false);
    let by_hand = measure(tasks, Some(limit.as_millis() as u64), true);
    let ratio = |d: Duration| d.as_secs_f64() / baseline.as_secs_f64();
    println!("limits: {tasks} tasks, claude against llm-double, -j 4; the account limited for {limit:.1?}");
    println!("  no limit             {:>8.1?}  1.00x", baseline);
    println!("  held (wavecrew)      {:>8.1?}  {:.2}x", held, ratio(held));
    println!("  fail, then resume    {:>8.1?}  {:.2}x  (resumed the moment the limit lifted)", by_hand, ratio(by_hand));
}

//! Usage and rate limits end to end: the real agent CLIs against llm-double (a test double)
//! serving each provider's limit response for a few seconds. A limited attempt holds every task
//! on its agent until the reset the CLI gave, costs no attempt (`--attempts 1` throughout), and
//! `resume` after a kill -9 goes on holding; a reset beyond `[run] max_hold` fails the task as
//! limited once it has held that long. aider and opencode retry a limit for over a minute
//! themselves before they give up, so theirs last an hour and end on `max_hold`.

use crate::agents::{conversation, project, wavecrew};
use crate::common::{events, git};
use llm_double::{Limit, LimitKind, Script, Server};
use serde_json::Value;
use std::time::{Duration, Instant};

const TWO_LANES: &str = "# M1 Implementation Plan: Two\n\n## Waves\n\n### Wave 1: Side by side\n> No dependencies.\n\n\
    **Task 1.1** (type: auto)\n- **Files**: `a.txt`\n- **Action**: Write a\n- **Verify**: `grep -qx a a.txt`\n- **Done**: a\n\n\
    **Task 1.2** (type: auto)\n- **Files**: `b.txt`\n- **Action**: Write b\n- **Verify**: `grep -qx b b.txt`\n- **Done**: b\n\n\
    ## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n| 1 | A | sonnet | 1.1 |\n| 1 | B | sonnet | 1.2 |\n";

/// Both tasks' conversations, behind a limit of `kind` lasting `for_ms`.
fn limited_script(kind: LimitKind, for_ms: u64) -> Script {
    Script {
        conversations: vec![conversation("1.1", "a.txt"), conversation("1.2", "b.txt")],
        limit: Some(Limit { kind, for_ms, says_reset: true }),
        ..Script::default()
    }
}

/// `wavecrew run` of [`TWO_LANES`] on `agent`, as a Claude subscriber for claude (its usage
/// limit comes with a reset time only then).
fn run_command(dir: &std::path::Path, agent: &str) -> std::process::Command {
    let mut command = wavecrew(dir);
    command.args(["run", "plan.md", "--agent", agent, "--yes", "--json", "--attempts", "1"]);
    if agent == "claude" {
        command
            .env_remove("ANTHROPIC_API_KEY")
            .env("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-test-token-for-the-double");
    }
    command
}

fn of_kind<'a>(all: &'a [Value], kind: &str) -> Vec<&'a Value> {
    all.iter().filter(|e| e["event"] == kind).collect()
}

/// Every task landed once, on the run branch; no attempt failed; each task was held at least
/// once, and started again only after the hold it was given.
fn assert_held_then_landed(agent: &str, output: &std::process::Output, dir: &tempfile::TempDir) {
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{agent}: {err}");
    let all = events(output);
    let limited = of_kind(&all, "agent_limited");
    assert!(!limited.is_empty(), "{agent}: no agent_limited in {all:?}");
    for event in &limited {
        assert_eq!(event["agent"], agent);
        assert_eq!(event["hold"], "reset", "{agent}: the CLI gave its reset time: {event}");
    }
    assert!(of_kind(&all, "attempt_failed").is_empty() && of_kind(&all, "task_failed").is_empty(), "{agent}: {all:?}");
    let committed: Vec<&str> = of_kind(&all, "task_committed").iter().filter_map(|e| e["task"].as_str()).collect();
    assert_eq!(committed.len(), 2, "{agent}: each task committed once: {committed:?}");
    // The limited attempt was not spent: the task lands as its attempt 1.
    assert!(of_kind(&all, "task_committed").iter().all(|e| e["attempt"] == 1), "{agent}: {all:?}");
    // Nothing started on the agent before its hold ended.
    let until = limited.iter().filter_map(|e| e["until_ms"].as_u64()).max().unwrap();
    let limited_at = all.iter().position(|e| e["event"] == "agent_limited").unwrap();
    let envelopes_after: Vec<&Value> = all[limited_at..].iter().filter(|e| e["event"] == "agent_spawned").collect();
    assert!(!envelopes_after.is_empty());
    for spawned in envelopes_after {
        let at = spawned["at_ms"].as_u64().unwrap();
        assert!(at + 1000 >= until, "{agent}: an attempt started at {at}, before the hold's end {until}");
    }
    let repo = dir.path().join("repo");
    assert_eq!(git(&repo, &["show", "wavecrew/M1:a.txt"]), "a");
    assert_eq!(git(&repo, &["show", "wavecrew/M1:b.txt"]), "b");
    let subjects = git(&repo, &["log", "--format=%s", "main..wavecrew/M1"]);
    assert_eq!(subjects.lines().count(), 2, "one commit per task: {subjects}");
}

fn limited_run(agent: &str, base_path: &str, kind: LimitKind) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(limited_script(kind, 3_000))).unwrap();
    let dir = project(TWO_LANES, agent, &format!("{}{base_path}", server.url()), "");
    let output = run_command(dir.path(), agent).output().unwrap();
    assert_held_then_landed(agent, &output, &dir);
}

#[test]
fn claude_s_usage_limit_holds_both_lanes_until_its_reset_and_costs_no_attempt() {
    limited_run("claude", "", LimitKind::Usage);
}

#[test]
fn gemini_s_resource_exhausted_holds_both_lanes_for_its_retry_delay_and_costs_no_attempt() {
    limited_run("gemini", "", LimitKind::Rate);
}

#[test]
fn codex_s_usage_limit_beyond_max_hold_holds_that_long_then_fails_the_task_as_limited() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // An hour of limit; the run holds at most 3 s.
    let server = runtime.block_on(Server::start(limited_script(LimitKind::Usage, 3_600_000))).unwrap();
    let dir = project(TWO_LANES, "codex", &format!("{}/v1", server.url()), "[run]\nmax_hold = 3\n");
    let started = Instant::now();
    let output = run_command(dir.path(), "codex").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let all = events(&output);
    let limited = of_kind(&all, "agent_limited");
    assert_eq!(limited.len(), 2, "{all:?}");
    for event in &limited {
        assert_eq!(event["hold"], "capped", "{event}");
        assert!(event["reason"].as_str().unwrap().contains("hit your usage limit"), "{event}");
        assert!(event["reset_ms"].as_u64().unwrap() > event["until_ms"].as_u64().unwrap(), "{event}");
    }
    let failed = of_kind(&all, "task_failed");
    assert_eq!(failed.len(), 2);
    for event in failed {
        let reason = event["reason"].as_str().unwrap();
        assert!(reason.contains("later than [run] max_hold (3 s)"), "{reason}");
    }
    assert!(of_kind(&all, "attempt_failed").is_empty());
    assert!(started.elapsed() >= Duration::from_secs(3), "it held before it failed");
    let status = wavecrew(dir.path()).arg("status").output().unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("max hold 3s") && !status.contains("held until"), "{status}");
}

#[test]
fn resume_after_kill_9_while_held_holds_until_the_reset_then_lands_everything() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(limited_script(LimitKind::Usage, 6_000))).unwrap();
    let dir = project(TWO_LANES, "claude", &server.url(), "");
    let mut run = run_command(dir.path(), "claude")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = kill_while_held(&mut run)["until_ms"].as_u64().unwrap();

    let status = wavecrew(dir.path()).arg("status").output().unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("held until ") && status.contains("claude: You've hit your session limit"), "{status}");

    let resumed = wavecrew(dir.path())
        .args(["resume", "--json"])
        .env_remove("ANTHROPIC_API_KEY")
        .env("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-test-token-for-the-double")
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let all = events(&resumed);
    let spawned: Vec<u64> = of_kind(&all, "agent_spawned").iter().filter_map(|e| e["at_ms"].as_u64()).collect();
    assert!(!spawned.is_empty() && spawned.iter().all(|&at| at >= until), "resume held until {until}: {spawned:?}");
    assert!(of_kind(&all, "task_failed").is_empty() && of_kind(&all, "attempt_failed").is_empty(), "{all:?}");
    let repo = dir.path().join("repo");
    assert_eq!(git(&repo, &["show", "wavecrew/M1:a.txt"]), "a");
    assert_eq!(git(&repo, &["show", "wavecrew/M1:b.txt"]), "b");
}

/// [`TWO_LANES`]' first task alone.
const ONE_TASK: &str = "# M1 Implementation Plan: One\n\n## Waves\n\n### Wave 1: Alone\n> No dependencies.\n\n\
    **Task 1.1** (type: auto)\n- **Files**: `a.txt`\n- **Action**: Write a\n- **Verify**: `grep -qx a a.txt`\n- **Done**: a\n\n\
    ## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n| 1 | A | sonnet | 1.1 |\n";

/// `agent` retries a limit of `kind` for over a minute itself (aider about a minute and a half,
/// opencode five times over about as long), then gives up; the limit lasts an hour and the run
/// holds at most 3 s: each task of `plan` (`tasks` of them) holds, capped, then fails as
/// limited, with the CLI's `words`.
fn given_up_then_capped(agent: &str, plan: &str, tasks: usize, kind: LimitKind, words: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(limited_script(kind, 3_600_000))).unwrap();
    let dir = project(plan, agent, &format!("{}/v1", server.url()), "[run]\nmax_hold = 3\n");
    let output = run_command(dir.path(), agent).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{agent}: {}", String::from_utf8_lossy(&output.stderr));
    let all = events(&output);
    let limited = of_kind(&all, "agent_limited");
    assert_eq!(limited.len(), tasks, "{agent}: {all:?}");
    for event in &limited {
        assert_eq!(event["agent"], agent);
        assert_eq!(event["hold"], "capped", "{agent}: the CLI gave its reset time: {event}");
        assert!(event["reason"].as_str().unwrap().starts_with(&format!("{agent}: {words}")), "{event}");
        assert!(event["reset_ms"].as_u64().unwrap() > event["until_ms"].as_u64().unwrap(), "{event}");
    }
    let failed = of_kind(&all, "task_failed");
    assert_eq!(failed.len(), tasks, "{agent}: {all:?}");
    for event in failed {
        let reason = event["reason"].as_str().unwrap();
        assert!(reason.contains("later than [run] max_hold (3 s)"), "{agent}: {reason}");
    }
    assert!(of_kind(&all, "attempt_failed").is_empty(), "{agent}: the limited attempt is no failure: {all:?}");
}

#[test]
fn aider_s_rate_limit_it_gave_up_on_holds_until_max_hold_then_fails_the_task_as_limited() {
    // "Please try again in 3500.123s." in the last error aider printed is the reset.
    given_up_then_capped("aider", TWO_LANES, 2, LimitKind::Rate, "Rate limit reached for sonnet");
}

#[test]
fn opencode_s_usage_limit_it_gave_up_on_holds_until_max_hold_then_fails_the_task_as_limited() {
    // The body's `resets_at` in opencode's `error` event is the reset. One task: two opencode
    // processes started at once on one home folder may fail on "database is locked".
    given_up_then_capped("opencode", ONE_TASK, 1, LimitKind::Usage, "The usage limit has been reached");
}

/// Reads the `--json` events of `run` until its first hold (`agent_limited`), then kills it
/// (SIGKILL, as kill -9) while it holds; returns the hold's event.
pub(crate) fn kill_while_held(run: &mut std::process::Child) -> Value {
    let stdout = run.stdout.take().unwrap();
    let mut held = None;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap_or(Value::Null);
        if event["event"] == "agent_limited" {
            held = Some(event);
            break;
        }
    }
    let held = held.expect("the run was held");
    run.kill().unwrap();
    run.wait().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    assert!(now < held["until_ms"].as_u64().unwrap(), "killed while held: {held}");
    held
}

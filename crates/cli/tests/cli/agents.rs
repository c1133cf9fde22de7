//! The agent adapters end to end: `wavecrew run --agent claude|codex|gemini|opencode|aider`
//! drives the real CLI (installed from npm or PyPI by `scripts/install-agent-clis.sh`), which
//! talks to the scripted LLM server (`llm-double`, a test double) on 127.0.0.1. No real model is
//! called.

use crate::common::{events, git, installed as cli, wavecrew_bin};
use llm_double::{Fault, Script, Server, Step};
use serde_json::Value;
use std::process::{Command, Output};

const PLAN: &str = "# M1 Implementation Plan: Hello

## Waves

### Wave 1: One
> No dependencies.

**Task 1.1** (type: auto)
- **Skill**: `security-auditor`
- **Files**: `hello.txt`
- **Action**: Create hello.txt containing hi
- **Verify**: `grep -qx hi hello.txt`
- **Done**: hello.txt says hi

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Solo | sonnet | 1.1 |
";

/// Runs the plan with `agent` against a double playing `steps`; returns the run's output,
/// the repository and the requests the double got.
fn run_with(
    agent: &str,
    base_path: &str,
    script: Script,
    extra_env: &[(&str, &str)],
    extra_args: &[&str],
) -> (Output, tempfile::TempDir, Vec<llm_double::Request>) {
    run_plan(PLAN, agent, base_path, script, extra_env, extra_args)
}

/// [`run_with`] for another plan.
fn run_plan(
    plan: &str,
    agent: &str,
    base_path: &str,
    script: Script,
    extra_env: &[(&str, &str)],
    extra_args: &[&str],
) -> (Output, tempfile::TempDir, Vec<llm_double::Request>) {
    run_configured(plan, agent, base_path, script, "", extra_env, extra_args)
}

/// [`run_plan`] with more lines of `wavecrew.toml`.
fn run_configured(
    plan: &str,
    agent: &str,
    base_path: &str,
    script: Script,
    extra_config: &str,
    extra_env: &[(&str, &str)],
    extra_args: &[&str],
) -> (Output, tempfile::TempDir, Vec<llm_double::Request>) {
    let dir = tempfile::tempdir().unwrap();
    run_configured_in(dir, plan, agent, base_path, script, extra_config, extra_env, extra_args)
}

/// [`run_configured`] with the project in `dir`.
#[allow(clippy::too_many_arguments)]
fn run_configured_in(
    dir: tempfile::TempDir,
    plan: &str,
    agent: &str,
    base_path: &str,
    script: Script,
    extra_config: &str,
    extra_env: &[(&str, &str)],
    extra_args: &[&str],
) -> (Output, tempfile::TempDir, Vec<llm_double::Request>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(script)).unwrap();
    // `{llm_port}` in the configuration is the double's port (for `[sandbox] connect`).
    let port = server.url().rsplit(':').next().unwrap_or_default().trim_end_matches('/').to_owned();
    let extra_config = extra_config.replace("{llm_port}", &port);
    let dir = project_in(dir, plan, agent, &format!("{}{base_path}", server.url()), &extra_config);
    let mut command = wavecrew(dir.path());
    command.args(["run", "plan.md", "--agent", agent, "--yes", "--json", "--attempts", "1"]).args(extra_args);
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let requests = server.requests();
    (output, dir, requests)
}

/// A folder with a repository (`repo`) holding `plan` and a `wavecrew.toml` that points
/// `agent` at `base_url`, and the home and state folders the CLIs use.
pub(crate) fn project(plan: &str, agent: &str, base_url: &str, extra_config: &str) -> tempfile::TempDir {
    project_in(tempfile::tempdir().unwrap(), plan, agent, base_url, extra_config)
}

/// [`project`] in `dir`.
fn project_in(
    dir: tempfile::TempDir,
    plan: &str,
    agent: &str,
    base_url: &str,
    extra_config: &str,
) -> tempfile::TempDir {
    let (repo, home) = (dir.path().join("repo"), dir.path().join("home"));
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    std::fs::create_dir_all(dir.path().join("codex")).unwrap();
    std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
    std::fs::write(
        home.join(".gemini/settings.json"),
        r#"{"security":{"auth":{"selectedType":"gemini-api-key"}},"general":{"maxAttempts":1}}"#,
    )
    .unwrap();
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    git(&repo, &["config", "user.name", "Test"]);
    git(&repo, &["config", "user.email", "test@example.com"]);
    std::fs::write(repo.join("plan.md"), plan).unwrap();
    let config =
        format!("[agents.{agent}]\nprogram = \"{}\"\nbase_url = \"{base_url}\"\n{extra_config}", cli(agent).display());
    std::fs::write(repo.join("wavecrew.toml"), config).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "plan"]);
    dir
}

/// `wavecrew` in the repository of [`project`] `dir`, with its own home, configuration and
/// state folders and test keys for the double.
pub(crate) fn wavecrew(dir: &std::path::Path) -> Command {
    let mut command = Command::new(wavecrew_bin());
    command
        .current_dir(dir.join("repo"))
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("CODEX_HOME", dir.join("codex"))
        .env("TMPDIR", dir.join("tmp"))
        .env("ANTHROPIC_API_KEY", "test-key-for-the-double")
        .env("OPENAI_API_KEY", "test-key-for-the-double")
        .env("GEMINI_API_KEY", "test-key-for-the-double");
    command
}

fn write_then_text() -> Script {
    Script {
        steps: vec![
            Step::Write { write: "hello.txt".into(), content: "hi".into() },
            Step::Text { text: "Done.".into() },
        ],
        ..Script::default()
    }
}

/// The run succeeded, committed `hello.txt`, and the events show the tool call and the usage.
fn assert_committed(agent: &str, output: &Output, dir: &tempfile::TempDir, tool: &str) {
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{agent}: {err}");
    let repo = dir.path().join("repo");
    assert_eq!(git(&repo, &["show", "wavecrew/M1:hello.txt"]).trim(), "hi");
    let all = events(output);
    let tools: Vec<&str> = all
        .iter()
        .filter(|e| e["event"] == "agent_activity" && e["kind"] == "tool")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(tools.iter().any(|t| t.starts_with(tool)), "{agent}: tool calls {tools:?}");
    assert!(
        all.iter().any(|e| e["event"] == "agent_activity" && e["kind"] == "usage" && e["tokens_in"].as_u64() > Some(0)),
        "{agent}: usage"
    );
}

#[test]
fn claude_code_writes_through_its_write_tool() {
    let (output, dir, requests) = run_with("claude", "", write_then_text(), &[], &[]);
    assert_committed("claude", &output, &dir, "Write");
    let paths: Vec<&str> = requests.iter().filter(|r| r.method == "POST").map(|r| r.uri.as_str()).collect();
    assert!(paths.iter().all(|p| p.starts_with("/v1/messages")), "{paths:?}");
    let first = requests.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(first.body["model"], "claude-sonnet-4-5", "the plan's `sonnet` resolves for claude");
    let prompt = first.body["messages"].to_string();
    assert!(prompt.contains("Create hello.txt containing hi"), "the task's Action is in the prompt");
    let system = first.body["system"].to_string();
    assert!(system.contains("# Skill: security-auditor"), "claude gets the skill as --append-system-prompt");
    assert!(!prompt.contains("# Skill: security-auditor") && !prompt.contains("## Skill: security-auditor"));
}

#[test]
fn codex_writes_through_apply_patch() {
    let (output, dir, requests) = run_with("codex", "/v1", write_then_text(), &[], &[]);
    assert_committed("codex", &output, &dir, "edit add");
    assert!(
        requests.iter().all(|r| r.uri == "/v1/responses"),
        "{:?}",
        requests.iter().map(|r| &r.uri).collect::<Vec<_>>()
    );
    assert_eq!(requests[0].body["model"], "gpt-5.5");
}

#[test]
fn gemini_cli_writes_through_write_file() {
    let (output, dir, requests) = run_with("gemini", "", write_then_text(), &[], &[]);
    assert_committed("gemini", &output, &dir, "write_file");
    let first = requests.iter().find(|r| r.uri.contains("streamGenerateContent")).unwrap();
    assert!(
        first.body["contents"].to_string().contains("## Skill: security-auditor"),
        "other CLIs get skills in the prompt"
    );
    assert!(
        requests.iter().any(|r| r.uri.contains("/v1beta/models/gemini-2.5-pro:streamGenerateContent")),
        "{:?}",
        requests.iter().map(|r| &r.uri).collect::<Vec<_>>()
    );
}

#[test]
fn an_api_error_fails_the_attempt_with_the_agents_own_words() {
    let (output, _dir, _) = run_with(
        "claude",
        "",
        Script { steps: vec![Step::Error { error: 500 }], ..Script::default() },
        &[("CLAUDE_CODE_MAX_RETRIES", "0")],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let all = events(&output);
    let errors: Vec<&str> = all
        .iter()
        .filter(|e| e["event"] == "agent_activity" && e["kind"] == "error")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(errors.iter().any(|e| e.contains("500")), "{errors:?}");
    assert!(all.iter().any(|e| e["event"] == "task_failed"
        && e["reason"].as_str().is_some_and(|r| r.contains("the agent exited with code 1"))));
}

#[test]
fn agents_lists_each_cli_with_its_version_or_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet"]);
    let config = format!(
        "agent = \"claude\"\n[agents.claude]\nprogram = \"{}\"\n[agents.gemini]\nprogram = \"/no/such/gemini\"\n",
        cli("claude").display()
    );
    std::fs::write(dir.path().join("wavecrew.toml"), config).unwrap();
    let output = Command::new(wavecrew_bin())
        .current_dir(dir.path())
        .arg("agents")
        .env("XDG_CONFIG_HOME", dir.path().join("c"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("claude") && l.contains("2.1.197 (Claude Code)") && l.ends_with("(default)")),
        "{text}"
    );
    assert!(text.contains("not found: `/no/such/gemini`; install: npm install -g @google/gemini-cli"), "{text}");
}

#[test]
fn a_rate_limit_then_success_is_retried_by_the_cli_and_the_task_lands() {
    let mut script = write_then_text();
    script.faults.push(Fault { turn: 0, status: Some(429), times: Some(1), ..Fault::default() });
    let (output, dir, requests) = run_with("claude", "", script, &[], &[]);
    assert_committed("claude", &output, &dir, "Write");
    let posts = requests.iter().filter(|r| r.method == "POST").count();
    assert!(posts >= 3, "the 429 was retried: {posts} requests");
}

#[test]
fn a_stuck_model_gets_the_cli_killed_by_the_timeout() {
    let mut script = write_then_text();
    script.faults.push(Fault { turn: 0, delay_ms: Some(120_000), ..Fault::default() });
    let started = std::time::Instant::now();
    let (output, _dir, _) = run_with("codex", "/v1", script, &[], &["--timeout", "3"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "the timeout ended it");
    let all = events(&output);
    assert!(
        all.iter().any(|e| e["event"] == "task_failed"
            && e["reason"].as_str().is_some_and(|r| r.contains("did not finish within 3s")))
    );
}

/// The model's side of task `task`'s conversation: it writes `file` (its name without `.txt` as
/// content), then says it is done.
pub(crate) fn conversation(task: &str, file: &str) -> llm_double::Conversation {
    llm_double::Conversation {
        // The heading of the task's own prompt: a later task's prompt names the tasks it waited for.
        matches: format!(r"# Task {} of milestone", task.replace('.', r"\.")),
        steps: vec![
            Step::Write { write: file.into(), content: file.trim_end_matches(".txt").into() },
            Step::Text { text: "Done.".into() },
        ],
    }
}

#[test]
fn parallel_claude_lanes_each_follow_their_own_conversation() {
    let plan = "# M1 Implementation Plan: Two\n\n## Waves\n\n### Wave 1: Side by side\n> No dependencies.\n\n\
                **Task 1.1** (type: auto)\n- **Files**: `a.txt`\n- **Action**: Write a\n- **Verify**: `grep -qx a a.txt`\n- **Done**: a\n\n\
                **Task 1.2** (type: auto)\n- **Files**: `b.txt`\n- **Action**: Write b\n- **Verify**: `grep -qx b b.txt`\n- **Done**: b\n\n\
                ## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n| 1 | A | haiku | 1.1 |\n| 1 | B | haiku | 1.2 |\n";
    let script =
        Script { conversations: vec![conversation("1.1", "a.txt"), conversation("1.2", "b.txt")], ..Script::default() };
    let (output, dir, requests) = run_plan(plan, "claude", "", script, &[], &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let repo = dir.path().join("repo");
    assert_eq!(git(&repo, &["show", "wavecrew/M1:a.txt"]), "a");
    assert_eq!(git(&repo, &["show", "wavecrew/M1:b.txt"]), "b");
    assert!(requests.iter().any(|r| r.body["model"] == "claude-haiku-4-5"), "the plan's haiku resolved");
}

#[test]
fn tokens_and_cost_reach_the_report_and_the_budget_stops_new_work() {
    let plan = "# M1 Implementation Plan: Budget\n\n## Waves\n\n### Wave 1: One after the other\n> No dependencies. Tasks run sequentially.\n\n\
                **Task 1.1** (type: auto)\n- **Files**: `a.txt`\n- **Action**: Write a\n- **Verify**: `test -f a.txt`\n- **Done**: a\n\n\
                **Task 1.2** (type: auto)\n- **Files**: `b.txt`\n- **Action**: Write b\n- **Verify**: `test -f b.txt`\n- **Done**: b\n";
    let script = Script {
        steps: vec![Step::Write { write: "a.txt".into(), content: "a".into() }, Step::Text { text: "Done.".into() }],
        ..Script::default()
    };
    // Claude Code reports a cost for every run; a budget below one run's cost stops after it.
    let (output, dir, _) = run_plan(plan, "claude", "", script, &[], &["--budget", "0.00001"]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let all = events(&output);
    assert!(all.iter().any(|e| e["event"] == "stopping" && e["reason"].as_str().is_some_and(|r| r.contains("budget"))));
    assert!(!all.iter().any(|e| e["event"] == "attempt_started" && e["task"] == "1.2"), "nothing new starts");
    let report =
        Command::new(wavecrew_bin()).current_dir(dir.path().join("repo")).args(["report", "--json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert!(report["tasks"][0]["cost_usd"].as_f64().unwrap_or(0.0) > 0.0, "{report}");
    assert!(report["tasks"][0]["tokens_in"].as_u64().unwrap_or(0) > 0, "{report}");

    // A resumed run keeps its budget, and counts what was spent before: nothing new starts.
    let resumed = wavecrew(dir.path()).args(["resume", "--json"]).output().unwrap();
    assert_eq!(resumed.status.code(), Some(1), "{}", String::from_utf8_lossy(&resumed.stderr));
    let all = events(&resumed);
    assert!(all.iter().any(|e| e["event"] == "stopping" && e["reason"].as_str().is_some_and(|r| r.contains("budget"))));
    assert!(!all.iter().any(|e| e["event"] == "attempt_started"), "nothing new starts");
}

#[test]
fn a_stream_cut_in_the_middle_is_retried_by_the_cli_and_the_task_lands() {
    let mut script = write_then_text();
    script.faults.push(Fault { turn: 0, cut_after: Some(2), times: Some(1), ..Fault::default() });
    let (output, dir, requests) = run_with("claude", "", script, &[], &[]);
    assert_committed("claude", &output, &dir, "Write");
    assert!(requests.iter().filter(|r| r.method == "POST").count() >= 3, "the cut turn was asked again");
}

#[test]
fn opencode_writes_through_its_write_tool() {
    let (output, dir, requests) = run_with("opencode", "/v1", write_then_text(), &[], &[]);
    assert_committed("opencode", &output, &dir, "write");
    assert!(
        requests.iter().all(|r| r.uri == "/v1/chat/completions"),
        "{:?}",
        requests.iter().map(|r| &r.uri).collect::<Vec<_>>()
    );
    assert!(requests.iter().all(|r| r.body["tools"].is_array()), "--title: no title request without tools");
}

#[test]
fn aider_writes_the_whole_file_and_leaves_nothing_of_its_own_in_the_commit() {
    let (output, dir, requests) = run_with("aider", "/v1", write_then_text(), &[], &[]);
    assert_committed("aider", &output, &dir, "edit hello.txt");
    let repo = dir.path().join("repo");
    let files = git(&repo, &["ls-tree", "-r", "--name-only", "wavecrew/M1"]);
    assert_eq!(files.lines().collect::<Vec<_>>(), ["hello.txt", "plan.md", "wavecrew.toml"], "no .aider* files");
    assert_eq!(git(&repo, &["log", "--format=%s", "wavecrew/M1"]).lines().count(), 2, "aider did not commit");
    let posts: Vec<&llm_double::Request> = requests.iter().filter(|r| r.method == "POST").collect();
    assert!(
        posts.iter().all(|r| r.uri == "/v1/chat/completions"),
        "{:?}",
        posts.iter().map(|r| &r.uri).collect::<Vec<_>>()
    );
    assert_eq!(posts[0].body["model"], "sonnet", "the plan's model reached the endpoint");
    let prompt = posts[0].body["messages"].to_string();
    assert!(prompt.contains("Create hello.txt containing hi") && prompt.contains("## Skill: security-auditor"));
}

#[test]
fn aider_exits_0_after_an_api_error_but_the_attempt_fails_with_the_apis_words() {
    let script = Script { steps: vec![Step::Error { error: 400 }], ..Script::default() };
    let (output, dir, _) = run_with("aider", "/v1", script, &[], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let all = events(&output);
    let failed: Vec<&str> =
        all.iter().filter(|e| e["event"] == "task_failed").filter_map(|e| e["reason"].as_str()).collect();
    assert!(
        failed
            .iter()
            .any(|r| r.contains("aider exited without an answer from the model") && r.contains("BadRequestError")),
        "{failed:?}"
    );
    assert!(git(&dir.path().join("repo"), &["branch", "--list", "wavecrew/M1"]).contains("wavecrew/M1"));
}

#[test]
fn aider_retries_a_rate_limit_and_the_task_lands() {
    let mut script = write_then_text();
    script.faults.push(Fault { turn: 0, status: Some(429), times: Some(1), ..Fault::default() });
    let (output, dir, requests) = run_with("aider", "/v1", script, &[], &[]);
    assert_committed("aider", &output, &dir, "edit hello.txt");
    assert!(requests.iter().filter(|r| r.method == "POST").count() >= 2, "the 429 was retried");
}

#[test]
fn a_cli_that_reports_tokens_but_no_cost_is_priced_from_the_configuration() {
    let prices = "[prices.\"gemini-2.5-pro\"]\ninput = 1.0\noutput = 2.0\n";
    let (output, dir, _) = run_configured(PLAN, "gemini", "", write_then_text(), prices, &[], &[]);
    assert_committed("gemini", &output, &dir, "write_file");
    let report =
        Command::new(wavecrew_bin()).current_dir(dir.path().join("repo")).args(["report", "--json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    let task = &report["tasks"][0];
    let (tokens_in, tokens_out) = (task["tokens_in"].as_f64().unwrap(), task["tokens_out"].as_f64().unwrap());
    let expected = (tokens_in * 1.0 + tokens_out * 2.0) / 1_000_000.0;
    let cost = task["cost_usd"].as_f64().unwrap_or(0.0);
    assert!(tokens_in > 0.0 && (cost - expected).abs() < 1e-9, "cost {cost}, expected {expected}: {report}");
}

#[test]
fn resume_after_ctrl_c_of_a_claude_run_finishes_it_with_no_flag() {
    let mut script = write_then_text();
    // The first answer is slow: the run is stopped while claude waits for it.
    script.faults.push(Fault { turn: 0, delay_ms: Some(60_000), times: Some(1), ..Fault::default() });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(script)).unwrap();
    let dir = project(PLAN, "claude", &server.url(), "");
    let mut run = wavecrew(dir.path())
        .args(["run", "plan.md", "--agent", "claude", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !server.requests().iter().any(|r| r.method == "POST") {
        assert!(std::time::Instant::now() < deadline, "claude never asked the model");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    assert_eq!(run.wait().unwrap().code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(run.stderr.as_mut().unwrap(), &mut err).unwrap();
    let hint = err.lines().find_map(|l| l.split("resume it with: ").nth(1)).unwrap_or_else(|| panic!("{err}"));
    let args: Vec<&str> = hint.split_whitespace().collect();
    assert_eq!(args[..2], ["wavecrew", "resume"], "{err}");

    // The printed command, as printed: no `--agent`, no configuration of the agent needed.
    std::fs::write(dir.path().join("repo/wavecrew.toml"), "").unwrap();
    let resumed = wavecrew(dir.path()).args(&args[1..]).output().unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert_eq!(git(&dir.path().join("repo"), &["show", "wavecrew/M1:hello.txt"]).trim(), "hi");
}

#[test]
fn an_agent_on_two_rows_asks_for_each_rows_model() {
    let plan = "# M1 Implementation Plan: Two models\n\n## Waves\n\n### Wave 1: First\n> No dependencies.\n\n\
                **Task 1.1** (type: auto)\n- **Files**: `a.txt`\n- **Action**: Write a\n- **Verify**: `grep -qx a a.txt`\n- **Done**: a\n\n\
                ### Wave 2: Second\n> Depends on: Wave 1.\n\n\
                **Task 2.1** (type: auto)\n- **Files**: `b.txt`\n- **Action**: Write b\n- **Verify**: `grep -qx b b.txt`\n- **Done**: b\n\n\
                ## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n| 1 | Worker A | haiku | 1.1 |\n| 2 | Worker A | sonnet | 2.1 |\n";
    let script =
        Script { conversations: vec![conversation("1.1", "a.txt"), conversation("2.1", "b.txt")], ..Script::default() };
    let (output, _dir, requests) = run_plan(plan, "claude", "", script, &[], &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let model_of = |task: &str| {
        let asked: Vec<&Value> = requests
            .iter()
            .filter(|r| {
                r.method == "POST" && r.body["messages"].to_string().contains(&format!("# Task {task} of milestone"))
            })
            .map(|r| &r.body["model"])
            .collect();
        assert!(!asked.is_empty(), "no request for {task}");
        asked.into_iter().cloned().collect::<Vec<_>>()
    };
    assert!(model_of("1.1").iter().all(|m| m == "claude-haiku-4-5"), "{:?}", model_of("1.1"));
    assert!(model_of("2.1").iter().all(|m| m == "claude-sonnet-4-5"), "its own row's model: {:?}", model_of("2.1"));
    let started: Vec<(String, String)> = events(&output)
        .iter()
        .filter(|e| e["event"] == "attempt_started")
        .map(|e| (e["task"].as_str().unwrap_or("").to_owned(), e["model"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(started, [("1.1".to_owned(), "haiku".to_owned()), ("2.1".to_owned(), "sonnet".to_owned())]);
}

#[test]
fn gemini_s_streamed_text_is_one_event_per_message() {
    let script = Script {
        steps: vec![
            Step::Write { write: "hello.txt".into(), content: "hi".into() },
            Step::Text { text: "I could not finish this time.".into() },
        ],
        ..Script::default()
    };
    let (output, dir, _) = run_with("gemini", "", script, &[], &[]);
    assert_committed("gemini", &output, &dir, "write_file");
    let texts: Vec<String> = events(&output)
        .iter()
        .filter(|e| e["event"] == "agent_activity" && e["kind"] == "text")
        .filter_map(|e| e["detail"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(texts, ["I could not finish this time."], "the double streamed it word by word");
}

#[test]
fn claude_confined_by_the_sandbox_cannot_write_outside_its_worktree_and_says_so() {
    // Folders of the user's, and claude told to ask for nothing (as a user may configure it; as
    // root it needs IS_SANDBOX=1 to agree): its own permissions let the writes through,
    // wavecrew's sandbox (on by default) refuses them, journals each and names them. Its TCP
    // connects are restricted to the double's port, which it reaches.
    let outside = tempfile::tempdir().unwrap();
    let etc = "/etc/wavecrew-claude-sandbox-test";
    let write = |path: String| Step::Write { write: path, content: "escaped".into() };
    // The double's script names the paths: the project's folder is made first.
    let project_dir = tempfile::tempdir().unwrap();
    let (home_file, main_tree, journal) = (
        project_dir.path().join("home/x.txt"),
        project_dir.path().join("repo/escaped.txt"),
        project_dir.path().join("repo/.git/wavecrew/escaped.txt"),
    );
    let own_state = project_dir.path().join("home/.claude/wavecrew-sandbox-ok.txt");
    let script = Script {
        steps: vec![
            write(outside.path().join("x.txt").display().to_string()),
            write(home_file.display().to_string()),
            write(main_tree.display().to_string()),
            write(journal.display().to_string()),
            write(etc.to_owned()),
            Step::Write { write: own_state.display().to_string(), content: "its own".into() },
            Step::Write { write: "hello.txt".into(), content: "hi".into() },
            Step::Text { text: "Done.".into() },
        ],
        ..Script::default()
    };
    let config = "args = [\"--permission-mode\", \"bypassPermissions\"]\npass_env = [\"IS_SANDBOX\"]\n\
                  [sandbox]\nconnect = [{llm_port}]\n";
    let (output, dir, _) =
        run_configured_in(project_dir, PLAN, "claude", "", script, config, &[("IS_SANDBOX", "1")], &[]);
    let repo = dir.path().join("repo");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(git(&repo, &["show", "wavecrew/M1:hello.txt"]).trim(), "hi", "the task landed");
    for path in [outside.path().join("x.txt"), home_file.clone(), main_tree.clone(), journal.clone(), etc.into()] {
        assert!(!path.exists(), "the write to {} went through", path.display());
    }
    assert_eq!(std::fs::read_to_string(&own_state).unwrap(), "its own", "its own state folder is writable");
    let run = std::fs::read_dir(repo.join(".git/wavecrew/runs")).unwrap().next().unwrap().unwrap().path();
    let log = std::fs::read_to_string(run.join("logs/1.1-1-agent.log")).unwrap();
    assert!(log.contains("EACCES"), "the refusal is in the log: {log}");
    let denied: Vec<String> = events(&output)
        .iter()
        .filter(|e| e["event"] == "sandbox_denied" && e["operation"] == "write")
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = vec![outside.path().join("x.txt"), home_file, main_tree, journal];
    if engine::sandbox::user_may_write(std::path::Path::new("/etc")) {
        expected.push(etc.into());
    }
    let expected: Vec<String> = expected.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(denied, expected, "each refused write is journaled, once");
}

#[test]
fn best_of_three_claude_candidates_land_the_one_whose_verify_passes() {
    // Claude Code's system prompt names its working directory: each candidate's worktree
    // (`slot-0` is the lane's, then one per further candidate, taken in candidate order), so
    // the double plays a different model for each. Only candidate 2 writes what Verify wants.
    let by_worktree = |slot: &str, content: &str| llm_double::Conversation {
        matches: format!("worktrees/[^\"]*/{slot}\\b"),
        steps: vec![
            Step::Write { write: "hello.txt".into(), content: content.into() },
            Step::Text { text: "Done.".into() },
        ],
    };
    let script = Script {
        conversations: vec![by_worktree("slot-0", "no"), by_worktree("slot-1", "hi"), by_worktree("slot-2", "nope")],
        ..Script::default()
    };
    let (output, dir, _) = run_with("claude", "", script, &[], &["--best-of", "3", "--tasks", "1.1"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let repo = dir.path().join("repo");
    assert_eq!(git(&repo, &["show", "wavecrew/M1:hello.txt"]).trim(), "hi");
    let all = events(&output);
    let mut finished: Vec<(u64, String, u64)> = all
        .iter()
        .filter(|e| e["event"] == "candidate_finished")
        .map(|e| {
            (e["candidate"].as_u64().unwrap(), e["verdict"].as_str().unwrap().to_owned(), e["tokens"].as_u64().unwrap())
        })
        .collect();
    finished.sort();
    let verdicts: Vec<(u64, &str)> = finished.iter().map(|(c, v, _)| (*c, v.as_str())).collect();
    assert_eq!(verdicts, [(1, "failed"), (2, "passed"), (3, "failed")]);
    assert!(finished.iter().all(|(_, _, tokens)| *tokens > 0), "each candidate's own tokens: {finished:?}");
    let chosen: Vec<&Value> = all.iter().filter(|e| e["event"] == "candidate_chosen").collect();
    assert_eq!(chosen[0]["candidate"], 2);
    let refs = git(&repo, &["for-each-ref", "--format=%(refname)", "refs/wavecrew/"]);
    assert_eq!(refs.lines().count(), 3, "{refs}");
}

#[test]
fn claude_drafts_a_plan_and_fixes_what_check_sends_back() {
    let read =
        |path: &str| std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    let (broken, good) = (read("../../examples/broken.plan.md"), read("demo/demo.plan.md"));
    // Round 1 writes a broken plan; round 2, a new process told what check found, a clean one.
    let draft = ".wavecrew-plan/plan.md";
    let script = Script {
        steps: vec![
            Step::Write { write: draft.into(), content: broken },
            Step::Text { text: "The plan is written.".into() },
        ],
        conversations: vec![llm_double::Conversation {
            matches: r"error\[duplicate-task\]".into(),
            // Claude Code writes over a file only after reading it.
            steps: vec![
                Step::Call { call: "Read".into(), input: serde_json::json!({ "file_path": draft }) },
                Step::Write { write: draft.into(), content: good.clone() },
                Step::Text { text: "Fixed.".into() },
            ],
        }],
        ..Script::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(script)).unwrap();
    let dir = project(PLAN, "claude", &server.url(), "");
    let repo = dir.path().join("repo");
    for name in ["README.md", "wordfreq/__init__.py", "tests/__init__.py"] {
        std::fs::create_dir_all(repo.join(name).parent().unwrap()).unwrap();
        std::fs::write(repo.join(name), read(&format!("demo/{name}"))).unwrap();
    }
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "the project"]);
    let output = wavecrew(dir.path())
        .args(["plan", "Count word frequencies", "--agent", "claude", "-o", "wf.plan.md"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    let plans = repo.join(".git/wavecrew/plans");
    let session = std::fs::read_dir(&plans).unwrap().next().unwrap().unwrap().path();
    let log = std::fs::read_to_string(session.join("agent-2.log")).unwrap_or_default();
    assert!(output.status.success(), "{err}\n{log}");
    assert!(err.contains("round 1: check found") && err.contains("round 2: the draft is clean"), "{err}");
    assert_eq!(std::fs::read_to_string(repo.join("wf.plan.md")).unwrap(), good);
    // The second process was told, in its prompt, what check found in the first one's draft.
    let asked: Vec<String> = server.requests().iter().map(|r| r.body.to_string()).collect();
    let told = asked.iter().position(|body| body.contains("error[duplicate-task]"));
    let first = asked.iter().position(|body| body.contains("Count word frequencies"));
    assert!(matches!((first, told), (Some(f), Some(t)) if f < t), "round 2's prompt holds the diagnostics");
}

/// A conversation of the double for the requests on model `model`: it writes `hello.txt` with
/// the model's name, then ends its turn.
fn answering_as(model: &str, content: &str) -> llm_double::Conversation {
    llm_double::Conversation {
        matches: format!(r#""model":"{}""#, regex_escape(model)),
        steps: vec![
            Step::Write { write: "hello.txt".into(), content: content.into() },
            Step::Text { text: "Done.".into() },
        ],
    }
}

fn regex_escape(text: &str) -> String {
    text.chars().flat_map(|c| if c.is_ascii_alphanumeric() { vec![c] } else { vec!['\\', c] }).collect()
}

#[test]
fn claude_escalates_from_haiku_whose_work_fails_verify_to_sonnet_which_lands() {
    // The double answers by model: haiku's work fails Verify, sonnet's passes.
    let plan =
        PLAN.replace("`grep -qx hi hello.txt`", "`grep -qx sonnet hello.txt`").replace("| sonnet |", "| haiku |");
    let script = Script {
        conversations: vec![answering_as("claude-haiku-4-5", "haiku"), answering_as("claude-sonnet-4-5", "sonnet")],
        ..Script::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(script)).unwrap();
    let dir = project(&plan, "claude", &server.url(), "escalate = [\"haiku\", \"sonnet\", \"opus\"]\n");
    let output =
        wavecrew(dir.path()).args(["run", "plan.md", "--agent", "claude", "--yes", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(git(&dir.path().join("repo"), &["show", "wavecrew/M1:hello.txt"]), "sonnet");
    let all = events(&output);
    let models: Vec<&str> = all
        .iter()
        .filter(|e| e["event"] == "attempt_started" && e["task"] == "1.1")
        .filter_map(|e| e["model"].as_str())
        .collect();
    assert_eq!(models, ["haiku", "sonnet"]);
    assert!(
        server.requests().iter().any(|r| r.body["model"] == "claude-sonnet-4-5"),
        "the second attempt asked sonnet"
    );
    let report =
        Command::new(wavecrew_bin()).current_dir(dir.path().join("repo")).args(["report", "--json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(
        (report["tasks"][0]["model"].as_str(), report["tasks"][0]["agent"].as_str()),
        (Some("sonnet"), Some("claude"))
    );
    let sonnet = report["models"].as_array().unwrap().iter().find(|m| m["model"] == "sonnet").unwrap();
    assert_eq!(sonnet["landed"], serde_json::json!(["1.1"]));
    assert!(sonnet["cost_usd"].as_f64().unwrap_or(0.0) > 0.0, "Claude Code's cost of the sonnet attempt: {sonnet}");
}

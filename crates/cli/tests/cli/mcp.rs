//! `wavecrew mcp` driven by a real MCP client: the MCP Inspector's CLI mode (from npm,
//! installed by `scripts/install-agent-clis.sh`), which starts the server over stdio, makes one
//! request and prints the result. Every tool is called; the consent flow of `start_run` runs a
//! real run (the scripted agent, a test double, configured as a command agent) to its end.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// The tools `wavecrew mcp` serves.
const TOOLS: [&str; 10] =
    ["approve", "check_plan", "decide", "gaps", "plan", "reject", "run_report", "run_status", "show_plan", "start_run"];

/// One request to `wavecrew mcp` in `repo` through the MCP Inspector: `method` with the
/// Inspector's arguments. `Ok` is the result, `Err` the error's message.
fn inspect(repo: &Repo, method: &str, args: &[&str]) -> Result<Value, String> {
    let state = repo.root().join(".no-config");
    let output = std::process::Command::new(installed("mcp-inspector"))
        .args(["--cli", "--cwd"])
        .arg(repo.root())
        .args(["-e", "NO_COLOR=1", "-e"])
        .arg(format!("XDG_CONFIG_HOME={}", state.display()))
        .arg("-e")
        .arg(format!("XDG_STATE_HOME={}", test_state_home().display()))
        .arg(wavecrew_bin())
        .args(["mcp", "--method", method])
        .args(args)
        .output()
        .expect("the MCP Inspector starts");
    let json = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).ok();
    if output.status.success() {
        return json(&output.stdout).ok_or_else(|| panic!("not JSON: {}", String::from_utf8_lossy(&output.stdout)));
    }
    let error = json(&output.stderr).or_else(|| json(&output.stdout)).unwrap_or_else(|| {
        panic!("the Inspector failed: {}{}", String::from_utf8_lossy(&output.stdout), stderr(&output))
    });
    Err(error["error"]["message"].as_str().unwrap_or_else(|| panic!("no error message: {error}")).to_owned())
}

/// `tools/call` of `tool` with `key=value` arguments (a value in double quotes stays a string,
/// `task="1.1"`): the text it answered with, or the error's message.
fn call(repo: &Repo, tool: &str, args: &[&str]) -> Result<String, String> {
    let mut inspector = vec!["--tool-name", tool];
    if !args.is_empty() {
        inspector.push("--tool-arg");
        inspector.extend_from_slice(args);
    }
    let result = inspect(repo, "tools/call", &inspector)?;
    assert_eq!(result["isError"], false, "{result}");
    Ok(result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text: {result}")).to_owned())
}

/// What `wavecrew ARGS` printed on stdout, and on stderr (trimmed).
fn cli(repo: &Repo, args: &[&str]) -> (String, String) {
    let output = repo.command(args).output().unwrap();
    (String::from_utf8_lossy(&output.stdout).into_owned(), stderr(&output).trim().to_owned())
}

#[test]
fn the_plan_tools_answer_as_the_cli_does_and_refuse_paths_outside_the_repository() {
    let repo = Repo::builder()
        .file("README.md", "# project\n")
        .commit("initial")
        .file("plans/good.plan.md", CHECKPOINT_PLAN)
        .file("plans/broken.plan.md", CHECKPOINT_PLAN.replace("**Task 2.2**", "**Task 2.1**"))
        .wavecrew(wavecrew())
        .build();

    let listed = inspect(&repo, "tools/list", &[]).unwrap();
    let mut names: Vec<&str> =
        listed["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, TOOLS);

    // check_plan: the diagnostics of `check --format json`, for a file and for a text.
    let checked: Value =
        serde_json::from_str(&call(&repo, "check_plan", &["path=plans/broken.plan.md"]).unwrap()).unwrap();
    let (stdout, _) = cli(&repo, &["check", "--format", "json", "plans/broken.plan.md"]);
    assert_eq!(checked, serde_json::from_str::<Value>(&stdout).unwrap());
    assert!(checked.as_array().unwrap().iter().any(|d| d["code"] == "duplicate-task"), "{checked}");
    let text = format!("text={}", serde_json::to_string(CHECKPOINT_PLAN).unwrap());
    let checked: Value = serde_json::from_str(&call(&repo, "check_plan", &[&text]).unwrap()).unwrap();
    assert!(checked.as_array().unwrap().iter().all(|d| d["severity"] != "error"), "{checked}");

    // show_plan: what `show` prints.
    let (stdout, _) = cli(&repo, &["show", "plans/good.plan.md"]);
    assert_eq!(call(&repo, "show_plan", &["path=plans/good.plan.md"]).unwrap(), stdout);
    assert!(stdout.contains("Checkpoints"), "{stdout}");

    // A file that is not there: the CLI's error, word for word.
    let (_, said) = cli(&repo, &["check", "plans/nope.plan.md"]);
    assert_eq!(call(&repo, "check_plan", &["path=plans/nope.plan.md"]).unwrap_err(), said);
    assert!(said.starts_with("error: `plans/nope.plan.md`: no such file"), "{said}");

    // Paths that leave the repository are refused, also through a symbolic link.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.plan.md"), CHECKPOINT_PLAN).unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.root().join("link")).unwrap();
    for path in
        ["../secret.plan.md", "link/secret.plan.md", &outside.path().join("secret.plan.md").display().to_string()]
    {
        let error = call(&repo, "show_plan", &[&format!("path={path}")]).unwrap_err();
        assert!(error.starts_with(&format!("error: `{path}` is outside the repository")), "{path}: {error}");
    }
    let error = call(&repo, "check_plan", &[]).unwrap_err();
    assert!(error.contains("pass either `path`"), "{error}");
    let error = inspect(&repo, "tools/call", &["--tool-name", "no_such_tool"]).unwrap_err();
    assert!(error.contains("no_such_tool"), "{error}");
}

/// Waits (at most 60 s) until `wavecrew status` of the newest run shows `task` in `state`.
fn wait_for(repo: &Repo, task: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, said) = cli(repo, &["status"]);
        if status.lines().any(|l| l.split_whitespace().take(2).eq([task, state])) {
            return;
        }
        assert!(Instant::now() < deadline, "{task} never got {state}: {status}{said}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Cancels the run when the test ends (it runs in a process of its own that outlives the
/// server, and a failing test would leave it waiting).
struct CancelOnDrop<'r>(&'r Repo, String);

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.command(&["cancel", &self.1]).output();
    }
}

#[test]
fn start_run_runs_nothing_without_consent_then_the_run_is_followed_and_answered() {
    let repo = scripted_repo(CHECKPOINT_PLAN, &checkpoint_script());
    // The scripted agent (a test double) as a configured command agent: `start_run` starts
    // `wavecrew run` as a person would, with the configuration's agent.
    let script = repo.root().join("script.json");
    let config = format!(
        "agent = \"double\"\n[agents.double]\ncommand = [{:?}, \"agent-double\", \"--script\", {:?}]\n",
        wavecrew_bin().display().to_string(),
        script.display().to_string()
    );
    std::fs::write(repo.root().join("wavecrew.toml"), config).unwrap();
    let no_runs = |repo: &Repo| cli(repo, &["runs"]).0 == "no runs yet\n";

    // Without consent: the commands and the hash, and nothing runs.
    let asked = call(&repo, "start_run", &["path=plan.md"]).unwrap();
    assert!(asked.starts_with("Nothing was run."), "{asked}");
    assert!(asked.contains("  2.1  test -f after.txt"), "{asked}");
    let hash = engine_hash(&repo.root().join("plan.md"));
    assert!(asked.contains(&format!("plan hash: {hash}")), "{asked}");
    // A consent that is not the plan's hash as it is now: refused, nothing runs.
    let error = call(&repo, "start_run", &["path=plan.md", "consent=not-the-hash"]).unwrap_err();
    assert!(error.starts_with("error: `not-the-hash` is not the hash of `plan.md`"), "{error}");
    assert!(no_runs(&repo), "a run started without consent");

    // With the hash: the run starts in the background, and the tool says which.
    let started = call(&repo, "start_run", &["path=plan.md", &format!("consent={hash}")]).unwrap();
    let run = started.strip_prefix("run ").and_then(|s| s.split(' ').next()).unwrap_or_else(|| panic!("{started}"));
    let _cancel = CancelOnDrop(&repo, run.to_owned());
    assert_eq!(repo.newest_run(), run);
    assert!(started.contains("on branch `wavecrew/M1`"), "{started}");
    let log = repo.state_dir().join("runs").join(run).join("wavecrew-run.log");
    assert!(started.contains(&log.display().to_string()), "{started}");

    wait_for(&repo, "1.1", "waiting");
    wait_for(&repo, "1.2", "waiting");
    let status = call(&repo, "run_status", &[]).unwrap();
    assert!(status.starts_with(&format!("run {run}: M1 · Checkpoints")), "{status}");
    assert!(status.lines().any(|l| l.split_whitespace().take(2).eq(["1.1", "waiting"])), "{status}");
    assert_eq!(status, cli(&repo, &["status", run]).0);

    // A task that is not waiting: the CLI's error.
    let (_, said) = cli(&repo, &["approve", run, "2.1"]);
    assert!(said.starts_with("error: task 2.1 is not waiting for an answer"), "{said}");
    assert_eq!(call(&repo, "approve", &[&format!("run={run}"), "task=\"2.1\""]).unwrap_err(), said);

    // Reject 1.1 (its agent draws it again), decide 1.2, then approve 1.1 and the human-action.
    let run_arg = format!("run={run}");
    // A rejection with nothing to say is the CLI's error; one with a comment on a line reaches
    // the agent as the room's "Reject with comments" does.
    let (_, said) = cli(&repo, &["reject", run, "1.1", "--reason", " "]);
    let refused = call(&repo, "reject", &[&run_arg, "task=\"1.1\"", "reason= "]).unwrap_err();
    assert_eq!(refused, said, "the CLI's words");
    assert!(refused.starts_with("error: a rejection needs a reason or comments"), "{refused}");
    let comments = r#"comments=[{"path":"ui.txt","line":1,"text":"make it pretty"}]"#;
    call(&repo, "reject", &[&run_arg, "task=\"1.1\"", "reason=too ugly", comments]).unwrap();
    call(&repo, "decide", &[&run_arg, "task=\"1.2\"", "option=SQLite"]).unwrap();
    wait_for(&repo, "1.1", "waiting");
    call(&repo, "approve", &[&run_arg, "task=\"1.1\""]).unwrap();
    wait_for(&repo, "2.2", "waiting");
    call(&repo, "approve", &[&run_arg, "task=\"2.2\"", "note=rotated"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cli(&repo, &["runs"]).0.contains("succeeded") {
        assert!(Instant::now() < deadline, "the run did not end: {}", cli(&repo, &["status"]).0);
        std::thread::sleep(Duration::from_millis(200));
    }
    // The rejected checkpoint was drawn again: the branch has the second drawing.
    assert_eq!(repo.git(&["show", "wavecrew/M1:ui.txt"]), "pretty");
    let prompt = repo.run_file("prompts", "1.1-2.md");
    assert!(prompt.contains("too ugly\n\nComments on the diff:\n- ui.txt:1: make it pretty"), "{prompt}");
    assert!(std::fs::read_to_string(&log).unwrap().contains(&format!("run {run} succeeded")));

    let report = call(&repo, "run_report", &[]).unwrap();
    assert_eq!(report.trim_end(), cli(&repo, &["report", run]).0.trim_end());
    assert!(report.contains("SQLite"), "{report}");
    let json: Value = serde_json::from_str(&call(&repo, "run_report", &[&run_arg, "json=true"]).unwrap()).unwrap();
    assert_eq!(json["run"], run, "{json}");
    let gaps = call(&repo, "gaps", &[&run_arg]).unwrap();
    let (_, said) = cli(&repo, &["gaps", run]);
    assert_eq!(gaps, said);
    assert!(gaps.starts_with(&format!("run {run} left nothing to close")), "{gaps}");

    // The run as resources: its status and its report.
    let listed = inspect(&repo, "resources/list", &[]).unwrap();
    let uris: Vec<&str> = listed["resources"].as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap()).collect();
    let (status_uri, report_uri) = (format!("wavecrew://runs/{run}/status"), format!("wavecrew://runs/{run}/report"));
    assert_eq!(uris, [status_uri.as_str(), report_uri.as_str()]);
    let read = |uri: &str| {
        let read = inspect(&repo, "resources/read", &["--uri", uri])?;
        Ok::<_, String>(read["contents"][0]["text"].as_str().unwrap_or_else(|| panic!("{read}")).to_owned())
    };
    assert_eq!(read(&status_uri).unwrap(), cli(&repo, &["status", run]).0);
    assert_eq!(read(&report_uri).unwrap().trim_end(), cli(&repo, &["report", run]).0.trim_end());
    let error = read(&format!("wavecrew://runs/{run}/nothing")).unwrap_err();
    assert!(error.starts_with("error: no resource"), "{error}");
    let error = read("wavecrew://runs/no-such-run/status").unwrap_err();
    assert!(error.starts_with("error: no run `no-such-run` in this repository"), "{error}");
}

/// The plan's hash as wavecrew computes it (SHA-256 of its bytes), through `sha256sum`.
fn engine_hash(path: &Path) -> String {
    let output = std::process::Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&output.stdout).split_whitespace().next().unwrap().to_owned()
}

/// The first two messages of a session a test writes by hand.
const INITIALIZE: [&str; 2] = [
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"by-hand","version":"1"}}}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
];

/// `wavecrew mcp` in `repo` for a client written by hand: the server and its input.
fn by_hand(repo: &Repo) -> (std::process::Child, std::process::ChildStdin) {
    let mut server = repo
        .command(&["mcp"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = server.stdin.take().unwrap();
    (server, stdin)
}

/// What no client sends, written to the server's stdin by hand: a line that is not JSON, a
/// line over the 16 MiB a message may have, a call of a tool that does not exist. The server
/// answers what it can, never crashes, and ends when its input does.
#[test]
fn malformed_and_oversized_messages_do_not_stop_the_server() {
    use std::io::Write as _;
    let repo = scripted_repo(CHECKPOINT_PLAN, &checkpoint_script());
    let (server, mut stdin) = by_hand(&repo);
    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{{\"name\":\"check_plan\",\"arguments\":{{\"text\":\"{}\"}}}}}}",
        "x".repeat(17 * 1024 * 1024)
    );
    let lines = [
        INITIALIZE[0],
        INITIALIZE[1],
        "{this is not json",
        &huge,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"show_plan","arguments":{"path":"plan.md"}}}"#,
    ];
    let lines = lines.map(str::to_owned);
    let writer = std::thread::spawn(move || {
        for line in lines {
            // The server may drop what it cannot read; a closed pipe is its answer then.
            if stdin.write_all(format!("{line}\n").as_bytes()).is_err() {
                break;
            }
        }
    });
    let output = server.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let answers: Vec<Value> = json_lines(&output.stdout);
    let by_id =
        |id: u64| answers.iter().find(|a| a["id"] == id).unwrap_or_else(|| panic!("no answer {id}: {answers:?}"));
    assert_eq!(by_id(1)["result"]["serverInfo"]["name"], "wavecrew");
    assert_eq!(by_id(3)["error"]["code"], -32602, "{answers:?}");
    let shown = by_id(4)["result"]["content"][0]["text"].as_str().unwrap();
    assert!(shown.starts_with("M1 · Checkpoints"), "{shown}");
    assert!(answers.iter().all(|a| a["id"] != 9), "an oversized message was read: {answers:?}");
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

/// The real Claude Code (`claude -p`) with `wavecrew mcp` in its `--mcp-config`, its model the
/// scripted LLM server (a test double) that calls `check_plan`, then `run_status`, then ends:
/// what the tools answered reaches the model as their results.
#[test]
fn claude_code_calls_check_plan_and_run_status_through_mcp() {
    use llm_double::{Script, Server, Step};
    let repo = Repo::builder()
        .file("README.md", "# project\n")
        .commit("initial")
        .plan(&CHECKPOINT_PLAN.replace("**Task 2.2**", "**Task 2.1**"))
        .wavecrew(wavecrew())
        .build();
    let steps = vec![
        Step::Call { call: "mcp__wavecrew__check_plan".into(), input: serde_json::json!({"path": "plan.md"}) },
        Step::Call { call: "mcp__wavecrew__run_status".into(), input: serde_json::json!({}) },
        Step::Text { text: "The plan has a duplicate task and no run yet.".into() },
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(Server::start(Script { steps, ..Script::default() })).unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = serde_json::json!({"mcpServers": {"wavecrew": {"command": wavecrew_bin(), "args": ["mcp"],
        "env": {"XDG_CONFIG_HOME": repo.root().join(".no-config"), "XDG_STATE_HOME": test_state_home()}}}});
    let config_file = home.path().join("mcp.json");
    std::fs::write(&config_file, config.to_string()).unwrap();
    let output = std::process::Command::new(installed("claude"))
        .current_dir(repo.root())
        .env("HOME", home.path())
        .env("ANTHROPIC_BASE_URL", server.url())
        .env("ANTHROPIC_API_KEY", "test-key-for-the-double")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .args([
            "-p",
            "Check plan.md, then say whether a run is going.",
            "--output-format",
            "json",
            "--strict-mcp-config",
        ])
        .arg("--mcp-config")
        .arg(&config_file)
        .args(["--allowedTools", "mcp__wavecrew__check_plan,mcp__wavecrew__run_status"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}{}", String::from_utf8_lossy(&output.stdout), stderr(&output));
    let requests = server.requests();
    let conversation: Vec<String> = requests
        .iter()
        .filter(|r| r.uri.starts_with("/v1/messages") && !r.uri.contains("count_tokens"))
        .map(|r| r.body["messages"].to_string())
        .collect();
    let offered = requests.iter().any(|r| r.body["tools"].to_string().contains("mcp__wavecrew__start_run"));
    assert!(offered, "Claude Code did not offer wavecrew's tools to the model");
    assert!(
        conversation.iter().any(|m| m.contains("tool_result") && m.contains("duplicate-task")),
        "check_plan's diagnostics never reached the model: {conversation:#?}"
    );
    assert!(
        conversation.iter().any(|m| m.contains("this repository has no runs yet")),
        "run_status's error never reached the model: {conversation:#?}"
    );
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("The plan has a duplicate task and no run yet."), "{said}");
}

/// The demo's project whose configured agent is a command agent (a shell script, a test
/// double) that drafts `drafts[n-1]` in round n.
fn planning_project(scripts: &Path, drafts: &[String]) -> Repo {
    let repo = crate::plan::project();
    let agent = crate::plan::drafting_agent(scripts, drafts, "");
    let argv: Vec<&str> = agent.split(' ').collect();
    let config = format!("agent = \"drafter\"\n[agents.drafter]\ncommand = {argv:?}\n");
    std::fs::write(repo.root().join("wavecrew.toml"), config).unwrap();
    repo
}

#[test]
fn plan_drafts_a_plan_from_a_goal_as_the_cli_does_and_writes_only_inside_the_repository() {
    let scripts = tempfile::tempdir().unwrap();
    let demo_plan = crate::plan::demo("demo.plan.md");
    let broken = demo_plan.replace("**Task 1.2", "**Task 1.1");
    let repo = planning_project(scripts.path(), &[broken, demo_plan.clone()]);

    let drafted = call(&repo, "plan", &["goal=Count word frequencies", "output=plans/wf.plan.md"]).unwrap();
    assert!(drafted.contains("round 1: check found") && drafted.contains("round 2: the draft is clean"), "{drafted}");
    assert!(drafted.contains("6 tasks in 3 waves"), "show's summary: {drafted}");
    assert_eq!(std::fs::read_to_string(repo.root().join("plans/wf.plan.md")).unwrap(), demo_plan);

    // An existing file is the CLI's error; paths outside the repository and an empty goal are
    // refused before any agent starts.
    let again = call(&repo, "plan", &["goal=Count word frequencies", "output=plans/wf.plan.md"]).unwrap_err();
    assert!(again.starts_with("error: `plans/wf.plan.md` already exists"), "{again}");
    let outside = call(&repo, "plan", &["goal=x", "output=../wf.plan.md"]).unwrap_err();
    assert!(outside.starts_with("error: `../wf.plan.md` is outside the repository"), "{outside}");
    let outside = call(&repo, "plan", &["goal=x", "from=[\"/etc/passwd\"]"]).unwrap_err();
    assert!(outside.starts_with("error: `/etc/passwd` is outside the repository"), "{outside}");
    let empty = call(&repo, "plan", &["goal= "]).unwrap_err();
    assert!(empty.starts_with("error: the goal is empty"), "{empty}");
    let sessions = std::fs::read_dir(repo.state_dir().join("plans")).unwrap().count();
    assert_eq!(sessions, 1, "only the first call started the planning agent");
}

/// A client that asks for progress gets `wavecrew plan`'s lines as they come, then the result.
#[test]
fn plan_sends_its_rounds_as_progress_notifications() {
    use std::io::{BufRead as _, Write as _};
    let scripts = tempfile::tempdir().unwrap();
    let repo = planning_project(scripts.path(), &[crate::plan::demo("demo.plan.md")]);
    let (mut server, mut stdin) = by_hand(&repo);
    for line in [
        INITIALIZE[0],
        INITIALIZE[1],
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"plan","arguments":{"goal":"Count word frequencies","output":"wf.plan.md"},"_meta":{"progressToken":"p1"}}}"#,
    ] {
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    // Read until the answer to the call: the server ends when its input does.
    let mut seen: Vec<Value> = Vec::new();
    for line in std::io::BufReader::new(server.stdout.take().unwrap()).lines() {
        let message: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let done = message["id"] == 2;
        seen.push(message);
        if done {
            break;
        }
    }
    drop(stdin);
    assert!(server.wait().unwrap().success());
    let progress: Vec<&str> = seen
        .iter()
        .filter(|m| m["method"] == "notifications/progress" && m["params"]["progressToken"] == "p1")
        .filter_map(|m| m["params"]["message"].as_str())
        .collect();
    assert!(progress.iter().any(|m| m.starts_with("planning with drafter")), "{progress:?}");
    assert!(progress.iter().any(|m| m.starts_with("round 1: the draft is clean")), "{progress:?}");
    let answer = seen.last().unwrap();
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert!(answer["result"]["content"][0]["text"].as_str().unwrap().contains("6 tasks in 3 waves"), "{answer}");
}

/// A client that cancels a `plan` call stops the planning agent, as Ctrl-C stops `wavecrew
/// plan`: its process is gone and its worktree too.
#[test]
fn a_cancelled_plan_call_stops_the_planning_agent() {
    use std::io::Write as _;
    let repo = crate::plan::project();
    let config =
        format!("agent = \"thinker\"\n[agents.thinker]\ncommand = [\"sh\", \"-c\", {:?}]\n", crate::plan::THINKER);
    std::fs::write(repo.root().join("wavecrew.toml"), config).unwrap();
    let (mut server, mut stdin) = by_hand(&repo);
    let mut send = |line: &str| stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
    for line in INITIALIZE {
        send(line);
    }
    send(
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"plan","arguments":{"goal":"Count word frequencies"}}}"#,
    );
    let agent_pid = crate::plan::thinking_agent_pid(&repo);
    send(
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"the person changed their mind"}}"#,
    );
    let alive = || std::process::Command::new("kill").args(["-0", &agent_pid.to_string()]).status().unwrap().success();
    let deadline = Instant::now() + Duration::from_secs(30);
    while alive() || repo.git(&["worktree", "list"]).lines().count() > 1 {
        assert!(Instant::now() < deadline, "the agent or its worktree outlived the cancellation");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    assert!(server.wait().unwrap().success());
    assert!(!repo.root().join("count-word-frequencies.plan.md").exists());
}

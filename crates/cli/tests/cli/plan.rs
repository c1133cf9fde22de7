//! `wavecrew plan GOAL`: drafts go back to the agent with `check`'s diagnostics until one is
//! clean; a draft still broken after the last round is kept as `FILE.draft`; the agent reads the
//! repository and cannot change it; `--run` runs the plan. The agents are the command agent
//! (a shell script that writes fixed drafts) and the scripted agent (the test double).

use crate::common::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The bundled demo: its project files and its plan, which `check` finds clean against them.
pub(crate) fn demo(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A plan `check` finds many errors in (the contract's broken example).
fn broken() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/broken.plan.md")).unwrap()
}

/// The demo's project, committed.
pub(crate) fn project() -> Repo {
    Repo::builder()
        .file("README.md", demo("README.md"))
        .file("wordfreq/__init__.py", demo("wordfreq/__init__.py"))
        .file("tests/__init__.py", demo("tests/__init__.py"))
        .commit("initial")
        .wavecrew(wavecrew())
        .build()
}

/// A command agent: a script (outside the repository) that writes `drafts[n-1]` as round n's
/// draft (the last one for later rounds) to `{plan_file}`, after running `before`.
pub(crate) fn drafting_agent(dir: &Path, drafts: &[String], before: &str) -> String {
    for (i, draft) in drafts.iter().enumerate() {
        std::fs::write(dir.join(format!("draft-{}.md", i + 1)), draft).unwrap();
    }
    let last = drafts.len();
    let script = dir.join("agent.sh");
    let body = format!(
        "#!/bin/sh\n{before}\nn=$WAVECREW_ATTEMPT; [ \"$n\" -gt {last} ] && n={last}\ncp \"{}/draft-$n.md\" \"$1\"\n",
        dir.display()
    );
    std::fs::write(&script, body).unwrap();
    format!("sh {} {{plan_file}}", script.display())
}

/// A planning agent's shell script that says its pid (in its log), then thinks for ever.
pub(crate) const THINKER: &str = "echo pid $$; exec sleep 600";

/// The pid of the [`THINKER`] planning `repo` (its session's first round), once it started.
pub(crate) fn thinking_agent_pid(repo: &Repo) -> u32 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let log = std::fs::read_dir(repo.state_dir().join("plans"))
            .ok()
            .and_then(|mut sessions| sessions.next())
            .and_then(|session| std::fs::read_to_string(session.ok()?.path().join("agent-1.log")).ok());
        if let Some(pid) = log.as_deref().and_then(|l| l.strip_prefix("pid ")).and_then(|p| p.trim().parse().ok()) {
            return pid;
        }
        assert!(std::time::Instant::now() < deadline, "the planning agent never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn plan_command(repo: &Repo, agent: &str, extra: &[&str]) -> std::process::Output {
    repo.command(&[&["plan", "Count word frequencies", "--agent", "command", "--agent-command", agent], extra].concat())
        .output()
        .unwrap()
}

/// The planning session's folder (the only one).
fn session(repo: &Repo) -> PathBuf {
    let plans = repo.state_dir().join("plans");
    std::fs::read_dir(&plans).unwrap().next().unwrap().unwrap().path()
}

#[test]
fn a_draft_with_problems_goes_back_to_the_agent_until_check_finds_it_clean() {
    let repo = project();
    let scripts = tempfile::tempdir().unwrap();
    let agent = drafting_agent(scripts.path(), &[broken(), demo("demo.plan.md")], "");
    let output = plan_command(&repo, &agent, &["-o", "wf.plan.md"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("round 1: check found") && err.contains("round 2: the draft is clean"), "{err}");
    assert_eq!(std::fs::read_to_string(repo.root().join("wf.plan.md")).unwrap(), demo("demo.plan.md"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("6 tasks in 3 waves"), "show's summary");

    // Round 2's prompt holds round 1's diagnostics as check prints them, naming the draft.
    let session = session(&repo);
    let first = std::fs::read_to_string(session.join("prompt-1.md")).unwrap();
    let second = std::fs::read_to_string(session.join("prompt-2.md")).unwrap();
    assert!(!first.contains("error[duplicate-task]") && first.contains("# The plan format"));
    assert!(second.contains("error[duplicate-task]: there are two tasks 1.1"), "{second}");
    assert!(second.contains("--> ") && second.contains(".wavecrew-plan/plan.md:"), "{second}");
    assert!(second.contains("Count word frequencies") && second.contains("wordfreq/__init__.py"), "goal and map");
    // The worktree the agent read is gone; nothing of the user's changed.
    assert_eq!(repo.git(&["worktree", "list"]).lines().count(), 1);
    assert_eq!(repo.git(&["status", "--porcelain"]).trim(), "?? wf.plan.md");
}

#[test]
fn a_draft_still_broken_after_the_last_round_is_kept_next_to_the_file_with_its_diagnostics() {
    let repo = project();
    let scripts = tempfile::tempdir().unwrap();
    let agent = drafting_agent(scripts.path(), &[broken()], "");
    let output = plan_command(&repo, &agent, &["-o", "wf.plan.md", "--rounds", "2"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("error[duplicate-task]") && err.contains("--> wf.plan.md.draft:"), "{err}");
    assert!(err.contains("after 2 round(s)") && err.contains("wavecrew check wf.plan.md.draft"), "{err}");
    assert!(!repo.root().join("wf.plan.md").exists());
    assert_eq!(std::fs::read_to_string(repo.root().join("wf.plan.md.draft")).unwrap(), broken());
}

#[test]
fn the_planning_agent_reads_the_repository_but_cannot_change_it() {
    if let engine::sandbox::Support::Unavailable(reason) = engine::sandbox::support() {
        eprintln!("SKIPPED: this kernel cannot sandbox ({reason})");
        return;
    }
    let repo = project();
    let scripts = tempfile::tempdir().unwrap();
    let root = repo.root().display().to_string();
    let before = format!(
        "grep -q wordfreq README.md && echo read-ok; echo x >> README.md; echo x >> {root}/README.md; \
         mkdir -p src && echo x > src/new.py; true"
    );
    let agent = drafting_agent(scripts.path(), &[demo("demo.plan.md")], &before);
    let output = plan_command(&repo, &agent, &["-o", "wf.plan.md"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(repo.root().join("README.md")).unwrap(), demo("README.md"));
    assert_eq!(repo.git(&["status", "--porcelain"]).trim(), "?? wf.plan.md", "nothing else changed");
    let log = std::fs::read_to_string(session(&repo).join("agent-1.log")).unwrap();
    assert!(log.contains("read-ok") && log.matches("Permission denied").count() >= 2, "{log}");
}

#[test]
fn an_existing_plan_file_is_refused_before_any_agent_starts() {
    let repo = project();
    std::fs::write(repo.root().join("wf.plan.md"), "mine\n").unwrap();
    let scripts = tempfile::tempdir().unwrap();
    let marker = scripts.path().join("started");
    let agent = drafting_agent(scripts.path(), &[demo("demo.plan.md")], &format!("touch {}", marker.display()));
    let output = plan_command(&repo, &agent, &["-o", "wf.plan.md"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("`wf.plan.md` already exists") && stderr(&output).contains("--force"));
    assert!(!marker.exists(), "no agent was started");
    assert_eq!(std::fs::read_to_string(repo.root().join("wf.plan.md")).unwrap(), "mine\n");
    // `--run` without a terminal to ask is refused as early.
    let output = plan_command(&repo, &agent, &["-o", "other.plan.md", "--run"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--yes") && !marker.exists());
}

#[test]
fn a_plan_drafted_by_the_scripted_agent_runs_with_run_yes() {
    let repo = project();
    let mut script: serde_json::Value = serde_json::from_str(&demo("demo.script.json")).unwrap();
    script["tasks"]["plan"] = json!([[write(".wavecrew-plan/plan.md", &demo("demo.plan.md"))]]);
    let script_file = repo.root().join("ignored-script.json");
    std::fs::write(&script_file, script.to_string()).unwrap();
    let script_arg = script_file.display().to_string();
    let output = repo
        .command(&["plan", "Count words", "--agent", "scripted", "--script", &script_arg, "-o", "wf.plan.md"])
        .args(["--run", "--yes"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(repo.commits("wavecrew/M2").len(), 6, "every task of the drafted plan landed");
}

#[test]
fn the_planning_agent_has_the_run_s_sandbox_settings() {
    match engine::sandbox::support() {
        engine::sandbox::Support::Available { abi } if abi >= engine::sandbox::NET_ABI => {}
        other => {
            eprintln!("SKIPPED: this kernel cannot restrict TCP connects ({other:?})");
            return;
        }
    }
    let repo = project();
    let (allowed, other) =
        (std::net::TcpListener::bind("127.0.0.1:0").unwrap(), std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let (allowed, other) = (allowed.local_addr().unwrap().port(), other.local_addr().unwrap().port());
    let extra = tempfile::tempdir().unwrap();
    let config = format!("[sandbox]\nconnect = [{allowed}]\nwritable = [\"{}\"]\n", extra.path().display());
    std::fs::write(repo.root().join("wavecrew.toml"), config).unwrap();
    let scripts = tempfile::tempdir().unwrap();
    let before = format!(
        "bash -c 'echo > /dev/tcp/127.0.0.1/{allowed}' && echo reached-allowed; \
         bash -c 'echo > /dev/tcp/127.0.0.1/{other}' || echo refused-other; echo x > {}/written",
        extra.path().display()
    );
    let agent = drafting_agent(scripts.path(), &[demo("demo.plan.md")], &before);
    let output = plan_command(&repo, &agent, &["-o", "wf.plan.md"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let log = std::fs::read_to_string(session(&repo).join("agent-1.log")).unwrap();
    assert!(log.contains("reached-allowed") && log.contains("refused-other"), "{log}");
    assert!(extra.path().join("written").exists(), "`[sandbox] writable` holds for it: {log}");
}

#[test]
fn an_interrupted_plan_stops_its_agent_and_leaves_no_worktree() {
    let repo = project();
    let agent = format!("sh -c '{THINKER}'");
    let child = repo
        .command(&["plan", "Count word frequencies", "--agent", "command", "--agent-command", &agent])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let agent_pid = thinking_agent_pid(&repo);
    // SIGTERM, as an MCP client's cancellation sends it (Ctrl-C is SIGINT, handled alike).
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("error: interrupted in round 1: the planning agent was stopped and nothing was written"),
        "{err}"
    );
    let gone = std::process::Command::new("kill").args(["-0", &agent_pid.to_string()]).status().unwrap();
    assert!(!gone.success(), "the agent (pid {agent_pid}) still runs");
    assert_eq!(repo.git(&["worktree", "list"]).lines().count(), 1, "the planning worktree is left");
    assert!(!repo.root().join("count-word-frequencies.plan.md").exists());
}

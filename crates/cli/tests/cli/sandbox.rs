//! `--sandbox`: an agent confined by Landlock writes its worktree, and nothing of the user's
//! (home folder, work tree, the run's journal, other lanes' folders, `/etc`); its Verify
//! commands likewise; the refusals show in the attempt's logs. Skipped, saying so, only where
//! the kernel has no Landlock.

use crate::common::*;
use serde_json::json;

/// `wavecrew run` of the scripted agent (the test double) on `plan.md`.
const RUN: &[&str] = &["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes"];

fn landlock_here() -> bool {
    match engine::sandbox::support() {
        engine::sandbox::Support::Available { .. } => true,
        engine::sandbox::Support::Unavailable(reason) => {
            eprintln!("SKIPPED: this kernel cannot sandbox ({reason})");
            false
        }
    }
}

#[test]
fn a_sandboxed_agent_writes_its_worktree_and_nothing_of_the_users() {
    if !landlock_here() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let verify = "`test -f a.txt && (echo v > \"$HOME/from-verify\" || echo verify-refused)`";
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", verify)])]);
    let repo = scripted_repo(&plan, &json!({}));
    let root = repo.root().display().to_string();
    // Each write but the first must be refused; the agent goes on (`;`) and exits 0.
    let agent = format!(
        "sh -c 'echo a > a.txt; echo x > \"$HOME/x\"; echo y >> {root}/README.md; echo j > {root}/.git/wavecrew/j; \
         echo l > ../other-lane; echo e > /etc/wavecrew-sandbox-test; echo t > \"$TMPDIR/t\" && echo tmp-ok; true'"
    );
    let output = repo
        .command(&["run", "plan.md", "--yes", "--attempts", "1", "--sandbox", "required", "--agent", "command"])
        .args(["--agent-command", &agent])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(repo.commits("wavecrew/M1").len(), 1, "the task landed");
    assert_eq!(git::show(repo.root(), "wavecrew/M1", "a.txt"), "a");

    assert!(!home.path().join("x").exists() && !home.path().join("from-verify").exists());
    assert_eq!(std::fs::read_to_string(repo.root().join("README.md")).unwrap(), "# project\n");
    assert!(!repo.state_dir().join("j").exists());
    assert!(!std::path::Path::new("/etc/wavecrew-sandbox-test").exists());
    let agent_log = repo.run_file("logs", "1.1-1-agent.log");
    assert_eq!(agent_log.matches("Permission denied").count(), 5, "each refused write shows: {agent_log}");
    assert!(agent_log.contains("tmp-ok"), "its private TMPDIR is writable: {agent_log}");
    let verify_log = repo.run_file("logs", "1.1-1-verify-1.log");
    assert!(verify_log.contains("Permission denied") && verify_log.contains("verify-refused"), "{verify_log}");
    assert!(!repo.run_dir().join("tmp/1.1-1-agent").exists(), "the private TMPDIR goes when the agent exits");

    // Each refusal is journaled with its path, shown as it happens and listed by the report.
    let run = repo.run_dir().file_name().unwrap().to_string_lossy().into_owned();
    let events = testkit::events::journal_events(&repo.state_dir(), &run);
    let worktree = std::path::PathBuf::from(
        testkit::events::first_of_kind(&events, "attempt_started")["worktree"].as_str().unwrap(),
    );
    let denied: Vec<(String, String)> = of_kind(&events, "sandbox_denied")
        .iter()
        .map(|e| (e["process"].as_str().unwrap().to_owned(), e["path"].as_str().unwrap().to_owned()))
        .collect();
    let agent = |path: std::path::PathBuf| ("agent".to_owned(), path.display().to_string());
    let mut expected = vec![
        agent(home.path().join("x")),
        agent(repo.root().join("README.md")),
        agent(repo.state_dir().join("j")),
        agent(worktree.parent().unwrap().join("other-lane")),
    ];
    if engine::sandbox::user_may_write(std::path::Path::new("/etc")) {
        expected.push(agent("/etc/wavecrew-sandbox-test".into()));
    }
    expected.push(("verify-1".into(), home.path().join("from-verify").display().to_string()));
    assert_eq!(denied, expected);
    assert!(stderr(&output).contains(&format!("1.1  sandbox refused a write to {}/x (agent)", home.path().display())));
    let report = repo.run_file("", "report.md");
    assert!(report.contains("## Sandbox refusals") && report.contains("(attempt 1, verify-1): write"), "{report}");
}

#[test]
fn with_the_sandbox_off_the_same_agent_writes_where_it_likes() {
    let home = tempfile::tempdir().unwrap();
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    let repo = scripted_repo(&plan, &json!({}));
    let output = repo
        .command(&["run", "plan.md", "--yes", "--attempts", "1", "--sandbox", "off", "--agent", "command"])
        .args(["--agent-command", "sh -c 'echo a > a.txt; echo x > \"$HOME/x\"'"])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(home.path().join("x").exists(), "nothing confined it");
}

#[test]
fn a_writable_folder_that_does_not_exist_or_is_the_home_folder_stops_the_run_before_it_starts() {
    let home = tempfile::tempdir().unwrap();
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    let repo = scripted_repo(&plan, &json!({}));
    for (writable, says) in [("\"no-such-dir\"", "does not create folders"), ("\"~\"", "leaves nothing sandboxed")] {
        std::fs::write(repo.root().join("wavecrew.toml"), format!("[sandbox]\nwritable = [{writable}]\n")).unwrap();
        let output =
            repo.command(&[RUN, &["--sandbox", "landlock"]].concat()).env("HOME", home.path()).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains(says), "{}", stderr(&output));
        assert!(!repo.state_dir().join("runs").exists(), "no run started");
    }
    // With the sandbox off, the list is not used and not checked.
    let output = repo.command(&[RUN, &["--sandbox", "off"]].concat()).env("HOME", home.path()).output().unwrap();
    assert!(!stderr(&output).contains("[sandbox] writable"), "{}", stderr(&output));
}

#[test]
fn a_verify_command_that_fails_on_a_refused_write_is_told_which_setting_allows_it() {
    if !landlock_here() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let tasks = [("1.1", "`a.txt`", "`echo x > \"$HOME/x\"`"), ("1.2", "`b.txt`", "`test -f b.txt`")];
    let plan = plan(&[wave(1, "No dependencies.", &tasks)]);
    let script = json!({"tasks": {"1.1": [[write("a.txt", "a\n")]], "1.2": [[write("b.txt", "b\n")]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.command(&[RUN, &["--attempts", "1"]].concat()).env("HOME", home.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("Permission denied") && err.contains("`[sandbox] writable`"), "{err}");
    let refused = format!("the sandbox refused a write to {}/x", home.path().display());
    assert!(err.contains(&refused), "the failure names the refused path: {err}");
    // The run's other task is unaffected: it lands.
    assert_eq!(git::show(repo.root(), "wavecrew/M1", "b.txt"), "b");
    assert!(!home.path().join("x").exists());
}

#[test]
fn connect_rules_from_the_configuration_refuse_other_ports_and_say_so() {
    match engine::sandbox::support() {
        engine::sandbox::Support::Available { abi } if abi >= engine::sandbox::NET_ABI => {}
        other => {
            eprintln!("SKIPPED: this kernel cannot restrict TCP connects ({other:?})");
            return;
        }
    }
    let allowed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (allowed, other) = (allowed.local_addr().unwrap().port(), other.local_addr().unwrap().port());
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`test -s a.txt`")])]);
    let repo = scripted_repo(&plan, &json!({}));
    std::fs::write(repo.root().join("wavecrew.toml"), format!("[sandbox]\nconnect = [{allowed}]\n")).unwrap();
    let agent = format!(
        "bash -c 'echo > /dev/tcp/127.0.0.1/{allowed} && echo ok > a.txt; echo > /dev/tcp/127.0.0.1/{other} || true'"
    );
    let output = repo
        .command(&["run", "plan.md", "--yes", "--attempts", "1", "--agent", "command", "--agent-command", &agent])
        .output()
        .unwrap();
    assert!(output.status.success(), "the listed port is reachable: {}", stderr(&output));
    let run = repo.run_dir().file_name().unwrap().to_string_lossy().into_owned();
    let events = testkit::events::journal_events(&repo.state_dir(), &run);
    let denied: Vec<(&str, &str)> = of_kind(&events, "sandbox_denied")
        .iter()
        .map(|e| (e["operation"].as_str().unwrap(), e["path"].as_str().unwrap()))
        .collect();
    let to = format!("127.0.0.1:{other}");
    assert!(denied.contains(&("connect", to.as_str())), "{denied:?}");
}

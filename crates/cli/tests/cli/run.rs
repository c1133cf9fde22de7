//! `wavecrew run` and `resume` end to end: a real git repository in a temporary folder, the
//! real binary, and the scripted agent (the test double `wavecrew agent-double`).

use crate::common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn a_run_commits_each_task_once_and_leaves_the_users_work_tree_alone() {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`grep -q a a.txt`"), ("1.2", "`b.txt`", "`test -f b.txt`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`c.txt`", "`cat a.txt b.txt c.txt`")]),
    ]);
    let script = json!({"tasks": {
        "1.1": [[write("a.txt", "a\n")]],
        "1.2": [[write("b.txt", "b\n"), write("ignored/cache", "not committed")]],
        "2.1": [[write("c.txt", "c\n")]],
    }});
    let repo = scripted_repo(&plan, &script);
    // The user's own uncommitted work is not part of the run and must stay as it is.
    std::fs::write(repo.root().join("README.md"), "# project\nlocal edit\n").unwrap();
    std::fs::write(repo.root().join("notes.txt"), "mine\n").unwrap();
    let head = git(repo.root(), &["rev-parse", "HEAD"]);

    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));

    let commits = repo.commits("wavecrew/M1");
    let mut tasks: Vec<&str> = commits.iter().map(|(t, _)| t.as_str()).collect();
    tasks.sort_unstable();
    assert_eq!(tasks, ["1.1", "1.2", "2.1"], "{commits:?}");
    assert_eq!(commits.last().unwrap(), &("2.1".to_owned(), "feat(M1): do 2.1".to_owned()));
    let tree = git(repo.root(), &["ls-tree", "-r", "--name-only", "wavecrew/M1"]);
    assert!(tree.contains("c.txt") && !tree.contains("ignored/cache"), "{tree}");
    let message = git(repo.root(), &["log", "-1", "--format=%B", "wavecrew/M1"]);
    assert!(message.contains("Wavecrew-Task: 2.1\nWavecrew-Run: "), "{message}");

    assert_eq!(git(repo.root(), &["rev-parse", "HEAD"]), head);
    assert_eq!(git(repo.root(), &["branch", "--show-current"]), "main");
    assert_eq!(std::fs::read_to_string(repo.root().join("README.md")).unwrap(), "# project\nlocal edit\n");
    assert!(!repo.root().join("a.txt").exists());
    assert_eq!(git(repo.root(), &["worktree", "list"]).lines().count(), 1, "worktrees are cleaned up");
    let name = repo.root().file_name().unwrap().to_string_lossy().into_owned();
    let pooled = test_state_home().join("wavecrew/worktrees");
    let left: Vec<_> = std::fs::read_dir(&pooled)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(&name))
                .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "the run's worktree folders are removed: {left:?}");
}

#[test]
fn independent_waves_run_side_by_side_unless_waves_are_barriers() {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`b.txt`", "`true`")]),
        wave(3, "Depends on: Wave 1.", &[("3.1", "`c.txt`", "`true`")]),
    ]);
    let slow = |file: &str| json!([[{"sleep_ms": 700}, write(file, "x\n")]]);
    let script = json!({"tasks": {"1.1": [[write("a.txt", "a\n")]], "2.1": slow("b.txt"), "3.1": slow("c.txt")}});

    let overlap = |extra: &[&str]| {
        let repo = scripted_repo(&plan, &script);
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let output = repo.run(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        let events = events(&output);
        let index =
            |kind: &str, task: &str| events.iter().position(|e| e["event"] == kind && e["task"] == task).unwrap();
        // Both started before either committed: they ran at the same time.
        index("attempt_started", "3.1") < index("task_committed", "2.1")
            && index("attempt_started", "2.1") < index("task_committed", "3.1")
    };
    assert!(overlap(&[]), "wave 3 needs only wave 1, so it runs beside wave 2");
    assert!(!overlap(&["--schedule", "waves"]), "with wave barriers, wave 3 waits for wave 2");
}

#[test]
fn a_failed_attempt_is_retried_with_its_failure_in_the_prompt() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`n.txt`", "`grep -qx 42 n.txt`")])]);
    let script = json!({"tasks": {"1.1": [[write("n.txt", "41\n")], [write("n.txt", "42\n")]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(repo.commits("wavecrew/M1").len(), 1);
    let runs = std::fs::read_dir(repo.state_dir().join("runs")).unwrap().next().unwrap().unwrap().path();
    let second = std::fs::read_to_string(runs.join("prompts/1.1-2.md")).unwrap();
    assert!(second.contains("## The previous attempt failed") && second.contains("grep -qx 42 n.txt"), "{second}");
    assert!(!std::fs::read_to_string(runs.join("prompts/1.1-1.md")).unwrap().contains("previous attempt"));
}

#[test]
fn a_task_that_keeps_failing_skips_its_dependents_and_nothing_else() {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`false`"), ("1.2", "`b.txt`", "`true`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`c.txt`", "`true`")]),
        wave(3, "No dependencies.", &[("3.1", "`d.txt`", "`true`")]),
    ]);
    let script = json!({"tasks": {"*": [[write("x.txt", "x\n")]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--attempts", "2"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mut committed: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(t, _)| t).collect();
    committed.sort();
    assert_eq!(committed, ["1.2", "3.1"]);
    let status = repo.command(&["status"]).output().unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("1.1   failed      attempts 2"), "{status}");
    assert!(status.contains("2.1   skipped"), "{status}");
    assert!(status.lines().all(|line| line == line.trim_end()), "no line ends in white space: {status:?}");
}

#[test]
fn a_hanging_agent_is_stopped_by_the_timeout() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    let script = json!({"tasks": {"1.1": [[{"say": "thinking"}, {"hang": true}]]}});
    let repo = scripted_repo(&plan, &script);
    let started = Instant::now();
    let output = repo.run(&["--timeout", "1", "--attempts", "1"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(20), "the timeout must end the agent");
    assert!(stderr(&output).contains("did not finish within 1s"), "{}", stderr(&output));
}

#[test]
fn a_missing_agent_program_fails_the_task_with_its_name() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    let repo = scripted_repo(&plan, &json!({"tasks": {}}));
    let output = repo
        .command(&[
            "run",
            "plan.md",
            "--yes",
            "--attempts",
            "1",
            "--agent",
            "command",
            "--agent-command",
            "/no/such/agent {prompt_file}",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("the agent `/no/such/agent` could not be started"), "{}", stderr(&output));
}

#[test]
fn the_command_backend_gets_the_prompt_and_the_model() {
    let plan = plan(&[wave(
        1,
        "No dependencies.",
        &[("1.1", "`out.txt`", "`grep -q 'Do 1.1' out.txt && grep -q haiku out.txt`")],
    )]);
    let repo = scripted_repo(&plan, &json!({"tasks": {}}));
    let output = repo
        .command(&[
            "run",
            "plan.md",
            "--yes",
            "--agent",
            "command",
            "--agent-command",
            "sh -c 'cat \"$0\" > out.txt; echo {model} >> out.txt' {prompt_file}",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn an_agent_that_floods_its_output_has_its_log_capped() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    let script = json!({"tasks": {"1.1": [[{"flood": 10_000_000}, write("a.txt", "a\n")]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let runs = std::fs::read_dir(repo.state_dir().join("runs")).unwrap().next().unwrap().unwrap().path();
    let log = std::fs::read(runs.join("logs/1.1-1-agent.log")).unwrap();
    assert!(log.len() < 8 * 1024 * 1024 + 64 * 1024, "log is {} bytes", log.len());
    assert!(String::from_utf8_lossy(&log[log.len() - 20_000..]).contains("bytes of output omitted"));
}

#[test]
fn an_agent_writing_into_the_users_work_tree_fails_and_nothing_of_it_is_committed() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    let repo = scripted_repo(&plan, &json!({}));
    let outside = repo.root().join("README.md").to_string_lossy().into_owned();
    let script = json!({"tasks": {"1.1": [[write("a.txt", "a\n"), write(&outside, "overwritten by an agent\n")]]}});
    std::fs::write(repo.root().join("script.json"), script.to_string()).unwrap();
    // Unsandboxed (the sandbox refuses the write: see `sandbox::`), the work tree is checked.
    let output = repo.run(&["--attempts", "1", "--sandbox", "off"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("your work tree changed while this task's agent ran"), "{}", stderr(&output));
    assert!(repo.commits("wavecrew/M1").is_empty());
}

#[test]
fn a_missing_verify_command_is_reported_as_not_found() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`no-such-tool --check`")])]);
    let repo = scripted_repo(&plan, &json!({"tasks": {"1.1": [[write("a.txt", "a\n")]]}}));
    let output = repo.run(&["--attempts", "1"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("`no-such-tool --check` exited with code 127 (command not found)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn parallel_lanes_editing_one_file_are_merged_or_rerun_on_the_new_base() {
    // The plan says the tasks touch different files; the agents both edit `shared.txt`.
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`"), ("1.2", "`b.txt`", "`true`")])]);
    let script = json!({"tasks": {
        "1.1": [[{"sleep_ms": 200}, {"append": "shared.txt", "content": "from 1.1\n"}]],
        "1.2": [[{"sleep_ms": 400}, {"append": "shared.txt", "content": "from 1.2\n"}]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    let at = |kind: &str, task: &str| events.iter().position(|e| e["event"] == kind && e["task"] == task).unwrap();
    let (first, second) =
        if at("task_committed", "1.1") < at("task_committed", "1.2") { ("1.1", "1.2") } else { ("1.2", "1.1") };
    // Whatever the timing on a loaded machine, the later task's change is on top of the earlier.
    let shared = git(repo.root(), &["show", "wavecrew/M1:shared.txt"]);
    assert_eq!(shared, format!("from {first}\nfrom {second}"));
    // The later task's first attempt started from the run's base (not from the earlier task's
    // commit) exactly when the two ran side by side: then, and only then, its change conflicts.
    let run_base = events.iter().find(|e| e["event"] == "run_started").unwrap()["base"].clone();
    let overlapped = events[at("attempt_started", second)]["base"] == run_base;
    let conflict = events
        .iter()
        .any(|e| e["event"] == "attempt_failed" && e["reason"].as_str().unwrap_or("").contains("conflicts"));
    assert_eq!(conflict, overlapped, "a conflict exactly when the two ran side by side on one base");
    assert_eq!(repo.commits("wavecrew/M1").len(), 2);
}

#[test]
fn bad_repositories_and_plans_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.md"), plan(&[wave(1, "No dependencies.", &[("1.1", "`a`", "`true`")])]))
        .unwrap();
    std::fs::write(dir.path().join("s.json"), "{\"tasks\":{}}").unwrap();
    let output = Command::new(wavecrew_bin())
        .current_dir(dir.path())
        .args(["run", "plan.md", "--agent", "scripted", "--script", "s.json", "--yes"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not inside a git repository"), "{}", stderr(&output));

    let repo =
        scripted_repo("# M1 Implementation Plan: x\n\n## Waves\n\n### Wave 1\n> Depends on: Wave 7.\n", &json!({}));
    let output = repo.run(&[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("error[unknown-wave]") && stderr(&output).contains("fix them before running it"));
}

#[test]
fn a_detached_head_is_fine_and_the_plans_commands_need_consent() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    let repo = scripted_repo(&plan, &json!({"tasks": {"1.1": [[write("a.txt", "a\n")]]}}));
    let head = git(repo.root(), &["rev-parse", "HEAD"]);
    git(repo.root(), &["checkout", "--quiet", "--detach", &head]);

    let refused = repo.command(&["run", "plan.md", "--agent", "scripted", "--script", "script.json"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("1.1  true") && stderr(&refused).contains("--yes"), "{}", stderr(&refused));
    assert!(!repo.state_dir().join("runs").exists(), "nothing ran");

    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    // Agreed once, remembered for this plan's content.
    git(repo.root(), &["branch", "-D", "wavecrew/M1"]);
    let again = repo.command(&["run", "plan.md", "--agent", "scripted", "--script", "script.json"]).output().unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
}

#[test]
fn dry_run_prints_lanes_order_and_locks() {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`b.txt`, `src/*.rs`", "`true`")]),
    ]);
    let repo = scripted_repo(&plan, &json!({}));
    let output = repo.command(&["run", "plan.md", "--dry-run"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Agent 2.1          haiku          2.1"), "{text}");
    assert!(text.contains("  2.1   1.1"), "{text}");
    assert!(text.contains("  2.1   b.txt, src/*.rs"), "{text}");
    assert!(!repo.state_dir().exists(), "a dry run writes nothing");
}

/// A tiny deterministic generator, seeded from the clock (the seed is printed on failure).
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn kill_9_at_random_points_then_resume_keeps_every_task_exactly_once() {
    // Ten waves in a chain, then two tasks side by side: about 3 s of work. Kills come within
    // 300 ms of each start, so a wave rarely lands between two kills and the run cannot finish
    // before the 20th kill; after that it may run to the end.
    let files: Vec<String> = (1..=12).map(|i| format!("f{i}")).collect();
    let mut waves: Vec<Wave> = (1..=10)
        .map(|w| {
            let clause = if w == 1 { "No dependencies.".to_owned() } else { format!("Depends on: Wave {}.", w - 1) };
            let task = (format!("{w}.1"), format!("`f{w}`"), format!("`test -f f{w}`"));
            Wave { number: w, clause, tasks: vec![task] }
        })
        .collect();
    waves.push(wave(
        11,
        "Depends on: Wave 10.",
        &[("11.1", "`f11`", "`test -f f11`"), ("11.2", "`f12`", "`test -f f12`")],
    ));
    let plan = plan(&waves);
    let mut steps = serde_json::Map::new();
    for (id, file) in waves.iter().flat_map(|w| &w.tasks).map(|(id, _, _)| id).zip(&files) {
        steps.insert(id.clone(), json!([[{"sleep_ms": 150}, write(file, file), {"sleep_ms": 30}]]));
    }
    let script = json!({ "tasks": steps });
    let repo = scripted_repo(&plan, &script);
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Rng(seed);
    let mut kills = 0;
    let mut finished = false;
    for iteration in 0..60 {
        // A kill can come before the run was even recorded: then there is nothing to resume yet.
        let recorded = iteration > 0 && {
            let runs = repo.command(&["runs"]).output().unwrap();
            !String::from_utf8_lossy(&runs.stdout).starts_with("no runs yet")
        };
        let args: Vec<&str> = if recorded {
            vec!["resume", "--agent", "scripted", "--script", "script.json"]
        } else {
            vec!["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes"]
        };
        // What the process said goes to a file: a failing iteration's panic shows it.
        let said = repo.root().join(".git").join("iteration.log");
        let mut child = repo
            .command(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&said).unwrap())
            .spawn()
            .unwrap();
        let wait = Duration::from_millis(if kills < 20 { 30 + rng.next(270) } else { 60_000 });
        let deadline = Instant::now() + wait;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        match status {
            Some(status) if status.success() => {
                finished = true;
                break;
            }
            Some(status) => panic!(
                "seed {seed}: iteration {iteration} ({}) exited with {status}:\n{}",
                args[0],
                std::fs::read_to_string(&said).unwrap_or_default()
            ),
            None => {
                child.kill().unwrap(); // SIGKILL: no chance to clean up
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    assert!(finished, "seed {seed}: the run never finished");
    assert!(kills >= 20, "seed {seed}: only {kills} kills");
    let mut tasks: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(t, _)| t).collect();
    tasks.sort();
    let mut expected: Vec<String> = waves.iter().flat_map(|w| w.tasks.iter().map(|(id, _, _)| id.clone())).collect();
    expected.sort();
    assert_eq!(tasks, expected, "seed {seed}: every task exactly once");
    for file in &files {
        assert_eq!(&git(repo.root(), &["show", &format!("wavecrew/M1:{file}")]), file, "seed {seed}");
    }
    assert_eq!(
        git(repo.root(), &["worktree", "list"]).lines().count(),
        1,
        "seed {seed}: stale worktrees were reclaimed"
    );
}

/// Starts `wavecrew run` in the background; returns once its first agent runs.
fn start_slow_run(repo: &Repo) -> std::process::Child {
    let child = repo.spawn_run(&[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !repo.state_dir().join("runs").exists()
        || std::fs::read_dir(repo.state_dir().join("runs")).unwrap().next().is_none()
    {
        assert!(Instant::now() < deadline, "the run did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child
}

fn slow_plan() -> (String, Value) {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a`", "`test -f a`"), ("1.2", "`b`", "`test -f b`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`c`", "`test -f c`")]),
    ]);
    let step = |file: &str| json!([[{"sleep_ms": 1500}, write(file, file)]]);
    (plan, json!({"tasks": {"1.1": step("a"), "1.2": step("b"), "2.1": step("c")}}))
}

#[test]
fn a_second_run_is_refused_while_one_is_active_and_cancel_stops_it_for_resume() {
    let (plan, script) = slow_plan();
    let repo = scripted_repo(&plan, &script);
    let mut first = start_slow_run(&repo);

    let second = repo.run(&[]);
    assert_eq!(second.status.code(), Some(2));
    assert!(stderr(&second).contains("is already active in this repository"), "{}", stderr(&second));

    let runs = repo.command(&["runs"]).output().unwrap();
    let run_id = String::from_utf8_lossy(&runs.stdout).split_whitespace().next().unwrap().to_owned();
    let cancel = repo.command(&["cancel", &run_id]).output().unwrap();
    assert!(cancel.status.success(), "{}", stderr(&cancel));
    let status = first.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(first.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains(&format!("resume it with: wavecrew resume {run_id}")), "{err}");
    let status = String::from_utf8_lossy(&repo.command(&["runs"]).output().unwrap().stdout).into_owned();
    assert!(status.contains("cancelled"), "{status}");

    let resumed =
        repo.command(&["resume", &run_id, "--agent", "scripted", "--script", "script.json"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(repo.commits("wavecrew/M1").len(), 3);
}

#[test]
fn ctrl_c_stops_agents_journals_and_says_how_to_resume() {
    let (plan, script) = slow_plan();
    let repo = scripted_repo(&plan, &script);
    let mut child = start_slow_run(&repo);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("wavecrew resume"), "{err}");
    // The agents' process groups are gone: nothing keeps writing into the worktrees.
    let leftover = Command::new("pgrep").args(["-f", "agent-double --script"]).output().unwrap();
    let stray: Vec<String> = String::from_utf8_lossy(&leftover.stdout).lines().map(str::to_owned).collect();
    for pid in &stray {
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(!cmdline.contains(repo.root().to_str().unwrap()), "agent {pid} still runs: {cmdline}");
    }
}

#[test]
fn a_full_disk_under_the_journal_stops_the_run_clearly_and_resume_finishes_it() {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a`", "`true`"), ("1.2", "`b`", "`true`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`c`", "`true`"), ("2.2", "`d`", "`true`")]),
        wave(3, "Depends on: Wave 2.", &[("3.1", "`e`", "`true`")]),
    ]);
    let script = json!({"tasks": {"*": [[{"say": "working"}]]}});
    let repo = scripted_repo(&plan, &script);
    // A file size limit makes writes past it fail with EFBIG, as a full disk fails them.
    let limited = Command::new("sh")
        .current_dir(repo.root())
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 400; exec {} run plan.md --agent scripted --script script.json --yes",
            wavecrew_bin().display()
        ))
        .output()
        .unwrap();
    let err = stderr(&limited);
    assert_eq!(limited.status.code(), Some(2), "{err}");
    assert!(err.contains("journal") && err.contains("can be resumed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let resumed = repo.command(&["resume", "--agent", "scripted", "--script", "script.json"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let mut tasks: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(t, _)| t).collect();
    tasks.sort();
    assert_eq!(tasks, ["1.1", "1.2", "2.1", "2.2", "3.1"]);
}

#[test]
fn reports_are_written_and_into_current_fast_forwards_when_safe() {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`test -f a.txt` and `grep -q a a.txt`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`b.txt`", "`false`")]),
    ]);
    let script = json!({"tasks": {"1.1": [[write("a.txt", "a\n")]], "2.1": [[write("b.txt", "b\n")]]}});
    let repo = scripted_repo(&plan, &script);
    let main_before = git(repo.root(), &["rev-parse", "main"]);
    let failed = repo.run(&["--attempts", "1", "--into-current"]);
    assert_eq!(failed.status.code(), Some(1));
    let run = std::fs::read_dir(repo.state_dir().join("runs")).unwrap().next().unwrap().unwrap().path();
    let junit = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    assert!(junit.contains(r#"<testcase classname="verify.1.1" name="test -f a.txt""#), "{junit}");
    assert!(
        junit.contains(r#"<testcase classname="tasks" name="2.1""#)
            && junit.contains("<failure message=\"Verify `false` exited with code 1\""),
        "{junit}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(run.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["tasks"][0]["verify"].as_array().unwrap().len(), 2);
    assert!(std::fs::read_to_string(run.join("report.md")).unwrap().contains("| 2.1 | failed | 1 |"));
    assert_eq!(git(repo.root(), &["rev-parse", "main"]), main_before, "a failed run does not move your branch");
    assert!(!repo.root().join("a.txt").exists(), "a failed run does not touch your branch");

    let markdown = repo.command(&["report"]).output().unwrap();
    assert!(String::from_utf8_lossy(&markdown.stdout).contains("**failed**"));

    // The same plan with a Verify that passes: the run succeeds and main moves to its branch.
    let good = plan.replace("`false`", "`true`");
    let repo2 = scripted_repo(&good, &script);
    let ok = repo2.run(&["--into-current"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(git(repo2.root(), &["rev-parse", "main"]), git(repo2.root(), &["rev-parse", "wavecrew/M1"]));
    assert_eq!(std::fs::read_to_string(repo2.root().join("b.txt")).unwrap(), "b\n");
}

#[test]
fn the_repositorys_configuration_names_the_agent_and_the_attempts() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`out.txt`", "`grep -q 'Do 1.1' out.txt`")])]);
    let repo = scripted_repo(&plan, &json!({}));
    std::fs::write(
        repo.root().join("wavecrew.toml"),
        "agent = \"copier\"\n\n[run]\nattempts = 1\n\n[agents.copier]\ncommand = [\"sh\", \"-c\", \"cp \\\"$0\\\" out.txt\", \"{prompt_file}\"]\n",
    )
    .unwrap();
    let output = repo.command(&["run", "plan.md", "--yes", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    assert!(events.iter().any(|e| e["event"] == "attempt_started" && e["agent"] == "copier"));

    std::fs::write(repo.root().join("wavecrew.toml"), "[run]\nattempts = \"three\"\n").unwrap();
    let bad = repo.command(&["resume"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("wavecrew.toml:2`"), "{}", stderr(&bad));
}

#[test]
fn the_demo_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("demo");
    let output = Command::new(wavecrew_bin())
        .args(["demo", "--dir", target.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", test_state_home())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let log = git(&target, &["log", "--format=%s", "main..wavecrew/M2"]);
    assert_eq!(log.lines().count(), 6, "{log}");
    assert!(stderr(&output).contains("2.1  attempt 1 failed"), "the demo shows a retry: {}", stderr(&output));
    assert!(
        target
            .join(".git/wavecrew/runs")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("junit.xml")
            .exists()
    );
}

/// `wavecrew demo ARGS` with its state folder in `state` and `path` as PATH, colours off.
fn demo_in(state: &Path, path: &std::ffi::OsStr, args: &[&str]) -> std::process::Output {
    Command::new(wavecrew_bin())
        .arg("demo")
        .args(args)
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", state)
        .env("XDG_CONFIG_HOME", state.join("no-config"))
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn the_demo_says_where_its_repository_stays_and_clean_removes_only_demos() {
    let state = tempfile::tempdir().unwrap();
    let wavecrew_state = state.path().join("wavecrew");
    // wavecrew itself on PATH: the hints say `wavecrew`.
    let bin_dir = wavecrew_bin().parent().unwrap().to_owned();
    let with_wavecrew =
        std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())))
            .unwrap();
    let output = demo_in(state.path(), &with_wavecrew, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let demos: Vec<PathBuf> = wavecrew_state.join("demos").read_dir().unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(demos.len(), 1, "{demos:?}");
    let demo = &demos[0];
    let run = git(demo, &["for-each-ref", "--format=%(refname:short)", "refs/heads/wavecrew/"]);
    assert_eq!(run.trim(), "wavecrew/M2");
    let text = stderr(&output);
    let said = text.split("\nthe demo's repository").nth(1).unwrap_or_else(|| panic!("{text}"));
    let run_id = std::fs::read_dir(demo.join(".git/wavecrew/runs")).unwrap().next().unwrap().unwrap().file_name();
    assert_eq!(
        said,
        format!(
            " stays in {0}; `wavecrew demo --clean` removes it and the other demos\nlook around:\n  cd {0}\n  \
             git log -p wavecrew/M2\n  wavecrew status\n  wavecrew logs {1} 2.1\n",
            demo.display(),
            run_id.to_string_lossy()
        )
    );

    // Not on PATH: the hints name the program by its path, and say how to install it once.
    let without_wavecrew = std::env::join_paths(
        std::env::split_paths(&std::env::var_os("PATH").unwrap()).filter(|dir| !dir.join("wavecrew").exists()),
    )
    .unwrap();
    let output = demo_in(state.path(), &without_wavecrew, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    let program = wavecrew_bin().display().to_string();
    assert!(text.contains(&format!("`{program} demo --clean` removes it")), "{text}");
    assert!(text.contains(&format!("\n  {program} status\n")), "{text}");
    assert_eq!(text.matches("cargo install --locked --path ").count(), 1, "{text}");

    // What is not a demo's stays: other files and folders, and worktrees of other repositories.
    let keep = [
        wavecrew_state.join("demos/notes.txt"),
        wavecrew_state.join("demos/demo-mine"),
        wavecrew_state.join("worktrees/project-0123456789"),
    ];
    std::fs::write(&keep[0], "mine").unwrap();
    std::fs::create_dir_all(&keep[1]).unwrap();
    std::fs::create_dir_all(&keep[2]).unwrap();
    let demo_worktrees: Vec<PathBuf> = wavecrew_state
        .join("worktrees")
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("demo-"))
        .collect();
    assert_eq!(demo_worktrees.len(), 2, "{demo_worktrees:?}");

    let cleaned = demo_in(state.path(), &with_wavecrew, &["--clean"]);
    assert!(cleaned.status.success(), "{}", stderr(&cleaned));
    let text = stderr(&cleaned);
    assert_eq!(text.matches("removed ").count(), 2, "{text}");
    assert!(text.contains(&format!("removed {} and ", demo.display())), "{text}");
    assert!(text.ends_with("2 demo(s) removed\n"), "{text}");
    for gone in demo_worktrees.iter().chain([demo]) {
        assert!(!gone.exists(), "{} is left", gone.display());
    }
    for kept in &keep {
        assert!(kept.exists(), "{} was removed", kept.display());
    }
    let again = demo_in(state.path(), &with_wavecrew, &["--clean"]);
    assert!(stderr(&again).starts_with("no demos to remove in "), "{}", stderr(&again));
    let both = demo_in(state.path(), &with_wavecrew, &["--clean", "--dir", "x"]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
}

#[test]
fn tasks_whose_files_overlap_take_turns_even_on_different_lanes() {
    let plan =
        plan(&[wave(1, "No dependencies.", &[("1.1", "`src/*.rs`", "`true`"), ("1.2", "`src/lib.rs`", "`true`")])]);
    let slow = |file: &str| json!([[{"sleep_ms": 500}, write(file, "x\n")]]);
    let repo = scripted_repo(&plan, &json!({"tasks": {"1.1": slow("src/a.rs"), "1.2": slow("src/lib.rs")}}));
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    let at = |kind: &str, task: &str| events.iter().position(|e| e["event"] == kind && e["task"] == task).unwrap();
    let (first, second) =
        if at("attempt_started", "1.1") < at("attempt_started", "1.2") { ("1.1", "1.2") } else { ("1.2", "1.1") };
    assert!(at("task_committed", first) < at("attempt_started", second), "the overlapping tasks ran at the same time");
}

#[test]
fn an_agent_that_exits_non_zero_fails_its_attempt_and_fail_fast_stops_new_work() {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a`", "`true`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`b`", "`true`")]),
        wave(3, "No dependencies.", &[("3.1", "`c`", "`true`")]),
    ]);
    let script = json!({"tasks": {"1.1": [[{"say": "cannot do it"}, {"exit": 3}]], "3.1": [[{"sleep_ms": 1500}, write("c", "c\n")]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--attempts", "1", "--fail-fast", "-j", "1"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("the agent exited with code 3"), "{err}");
    assert!(err.contains("stopping: task 1.1 failed and --fail-fast is on"), "{err}");
    // With one slot, 3.1 had not started when 1.1 failed: --fail-fast keeps it from starting.
    assert!(!err.contains("3.1  started"), "{err}");
}

#[test]
fn checkpoints_wait_for_approve_reject_and_decide_and_dependents_wait_for_them() {
    let repo = scripted_repo(CHECKPOINT_PLAN, &checkpoint_script());
    let mut child = repo.spawn_run(&[]);
    let run = repo.wait_for_checkpoint("1.1");
    repo.wait_for_checkpoint("1.2");
    assert!(repo.commits("wavecrew/M1").is_empty(), "nothing lands before a person answers");

    let reject = repo.command(&["reject", &run, "1.1", "--reason", "too ugly"]).output().unwrap();
    assert!(reject.status.success(), "{}", stderr(&reject));
    let wrong = repo.command(&["decide", &run, "1.2", "Mongo"]).output().unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("SQLite | Postgres"), "{}", stderr(&wrong));
    assert!(repo.command(&["decide", &run, "1.2", "post"]).output().unwrap().status.success());

    // The rejected change goes back to its agent with the reason, then waits again.
    let runs = repo.state_dir().join("runs").join(&run);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !runs.join("prompts/1.1-2.md").exists() {
        assert!(Instant::now() < deadline, "the rejected task did not run again");
        std::thread::sleep(Duration::from_millis(50));
    }
    repo.wait_for_checkpoint("1.1");
    let second = std::fs::read_to_string(runs.join("prompts/1.1-2.md")).unwrap();
    assert!(second.contains("too ugly"), "{second}");
    assert!(repo.command(&["approve", &run, "1.1", "--note", "better"]).output().unwrap().status.success());

    repo.wait_for_checkpoint("2.2");
    let prompt = std::fs::read_to_string(runs.join("prompts/2.1-1.md")).unwrap();
    assert!(prompt.contains("## Decisions made") && prompt.contains("**Postgres**"), "{prompt}");
    assert!(repo.command(&["approve", &run, "2.2"]).output().unwrap().status.success());

    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    let subjects: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(t, s)| format!("{t} {s}")).collect();
    assert_eq!(subjects.len(), 4, "{subjects:?}");
    assert!(subjects.iter().any(|s| s == "1.2 chore(M1): decide Pick a storage engine: Postgres"), "{subjects:?}");
    assert!(
        subjects.iter().any(|s| s.starts_with("2.2 chore(M1): Rotate the production key (done by hand)")),
        "{subjects:?}"
    );
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:ui.txt"]), "pretty");
}

/// One human-verify checkpoint that rewrites the README.
const README_CHECKPOINT_PLAN: &str = "# M1 Implementation Plan: Readme

## Waves

### Wave 1: Write
> No dependencies.

**Task 1.1** (type: checkpoint:human-verify)
- **Files**: `README.md`
- **Action**: Introduce the project
- **Verify**: The introduction reads well
";

#[test]
fn a_rejection_on_the_command_line_sends_comments_on_lines_the_agent_then_reads() {
    // The first attempt replaces the README's title (line 1 deleted) and adds two lines.
    let script = json!({"tasks": {"1.1": [
        [write("README.md", "# Project\nIt does things.\n")],
        [write("README.md", "# project\nIt greets the room.\n")],
    ]}});
    let repo = scripted_repo(README_CHECKPOINT_PLAN, &script);
    let mut child = Stopped(repo.spawn_run(&[]));
    let run = repo.wait_for_checkpoint("1.1");

    // Bad comments are refused before anything is recorded, naming the argument and the fix.
    let reject = |args: &[&str]| repo.command(&[&["reject", &run, "1.1"], args].concat()).output().unwrap();
    for (args, says) in [
        (&["--comment", "README.md:0:x"][..], "line 0 of README.md: lines count from 1"),
        (&["--comment", "README.md: too vague"][..], "no line number: write PATH:LINE:TEXT"),
        (&["--comment-old", "README.md:1:"][..], "the comment on README.md:1 is empty"),
        (&[][..], "the following required arguments were not provided:\n  --reason <REASON>"),
        (&["--reason", " "][..], "a rejection needs a reason or comments"),
    ] {
        let refused = reject(args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}: {}", stderr(&refused));
        assert!(stderr(&refused).contains(says), "{args:?}: {}", stderr(&refused));
    }
    let refused = reject(&["--comment", "README.md:0:x"]);
    assert!(stderr(&refused).contains("'--comment <PATH:LINE:TEXT>'"), "{}", stderr(&refused));

    let rejected = reject(&[
        "--comment",
        "README.md:2:say what it does: it greets the room",
        "--comment-old",
        "README.md:1:keep the title in lower case",
    ]);
    assert!(rejected.status.success(), "{}", stderr(&rejected));

    // The next attempt's prompt holds each comment on its line, in line order.
    let prompt_path = repo.run_dir().join("prompts/1.1-2.md");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !prompt_path.exists() {
        assert!(Instant::now() < deadline, "the rejected task did not run again");
        std::thread::sleep(Duration::from_millis(50));
    }
    repo.wait_for_checkpoint("1.1");
    let prompt = std::fs::read_to_string(&prompt_path).unwrap();
    assert!(
        prompt.contains(
            "see the comments on the diff\n\nComments on the diff:\n\
             - README.md:1 (a deleted line): keep the title in lower case\n\
             - README.md:2: say what it does: it greets the room"
        ),
        "{prompt}"
    );
    assert!(repo.command(&["approve", &run, "1.1"]).output().unwrap().status.success());
    assert!(child.0.wait().unwrap().success());
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:README.md"]), "# project\nIt greets the room.");
}

const BATCH_PLAN: &str = "# M1 Implementation Plan: Batch

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: checkpoint:human-verify)
- **Files**: `ui.txt`
- **Action**: Draw the page
- **Verify**: The page looks right

**Task 1.2** (type: auto)
- **Files**: `a.txt`
- **Action**: Write a
- **Verify**: `test -f a.txt`
- **Done**: done

**Task 1.3** (type: auto)
- **Files**: `b.txt`
- **Action**: Write b
- **Verify**: `test -f b.txt`
- **Done**: done

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Designer | sonnet | 1.1 |
| 1 | A | haiku | 1.2 |
| 1 | B | haiku | 1.3 |
";

fn batch_script() -> Value {
    json!({"tasks": {
        "1.1": [[write("ui.txt", "page\n")]],
        "1.2": [[{"sleep_ms": 300}, write("a.txt", "a\n")]],
        "1.3": [[{"sleep_ms": 300}, write("b.txt", "b\n")]],
    }})
}

fn committed_tasks(repo: &Repo) -> Vec<String> {
    let mut tasks: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(task, _)| task).collect();
    tasks.sort();
    tasks
}

#[test]
fn sigterm_stops_a_run_whose_stderr_is_gone() {
    // `wavecrew run … 2>&1 | head`, then the reader is gone: stopping must not depend on
    // saying so.
    let repo = scripted_repo(CHECKPOINT_PLAN, &checkpoint_script());
    let mut child = Stopped(repo.spawn_run(&[]));
    repo.wait_for_checkpoint("1.1");
    drop(child.0.stderr.take());
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.0.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the run did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success(), "{status:?}");
}

#[test]
fn a_waiting_checkpoint_gives_its_slot_to_other_tasks() {
    // One slot: the checkpoint runs first, then waits for a person while the others run.
    let repo = scripted_repo(BATCH_PLAN, &batch_script());
    let mut child = repo.spawn_run(&["-j", "1"]);
    let run = repo.wait_for_checkpoint("1.1");
    let deadline = Instant::now() + Duration::from_secs(30);
    while committed_tasks(&repo) != ["1.2", "1.3"] {
        assert!(
            Instant::now() < deadline,
            "the other tasks did not run while 1.1 waited: {:?}",
            committed_tasks(&repo)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(repo.command(&["approve", &run, "1.1"]).output().unwrap().status.success());
    assert!(child.wait().unwrap().success());
    assert_eq!(committed_tasks(&repo), ["1.1", "1.2", "1.3"]);
}

#[test]
fn batched_checkpoints_are_shown_once_the_rest_of_their_wave_is_done() {
    let repo = scripted_repo(BATCH_PLAN, &batch_script());
    let mut child = repo.spawn_run(&["-j", "1", "--batch-checkpoints"]);
    let run = repo.wait_for_checkpoint("1.1");
    assert_eq!(committed_tasks(&repo), ["1.2", "1.3"], "1.1 waits for people only once its wave is done");
    assert!(repo.command(&["approve", &run, "1.1"]).output().unwrap().status.success());
    assert!(child.wait().unwrap().success());
    assert_eq!(committed_tasks(&repo), ["1.1", "1.2", "1.3"]);
}

#[test]
fn auto_approve_answers_verify_and_decisions_but_never_human_actions() {
    let repo = scripted_repo(CHECKPOINT_PLAN, &checkpoint_script());
    let mut child = repo.spawn_run(&["--auto-approve", "human-verify,decision"]);
    let run = repo.wait_for_checkpoint("2.2");
    assert_eq!(repo.commits("wavecrew/M1").len(), 3, "1.1 and 1.2 were answered for the person, 2.1 ran");
    assert!(repo.command(&["approve", &run, "2.2"]).output().unwrap().status.success());
    assert!(child.wait().unwrap().success());
    let report: Value = serde_json::from_slice(&repo.command(&["report", "--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(report["state"], "succeeded");
    let answers: Vec<(String, String, bool)> = report["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["task"].as_str().unwrap().to_owned(),
                c["answer"].as_str().unwrap().to_owned(),
                c["auto"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(answers.contains(&("1.1".into(), "approved".into(), true)), "{answers:?}");
    assert!(answers.contains(&("1.2".into(), "decided".into(), true)), "{answers:?}");
    assert!(answers.contains(&("2.2".into(), "approved".into(), false)), "{answers:?}");
    let markdown = String::from_utf8_lossy(&repo.command(&["report"]).output().unwrap().stdout).into_owned();
    assert!(markdown.contains("- 1.2 decided by --auto-approve: SQLite"), "{markdown}");
}

#[test]
fn a_run_left_waiting_is_picked_up_by_resume_after_the_approval() {
    let repo = scripted_repo(CHECKPOINT_PLAN, &checkpoint_script());
    let mut child = repo.spawn_run(&["--auto-approve", "decision"]);
    let run = repo.wait_for_checkpoint("1.1");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));

    // Approved while nothing runs: resume puts the same change on the branch, no agent again.
    let approve = repo.command(&["approve", &run, "1.1"]).output().unwrap();
    assert!(stderr(&approve).contains("`wavecrew resume"), "{}", stderr(&approve));
    let mut resumed = repo
        .command(&["resume", &run, "--agent", "scripted", "--script", "script.json", "--auto-approve", "decision"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    repo.wait_for_checkpoint("2.2");
    assert!(repo.command(&["approve", &run, "2.2"]).output().unwrap().status.success());
    assert!(resumed.wait().unwrap().success());
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:ui.txt"]), "ugly", "the first attempt's change, approved");
    assert!(!repo.state_dir().join("runs").join(&run).join("prompts/1.1-2.md").exists(), "the agent did not run again");
}

#[test]
fn agents_get_a_minimal_environment_not_the_users_secrets() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`test -n \"$WAVECREW_TEST_SECRET\"`")])]);
    let script = json!({"tasks": {"1.1": [[{"env": "WAVECREW_TEST_SECRET"}, {"env": "HOME"}, {"env": "PATH"}, write("a.txt", "a\n")]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo
        .command(&["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes"])
        .env("WAVECREW_TEST_SECRET", "hunter2")
        .output()
        .unwrap();
    // Verify commands are the plan's own: they run with your environment.
    assert!(output.status.success(), "{}", stderr(&output));
    let run = std::fs::read_dir(repo.state_dir().join("runs")).unwrap().next().unwrap().unwrap().path();
    let log = std::fs::read_to_string(run.join("logs/1.1-1-agent.log")).unwrap();
    assert!(log.contains("WAVECREW_TEST_SECRET is unset"), "{log}");
    assert!(log.contains("HOME=") && log.contains("PATH="), "{log}");
}

#[test]
fn skill_texts_from_the_repository_and_built_in_reach_the_prompt() {
    let plan = "# M1 Implementation Plan: Skills\n\n## Waves\n\n### Wave 1\n> No dependencies.\n\n**Task 1.1** (type: auto)\n\
                - **Skill**: `house-style`, `security-auditor`\n- **Files**: `out.txt`\n- **Action**: Write\n\
                - **Verify**: `grep -q 'Indent with tabs' out.txt` and `grep -q 'security auditor' out.txt`\n- **Done**: ok\n";
    let repo = scripted_repo(plan, &json!({}));
    std::fs::create_dir_all(repo.root().join(".wavecrew/skills")).unwrap();
    std::fs::write(repo.root().join(".wavecrew/skills/house-style.md"), "Indent with tabs.\n").unwrap();
    git(repo.root(), &["add", "."]);
    git(repo.root(), &["commit", "--quiet", "-m", "skills"]);
    let output = repo
        .command(&[
            "run",
            "plan.md",
            "--yes",
            "--agent",
            "command",
            "--agent-command",
            "sh -c 'cat \"$0\" > out.txt' {prompt_file}",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

/// The command a hint on stderr says to run (`wavecrew resume ID`), as its arguments.
fn hinted(stderr: &str, command: &str) -> Vec<String> {
    let at = stderr.find(&format!("wavecrew {command} ")).unwrap_or_else(|| panic!("no `{command}` hint: {stderr}"));
    let hint = stderr[at..].lines().next().unwrap();
    let hint = hint.split('`').next().unwrap();
    hint.split_whitespace().skip(1).map(str::to_owned).collect()
}

fn status(repo: &Repo, run: &str) -> String {
    let output = repo.command(&["status", run]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn resume_goes_on_with_the_options_the_run_was_started_with_not_the_changed_configuration() {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a`", "`test -f a`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`c`", "`test -f c`")]),
    ]);
    // 2.1 gets it right on its third attempt only.
    let script = json!({"tasks": {"1.1": [[write("a", "a")]], "2.1": [[], [], [write("c", "c")]]}});
    let repo = scripted_repo(&plan, &script);
    std::fs::write(repo.root().join("wavecrew.toml"), "[run]\nverify_timeout = 40\n").unwrap();
    let failed = repo.run(&["--attempts", "1", "-j", "1", "--schedule", "waves", "--budget", "5"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let resume = hinted(&stderr(&failed), "resume");
    let run = resume[1].clone();
    let again = repo.run(&[]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(hinted(&stderr(&again), "resume"), resume, "running the plan again points at its run");
    let shown = status(&repo, &run);
    assert!(shown.contains("agent scripted (script "), "{shown}");
    assert!(
        shown.contains("-j 1, schedule waves, attempts 1, timeout 1800s, verify timeout 40s"),
        "the configuration's options are recorded too: {shown}"
    );
    assert!(shown.contains("budget $5.00 ($0.00 spent)"), "{shown}");

    // What the configuration says now does not change the run; the printed hint works as printed.
    std::fs::write(repo.root().join("wavecrew.toml"), "agent = \"nobody\"\n[run]\nattempts = 5\njobs = 4\n").unwrap();
    let again = repo.command(&resume.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    assert_eq!(again.status.code(), Some(1), "one more attempt, as recorded: {}", stderr(&again));
    let shown = status(&repo, &run);
    assert!(shown.contains("-j 1, schedule waves, attempts 1, timeout 1800s, verify timeout 40s"), "{shown}");
    assert!(shown.contains("2.1   failed      attempts 2"), "{shown}");

    // A flag given to resume goes over what was recorded, and is recorded in turn.
    let overridden = repo.command(&["resume", &run, "--attempts", "2", "--json"]).output().unwrap();
    assert!(overridden.status.success(), "{}", stderr(&overridden));
    let events = events(&overridden);
    let resumed = events.iter().find(|e| e["event"] == "run_resumed").expect("run_resumed");
    assert_eq!(resumed["overrides"], json!(["--attempts 2"]));
    let shown = status(&repo, &run);
    assert!(shown.contains("-j 1, schedule waves, attempts 2, timeout 1800s"), "{shown}");
    assert_eq!(repo.commits("wavecrew/M1").len(), 2);
}

#[test]
fn resume_after_ctrl_c_of_a_command_agent_run_needs_no_flag() {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`t1.1`", "`test -f t1.1`"), ("1.2", "`t1.2`", "`test -f t1.2`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`t2.1`", "`test -f t2.1`")]),
    ]);
    let repo = scripted_repo(&plan, &json!({}));
    let mut child = repo
        .command(&[
            "run",
            "plan.md",
            "--yes",
            "-j",
            "1",
            "--agent",
            "command",
            "--agent-command",
            "sh -c 'sleep 1; echo {model} > t{task}'",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while git(repo.root(), &["branch", "--list", "wavecrew/M1"]).is_empty() {
        assert!(Instant::now() < deadline, "the run did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    let resume = hinted(&err, "resume");

    std::fs::write(repo.root().join("wavecrew.toml"), "agent = \"nobody\"\n").unwrap();
    let resumed = repo.command(&resume.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let mut tasks: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(t, _)| t).collect();
    tasks.sort();
    assert_eq!(tasks, ["1.1", "1.2", "2.1"]);
    assert!(status(&repo, &resume[1]).contains("agent command (sh -c 'sleep 1; echo {model} > t{task}')"));
}

#[test]
fn resume_of_a_run_whose_agent_is_gone_says_so_and_changes_nothing() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a`", "`test -f a`")])]);
    let repo = scripted_repo(&plan, &json!({}));
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("claude");
    std::fs::write(&fake, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        repo.root().join("wavecrew.toml"),
        format!("[agents.claude]\nprogram = \"{}\"\nmodels = {{ haiku = \"my-haiku\" }}\n", fake.display()),
    )
    .unwrap();
    let failed = repo.command(&["run", "plan.md", "--yes", "--agent", "claude", "--attempts", "1"]).output().unwrap();
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let resume = hinted(&stderr(&failed), "resume");
    let before = status(&repo, &resume[1]);
    assert!(before.contains("agent claude (claude ("), "{before}");
    assert!(before.contains("models haiku=my-haiku"), "{before}");

    std::fs::remove_file(&fake).unwrap();
    let refused = repo.command(&resume.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    let err = stderr(&refused);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("was started with the agent `claude`, which is not installed any more"), "{err}");
    assert!(err.contains("`wavecrew agents`"), "{err}");
    assert_eq!(status(&repo, &resume[1]), before, "nothing changed");

    // As the hint says: it goes on with another agent, which it keeps from then on.
    let mut other = resume.clone();
    other.extend(["--agent", "command", "--agent-command", "sh -c 'echo a > a'"].map(String::from));
    let other = repo.command(&other.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    assert!(other.status.success(), "{}", stderr(&other));
    assert!(status(&repo, &resume[1]).contains("agent command (sh -c 'echo a > a')"));
}

#[test]
fn resume_of_a_run_an_older_wavecrew_started_asks_for_its_flags_and_says_why() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a`", "`test -f a`")])]);
    let script = json!({"tasks": {"1.1": [[], [write("a", "a")]]}});
    let repo = scripted_repo(&plan, &script);
    let failed = repo.run(&["--attempts", "1"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let run = hinted(&stderr(&failed), "resume")[1].clone();
    // What older wavecrews wrote in place of the record: the options' debug text.
    let journal = rusqlite::Connection::open(repo.state_dir().join("journal.sqlite")).unwrap();
    let old = "Options { jobs: None, attempts: 1, agent_timeout: 1800s }";
    journal.execute("UPDATE runs SET options = ?1 WHERE id = ?2", [old, &run]).unwrap();
    drop(journal);
    assert!(status(&repo, &run).contains("options not recorded (an older wavecrew started this run)"));

    let asked = repo.command(&["resume", &run]).output().unwrap();
    let err = stderr(&asked);
    assert_eq!(asked.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("run {run} was started by an older wavecrew that did not record its options: choose an agent with `--agent NAME`")),
        "{err}"
    );
    let resumed = repo.command(&["resume", &run, "--agent", "scripted", "--script", "script.json"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(stderr(&resumed).contains("recorded from now on"), "{}", stderr(&resumed));
    assert!(status(&repo, &run).contains("agent scripted"));
}

/// A plan whose agent Worker A runs 1.1 on haiku and 2.1 on sonnet, with a truth to verify.
const SWITCHING_MODELS: &str = "# M1 Implementation Plan: Models

## must_haves

### truths (observable outcomes)
- Both files exist

## Waves

### Wave 1: One
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: `m1`
- **Action**: Write m1
- **Verify**: `test -f m1`
- **Done**: m1 exists

### Wave 2: Two
> Depends on: Wave 1.

**Task 2.1** (type: auto)
- **Files**: `m2`
- **Action**: Write m2
- **Verify**: `test -f m2`
- **Done**: m2 exists

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Worker A | haiku | 1.1 |
| 2 | Worker A | sonnet | 2.1 |

## Verification

### Manual
1. Read m1 and m2
";

#[test]
fn each_task_runs_on_the_model_of_its_own_row_and_the_verifier_on_a_named_one() {
    let model = json!({"env": "WAVECREW_MODEL"});
    let script = json!({"tasks": {
        "1.1": [[model, write("m1", "1")]],
        "2.1": [[model, write("m2", "2")]],
        "verification": [[model]],
    }});
    let repo = scripted_repo(SWITCHING_MODELS, &script);
    let output = repo.run(&[]);
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(err.contains("2.1  started (attempt 1) on Worker A [scripted, sonnet]"), "{err}");
    let run = repo.newest_run();
    let logs = |task: &str| {
        let output = repo.command(&["logs", &run, task]).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(logs("1.1").contains("WAVECREW_MODEL=haiku"), "{}", logs("1.1"));
    assert!(logs("2.1").contains("WAVECREW_MODEL=sonnet"), "its own row's model, not its agent's first");
    assert!(logs("verification").contains("WAVECREW_MODEL=sonnet"), "the last wave's model: {}", logs("verification"));
    let report = std::fs::read_to_string(repo.state_dir().join("runs").join(&run).join("report.md")).unwrap();
    assert!(report.contains("| 2.1 | committed | 1 | Worker A | sonnet |"), "{report}");
    // The hint for the manual checklist names the run, and works as printed.
    let approve = hinted(&err, "approve");
    assert_eq!(approve, ["approve", &run, "manual"]);
    let approved = repo.command(&approve.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    assert!(approved.status.success(), "{}", stderr(&approved));

    // `[verify] model` names the verifier's model; the command agent gets each task's as `{model}`.
    let plan = SWITCHING_MODELS
        .replace("`test -f m1`", "`grep -qx haiku m1.1`")
        .replace("`test -f m2`", "`grep -qx sonnet m2.1`");
    let repo = scripted_repo(&plan, &script);
    std::fs::write(repo.root().join("wavecrew.toml"), "[verify]\nmodel = \"opus\"\n").unwrap();
    let command = "sh -c 'echo {model} > m$WAVECREW_TASK; echo WAVECREW_MODEL=$WAVECREW_MODEL'";
    let output =
        repo.command(&["run", "plan.md", "--yes", "--agent", "command", "--agent-command", command]).output().unwrap();
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:m1.1"]).trim(), "haiku");
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:m2.1"]).trim(), "sonnet");
    let verifier = repo.command(&["logs", &repo.newest_run(), "verification"]).output().unwrap();
    assert!(String::from_utf8_lossy(&verifier.stdout).contains("WAVECREW_MODEL=opus"));
}

//! `run --backend slurm` on a real single-node Slurm cluster (one per test, started by
//! `scripts/slurm-cluster.sh`), with the scripted agent (a test double): the same commits as the
//! local backend, a job cancelled from outside, and wavecrew killed while jobs are queued.

use crate::common::{
    Cluster, Repo, Stopped, git, json_lines, of_kind, plan, scripted_repo, stderr, test_state_home, wave, wavecrew_bin,
    write,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `wavecrew ARGS` in `repo`, talking to `cluster`.
fn command(repo: &Repo, cluster: &Cluster, args: &[&str]) -> Command {
    let mut command = repo.command(args);
    command.env("SLURM_CONF", cluster.conf());
    command
}

fn run_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes", "--json"];
    args.extend_from_slice(extra);
    args
}

/// Every commit of the run branch as `task: subject [files]`, sorted (parallel tasks land in
/// any order), and the branch head's tree.
fn outcome(repo: &Repo) -> (Vec<String>, String) {
    let log = git(
        repo.root(),
        &["log", "--format=%x00%(trailers:key=Wavecrew-Task,valueonly)%x09%s", "--name-only", "main..wavecrew/M1"],
    );
    let mut commits: Vec<String> = log
        .split('\0')
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            let mut lines = c.lines();
            let head = lines.next().unwrap_or_default().trim().to_owned();
            let files: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
            format!("{head} {files:?}")
        })
        .collect();
    commits.sort();
    (commits, git(repo.root(), &["rev-parse", "wavecrew/M1^{tree}"]))
}

/// 20 tasks at once, then one that needs them all.
fn wide_plan() -> (String, Value) {
    let ids: Vec<String> = (1..=20).map(|i| format!("1.{i}")).collect();
    let files: Vec<String> = (1..=20).map(|i| format!("`f{i}.txt`")).collect();
    let verify: Vec<String> = (1..=20).map(|i| format!("`test -s f{i}.txt`")).collect();
    let first: Vec<(&str, &str, &str)> =
        (0..20).map(|i| (ids[i].as_str(), files[i].as_str(), verify[i].as_str())).collect();
    let text = plan(&[
        wave(1, "No dependencies.", &first),
        wave(2, "Depends on: Wave 1", &[("2.1", "`all.txt`", "`cat f1.txt f20.txt > /dev/null && test -s all.txt`")]),
    ]);
    let mut tasks = serde_json::Map::new();
    for i in 1..=20 {
        tasks.insert(format!("1.{i}"), json!([[write(&format!("f{i}.txt"), &format!("file {i}\n"))]]));
    }
    tasks.insert("2.1".into(), json!([[write("all.txt", "all\n")]]));
    (text, json!({ "tasks": tasks }))
}

#[test]
fn twenty_parallel_tasks_make_the_same_commits_on_slurm_as_locally() {
    let cluster = Cluster::start();
    let (text, script) = wide_plan();
    let local = scripted_repo(&text, &script);
    let out = local.run(&["-j", "20"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let remote = scripted_repo(&text, &script);
    let out: Output = command(&remote, &cluster, &run_args(&["-j", "20", "--backend", "slurm"])).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(outcome(&remote), outcome(&local));

    let events = json_lines(&out.stdout);
    let jobs = of_kind(&events, "job_submitted");
    assert_eq!(jobs.len(), 21, "one Slurm job per attempt");
    assert!(jobs.iter().all(|e| e["backend"] == "slurm"));
    // The workers' events reach the journal: every Verify command, from every node.
    assert_eq!(of_kind(&events, "verify_finished").len(), 21);
    assert!(of_kind(&events, "agent_spawned").is_empty(), "a worker's process ids mean nothing here");
    // The workers' logs are in the run's folder, as for a local run.
    let run = events[0]["run"].as_str().unwrap();
    let logs = remote.state_dir().join("runs").join(run).join("logs");
    let log = std::fs::read_to_string(logs.join("1.7-1-agent.log")).unwrap();
    assert!(log.contains("wrote f7.txt"), "{log}");
}

#[test]
fn the_demo_plan_makes_the_same_commits_on_slurm_as_locally() {
    let cluster = Cluster::start();
    let scratch = tempfile::tempdir().unwrap();
    let local = scratch.path().join("local");
    let demo = Command::new(wavecrew_bin())
        .args(["demo", "--dir"])
        .arg(&local)
        .env("XDG_STATE_HOME", test_state_home())
        .env("XDG_CONFIG_HOME", scratch.path().join("no-config"))
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", stderr(&demo));

    // The same project, from the same first commit, run with the Slurm backend.
    let remote = scratch.path().join("remote");
    let status = Command::new("git").args(["clone", "--quiet", "--branch", "main"]).arg(&local).arg(&remote).status();
    assert!(status.unwrap().success());
    git(&remote, &["config", "user.name", "Test"]);
    git(&remote, &["config", "user.email", "test@example.com"]);
    let out = Command::new(wavecrew_bin())
        .current_dir(&remote)
        .args(["run", "demo.plan.md", "--agent", "scripted", "--script", ".wavecrew/demo.script.json", "--yes"])
        .args(["--backend", "slurm"])
        .env("SLURM_CONF", cluster.conf())
        .env("XDG_STATE_HOME", test_state_home())
        .env("XDG_CONFIG_HOME", scratch.path().join("no-config"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let tree = |dir: &std::path::Path| git(dir, &["rev-parse", "wavecrew/M2^{tree}"]);
    assert_eq!(tree(&remote), tree(&local));
    let subjects = |dir: &std::path::Path| {
        let mut lines: Vec<String> =
            git(dir, &["log", "--format=%s", "main..wavecrew/M2"]).lines().map(String::from).collect();
        lines.sort();
        lines
    };
    assert_eq!(subjects(&remote), subjects(&local));
}

/// One task: its first attempt waits long, its second is quick.
fn slow_then_quick() -> (String, Value) {
    let text = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`test -s a.txt`")])]);
    let script = json!({"tasks": {"1.1": [
        [{"say": "thinking"}, {"sleep_ms": 120000}, write("a.txt", "late\n")],
        [write("a.txt", "quick\n")],
    ]}});
    (text, script)
}

/// Waits until Slurm runs a job whose name starts with `prefix`; returns its id.
fn running_job(cluster: &Cluster, prefix: &str) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some((id, _, _)) = cluster.jobs().into_iter().find(|(_, n, s)| n.starts_with(prefix) && s == "RUNNING") {
            return id;
        }
        assert!(Instant::now() < deadline, "no running job {prefix}*: {:?}", cluster.jobs());
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_job_cancelled_from_outside_fails_its_attempt_with_slurm_s_reason_and_the_next_attempt_runs() {
    let cluster = Cluster::start();
    let (text, script) = slow_then_quick();
    let repo = scripted_repo(&text, &script);
    let mut child = Stopped(
        command(&repo, &cluster, &run_args(&["--backend", "slurm"]))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let id = running_job(&cluster, "wavecrew-");
    let scancel = Command::new("scancel").arg(id.to_string()).env("SLURM_CONF", cluster.conf()).status().unwrap();
    assert!(scancel.success());

    let mut stdout = Vec::new();
    child.0.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    let status = child.0.wait().unwrap();
    let mut err = String::new();
    child.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{err}");
    let events = json_lines(&stdout);
    let failed = of_kind(&events, "attempt_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("job {id}")) && reason.contains("CANCELLED"), "{reason}");
    assert_eq!(of_kind(&events, "job_submitted").len(), 2);
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:a.txt"]), "quick");
}

#[test]
fn wavecrew_killed_while_jobs_are_queued_resumes_by_following_them() {
    let cluster = Cluster::start();
    // Four tasks of 4 s each on a node of 2 CPUs: two run, two wait in Slurm's queue.
    let tasks: Vec<(String, String, String)> =
        (1..=4).map(|i| (format!("1.{i}"), format!("`t{i}.txt`"), format!("`test -s t{i}.txt`"))).collect();
    let rows: Vec<(&str, &str, &str)> = tasks.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    let text = plan(&[wave(1, "No dependencies.", &rows)]);
    let mut steps = BTreeMap::new();
    for i in 1..=4 {
        steps.insert(format!("1.{i}"), json!([[{"sleep_ms": 4000}, write(&format!("t{i}.txt"), "done\n")]]));
    }
    let repo = scripted_repo(&text, &json!({ "tasks": steps }));
    let mut child = Stopped(
        command(&repo, &cluster, &run_args(&["-j", "4", "--backend", "slurm"]))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let jobs = cluster.jobs();
        let ours: Vec<_> = jobs.iter().filter(|(_, n, _)| n.starts_with("wavecrew-")).collect();
        if ours.len() == 4 && ours.iter().any(|(_, _, s)| s == "PENDING") {
            break;
        }
        assert!(Instant::now() < deadline, "four jobs, some queued, never showed: {jobs:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.0.id() as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    let mut first = Vec::new();
    child.0.stdout.take().unwrap().read_to_end(&mut first).unwrap();
    child.0.wait().unwrap();
    assert_eq!(of_kind(&json_lines(&first), "job_submitted").len(), 4);

    // The run remembers its agent, `-j` and backend: `resume` needs none of them again.
    let resumed = command(&repo, &cluster, &["resume", "--json"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let events = json_lines(&resumed.stdout);
    assert!(of_kind(&events, "job_submitted").is_empty(), "resume followed the jobs instead of submitting again");
    assert_eq!(of_kind(&events, "task_committed").len(), 4);
    let mut tasks: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(t, _)| t).collect();
    tasks.sort();
    assert_eq!(tasks, ["1.1", "1.2", "1.3", "1.4"], "every task exactly once");
}

#[test]
fn workers_clone_from_a_git_url_the_head_pushes_each_base_to() {
    let cluster = Cluster::start();
    let text = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`test -s a.txt`")])]);
    let repo = scripted_repo(&text, &json!({"tasks": {"1.1": [[write("a.txt", "quick\n")]]}}));
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "--quiet", "--bare"]);
    let url = format!("file://{}", remote.path().display());
    std::fs::write(repo.root().join("wavecrew.toml"), format!("[slurm]\nrepo = \"{url}\"\n")).unwrap();

    let out = command(&repo, &cluster, &run_args(&["--backend", "slurm"])).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:a.txt"]), "quick");
    let run = json_lines(&out.stdout)[0]["run"].as_str().unwrap().to_owned();
    let pushed = git(remote.path(), &["for-each-ref", "--format=%(refname)"]);
    assert_eq!(pushed, format!("refs/wavecrew/{run}/1.1-1"), "the attempt's base went to the remote");
    let base = git(repo.root(), &["rev-parse", "main"]);
    assert_eq!(git(remote.path(), &["rev-parse", &format!("refs/wavecrew/{run}/1.1-1")]), base);
}

#[test]
fn a_worker_confines_its_agent_and_verify_commands_as_a_local_run_does() {
    if let engine::sandbox::Support::Unavailable(reason) = engine::sandbox::support() {
        eprintln!("SKIPPED: this kernel cannot sandbox ({reason})");
        return;
    }
    let cluster = Cluster::start();
    let home = tempfile::tempdir().unwrap();
    let verify = "`test -f a.txt && (echo v > \"$HOME/from-verify\" || echo verify-refused)`";
    let repo = scripted_repo(&plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", verify)])]), &json!({}));
    let agent = "sh -c 'echo a > a.txt; echo x > \"$HOME/x\"; true'";
    let args = ["run", "plan.md", "--yes", "--json", "--attempts", "1", "--sandbox", "required", "--backend", "slurm"];
    let out = command(&repo, &cluster, &args)
        .args(["--agent", "command", "--agent-command", agent])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:a.txt"]).trim(), "a", "the task landed");
    assert!(!home.path().join("x").exists() && !home.path().join("from-verify").exists(), "a write got out");
    let events = json_lines(&out.stdout);
    assert_eq!(of_kind(&events, "job_submitted").len(), 1, "the attempt ran as a Slurm job");
    let denied: Vec<(&str, &str)> = of_kind(&events, "sandbox_denied")
        .iter()
        .map(|e| (e["process"].as_str().unwrap(), e["path"].as_str().unwrap()))
        .collect();
    let (x, from_verify) = (home.path().join("x"), home.path().join("from-verify"));
    assert_eq!(denied, [("agent", x.to_str().unwrap()), ("verify-1", from_verify.to_str().unwrap())]);
}

#[test]
fn a_task_over_its_budget_on_a_node_is_stopped_there_and_the_head_gives_it_no_other_attempt() {
    let cluster = Cluster::start();
    let text = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    let usage = json!({"usage": {"input": 1000, "output": 100, "cost_usd": 0.3}});
    let script = json!({"tasks": {"1.1": [[usage.clone(), {"sleep_ms": 200}, usage, {"hang": true}]]}});
    let repo = scripted_repo(&text, &script);
    std::fs::write(repo.root().join("wavecrew.toml"), "[budget]\ntask = \"$0.50\"\n").unwrap();
    let output = command(&repo, &cluster, &run_args(&["--backend", "slurm", "--attempts", "3", "--timeout", "120"]))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let events = json_lines(&output.stdout);
    let over = of_kind(&events, "budget_exceeded");
    assert_eq!(over.len(), 1, "the worker stopped its agent at the cap: {over:?}");
    assert_eq!(of_kind(&events, "job_submitted").len(), 1, "no other attempt");
    let failed = of_kind(&events, "task_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["attempts"], 1);
}

//! What the Slurm backend costs per task: the same plan of 200 independent tasks, each a scripted
//! agent (a test double) that works for a fixed time, run with `--backend local` and with
//! `--backend slurm` on a real single-node cluster started for the bench
//! (`scripts/slurm-cluster.sh`), side by side. Nothing is asserted; it prints the makespans,
//! their ratio and the overhead Slurm adds per task.
//!
//! `cargo bench -p wavecrew --bench slurm` (about 3 minutes on 2 cores). Both backends get as
//! many tasks at once as the node has CPUs (`-j <nproc>` locally; Slurm queues the rest and runs
//! one job per CPU). Without the `--bench` argument that `cargo bench` passes (`cargo test
//! --benches`), the plan shrinks to 4 tasks.

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long each task's agent works.
const WORK: Duration = Duration::from_millis(500);

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git").arg("-C").arg(dir).args(args).status().unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A repository with a plan of `tasks` independent tasks and the scripted agent's script.
fn repository(root: &Path, tasks: usize) -> PathBuf {
    std::fs::create_dir_all(root).unwrap();
    git(root, &["init", "--quiet", "--initial-branch=main"]);
    git(root, &["config", "user.name", "Bench"]);
    git(root, &["config", "user.email", "bench@example.com"]);
    let mut plan = String::from(
        "# M1 Implementation Plan: Bench\n\n## Context\n\nBench.\n\n## Waves\n\n### Wave 1: All\n> No dependencies.\n\n",
    );
    let mut script = serde_json::Map::new();
    for i in 1..=tasks {
        plan.push_str(&format!(
            "**Task 1.{i}** (type: auto)\n- **Files**: `f{i}.txt`\n- **Action**: Write f{i}\n- **Verify**: `test -s f{i}.txt`\n- **Done**: done\n\n"
        ));
        script.insert(
            format!("1.{i}"),
            json!([[{"sleep_ms": WORK.as_millis() as u64}, {"write": format!("f{i}.txt"), "content": "x\n"}]]),
        );
    }
    std::fs::write(root.join("plan.md"), plan).unwrap();
    std::fs::write(root.join("script.json"), json!({ "tasks": script }).to_string()).unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "--quiet", "-m", "bench"]);
    root.to_owned()
}

/// Runs the plan; returns the wall time.
fn run(repo: &Path, state: &Path, args: &[&str], conf: &Path) -> Duration {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_wavecrew"))
        .current_dir(repo)
        .args(["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes", "--json"])
        .args(args)
        .env("SLURM_CONF", conf)
        .env("XDG_STATE_HOME", state)
        .env("XDG_CONFIG_HOME", state.join("no-config"))
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    took
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let tasks = if full { 200 } else { 4 };
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/slurm-cluster.sh");
    let scratch = tempfile::tempdir().unwrap();
    let cluster = scratch.path().join("cluster");
    let started = Command::new(&script).arg("start").arg(&cluster).output().unwrap();
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    let conf = cluster.join("slurm.conf");

    let jobs = cpus.to_string();
    let local = run(&repository(&scratch.path().join("local"), tasks), scratch.path(), &["-j", &jobs], &conf);
    let slurm_jobs = tasks.to_string();
    let slurm = run(
        &repository(&scratch.path().join("slurm"), tasks),
        scratch.path(),
        &["-j", &slurm_jobs, "--backend", "slurm"],
        &conf,
    );
    let _ = Command::new(&script).arg("stop").arg(&cluster).output();

    let ideal = WORK.as_secs_f64() * tasks as f64 / cpus as f64;
    println!("{tasks} tasks of {} ms each on {cpus} CPUs (ideal makespan {ideal:.1} s)", WORK.as_millis());
    println!("  --backend local  {:>7.1} s", local.as_secs_f64());
    println!("  --backend slurm  {:>7.1} s", slurm.as_secs_f64());
    println!("  ratio slurm / local: {:.2}x", slurm.as_secs_f64() / local.as_secs_f64());
    // With `cpus` tasks at a time, each task's share of the makespan difference, times the
    // parallelism, is what Slurm adds to one task (submission, scheduling, the worker's clone).
    let per_task = (slurm.as_secs_f64() - local.as_secs_f64()) * cpus as f64 / tasks as f64;
    println!("  overhead Slurm adds per task: {:.2} s", per_task);
}

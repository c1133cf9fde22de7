//! Executor benchmarks: the real `wavecrew run` binary, the scripted agent, real git repositories
//! in temporary folders. Nothing here asserts a timing; it prints measurements and ratios.
//!
//! `cargo bench -p wavecrew --bench engine` runs five benchmarks (name some after `--bench`,
//! e.g. `cargo bench -p wavecrew --bench engine -- makespan latency`, to run only those):
//!
//! 1. `scheduling`: plans of 20, 100 and 500 tasks (waves that depend on wave 1 only or on the
//!    one or two waves before, several lanes per wave), each task a scripted agent sleeping
//!    50-200 ms then writing its own file. The makespan (first `attempt_started` to
//!    `run_finished`) is divided by the lower bound `max(longest chain of waits, work / j,
//!    busiest lane)` at `-j 4, 16, 64`, and the DAG schedule is compared with `--schedule
//!    waves`. To tell the scheduler's choices from the cost of executing tasks, the engine's own
//!    [`Scheduler`] replays the same plan in simulated time (critical path first, and the plan's
//!    order) without overhead, and with the per-task overhead measured first on a one-lane
//!    chain. The chain of waits is the engine's too ([`engine::graph`]).
//! 2. `makespan`: 6 waves x 6 tasks of 1-second agents against the critical-path bound (target:
//!    at most 1.05x); then at `-j 2`, on the same plan and on an uneven one, critical path first
//!    (the engine) against the plan's order (the engine's [`Scheduler`] in simulated time).
//! 3. `latency`: from an agent's exit to its commit on the run branch (`agent_exited` to
//!    `task_committed`), p50 and p95 over 40 tasks on a repository of 20,000 files (target: p50
//!    at most 50 ms), beside `git add -A && git commit` in a worktree of the same repository.
//! 4. `overhead`: per-task cost on a repository of 20,000 files: ten sequential tasks on one
//!    lane, against a naive loop (worktree add, write, add, commit, merge, worktree remove per
//!    task; it stops after 12 s, at least one task, where creating files is slow, and its mean
//!    per task is used) (target: wavecrew / naive at most 0.3x).
//! 5. `footprint`: peak RSS (`VmHWM`) of the `wavecrew run` process alone with 64 agents
//!    running at once (target: under 40 MB).
//!
//! `WAVECREW_BENCH_BIN=path/to/wavecrew` runs another build instead of this one: two versions
//! measured one after the other on the same machine compare better than numbers from two days.
//! The repositories are made under `TMPDIR` (default `/tmp`): set it to compare file systems.
//! The whole run takes about 5 minutes on 2 cores.
//!
//! `cargo test -p wavecrew --benches` runs a tiny version of each (a smoke test): without the
//! `--bench` argument that `cargo bench` passes, the workloads shrink to a few tasks.

use engine::graph::{remaining_path, waits_for};
use engine::run::ScheduleMode;
use engine::run::scheduler::{Launch, Scheduler, TaskEnd, TaskState};
use plan::{Plan, Schedule, TaskId};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const TARGET_SCHEDULE_RATIO: f64 = 1.05;
const TARGET_OVERHEAD_RATIO: f64 = 0.3;
const TARGET_RSS_MB: f64 = 40.0;
const TARGET_MAKESPAN_RATIO: f64 = 1.05;
const TARGET_COMMIT_P50_MS: f64 = 50.0;

/// The `wavecrew` binary under test: this build's, or `WAVECREW_BENCH_BIN` (another build, to
/// compare two versions side by side on the same machine at the same time).
/// wavecrew's state folder for the bench's runs (their worktrees): a temporary one, removed at
/// the end, never the user's `~/.local/state`.
fn state_home() -> &'static Path {
    static HOME: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    HOME.get_or_init(|| std::env::temp_dir().join(format!("wavecrew-bench-state-{}", std::process::id())))
}

fn wavecrew_bin() -> PathBuf {
    std::env::var_os("WAVECREW_BENCH_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wavecrew")), PathBuf::from)
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim_end().to_owned()
}

/// A generated plan shape and the `-j` values it runs at.
struct Shape {
    label: &'static str,
    waves: u32,
    per_wave: u32,
    /// Lanes per wave.
    lanes: u32,
    /// Lane names shared across waves, taken round-robin from this many.
    pool: Option<u32>,
    /// Agent sleeps are 50, 100, 150 or 200 ms times this.
    scale: u64,
    /// `-j` values for the DAG schedule.
    jobs: Vec<usize>,
    /// `-j` values at which `--schedule waves` runs too.
    waves_jobs: Vec<usize>,
}

/// How big the workloads are: the real benchmark, or a smoke test.
struct Sizes {
    full: bool,
    /// Tasks of the one-lane calibration chain.
    calibration_tasks: u32,
    shapes: Vec<Shape>,
    repo_files: usize,
    overhead_tasks: u32,
    /// The naive loop stops after this long (at least 1 task), and its mean per task is used.
    naive_budget: Duration,
    footprint_agents: u32,
    footprint_sleep_ms: u64,
    /// The makespan plan: waves, tasks per wave, lanes per wave, each agent's sleep.
    makespan: (u32, u32, u32, u64),
    /// Tasks timed from agent exit to commit on the large repository.
    latency_tasks: u32,
}

impl Sizes {
    fn new(full: bool) -> Sizes {
        let shape = |label, waves, per_wave, lanes, pool, scale, jobs: &[usize], waves_jobs: &[usize]| Shape {
            label,
            waves,
            per_wave,
            lanes,
            pool,
            scale,
            jobs: jobs.to_vec(),
            waves_jobs: waves_jobs.to_vec(),
        };
        if full {
            Sizes {
                full,
                calibration_tasks: 20,
                shapes: vec![
                    shape("20 tasks", 4, 5, 3, None, 1, &[4, 16, 64], &[4, 16]),
                    shape("100 tasks", 10, 10, 4, None, 1, &[4, 16, 64], &[16]),
                    shape("500 tasks", 20, 25, 8, Some(64), 1, &[4, 16, 64], &[16]),
                    // The same 20 tasks with agents 5x longer: the overhead matters less, so the
                    // ratio shows more of the scheduler's own choices.
                    shape("20 tasks, agents 5x longer", 4, 5, 3, None, 5, &[4], &[4]),
                ],
                repo_files: 20_000,
                overhead_tasks: 10,
                naive_budget: Duration::from_secs(12),
                footprint_agents: 64,
                footprint_sleep_ms: 2_000,
                makespan: (6, 6, 3, 1_000),
                latency_tasks: 40,
            }
        } else {
            Sizes {
                full,
                calibration_tasks: 3,
                shapes: vec![shape("6 tasks", 3, 2, 1, None, 1, &[2], &[2])],
                repo_files: 200,
                overhead_tasks: 2,
                naive_budget: Duration::from_secs(30),
                footprint_agents: 4,
                footprint_sleep_ms: 100,
                makespan: (2, 2, 1, 50),
                latency_tasks: 3,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plans

/// A task of a generated plan.
struct TaskSpec {
    id: String,
    wave: u32,
    lane: String,
    sleep_ms: u64,
    file: String,
}

/// A generated plan: waves with their dependencies, tasks in document order.
struct PlanSpec {
    waves: Vec<(u32, Vec<u32>)>,
    tasks: Vec<TaskSpec>,
}

/// Which waves wave `w` depends on: wave 1 none, waves 2 and 3 on wave 1, then in turn on wave
/// 1 only, on the wave before, and on the two waves before. Not a chain: waves 3, 6, 9... can
/// run beside everything after wave 1.
fn wave_deps(w: u32) -> Vec<u32> {
    match w {
        1 => vec![],
        2 | 3 => vec![1],
        _ => match w % 3 {
            0 => vec![1],
            1 => vec![w - 1, w - 2],
            _ => vec![w - 1],
        },
    }
}

/// `waves` waves of `per_wave` tasks; task k of a wave goes to lane `(k - 1) % lanes`; lane names
/// are per wave, or, with `pool`, taken round-robin from `pool` names shared by all waves; agents
/// sleep 50-200 ms times `scale`.
fn generate(shape: &Shape) -> PlanSpec {
    let Shape { waves, per_wave, lanes, pool, scale, .. } = *shape;
    let mut tasks = Vec::new();
    for w in 1..=waves {
        for k in 1..=per_wave {
            let l = (k - 1) % lanes;
            let lane = match pool {
                Some(pool) => format!("Agent {}", ((w - 1) * lanes + l) % pool),
                None => format!("Agent {w}-{l}"),
            };
            // Fixed, varied durations: 50, 100, 150 or 200 ms, from a hash of the id.
            let hash = ((u64::from(w) * 0x9E37_79B9) ^ (u64::from(k) * 0x85EB_CA6B)).wrapping_mul(0xC2B2_AE35) >> 7;
            let sleep_ms = 50 * (1 + hash % 4) * scale;
            tasks.push(TaskSpec { id: format!("{w}.{k}"), wave: w, lane, sleep_ms, file: format!("out/f{w}_{k}.txt") });
        }
    }
    PlanSpec { waves: (1..=waves).map(|w| (w, wave_deps(w))).collect(), tasks }
}

/// One wave of `n` tasks, every one on the lane `Agent A` (so they run one after another).
fn one_lane(n: u32, sleep_ms: u64) -> PlanSpec {
    let tasks = (1..=n)
        .map(|k| TaskSpec {
            id: format!("1.{k}"),
            wave: 1,
            lane: "Agent A".into(),
            sleep_ms,
            file: format!("out/seq_{k}.txt"),
        })
        .collect();
    PlanSpec { waves: vec![(1, vec![])], tasks }
}

/// `n` tasks in one wave, each on a lane of its own.
fn one_wave_own_lanes(n: u32, sleep_ms: u64) -> PlanSpec {
    let tasks = (1..=n)
        .map(|k| TaskSpec {
            id: format!("1.{k}"),
            wave: 1,
            lane: format!("Agent {k}"),
            sleep_ms,
            file: format!("out/wide_{k}.txt"),
        })
        .collect();
    PlanSpec { waves: vec![(1, vec![])], tasks }
}

/// An uneven plan where critical path first matters at `-j 2`: wave 1 holds `n` independent
/// tasks (one lane each), wave 2, written after it and depending on nothing, a chain of `n`
/// tasks on one lane. The plan's order starts the short wave 1 first and leaves the chain for
/// last; critical path first starts the chain at once and fills the other slot with wave 1.
fn uneven(n: u32, sleep_ms: u64) -> PlanSpec {
    let mut tasks: Vec<TaskSpec> = (1..=n)
        .map(|k| TaskSpec {
            id: format!("1.{k}"),
            wave: 1,
            lane: format!("Agent {k}"),
            sleep_ms,
            file: format!("out/short_{k}.txt"),
        })
        .collect();
    tasks.extend((1..=n).map(|k| TaskSpec {
        id: format!("2.{k}"),
        wave: 2,
        lane: "Agent chain".into(),
        sleep_ms,
        file: format!("out/chain_{k}.txt"),
    }));
    PlanSpec { waves: vec![(1, vec![]), (2, vec![])], tasks }
}

impl PlanSpec {
    fn markdown(&self) -> String {
        let mut text =
            String::from("# M1 Implementation Plan: Engine benchmark\n\n## Context\n\nGenerated.\n\n## Waves\n\n");
        let mut rows = String::new();
        let mut commits = String::new();
        for (number, deps) in &self.waves {
            let clause = if deps.is_empty() {
                "No dependencies.".to_owned()
            } else {
                let list: Vec<String> = deps.iter().map(|d| format!("Wave {d}")).collect();
                format!("Depends on: {}.", list.join(", "))
            };
            let _ = write!(text, "### Wave {number}: W{number}\n> {clause}\n\n");
            let mut lanes: Vec<(&str, Vec<&str>)> = Vec::new();
            for task in self.tasks.iter().filter(|t| t.wave == *number) {
                let _ = write!(
                    text,
                    "**Task {id}** (type: auto)\n- **Files**: `{file}`\n- **Action**: Do {id}\n- **Verify**: `true`\n- **Done**: {id} done\n\n",
                    id = task.id,
                    file = task.file
                );
                let _ = writeln!(commits, "feat(M1): {{task {} description}}", task.id);
                match lanes.iter_mut().find(|(name, _)| *name == task.lane) {
                    Some((_, ids)) => ids.push(&task.id),
                    None => lanes.push((&task.lane, vec![&task.id])),
                }
            }
            for (name, ids) in lanes {
                let _ = writeln!(rows, "| {number} | {name} | haiku | {} |", ids.join(", "));
            }
        }
        let _ = write!(text, "## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n{rows}\n");
        let _ = write!(text, "## Commit Strategy\n\n```\n{commits}```\n");
        text
    }

    fn script(&self) -> Value {
        let tasks: serde_json::Map<String, Value> = self
            .tasks
            .iter()
            .map(|t| {
                let mut steps = Vec::new();
                if t.sleep_ms > 0 {
                    steps.push(json!({"sleep_ms": t.sleep_ms}));
                }
                steps.push(json!({"write": t.file, "content": format!("{}\n", t.id)}));
                (t.id.clone(), json!([steps]))
            })
            .collect();
        json!({ "tasks": tasks })
    }

    fn lane_count(&self) -> usize {
        let mut names: Vec<&str> = self.tasks.iter().map(|t| t.lane.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    }

    fn work_ms(&self) -> u64 {
        self.tasks.iter().map(|t| t.sleep_ms).sum()
    }

    /// The plan as the engine reads it: parsed and checked by `plan`, with its schedule.
    fn parsed(&self) -> (Plan, Schedule) {
        let parsed = plan::parse(&self.markdown(), "M1");
        assert!(!parsed.has_errors(), "the generated plan has errors: {:?}", parsed.diagnostics);
        let schedule = Schedule::new(&parsed.plan);
        (parsed.plan, schedule)
    }

    /// Each task's duration in microseconds: its sleep plus `extra_ms`.
    fn durations_us(&self, extra_ms: f64) -> HashMap<TaskId, u64> {
        self.tasks
            .iter()
            .map(|t| {
                let id = TaskId::parse(&t.id).expect("a generated task id parses");
                (id, ((t.sleep_ms as f64 + extra_ms) * 1000.0).round() as u64)
            })
            .collect()
    }

    /// The lower bound of the makespan at `-j jobs` in DAG mode, each task lasting its sleep plus
    /// `extra_ms`: the longest chain of waits as the engine computes it
    /// ([`engine::graph::waits_for`], [`engine::graph::remaining_path`] weighted by duration),
    /// the work spread over `jobs`, and the busiest lane (a lane's tasks never overlap).
    fn lower_bound(&self, jobs: usize, extra_ms: f64) -> Bound {
        let (plan, schedule) = self.parsed();
        let duration = self.durations_us(extra_ms);
        let order = schedule.task_order().expect("the generated waves have no cycle");
        let waits: HashMap<TaskId, Vec<TaskId>> =
            order.iter().map(|&id| (id, waits_for(&plan, &schedule, ScheduleMode::Dag, id))).collect();
        let paths = remaining_path(&order, &waits, |id| duration[&id]);
        let chain = paths.values().copied().max().unwrap_or(0) as f64 / 1000.0;
        let work = duration.values().sum::<u64>() as f64 / 1000.0 / jobs as f64;
        let lane =
            schedule.lanes().iter().map(|l| l.tasks.iter().map(|id| duration[id]).sum::<u64>()).max().unwrap_or(0)
                as f64
                / 1000.0;
        Bound { chain, work, lane }
    }

    /// The makespan of the engine's own [`Scheduler`] in simulated time, with no overhead beyond
    /// `extra_ms` per task: it is asked what to launch, and told of task ends in the order of
    /// their (simulated) end times, as the run loop would; `order` picks among ready tasks.
    fn simulate(&self, jobs: usize, extra_ms: f64, order: Order) -> f64 {
        let (plan, schedule) = self.parsed();
        let duration = self.durations_us(extra_ms);
        let mut scheduler = Scheduler::new(&plan, &schedule, ScheduleMode::Dag, jobs, false, |_| false);
        if order == Order::Plan {
            scheduler = scheduler.in_plan_order();
        }
        let mut running: Vec<(u64, TaskId)> = Vec::new();
        let mut now = 0_u64;
        loop {
            assert!(scheduler.skip().is_empty(), "nothing fails in a simulation");
            for launch in scheduler.launch() {
                if let Launch::Start(id) = launch {
                    running.push((now + duration[&id], id));
                }
            }
            let Some(next) = running.iter().map(|r| r.0).min() else { break };
            now = next;
            running.retain(|&(end, id)| {
                if end == next {
                    scheduler.finished(id, TaskEnd::Committed);
                }
                end != next
            });
        }
        assert_eq!(scheduler.count(TaskState::Committed), self.tasks.len(), "the simulation ran every task");
        now as f64 / 1000.0
    }
}

/// Which ready task the simulated scheduler starts first when slots are short.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The engine's rule: the longest chain of tasks after it first, then the plan's order.
    CriticalPath,
    /// The plan's order, as the engine did before ([`Scheduler::in_plan_order`]).
    Plan,
}

struct Bound {
    chain: f64,
    work: f64,
    lane: f64,
}

impl Bound {
    fn value(&self) -> f64 {
        self.chain.max(self.work).max(self.lane)
    }

    fn binding(&self) -> &'static str {
        let v = self.value();
        if v == self.chain {
            "chain"
        } else if v == self.work {
            "work/j"
        } else {
            "lane"
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Repositories and runs

/// A scratch repository (`<tmp>/repo`) with one commit; the plan and script live beside it, so
/// the user's work tree stays clean and `git status` there has nothing untracked to report.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A repository whose first commit holds `README.md` and `files` small files under `src/`,
    /// checked out. The commit is made with `git fast-import` (one pack) rather than `git add`
    /// (one loose object per file), which is much faster to set up.
    fn new(files: usize) -> Scratch {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("repo");
        std::fs::create_dir(&root).expect("repo dir");
        git(&root, &["init", "--quiet", "--initial-branch=main"]);
        git(&root, &["config", "user.name", "Bench"]);
        git(&root, &["config", "user.email", "bench@example.com"]);
        let mut paths = vec![("README.md".to_owned(), "# project\n".to_owned())];
        for i in 0..files {
            paths.push((format!("src/d{:03}/f{i:05}.txt", i / 100), format!("file {i}\n")));
        }
        let mut stream = String::new();
        for (i, (path, content)) in paths.iter().enumerate() {
            if let Some(parent) = Path::new(path).parent() {
                std::fs::create_dir_all(root.join(parent)).expect("mkdir");
            }
            std::fs::write(root.join(path), content).expect("write");
            let _ = write!(stream, "blob\nmark :{}\ndata {}\n{content}\n", i + 1, content.len());
        }
        let message = "initial";
        let _ = write!(
            stream,
            "commit refs/heads/main\ncommitter Bench <bench@example.com> 1700000000 +0000\ndata {}\n{message}\n",
            message.len()
        );
        for (i, (path, _)) in paths.iter().enumerate() {
            let _ = writeln!(stream, "M 100644 :{} {path}", i + 1);
        }
        let mut import = Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("git fast-import runs");
        std::io::Write::write_all(&mut import.stdin.take().expect("stdin"), stream.as_bytes())
            .expect("feed fast-import");
        assert!(import.wait().expect("fast-import ends").success(), "git fast-import failed");
        // The index, from the commit; the files are already there.
        git(&root, &["reset", "--quiet"]);
        Scratch { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn write_plan(&self, spec: &PlanSpec) {
        std::fs::write(self.dir.path().join("plan.md"), spec.markdown()).expect("write plan");
        std::fs::write(self.dir.path().join("script.json"), spec.script().to_string()).expect("write script");
    }

    /// `wavecrew run ../plan.md --agent scripted --script ../script.json --yes --json EXTRA`.
    fn run(&self, extra: &[&str]) -> Run {
        let plan = self.dir.path().join("plan.md");
        let script = self.dir.path().join("script.json");
        let mut args: Vec<String> =
            ["run", &plan.to_string_lossy(), "--agent", "scripted", "--script"].iter().map(|s| s.to_string()).collect();
        args.push(script.to_string_lossy().into_owned());
        args.extend(["--yes", "--json"].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        Run::start(&self.root(), &args)
    }
}

/// One `wavecrew run`, watched from outside: its events, wall time, and what `/proc` said of it.
struct Run {
    status: ExitStatus,
    wall: Duration,
    events: Vec<Value>,
    stderr: String,
    /// Peak resident set of the wavecrew process itself (`VmHWM`), in kB.
    peak_rss_kb: u64,
    /// CPU time of the wavecrew process itself (user + system), ms.
    own_cpu_ms: u64,
    /// CPU time of its children that it waited for (git, agents, Verify), ms.
    children_cpu_ms: u64,
}

/// Clock ticks per second, for `/proc/<pid>/stat`.
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100)
}

/// `VmHWM` in kB from `/proc/<pid>/status` (absent once the process is a zombie).
fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// (utime + stime, cutime + cstime) in ticks from `/proc/<pid>/stat`.
fn cpu_ticks(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<u64> = rest.split_whitespace().skip(11).take(4).filter_map(|f| f.parse().ok()).collect();
    (fields.len() == 4).then(|| (fields[0] + fields[1], fields[2] + fields[3]))
}

impl Run {
    fn start(dir: &Path, args: &[String]) -> Run {
        let started = Instant::now();
        let mut child = Command::new(wavecrew_bin())
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("XDG_STATE_HOME", state_home())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wavecrew starts");
        let pid = child.id();
        let mut stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let out = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let err = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let (mut peak_rss_kb, mut own, mut children) = (0, 0, 0);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if let Some(kb) = vm_hwm_kb(pid) {
                peak_rss_kb = peak_rss_kb.max(kb);
            }
            if let Some((o, c)) = cpu_ticks(pid) {
                own = own.max(o);
                children = children.max(c);
            }
            std::thread::sleep(Duration::from_millis(15));
        };
        let wall = started.elapsed();
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        let events =
            stdout.lines().filter(|l| l.starts_with('{')).filter_map(|l| serde_json::from_str(l).ok()).collect();
        let tick_ms = 1000 / clock_ticks().max(1);
        Run {
            status,
            wall,
            events,
            stderr,
            peak_rss_kb,
            own_cpu_ms: own * tick_ms,
            children_cpu_ms: children * tick_ms,
        }
    }

    /// Panics unless the run succeeded with `tasks` commits: a benchmark of a broken run means nothing.
    fn expect_success(&self, tasks: usize) {
        let finished = self.events.iter().find(|e| e["event"] == "run_finished");
        let ok = self.status.success()
            && finished.is_some_and(|e| e["state"] == "succeeded" && e["committed"].as_u64() == Some(tasks as u64));
        assert!(ok, "the run did not commit its {tasks} tasks ({}):\n{}", self.status, self.stderr);
    }

    fn times(&self, kind: &str) -> impl Iterator<Item = u64> + '_ {
        let kind = kind.to_owned();
        self.events.iter().filter(move |e| e["event"] == kind.as_str()).filter_map(|e| e["at_ms"].as_u64())
    }

    /// First `attempt_started` to `run_finished`, ms.
    fn makespan_ms(&self) -> f64 {
        let first = self.times("attempt_started").min().unwrap_or(0);
        let end = self.times("run_finished").max().unwrap_or(first);
        end.saturating_sub(first) as f64
    }

    /// `run_started` to the first `attempt_started` (the branch, the first lanes' worktrees), ms.
    fn setup_ms(&self) -> f64 {
        let first = self.times("attempt_started").min().unwrap_or(0);
        let started = self.times("run_started").min().unwrap_or(first);
        first.saturating_sub(started) as f64
    }

    /// For each task that has both, ms from its first `from` event to its last `to` event.
    fn spans(&self, from: &str, to: &str) -> Vec<f64> {
        self.task_spans(from, to).into_iter().map(|(_, ms)| ms).collect()
    }

    /// [`Run::spans`] with their tasks, in the order the tasks' `from` events came.
    fn task_spans(&self, from: &str, to: &str) -> Vec<(String, f64)> {
        let mut start: HashMap<&str, u64> = HashMap::new();
        let mut end: HashMap<&str, u64> = HashMap::new();
        for e in &self.events {
            let (Some(task), Some(ms)) = (e["task"].as_str(), e["at_ms"].as_u64()) else { continue };
            if e["event"] == from {
                start.entry(task).or_insert(ms);
            } else if e["event"] == to {
                end.insert(task, ms);
            }
        }
        let mut spans: Vec<(u64, String, f64)> = start
            .iter()
            .filter_map(|(task, s)| Some((*s, (*task).to_owned(), end.get(task)?.saturating_sub(*s) as f64)))
            .collect();
        spans.sort_by_key(|span| span.0);
        spans.into_iter().map(|(_, task, ms)| (task, ms)).collect()
    }

    /// Last `task_committed` to `run_finished` (removing the worktrees), ms.
    fn tail_ms(&self) -> f64 {
        let last = self.times("task_committed").max().unwrap_or(0);
        let end = self.times("run_finished").max().unwrap_or(last);
        end.saturating_sub(last) as f64
    }

    /// Most agents alive at once (from `agent_spawned` to `agent_exited`).
    fn peak_agents(&self) -> usize {
        let mut edges: Vec<(u64, i32)> = Vec::new();
        for e in &self.events {
            let at = e["at_ms"].as_u64().unwrap_or(0);
            match e["event"].as_str() {
                Some("agent_spawned") => edges.push((at, 1)),
                Some("agent_exited") => edges.push((at, -1)),
                _ => {}
            }
        }
        edges.sort_unstable();
        let (mut now, mut peak) = (0_i32, 0_i32);
        for (_, step) in edges {
            now += step;
            peak = peak.max(now);
        }
        peak.max(0) as usize
    }

    /// Where each task's time goes, averaged over tasks, ms: see [`Phases`].
    fn phases(&self, spec: &PlanSpec) -> Phases {
        let sleep: HashMap<&str, u64> = spec.tasks.iter().map(|t| (t.id.as_str(), t.sleep_ms)).collect();
        let mut at: HashMap<(String, String), u64> = HashMap::new();
        let mut lanes: HashMap<String, Vec<String>> = HashMap::new();
        for e in &self.events {
            let (Some(task), Some(kind), Some(ms)) = (e["task"].as_str(), e["event"].as_str(), e["at_ms"].as_u64())
            else {
                continue;
            };
            at.entry((task.to_owned(), kind.to_owned())).or_insert(ms);
            if kind == "attempt_started" {
                lanes.entry(e["lane"].as_str().unwrap_or_default().to_owned()).or_default().push(task.to_owned());
            }
        }
        let get = |task: &str, kind: &str| at.get(&(task.to_owned(), kind.to_owned())).copied();
        let mut sums = [0.0_f64; 6];
        let mut counts = [0_u32; 6];
        let mut add = |slot: usize, value: Option<f64>| {
            if let Some(v) = value {
                sums[slot] += v;
                counts[slot] += 1;
            }
        };
        for t in &spec.tasks {
            let id = t.id.as_str();
            let span = |a: &str, b: &str| Some(get(id, b)?.checked_sub(get(id, a)?)? as f64);
            add(0, span("attempt_started", "agent_exited").map(|v| v - sleep[id] as f64));
            add(1, span("agent_exited", "verify_started"));
            add(2, span("verify_started", "verify_finished"));
            add(3, span("verify_finished", "integrating"));
            add(4, span("integrating", "task_committed"));
        }
        for tasks in lanes.values_mut() {
            tasks.sort_by_key(|t| get(t, "attempt_started"));
            for pair in tasks.windows(2) {
                add(
                    5,
                    Some(
                        get(&pair[1], "attempt_started")
                            .unwrap_or(0)
                            .saturating_sub(get(&pair[0], "task_committed").unwrap_or(0))
                            as f64,
                    ),
                );
            }
        }
        let mean = |i: usize| if counts[i] == 0 { 0.0 } else { sums[i] / f64::from(counts[i]) };
        Phases {
            agent: mean(0),
            after_agent: mean(1),
            verify: mean(2),
            commit: mean(3),
            integrate: mean(4),
            between: mean(5),
        }
    }
}

/// Mean milliseconds per task spent in each part of an attempt, from the event times.
struct Phases {
    /// `attempt_started` → `agent_exited`, minus the agent's own sleep: prompt files, the
    /// fingerprint of the user's work tree (`git status`), spawning and reaping the agent.
    agent: f64,
    /// `agent_exited` → `verify_started`: the work-tree fingerprint again, beside the snapshot
    /// of the agent's work (`add --all`, `diff --cached`, `write-tree`).
    after_agent: f64,
    /// `verify_started` → `verify_finished`: `sh -c true`.
    verify: f64,
    /// `verify_finished` → `integrating`: `commit-tree`.
    commit: f64,
    /// `integrating` → `task_committed`: `update-ref` (or `rev-parse`, `merge-tree`,
    /// `commit-tree`, `update-ref` when another task landed since the base).
    integrate: f64,
    /// A lane's `task_committed` → its next `attempt_started`: scheduler, `rev-parse`, worktree
    /// reset (`checkout`, `reset --hard`, `clean`). Includes waiting for dependencies when
    /// lanes are not sequential.
    between: f64,
}

impl Phases {
    fn total(&self) -> f64 {
        self.agent + self.after_agent + self.verify + self.commit + self.integrate + self.between
    }

    fn print(&self, indent: &str) {
        println!(
            "{indent}per task, ms: agent start/stop + prompt + tree fingerprint {:.1} | fingerprint after agent beside the snapshot {:.1} | verify {:.1} | commit-tree {:.1} | integrate {:.1} | between tasks (scheduler + worktree reset) {:.1} | sum {:.1}",
            self.agent,
            self.after_agent,
            self.verify,
            self.commit,
            self.integrate,
            self.between,
            self.total()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Benchmarks

/// The engine's cost per task on a tiny repository, tasks run one after another: (makespan minus
/// the agents' sleep) / tasks, and CPU (engine + its children) per task.
struct Calibration {
    overhead_ms: f64,
    cpu_ms: f64,
}

fn calibrate(sizes: &Sizes) -> Calibration {
    let n = sizes.calibration_tasks;
    let spec = one_lane(n, 50);
    let scratch = Scratch::new(0);
    scratch.write_plan(&spec);
    let run = scratch.run(&["-j", "1"]);
    run.expect_success(spec.tasks.len());
    let overhead_ms = (run.makespan_ms() - spec.work_ms() as f64) / f64::from(n);
    let cpu_ms = (run.own_cpu_ms + run.children_cpu_ms) as f64 / f64::from(n);
    println!("calibration: {n} tasks on one lane, 50 ms each, -j 1, tiny repository");
    println!(
        "  makespan {:.0} ms for {} ms of agent sleep: overhead {overhead_ms:.1} ms per task (end-of-run worktree removal {:.0} ms included)",
        run.makespan_ms(),
        spec.work_ms(),
        run.tail_ms()
    );
    run.phases(&spec).print("  ");
    println!(
        "  CPU per task: {cpu_ms:.1} ms (wavecrew {:.1} + git/agents/verify {:.1}); on {} cores the engine cannot exceed ~{:.0} tasks/s",
        run.own_cpu_ms as f64 / f64::from(n),
        run.children_cpu_ms as f64 / f64::from(n),
        cores(),
        cores() as f64 * 1000.0 / cpu_ms.max(1.0)
    );
    println!();
    Calibration { overhead_ms, cpu_ms }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn scheduling(sizes: &Sizes, calibration: &Calibration) {
    println!("1. scheduling quality: makespan (first attempt_started → run_finished) / lower bound");
    println!(
        "   lower bound = max(longest chain of waits, work / j, busiest lane), from the agents' sleeps; target ≤ {TARGET_SCHEDULE_RATIO}"
    );
    println!(
        "   simulated = the engine's Scheduler replaying the plan in simulated time (critical path first, or the plan's order), without overhead"
    );
    println!(
        "   or with the calibrated {:.1} ms per task; measured / simulated-with-overhead > 1 is contention ({:.1} ms CPU per task on {} cores)",
        calibration.overhead_ms,
        calibration.cpu_ms,
        cores()
    );
    let mut worst: Option<(String, f64)> = None;
    for shape in &sizes.shapes {
        let Shape { label, waves, per_wave, lanes, pool, .. } = *shape;
        let spec = generate(shape);
        let n = spec.tasks.len();
        let lane_count = spec.lane_count();
        println!(
            "\n  {label}: {waves} waves x {per_wave} tasks, {lanes} lane(s) per wave, {lane_count} lanes in all{}, {:.1} s of agent work",
            if pool.is_some() { " (shared across waves)" } else { "" },
            spec.work_ms() as f64 / 1000.0
        );
        let mut dag: HashMap<usize, f64> = HashMap::new();
        for &jobs in &shape.jobs {
            let run = run_plan(&spec, &["-j", &jobs.to_string()]);
            run.expect_success(n);
            let makespan = run.makespan_ms();
            dag.insert(jobs, makespan);
            let bound = spec.lower_bound(jobs, 0.0);
            let ratio = makespan / bound.value();
            let critical_first = spec.simulate(jobs, 0.0, Order::CriticalPath);
            let plan_order = spec.simulate(jobs, 0.0, Order::Plan);
            let with_overhead = spec.simulate(jobs, calibration.overhead_ms, Order::CriticalPath);
            let limited =
                if lane_count < jobs { format!(", limited to its {lane_count} lanes") } else { String::new() };
            println!(
                "    -j {jobs}{limited}: makespan {makespan:.0} ms, lower bound {:.0} ms ({}): ratio {ratio:.3}",
                bound.value(),
                bound.binding()
            );
            println!(
                "        simulated without overhead: the engine's scheduler (critical path first) {critical_first:.0} ms ({:.3} of the bound); in the plan's order {plan_order:.0} ms ({:.3})",
                critical_first / bound.value(),
                plan_order / bound.value()
            );
            println!(
                "        simulated with {:.1} ms per task: {with_overhead:.0} ms; measured / that = {:.3}",
                calibration.overhead_ms,
                makespan / with_overhead
            );
            println!(
                "        mean overhead inside an attempt {:.1} ms; CPU {:.2} s (wavecrew itself {:.2} s); peak {} agents at once; worktree cleanup at the end {:.0} ms; RSS {:.1} MB",
                in_task_overhead(&run, &spec),
                (run.own_cpu_ms + run.children_cpu_ms) as f64 / 1000.0,
                run.own_cpu_ms as f64 / 1000.0,
                run.peak_agents(),
                run.tail_ms(),
                run.peak_rss_kb as f64 / 1024.0
            );
            if worst.as_ref().is_none_or(|(_, w)| ratio > *w) {
                worst = Some((format!("{label} -j {jobs}"), ratio));
            }
        }
        for &jobs in &shape.waves_jobs {
            let run = run_plan(&spec, &["-j", &jobs.to_string(), "--schedule", "waves"]);
            run.expect_success(n);
            let waves_makespan = run.makespan_ms();
            let dag_makespan = dag.get(&jobs).copied().unwrap_or(f64::NAN);
            println!(
                "    --schedule waves -j {jobs}: makespan {waves_makespan:.0} ms; dag / waves = {:.3}",
                dag_makespan / waves_makespan
            );
        }
    }
    if let Some((what, ratio)) = worst {
        println!("\n  worst makespan / lower bound: {ratio:.3} ({what}); target ≤ {TARGET_SCHEDULE_RATIO}");
    }
    if cores() < 64 {
        println!(
            "  note: -j 16 and 64 on {} cores: many agents may sleep at once, but each task's git work competes for {} cores",
            cores(),
            cores()
        );
    }
    println!();
}

/// The makespan of a plan of 1-second agents against its critical-path bound, at the default
/// `-j` (one per lane); then at `-j 2`, critical path first (the engine) against the plan's
/// order (the engine's [`Scheduler`] in simulated time, with the calibrated overhead per task),
/// on the same plan and on an uneven one where the order matters.
fn makespan(sizes: &Sizes, calibration: &Calibration) {
    let (waves, per_wave, lanes, sleep_ms) = sizes.makespan;
    let shape =
        Shape { label: "makespan", waves, per_wave, lanes, pool: None, scale: 1, jobs: vec![], waves_jobs: vec![] };
    let mut spec = generate(&shape);
    for task in &mut spec.tasks {
        task.sleep_ms = sleep_ms;
    }
    let lane_count = spec.lane_count();
    println!(
        "2. makespan: {waves} waves x {per_wave} tasks, {lanes} lanes per wave ({lane_count} in all), every agent {sleep_ms} ms, Verify `true`; target ≤ {TARGET_MAKESPAN_RATIO} x the critical-path bound"
    );
    let run = run_plan(&spec, &[]);
    run.expect_success(spec.tasks.len());
    let bound = spec.lower_bound(lane_count, 0.0);
    let whole = run.makespan_ms();
    let tasks = whole - run.tail_ms();
    println!(
        "  default -j ({lane_count}): makespan {whole:.0} ms (first attempt_started → run_finished), critical-path bound {:.0} ms ({}): ratio {:.3}",
        bound.value(),
        bound.binding(),
        whole / bound.value()
    );
    println!(
        "    the tasks alone (→ last task_committed) {tasks:.0} ms: {:.3}; worktree removal at the end {:.0} ms; before the first attempt (branch, lane worktrees) {:.0} ms",
        tasks / bound.value(),
        run.tail_ms(),
        run.setup_ms()
    );
    println!(
        "    simulated with {:.1} ms per task: {:.0} ms",
        calibration.overhead_ms,
        spec.simulate(lane_count, calibration.overhead_ms, Order::CriticalPath)
    );
    run.phases(&spec).print("    ");

    let short = per_wave.min(4);
    let uneven = uneven(short, sleep_ms);
    let uneven_label = format!("an uneven plan ({short} short tasks, then a chain of {short} written after them)");
    for (label, spec) in [("the same plan", &spec), (uneven_label.as_str(), &uneven)] {
        let run = run_plan(spec, &["-j", "2"]);
        run.expect_success(spec.tasks.len());
        let bound = spec.lower_bound(2, 0.0);
        let overhead = calibration.overhead_ms;
        let (critical, plan_order) =
            (spec.simulate(2, overhead, Order::CriticalPath), spec.simulate(2, overhead, Order::Plan));
        println!("  -j 2, {label}: bound {:.0} ms ({})", bound.value(), bound.binding());
        println!(
            "    measured (critical path first): makespan {:.0} ms, {:.3} x the bound",
            run.makespan_ms(),
            run.makespan_ms() / bound.value()
        );
        println!(
            "    simulated with {overhead:.1} ms per task: critical path first {critical:.0} ms ({:.3}), the plan's order {plan_order:.0} ms ({:.3}); critical path first / plan order = {:.3}",
            critical / bound.value(),
            plan_order / bound.value(),
            critical / plan_order
        );
    }
    println!();
}

/// `q` (0 to 1) of `values`, nearest rank.
fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(((sorted.len().saturating_sub(1)) as f64 * q).round() as usize).copied().unwrap_or(f64::NAN)
}

/// From an agent's exit to its task's commit on the run branch, on a large repository, beside
/// a naive `git add -A && git commit` in a worktree of the same repository.
fn commit_latency(sizes: &Sizes) {
    let files = sizes.repo_files;
    let n = sizes.latency_tasks;
    println!(
        "3. agent exit to commit on the run branch (agent_exited → task_committed), on a repository of {files} files: {n} tasks on one lane, each agent writes one file, Verify `true`; target p50 ≤ {TARGET_COMMIT_P50_MS} ms"
    );
    let scratch = Scratch::new(files);
    let spec = one_lane(n, 50);
    scratch.write_plan(&spec);
    let run = scratch.run(&["-j", "1"]);
    run.expect_success(spec.tasks.len());
    let part = |from: &str, to: &str| {
        let spans = run.spans(from, to);
        format!("p50 {:.0} / p95 {:.0}", percentile(&spans, 0.5), percentile(&spans, 0.95))
    };
    let by_task = run.task_spans("agent_exited", "task_committed");
    let spans: Vec<f64> = by_task.iter().map(|(_, ms)| *ms).collect();
    let p50 = percentile(&spans, 0.5);
    let mut slowest: Vec<(usize, &(String, f64))> = by_task.iter().enumerate().collect();
    slowest.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
    let slowest: Vec<String> =
        slowest.iter().take(3).map(|(i, (task, ms))| format!("{ms:.0} ms (task {task}, {} to run)", i + 1)).collect();
    println!(
        "  wavecrew: p50 {p50:.0} ms, p95 {:.0} ms over {} tasks; slowest {}",
        percentile(&spans, 0.95),
        spans.len(),
        slowest.join(", ")
    );
    println!(
        "    of which, ms: agent exit → Verify (work-tree check + snapshot) {}; Verify {}; → integrating (commit-tree) {}; → committed (landing) {}",
        part("agent_exited", "verify_started"),
        part("verify_started", "verify_finished"),
        part("verify_finished", "integrating"),
        part("integrating", "task_committed"),
    );

    let worktree = scratch.dir.path().join("naive");
    git(&scratch.root(), &["worktree", "add", "--quiet", "-b", "naive", &worktree.to_string_lossy(), "HEAD"]);
    let mut naive = Vec::new();
    for i in 1..=n {
        std::fs::create_dir_all(worktree.join("out")).expect("mkdir");
        std::fs::write(worktree.join(format!("out/naive_{i}.txt")), format!("{i}\n")).expect("write");
        let started = Instant::now();
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("git add -A && git commit --quiet -m 'naive {i}'"))
            .current_dir(&worktree)
            .status()
            .expect("sh runs");
        assert!(status.success(), "the naive commit failed");
        naive.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let naive_p50 = percentile(&naive, 0.5);
    println!(
        "  naive `git add -A && git commit` in a new worktree of the same repository: p50 {naive_p50:.0} ms, p95 {:.0} ms",
        percentile(&naive, 0.95)
    );
    println!("  wavecrew / naive at p50 = {:.2}", p50 / naive_p50);
    println!();
}

fn run_plan(spec: &PlanSpec, extra: &[&str]) -> Run {
    let scratch = Scratch::new(0);
    scratch.write_plan(spec);
    scratch.run(extra)
}

/// Mean of (task_committed − attempt_started − the agent's sleep) over tasks: overhead inside an
/// attempt, under the run's own contention (the worktree reset before `attempt_started` is not in it).
fn in_task_overhead(run: &Run, spec: &PlanSpec) -> f64 {
    let mut start: HashMap<&str, u64> = HashMap::new();
    let mut end: HashMap<&str, u64> = HashMap::new();
    for e in &run.events {
        let (Some(task), Some(ms)) = (e["task"].as_str(), e["at_ms"].as_u64()) else { continue };
        match e["event"].as_str() {
            Some("attempt_started") => {
                start.entry(task).or_insert(ms);
            }
            Some("task_committed") => {
                end.insert(task, ms);
            }
            _ => {}
        }
    }
    let values: Vec<f64> = spec
        .tasks
        .iter()
        .filter_map(|t| {
            Some(end.get(t.id.as_str())?.saturating_sub(*start.get(t.id.as_str())?) as f64 - t.sleep_ms as f64)
        })
        .collect();
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The rest of one task of the naive baseline, after `git worktree add -b naive-$3 $2 HEAD` in the
/// repository `$1`: a file written, staged and committed, merged into the checked-out branch,
/// the worktree removed.
const NAIVE_TASK: &str = r#"set -e
root="$1"; wt="$2"; i="$3"
cd "$root"
mkdir -p "$wt/out"
echo "naive $i" > "$wt/out/naive_$i.txt"
git -C "$wt" add --all
git -C "$wt" commit --quiet -m "naive task $i"
git merge --quiet --no-edit "naive-$i"
git worktree remove --force "$wt"
"#;

fn per_task_overhead(sizes: &Sizes) {
    let files = sizes.repo_files;
    let n = sizes.overhead_tasks;
    println!(
        "4. per-task overhead on a repository of {files} files: {n} tasks on one lane (one after another), Verify `true`"
    );
    let made = Instant::now();
    let scratch = Scratch::new(files);
    println!("  repository generated in {:.1} s", made.elapsed().as_secs_f64());
    let spec = one_lane(n, 0);
    scratch.write_plan(&spec);
    let run = scratch.run(&["-j", "1"]);
    run.expect_success(spec.tasks.len());
    let wavecrew_ms = run.wall.as_secs_f64() * 1000.0;
    let first_start = run.times("attempt_started").min().unwrap_or(0);
    let run_started = run.times("run_started").min().unwrap_or(first_start);
    let setup_ms = first_start.saturating_sub(run_started) as f64;
    let tasks_ms = run.makespan_ms() - run.tail_ms();
    println!(
        "  wavecrew: {wavecrew_ms:.0} ms in all (process start to exit), {:.1} ms per task",
        wavecrew_ms / f64::from(n)
    );
    println!(
        "    journal + branch + lane worktree add before the first task {setup_ms:.0} ms; the tasks {tasks_ms:.0} ms ({:.1} ms each); worktree removal at the end {:.0} ms",
        tasks_ms / f64::from(n),
        run.tail_ms(),
    );
    println!(
        "    CPU: wavecrew {:.2} s, its children (git, agents, Verify) {:.2} s",
        run.own_cpu_ms as f64 / 1000.0,
        run.children_cpu_ms as f64 / 1000.0
    );
    run.phases(&spec).print("    ");

    // The naive loop, one task at a time, until all are done or the time budget is spent.
    let work = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let mut done = 0;
    let mut adding = Duration::ZERO;
    while done < n && (done < 1 || started.elapsed() < sizes.naive_budget) {
        done += 1;
        let worktree = work.path().join(format!("wt-{done}"));
        let add = Instant::now();
        git(
            &scratch.root(),
            &["worktree", "add", "--quiet", "-b", &format!("naive-{done}"), &worktree.to_string_lossy(), "HEAD"],
        );
        adding += add.elapsed();
        let output = Command::new("sh")
            .arg("-c")
            .arg(NAIVE_TASK)
            .arg("naive")
            .arg(scratch.root())
            .arg(&worktree)
            .arg(done.to_string())
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .expect("sh runs");
        assert!(output.status.success(), "the naive loop failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let naive_ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(done);
    let timed = if done < n {
        format!("{done} of the {n} tasks timed (a {} s budget), mean", sizes.naive_budget.as_secs())
    } else {
        format!("{n} tasks")
    };
    println!(
        "  naive loop (worktree add, write, add, commit, merge into main, worktree remove): {timed} {naive_ms:.1} ms per task"
    );
    println!(
        "    of which `git worktree add` of {files} files {:.1} ms, the rest {:.1} ms",
        adding.as_secs_f64() * 1000.0 / f64::from(done),
        naive_ms - adding.as_secs_f64() * 1000.0 / f64::from(done)
    );
    println!(
        "  wavecrew / naive = {:.3} per task (target ≤ {TARGET_OVERHEAD_RATIO}); tasks only, without wavecrew's one-time setup and cleanup: {:.3}",
        wavecrew_ms / f64::from(n) / naive_ms,
        tasks_ms / f64::from(n) / naive_ms
    );
    println!();
}

fn footprint(sizes: &Sizes) {
    let n = sizes.footprint_agents;
    println!(
        "5. footprint: peak RSS of the wavecrew process with {n} scripted agents at once ({n} lanes, one wave, -j {n}, {} ms each)",
        sizes.footprint_sleep_ms
    );
    let spec = one_wave_own_lanes(n, sizes.footprint_sleep_ms);
    let run = run_plan(&spec, &["-j", &n.to_string()]);
    run.expect_success(spec.tasks.len());
    println!(
        "  peak RSS (VmHWM of wavecrew alone, agents and git excluded): {:.1} MB (target < {TARGET_RSS_MB} MB); peak {} agents at once; run {:.1} s, wavecrew CPU {:.2} s",
        run.peak_rss_kb as f64 / 1024.0,
        run.peak_agents(),
        run.wall.as_secs_f64(),
        run.own_cpu_ms as f64 / 1000.0
    );
    println!();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then run a smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = Sizes::new(full);
    let started = Instant::now();
    println!(
        "wavecrew engine benchmarks ({}; {} cores; repositories under {} (set TMPDIR to move them); times are wall-clock and noisy)\n",
        if sizes.full { "full" } else { "smoke test: tiny workloads" },
        cores(),
        std::env::temp_dir().display()
    );
    // Benchmarks named after `--bench` run alone: `scheduling`, `makespan`, `latency`, `overhead`,
    // `footprint`.
    let chosen: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wants = |name: &str| chosen.is_empty() || chosen.iter().any(|c| c == name);
    if wants("scheduling") || wants("makespan") {
        let calibration = calibrate(&sizes);
        if wants("scheduling") {
            scheduling(&sizes, &calibration);
        }
        if wants("makespan") {
            makespan(&sizes, &calibration);
        }
    }
    if wants("latency") {
        commit_latency(&sizes);
    }
    if wants("overhead") {
        per_task_overhead(&sizes);
    }
    if wants("footprint") {
        footprint(&sizes);
    }
    let _ = std::fs::remove_dir_all(state_home());
    println!("all benchmarks: {:.1} s", started.elapsed().as_secs_f64());
}

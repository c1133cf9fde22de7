//! Parser throughput on a large, realistic plan: 500 waves x 10 tasks = 5,000 tasks.
//!
//! `cargo bench -p wavecrew-plan --bench parse` compares `plan::parse` (Markdown events, model,
//! schedule and every check) with the bare pulldown-cmark pass it is built on, benches
//! `plan::format` on the same text, and prints the `parse_and_check / raw_pulldown_cmark` ratio
//! (target: at most 3x). `cargo test -p wavecrew-plan --benches` runs each bench once.

use criterion::{Criterion, Throughput};
use pulldown_cmark::{Options, Parser};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const WAVES: u32 = 500;
const TASKS_PER_WAVE: u32 = 10;
const TASKS: usize = (WAVES * TASKS_PER_WAVE) as usize;

const GROUP: &str = "plan_5000_tasks";
const RAW: &str = "raw_pulldown_cmark";
const PARSE: &str = "parse_and_check";
const FORMAT_GROUP: &str = "format_5000_tasks";
const FORMAT: &str = "format";
const TARGET_RATIO: f64 = 3.0;

const AREAS: [&str; TASKS_PER_WAVE as usize] =
    ["model", "store", "api", "auth", "cache", "queue", "search", "render", "config", "metrics"];

/// The source file task `w.k` produces (distinct for every task).
fn source_path(w: u32, k: u32) -> String {
    format!("src/wave{w:03}/{}_{k}.rs", AREAS[(k - 1) as usize])
}

/// Builds the plan, deterministically (no randomness, no files).
fn generate_plan() -> String {
    let mut s = String::with_capacity(4 << 20);
    s.push_str("# M9 Implementation Plan: Sharded event store\n\n");
    s.push_str("## Context\n\n");
    s.push_str(
        "The event store outgrew a single process. M8 shipped the wire format and the client library;\n\
         this milestone splits the store into shards, one wave per shard family, so that each shard can be\n\
         built, tested and reviewed on its own. Every task touches its own files.\n\n",
    );

    s.push_str("## must_haves\n\n");
    s.push_str("### truths (observable outcomes)\n");
    s.push_str("- `cargo test --workspace` passes with every shard enabled\n");
    s.push_str("- A write acknowledged by one shard is readable from every other shard within 1 s\n");
    s.push_str("- Restarting a shard loses no acknowledged write\n\n");
    s.push_str("### artifacts (files produced)\n");
    for (w, k) in [(1, 1), (1, 2), (125, 3), (250, 5), (375, 7), (500, 10)] {
        writeln!(s, "- `{}`", source_path(w, k)).unwrap();
    }
    s.push_str("\n### key_links (where breakage cascades)\n");
    writeln!(s, "- `{}` feeds every shard's `store` module and the `api` layer", source_path(1, 1)).unwrap();
    s.push_str("- The `config` modules decide shard placement; a change there affects `render` and `metrics`\n\n");

    s.push_str("## Waves\n\n");
    for w in 1..=WAVES {
        writeln!(s, "### Wave {w}: Shard family {w}").unwrap();
        if w == 1 {
            s.push_str("> No dependencies. All tasks run in parallel.\n\n");
        } else {
            writeln!(s, "> Depends on: Wave {}. All tasks run in parallel.\n", w - 1).unwrap();
        }
        for k in 1..=TASKS_PER_WAVE {
            let area = AREAS[(k - 1) as usize];
            writeln!(s, "**Task {w}.{k}** (type: auto)").unwrap();
            writeln!(s, "- **Files**: `{}`, `tests/wave{w:03}/{area}_{k}_test.rs`", source_path(w, k)).unwrap();
            writeln!(
                s,
                "- **Action**: Implement the `{area}` layer of shard family {w}: route reads and writes through \
                 the shard map, keep the public API of wave {} unchanged, and log every rejected request",
                w.saturating_sub(1).max(1)
            )
            .unwrap();
            writeln!(s, "- **Verify**: `cargo test -p shard-{w:03} {area}_{k}`").unwrap();
            writeln!(s, "- **Done**: the {area} tests of shard family {w} pass and no existing test regresses\n")
                .unwrap();
        }
    }

    s.push_str("## Agent Strategy\n\n");
    s.push_str("| Wave | Agent | Model | Tasks |\n");
    s.push_str("|------|-------|-------|-------|\n");
    for w in 1..=WAVES {
        for k in 1..=TASKS_PER_WAVE {
            let model = if k == 1 { "sonnet" } else { "haiku" };
            writeln!(s, "| {w} | Worker {k} | {model} | {w}.{k} |").unwrap();
        }
    }

    s.push_str("\n## Commit Strategy\n\n```\n");
    for w in 1..=WAVES {
        for k in 1..=TASKS_PER_WAVE {
            writeln!(s, "feat(M9): {{task {w}.{k} description}}").unwrap();
        }
    }
    s.push_str("```\n\n");

    s.push_str("## Verification\n\n### Automated\n```bash\n");
    s.push_str("cargo test --workspace              # 0 failures\n");
    s.push_str("cargo clippy --workspace -- -D warnings   # no warnings\n");
    s.push_str("```\n\n### Manual\n");
    s.push_str("1. Start three shards and write 1,000 events through the first one\n");
    s.push_str("2. Kill the second shard, restart it, and read the events back from it\n");
    s
}

/// Checks once, before measuring, that the workload is what it claims to be.
fn assert_workload(text: &str) {
    let parsed = plan::parse(text, "bench");
    assert_eq!(parsed.plan.tasks.len(), TASKS, "the generated plan must have {TASKS} tasks");
    assert_eq!(parsed.plan.waves.len(), WAVES as usize);
    assert_eq!(parsed.plan.agents.len(), TASKS, "every task must be assigned to an agent");
    assert_eq!(parsed.plan.commits.len(), TASKS, "every task must have a commit line");
    let errors: Vec<String> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity() == plan::Severity::Error)
        .take(10)
        .map(|d| format!("{d:?}"))
        .collect();
    assert!(errors.is_empty(), "the generated plan must have no errors, got:\n{}", errors.join("\n"));
}

fn raw_pulldown_cmark(text: &str) {
    let options = Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(text, options).into_offset_iter() {
        black_box(event);
    }
}

fn benches(c: &mut Criterion, text: &str) {
    let mut group = c.benchmark_group(GROUP);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function(RAW, |b| b.iter(|| raw_pulldown_cmark(black_box(text))));
    group.bench_function(PARSE, |b| b.iter(|| plan::parse(black_box(text), "bench")));
    group.finish();

    let mut group = c.benchmark_group(FORMAT_GROUP);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function(FORMAT, |b| b.iter(|| plan::format(black_box(text))));
    group.finish();
}

/// Where criterion writes its reports: the same rules criterion follows (`CRITERION_HOME`,
/// `CARGO_TARGET_DIR`), then the target directory this bench binary was built in
/// (`<target>/release/deps/parse-<hash>`), then the workspace's `target/`.
fn criterion_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        dirs.push(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(target).join("criterion"));
    }
    if let Ok(exe) = std::env::current_exe() {
        dirs.extend(exe.ancestors().skip(1).take(4).map(|dir| dir.join("criterion")));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion"));
    dirs
}

/// The mean time (ns) of `group/bench` measured by this process, if it measured it.
fn mean_ns(group: &str, bench: &str, started: SystemTime) -> Option<f64> {
    criterion_dirs().into_iter().find_map(|dir| {
        let path = dir.join(group).join(bench).join("new").join("estimates.json");
        // Estimates left by an earlier run (this one may be `--list`, test mode or filtered) do not count.
        if std::fs::metadata(&path).and_then(|m| m.modified()).ok()? < started {
            return None;
        }
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
        json["mean"]["point_estimate"].as_f64()
    })
}

fn main() {
    let started = SystemTime::now();
    let text = generate_plan();
    assert_workload(&text);

    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion, &text);
    criterion.final_summary();

    let raw = mean_ns(GROUP, RAW, started);
    if let (Some(raw), Some(parse)) = (raw, mean_ns(GROUP, PARSE, started)) {
        println!(
            "{PARSE} / {RAW} = {:.2}x (target: at most {TARGET_RATIO}x; {} bytes, {TASKS} tasks)",
            parse / raw,
            text.len()
        );
        if let Some(format) = mean_ns(FORMAT_GROUP, FORMAT, started) {
            println!("{FORMAT} / {RAW} = {:.2}x", format / raw);
        }
    }
}

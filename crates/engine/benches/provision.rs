//! Lane preparation, two workloads, each beside a plain recursive copy (`cp -R`). Prints
//! times, bytes and ratios; asserts nothing about speed.
//!
//! - node: a project with a 30,000-file `node_modules`: seeding it into a new worktree (reflink
//!   where the filesystem can, else copy; hard links when configured) and running the install
//!   (`npm ci --offline` of a local package with the same 30,000 files).
//! - cargo: a Rust workspace whose `target/` holds 2 GiB (`--target-mb N` to change it) in
//!   20,000 small files and 8 MiB artifacts, prepared for 4 lanes: wavecrew's provisioning
//!   (clones where the filesystem can; else each lane gets its own `CARGO_TARGET_DIR`) beside
//!   `cp -R target/` into each lane. Bytes written are those of the lanes' folders afterwards
//!   (`du --apparent-size`, symlinks not followed) and those wavecrew counted.
//!
//! `cargo bench -p wavecrew-engine --bench provision [-- --scenario node|cargo] [--target-mb N]`.
//! Under `cargo test --benches` it runs small versions once, as a smoke test.

use engine::provision::{Provision, WorktreeSettings};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn sh(dir: &Path, script: &str) {
    let output = Command::new("sh").current_dir(dir).arg("-c").arg(script).output().unwrap();
    assert!(output.status.success(), "{script}: {}", String::from_utf8_lossy(&output.stderr));
}

/// The best of `runs` timings of `f` (each run gets a fresh target from `reset`).
fn best(runs: usize, mut reset: impl FnMut(), mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            reset();
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// `--name VALUE` on the command line.
fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let scenario = arg("--scenario").unwrap_or_else(|| "all".to_owned());
    if scenario == "all" || scenario == "node" {
        node(full);
    }
    if scenario == "all" || scenario == "cargo" {
        let default_mb = if full { 2048 } else { 4 };
        let target_mb = arg("--target-mb").map_or(default_mb, |mb| mb.parse().expect("--target-mb takes a number"));
        cargo(full, target_mb);
    }
}

fn node(full: bool) {
    let files = if full { 30_000 } else { 300 };
    let runs = if full { 3 } else { 1 };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    let package = dir.path().join("big");
    std::fs::create_dir_all(&root).unwrap();
    // A package of `files` small files in 100 folders, packed, and installed in the project.
    for i in 0..files {
        let folder = package.join(format!("lib/m{:03}", i % 100));
        if i < 100 {
            std::fs::create_dir_all(&folder).unwrap();
        }
        std::fs::write(folder.join(format!("f{i}.js")), format!("module.exports = {i};\n")).unwrap();
    }
    std::fs::write(package.join("package.json"), r#"{"name":"big","version":"1.0.0"}"#).unwrap();
    sh(dir.path(), "cd big && npm pack --silent >/dev/null && mv big-1.0.0.tgz ../project/");
    std::fs::write(
        root.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"big":"file:big-1.0.0.tgz"}}"#,
    )
    .unwrap();
    std::fs::write(root.join(".gitignore"), "node_modules/\n").unwrap();
    sh(
        &root,
        "npm install --offline --no-audit --no-fund --loglevel=error && git init -q && git add . && git -c user.name=b -c user.email=b@b commit -qm init",
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let target = dir.path().join("worktree");
    let worktrees = dir.path().join("worktrees");
    let reset = || {
        let _ = std::fs::remove_dir_all(&target);
        std::fs::create_dir_all(&target).unwrap();
    };
    let seeded = |hardlink: bool| {
        let settings = WorktreeSettings { hardlink, ..WorktreeSettings::default() };
        let provision = runtime.block_on(Provision::plan(&root, &worktrees, &settings)).unwrap();
        assert!(provision.files.len() > files, "node_modules is seeded from the lockfile");
        let mut method = String::new();
        let time = best(runs, reset, || {
            let seeded = runtime.block_on(provision.seed(&root, &target)).unwrap();
            method = seeded.method.as_str().to_owned();
        });
        (time, method)
    };
    let (seed, method) = seeded(false);
    let (hardlink, _) = seeded(true);
    let copy = best(runs, reset, || sh(dir.path(), "cp -R project/node_modules worktree/"));
    let install = best(
        runs,
        || {
            let _ = std::fs::remove_dir_all(&target);
            sh(
                dir.path(),
                "mkdir worktree && cp project/package.json project/package-lock.json project/big-1.0.0.tgz worktree/",
            );
        },
        || sh(&target, "npm ci --offline --no-audit --no-fund --loglevel=error"),
    );

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("lane preparation, node_modules of {files} files (best of {runs}):");
    println!("  wavecrew seed ({method:>8}) {:>9.1} ms", ms(seed));
    println!("  wavecrew seed (hardlink) {:>9.1} ms", ms(hardlink));
    println!("  cp -R                    {:>9.1} ms", ms(copy));
    println!("  npm ci --offline         {:>9.1} ms", ms(install));
    println!("  seed / cp -R          = {:.2}x", ms(seed) / ms(copy));
    println!("  seed / npm ci         = {:.2}x", ms(seed) / ms(install));
    println!("  hardlink / npm ci     = {:.2}x", ms(hardlink) / ms(install));
}

/// Bytes of the regular files under `dir` (`du --apparent-size`; symlinks not followed).
fn bytes_under(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .map(|entry| {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                bytes_under(&path)
            } else if meta.is_file() {
                meta.len()
            } else {
                0
            }
        })
        .sum()
}

/// A Rust workspace with `target_mb` MiB in `target/`, prepared for 4 lanes.
fn cargo(full: bool, target_mb: u64) {
    const LANES: usize = 4;
    const ARTIFACT: usize = 8 << 20;
    let small_files = if full { 20_000 } else { 200 };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
        .unwrap();
    std::fs::write(root.join("Cargo.lock"), "version = 4\n").unwrap();
    std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(root.join(".gitignore"), "/target\n").unwrap();
    // Fingerprints and dep-info (small), then artifacts of 8 MiB up to the size asked for.
    let target = root.join("target/debug");
    for i in 0..small_files {
        let folder = target.join(format!(".fingerprint/crate-{:04}", i % 1000));
        if i < 1000 {
            std::fs::create_dir_all(&folder).unwrap();
        }
        std::fs::write(folder.join(format!("f{i}")), [b'f'; 1024]).unwrap();
    }
    std::fs::create_dir_all(target.join("deps")).unwrap();
    let mut left = (target_mb << 20).saturating_sub(small_files as u64 * 1024);
    let mut artifact = vec![0u8; ARTIFACT];
    let mut n = 0u64;
    while left > 0 {
        let size = left.min(ARTIFACT as u64) as usize;
        // Different bytes per file: no filesystem may deduplicate them.
        artifact[..8].copy_from_slice(&n.to_le_bytes());
        std::fs::write(target.join(format!("deps/libcrate{n}.rlib")), &artifact[..size]).unwrap();
        left -= size as u64;
        n += 1;
    }
    sh(&root, "git init -q && git add . && git -c user.name=b -c user.email=b@b commit -qm init");
    let source_bytes = bytes_under(&root.join("target"));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let worktrees = dir.path().join("worktrees");
    let lanes: Vec<_> = (0..LANES).map(|i| worktrees.join(format!("slot-{i}"))).collect();
    let reset = || {
        let _ = std::fs::remove_dir_all(&worktrees);
        for lane in &lanes {
            std::fs::create_dir_all(lane).unwrap();
        }
    };

    // wavecrew: the provisioning worked out once per run, then each lane's worktree prepared.
    reset();
    let started = Instant::now();
    let provision = runtime.block_on(Provision::plan(&root, &worktrees, &WorktreeSettings::default())).unwrap();
    let planned = started.elapsed();
    let mut counted = 0;
    for (i, lane) in lanes.iter().enumerate() {
        if !provision.files.is_empty() {
            counted += runtime.block_on(provision.seed(&root, lane)).unwrap().bytes_written;
        }
        provision.link_lane_target(&worktrees, &format!("lane-{i}"), lane).unwrap();
    }
    let prepared = started.elapsed();
    let ours = bytes_under(&worktrees);
    let how = provision.items.iter().find(|i| i.entry == "target/").map_or("-", |i| i.mechanism.describe());

    // A plain copy of target/ into each lane.
    reset();
    let started = Instant::now();
    for lane in &lanes {
        sh(dir.path(), &format!("cp -R project/target {}/", lane.display()));
    }
    let copied = started.elapsed();
    let theirs = bytes_under(&worktrees);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "lane preparation, Rust workspace with a {:.0} MiB target/ ({} files), {LANES} lanes:",
        mib(source_bytes),
        small_files + n as usize
    );
    println!("  target/ is {how}");
    println!("  {:<28} {:>10} {:>14}", "", "time", "bytes written");
    println!("  {:<28} {:>7.1} ms {:>10.1} MiB", "wavecrew (plan + 4 lanes)", ms(prepared), mib(ours));
    println!("  {:<28} {:>7.1} ms", "  of which plan (once)", ms(planned));
    println!("  {:<28} {:>7.1} ms {:>10.1} MiB", "cp -R target/ per lane", ms(copied), mib(theirs));
    println!("  wavecrew counted {:.1} MiB of copies", mib(counted));
    println!(
        "  bytes: wavecrew / cp -R = {:.4} ({:.2}%)",
        ours as f64 / theirs.max(1) as f64,
        100.0 * ours as f64 / theirs.max(1) as f64
    );
    println!("  time:  wavecrew / cp -R = {:.4}x", ms(prepared) / ms(copied));
}

//! Lane preparation on a project with a 30,000-file `node_modules`: seeding it into a new
//! worktree (reflink where the filesystem can, else copy; hard links when configured) beside
//! a plain recursive copy (`cp -R`) and running the install (`npm ci --offline` of a local
//! package with the same 30,000 files). Prints times and ratios; asserts nothing about speed.
//!
//! `cargo bench -p wavecrew-engine --bench provision`. Under `cargo test --benches` it runs a
//! 300-file version once, as a smoke test.

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

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
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
    let reset = || {
        let _ = std::fs::remove_dir_all(&target);
        std::fs::create_dir_all(&target).unwrap();
    };
    let seeded = |hardlink: bool| {
        let settings = WorktreeSettings { hardlink, ..WorktreeSettings::default() };
        let provision = runtime.block_on(Provision::plan(&root, &settings)).unwrap();
        assert!(provision.files.len() > files, "node_modules is seeded from the lockfile");
        let mut method = String::new();
        let time = best(runs, reset, || {
            let (_, used) = runtime.block_on(provision.seed(&root, &target)).unwrap();
            method = used.as_str().to_owned();
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

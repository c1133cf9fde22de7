//! What the sandbox adds to the start of an attempt's process: `process::run` of `sh -c true`
//! (spawn, wait, log) unconfined, beside the same confined by an attempt's rules (a worktree
//! with its git folders, a TMPDIR, an agent's state folders, caches, `/dev`), whose ruleset is
//! built for each start as an attempt builds it. Also the rules alone (choosing the paths,
//! opening them, the ruleset). Prints the best and the median of each and their ratio; asserts
//! that every run succeeded and that a confined one cannot write outside, nothing about speed.
//!
//! `cargo bench -p wavecrew-engine --bench sandbox`. Under `cargo test --benches` it runs a
//! few starts of each, as a smoke test.

use engine::process::{Spec, run};
use engine::sandbox::{Parts, Rules, Support};
use std::path::Path;
use std::time::{Duration, Instant};

fn stats(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

fn rules(root: &Path) -> Rules {
    let home = root.join("home");
    Rules::for_attempt(Parts {
        worktree: &root.join("wt"),
        tmp: &root.join("tmp"),
        agent: vec![home.join(".claude"), home.join(".claude.json")],
        lane: vec![root.join("target")],
        caches: engine::sandbox::caches(&home, |_| None),
        user: &[],
        connect: None,
    })
}

fn main() {
    if let Support::Unavailable(reason) = engine::sandbox::support() {
        println!("SKIPPED: this kernel cannot sandbox ({reason})");
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    let starts = if full { 300 } else { 5 };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for folder in ["wt", "tmp", "home/.claude", "home/.cache", "home/.npm", "target", "outside"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    std::fs::write(root.join("home/.claude.json"), "{}").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let start = |confined: bool, script: &str| {
        let mut spec = Spec::shell(script, &root.join("wt"), vec![], Duration::from_secs(30), root.join("log"));
        spec.sandbox = confined.then(|| rules(root));
        let started = Instant::now();
        let outcome = runtime.block_on(run(&spec, |_| {}, |_| {}, cancel.clone())).unwrap();
        (started.elapsed(), outcome)
    };

    // The rules are real: a confined write outside is refused.
    let (_, outcome) = start(true, "echo x > ../outside/x");
    assert!(!outcome.success() && !root.join("outside/x").exists(), "{outcome:?}");

    let mut plain = Vec::new();
    let mut confined = Vec::new();
    // Interleaved, so that both see the same machine.
    for _ in 0..starts {
        for (times, sandboxed) in [(&mut plain, false), (&mut confined, true)] {
            let (took, outcome) = start(sandboxed, "true");
            assert!(outcome.success(), "{outcome:?}");
            times.push(took);
        }
    }
    let building: Vec<Duration> = (0..starts)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(rules(root));
            started.elapsed()
        })
        .collect();

    let (plain_best, plain_median) = stats(plain);
    let (confined_best, confined_median) = stats(confined);
    let (rules_best, rules_median) = stats(building);
    println!("attempt process start (sh -c true), {starts} starts each, best / median:");
    println!("  unconfined  {plain_best:>10.2?} / {plain_median:>10.2?}");
    println!("  sandboxed   {confined_best:>10.2?} / {confined_median:>10.2?}");
    println!(
        "  rules alone {rules_best:>10.2?} / {rules_median:>10.2?} (choosing the paths; the ruleset is built in the start)"
    );
    println!(
        "  sandboxed / unconfined: {:.2}x best, {:.2}x median; added {:.2?} at the median",
        confined_best.as_secs_f64() / plain_best.as_secs_f64(),
        confined_median.as_secs_f64() / plain_median.as_secs_f64(),
        confined_median.saturating_sub(plain_median)
    );
}

//! The must_haves verification of a 20,000-file repository (18,000 Python modules in 90
//! packages and 2,000 TypeScript files, each importing two others) with 10 artifacts and 5
//! key_links: listing, reading and indexing the repository once, then every verdict, beside
//! `git grep` of the same names as the baseline (one pass with every name, and one `git grep`
//! per name, which is what judging each artifact on its own used to cost). Prints times, peak
//! memory (`/usr/bin/time`, when installed) and ratios; asserts the verdicts, nothing about speed.
//!
//! `cargo bench -p wavecrew-engine --bench wiring`. Under `cargo test --benches` it runs a
//! 2,000-file version once, as a smoke test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn sh(dir: &Path, script: &str) -> String {
    let output = Command::new("sh").current_dir(dir).arg("-c").arg(script).output().unwrap();
    assert!(output.status.success(), "{script}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn best(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// A repository of `files` files: Python packages `app/pNN/mNNN.py` and TypeScript files
/// `web/src/cNN/fNNN.ts`, each importing the next two of its folder.
fn generate(root: &Path, files: usize) {
    let python = files * 9 / 10;
    let per_package = python / 90;
    for i in 0..python {
        let (package, module) = (i / per_package, i % per_package);
        let dir = root.join(format!("app/p{package:02}"));
        if module == 0 {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("__init__.py"), "").unwrap();
        }
        let next = |k: usize| (module + k) % per_package;
        let text = format!(
            "\"\"\"Module {module} of package {package}.\"\"\"\nfrom app.p{package:02} import m{:03}\nfrom .m{:03} import VALUE as OTHER\n\nVALUE = {i}\n\n\ndef compute(x):\n    # see app/p{package:02}/m{:03}.py\n    return m{:03}.VALUE + OTHER + x\n",
            next(1),
            next(2),
            next(3),
            next(1)
        );
        std::fs::write(dir.join(format!("m{module:03}.py")), text).unwrap();
    }
    std::fs::write(root.join("app/__init__.py"), "").unwrap();
    let typescript = files - python - 4;
    let per_folder = typescript.div_ceil(20);
    for i in 0..typescript {
        let (folder, file) = (i / per_folder, i % per_folder);
        let dir = root.join(format!("web/src/c{folder:02}"));
        if file == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let next = |k: usize| (file + k) % per_folder;
        let text = format!(
            "import {{ value as a }} from './f{:03}';\nimport {{ value as b }} from '@/c{folder:02}/f{:03}';\n\nexport const value = {i};\nexport function total(): number {{\n  return a + b + value;\n}}\n",
            next(1),
            next(2)
        );
        std::fs::write(dir.join(format!("f{file:03}.ts")), text).unwrap();
    }
    std::fs::write(root.join("web/package.json"), r#"{"name": "web", "private": true}"#).unwrap();
    std::fs::write(
        root.join("web/tsconfig.json"),
        "{\n  // paths as create-vite writes them\n  \"compilerOptions\": { \"baseUrl\": \".\", \"paths\": { \"@/*\": [\"src/*\"] } },\n}\n",
    )
    .unwrap();
    std::fs::write(root.join("pyproject.toml"), "[project]\nname = \"app\"\n").unwrap();
    std::fs::write(root.join("README.md"), "# app\n\nSee app/p00/m000.py.\n").unwrap();
    sh(root, "git init -q && git add . && git -c user.name=b -c user.email=b@b commit -qm init");
}

/// The plan: 10 artifacts, 5 key_links, an Automated command.
fn plan_text() -> String {
    let artifacts: Vec<String> = (0..5)
        .map(|k| format!("- `app/p{:02}/m{:03}.py`", k * 7, k * 3))
        .chain((0..5).map(|k| format!("- `web/src/c{:02}/f{:03}.ts`", k * 3, k * 5)))
        .collect();
    let links: Vec<String> = (0..3)
        .map(|k| format!("- `app/p{:02}/m{:03}.py` uses `app/p{:02}/m{:03}.py`", k, k, k, k + 1))
        .chain((0..2).map(|k| format!("- `web/src/c{:02}/f{:03}.ts` uses `web/src/c{:02}/f{:03}.ts`", k, k, k, k + 2)))
        .collect();
    format!(
        "# M1 Implementation Plan: Bench\n\n## Context\n\nA benchmark.\n\n## must_haves\n\n### artifacts (files produced)\n{}\n\n### key_links (where breakage cascades)\n{}\n\n## Waves\n\n### Wave 1: Build\n> No dependencies.\n\n**Task 1.1** (type: auto)\n- **Files**: `app/p00/m000.py`\n- **Action**: Build it\n- **Verify**: `python3 -c \"import app.p00.m000\"`\n- **Done**: it is built\n\n## Verification\n\n### Automated\n```bash\npython3 -m app.p00.m001    # runs\n```\n",
        artifacts.join("\n"),
        links.join("\n")
    )
}

/// What a run's verification does before its Automated commands: list, read, judge.
fn verify(root: &Path, plan: &plan::Plan) -> Vec<engine::events::MustHaveVerdict> {
    let listing = sh(root, "git ls-files -z");
    let paths: Vec<String> = listing.split('\0').filter(|p| !p.is_empty()).map(str::to_owned).collect();
    let tracked = engine::verify::tracked_texts(root, &paths);
    engine::verify::must_haves(root, plan, &tracked, None)
}

/// The names `git grep` looks for: each artifact's and each link's file names.
fn names(plan: &plan::Plan) -> Vec<String> {
    let mut names: Vec<String> = plan.must_haves.artifacts.iter().filter_map(|a| a.path.clone()).collect();
    names.extend(plan.must_haves.key_links.iter().flat_map(|l| l.references.clone()));
    let mut names: Vec<String> = names
        .iter()
        .map(|n| n.rsplit('/').next().unwrap_or(n).rsplit_once('.').map_or(n.as_str(), |(s, _)| s).to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Peak resident memory, in KiB, of `program args` (None without `/usr/bin/time`).
fn peak_kib(dir: &Path, program: &Path, args: &[String]) -> Option<u64> {
    let output =
        Command::new("/usr/bin/time").current_dir(dir).arg("-f").arg("%M").arg(program).args(args).output().ok()?;
    String::from_utf8_lossy(&output.stderr).lines().last()?.trim().parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // The child the peak memory of one verification is measured on.
    if let Some(at) = args.iter().position(|a| a == "--verify-child") {
        let root = PathBuf::from(&args[at + 1]);
        let plan = plan::parse(&plan_text(), "M1").plan;
        let verdicts = verify(&root, &plan);
        println!("{}", verdicts.len());
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let files = if full { 20_000 } else { 2_000 };
    let runs = if full { 5 } else { 1 };
    let dir = tempfile::tempdir().unwrap();
    // `WAVECREW_BENCH_REPO=/tmp/repo` keeps the generated repository there (to profile
    // `--verify-child /tmp/repo` on its own).
    let root = std::env::var_os("WAVECREW_BENCH_REPO").map_or_else(|| dir.path().join("repo"), PathBuf::from);
    if !root.join(".git").exists() {
        std::fs::create_dir_all(&root).unwrap();
        generate(&root, files);
    }
    let plan = plan::parse(&plan_text(), "M1").plan;
    assert_eq!((plan.must_haves.artifacts.len(), plan.must_haves.key_links.len()), (10, 5));

    let verdicts = verify(&root, &plan);
    let wrong: Vec<_> = verdicts.iter().filter(|v| v.verdict != engine::events::MustHaveStatus::Verified).collect();
    assert!(wrong.is_empty(), "every must_have of the generated repository holds: {wrong:#?}");

    let names = names(&plan);
    let one_pass: Vec<String> = ["grep", "-lwF"]
        .into_iter()
        .map(str::to_owned)
        .chain(names.iter().flat_map(|n| ["-e".to_owned(), n.clone()]))
        .collect();
    let ours = best(runs, || {
        verify(&root, &plan);
    });
    let grep_once = best(runs, || {
        Command::new("git").current_dir(&root).args(&one_pass).output().unwrap();
    });
    let grep_each = best(runs, || {
        for name in &names {
            Command::new("git").current_dir(&root).args(["grep", "-qwF", "-e", name]).output().unwrap();
        }
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    // Where the time goes: listing, reading, indexing, judging.
    let listing = sh(&root, "git ls-files -z");
    let paths: Vec<String> = listing.split('\0').filter(|p| !p.is_empty()).map(str::to_owned).collect();
    let list = best(runs, || {
        sh(&root, "git ls-files -z");
    });
    let read = best(runs, || {
        engine::verify::tracked_texts(&root, &paths);
    });
    let tracked = engine::verify::tracked_texts(&root, &paths);
    let index = best(runs, || {
        evidence::wiring::Wiring::build(&tracked.paths, &tracked.texts, &engine::verify::plan_commands(&plan));
    });
    println!("must_haves verification of {files} files, 10 artifacts, 5 key_links (best of {runs}):");
    println!("  wavecrew (list, read once, index, verdicts)  {:8.1} ms", ms(ours));
    println!(
        "  git grep, one pass with {} names             {:8.1} ms   ratio {:.2}x",
        names.len(),
        ms(grep_once),
        ms(ours) / ms(grep_once)
    );
    println!(
        "  git grep, once per name ({} runs)             {:8.1} ms   ratio {:.2}x",
        names.len(),
        ms(grep_each),
        ms(ours) / ms(grep_each)
    );
    println!(
        "    of which: git ls-files {:.1} ms, reading {:.1} ms, the edge index {:.1} ms",
        ms(list),
        ms(read),
        ms(index)
    );
    let exe = std::env::current_exe().unwrap();
    let ours_kib = peak_kib(&root, &exe, &["--verify-child".to_owned(), root.display().to_string()]);
    let grep_kib = peak_kib(&root, Path::new("git"), &one_pass);
    if let (Some(ours), Some(grep)) = (ours_kib, grep_kib) {
        let bytes: u64 = std::fs::read_dir(&root)
            .map(|_| sh(&root, "git ls-files -z | xargs -0 cat | wc -c").trim().parse().unwrap_or(0))
            .unwrap_or(0);
        println!(
            "  peak memory: wavecrew {:.1} MiB, git grep {:.1} MiB (the repository's text is {:.1} MiB)",
            ours as f64 / 1024.0,
            grep as f64 / 1024.0,
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
}

//! `wavecrew demo`: a whole run, end to end, on a scratch copy of a small bundled project, with
//! the scripted agent (a test double: no model is called). Each demo's repository stays in
//! wavecrew's state folder to look around in; `wavecrew demo --clean` removes them.

use super::Context;
use crate::error::CliError;
use crate::progress::Progress;
use clap::Args;
use engine::agent::ScriptedAgent;
use engine::git::{Git, GitError};
use engine::run::{self, Options, Workspace};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::broadcast;

/// The bundled project: its files, the plan that builds it and the scripted agent's script.
const FILES: &[(&str, &str)] = &[
    ("README.md", include_str!("../../demo/README.md")),
    ("wordfreq/__init__.py", include_str!("../../demo/wordfreq/__init__.py")),
    ("tests/__init__.py", include_str!("../../demo/tests/__init__.py")),
    ("demo.plan.md", include_str!("../../demo/demo.plan.md")),
    (".wavecrew/demo.script.json", include_str!("../../demo/demo.script.json")),
];

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to make the scratch repository (default: a new folder under wavecrew's state
    /// folder, `$XDG_STATE_HOME/wavecrew/demos/`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Print the engine's events as JSON lines.
    #[arg(long)]
    pub json: bool,

    /// Remove the repositories earlier demos left in `$XDG_STATE_HOME/wavecrew/demos/` (and
    /// their runs' worktrees), instead of running a demo. Nothing else is touched.
    #[arg(long, conflicts_with_all = ["dir", "json"])]
    pub clean: bool,
}

/// `$XDG_STATE_HOME/wavecrew/demos`: where demos make their repositories by default.
fn demos_dir() -> Result<PathBuf, CliError> {
    crate::config::xdg_dir("XDG_STATE_HOME", ".local/state")
        .map(|state| state.join("demos"))
        .ok_or_else(|| CliError::usage("error: no HOME and no XDG_STATE_HOME: pass --dir"))
}

/// Whether `name` is one that `wavecrew demo` gives its repositories (`demo-<milliseconds>`).
fn is_demo_name(name: &str) -> bool {
    name.strip_prefix("demo-").is_some_and(|stamp| !stamp.is_empty() && stamp.bytes().all(|b| b.is_ascii_digit()))
}

fn git(dir: &Path, args: &[&str]) -> Result<(), CliError> {
    let identity = [
        ("GIT_AUTHOR_NAME", "wavecrew demo"),
        ("GIT_AUTHOR_EMAIL", "demo@wavecrew.invalid"),
        ("GIT_COMMITTER_NAME", "wavecrew demo"),
        ("GIT_COMMITTER_EMAIL", "demo@wavecrew.invalid"),
    ];
    match Git::new(dir).run_blocking_with_env(args, &identity) {
        Ok(_) => Ok(()),
        Err(error @ GitError::Spawn(_)) => Err(CliError::io(format!("error: {error}")).with_hint("install git")),
        Err(error) => Err(CliError::io(format!("error: {error}"))),
    }
}

pub fn run(_ctx: &Context, args: &DemoArgs) -> Result<ExitCode, CliError> {
    if args.clean {
        return clean(&demos_dir()?);
    }
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        return Err(CliError::usage("error: the demo project is in Python, and `python3` was not found")
            .with_hint("install Python 3, then run the demo again"));
    }
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => demos_dir()?.join(format!("demo-{}", engine::journal::now_ms())),
    };
    if dir.exists() && std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(CliError::usage(format!("error: `{}` exists and is not empty", dir.display()))
            .with_hint("pass another --dir"));
    }
    for (path, content) in FILES {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CliError::io(format!("error: {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, content).map_err(|e| CliError::io(format!("error: {}: {e}", path.display())))?;
    }
    git(&dir, &["init", "--quiet", "--initial-branch=main"])?;
    git(&dir, &["add", "--all"])?;
    git(&dir, &["commit", "--quiet", "-m", "M1: package skeleton"])?;
    eprintln!("demo repository: {}", dir.display());
    eprintln!("running demo.plan.md with the scripted agent (a test double: it plays .wavecrew/demo.script.json)\n");

    let plan_text = FILES.iter().find(|(p, _)| *p == "demo.plan.md").map(|(_, t)| *t).unwrap_or_default();
    let parsed = plan::parse(plan_text, "demo");
    let program = std::env::current_exe().map_err(|e| CliError::io(format!("error: where is wavecrew? {e}")))?;
    let script = dir.join(".wavecrew/demo.script.json");
    let agent = Arc::new(ScriptedAgent { program, script: script.clone() });
    let settings = engine::settings::RunSettings {
        version: engine::settings::VERSION,
        agent: engine::settings::AgentSpec::Scripted { script },
        backend: engine::settings::BackendSpec::Local,
        options: Options::default(),
    };
    let json = args.json;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io(format!("error: could not start the runtime: {e}")))?;
    let summary = runtime.block_on(async {
        let ws = Workspace::open(&dir).await.map_err(|e| CliError::io(format!("error: {e}")))?;
        ws.journal
            .consent(&engine::workspace::plan_hash(plan_text.as_bytes()))
            .map_err(|e| CliError::io(format!("error: {e}")))?;
        let (tx, rx) = broadcast::channel(4096);
        let progress = Progress::spawn(rx, json);
        let (_cancel_tx, cancel) = tokio::sync::watch::channel(false);
        let (bytes, options) = (plan_text.as_bytes(), Options::default());
        let result = run::start(&ws, "demo.plan.md", bytes, parsed.plan, agent, options, &settings, tx, cancel).await;
        progress.finish().await;
        let summary = result.map_err(|e| CliError::io(format!("error: {e}")))?;
        super::run::write_report(&ws, &summary.run);
        Ok::<_, CliError>(summary)
    })?;
    eprintln!("\nthe run branch `{}`, one commit per task:", summary.branch);
    let range = format!("main..{}", summary.branch);
    let log = Git::new(&dir).run_blocking(&["log", "--oneline", "--reverse", &range]).unwrap_or_default();
    if !log.is_empty() {
        eprintln!("{log}");
    }
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let wavecrew = Invocation::find();
    let program = &wavecrew.program;
    let mut next = format!("\nthe demo's repository stays in {}", dir.display());
    if args.dir.is_none() {
        next.push_str(&format!("; `{program} demo --clean` removes it and the other demos"));
    }
    next.push_str(&format!(
        "\nlook around:\n  cd {}\n  git log -p {}\n  {program} status\n  {program} logs {} 2.1\n",
        shell_words::quote(&dir.to_string_lossy()),
        summary.branch,
        summary.run,
    ));
    if let Some(install) = wavecrew.install {
        next.push_str(&format!("{install}\n"));
    }
    eprint!("{next}");
    Ok(if summary.state == engine::events::RunState::Succeeded { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// How the hints this demo prints call wavecrew so that they work as printed: `wavecrew` when
/// that is this program on PATH, else this program's full path (`cargo run` leaves it in
/// `target/`), with how to put it on PATH.
struct Invocation {
    program: String,
    install: Option<String>,
}

impl Invocation {
    fn find() -> Invocation {
        let exe = std::env::current_exe().ok();
        let on_path = std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join("wavecrew")).find(|p| p.is_file()));
        let same = |a: &Path, b: &Path| a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        match (exe, on_path) {
            (Some(exe), Some(on_path)) if same(&exe, &on_path) => Invocation::of("wavecrew", None),
            (Some(exe), on_path) => Invocation::of(
                &shell_words::quote(&exe.to_string_lossy()),
                on_path.is_none().then(|| source.join("Cargo.toml").is_file().then_some(source)).flatten(),
            ),
            (None, _) => Invocation::of("wavecrew", None),
        }
    }

    /// `program`, and if `source` (this crate's folder) is given, how to install from it.
    fn of(program: &str, source: Option<&Path>) -> Invocation {
        Invocation {
            program: program.to_owned(),
            install: source.map(|source| {
                format!(
                    "(wavecrew is not on PATH; to put it there: cargo install --locked --path {})",
                    shell_words::quote(&source.to_string_lossy())
                )
            }),
        }
    }
}

/// Removes the demos' repositories in `demos` (folders named `demo-<digits>`, nothing else) and
/// the worktrees of their runs, and says what it removed; a demo whose run is still going stays.
fn clean(demos: &Path) -> Result<ExitCode, CliError> {
    let entries = match std::fs::read_dir(demos) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("no demos to remove: {} does not exist", demos.display());
            return Ok(ExitCode::SUCCESS);
        }
        Err(error) => return Err(CliError::io(format!("error: {}: {error}", demos.display()))),
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && is_demo_name(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    found.sort();
    if found.is_empty() {
        eprintln!("no demos to remove in {}", demos.display());
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io(format!("error: could not start the runtime: {e}")))?;
    // Worktrees are only ever removed from here, and only those named after a demo.
    let worktrees = demos.with_file_name("worktrees");
    let (mut removed, mut failed) = (0, 0);
    for demo in found {
        let workspace = runtime.block_on(Workspace::open(&demo)).ok();
        if let Some(run) = workspace.as_ref().and_then(|ws| ws.active_run().ok().flatten()) {
            eprintln!("kept {}: its run {} is still going", demo.display(), run.id);
            continue;
        }
        let own_worktrees = workspace.map(|ws| ws.worktree_root).filter(|root| {
            root.parent() == Some(worktrees.as_path())
                && root.file_name().is_some_and(|n| n.to_string_lossy().starts_with("demo-"))
                && root.exists()
        });
        let mut result = std::fs::remove_dir_all(&demo);
        if let Some(root) = &own_worktrees {
            result = result.and_then(|()| std::fs::remove_dir_all(root));
        }
        match result {
            Ok(()) => {
                removed += 1;
                let also = own_worktrees.map(|root| format!(" and {}", root.display())).unwrap_or_default();
                eprintln!("removed {}{also}", demo.display());
            }
            Err(error) => {
                failed += 1;
                eprintln!("could not remove {}: {error}", demo.display());
            }
        }
    }
    eprintln!("{removed} demo(s) removed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

//! `wavecrew demo`: a whole run, end to end, on a scratch copy of a small bundled project, with
//! the scripted agent (a test double: no model is called).

use super::Context;
use crate::error::CliError;
use crate::progress::Progress;
use clap::Args;
use engine::agent::ScriptedAgent;
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
}

fn git(dir: &Path, args: &[&str]) -> Result<(), CliError> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "wavecrew demo")
        .env("GIT_AUTHOR_EMAIL", "demo@wavecrew.invalid")
        .env("GIT_COMMITTER_NAME", "wavecrew demo")
        .env("GIT_COMMITTER_EMAIL", "demo@wavecrew.invalid")
        .output()
        .map_err(|e| CliError::io(format!("error: could not run git: {e}")).with_hint("install git"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(CliError::io(format!(
            "error: `git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

pub fn run(_ctx: &Context, args: &DemoArgs) -> Result<ExitCode, CliError> {
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        return Err(CliError::usage("error: the demo project is in Python, and `python3` was not found")
            .with_hint("install Python 3, then run `wavecrew demo` again"));
    }
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            let home = crate::config::xdg_dir("XDG_STATE_HOME", ".local/state")
                .ok_or_else(|| CliError::usage("error: no HOME: pass --dir"))?;
            let stamp = engine::journal::now_ms();
            home.join("demos").join(format!("demo-{stamp}"))
        }
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
        ws.journal.consent(&run::plan_hash(plan_text.as_bytes())).map_err(|e| CliError::io(format!("error: {e}")))?;
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
    let log = std::process::Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["log", "--oneline", "--reverse", &format!("main..{}", summary.branch)])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    eprint!("{log}");
    eprintln!(
        "\nlook around (in {}): git log -p {}; wavecrew status; wavecrew logs {} 2.1",
        dir.display(),
        summary.branch,
        summary.run
    );
    Ok(if summary.state == engine::events::RunState::Succeeded { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

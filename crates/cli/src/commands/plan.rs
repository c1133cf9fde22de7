//! `wavecrew plan "GOAL"`: the planning agent drafts a plan in a read-only worktree of HEAD
//! ([`engine::planner`]); `check` judges each draft (with the repository-aware checks) and its
//! diagnostics go back to the agent as the next round's prompt, until the draft is clean or the
//! rounds run out. The agent's word that it is done counts for nothing.

use super::Context;
use super::check::{Repo, check_file};
use super::run::AgentChoice;
use crate::config::Config;
use crate::error::{CliError, exit};
use crate::input::PlanFile;
use crate::render::{self, FileReport};
use annotate_snippets::Renderer;
use clap::Args;
use engine::agent::Activity;
use plan::{Code, Severity};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The format's rules, the template and a filled plan: what every prompt carries.
const RULES: &str = include_str!("../../../../docs/plan-format.md");
const TEMPLATE: &str = include_str!("../../../../examples/template.plan.md");
const EXAMPLE: &str = include_str!("../../../../examples/wordfreq.plan.md");

/// Bytes of the repository map in a prompt at most; a larger repository is summarized by
/// folder.
const MAP_BUDGET: usize = 16 * 1024;
/// Bytes of one `--from` file in a prompt at most.
const FROM_BUDGET: usize = 64 * 1024;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// What the plan is for, in a sentence or a paragraph.
    pub goal: String,

    /// Write the plan to FILE (default: a name made from the goal, `<words>.plan.md`).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The milestone id (the commit scope), e.g. `M4`; default: the agent picks one.
    #[arg(long, short)]
    pub milestone: Option<String>,

    /// Files the agent reads first: a PRD, an issue, notes (repeatable).
    #[arg(long = "from", value_name = "FILE")]
    pub from: Vec<PathBuf>,

    /// The planning agent: `--agent` (default: the configuration's `agent`), `--agent-command`,
    /// `--script` as for `run`.
    #[command(flatten)]
    pub choice: AgentChoice,

    /// The model the planning agent runs on (default: `[plan] model`, else the CLI's).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,

    /// Rounds of drafting and fixing at most (default: `[plan] rounds`, else 3).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10))]
    pub rounds: Option<u32>,

    /// Time one round may take, in seconds (default 1200).
    #[arg(long, value_name = "SECS", default_value_t = 1200)]
    pub timeout: u64,

    /// Run the plan once it is written (asks first on a terminal).
    #[arg(long)]
    pub run: bool,

    /// With `--run`: start it without asking.
    #[arg(long, requires = "run")]
    pub yes: bool,

    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Context, args: &PlanArgs) -> Result<ExitCode, CliError> {
    let cwd = std::env::current_dir()?;
    let (root, config) = super::run::load_config(&cwd)?;
    let output = match &args.output {
        Some(path) => path.clone(),
        None => PathBuf::from(format!("{}.plan.md", slug(&args.goal))),
    };
    // Refused before any token is spent.
    if output.exists() && !args.force {
        return Err(CliError::io(format!("error: `{}` already exists", output.display()))
            .with_hint("pick another name with -o FILE, or pass --force to overwrite it"));
    }
    if args.run && !args.yes && !std::io::stdin().is_terminal() {
        return Err(CliError::usage("error: --run asks before it starts the plan, and there is no terminal to ask")
            .with_hint("pass --yes to start it without asking"));
    }
    let allow = allowed_warnings(&config)?;
    let rounds = args.rounds.or(config.plan.rounds).unwrap_or(3).clamp(1, 10);
    let mut background = Vec::new();
    for path in &args.from {
        let text = std::fs::read(path)
            .map_err(|error| CliError::io(format!("error: --from `{}`: {error}", path.display())))?;
        background.push((path.display().to_string(), cut(&String::from_utf8_lossy(&text), FROM_BUDGET)));
    }
    let choice = &args.choice;
    let spec = choice.spec(&config, None)?;
    let agent = super::run::build_agent(&spec)?;
    let model = args.model.clone().or_else(|| config.plan.model.clone());
    let state_dir = engine::control::state_dir(&root).map_err(|e| CliError::io(format!("error: {e}")))?;
    let id = session_id();
    let session_dir = state_dir.join("plans").join(&id);
    let mode = config.sandbox.mode.unwrap_or_default();
    let sandbox = engine::sandbox::Settings {
        mode,
        writable: super::run::sandbox_writable(mode, &config, &root)?,
        connect: super::run::sandbox_connect(&config)?,
    };
    let (prices, cache_prices) = config.price_tables();
    let settings = engine::planner::Settings {
        agent: agent.clone(),
        model: model.clone(),
        sandbox,
        timeout: std::time::Duration::from_secs(args.timeout),
        prices,
        cache_prices,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let worktrees = runtime
        .block_on(engine::workspace::Workspace::worktree_root_of(&root))
        .map_err(|e| CliError::io(format!("error: {e}")))?;
    let worktree = worktrees.join(format!("plan-{id}"));
    let session = runtime
        .block_on(engine::planner::Session::open(&root, session_dir.clone(), worktree, settings))
        .map_err(|e| CliError::io(format!("error: could not prepare the planning worktree: {e}")))?;
    let draft_path = session.draft_path();
    // Ctrl-C or SIGTERM (an MCP client's cancellation) stops the agent, whose process group is
    // its own (the terminal's Ctrl-C does not reach it), and the worktree still goes.
    let (cancel_tx, cancel) = tokio::sync::watch::channel(false);
    runtime.spawn(async move {
        super::run::interrupted().await;
        let _ = cancel_tx.send(true);
    });
    let map = repo_map(&root);
    let asked = Ask {
        goal: &args.goal,
        milestone: args.milestone.as_deref(),
        draft: &draft_path,
        background: &background,
        map: &map,
    };
    let first = asked.prompt(None);
    eprintln!(
        "planning with {}{} in a read-only worktree of HEAD; prompt {} KiB (~{}k tokens), at most {rounds} round(s)",
        agent.name(),
        model.as_deref().map(|m| format!(" ({m})")).unwrap_or_default(),
        first.len() / 1024,
        first.len() / 4 / 1000,
    );

    let renderer = if ctx.color { Renderer::styled() } else { Renderer::plain() };
    let (mut tokens_in, mut tokens_out, mut cost) = (0u64, 0u64, None::<f64>);
    let mut last: Option<(String, FileReport)> = None;
    let mut feedback: Option<String> = None;
    let result = (|| {
        for round in 1..=rounds {
            let prompt = asked.prompt(feedback.as_deref());
            let started = std::time::Instant::now();
            let on_activity = |activity: &Activity| {
                if let Activity::Tool(tool) = activity {
                    eprintln!("  plan  agent: {}", crate::progress::one_line(tool, 100));
                }
            };
            let done = runtime.block_on(session.round(round, &prompt, on_activity, cancel.clone()));
            let done = done.map_err(|e| CliError::io(format!("error: {e}")))?;
            if done.outcome.cancelled {
                return Err(CliError::io(format!(
                    "error: interrupted in round {round}: the planning agent was stopped and nothing was written; its prompts and logs are in {}",
                    session_dir.display()
                )));
            }
            tokens_in += done.tokens_in;
            tokens_out += done.tokens_out;
            if let Some(c) = done.cost_usd {
                *cost.get_or_insert(0.0) += c;
            }
            let tokens = done.tokens_in + done.tokens_out;
            let tokens = if tokens > 0 { format!(", {tokens} tokens") } else { String::new() };
            let spent = format!("{:.0}s{tokens}", started.elapsed().as_secs_f64());
            if !done.outcome.success() {
                let hint = engine::sandbox::denial_hint(&done.denials, &done.outcome.tail)
                    .map(|h| format!("\n{h}"))
                    .unwrap_or_default();
                return Err(CliError::io(format!(
                    "error: the planning agent {} in round {round} ({spent}); its log: {}{hint}\n{}",
                    done.outcome.ended(),
                    done.log.display(),
                    done.outcome.tail.trim_end()
                )));
            }
            let Some(draft) = done.draft else {
                eprintln!("round {round}: no draft at {} ({spent})", draft_path.display());
                feedback = Some(format!(
                    "You wrote no plan. Write the whole plan to `{}` (create the file).",
                    draft_path.display()
                ));
                continue;
            };
            // Checked as the file the agent wrote, so that the diagnostics it gets name it.
            let file = PlanFile { path: draft_path.clone(), bytes: draft.clone().into_bytes() };
            let report = check_file(&file, false, Repo::At(&root));
            let left = to_fix(&report, &allow);
            let found = if report.diagnostics.is_empty() {
                "the draft is clean".to_owned()
            } else {
                let counts = [(Severity::Error, "error"), (Severity::Warning, "warning"), (Severity::Info, "info")]
                    .into_iter()
                    .map(|(severity, name)| (report.count(severity), name))
                    .filter(|(n, _)| *n > 0)
                    .map(|(n, name)| format!("{n} {name}{}", if n == 1 || name == "info" { "" } else { "s" }));
                format!("check found {}", counts.collect::<Vec<_>>().join(", "))
            };
            eprintln!("round {round}: {found} ({spent})");
            if left.is_empty() {
                last = Some((draft, report));
                break;
            }
            feedback = Some(diagnostics_text(&report, &left));
            last = Some((draft, report));
        }
        Ok(())
    })();
    runtime.block_on(session.close());
    result?;

    let money = cost.map(|c| format!(", ${c:.4}")).unwrap_or_default();
    let spent = format!("{tokens_in} tokens in, {tokens_out} out{money}");
    let Some((draft, report)) = last else {
        return Err(CliError::findings(format!(
            "error: the planning agent wrote no plan in {rounds} round(s) ({spent}); its prompts and logs are in {}",
            session_dir.display()
        )));
    };
    if report.count(Severity::Error) > 0 || !to_fix(&report, &allow).is_empty() {
        let draft_file = PathBuf::from(format!("{}.draft", output.display()));
        super::write_new_file(&draft_file, true, &draft)?;
        // Said again as the file it is now in.
        let file = PlanFile { path: draft_file.clone(), bytes: draft.clone().into_bytes() };
        let report = check_file(&file, false, Repo::At(&root));
        let left = to_fix(&report, &allow);
        let mut out = String::new();
        for diagnostic in &report.diagnostics {
            if left.iter().any(|kept| std::ptr::eq(*kept, diagnostic)) {
                let _ = writeln!(out, "{}\n", render::human(&report, diagnostic, &renderer));
            }
        }
        eprint!("{out}");
        return Err(CliError::findings(format!(
            "error: the draft still has problems after {rounds} round(s) ({spent}); it is in `{}`",
            draft_file.display()
        ))
        .with_hint(format!(
            "fix them by hand (`wavecrew check {0}` shows them), or run `wavecrew plan` again with more --rounds",
            shell_words::quote(&draft_file.display().to_string())
        )));
    }
    super::write_new_file(&output, args.force, &draft)?;
    let parsed = plan::parse(&draft, &PlanFile { path: output.clone(), bytes: Vec::new() }.fallback_id());
    let mut out = std::io::stdout().lock();
    use std::io::Write as _;
    write!(out, "{}", super::show::summary(&parsed.plan))?;
    let warnings: Vec<_> = report.diagnostics.iter().filter(|d| report.severity(d) == Severity::Warning).collect();
    if !warnings.is_empty() {
        writeln!(out, "\nWarnings left (allowed by `[plan] allow`):")?;
        for warning in warnings {
            writeln!(out, "  {}: {}", warning.code.as_str(), warning.message)?;
        }
    }
    eprintln!("wrote {} ({spent})", output.display());
    if args.run {
        return run_it(&output, args, choice);
    }
    eprintln!("next: `wavecrew run {}`", shell_words::quote(&output.display().to_string()));
    Ok(ExitCode::from(exit::OK))
}

/// `--run`: asks on a terminal, refuses without one unless `--yes`, then runs the plan with
/// the planning agent's flags.
fn run_it(output: &Path, args: &PlanArgs, choice: &AgentChoice) -> Result<ExitCode, CliError> {
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::usage(
                "error: --run asks before it starts the plan, and there is no terminal to ask",
            )
            .with_hint("pass --yes to start it without asking"));
        }
        eprint!("Run {} now? [y/N] ", output.display());
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("not started; run it with `wavecrew run {}`", shell_words::quote(&output.display().to_string()));
            return Ok(ExitCode::from(exit::OK));
        }
    }
    let program = std::env::current_exe()?;
    let mut command = std::process::Command::new(program);
    command.arg("run").arg(output).arg("--yes");
    for (flag, value) in [("--agent", &choice.agent), ("--agent-command", &choice.agent_command)] {
        if let Some(value) = value {
            command.args([flag, value]);
        }
    }
    if let Some(script) = &choice.script {
        command.arg("--script").arg(script);
    }
    let status = command.status()?;
    Ok(ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(exit::FINDINGS)))
}

/// `[plan] allow`, each a warning's code.
fn allowed_warnings(config: &Config) -> Result<Vec<Code>, CliError> {
    config
        .plan
        .allow
        .iter()
        .map(|name| match Code::from_name(name) {
            Some(code) if code.severity() == Severity::Warning => Ok(code),
            Some(_) => Err(CliError::usage(format!("error: `[plan] allow` entry `{name}` is not a warning"))
                .with_hint("only warnings can be allowed; errors always go back to the agent")),
            None => Err(CliError::usage(format!("error: `[plan] allow` entry `{name}` is no diagnostic code"))
                .with_hint("the codes are listed in docs/plan-format.md")),
        })
        .collect()
}

/// What the agent must still fix: errors, and warnings not allowed (infos never).
fn to_fix<'r>(report: &'r FileReport, allow: &[Code]) -> Vec<&'r plan::Diagnostic> {
    report
        .diagnostics
        .iter()
        .filter(|d| match report.severity(d) {
            Severity::Error => true,
            Severity::Warning => !allow.contains(&d.code),
            Severity::Info => false,
        })
        .collect()
}

/// The diagnostics `left`, rendered as `check` prints them (without colours), for the agent.
fn diagnostics_text(report: &FileReport, left: &[&plan::Diagnostic]) -> String {
    let renderer = Renderer::plain();
    let mut text = String::new();
    for diagnostic in left {
        let _ = writeln!(text, "{}\n", render::human(report, diagnostic, &renderer));
    }
    let _ = writeln!(text, "{}", render::summary(report, "no problems found"));
    text
}

/// What a round asks of the agent.
struct Ask<'a> {
    goal: &'a str,
    milestone: Option<&'a str>,
    draft: &'a Path,
    background: &'a [(String, String)],
    map: &'a str,
}

impl Ask<'_> {
    /// The prompt: the task, what `check` found in the last draft (if any), the person's
    /// background files, the repository's map, the format's rules, the template and an example.
    fn prompt(&self, feedback: Option<&str>) -> String {
        let draft = self.draft.display();
        let mut p = String::new();
        let _ = writeln!(
            p,
            "You are the planning agent of wavecrew. Write an implementation plan for the goal below, in the \
             Markdown format wavecrew runs (its rules, template and an example follow), grounded in this repository: \
             read the files you need; every path in Files and every command in Verify and Verification must exist or \
             run here (or be made by an earlier task).\n\n\
             Write the whole plan to this file, and nothing else (the repository is read-only to you):\n\n    {draft}\n"
        );
        if let Some(milestone) = self.milestone {
            let _ = writeln!(p, "The milestone id is `{milestone}` (the commit scope: `feat({milestone}-…)`).\n");
        }
        let _ = writeln!(p, "# Goal\n\n{}\n", self.goal.trim());
        if let Some(feedback) = feedback {
            let _ = writeln!(
                p,
                "# What `wavecrew check` found in your draft\n\n\
                 Your draft at `{draft}` has the problems below. Fix every one, editing that file in place; keep what \
                 is right.\n\n```text\n{}```\n",
                feedback.trim_end().to_owned() + "\n"
            );
        }
        for (path, text) in self.background {
            let _ = writeln!(p, "# Background: {path}\n\n{text}\n");
        }
        let _ = writeln!(p, "# The repository\n\n{}\n", self.map.trim_end());
        let _ = writeln!(p, "# The plan format (docs/plan-format.md)\n\n{}\n", RULES.trim_end());
        let _ = writeln!(p, "# The template\n\n````markdown\n{}\n````\n", TEMPLATE.trim_end());
        let _ =
            writeln!(p, "# A filled plan, for a small Python package\n\n````markdown\n{}\n````", EXAMPLE.trim_end());
        p
    }
}

/// A map of the repository at `root` for the prompt: its files (by folder when there are many),
/// its manifests and the commands they offer, within [`MAP_BUDGET`].
fn repo_map(root: &Path) -> String {
    let empty = plan::Plan::default();
    let listed =
        engine::git::Git::new(root).run_blocking(&["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
    let files: Vec<String> =
        listed.unwrap_or_default().split('\0').filter(|f| !f.is_empty()).map(str::to_owned).collect();
    let facts = super::repo_facts::gather(root, &empty);
    map_text(&files, facts.as_ref(), MAP_BUDGET)
}

/// [`repo_map`] from what was gathered (pure, for tests).
fn map_text(files: &[String], facts: Option<&plan::RepoFacts>, budget: usize) -> String {
    let mut out = String::new();
    let mut commands: Vec<String> = Vec::new();
    let has = |name: &str| files.iter().any(|f| f == name);
    if let Some(facts) = facts {
        let runner = if has("pnpm-lock.yaml") {
            "pnpm"
        } else if has("yarn.lock") {
            "yarn"
        } else if has("bun.lockb") || has("bun.lock") {
            "bun"
        } else {
            "npm"
        };
        let mut folders: Vec<_> = facts.package_scripts.iter().collect();
        folders.sort();
        for (folder, scripts) in folders {
            let at = if folder.is_empty() { String::new() } else { format!("cd {folder} && ") };
            let names: Vec<&str> = scripts.iter().flatten().map(String::as_str).collect();
            let _ = writeln!(out, "- `{}package.json` scripts: {}", folder_prefix(folder), names.join(", "));
            for name in names.iter().filter(|n| ["test", "check", "lint", "typecheck", "build"].contains(n)) {
                commands.push(format!("{at}{runner} run {name}"));
            }
        }
        let mut makes: Vec<_> = facts.make_targets.iter().collect();
        makes.sort();
        for (folder, targets) in makes {
            let names: Vec<&str> = targets.iter().flatten().map(String::as_str).collect();
            let _ = writeln!(out, "- `{}Makefile` targets: {}", folder_prefix(folder), names.join(", "));
            for name in names.iter().filter(|n| ["test", "check", "lint"].contains(n)) {
                let at = if folder.is_empty() { String::new() } else { format!("-C {folder} ") };
                commands.push(format!("make {at}{name}"));
            }
        }
        if !facts.crates.is_empty() {
            let names: Vec<&str> = facts.crates.iter().map(String::as_str).collect();
            let _ = writeln!(out, "- Cargo packages: {}", names.join(", "));
            commands.push("cargo test".into());
        }
    }
    if has("pyproject.toml") || has("pytest.ini") || has("setup.py") || files.iter().any(|f| f.ends_with("conftest.py"))
    {
        let _ = writeln!(out, "- Python project (pyproject.toml / pytest)");
        commands.push("python3 -m pytest".into());
    }
    if has("go.mod") {
        let _ = writeln!(out, "- Go module (go.mod)");
        commands.push("go test ./...".into());
    }
    let mut text = String::new();
    if !out.is_empty() {
        let _ = writeln!(text, "Manifests:\n{out}");
    }
    if !commands.is_empty() {
        let _ = writeln!(
            text,
            "Commands found: {}\n",
            commands.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        );
    }
    let _ = writeln!(text, "Files ({} tracked or new, ignored ones left out):", files.len());
    let listing: String = files.iter().map(|f| format!("{f}\n")).collect();
    if text.len() + listing.len() <= budget {
        text.push_str(&listing);
        return text;
    }
    // Too many to list: folders with their file counts, as deep as the budget allows.
    for depth in (1..=3).rev() {
        let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        for file in files {
            let parts: Vec<&str> = file.split('/').collect();
            let key = if parts.len() > depth { format!("{}/", parts[..depth].join("/")) } else { file.clone() };
            *counts.entry(key).or_default() += 1;
        }
        let listing: String = counts
            .iter()
            .map(|(key, n)| if key.ends_with('/') { format!("{key} ({n} files)\n") } else { format!("{key}\n") })
            .collect();
        if text.len() + listing.len() <= budget || depth == 1 {
            text.push_str(&cut(&listing, budget.saturating_sub(text.len())));
            let _ = writeln!(text, "(summarized by folder: list a folder's files with your tools)");
            return text;
        }
    }
    text
}

fn folder_prefix(folder: &str) -> String {
    if folder.is_empty() { String::new() } else { format!("{folder}/") }
}

/// `text` cut at `budget` bytes (on a character boundary), saying so.
fn cut(text: &str, budget: usize) -> String {
    if text.len() <= budget {
        return text.to_owned();
    }
    let mut end = budget;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[… cut: {} more bytes]\n", &text[..end], text.len() - end)
}

/// A file name from the goal's first words: `add-rooms-to-chat.plan.md`.
fn slug(goal: &str) -> String {
    let words: Vec<String> =
        goal.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(5).map(str::to_lowercase).collect();
    if words.is_empty() { "plan".to_owned() } else { words.join("-") }
}

/// A planning session's folder name: the time and the process, unique enough on one machine.
fn session_id() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}-{}", now.as_secs(), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn a_small_repository_is_listed_whole_with_its_commands() {
        let mut facts = plan::RepoFacts::new(files(&["package.json", "pnpm-lock.yaml", "src/app.ts"]));
        facts.package_scripts.insert(String::new(), Some(["dev", "test", "check"].map(str::to_owned).into()));
        let map = map_text(&files(&["package.json", "pnpm-lock.yaml", "src/app.ts"]), Some(&facts), MAP_BUDGET);
        assert!(map.contains("- `package.json` scripts: check, dev, test"), "{map}");
        assert!(
            map.contains("`pnpm run check`") && map.contains("`pnpm run test`") && !map.contains("run dev`"),
            "{map}"
        );
        assert!(map.contains("Files (3 tracked or new") && map.contains("src/app.ts\n"), "{map}");
    }

    #[test]
    fn a_large_repository_is_summarized_by_folder_within_the_budget() {
        let names: Vec<String> = (0..5000).map(|i| format!("src/module{}/file{i}.rs", i % 40)).collect();
        let map = map_text(&names, None, 4096);
        assert!(map.len() <= 4096 + 200, "{} bytes", map.len());
        assert!(map.contains("src/module1/ (125 files)"), "{map}");
        assert!(map.contains("summarized by folder"), "{map}");
    }

    #[test]
    fn the_prompt_names_the_draft_and_carries_the_feedback_and_the_format() {
        let draft = PathBuf::from("/wt/.wavecrew-plan/plan.md");
        let background = vec![("prd.md".to_owned(), "Rooms have owners.".to_owned())];
        let ask = Ask {
            goal: "Add rooms",
            milestone: Some("M4"),
            draft: &draft,
            background: &background,
            map: "Files (1):\na\n",
        };
        let first = ask.prompt(None);
        assert!(
            first.contains("    /wt/.wavecrew-plan/plan.md")
                && first.contains("`M4`")
                && first.contains("# Goal\n\nAdd rooms")
        );
        assert!(first.contains("# Background: prd.md\n\nRooms have owners."));
        assert!(first.contains(RULES.lines().next().unwrap()) && first.contains("# The template"));
        assert!(!first.contains("What `wavecrew check` found"));
        let next = ask.prompt(Some("error[missing-verify]: task 1.1 has no Verify\n"));
        assert!(next.contains("What `wavecrew check` found") && next.contains("error[missing-verify]"), "{next}");
    }

    #[test]
    fn slugs_are_the_goal_s_first_words() {
        assert_eq!(slug("Add rooms to the chat app, with owners"), "add-rooms-to-the-chat");
        assert_eq!(slug("!!!"), "plan");
    }
}

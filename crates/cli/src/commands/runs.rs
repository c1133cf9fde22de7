//! `wavecrew runs`, `status`, `logs`, `cancel`: what the journal knows about runs.

use super::Context;
use crate::error::CliError;
use clap::Args;
use engine::control::{Answer, ControlError};
use engine::events::TaskState;
use engine::journal::{Journal, RunRecord};
use engine::rejection::{CommentSyntaxError, LineComment, RejectionError, Side};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The run (default: the newest).
    #[arg(value_name = "RUN")]
    pub run: Option<String>,
    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The run.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The task, e.g. `2.1`.
    #[arg(value_name = "TASK")]
    pub task: String,
    /// Keep printing what is added until the task ends.
    #[arg(short, long)]
    pub follow: bool,
    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run (default: the newest).
    #[arg(value_name = "RUN")]
    pub run: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the run's timeline instead: a Gantt chart of its lanes as wide as the terminal
    /// (critical-path tasks marked), then the makespan, the critical-path bound, the speedup,
    /// each lane's use and the time spent waiting.
    #[arg(long, conflicts_with = "json")]
    pub timeline: bool,
    /// Write the run's timeline to FILE as Chrome trace JSON (`-`: standard output), which
    /// Perfetto (ui.perfetto.dev) and chrome://tracing open.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Overwrite the --trace file if it exists.
    #[arg(long, requires = "trace")]
    pub force: bool,
    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The run.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The checkpoint task, e.g. `3.2`.
    #[arg(value_name = "TASK")]
    pub task: String,
    /// A note kept with the approval.
    #[arg(long)]
    pub note: Option<String>,
    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The run.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The human-verify checkpoint task.
    #[arg(value_name = "TASK")]
    pub task: String,
    /// What is wrong: the task's agent gets it with its next attempt (needed unless a comment
    /// says it).
    #[arg(long, required_unless_present_any = ["comments", "old_comments"])]
    pub reason: Option<String>,
    /// A comment on a line of the change, `PATH:LINE:TEXT` with LINE as the diff numbers it in
    /// the new file; repeatable. The agent gets each one under the reason, as the room's
    /// "Reject with comments" sends them.
    #[arg(long = "comment", value_name = "PATH:LINE:TEXT", value_parser = new_line_comment)]
    pub comments: Vec<LineComment>,
    /// A comment on a deleted line, `PATH:LINE:TEXT` with LINE its number in the file before
    /// the change; repeatable.
    #[arg(long = "comment-old", value_name = "PATH:LINE:TEXT", value_parser = old_line_comment)]
    pub old_comments: Vec<LineComment>,
    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

/// `--comment PATH:LINE:TEXT`: a line of the new file.
fn new_line_comment(arg: &str) -> Result<LineComment, CommentSyntaxError> {
    LineComment::parse(arg, Side::New)
}

/// `--comment-old PATH:LINE:TEXT`: a deleted line, by its number before the change.
fn old_line_comment(arg: &str) -> Result<LineComment, CommentSyntaxError> {
    LineComment::parse(arg, Side::Old)
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The run.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The decision checkpoint task.
    #[arg(value_name = "TASK")]
    pub task: String,
    /// The option chosen (one of those the checkpoint shows, or a prefix of one).
    #[arg(value_name = "OPTION")]
    pub option: String,
    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The run.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

/// The repository's state folder and journal, without starting a runtime.
pub(super) fn open(repo: &Path) -> Result<(PathBuf, Journal), CliError> {
    let state = engine::control::state_dir(repo).map_err(|e| CliError::usage(format!("error: {e}")))?;
    let journal = Journal::open(&state.join("journal.sqlite")).map_err(|e| CliError::io(format!("error: {e}")))?;
    Ok((state, journal))
}

/// A refused action as the CLI reports it: the reason, and what to do when there is something.
fn control_error(error: ControlError) -> CliError {
    let cli = if error.is_user_error() {
        CliError::usage(format!("error: {error}"))
    } else {
        CliError::io(format!("error: {error}"))
    };
    match error.hint() {
        Some(hint) => cli.with_hint(hint),
        None => cli,
    }
}

pub(super) fn find_run(journal: &Journal, wanted: Option<&str>) -> Result<RunRecord, CliError> {
    engine::control::find_run(journal, wanted).map_err(control_error)
}

pub fn runs(_ctx: &Context, args: &RunsArgs) -> Result<ExitCode, CliError> {
    let (_, journal) = open(&args.repo)?;
    let runs = journal.runs().map_err(|e| CliError::io(format!("error: {e}")))?;
    let mut out = std::io::stdout().lock();
    if runs.is_empty() {
        writeln!(out, "no runs yet")?;
    }
    for run in runs {
        let tasks = journal.tasks(&run.id).map_err(|e| CliError::io(format!("error: {e}")))?;
        let done = tasks.iter().filter(|t| t.state == TaskState::Committed).count();
        writeln!(
            out,
            "{}  {:<11}  {:>3}/{:<3} tasks  {} · {}",
            run.id,
            engine::control::state_name(&run),
            done,
            tasks.len(),
            run.milestone,
            run.title
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn status(_ctx: &Context, args: &StatusArgs) -> Result<ExitCode, CliError> {
    let text = status_text(&args.repo, args.run.as_deref())?;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// What `status` prints for `run` (default: the newest) of the repository at `repo`;
/// `wavecrew mcp`'s `run_status` answers with it too.
pub(super) fn status_text(repo: &Path, run: Option<&str>) -> Result<String, CliError> {
    use std::fmt::Write as _;
    let (_, journal) = open(repo)?;
    let run = find_run(&journal, run)?;
    let tasks = journal.tasks(&run.id).map_err(|e| CliError::io(format!("error: {e}")))?;
    let mut out = String::new();
    let _ = writeln!(out, "run {}: {} · {}", run.id, run.milestone, run.title);
    let _ = writeln!(
        out,
        "state {}, branch `{}` from {}, plan {}",
        engine::control::state_name(&run),
        run.branch,
        &run.base[..run.base.len().min(10)],
        run.plan_path
    );
    let events = journal.events(&run.id, 0).map_err(|e| CliError::io(format!("error: {e}")))?;
    if let Some((url, draft)) = events.iter().rev().find_map(|e| match &e.event {
        engine::events::Event::RunShipped { url, draft, .. } => Some((url, *draft)),
        _ => None,
    }) {
        let _ = writeln!(out, "shipped: {}{url}", if draft { "draft " } else { "" });
    }
    let spent = journal.spent_usd(&run.id).map_err(|e| CliError::io(format!("error: {e}")))?;
    match run.settings() {
        engine::settings::Recorded::Settings(settings) => {
            for line in describe_settings(&settings, spent) {
                let _ = writeln!(out, "{line}");
            }
        }
        engine::settings::Recorded::Nothing => {
            let _ = writeln!(out, "options not recorded (an older wavecrew started this run); spent ${spent:.2}");
        }
        engine::settings::Recorded::Newer(version) => {
            let _ = writeln!(out, "options recorded by a newer wavecrew (version {version})");
        }
    }
    if let Some(held) = engine::control::held(&journal, &run) {
        let _ = writeln!(out, "{held}");
    }
    let previews = engine::preview::shown(&events);
    for task in &tasks {
        let commit = task.commit.as_deref().map(|c| &c[..c.len().min(10)]).unwrap_or("");
        let reason = task.reason.as_deref().and_then(|r| r.lines().next()).unwrap_or("");
        let row = format!(
            "  {:<5} {:<11} attempts {:<2} {:<16} {commit} {}",
            task.task,
            task.state.as_str(),
            task.attempts,
            task.lane.as_deref().unwrap_or("-"),
            super::ellipsize(reason, 70)
        );
        // The last columns are often empty (no commit yet, no reason): no padding after them.
        let _ = writeln!(out, "{}", row.trim_end());
        if task.state == engine::events::TaskState::Waiting
            && let Some(engine::preview::Shown::Ready { url }) = previews.get(&task.task)
        {
            let _ = writeln!(out, "        preview: {url}");
        }
    }
    Ok(out)
}

/// How a run goes, as `status` shows it: the agent, then the options, a few to a line.
fn describe_settings(settings: &engine::settings::RunSettings, spent: f64) -> Vec<String> {
    use engine::settings::BackendSpec;
    let options = &settings.options;
    let agent = format!("agent {} ({})", settings.agent.name(), settings.agent.describe());
    let backend = match &settings.backend {
        BackendSpec::Local => "backend local".to_owned(),
        BackendSpec::Slurm { client, .. } => {
            let mut text = "backend slurm".to_owned();
            if let Some(partition) = &client.partition {
                text.push_str(&format!(" --partition {partition}"));
            }
            for arg in &client.extra_args {
                text.push_str(&format!(" --slurm-arg={arg}"));
            }
            text
        }
    };
    let jobs = options.jobs.map_or_else(|| "one per agent".to_owned(), |j| j.to_string());
    let schedule = if options.schedule == engine::run::ScheduleMode::Waves { "waves" } else { "dag" };
    let mut run = vec![
        format!("-j {jobs}"),
        format!("schedule {schedule}"),
        format!("attempts {}", options.attempts),
        format!("timeout {}s", options.agent_timeout.as_secs()),
        format!("verify timeout {}s", options.verify_timeout.as_secs()),
        format!("setup timeout {}s", options.setup_timeout.as_secs()),
    ];
    if options.fail_fast {
        run.push("fail-fast".into());
    }
    // Limits hold by default, for at most the default max_hold: said only when not so.
    let defaults = engine::run::Options::default();
    if options.on_limit != defaults.on_limit {
        run.push("on-limit fail".into());
    }
    if options.max_hold != defaults.max_hold {
        run.push(format!("max hold {}s", options.max_hold.as_secs()));
    }
    let mut checks = vec![match (options.budget_usd, options.budgets.run) {
        (Some(budget), _) => format!("budget ${budget:.2} (${spent:.2} spent)"),
        (None, Some(budget)) => format!("budget {budget} (${spent:.2} spent)"),
        (None, None) => format!("no budget (${spent:.2} spent)"),
    }];
    let budgets = &options.budgets;
    for (key, cap) in [("task", budgets.task), ("wave", budgets.wave)] {
        if let Some(cap) = cap {
            checks.push(format!("{key} budget {cap}"));
        }
    }
    if !options.escalate.is_empty() {
        run.push(format!("escalate {}", options.escalate.join(" → ")));
    }
    if !options.auto_approve.is_empty() {
        let kinds: Vec<&str> =
            options.auto_approve.iter().map(|k| k.as_str().trim_start_matches("checkpoint:")).collect();
        checks.push(format!("auto-approve {}", kinds.join(",")));
    }
    if options.batch_checkpoints {
        checks.push("batch checkpoints".into());
    }
    checks.push(format!("gate rounds {}", options.gate_rounds));
    if let Some(coverage) = options.coverage_threshold {
        checks.push(format!("coverage {coverage}%"));
    }
    checks.push(if options.verify_truths { "truths by the agent" } else { "truths by a person" }.into());
    vec![format!("{agent}, {backend}"), run.join(", "), checks.join(", ")]
}

pub fn logs(_ctx: &Context, args: &LogsArgs) -> Result<ExitCode, CliError> {
    let (state, journal) = open(&args.repo)?;
    let run = find_run(&journal, Some(&args.run))?;
    let mut out = std::io::stdout().lock();
    let mut printed: std::collections::HashMap<PathBuf, u64> = std::collections::HashMap::new();
    loop {
        for (_, file) in engine::layout::RunLayout::new(&state, &run.id).task_logs(&args.task) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            let seen = printed.entry(file.clone()).or_insert(0);
            if *seen == 0 && !bytes.is_empty() {
                writeln!(out, "==> {} <==", file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())?;
            }
            if (bytes.len() as u64) > *seen {
                out.write_all(&bytes[*seen as usize..])?;
                *seen = bytes.len() as u64;
            }
        }
        out.flush()?;
        let task_over = journal
            .tasks(&run.id)
            .map_err(|e| CliError::io(format!("error: {e}")))?
            .iter()
            .find(|t| t.task == args.task)
            .is_none_or(|t| t.state.is_final() || !engine::run::pid_alive(run.pid));
        if !args.follow || task_over {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    if printed.is_empty() {
        return Err(CliError::usage(format!("error: run {} has no logs for task {} (yet)", run.id, args.task)));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn cancel(_ctx: &Context, args: &CancelArgs) -> Result<ExitCode, CliError> {
    let (_, journal) = open(&args.repo)?;
    let done = engine::control::cancel(&journal, &args.run).map_err(control_error)?;
    eprintln!("{}", done.message);
    Ok(ExitCode::SUCCESS)
}

pub fn report(_ctx: &Context, args: &ReportArgs) -> Result<ExitCode, CliError> {
    let (run, report) = load_report(&args.repo, args.run.as_deref())?;
    if let Some(path) = &args.trace {
        let trace = report.timeline.chrome_trace(&run.id, &format!("{} · {}", run.milestone, run.title));
        let text = format!("{trace}\n");
        if path.as_os_str() == "-" {
            std::io::stdout().lock().write_all(text.as_bytes())?;
        } else {
            super::write_new_file(path, args.force, &text)?;
            eprintln!(
                "wrote the timeline of run {} to {}: open it in https://ui.perfetto.dev or chrome://tracing",
                run.id,
                path.display()
            );
        }
    }
    let text = if args.timeline {
        let title = format!("Timeline of run {} ({})", run.id, engine::control::state_name(&run));
        format!("{title}\n\n{}", report.timeline.gantt(terminal_width()))
    } else if args.json {
        report.json()
    } else if args.trace.is_none() {
        report.markdown()
    } else {
        return Ok(ExitCode::SUCCESS);
    };
    writeln!(std::io::stdout().lock(), "{}", text.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

/// The report of `run` (default: the newest) of the repository at `repo`, with its record.
pub(super) fn load_report(repo: &Path, run: Option<&str>) -> Result<(RunRecord, engine::report::Report), CliError> {
    let (_, journal) = open(repo)?;
    let run = find_run(&journal, run)?;
    let report = engine::report::Report::load(&journal, &run).map_err(|e| CliError::io(format!("error: {e}")))?;
    Ok((run, report))
}

/// The width of the terminal the output goes to; else `$COLUMNS`; else 100 columns.
fn terminal_width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(width, _)| usize::from(width.0))
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(100)
}

/// Records an answer for a checkpoint of `run`; the run (or its `resume`) picks it up.
/// Returns the sentence saying what happens next.
pub(super) fn answer(repo: &Path, run: &str, task: &str, answer: Answer) -> Result<String, CliError> {
    let (_, journal) = open(repo)?;
    let done = engine::control::answer(&journal, run, task, answer).map_err(control_error)?;
    Ok(done.message)
}

/// Approves checkpoint `task` of `run`, or (task `manual`) signs its Manual checklist off.
pub(super) fn approve_task(repo: &Path, run: &str, task: &str, note: Option<&str>) -> Result<String, CliError> {
    if task == engine::report::MANUAL {
        // `wavecrew approve RUN manual`: the Manual checklist of the plan's Verification.
        let (_, journal) = open(repo)?;
        let done = engine::control::sign_off_manual(&journal, run, note).map_err(control_error)?;
        return Ok(done.message);
    }
    answer(repo, run, task, Answer::Approve { note: note.map(str::to_owned) })
}

pub fn approve(_ctx: &Context, args: &ApproveArgs) -> Result<ExitCode, CliError> {
    eprintln!("{}", approve_task(&args.repo, &args.run, &args.task, args.note.as_deref())?);
    Ok(ExitCode::SUCCESS)
}

pub fn reject(_ctx: &Context, args: &RejectArgs) -> Result<ExitCode, CliError> {
    let comments: Vec<LineComment> = args.comments.iter().chain(&args.old_comments).cloned().collect();
    eprintln!("{}", reject_task(&args.repo, &args.run, &args.task, args.reason.as_deref(), &comments)?);
    Ok(ExitCode::SUCCESS)
}

/// Rejects `task` of `run` with `reason` and `comments` on lines of its change, folded into
/// one reason as the room folds them; `wavecrew mcp`'s `reject` answers with it too.
pub(super) fn reject_task(
    repo: &Path,
    run: &str,
    task: &str,
    reason: Option<&str>,
    comments: &[LineComment],
) -> Result<String, CliError> {
    let reason = engine::rejection::reason_with_comments(reason, comments).map_err(|e| {
        let error = CliError::usage(format!("error: {e}"));
        match e {
            RejectionError::Empty => error.with_hint("say what is wrong: --reason TEXT, or --comment PATH:LINE:TEXT"),
            _ => error,
        }
    })?;
    answer(repo, run, task, Answer::Reject { reason })
}

pub fn decide(_ctx: &Context, args: &DecideArgs) -> Result<ExitCode, CliError> {
    eprintln!("{}", answer(&args.repo, &args.run, &args.task, Answer::Decide { option: args.option.clone() })?);
    Ok(ExitCode::SUCCESS)
}

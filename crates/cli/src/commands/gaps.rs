//! `wavecrew gaps [RUN]`: a follow-up plan, in the plan format, for everything a run left
//! undone: red gate findings, must_haves that do not hold, failed Automated commands, tasks that
//! failed or were skipped. The plan holds the original must_haves, re-runs the gates that were
//! not green, and starts from the run's branch.
//!
//! `engine::gaps::generate` is a pure function from a run's report and its plan to the
//! follow-up's text; the command around it finds the run, checks the must_haves itself when the run stopped before its
//! verification, picks a milestone id whose branch is free, and checks the text it wrote.

use super::Context;
use crate::error::CliError;
use crate::render::{self, FileReport};
use clap::Args;
use engine::events::{MustHaveKind, MustHaveStatus, MustHaveVerdict, RunState, RunVerdict};
use engine::gaps::{Source, follow_up_id, generate, safe_path};
use engine::journal::RunRecord;
use engine::report::{Report, Verification};
use plan::{Plan, Severity};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct GapsArgs {
    /// The run (default: the newest).
    #[arg(value_name = "RUN")]
    pub run: Option<String>,
    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Write the plan to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Context, args: &GapsArgs) -> Result<ExitCode, CliError> {
    let gaps = follow_up(&args.repo, args.run.as_deref())?;
    for note in &gaps.notes {
        eprintln!("{note}");
    }
    let Some(text) = &gaps.text else {
        return Ok(ExitCode::SUCCESS);
    };
    let shown = args.output.as_ref().map_or_else(|| "gaps.plan.md".to_owned(), |p| p.display().to_string());
    let tasks = check_generated(ctx, text, &gaps.milestone, &shown)?;
    let Some(path) = &args.output else {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        eprintln!(
            "the follow-up plan starts from `{}`: check that branch out before `wavecrew run`; it runs on `{}`",
            gaps.branch,
            engine::workspace::branch_name(&gaps.milestone)
        );
        return Ok(ExitCode::SUCCESS);
    };
    super::write_new_file(path, args.force, text)?;
    eprintln!("wrote {shown}: {tasks} task(s) ({}) to close the gaps of run {}", gaps.milestone, gaps.run);
    let quoted = shell_words::quote(&shown);
    eprintln!("next: `git checkout {}`, then `wavecrew check {quoted}` and `wavecrew run {quoted}`", gaps.branch);
    Ok(ExitCode::SUCCESS)
}

/// What `gaps` found for a run: the follow-up plan, if the run left anything to close.
pub(super) struct FollowUp {
    /// The run's id.
    pub run: String,
    /// The run's branch, where the follow-up starts.
    pub branch: String,
    /// The follow-up's milestone id.
    pub milestone: String,
    /// The follow-up plan; `None` when the run left nothing to close.
    pub text: Option<String>,
    /// What a person is told about it (`note:` lines), in order.
    pub notes: Vec<String>,
}

/// The follow-up plan of `run` (default: the newest) of the repository at `repo`, unchecked
/// (see [`check_generated`]). `wavecrew mcp`'s `gaps` answers with it too.
pub(super) fn follow_up(repo: &Path, run: Option<&str>) -> Result<FollowUp, CliError> {
    let (_, journal) = super::runs::open(repo)?;
    let record = super::runs::find_run(&journal, run)?;
    if engine::control::is_active(&record) {
        return Err(CliError::usage(format!(
            "error: run {} is still going: its gaps are known once it ends",
            record.id
        ))
        .with_hint(format!("wait for it, or stop it with `wavecrew cancel {}`", record.id)));
    }
    let mut notes = Vec::new();
    if matches!(record.state, RunState::Cancelled | RunState::Running) {
        notes.push(format!(
            "note: run {} did not finish: `wavecrew resume {}` would go on with it; this plan does what it left instead",
            record.id, record.id
        ));
    }
    let mut report = Report::load(&journal, &record).map_err(|e| CliError::io(format!("error: {e}")))?;
    let original = plan::parse(record.plan_text.trim_start_matches('\u{feff}'), &record.milestone).plan;
    // A run that stopped early never checked its must_haves: check them on its branch now.
    let mut checked_at = None;
    if report.verification.is_none() {
        let (head, must_haves) = match check_must_haves(repo, &record, &original) {
            Some((head, verdicts)) => (Some(head), verdicts),
            None => {
                notes.push(format!(
                    "note: could not read the run branch `{}`: its must_haves are not checked",
                    record.branch
                ));
                (None, manual_truths(&original))
            }
        };
        checked_at = head;
        report.verification = Some(Verification {
            verdict: RunVerdict::Unverified,
            must_haves,
            automated: Vec::new(),
            manual: original.verification.manual.iter().map(|m| m.value.clone()).collect(),
            manual_signed_off: false,
        });
    }
    let milestone = free_milestone(repo, &record.milestone);
    let source = Source { report: &report, plan: &original, milestone: &milestone, checked_at: checked_at.as_deref() };
    let text = generate(&source);
    if text.is_none() {
        notes.push(format!(
            "run {} left nothing to close: every task landed, its gates are green and its must_haves and Automated commands hold",
            record.id
        ));
        // What nobody proved is not a gap for agents to close, but a person still has to see it.
        if let Some(verification) = report.verification.as_ref().filter(|v| !v.manual_signed_off) {
            let manual = verification.must_haves.iter().filter(|m| m.verdict == MustHaveStatus::Manual).count();
            if manual + verification.manual.len() > 0 {
                notes.push(format!(
                    "note: a person still confirms {manual} must_have(s) nobody proved and {} Manual step(s): `wavecrew report {}` lists them, with why; `wavecrew approve {} manual` signs them off",
                    verification.manual.len(),
                    record.id,
                    record.id
                ));
            }
        }
    }
    Ok(FollowUp { run: record.id, branch: report.branch, milestone, text, notes })
}

/// The generated text must be a plan `check` accepts (its number of tasks then); anything else
/// is a bug of [`generate`]: its errors are printed and the command exits 2.
pub(super) fn check_generated(ctx: &Context, text: &str, milestone: &str, shown: &str) -> Result<usize, CliError> {
    let parsed = plan::parse(text, milestone);
    if !parsed.has_errors() {
        return Ok(parsed.plan.tasks.len());
    }
    let report = FileReport::new(shown.to_owned(), text.to_owned(), parsed.diagnostics, false);
    let renderer = if ctx.color { annotate_snippets::Renderer::styled() } else { annotate_snippets::Renderer::plain() };
    for diagnostic in report.diagnostics.iter().filter(|d| d.severity() == Severity::Error) {
        eprintln!("{}\n", render::human(&report, diagnostic, &renderer));
    }
    Err(CliError::io(
        "error: the follow-up plan wavecrew generated has errors (a bug of `wavecrew gaps`): nothing was written",
    )
    .with_hint("please report it with the run's `wavecrew report --json`"))
}

/// The run's truths as MANUAL verdicts, for a run whose branch could not be checked.
fn manual_truths(plan: &Plan) -> Vec<MustHaveVerdict> {
    plan.must_haves
        .truths
        .iter()
        .map(|t| MustHaveVerdict {
            kind: MustHaveKind::Truth,
            item: t.value.clone(),
            verdict: MustHaveStatus::Manual,
            evidence: "an observable outcome: a person confirms it".into(),
        })
        .collect()
}

fn git(repo: &Path, args: &[&str], index: Option<&Path>) -> Option<String> {
    let index = index.map(|i| i.to_string_lossy().into_owned());
    let env: Vec<(&str, &str)> = index.iter().map(|i| ("GIT_INDEX_FILE", i.as_str())).collect();
    // Callers read lines: the final newline `run_blocking` trims is put back.
    engine::git::Git::new(repo).run_blocking_with_env(args, &env).ok().map(|out| out + "\n")
}

/// The must_haves of `plan` checked on the head of the run's branch, as the run's verification
/// would have: the head commit and the verdicts. `None` when the branch cannot be read.
fn check_must_haves(repo: &Path, run: &RunRecord, plan: &Plan) -> Option<(String, Vec<MustHaveVerdict>)> {
    let head =
        git(repo, &["rev-parse", "--verify", "--quiet", &format!("refs/heads/{}^{{commit}}", run.branch)], None)?
            .trim()
            .to_owned();
    let scratch = tempfile::tempdir().ok()?;
    let tree = scratch.path().join("tree");
    let index = scratch.path().join("index");
    std::fs::create_dir_all(&tree).ok()?;
    // A private index: the user's index and work tree stay as they are.
    git(repo, &["read-tree", &head], Some(&index))?;
    git(repo, &["checkout-index", "--all", "--force", &format!("--prefix={}/", tree.display())], Some(&index))?;
    let listing = git(repo, &["ls-tree", "-r", "-z", "--name-only", &head], None)?;
    let paths: Vec<String> = listing.split('\0').filter(|p| !p.is_empty()).map(str::to_owned).collect();
    let files = engine::verify::tracked_texts(&tree, &paths);
    let plan_path = Some(run.plan_path.trim_start_matches("./")).filter(|p| safe_path(p));
    Some((head, engine::verify::must_haves(&tree, plan, &files, plan_path)))
}

/// The follow-up's milestone id: `<M>-gaps` (then `-gaps2`, `-gaps3`, ...), the first whose run
/// branch does not exist yet, so that `wavecrew run` never collides with an earlier run.
fn free_milestone(repo: &Path, milestone: &str) -> String {
    let mut id = follow_up_id(milestone);
    for _ in 0..100 {
        let branch = engine::workspace::branch_name(&id);
        if git(repo, &["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")], None).is_none() {
            break;
        }
        id = follow_up_id(&id);
    }
    id
}

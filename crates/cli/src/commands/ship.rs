//! `wavecrew ship [RUN]`: pushes the run branch and opens a pull (merge) request whose title
//! is the milestone and whose body is the run's report, the Manual checklist as task-list
//! boxes; a draft unless the verification passed and the checklist is signed off. The URL is
//! journaled (`run_shipped`), so `status`, the report and a second `ship` know it.

mod forge;

pub use forge::Kind;

use super::Context;
use crate::error::CliError;
use clap::Args;
use engine::events::{Event, RunVerdict};
use engine::report::Report;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ShipArgs {
    /// The run to ship (default: the newest run of the repository).
    #[arg(value_name = "RUN")]
    pub run: Option<String>,

    /// Open it as a draft, whatever the verification says.
    #[arg(long)]
    pub draft: bool,

    /// The branch to merge into (default: the remote's default branch).
    #[arg(long, value_name = "B")]
    pub base: Option<String>,

    /// The remote to push the run branch to.
    #[arg(long, value_name = "R", default_value = "origin")]
    pub remote: String,

    /// The repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

/// GitHub refuses a body above 65,536 characters; the whole report stays in the run's folder.
const MAX_BODY: usize = 60_000;

/// Whether the request is opened as a draft: when asked, or unless the verification passed
/// and its Manual checklist (if any) is signed off.
pub fn is_draft(report: &Report, asked: bool) -> bool {
    let ready = report
        .verification
        .as_ref()
        .is_some_and(|v| v.verdict == RunVerdict::Passed && (v.manual.is_empty() || v.manual_signed_off));
    asked || !ready
}

/// The request's body: the report, with the Manual checklist as task-list boxes (`- [ ]`),
/// which the forges render as boxes a reviewer ticks.
pub fn body(report: &Report) -> String {
    let mut text = report.markdown();
    if let Some(v) = &report.verification {
        let mark = if v.manual_signed_off { "x" } else { " " };
        for (i, step) in v.manual.iter().enumerate() {
            text = text.replacen(&format!("{}. [{mark}] {step}\n", i + 1), &format!("- [{mark}] {step}\n"), 1);
        }
    }
    if text.chars().count() > MAX_BODY {
        text = text.chars().take(MAX_BODY).collect();
        text.push_str(&format!("\n\n… (cut: `wavecrew report {}` has the whole report)\n", report.run));
    }
    text.push_str(&format!("\n---\nOpened by `wavecrew ship` from run `{}`.\n", report.run));
    text
}

pub fn run(_ctx: &Context, args: &ShipArgs) -> Result<ExitCode, CliError> {
    let (root, config) = super::run::load_config(&args.repo)?;
    let (state, journal) = super::runs::open(&root)?;
    let record = super::runs::find_run(&journal, args.run.as_deref())?;
    if engine::control::is_active(&record) {
        return Err(CliError::usage(format!("error: run {} is still running", record.id))
            .with_hint("ship it once it ended (`wavecrew status` says when)"));
    }
    let journal_error = |e: engine::journal::JournalError| CliError::io(format!("error: {e}"));
    let report = Report::load(&journal, &record).map_err(journal_error)?;
    let git = engine::git::Git::new(&root);
    let remote = &args.remote;
    let remote_url = git.run_blocking(&["remote", "get-url", remote]).map_err(|_| {
        CliError::usage(format!("error: this repository has no remote `{remote}`"))
            .with_hint("add one with `git remote add origin URL`, or name another with `--remote R`")
    })?;
    let branch = &record.branch;
    git.run_blocking(&["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")])
        .map_err(|_| CliError::usage(format!("error: the run branch `{branch}` is not in this repository any more")))?;

    // Shipped before: push what the branch has now, open nothing.
    if let Some(url) = &report.pull_request {
        push(&git, remote, branch)?;
        say!("pushed `{branch}` to `{remote}`; run {} was shipped before: {url}", record.id);
        println!("{url}");
        return Ok(ExitCode::SUCCESS);
    }
    // Everything that can be wrong here is found before anything leaves the machine.
    let target = forge::Target::of(&remote_url, &config.ship)?;
    let via = match forge::gh(&target) {
        Some(gh) => Via::Gh(gh),
        None => Via::Api(token(target.kind)?),
    };
    let base = args.base.clone().unwrap_or_else(|| default_branch(&git, remote));
    let draft = is_draft(&report, args.draft);
    let title = format!("{}: {}", report.milestone, report.title);
    let body = body(&report);
    let request = forge::Request { branch, base: &base, title: &title, body: &body, draft };

    push(&git, remote, branch)?;
    let url = match &via {
        Via::Gh(gh) => forge::open_with_gh(gh, &target, &request)?,
        Via::Api(token) => forge::open_with_api(&target, token, &request)?,
    };
    journal
        .record(&record.id, Event::RunShipped { url: url.clone(), remote: remote.clone(), base: base.clone(), draft })
        .map_err(journal_error)?;
    if let Ok(report) = Report::load(&journal, &record) {
        // The report in the run's folder names its request too.
        let _ = report.write(&state.join("runs").join(&record.id));
    }
    let what = if draft { format!("draft {}", target.kind.request()) } else { target.kind.request().to_owned() };
    say!("pushed `{branch}` to `{remote}` and opened a {what} into `{base}`: {url}");
    if draft && !args.draft {
        say!("  a draft: the verification did not pass, or its Manual checklist is not signed off");
    }
    println!("{url}");
    Ok(ExitCode::SUCCESS)
}

/// How the request is opened.
enum Via {
    /// GitHub's CLI, installed and logged in.
    Gh(PathBuf),
    /// The forge's REST API, with this token.
    Api(String),
}

/// `git push REMOTE BRANCH`, never forced: a refusal changes nothing here.
fn push(git: &engine::git::Git, remote: &str, branch: &str) -> Result<(), CliError> {
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    git.run_blocking(&["push", "--quiet", remote, &refspec]).map(|_| ()).map_err(|error| {
        let why = match &error {
            engine::git::GitError::Failed { stderr, .. } => {
                stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("git refused").trim().to_owned()
            }
            other => other.to_string(),
        };
        CliError::io(format!("error: `git push {remote} {branch}` was refused: {why}")).with_hint(format!(
            "`{branch}` is untouched here and nothing was opened; if the remote's `{branch}` moved, look at it (`git fetch {remote}`) before shipping again"
        ))
    })
}

/// The remote's default branch (`git ls-remote --symref`), else `main`.
fn default_branch(git: &engine::git::Git, remote: &str) -> String {
    git.run_blocking(&["ls-remote", "--symref", remote, "HEAD"])
        .ok()
        .and_then(|out| {
            out.lines()
                .find_map(|l| l.strip_prefix("ref: refs/heads/"))
                .and_then(|l| l.split_whitespace().next())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "main".to_owned())
}

/// The forge's token from the environment, or an error naming the variables.
fn token(kind: forge::Kind) -> Result<String, CliError> {
    kind.token_vars().iter().find_map(|var| std::env::var(var).ok().filter(|t| !t.trim().is_empty())).ok_or_else(|| {
        CliError::usage(format!(
            "error: no token to open the {}: set ${}",
            kind.request(),
            kind.token_vars().join(" or $")
        ))
        .with_hint("or, for GitHub, install `gh` and `gh auth login`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::report::Verification;

    fn report(verdict: RunVerdict, manual: &[&str], signed_off: bool) -> Report {
        let events = Vec::new();
        let record = engine::journal::RunRecord {
            id: "r1".into(),
            milestone: "M1".into(),
            title: "Pages".into(),
            branch: "wavecrew/M1".into(),
            base: "0123456789ab".into(),
            plan_path: "plan.md".into(),
            plan_hash: String::new(),
            plan_text: String::new(),
            state: engine::events::RunState::Succeeded,
            started_ms: 0,
            finished_ms: Some(1),
            pid: 0,
            options: String::new(),
        };
        let mut report = Report::build(&record, &[], &events);
        report.verification = Some(Verification {
            verdict,
            must_haves: Vec::new(),
            automated: Vec::new(),
            manual: manual.iter().map(|m| (*m).to_owned()).collect(),
            manual_signed_off: signed_off,
        });
        report
    }

    #[test]
    fn a_draft_unless_the_verification_passed_and_the_checklist_is_signed_off() {
        assert!(!is_draft(&report(RunVerdict::Passed, &[], false), false));
        assert!(is_draft(&report(RunVerdict::Passed, &[], false), true), "asked for");
        assert!(is_draft(&report(RunVerdict::Unverified, &[], false), false));
        assert!(is_draft(&report(RunVerdict::Passed, &["Open the page"], false), false));
        assert!(!is_draft(&report(RunVerdict::Passed, &["Open the page"], true), false));
        let mut unverified = report(RunVerdict::Passed, &[], false);
        unverified.verification = None;
        assert!(is_draft(&unverified, false), "a run that never got to its verification");
    }

    #[test]
    fn the_manual_checklist_is_task_list_boxes() {
        let text = body(&report(RunVerdict::Passed, &["Open the page", "Click save"], false));
        assert!(text.contains("- [ ] Open the page\n- [ ] Click save\n"), "{text}");
        assert!(text.starts_with("# Run r1: M1 · Pages"), "{text}");
        let signed = body(&report(RunVerdict::Passed, &["Open the page"], true));
        assert!(signed.contains("- [x] Open the page\n"), "{signed}");
    }
}

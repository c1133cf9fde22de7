//! Checkpoints: a task that waits for a person (`checkpoint:human-verify` with its change, a
//! `decision` with its options, a `human-action`, a gate whose checks could not check
//! everything). Its slot goes back to the scheduler while it waits ([`crate::slots`]); the
//! answer comes through the journal, where `wavecrew approve`, `reject` and `decide` (and the
//! dashboard) write it, unless `--auto-approve` answers at once.

use crate::attempt::Attempt;
use crate::ctx::RunCtx;
use crate::error::EngineError;
use crate::events::{AnswerKind, Event};
use crate::integrate::{self, Trailer};
use plan::TaskType;
use std::time::Duration;

/// A person's answer to a checkpoint.
pub(crate) enum Answer {
    Approved,
    Rejected(String),
    Decided(String),
}

/// The options of a decision: the list items of its Action, else what follows `Options:`.
pub fn decision_options(task: &plan::Task) -> Vec<String> {
    let action = task.action.as_ref().map(|a| a.value.as_str()).unwrap_or_default();
    let items: Vec<String> = action
        .lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")))
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect();
    if !items.is_empty() {
        return items;
    }
    let lower = action.to_ascii_lowercase();
    lower.find("options:").map_or_else(Vec::new, |at| {
        action[at + "options:".len()..]
            .split([',', '/', ';'])
            .flat_map(|part| part.split(" or "))
            .map(|o| o.trim().trim_end_matches('.').to_owned())
            .filter(|o| !o.is_empty())
            .collect()
    })
}

/// Waits for a person's answer to `task`'s checkpoint (polling the journal, where `wavecrew
/// approve`, `reject` and `decide` write), unless `--auto-approve` answers for them.
/// `why` (lines, or empty) says what the person is asked about before the task's fields: what an
/// unverified gate could not check. [`EngineError::Cancelled`] when the run was cancelled.
pub(crate) async fn checkpoint(
    ctx: &RunCtx,
    task: &plan::Task,
    commit: Option<&str>,
    base: &str,
    why: &str,
) -> Result<Answer, EngineError> {
    let env = &ctx.env;
    let id = task.id.to_string();
    let options = if task.kind == TaskType::Decision { decision_options(task) } else { Vec::new() };
    // Human actions and unverified gates are a person's by definition: never answered for them.
    let by_a_person = matches!(task.kind, TaskType::HumanAction | TaskType::Gate);
    if env.options.auto_approve.contains(&task.kind) && !by_a_person {
        // Journaled like a person's answer, with the change it approved: the report says so.
        let details = checkpoint_details(ctx, task, commit, base, why).await;
        env.emitter.emit(checkpoint_waiting(task, &options, commit, details, true))?;
        let (answer, detail, result) = match options.first() {
            Some(first) if task.kind == TaskType::Decision => {
                (AnswerKind::Decided, Some(first.clone()), Answer::Decided(first.clone()))
            }
            _ => (AnswerKind::Approved, None, Answer::Approved),
        };
        env.emitter.emit(Event::CheckpointAnswered {
            task: id,
            answer,
            detail,
            auto: true,
            commit: commit.map(str::to_owned),
        })?;
        return Ok(result);
    }
    // Waiting for a person takes no slot: other tasks run meanwhile.
    ctx.slots.park(task.id);
    let mut cancel = env.cancel.clone();
    // Shown once the rest of the wave can go no further, with the wave's other checkpoints.
    if env.options.batch_checkpoints
        && task.kind == TaskType::HumanVerify
        && !ctx.slots.settled(task.wave, &mut cancel).await
    {
        return Err(EngineError::Cancelled);
    }
    let details = checkpoint_details(ctx, task, commit, base, why).await;
    env.emitter.emit(checkpoint_waiting(task, &options, commit, details, false))?;
    loop {
        if *cancel.borrow() {
            return Err(EngineError::Cancelled);
        }
        if let Some((answer, detail)) = ctx.journal.take_answer(&env.run_id, &id)? {
            let result = match (&answer, task.kind.clone()) {
                (AnswerKind::Rejected, TaskType::HumanVerify | TaskType::Gate) => {
                    Some(Answer::Rejected(detail.clone().unwrap_or_else(|| "no reason given".into())))
                }
                (AnswerKind::Decided, TaskType::Decision) => detail.clone().map(Answer::Decided),
                (AnswerKind::Approved, TaskType::Decision) => options.first().cloned().map(Answer::Decided),
                (AnswerKind::Approved, _) => Some(Answer::Approved),
                _ => None, // not an answer this checkpoint takes: keep waiting
            };
            if let Some(result) = result {
                let shown = match &result {
                    Answer::Decided(option) => Some(option.clone()),
                    _ => detail,
                };
                let kind = if matches!(result, Answer::Decided(_)) { AnswerKind::Decided } else { answer };
                env.emitter.emit(Event::CheckpointAnswered {
                    task: id,
                    answer: kind,
                    detail: shown,
                    auto: false,
                    commit: commit.map(str::to_owned),
                })?;
                // Back to work (landing the change, or the agent again): that needs a slot.
                if !ctx.slots.unpark(task.id, &mut cancel).await {
                    return Err(EngineError::Cancelled);
                }
                return Ok(result);
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = cancel.changed() => {}
        }
    }
}

/// What a waiting checkpoint shows a person: `why` (lines, or empty: what an unverified gate could
/// not check) first, then the task's Action, Verify and Done, the steps of Verify they follow
/// themselves (wavecrew does not run them), and the files `commit` changed.
async fn checkpoint_details(ctx: &RunCtx, task: &plan::Task, commit: Option<&str>, base: &str, why: &str) -> String {
    let mut details = why.to_owned();
    if let Some(action) = &task.action {
        details.push_str(&format!("Action: {}\n", action.value));
    }
    if let Some(verify) = &task.verify {
        details.push_str(&format!("Check: {}\n", verify.value));
    }
    if !task.verify_steps.is_empty() {
        details.push_str("Steps for you (wavecrew does not run them):\n");
        for step in &task.verify_steps {
            details.push_str(&format!("  - {}\n", step.value));
        }
    }
    if let Some(done) = &task.done {
        details.push_str(&format!("Done when: {}\n", done.value));
    }
    if let Some(commit) = commit {
        let files = ctx.env.repo.run(&["diff", "--name-only", base, commit]).await.unwrap_or_default();
        details.push_str(&format!(
            "Changed: {}\n",
            if files.is_empty() { "nothing".into() } else { files.replace('\n', ", ") }
        ));
    }
    details
}

/// The event of a checkpoint that waits for its answer (`auto`: from `--auto-approve`, at once).
fn checkpoint_waiting(
    task: &plan::Task,
    options: &[String],
    commit: Option<&str>,
    details: String,
    auto: bool,
) -> Event {
    Event::CheckpointWaiting {
        task: task.id.to_string(),
        kind: task.kind.clone(),
        options: options.to_vec(),
        commit: commit.map(str::to_owned),
        details,
        steps: task.verify_steps.iter().map(|s| s.value.clone()).collect(),
        auto,
    }
}

/// A decision or a human action: no agent; once answered, an empty commit records it on the
/// run branch, so that every task is there exactly once.
pub(crate) async fn manual_task(ctx: &RunCtx, task: &plan::Task) -> Result<Attempt, EngineError> {
    let env = &ctx.env;
    let id = task.id.to_string();
    let subject = match checkpoint(ctx, task, None, "", "").await? {
        Answer::Decided(option) => {
            let subject = format!("chore({}): decide {}: {option}", env.plan.milestone, task.summary());
            env.decisions.add((id.clone(), task.summary(), option));
            subject
        }
        _ => format!("chore({}): {} (done by hand)", env.plan.milestone, task.summary()),
    };
    let message = integrate::message(&subject, Trailer::Task(&id), &env.run_id);
    let head = ctx.landing.head().await?;
    let tree = env.repo.tree_of(&head).await?;
    let commit = env.repo.commit_tree(&tree, &head, &message).await?;
    Ok(ctx.landing.task(&env.emitter, &id, 1, &head, &commit, &message).await?.into())
}

/// A human-verify checkpoint that was waiting when the run stopped: wait for its answer again,
/// then put its change (made on its parent) on the branch.
pub(crate) async fn resume_waiting(
    ctx: &RunCtx,
    task: &plan::Task,
    commit: &str,
    attempt: u32,
) -> Result<Attempt, EngineError> {
    let env = &ctx.env;
    let base = env.repo.rev_parse(&format!("{commit}^")).await?;
    let message = env.repo.run(&["log", "-1", "--format=%B", commit]).await?;
    match checkpoint(ctx, task, Some(commit), &base, "").await? {
        Answer::Approved => {
            Ok(ctx.landing.task(&env.emitter, &task.id.to_string(), attempt, &base, commit, &message).await?.into())
        }
        Answer::Rejected(reason) => Ok(Attempt::Rejected(format!("a person rejected this change: {reason}"))),
        // A human-verify checkpoint takes no option: `take_answer` never gives one.
        Answer::Decided(_) => Err(EngineError::Cancelled),
    }
}

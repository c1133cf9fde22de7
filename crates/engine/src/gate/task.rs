//! A gate task's rounds: check the run branch (the skill's checks, then its review by the
//! gate's agent); while it is red, hand the findings to the agent, land its fix and check again,
//! at most `gate_rounds` fixes; then stop as needs-human. A green verdict (or an unverified one a
//! person signed off) lands as an empty commit with the task's trailer.
//!
//! A gate runs in a slot of the scheduler as any task does, so a fix or a review that ends on
//! the agent's usage or rate limit holds the way a task's attempt does (`SlotRequest::Limited`:
//! `agent_limited` names the gate and its round): the round is not spent, the review is no
//! finding, and the same call is made again once the hold ends.

use super::{GateSkill, Verdict};
use crate::agent::AgentRole;
use crate::ask::{Answered, ask_for_answer, change_for_prompt, line_counts};
use crate::attempt::{Attempt, run_agent, snapshot};
use crate::checkpoint::{Answer, checkpoint};
use crate::ctx::RunCtx;
use crate::error::EngineError;
use crate::events::Event;
use crate::git::Git;
use crate::integrate::{self, Trailer};
use crate::launch::Launch;
use crate::slots::HoldEnd;
use crate::worktree;
use std::path::Path;

/// A quality gate: check the run branch; while it is red, hand the findings to the gate's agent,
/// commit its fix on the run branch (`fix(<milestone>): …`, trailer `Wavecrew-Fix`) and check
/// again, at most `gate_rounds` fixes; then stop as needs-human. Green: an empty commit with
/// the task's trailer records the verdict. [`EngineError::Cancelled`] when the run was cancelled.
pub(crate) async fn gate_task(
    ctx: &RunCtx,
    task: &plan::Task,
    lane: &str,
    worktree: &Path,
    first_round: u32,
) -> Result<Attempt, EngineError> {
    let env = &ctx.env;
    let id = task.id.to_string();
    let skills: Vec<String> = task.skills.iter().map(|s| s.value.clone()).collect();
    let checked: Vec<(&String, GateSkill)> =
        skills.iter().filter_map(|s| GateSkill::of(&env.root, s).map(|kind| (s, kind))).collect();
    if checked.is_empty() {
        return Ok(Attempt::Failed(format!(
            "needs-human: wavecrew has no checks for the gate's skill(s) {}; gates it can check: {}, and skills the repository defines",
            if skills.is_empty() { "(none named)".to_owned() } else { skills.join(", ") },
            super::SKILLS.join(", ")
        )));
    }
    let verify: Vec<String> = task.verify_commands.iter().map(|c| c.value.clone()).collect();
    let mut commands = verify.clone();
    commands.extend(env.plan.verification.automated.iter().map(|c| c.command.clone()));
    let threshold = task
        .done
        .as_ref()
        .and_then(|done| evidence::coverage::threshold_from_text(&done.value))
        .or(env.options.coverage_threshold);
    let done = task.done.as_ref().map_or("", |d| d.value.as_str());
    let mut round = first_round.max(1);
    // A person signed off what the checks could not check: asked once per gate.
    let mut signed_off = false;
    loop {
        if env.cancelled() {
            return Err(EngineError::Cancelled);
        }
        let head = ctx.landing.head().await?;
        if let Some(failure) = worktree::prepare(env, &id, lane, worktree, &head).await? {
            return Ok(Attempt::Failed(failure));
        }
        let mut red = super::Verdict::default();
        for &(skill, kind) in &checked {
            // A repository skill's checks are the task's own Verify commands, without a coverage bar.
            let (commands, coverage_threshold) = match kind {
                GateSkill::Repository => (verify.clone(), None),
                _ => (commands.clone(), threshold),
            };
            let sandboxed = match env.sandbox(worktree, &format!("{id}-gate-{round}-{skill}"), vec![]).await? {
                Ok(sandboxed) => sandboxed,
                Err(reason) => return Ok(Attempt::Failed(reason)),
            };
            let checks = super::Checks {
                worktree,
                base: &env.run_base,
                head: &head,
                commands,
                coverage_threshold,
                done,
                timeout: env.options.verify_timeout,
                log_prefix: env.layout.gate_logs(&id, round, skill),
                env: env.env_in(worktree).into_iter().chain(sandboxed.env.iter().cloned()).collect(),
                sandbox: sandboxed.rules.clone(),
                denied: Default::default(),
                cancel: env.cancel.clone(),
            };
            let verdict = super::check(kind, &checks).await;
            sandboxed.done().await;
            let mut verdict = verdict?;
            let denied = checks.denied.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (command, denial) in denied {
                env.journal_denial(&id, round, &format!("gate-{skill}-{command}"), &denial)?;
                verdict
                    .notes
                    .push(format!("command {command}: the sandbox refused a {} to {}", denial.operation, denial.path));
            }
            if let Some(shape) = kind.review() {
                let review = GateReview { task, lane, worktree, skill, shape, round, head: &head };
                if let Err(failed) = review_gate(ctx, &review, &mut verdict).await? {
                    return Ok(Attempt::Failed(failed));
                }
            }
            env.emitter.emit(Event::GateChecked {
                task: id.clone(),
                round,
                skill: skill.clone(),
                passed: verdict.passed(),
                findings: verdict.findings.clone(),
                metrics: verdict.metrics.clone(),
                notes: verdict.notes.clone(),
                unverified: verdict.unverified.clone(),
            })?;
            red.findings.extend(verdict.findings);
            red.unverified.extend(verdict.unverified.into_iter().map(|why| format!("{skill}: {why}")));
        }
        if red.passed() && !red.unverified.is_empty() && !signed_off {
            // Nothing wrong was found, but not everything the gate asks for was checked: that
            // is never green. A person signs it off, or rejects it and the gate fails.
            let why: String = red.unverified.iter().map(|u| format!("Not checked: {u}\n")).collect();
            match checkpoint(ctx, task, None, "", &why).await? {
                Answer::Approved => signed_off = true,
                Answer::Rejected(reason) => {
                    return Ok(Attempt::Failed(format!(
                        "needs-human: a person rejected the unverified gate: {reason}\n{}",
                        why.trim_end()
                    )));
                }
                // A gate's checkpoint takes no option: `checkpoint` never decides one.
                Answer::Decided(_) => return Err(EngineError::Cancelled),
            }
        }
        if red.passed() {
            let fixes = round - first_round.max(1);
            let verdict = if signed_off { "unverified, signed off by a person" } else { "green" };
            let subject = format!(
                "chore({}): gate {} {verdict} ({}{})",
                env.plan.milestone,
                task.summary(),
                skills.join(", "),
                if fixes == 0 { String::new() } else { format!(", after {fixes} fix round(s)") }
            );
            let message = integrate::message(&subject, Trailer::Task(&id), &env.run_id);
            let tree = env.repo.tree_of(&head).await?;
            let commit = env.repo.commit_tree(&tree, &head, &message).await?;
            if !ctx.landing.verdict(&env.emitter, &id, round, &head, &commit, &subject).await? {
                continue; // something landed since the check: the verdict must be about the new head
            }
            return Ok(Attempt::Committed);
        }
        if round >= first_round.max(1) + env.options.gate_rounds {
            return Ok(Attempt::Failed(format!(
                "needs-human: the gate is still red after {} fix round(s)\n{}",
                env.options.gate_rounds,
                red.for_agent()
            )));
        }
        // A fix round: the gate's agent gets the findings, wavecrew commits what it changed. The
        // checks' own output (reports, coverage data) is cleared first: it is not the fix.
        let tree = loop {
            Git::new(worktree).reset_to(&head).await?;
            env.attempt_started(&id, round, lane, worktree.to_string_lossy().into_owned(), &head, None)?;
            match run_agent(env, task, round, worktree, Some(&red.for_agent())).await? {
                Ok(exited) => break snapshot(env, exited, worktree).await?,
                // A limit is not the agent's failure: the round is not spent, the same fix is
                // asked for again once the hold ends.
                Err(reason) => match env.agent.limit(&reason) {
                    Some(limit) => match hold(ctx, task.id, round, limit).await? {
                        Ok(()) => continue,
                        Err(failed) => return Ok(Attempt::Failed(failed)),
                    },
                    None => break Err(reason),
                },
            }
        };
        let tree = match tree {
            Ok(tree) => tree,
            Err(reason) => {
                env.emitter.emit(Event::AttemptFailed { task: id.clone(), attempt: round, reason })?;
                round += 1;
                continue;
            }
        };
        if tree != env.repo.tree_of(&head).await? {
            let subject = format!("fix({}): {} (gate round {round})", env.plan.milestone, task.summary());
            let message = integrate::message(&subject, Trailer::Fix(&id), &env.run_id);
            let commit = env.repo.commit_tree(&tree, &head, &message).await?;
            ctx.landing.fix(&env.emitter, &id, round, &head, &commit, &message).await?;
        }
        round += 1;
    }
}

/// A gate's review: of which skill, in which round, where.
#[derive(Clone, Copy)]
struct GateReview<'a> {
    task: &'a plan::Task,
    lane: &'a str,
    worktree: &'a Path,
    skill: &'a str,
    shape: super::ReviewShape,
    round: u32,
    head: &'a str,
}

/// The gate's agent call of `round` ended on `limit`: the gate holds as a task's attempt does
/// (the scheduler holds every lane on the agent, and the gate gives its slot back meanwhile).
/// `Ok(())` to make the same call again, under the same round; else why the gate fails as
/// limited (`--on-limit fail`, or a reset later than `[run] max_hold`).
async fn hold(
    ctx: &RunCtx,
    id: plan::TaskId,
    round: u32,
    limit: crate::limits::Limit,
) -> Result<Result<(), String>, EngineError> {
    let mut cancel = ctx.env.cancel.clone();
    match ctx.slots.limited(id, round, limit, &mut cancel).await {
        HoldEnd::Retry => Ok(Ok(())),
        HoldEnd::Fail(reason) => Ok(Err(reason)),
        HoldEnd::Stop => Err(EngineError::Cancelled),
    }
}

/// The review of a gate's skill, after its checks: the gate's agent reviews the run's change
/// with the skill's text and writes its answer in JSON to a file wavecrew names; what the
/// answer's evidence shows goes into `verdict` ([`super::Verdict::add_review`]), and no
/// usable answer is a finding. A review that ends on the agent's limit holds ([`hold`]) and
/// is asked again: `Err` with why the gate fails as limited when it does not.
async fn review_gate(
    ctx: &RunCtx,
    review: &GateReview<'_>,
    verdict: &mut Verdict,
) -> Result<Result<(), String>, EngineError> {
    let env = &ctx.env;
    let GateReview { task, lane, worktree, skill, shape, round, head } = *review;
    let id = task.id.to_string();
    let answer_path = format!("{}/{id}-{round}-{skill}.json", super::ANSWER_DIR);
    let (stat, diff) = change_for_prompt(worktree, &env.run_base, head).await?;
    let skill_text = crate::skills::text(&env.root, skill).unwrap_or_default();
    let prompt = super::ReviewPrompt {
        milestone: &env.plan.milestone,
        title: &env.plan.title,
        task,
        skill,
        skill_text: (!env.agent.takes_system_prompt()).then_some(skill_text.as_str()),
        shape,
        round,
        base: &env.run_base,
        head,
        stat: &stat,
        diff: &diff,
        checked: verdict,
        answer_path: &answer_path,
    }
    .build();
    let model = env.model_for(&id, AgentRole::Review);
    let text = loop {
        let worktree_name = worktree.to_string_lossy().into_owned();
        env.attempt_started(&id, round, lane, worktree_name, head, Some(AgentRole::Review))?;
        let launch = Launch {
            name: format!("{id}-{round}-review-{skill}"),
            log_part: format!("review-{skill}"),
            task: id.clone(),
            attempt: round,
            role: AgentRole::Review,
            model: model.clone(),
            prompt: prompt.clone(),
            skills: vec![(skill.to_owned(), skill_text.clone())],
            verify_commands: Vec::new(),
        };
        match ask_for_answer(env, worktree, head, &answer_path, launch).await? {
            Answered::Not(why) => {
                verdict.add_unanswered_review(&format!("the review {why}"));
                return Ok(Ok(()));
            }
            Answered::Limited(limit) => {
                if let Err(failed) = hold(ctx, task.id, round, limit).await? {
                    return Ok(Err(failed));
                }
            }
            Answered::Text(text) => break text,
        }
    };
    match super::parse_review(shape, &text) {
        Err(error) => verdict.add_unanswered_review(&format!("the review answer `{answer_path}` {error}")),
        Ok(answer) => {
            let fails = answer.items.iter().filter(|i| i.verdict == evidence::review::Verdict::Fail);
            let files = evidence::review::cited_files(fails.flat_map(|i| &i.evidence));
            let lines = line_counts(&env.repo, head, &files).await;
            verdict.add_review(skill, evidence::review::judge(&answer, |path| lines.get(path).copied()));
        }
    }
    Ok(Ok(()))
}

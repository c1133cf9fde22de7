//! The check of the finished run branch, once every task landed: must_haves (from the
//! repository's wiring, see [`super::must_haves`]), the plan's Verification / Automated commands
//! with their `# expectations`, and the verifier of the truths (the run's agent, whose cited
//! places and commands wavecrew checks again). Its verdict is the `run_verified` event. A
//! verifier that ends on its agent's usage or rate limit holds and is asked again
//! ([`super::hold`]).

use super::hold::VerifierHolds;
use crate::agent::AgentRole;
use crate::ask::{Answered, ask_for_answer, change_for_prompt, line_counts};
use crate::ctx::RunCtx;
use crate::env::AttemptEnv;
use crate::error::EngineError;
use crate::events::{AutomatedStatus, Event, MustHaveKind, MustHaveStatus, RunVerdict};
use crate::git::Git;
use crate::launch::Launch;
use crate::{process, worktree};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// Checks the finished run branch: must_haves, then the plan's Verification / Automated
/// commands, then (unless it is off) the verifier of the plan's truths, in a worktree at the
/// branch's head. Whether the run may ship.
pub(crate) async fn verify_run(ctx: &RunCtx) -> Result<bool, EngineError> {
    let env = &ctx.env;
    let plan = &env.plan;
    if plan.must_haves.artifacts.is_empty()
        && plan.must_haves.key_links.is_empty()
        && plan.must_haves.truths.is_empty()
        && plan.verification.automated.is_empty()
        && plan.verification.manual.is_empty()
    {
        return Ok(true);
    }
    let head = ctx.landing.head().await?;
    let lane = "verification";
    let worktree = ctx.pool.take(lane, &env.lanes.dir).await;
    let result = async {
        if let Some(failure) = worktree::prepare(env, lane, lane, &worktree, &head).await? {
            return Err(EngineError::Io(std::io::Error::other(failure)));
        }
        let tracked = Git::new(&worktree).run(&["ls-files", "-z"]).await?;
        let paths: Vec<String> = tracked.split('\0').filter(|p| !p.is_empty()).map(str::to_owned).collect();
        let files = crate::verify::tracked_texts(&worktree, &paths);
        // The plan names every artifact: it is not a reference to any of them.
        let plan_file = std::path::absolute(env.root.join(&ctx.run.plan_path)).ok();
        let plan_path =
            plan_file.as_deref().and_then(|p| p.strip_prefix(&env.root).ok()).map(|p| p.to_string_lossy().into_owned());
        let must_haves = crate::verify::must_haves(&worktree, plan, &files, plan_path.as_deref());
        let mut automated = Vec::new();
        for (index, check) in plan.verification.automated.iter().enumerate() {
            let process = format!("automated-{}", index + 1);
            let log = env.layout.log("verification", 1, &process);
            let vars = env.env_in(&worktree);
            let spec = process::Spec::shell(&check.command, &worktree, vars, env.options.verify_timeout, log.clone());
            // Reports older than this are left over from before: only fresh ones count.
            let started = std::time::SystemTime::now() - Duration::from_secs(1);
            let outcome = env
                .run_confined(spec, "verification", 1, &process)
                .await?
                .map_err(|reason| EngineError::Io(std::io::Error::other(reason)))?
                .outcome;
            if outcome.cancelled {
                return Err(EngineError::Cancelled);
            }
            let (status, detail) = if outcome.success() {
                // Exiting 0 is not what the `# comment` asks for: wavecrew checks that itself.
                let expectations = evidence::expectation::parse(check.expectation.as_deref().unwrap_or_default());
                let output =
                    tokio::fs::read(&log).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                let seen =
                    crate::gate::Observe { worktree: &worktree, base: &env.run_base, head: &head, since: started };
                let observed = seen.command(&check.command, &output, &expectations).await?;
                match evidence::expectation::judge(&expectations, &observed) {
                    evidence::expectation::Judged::Passed(detail) => (AutomatedStatus::Passed, detail),
                    evidence::expectation::Judged::Failed(detail) => (AutomatedStatus::Failed, detail),
                    evidence::expectation::Judged::Unchecked(detail) => (AutomatedStatus::Unchecked, detail),
                }
            } else {
                (AutomatedStatus::Failed, format!("{}\n{}", outcome.ended(), outcome.tail))
            };
            automated.push(crate::events::AutomatedResult {
                command: check.command.clone(),
                expectation: check.expectation.clone(),
                status,
                exit_code: outcome.code,
                detail,
            });
        }
        let mut must_haves = must_haves;
        if env.options.verify_truths && !plan.must_haves.truths.is_empty() {
            let mut holds = VerifierHolds::from_journal(&ctx.journal, &env.run_id, env.agent.name());
            let truths = verify_truths(env, &mut holds, &worktree, &head, &automated).await?;
            // The truths come last, in order: their verdicts are the verifier's now.
            must_haves.retain(|v| v.kind != MustHaveKind::Truth);
            must_haves.extend(truths);
        }
        Ok((must_haves, automated))
    }
    .await;
    ctx.pool.give_back(lane, worktree).await;
    let (must_haves, automated) = result?;
    let broken = must_haves.iter().any(|v| !matches!(v.verdict, MustHaveStatus::Verified | MustHaveStatus::Manual))
        || automated.iter().any(|a| a.status == AutomatedStatus::Failed);
    let checkable = must_haves.iter().any(|v| v.verdict != MustHaveStatus::Manual);
    // An expectation wavecrew could not check goes to the person's checklist, never `passed`.
    let unchecked: Vec<String> = automated
        .iter()
        .filter(|a| a.status == AutomatedStatus::Unchecked)
        .map(|a| {
            let expected = a.expectation.as_deref().unwrap_or_default();
            format!("Check that `{}` shows: {expected} (not checked by wavecrew: {})", a.command, a.detail)
        })
        .collect();
    let verdict = if broken {
        RunVerdict::Failed
    } else if checkable && unchecked.is_empty() {
        RunVerdict::Passed
    } else {
        RunVerdict::Unverified
    };
    let mut manual: Vec<String> = plan.verification.manual.iter().map(|m| m.value.clone()).collect();
    manual.extend(unchecked);
    env.emitter.emit(Event::RunVerified { verdict, must_haves, automated, manual })?;
    Ok(!broken)
}

/// The verifier of the plan's truths, once every task landed: the run's agent gets the truths,
/// the run's change and what wavecrew ran, and answers per truth in JSON. wavecrew checks the
/// places it cites, runs the commands it cites again in `worktree` (reset to `head`, with the
/// verify timeout and an agent's environment, not the user's), and keeps only what holds
/// ([`crate::verify::truth_verdicts`]).
async fn verify_truths(
    env: &AttemptEnv,
    holds: &mut VerifierHolds,
    worktree: &Path,
    head: &str,
    automated: &[crate::events::AutomatedResult],
) -> Result<Vec<crate::events::MustHaveVerdict>, EngineError> {
    const TASK: &str = "verification";
    let answer_path = format!("{}/verification.json", crate::gate::ANSWER_DIR);
    let (stat, diff) = change_for_prompt(worktree, &env.run_base, head).await?;
    let ran: Vec<(crate::events::AutomatedResult, String)> = automated
        .iter()
        .enumerate()
        .map(|(index, result)| {
            let log = env.layout.log(TASK, 1, &format!("automated-{}", index + 1));
            let output = std::fs::read(log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            (result.clone(), crate::gate::prompt_excerpt(&crate::gate::tail(&output, 20), 4096))
        })
        .collect();
    let prompt = crate::verify::TruthsPrompt {
        plan: &env.plan,
        base: &env.run_base,
        head,
        stat: &stat,
        diff: &diff,
        automated: &ran,
        answer_path: &answer_path,
        timeout_secs: env.options.verify_timeout.as_secs(),
    }
    .build();
    // A limit of the agent is no answer: the verifier holds ([`VerifierHolds`]) and is asked
    // again, under the same attempt.
    let answer = loop {
        holds.wait(env).await?;
        env.attempt_started(TASK, 1, TASK, worktree.to_string_lossy().into_owned(), head, Some(AgentRole::Verify))?;
        let launch = Launch {
            task: TASK.to_owned(),
            attempt: 1,
            role: AgentRole::Verify,
            model: env.model_for(TASK, AgentRole::Verify),
            prompt: prompt.clone(),
            name: format!("{TASK}-1"),
            log_part: "agent".into(),
            skills: Vec::new(),
            verify_commands: env.plan.verification.automated.iter().map(|c| c.command.clone()).collect(),
        };
        break match ask_for_answer(env, worktree, head, &answer_path, launch).await? {
            Answered::Not(why) => Err(format!("no answer: the verifier {why}")),
            Answered::Text(text) => evidence::review::parse_truths(&text)
                .map_err(|error| format!("no answer: the verifier's answer `{answer_path}` {error}")),
            Answered::Limited(limit) => match holds.limited(env, TASK, 1, limit).await? {
                Ok(()) => continue,
                Err(failed) => Err(format!("no answer: the verifier failed as limited: {failed}")),
            },
        };
    };
    let truths: Vec<String> = env.plan.must_haves.truths.iter().map(|t| t.value.clone()).collect();
    let mut reruns = HashMap::new();
    let mut lines = HashMap::new();
    if let Ok(answers) = &answer {
        for (index, command) in crate::verify::commands_to_rerun(&truths, answers).into_iter().enumerate() {
            env.emitter.emit(Event::VerifyStarted { task: TASK.to_owned(), attempt: 1, command: command.clone() })?;
            let process = format!("evidence-{}", index + 1);
            let log = env.layout.log(TASK, 1, &process);
            let spec = process::Spec {
                // The agent chose this command: it runs with what an agent may see, not the user's secrets.
                inherit: Some(crate::agent::BASE_ENV.iter().map(|p| (*p).to_owned()).collect()),
                ..process::Spec::shell(
                    &command,
                    worktree,
                    env.env_in(worktree),
                    env.options.verify_timeout,
                    log.clone(),
                )
            };
            let outcome = env
                .run_confined(spec, TASK, 1, &process)
                .await?
                .map_err(|reason| EngineError::Io(std::io::Error::other(reason)))?
                .outcome;
            env.emitter.emit(Event::VerifyFinished {
                task: TASK.to_owned(),
                attempt: 1,
                command: command.clone(),
                passed: outcome.success(),
                exit_code: outcome.code,
                duration_ms: outcome.duration.as_millis() as u64,
            })?;
            if outcome.cancelled {
                return Err(EngineError::Cancelled);
            }
            let output =
                tokio::fs::read(&log).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            let rerun = crate::verify::Rerun { succeeded: outcome.success(), ended: outcome.ended(), output };
            reruns.insert(command, rerun);
        }
        lines = line_counts(&env.repo, head, &crate::verify::places_to_check(&truths, answers)).await;
    }
    Ok(crate::verify::truth_verdicts(&truths, &answer, |path| lines.get(path).copied(), &reruns))
}

//! Best of N: a task that asks for N attempts at once (`Attempts: N parallel` in the plan, or
//! `run --best-of N --tasks 2.1`) runs N candidates side by side, each an attempt of its own
//! (its own number, log, events and tokens) in its own worktree, each with its agent and then
//! its Verify commands, which wavecrew runs. [`choose`] picks the winner by evidence; only it
//! lands, through the one landing path ([`crate::integrate::Landing`]), with the plan's commit
//! message: never a merge of candidates. Every candidate's commit stays inspectable as the ref
//! `refs/wavecrew/<run>/<task>/candidate-<n>`, the winner's too.
//!
//! - **Slots and lanes.** A best-of task holds one of `-j`'s slots and its lane, as any task;
//!   its N candidates run within it (their events name the task's lane), candidate 1 in the
//!   lane's worktree, the others in worktrees of the pool prepared as lanes of their own
//!   (`Worker A candidate 2`), so that their build outputs (`CARGO_TARGET_DIR`) are never
//!   shared while they run. A run with a
//!   best-of task thus runs up to N - 1 agents more than `-j`.
//! - **One round.** The N candidates are the task's attempts: when none passes Verify, the task
//!   fails with every candidate's reason (`--attempts` adds no round). When every passing
//!   candidate conflicts with work that landed meanwhile, a new round runs on the new head, up
//!   to `conflict_retries` times: a conflict is not the agents' failure.
//! - **Resume.** A candidate that finished before the run stopped (its `candidate_finished` is
//!   journaled, its commit in its ref) is judged as it was; only the unfinished ones run again,
//!   as new attempts under their candidate numbers.

pub(crate) mod choose;

use crate::attempt::{self, Work};
use crate::ctx::RunCtx;
use crate::error::EngineError;
use crate::events::{ActivityKind, CandidateEnd, CandidateVerdict, Envelope, Event};
use crate::integrate::{self, Landed, Trailer};
use crate::{prompt, worktree};
use choose::Evidence;
use std::collections::BTreeMap;
use std::path::Path;

/// How many candidates `task` runs at once when it is a best-of task (2 or more): `--best-of`
/// naming it wins over its own `Attempts: N parallel`.
pub(crate) fn candidates(task: &plan::Task, options: &crate::options::Options) -> Option<u32> {
    let own = task.attempts.as_ref().map(|a| a.value).filter(|a| a.parallel).map(|a| a.count);
    let count = options.best_of.get(&task.id.to_string()).copied().or(own)?;
    (count > 1).then_some(u32::from(count))
}

/// One candidate's end: what `candidate_finished` journals, and what the choice reads.
type Finished = CandidateEnd;

/// What the choice weighs of a candidate.
fn evidence(finished: &Finished) -> Evidence {
    Evidence {
        candidate: finished.candidate,
        passed: finished.verdict == CandidateVerdict::Passed && finished.commit.is_some(),
        outside_lines: finished.outside_lines,
        diff_lines: finished.diff_lines,
        tokens: finished.tokens,
    }
}

/// The `candidate_finished` event of `task`'s candidate.
fn event(task: &str, finished: &Finished) -> Event {
    Event::CandidateFinished { task: task.to_owned(), end: finished.clone() }
}

/// A candidate that ended before it had a commit to judge.
fn failed(candidate: u32, attempt: u32, base: &str, reason: String) -> Finished {
    Finished {
        candidate,
        attempt,
        verdict: CandidateVerdict::Failed,
        commit: None,
        base: base.to_owned(),
        reference: None,
        outside_lines: 0,
        diff_lines: 0,
        tokens: 0,
        reason: Some(reason),
    }
}

/// The candidates of `task`'s last round that finished before the run stopped, by candidate
/// number: nothing when that round ended (the task landed or failed) or there was none.
fn kept(events: &[Envelope], task: &str) -> BTreeMap<u32, Finished> {
    let mut kept = BTreeMap::new();
    let mut round: Vec<u32> = Vec::new();
    for envelope in events.iter().filter(|e| e.event.task() == Some(task)) {
        match &envelope.event {
            Event::CandidatesStarted { attempts, .. } => {
                // A new round (or the same one, resumed): it lists the kept candidates' attempts.
                round.clone_from(attempts);
                kept.retain(|_, f: &mut Finished| round.contains(&f.attempt));
            }
            Event::CandidateFinished { end, .. } if round.contains(&end.attempt) => {
                kept.insert(end.candidate, end.clone());
            }
            Event::TaskCommitted { .. } | Event::TaskFailed { .. } => {
                round.clear();
                kept.clear();
            }
            _ => {}
        }
    }
    kept
}

/// The tokens attempt `attempt` of `task` used, as its agent reported them.
fn tokens(events: &[Envelope], task: &str, attempt: u32) -> u64 {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AgentActivity { task: t, attempt: a, kind: ActivityKind::Usage, tokens_in, tokens_out, .. }
                if t == task && *a == attempt =>
            {
                Some(tokens_in.unwrap_or(0) + tokens_out.unwrap_or(0))
            }
            _ => None,
        })
        .sum()
}

/// Runs best-of task `task` (`count` candidates) to its end: `true` once its winner landed,
/// `false` when it failed for good (journaled). `worktree` is its lane's, for candidate 1.
pub(crate) async fn run_task(
    ctx: &RunCtx,
    task: &plan::Task,
    lane: &str,
    worktree: &Path,
    first_attempt: u32,
    count: u32,
) -> Result<bool, EngineError> {
    let env = &ctx.env;
    let id = task.id.to_string();
    let mut kept = kept(&ctx.journal.events(&env.run_id, 0)?, &id);
    kept.retain(|&candidate, _| candidate <= count);
    let mut next_attempt = first_attempt;
    let mut conflicts = 0;
    loop {
        if env.cancelled() {
            return Err(EngineError::Cancelled);
        }
        let attempts: Vec<u32> = (1..=count)
            .map(|candidate| match kept.get(&candidate) {
                Some(finished) => finished.attempt,
                None => {
                    next_attempt += 1;
                    next_attempt - 1
                }
            })
            .collect();
        env.emitter.emit(Event::CandidatesStarted {
            task: id.clone(),
            attempts: attempts.clone(),
            kept: kept.keys().copied().collect(),
        })?;
        let base = ctx.landing.base().await?;
        let runs = (1..=count).filter(|candidate| !kept.contains_key(candidate)).map(|candidate| {
            run_candidate(ctx, task, lane, worktree, candidate, attempts[candidate as usize - 1], &base)
        });
        // Every candidate runs to its end before an error (a cancel) is passed on: what
        // finished is journaled, and a resume keeps it.
        let ended = futures_util::future::join_all(runs).await;
        let mut finished: Vec<Finished> = std::mem::take(&mut kept).into_values().collect();
        for candidate in ended {
            finished.push(candidate?);
        }
        finished.sort_by_key(|f| f.candidate);
        let evidence: Vec<Evidence> = finished.iter().map(evidence).collect();
        let ranked = choose::rank(&evidence);
        let last_attempt = attempts.iter().copied().max().unwrap_or(first_attempt);
        if ranked.is_empty() {
            let reasons: Vec<String> = finished
                .iter()
                .map(|f| {
                    let reason = f.reason.as_deref().unwrap_or("its Verify did not pass");
                    format!("candidate {} (attempt {}): {reason}", f.candidate, f.attempt)
                })
                .collect();
            let reason = format!("no candidate of {count} passed Verify:\n{}", reasons.join("\n"));
            env.emitter.emit(Event::TaskFailed { task: id, attempts: last_attempt, reason })?;
            return Ok(false);
        }
        let ranking: Vec<u32> = ranked.iter().map(|e| e.candidate).collect();
        let failed = finished.len() - ranked.len();
        let message = integrate::message(&prompt::commit_subject(&env.plan, task), Trailer::Task(&id), &env.run_id);
        let mut conflicted: Vec<String> = Vec::new();
        for (place, winner) in ranked.iter().enumerate() {
            let Some(chosen) = finished.iter().find(|f| f.candidate == winner.candidate) else { continue };
            let Some(commit) = &chosen.commit else { continue };
            let mut why = choose::why(winner, ranked.get(place + 1).copied(), failed);
            if !conflicted.is_empty() {
                why.push_str(&format!(
                    "; before it, {} conflict with work that landed meanwhile",
                    conflicted.join(", ")
                ));
            }
            env.emitter.emit(Event::CandidateChosen {
                task: id.clone(),
                candidate: chosen.candidate,
                attempt: chosen.attempt,
                ranking: ranking.clone(),
                why,
            })?;
            match ctx.landing.task(&env.emitter, &id, chosen.attempt, &chosen.base, commit, &message).await? {
                Landed::Committed(_) => return Ok(true),
                Landed::Conflict(paths) => {
                    conflicted.push(format!("candidate {} (in {})", chosen.candidate, paths.join(", ")));
                }
            }
        }
        let reason = format!(
            "every candidate that passed Verify conflicts with work that landed meanwhile: {}",
            conflicted.join("; ")
        );
        if conflicts >= env.options.conflict_retries {
            env.emitter.emit(Event::TaskFailed { task: id, attempts: last_attempt, reason })?;
            return Ok(false);
        }
        conflicts += 1;
        env.emitter.emit(Event::AttemptFailed { task: id.clone(), attempt: last_attempt, reason })?;
    }
}

/// Where and as what one candidate runs.
struct Seat<'a> {
    candidate: u32,
    attempt: u32,
    /// The task's lane: what its events name.
    lane: &'a str,
    /// The lane its worktree is prepared for (its build outputs): the task's lane for
    /// candidate 1, one of its own for the others, so that no two share a `CARGO_TARGET_DIR`.
    worktree_lane: &'a str,
    worktree: &'a Path,
    base: &'a str,
}

/// Runs candidate `candidate` (attempt `attempt`) on `base`: in the lane's worktree when it is
/// candidate 1, else in one of the pool's, given back after.
async fn run_candidate(
    ctx: &RunCtx,
    task: &plan::Task,
    lane: &str,
    lane_worktree: &Path,
    candidate: u32,
    attempt: u32,
    base: &str,
) -> Result<Finished, EngineError> {
    let seat = |worktree_lane, worktree| Seat { candidate, attempt, lane, worktree_lane, worktree, base };
    if candidate == 1 {
        return candidate_in(ctx, task, &seat(lane, lane_worktree)).await;
    }
    let own_lane = format!("{lane} candidate {candidate}");
    let worktree = ctx.pool.take(&own_lane, &ctx.env.lanes.dir).await;
    let finished = candidate_in(ctx, task, &seat(&own_lane, &worktree)).await;
    ctx.pool.give_back(&own_lane, worktree).await;
    finished
}

/// One candidate in its seat: its agent, its commit (kept as its ref) and what it changed,
/// then its Verify commands; journaled as `candidate_finished`.
async fn candidate_in(ctx: &RunCtx, task: &plan::Task, seat: &Seat<'_>) -> Result<Finished, EngineError> {
    let env = &ctx.env;
    let id = task.id.to_string();
    let (candidate, attempt, base) = (seat.candidate, seat.attempt, seat.base);
    let finished = match agent_and_commit(ctx, task, seat).await? {
        Err(reason) => failed(candidate, attempt, base, reason),
        Ok((commit, reference)) => {
            let numstat = env.repo.run(&["diff", "--numstat", "--no-renames", base, &commit]).await?;
            let (outside_lines, diff_lines) = choose::measure(&numstat, |path| plan::files_name(&task.files, path));
            let (verdict, reason) = match attempt::verify(&ctx.env, task, attempt, seat.worktree).await? {
                None | Some(Work::Tree(_)) => (CandidateVerdict::Passed, None),
                Some(Work::Failed(reason)) => (CandidateVerdict::Failed, Some(reason)),
                Some(Work::VerifyTimedOut(reason)) => (CandidateVerdict::VerifyTimedOut, Some(reason)),
            };
            Finished {
                candidate,
                attempt,
                verdict,
                commit: Some(commit),
                base: base.to_owned(),
                reference: Some(reference),
                outside_lines,
                diff_lines,
                tokens: 0,
                reason,
            }
        }
    };
    let finished = Finished { tokens: tokens(&ctx.journal.events(&env.run_id, 0)?, &id, attempt), ..finished };
    env.emitter.emit(event(&id, &finished))?;
    Ok(finished)
}

/// Prepares the seat's worktree at its base, runs the agent, and commits what it left on the
/// base with the plan's message, kept as the candidate's ref: `(commit, ref)`, or why there is
/// none.
async fn agent_and_commit(
    ctx: &RunCtx,
    task: &plan::Task,
    seat: &Seat<'_>,
) -> Result<Result<(String, String), String>, EngineError> {
    let env = &ctx.env;
    let id = task.id.to_string();
    let (worktree, base, attempt) = (seat.worktree, seat.base, seat.attempt);
    if let Some(failure) = worktree::prepare(env, &id, seat.worktree_lane, worktree, base).await? {
        return Ok(Err(failure));
    }
    env.attempt_started(&id, attempt, seat.lane, worktree.to_string_lossy().into_owned(), base, None)?;
    let exited = match attempt::run_agent(env, task, attempt, worktree, None).await? {
        Ok(exited) => exited,
        Err(reason) => return Ok(Err(reason)),
    };
    let tree = match attempt::snapshot(env, exited, worktree).await? {
        Ok(tree) => tree,
        Err(reason) => return Ok(Err(reason)),
    };
    let message = integrate::message(&prompt::commit_subject(&env.plan, task), Trailer::Task(&id), &env.run_id);
    let commit = env.repo.commit_tree(&tree, base, &message).await?;
    let reference = format!("refs/wavecrew/{}/{id}/candidate-{}", env.run_id, seat.candidate);
    env.repo.run(&["update-ref", &reference, &commit]).await?;
    Ok(Ok((commit, reference)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(seq: u64, event: Event) -> Envelope {
        Envelope { run: "r".into(), seq, at_ms: seq, event }
    }

    fn finished(candidate: u32, attempt: u32) -> Finished {
        Finished {
            candidate,
            attempt,
            verdict: CandidateVerdict::Passed,
            commit: Some(format!("c{candidate}")),
            base: "b".into(),
            reference: Some(format!("refs/wavecrew/r/2.1/candidate-{candidate}")),
            outside_lines: 0,
            diff_lines: 3,
            tokens: 10,
            reason: None,
        }
    }

    fn started(attempts: &[u32], kept: &[u32]) -> Event {
        Event::CandidatesStarted { task: "2.1".into(), attempts: attempts.to_vec(), kept: kept.to_vec() }
    }

    #[test]
    fn a_resume_keeps_the_candidates_of_the_unfinished_round_that_finished() {
        let events = [
            envelope(1, started(&[1, 2, 3], &[])),
            envelope(2, event("2.1", &finished(2, 2))),
            envelope(3, event("2.2", &finished(1, 1))), // another task's
        ];
        let kept = kept(&events, "2.1");
        assert_eq!(kept.keys().copied().collect::<Vec<_>>(), [2]);
        assert_eq!(kept[&2], finished(2, 2));
    }

    #[test]
    fn a_resumed_round_keeps_what_it_kept_and_what_finished_since() {
        let events = [
            envelope(1, started(&[1, 2, 3], &[])),
            envelope(2, event("2.1", &finished(2, 2))),
            // Resumed: candidates 1 and 3 run again as attempts 4 and 5.
            envelope(3, started(&[4, 2, 5], &[2])),
            envelope(4, event("2.1", &finished(3, 5))),
        ];
        assert_eq!(kept(&events, "2.1").keys().copied().collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn a_round_that_ended_keeps_nothing() {
        let failed = Event::TaskFailed { task: "2.1".into(), attempts: 3, reason: "none passed".into() };
        let events =
            [envelope(1, started(&[1, 2], &[])), envelope(2, event("2.1", &finished(1, 1))), envelope(3, failed)];
        assert!(kept(&events, "2.1").is_empty());
        // A new round (after conflicts) forgets the candidates of the one before.
        let events = [
            envelope(1, started(&[1, 2], &[])),
            envelope(2, event("2.1", &finished(1, 1))),
            envelope(3, started(&[3, 4], &[])),
        ];
        assert!(kept(&events, "2.1").is_empty());
    }

    #[test]
    fn tokens_are_those_of_the_candidates_own_attempt() {
        let usage = |attempt, tokens_in| Event::AgentActivity {
            task: "2.1".into(),
            attempt,
            kind: ActivityKind::Usage,
            detail: String::new(),
            tokens_in: Some(tokens_in),
            tokens_out: Some(5),
            cost_usd: None,
        };
        let events = [envelope(1, usage(1, 100)), envelope(2, usage(2, 40)), envelope(3, usage(1, 10))];
        assert_eq!(tokens(&events, "2.1", 1), 120);
        assert_eq!(tokens(&events, "2.1", 2), 45);
        assert_eq!(tokens(&events, "2.1", 3), 0);
    }
}

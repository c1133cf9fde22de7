//! The report of a run, from the journal: Markdown for people, JSON for tools, JUnit XML for
//! CI dashboards (one test case per task and per Verify command). Both the Markdown and the
//! JSON carry the run's [`Timeline`]: the Markdown its numbers, the JSON all of it.

use crate::events::{
    ActivityKind, AnswerKind, AutomatedResult, AutomatedStatus, CandidateVerdict, Envelope, Event, GateFinding,
    GateMetric, GateVerdict, MustHaveVerdict, RunVerdict, TaskState,
};
use crate::journal::{Journal, JournalError, RunRecord, TaskRecord};
use crate::settings::Recorded;
use crate::timeline::{Timeline, Waits};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

mod models;
pub use models::ModelSpend;

/// A Verify command's last result for a task.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyResult {
    /// The command.
    pub command: String,
    /// Whether it exited 0.
    pub passed: bool,
    /// Its exit code.
    pub exit_code: Option<i32>,
    /// How long it took.
    pub duration_ms: u64,
}

/// One task in the report: its journal row, how long it took and its last Verify results.
#[derive(Clone, Debug, Serialize)]
pub struct TaskReport {
    /// The journal's row.
    #[serde(flatten)]
    pub record: TaskRecord,
    /// Time from its first attempt's start to its end.
    pub duration_ms: u64,
    /// The model its last attempt ran on (its Agent Strategy row's, or one it escalated to),
    /// when one was named: for a committed task, the model that landed it.
    pub model: Option<String>,
    /// The agent its last attempt ran on.
    pub agent: Option<String>,
    /// The Verify commands of its last attempt.
    pub verify: Vec<VerifyResult>,
    /// Tokens its agents read, over all attempts.
    pub tokens_in: u64,
    /// Tokens its agents wrote, over all attempts.
    pub tokens_out: u64,
    /// What its agents cost, over all attempts, when known.
    pub cost_usd: Option<f64>,
    /// A best-of task's candidates (of its last round), by number; empty for other tasks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<CandidateReport>,
}

/// A candidate of a best-of task, as `candidate_finished` and `candidate_chosen` told it.
#[derive(Clone, Debug, Serialize)]
pub struct CandidateReport {
    /// Its number, from 1.
    pub candidate: u32,
    /// The attempt it ran as.
    pub attempt: u32,
    /// Passed, failed, or its Verify timed out.
    pub verdict: CandidateVerdict,
    /// Whether it was chosen to land.
    pub chosen: bool,
    /// Why it was chosen (the chosen one only).
    pub why: Option<String>,
    /// Its commit, kept as `reference`.
    pub commit: Option<String>,
    /// `refs/wavecrew/<run>/<task>/candidate-<n>`.
    pub reference: Option<String>,
    /// Lines it changes outside the task's Files.
    pub outside_lines: u64,
    /// Lines it changes in all.
    pub diff_lines: u64,
    /// Tokens its agent used.
    pub tokens: u64,
    /// Why it failed.
    pub reason: Option<String>,
}

/// An operation the sandbox refused one of a task's processes (a `sandbox_denied` event).
#[derive(Clone, Debug, Serialize)]
pub struct SandboxDenial {
    /// The task (`verification` for the final check).
    pub task: String,
    /// Its attempt (a gate's round).
    pub attempt: u32,
    /// The process: `agent`, `verify-1`, `gate-<skill>-<n>`, `automated-1`, `evidence-1`.
    pub process: String,
    /// A write or a connect.
    pub operation: crate::events::SandboxOperation,
    /// What it tried to write, or to reach (`host:port`).
    pub path: String,
}

/// The name `wavecrew approve RUN manual` answers: the Manual checklist of Verification.
pub const MANUAL: &str = "manual";

/// A checkpoint's answer.
#[derive(Clone, Debug, Serialize)]
pub struct CheckpointAnswer {
    /// The checkpoint task.
    pub task: String,
    /// Approved, rejected or decided.
    pub answer: AnswerKind,
    /// The note, the reason or the option.
    pub detail: Option<String>,
    /// Whether `--auto-approve` gave it, not a person.
    pub auto: bool,
    /// The change a human-verify checkpoint's answer was about.
    pub commit: Option<String>,
}

/// A gate skill's checks of one gate task: every round in order, the last one also in the
/// top-level fields (what `report.json` held before rounds were kept, and what `gaps` reads).
#[derive(Clone, Debug, Serialize)]
pub struct GateReport {
    /// The gate task.
    pub task: String,
    /// The skill whose checks ran.
    pub skill: String,
    /// The round of this check (1: before any fix).
    pub round: u32,
    /// Green, red, or unverified (nothing found wrong, but not everything asked for checked).
    pub verdict: GateVerdict,
    /// Whether its checks found nothing wrong.
    pub passed: bool,
    /// What it found.
    pub findings: Vec<GateFinding>,
    /// What it measured, with sources.
    pub metrics: Vec<GateMetric>,
    /// What it could not check, where its Done does not ask for it.
    pub notes: Vec<String>,
    /// What its Done asks for and it could not check, and why: a person signs it off.
    pub unverified: Vec<String>,
    /// Every round of this skill's checks, in the order they ran, the last one included.
    pub rounds: Vec<GateRound>,
}

/// One round of a gate skill's checks, and the fix that followed it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateRound {
    /// The round (1: before any fix).
    pub round: u32,
    /// Green, red, or unverified (nothing found wrong, but not everything asked for checked).
    pub verdict: GateVerdict,
    /// Whether it was green.
    pub passed: bool,
    /// What its Done asks for and it could not check, and why.
    pub unverified: Vec<String>,
    /// What it found.
    pub findings: Vec<GateFinding>,
    /// What it measured, with sources.
    pub metrics: Vec<GateMetric>,
    /// What it could not check, where its Done does not ask for it.
    pub notes: Vec<String>,
    /// The commit of the gate agent's fix of this round's findings, when one landed.
    pub fix_commit: Option<String>,
}

impl GateReport {
    /// A gate skill's report after its first check.
    fn first(task: &str, skill: &str, checked: GateRound) -> GateReport {
        let mut gate = GateReport {
            task: task.to_owned(),
            skill: skill.to_owned(),
            round: 0,
            verdict: checked.verdict,
            passed: false,
            findings: Vec::new(),
            metrics: Vec::new(),
            notes: Vec::new(),
            unverified: Vec::new(),
            rounds: Vec::new(),
        };
        gate.record(checked);
        gate
    }

    /// Adds a round: it becomes the last check.
    fn record(&mut self, checked: GateRound) {
        self.round = checked.round;
        self.verdict = checked.verdict;
        self.passed = checked.passed;
        self.unverified.clone_from(&checked.unverified);
        self.findings.clone_from(&checked.findings);
        self.metrics.clone_from(&checked.metrics);
        self.notes.clone_from(&checked.notes);
        self.rounds.push(checked);
    }
}

/// The check of the finished run branch.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// Passed, failed or unverified.
    pub verdict: RunVerdict,
    /// A verdict per must_have.
    pub must_haves: Vec<MustHaveVerdict>,
    /// The Verification / Automated commands.
    pub automated: Vec<AutomatedResult>,
    /// The Manual checklist.
    pub manual: Vec<String>,
    /// Whether a person signed the Manual checklist off (`wavecrew approve RUN manual`).
    pub manual_signed_off: bool,
}

/// A run's report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The run's id.
    pub run: String,
    /// Milestone and title.
    pub milestone: String,
    /// The plan's title.
    pub title: String,
    /// `running`, `succeeded`, `failed`, `cancelled`.
    pub state: String,
    /// The run branch and where it started.
    pub branch: String,
    /// The base commit.
    pub base: String,
    /// Wall time so far.
    pub duration_ms: u64,
    /// Every task, in plan order.
    pub tasks: Vec<TaskReport>,
    /// Every checkpoint answer, in order, auto-approvals included.
    pub checkpoints: Vec<CheckpointAnswer>,
    /// Each gate skill's checks, per gate task: the last round, and every round in order.
    pub gates: Vec<GateReport>,
    /// The check of the finished run branch, once every task landed.
    pub verification: Option<Verification>,
    /// Where the run's time went: makespan, critical-path bound, lanes, waits, and every bar.
    pub timeline: Timeline,
    /// What the sandbox refused the run's processes, in order.
    pub sandbox_denied: Vec<SandboxDenial>,
    /// The pull (merge) request `wavecrew ship` opened, once it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<String>,
    /// What the attempts on each agent and model came to, and which tasks landed on each.
    pub models: Vec<ModelSpend>,
}

impl Report {
    /// Builds the report of `run` from the journal.
    pub fn load(journal: &Journal, run: &RunRecord) -> Result<Report, JournalError> {
        let tasks = journal.tasks(&run.id)?;
        let events = journal.events(&run.id, 0)?;
        Ok(Report::build(run, &tasks, &events))
    }

    /// Builds the report of `run` from its task rows and its events.
    pub fn build(run: &RunRecord, tasks: &[TaskRecord], events: &[Envelope]) -> Report {
        let mut started: HashMap<&str, u64> = HashMap::new();
        let mut ended: HashMap<&str, u64> = HashMap::new();
        let mut verify: HashMap<&str, (u32, Vec<VerifyResult>)> = HashMap::new();
        let mut checkpoints = Vec::new();
        let mut gates: Vec<GateReport> = Vec::new();
        let mut verification = None;
        let mut manual_signed_off = false;
        let mut usage: HashMap<&str, (u64, u64, Option<f64>)> = HashMap::new();
        let mut models: HashMap<&str, Option<String>> = HashMap::new();
        let mut candidates: HashMap<&str, Vec<CandidateReport>> = HashMap::new();
        // Every attempt's Verify results: a best-of task's candidates run theirs side by side,
        // and the task shows its chosen candidate's.
        let mut verify_of: HashMap<(&str, u32), Vec<VerifyResult>> = HashMap::new();
        let mut sandbox_denied = Vec::new();
        let mut pull_request = None;
        for envelope in events {
            match &envelope.event {
                Event::RunShipped { url, .. } => pull_request = Some(url.clone()),
                Event::CandidatesStarted { task, kept, .. } => {
                    // A new round starts afresh; a resumed one keeps what had finished.
                    candidates.entry(task).or_default().retain(|c| kept.contains(&c.candidate));
                }
                Event::CandidateFinished { task, end } => {
                    let list = candidates.entry(task).or_default();
                    list.retain(|c| c.candidate != end.candidate);
                    list.push(CandidateReport {
                        candidate: end.candidate,
                        attempt: end.attempt,
                        verdict: end.verdict.clone(),
                        chosen: false,
                        why: None,
                        commit: end.commit.clone(),
                        reference: end.reference.clone(),
                        outside_lines: end.outside_lines,
                        diff_lines: end.diff_lines,
                        tokens: end.tokens,
                        reason: end.reason.clone(),
                    });
                    list.sort_by_key(|c| c.candidate);
                }
                Event::CandidateChosen { task, candidate, attempt, why, .. } => {
                    let results = verify_of.get(&(task.as_str(), *attempt)).cloned().unwrap_or_default();
                    verify.insert(task, (*attempt, results));
                    for c in candidates.entry(task).or_default() {
                        c.chosen = c.candidate == *candidate;
                        c.why = c.chosen.then(|| why.clone());
                    }
                }
                Event::AgentActivity { task, kind: ActivityKind::Usage, tokens_in, tokens_out, cost_usd, .. } => {
                    let entry = usage.entry(task).or_insert((0, 0, None));
                    entry.0 += tokens_in.unwrap_or(0);
                    entry.1 += tokens_out.unwrap_or(0);
                    if let Some(cost) = cost_usd {
                        entry.2 = Some(entry.2.unwrap_or(0.0) + cost);
                    }
                }
                Event::GateChecked { task, round, skill, passed, findings, metrics, notes, unverified } => {
                    let checked = GateRound {
                        round: *round,
                        verdict: GateVerdict::of(*passed, unverified),
                        passed: *passed,
                        unverified: unverified.clone(),
                        findings: findings.clone(),
                        metrics: metrics.clone(),
                        notes: notes.clone(),
                        fix_commit: None,
                    };
                    match gates.iter_mut().find(|g| g.task == *task && g.skill == *skill) {
                        Some(gate) => gate.record(checked),
                        None => gates.push(GateReport::first(task, skill, checked)),
                    }
                }
                // One fix answers the findings of every skill of the gate's round.
                Event::GateFixCommitted { task, round, commit } => {
                    for gate in gates.iter_mut().filter(|g| g.task == *task) {
                        // The latest check of that round: a resumed run checks its gates afresh.
                        if let Some(checked) = gate.rounds.iter_mut().rev().find(|r| r.round == *round) {
                            checked.fix_commit = Some(commit.clone());
                        }
                    }
                }
                Event::RunVerified { verdict, must_haves, automated, manual } => {
                    verification = Some(Verification {
                        verdict: verdict.clone(),
                        must_haves: must_haves.clone(),
                        automated: automated.clone(),
                        manual: manual.clone(),
                        manual_signed_off: false,
                    });
                }
                Event::CheckpointAnswered { task, answer: AnswerKind::Approved, .. } if task == MANUAL => {
                    manual_signed_off = true;
                }
                Event::CheckpointAnswered { task, answer, detail, auto, commit } => {
                    checkpoints.push(CheckpointAnswer {
                        task: task.clone(),
                        answer: answer.clone(),
                        detail: detail.clone(),
                        auto: *auto,
                        commit: commit.clone(),
                    })
                }
                Event::AttemptStarted { task, attempt, model, role, .. } => {
                    if role.is_none() {
                        models.insert(task, model.clone());
                    }
                    started.entry(task).or_insert(envelope.at_ms);
                    verify.insert(task, (*attempt, Vec::new()));
                }
                Event::VerifyFinished { task, attempt, command, passed, exit_code, duration_ms } => {
                    let result = VerifyResult {
                        command: command.clone(),
                        passed: *passed,
                        exit_code: *exit_code,
                        duration_ms: *duration_ms,
                    };
                    verify_of.entry((task, *attempt)).or_default().push(result.clone());
                    if let Some((_, results)) = verify.get_mut(task.as_str()).filter(|(a, _)| a == attempt) {
                        results.push(result);
                    }
                }
                Event::TaskCommitted { task, .. } | Event::TaskFailed { task, .. } => {
                    ended.insert(task, envelope.at_ms);
                }
                Event::SandboxDenied { task, attempt, process, operation, path } => {
                    sandbox_denied.push(SandboxDenial {
                        task: task.clone(),
                        attempt: *attempt,
                        process: process.clone(),
                        operation: operation.clone(),
                        path: path.clone(),
                    });
                }
                _ => {}
            }
        }
        let last = events.last().map_or(run.started_ms, |e| e.at_ms);
        let starts = models::starts(events);
        let tasks = tasks
            .iter()
            .map(|t| TaskReport {
                record: t.clone(),
                duration_ms: match (started.get(t.task.as_str()), ended.get(t.task.as_str())) {
                    (Some(s), Some(e)) => e.saturating_sub(*s),
                    _ => 0,
                },
                model: models.get(t.task.as_str()).cloned().flatten(),
                agent: starts.get(&(t.task.as_str(), t.attempts)).map(|(agent, _)| (*agent).to_owned()),
                verify: verify.remove(t.task.as_str()).map(|(_, v)| v).unwrap_or_default(),
                tokens_in: usage.get(t.task.as_str()).map_or(0, |u| u.0),
                tokens_out: usage.get(t.task.as_str()).map_or(0, |u| u.1),
                cost_usd: usage.get(t.task.as_str()).and_then(|u| u.2),
                candidates: candidates.remove(t.task.as_str()).unwrap_or_default(),
            })
            .collect();
        Report {
            run: run.id.clone(),
            milestone: run.milestone.clone(),
            title: run.title.clone(),
            state: run.state.as_str().to_owned(),
            branch: run.branch.clone(),
            base: run.base.clone(),
            duration_ms: run.finished_ms.unwrap_or(last).saturating_sub(run.started_ms),
            tasks,
            checkpoints,
            gates,
            verification: verification.map(|v| Verification { manual_signed_off, ..v }),
            timeline: Timeline::build(events, &waits_of(run)),
            sandbox_denied,
            pull_request,
            models: models::by_model(events, &starts),
        }
    }

    fn count(&self, state: TaskState) -> usize {
        self.tasks.iter().filter(|t| t.record.state == state).count()
    }

    /// The report in Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Run {}: {} · {}\n", self.run, self.milestone, self.title);
        let _ = writeln!(
            out,
            "**{}** on `{}` (from `{}`): {} committed, {} failed, {} skipped of {} tasks in {:.1}s.\n",
            self.state,
            self.branch,
            &self.base[..self.base.len().min(10)],
            self.count(TaskState::Committed),
            self.count(TaskState::Failed),
            self.count(TaskState::Skipped),
            self.tasks.len(),
            self.duration_ms as f64 / 1000.0
        );
        if let Some(url) = &self.pull_request {
            let _ = writeln!(out, "Pull request: {url}\n");
        }
        let tokens: (u64, u64) = self.tasks.iter().fold((0, 0), |acc, t| (acc.0 + t.tokens_in, acc.1 + t.tokens_out));
        let costs: Vec<f64> = self.tasks.iter().filter_map(|t| t.cost_usd).collect();
        if tokens != (0, 0) {
            let cost = if costs.is_empty() { String::new() } else { format!(", ${:.4}", costs.iter().sum::<f64>()) };
            let _ = writeln!(out, "Agents used {} tokens in and {} out{cost}.\n", tokens.0, tokens.1);
        }
        let _ =
            writeln!(out, "| Task | State | Attempts | Lane | Model | Commit | Time | Verify | Tokens in/out | Cost |");
        let _ =
            writeln!(out, "|------|-------|----------|------|-------|--------|------|--------|---------------|------|");
        for t in &self.tasks {
            let passed = t.verify.iter().filter(|v| v.passed).count();
            let verify =
                if t.verify.is_empty() { "-".to_owned() } else { format!("{passed}/{} passed", t.verify.len()) };
            let cost = t.cost_usd.map_or("-".to_owned(), |c| format!("${c:.4}"));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {:.1}s | {} | {}/{} | {cost} |",
                t.record.task,
                t.record.state.as_str(),
                t.record.attempts,
                t.record.lane.as_deref().unwrap_or("-"),
                t.model.as_deref().unwrap_or("-"),
                t.record.commit.as_deref().map_or("-", |c| &c[..c.len().min(10)]),
                t.duration_ms as f64 / 1000.0,
                verify,
                t.tokens_in,
                t.tokens_out
            );
        }
        if self.models.iter().any(|m| m.model.is_some()) {
            let _ = writeln!(out, "\n## Models\n");
            let _ = writeln!(out, "| Agent | Model | Attempts | Landed | Tokens in/out | Cost |");
            let _ = writeln!(out, "|-------|-------|----------|--------|---------------|------|");
            for m in &self.models {
                let landed = if m.landed.is_empty() { "-".to_owned() } else { m.landed.join(", ") };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {landed} | {}/{} | {} |",
                    m.agent,
                    m.model.as_deref().unwrap_or("default"),
                    m.attempts,
                    m.tokens_in,
                    m.tokens_out,
                    m.cost_usd.map_or("-".to_owned(), |c| format!("${c:.4}"))
                );
            }
        }
        if !self.timeline.bars.is_empty() {
            let _ = writeln!(out, "\n## Timeline\n");
            for line in self.timeline.summary() {
                let _ = writeln!(out, "- {line}");
            }
            let _ = writeln!(
                out,
                "\n`wavecrew report {} --timeline` draws it; `--trace FILE` writes it for Perfetto.",
                self.run
            );
        }
        let best_of: Vec<&TaskReport> = self.tasks.iter().filter(|t| !t.candidates.is_empty()).collect();
        if !best_of.is_empty() {
            let _ = writeln!(out, "\n## Best of N\n");
            for t in best_of {
                best_of_markdown(&mut out, t);
            }
        }
        if !self.checkpoints.is_empty() {
            let _ = writeln!(out, "\n## Checkpoints\n");
            for c in &self.checkpoints {
                let by = if c.auto { " by --auto-approve" } else { "" };
                let detail = c.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
                let commit =
                    c.commit.as_deref().map(|h| format!(" (commit `{}`)", &h[..h.len().min(10)])).unwrap_or_default();
                let _ = writeln!(out, "- {} {}{by}{commit}{detail}", c.task, c.answer);
            }
        }
        if !self.gates.is_empty() {
            let _ = writeln!(out, "\n## Gates\n");
            for gate in &self.gates {
                let verdict = match gate.verdict {
                    GateVerdict::Green => "green",
                    GateVerdict::Red => "red",
                    GateVerdict::Unverified => "unverified: needs a person",
                };
                let rounds = gate.rounds.len();
                let after = if rounds == 1 { String::new() } else { format!(" after {rounds} rounds") };
                let _ = writeln!(out, "### Task {} · {}: {verdict}{after}\n", gate.task, gate.skill);
                for checked in &gate.rounds {
                    gate_round_markdown(&mut out, checked);
                }
            }
        }
        if let Some(v) = &self.verification {
            let _ = writeln!(out, "\n## Verification: {}\n", v.verdict);
            if !v.must_haves.is_empty() {
                let _ = writeln!(out, "| must_have | Item | Verdict | Evidence |\n|---|---|---|---|");
                for m in &v.must_haves {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} |",
                        m.kind,
                        table_cell(&m.item),
                        m.verdict,
                        table_cell(&m.evidence)
                    );
                }
                let _ = writeln!(out);
            }
            for a in &v.automated {
                let expect = a.expectation.as_deref().map(|e| format!(" (expected: {e})")).unwrap_or_default();
                let first = a.detail.lines().next().unwrap_or_default();
                let _ = match a.status {
                    AutomatedStatus::Passed => writeln!(out, "- `{}`{expect}: passed ({first})", a.command),
                    AutomatedStatus::Failed => writeln!(out, "- `{}`{expect}: FAILED ({first})", a.command),
                    AutomatedStatus::Unchecked => {
                        writeln!(out, "- `{}`{expect}: unchecked, a person checks it ({first})", a.command)
                    }
                };
            }
            if !v.manual.is_empty() {
                let state = if v.manual_signed_off {
                    "signed off".to_owned()
                } else {
                    format!("to sign off with `wavecrew approve {} manual`", self.run)
                };
                let _ = writeln!(out, "\nManual checklist ({state}):\n");
                for (i, step) in v.manual.iter().enumerate() {
                    let mark = if v.manual_signed_off { "x" } else { " " };
                    let _ = writeln!(out, "{}. [{mark}] {step}", i + 1);
                }
            }
        }
        if !self.sandbox_denied.is_empty() {
            let _ = writeln!(out, "\n## Sandbox refusals\n");
            for denial in &self.sandbox_denied {
                let what = if denial.path.is_empty() { String::new() } else { format!(" {}", denial.path) };
                let _ = writeln!(
                    out,
                    "- Task {} (attempt {}, {}): {}{what}",
                    denial.task, denial.attempt, denial.process, denial.operation
                );
            }
            let _ = writeln!(out, "\nWhere agents may write, and how to widen it: docs/sandbox.md.");
        }
        let problems: Vec<&TaskReport> =
            self.tasks.iter().filter(|t| t.record.reason.is_some() && t.record.state != TaskState::Committed).collect();
        if !problems.is_empty() {
            let _ = writeln!(out, "\n## Problems\n");
            for t in problems {
                let _ = writeln!(
                    out,
                    "### Task {} ({})\n\n```\n{}\n```\n",
                    t.record.task,
                    t.record.state.as_str(),
                    t.record.reason.as_deref().unwrap_or("").trim_end()
                );
            }
        }
        out
    }

    /// The report as pretty JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// JUnit XML: a test case per task (failed, skipped, or passed) and per Verify command.
    pub fn junit(&self) -> String {
        let failures =
            self.count(TaskState::Failed) + self.tasks.iter().flat_map(|t| &t.verify).filter(|v| !v.passed).count();
        let cases = self.tasks.len() + self.tasks.iter().map(|t| t.verify.len()).sum::<usize>();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"wavecrew\" tests=\"{cases}\" failures=\"{failures}\" time=\"{:.3}\">",
            self.duration_ms as f64 / 1000.0
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{cases}\" failures=\"{failures}\" skipped=\"{}\">",
            xml(&format!("{} {}", self.milestone, self.run)),
            self.count(TaskState::Skipped)
        );
        for t in &self.tasks {
            let _ = write!(
                out,
                "    <testcase classname=\"tasks\" name=\"{}\" time=\"{:.3}\"",
                xml(&t.record.task),
                t.duration_ms as f64 / 1000.0
            );
            match t.record.state {
                TaskState::Committed => out.push_str("/>\n"),
                TaskState::Skipped => {
                    let _ = writeln!(
                        out,
                        "><skipped message=\"{}\"/></testcase>",
                        xml(t.record.reason.as_deref().unwrap_or("skipped"))
                    );
                }
                state => {
                    let reason = t.record.reason.as_deref().unwrap_or(state.as_str());
                    let first = reason.lines().next().unwrap_or_default();
                    let _ = writeln!(out, "><failure message=\"{}\">{}</failure></testcase>", xml(first), xml(reason));
                }
            }
            for v in &t.verify {
                let _ = write!(
                    out,
                    "    <testcase classname=\"verify.{}\" name=\"{}\" time=\"{:.3}\"",
                    xml(&t.record.task),
                    xml(&v.command),
                    v.duration_ms as f64 / 1000.0
                );
                if v.passed {
                    out.push_str("/>\n");
                } else {
                    let code = v.exit_code.map_or("a signal".to_owned(), |c| format!("code {c}"));
                    let _ = writeln!(out, "><failure message=\"exited with {code}\"/></testcase>");
                }
            }
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }

    /// Writes `report.md`, `report.json` and `junit.xml` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("report.md"), self.markdown())?;
        std::fs::write(dir.join("report.json"), self.json())?;
        std::fs::write(dir.join("junit.xml"), self.junit())
    }
}

/// What each of `run`'s tasks waits for: its plan as the journal keeps it, scheduled as the run
/// was (`--schedule`).
fn waits_of(run: &RunRecord) -> Waits {
    let plan = plan::parse(&run.plan_text, &run.milestone).plan;
    let mode = match run.settings() {
        Recorded::Settings(settings) => settings.options.schedule,
        Recorded::Nothing | Recorded::Newer(_) => crate::options::ScheduleMode::default(),
    };
    Waits::of_plan(&plan, &plan::Schedule::new(&plan), mode)
}

/// One round of a gate in `report.md`: its verdict, numbers with their sources, findings,
/// notes, and the fix that followed.
/// A best-of task's candidates: which landed and why, then one row per candidate.
fn best_of_markdown(out: &mut String, task: &TaskReport) {
    match task.candidates.iter().find(|c| c.chosen) {
        Some(chosen) => {
            let why = chosen.why.as_deref().unwrap_or_default();
            let _ = writeln!(out, "### Task {}: candidate {} landed\n\n{why}.\n", task.record.task, chosen.candidate);
        }
        None => {
            let _ = writeln!(out, "### Task {}: no candidate landed\n", task.record.task);
        }
    }
    let _ = writeln!(out, "| Candidate | Attempt | Verdict | Lines changed | Outside Files | Tokens | Ref | Why not |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for c in &task.candidates {
        let verdict = if c.chosen { format!("{} (chosen)", c.verdict) } else { c.verdict.to_string() };
        let reference = c.reference.as_deref().map_or("-".to_owned(), |r| format!("`{r}`"));
        let why_not = match (&c.reason, c.chosen) {
            (_, true) => "-".to_owned(),
            (Some(reason), false) => table_cell(&ellipsize(reason.lines().next().unwrap_or_default(), 120)),
            (None, false) => "ranked lower".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {verdict} | {} | {} | {} | {reference} | {why_not} |",
            c.candidate, c.attempt, c.diff_lines, c.outside_lines, c.tokens
        );
    }
    let _ = writeln!(out);
}

fn gate_round_markdown(out: &mut String, checked: &GateRound) {
    let verdict = match checked.verdict {
        GateVerdict::Green => "green".to_owned(),
        GateVerdict::Red => format!("red, {} finding(s)", checked.findings.len()),
        GateVerdict::Unverified => "unverified: needs a person".to_owned(),
    };
    let _ = writeln!(out, "#### Round {}: {verdict}\n", checked.round);
    for m in &checked.metrics {
        let value = if m.unit == "%" { format!("{:.1}%", m.value) } else { m.value.to_string() };
        let _ = writeln!(out, "- {}: **{value}** (from {})", m.name, m.source);
    }
    for f in &checked.findings {
        let place = f.location.as_deref().map(|l| format!(" `{l}`")).unwrap_or_default();
        let first = f.message.lines().next().unwrap_or_default();
        let _ = writeln!(out, "- [{}]{place} {first}", f.check);
    }
    for why in &checked.unverified {
        let _ = writeln!(out, "- not checked: {why}");
    }
    for note in &checked.notes {
        let _ = writeln!(out, "- note: {note}");
    }
    if let Some(commit) = &checked.fix_commit {
        let _ = writeln!(out, "- fixed in `{}`", &commit[..commit.len().min(10)]);
    }
    let _ = writeln!(out);
}

/// `text` as a Markdown table cell: on one line (an agent's output quoted in evidence has line
/// breaks, and one would end the row), `|` escaped.
fn table_cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

/// `text` cut to at most `max` characters, with `…` when something was cut.
pub fn ellipsize(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((at, _)) if text[at..].chars().nth(1).is_some() => format!("{}…", &text[..at]),
        _ => text.to_owned(),
    }
}

/// Text escaped for XML attributes and content.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::RunState;

    #[test]
    fn a_table_cell_is_one_line_with_its_bars_escaped() {
        let evidence = "no answer: the agent exited with code 1\nmy-agent: no key | set one\n";
        assert_eq!(table_cell(evidence), "no answer: the agent exited with code 1 my-agent: no key \\| set one");
    }

    fn envelope(seq: u64, event: Event) -> Envelope {
        Envelope { run: "r".into(), seq, at_ms: seq, event }
    }

    fn checked(round: u32, skill: &str, coverage: f64, findings: &[&str]) -> Event {
        Event::GateChecked {
            task: "2.1".into(),
            round,
            skill: skill.into(),
            passed: findings.is_empty(),
            findings: findings
                .iter()
                .map(|m| GateFinding {
                    check: crate::events::GateCheck::Coverage,
                    message: (*m).into(),
                    location: None,
                })
                .collect(),
            metrics: vec![GateMetric {
                name: "coverage of changed lines".into(),
                value: coverage,
                unit: "%".into(),
                source: "coverage/lcov.info".into(),
            }],
            notes: vec![format!("note of round {round}")],
            unverified: Vec::new(),
        }
    }

    fn report(events: Vec<Event>) -> Report {
        let run = RunRecord {
            id: "r".into(),
            plan_path: "plan.md".into(),
            plan_hash: String::new(),
            plan_text: String::new(),
            milestone: "M1".into(),
            title: "t".into(),
            branch: "wavecrew/M1".into(),
            base: "base".into(),
            state: RunState::Succeeded,
            started_ms: 0,
            finished_ms: Some(10),
            pid: 1,
            options: "{}".into(),
        };
        let events: Vec<Envelope> = events.into_iter().zip(1..).map(|(e, seq)| envelope(seq, e)).collect();
        Report::build(&run, &[], &events)
    }

    #[test]
    fn every_round_of_a_gate_is_kept_in_order_with_the_fix_that_followed_it() {
        let report = report(vec![
            checked(1, "production-engineer", 47.1, &["coverage 47.1% < 80%"]),
            checked(1, "security-auditor", 0.0, &[]),
            Event::GateFixCommitted { task: "2.1".into(), round: 1, commit: "fix1fix1fix1fix1".into() },
            checked(2, "production-engineer", 85.0, &[]),
            checked(2, "security-auditor", 0.0, &[]),
        ]);
        let engineer = &report.gates[0];
        let rounds: Vec<(u32, bool, Option<&str>)> =
            engineer.rounds.iter().map(|r| (r.round, r.passed, r.fix_commit.as_deref())).collect();
        assert_eq!(rounds, [(1, false, Some("fix1fix1fix1fix1")), (2, true, None)]);
        assert_eq!(engineer.rounds[0].findings[0].message, "coverage 47.1% < 80%");
        assert_eq!(engineer.rounds[0].metrics[0].source, "coverage/lcov.info");
        // The top-level fields are the last round, as they were before rounds were kept.
        assert_eq!((engineer.round, engineer.passed, engineer.findings.len()), (2, true, 0));
        // One fix answers the round of every skill of the gate.
        assert_eq!(report.gates[1].rounds[0].fix_commit.as_deref(), Some("fix1fix1fix1fix1"));

        let md = report.markdown();
        let at = |text: &str| md.find(text).unwrap_or_else(|| panic!("{text:?} not in\n{md}"));
        assert!(md.contains("### Task 2.1 · production-engineer: green after 2 rounds"), "{md}");
        assert!(at("#### Round 1: red, 1 finding(s)") < at("47.1%") && at("47.1%") < at("[coverage] coverage 47.1%"));
        assert!(
            at("[coverage] coverage 47.1%") < at("fixed in `fix1fix1fi`") && at("fixed in") < at("#### Round 2: green")
        );
        assert!(at("note of round 1") < at("note of round 2"), "{md}");
    }

    #[test]
    fn a_fix_goes_to_the_latest_check_of_its_round_when_a_resumed_run_checks_again() {
        let report = report(vec![
            checked(1, "production-engineer", 10.0, &["low"]),
            checked(1, "production-engineer", 20.0, &["low"]),
            Event::GateFixCommitted { task: "2.1".into(), round: 1, commit: "abc".into() },
        ]);
        let fixes: Vec<Option<&str>> = report.gates[0].rounds.iter().map(|r| r.fix_commit.as_deref()).collect();
        assert_eq!(fixes, [None, Some("abc")]);
    }

    #[test]
    fn the_report_carries_the_timeline_with_the_waits_of_the_run_s_plan() {
        let plan = "# M1 Implementation Plan: T\n\n## Waves\n\n### Wave 1: One\n> No dependencies.\n\n\
                    **Task 1.1** (type: auto)\n- **Files**: `a`\n- **Action**: a\n- **Verify**: `true`\n- **Done**: a\n\n\
                    **Task 1.2** (type: auto)\n- **Files**: `b`\n- **Action**: b\n- **Verify**: `true`\n- **Done**: b\n\n\
                    ### Wave 2: Two\n> Depends on: Wave 1.\n\n\
                    **Task 2.1** (type: auto)\n- **Files**: `c`\n- **Action**: c\n- **Verify**: `true`\n- **Done**: c\n";
        let run = RunRecord {
            id: "r".into(),
            plan_path: "plan.md".into(),
            plan_hash: String::new(),
            plan_text: plan.into(),
            milestone: "M1".into(),
            title: "T".into(),
            branch: "wavecrew/M1".into(),
            base: "base".into(),
            state: RunState::Succeeded,
            started_ms: 0,
            finished_ms: Some(9_000),
            pid: 1,
            options: "{}".into(),
        };
        let started = |task: &str| Event::AttemptStarted {
            task: task.into(),
            attempt: 1,
            lane: format!("lane {task}"),
            agent: "scripted".into(),
            model: None,
            worktree: String::new(),
            base: String::new(),
            role: None,
        };
        let committed = |task: &str| Event::TaskCommitted {
            task: task.into(),
            attempt: 1,
            commit: "c".into(),
            message: "m".into(),
        };
        let at = |at_ms, event| Envelope { run: "r".into(), seq: 0, at_ms, event };
        let events = [
            at(0, started("1.1")),
            at(0, started("1.2")),
            at(1_000, committed("1.1")),
            at(3_000, committed("1.2")),
            at(3_000, started("2.1")),
            at(9_000, committed("2.1")),
        ];
        let report = Report::build(&run, &[], &events);
        // 2.1 waits for the whole of wave 1, 1.2 being the longer of it.
        assert_eq!(report.timeline.critical_path, ["1.2", "2.1"]);
        assert_eq!((report.timeline.critical_path_ms, report.timeline.makespan_ms), (9_000, 9_000));
        let md = report.markdown();
        assert!(
            md.contains(
                "\n## Timeline\n\n- Makespan 9.0s; critical-path bound 9.0s (100% of the makespan): 1.2 → 2.1\n"
            ),
            "{md}"
        );
        assert!(md.contains("- Speedup 1.11x over one task after another (10.0s)"), "{md}");
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["timeline"]["bars"].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn xml_escapes_markup_and_controls() {
        assert_eq!(xml("a<b & \"c\" \u{1b}"), "a&lt;b &amp; &quot;c&quot; \u{fffd}");
    }
}

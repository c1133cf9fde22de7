//! Showing a run's progress: on a terminal a live view (a line per agent lane and an overall
//! bar), otherwise one plain line per event, or the events as JSON lines with `--json`. All
//! three read the engine's event stream; none looks inside the engine.

use engine::events::{
    ActivityKind, AgentRole, AutomatedStatus, Envelope, Event, GateVerdict, PreviewEnd, RunState, TaskType,
};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// The consumer of a run's events.
pub struct Progress {
    handle: JoinHandle<()>,
}

impl Progress {
    /// Starts showing events from `rx`: JSON lines when `json`, the live view on a terminal,
    /// plain lines otherwise.
    pub fn spawn(mut rx: broadcast::Receiver<Envelope>, json: bool) -> Progress {
        let live = !json && std::io::stderr().is_terminal();
        let handle = tokio::spawn(async move {
            let mut view = live.then(Live::default);
            loop {
                match rx.recv().await {
                    Ok(envelope) => {
                        if json {
                            if let Ok(line) = serde_json::to_string(&envelope) {
                                let _ = writeln!(std::io::stdout().lock(), "{line}");
                            }
                        } else if let Some(view) = view.as_mut() {
                            view.show(&envelope);
                        } else if let Some(line) = plain(&envelope) {
                            // Progress goes to stderr: stdout stays free for `--json` consumers.
                            let _ = writeln!(std::io::stderr().lock(), "{line}");
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let _ = writeln!(std::io::stderr().lock(), "({n} events not shown: output too slow)");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
            if let Some(view) = view {
                view.clear();
            }
        });
        Progress { handle }
    }

    /// Waits until every event was shown (the stream ends when the run does).
    pub async fn finish(self) {
        let _ = self.handle.await;
    }
}

/// `item` as inline code: in backticks, unless it has its own (a key_link as written in the plan,
/// "`a` feeds `b`"), which it then keeps as they are.
fn code(item: &str) -> String {
    if item.contains('`') { item.to_owned() } else { format!("`{item}`") }
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

/// Something an agent did, as one line of at most `max` characters: a multi-line shell command
/// (a heredoc, a script) shows its first line and how many more it has.
pub fn one_line(text: &str, max: usize) -> String {
    let mut lines = text.trim().lines().map(str::trim_end).filter(|line| !line.trim().is_empty());
    let first = lines.next().unwrap_or_default();
    let more = lines.count();
    let line = if more == 0 { first.to_owned() } else { format!("{first} … (+{more} lines)") };
    crate::commands::ellipsize(&line, max)
}

fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

/// The commands that answer `task`'s checkpoint, each ready to run as printed: one `decide`
/// per option of a decision, `approve` or `reject` of a change or a gate, `approve` of a human
/// action once it is done. The progress view and the notifications both show these.
pub(crate) fn answers(run: &str, task: &str, kind: &TaskType, options: &[String]) -> Vec<String> {
    match kind {
        TaskType::Decision => options
            .iter()
            .map(|option| format!("wavecrew decide {run} {task} {}", shell_words::quote(option)))
            .collect(),
        TaskType::HumanVerify | TaskType::Gate => {
            vec![format!("wavecrew approve {run} {task}"), format!("wavecrew reject {run} {task} --reason '...'")]
        }
        _ => vec![format!("wavecrew approve {run} {task}")],
    }
}

/// The command that signs off a run's Manual checklist.
pub(crate) fn sign_off(run: &str) -> String {
    format!("wavecrew approve {run} manual")
}

/// The command that picks a stopped or failed run up again.
pub(crate) fn resume(run: &str) -> String {
    format!("wavecrew resume {run}")
}

/// One line for a person, or nothing for chatter (agent output is in the logs).
fn plain(envelope: &Envelope) -> Option<String> {
    let text = match &envelope.event {
        Event::RunStarted { milestone, title, branch, tasks, lanes, .. } => format!(
            "run {} started: {milestone} · {title}: {} tasks on {} lanes, branch `{branch}`",
            envelope.run,
            tasks.len(),
            lanes.len()
        ),
        Event::RunResumed { committed, overrides } => {
            let changed =
                if overrides.is_empty() { String::new() } else { format!("; now with {}", overrides.join(" ")) };
            format!("run {} resumed: {} tasks already committed{changed}", envelope.run, committed.len())
        }
        Event::AttemptStarted { task, attempt, lane, agent, model, role, .. } => {
            let model = model.as_deref().map(|m| format!(", {m}")).unwrap_or_default();
            match role {
                Some(AgentRole::Review) => {
                    format!("{task:>5}  review (round {attempt}) started on {lane} [{agent}{model}]")
                }
                Some(AgentRole::Verify) => format!("verifier of the truths started [{agent}{model}]"),
                _ => format!("{task:>5}  started (attempt {attempt}) on {lane} [{agent}{model}]"),
            }
        }
        Event::AgentActivity { task, kind, detail, tokens_in, tokens_out, cost_usd, .. } => match kind {
            ActivityKind::Tool => format!("{task:>5}  agent: {}", one_line(detail, 100)),
            ActivityKind::Error => format!("{task:>5}  agent error: {}", one_line(detail, 160)),
            ActivityKind::Usage => {
                let cost = cost_usd.map(|c| format!(", ${c:.4}")).unwrap_or_default();
                format!(
                    "{task:>5}  agent used {} tokens in, {} out{cost}",
                    tokens_in.unwrap_or(0),
                    tokens_out.unwrap_or(0)
                )
            }
            _ => return None,
        },
        Event::LanePrepared { task, lane, detail, .. } => format!("{task:>5}  lane {lane}: {detail}"),
        Event::SandboxDenied { task, process, operation, path, .. } => {
            let to = if path.is_empty() { String::new() } else { format!(" to {path}") };
            format!("{task:>5}  sandbox refused a {operation}{to} ({process})")
        }
        Event::JobSubmitted { task, backend, job, .. } => format!("{task:>5}  submitted to {backend} as job {job}"),
        Event::AgentExited { task, code, timed_out, duration_ms, .. } => {
            let how = if *timed_out {
                "timed out".to_owned()
            } else {
                code.map_or("was killed".into(), |c| format!("exited {c}"))
            };
            format!("{task:>5}  agent {how} after {}", seconds(*duration_ms))
        }
        Event::BudgetExceeded { task, attempt, cap, spent_usd, tokens } => {
            let spent = cap.show(engine::budget::Cost { usd: *spent_usd, tokens: *tokens });
            format!("{task:>5}  attempt {attempt} STOPPED: the task spent {spent} of its budget of {cap}")
        }
        Event::VerifyFinished { task, command, passed, duration_ms, .. } => {
            format!(
                "{task:>5}  verify `{command}` {} ({})",
                if *passed { "passed" } else { "FAILED" },
                seconds(*duration_ms)
            )
        }
        Event::CheckpointWaiting { task, kind, commit, auto: true, .. } => {
            let change = commit.as_deref().map(|c| format!(" of commit {}", short(c))).unwrap_or_default();
            format!("{task:>5}  checkpoint ({kind}){change}: answered by --auto-approve")
        }
        Event::CheckpointWaiting { task, kind, options, details, .. } => {
            let run = &envelope.run;
            let mut text = format!("{task:>5}  WAITING for you ({kind})\n");
            for line in details.lines() {
                text.push_str(&format!("         {line}\n"));
            }
            let commands = answers(run, task, kind, options);
            if *kind == TaskType::Decision {
                // One command per option, each ready to run as printed.
                text.push_str("         answer with one of:");
                for command in commands {
                    text.push_str(&format!("\n           {command}"));
                }
            } else if matches!(kind, TaskType::HumanVerify | TaskType::Gate) {
                text.push_str(&format!("         answer: {}", commands.join("   or   ")));
            } else {
                text.push_str(&format!("         when done: {}", commands.join("   or   ")));
            }
            text
        }
        Event::CheckpointAnswered { task, answer, detail, auto, commit } => {
            let by = if *auto { " (--auto-approve)" } else { "" };
            let change = commit.as_deref().map(|c| format!(" commit {}", short(c))).unwrap_or_default();
            let detail = detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
            format!("{task:>5}  {answer}{change}{by}{detail}")
        }
        Event::TaskCommitted { task, commit, message, .. } => {
            format!("{task:>5}  committed {} {message}", short(commit))
        }
        Event::AttemptFailed { task, attempt, reason } => {
            format!("{task:>5}  attempt {attempt} failed: {}", reason.lines().next().unwrap_or_default())
        }
        Event::TaskFailed { task, attempts, reason } => {
            format!("{task:>5}  FAILED after {attempts} attempts: {}", reason.lines().next().unwrap_or_default())
        }
        Event::TaskSkipped { task, because } => format!("{task:>5}  skipped: task {because} failed"),
        Event::AgentLimited { task, attempt, hold, until_ms, reason, .. } => {
            format!("{task:>5}  attempt {attempt} {}", engine::limits::describe_local(hold, *until_ms, reason))
        }
        Event::CandidatesStarted { task, attempts, kept } => {
            let kept = if kept.is_empty() { String::new() } else { format!(" ({} kept from before)", kept.len()) };
            let attempts: Vec<String> = attempts.iter().map(ToString::to_string).collect();
            format!(
                "{task:>5}  best of {}: candidates start side by side as attempts {}{kept}",
                attempts.len(),
                attempts.join(", ")
            )
        }
        Event::CandidateFinished { task, end } => {
            let why = end.reason.as_deref().map(|r| format!(": {}", one_line(r, 120))).unwrap_or_default();
            format!(
                "{task:>5}  candidate {} {}, {} lines changed ({} outside its Files), {} tokens{why}",
                end.candidate, end.verdict, end.diff_lines, end.outside_lines, end.tokens
            )
        }
        Event::CandidateChosen { task, candidate, why, .. } => {
            format!("{task:>5}  candidate {candidate} chosen: {why}")
        }
        Event::Stopping { reason } => format!("stopping: {reason}"),
        Event::RunFinished { state, committed, failed, skipped, duration_ms } => {
            let state = match state {
                RunState::Succeeded => "succeeded",
                RunState::Failed => "failed",
                RunState::Cancelled => "stopped",
                RunState::Running => "running",
            };
            format!(
                "run {state} in {}: {committed} committed, {failed} failed, {skipped} skipped",
                seconds(*duration_ms)
            )
        }
        Event::GateChecked { task, round, skill, passed, findings, metrics, notes, unverified } => {
            let verdict = match GateVerdict::of(*passed, unverified) {
                GateVerdict::Green => "green".to_owned(),
                GateVerdict::Red => format!("{} finding(s)", findings.len()),
                GateVerdict::Unverified => "UNVERIFIED, needs a person".to_owned(),
            };
            let mut text = format!("{task:>5}  gate {skill}, round {round}: {verdict}");
            for metric in metrics {
                let value = if metric.unit == "%" { format!("{:.1}%", metric.value) } else { metric.value.to_string() };
                text.push_str(&format!("\n       {}: {value} (from {})", metric.name, metric.source));
            }
            for finding in findings.iter().take(10) {
                let place = finding.location.as_deref().map(|l| format!("{l}: ")).unwrap_or_default();
                let first = finding.message.lines().next().unwrap_or_default();
                text.push_str(&format!("\n       [{}] {place}{first}", finding.check));
            }
            if findings.len() > 10 {
                text.push_str(&format!("\n       … and {} more (wavecrew report)", findings.len() - 10));
            }
            for why in unverified {
                text.push_str(&format!("\n       not checked: {why}"));
            }
            for note in notes {
                text.push_str(&format!("\n       note: {note}"));
            }
            text
        }
        Event::RunVerified { verdict, must_haves, automated, manual } => {
            let mut text = format!("verification: {verdict}");
            for m in must_haves {
                // Evidence quoting an agent's output has line breaks: keep them under the verdict.
                let evidence = m.evidence.trim_end().replace('\n', "\n         ");
                text.push_str(&format!("\n       {} {} {}: {evidence}", m.verdict, m.kind, code(&m.item)));
            }
            for a in automated {
                let mark = match a.status {
                    AutomatedStatus::Passed => "passed",
                    AutomatedStatus::Failed => "FAILED",
                    AutomatedStatus::Unchecked => "UNCHECKED",
                };
                let first = a.detail.lines().next().filter(|l| !l.is_empty()).map(|l| format!(": {l}"));
                text.push_str(&format!("\n       {mark} `{}`{}", a.command, first.unwrap_or_default()));
            }
            if !manual.is_empty() {
                text.push_str(&format!(
                    "\n       {} manual step(s) to check, then `{}`",
                    manual.len(),
                    sign_off(&envelope.run)
                ));
            }
            text
        }
        Event::RunShipped { url, draft, .. } => {
            format!("run {} shipped: {}{url}", envelope.run, if *draft { "draft " } else { "" })
        }
        Event::GateFixCommitted { task, round, commit } => {
            format!("{task:>5}  gate fix of round {round} committed {}", &commit[..commit.len().min(10)])
        }
        Event::PreviewStarting { task, commit } => {
            format!("{task:>5}  preview of {} starting", &commit[..commit.len().min(10)])
        }
        Event::PreviewReady { task, url } => format!("{task:>5}  preview at {url}"),
        Event::PreviewStopped { task, why: PreviewEnd::Failed, detail } => {
            let first = detail.as_deref().and_then(|d| d.lines().next()).unwrap_or("no reason given");
            format!("{task:>5}  preview failed: {first}")
        }
        Event::PreviewStopped { task, why, .. } => format!("{task:>5}  preview stopped ({why})"),
        Event::AgentSpawned { .. }
        | Event::AgentOutput { .. }
        | Event::VerifyStarted { .. }
        | Event::Integrating { .. } => {
            return None;
        }
    };
    Some(text)
}

/// The live view: an overall bar and one line per lane (agent, model, task, elapsed, last
/// activity); finished tasks and failures scroll above it.
#[derive(Default)]
struct Live {
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    lanes: HashMap<String, (ProgressBar, String)>,
}

impl Live {
    fn multi(&mut self) -> &MultiProgress {
        self.multi.get_or_insert_with(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
    }

    fn lane(&mut self, name: &str, model: Option<&str>) -> &ProgressBar {
        if !self.lanes.contains_key(name) {
            let style = ProgressStyle::with_template("{spinner} {prefix:<18} {elapsed:>4} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bar = self.multi().add(ProgressBar::new_spinner().with_style(style));
            bar.set_prefix(format!("{name} {}", model.unwrap_or("")));
            bar.set_message("waiting");
            bar.enable_steady_tick(Duration::from_millis(120));
            self.lanes.insert(name.to_owned(), (bar, String::new()));
        }
        &self.lanes[name].0
    }

    fn say(&mut self, line: String) {
        let _ = self.multi().println(line);
    }

    fn show(&mut self, envelope: &Envelope) {
        match &envelope.event {
            Event::RunStarted { tasks, lanes, .. } => {
                if let Some(line) = plain(envelope) {
                    self.say(line);
                }
                let style = ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} tasks  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
                let bar = self.multi().add(ProgressBar::new(tasks.len() as u64).with_style(style));
                self.overall = Some(bar);
                for lane in lanes.iter().filter(|l| l.name != "default") {
                    self.lane(&lane.name, lane.model.as_deref());
                }
            }
            Event::RunResumed { committed, .. } => {
                if let Some(bar) = &self.overall {
                    bar.set_position(committed.len() as u64);
                }
            }
            Event::AttemptStarted { task, attempt, lane, model, role, .. } => {
                let bar = self.lane(lane, model.as_deref()).clone();
                // A lane's tasks may each run on another model: the lane shows the current one.
                bar.set_prefix(format!("{lane} {}", model.as_deref().unwrap_or("")));
                bar.reset_elapsed();
                bar.set_message(match role {
                    Some(AgentRole::Review) => format!("{task} review, round {attempt}"),
                    Some(AgentRole::Verify) => "verifying the truths".to_owned(),
                    _ => format!("{task} attempt {attempt}"),
                });
                if let Some((_, current)) = self.lanes.get_mut(lane) {
                    *current = task.clone();
                }
            }
            Event::AgentOutput { task, line: detail, .. } | Event::AgentActivity { task, detail, .. } => {
                if let Some((bar, _)) = self.lanes.values().find(|(_, current)| current == task)
                    && !detail.trim().is_empty()
                {
                    bar.set_message(format!("{task} · {}", one_line(detail, 100)));
                }
            }
            Event::VerifyStarted { task, command, .. } => {
                if let Some((bar, _)) = self.lanes.values().find(|(_, current)| current == task) {
                    bar.set_message(format!("{task} · verify `{command}`"));
                }
            }
            Event::TaskCommitted { task, .. } | Event::TaskFailed { task, .. } => {
                if let Some(bar) = &self.overall
                    && matches!(envelope.event, Event::TaskCommitted { .. })
                {
                    bar.inc(1);
                }
                if let Some((bar, current)) = self.lanes.values_mut().find(|(_, current)| current == task) {
                    bar.set_message("idle");
                    current.clear();
                }
                if let Some(line) = plain(envelope) {
                    self.say(line);
                }
            }
            _ => {
                if let Some(line) = plain(envelope) {
                    self.say(line);
                }
            }
        }
    }

    fn clear(self) {
        for (bar, _) in self.lanes.values() {
            bar.finish_and_clear();
        }
        if let Some(bar) = self.overall {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::events::{AutomatedResult, MustHaveKind, MustHaveStatus, MustHaveVerdict, RunVerdict};

    fn envelope(event: Event) -> Envelope {
        Envelope { run: "20261203-101500-ab12".into(), seq: 1, at_ms: 0, event }
    }

    fn must_have(kind: MustHaveKind, item: &str, verdict: MustHaveStatus, evidence: &str) -> MustHaveVerdict {
        MustHaveVerdict { kind, item: item.into(), verdict, evidence: evidence.into() }
    }

    #[test]
    fn a_decision_lists_one_ready_command_per_option() {
        let waiting: Envelope = serde_json::from_value(serde_json::json!({
            "run": "20261203-101500-ab12", "seq": 1, "at_ms": 0,
            "event": "checkpoint_waiting", "task": "1.2", "kind": "checkpoint:decision",
            "options": ["SQLite", "Postgres (managed)"], "details": "Pick a storage engine:",
        }))
        .unwrap();
        assert_eq!(
            plain(&waiting).unwrap(),
            "  1.2  WAITING for you (checkpoint:decision)\n         Pick a storage engine:\n         \
             answer with one of:\n           wavecrew decide 20261203-101500-ab12 1.2 SQLite\n           \
             wavecrew decide 20261203-101500-ab12 1.2 'Postgres (managed)'"
        );
    }

    #[test]
    fn verification_lines_quote_each_item_once_and_name_the_run_to_sign_off() {
        let event = Event::RunVerified {
            verdict: RunVerdict::Passed,
            must_haves: vec![
                must_have(MustHaveKind::Artifact, "wordfreq/count.py", MustHaveStatus::Verified, "wordfreq/count.py:1"),
                must_have(
                    MustHaveKind::KeyLink,
                    "`count.py` feeds `cli.py`",
                    MustHaveStatus::Verified,
                    "wordfreq/cli.py:3",
                ),
            ],
            automated: vec![AutomatedResult {
                command: "python3 -m unittest".into(),
                expectation: None,
                status: AutomatedStatus::Passed,
                exit_code: Some(0),
                detail: String::new(),
            }],
            manual: vec!["Run it on a book".into()],
        };
        assert_eq!(
            plain(&envelope(event)).unwrap(),
            "verification: passed\n       VERIFIED artifact `wordfreq/count.py`: wordfreq/count.py:1\n       \
             VERIFIED key_link `count.py` feeds `cli.py`: wordfreq/cli.py:3\n       passed `python3 -m unittest`\n       \
             1 manual step(s) to check, then `wavecrew approve 20261203-101500-ab12 manual`"
        );
    }

    #[test]
    fn a_multi_line_command_is_one_shortened_line() {
        let heredoc = "run_shell_command cat > src/a.rs <<'EOF'\nfn main() {}\nEOF\n";
        assert_eq!(one_line(heredoc, 100), "run_shell_command cat > src/a.rs <<'EOF' … (+2 lines)");
        assert_eq!(one_line("Bash cargo test", 100), "Bash cargo test");
        assert_eq!(one_line(&format!("Bash {}", "x".repeat(200)), 20).chars().count(), 20);
        let envelope = Envelope {
            run: "r".into(),
            seq: 1,
            at_ms: 0,
            event: Event::AgentActivity {
                task: "2.1".into(),
                attempt: 1,
                kind: ActivityKind::Tool,
                detail: heredoc.into(),
                tokens_in: None,
                tokens_out: None,
                cost_usd: None,
            },
        };
        let line = plain(&envelope).unwrap();
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.starts_with("  2.1  agent: run_shell_command cat"), "{line}");
    }
}

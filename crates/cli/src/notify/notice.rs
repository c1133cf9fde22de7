//! What is worth telling a person, and what it says: a pure function of the run's events.
//!
//! [`Watch::notice`] reads each event of the stream and answers with a [`Notice`] for the few
//! that need a person (a checkpoint or a gate waiting, agents held on a usage limit) or end
//! the run; [`webhook_body`] is the JSON every webhook gets. No I/O here: the sending is in
//! `deliver`.

use engine::events::{Envelope, Event, RunState, RunVerdict, TaskType};
use serde::Serialize;
use serde_json::{Value, json};
use std::net::SocketAddr;

/// Why a person is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A checkpoint waits for a person's answer (a change to check, a decision, an action).
    Checkpoint,
    /// A gate could not check everything it asks for, and waits for a person to sign it off.
    Gate,
    /// Agents are held until a usage limit resets.
    Limited,
    /// The run ended.
    RunEnded,
}

/// One notification.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// Why.
    pub reason: Reason,
    /// The run's id.
    pub run: String,
    /// The task it is about, if any.
    pub task: Option<String>,
    /// One line: what happened (`wavecrew: 1.1 waits for you`).
    pub title: String,
    /// A few lines: the run, and what the person is asked.
    pub body: String,
    /// The commands that answer it, each ready to run as printed.
    pub commands: Vec<String>,
    /// The run's room on the dashboard, when `run --serve` serves it.
    pub room: Option<String>,
}

/// Discord refuses a `content` above 2,000 characters; ntfy turns a message above 4,096 bytes
/// into an attachment. A notification stays well below both.
const MAX_TEXT: usize = 1_800;

/// Lines of a checkpoint's details a notification quotes: the rest is in the terminal and the room.
const DETAIL_LINES: usize = 6;

impl Notice {
    /// The body, then the commands and the room: what a desktop notification shows under the
    /// title, and ntfy's message.
    pub fn message(&self) -> String {
        let mut text = self.body.clone();
        for command in &self.commands {
            text.push_str(&format!("\n→ {command}"));
        }
        if let Some(room) = &self.room {
            text.push_str(&format!("\nroom: {room}"));
        }
        cap(&text, MAX_TEXT)
    }

    /// The whole notification as one text: the title, then [`Notice::message`].
    pub fn text(&self) -> String {
        cap(&format!("{}\n{}", self.title, self.message()), MAX_TEXT)
    }
}

/// `text` cut to at most `max` characters, on a character boundary, marked when cut.
fn cap(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// What the notifier remembers of a run while it reads its events: the plan's name, the
/// verification's verdict (said when the run ends), where the room is.
#[derive(Debug, Default)]
pub struct Watch {
    /// The dashboard's address, with `run --serve`.
    room: Option<SocketAddr>,
    /// `M1 · Title`, from `run_started` (a resumed run does not say it again).
    plan: Option<String>,
    /// The verification's verdict and how many Manual steps wait to be signed off.
    verified: Option<(RunVerdict, usize)>,
    /// The hold each agent was last notified of: every lane of an agent hits its limit, and
    /// the person hears of each hold once.
    held: std::collections::HashMap<String, Option<u64>>,
}

impl Watch {
    /// A watch of a run whose room, if any, is served at `room`.
    pub fn new(room: Option<SocketAddr>) -> Watch {
        Watch { room, ..Watch::default() }
    }

    /// The notification `envelope` calls for, if any. This `match` is the one table of which
    /// events notify: one arm each.
    pub fn notice(&mut self, envelope: &Envelope) -> Option<Notice> {
        let run = envelope.run.as_str();
        match &envelope.event {
            Event::CheckpointWaiting { task, kind, options, details, auto: false, .. } => {
                Some(self.waiting(run, task, kind, options, details))
            }
            Event::RunFinished { state, committed, failed, skipped, .. } => {
                Some(self.ended(run, *state, (*committed, *failed, *skipped)))
            }
            // `--on-limit fail`: no hold, the task failed (said when the run ends).
            Event::AgentLimited { agent, until_ms, hold, .. } if *hold != engine::events::LimitHold::Fail => {
                self.limited(run, agent, *until_ms)
            }
            // Remembered for the notifications that follow.
            Event::RunStarted { milestone, title, .. } => {
                self.plan = Some(format!("{milestone} · {title}"));
                None
            }
            Event::RunVerified { verdict, manual, .. } => {
                self.verified = Some((verdict.clone(), manual.len()));
                None
            }
            _ => None,
        }
    }

    fn notice_of(&self, reason: Reason, run: &str, task: Option<&str>, title: String, body: String) -> Notice {
        let head = match &self.plan {
            Some(plan) => format!("run {run} ({plan})"),
            None => format!("run {run}"),
        };
        Notice {
            reason,
            run: run.to_owned(),
            task: task.map(str::to_owned),
            title,
            body: if body.is_empty() { head } else { format!("{head}\n{body}") },
            commands: Vec::new(),
            room: self.room.map(|addr| server::room_link(addr, run)),
        }
    }

    /// A checkpoint waits: a gate that could not check everything, or a task of a person's.
    fn waiting(&self, run: &str, task: &str, kind: &TaskType, options: &[String], details: &str) -> Notice {
        let (reason, title) = match kind {
            TaskType::Gate => (Reason::Gate, format!("wavecrew: gate {task} needs a person to sign it off")),
            TaskType::Decision => (Reason::Checkpoint, format!("wavecrew: {task} waits for your decision")),
            TaskType::HumanAction => (Reason::Checkpoint, format!("wavecrew: {task} waits for you to do it")),
            _ => (Reason::Checkpoint, format!("wavecrew: {task} waits for you to check it")),
        };
        let lines: Vec<&str> = details.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut body = lines.iter().take(DETAIL_LINES).copied().collect::<Vec<_>>().join("\n");
        if lines.len() > DETAIL_LINES {
            body.push_str("\n…");
        }
        Notice {
            commands: crate::progress::answers(run, task, kind, options),
            ..self.notice_of(reason, run, Some(task), title, body)
        }
    }

    /// Agent `agent` is held on a usage limit until `until_ms` (ms since the epoch), when
    /// known; `None` when that hold was said already.
    fn limited(&mut self, run: &str, agent: &str, until_ms: Option<u64>) -> Option<Notice> {
        if self.held.insert(agent.to_owned(), until_ms) == Some(until_ms) {
            return None;
        }
        let until = match until_ms {
            Some(ms) => format!(" until {}", utc(ms)),
            None => String::new(),
        };
        let title = format!("wavecrew: agent {agent} is held on a usage limit{until}");
        let body = "its tasks start again once the limit resets; nothing to answer".to_owned();
        Some(self.notice_of(Reason::Limited, run, None, title, body))
    }

    /// The run ended: its state, counts and verification, and what is left to a person.
    fn ended(&self, run: &str, state: RunState, (committed, failed, skipped): (usize, usize, usize)) -> Notice {
        let said = match state {
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "stopped",
            RunState::Running => "ended",
        };
        let mut body = format!("{committed} committed, {failed} failed, {skipped} skipped");
        let mut commands = Vec::new();
        if let Some((verdict, manual)) = &self.verified {
            body.push_str(&format!("; verification: {verdict}"));
            if *manual > 0 {
                body.push_str(&format!(", {manual} manual step(s) to check"));
                commands.push(crate::progress::sign_off(run));
            }
        }
        if matches!(state, RunState::Failed | RunState::Cancelled) {
            commands.push(crate::progress::resume(run));
        }
        Notice { commands, ..self.notice_of(Reason::RunEnded, run, None, format!("wavecrew: run {run} {said}"), body) }
    }
}

/// `ms` since the epoch as `YYYY-MM-DD HH:MM UTC`.
fn utc(ms: u64) -> String {
    let at = i64::try_from(ms).ok().and_then(chrono::DateTime::from_timestamp_millis);
    at.map_or_else(|| format!("{ms} ms after 1970"), |at| at.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// The JSON every webhook gets: one body that Slack, Discord and ntfy each read their own
/// fields of (they ignore the others), and `wavecrew` for any other receiver.
///
/// - Slack incoming webhooks: `text`.
/// - Discord webhooks: `content` (at most 2,000 characters).
/// - ntfy (posted to the server's root URL, JSON publishing): `topic`, `title`, `message`,
///   `priority`, `tags` and `click` (the room).
pub fn webhook_body(notice: &Notice, topic: Option<&str>) -> Value {
    let text = notice.text();
    let (priority, tag) = match notice.reason {
        Reason::Checkpoint | Reason::Gate => (4, "raising_hand"),
        Reason::Limited => (3, "hourglass"),
        Reason::RunEnded => (3, "checkered_flag"),
    };
    let mut body = json!({
        "text": text,
        "content": text,
        "title": notice.title,
        "message": notice.message(),
        "priority": priority,
        "tags": [tag],
        "wavecrew": {
            "reason": notice.reason,
            "run": notice.run,
            "task": notice.task,
            "commands": notice.commands,
            "room": notice.room,
        },
    });
    if let Some(topic) = topic {
        body["topic"] = json!(topic);
    }
    if let Some(room) = &notice.room {
        body["click"] = json!(room);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::events::{AutomatedResult, AutomatedStatus};

    const RUN: &str = "20261203-101500-ab12";

    fn envelope(event: Event) -> Envelope {
        Envelope { run: RUN.into(), seq: 1, at_ms: 0, event }
    }

    fn waiting(task: &str, kind: TaskType, options: &[&str], auto: bool) -> Event {
        Event::CheckpointWaiting {
            task: task.into(),
            kind,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            commit: None,
            details: "Action: Draw the page\n\nDone when: it looks right\n".into(),
            steps: Vec::new(),
            auto,
        }
    }

    fn started() -> Event {
        Event::RunStarted {
            milestone: "M1".into(),
            title: "Pages".into(),
            branch: "wavecrew/M1".into(),
            base: "main".into(),
            tasks: vec!["1.1".into()],
            lanes: Vec::new(),
        }
    }

    fn finished(state: RunState) -> Event {
        Event::RunFinished { state, committed: 2, failed: 1, skipped: 0, duration_ms: 10 }
    }

    #[test]
    fn a_waiting_checkpoint_names_the_run_the_task_and_the_commands_the_terminal_prints() {
        let mut watch = Watch::default();
        assert_eq!(watch.notice(&envelope(started())), None);
        let notice = watch.notice(&envelope(waiting("1.1", TaskType::HumanVerify, &[], false))).unwrap();
        assert_eq!(notice.reason, Reason::Checkpoint);
        assert_eq!(notice.title, "wavecrew: 1.1 waits for you to check it");
        assert_eq!(notice.body, format!("run {RUN} (M1 · Pages)\nAction: Draw the page\nDone when: it looks right"));
        assert_eq!(
            notice.commands,
            [format!("wavecrew approve {RUN} 1.1"), format!("wavecrew reject {RUN} 1.1 --reason '...'")]
        );
        let decision = watch.notice(&envelope(waiting("1.2", TaskType::Decision, &["SQLite", "Postgres x"], false)));
        assert_eq!(
            decision.unwrap().commands,
            [format!("wavecrew decide {RUN} 1.2 SQLite"), format!("wavecrew decide {RUN} 1.2 'Postgres x'")]
        );
    }

    #[test]
    fn a_checkpoint_answered_by_auto_approve_and_chatter_notify_nobody() {
        let mut watch = Watch::default();
        assert_eq!(watch.notice(&envelope(waiting("1.1", TaskType::HumanVerify, &[], true))), None);
        let chatter = Event::AgentOutput { task: "1.1".into(), attempt: 1, line: "hello".into() };
        assert_eq!(watch.notice(&envelope(chatter)), None);
    }

    #[test]
    fn an_unverified_gate_asks_for_a_sign_off_with_approve_or_reject() {
        let notice = Watch::default().notice(&envelope(waiting("3.1", TaskType::Gate, &[], false))).unwrap();
        assert_eq!(notice.reason, Reason::Gate);
        assert_eq!(notice.title, "wavecrew: gate 3.1 needs a person to sign it off");
        assert_eq!(notice.commands[0], format!("wavecrew approve {RUN} 3.1"));
    }

    #[test]
    fn the_end_of_a_run_says_its_verdict_and_what_is_left_to_do() {
        let mut watch = Watch::default();
        let verified = Event::RunVerified {
            verdict: RunVerdict::Unverified,
            must_haves: Vec::new(),
            automated: vec![AutomatedResult {
                command: "npm test".into(),
                expectation: None,
                status: AutomatedStatus::Unchecked,
                exit_code: Some(0),
                detail: String::new(),
            }],
            manual: vec!["Open the page".into()],
        };
        assert_eq!(watch.notice(&envelope(verified)), None);
        let notice = watch.notice(&envelope(finished(RunState::Succeeded))).unwrap();
        assert_eq!(notice.title, format!("wavecrew: run {RUN} succeeded"));
        assert_eq!(
            notice.body,
            format!("run {RUN}\n2 committed, 1 failed, 0 skipped; verification: unverified, 1 manual step(s) to check")
        );
        assert_eq!(notice.commands, [format!("wavecrew approve {RUN} manual")]);
        let failed = Watch::default().notice(&envelope(finished(RunState::Failed))).unwrap();
        assert_eq!(failed.commands, [format!("wavecrew resume {RUN}")]);
    }

    #[test]
    fn with_the_dashboard_the_room_is_linked_without_its_token() {
        let mut watch = Watch::new(Some("127.0.0.1:4321".parse().unwrap()));
        let notice = watch.notice(&envelope(finished(RunState::Cancelled))).unwrap();
        assert_eq!(notice.room.as_deref(), Some(format!("http://127.0.0.1:4321/runs/{RUN}").as_str()));
        assert!(notice.message().ends_with(&format!("\nroom: http://127.0.0.1:4321/runs/{RUN}")), "{notice:?}");
        assert_eq!(webhook_body(&notice, None)["click"], json!(notice.room));
    }

    #[test]
    fn a_hold_on_a_usage_limit_says_the_agent_and_when_it_ends() {
        let mut watch = Watch::default();
        let until = Some(1_764_763_200_000 + 90 * 60_000);
        let notice = watch.limited(RUN, "claude", until).unwrap();
        assert_eq!(notice.reason, Reason::Limited);
        assert_eq!(watch.limited(RUN, "claude", until), None, "every lane's hold of the agent: said once");
        assert!(watch.limited(RUN, "codex", until).is_some());
        assert!(watch.limited(RUN, "claude", until.map(|u| u + 3_600_000)).is_some(), "a new hold");
        assert_eq!(notice.title, "wavecrew: agent claude is held on a usage limit until 2025-12-03 13:30 UTC");
        assert!(notice.commands.is_empty());
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00 UTC");

        // From the journal's `agent_limited`: every lane's hold of the agent said once; a task
        // failed as limited (`--on-limit fail`) holds nothing.
        let limited = |task: &str, hold: engine::events::LimitHold, until_ms: Option<u64>| {
            envelope(Event::AgentLimited {
                agent: "gemini".into(),
                task: task.into(),
                attempt: 1,
                hold,
                until_ms,
                reset_ms: until_ms,
                reason: "gemini: You exceeded your current quota".into(),
            })
        };
        let mut watch = Watch::default();
        assert!(watch.notice(&limited("1.1", engine::events::LimitHold::Reset, until)).is_some());
        assert!(watch.notice(&limited("1.2", engine::events::LimitHold::Reset, until)).is_none());
        assert!(watch.notice(&limited("1.3", engine::events::LimitHold::Fail, None)).is_none());
    }

    #[test]
    fn the_webhook_body_has_each_services_fields() {
        let mut notice = Watch::default().notice(&envelope(waiting("1.1", TaskType::HumanAction, &[], false))).unwrap();
        let body = webhook_body(&notice, Some("my-runs"));
        assert_eq!(body["text"], body["content"]);
        assert!(body["text"].as_str().unwrap().starts_with("wavecrew: 1.1 waits for you to do it\nrun "), "{body}");
        assert_eq!(body["topic"], "my-runs");
        assert_eq!(body["title"], notice.title);
        assert!(body["message"].as_str().unwrap().ends_with(&format!("→ wavecrew approve {RUN} 1.1")), "{body}");
        assert_eq!(body["wavecrew"]["reason"], "checkpoint");
        assert_eq!(body["wavecrew"]["task"], "1.1");
        assert!(body.get("click").is_none() && webhook_body(&notice, None).get("topic").is_none());

        // However long the details, Discord's 2,000 characters hold.
        notice.body = "x".repeat(5_000);
        let long = webhook_body(&notice, None);
        assert!(long["content"].as_str().unwrap().chars().count() <= 2_000);
        assert!(long["content"].as_str().unwrap().ends_with('…'));
    }
}

//! Usage and rate limits: an agent CLI that says its account is limited did not fail its task.
//!
//! [`Limit`] is what an adapter reads from its CLI's output ([`read`] for each CLI, on the
//! endings recorded from the real CLIs in `limits/recorded/`, see docs/agent-adapters.md):
//! the CLI's words and, when it gives one, the moment the limit resets. [`Holds`] decides, with
//! no clock of its own, how long every lane on that agent holds: until the reset, or backing off
//! 1, 2, 4 … minutes (capped at 15) when there is none, never longer than `[run] max_hold`.

use chrono::{DateTime, Duration as Span, NaiveTime, TimeZone, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

pub mod hold;

/// An attempt that ended on a limit of its agent's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    /// What the CLI said, in its own words (one line).
    pub reason: String,
    /// When the limit resets, as far as the CLI said.
    pub reset: Reset,
}

/// When a limit resets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reset {
    /// At this moment (milliseconds since the epoch).
    At(u64),
    /// The CLI did not say.
    Unsaid,
    /// The CLI said, in words wavecrew could not read (kept to say so).
    Unreadable(String),
}

/// What a run does when an agent is limited (`--on-limit`, `[run] on_limit`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnLimit {
    /// Hold the agent's lanes until the limit resets, then go on (the default).
    #[default]
    Wait,
    /// Fail the task as limited, as any failed attempt.
    Fail,
}

/// How long a hold without a reset time lasts the first time; each one after it doubles.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(60);
/// The longest backoff.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// What happens to an attempt that ended on a limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Every lane on the agent holds until `until_ms`; then the task runs again, without the
    /// limited attempt counting against its attempts.
    Hold {
        /// The end of the hold (milliseconds since the epoch).
        until_ms: u64,
        /// Why it lasts that long.
        why: HoldWhy,
    },
    /// The attempt fails as limited (`--on-limit fail`).
    Fail,
}

/// Why a hold lasts as long as it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldWhy {
    /// Until the reset time the CLI gave.
    Reset,
    /// A backoff (this many seconds), since the CLI gave no reset time that could be used:
    /// none, one wavecrew could not read, or one already past.
    Backoff(u64),
    /// The reset is further away than `[run] max_hold`: the hold stops there and the task
    /// fails as limited.
    Capped,
}

/// The holds of a run's agents: the pure decision of how long each one holds.
#[derive(Clone, Debug, Default)]
pub struct Holds {
    agents: HashMap<String, AgentHold>,
}

#[derive(Clone, Debug, Default)]
struct AgentHold {
    until_ms: u64,
    /// Holds in a row without a usable reset time (for the backoff).
    backoffs: u32,
    /// What the hold says (for the views).
    reason: String,
}

impl Holds {
    /// `agent`'s attempt ended on `limit` at `now_ms`: how long its lanes hold, with `on_limit`
    /// and `max_hold`. A hold already running for a later time stands.
    pub fn limited(
        &mut self,
        agent: &str,
        limit: &Limit,
        now_ms: u64,
        on_limit: OnLimit,
        max_hold: Duration,
    ) -> Decision {
        if on_limit == OnLimit::Fail {
            return Decision::Fail;
        }
        let hold = self.agents.entry(agent.to_owned()).or_default();
        let max_until = now_ms.saturating_add(max_hold.as_millis() as u64);
        let (until_ms, why) = match limit.reset {
            Reset::At(at) if at > now_ms && at <= max_until => (at, HoldWhy::Reset),
            Reset::At(at) if at > max_until => (max_until, HoldWhy::Capped),
            _ => {
                let backoff = backoff(hold.backoffs).min(max_hold);
                hold.backoffs += 1;
                (now_ms.saturating_add(backoff.as_millis() as u64), HoldWhy::Backoff(backoff.as_secs()))
            }
        };
        if why == HoldWhy::Reset {
            hold.backoffs = 0;
        }
        hold.until_ms = hold.until_ms.max(until_ms);
        hold.reason.clone_from(&limit.reason);
        Decision::Hold { until_ms, why }
    }

    /// An attempt of `agent` ended without a limit: the next one without a reset time backs
    /// off from the start again.
    pub fn answered(&mut self, agent: &str) {
        if let Some(hold) = self.agents.get_mut(agent) {
            hold.backoffs = 0;
        }
    }

    /// Holds `agent` until `until_ms` (read back from the journal by `resume`).
    pub fn restore(&mut self, agent: &str, until_ms: u64, reason: &str) {
        let hold = self.agents.entry(agent.to_owned()).or_default();
        hold.until_ms = hold.until_ms.max(until_ms);
        reason.clone_into(&mut hold.reason);
    }

    /// Whether `agent` is held at `now_ms`.
    pub fn is_held(&self, agent: &str, now_ms: u64) -> bool {
        self.agents.get(agent).is_some_and(|h| h.until_ms > now_ms)
    }

    /// The next moment a hold ends, after `now_ms`.
    pub fn next_release(&self, now_ms: u64) -> Option<u64> {
        self.agents.values().map(|h| h.until_ms).filter(|&t| t > now_ms).min()
    }
}

/// The `n`-th backoff in a row (from 0): 1, 2, 4 … minutes, at most 15.
pub fn backoff(n: u32) -> Duration {
    FIRST_BACKOFF.saturating_mul(1u32.checked_shl(n).unwrap_or(u32::MAX)).min(MAX_BACKOFF)
}

/// What the views (progress, `status`, the room) say of an `agent_limited` event, times in
/// `tz`: "held until 14:05: claude: You've hit your session limit", "held until 14:06
/// (backing off): …", "held until 20:05 (max_hold), then fails: …", "failed as limited: …".
pub fn describe<Tz: TimeZone>(hold: &crate::events::LimitHold, until_ms: Option<u64>, reason: &str, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    use crate::events::LimitHold;
    let at = |ms: u64| {
        tz.timestamp_millis_opt(ms as i64).single().map_or_else(|| ms.to_string(), |t| t.format("%H:%M").to_string())
    };
    match (hold, until_ms) {
        (LimitHold::Fail, _) | (_, None) => format!("failed as limited: {reason}"),
        (LimitHold::Backoff, Some(until)) => format!("held until {} (backing off): {reason}", at(until)),
        (LimitHold::Capped, Some(until)) => format!("held until {} (max_hold), then fails: {reason}", at(until)),
        (_, Some(until)) => format!("held until {}: {reason}", at(until)),
    }
}

/// The hold still running at `now_ms` in a run's `events`, newest first per agent: its agent,
/// kind, end and reason (`resume` goes on holding it; `status` and the room show it).
pub fn holding(
    events: &[crate::events::Envelope],
    now_ms: u64,
) -> Vec<(String, crate::events::LimitHold, u64, String)> {
    let mut seen: Vec<String> = Vec::new();
    let mut held = Vec::new();
    for envelope in events.iter().rev() {
        if let crate::events::Event::AgentLimited { agent, hold, until_ms, reason, .. } = &envelope.event
            && !seen.contains(agent)
        {
            seen.push(agent.clone());
            if let Some(until) = until_ms.filter(|&until| until > now_ms) {
                held.push((agent.clone(), hold.clone(), until, reason.clone()));
            }
        }
    }
    held
}

/// [`describe`] in this machine's time zone.
pub fn describe_local(hold: &crate::events::LimitHold, until_ms: Option<u64>, reason: &str) -> String {
    describe(hold, until_ms, reason, &chrono::Local)
}

/// The limit an agent CLI's output ends on, if it does: `cli` is its name (`claude`, `codex`,
/// `gemini`, `aider`, `opencode`), `output` its stdout and stderr (or their tail), `now` the
/// moment it ended, in the time zone the CLI writes times in (the agent's: wavecrew's own).
pub fn read<Tz: TimeZone>(cli: &str, output: &str, now: &DateTime<Tz>) -> Option<Limit> {
    let events = output.lines().filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok());
    match cli {
        "claude" => claude(events, now),
        "codex" => codex(events, now),
        "gemini" => gemini(events, now),
        "aider" => aider::limit(output, now),
        "opencode" => opencode::limit(events, now),
        _ => None,
    }
}

/// Claude Code's `stream-json`: a `result` with `is_error` and `api_error_status: 429`. A
/// subscription's limit comes with a `rate_limit_event` whose `rate_limit_info` is `rejected`
/// with `resetsAt` (epoch seconds), and the result says "You've hit your session limit ·
/// resets 3:30pm (UTC)"; an API key's rate limit says "API Error: Request rejected (429) · …"
/// and no time (Claude Code retries a short `retry-after` itself, and gives up at once on a
/// long one).
fn claude<Tz: TimeZone>(events: impl Iterator<Item = Value>, now: &DateTime<Tz>) -> Option<Limit> {
    let mut resets_at = None;
    for event in events {
        match event["type"].as_str() {
            Some("rate_limit_event") if event["rate_limit_info"]["status"] == "rejected" => {
                resets_at = event["rate_limit_info"]["resetsAt"].as_u64();
            }
            Some("result") if event["is_error"] == true && event["api_error_status"] == 429 => {
                let said = one_line(event["result"].as_str().unwrap_or("rate limited (429)"));
                let reset = match resets_at {
                    Some(secs) => Reset::At(secs.saturating_mul(1000)),
                    None => claude_words(&said, now),
                };
                return Some(Limit { reason: format!("claude: {said}"), reset });
            }
            _ => {}
        }
    }
    None
}

/// The reset time in Claude Code's words: "resets 3:30pm (UTC)", "resets 2pm", or the older
/// "Claude AI usage limit reached|1733234400".
fn claude_words<Tz: TimeZone>(said: &str, now: &DateTime<Tz>) -> Reset {
    if let Some((_, secs)) = said.split_once("limit reached|")
        && let Ok(secs) = secs.trim().parse::<u64>()
    {
        return Reset::At(secs.saturating_mul(1000));
    }
    let Some(at) = said.find("resets ") else { return Reset::Unsaid };
    let words = &said[at + "resets ".len()..];
    let (time, zone) = match words.split_once(" (") {
        Some((time, zone)) => (time, zone.trim_end_matches(')')),
        None => (words, ""),
    };
    let time = time.trim().trim_end_matches('.');
    let parsed = if zone.eq_ignore_ascii_case("UTC") {
        wall_time(time, &now.with_timezone(&Utc))
    } else {
        // Another zone by name: only the agent's own (wavecrew's) can be read without a zone
        // database, and Claude Code names the zone it writes in, which is that one.
        wall_time(time, now)
    };
    parsed.map_or_else(|| Reset::Unreadable(words.to_owned()), Reset::At)
}

/// Codex's `--json`: `turn.failed` (after an `error`) with "You’ve hit your usage limit. …
/// try again at 3:30 PM." for a plan's usage limit (a later day: "try again at Dec 29th, 2025
/// 10:15 PM."), "exceeded retry limit, last status: 429 Too Many Requests" for a rate limit it
/// retried, "Quota exceeded. Check your plan and billing details." for an API key's quota.
fn codex<Tz: TimeZone>(events: impl Iterator<Item = Value>, now: &DateTime<Tz>) -> Option<Limit> {
    let failed = events.filter(|e| e["type"] == "turn.failed").last()?;
    let said = one_line(failed["error"]["message"].as_str()?);
    let lower = said.to_ascii_lowercase();
    let limited = lower.contains("hit your usage limit")
        || lower.contains("status: 429")
        || lower.contains("quota exceeded")
        || lower.contains("rate limit");
    if !limited {
        return None;
    }
    let reset = match lower.find("try again at ") {
        Some(at) => {
            let words = said[at + "try again at ".len()..].trim_end_matches('.');
            codex_time(words, now).map_or_else(|| Reset::Unreadable(words.to_owned()), Reset::At)
        }
        None => Reset::Unsaid,
    };
    Some(Limit { reason: format!("codex: {said}"), reset })
}

/// Codex's "3:30 PM" (today or tomorrow) or "Dec 29th, 2025 10:15 PM", in the agent's zone.
fn codex_time<Tz: TimeZone>(words: &str, now: &DateTime<Tz>) -> Option<u64> {
    if let Some(at) = wall_time(words, now) {
        return Some(at);
    }
    // "Dec 29th, 2025 10:15 PM": the ordinal's suffix goes, then it is a plain date and time.
    let plain: String = words
        .split(' ')
        .map(|word| {
            let digits = word.trim_end_matches(',').trim_end_matches(|c: char| c.is_ascii_alphabetic());
            if word.ends_with(',') && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
                format!("{digits},")
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let naive = chrono::NaiveDateTime::parse_from_str(&plain, "%b %d, %Y %I:%M %p").ok()?;
    let at = now.timezone().from_local_datetime(&naive).earliest()?;
    // Codex writes minutes: the limit lifts within the minute it names.
    Some((at.timestamp_millis() as u64).saturating_add(60_000))
}

/// Gemini CLI's `stream-json`: a `result` with `status: error` whose message is "[API Error: You
/// exceeded your current quota … Please retry in 599.999999s. Suggested retry after 600s.]" for
/// a per-minute quota (the delay is the API's `RetryInfo`), or "[API Error: You have exhausted
/// your daily quota on this model.]" with no time.
fn gemini<Tz: TimeZone>(events: impl Iterator<Item = Value>, now: &DateTime<Tz>) -> Option<Limit> {
    let result = events.filter(|e| e["type"] == "result" && e["status"] == "error").last()?;
    let message = result["error"]["message"].as_str()?;
    let lower = message.to_ascii_lowercase();
    let limited = lower.contains("exceeded your current quota")
        || lower.contains("exhausted your daily quota")
        || lower.contains("resource_exhausted")
        || lower.contains("status 429");
    if !limited {
        return None;
    }
    let delay = ["please retry in ", "suggested retry after "]
        .iter()
        .find_map(|words| lower.find(words).map(|at| &message[at + words.len()..]))
        .map(|rest| rest.split(|c: char| c.is_whitespace() || c == ']').next().unwrap_or(rest).trim_end_matches('.'));
    let reset = match delay {
        Some(words) => seconds(words)
            .map(|secs| (now.timestamp_millis() as u64).saturating_add((secs * 1000.0).ceil() as u64))
            .map_or_else(|| Reset::Unreadable(words.to_owned()), Reset::At),
        None => Reset::Unsaid,
    };
    let said = one_line(message.trim_start_matches("[API Error: "));
    let said = said.split(" * ").next().unwrap_or(&said).trim_end_matches(']').to_owned();
    Some(Limit { reason: format!("gemini: {said}"), reset })
}

/// "599.999999s", "60s", "2m30s" as seconds.
fn seconds(words: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut number = String::new();
    let mut any = false;
    for c in words.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'h' | 'm' | 's' if !number.is_empty() => {
                let value: f64 = number.parse().ok()?;
                total += value
                    * if c == 'h' {
                        3600.0
                    } else if c == 'm' {
                        60.0
                    } else {
                        1.0
                    };
                number.clear();
                any = true;
            }
            _ => return None,
        }
    }
    (any && number.is_empty() && total.is_finite()).then_some(total)
}

/// The reset in OpenAI's words, "Please try again in 523.942s." (also "20ms", "1m30s"), counted
/// from `base_ms`, the moment the API said it.
fn try_again_in(said: &str, base_ms: u64) -> Reset {
    let lower = said.to_ascii_lowercase();
    let Some(at) = lower.find("try again in ") else { return Reset::Unsaid };
    let rest = &said[at + "try again in ".len()..];
    let word = rest.split_whitespace().next().unwrap_or_default().trim_end_matches('.');
    let secs = match word.strip_suffix("ms") {
        Some(millis) => millis.parse::<f64>().ok().filter(|ms| ms.is_finite() && *ms >= 0.0).map(|ms| ms / 1000.0),
        None => seconds(word),
    };
    match secs {
        Some(secs) => Reset::At(base_ms.saturating_add((secs * 1000.0).ceil() as u64)),
        // The sentence it is in, to say what could not be read.
        None => {
            Reset::Unreadable(rest.split(". ").next().unwrap_or(rest).trim_end_matches('.').chars().take(80).collect())
        }
    }
}

/// A wall-clock time ("3:30pm", "3:30 PM", "2pm", "15:30") in `now`'s zone: the next such moment
/// (within a minute before `now` counts as now), plus the minute the CLI rounded away.
fn wall_time<Tz: TimeZone>(words: &str, now: &DateTime<Tz>) -> Option<u64> {
    let mut compact: String = words.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    if !compact.contains(':') && compact.len() > 2 {
        compact.insert_str(compact.len() - 2, ":00"); // "2pm": chrono wants the minutes
    }
    let time = ["%I:%M%P", "%H:%M"].iter().find_map(|f| NaiveTime::parse_from_str(&compact, f).ok())?;
    let today = now.timezone().from_local_datetime(&now.date_naive().and_time(time)).earliest()?;
    let mut at = today;
    if at.clone() + Span::minutes(1) <= *now {
        at += Span::days(1);
    }
    Some((at.timestamp_millis() as u64).saturating_add(60_000))
}

/// The first line of `text`, trimmed, at most 300 characters.
fn one_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    line.chars().take(300).collect()
}

mod aider;
mod opencode;

#[cfg(test)]
mod tests;

//! opencode's limit ending. `opencode run --format json` retries a 429 itself, five times:
//! after `retry-after-ms` or `retry-after` when the response has one (so a rate limit that says
//! when it lifts is waited out inside the attempt, which then goes on), else after 2, 4, 8, 16,
//! 30 s. It prints nothing while it waits; when it gives up, its last line is an `error` event
//! holding the API's whole answer, and it exits 1:
//!
//! ```text
//! {"type":"error","timestamp":1796322263815,"error":{"name":"APIError","data":{
//!  "message":"The usage limit has been reached","statusCode":429,"isRetryable":true,
//!  "responseHeaders":{…},"responseBody":"{\"error\":{…,\"resets_at\":1796322794,…}}"}}}
//! ```
//!
//! A limit is a 429, or an error body whose code says so; any other API error is not.

use super::{Limit, Reset, one_line, try_again_in};
use chrono::{DateTime, TimeZone};
use serde_json::Value;

/// The codes (`error.code`, `error.type` or `error.status` of the body) of the providers' limits:
/// OpenAI's, Anthropic's and Gemini's.
const LIMIT_CODES: [&str; 5] =
    ["rate_limit_exceeded", "insufficient_quota", "usage_limit_reached", "rate_limit_error", "RESOURCE_EXHAUSTED"];

/// The limit opencode's `events` end on, if they do, `now` being when it ended.
pub(super) fn limit<Tz: TimeZone>(events: impl Iterator<Item = Value>, now: &DateTime<Tz>) -> Option<Limit> {
    let event = events.last()?;
    if event["type"] != "error" {
        return None;
    }
    let data = &event["error"]["data"];
    let body: Value =
        data["responseBody"].as_str().and_then(|body| serde_json::from_str(body).ok()).unwrap_or_default();
    let error = &body["error"];
    let code_says =
        ["code", "type", "status"].iter().any(|key| error[key].as_str().is_some_and(|c| LIMIT_CODES.contains(&c)));
    if data["statusCode"] != 429 && !code_says {
        return None;
    }
    let said = data["message"].as_str().or(error["message"].as_str()).unwrap_or("rate limited (429)");
    // Delays count from when opencode printed the event (it gave up right after the answer).
    let base_ms = event["timestamp"].as_u64().unwrap_or(now.timestamp_millis() as u64);
    let reset = reset(error, &data["responseHeaders"], said, base_ms);
    Some(Limit { reason: format!("opencode: {}", one_line(said)), reset })
}

/// Where the reset is: the body's `resets_at` (epoch seconds) or `resets_in_seconds` (a plan's
/// usage limit), the `retry-after-ms` or `retry-after` header (seconds or an HTTP date, as
/// opencode itself reads them), or the message's "Please try again in 1.5s.".
fn reset(error: &Value, headers: &Value, said: &str, base_ms: u64) -> Reset {
    if let Some(secs) = error["resets_at"].as_u64() {
        return Reset::At(secs.saturating_mul(1000));
    }
    if let Some(secs) = error["resets_in_seconds"].as_u64() {
        return Reset::At(base_ms.saturating_add(secs.saturating_mul(1000)));
    }
    let number = |name: &str| headers[name].as_str().map(|v| (v, v.trim().parse::<f64>().ok().filter(|n| *n >= 0.0)));
    if let Some((value, millis)) = number("retry-after-ms") {
        return millis.map_or_else(
            || Reset::Unreadable(value.to_owned()),
            |ms| Reset::At(base_ms.saturating_add(ms.ceil() as u64)),
        );
    }
    if let Some((value, secs)) = number("retry-after") {
        return match secs {
            Some(secs) => Reset::At(base_ms.saturating_add((secs * 1000.0).ceil() as u64)),
            None => DateTime::parse_from_rfc2822(value).map_or_else(
                |_| Reset::Unreadable(value.to_owned()),
                |at| Reset::At(at.timestamp_millis().max(0) as u64),
            ),
        };
    }
    try_again_in(said, base_ms)
}

#[cfg(test)]
mod tests {
    //! The endings recorded from opencode 1.18.33 (`recorded/opencode-*.jsonl`: its stdout, run
    //! as the adapter runs it against llm-double serving OpenAI's 429 responses for 600 s, on
    //! 2026-12-03; see docs/agent-adapters.md).

    use super::*;
    use chrono::Utc;
    use proptest::prelude::*;

    fn read(output: &str) -> Option<Limit> {
        let events = output.lines().filter_map(|line| serde_json::from_str::<Value>(line).ok());
        limit(events, &Utc::now())
    }

    /// The recorded usage limit with its body's reset left out and `headers` added: the shapes
    /// of a limit opencode retried with `retry-after` and still gave up on.
    fn usage_with(headers: Value) -> String {
        let mut event: Value = serde_json::from_str(include_str!("recorded/opencode-usage.jsonl")).unwrap();
        let data = &mut event["error"]["data"];
        data["responseBody"] =
            r#"{"error":{"message":"The usage limit has been reached","type":"usage_limit_reached"}}"#.into();
        for (name, value) in headers.as_object().unwrap() {
            data["responseHeaders"][name] = value.clone();
        }
        event.to_string()
    }

    /// When the usage limit recording ended (its `timestamp`).
    const USAGE_ENDED_MS: u64 = 1_796_322_263_815;

    #[test]
    fn a_plan_s_usage_limit_resets_when_its_body_says() {
        let limit = read(include_str!("recorded/opencode-usage.jsonl")).expect("limited");
        assert_eq!(limit.reset, Reset::At(1_796_322_794_000));
        assert_eq!(limit.reason, "opencode: The usage limit has been reached");
    }

    #[test]
    fn a_rate_limit_or_quota_it_gave_up_on_without_a_delay_gives_no_time() {
        let rate = read(include_str!("recorded/opencode-rate-unsaid.jsonl")).expect("limited");
        assert_eq!(rate.reset, Reset::Unsaid);
        assert!(rate.reason.starts_with("opencode: Rate limit reached for sonnet in organization"), "{}", rate.reason);
        let quota = read(include_str!("recorded/opencode-quota.jsonl")).expect("limited");
        assert_eq!(quota.reset, Reset::Unsaid);
        assert!(quota.reason.starts_with("opencode: You exceeded your current quota"), "{}", quota.reason);
    }

    #[test]
    fn a_retry_after_header_counts_from_the_event() {
        let ms = read(&usage_with(serde_json::json!({"retry-after-ms": "1500"}))).unwrap();
        assert_eq!(ms.reset, Reset::At(USAGE_ENDED_MS + 1_500));
        let secs = read(&usage_with(serde_json::json!({"retry-after": "30"}))).unwrap();
        assert_eq!(secs.reset, Reset::At(USAGE_ENDED_MS + 30_000));
        let date = read(&usage_with(serde_json::json!({"retry-after": "Thu, 03 Dec 2026 18:40:00 GMT"}))).unwrap();
        assert_eq!(
            date.reset,
            Reset::At(Utc.with_ymd_and_hms(2026, 12, 3, 18, 40, 0).unwrap().timestamp_millis() as u64)
        );
        let odd = read(&usage_with(serde_json::json!({"retry-after": "soon"}))).unwrap();
        assert_eq!(odd.reset, Reset::Unreadable("soon".into()));
        assert_eq!(read(&usage_with(serde_json::json!({}))).unwrap().reset, Reset::Unsaid);
    }

    #[test]
    fn other_api_errors_and_an_answer_are_not_limits() {
        // A 5xx it retried five times, then gave up on.
        assert_eq!(read(include_str!("recorded/opencode-server-error.jsonl")), None);
        // A limit that is not the end: opencode went on after it.
        let usage = include_str!("recorded/opencode-usage.jsonl");
        let then_answered = format!("{usage}\n{{\"type\":\"step_finish\",\"part\":{{\"reason\":\"stop\"}}}}");
        assert_eq!(read(&then_answered), None);
        assert_eq!(read(include_str!("recorded/codex-usage.jsonl")), None);
    }

    proptest! {
        #[test]
        fn any_error_event_is_read_without_panic(status in prop::option::of(0u16..600), body in ".{0,200}", message in ".{0,200}", header in ".{0,40}") {
            let event = serde_json::json!({"type": "error", "timestamp": 5, "error": {"name": "APIError", "data": {
                "message": message, "statusCode": status, "responseBody": body,
                "responseHeaders": {"retry-after": header, "retry-after-ms": header}}}});
            let limit = read(&event.to_string());
            prop_assert_eq!(limit.is_some(), status == Some(429));
        }
    }
}

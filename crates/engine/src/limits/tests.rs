//! The limit endings recorded from the real CLIs (`recorded/`, each CLI run against llm-double
//! serving the provider's limit response on 2026-12-03 at about 15:20 UTC, with a reset 600 s
//! later where the response gave one; see docs/agent-adapters.md) and the hold decisions.

use super::*;
use chrono::FixedOffset;
use proptest::prelude::*;

/// When the recordings were made: the reset the double gave, 600 s later, is 15:30:11 UTC.
fn recorded_at() -> DateTime<Utc> {
    Utc.timestamp_opt(1_796_311_211, 0).unwrap()
}

fn ms(at: DateTime<Utc>) -> u64 {
    at.timestamp_millis() as u64
}

fn utc(h: u32, m: u32, s: u32) -> u64 {
    ms(Utc.with_ymd_and_hms(2026, 12, 3, h, m, s).unwrap())
}

#[test]
fn claude_s_subscription_limit_resets_when_its_rate_limit_event_says() {
    let limit = read("claude", include_str!("recorded/claude-usage.jsonl"), &recorded_at()).expect("limited");
    assert_eq!(limit.reset, Reset::At(1_796_311_811_000));
    assert_eq!(limit.reason, "claude: You've hit your session limit · resets 3:30pm (UTC)");
}

#[test]
fn claude_s_result_words_alone_give_the_reset_to_the_minute() {
    // Without the `rate_limit_event` line, the result's words are read (a minute later, as
    // Claude Code writes minutes).
    let only_result: Vec<&str> =
        include_str!("recorded/claude-usage.jsonl").lines().filter(|l| !l.contains("rate_limit_event")).collect();
    let only_result = only_result.join("\n");
    let limit = read("claude", &only_result, &recorded_at()).expect("limited");
    assert_eq!(limit.reset, Reset::At(utc(15, 31, 0)));
    let older = r#"{"type":"result","is_error":true,"api_error_status":429,"result":"Claude AI usage limit reached|1796313600"}"#;
    assert_eq!(read("claude", older, &recorded_at()).unwrap().reset, Reset::At(1_796_313_600_000));
}

#[test]
fn claude_s_api_rate_limit_gives_no_time() {
    let limit = read("claude", include_str!("recorded/claude-rate.jsonl"), &recorded_at()).expect("limited");
    assert_eq!(limit.reset, Reset::Unsaid);
    assert!(limit.reason.starts_with("claude: API Error: Request rejected (429)"), "{}", limit.reason);
}

#[test]
fn codex_s_usage_limit_resets_at_the_minute_after_the_one_it_names() {
    let limit = read("codex", include_str!("recorded/codex-usage.jsonl"), &recorded_at()).expect("limited");
    assert_eq!(limit.reset, Reset::At(utc(15, 31, 0)));
    assert!(limit.reason.starts_with("codex: You’ve hit your usage limit."), "{}", limit.reason);
    // A later day, in the agent's zone (here UTC+2).
    let zone = FixedOffset::east_opt(2 * 3600).unwrap();
    let far = r#"{"type":"turn.failed","error":{"message":"You've hit your usage limit. Try again at Dec 29th, 2026 10:15 PM."}}"#;
    let at = ms(Utc.with_ymd_and_hms(2026, 12, 29, 20, 16, 0).unwrap());
    assert_eq!(read("codex", far, &recorded_at().with_timezone(&zone)).unwrap().reset, Reset::At(at));
}

#[test]
fn codex_s_rate_limit_and_quota_give_no_time() {
    for file in [include_str!("recorded/codex-rate.jsonl"), include_str!("recorded/codex-quota.jsonl")] {
        assert_eq!(read("codex", file, &recorded_at()).expect("limited").reset, Reset::Unsaid);
    }
    let other = r#"{"type":"turn.failed","error":{"message":"stream disconnected before completion"}}"#;
    assert_eq!(read("codex", other, &recorded_at()), None);
}

#[test]
fn gemini_s_retry_delay_is_the_reset() {
    let now = recorded_at();
    let limit = read("gemini", include_str!("recorded/gemini-rate.jsonl"), &now).expect("limited");
    assert_eq!(limit.reset, Reset::At(ms(now) + 600_000));
    assert_eq!(limit.reason, "gemini: You exceeded your current quota, please check your plan and billing details.");
    // Without `RetryInfo` Gemini CLI still suggests a minute.
    let unsaid = read("gemini", include_str!("recorded/gemini-rate-unsaid.jsonl"), &now).expect("limited");
    assert_eq!(unsaid.reset, Reset::At(ms(now) + 60_000));
    let daily = read("gemini", include_str!("recorded/gemini-usage.jsonl"), &now).expect("limited");
    assert_eq!(daily.reset, Reset::Unsaid);
    assert_eq!(daily.reason, "gemini: You have exhausted your daily quota on this model.");
}

#[test]
fn other_failures_are_not_limits() {
    let now = recorded_at();
    let claude_500 = r#"{"type":"result","is_error":true,"api_error_status":500,"result":"API Error: 500"}"#;
    assert_eq!(read("claude", claude_500, &now), None);
    let gemini_500 = r#"{"type":"result","status":"error","error":{"message":"[API Error: Internal error]"}}"#;
    assert_eq!(read("gemini", gemini_500, &now), None);
    assert_eq!(read("aider", include_str!("recorded/claude-usage.jsonl"), &now), None);
}

#[test]
fn an_unreadable_reset_is_kept_to_say_so() {
    let line = r#"{"type":"result","is_error":true,"api_error_status":429,"result":"You've hit your limit · resets next Tuesday"}"#;
    assert_eq!(read("claude", line, &recorded_at()).unwrap().reset, Reset::Unreadable("next Tuesday".into()));
}

#[test]
fn wall_times_are_the_next_such_moment() {
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 23, 50, 0).unwrap();
    assert_eq!(wall_time("11:55pm", &now), Some(ms(Utc.with_ymd_and_hms(2026, 12, 3, 23, 56, 0).unwrap())));
    assert_eq!(wall_time("2am", &now), Some(ms(Utc.with_ymd_and_hms(2026, 12, 4, 2, 1, 0).unwrap())));
    assert_eq!(wall_time("3:05 PM", &now), Some(ms(Utc.with_ymd_and_hms(2026, 12, 4, 15, 6, 0).unwrap())));
    // The minute now is still now (the CLI wrote it rounded down).
    assert_eq!(wall_time("11:50pm", &now), Some(ms(now) + 60_000));
    assert_eq!(wall_time("soon", &now), None);
    assert_eq!(seconds("2m30s"), Some(150.0));
    assert_eq!(seconds("1.5s"), Some(1.5));
    assert_eq!(seconds("s"), None);
    assert_eq!(seconds("12"), None);
}

fn limit(reset: Reset) -> Limit {
    Limit { reason: "claude: usage limit".into(), reset }
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_reset_time_holds_the_agent_until_then() {
    let mut holds = Holds::default();
    let now = 1_000_000;
    let decision = holds.limited("claude", &limit(Reset::At(now + 20_000)), now, OnLimit::Wait, HOUR);
    assert_eq!(decision, Decision::Hold { until_ms: now + 20_000, why: HoldWhy::Reset });
    assert!(holds.is_held("claude", now + 19_999));
    assert!(!holds.is_held("claude", now + 20_000));
    assert!(!holds.is_held("codex", now), "other agents go on");
    assert_eq!(holds.next_release(now), Some(now + 20_000));
    assert_eq!(holds.next_release(now + 20_000), None);
}

#[test]
fn no_reset_backs_off_1_2_4_minutes_up_to_15_and_an_answer_starts_over() {
    let mut holds = Holds::default();
    let minutes: Vec<u64> = (0..6)
        .map(|_| match holds.limited("codex", &limit(Reset::Unsaid), 0, OnLimit::Wait, HOUR) {
            Decision::Hold { until_ms, why: HoldWhy::Backoff(secs) } => {
                assert_eq!(until_ms, secs * 1000);
                secs / 60
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(minutes, [1, 2, 4, 8, 15, 15]);
    holds.answered("codex");
    let again = holds.limited("codex", &limit(Reset::Unreadable("later".into())), 0, OnLimit::Wait, HOUR);
    assert_eq!(again, Decision::Hold { until_ms: 60_000, why: HoldWhy::Backoff(60) });
}

#[test]
fn a_past_reset_backs_off_and_a_far_one_is_capped_at_max_hold() {
    let mut holds = Holds::default();
    let now = 10_000_000;
    let past = holds.limited("gemini", &limit(Reset::At(now - 1)), now, OnLimit::Wait, HOUR);
    assert_eq!(past, Decision::Hold { until_ms: now + 60_000, why: HoldWhy::Backoff(60) });
    let far = holds.limited("gemini", &limit(Reset::At(now + 48 * 3_600_000)), now, OnLimit::Wait, HOUR);
    assert_eq!(far, Decision::Hold { until_ms: now + 3_600_000, why: HoldWhy::Capped });
    // A backoff never goes past max_hold either.
    let short = Duration::from_secs(30);
    let capped = holds.limited("other", &limit(Reset::Unsaid), now, OnLimit::Wait, short);
    assert_eq!(capped, Decision::Hold { until_ms: now + 30_000, why: HoldWhy::Backoff(30) });
}

#[test]
fn on_limit_fail_fails_and_holds_nothing() {
    let mut holds = Holds::default();
    assert_eq!(holds.limited("claude", &limit(Reset::At(5)), 0, OnLimit::Fail, HOUR), Decision::Fail);
    assert!(!holds.is_held("claude", 0));
}

#[test]
fn a_hold_read_back_from_the_journal_holds() {
    let mut holds = Holds::default();
    holds.restore("claude", 50_000, "claude: usage limit");
    assert!(holds.is_held("claude", 49_999));
    let hold = crate::events::LimitHold::Reset;
    let at = ms(Utc.with_ymd_and_hms(2026, 12, 3, 14, 5, 0).unwrap());
    assert_eq!(describe(&hold, Some(at), "claude usage limit", &Utc), "held until 14:05: claude usage limit");
    let fail = crate::events::LimitHold::Fail;
    assert_eq!(describe(&fail, None, "codex: 429", &Utc), "failed as limited: codex: 429");
}

proptest! {
    #[test]
    fn reading_any_output_never_panics(text in ".{0,400}", cli in prop::sample::select(vec!["claude", "codex", "gemini"])) {
        let _ = read(cli, &text, &recorded_at());
        let wrapped = format!(r#"{{"type":"result","is_error":true,"api_error_status":429,"result":{}}}"#, serde_json::json!(text));
        let _ = read("claude", &wrapped, &recorded_at());
        let gemini = format!(r#"{{"type":"result","status":"error","error":{{"message":{}}}}}"#, serde_json::json!(format!("exceeded your current quota {text}")));
        prop_assert!(read("gemini", &gemini, &recorded_at()).is_some());
    }

    #[test]
    fn a_wall_time_is_within_a_day_after_now(hour in 1u32..=12, minute in 0u32..60, pm: bool, offset in 0i64..86_400) {
        let now = recorded_at() + Span::seconds(offset);
        let words = format!("{hour}:{minute:02}{}", if pm { "pm" } else { "am" });
        let at = wall_time(&words, &now).expect("a wall time");
        let now_ms = ms(now);
        prop_assert!(at > now_ms && at <= now_ms + 86_400_000 + 60_000, "{words} at {now}: {at}");
        let shown = Utc.timestamp_millis_opt(at as i64 - 60_000).unwrap().format("%-I:%M%P").to_string();
        prop_assert_eq!(shown, words);
    }

    #[test]
    fn a_hold_never_ends_before_now_nor_after_max_hold(reset in prop::option::of(0u64..u64::MAX / 2), now in 0u64..u64::MAX / 4, n in 0usize..8, max in 1u64..100_000) {
        let mut holds = Holds::default();
        let max_hold = Duration::from_secs(max);
        for _ in 0..=n {
            let reset = reset.map_or(Reset::Unsaid, Reset::At);
            let Decision::Hold { until_ms, .. } = holds.limited("a", &limit(reset), now, OnLimit::Wait, max_hold) else {
                panic!("waits");
            };
            prop_assert!(until_ms > now && until_ms <= now + max * 1000);
        }
    }
}

//! aider's limit ending. aider (through litellm) retries a `RateLimitError` itself, waiting
//! 0.25, 0.5 … 32 s between tries (about a minute in all), printing the error and "Retrying in
//! 2.0 seconds..." each time; the limit it gives up on is the last error, with no "Retrying in"
//! after it, and aider still exits 0 (the adapter fails the attempt: no answer from the model).
//! Its plain output (`--no-pretty`) wraps at 80 columns, so an error's words run over lines:
//!
//! ```text
//! litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
//! sonnet in organization org-double on requests per min (RPM): Limit 500, Used
//! 500, Requested 1. Please try again in 523.942s. Visit
//! https://platform.openai.com/account/rate-limits to learn more.
//! The API provider has rate limited you. Try again later or check your quotas.
//! ```
//!
//! litellm raises `RateLimitError` for every 429: a rate limit ("Please try again in 523.942s."
//! when the API says when), an API key's quota (`insufficient_quota`), a plan's usage limit.
//! Any other error (a 400, a 5xx it gave up on) is not a limit.

use super::{Limit, one_line, try_again_in};
use chrono::{DateTime, TimeZone};

/// What starts the line of an error litellm raised, as aider prints it.
const ERROR: &str = "litellm.";
/// The error of a 429.
const RATE_LIMIT: &str = "litellm.RateLimitError:";
/// What starts aider's own line after an error of the API: "The API provider has rate limited
/// you. Try again later or check your quotas."
const DESCRIPTION: &str = "The API provider";
/// What starts aider's line when it tries again: "Retrying in 2.0 seconds...".
const RETRYING: &str = "Retrying in ";

/// The limit aider's `output` ends on, if it does, `now` being when it ended (a delay in its
/// words counts from then).
pub(super) fn limit<Tz: TimeZone>(output: &str, now: &DateTime<Tz>) -> Option<Limit> {
    let lines: Vec<&str> = output.lines().map(str::trim).collect();
    let last = lines.iter().rposition(|line| line.starts_with(ERROR))?;
    if !lines[last].starts_with(RATE_LIMIT) {
        return None;
    }
    let after = &lines[last + 1..];
    if after.iter().any(|line| line.starts_with(RETRYING)) {
        return None; // it tried again: what came of that is elsewhere in the output
    }
    // The lines its message wraps onto, up to aider's own words about it (or a blank line).
    let wrapped = after.iter().take_while(|line| !line.is_empty() && !line.starts_with(DESCRIPTION));
    let message: Vec<&str> = std::iter::once(&lines[last]).chain(wrapped).copied().collect();
    let message = message.join(" ");
    // "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached …": the
    // API's own words are after the exception's name.
    let said = match message.split_once("Exception - ") {
        Some((_, words)) => words,
        None => message.trim_start_matches(RATE_LIMIT).trim_start().trim_start_matches("RateLimitError:").trim_start(),
    };
    let reset = try_again_in(said, now.timestamp_millis() as u64);
    Some(Limit { reason: format!("aider: {}", one_line(said)), reset })
}

#[cfg(test)]
mod tests {
    //! The endings recorded from aider 0.86.2 (`recorded/aider-*.txt`: its stdout and stderr,
    //! run as the adapter runs it against llm-double serving OpenAI's 429 responses for 600 s,
    //! on 2026-12-03; see docs/agent-adapters.md).

    use super::*;
    use crate::limits::Reset;
    use chrono::Utc;
    use proptest::prelude::*;

    /// When the rate limit recording ended (it said "Please try again in 523.942s.").
    fn ended() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 18, 20, 3).unwrap()
    }

    fn ms(at: DateTime<Utc>) -> u64 {
        at.timestamp_millis() as u64
    }

    #[test]
    fn a_rate_limit_it_gave_up_on_resets_after_the_delay_of_its_last_try() {
        let limit = limit(include_str!("recorded/aider-rate.txt"), &ended()).expect("limited");
        assert_eq!(limit.reset, Reset::At(ms(ended()) + 523_942));
        assert!(
            limit
                .reason
                .starts_with("aider: Rate limit reached for sonnet in organization org-double on requests per min"),
            "{}",
            limit.reason
        );
        // The wrapped lines are one message again.
        assert!(limit.reason.contains("Used 500, Requested 1."), "{}", limit.reason);
    }

    #[test]
    fn a_rate_limit_quota_or_usage_limit_without_a_delay_gives_no_time() {
        for (file, words) in [
            (include_str!("recorded/aider-rate-unsaid.txt"), "aider: Rate limit reached for sonnet"),
            (
                include_str!("recorded/aider-quota.txt"),
                "aider: You exceeded your current quota, please check your plan",
            ),
            (include_str!("recorded/aider-usage.txt"), "aider: The usage limit has been reached"),
        ] {
            let limit = limit(file, &ended()).expect("limited");
            assert_eq!(limit.reset, Reset::Unsaid, "{words}");
            assert!(limit.reason.starts_with(words), "{}", limit.reason);
        }
    }

    #[test]
    fn other_api_errors_and_a_limit_it_retried_are_not_limits() {
        // A 400 fails at once; a 5xx is retried for a minute, then given up on as a limit is.
        assert_eq!(limit(include_str!("recorded/aider-error.txt"), &ended()), None);
        assert_eq!(limit(include_str!("recorded/aider-server-error.txt"), &ended()), None);
        // Cut after a "Retrying in": aider was still trying (stopped by a timeout, say).
        let rate = include_str!("recorded/aider-rate.txt");
        let retrying = &rate[..rate.find("Retrying in 32.0 seconds...").unwrap() + 30];
        assert_eq!(limit(retrying, &ended()), None);
        // Nothing of litellm at all: an answer, or another CLI's output.
        assert_eq!(limit("Applied edit to hello.txt\nTokens: 766 sent, 2 received.", &ended()), None);
    }

    #[test]
    fn a_delay_it_cannot_read_is_kept_to_say_so() {
        let output = "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit\nreached. Please try again in a while.\n";
        assert_eq!(limit(output, &ended()).unwrap().reset, Reset::Unreadable("a while".into()));
        let millis = "litellm.RateLimitError: RateLimitError: OpenAIException - Please try again in 20ms.";
        assert_eq!(limit(millis, &ended()).unwrap().reset, Reset::At(ms(ended()) + 20));
    }

    proptest! {
        #[test]
        fn any_output_is_read_without_panic(text in "(litellm\\.RateLimitError: |Retrying in |try again in |\n|.){0,300}") {
            if let Some(limit) = limit(&text, &ended()) {
                prop_assert!(limit.reason.starts_with("aider: "));
            }
        }
    }
}

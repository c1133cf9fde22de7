//! What a hold's [`Decision`] says, the same wherever an agent call was limited: the
//! `agent_limited` event that journals it ([`event`]), and why the call fails as limited when it
//! does ([`failure`]). The run loop uses them for a task's attempt and a gate's fix round or
//! review (which hold through the scheduler), the final verification for its verifier of the
//! truths (which holds by itself, after the loop: `verify::hold`).

use super::{Decision, HoldWhy, Limit, Reset};
use crate::events::{Event, LimitHold};
use std::time::Duration;

/// What the CLI said of `limit`, with a note when its reset time could not be read.
pub fn said(limit: &Limit) -> String {
    match &limit.reset {
        Reset::Unreadable(words) => {
            format!("{} (its reset time `{words}` could not be read: backing off)", limit.reason)
        }
        Reset::At(_) | Reset::Unsaid => limit.reason.clone(),
    }
}

/// The `agent_limited` event of `agent`'s call for `task` (its attempt, or a gate's round)
/// that ended on `limit`, held as `decision` says.
pub fn event(agent: &str, task: &str, attempt: u32, limit: &Limit, decision: &Decision) -> Event {
    let reset_ms = match limit.reset {
        Reset::At(at) => Some(at),
        Reset::Unsaid | Reset::Unreadable(_) => None,
    };
    let (hold, until_ms) = match decision {
        Decision::Hold { until_ms, why: HoldWhy::Reset } => (LimitHold::Reset, Some(*until_ms)),
        Decision::Hold { until_ms, why: HoldWhy::Backoff(_) } => (LimitHold::Backoff, Some(*until_ms)),
        Decision::Hold { until_ms, why: HoldWhy::Capped } => (LimitHold::Capped, Some(*until_ms)),
        Decision::Fail => (LimitHold::Fail, None),
    };
    Event::AgentLimited {
        agent: agent.to_owned(),
        task: task.to_owned(),
        attempt,
        hold,
        until_ms,
        reset_ms,
        reason: said(limit),
    }
}

/// Why a call limited by `limit` fails as limited under `decision`: at once (`--on-limit
/// fail`), or once a hold capped at `max_hold` ends. `None` when it runs again after the hold.
pub fn failure(limit: &Limit, decision: &Decision, max_hold: Duration) -> Option<String> {
    let said = said(limit);
    match decision {
        Decision::Fail => Some(format!("{said} (--on-limit fail)")),
        Decision::Hold { why: HoldWhy::Capped, .. } => {
            Some(format!("{said}: it resets later than [run] max_hold ({} s) allows to wait", max_hold.as_secs()))
        }
        Decision::Hold { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(reset: Reset) -> Limit {
        Limit { reason: "claude: You've hit your session limit".into(), reset }
    }

    #[test]
    fn the_event_names_the_call_the_hold_and_the_reset_the_cli_gave() {
        let hold = Decision::Hold { until_ms: 9_000, why: HoldWhy::Reset };
        let Event::AgentLimited { agent, task, attempt, hold, until_ms, reset_ms, reason } =
            event("claude", "2.1", 3, &limit(Reset::At(9_000)), &hold)
        else {
            panic!("an agent_limited event")
        };
        assert_eq!((agent.as_str(), task.as_str(), attempt), ("claude", "2.1", 3));
        assert_eq!((hold, until_ms, reset_ms), (LimitHold::Reset, Some(9_000), Some(9_000)));
        assert_eq!(reason, "claude: You've hit your session limit");

        let backoff = Decision::Hold { until_ms: 60_000, why: HoldWhy::Backoff(60) };
        let Event::AgentLimited { hold, reset_ms, reason, .. } =
            event("claude", "verification", 1, &limit(Reset::Unreadable("soon".into())), &backoff)
        else {
            panic!("an agent_limited event")
        };
        assert_eq!((hold, reset_ms), (LimitHold::Backoff, None));
        assert!(reason.ends_with("(its reset time `soon` could not be read: backing off)"), "{reason}");

        let Event::AgentLimited { hold, until_ms, .. } =
            event("claude", "1.1", 1, &limit(Reset::Unsaid), &Decision::Fail)
        else {
            panic!("an agent_limited event")
        };
        assert_eq!((hold, until_ms), (LimitHold::Fail, None));
    }

    #[test]
    fn only_a_failing_or_capped_hold_fails_the_call_and_says_why() {
        let max = Duration::from_secs(3);
        let limited = limit(Reset::At(1));
        assert_eq!(
            failure(&limited, &Decision::Fail, max).as_deref(),
            Some("claude: You've hit your session limit (--on-limit fail)")
        );
        let capped = Decision::Hold { until_ms: 3_000, why: HoldWhy::Capped };
        assert_eq!(
            failure(&limited, &capped, max).as_deref(),
            Some("claude: You've hit your session limit: it resets later than [run] max_hold (3 s) allows to wait")
        );
        for why in [HoldWhy::Reset, HoldWhy::Backoff(60)] {
            assert_eq!(failure(&limited, &Decision::Hold { until_ms: 1, why }, max), None);
        }
    }
}

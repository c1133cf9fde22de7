//! The report's spend by model: for each agent and model the run's attempts ran on, how many
//! attempts, which tasks landed on it, and the tokens and cost, read from `attempt_started`,
//! the usage of `agent_activity`, and `task_committed`. With escalation a task's attempts run on
//! several models; this is where a reader sees which one did the work and what each cost.

use crate::events::{ActivityKind, Envelope, Event};
use serde::Serialize;
use std::collections::HashMap;

/// What the attempts on one agent and model came to.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ModelSpend {
    /// The agent.
    pub agent: String,
    /// The model (as the plan names it); `None`: the agent's default.
    pub model: Option<String>,
    /// Attempts (and gates' rounds, reviews, the verifier) started on it.
    pub attempts: u32,
    /// The tasks whose landed attempt ran on it.
    pub landed: Vec<String>,
    /// Tokens read.
    pub tokens_in: u64,
    /// Tokens written.
    pub tokens_out: u64,
    /// What it cost, when known.
    pub cost_usd: Option<f64>,
}

/// The agent and model of each attempt, by (task, attempt): the newest start of it.
pub(super) type Starts<'a> = HashMap<(&'a str, u32), (&'a str, Option<&'a str>)>;

/// The agent and model each task's attempts ran on.
pub(super) fn starts(events: &[Envelope]) -> Starts<'_> {
    let mut starts = HashMap::new();
    for envelope in events {
        if let Event::AttemptStarted { task, attempt, agent, model, .. } = &envelope.event {
            starts.insert((task.as_str(), *attempt), (agent.as_str(), model.as_deref()));
        }
    }
    starts
}

/// The spend of each agent and model, in the order they were first started on.
pub(super) fn by_model(events: &[Envelope], starts: &Starts<'_>) -> Vec<ModelSpend> {
    let mut spends: Vec<ModelSpend> = Vec::new();
    let mut entry = |agent: &str, model: Option<&str>| -> usize {
        match spends.iter().position(|s| s.agent == agent && s.model.as_deref() == model) {
            Some(index) => index,
            None => {
                spends.push(ModelSpend {
                    agent: agent.to_owned(),
                    model: model.map(str::to_owned),
                    ..Default::default()
                });
                spends.len() - 1
            }
        }
    };
    let mut rows: Vec<(usize, &Event)> = Vec::new();
    for envelope in events {
        let (task, attempt) = match &envelope.event {
            Event::AttemptStarted { task, attempt, .. }
            | Event::AgentActivity { task, attempt, kind: ActivityKind::Usage, .. }
            | Event::TaskCommitted { task, attempt, .. } => (task.as_str(), *attempt),
            _ => continue,
        };
        let Some(&(agent, model)) = starts.get(&(task, attempt)) else { continue };
        rows.push((entry(agent, model), &envelope.event));
    }
    for (index, event) in rows {
        let spend = &mut spends[index];
        match event {
            Event::AttemptStarted { .. } => spend.attempts += 1,
            Event::AgentActivity { tokens_in, tokens_out, cost_usd, .. } => {
                spend.tokens_in += tokens_in.unwrap_or(0);
                spend.tokens_out += tokens_out.unwrap_or(0);
                if let Some(cost) = cost_usd {
                    spend.cost_usd = Some(spend.cost_usd.unwrap_or(0.0) + cost);
                }
            }
            Event::TaskCommitted { task, .. } => spend.landed.push(task.clone()),
            _ => {}
        }
    }
    spends
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentRole;

    fn envelope(event: Event) -> Envelope {
        Envelope { run: "r".into(), seq: 0, at_ms: 0, event }
    }

    fn started(task: &str, attempt: u32, model: &str, role: Option<AgentRole>) -> Envelope {
        envelope(Event::AttemptStarted {
            task: task.into(),
            attempt,
            lane: "A".into(),
            agent: "claude".into(),
            model: Some(model.into()),
            worktree: "/w".into(),
            base: "b".into(),
            role,
        })
    }

    fn usage(task: &str, attempt: u32, tokens: u64, cost: f64) -> Envelope {
        envelope(Event::AgentActivity {
            task: task.into(),
            attempt,
            kind: ActivityKind::Usage,
            detail: String::new(),
            tokens_in: Some(tokens),
            tokens_out: Some(tokens / 10),
            cost_usd: Some(cost),
        })
    }

    #[test]
    fn each_model_gets_its_attempts_tokens_cost_and_the_tasks_that_landed_on_it() {
        let events = vec![
            started("1.1", 1, "haiku", None),
            usage("1.1", 1, 1000, 0.01),
            envelope(Event::AttemptFailed { task: "1.1".into(), attempt: 1, reason: "Verify".into() }),
            started("1.1", 2, "sonnet", None),
            usage("1.1", 2, 3000, 0.05),
            envelope(Event::TaskCommitted { task: "1.1".into(), attempt: 2, commit: "c".into(), message: "m".into() }),
            started("1.2", 1, "haiku", None),
            usage("1.2", 1, 500, 0.005),
            envelope(Event::TaskCommitted { task: "1.2".into(), attempt: 1, commit: "d".into(), message: "m".into() }),
            started("verification", 1, "opus", Some(AgentRole::Verify)),
        ];
        let spends = by_model(&events, &starts(&events));
        let haiku = &spends[0];
        assert_eq!((haiku.model.as_deref(), haiku.attempts, haiku.tokens_in), (Some("haiku"), 2, 1500));
        assert_eq!(haiku.landed, ["1.2"]);
        assert!((haiku.cost_usd.unwrap() - 0.015).abs() < 1e-12);
        let sonnet = &spends[1];
        assert_eq!((sonnet.attempts, sonnet.tokens_in, sonnet.tokens_out), (1, 3000, 300));
        assert_eq!(sonnet.landed, ["1.1"], "the task landed on the model it escalated to");
        assert_eq!((spends[2].model.as_deref(), spends[2].attempts, spends[2].cost_usd), (Some("opus"), 1, None));
        assert_eq!(spends.len(), 3);
    }
}

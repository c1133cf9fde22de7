//! Budgets per task, per wave and per run (`[budget]`), in US dollars or in tokens, and what
//! the run spent against them.
//!
//! - [`Amount`] is a cap as written (`"$2.50"`, `"200k tokens"`); [`Budgets`] the three caps
//!   and the first guess of an attempt's cost.
//! - [`Ledger`] counts what attempts spent, per task and per model (tokens count cache reads and
//!   writes as the price table prices them: see [`Cost`]).
//! - [`reserve`] is the one decision of a wave about to fan out: may this task start, given
//!   what its wave and the run spent and what the tasks running hold reserved? It is pure.
//!
//! An attempt that goes over its task's cap is stopped where it is (see `launch.rs`) and the
//! task fails without another attempt; the run loop holds the reservations.

use std::collections::HashMap;
use std::fmt;

/// A cap: US dollars, or tokens (input, output, cache reads and cache writes together).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// US dollars.
    Usd(f64),
    /// Tokens.
    Tokens(u64),
}

/// Why a budget's text is not an [`Amount`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// It is neither dollars nor tokens.
    #[error("`{0}` is not an amount: write dollars (\"$2.50\") or tokens (\"200k tokens\")")]
    Unparseable(String),
    /// It is zero or negative: nothing could ever start.
    #[error("`{0}` must be more than zero (leave the key out for no budget)")]
    NotPositive(String),
}

impl Amount {
    /// Reads `$2.50`, `2.50 USD`, `2.5` (dollars), or `200k tokens`, `1.5M tokens`, `5000 tokens`.
    pub fn parse(text: &str) -> Result<Amount, AmountError> {
        let unparseable = || AmountError::Unparseable(text.to_owned());
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        let amount = if let Some(count) = lower.strip_suffix("tokens").or_else(|| lower.strip_suffix("token")) {
            let count = count.trim();
            let (number, scale) = match count.char_indices().last() {
                Some((at, 'k')) => (&count[..at], 1e3),
                Some((at, 'm')) => (&count[..at], 1e6),
                _ => (count, 1.0),
            };
            let value: f64 = number.trim().parse().map_err(|_| unparseable())?;
            if !value.is_finite() {
                return Err(unparseable());
            }
            if value <= 0.0 {
                return Err(AmountError::NotPositive(text.to_owned()));
            }
            Amount::Tokens((value * scale).round() as u64)
        } else {
            let number = lower.strip_prefix('$').or_else(|| lower.strip_suffix("usd")).unwrap_or(&lower).trim();
            let value: f64 = number.parse().map_err(|_| unparseable())?;
            if !value.is_finite() {
                return Err(unparseable());
            }
            Amount::Usd(value)
        };
        match amount {
            Amount::Usd(usd) if usd <= 0.0 => Err(AmountError::NotPositive(text.to_owned())),
            Amount::Tokens(0) => Err(AmountError::NotPositive(text.to_owned())),
            amount => Ok(amount),
        }
    }

    /// Whether `cost` reaches this cap.
    pub fn reached_by(self, cost: Cost) -> bool {
        match self {
            Amount::Usd(cap) => cost.usd >= cap,
            Amount::Tokens(cap) => cost.tokens >= cap,
        }
    }

    /// Whether `cost` is more than this cap.
    fn exceeded_by(self, cost: Cost) -> bool {
        match self {
            Amount::Usd(cap) => cost.usd > cap + 1e-9,
            Amount::Tokens(cap) => cost.tokens > cap,
        }
    }

    /// The amount as a cost: dollars or tokens, the other unit nothing.
    pub fn as_cost(self) -> Cost {
        match self {
            Amount::Usd(usd) => Cost { usd, tokens: 0 },
            Amount::Tokens(tokens) => Cost { usd: 0.0, tokens },
        }
    }

    /// `cost` in this cap's unit, for messages.
    pub fn show(self, cost: Cost) -> String {
        match self {
            Amount::Usd(_) => format!("${:.4}", cost.usd),
            Amount::Tokens(_) => format!("{} tokens", cost.tokens),
        }
    }
}

/// As written in the configuration: `$2.50`, `200000 tokens`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Usd(usd) => write!(f, "${usd:.2}"),
            Amount::Tokens(tokens) => write!(f, "{tokens} tokens"),
        }
    }
}

/// What something cost: US dollars (when known) and tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cost {
    /// US dollars.
    pub usd: f64,
    /// Tokens: input, output, cache reads and cache writes.
    pub tokens: u64,
}

impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, other: Cost) -> Cost {
        Cost { usd: self.usd + other.usd, tokens: self.tokens + other.tokens }
    }
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, other: Cost) {
        *self = *self + other;
    }
}

/// `[budget]`: the caps of a run, each optional.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Budgets {
    /// What one task may spend over all its attempts: an attempt that goes over is stopped, and
    /// the task fails without another attempt.
    pub task: Option<Amount>,
    /// What the tasks of one wave may spend together: a task starts only once its wave can pay
    /// for its estimate.
    pub wave: Option<Amount>,
    /// What the whole run may spend: nothing new starts once it is spent, and a task starts only
    /// once the run can pay for its estimate. (`--budget USD` is the same in dollars, and wins.)
    pub run: Option<Amount>,
    /// What an attempt on a model no attempt finished on yet is taken to cost (in the unit of
    /// the caps it is checked against; none: nothing).
    pub estimate: Option<Amount>,
}

impl Budgets {
    /// Whether any cap is set.
    pub fn any(&self) -> bool {
        self.task.is_some() || self.wave.is_some() || self.run.is_some()
    }
}

/// What the attempts of a run spent: per task, and per model for the estimates.
#[derive(Debug, Default)]
pub struct Ledger {
    tasks: HashMap<String, Cost>,
    /// What each task spent before the run was resumed: it counts for the wave's and the run's
    /// budgets, not for the task's own cap (a resume is a person's word to try again).
    before: HashMap<String, Cost>,
    /// Each attempt's model and spend, by (task, attempt), and whether it finished.
    attempts: HashMap<(String, u32), (Option<String>, Cost, bool)>,
}

impl Ledger {
    /// Attempt `attempt` of `task`, on `model`, spent `cost` more.
    pub fn add(&mut self, task: &str, attempt: u32, model: Option<&str>, cost: Cost) {
        *self.tasks.entry(task.to_owned()).or_default() += cost;
        let entry = self
            .attempts
            .entry((task.to_owned(), attempt))
            .or_insert_with(|| (model.map(str::to_owned), Cost::default(), false));
        entry.1 += cost;
    }

    /// The ledger of a resumed run, from its journaled events: each attempt's model (from
    /// `attempt_started`), its usage, and whether its agent exited; what each task spent counts
    /// for its wave and the run, and its own cap starts again. Cache tokens are not journaled:
    /// what earlier attempts read from and wrote to the cache counts in dollars only.
    pub fn resumed(events: &[crate::events::Envelope]) -> Ledger {
        use crate::events::{ActivityKind, Event};
        let mut ledger = Ledger::default();
        let mut models: HashMap<(&str, u32), Option<&str>> = HashMap::new();
        for envelope in events {
            match &envelope.event {
                Event::AttemptStarted { task, attempt, model, .. } => {
                    models.insert((task, *attempt), model.as_deref());
                }
                Event::AgentActivity {
                    task,
                    attempt,
                    kind: ActivityKind::Usage,
                    tokens_in,
                    tokens_out,
                    cost_usd,
                    ..
                } => {
                    let model = models.get(&(task.as_str(), *attempt)).copied().flatten();
                    let tokens = tokens_in.unwrap_or(0) + tokens_out.unwrap_or(0);
                    ledger.add(task, *attempt, model, Cost { usd: cost_usd.unwrap_or(0.0), tokens });
                }
                Event::AgentExited { task, attempt, .. } => {
                    let model = models.get(&(task.as_str(), *attempt)).copied().flatten();
                    ledger.finish(task, *attempt, model);
                }
                _ => {}
            }
        }
        ledger.before = std::mem::take(&mut ledger.tasks);
        ledger
    }

    /// Attempt `attempt` of `task` on `model` ended: its spend counts in the model's estimate.
    pub fn finish(&mut self, task: &str, attempt: u32, model: Option<&str>) {
        let entry = self
            .attempts
            .entry((task.to_owned(), attempt))
            .or_insert_with(|| (model.map(str::to_owned), Cost::default(), false));
        entry.2 = true;
    }

    /// What `task` spent over all its attempts (since the run was resumed): what its cap counts.
    pub fn task(&self, task: &str) -> Cost {
        self.tasks.get(task).copied().unwrap_or_default()
    }

    /// What every task spent together, before a resume too.
    pub fn total(&self) -> Cost {
        self.tasks.values().chain(self.before.values()).fold(Cost::default(), |sum, c| sum + *c)
    }

    /// What `tasks` spent together, before a resume too: what their wave's budget counts.
    pub fn tasks<'a>(&self, tasks: impl IntoIterator<Item = &'a str>) -> Cost {
        let before = |task| self.before.get(task).copied().unwrap_or_default();
        tasks.into_iter().fold(Cost::default(), |sum, task| sum + self.task(task) + before(task))
    }

    /// The estimate of an attempt on `model`: the mean of the attempts that finished on it, else
    /// `first_guess`, else nothing.
    pub fn estimate(&self, model: Option<&str>, first_guess: Option<Amount>) -> Cost {
        let finished: Vec<Cost> =
            self.attempts.values().filter(|(m, _, done)| *done && m.as_deref() == model).map(|(_, c, _)| *c).collect();
        if finished.is_empty() {
            return first_guess.map(Amount::as_cost).unwrap_or_default();
        }
        let n = finished.len() as f64;
        let sum = finished.iter().fold(Cost::default(), |sum, c| sum + *c);
        Cost { usd: sum.usd / n, tokens: (sum.tokens as f64 / n).round() as u64 }
    }
}

/// One budget a task's start is checked against: its cap, what was spent against it, what the
/// tasks running under it hold reserved, and whether any of them runs (whose end may leave room).
#[derive(Clone, Copy, Debug)]
pub struct Room {
    /// `wave 2` or `run`, for messages.
    pub scope: Scope,
    /// The cap.
    pub cap: Amount,
    /// Spent so far.
    pub spent: Cost,
    /// Reserved by the tasks running under it.
    pub reserved: Cost,
    /// Whether a task runs under it now.
    pub busy: bool,
}

/// Which budget a [`Room`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A wave's, by its number.
    Wave(u32),
    /// The run's.
    Run,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Wave(number) => write!(f, "wave {number}'s budget"),
            Scope::Run => f.write_str("the run's budget"),
        }
    }
}

/// What [`reserve`] decided for a task about to start.
#[derive(Clone, Debug, PartialEq)]
pub enum Reserve {
    /// It starts, holding its estimate reserved.
    Start,
    /// It waits until a running task ends: that may leave room (a task spends less than its
    /// estimate, and its reservation is given back).
    Wait(String),
    /// Nothing that runs can make room: the run stops starting tasks, for this reason. A
    /// `resume` with a larger budget goes on.
    Stop(String),
}

/// Whether `task`, estimated to cost `estimate`, may start under `rooms` (its wave's budget,
/// the run's: those that are set). It starts when every room can pay for it on top of what was
/// spent and reserved; else it waits while a task under a full room runs, and else the run
/// stops. The first room that cannot pay is named.
pub fn reserve(task: &str, estimate: Cost, rooms: &[Room]) -> Reserve {
    for room in rooms {
        let ask = room.spent + room.reserved + estimate;
        if !room.cap.exceeded_by(ask) && !room.cap.reached_by(room.spent) {
            continue;
        }
        let why = format!(
            "{} of {} cannot pay for task {task}: {} spent, {} reserved by running tasks, its estimate is {}",
            room.scope,
            room.cap,
            room.cap.show(room.spent),
            room.cap.show(room.reserved),
            room.cap.show(estimate)
        );
        return if room.busy { Reserve::Wait(why) } else { Reserve::Stop(why) };
    }
    Reserve::Start
}

/// Why an attempt of `task` that spent `spent` is stopped by the task's `cap`, if it is.
pub fn over_task_cap(task: &str, cap: Option<Amount>, spent: Cost) -> Option<String> {
    let cap = cap?;
    cap.exceeded_by(spent).then(|| {
        format!(
            "task {task} spent {} of its budget of {cap} ([budget] task): the agent was stopped, and the task gets no other attempt",
            cap.show(spent)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(usd: f64) -> Cost {
        Cost { usd, tokens: 0 }
    }

    #[test]
    fn amounts_read_dollars_and_tokens_and_refuse_the_rest() {
        assert_eq!(Amount::parse("$2.50"), Ok(Amount::Usd(2.5)));
        assert_eq!(Amount::parse(" 2.5 USD "), Ok(Amount::Usd(2.5)));
        assert_eq!(Amount::parse("3"), Ok(Amount::Usd(3.0)));
        assert_eq!(Amount::parse("200k tokens"), Ok(Amount::Tokens(200_000)));
        assert_eq!(Amount::parse("1.5M tokens"), Ok(Amount::Tokens(1_500_000)));
        assert_eq!(Amount::parse("5000 tokens"), Ok(Amount::Tokens(5000)));
        assert_eq!(Amount::parse("$0"), Err(AmountError::NotPositive("$0".into())));
        assert_eq!(Amount::parse("-1"), Err(AmountError::NotPositive("-1".into())));
        assert_eq!(Amount::parse("0 tokens"), Err(AmountError::NotPositive("0 tokens".into())));
        assert!(matches!(Amount::parse("two dollars"), Err(AmountError::Unparseable(_))));
        assert!(matches!(Amount::parse("$NaN"), Err(AmountError::Unparseable(_))));
        assert!(matches!(Amount::parse("inf tokens"), Err(AmountError::Unparseable(_))));
        assert!(matches!(Amount::parse(""), Err(AmountError::Unparseable(_))));
    }

    proptest::proptest! {
        /// Any text reads as an amount above zero or as an error; never a panic, never zero.
        #[test]
        fn any_text_reads_as_a_positive_amount_or_an_error(text in ".{0,24}") {
            match Amount::parse(&text) {
                Ok(Amount::Usd(usd)) => proptest::prop_assert!(usd > 0.0 && usd.is_finite()),
                Ok(Amount::Tokens(tokens)) => proptest::prop_assert!(tokens > 0),
                Err(_) => {}
            }
        }

        /// What an amount shows reads back as the same amount.
        #[test]
        fn amounts_read_back_as_shown(cents in 1u64..1_000_000, tokens in 1u64..10_000_000_000) {
            let dollars = Amount::Usd(cents as f64 / 100.0);
            proptest::prop_assert_eq!(Amount::parse(&dollars.to_string()), Ok(dollars));
            proptest::prop_assert_eq!(Amount::parse(&Amount::Tokens(tokens).to_string()), Ok(Amount::Tokens(tokens)));
        }
    }

    #[test]
    fn the_estimate_is_the_mean_of_finished_attempts_on_the_model_else_the_first_guess() {
        let mut ledger = Ledger::default();
        let guess = Some(Amount::Usd(0.5));
        assert_eq!(ledger.estimate(Some("haiku"), guess), usd(0.5));
        assert_eq!(ledger.estimate(Some("haiku"), None), Cost::default());
        ledger.add("1.1", 1, Some("haiku"), Cost { usd: 0.25, tokens: 100 });
        assert_eq!(ledger.estimate(Some("haiku"), guess), usd(0.5), "a running attempt is no estimate yet");
        ledger.finish("1.1", 1, Some("haiku"));
        ledger.add("1.2", 1, Some("haiku"), Cost { usd: 0.75, tokens: 300 });
        ledger.finish("1.2", 1, Some("haiku"));
        ledger.add("1.3", 1, Some("opus"), Cost { usd: 9.0, tokens: 9000 });
        ledger.finish("1.3", 1, Some("opus"));
        assert_eq!(ledger.estimate(Some("haiku"), guess), Cost { usd: 0.5, tokens: 200 });
        assert_eq!(ledger.estimate(Some("sonnet"), guess), usd(0.5));
        assert_eq!(ledger.task("1.1"), Cost { usd: 0.25, tokens: 100 });
        assert_eq!(ledger.tasks(["1.1", "1.2", "9.9"]), Cost { usd: 1.0, tokens: 400 });
    }

    #[test]
    fn a_resumed_run_s_ledger_is_read_back_from_its_events() {
        use crate::events::{ActivityKind, Envelope, Event};
        let at = |event| Envelope { run: "r".into(), seq: 0, at_ms: 0, event };
        let started = |attempt, model: &str| Event::AttemptStarted {
            task: "1.1".into(),
            attempt,
            lane: "A".into(),
            agent: "claude".into(),
            model: Some(model.into()),
            worktree: "/w".into(),
            base: "b".into(),
            role: None,
        };
        let usage = |attempt, cost| Event::AgentActivity {
            task: "1.1".into(),
            attempt,
            kind: ActivityKind::Usage,
            detail: String::new(),
            tokens_in: Some(100),
            tokens_out: Some(10),
            cost_usd: Some(cost),
        };
        let exited = |attempt| Event::AgentExited {
            task: "1.1".into(),
            attempt,
            code: Some(0),
            timed_out: false,
            duration_ms: 1,
        };
        let events: Vec<Envelope> =
            vec![started(1, "haiku"), usage(1, 0.25), exited(1), started(2, "sonnet"), usage(2, 0.5)]
                .into_iter()
                .map(at)
                .collect();
        let ledger = Ledger::resumed(&events);
        assert_eq!(ledger.tasks(["1.1"]), Cost { usd: 0.75, tokens: 220 }, "its wave counts what it spent before");
        assert_eq!(ledger.total(), Cost { usd: 0.75, tokens: 220 });
        assert_eq!(ledger.task("1.1"), Cost::default(), "its own cap starts again");
        assert_eq!(ledger.estimate(Some("haiku"), None), Cost { usd: 0.25, tokens: 110 });
        assert_eq!(ledger.estimate(Some("sonnet"), None), Cost::default(), "sonnet's attempt never finished");
    }

    fn room(scope: Scope, cap: Amount, spent: f64, reserved: f64, busy: bool) -> Room {
        Room { scope, cap, spent: usd(spent), reserved: usd(reserved), busy }
    }

    #[test]
    fn a_task_starts_only_when_its_wave_and_the_run_can_pay_for_its_estimate() {
        let wave = |spent, reserved, busy| room(Scope::Wave(2), Amount::Usd(1.0), spent, reserved, busy);
        let run = |spent, reserved, busy| room(Scope::Run, Amount::Usd(10.0), spent, reserved, busy);
        assert_eq!(reserve("2.1", usd(0.4), &[wave(0.2, 0.4, true), run(1.0, 0.4, true)]), Reserve::Start);
        assert_eq!(reserve("2.1", usd(0.4), &[]), Reserve::Start, "no budget: anything starts");
        // The wave's other task holds $0.40: 0.3 + 0.4 + 0.4 > 1.0, but it may leave room.
        let Reserve::Wait(why) = reserve("2.2", usd(0.4), &[wave(0.3, 0.4, true), run(1.0, 0.4, true)]) else {
            panic!("waits")
        };
        assert_eq!(
            why,
            "wave 2's budget of $1.00 cannot pay for task 2.2: $0.3000 spent, $0.4000 reserved by running tasks, its estimate is $0.4000"
        );
        // Nothing of the wave runs: no room will come.
        let Reserve::Stop(why) = reserve("2.2", usd(0.8), &[wave(0.3, 0.0, false), run(1.0, 0.0, false)]) else {
            panic!("stops")
        };
        assert!(why.starts_with("wave 2's budget of $1.00 cannot pay for task 2.2"), "{why}");
        // The wave could pay, the run cannot.
        let Reserve::Stop(why) = reserve("2.2", usd(0.5), &[wave(0.0, 0.0, false), run(9.8, 0.0, false)]) else {
            panic!("stops")
        };
        assert!(why.starts_with("the run's budget of $10.00"), "{why}");
        // A spent budget stops even a task estimated at nothing.
        assert!(matches!(reserve("2.3", Cost::default(), &[wave(1.0, 0.0, false)]), Reserve::Stop(_)));
        assert_eq!(reserve("2.3", Cost::default(), &[wave(0.99, 0.0, false)]), Reserve::Start);
        // Tokens count tokens.
        let tokens = Room {
            scope: Scope::Run,
            cap: Amount::Tokens(1000),
            spent: Cost { usd: 99.0, tokens: 500 },
            reserved: Cost::default(),
            busy: false,
        };
        assert_eq!(reserve("1.1", Cost { usd: 50.0, tokens: 500 }, &[tokens]), Reserve::Start);
        assert!(matches!(reserve("1.1", Cost { usd: 0.0, tokens: 501 }, &[tokens]), Reserve::Stop(_)));
    }

    #[test]
    fn an_attempt_is_over_its_task_s_cap_only_past_it() {
        assert_eq!(over_task_cap("1.1", None, usd(100.0)), None);
        assert_eq!(over_task_cap("1.1", Some(Amount::Usd(0.5)), usd(0.5)), None);
        let why = over_task_cap("1.1", Some(Amount::Usd(0.5)), usd(0.51)).unwrap();
        assert!(why.starts_with("task 1.1 spent $0.5100 of its budget of $0.50 ([budget] task)"), "{why}");
        let tokens = Some(Amount::Tokens(1000));
        assert!(over_task_cap("1.1", tokens, Cost { usd: 0.0, tokens: 1001 }).is_some());
        assert!(over_task_cap("1.1", tokens, Cost { usd: 9.0, tokens: 1000 }).is_none());
    }
}

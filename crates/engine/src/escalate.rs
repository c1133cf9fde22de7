//! Model escalation (`[models] escalate = ["haiku", "sonnet", "opus"]`, `--escalate`): a task's
//! first attempt runs on the model of its Agent Strategy row, and each later attempt one model
//! further up the list, staying on the last one. A task whose model is not on the list (or that
//! has none) keeps its model: the list says how models rank, not which one a task starts on.
//!
//! The model is a function of the attempt's number only, so that a resumed run, a worker on a
//! cluster and the journal's `attempt_started` all agree on it without another record. Every
//! attempt after the first counts, also one that follows a conflict with work that landed
//! meanwhile or a person's rejection.

/// The model attempt `attempt` (from 1) of a task whose row names `own` runs on, with `ladder`
/// the escalation list (empty: no escalation).
pub fn model_for_attempt<'a>(ladder: &'a [String], own: Option<&'a str>, attempt: u32) -> Option<&'a str> {
    let Some(start) = own.and_then(|own| ladder.iter().position(|m| m == own)) else { return own };
    let step = attempt.saturating_sub(1) as usize;
    Some(ladder[(start + step).min(ladder.len() - 1)].as_str())
}

/// Why an escalation list cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EscalateError {
    /// It names a model the run's agent does not know.
    #[error("`{model}` is not a model this run knows (known: {})", known.join(", "))]
    Unknown {
        /// The name.
        model: String,
        /// The aliases and ids that are known.
        known: Vec<String>,
    },
    /// It names a model twice: the list is a ranking.
    #[error("`{0}` is in the list twice")]
    Twice(String),
}

/// Checks `ladder` against the models a run knows, `known` (the plan aliases `haiku`, `sonnet`,
/// `opus`, the agent's `models`, the price table's ids, the plan's own models).
pub fn check(ladder: &[String], known: &[String]) -> Result<(), EscalateError> {
    for (index, model) in ladder.iter().enumerate() {
        if ladder[..index].contains(model) {
            return Err(EscalateError::Twice(model.clone()));
        }
        if !known.contains(model) {
            let mut known = known.to_vec();
            known.sort();
            known.dedup();
            return Err(EscalateError::Unknown { model: model.clone(), known });
        }
    }
    Ok(())
}

/// The aliases every plan may use, whatever the agent.
pub const PLAN_ALIASES: [&str; 3] = ["haiku", "sonnet", "opus"];

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> Vec<String> {
        PLAN_ALIASES.iter().map(|m| (*m).to_owned()).collect()
    }

    #[test]
    fn each_attempt_after_the_first_runs_one_model_up_and_the_top_stays() {
        let ladder = ladder();
        let model = |own, attempt| model_for_attempt(&ladder, own, attempt);
        assert_eq!(model(Some("haiku"), 1), Some("haiku"));
        assert_eq!(model(Some("haiku"), 2), Some("sonnet"));
        assert_eq!(model(Some("haiku"), 3), Some("opus"));
        assert_eq!(model(Some("haiku"), 9), Some("opus"));
        assert_eq!(model(Some("sonnet"), 2), Some("opus"), "a task starts on its own row's model");
        assert_eq!(model(Some("gpt-5.5"), 3), Some("gpt-5.5"), "a model off the list stays");
        assert_eq!(model(None, 3), None);
        assert_eq!(model_for_attempt(&[], Some("haiku"), 3), Some("haiku"), "no list: no escalation");
    }

    #[test]
    fn a_list_naming_an_unknown_model_or_one_twice_is_refused() {
        let known = ladder();
        assert_eq!(check(&ladder(), &known), Ok(()));
        let typo = vec!["haiku".to_owned(), "sonet".to_owned()];
        let error = check(&typo, &known).unwrap_err();
        assert_eq!(error.to_string(), "`sonet` is not a model this run knows (known: haiku, opus, sonnet)");
        let twice = vec!["haiku".to_owned(), "haiku".to_owned()];
        assert_eq!(check(&twice, &known), Err(EscalateError::Twice("haiku".into())));
    }
}

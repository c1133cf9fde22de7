//! Budgets per task, per wave and per run (`[budget]`) and model escalation (`[models]
//! escalate`, `--escalate`) end to end: the real binary, the scripted agent (a test double that
//! streams usage as an agent CLI does) and a command agent that writes down the model it was
//! given.

use crate::common::*;
use serde_json::{Value, json};
use testkit::events::first_of_kind;

fn usage(cost_usd: f64) -> Value {
    json!({"usage": {"input": 1000, "output": 100, "cost_usd": cost_usd}})
}

fn with_config(repo: &Repo, toml: &str) {
    std::fs::write(repo.root().join("wavecrew.toml"), toml).unwrap();
}

/// The `event` of each of `events` that is of one of `kinds`, with its task.
fn kinds<'e>(events: &'e [Value], kinds: &[&str]) -> Vec<(&'e str, &'e str)> {
    events
        .iter()
        .filter(|e| kinds.contains(&e["event"].as_str().unwrap_or_default()))
        .map(|e| (e["event"].as_str().unwrap_or_default(), e["task"].as_str().unwrap_or_default()))
        .collect()
}

#[test]
fn a_task_over_its_budget_is_stopped_mid_stream_and_not_retried() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    // It streams $0.30 twice, then would go on for ever: the second report is over the cap.
    let script = json!({"tasks": {"1.1": [[usage(0.3), {"sleep_ms": 200}, usage(0.3), {"hang": true}]]}});
    let repo = scripted_repo(&plan, &script);
    with_config(&repo, "[budget]\ntask = \"$0.50\"\n");

    let output = repo.run(&["--json", "--attempts", "3", "--timeout", "120"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let events = events(&output);
    let over = first_of_kind(&events, "budget_exceeded");
    assert_eq!((over["task"].as_str(), over["attempt"].as_u64()), (Some("1.1"), Some(1)));
    assert_eq!(over["cap"], json!({"usd": 0.5}));
    assert!((over["spent_usd"].as_f64().unwrap() - 0.6).abs() < 1e-9, "{over}");
    let exited = first_of_kind(&events, "agent_exited");
    assert!(exited["code"].is_null(), "the agent was killed, not let finish: {exited}");
    assert!(exited["duration_ms"].as_u64().unwrap() < 60_000, "stopped at the cap, not by the timeout: {exited}");
    assert_eq!(of_kind(&events, "attempt_started").len(), 1, "no other attempt after the budget is spent");
    let failed = first_of_kind(&events, "task_failed");
    assert_eq!(failed["attempts"], 1);
    assert!(failed["reason"].as_str().unwrap().contains("budget of $0.50 ([budget] task)"), "{failed}");
    assert!(repo.commits("wavecrew/M1").is_empty());
    let status = repo.command(&["status"]).output().unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("task budget $0.50"), "{status:?}");
}

#[test]
fn a_wave_that_cannot_pay_for_a_task_s_estimate_does_not_start_it() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`"), ("1.2", "`b.txt`", "`true`")])]);
    let script = json!({"tasks": {"*": [[write("x.txt", "x\n")]]}});
    let repo = scripted_repo(&plan, &script);
    with_config(&repo, "[budget]\nwave = \"$0.50\"\nestimate = \"$0.60\"\n");

    let output = repo.run(&["--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let events = events(&output);
    assert!(of_kind(&events, "attempt_started").is_empty(), "nothing it cannot pay for starts");
    let stopping = first_of_kind(&events, "stopping")["reason"].as_str().unwrap().to_owned();
    assert!(
        stopping.starts_with(
            "wave 1's budget of $0.50 cannot pay for task 1.1: $0.0000 spent, $0.0000 reserved by running tasks, its estimate is $0.6000"
        ),
        "{stopping}"
    );
}

#[test]
fn a_task_its_wave_cannot_pay_for_yet_waits_for_the_running_one_then_starts_on_its_measured_cost() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`"), ("1.2", "`b.txt`", "`true`")])]);
    let script = json!({"tasks": {
        "1.1": [[usage(0.1), write("a.txt", "a\n")]],
        "1.2": [[usage(0.1), write("b.txt", "b\n")]],
    }});
    let repo = scripted_repo(&plan, &script);
    // The first guess holds $0.60 of $1.00: the second task waits; the first costs $0.10, and
    // the estimate of the next attempt on haiku is that now: it fits.
    with_config(&repo, "[budget]\nwave = \"$1\"\nestimate = \"$0.60\"\n");

    let output = repo.run(&["--json", "-j", "2"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    // The wait is said once, with the budget and the amounts, as the other task starts.
    let waits = kinds(&events, &["budget_wait"]);
    assert_eq!(waits.len(), 1, "{waits:?}");
    let waiting = waits[0].1;
    let order = kinds(&events, &["attempt_started", "task_committed"]);
    assert_eq!(order.len(), 4, "{order:?}");
    assert_eq!(order[0].0, "attempt_started");
    assert_ne!(order[0].1, waiting, "{order:?}");
    let why = first_of_kind(&events, "budget_wait")["why"].as_str().unwrap().to_owned();
    assert_eq!(
        why,
        format!(
            "wave 1's budget of $1.00 cannot pay for task {waiting}: $0.0000 spent, $0.6000 reserved by running tasks, its estimate is $0.6000"
        )
    );
    assert_eq!(order[1], ("task_committed", order[0].1), "the other task waited for the first to end: {order:?}");
    assert_eq!(order[2], ("attempt_started", waiting));

    // The terminal says it too.
    let repo = scripted_repo(&plan, &script);
    with_config(&repo, "[budget]\nwave = \"$1\"\nestimate = \"$0.60\"\n");
    let output = repo.run(&["-j", "2"]);
    let said = stderr(&output);
    assert!(said.contains("  waits for a running task to end: wave 1's budget of $1.00 cannot pay"), "{said}");
}

#[test]
fn bad_budgets_and_escalation_lists_are_refused_before_anything_starts() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    let repo = scripted_repo(&plan, &json!({"tasks": {}}));

    let output = repo.run(&["--escalate", "haiku,sonet,opus"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(
        error.contains("error: --escalate: `sonet` is not a model this run knows (known: haiku, opus, sonnet)"),
        "{error}"
    );
    assert!(error.contains("hint: "), "{error}");

    with_config(&repo, "[models]\nescalate = [\"haiku\", \"haiku\"]\n");
    let error = stderr(&repo.run(&[]));
    assert!(error.contains("error: `[models] escalate` (wavecrew.toml"), "{error}");
    assert!(error.contains("`haiku` is in the list twice"), "{error}");

    with_config(&repo, "[run]\nattempts = 2\n\n[budget]\ntask = \"$0\"\n");
    let error = stderr(&repo.run(&[]));
    assert!(error.contains("wavecrew.toml:5`: [budget] task: `$0` must be more than zero"), "{error}");
    with_config(&repo, "[budget]\nwave = \"a lot\"\n");
    let error = stderr(&repo.run(&[]));
    assert!(error.contains("wavecrew.toml:2`: [budget] wave: `a lot` is not an amount"), "{error}");
    std::fs::remove_file(repo.root().join("wavecrew.toml")).unwrap();

    let output = repo.run(&["--budget=0"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("must be more than zero"), "{}", stderr(&output));
    assert_eq!(git(repo.root(), &["branch", "--list", "wavecrew/M1"]), "", "no run was started");
}

#[test]
fn a_task_whose_haiku_attempt_fails_verify_lands_on_sonnet() {
    // The command agent writes down the model it was given; Verify wants sonnet's work.
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`model.txt`", "`grep -qx sonnet model.txt`")])]);
    let repo = scripted_repo(&plan, &json!({"tasks": {}}));
    with_config(
        &repo,
        "[models]\nescalate = [\"opus\"]\n\n[agents.modelecho]\ncommand = [\"sh\", \"-c\", \"echo {model} > model.txt\"]\nescalate = [\"haiku\", \"sonnet\", \"opus\"]\n",
    );

    let output = repo.command(&["run", "plan.md", "--yes", "--agent", "modelecho"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let progress = stderr(&output);
    assert!(progress.contains("started (attempt 1) on Agent 1.1 [modelecho, haiku]"), "{progress}");
    assert!(progress.contains("started (attempt 2) on Agent 1.1 [modelecho, sonnet]"), "{progress}");
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:model.txt"]), "sonnet");

    let report: Value = serde_json::from_str(&repo.run_file("", "report.json")).unwrap();
    assert_eq!(
        (report["tasks"][0]["model"].as_str(), report["tasks"][0]["agent"].as_str()),
        (Some("sonnet"), Some("modelecho"))
    );
    let models: Vec<(&str, u64, &Value)> = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["model"].as_str().unwrap(), m["attempts"].as_u64().unwrap(), &m["landed"]))
        .collect();
    assert_eq!(models, [("haiku", 1, &json!([])), ("sonnet", 1, &json!(["1.1"]))]);
    let status = repo.command(&["status"]).output().unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("escalate haiku → sonnet → opus"), "the run keeps its list for resume: {status}");
    let md = repo.run_file("", "report.md");
    assert!(md.contains("## Models\n"), "{md}");
    assert!(md.contains("| modelecho | sonnet | 1 | 1.1 | 0/0 | - |"), "{md}");
}

#[test]
fn cache_reads_and_writes_count_for_budgets_as_the_price_table_prices_them() {
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`true`")])]);
    // No cost reported: wavecrew prices it from `[prices]` (the scripted agent's model id is
    // the plan's alias).
    let usage = json!({"usage": {"input": 1000, "output": 100, "cache_read": 500, "cache_write": 200}});
    let script = json!({"tasks": {"1.1": [[usage, {"hang": true}]]}});
    let repo = scripted_repo(&plan, &script);
    with_config(
        &repo,
        "[budget]\ntask = \"$0.001\"\n\n[prices.haiku]\ninput = 1.0\noutput = 2.0\ncache_read = 0.1\ncache_write = 1.25\n",
    );
    let output = repo.run(&["--json", "--timeout", "120"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let events = events(&output);
    let over = first_of_kind(&events, "budget_exceeded");
    // 1000 × $1 + 100 × $2 + 500 × $0.10 + 200 × $1.25, per million tokens.
    assert!((over["spent_usd"].as_f64().unwrap() - 0.0015).abs() < 1e-12, "{over}");
    assert_eq!(over["tokens"], 1800, "tokens count cache reads and writes");

    // In tokens, the same usage is over a cap of 1,500 tokens only with its cache tokens.
    let repo = scripted_repo(&plan, &script);
    with_config(&repo, "[budget]\ntask = \"1.5k tokens\"\n");
    let events = testkit::events(&repo.run(&["--json", "--timeout", "120"]));
    let over = first_of_kind(&events, "budget_exceeded");
    assert_eq!((over["cap"].clone(), over["tokens"].clone()), (json!({"tokens": 1500}), json!(1800)));
}

//! Checkpoints wait for a person, who answers the way `wavecrew approve`, `reject` and
//! `decide` do: through `engine::control`, which writes the answer to the journal the run
//! reads. Approved lands the change; a rejected change goes back to its agent with the reason;
//! a rejected unverified gate fails its task; decided records the option.

use crate::support::{repo, run_id, start};
use engine::control::{self, Answer};
use engine::events::RunState;
use engine::journal::Journal;
use engine::run::Options;
use serde_json::json;
use testkit::events::of_kind;
use testkit::fixtures::{CHECK, gate_plan, write};
use testkit::{Repo, git};

const BRANCH: &str = "wavecrew/M1";

/// A plan of one checkpoint: 1.1, a human-verify whose agent draws `ui.txt`.
const HUMAN_VERIFY: &str = "# M1 Implementation Plan: Page

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1: Page** (type: checkpoint:human-verify)
- **Files**: `ui.txt`
- **Action**: Draw the page
- **Verify**: The page looks right
";

/// A plan of one decision, 1.2, between two storage engines.
const DECISION: &str = "# M1 Implementation Plan: Storage

## Waves

### Wave 1: Decide
> No dependencies.

**Task 1.2** (type: checkpoint:decision)
- **Action**: Pick a storage engine:
  - SQLite
  - Postgres
- **Verify**: The choice fits the load
";

/// Answers `task` of `run` as another process would (`wavecrew approve` and the like): through
/// its own connection to the repository's journal.
fn answer(repo: &Repo, run: &str, task: &str, answer: Answer) -> control::Done {
    let journal = Journal::open(&repo.state_dir().join("journal.sqlite")).unwrap();
    control::answer(&journal, run, task, answer).unwrap_or_else(|e| panic!("{e}"))
}

fn page_script() -> serde_json::Value {
    json!({"tasks": {"1.1": [[write("ui.txt", "page\n")]]}})
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approved_human_verify_checkpoint_lands_its_change() {
    let repo = repo(HUMAN_VERIFY, &page_script());
    let mut running = start(&repo, Options::default()).await;
    let waiting = running.wait_for("checkpoint_waiting", "1.1").await;
    assert_eq!(waiting["kind"], "checkpoint:human-verify");
    assert_ne!(waiting["auto"], true, "a person answers it");
    assert!(repo.commits(BRANCH).is_empty(), "nothing lands before a person answers");

    let run = run_id(&running.events);
    let done = answer(&repo, &run, "1.1", Answer::Approve { note: Some("looks right".into()) });
    assert_eq!(done.message, format!("recorded: run {run} goes on"), "the run is seen as active");
    let (summary, events) = running.finish().await;
    assert_eq!((summary.state, summary.committed), (RunState::Succeeded, 1), "{events:#?}");

    let answered = of_kind(&events, "checkpoint_answered");
    assert_eq!(answered.len(), 1, "{answered:?}");
    assert_eq!(
        (answered[0]["answer"].as_str(), answered[0]["detail"].as_str()),
        (Some("approved"), Some("looks right"))
    );
    assert_eq!(answered[0]["auto"], false);
    // The change the person saw (the waiting event names it) is the one that landed.
    let landed = of_kind(&events, "task_committed");
    assert_eq!(landed.len(), 1, "{landed:?}");
    let commit = landed[0]["commit"].as_str().unwrap();
    assert_eq!(git::head(repo.root(), BRANCH), commit);
    assert_eq!(repo.commits(BRANCH).iter().map(|(task, _)| task.as_str()).collect::<Vec<_>>(), ["1.1"]);
    assert_eq!(git::changed(repo.root(), commit), ["ui.txt"]);
    assert_eq!(git::show(repo.root(), BRANCH, "ui.txt"), "page");
    assert_eq!(waiting["commit"].as_str().map(|c| git::show(repo.root(), c, "ui.txt")).as_deref(), Some("page"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_human_verify_change_goes_back_to_its_agent_and_never_lands() {
    // Attempt 1 draws an ugly page, attempt 2 a pretty one.
    let script = json!({"tasks": {"1.1": [[write("ui.txt", "ugly\n")], [write("ui.txt", "pretty\n")]]}});
    let repo = repo(HUMAN_VERIFY, &script);
    // One attempt: a person's rejection is not the agent's failure, it does not use one up.
    let mut running = start(&repo, Options { attempts: 1, ..Options::default() }).await;
    let first = running.wait_for("checkpoint_waiting", "1.1").await;
    let run = run_id(&running.events);
    answer(&repo, &run, "1.1", Answer::Reject { reason: "too ugly".into() });
    let second = running.wait_for("checkpoint_waiting", "1.1").await;
    assert_ne!(first["commit"], second["commit"], "the agent made a new change");
    answer(&repo, &run, "1.1", Answer::Approve { note: None });
    let (summary, events) = running.finish().await;
    assert_eq!((summary.state, summary.committed), (RunState::Succeeded, 1), "{events:#?}");

    let answers: Vec<(&str, Option<&str>)> = of_kind(&events, "checkpoint_answered")
        .iter()
        .map(|a| (a["answer"].as_str().unwrap(), a["detail"].as_str()))
        .collect();
    assert_eq!(answers, [("rejected", Some("too ugly")), ("approved", None)]);
    let attempts: Vec<u64> =
        of_kind(&events, "attempt_started").iter().map(|a| a["attempt"].as_u64().unwrap()).collect();
    assert_eq!(attempts, [1, 2]);
    // The agent was told why.
    assert!(repo.run_file("prompts", "1.1-2.md").contains("too ugly"));
    assert_eq!(git::show(repo.root(), BRANCH, "ui.txt"), "pretty");
    assert_eq!(repo.commits(BRANCH).len(), 1, "only the approved change landed: {:?}", repo.commits(BRANCH));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_unverified_gate_fails_its_task() {
    // The gate asks for coverage that no command reports: unverified, so a person decides.
    let plan = gate_plan(
        "`value.txt`, `check.sh`",
        "production-engineer",
        "`sh check.sh`",
        "0 test failures, 80%+ coverage on new code",
    );
    let repo = repo(&plan, &json!({"tasks": {"1.1": [[write("value.txt", "3\n"), write("check.sh", CHECK)]]}}));
    let mut running = start(&repo, Options::default()).await;
    let waiting = running.wait_for("checkpoint_waiting", "2.1").await;
    assert_eq!(waiting["kind"], "checkpoint:gate");
    assert!(waiting["details"].as_str().unwrap().starts_with("Not checked: production-engineer"), "{waiting}");
    let run = run_id(&running.events);
    answer(&repo, &run, "2.1", Answer::Reject { reason: "add coverage to check.sh".into() });
    let (summary, events) = running.finish().await;
    assert_eq!((summary.state, summary.committed, summary.failed), (RunState::Failed, 1, 1), "{events:#?}");

    let failed = of_kind(&events, "task_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("needs-human: a person rejected the unverified gate: add coverage to check.sh\n"),
        "{reason}"
    );
    assert!(reason.contains("80% coverage of new code is required"), "what was not checked goes with it: {reason}");
    let tasks: Vec<String> = repo.commits(BRANCH).into_iter().map(|(task, _)| task).collect();
    assert_eq!(tasks, ["1.1"], "the build landed, no gate verdict did");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_records_the_option_a_person_chose() {
    let repo = repo(DECISION, &json!({"tasks": {}}));
    let mut running = start(&repo, Options::default()).await;
    let waiting = running.wait_for("checkpoint_waiting", "1.2").await;
    assert_eq!(waiting["options"], json!(["SQLite", "Postgres"]));
    let run = run_id(&running.events);
    // A prefix of exactly one option names it, as on the command line.
    answer(&repo, &run, "1.2", Answer::Decide { option: "post".into() });
    let (summary, events) = running.finish().await;
    assert_eq!((summary.state, summary.committed), (RunState::Succeeded, 1), "{events:#?}");

    let answered = of_kind(&events, "checkpoint_answered");
    assert_eq!((answered[0]["answer"].as_str(), answered[0]["detail"].as_str()), (Some("decided"), Some("Postgres")));
    assert_eq!(
        repo.commits(BRANCH),
        [("1.2".to_owned(), "chore(M1): decide Pick a storage engine: Postgres".to_owned())]
    );
}

//! A run of the engine in this process: [`engine::run::start`] on a [`Repo`] with the
//! scripted agent, its events collected as JSON (what `--json`, the journal and the dashboard
//! show) while it runs.

use engine::events::Envelope;
use engine::run::{EngineError, Options, Summary, Workspace};
use engine::settings::{AgentSpec, BackendSpec, RunSettings, VERSION};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use testkit::Repo;
use testkit::agent::ScriptedSelf;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// How long a test waits for an event or for the run's end before it fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// A repository with one commit and `plan.md` and `script.json` (uncommitted), for the engine.
pub fn repo(plan: &str, script: &Value) -> Repo {
    Repo::builder().file("README.md", "# project\n").commit("initial").plan(plan).script(script).build()
}

/// A run started with `engine::run::start` and going on in the background.
pub struct Running {
    handle: JoinHandle<Result<Summary, EngineError>>,
    receiver: broadcast::Receiver<Envelope>,
    /// Every event received so far, as JSON.
    pub events: Vec<Value>,
    /// Kept so that the run is not cancelled (a closed channel reads as a cancel).
    _cancel: watch::Sender<bool>,
    /// The runs' worktrees, outside the repository; removed at the end of the test.
    _worktrees: tempfile::TempDir,
}

/// Starts a run of `repo`'s `plan.md` with `options`; the scripted agent plays `script.json`.
pub async fn start(repo: &Repo, options: Options) -> Running {
    let text = std::fs::read_to_string(repo.root().join("plan.md")).unwrap();
    let parsed = plan::parse(&text, "M1");
    assert!(!parsed.has_errors(), "the test's plan has errors: {:?}", parsed.diagnostics);
    let mut ws = Workspace::open(repo.root()).await.unwrap();
    // The worktrees go to a folder of the test's, not to the user's state folder.
    let worktrees = tempfile::tempdir().unwrap();
    ws.worktree_root = worktrees.path().to_owned();
    let script = repo.root().join("script.json");
    let settings = RunSettings {
        version: VERSION,
        agent: AgentSpec::Scripted { script: script.clone() },
        backend: BackendSpec::Local,
        options: options.clone(),
    };
    let agent = Arc::new(ScriptedSelf::new(script));
    let (sender, receiver) = broadcast::channel(4096);
    let (cancel, cancelled) = watch::channel(false);
    let handle = tokio::spawn(async move {
        let plan = parsed.plan;
        engine::run::start(&ws, "plan.md", text.as_bytes(), plan, agent, options, &settings, sender, cancelled).await
    });
    Running { handle, receiver, events: Vec::new(), _cancel: cancel, _worktrees: worktrees }
}

impl Running {
    /// Waits for the next event of kind `kind` for task `task`; returns it.
    pub async fn wait_for(&mut self, kind: &str, task: &str) -> Value {
        let found = tokio::time::timeout(PATIENCE, async {
            loop {
                let envelope = match self.receiver.recv().await {
                    Ok(envelope) => envelope,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                let event = serde_json::to_value(&envelope).unwrap();
                self.events.push(event.clone());
                if event["event"] == kind && event["task"] == task {
                    return Some(event);
                }
            }
        })
        .await;
        match found {
            Ok(Some(event)) => event,
            Ok(None) => panic!("the run ended without `{kind}` for {task}: {:#?}", self.events),
            Err(_) => panic!("no `{kind}` for {task} within {PATIENCE:?}: {:#?}", self.events),
        }
    }

    /// Waits for the run's end; returns its summary and all its events.
    pub async fn finish(mut self) -> (Summary, Vec<Value>) {
        let summary = tokio::time::timeout(PATIENCE, &mut self.handle)
            .await
            .unwrap_or_else(|_| panic!("the run did not end within {PATIENCE:?}: {:#?}", self.events))
            .expect("the run's task did not panic")
            .expect("the run ran");
        while let Ok(envelope) = self.receiver.try_recv() {
            self.events.push(serde_json::to_value(&envelope).unwrap());
        }
        (summary, self.events)
    }
}

/// The run's `run` id, read from its first event.
pub fn run_id(events: &[Value]) -> String {
    events[0]["run"].as_str().expect("events carry the run's id").to_owned()
}

//! The checkpoints' previews this dashboard runs ([`engine::preview`]): one starts when a person
//! asks on a waiting checkpoint's card, and stops when the checkpoint is answered, its run
//! ends, a person stops it, or the dashboard stops. Each start, readiness and stop is an event
//! of the run's journal (`preview_starting`, `preview_ready`, `preview_stopped`), so the room
//! shows a preview like anything else that happens to the run, and `status` can too.

use engine::events::{Envelope, Event, PreviewEnd};
use engine::journal::Journal;
use engine::layout::RunLayout;
use engine::preview::{Ended, Preview, PreviewError, Start};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// What the dashboard needs to run previews: `[preview]` and the repository they show.
#[derive(Clone, Debug)]
pub struct PreviewConfig {
    /// `[preview]`, with `[worktree]`'s provisioning.
    pub settings: engine::preview::Settings,
    /// The repository's work tree.
    pub root: PathBuf,
    /// The repository's worktrees folder (the previews' worktrees go in it).
    pub worktrees: PathBuf,
}

/// The previews running (or starting), by run and task.
#[derive(Clone)]
pub(crate) struct Previews {
    config: Option<Arc<PreviewConfig>>,
    journal: Arc<Journal>,
    state_dir: PathBuf,
    running: Arc<Mutex<HashMap<(String, String), Entry>>>,
    lives: Arc<tokio::sync::Mutex<tokio::task::JoinSet<()>>>,
}

/// A preview of a checkpoint's commit, and how to stop it.
struct Entry {
    commit: String,
    /// Tells its life to stop, and why.
    stop: watch::Sender<Option<PreviewEnd>>,
}

/// What asking for a preview did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Started {
    /// It is starting now.
    New,
    /// One of the same commit was already there.
    Already,
}

impl Previews {
    pub(crate) fn new(config: Option<PreviewConfig>, journal: Arc<Journal>, state_dir: PathBuf) -> Previews {
        Previews { config: config.map(Arc::new), journal, state_dir, running: Arc::default(), lives: Arc::default() }
    }

    /// The command previews run, when this dashboard has one.
    pub(crate) fn command(&self) -> Option<&str> {
        self.config.as_deref().map(|c| c.settings.command.as_str())
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Entry>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the preview of `task`'s checkpoint in `run`, waiting on `commit` (a preview of an
    /// older commit of the task stops first). The caller checked that the checkpoint waits.
    pub(crate) async fn start(
        &self,
        run: &str,
        task: &str,
        commit: &str,
        sandbox: engine::sandbox::Settings,
    ) -> Result<Started, String> {
        let Some(config) = self.config.clone() else {
            return Err("this dashboard has no `[preview] command`: add one under [preview] in wavecrew.toml \
                 (e.g. `command = \"npm run dev -- --port {port}\"`) and start the dashboard again"
                .to_owned());
        };
        let key = (run.to_owned(), task.to_owned());
        let (stop, stopped) = watch::channel(None);
        {
            let mut running = self.running();
            match running.get(&key) {
                // Its worktree is still being taken away.
                Some(entry) if entry.stop.borrow().is_some() => {
                    return Err(format!("the preview of task {task} is stopping: ask again in a moment"));
                }
                Some(entry) if entry.commit == commit => return Ok(Started::Already),
                Some(entry) => {
                    entry.stop.send_replace(Some(PreviewEnd::Stopped));
                }
                None => {}
            }
            running.insert(key.clone(), Entry { commit: commit.to_owned(), stop: stop.clone() });
        }
        let me = self.clone();
        let commit = commit.to_owned();
        let mut lives = self.lives.lock().await;
        // The previews that ended are let go of: a dashboard that lives for weeks keeps none.
        while lives.try_join_next().is_some() {}
        lives.spawn(async move {
            let end = me.life(&config, &key, &commit, &sandbox, stopped).await;
            {
                let mut running = me.running();
                // Only its own entry: a newer preview of the task may have taken the place.
                if running.get(&key).is_some_and(|entry| entry.stop.same_channel(&stop)) {
                    running.remove(&key);
                }
            }
            // Gone before it is said to be: whoever reads the stop may ask for a new one.
            me.record(&key.0, end).await;
        });
        Ok(Started::New)
    }

    /// Stops the preview of `task` in `run`, if there is one; says whether there was.
    pub(crate) fn stop(&self, run: &str, task: &str, why: PreviewEnd) -> bool {
        let running = self.running();
        let entry = running.get(&(run.to_owned(), task.to_owned()));
        if let Some(entry) = entry {
            entry.stop.send_if_modified(|current| current.replace(why).is_none());
        }
        entry.is_some()
    }

    /// Stops the previews that an event of the journal ends: its checkpoint's answer, its run's end.
    pub(crate) fn observe(&self, envelope: &Envelope) {
        match &envelope.event {
            Event::CheckpointAnswered { task, .. } => {
                self.stop(&envelope.run, task, PreviewEnd::Answered);
            }
            Event::RunFinished { .. } => {
                let tasks: Vec<String> =
                    self.running().keys().filter(|(run, _)| *run == envelope.run).map(|(_, t)| t.clone()).collect();
                for task in tasks {
                    self.stop(&envelope.run, &task, PreviewEnd::Answered);
                }
            }
            _ => {}
        }
    }

    /// Stops every preview and waits until each is gone (its process, its worktree, its event).
    pub(crate) async fn stop_all(&self) {
        for entry in self.running().values() {
            entry.stop.send_if_modified(|current| current.replace(PreviewEnd::Stopped).is_none());
        }
        let mut lives = self.lives.lock().await;
        while lives.join_next().await.is_some() {}
    }

    /// A preview from its start to its stop, each step journaled but the last, which it returns.
    async fn life(
        &self,
        config: &PreviewConfig,
        (run, task): &(String, String),
        commit: &str,
        sandbox: &engine::sandbox::Settings,
        mut stopped: watch::Receiver<Option<PreviewEnd>>,
    ) -> Event {
        self.record(run, Event::PreviewStarting { task: task.clone(), commit: commit.to_owned() }).await;
        let layout = RunLayout::new(&self.state_dir, run);
        let start =
            Start { root: &config.root, worktrees: &config.worktrees, layout: &layout, run, task, commit, sandbox };
        // The engine's start takes a plain flag; it turns when a reason to stop arrives.
        let (cancel_tx, cancel) = watch::channel(false);
        let mut watching = stopped.clone();
        let relay = tokio::spawn(async move {
            if watching.wait_for(Option::is_some).await.is_ok() {
                let _ = cancel_tx.send(true);
            }
        });
        let started = Preview::start(&config.settings, start, cancel).await;
        relay.abort();
        let why_stopped = |stopped: &watch::Receiver<Option<PreviewEnd>>| stopped.borrow().clone();
        let (why, detail) = match started {
            Err(PreviewError::Cancelled) => (why_stopped(&stopped).unwrap_or(PreviewEnd::Stopped), None),
            Err(error) => (PreviewEnd::Failed, Some(error.to_string())),
            Ok(preview) => {
                self.record(run, Event::PreviewReady { task: task.clone(), url: preview.url().to_owned() }).await;
                let stop = async {
                    let _ = stopped.wait_for(Option::is_some).await;
                };
                match preview.run_until(stop).await {
                    Ended::Stopped => (why_stopped(&stopped).unwrap_or(PreviewEnd::Stopped), None),
                    Ended::Exited(outcome) => {
                        let tail = engine::preview::short_tail(&outcome.tail);
                        let ended = outcome.ended();
                        (PreviewEnd::Failed, Some(format!("`{}` {ended} on its own\n{tail}", config.settings.command)))
                    }
                }
            }
        };
        Event::PreviewStopped { task: task.clone(), why, detail }
    }

    /// Journals `event` for `run` (a journal that fails is not the preview's business: the
    /// preview goes on, the room shows less).
    async fn record(&self, run: &str, event: Event) {
        let (journal, run) = (self.journal.clone(), run.to_owned());
        let _ = tokio::task::spawn_blocking(move || journal.record(&run, event)).await;
    }
}

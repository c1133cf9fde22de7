//! A checkpoint's preview: the change a `checkpoint:human-verify` waits on, running, so that a
//! person can look at it rather than read it. With `[preview] command` (`npm run dev -- --port
//! {port}`) the dashboard starts one when a person asks on the checkpoint's card, links the
//! card to it, and stops it when the checkpoint is answered.
//!
//! A preview has a worktree of its own at the checkpoint's commit, beside the run's worktrees
//! (`previews/<run>/<task>-<pid of the dashboard>`):
//! the lane that made the change may have moved on, and a checkpoint found waiting after a
//! restart has nothing but its commit. The worktree is provisioned as a lane's is
//! (`[worktree] include`, `.worktreeinclude`, the lockfiles' folders, `setup`); then the command
//! runs there on a free port, confined like the run's Verify commands (it runs the agent's
//! code; see docs/sandbox.md). It is ready when the port accepts connections, or the one the
//! command announced instead (`Local: http://localhost:5174/`, when it moved to another).

use crate::events::{Envelope, Event, PreviewEnd};
use crate::git::Git;
use crate::layout::RunLayout;
use crate::process::{self, Outcome};
use crate::provision::{Provision, WorktreeSettings};
use crate::sandbox::{self, Rules};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// How long a command gets to listen, unless `[preview] ready_timeout` says otherwise.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The longest a preview lives: a checkpoint left waiting does not keep a server running for
/// ever.
pub const MAX_LIFE: Duration = Duration::from_secs(24 * 60 * 60);

/// How a preview is made.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The command, run with `sh -c` in the preview's worktree; `{port}` is the port it gets
    /// (also in `PORT`).
    pub command: String,
    /// The page to open (`/`), when not the one the command announced.
    pub path: Option<String>,
    /// How long the command gets to listen.
    pub ready_timeout: Duration,
    /// What the worktree gets besides the tracked files, and the setup command (`[worktree]`).
    pub worktree: WorktreeSettings,
    /// How long the setup command gets.
    pub setup_timeout: Duration,
}

/// The preview of one checkpoint.
pub struct Start<'a> {
    /// The repository's work tree (provisioning brings its ignored files, as for a lane).
    pub root: &'a Path,
    /// The repository's worktrees folder ([`crate::workspace::Workspace::worktree_root`]).
    pub worktrees: &'a Path,
    /// The run's folder: the preview's logs and temporary folder go there.
    pub layout: &'a RunLayout,
    /// The run.
    pub run: &'a str,
    /// The checkpoint's task.
    pub task: &'a str,
    /// The change it waits on.
    pub commit: &'a str,
    /// The run's sandbox.
    pub sandbox: &'a sandbox::Settings,
}

/// Why a preview could not start.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// Its worktree could not be made or provisioned.
    #[error("could not make the preview's worktree: {0}")]
    Worktree(String),
    /// The setup command failed.
    #[error("setup `{command}` {ended} in the preview's worktree\n{tail}")]
    Setup {
        /// The setup command.
        command: String,
        /// How it ended.
        ended: String,
        /// The end of its output.
        tail: String,
    },
    /// The sandbox is required and the kernel cannot give it, or the command could not start.
    #[error("could not start `{command}`: {why}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        why: String,
    },
    /// The command exited before it listened.
    #[error("`{command}` {ended} before it listened on port {port}\n{tail}")]
    Exited {
        /// The command, its port filled in.
        command: String,
        /// How it ended.
        ended: String,
        /// The port it was given.
        port: u16,
        /// The end of its output.
        tail: String,
    },
    /// The command did not listen in time.
    #[error(
        "`{command}` did not listen on port {port} within {secs} s (does it take `{{port}}`, or read PORT? \
         raise `[preview] ready_timeout` if it is only slow)\n{tail}"
    )]
    NotReady {
        /// The command, its port filled in.
        command: String,
        /// The port it was given.
        port: u16,
        /// The time it had.
        secs: u64,
        /// The end of its output.
        tail: String,
    },
    /// It was stopped before it was ready.
    #[error("stopped before it was ready")]
    Cancelled,
}

/// How a running preview ended.
#[derive(Debug)]
pub enum Ended {
    /// It was stopped.
    Stopped,
    /// Its command exited on its own.
    Exited(Outcome),
}

/// A preview that answers at [`Preview::url`].
pub struct Preview {
    url: String,
    repo: Git,
    worktree: PathBuf,
    tmp: PathBuf,
    stop: watch::Sender<bool>,
    process: tokio::task::JoinHandle<std::io::Result<Outcome>>,
}

impl Preview {
    /// Makes the preview's worktree, provisions it, starts the command and waits until it
    /// listens (or `cancel` turns true). On an error nothing is left running and the worktree
    /// is gone.
    pub async fn start(
        settings: &Settings,
        start: Start<'_>,
        cancel: watch::Receiver<bool>,
    ) -> Result<Preview, PreviewError> {
        let repo = Git::new(start.root);
        let folder = start.worktrees.join("previews").join(start.run);
        remove_abandoned(&repo, &folder, start.task).await;
        // Named by the process that runs it: two dashboards of one repository never share one.
        let worktree = folder.join(format!("{}-{}", start.task, std::process::id()));
        let tmp = start.layout.tmp(&format!("{}-preview", start.task));
        let result = launch(settings, &start, &repo, &worktree, &tmp, cancel).await;
        if result.is_err() {
            remove(&repo, &worktree, &tmp).await;
        }
        result
    }

    /// Where it answers: `http://localhost:<port><path>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs until `stop` resolves or the command exits on its own, then ends the command's
    /// process group and removes the worktree.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) -> Ended {
        let Preview { repo, worktree, tmp, stop: stop_tx, mut process, .. } = self;
        let life = tokio::time::sleep(MAX_LIFE);
        let ended = tokio::select! {
            joined = &mut process => Some(joined),
            () = stop => None,
            () = life => None,
        };
        let ended = match ended {
            Some(Ok(Ok(outcome))) => Ended::Exited(outcome),
            Some(_) => Ended::Stopped,
            None => {
                let _ = stop_tx.send(true);
                let _ = process.await;
                Ended::Stopped
            }
        };
        remove(&repo, &worktree, &tmp).await;
        ended
    }
}

/// Everything [`Preview::start`] does, without the cleaning up after a failure.
async fn launch(
    settings: &Settings,
    start: &Start<'_>,
    repo: &Git,
    worktree: &Path,
    tmp: &Path,
    mut cancel: watch::Receiver<bool>,
) -> Result<Preview, PreviewError> {
    let broken = |e: &dyn std::fmt::Display| PreviewError::Worktree(e.to_string());
    let parent = worktree.parent().unwrap_or(start.worktrees);
    tokio::fs::create_dir_all(parent).await.map_err(|e| broken(&e))?;
    if worktree.exists() {
        // This dashboard's own, left by a preview that could not clean up: it starts afresh.
        remove(repo, worktree, tmp).await;
    }
    repo.add_worktree(worktree, start.commit).await.map_err(|e| broken(&e))?;
    let provision = Provision::plan(start.root, parent, &settings.worktree).await.map_err(|e| broken(&e))?;
    if !provision.files.is_empty() {
        provision.seed(start.root, worktree).await.map_err(|e| broken(&e))?;
    }
    if let Some(setup) = &provision.setup {
        let log = start.layout.logs().join(format!("{}-preview-setup.log", start.task));
        let spec = process::Spec::shell(setup, worktree, Vec::new(), settings.setup_timeout, log);
        let outcome = process::run(&spec, |_| {}, |_| {}, cancel.clone()).await.map_err(|e| broken(&e))?;
        if outcome.cancelled {
            return Err(PreviewError::Cancelled);
        }
        if !outcome.success() {
            let tail = short_tail(&outcome.tail);
            return Err(PreviewError::Setup { command: setup.clone(), ended: outcome.ended(), tail });
        }
    }

    let port = free_port().map_err(|e| broken(&e))?;
    let command = command_for(&settings.command, port);
    let state = sandbox::State::of(start.sandbox.mode, sandbox::support())
        .map_err(|e| PreviewError::Spawn { command: command.clone(), why: e.to_string() })?;
    tokio::fs::create_dir_all(tmp).await.map_err(|e| broken(&e))?;
    let rules = state.confines().then(|| {
        Rules::for_attempt(sandbox::Parts {
            worktree,
            tmp,
            agent: Vec::new(),
            lane: Vec::new(),
            caches: sandbox::user_caches(),
            user: &start.sandbox.writable,
            connect: start.sandbox.connect.as_deref(),
        })
    });
    let env = vec![
        ("PORT".to_owned(), port.to_string()),
        ("TMPDIR".to_owned(), tmp.to_string_lossy().into_owned()),
        // Dev servers that open a browser by themselves (create-react-app and others) do not.
        ("BROWSER".to_owned(), "none".to_owned()),
    ];
    let log = start.layout.logs().join(format!("{}-preview.log", start.task));
    let spec = process::Spec { sandbox: rules, ..process::Spec::shell(&command, worktree, env, MAX_LIFE, log.clone()) };
    let (stop_tx, stop_rx) = watch::channel(false);
    let (heard_tx, mut heard) = mpsc::unbounded_channel();
    let mut process = tokio::spawn(async move {
        process::run(
            &spec,
            |_| {},
            move |line| {
                if let Some(found) = announced(line) {
                    let _ = heard_tx.send(found);
                }
            },
            stop_rx,
        )
        .await
    });

    let deadline = Instant::now() + settings.ready_timeout;
    let mut address = Announced { port, path: "/".to_owned() };
    let mut told = false;
    loop {
        // The first address the command announced is where it serves (it may not be ours).
        while let Ok(found) = heard.try_recv() {
            if !told {
                address = found;
                told = true;
            }
        }
        if listening(address.port).await {
            let path = settings.path.clone().unwrap_or(address.path);
            let url = format!("http://localhost:{}{path}", address.port);
            return Ok(Preview {
                url,
                repo: repo.clone(),
                worktree: worktree.to_owned(),
                tmp: tmp.to_owned(),
                stop: stop_tx,
                process,
            });
        }
        if process.is_finished() {
            let (ended, tail) = match (&mut process).await {
                Ok(Ok(outcome)) => (outcome.ended(), short_tail(&outcome.tail)),
                Ok(Err(error)) => return Err(PreviewError::Spawn { command, why: error.to_string() }),
                Err(error) => ("stopped".to_owned(), error.to_string()),
            };
            return Err(PreviewError::Exited { command, ended, port, tail });
        }
        let waited_out = Instant::now() >= deadline;
        if waited_out || *cancel.borrow() {
            let _ = stop_tx.send(true);
            let _ = process.await;
            if !waited_out {
                return Err(PreviewError::Cancelled);
            }
            let tail = log_tail(&log);
            return Err(PreviewError::NotReady { command, port, secs: settings.ready_timeout.as_secs(), tail });
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = cancel.changed() => {}
        }
    }
}

/// Where a checkpoint's preview is, as the journal says: the room draws it, `status` names
/// the address of one that answers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Shown {
    /// Its worktree, setup and command are on their way.
    Starting,
    /// It answers at `url`.
    Ready {
        /// Where.
        url: String,
    },
    /// It never got ready, or its command exited on its own.
    Failed {
        /// What failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
}

/// The preview of each task since its checkpoint last started waiting (a new wait is a new
/// change): one stopped (answered, by a person, with the dashboard) is none.
pub fn shown(events: &[Envelope]) -> HashMap<String, Shown> {
    let mut shown = HashMap::new();
    for envelope in events {
        match &envelope.event {
            Event::PreviewStarting { task, .. } => {
                shown.insert(task.clone(), Shown::Starting);
            }
            Event::PreviewReady { task, url } => {
                shown.insert(task.clone(), Shown::Ready { url: url.clone() });
            }
            Event::PreviewStopped { task, why: PreviewEnd::Failed, detail } => {
                shown.insert(task.clone(), Shown::Failed { detail: detail.clone() });
            }
            Event::PreviewStopped { task, .. } | Event::CheckpointWaiting { task, .. } => {
                shown.remove(task);
            }
            _ => {}
        }
    }
    shown
}

/// The command with `{port}` filled in.
pub fn command_for(command: &str, port: u16) -> String {
    command.replace("{port}", &port.to_string())
}

/// Where a dev server says it serves, on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announced {
    /// The port.
    pub port: u16,
    /// The path, from `/`.
    pub path: String,
}

/// The local address a line of a dev server's output announces, colours and all: Vite's and
/// SvelteKit's `➜  Local:   http://localhost:5173/`, Next.js's `- Local: http://localhost:3000`,
/// Python's `Serving HTTP on 0.0.0.0 port 8000 (http://0.0.0.0:8000/)`. Addresses of other
/// machines (`Network: http://192.168.1.4:5173/`) are not this machine's loopback: not read.
pub fn announced(line: &str) -> Option<Announced> {
    static ESCAPES: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").expect("a valid pattern"));
    static LOCAL: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1?\]):(\d{1,5})(/[^\s'`)]*)?")
            .expect("a valid pattern")
    });
    let plain = ESCAPES.replace_all(line, "");
    let found = LOCAL.captures(&plain)?;
    let port: u16 = found[1].parse().ok().filter(|port| *port > 0)?;
    let path = found.get(2).map_or("/", |m| m.as_str()).to_owned();
    Some(Announced { port, path })
}

/// A port nobody listens on now (the kernel's pick).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// Whether something accepts connections on `port` of this machine, over IPv4 or IPv6 (Vite
/// listens on `localhost`, which may be `::1` only).
async fn listening(port: u16) -> bool {
    for host in ["127.0.0.1", "::1"] {
        let connect = tokio::net::TcpStream::connect((host, port));
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(500), connect).await {
            return true;
        }
    }
    false
}

/// The end of a command's output that an error shows: its last 2,000 characters.
pub fn short_tail(output: &str) -> String {
    let output = output.trim_end();
    let count = output.chars().count();
    match output.char_indices().nth(count.saturating_sub(2_000)) {
        Some((at, _)) => output[at..].to_owned(),
        None => output.to_owned(),
    }
}

/// The end of a log, for an error.
fn log_tail(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    short_tail(&String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(8 * 1024)..]))
}

/// Takes away the preview worktrees of `task` in `folder` whose dashboard is gone (killed before
/// it could stop them).
async fn remove_abandoned(repo: &Git, folder: &Path, task: &str) {
    let Ok(mut entries) = tokio::fs::read_dir(folder).await else { return };
    let mut gone = false;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix(task).and_then(|rest| rest.strip_prefix('-')).and_then(|p| p.parse().ok());
        if pid.is_some_and(|pid| !crate::workspace::pid_alive(pid)) {
            let _ = tokio::fs::remove_dir_all(entry.path()).await;
            gone = true;
        }
    }
    if gone {
        let _ = repo.prune_worktrees().await;
    }
}

/// Takes the preview's worktree (and temporary folder) away.
async fn remove(repo: &Git, worktree: &Path, tmp: &Path) {
    if repo.remove_worktree(worktree).await.is_err() {
        let _ = tokio::fs::remove_dir_all(worktree).await;
        let _ = repo.prune_worktrees().await;
    }
    let _ = tokio::fs::remove_dir_all(tmp).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(port: u16, path: &str) -> Option<Announced> {
        Some(Announced { port, path: path.to_owned() })
    }

    #[test]
    fn the_address_dev_servers_announce_is_read_through_their_colours() {
        // Vite 6 (and SvelteKit's dev server), as it prints it: the port in bold.
        let vite = "  \u{1b}[32m➜\u{1b}[39m  \u{1b}[1mLocal\u{1b}[22m:   \u{1b}[36mhttp://localhost:\u{1b}[1m5174\u{1b}[22m/\u{1b}[39m";
        assert_eq!(announced(vite), at(5174, "/"));
        assert_eq!(announced("   - Local:        http://localhost:3000"), at(3000, "/"));
        assert_eq!(announced("Serving HTTP on 0.0.0.0 port 8000 (http://0.0.0.0:8000/) ..."), at(8000, "/"));
        assert_eq!(announced("  ➜  Local:   http://127.0.0.1:4173/app/"), at(4173, "/app/"));
        assert_eq!(announced("listening on http://[::1]:8080"), at(8080, "/"));
    }

    #[test]
    fn other_machines_and_nonsense_are_not_an_address_here() {
        assert_eq!(announced("  ➜  Network: http://192.168.1.4:5173/"), None);
        assert_eq!(announced("  ➜  Network: use --host to expose"), None);
        assert_eq!(announced("see https://localhost.example.com:443/"), None);
        assert_eq!(announced("http://localhost:0/"), None);
        assert_eq!(announced("http://localhost:99999/"), None);
        assert_eq!(announced("compiled in 120 ms"), None);
    }

    #[test]
    fn a_preview_is_shown_from_its_events_until_it_stops_or_its_checkpoint_waits_again() {
        let waiting = |task: &str| Event::CheckpointWaiting {
            task: task.into(),
            kind: plan::TaskType::HumanVerify,
            options: vec![],
            commit: Some("abc".into()),
            details: String::new(),
            steps: vec![],
            auto: false,
        };
        let ready = |task: &str, url: &str| Event::PreviewReady { task: task.into(), url: url.into() };
        let stopped = |task: &str, why, detail: Option<&str>| Event::PreviewStopped {
            task: task.into(),
            why,
            detail: detail.map(str::to_owned),
        };
        let events: Vec<Envelope> = [
            waiting("1.1"),
            waiting("1.2"),
            waiting("1.3"),
            waiting("1.4"),
            waiting("1.5"),
            ready("1.1", "http://localhost:4001/"),
            ready("1.2", "http://localhost:4002/"),
            stopped("1.2", PreviewEnd::Stopped, None),
            ready("1.3", "http://localhost:4003/"),
            // Rejected, then waiting on a new change: the old preview is not that change's.
            waiting("1.3"),
            Event::PreviewStarting { task: "1.4".into(), commit: "abc".into() },
            Event::PreviewStarting { task: "1.5".into(), commit: "abc".into() },
            stopped("1.5", PreviewEnd::Failed, Some("`exit 3` exited with code 3")),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, event)| Envelope { run: "r".into(), seq: i as u64 + 1, at_ms: 0, event })
        .collect();
        let mut shown: Vec<(String, Shown)> = shown(&events).into_iter().collect();
        shown.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            shown,
            [
                ("1.1".to_owned(), Shown::Ready { url: "http://localhost:4001/".into() }),
                ("1.4".to_owned(), Shown::Starting),
                ("1.5".to_owned(), Shown::Failed { detail: Some("`exit 3` exited with code 3".into()) }),
            ]
        );
        // As the room's JSON carries them.
        assert_eq!(serde_json::to_string(&Shown::Starting).unwrap(), r#"{"state":"starting"}"#);
        assert_eq!(serde_json::to_string(&Shown::Failed { detail: None }).unwrap(), r#"{"state":"failed"}"#);
        assert_eq!(serde_json::to_string(&shown[0].1).unwrap(), r#"{"state":"ready","url":"http://localhost:4001/"}"#);
    }

    #[test]
    fn the_port_is_filled_in_wherever_the_command_takes_it() {
        assert_eq!(
            command_for("npm run dev -- --port {port} --strictPort", 41873),
            "npm run dev -- --port 41873 --strictPort"
        );
        assert_eq!(
            command_for("python3 -m http.server {port} --bind 127.0.0.1", 8001),
            "python3 -m http.server 8001 --bind 127.0.0.1"
        );
        assert_eq!(command_for("next dev", 3001), "next dev");
    }
}

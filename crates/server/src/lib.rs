//! `server`: the wavecrew dashboard, a web room per run.
//!
//! [`Dashboard::start`] serves, for the repository whose state folder it is given:
//! - `/`: the runs list; `/runs/<id>`: a run's room (task panel, agent panel, graph, gates,
//!   verification, actions). Both pages are static files embedded in the binary; their script
//!   reads the JSON API below and follows the run live; the room's state is built here, in
//!   Rust, never in the page.
//! - `/api/runs`, `/api/runs/<id>`: the same data as `wavecrew runs`, `status` and `report`;
//!   `/api/runs/<id>/events`: Server-Sent Events, the run's room again each time its journal
//!   moves (bursts coalesced, see `hub.rs`) and its agents' log lines;
//!   `/api/runs/<id>/tasks/<task>/log`: a task's log; `/api/runs/<id>/tasks/<task>/diff`: the
//!   diff of its commit (or of the change its human-verify checkpoint waits on), paged
//!   (see `diff.rs`).
//! - `POST` approve / reject / decide, sign the Manual checklist off, cancel: the same
//!   [`engine::control`] calls as the CLI commands; `POST .../tasks/<task>/preview` (and
//!   `.../preview/stop`): a waiting checkpoint's change, running (see `preview.rs`).
//!
//! The server follows the journal, so the run may be in this process (`wavecrew run --serve`)
//! or in any other. Access rules are in [`auth`].

pub mod auth;
mod diff;
mod hub;

pub use hub::REBUILD_GAP;
pub use preview::PreviewConfig;
mod preview;
mod routes;
mod snapshot;

use engine::journal::Journal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{Semaphore, watch};

/// How much the server takes on at once.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Requests handled at the same time (live event streams not counted).
    pub requests: usize,
    /// Live event streams open at the same time; more are refused with 503.
    pub streams: usize,
    /// The largest request body accepted, in bytes.
    pub body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { requests: 64, streams: 512, body_bytes: 16 * 1024 }
    }
}

/// Where and how to serve.
#[derive(Clone, Debug)]
pub struct Options {
    /// The address to listen on; loopback unless people on other machines must see it.
    pub bind: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// The repository's wavecrew state folder (journal, run folders).
    pub state_dir: PathBuf,
    /// The access token; `None` makes a random one.
    pub token: Option<String>,
    /// Limits on requests and streams.
    pub limits: Limits,
    /// `[preview]`: how to run a waiting checkpoint's change, when the repository says.
    pub preview: Option<PreviewConfig>,
}

/// Why the dashboard could not start.
#[derive(Debug)]
pub struct StartError(String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// What every request handler shares.
pub(crate) struct App {
    journal: Arc<Journal>,
    state_dir: PathBuf,
    token: String,
    port: u16,
    loopback: bool,
    hub: hub::Hub,
    streams: Arc<Semaphore>,
    body_limit: usize,
    stop: watch::Receiver<bool>,
    previews: preview::Previews,
}

/// A running dashboard.
pub struct Dashboard {
    addr: SocketAddr,
    token: String,
    journal: Arc<Journal>,
    hub: hub::Hub,
    previews: preview::Previews,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Dashboard {
    /// Binds the address, starts following the journal and serves until [`Dashboard::stop`].
    pub async fn start(options: Options) -> Result<Dashboard, StartError> {
        let token = match options.token {
            Some(token) if !token.is_empty() => token,
            _ => auth::new_token().map_err(StartError)?,
        };
        let journal_path = options.state_dir.join("journal.sqlite");
        let journal = Journal::open(&journal_path).map_err(|e| StartError(e.to_string()))?;
        let journal = Arc::new(journal);
        let listener = tokio::net::TcpListener::bind((options.bind, options.port)).await.map_err(|e| {
            StartError(format!("could not listen on {}: {e}", SocketAddr::new(options.bind, options.port)))
        })?;
        let addr = listener.local_addr().map_err(|e| StartError(e.to_string()))?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let previews = preview::Previews::new(options.preview, journal.clone(), options.state_dir.clone());
        let hub = hub::start(journal.clone(), options.state_dir.clone(), previews.clone(), stop_rx.clone())
            .map_err(|e| StartError(e.to_string()))?;
        let app = Arc::new(App {
            journal: journal.clone(),
            state_dir: options.state_dir,
            token: token.clone(),
            port: addr.port(),
            loopback: options.bind.is_loopback(),
            hub: hub.clone(),
            streams: Arc::new(Semaphore::new(options.limits.streams)),
            body_limit: options.limits.body_bytes,
            stop: stop_rx.clone(),
            previews: previews.clone(),
        });
        let router = routes::router(app, &options.limits);
        let mut shutdown = stop_rx;
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                })
                .await
        });
        Ok(Dashboard { addr, token, journal, hub, previews, stop: stop_tx, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The access token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The URL to open, with the access token.
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }

    /// The URL of a run's room, with the access token.
    pub fn room_url(&self, run: &str) -> String {
        format!("{}?token={}", room_link(self.addr, run), self.token)
    }

    /// Stops serving: stops the previews it runs, waits until the follower has handed the
    /// journal's last events to the live pages (a run that just ended shows as ended), ends the
    /// live streams once they have sent what they hold, then the server.
    pub async fn stop(self) -> std::io::Result<()> {
        self.previews.stop_all().await;
        let journal = self.journal.clone();
        if let Ok(Ok(cursor)) = tokio::task::spawn_blocking(move || journal.tail_cursor()).await {
            self.hub.caught_up(cursor, std::time::Duration::from_secs(10)).await;
        }
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(result) => result,
            Err(error) => Err(std::io::Error::other(error)),
        }
    }
}

/// The URL of a run's room on the dashboard at `addr`, without the access token: for what
/// leaves this terminal (a notification). Bound to loopback, reading needs no token, and a
/// browser that opened the printed URL keeps the token in a cookie for the actions.
pub fn room_link(addr: SocketAddr, run: &str) -> String {
    format!("http://{addr}/runs/{run}")
}

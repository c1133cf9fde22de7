//! Notifications: `[notify]` in the configuration tells a person, on their phone, chat or
//! desktop, when a run needs them (a checkpoint or a gate waits, agents are held on a usage
//! limit) and when it ends, with the command that answers it.
//!
//! The [`Notifier`] is one more subscriber of the run's event stream, like the progress view:
//! [`notice::Watch`] decides (a pure function of the events) and each destination
//! ([`deliver::Sink`]) sends on a thread of its own, so the run never waits for a webhook.
//! When the run ends, what is still being sent gets [`GRACE`] to go out.

mod deliver;
mod notice;

pub use deliver::WebhookUrl;

use deliver::Sink;
use engine::events::Envelope;
use serde::Deserialize;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// How long the end of a run waits for notifications still being sent (a webhook retrying).
pub const GRACE: Duration = Duration::from_secs(10);

/// `[notify]`: where a person is told that a run needs them, and that it ended.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// URLs that get each notification as JSON (Slack, Discord, ntfy, or any receiver).
    #[serde(default)]
    pub webhook: Vec<WebhookUrl>,
    /// The ntfy topic, for an ntfy server's root URL among `webhook`.
    pub topic: Option<String>,
    /// A desktop notification with `notify-send`, when it is on PATH.
    pub desktop: Option<bool>,
    /// The terminal bell, when stderr is a terminal.
    pub bell: Option<bool>,
}

impl NotifyConfig {
    /// `over` (the repository's file) on this (the user's): webhooks add up, the rest wins key
    /// by key.
    pub fn merge(&mut self, over: NotifyConfig) {
        self.webhook.extend(over.webhook);
        self.topic = over.topic.or(self.topic.take());
        self.desktop = over.desktop.or(self.desktop);
        self.bell = over.bell.or(self.bell);
    }

    /// The destinations configured here that can work on this machine; a desktop without
    /// `notify-send` is said once and left out, a bell without a terminal silently.
    fn sinks(&self) -> Vec<Sink> {
        let mut sinks: Vec<Sink> =
            self.webhook.iter().map(|url| Sink::webhook(url.clone(), self.topic.clone())).collect();
        if self.desktop == Some(true) {
            match engine::settings::find_program(Path::new("notify-send")) {
                Some(program) => sinks.push(Sink::Desktop { program }),
                None => say!("note: [notify] desktop: `notify-send` is not on PATH, so no desktop notifications"),
            }
        }
        if self.bell == Some(true) && std::io::stderr().is_terminal() {
            sinks.push(Sink::Bell);
        }
        sinks
    }
}

/// The notifications of one run: a subscriber of its events.
pub struct Notifier {
    /// Reads the events until the stream ends; then hands back each sink's "done" signal.
    task: Option<JoinHandle<Vec<oneshot::Receiver<()>>>>,
}

impl Notifier {
    /// Starts notifying what `rx` brings, as `config` says; `room`: the dashboard's address
    /// with `run --serve`, whose room each notification links. Nothing is started when
    /// nothing is configured.
    pub fn spawn(mut rx: broadcast::Receiver<Envelope>, config: &NotifyConfig, room: Option<SocketAddr>) -> Notifier {
        let sinks = config.sinks();
        if sinks.is_empty() {
            return Notifier { task: None };
        }
        let (senders, done): (Vec<_>, Vec<_>) = sinks.into_iter().filter_map(start).unzip();
        let task = tokio::spawn(async move {
            let mut watch = notice::Watch::new(room);
            loop {
                match rx.recv().await {
                    Ok(envelope) => {
                        if let Some(notice) = watch.notice(&envelope) {
                            for sender in &senders {
                                let _ = sender.send(notice.clone());
                            }
                        }
                    }
                    // What was missed was chatter or is in the terminal; the run's end still comes.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
            // Dropping the senders lets each sink finish its queue and stop.
            drop(senders);
            done
        });
        Notifier { task: Some(task) }
    }

    /// Once the run's events ended: waits for what is still being sent, at most [`GRACE`].
    pub async fn finish(self) {
        let Some(task) = self.task else { return };
        let Ok(done) = task.await else { return };
        let deadline = tokio::time::Instant::now() + GRACE;
        let mut late = 0;
        for sink in done {
            if tokio::time::timeout_at(deadline, sink).await.is_err() {
                late += 1;
            }
        }
        if late > 0 {
            say!("note: [notify] {late} destination(s) still sending after {}s: left unsent", GRACE.as_secs());
        }
    }
}

/// Starts `sink`'s thread: it delivers what the sender gets, in order, says its first failure
/// (later ones would say the same), and signals when its queue is done.
fn start(sink: Sink) -> Option<(std::sync::mpsc::Sender<notice::Notice>, oneshot::Receiver<()>)> {
    let (tx, rx) = std::sync::mpsc::channel::<notice::Notice>();
    let (done_tx, done_rx) = oneshot::channel();
    let name = sink.name();
    let spawned = std::thread::Builder::new().name("wavecrew-notify".into()).spawn(move || {
        let mut said = false;
        for notice in rx {
            if let Err(error) = sink.deliver(&notice)
                && !std::mem::replace(&mut said, true)
            {
                say!("warning: [notify] {}: {error} (said once; the run goes on)", sink.name());
            }
        }
        let _ = done_tx.send(());
    });
    match spawned {
        Ok(_) => Some((tx, done_rx)),
        Err(error) => {
            say!("warning: [notify] {name}: could not start: {error}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_add_up_and_the_rest_is_the_repositorys() {
        let mut config: NotifyConfig =
            toml::from_str("webhook = [\"https://hooks.slack.com/services/A\"]\ndesktop = true\ntopic = \"mine\"\n")
                .unwrap();
        config.merge(toml::from_str("webhook = [\"https://ntfy.sh/\"]\ndesktop = false\nbell = true\n").unwrap());
        assert_eq!(config.webhook.len(), 2);
        assert_eq!((config.desktop, config.bell, config.topic.as_deref()), (Some(false), Some(true), Some("mine")));
        let shown = format!("{config:?}");
        assert!(!shown.contains("services/A"), "{shown}");
    }
}

//! [`Slots`]: how a task that waits for a person talks to the scheduler. It gives its slot back
//! while it waits (other tasks run meanwhile), asks for one again once answered, and, with
//! `--batch-checkpoints`, waits until its wave has settled. The run loop holds the other end
//! ([`SlotRequest`]s in, settled waves out) and passes them to the pure scheduler.

use crate::limits::Limit;
use plan::TaskId;
use std::collections::HashSet;
use tokio::sync::{mpsc, oneshot, watch};

/// A waiting task's word to the scheduler.
#[derive(Debug)]
pub(crate) enum SlotRequest {
    /// It waits for a person: its slot is free for other tasks meanwhile.
    Park(TaskId),
    /// It was answered and wants a slot again; the scheduler says when it has one.
    Unpark(TaskId, oneshot::Sender<()>),
    /// Its attempt `attempt` ended on its agent's usage or rate limit: the scheduler holds the
    /// agent's lanes and says how the task goes on once the hold ends.
    Limited { task: TaskId, attempt: u32, limit: Limit, answer: oneshot::Sender<HoldEnd> },
}

/// How a limited task goes on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HoldEnd {
    /// Run the attempt again: the limited one does not count.
    Retry,
    /// Fail as limited, for this reason.
    Fail(String),
    /// The run is stopping (or nobody answers): end here, pending for a resume.
    Stop,
}

/// A task's end of the line to the scheduler.
pub(crate) struct Slots {
    requests: mpsc::UnboundedSender<SlotRequest>,
    settled: watch::Sender<HashSet<u32>>,
}

impl Slots {
    /// The tasks' end, and the scheduler's end of the requests.
    pub(crate) fn new() -> (Slots, mpsc::UnboundedReceiver<SlotRequest>) {
        let (requests, rx) = mpsc::unbounded_channel();
        (Slots { requests, settled: watch::Sender::new(HashSet::new()) }, rx)
    }

    /// Gives `id`'s slot back while it waits for a person.
    pub(crate) fn park(&self, id: TaskId) {
        let _ = self.requests.send(SlotRequest::Park(id));
    }

    /// Asks for a slot again for `id` and waits until the scheduler grants it. `false` when the
    /// run was cancelled meanwhile.
    pub(crate) async fn unpark(&self, id: TaskId, cancel: &mut watch::Receiver<bool>) -> bool {
        let (go, granted) = oneshot::channel();
        if self.requests.send(SlotRequest::Unpark(id, go)).is_err() {
            return true; // no scheduler listens (a worker): nothing to wait for
        }
        tokio::select! {
            _ = granted => true,
            _ = cancel.changed() => false,
        }
    }

    /// Tells the scheduler that `id`'s attempt `attempt` ended on `limit`, and waits (holding no
    /// slot) until it says how the task goes on.
    pub(crate) async fn limited(
        &self,
        id: TaskId,
        attempt: u32,
        limit: Limit,
        cancel: &mut watch::Receiver<bool>,
    ) -> HoldEnd {
        let (answer, answered) = oneshot::channel();
        if self.requests.send(SlotRequest::Limited { task: id, attempt, limit, answer }).is_err() {
            return HoldEnd::Stop;
        }
        tokio::select! {
            end = answered => end.unwrap_or(HoldEnd::Stop),
            _ = cancel.changed() => HoldEnd::Stop,
        }
    }

    /// Waits until `wave` has settled: nothing of it can move but by a person's answer. `false`
    /// when the run was cancelled meanwhile.
    pub(crate) async fn settled(&self, wave: u32, cancel: &mut watch::Receiver<bool>) -> bool {
        let mut settled = self.settled.subscribe();
        loop {
            if *cancel.borrow() {
                return false;
            }
            if settled.borrow_and_update().contains(&wave) {
                return true;
            }
            tokio::select! {
                changed = settled.changed() => if changed.is_err() { return true },
                _ = cancel.changed() => {}
            }
        }
    }

    /// The scheduler's news: these waves have settled (sent on only when it changed).
    pub(crate) fn publish_settled(&self, waves: HashSet<u32>) {
        self.settled.send_if_modified(|known| {
            let changed = *known != waves;
            *known = waves;
            changed
        });
    }
}

//! [`Emitter`]: where an attempt's events go. On the machine that runs the plan, into the
//! journal first (before anything acts on them), then to the live stream (terminal view,
//! dashboard); on a worker (a Slurm job), into the attempt's spool folder for the head to read.

use crate::events::{Envelope, Event};
use crate::journal::{Journal, JournalError, now_ms};
use crate::remote::EventWriter;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Records events before anything acts on them, then passes them on.
#[derive(Clone)]
pub(crate) struct Emitter {
    sink: Sink,
}

#[derive(Clone)]
enum Sink {
    /// The run's journal, then the live stream.
    Journal { run: String, journal: Arc<Journal>, tx: broadcast::Sender<Envelope> },
    /// A worker's spool folder: `events.jsonl`, which the head follows.
    Spool(Arc<EventWriter>),
}

impl Emitter {
    /// Events of `run` into `journal`, then to `tx`.
    pub(crate) fn journaled(run: &str, journal: Arc<Journal>, tx: broadcast::Sender<Envelope>) -> Emitter {
        Emitter { sink: Sink::Journal { run: run.to_owned(), journal, tx } }
    }

    /// Events into a worker's spool folder.
    pub(crate) fn spooled(writer: EventWriter) -> Emitter {
        Emitter { sink: Sink::Spool(Arc::new(writer)) }
    }

    pub(crate) fn emit(&self, event: Event) -> Result<(), JournalError> {
        match &self.sink {
            Sink::Spool(writer) => {
                if matches!(event, Event::AgentOutput { .. }) {
                    return Ok(()); // the log file has it
                }
                writer.write(&event).map_err(|e| JournalError::io(Path::new("events.jsonl"), e))
            }
            Sink::Journal { run, journal, tx } => {
                let envelope = match event {
                    // Agent output is in the attempt's log file; the journal keeps states, not chatter.
                    Event::AgentOutput { .. } => Envelope { run: run.clone(), seq: 0, at_ms: now_ms(), event },
                    event => journal.record(run, event)?,
                };
                let _ = tx.send(envelope);
                Ok(())
            }
        }
    }
}

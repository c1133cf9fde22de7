//! Run time: the events' wall-clock times with the gaps between a resumed run's sessions left
//! out (see the timeline's doc).

use super::Session;
use crate::events::{Envelope, Event};

/// Turns the events' wall-clock times into run time.
pub(super) struct Clock {
    /// Each event's session.
    pub(super) session_of: Vec<usize>,
    /// Each session's first and last moment, in wall-clock milliseconds.
    wall: Vec<(u64, u64)>,
    /// Where each session starts in run time.
    offsets: Vec<u64>,
}

impl Clock {
    pub(super) fn of(events: &[Envelope]) -> Clock {
        // The index of each session's first event.
        let mut starts = vec![0];
        for (index, envelope) in events.iter().enumerate() {
            if matches!(envelope.event, Event::RunResumed { .. }) {
                let previous = starts.last().copied().unwrap_or(0);
                // `resume` journals the commits it found on the run branch just before it says
                // `run_resumed`: they belong to the new session, not to the gap before it.
                let mut first = index;
                while first > previous + 1 && matches!(events[first - 1].event, Event::TaskCommitted { .. }) {
                    first -= 1;
                }
                if first > previous {
                    starts.push(first);
                }
            }
        }
        let mut session_of = vec![0; events.len()];
        let mut wall = Vec::new();
        for (session, &first) in starts.iter().enumerate() {
            let last = starts.get(session + 1).copied().unwrap_or(events.len());
            let Some(part) = events.get(first..last).filter(|p| !p.is_empty()) else { continue };
            session_of[first..last].fill(wall.len());
            let start = part[0].at_ms;
            let end = match part.iter().find(|e| matches!(e.event, Event::RunFinished { .. })) {
                Some(finished) => finished.at_ms,
                None => part.iter().map(|e| e.at_ms).max().unwrap_or(start),
            };
            wall.push((start, end.max(start)));
        }
        let offsets = wall
            .iter()
            .scan(0, |sum, (start, end)| {
                let offset = *sum;
                *sum += end - start;
                Some(offset)
            })
            .collect();
        Clock { session_of, wall, offsets }
    }

    /// Wall-clock `at_ms` of event `index`'s session in run time (clamped to the session).
    pub(super) fn at(&self, index: usize, at_ms: u64) -> u64 {
        let session = self.session_of[index];
        let (start, end) = self.wall[session];
        self.offsets[session] + at_ms.clamp(start, end) - start
    }

    pub(super) fn session_start(&self, index: usize) -> u64 {
        self.offsets[self.session_of[index]]
    }

    pub(super) fn makespan(&self) -> u64 {
        self.wall.iter().map(|(start, end)| end - start).sum()
    }

    pub(super) fn sessions(&self) -> Vec<Session> {
        self.wall
            .iter()
            .zip(&self.offsets)
            .map(|((start, end), offset)| Session { start_ms: *offset, end_ms: offset + (end - start) })
            .collect()
    }
}

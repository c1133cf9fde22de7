//! The timeline for people and tools: a text Gantt chart for the terminal, the numbers as
//! sentences (the terminal and `report.md` share them), and Chrome trace JSON (the Trace Event
//! Format, which Perfetto and `chrome://tracing` open).

use super::{Bar, Phase, Timeline};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The character of a bar's cells in the text chart: lowercase (or light) for most tasks,
/// uppercase (or heavy) for those on the critical path.
fn glyph(phase: Phase, critical: bool) -> char {
    let (plain, marked) = match phase {
        Phase::Prepare => ('p', 'P'),
        Phase::Agent => ('=', '#'),
        Phase::Verify => ('v', 'V'),
        Phase::Git => ('g', 'G'),
        Phase::Gate => ('r', 'R'),
        Phase::Waiting => ('.', ':'),
        Phase::Limit => ('l', 'L'),
    };
    if critical { marked } else { plain }
}

/// What the chart's characters mean.
pub const LEGEND: &str = "= agent  v Verify  g git  p preparing the lane  r gate round  . waiting for a person\n\
                          l limit  ¦ resumed      on the critical path: # V G P R : L";

/// `ms` for people: `850ms`, `12.3s`, `4m 05s`, `2h 03m`.
pub fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        _ if ms < 1000 => format!("{ms}ms"),
        0..60 => format!("{:.1}s", ms as f64 / 1000.0),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    }
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

impl Timeline {
    /// The numbers, one sentence a line: makespan and critical-path bound, speedup, lanes,
    /// waiting.
    pub fn summary(&self) -> Vec<String> {
        let path = if self.critical_path.is_empty() {
            String::new()
        } else {
            format!(": {}", self.critical_path.join(" → "))
        };
        let lanes: Vec<String> = self.lanes.iter().map(|l| format!("{} {}", l.name, percent(l.utilization))).collect();
        let w = &self.waiting;
        let mut lines = vec![
            format!(
                "Makespan {}; critical-path bound {} ({} of the makespan){path}",
                duration(self.makespan_ms),
                duration(self.critical_path_ms),
                percent(self.bound_ratio())
            ),
            format!("Speedup {:.2}x over one task after another ({})", self.speedup, duration(self.serial_ms)),
            format!("Lanes busy: {}", if lanes.is_empty() { "none".to_owned() } else { lanes.join(", ") }),
            format!(
                "Waiting: for people {}, for limits {}, in Verify {}, in git {}",
                duration(w.people_ms),
                duration(w.limits_ms),
                duration(w.verify_ms),
                duration(w.git_ms)
            ),
        ];
        if self.sessions.len() > 1 {
            lines.push(format!("Resumed: {} sessions; the time between them is left out", self.sessions.len()));
        }
        lines
    }

    /// A text Gantt chart `width` columns wide: one row per lane, bars scaled to the run's
    /// length, tasks named where they fit and those on the critical path marked, then the
    /// numbers.
    pub fn gantt(&self, width: usize) -> String {
        let label = self.lanes.iter().map(|l| l.name.chars().count()).max().unwrap_or(0).clamp(4, 24);
        let cells = width.saturating_sub(label + 3).max(10);
        let span = self.makespan_ms.max(1);
        let cell_of = |ms: u64| ((ms as u128 * cells as u128) / span as u128).min(cells as u128 - 1) as usize;
        let mut out = String::new();
        let start = "0s";
        let end = duration(self.makespan_ms);
        let gap = cells.saturating_sub(start.len() + end.len()).max(1);
        let _ = writeln!(out, "{:label$}  {start}{}{end}", "", " ".repeat(gap));
        // Where a resumed run's sessions meet, in the rows' empty cells.
        let breaks: Vec<usize> = self.sessions.iter().skip(1).map(|s| cell_of(s.start_ms)).collect();
        for lane in &self.lanes {
            let mut row = vec![' '; cells];
            for &cell in &breaks {
                row[cell] = '¦';
            }
            // Waits first: a lane's work meanwhile (a parked checkpoint frees its lane) shows over them.
            let mut bars: Vec<&Bar> = self.bars.iter().filter(|b| b.lane == lane.name).collect();
            bars.sort_by_key(|b| !b.phase.is_wait());
            for bar in bars {
                let last = cell_of(bar.end_ms.saturating_sub(1)).max(cell_of(bar.start_ms));
                row[cell_of(bar.start_ms)..=last].fill(glyph(bar.phase, bar.critical));
            }
            for task in self.tasks.iter().filter(|t| t.lane == lane.name) {
                let (first, last) = (cell_of(task.start_ms), cell_of(task.end_ms.saturating_sub(1)));
                let name: Vec<char> = task.task.chars().collect();
                if last + 1 >= first + name.len() + 2 {
                    row[first..first + name.len()].copy_from_slice(&name);
                }
            }
            let name: String = lane.name.chars().take(label).collect();
            let _ = writeln!(out, "{name:label$} |{}|", row.into_iter().collect::<String>());
        }
        let _ = writeln!(out, "{LEGEND}\n");
        for line in self.summary() {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// The timeline in the Trace Event Format: a process for the run, a thread per lane (and one
    /// for its waits, which may overlap its work), a complete event (`X`) per bar, and a thread
    /// of the critical path's tasks, with times in microseconds.
    pub fn chrome_trace(&self, run: &str, title: &str) -> Value {
        const PID: u64 = 1;
        let mut events = vec![json!({
            "name": "process_name", "ph": "M", "pid": PID, "tid": 0,
            "args": {"name": format!("wavecrew run {run}: {title}")},
        })];
        let thread = |events: &mut Vec<Value>, tid: u64, name: String| {
            events.push(json!({"name": "thread_name", "ph": "M", "pid": PID, "tid": tid, "args": {"name": name}}));
            events.push(
                json!({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": tid, "args": {"sort_index": tid}}),
            );
        };
        for (index, lane) in self.lanes.iter().enumerate() {
            let tid = 2 * index as u64 + 1;
            thread(&mut events, tid, format!("{} ({})", lane.name, lane.agent));
            if self.bars.iter().any(|b| b.lane == lane.name && b.phase.is_wait()) {
                thread(&mut events, tid + 1, format!("{}: waiting", lane.name));
            }
        }
        for bar in &self.bars {
            let Some(index) = self.lanes.iter().position(|l| l.name == bar.lane) else { continue };
            let tid = 2 * index as u64 + 1 + u64::from(bar.phase.is_wait());
            events.push(json!({
                "name": format!("{} {}", bar.task, bar.phase.as_str()),
                "cat": bar.phase.as_str(),
                "ph": "X",
                "ts": bar.start_ms * 1000,
                "dur": (bar.end_ms - bar.start_ms) * 1000,
                "pid": PID,
                "tid": tid,
                "args": {"task": bar.task, "attempt": bar.attempt, "critical": bar.critical},
            }));
        }
        // The critical path on a track of its own, its tasks one after another, above the lanes.
        let critical: Vec<_> = self.tasks.iter().filter(|t| t.critical && t.end_ms > t.start_ms).collect();
        if !critical.is_empty() {
            let tid = 2 * self.lanes.len() as u64 + 1;
            events.push(
                json!({"name": "thread_name", "ph": "M", "pid": PID, "tid": tid, "args": {"name": "critical path"}}),
            );
            events.push(
                json!({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": tid, "args": {"sort_index": 0}}),
            );
            for task in critical {
                events.push(json!({
                    "name": task.task,
                    "cat": "critical",
                    "ph": "X",
                    "ts": task.start_ms * 1000,
                    "dur": task.duration_ms() * 1000,
                    "pid": PID,
                    "tid": tid,
                    "args": {"lane": task.lane},
                }));
            }
        }
        json!({
            "traceEvents": events,
            "displayTimeUnit": "ms",
            "otherData": {
                "run": run,
                "makespan_ms": self.makespan_ms,
                "critical_path_ms": self.critical_path_ms,
                "critical_path": self.critical_path,
                "speedup": self.speedup,
            },
        })
    }
}

//! What the pages show, as JSON: the runs list and a run's room, built from the journal (the
//! same data as `wavecrew runs`, `status`, `report` and `graph`).

use engine::events::{Envelope, Event, TaskState};
use engine::journal::{Journal, JournalError, RunRecord};
use engine::report::{CheckpointAnswer, GateReport, Report, Verification, VerifyResult};
use engine::timeline::Timeline;
use plan::{Plan, Schedule, TaskId};
use serde::Serialize;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A row of the runs list.
#[derive(Debug, Serialize)]
pub(crate) struct RunRow {
    id: String,
    milestone: String,
    title: String,
    state: &'static str,
    started_ms: u64,
    finished_ms: Option<u64>,
    duration_ms: u64,
    tasks_done: usize,
    tasks_total: usize,
    cost_usd: Option<f64>,
}

/// Every run of the repository, newest first. Read from the state tables and one SQL pass
/// over the events: the page asks for it every few seconds, whatever the number of runs.
pub(crate) fn runs(journal: &Journal) -> Result<Vec<RunRow>, JournalError> {
    let totals = journal.run_totals()?;
    Ok(journal
        .runs()?
        .into_iter()
        .map(|run| {
            let total = totals.get(&run.id).cloned().unwrap_or_default();
            let end = run.finished_ms.or(total.last_event_ms).unwrap_or(run.started_ms);
            RunRow {
                state: engine::control::state_name(&run),
                tasks_done: total.committed,
                tasks_total: total.tasks,
                duration_ms: end.saturating_sub(run.started_ms),
                cost_usd: total.cost_usd,
                id: run.id,
                milestone: run.milestone,
                title: run.title,
                started_ms: run.started_ms,
                finished_ms: run.finished_ms,
            }
        })
        .collect())
}

/// The run's header.
#[derive(Debug, Serialize)]
struct RunHead {
    id: String,
    milestone: String,
    title: String,
    state: &'static str,
    branch: String,
    base: String,
    plan_path: String,
    started_ms: u64,
    finished_ms: Option<u64>,
    duration_ms: u64,
    /// The pull (merge) request `wavecrew ship` opened, once it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pull_request: Option<String>,
}

#[derive(Debug, Serialize)]
struct WaveView {
    number: u32,
    title: Option<String>,
    tasks: Vec<String>,
}

/// A checkpoint waiting for a person.
#[derive(Clone, Debug, Serialize)]
struct Waiting {
    kind: String,
    options: Vec<String>,
    commit: Option<String>,
    details: String,
}

#[derive(Debug, Serialize)]
struct TaskView {
    id: String,
    title: String,
    #[serde(rename = "type")]
    kind: String,
    wave: u32,
    depends_on: Vec<String>,
    files: Vec<String>,
    state: TaskState,
    lane: Option<String>,
    /// The model it ran on, else the one its Agent Strategy row names.
    model: Option<String>,
    attempts: u32,
    started_ms: Option<u64>,
    duration_ms: u64,
    commit: Option<String>,
    reason: Option<String>,
    verify: Vec<VerifyResult>,
    tokens_in: u64,
    tokens_out: u64,
    cost_usd: Option<f64>,
    waiting: Option<Waiting>,
    /// A best-of task's candidates, each with its verdict, diff size and tokens.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    candidates: Vec<engine::report::CandidateReport>,
    /// The preview of the change its checkpoint waits on, while it waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<engine::preview::Shown>,
    /// Why it waits for a running task to end before it starts (a wave's or the run's budget),
    /// while it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    budget_wait: Option<String>,
}

#[derive(Debug, Serialize)]
struct LaneView {
    name: String,
    agent: String,
    model: Option<String>,
    tasks: Vec<String>,
    current_task: Option<String>,
    tokens_in: u64,
    tokens_out: u64,
    cost_usd: Option<f64>,
    /// The last lines its agent printed for its current (or latest) task; only in the room a
    /// page loads (the live stream brings the lines printed after).
    #[serde(skip_serializing_if = "Option::is_none")]
    log_tail: Option<Vec<LogLine>>,
}

/// A line an agent printed, as the live stream sends it.
#[derive(Debug, Serialize)]
struct LogLine {
    task: String,
    attempt: u32,
    line: String,
}

/// Lines of a lane's log tail in the room.
const LOG_TAIL_LINES: usize = 50;

#[derive(Debug, Serialize)]
struct Node {
    id: String,
    title: String,
    wave: u32,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
struct Edge {
    from: String,
    to: String,
}

#[derive(Debug, Serialize)]
struct Graph {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

/// A run's room: everything the page shows, as of journal event `seq`.
#[derive(Debug, Serialize)]
pub(crate) struct Room {
    run: RunHead,
    context: String,
    pub(crate) seq: u64,
    waves: Vec<WaveView>,
    tasks: Vec<TaskView>,
    lanes: Vec<LaneView>,
    graph: Graph,
    gates: Vec<GateReport>,
    /// Where the run's time went: the room draws it as a Gantt chart of its lanes.
    timeline: Timeline,
    verification: Option<Verification>,
    checkpoints: Vec<CheckpointAnswer>,
    /// Why the run is stopping, from its last `stopping` event until it ends or resumes.
    stopping: Option<String>,
    /// What holds the run's agents now: "held until 14:05: claude: You've hit your session
    /// limit", one line per held agent (from their last `agent_limited`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    held: Vec<String>,
    /// Whether this page may act (it presented the token); absent from the live stream's rooms,
    /// which every page of the run shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    can_act: Option<bool>,
    /// Whether this dashboard runs previews (`[preview] command`); like `can_act`, only in the
    /// room a page loads.
    #[serde(skip_serializing_if = "Option::is_none")]
    can_preview: Option<bool>,
}

/// Who a room is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Audience {
    /// A page that loads it: with the lanes' log tails, whether it may act, and whether the
    /// dashboard runs previews.
    Page { can_act: bool, can_preview: bool },
    /// The live stream, shared by every page of the run: without either.
    Stream,
}

/// The room of `run`.
pub(crate) fn room(
    journal: &Journal,
    state_dir: &Path,
    run: &RunRecord,
    audience: Audience,
) -> Result<Room, JournalError> {
    let rows = journal.tasks(&run.id)?;
    let events = journal.events(&run.id, 0)?;
    let report = Report::build(run, &rows, &events);
    let plan = plan::parse(&run.plan_text, &run.milestone).plan;
    let schedule = Schedule::new(&plan);
    let edges = edges(&plan, &schedule);
    let Replayed { lanes, waiting, started, stopping, last_attempt, budget_waits } = replay(&events);
    let previews = engine::preview::shown(&events);

    let tasks: Vec<TaskView> = report
        .tasks
        .iter()
        .map(|t| {
            let id = t.record.task.as_str();
            let task = TaskId::parse(id).and_then(|id| plan.task(id));
            TaskView {
                id: id.to_owned(),
                title: task.map_or_else(|| format!("Task {id}"), |t| t.summary()),
                kind: task.map_or_else(|| "auto".to_owned(), |t| t.kind.as_str().to_owned()),
                wave: task.map_or(0, |t| t.wave),
                depends_on: edges.iter().filter(|e| e.to == id).map(|e| e.from.clone()).collect(),
                files: task.map(|t| t.files.iter().map(|f| f.value.clone()).collect()).unwrap_or_default(),
                state: t.record.state,
                lane: t.record.lane.clone(),
                model: t.model.clone().or_else(|| task.and_then(|t| t.model.clone())),
                attempts: t.record.attempts,
                started_ms: started.get(id).copied(),
                duration_ms: t.duration_ms,
                commit: t.record.commit.clone(),
                reason: t.record.reason.clone(),
                verify: t.verify.clone(),
                tokens_in: t.tokens_in,
                tokens_out: t.tokens_out,
                cost_usd: t.cost_usd,
                waiting: waiting.get(id).filter(|_| t.record.state == TaskState::Waiting).cloned(),
                candidates: t.candidates.clone(),
                preview: previews.get(id).filter(|_| t.record.state == TaskState::Waiting).cloned(),
                budget_wait: budget_waits
                    .get(id)
                    .filter(|_| t.record.state == TaskState::Pending && run.finished_ms.is_none())
                    .cloned(),
            }
        })
        .collect();

    let lanes = lanes
        .into_iter()
        .map(|lane| {
            let mine = || tasks.iter().filter(|t| lane.tasks.contains(&t.id));
            // Its latest task's attempt; on a lane of no plan task (the verifier's), its last attempt.
            let latest = mine()
                .filter(|t| t.attempts > 0)
                .max_by_key(|t| t.started_ms)
                .map(|t| (t.id.clone(), t.attempts))
                .or_else(|| last_attempt.get(&lane.name).cloned());
            LaneView {
                log_tail: (audience != Audience::Stream).then(|| {
                    latest.map(|(task, attempt)| log_tail(state_dir, &run.id, &task, attempt)).unwrap_or_default()
                }),
                current_task: mine()
                    .find(|t| {
                        matches!(
                            t.state,
                            TaskState::Running | TaskState::Verifying | TaskState::Integrating | TaskState::Waiting
                        )
                    })
                    .map(|t| t.id.clone()),
                tokens_in: mine().map(|t| t.tokens_in).sum(),
                tokens_out: mine().map(|t| t.tokens_out).sum(),
                cost_usd: mine().filter_map(|t| t.cost_usd).reduce(|a, b| a + b),
                name: lane.name,
                agent: lane.agent,
                model: lane.model,
                tasks: lane.tasks,
            }
        })
        .collect();

    Ok(Room {
        run: RunHead {
            id: run.id.clone(),
            milestone: run.milestone.clone(),
            title: run.title.clone(),
            state: engine::control::state_name(run),
            branch: run.branch.clone(),
            base: run.base.clone(),
            plan_path: run.plan_path.clone(),
            started_ms: run.started_ms,
            finished_ms: run.finished_ms,
            duration_ms: report.duration_ms,
            pull_request: report.pull_request.clone(),
        },
        context: plan.context.clone(),
        seq: events.last().map_or(0, |e| e.seq),
        waves: plan
            .waves
            .iter()
            .map(|w| WaveView {
                number: w.number,
                title: w.name.clone(),
                tasks: w.tasks.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        graph: Graph {
            nodes: plan.tasks.iter().map(|t| Node { id: t.id.to_string(), title: t.summary(), wave: t.wave }).collect(),
            edges,
        },
        tasks,
        lanes,
        gates: report.gates,
        timeline: report.timeline,
        verification: report.verification,
        checkpoints: report.checkpoints,
        stopping: stopping.filter(|_| run.finished_ms.is_none()),
        held: engine::limits::holding(&events, engine::journal::now_ms())
            .into_iter()
            .filter(|_| run.finished_ms.is_none())
            .map(|(_, hold, until, reason)| engine::limits::describe_local(&hold, Some(until), &reason))
            .collect(),
        can_act: match audience {
            Audience::Page { can_act, .. } => Some(can_act),
            Audience::Stream => None,
        },
        can_preview: match audience {
            Audience::Page { can_preview, .. } => Some(can_preview),
            Audience::Stream => None,
        },
    })
}

/// The last [`LOG_TAIL_LINES`] lines of an attempt's agent log.
fn log_tail(state_dir: &Path, run: &str, task: &str, attempt: u32) -> Vec<LogLine> {
    let path = engine::layout::RunLayout::new(state_dir, run).log(task, attempt, "agent");
    let Ok(mut file) = std::fs::File::open(path) else { return Vec::new() };
    // Read at most the last 64 KiB: enough for 50 lines of any sane agent.
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..]
        .iter()
        .map(|line| LogLine { task: task.to_owned(), attempt, line: crate::hub::clean(line.as_bytes()) })
        .collect()
}

/// What the room needs from the events beyond the report.
#[derive(Debug, Default)]
struct Replayed {
    /// The lanes announced by the run's last start, then those its attempts ran on.
    lanes: Vec<engine::events::LaneInfo>,
    /// The checkpoints' last waiting details.
    waiting: HashMap<String, Waiting>,
    /// When each task's first attempt started.
    started: HashMap<String, u64>,
    /// The task and attempt that each lane ran last.
    last_attempt: HashMap<String, (String, u32)>,
    /// The reason of a `stopping` event not followed by a resume.
    stopping: Option<String>,
    /// Why tasks wait for room in a budget, until their next attempt starts.
    budget_waits: HashMap<String, String>,
}

fn replay(events: &[Envelope]) -> Replayed {
    let Replayed { mut lanes, mut waiting, mut started, mut stopping, mut last_attempt, mut budget_waits } =
        Replayed::default();
    for envelope in events {
        match &envelope.event {
            Event::RunStarted { lanes: announced, .. } => lanes.clone_from(announced),
            Event::Stopping { reason } => stopping = Some(as_journaled(reason)),
            Event::RunResumed { .. } => stopping = None,
            Event::CheckpointWaiting { task, kind, options, commit, details, .. } => {
                waiting.insert(
                    task.clone(),
                    Waiting {
                        kind: kind.as_str().to_owned(),
                        options: options.clone(),
                        commit: commit.clone(),
                        details: details.clone(),
                    },
                );
            }
            Event::BudgetWait { task, why } => {
                budget_waits.insert(task.clone(), why.clone());
            }
            Event::AttemptStarted { task, attempt, lane, agent, model, .. } => {
                budget_waits.remove(task);
                started.entry(task.clone()).or_insert(envelope.at_ms);
                last_attempt.insert(lane.clone(), (task.clone(), *attempt));
                // A lane the start did not announce (the verifier's): shown from its first attempt.
                match lanes.iter_mut().find(|l| l.name == *lane) {
                    Some(known) if !known.tasks.contains(task) => known.tasks.push(task.clone()),
                    Some(_) => {}
                    None => lanes.push(engine::events::LaneInfo {
                        name: lane.clone(),
                        agent: agent.clone(),
                        model: model.clone(),
                        tasks: vec![task.clone()],
                    }),
                }
            }
            _ => {}
        }
    }
    Replayed { lanes, waiting, started, stopping, last_attempt, budget_waits }
}

/// A field's value as the journal's JSON spells it (a text, or the name of a closed set's member).
fn as_journaled(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The graph's edges, the waits `wavecrew graph` draws: the task before a task in its wave,
/// and, for a wave's first tasks, the last tasks of each wave it depends on.
fn edges(plan: &Plan, schedule: &Schedule) -> Vec<Edge> {
    let mut edges = Vec::new();
    for task in &plan.tasks {
        for before in schedule.in_wave_predecessors(task.id) {
            let edge = Edge { from: before.to_string(), to: task.id.to_string() };
            if !edges.contains(&edge) {
                edges.push(edge);
            }
        }
    }
    // Within a wave: the tasks nothing waits for are its ends, those that wait for nothing its starts.
    let ends = |wave: u32| -> Vec<TaskId> {
        let tasks = plan.wave(wave).map(|w| w.tasks.clone()).unwrap_or_default();
        tasks
            .iter()
            .copied()
            .filter(|t| !tasks.iter().any(|other| schedule.in_wave_predecessors(*other).contains(t)))
            .collect()
    };
    for wave in &plan.waves {
        let starts = wave.tasks.iter().copied().filter(|t| schedule.in_wave_predecessors(*t).is_empty());
        for start in starts {
            for dep in &wave.depends_on {
                for end in ends(dep.value) {
                    let edge = Edge { from: end.to_string(), to: start.to_string() };
                    if !edges.contains(&edge) {
                        edges.push(edge);
                    }
                }
            }
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lanes_are_the_announced_ones_then_those_attempts_ran_on() {
        let lane = |name: &str, tasks: &[&str]| engine::events::LaneInfo {
            name: name.into(),
            agent: "scripted".into(),
            model: None,
            tasks: tasks.iter().map(|t| (*t).to_owned()).collect(),
        };
        let started = |task: &str, lane: &str| Event::AttemptStarted {
            task: task.into(),
            attempt: 1,
            lane: lane.into(),
            agent: "scripted".into(),
            model: Some("opus".into()),
            worktree: "w".into(),
            base: "b".into(),
            role: None,
        };
        let events: Vec<Envelope> = [
            Event::RunStarted {
                milestone: "M1".into(),
                title: "t".into(),
                branch: "b".into(),
                base: "b".into(),
                tasks: vec!["1.1".into()],
                lanes: vec![lane("A", &["1.1"])],
            },
            started("1.1", "A"),
            started("verification", "verification"),
            Event::Stopping { reason: "cancelled".into() },
        ]
        .into_iter()
        .enumerate()
        .map(|(i, event)| Envelope { run: "r".into(), seq: i as u64 + 1, at_ms: 10 * i as u64, event })
        .collect();
        let replayed = replay(&events);
        let names: Vec<_> =
            replayed.lanes.iter().map(|l| (l.name.as_str(), l.tasks.clone(), l.model.clone())).collect();
        assert_eq!(
            names,
            [
                ("A", vec!["1.1".to_owned()], None),
                ("verification", vec!["verification".to_owned()], Some("opus".to_owned()))
            ]
        );
        assert_eq!(replayed.started["verification"], 20);
        assert_eq!(replayed.last_attempt["verification"], ("verification".to_owned(), 1));
        assert_eq!(replayed.stopping.as_deref(), Some("cancelled"));
    }

    #[test]
    fn a_budget_wait_shows_until_the_task_s_next_attempt_starts() {
        let wait =
            |task: &str| Event::BudgetWait { task: task.into(), why: format!("wave 1's budget cannot pay for {task}") };
        let started = Event::AttemptStarted {
            task: "1.2".into(),
            attempt: 1,
            lane: "A".into(),
            agent: "scripted".into(),
            model: None,
            worktree: "w".into(),
            base: "b".into(),
            role: None,
        };
        let events: Vec<Envelope> = [wait("1.2"), wait("1.3"), started]
            .into_iter()
            .enumerate()
            .map(|(i, event)| Envelope { run: "r".into(), seq: i as u64 + 1, at_ms: 0, event })
            .collect();
        let replayed = replay(&events);
        let waits: Vec<(&str, &str)> =
            replayed.budget_waits.iter().map(|(task, why)| (task.as_str(), why.as_str())).collect();
        assert_eq!(waits, [("1.3", "wave 1's budget cannot pay for 1.3")]);
    }

    #[test]
    fn edges_follow_lanes_and_join_waves_end_to_start() {
        let text = "# M1 Implementation Plan: Demo\n\n## Context\n\nx\n\n## Waves\n\n### Wave 1: A\n\n\
**Task 1.1: one** (type: auto)\n- **Files**: `a`\n- **Action**: a\n- **Verify**: `true`\n- **Done**: d\n\n\
**Task 1.2: two** (type: auto)\n- **Files**: `b`\n- **Action**: b\n- **Verify**: `true`\n- **Done**: d\n\n\
### Wave 2: B\n> Depends on: Wave 1\n\n\
**Task 2.1: three** (type: auto)\n- **Files**: `c`\n- **Action**: c\n- **Verify**: `true`\n- **Done**: d\n\n\
## Agent Strategy\n\n| Agent | Model | Tasks |\n|---|---|---|\n| Worker A | sonnet | 1.1, 1.2 |\n| Worker B | sonnet | 2.1 |\n";
        let plan = plan::parse(text, "M1").plan;
        assert_eq!(plan.tasks.len(), 3, "{plan:#?}");
        let edges = edges(&plan, &Schedule::new(&plan));
        let pairs: Vec<(&str, &str)> = edges.iter().map(|e| (e.from.as_str(), e.to.as_str())).collect();
        assert_eq!(pairs, [("1.1", "1.2"), ("1.2", "2.1")]);
    }
}

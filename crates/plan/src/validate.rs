//! Rules across elements, checked on the finished model: wave dependencies, assignments,
//! commit lines, artifacts and file conflicts.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{CommitLine, Plan, Task, TaskId, TaskType};
use crate::schedule::Schedule;
use crate::span::Span;
use globset::{GlobBuilder, GlobMatcher};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;

/// Runs every cross-element rule and returns what it found.
pub(crate) fn validate(plan: &Plan, schedule: &Schedule) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // The first task of each id: the rules below look tasks up thousands of times.
    let mut tasks: HashMap<TaskId, &Task> = HashMap::with_capacity_and_hasher(plan.tasks.len(), Default::default());
    for task in &plan.tasks {
        tasks.entry(task.id).or_insert(task);
    }
    wave_dependencies(plan, schedule, &mut out);
    agents(plan, &tasks, &mut out);
    commits(plan, &tasks, &mut out);
    orphan_commit_lines(plan, &mut out);
    long_running_commands(plan, &mut out);
    let files = FileIndex::new(plan);
    artifacts(plan, &files, &mut out);
    file_conflicts(plan, schedule, &files, &mut out);
    out
}

fn wave_list(plan: &Plan) -> String {
    let numbers: Vec<String> = plan.waves.iter().map(|w| w.number.to_string()).collect();
    numbers.join(", ")
}

fn wave_dependencies(plan: &Plan, schedule: &Schedule, out: &mut Vec<Diagnostic>) {
    let exists: HashSet<u32> = plan.waves.iter().map(|w| w.number).collect();
    for wave in &plan.waves {
        for dep in wave.depends_on.iter().filter(|d| !exists.contains(&d.value)) {
            out.push(
                Diagnostic::new(
                    Code::UnknownWave,
                    dep.span,
                    format!("Wave {} depends on Wave {}, which does not exist", wave.number, dep.value),
                )
                .with_help(format!("the plan's waves are {}", wave_list(plan))),
            );
        }
    }
    // One report per cycle, at the first wave (in document order) that is in it.
    let mut reported: HashSet<u32> = HashSet::default();
    for wave in &plan.waves {
        if reported.contains(&wave.number) || !schedule.in_cycle(wave.number) {
            continue;
        }
        let members: HashSet<u32> = schedule
            .wave_ancestors(wave.number)
            .filter(|&other| schedule.wave_ancestors(other).any(|a| a == wave.number))
            .collect();
        reported.extend(&members);
        let path = cycle_path(plan, wave.number, &members);
        let named: Vec<String> = path.iter().map(|n| format!("Wave {n}")).collect();
        let mut diagnostic = Diagnostic::new(
            Code::DependencyCycle,
            wave.span,
            if path.len() == 2 {
                format!("Wave {} depends on itself", wave.number)
            } else {
                format!("waves depend on each other in a cycle: {}", named.join(" → "))
            },
        )
        .with_help("remove one of these dependencies: no wave of a cycle can ever start");
        for pair in path.windows(2) {
            let edge = plan.wave(pair[0]).and_then(|w| w.depends_on.iter().find(|d| d.value == pair[1]));
            if let Some(edge) = edge {
                diagnostic =
                    diagnostic.with_related(edge.span, format!("Wave {} depends on Wave {}", pair[0], pair[1]));
            }
        }
        out.push(diagnostic);
    }
}

/// The shortest path `start → … → start` along `depends_on` inside `members`.
fn cycle_path(plan: &Plan, start: u32, members: &HashSet<u32>) -> Vec<u32> {
    let deps =
        |n: u32| plan.wave(n).map(|w| w.depends_on.iter().map(|d| d.value).collect::<Vec<_>>()).unwrap_or_default();
    let mut parent: HashMap<u32, u32> = HashMap::default();
    let mut queue = VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in deps(at) {
            if next == start {
                let mut path = vec![start, at];
                let mut cursor = at;
                while let Some(&p) = parent.get(&cursor) {
                    path.push(p);
                    cursor = p;
                }
                path.reverse();
                if at == start {
                    return vec![start, start];
                }
                return path;
            }
            if members.contains(&next) && next != start && !parent.contains_key(&next) {
                parent.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    vec![start, start]
}

/// "the plan's tasks are 1.1, 1.2, …" for a help line (ids once each, at most 12).
fn task_list(plan: &Plan) -> String {
    let mut seen = HashSet::default();
    let ids: Vec<TaskId> = plan.tasks.iter().map(|t| t.id).filter(|id| seen.insert(*id)).collect();
    if ids.is_empty() {
        return "the plan has no tasks yet".to_owned();
    }
    let shown: Vec<String> = ids.iter().take(12).map(ToString::to_string).collect();
    let more = if ids.len() > 12 { ", …" } else { "" };
    format!("the plan's tasks are {}{more}", shown.join(", "))
}

fn agents(plan: &Plan, tasks: &HashMap<TaskId, &Task>, out: &mut Vec<Diagnostic>) {
    let mut assigned: HashMap<TaskId, Span> = HashMap::default();
    for row in &plan.agents {
        for id in &row.tasks {
            let Some(task) = tasks.get(&id.value) else {
                out.push(
                    Diagnostic::new(
                        Code::UnknownTask,
                        id.span,
                        format!("agent `{}` is given task {}, which is not in the plan", row.name, id.value),
                    )
                    .with_help(task_list(plan)),
                );
                continue;
            };
            if let Some(&first) = assigned.get(&id.value) {
                out.push(
                    Diagnostic::new(
                        Code::TaskAssignedTwice,
                        id.span,
                        format!("task {} is on two Agent Strategy rows", id.value),
                    )
                    .with_related(first, "first assigned here")
                    .with_help("keep the task on one row: one agent runs it"),
                );
                continue;
            }
            assigned.insert(id.value, id.span);
            if let Some(wave) = row.wave.filter(|&w| w != task.wave) {
                out.push(
                    Diagnostic::new(
                        Code::AgentWaveMismatch,
                        id.span,
                        format!("the row for wave {wave} assigns task {}, which is in wave {}", id.value, task.wave),
                    )
                    .with_help(format!(
                        "move {} to a row of wave {}, or correct the row's Wave cell",
                        id.value, task.wave
                    )),
                );
            }
        }
    }
    if plan.agents.is_empty() {
        return;
    }
    for task in plan.tasks.iter().filter(|t| !assigned.contains_key(&t.id)) {
        out.push(
            Diagnostic::new(Code::UnassignedTask, task.span, format!("task {} is on no Agent Strategy row", task.id))
                .with_label("it runs with the default agent")
                .with_help(format!("add {} to the Tasks of a row of wave {}", task.id, task.wave)),
        );
    }
}

fn commits(plan: &Plan, tasks: &HashMap<TaskId, &Task>, out: &mut Vec<Diagnostic>) {
    for line in &plan.commits {
        if let Some(task) = line.task.as_ref().filter(|t| !tasks.contains_key(&t.value)) {
            out.push(
                Diagnostic::new(
                    Code::UnknownTask,
                    task.span,
                    format!("the commit line names task {}, which is not in the plan", task.value),
                )
                .with_help(task_list(plan)),
            );
        }
    }
    if plan.commits.is_empty() {
        return;
    }
    let with_line: HashSet<TaskId> =
        plan.commits.iter().filter_map(|line| line.task.as_ref().map(|t| t.value)).collect();
    for task in plan.tasks.iter().filter(|t| t.kind == TaskType::Auto && !with_line.contains(&t.id)) {
        out.push(
            Diagnostic::new(Code::DefaultCommit, task.span, format!("task {} has no Commit Strategy line", task.id))
                .with_label(format!("committed as `feat({}): {}`", plan.milestone, task.summary()))
                .with_help(format!(
                    "add `feat({}): {{task {} description}}` to the Commit Strategy block",
                    plan.milestone, task.id
                )),
        );
    }
}

/// `orphan-commit-line` for each conventional line that names no task: no commit would use it.
fn orphan_commit_lines(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let orphans: Vec<&CommitLine> = plan.commits.iter().filter(|line| line.task.is_none()).collect();
    if orphans.is_empty() {
        return;
    }
    let tasks = TaskWords::new(plan);
    let example = plan.tasks.first().map_or_else(|| "1.1".to_owned(), |t| t.id.to_string());
    let all = task_list(plan);
    for line in orphans {
        let (head, description) = line.message.split_once(": ").unwrap_or(("feat", &line.message));
        let help = match tasks.probable_task(description) {
            Some(task) => format!(
                "it probably means task {} ({}): write `{head}: {{task {} description}}`, or add `task {}` to the line",
                task.id,
                task.summary(),
                task.id,
                task.id
            ),
            None => format!(
                "name the task it is for, as in `{head}: {{task {example} description}}` or with `task {example}` \
                 anywhere in the line, or remove it; {all}"
            ),
        };
        out.push(
            Diagnostic::new(
                Code::OrphanCommitLine,
                line.span,
                format!("the commit line `{}` names no task", line.message),
            )
            .with_label("no commit uses this line")
            .with_help(help),
        );
    }
}

/// The words of every task's title and Action, indexed by word: a plan may have many tasks and
/// many commit lines to match against them.
struct TaskWords<'p> {
    tasks: &'p [Task],
    /// For each word, the indices of the tasks that have it.
    index: HashMap<String, Vec<usize>>,
}

impl<'p> TaskWords<'p> {
    fn new(plan: &'p Plan) -> Self {
        let mut index: HashMap<String, Vec<usize>> = HashMap::default();
        for (at, task) in plan.tasks.iter().enumerate() {
            let action = task.action.as_ref().map_or("", |a| a.value.as_str());
            for word in words(&format!("{} {action}", task.title.as_deref().unwrap_or_default())) {
                index.entry(word).or_default().push(at);
            }
        }
        TaskWords { tasks: &plan.tasks, index }
    }

    /// The task a commit line's description is probably about: the one whose title and Action
    /// share the most words with it, when that is at least half of the description's words
    /// and no other task shares as many.
    fn probable_task(&self, description: &str) -> Option<&'p Task> {
        let wanted = words(description);
        let mut shared = vec![0usize; self.tasks.len()];
        for word in &wanted {
            for &at in self.index.get(word).into_iter().flatten() {
                shared[at] += 1;
            }
        }
        let best = shared.iter().copied().max().filter(|&best| best > 0 && best * 2 >= wanted.len())?;
        let mut with_best = shared.iter().enumerate().filter(|&(_, &count)| count == best);
        match (with_best.next(), with_best.next()) {
            (Some((at, _)), None) => Some(&self.tasks[at]),
            _ => None,
        }
    }
}

/// The distinct content words of `text`: lowercase, at least three letters, without common
/// function words, with a plural or verb ending dropped (`parsing`, `parses` → `pars`).
fn words(text: &str) -> HashSet<String> {
    const COMMON: &[&str] = &[
        "the",
        "and",
        "for",
        "with",
        "from",
        "into",
        "that",
        "this",
        "its",
        "are",
        "was",
        "will",
        "task",
        "description",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && !COMMON.contains(&w.as_str()))
        .map(|w| {
            let stem = ["ing", "ed", "es", "s"].iter().find_map(|end| w.strip_suffix(end).filter(|s| s.len() >= 3));
            stem.map_or_else(|| w.clone(), str::to_owned)
        })
        .collect()
}

/// `long-running-verify` for Verify and Automated commands that do not exit by themselves.
fn long_running_commands(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let mut report = |command: &str, span: Span, whose: String, for_a_person: &str| {
        if let Some(found) = crate::command::long_running(command) {
            out.push(
                Diagnostic::new(Code::LongRunningVerify, span, format!("{whose} `{command}` does not exit by itself"))
                    .with_label("runs until it is killed: the check would time out")
                    .with_help(crate::command::help(&found, for_a_person)),
            );
        }
    };
    for task in &plan.tasks {
        for command in &task.verify_commands {
            let whose = format!("task {}'s Verify command", task.id);
            report(command, command.span, whose, "a `checkpoint:human-verify` task (\"Run `…` and open …\")");
        }
    }
    for check in &plan.verification.automated {
        report(&check.command, check.span, "the Automated check".to_owned(), "`### Manual`");
    }
}

/// A task's path or glob, compiled once.
struct PathPattern<'p> {
    text: &'p str,
    glob: Option<GlobMatcher>,
}

impl<'p> PathPattern<'p> {
    fn new(text: &'p str) -> Self {
        let text = text.strip_prefix("./").unwrap_or(text);
        let glob = text
            .contains(['*', '?'])
            .then(|| GlobBuilder::new(text).literal_separator(true).build().ok().map(|g| g.compile_matcher()))
            .flatten();
        PathPattern { text, glob }
    }

    /// Whether this pattern certainly names the literal `path` (or a directory holding it).
    fn covers(&self, path: &str) -> bool {
        let path = path.strip_prefix("./").unwrap_or(path);
        self.text == path
            || self.glob.as_ref().is_some_and(|g| g.is_match(path))
            || (self.text.ends_with('/') && path.starts_with(self.text))
    }
}

/// Every task's Files entry: equal entries meet in an index; "wide" entries (globs and
/// directories) are kept aside, compiled, to be compared with the others.
struct FileIndex<'p> {
    by_path: HashMap<&'p str, Vec<(usize, Span)>>,
    wide: Vec<(usize, Span, PathPattern<'p>)>,
}

impl<'p> FileIndex<'p> {
    fn new(plan: &'p Plan) -> Self {
        let mut by_path: HashMap<&str, Vec<(usize, Span)>> = HashMap::default();
        let mut wide = Vec::new();
        for (index, task) in plan.tasks.iter().enumerate() {
            for file in &task.files {
                let pattern = PathPattern::new(file);
                by_path.entry(pattern.text).or_default().push((index, file.span));
                if pattern.glob.is_some() || pattern.text.ends_with('/') {
                    wide.push((index, file.span, pattern));
                }
            }
        }
        FileIndex { by_path, wide }
    }
}

/// Whether two Files entries may name a common file.
pub(crate) fn entries_overlap(a: &str, b: &str) -> bool {
    let (a, b) = (PathPattern::new(a), PathPattern::new(b));
    a.text == b.text || a.covers(b.text) || b.covers(a.text)
}

fn artifacts(plan: &Plan, files: &FileIndex, out: &mut Vec<Diagnostic>) {
    for artifact in &plan.must_haves.artifacts {
        // A path with a `{placeholder}` cannot be matched until it is filled in.
        let Some(path) = artifact.path.as_deref().filter(|p| !p.contains('{')) else { continue };
        let path = path.strip_prefix("./").unwrap_or(path);
        let produced = files.by_path.contains_key(path)
            || files.wide.iter().any(|(_, _, pattern)| pattern.covers(path))
            || (path.ends_with('/') && files.by_path.keys().any(|file| file.starts_with(path)));
        if !produced {
            out.push(
                Diagnostic::new(
                    Code::OrphanArtifact,
                    artifact.span,
                    format!("artifact `{path}` is in no task's Files"),
                )
                .with_label("no task produces it")
                .with_help("add it to the **Files** of the task that writes it, or drop it from must_haves"),
            );
        }
    }
}

fn file_conflicts(plan: &Plan, schedule: &Schedule, files: &FileIndex, out: &mut Vec<Diagnostic>) {
    // A glob covers a path it matches, or a glob whose text it matches (`tests/*.ts` covers
    // `tests/*.test.ts`); a directory covers what is in it.
    let mut pairs: Vec<(usize, usize, Span, String)> = Vec::new();
    for (path, users) in &files.by_path {
        for (i, &(a, _)) in users.iter().enumerate() {
            for &(b, span) in &users[i + 1..] {
                pairs.push((a, b, span, format!("both list `{path}`")));
            }
        }
    }
    for (a, a_span, pattern) in &files.wide {
        for (path, users) in &files.by_path {
            if *path == pattern.text || !pattern.covers(path) {
                continue;
            }
            for &(b, b_span) in users.iter().filter(|(b, _)| b != a) {
                let (first, second, span) = if *a < b { (*a, b, b_span) } else { (b, *a, *a_span) };
                pairs.push((first, second, span, format!("list overlapping files `{}` and `{path}`", pattern.text)));
            }
        }
    }
    pairs.sort_by_key(|&(a, b, span, _)| (a, b, span));
    let mut seen: HashSet<(usize, usize)> = HashSet::default();
    for (a, b, span, what) in pairs {
        let (ta, tb) = (&plan.tasks[a], &plan.tasks[b]);
        if ta.id == tb.id || !seen.insert((a, b)) || !schedule.may_run_together(ta.id, tb.id) {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::ParallelFileConflict,
                span,
                format!("tasks {} and {} may run at the same time and {what}", ta.id, tb.id),
            )
            .with_related(ta.span, format!("task {} is here", ta.id))
            .with_label("the executor will run them one after the other")
            .with_help(format!(
                "give both tasks to one agent, make one wave depend on the other, or split the file (task {} and {})",
                ta.id, tb.id
            )),
        );
    }
}

//! task-master's `tasks.json` (eyaltoledano/claude-task-master, `.taskmaster/tasks/tasks.json`).
//!
//! Two shapes: tagged, `{"master": {"tasks": [...], "metadata": {...}}, "feature-x": {...}}`,
//! and legacy, `{"meta": {...}, "tasks": [...]}`. A task has `id`, `title`, `description`,
//! `details`, `testStrategy`, `status`, `priority`, `dependencies` and `subtasks`; ids are
//! numbers or strings. A subtask's dependencies name its siblings by their own number (`1`) and
//! other tasks' subtasks as `"3.2"`; a plain number that is no sibling names a top-level task.
//!
//! Mapping: dependencies become waves by topological layers (a task's wave comes right after
//! the latest wave of what it depends on, and waits for the waves of all of them); a task with
//! subtasks becomes its subtasks plus a closing task (the parent's details and testStrategy)
//! that waits for them, so whatever depends on the parent waits for all of it. `done` and
//! `cancelled` tasks are left out and listed in the Context (a dependency on them is met);
//! every other status is kept in the task's notes, as are priority (which also orders a wave's
//! tasks) and any field the plan has no place for.

use crate::draft::{Draft, DraftTask, DraftWave, code};
use crate::{Format, ImportError, Imported, Options, Source};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize)]
struct TagData {
    #[serde(default)]
    tasks: Vec<RawTask>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct Legacy {
    tasks: Vec<RawTask>,
    #[serde(default, alias = "metadata")]
    meta: Option<Value>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

/// An id as task-master writes it: `1`, `"1"`, `"1.2"`, and (in hand-edited files) `1.2`.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum Id {
    Int(u64),
    Float(f64),
    Str(String),
}

impl Id {
    fn text(&self) -> String {
        match self {
            Id::Int(n) => n.to_string(),
            Id::Float(x) => x.to_string(),
            Id::Str(s) => s.trim().to_owned(),
        }
    }
}

#[derive(Deserialize)]
struct RawTask {
    id: Id,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default, rename = "testStrategy")]
    test_strategy: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    dependencies: Option<Vec<Id>>,
    #[serde(default)]
    subtasks: Option<Vec<RawTask>>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

/// A task or subtask, flattened: the node of the dependency graph.
struct Node {
    /// `3` or `3.2`.
    key: String,
    title: String,
    description: String,
    details: String,
    test_strategy: String,
    status: String,
    priority: Option<String>,
    /// Keys of what it waits for, resolved.
    deps: Vec<String>,
    extra: BTreeMap<String, Value>,
    /// For a parent's closing node: its subtasks' keys.
    closes: Vec<String>,
}

impl Node {
    fn left_out(&self) -> bool {
        matches!(self.status.as_str(), "done" | "completed" | "cancelled")
    }
}

pub(crate) fn import(source: &Source<'_>, options: &Options) -> Result<Imported, ImportError> {
    let file = source.name;
    let text = source.text.trim_start_matches('\u{feff}');
    let malformed = |error: serde_json::Error| ImportError::Malformed {
        file: file.to_owned(),
        format: Format::TaskMaster,
        line: error.line(),
        column: error.column(),
        message: error.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
    };
    let value: Value = serde_json::from_str(text).map_err(malformed)?;
    let Value::Object(top) = &value else {
        return Err(invalid(file, "the file is JSON but not an object with tasks"));
    };
    let mut unmapped = Vec::new();
    let mut context = Vec::new();
    let (tag, data) = if top.get("tasks").is_some_and(Value::is_array) {
        if let Some(tag) = &options.tag {
            return Err(ImportError::Invalid {
                file: file.to_owned(),
                message: format!("the file is in the legacy format, without tags: it has no tag `{tag}`"),
                hint: "leave --tag out (or run `task-master migrate` to move to tags)".into(),
            });
        }
        let legacy: Legacy = serde_json::from_str(text).map_err(malformed)?;
        let data = TagData { tasks: legacy.tasks, metadata: legacy.meta, extra: legacy.extra };
        (None, data)
    } else {
        let mut tags: BTreeMap<String, TagData> = serde_json::from_str(text).map_err(malformed)?;
        let names: Vec<String> = tags.keys().cloned().collect();
        let chosen = match &options.tag {
            Some(tag) => tag.clone(),
            None if tags.contains_key("master") => "master".to_owned(),
            None if tags.len() == 1 => names[0].clone(),
            None => {
                return Err(ImportError::Invalid {
                    file: file.to_owned(),
                    message: format!("the file has several tags and no `master`: {}", names.join(", ")),
                    hint: "choose one with --tag".into(),
                });
            }
        };
        let Some(data) = tags.remove(&chosen) else {
            return Err(ImportError::Invalid {
                file: file.to_owned(),
                message: format!("the file has no tag `{chosen}`"),
                hint: format!("its tags: {}", names.join(", ")),
            });
        };
        for (name, other) in &tags {
            unmapped.push(format!(
                "tag `{name}` ({} task{}) is not imported: `--tag {name}` imports it into a plan of its own",
                other.tasks.len(),
                if other.tasks.len() == 1 { "" } else { "s" }
            ));
        }
        (Some(chosen), data)
    };
    if data.tasks.is_empty() {
        return Err(invalid(file, "the file has no tasks"));
    }

    let nodes = flatten(file, data.tasks, &mut unmapped)?;
    let all: std::collections::HashSet<&str> = nodes.iter().map(|n| n.key.as_str()).collect();
    for node in &nodes {
        for dep in node.deps.iter().filter(|d| !all.contains(d.as_str())) {
            unmapped.push(format!("task {} depends on {dep}, which the file does not have: dropped", node.key));
        }
    }
    let kept: Vec<&Node> = nodes.iter().filter(|n| !n.left_out()).collect();
    let index: HashMap<&str, usize> = kept.iter().enumerate().map(|(i, n)| (n.key.as_str(), i)).collect();
    let deps: Vec<Vec<usize>> =
        kept.iter().map(|n| n.deps.iter().filter_map(|d| index.get(d.as_str()).copied()).collect()).collect();
    let layers = layers(&deps).map_err(|cycle| ImportError::Cycle {
        file: file.to_owned(),
        ids: cycle.into_iter().map(|i| kept[i].key.clone()).collect(),
    })?;

    // Waves, in layer order; a wave's tasks by priority, then as the file lists them.
    let count = layers.iter().copied().max().map_or(0, |m| m + 1);
    let mut order: Vec<usize> = (0..kept.len()).collect();
    order.sort_by_key(|&i| (layers[i], priority_rank(kept[i].priority.as_deref())));
    let mut waves: Vec<DraftWave> = (0..count).map(|_| DraftWave::default()).collect();
    for &i in &order {
        let wave = &mut waves[layers[i]];
        for &d in &deps[i] {
            let number = layers[d] as u32 + 1;
            if !wave.depends_on.contains(&number) {
                wave.depends_on.push(number);
            }
        }
        let k = wave.tasks.len() + 1;
        wave.tasks.push(task(kept[i], k, &mut unmapped));
    }
    for (number, wave) in waves.iter_mut().enumerate() {
        wave.depends_on.sort_unstable();
        let ids: Vec<&str> = order.iter().filter(|&&i| layers[i] == number).map(|&i| kept[i].key.as_str()).collect();
        wave.name = format!("task-master {}", ids.join(", "));
    }

    let from = match &tag {
        Some(tag) => format!("{} (task-master, tag `{tag}`)", code(file)),
        None => format!("{} (task-master, legacy format)", code(file)),
    };
    let subtasks = nodes.iter().filter(|n| n.key.contains('.')).count();
    context.push(format!(
        "Imported by `wavecrew import` from {from}: {} tasks and {subtasks} subtasks. Each task's wave comes \
         after the waves of every task it depends on; a task with subtasks became its subtasks and a closing task \
         that waits for them.",
        nodes.len() - subtasks
    ));
    if let Some(description) = data.metadata.as_ref().and_then(|m| m.get("description")).and_then(Value::as_str) {
        context.push(description.to_owned());
    }
    let mut kept_fields = String::new();
    for (key, value) in data.metadata.iter().filter_map(Value::as_object).flatten() {
        if !matches!(key.as_str(), "description" | "projectName") {
            kept_fields.push_str(&format!("- task-master metadata `{key}`: {}\n", compact(value)));
        }
    }
    for (key, value) in &data.extra {
        kept_fields.push_str(&format!("- task-master `{key}`: {}\n", compact(value)));
        unmapped.push(format!("`{key}` of the file has no place in a plan: kept in the Context"));
    }
    if !kept_fields.is_empty() {
        context.push(kept_fields);
    }
    let left: Vec<&Node> = nodes.iter().filter(|n| n.left_out()).collect();
    if !left.is_empty() {
        let mut list =
            String::from("Left out because task-master has them done or cancelled (a dependency on them is met):\n");
        for node in &left {
            list.push_str(&format!("- {} {} ({}): {}\n", node.key, node.title, node.status, node.description));
            unmapped
                .push(format!("task {} is {}: left out of the waves, listed in the Context", node.key, node.status));
        }
        context.push(list);
    }
    if waves.is_empty() {
        return Err(ImportError::Invalid {
            file: file.to_owned(),
            message: "every task is done or cancelled: nothing is left to plan".into(),
            hint: "import a tag with pending tasks (--tag)".into(),
        });
    }

    let milestone = match (&options.milestone, &tag) {
        (Some(m), _) => m.trim().to_owned(),
        (None, Some(tag)) if tag != "master" => tag.clone(),
        _ => "M1".to_owned(),
    };
    let milestone = crate::check_milestone(file, milestone)?;
    let title = data
        .metadata
        .as_ref()
        .and_then(|m| m.get("projectName"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| match &tag {
            Some(tag) => format!("task-master tag {tag}"),
            None => "task-master tasks".to_owned(),
        });
    let draft = Draft { milestone: milestone.clone(), title, context, waves, ..Draft::default() };
    Ok(Imported { format: Format::TaskMaster, milestone, text: draft.render(), unmapped })
}

fn invalid(file: &str, message: &str) -> ImportError {
    ImportError::Invalid {
        file: file.to_owned(),
        message: message.to_owned(),
        hint: "pass task-master's `.taskmaster/tasks/tasks.json`".into(),
    }
}

/// Tasks and subtasks as nodes, dependencies resolved to node keys; duplicate ids are errors,
/// dependencies on nothing are dropped and reported.
fn flatten(file: &str, tasks: Vec<RawTask>, unmapped: &mut Vec<String>) -> Result<Vec<Node>, ImportError> {
    let mut nodes = Vec::new();
    let top: Vec<String> = tasks.iter().map(|t| t.id.text()).collect();
    for (i, key) in top.iter().enumerate() {
        if top[..i].contains(key) {
            return Err(ImportError::Invalid {
                file: file.to_owned(),
                message: format!("two tasks have the id {key}"),
                hint: "give each task its own id (`task-master validate-dependencies` finds such problems)".into(),
            });
        }
    }
    // What a dependency on a top-level task means: its closing node, which is the task itself.
    for task in tasks {
        let key = task.id.text();
        let subtasks = task.subtasks.unwrap_or_default();
        let sub_ids: Vec<String> = subtasks.iter().map(|s| s.id.text()).collect();
        let own_deps: Vec<String> = resolve(&key, None, task.dependencies.unwrap_or_default(), &top, &[], unmapped);
        let mut closes = Vec::new();
        for sub in subtasks {
            let sub_key = format!("{key}.{}", sub.id.text());
            if closes.contains(&sub_key) {
                return Err(ImportError::Invalid {
                    file: file.to_owned(),
                    message: format!("two subtasks have the id {sub_key}"),
                    hint: "give each subtask of a task its own id".into(),
                });
            }
            let mut deps =
                resolve(&sub_key, Some(&key), sub.dependencies.unwrap_or_default(), &top, &sub_ids, unmapped);
            for dep in &own_deps {
                if !deps.contains(dep) {
                    deps.push(dep.clone());
                }
            }
            if let Some(nested) = sub.subtasks.as_ref().filter(|s| !s.is_empty()) {
                unmapped.push(format!(
                    "subtask {sub_key} has {} subtasks of its own: task-master does not nest them; kept in its notes",
                    nested.len()
                ));
            }
            let mut extra = sub.extra;
            // `parentTaskId` repeats what the nesting says; kept only when it says otherwise.
            if extra.get("parentTaskId").is_some_and(|p| p.to_string().trim_matches('"') == key) {
                extra.remove("parentTaskId");
            }
            if let Some(nested) = sub.subtasks.filter(|s| !s.is_empty()) {
                extra.insert("subtasks".into(), Value::from(nested.len()));
            }
            nodes.push(Node {
                key: sub_key.clone(),
                title: sub.title.unwrap_or_default(),
                description: sub.description.unwrap_or_default(),
                details: sub.details.unwrap_or_default(),
                test_strategy: sub.test_strategy.unwrap_or_default(),
                status: sub.status.unwrap_or_else(|| "pending".into()).to_ascii_lowercase(),
                priority: sub.priority.or_else(|| task.priority.clone()),
                deps,
                extra,
                closes: Vec::new(),
            });
            closes.push(sub_key);
        }
        let mut deps = own_deps;
        deps.extend(closes.iter().cloned());
        nodes.push(Node {
            key,
            title: task.title.unwrap_or_default(),
            description: task.description.unwrap_or_default(),
            details: task.details.unwrap_or_default(),
            test_strategy: task.test_strategy.unwrap_or_default(),
            status: task.status.unwrap_or_else(|| "pending".into()).to_ascii_lowercase(),
            priority: task.priority,
            deps,
            extra: task.extra,
            closes,
        });
    }
    Ok(nodes)
}

/// Dependencies of `key` as node keys. In a subtask (`parent` given), a plain number is a
/// sibling when one has it, else a top-level task; `"a.b"` is subtask b of task a.
fn resolve(
    key: &str,
    parent: Option<&str>,
    deps: Vec<Id>,
    top: &[String],
    siblings: &[String],
    unmapped: &mut Vec<String>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for dep in deps {
        let dep = dep.text();
        let resolved = if dep.contains('.') {
            Some(dep.clone())
        } else if let Some(parent) = parent.filter(|_| siblings.contains(&dep)) {
            Some(format!("{parent}.{dep}"))
        } else if Some(dep.as_str()) == parent {
            unmapped.push(format!(
                "subtask {key} depends on its own parent {dep}: dropped (the parent's closing task waits for its subtasks)"
            ));
            None
        } else if top.contains(&dep) {
            Some(dep.clone())
        } else {
            unmapped.push(format!("task {key} depends on {dep}, which the file does not have: dropped"));
            None
        };
        if let Some(resolved) = resolved.filter(|r| !out.contains(r)) {
            out.push(resolved);
        }
    }
    out
}

/// Each node's layer (0-based): one more than the highest layer it depends on. A cycle is
/// returned as the nodes along it, the first repeated at the end (each waits for the next).
fn layers(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut layer = vec![0; deps.len()];
    let mut mark = vec![Mark::New; deps.len()];
    for start in 0..deps.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // Depth-first without recursion: (node, next dependency to visit).
        let mut stack = vec![(start, 0)];
        mark[start] = Mark::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = deps[node].get(*next) {
                *next += 1;
                match mark[dep] {
                    Mark::New => {
                        mark[dep] = Mark::Open;
                        stack.push((dep, 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|&(n, _)| n == dep).unwrap_or(0);
                        let mut cycle: Vec<usize> = stack[from..].iter().map(|&(n, _)| n).collect();
                        cycle.push(dep);
                        return Err(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                layer[node] = deps[node].iter().map(|&d| layer[d] + 1).max().unwrap_or(0);
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    Ok(layer)
}

fn priority_rank(priority: Option<&str>) -> u8 {
    match priority.map(str::to_ascii_lowercase).as_deref() {
        Some("critical" | "urgent") => 0,
        Some("high") => 1,
        Some("medium") | None => 2,
        Some("low") => 3,
        Some(_) => 4,
    }
}

/// The plan task of a node. Its first note is the task-master id.
fn task(node: &Node, k: usize, unmapped: &mut Vec<String>) -> DraftTask {
    let key = &node.key;
    let title = if node.title.trim().is_empty() { format!("task-master {key}") } else { node.title.clone() };
    let mut notes = vec![format!("task-master id {key}")];
    let mut facts = Vec::new();
    if let Some(priority) = &node.priority {
        facts.push(format!("priority {priority}"));
    }
    if node.status != "pending" {
        facts.push(format!("status {}", node.status));
    }
    if !node.closes.is_empty() {
        facts.push(format!("closes subtasks {}", node.closes.join(", ")));
    }
    if !facts.is_empty() {
        notes[0] = format!("task-master id {key} ({})", facts.join(", "));
    }
    for (field, value) in &node.extra {
        notes.push(format!("task-master `{field}`: {}", compact(value)));
        unmapped.push(format!("task {key}: `{field}` has no field in a plan: kept in the task's notes"));
    }
    let description = node.description.trim();
    let details = node.details.trim();
    let mut action = match (description.is_empty(), details.is_empty()) {
        (_, true) => description.to_owned(),
        (true, false) => details.to_owned(),
        (false, false) => format!("{description}\n{details}"),
    };
    if !node.closes.is_empty() {
        let lead = format!("Bring subtasks {} together and finish task {key}.", node.closes.join(", "));
        action = if action.is_empty() { lead } else { format!("{lead}\n{action}") };
    }
    if action.is_empty() {
        action = title.clone();
    }
    let (verify, kept_as_text) = verify(&node.test_strategy);
    for span in kept_as_text {
        unmapped.push(format!("task {key}: `{span}` in testStrategy is not a command: kept as text, not run"));
    }
    let verify = if verify.is_empty() {
        unmapped.push(format!("task {key} has no testStrategy: its Verify asks for a review against its Done"));
        "task-master gave no testStrategy: review the change against Done".to_owned()
    } else {
        verify
    };
    let done = if description.is_empty() { format!("{title} is done") } else { description.to_owned() };
    let files = paths_in(&format!("{description}\n{details}"));
    let files_prose = files.is_empty().then(|| "chosen by the agent (task-master names no files)".to_owned());
    DraftTask {
        title: format!("{title} (#{key})"),
        kind: "auto".into(),
        files,
        files_prose,
        action,
        verify,
        done,
        agent: format!("agent-{k}"),
        notes,
    }
}

/// Programs whose backticked command lines in a testStrategy are run as Verify commands;
/// any other backticked span (`localStorage`, `UserService`) is a name, kept as quoted text.
const PROGRAMS: &[&str] = &[
    "npm",
    "npx",
    "pnpm",
    "yarn",
    "bun",
    "bunx",
    "deno",
    "node",
    "jest",
    "vitest",
    "playwright",
    "tsc",
    "eslint",
    "cargo",
    "go",
    "make",
    "pytest",
    "python",
    "python3",
    "uv",
    "ruff",
    "mypy",
    "tox",
    "mvn",
    "gradle",
    "./gradlew",
    "dotnet",
    "bundle",
    "rake",
    "rspec",
    "php",
    "composer",
    "swift",
    "curl",
    "bash",
    "sh",
    "test",
    "grep",
    "git",
    "diff",
    "jq",
    "cat",
    "ls",
];

/// The testStrategy with backticked spans that are not commands turned into quoted text, and
/// those spans.
fn verify(strategy: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut names = Vec::new();
    let mut parts = strategy.trim().split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    for (i, chunk) in rest.iter().enumerate() {
        let inside = i % 2 == 0;
        // An unmatched backtick at the end stays as written.
        if inside && i + 1 == rest.len() {
            out.push('`');
            out.push_str(chunk);
            continue;
        }
        if !inside {
            out.push_str(chunk);
            continue;
        }
        let program = chunk.split_whitespace().next().unwrap_or_default();
        if PROGRAMS.contains(&program) || program.starts_with("./") {
            out.push('`');
            out.push_str(chunk);
            out.push('`');
        } else {
            out.push('"');
            out.push_str(chunk);
            out.push('"');
            names.push((*chunk).to_owned());
        }
    }
    (out.trim().to_owned(), names)
}

/// File extensions that make a backticked name without `/` a path (`package.json`), where
/// `user.name` is not one.
const EXTENSIONS: &[&str] = &[
    "rs", "ts", "tsx", "js", "jsx", "mjs", "cjs", "json", "md", "py", "go", "java", "kt", "rb", "php", "cs", "c", "h",
    "cpp", "hpp", "css", "scss", "html", "vue", "svelte", "yml", "yaml", "toml", "sql", "sh", "txt", "lock", "xml",
    "ini", "env", "proto", "graphql", "swift", "prisma",
];

/// Backticked spans of `text` that look like file paths (`src/app.ts`, `package.json`).
fn paths_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, span) in text.split('`').enumerate() {
        if i % 2 == 0 || span.is_empty() || span.contains(char::is_whitespace) {
            continue;
        }
        let looks_like_path = !span.starts_with(['-', '/', '.', '@', '$'])
            && !span.contains("://")
            && !span.contains(['(', ')', '{', '}', '<', '>', '=', ',', ';', '"', '\'', '*', '|', ':'])
            && (span.contains('/')
                || span.rsplit_once('.').is_some_and(|(stem, ext)| !stem.is_empty() && EXTENSIONS.contains(&ext)));
        if looks_like_path && !out.iter().any(|p| p == span) {
            out.push(span.to_owned());
        }
    }
    out
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => format!("`{other}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_follow_dependencies() {
        let deps = vec![vec![], vec![0], vec![0, 1], vec![]];
        assert_eq!(layers(&deps), Ok(vec![0, 1, 2, 0]));
    }

    #[test]
    fn a_cycle_is_named_node_by_node() {
        let deps = vec![vec![2], vec![0], vec![1]];
        assert_eq!(layers(&deps), Err(vec![0, 2, 1, 0]));
        assert_eq!(layers(&[vec![0]]), Err(vec![0, 0]));
    }

    #[test]
    fn only_commands_stay_commands() {
        let (text, names) = verify("Run `npm test` and check `localStorage` holds the list");
        assert_eq!(text, "Run `npm test` and check \"localStorage\" holds the list");
        assert_eq!(names, ["localStorage"]);
        assert_eq!(verify("an odd ` backtick").0, "an odd ` backtick");
    }

    #[test]
    fn paths_are_backticked_files() {
        let found =
            paths_in("Edit `src/app.ts` and `package.json`, not `user.name`, `v1.2` or `npm run x`; `README.md`");
        assert_eq!(found, ["src/app.ts", "package.json", "README.md"]);
    }
}

//! GSD (get-shit-done) phase plans: `.planning/phases/XX-name/{phase}-{plan}-PLAN.md`.
//!
//! A plan is YAML frontmatter (`phase`, `plan`, `type`, `wave`, `depends_on`, `files_modified`,
//! `autonomous`, `user_setup`, `must_haves` with `truths`, `artifacts` and `key_links`), then
//! XML-like sections: `<objective>`, `<execution_context>`, `<context>`, `<tasks>` of
//! `<task type="auto|checkpoint:...">` (`<name>`, `<files>`, `<action>`, `<verify>`, `<done>`;
//! checkpoints have `<what-built>`, `<how-to-verify>`, `<decision>`, `<options>`,
//! `<resume-signal>`), `<verification>`, `<success_criteria>`, `<output>`. The sections hold
//! Markdown and code, so they are read as tagged text, not as XML.
//!
//! Mapping: the plans of a phase become one milestone plan. GSD runs waves in order and a plan's
//! tasks one after another in one executor, so a GSD wave is a wave (waiting for the one before
//! it and for the waves of its plans' `depends_on`), and each GSD plan is an agent lane whose
//! tasks keep their order. must_haves are merged; everything else a plan says (objective,
//! context references, user_setup, success criteria, output) goes into the Context under the
//! plan's id; `<verification>` items become Manual verification steps.

use crate::draft::{Draft, DraftTask, DraftWave, code, one_line};
use crate::{Format, ImportError, Imported, Options, Source};
use serde_norway::Value;
use std::collections::BTreeMap;

/// One `*-PLAN.md`, read.
struct GsdPlan {
    /// `03-01`.
    id: String,
    phase: String,
    wave: u64,
    depends_on: Vec<String>,
    front: serde_norway::Mapping,
    body: String,
    file: String,
}

pub(crate) fn import(sources: &[Source<'_>], options: &Options) -> Result<Imported, ImportError> {
    let mut plans = Vec::new();
    for source in sources {
        plans.push(read(source)?);
    }
    plans.sort_by(|a, b| (a.wave, &a.id).cmp(&(b.wave, &b.id)));
    for (i, plan) in plans.iter().enumerate() {
        if let Some(other) = plans[..i].iter().find(|p| p.id == plan.id) {
            return Err(ImportError::Invalid {
                file: plan.file.clone(),
                message: format!("plan {} is also in {}", plan.id, other.file),
                hint: "import each plan of a phase once".into(),
            });
        }
    }
    let mut unmapped = Vec::new();
    let phases: Vec<&str> =
        plans.iter().map(|p| p.phase.as_str()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    if phases.len() > 1 {
        unmapped.push(format!("the plans are of several phases ({}): they make one milestone", phases.join(", ")));
    }

    // GSD waves as they are numbered, in order, renumbered from 1.
    let mut numbers: Vec<u64> = plans.iter().map(|p| p.wave).collect();
    numbers.dedup();
    let wave_of = |plan: &GsdPlan| numbers.iter().position(|&n| n == plan.wave).unwrap_or(0) as u32 + 1;
    let mut draft = Draft::default();
    draft.context.push(format!(
        "Imported by `wavecrew import` from GSD phase plans: {}. GSD runs its waves in order and each plan's tasks \
         one after another, so each plan is an agent lane here and each wave waits for the one before it.",
        plans.iter().map(|p| code(&p.file)).collect::<Vec<_>>().join(", ")
    ));
    let mut waves: Vec<DraftWave> = numbers.iter().map(|_| DraftWave::default()).collect();
    for plan in &plans {
        let number = wave_of(plan);
        let wave = &mut waves[number as usize - 1];
        if number > 1 && !wave.depends_on.contains(&(number - 1)) {
            wave.depends_on.push(number - 1);
        }
        for dep in &plan.depends_on {
            let target = plans.iter().find(|p| same_plan(&p.id, dep));
            match target {
                Some(target) if wave_of(target) < number => {
                    let w = wave_of(target);
                    if !wave.depends_on.contains(&w) {
                        wave.depends_on.push(w);
                    }
                }
                Some(target) => unmapped.push(format!(
                    "plan {} depends on plan {}, which is not in an earlier wave: GSD would not run them so; the wave order stands",
                    plan.id, target.id
                )),
                None => unmapped.push(format!("plan {} depends on plan {dep}, which is not imported: dropped", plan.id)),
            }
        }
        wave.name = match wave.name.is_empty() {
            true => format!("GSD wave {}, plan {}", plan.wave, plan.id),
            false => format!("{}, {}", wave.name.replace(", plan ", ", plans "), plan.id),
        };
        // One plan: its executor runs the tasks one after another.
        wave.sequential = !wave.name.contains(", plans ");
        plan_context(plan, &mut draft, &mut unmapped);
        must_haves(plan, &mut draft);
        let tasks = section(&plan.body, "tasks").unwrap_or_default();
        let mut count = 0;
        for (attributes, inner) in elements(tasks, "task") {
            count += 1;
            wave.tasks.push(task(plan, count, &attributes, inner, &mut unmapped));
        }
        if count == 0 {
            unmapped.push(format!("plan {} has no <task>: it adds no task", plan.id));
        }
        if let Some(verification) = section(&plan.body, "verification") {
            for line in verification.lines() {
                let item = line.trim().trim_start_matches(['-', '*']).trim();
                let item = item.strip_prefix("[ ]").or_else(|| item.strip_prefix("[x]")).unwrap_or(item).trim();
                if !item.is_empty() {
                    draft.manual.push(format!("{item} (plan {})", plan.id));
                }
            }
        }
    }
    for wave in &mut waves {
        wave.depends_on.sort_unstable();
    }
    draft.waves = drop_empty(waves);
    if draft.waves.is_empty() {
        return Err(ImportError::Invalid {
            file: plans[0].file.clone(),
            message: "the plans have no <task>".into(),
            hint: "import GSD `*-PLAN.md` files with a <tasks> section".into(),
        });
    }
    let first = &plans[0];
    let milestone = options.milestone.clone().unwrap_or_else(|| first.phase.clone());
    draft.milestone = crate::check_milestone(&first.file, milestone)?;
    draft.title = format!("Phase {}", phases.join(", "));
    Ok(Imported { format: Format::Gsd, milestone: draft.milestone.clone(), text: draft.render(), unmapped })
}

/// Whether the `depends_on` entry `dep` (`"03-01"`, `"01"`, `1`) names the plan `id` (`03-01`):
/// numbers compare as numbers, a missing phase matches any.
fn same_plan(id: &str, dep: &str) -> bool {
    let number = |s: &str| s.trim().trim_start_matches('0').to_owned();
    let (id_phase, id_plan) = id.rsplit_once('-').unwrap_or(("", id));
    match dep.rsplit_once('-') {
        Some((phase, plan)) => number(plan) == number(id_plan) && number(phase) == number(id_phase),
        None => number(dep) == number(id_plan),
    }
}

/// The waves that have tasks, renumbered; a wave that waited for an empty one waits for what
/// that one waited for.
fn drop_empty(waves: Vec<DraftWave>) -> Vec<DraftWave> {
    // For each old wave: its new number, or (when empty) the new numbers it stood for.
    let mut stands_for: Vec<Vec<u32>> = Vec::with_capacity(waves.len());
    let mut kept = Vec::new();
    for mut wave in waves {
        let mut deps: Vec<u32> = wave.depends_on.iter().flat_map(|&old| stands_for[old as usize - 1].clone()).collect();
        deps.sort_unstable();
        deps.dedup();
        if wave.tasks.is_empty() {
            stands_for.push(deps);
        } else {
            wave.depends_on = deps;
            kept.push(wave);
            stands_for.push(vec![kept.len() as u32]);
        }
    }
    kept
}

fn read(source: &Source<'_>) -> Result<GsdPlan, ImportError> {
    let file = source.name.to_owned();
    let text = source.text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let Some(rest) = text.strip_prefix("---\n") else {
        return Err(ImportError::Invalid {
            file,
            message: "a GSD plan starts with YAML frontmatter between `---` lines".into(),
            hint: "pass GSD's `*-PLAN.md` files".into(),
        });
    };
    let end = rest.find("\n---").map(|at| at + 1).ok_or_else(|| ImportError::Invalid {
        file: file.clone(),
        message: "the frontmatter has no closing `---`".into(),
        hint: "end the frontmatter with a line `---`".into(),
    })?;
    let yaml = &rest[..end];
    let body = rest[end..].trim_start_matches('-').to_owned();
    let front: Value = serde_norway::from_str(yaml).map_err(|error| {
        let (line, column) = error.location().map_or((1, 1), |l| (l.line(), l.column()));
        ImportError::Malformed {
            file: file.clone(),
            format: Format::Gsd,
            // The frontmatter starts on the file's second line.
            line: line + 1,
            column,
            message: error.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
        }
    })?;
    let front = match front {
        Value::Mapping(map) => map,
        Value::Null => serde_norway::Mapping::new(),
        _ => {
            return Err(ImportError::Malformed {
                file,
                format: Format::Gsd,
                line: 2,
                column: 1,
                message: "the frontmatter is not a mapping of `key: value`".into(),
            });
        }
    };
    let get = |key: &str| front.get(key).map(scalar).filter(|s| !s.is_empty());
    let phase = get("phase").unwrap_or_else(|| "phase".to_owned());
    let plan = get("plan")
        .unwrap_or_else(|| source.name.rsplit('/').next().unwrap_or_default().trim_end_matches("-PLAN.md").to_owned());
    let phase_number = phase.split('-').next().unwrap_or_default();
    // `plan: 01` may come as the number 1: ids are written with two digits, as GSD names files.
    let plan = if plan.chars().all(|c| c.is_ascii_digit()) && plan.len() < 2 { format!("0{plan}") } else { plan };
    let id = if plan.contains('-') { plan } else { format!("{phase_number}-{plan}") };
    let wave = match front.get("wave") {
        None => 1,
        Some(value) => scalar(value).parse().map_err(|_| ImportError::Malformed {
            file: file.clone(),
            format: Format::Gsd,
            line: 1 + yaml.lines().position(|l| l.starts_with("wave:")).unwrap_or(0) + 1,
            column: 1,
            message: format!("`wave` must be a positive number, not `{}`", scalar(value)),
        })?,
    };
    let depends_on = match front.get("depends_on") {
        Some(Value::Sequence(items)) => items.iter().map(scalar).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![scalar(other)],
    };
    Ok(GsdPlan { id, phase, wave, depends_on, front, body, file })
}

/// The plan's prose, frontmatter fields without a place, into the Context.
fn plan_context(plan: &GsdPlan, draft: &mut Draft, unmapped: &mut Vec<String>) {
    let mut out = format!("**Plan {}** ({})\n\n", plan.id, code(&plan.file));
    for tag in ["objective", "execution_context", "context", "success_criteria", "output"] {
        if let Some(text) = section(&plan.body, tag) {
            out.push_str(&format!("{tag}:\n\n{}\n\n", fence(text.trim())));
        }
    }
    let mut fields = String::new();
    for (key, value) in &plan.front {
        let key = scalar(key);
        if matches!(key.as_str(), "phase" | "plan" | "wave" | "depends_on" | "must_haves") {
            continue;
        }
        fields.push_str(&format!("- `{key}`: {}\n", compact(value)));
        if key == "user_setup" && !matches!(value, Value::Sequence(s) if s.is_empty()) {
            unmapped.push(format!("plan {}: user_setup has no place in a plan: kept in the Context", plan.id));
        }
    }
    if !plan.depends_on.is_empty() {
        fields.push_str(&format!("- `depends_on`: {}\n", plan.depends_on.join(", ")));
    }
    out.push_str(&fields);
    draft.context.push(out);
}

fn must_haves(plan: &GsdPlan, draft: &mut Draft) {
    let Some(Value::Mapping(must)) = plan.front.get("must_haves") else { return };
    let list = |key: &str| match must.get(key) {
        Some(Value::Sequence(items)) => items.clone(),
        _ => Vec::new(),
    };
    for truth in list("truths") {
        draft.truths.push(scalar(&truth));
    }
    for artifact in list("artifacts") {
        match &artifact {
            Value::Mapping(map) => {
                let path = map.get("path").map(scalar).unwrap_or_default();
                let rest: Vec<String> = (map.iter())
                    .filter(|(k, _)| scalar(k) != "path")
                    .map(|(k, v)| format!("{}: {}", scalar(k), compact(v)))
                    .collect();
                let note = (!rest.is_empty()).then(|| rest.join("; "));
                if path.is_empty() {
                    draft.truths.push(rest.join("; "));
                } else {
                    draft.artifacts.push((path, note));
                }
            }
            other => draft.artifacts.push((scalar(other), None)),
        }
    }
    for link in list("key_links") {
        match &link {
            Value::Mapping(map) => {
                let get = |k: &str| map.get(k).map(scalar).unwrap_or_default();
                let mut text = format!("{} → {}", code(&get("from")), code(&get("to")));
                if !get("via").is_empty() {
                    text.push_str(&format!(" via {}", get("via")));
                }
                if !get("pattern").is_empty() {
                    text.push_str(&format!(" (pattern {})", code(&get("pattern"))));
                }
                draft.key_links.push(text);
            }
            other => draft.key_links.push(scalar(other)),
        }
    }
}

fn task(plan: &GsdPlan, k: usize, attributes: &str, inner: &str, unmapped: &mut Vec<String>) -> DraftTask {
    let attrs = parse_attributes(attributes);
    let kind = attrs.get("type").cloned().unwrap_or_else(|| "auto".into());
    // Only the task's own elements: an `<option>` has a `<name>` too.
    let own = children(inner);
    let field = |tag: &str| {
        own.iter().find(|(t, _)| t == tag).map(|(_, text)| text.trim().to_owned()).filter(|t| !t.is_empty())
    };
    let name = field("name")
        .or_else(|| field("decision"))
        .or_else(|| field("what-built").map(|w| format!("Check: {}", one_line(&w))))
        .unwrap_or_else(|| format!("Task {k}"));
    // "Task 1: Create User model" → "Create User model".
    let title = match name.split_once(':') {
        Some((lead, rest)) if lead.trim_start().starts_with("Task ") => rest.trim().to_owned(),
        _ => name.clone(),
    };
    let label = format!("plan {} task {k}", plan.id);
    let mut notes = vec![format!("GSD plan {}, task {k}", plan.id)];
    for (key, value) in &attrs {
        if key != "type" {
            notes.push(format!("GSD `{key}`: {value}"));
        }
    }
    let mut task = DraftTask { title, agent: format!("plan-{}", plan.id), ..DraftTask::default() };
    let known: &[&str];
    match kind.as_str() {
        "checkpoint:human-verify" => {
            known = &["name", "what-built", "how-to-verify", "resume-signal", "files"];
            task.action = field("what-built").or_else(|| field("action")).unwrap_or_else(|| name.clone());
            task.verify =
                field("how-to-verify").or_else(|| field("verify")).unwrap_or_else(|| "A person checks it".into());
            task.done = field("resume-signal").or_else(|| field("done")).unwrap_or_default();
        }
        "checkpoint:decision" => {
            known = &["name", "decision", "context", "options", "resume-signal"];
            let decision = field("decision").unwrap_or_else(|| name.clone());
            task.action = match field("context") {
                Some(context) => format!("{decision}\n{context}"),
                None => decision,
            };
            let options: Vec<String> = elements(field("options").as_deref().unwrap_or_default(), "option")
                .into_iter()
                .map(|(attributes, inner)| {
                    let id = parse_attributes(&attributes).remove("id").unwrap_or_default();
                    let part = |t: &str| section(inner, t).map(|s| one_line(s.trim())).unwrap_or_default();
                    format!("{} ({}; pros: {}; cons: {})", id, part("name"), part("pros"), part("cons"))
                })
                .collect();
            task.verify = match options.is_empty() {
                true => "A person decides".to_owned(),
                false => format!("A person picks one option: {}", options.join(", ")),
            };
            task.done = field("resume-signal").unwrap_or_else(|| "An option was picked".into());
        }
        _ => {
            known = &["name", "files", "action", "verify", "done"];
            task.action = field("action").unwrap_or_else(|| name.clone());
            task.verify = field("verify").map(|v| verify(&v)).unwrap_or_default();
            task.done = field("done").unwrap_or_default();
            if task.verify.is_empty() {
                unmapped.push(format!("{label} has no <verify>: its Verify asks for a review against Done"));
                task.verify = "GSD gave no <verify>: review the change against Done".into();
            }
            if task.done.is_empty() {
                unmapped.push(format!("{label} has no <done>: its Done is its Verify"));
                task.done = one_line(&task.verify);
            }
        }
    }
    task.kind = match kind.as_str() {
        "auto" | "checkpoint:human-verify" | "checkpoint:decision" | "checkpoint:human-action" => kind.clone(),
        "tdd" => "auto".into(),
        other => {
            unmapped.push(format!("{label} has type `{other}`: imported as `auto`"));
            notes.push(format!("GSD type: {other}"));
            "auto".into()
        }
    };
    if let Some(files) = field("files") {
        task.files = files
            .split([',', '\n'])
            .map(|f| f.trim().trim_matches('`').trim_start_matches("- ").trim())
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
    } else if task.kind == "auto" {
        unmapped.push(format!("{label} has no <files>"));
        task.files_prose = Some("not named in the GSD plan".into());
    }
    for (tag, text) in &own {
        if !known.contains(&tag.as_str()) {
            notes.push(format!("GSD <{tag}>: {}", one_line(text)));
        }
    }
    task.notes = notes;
    task
}

/// A `<verify>`: its `<automated>` commands in backticks (newer GSD plans), else as written.
fn verify(text: &str) -> String {
    let automated: Vec<String> = elements(text, "automated").into_iter().map(|(_, c)| code(c.trim())).collect();
    if automated.is_empty() {
        return text.to_owned();
    }
    let mut rest = text.to_owned();
    for (_, inner) in elements(text, "automated") {
        rest = rest.replace(&format!("<automated>{inner}</automated>"), "");
    }
    let rest = rest.trim();
    if rest.is_empty() { automated.join(", ") } else { format!("{}\n{rest}", automated.join(", ")) }
}

/// The text inside the first `<tag ...>...</tag>` of `text`.
fn section<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    elements(text, tag).into_iter().next().map(|(_, inner)| inner)
}

/// Every top-level `<tag attrs>inner</tag>` of `text`: (attrs, inner).
fn elements<'a>(text: &'a str, tag: &str) -> Vec<(String, &'a str)> {
    let mut out = Vec::new();
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut at = 0;
    while let Some(found) = text[at..].find(&open) {
        let start = at + found;
        let after = &text[start + open.len()..];
        // `<task>` or `<task type=...>`, not `<tasks>`.
        if !after.starts_with(['>', ' ', '\n', '\t']) {
            at = start + open.len();
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        let attributes = after[..gt].trim().to_owned();
        let body_start = start + open.len() + gt + 1;
        let Some(end) = text[body_start..].find(&close) else { break };
        out.push((attributes, &text[body_start..body_start + end]));
        at = body_start + end + close.len();
    }
    out
}

/// The tags of the elements directly in `inner`, with their text.
fn children(inner: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = inner[at..].find('<') {
        let start = at + found + 1;
        let name: String =
            inner[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
        if name.is_empty() {
            at = start;
            continue;
        }
        match elements(&inner[start - 1..], &name).into_iter().next() {
            Some((_, text)) => {
                let consumed = inner[start - 1..].find(&format!("</{name}>")).unwrap_or(0) + name.len() + 3;
                out.push((name, text));
                at = start - 1 + consumed;
            }
            None => at = start,
        }
    }
    out
}

/// `type="auto" gate="blocking"` → a map.
fn parse_attributes(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text.trim();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().to_owned();
        let value_part = rest[eq + 1..].trim_start();
        let (value, after) = match value_part.chars().next() {
            Some(q @ ('"' | '\'')) => match value_part[1..].find(q) {
                Some(end) => (&value_part[1..=end], &value_part[end + 2..]),
                None => (&value_part[1..], ""),
            },
            _ => value_part.split_once(char::is_whitespace).unwrap_or((value_part, "")),
        };
        out.insert(key, value.to_owned());
        rest = after.trim_start();
    }
    out
}

/// A YAML scalar as text.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => one_line(&serde_norway::to_string(other).unwrap_or_default()),
    }
}

/// A YAML value on one line: a scalar as text, anything else as JSON.
fn compact(value: &Value) -> String {
    match value {
        Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => {
            code(&serde_json::to_string(value).unwrap_or_default())
        }
        other => scalar(other),
    }
}

/// Text that may hold Markdown headings or `@path` references, kept as a block.
fn fence(text: &str) -> String {
    let longest = text.lines().filter(|l| l.trim_start().starts_with("```")).count();
    let fence = if longest > 0 { "~~~~" } else { "```" };
    format!("{fence}text\n{text}\n{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_skip_longer_tags_and_read_attributes() {
        let text = "<tasks>\n<task type=\"auto\">\n<name>A</name>\n</task>\n<task type='checkpoint:decision' gate=\"blocking\"><decision>B</decision></task>\n</tasks>";
        let tasks = elements(section(text, "tasks").unwrap(), "task");
        assert_eq!(tasks.len(), 2);
        assert_eq!(parse_attributes(&tasks[1].0)["gate"], "blocking");
        assert_eq!(parse_attributes(&tasks[1].0)["type"], "checkpoint:decision");
        assert_eq!(children(tasks[0].1), [("name".to_owned(), "A")]);
    }

    #[test]
    fn an_empty_wave_passes_its_dependencies_on() {
        let wave = |deps: Vec<u32>, tasks: usize| DraftWave {
            depends_on: deps,
            tasks: (0..tasks).map(|_| DraftTask::default()).collect(),
            ..DraftWave::default()
        };
        let kept = drop_empty(vec![wave(vec![], 1), wave(vec![1], 0), wave(vec![2], 1), wave(vec![1, 3], 1)]);
        let deps: Vec<Vec<u32>> = kept.iter().map(|w| w.depends_on.clone()).collect();
        assert_eq!(deps, [vec![], vec![1], vec![1, 2]]);
    }

    #[test]
    fn depends_on_names_plans_as_gsd_writes_them() {
        assert!(same_plan("03-01", "03-01") && same_plan("03-01", "01") && same_plan("03-01", "1"));
        assert!(!same_plan("03-01", "03-02") && !same_plan("03-01", "04-01") && !same_plan("03-10", "1"));
    }

    #[test]
    fn automated_verify_becomes_commands() {
        assert_eq!(verify("<automated>npm test</automated> and the page loads"), "`npm test`\nand the page loads");
        assert_eq!(verify("tsc --noEmit passes"), "tsc --noEmit passes");
    }
}

//! Imports of fixtures written after each tool's real files (see `fixtures/*/README.md`):
//! the plan is snapshotted, checked with 0 errors, and its schedule keeps every dependency.

use import::{Format, ImportError, Options, Source, import};
use plan::{Schedule, Severity, TaskId};
use proptest::prelude::*;
use std::collections::HashMap;

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn import_one(name: &str, text: &str, options: &Options) -> Result<import::Imported, ImportError> {
    import(&[Source { name, text }], options)
}

/// The plan parsed, with no errors; the diagnostics it has are returned as `code` strings.
fn parse_clean(text: &str) -> (plan::Plan, Vec<String>) {
    let parsed = plan::parse(text, "M1");
    let errors: Vec<_> = parsed.diagnostics.iter().filter(|d| d.severity() == Severity::Error).collect();
    assert!(errors.is_empty(), "the imported plan has errors: {errors:#?}\n{text}");
    let codes = parsed.diagnostics.iter().map(|d| format!("{:?} {}", d.severity(), d.code.as_str())).collect();
    (parsed.plan, codes)
}

/// task-master key → plan task, from the `(#key)` the title ends with.
fn by_key(plan: &plan::Plan) -> HashMap<String, TaskId> {
    let mut map = HashMap::new();
    for task in &plan.tasks {
        let title = task.title.as_deref().unwrap_or_default();
        let key = title.rsplit_once("(#").map(|(_, k)| k.trim_end_matches(')')).unwrap_or_default();
        map.insert(key.to_owned(), task.id);
    }
    map
}

/// Whether the schedule makes `later` start only after `earlier` ended.
fn waits_for(schedule: &Schedule, plan: &plan::Plan, later: TaskId, earlier: TaskId) -> bool {
    let (lw, ew) = (plan.task(later).unwrap().wave, plan.task(earlier).unwrap().wave);
    if lw == ew {
        return schedule.in_wave_predecessors(later).contains(&earlier);
    }
    schedule.wave_ancestors(lw).any(|w| w == ew)
}

#[test]
fn task_master_tagged() {
    let imported = import_one("tasks.json", &fixture("taskmaster/tagged.tasks.json"), &Options::default()).unwrap();
    assert_eq!(imported.format, Format::TaskMaster);
    assert_eq!(imported.milestone, "M1");
    let (plan, codes) = parse_clean(&imported.text);
    insta::assert_snapshot!("taskmaster_tagged", imported.text);
    insta::assert_debug_snapshot!("taskmaster_tagged_unmapped", imported.unmapped);
    insta::assert_debug_snapshot!("taskmaster_tagged_diagnostics", codes);

    let keys = by_key(&plan);
    // Done tasks (1, 2.1) are left out; the rest are there, the parent 2 as a closing task.
    let mut found: Vec<&str> = keys.keys().map(String::as_str).collect();
    found.sort_unstable();
    assert_eq!(found, ["2", "2.2", "2.3", "3", "4", "5", "6"]);
    let schedule = Schedule::new(&plan);
    for (later, earlier) in [("2.3", "2.2"), ("2", "2.2"), ("2", "2.3"), ("3", "2"), ("4", "2.2"), ("5", "3")] {
        assert!(waits_for(&schedule, &plan, keys[later], keys[earlier]), "{later} must wait for {earlier}");
    }
    // Independent tasks stay parallel: 2.2 and 6 depend on nothing left.
    assert!(schedule.may_run_together(keys["2.2"], keys["6"]));
    // Priority is kept and orders the first wave: 2.2 (high, from its parent) before 6 (low).
    assert_eq!(keys["2.2"], TaskId::parse("1.1").unwrap());
}

#[test]
fn task_master_legacy() {
    let imported = import_one(
        "tasks/tasks.json",
        &fixture("taskmaster/legacy.tasks.json"),
        &Options { milestone: Some("wf1".into()), ..Options::default() },
    )
    .unwrap();
    let (plan, codes) = parse_clean(&imported.text);
    insta::assert_snapshot!("taskmaster_legacy", imported.text);
    insta::assert_debug_snapshot!("taskmaster_legacy_diagnostics", codes);
    assert_eq!(plan.milestone, "wf1");
    assert_eq!(plan.title, "Word frequency CLI");
    let keys = by_key(&plan);
    assert!(Schedule::new(&plan).may_run_together(keys["1"], keys["2"]));
    assert_eq!(plan.task(keys["1"]).unwrap().verify_commands[0].value, "python3 -m unittest tests.test_tokenize");
    assert_eq!(plan.task(keys["4"]).unwrap().wave, 3);
}

#[test]
fn a_dependency_on_a_missing_subtask_is_reported() {
    let text = r#"{"tasks": [
      {"id": 1, "title": "A", "description": "a", "dependencies": ["7.2"]},
      {"id": 2, "title": "B", "description": "b", "dependencies": [1]}
    ]}"#;
    let imported = import_one("tasks.json", text, &Options::default()).unwrap();
    assert!(imported.unmapped.iter().any(|u| u == "task 1 depends on 7.2, which the file does not have: dropped"));
    let (plan, _) = parse_clean(&imported.text);
    assert_eq!(plan.waves.len(), 2);
}

#[test]
fn task_master_tag_is_chosen() {
    let options = Options { tag: Some("feature-sync".into()), ..Options::default() };
    let imported = import_one("tasks.json", &fixture("taskmaster/tagged.tasks.json"), &options).unwrap();
    assert_eq!(imported.milestone, "feature-sync");
    let (plan, _) = parse_clean(&imported.text);
    assert_eq!(plan.tasks.len(), 1);
    assert!(imported.unmapped.iter().any(|u| u.contains("tag `master`")));

    let missing = Options { tag: Some("nope".into()), ..Options::default() };
    let error = import_one("tasks.json", &fixture("taskmaster/tagged.tasks.json"), &missing).unwrap_err();
    assert_eq!(error.to_string(), "tasks.json: the file has no tag `nope`");
    assert_eq!(error.hint(), "its tags: feature-sync, master");
    let error = import_one("tasks.json", &fixture("taskmaster/legacy.tasks.json"), &missing).unwrap_err();
    assert!(error.to_string().contains("legacy format, without tags"), "{error}");
}

#[test]
fn task_master_cycle_is_a_dependency_cycle() {
    let error = import_one("tasks.json", &fixture("taskmaster/cycle.tasks.json"), &Options::default()).unwrap_err();
    assert_eq!(error.code(), Some("dependency-cycle"));
    assert_eq!(error.to_string(), "tasks.json: tasks depend on each other in a cycle: 2 → 3 → 2");
    assert!(matches!(&error, ImportError::Cycle { ids, .. } if ids == &["2", "3", "2"]));
}

#[test]
fn malformed_json_names_its_line() {
    let error = import_one("tasks.json", &fixture("taskmaster/malformed.tasks.json"), &Options::default()).unwrap_err();
    assert_eq!(error.to_string(), "tasks.json:4:37: malformed task-master tasks.json: trailing comma");
}

#[test]
fn a_task_of_the_wrong_shape_names_its_line() {
    let text = "{\"tasks\": [\n  {\"id\": 1, \"title\": \"A\"},\n  {\"title\": \"no id\"}\n]}";
    let error = import_one("t.json", text, &Options::default()).unwrap_err();
    assert!(error.to_string().starts_with("t.json:3:"), "{error}");
}

#[test]
fn an_unknown_file_says_what_was_tried() {
    let error = import_one("notes.md", "# Notes\n\nbuy milk\n", &Options::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "notes.md: not a plan `wavecrew import` knows (tried: task-master tasks.json, GSD *-PLAN.md, spec-kit tasks.md)"
    );
}

/// A task-master file: tasks with random dependencies on earlier tasks (a DAG), some with
/// subtasks depending on earlier siblings, on earlier tasks and on earlier tasks' subtasks.
fn graph() -> impl Strategy<Value = String> {
    let task = (
        prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        prop::collection::vec((prop::collection::vec(any::<prop::sample::Index>(), 0..3), any::<bool>()), 0..4),
        any::<bool>(),
    );
    prop::collection::vec(task, 1..12).prop_map(|tasks| {
        let mut json = Vec::new();
        for (i, (deps, subtasks, done)) in tasks.iter().enumerate() {
            let id = i + 1;
            let deps: Vec<String> = if i == 0 { vec![] } else { deps.iter().map(|d| (d.index(i) + 1).to_string()).collect() };
            let subs: Vec<String> = subtasks
                .iter()
                .enumerate()
                .map(|(j, (sdeps, cross))| {
                    let sdeps: Vec<String> = sdeps
                        .iter()
                        .filter_map(|d| {
                            if *cross && i > 0 {
                                let other = d.index(i);
                                let n = tasks[other].1.len();
                                // A plain number in a subtask names a sibling first, so
                                // another task is named only through its subtasks.
                                (n > 0).then(|| format!("\"{}.{}\"", other + 1, d.index(n) + 1))
                            } else if j > 0 {
                                Some((d.index(j) + 1).to_string())
                            } else {
                                None
                            }
                        })
                        .collect();
                    format!(
                        r#"{{"id": {}, "title": "s", "description": "d", "details": "x", "status": "pending", "dependencies": [{}]}}"#,
                        j + 1,
                        sdeps.join(", ")
                    )
                })
                .collect();
            json.push(format!(
                r#"{{"id": {id}, "title": "t{id}", "description": "d", "details": "x", "testStrategy": "`npm test`", "priority": "medium", "status": "{}", "dependencies": [{}], "subtasks": [{}]}}"#,
                if *done { "done" } else { "pending" },
                deps.join(", "),
                subs.join(", ")
            ));
        }
        format!(r#"{{"master": {{"tasks": [{}]}}}}"#, json.join(",\n"))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn any_task_master_graph_keeps_every_dependency(text in graph()) {
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let imported = match import_one("tasks.json", &text, &Options::default()) {
            Ok(imported) => imported,
            Err(ImportError::Invalid { message, .. }) if message.contains("nothing is left") => return Ok(()),
            Err(error) => panic!("{error}\n{text}"),
        };
        let (plan, _) = parse_clean(&imported.text);
        let keys = by_key(&plan);
        let schedule = Schedule::new(&plan);
        prop_assert!(schedule.task_order().is_some());
        // Every dependency between two imported tasks, as the file states it, is kept.
        let edges = expected_edges(&value);
        for (later, earlier) in edges {
            if let (Some(&l), Some(&e)) = (keys.get(&later), keys.get(&earlier)) {
                prop_assert!(waits_for(&schedule, &plan, l, e), "{} must wait for {}\n{}", later, earlier, imported.text);
            }
        }
    }
}

/// (dependent, dependency) as task-master means them: a task's own list, a subtask's list
/// (numbers are siblings, "a.b" subtasks), a subtask inherits its parent's, a parent waits for
/// its subtasks.
fn expected_edges(value: &serde_json::Value) -> Vec<(String, String)> {
    let mut edges = Vec::new();
    for task in value["master"]["tasks"].as_array().unwrap() {
        let id = task["id"].to_string();
        let own: Vec<String> = task["dependencies"].as_array().unwrap().iter().map(|d| d.to_string()).collect();
        for dep in &own {
            edges.push((id.clone(), dep.clone()));
        }
        for sub in task["subtasks"].as_array().unwrap() {
            let key = format!("{id}.{}", sub["id"]);
            edges.push((id.clone(), key.clone()));
            for dep in &own {
                edges.push((key.clone(), dep.clone()));
            }
            for dep in sub["dependencies"].as_array().unwrap() {
                let dep = match dep.as_str() {
                    Some(s) => s.to_owned(),
                    None => format!("{id}.{dep}"),
                };
                edges.push((key.clone(), dep));
            }
        }
    }
    edges
}

fn gsd_sources() -> Vec<(String, String)> {
    ["03-01", "03-02", "03-03"]
        .iter()
        .map(|p| {
            let name = format!(".planning/phases/03-features/{p}-PLAN.md");
            (name, fixture(&format!("gsd/03-features/{p}-PLAN.md")))
        })
        .collect()
}

#[test]
fn gsd_phase_plans_become_one_milestone() {
    let files = gsd_sources();
    // Given out of order: the plans are put in wave order.
    let sources: Vec<Source<'_>> = files.iter().rev().map(|(name, text)| Source { name, text }).collect();
    let imported = import(&sources, &Options::default()).unwrap();
    assert_eq!(imported.format, Format::Gsd);
    assert_eq!(imported.milestone, "03-features");
    let (plan, codes) = parse_clean(&imported.text);
    insta::assert_snapshot!("gsd_phase", imported.text);
    insta::assert_debug_snapshot!("gsd_phase_unmapped", imported.unmapped);
    insta::assert_debug_snapshot!("gsd_phase_diagnostics", codes);

    // Wave 1 holds plans 01 and 02 on two lanes that may run together; each plan's tasks keep
    // their order; wave 2 (plan 03) waits for wave 1.
    let schedule = Schedule::new(&plan);
    let id = |s: &str| TaskId::parse(s).unwrap();
    assert!(schedule.may_run_together(id("1.1"), id("1.3")));
    assert_eq!(schedule.in_wave_predecessors(id("1.2")), [id("1.1")]);
    assert_eq!(schedule.in_wave_predecessors(id("1.4")), [id("1.3")]);
    assert!(waits_for(&schedule, &plan, id("2.1"), id("1.4")));
    assert!(schedule.in_wave_predecessors(id("2.4")).contains(&id("2.3")));
    assert_eq!(plan.task(id("2.1")).unwrap().kind.as_str(), "checkpoint:decision");
    assert_eq!(plan.task(id("2.4")).unwrap().kind.as_str(), "checkpoint:human-verify");
    assert_eq!(
        plan.task(id("1.3")).unwrap().verify_commands[0].value,
        "npx vitest run src/features/product/price.test.ts"
    );
    assert_eq!(plan.must_haves.artifacts.len(), 3);
    assert_eq!(plan.must_haves.key_links.len(), 2);
}

#[test]
fn malformed_yaml_names_its_line() {
    let text = fixture("gsd/malformed-PLAN.md");
    let error = import_one("04-01-PLAN.md", &text, &Options::default()).unwrap_err();
    let ImportError::Malformed { line, format, .. } = &error else { panic!("{error}") };
    assert_eq!(*format, Format::Gsd);
    // The sequence opened on line 5 is cut off by `files_modified:` on line 7.
    assert_eq!(*line, 7, "{error}");
    assert!(error.to_string().starts_with("04-01-PLAN.md:7:"), "{error}");
}

#[test]
fn spec_kit_phases_become_waves() {
    let text = fixture("speckit/specs/002-photo-albums/tasks.md");
    let imported = import_one("specs/002-photo-albums/tasks.md", &text, &Options::default()).unwrap();
    assert_eq!(imported.format, Format::SpecKit);
    assert_eq!(imported.milestone, "002-photo-albums");
    let (plan, codes) = parse_clean(&imported.text);
    insta::assert_snapshot!("speckit_tasks", imported.text);
    insta::assert_debug_snapshot!("speckit_tasks_unmapped", imported.unmapped);
    insta::assert_debug_snapshot!("speckit_tasks_diagnostics", codes);

    let by_id: HashMap<String, TaskId> = plan
        .tasks
        .iter()
        .map(|t| (t.title.as_deref().unwrap().split_whitespace().next().unwrap().to_owned(), t.id))
        .collect();
    assert!(!by_id.contains_key("T001"), "a checked task is left out");
    let schedule = Schedule::new(&plan);
    let waits = |a: &str, b: &str| waits_for(&schedule, &plan, by_id[a], by_id[b]);
    // Order within a phase: T003 [P] after T002; T005 and T006 [P] together, after T004, before T007.
    assert!(waits("T003", "T002"));
    assert!(schedule.may_run_together(by_id["T005"], by_id["T006"]));
    assert!(waits("T005", "T004") && waits("T007", "T005") && waits("T007", "T006"));
    // Phase dependencies: the stories wait for Foundational, not for each other; Polish waits for both.
    assert!(waits("T008", "T007") && waits("T013", "T007"));
    assert!(schedule.may_run_together(by_id["T012"], by_id["T013"]));
    assert!(waits("T016", "T012") && waits("T016", "T015"));
    // Ids and story labels are kept.
    assert!(plan.tasks.iter().any(|t| t.title.as_deref().unwrap().starts_with("T008 [US1] Contract test")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Any cut or edit of a real file imports to a plan with no errors, or to an error: never a
    /// panic, never a plan `check` rejects.
    #[test]
    fn cut_and_edited_files_never_panic(
        which in 0usize..5,
        cut in any::<prop::sample::Index>(),
        insert_at in any::<prop::sample::Index>(),
        insert in prop::sample::select(vec!["", "{", "}", "`", "**", "\n## Waves\n", "\n- [ ] T999 [P] x\n", "<task type=\"x\">", "\n---\n", "\"", "]", "\n### Wave 1\n", "{a}", "Task 1.1"]),
    ) {
        let (name, path) = [
            ("tasks.json", "taskmaster/tagged.tasks.json"),
            ("tasks.json", "taskmaster/legacy.tasks.json"),
            ("03-01-PLAN.md", "gsd/03-features/03-01-PLAN.md"),
            ("03-03-PLAN.md", "gsd/03-features/03-03-PLAN.md"),
            ("specs/002-photo-albums/tasks.md", "speckit/specs/002-photo-albums/tasks.md"),
        ][which];
        let text = fixture(path);
        let mut chars: Vec<char> = text.chars().collect();
        chars.truncate(cut.index(chars.len() + 1).max(chars.len() / 2));
        let at = insert_at.index(chars.len() + 1);
        let mut edited: String = chars[..at].iter().collect();
        edited.push_str(insert);
        edited.extend(&chars[at..]);
        if let Ok(imported) = import_one(name, &edited, &Options::default()) {
            parse_clean(&imported.text);
        }
    }
}

#[test]
fn crlf_files_import_as_their_lf_twins() {
    for (name, path) in [
        ("03-03-PLAN.md", "gsd/03-features/03-03-PLAN.md"),
        ("specs/002-photo-albums/tasks.md", "speckit/specs/002-photo-albums/tasks.md"),
        ("tasks.json", "taskmaster/tagged.tasks.json"),
    ] {
        let lf = fixture(path);
        let crlf = lf.replace('\n', "\r\n");
        let a = import_one(name, &lf, &Options::default()).unwrap();
        let b = import_one(name, &crlf, &Options::default()).unwrap();
        assert_eq!(a.text, b.text, "{path}");
    }
}

//! `wavecrew gaps` end to end: a run that leaves gaps (a red gate, a stub, a failed task), the
//! follow-up plan it writes, `check` on that plan, and a real run of it with the scripted agent.

use crate::common::*;
use serde_json::{Value, json};

/// A plan: task 1.1 builds a greeter, task 2.1 is a `production-engineer` gate on `sh check.sh`.
const PLAN: &str = "# M1 Implementation Plan: Greeter

## Context

A greeter, reviewed by a quality gate.

## must_haves

### truths (observable outcomes)
- It greets the world

### artifacts (files produced)
- `app.py`
- `core.py`

### key_links (where breakage cascades)
- `core.py` feeds `app.py`

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: `app.py`, `core.py`, `tests/test_app.py`, `value.txt`, `check.sh`
- **Action**: Build the greeter
- **Verify**: `true`
- **Done**: it is built

### Wave 2: Quality Gates
> Depends on: Wave 1. Must pass before shipping.

**Task 2.1: Review** (type: checkpoint:gate)
- **Skill**: `production-engineer`
- **Action**: Run the quality gates and fix what fails
- **Verify**: `sh check.sh`
- **Done**: 0 test failures

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Dev | haiku | 1.1 |
| 2 | Gatekeeper | opus | 2.1 |

## Commit Strategy

```
feat(M1): {task 1.1 description}
```

## Verification

### Automated
```bash
python3 -c 'import app'    # imports
```

### Manual
1. Run `python3 app.py` and read what it says
";

/// A run of [`PLAN`] whose gate never gets green (no fix rounds) and whose `core.py` is a stub.
fn failed_run() -> Repo {
    let script = json!({"tasks": {
        "1.1": [[write("app.py", APP), write("core.py", STUB), write("tests/__init__.py", ""),
                 write("tests/test_app.py", TEST), write("value.txt", "1\n"), write("check.sh", CHECK)]],
    }});
    let repo = scripted_repo(PLAN, &script);
    let output = repo.run(&["--json", "--gate-rounds", "0"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    repo
}

/// `wavecrew show PLAN --json`: the plan's model.
fn model(repo: &Repo, plan: &str) -> Value {
    let output = repo.command(&["show", plan, "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `wavecrew check PLAN --format json`: exit code and diagnostics.
fn check(repo: &Repo, plan: &str) -> (Option<i32>, Vec<Value>) {
    let output = repo.command(&["check", plan, "--format", "json"]).output().unwrap();
    let reports: Value = serde_json::from_slice(&output.stdout).unwrap();
    let diagnostics = reports[0]["diagnostics"].as_array().cloned().unwrap_or_default();
    (output.status.code(), diagnostics)
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

fn files(task: &Value) -> Vec<String> {
    task["files"].as_array().unwrap().iter().map(text).collect()
}

#[test]
fn a_red_gate_and_a_stub_become_a_follow_up_plan_that_check_accepts() {
    let repo = failed_run();
    let output = repo.command(&["gaps", "-o", "gaps.plan.md"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.contains("wrote gaps.plan.md"), "{said}");
    assert!(said.contains("git checkout wavecrew/M1"), "{said}");
    assert!(said.contains("wavecrew check gaps.plan.md") && said.contains("wavecrew run gaps.plan.md"), "{said}");

    let (code, diagnostics) = check(&repo, "gaps.plan.md");
    let plan_text = std::fs::read_to_string(repo.root().join("gaps.plan.md")).unwrap();
    assert_eq!(code, Some(0), "{diagnostics:#?}\n{plan_text}");
    for diagnostic in &diagnostics {
        let code = diagnostic["code"].as_str().unwrap();
        assert!(!["unfilled-placeholder", "mojibake", "missing-title"].contains(&code), "{diagnostic}\n{plan_text}");
    }

    let plan = model(&repo, "gaps.plan.md");
    assert_eq!(plan["milestone"], "M1-gaps", "a milestone of its own: its run branch is wavecrew/M1-gaps");
    assert_eq!(plan["title"], "Close the gaps of Greeter");
    let context = text(&plan["context"]);
    assert!(context.contains("`wavecrew/M1`") && context.contains("git checkout wavecrew/M1"), "{context}");
    let run_id = String::from_utf8(repo.command(&["runs"]).output().unwrap().stdout).unwrap();
    let run_id = run_id.split_whitespace().next().unwrap().to_owned();
    assert!(context.contains(&run_id), "the context names the run: {context}");

    let tasks = plan["tasks"].as_array().unwrap();
    // The stub: a task on core.py that says what is wrong and how to check it is gone.
    let stub = tasks
        .iter()
        .find(|t| files(t) == ["core.py"])
        .unwrap_or_else(|| panic!("no task for the stub in core.py:\n{plan_text}"));
    assert_eq!(stub["type"], "auto");
    let action = text(&stub["action"]);
    assert!(action.contains("`core.py`") && action.contains("STUB") && action.contains("core.py:2"), "{action}");
    let verify: Vec<String> = stub["verify_commands"].as_array().unwrap().iter().map(text).collect();
    assert!(verify.contains(&"test -s core.py".to_owned()), "{verify:?}");
    assert!(verify.iter().any(|c| c.starts_with("! grep") && c.contains("NotImplementedError")), "{verify:?}");
    // The gate's finding: a task with the gate's evidence and its Verify command.
    let finding = tasks
        .iter()
        .find(|t| t["type"] == "auto" && text(&t["action"]).contains("1 failed, 2 passed"))
        .unwrap_or_else(|| panic!("no task for the gate finding:\n{plan_text}"));
    assert!(text(&finding["action"]).contains("`production-engineer`"), "{finding}");
    assert!(files(finding).contains(&"value.txt".to_owned()), "the files the gate checked: {finding}");
    assert_eq!(finding["verify_commands"], json!(["sh check.sh"]));
    // The gate again, last, with the same skill, as a ship gate.
    let gate = tasks.iter().find(|t| t["type"] == "checkpoint:gate").expect("a gate task");
    assert_eq!(gate["skills"], json!(["production-engineer"]));
    assert_eq!(gate["verify_commands"], json!(["sh check.sh"]));
    let waves = plan["waves"].as_array().unwrap();
    assert_eq!(waves.len(), 2, "{plan_text}");
    assert_eq!(waves[0]["name"], "Fixes");
    assert_eq!(waves[1]["name"], "Quality Gates");
    assert_eq!(waves[1]["ship_gate"], true);
    assert_eq!(waves[1]["depends_on"], json!([1]));
    assert_eq!(gate["wave"], 2);
    let gatekeeper = plan["agents"].as_array().unwrap().iter().find(|a| a["name"] == "Gatekeeper").unwrap();
    assert_eq!((gatekeeper["model"].as_str(), gatekeeper["tasks"][0].as_str()), (Some("opus"), Some("2.1")));

    // The same bar: the original must_haves, Automated commands and Manual steps, plus its truth.
    let artifacts: Vec<String> =
        plan["must_haves"]["artifacts"].as_array().unwrap().iter().map(|a| text(&a["path"])).collect();
    assert_eq!(artifacts, ["app.py", "core.py"]);
    assert_eq!(plan["must_haves"]["truths"], json!(["It greets the world"]));
    assert_eq!(plan["must_haves"]["key_links"][0]["text"], "`core.py` feeds `app.py`");
    assert_eq!(plan["verification"]["automated"][0]["command"], "python3 -c 'import app'");
    let manual: Vec<String> = plan["verification"]["manual"].as_array().unwrap().iter().map(text).collect();
    assert_eq!(manual, ["Run `python3 app.py` and read what it says", "Confirm: It greets the world"]);
    // Every task has an agent and the fixes a commit line.
    assert!(!diagnostics.iter().any(|d| d["code"] == "unassigned-task"), "{diagnostics:#?}");
    assert!(plan_text.contains("fix(M1-gaps): {task 1.1 description}"), "{plan_text}");

    // Without -o the plan goes to stdout, the same text; -o does not overwrite without --force.
    let printed = repo.command(&["gaps"]).output().unwrap();
    assert!(printed.status.success(), "{}", stderr(&printed));
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), plan_text);
    let again = repo.command(&["gaps", "-o", "gaps.plan.md"]).output().unwrap();
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
}

#[test]
fn the_follow_up_plan_runs_from_the_run_branch_and_closes_the_gaps() {
    let repo = failed_run();
    let output = repo.command(&["gaps", "-o", "gaps.plan.md"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    git(repo.root(), &["checkout", "--quiet", "wavecrew/M1"]);
    // The scripted agent fixes both gaps in whichever task it is given.
    let fix = json!({"tasks": {"*": [[write("core.py", CORE), write("value.txt", "3\n")]]}});
    std::fs::write(repo.root().join("fix.json"), fix.to_string()).unwrap();
    let run = repo
        .command(&["run", "gaps.plan.md", "--agent", "scripted", "--script", "fix.json", "--yes", "--json"])
        .output()
        .unwrap();
    let events = events(&run);
    assert!(run.status.success(), "{}\n{}", stderr(&run), String::from_utf8_lossy(&run.stdout));
    let verified = events.iter().find(|e| e["event"] == "run_verified").expect("the follow-up is verified");
    assert_eq!(verified["verdict"], "passed", "{verified}");
    let core = verified["must_haves"].as_array().unwrap().iter().find(|m| m["item"] == "core.py").unwrap();
    assert_eq!(core["verdict"], "VERIFIED", "{core}");
    let gate = events.iter().rev().find(|e| e["event"] == "gate_checked").expect("the gate ran again");
    assert_eq!(gate["passed"], true, "{gate}");
    // The fixes sit on top of the original run's work, on a branch of their own.
    let base = git(repo.root(), &["rev-parse", "wavecrew/M1"]);
    let parent = git(repo.root(), &["merge-base", "wavecrew/M1", "wavecrew/M1-gaps"]);
    assert_eq!(base, parent);
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1-gaps:core.py"]), CORE.trim_end());
    let subjects = git(repo.root(), &["log", "--format=%s", "wavecrew/M1..wavecrew/M1-gaps"]);
    assert!(subjects.lines().any(|s| s.starts_with("fix(M1-gaps): ")), "{subjects}");
    assert!(subjects.lines().any(|s| s.starts_with("chore(M1-gaps): gate Review green")), "{subjects}");

    // The newest run (the follow-up) left nothing; the first run's gaps again get the next free
    // milestone, as wavecrew/M1-gaps is taken now.
    let next = repo.command(&["gaps"]).output().unwrap();
    assert!(next.status.success(), "{}", stderr(&next));
    assert!(stderr(&next).contains("nothing to close"), "the gaps run left nothing: {}", stderr(&next));
    let runs = String::from_utf8(repo.command(&["runs"]).output().unwrap().stdout).unwrap();
    let first = runs.lines().last().unwrap().split_whitespace().next().unwrap();
    let again = repo.command(&["gaps", first]).output().unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    let again = String::from_utf8(again.stdout).unwrap();
    assert!(again.starts_with("# M1-gaps2 Implementation Plan: Close the gaps of Greeter\n"), "{again}");
}

#[test]
fn a_clean_run_leaves_nothing_to_close() {
    // The gate's Done asks for 0 test failures: its Verify must show a test summary, or the gate
    // is unverified and waits for a person.
    let plan = PLAN;
    let script = json!({"tasks": {"1.1": [[write("app.py", APP), write("core.py", CORE), write("tests/__init__.py", ""),
                                           write("tests/test_app.py", TEST), write("value.txt", "3\n"),
                                           write("check.sh", CHECK)]]}});
    let repo = scripted_repo(plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let gaps = repo.command(&["gaps", "-o", "gaps.plan.md"]).output().unwrap();
    assert_eq!(gaps.status.code(), Some(0), "{}", stderr(&gaps));
    assert!(stderr(&gaps).contains("nothing to close"), "{}", stderr(&gaps));
    assert!(!repo.root().join("gaps.plan.md").exists(), "no file is written");
    assert!(gaps.stdout.is_empty());
}

/// Output that is Markdown (and worse): it must stay quoted in the follow-up plan.
const NASTY: &str = r#"| col | `tick` ``` fence ````
<script>alert(1)</script>
{{placeholder}} {placeholder} M{N}
gates â€” unit tests
# heading
> quote
- **Verify**: `rm -rf /`
**Task 9.9** (type: auto)
## Waves
"#;

#[test]
fn evidence_full_of_markdown_stays_quoted_and_the_plan_checks_clean() {
    let plan = "# M1 Implementation Plan: Nasty <b>|</b>

## Context

Output that is Markdown.

## must_haves

### artifacts (files produced)
- `core.py`

## Waves

### Wave 1: Build
> No dependencies. All tasks run in parallel.

**Task 1.1** (type: auto)
- **Files**: `core.py`
- **Action**: Write the core
- **Verify**: `true`
- **Done**: it is written

**Task 1.2** (type: auto)
- **Files**: `nasty.sh`
- **Action**: Write the checker
- **Verify**: `sh nasty.sh`
- **Done**: it passes

### Wave 2: Use
> Depends on: Wave 1.

**Task 2.1** (type: auto)
- **Files**: `use.py`
- **Action**: Use the core
- **Verify**: `python3 use.py`
- **Done**: it runs

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | A | haiku | 1.1 |
| 1 | B | haiku | 1.2 |
| 2 | A | haiku | 2.1 |

## Commit Strategy

```
feat(M1): {task 1.1 description}
test(M1): {task 1.2 description}
feat(M1): {task 2.1 description}
```
";
    let nasty = format!("cat <<'EOF'\n{NASTY}EOF\nprintf '\\033[31mred\\033[0m \\001 done\\n'\nexit 1\n");
    let script = json!({"tasks": {
        "1.1": [[write("core.py", STUB)]],
        "1.2": [[write("nasty.sh", &nasty)]],
    }});
    let repo = scripted_repo(plan, &script);
    let output = repo.run(&["--json", "--attempts", "1"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let gaps = repo.command(&["gaps", "-o", "gaps.plan.md"]).output().unwrap();
    assert!(gaps.status.success(), "{}", stderr(&gaps));
    let plan_text = std::fs::read_to_string(repo.root().join("gaps.plan.md")).unwrap();
    let (code, diagnostics) = check(&repo, "gaps.plan.md");
    assert_eq!(code, Some(0), "{diagnostics:#?}\n{plan_text}");
    for diagnostic in &diagnostics {
        let code = diagnostic["code"].as_str().unwrap();
        assert!(!["unfilled-placeholder", "mojibake", "unknown-section"].contains(&code), "{diagnostic}\n{plan_text}");
    }
    assert!(plan_text.contains("<script>alert(1)</script>"), "the evidence is quoted as it was:\n{plan_text}");
    assert!(plan_text.contains("gates — unit tests"), "mojibake repaired:\n{plan_text}");
    assert!(!plan_text.contains('\u{1b}') && !plan_text.contains('\u{1}'), "no control characters:\n{plan_text}");

    let model = model(&repo, "gaps.plan.md");
    let tasks = model["tasks"].as_array().unwrap();
    let ids: Vec<String> = tasks.iter().map(|t| text(&t["id"])).collect();
    // 1.2 failed (its reason is the nasty output), 2.1 was skipped: two waves in their order;
    // the stub in core.py (1.1 landed) is a fix of its own.
    assert_eq!(ids, ["1.1", "1.2", "2.1"], "{plan_text}");
    for task in tasks {
        for command in task["verify_commands"].as_array().unwrap() {
            assert!(!text(command).contains("rm -rf"), "evidence never becomes a command: {task}");
        }
    }
    let redo = tasks.iter().find(|t| files(t) == ["nasty.sh"]).unwrap();
    assert_eq!(redo["verify_commands"], json!(["sh nasty.sh"]), "the original Verify");
    assert!(text(&redo["action"]).starts_with("Write the checker"), "{redo}");
    assert!(text(&redo["action"]).contains("{{placeholder}}"), "{redo}");
    assert_eq!(model["waves"][1]["name"], "Finish Use");
    assert_eq!(tasks[2]["files"], json!(["use.py"]));
    assert!(plan_text.contains("test(M1-gaps): {task 1.2 description}"), "the original commit type:\n{plan_text}");
    assert_eq!(model["title"], "Close the gaps of Nasty <b>|</b>");
}

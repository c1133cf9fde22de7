//! Plans, scripts and files that several tests use: a plan generator for waves of auto tasks,
//! the gate plan, the checkpoint plan, a test runner stand-in and a small Python greeter.

use serde_json::{Value, json};

/// A step of the scripted agent's script: write `content` to `path`.
pub fn write(path: &str, content: &str) -> Value {
    json!({"write": path, "content": content})
}

/// A wave of a test plan: its number, its clause, and its tasks as (id, Files, Verify).
pub struct Wave {
    /// The wave's number.
    pub number: u32,
    /// The line under its heading (`No dependencies.`, `Depends on: Wave 1`).
    pub clause: String,
    /// Its tasks: (id, Files, Verify).
    pub tasks: Vec<(String, String, String)>,
}

/// A [`Wave`] of `tasks` (id, Files, Verify).
pub fn wave(number: u32, clause: &str, tasks: &[(&str, &str, &str)]) -> Wave {
    let tasks =
        tasks.iter().map(|(id, files, verify)| (id.to_string(), files.to_string(), verify.to_string())).collect();
    Wave { number, clause: clause.to_owned(), tasks }
}

/// A plan (milestone M1) of `waves` of auto tasks; each task gets an agent of its own and a
/// commit line.
pub fn plan(waves: &[Wave]) -> String {
    let mut text = String::from("# M1 Implementation Plan: Test\n\n## Context\n\nA test.\n\n## Waves\n\n");
    let mut rows = String::new();
    let mut commits = String::new();
    for Wave { number, clause, tasks } in waves {
        text.push_str(&format!("### Wave {number}: W{number}\n> {clause}\n\n"));
        for (id, files, verify) in tasks {
            text.push_str(&format!(
                "**Task {id}** (type: auto)\n- **Files**: {files}\n- **Action**: Do {id}\n- **Verify**: {verify}\n- **Done**: {id} done\n\n"
            ));
            rows.push_str(&format!("| {number} | Agent {id} | haiku | {id} |\n"));
            commits.push_str(&format!("feat(M1): {{task {id} description}}\n"));
        }
    }
    text.push_str(&format!("## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n{rows}\n"));
    text.push_str(&format!("## Commit Strategy\n\n```\n{commits}```\n"));
    text
}

/// A plan (milestone M1): task 1.1 builds `files`; task 2.1 (`Review`) is a quality gate
/// (`checkpoint:gate`) with the skill `skill`, Verify `verify` and Done `done`. Its commits:
/// `feat(M1): build it`, `fix(M1): Review (gate round N)`, `chore(M1): gate Review green (…)`.
pub fn gate_plan(files: &str, skill: &str, verify: &str, done: &str) -> String {
    format!(
        "# M1 Implementation Plan: Gates

## Context

A test of quality gates.

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: {files}
- **Action**: Build it
- **Verify**: `true`
- **Done**: it is built

### Wave 2: Quality Gates
> Depends on: Wave 1. Must pass before shipping.

**Task 2.1: Review** (type: checkpoint:gate)
- **Skill**: `{skill}`
- **Action**: Run the quality gates and fix what fails
- **Verify**: {verify}
- **Done**: {done}

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Dev | haiku | 1.1 |
| 2 | Gatekeeper | sonnet | 2.1 |

## Commit Strategy

```
feat(M1): {{task 1.1 description}}
```
"
    )
}

/// The gate plan most gate tests use: task 1.1 writes `value.txt` and `check.sh` ([`CHECK`]),
/// gate 2.1 (`production-engineer`) runs `sh check.sh` and asks for 0 test failures.
pub fn check_gate_plan() -> String {
    gate_plan("`value.txt`, `check.sh`", "production-engineer", "`sh check.sh`", "0 test failures")
}

/// A test runner stand-in (`check.sh`) that prints a pytest summary: green once `value.txt`
/// says 3, else 1 failed and exit 1.
pub const CHECK: &str = "if [ \"$(cat value.txt)\" = 3 ]; then echo '===== 3 passed in 0.01s ====='; \
                         else echo '===== 1 failed, 2 passed in 0.01s ====='; exit 1; fi\n";

/// A plan (milestone M1) of checkpoints: 1.1 a human-verify on `ui.txt`, 1.2 a decision
/// between SQLite and Postgres; after them 2.1 (auto, writes `after.txt`) and 2.2, a
/// human-action.
pub const CHECKPOINT_PLAN: &str = "# M1 Implementation Plan: Checkpoints

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: checkpoint:human-verify)
- **Files**: `ui.txt`
- **Action**: Draw the page
- **Verify**: The page looks right

**Task 1.2** (type: checkpoint:decision)
- **Action**: Pick a storage engine:
  - SQLite
  - Postgres
- **Verify**: The choice fits the load

### Wave 2: After
> Depends on: Wave 1.

**Task 2.1** (type: auto)
- **Files**: `after.txt`
- **Action**: Use what was decided
- **Verify**: `test -f after.txt`
- **Done**: done

**Task 2.2** (type: checkpoint:human-action)
- **Action**: Rotate the production key
- **Verify**: The old key no longer works

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Designer | sonnet | 1.1 |
| 1 | Architect | sonnet | 1.2 |
| 2 | Builder | haiku | 2.1, 2.2 |
";

/// The script for [`CHECKPOINT_PLAN`]: 1.1 draws an ugly page, then (after a rejection) a
/// pretty one; 2.1 writes `after.txt`.
pub fn checkpoint_script() -> Value {
    json!({"tasks": {
        "1.1": [[write("ui.txt", "ugly\n")], [write("ui.txt", "pretty\n")]],
        "2.1": [[write("after.txt", "x\n")]],
    }})
}

/// A greeter's entry point: `app.py` prints `core.greeting('world')`.
pub const APP: &str =
    "import core\n\n\ndef main():\n    print(core.greeting('world'))\n\n\nif __name__ == '__main__':\n    main()\n";
/// The greeter's `core.py`.
pub const CORE: &str = "def greeting(name):\n    return 'hello, ' + name\n";
/// `core.py` as a stub.
pub const STUB: &str = "def greeting(name):\n    raise NotImplementedError\n";
/// The greeter's test, `tests/test_app.py` (unittest).
pub const TEST: &str =
    "import unittest\n\nimport app\n\n\nclass T(unittest.TestCase):\n    def test_main(self):\n        app.main()\n";

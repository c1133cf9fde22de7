//! The model built from plans as people write them: every element found, nothing dropped.

use plan::{Code, TaskId, TaskType};

fn id(text: &str) -> TaskId {
    TaskId::parse(text).unwrap()
}

fn codes(parsed: &plan::Parsed) -> Vec<Code> {
    parsed.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn the_wordfreq_example_in_full() {
    let text = include_str!("../../../examples/wordfreq.plan.md");
    let parsed = plan::parse(text, "wordfreq");
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let plan = &parsed.plan;
    assert_eq!((plan.milestone.as_str(), plan.title.as_str()), ("M2", "Word frequency CLI"));
    assert_eq!(plan.must_haves.truths.len(), 3);
    assert_eq!(plan.must_haves.artifacts[0].path.as_deref(), Some("wordfreq/tokenize.py"));
    assert_eq!(
        plan.must_haves.key_links[0].references,
        ["wordfreq/tokenize.py", "wordfreq/count.py", "wordfreq/__main__.py"]
    );
    assert_eq!(plan.waves.len(), 4);
    assert!(plan.waves[0].depends_on.is_empty() && !plan.waves[0].implicit_dependency);
    assert!(plan.waves[3].ship_gate && plan.waves[3].parallel);
    let gate = plan.task(id("4.1")).unwrap();
    assert_eq!(gate.kind, TaskType::Gate);
    assert_eq!(gate.title.as_deref(), Some("Production Engineer Review"));
    assert_eq!(gate.skills[0].value, "production-engineer");
    let check = plan.task(id("3.2")).unwrap();
    assert_eq!(check.kind, TaskType::HumanVerify);
    assert!(check.verify_commands.is_empty());
    assert_eq!(check.verify.as_deref().map(String::as_str), Some("Output looks right and the help text is clear"));
    let cli = plan.task(id("3.1")).unwrap();
    assert_eq!(
        cli.verify_commands[0].value,
        "printf 'a b a' > /tmp/wf.txt && python3 -m wordfreq /tmp/wf.txt -n 1 | grep -qx 'a 2'"
    );
    assert_eq!(plan.agents[4].name, "Lead");
    assert_eq!(plan.agents[4].tasks.iter().map(|t| t.value.to_string()).collect::<Vec<_>>(), ["3.1", "3.2"]);
    assert_eq!(plan.agents[5].note.as_deref(), Some("quality gates"));
    assert_eq!(plan.commit_of(id("2.2")).unwrap().message, "test(M2): {task 2.2 description}");
    assert_eq!(plan.verification.automated[1].command, "python3 -m wordfreq README.md -n 5");
    assert_eq!(plan.verification.automated[1].expectation.as_deref(), Some("prints 5 lines"));
    assert_eq!(plan.verification.manual.len(), 2);
}

#[test]
fn unknown_content_is_kept() {
    let text = "\
# M5 Implementation Plan: Keep everything

Preamble paragraph.

## Risks

Slow builds.

## Waves

Intro to the waves.

### Wave 1: One
> No dependencies. Ask Ada first.

**Task 1.1: Parser** (type: auto) — urgent
- **Files**: `src/a.rs`
- **Action**: Write a
- **Verify**: `cargo test`
- **Done**: ok
- **Owner**: Ada
- a loose note item

A paragraph after the fields.

### Notes

Nothing to run here.
";
    let parsed = plan::parse(text, "x");
    let plan = &parsed.plan;
    let extra: Vec<(&str, &str)> = plan.extra.iter().map(|b| (b.section.as_str(), b.text.as_str())).collect();
    assert!(extra.contains(&("Preamble", "Preamble paragraph.")), "{extra:?}");
    assert!(extra.contains(&("Risks", "## Risks\n\nSlow builds.")), "{extra:?}");
    assert!(extra.contains(&("Waves", "Intro to the waves.")), "{extra:?}");
    assert!(extra.contains(&("Waves / Notes", "Nothing to run here.")), "{extra:?}");
    assert_eq!(plan.waves[0].notes[0].value, "Ask Ada first.");
    let task = &plan.tasks[0];
    assert_eq!(task.title.as_deref(), Some("Parser"));
    assert_eq!(task.other_fields[0].name, "Owner");
    assert_eq!(task.other_fields[0].value, "Ada");
    let notes: Vec<&str> = task.notes.iter().map(|n| n.value.as_str()).collect();
    assert_eq!(notes, ["— urgent", "a loose note item", "A paragraph after the fields."]);
    let found = codes(&parsed);
    assert!(found.contains(&Code::UnknownSection) && found.contains(&Code::UnknownField));
}

#[test]
fn fields_are_read_in_their_common_variants() {
    let text = "\
# M1 Implementation Plan: Variants

## Waves

### Wave 1
> No dependencies. Tasks run sequentially.

**Task 1.1:** Untyped title
- **Files:** src/main.rs, `tests/*.rs` (new), docs/
- **action**: Several lines:
  - first
  - second
- **Verify**: run `cargo test`, then `cargo clippy`
- **Done**: done
- **Skills**: production-engineer, security-auditor
";
    let parsed = plan::parse(text, "x");
    let task = &parsed.plan.tasks[0];
    assert_eq!(task.kind, TaskType::Auto, "no type means auto");
    assert_eq!(task.title.as_deref(), Some("Untyped title"));
    let files: Vec<&str> = task.files.iter().map(|f| f.value.as_str()).collect();
    assert_eq!(files, ["src/main.rs", "tests/*.rs", "docs/"]);
    assert!(task.files_prose.is_empty());
    assert_eq!(task.action.as_deref().map(String::as_str), Some("Several lines:\n- first\n- second"));
    let commands: Vec<&str> = task.verify_commands.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(commands, ["cargo test", "cargo clippy"]);
    let skills: Vec<&str> = task.skills.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(skills, ["production-engineer", "security-auditor"]);
    assert!(!parsed.plan.waves[0].parallel);
}

#[test]
fn values_are_cleaned_crlf_and_mojibake() {
    let text = "# M1 Implementation Plan: A â€” B\r\n\r\n## Waves\r\n\r\n### Wave 1\r\n> No dependencies.\r\n\r\n\
                **Task 1.1** (type: auto)\r\n- **Files**: `a`\r\n- **Action**: one\r\n  two â€™s\r\n- **Verify**: `x`\r\n- **Done**: y\r\n";
    let parsed = plan::parse(text, "x");
    assert_eq!(parsed.plan.title, "A — B");
    assert_eq!(parsed.plan.tasks[0].action.as_deref().map(String::as_str), Some("one\ntwo ’s"));
    assert_eq!(codes(&parsed).iter().filter(|c| **c == Code::Mojibake).count(), 2);
    let fix = parsed.diagnostics.iter().find(|d| d.code == Code::Mojibake).unwrap().fix.clone().unwrap();
    assert_eq!(&text[fix.span.range()], "â€”");
    assert_eq!(fix.replacement, "—");
}

#[test]
fn dependency_clauses_in_their_spellings() {
    let text = "\
# M1 Implementation Plan: Deps

## Waves

### Wave 1: A
> No dependencies.

### Wave 2: B
> Depends on: Wave 1

### Wave 3: C
> Depends on: Waves 1 and 2.

### Wave 4: D
> **Depends on:** Wave 1, Wave 3. All tasks run in parallel. Must pass before shipping.

### Wave 5: E
";
    let parsed = plan::parse(text, "x");
    let deps: Vec<Vec<u32>> =
        parsed.plan.waves.iter().map(|w| w.depends_on.iter().map(|d| d.value).collect()).collect();
    assert_eq!(deps, [vec![], vec![1], vec![1, 2], vec![1, 3], vec![4]]);
    assert!(parsed.plan.waves[3].ship_gate);
    assert!(parsed.plan.waves[4].implicit_dependency);
    assert_eq!(codes(&parsed).iter().filter(|c| **c == Code::ImplicitDependency).count(), 1);
}

#[test]
fn schedule_runs_independent_waves_side_by_side() {
    let text = "\
# M1 Implementation Plan: Schedule

## Waves

### Wave 1: A
> No dependencies.

**Task 1.1** (type: auto)

**Task 1.2** (type: auto)

### Wave 2: B
> Depends on: Wave 1.

**Task 2.1** (type: auto)

### Wave 3: C
> Depends on: Wave 1. Tasks run sequentially.

**Task 3.1** (type: auto)

**Task 3.2** (type: auto)

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Solo | sonnet | 1.2, 1.1 |
| 2 | Other | haiku | 2.1 |
";
    let parsed = plan::parse(text, "x");
    let schedule = plan::Schedule::new(&parsed.plan);
    assert!(schedule.may_run_together(id("2.1"), id("3.1")), "waves 2 and 3 both only wait for wave 1");
    assert!(!schedule.may_run_together(id("1.1"), id("1.2")), "one agent runs one task at a time");
    assert!(!schedule.may_run_together(id("1.1"), id("2.1")), "wave 2 waits for wave 1");
    assert!(!schedule.may_run_together(id("3.1"), id("3.2")), "wave 3 is sequential");
    let order: Vec<String> = schedule.task_order().unwrap().iter().map(ToString::to_string).collect();
    assert_eq!(order, ["1.2", "1.1", "2.1", "3.1", "3.2"], "the agent's listed order wins within a wave");
    assert_eq!(schedule.critical_path(), Some(4), "1.2 → 1.1 → 3.1 → 3.2");
    assert_eq!(schedule.lanes().iter().filter(|l| l.default).count(), 2, "3.1 and 3.2 get default lanes");
}

#[test]
fn files_conflicts_need_tasks_that_can_overlap() {
    let base = |clause: &str| {
        format!(
            "# M1 Implementation Plan: C\n\n## Waves\n\n### Wave 1\n> No dependencies.\n\n\
             **Task 1.1** (type: auto)\n- **Files**: `src/lib/*.ts`\n\n\
             ### Wave 2\n> {clause}\n\n**Task 2.1** (type: auto)\n- **Files**: `src/lib/a.ts`\n"
        )
    };
    let conflicts =
        |text: &str| codes(&plan::parse(text, "x")).iter().filter(|c| **c == Code::ParallelFileConflict).count();
    assert_eq!(conflicts(&base("No dependencies.")), 1, "a glob covers the other task's path");
    assert_eq!(conflicts(&base("Depends on: Wave 1.")), 0, "the waves run one after the other");
}

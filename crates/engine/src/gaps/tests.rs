//! Tests of the follow-up plan on reports a run could leave: `check` accepts it whatever the
//! evidence holds, each gap lands in the right task and wave, and the text helpers quote what
//! they must.

use super::text::{code, evidence_lines, location_path, sh_quote, stem};
use super::*;
use crate::events::{
    AutomatedResult, GateCheck, GateFinding, MustHaveKind, MustHaveStatus, MustHaveVerdict, RunVerdict,
};
use crate::journal::TaskRecord;
use crate::report::{GateReport, TaskReport, Verification};
use plan::Severity;

const PLAN: &str = "# M7 Implementation Plan: Base

## Context

Base.

## must_haves

### truths (observable outcomes)
- It works

### artifacts (files produced)
- `src/a.py`

### key_links (where breakage cascades)
- `src/a.py` feeds `src/b.py`

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: `src/a.py`, `src/b.py`
- **Action**: Build it
- **Verify**: `true`
- **Done**: built

**Task 1.2** (type: auto)
- **Files**: `src/c.py`
- **Action**: Build c
- **Verify**: `python3 -c 'import c'`
- **Done**: c built

### Wave 2: Gates
> Depends on: Wave 1. Must pass before shipping.

**Task 2.1: Audit** (type: checkpoint:gate)
- **Skill**: `security-auditor`
- **Action**: Audit
- **Verify**: No findings.
- **Done**: 0 vulnerabilities

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Dev | haiku | 1.1, 1.2 |
| 2 | Auditor | opus | 2.1 |

## Verification

### Automated
```bash
make test    # 0 failures
```

### Manual
1. Try it
";

/// Markdown, HTML, template braces, mojibake, escapes, and lines that look like plan structure.
const NASTY: &str = "| a | b |\n`tick` ``` ```` fence\n<script>alert('x')</script>\n{{placeholder}} {placeholder} M{N}\n\
                     gates â€” unit tests\n# heading\n> quote\n- **Verify**: `rm -rf /`\n**Task 9.9** (type: auto)\n\
                     ## Waves\n\u{1b}[31mred\u{1b}[0m \u{7} \0 end\n\n\n";

fn task(id: &str, state: TaskState, reason: Option<&str>) -> TaskReport {
    TaskReport {
        record: TaskRecord {
            task: id.into(),
            state,
            attempts: 1,
            lane: None,
            commit: None,
            reason: reason.map(str::to_owned),
        },
        duration_ms: 0,
        model: None,
        agent: None,
        verify: Vec::new(),
        tokens_in: 0,
        tokens_out: 0,
        cost_usd: None,
        candidates: Vec::new(),
    }
}

fn verdict(kind: MustHaveKind, item: &str, verdict: MustHaveStatus, evidence: &str) -> MustHaveVerdict {
    MustHaveVerdict { kind, item: item.into(), verdict, evidence: evidence.into() }
}

fn report(tasks: Vec<TaskReport>, gates: Vec<GateReport>, verification: Option<Verification>) -> Report {
    Report {
        run: "20261127-041502-3f9a".into(),
        milestone: "M7".into(),
        title: format!("Base {NASTY}"),
        state: "failed".into(),
        branch: "wavecrew/M7".into(),
        base: "0123456789abcdef".into(),
        duration_ms: 0,
        tasks,
        checkpoints: Vec::new(),
        gates,
        verification,
        timeline: Default::default(),
        sandbox_denied: Vec::new(),
        pull_request: None,
        models: Vec::new(),
    }
}

/// The plan `check` sees, with its errors, placeholders and mojibake (none of them allowed).
fn checked(text: &str) -> Plan {
    let parsed = plan::parse(text, "gaps");
    let bad: Vec<String> = parsed
        .diagnostics
        .iter()
        .filter(|d| {
            d.severity() == Severity::Error
                || matches!(
                    d.code,
                    plan::Code::UnfilledPlaceholder
                        | plan::Code::Mojibake
                        | plan::Code::UnknownSection
                        | plan::Code::MissingTitle
                        | plan::Code::UnassignedTask
                )
        })
        .map(|d| format!("{:?} at {}: {}", d.code, d.span.start, d.message))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}\n{text}");
    parsed.plan
}

#[test]
fn evidence_full_of_markdown_never_breaks_the_plan() {
    let original = plan::parse(PLAN, "x").plan;
    let gates = vec![GateReport {
        task: "2.1".into(),
        skill: "security-auditor".into(),
        round: 1,
        verdict: crate::events::GateVerdict::Red,
        passed: false,
        unverified: Vec::new(),
        findings: vec![
            GateFinding {
                // A check this version does not know (a newer journal's) is escaped too.
                check: GateCheck::Unknown("pattern|`x`".into()),
                message: NASTY.into(),
                location: Some("src/a|b`c.py:3".into()),
            },
            GateFinding { check: GateCheck::Secret, message: NASTY.into(), location: Some("/etc/passwd:1".into()) },
            GateFinding { check: GateCheck::Secret, message: NASTY.into(), location: Some("../out.py:2:7".into()) },
            GateFinding { check: GateCheck::Dependency, message: NASTY.into(), location: None },
        ],
        metrics: Vec::new(),
        notes: Vec::new(),
        rounds: Vec::new(),
    }];
    let verification = Verification {
        verdict: RunVerdict::Failed,
        must_haves: vec![
            verdict(MustHaveKind::Truth, "Shows {{x}} and {placeholder} | `tick", MustHaveStatus::Manual, "a person"),
            verdict(MustHaveKind::Truth, "<script>x</script> {y}", MustHaveStatus::Manual, "a person"),
            verdict(MustHaveKind::Artifact, "weird `name` {x}.py", MustHaveStatus::Stub, NASTY),
            verdict(MustHaveKind::Artifact, "gone it's.py", MustHaveStatus::Missing, NASTY),
            verdict(MustHaveKind::Artifact, "lib/extra.py", MustHaveStatus::Orphaned, NASTY),
            verdict(MustHaveKind::KeyLink, "`src/a.py` feeds `src/b.py`", MustHaveStatus::NotWired, NASTY),
            verdict(MustHaveKind::Artifact, "src/a.py", MustHaveStatus::Verified, "fine"),
        ],
        automated: vec![AutomatedResult {
            command: "echo `date` | grep -c '{x}' ```".into(),
            expectation: Some("{count} | ``` lines".into()),
            status: crate::events::AutomatedStatus::Failed,
            exit_code: Some(1),
            detail: NASTY.into(),
        }],
        manual: vec!["Try it".into()],
        manual_signed_off: false,
    };
    let tasks = vec![
        task("1.1", TaskState::Committed, None),
        task("1.2", TaskState::Failed, Some(NASTY)),
        task("2.1", TaskState::Failed, Some(NASTY)),
    ];
    let report = report(tasks, gates, Some(verification));
    let source = Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: None };
    let text = generate(&source).expect("gaps");
    let plan = checked(&text);
    assert_eq!(plan.milestone, "M7-gaps");
    assert!(plan.title.starts_with("Close the gaps of Base"), "{}", plan.title);
    for task in &plan.tasks {
        for command in &task.verify_commands {
            assert!(!command.value.contains("rm -rf"), "evidence never becomes a command: {text}");
        }
    }
    // The fixes, the redone task 1.2 (with it), then the gate again.
    let waves: Vec<(&str, usize)> =
        plan.waves.iter().map(|w| (w.name.as_deref().unwrap_or(""), w.tasks.len())).collect();
    assert_eq!(waves.first().map(|w| w.0), Some("Fixes"), "{text}");
    assert_eq!(waves.last().copied(), Some(("Quality Gates", 1)), "{text}");
    let gate = plan.tasks.last().unwrap();
    assert_eq!(gate.kind, TaskType::Gate);
    assert_eq!(gate.skills[0].value, "security-auditor");
    assert_eq!(plan.agent_of(gate.id).map(|a| (a.name.as_str(), a.model.as_deref())), Some(("Auditor", Some("opus"))));
    // No path outside the repository gets into Files; the odd one inside does.
    let files: Vec<&str> = plan.tasks.iter().flat_map(|t| t.files.iter().map(|f| f.value.as_str())).collect();
    assert!(!files.iter().any(|f| f.contains("passwd") || f.contains("..")), "{files:?}");
    assert!(files.contains(&"src/a|b`c.py"), "{files:?}");
    // The failed Automated command is a Verify command of its task, verbatim.
    assert!(
        plan.tasks.iter().any(|t| t.verify_commands.iter().any(|c| c.value == "echo `date` | grep -c '{x}' ```")),
        "{text}"
    );
    let manual: Vec<&str> = plan.verification.manual.iter().map(|m| m.value.as_str()).collect();
    assert_eq!(manual.len(), 3, "{manual:?}");
    assert_eq!(manual[0], "Try it");
    assert_eq!(plan.must_haves.artifacts[0].path.as_deref(), Some("src/a.py"));
    assert_eq!(plan.verification.automated[0].command, "make test");
    assert!(text.contains("gates — unit tests") && !text.contains('\u{1b}') && !text.contains('\0'), "{text}");
}

#[test]
fn a_review_finding_is_fixed_at_its_place_and_an_unproven_truth_is_a_manual_step() {
    let original = plan::parse(PLAN, "x").plan;
    let gates = vec![GateReport {
        task: "2.1".into(),
        skill: "security-auditor".into(),
        round: 2,
        verdict: crate::events::GateVerdict::Red,
        passed: false,
        unverified: Vec::new(),
        findings: vec![GateFinding {
            check: GateCheck::Review,
            message: "P2 Input validation at trust boundaries: `name` may hold `../` (FAIL in the agent's review, at src/a.py:5)".into(),
            location: Some("src/a.py:5".into()),
        }],
        metrics: Vec::new(),
        notes: vec!["FAIL without valid evidence: P5 Secrets handling: a guess; cited src/a.py:999 does not exist".into()],
        rounds: Vec::new(),
    }];
    let verification = Verification {
        verdict: RunVerdict::Unverified,
        must_haves: vec![verdict(
            MustHaveKind::Truth,
            "It greets the world",
            MustHaveStatus::Manual,
            "UNPROVEN by the verifier: no test shows it",
        )],
        automated: Vec::new(),
        manual: Vec::new(),
        manual_signed_off: false,
    };
    let tasks = vec![
        task("1.1", TaskState::Committed, None),
        task("1.2", TaskState::Committed, None),
        task("2.1", TaskState::Failed, Some("needs-human: the gate is still red")),
    ];
    let report = report(tasks, gates, Some(verification));
    let source = Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: None };
    let text = generate(&source).expect("gaps");
    let plan = checked(&text);
    let fix = &plan.tasks[0];
    assert_eq!(fix.files.iter().map(|f| f.value.as_str()).collect::<Vec<_>>(), ["src/a.py"], "{text}");
    let action = &fix.action.as_ref().unwrap().value;
    assert!(action.contains("found a `review` problem at `src/a.py:5`") && action.contains("may hold"), "{text}");
    assert!(!text.contains("P5 Secrets handling"), "a FAIL without evidence is not a gap: {text}");
    let manual: Vec<&str> = plan.verification.manual.iter().map(|m| m.value.as_str()).collect();
    assert_eq!(manual, ["Try it", "Confirm: It greets the world"], "the plan's Manual steps, then the truths");
}

#[test]
fn many_gaps_are_capped_and_the_rest_merged_into_one_task() {
    let original = plan::parse(PLAN, "x").plan;
    let must_haves: Vec<MustHaveVerdict> = (0..30)
        .map(|i| verdict(MustHaveKind::Artifact, &format!("gen/f{i}.py"), MustHaveStatus::Missing, "not there"))
        .collect();
    let verification = Verification {
        verdict: RunVerdict::Failed,
        must_haves,
        automated: Vec::new(),
        manual: Vec::new(),
        manual_signed_off: false,
    };
    let tasks = vec![task("1.1", TaskState::Committed, None), task("1.2", TaskState::Committed, None)];
    let report = report(tasks, Vec::new(), Some(verification));
    let source = Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: None };
    let text = generate(&source).unwrap();
    let plan = checked(&text);
    assert_eq!(plan.tasks.len(), MAX_FIX_TASKS, "{text}");
    let last = plan.tasks.last().unwrap();
    assert_eq!(last.files.len(), 11, "gen/f19.py to gen/f29.py");
    assert_eq!(last.title.as_deref(), Some("Close 11 remaining gaps"));
    // Different files: one agent each, all in parallel.
    assert_eq!(plan.agents.len(), MAX_FIX_TASKS);
}

#[test]
fn nothing_undone_is_nothing_to_close() {
    let original = plan::parse(PLAN, "x").plan;
    let verification = Verification {
        verdict: RunVerdict::Passed,
        must_haves: vec![
            verdict(MustHaveKind::Truth, "It works", MustHaveStatus::Manual, "a person"),
            verdict(MustHaveKind::Artifact, "src/a.py", MustHaveStatus::Verified, "ok"),
        ],
        automated: Vec::new(),
        manual: Vec::new(),
        manual_signed_off: false,
    };
    let tasks = ["1.1", "1.2", "2.1"].map(|id| task(id, TaskState::Committed, None)).into();
    let report = report(tasks, Vec::new(), Some(verification));
    let source = Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: None };
    assert!(generate(&source).is_none());
}

#[test]
fn skipped_work_keeps_its_wave_order_and_gaps_join_the_task_of_their_file() {
    let original = plan::parse(PLAN, "x").plan;
    let verification = Verification {
        verdict: RunVerdict::Unverified,
        must_haves: vec![verdict(
            MustHaveKind::Artifact,
            "src/c.py",
            MustHaveStatus::Missing,
            "`src/c.py` is not on the run branch",
        )],
        automated: Vec::new(),
        manual: Vec::new(),
        manual_signed_off: false,
    };
    let tasks = vec![
        task("1.1", TaskState::Committed, None),
        task("1.2", TaskState::Failed, Some("Verify `python3 -c 'import c'` exited with code 1")),
        task("2.1", TaskState::Skipped, Some("task 1.2 failed")),
    ];
    let report = report(tasks, Vec::new(), Some(verification));
    let source = Source { report: &report, plan: &original, milestone: "M7-gaps", checked_at: Some("abcdef0123456") };
    let text = generate(&source).unwrap();
    let plan = checked(&text);
    let ids: Vec<String> = plan.tasks.iter().map(|t| t.id.to_string()).collect();
    assert_eq!(ids, ["1.1", "2.1"], "{text}");
    let redo = &plan.tasks[0];
    assert_eq!(redo.files[0].value, "src/c.py");
    let commands: Vec<&str> = redo.verify_commands.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(commands, ["python3 -c 'import c'", "test -s src/c.py"], "{text}");
    assert!(redo.action.as_ref().unwrap().contains("MISSING"), "{text}");
    assert_eq!(plan.waves[0].name.as_deref(), Some("Finish Build"));
    assert!(plan.context.contains("`abcdef0123`"), "{}", plan.context);
    // The redone task keeps its agent; the commit line its (default) type.
    assert_eq!(plan.agent_of(redo.id).map(|a| a.name.as_str()), Some("Dev"));
    assert!(text.contains("feat(M7-gaps): {task 1.1 description}"), "{text}");
}

#[test]
fn follow_up_ids_count_up() {
    assert_eq!(follow_up_id("M1"), "M1-gaps");
    assert_eq!(follow_up_id("M1-gaps"), "M1-gaps2");
    assert_eq!(follow_up_id("M1-gaps9"), "M1-gaps10");
    assert_eq!(follow_up_id("M1-gapsx"), "M1-gapsx-gaps");
    assert_eq!(follow_up_id("{N}"), "N-gaps");
}

#[test]
fn text_helpers_quote_what_they_must() {
    assert_eq!(code("a`b"), "`` a`b ``");
    assert_eq!(code("plain"), "`plain`");
    assert_eq!(location_path("src/a.rs:12:3"), "src/a.rs");
    assert_eq!(location_path("./a.rs"), "a.rs");
    assert_eq!(sh_quote("it's"), "'it'\\''s'");
    assert_eq!(sh_quote("src/a.py"), "src/a.py");
    assert_eq!(stem("src/components/LoginForm.tsx"), "LoginForm");
    assert!(!safe_path("../a") && !safe_path("/a") && !safe_path("C:/a") && safe_path("a/b.c"));
    assert_eq!(evidence_lines("\n\nx\n\u{1b}[1my\u{1b}[0m\n"), ["x", "y"]);
}

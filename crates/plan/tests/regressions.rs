//! Regression tests, each named after the bug it pins.

use plan::Code;

fn parse(body: &str) -> plan::Parsed {
    plan::parse(&format!("# M1 Implementation Plan: R\n\n## Waves\n\n{body}"), "r")
}

fn count(parsed: &plan::Parsed, code: Code) -> usize {
    parsed.diagnostics.iter().filter(|d| d.code == code).count()
}

#[test]
fn depends_on_followed_by_text_that_changes_length_when_lowercased_does_not_panic() {
    for clause in ["> Depends on: İİİİİİİİİİİİİİİİ", "> Depends on:é**", "> DEPENDS ON: Wave 1 ẞ"] {
        let parsed = parse(&format!("### Wave 1\n> No dependencies.\n\n### Wave 2\n{clause}\n"));
        assert!(count(&parsed, Code::UnknownWave) >= 1 || parsed.plan.waves[1].depends_on.len() == 1, "{clause}");
    }
}

#[test]
fn tasks_cell_with_and_lists_every_id() {
    let parsed = plan::parse(
        "# M1 Implementation Plan: R\n\n## Waves\n\n### Wave 1\n> No dependencies.\n\n\
         **Task 1.1** (type: auto)\n\n**Task 1.2** (type: auto)\n\n**Task 1.3** (type: auto)\n\n\
         ## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n|---|---|---|---|\n| 1 | A | m | Task 1.1, 1.2 and 1.3 |\n",
        "r",
    );
    let ids: Vec<String> = parsed.plan.agents[0].tasks.iter().map(|t| t.value.to_string()).collect();
    assert_eq!(ids, ["1.1", "1.2", "1.3"]);
    assert_eq!(count(&parsed, Code::UnknownTask), 0);
}

#[test]
fn depends_on_none_without_colon_and_parenthetical_comments() {
    let parsed = parse(
        "### Wave 1\n> Depends on none.\n\n### Wave 2\n> Depends on Wave 1 (the data layer).\n\n\
         ### Wave 3\n> Depends on: nothing\n",
    );
    assert_eq!(count(&parsed, Code::UnknownWave), 0, "{:?}", parsed.diagnostics);
    let deps: Vec<Vec<u32>> =
        parsed.plan.waves.iter().map(|w| w.depends_on.iter().map(|d| d.value).collect()).collect();
    assert_eq!(deps, [vec![], vec![1], vec![]]);
}

#[test]
fn wave_notes_keep_their_markup() {
    let parsed = parse("### Wave 1\n> No dependencies. Uses `snake_case` names.\n");
    assert_eq!(parsed.plan.waves[0].notes[0].value, "Uses `snake_case` names.");
}

#[test]
fn a_note_saying_in_order_does_not_make_the_wave_sequential() {
    let parsed = parse("### Wave 1\n> No dependencies. Keep imports in order.\n");
    assert!(parsed.plan.waves[0].parallel);
}

#[test]
fn tasks_outside_any_wave_are_errors_not_silence() {
    let parsed = parse("#### Wave 1\n\n**Task 1.1** (type: auto)\n");
    assert!(parsed.plan.tasks.is_empty());
    assert_eq!(count(&parsed, Code::TaskWaveMismatch), 1);
    assert_eq!(count(&parsed, Code::MissingWaves), 1, "a Waves section without waves has nothing to run");
}

#[test]
fn files_annotations_are_kept_in_the_model() {
    let parsed = parse("### Wave 1\n> No dependencies.\n\n**Task 1.1** (type: auto)\n- **Files**: `src/a.rs` (new)\n");
    let task = &parsed.plan.tasks[0];
    assert_eq!(task.files[0].value, "src/a.rs");
    assert_eq!(task.files_text.as_ref().map(|t| t.value.as_str()), Some("`src/a.rs` (new)"));
}

#[test]
fn a_placeholder_split_by_emphasis_is_still_found() {
    let text = "# M1 Implementation Plan: R\n\n## Waves\n\n### Wave 1\n> No dependencies.\n\n{x*y} and `{in code}`\n";
    let parsed = plan::parse(text, "r");
    let found: Vec<&str> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::UnfilledPlaceholder)
        .map(|d| &text[d.span.range()])
        .collect();
    assert_eq!(found, ["{x*y}"]);
}

#[test]
fn globs_and_directories_conflict_with_what_they_cover() {
    for (a, b) in [("`tests/*.ts`", "`tests/*.test.ts`"), ("`src/`", "`src/lib.rs`"), ("`src/`", "`src/*.rs`")] {
        let parsed = parse(&format!(
            "### Wave 1\n> No dependencies.\n\n**Task 1.1** (type: auto)\n- **Files**: {a}\n\n\
             **Task 1.2** (type: auto)\n- **Files**: {b}\n"
        ));
        assert_eq!(count(&parsed, Code::ParallelFileConflict), 1, "{a} vs {b}");
    }
    let apart = parse(
        "### Wave 1\n> No dependencies.\n\n**Task 1.1** (type: auto)\n- **Files**: `src/*.ts`\n\n\
         **Task 1.2** (type: auto)\n- **Files**: `src/lib/a.ts`\n",
    );
    assert_eq!(count(&apart, Code::ParallelFileConflict), 0, "`*` does not cross `/`");
}

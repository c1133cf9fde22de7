//! Property tests: the parser never panics, `format` is idempotent, and formatting never
//! changes what a plan means (`parse(format(x))` equals `parse(x)` as a model).

use proptest::prelude::*;
use serde_json::Value;

/// The model as JSON without spans: formatting may move text, never change it.
fn model_without_spans(text: &str) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("span");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(plan::parse(text, "prop").plan).unwrap();
    strip(&mut value);
    value
}

/// Lines that plans are made of, in shapes both right and wrong, mixed with noise.
fn plan_line() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "# M3 Implementation Plan: Rooms",
        "# Some title",
        "## Context",
        "## must_haves",
        "### artifacts",
        "### truths",
        "## Waves",
        "## Agent Strategy",
        "## Commit Strategy",
        "## Verification",
        "### Automated",
        "### Manual",
        "## Risks",
        "> No dependencies. All tasks run in parallel.",
        "> Depends on: Waves 1 and 2. Tasks run sequentially.",
        "> Must pass before shipping.",
        "```",
        "```bash",
        "",
        "",
        "",
        "| Wave | Agent | Model | Tasks |",
        "|------|:------|------:|:-----:|",
        "- **Action**: gates â€” tests",
        "- **Verify**: `cargo test` and `npm run x`",
        "- **Files**: `src/a.rs`, UI components, `../x`",
        "- **Skill**: `production-engineer`",
        "- **Attempts**: 3 parallel",
        "- **Verify**: Run `npm run dev` and open `/room/1`. `npm test` passes",
        "feat(M3): add the room panel",
        "  continued value",
        "    - nested item",
        "1. step one",
        "feat(M3): {task 1.1 description}",
        "cargo test   # passes",
        "caf\u{c3}\u{a9} \u{c3}\u{a9}t\u{c3}\u{a9}",
        "|",
        "| \\| escaped | `a|b` |",
    ])
    .prop_map(str::to_owned);
    prop_oneof![
        4 => fixed,
        2 => (1u32..4, 1u32..4, prop::sample::select(vec!["auto", "checkpoint:gate", "checkpoint:human-verify", "odd"]))
            .prop_map(|(w, k, t)| format!("**Task {w}.{k}** (type: {t})")),
        2 => (1u32..4, "[ a-zA-Z]{0,8}").prop_map(|(n, name)| format!("### Wave {n}:{name}")),
        3 => (prop::sample::select(vec!["Files", "Action", "Verify", "Done", "Skill", "Owner", "files", "Attempts"]), "[ -~]{0,16}")
            .prop_map(|(field, value)| format!("- **{field}**: {value}")),
        2 => ("[ 0-9]{0,3}", "[ a-zA-Z]{0,10}", "[ a-z]{0,6}", "[ 0-9.,()a-z]{0,10}")
            .prop_map(|(a, b, c, d)| format!("| {a} | {b} | {c} | {d} |")),
        2 => "[ -~]{0,30}",
        1 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

/// A task: header, then its fields in any order, with values from `plan_line`-like noise.
fn task(wave: u32) -> impl Strategy<Value = String> {
    let field = (
        prop::sample::select(vec![
            "Files", "Action", "Verify", "Done", "Skill", "Owner", "files", "Files:", "Attempts",
        ]),
        prop::sample::select(vec![
            "`src/a.rs`, `src/b/*.rs`",
            "UI components",
            "gates â€” tests",
            "`cargo test` then `npm test`",
            "{What to implement}",
            "multi\n  line *value*",
            "Run `npm run dev` and open `/room/1`.\n  Then check `a`; `cargo test` passes",
            "2 parallel",
            "",
        ]),
        "[ -~]{0,8}",
    )
        .prop_map(|(name, value, tail)| {
            let (name, colon) = name.strip_suffix(':').map_or((name, ":"), |n| (n, ""));
            let inner = if colon.is_empty() { format!("{name}:") } else { name.to_owned() };
            format!("- **{inner}**{colon} {value}{tail}")
        });
    (
        1u32..4,
        prop::sample::select(vec!["auto", "checkpoint:gate", "checkpoint:human-verify", "odd"]),
        prop::collection::vec(field, 0..7).prop_shuffle(),
        prop::option::of(plan_line()),
    )
        .prop_map(move |(k, kind, fields, note)| {
            let mut out = format!("**Task {wave}.{k}** (type: {kind})\n{}", fields.join("\n"));
            if let Some(note) = note {
                out.push_str(&format!("\n\n{note}"));
            }
            out
        })
}

fn wave(number: u32) -> impl Strategy<Value = String> {
    (
        prop::option::of(prop::sample::select(vec![
            "> No dependencies. All tasks run in parallel.",
            "> Depends on: Wave 1. Tasks run sequentially.",
            "> Depends on: Waves 1 and 3. Must pass before shipping.",
            "> Depends on: Wave 9, Wave x",
        ])),
        prop::collection::vec(task(number), 0..4),
    )
        .prop_map(move |(clause, tasks)| {
            format!("### Wave {number}: W\n{}\n\n{}", clause.unwrap_or_default(), tasks.join("\n\n"))
        })
}

fn agent_table() -> impl Strategy<Value = String> {
    let row = ("[0-9]{0,2}", "[A-Za-z ]{0,12}", "[a-z]{0,6}", "[0-9.,() a-z]{0,14}")
        .prop_map(|(w, a, m, t)| format!("|{w}| {a} |{m}|  {t} |"));
    (prop::collection::vec(row, 0..6), prop::sample::select(vec!["|---|---|---|---|", "|:--|--:|:-:|-|"])).prop_map(
        |(rows, delimiter)| {
            format!("## Agent Strategy\n\n| Wave | Agent | Model | Tasks |\n{delimiter}\n{}", rows.join("\n"))
        },
    )
}

/// A whole plan: title, sections in any order, noise between them, LF or CRLF.
fn plan_text() -> impl Strategy<Value = String> {
    let sections = (
        prop::collection::vec(wave(1), 0..2),
        prop::collection::vec(wave(2), 0..2),
        prop::collection::vec(wave(3), 0..2),
        agent_table(),
    )
        .prop_map(|(w1, w2, w3, agents)| {
            vec![
                format!("## Waves\n\n{}\n{}\n{}", w1.join("\n"), w2.join("\n"), w3.join("\n")),
                agents,
                "## Commit Strategy\n\n```\nfeat(M3): {task 1.1 description}\nnot conventional\n```".to_owned(),
                "## Context\n\n| a | b |\n|---|---|\n| 1 |  2 |".to_owned(),
            ]
        })
        .prop_shuffle();
    (sections, prop::collection::vec(plan_line(), 0..8), any::<bool>()).prop_map(|(sections, noise, crlf)| {
        let mut parts = vec!["# M3 Implementation Plan: Rooms".to_owned()];
        for (i, section) in sections.into_iter().enumerate() {
            parts.push(section);
            if let Some(line) = noise.get(i) {
                parts.push(line.clone());
            }
        }
        let text = parts.join("\n\n") + "\n";
        if crlf { text.replace('\n', "\r\n") } else { text }
    })
}

/// Plan-shaped lines alone, for the noisiest inputs.
fn plan_lines() -> impl Strategy<Value = String> {
    prop::collection::vec(plan_line(), 0..60).prop_map(|lines| lines.join("\n") + "\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(decoded) = plan::decode(&bytes) {
            let parsed = plan::parse(decoded.text, "prop");
            for diagnostic in &parsed.diagnostics {
                prop_assert!(diagnostic.span.start <= diagnostic.span.end && diagnostic.span.end <= decoded.text.len());
                prop_assert!(decoded.text.is_char_boundary(diagnostic.span.start));
                prop_assert!(decoded.text.is_char_boundary(diagnostic.span.end));
            }
            let _ = plan::format(decoded.text);
        }
    }

    #[test]
    fn any_string_never_panics_and_formats_idempotently(text in any::<String>()) {
        let _ = plan::parse(&text, "prop");
        let once = plan::format(&text);
        prop_assert_eq!(plan::format(&once), once);
    }

    #[test]
    fn format_is_idempotent_on_plan_shaped_text(text in plan_text()) {
        let once = plan::format(&text);
        prop_assert_eq!(plan::format(&once), once);
    }

    #[test]
    fn format_is_idempotent_and_keeps_the_model_of_loose_lines(text in plan_lines()) {
        let once = plan::format(&text);
        prop_assert_eq!(plan::format(&once), once.clone());
        prop_assert_eq!(model_without_spans(&once), model_without_spans(&text));
    }

    #[test]
    fn format_keeps_the_model(text in plan_text()) {
        let formatted = plan::format(&text);
        prop_assert_eq!(model_without_spans(&formatted), model_without_spans(&text));
    }

    #[test]
    fn long_running_never_panics(text in any::<String>(), words in prop::collection::vec(
        prop::sample::select(vec!["npm", "run", "dev", "&", "&&", "|", ";", "vitest", "CI=1", "'", "\"", "\\", "(", "-m", "python", "timeout", "--watch", "-w", "\n"]),
        0..12,
    )) {
        let _ = plan::long_running(&text);
        let _ = plan::long_running(&words.join(" "));
        let _ = plan::long_running(&words.concat());
    }

    #[test]
    fn verify_spans_are_either_run_or_shown_never_both(text in plan_text()) {
        for task in plan::parse(&text, "prop").plan.tasks {
            if task.kind != plan::TaskType::HumanVerify {
                prop_assert!(task.verify_steps.is_empty(), "task {}", task.id);
            }
            for step in &task.verify_steps {
                prop_assert!(step.value.contains('`'), "a step holds a command: {:?}", step.value);
                for command in &task.verify_commands {
                    prop_assert!(command.span.end <= step.span.start || step.span.end <= command.span.start);
                }
            }
        }
    }

    #[test]
    fn format_keeps_the_line_endings(text in plan_text()) {
        let formatted = plan::format(&text);
        let crlf = |s: &str| s.matches("\r\n").count();
        let lf = |s: &str| s.matches('\n').count();
        prop_assert_eq!(lf(&formatted), lf(&text));
        prop_assert_eq!(crlf(&formatted), crlf(&text));
    }
}

#[test]
fn format_keeps_the_model_of_every_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for name in ["template.plan.md", "wordfreq.plan.md", "broken.plan.md"] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        let formatted = plan::format(&text);
        assert_eq!(model_without_spans(&formatted), model_without_spans(&text), "{name}");
        assert_eq!(plan::format(&formatted), formatted, "{name}");
    }
}

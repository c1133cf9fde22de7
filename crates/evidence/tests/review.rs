//! Reviewers' answers as agents write them, the evidence they cite, and properties over
//! generated answers.

use evidence::review::{
    Evidence, Kind, PRINCIPLES, Rerun, THREATS, TruthVerdict, Verdict, answer_for, check_command, check_place,
    cited_files, judge, output_contains, parse_findings, parse_security, parse_truths,
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A complete security review: every principle and threat PASS, except those in `overrides`.
fn security_answer(overrides: &[(&str, Value)]) -> String {
    let entry = |key: &str, id: &str| {
        overrides
            .iter()
            .find(|(o, _)| *o == id)
            .map(|(_, v)| {
                let mut v = v.clone();
                v[key] = json!(id);
                v
            })
            .unwrap_or_else(|| json!({key: id, "verdict": "PASS", "message": "holds"}))
    };
    let principles: Vec<Value> = PRINCIPLES.iter().map(|(id, _)| entry("principle", id)).collect();
    let threats: Vec<Value> = THREATS.iter().map(|(id, _)| entry("threat", id)).collect();
    serde_json::to_string_pretty(&json!({"principles": principles, "threats": threats})).unwrap()
}

/// `src/app.py` has 40 lines, `README.md` 3; nothing else exists.
fn lines_of(path: &str) -> Option<usize> {
    match path {
        "src/app.py" => Some(40),
        "README.md" => Some(3),
        _ => None,
    }
}

#[test]
fn a_fail_citing_a_line_that_exists_is_a_finding_at_that_line() {
    let answer = security_answer(&[(
        "P5",
        json!({"verdict": "FAIL", "message": "The API token is hard-coded.",
               "evidence": [{"file": "src/app.py", "line": 12}, {"file": "./src/app.py", "line": 13}]}),
    )]);
    let review = parse_security(&answer).unwrap();
    assert_eq!(review.items.len(), 20);
    let judged = judge(&review, lines_of);
    assert_eq!(judged.findings.len(), 1, "{judged:?}");
    assert_eq!(judged.findings[0].location, "src/app.py:12");
    assert_eq!(
        judged.findings[0].message,
        "P5 Secrets handling: The API token is hard-coded. (FAIL in the agent's review, at src/app.py:12, src/app.py:13)"
    );
    assert!(judged.without_evidence.is_empty());
    assert_eq!(judged.summary, "principles: 9 PASS, 1 FAIL; threats: 10 PASS");
}

#[test]
fn a_fail_citing_lines_that_do_not_exist_is_reported_without_valid_evidence() {
    let answer = security_answer(&[
        (
            "P2",
            json!({"verdict": "FAIL", "message": "unchecked path", "evidence": [{"file": "src/app.py", "line": 999}]}),
        ),
        (
            "ASI05",
            json!({"verdict": "fail", "message": "eval of input", "evidence": ["src/gone.py:3", {"file": "src/app.py", "line": 0}]}),
        ),
        ("ASI01", json!({"verdict": "FAIL", "message": "  "})),
        ("P8", json!({"verdict": "N/A"})),
    ]);
    let judged = judge(&parse_security(&answer).unwrap(), lines_of);
    assert!(judged.findings.is_empty(), "{judged:?}");
    assert_eq!(
        judged.without_evidence,
        [
            "FAIL without valid evidence: P2 Input validation at trust boundaries: unchecked path; cited src/app.py:999 does not exist (src/app.py has 40 lines)",
            "FAIL without valid evidence: ASI01 Agent Goal Hijack: no reason given; it cites no file and line",
            "FAIL without valid evidence: ASI05 Unexpected Code Execution: eval of input; cited src/gone.py:3 does not exist: there is no file src/gone.py; cited src/app.py:0 does not exist (lines start at 1)",
        ]
    );
    assert_eq!(judged.summary, "principles: 8 PASS, 1 FAIL, 1 N/A; threats: 8 PASS, 2 FAIL");
}

#[test]
fn a_fail_with_one_good_citation_among_bad_ones_is_a_finding_that_says_what_was_wrong() {
    let answer = r#"{"findings": [{"verdict": "FAIL", "message": "the README lies",
        "evidence": [{"file": "../secret", "line": 1}, {"command": "cat README.md", "output": "x"},
                     {"file": "README.md", "line": "2"}, {"fil": "README.md"}, 7]}]}"#;
    let judged = judge(&parse_findings(answer).unwrap(), lines_of);
    assert_eq!(judged.findings.len(), 1);
    let finding = &judged.findings[0];
    assert_eq!(finding.location, "README.md:2");
    for part in [
        "the README lies (FAIL in the agent's review, at README.md:2)",
        "cited `../secret` is not a path inside the repository",
        "cited command `cat README.md` is not evidence here",
        "unknown field `fil`",
        "`7` is not evidence",
    ] {
        assert!(finding.message.contains(part), "{part:?} in {}", finding.message);
    }
}

#[test]
fn invalid_json_says_where() {
    let error = parse_security("{\n  \"principles\": [\n    {\"principle\": \"P1\" \"verdict\": \"PASS\"}\n  ]\n}")
        .unwrap_err();
    assert_eq!(error.to_string(), "is not valid JSON: expected `,` or `}` at line 3 column 24");
    let fenced = parse_findings("```json\n{\"findings\": []}\n```").unwrap_err().to_string();
    assert!(fenced.starts_with("is not valid JSON") && fenced.ends_with("without a Markdown fence)"), "{fenced}");
    assert_eq!(parse_findings(" \n\t").unwrap_err().to_string(), "is empty");
    assert_eq!(parse_findings("\u{feff} {\"findings\": []} \n").unwrap().items, []);
}

#[test]
fn a_wrong_shape_names_the_field() {
    let error = parse_findings(r#"{"findings": [{"verdict": "FAIL", "mesage": "x"}]}"#).unwrap_err().to_string();
    assert!(
        error.starts_with("does not have the expected shape {\"findings\": […]}: unknown field `mesage`"),
        "{error}"
    );
    let error = parse_security(r#"{"principles": []}"#).unwrap_err().to_string();
    assert!(error.contains("missing field `threats`"), "{error}");
    let error = parse_findings(r#"[{"verdict": "FAIL"}]"#).unwrap_err().to_string();
    assert_eq!(error, "is an array, not an object {\"findings\": […]}");
}

#[test]
fn a_security_review_must_answer_everything_once_with_known_words() {
    let mut partial: Value = serde_json::from_str(&security_answer(&[])).unwrap();
    partial["principles"].as_array_mut().unwrap().remove(3);
    partial["threats"].as_array_mut().unwrap().truncate(8);
    let error = parse_security(&partial.to_string()).unwrap_err().to_string();
    assert_eq!(
        error,
        "leaves out principle P4 (Authentication and authorization), threat ASI09 (Human-Agent Trust Exploitation), threat ASI10 (Rogue Agents): answer every principle and every threat, N/A where one does not apply"
    );

    let mut twice: Value = serde_json::from_str(&security_answer(&[])).unwrap();
    twice["principles"][1]["principle"] = json!("p1");
    assert_eq!(
        parse_security(&twice.to_string()).unwrap_err().to_string(),
        "answers principle P1 twice: give one entry per principle"
    );

    let mut unknown: Value = serde_json::from_str(&security_answer(&[])).unwrap();
    unknown["threats"][0]["threat"] = json!("LLM01");
    assert_eq!(
        parse_security(&unknown.to_string()).unwrap_err().to_string(),
        "names `LLM01`, which is not a threat (ASI01..ASI10)"
    );

    let maybe = security_answer(&[("P3", json!({"verdict": "MAYBE"}))]);
    assert_eq!(
        parse_security(&maybe).unwrap_err().to_string(),
        "gives `MAYBE` as the verdict of principle P3: use PASS, FAIL or N/A"
    );
}

#[test]
fn ids_and_names_are_read_loosely() {
    let mut loose: Value = serde_json::from_str(&security_answer(&[])).unwrap();
    loose["principles"][2]["principle"] = json!(" p03 ");
    loose["principles"][4]["principle"] = json!("Secrets handling");
    loose["threats"][4]["threat"] = json!("ASI-05 Unexpected Code Execution");
    loose["threats"][4]["verdict"] = json!(" not applicable ");
    let review = parse_security(&loose.to_string()).unwrap();
    let threat = review.items.iter().find(|i| i.subject.starts_with("ASI05")).unwrap();
    assert_eq!((threat.kind, threat.verdict), (Kind::Threat, Verdict::NotApplicable));
}

#[test]
fn pass_claims_are_counted_not_checked() {
    let answer =
        security_answer(&[("P1", json!({"verdict": "PASS", "evidence": [{"file": "nowhere.rs", "line": 5}]}))]);
    let judged = judge(&parse_security(&answer).unwrap(), lines_of);
    assert!(judged.findings.is_empty() && judged.without_evidence.is_empty());
    assert_eq!(judged.summary, "principles: 10 PASS; threats: 10 PASS");
    assert_eq!(judge(&parse_findings(r#"{"findings": []}"#).unwrap(), lines_of).summary, "no findings");
}

#[test]
fn evidence_is_read_in_every_form_agents_write() {
    let answer = r#"{"truths": [{"truth": "T1", "verdict": "proven", "note": " by the test ",
        "evidence": [{"file": "src/app.py:7"}, "src/app.py:8", {"file": " src/app.py ", "line": " 9 "},
                     {"command": " pytest -k greet ", "output": "1 passed"}, {"command": "pytest"},
                     {"file": "a", "line": 1, "command": "b", "output": "c"}, {"file": "a", "line": -1}, {}]}]}"#;
    let answers = parse_truths(answer).unwrap();
    let evidence = &answers[0].evidence;
    assert_eq!(answers[0].note, "by the test");
    assert_eq!(evidence[0], Evidence::Place { file: "src/app.py".into(), line: 7 });
    assert_eq!(evidence[1], Evidence::Place { file: "src/app.py".into(), line: 8 });
    assert_eq!(evidence[2], Evidence::Place { file: "src/app.py".into(), line: 9 });
    assert_eq!(evidence[3], Evidence::Command { command: "pytest -k greet".into(), output: "1 passed".into() });
    let malformed: Vec<String> = evidence[4..]
        .iter()
        .map(|e| match e {
            Evidence::Malformed(why) => why.clone(),
            other => panic!("malformed expected, got {other:?}"),
        })
        .collect();
    assert_eq!(
        malformed,
        [
            "the command `pytest` is cited without the `output` (text) it prints",
            "a piece of evidence is a place or a command, not both: split it in two",
            "the `line` cited in `a` is not a line number",
            "a piece of evidence needs `file` and `line`, or `command` and `output`",
        ]
    );
    assert_eq!(cited_files(evidence).into_iter().collect::<Vec<_>>(), ["src/app.py"], "places only, once each");
}

#[test]
fn truths_are_found_by_id_or_by_text() {
    let answers = parse_truths(
        r#"{"truths": [
            {"truth": "t2", "verdict": "UNPROVEN"},
            {"truth": "`python3 -m app` prints  hello, world.", "verdict": "PROVEN"},
            {"truth": "T3: the tests pass", "verdict": "PROVEN"}]}"#,
    )
    .unwrap();
    assert_eq!(answer_for(&answers, 1, "anything").map(|a| a.verdict), Some(TruthVerdict::Unproven));
    assert_eq!(
        answer_for(&answers, 0, "python3 -m app prints hello, world").map(|a| a.verdict),
        Some(TruthVerdict::Proven)
    );
    assert_eq!(answer_for(&answers, 2, "The tests pass").map(|a| a.truth.as_str()), Some("T3: the tests pass"));
    assert!(answer_for(&answers, 3, "It is fast").is_none());
    let error = parse_truths(r#"{"truths": [{"truth": "T1", "verdict": "YES"}]}"#).unwrap_err();
    assert_eq!(error.to_string(), "gives `YES` as the verdict of truth T1 (entry 1): use PROVEN or UNPROVEN");
}

#[test]
fn a_cited_command_holds_only_when_it_exits_0_and_prints_what_was_cited() {
    let ok = Rerun {
        succeeded: true,
        ended: "exited with code 0",
        output: "\u{1b}[32mtest greet ... ok\u{1b}[0m\r\n1 passed\r\n",
    };
    assert_eq!(
        check_command("cargo test greet", "  test greet ... ok\n", &ok),
        Ok("`cargo test greet` exited 0 and printed `test greet ... ok`".into())
    );
    assert_eq!(check_command("cargo test greet", "ok\n1 passed", &ok).map(drop), Ok(()));
    assert_eq!(
        check_command("cargo test greet", "2 passed", &ok),
        Err("cited command `cargo test greet` exited 0, but its output does not contain `2 passed`".into())
    );
    let failed = Rerun { succeeded: false, ended: "exited with code 1", output: "test greet ... ok" };
    assert_eq!(
        check_command("cargo test greet", "ok", &failed),
        Err("cited command `cargo test greet` exited with code 1".into())
    );
    assert_eq!(check_command("true", " ", &ok), Err("cited command `true` comes without the output it prints".into()));
}

#[test]
fn places_are_checked_against_the_lines_of_the_file() {
    assert_eq!(check_place("src/app.py", 40, lines_of), Ok("src/app.py:40".into()));
    assert_eq!(
        check_place("README.md", 4, lines_of),
        Err("cited README.md:4 does not exist (README.md has 3 lines)".into())
    );
    assert_eq!(
        check_place("/etc/passwd", 1, lines_of),
        Err("cited `/etc/passwd` is not a path inside the repository".into())
    );
    assert_eq!(check_place("one", 2, |_| Some(1)), Err("cited one:2 does not exist (one has 1 line)".into()));
}

/// A piece of evidence as JSON, in any of the forms agents write (and some they should not).
fn evidence_json() -> impl Strategy<Value = Value> {
    let path = prop_oneof![Just("src/app.py"), Just("README.md"), Just("gone.rs"), Just("../x"), Just("./src/app.py")];
    prop_oneof![
        (path.clone(), 0u64..60).prop_map(|(file, line)| json!({"file": file, "line": line})),
        (path, 0u64..60).prop_map(|(file, line)| json!(format!("{file}:{line}"))),
        ("[a-z ]{0,12}", "[a-z ]{0,12}").prop_map(|(command, output)| json!({"command": command, "output": output})),
        any::<i64>().prop_map(|n| json!({"file": "src/app.py", "line": n})),
        Just(json!(null)),
        Just(json!({"line": 3})),
    ]
}

fn verdict_word() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("PASS"), Just("FAIL"), Just("fail "), Just("N/A"), Just(" pass")]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_any_text(text in "\\PC{0,300}") {
        let _ = parse_security(&text);
        let _ = parse_findings(&text);
        let _ = parse_truths(&text);
        let _ = check_place(&text, 1, |_| Some(1));
        let _ = output_contains(&text, &text);
    }

    #[test]
    fn never_panics_on_json_like_text(parts in prop::collection::vec(prop_oneof![
        Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"), Just("\"findings\""),
        Just("\"truths\""), Just("\"verdict\""), Just("\"FAIL\""), Just("\"evidence\""), Just("\"file\""),
        Just("\"line\""), Just("-1"), Just("1e400"), Just("\"\\ud800\""), Just("null"),
    ], 0..40)) {
        let text = parts.concat();
        let _ = parse_findings(&text);
        let _ = parse_truths(&text);
        let _ = parse_security(&text);
    }

    #[test]
    fn every_fail_is_a_finding_or_reported_without_evidence(
        findings in prop::collection::vec((verdict_word(), "[a-zA-Z .]{0,20}", prop::collection::vec(evidence_json(), 0..5)), 0..12)
    ) {
        let answer = json!({"findings": findings.iter().map(|(verdict, message, evidence)| {
            json!({"verdict": verdict, "message": message, "evidence": evidence})
        }).collect::<Vec<_>>()});
        let review = parse_findings(&answer.to_string()).unwrap();
        let fails = review.items.iter().filter(|i| i.verdict == Verdict::Fail).count();
        let judged = judge(&review, lines_of);
        prop_assert_eq!(judged.findings.len() + judged.without_evidence.len(), fails);
        for finding in &judged.findings {
            // The location is a place that exists.
            let (file, line) = finding.location.rsplit_once(':').unwrap();
            let line: usize = line.parse().unwrap();
            prop_assert!(line >= 1 && line <= lines_of(file).unwrap(), "{}", finding.location);
        }
        for note in &judged.without_evidence {
            prop_assert!(note.starts_with("FAIL without valid evidence: "), "{}", note);
        }
    }

    #[test]
    fn a_place_holds_exactly_when_its_file_has_that_line(
        file in prop_oneof![Just("src/app.py"), Just("README.md"), Just("nope"), Just("a/../b")],
        line in 0u64..100,
    ) {
        let expected = lines_of(file).is_some_and(|n| line >= 1 && line <= n as u64) && !file.contains("..");
        prop_assert_eq!(check_place(file, line, lines_of).is_ok(), expected);
    }

    #[test]
    fn cited_output_is_found_wherever_it_is(before in "\\PC{0,40}", cited in "[a-z0-9.]{1,20}( [a-z0-9.]{1,10})?", after in "\\PC{0,40}") {
        let output = format!("{before}{cited}{after}");
        let padded = format!("  {cited}\n");
        prop_assert!(output_contains(&output, &padded));
        let rerun = Rerun { succeeded: true, ended: "exited with code 0", output: &output };
        prop_assert!(check_command("make check", &cited, &rerun).is_ok());
        let failed = Rerun { succeeded: false, ..rerun };
        prop_assert!(check_command("make check", &cited, &failed).is_err());
    }

    #[test]
    fn a_complete_security_review_is_read_back(verdicts in prop::collection::vec(verdict_word(), 20)) {
        let answer = json!({
            "principles": PRINCIPLES.iter().zip(&verdicts[..10]).map(|((id, _), v)| json!({"principle": id, "verdict": v})).collect::<Vec<_>>(),
            "threats": THREATS.iter().zip(&verdicts[10..]).map(|((id, _), v)| json!({"threat": id, "verdict": v})).collect::<Vec<_>>(),
        });
        let review = parse_security(&answer.to_string()).unwrap();
        prop_assert_eq!(review.items.len(), 20);
        for (item, word) in review.items.iter().zip(&verdicts) {
            prop_assert_eq!(Some(item.verdict), Verdict::parse(word));
        }
    }
}

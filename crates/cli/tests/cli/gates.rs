//! Quality gates end to end: `checkpoint:gate` tasks checked by wavecrew on a real repository,
//! their findings handed to the scripted agent (a test double), its fixes committed, and the
//! verdict taken from the checks, never from the agent.

mod corpus;

use crate::common::*;
use serde_json::{Value, json};

fn gates(output: &std::process::Output) -> Vec<Value> {
    events(output).into_iter().filter(|e| e["event"] == "gate_checked").collect()
}

#[test]
fn a_gate_that_fails_twice_is_fixed_on_the_third_round() {
    let plan = gate_plan("`value.txt`, `check.sh`", "production-engineer", "`sh check.sh`", "0 test failures");
    let script = json!({"tasks": {
        "1.1": [[write("value.txt", "1\n"), write("check.sh", CHECK)]],
        "2.1": [[write("value.txt", "2\n")], [write("value.txt", "3\n")]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let checked = gates(&output);
    let verdicts: Vec<(u64, bool)> =
        checked.iter().map(|g| (g["round"].as_u64().unwrap(), g["passed"].as_bool().unwrap())).collect();
    assert_eq!(verdicts, [(1, false), (2, false), (3, true)]);
    // Each number says where it came from.
    let metric = &checked[0]["metrics"][0];
    assert_eq!((metric["name"].as_str(), metric["value"].as_f64()), (Some("failed tests"), Some(1.0)), "{metric}");
    assert!(metric["source"].as_str().unwrap().contains("`sh check.sh`"), "{metric}");
    assert!(checked[0]["findings"].to_string().contains("exited with code 1"), "{}", checked[0]["findings"]);

    let commits = repo.commits("wavecrew/M1");
    let subjects: Vec<&str> = commits.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "feat(M1): build it",
            "fix(M1): Review (gate round 1)",
            "fix(M1): Review (gate round 2)",
            "chore(M1): gate Review green (production-engineer, after 2 fix round(s))",
        ]
    );
    assert_eq!(commits.last().unwrap().0, "2.1", "the verdict commit carries the task");
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:value.txt"]), "3");
    // The agent was told what the checks found.
    let prompt = repo.run_file("prompts", "2.1-1.md");
    assert!(prompt.contains("The quality gate is red") && prompt.contains("1 failed, 2 passed"), "{prompt}");

    // The report keeps every round in order, each with its findings and the fix that followed.
    let log = git(repo.root(), &["log", "--format=%H %s", "wavecrew/M1"]);
    let fix = |round: u32| {
        let subject = format!(" fix(M1): Review (gate round {round})");
        log.lines().find_map(|l| l.strip_suffix(subject.as_str())).unwrap().to_owned()
    };
    let report: Value = serde_json::from_str(&repo.run_file("", "report.json")).unwrap();
    let gate = &report["gates"][0];
    let rounds: Vec<(u64, bool, Option<&str>)> = gate["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["round"].as_u64().unwrap(), r["passed"].as_bool().unwrap(), r["fix_commit"].as_str()))
        .collect();
    assert_eq!(rounds, [(1, false, Some(fix(1).as_str())), (2, false, Some(fix(2).as_str())), (3, true, None)]);
    for red in 0..2 {
        let round = &gate["rounds"][red];
        assert!(round["findings"].to_string().contains("exited with code 1"), "{round}");
        assert_eq!(round["metrics"][0]["value"].as_f64(), Some(1.0), "{round}");
    }
    assert_eq!(gate["rounds"][2]["findings"], json!([]));
    // What report.json held before rounds were kept is still there: the last round.
    assert_eq!((gate["round"].as_u64(), gate["passed"].as_bool()), (Some(3), Some(true)), "{gate}");

    let md = repo.run_file("", "report.md");
    let at = |text: &str| md.find(text).unwrap_or_else(|| panic!("{text:?} is not in\n{md}"));
    assert!(md.contains("### Task 2.1 · production-engineer: green after 3 rounds"), "{md}");
    let order = [
        "#### Round 1: red, 2 finding(s)".to_owned(),
        format!("fixed in `{}`", &fix(1)[..10]),
        "#### Round 2: red, 2 finding(s)".to_owned(),
        format!("fixed in `{}`", &fix(2)[..10]),
        "#### Round 3: green".to_owned(),
    ];
    let places: Vec<usize> = order.iter().map(|text| at(text)).collect();
    assert!(places.is_sorted(), "{order:?} in this order in\n{md}");
    assert_eq!(md.matches("[tests] 1 test(s) failed").count(), 2, "{md}");
}

#[test]
fn a_gate_that_never_converges_stops_as_needs_human_with_its_findings() {
    let plan = gate_plan("`value.txt`, `check.sh`", "production-engineer", "`sh check.sh`", "0 test failures");
    let script = json!({"tasks": {
        "1.1": [[write("value.txt", "1\n"), write("check.sh", CHECK)]],
        "2.1": [[write("value.txt", "2\n")]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json", "--gate-rounds", "2"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let verdicts: Vec<bool> = gates(&output).iter().map(|g| g["passed"].as_bool().unwrap()).collect();
    assert_eq!(verdicts, [false, false, false], "one check, then one after each of the 2 fix rounds");
    let failed = events(&output).into_iter().find(|e| e["event"] == "task_failed").unwrap();
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.starts_with("needs-human: the gate is still red after 2 fix round(s)"), "{reason}");
    assert!(reason.contains("1 failed, 2 passed"), "the findings go with it: {reason}");
    assert!(!repo.commits("wavecrew/M1").iter().any(|(task, _)| task == "2.1"), "no verdict commit");
}

#[test]
fn a_secret_planted_by_the_agent_is_caught_and_never_echoed() {
    let token = "ghp_R4nd0mL00k1ngT0k3nV4lu3F0rT3st1ng9Z";
    let plan = gate_plan("`settings.py`", "security-auditor", "No findings.", "0 vulnerabilities");
    let settings = format!("DEBUG = False\nGITHUB_TOKEN = \"{token}\"\n");
    let script = json!({"tasks": {"1.1": [[write("settings.py", &settings)]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json", "--gate-rounds", "0"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let checked = gates(&output);
    let findings = checked[0]["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["check"] == "secret" && f["location"] == "settings.py:2"), "{findings:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains(token), "the secret is redacted in events");
    let journal = std::fs::read(repo.state_dir().join("journal.sqlite")).unwrap();
    assert!(!journal.windows(token.len()).any(|w| w == token.as_bytes()), "and in the journal");
}

#[test]
fn coverage_of_new_code_comes_from_a_real_lcov_report() {
    let coverage = installed("coverage");
    let cov = coverage.display();
    let verify = format!("`{cov} run --omit='tests/*' -m unittest discover -s tests && {cov} lcov -o lcov.info`");
    let plan = gate_plan(
        "`calc.py`, `tests/test_calc.py`",
        "production-engineer",
        &verify,
        "0 test failures, 80%+ coverage on new code",
    );
    let calc = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n";
    let one_test = "import unittest\n\nimport calc\n\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(calc.add(1, 2), 3)\n";
    let all_tests = format!(
        "{one_test}\n    def test_sub(self):\n        self.assertEqual(calc.sub(3, 2), 1)\n\n    def test_mul(self):\n        self.assertEqual(calc.mul(2, 3), 6)\n"
    );
    let script = json!({"tasks": {
        "1.1": [[write("calc.py", calc), write("tests/__init__.py", ""), write("tests/test_calc.py", one_test),
                 write(".gitignore", ".coverage\nlcov.info\n__pycache__/\n")]],
        "2.1": [[write("tests/test_calc.py", &all_tests)]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let checked = gates(&output);
    let coverage_of = |gate: &Value| {
        gate["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "coverage of changed lines")
            .map(|m| (m["value"].as_f64().unwrap(), m["source"].as_str().unwrap().to_owned()))
            .unwrap_or_else(|| panic!("no coverage metric: {gate}"))
    };
    let (first, source) = coverage_of(&checked[0]);
    // calc.py: 3 `def` lines run at import, 1 of 3 bodies is tested: 4 of 6 changed lines.
    assert!((first - 400.0 / 6.0).abs() < 0.1, "{first}");
    assert!(source.starts_with("lcov.info"), "{source}");
    let finding = checked[0]["findings"].as_array().unwrap().iter().find(|f| f["check"] == "coverage").unwrap();
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("80% required") && message.contains("calc.py:6") && message.contains("calc.py:10"),
        "{message}"
    );
    assert_eq!(coverage_of(&checked[1]).0, 100.0);
    assert_eq!(checked[1]["passed"], true);
    let files = git(repo.root(), &["ls-tree", "-r", "--name-only", "wavecrew/M1"]);
    assert!(!files.contains("lcov.info") && !files.contains(".coverage"), "check output is never committed: {files}");
}

/// A plan whose single task writes what `steps` say, with these must_haves and Verification.
fn verified_plan(must_haves: &str, automated: &str) -> String {
    format!(
        "# M1 Implementation Plan: Verified

## Context

A test of the final verification.

## must_haves

{must_haves}

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: `app.py`, `core.py`, `extra.py`, `tests/test_app.py`
- **Action**: Build it
- **Verify**: `true`
- **Done**: it is built

## Verification

### Automated
```bash
{automated}
```

### Manual
1. Run `python3 app.py` and read what it says
"
    )
}

#[test]
fn stub_orphaned_missing_and_unwired_must_haves_fail_the_run_with_evidence() {
    let must_haves = "### artifacts (files produced)\n- `app.py`\n- `core.py`\n- `extra.py`\n- `gone.py`\n\n\
                      ### key_links (where breakage cascades)\n- `app.py` calls `extra.py`\n";
    let plan = verified_plan(must_haves, "python3 -c 'import app'    # imports");
    let extra = "def shout(text):\n    return text.upper() + '!'\n\n\ndef whisper(text):\n    return text.lower()\n";
    let script = json!({"tasks": {"1.1": [[write("app.py", APP), write("core.py", STUB), write("extra.py", extra),
                                           write("tests/test_app.py", TEST)]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert_eq!(output.status.code(), Some(1), "must_haves that do not hold fail the run: {}", stderr(&output));
    let verified = events(&output).into_iter().find(|e| e["event"] == "run_verified").unwrap();
    assert_eq!(verified["verdict"], "failed");
    let verdict_of = |item: &str| {
        let all = verified["must_haves"].as_array().unwrap();
        let found = all.iter().find(|m| m["item"].as_str().unwrap().contains(item)).unwrap();
        (found["verdict"].as_str().unwrap().to_owned(), found["evidence"].as_str().unwrap().to_owned())
    };
    assert_eq!(verdict_of("app.py").0, "VERIFIED", "{:?}", verdict_of("app.py"));
    let (core, evidence) = verdict_of("core.py");
    assert_eq!(core, "STUB", "{evidence}");
    assert!(evidence.contains("core.py:2"), "the stub's line: {evidence}");
    assert_eq!(verdict_of("extra.py").0, "ORPHANED");
    assert_eq!(verdict_of("gone.py").0, "MISSING");
    let (link, evidence) = verdict_of("calls");
    assert_eq!(link, "NOT_WIRED", "{evidence}");
    // `# imports`: its exit status says it.
    assert_eq!(verified["automated"][0]["status"], "passed", "{}", verified["automated"]);
    let report = String::from_utf8(repo.command(&["report"]).output().unwrap().stdout).unwrap();
    assert!(report.contains("## Verification: failed") && report.contains("| artifact | core.py | STUB |"), "{report}");
}

#[test]
fn a_plan_whose_must_haves_hold_passes_and_its_manual_checklist_is_signed_off() {
    let must_haves = "### truths (observable outcomes)\n- It greets the world\n\n\
                      ### artifacts (files produced)\n- `app.py`\n- `core.py`\n- `tests/test_app.py`\n\n\
                      ### key_links (where breakage cascades)\n- `core.py` feeds `app.py`\n";
    let plan = verified_plan(must_haves, "python3 -m unittest discover -s tests -t .    # 0 failures");
    let script = json!({"tasks": {"1.1": [[write("app.py", APP), write("core.py", CORE), write("extra.py", "x = 1\n"),
                                           write("tests/__init__.py", ""), write("tests/test_app.py", TEST)]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let verified = events(&output).into_iter().find(|e| e["event"] == "run_verified").unwrap();
    assert_eq!(verified["verdict"], "passed", "{verified}");
    let truth = verified["must_haves"].as_array().unwrap().iter().find(|m| m["kind"] == "truth").unwrap().clone();
    assert_eq!(truth["verdict"], "MANUAL", "a truth wavecrew cannot prove is left to a person");
    let run = events(&output)[0]["run"].as_str().map(str::to_owned);
    let run = run.unwrap_or_else(|| {
        let runs = String::from_utf8(repo.command(&["runs"]).output().unwrap().stdout).unwrap();
        runs.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
    });
    let before = String::from_utf8(repo.command(&["report"]).output().unwrap().stdout).unwrap();
    assert!(before.contains(&format!("to sign off with `wavecrew approve {run} manual`")), "{before}");
    let signed = repo.command(&["approve", &run, "manual", "--note", "read it"]).output().unwrap();
    assert!(signed.status.success(), "{}", stderr(&signed));
    let after = String::from_utf8(repo.command(&["report"]).output().unwrap().stdout).unwrap();
    assert!(
        after.contains("Manual checklist (signed off)") && after.contains("1. [x] Run `python3 app.py`"),
        "{after}"
    );
}

#[test]
fn an_unknown_skill_stops_the_run_before_it_starts() {
    let plan = gate_plan("`value.txt`", "quality-wizard", "`true`", "all good");
    let repo = scripted_repo(&plan, &json!({"tasks": {}}));
    let output = repo.run(&[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("task 2.1 names the skill `quality-wizard`") && err.contains(".wavecrew/skills/quality-wizard.md"),
        "{err}"
    );
    assert!(git(repo.root(), &["branch", "--list", "wavecrew/M1"]).is_empty(), "no run branch was made");
}

/// A security review as the scripted agent writes it: every principle and threat PASS, but
/// those in `fails` (id, message, citations as `path:line`) FAIL.
pub(crate) fn security_review(fails: &[(&str, &str, &[&str])]) -> String {
    let entry = |key: &str, id: &str| match fails.iter().find(|(f, ..)| *f == id) {
        Some((_, message, places)) => {
            let evidence: Vec<Value> = places
                .iter()
                .map(|p| {
                    let (file, line) = p.rsplit_once(':').unwrap();
                    json!({"file": file, "line": line.parse::<u64>().unwrap()})
                })
                .collect();
            json!({key: id, "verdict": "FAIL", "message": message, "evidence": evidence})
        }
        None => json!({key: id, "verdict": "PASS", "message": "checked the change", "evidence": []}),
    };
    let principles: Vec<Value> = (1..=10).map(|n| entry("principle", &format!("P{n}"))).collect();
    let threats: Vec<Value> = (1..=10).map(|n| entry("threat", &format!("ASI{n:02}"))).collect();
    serde_json::to_string_pretty(&json!({"principles": principles, "threats": threats})).unwrap()
}

pub(crate) const READ_REPORT: &str =
    "import os\n\n\ndef read_report(name):\n    return open(os.path.join(\"reports\", name)).read()\n";
pub(crate) const READ_REPORT_FIXED: &str = "import os\n\n\ndef read_report(name):\n    return open(os.path.join(\"reports\", os.path.basename(name))).read()\n";

#[test]
fn a_security_review_fail_with_a_valid_citation_is_fixed_on_the_next_round() {
    let plan = gate_plan("`reports.py`", "security-auditor", "No findings.", "0 vulnerabilities");
    let traversal = "`name` may hold `../`: the path leaves reports/";
    let script = json!({"tasks": {
        "1.1": [[write("reports.py", READ_REPORT)]],
        "2.1/review": [
            [write(".wavecrew/review/2.1-1-security-auditor.json", &security_review(&[("P2", traversal, &["reports.py:5"])]))],
            [write(".wavecrew/review/2.1-2-security-auditor.json", &security_review(&[]))],
        ],
        "2.1": [[write("reports.py", READ_REPORT_FIXED)]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let checked = gates(&output);
    let verdicts: Vec<(u64, bool)> =
        checked.iter().map(|g| (g["round"].as_u64().unwrap(), g["passed"].as_bool().unwrap())).collect();
    assert_eq!(verdicts, [(1, false), (2, true)], "{checked:?}");
    let finding = &checked[0]["findings"][0];
    assert_eq!((finding["check"].as_str(), finding["location"].as_str()), (Some("review"), Some("reports.py:5")));
    let message = finding["message"].as_str().unwrap();
    assert!(message.starts_with("P2 Input validation at trust boundaries: `name` may hold `../`"), "{message}");
    assert!(
        checked[1]["notes"].to_string().contains("its word, not evidence): principles: 10 PASS; threats: 10 PASS"),
        "PASS is shown, not trusted: {}",
        checked[1]["notes"]
    );

    let subjects: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        subjects,
        [
            "feat(M1): build it",
            "fix(M1): Review (gate round 1)",
            "chore(M1): gate Review green (security-auditor, after 1 fix round(s))"
        ]
    );
    let files = git(repo.root(), &["ls-tree", "-r", "--name-only", "wavecrew/M1"]);
    assert!(!files.contains(".wavecrew"), "answers are never committed: {files}");
    assert!(git(repo.root(), &["show", "wavecrew/M1:reports.py"]).contains("basename"));
    // The reviewer got the skill's principles, the threats and the change; the fixer got the finding.
    let review = repo.run_file("prompts", "2.1-1-review-security-auditor.md");
    for part in ["P2 Input validation at trust boundaries", "ASI10 Rogue Agents", "+def read_report(name):"] {
        assert!(review.contains(part), "{part} in the review prompt:\n{review}");
    }
    let fix = repo.run_file("prompts", "2.1-1.md");
    assert!(fix.contains("[review] at reports.py:5: P2 Input validation"), "{fix}");
    assert!(repo.run_file("answers", "2.1-1-review-security-auditor.json").contains("\"P2\""));
    let events = events(&output);
    let review_started = events.iter().find(|e| e["event"] == "attempt_started" && e["role"] == "review").unwrap();
    assert_eq!(review_started["attempt"], 1, "{review_started}");
}

#[test]
fn a_review_fail_citing_a_line_that_does_not_exist_is_reported_and_does_not_turn_the_gate_red() {
    let plan = gate_plan("`reports.py`", "security-auditor", "No findings.", "0 vulnerabilities");
    let answer = security_review(&[("P2", "a guess", &["reports.py:999"]), ("ASI05", "no place", &[])]);
    let script = json!({"tasks": {
        "1.1": [[write("reports.py", READ_REPORT)]],
        "2.1/review": [[write(".wavecrew/review/2.1-1-security-auditor.json", &answer)]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json", "--gate-rounds", "0"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let checked = gates(&output);
    assert_eq!((checked.len(), checked[0]["passed"].as_bool()), (1, Some(true)), "{checked:?}");
    let notes: Vec<&str> = checked[0]["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert!(
        notes.contains(
            &"FAIL without valid evidence: P2 Input validation at trust boundaries: a guess; cited reports.py:999 does not exist (reports.py has 5 lines)"
        ),
        "{notes:?}"
    );
    assert!(
        notes.contains(
            &"FAIL without valid evidence: ASI05 Unexpected Code Execution: no place; it cites no file and line"
        ),
        "{notes:?}"
    );
    let report = String::from_utf8(repo.command(&["report"]).output().unwrap().stdout).unwrap();
    assert!(report.contains("- note: FAIL without valid evidence: P2"), "{report}");
}

#[test]
fn an_invalid_or_missing_review_answer_is_a_finding_that_says_what_was_wrong() {
    let plan = gate_plan("`reports.py`", "security-auditor", "No findings.", "0 vulnerabilities");
    let broken = "{\n  \"principles\": [\n    {\"principle\": \"P1\" \"verdict\": \"PASS\"}\n  ]\n}\n";
    let script = json!({"tasks": {
        "1.1": [[write("reports.py", READ_REPORT)]],
        // Round 1: not JSON; round 2: nothing written at all.
        "2.1/review": [[write(".wavecrew/review/2.1-1-security-auditor.json", broken)], [{"say": "no answer"}]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json", "--gate-rounds", "1"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let checked = gates(&output);
    let review_finding = |gate: &Value| {
        let findings = gate["findings"].as_array().unwrap();
        findings.iter().find(|f| f["check"] == "review").map(|f| f["message"].as_str().unwrap().to_owned()).unwrap()
    };
    let first = review_finding(&checked[0]);
    assert!(
        first.starts_with(
            "the review answer `.wavecrew/review/2.1-1-security-auditor.json` is not valid JSON: expected `,` or `}` at line 3 column 24"
        ),
        "{first}"
    );
    let second = review_finding(&checked[1]);
    assert!(
        second.starts_with("the review wrote nothing to `.wavecrew/review/2.1-2-security-auditor.json`"),
        "{second}"
    );
    let failed = events(&output).into_iter().find(|e| e["event"] == "task_failed").unwrap();
    assert!(failed["reason"].as_str().unwrap().contains("the review wrote nothing"), "{failed}");
}

#[test]
fn a_gate_of_a_skill_the_repository_defines_runs_its_verify_commands_and_its_review() {
    let plan = gate_plan("`value.txt`, `check.sh`", "house-style", "`sh check.sh`", "the house style holds");
    let fail = json!({"findings": [
        {"verdict": "FAIL", "message": "the value must be 3", "evidence": [{"file": "value.txt", "line": 1}]},
        {"verdict": "PASS", "message": "check.sh is plain sh"},
    ]});
    let script = json!({"tasks": {
        "1.1": [[write("value.txt", "1\n"), write("check.sh", CHECK)]],
        "2.1/review": [
            [write(".wavecrew/review/2.1-1-house-style.json", &fail.to_string())],
            [write(".wavecrew/review/2.1-2-house-style.json", "{\"findings\": []}")],
        ],
        "2.1": [[write("value.txt", "3\n")]],
    }});
    let repo = scripted_repo(&plan, &script);
    std::fs::create_dir_all(repo.root().join(".wavecrew/skills")).unwrap();
    std::fs::write(repo.root().join(".wavecrew/skills/house-style.md"), "Values are 3. Scripts are POSIX sh.\n")
        .unwrap();
    git(repo.root(), &["add", ".wavecrew/skills"]);
    git(repo.root(), &["commit", "--quiet", "-m", "house style"]);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let checked = gates(&output);
    assert_eq!(checked.iter().map(|g| g["passed"].as_bool().unwrap()).collect::<Vec<_>>(), [false, true]);
    assert_eq!(checked[0]["skill"], "house-style");
    let findings = checked[0]["findings"].as_array().unwrap();
    let checks: Vec<&str> = findings.iter().map(|f| f["check"].as_str().unwrap()).collect();
    assert_eq!(checks, ["command", "tests", "review"], "the Verify command ran, then the review: {findings:?}");
    assert_eq!(findings[2]["location"], "value.txt:1");
    assert!(findings[2]["message"].as_str().unwrap().starts_with("the value must be 3"), "{findings:?}");
    assert!(checked[0]["notes"].to_string().contains("findings: 1 PASS, 1 FAIL"), "{}", checked[0]["notes"]);
    assert!(checked[1]["notes"].to_string().contains("house-style review (its word, not evidence): no findings"));
    let subjects: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(_, s)| s).collect();
    assert_eq!(subjects.last().unwrap(), "chore(M1): gate Review green (house-style, after 1 fix round(s))");
    let review = repo.run_file("prompts", "2.1-1-review-house-style.md");
    assert!(
        review.contains("## Skill: house-style\n\nValues are 3.") && review.contains("{\"findings\": ["),
        "{review}"
    );
}

#[test]
fn a_gate_of_a_repository_skill_without_a_command_to_run_stops_the_run_before_it_starts() {
    let plan = gate_plan("`value.txt`", "house-style", "It looks right.", "all good");
    let repo = scripted_repo(&plan, &json!({"tasks": {}}));
    std::fs::create_dir_all(repo.root().join(".claude/skills/house-style")).unwrap();
    std::fs::write(repo.root().join(".claude/skills/house-style/SKILL.md"), "Tabs.\n").unwrap();
    let output = repo.run(&[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("gate task 2.1 uses the repository's skill `house-style`")
            && err.contains("Verify names no backticked command"),
        "{err}"
    );
}

const HELLO: &str = "print('hello, ' + 'world')\n";

#[test]
fn a_truth_proven_by_a_command_wavecrew_runs_again_is_verified() {
    let must_haves = "### truths (observable outcomes)\n- `python3 app.py` greets the world\n";
    let plan = verified_plan(must_haves, "python3 app.py    # prints `hello, world`");
    let answer = json!({"truths": [{"truth": "T1", "verdict": "PROVEN",
        "evidence": [{"command": "python3 app.py", "output": "hello, world"}, {"file": "app.py", "line": 1}]}]});
    let script = json!({"tasks": {
        "1.1": [[write("app.py", HELLO)]],
        "verification": [[write(".wavecrew/review/verification.json", &answer.to_string())]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    let verified = events.iter().find(|e| e["event"] == "run_verified").unwrap();
    assert_eq!(verified["verdict"], "passed", "a truth proven by evidence wavecrew checked: {verified}");
    let truth = &verified["must_haves"][0];
    assert_eq!(truth["verdict"], "VERIFIED", "{truth}");
    assert_eq!(
        truth["evidence"],
        "proven by the verifier, checked by wavecrew: `python3 app.py` exited 0 and printed `hello, world`; app.py:1"
    );
    let rerun = events.iter().find(|e| e["event"] == "verify_finished" && e["task"] == "verification").unwrap();
    assert_eq!((rerun["command"].as_str(), rerun["passed"].as_bool()), (Some("python3 app.py"), Some(true)));
    let prompt = repo.run_file("prompts", "verification-1.md");
    assert!(
        prompt.contains("- T1: `python3 app.py` greets the world")
            && prompt.contains("`python3 app.py` (expected: prints `hello, world`): passed"),
        "{prompt}"
    );
    assert!(!git(repo.root(), &["ls-tree", "-r", "--name-only", "wavecrew/M1"]).contains(".wavecrew"));
}

#[test]
fn truths_whose_evidence_does_not_hold_stay_manual_with_the_reason() {
    let must_haves = "### truths (observable outcomes)\n- It greets the world\n- It keeps no secret\n\
                      - Nobody answers this one\n";
    let plan = verified_plan(must_haves, "python3 app.py    # greets");
    let answer = json!({"truths": [
        {"truth": "T1", "verdict": "PROVEN", "evidence": [{"command": "python3 app.py | grep -q goodbye", "output": ""},
                                                          {"command": "python3 -c 'import sys; sys.exit(1)'", "output": "x"},
                                                          {"file": "app.py", "line": 7}]},
        // The verifier's command does not see the user's environment.
        {"truth": "It keeps no secret", "verdict": "PROVEN",
         "evidence": [{"command": "echo \"token=${WAVECREW_TEST_SECRET:-none}\"", "output": "token=s3cr3t"}]},
    ]});
    let script = json!({"tasks": {
        "1.1": [[write("app.py", HELLO)]],
        "verification": [[write(".wavecrew/review/verification.json", &answer.to_string())]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo
        .command(&["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes", "--json"])
        .env("WAVECREW_TEST_SECRET", "s3cr3t")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let verified = events(&output).into_iter().find(|e| e["event"] == "run_verified").unwrap();
    assert_eq!(verified["verdict"], "unverified", "nothing was proven: {verified}");
    let evidence: Vec<(String, String)> = verified["must_haves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["verdict"].as_str().unwrap().to_owned(), m["evidence"].as_str().unwrap().to_owned()))
        .collect();
    assert!(evidence.iter().all(|(v, _)| v == "MANUAL"), "{evidence:?}");
    assert_eq!(
        evidence[0].1,
        "PROVEN by the verifier without valid evidence: cited command `python3 app.py | grep -q goodbye` comes without the output it prints; cited command `python3 -c 'import sys; sys.exit(1)'` exited with code 1; cited app.py:7 does not exist (app.py has 1 line)"
    );
    assert_eq!(
        evidence[1].1,
        "PROVEN by the verifier without valid evidence: cited command `echo \"token=${WAVECREW_TEST_SECRET:-none}\"` exited 0, but its output does not contain `token=s3cr3t`"
    );
    assert_eq!(evidence[2].1, "no answer: the verifier's answer says nothing about T3");
    // They are a person's to confirm: not gaps for agents, but `gaps` says so.
    let gaps = repo.command(&["gaps"]).output().unwrap();
    assert!(gaps.status.success() && gaps.stdout.is_empty(), "{}", stderr(&gaps));
    assert!(
        // The plan's Manual step, and `# greets`, which wavecrew cannot check.
        stderr(&gaps).contains("a person still confirms 3 must_have(s) nobody proved and 2 Manual step(s)"),
        "{}",
        stderr(&gaps)
    );
}

#[test]
fn truths_stay_manual_when_the_verifier_writes_nothing_or_is_off() {
    let must_haves = "### truths (observable outcomes)\n- It greets the world\n";
    let plan = verified_plan(must_haves, "python3 app.py    # greets");
    let script = json!({"tasks": {"1.1": [[write("app.py", HELLO)]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let verified = events(&output).into_iter().find(|e| e["event"] == "run_verified").unwrap();
    assert_eq!(verified["must_haves"][0]["verdict"], "MANUAL");
    assert_eq!(
        verified["must_haves"][0]["evidence"],
        "no answer: the verifier wrote nothing to `.wavecrew/review/verification.json`"
    );

    let repo = scripted_repo(&plan, &script);
    std::fs::write(repo.root().join("wavecrew.toml"), "[verify]\ntruths = \"manual\"\n").unwrap();
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    assert!(!events.iter().any(|e| e["event"] == "attempt_started" && e["role"] == "verify"), "no verifier runs");
    let verified = events.iter().find(|e| e["event"] == "run_verified").unwrap();
    assert_eq!(verified["must_haves"][0]["evidence"], "an observable outcome: a person confirms it");
}

/// A folder with `npm`, a test double of npm whose `npm audit` cannot reach the registry's audit
/// endpoint (as on the template's own SvelteKit stack, offline or behind a proxy).
fn npm_that_cannot_audit() -> (tempfile::TempDir, std::ffi::OsString) {
    let dir = tempfile::tempdir().unwrap();
    let npm = dir.path().join("npm");
    std::fs::write(&npm, "#!/bin/sh\necho 'npm ERR! audit endpoint returned an error' >&2\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&npm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(
        std::iter::once(dir.path().to_owned()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    (dir, path)
}

/// A SvelteKit-like project's dependency files, and the security review's PASS answer.
fn audited_script() -> Value {
    json!({"tasks": {
        "1.1": [[write("package.json", "{\"name\": \"room\", \"dependencies\": {\"svelte\": \"^5.0.0\"}}\n"),
                 write("package-lock.json", "{\"name\": \"room\", \"lockfileVersion\": 3, \"packages\": {}}\n")]],
        "2.1/review": [[write(".wavecrew/review/2.1-1-security-auditor.json", &security_review(&[]))]],
    }})
}

#[test]
fn a_gate_that_asks_for_0_vulnerabilities_is_unverified_when_the_audit_cannot_run_until_a_person_signs_it_off() {
    let plan =
        gate_plan("`package.json`, `package-lock.json`", "security-auditor", "No findings.", "0 vulnerabilities");
    let repo = scripted_repo(&plan, &audited_script());
    let (_npm, path) = npm_that_cannot_audit();
    let args = ["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes", "--json"];
    let child = Stopped(repo.command(&args).env("PATH", &path).stdout(std::process::Stdio::piped()).spawn().unwrap());
    let run = repo.wait_for_checkpoint("2.1");
    let report = String::from_utf8(repo.command(&["report", &run]).output().unwrap().stdout).unwrap();
    assert!(
        report.contains(
            "### Task 2.1 · security-auditor: unverified: needs a person\n\n#### Round 1: unverified: needs a person"
        ),
        "{report}"
    );
    assert!(
        report.contains("- not checked: the gate's Done asks for a dependency audit, but `npm audit --audit-level=high` could not audit the dependencies of package-lock.json (exited with code 1): npm ERR! audit endpoint returned an error"),
        "{report}"
    );
    let approved =
        repo.command(&["approve", &run, "2.1", "--note", "audited by hand: npm audit on my machine"]).output().unwrap();
    assert!(approved.status.success(), "{}", stderr(&approved));
    let output = finish(child);
    assert!(output.status.success(), "{}", stderr(&output));

    let events = events(&output);
    let checked = gates(&output);
    assert_eq!(checked.len(), 1, "{checked:?}");
    assert_eq!(checked[0]["passed"], true, "nothing was found wrong");
    assert!(
        checked[0]["unverified"][0].as_str().unwrap().contains("audit endpoint returned an error"),
        "{}",
        checked[0]
    );
    let waiting = events.iter().find(|e| e["event"] == "checkpoint_waiting").unwrap();
    assert_eq!(waiting["kind"], "checkpoint:gate");
    assert!(
        waiting["details"].as_str().unwrap().starts_with("Not checked: security-auditor: the gate's Done asks"),
        "{waiting}"
    );
    let subjects: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        subjects,
        ["feat(M1): build it", "chore(M1): gate Review unverified, signed off by a person (security-auditor)"]
    );
    let report = String::from_utf8(repo.command(&["report", &run]).output().unwrap().stdout).unwrap();
    assert!(report.contains("- 2.1 approved: audited by hand: npm audit on my machine"), "who signed what: {report}");
}

#[test]
fn an_unverified_gate_notifies_the_webhook_with_the_commands_that_sign_it_off_or_reject_it() {
    let plan =
        gate_plan("`package.json`, `package-lock.json`", "security-auditor", "No findings.", "0 vulnerabilities");
    let repo = scripted_repo(&plan, &audited_script());
    let webhook = crate::common::HttpStandIn::start(|_| Some((200, String::new())));
    std::fs::write(
        repo.root().join("wavecrew.toml"),
        format!("[notify]\nwebhook = [\"http://{}/hook\"]\n", webhook.addr),
    )
    .unwrap();
    let (_npm, path) = npm_that_cannot_audit();
    let args = ["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes"];
    let child = Stopped(repo.command(&args).env("PATH", &path).stderr(std::process::Stdio::piped()).spawn().unwrap());
    let run = repo.wait_for_checkpoint("2.1");
    let gate = webhook.wait_for(1)[0].json();
    assert_eq!((&gate["wavecrew"]["reason"], &gate["wavecrew"]["task"]), (&json!("gate"), &json!("2.1")), "{gate}");
    assert_eq!(gate["title"], "wavecrew: gate 2.1 needs a person to sign it off");
    assert!(
        gate["message"].as_str().unwrap().contains("Not checked: security-auditor: the gate's Done asks"),
        "{gate}"
    );
    assert_eq!(
        gate["wavecrew"]["commands"],
        json!([format!("wavecrew approve {run} 2.1"), format!("wavecrew reject {run} 2.1 --reason '...'")])
    );
    assert!(repo.command(&["approve", &run, "2.1"]).output().unwrap().status.success());
    assert!(finish(child).status.success());
    assert_eq!(webhook.wait_for(2)[1].json()["wavecrew"]["reason"], "run_ended");
}

#[test]
fn a_person_who_rejects_an_unverified_gate_fails_it() {
    let plan =
        gate_plan("`package.json`, `package-lock.json`", "security-auditor", "No findings.", "0 vulnerabilities");
    let repo = scripted_repo(&plan, &audited_script());
    let (_npm, path) = npm_that_cannot_audit();
    let args = ["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes"];
    let child = Stopped(repo.command(&args).env("PATH", &path).stderr(std::process::Stdio::piped()).spawn().unwrap());
    let run = repo.wait_for_checkpoint("2.1");
    let rejected = repo.command(&["reject", &run, "2.1", "--reason", "audit it in CI first"]).output().unwrap();
    assert!(rejected.status.success(), "{}", stderr(&rejected));
    let output = finish(child);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = String::from_utf8(repo.command(&["report", &run]).output().unwrap().stdout).unwrap();
    assert!(report.contains("needs-human: a person rejected the unverified gate: audit it in CI first"), "{report}");
    assert!(!repo.commits("wavecrew/M1").iter().any(|(task, _)| task == "2.1"), "no verdict commit");
}

#[test]
fn an_audit_that_cannot_run_is_only_a_note_when_the_gate_does_not_ask_for_one() {
    let plan =
        gate_plan("`package.json`, `package-lock.json`", "security-auditor", "No findings.", "no secrets in the code");
    let repo = scripted_repo(&plan, &audited_script());
    let (_npm, path) = npm_that_cannot_audit();
    let args = ["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes", "--json"];
    let output = repo.command(&args).env("PATH", &path).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let checked = gates(&output);
    assert!(checked[0].get("unverified").is_none(), "{}", checked[0]);
    assert!(checked[0]["notes"].to_string().contains("audit endpoint returned an error"), "{}", checked[0]);
}

#[test]
fn automated_expectations_are_read_from_what_the_commands_showed_never_from_exit_0() {
    let coverage = installed("coverage");
    let cov = coverage.display();
    let automated = format!(
        "{cov} run --omit='tests/*' -m unittest discover -s tests && {cov} lcov -o lcov.info    # 80%+ coverage on new modules\n\
         python3 -m unittest discover -s tests    # 0 failures\n\
         python3 -c 'print(1); print(2)'    # prints 2 lines\n\
         true    # greets the user"
    );
    let plan = verified_plan("### artifacts (files produced)\n- `core.py`\n", &automated);
    let core = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n";
    let test = "import unittest\n\nimport core\n\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(core.add(1, 2), 3)\n";
    let script = json!({"tasks": {"1.1": [[write("core.py", core), write("tests/__init__.py", ""), write("tests/test_app.py", test),
                                           write(".gitignore", ".coverage\nlcov.info\n__pycache__/\n")]]}});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert_eq!(output.status.code(), Some(1), "coverage below its bar fails the run: {}", stderr(&output));
    let verified = events(&output).into_iter().find(|e| e["event"] == "run_verified").unwrap();
    assert_eq!(verified["verdict"], "failed", "{verified}");
    let results: Vec<(String, String)> = verified["automated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["status"].as_str().unwrap().to_owned(), a["detail"].as_str().unwrap().to_owned()))
        .collect();
    // core.py: its 3 `def` lines run at import, 1 of 3 bodies is tested: 4 of 6 changed lines.
    assert_eq!(results[0].0, "failed", "{results:?}");
    assert!(
        results[0].1.starts_with("66.7% of the 6 coverable lines the run added or changed are covered (from lcov.info), 80% expected; not covered: core.py:6, core.py:10"),
        "{results:?}"
    );
    assert_eq!(results[1], ("passed".into(), "1 passed, 0 failed (from unittest summary)".into()));
    assert_eq!(results[2], ("passed".into(), "printed 2 line(s)".into()));
    assert_eq!(results[3].0, "unchecked", "{results:?}");
    let manual = verified["manual"].as_array().unwrap();
    assert!(
        manual.iter().any(|m| m.as_str().unwrap().starts_with("Check that `true` shows: greets the user")),
        "{manual:?}"
    );
    let report = String::from_utf8(repo.command(&["report"]).output().unwrap().stdout).unwrap();
    assert!(report.contains("(expected: greets the user): unchecked, a person checks it"), "{report}");
    assert!(report.contains("(expected: 80%+ coverage on new modules): FAILED (66.7% of the 6"), "{report}");
}

#[test]
fn a_coverage_bar_without_a_coverage_report_is_unverified_not_green() {
    let plan = gate_plan(
        "`value.txt`, `check.sh`",
        "production-engineer",
        "`sh check.sh`",
        "0 test failures, 80%+ coverage on new code",
    );
    let script = json!({"tasks": {"1.1": [[write("value.txt", "3\n"), write("check.sh", CHECK)]]}});
    let repo = scripted_repo(&plan, &script);
    let child = Stopped(repo.spawn_run(&[]));
    let run = repo.wait_for_checkpoint("2.1");
    let report = String::from_utf8(repo.command(&["report", &run]).output().unwrap().stdout).unwrap();
    // The tests were counted (3 passed), the coverage could not be: never green.
    assert!(
        report.contains("#### Round 1: unverified: needs a person") && report.contains("- passed tests: **3**"),
        "{report}"
    );
    assert!(
        report.contains(
            "- not checked: 80% coverage of new code is required, but no command wrote an lcov or Cobertura report"
        ),
        "{report}"
    );
    let rejected = repo.command(&["reject", &run, "2.1", "--reason", "add coverage to check.sh"]).output().unwrap();
    assert!(rejected.status.success(), "{}", stderr(&rejected));
    let output = finish(child);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

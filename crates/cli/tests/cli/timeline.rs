//! `wavecrew report --timeline` and `--trace` on a real run with the scripted agent (the test
//! double `wavecrew agent-double`), whose tasks sleep so that the critical path is known.

use crate::common::*;
use serde_json::{Value, json};

/// A run of two parallel tasks (1.1 short, 1.2 long) and 2.1, which waits for both: the
/// critical path is 1.2 → 2.1. The dashboard's Gantt test uses it too.
pub(crate) fn finished_run() -> Repo {
    let plan = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`test -f a.txt`"), ("1.2", "`b.txt`", "`test -f b.txt`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`c.txt`", "`test -f c.txt`")]),
    ]);
    let script = json!({"tasks": {
        "1.1": [[{"sleep_ms": 200}, write("a.txt", "a\n")]],
        "1.2": [[{"sleep_ms": 1500}, write("b.txt", "b\n")]],
        "2.1": [[{"sleep_ms": 600}, write("c.txt", "c\n")]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    repo
}

/// `text` with what changes from run to run replaced: the run's id, durations, shares and
/// ratios; the chart's rows keep their lane's name only (their bars are checked apart).
fn redacted(text: &str, run: &str) -> String {
    let number = |word: &str, units: &[&str]| {
        units.iter().any(|unit| {
            word.strip_suffix(unit).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '.'))
        })
    };
    text.replace(run, "[run]")
        .lines()
        .map(|line| match line.split_once(" |") {
            Some((lane, _)) if line.ends_with('|') => format!("{lane} |[bars]|"),
            _ => line
                .split(' ')
                .map(|word| {
                    let core = word.trim_start_matches('(').trim_end_matches([',', ';', ')', ':']);
                    let kept = |redaction: &str| word.replacen(core, redaction, 1);
                    if number(core, &["ms", "s", "m", "h"]) {
                        kept("[time]")
                    } else if number(core, &["%"]) {
                        kept("[share]")
                    } else if number(core, &["x"]) {
                        kept("[ratio]")
                    } else {
                        word.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn report_timeline_draws_the_lanes_to_the_terminal_width_and_marks_the_critical_path() {
    let repo = finished_run();
    let run = repo.newest_run();
    let output = repo.command(&["report", "--timeline"]).env("COLUMNS", "90").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();

    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("Agent ") && l.ends_with('|')).collect();
    assert_eq!(rows.len(), 3, "{text}");
    for row in &rows {
        assert_eq!(row.chars().count(), 90, "a row is as wide as the terminal: {row:?}");
    }
    let row = |lane: &str| rows.iter().find(|r| r.starts_with(lane)).copied().unwrap_or_default();
    let bars = |lane: &str| row(lane).split_once('|').map_or("", |(_, bars)| bars);
    // The critical path's tasks have heavy bars (`#`), the other one light ones (`=`).
    assert!(bars("Agent 1.2").contains("1.2#") && bars("Agent 2.1").contains("2.1#"), "{text}");
    assert!(bars("Agent 1.1").contains("1.1=") && !bars("Agent 1.1").contains('#'), "{text}");
    // 2.1 starts once 1.2 (the longer of wave 1) landed.
    let start = |lane: &str| bars(lane).find(|c: char| c != ' ').unwrap_or(0);
    assert!(start("Agent 2.1") > start("Agent 1.2") + 40, "{text}");

    insta::assert_snapshot!("report_timeline", redacted(&text, &run));
}

#[test]
fn report_trace_writes_chrome_trace_json_with_a_thread_per_lane() {
    let repo = finished_run();
    let run = repo.newest_run();
    let written = repo.command(&["report", "--trace", "trace.json"]).output().unwrap();
    assert!(written.status.success(), "{}", stderr(&written));
    assert!(written.stdout.is_empty(), "--trace alone prints no report");
    assert!(stderr(&written).contains("ui.perfetto.dev"), "{}", stderr(&written));
    let trace: Value = serde_json::from_str(&std::fs::read_to_string(repo.root().join("trace.json")).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let threads: Vec<&str> =
        events.iter().filter(|e| e["name"] == "thread_name").filter_map(|e| e["args"]["name"].as_str()).collect();
    assert_eq!(threads, ["Agent 1.1 (scripted)", "Agent 1.2 (scripted)", "Agent 2.1 (scripted)", "critical path"]);
    let critical: Vec<&str> =
        events.iter().filter(|e| e["cat"] == "critical").filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(critical, ["1.2", "2.1"]);
    let process = events.iter().find(|e| e["name"] == "process_name").unwrap();
    assert_eq!(process["args"]["name"], format!("wavecrew run {run}: M1 · Test"));
    let agents: Vec<(&str, u64)> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "agent")
        .map(|e| (e["name"].as_str().unwrap(), e["dur"].as_u64().unwrap()))
        .collect();
    let mut names: Vec<&str> = agents.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    assert_eq!(names, ["1.1 agent", "1.2 agent", "2.1 agent"]);
    // Microseconds: the agent of 1.2 slept 1.5 s.
    assert!(agents.iter().any(|(name, dur)| *name == "1.2 agent" && *dur >= 1_500_000), "{agents:?}");
    assert_eq!(trace["otherData"]["critical_path"], json!(["1.2", "2.1"]));

    // Written again: refused without --force, as every file wavecrew writes for you.
    let again = repo.command(&["report", "--trace", "trace.json"]).output().unwrap();
    assert!(!again.status.success() && stderr(&again).contains("already exists"), "{}", stderr(&again));
    let forced = repo.command(&["report", "--trace", "trace.json", "--force", "--timeline"]).output().unwrap();
    assert!(forced.status.success() && String::from_utf8_lossy(&forced.stdout).contains("critical-path bound"));
    let to_stdout = repo.command(&["report", "--trace", "-"]).output().unwrap();
    let piped: Value = serde_json::from_slice(&to_stdout.stdout).unwrap();
    assert_eq!(piped["otherData"]["run"], run.as_str());
}

#[test]
fn the_written_report_has_a_timeline_section_and_its_json_all_of_it() {
    let repo = finished_run();
    let run = repo.newest_run();
    let dir = repo.state_dir().join("runs").join(&run);
    let markdown = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let section = markdown.split("## Timeline").nth(1).and_then(|s| s.split("\n## ").next()).unwrap_or_default();
    insta::assert_snapshot!("report_md_timeline", redacted(section.trim(), &run));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let timeline = &json["timeline"];
    assert_eq!(timeline["critical_path"], json!(["1.2", "2.1"]));
    assert!(timeline["critical_path_ms"].as_u64() <= timeline["makespan_ms"].as_u64(), "{timeline}");
    let phases: std::collections::BTreeSet<&str> =
        timeline["bars"].as_array().unwrap().iter().filter_map(|b| b["phase"].as_str()).collect();
    assert!(phases.is_superset(&["agent", "verify", "git"].into()), "{phases:?}");
}

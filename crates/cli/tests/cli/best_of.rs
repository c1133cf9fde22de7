//! Best of N end to end with the scripted agent (the test double `wavecrew agent-double`), which
//! plays each candidate's own attempt of the script: candidate n of a fresh task is attempt n.
//! Candidates run side by side, each verified; only the one chosen by evidence lands, and every
//! one stays as a ref; bad `--best-of` flags stop a run before anything is made; `kill -9` in the
//! middle of a fan-out, then `resume`, keeps what finished and runs only what did not.

use crate::common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// One task, 1.1 (Files `a.txt`, Verify `grep -q good a.txt`), as the best of `attempts`
/// (`3 parallel`), or without the field when `attempts` is empty; then 2.1, which waits for it.
fn best_of_plan(attempts: &str) -> String {
    let text = plan(&[
        wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`grep -q good a.txt`")]),
        wave(2, "Depends on: Wave 1.", &[("2.1", "`b.txt`", "`test -f b.txt`")]),
    ]);
    if attempts.is_empty() {
        return text;
    }
    text.replace("- **Done**: 1.1 done", &format!("- **Done**: 1.1 done\n- **Attempts**: {attempts}"))
}

/// The script: 1.1's attempts as given, 2.1 writes `b.txt`.
fn script(candidates: Value) -> Value {
    json!({"tasks": {"1.1": candidates, "2.1": [[write("b.txt", "b\n")]]}})
}

/// The refs the run left under `refs/wavecrew/`, as `ref commit`, sorted.
fn candidate_refs(repo: &Repo) -> Vec<(String, String)> {
    let listed = repo.git(&["for-each-ref", "--format=%(refname) %(objectname)", "refs/wavecrew/"]);
    let mut refs: Vec<(String, String)> = listed
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(name, commit)| (name.to_owned(), commit.to_owned()))
        .collect();
    refs.sort();
    refs
}

#[test]
fn best_of_three_lands_the_only_candidate_that_passes_and_keeps_the_others_as_refs() {
    // Candidates 1 and 3 fail Verify, 2 passes; each takes a while, so that they overlap.
    let candidates = json!([
        [{"sleep_ms": 1500}, write("a.txt", "bad\n")],
        [{"sleep_ms": 1500}, write("a.txt", "good\n")],
        [{"sleep_ms": 1500}, write("a.txt", "bad three\n")],
    ]);
    let repo = scripted_repo(&best_of_plan("3 parallel"), &script(candidates));
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);

    // Three attempts side by side, each in its own worktree, before any of them finished.
    let started: Vec<&Value> = of_kind(&events, "attempt_started").into_iter().filter(|e| e["task"] == "1.1").collect();
    let mut attempts: Vec<u64> = started.iter().map(|e| e["attempt"].as_u64().unwrap()).collect();
    attempts.sort_unstable();
    assert_eq!(attempts, [1, 2, 3]);
    let mut worktrees: Vec<&str> = started.iter().map(|e| e["worktree"].as_str().unwrap()).collect();
    worktrees.sort_unstable();
    worktrees.dedup();
    assert_eq!(worktrees.len(), 3, "each candidate in its own worktree: {worktrees:?}");
    let seq = |e: &Value| e["seq"].as_u64().unwrap();
    let first_finished = of_kind(&events, "candidate_finished").iter().map(|e| seq(e)).min().unwrap();
    assert!(started.iter().all(|e| seq(e) < first_finished), "every candidate started before one finished");

    // Each candidate's verdict; 2 is chosen, and only it lands, with the plan's commit line.
    let finished = of_kind(&events, "candidate_finished");
    let verdicts: Vec<(u64, &str)> =
        finished.iter().map(|e| (e["candidate"].as_u64().unwrap(), e["verdict"].as_str().unwrap())).collect();
    let mut sorted = verdicts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [(1, "failed"), (2, "passed"), (3, "failed")]);
    let chosen = of_kind(&events, "candidate_chosen");
    assert_eq!(chosen.len(), 1);
    assert_eq!(chosen[0]["candidate"], 2);
    assert_eq!(chosen[0]["why"], "candidate 2 is the only one whose Verify passed; 2 other candidates failed");
    let commits = repo.commits("wavecrew/M1");
    assert_eq!(commits.iter().filter(|(task, _)| task == "1.1").count(), 1, "{commits:?}");
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:a.txt"]), "good");
    assert!(commits.iter().any(|(task, subject)| task == "1.1" && subject.starts_with("feat(M1): ")), "{commits:?}");

    // Every candidate stays inspectable; the winner's ref is the commit that landed.
    let run = repo.newest_run();
    let refs = candidate_refs(&repo);
    let names: Vec<&str> = refs.iter().map(|(name, _)| name.as_str()).collect();
    let expected: Vec<String> = (1..=3).map(|n| format!("refs/wavecrew/{run}/1.1/candidate-{n}")).collect();
    assert_eq!(names, expected);
    assert_eq!(git(repo.root(), &["show", &format!("{}:a.txt", refs[0].0)]), "bad");
    assert_eq!(git(repo.root(), &["show", &format!("{}:a.txt", refs[2].0)]), "bad three");
    let landed = git(repo.root(), &["log", "--format=%H %(trailers:key=Wavecrew-Task,valueonly)", "wavecrew/M1"]);
    assert!(landed.lines().any(|l| l == format!("{} 1.1", refs[1].1)), "{landed}\n{refs:?}");
    // Never a merge of candidates.
    assert_eq!(git(repo.root(), &["rev-list", "--merges", "main..wavecrew/M1"]), "");

    // The report lists all three, with their verdicts, sizes and refs.
    let report: Value = serde_json::from_slice(&repo.command(&["report", "--json"]).output().unwrap().stdout).unwrap();
    let task = report["tasks"].as_array().unwrap().iter().find(|t| t["task"] == "1.1").unwrap();
    let listed: Vec<(u64, &str, bool)> = task["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["candidate"].as_u64().unwrap(), c["verdict"].as_str().unwrap(), c["chosen"].as_bool().unwrap()))
        .collect();
    assert_eq!(listed, [(1, "failed", false), (2, "passed", true), (3, "failed", false)]);
    assert_eq!(task["candidates"][1]["diff_lines"], 1);
    // Its Verify results are the chosen candidate's, whichever candidate started last.
    assert_eq!(task["verify"][0]["passed"], true, "{task}");
    let markdown = String::from_utf8_lossy(&repo.command(&["report"]).output().unwrap().stdout).into_owned();
    assert!(markdown.contains("### Task 1.1: candidate 2 landed"), "{markdown}");
    assert!(markdown.contains(&format!("| 1 | 1 | failed | 1 | 0 | 0 | `refs/wavecrew/{run}/1.1/candidate-1` | Verify `grep -q good a.txt` exited with code 1 |")), "{markdown}");
    assert!(markdown.contains("| 2 | 2 | passed (chosen) | 1 | 0 | 0 |"), "{markdown}");
}

#[test]
fn when_several_pass_the_least_change_outside_the_files_then_the_smallest_diff_wins() {
    // All three pass. 1 is as small as 3 but also writes a file outside the task's Files; 2
    // stays inside them but changes more lines than 3. `--best-of` over a plan without the field.
    let candidates = json!([
        [write("a.txt", "good\n"), write("notes.txt", "scratch\n")],
        [write("a.txt", "good\nand\nmore\n")],
        [write("a.txt", "good\nx\n")],
    ]);
    let repo = scripted_repo(&best_of_plan(""), &script(candidates));
    let output = repo.run(&["--json", "--best-of", "3", "--tasks", "1.1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    let sizes: Vec<(u64, u64, u64)> = of_kind(&events, "candidate_finished")
        .iter()
        .map(|e| {
            (e["candidate"].as_u64().unwrap(), e["outside_lines"].as_u64().unwrap(), e["diff_lines"].as_u64().unwrap())
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(sizes, [(1, 1, 2), (2, 0, 3), (3, 0, 2)]);
    let chosen = of_kind(&events, "candidate_chosen");
    assert_eq!(chosen[0]["candidate"], 3);
    assert_eq!(chosen[0]["ranking"], json!([3, 2, 1]));
    assert_eq!(chosen[0]["why"], "candidate 3 over candidate 2: a smaller diff (2 lines against 3)");
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:a.txt"]), "good\nx");
    assert!(git(repo.root(), &["ls-tree", "--name-only", "wavecrew/M1"]).lines().all(|f| f != "notes.txt"));
    // 2.1 is no best-of task: one attempt, no candidates.
    assert!(of_kind(&events, "candidates_started").iter().all(|e| e["task"] == "1.1"));
}

#[test]
fn no_candidate_passing_fails_the_task_with_every_candidates_reason() {
    let candidates = json!([[write("a.txt", "bad\n")], [{"exit": 3}]]);
    let repo = scripted_repo(&best_of_plan("2 parallel"), &script(candidates));
    let output = repo.run(&["--attempts", "5"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let run = repo.newest_run();
    let report: Value =
        serde_json::from_slice(&repo.command(&["report", &run, "--json"]).output().unwrap().stdout).unwrap();
    let task = report["tasks"].as_array().unwrap().iter().find(|t| t["task"] == "1.1").unwrap();
    assert_eq!(task["state"], "failed");
    let reason = task["reason"].as_str().unwrap();
    assert!(reason.starts_with("no candidate of 2 passed Verify:\n"), "{reason}");
    assert!(reason.contains("candidate 1 (attempt 1): Verify `grep -q good a.txt` exited with code 1"), "{reason}");
    assert!(reason.contains("candidate 2 (attempt 2): "), "{reason}");
    // One round: `--attempts 5` adds none, and 2.1 is skipped.
    let started = journal_events_of(&repo, &run, "attempt_started");
    assert_eq!(started.iter().filter(|e| e["task"] == "1.1").count(), 2);
    assert_eq!(task["candidates"].as_array().unwrap().len(), 2);
    assert!(repo.commits("wavecrew/M1").is_empty());
    // Candidate 1 left a commit to inspect; candidate 2's agent failed before it had one.
    let refs: Vec<String> = candidate_refs(&repo).into_iter().map(|(name, _)| name).collect();
    assert_eq!(refs, [format!("refs/wavecrew/{run}/1.1/candidate-1")]);
}

/// The journal's events of `kind` in `run`.
fn journal_events_of(repo: &Repo, run: &str, kind: &str) -> Vec<Value> {
    testkit::events::journal_events(&repo.state_dir(), run).into_iter().filter(|e| e["event"] == kind).collect()
}

#[test]
fn bad_best_of_flags_and_best_of_checkpoints_are_refused_before_anything_starts() {
    let repo = scripted_repo(&best_of_plan(""), &script(json!([[write("a.txt", "good\n")]])));
    let refused = |args: &[&str], says: &str| {
        let output = repo.run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(says), "{args:?}: {}", stderr(&output));
        assert_eq!(git(repo.root(), &["branch", "--list", "wavecrew/*"]), "", "{args:?}: the run did not start");
    };
    refused(&["--best-of", "0", "--tasks", "1.1"], "invalid value '0' for '--best-of <N>': 0 is not in 1..=8");
    refused(&["--best-of", "9", "--tasks", "1.1"], "invalid value '9' for '--best-of <N>': 9 is not in 1..=8");
    refused(&["--best-of", "3"], "--tasks <IDS>");
    refused(&["--tasks", "1.1"], "--best-of <N>");
    refused(
        &["--best-of", "3", "--tasks", "1.1,7.3"],
        "--best-of names task 7.3, which is not in the plan (`wavecrew show` lists its tasks)",
    );
    let dry = repo.command(&["run", "plan.md", "--dry-run", "--best-of", "2", "--tasks", "4.4"]).output().unwrap();
    assert_eq!(dry.status.code(), Some(2));
    assert!(stderr(&dry).contains("--best-of names task 4.4"), "{}", stderr(&dry));

    let checkpoint =
        best_of_plan("2 parallel").replace("**Task 1.1** (type: auto)", "**Task 1.1** (type: checkpoint:human-verify)");
    let repo = scripted_repo(&checkpoint, &script(json!([[write("a.txt", "good\n")]])));
    let output = repo.run(&[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "task 1.1 (checkpoint:human-verify) asks for the best of 2 attempts at once, which only `auto` tasks can be"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_dry_run_shows_best_of_tasks_and_the_agents_they_add() {
    let repo = scripted_repo(&best_of_plan("3 parallel"), &script(json!([])));
    let output = repo.command(&["run", "plan.md", "--dry-run", "--best-of", "2", "--tasks", "2.1"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Lanes (at most 2 tasks at once)"), "{text}");
    assert!(text.contains("  1.1   best of 3: 3 agents at once, 2 worktrees beside its lane's\n"), "{text}");
    assert!(text.contains("  2.1   best of 2: 2 agents at once, 1 worktree beside its lane's\n"), "{text}");
    assert!(
        text.contains("so at most 5 agents and worktrees at once: 2 tasks, and up to 3 more candidates beside them"),
        "{text}"
    );
    let show = repo.command(&["show", "plan.md"]).output().unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(shown.contains("  [Agent 1.1, haiku, best of 3]\n"), "{shown}");
}

#[test]
fn kill_9_in_the_middle_of_a_fan_out_then_resume_keeps_the_finished_candidates_and_reruns_the_others() {
    // 1 passes and 3 fails at once; 2 hangs until the run is killed. After the resume, 2 runs
    // again as attempt 4, and passes with a larger change than 1's.
    let candidates = json!([
        [write("a.txt", "good\n")],
        [{"hang": true}],
        [write("a.txt", "bad\n")],
        [write("a.txt", "good\nbut longer\n")],
    ]);
    let repo = scripted_repo(&best_of_plan("3 parallel"), &script(candidates));
    let mut child = repo.spawn_run(&[]);
    let run = repo.newest_run();
    let deadline = Instant::now() + Duration::from_secs(60);
    while journal_events_of(&repo, &run, "candidate_finished").len() < 2 {
        assert!(Instant::now() < deadline, "candidates 1 and 3 never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let before = candidate_refs(&repo);
    assert_eq!(before.len(), 2, "candidates 1 and 3 have their refs: {before:?}");
    assert!(repo.commits("wavecrew/M1").is_empty(), "nothing landed before the kill");

    let resumed = repo.command(&["resume", &run, "--agent", "scripted", "--script", "script.json"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let events = testkit::events::journal_events(&repo.state_dir(), &run);
    let after: Vec<&Value> =
        events.iter().skip_while(|e| e["event"] != "run_resumed").filter(|e| e["task"] == "1.1").collect();
    let kind = |kind: &str| after.iter().filter(|e| e["event"] == kind).copied().collect::<Vec<_>>();
    // Only the unfinished candidate runs again, as a new attempt under its number.
    let started: Vec<&Value> = kind("attempt_started").iter().map(|e| &e["attempt"]).collect();
    assert_eq!(started, [&json!(4)]);
    let round = kind("candidates_started");
    assert_eq!((&round[0]["attempts"], &round[0]["kept"]), (&json!([1, 4, 3]), &json!([1, 3])));
    let rerun = kind("candidate_finished");
    assert_eq!((&rerun[0]["candidate"], &rerun[0]["verdict"]), (&json!(2), &json!("passed")));
    // Candidate 1's commit, made before the kill, is what lands: nothing finished is redone.
    assert_eq!(kind("candidate_chosen")[0]["candidate"], 1);
    let refs = candidate_refs(&repo);
    assert_eq!(refs.len(), 3, "{refs:?}");
    assert_eq!(refs[0], before[0], "candidate 1's ref is the one from before the kill");
    let tasks: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(task, _)| task).collect();
    assert_eq!(tasks, ["1.1", "2.1"]);
    assert_eq!(repo.git(&["rev-parse", "wavecrew/M1~1"]), refs[0].1);
    let report: Value =
        serde_json::from_slice(&repo.command(&["report", &run, "--json"]).output().unwrap().stdout).unwrap();
    let task = report["tasks"].as_array().unwrap().iter().find(|t| t["task"] == "1.1").unwrap();
    let listed: Vec<(&Value, &Value)> =
        task["candidates"].as_array().unwrap().iter().map(|c| (&c["attempt"], &c["verdict"])).collect();
    assert_eq!(listed, [(&json!(1), &json!("passed")), (&json!(4), &json!("passed")), (&json!(3), &json!("failed"))]);
}

#[test]
fn when_every_passing_candidate_conflicts_with_what_landed_meanwhile_a_new_round_runs_on_the_new_head() {
    // 1.2 (another lane) lands `shared.txt` while 1.1's two candidates, which also write it
    // (outside their Files), are still working: each conflicts in turn, then a second round
    // (attempts 3 and 4) on the new head leaves `shared.txt` alone and lands.
    let plan = plan(&[wave(
        1,
        "No dependencies.",
        &[("1.1", "`a.txt`", "`grep -q good a.txt`"), ("1.2", "`b.txt`", "`test -f b.txt`")],
    )])
    .replace("- **Done**: 1.1 done", "- **Done**: 1.1 done\n- **Attempts**: 2 parallel");
    let first = |n: &str| json!([{"sleep_ms": 1500}, write("a.txt", "good\n"), write("shared.txt", n)]);
    let script = json!({"tasks": {
        "1.1": [first("one\n"), first("two\n"), [write("a.txt", "good\n")], [write("a.txt", "good\nlonger\n")]],
        "1.2": [[write("b.txt", "b\n"), write("shared.txt", "from 1.2\n")]],
    }});
    let repo = scripted_repo(&plan, &script);
    let output = repo.run(&["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events = events(&output);
    let of_task = |kind: &str| of_kind(&events, kind).into_iter().filter(|e| e["task"] == "1.1").collect::<Vec<_>>();
    let chosen: Vec<&Value> = of_task("candidate_chosen").iter().map(|e| &e["candidate"]).collect();
    assert_eq!(chosen, [&json!(1), &json!(2), &json!(1)], "1 conflicts, then 2, then round two's 1 lands");
    assert!(
        of_task("candidate_chosen")[1]["why"]
            .as_str()
            .unwrap()
            .contains("before it, candidate 1 (in shared.txt) conflict"),
        "{}",
        of_task("candidate_chosen")[1]["why"]
    );
    let rounds: Vec<&Value> = of_task("candidates_started").iter().map(|e| &e["attempts"]).collect();
    assert_eq!(rounds, [&json!([1, 2]), &json!([3, 4])]);
    assert!(
        of_task("attempt_failed")[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("every candidate that passed Verify conflicts")
    );
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:shared.txt"]), "from 1.2");
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:a.txt"]), "good");
    // The refs hold the last round's candidates.
    let run = repo.newest_run();
    let refs = candidate_refs(&repo);
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert_eq!(git(repo.root(), &["show", &format!("refs/wavecrew/{run}/1.1/candidate-2:a.txt")]), "good\nlonger");
}

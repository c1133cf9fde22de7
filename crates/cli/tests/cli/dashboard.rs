//! The dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core
//! (`crates/server/tests/browser/room.mjs`), against `wavecrew run --serve` and `wavecrew serve`
//! with the scripted agent (a test double) on a real repository.
//!
//! Needs `node`, Chromium (`$CHROMIUM` or `/usr/bin/chromium`) and playwright-core in
//! `$WAVECREW_BROWSER_DEPS/node_modules`; `scripts/test.sh` (and so `.ci/run`) installs them.
//! Screenshots are kept in the target folder (`target/tmp/dashboard-*.png`).

use crate::common::{CHECK, Repo, Stopped, check_gate_plan, git, scripted_repo, stderr, write};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The browser script, and the environment it needs; a clear failure when something is missing.
fn browser_script() -> (PathBuf, PathBuf) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/browser/room.mjs");
    let deps = std::env::var_os("WAVECREW_BROWSER_DEPS").map(PathBuf::from).unwrap_or_else(|| {
        panic!("set WAVECREW_BROWSER_DEPS to the folder where playwright-core is installed (scripts/test.sh does)")
    });
    let chromium = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        chromium.exists(),
        "no Chromium at {} (install Debian's `chromium`; scripts/test.sh does)",
        chromium.display()
    );
    (script, deps)
}

/// Runs `room.mjs ARGS` (it writes `ready`, if given, once the page shows the run); returns its
/// JSON summary, or fails with what it said.
fn browse(args: &[&str], ready: Option<&Path>) -> Value {
    let (script, deps) = browser_script();
    let mut node = Command::new("node");
    node.arg(&script).args(args).env("WAVECREW_BROWSER_DEPS", deps);
    if let Some(ready) = ready {
        node.env("WAVECREW_PAGE_READY", ready);
    }
    let output = node.output().expect("node runs the browser script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "room.mjs {args:?} failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn screenshot(name: &str) -> String {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name).display().to_string()
}

/// Reads `child`'s stderr on a thread until the dashboard's URL; the rest is kept for later.
fn dashboard_url(child: &mut Child) -> (String, mpsc::Receiver<String>) {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("no dashboard URL in {seen:?}"));
        if let Some(url) = line.strip_prefix("dashboard: ") {
            return (url.to_owned(), rx);
        }
        seen.push(line);
    }
}

/// `http://ADDR/?token=T` -> `http://ADDR/runs/RUN?token=T`.
fn room_url(url: &str, run: &str) -> String {
    url.replacen("/?token=", &format!("/runs/{run}?token="), 1)
}

const LIVE_PLAN: &str = "# M1 Implementation Plan: Greeting

## Context

A greeting, checked by a person.

## Waves

### Wave 1: Write
> No dependencies.

**Task 1.1: Write the greeting** (type: auto)
- **Files**: `hello.txt`
- **Action**: Write hello.txt
- **Verify**: `test -s hello.txt`
- **Done**: hello.txt says hello

### Wave 2: Check
> Depends on: Wave 1

**Task 2.1: A person checks the greeting** (type: checkpoint:human-verify)
- **Files**: `checked.txt`
- **Action**: Note that hello.txt was read
- **Verify**: `test -s checked.txt`
- **Done**: a person approved it

## Commit Strategy

```
feat(M1): {task 1.1 description}
feat(M1): {task 2.1 description}
```
";

#[test]
fn a_browser_follows_a_run_live_and_approves_its_checkpoint() {
    // 1.1 works until the page watches it: the browser must see it running, then committed.
    let watching = tempfile::tempdir().unwrap();
    let ready = watching.path().join("page-ready");
    let script = json!({"tasks": {
        "1.1": [[{"say": "writing the greeting"}, {"wait_for": ready.display().to_string()}, write("hello.txt", "hello\n")]],
        "2.1": [[{"say": "reading hello.txt"}, write("checked.txt", "read\n")]],
    }});
    let repo = scripted_repo(LIVE_PLAN, &script);
    let mut child = Stopped(repo.spawn_run(&["--serve"]));
    let (url, rest) = dashboard_url(&mut child.0);
    assert!(url.starts_with("http://127.0.0.1:") && url.contains("/?token="), "{url}");
    let run = repo.newest_run();

    let shot = screenshot("dashboard-room.png");
    let summary = browse(&[&room_url(&url, &run), &shot], Some(&ready));
    assert_eq!(summary["approved"], "2.1");
    assert_eq!(summary["final"], "succeeded");
    let report = summary["report_link"].as_str().unwrap_or_default();
    assert!(report.starts_with(&format!("/api/runs/{run}/report")), "{summary}");
    let seen = |task: &str| -> Vec<String> {
        summary["states_seen"][task].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(seen("2.1").last().map(String::as_str), Some("committed"), "{summary}");
    assert!(seen("2.1").contains(&"waiting".to_owned()), "{summary}");
    assert_eq!(seen("1.1").first().map(String::as_str), Some("running"), "{summary}");
    assert_eq!(seen("1.1").last().map(String::as_str), Some("committed"), "{summary}");
    assert!(Path::new(&shot).metadata().unwrap().len() > 10_000, "a real screenshot at {shot}");
    eprintln!("screenshot: {shot}");

    let status = child.0.wait().unwrap();
    let said: Vec<String> = rest.try_iter().collect();
    assert!(status.success(), "the run failed: {said:?}");
    let tasks: Vec<String> = repo.commits("wavecrew/M1").into_iter().map(|(task, _)| task).collect();
    assert_eq!(tasks, ["1.1", "2.1"]);
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:checked.txt"]), "read");
}

const HOSTILE_PLAN: &str = "# M1 Implementation Plan: Auth <script>window.__xss=1</script> {{TOKEN}}

## Context

<img src=x onerror=\"window.__xss=1\"> and {{RUN}} and <b>bold</b>

## Waves

### Wave 1: Build <script>window.__xss=1</script>
> No dependencies.

**Task 1.1: Store <img src=x onerror=\"window.__xss=1\">** (type: auto)
- **Files**: `a.txt`
- **Action**: Write <script>window.__xss=1</script>
- **Verify**: `test -s a.txt`
- **Done**: {{TOKEN}} done

## Commit Strategy

```
feat(M1): {task 1.1 description}
```
";

#[test]
fn markup_in_a_plan_and_in_agent_output_stays_text_in_the_browser() {
    let script = json!({"tasks": {
        "1.1": [[
            {"say": "<img src=x onerror=\"window.__xss=1\">"},
            {"say": "<script>window.__xss=1</script> {{TOKEN}}"},
            write("a.txt", "<script>window.__xss=1</script>\n"),
        ]],
    }});
    let repo = scripted_repo(HOSTILE_PLAN, &script);
    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let run = repo.newest_run();

    let mut serve = Stopped(repo.command(&["serve"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap());
    let (url, _rest) = dashboard_url(&mut serve.0);
    let shot = screenshot("dashboard-xss.png");
    let summary = browse(&["--xss", &room_url(&url, &run), &shot], None);
    drop(serve);
    assert_eq!(summary["ok"], true, "{summary}");
    assert_eq!(summary["hostile_text_shown"], true, "the markup is on the page, as text: {summary}");
    assert_eq!(summary["tasks"], 1, "{summary}");
    assert!(summary["log_lines"].as_u64().unwrap() >= 2, "the agent's hostile lines are shown: {summary}");
}

#[test]
fn the_room_shows_every_round_of_a_gate_with_its_findings_and_fix() {
    // A gate that is red once (CHECK is green once value.txt says 3), then green after a fix.
    let script = json!({"tasks": {
        "1.1": [[write("value.txt", "1\n"), write("check.sh", CHECK)]],
        "2.1": [[write("value.txt", "3\n")]],
    }});
    let repo = scripted_repo(&check_gate_plan(), &script);
    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let run = repo.newest_run();
    let log = git(repo.root(), &["log", "--format=%H %s", "wavecrew/M1"]);
    let fix = log.lines().find(|l| l.ends_with("(gate round 1)")).unwrap_or_else(|| panic!("{log}"))[..40].to_owned();

    let mut serve = Stopped(repo.command(&["serve"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap());
    let (url, _rest) = dashboard_url(&mut serve.0);
    let summary = browse(&["--gates", &room_url(&url, &run), &screenshot("dashboard-gates.png")], None);
    drop(serve);
    let gate = &summary["gates"][0];
    assert!(gate["title"].as_str().unwrap().contains("task 2.1 · 2 rounds"), "{summary}");
    assert_eq!(gate["passed"], true, "{summary}");
    let (red, green) = (&gate["rounds"][0], &gate["rounds"][1]);
    assert!(red["title"].as_str().unwrap().starts_with("Round 1") && red["passed"] == false, "{summary}");
    assert!(red["findings"].to_string().contains("1 test(s) failed"), "{summary}");
    assert!(red["metrics"].to_string().contains("failed tests"), "{summary}");
    assert_eq!(red["fix"].as_str(), Some(format!("Fixed in {}", &fix[..10]).as_str()), "{summary}");
    assert!(green["title"].as_str().unwrap().starts_with("Round 2") && green["passed"] == true, "{summary}");
    assert_eq!(green["fix"], Value::Null, "{summary}");
    assert_eq!(gate["rounds"].as_array().unwrap().len(), 2, "{summary}");
}

/// A port free now, for a `wavecrew serve` that must come back on the same one.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `wavecrew serve --port PORT` in `repo`, and the URL it printed.
fn serve_on(repo: &Repo, port: u16) -> (Stopped, String) {
    let args = ["serve", "--port", &port.to_string()];
    let mut serve = Stopped(repo.command(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap());
    let (url, _rest) = dashboard_url(&mut serve.0);
    (serve, url)
}

/// Waits until `path` exists.
fn wait_for_file(path: &Path) {
    for _ in 0..600 {
        if path.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} never appeared", path.display());
}

const TWO_WAVES: &str = "# M1 Implementation Plan: Two waves

## Context

Two tasks, one after the other.

## Waves

### Wave 1: Write
> No dependencies.

**Task 1.1: Write a** (type: auto)
- **Files**: `a.txt`
- **Action**: Write a.txt
- **Verify**: `test -s a.txt`
- **Done**: a.txt is written

### Wave 2: Write more
> Depends on: Wave 1

**Task 2.1: Write b** (type: auto)
- **Files**: `b.txt`
- **Action**: Write b.txt
- **Verify**: `test -s b.txt`
- **Done**: b.txt is written
";

#[test]
fn a_room_that_lost_its_server_shows_after_reconnecting_what_a_fresh_load_shows() {
    // 1.1 works until the page watches it and the server is gone; the run ends while it is.
    let watching = tempfile::tempdir().unwrap();
    let (ready, go) = (watching.path().join("page-ready"), watching.path().join("go"));
    let script = json!({"tasks": {
        "1.1": [[{"say": "writing a"}, {"wait_for": ready.display().to_string()}, {"wait_for": go.display().to_string()},
                 write("a.txt", "a\n")]],
        "2.1": [[{"say": "writing b"}, write("b.txt", "b\n")]],
    }});
    let repo = scripted_repo(TWO_WAVES, &script);
    let mut run = Stopped(repo.spawn_run(&[]));
    let port = free_port();
    let (first, _) = serve_on(&repo, port);
    let id = repo.newest_run();
    // Without the token: the read-only room, the same whatever token the next server makes.
    let url = format!("http://127.0.0.1:{port}/runs/{id}");
    let shot = screenshot("dashboard-reconnect.png");
    let browser = std::thread::spawn({
        let (url, shot, ready) = (url.clone(), shot.clone(), ready.clone());
        move || browse(&["--reconnect", &url, &shot], Some(&ready))
    });
    wait_for_file(&ready);
    drop(first);
    std::fs::write(&go, "go\n").unwrap();
    assert!(run.0.wait().unwrap().success(), "the run failed");
    let (_second, _) = serve_on(&repo, port);
    let summary = browser.join().unwrap();
    assert_eq!(summary["final"], "succeeded", "{summary}");
    let conn: Vec<&str> = summary["conn_seen"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(conn.contains(&"reconnecting") && conn.last() == Some(&"final"), "{summary}");
    assert_eq!(summary["reconnected"], summary["fresh"], "the reconnected room differs from a fresh load");
    assert_eq!(summary["same"], true, "{summary}");
    assert!(summary["fresh"]["text"].as_str().unwrap().contains("2/2 committed"), "{summary}");
}

#[test]
fn a_burst_of_events_reaches_the_room_in_fewer_rooms_than_events() {
    // Eight lanes whose agents all wait for the page, then finish at once.
    let watching = tempfile::tempdir().unwrap();
    let ready = watching.path().join("page-ready");
    let ids: Vec<String> = (1..=8).map(|n| format!("1.{n}")).collect();
    let mut plan = String::from(
        "# M1 Implementation Plan: Burst\n\n## Context\n\nEight agents at once.\n\n## Waves\n\n### Wave 1: All\n> No dependencies.\n\n",
    );
    let mut tasks = serde_json::Map::new();
    for id in &ids {
        let file = format!("f{}.txt", id.replace('.', "-"));
        plan.push_str(&format!(
            "**Task {id}: Write {file}** (type: auto)\n- **Files**: `{file}`\n- **Action**: Write it\n\
             - **Verify**: `test -s {file}`\n- **Done**: it is written\n\n"
        ));
        let steps =
            json!([[{"say": format!("{id} waits")}, {"wait_for": ready.display().to_string()}, write(&file, "x\n")]]);
        tasks.insert(id.clone(), steps);
    }
    plan.push_str("## Agent Strategy\n\n| Agent | Model | Tasks |\n|---|---|---|\n");
    for (n, id) in ids.iter().enumerate() {
        plan.push_str(&format!("| Worker {} | sonnet | {id} |\n", n + 1));
    }
    let repo = scripted_repo(&plan, &json!({ "tasks": tasks }));
    let mut run = Stopped(repo.spawn_run(&[]));
    let (_serve, url) = serve_on(&repo, 0);
    let id = repo.newest_run();
    let summary = browse(&["--burst", &room_url(&url, &id), &screenshot("dashboard-burst.png")], Some(&ready));
    assert!(run.0.wait().unwrap().success(), "the run failed");
    assert_eq!(summary["final"], "succeeded", "{summary}");
    assert_eq!(summary["reconnected"], summary["fresh"], "the live room differs from a fresh load");
    assert!(summary["fresh"]["text"].as_str().unwrap().contains("8/8 committed"), "{summary}");
    let events = summary["final_seq"].as_u64().unwrap() - summary["seq_at_ready"].as_u64().unwrap();
    let rooms = summary["rooms"].as_array().unwrap().len() as u64;
    eprintln!("{events} events, {rooms} rooms");
    assert!(events >= 3 * 8, "eight tasks finishing make a burst: {summary}");
    assert!(rooms > 0 && rooms * 2 <= events, "{rooms} rooms for {events} events: {summary}");
}

#[test]
fn the_room_draws_the_run_s_timeline_as_a_gantt_chart_with_the_critical_path_marked() {
    // 1.1 and 1.2 run side by side, 1.2 the longer; 2.1 waits for both: 1.2 → 2.1 is critical.
    let repo = crate::timeline::finished_run();
    let run = repo.newest_run();

    let (_serve, url) = serve_on(&repo, 0);
    let shot = screenshot("dashboard-timeline.png");
    let summary = browse(&["--timeline", &room_url(&url, &run), &shot], None);
    let lanes: Vec<&str> = summary["lanes"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(lanes.len(), 3, "{summary}");
    assert!(lanes[0].starts_with("Agent 1.1 · ") && lanes[0].ends_with('%'), "{summary}");
    let numbers = summary["numbers"].to_string();
    assert!(numbers.contains("critical-path bound") && numbers.contains("1.2 → 2.1"), "{summary}");
    let bars = summary["bars"].as_array().unwrap();
    let of = |task: &'static str| bars.iter().filter(move |b| b["task"] == task);
    // The critical path's bars are marked, the other task's are not.
    assert!(of("1.2").chain(of("2.1")).all(|b| b["critical"] == true), "{summary}");
    assert!(of("1.1").count() > 0 && of("1.1").all(|b| b["critical"] == false), "{summary}");
    // 2.1 starts after 1.2's agent ended, and the bars stay inside the chart.
    let x = |b: &Value| b["x"].as_f64().unwrap();
    let end_of_1_2 =
        of("1.2").filter(|b| b["phase"] == "agent").map(|b| x(b) + b["width"].as_f64().unwrap()).fold(0.0, f64::max);
    assert!(of("2.1").all(|b| x(b) >= end_of_1_2), "{summary}");
    let width = summary["width"].as_f64().unwrap();
    assert!(bars.iter().all(|b| x(b) >= 0.0 && x(b) + b["width"].as_f64().unwrap() <= width), "{summary}");
    assert!(summary["drawn_width"].as_f64().unwrap() > 600.0, "the chart takes the section's width: {summary}");
    let legend = summary["legend"].to_string();
    assert!(legend.contains("agent") && legend.contains("critical path"), "{summary}");
    // The page draws every bar the room carries.
    let room: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.state_dir().join("runs").join(&run).join("report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(bars.len(), room["timeline"]["bars"].as_array().unwrap().len(), "{summary}");
    assert!(Path::new(&shot).metadata().unwrap().len() > 5_000, "a real screenshot at {shot}");
}

#[test]
fn the_room_links_the_pull_request_ship_opened_and_only_an_http_one() {
    for (html_url, shown) in [("https://github.com/acme/app/pull/7", true), ("javascript:window.__xss=1", false)] {
        let repo = scripted_repo(
            &crate::common::plan(&[crate::common::wave(
                1,
                "No dependencies.",
                &[("1.1", "`a.txt`", "`test -f a.txt`")],
            )]),
            &json!({"tasks": {"1.1": [[write("a.txt", "a\n")]]}}),
        );
        assert!(repo.run(&[]).status.success());
        let remote = tempfile::tempdir().unwrap();
        git(remote.path(), &["init", "--quiet", "--bare"]);
        git(repo.root(), &["remote", "add", "origin", &remote.path().display().to_string()]);
        let created = json!({"number": 7, "html_url": html_url}).to_string();
        let api = crate::common::HttpStandIn::start(move |request| {
            Some(if request.method == "GET" { (200, "[]".to_owned()) } else { (201, created.clone()) })
        });
        std::fs::write(
            repo.root().join("wavecrew.toml"),
            format!("[ship]\nforge = \"github\"\napi = \"http://{}\"\nproject = \"acme/app\"\n", api.addr),
        )
        .unwrap();
        let shipped = repo.command(&["ship"]).env("GITHUB_TOKEN", "t").output().unwrap();
        assert!(shipped.status.success(), "{}", stderr(&shipped));
        let run = repo.newest_run();

        let mut serve = Stopped(repo.command(&["serve"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap());
        let (url, _rest) = dashboard_url(&mut serve.0);
        let summary = browse(&["--xss", &room_url(&url, &run), &screenshot("dashboard-pull-request.png")], None);
        drop(serve);
        assert_eq!(summary["ok"], true, "{summary}");
        if shown {
            assert_eq!(summary["pull_request"], json!({"href": html_url, "text": html_url}), "{summary}");
        } else {
            assert_eq!(summary["pull_request"], Value::Null, "a URL that is not http(s) is not linked: {summary}");
        }
    }
}

const REVIEW_PLAN: &str = "# M1 Implementation Plan: Greeting

## Context

A greeting in code, checked by a person.

## Waves

### Wave 1: Write
> No dependencies.

**Task 1.1: Write the greeting** (type: auto)
- **Files**: `src/greet.rs`
- **Action**: Write src/greet.rs
- **Verify**: `test -s src/greet.rs`
- **Done**: it greets

### Wave 2: Check
> Depends on: Wave 1

**Task 2.1: A person checks the greeting's text** (type: checkpoint:human-verify)
- **Files**: `greeting.txt`
- **Action**: Write greeting.txt
- **Verify**: `test -s greeting.txt`
- **Done**: a person approved it

## Commit Strategy

```
feat(M1): {task 1.1 description}
feat(M1): {task 2.1 description}
```
";

#[test]
fn a_person_reviews_diffs_in_the_room_and_rejects_with_comments_the_agent_then_reads() {
    let script = json!({"tasks": {
        "1.1": [[write("src/greet.rs", "// Greets.\npub fn greet() -> &'static str {\n    \"hello\"\n}\n")]],
        "2.1": [[write("greeting.txt", "hello you\n")], [write("greeting.txt", "hello room\n")]],
    }});
    let repo = scripted_repo(REVIEW_PLAN, &script);
    let mut child = Stopped(repo.spawn_run(&["--serve"]));
    let (url, rest) = dashboard_url(&mut child.0);
    let run = repo.newest_run();

    let shot = screenshot("dashboard-diff-review.png");
    let summary = browse(&["--diff", &room_url(&url, &run), &shot], None);
    assert_eq!(summary["files"], json!(["src/greet.rs"]), "{summary}");
    assert_eq!(summary["split_rows"], 4, "four added lines, one row each: {summary}");
    assert_eq!(summary["card_files"], json!(["greeting.txt"]), "{summary}");
    assert_eq!(summary["commented"], "greeting.txt:1", "{summary}");
    // The comment and the reason being written survived a reload of the page.
    let restored = json!({
        "where": "greeting.txt:1",
        "text": "Say hello to the whole room, not only to you",
        "reason": "The greeting is too narrow",
    });
    assert_eq!(summary["restored"], restored, "{summary}");
    assert_eq!(summary["drafts_left"], 0, "a sent review is forgotten: {summary}");
    assert_eq!(summary["final"], "succeeded", "{summary}");

    let status = child.0.wait().unwrap();
    let said: Vec<String> = rest.try_iter().collect();
    assert!(status.success(), "the run failed: {said:?}");
    // The agent's next prompt holds the reason and the comment on its line.
    let prompt = repo.run_file("prompts", "2.1-2.md");
    assert!(prompt.contains("The greeting is too narrow"), "{prompt}");
    assert!(prompt.contains("- greeting.txt:1: Say hello to the whole room, not only to you"), "{prompt}");
    assert_eq!(git(repo.root(), &["show", "wavecrew/M1:greeting.txt"]), "hello room");
}

#[test]
fn a_gate_finding_opens_the_diff_at_its_line() {
    use crate::gates::{READ_REPORT, READ_REPORT_FIXED, security_review};
    let plan = crate::common::gate_plan("`reports.py`", "security-auditor", "No findings.", "0 vulnerabilities");
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
    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let run = repo.newest_run();

    let mut serve = Stopped(repo.command(&["serve"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap());
    let (url, _rest) = dashboard_url(&mut serve.0);
    let summary = browse(&["--finding", &room_url(&url, &run), &screenshot("dashboard-finding.png")], None);
    assert_eq!(summary["location"], "reports.py:5", "{summary}");
    // The change the gate reviewed: the build task's, at the line the finding names.
    assert!(summary["title"].as_str().unwrap().starts_with("1.1 "), "{summary}");
    assert_eq!((summary["path"].as_str(), summary["line"].as_u64()), (Some("reports.py"), Some(5)), "{summary}");
    assert!(summary["text"].as_str().unwrap().contains("os.path.join(\"reports\", name)"), "{summary}");
}

const PREVIEW_PLAN: &str = "# M1 Implementation Plan: Page

## Context

A page, looked at by a person before it lands.

## Waves

### Wave 1: Page
> No dependencies.

**Task 1.1: Rewrite the page's heading** (type: checkpoint:human-verify)
- **Files**: `site/index.html`
- **Action**: Make the heading say New page
- **Verify**: Manual visual check: open the preview, the heading says New page
- **Done**: a person saw the new heading

## Commit Strategy

```
feat(M1): {task 1.1 description}
```
";

/// A dev server's stand-in (node): serves `site/index.html` of the folder it runs in, says
/// whether the worktree's setup ran, announces its address as Vite does.
const DEV_SERVER: &str = r#"import http from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
const port = Number(process.argv[2]);
http.createServer((req, res) => {
  const setup = existsSync('ignored/setup-done') ? 'set up' : 'not set up';
  res.setHeader('content-type', 'text/html');
  res.end(readFileSync('site/index.html', 'utf8') + `<p id="setup">${setup}</p>`);
}).listen(port, '127.0.0.1', () => console.log(`  Local:   http://localhost:${port}/`));
"#;

#[test]
fn a_person_sees_a_checkpoint_s_change_running_from_its_card_until_they_answer() {
    let script = json!({"tasks": {"1.1": [[write("site/index.html", "<h1>New page</h1>\n")]]}});
    let repo = Repo::builder()
        .file("README.md", "# project\n")
        .file(".gitignore", "ignored/\n")
        .file("site/index.html", "<h1>Old page</h1>\n")
        .file("serve.mjs", DEV_SERVER)
        .file(
            "wavecrew.toml",
            "[preview]\ncommand = \"node serve.mjs {port}\"\n\n[worktree]\nsetup = \"mkdir -p ignored && touch ignored/setup-done\"\n",
        )
        .commit("initial")
        .plan(PREVIEW_PLAN)
        .script(&script)
        .wavecrew(crate::common::wavecrew())
        .build();
    let mut child = Stopped(repo.spawn_run(&["--serve"]));
    let (url, rest) = dashboard_url(&mut child.0);
    let run = repo.newest_run();
    let said = rest.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(said, "previews: `node serve.mjs {port}`, from a waiting checkpoint's card");

    let shot = screenshot("dashboard-preview.png");
    let summary = browse(&["--preview", &room_url(&url, &run), &shot], None);
    assert_eq!(summary["heading"], "New page", "the preview serves the checkpoint's change: {summary}");
    assert_eq!(summary["setup"], "set up", "in a worktree set up as a lane's: {summary}");
    assert!(summary["href"].as_str().unwrap().starts_with("http://localhost:"), "{summary}");
    assert_eq!((&summary["gone"], &summary["refused"]), (&json!(true), &json!(true)), "{summary}");
    assert_eq!(summary["final"], "succeeded", "{summary}");

    let status = child.0.wait().unwrap();
    let said: Vec<String> = rest.try_iter().collect();
    assert!(status.success(), "the run failed: {said:?}");
    // The person's main tree never saw the change; the preview's worktree is gone.
    assert_eq!(std::fs::read_to_string(repo.root().join("site/index.html")).unwrap(), "<h1>Old page</h1>\n");
    assert!(!repo.git(&["worktree", "list"]).contains("previews"), "{}", repo.git(&["worktree", "list"]));
    let log = std::fs::read_to_string(repo.state_dir().join(format!("runs/{run}/logs/1.1-preview.log"))).unwrap();
    assert!(log.contains("Local:   http://localhost:"), "{log}");
}

//! The dashboard over real HTTP: every endpoint's status codes, the token rules, escaping of a
//! hostile plan, traversal attempts, limits and the live event stream.
//!
//! Each test writes a journal with a run in a temporary state folder (as a wavecrew process
//! would), starts a [`server::Dashboard`] on a free port and talks to it with a small HTTP/1.0
//! client over TCP.

use engine::events::{
    AnswerKind, CandidateEnd, CandidateVerdict, Event, GateCheck, GateFinding, GateMetric, LaneInfo, RunState, TaskType,
};
use engine::journal::{Journal, RunRecord, now_ms};
use server::{Dashboard, Limits, Options};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A plan full of markup and template syntax: none of it may run or expand in a page.
const HOSTILE_PLAN: &str = "# M1 Implementation Plan: Auth <script>window.__xss=1</script> {{TOKEN}}

## Context

<img src=x onerror=\"window.__xss=1\"> {{RUN}}

## Waves

### Wave 1: Build <script>alert(1)</script>

**Task 1.1: Store <img src=x onerror=\"window.__xss=1\">** (type: auto)
- **Files**: `src/a.rs`
- **Action**: write it
- **Verify**: `true`
- **Done**: done

**Task 1.2: Check it** (type: checkpoint:human-verify)
- **Files**: `src/a.rs`
- **Action**: look
- **Verify**: `true`
- **Done**: approved

**Task 1.3: Pick** (type: checkpoint:decision)
- **Action**: Options: Postgres, SQLite
- **Verify**: chosen
- **Done**: chosen
";

struct Fixture {
    _dir: tempfile::TempDir,
    state: std::path::PathBuf,
    journal: Journal,
}

/// A state folder whose journal holds run `run` with the hostile plan: 1.1 running, 1.2 and
/// 1.3 waiting for people.
fn fixture(run: &str, pid: u32) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("wavecrew");
    let journal = fixture_in(&state, run, pid);
    Fixture { _dir: dir, state, journal }
}

/// The journal of [`fixture`], in the state folder `state`, which the caller keeps.
fn fixture_in(state: &Path, run: &str, pid: u32) -> Journal {
    let journal = Journal::open(&state.join("journal.sqlite")).unwrap();
    let record = RunRecord {
        id: run.to_owned(),
        plan_path: "plans/M1.plan.md".into(),
        plan_hash: "0".into(),
        plan_text: HOSTILE_PLAN.into(),
        milestone: "M1".into(),
        title: "Auth <script>window.__xss=1</script> {{TOKEN}}".into(),
        branch: "wavecrew/M1".into(),
        base: "abc".into(),
        state: RunState::Running,
        started_ms: now_ms(),
        finished_ms: None,
        pid,
        options: "{}".into(),
    };
    let tasks = ["1.1", "1.2", "1.3"].map(String::from);
    journal.create_run(&record, &tasks).unwrap();
    let events = [
        Event::RunStarted {
            milestone: "M1".into(),
            title: record.title.clone(),
            branch: record.branch.clone(),
            base: "abc".into(),
            tasks: tasks.to_vec(),
            lanes: vec![LaneInfo {
                name: "default".into(),
                agent: "scripted".into(),
                model: None,
                tasks: tasks.to_vec(),
            }],
        },
        attempt_started("1.1", 1),
        attempt_started("1.2", 1),
        Event::CheckpointWaiting {
            task: "1.2".into(),
            kind: TaskType::HumanVerify,
            options: vec![],
            commit: Some("abc123".into()),
            details: "<script>window.__xss=1</script>".into(),
            steps: vec![],
            auto: false,
        },
        attempt_started("1.3", 1),
        Event::CheckpointWaiting {
            task: "1.3".into(),
            kind: TaskType::Decision,
            options: vec!["Postgres".into(), "SQLite".into()],
            commit: None,
            details: String::new(),
            steps: vec![],
            auto: false,
        },
    ];
    for event in events {
        journal.record(run, event).unwrap();
    }
    journal
}

fn attempt_started(task: &str, attempt: u32) -> Event {
    Event::AttemptStarted {
        task: task.into(),
        attempt,
        lane: "default".into(),
        agent: "scripted".into(),
        model: None,
        worktree: "/tmp/none".into(),
        base: "abc".into(),
        role: None,
    }
}

/// The id of a process that has ended: a run "held" by it is interrupted.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    child.id()
}

async fn start(state: &Path, bind: IpAddr, limits: Limits) -> Dashboard {
    let options = Options { bind, port: 0, state_dir: state.to_owned(), token: None, limits, preview: None };
    Dashboard::start(options).await.unwrap()
}

/// A response: status, headers (lowercase names) and body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one HTTP/1.0 request (the server then ends the body by closing the connection).
async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.0\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned())).collect();
    Response { status, headers, body: body.to_owned() }
}

async fn get(addr: SocketAddr, path: &str) -> Response {
    send(addr, "GET", path, &[], "").await
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_and_api_answer_and_escape_a_hostile_plan() {
    let f = fixture("r1", dead_pid());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let addr = dash.addr();

    let runs = get(addr, "/api/runs").await;
    assert_eq!(runs.status, 200);
    let list = runs.json();
    assert_eq!(list[0]["id"], "r1");
    assert_eq!(list[0]["title"], "Auth <script>window.__xss=1</script> {{TOKEN}}");
    assert_eq!(list[0]["tasks_total"], 3);
    assert_eq!(list[0]["state"], "interrupted", "its process is gone");

    let room = get(addr, "/api/runs/r1").await;
    assert_eq!(room.status, 200);
    assert_eq!(room.header("content-type"), Some("application/json"));
    let room = room.json();
    assert_eq!(room["seq"], 6);
    assert_eq!(room["can_act"], false, "no token was presented");
    let states: Vec<(&str, &str)> = room["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("1.1", "running"), ("1.2", "waiting"), ("1.3", "waiting")]);
    assert_eq!(room["tasks"][1]["waiting"]["kind"], "checkpoint:human-verify");
    assert_eq!(room["tasks"][2]["waiting"]["options"], serde_json::json!(["Postgres", "SQLite"]));
    assert_eq!(room["lanes"][0]["current_task"], "1.1");
    assert!(room["context"].as_str().unwrap().contains("<img src=x"));

    // The pages are static: plan text never reaches their HTML, only the JSON.
    for path in ["/", "/runs/r1"] {
        let page = get(addr, path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.header("content-type").unwrap().starts_with("text/html"));
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert!(!page.body.contains("__xss"), "{path} holds plan text");
        assert!(!page.body.contains("{{TOKEN}}") && !page.body.contains("{{RUN}}"), "{path} has unfilled blanks");
        assert!(page.body.contains(r#"<meta name="wavecrew-token" content="">"#), "no token without one presented");
    }
    let asset = get(addr, "/assets/style.css").await;
    assert_eq!((asset.status, asset.header("content-type")), (200, Some("text/css; charset=utf-8")));
    // The room's modules, in their folder, as JavaScript (a module script needs that type).
    let module = get(addr, "/assets/room/stream.js").await;
    assert_eq!((module.status, module.header("content-type")), (200, Some("text/javascript; charset=utf-8")));
    let report = get(addr, "/api/runs/r1/report").await;
    assert_eq!((report.status, report.header("content-type")), (200, Some("text/plain; charset=utf-8")));
    assert!(report.body.contains("# Run r1") && report.body.contains("1.2"), "{}", report.body);
    assert_eq!(get(addr, "/api/runs/nope/report").await.status, 404);
    assert_eq!(get(addr, "/runs/nope").await.status, 404);
    assert_eq!(get(addr, "/api/runs/nope").await.status, 404);
    assert_eq!(get(addr, "/nothing/here").await.status, 404);
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_room_carries_every_round_of_a_gate_in_order_with_its_fix() {
    let f = fixture("r1", dead_pid());
    let round = |round: u32, coverage: f64, findings: Vec<GateFinding>| Event::GateChecked {
        task: "1.1".into(),
        round,
        skill: "production-engineer".into(),
        passed: findings.is_empty(),
        findings,
        metrics: vec![GateMetric {
            name: "coverage of changed lines".into(),
            value: coverage,
            unit: "%".into(),
            source: "coverage/lcov.info".into(),
        }],
        notes: Vec::new(),
        unverified: Vec::new(),
    };
    let low = GateFinding { check: GateCheck::Coverage, message: "47.1% < 80%".into(), location: None };
    f.journal.record("r1", round(1, 47.1, vec![low])).unwrap();
    f.journal.record("r1", Event::GateFixCommitted { task: "1.1".into(), round: 1, commit: "f1x".into() }).unwrap();
    f.journal.record("r1", round(2, 91.0, Vec::new())).unwrap();
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;

    let room = get(dash.addr(), "/api/runs/r1").await.json();
    let gate = &room["gates"][0];
    let rounds: Vec<(u64, bool, f64, &str)> = gate["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let coverage = r["metrics"][0]["value"].as_f64().unwrap();
            (
                r["round"].as_u64().unwrap(),
                r["passed"].as_bool().unwrap(),
                coverage,
                r["fix_commit"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(rounds, [(1, false, 47.1, "f1x"), (2, true, 91.0, "-")], "{gate}");
    assert_eq!(gate["rounds"][0]["findings"][0]["message"], "47.1% < 80%");
    assert_eq!(gate["rounds"][0]["metrics"][0]["source"], "coverage/lcov.info");
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_task_card_lists_every_candidate_of_a_best_of_task_with_its_verdict() {
    let f = fixture("r1", dead_pid());
    let finished = |candidate: u32, verdict: CandidateVerdict, diff_lines: u64, tokens: u64| Event::CandidateFinished {
        task: "1.1".into(),
        end: CandidateEnd {
            candidate,
            attempt: candidate,
            verdict,
            commit: Some(format!("c{candidate}")),
            base: "abc".into(),
            reference: Some(format!("refs/wavecrew/r1/1.1/candidate-{candidate}")),
            outside_lines: 0,
            diff_lines,
            tokens,
            reason: None,
        },
    };
    let started = Event::CandidatesStarted { task: "1.1".into(), attempts: vec![1, 2], kept: vec![] };
    f.journal.record("r1", started).unwrap();
    f.journal.record("r1", finished(1, CandidateVerdict::Failed, 4, 900)).unwrap();
    f.journal.record("r1", finished(2, CandidateVerdict::Passed, 12, 300)).unwrap();
    let chosen = Event::CandidateChosen {
        task: "1.1".into(),
        candidate: 2,
        attempt: 2,
        ranking: vec![2],
        why: "candidate 2 is the only one whose Verify passed; 1 other candidate failed".into(),
    };
    f.journal.record("r1", chosen).unwrap();
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;

    let room = get(dash.addr(), "/api/runs/r1").await.json();
    let task = room["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "1.1").unwrap();
    let listed: Vec<(u64, &str, bool, u64, u64)> = task["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["candidate"].as_u64().unwrap(),
                c["verdict"].as_str().unwrap(),
                c["chosen"].as_bool().unwrap(),
                c["diff_lines"].as_u64().unwrap(),
                c["tokens"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [(1, "failed", false, 4, 900), (2, "passed", true, 12, 300)], "{task}");
    let other = room["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "1.2").unwrap();
    assert!(other.get("candidates").is_none(), "{other}");
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_room_names_the_pull_request_ship_opened_once_it_did() {
    let f = fixture("r1", dead_pid());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let before = get(dash.addr(), "/api/runs/r1").await.json();
    assert!(before["run"].get("pull_request").is_none(), "{}", before["run"]);
    let url = "https://github.com/acme/app/pull/7";
    let shipped = Event::RunShipped { url: url.into(), remote: "origin".into(), base: "main".into(), draft: true };
    f.journal.record("r1", shipped).unwrap();
    let after = get(dash.addr(), "/api/runs/r1").await.json();
    assert_eq!(after["run"]["pull_request"], url);
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_id_full_of_markup_is_escaped_in_the_page() {
    let f = fixture("r\"><script>x</script>", dead_pid());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let page = get(dash.addr(), "/runs/r%22%3E%3Cscript%3Ex%3C%2Fscript%3E").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"content="r&quot;&gt;&lt;script&gt;x&lt;/script&gt;""#), "{}", page.body);
    assert!(!page.body.contains("<script>x"));
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_need_the_token_in_the_header_and_a_matching_origin_and_host() {
    let f = fixture("r1", dead_pid());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let (addr, token) = (dash.addr(), dash.token().to_owned());
    let approve = "/api/runs/r1/tasks/1.2/approve";

    assert_eq!(send(addr, "POST", approve, &[], "{}").await.status, 403, "no token");
    let in_query = format!("{approve}?token={token}");
    assert_eq!(send(addr, "POST", &in_query, &[], "{}").await.status, 403, "a token in the URL is not enough");
    let cookie = format!("wavecrew_token_{}={token}", addr.port());
    assert_eq!(send(addr, "POST", approve, &[("Cookie", &cookie)], "{}").await.status, 403, "a cookie neither");
    let wrong = send(addr, "POST", approve, &[("X-Wavecrew-Token", "0000")], "{}").await;
    assert_eq!(wrong.status, 403);
    let foreign = [("X-Wavecrew-Token", token.as_str()), ("Origin", "http://evil.example")];
    assert_eq!(send(addr, "POST", approve, &foreign, "{}").await.status, 403, "another origin");
    let rebound = [("X-Wavecrew-Token", token.as_str()), ("Host", "evil.example")];
    assert_eq!(send(addr, "POST", approve, &rebound, "{}").await.status, 403, "another host");
    assert_eq!(send(addr, "GET", "/api/runs", &[("Host", "evil.example")], "").await.status, 403);
    assert!(f.journal.take_answer("r1", "1.2").unwrap().is_none(), "nothing refused was recorded");

    let origin = format!("http://{addr}");
    let ok = [("X-Wavecrew-Token", token.as_str()), ("Origin", origin.as_str())];
    let response = send(addr, "POST", approve, &ok, r#"{"note":"looks <b>good</b>"}"#).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["ok"], true);
    assert_eq!(
        f.journal.take_answer("r1", "1.2").unwrap(),
        Some((AnswerKind::Approved, Some("looks <b>good</b>".into())))
    );
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_follow_the_same_rules_as_the_cli() {
    let f = fixture("r1", dead_pid());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let (addr, token) = (dash.addr(), dash.token().to_owned());
    let auth = [("X-Wavecrew-Token", token.as_str())];
    let post = |path: &'static str, body: &'static str| async move { send(addr, "POST", path, &auth, body).await };

    let missing_reason = post("/api/runs/r1/tasks/1.2/reject", r#"{"reason":"  "}"#).await;
    assert_eq!(missing_reason.status, 400);
    assert!(missing_reason.json()["error"].as_str().unwrap().contains("reason"));
    let rejected = post("/api/runs/r1/tasks/1.2/reject", r#"{"reason":"the test is empty"}"#).await;
    assert_eq!(rejected.status, 200);
    assert_eq!(
        f.journal.take_answer("r1", "1.2").unwrap(),
        Some((AnswerKind::Rejected, Some("the test is empty".into())))
    );

    let bad_option = post("/api/runs/r1/tasks/1.3/decide", r#"{"option":"Mongo"}"#).await;
    assert_eq!(bad_option.status, 400);
    assert!(bad_option.json()["error"].as_str().unwrap().contains("Postgres | SQLite"));
    assert_eq!(post("/api/runs/r1/tasks/1.3/decide", r#"{"option":"sql"}"#).await.status, 200);
    assert_eq!(f.journal.take_answer("r1", "1.3").unwrap(), Some((AnswerKind::Decided, Some("SQLite".into()))));

    assert_eq!(post("/api/runs/r1/tasks/1.1/approve", "{}").await.status, 409, "1.1 is not waiting");
    assert_eq!(post("/api/runs/r1/tasks/9.9/approve", "{}").await.status, 404);
    assert_eq!(post("/api/runs/r1/tasks/1.2/explode", "{}").await.status, 404);
    assert_eq!(post("/api/runs/nope/tasks/1.2/approve", "{}").await.status, 404);
    assert_eq!(post("/api/runs/r1/tasks/1.2/approve", "{not json").await.status, 400);
    assert_eq!(post("/api/runs/r1/tasks/1.2/approve", r#"{"sudo":true}"#).await.status, 400);
    assert_eq!(post("/api/runs/r1/manual", "{}").await.status, 409, "not verified yet");
    assert_eq!(post("/api/runs/r1/cancel", "").await.status, 409, "its process is gone");
    let huge = format!(r#"{{"note":"{}"}}"#, "x".repeat(64 * 1024));
    assert_eq!(send(addr, "POST", "/api/runs/r1/tasks/1.2/approve", &auth, &huge).await.status, 413);
    assert_eq!(send(addr, "GET", "/api/runs/r1/tasks/1.2/approve", &auth, "").await.status, 405);
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_stops_the_run_s_process() {
    let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let f = fixture("r1", child.id());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let auth = [("X-Wavecrew-Token", dash.token())];
    let response = send(dash.addr(), "POST", "/api/runs/r1/cancel", &auth, "{}").await;
    assert_eq!(response.status, 200, "{}", response.body);
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run's process got SIGTERM: {status:?}");
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_are_read_only_inside_the_run_s_folder() {
    let f = fixture("r1", dead_pid());
    let logs = f.state.join("runs/r1/logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("1.1-1-agent.log"), "agent says <script>hi</script>\n").unwrap();
    std::fs::write(logs.join("1.1-1-verify-1.log"), "verify ok\n").unwrap();
    std::fs::write(f.state.join("secret.txt"), "do not read").unwrap();
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let addr = dash.addr();

    let log = get(addr, "/api/runs/r1/tasks/1.1/log").await;
    assert_eq!(log.status, 200);
    assert_eq!(log.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        log.body,
        "==> 1.1-1-agent.log <==\nagent says <script>hi</script>\n==> 1.1-1-verify-1.log <==\nverify ok\n"
    );
    assert_eq!(get(addr, "/api/runs/r1/tasks/1.1/log?bytes=10").await.body, "verify ok\n");
    // The room starts each lane's log with the tail of its latest task's agent log.
    std::fs::write(logs.join("1.3-1-agent.log"), "thinking <i>hard</i>\nchose\n").unwrap();
    let room = get(addr, "/api/runs/r1").await.json();
    assert_eq!(
        room["lanes"][0]["log_tail"],
        serde_json::json!([
            {"task": "1.3", "attempt": 1, "line": "thinking <i>hard</i>"},
            {"task": "1.3", "attempt": 1, "line": "chose"}
        ])
    );
    for path in [
        "/api/runs/r1/tasks/..%2F..%2Fsecret.txt/log",
        "/api/runs/r1/tasks/%2e%2e/log",
        "/api/runs/..%2F..%2F/tasks/1.1/log",
        "/api/runs/r1/tasks/..%2F..%2F..%2F..%2Fetc%2Fpasswd/log",
        "/assets/..%2Fsrc%2Flib.rs",
        "/assets/%2e%2e%2fCargo.toml",
        "/assets/room.html",
        "/assets/room/../room.html",
        "/assets/room/%2e%2e/room.html",
        "/assets/room/",
    ] {
        let response = get(addr, path).await;
        assert_eq!(response.status, 404, "{path}: {}", response.body);
        assert!(!response.body.contains("do not read") && !response.body.contains("root:"), "{path}");
    }
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bound_to_another_address_every_request_needs_the_token_and_a_url_token_becomes_a_cookie() {
    let f = fixture("r1", dead_pid());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::UNSPECIFIED), Limits::default()).await;
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), dash.addr().port());
    let token = dash.token().to_owned();
    assert_eq!(get(addr, "/api/runs").await.status, 401);
    assert_eq!(get(addr, "/").await.status, 401);
    assert_eq!(get(addr, "/assets/style.css").await.status, 401);

    let page = get(addr, &format!("/runs/r1?token={token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!(r#"content="{token}""#)), "the page gets the token for its actions");
    let cookie = page.header("set-cookie").expect("a cookie").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let with_cookie = send(addr, "GET", "/api/runs/r1", &[("Cookie", pair)], "").await;
    assert_eq!(with_cookie.status, 200);
    assert_eq!(with_cookie.json()["can_act"], true);
    dash.stop().await.unwrap();
}

/// Reads server-sent events as `(event, id, data)` until `want` of them arrived.
async fn read_events(reader: &mut BufReader<TcpStream>, want: usize) -> Vec<(String, Option<String>, String)> {
    let mut out = Vec::new();
    let (mut event, mut id, mut data) = (String::new(), None, String::new());
    while out.len() < want {
        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(20), reader.read_line(&mut line)).await;
        let n = read.expect("an event within 20 s").unwrap();
        assert!(n > 0, "the stream ended after {out:?}");
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !data.is_empty() {
                out.push((std::mem::take(&mut event), id.take(), std::mem::take(&mut data)));
            }
        } else if let Some(v) = line.strip_prefix("event:") {
            event = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("id:") {
            id = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    out
}

async fn open_stream(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: text/event-stream\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).await.unwrap();
    assert!(status.contains(" 200 "), "{status}");
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        if line.trim().is_empty() {
            break;
        }
    }
    reader
}

/// The room the API gives a page, as the live stream gives it (no log tails, no `can_act`).
async fn room_as_streamed(addr: SocketAddr) -> serde_json::Value {
    let mut room = get(addr, "/api/runs/r1").await.json();
    room.as_object_mut().unwrap().remove("can_act");
    for lane in room["lanes"].as_array_mut().unwrap() {
        lane.as_object_mut().unwrap().remove("log_tail");
    }
    room
}

#[tokio::test(flavor = "multi_thread")]
async fn the_event_stream_sends_the_room_when_the_journal_moves_then_the_logs() {
    let f = fixture("r1", dead_pid());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    // A page that shows the room as of event 4 gets the room as of 6, the same as a fresh load.
    let mut stream = open_stream(dash.addr(), "/api/runs/r1/events?after=4", &[]).await;
    let first = read_events(&mut stream, 1).await;
    assert_eq!((first[0].0.as_str(), first[0].1.as_deref()), ("room", Some("6")));
    let room: serde_json::Value = serde_json::from_str(&first[0].2).unwrap();
    assert_eq!(room, room_as_streamed(dash.addr()).await);
    assert_eq!(room["tasks"][1]["state"], "waiting");

    // Another process records an event and its agent prints: both arrive.
    let other = Journal::open(&f.state.join("journal.sqlite")).unwrap();
    other.record("r1", attempt_started("1.1", 2)).unwrap();
    let logs = f.state.join("runs/r1/logs");
    std::fs::create_dir_all(&logs).unwrap();
    let live = read_events(&mut stream, 2).await;
    let kinds: Vec<_> = live.iter().map(|(e, id, _)| (e.as_str(), id.as_deref())).collect();
    assert!(kinds.contains(&("room", Some("7"))), "{live:?}");
    let room = &live.iter().find(|(e, _, _)| e == "room").unwrap().2;
    assert_eq!(serde_json::from_str::<serde_json::Value>(room).unwrap()["tasks"][0]["attempts"], 2);
    // The lane's mark that the attempt started.
    let mark = &live.iter().find(|(e, _, _)| e == "log").unwrap().2;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(mark).unwrap(),
        serde_json::json!({"lane": "default", "task": "1.1", "attempt": 2, "mark": "attempt"})
    );
    std::fs::write(logs.join("1.1-2-agent.log"), "hello <b>there</b>\nhalf a li").unwrap();
    let line = read_events(&mut stream, 1).await;
    assert_eq!(line[0].0, "log");
    let data: serde_json::Value = serde_json::from_str(&line[0].2).unwrap();
    assert_eq!(data, serde_json::json!({"lane": "default", "task": "1.1", "attempt": 2, "line": "hello <b>there</b>"}));

    // A reconnecting page says what it shows with Last-Event-ID: behind, it gets the room now;
    // up to date, it gets the next one only.
    let mut behind = open_stream(dash.addr(), "/api/runs/r1/events", &[("Last-Event-ID", "6")]).await;
    let mut current = open_stream(dash.addr(), "/api/runs/r1/events", &[("Last-Event-ID", "7")]).await;
    assert_eq!(read_events(&mut behind, 1).await[0].1.as_deref(), Some("7"));
    other.record("r1", Event::Stopping { reason: "cancelled".into() }).unwrap();
    let next = read_events(&mut current, 1).await;
    assert_eq!(next[0].1.as_deref(), Some("8"), "{next:?}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&next[0].2).unwrap()["stopping"], "cancelled");
    drop((stream, behind, current));
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_events_reaches_a_page_as_few_rooms() {
    let f = fixture("r1", dead_pid());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let mut stream = open_stream(dash.addr(), "/api/runs/r1/events?after=6", &[]).await;
    // Twenty agents report at once: 200 events.
    let other = Journal::open(&f.state.join("journal.sqlite")).unwrap();
    let mut last = 0;
    let began = std::time::Instant::now();
    for i in 0..200 {
        let event = Event::AgentSpawned { task: "1.1".into(), attempt: 1, pid: 1000 + i };
        last = other.record("r1", event).unwrap().seq;
    }
    let mut rooms = Vec::new();
    while rooms.last().and_then(|(_, id, _): &(String, Option<String>, String)| id.clone()) != Some(last.to_string()) {
        rooms.extend(read_events(&mut stream, 1).await.into_iter().filter(|(e, _, _)| e == "room"));
    }
    // A burst within one poll makes one room, one that straddles two polls two; a longer one
    // (recording 200 events is not instant) one more per rebuild gap at most.
    let most = 2 + (began.elapsed().as_millis() / server::REBUILD_GAP.as_millis()) as usize;
    assert!(rooms.len() <= most, "{} rooms for 200 events, more than {most}", rooms.len());
    let room: serde_json::Value = serde_json::from_str(&rooms.last().unwrap().2).unwrap();
    assert_eq!(room, room_as_streamed(dash.addr()).await);
    drop(stream);
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn live_streams_are_limited() {
    let f = fixture("r1", dead_pid());
    let limits = Limits { streams: 2, ..Limits::default() };
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), limits).await;
    let first = open_stream(dash.addr(), "/api/runs/r1/events", &[]).await;
    let second = open_stream(dash.addr(), "/api/runs/r1/events", &[]).await;
    assert_eq!(get(dash.addr(), "/api/runs/r1/events").await.status, 503);
    drop(first);
    // The first stream's slot comes back once the server notices it is gone.
    let mut status = 0;
    for _ in 0..100 {
        let mut stream = TcpStream::connect(dash.addr()).await.unwrap();
        let request = format!("GET /api/runs/r1/events HTTP/1.0\r\nHost: {}\r\n\r\n", dash.addr());
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
    drop(second);
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_room_carries_the_run_s_timeline() {
    let f = fixture("r1", dead_pid());
    std::thread::sleep(Duration::from_millis(60));
    f.journal
        .record(
            "r1",
            Event::AgentExited { task: "1.1".into(), attempt: 1, code: Some(0), timed_out: false, duration_ms: 60 },
        )
        .unwrap();
    f.journal.record("r1", Event::Integrating { task: "1.1".into(), attempt: 1, commit: "c".into() }).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let committed = Event::TaskCommitted { task: "1.1".into(), attempt: 1, commit: "c".into(), message: "m".into() };
    f.journal.record("r1", committed).unwrap();
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;

    let timeline = &get(dash.addr(), "/api/runs/r1").await.json()["timeline"];
    assert_eq!(timeline["lanes"][0]["name"], "default");
    let bars: Vec<(&str, &str)> = timeline["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["task"].as_str().unwrap(), b["phase"].as_str().unwrap()))
        .collect();
    // 1.2 still waits for a person: its wait runs to the run's last event.
    for bar in [("1.1", "agent"), ("1.1", "git"), ("1.2", "waiting")] {
        assert!(bars.contains(&bar), "{bar:?} not in {bars:?}");
    }
    assert!(timeline["makespan_ms"].as_u64() >= Some(80), "{timeline}");
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_room_says_which_agent_is_held_until_when_and_why() {
    let f = fixture("r1", dead_pid());
    let dash = start(&f.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    assert!(room_as_streamed(dash.addr()).await.get("held").is_none(), "nothing holds");
    let journal = Journal::open(&f.state.join("journal.sqlite")).unwrap();
    let until = engine::journal::now_ms() + 3_600_000;
    journal
        .record(
            "r1",
            Event::AgentLimited {
                agent: "claude".into(),
                task: "1.1".into(),
                attempt: 1,
                hold: engine::events::LimitHold::Reset,
                until_ms: Some(until),
                reset_ms: Some(until),
                reason: "claude: You've hit your session limit".into(),
            },
        )
        .unwrap();
    let room = room_as_streamed(dash.addr()).await;
    let held = room["held"][0].as_str().unwrap();
    assert!(held.starts_with("held until ") && held.ends_with(": claude: You've hit your session limit"), "{held}");
    dash.stop().await.unwrap();
}

/// Runs git in `dir` and returns what it printed.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_s_diff_and_a_waiting_checkpoint_s_diff_are_served_paged() {
    // A repository whose state folder holds run R: task 1.1 landed a commit of 45 files,
    // checkpoint 1.2 waits on a commit that changes one line.
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    std::fs::write(repo.join("README.md"), "hello\n").unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "base"]);
    for i in 0..45 {
        std::fs::write(repo.join(format!("f{i:02}.rs")), format!("fn f{i}() {{}}\n")).unwrap();
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "task 1.1"]);
    let landed = git(repo, &["rev-parse", "HEAD"]);
    std::fs::write(repo.join("README.md"), "hello, <b>room</b>\n").unwrap();
    git(repo, &["commit", "-q", "-am", "task 1.2"]);
    let waiting = git(repo, &["rev-parse", "HEAD"]);

    let state = repo.join(".git/wavecrew");
    let journal = fixture_in(&state, "R", dead_pid());
    journal
        .record(
            "R",
            Event::TaskCommitted { task: "1.1".into(), attempt: 1, commit: landed.clone(), message: "1.1".into() },
        )
        .unwrap();
    journal
        .record(
            "R",
            Event::CheckpointWaiting {
                task: "1.2".into(),
                kind: TaskType::HumanVerify,
                options: vec![],
                commit: Some(waiting.clone()),
                details: String::new(),
                steps: vec![],
                auto: false,
            },
        )
        .unwrap();
    let dashboard = start(&state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let addr = dashboard.addr();

    let first = get(addr, "/api/runs/R/tasks/1.1/diff").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    assert_eq!(first["commit"], landed.as_str());
    assert_eq!((first["files_total"].as_u64(), first["pages"].as_u64()), (Some(45), Some(2)));
    assert_eq!(first["files"].as_array().unwrap().len(), 40);
    assert_eq!(first["files"][0]["path"], "f00.rs");
    assert_eq!(first["files"][0]["status"], "added");
    assert_eq!(first["files"][0]["hunks"][0]["lines"][0]["text"], "fn f0() {}");
    assert_eq!(first["files"][0]["hunks"][0]["lines"][0]["new"], 1);
    let second = get(addr, "/api/runs/R/tasks/1.1/diff?page=1").await.json();
    assert_eq!(second["files"].as_array().unwrap().len(), 5);
    assert_eq!(second["files"][4]["path"], "f44.rs");

    let checkpoint = get(addr, "/api/runs/R/tasks/1.2/diff").await.json();
    assert_eq!(checkpoint["commit"], waiting.as_str());
    let lines = &checkpoint["files"][0]["hunks"][0]["lines"];
    assert_eq!((lines[0]["kind"].as_str(), lines[0]["text"].as_str()), (Some("deleted"), Some("hello")));
    assert_eq!(lines[1]["text"], "hello, <b>room</b>");

    let files_only = get(addr, "/api/runs/R/tasks/1.1/diff?lines=0").await.json();
    assert_eq!(files_only["files"][0]["hunks"].as_array().map(Vec::len), Some(0));
    assert_eq!(files_only["files"][0]["added"], 1);

    // Rejected with comments on lines: the reason the agent gets holds them.
    let auth = [("X-Wavecrew-Token", dashboard.token())];
    let body = r#"{"reason":"not this","comments":[{"path":"README.md","line":1,"side":"new","text":"say hello to the room"}]}"#;
    let rejected = send(addr, "POST", "/api/runs/R/tasks/1.2/reject", &auth, body).await;
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    let (_, reason) = journal.take_answer("R", "1.2").unwrap().unwrap();
    assert_eq!(reason.as_deref(), Some("not this\n\nComments on the diff:\n- README.md:1: say hello to the room"));
    let no_line = r#"{"comments":[{"path":"README.md","line":0,"text":"x"}]}"#;
    assert_eq!(send(addr, "POST", "/api/runs/R/tasks/1.2/reject", &auth, no_line).await.status, 400);

    let one = get(addr, "/api/runs/R/tasks/1.1/diff?file=f07.rs&lines=1").await.json();
    assert_eq!(one["files"].as_array().unwrap().len(), 1);
    assert_eq!(get(addr, "/api/runs/R/tasks/1.1/diff?file=..%2F..%2Fetc%2Fpasswd").await.status, 404);
    assert_eq!(get(addr, "/api/runs/R/tasks/1.3/diff").await.status, 404, "a decision has no commit");
    assert_eq!(get(addr, "/api/runs/R/tasks/9.9/diff").await.status, 404);
    assert_eq!(get(addr, "/api/runs/nope/tasks/1.1/diff").await.status, 404);
    dashboard.stop().await.unwrap();
}

/// A dev server's stand-in, committed in the previews' repository: serves `site/index.html` of
/// the folder it runs in, says whether the worktree's setup ran, and announces where it
/// listens as Vite does.
const DEV_SERVER: &str = r#"import http from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
const port = Number(process.argv[2] || process.env.PORT);
http.createServer((req, res) => {
  const setup = existsSync('.setup-done') ? 'set up' : 'not set up';
  res.setHeader('content-type', 'text/html');
  res.end(readFileSync('site/index.html', 'utf8') + `<p id="setup">${setup}</p>`);
}).listen(port, '127.0.0.1', () => console.log(`  Local:   http://localhost:${port}/`));
"#;

/// A repository whose state folder holds run R (the hostile plan's journal), checkpoint 1.2
/// waiting on a commit that changes the page; its main tree keeps the old page.
struct PreviewRepo {
    dir: tempfile::TempDir,
    state: std::path::PathBuf,
    journal: Journal,
}

impl PreviewRepo {
    fn new() -> PreviewRepo {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("app");
        std::fs::create_dir_all(repo.join("site")).unwrap();
        git(&repo, &["init", "-q"]);
        std::fs::write(repo.join("serve.mjs"), DEV_SERVER).unwrap();
        std::fs::write(repo.join(".gitignore"), ".setup-done\n").unwrap();
        std::fs::write(repo.join("site/index.html"), "<h1>Old page</h1>\n").unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "base"]);
        git(&repo, &["checkout", "-q", "-b", "change"]);
        std::fs::write(repo.join("site/index.html"), "<h1>New page</h1>\n").unwrap();
        git(&repo, &["commit", "-q", "-am", "task 1.2"]);
        let waiting = git(&repo, &["rev-parse", "HEAD"]);
        git(&repo, &["checkout", "-q", "-"]);
        let state = repo.join(".git/wavecrew");
        let journal = fixture_in(&state, "R", dead_pid());
        let event = Event::CheckpointWaiting {
            task: "1.2".into(),
            kind: TaskType::HumanVerify,
            options: vec![],
            commit: Some(waiting),
            details: String::new(),
            steps: vec![],
            auto: false,
        };
        journal.record("R", event).unwrap();
        PreviewRepo { dir, state, journal }
    }

    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("app")
    }

    fn worktrees(&self) -> std::path::PathBuf {
        self.dir.path().join("worktrees")
    }

    /// A dashboard whose previews run `command`, after `touch .setup-done` as the setup.
    async fn dashboard(&self, command: &str) -> Dashboard {
        let settings = engine::preview::Settings {
            command: command.to_owned(),
            path: None,
            ready_timeout: Duration::from_secs(30),
            worktree: engine::provision::WorktreeSettings {
                setup: Some("touch .setup-done".into()),
                ..engine::provision::WorktreeSettings::default()
            },
            setup_timeout: Duration::from_secs(30),
        };
        let preview = server::PreviewConfig { settings, root: self.root(), worktrees: self.worktrees() };
        let options = Options {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            state_dir: self.state.clone(),
            token: None,
            limits: Limits::default(),
            preview: Some(preview),
        };
        Dashboard::start(options).await.unwrap()
    }
}

/// Asks for task `task`'s preview with the token.
async fn ask_preview(dash: &Dashboard, task: &str, what: &str) -> Response {
    let token = dash.token().to_owned();
    let path = format!("/api/runs/R/tasks/{task}/{what}");
    send(dash.addr(), "POST", &path, &[("X-Wavecrew-Token", token.as_str())], "{}").await
}

/// Waits until the room shows task 1.2's preview as `want` says (at most 60 s).
async fn preview_until(addr: SocketAddr, want: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let room = get(addr, "/api/runs/R").await.json();
        let preview = room["tasks"][1]["preview"].clone();
        if want(&preview) {
            return preview;
        }
        assert!(tokio::time::Instant::now() < deadline, "the preview never got there: {preview}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The preview events of run R in the journal, as `(kind, why)`.
fn preview_events(journal: &Journal) -> Vec<(String, Option<String>)> {
    journal
        .events("R", 0)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            Event::PreviewStarting { .. } => Some(("starting".to_owned(), None)),
            Event::PreviewReady { .. } => Some(("ready".to_owned(), None)),
            Event::PreviewStopped { why, .. } => Some(("stopped".to_owned(), Some(why.to_string()))),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checkpoint_s_change_is_previewed_from_a_worktree_of_its_own_until_it_is_answered() {
    let repo = PreviewRepo::new();
    let dash = repo.dashboard("node serve.mjs {port}").await;
    let addr = dash.addr();
    let room = send(addr, "GET", "/api/runs/R", &[("X-Wavecrew-Token", dash.token())], "").await.json();
    assert_eq!(room["can_preview"], true);
    assert!(room["tasks"][1].get("preview").is_none(), "no preview before one is asked for");

    // Left by dashboards: one killed (its process is gone), one still running (pid 1).
    let abandoned = repo.worktrees().join(format!("previews/R/1.2-{}", dead_pid()));
    let other = repo.worktrees().join("previews/R/1.2-1");
    for dir in [&abandoned, &other] {
        std::fs::create_dir_all(dir).unwrap();
    }

    let asked = ask_preview(&dash, "1.2", "preview").await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let ready = preview_until(addr, |p| p["state"] == "ready").await;
    assert!(!abandoned.exists() && other.exists(), "only the killed dashboard's worktree is taken away");
    std::fs::remove_dir(&other).unwrap();
    let url = ready["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://localhost:") && url.ends_with('/'), "{url}");
    // A second ask while it runs starts nothing more.
    let again = ask_preview(&dash, "1.2", "preview").await;
    assert!(again.json()["message"].as_str().unwrap().contains("already"), "{}", again.body);

    // It serves the checkpoint's version of the page, set up; the main tree keeps its own.
    let port: u16 = url.trim_start_matches("http://localhost:").trim_end_matches('/').parse().unwrap();
    let served = get(SocketAddr::from(([127, 0, 0, 1], port)), "/").await;
    assert!(served.body.contains("<h1>New page</h1>"), "{}", served.body);
    assert!(served.body.contains(r#"<p id="setup">set up</p>"#), "{}", served.body);
    assert_eq!(std::fs::read_to_string(repo.root().join("site/index.html")).unwrap(), "<h1>Old page</h1>\n");
    let worktree = repo.worktrees().join(format!("previews/R/1.2-{}", std::process::id()));
    assert!(worktree.join("site/index.html").is_file(), "its worktree is {}", worktree.display());

    // The answer (as a run records it) stops it: the port is closed and the worktree gone.
    let answer = Event::CheckpointAnswered {
        task: "1.2".into(),
        answer: AnswerKind::Approved,
        detail: None,
        auto: false,
        commit: None,
    };
    repo.journal.record("R", answer).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !preview_events(&repo.journal).iter().any(|(kind, _)| kind == "stopped") {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", preview_events(&repo.journal));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        preview_events(&repo.journal),
        [
            ("starting".to_owned(), None),
            ("ready".to_owned(), None),
            ("stopped".to_owned(), Some("answered".to_owned()))
        ]
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err(), "the dev server still listens");
    assert!(!worktree.exists(), "the preview's worktree is left");
    assert!(!git(&repo.root(), &["worktree", "list"]).contains("previews"), "git still lists it");
    dash.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_that_fails_says_why_and_one_a_person_stops_leaves_nothing() {
    let repo = PreviewRepo::new();
    let dash = repo.dashboard("echo 'port {port} is not mine' >&2; exit 3").await;
    assert_eq!(ask_preview(&dash, "1.2", "preview").await.status, 200);
    let failed = preview_until(dash.addr(), |p| p["state"] == "failed").await;
    let detail = failed["detail"].as_str().unwrap();
    assert!(detail.contains("exited with code 3 before it listened"), "{detail}");
    assert!(detail.contains("is not mine"), "the command's own words: {detail}");
    assert!(!repo.worktrees().join(format!("previews/R/1.2-{}", std::process::id())).exists());
    dash.stop().await.unwrap();

    // One that never listens is stopped by a person while it starts, then by the dashboard.
    let dash = repo.dashboard("sleep 60").await;
    assert_eq!(ask_preview(&dash, "1.2", "preview").await.status, 200);
    preview_until(dash.addr(), |p| p["state"] == "starting").await;
    let stopped = ask_preview(&dash, "1.2", "preview/stop").await;
    assert_eq!(stopped.status, 200, "{}", stopped.body);
    preview_until(dash.addr(), serde_json::Value::is_null).await;
    assert_eq!(ask_preview(&dash, "1.2", "preview/stop").await.status, 404, "nothing left to stop");
    assert_eq!(ask_preview(&dash, "1.2", "preview").await.status, 200);
    preview_until(dash.addr(), |p| p["state"] == "starting").await;
    dash.stop().await.unwrap();
    let events = preview_events(&repo.journal);
    assert_eq!(events.last(), Some(&("stopped".to_owned(), Some("stopped".to_owned()))), "{events:?}");
    assert_eq!(std::fs::read_dir(repo.worktrees().join("previews/R")).unwrap().count(), 0, "a worktree is left");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_is_refused_without_a_command_a_token_or_a_change_waiting() {
    let repo = PreviewRepo::new();
    let dash = start(&repo.state, IpAddr::V4(Ipv4Addr::LOCALHOST), Limits::default()).await;
    let refused = ask_preview(&dash, "1.2", "preview").await;
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains("`[preview] command`") && refused.body.contains("wavecrew.toml"), "{}", refused.body);
    let room = send(dash.addr(), "GET", "/api/runs/R", &[("X-Wavecrew-Token", dash.token())], "").await.json();
    assert_eq!(room["can_preview"], false);
    dash.stop().await.unwrap();

    let dash = repo.dashboard("node serve.mjs {port}").await;
    let addr = dash.addr();
    assert_eq!(send(addr, "POST", "/api/runs/R/tasks/1.2/preview", &[], "{}").await.status, 403, "no token");
    let running = ask_preview(&dash, "1.1", "preview").await;
    assert_eq!(running.status, 409, "{}", running.body);
    assert!(running.body.contains("does not wait for a person"), "{}", running.body);
    let decision = ask_preview(&dash, "1.3", "preview").await;
    assert_eq!(decision.status, 409, "{}", decision.body);
    assert!(decision.body.contains("no change to preview"), "{}", decision.body);
    assert_eq!(ask_preview(&dash, "9.9", "preview").await.status, 404);
    assert!(preview_events(&repo.journal).is_empty(), "nothing started");
    dash.stop().await.unwrap();
}

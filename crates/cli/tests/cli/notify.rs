//! `[notify]` end to end: the real binary runs a plan with the scripted agent, and a local
//! HTTP receiver (a plain listener in the test, standing in for Slack, Discord or ntfy) gets
//! the webhooks; a fake `notify-send` on PATH writes down what it was given.

use crate::common::*;
use serde_json::{Value, json};
use std::io::Read;

/// One human-verify checkpoint.
const CHECKPOINT: &str = "# M1 Implementation Plan: Notify

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: checkpoint:human-verify)
- **Files**: `ui.txt`
- **Action**: Draw the page
- **Verify**: The page looks right

## Agent Strategy

| Wave | Agent | Model | Tasks |
|---|---|---|---|
| 1 | Designer | sonnet | 1.1 |
";

/// The secret part of the webhook's URL, as Slack's and Discord's carry their token.
const SECRET: &str = "T0KEN-SECRET";

/// A webhook receiver answering `statuses` in order, then 200 (`None`: never answering).
struct Receiver(HttpStandIn);

impl Receiver {
    fn start(statuses: Option<Vec<u16>>) -> Receiver {
        let mut statuses = statuses.map(Vec::into_iter);
        Receiver(HttpStandIn::start(move |_| statuses.as_mut().map(|s| (s.next().unwrap_or(200), String::new()))))
    }

    /// The webhook's URL, with its secret.
    fn url(&self) -> String {
        format!("http://{}/hook/{SECRET}", self.0.addr)
    }

    /// Each request's path and JSON body, once there are at least `n`.
    fn wait_for(&self, n: usize) -> Vec<(String, Value)> {
        self.0.wait_for(n).into_iter().map(|r| (r.path.clone(), r.json())).collect()
    }
}

fn configure(repo: &Repo, notify: &str) {
    std::fs::write(repo.root().join("wavecrew.toml"), format!("[notify]\n{notify}\n")).unwrap();
}

/// Everything wavecrew keeps of its runs (the journal, logs, reports), as text.
fn state_text(repo: &Repo) -> String {
    fn walk(dir: &std::path::Path, text: &mut String) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, text);
            } else if let Ok(bytes) = std::fs::read(&path) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    let mut text = String::new();
    walk(&repo.state_dir(), &mut text);
    text
}

fn finished(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status, err)
}

#[test]
fn a_waiting_checkpoint_and_the_end_of_the_run_reach_the_webhook_with_their_commands() {
    let receiver = Receiver::start(Some(Vec::new()));
    let repo = scripted_repo(CHECKPOINT, &json!({"tasks": {"1.1": [[write("ui.txt", "page\n")]]}}));
    configure(&repo, &format!("webhook = [\"{}\"]\ntopic = \"my-runs\"", receiver.url()));
    let child = repo.spawn_run(&["--serve"]);
    let run = repo.wait_for_checkpoint("1.1");

    let (path, waiting) = receiver.wait_for(1).remove(0);
    assert_eq!(path, format!("/hook/{SECRET}"));
    assert_eq!(waiting["wavecrew"]["reason"], "checkpoint");
    assert_eq!((&waiting["wavecrew"]["run"], &waiting["wavecrew"]["task"]), (&json!(run), &json!("1.1")));
    assert_eq!(
        waiting["wavecrew"]["commands"],
        json!([format!("wavecrew approve {run} 1.1"), format!("wavecrew reject {run} 1.1 --reason '...'")])
    );
    let text = waiting["text"].as_str().unwrap();
    assert!(text.starts_with(&format!("wavecrew: 1.1 waits for you to check it\nrun {run} (M1 · Notify)")), "{text}");
    assert!(text.contains(&format!("→ wavecrew approve {run} 1.1")), "{text}");
    assert_eq!(waiting["content"], waiting["text"], "Discord reads `content`, Slack `text`");
    assert_eq!(waiting["topic"], "my-runs");
    // The room, without the dashboard's token: the notification leaves the machine.
    let room = waiting["click"].as_str().unwrap();
    assert!(room.starts_with("http://127.0.0.1:") && room.ends_with(&format!("/runs/{run}")), "{room}");
    assert_eq!(waiting["wavecrew"]["room"], room);

    assert!(repo.command(&["approve", &run, "1.1"]).output().unwrap().status.success());
    let (status, err) = finished(child);
    assert!(status.success(), "{err}");
    let (_, ended) = receiver.wait_for(2).remove(1);
    assert_eq!(ended["wavecrew"]["reason"], "run_ended");
    assert_eq!(ended["title"], format!("wavecrew: run {run} succeeded"));
    assert!(ended["message"].as_str().unwrap().contains("1 committed, 0 failed, 0 skipped"), "{ended}");
    assert_eq!(receiver.0.requests().len(), 2, "nothing else notifies");
    assert!(!err.contains(SECRET) && !err.contains("[notify]"), "{err}");
    assert!(!state_text(&repo).contains(SECRET), "the webhook's URL is in wavecrew's state");
}

#[test]
fn a_webhook_that_fails_twice_gets_the_notification_on_the_third_try() {
    let receiver = Receiver::start(Some(vec![500, 503]));
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`test -f a.txt`")])]);
    let repo = scripted_repo(&plan, &json!({"tasks": {"1.1": [[write("a.txt", "a\n")]]}}));
    configure(&repo, &format!("webhook = [\"{}\"]", receiver.url()));
    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let got = receiver.wait_for(3);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|(_, body)| body == &got[0].1), "each try sends the same notification");
    assert_eq!(got[2].1["wavecrew"]["reason"], "run_ended");
    assert!(!stderr(&output).contains("[notify]"), "delivered in the end: nothing to say\n{}", stderr(&output));
}

#[test]
fn a_webhook_that_never_answers_does_not_hold_up_the_run_and_is_said_without_its_secret() {
    let receiver = Receiver::start(None);
    let repo = scripted_repo(CHECKPOINT, &json!({"tasks": {"1.1": [[write("ui.txt", "page\n")]]}}));
    configure(&repo, &format!("webhook = [\"{}\"]", receiver.url()));
    let child = repo.spawn_run(&[]);
    let run = repo.wait_for_checkpoint("1.1");
    receiver.wait_for(1);
    // The webhook hangs on the checkpoint's notification; the run takes the answer anyway.
    assert!(repo.command(&["approve", &run, "1.1"]).output().unwrap().status.success());
    let (status, err) = finished(child);
    assert!(status.success(), "{err}");
    assert_eq!(repo.commits("wavecrew/M1").len(), 1);
    assert!(err.contains("run succeeded"), "{err}");
    // Given up after the grace, not after 4 tries of 10 s on each notification.
    assert!(err.contains("still sending after 10s: left unsent"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
}

#[test]
fn desktop_notifications_go_through_notify_send_when_it_is_on_path() {
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("argv.log");
    let fake = bin.path().join("notify-send");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nfor arg in \"$@\"; do printf '%s\\n' \"$arg\"; done >> '{}'\necho --- >> '{}'\n",
            log.display(),
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let plan = plan(&[wave(1, "No dependencies.", &[("1.1", "`a.txt`", "`test -f a.txt`")])]);
    let repo = scripted_repo(&plan, &json!({"tasks": {"1.1": [[write("a.txt", "a\n")]]}}));
    configure(&repo, "desktop = true");
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_owned()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let output = repo
        .command(&["run", "plan.md", "--agent", "scripted", "--script", "script.json", "--yes"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let run = repo.newest_run();
    let argv = std::fs::read_to_string(&log).unwrap();
    let argv: Vec<&str> = argv.lines().collect();
    assert_eq!(argv[..2], ["--app-name=wavecrew", &format!("wavecrew: run {run} succeeded")]);
    assert_eq!(argv[2], format!("run {run} (M1 · Test)"));
    assert_eq!(argv[3], "1 committed, 0 failed, 0 skipped");
    assert_eq!(argv.last(), Some(&"---"), "one notification: {argv:?}");
    assert_eq!(argv.iter().filter(|a| **a == "---").count(), 1, "{argv:?}");
}

#[test]
fn a_refusing_webhook_is_said_once_and_a_bad_url_is_refused_by_line_without_quoting_it() {
    let receiver = Receiver::start(Some(vec![404, 404]));
    let repo = scripted_repo(CHECKPOINT, &json!({"tasks": {"1.1": [[write("ui.txt", "page\n")]]}}));
    configure(&repo, &format!("webhook = [\"{}\"]", receiver.url()));
    let child = repo.spawn_run(&[]);
    let run = repo.wait_for_checkpoint("1.1");
    receiver.wait_for(1);
    assert!(repo.command(&["approve", &run, "1.1"]).output().unwrap().status.success());
    let (status, err) = finished(child);
    assert!(status.success(), "{err}");
    assert_eq!(receiver.wait_for(2).len(), 2, "a refusal is not retried");
    let warning = format!("warning: [notify] webhook http://{}/…: refused with HTTP 404", receiver.0.addr);
    assert_eq!(err.matches("warning: [notify]").count(), 1, "{err}");
    assert!(err.contains(&warning), "{err}");
    assert!(!err.contains(SECRET), "{err}");

    configure(&repo, &format!("webhook = [\"hooks.example.com/{SECRET}\"]"));
    let bad = repo.command(&["resume"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("wavecrew.toml:2`: a webhook URL starts with `https://`"), "{}", stderr(&bad));
    assert!(!stderr(&bad).contains(SECRET), "{}", stderr(&bad));
}

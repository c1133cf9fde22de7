//! `wavecrew ship` end to end: a finished run of the scripted agent, a real bare git remote
//! for the push, and local stand-ins of GitHub's, GitLab's and Gitea's REST APIs answering
//! with the shapes their documentation records (a fake `gh` on PATH for GitHub's CLI).

use crate::common::*;
use serde_json::{Value, json};
use std::path::Path;

/// One task whose must_haves hold and whose Automated command passes (the verification
/// passes), and a Manual step.
const SHIPPED_PLAN: &str = "# M1 Implementation Plan: Test

## Context

A greeter.

## must_haves

### artifacts (files produced)
- `app.py`
- `core.py`
- `tests/test_app.py`

### key_links (where breakage cascades)
- `core.py` feeds `app.py`

## Waves

### Wave 1: Build
> No dependencies.

**Task 1.1** (type: auto)
- **Files**: `app.py`, `core.py`, `tests/test_app.py`
- **Action**: Build it
- **Verify**: `true`
- **Done**: it is built

## Verification

### Automated
```bash
python3 -m unittest discover -s tests -t .    # 0 failures
```

### Manual
1. Run app.py and read its greeting
";

/// A finished run, and a bare repository as its `origin` holding `main`.
fn finished_run() -> (Repo, tempfile::TempDir, String) {
    let script = json!({"tasks": {"1.1": [[write("app.py", APP), write("core.py", CORE),
                                           write("tests/__init__.py", ""), write("tests/test_app.py", TEST)]]}});
    let repo = scripted_repo(SHIPPED_PLAN, &script);
    let output = repo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "--quiet", "--bare", "--initial-branch=main"]);
    git(repo.root(), &["remote", "add", "origin", &remote.path().display().to_string()]);
    git(repo.root(), &["push", "--quiet", "origin", "HEAD:refs/heads/main"]);
    let run = repo.newest_run();
    (repo, remote, run)
}

fn configure(repo: &Repo, ship: &str) {
    std::fs::write(repo.root().join("wavecrew.toml"), format!("[ship]\n{ship}\n")).unwrap();
}

fn ship(repo: &Repo, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut command = repo.command(&[&["ship"], args].concat());
    for var in ["GH_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "GITEA_TOKEN", "FORGEJO_TOKEN"] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied()).output().unwrap()
}

/// The commit `branch` points at in the repository at `dir`, if it has it.
fn tip(dir: &Path, branch: &str) -> Option<String> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")])
        .output()
        .unwrap();
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// A stand-in of a forge's API: no open request of the branch, and `created` for the one opened.
fn forge(created: Value) -> HttpStandIn {
    HttpStandIn::start(move |request| match request.method.as_str() {
        "GET" => Some((200, "[]".to_owned())),
        _ => Some((201, created.to_string())),
    })
}

#[test]
fn github_gets_a_draft_pull_request_with_the_report_and_a_second_ship_opens_none() {
    let (repo, remote, run) = finished_run();
    // GitHub's "Create a pull request" answer (201), as its REST documentation records it.
    let api = forge(json!({
        "id": 1, "number": 7, "state": "open", "draft": true,
        "html_url": "https://github.com/acme/app/pull/7",
        "head": {"ref": "wavecrew/M1"}, "base": {"ref": "main"},
    }));
    configure(&repo, &format!("forge = \"github\"\napi = \"http://{}\"\nproject = \"acme/app\"", api.addr));
    let output = ship(&repo, &[("GITHUB_TOKEN", "ghp_test")], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "https://github.com/acme/app/pull/7");
    assert_eq!(tip(remote.path(), "wavecrew/M1"), tip(repo.root(), "wavecrew/M1"), "the run branch was pushed");

    let requests = api.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("GET", "/repos/acme/app/pulls?state=open&head=acme:wavecrew/M1")
    );
    let create = &requests[1];
    assert_eq!((create.method.as_str(), create.path.as_str()), ("POST", "/repos/acme/app/pulls"));
    assert_eq!(create.header("authorization"), Some("Bearer ghp_test"));
    let body = create.json();
    assert_eq!(
        (&body["title"], &body["head"], &body["base"]),
        (&json!("M1: Test"), &json!("wavecrew/M1"), &json!("main"))
    );
    assert_eq!(body["draft"], true, "the Manual checklist is not signed off");
    let text = body["body"].as_str().unwrap();
    assert!(text.starts_with(&format!("# Run {run}: M1 · Test")), "{text}");
    assert!(text.contains("| 1.1 | committed |") && text.contains("## Verification: passed"), "{text}");
    assert!(text.contains("- [ ] Run app.py and read its greeting\n"), "the checklist as task-list boxes: {text}");

    let status = String::from_utf8(repo.command(&["status", &run]).output().unwrap().stdout).unwrap();
    assert!(status.contains("shipped: draft https://github.com/acme/app/pull/7"), "{status}");
    let report = String::from_utf8(repo.command(&["report", &run]).output().unwrap().stdout).unwrap();
    assert!(report.contains("Pull request: https://github.com/acme/app/pull/7"), "{report}");

    let again = ship(&repo, &[("GITHUB_TOKEN", "ghp_test")], &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("was shipped before: https://github.com/acme/app/pull/7"), "{}", stderr(&again));
    assert_eq!(api.requests().len(), 2, "no second pull request");
}

#[test]
fn gitlab_gets_a_merge_request_once_the_checklist_is_signed_off() {
    let (repo, _remote, run) = finished_run();
    assert!(repo.command(&["approve", &run, "manual"]).output().unwrap().status.success());
    // GitLab's "Create MR" answer (201).
    let api = forge(json!({
        "id": 1, "iid": 3, "state": "opened", "draft": false,
        "web_url": "https://gitlab.com/acme/app/-/merge_requests/3",
        "source_branch": "wavecrew/M1", "target_branch": "main",
    }));
    configure(&repo, &format!("forge = \"gitlab\"\napi = \"http://{}/api/v4\"\nproject = \"acme/app\"", api.addr));
    let output = ship(&repo, &[("GITLAB_TOKEN", "glpat-test")], &["--base", "main"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "https://gitlab.com/acme/app/-/merge_requests/3");
    let requests = api.requests();
    assert_eq!(requests[0].path, "/api/v4/projects/acme%2Fapp/merge_requests?state=opened&source_branch=wavecrew/M1");
    assert_eq!(requests[1].path, "/api/v4/projects/acme%2Fapp/merge_requests");
    assert_eq!(requests[1].header("private-token"), Some("glpat-test"));
    let body = requests[1].json();
    assert_eq!((&body["source_branch"], &body["target_branch"]), (&json!("wavecrew/M1"), &json!("main")));
    // Verified and signed off: ready for review, not a draft (which GitLab marks by the title).
    assert!(body["description"].as_str().unwrap().contains("## Verification: passed"), "{body}");
    assert_eq!(body["title"], "M1: Test", "{body}");
    assert!(body["description"].as_str().unwrap().contains("- [x] Run app.py and read its greeting"), "{body}");
}

#[test]
fn gitea_that_fails_is_said_clearly_and_shipping_again_opens_exactly_one() {
    let (repo, remote, _run) = finished_run();
    // Gitea's "Create a pull request" answer (201); the first try fails with a 502.
    let created = json!({
        "id": 11, "number": 5, "state": "open",
        "html_url": "https://codeberg.org/acme/app/pulls/5",
        "head": {"ref": "wavecrew/M1"}, "base": {"ref": "main"},
    });
    let mut posts = 0;
    let api = HttpStandIn::start(move |request| match request.method.as_str() {
        "GET" => Some((200, "[]".to_owned())),
        _ => {
            posts += 1;
            Some(if posts == 1 {
                (502, json!({"message": "bad gateway"}).to_string())
            } else {
                (201, created.to_string())
            })
        }
    });
    configure(&repo, &format!("forge = \"gitea\"\napi = \"http://{}/api/v1\"\nproject = \"acme/app\"", api.addr));

    let missing = ship(&repo, &[], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no token to open the pull request: set $GITEA_TOKEN or $FORGEJO_TOKEN"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(tip(remote.path(), "wavecrew/M1"), None, "nothing leaves the machine before it can go through");

    let failed = ship(&repo, &[("FORGEJO_TOKEN", "tok")], &[]);
    assert!(!failed.status.success());
    assert!(
        stderr(&failed).contains("the forge refused to open the pull request (502: bad gateway)"),
        "{}",
        stderr(&failed)
    );
    assert!(stderr(&failed).contains("run `wavecrew ship` again"), "{}", stderr(&failed));
    assert_eq!(api.requests()[0].path, "/api/v1/repos/acme/app/pulls?state=open&sort=recentupdate&limit=50");
    assert_eq!(api.requests()[1].header("authorization"), Some("token tok"));

    let again = ship(&repo, &[("FORGEJO_TOKEN", "tok")], &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), "https://codeberg.org/acme/app/pulls/5");
    assert_eq!(api.requests().iter().filter(|r| r.method == "POST").count(), 2);
    let title = api.requests()[3].json()["title"].as_str().unwrap().to_owned();
    assert!(title.starts_with("WIP: M1: Test"), "a draft on Gitea is a WIP title: {title}");
}

#[test]
fn no_remote_a_refused_push_and_an_expired_token_are_clear_errors() {
    let (repo, remote, _run) = finished_run();
    let api = HttpStandIn::start(|_| Some((401, json!({"message": "Bad credentials"}).to_string())));
    configure(&repo, &format!("forge = \"github\"\napi = \"http://{}\"\nproject = \"acme/app\"", api.addr));

    let none = ship(&repo, &[("GITHUB_TOKEN", "old")], &["--remote", "upstream"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("this repository has no remote `upstream`"), "{}", stderr(&none));

    let expired = ship(&repo, &[("GITHUB_TOKEN", "old")], &[]);
    assert!(!expired.status.success());
    assert!(stderr(&expired).contains("(401: Bad credentials)"), "{}", stderr(&expired));
    assert!(stderr(&expired).contains("the token ($GH_TOKEN or $GITHUB_TOKEN) is expired"), "{}", stderr(&expired));
    assert!(!stderr(&expired).contains("old"), "the token is never printed: {}", stderr(&expired));

    // Someone else's commit on the remote's branch: the push is refused, nothing changes here.
    let other = tempfile::tempdir().unwrap();
    git(other.path(), &["clone", "--quiet", &remote.path().display().to_string(), "."]);
    git(other.path(), &["checkout", "--quiet", "-b", "elsewhere", "origin/main"]);
    git(
        other.path(),
        &["-c", "user.name=x", "-c", "user.email=x@x", "commit", "--quiet", "--allow-empty", "-m", "theirs"],
    );
    git(other.path(), &["push", "--quiet", "--force", "origin", "elsewhere:wavecrew/M1"]);
    let ours = tip(repo.root(), "wavecrew/M1");
    let refused = ship(&repo, &[("GITHUB_TOKEN", "old")], &[]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("`git push origin wavecrew/M1` was refused"), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("is untouched here"), "{}", stderr(&refused));
    assert_eq!(tip(repo.root(), "wavecrew/M1"), ours);
}

#[test]
fn gh_opens_it_when_it_is_installed_and_logged_in() {
    let (repo, remote, _run) = finished_run();
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("gh.log");
    let fake = bin.path().join("gh");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{log}'\ncase \"$1 $2\" in\n  'pr create') echo https://github.com/acme/app/pull/9 ;;\nesac\nexit 0\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    configure(&repo, "forge = \"github\"\nproject = \"acme/app\"");
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_owned()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let output = ship(&repo, &[("PATH", path.to_str().unwrap())], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "https://github.com/acme/app/pull/9");
    assert!(tip(remote.path(), "wavecrew/M1").is_some());
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls[0], "auth status --hostname github.com");
    assert!(calls[1].starts_with("pr list --repo acme/app --head wavecrew/M1 --state open"), "{calls:?}");
    assert!(
        calls[2].starts_with("pr create --repo acme/app --head wavecrew/M1 --base main --title M1: Test --body-file "),
        "{calls:?}"
    );
    assert!(calls[2].ends_with(" --draft"), "{calls:?}");
}

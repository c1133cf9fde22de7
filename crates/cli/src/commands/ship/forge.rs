//! The forges a pull (merge) request is opened on: GitHub (through `gh` when it is installed
//! and logged in, else its REST API), GitLab and Gitea/Forgejo (their REST APIs), with a token
//! from the environment. Each first looks for an open request of the run branch, so that a
//! second `ship` (after a failure, or on purpose) opens none.

use crate::error::CliError;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Which forge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// github.com or GitHub Enterprise.
    Github,
    /// gitlab.com or a GitLab of one's own.
    Gitlab,
    /// Gitea, Forgejo, Codeberg.
    Gitea,
}

impl Kind {
    /// What a host's name says, if anything.
    fn of_host(host: &str) -> Option<Kind> {
        let host = host.to_ascii_lowercase();
        match host.as_str() {
            "github.com" => Some(Kind::Github),
            "gitlab.com" => Some(Kind::Gitlab),
            "codeberg.org" => Some(Kind::Gitea),
            _ if host.starts_with("gitlab.") => Some(Kind::Gitlab),
            _ if host.starts_with("gitea.") || host.starts_with("forgejo.") => Some(Kind::Gitea),
            _ => None,
        }
    }

    /// The variables a token is read from, in order.
    pub fn token_vars(self) -> &'static [&'static str] {
        match self {
            Kind::Github => &["GH_TOKEN", "GITHUB_TOKEN"],
            Kind::Gitlab => &["GITLAB_TOKEN"],
            Kind::Gitea => &["GITEA_TOKEN", "FORGEJO_TOKEN"],
        }
    }

    /// A pull request on GitHub and Gitea, a merge request on GitLab.
    pub fn request(self) -> &'static str {
        if self == Kind::Gitlab { "merge request" } else { "pull request" }
    }
}

/// The host and the `owner/name` path of a git remote's URL (`git@host:owner/name.git`,
/// `ssh://git@host:22/owner/name`, `https://host/owner/name.git`), or `None` for a local path.
pub fn parse_remote(url: &str) -> Option<(String, String)> {
    let (host, path) = match url.split_once("://") {
        Some((scheme, rest)) if scheme != "file" => {
            let (authority, path) = rest.split_once('/')?;
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            (host.split(':').next()?.to_owned(), path)
        }
        Some(_) => return None,
        None => {
            // scp-like `user@host:path`; a local path has no `:` before its first `/`.
            let (authority, path) = url.split_once(':')?;
            if authority.contains('/') || path.starts_with('/') && !authority.contains('@') {
                return None;
            }
            (authority.rsplit_once('@').map_or(authority, |(_, host)| host).to_owned(), path)
        }
    };
    let path = path.trim_matches('/').trim_end_matches(".git");
    (!host.is_empty() && path.contains('/')).then(|| (host, path.to_owned()))
}

/// Where requests go: the forge, its API's base URL, the project's `owner/name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kind: Kind,
    pub api: String,
    pub project: String,
    /// The API was named in `[ship] api`: a stand-in or a forge of one's own, never `gh`'s.
    pub api_configured: bool,
}

impl Target {
    /// The forge of a remote at `url`, as `[ship]` (`forge`, `api`, `project`) and the URL say.
    pub fn of(url: &str, config: &crate::config::ShipConfig) -> Result<Target, CliError> {
        let parsed = parse_remote(url);
        let host = parsed.as_ref().map(|(host, _)| host.clone());
        let kind = config.forge.or_else(|| host.as_deref().and_then(Kind::of_host)).ok_or_else(|| {
            CliError::usage(format!(
                "error: cannot tell which forge the remote is ({})",
                host.as_deref().map_or("a local path".to_owned(), |h| format!("host `{h}`"))
            ))
            .with_hint("set `forge = \"github\"`, `\"gitlab\"` or `\"gitea\"` under [ship] in wavecrew.toml (and `api` for a forge of your own)")
        })?;
        let project = config.project.clone().or_else(|| parsed.map(|(_, path)| path)).ok_or_else(|| {
            CliError::usage("error: the remote's URL names no project (`owner/name`)")
                .with_hint("set `project = \"owner/name\"` under [ship] in wavecrew.toml")
        })?;
        let api = match (&config.api, kind, host.as_deref()) {
            (Some(api), _, _) => api.trim_end_matches('/').to_owned(),
            (None, Kind::Github, Some("github.com") | None) => "https://api.github.com".to_owned(),
            (None, Kind::Github, Some(host)) => format!("https://{host}/api/v3"),
            (None, Kind::Gitlab, Some(host)) => format!("https://{host}/api/v4"),
            (None, Kind::Gitea, Some(host)) => format!("https://{host}/api/v1"),
            (None, _, None) => {
                return Err(CliError::usage("error: the remote is a local path: wavecrew cannot tell the forge's API")
                    .with_hint("set `api = \"https://…\"` under [ship] in wavecrew.toml"));
            }
        };
        Ok(Target { kind, api, project, api_configured: config.api.is_some() })
    }
}

/// What to open.
pub struct Request<'a> {
    pub branch: &'a str,
    pub base: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub draft: bool,
}

/// `gh`, when it is on PATH and logged in to the host of `target` (only for GitHub, and only
/// when `[ship] api` does not name another).
pub fn gh(target: &Target) -> Option<PathBuf> {
    if target.kind != Kind::Github || target.api_configured {
        return None;
    }
    let gh = engine::settings::find_program(Path::new("gh"))?;
    let host = if target.api == "https://api.github.com" {
        "github.com".to_owned()
    } else {
        target.api.trim_start_matches("https://").trim_end_matches("/api/v3").to_owned()
    };
    let logged_in = Command::new(&gh).args(["auth", "status", "--hostname", &host]).output().ok()?.status.success();
    logged_in.then_some(gh)
}

/// Opens the request with `gh`, or finds the open one of the branch; its URL.
pub fn open_with_gh(gh: &Path, target: &Target, request: &Request) -> Result<String, CliError> {
    let run = |args: &[&str]| -> Result<String, CliError> {
        let output = Command::new(gh)
            .args(args)
            .output()
            .map_err(|e| CliError::io(format!("error: could not run {}: {e}", gh.display())))?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if output.status.success() {
            Ok(text)
        } else {
            let why = String::from_utf8_lossy(&output.stderr);
            Err(CliError::io(format!("error: `gh {}` failed: {}", args[..2].join(" "), why.trim()))
                .with_hint("nothing else changed; `wavecrew ship` again finds a request it opened"))
        }
    };
    let found = run(&[
        "pr",
        "list",
        "--repo",
        &target.project,
        "--head",
        request.branch,
        "--state",
        "open",
        "--json",
        "url",
        "--jq",
        ".[0].url // empty",
    ])?;
    if !found.is_empty() {
        return Ok(found);
    }
    let body = tempfile::NamedTempFile::new().map_err(|e| CliError::io(format!("error: {e}")))?;
    std::fs::write(body.path(), request.body).map_err(|e| CliError::io(format!("error: {e}")))?;
    let body_file = body.path().display().to_string();
    let mut args = vec![
        "pr",
        "create",
        "--repo",
        &target.project,
        "--head",
        request.branch,
        "--base",
        request.base,
        "--title",
        request.title,
        "--body-file",
        &body_file,
    ];
    if request.draft {
        args.push("--draft");
    }
    let printed = run(&args)?;
    Ok(printed.lines().rev().find(|l| l.starts_with("http")).unwrap_or(&printed).to_owned())
}

/// Opens the request through the forge's REST API with `token`, or finds the open one of the
/// branch; its URL.
pub fn open_with_api(target: &Target, token: &str, request: &Request) -> Result<String, CliError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .user_agent(concat!("wavecrew/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    let api = &target.api;
    let project = &target.project;
    let (find, create, body, url_field) = match target.kind {
        Kind::Github => {
            let owner = project.split('/').next().unwrap_or_default();
            (
                format!("{api}/repos/{project}/pulls?state=open&head={owner}:{}", request.branch),
                format!("{api}/repos/{project}/pulls"),
                json!({"title": request.title, "head": request.branch, "base": request.base, "body": request.body, "draft": request.draft}),
                "html_url",
            )
        }
        Kind::Gitlab => {
            let id = project.replace('/', "%2F");
            // GitLab makes a merge request a draft by its title.
            let title = if request.draft { format!("Draft: {}", request.title) } else { request.title.to_owned() };
            (
                format!("{api}/projects/{id}/merge_requests?state=opened&source_branch={}", request.branch),
                format!("{api}/projects/{id}/merge_requests"),
                json!({"title": title, "source_branch": request.branch, "target_branch": request.base, "description": request.body}),
                "web_url",
            )
        }
        Kind::Gitea => {
            // Gitea and Forgejo mark a pull request work in progress by its title.
            let title = if request.draft { format!("WIP: {}", request.title) } else { request.title.to_owned() };
            (
                // Gitea filters open pull requests by base, not head: the newest 50 are read.
                format!("{api}/repos/{project}/pulls?state=open&sort=recentupdate&limit=50"),
                format!("{api}/repos/{project}/pulls"),
                json!({"title": title, "head": request.branch, "base": request.base, "body": request.body}),
                "html_url",
            )
        }
    };
    let call = |url: &str, body: Option<&Value>| -> Result<(u16, Value), CliError> {
        let sent = match body {
            None => authorized(agent.get(url), target.kind, token).call(),
            Some(body) => authorized(agent.post(url), target.kind, token)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
        };
        let mut response = sent.map_err(|e| {
            CliError::io(format!("error: the forge at {api} did not answer: {e}"))
                .with_hint("nothing was opened; `wavecrew ship` again finds a request it opened")
        })?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    };
    let refused = |status: u16, value: &Value, what: &str| {
        let message = value["message"].as_str().or(value["error"].as_str()).unwrap_or("no message");
        let error = CliError::io(format!("error: the forge refused to {what} ({status}: {message})"));
        match status {
            401 | 403 => error.with_hint(format!(
                "the token (${}) is expired, revoked or lacks the scope to open a {}",
                target.kind.token_vars().join(" or $"),
                target.kind.request()
            )),
            500..=599 => error.with_hint("the forge failed; nothing was opened: run `wavecrew ship` again later"),
            _ => error,
        }
    };
    let (status, found) = call(&find, None)?;
    if status != 200 {
        return Err(refused(status, &found, &format!("list the open {}s", target.kind.request())));
    }
    let open = found.as_array().into_iter().flatten().find(|request_| match target.kind {
        Kind::Gitea => request_["head"]["ref"] == request.branch,
        _ => true,
    });
    if let Some(url) = open.and_then(|r| r[url_field].as_str()) {
        return Ok(url.to_owned());
    }
    let (status, created) = call(&create, Some(&body))?;
    if !(200..=299).contains(&status) {
        return Err(refused(status, &created, &format!("open the {}", target.kind.request())));
    }
    created[url_field].as_str().map(str::to_owned).ok_or_else(|| {
        CliError::io(format!("error: the forge opened the {} but named no `{url_field}`", target.kind.request()))
    })
}

/// `builder` with the forge's way of presenting `token`.
fn authorized<B>(builder: ureq::RequestBuilder<B>, kind: Kind, token: &str) -> ureq::RequestBuilder<B> {
    match kind {
        Kind::Github => builder
            .header("Authorization", format!("Bearer {token}"))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28"),
        Kind::Gitlab => builder.header("PRIVATE-TOKEN", token),
        Kind::Gitea => builder.header("Authorization", format!("token {token}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ShipConfig;

    #[test]
    fn a_remote_url_names_its_host_and_project_and_a_path_names_none() {
        let github = Some(("github.com".to_owned(), "acme/app".to_owned()));
        assert_eq!(parse_remote("git@github.com:acme/app.git"), github);
        assert_eq!(parse_remote("https://github.com/acme/app.git"), github);
        assert_eq!(parse_remote("ssh://git@github.com:22/acme/app"), github);
        assert_eq!(parse_remote("https://x:tok@gitlab.example.org/group/sub/app.git").unwrap().1, "group/sub/app");
        assert_eq!(parse_remote("/srv/git/app.git"), None);
        assert_eq!(parse_remote("file:///srv/git/app.git"), None);
        assert_eq!(parse_remote("../app.git"), None);
    }

    #[test]
    fn the_forge_is_the_configurations_else_the_hosts() {
        let none = ShipConfig::default();
        let target = Target::of("git@github.com:acme/app.git", &none).unwrap();
        assert_eq!(
            (target.kind, target.api.as_str(), target.project.as_str()),
            (Kind::Github, "https://api.github.com", "acme/app")
        );
        assert_eq!(Target::of("https://gitlab.com/g/app", &none).unwrap().api, "https://gitlab.com/api/v4");
        assert_eq!(Target::of("https://codeberg.org/me/app", &none).unwrap().kind, Kind::Gitea);
        let error = Target::of("/srv/app.git", &none).unwrap_err().to_string();
        assert!(error.contains("cannot tell which forge"), "{error}");
        let stand_in = ShipConfig {
            forge: Some(Kind::Gitlab),
            api: Some("http://127.0.0.1:9/api/v4/".into()),
            project: Some("g/app".into()),
        };
        let target = Target::of("/srv/app.git", &stand_in).unwrap();
        assert_eq!((target.api.as_str(), target.api_configured), ("http://127.0.0.1:9/api/v4", true));
        assert_eq!(gh(&target), None, "a configured API is never gh's");
    }
}

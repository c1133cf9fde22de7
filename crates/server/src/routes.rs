//! The HTTP surface: pages, assets, the JSON API, the event stream and the actions.

use crate::auth::{self, Presented};
use crate::hub::RoomWatch;
use crate::snapshot::Audience;
use crate::{App, Limits, snapshot};
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use engine::control::{Answer, ControlError};
use engine::journal::{Journal, RunRecord};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The Content-Security-Policy of every response: nothing but this server's own files.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The most of a log that one request returns.
const MAX_LOG_BYTES: u64 = 1024 * 1024;

pub(crate) fn router(app: Arc<App>, limits: &Limits) -> Router {
    Router::new()
        .route("/", get(runs_page))
        .route("/runs/{run}", get(room_page))
        .route("/assets/{*name}", get(asset))
        .route("/api/runs", get(runs))
        .route("/api/runs/{run}", get(room))
        .route("/api/runs/{run}/events", get(events))
        .route("/api/runs/{run}/report", get(report))
        .route("/api/runs/{run}/tasks/{task}/log", get(log))
        .route("/api/runs/{run}/tasks/{task}/diff", get(diff))
        .route("/api/runs/{run}/tasks/{task}/preview", post(start_preview))
        .route("/api/runs/{run}/tasks/{task}/preview/stop", post(stop_preview))
        .route("/api/runs/{run}/tasks/{task}/{action}", post(act))
        .route("/api/runs/{run}/manual", post(sign_off))
        .route("/api/runs/{run}/cancel", post(cancel))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such page") })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.requests))
        .with_state(app)
}

/// A refused or failed request: its status and a sentence for the person.
#[derive(Debug)]
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

/// A JSON error response: `{"error": "..."}`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    Failure(status, message.into()).into_response()
}

/// The same as a [`Failure`], for the paths that return one.
fn fail(status: StatusCode, message: impl Into<String>) -> Failure {
    Failure(status, message.into())
}

/// Checks the `Host` and the token of every request, remembers what it presented, and adds
/// the security headers (and the token cookie, when the token came in the URL) to the answer.
async fn guard(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    if !auth::host_allowed(request.headers(), app.loopback, app.port) {
        return error(StatusCode::FORBIDDEN, "this server answers only to its own address (Host header)");
    }
    let query: HashMap<String, String> = Query::try_from_uri(request.uri()).map(|Query(q)| q).unwrap_or_default();
    let presented = auth::presented(&app.token, app.port, request.headers(), query.get("token").map(String::as_str));
    if !app.loopback && !presented.has_token() {
        return error(
            StatusCode::UNAUTHORIZED,
            "open the URL that `wavecrew serve` printed: it carries the access token",
        );
    }
    let token_in_url = query.contains_key("token") && presented.has_token();
    request.extensions_mut().insert(presented);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    if token_in_url {
        let cookie = format!("{}={}; Path=/; HttpOnly; SameSite=Strict", auth::cookie_name(app.port), app.token);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Runs `f` on the journal off the async threads.
async fn with_journal<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&Journal) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let journal = app.journal.clone();
    tokio::task::spawn_blocking(move || f(&journal))
        .await
        .unwrap_or_else(|_| Err(fail(StatusCode::INTERNAL_SERVER_ERROR, "the request failed")))
}

/// The run with exactly this id.
fn find(journal: &Journal, id: &str) -> Result<RunRecord, Failure> {
    match journal.run(id) {
        Ok(Some(run)) => Ok(run),
        Ok(None) => Err(fail(StatusCode::NOT_FOUND, format!("no run `{id}` in this repository"))),
        Err(e) => Err(internal(e)),
    }
}

/// The row of `task`, a task of the plan of `run` (its id then names files inside the run's
/// folder only).
fn find_task(journal: &Journal, run: &RunRecord, task: &str) -> Result<engine::journal::TaskRecord, Failure> {
    let tasks = journal.tasks(&run.id).map_err(internal)?;
    tasks
        .into_iter()
        .find(|t| t.task == task && plan::TaskId::parse(&t.task).is_some())
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, format!("run {} has no task `{task}`", run.id)))
}

fn internal(e: impl std::fmt::Display) -> Failure {
    fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// Escapes text for an HTML attribute value.
fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page with its two blanks filled: the token (for a request that presented it) and the run.
fn page(name: &str, presented: Presented, token: &str, run: &str) -> Response {
    let Some(text) = ASSETS.iter().find(|(n, _)| *n == name).map(|(_, bytes)| String::from_utf8_lossy(bytes)) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, format!("the page {name} is missing from this build"));
    };
    let token = if presented.has_token() { token } else { "" };
    let html = text.replace("{{TOKEN}}", &escape_attribute(token)).replace("{{RUN}}", &escape_attribute(run));
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

async fn runs_page(State(app): State<Arc<App>>, request: Request) -> Response {
    let presented = presented_of(&request);
    page("runs.html", presented, &app.token, "")
}

async fn room_page(State(app): State<Arc<App>>, Path(run): Path<String>, request: Request) -> Response {
    let presented = presented_of(&request);
    let id = run.clone();
    if let Err(failure) = with_journal(&app, move |journal| find(journal, &id).map(|_| ())).await {
        return failure.into_response();
    }
    page("room.html", presented, &app.token, &run)
}

fn presented_of(request: &Request) -> Presented {
    request.extensions().get::<Presented>().copied().unwrap_or(Presented::Nothing)
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some((_, bytes)) = ASSETS.iter().find(|(n, _)| *n == name && !n.ends_with(".html")) else {
        return error(StatusCode::NOT_FOUND, "no such file");
    };
    let kind = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")], Body::from(*bytes)).into_response()
}

async fn runs(State(app): State<Arc<App>>) -> Response {
    respond(with_journal(&app, |journal| snapshot::runs(journal).map_err(internal)).await)
}

async fn room(State(app): State<Arc<App>>, Path(run): Path<String>, request: Request) -> Response {
    let can_act = presented_of(&request).has_token();
    let can_preview = app.previews.command().is_some();
    let state_dir = app.state_dir.clone();
    respond(
        with_journal(&app, move |journal| {
            let record = find(journal, &run)?;
            let audience = Audience::Page { can_act, can_preview };
            snapshot::room(journal, &state_dir, &record, audience).map_err(internal)
        })
        .await,
    )
}

/// The run's report in Markdown, as `wavecrew report` prints it (served as plain text: the page
/// never renders it as HTML).
async fn report(State(app): State<Arc<App>>, Path(run): Path<String>) -> Response {
    let result = with_journal(&app, move |journal| {
        let record = find(journal, &run)?;
        engine::report::Report::load(journal, &record).map(|r| r.markdown()).map_err(internal)
    })
    .await;
    match result {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        Err(failure) => failure.into_response(),
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    after: Option<u64>,
}

/// The run's live stream: `room` messages, the run's room whenever the journal has moved past
/// what the page shows (its `after`, or `Last-Event-ID` when the browser reconnects), with the
/// journal's sequence number as their id; and `log` messages, the lines its agents print.
/// Rooms are built once for all the run's pages ([`crate::hub`]); a page gets the newest.
async fn events(
    State(app): State<Arc<App>>,
    Path(run): Path<String>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Response {
    let Ok(permit) = app.streams.clone().try_acquire_owned() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "too many live connections; try again later");
    };
    let id = run.clone();
    if let Err(failure) = with_journal(&app, move |journal| find(journal, &id).map(|_| ())).await {
        return failure.into_response();
    }
    let resumed = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let mut shown: u64 = resumed.or(query.after).unwrap_or(0);
    let mut lines = app.hub.lines();
    let mut rooms = app.hub.watch(&run);
    let (tx, rx) = tokio::sync::mpsc::channel::<sse::Event>(1024);
    let mut stop = app.stop.clone();
    tokio::spawn(async move {
        let _permit = permit;
        // The newest room, if the page does not show it yet.
        let newer = |rooms: &mut RoomWatch, shown: &mut u64| {
            let room = rooms.borrow_and_update().clone()?;
            (room.seq > *shown).then(|| {
                *shown = room.seq;
                sse::Event::default().event("room").id(room.seq.to_string()).data(room.json.as_str())
            })
        };
        loop {
            if let Some(event) = newer(&mut rooms, &mut shown)
                && tx.send(event).await.is_err()
            {
                return;
            }
            let sent = tokio::select! {
                changed = rooms.changed() => match changed {
                    Ok(()) => Ok(()),
                    Err(_) => return,
                },
                line = lines.recv() => match line {
                    Ok(line) if line.run == run => tx.send(sse::Event::default().event("log").data(line.json.as_str())).await,
                    // Another run's, or lines missed by a page that fell behind: they are not kept.
                    Ok(_) | Err(RecvError::Lagged(_)) => Ok(()),
                    Err(RecvError::Closed) => return,
                },
                _ = tx.closed() => return,
                () = async { let _ = stop.wait_for(|stop| *stop).await; } => {
                    // The server stops: the room it holds goes out first.
                    if let Some(event) = newer(&mut rooms, &mut shown) {
                        let _ = tx.send(event).await;
                    }
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok::<_, std::convert::Infallible>(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

#[derive(Deserialize)]
struct LogQuery {
    bytes: Option<u64>,
}

/// The end of a task's latest attempt's logs (its agent, then its Verify commands).
async fn log(
    State(app): State<Arc<App>>,
    Path((run, task)): Path<(String, String)>,
    Query(query): Query<LogQuery>,
) -> Response {
    let want = query.bytes.unwrap_or(64 * 1024).min(MAX_LOG_BYTES);
    let state_dir = app.state_dir.clone();
    let result = with_journal(&app, move |journal| {
        let record = find(journal, &run)?;
        let row = find_task(journal, &record, &task)?;
        // The latest attempt's files: its agent, then its Verify commands.
        let files = engine::layout::RunLayout::new(&state_dir, &record.id)
            .task_logs(&row.task)
            .into_iter()
            .filter(|(attempt, path)| {
                *attempt == row.attempts && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
            })
            .map(|(_, path)| path);
        let mut text = Vec::new();
        for file in files {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            text.extend_from_slice(format!("==> {name} <==\n").as_bytes());
            text.extend(std::fs::read(&file).unwrap_or_default());
            if !text.ends_with(b"\n") {
                text.push(b'\n');
            }
        }
        let start = text.len().saturating_sub(want as usize);
        Ok(String::from_utf8_lossy(&text[start..]).into_owned())
    })
    .await;
    match result {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        Err(failure) => failure.into_response(),
    }
}

#[derive(Deserialize)]
struct DiffQuery {
    page: Option<usize>,
    file: Option<String>,
    lines: Option<usize>,
}

/// The diff of a task's commit: the one it landed, else the one its human-verify checkpoint
/// waits on; paged and cut as [`crate::diff`] says.
async fn diff(
    State(app): State<Arc<App>>,
    Path((run, task)): Path<(String, String)>,
    Query(query): Query<DiffQuery>,
) -> Response {
    // The state folder is `<git common dir>/wavecrew`.
    let Some(git_dir) = app.state_dir.parent().map(std::path::Path::to_path_buf) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "the state folder is not inside a git directory");
    };
    let want = crate::diff::Want {
        page: query.page.unwrap_or(0),
        file: query.file,
        lines: query.lines.unwrap_or(crate::diff::FILE_LINES),
    };
    respond(
        with_journal(&app, move |journal| {
            let record = find(journal, &run)?;
            let row = find_task(journal, &record, &task)?;
            let waiting = match row.state {
                engine::events::TaskState::Waiting => journal.waiting_commit(&record.id, &task).map_err(internal)?,
                _ => None,
            };
            let Some(commit) = row.commit.clone().or(waiting) else {
                return Err(fail(StatusCode::NOT_FOUND, format!("task {task} has no commit to show yet")));
            };
            crate::diff::read(&git_dir, &commit, &want).map_err(|e| match e {
                crate::diff::DiffError::NoCommit(_) | crate::diff::DiffError::NoFile(_) => {
                    fail(StatusCode::NOT_FOUND, e.to_string())
                }
                crate::diff::DiffError::Git(_) => internal(e),
            })
        })
        .await,
    )
}

/// What an action's body may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    note: Option<String>,
    reason: Option<String>,
    option: Option<String>,
    /// A rejection's comments on lines of the diff, sent to the agent with the reason.
    #[serde(default)]
    comments: Vec<engine::rejection::LineComment>,
}

/// A change needs the token in the header and no foreign `Origin`.
fn may_change(request_headers: &HeaderMap, presented: Presented) -> Result<(), Failure> {
    if presented != Presented::Header {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "this action needs the access token in the X-Wavecrew-Token header: open the URL that `wavecrew serve` printed",
        ));
    }
    if !auth::origin_allowed(request_headers) {
        return Err(fail(StatusCode::FORBIDDEN, "this action must come from the dashboard's own pages"));
    }
    Ok(())
}

fn control_error(e: ControlError) -> Failure {
    let status = match &e {
        ControlError::NoSuchRun(_) | ControlError::NoRuns | ControlError::NoSuchTask { .. } => StatusCode::NOT_FOUND,
        ControlError::BadOption { .. } => StatusCode::BAD_REQUEST,
        ControlError::NotWaiting { .. }
        | ControlError::NotVerified { .. }
        | ControlError::NoManual { .. }
        | ControlError::NotActive { .. } => StatusCode::CONFLICT,
        ControlError::Journal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match e.hint() {
        Some(hint) => format!("{e} ({hint})"),
        None => e.to_string(),
    };
    Failure(status, message)
}

fn done(result: Result<engine::control::Done, ControlError>) -> Result<serde_json::Value, Failure> {
    result.map(|d| said(d.message)).map_err(control_error)
}

/// What an action that was carried out answers: `{"ok": true, "message": …}`.
fn said(message: String) -> serde_json::Value {
    serde_json::json!({ "ok": true, "message": message })
}

/// Reads the action's JSON body (an empty body counts as `{}`).
async fn body(app: &App, request: Request) -> Result<ActionBody, Failure> {
    let presented = presented_of(&request);
    let (parts, body) = request.into_parts();
    may_change(&parts.headers, presented)?;
    let bytes = axum::body::to_bytes(body, app.body_limit)
        .await
        .map_err(|_| fail(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large"))?;
    let action = if bytes.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| fail(StatusCode::BAD_REQUEST, format!("the request body is not the JSON expected: {e}")))?
    };
    Ok(action)
}

fn respond<T: serde::Serialize>(result: Result<T, Failure>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(failure) => failure.into_response(),
    }
}

async fn act(
    State(app): State<Arc<App>>,
    Path((run, task, action)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    let body = match body(&app, request).await {
        Ok(body) => body,
        Err(failure) => return failure.into_response(),
    };
    let answer = match action.as_str() {
        "approve" => Answer::Approve { note: body.note.filter(|n| !n.trim().is_empty()) },
        "reject" => match engine::rejection::reason_with_comments(body.reason.as_deref(), &body.comments) {
            Ok(reason) => Answer::Reject { reason },
            Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
        },
        "decide" => match body.option.filter(|o| !o.trim().is_empty()) {
            Some(option) => Answer::Decide { option },
            None => return error(StatusCode::BAD_REQUEST, "a decision needs the option chosen"),
        },
        _ => return error(StatusCode::NOT_FOUND, format!("no action `{action}`: approve, reject or decide")),
    };
    respond(
        with_journal(&app, move |journal| {
            find(journal, &run)?;
            done(engine::control::answer(journal, &run, &task, answer))
        })
        .await,
    )
}

/// Starts the preview of the change a task's checkpoint waits on (see `preview.rs`); the
/// room shows it starting, then links it.
async fn start_preview(
    State(app): State<Arc<App>>,
    Path((run, task)): Path<(String, String)>,
    request: Request,
) -> Response {
    if let Err(failure) = body(&app, request).await {
        return failure.into_response();
    }
    let asked = task.clone();
    let checked = with_journal(&app, move |journal| {
        let record = find(journal, &run)?;
        let row = find_task(journal, &record, &task)?;
        if row.state != engine::events::TaskState::Waiting {
            return Err(fail(
                StatusCode::CONFLICT,
                format!("task {task} does not wait for a person: only a waiting checkpoint's change is previewed"),
            ));
        }
        let Some(commit) = journal.waiting_commit(&record.id, &task).map_err(internal)? else {
            return Err(fail(
                StatusCode::CONFLICT,
                format!("task {task} waits with no change to preview (a decision or a human action)"),
            ));
        };
        let sandbox = match record.settings() {
            engine::settings::Recorded::Settings(settings) => settings.options.sandbox,
            _ => engine::sandbox::Settings::default(),
        };
        Ok((record.id, commit, sandbox))
    })
    .await;
    let (run, commit, sandbox) = match checked {
        Ok(checked) => checked,
        Err(failure) => return failure.into_response(),
    };
    let task = asked;
    respond(match app.previews.start(&run, &task, &commit, sandbox).await {
        Ok(crate::preview::Started::New) => {
            Ok(said(format!("starting the preview of task {task}: its card links it once it answers")))
        }
        Ok(crate::preview::Started::Already) => Ok(said(format!("the preview of task {task} is already there"))),
        Err(message) => Err(fail(StatusCode::CONFLICT, message)),
    })
}

/// Stops the preview of a task's checkpoint.
async fn stop_preview(
    State(app): State<Arc<App>>,
    Path((run, task)): Path<(String, String)>,
    request: Request,
) -> Response {
    if let Err(failure) = body(&app, request).await {
        return failure.into_response();
    }
    let id = match with_journal(&app, move |journal| find(journal, &run)).await {
        Ok(record) => record.id,
        Err(failure) => return failure.into_response(),
    };
    if app.previews.stop(&id, &task, engine::events::PreviewEnd::Stopped) {
        Json(said(format!("stopping the preview of task {task}"))).into_response()
    } else {
        error(StatusCode::NOT_FOUND, format!("task {task} has no preview running"))
    }
}

async fn sign_off(State(app): State<Arc<App>>, Path(run): Path<String>, request: Request) -> Response {
    let body = match body(&app, request).await {
        Ok(body) => body,
        Err(failure) => return failure.into_response(),
    };
    respond(
        with_journal(&app, move |journal| {
            find(journal, &run)?;
            done(engine::control::sign_off_manual(journal, &run, body.note.as_deref()))
        })
        .await,
    )
}

async fn cancel(State(app): State<Arc<App>>, Path(run): Path<String>, request: Request) -> Response {
    if let Err(failure) = body(&app, request).await {
        return failure.into_response();
    }
    respond(
        with_journal(&app, move |journal| {
            find(journal, &run)?;
            done(engine::control::cancel(journal, &run))
        })
        .await,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn attribute_values_are_escaped() {
        assert_eq!(super::escape_attribute(r#"a"><script>'&"#), "a&quot;&gt;&lt;script&gt;&#39;&amp;");
    }

    #[test]
    fn the_pages_are_embedded_with_their_blanks() {
        for page in ["runs.html", "room.html"] {
            let (_, bytes) = super::ASSETS.iter().find(|(n, _)| *n == page).expect(page);
            assert!(String::from_utf8_lossy(bytes).contains("{{TOKEN}}"), "{page} has no token blank");
        }
    }
}

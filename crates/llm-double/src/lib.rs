//! `llm_double`: a scripted LLM server, a **test double** for the model APIs that real agent
//! CLIs call. It speaks, on 127.0.0.1, the three streaming wire formats the CLIs use:
//!
//! - Anthropic Messages (`POST /v1/messages`, SSE with `event:` lines), for Claude Code;
//! - OpenAI Responses (`POST /v1/responses`, SSE), for Codex;
//! - Gemini (`POST /v1beta/models/{model}:streamGenerateContent?alt=sse`), for Gemini CLI;
//! - OpenAI Chat Completions (`POST /v1/chat/completions`, streaming or not), for aider and
//!   opencode: a write step is a call of the request's own write tool when it offers tools,
//!   else the file in aider's "whole" edit format (`path`, then the file in a fence).
//!
//! It is stateless: the reply to a request is the script's step number *n*, where *n* is the
//! number of model turns already in the request's conversation. A step writes a file (through
//! each CLI's own file-writing tool: `Write`, `apply_patch`, `write_file`), answers with text,
//! or fails with an HTTP status. Every request is kept, for tests to look at.
//!
//! ```json
//! { "steps": [ {"write": "hello.txt", "content": "hi\n"}, {"text": "Done."} ] }
//! ```

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// What the double answers, turn by turn.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// One step per model turn; past the end, the last step repeats.
    pub steps: Vec<Step>,
    /// Faults served before a turn's step: an HTTP error some number of times, or a delay.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Conversations of their own, for requests whose body matches `matches` (a regex; the
    /// first that matches wins, else `steps`): parallel tasks each get their own turns.
    #[serde(default)]
    pub conversations: Vec<Conversation>,
    /// A limit the account hits: every model request is answered with the API's own limit
    /// response for a while, then normally.
    #[serde(default)]
    pub limit: Option<Limit>,
    /// A regex searched in the request's JSON body: only the requests it matches are limited
    /// (the limit begins at the first of them), as a limit hit in the middle of a run (the
    /// verifier of the truths, after every task). All requests when absent.
    #[serde(default)]
    pub limit_matches: Option<String>,
}

/// A limit the API keeps answering for `for_ms` milliseconds from the first model request,
/// in the shapes the providers document (see [`limit_response`]).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Which limit.
    pub kind: LimitKind,
    /// How long it lasts, from the first model request.
    pub for_ms: u64,
    /// Whether the response says when the limit resets (the headers and body that carry it
    /// are left out otherwise).
    #[serde(default = "says_reset")]
    pub says_reset: bool,
}

fn says_reset() -> bool {
    true
}

/// The kinds of limits, each answered in each API's own words.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// A rate limit (requests or tokens per minute): Anthropic's `rate_limit_error` with
    /// `retry-after` and `anthropic-ratelimit-*-reset`, OpenAI's `rate_limit_exceeded` with
    /// `x-ratelimit-reset-*`, Gemini's `RESOURCE_EXHAUSTED` with a `RetryInfo` `retryDelay`.
    Rate,
    /// A subscription's usage limit: Anthropic's `anthropic-ratelimit-unified-*` headers
    /// (`status: rejected`, `reset` in epoch seconds), OpenAI's `usage_limit_reached` with
    /// `resets_at`, Gemini's per-day quota.
    Usage,
    /// An API key's quota: OpenAI's `insufficient_quota` (no reset time).
    Quota,
}

/// The steps of the conversations whose requests match a regex.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    /// A regex searched in the request's JSON body (which holds the prompt, e.g. `Task 2\.1`).
    pub matches: String,
    /// One step per model turn of these conversations.
    pub steps: Vec<Step>,
}

/// A fault at one turn.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The turn (0 for the first model turn).
    pub turn: usize,
    /// Fail with this HTTP status (429 adds `retry-after: 1`)…
    pub status: Option<u16>,
    /// …this many times, then answer normally (default: always).
    pub times: Option<u32>,
    /// Wait this long before answering (a slow or stuck model), the times `times` says.
    pub delay_ms: Option<u64>,
    /// Cut the stream after this many events, the times `times` says (a dropped connection).
    pub cut_after: Option<usize>,
}

/// One model turn.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Step {
    /// Call the CLI's file-writing tool.
    Write {
        /// The file, relative to the agent's working directory.
        write: String,
        /// Its content.
        content: String,
    },
    /// Call a tool the client offers by its name (an MCP server's tool, say:
    /// `mcp__wavecrew__check_plan` for Claude Code) with this input.
    Call {
        /// The tool's name.
        call: String,
        /// Its arguments (a JSON object).
        input: Value,
    },
    /// Answer with text and end the turn.
    Text {
        /// The text.
        text: String,
    },
    /// Fail with this HTTP status (429 adds `retry-after: 1`).
    Error {
        /// The status.
        error: u16,
    },
}

/// A request as the double received it.
#[derive(Clone, Debug)]
pub struct Request {
    /// `POST`, `HEAD`…
    pub method: String,
    /// The path and query.
    pub uri: String,
    /// The JSON body (`null` when there is none).
    pub body: Value,
}

struct Shared {
    script: Script,
    /// The conversations' regexes, compiled.
    patterns: Vec<regex::Regex>,
    /// [`Script::limit_matches`], compiled.
    limit_pattern: Option<regex::Regex>,
    requests: Mutex<Vec<Request>>,
    /// For each fault, how many times it was served.
    served: Mutex<Vec<u32>>,
    /// When the limit of [`Script::limit`] began: at the first model request (that it limits).
    limited_since: Mutex<Option<std::time::Instant>>,
}

/// A running double.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts the double on 127.0.0.1, on a free port.
    pub async fn start(script: Script) -> std::io::Result<Server> {
        let patterns = script
            .conversations
            .iter()
            .map(|c| {
                regex::Regex::new(&c.matches)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("`{}`: {e}", c.matches)))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        let limit_pattern = script
            .limit_matches
            .as_deref()
            .map(|matches| {
                regex::Regex::new(matches)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("`{matches}`: {e}")))
            })
            .transpose()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let served = Mutex::new(vec![0; script.faults.len()]);
        let shared = Arc::new(Shared {
            script,
            patterns,
            limit_pattern,
            requests: Mutex::new(Vec::new()),
            served,
            limited_since: Mutex::new(None),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Server { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The wire format a request speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Anthropic,
    OpenAi,
    Gemini,
    Chat,
}

async fn handle(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, body: axum::body::Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Request {
        method: method.to_string(),
        uri: uri.to_string(),
        body: body.clone(),
    });
    let path = uri.path();
    if path.ends_with("/messages/count_tokens") {
        // Claude Code may ask how long a prompt is: a rough count is enough for a double.
        let tokens = body.to_string().len() / 4;
        return json_response(json!({"input_tokens": tokens}));
    }
    let api = if path.ends_with("/chat/completions") {
        Api::Chat
    } else if path.ends_with("/messages") {
        Api::Anthropic
    } else if path.ends_with("/responses") {
        Api::OpenAi
    } else if path.contains(":streamGenerateContent") || path.contains(":generateContent") {
        Api::Gemini
    } else {
        return plain(StatusCode::NOT_FOUND, "not a model endpoint of the double");
    };
    if api == Api::Gemini && path.contains(":generateContent") {
        // Gemini CLI's model router asks, without streaming, how hard the prompt is.
        let text = json!({"complexity_reasoning": "scripted", "complexity_score": 5}).to_string();
        return json_response(
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}]}),
        );
    }
    if let Some(limit) = &shared.script.limit
        && shared.limit_pattern.as_ref().is_none_or(|pattern| pattern.is_match(&body.to_string()))
    {
        let since = *shared
            .limited_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert_with(std::time::Instant::now);
        let left = std::time::Duration::from_millis(limit.for_ms).saturating_sub(since.elapsed());
        if !left.is_zero() {
            let model = body["model"].as_str().unwrap_or("scripted-model");
            return limit_response(api, limit, left, model);
        }
    }
    let turn = model_turns(api, &body);
    let mut status = None;
    let mut cut = None;
    for (index, fault) in shared.script.faults.iter().enumerate().filter(|(_, f)| f.turn == turn) {
        {
            let mut served = shared.served.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if fault.times.is_some_and(|times| served[index] >= times) {
                continue;
            }
            served[index] += 1;
        }
        if let Some(delay) = fault.delay_ms {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        status = status.or(fault.status);
        cut = cut.or(fault.cut_after);
    }
    if let Some(status) = status {
        return error_response(api, status);
    }
    let text = body.to_string();
    let steps = shared
        .patterns
        .iter()
        .position(|p| p.is_match(&text))
        .map_or(&shared.script.steps, |i| &shared.script.conversations[i].steps);
    let Some(step) = steps.get(turn).or(steps.last()) else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "the script has no steps");
    };
    let model = body["model"].as_str().unwrap_or("scripted-model").to_owned();
    let streaming = !matches!(api, Api::Anthropic | Api::Chat) || body["stream"].as_bool().unwrap_or(false);
    match step {
        Step::Error { error } => error_response(api, *error),
        step if api == Api::Chat => chat_response(step, &model, turn, &body, streaming),
        step if !streaming => json_response(anthropic_message(step, &model, turn)),
        step => {
            let mut events = match api {
                Api::Anthropic => anthropic_events(step, &model, turn),
                Api::OpenAi => openai_events(step, turn),
                Api::Gemini | Api::Chat => gemini_events(step),
            };
            if let Some(cut) = cut {
                events.truncate(cut);
            }
            sse(events)
        }
    }
}

/// How many model turns the conversation of a request already holds.
fn model_turns(api: Api, body: &Value) -> usize {
    let count = |list: &Value, test: &dyn Fn(&Value) -> bool| {
        list.as_array().map_or(0, |items| items.iter().filter(|i| test(i)).count())
    };
    match api {
        Api::Anthropic => count(&body["messages"], &|m| m["role"] == "assistant"),
        Api::OpenAi => count(&body["input"], &|i| {
            matches!(i["type"].as_str(), Some("custom_tool_call" | "function_call"))
                || (i["type"] == "message" && i["role"] == "assistant")
        }),
        Api::Gemini => count(&body["contents"], &|c| c["role"] == "model"),
        // Chat clients send few-shot examples as earlier user/assistant pairs (aider does), and
        // tool results as `tool` messages: this task's turns are the ones after the last user
        // message.
        Api::Chat => body["messages"].as_array().map_or(0, |messages| {
            let start = messages.iter().rposition(|m| m["role"] == "user").map_or(0, |i| i + 1);
            messages[start..].iter().filter(|m| m["role"] == "assistant").count()
        }),
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    Response::builder().status(status).body(Body::from(text.to_owned())).unwrap_or_default()
}

fn json_response(value: Value) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(value.to_string()))
        .unwrap_or_default()
}

/// Server-sent events: `(event name, data)`; a `None` name writes a `data:` line only.
fn sse(events: Vec<(Option<&'static str>, Value)>) -> Response {
    let mut text = String::new();
    for (name, data) in events {
        if let Some(name) = name {
            text.push_str(&format!("event: {name}\n"));
        }
        text.push_str(&format!("data: {data}\n\n"));
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(text))
        .unwrap_or_default()
}

fn error_response(api: Api, status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = if status == 429 { "scripted rate limit" } else { "scripted server error" };
    let body = match api {
        Api::Anthropic => {
            let kind = match status {
                429 => "rate_limit_error",
                529 => "overloaded_error",
                _ => "api_error",
            };
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
        Api::OpenAi => json!({"error": {"message": message, "type": "server_error", "code": status}}),
        Api::Gemini => {
            json!({"error": {"code": status, "message": message, "status": if status == 429 { "RESOURCE_EXHAUSTED" } else { "INTERNAL" }}})
        }
        Api::Chat => {
            let kind = if status == 429 { "rate_limit_exceeded" } else { "server_error" };
            json!({"error": {"message": message, "type": kind, "code": status}})
        }
    };
    let mut response = json_response(body);
    *response.status_mut() = code;
    if status == 429 {
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    response
}

/// The response of an API whose limit `limit` lasts `left` longer, as the providers document
/// it: Anthropic's errors and rate-limit headers
/// (<https://docs.claude.com/en/api/rate-limits>, `anthropic-ratelimit-unified-*` for
/// subscriptions), OpenAI's error codes and `x-ratelimit-*` headers
/// (<https://platform.openai.com/docs/guides/rate-limits>; `usage_limit_reached` with
/// `resets_at` for ChatGPT plans, as Codex reads it), Gemini's `RESOURCE_EXHAUSTED` with
/// `QuotaFailure` and `RetryInfo` details (<https://ai.google.dev/gemini-api/docs/rate-limits>).
fn limit_response(api: Api, limit: &Limit, left: std::time::Duration, model: &str) -> Response {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    // Whole seconds round up: a reset time never comes before the limit's end.
    let reset = now + left;
    let reset_secs = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
    let secs = left.as_secs_f64();
    let whole_secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    let reset_rfc3339 = rfc3339(reset_secs);
    let mut headers: Vec<(&'static str, String)> = Vec::new();
    let says = limit.says_reset;
    let body = match (api, limit.kind) {
        (Api::Anthropic, LimitKind::Usage) => {
            headers.push(("anthropic-ratelimit-unified-status", "rejected".into()));
            headers.push(("anthropic-ratelimit-unified-representative-claim", "five_hour".into()));
            if says {
                headers.push(("anthropic-ratelimit-unified-reset", reset_secs.to_string()));
            }
            json!({"type": "error", "error": {"type": "rate_limit_error",
                "message": "This request would exceed your account's rate limit. Please try again later."}})
        }
        (Api::Anthropic, _) => {
            headers.push(("anthropic-ratelimit-requests-limit", "50".into()));
            headers.push(("anthropic-ratelimit-requests-remaining", "0".into()));
            if says {
                headers.push(("retry-after", whole_secs.to_string()));
                headers.push(("anthropic-ratelimit-requests-reset", reset_rfc3339.clone()));
            }
            json!({"type": "error", "error": {"type": "rate_limit_error",
                "message": "This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later."}})
        }
        (Api::OpenAi | Api::Chat, LimitKind::Usage) => {
            let mut error = json!({"type": "usage_limit_reached", "message": "The usage limit has been reached",
                "plan_type": "plus"});
            if says {
                error["resets_at"] = json!(reset_secs);
                error["resets_in_seconds"] = json!(whole_secs);
            }
            json!({ "error": error })
        }
        (Api::OpenAi | Api::Chat, LimitKind::Quota) => {
            json!({"error": {"message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}})
        }
        (Api::OpenAi | Api::Chat, LimitKind::Rate) => {
            headers.push(("x-ratelimit-limit-requests", "500".into()));
            headers.push(("x-ratelimit-remaining-requests", "0".into()));
            let again = if says {
                headers.push(("x-ratelimit-reset-requests", format!("{secs:.3}s")));
                headers.push(("retry-after", whole_secs.to_string()));
                format!(" Please try again in {secs:.3}s.")
            } else {
                String::new()
            };
            json!({"error": {"message": format!("Rate limit reached for {model} in organization org-double on requests per min (RPM): Limit 500, Used 500, Requested 1.{again} Visit https://platform.openai.com/account/rate-limits to learn more."),
                "type": "requests", "param": null, "code": "rate_limit_exceeded"}})
        }
        (Api::Gemini, kind) => {
            let per = if kind == LimitKind::Rate { "Minute" } else { "Day" };
            let mut details = vec![json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": format!("GenerateRequestsPer{per}PerProjectPerModel-FreeTier"),
                "quotaDimensions": {"location": "global", "model": model}, "quotaValue": "10"}]})];
            let mut message = format!(
                "You exceeded your current quota, please check your plan and billing details. * Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: {model}"
            );
            if says {
                details.push(json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{whole_secs}s")}));
                message.push_str(&format!("\nPlease retry in {secs:.6}s."));
            }
            json!({"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED", "details": details}})
        }
    };
    let mut response = json_response(body);
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    for (name, value) in headers {
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// `secs` since the epoch as RFC 3339 in UTC (`2026-12-03T14:05:00Z`).
fn rfc3339(secs: u64) -> String {
    chrono::DateTime::from_timestamp(secs as i64, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

const USAGE_IN: u64 = 10;
const USAGE_OUT: u64 = 5;

/// A whole Anthropic message (for requests without `stream`).
fn anthropic_message(step: &Step, model: &str, turn: usize) -> Value {
    let (content, stop) = match step {
        Step::Write { write, content } => (
            json!([{"type": "tool_use", "id": format!("toolu_{turn}"), "name": "Write", "input": {"file_path": write, "content": content}}]),
            "tool_use",
        ),
        Step::Call { call, input } => {
            (json!([{"type": "tool_use", "id": format!("toolu_{turn}"), "name": call, "input": input}]), "tool_use")
        }
        Step::Text { text } => (json!([{"type": "text", "text": text}]), "end_turn"),
        Step::Error { .. } => (json!([]), "end_turn"),
    };
    json!({"id": format!("msg_{turn}"), "type": "message", "role": "assistant", "model": model, "content": content,
           "stop_reason": stop, "stop_sequence": null, "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT}})
}

/// Anthropic's stream: Claude Code needs the `event:` lines and `content_block_stop`.
fn anthropic_events(step: &Step, model: &str, turn: usize) -> Vec<(Option<&'static str>, Value)> {
    let start = json!({"type": "message_start", "message": {"id": format!("msg_{turn}"), "type": "message", "role": "assistant",
        "model": model, "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": USAGE_IN, "output_tokens": 1}}});
    let (block, delta, stop) = match step {
        Step::Write { write, content } => (
            json!({"type": "tool_use", "id": format!("toolu_{turn}"), "name": "Write", "input": {}}),
            json!({"type": "input_json_delta", "partial_json": json!({"file_path": write, "content": content}).to_string()}),
            "tool_use",
        ),
        Step::Call { call, input } => (
            json!({"type": "tool_use", "id": format!("toolu_{turn}"), "name": call, "input": {}}),
            json!({"type": "input_json_delta", "partial_json": input.to_string()}),
            "tool_use",
        ),
        Step::Text { text } => {
            (json!({"type": "text", "text": ""}), json!({"type": "text_delta", "text": text}), "end_turn")
        }
        Step::Error { .. } => {
            (json!({"type": "text", "text": ""}), json!({"type": "text_delta", "text": ""}), "end_turn")
        }
    };
    vec![
        (Some("message_start"), start),
        (Some("content_block_start"), json!({"type": "content_block_start", "index": 0, "content_block": block})),
        (Some("content_block_delta"), json!({"type": "content_block_delta", "index": 0, "delta": delta})),
        (Some("content_block_stop"), json!({"type": "content_block_stop", "index": 0})),
        (
            Some("message_delta"),
            json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": USAGE_OUT}}),
        ),
        (Some("message_stop"), json!({"type": "message_stop"})),
    ]
}

/// A file as an `apply_patch` "Add File" hunk (Codex's file-writing tool).
fn add_file_patch(path: &str, content: &str) -> String {
    let mut patch = format!("*** Begin Patch\n*** Add File: {path}\n");
    for line in content.lines() {
        patch.push('+');
        patch.push_str(line);
        patch.push('\n');
    }
    patch.push_str("*** End Patch\n");
    patch
}

/// OpenAI Responses' stream: Codex needs `response.completed`.
fn openai_events(step: &Step, turn: usize) -> Vec<(Option<&'static str>, Value)> {
    let item = match step {
        Step::Write { write, content } => {
            json!({"type": "custom_tool_call", "id": format!("ctc_{turn}"), "status": "completed",
            "call_id": format!("call_{turn}"), "name": "apply_patch", "input": add_file_patch(write, content)})
        }
        Step::Call { call, input } => {
            json!({"type": "function_call", "id": format!("fc_{turn}"), "status": "completed",
            "call_id": format!("call_{turn}"), "name": call, "arguments": input.to_string()})
        }
        Step::Text { text } => {
            json!({"type": "message", "id": format!("msg_{turn}"), "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]})
        }
        Step::Error { .. } => {
            json!({"type": "message", "id": format!("msg_{turn}"), "role": "assistant", "status": "completed", "content": []})
        }
    };
    let usage = json!({"input_tokens": USAGE_IN, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": USAGE_OUT,
        "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": USAGE_IN + USAGE_OUT});
    vec![
        (None, json!({"type": "response.output_item.done", "output_index": 0, "item": item})),
        (None, json!({"type": "response.completed", "response": {"id": format!("resp_{turn}"), "usage": usage}})),
    ]
}

/// Gemini's stream: a function call in one chunk; text word by word, as Gemini streams it (a
/// client shows it in pieces, or joins them). The last chunk ends the turn with its usage.
fn gemini_events(step: &Step) -> Vec<(Option<&'static str>, Value)> {
    let parts: Vec<Value> = match step {
        Step::Write { write, content } => {
            vec![json!({"functionCall": {"name": "write_file", "args": {"file_path": write, "content": content}}})]
        }
        Step::Call { call, input } => vec![json!({"functionCall": {"name": call, "args": input}})],
        Step::Text { text } => text.split_inclusive(' ').map(|piece| json!({"text": piece})).collect(),
        Step::Error { .. } => vec![json!({"text": ""})],
    };
    let last = parts.len().saturating_sub(1);
    parts
        .into_iter()
        .enumerate()
        .map(|(index, part)| {
            let mut chunk = json!({"candidates": [{"content": {"role": "model", "parts": [part]}, "index": 0}],
                                   "modelVersion": "scripted-model"});
            if index == last {
                chunk["candidates"][0]["finishReason"] = json!("STOP");
                chunk["usageMetadata"] = json!({"promptTokenCount": USAGE_IN, "candidatesTokenCount": USAGE_OUT,
                                                "totalTokenCount": USAGE_IN + USAGE_OUT});
            }
            (None, chunk)
        })
        .collect()
}

/// The request's own file-writing tool, if it offers one: its name and the names of its path
/// and content arguments (`write` with `filePath` and `content`, say).
fn write_tool(body: &Value) -> Option<(String, String, String)> {
    body["tools"].as_array()?.iter().find_map(|tool| {
        let function = &tool["function"];
        let name = function["name"].as_str()?;
        if !name.to_ascii_lowercase().contains("write") {
            return None;
        }
        let properties = function["parameters"]["properties"].as_object()?;
        let key = |test: &dyn Fn(&str) -> bool| properties.keys().find(|k| test(&k.to_ascii_lowercase())).cloned();
        let path = key(&|k| k.contains("path") || k.contains("file"))?;
        let content = key(&|k| k.contains("content") || k == "text")?;
        Some((name.to_owned(), path, content))
    })
}

/// An edit in the reply's text for clients without tools: aider's "whole" edit format (the
/// path, then the file in a fence), which aider uses for models it does not know.
fn edit_block(path: &str, content: &str) -> String {
    let body = if content.ends_with('\n') { content.to_owned() } else { format!("{content}\n") };
    format!("{path}\n```\n{body}```\n")
}

/// A Chat Completions reply, whole or as a stream of chunks ending in `[DONE]`.
fn chat_response(step: &Step, model: &str, turn: usize, body: &Value, streaming: bool) -> Response {
    let (content, tool_call, finish) = match step {
        Step::Write { write, content } => match write_tool(body) {
            Some((name, path_key, content_key)) => {
                let arguments = json!({ path_key: write, content_key: content }).to_string();
                let call = json!({"id": format!("call_{turn}"), "type": "function", "function": {"name": name, "arguments": arguments}});
                (None, Some(call), "tool_calls")
            }
            None => (Some(edit_block(write, content)), None, "stop"),
        },
        Step::Call { call, input } => {
            let call = json!({"id": format!("call_{turn}"), "type": "function", "function": {"name": call, "arguments": input.to_string()}});
            (None, Some(call), "tool_calls")
        }
        Step::Text { text } => (Some(text.clone()), None, "stop"),
        Step::Error { .. } => (Some(String::new()), None, "stop"),
    };
    let usage =
        json!({"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT, "total_tokens": USAGE_IN + USAGE_OUT});
    let id = format!("chatcmpl-{turn}");
    if !streaming {
        let mut message = json!({"role": "assistant", "content": content});
        if let Some(call) = &tool_call {
            message["tool_calls"] = json!([call]);
        }
        return json_response(json!({"id": id, "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage}));
    }
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut text = String::new();
    let mut push = |value: Value| text.push_str(&format!("data: {value}\n\n"));
    push(chunk(json!({"role": "assistant", "content": ""}), Value::Null));
    if let Some(content) = content.filter(|c| !c.is_empty()) {
        push(chunk(json!({"content": content}), Value::Null));
    }
    if let Some(mut call) = tool_call {
        call["index"] = json!(0);
        push(chunk(json!({"tool_calls": [call]}), Value::Null));
    }
    push(chunk(json!({}), json!(finish)));
    push(
        json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [], "usage": usage}),
    );
    text.push_str("data: [DONE]\n\n");
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(text))
        .unwrap_or_default()
}

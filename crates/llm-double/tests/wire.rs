//! The double's three wire formats, over real HTTP on 127.0.0.1.

use llm_double::{Limit, LimitKind, Script, Server, Step};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A POST with a JSON body; returns (status line, headers and body as text).
async fn post(server: &Server, path: &str, body: &Value) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (status, rest) = response.split_once("\r\n").unwrap();
    (status.to_owned(), rest.to_owned())
}

/// The `data:` payloads of an SSE body, with their `event:` names.
fn events(text: &str) -> Vec<(Option<String>, Value)> {
    let mut out = Vec::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(event) = line.strip_prefix("event: ") {
            name = Some(event.to_owned());
        } else if let Some(data) = line.strip_prefix("data: ") {
            out.push((name.take(), serde_json::from_str(data).unwrap()));
        }
    }
    out
}

fn script() -> Script {
    Script {
        faults: Vec::new(),
        conversations: Vec::new(),
        limit: None,
        limit_matches: None,
        steps: vec![
            Step::Write { write: "hello.txt".into(), content: "hi\n".into() },
            Step::Text { text: "Done.".into() },
        ],
    }
}

#[tokio::test]
async fn anthropic_streams_a_write_tool_call_then_text() {
    let server = Server::start(script()).await.unwrap();
    let first = json!({"model": "claude-x", "stream": true, "messages": [{"role": "user", "content": "go"}]});
    let (status, body) = post(&server, "/v1/messages?beta=true", &first).await;
    assert!(status.contains("200"), "{status}");
    let list = events(&body);
    let names: Vec<&str> = list.iter().map(|(n, _)| n.as_deref().unwrap_or("")).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(list[1].1["content_block"]["name"], "Write");
    let input: Value = serde_json::from_str(list[2].1["delta"]["partial_json"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({"file_path": "hello.txt", "content": "hi\n"}));
    assert_eq!(list[4].1["delta"]["stop_reason"], "tool_use");

    let second = json!({"model": "claude-x", "stream": true, "messages": [
        {"role": "user", "content": "go"}, {"role": "assistant", "content": []}, {"role": "user", "content": []}]});
    let (_, body) = post(&server, "/v1/messages", &second).await;
    let list = events(&body);
    assert_eq!(list[2].1["delta"], json!({"type": "text_delta", "text": "Done."}));
    assert_eq!(list[4].1["delta"]["stop_reason"], "end_turn");
    assert_eq!(server.requests().len(), 2);

    let plain = json!({"model": "claude-x", "messages": [{"role": "user", "content": "go"}]});
    let (_, body) = post(&server, "/v1/messages", &plain).await;
    assert!(body.contains(r#""stop_reason":"tool_use""#), "without stream, one JSON message: {body}");
}

#[tokio::test]
async fn openai_responses_streams_an_apply_patch_then_a_message() {
    let server = Server::start(script()).await.unwrap();
    let (_, body) =
        post(&server, "/v1/responses", &json!({"model": "gpt-5.5", "input": [{"type": "message", "role": "user"}]}))
            .await;
    let list = events(&body);
    assert_eq!(list[0].1["item"]["name"], "apply_patch");
    assert_eq!(list[0].1["item"]["input"], "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\n");
    assert_eq!(list[1].1["type"], "response.completed");
    let (_, body) = post(
        &server,
        "/v1/responses",
        &json!({"input": [{"type": "message", "role": "user"}, {"type": "custom_tool_call"}]}),
    )
    .await;
    assert_eq!(events(&body)[0].1["item"]["content"][0]["text"], "Done.");
}

#[tokio::test]
async fn gemini_streams_write_file_then_text_and_answers_the_router() {
    let server = Server::start(script()).await.unwrap();
    let path = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse";
    let (_, body) = post(&server, path, &json!({"contents": [{"role": "user", "parts": [{"text": "go"}]}]})).await;
    let call = &events(&body)[0].1["candidates"][0]["content"]["parts"][0]["functionCall"];
    assert_eq!(call["name"], "write_file");
    assert_eq!(call["args"]["file_path"], "hello.txt");
    let (_, body) =
        post(&server, path, &json!({"contents": [{"role": "user"}, {"role": "model"}, {"role": "user"}]})).await;
    assert_eq!(events(&body)[0].1["candidates"][0]["content"]["parts"][0]["text"], "Done.");
    // Text streams word by word; only the last chunk ends the turn.
    let server = Server::start(Script { steps: vec![Step::Text { text: "I could not".into() }], ..Script::default() })
        .await
        .unwrap();
    let (_, body) = post(&server, path, &json!({"contents": [{"role": "user", "parts": [{"text": "go"}]}]})).await;
    let chunks = events(&body);
    let pieces: Vec<&str> =
        chunks.iter().filter_map(|(_, c)| c["candidates"][0]["content"]["parts"][0]["text"].as_str()).collect();
    assert_eq!(pieces, ["I ", "could ", "not"]);
    assert_eq!(chunks.iter().filter(|(_, c)| c["candidates"][0]["finishReason"] == "STOP").count(), 1);
    assert_eq!(chunks.last().unwrap().1["candidates"][0]["finishReason"], "STOP");
    let (_, body) = post(&server, "/v1beta/models/flash:generateContent", &json!({})).await;
    assert!(body.contains("complexity_score"), "{body}");
}

#[tokio::test]
async fn scripted_errors_carry_their_status_and_retry_after() {
    let server = Server::start(Script { steps: vec![Step::Error { error: 429 }], ..Script::default() }).await.unwrap();
    let (status, rest) = post(&server, "/v1/messages", &json!({"stream": true, "messages": []})).await;
    assert!(status.contains("429"), "{status}");
    assert!(rest.to_ascii_lowercase().contains("retry-after: 1"), "{rest}");
    assert!(rest.contains("rate_limit_error"), "{rest}");
    let (status, _) = post(&server, "/not/a/model", &json!({})).await;
    assert!(status.contains("404"), "{status}");
}

#[tokio::test]
async fn a_fault_fails_a_turn_some_times_then_the_step_answers() {
    let faults = vec![llm_double::Fault { turn: 0, status: Some(500), times: Some(2), ..llm_double::Fault::default() }];
    let server = Server::start(Script { faults, ..script() }).await.unwrap();
    let body = json!({"stream": true, "messages": [{"role": "user", "content": "go"}]});
    for _ in 0..2 {
        let (status, rest) = post(&server, "/v1/messages", &body).await;
        assert!(status.contains("500") && rest.contains("api_error"), "{status}");
    }
    let (status, body) = post(&server, "/v1/messages", &body).await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(events(&body)[1].1["content_block"]["name"], "Write");
}

#[tokio::test]
async fn conversations_matched_by_regex_get_their_own_turns_and_tokens_are_counted() {
    let mut script = script();
    script.conversations.push(llm_double::Conversation {
        matches: r"Task 2\.1".into(),
        steps: vec![Step::Text { text: "second task".into() }],
    });
    let server = Server::start(script).await.unwrap();
    let ask = |prompt: &str| json!({"stream": true, "messages": [{"role": "user", "content": prompt}]});
    let (_, body) = post(&server, "/v1/messages", &ask("Task 2.1: do b")).await;
    assert_eq!(events(&body)[2].1["delta"]["text"], "second task");
    let (_, body) = post(&server, "/v1/messages", &ask("Task 1.1: do a")).await;
    assert_eq!(events(&body)[1].1["content_block"]["name"], "Write");
    let (_, body) = post(&server, "/v1/messages/count_tokens", &ask("Task 1.1")).await;
    assert!(body.contains("input_tokens"), "{body}");
}

#[tokio::test]
async fn chat_completions_call_the_requests_write_tool_or_reply_with_an_edit_block() {
    let server = Server::start(script()).await.unwrap();
    let tools = json!([{"type": "function", "function": {"name": "write", "parameters": {"type": "object",
        "properties": {"filePath": {"type": "string"}, "content": {"type": "string"}}}}}]);
    let (_, body) = post(
        &server,
        "/v1/chat/completions",
        &json!({"model": "m", "stream": true, "tools": tools, "messages": [{"role": "user", "content": "go"}]}),
    )
    .await;
    let chunks: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
    assert_eq!(chunks.last(), Some(&"[DONE]"));
    let call: Value = serde_json::from_str(chunks.iter().find(|c| c.contains("tool_calls")).unwrap()).unwrap();
    let function = &call["choices"][0]["delta"]["tool_calls"][0]["function"];
    assert_eq!(function["name"], "write");
    assert_eq!(
        serde_json::from_str::<Value>(function["arguments"].as_str().unwrap()).unwrap(),
        json!({"filePath": "hello.txt", "content": "hi\n"})
    );
    let (_, body) =
        post(&server, "/v1/chat/completions", &json!({"model": "m", "messages": [{"role": "user", "content": "go"}]}))
            .await;
    assert!(body.contains("hello.txt\\n```\\nhi\\n```"), "{body}");
}

#[tokio::test]
async fn a_stream_can_be_cut_and_the_model_overloaded() {
    let faults = vec![
        llm_double::Fault { turn: 0, cut_after: Some(2), times: Some(1), ..llm_double::Fault::default() },
        llm_double::Fault { turn: 1, status: Some(529), ..llm_double::Fault::default() },
    ];
    let server = Server::start(Script { faults, ..script() }).await.unwrap();
    let first = json!({"stream": true, "messages": [{"role": "user", "content": "go"}]});
    let (_, body) = post(&server, "/v1/messages", &first).await;
    assert_eq!(events(&body).len(), 2, "cut after two events");
    let (_, body) = post(&server, "/v1/messages", &first).await;
    assert_eq!(events(&body).len(), 6, "whole the second time");
    let second = json!({"stream": true, "messages": [{"role": "user"}, {"role": "assistant"}, {"role": "user"}]});
    let (status, rest) = post(&server, "/v1/messages", &second).await;
    assert!(status.contains("529") && rest.contains("overloaded_error"), "{status} {rest}");
}

/// The header `name` of a response's head (`rest` of [`post`]).
fn header<'a>(rest: &'a str, name: &str) -> Option<&'a str> {
    let head = rest.split("\r\n\r\n").next()?;
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(": ")?;
        key.eq_ignore_ascii_case(name).then_some(value.trim())
    })
}

fn body(rest: &str) -> Value {
    serde_json::from_str(rest.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

#[tokio::test]
async fn a_limit_answers_each_api_s_own_429_for_a_while_then_the_script() {
    let limited = |kind| Script { limit: Some(Limit { kind, for_ms: 1_500, says_reset: true }), ..script() };
    let anthropic = json!({"model": "claude-x", "stream": true, "messages": [{"role": "user", "content": "go"}]});
    let server = Server::start(limited(LimitKind::Usage)).await.unwrap();
    let (status, rest) = post(&server, "/v1/messages", &anthropic).await;
    assert!(status.contains("429"), "{status}");
    assert_eq!(header(&rest, "anthropic-ratelimit-unified-status"), Some("rejected"));
    let reset: u64 = header(&rest, "anthropic-ratelimit-unified-reset").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(reset > now && reset <= now + 3, "{reset} vs {now}"); // 1.5 s, rounded up
    assert_eq!(body(&rest)["error"]["type"], "rate_limit_error");
    // Once the limit is over, the script plays.
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    let (status, _) = post(&server, "/v1/messages", &anthropic).await;
    assert!(status.contains("200"), "{status}");

    let server = Server::start(limited(LimitKind::Rate)).await.unwrap();
    let (_, rest) = post(&server, "/v1/messages", &anthropic).await;
    assert_eq!(header(&rest, "retry-after"), Some("2"));
    assert!(header(&rest, "anthropic-ratelimit-requests-reset").unwrap().ends_with('Z'));
    let (status, rest) = post(&server, "/v1/responses", &json!({"model": "gpt-x", "input": []})).await;
    assert!(status.contains("429"));
    assert_eq!(body(&rest)["error"]["code"], "rate_limit_exceeded");
    assert!(header(&rest, "x-ratelimit-reset-requests").unwrap().ends_with('s'));
    let gemini = "/v1beta/models/gemini-x:streamGenerateContent?alt=sse";
    let (_, rest) = post(&server, gemini, &json!({"contents": []})).await;
    let error = &body(&rest)["error"];
    assert_eq!(error["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(error["details"][1]["retryDelay"], "2s");

    let server = Server::start(limited(LimitKind::Usage)).await.unwrap();
    let (_, rest) = post(&server, "/v1/responses", &json!({"model": "gpt-x", "input": []})).await;
    assert_eq!(body(&rest)["error"]["type"], "usage_limit_reached");
    assert!(body(&rest)["error"]["resets_at"].as_u64().is_some());
    let quota = Script { limit: Some(Limit { kind: LimitKind::Quota, for_ms: 1_000, says_reset: false }), ..script() };
    let server = Server::start(quota).await.unwrap();
    let (_, rest) = post(&server, "/v1/chat/completions", &json!({"model": "gpt-x", "messages": []})).await;
    assert_eq!(body(&rest)["error"]["code"], "insufficient_quota");
}

#[tokio::test]
async fn a_limit_with_a_pattern_limits_only_the_requests_it_matches_from_the_first_of_them() {
    let script = Script {
        limit: Some(Limit { kind: LimitKind::Usage, for_ms: 60_000, says_reset: true }),
        limit_matches: Some("Verify the truths".into()),
        ..script()
    };
    let server = Server::start(script).await.unwrap();
    let task = json!({"model": "claude-x", "stream": true, "messages": [{"role": "user", "content": "Task 1.1"}]});
    let (status, _) = post(&server, "/v1/messages", &task).await;
    assert!(status.contains("200"), "{status}");
    let verifier =
        json!({"model": "claude-x", "stream": true, "messages": [{"role": "user", "content": "# Verify the truths"}]});
    let (status, rest) = post(&server, "/v1/messages", &verifier).await;
    assert!(status.contains("429"), "{status}");
    assert_eq!(header(&rest, "anthropic-ratelimit-unified-status"), Some("rejected"));
    let (status, _) = post(&server, "/v1/messages", &task).await;
    assert!(status.contains("200"), "the limit holds only for what it matches: {status}");
}

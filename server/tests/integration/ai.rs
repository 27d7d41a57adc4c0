//! Optional AI against loopback servers that speak each provider's real wire format (OpenAI
//! Chat Completions, Anthropic Messages, Gemini generateContent) and misbehave on cue: 429 with
//! Retry-After, 500, hanging past the timeout, malformed JSON and content-filter refusals.
//! Proven here: keys sealed and never returned, tampering detected, retry, fallback, the circuit
//! breaker, the cache, cost and usage, the monthly ceiling, the switch, PII redaction, audit,
//! and the built-in engine answering whenever no model does.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::identity::User;
use crate::tenancy::join;

/// What a fake provider does with the next request.
#[derive(Clone, Debug)]
enum Reply {
    Ok,
    /// An answer of this text.
    Text(String),
    /// A stream that stops after its first piece, without its end marker.
    Cut,
    Status(u16, Option<&'static str>),
    Hang(Duration),
    Malformed,
    Refuse,
}

/// A request the fake received.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    seen: Vec<Seen>,
}

/// A loopback model provider of one kind.
struct Fake {
    kind: &'static str,
    url: String,
    script: Arc<Mutex<Script>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn ok_body(kind: &str) -> Value {
    text_body(
        kind,
        &format!("### What it means\n\nExplained by the {kind} model."),
    )
}

fn text_body(kind: &str, text: &str) -> Value {
    match kind {
        "openai" => {
            json!({"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}})
        }
        "anthropic" => {
            json!({"id": "msg_1", "type": "message", "role": "assistant", "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "usage": {"input_tokens": 1200, "output_tokens": 300}})
        }
        _ => {
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 1200, "candidatesTokenCount": 300}})
        }
    }
}

fn refusal_body(kind: &str) -> Value {
    match kind {
        "openai" => {
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}]})
        }
        "anthropic" => {
            json!({"id": "msg_2", "type": "message", "content": [], "stop_reason": "refusal", "usage": {"input_tokens": 10, "output_tokens": 0}})
        }
        _ => json!({"promptFeedback": {"blockReason": "SAFETY"}}),
    }
}

fn error_body(kind: &str, status: u16) -> Value {
    let message = if status == 429 {
        "Rate limit reached"
    } else {
        "The server had an error"
    };
    match kind {
        "anthropic" => json!({"type": "error", "error": {"type": "api_error", "message": message}}),
        "gemini" => json!({"error": {"code": status, "message": message, "status": "UNAVAILABLE"}}),
        _ => json!({"error": {"message": message, "type": "server_error"}}),
    }
}

async fn respond(
    State((kind, script)): State<(&'static str, Arc<Mutex<Script>>)>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let streaming =
        body.contains("\"stream\":true") || uri.path().contains(":streamGenerateContent");
    let reply = {
        let mut s = script.lock().expect("script");
        s.seen.push(Seen {
            path: uri.path().to_owned(),
            headers,
            body,
        });
        s.replies.pop_front().unwrap_or(Reply::Ok)
    };
    match reply {
        Reply::Ok if streaming => sse(stream_body(kind, false)),
        Reply::Cut => sse(stream_body(kind, true)),
        Reply::Ok => axum::Json(ok_body(kind)).into_response(),
        Reply::Text(text) => axum::Json(text_body(kind, &text)).into_response(),
        Reply::Refuse => axum::Json(refusal_body(kind)).into_response(),
        Reply::Malformed => (
            [("content-type", "application/json")],
            "{\"choices\": [{\"message\": ",
        )
            .into_response(),
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            axum::Json(ok_body(kind)).into_response()
        }
        Reply::Status(code, retry_after) => {
            let mut r = (
                StatusCode::from_u16(code).expect("status"),
                axum::Json(error_body(kind, code)),
            )
                .into_response();
            if let Some(wait) = retry_after {
                r.headers_mut()
                    .insert("retry-after", wait.parse().expect("header"));
            }
            r
        }
    }
}

/// The OK answer's text in three pieces.
const PIECES: [&str; 3] = [
    "### What it means\n\n",
    "Explained by the ",
    "streaming model.",
];

/// The OK answer as the provider's stream; `cut` stops after the first piece.
fn stream_body(kind: &str, cut: bool) -> String {
    let pieces: &[&str] = if cut { &PIECES[..1] } else { &PIECES };
    let mut out = String::new();
    match kind {
        "openai" => {
            for p in pieces {
                out.push_str(&format!(
                    "data: {}\n\n",
                    json!({"choices": [{"index": 0, "delta": {"content": p}}]})
                ));
            }
            if !cut {
                out.push_str(&format!("data: {}\n\n", json!({"choices": [], "usage": {"prompt_tokens": 1200, "completion_tokens": 300}})));
                out.push_str("data: [DONE]\n\n");
            }
        }
        "anthropic" => {
            out.push_str(&format!("event: message_start\ndata: {}\n\n", json!({"type": "message_start", "message": {"usage": {"input_tokens": 1200, "output_tokens": 1}}})));
            for p in pieces {
                out.push_str(&format!("event: content_block_delta\ndata: {}\n\n", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}})));
            }
            if !cut {
                out.push_str(&format!("event: message_delta\ndata: {}\n\n", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 300}})));
                out.push_str("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
            }
        }
        _ => {
            for (i, p) in pieces.iter().enumerate() {
                let last = i + 1 == pieces.len();
                let usage = if last {
                    json!({"promptTokenCount": 1200, "candidatesTokenCount": 300})
                } else {
                    json!({"promptTokenCount": 1200})
                };
                // The last chunk carries the finish reason, as Gemini's do.
                let candidate = if last && !cut {
                    json!({"content": {"role": "model", "parts": [{"text": p}]}, "finishReason": "STOP"})
                } else {
                    json!({"content": {"role": "model", "parts": [{"text": p}]}})
                };
                out.push_str(&format!(
                    "data: {}\r\n\r\n",
                    json!({"candidates": [candidate], "usageMetadata": usage})
                ));
            }
        }
    }
    out
}

fn sse(body: String) -> Response {
    ([("content-type", "text/event-stream")], body).into_response()
}

impl Fake {
    async fn start(kind: &'static str) -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let router = axum::Router::new()
            .fallback(axum::routing::post(respond))
            .with_state((kind, script.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            kind,
            url,
            script,
            task,
        }
    }

    fn then(&self, replies: &[Reply]) {
        self.script
            .lock()
            .expect("script")
            .replies
            .extend(replies.iter().cloned());
    }

    fn seen(&self) -> Vec<Seen> {
        self.script.lock().expect("script").seen.clone()
    }

    /// The base URL as an operator would enter it.
    fn base_url(&self) -> String {
        match self.kind {
            "openai" => format!("{}/v1", self.url),
            "anthropic" => self.url.clone(),
            _ => format!("{}/v1beta", self.url),
        }
    }
}

const KEY: &str = "sk-test-0123456789abcdef";

async fn add_provider(app: &TestApp, owner: &User, fake: &Fake, name: &str) -> Value {
    let model = match fake.kind {
        "openai" => "gpt-4o-mini",
        "anthropic" => "claude-sonnet-4-5",
        _ => "gemini-2.0-flash",
    };
    let (status, body) = app
        .call_as(
            owner,
            "POST",
            &format!("/api/v1/orgs/{}/ai/providers", owner.org_slug),
            Some(json!({
                "name": name,
                "kind": fake.kind,
                "base_url": fake.base_url(),
                "api_key": format!("{KEY}-{name}"),
                "models": [model, "other-model"],
                "price_in_per_1k": 0.5,
                "price_out_per_1k": 2.0,
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

/// An analysis whose error pattern names people and addresses.
async fn analysed(app: &TestApp, owner: &User) -> (String, String) {
    let mut log = String::new();
    for i in 0..40 {
        log.push_str(&format!(
            "2026-12-01T10:{:02}:{:02}Z ERROR Login failed for user{}@example.com from 203.0.113.{}: bad credentials\n",
            i / 60,
            i % 60,
            i % 3,
            10 + i % 5
        ));
        log.push_str(&format!(
            "2026-12-01T10:{:02}:{:02}Z INFO request served in {} ms\n",
            i / 60,
            i % 60,
            10 + i
        ));
    }
    let r = app.upload(owner, "auth.log", "text/plain", log).await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text());
    let (status, started) = app
        .call_as(
            owner,
            "POST",
            "/api/v1/analyses",
            Some(json!({"upload_ids": [r.json()["id"].clone()]})),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_str().expect("id").to_owned();
    let done = app.wait_for(owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    let (status, page) = app
        .call_as(
            owner,
            "GET",
            &format!("/api/v1/analyses/{id}/patterns?q=Login"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let pattern = page["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a login pattern: {page}"))
        .to_owned();
    (id, pattern)
}

async fn explain(app: &TestApp, user: &User, id: &str, body: Value) -> (u16, Value) {
    app.call_as(
        user,
        "POST",
        &format!("/api/v1/analyses/{id}/ai/explain"),
        Some(body),
    )
    .await
}

async fn save_settings(app: &TestApp, owner: &User, settings: Value) {
    let (status, body) = app
        .call_as(
            owner,
            "PUT",
            &format!("/api/v1/orgs/{}/ai/settings", owner.org_slug),
            Some(settings),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn usage_rows(app: &TestApp, org: &str) -> Vec<(String, String, i64, f64, bool)> {
    let org = org.to_owned();
    server::with_db!(&app.raw, pool => sqlx::query_as::<_, (String, String, i64, f64, bool)>(
        "select provider, outcome, tokens_in, cost, cached from ai_usage where org_id = $1 order by at_ms, id",
    )
    .bind(org)
    .fetch_all(pool)
    .await)
    .expect("usage")
}

/// Forgets cached answers, so the next question reaches a provider.
async fn clear_cache(app: &TestApp) {
    server::with_db!(&app.raw, pool => sqlx::query("delete from ai_cache").execute(pool).await.map(drop))
        .expect("clear cache");
}

/// Both backends, with a short call timeout so a hanging provider is given up quickly.
macro_rules! ai_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                run(TestApp::try_spawn_with(Backend::Sqlite, &[("FAULTLINE_AI_TIMEOUT_SECONDS", "2")]).await.expect("sqlite")).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) = TestApp::try_spawn_with(Backend::Postgres, &[("FAULTLINE_AI_TIMEOUT_SECONDS", "2")]).await {
                    run(app).await;
                }
            }
        }
    };
}

ai_test!(providers_keep_their_keys_sealed, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
    let fake = Fake::start("openai").await;
    let made = add_provider(&app, &owner, &fake, "OpenAI").await;
    let id = made["id"].as_str().expect("id").to_owned();
    let text = made.to_string();
    assert!(!text.contains(KEY), "the key is never echoed: {text}");
    assert_eq!(made["key_hint"], "…enAI");
    assert_eq!(made["position"], 0);
    let base = format!("/api/v1/orgs/{}/ai/providers", owner.org_slug);
    let (status, list) = app.call_as(&viewer, "GET", &base, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(!list.to_string().contains(KEY));
    // At rest: sealed, not the key.
    let sealed: String = server::with_db!(&app.raw, pool => sqlx::query_scalar(
        "select api_key_sealed from ai_providers where id = $1",
    )
    .bind(&id)
    .fetch_one(pool)
    .await)
    .expect("row");
    assert!(
        sealed.starts_with("v1.") && !sealed.contains(KEY),
        "{sealed}"
    );

    // Permissions and tenancy.
    let (status, _) = app
        .call_as(
            &viewer,
            "POST",
            &base,
            Some(json!({"name": "x", "kind": "openai", "base_url": "http://127.0.0.1:9", "api_key": "k", "models": ["m"]})),
        )
        .await;
    assert_eq!(status, 403);
    let foreign = format!("/api/v1/orgs/{}/ai/providers/{id}", other.org_slug);
    let (status, _) = app
        .call_as(&other, "PATCH", &foreign, Some(json!({"enabled": false})))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.call_as(&other, "DELETE", &foreign, None).await;
    assert_eq!(status, 404);

    // Validation names each field.
    let (status, body) = app
        .call_as(
            &owner,
            "POST",
            &base,
            Some(json!({"name": "openai", "kind": "openai", "base_url": "ftp://x", "api_key": "a\nb", "models": ["bad model"], "price_in_per_1k": -1.0})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    for field in ["name", "base_url", "api_key", "models", "price_in_per_1k"] {
        assert!(fields.contains(&field), "{field} in {body}");
    }

    // A sealed key copied onto another provider does not open there: tampering is detected, the
    // provider is passed over with a note, and the built-in engine answers.
    let second = add_provider(&app, &owner, &fake, "Second").await;
    let second_id = second["id"].as_str().expect("id").to_owned();
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, pattern) = analysed(&app, &owner).await;
    server::with_db!(&app.raw, pool => sqlx::query(
        "update ai_providers set api_key_sealed = $1 where id = $2",
    )
    .bind(&sealed)
    .bind(&second_id)
    .execute(pool)
    .await
    .map(drop))
    .expect("swap");
    let (status, answer) = explain(
        &app,
        &owner,
        &analysis,
        json!({"pattern_id": pattern, "provider": "Second"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["provider"], "OpenAI",
        "the next provider answered: {answer}"
    );
    assert!(
        answer["notes"][0]
            .as_str()
            .unwrap_or_default()
            .contains("did not open"),
        "{answer}"
    );
    // The request carried the right key, and only to the provider whose key opened.
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {KEY}-OpenAI").as_str()
    );

    // A new key replaces the sealed one; deleting removes the provider.
    let (status, patched) = app
        .call_as(
            &owner,
            "PATCH",
            &format!("{base}/{second_id}"),
            Some(json!({"api_key": "sk-rotated-key-9999", "position": 0})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["key_hint"], "…9999");
    let (status, _) = app
        .call_as(&owner, "DELETE", &format!("{base}/{second_id}"), None)
        .await;
    assert_eq!(status, 204);
    let (_, list) = app.call_as(&owner, "GET", &base, None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let r = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{}/audit", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let audit = r.text();
    for action in [
        "ai.provider_created",
        "ai.provider_updated",
        "ai.provider_deleted",
        "ai.call",
    ] {
        assert!(audit.contains(action), "{action}");
    }
    assert!(
        !audit.contains(KEY) && !audit.contains("sk-rotated"),
        "no key in the audit log"
    );
});

ai_test!(each_wire_format_answers_with_tokens_and_cost, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, pattern) = analysed(&app, &owner).await;
    for kind in ["openai", "anthropic", "gemini"] {
        let fake = Fake::start(kind).await;
        add_provider(&app, &owner, &fake, kind).await;
        let (status, answer) = explain(
            &app,
            &owner,
            &analysis,
            json!({"pattern_id": pattern, "provider": kind}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["provider"], kind, "{answer}");
        assert_eq!(
            answer["markdown"],
            format!("### What it means\n\nExplained by the {kind} model.")
        );
        assert_eq!(
            (answer["tokens_in"].as_u64(), answer["tokens_out"].as_u64()),
            (Some(1200), Some(300))
        );
        // 1.2 × 0.5 + 0.3 × 2.0
        assert!(
            (answer["cost"].as_f64().expect("cost") - 1.2).abs() < 1e-9,
            "{answer}"
        );
        assert_eq!(answer["cached"], false);
        let seen = fake.seen();
        assert_eq!(seen.len(), 1, "{kind}");
        let request: Value = serde_json::from_str(&seen[0].body).expect("json");
        let key = format!("{KEY}-{kind}");
        match kind {
            "openai" => {
                assert_eq!(seen[0].path, "/v1/chat/completions");
                assert_eq!(
                    seen[0].headers["authorization"],
                    format!("Bearer {key}").as_str()
                );
                assert_eq!(request["model"], "gpt-4o-mini");
                assert_eq!(request["messages"][0]["role"], "system");
                assert!(
                    request["messages"][1]["content"]
                        .as_str()
                        .expect("prompt")
                        .contains("Login failed")
                );
            }
            "anthropic" => {
                assert_eq!(seen[0].path, "/v1/messages");
                assert_eq!(seen[0].headers["x-api-key"], key.as_str());
                assert_eq!(seen[0].headers["anthropic-version"], "2023-06-01");
                assert!(request["system"].as_str().is_some());
                assert!(request["max_tokens"].as_u64().is_some());
            }
            _ => {
                assert_eq!(
                    seen[0].path,
                    "/v1beta/models/gemini-2.0-flash:generateContent"
                );
                assert_eq!(seen[0].headers["x-goog-api-key"], key.as_str());
                assert!(
                    request["contents"][0]["parts"][0]["text"]
                        .as_str()
                        .expect("prompt")
                        .contains("Login failed")
                );
            }
        }
    }
    let rows = usage_rows(&app, &owner.org_id).await;
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.1 == "ok" && r.2 == 1200 && !r.4));
});

ai_test!(failures_retry_fall_back_and_rest, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, pattern) = analysed(&app, &owner).await;
    let first = Fake::start("openai").await;
    let second = Fake::start("anthropic").await;
    add_provider(&app, &owner, &first, "primary").await;
    add_provider(&app, &owner, &second, "secondary").await;
    // Different prompts each time (no cache): the provider is named, then not.
    let ask = |provider: Option<&str>| json!({"pattern_id": pattern, "provider": provider});

    // 429 with Retry-After: 1 is waited for, then the same provider answers.
    first.then(&[Reply::Status(429, Some("1"))]);
    let started = Instant::now();
    let (status, answer) = explain(&app, &owner, &analysis, ask(None)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["provider"], "primary", "{answer}");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After honoured"
    );
    assert_eq!(first.seen().len(), 2);

    // Three 500s exhaust the primary's attempts: the secondary answers, with a note.
    clear_cache(&app).await;
    first.then(&[
        Reply::Status(500, None),
        Reply::Status(500, None),
        Reply::Status(500, None),
    ]);
    let (status, answer) = explain(&app, &owner, &analysis, ask(None)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["provider"], "secondary", "{answer}");
    let note = answer["notes"][0].as_str().unwrap_or_default();
    assert!(
        note.contains("primary") && note.contains("3 attempts") && note.contains("500"),
        "{note}"
    );
    assert_eq!(first.seen().len(), 5);

    // A content-filter refusal (not the provider's fault: it does not count towards its
    // circuit), a hang past the timeout, then malformed JSON (not retried): each passes to the
    // next provider.
    for (reply, expect) in [
        (Reply::Refuse, "content filter"),
        (Reply::Hang(Duration::from_secs(5)), "timed out"),
        (Reply::Malformed, "malformed"),
    ] {
        clear_cache(&app).await;
        // A hang is retried: every attempt hangs.
        let replies = if matches!(reply, Reply::Hang(_)) {
            vec![reply.clone(); 3]
        } else {
            vec![reply.clone()]
        };
        first.then(&replies);
        let before = first.seen().len();
        let (status, answer) = explain(&app, &owner, &analysis, ask(Some("primary"))).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["provider"], "secondary", "{reply:?}: {answer}");
        let note = answer["notes"][0].as_str().unwrap_or_default();
        assert!(note.contains(expect), "{reply:?}: {note}");
        let calls = first.seen().len() - before;
        match reply {
            Reply::Hang(_) => assert_eq!(calls, 3),
            _ => assert_eq!(calls, 1, "{reply:?} is not retried"),
        }
    }
    // The primary failed three requests (500s, the hang, the malformed answer): its circuit is
    // open and it is not called.
    clear_cache(&app).await;
    let before = first.seen().len();
    let (status, answer) = explain(&app, &owner, &analysis, ask(None)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["provider"], "secondary");
    assert!(
        answer["notes"][0]
            .as_str()
            .unwrap_or_default()
            .contains("rests"),
        "{answer}"
    );
    assert_eq!(first.seen().len(), before, "an open circuit sends nothing");

    // Every provider failing leaves the app usable: the built-in engine answers.
    clear_cache(&app).await;
    second.then(&[
        Reply::Status(503, None),
        Reply::Status(503, None),
        Reply::Status(503, None),
    ]);
    let (status, answer) = explain(&app, &owner, &analysis, ask(None)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["provider"], "faultline");
    assert_eq!(answer["model"], "built-in");
    let markdown = answer["markdown"].as_str().unwrap_or_default();
    assert!(
        markdown.contains("What it means") && markdown.contains("Login failed"),
        "{markdown}"
    );
    let rows = usage_rows(&app, &owner.org_id).await;
    let outcomes: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    for outcome in ["ok", "server_error", "timeout", "malformed", "refused"] {
        assert!(outcomes.contains(&outcome), "{outcome} in {outcomes:?}");
    }
});

ai_test!(
    answers_are_cached_budgeted_switched_off_and_redacted,
    |app| {
        let owner = app.signup("owner@acme.example", "Acme").await;
        let member = join(&app, &owner, "dev@acme.example", "member").await;
        let _workers = server::ingest::Workers::start(&app.state);
        let (analysis, pattern) = analysed(&app, &owner).await;
        let fake = Fake::start("openai").await;
        add_provider(&app, &owner, &fake, "OpenAI").await;
        let ask = json!({"pattern_id": pattern});

        // Redacted by default: no address or e-mail leaves.
        let (status, first) = explain(&app, &member, &analysis, ask.clone()).await;
        assert_eq!(status, 200, "{first}");
        let sent = &fake.seen()[0].body;
        assert!(
            !sent.contains("@example.com") && !sent.contains("203.0.113."),
            "{sent}"
        );
        assert!(sent.contains("[email]"), "{sent}");

        // The same question again: the cache answers, at no cost, and the provider is not called.
        let (status, again) = explain(&app, &member, &analysis, ask.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(again["cached"], true);
        assert_eq!(again["cost"], 0.0);
        assert_eq!(again["markdown"], first["markdown"]);
        assert_eq!(fake.seen().len(), 1);
        let rows = usage_rows(&app, &owner.org_id).await;
        assert_eq!(
            rows.iter().filter(|r| r.4).count(),
            1,
            "the cached answer is recorded too"
        );

        // Without redaction the prompt differs (a new cache entry) and carries the values.
        save_settings(&app, &owner, json!({"enabled": true, "redact_pii": false})).await;
        let (status, _) = explain(&app, &member, &analysis, ask.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(fake.seen().len(), 2);
        assert!(fake.seen()[1].body.contains("@example.com"));

        // The monthly ceiling: 2.4 spent, a ceiling of 2: the built-in engine answers, nothing sent.
        save_settings(
            &app,
            &owner,
            json!({"enabled": true, "redact_pii": true, "monthly_budget": 2.0}),
        )
        .await;
        clear_cache(&app).await;
        let (status, answer) = explain(&app, &member, &analysis, ask.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(answer["provider"], "faultline", "{answer}");
        assert!(
            answer["notes"][0]
                .as_str()
                .unwrap_or_default()
                .contains("ceiling"),
            "{answer}"
        );
        assert_eq!(fake.seen().len(), 2);

        // Switched off: nothing is sent.
        save_settings(&app, &owner, json!({"enabled": false, "redact_pii": true})).await;
        let (status, answer) = explain(&app, &member, &analysis, ask.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(answer["provider"], "faultline");
        assert!(
            answer["notes"][0]
                .as_str()
                .unwrap_or_default()
                .contains("turned off")
        );
        assert_eq!(fake.seen().len(), 2);

        // Settings need configure_ai, and routes must name the organisation's providers.
        let (status, _) = app
            .call_as(
                &member,
                "PUT",
                &format!("/api/v1/orgs/{}/ai/settings", owner.org_slug),
                Some(json!({"enabled": true, "redact_pii": true})),
            )
            .await;
        assert_eq!(status, 403);
        let (status, body) = app
        .call_as(
            &owner,
            "PUT",
            &format!("/api/v1/orgs/{}/ai/settings", owner.org_slug),
            Some(json!({"enabled": true, "redact_pii": true, "monthly_budget": -1.0, "routes": [{"task": "explain", "provider_id": "nope"}]})),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        // Unknown provider named by the caller: 422; another organisation's analysis: 404.
        let (status, _) = explain(
            &app,
            &member,
            &analysis,
            json!({"pattern_id": pattern, "provider": "nope"}),
        )
        .await;
        assert_eq!(status, 422);
        let stranger = app.signup("owner@beta.example", "Beta").await;
        let (status, _) = explain(&app, &stranger, &analysis, ask.clone()).await;
        assert_eq!(status, 404);
        let (status, _) = explain(&app, &member, &analysis, json!({"pattern_id": "p999"})).await;
        assert_eq!(status, 404);
    }
);

ai_test!(routes_send_a_task_to_its_provider_and_model, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, pattern) = analysed(&app, &owner).await;
    let cheap = Fake::start("openai").await;
    let strong = Fake::start("anthropic").await;
    add_provider(&app, &owner, &cheap, "cheap").await;
    let strong_provider = add_provider(&app, &owner, &strong, "strong").await;
    save_settings(
        &app,
        &owner,
        json!({"enabled": true, "redact_pii": true, "routes": [{"task": "explain", "provider_id": strong_provider["id"], "model": "other-model"}]}),
    )
    .await;
    let (status, answer) = explain(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["provider"], "strong");
    assert_eq!(answer["model"], "other-model");
    assert!(cheap.seen().is_empty());
    let request: Value = serde_json::from_str(&strong.seen()[0].body).expect("json");
    assert_eq!(request["model"], "other-model");
});

/// The text a fake received as its prompt, whichever wire format it speaks.
fn prompt_of(seen: &Seen) -> String {
    let request: Value = serde_json::from_str(&seen.body).expect("json");
    let text = request["messages"][1]["content"]
        .as_str()
        .or_else(|| request["messages"][0]["content"].as_str())
        .or_else(|| request["contents"][0]["parts"][0]["text"].as_str());
    text.unwrap_or_else(|| panic!("a prompt in {request}"))
        .to_owned()
}

/// The names of a comparison row's failed checks.
fn failed_checks(row: &Value) -> Vec<String> {
    row["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["passed"] == false)
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect()
}

ai_test!(models_compare_side_by_side, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, pattern) = analysed(&app, &owner).await;
    let openai = Fake::start("openai").await;
    let anthropic = Fake::start("anthropic").await;
    let gemini = Fake::start("gemini").await;
    add_provider(&app, &owner, &openai, "OpenAI").await;
    add_provider(&app, &owner, &anthropic, "Claude").await;
    add_provider(&app, &owner, &gemini, "Gemini").await;
    // Gemini fails every attempt; the comparison does not fall back to anyone for it.
    gemini.then(&[
        Reply::Status(500, None),
        Reply::Status(500, None),
        Reply::Status(500, None),
    ]);
    let path = format!("/api/v1/analyses/{analysis}/ai/compare");
    let request = json!({
        "task": "explain",
        "pattern_id": pattern,
        "targets": [
            {"provider": "OpenAI"},
            {"provider": "claude", "model": "other-model"},
            {"provider": "Gemini"},
        ],
    });
    let (status, body) = app
        .call_as(&owner, "POST", &path, Some(request.clone()))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["task"], "explain");
    let rows = body["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4, "{body}");
    // The built-in engine first, and its own answer passes every check.
    assert_eq!(
        (&rows[0]["provider"], &rows[0]["model"]),
        (&json!("faultline"), &json!("built-in"))
    );
    assert!(failed_checks(&rows[0]).is_empty(), "{}", rows[0]);
    assert!(
        rows[0]["markdown"]
            .as_str()
            .is_some_and(|m| m.contains("### Likely cause"))
    );
    // Each model with its output, tokens, cost and time; the fakes' one-section answers are
    // caught by the sections check.
    for (row, provider, model, kind) in [
        (&rows[1], "OpenAI", "gpt-4o-mini", "openai"),
        (&rows[2], "Claude", "other-model", "anthropic"),
    ] {
        assert_eq!(
            (row["provider"].as_str(), row["model"].as_str()),
            (Some(provider), Some(model)),
            "{row}"
        );
        assert_eq!(
            row["markdown"],
            format!("### What it means\n\nExplained by the {kind} model.")
        );
        assert_eq!(
            (row["tokens_in"].as_u64(), row["tokens_out"].as_u64()),
            (Some(1200), Some(300))
        );
        assert!(
            (row["cost"].as_f64().expect("cost") - 1.2).abs() < 1e-9,
            "{row}"
        );
        assert_eq!(row["cached"], false);
        assert!(row["duration_ms"].as_u64().is_some());
        assert_eq!(
            failed_checks(row),
            ["Has the sections What it means, Likely cause, What to do"],
            "{row}"
        );
        let sections = row["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["passed"] == false)
            .expect("a failed check");
        assert_eq!(sections["detail"], "Missing: Likely cause, What to do.");
    }
    let failed = &rows[3];
    assert_eq!(failed["provider"], "Gemini");
    assert!(failed["markdown"].is_null() && failed["checks"].as_array().is_some_and(Vec::is_empty));
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("failed after 3 attempts")),
        "{failed}"
    );
    // The same prompt went to every model, redacted.
    let prompts: Vec<String> = [&openai, &anthropic]
        .iter()
        .map(|f| prompt_of(&f.seen()[0]))
        .chain(std::iter::once(prompt_of(&gemini.seen()[0])))
        .collect();
    assert!(prompts.iter().all(|p| p == &prompts[0]));
    assert!(prompts[0].contains("Login failed") && prompts[0].contains("[email]"));
    assert!(!prompts[0].contains("@example.com"));
    let request_model: Value = serde_json::from_str(&anthropic.seen()[0].body).expect("json");
    assert_eq!(request_model["model"], "other-model");
    // Every call is usage: two answers and one failure.
    let usage = usage_rows(&app, &owner.org_id).await;
    assert_eq!(usage.len(), 3, "{usage:?}");
    assert_eq!(usage.iter().filter(|r| r.1 == "ok").count(), 2);

    // Again: from the cache, free; Gemini is asked again (it answers now).
    let (status, again) = app
        .call_as(&owner, "POST", &path, Some(request.clone()))
        .await;
    assert_eq!(status, 200, "{again}");
    let rows = again["rows"].as_array().expect("rows");
    assert_eq!(
        (rows[1]["cached"].as_bool(), rows[1]["cost"].as_f64()),
        (Some(true), Some(0.0))
    );
    assert_eq!(openai.seen().len(), 1, "no second call to a cached model");
    assert_eq!(rows[3]["provider"], "Gemini");
    assert!(rows[3]["error"].is_null(), "{}", rows[3]);

    // Fix suggestions for the whole analysis compare too, with their own checks.
    let (status, fixes) = app
        .call_as(
            &owner,
            "POST",
            &path,
            Some(json!({"task": "recommend", "targets": [{"provider": "OpenAI"}]})),
        )
        .await;
    assert_eq!(status, 200, "{fixes}");
    assert!(failed_checks(&fixes["rows"][0]).is_empty(), "{fixes}");
    assert_eq!(
        failed_checks(&fixes["rows"][1]),
        ["A list of 1 to 5 items"],
        "{fixes}"
    );

    // What cannot be compared is refused, naming why.
    for (bad, says) in [
        (
            json!({"task": "explain", "pattern_id": pattern, "targets": []}),
            "between 1 and 4",
        ),
        (
            json!({"task": "explain", "pattern_id": pattern, "targets": [{"provider": "nobody"}]}),
            "no provider \"nobody\"",
        ),
        (
            json!({"task": "explain", "pattern_id": pattern, "targets": [{"provider": "OpenAI", "model": "gpt-9"}]}),
            "has no model \"gpt-9\"",
        ),
        (
            json!({"task": "explain", "pattern_id": pattern, "targets": [{"provider": "OpenAI"}, {"provider": "OpenAI", "model": "gpt-4o-mini"}]}),
            "named twice",
        ),
        (
            json!({"task": "explain", "pattern_id": pattern, "targets": [{"provider": "OpenAI"}, {"provider": "Claude"}, {"provider": "Gemini"}, {"provider": "OpenAI", "model": "other-model"}, {"provider": "Claude", "model": "other-model"}]}),
            "between 1 and 4",
        ),
        (
            json!({"task": "explain", "targets": [{"provider": "OpenAI"}]}),
            "Name the pattern",
        ),
        (
            json!({"task": "tests", "targets": [{"provider": "OpenAI"}]}),
            "Name the pattern to write tests for",
        ),
    ] {
        let (status, body) = app.call_as(&owner, "POST", &path, Some(bad.clone())).await;
        assert_eq!(status, 422, "{bad} → {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{says} in {body}");
    }
    let (status, _) = app
        .call_as(&owner, "POST", &path, Some(json!({"task": "explain", "pattern_id": "p999", "targets": [{"provider": "OpenAI"}]})))
        .await;
    assert_eq!(status, 404);

    // Comparing spends money on several models: configure_ai, and the organisation's own.
    let (status, _) = app
        .call_as(&viewer, "POST", &path, Some(request.clone()))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call_as(&other, "POST", &path, Some(request.clone()))
        .await;
    assert_eq!(status, 404);

    // AI off: every model's row says so and nothing is sent.
    save_settings(&app, &owner, json!({"enabled": false, "redact_pii": true})).await;
    clear_cache(&app).await;
    let before = openai.seen().len() + anthropic.seen().len() + gemini.seen().len();
    let (status, off) = app.call_as(&owner, "POST", &path, Some(request)).await;
    assert_eq!(status, 200, "{off}");
    let rows = off["rows"].as_array().expect("rows");
    assert!(rows[0]["markdown"].is_string());
    assert!(
        rows[1..].iter().all(|r| r["error"]
            .as_str()
            .is_some_and(|e| e.contains("turned off"))),
        "{off}"
    );
    assert_eq!(
        openai.seen().len() + anthropic.seen().len() + gemini.seen().len(),
        before
    );
});

ai_test!(fixes_and_summaries_for_a_pattern_and_an_analysis, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, pattern) = analysed(&app, &owner).await;
    let recommend = format!("/api/v1/analyses/{analysis}/ai/recommend");
    let summary = format!("/api/v1/analyses/{analysis}/ai/summary");

    // Without a provider, the built-in engine answers each, in the shape the task asks for.
    for (path, body, task) in [
        (
            &recommend,
            json!({"pattern_id": pattern}),
            app::api::ai::AiTask::Recommend,
        ),
        (&recommend, json!({}), app::api::ai::AiTask::Recommend),
        (&summary, json!({}), app::api::ai::AiTask::Summary),
    ] {
        let (status, answer) = app.call_as(&viewer, "POST", path, Some(body.clone())).await;
        assert_eq!(status, 200, "{body} → {answer}");
        assert_eq!(answer["provider"], "faultline");
        let markdown = answer["markdown"].as_str().expect("markdown");
        let failed: Vec<_> = server::ai::checks::check(task, markdown)
            .into_iter()
            .filter(|c| !c.passed)
            .collect();
        assert!(failed.is_empty(), "{failed:?} in {markdown}");
    }
    let (_, fixes) = app
        .call_as(
            &owner,
            "POST",
            &recommend,
            Some(json!({"pattern_id": pattern})),
        )
        .await;
    assert!(
        fixes["markdown"]
            .as_str()
            .is_some_and(|m| m.starts_with("1. ")),
        "{fixes}"
    );
    let (_, overall) = app.call_as(&owner, "POST", &summary, Some(json!({}))).await;
    let overall = overall["markdown"].as_str().expect("summary");
    assert!(
        overall.contains("80 events") && overall.contains("### Next steps"),
        "{overall}"
    );

    // With a provider, the model answers, asked with the task's own prompts.
    let fake = Fake::start("openai").await;
    add_provider(&app, &owner, &fake, "OpenAI").await;
    let (status, answer) = app
        .call_as(&viewer, "POST", &summary, Some(json!({})))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["provider"], "OpenAI");
    let (status, answer) = app
        .call_as(
            &viewer,
            "POST",
            &recommend,
            Some(json!({"pattern_id": pattern, "provider": "OpenAI"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["provider"], "OpenAI");
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let system = |s: &Seen| {
        let request: Value = serde_json::from_str(&s.body).expect("json");
        request["messages"][0]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(system(&seen[0]).contains("executive summary"));
    assert!(prompt_of(&seen[0]).contains("Riskiest patterns"));
    assert!(system(&seen[1]).contains("Suggest concrete fixes"));
    assert!(prompt_of(&seen[1]).contains("Suggest fixes for this pattern"));
    let usage: Vec<String> = server::with_db!(&app.raw, pool => sqlx::query_scalar(
        "select task from ai_usage where org_id = $1 order by at_ms, id",
    )
    .bind(&owner.org_id)
    .fetch_all(pool)
    .await)
    .expect("usage");
    assert_eq!(usage, ["summary", "recommend"]);

    // Another organisation's analysis is not there; a pattern that is not is 404.
    let (status, _) = app.call_as(&other, "POST", &summary, Some(json!({}))).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call_as(
            &owner,
            "POST",
            &recommend,
            Some(json!({"pattern_id": "p999"})),
        )
        .await;
    assert_eq!(status, 404);
});

ai_test!(reports_carry_a_model_written_summary_on_request, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, _) = analysed(&app, &owner).await;
    let report = |query: &'static str| {
        let path = format!("/api/v1/analyses/{analysis}/report.md{query}");
        let app = &app;
        let owner = &owner;
        async move {
            let sep = if path.contains('?') { '&' } else { '?' };
            app.call(
                "GET",
                &format!("{path}{sep}org={}", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await
        }
    };
    // Without a provider, `summary=ai` keeps the engine's summary.
    let plain = report("").await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    let asked = report("?summary=ai").await;
    assert_eq!(asked.text(), plain.text());

    let fake = Fake::start("openai").await;
    add_provider(&app, &owner, &fake, "OpenAI").await;
    let written = report("?summary=ai").await;
    assert_eq!(written.status, 200, "{}", written.text());
    let text = written.text();
    assert!(
        text.contains("\nExplained by the openai model.\n"),
        "{text}"
    );
    assert!(
        text.contains("_Summary written by OpenAI · gpt-4o-mini; every figure in this report is the engine's._"),
        "{text}"
    );
    assert!(
        !text.contains("80 events in 80 lines"),
        "the engine's summary is replaced: {text}"
    );
    // The figures stay the engine's.
    assert!(text.contains("| Events | 80 |"), "{text}");
    assert_eq!(fake.seen().len(), 1);
    // The PDF takes the same answer, from the cache.
    let pdf = app
        .call(
            "GET",
            &format!(
                "/api/v1/analyses/{analysis}/report.pdf?summary=ai&org={}",
                owner.org_slug
            ),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(pdf.status, 200, "{}", pdf.text());
    assert!(pdf.body.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().expect("a directory");
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, &pdf.body).expect("written");
    let out = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    let pdf_text = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    assert!(
        pdf_text.contains("Explained by the openai model."),
        "{pdf_text}"
    );
    assert!(pdf_text.contains("Summary written by OpenAI"), "{pdf_text}");
    assert_eq!(fake.seen().len(), 1, "the second report used the cache");
    let bad = report("?summary=poem").await;
    assert_eq!(bad.status, 422, "{}", bad.text());
    // A paid call is not made for a link followed from another site.
    let forged = app
        .send(
            axum::http::Request::builder()
                .uri(format!(
                    "/api/v1/analyses/{analysis}/report.md?summary=ai&org={}",
                    owner.org_slug
                ))
                .header("authorization", format!("Bearer {}", owner.access))
                .header("sec-fetch-site", "cross-site")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.text());
});

/// A streamed answer's events, as `(event, data)`.
fn events_of(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .filter_map(|e| {
            let mut name = String::new();
            let mut data = String::new();
            for line in e.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            // Keep-alive comments carry no event.
            (!name.is_empty()).then(|| (name, serde_json::from_str(&data).expect("JSON data")))
        })
        .collect()
}

ai_test!(answers_stream_as_they_are_written, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, pattern) = analysed(&app, &owner).await;
    let path = format!(
        "/api/v1/analyses/{analysis}/ai/stream?org={}",
        owner.org_slug
    );
    let stream = |body: Value| {
        let (app, path, owner) = (&app, &path, &owner);
        async move {
            let r = app
                .call("POST", path, Some(&owner.access), Some(body))
                .await;
            (
                r.status,
                r.header("content-type").map(str::to_owned),
                r.text(),
            )
        }
    };

    // No provider: the built-in answer comes as one piece, then `done` with safe HTML.
    let (status, kind, body) = stream(json!({"task": "explain", "pattern_id": pattern})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(kind.as_deref(), Some("text/event-stream"));
    let events = events_of(&body);
    assert_eq!(
        events.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["text", "done"],
        "{body}"
    );
    let done = &events[1].1;
    assert_eq!(done["answer"]["provider"], "faultline");
    assert_eq!(events[0].1, done["answer"]["markdown"]);
    assert!(
        done["html"]
            .as_str()
            .is_some_and(|h| h.contains("<h3>What it means</h3>")),
        "{done}"
    );

    // Each wire format streams: the pieces arrive in order and add up to the answer, with the
    // tokens and cost the stream reported.
    for kind in ["openai", "anthropic", "gemini"] {
        let fake = Fake::start(kind).await;
        add_provider(&app, &owner, &fake, kind).await;
        let (status, _, body) = stream(json!({"task": "summary", "provider": kind})).await;
        assert_eq!(status, 200, "{body}");
        let events = events_of(&body);
        let texts: Vec<&str> = events
            .iter()
            .filter(|e| e.0 == "text")
            .filter_map(|e| e.1.as_str())
            .collect();
        assert_eq!(texts, PIECES, "{kind}: {body}");
        let (name, done) = events.last().expect("events");
        assert_eq!(name, "done");
        let answer = &done["answer"];
        assert_eq!(answer["provider"], kind);
        assert_eq!(answer["markdown"], PIECES.concat());
        assert_eq!(
            (answer["tokens_in"].as_u64(), answer["tokens_out"].as_u64()),
            (Some(1200), Some(300)),
            "{kind}"
        );
        assert!((answer["cost"].as_f64().expect("cost") - 1.2).abs() < 1e-9);
        let seen = fake.seen();
        assert_eq!(seen.len(), 1);
        match kind {
            "gemini" => assert_eq!(
                seen[0].path,
                "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
            ),
            _ => assert!(seen[0].body.contains("\"stream\":true"), "{kind}"),
        }
        // Asked again: the cache answers, in one piece.
        let (_, _, again) = stream(json!({"task": "summary", "provider": kind})).await;
        let events = events_of(&again);
        assert_eq!(events.len(), 2, "{again}");
        assert_eq!(events[1].1["answer"]["cached"], true);
        assert_eq!(fake.seen().len(), 1);
    }

    // A provider that stops mid-answer: `restart`, and the next provider writes from the start.
    server::with_db!(&app.raw, pool => sqlx::query("delete from ai_providers").execute(pool).await.map(drop))
        .expect("providers removed");
    let first = Fake::start("openai").await;
    let second = Fake::start("anthropic").await;
    add_provider(&app, &owner, &first, "primary").await;
    add_provider(&app, &owner, &second, "secondary").await;
    first.then(&[Reply::Cut]);
    let (status, _, body) = stream(json!({"task": "recommend", "pattern_id": pattern})).await;
    assert_eq!(status, 200, "{body}");
    let events = events_of(&body);
    let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        ["text", "restart", "text", "text", "text", "done"],
        "{body}"
    );
    assert!(
        events[1]
            .1
            .as_str()
            .is_some_and(|n| n.contains("primary") && n.contains("end marker")),
        "{body}"
    );
    let done = &events[5].1["answer"];
    assert_eq!(done["provider"], "secondary");
    assert_eq!(done["markdown"], PIECES.concat());
    assert!(
        done["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("primary")),
        "{done}"
    );

    // Problems found before anything is asked keep their status.
    let (status, _, body) =
        stream(json!({"task": "explain", "pattern_id": pattern, "provider": "nobody"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, _, _) = stream(json!({"task": "explain"})).await;
    assert_eq!(status, 422);
    let (status, _, _) = stream(json!({"task": "explain", "pattern_id": "p999"})).await;
    assert_eq!(status, 404);
    let r = app
        .call(
            "POST",
            &format!(
                "/api/v1/analyses/{analysis}/ai/stream?org={}",
                other.org_slug
            ),
            Some(&other.access),
            Some(json!({"task": "summary"})),
        )
        .await;
    assert_eq!(r.status, 404);
});

/// A pytest file that passes the generator's validation: two tests.
const GOOD_PYTEST: &str = "import pytest\n\n\ndef test_login_failure_is_refused():\n    with pytest.raises(PermissionError):\n        raise PermissionError(\"bad credentials\")\n\n\ndef test_login_failure_keeps_the_address_out():\n    assert \"203.0.113\" not in \"Login failed: bad credentials\"\n";

fn fenced(code: &str) -> String {
    format!("Here is the improved file.\n\n```python\n{code}```\n")
}

async fn write_tests(app: &TestApp, user: &User, id: &str, body: Value) -> (u16, Value) {
    app.call_as(
        user,
        "POST",
        &format!("/api/v1/analyses/{id}/ai/tests"),
        Some(body),
    )
    .await
}

ai_test!(
    models_write_tests_that_pass_validation_or_are_discarded,
    |app| {
        let owner = app.signup("owner@acme.example", "Acme").await;
        let other = app.signup("owner@beta.example", "Beta").await;
        let _workers = server::ingest::Workers::start(&app.state);
        let (analysis, pattern) = analysed(&app, &owner).await;

        // No provider: the built-in generator's file, as the tests page would show it.
        let (status, engine) =
            write_tests(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
        assert_eq!(status, 200, "{engine}");
        assert_eq!(engine["provider"], "faultline");
        assert_eq!(engine["framework"], "pytest");
        assert_eq!(engine["file"], engine["engine"]);
        assert_eq!(engine["attempts"], json!([]));
        let engine_file = engine["engine"].clone();
        let path = engine_file["path"].as_str().expect("path").to_owned();
        assert!(path.ends_with(".py"), "{path}");
        assert_eq!(engine_file["validation"]["valid"], true, "{engine_file}");
        assert_eq!(engine_file["patterns"], json!([pattern]));

        let openai = Fake::start("openai").await;
        add_provider(&app, &owner, &openai, "OpenAI").await;

        // A valid file is kept as the model wrote it, in the generator's place.
        openai.then(&[Reply::Text(fenced(GOOD_PYTEST))]);
        let (status, body) =
            write_tests(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["provider"].as_str(), body["model"].as_str()),
            (Some("OpenAI"), Some("gpt-4o-mini"))
        );
        assert_eq!(body["file"]["content"], GOOD_PYTEST);
        assert_eq!(body["file"]["path"], path.as_str());
        assert_eq!(body["file"]["tests"], 2);
        assert_eq!(body["file"]["validation"]["valid"], true);
        assert_eq!(body["file"]["validation"]["checker"], "tree-sitter python");
        assert_eq!(body["engine"], engine_file);
        let attempts = body["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len(), 1, "{body}");
        assert_eq!(
            (
                &attempts[0]["valid"],
                &attempts[0]["repair"],
                &attempts[0]["tests"]
            ),
            (&json!(true), &json!(false), &json!(2))
        );
        assert!(
            (body["cost"].as_f64().expect("cost") - 1.2).abs() < 1e-9,
            "{body}"
        );
        // The model saw the evidence, the framework and the generator's file.
        let asked = prompt_of(&openai.seen()[0]);
        assert!(asked.contains("Login failed for user"), "{asked}");
        assert!(asked.contains("Test framework: pytest."), "{asked}");
        assert!(asked.contains(&format!("File: {path}.")), "{asked}");
        let engine_code = engine_file["content"].as_str().expect("content");
        let first_test = engine_code
            .lines()
            .find(|l| l.trim_start().starts_with("def test_"))
            .expect("a test in the generator's file");
        assert!(
            asked.contains("The generator's file:\n```python\n"),
            "{asked}"
        );
        assert!(asked.contains(first_test), "{first_test} in {asked}");
        // Redaction applies to the file as to the evidence.
        assert!(engine_code.contains("203.0.113."), "{engine_code}");
        assert!(!asked.contains("203.0.113."), "{asked}");

        // Asked again: the cache answers, nothing reaches the provider.
        let (status, again) =
            write_tests(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["attempts"][0]["cached"], true);
        assert_eq!(again["file"]["content"], GOOD_PYTEST);
        assert_eq!(openai.seen().len(), 1);

        // A broken file is sent back once with its problems; the repair is kept.
        clear_cache(&app).await;
        let broken = "import pytest\n\n\ndef test_login_failure(:\n    assert True\n";
        openai.then(&[
            Reply::Text(fenced(broken)),
            Reply::Text(fenced(GOOD_PYTEST)),
        ]);
        let (status, body) =
            write_tests(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["provider"], "OpenAI");
        assert_eq!(body["file"]["content"], GOOD_PYTEST);
        let attempts = body["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len(), 2, "{body}");
        assert_eq!(
            (&attempts[0]["valid"], &attempts[1]["valid"]),
            (&json!(false), &json!(true))
        );
        assert_eq!(attempts[1]["repair"], true);
        assert!(
            attempts[0]["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("syntax error") || m.starts_with("missing")),
            "{body}"
        );
        assert_eq!(body["tokens_in"], 2400);
        let notes = body["notes"].to_string();
        assert!(
            notes.contains("asked to repair it once") && notes.contains("repaired the file"),
            "{notes}"
        );
        let repair = prompt_of(&openai.seen()[2]);
        assert!(
            repair.contains("Your previous reply:") && repair.contains("def test_login_failure(:"),
            "{repair}"
        );
        assert!(
            repair.contains("It failed validation:\n- line 4"),
            "{repair}"
        );

        // A repair that fails too is discarded: the generator's file stays, and the notes say why.
        clear_cache(&app).await;
        openai.then(&[
            Reply::Text(fenced(broken)),
            Reply::Text("```python\nvalue = 1\n```".into()),
        ]);
        let (status, body) =
            write_tests(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["provider"], "faultline");
        assert_eq!(body["file"], engine_file);
        let attempts = body["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len(), 2, "{body}");
        assert!(attempts.iter().all(|a| a["valid"] == false), "{body}");
        assert_eq!(attempts[1]["errors"][0]["message"], "no tests in this file");
        assert!(body["notes"].to_string().contains("discarded"), "{body}");
        // Both calls were paid for and recorded.
        assert!(
            (body["cost"].as_f64().expect("cost") - 2.4).abs() < 1e-9,
            "{body}"
        );
        let recorded = usage_rows(&app, &owner.org_id).await;
        assert_eq!(
            recorded.iter().filter(|r| r.0 == "OpenAI" && !r.4).count(),
            5,
            "{recorded:?}"
        );

        // Files that failed validation were not cached: asked again, the model writes afresh; the
        // kept file names a redaction placeholder, and a note says so.
        let calls = openai.seen().len();
        let placeholder = GOOD_PYTEST.replace("203.0.113", "[ip]");
        openai.then(&[
            Reply::Text(fenced(broken)),
            Reply::Text(fenced(&placeholder)),
        ]);
        let (status, body) =
            write_tests(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(openai.seen().len(), calls + 2);
        assert_eq!(body["provider"], "OpenAI");
        assert_eq!(body["file"]["content"], placeholder.as_str());
        assert!(
            body["notes"]
                .to_string()
                .contains("uses [ip] where the logs had real values"),
            "{body}"
        );

        // Another framework: the generator's Jest file is where the model starts.
        clear_cache(&app).await;
        openai.then(&[
            Reply::Text(fenced(GOOD_PYTEST)),
            Reply::Text(fenced(GOOD_PYTEST)),
        ]);
        let (status, body) = write_tests(
            &app,
            &owner,
            &analysis,
            json!({"pattern_id": pattern, "framework": "jest"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["framework"], "jest");
        assert!(
            body["engine"]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(".test.js")),
            "{body}"
        );
        // Python is not JavaScript: both tries fail the Jest file's validation.
        assert_eq!(body["provider"], "faultline", "{body}");
        let attempts = body["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len(), 2, "{body}");
        assert_eq!(
            (&attempts[0]["repair"], &attempts[1]["repair"]),
            (&json!(false), &json!(true))
        );
        assert!(
            attempts
                .iter()
                .all(|a| a["valid"] == false && a["provider"] == "OpenAI"),
            "{body}"
        );
        assert!(
            prompt_of(&openai.seen().last().cloned().expect("seen"))
                .contains("Test framework: Jest.")
        );

        // Compared across models, tests are checked by validation.
        clear_cache(&app).await;
        let anthropic = Fake::start("anthropic").await;
        add_provider(&app, &owner, &anthropic, "Claude").await;
        openai.then(&[Reply::Text(fenced(GOOD_PYTEST))]);
        anthropic.then(&[Reply::Text(fenced(broken))]);
        let (status, compared) = app
        .call_as(
            &owner,
            "POST",
            &format!("/api/v1/analyses/{analysis}/ai/compare"),
            Some(json!({"task": "tests", "pattern_id": pattern, "targets": [{"provider": "OpenAI"}, {"provider": "Claude"}]})),
        )
        .await;
        assert_eq!(status, 200, "{compared}");
        let rows = compared["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), 3, "{compared}");
        assert!(failed_checks(&rows[0]).is_empty(), "{}", rows[0]);
        assert!(
            rows[0]["markdown"]
                .as_str()
                .is_some_and(|m| m.starts_with("```python\n"))
        );
        assert!(failed_checks(&rows[1]).is_empty(), "{}", rows[1]);
        assert_eq!(
            failed_checks(&rows[2]),
            [
                "Passes tree-sitter python and pytest's rules",
                "Holds tests"
            ],
            "{}",
            rows[2]
        );

        // The repair goes to the model that wrote the file or to no one: with OpenAI failing, Claude
        // is not shown a file it did not write.
        clear_cache(&app).await;
        let claude_calls = anthropic.seen().len();
        openai.then(&[
            Reply::Text(fenced(broken)),
            Reply::Status(500, None),
            Reply::Status(500, None),
            Reply::Status(500, None),
        ]);
        let (status, body) =
            write_tests(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["provider"], "faultline");
        assert_eq!(anthropic.seen().len(), claude_calls);
        assert!(
            body["notes"]
                .to_string()
                .contains("did not answer the repair"),
            "{body}"
        );
        assert_eq!(body["attempts"].as_array().map(Vec::len), Some(1));

        // The built-in engine's name is not a provider's.
        let (status, body) = app
            .call_as(
                &owner,
                "POST",
                &format!("/api/v1/orgs/{}/ai/providers", owner.org_slug),
                Some(json!({"name": "Faultline", "kind": "openai", "base_url": openai.base_url(), "api_key": KEY, "models": ["m"], "price_in_per_1k": 0, "price_out_per_1k": 0})),
            )
            .await;
        assert_eq!(status, 422, "{body}");

        // What cannot be asked.
        let (status, page) = app
            .call_as(
                &owner,
                "GET",
                &format!("/api/v1/analyses/{analysis}/patterns?q=served"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        let info = page["items"][0]["id"]
            .as_str()
            .expect("an info pattern")
            .to_owned();
        let (status, body) =
            write_tests(&app, &owner, &analysis, json!({"pattern_id": info})).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("writes no pytest test for this pattern: tests are written for error patterns and for high or critical ones")),
            "{body}"
        );
        let (status, body) = write_tests(
            &app,
            &owner,
            &analysis,
            json!({"pattern_id": pattern, "provider": "nobody"}),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        let (status, body) = write_tests(
            &app,
            &owner,
            &analysis,
            json!({"pattern_id": pattern, "framework": "cobol"}),
        )
        .await;
        // An unknown framework does not fit the body: 400 naming the choices.
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("pytest")),
            "{body}"
        );
        let (status, _) = write_tests(&app, &owner, &analysis, json!({"pattern_id": "p999"})).await;
        assert_eq!(status, 404);
        let (status, _) =
            write_tests(&app, &other, &analysis, json!({"pattern_id": pattern})).await;
        assert_eq!(status, 404);
        let (status, body) = app
            .call_as(
                &owner,
                "POST",
                &format!("/api/v1/analyses/{analysis}/ai/stream"),
                Some(json!({"task": "tests", "pattern_id": pattern})),
            )
            .await;
        assert_eq!(status, 422, "{body}");

        // AI off: the generator's file, and no call.
        let calls = openai.seen().len();
        save_settings(
            &app,
            &owner,
            json!({"enabled": false, "redact_pii": false, "routes": []}),
        )
        .await;
        let (status, body) =
            write_tests(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["provider"], "faultline");
        assert!(body["notes"].to_string().contains("turned off"), "{body}");
        assert_eq!(openai.seen().len(), calls);
    }
);

fn system_of(seen: &Seen) -> String {
    let request: Value = serde_json::from_str(&seen.body).expect("json");
    request["messages"][0]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("a system prompt in {request}"))
        .to_owned()
}

ai_test!(teams_keep_versioned_prompts_used_by_every_task, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, pattern) = analysed(&app, &owner).await;
    let (status, team) = app
        .call_as(
            &owner,
            "POST",
            &format!("/api/v1/orgs/{}/teams", owner.org_slug),
            Some(json!({"name": "Payments"})),
        )
        .await;
    assert_eq!(status, 201, "{team}");
    let team = team["id"].as_str().expect("team id").to_owned();
    let base = format!("/api/v1/orgs/{}/teams/{team}/ai/prompts", owner.org_slug);

    // Nothing saved: the built-in prompts, with their variables.
    let (status, listed) = app.call_as(&viewer, "GET", &base, None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["team"], "Payments");
    let kinds: Vec<&str> = listed["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .filter_map(|p| p["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["system", "analysis", "test"]);
    assert_eq!(listed["prompts"][1]["built_in"], "{{evidence}}");
    assert!(listed["prompts"][1]["current"].is_null());
    assert!(
        listed["prompts"][2]["variables"]
            .to_string()
            .contains("file.path")
    );

    // Saving: versions, refusals, permissions and tenancy.
    let save = |kind: &str, body: &str| (format!("{base}/{kind}"), json!({"body": body}));
    let (path, body) = save(
        "system",
        "You work for {{org}}'s {{team}} team; the task is {{task}}.",
    );
    let (status, v1) = app.call_as(&owner, "POST", &path, Some(body)).await;
    assert_eq!(status, 201, "{v1}");
    assert_eq!(
        (&v1["version"], &v1["author"]),
        (&json!(1), &json!("owner@acme.example"))
    );
    let (path, body) = save("analysis", "First draft {{evidence}}");
    assert_eq!(app.call_as(&owner, "POST", &path, Some(body)).await.0, 201);
    let (path, body) = save(
        "analysis",
        "Team question on {{pattern.id}} ({{pattern.count}} events, task {{task}}):\n{{evidence}}",
    );
    let (status, v2) = app.call_as(&owner, "POST", &path, Some(body)).await;
    assert_eq!((status, &v2["version"]), (201, &json!(2)), "{v2}");
    let (status, history) = app
        .call_as(&viewer, "GET", &format!("{base}/analysis"), None)
        .await;
    assert_eq!(status, 200);
    let versions: Vec<u64> = history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|v| v["version"].as_u64())
        .collect();
    assert_eq!(versions, [2, 1]);
    for (kind, text, says) in [
        (
            "analysis",
            "{{evidence}} {{secret}}",
            "Unknown variable {{secret}}",
        ),
        ("system", "{{evidence}}", "Unknown variable {{evidence}}"),
        ("test", &"x".repeat(8001), "8000 characters"),
    ] {
        let (path, body) = save(kind, text);
        let (status, answer) = app.call_as(&owner, "POST", &path, Some(body)).await;
        assert_eq!(status, 422, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{says}: {answer}"
        );
    }
    let (path, body) = save("system", "mine now");
    assert_eq!(
        app.call_as(&viewer, "POST", &path, Some(body.clone()))
            .await
            .0,
        403
    );
    assert_eq!(
        app.call_as(&other, "POST", &path, Some(body.clone()))
            .await
            .0,
        404
    );
    assert_eq!(app.call_as(&other, "GET", &base, None).await.0, 404);
    assert_eq!(
        app.call_as(&owner, "GET", &format!("{base}/poem"), None)
            .await
            .0,
        404
    );
    let (status, _) = app
        .call_as(
            &owner,
            "GET",
            &format!("/api/v1/orgs/{}/teams/nope/ai/prompts", owner.org_slug),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Every task asked with the team's prompts uses them; without `team`, the built-in ones.
    let openai = Fake::start("openai").await;
    add_provider(&app, &owner, &openai, "OpenAI").await;
    let (status, answer) = explain(
        &app,
        &owner,
        &analysis,
        json!({"pattern_id": pattern, "team": team}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let seen = openai.seen();
    let system = system_of(&seen[0]);
    assert!(
        system.starts_with("You work for Acme's Payments team; the task is explain.\n\nYou are"),
        "{system}"
    );
    let asked = prompt_of(&seen[0]);
    assert!(
        asked.starts_with(&format!(
            "Team question on {pattern} (14 events, task explain):\nLog pattern"
        )),
        "{asked}"
    );
    let (status, _) = explain(&app, &owner, &analysis, json!({"pattern_id": pattern})).await;
    assert_eq!(status, 200);
    let plain = openai.seen();
    assert_eq!(
        plain.len(),
        2,
        "a different prompt is not answered from the cache"
    );
    assert!(system_of(&plain[1]).starts_with("You are"));
    assert!(prompt_of(&plain[1]).starts_with("Log pattern"));
    // Summaries and the test prompt.
    let (status, _) = app
        .call_as(
            &owner,
            "POST",
            &format!("/api/v1/analyses/{analysis}/ai/summary"),
            Some(json!({"team": team})),
        )
        .await;
    assert_eq!(status, 200);
    let summary = prompt_of(&openai.seen()[2]);
    assert!(
        summary.starts_with("Team question on  ( events, task summary):\n"),
        "{summary}"
    );
    let (path, body) = save(
        "test",
        "Write {{framework}} tests for {{file.path}}.\n{{file}}",
    );
    assert_eq!(app.call_as(&owner, "POST", &path, Some(body)).await.0, 201);
    openai.then(&[Reply::Text(fenced(GOOD_PYTEST))]);
    let (status, written) = write_tests(
        &app,
        &owner,
        &analysis,
        json!({"pattern_id": pattern, "team": team}),
    )
    .await;
    assert_eq!(status, 200, "{written}");
    let test_prompt = prompt_of(&openai.seen()[3]);
    assert!(
        test_prompt.starts_with(&format!(
            "Write pytest tests for {}.\n```python\n",
            written["engine"]["path"].as_str().expect("path")
        )),
        "{test_prompt}"
    );
    // Another organisation's team is not found.
    let (status, _) = explain(
        &app,
        &owner,
        &analysis,
        json!({"pattern_id": pattern, "team": "nope"}),
    )
    .await;
    assert_eq!(status, 404);

    // The preview shows exactly what is sent, redacted, without calling anyone.
    let calls = openai.seen().len();
    let preview_path = format!("/api/v1/analyses/{analysis}/ai/preview");
    let (status, preview) = app
        .call_as(
            &viewer,
            "POST",
            &preview_path,
            Some(json!({"task": "explain", "pattern_id": pattern, "team": team})),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["system"], system_of(&seen[0]));
    assert_eq!(preview["prompt"], prompt_of(&seen[0]));
    assert_eq!(
        preview["sources"],
        json!(["team Payments", "system: v1", "analysis: v2"])
    );
    let (status, preview) = app
        .call_as(
            &owner,
            "POST",
            &preview_path,
            Some(json!({"task": "tests", "pattern_id": pattern, "team": team, "drafts": [{"kind": "test", "body": "Draft for {{pattern.template}}"}, {"kind": "system", "body": ""}]})),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert!(
        preview["prompt"]
            .as_str()
            .is_some_and(|p| p.starts_with("Draft for Login failed for")),
        "{preview}"
    );
    assert!(
        preview["system"]
            .as_str()
            .is_some_and(|s| s.starts_with("You are a senior test engineer")),
        "{preview}"
    );
    assert_eq!(
        preview["sources"],
        json!(["team Payments", "system: draft", "test: draft"])
    );
    let (status, refused) = app
        .call_as(
            &owner,
            "POST",
            &preview_path,
            Some(json!({"task": "summary", "drafts": [{"kind": "analysis", "body": "{{nope}}"}]})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        app.call_as(
            &other,
            "POST",
            &preview_path,
            Some(json!({"task": "summary"}))
        )
        .await
        .0,
        404
    );
    assert_eq!(openai.seen().len(), calls, "a preview calls no model");

    // An empty version goes back to the built-in prompt, kept in the history.
    let (path, body) = save("analysis", "");
    assert_eq!(app.call_as(&owner, "POST", &path, Some(body)).await.0, 201);
    let (status, preview) = app
        .call_as(
            &owner,
            "POST",
            &preview_path,
            Some(json!({"task": "explain", "pattern_id": pattern, "team": team})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        preview["prompt"]
            .as_str()
            .is_some_and(|p| p.starts_with("Log pattern")),
        "{preview}"
    );
    assert_eq!(preview["sources"][2], "analysis: built-in (v3)");

    // Audited without the text.
    let r = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{}/audit", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    let audit = r.text();
    assert!(audit.contains("ai.prompt_saved"), "{audit}");
    assert!(
        !audit.contains("Team question on"),
        "the text stays out of the audit log"
    );
});

ai_test!(usage_is_summed_by_month_model_task_and_day, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
    let _workers = server::ingest::Workers::start(&app.state);
    let (analysis, pattern) = analysed(&app, &owner).await;
    let base = format!("/api/v1/orgs/{}/ai/usage", owner.org_slug);

    // Nothing yet: every day of the month at zero.
    let (status, empty) = app.call_as(&owner, "GET", &base, None).await;
    assert_eq!(status, 200, "{empty}");
    assert_eq!(empty["total"]["calls"], 0);
    let days = empty["days"].as_array().expect("days").len();
    assert!((28..=31).contains(&days), "{empty}");

    let openai = Fake::start("openai").await;
    let claude = Fake::start("anthropic").await;
    add_provider(&app, &owner, &openai, "OpenAI").await;
    add_provider(&app, &owner, &claude, "Claude").await;
    // An explanation, the same from the cache, fixes after OpenAI fails (Claude answers).
    assert_eq!(
        explain(&app, &owner, &analysis, json!({"pattern_id": pattern}))
            .await
            .0,
        200
    );
    assert_eq!(
        explain(&app, &owner, &analysis, json!({"pattern_id": pattern}))
            .await
            .0,
        200
    );
    openai.then(&[
        Reply::Status(500, None),
        Reply::Status(500, None),
        Reply::Status(500, None),
    ]);
    let (status, fixes) = app
        .call_as(
            &owner,
            "POST",
            &format!("/api/v1/analyses/{analysis}/ai/recommend"),
            Some(json!({"pattern_id": pattern})),
        )
        .await;
    assert_eq!(status, 200, "{fixes}");
    assert_eq!(fixes["provider"], "Claude");
    save_settings(
        &app,
        &owner,
        json!({"enabled": true, "redact_pii": true, "monthly_budget": 10.0, "routes": []}),
    )
    .await;

    let (status, usage) = app.call_as(&owner, "GET", &base, None).await;
    assert_eq!(status, 200, "{usage}");
    let total = &usage["total"];
    assert_eq!(
        (&total["calls"], &total["cached"], &total["failed"]),
        (&json!(4), &json!(1), &json!(1)),
        "{usage}"
    );
    // Tokens and cost are what was billed: two answers of 1,200 in and 300 out at 0.5 and 2.0
    // per 1,000; the cached answer and the failure cost nothing.
    assert_eq!(
        (&total["tokens_in"], &total["tokens_out"]),
        (&json!(2400), &json!(600))
    );
    assert!(
        (usage["spent"].as_f64().expect("spent") - 2.4).abs() < 1e-9,
        "{usage}"
    );
    assert_eq!(usage["ceiling"], 10.0);
    let by_model: Vec<(String, u64)> = usage["by_model"]
        .as_array()
        .expect("by model")
        .iter()
        .map(|r| {
            (
                format!(
                    "{} {}",
                    r["provider"].as_str().unwrap_or_default(),
                    r["model"].as_str().unwrap_or_default()
                ),
                r["calls"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        by_model,
        [
            ("OpenAI gpt-4o-mini".to_owned(), 3),
            ("Claude claude-sonnet-4-5".to_owned(), 1)
        ],
        "{usage}"
    );
    let by_task: Vec<(&str, u64)> = usage["by_task"]
        .as_array()
        .expect("by task")
        .iter()
        .map(|r| {
            (
                r["task"].as_str().unwrap_or_default(),
                r["calls"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(by_task, [("explain", 2), ("recommend", 2)], "{usage}");
    let busy: Vec<&Value> = usage["days"]
        .as_array()
        .expect("days")
        .iter()
        .filter(|d| d["calls"] != 0)
        .collect();
    assert_eq!(busy.len(), 1, "{usage}");
    assert_eq!(busy[0]["calls"], 4);
    let month = usage["month"].as_str().expect("month").to_owned();
    assert!(
        busy[0]["day"]
            .as_str()
            .is_some_and(|d| d.starts_with(&month))
    );

    // Another month, a bad month, permissions and tenancy.
    let (status, old) = app
        .call_as(&owner, "GET", &format!("{base}?month=2020-02"), None)
        .await;
    assert_eq!(status, 200, "{old}");
    assert_eq!(
        (&old["month"], &old["total"]["calls"]),
        (&json!("2020-02"), &json!(0))
    );
    assert_eq!(
        old["days"].as_array().map(Vec::len),
        Some(29),
        "2020 was a leap year"
    );
    for bad in ["2026-13", "26-01", "december"] {
        let (status, body) = app
            .call_as(&owner, "GET", &format!("{base}?month={bad}"), None)
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    assert_eq!(app.call_as(&viewer, "GET", &base, None).await.0, 403);
    assert_eq!(app.call_as(&other, "GET", &base, None).await.0, 404);
    let (status, theirs) = app
        .call_as(
            &other,
            "GET",
            &format!("/api/v1/orgs/{}/ai/usage", other.org_slug),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        theirs["total"]["calls"], 0,
        "another organisation's calls are not counted"
    );
});

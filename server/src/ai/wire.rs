//! The three wire formats: OpenAI-compatible Chat Completions, Anthropic Messages and Google
//! Gemini `generateContent`, each as a request built from one prompt and a reply read back into
//! text and token counts, with the ways each says "slow down", "failed" and "refused"; and each
//! one streamed (server-sent events), read as the text arrives.

use std::time::Duration;

use app::api::ai::ProviderKind;
use serde_json::{Value, json};

/// Anthropic's API version header.
const ANTHROPIC_VERSION: &str = "2023-06-01";
/// The longest answer kept, in bytes; a provider that sends more is cut.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The largest reply body read.
const MAX_BODY_BYTES: usize = 1 << 20;
/// The most a streamed reply may send: every piece of text comes wrapped in JSON.
const MAX_STREAM_BYTES: usize = 8 << 20;

/// One request to a model.
#[derive(Clone, Debug)]
pub struct Call<'a> {
    /// The wire format.
    pub kind: ProviderKind,
    /// The provider's address, without a trailing slash.
    pub base_url: &'a str,
    /// The API key.
    pub api_key: &'a str,
    /// The model.
    pub model: &'a str,
    /// The system prompt.
    pub system: &'a str,
    /// The user prompt.
    pub prompt: &'a str,
    /// The most tokens to write.
    pub max_tokens: u32,
}

/// What a model wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The text.
    pub text: String,
    /// Input tokens, as the provider counted them.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
}

/// Why a call gave no answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CallError {
    /// 429: too many requests, with the wait the provider asked for.
    #[error("rate limited (429){}", .retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// A server error (5xx, or Anthropic's 529 overload).
    #[error("server error ({0})")]
    Server(u16),
    /// No answer within the time limit.
    #[error("timed out")]
    Timeout,
    /// The connection failed.
    #[error("could not connect: {0}")]
    Transport(String),
    /// The answer was not what the format promises.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The provider's content filter refused.
    #[error("refused by the provider's content filter: {0}")]
    Refused(String),
    /// Another client error: a wrong key (401/403), an unknown model (404), a bad request.
    #[error("refused the request ({status}): {message}")]
    Rejected {
        /// The status.
        status: u16,
        /// The provider's message.
        message: String,
    },
}

impl CallError {
    /// Whether trying the same provider again may help.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Server(_) | Self::Timeout | Self::Transport(_)
        )
    }

    /// A short name for usage records and notes.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Server(_) => "server_error",
            Self::Timeout => "timeout",
            Self::Transport(_) => "transport",
            Self::Malformed(_) => "malformed",
            Self::Refused(_) => "refused",
            Self::Rejected { .. } => "rejected",
        }
    }
}

/// `base` with `path` appended before its query (Azure OpenAI's `?api-version=…` stays last).
fn join(base: &str, path: &str) -> String {
    let (address, query) = base
        .split_once('?')
        .map_or((base, None), |(a, q)| (a, Some(q)));
    let address = address.trim_end_matches('/');
    match query {
        Some(q) => format!("{address}{path}?{q}"),
        None => format!("{address}{path}"),
    }
}

/// The URL, headers and body of a call.
fn request(call: &Call) -> (String, Vec<(&'static str, String)>, Value) {
    let base = call.base_url;
    match call.kind {
        // Azure OpenAI reads `api-key`; the others `Authorization`.
        ProviderKind::Openai => (
            join(base, "/chat/completions"),
            vec![
                ("authorization", format!("Bearer {}", call.api_key)),
                ("api-key", call.api_key.to_owned()),
            ],
            json!({
                "model": call.model,
                "messages": [
                    {"role": "system", "content": call.system},
                    {"role": "user", "content": call.prompt},
                ],
                "max_tokens": call.max_tokens,
                "temperature": 0.2,
            }),
        ),
        ProviderKind::Anthropic => {
            let address = base
                .split('?')
                .next()
                .unwrap_or_default()
                .trim_end_matches('/');
            let url = if address.ends_with("/v1") {
                join(base, "/messages")
            } else {
                join(base, "/v1/messages")
            };
            (
                url,
                vec![
                    ("x-api-key", call.api_key.to_owned()),
                    ("anthropic-version", ANTHROPIC_VERSION.to_owned()),
                ],
                json!({
                    "model": call.model,
                    "max_tokens": call.max_tokens,
                    "system": call.system,
                    "messages": [{"role": "user", "content": call.prompt}],
                    "temperature": 0.2,
                }),
            )
        }
        ProviderKind::Gemini => (
            join(base, &format!("/models/{}:generateContent", call.model)),
            vec![("x-goog-api-key", call.api_key.to_owned())],
            json!({
                "systemInstruction": {"parts": [{"text": call.system}]},
                "contents": [{"role": "user", "parts": [{"text": call.prompt}]}],
                "generationConfig": {"maxOutputTokens": call.max_tokens, "temperature": 0.2},
            }),
        ),
    }
}

/// The URL, headers and body of a streamed call.
fn stream_request(call: &Call) -> (String, Vec<(&'static str, String)>, Value) {
    let (mut url, headers, mut body) = request(call);
    match call.kind {
        ProviderKind::Openai => {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        ProviderKind::Anthropic => body["stream"] = json!(true),
        ProviderKind::Gemini => {
            url = join(
                call.base_url,
                &format!("/models/{}:streamGenerateContent", call.model),
            );
            url.push_str(if url.contains('?') {
                "&alt=sse"
            } else {
                "?alt=sse"
            });
        }
    }
    (url, headers, body)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>()
        && seconds.is_finite()
        && seconds >= 0.0
    {
        return Some(Duration::from_secs_f64(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Sends `call` and reads the answer, within `timeout`.
pub async fn complete(
    client: &reqwest::Client,
    call: &Call<'_>,
    timeout: Duration,
) -> Result<Reply, CallError> {
    let (url, headers, body) = request(call);
    let mut builder = client.post(&url).timeout(timeout).json(&body);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let response = builder.send().await.map_err(transport)?;
    whole_reply(call.kind, response).await
}

/// Reads an answer sent as one body: an error status as the matching [`CallError`], else the
/// reply in `kind`'s format.
async fn whole_reply(kind: ProviderKind, response: reqwest::Response) -> Result<Reply, CallError> {
    let status = response.status().as_u16();
    let wait = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, std::time::SystemTime::now()));
    let bytes = read_body(response).await?;
    if status == 429 {
        return Err(CallError::RateLimited { retry_after: wait });
    }
    if status >= 500 {
        return Err(CallError::Server(status));
    }
    let text = String::from_utf8_lossy(&bytes);
    if !(200..300).contains(&status) {
        return Err(CallError::Rejected {
            status,
            message: error_message(&text),
        });
    }
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| CallError::Malformed(format!("not JSON ({e})")))?;
    parse(kind, &doc)
}

/// Sends `call` asking for a stream and hands each piece of text to `on_text` as it arrives,
/// within `timeout` for the whole answer. A provider that answers with one JSON body instead
/// is read as [`complete`] reads it, its text handed over at once.
pub async fn stream(
    client: &reqwest::Client,
    call: &Call<'_>,
    timeout: Duration,
    on_text: &mut (dyn FnMut(&str) + Send),
) -> Result<Reply, CallError> {
    let (url, headers, body) = stream_request(call);
    let mut builder = client
        .post(&url)
        .timeout(timeout)
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .json(&body);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let mut response = builder.send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let is_stream = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !(200..300).contains(&status) || !is_stream {
        let reply = whole_reply(call.kind, response).await?;
        on_text(&reply.text);
        return Ok(reply);
    }
    let mut parser = StreamParser::new(call.kind);
    let mut read = 0usize;
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        read += chunk.len();
        if read > MAX_STREAM_BYTES {
            return Err(CallError::Malformed(format!(
                "the stream is longer than {} MiB",
                MAX_STREAM_BYTES >> 20
            )));
        }
        for piece in parser.feed(&chunk)? {
            on_text(&piece);
        }
    }
    // A last event without its blank line.
    for piece in parser.feed(b"\n\n")? {
        on_text(&piece);
    }
    parser.finish()
}

/// Reads a provider's server-sent events: text pieces as they come, token counts, and the end.
pub struct StreamParser {
    kind: ProviderKind,
    pending: Vec<u8>,
    text: String,
    tokens_in: u64,
    tokens_out: u64,
    ended: bool,
}

impl StreamParser {
    /// A parser for `kind`'s stream.
    pub fn new(kind: ProviderKind) -> Self {
        Self {
            kind,
            pending: Vec::new(),
            text: String::new(),
            tokens_in: 0,
            tokens_out: 0,
            ended: false,
        }
    }

    /// Takes the next bytes; answers the text pieces of every event they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, CallError> {
        self.pending.extend_from_slice(bytes);
        let mut pieces = Vec::new();
        // Events end at a blank line; `\r\n` line ends are allowed.
        while let Some((end, gap)) = event_end(&self.pending) {
            let raw: Vec<u8> = self.pending.drain(..end + gap).collect();
            let event = String::from_utf8_lossy(&raw[..end]).into_owned();
            if let Some(piece) = self.event(&event)? {
                pieces.push(piece);
            }
        }
        Ok(pieces)
    }

    /// The whole reply once the stream has ended (feed it a blank line first, so an event
    /// without its own is read and its text handed on).
    pub fn finish(self) -> Result<Reply, CallError> {
        if !self.ended {
            return Err(CallError::Malformed(
                "the stream ended before its end marker".into(),
            ));
        }
        if self.text.is_empty() {
            return Err(CallError::Malformed("the stream carried no text".into()));
        }
        Ok(Reply {
            text: self.text,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
        })
    }

    /// One event: its `event:` name and joined `data:` lines.
    fn event(&mut self, raw: &str) -> Result<Option<String>, CallError> {
        let mut name = "";
        let mut data = String::new();
        for line in raw.lines() {
            let line = line.trim_end_matches('\r');
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if data.is_empty() {
            return Ok(None);
        }
        if self.kind == ProviderKind::Openai && data.trim() == "[DONE]" {
            self.ended = true;
            return Ok(None);
        }
        let doc: Value = serde_json::from_str(&data)
            .map_err(|e| CallError::Malformed(format!("an event is not JSON ({e})")))?;
        let piece = match self.kind {
            ProviderKind::Openai => self.openai(&doc)?,
            ProviderKind::Anthropic => self.anthropic(name, &doc)?,
            ProviderKind::Gemini => self.gemini(&doc)?,
        };
        Ok(piece.filter(|p| !p.is_empty()).and_then(|p| self.keep(p)))
    }

    /// Adds `piece` to the text, within the answer's bound.
    fn keep(&mut self, piece: String) -> Option<String> {
        let room = MAX_ANSWER_BYTES.saturating_sub(self.text.len());
        let piece = bounded_to(piece, room);
        self.text.push_str(&piece);
        (!piece.is_empty()).then_some(piece)
    }

    fn openai(&mut self, doc: &Value) -> Result<Option<String>, CallError> {
        if doc["error"].is_object() {
            return Err(CallError::Server(500));
        }
        let usage = &doc["usage"];
        if usage.is_object() {
            self.tokens_in = count(&usage["prompt_tokens"]);
            self.tokens_out = count(&usage["completion_tokens"]);
        }
        let Some(choice) = doc["choices"].get(0) else {
            return Ok(None);
        };
        if let Some(refusal) = choice["delta"]["refusal"].as_str() {
            return Err(CallError::Refused(refusal.chars().take(300).collect()));
        }
        if choice["finish_reason"] == "content_filter" {
            return Err(CallError::Refused("finish_reason content_filter".into()));
        }
        Ok(choice["delta"]["content"].as_str().map(str::to_owned))
    }

    fn anthropic(&mut self, name: &str, doc: &Value) -> Result<Option<String>, CallError> {
        let kind = if name.is_empty() {
            doc["type"].as_str().unwrap_or_default()
        } else {
            name
        };
        match kind {
            "message_start" => {
                self.tokens_in = count(&doc["message"]["usage"]["input_tokens"]);
                Ok(None)
            }
            "content_block_delta" if doc["delta"]["type"] == "text_delta" => {
                Ok(doc["delta"]["text"].as_str().map(str::to_owned))
            }
            "message_delta" => {
                if doc["delta"]["stop_reason"] == "refusal" {
                    return Err(CallError::Refused("stop_reason refusal".into()));
                }
                if let Some(n) = doc["usage"]["output_tokens"].as_u64() {
                    self.tokens_out = n;
                }
                Ok(None)
            }
            "message_stop" => {
                self.ended = true;
                Ok(None)
            }
            "error" => Err(match doc["error"]["type"].as_str() {
                Some("overloaded_error") => CallError::Server(529),
                Some("rate_limit_error") => CallError::RateLimited { retry_after: None },
                _ => CallError::Server(500),
            }),
            _ => Ok(None),
        }
    }

    fn gemini(&mut self, doc: &Value) -> Result<Option<String>, CallError> {
        if let Some(reason) = doc["promptFeedback"]["blockReason"].as_str() {
            return Err(CallError::Refused(format!("prompt blocked ({reason})")));
        }
        if doc["error"].is_object() {
            return Err(CallError::Server(500));
        }
        let usage = &doc["usageMetadata"];
        if usage.is_object() {
            self.tokens_in = count(&usage["promptTokenCount"]);
            self.tokens_out = count(&usage["candidatesTokenCount"]);
        }
        let Some(candidate) = doc["candidates"].get(0) else {
            return Ok(None);
        };
        match candidate["finishReason"].as_str() {
            Some(
                reason @ ("SAFETY" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "RECITATION"),
            ) => return Err(CallError::Refused(format!("finishReason {reason}"))),
            // Gemini's stream has no end marker of its own: the chunk with a finish reason is
            // the last, and a body that ends before one was cut.
            Some(_) => self.ended = true,
            None => {}
        }
        let text: String = candidate["content"]["parts"]
            .as_array()
            .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
            .unwrap_or_default();
        Ok(Some(text))
    }
}

/// Where the first event in `bytes` ends, and the length of the blank line after it.
fn event_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let lf = memchr::memmem::find(bytes, b"\n\n").map(|i| (i, 2));
    let crlf = memchr::memmem::find(bytes, b"\r\n\r\n").map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn transport(e: reqwest::Error) -> CallError {
    if e.is_timeout() {
        CallError::Timeout
    } else {
        // The URL is the operator's own; the key never appears in reqwest's messages.
        CallError::Transport(e.without_url().to_string())
    }
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, CallError> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if out.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(CallError::Malformed(format!(
                "the answer is larger than {} KiB",
                MAX_BODY_BYTES >> 10
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The message of an error body in any of the three formats. Anything else is not repeated:
/// the address may not be a model provider at all.
fn error_message(body: &str) -> String {
    let doc: Option<Value> = serde_json::from_str(body).ok();
    let message = doc.as_ref().and_then(|d| {
        d["error"]["message"]
            .as_str()
            .or_else(|| d["error"].as_str())
            .or_else(|| d["message"].as_str())
            .map(str::to_owned)
    });
    message.map_or_else(
        || "no error message in the provider's format".to_owned(),
        |m| m.chars().take(300).collect(),
    )
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn bounded(text: String) -> String {
    bounded_to(text, MAX_ANSWER_BYTES)
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn bounded_to(mut text: String, max: usize) -> String {
    if text.len() > max {
        let cut = text.floor_char_boundary(max);
        text.truncate(cut);
    }
    text
}

/// Reads a successful answer.
pub fn parse(kind: ProviderKind, doc: &Value) -> Result<Reply, CallError> {
    let malformed = |what: &str| CallError::Malformed(what.to_owned());
    match kind {
        ProviderKind::Openai => {
            let choice = doc["choices"]
                .get(0)
                .ok_or_else(|| malformed("no choices"))?;
            let message = &choice["message"];
            if let Some(refusal) = message["refusal"].as_str() {
                return Err(CallError::Refused(refusal.chars().take(300).collect()));
            }
            if choice["finish_reason"] == "content_filter" {
                return Err(CallError::Refused("finish_reason content_filter".into()));
            }
            let text = message["content"]
                .as_str()
                .ok_or_else(|| malformed("no message content"))?;
            Ok(Reply {
                text: bounded(text.to_owned()),
                tokens_in: count(&doc["usage"]["prompt_tokens"]),
                tokens_out: count(&doc["usage"]["completion_tokens"]),
            })
        }
        ProviderKind::Anthropic => {
            if doc["stop_reason"] == "refusal" {
                return Err(CallError::Refused("stop_reason refusal".into()));
            }
            let blocks = doc["content"]
                .as_array()
                .ok_or_else(|| malformed("no content blocks"))?;
            let text: String = blocks
                .iter()
                .filter(|b| b["type"] == "text")
                .filter_map(|b| b["text"].as_str())
                .collect();
            if text.is_empty() {
                return Err(malformed("no text block"));
            }
            Ok(Reply {
                text: bounded(text),
                tokens_in: count(&doc["usage"]["input_tokens"]),
                tokens_out: count(&doc["usage"]["output_tokens"]),
            })
        }
        ProviderKind::Gemini => {
            if let Some(reason) = doc["promptFeedback"]["blockReason"].as_str() {
                return Err(CallError::Refused(format!("prompt blocked ({reason})")));
            }
            let candidate = doc["candidates"]
                .get(0)
                .ok_or_else(|| malformed("no candidates"))?;
            if let Some(
                reason @ ("SAFETY" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "RECITATION"),
            ) = candidate["finishReason"].as_str()
            {
                return Err(CallError::Refused(format!("finishReason {reason}")));
            }
            let text: String = candidate["content"]["parts"]
                .as_array()
                .ok_or_else(|| malformed("no content parts"))?
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect();
            if text.is_empty() {
                return Err(malformed("no text part"));
            }
            Ok(Reply {
                text: bounded(text),
                tokens_in: count(&doc["usageMetadata"]["promptTokenCount"]),
                tokens_out: count(&doc["usageMetadata"]["candidatesTokenCount"]),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_in_each_format() {
        let openai = json!({"choices": [{"message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 12, "completion_tokens": 3}});
        assert_eq!(
            parse(ProviderKind::Openai, &openai),
            Ok(Reply {
                text: "Hi".into(),
                tokens_in: 12,
                tokens_out: 3
            })
        );
        let anthropic = json!({"content": [{"type": "text", "text": "A"}, {"type": "text", "text": "B"}], "stop_reason": "end_turn", "usage": {"input_tokens": 5, "output_tokens": 2}});
        assert_eq!(
            parse(ProviderKind::Anthropic, &anthropic).map(|r| r.text),
            Ok("AB".into())
        );
        let gemini = json!({"candidates": [{"content": {"parts": [{"text": "G"}]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 1}});
        assert_eq!(
            parse(ProviderKind::Gemini, &gemini).map(|r| (r.tokens_in, r.tokens_out)),
            Ok((7, 1))
        );
    }

    #[test]
    fn refusals_and_broken_answers_are_told_apart() {
        let filtered =
            json!({"choices": [{"message": {"content": null}, "finish_reason": "content_filter"}]});
        assert!(matches!(
            parse(ProviderKind::Openai, &filtered),
            Err(CallError::Refused(_))
        ));
        let refusal = json!({"content": [], "stop_reason": "refusal"});
        assert!(matches!(
            parse(ProviderKind::Anthropic, &refusal),
            Err(CallError::Refused(_))
        ));
        let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}});
        assert!(matches!(
            parse(ProviderKind::Gemini, &blocked),
            Err(CallError::Refused(_))
        ));
        assert!(matches!(
            parse(ProviderKind::Openai, &json!({"id": "x"})),
            Err(CallError::Malformed(_))
        ));
        assert!(!CallError::Malformed(String::new()).retryable());
        assert!(CallError::RateLimited { retry_after: None }.retryable());
    }

    /// Feeds `body` in pieces of `step` bytes; answers the pieces and the reply.
    fn streamed(
        kind: ProviderKind,
        body: &str,
        step: usize,
    ) -> (Vec<String>, Result<Reply, CallError>) {
        let mut parser = StreamParser::new(kind);
        let mut pieces = Vec::new();
        for chunk in body.as_bytes().chunks(step).chain([&b"\n\n"[..]]) {
            match parser.feed(chunk) {
                Ok(p) => pieces.extend(p),
                Err(e) => return (pieces, Err(e)),
            }
        }
        (pieces, parser.finish())
    }

    #[test]
    fn streams_are_read_in_each_format_however_they_are_cut() {
        let openai = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo é\"},\"finish_reason\":\"stop\"}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}\n\n\
data: [DONE]\n\n";
        let anthropic = "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\r\n\r\n\
event: content_block_start\r\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\r\n\r\n\
event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n\
event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\r\n\r\n\
event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"lo é\"}}\r\n\r\n\
event: message_delta\r\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}\r\n\r\n\
event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";
        let gemini = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}],\"role\":\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":12}}\r\n\r\n\
data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo é\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesTokenCount\":3}}\r\n\r\n";
        for (kind, body) in [
            (ProviderKind::Openai, openai),
            (ProviderKind::Anthropic, anthropic),
            (ProviderKind::Gemini, gemini),
        ] {
            // Whole, cut every 7 bytes, and byte by byte (through the middle of `é`).
            for step in [body.len(), 7, 1] {
                let (pieces, reply) = streamed(kind, body, step);
                assert_eq!(pieces.concat(), "Hello é", "{kind:?} by {step}");
                assert_eq!(
                    reply,
                    Ok(Reply {
                        text: "Hello é".into(),
                        tokens_in: 12,
                        tokens_out: 3
                    }),
                    "{kind:?} by {step}"
                );
            }
        }
    }

    #[test]
    fn broken_refused_and_cut_streams_say_so() {
        let cut = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n";
        let (pieces, reply) = streamed(ProviderKind::Openai, cut, 5);
        assert_eq!(pieces, ["Hel"]);
        assert!(matches!(reply, Err(CallError::Malformed(m)) if m.contains("end marker")));
        let garbage = "data: {\"choices\": [\n\n";
        assert!(matches!(
            streamed(ProviderKind::Openai, garbage, 3).1,
            Err(CallError::Malformed(_))
        ));
        let refused = "data: {\"choices\":[{\"delta\":{\"refusal\":\"No.\"}}]}\n\n";
        assert!(matches!(
            streamed(ProviderKind::Openai, refused, 4).1,
            Err(CallError::Refused(_))
        ));
        let overloaded = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        assert_eq!(
            streamed(ProviderKind::Anthropic, overloaded, 9).1,
            Err(CallError::Server(529))
        );
        let blocked =
            "data: {\"candidates\":[{\"content\":{\"parts\":[]},\"finishReason\":\"SAFETY\"}]}\n\n";
        assert!(matches!(
            streamed(ProviderKind::Gemini, blocked, 6).1,
            Err(CallError::Refused(_))
        ));
        assert!(matches!(
            streamed(ProviderKind::Gemini, "", 1).1,
            Err(CallError::Malformed(_))
        ));
        // Gemini's last chunk carries the finish reason; a body that stops before it was cut.
        let cut = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}]}}]}\r\n\r\n";
        assert!(matches!(
            streamed(ProviderKind::Gemini, cut, 4).1,
            Err(CallError::Malformed(m)) if m.contains("end marker")
        ));
        // A last event without its blank line still counts, its text included.
        let unended = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\"}]}";
        let (pieces, reply) = streamed(ProviderKind::Gemini, unended, 8);
        assert_eq!(pieces, ["lo"]);
        assert_eq!(reply.map(|r| r.text), Ok("lo".into()));
    }

    #[test]
    fn streamed_requests_ask_for_a_stream() {
        let call = Call {
            kind: ProviderKind::Gemini,
            base_url: "http://127.0.0.1:9/v1beta",
            api_key: "k",
            model: "m",
            system: "s",
            prompt: "p",
            max_tokens: 10,
        };
        let (url, _, _) = stream_request(&call);
        assert_eq!(
            url,
            "http://127.0.0.1:9/v1beta/models/m:streamGenerateContent?alt=sse"
        );
        let (_, _, body) = stream_request(&Call {
            kind: ProviderKind::Openai,
            ..call.clone()
        });
        assert_eq!(
            (
                body["stream"].as_bool(),
                body["stream_options"]["include_usage"].as_bool()
            ),
            (Some(true), Some(true))
        );
        let (_, _, body) = stream_request(&Call {
            kind: ProviderKind::Anthropic,
            ..call
        });
        assert_eq!(body["stream"], true);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("0.5", now), Some(Duration::from_millis(500)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(20));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(20)));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn requests_follow_each_format() {
        let call = Call {
            kind: ProviderKind::Anthropic,
            base_url: "http://127.0.0.1:9/",
            api_key: "k",
            model: "m",
            system: "s",
            prompt: "p",
            max_tokens: 10,
        };
        let (url, headers, body) = request(&call);
        assert_eq!(url, "http://127.0.0.1:9/v1/messages");
        assert!(headers.iter().any(|(h, v)| *h == "x-api-key" && v == "k"));
        assert_eq!(body["system"], "s");
        let (url, _, body) = request(&Call {
            kind: ProviderKind::Gemini,
            ..call.clone()
        });
        assert_eq!(url, "http://127.0.0.1:9/models/m:generateContent");
        assert_eq!(body["contents"][0]["parts"][0]["text"], "p");
        let (url, headers, _) = request(&Call {
            kind: ProviderKind::Openai,
            ..call
        });
        assert_eq!(url, "http://127.0.0.1:9/chat/completions");
        assert_eq!(headers[0].1, "Bearer k");
        assert_eq!(
            join(
                "https://x.openai.azure.com/openai/deployments/d?api-version=2024-10-21",
                "/chat/completions"
            ),
            "https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21"
        );
    }
}

//! The three wire formats: OpenAI-compatible Chat Completions, Anthropic Messages and Google
//! Gemini `generateContent`, each as a request built from one prompt and a reply read back into
//! text and token counts, with the ways each says "slow down", "failed" and "refused".

use std::time::Duration;

use app::api::ai::ProviderKind;
use serde_json::{Value, json};

/// Anthropic's API version header.
const ANTHROPIC_VERSION: &str = "2023-06-01";
/// The longest answer kept, in bytes; a provider that sends more is cut.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The largest reply body read.
const MAX_BODY_BYTES: usize = 1 << 20;

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
    parse(call.kind, &doc)
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

fn bounded(mut text: String) -> String {
    if text.len() > MAX_ANSWER_BYTES {
        let mut cut = MAX_ANSWER_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
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

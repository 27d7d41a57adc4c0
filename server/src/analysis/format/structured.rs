//! JSON lines and logfmt.

use serde_json::{Map, Value};

use super::Parsed;
use crate::analysis::level::Level;
use crate::analysis::timestamp::{self, TimeContext};

const MESSAGE_KEYS: [&str; 7] = ["msg", "message", "@message", "log", "text", "event", "body"];
const LEVEL_KEYS: [&str; 7] = [
    "level",
    "lvl",
    "severity",
    "@level",
    "levelname",
    "log.level",
    "loglevel",
];
const TIME_KEYS: [&str; 8] = [
    "time",
    "ts",
    "@timestamp",
    "timestamp",
    "t",
    "datetime",
    "date",
    "asctime",
];
const STACK_KEYS: [&str; 5] = [
    "stack",
    "stacktrace",
    "stack_trace",
    "exc_info",
    "exception",
];
const ERROR_KEYS: [&str; 3] = ["error", "err", "exception"];
/// Fields kept per record beyond the well-known ones, so one huge object cannot blow up memory.
const MAX_FIELDS: usize = 48;

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn level_of(value: &Value) -> Option<Level> {
    match value {
        Value::String(s) => Level::parse(s, true),
        Value::Number(n) => n.as_i64().and_then(Level::from_number),
        _ => None,
    }
}

fn time_of(value: &Value, ctx: TimeContext) -> Option<i64> {
    match value {
        Value::String(s) => timestamp::parse_value(s, ctx),
        Value::Number(n) => {
            let v = n.as_f64()?;
            // Seconds (possibly fractional) or milliseconds since the epoch.
            let ms = if v < 1e11 { v * 1000.0 } else { v };
            (9.7e11..4.2e12).contains(&ms).then_some(ms as i64)
        }
        _ => None,
    }
}

/// Flattens nested objects one level deep (`http.status`), keeping scalars.
fn flatten(map: &Map<String, Value>, prefix: &str, out: &mut Vec<(String, String)>) {
    for (key, value) in map {
        if out.len() >= MAX_FIELDS {
            return;
        }
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) if prefix.is_empty() => flatten(inner, &name, out),
            other => {
                if let Some(s) = scalar(other) {
                    out.push((name, s));
                }
            }
        }
    }
}

/// Parses one JSON object line.
pub fn parse_json(line: &str, ctx: TimeContext) -> Option<Parsed> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let map: Map<String, Value> = serde_json::from_str(trimmed).ok()?;
    let mut fields = Vec::new();
    flatten(&map, "", &mut fields);
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| map.get(*k).or_else(|| nested(&map, k)))
    };

    let level = get(&LEVEL_KEYS).and_then(level_of);
    let timestamp = get(&TIME_KEYS).and_then(|v| time_of(v, ctx));
    let error = get(&ERROR_KEYS);
    let (error_message, error_stack) = match error {
        Some(Value::Object(e)) => (
            e.get("message").or_else(|| e.get("msg")).and_then(scalar),
            e.get("stack")
                .or_else(|| e.get("stacktrace"))
                .and_then(scalar),
        ),
        Some(other) => (scalar(other), None),
        None => (None, None),
    };
    let stack = get(&STACK_KEYS).and_then(scalar).or(error_stack);
    let message = get(&MESSAGE_KEYS)
        .and_then(scalar)
        .or_else(|| error_message.clone())
        .unwrap_or_default();
    // An error beside the message adds to it: "payment failed: card declined".
    let message = match error_message {
        Some(e) if !message.contains(&e) && !e.is_empty() => format!("{message}: {e}"),
        _ => message,
    };
    Some(Parsed {
        timestamp,
        level,
        message: message.trim().to_owned(),
        fields,
        stack,
    })
}

fn nested<'a>(map: &'a Map<String, Value>, dotted: &str) -> Option<&'a Value> {
    let (head, tail) = dotted.split_once('.')?;
    map.get(head)?.as_object()?.get(tail)
}

/// Splits a logfmt line into pairs; `None` unless it is mostly `key=value`.
pub fn pairs(line: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut bare = 0usize;
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b' ' {
            i += 1;
        }
        let key = &line[key_start..i];
        if i >= b.len() || b[i] == b' ' {
            bare += 1;
            continue;
        }
        i += 1; // '='
        let value = if b.get(i) == Some(&b'"') {
            i += 1;
            let mut v = String::new();
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch_len = line[i..].chars().next().map_or(1, char::len_utf8);
                v.push_str(&line[i..i + ch_len]);
                i += ch_len;
            }
            i += 1; // closing quote
            v
        } else {
            let start = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            line[start..i].to_owned()
        };
        if key.is_empty()
            || !key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'@'))
        {
            return None;
        }
        out.push((key.to_owned(), value));
    }
    (out.len() >= 2 && bare * 4 <= out.len()).then_some(out)
}

/// Parses one logfmt line.
pub fn parse_logfmt(line: &str, ctx: TimeContext) -> Option<Parsed> {
    let fields = pairs(line)?;
    let find = |keys: &[&str]| {
        fields
            .iter()
            .find(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
    };
    let level = find(&LEVEL_KEYS).and_then(|v| Level::parse(v, true));
    let timestamp = find(&TIME_KEYS).and_then(|v| timestamp::parse_value(v, ctx));
    let message = find(&MESSAGE_KEYS).map(str::to_owned);
    if message.is_none() && level.is_none() && timestamp.is_none() {
        return None;
    }
    let error = find(&ERROR_KEYS).map(str::to_owned);
    let message = match (message, error) {
        (Some(m), Some(e)) if !m.contains(&e) => format!("{m}: {e}"),
        (Some(m), _) => m,
        (None, Some(e)) => e,
        (None, None) => String::new(),
    };
    Some(Parsed {
        timestamp,
        level,
        message,
        fields,
        stack: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_with_error_object_and_numeric_level() {
        let line = r#"{"level":50,"time":1700000000123,"msg":"charge failed","err":{"message":"card declined","stack":"Error: card declined\n    at charge (pay.js:10:5)"},"req":{"method":"POST","url":"/pay"}}"#;
        let p = parse_json(line, TimeContext::default()).expect("parses");
        assert_eq!(p.level, Some(Level::Error));
        assert_eq!(p.timestamp, Some(1_700_000_000_123));
        assert_eq!(p.message, "charge failed: card declined");
        assert!(p.stack.as_deref().is_some_and(|s| s.contains("at charge")));
        assert_eq!(p.field("req.method"), Some("POST"));
    }

    #[test]
    fn logfmt_quoted_values() {
        let p = parse_logfmt(
            r#"ts=2024-01-01T00:00:00Z level=warn msg="disk \"data\" almost full" used=91%"#,
            TimeContext::default(),
        )
        .expect("parses");
        assert_eq!(p.level, Some(Level::Warn));
        assert_eq!(p.message, r#"disk "data" almost full"#);
        assert_eq!(p.field("used"), Some("91%"));
    }

    #[test]
    fn prose_is_not_logfmt() {
        assert!(
            parse_logfmt(
                "the value a=b was rejected by the server",
                TimeContext::default()
            )
            .is_none()
        );
        assert!(parse_json("{not json", TimeContext::default()).is_none());
    }
}

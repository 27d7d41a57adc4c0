//! JSON lines and logfmt.

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
const STACK_KEYS: [&str; 11] = [
    "stack",
    "stacktrace",
    "stack_trace",
    "exc_info",
    "err.stack",
    "error.stack",
    "err.stacktrace",
    "error.stacktrace",
    "exception.stacktrace",
    "exception.stack",
    "exception",
];
/// Where an error's message lives: a scalar `error`, or the message of an error object.
const ERROR_MESSAGE_KEYS: [&str; 7] = [
    "error",
    "err",
    "err.message",
    "error.message",
    "exception.message",
    "err.msg",
    "error.msg",
];
/// Fields kept per record beyond the well-known ones, so one huge object cannot blow up memory.
const MAX_FIELDS: usize = 48;

/// A scalar JSON value, as text, remembering whether it was a number.
#[derive(Clone, Debug, PartialEq)]
struct Scalar {
    text: String,
    number: bool,
}

/// Streams a JSON object into flattened `(key, scalar)` pairs without building a value tree:
/// nested objects one level deep become `outer.inner`, arrays and deeper objects are skipped.
struct Flatten<'a> {
    out: &'a mut Vec<(String, Scalar)>,
    prefix: Option<&'a str>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Flatten<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Flatten<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let name = match self.prefix {
                Some(prefix) => {
                    let mut name = String::with_capacity(prefix.len() + 1 + key.len());
                    name.push_str(prefix);
                    name.push('.');
                    name.push_str(&key);
                    name
                }
                None => key.into_owned(),
            };
            let full = self.out.len() >= MAX_FIELDS;
            map.next_value_seed(Field {
                out: &mut *self.out,
                name,
                nested: self.prefix.is_none(),
                full,
            })?;
        }
        Ok(())
    }
}

/// One field's value: a scalar is kept, an object is flattened (at the top level only).
struct Field<'a> {
    out: &'a mut Vec<(String, Scalar)>,
    name: String,
    nested: bool,
    full: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for Field<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Field<'_> {
    fn keep(self, text: String, number: bool) {
        if !self.full || is_well_known(&self.name) {
            self.out.push((self.name, Scalar { text, number }));
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Field<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.keep(v.to_owned(), false);
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.keep(v, false);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.keep(itoa::Buffer::new().format(v).to_owned(), true);
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.keep(itoa::Buffer::new().format(v).to_owned(), true);
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.keep(v.to_string(), true);
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.keep(v.to_string(), false);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.nested {
            let flatten = Flatten {
                out: self.out,
                prefix: Some(&self.name),
            };
            return flatten.visit_map(map);
        }
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(())
    }
}

/// Keys read for the message, level, time, error and stack, kept however many fields precede them.
fn is_well_known(name: &str) -> bool {
    [
        &MESSAGE_KEYS[..],
        &LEVEL_KEYS,
        &TIME_KEYS,
        &STACK_KEYS,
        &ERROR_MESSAGE_KEYS,
    ]
    .iter()
    .any(|keys| keys.contains(&name))
}

fn level_of(value: &Scalar) -> Option<Level> {
    if value.number {
        value.text.parse().ok().and_then(Level::from_number)
    } else {
        Level::parse(&value.text, true)
    }
}

fn time_of(value: &Scalar, ctx: TimeContext) -> Option<i64> {
    if !value.number {
        return timestamp::parse_value(&value.text, ctx);
    }
    let v: f64 = value.text.parse().ok()?;
    // Seconds (possibly fractional) or milliseconds since the epoch.
    let ms = if v < 1e11 { v * 1000.0 } else { v };
    (9.7e11..4.2e12).contains(&ms).then_some(ms as i64)
}

/// Parses one JSON object line.
pub fn parse_json(line: &str, ctx: TimeContext) -> Option<Parsed> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let mut scalars: Vec<(String, Scalar)> = Vec::with_capacity(16);
    let mut de = serde_json::Deserializer::from_str(trimmed);
    serde::de::DeserializeSeed::deserialize(
        Flatten {
            out: &mut scalars,
            prefix: None,
        },
        &mut de,
    )
    .ok()?;
    de.end().ok()?;
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| scalars.iter().find(|(name, _)| name == k).map(|(_, v)| v))
    };

    let level = get(&LEVEL_KEYS).and_then(level_of);
    let timestamp = get(&TIME_KEYS).and_then(|v| time_of(v, ctx));
    let error_message = get(&ERROR_MESSAGE_KEYS).map(|v| v.text.clone());
    let stack = get(&STACK_KEYS).map(|v| v.text.clone());
    let message = get(&MESSAGE_KEYS)
        .map(|v| v.text.clone())
        .or_else(|| error_message.clone())
        .unwrap_or_default();
    // An error beside the message adds to it: "payment failed: card declined".
    let message = match error_message {
        Some(e) if !message.contains(&e) && !e.is_empty() => format!("{message}: {e}"),
        _ => message,
    };
    let fields = scalars
        .into_iter()
        .map(|(k, v)| (k.into(), v.text))
        .collect();
    Some(Parsed {
        timestamp,
        level,
        message: message.trim().to_owned(),
        fields,
        stack,
        yearless: false,
    })
}

/// Splits a logfmt line into pairs; `None` unless it is mostly `key=value`.
pub fn pairs(line: &str) -> Option<Vec<(super::Key, String)>> {
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
        i = memchr::memchr2(b'=', b' ', &b[i..]).map_or(b.len(), |n| i + n);
        let key = &line[key_start..i];
        if i >= b.len() || b[i] == b' ' {
            bare += 1;
            continue;
        }
        i += 1; // '='
        let value = if b.get(i) == Some(&b'"') {
            i += 1;
            let mut v = String::new();
            // Copies the runs between escapes; a backslash keeps the character after it.
            while let Some(n) = memchr::memchr2(b'"', b'\\', &b[i..]) {
                v.push_str(&line[i..i + n]);
                i += n;
                if b[i] == b'"' {
                    break;
                }
                if i + 1 < b.len() {
                    i += 1;
                }
                let ch_len = line[i..].chars().next().map_or(1, char::len_utf8);
                v.push_str(&line[i..i + ch_len]);
                i += ch_len;
            }
            if i >= b.len() || b[i] != b'"' {
                // No closing quote: the value runs to the end of the line.
                v.push_str(&line[i.min(b.len())..]);
                i = b.len();
            }
            i += 1; // closing quote
            v
        } else {
            let start = i;
            i = memchr::memchr(b' ', &b[i..]).map_or(b.len(), |n| i + n);
            line[start..i].to_owned()
        };
        if key.is_empty()
            || !key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'@'))
        {
            return None;
        }
        out.push((key.to_owned().into(), value));
    }
    (out.len() >= 2 && bare * 4 <= out.len()).then_some(out)
}

/// Parses one logfmt line.
pub fn parse_logfmt(line: &str, ctx: TimeContext) -> Option<Parsed> {
    let fields = pairs(line)?;
    let find = |keys: &[&str]| {
        fields
            .iter()
            .find(|(k, _)| keys.contains(&k.as_ref()))
            .map(|(_, v)| v.as_str())
    };
    let level = find(&LEVEL_KEYS).and_then(|v| Level::parse(v, true));
    let timestamp = find(&TIME_KEYS).and_then(|v| timestamp::parse_value(v, ctx));
    let message = find(&MESSAGE_KEYS).map(str::to_owned);
    if message.is_none() && level.is_none() && timestamp.is_none() {
        return None;
    }
    let error = find(&["error", "err"]).map(str::to_owned);
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
        yearless: false,
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

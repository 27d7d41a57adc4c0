//! JSON lines and logfmt.

use std::sync::OnceLock;

use super::{Parsed, json};
use crate::analysis::level::Level;
use crate::analysis::needle::NameTable;
use crate::analysis::timestamp::{self, TimeContext};

pub(super) const MESSAGE_KEYS: [&str; 7] =
    ["msg", "message", "@message", "log", "text", "event", "body"];
pub(super) const LEVEL_KEYS: [&str; 7] = [
    "level",
    "lvl",
    "severity",
    "@level",
    "levelname",
    "log.level",
    "loglevel",
];
pub(super) const TIME_KEYS: [&str; 8] = [
    "time",
    "ts",
    "@timestamp",
    "timestamp",
    "t",
    "datetime",
    "date",
    "asctime",
];
pub(super) const STACK_KEYS: [&str; 11] = [
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
pub(super) const ERROR_MESSAGE_KEYS: [&str; 7] = [
    "error",
    "err",
    "err.message",
    "error.message",
    "exception.message",
    "err.msg",
    "error.msg",
];
/// Fields kept per record beyond the well-known ones, so one huge object cannot blow up memory.
pub(super) const MAX_FIELDS: usize = 48;

/// The keys each part of a record is read from, best first.
const ROLE_KEYS: [&[&str]; 5] = [
    &MESSAGE_KEYS,
    &LEVEL_KEYS,
    &TIME_KEYS,
    &STACK_KEYS,
    &ERROR_MESSAGE_KEYS,
];
const MESSAGE: usize = 0;
const LEVEL: usize = 1;
const TIME: usize = 2;
const STACK: usize = 3;
const ERROR: usize = 4;

/// The length of the longest key in [`ROLE_KEYS`].
const LONGEST_ROLE_KEY: usize = "exception.stacktrace".len();

/// Which part of a record a key names (an index into [`ROLE_KEYS`]) and its rank there.
fn role_of(name: &str) -> Option<(usize, usize)> {
    static TABLE: OnceLock<NameTable<(usize, usize)>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            NameTable::new(ROLE_KEYS.iter().enumerate().flat_map(|(role, keys)| {
                keys.iter()
                    .enumerate()
                    .map(move |(rank, key)| (*key, (role, rank)))
            }))
        })
        .get(name)
}

/// A JSON record's fields, and for each part the field it is read from.
#[derive(Default)]
struct JsonRecord {
    fields: Vec<(super::Key, String)>,
    /// Per role: the best-ranked key's first field, as (rank, field index, is a number).
    roles: [Option<(usize, usize, bool)>; 5],
}

impl JsonRecord {
    fn keep(&mut self, name: json::Name<'_, '_>, value: json::Value<'_>) {
        let full = self.fields.len() >= MAX_FIELDS;
        // A name longer than every well-known key is dropped unjoined: one huge nested object
        // under a long key costs no copy per field.
        if full && name.byte_len() > LONGEST_ROLE_KEY {
            return;
        }
        let name = name.joined();
        let role = role_of(&name);
        // Well-known keys are kept however many fields precede them.
        if full && role.is_none() {
            return;
        }
        let (text, number) = match value {
            json::Value::Text(text) => (text.into_owned(), false),
            json::Value::Number(text) => (text.into_owned(), true),
            json::Value::Bool(b) => (if b { "true" } else { "false" }.to_owned(), false),
        };
        let key = match role {
            Some((role, rank)) => {
                let index = self.fields.len();
                if self.roles[role].is_none_or(|(best, ..)| rank < best) {
                    self.roles[role] = Some((rank, index, number));
                }
                super::Key::Borrowed(ROLE_KEYS[role][rank])
            }
            None => super::Key::Owned(name.into_owned()),
        };
        self.fields.push((key, text));
    }

    /// The value for `role` and whether it was a number.
    fn get(&self, role: usize) -> Option<(&str, bool)> {
        let (_, index, number) = self.roles[role]?;
        Some((self.fields[index].1.as_str(), number))
    }
}

pub(super) fn level_of(text: &str, number: bool) -> Option<Level> {
    if number {
        text.parse().ok().and_then(Level::from_number)
    } else {
        Level::parse(text, true)
    }
}

pub(super) fn time_of(text: &str, number: bool, ctx: TimeContext) -> Option<i64> {
    if !number {
        return timestamp::parse_value(text, ctx);
    }
    let v: f64 = text.parse().ok()?;
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
    let mut record = JsonRecord {
        fields: Vec::with_capacity(16),
        ..JsonRecord::default()
    };
    json::flatten(trimmed, |name, value| record.keep(name, value))?;

    let level = record
        .get(LEVEL)
        .and_then(|(v, number)| level_of(v, number));
    let timestamp = record
        .get(TIME)
        .and_then(|(v, number)| time_of(v, number, ctx));
    let error_message = record.get(ERROR).map(|(v, _)| v);
    let stack = record.get(STACK).map(|(v, _)| v.to_owned());
    let message = record
        .get(MESSAGE)
        .map(|(v, _)| v)
        .or(error_message)
        .unwrap_or_default();
    // An error beside the message adds to it: "payment failed: card declined".
    let message = match error_message {
        Some(e) if !message.contains(e) && !e.is_empty() => {
            format!("{message}: {e}").trim().to_owned()
        }
        _ => message.trim().to_owned(),
    };
    Some(Parsed {
        timestamp,
        level,
        message,
        fields: record.fields,
        stack,
        yearless: false,
    })
}

/// Splits a logfmt line into pairs; `None` unless it is mostly `key=value`. `first` gets, per
/// part of a record, the index of the first pair named for it.
fn pairs(line: &str, first: &mut [Option<usize>; 5]) -> Option<Vec<(super::Key, String)>> {
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
        let key = match role_of(key) {
            Some((role, rank)) => {
                first[role].get_or_insert(out.len());
                super::Key::Borrowed(ROLE_KEYS[role][rank])
            }
            None => super::Key::Owned(key.to_owned()),
        };
        out.push((key, value));
    }
    (out.len() >= 2 && bare * 4 <= out.len()).then_some(out)
}

/// Parses one logfmt line.
pub fn parse_logfmt(line: &str, ctx: TimeContext) -> Option<Parsed> {
    let mut first = [None; 5];
    let fields = pairs(line, &mut first)?;
    let find = |role: usize| first[role].map(|i| fields[i].1.as_str());
    let level = find(LEVEL).and_then(|v| Level::parse(v, true));
    let timestamp = find(TIME).and_then(|v| timestamp::parse_value(v, ctx));
    let message = find(MESSAGE).map(str::to_owned);
    if message.is_none() && level.is_none() && timestamp.is_none() {
        return None;
    }
    // Only a plain `error` or `err` pair adds to the message.
    let error = fields
        .iter()
        .find(|(k, _)| k == "error" || k == "err")
        .map(|(_, v)| v.clone());
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
    fn every_well_known_key_has_its_role() {
        let longest = ROLE_KEYS
            .iter()
            .flat_map(|keys| keys.iter())
            .map(|k| k.len())
            .max();
        assert_eq!(longest, Some(LONGEST_ROLE_KEY));
        for (role, keys) in ROLE_KEYS.iter().enumerate() {
            for (rank, key) in keys.iter().enumerate() {
                assert_eq!(role_of(key), Some((role, rank)), "{key}");
                for near in [format!("{key}_"), format!("x{key}"), key.to_uppercase()] {
                    assert_eq!(role_of(&near), None, "{near}");
                }
            }
        }
    }

    #[test]
    fn past_the_field_cap_only_well_known_keys_are_kept() {
        let many: String = (0..100).map(|i| format!(r#""f{i}":{i},"#)).collect();
        let outer = "a".repeat(64);
        let line = format!(
            r#"{{"msg":"m","{outer}":{{{many}"x":1}},"err":{{{many}"message":"boom"}},"level":"warn"}}"#
        );
        let p = parse_json(&line, TimeContext::default()).expect("parses");
        assert_eq!(p.fields.len(), MAX_FIELDS + 2, "{:?}", p.fields);
        assert_eq!(p.field("err.message"), Some("boom"));
        assert_eq!(p.level, Some(Level::Warn));
        assert_eq!(p.message, "m: boom");
    }

    #[test]
    fn logfmt_reads_the_first_pair_for_each_part() {
        let p = parse_logfmt(
            "lvl=error level=info ts=1700000000 msg=first message=second err.message=x error=boom err=late",
            TimeContext::default(),
        )
        .expect("parses");
        assert_eq!(p.level, Some(Level::Error));
        assert_eq!(p.timestamp, Some(1_700_000_000_000));
        assert_eq!(p.message, "first: boom");
        assert_eq!(p.fields.len(), 8);
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

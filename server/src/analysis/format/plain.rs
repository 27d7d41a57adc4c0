//! Free text: an optional timestamp prefix, then process/thread columns, a level and a logger,
//! then the message.

use super::Parsed;
use crate::analysis::level::Level;
use crate::analysis::needle::{Needle, split_once_byte, trim_start_bytes};
use crate::analysis::timestamp::{self, Found, TimeContext};

/// A timestamp at the start of the line, optionally in brackets and after a day name
/// (`[Sun Dec 04 04:47:44 2005]`).
pub fn leading_timestamp(line: &str, ctx: TimeContext) -> Option<Found> {
    timestamp::parse_prefix(line, ctx)
}

/// Parses a plain line. With `require_timestamp`, a line without a leading timestamp is not a
/// record start (`None`).
pub fn parse(line: &str, ctx: TimeContext, require_timestamp: bool) -> Option<Parsed> {
    let found = leading_timestamp(line, ctx);
    if require_timestamp && found.is_none() {
        return None;
    }
    if found.is_none()
        && let Some(parsed) = python_logging(line)
    {
        return Some(parsed);
    }
    let mut rest = found.map_or(line, |f| &line[f.len..]);
    let mut fields = Vec::new();
    let mut level = None;
    // Look at a few header columns: numbers (pid, tid), [thread] and a level word.
    for _ in 0..4 {
        let trimmed = trim_start_bytes(rest, b" \t|-");
        // `[HikariPool-1 housekeeper]`: a bracketed thread name may hold spaces.
        if trimmed.starts_with('[')
            && found.is_some()
            && let Some(close) = trimmed.as_bytes()[..trimmed.len().min(80)]
                .iter()
                .position(|&b| b == b']')
            && close > 1
            && trimmed.as_bytes()[1..close].contains(&b' ')
            && Level::parse(trimmed[1..close].trim(), false).is_none()
        {
            fields.push(("thread".into(), trimmed[1..close].to_owned()));
            rest = &trimmed[close + 1..];
            continue;
        }
        let (token, tail) = memchr::memchr2(b' ', b'\t', trimmed.as_bytes())
            .map_or((trimmed, ""), |at| (&trimmed[..at], &trimmed[at + 1..]));
        if token.is_empty() {
            break;
        }
        let numbers_before = !fields.is_empty();
        // One-letter levels (Android's `D`, `E`) only after numeric pid/tid columns, so an
        // ordinary word such as "A" or "I" is never read as a level.
        let allow_letter = numbers_before;
        if level.is_none()
            && let Some(l) = Level::parse(token, allow_letter)
        {
            level = Some(l);
            rest = tail;
            continue;
        }
        if token.bytes().all(|b| b.is_ascii_digit()) && found.is_some() && level.is_none() {
            fields.push(("pid".into(), token.to_owned()));
            rest = tail;
            continue;
        }
        if token.starts_with('[') && token.ends_with(']') && token.len() > 2 && found.is_some() {
            fields.push(("thread".into(), token[1..token.len() - 1].to_owned()));
            rest = tail;
            continue;
        }
        break;
    }
    let rest = trim_start_bytes(rest, b" \t:|-").trim_start();
    // A logger or tag ending in ':' (`com.example.App:`, `WindowManager:`) when the header had
    // a level.
    static COLON_SPACE: Needle = Needle::new(": ");
    let message = match COLON_SPACE.split(rest) {
        Some((logger, msg))
            if level.is_some() && is_logger(logger) && !looks_like_key(logger, msg) =>
        {
            fields.push(("logger".into(), logger.to_owned()));
            msg
        }
        _ => rest,
    };
    Some(Parsed {
        timestamp: found.map(|f| f.ms),
        level,
        message: message.trim_end().to_owned(),
        fields,
        stack: None,
        yearless: found.is_some_and(|f| f.yearless),
    })
}

/// `duration: 12 ms` is a key and its value, not a logger named "duration".
fn looks_like_key(name: &str, rest: &str) -> bool {
    let plain = name.bytes().all(|b| b.is_ascii_lowercase());
    plain && rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
}

/// Python's default `logging` layout: `LEVEL:logger:message`.
fn python_logging(line: &str) -> Option<Parsed> {
    let (level, rest) = split_once_byte(line, b':')?;
    if level.len() < 4 || !level.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let level = Level::parse(level, false)?;
    let (logger, message) = split_once_byte(rest, b':')?;
    if !is_logger(logger) {
        return None;
    }
    Some(Parsed {
        level: Some(level),
        message: message.trim().to_owned(),
        fields: vec![("logger".into(), logger.to_owned())],
        ..Parsed::default()
    })
}

fn is_logger(s: &str) -> bool {
    (2..=96).contains(&s.len())
        && !s.contains(' ')
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'.' | b'_' | b'$' | b'-' | b'[' | b']' | b'/' | b'#')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Parsed {
        parse(line, TimeContext::default(), false).expect("parses")
    }

    #[test]
    fn java_style() {
        let r = p(
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
        );
        assert_eq!(r.level, Some(Level::Info));
        assert_eq!(r.field("thread"), Some("main"));
        assert_eq!(
            r.field("logger"),
            Some("org.apache.hadoop.mapreduce.v2.app.MRAppMaster")
        );
        assert!(r.message.starts_with("Created MRAppMaster"));
    }

    #[test]
    fn bracketed_thread_names_with_spaces() {
        let r = p(
            "2024-03-01 10:00:00,000 DEBUG [HikariPool-1 housekeeper] com.zaxxer.hikari.pool.HikariPool: HikariPool-1 - Pool stats (total=10, active=2, idle=8, waiting=0)",
        );
        assert_eq!(r.level, Some(Level::Debug));
        assert_eq!(r.field("thread"), Some("HikariPool-1 housekeeper"));
        assert_eq!(r.field("logger"), Some("com.zaxxer.hikari.pool.HikariPool"));
        assert!(r.message.starts_with("HikariPool-1 - Pool stats"));
    }

    #[test]
    fn android_style() {
        let r = p(
            "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs opening app wtoken",
        );
        assert_eq!(r.level, Some(Level::Debug));
        assert_eq!(r.field("logger"), Some("WindowManager"));
        assert_eq!(r.message, "printFreezingDisplayLogs opening app wtoken");
    }

    #[test]
    fn bracketed_level_and_untimed_text() {
        let r = p("[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6");
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.message, "mod_jk child workerEnv in error state 6");
        let r = p("something happened here");
        assert_eq!(
            (r.level, r.message.as_str()),
            (None, "something happened here")
        );
        assert!(parse("  at com.x.Y(Y.java:1)", TimeContext::default(), true).is_none());
    }
}

//! Syslog, RFC 5424 and RFC 3164 (with or without the `<PRI>` part).

use super::Parsed;
use crate::analysis::level::Level;
use crate::analysis::needle::{Needle, split_once_byte, words};
use crate::analysis::timestamp::{self, TimeContext};

/// `<PRI>` at the start: (severity level, bytes used).
fn priority(line: &str) -> Option<(Level, usize)> {
    let rest = line.strip_prefix('<')?;
    let end = rest.find('>')?;
    if end == 0 || end > 3 {
        return None;
    }
    let pri: u8 = rest[..end].parse().ok()?;
    (pri <= 191).then(|| (Level::from_syslog_severity(pri % 8), end + 2))
}

/// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`.
pub fn parse_5424(line: &str, ctx: TimeContext) -> Option<Parsed> {
    let (level, used) = priority(line)?;
    let rest = line[used..].strip_prefix("1 ")?;
    let mut parts = rest.splitn(6, ' ');
    let ts = parts.next()?;
    let host = parts.next()?;
    let app = parts.next()?;
    let procid = parts.next()?;
    let msgid = parts.next()?;
    let tail = parts.next().unwrap_or("");
    let timestamp = if ts == "-" {
        None
    } else {
        Some(timestamp::parse_value(ts, ctx)?)
    };
    let (structured, message) = split_structured_data(tail);
    let mut fields = vec![
        ("host".into(), host.to_owned()),
        ("app".into(), app.to_owned()),
    ];
    for (k, v) in [("pid", procid), ("msgid", msgid)] {
        if v != "-" {
            fields.push((k.into(), v.to_owned()));
        }
    }
    if !structured.is_empty() {
        fields.push(("structured_data".into(), structured.to_owned()));
    }
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Some(Parsed {
        timestamp,
        level: Some(level),
        message: message.trim().to_owned(),
        fields,
        stack: None,
        yearless: false,
    })
}

/// Splits `[id k="v"][id2] message` or `- message`.
fn split_structured_data(tail: &str) -> (&str, &str) {
    if let Some(rest) = tail.strip_prefix("- ") {
        return ("", rest);
    }
    if tail == "-" {
        return ("", "");
    }
    if !tail.starts_with('[') {
        return ("", tail);
    }
    let bytes = tail.as_bytes();
    let (mut i, mut quoted, mut depth) = (0, false, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'[' if !quoted => depth += 1,
            b']' if !quoted => {
                depth -= 1;
                if depth == 0 && bytes.get(i + 1) != Some(&b'[') {
                    return (&tail[..=i], tail[i + 1..].trim_start());
                }
            }
            _ => {}
        }
        i += 1;
    }
    (tail, "")
}

/// `[<PRI>]Mmm dd hh:mm:ss HOST TAG[PID]: MSG`.
pub fn parse_3164(line: &str, ctx: TimeContext) -> Option<Parsed> {
    let (level, used) = priority(line).map_or((None, 0), |(l, u)| (Some(l), u));
    let rest = &line[used..];
    let found = timestamp::parse_prefix(rest, ctx)?;
    // The classic header starts with a month name.
    if !rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let after = rest[found.len..].strip_prefix(' ')?;
    let (host, after) = split_once_byte(after, b' ')?;
    static COLON_SPACE: Needle = Needle::new(": ");
    let (tag, message) = match COLON_SPACE.split(after) {
        Some((tag, msg)) if is_tag(tag) => (tag, msg),
        _ if after.ends_with(':') && is_tag(&after[..after.len() - 1]) => {
            (&after[..after.len() - 1], "")
        }
        _ => return None,
    };
    let (app, pid) = match tag.bytes().rposition(|b| b == b'[') {
        Some(open) if tag.ends_with(']') => (&tag[..open], Some(&tag[open + 1..tag.len() - 1])),
        _ => (tag, None),
    };
    let mut fields = vec![
        ("host".into(), host.to_owned()),
        ("app".into(), app.to_owned()),
    ];
    if let Some(pid) = pid {
        fields.push(("pid".into(), pid.to_owned()));
    }
    let level = level.or_else(|| words(message).take(2).find_map(|w| Level::parse(w, false)));
    Some(Parsed {
        timestamp: Some(found.ms),
        level,
        message: message.trim().to_owned(),
        fields,
        stack: None,
        yearless: found.yearless,
    })
}

fn is_tag(tag: &str) -> bool {
    !tag.is_empty() && tag.len() <= 64 && !tag.as_bytes().contains(&b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5424_with_structured_data() {
        let line = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event"#;
        let p = parse_5424(line, TimeContext::default()).expect("parses");
        assert_eq!(p.level, Some(Level::Notice));
        assert_eq!(p.message, "An application event");
        assert_eq!(p.field("app"), Some("evntslog"));
        assert!(
            p.field("structured_data")
                .is_some_and(|s| s.contains("iut=\"3\""))
        );
    }

    #[test]
    fn rfc3164_with_and_without_priority() {
        let p = parse_3164(
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
            TimeContext::default(),
        )
        .expect("parses");
        assert_eq!(p.level, Some(Level::Fatal));
        assert_eq!(p.field("app"), Some("su"));
        let p = parse_3164(
            "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
            TimeContext::default(),
        )
        .expect("parses");
        assert_eq!(p.field("pid"), Some("24200"));
        assert_eq!(p.message, "Invalid user webmaster from 173.234.31.186");
    }
}

//! Apache / Nginx access logs: common and combined formats, with an optional trailing request
//! time (`$request_time` or `%D`).

use super::Parsed;
use crate::analysis::level::Level;
use crate::analysis::needle::split_once_byte;
use crate::analysis::timestamp::{self, TimeContext};

/// Reads a `"quoted"` field at the start of `s`, handling `\"` escapes; returns (value, rest).
fn quoted(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_prefix('"')?;
    let bytes = body.as_bytes();
    let mut i = 0;
    loop {
        i += memchr::memchr2(b'\\', b'"', bytes.get(i..)?)?;
        if bytes[i] == b'"' {
            return Some((&body[..i], &body[i + 1..]));
        }
        i += 2;
    }
}

fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    Some(split_once_byte(s, b' ').unwrap_or((s, "")))
}

/// `IP IDENT USER [TIME] "REQUEST" STATUS BYTES ["REFERER" "AGENT"] [EXTRA...]`.
pub fn parse(line: &str, ctx: TimeContext) -> Option<Parsed> {
    let (client, rest) = word(line)?;
    let (_ident, rest) = word(rest)?;
    let (user, rest) = word(rest)?;
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return None;
    }
    let found = timestamp::parse_prefix(rest, ctx)?;
    let rest = rest[found.len..].trim_start();
    let (request, rest) = quoted(rest)?;
    let (status, rest) = word(rest)?;
    let status_code: u16 = status.parse().ok().filter(|s| (100..600).contains(s))?;
    let (bytes, rest) = word(rest).unwrap_or(("-", ""));
    let mut fields = Vec::with_capacity(12);
    fields.push(("client_ip".into(), client.to_owned()));
    if user != "-" {
        fields.push(("user".into(), user.to_owned()));
    }
    let (method, after_method) = split_once_byte(request, b' ').unwrap_or((request, ""));
    let (target, protocol) = split_once_byte(after_method, b' ').unwrap_or((after_method, ""));
    let (path, query) = split_once_byte(target, b'?').unwrap_or((target, ""));
    for (k, v) in [
        ("method", method),
        ("path", path),
        ("query", query),
        ("protocol", protocol),
    ] {
        if !v.is_empty() {
            fields.push((k.into(), v.to_owned()));
        }
    }
    fields.push(("status".into(), status.to_owned()));
    if bytes != "-" {
        fields.push(("bytes".into(), bytes.to_owned()));
    }
    let mut rest = rest.trim_start();
    for name in ["referer", "user_agent"] {
        match quoted(rest) {
            Some((value, tail)) => {
                if value != "-" && !value.is_empty() {
                    fields.push((name.into(), value.to_owned()));
                }
                rest = tail.trim_start();
            }
            None => break,
        }
    }
    // A trailing number is the request time: seconds with a fraction (nginx's $request_time),
    // microseconds (Apache's %D), or whole seconds (Apache's %T, which rarely passes two digits,
    // while a request served in under 100 µs is rarer still).
    if let Some((extra, _)) = word(rest)
        && let Ok(v) = extra.parse::<f64>()
    {
        let ms = if extra.contains('.') || extra.len() <= 2 {
            v * 1000.0
        } else {
            v / 1000.0
        };
        fields.push(("duration_ms".into(), milliseconds(ms)));
    }
    let level = Some(match status_code {
        500..=599 => Level::Error,
        400..=499 => Level::Warn,
        _ => Level::Info,
    });
    // Joined by hand: `format!` costs several times more, once per line.
    let head: &[&str] = if method.is_empty() || target.is_empty() {
        &[request]
    } else {
        &[method, " ", path]
    };
    let mut message = String::with_capacity(request.len() + status.len() + 1);
    for piece in head.iter().chain(&[" ", status]) {
        message.push_str(piece);
    }
    Some(Parsed {
        timestamp: Some(found.ms),
        level,
        message,
        fields,
        stack: None,
        yearless: false,
    })
}

/// `ms` with three decimals, as `format!("{ms:.3}")` writes it for the durations of requests
/// (non-negative, far below 2^53 µs), through integers, which are much cheaper to write.
fn milliseconds(ms: f64) -> String {
    let micros = (ms * 1000.0).round();
    if !(0.0..9e15).contains(&micros) {
        return format!("{ms:.3}");
    }
    let micros = micros as u64;
    let mut out = (micros / 1000).to_string();
    let fraction = micros % 1000;
    out.push('.');
    for digit in [fraction / 100, fraction / 10 % 10, fraction % 10] {
        out.push(char::from(b'0' + digit as u8));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_with_request_time() {
        let line = r#"203.0.113.9 - - [10/Oct/2023:13:55:36 +0000] "GET /api/users/42?expand=1 HTTP/1.1" 503 120 "-" "curl/8.0" 0.734"#;
        let p = parse(line, TimeContext::default()).expect("parses");
        assert_eq!(p.message, "GET /api/users/42 503");
        assert_eq!(p.level, Some(Level::Error));
        assert_eq!(p.field("query"), Some("expand=1"));
        assert_eq!(p.field("user_agent"), Some("curl/8.0"));
        assert_eq!(p.field("duration_ms"), Some("734.000"));
    }

    #[test]
    fn apache_request_times_in_microseconds_and_whole_seconds() {
        let base =
            r#"10.0.0.1 - - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8.0""#;
        let duration = |extra: &str| {
            parse(&format!("{base} {extra}"), TimeContext::default())
                .and_then(|p| p.field("duration_ms").map(str::to_owned))
        };
        assert_eq!(duration("734512").as_deref(), Some("734.512"), "%D");
        assert_eq!(duration("3").as_deref(), Some("3000.000"), "%T");
        assert_eq!(duration("0").as_deref(), Some("0.000"), "%T");
    }

    #[test]
    fn milliseconds_are_written_as_format_writes_them() {
        for ms in [
            0.0, 0.001, 0.5, 1.0, 3.25, 734.512, 1234.5678, 99_999.999, 1e9,
        ] {
            assert_eq!(milliseconds(ms), format!("{ms:.3}"), "{ms}");
        }
        assert_eq!(milliseconds(f64::INFINITY), "inf");
    }

    #[test]
    fn common_format_and_garbage() {
        let p = parse(r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#, TimeContext::default())
            .expect("parses");
        assert_eq!(p.field("user"), Some("frank"));
        assert!(
            parse(
                "hello world this is not an access log",
                TimeContext::default()
            )
            .is_none()
        );
    }
}

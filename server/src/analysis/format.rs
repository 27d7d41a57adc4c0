//! Log formats: detecting a file's format from its first lines, and cutting each line into
//! timestamp, level, message and fields.

mod access;
mod json;
#[cfg(test)]
mod json_reference;
mod plain;
mod structured;
mod syslog;

use serde::{Deserialize, Serialize};

use super::level::Level;
use super::timestamp::TimeContext;

/// The formats Faultline reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// `key=value` pairs.
    Logfmt,
    /// RFC 5424 syslog.
    Syslog5424,
    /// RFC 3164 (BSD) syslog.
    Syslog3164,
    /// Apache / Nginx common or combined access log.
    AccessLog,
    /// Free text, usually with a timestamp and level prefix.
    Plain,
}

impl Format {
    /// Name used in the analysis output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JsonLines => "json_lines",
            Self::Logfmt => "logfmt",
            Self::Syslog5424 => "syslog_5424",
            Self::Syslog3164 => "syslog_3164",
            Self::AccessLog => "access_log",
            Self::Plain => "plain",
        }
    }
}

/// A field name: most are fixed (`client_ip`, `pid`), so they are borrowed, not allocated.
pub type Key = std::borrow::Cow<'static, str>;

/// One line cut into its parts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    /// Milliseconds since the epoch, UTC.
    pub timestamp: Option<i64>,
    /// The level, when the line states one.
    pub level: Option<Level>,
    /// The human message: what templates are mined from.
    pub message: String,
    /// Structured fields (JSON keys, logfmt pairs, access-log columns, syslog header).
    pub fields: Vec<(Key, String)>,
    /// A stack trace carried inside the line (a JSON `stack` field).
    pub stack: Option<String>,
    /// The timestamp had no year (syslog's `Jun 14 15:16:01`): the reader may move it on.
    pub yearless: bool,
}

impl Parsed {
    /// The value of field `name`, if present.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How lines of one file are parsed, decided by [`detect`].
#[derive(Clone, Copy, Debug)]
pub struct Dialect {
    /// The detected format.
    pub format: Format,
    /// True when most lines start with a timestamp: a line without one continues the previous
    /// record.
    pub timestamped: bool,
    /// Dates without a year get this one.
    pub time: TimeContext,
}

/// How many leading non-empty lines detection looks at.
pub const SAMPLE_LINES: usize = 200;

/// Chooses the format that parses most of `sample` (the file's first non-empty lines).
pub fn detect<'a>(sample: impl IntoIterator<Item = &'a str> + Clone, time: TimeContext) -> Dialect {
    let lines: Vec<&str> = sample
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .take(SAMPLE_LINES)
        .collect();
    if lines.is_empty() {
        return Dialect {
            format: Format::Plain,
            timestamped: false,
            time,
        };
    }
    let share = |f: &dyn Fn(&str) -> bool| {
        lines.iter().filter(|l| f(l)).count() as f64 / lines.len() as f64
    };
    let candidates: [(Format, f64); 5] = [
        (
            Format::JsonLines,
            share(&|l| structured::parse_json(l, time).is_some()),
        ),
        (
            Format::AccessLog,
            share(&|l| access::parse(l, time).is_some()),
        ),
        (
            Format::Syslog5424,
            share(&|l| syslog::parse_5424(l, time).is_some()),
        ),
        (
            Format::Syslog3164,
            share(&|l| syslog::parse_3164(l, time).is_some()),
        ),
        (
            Format::Logfmt,
            share(&|l| structured::parse_logfmt(l, time).is_some()),
        ),
    ];
    // Structured formats win when they explain most lines; the first listed wins ties.
    let best = candidates
        .iter()
        .copied()
        .fold(None::<(Format, f64)>, |best, c| match best {
            Some(b) if b.1 >= c.1 => Some(b),
            _ => Some(c),
        });
    let timestamped = share(&|l| plain::leading_timestamp(l, time).is_some()) >= 0.6;
    match best {
        Some((format, ratio)) if ratio >= 0.6 => Dialect {
            format,
            timestamped: format != Format::JsonLines,
            time,
        },
        _ => Dialect {
            format: Format::Plain,
            timestamped,
            time,
        },
    }
}

impl Dialect {
    /// Parses `line`; `None` when it does not look like the start of a record in this dialect
    /// (it then continues the previous one).
    pub fn parse(&self, line: &str) -> Option<Parsed> {
        match self.format {
            Format::JsonLines => structured::parse_json(line, self.time),
            Format::Logfmt => structured::parse_logfmt(line, self.time),
            Format::Syslog5424 => syslog::parse_5424(line, self.time),
            Format::Syslog3164 => syslog::parse_3164(line, self.time),
            Format::AccessLog => access::parse(line, self.time),
            Format::Plain => plain::parse(line, self.time, self.timestamped),
        }
    }

    /// Parses a line that does not fit the dialect, as a record of its own (free text).
    pub fn parse_fallback(&self, line: &str) -> Parsed {
        plain::parse(line, self.time, false).unwrap_or_else(|| Parsed {
            message: line.trim().to_owned(),
            ..Parsed::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_lines(text: &str) -> Dialect {
        detect(text.lines(), TimeContext::default())
    }

    #[test]
    fn detects_each_format() {
        let cases = [
            (
                r#"{"level":"info","msg":"started","time":"2024-01-01T00:00:00Z"}"#,
                Format::JsonLines,
            ),
            (
                "time=2024-01-01T00:00:00Z level=info msg=\"started server\" port=8080",
                Format::Logfmt,
            ),
            (
                "<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - 'su root' failed",
                Format::Syslog5424,
            ),
            (
                "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick",
                Format::Syslog3164,
            ),
            (
                "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure",
                Format::Syslog3164,
            ),
            (
                r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
                Format::AccessLog,
            ),
            (
                "2024-01-01 10:00:00,123 ERROR [main] c.e.App: boom",
                Format::Plain,
            ),
        ];
        for (line, format) in cases {
            let text = format!("{line}\n{line}\n");
            assert_eq!(detect_lines(&text).format, format, "{line}");
        }
    }

    #[test]
    fn plain_text_with_timestamps_is_marked_timestamped() {
        let d = detect_lines("2024-01-01 10:00:00 INFO a\n2024-01-01 10:00:01 INFO b\n  at x\n");
        assert_eq!(d.format, Format::Plain);
        assert!(d.timestamped);
        let d = detect_lines("just words\nmore words\n");
        assert!(!d.timestamped);
    }
}

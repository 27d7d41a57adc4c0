//! Log levels, recognised in the spellings real logs use.

use serde::{Deserialize, Serialize};

/// A normalised log level, ordered by severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Trace and verbose output.
    Trace,
    /// Debugging output.
    Debug,
    /// Normal operation.
    Info,
    /// Notable but normal (syslog notice).
    Notice,
    /// Something unexpected that did not fail.
    Warn,
    /// A failure.
    Error,
    /// A failure that stops the program or a critical component.
    Fatal,
}

impl Level {
    /// Parses a level word: `INFO`, `warning`, `E`, `err`, `CRITICAL`, `severe`, … Single
    /// letters are accepted only when `allow_letter` (Android / glog style columns).
    pub fn parse(word: &str, allow_letter: bool) -> Option<Self> {
        let w =
            word.trim_matches(|c: char| matches!(c, '[' | ']' | '<' | '>' | '(' | ')' | ':' | '|'));
        if w.len() == 1 {
            if !allow_letter {
                return None;
            }
            return match w.as_bytes()[0] {
                b'V' | b'T' => Some(Self::Trace),
                b'D' => Some(Self::Debug),
                b'I' => Some(Self::Info),
                b'N' => Some(Self::Notice),
                b'W' => Some(Self::Warn),
                b'E' => Some(Self::Error),
                b'F' | b'C' | b'A' => Some(Self::Fatal),
                _ => None,
            };
        }
        // The longest spelling below.
        const LONGEST: usize = "information".len();
        if w.len() > LONGEST {
            return None;
        }
        // Lower-cased on the stack: this runs for a word of nearly every line.
        let mut buf = [0u8; LONGEST];
        let lower = &mut buf[..w.len()];
        lower.copy_from_slice(w.as_bytes());
        lower.make_ascii_lowercase();
        Some(match &*lower {
            b"trace" | b"trc" | b"verbose" | b"finest" | b"finer" => Self::Trace,
            b"debug" | b"dbg" | b"fine" | b"config" => Self::Debug,
            b"info" | b"inf" | b"information" | b"log" => Self::Info,
            b"notice" => Self::Notice,
            b"warn" | b"warning" | b"wrn" => Self::Warn,
            b"error" | b"err" | b"eror" | b"severe" | b"failure" => Self::Error,
            b"fatal" | b"critical" | b"crit" | b"alert" | b"emerg" | b"emergency" | b"panic" => {
                Self::Fatal
            }
            _ => return None,
        })
    }

    /// Maps a syslog severity (0–7).
    pub fn from_syslog_severity(severity: u8) -> Self {
        match severity {
            0..=2 => Self::Fatal,
            3 => Self::Error,
            4 => Self::Warn,
            5 => Self::Notice,
            6 => Self::Info,
            _ => Self::Debug,
        }
    }

    /// Maps a numeric level as bunyan/pino write it (10 trace … 60 fatal).
    pub fn from_number(n: i64) -> Option<Self> {
        Some(match n {
            10 => Self::Trace,
            20 => Self::Debug,
            30 => Self::Info,
            40 => Self::Warn,
            50 => Self::Error,
            60 => Self::Fatal,
            _ => return None,
        })
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Notice => "notice",
            Self::Warn => "warn",
            Self::Error => "error",
            Self::Fatal => "fatal",
        }
    }

    /// True at WARN or above.
    pub fn is_problem(self) -> bool {
        self >= Self::Warn
    }
}

#[cfg(test)]
mod tests {
    use super::Level;

    #[test]
    fn spellings() {
        assert_eq!(Level::parse("[WARNING]", false), Some(Level::Warn));
        assert_eq!(Level::parse("err", false), Some(Level::Error));
        assert_eq!(Level::parse("CRITICAL:", false), Some(Level::Fatal));
        assert_eq!(Level::parse("E", false), None);
        assert_eq!(Level::parse("E", true), Some(Level::Error));
        assert_eq!(Level::parse("information", false), Some(Level::Info));
        assert_eq!(Level::parse("errors", false), None);
        assert!(
            Level::Error > Level::Warn && Level::Warn.is_problem() && !Level::Info.is_problem()
        );
    }
}

//! Events: records assembled from lines. A record's continuation lines (stack traces from Java,
//! Python, JavaScript, Go, Rust and .NET, and indented continuations) join it, so one exception
//! is one event.

use std::collections::VecDeque;

use super::format::{self, Dialect, Format, Parsed};
use super::level::Level;
use super::needle::Needle;
use super::reader::{Line, ReadError};
use super::timestamp::{TimeContext, shift_years};

/// Continuation lines kept per event; further ones are counted, not stored.
pub const MAX_STACK_LINES: usize = 256;
/// Lines held back for format detection, blank ones included.
pub const MAX_READ_AHEAD: usize = 4 * format::SAMPLE_LINES;
/// Bytes of continuation text kept per event.
pub const MAX_STACK_BYTES: usize = 64 * 1024;

/// One log event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event {
    /// Line number of the event's first line.
    pub line: u64,
    /// Line number of its last line.
    pub end_line: u64,
    /// Milliseconds since the epoch, UTC.
    pub timestamp: Option<i64>,
    /// The level, when stated.
    pub level: Option<Level>,
    /// The message templates are mined from.
    pub message: String,
    /// Structured fields.
    pub fields: Vec<(format::Key, String)>,
    /// Continuation lines (a stack trace), joined by newlines.
    pub stack: Option<String>,
    /// True when a line of the event was longer than the reader's limit.
    pub truncated: bool,
}

impl Event {
    fn from_parsed(line: &Line, parsed: Parsed) -> Self {
        Self {
            line: line.number,
            end_line: line.number,
            timestamp: parsed.timestamp,
            level: parsed.level,
            message: parsed.message,
            fields: parsed.fields,
            stack: parsed.stack,
            truncated: line.truncated,
        }
    }

    /// The value of field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An event with only a message and fields, as tests build them.
    #[cfg(test)]
    pub fn with_fields(message: &str, fields: &[(&str, &str)]) -> Self {
        Self {
            message: message.to_owned(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned().into(), (*v).to_owned()))
                .collect(),
            ..Self::default()
        }
    }
}

/// What kind of trace the current event is in, to recognise lines that belong to it even
/// without indentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trace {
    None,
    Python,
    Go,
    /// A Rust panic: its message follows on the next line, unindented.
    RustPanic,
}

/// Turns lines into events for one file. The first [`format::SAMPLE_LINES`] lines are held back
/// to detect the format, then replayed.
pub struct Events<I> {
    lines: I,
    replay: VecDeque<Line>,
    dialect: Dialect,
    pending: Option<Event>,
    stack_lines: usize,
    trace: Trace,
    error: Option<ReadError>,
    years: Years,
    /// Physical lines read, including blank ones.
    pub lines_read: u64,
}

/// Puts dates without a year into the right year: the context's (or the one before, when that
/// would place the first date in the future), plus one at each turn of the year the file
/// passes (`Dec 31 23:59:59` → `Jan  1 00:00:01`).
#[derive(Default)]
struct Years {
    shift: i64,
    last: Option<i64>,
}

/// A date this far before the previous one means a new year began.
const YEAR_TURN_MS: i64 = 180 * 86_400_000;
/// Clocks disagree a little; later than now by more than this is the future.
const FUTURE_SLACK_MS: i64 = 86_400_000;

impl Years {
    fn place(&mut self, ts: i64, time: TimeContext) -> i64 {
        if self.last.is_none()
            && let Some(now) = time.now_ms
            && ts > now + FUTURE_SLACK_MS
        {
            self.shift = -1;
        }
        let mut placed = shift_years(ts, self.shift);
        if let Some(last) = self.last
            && placed < last - YEAR_TURN_MS
        {
            self.shift += 1;
            placed = shift_years(ts, self.shift);
        }
        self.last = Some(placed);
        placed
    }
}

impl<I: Iterator<Item = Result<Line, ReadError>>> Events<I> {
    /// Reads ahead to detect the format, then yields events.
    pub fn new(mut lines: I, time: TimeContext) -> Self {
        let mut replay = VecDeque::new();
        let mut error = None;
        let mut non_empty = 0;
        // Blank lines do not count toward the sample, so cap what is held back in total too.
        while non_empty < format::SAMPLE_LINES && replay.len() < MAX_READ_AHEAD {
            match lines.next() {
                Some(Ok(line)) => {
                    non_empty += usize::from(!line.text.trim().is_empty());
                    replay.push_back(line);
                }
                Some(Err(e)) => {
                    error = Some(e);
                    break;
                }
                None => break,
            }
        }
        let dialect = format::detect(replay.iter().map(|l| l.text.as_str()), time);
        Self {
            lines,
            replay,
            dialect,
            pending: None,
            stack_lines: 0,
            trace: Trace::None,
            error,
            years: Years::default(),
            lines_read: 0,
        }
    }

    /// Yields events read in `dialect`, detected before (by [`Events::new`] on the same input).
    pub fn with_dialect(lines: I, dialect: Dialect) -> Self {
        Self {
            lines,
            replay: VecDeque::new(),
            dialect,
            pending: None,
            stack_lines: 0,
            trace: Trace::None,
            error: None,
            years: Years::default(),
            lines_read: 0,
        }
    }

    /// The detected dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn next_line(&mut self) -> Option<Result<Line, ReadError>> {
        if let Some(line) = self.replay.pop_front() {
            return Some(Ok(line));
        }
        if let Some(e) = self.error.take() {
            return Some(Err(e));
        }
        self.lines.next()
    }

    fn continues(&mut self, text: &str) -> bool {
        let Some(pending) = &self.pending else {
            return false;
        };
        let indented = text.starts_with([' ', '\t']);
        let trimmed = text.trim_start();
        // PostgreSQL writes detail lines to its plain-text log and to syslog; in one-record-
        // per-line formats (JSON, logfmt, access logs) a line is never a detail of another.
        let detail = matches!(
            self.dialect.format,
            Format::Plain | Format::Syslog3164 | Format::Syslog5424
        ) && is_postgres_detail(text);
        if indented || is_trace_marker(trimmed) || detail {
            return true;
        }
        match self.trace {
            // Python ends a traceback with an unindented `ValueError: message` line.
            Trace::Python => is_exception_line(trimmed),
            // Go alternates `pkg.func(...)` lines with indented file lines.
            Trace::Go => {
                trimmed.ends_with(')') && !trimmed.contains(' ')
                    || trimmed.starts_with("created by ")
            }
            // Only the first line after `thread '…' panicked at …:` is the message.
            Trace::RustPanic => pending.stack.is_none(),
            Trace::None => {
                // `java.lang.IllegalStateException: …` right after an error line.
                (pending.level.is_some_and(Level::is_problem) || pending.message.ends_with(':'))
                    && is_qualified_exception(trimmed)
            }
        }
    }

    fn append(&mut self, line: &Line) {
        let Some(pending) = &mut self.pending else {
            return;
        };
        pending.end_line = line.number;
        pending.truncated |= line.truncated;
        let trimmed = line.text.trim_start();
        let indented = line.text.starts_with([' ', '\t']);
        if trimmed.starts_with("Traceback (most recent call last)") {
            self.trace = Trace::Python;
        } else if trimmed.starts_with("goroutine ") {
            self.trace = Trace::Go;
        } else if self.trace == Trace::Python && !indented && is_exception_line(trimmed) {
            // The exception line closes the traceback.
            self.trace = Trace::None;
        }
        if self.stack_lines >= MAX_STACK_LINES {
            return;
        }
        let stack = pending.stack.get_or_insert_with(String::new);
        if stack.len() + line.text.len() > MAX_STACK_BYTES {
            self.stack_lines = MAX_STACK_LINES;
            return;
        }
        if !stack.is_empty() {
            stack.push('\n');
        }
        stack.push_str(line.text.trim_end());
        self.stack_lines += 1;
    }

    fn start(&mut self, event: Event) -> Option<Event> {
        self.stack_lines = 0;
        self.trace = if event.message.starts_with("panic: ") {
            Trace::Go
        } else if is_rust_panic(&event.message) {
            Trace::RustPanic
        } else {
            Trace::None
        };
        self.pending.replace(event)
    }
}

impl<I: Iterator<Item = Result<Line, ReadError>>> Iterator for Events<I> {
    type Item = Result<Event, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.next_line() {
                Some(Ok(line)) => line,
                Some(Err(e)) => return Some(Err(e)),
                None => return self.pending.take().map(Ok),
            };
            self.lines_read += 1;
            if line.text.trim().is_empty() {
                continue;
            }
            if self.continues(&line.text) {
                self.append(&line);
                continue;
            }
            let event = match self.dialect.parse(&line.text) {
                Some(mut parsed) => {
                    if parsed.yearless
                        && let Some(ts) = &mut parsed.timestamp
                    {
                        *ts = self.years.place(*ts, self.dialect.time);
                    }
                    Event::from_parsed(&line, parsed)
                }
                None if self.pending.is_some() => {
                    self.append(&line);
                    continue;
                }
                None => Event::from_parsed(&line, self.dialect.parse_fallback(&line.text)),
            };
            if let Some(done) = self.start(event) {
                return Some(Ok(done));
            }
        }
    }
}

/// PostgreSQL writes the details of an error as lines of their own (`… DETAIL:  Process 42
/// waits for …`), with the same prefix as the error.
fn is_postgres_detail(line: &str) -> bool {
    const PARTS: [&str; 5] = [" DETAIL", " HINT", " STATEMENT", " CONTEXT", " QUERY"];
    // Every part ends in `:  `, which most lines lack: look for that first.
    static COLON_TWO_SPACES: Needle = Needle::new(":  ");
    let head = &line[..line.floor_char_boundary(120)];
    let mut from = 0;
    while let Some(at) = COLON_TWO_SPACES.find(&head[from..]) {
        let before = &head[..from + at];
        if PARTS.iter().any(|p| before.ends_with(p)) {
            return true;
        }
        from += at + 1;
    }
    false
}

/// `thread 'main' panicked at src/main.rs:10:5:` (Rust 1.73 and later put the message on the
/// next line).
fn is_rust_panic(message: &str) -> bool {
    message.starts_with("thread '") && message.contains("' panicked at ") && message.ends_with(':')
}

/// Starts of lines that belong to the previous event wherever they appear.
const TRACE_MARKERS: [&str; 11] = [
    "Caused by: ",
    "Traceback (most recent call last)",
    "During handling of the above exception",
    "The above exception was the direct cause",
    "--- End of ",
    "stack backtrace:",
    "note: run with `RUST_BACKTRACE",
    "note: Some details are omitted",
    "Suppressed: ",
    "goroutine ",
    "Exception in thread ",
];

/// Lines that belong to the previous event wherever they appear.
fn is_trace_marker(t: &str) -> bool {
    // Most lines start with none of the markers' first letters: settle those with one byte.
    // (`.` starts `... 12 more`.)
    if !matches!(
        t.as_bytes().first(),
        Some(b'C' | b'T' | b'D' | b'-' | b's' | b'n' | b'S' | b'g' | b'E' | b'.')
    ) {
        return false;
    }
    TRACE_MARKERS.iter().any(|m| t.starts_with(m))
        || (t.starts_with("... ") && t.ends_with(" more"))
}

/// `ValueError: bad input`, `KeyError`, `requests.exceptions.ConnectionError: …`.
fn is_exception_line(t: &str) -> bool {
    let name = t.split(':').next().unwrap_or(t);
    Level::parse(name, false).is_none()
        && !name.is_empty()
        && !name.contains(' ')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        && name
            .rsplit('.')
            .next()
            .is_some_and(|last| last.bytes().next().is_some_and(|b| b.is_ascii_uppercase()))
}

/// `java.lang.NullPointerException`, `System.InvalidOperationException: …`.
fn is_qualified_exception(t: &str) -> bool {
    let name = t.split([':', ' ']).next().unwrap_or(t);
    name.contains('.')
        && (name.ends_with("Exception") || name.ends_with("Error") || name.ends_with("Throwable"))
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::reader::Lines;

    fn events(text: &str) -> Vec<Event> {
        Events::new(Lines::new(text.as_bytes()), TimeContext::default())
            .collect::<Result<Vec<_>, _>>()
            .expect("reads")
    }

    #[test]
    fn a_dialect_detected_before_reads_the_same_events() {
        // Longer than the lines held back for detection, with records spanning that limit.
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(&format!("2024-01-01 10:00:{:02} INFO step {i}\n", i % 60));
            if i % 7 == 0 {
                text.push_str("java.lang.IllegalStateException: bad\n\tat a.B.c(B.java:1)\n\n");
            }
        }
        let mut first = Events::new(Lines::new(text.as_bytes()), TimeContext::default());
        let dialect = first.dialect();
        let expected: Vec<Event> = first.by_ref().map(|e| e.expect("reads")).collect();
        let mut again = Events::with_dialect(Lines::new(text.as_bytes()), dialect);
        let got: Vec<Event> = again.by_ref().map(|e| e.expect("reads")).collect();
        assert_eq!(got, expected);
        assert_eq!(again.lines_read, first.lines_read);
        assert_eq!(first.lines_read, 300 + 3 * 43);
        assert!(expected.iter().filter(|e| e.stack.is_some()).count() >= 40);
    }

    #[test]
    fn a_json_record_quoting_a_postgres_detail_is_its_own_event() {
        // An application logging a database error's text in JSON: each line is a record.
        let text = concat!(
            r#"{"level":"info","msg":"saving order 1"}"#,
            "\n",
            r#"{"level":"error","msg":"insert failed DETAIL:  Key (id)=(1) already exists."}"#,
            "\n",
        );
        let got = events(text);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[1].message.starts_with("insert failed"), "{got:?}");
        assert_eq!(got[0].stack, None);
        // In PostgreSQL's own plain-text log the same shape is a detail of the line before.
        let text = concat!(
            "2024-01-01 10:00:00 UTC [42] ERROR:  duplicate key value\n",
            "2024-01-01 10:00:00 UTC [42] DETAIL:  Key (id)=(1) already exists.\n",
        );
        let got = events(text);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0]
                .stack
                .as_deref()
                .is_some_and(|s| s.contains("DETAIL"))
        );
    }

    #[test]
    fn every_trace_marker_is_recognised() {
        // Each marker, with text after it, passes the first-byte filter and is found.
        for marker in TRACE_MARKERS {
            assert!(is_trace_marker(&format!("{marker}x: y")), "{marker}");
        }
        assert!(is_trace_marker("... 12 more"));
        assert!(!is_trace_marker("2024-01-01 started"));
        assert!(!is_trace_marker(""));
    }

    #[test]
    fn postgres_detail_lines_are_recognised_by_their_part_name() {
        let prefix = "2026-03-14 09:00:04.498 UTC [23053]";
        for part in ["DETAIL", "HINT", "STATEMENT", "CONTEXT", "QUERY"] {
            assert!(
                is_postgres_detail(&format!("{prefix} {part}:  text")),
                "{part}"
            );
            // One space after the colon, or another word before it, is something else.
            assert!(
                !is_postgres_detail(&format!("{prefix} {part}: text")),
                "{part}"
            );
            assert!(
                !is_postgres_detail(&format!("{prefix} X{part}:  text")),
                "{part}"
            );
        }
        // Another `:  ` may come first; the part is still found.
        assert!(is_postgres_detail("a:  b [1] HINT:  retry"));
        // Only the first 120 bytes are looked at.
        assert!(!is_postgres_detail(&format!(
            "{} DETAIL:  x",
            "é".repeat(70)
        )));
    }

    #[test]
    fn java_stack_trace_is_one_event() {
        let log = "2024-01-01 10:00:00,000 INFO [main] c.e.App: started\n\
2024-01-01 10:00:01,000 ERROR [http-1] c.e.Pay: charge failed\n\
java.lang.IllegalStateException: pool exhausted\n\
\tat com.example.Pool.get(Pool.java:42)\n\
\tat com.example.Pay.charge(Pay.java:10)\n\
Caused by: java.net.SocketTimeoutException: connect timed out\n\
\t... 12 more\n\
2024-01-01 10:00:02,000 INFO [main] c.e.App: recovered\n";
        let e = events(log);
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].message, "charge failed");
        assert_eq!((e[1].line, e[1].end_line), (2, 7));
        let stack = e[1].stack.as_deref().expect("stack");
        assert!(
            stack.starts_with("java.lang.IllegalStateException") && stack.contains("Caused by")
        );
    }

    #[test]
    fn python_traceback_without_timestamps_is_one_event() {
        let log = [
            "ERROR:app:request failed",
            "Traceback (most recent call last):",
            "  File \"app.py\", line 3, in handle",
            "    do()",
            "ValueError: bad input",
            "INFO:app:next request",
        ]
        .join("\n");
        let e = events(&log);
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e[0].stack
                .as_deref()
                .is_some_and(|s| s.ends_with("ValueError: bad input"))
        );
    }

    #[test]
    fn dotnet_exception_with_rethrow_marker_is_one_event() {
        let log = [
            "2024-01-01 10:00:00.000 ERROR Unhandled exception while handling GET /orders/7",
            "System.InvalidOperationException: Sequence contains no elements",
            "   at System.Linq.ThrowHelper.ThrowNoElementsException()",
            "   at Shop.Orders.OrderService.Get(Int32 id) in /src/OrderService.cs:line 42",
            "--- End of stack trace from previous location ---",
            "   at Shop.Api.Controllers.OrdersController.Get(Int32 id)",
            "2024-01-01 10:00:01.000 INFO next request",
        ]
        .join("\n");
        let e = events(&log);
        assert_eq!(e.len(), 2, "{e:#?}");
        assert_eq!((e[0].line, e[0].end_line), (1, 6));
        let stack = e[0].stack.as_deref().expect("stack");
        assert!(stack.starts_with("System.InvalidOperationException"));
        assert!(stack.contains("--- End of stack trace") && stack.ends_with("Get(Int32 id)"));
    }

    #[test]
    fn rust_panic_with_backtrace_is_one_event() {
        let log = [
            "2024-01-01T10:00:00Z INFO starting worker",
            "thread 'main' panicked at src/main.rs:10:5:",
            "called `Option::unwrap()` on a `None` value",
            "stack backtrace:",
            "   0: rust_begin_unwind",
            "             at /rustc/library/std/src/panicking.rs:645:5",
            "   1: worker::main",
            "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
            "2024-01-01T10:00:02Z INFO restarted",
        ]
        .join("\n");
        let e = events(&log);
        assert_eq!(e.len(), 3, "{e:#?}");
        assert_eq!(e[1].message, "thread 'main' panicked at src/main.rs:10:5:");
        assert_eq!((e[1].line, e[1].end_line), (2, 8));
        let stack = e[1].stack.as_deref().expect("stack");
        assert!(stack.starts_with("called `Option::unwrap()` on a `None` value"));
        assert!(stack.contains("worker::main"));
        assert_eq!(e[2].message, "restarted");
    }

    #[test]
    fn yearless_dates_follow_the_turn_of_the_year_and_never_lie_ahead() {
        let log = "Dec 31 23:59:58 host app[1]: last of the year\nJan  1 00:00:02 host app[1]: first of the next\n";
        let now = crate::analysis::timestamp::days_from_civil(2025, 1, 1) * 86_400_000 + 3_600_000;
        let e: Vec<Event> = Events::new(Lines::new(log.as_bytes()), TimeContext::at(now))
            .collect::<Result<_, _>>()
            .expect("reads");
        let iso: Vec<String> = e
            .iter()
            .map(|e| crate::analysis::timestamp::format_rfc3339(e.timestamp.expect("time")))
            .collect();
        // Read on 1 January 2025: December is last year's, January this year's.
        assert_eq!(
            iso,
            ["2024-12-31T23:59:58.000Z", "2025-01-01T00:00:02.000Z"]
        );
    }

    #[test]
    fn go_panic_and_node_trace() {
        let log = "panic: runtime error: index out of range [3] with length 2\n\
\n\
goroutine 1 [running]:\n\
main.main()\n\
\t/app/main.go:12 +0x1d\n\
exit status 2\n";
        let e = events(log);
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e[0].stack
                .as_deref()
                .is_some_and(|s| s.contains("main.go:12"))
        );

        let node = "{\"level\":\"error\",\"msg\":\"boom\"}\n    at Object.<anonymous> (/app/x.js:1:7)\n{\"level\":\"info\",\"msg\":\"ok\"}\n";
        let e = events(node);
        assert_eq!(e.len(), 2);
        assert!(e[0].stack.is_some());
    }
}

//! Timestamps at the start of a log line (or in a field), in the formats real logs use, turned
//! into milliseconds since the Unix epoch (UTC).
//!
//! Hand-written byte matchers rather than a date library: they run once per line on the hot
//! path, and each format only needs a fixed shape check.

/// Where a year is missing (syslog, Android), this year is assumed: the year of `now` (when
/// the first such date would lie in the future, the year before), moving on at each new year
/// the file passes (see `events`).
#[derive(Clone, Copy, Debug)]
pub struct TimeContext {
    /// Year assumed for timestamps that carry none.
    pub default_year: i64,
    /// The time of the analysis, milliseconds since the epoch, when known.
    pub now_ms: Option<i64>,
}

impl Default for TimeContext {
    fn default() -> Self {
        Self {
            default_year: 2000,
            now_ms: None,
        }
    }
}

impl TimeContext {
    /// The context for an analysis made at `now_ms`.
    pub fn at(now_ms: i64) -> Self {
        let days = now_ms.div_euclid(86_400_000);
        Self {
            default_year: app::time::civil_from_days(days).0,
            now_ms: Some(now_ms),
        }
    }
}

/// A timestamp found at the start of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// Milliseconds since the epoch, UTC.
    pub ms: i64,
    /// Bytes of the text the timestamp used (including surrounding brackets).
    pub len: usize,
    /// The text had no year; [`TimeContext::default_year`] was used.
    pub yearless: bool,
}

/// Moves a timestamp by whole years, keeping month, day and time of day (Feb 29 becomes
/// Mar 1 in a year without it).
pub fn shift_years(ms: i64, years: i64) -> i64 {
    if years == 0 {
        return ms;
    }
    let day_ms = 86_400_000;
    let (days, in_day) = (ms.div_euclid(day_ms), ms.rem_euclid(day_ms));
    let (y, m, d) = app::time::civil_from_days(days);
    days_from_civil(y + years, m, d) * day_ms + in_day
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];
const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];

pub use app::time::days_from_civil;

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    /// Set by a parser that found no year and used the context's.
    yearless: bool,
}

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self {
            b,
            i: 0,
            yearless: false,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }
    fn eat_any(&mut self, set: &[u8]) -> Option<u8> {
        let c = self.peek()?;
        set.contains(&c).then(|| {
            self.i += 1;
            c
        })
    }
    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<i64> {
        let s = self.b.get(self.i..self.i + n)?;
        let mut v = 0i64;
        for &c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        self.i += n;
        Some(v)
    }
    /// One or two digits.
    fn digits_1_2(&mut self) -> Option<i64> {
        let first = self.digits(1)?;
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                self.i += 1;
                Some(first * 10 + i64::from(c - b'0'))
            }
            _ => Some(first),
        }
    }
    /// A fraction of a second after `.` or `,` (1–9 digits), in milliseconds.
    fn fraction_ms(&mut self) -> i64 {
        let start = self.i;
        if self.eat_any(b".,").is_none() {
            return 0;
        }
        let digits_start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) && self.i - digits_start < 9 {
            self.i += 1;
        }
        let digits = &self.b[digits_start..self.i];
        if digits.is_empty() {
            self.i = start;
            return 0;
        }
        let mut ms = 0i64;
        for k in 0..3 {
            ms = ms * 10 + digits.get(k).map_or(0, |c| i64::from(c - b'0'));
        }
        ms
    }
    fn month_name(&mut self) -> Option<i64> {
        let s = self.b.get(self.i..self.i + 3)?;
        let m = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(s))?;
        self.i += 3;
        Some(m as i64 + 1)
    }
    fn day_name(&mut self) -> Option<()> {
        let s = self.b.get(self.i..self.i + 3)?;
        DAYS.iter()
            .any(|d| d.eq_ignore_ascii_case(s))
            .then(|| self.i += 3)
    }
    /// `hh:mm:ss`, returning seconds of the day.
    fn clock(&mut self) -> Option<i64> {
        let h = self.digits(2)?;
        self.eat(b':')?;
        let m = self.digits(2)?;
        self.eat(b':')?;
        let s = self.digits(2)?;
        (h < 24 && m < 60 && s <= 60).then_some(h * 3600 + m * 60 + s)
    }
    /// `Z`, `+hh:mm`, `+hhmm`, `+hh`, or ` UTC`: offset in seconds east of UTC.
    fn zone(&mut self) -> i64 {
        if self.eat(b'Z').is_some() {
            return 0;
        }
        let start = self.i;
        let sign = match self.eat_any(b"+-") {
            Some(b'+') => 1,
            Some(_) => -1,
            None => return self.named_utc(),
        };
        let Some(h) = self.digits(2) else {
            self.i = start;
            return 0;
        };
        let _ = self.eat(b':');
        let m = self.digits(2).unwrap_or(0);
        if h > 14 || m > 59 {
            self.i = start;
            return 0;
        }
        sign * (h * 3600 + m * 60)
    }
    fn named_utc(&mut self) -> i64 {
        for name in [&b" UTC"[..], b" GMT"] {
            if self.b[self.i..].starts_with(name) {
                self.i += name.len();
            }
        }
        0
    }
}

fn valid_date(y: i64, m: i64, d: i64) -> bool {
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1970..=2200).contains(&y) && (1..=12).contains(&m) && (1..=days).contains(&d)
}

fn to_ms(y: i64, mo: i64, d: i64, secs: i64, ms: i64, offset: i64) -> i64 {
    (days_from_civil(y, mo, d) * 86_400 + secs - offset) * 1000 + ms
}

/// `2024-01-02T03:04:05.123Z`, `2024-01-02 03:04:05,123 +0100`, `2024/01/02 03:04:05`.
fn iso(c: &mut Cursor) -> Option<i64> {
    let y = c.digits(4)?;
    let sep = c.eat_any(b"-/")?;
    let mo = c.digits(2)?;
    c.eat(sep)?;
    let d = c.digits(2)?;
    c.eat_any(b"T ")?;
    let secs = c.clock()?;
    let ms = c.fraction_ms();
    let offset = c.zone();
    valid_date(y, mo, d).then(|| to_ms(y, mo, d, secs, ms, offset))
}

/// Spark's `17/06/09 20:10:40`.
fn short_year(c: &mut Cursor) -> Option<i64> {
    let y = 2000 + c.digits(2)?;
    c.eat(b'/')?;
    let mo = c.digits(2)?;
    c.eat(b'/')?;
    let d = c.digits(2)?;
    c.eat(b' ')?;
    let secs = c.clock()?;
    let ms = c.fraction_ms();
    valid_date(y, mo, d).then(|| to_ms(y, mo, d, secs, ms, 0))
}

/// HDFS' `081109 203615`.
fn compact_pair(c: &mut Cursor) -> Option<i64> {
    let y = 2000 + c.digits(2)?;
    let mo = c.digits(2)?;
    let d = c.digits(2)?;
    c.eat(b' ')?;
    let (h, mi, s) = (c.digits(2)?, c.digits(2)?, c.digits(2)?);
    if c.peek().is_some_and(|b| b.is_ascii_digit()) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    valid_date(y, mo, d).then(|| to_ms(y, mo, d, h * 3600 + mi * 60 + s, 0, 0))
}

/// `20171223-22:15:29:606` (HealthApp) and `20171223 22:15:29`.
fn compact_date(c: &mut Cursor) -> Option<i64> {
    let y = c.digits(4)?;
    let mo = c.digits(2)?;
    let d = c.digits(2)?;
    c.eat_any(b"-T ")?;
    let secs = c.clock()?;
    let ms = if c.eat(b':').is_some() {
        c.digits(3)?
    } else {
        c.fraction_ms()
    };
    valid_date(y, mo, d).then(|| to_ms(y, mo, d, secs, ms, 0))
}

/// Android's `03-17 16:13:38.811` (no year).
fn month_day(c: &mut Cursor, ctx: TimeContext) -> Option<i64> {
    let mo = c.digits(2)?;
    c.eat(b'-')?;
    let d = c.digits(2)?;
    c.eat(b' ')?;
    let secs = c.clock()?;
    let ms = c.fraction_ms();
    c.yearless = true;
    // Any year will do for the check: Feb 29 is valid in some year.
    valid_date(2000, mo, d).then(|| to_ms(ctx.default_year, mo, d, secs, ms, 0))
}

/// Syslog's `Jun 14 15:16:01` and `Jun  9 06:06:20` (no year), optionally preceded by a day name
/// and followed by a year (`Sun Dec 04 04:47:44 2005`, `Mon Jun 14 15:16:01.123456 2021`).
fn month_name_first(c: &mut Cursor, ctx: TimeContext) -> Option<i64> {
    if c.day_name().is_some() {
        c.eat(b' ')?;
    }
    let mo = c.month_name()?;
    c.eat(b' ')?;
    let _ = c.eat(b' ');
    let d = c.digits_1_2()?;
    c.eat(b' ')?;
    let secs = c.clock()?;
    let ms = c.fraction_ms();
    let save = c.i;
    let year = if c.eat(b' ').is_some() {
        match c.digits(4) {
            Some(y) if !c.peek().is_some_and(|b| b.is_ascii_digit()) => Some(y),
            _ => {
                c.i = save;
                None
            }
        }
    } else {
        None
    };
    c.yearless = year.is_none();
    let valid = valid_date(year.unwrap_or(2000), mo, d);
    let year = year.unwrap_or(ctx.default_year);
    valid.then(|| to_ms(year, mo, d, secs, ms, 0))
}

/// Common Log Format's `10/Oct/2000:13:55:36 -0700`.
fn clf(c: &mut Cursor) -> Option<i64> {
    let d = c.digits(2)?;
    c.eat(b'/')?;
    let mo = c.month_name()?;
    c.eat(b'/')?;
    let y = c.digits(4)?;
    c.eat(b':')?;
    let secs = c.clock()?;
    let ms = c.fraction_ms();
    let save = c.i;
    let offset = if c.eat(b' ').is_some() && matches!(c.peek(), Some(b'+' | b'-')) {
        c.zone()
    } else {
        c.i = save;
        0
    };
    valid_date(y, mo, d).then(|| to_ms(y, mo, d, secs, ms, offset))
}

/// Epoch seconds (10 digits, optional fraction) or milliseconds (13 digits), between 2001 and 2100.
fn epoch(c: &mut Cursor) -> Option<i64> {
    let start = c.i;
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        c.i += 1;
    }
    let digits = &c.b[start..c.i];
    let value: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let ms = match digits.len() {
        10 => value * 1000 + c.fraction_ms(),
        13 => value,
        16 => value / 1000,
        19 => value / 1_000_000,
        _ => return None,
    };
    let boundary_ok = !c.peek().is_some_and(|b| b.is_ascii_alphanumeric());
    (boundary_ok && (978_307_200_000..4_102_444_800_000).contains(&ms)).then_some(ms)
}

/// Finds a timestamp at the very start of `text` (optionally inside `[...]`).
pub fn parse_prefix(text: &str, ctx: TimeContext) -> Option<Found> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    let bracket = first == b'[';
    let body = if bracket { &bytes[1..] } else { bytes };
    let lead = *body.first()?;
    let parsers: &[fn(&mut Cursor, TimeContext) -> Option<i64>] = if lead.is_ascii_digit() {
        &[
            |c, _| iso(c),
            |c, _| compact_date(c),
            |c, _| short_year(c),
            |c, _| clf(c),
            |c, _| compact_pair(c),
            month_day,
            |c, _| epoch(c),
        ]
    } else if lead.is_ascii_alphabetic() {
        &[month_name_first]
    } else {
        return None;
    };
    for parse in parsers {
        let mut c = Cursor::new(body);
        if let Some(ms) = parse(&mut c, ctx) {
            let mut len = c.i + usize::from(bracket);
            if bracket {
                if body.get(c.i) != Some(&b']') {
                    continue;
                }
                len += 1;
            } else if c.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
                continue;
            }
            return Some(Found {
                ms,
                len,
                yearless: c.yearless,
            });
        }
    }
    None
}

/// Parses a whole field value: a timestamp string or an epoch number.
pub fn parse_value(text: &str, ctx: TimeContext) -> Option<i64> {
    let text = text.trim();
    parse_prefix(text, ctx)
        .filter(|f| f.len == text.len())
        .map(|f| f.ms)
}

/// Formats milliseconds since the epoch as RFC 3339 UTC with milliseconds.
pub fn format_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = app::time::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<(String, usize)> {
        parse_prefix(text, TimeContext::default()).map(|f| (format_rfc3339(f.ms), f.len))
    }

    #[test]
    fn real_formats() {
        let cases = [
            (
                "2024-01-02T03:04:05.123Z rest",
                "2024-01-02T03:04:05.123Z",
                24,
            ),
            (
                "2024-01-02 03:04:05,678 INFO",
                "2024-01-02T03:04:05.678Z",
                23,
            ),
            (
                "2024-01-02T03:04:05+01:00 x",
                "2024-01-02T02:04:05.000Z",
                25,
            ),
            (
                "2015-10-18 18:01:47,978 INFO [main]",
                "2015-10-18T18:01:47.978Z",
                23,
            ),
            ("17/06/09 20:10:40 INFO", "2017-06-09T20:10:40.000Z", 17),
            ("081109 203615 148 INFO", "2008-11-09T20:36:15.000Z", 13),
            ("20171223-22:15:29:606|Step", "2017-12-23T22:15:29.606Z", 21),
            ("03-17 16:13:38.811  1702", "2000-03-17T16:13:38.811Z", 18),
            ("Jun 14 15:16:01 combo sshd", "2000-06-14T15:16:01.000Z", 15),
            ("Jun  9 06:06:20 combo", "2000-06-09T06:06:20.000Z", 15),
            (
                "[Sun Dec 04 04:47:44 2005] [notice]",
                "2005-12-04T04:47:44.000Z",
                26,
            ),
            (
                "[10/Oct/2000:13:55:36 -0700] \"GET",
                "2000-10-10T20:55:36.000Z",
                28,
            ),
            ("1700000000 msg", "2023-11-14T22:13:20.000Z", 10),
            ("2024-02-29 00:00:01 leap", "2024-02-29T00:00:01.000Z", 19),
            ("1700000000123 msg", "2023-11-14T22:13:20.123Z", 13),
        ];
        for (text, iso, len) in cases {
            assert_eq!(at(text), Some((iso.to_owned(), len)), "{text}");
        }
    }

    #[test]
    fn not_timestamps() {
        for text in [
            "",
            "hello",
            "12345 items",
            "2024-13-02 03:04:05",
            "2024-02-31 03:04:05",
            "2023-02-29 03:04:05",
            "2024-04-31T03:04:05Z",
            "99:99:99",
            "[INFO] x",
            "123456789012345678901",
        ] {
            assert_eq!(at(text), None, "{text}");
        }
    }

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            format_rfc3339(days_from_civil(2024, 2, 29) * 86_400_000),
            "2024-02-29T00:00:00.000Z"
        );
    }
}

//! Requests and durations read from an event: access-log columns, structured fields, or the
//! message itself (`GET /api/users/42 returned 503 in 120ms`).

use std::sync::OnceLock;

use crate::analysis::events::Event;
use crate::analysis::needle::{
    NameTable, Needle, split_byte, trim_end_bytes, trim_start_bytes, words,
};

/// What an event says about an HTTP request and how long something took.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: Option<&'static str>,
    /// The path with ids collapsed (`/api/users/{id}`).
    pub path: Option<String>,
    /// The response status.
    pub status: Option<u16>,
    /// A duration the event reports, in milliseconds.
    pub duration_ms: Option<f64>,
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const METHOD_FIELDS: [&str; 5] = [
    "method",
    "req.method",
    "request.method",
    "http.method",
    "http_method",
];
const PATH_FIELDS: [&str; 9] = [
    "path",
    "req.url",
    "url",
    "request.url",
    "http.path",
    "http.target",
    "uri",
    "req.path",
    "request.path",
];
const STATUS_FIELDS: [&str; 7] = [
    "status",
    "res.statusCode",
    "statusCode",
    "status_code",
    "http.status_code",
    "response.status",
    "http.status",
];
const DURATION_FIELDS: [&str; 10] = [
    "duration_ms",
    "duration",
    "responseTime",
    "response_time",
    "latency",
    "elapsed",
    "took",
    "time_ms",
    "latency_ms",
    "elapsed_ms",
];
/// Words that introduce a duration in free text.
const DURATION_WORDS: [&str; 12] = [
    "took",
    "in",
    "after",
    "duration",
    "elapsed",
    "latency",
    "time",
    "completed",
    "finished",
    "spent",
    "responsetime",
    "response_time",
];

/// Which request fact a field name gives, and its rank among the names for that fact (lower
/// wins when an event has several).
fn field_slot(name: &str) -> Option<(usize, usize)> {
    static SLOTS: OnceLock<NameTable<(usize, usize)>> = OnceLock::new();
    SLOTS
        .get_or_init(|| {
            let lists: [&[&'static str]; 4] = [
                &METHOD_FIELDS,
                &PATH_FIELDS,
                &STATUS_FIELDS,
                &DURATION_FIELDS,
            ];
            NameTable::new(lists.into_iter().enumerate().flat_map(|(slot, names)| {
                names
                    .iter()
                    .enumerate()
                    .map(move |(rank, name)| (*name, (slot, rank)))
            }))
        })
        .get(name)
}

/// The request path of `event` with ids collapsed, as [`extract`] reads it.
pub fn path_of(event: &Event) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for (name, value) in &event.fields {
        if let Some((1, rank)) = field_slot(name)
            && best.is_none_or(|(r, _)| rank < r)
        {
            best = Some((rank, value));
        }
    }
    match best {
        Some((_, path)) if path.starts_with('/') => Some(path_template(path)),
        _ if mentions_path(&event.message) => {
            let mut request = Request::default();
            scan_request(&event.message, &mut request);
            request.path.filter(|_| request.method.is_some())
        }
        _ => None,
    }
}

/// Whether free text may hold `METHOD /path`: a word starting with `/`.
fn mentions_path(message: &str) -> bool {
    static SPACE_SLASH: Needle = Needle::new(" /");
    SPACE_SLASH.is_in(message)
}

/// Reads the request and duration of `event`.
pub fn extract(event: &Event) -> Request {
    // One pass over the fields: per fact, the value of its best-ranked name.
    let mut best: [Option<(usize, &str)>; 4] = [None; 4];
    for (name, value) in &event.fields {
        if let Some((slot, rank)) = field_slot(name)
            && best[slot].is_none_or(|(r, _)| rank < r)
        {
            best[slot] = Some((rank, value));
        }
    }
    let [method, path, status, duration] = best.map(|b| b.map(|(_, v)| v));
    let mut request = Request {
        method: method.and_then(|m| METHODS.into_iter().find(|k| k.eq_ignore_ascii_case(m))),
        path: path.filter(|p| p.starts_with('/')).map(path_template),
        status: status.and_then(parse_status),
        duration_ms: duration.and_then(parse_duration_field),
    };
    if (request.method.is_none() || request.path.is_none()) && mentions_path(&event.message) {
        scan_request(&event.message, &mut request);
    }
    if request.duration_ms.is_none() && may_hold_duration(&event.message) {
        request.duration_ms = scan_duration(&event.message);
    }
    request
}

fn parse_status(raw: &str) -> Option<u16> {
    raw.trim().parse().ok().filter(|s| (100..600).contains(s))
}

/// A duration field: a bare number is milliseconds; a unit suffix is honoured.
fn parse_duration_field(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    raw.parse::<f64>()
        .ok()
        .or_else(|| number_with_unit(raw))
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// `120ms`, `1.5s`, `300µs`, `2sec` in milliseconds.
fn number_with_unit(token: &str) -> Option<f64> {
    // A byte scan: the first byte that is no digit or dot starts a character.
    let split = token
        .bytes()
        .position(|c| !(c.is_ascii_digit() || c == b'.'))?;
    let (number, unit) = token.split_at(split);
    let value: f64 = number.parse().ok()?;
    unit_to_ms(unit).map(|factor| value * factor)
}

fn unit_to_ms(unit: &str) -> Option<f64> {
    Some(match unit {
        "ms" | "msec" | "millis" | "milliseconds" | "millisecond" => 1.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1000.0,
        "us" | "µs" | "μs" | "microseconds" => 0.001,
        "ns" | "nanoseconds" => 0.000_001,
        "m" | "min" | "mins" | "minutes" => 60_000.0,
        _ => return None,
    })
}

/// Cheap test for [`scan_duration`]: a number (digits and dots) followed, after at most one
/// space, by the first byte of a unit (`ms`, `s`, `us`, `ns`, `min`, `µs`).
///
/// It looks at every byte with its neighbours in one branch-free pass, which costs about a
/// quarter fewer instructions on typical messages than walking from number to number; only a
/// number's last byte can be followed by a unit. A number may end in a dot (`5.ms`), so a dot
/// after a digit or a dot counts too, which lets a few texts without a number through
/// (`a.. ms`): [`scan_duration`] decides.
fn may_hold_duration(message: &str) -> bool {
    let b = message.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let edge = |k: usize| {
        let prev = k.checked_sub(1).map_or(0, at);
        duration_hint(prev, at(k), at(k + 1), at(k + 2))
    };
    if b.len() < 4 {
        return (0..b.len()).any(edge);
    }
    // Byte k with its previous byte and the two after it, for k in 1..=len-3; the first byte and
    // the last two are settled apart (the very last can end no number followed by a unit).
    let inner = b
        .iter()
        .zip(&b[1..])
        .zip(&b[2..])
        .zip(&b[3..])
        .fold(false, |any, (((&prev, &c), &next), &after)| {
            any | duration_hint(prev, c, next, after)
        });
    inner | edge(0) | edge(b.len() - 2)
}

/// Whether byte `c` may end a number that a unit follows (see [`may_hold_duration`]).
#[inline(always)]
fn duration_hint(prev: u8, c: u8, next: u8, after: u8) -> bool {
    let unit = |u: u8| matches!(u, b'm' | b's' | b'u' | b'n' | 0xc2 | 0xce);
    let number_end = c.is_ascii_digit() | ((c == b'.') & (prev.is_ascii_digit() | (prev == b'.')));
    number_end & (unit(next) | ((next == b' ') & unit(after)))
}

/// Punctuation that may follow a number or a unit in running text (`12 ms,`, `(3.5s)`).
const WORD_END: &[u8] = b",;)].";

/// Words of a message looked at for a request or a duration: they come early.
const MAX_SCANNED_WORDS: usize = 64;

/// Finds `METHOD /path` and a status after it in free text.
fn scan_request(message: &str, request: &mut Request) {
    let mut words = words(message).take(MAX_SCANNED_WORDS);
    while let Some(w) = words.next() {
        let word = trim_start_bytes(w, b"\"'[(");
        let Some(method) = METHODS.into_iter().find(|&m| m == word) else {
            continue;
        };
        let mut after = words.clone();
        let Some(target) = after.next().map(|t| trim_end_bytes(t, b"\"',])")) else {
            continue;
        };
        if !target.starts_with('/') {
            continue;
        }
        request.method.get_or_insert(method);
        request.path.get_or_insert_with(|| path_template(target));
        if request.status.is_none() {
            request.status = after
                .take(6)
                .map(|t| {
                    t.trim_matches(|c: char| {
                        matches!(
                            c,
                            ',' | ';' | ')' | '(' | '"' | '\'' | '[' | ']' | '=' | ':'
                        )
                    })
                })
                .map(|t| {
                    t.strip_prefix("status")
                        .unwrap_or(t)
                        .trim_start_matches(['=', ':'])
                })
                .find(|t| t.len() == 3 && t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(parse_status);
        }
        return;
    }
}

/// Finds a duration introduced by a word such as "took" or "in", or written `duration=12ms`.
fn scan_duration(message: &str) -> Option<f64> {
    let mut words = words(message).take(MAX_SCANNED_WORDS).peekable();
    // The (up to) three words before the one at hand, in any order.
    let mut before = [""; 3];
    let mut seen = 0usize;
    while let Some(raw) = words.next() {
        let (key, value) = match split_key(raw) {
            Some((k, v)) if !v.is_empty() => (Some(k), v),
            _ => (None, raw),
        };
        let token = trim_start_bytes(trim_end_bytes(value, WORD_END), b"([");
        // Only these can start a number `f64` parses (`12`, `.5`, `-3`, `inf`, `NaN`): most
        // words are ruled out by their first byte.
        let numeric = matches!(
            token.as_bytes().first(),
            Some(b'0'..=b'9' | b'.' | b'+' | b'-' | b'i' | b'I' | b'n' | b'N')
        );
        let ms = if numeric {
            number_with_unit(token).or_else(|| {
                let unit = trim_end_bytes(words.peek()?, WORD_END);
                let factor = unit_to_ms(unit)?;
                token.parse::<f64>().ok().map(|v| v * factor)
            })
        } else {
            None
        };
        // `took inf ms` is no duration: percentiles need finite numbers.
        if let Some(ms) = ms.filter(|v| v.is_finite()) {
            let introduced = key.is_some_and(|k| is_duration_key(&k.to_ascii_lowercase()))
                || before[..seen.min(3)].iter().any(|w| {
                    let w = w.trim_end_matches([':', '=']);
                    DURATION_WORDS.iter().any(|d| d.eq_ignore_ascii_case(w))
                });
            if introduced {
                return Some(ms);
            }
        }
        before[seen % 3] = raw;
        seen += 1;
    }
    None
}

/// `word.split_once('=')`, else `word.split_once(':')`, in one byte scan.
fn split_key(word: &str) -> Option<(&str, &str)> {
    let mut colon = None;
    for (i, &c) in word.as_bytes().iter().enumerate() {
        if c == b'=' {
            return Some((&word[..i], &word[i + 1..]));
        }
        if c == b':' && colon.is_none() {
            colon = Some(i);
        }
    }
    colon.map(|i| (&word[..i], &word[i + 1..]))
}

/// `duration`, `took`, `latency_ms`, `response_time`, `elapsedTime`: a key that names a duration.
fn is_duration_key(key: &str) -> bool {
    let key = key.trim_end_matches("_ms").trim_end_matches("ms");
    DURATION_WORDS.contains(&key) && key != "in" && key != "after"
        || [
            "duration",
            "latency",
            "elapsed",
            "took",
            "response_time",
            "responsetime",
            "elapsedtime",
        ]
        .iter()
        .any(|w| key.ends_with(w))
}

/// Collapses ids in a path: `/api/users/42/orders/9f8e…` → `/api/users/{id}/orders/{id}`; the
/// query string is dropped.
pub fn path_template(path: &str) -> String {
    let end = path.bytes().position(|b| b == b'?' || b == b'#');
    let path = &path[..end.unwrap_or(path.len())];
    let mut out = String::with_capacity(path.len());
    for (i, segment) in split_byte(path, b'/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        // Fingerprinted assets keep their name and extension: `app.3c906668.js` → `app.{id}.js`.
        let dotted_id = |piece: &str| piece.len() >= 6 && is_id_segment(piece);
        if segment.as_bytes().contains(&b'.') && split_byte(segment, b'.').any(dotted_id) {
            for (j, piece) in split_byte(segment, b'.').enumerate() {
                if j > 0 {
                    out.push('.');
                }
                out.push_str(if dotted_id(piece) { "{id}" } else { piece });
            }
        } else if is_id_segment(segment) {
            out.push_str("{id}");
        } else {
            out.push_str(segment);
        }
    }
    out
}

fn is_id_segment(s: &str) -> bool {
    if s.is_empty() || is_version(s) {
        return false;
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let hex = s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    digits == s.len()
        || (hex && s.len() >= 8 && digits > 0)
        || (digits >= 3 && digits * 2 >= s.len())
        || s.contains('@')
}

/// `v2`, `1.4.2`, `v1.2`: an API or file version, not an id (`10.0.0.12` is).
fn is_version(s: &str) -> bool {
    let digits = s.strip_prefix(['v', 'V']).unwrap_or(s);
    !digits.is_empty()
        && digits.len() <= 12
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && (digits.contains('.') || digits.len() < s.len())
        // Four parts is an IPv4 address.
        && digits.split('.').count() <= 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::generated;

    fn event(message: &str, fields: &[(&str, &str)]) -> Event {
        Event::with_fields(message, fields)
    }

    /// The duration pre-check as a walk over the numbers of the text, as it once was.
    fn may_hold_duration_by_walk(message: &str) -> bool {
        let b = message.as_bytes();
        let mut i = 0;
        while let Some(d) = b[i..].iter().position(u8::is_ascii_digit) {
            let mut j = i + d;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                j += 1;
            }
            if b.get(j) == Some(&b' ') {
                j += 1;
            }
            if matches!(b.get(j), Some(b'm' | b's' | b'u' | b'n' | 0xc2 | 0xce)) {
                return true;
            }
            i = j.max(i + d + 1);
            if i >= b.len() {
                break;
            }
        }
        false
    }

    #[test]
    fn duration_pre_check_lets_through_every_text_the_walk_did() {
        // Generated texts over the bytes that matter, plus a few written ones.
        let alphabet: &[&str] = &[
            "1", "9", ".", " ", "m", "s", "u", "n", "x", "µ", "μ", "é", "a",
        ];
        let mut texts: Vec<String> = [
            "",
            "5",
            "5m",
            "5 ms",
            "5.ms",
            "1.5 s",
            "a.. ms",
            "took 12ms",
            "v1.2 now",
            "x 3 y",
            "..m",
            "9",
            "9 ",
            " 9 s",
            "300µs",
            "2 μs",
            "ends with 7",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        texts.extend(generated::texts(alphabet, 0x2545_f491_4f6c_dd1d, 9, 20_000));
        for text in &texts {
            let (walk, quick) = (may_hold_duration_by_walk(text), may_hold_duration(text));
            assert!(
                !walk || quick,
                "{text:?}: the pre-check must not drop a duration"
            );
            // Where the pre-check lets more through, the scan finds nothing there.
            if quick && !walk {
                assert_eq!(scan_duration(text), None, "{text:?}");
            }
        }
        assert!(may_hold_duration("took 12ms"));
        assert!(!may_hold_duration("no numbers here"));
        assert!(!may_hold_duration("id 12 done"));
    }

    #[test]
    fn split_key_is_split_once_at_equals_then_colon() {
        for word in [
            "a=b", "a:b", "a:b=c", "a=b:c", "=x", "x=", "plain", "é:ü", "a::b", "",
        ] {
            let expected = word.split_once('=').or_else(|| word.split_once(':'));
            assert_eq!(split_key(word), expected, "{word:?}");
        }
    }

    #[test]
    fn from_access_log_fields() {
        let r = extract(&event(
            "GET /api/users/42 503",
            &[
                ("method", "GET"),
                ("path", "/api/users/42"),
                ("status", "503"),
                ("duration_ms", "734.000"),
            ],
        ));
        assert_eq!(r.method, Some("GET"));
        assert_eq!(r.path.as_deref(), Some("/api/users/{id}"));
        assert_eq!(r.status, Some(503));
        assert_eq!(r.duration_ms, Some(734.0));
    }

    #[test]
    fn from_free_text() {
        let r = extract(&event(
            "request POST /v1/orders/8f14e45f-ceea-467f-a0e6-2f3f2b8a9c11 returned 500 after 1.5s",
            &[],
        ));
        assert_eq!(r.method, Some("POST"));
        assert_eq!(r.path.as_deref(), Some("/v1/orders/{id}"));
        assert_eq!(
            path_template("/static/app.3c906668.js"),
            "/static/app.{id}.js"
        );
        assert_eq!(
            path_template("/img/a0411cce29e9.webp?w=2"),
            "/img/{id}.webp"
        );
        assert_eq!(path_template("/api/v1.2.3/x"), "/api/v1.2.3/x");
        assert_eq!(path_template("/i/692c56b22081.webp"), "/i/{id}.webp");
        assert_eq!(path_template("/hosts/10.0.0.12"), "/hosts/{id}");
        assert_eq!(r.status, Some(500));
        assert_eq!(r.duration_ms, Some(1500.0));
        assert_eq!(
            extract(&event("query took 250 ms", &[])).duration_ms,
            Some(250.0)
        );
        assert_eq!(
            extract(&event("done duration=12ms rows=3", &[])).duration_ms,
            Some(12.0)
        );
        assert_eq!(
            extract(&event("retrying in 5 items", &[])).duration_ms,
            None
        );
    }

    #[test]
    fn numbers_in_every_form_f64_reads_are_durations() {
        // Each first byte the duration scan lets through, with and without a unit word.
        for (message, ms) in [
            ("took .5s", 500.0),
            ("took +3 ms", 3.0),
            ("took -0 ms", 0.0),
            ("took 250 ms", 250.0),
            ("elapsed: 1.5 s", 1500.0),
        ] {
            assert_eq!(scan_duration(message), Some(ms), "{message}");
        }
        assert_eq!(scan_duration("took inf ms"), None);
        assert_eq!(scan_duration("took NaN ms"), None);
        assert_eq!(scan_duration("took 1e400 ms after 2 tries"), None);
        assert_eq!(scan_duration("took ms ms"), None);
    }
}

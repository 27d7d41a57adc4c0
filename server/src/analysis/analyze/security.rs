//! Security signals: attack attempts in requests (SQL injection, XSS, path traversal, command
//! injection), scanners, authentication failures and brute force, rate-limit hits, and personal
//! data or secrets written to logs — always reported with redacted samples.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::keywords::{self, Hit, Keyword};
use crate::analysis::classify::Severity;
use crate::analysis::events::Event;
use crate::analysis::timestamp::format_rfc3339;

/// Failures from one source within this window count toward brute force.
const BRUTE_WINDOW_MS: i64 = 5 * 60 * 1000;
/// Failures within the window that make brute force.
const BRUTE_THRESHOLD: usize = 10;
/// Samples kept per finding.
const SAMPLES: usize = 3;
/// Sources (IPs, accounts) tracked per counter.
const MAX_KEYS: usize = 100_000;

/// Kinds of finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// SQL in a request.
    SqlInjection,
    /// Script in a request.
    Xss,
    /// `../` or system files in a request.
    PathTraversal,
    /// Shell syntax in a request.
    CommandInjection,
    /// A known scanner or probes for well-known sensitive paths.
    Scanner,
    /// Many authentication failures from one source or against one account.
    BruteForce,
    /// Authentication failures in general.
    AuthFailures,
    /// Requests refused by a rate limiter.
    RateLimit,
    /// E-mail addresses in log text.
    PiiEmail,
    /// Payment card numbers (Luhn-valid) in log text.
    PiiCardNumber,
    /// API keys, tokens and passwords in log text.
    Secret,
}

impl Kind {
    fn severity(self) -> Severity {
        match self {
            Self::SqlInjection
            | Self::CommandInjection
            | Self::BruteForce
            | Self::PiiCardNumber
            | Self::Secret => Severity::High,
            Self::Xss | Self::PathTraversal | Self::PiiEmail => Severity::Medium,
            Self::Scanner | Self::AuthFailures | Self::RateLimit => Severity::Low,
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::SqlInjection => "SQL injection attempts in request paths or parameters",
            Self::Xss => "Cross-site scripting payloads in requests",
            Self::PathTraversal => "Path traversal attempts (../, system files)",
            Self::CommandInjection => "Shell command injection attempts in requests",
            Self::Scanner => "Vulnerability scanners and probes for sensitive paths",
            Self::BruteForce => {
                "Repeated authentication failures from one source or against one account"
            }
            Self::AuthFailures => "Authentication failures",
            Self::RateLimit => "Requests refused by rate limiting",
            Self::PiiEmail => "E-mail addresses written to logs",
            Self::PiiCardNumber => "Payment card numbers written to logs",
            Self::Secret => "API keys, tokens or passwords written to logs",
        }
    }
}

/// One security finding.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// What was found.
    pub kind: Kind,
    /// How serious it is.
    pub severity: Severity,
    /// In words.
    pub description: &'static str,
    /// Events involved.
    pub count: u64,
    /// First event.
    pub first_seen: Option<String>,
    /// Last event.
    pub last_seen: Option<String>,
    /// The sources (client IPs or accounts) with the most events: `[source, events]`.
    pub sources: Vec<(String, u64)>,
    /// Example events, with personal data and secrets redacted: `[line, text]`.
    pub samples: Vec<(u64, String)>,
}

#[derive(Default)]
struct Acc {
    count: u64,
    first: Option<i64>,
    last: Option<i64>,
    sources: FxHashMap<String, u64>,
    samples: Vec<(u64, String)>,
}

impl Acc {
    fn add(&mut self, event: &Event, source: Option<&str>, sample: impl FnOnce() -> String) {
        self.count += 1;
        if let Some(ts) = event.timestamp {
            self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
            self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
        }
        if let Some(source) = source
            && (self.sources.len() < MAX_KEYS || self.sources.contains_key(source))
        {
            *self.sources.entry(source.to_owned()).or_default() += 1;
        }
        if self.samples.len() < SAMPLES {
            self.samples.push((event.line, sample()));
        }
    }
}

/// Sliding windows of failure times per source, to find brute force.
#[derive(Default)]
struct Windows {
    recent: FxHashMap<String, VecDeque<i64>>,
    peak: FxHashMap<String, usize>,
    untimed: FxHashMap<String, usize>,
}

impl Windows {
    /// Records a failure; returns how many failures of `key` the current window holds.
    fn add(&mut self, key: &str, ts: Option<i64>) -> usize {
        if self.recent.len() >= MAX_KEYS && !self.recent.contains_key(key) {
            return 0;
        }
        match ts {
            Some(ts) => {
                let window = self.recent.entry(key.to_owned()).or_default();
                // Time went backwards (another file, unsorted lines): start a new window.
                if window.back().is_some_and(|&last| last > ts) {
                    window.clear();
                }
                window.push_back(ts);
                while window.front().is_some_and(|&t| ts - t > BRUTE_WINDOW_MS) {
                    window.pop_front();
                }
                let held = window.len();
                let peak = self.peak.entry(key.to_owned()).or_default();
                *peak = (*peak).max(held);
                held
            }
            None => {
                let n = self.untimed.entry(key.to_owned()).or_default();
                *n += 1;
                *n
            }
        }
    }

    fn offenders(&self) -> impl Iterator<Item = (&String, usize)> {
        self.peak
            .iter()
            .chain(self.untimed.iter())
            .filter(|(_, n)| **n >= BRUTE_THRESHOLD)
            .map(|(k, n)| (k, *n))
    }
}

/// Collects security signals event by event.
#[derive(Default)]
pub struct Scanner {
    found: BTreeMap<Kind, Acc>,
    brute: Windows,
    brute_events: Acc,
}

const SQLI: [&str; 12] = [
    "' or '1'='1",
    "' or 1=1",
    "\" or \"1\"=\"1",
    " or 1=1",
    "union select",
    "union all select",
    "sleep(",
    "benchmark(",
    "information_schema",
    "xp_cmdshell",
    "'; drop table",
    "waitfor delay",
];
const XSS: [&str; 8] = [
    "<script",
    "javascript:",
    "onerror=",
    "onload=",
    "<img src=",
    "alert(",
    "document.cookie",
    "<svg/onload",
];
const TRAVERSAL: [&str; 6] = [
    "../",
    "..\\",
    "/etc/passwd",
    "/etc/shadow",
    "win.ini",
    "boot.ini",
];
const COMMAND: [&str; 10] = [
    ";cat ",
    "|cat ",
    "; ls",
    "$(",
    "`",
    "&& wget",
    "| nc ",
    "/bin/sh",
    "/bin/bash",
    "cmd.exe",
];
const SCANNER_AGENTS: [&str; 11] = [
    "sqlmap",
    "nikto",
    "nmap",
    "masscan",
    "zgrab",
    "nuclei",
    "dirbuster",
    "gobuster",
    "wpscan",
    "acunetix",
    "openvas",
];
const PROBE_PATHS: [&str; 9] = [
    "/.env",
    "/.git/",
    "/wp-login.php",
    "/wp-admin",
    "/phpmyadmin",
    "/.aws/",
    "/server-status",
    "/actuator",
    "/admin.php",
];
pub(super) const AUTH_FAILURES: [&str; 9] = [
    "failed password",
    "authentication failed",
    "authentication failure",
    "login failed",
    "invalid user",
    "invalid password",
    "bad credentials",
    "unauthorized",
    "access denied",
];

pub(super) const RATE_LIMIT: [&str; 2] = ["rate limit", "too many requests"];

impl Scanner {
    /// Looks at one event; `keywords` are those of its message ([`keywords::scan`]).
    pub fn add(&mut self, event: &Event, status: Option<u16>, keywords: &[Hit]) {
        let mut client = Client::new(event);
        self.scan_request(event, &mut client);
        let has = |k: Keyword| keywords.iter().any(|h| h.keyword == k);
        let (auth_word, rate_word) = (has(Keyword::AuthFailure), has(Keyword::RateLimit));
        let auth_failure = status.is_some_and(|s| s == 401) || auth_word;
        if auth_failure {
            let account = account_of(event, &event.message);
            let client = client.get();
            let source = client.or(account.as_deref());
            self.found
                .entry(Kind::AuthFailures)
                .or_default()
                .add(event, source, || redact(&event.message));
            let mut in_burst = false;
            for key in [
                client.map(|c| format!("ip {c}")),
                account.map(|a| format!("account {a}")),
            ]
            .into_iter()
            .flatten()
            {
                in_burst |= self.brute.add(&key, event.timestamp) >= BRUTE_THRESHOLD;
            }
            // Only failures inside a burst count toward brute force.
            if in_burst {
                self.brute_events
                    .add(event, None, || redact(&event.message));
            }
        }
        if status == Some(429) || rate_word {
            self.found
                .entry(Kind::RateLimit)
                .or_default()
                .add(event, client.get(), || redact(&event.message));
        }
        self.scan_pii(event, &mut client, keywords);
    }

    fn scan_request(&mut self, event: &Event, client: &mut Client) {
        let target = match (event.field("path"), event.field("query")) {
            (Some(p), Some(q)) => format!("{p}?{q}"),
            (Some(p), None) => p.to_owned(),
            _ => return,
        };
        let decoded = percent_decode(&target);
        // One case-insensitive scan for every attack pattern.
        let mut hits = [false; 5];
        for hit in request_patterns().find_overlapping_iter(decoded.as_ref()) {
            let (kind, probe) = REQUEST_PATTERN_KINDS[hit.pattern().as_usize()];
            hits[kind] |= !probe || hit.start() == 0;
        }
        let agent = event.field("user_agent").unwrap_or("");
        hits[4] |= scanner_agents().is_match(agent);
        let kinds = [
            Kind::SqlInjection,
            Kind::Xss,
            Kind::PathTraversal,
            Kind::CommandInjection,
            Kind::Scanner,
        ];
        for (kind, hit) in kinds.into_iter().zip(hits) {
            if hit {
                let line = || {
                    format!(
                        "{} {}",
                        event.field("method").unwrap_or("?"),
                        redact(&target)
                    )
                };
                self.found
                    .entry(kind)
                    .or_default()
                    .add(event, client.get(), line);
            }
        }
    }

    fn scan_pii(&mut self, event: &Event, client: &mut Client, keywords: &[Hit]) {
        let text = &event.message;
        let kinds = [
            (Kind::PiiEmail, contains_email(text)),
            (Kind::PiiCardNumber, contains_card_number(text)),
            (Kind::Secret, !secrets_with(text, keywords).is_empty()),
        ];
        for (kind, hit) in kinds {
            if hit {
                self.found
                    .entry(kind)
                    .or_default()
                    .add(event, client.get(), || redact(text));
            }
        }
    }

    /// The findings, most severe first.
    pub fn finish(mut self) -> Vec<Finding> {
        let offenders: Vec<(String, u64)> = self
            .brute
            .offenders()
            .map(|(k, n)| (k.clone(), n as u64))
            .collect();
        if !offenders.is_empty() {
            let acc = self.found.entry(Kind::BruteForce).or_default();
            acc.count = self.brute_events.count;
            acc.first = self.brute_events.first;
            acc.last = self.brute_events.last;
            acc.samples = std::mem::take(&mut self.brute_events.samples);
            acc.sources = offenders.into_iter().collect();
        }
        let mut findings: Vec<Finding> = self
            .found
            .into_iter()
            .map(|(kind, acc)| {
                let mut sources: Vec<(String, u64)> = acc.sources.into_iter().collect();
                sources.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                sources.truncate(10);
                Finding {
                    kind,
                    severity: kind.severity(),
                    description: kind.description(),
                    count: acc.count,
                    first_seen: acc.first.map(format_rfc3339),
                    last_seen: acc.last.map(format_rfc3339),
                    sources,
                    samples: acc.samples,
                }
            })
            .collect();
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| b.count.cmp(&a.count))
                .then(a.kind.cmp(&b.kind))
        });
        findings
    }
}

/// For each pattern of [`request_patterns`]: the index of its kind in `scan_request`'s `hits`,
/// and whether it must start the target (a probe path).
static REQUEST_PATTERN_KINDS: LazyLock<Vec<(usize, bool)>> = LazyLock::new(|| {
    [&SQLI[..], &XSS, &TRAVERSAL, &COMMAND, &PROBE_PATHS]
        .iter()
        .enumerate()
        .flat_map(|(kind, list)| list.iter().map(move |_| (kind, kind == 4)))
        .collect()
});

/// Every attack and probe pattern, in kind order, compiled once.
fn request_patterns() -> &'static AhoCorasick {
    static PATTERNS: OnceLock<AhoCorasick> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let all = SQLI
            .iter()
            .chain(&XSS)
            .chain(&TRAVERSAL)
            .chain(&COMMAND)
            .chain(&PROBE_PATHS);
        AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .build(all)
            .expect("fixed literals always compile")
    })
}

fn scanner_agents() -> &'static AhoCorasick {
    static AGENTS: OnceLock<AhoCorasick> = OnceLock::new();
    AGENTS.get_or_init(|| {
        AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .build(SCANNER_AGENTS)
            .expect("fixed literals always compile")
    })
}

fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(percent_decode_owned(s))
}

fn percent_decode_owned(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The client address of an event: its `client_ip` field, or else the first IPv4 address in its
/// message, looked for only when a finding needs it.
struct Client<'a> {
    event: &'a Event,
    found: Option<Option<&'a str>>,
}

impl<'a> Client<'a> {
    fn new(event: &'a Event) -> Self {
        Self { event, found: None }
    }

    fn get(&mut self) -> Option<&'a str> {
        let event = self.event;
        *self.found.get_or_insert_with(|| {
            event
                .field("client_ip")
                .or_else(|| first_ipv4(&event.message))
        })
    }
}

fn first_ipv4(text: &str) -> Option<&str> {
    // Runs of digits and dots, found with byte scans (every such byte is ASCII, so each run
    // lies on character boundaries).
    let b = text.as_bytes();
    let in_run = |c: &u8| c.is_ascii_digit() || *c == b'.';
    let mut i = 0;
    while let Some(start) = b[i..].iter().position(in_run).map(|n| i + n) {
        let end = b[start..]
            .iter()
            .position(|c| !in_run(c))
            .map_or(b.len(), |n| start + n);
        if is_ipv4(&text[start..end]) {
            return Some(&text[start..end]);
        }
        i = end;
    }
    None
}

fn is_ipv4(word: &str) -> bool {
    let mut parts = 0;
    for part in word.split('.') {
        parts += 1;
        if parts > 4 || part.is_empty() || part.len() > 3 || part.parse::<u8>().is_err() {
            return false;
        }
    }
    parts == 4
}

/// The account an authentication failure names: a `user` field, or "for [invalid user] X".
fn account_of(event: &Event, message: &str) -> Option<String> {
    if let Some(user) = event.field("user").or_else(|| event.field("username")) {
        return Some(user.to_owned());
    }
    let words: Vec<&str> = message.split_whitespace().collect();
    let at = words.iter().position(|w| w.eq_ignore_ascii_case("for"))?;
    let mut name = words.get(at + 1)?;
    if name.eq_ignore_ascii_case("invalid")
        && words
            .get(at + 2)
            .is_some_and(|w| w.eq_ignore_ascii_case("user"))
    {
        name = words.get(at + 3)?;
    } else if name.eq_ignore_ascii_case("user") {
        name = words.get(at + 2)?;
    }
    let name = name.trim_matches(|c: char| matches!(c, '"' | '\'' | ':' | ','));
    (!name.is_empty() && name.len() <= 64).then(|| name.to_owned())
}

fn is_email(word: &str) -> bool {
    let Some((local, domain)) = word.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'))
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// Cuts `text` at whitespace and at the punctuation that surrounds e-mail addresses and
/// values in messages (quotes, brackets, `,`, `;`, `=`).
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '\'' | '<' | '>' | '(' | ')' | ',' | ';' | '=' | '[' | ']'
            )
    })
}

fn contains_email(text: &str) -> bool {
    text.contains('@') && tokens(text).any(is_email)
}

/// Luhn check over the digits of `s`.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Runs of 13–19 digits (spaces and dashes allowed between groups) that pass Luhn.
fn card_numbers(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    // A card number has 13 digits or more; one count over the whole text settles most texts.
    if digit_count(b) < 13 {
        return found;
    }
    let mut i = 0;
    while let Some(n) = b[i..].iter().position(u8::is_ascii_digit) {
        i += n;
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            // Digits inside a word (`a3f4`, `v2`) start nothing: skip the rest of the word.
            i += b[i..]
                .iter()
                .position(|c| !c.is_ascii_alphanumeric())
                .unwrap_or(b.len() - i);
            continue;
        }
        let (next, card) = card_run(b, i);
        found.extend(card);
        i = next;
    }
    found
}

/// The number of ASCII digits in `b`. Counted in byte-wide lanes, 255 bytes at a time so no
/// lane overflows: vector code without widening, several times cheaper than a wider counter.
fn digit_count(b: &[u8]) -> usize {
    b.chunks(255)
        .map(|chunk| {
            usize::from(
                chunk
                    .iter()
                    .fold(0u8, |n, c| n.wrapping_add(u8::from(c.is_ascii_digit()))),
            )
        })
        .sum()
}

/// Reads the run of digits starting at `start` (single spaces or dashes may separate them);
/// returns where the run ends and, when it is a card number, its span.
fn card_run(b: &[u8], start: usize) -> (usize, Option<(usize, usize)>) {
    // Up to 19 digits are kept; a longer run is no card number.
    let mut digits = [0u8; 20];
    let mut n = 0;
    let (mut i, mut end) = (start, start);
    while i < b.len()
        && (b[i].is_ascii_digit()
            || ((b[i] == b' ' || b[i] == b'-') && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
    {
        if b[i].is_ascii_digit() {
            digits[n.min(19)] = b[i] - b'0';
            n += 1;
            end = i + 1;
        }
        i += 1;
    }
    let boundary = !b.get(end).is_some_and(u8::is_ascii_alphanumeric);
    // Card networks start with 3 (Amex, Diners), 4 (Visa), 5 (Mastercard) or 6 (Discover);
    // this also keeps 13-digit epoch milliseconds (which start with 1) out.
    let network = matches!(digits[0], 3..=6);
    let card = boundary && network && (13..=19).contains(&n) && luhn(&digits[..n]);
    (i, card.then_some((start, end)))
}

fn contains_card_number(text: &str) -> bool {
    !card_numbers(text).is_empty()
}

const SECRET_KEYS: [&str; 8] = [
    "password",
    "passwd",
    "pwd",
    "secret",
    "api_key",
    "apikey",
    "token",
    "access_token",
];

/// The length of the longest of [`SECRET_KEYS`].
const SECRET_KEY_MAX: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < SECRET_KEYS.len() {
        if SECRET_KEYS[i].len() > max {
            max = SECRET_KEYS[i].len();
        }
        i += 1;
    }
    max
};

/// The byte ranges of secrets in `text`.
fn secrets(text: &str) -> Vec<(usize, usize)> {
    let mut keywords = Vec::new();
    keywords::scan(text, &mut keywords);
    secrets_with(text, &keywords)
}

/// The byte ranges of secrets in `text`, whose keywords are `keywords`.
fn secrets_with(text: &str, keywords: &[Hit]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let b = text.as_bytes();
    let word_end = |from: usize| {
        text[from..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '&' | ')' | ']')
            })
            .map_or(text.len(), |n| from + n)
    };
    // Literal markers, found in one pass: key prefixes, bearer tokens, JWTs, URL credentials.
    for &Hit {
        keyword,
        start: i,
        end: marker_end,
    } in keywords
    {
        let Keyword::Secret(marker) = keyword else {
            continue;
        };
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        match marker {
            "Bearer " => {
                let end = word_end(marker_end);
                if end - marker_end >= 16 {
                    found.push((marker_end, end));
                }
            }
            "eyJ" => {
                let end = word_end(i);
                if boundary && text[i..end].matches('.').count() == 2 && end - i > 30 {
                    found.push((i, end));
                }
            }
            "://" => {
                let rest = &text[marker_end..word_end(marker_end)];
                if let Some(at) = rest.find('@')
                    && let Some(colon) = rest[..at].find(':')
                {
                    found.push((marker_end + colon + 1, marker_end + at));
                }
            }
            prefix => {
                let end = word_end(i);
                if boundary && end - i >= prefix.len() + 8 {
                    found.push((i, end));
                }
            }
        }
    }
    // `key=value` and `key: value` where the key names a secret.
    for sep in memchr::memchr2_iter(b'=', b':', b) {
        // The key: the word characters before the separator. No secret key is longer than
        // `SECRET_KEY_MAX`, so the walk back stops one byte beyond that. A byte of a non-ASCII
        // character is no word character, so the key starts on a character boundary.
        let window = sep.saturating_sub(SECRET_KEY_MAX + 1);
        let key_start = b[window..sep]
            .iter()
            .rposition(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
            .map_or(window, |at| window + at + 1);
        let key = &b[key_start..sep];
        if key.len() < 3
            || !SECRET_KEYS
                .iter()
                .any(|k| key.eq_ignore_ascii_case(k.as_bytes()))
        {
            continue;
        }
        let value_start = sep + 1 + usize::from(b.get(sep + 1) == Some(&b' '));
        let end = word_end(value_start);
        if end > value_start {
            found.push((value_start, end));
        }
    }
    found.sort_unstable();
    found
}

/// Every literal marker of a secret: the key prefixes, then the other markers.
pub(super) const SECRET_MARKERS: [&str; 12] = [
    "AKIA", "sk_live_", "sk_test_", "rk_live_", "ghp_", "gho_", "xoxb-", "xoxp-", "glpat-",
    "Bearer ", "eyJ", "://",
];

#[cfg(test)]
fn contains_secret(text: &str) -> bool {
    !secrets(text).is_empty()
}

/// The byte ranges of personal data and secrets in `text`, each named (`email`, `ip`, `card`,
/// `secret`), in order and without overlaps: what must not leave the server.
pub fn pii_spans(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut spans: Vec<(usize, usize, &'static str)> = Vec::new();
    spans.extend(card_numbers(text).into_iter().map(|(s, e)| (s, e, "card")));
    spans.extend(secrets(text).into_iter().map(|(s, e)| (s, e, "secret")));
    for word in tokens(text) {
        let start = word.as_ptr() as usize - text.as_ptr() as usize;
        let trimmed = word.trim_end_matches(['.', ':', '!', '?']);
        if is_email(trimmed) {
            spans.push((start, start + trimmed.len(), "email"));
        } else if trimmed.parse::<std::net::IpAddr>().is_ok()
            || trimmed.parse::<std::net::SocketAddr>().is_ok()
        {
            spans.push((start, start + trimmed.len(), "ip"));
        }
    }
    spans.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
    let mut out: Vec<(usize, usize, &'static str)> = Vec::with_capacity(spans.len());
    for span in spans {
        match out.last_mut() {
            Some(last) if span.0 < last.1 => last.1 = last.1.max(span.1),
            _ => out.push(span),
        }
    }
    out
}

/// Replaces e-mail addresses, card numbers and secrets with redacted forms.
pub fn redact(text: &str) -> String {
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    for (s, e) in card_numbers(text) {
        let digits: String = text[s..e].chars().filter(char::is_ascii_digit).collect();
        spans.push((s, e, format!("**** {}", &digits[digits.len() - 4..])));
    }
    for (s, e) in secrets(text) {
        let keep: String = text[s..e].chars().take(4).collect();
        let shown = if e - s > 12 && !text[..s].ends_with(':') {
            format!("{keep}…[redacted]")
        } else {
            "[redacted]".to_owned()
        };
        spans.push((s, e, shown));
    }
    for word in tokens(text) {
        let start = word.as_ptr() as usize - text.as_ptr() as usize;
        if is_email(word) {
            let (local, domain) = word.split_once('@').unwrap_or((word, ""));
            let first: String = local.chars().take(1).collect();
            spans.push((start, start + word.len(), format!("{first}***@{domain}")));
        }
    }
    spans.sort_by_key(|s| s.0);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e, replacement) in spans {
        if s < at {
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str(&replacement);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definitions the byte scans replaced, to compare with.
    fn first_ipv4_by_split(text: &str) -> Option<&str> {
        text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .find(|w| is_ipv4(w))
    }

    /// Card numbers found by trying every byte as a start, as the scan once did.
    fn card_numbers_by_walk(text: &str) -> Vec<(usize, usize)> {
        let b = text.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
                i += 1;
                continue;
            }
            let (next, card) = card_run(b, i);
            found.extend(card);
            i = next;
        }
        found
    }

    #[test]
    fn byte_scans_agree_with_plain_definitions() {
        let texts = [
            "",
            "no digits here",
            "from 10.0.0.1 port 22",
            "é10.0.0.1é and 300.1.1.1 then 1.2.3.4.5 and 192.168.1.20",
            "v1.2.3 build 4.5.6.7:8080",
            "card 4111 1111 1111 1111 and a4111111111111111 and 4111-1111-1111-1111x",
            "x5500000000000004 5500 0000 0000 0004, ids 1700000000123, 378282246310005",
            "ünïcode 4111111111111111é tail 6011111111111117",
        ];
        for text in texts {
            assert_eq!(first_ipv4(text), first_ipv4_by_split(text), "{text}");
            assert_eq!(card_numbers(text), card_numbers_by_walk(text), "{text}");
        }
        fn found(t: &str) -> Vec<&str> {
            card_numbers(t).into_iter().map(|(s, e)| &t[s..e]).collect()
        }
        assert_eq!(
            found(texts[5]),
            ["4111 1111 1111 1111"],
            "inside a word or followed by a letter is no card"
        );
        assert_eq!(found(texts[6]), ["5500 0000 0000 0004", "378282246310005"]);
        assert_eq!(found(texts[7]), ["4111111111111111", "6011111111111117"]);
    }

    /// Adds `event` as the analysis does: with the keywords of its message.
    fn add(s: &mut Scanner, event: &Event, status: Option<u16>) {
        let mut hits = Vec::new();
        keywords::scan(&event.message, &mut hits);
        s.add(event, status, &hits);
    }

    fn access(path: &str, query: &str, agent: &str, status: &str) -> Event {
        let mut fields = vec![
            ("client_ip".into(), "198.51.100.7".to_owned()),
            ("method".into(), "GET".to_owned()),
            ("path".into(), path.to_owned()),
            ("status".into(), status.to_owned()),
            ("user_agent".into(), agent.to_owned()),
        ];
        if !query.is_empty() {
            fields.push(("query".into(), query.to_owned()));
        }
        Event {
            message: format!("GET {path} {status}"),
            fields,
            ..Event::default()
        }
    }

    fn kinds(findings: &[Finding]) -> Vec<Kind> {
        let mut k: Vec<Kind> = findings.iter().map(|f| f.kind).collect();
        k.sort();
        k
    }

    #[test]
    fn attacks_in_requests() {
        let mut s = Scanner::default();
        add(
            &mut s,
            &access(
                "/products",
                "id=1%27%20OR%20%271%27=%271",
                "sqlmap/1.7",
                "400",
            ),
            Some(400),
        );
        add(
            &mut s,
            &access(
                "/search",
                "q=%3Cscript%3Ealert(1)%3C/script%3E",
                "Mozilla",
                "400",
            ),
            Some(400),
        );
        add(
            &mut s,
            &access("/static/../../etc/passwd", "", "curl", "404"),
            Some(404),
        );
        add(
            &mut s,
            &access("/cgi-bin/x", "cmd=;cat%20/etc/shadow", "Mozilla", "404"),
            Some(404),
        );
        add(
            &mut s,
            &access("/products/1", "", "Mozilla", "200"),
            Some(200),
        );
        let f = s.finish();
        assert_eq!(
            kinds(&f),
            [
                Kind::SqlInjection,
                Kind::Xss,
                Kind::PathTraversal,
                Kind::CommandInjection,
                Kind::Scanner
            ]
        );
        assert!(f.iter().all(|f| f.sources[0].0 == "198.51.100.7"));
    }

    #[test]
    fn brute_force_needs_many_failures_in_a_window() {
        let mut s = Scanner::default();
        for i in 0..12 {
            let e = Event {
                timestamp: Some(i * 10_000),
                message: format!(
                    "Failed password for root from 203.0.113.9 port {} ssh2",
                    40000 + i
                ),
                ..Event::default()
            };
            add(&mut s, &e, None);
        }
        let f = s.finish();
        let brute = f
            .iter()
            .find(|f| f.kind == Kind::BruteForce)
            .expect("brute force");
        // The 10th, 11th and 12th failures fall inside a burst of ten within five minutes.
        assert_eq!(brute.count, 3);
        assert!(brute.sources.iter().any(|(k, _)| k == "ip 203.0.113.9"));
        assert!(brute.sources.iter().any(|(k, _)| k == "account root"));
    }

    #[test]
    fn multibyte_text_before_a_separator_is_safe() {
        // Found by fuzzing: a key scan that stepped into the middle of a character.
        assert!(!contains_secret("worker.\u{fffd}\u{fffd}tasks: Task done"));
        assert!(contains_secret("é token=abcdef1234"));
        assert!(contains_secret("ü\u{fffd}access_token: abcdef1234"));
    }

    #[test]
    fn secret_keys_are_whole_words() {
        let cases = [
            ("password=hunter22", true),
            ("user_password=hunter22", false),
            ("my_access_token=abcdef", false),
            ("_access_token=abcdef", false),
            ("x access_token=abcdef", true),
            ("PASSWORD: hunter22", true),
            ("apikeys=abcdef", false),
            ("ab=cd", false),
            ("=value", false),
        ];
        for (text, secret) in cases {
            assert_eq!(contains_secret(text), secret, "{text}");
        }
        assert_eq!(SECRET_KEY_MAX, "access_token".len());
    }

    #[test]
    fn digits_are_counted_past_a_lane_width() {
        for n in [0, 1, 254, 255, 256, 600] {
            assert_eq!(digit_count("7".repeat(n).as_bytes()), n);
            assert_eq!(digit_count(format!("a{}é", "9".repeat(n)).as_bytes()), n);
        }
    }

    #[test]
    fn personal_data_is_found_and_redacted() {
        let text = "charge for jane.doe@example.com card 4111 1111 1111 1111 token=sk_live_abcdefghijklmnop url https://bob:hunter22@db.internal/x";
        assert!(contains_email(text) && contains_card_number(text) && contains_secret(text));
        let r = redact(text);
        assert!(
            !r.contains("jane.doe") && r.contains("j***@example.com"),
            "{r}"
        );
        assert!(
            !r.contains("4111 1111 1111 1111") && r.contains("**** 1111"),
            "{r}"
        );
        assert!(!r.contains("abcdefghijklmnop"), "{r}");
        assert!(!r.contains("hunter22"), "{r}");
        assert!(
            !contains_card_number("order 1234567890123 shipped"),
            "not Luhn-valid"
        );
    }
}

//! Masking: turning the variable parts of a message (numbers, ids, addresses, paths, URLs,
//! sizes, times) into `<*>` while keeping the text around them as a person would write it.
//!
//! Each rule is a small hand-written scanner rather than a regular expression: the rules need
//! look-behind, and they run once per distinct message on the engine's hot path.

use std::borrow::Cow;

use super::needle::{Needle, words};

/// The placeholder for a variable.
pub const VAR: &str = "<*>";

/// Top-level domains that make a dotted name a host name rather than a class name.
const TLDS: [&str; 26] = [
    "com", "net", "org", "edu", "gov", "io", "cn", "uk", "de", "jp", "ru", "br", "eu", "mx", "om",
    "info", "biz", "us", "fr", "it", "nl", "au", "in", "kr", "tw", "hk",
];

const fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Masks `message`: collapses whitespace, then applies the rules in order (URL, host name,
/// size, time of day, Windows path, absolute path, numeric word).
pub fn mask(message: &str) -> String {
    let mut out = String::new();
    Masker::default().mask_into(message, &mut out);
    out
}

/// Masks many messages with two buffers reused from one message to the next: a rule that
/// rewrites a message writes into one while the next rule reads the other, so rewriting costs
/// no allocation once they have grown.
#[derive(Default)]
pub struct Masker {
    /// The text as the last rule that matched rewrote it.
    text: String,
    /// Where the next rule writes.
    next: String,
}

impl Masker {
    /// [`mask`], written into `out` (cleared first).
    pub fn mask_into(&mut self, message: &str, out: &mut String) {
        let Self { text, next } = self;
        let collapsed = collapse_whitespace(message);
        let mut rewritten = false;
        let rules: [Rule; 6] = [urls, hosts, sizes, times, windows_paths, absolute_paths];
        for rule in rules {
            let s: &str = if rewritten { text } else { &collapsed };
            next.clear();
            if rule(s, next) {
                std::mem::swap(text, next);
                rewritten = true;
            }
        }
        out.clear();
        numeric_words(if rewritten { text } else { &collapsed }, out);
    }
}

/// A masking rule: writes `s` rewritten into `out` (empty on entry) and returns true, or
/// returns false when nothing matched.
///
/// Each rule matches only around a byte most messages lack or hold once or twice (`://`, `.`,
/// `B`, `:`, `:\`, `/`): it finds those bytes and offers its matcher only the positions where a
/// match could start, in ascending order. The matcher checks everything itself, so offering
/// more positions would change nothing.
type Rule = fn(&str, &mut String) -> bool;

/// Byte classes for [`numeric_words`], one table lookup per byte.
const DIGIT: u8 = 1;
/// `a`-`f` or `A`-`F`.
const HEX_LETTER: u8 = 2;
/// Where words split.
const SPLIT: u8 = 4;

static CLASS: [u8; 256] = {
    let mut class = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut k = 0;
        if b.is_ascii_digit() {
            k |= DIGIT;
        }
        if matches!(b, b'a'..=b'f' | b'A'..=b'F') {
            k |= HEX_LETTER;
        }
        if is_split_delimiter(b) {
            k |= SPLIT;
        }
        class[c] = k;
        c += 1;
    }
    class
};

fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

/// Where words start: each ASCII letter or digit that does not follow a letter, digit or `_`.
fn word_starts(s: &str) -> impl Iterator<Item = usize> + '_ {
    let b = s.as_bytes();
    (0..b.len())
        .filter(move |&i| b[i].is_ascii_alphanumeric() && (i == 0 || !is_word_byte(b[i - 1])))
}

/// Where the run of bytes `run_byte` accepts that ends right before `end` starts.
fn run_start(b: &[u8], end: usize, run_byte: impl Fn(u8) -> bool) -> usize {
    b[..end]
        .iter()
        .rposition(|&c| !run_byte(c))
        .map_or(0, |i| i + 1)
}

/// Where the run of bytes `run_byte` accepts that starts at `start` ends.
fn run_end(b: &[u8], start: usize, run_byte: impl Fn(u8) -> bool) -> usize {
    b[start..]
        .iter()
        .position(|&c| !run_byte(c))
        .map_or(b.len(), |n| start + n)
}

/// Trims and turns every whitespace run into one space; borrows when that needs no more than a
/// trim.
pub fn collapse_whitespace(text: &str) -> Cow<'_, str> {
    static DOUBLE_SPACE: Needle = Needle::new("  ");
    let b = text.as_bytes();
    // Whole-slice folds without early exits, cheaper than a search in short texts.
    let controls = b
        .iter()
        .fold(false, |any, &c| any | is_ascii_control_space(c));
    let ascii = b.iter().fold(0u8, |all, &c| all | c) < 0x80;
    if !controls && (ascii || !text.chars().any(|c| c.is_whitespace() && !c.is_ascii())) {
        // Only spaces separate words: trim them, then shorten each run of two or more (found
        // by a search, as most texts have none or one or two) to one.
        let trimmed = text.trim_matches(' ');
        // Most texts have no run at all, which one more fold tells more cheaply than a search.
        let t = trimmed.as_bytes();
        let runs = t
            .iter()
            .zip(t.iter().skip(1))
            .fold(false, |any, (&x, &y)| any | ((x == b' ') & (y == b' ')));
        if !runs {
            return Cow::Borrowed(trimmed);
        }
        let runs = DOUBLE_SPACE.find_iter(trimmed);
        let mut out = String::with_capacity(trimmed.len());
        let mut copied = 0;
        for at in runs {
            // A later match inside a run already shortened.
            if at < copied {
                continue;
            }
            // The run's first space stays; the trim leaves a word after every run.
            out.push_str(&trimmed[copied..=at]);
            copied = at + t[at..].iter().take_while(|&&c| c == b' ').count();
        }
        out.push_str(&trimmed[copied..]);
        return Cow::Owned(out);
    }
    // Other whitespace: join the words (cut at bytes when the text is ASCII).
    let mut out = String::with_capacity(text.len());
    for word in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// `\t`, `\n`, vertical tab, form feed or `\r`.
fn is_ascii_control_space(c: u8) -> bool {
    c.wrapping_sub(b'\t') < 5
}

/// Writes `s` into `out` with the spans `find` reports replaced, and returns true; returns
/// false, writing nothing, when nothing matched. `find(s, i)` returns `Some((end,
/// replacement))` for a match starting at byte `i`; it is asked only at `starts` (ascending),
/// the positions where the rule's matches may start.
fn rewrite(
    s: &str,
    starts: impl IntoIterator<Item = usize>,
    find: impl Fn(&[u8], usize) -> Option<(usize, Replacement)>,
    out: &mut String,
) -> bool {
    let b = s.as_bytes();
    let mut matched = false;
    let mut copied = 0;
    for i in starts {
        // A start inside the previous match is part of it.
        if i < copied {
            continue;
        }
        if let Some((end, replacement)) = find(b, i) {
            if !matched {
                out.reserve(s.len());
                matched = true;
            }
            out.push_str(&s[copied..i]);
            match replacement {
                Replacement::Var => out.push_str(VAR),
                Replacement::KeepPrefix(n) => {
                    out.push_str(&s[i..i + n]);
                    out.push_str(VAR);
                }
            }
            copied = end;
        }
    }
    if matched {
        out.push_str(&s[copied..]);
    }
    matched
}

enum Replacement {
    /// The whole span becomes `<*>`.
    Var,
    /// The first `n` bytes stay, the rest becomes `<*>`.
    KeepPrefix(usize),
}

fn prev(b: &[u8], i: usize) -> Option<u8> {
    i.checked_sub(1).map(|j| b[j])
}

/// `scheme://rest`: the rest becomes `<*>` when it holds a digit (`hdfs://<*>`); URLs without
/// digits stay literal.
fn urls(s: &str, out: &mut String) -> bool {
    static SCHEME_END: Needle = Needle::new("://");
    let b = s.as_bytes();
    // A match starts in the run of scheme bytes before a `://`.
    let starts = SCHEME_END
        .find_iter(s)
        .flat_map(|end| run_start(b, end, is_scheme_byte)..end);
    rewrite(s, starts, url_at, out)
}

fn url_at(b: &[u8], i: usize) -> Option<(usize, Replacement)> {
    // A scheme starts with a letter at a word boundary.
    if !b[i].is_ascii_alphabetic() || prev(b, i).is_some_and(is_word_byte) {
        return None;
    }
    let mut j = i + 1;
    while j < b.len() && is_scheme_byte(b[j]) {
        j += 1;
    }
    if !b[j..].starts_with(b"://") {
        return None;
    }
    let rest_start = j + 3;
    let mut k = rest_start;
    while k < b.len()
        && !b[k].is_ascii_whitespace()
        && !matches!(b[k], b']' | b')' | b'}' | b'>' | b',' | b';' | b'\'' | b'"')
    {
        k += 1;
    }
    (k > rest_start && b[rest_start..k].iter().any(u8::is_ascii_digit))
        .then_some((k, Replacement::KeepPrefix(rest_start - i)))
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')
}

fn is_host_run_byte(b: u8) -> bool {
    is_word_byte(b) || b == b'.' || b == b'-'
}

/// Dotted names ending in a known top-level domain (`db-3.eu-west.example.com`).
fn hosts(s: &str, out: &mut String) -> bool {
    let b = s.as_bytes();
    // A match starts where a run of host bytes holding a dot starts; the run's later dots
    // offer nothing more.
    let mut covered = 0;
    let starts = memchr::memchr_iter(b'.', b).filter_map(move |dot| {
        if dot < covered {
            return None;
        }
        covered = run_end(b, dot, is_host_run_byte);
        Some(run_start(b, dot, is_host_run_byte))
    });
    rewrite(s, starts, host_at, out)
}

fn host_at(b: &[u8], i: usize) -> Option<(usize, Replacement)> {
    // A host inside a URL belongs to the URL rule, which keeps digit-free URLs whole.
    if !b[i].is_ascii_alphanumeric()
        || prev(b, i).is_some_and(is_host_run_byte)
        || i >= 3 && &b[i - 3..i] == b"://"
    {
        return None;
    }
    let mut end = i;
    let mut dotted = false;
    while end < b.len() && is_host_run_byte(b[end]) {
        dotted |= b[end] == b'.';
        end += 1;
    }
    if !dotted {
        return None;
    }
    // Host bytes are ASCII: the run is cut at bytes, without decoding it.
    let run = &b[i..end];
    let last_dot = memchr::memrchr(b'.', run)?;
    let (labels, tld) = (&run[..last_dot], &run[last_dot + 1..]);
    // Every label starts with a letter or digit (none is empty, none starts with `-` or `_`).
    let labels_ok = || {
        labels
            .split(|&c| c == b'.')
            .all(|l| l.first().is_some_and(u8::is_ascii_alphanumeric))
    };
    (TLDS.iter().any(|t| t.as_bytes() == tld) && labels_ok()).then_some((end, Replacement::Var))
}

fn digits_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// `5.2 KB`, `17GiB`, `512 B`.
fn sizes(s: &str, out: &mut String) -> bool {
    memchr::memchr(b'B', s.as_bytes()).is_some() && rewrite(s, word_starts(s), size_at, out)
}

fn size_at(b: &[u8], i: usize) -> Option<(usize, Replacement)> {
    if !b[i].is_ascii_digit() || prev(b, i).is_some_and(|p| is_word_byte(p) || p == b'.') {
        return None;
    }
    let mut j = digits_end(b, i);
    if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        j = digits_end(b, j + 1);
    }
    if b.get(j) == Some(&b' ') {
        j += 1;
    }
    let unit_end = if matches!(b.get(j), Some(b'K' | b'M' | b'G' | b'T' | b'P')) {
        let k = j + 1 + usize::from(b.get(j + 1) == Some(&b'i'));
        (b.get(k) == Some(&b'B')).then_some(k + 1)?
    } else if b.get(j) == Some(&b'B') {
        j + 1
    } else {
        return None;
    };
    (!b.get(unit_end).is_some_and(|c| is_word_byte(*c))).then_some((unit_end, Replacement::Var))
}

/// `9:05:33`, `23:59:01,123` as one variable.
fn times(s: &str, out: &mut String) -> bool {
    let b = s.as_bytes();
    // A match starts where the digits before a `:` start.
    let starts =
        memchr::memchr_iter(b':', b).map(|colon| run_start(b, colon, |c| c.is_ascii_digit()));
    rewrite(s, starts, time_at, out)
}

fn time_at(b: &[u8], i: usize) -> Option<(usize, Replacement)> {
    if !b[i].is_ascii_digit() || prev(b, i).is_some_and(|p| is_word_byte(p) || p == b':') {
        return None;
    }
    let h = digits_end(b, i);
    if h - i > 2 || b.get(h) != Some(&b':') {
        return None;
    }
    let m = digits_end(b, h + 1);
    if m - h - 1 != 2 || b.get(m) != Some(&b':') {
        return None;
    }
    let sec = digits_end(b, m + 1);
    if sec - m - 1 != 2 {
        return None;
    }
    let free = |k: usize| !b.get(k).is_some_and(|c| is_word_byte(*c) || *c == b':');
    if matches!(b.get(sec), Some(b'.' | b',')) && b.get(sec + 1).is_some_and(u8::is_ascii_digit) {
        let frac = digits_end(b, sec + 1);
        if free(frac) {
            return Some((frac, Replacement::Var));
        }
    }
    free(sec).then_some((sec, Replacement::Var))
}

fn path_byte(b: u8) -> bool {
    !b.is_ascii_whitespace()
        && !matches!(
            b,
            b',' | b';'
                | b'\''
                | b'"'
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'|'
                | b'='
                | b'<'
                | b'>'
        )
}

/// `C:\Windows\system32\x.dll`.
fn windows_paths(s: &str, out: &mut String) -> bool {
    static DRIVE: Needle = Needle::new(":\\");
    // A match starts at the drive letter before a `:\`.
    let starts = DRIVE.find_iter(s).filter_map(|colon| colon.checked_sub(1));
    rewrite(s, starts, windows_path_at, out)
}

fn windows_path_at(b: &[u8], i: usize) -> Option<(usize, Replacement)> {
    if !b[i].is_ascii_alphabetic()
        || prev(b, i).is_some_and(is_word_byte)
        || !b[i + 1..].starts_with(b":\\")
    {
        return None;
    }
    let mut j = i + 3;
    while j < b.len() && path_byte(b[j]) {
        j += 1;
    }
    Some((j, Replacement::Var))
}

/// `/var/log/app.log`, `/10.251.42.84` (a lone `/` stays).
fn absolute_paths(s: &str, out: &mut String) -> bool {
    rewrite(
        s,
        memchr::memchr_iter(b'/', s.as_bytes()),
        absolute_path_at,
        out,
    )
}

fn absolute_path_at(b: &[u8], i: usize) -> Option<(usize, Replacement)> {
    if b[i] != b'/'
        || prev(b, i).is_some_and(|p| {
            is_word_byte(p) || matches!(p, b'.' | b'/' | b'-' | b'<' | b'>' | b'*')
        })
        || b.get(i + 1) == Some(&b'/')
    {
        return None;
    }
    let mut j = i + 1;
    while j < b.len() && path_byte(b[j]) && b[j] != b':' {
        j += 1;
    }
    (j - i > 1).then_some((j, Replacement::Var))
}

const fn is_split_delimiter(b: u8) -> bool {
    b == b' '
        || matches!(
            b,
            b',' | b';'
                | b':'
                | b'='
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'"'
                | b'\''
                | b'|'
                | b'#'
                | b'/'
        )
}

/// Words (split on spaces and structural punctuation) that hold a number, an id with digits or a
/// hex string become `<*>`; trailing `.!?` stays outside. Appends the result to `out`.
fn numeric_words(s: &str, out: &mut String) {
    let b = s.as_bytes();
    // Text up to here is in `out`; unchanged runs are copied whole.
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if class(b[i]) & SPLIT != 0 {
            i += 1;
            continue;
        }
        let start = i;
        // The word's byte classes, gathered as it is cut: most words are settled by them
        // without a closer look.
        let mut seen = 0u8;
        while i < b.len() {
            let class = class(b[i]);
            if class & SPLIT != 0 {
                break;
            }
            seen |= class;
            i += 1;
        }
        // Without a digit, only eight or more hex letters make a variable; they are counted
        // only in words that long which hold one.
        if seen & DIGIT == 0
            && (seen & HEX_LETTER == 0
                || i - start < 8
                || b[start..i]
                    .iter()
                    .filter(|&&c| class(c) & HEX_LETTER != 0)
                    .count()
                    < 8)
        {
            continue;
        }
        let word = &s[start..i];
        if word == VAR {
            continue;
        }
        let core = word.trim_end_matches(['.', '!', '?']);
        if !core.is_empty() && is_numeric_word(core) {
            out.push_str(&s[copied..start]);
            out.push_str(VAR);
            copied = start + core.len();
        }
    }
    out.push_str(&s[copied..]);
}

fn is_hex_segment(b: &[u8]) -> bool {
    if b.len() > 2 && (b.starts_with(b"0x") || b.starts_with(b"0X")) {
        return b[2..].iter().all(u8::is_ascii_hexdigit);
    }
    if b.len() < 6 || !b.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    b.iter().any(u8::is_ascii_digit) || b.len() >= 8
}

/// Whether a word is a variable by its shape alone.
pub fn is_numeric_word(w: &str) -> bool {
    // Without a digit, only a segment of eight or more hex letters (`deadbeef`) qualifies.
    if w.len() < 8 && !w.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    // A word that starts with a digit is one (`42`, `10000ms`, `3.5GB`, `42%`, `10.0.0.1`,
    // `2xx`): its first segment below starts with a digit.
    if w.as_bytes()[0].is_ascii_digit() {
        return true;
    }
    w.as_bytes()
        .split(|c| matches!(c, b'-' | b'_' | b'.' | b':' | b'@' | b'$' | b'+' | b'\\'))
        .filter(|seg| !seg.is_empty())
        .any(|seg| seg[0].is_ascii_digit() || is_hex_segment(seg) || is_token(seg))
}

/// A long run of letters and digits that keeps switching between the two
/// (`tl7o18oybfeizw7cjquq8pc6`, a session key or a base62 id). Names with digits switch far
/// less often (`Log4jConfigurationFactory2`, `Base64Decoder`).
fn is_token(b: &[u8]) -> bool {
    if b.len() < 12 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let switches = b
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    switches >= 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::generated;

    /// A rule's matcher: `Some((end, replacement))` for a match starting at byte `i` of `b`.
    type Matcher = fn(&[u8], usize) -> Option<(usize, Replacement)>;

    /// `rule` applied to `text`: the rewritten text, or `None` when nothing matched.
    fn applied(rule: Rule, text: &str) -> Option<String> {
        let mut out = String::new();
        rule(text, &mut out).then_some(out)
    }

    /// [`rewrite`] of `text` at `starts`: the rewritten text, or `None` when nothing matched.
    fn rewritten(
        text: &str,
        starts: impl IntoIterator<Item = usize>,
        at: Matcher,
    ) -> Option<String> {
        let mut out = String::new();
        let matched = rewrite(text, starts, at, &mut out);
        assert!(
            matched || out.is_empty(),
            "nothing is written without a match"
        );
        matched.then_some(out)
    }

    #[test]
    fn rules_offer_every_position_a_match_can_start_at() {
        // Each rule offers its matcher only some positions; offering all of them must give the
        // same text. Texts are built from fragments around each rule's trigger bytes.
        let fragments = [
            "",
            "a",
            "7",
            "é",
            " ",
            ".",
            ":",
            "/",
            "-",
            "_",
            "B",
            "://",
            ":\\",
            "12:34:56",
            "9:05:33,123",
            "1:2",
            "x.example.com",
            "a.b.c.io",
            "-a.com",
            ".com",
            "db-3.eu.net",
            "http://10.0.0.1:80/x",
            "hdfs+x.y://a",
            "s3://bucket",
            "C:\\Win\\x.dll",
            "5.2 KB",
            "17GiB",
            "512 B",
            "3B",
            "/var/log",
            "//x",
            "a/b",
            "<*>",
            "://1.2",
            "12:3",
            "x:\\",
        ];
        let rules: [(Rule, Matcher); 6] = [
            (urls, url_at),
            (hosts, host_at),
            (sizes, size_at),
            (times, time_at),
            (windows_paths, windows_path_at),
            (absolute_paths, absolute_path_at),
        ];
        let mut checked = 0;
        for x in fragments {
            for y in fragments {
                for z in ["", " ", ".", ":", "/", "1", "a"] {
                    let text = format!("{x}{z}{y}{z}{x}");
                    for (i, (rule, at)) in rules.iter().enumerate() {
                        let masked = applied(*rule, &text);
                        assert_eq!(
                            masked,
                            rewritten(&text, 0..text.len(), *at),
                            "rule {i} on {text:?}"
                        );
                        // Every matcher but the absolute-path one checks the word boundary
                        // itself, so offering every position is offering every word start.
                        if i < 5 {
                            assert_eq!(
                                masked,
                                rewritten(&text, word_starts(&text), *at),
                                "rule {i} on {text:?} at word starts"
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 10_000);
    }

    #[test]
    fn numbers_ids_and_addresses() {
        let cases = [
            (
                "Received block blk_-1608999687919862906 of size 91178 from /10.250.10.6",
                "Received block <*> of size <*> from <*>",
            ),
            (
                "src: /10.251.30.6:33145 dest: /10.251.30.6:50010",
                "src: <*>:<*> dest: <*>:<*>",
            ),
            (
                "Connecting to driver: spark://CoarseGrainedScheduler@10.10.34.11:48069",
                "Connecting to driver: spark://<*>",
            ),
            (
                "See http://wiki.apache.org/hadoop/NoRouteToHost",
                "See http://wiki.apache.org/hadoop/NoRouteToHost",
            ),
            (
                "took 65020ms (threshold=30000ms)",
                "took <*> (threshold=<*>)",
            ),
            (
                "workerEnv.init() ok /etc/httpd/conf/workers2.properties",
                "workerEnv.init() ok <*>",
            ),
            (
                "jk2_init() Found child 6725 in scoreboard slot 10",
                "jk2_init() Found child <*> in scoreboard slot <*>",
            ),
            (
                "Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
                "Accepted password for fztu from <*> port <*> ssh2",
            ),
            (
                "estimated size 5.2 KB, free 317.5 MB",
                "estimated size <*>, free <*>",
            ),
            (
                "session 0x14ed93111f20005 closed at 12:01:02.123.",
                "session <*> closed at <*>.",
            ),
            ("job_1445144423722_0020Job Transitioned", "<*> Transitioned"),
            (
                "resolved ns1.example.com and C:\\Windows\\x.dll",
                "resolved <*> and <*>",
            ),
            ("set to -1 with mask=ffffffff", "set to <*> with mask=<*>"),
            (
                "HttpServer2$QuotingInputFilter in Slf4jLogger",
                "HttpServer2$QuotingInputFilter in Slf4jLogger",
            ),
            (
                "ssh2: RSA SHA256:tl7o18oybfeizw7cjquq8pc6satnvju9d7mhxy4x4xy",
                "ssh2: RSA SHA256:<*>",
            ),
            (
                "Log4jConfigurationFactory2 uses PKCS12 and Base64Decoder",
                "Log4jConfigurationFactory2 uses PKCS12 and Base64Decoder",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(mask(input), expected, "{input}");
        }
    }

    #[test]
    fn words_without_digits_need_eight_hex_letters_in_one_part() {
        for (word, masked) in [
            ("deadbee", "deadbee"),
            ("deadbeef", "<*>"),
            ("DeadBeefCafe", "<*>"),
            ("dead-beef", "dead-beef"),
            ("feedback!", "feedback!"),
            ("acceded.", "acceded."),
            ("faded-decade", "faded-decade"),
            ("cafebabe.", "<*>."),
        ] {
            assert_eq!(mask(word), masked, "{word}");
        }
    }

    #[test]
    fn whitespace_is_collapsed() {
        assert_eq!(mask("  to delete  blk_1\tnow "), "to delete <*> now");
        for text in [
            "already single",
            "",
            " lead",
            "trail ",
            "two  spaces",
            "tab\there",
            "vertical\u{b}tab",
            "form\u{c}feed",
            "\tcr\r\nlf  ",
            "a\u{1c}b\u{1f}c",
            "no\u{a0}break",
            "ümlaut und ß",
            "\r\n",
        ] {
            let expected = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let collapsed = collapse_whitespace(text);
            assert_eq!(collapsed, expected, "{text:?}");
            if matches!(collapsed, Cow::Borrowed(_)) {
                assert!(text.contains(expected.as_str()), "{text:?}");
            }
        }
        // Spaces at the ends only: the text itself, trimmed, without a copy.
        for text in ["already single", " lead", "trail ", "  both ends  "] {
            assert!(
                matches!(collapse_whitespace(text), Cow::Borrowed(_)),
                "{text:?}"
            );
        }
        // Generated texts of spaces, other whitespace (ASCII and Unicode) and words.
        let alphabet = [
            " ", "  ", "\t", "\n", "\r", "\u{b}", "a", "bc", "é", "\u{a0}", "\u{3000}", "\u{85}",
            ".",
        ];
        for text in generated::texts(&alphabet, 0x2545_f491_4f6c_dd1d, 12, 20_000) {
            let expected = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(collapse_whitespace(&text), expected, "{text:?}");
        }
    }
}

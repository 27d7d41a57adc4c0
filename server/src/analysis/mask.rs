//! Masking: turning the variable parts of a message (numbers, ids, addresses, paths, URLs,
//! sizes, times) into `<*>` while keeping the text around them as a person would write it.
//!
//! Each rule is a small hand-written scanner rather than a regular expression: the rules need
//! look-behind, and they run once per distinct message on the engine's hot path.

use std::borrow::Cow;

use super::needle::Needle;

/// The placeholder for a variable.
pub const VAR: &str = "<*>";

/// Top-level domains that make a dotted name a host name rather than a class name.
const TLDS: [&str; 26] = [
    "com", "net", "org", "edu", "gov", "io", "cn", "uk", "de", "jp", "ru", "br", "eu", "mx", "om",
    "info", "biz", "us", "fr", "it", "nl", "au", "in", "kr", "tw", "hk",
];

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Masks `message`: collapses whitespace, then applies the rules in order (URL, host name,
/// size, time of day, Windows path, absolute path, numeric word).
pub fn mask(message: &str) -> String {
    let mut s = collapse_whitespace(message);
    let mut words = word_starts(&s);
    let rules: [Rule; 6] = [urls, hosts, sizes, times, windows_paths, absolute_paths];
    for rule in rules {
        if let Some(next) = rule(&s, &words) {
            s = Cow::Owned(next);
            words = word_starts(&s);
        }
    }
    numeric_words(&s)
}

/// A masking rule: `s` rewritten, or `None` when nothing matched. It is given where the words
/// of `s` start ([`word_starts`]), found once for all the rules.
type Rule = fn(&str, &[usize]) -> Option<String>;

/// Where words start: each ASCII letter or digit that does not follow a letter, digit or `_`.
/// Every rule but the absolute-path one matches only there.
fn word_starts(s: &str) -> Vec<usize> {
    /// Per byte: 1 for `_`, 3 for a letter or digit (bit 0: a word byte; bit 1: may start one).
    static CLASS: [u8; 256] = {
        let mut class = [0u8; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            class[c] = if b.is_ascii_alphanumeric() {
                3
            } else if b == b'_' {
                1
            } else {
                0
            };
            c += 1;
        }
        class
    };
    // At most every other byte starts a word, so the pushes never grow the vector.
    let mut starts = Vec::with_capacity(s.len() / 2 + 1);
    let mut in_word = 0u8;
    for (i, &c) in s.as_bytes().iter().enumerate() {
        let class = CLASS[usize::from(c)];
        if class & !(in_word << 1) & 2 != 0 {
            starts.push(i);
        }
        in_word = class & 1;
    }
    starts
}

/// Trims and turns every whitespace run into one space; borrows when `text` is already so.
pub fn collapse_whitespace(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    // Whole-slice folds without early exits: the compiler turns them into vector code.
    let controls = b
        .iter()
        .fold(false, |any, &c| any | (c.wrapping_sub(b'\t') < 5));
    let high = b.iter().fold(0u8, |all, &c| all | c);
    let doubled = b
        .iter()
        .zip(b.get(1..).unwrap_or_default())
        .fold(false, |any, (&x, &y)| any | (x == b' ' && y == b' '));
    let collapsed = b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && !controls
        && !doubled
        && (high < 0x80 || !text.chars().any(|c| c.is_whitespace() && !c.is_ascii()));
    if collapsed {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// Rewrites `s` by replacing the spans `find` reports; `None` when nothing matched.
/// `find(s, i)` returns `Some((end, replacement))` for a match starting at byte `i`; it is
/// asked only at `starts` (ascending), the positions where the rule's matches may start.
fn rewrite(
    s: &str,
    starts: impl IntoIterator<Item = usize>,
    find: impl Fn(&[u8], usize) -> Option<(usize, Replacement)>,
) -> Option<String> {
    let b = s.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    for i in starts {
        // A start inside the previous match is part of it.
        if i < copied {
            continue;
        }
        if let Some((end, replacement)) = find(b, i) {
            let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
            o.push_str(&s[copied..i]);
            match replacement {
                Replacement::Var => o.push_str(VAR),
                Replacement::KeepPrefix(n) => {
                    o.push_str(&s[i..i + n]);
                    o.push_str(VAR);
                }
            }
            copied = end;
        }
    }
    let mut o = out?;
    o.push_str(&s[copied..]);
    Some(o)
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
fn urls(s: &str, words: &[usize]) -> Option<String> {
    static SCHEME_END: Needle = Needle::new("://");
    SCHEME_END.find(s)?;
    rewrite(s, words.iter().copied(), |b, i| {
        // A scheme starts with a letter at a word boundary.
        if !b[i].is_ascii_alphabetic() || prev(b, i).is_some_and(is_word_byte) {
            return None;
        }
        let mut j = i + 1;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'+' | b'.' | b'-')) {
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
    })
}

fn is_host_run_byte(b: u8) -> bool {
    is_word_byte(b) || b == b'.' || b == b'-'
}

/// Dotted names ending in a known top-level domain (`db-3.eu-west.example.com`).
fn hosts(s: &str, words: &[usize]) -> Option<String> {
    if !s.contains('.') {
        return None;
    }
    rewrite(s, words.iter().copied(), |b, i| {
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
        let run = std::str::from_utf8(&b[i..end]).ok()?;
        let (labels, tld) = run.rsplit_once('.')?;
        let labels_ok = || {
            labels.split('.').all(|l| {
                l.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric) && !l.contains('.')
            })
        };
        (TLDS.contains(&tld) && labels_ok()).then_some((end, Replacement::Var))
    })
}

fn digits_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// `5.2 KB`, `17GiB`, `512 B`.
fn sizes(s: &str, words: &[usize]) -> Option<String> {
    if !s.contains('B') {
        return None;
    }
    rewrite(s, words.iter().copied(), |b, i| {
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
    })
}

/// `9:05:33`, `23:59:01,123` as one variable.
fn times(s: &str, words: &[usize]) -> Option<String> {
    if !s.contains(':') {
        return None;
    }
    rewrite(s, words.iter().copied(), |b, i| {
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
        if matches!(b.get(sec), Some(b'.' | b',')) && b.get(sec + 1).is_some_and(u8::is_ascii_digit)
        {
            let frac = digits_end(b, sec + 1);
            if free(frac) {
                return Some((frac, Replacement::Var));
            }
        }
        free(sec).then_some((sec, Replacement::Var))
    })
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
fn windows_paths(s: &str, words: &[usize]) -> Option<String> {
    static DRIVE: Needle = Needle::new(":\\");
    DRIVE.find(s)?;
    rewrite(s, words.iter().copied(), |b, i| {
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
    })
}

/// `/var/log/app.log`, `/10.251.42.84` (a lone `/` stays).
fn absolute_paths(s: &str, _words: &[usize]) -> Option<String> {
    if !s.contains('/') {
        return None;
    }
    rewrite(s, memchr::memchr_iter(b'/', s.as_bytes()), |b, i| {
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
    })
}

fn is_split_delimiter(b: u8) -> bool {
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
/// hex string become `<*>`; trailing `.!?` stays outside.
fn numeric_words(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    // Text up to here is in `out`; unchanged runs are copied whole.
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if is_split_delimiter(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_split_delimiter(b[i]) {
            i += 1;
        }
        let word = &s[start..i];
        if word == VAR {
            continue;
        }
        let core = word.trim_end_matches(['.', ',', ';', ':', '!', '?']);
        if !core.is_empty() && is_numeric_word(core) {
            out.push_str(&s[copied..start]);
            out.push_str(VAR);
            copied = start + core.len();
        }
    }
    out.push_str(&s[copied..]);
    out
}

/// A number with a unit: `10000ms`, `3.5GB`, `42%`.
fn is_number_with_unit(w: &str) -> bool {
    let b = w.as_bytes();
    let mut j = digits_end(b, 0);
    if j == 0 {
        return false;
    }
    if b.get(j) == Some(&b'.') {
        let k = digits_end(b, j + 1);
        if k == j + 1 {
            return false;
        }
        j = k;
    }
    let unit = &w[j..];
    matches!(
        unit,
        "ms" | "us" | "ns" | "s" | "sec" | "secs" | "min" | "mins" | "h" | "%"
    ) || matches!(
        unit.as_bytes(),
        [b'b' | b'B']
            | [
                b'k' | b'K' | b'm' | b'M' | b'g' | b'G' | b't' | b'T',
                b'b' | b'B'
            ]
    )
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
    if is_number_with_unit(w) {
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

    #[test]
    fn word_starts_are_letters_or_digits_after_a_non_word_byte() {
        for text in [
            "",
            "a",
            "_a b_c",
            "x=1, y=_2",
            "é9 z",
            "GET /a/b?c=d",
            "__init__ 3rd",
        ] {
            let b = text.as_bytes();
            let expected: Vec<usize> = (0..b.len())
                .filter(|&i| b[i].is_ascii_alphanumeric() && (i == 0 || !is_word_byte(b[i - 1])))
                .collect();
            assert_eq!(word_starts(text), expected, "{text:?}");
        }
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
            "no\u{a0}break",
            "ümlaut und ß",
            "\r\n",
        ] {
            let expected = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let collapsed = collapse_whitespace(text);
            assert_eq!(collapsed, expected, "{text:?}");
            assert_eq!(
                matches!(collapsed, Cow::Borrowed(_)),
                expected == text,
                "{text:?} is borrowed exactly when it needs no change"
            );
        }
    }
}

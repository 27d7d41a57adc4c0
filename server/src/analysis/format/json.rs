//! One JSON object read in a single pass into flattened scalars, without a value tree.
//!
//! The object's scalar fields are handed out as they are read, fields of an object one level
//! down as `outer.inner`; arrays and deeper objects are checked and skipped. Strings without
//! escapes are borrowed from the line. What is accepted is what `serde_json` accepts for one
//! object: RFC 8259 grammar, control characters only escaped, surrogate escapes paired in the
//! strings that are kept, numbers finite. Skipped values nest to any depth without recursion.

use std::borrow::Cow;

/// A scalar field's value.
#[derive(Debug, PartialEq)]
pub(super) enum Value<'a> {
    Text(Cow<'a, str>),
    /// A number as `serde_json` writes it back: integers as written, other numbers through
    /// `f64` (`1.50` → `1.5`, `1e3` → `1000`). The standard library rounds those exactly;
    /// `serde_json` (without `float_roundtrip`) may miss the last bit of a number with more
    /// than 15 significant digits, so at the very ends of the range (within a part in 10^15 of
    /// the largest double, or among the smallest subnormals) one may read a number the other
    /// rejects as out of range or reads as 0.
    Number(Cow<'a, str>),
    Bool(bool),
}

/// A field's name: its key, after its object's key for a field of a nested object. It is
/// joined only when asked for, so a field dropped for its length costs no copy.
pub(super) struct Name<'a, 'p> {
    prefix: Option<&'p str>,
    key: Cow<'a, str>,
}

impl<'a> Name<'a, '_> {
    /// The length of the name in bytes.
    pub fn byte_len(&self) -> usize {
        self.prefix.map_or(0, |p| p.len() + 1) + self.key.len()
    }

    /// The name: `key`, or `outer.inner`.
    pub fn joined(self) -> Cow<'a, str> {
        let Some(prefix) = self.prefix else {
            return self.key;
        };
        let mut name = String::with_capacity(self.byte_len());
        name.push_str(prefix);
        name.push('.');
        name.push_str(&self.key);
        Cow::Owned(name)
    }
}

/// Reads `text`, one JSON object and nothing else, calling `keep` with each scalar field's
/// name and value in order; `None` when `text` is not one valid JSON object.
pub(super) fn flatten<'a>(
    text: &'a str,
    mut keep: impl FnMut(Name<'a, '_>, Value<'a>),
) -> Option<()> {
    let mut cursor = Cursor { text, at: 0 };
    cursor.expect(b'{')?;
    cursor.object(None, &mut keep)?;
    cursor.skip_whitespace();
    (cursor.at == text.len()).then_some(())
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_whitespace(&mut self) {
        let b = self.bytes();
        while b
            .get(self.at)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes().get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.bytes()[self.at..]
            .starts_with(word)
            .then(|| self.at += word.len())
    }

    /// The entries of an object whose `{` was just read, up to its `}`: at the top level
    /// (`prefix` `None`) object values are flattened, one level down they are skipped.
    fn object(
        &mut self,
        prefix: Option<&str>,
        keep: &mut impl FnMut(Name<'a, '_>, Value<'a>),
    ) -> Option<()> {
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.expect(b'"')?;
            let key = self.string()?;
            self.expect(b':')?;
            let value = match self.peek()? {
                b'"' => {
                    self.at += 1;
                    Some(Value::Text(self.string()?))
                }
                b'-' | b'0'..=b'9' => Some(Value::Number(self.number()?)),
                b't' => {
                    self.literal(b"true")?;
                    Some(Value::Bool(true))
                }
                b'f' => {
                    self.literal(b"false")?;
                    Some(Value::Bool(false))
                }
                b'n' => {
                    self.literal(b"null")?;
                    None
                }
                b'[' => {
                    self.skip_value()?;
                    None
                }
                b'{' => {
                    self.at += 1;
                    match prefix {
                        None => self.object(Some(&key), keep)?,
                        Some(_) => self.skip_entries()?,
                    }
                    None
                }
                _ => return None,
            };
            if let Some(value) = value {
                keep(Name { prefix, key }, value);
            }
            if self.entry_ends()? {
                return Some(());
            }
        }
    }

    /// After an entry: `true` at the object's closing brace, `false` after a comma.
    fn entry_ends(&mut self) -> Option<bool> {
        let closing = match self.peek()? {
            b'}' => true,
            b',' => false,
            _ => return None,
        };
        self.at += 1;
        Some(closing)
    }

    /// The entries of a skipped object whose `{` was just read. Its keys are decoded (a lone
    /// surrogate in one rejects the line, as it does in `serde_json`); its values are skipped.
    fn skip_entries(&mut self) -> Option<()> {
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.expect(b'"')?;
            self.string()?;
            self.expect(b':')?;
            self.skip_value()?;
            if self.entry_ends()? {
                return Some(());
            }
        }
    }

    /// Checks and skips one value of any depth, keeping the open brackets on a stack instead
    /// of recursing. Strings inside are checked for their escapes only, as `serde_json` does.
    fn skip_value(&mut self) -> Option<()> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    self.skip_string()?;
                }
                b'-' | b'0'..=b'9' => self.number_end().map(|(end, _)| self.at = end)?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                bracket @ (b'[' | b'{') => {
                    self.at += 1;
                    let close = if bracket == b'[' { b']' } else { b'}' };
                    if self.peek()? == close {
                        self.at += 1;
                    } else {
                        open.push(bracket);
                        if bracket == b'{' {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                _ => return None,
            }
            // After a value: close what ends here, then a comma leads to the next value.
            loop {
                let Some(&bracket) = open.last() else {
                    return Some(());
                };
                match (self.peek()?, bracket) {
                    (b',', _) => {
                        self.at += 1;
                        if bracket == b'{' {
                            self.skip_key()?;
                        }
                        break;
                    }
                    (b']', b'[') | (b'}', b'{') => {
                        self.at += 1;
                        open.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    fn skip_key(&mut self) -> Option<()> {
        self.expect(b'"')?;
        self.skip_string()?;
        self.expect(b':')
    }

    /// A string whose opening quote was just read, decoded.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let b = self.bytes();
        let start = self.at;
        let mut end = start + special(&b[start..])?;
        if b[end] == b'"' {
            self.at = end + 1;
            return Some(Cow::Borrowed(&self.text[start..end]));
        }
        let mut out = String::with_capacity(end - start + 16);
        let mut run = start;
        loop {
            out.push_str(&self.text[run..end]);
            if b[end] != b'\\' {
                // A control character: JSON requires it escaped.
                return None;
            }
            self.at = end + 2;
            match b.get(end + 1)? {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => out.push(self.unicode_escape()?),
                _ => return None,
            }
            run = self.at;
            end = run + special(&b[run..])?;
            if b[end] == b'"' {
                out.push_str(&self.text[run..end]);
                self.at = end + 1;
                return Some(Cow::Owned(out));
            }
        }
    }

    /// A string whose opening quote was just read, checked but not decoded.
    fn skip_string(&mut self) -> Option<()> {
        let b = self.bytes();
        loop {
            let end = self.at + special(&b[self.at..])?;
            match b[end] {
                b'"' => {
                    self.at = end + 1;
                    return Some(());
                }
                b'\\' => {
                    self.at = end + 2;
                    match b.get(end + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            self.hex4()?;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// The character of a `\u` escape whose `\u` was just read; a surrogate must be the first
    /// of a pair.
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if !(0xD800..=0xDFFF).contains(&high) {
            return char::from_u32(u32::from(high));
        }
        if high >= 0xDC00 || !self.bytes()[self.at..].starts_with(b"\\u") {
            return None;
        }
        self.at += 2;
        let low = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&low) {
            return None;
        }
        char::from_u32(0x1_0000 + ((u32::from(high - 0xD800) << 10) | u32::from(low - 0xDC00)))
    }

    fn hex4(&mut self) -> Option<u16> {
        let digits = self.bytes().get(self.at..self.at + 4)?;
        self.at += 4;
        digits.iter().try_fold(0u16, |n, &d| {
            let v = (d as char).to_digit(16)?;
            Some(n << 4 | v as u16)
        })
    }

    /// Where the number starting here ends, and whether it is an integer (no fraction, no
    /// exponent); `None` unless it follows JSON's grammar.
    fn number_end(&self) -> Option<(usize, bool)> {
        let b = self.bytes();
        let digits =
            |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
        let mut at = self.at + usize::from(b[self.at] == b'-');
        let mut integer = true;
        match b.get(at)? {
            b'0' => at += 1,
            b'1'..=b'9' => at = digits(at),
            _ => return None,
        }
        if b.get(at) == Some(&b'.') {
            integer = false;
            let end = digits(at + 1);
            if end == at + 1 {
                return None;
            }
            at = end;
        }
        if matches!(b.get(at), Some(b'e' | b'E')) {
            integer = false;
            at += 1;
            at += usize::from(matches!(b.get(at), Some(b'+' | b'-')));
            let end = digits(at);
            if end == at {
                return None;
            }
            at = end;
        }
        // A leading zero stands alone: `01` is not a number.
        (!b.get(at).is_some_and(u8::is_ascii_digit)).then_some((at, integer))
    }

    /// A number, as `serde_json` would write it back.
    fn number(&mut self) -> Option<Cow<'a, str>> {
        let (end, integer) = self.number_end()?;
        let source = &self.text[self.at..end];
        self.at = end;
        let negative = source.starts_with('-');
        // Integers that fit `u64` (or `i64` when negative) are kept as written; so is `-0`,
        // which `serde_json` reads as the float -0 and writes back the same.
        let fits = integer
            && (source.len() <= 19
                || if negative {
                    source.parse::<i64>().is_ok()
                } else {
                    source.parse::<u64>().is_ok()
                });
        if fits {
            return Some(Cow::Borrowed(source));
        }
        let value: f64 = source.parse().ok()?;
        value.is_finite().then(|| Cow::Owned(value.to_string()))
    }
}

/// Where the first `"`, `\` or control character is, eight bytes at a time.
fn special(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let found = |w: u64| {
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // The lowest flagged byte of each term is exact; higher ones may be borrows.
        (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | w.wrapping_sub(ONES * 0x20) & !w)
            & HIGH
    };
    let chunks = b.chunks_exact(8);
    let tail = chunks.remainder();
    for (n, chunk) in chunks.enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let hits = found(u64::from_le_bytes(word));
        if hits != 0 {
            return Some(n * 8 + hits.trailing_zeros() as usize / 8);
        }
    }
    tail.iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| b.len() - tail.len() + p)
}

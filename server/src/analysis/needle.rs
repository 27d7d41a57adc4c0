//! Fixed strings looked for in every line.
//!
//! A substring searcher picks its strategy (rare bytes, vector code) when it is built, and that
//! set-up costs more than the search in a short line. A [`Needle`] builds its searcher once, on
//! first use, and is declared as a `static` beside the code that needs it.

use std::sync::OnceLock;

use memchr::memmem::Finder;

/// A fixed string with a searcher built on first use.
pub struct Needle {
    text: &'static str,
    finder: OnceLock<Finder<'static>>,
}

impl Needle {
    pub const fn new(text: &'static str) -> Self {
        Self {
            text,
            finder: OnceLock::new(),
        }
    }

    /// The byte offset of the first occurrence in `haystack`.
    pub fn find(&self, haystack: &str) -> Option<usize> {
        self.finder
            .get_or_init(|| Finder::new(self.text))
            .find(haystack.as_bytes())
    }

    /// The byte offsets of every occurrence in `haystack`, left to right, none overlapping.
    pub fn find_iter<'h>(&'h self, haystack: &'h str) -> impl Iterator<Item = usize> + 'h {
        self.finder
            .get_or_init(|| Finder::new(self.text))
            .find_iter(haystack.as_bytes())
    }

    pub fn is_in(&self, haystack: &str) -> bool {
        self.find(haystack).is_some()
    }

    /// `haystack.split_once(self)`.
    pub fn split<'h>(&self, haystack: &'h str) -> Option<(&'h str, &'h str)> {
        let at = self.find(haystack)?;
        // `at` starts a match of a whole string, so both ends are character boundaries.
        Some((&haystack[..at], &haystack[at + self.text.len()..]))
    }
}

/// `text.split(char::from(byte))` for an ASCII `byte`, by a plain byte scan: for the short
/// texts of per-event code (paths, request lines), where `str::split` costs more to set up
/// than to run.
pub fn split_byte(text: &str, byte: u8) -> impl Iterator<Item = &str> + Clone {
    debug_assert!(byte.is_ascii());
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match t.bytes().position(|b| b == byte) {
            // An ASCII byte is always a character boundary.
            Some(i) => {
                rest = Some(&t[i + 1..]);
                Some(&t[..i])
            }
            None => {
                rest = None;
                Some(t)
            }
        }
    })
}

/// `text.split_once(char::from(byte))` for an ASCII `byte`, by a plain byte scan.
pub fn split_once_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    debug_assert!(byte.is_ascii());
    let i = text.bytes().position(|b| b == byte)?;
    Some((&text[..i], &text[i + 1..]))
}

/// The words of `text`, exactly as `text.split_whitespace()` yields them. ASCII text is cut at
/// bytes (below 0x80, `char::is_whitespace` accepts the space and `\t`..=`\r`); other text
/// by characters. For the per-event scans of messages, where decoding every character costs
/// more than the rest of the scan.
pub fn words(text: &str) -> Words<'_> {
    Words {
        rest: text,
        ascii: text.is_ascii(),
    }
}

/// The iterator of [`words`].
#[derive(Clone, Debug)]
pub struct Words<'a> {
    rest: &'a str,
    ascii: bool,
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (start, end) = if self.ascii {
            let b = self.rest.as_bytes();
            let space = |c: &u8| *c == b' ' || c.wrapping_sub(b'\t') < 5;
            let start = b.iter().position(|c| !space(c)).unwrap_or(b.len());
            let end = b[start..]
                .iter()
                .position(space)
                .map_or(b.len(), |n| start + n);
            (start, end)
        } else {
            let start = self.rest.len() - self.rest.trim_start().len();
            let end = self.rest[start..]
                .find(char::is_whitespace)
                .map_or(self.rest.len(), |n| start + n);
            (start, end)
        };
        if start == end {
            self.rest = "";
            return None;
        }
        let word = &self.rest[start..end];
        self.rest = &self.rest[end..];
        Some(word)
    }
}

/// `text.trim_start_matches(set)` for a set of ASCII bytes, by a byte scan: a character
/// pattern decodes each character it looks at.
pub fn trim_start_bytes<'t>(text: &'t str, set: &[u8]) -> &'t str {
    debug_assert!(set.is_ascii());
    let n = text.bytes().take_while(|b| set.contains(b)).count();
    // The bytes skipped are ASCII, so `n` is a character boundary.
    &text[n..]
}

/// `text.trim_end_matches(set)` for a set of ASCII bytes, by a byte scan.
pub fn trim_end_bytes<'t>(text: &'t str, set: &[u8]) -> &'t str {
    debug_assert!(set.is_ascii());
    let n = text.bytes().rev().take_while(|b| set.contains(b)).count();
    &text[..text.len() - n]
}

/// A fixed set of names, each with a value, grouped by length: a name is compared only with the
/// few of its own length, which beats hashing it for the short keys of per-event lookups. Most
/// names looked up are in no table (a record's own keys), so each entry also keeps its first and
/// last bytes: they rule out nearly every other name of the same length without a call to
/// `memcmp`.
pub struct NameTable<T: 'static> {
    by_length: Vec<Vec<Entry<T>>>,
}

struct Entry<T> {
    /// The first and last bytes of `name` (zero for the empty name).
    ends: [u8; 2],
    name: &'static str,
    value: T,
}

/// The first and last bytes of `name`.
fn ends(name: &[u8]) -> [u8; 2] {
    match (name.first(), name.last()) {
        (Some(&first), Some(&last)) => [first, last],
        _ => [0, 0],
    }
}

impl<T: Copy + 'static> NameTable<T> {
    /// The table of `entries`; of a name listed twice, the first entry counts.
    pub fn new(entries: impl IntoIterator<Item = (&'static str, T)>) -> Self {
        let mut by_length: Vec<Vec<Entry<T>>> = Vec::new();
        for (name, value) in entries {
            if by_length.len() <= name.len() {
                by_length.resize_with(name.len() + 1, Vec::new);
            }
            let same = &mut by_length[name.len()];
            if !same.iter().any(|e| e.name == name) {
                same.push(Entry {
                    ends: ends(name.as_bytes()),
                    name,
                    value,
                });
            }
        }
        Self { by_length }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<T> {
        let bytes = name.as_bytes();
        let ends = ends(bytes);
        self.by_length
            .get(name.len())?
            .iter()
            .find(|e| e.ends == ends && e.name.as_bytes() == bytes)
            .map(|e| e.value)
    }
}

#[cfg(test)]
mod tests {
    use super::{
        NameTable, Needle, split_byte, split_once_byte, trim_end_bytes, trim_start_bytes, words,
    };
    use crate::analysis::generated;

    #[test]
    fn a_name_table_finds_each_name_and_keeps_the_first_of_two() {
        let table = NameTable::new([
            ("a", 1),
            ("bb", 2),
            ("cc", 3),
            ("a", 4),
            ("", 5),
            ("abc", 6),
            ("adc", 7),
        ]);
        for (name, found) in [
            ("a", Some(1)),
            ("bb", Some(2)),
            ("cc", Some(3)),
            ("", Some(5)),
            ("abc", Some(6)),
            ("adc", Some(7)),
        ] {
            assert_eq!(table.get(name), found, "{name:?}");
        }
        // Same length and same first and last bytes, but another name.
        for name in ["b", "bbb", "ccc", "A", "dd", "aec", "abd"] {
            assert_eq!(table.get(name), None, "{name:?}");
        }
    }

    #[test]
    fn byte_splits_agree_with_the_standard_library() {
        for text in [
            "",
            "/",
            "//",
            "/a/b",
            "a/",
            "é/ü/",
            "/api/users/42?x=/y",
            "no slash",
        ] {
            assert_eq!(
                split_byte(text, b'/').collect::<Vec<_>>(),
                text.split('/').collect::<Vec<_>>(),
                "{text:?}"
            );
            assert_eq!(
                split_once_byte(text, b'/'),
                text.split_once('/'),
                "{text:?}"
            );
        }
    }

    #[test]
    fn it_agrees_with_the_standard_library() {
        static COLON_SPACE: Needle = Needle::new(": ");
        for text in [
            "", ":", ": ", "a: b: c", "no colon", "a:b", "é: ü", "x :  y", "::  ",
        ] {
            assert_eq!(COLON_SPACE.find(text), text.find(": "), "{text:?}");
            assert_eq!(COLON_SPACE.split(text), text.split_once(": "), "{text:?}");
            let all: Vec<usize> = text.match_indices(": ").map(|(i, _)| i).collect();
            assert_eq!(
                COLON_SPACE.find_iter(text).collect::<Vec<_>>(),
                all,
                "{text:?}"
            );
        }
    }

    #[test]
    fn words_are_those_of_split_whitespace() {
        // Generated texts over ASCII and Unicode whitespace, letters and multi-byte characters.
        let alphabet = [
            " ",
            "\t",
            "\n",
            "\u{b}",
            "\u{c}",
            "\r",
            "a",
            "bc",
            "é",
            "\u{a0}",
            "\u{3000}",
            "\u{85}",
            "\u{2028}",
            "x\u{1680}",
            "\u{1c}",
            ".",
        ];
        for text in generated::texts(&alphabet, 0x853c_49e6_748f_ea9b, 10, 20_000) {
            let expected: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(words(&text).collect::<Vec<_>>(), expected, "{text:?}");
            // A clone taken part-way goes on from there.
            let mut it = words(&text);
            it.next();
            let rest: Vec<&str> = text.split_whitespace().skip(1).collect();
            assert_eq!(it.clone().collect::<Vec<_>>(), rest, "{text:?}");
        }
    }

    #[test]
    fn byte_trims_are_those_of_character_patterns() {
        let set = [',', ';', ')', ']', '.'];
        let bytes = b",;)].";
        for text in [
            "", ",", "a,", "a.;)", "(é).", "é,", ",é", "..a..", "ü", ")])",
        ] {
            assert_eq!(
                trim_end_bytes(text, bytes),
                text.trim_end_matches(set),
                "{text:?}"
            );
            assert_eq!(
                trim_start_bytes(text, bytes),
                text.trim_start_matches(set),
                "{text:?}"
            );
        }
    }
}

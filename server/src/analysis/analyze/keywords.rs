//! The fixed words and markers that the security and context scans look for in every message.
//! One automaton finds them all in one pass over the text, instead of one pass per scan.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::{context, security};

/// What a keyword tells the scans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// A phrase of a failed login (`login failed`), in any case.
    AuthFailure,
    /// A phrase of a rate limit (`too many requests`), in any case.
    RateLimit,
    /// A literal marker of a secret (`AKIA`, `Bearer `), in exactly this case.
    Secret(&'static str),
    /// A context marker (`GITHUB_SHA=`, `github.com/`) by its index in
    /// [`context::marker_patterns`], in exactly this case.
    Context(usize),
}

/// One keyword found in a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub keyword: Keyword,
    /// Byte range of the keyword in the text.
    pub start: usize,
    pub end: usize,
}

struct Table {
    automaton: AhoCorasick,
    /// Per pattern: its text, its keyword, and whether its case must match too.
    keywords: Vec<(String, Keyword, bool)>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let any_case = |words: &'static [&'static str], keyword: Keyword| {
            words.iter().map(move |w| ((*w).to_owned(), keyword, false))
        };
        let keywords: Vec<(String, Keyword, bool)> =
            any_case(&security::AUTH_FAILURES, Keyword::AuthFailure)
                .chain(any_case(&security::RATE_LIMIT, Keyword::RateLimit))
                .chain(
                    security::SECRET_MARKERS
                        .iter()
                        .map(|&m| (m.to_owned(), Keyword::Secret(m), true)),
                )
                .chain(
                    context::marker_patterns()
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (p.clone(), Keyword::Context(i), true)),
                )
                .collect();
        // One case-insensitive automaton; case-sensitive keywords are checked after a match.
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .build(keywords.iter().map(|(text, _, _)| text))
            .expect("fixed keywords always compile");
        Table {
            automaton,
            keywords,
        }
    })
}

/// Every keyword in `text`, overlapping ones included, in the order they end; `hits` is
/// cleared first, so one buffer serves every event.
pub fn scan(text: &str, hits: &mut Vec<Hit>) {
    hits.clear();
    let table = table();
    // Most texts hold no keyword: a plain search settles them in fewer instructions per byte
    // than the overlapping one.
    if !table.automaton.is_match(text) {
        return;
    }
    for m in table.automaton.find_overlapping_iter(text) {
        let (pattern, keyword, exact) = &table.keywords[m.pattern().as_usize()];
        if !exact || text.as_bytes()[m.start()..m.end()] == *pattern.as_bytes() {
            hits.push(Hit {
                keyword: *keyword,
                start: m.start(),
                end: m.end(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(text: &str) -> Vec<(Keyword, &str)> {
        let mut hits = Vec::new();
        scan(text, &mut hits);
        hits.iter()
            .map(|h| (h.keyword, &text[h.start..h.end]))
            .collect()
    }

    #[test]
    fn phrases_match_in_any_case_markers_only_in_their_own() {
        assert_eq!(
            keywords("LOGIN FAILED for akia; Too Many Requests"),
            [
                (Keyword::AuthFailure, "LOGIN FAILED"),
                (Keyword::RateLimit, "Too Many Requests")
            ]
        );
        assert_eq!(
            keywords("key AKIAXYZ bearer x"),
            [(Keyword::Secret("AKIA"), "AKIA")]
        );
    }

    #[test]
    fn overlapping_keywords_are_all_found() {
        let found = keywords("CI_COMMIT_SHA=abc https://github.com/o/r");
        let texts: Vec<&str> = found.iter().map(|(_, t)| *t).collect();
        assert!(texts.contains(&"CI_COMMIT_SHA="), "{found:?}");
        // `COMMIT_SHA=` ends where `CI_COMMIT_SHA=` does; the context scan rejects it as not
        // starting a word.
        assert!(texts.contains(&"COMMIT_SHA="), "{found:?}");
        assert!(
            texts.contains(&"://") && texts.contains(&"github.com/"),
            "{found:?}"
        );
    }
}

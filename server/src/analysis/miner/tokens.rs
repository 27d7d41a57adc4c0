//! Tokens of a masked message: variables, single structural punctuation characters, and words,
//! each remembering whether a space preceded it (so `on:<*>` and `on: <*>` stay distinct).

use crate::analysis::mask::VAR;

/// One token, borrowing its text from the masked message (or `<*>` where mining made it a
/// variable), so tokenising a message allocates only its list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Token<'a> {
    /// The token's text.
    pub text: &'a str,
    /// Whether whitespace preceded it.
    pub space_before: bool,
}

const fn is_punct(b: u8) -> bool {
    matches!(
        b,
        b',' | b';' | b':' | b'=' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b'\'' | b'|'
    )
}

/// Byte kinds for [`tokenize`], one table lookup per byte.
const SPACE: u8 = 1;
const PUNCT: u8 = 2;
/// `<`, which may start a `<*>`.
const OPEN: u8 = 4;

static KIND: [u8; 256] = {
    let mut kind = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        kind[c] = if b.is_ascii_whitespace() {
            SPACE
        } else if is_punct(b) {
            PUNCT
        } else if b == b'<' {
            OPEN
        } else {
            0
        };
        c += 1;
    }
    kind
};

/// A token that is neither punctuation nor a variable.
pub fn is_word(text: &str) -> bool {
    text != VAR && !(text.len() == 1 && is_punct(text.as_bytes()[0]))
}

/// Splits a masked message into tokens.
pub fn tokenize(masked: &str) -> Vec<Token<'_>> {
    let b = masked.as_bytes();
    let mut tokens = Vec::with_capacity(16);
    let mut space = false;
    let mut i = 0;
    let starts_var = |at: usize| b[at..].starts_with(VAR.as_bytes());
    while i < b.len() {
        let kind = KIND[usize::from(b[i])];
        if kind == SPACE {
            space = true;
            i += 1;
            continue;
        }
        let end = if kind == OPEN && starts_var(i) {
            i + VAR.len()
        } else if kind == PUNCT {
            i + 1
        } else {
            // A word runs to a space, punctuation or a `<*>`.
            let mut j = i + 1;
            while j < b.len() {
                let kind = KIND[usize::from(b[j])];
                if kind & (SPACE | PUNCT) != 0 || kind == OPEN && starts_var(j) {
                    break;
                }
                j += 1;
            }
            j
        };
        tokens.push(Token {
            text: &masked[i..end],
            space_before: space,
        });
        space = false;
        i = end;
    }
    tokens
}

/// Joins tokens back into text, with single spaces where there were spaces.
pub fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.space_before && i > 0 {
            out.push(' ');
        }
        out.push_str(t.text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::generated;

    /// Tokens by another route: the text is cut around every space and punctuation byte and
    /// every `<*>`, and the pieces that are not spaces are the tokens.
    fn tokenize_by_cuts(masked: &str) -> Vec<Token<'_>> {
        let b = masked.as_bytes();
        let mut cuts = vec![0, b.len()];
        for (i, &c) in b.iter().enumerate() {
            if c.is_ascii_whitespace() || is_punct(c) {
                cuts.extend([i, i + 1]);
            }
        }
        for (i, _) in masked.match_indices(VAR) {
            cuts.extend([i, i + VAR.len()]);
        }
        cuts.sort_unstable();
        cuts.dedup();
        cuts.windows(2)
            .map(|w| (w[0], &masked[w[0]..w[1]]))
            .filter(|(_, text)| !text.bytes().all(|c| c.is_ascii_whitespace()))
            .map(|(at, text)| Token {
                text,
                space_before: at > 0 && b[at - 1].is_ascii_whitespace(),
            })
            .collect()
    }

    #[test]
    fn tokens_are_the_pieces_between_cuts() {
        let alphabet = [
            " ", "\t", "<*>", "<", "<*", "*>", ">", "a", "bc", "é", ":", "=", "(", "\"", "|", "_",
        ];
        for text in generated::texts(&alphabet, 0x6a09_e667_f3bc_c909, 14, 20_000) {
            assert_eq!(tokenize(&text), tokenize_by_cuts(&text), "{text:?}");
        }
    }

    #[test]
    fn words_stop_at_variables_and_punctuation() {
        let t = tokenize("blk_<*> on:<*> (TID <*>)");
        let texts: Vec<&str> = t.iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            ["blk_", "<*>", "on", ":", "<*>", "(", "TID", "<*>", ")"]
        );
        assert_eq!(render(&t), "blk_<*> on:<*> (TID <*>)");
        assert!(t[2].space_before && !t[3].space_before);
    }
}

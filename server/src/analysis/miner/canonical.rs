//! The canonical form of a template's text, following the normalisation rules published with
//! the Loghub-2.0 benchmark: collapse whitespace, mask absolute paths, `true`/`false`/`null`/
//! `root`/`admin` and digit-only pieces, absorb a variable glued to a word (`blk_<*>` → `<*>`),
//! and merge `<*>.<*>` and `<*><*>`.

use crate::analysis::mask::VAR;

const LITERALS: [&str; 5] = ["true", "false", "null", "root", "admin"];

/// Characters that delimit pieces for the path rule.
fn is_path_delimiter(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | '!' | ';' | ':' | '=' | '|' | '"' | '\'' | '[' | ']' | '(' | ')' | '{' | '}'
        )
}

/// Characters that delimit pieces for the token rules.
fn is_token_delimiter(c: char) -> bool {
    is_path_delimiter(c) || matches!(c, '.' | '-' | '+' | '@' | '#' | '$' | '%' | '&')
}

/// Splits `text` into alternating pieces and single delimiter characters, keeping both.
fn pieces(text: &str, delimiter: fn(char) -> bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if delimiter(c) {
            out.push(&text[start..i]);
            out.push(&text[i..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    out.push(&text[start..]);
    out
}

/// `/a/b.c`: one or more `/segment` parts.
fn is_absolute_path(piece: &str) -> bool {
    piece.starts_with('/') && piece[1..].split('/').all(|seg| !seg.is_empty())
}

/// A piece holding a variable glued to other characters (none of them spaces or `/`).
fn is_glued_variable(piece: &str) -> bool {
    piece.contains(VAR) && !piece.contains('/') && !piece.chars().any(char::is_whitespace)
}

/// Normalises a template's text.
pub fn canonical(template: &str) -> String {
    let collapsed = super::super::mask::collapse_whitespace(template);
    let mut paths = String::with_capacity(collapsed.len());
    for piece in pieces(&collapsed, is_path_delimiter) {
        paths.push_str(if is_absolute_path(piece) { VAR } else { piece });
    }
    let mut out = String::with_capacity(paths.len());
    for piece in pieces(&paths, is_token_delimiter) {
        let masked = LITERALS.iter().any(|l| piece.eq_ignore_ascii_case(l))
            || (!piece.is_empty() && piece.bytes().all(|b| b.is_ascii_digit()))
            || is_glued_variable(piece);
        out.push_str(if masked { VAR } else { piece });
    }
    for glued in ["<*>.<*>", "<*><*>"] {
        while out.contains(glued) {
            out = out.replace(glued, VAR);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn published_rules() {
        let cases = [
            (
                "Received  block blk_<*> of size <*>",
                "Received block <*> of size <*>",
            ),
            (
                "Failed password for root from <*>",
                "Failed password for <*> from <*>",
            ),
            ("isScreenOn true", "isScreenOn <*>"),
            ("ok /etc/httpd/conf/workers2.properties", "ok <*>"),
            ("version <*>.<*>.<*> build 42", "version <*> build <*>"),
            ("vCores:<*>>", "vCores:<*>"),
            ("src: <*>:<*>", "src: <*>:<*>"),
            ("Old: <*>/<*>:<*>", "Old: <*>/<*>:<*>"),
            ("took <*>ms", "took <*>"),
        ];
        for (input, expected) in cases {
            assert_eq!(canonical(input), expected, "{input}");
        }
    }
}

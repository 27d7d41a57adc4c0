//! Names for tests, classes and files, made from a pattern's words in each language's
//! conventions, and quoting of string literals.

/// Words that say nothing about behaviour.
const FILLER: [&str; 12] = [
    "a", "an", "the", "for", "of", "to", "on", "at", "in", "from", "with", "by",
];

/// The meaningful words of `text`, lower-case: variables, numbers and punctuation dropped.
pub fn words(text: &str) -> Vec<String> {
    text.replace("<*>", " ")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .flat_map(split_camel)
        .map(|w| w.to_lowercase())
        .filter(|w| w.is_ascii() && !FILLER.contains(&w.as_str()))
        .take(12)
        .collect()
}

/// `PaymentService` → `payment`, `service`; `HTTPServer` → `http`, `server`.
fn split_camel(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut parts = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = c.is_uppercase()
            && i > 0
            && (chars[i - 1].is_lowercase()
                || chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                    && chars[i - 1].is_uppercase());
        if boundary && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// `snake_case` of `words` (never empty, never starting with a digit).
pub fn snake(words: &[String]) -> String {
    let joined = words.join("_");
    guard(if joined.is_empty() {
        "behaviour".into()
    } else {
        joined
    })
}

/// `camelCase`.
pub fn camel(words: &[String]) -> String {
    let pascal = pascal(words);
    let mut chars = pascal.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "behaviour".into(),
    }
}

/// `PascalCase`.
pub fn pascal(words: &[String]) -> String {
    let joined: String = words
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|f| f.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    guard(if joined.is_empty() {
        "Behaviour".into()
    } else {
        joined
    })
}

/// Prefixes a name that would start with a digit.
fn guard(name: String) -> String {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("n{name}")
    } else {
        name
    }
}

/// A name usable as an identifier in every language: ASCII letters, digits and `_`.
pub fn identifier(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let trimmed = cleaned.trim_matches('_');
    guard(if trimmed.is_empty() {
        "value".into()
    } else {
        trimmed.to_owned()
    })
}

/// A double-quoted literal that Python, JavaScript, Java, C# and Go all read the same way.
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A single-quoted JavaScript literal.
pub fn single_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A single-quoted literal for Ruby and PHP, where nothing inside is interpolated; control
/// characters become spaces (single quotes have no escape for them).
pub fn plain_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Text for XML content and attributes.
pub fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Whether `name` can be used as-is as an identifier in C-family languages.
pub fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Text safe inside any language's line or block comment, cut at `max` characters: no line
/// breaks, no `*/`, no `?>` (which would end PHP mode) and no `\u` (which Java reads as a
/// character even in a comment).
pub fn comment_text(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace("*/", "* /")
        .replace("?>", "? >")
        .replace("\\u", "\\ u");
    if flat.chars().count() > max {
        flat.chars().take(max).collect::<String>() + "…"
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_drop_variables_numbers_and_filler() {
        assert_eq!(
            words("Payment failed for order <*> (PaymentService, HTTPServer 503)"),
            [
                "payment", "failed", "order", "payment", "service", "http", "server"
            ]
        );
        assert_eq!(snake(&words("<*> <*>")), "behaviour");
        assert_eq!(pascal(&words("deadlock detected")), "DeadlockDetected");
        assert_eq!(camel(&words("Payment failed")), "paymentFailed");
        assert_eq!(snake(&words("500 errors")), "errors");
        assert_eq!(identifier("9 lives!"), "n9_lives");
    }

    #[test]
    fn literals_escape_what_would_end_or_interpolate_them() {
        assert_eq!(quoted("a\"b\\c$d#{e}\n\u{7}"), r#""a\"b\\c$d#{e}\n\u0007""#);
        assert_eq!(single_quoted("it's\u{1}"), r"'it\'s\u0001'");
        assert_eq!(plain_quoted("it's a \\ #{x}\n"), r"'it\'s a \\ #{x} '");
        assert_eq!(
            comment_text("a */ b\nc ?> \\u000a", 100),
            "a * / b c ? > \\ u000a"
        );
    }
}

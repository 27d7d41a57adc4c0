//! Syntax highlighting for the generated code view: a small lexer per language that tells
//! comments, strings, numbers, keywords and annotations apart. It runs on the server and in the
//! browser alike (the real grammars that validate the files live in the server only).

use crate::api::testgen::Language;

/// What a piece of code is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Anything else.
    Plain,
    /// A language keyword.
    Keyword,
    /// A string literal.
    Str,
    /// A comment.
    Comment,
    /// A number.
    Number,
    /// A decorator, annotation or attribute (`@Test`, `#[Group]`).
    Annotation,
}

impl Class {
    /// CSS class of a span, none for plain text.
    pub fn css(self) -> Option<&'static str> {
        match self {
            Self::Plain => None,
            Self::Keyword => Some("tok-keyword"),
            Self::Str => Some("tok-string"),
            Self::Comment => Some("tok-comment"),
            Self::Number => Some("tok-number"),
            Self::Annotation => Some("tok-annotation"),
        }
    }
}

fn keywords(language: Language) -> &'static [&'static str] {
    match language {
        Language::Python => &[
            "and", "as", "assert", "async", "await", "class", "def", "del", "elif", "else",
            "except", "False", "finally", "for", "from", "if", "import", "in", "is", "lambda",
            "None", "not", "or", "pass", "raise", "return", "True", "try", "while", "with",
            "yield",
        ],
        Language::Javascript => &[
            "async",
            "await",
            "break",
            "case",
            "catch",
            "class",
            "const",
            "continue",
            "else",
            "export",
            "false",
            "finally",
            "for",
            "function",
            "if",
            "import",
            "let",
            "new",
            "null",
            "of",
            "return",
            "this",
            "throw",
            "true",
            "try",
            "typeof",
            "undefined",
            "var",
            "while",
        ],
        Language::Java => &[
            "class",
            "catch",
            "else",
            "extends",
            "final",
            "for",
            "if",
            "import",
            "new",
            "null",
            "package",
            "private",
            "protected",
            "public",
            "return",
            "static",
            "super",
            "this",
            "throw",
            "throws",
            "try",
            "void",
            "boolean",
            "int",
            "long",
            "true",
            "false",
        ],
        Language::Ruby => &[
            "begin", "class", "def", "do", "else", "end", "false", "if", "module", "nil", "raise",
            "require", "rescue", "return", "self", "true", "unless", "yield",
        ],
        Language::Php => &[
            "array",
            "catch",
            "class",
            "const",
            "declare",
            "echo",
            "else",
            "extends",
            "false",
            "final",
            "fn",
            "foreach",
            "function",
            "if",
            "namespace",
            "new",
            "null",
            "private",
            "protected",
            "public",
            "return",
            "static",
            "throw",
            "true",
            "try",
            "use",
            "void",
        ],
        Language::Csharp => &[
            "async",
            "await",
            "catch",
            "class",
            "const",
            "else",
            "false",
            "if",
            "namespace",
            "new",
            "null",
            "private",
            "public",
            "readonly",
            "return",
            "static",
            "string",
            "throw",
            "true",
            "try",
            "using",
            "var",
            "void",
            "int",
            "long",
        ],
        Language::Go => &[
            "break", "const", "defer", "else", "for", "func", "go", "if", "import", "nil",
            "package", "range", "return", "struct", "type", "var", "true", "false",
        ],
    }
}

/// Whether `#` starts a comment in `language`.
fn hash_comments(language: Language) -> bool {
    matches!(language, Language::Python | Language::Ruby)
}

/// The code as lines of classified pieces. Multi-line strings and block comments carry over
/// from line to line.
pub fn lines(language: Language, code: &str) -> Vec<Vec<(Class, String)>> {
    let keywords = keywords(language);
    let chars: Vec<char> = code.chars().collect();
    let mut out: Vec<Vec<(Class, String)>> = vec![Vec::new()];
    let mut i = 0;
    let push = |out: &mut Vec<Vec<(Class, String)>>, class: Class, text: &[char]| {
        // Split at line ends so each line renders on its own.
        let mut piece = String::new();
        for &c in text {
            if c == '\n' {
                if !piece.is_empty()
                    && let Some(line) = out.last_mut()
                {
                    line.push((class, std::mem::take(&mut piece)));
                }
                out.push(Vec::new());
            } else {
                piece.push(c);
            }
        }
        if !piece.is_empty()
            && let Some(line) = out.last_mut()
        {
            match line.last_mut() {
                Some((last, text)) if *last == class => text.push_str(&piece),
                _ => line.push((class, piece)),
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let rest = &chars[i..];
        let starts = |s: &str| s.chars().enumerate().all(|(k, x)| rest.get(k) == Some(&x));
        let (class, len) =
            if starts("//") && !hash_comments(language) || c == '#' && hash_comments(language) {
                let end = rest.iter().position(|&x| x == '\n').unwrap_or(rest.len());
                (Class::Comment, end)
            } else if starts("/*") {
                let end = (2..rest.len())
                    .find(|&k| rest[k - 1] == '*' && rest[k] == '/')
                    .map_or(rest.len(), |k| k + 1);
                (Class::Comment, end)
            } else if language == Language::Python && (starts("\"\"\"") || starts("'''")) {
                let quote = rest[0];
                let end = (3..rest.len())
                    .find(|&k| {
                        k >= 5 && rest[k] == quote && rest[k - 1] == quote && rest[k - 2] == quote
                    })
                    .map_or(rest.len(), |k| k + 1);
                (Class::Str, end)
            } else if matches!(c, '"' | '\'' | '`') {
                let mut k = 1;
                while k < rest.len() && rest[k] != c && rest[k] != '\n' {
                    k += if rest[k] == '\\' { 2 } else { 1 };
                }
                (Class::Str, (k + 1).min(rest.len()))
            } else if c == '@' || c == '#' && rest.get(1) == Some(&'[') {
                let end = rest
                    .iter()
                    .skip(1)
                    .position(|x| !(x.is_alphanumeric() || matches!(x, '_' | '.' | '[')))
                    .map_or(rest.len(), |k| k + 1);
                (Class::Annotation, end)
            } else if c.is_ascii_digit()
                && (i == 0 || !chars[i - 1].is_alphanumeric() && chars[i - 1] != '_')
            {
                let end = rest
                    .iter()
                    .position(|x| !(x.is_ascii_alphanumeric() || *x == '.' || *x == '_'))
                    .unwrap_or(rest.len());
                (Class::Number, end)
            } else if c.is_alphabetic() || c == '_' || c == '$' {
                let end = rest
                    .iter()
                    .position(|x| !(x.is_alphanumeric() || *x == '_' || *x == '$'))
                    .unwrap_or(rest.len());
                let word: String = rest[..end].iter().collect();
                let class = if keywords.contains(&word.as_str()) {
                    Class::Keyword
                } else {
                    Class::Plain
                };
                (class, end)
            } else {
                (Class::Plain, 1)
            };
        let len = len.max(1);
        push(&mut out, class, &rest[..len.min(rest.len())]);
        i += len;
    }
    if out.last().is_some_and(Vec::is_empty) && code.ends_with('\n') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_comments_strings_keywords_and_numbers() {
        let l = lines(
            Language::Python,
            "# hi\ndef f():\n    return \"a#b\" + 12\n",
        );
        assert_eq!(l.len(), 3);
        assert_eq!(l[0], vec![(Class::Comment, "# hi".to_owned())]);
        assert_eq!(l[1][0], (Class::Keyword, "def".to_owned()));
        assert!(l[2].contains(&(Class::Str, "\"a#b\"".to_owned())));
        assert!(l[2].contains(&(Class::Number, "12".to_owned())));
    }

    #[test]
    fn block_comments_and_docstrings_span_lines() {
        let l = lines(Language::Java, "/* a\nb */ class A {}\n@Test void t() {}");
        assert_eq!(l[0], vec![(Class::Comment, "/* a".to_owned())]);
        assert_eq!(l[1][0], (Class::Comment, "b */".to_owned()));
        assert_eq!(l[2][0], (Class::Annotation, "@Test".to_owned()));
        let py = lines(Language::Python, "\"\"\"one\ntwo\"\"\"\nx = 1");
        assert_eq!(py[1], vec![(Class::Str, "two\"\"\"".to_owned())]);
        let text: String = lines(Language::Go, "a := `x`\n")
            .concat()
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(text, "a := `x`");
    }
}

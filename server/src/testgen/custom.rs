//! Custom templates: a team's own file scaffold and test, written once for every error pattern
//! the plan tests, with the pattern's values in `{{variable}}` slots. Text values go in as
//! literals of the framework's language (quotes included), so a log line can never break out
//! of its string; the file is then validated like every generated file.

use app::api::patterns::ResultDoc;
use app::api::testgen::{
    FILE_VARIABLES, FileKind, Framework, Language, MAX_TEMPLATE_PART, TEST_VARIABLES, TemplateInput,
};

use super::naming;
use super::plan::{Scenario, Target};
use super::render::Draft;

/// What is wrong with a template, by field.
pub fn problems(input: &TemplateInput) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        out.push((
            "name",
            "Give the template a name of 1 to 80 characters.".into(),
        ));
    }
    if input.test.trim().is_empty() {
        out.push((
            "test",
            "Write the test that is repeated for every error pattern.".into(),
        ));
    }
    let parts = [
        ("prelude", &input.prelude, FILE_VARIABLES),
        ("test", &input.test, TEST_VARIABLES),
        ("epilogue", &input.epilogue, FILE_VARIABLES),
    ];
    for (field, text, allowed) in parts {
        if text.len() > MAX_TEMPLATE_PART {
            out.push((
                field,
                format!("Keep it under {} KiB.", MAX_TEMPLATE_PART / 1024),
            ));
            continue;
        }
        let unknown: Vec<String> = slots(text)
            .into_iter()
            .filter(|s| !allowed.iter().any(|(name, _)| name == s))
            .map(|s| format!("{{{{{s}}}}}"))
            .collect();
        if !unknown.is_empty() {
            let names: Vec<String> = allowed
                .iter()
                .map(|(n, _)| format!("{{{{{n}}}}}"))
                .collect();
            out.push((
                field,
                format!(
                    "Unknown {} {}; this part may use {}.",
                    if unknown.len() == 1 {
                        "variable"
                    } else {
                        "variables"
                    },
                    unknown.join(", "),
                    names.join(", ")
                ),
            ));
        }
    }
    out
}

/// The variable names in `text`, in order, each once.
pub(crate) fn slots(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim().to_owned();
        if !out.contains(&name) {
            out.push(name);
        }
        rest = &after[end + 2..];
    }
    out
}

/// `text` with each `{{name}}` replaced by `value(name)`.
pub(crate) fn fill(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match value(after[..end].trim()) {
            Some(v) => out.push_str(&v),
            // Refused when saved; left as written if one slips through.
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A string literal of `language`.
fn literal(language: Language, value: &str) -> String {
    match language {
        // Double quotes interpolate in Ruby and PHP; single quotes do not.
        Language::Ruby | Language::Php => naming::plain_quoted(value),
        _ => naming::quoted(value),
    }
}

/// An identifier for a test in `language`, from words and the pattern id.
fn test_name(language: Language, words: &[String], pattern: &str) -> String {
    let mut all: Vec<String> = words.iter().take(8).cloned().collect();
    all.push(naming::identifier(pattern));
    match language {
        Language::Python | Language::Ruby | Language::Php => {
            format!("test_{}", naming::snake(&all))
        }
        Language::Javascript | Language::Java => {
            format!("test{}", naming::pascal(&all))
        }
        Language::Csharp | Language::Go => format!("Test{}", naming::pascal(&all)),
    }
}

/// Where the file goes and its class name.
fn place(framework: Framework, name: &str) -> (String, String) {
    let words = naming::words(name);
    let words = if words.is_empty() {
        vec!["custom".to_owned()]
    } else {
        words
    };
    let snake = naming::snake(&words);
    let pascal = naming::pascal(&words);
    let path = match framework.language() {
        Language::Python => format!("tests/custom/test_{snake}.py"),
        Language::Javascript => format!("tests/custom/{snake}.test.js"),
        Language::Java => format!("src/test/java/custom/{pascal}Test.java"),
        Language::Ruby => format!("spec/custom/{snake}_spec.rb"),
        Language::Php => format!("tests/Custom/{pascal}Test.php"),
        Language::Csharp => format!("Tests/Custom/{pascal}Tests.cs"),
        Language::Go => format!("custom/{snake}_test.go"),
    };
    let class = match framework.language() {
        Language::Csharp => format!("{pascal}Tests"),
        _ => format!("{pascal}Test"),
    };
    (path, class)
}

/// Where the file of a template named `name` goes in a suite.
pub fn path(framework: Framework, name: &str) -> String {
    place(framework, name).0
}

/// The file `input` writes for `scenarios` of `doc`.
pub fn render(
    input: &TemplateInput,
    scenarios: &[&Scenario],
    doc: &ResultDoc,
    base_url: Option<&str>,
) -> Draft {
    let language = input.framework.language();
    let (path, class) = place(input.framework, &input.name);
    let file_value = |name: &str| -> Option<String> {
        Some(match name {
            "class_name" => class.clone(),
            "suite" => literal(language, input.name.trim()),
            "base_url" => literal(language, base_url.unwrap_or_default()),
            _ => return None,
        })
    };
    let mut content = fill(&input.prelude, file_value);
    if !content.is_empty() && !content.ends_with('\n') {
        content.push('\n');
    }
    let mut patterns = Vec::new();
    for scenario in scenarios.iter().filter(|s| !s.cases.is_empty()) {
        let pattern = doc.patterns.iter().find(|p| p.id == scenario.pattern);
        let (method, route, status) = match &scenario.target {
            Target::Endpoint(e) | Target::Page(e) => {
                (e.method.as_str(), e.route.as_str(), e.status)
            }
            Target::Code(_) => ("", "", 0),
        };
        let (function, module, exception) = match &scenario.target {
            Target::Code(c) => (
                c.function.as_str(),
                c.module.as_str(),
                c.error.as_ref().map_or("", |e| e.class.as_str()),
            ),
            _ => ("", "", ""),
        };
        let value = |name: &str| -> Option<String> {
            Some(match name {
                "test_name" => test_name(language, &scenario.words, &scenario.pattern),
                "title" => literal(language, &scenario.words.join(" ")),
                "pattern_id" => scenario.pattern.clone(),
                "template" => literal(language, &scenario.template),
                "count" => scenario.count.to_string(),
                "risk" => format!("{:.2}", scenario.risk),
                "severity" => literal(language, pattern.map_or("", |p| p.severity.as_str())),
                "category" => literal(language, &scenario.category),
                "sample" => literal(
                    language,
                    pattern
                        .and_then(|p| p.samples.first())
                        .map_or("", |s| s.text.as_str()),
                ),
                "method" => literal(language, method),
                "path" => literal(language, route),
                "status" => status.to_string(),
                "function" => literal(language, function),
                "module" => literal(language, module),
                "exception" => literal(language, exception),
                _ => return None,
            })
        };
        content.push_str(&fill(&input.test, value));
        if !content.ends_with('\n') {
            content.push('\n');
        }
        patterns.push(scenario.pattern.clone());
    }
    content.push_str(&fill(&input.epilogue, file_value));
    if !content.ends_with('\n') {
        content.push('\n');
    }
    let tests = u32::try_from(patterns.len()).unwrap_or(u32::MAX);
    Draft::new(path, FileKind::Test, Some(language), content).with_tests(tests, patterns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_found_checked_and_filled() {
        assert_eq!(
            slots("a {{ count }} b {{title}} {{count}}"),
            ["count", "title"]
        );
        let input = TemplateInput {
            name: "Smoke".into(),
            framework: Framework::Pytest,
            prelude: "import x\n".into(),
            test: "def {{test_name}}():\n    assert {{ nope }} == {{count}}\n".into(),
            epilogue: "{{count}}".into(),
        };
        let found = problems(&input);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "test");
        assert!(found[0].1.contains("{{nope}}"), "{}", found[0].1);
        assert_eq!(found[1].0, "epilogue", "count is a per-test variable");
        assert_eq!(
            fill("a {{x}} {{y}} {{", |n| (n == "x").then(|| "1".into())),
            "a 1 {{y}} {{"
        );
    }

    #[test]
    fn text_values_cannot_break_out_of_their_literal() {
        let hostile = "\"); import os; os.system(\"rm -rf /\") #\n";
        assert_eq!(
            literal(Language::Python, hostile),
            "\"\\\"); import os; os.system(\\\"rm -rf /\\\") #\\n\""
        );
        assert_eq!(literal(Language::Ruby, "#{`id`} 'x'"), "'#{`id`} \\'x\\''");
        assert_eq!(
            test_name(Language::Python, &["payment".into(), "failed".into()], "p4"),
            "test_payment_failed_p4"
        );
        assert_eq!(
            test_name(Language::Go, &["payment".into(), "failed".into()], "p4"),
            "TestPaymentFailedP4"
        );
    }
}

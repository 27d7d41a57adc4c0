//! Validation of generated files, in process: code is parsed by the real tree-sitter grammar of
//! its language (every syntax error and missing token is reported with its line and column),
//! then checked against the framework's rules (the imports it needs, the shape of its test
//! functions). JSON manifests are parsed as JSON.

use app::api::testgen::{FileKind, Framework, Language, Problem, Validation};
use tree_sitter::{Node, Parser, Tree};

/// Reported errors per file, at most (a broken file can have thousands).
const MAX_PROBLEMS: usize = 20;

/// Validates one file of a `framework` suite.
pub fn validate(
    framework: Framework,
    path: &str,
    kind: FileKind,
    language: Option<Language>,
    content: &str,
) -> Validation {
    if let Some(language) = language {
        return validate_code(framework, kind, language, content).0;
    }
    if path.ends_with(".json") {
        return match serde_json::from_str::<serde_json::Value>(content) {
            Ok(_) => valid("json"),
            Err(e) => Validation {
                valid: false,
                checker: "json".into(),
                errors: vec![problem(e.line(), e.column(), &e.to_string())],
                warnings: Vec::new(),
            },
        };
    }
    Validation::default()
}

/// Validates a test file of a `framework` suite, and counts the tests in it (0 when it does not
/// parse).
pub fn validate_tests(framework: Framework, content: &str) -> (Validation, u32) {
    validate_code(framework, FileKind::Test, framework.language(), content)
}

fn valid(checker: &str) -> Validation {
    Validation {
        valid: true,
        checker: checker.into(),
        errors: Vec::new(),
        warnings: Vec::new(),
    }
}

fn problem(line: usize, column: usize, message: &str) -> Problem {
    Problem {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        message: message.to_owned(),
    }
}

/// The grammar of `language`, when one is built in.
fn grammar(language: Language) -> Option<(tree_sitter::Language, &'static str)> {
    match language {
        Language::Python => Some((tree_sitter_python::LANGUAGE.into(), "tree-sitter python")),
        Language::Javascript => Some((
            tree_sitter_javascript::LANGUAGE.into(),
            "tree-sitter javascript",
        )),
        Language::Java => Some((tree_sitter_java::LANGUAGE.into(), "tree-sitter java")),
        Language::Ruby => Some((tree_sitter_ruby::LANGUAGE.into(), "tree-sitter ruby")),
        Language::Php => Some((tree_sitter_php::LANGUAGE_PHP.into(), "tree-sitter php")),
        Language::Csharp => Some((tree_sitter_c_sharp::LANGUAGE.into(), "tree-sitter c-sharp")),
        Language::Go => Some((tree_sitter_go::LANGUAGE.into(), "tree-sitter go")),
    }
}

/// Parses `content` as `language`.
pub fn parse(language: Language, content: &str) -> Option<Tree> {
    let (grammar, _) = grammar(language)?;
    let mut parser = Parser::new();
    parser.set_language(&grammar).ok()?;
    parser.parse(content, None)
}

fn validate_code(
    framework: Framework,
    kind: FileKind,
    language: Language,
    content: &str,
) -> (Validation, u32) {
    let Some((_, checker)) = grammar(language) else {
        return (Validation::default(), 0);
    };
    let Some(tree) = parse(language, content) else {
        let gave_up = Validation {
            valid: false,
            checker: checker.into(),
            errors: vec![problem(1, 1, "the parser gave up on this file")],
            warnings: Vec::new(),
        };
        return (gave_up, 0);
    };
    let mut errors = syntax_errors(tree.root_node(), content);
    let mut warnings = Vec::new();
    let mut tests = 0;
    if errors.is_empty() && kind == FileKind::Test {
        let source = content.as_bytes();
        tests = match language {
            Language::Python => check_pytest(
                tree.root_node(),
                source,
                framework,
                &mut errors,
                &mut warnings,
            ),
            Language::Javascript => check_javascript(
                tree.root_node(),
                source,
                framework,
                &mut errors,
                &mut warnings,
            ),
            other => check_static(other, tree.root_node(), source, &mut errors, &mut warnings),
        };
    }
    errors.truncate(MAX_PROBLEMS);
    warnings.truncate(MAX_PROBLEMS);
    let validation = Validation {
        valid: errors.is_empty(),
        checker: checker.into(),
        errors,
        warnings,
    };
    (validation, tests)
}

/// Every `ERROR` and `MISSING` node, in order.
fn syntax_errors(root: Node<'_>, content: &str) -> Vec<Problem> {
    let mut found = Vec::new();
    if !root.has_error() {
        return found;
    }
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if found.len() >= MAX_PROBLEMS {
            break;
        }
        if node.is_missing() {
            let at = node.start_position();
            found.push(problem(
                at.row + 1,
                at.column + 1,
                &format!("missing {}", node.kind()),
            ));
            continue;
        }
        if node.is_error() {
            let at = node.start_position();
            let text = node
                .utf8_text(content.as_bytes())
                .unwrap_or_default()
                .chars()
                .take(40)
                .collect::<String>();
            found.push(problem(
                at.row + 1,
                at.column + 1,
                &format!(
                    "syntax error near {:?}",
                    text.lines().next().unwrap_or_default()
                ),
            ));
            continue;
        }
        if node.has_error() {
            let mut cursor = node.walk();
            let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
    }
    found.sort_by_key(|p| (p.line, p.column));
    found
}

fn text<'a>(node: Node<'_>, source: &'a [u8]) -> &'a str {
    node.utf8_text(source).unwrap_or_default()
}

fn at(node: Node<'_>, message: &str) -> Problem {
    let p = node.start_position();
    problem(p.row + 1, p.column + 1, message)
}

/// pytest: `import pytest` where the file uses it, tests are `test_*` functions at the top or in `Test*` classes
/// without `__init__`, methods take `self`, and nothing else is named like a test.
fn check_pytest(
    root: Node<'_>,
    source: &[u8],
    framework: Framework,
    errors: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> u32 {
    let mut imports_pytest = false;
    let mut tests = 0;
    let mut cursor = root.walk();
    for node in root.children(&mut cursor) {
        let node = if node.kind() == "decorated_definition" {
            node.child_by_field_name("definition").unwrap_or(node)
        } else {
            node
        };
        match node.kind() {
            "import_statement" | "import_from_statement" => {
                imports_pytest |= text(node, source)
                    .split_whitespace()
                    .any(|w| w.trim_end_matches(',') == "pytest");
            }
            "function_definition" => {
                let name = node
                    .child_by_field_name("name")
                    .map(|n| text(n, source))
                    .unwrap_or_default();
                tests += u32::from(name.starts_with("test"));
            }
            "class_definition" => {
                let name = node
                    .child_by_field_name("name")
                    .map(|n| text(n, source))
                    .unwrap_or_default();
                let Some(body) = node.child_by_field_name("body") else {
                    continue;
                };
                let mut inner = body.walk();
                for member in body.children(&mut inner) {
                    let member = if member.kind() == "decorated_definition" {
                        member.child_by_field_name("definition").unwrap_or(member)
                    } else {
                        member
                    };
                    if member.kind() != "function_definition" {
                        continue;
                    }
                    let method = member
                        .child_by_field_name("name")
                        .map(|n| text(n, source))
                        .unwrap_or_default();
                    if method == "__init__" && name.starts_with("Test") {
                        errors.push(at(member, &format!("pytest does not collect {name}: test classes may not define __init__")));
                    }
                    if method.starts_with("test") {
                        if !name.starts_with("Test") {
                            warnings.push(at(member, &format!("{method} is in {name}, which pytest does not collect (class names start with Test)")));
                        }
                        let first = member
                            .child_by_field_name("parameters")
                            .and_then(|p| p.named_child(0))
                            .map(|p| text(p, source))
                            .unwrap_or_default();
                        if first != "self" {
                            errors.push(at(
                                member,
                                &format!("{method} must take self as its first parameter"),
                            ));
                        }
                        // Only what pytest collects counts.
                        tests += u32::from(name.starts_with("Test"));
                    }
                }
            }
            _ => {}
        }
    }
    // pytest runs a file that never names it; one that uses `pytest.` must import it.
    if !imports_pytest && uses_name(&String::from_utf8_lossy(source), "pytest.") {
        errors.push(problem(
            1,
            1,
            "this file uses pytest but does not import it",
        ));
    }
    if tests == 0 {
        warnings.push(problem(1, 1, "no tests in this file"));
    }
    if framework == Framework::Selenium && !text(root, source).contains("browser") {
        warnings.push(problem(
            1,
            1,
            "a Selenium test file that never uses the browser fixture",
        ));
    }
    tests
}

/// Jest, Mocha, Playwright and Cypress: CommonJS only, tests are `test`/`it` calls with a
/// title and a function, inside the framework's `describe`, and the modules each needs are
/// required.
fn check_javascript(
    root: Node<'_>,
    source: &[u8],
    framework: Framework,
    errors: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> u32 {
    let mut tests = 0;
    let mut requires: Vec<String> = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if matches!(node.kind(), "import_statement" | "export_statement") {
            errors.push(at(
                node,
                "ES module syntax in a CommonJS suite: use require()",
            ));
        }
        if node.kind() == "call_expression" {
            let callee = node
                .child_by_field_name("function")
                .map(|f| text(f, source))
                .unwrap_or_default();
            let args = node.child_by_field_name("arguments");
            let arg = |i| args.and_then(|a: Node<'_>| a.named_child(i));
            match callee {
                "require" => {
                    if let Some(a) = arg(0) {
                        requires.push(text(a, source).trim_matches(['\'', '"', '`']).to_owned());
                    }
                }
                "test" | "it" | "test.only" | "it.only" => {
                    tests += 1;
                    let titled =
                        arg(0).is_some_and(|a| matches!(a.kind(), "string" | "template_string"));
                    let body = arg(1).is_some_and(|a| {
                        matches!(
                            a.kind(),
                            "arrow_function" | "function_expression" | "function"
                        )
                    });
                    if !titled || !body {
                        errors.push(at(
                            node,
                            &format!("{callee}() takes a title and a test function"),
                        ));
                    }
                    if callee.ends_with(".only") {
                        errors.push(at(node, &format!("{callee}() would skip every other test")));
                    }
                    let wrong = match framework {
                        Framework::Jest | Framework::Playwright => callee.starts_with("it"),
                        _ => callee.starts_with("test"),
                    };
                    if wrong {
                        warnings.push(at(
                            node,
                            &format!("{callee}() is not this framework's usual test function"),
                        ));
                    }
                }
                _ => {}
            }
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    let needed: &[&str] = match framework {
        Framework::Playwright => &["@playwright/test"],
        Framework::Mocha => &["chai"],
        _ => &[],
    };
    for module in needed {
        if !requires.iter().any(|r| r == module) {
            errors.push(problem(
                1,
                1,
                &format!("a {} test file must require('{module}')", framework.label()),
            ));
        }
    }
    if tests == 0 {
        warnings.push(problem(1, 1, "no tests in this file"));
    }
    tests
}

/// Every node of the tree, depth first.
fn nodes(root: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        out.push(node);
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// JUnit, RSpec, PHPUnit, NUnit and Go: the framework's import, and test functions of the
/// shape it collects.
fn check_static(
    language: Language,
    root: Node<'_>,
    source: &[u8],
    errors: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> u32 {
    let all = nodes(root);
    let whole = text(root, source);
    let mut tests = 0;
    match language {
        Language::Java => {
            if !whole.contains("import org.junit.jupiter.api.Test;") {
                errors.push(problem(
                    1,
                    1,
                    "a JUnit 5 test file must import org.junit.jupiter.api.Test",
                ));
            }
            for node in &all {
                if node.kind() == "marker_annotation" && text(*node, source) == "@Test" {
                    tests += 1;
                    let method = node.parent().and_then(|m| m.parent());
                    if let Some(method) = method.filter(|m| m.kind() == "method_declaration") {
                        let params = method
                            .child_by_field_name("parameters")
                            .map(|p| p.named_child_count())
                            .unwrap_or(0);
                        if params > 0 {
                            errors.push(at(method, "a @Test method takes no parameters here"));
                        }
                        if text(method, source).contains(" static ") {
                            errors.push(at(method, "JUnit does not run static @Test methods"));
                        }
                    }
                }
            }
        }
        Language::Ruby => {
            if !whole.contains("require 'spec_helper'") {
                warnings.push(problem(1, 1, "an RSpec file usually requires spec_helper"));
            }
            for node in &all {
                if node.kind() == "call" {
                    let method = node
                        .child_by_field_name("method")
                        .map(|m| text(m, source))
                        .unwrap_or_default();
                    if method == "it" {
                        tests += 1;
                        if node.child_by_field_name("block").is_none() {
                            errors.push(at(*node, "an it without a block is pending, not a test"));
                        }
                    }
                    if method == "fit" || method == "fdescribe" {
                        errors.push(at(*node, "a focused example would skip every other test"));
                    }
                }
            }
        }
        Language::Php => {
            if !whole.starts_with("<?php") {
                errors.push(problem(1, 1, "a PHP file must start with <?php"));
            }
            if !whole.contains("extends TestCase") {
                errors.push(problem(1, 1, "a PHPUnit test class must extend TestCase"));
            }
            for node in &all {
                if node.kind() == "method_declaration" {
                    let name = node
                        .child_by_field_name("name")
                        .map(|n| text(n, source))
                        .unwrap_or_default();
                    if name.starts_with("test") {
                        tests += 1;
                        if !text(*node, source).starts_with("public") {
                            errors.push(at(
                                *node,
                                &format!("{name} must be public for PHPUnit to run it"),
                            ));
                        }
                    }
                }
            }
        }
        Language::Csharp => {
            if !whole.contains("using NUnit.Framework;") {
                errors.push(problem(1, 1, "an NUnit test file must use NUnit.Framework"));
            }
            for node in &all {
                if node.kind() == "attribute" && text(*node, source) == "Test" {
                    tests += 1;
                    let method = node
                        .parent()
                        .and_then(|l| l.parent())
                        .filter(|m| m.kind() == "method_declaration");
                    if let Some(method) = method
                        && !text(method, source).contains("public ")
                    {
                        errors.push(at(method, "an NUnit test method must be public"));
                    }
                }
            }
        }
        Language::Go => {
            if !whole.contains("\"testing\"") {
                errors.push(problem(1, 1, "a Go test file must import testing"));
            }
            for node in &all {
                if node.kind() == "function_declaration" {
                    let name = node
                        .child_by_field_name("name")
                        .map(|n| text(n, source))
                        .unwrap_or_default();
                    if let Some(rest) = name.strip_prefix("Test") {
                        tests += 1;
                        if rest.starts_with(|c: char| c.is_lowercase()) {
                            warnings.push(at(*node, &format!("go test does not run {name}: the letter after Test must not be lower-case")));
                        }
                        let params = node
                            .child_by_field_name("parameters")
                            .map(|p| text(p, source))
                            .unwrap_or_default();
                        if !params.contains("*testing.T") {
                            errors.push(at(*node, &format!("{name} must take t *testing.T")));
                        }
                    }
                }
            }
        }
        Language::Python | Language::Javascript => {}
    }
    if tests == 0 {
        warnings.push(problem(1, 1, "no tests in this file"));
    }
    tests
}

/// Whether `name` (such as `pytest.`) appears in `source` outside comments, at the start of an
/// identifier.
fn uses_name(source: &str, name: &str) -> bool {
    source.lines().any(|line| {
        let code = line.split('#').next().unwrap_or_default();
        code.match_indices(name).any(|(at, _)| {
            code[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(framework: Framework, language: Language, content: &str) -> Validation {
        validate(framework, "t", FileKind::Test, Some(language), content)
    }

    #[test]
    fn python_syntax_errors_name_their_line_and_column() {
        let v = check(
            Framework::Pytest,
            Language::Python,
            "import pytest\n\ndef test_a():\n    assert (1 +\n\ndef test_b():\n    pass\n",
        );
        assert!(!v.valid);
        assert_eq!(v.checker, "tree-sitter python");
        assert!(v.errors.iter().any(|e| e.line >= 4), "{:?}", v.errors);
        let ok = check(
            Framework::Pytest,
            Language::Python,
            "import pytest\n\n\nclass TestA:\n    def test_a(self):\n        assert True\n",
        );
        assert!(ok.valid, "{:?}", ok.errors);
    }

    #[test]
    fn pytest_rules_catch_what_would_not_be_collected() {
        let v = check(
            Framework::Pytest,
            Language::Python,
            "class TestA:\n    def __init__(self):\n        pytest.skip()\n\n    def test_a():\n        pass\n",
        );
        let messages: Vec<&str> = v.errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("uses pytest but does not import it")),
            "{messages:?}"
        );
        // A file that never names pytest needs no import to be collected.
        let plain = check(
            Framework::Pytest,
            Language::Python,
            "import requests\n\n\ndef test_a():\n    # pytest.fail would need it\n    assert requests\n",
        );
        assert!(plain.valid, "{:?}", plain.errors);
        assert!(
            messages.iter().any(|m| m.contains("__init__")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("self")), "{messages:?}");
    }

    #[test]
    fn javascript_syntax_and_framework_rules() {
        let broken = check(
            Framework::Jest,
            Language::Javascript,
            "describe('x', () => {\n  test('a', () => {\n    expect(1).toBe(1;\n  });\n});\n",
        );
        assert!(!broken.valid);
        assert_eq!(broken.errors[0].line, 3, "{:?}", broken.errors);
        let esm = check(
            Framework::Jest,
            Language::Javascript,
            "import x from 'y';\ntest('a', () => {});\n",
        );
        assert!(esm.errors.iter().any(|e| e.message.contains("ES module")));
        let only = check(
            Framework::Mocha,
            Language::Javascript,
            "const { expect } = require('chai');\nit.only('a', () => {});\n",
        );
        assert!(
            only.errors
                .iter()
                .any(|e| e.message.contains("skip every other test"))
        );
        let playwright = check(
            Framework::Playwright,
            Language::Javascript,
            "test('a', async ({ page }) => {});\n",
        );
        assert!(
            playwright
                .errors
                .iter()
                .any(|e| e.message.contains("@playwright/test"))
        );
        let untitled = check(Framework::Jest, Language::Javascript, "test(() => {});\n");
        assert!(untitled.errors.iter().any(|e| e.message.contains("title")));
    }

    #[test]
    fn java_ruby_php_csharp_and_go_are_parsed_and_checked() {
        let java = check(
            Framework::Junit,
            Language::Java,
            "import org.junit.jupiter.api.Test;\nclass ATest {\n    @Test\n    void a() { int x = ; }\n}\n",
        );
        assert!(!java.valid);
        assert_eq!(java.errors[0].line, 4, "{:?}", java.errors);
        let java_ok = check(
            Framework::Junit,
            Language::Java,
            "import org.junit.jupiter.api.Test;\nclass ATest {\n    @Test\n    void a() {}\n}\n",
        );
        assert!(java_ok.valid && java_ok.warnings.is_empty(), "{java_ok:?}");
        let ruby = check(
            Framework::Rspec,
            Language::Ruby,
            "require 'spec_helper'\nRSpec.describe 'x' do\n  it 'a' do\n    expect(1).to eq(1\n  end\nend\n",
        );
        assert!(!ruby.valid);
        let focused = check(
            Framework::Rspec,
            Language::Ruby,
            "require 'spec_helper'\nRSpec.describe 'x' do\n  fit 'a' do\n  end\nend\n",
        );
        assert!(focused.errors.iter().any(|e| e.message.contains("focused")));
        let php = check(
            Framework::Phpunit,
            Language::Php,
            "<?php\nclass ATest extends TestCase\n{\n    private function testA(): void {}\n}\n",
        );
        assert!(
            php.errors.iter().any(|e| e.message.contains("public")),
            "{php:?}"
        );
        let php_broken = check(
            Framework::Phpunit,
            Language::Php,
            "<?php\nclass ATest extends TestCase\n{\n    public function testA(): void { $x = ; }\n}\n",
        );
        assert!(!php_broken.valid);
        let cs = check(
            Framework::Nunit,
            Language::Csharp,
            "using NUnit.Framework;\npublic class A\n{\n    [Test]\n    void B() {}\n}\n",
        );
        assert!(
            cs.errors.iter().any(|e| e.message.contains("public")),
            "{cs:?}"
        );
        let go = check(
            Framework::Gotest,
            Language::Go,
            "package a\n\nimport \"testing\"\n\nfunc TestA(x int) {}\n",
        );
        assert!(
            go.errors.iter().any(|e| e.message.contains("testing.T")),
            "{go:?}"
        );
        let go_broken = check(
            Framework::Gotest,
            Language::Go,
            "package a\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) { if {\n}\n",
        );
        assert!(!go_broken.valid);
    }

    #[test]
    fn manifests_are_parsed_as_json() {
        let bad = validate(
            Framework::Jest,
            "package.json",
            FileKind::Manifest,
            None,
            "{\"a\": }",
        );
        assert!(!bad.valid);
        assert_eq!(bad.errors[0].line, 1);
        assert!(
            validate(
                Framework::Jest,
                "package.json",
                FileKind::Manifest,
                None,
                "{}"
            )
            .valid
        );
        assert_eq!(
            validate(Framework::Pytest, "README.md", FileKind::Doc, None, "#").checker,
            ""
        );
    }
}

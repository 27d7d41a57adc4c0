//! Test bodies written by a model. The built-in generator's file for one pattern is where the
//! model starts; what it writes must pass the same validation as the generator's files (the
//! language's real grammar and the framework's rules) and hold at least one test. A file that
//! fails is sent back once with its problems; a repair that fails too is discarded and the
//! generator's file kept, with a note saying why. Nothing a model writes is run on the server.

use std::fmt::Write as _;

use app::api::ai::{AiAnswer, AiTask, AiTests, Check, PromptKind, TestAttempt};
use app::api::patterns::{PatternDetail, ResultDoc};
use app::api::testgen::{Framework, GeneratedFile, Problem, Validation};
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use super::team_prompts::{Chosen, Values};
use super::{Ask, BUILT_IN};
use crate::http::error::AppError;
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::testgen;

/// The system prompt for test bodies.
pub const SYSTEM: &str = "You are a senior test engineer. You improve a regression test file \
that a generator wrote from production logs for one failure pattern. Keep the file's imports, \
fixtures, helpers and naming style; keep every test it has and make their assertions specific \
to the failure the evidence shows; add at most three tests for edge cases the evidence \
suggests. Use only what the file already imports, no sleeps, no randomness and no network \
beyond the base URL the file already uses. Reply with the complete file in one fenced code \
block tagged with its language, and nothing else.";

/// The longest reply asked for, in tokens.
pub const TOKENS: u32 = 3000;

/// Bytes of each helper file shown to the model, at most.
const HELPER_BYTES: usize = 4000;

/// Problems quoted in a note, at most.
const QUOTED: usize = 3;

/// Where a model starts: the generator's test file for the pattern and the suite's helpers.
#[derive(Clone, Debug)]
pub struct Base {
    /// The framework.
    pub framework: Framework,
    /// The generator's file, validated.
    pub file: GeneratedFile,
    /// Shared fixtures and helpers the file may use.
    pub helpers: Vec<GeneratedFile>,
}

/// The generator's file for `pattern` under `request`, or why the generator writes none (the
/// pattern is not an error, or the chosen test types do not reach it).
pub fn base(doc: &ResultDoc, pattern: &str, request: &testgen::Request) -> Result<Base, String> {
    let Some(found) = doc.patterns.iter().find(|p| p.id == pattern) else {
        return Err("the analysis has no such pattern".into());
    };
    if !found.is_error && !matches!(found.severity.as_str(), "critical" | "high") {
        return Err(
            "tests are written for error patterns and for high or critical ones, and it is neither"
                .into(),
        );
    }
    // The plan reads only the patterns: a document of this one gives its files alone.
    let alone = ResultDoc {
        patterns: vec![found.clone()],
        ..ResultDoc::default()
    };
    let request = testgen::Request {
        template: None,
        ..request.clone()
    };
    let suite = testgen::generate(&alone, &request).map_err(|e| e.to_string())?;
    let why_not = suite
        .coverage
        .uncovered
        .first()
        .map(|u| u.suggestion.clone())
        .unwrap_or_else(|| "the chosen test types do not reach it".into());
    let mut file = None;
    let mut helpers = Vec::new();
    for f in suite.files {
        match f.kind {
            app::api::testgen::FileKind::Test
                if file.is_none() && f.patterns.iter().any(|p| p == pattern) =>
            {
                file = Some(f);
            }
            app::api::testgen::FileKind::Fixture => helpers.push(f),
            _ => {}
        }
    }
    let file = file.ok_or(why_not)?;
    Ok(Base {
        framework: request.framework,
        file,
        helpers,
    })
}

/// The fence tag of the base file's language.
fn tag(base: &Base) -> &'static str {
    base.framework.language().as_str()
}

/// `code` in a fenced block tagged with the base file's language.
fn fenced(base: &Base, code: &str) -> String {
    format!("```{}\n{}\n```\n", tag(base), code.trim_end())
}

/// What the built-in engine "answers": the generator's file as it is.
pub fn built_in(base: &Base) -> String {
    fenced(base, &base.file.content)
}

/// The question: the pattern's evidence, the suite's helpers and the generator's file, in the
/// test prompt `prompts` chose.
pub fn prompt(detail: &PatternDetail, base: &Base, prompts: &Chosen) -> String {
    let mut helpers = String::new();
    for helper in &base.helpers {
        let _ = writeln!(
            helpers,
            "\nHelper file {} (it exists beside the tests):\n{}",
            helper.path,
            fenced(base, cut_bytes(&helper.content, HELPER_BYTES))
        );
    }
    let values = Values::default()
        .with("evidence", super::explain::prompt(detail))
        .with("framework", base.framework.label())
        .with("file.path", base.file.path.clone())
        .with("file", built_in(base))
        .with("helpers", helpers)
        .pattern(&detail.pattern);
    prompts.question(PromptKind::Test, &values)
}

/// The repair question: the first question, the file written and what validation found.
pub fn repair_prompt(first: &str, base: &Base, code: Option<&str>, problems: &[Problem]) -> String {
    let mut out = first.to_owned();
    match code {
        Some(code) => {
            let _ = writeln!(out, "\nYour previous reply:\n{}", fenced(base, code));
        }
        None => out.push_str("\nYour previous reply held no code.\n"),
    }
    let _ = writeln!(out, "It failed validation:");
    for p in problems {
        let _ = writeln!(out, "- line {}, column {}: {}", p.line, p.column, p.message);
    }
    out.push_str(
        "Reply with the whole corrected file in one fenced code block, and nothing else.\n",
    );
    out
}

/// The code of a reply: its first fenced block that holds something, or the whole reply when it
/// has no block (some models answer with the file alone). None when there is nothing.
pub fn code_of(reply: &str) -> Option<String> {
    let mut inside = false;
    let mut code = String::new();
    for event in Parser::new(reply) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => inside = true,
            Event::Text(text) if inside => code.push_str(&text),
            Event::End(TagEnd::CodeBlock) if inside => {
                if !code.trim().is_empty() {
                    return Some(code);
                }
                inside = false;
            }
            _ => {}
        }
    }
    if inside {
        // A block cut off before its closing fence (the reply hit its token limit).
        return (!code.trim().is_empty()).then_some(code);
    }
    if fences(reply) > 0 {
        // Every block was empty.
        return None;
    }
    let whole = reply.trim();
    (!whole.is_empty()).then(|| format!("{whole}\n"))
}

/// How many fenced code blocks a reply has.
fn fences(reply: &str) -> usize {
    Parser::new(reply)
        .filter(|e| matches!(e, Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_)))))
        .count()
}

/// Whether `reply` is worth caching: its file passes validation (a failed one is asked again
/// next time, not replayed).
pub fn keep(base: &Base) -> super::Keep {
    let base = base.clone();
    std::sync::Arc::new(move |reply: &str| evaluate(&base, reply).1.valid)
}

/// Redaction placeholders in the model's file that the generator's file did not have: the
/// model saw them in place of the logs' values.
fn placeholders(base: &Base, code: &str) -> Vec<&'static str> {
    ["[email]", "[ip]", "[card]", "[secret]"]
        .into_iter()
        .filter(|p| code.contains(p) && !base.file.content.contains(p))
        .collect()
}

/// A reply's code with its validation and test count; a file without tests fails.
fn evaluate(base: &Base, reply: &str) -> (Option<String>, Validation, u32) {
    let Some(code) = code_of(reply) else {
        let empty = Validation {
            valid: false,
            checker: String::new(),
            errors: vec![problem("the reply holds no code")],
            warnings: Vec::new(),
        };
        return (None, empty, 0);
    };
    let (mut validation, tests) = testgen::validate::validate_tests(base.framework, &code);
    if validation.valid && tests == 0 {
        validation.valid = false;
        validation.errors.push(problem("no tests in this file"));
    }
    (Some(code), validation, tests)
}

fn problem(message: &str) -> Problem {
    Problem {
        line: 1,
        column: 1,
        message: message.to_owned(),
    }
}

/// The first problems, for a note.
fn quoted(problems: &[Problem]) -> String {
    let mut out: Vec<String> = problems
        .iter()
        .take(QUOTED)
        .map(|p| format!("line {}: {}", p.line, p.message))
        .collect();
    if problems.len() > QUOTED {
        out.push(format!("{} more", problems.len() - QUOTED));
    }
    out.join("; ")
}

/// Checks of a reply for a model comparison: code in a block, validation, tests.
pub fn checks(base: &Base, reply: &str) -> Vec<Check> {
    let (code, validation, tests) = evaluate(base, reply);
    let blocks = fences(reply);
    let checker = if validation.checker.is_empty() {
        "validation".to_owned()
    } else {
        validation.checker.clone()
    };
    vec![
        Check {
            name: "The file in one code block".into(),
            passed: blocks == 1,
            detail: match (blocks, code.is_some()) {
                (1, _) => None,
                (0, true) => Some("The code came without a fence.".into()),
                (0, false) => Some("No code.".into()),
                (n, _) => Some(format!("{n} code blocks; the first with code was checked.")),
            },
        },
        Check {
            name: format!("Passes {checker} and {}'s rules", base.framework.label()),
            passed: validation.valid,
            detail: (!validation.valid).then(|| quoted(&validation.errors)),
        },
        Check {
            name: "Holds tests".into(),
            passed: tests > 0,
            detail: Some(format!("{tests} test{}", if tests == 1 { "" } else { "s" })),
        },
    ]
}

fn attempt(answer: &AiAnswer, repair: bool, validation: &Validation, tests: u32) -> TestAttempt {
    TestAttempt {
        provider: answer.provider.clone(),
        model: answer.model.clone(),
        repair,
        valid: validation.valid,
        tests,
        errors: validation.errors.clone(),
        tokens_in: answer.tokens_in,
        tokens_out: answer.tokens_out,
        cost: answer.cost,
        cached: answer.cached,
    }
}

/// The model's file, kept in place of the generator's.
fn kept(base: &Base, code: String, validation: Validation, tests: u32) -> GeneratedFile {
    GeneratedFile {
        content: code,
        tests,
        validation,
        ..base.file.clone()
    }
}

/// Asks the organisation's models (through the router) to improve `base`'s file for the
/// pattern in `detail`, validates what comes back, repairs it once, and keeps the generator's
/// file when no valid file results.
pub async fn write(
    state: &AppState,
    ctx: &OrgContext,
    detail: &PatternDetail,
    base: &Base,
    provider: Option<&str>,
    prompts: &Chosen,
) -> Result<AiTests, AppError> {
    let question = prompt(detail, base, prompts);
    let system = prompts.system(AiTask::Tests, SYSTEM);
    let first = super::ask(
        state,
        ctx,
        Ask {
            task: AiTask::Tests,
            system: system.clone(),
            prompt: question.clone(),
            provider,
            model: None,
            max_tokens: TOKENS,
            fallback: true,
            keep: Some(keep(base)),
        },
        || built_in(base),
    )
    .await?;
    let mut out = AiTests {
        pattern_id: detail.pattern.id.clone(),
        framework: base.framework,
        file: base.file.clone(),
        provider: BUILT_IN.into(),
        model: "built-in".into(),
        engine: base.file.clone(),
        attempts: Vec::new(),
        notes: first.notes.clone(),
        tokens_in: 0,
        tokens_out: 0,
        cost: 0.0,
    };
    if first.provider == BUILT_IN {
        out.notes
            .push("The built-in generator's file is shown as it is.".into());
        return Ok(out);
    }
    let (code, validation, tests) = evaluate(base, &first.markdown);
    out.add(attempt(&first, false, &validation, tests));
    if validation.valid {
        let code = code.unwrap_or_default();
        out.note_placeholders(&placeholders(base, &code));
        out.keep(&first, kept(base, code, validation, tests));
        return Ok(out);
    }
    out.notes.push(format!(
        "{} ({}) wrote a file that failed validation ({}); it was asked to repair it once.",
        first.provider,
        first.model,
        quoted(&validation.errors)
    ));
    let second = super::ask(
        state,
        ctx,
        Ask {
            task: AiTask::Tests,
            system,
            prompt: repair_prompt(&question, base, code.as_deref(), &validation.errors),
            provider: Some(&first.provider),
            model: Some(&first.model),
            max_tokens: TOKENS,
            // The repair goes to the model that wrote the file, or to no one.
            fallback: false,
            keep: Some(keep(base)),
        },
        || built_in(base),
    )
    .await?;
    out.notes.extend(second.notes.iter().cloned());
    if second.provider == BUILT_IN {
        out.notes.push(format!(
            "{} ({}) did not answer the repair; its file was discarded and the built-in generator's is kept.",
            first.provider, first.model
        ));
        return Ok(out);
    }
    let (code, validation, tests) = evaluate(base, &second.markdown);
    out.add(attempt(&second, true, &validation, tests));
    if validation.valid {
        out.notes.push(format!(
            "{} ({}) repaired the file; it passes validation.",
            second.provider, second.model
        ));
        let code = code.unwrap_or_default();
        out.note_placeholders(&placeholders(base, &code));
        out.keep(&second, kept(base, code, validation, tests));
    } else {
        out.notes.push(format!(
            "The repaired file failed validation too ({}); it was discarded and the built-in generator's file is kept.",
            quoted(&validation.errors)
        ));
    }
    Ok(out)
}

trait Tally {
    fn add(&mut self, attempt: TestAttempt);
    fn keep(&mut self, answer: &AiAnswer, file: GeneratedFile);
    fn note_placeholders(&mut self, found: &[&str]);
}

impl Tally for AiTests {
    fn add(&mut self, attempt: TestAttempt) {
        // Totals count what this request spent; a cached answer cost nothing now.
        if !attempt.cached {
            self.tokens_in += attempt.tokens_in;
            self.tokens_out += attempt.tokens_out;
            self.cost += attempt.cost;
        }
        self.attempts.push(attempt);
    }

    fn keep(&mut self, answer: &AiAnswer, file: GeneratedFile) {
        self.provider = answer.provider.clone();
        self.model = answer.model.clone();
        self.file = file;
    }

    fn note_placeholders(&mut self, found: &[&str]) {
        if !found.is_empty() {
            self.notes.push(format!(
                "The file uses {} where the logs had real values: the organisation redacts prompts, so the model never saw them. Put real values in before running it.",
                found.join(", ")
            ));
        }
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::testgen::{FileKind, Language};

    fn base() -> Base {
        let content = "import pytest\n\n\ndef test_timeout_is_reported():\n    assert True\n";
        Base {
            framework: Framework::Pytest,
            file: GeneratedFile {
                path: "tests/unit/test_db.py".into(),
                kind: FileKind::Test,
                language: Some(Language::Python),
                content: content.into(),
                tests: 1,
                patterns: vec!["P1".into()],
                validation: Validation::default(),
            },
            helpers: Vec::new(),
        }
    }

    #[test]
    fn the_first_fenced_block_is_the_file() {
        let reply = "Here it is:\n\n```python\nimport pytest\n\ndef test_a():\n    assert 1\n```\n\n```text\nnot this\n```\n";
        assert_eq!(
            code_of(reply).as_deref(),
            Some("import pytest\n\ndef test_a():\n    assert 1\n")
        );
        // No fence: the reply is the file.
        assert_eq!(
            code_of("def test_a():\n    pass").as_deref(),
            Some("def test_a():\n    pass\n")
        );
        // Cut off before its closing fence.
        assert_eq!(
            code_of("```python\ndef test_a():\n    pass\n").as_deref(),
            Some("def test_a():\n    pass\n")
        );
        assert_eq!(code_of("   "), None);
        assert_eq!(code_of("```python\n```"), None);
        // An empty block first: the next one holds the file.
        assert_eq!(
            code_of("```\n```\n\n```python\ndef test_a():\n    pass\n```").as_deref(),
            Some("def test_a():\n    pass\n")
        );
    }

    #[test]
    fn replies_are_validated_with_the_generators_rules() {
        let b = base();
        let good = "```python\nimport pytest\n\n\ndef test_pool_timeout_raises():\n    with pytest.raises(TimeoutError):\n        raise TimeoutError()\n```";
        let (_, v, n) = evaluate(&b, good);
        assert!(v.valid, "{v:?}");
        assert_eq!(n, 1);
        let all = checks(&b, good);
        assert!(all.iter().all(|c| c.passed), "{all:?}");

        let broken = "```python\ndef test_x(:\n    assert True\n```";
        let (_, v, _) = evaluate(&b, broken);
        assert!(!v.valid);
        assert_eq!(
            (v.errors[0].line, v.errors[0].message.as_str()),
            (1, "missing )"),
            "{v:?}"
        );

        // Parses, but holds no test: not a test file.
        let (_, v, n) = evaluate(&b, "```python\nx = 1\n```");
        assert_eq!(n, 0);
        assert!(!v.valid);
        assert!(
            v.errors
                .iter()
                .any(|e| e.message == "no tests in this file")
        );

        // pytest's rules, not only the grammar.
        let (_, v, _) = evaluate(
            &b,
            "```python\nclass TestX:\n    def test_a():\n        assert True\n```",
        );
        assert!(!v.valid, "{v:?}");

        let (_, v, _) = evaluate(&b, "");
        assert_eq!(v.errors[0].message, "the reply holds no code");
        let unfenced = checks(&b, "import pytest\n\ndef test_a():\n    assert True\n");
        assert!(!unfenced[0].passed && unfenced[1].passed, "{unfenced:?}");
    }

    #[test]
    fn the_repair_question_carries_the_problems() {
        let b = base();
        let problems = vec![Problem {
            line: 3,
            column: 9,
            message: "syntax error near \"(:\"".into(),
        }];
        let text = repair_prompt("QUESTION", &b, Some("def test_x(:\n"), &problems);
        assert!(text.starts_with("QUESTION"));
        assert!(text.contains("```python\ndef test_x(:\n```"), "{text}");
        assert!(text.contains("line 3, column 9: syntax error"), "{text}");
        assert!(
            quoted(&[
                problems[0].clone(),
                problems[0].clone(),
                problems[0].clone(),
                problems[0].clone()
            ])
            .ends_with("1 more")
        );
    }

    #[test]
    fn helpers_are_cut_at_a_character() {
        assert_eq!(cut_bytes("héllo", 2), "h");
        assert_eq!(cut_bytes("abc", 10), "abc");
    }
}

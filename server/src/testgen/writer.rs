//! A small indenting writer for generated source, and the pieces every renderer shares: the
//! header comment of a scenario and its cases in the order and number the preferences allow.

use app::api::testgen::Naming;

use super::naming;
use super::plan::{Arg, Case, CaseKind, Code, Scenario, Target, Value};

/// Writes lines at an indentation level.
pub struct Writer {
    out: String,
    depth: usize,
    unit: &'static str,
}

impl Writer {
    /// An empty writer indenting by `unit`.
    pub fn new(unit: &'static str) -> Self {
        Self {
            out: String::with_capacity(4096),
            depth: 0,
            unit,
        }
    }

    /// One line at the current depth (an empty `text` writes a blank line).
    pub fn line(&mut self, text: impl AsRef<str>) -> &mut Self {
        let text = text.as_ref();
        if !text.is_empty() {
            for _ in 0..self.depth {
                self.out.push_str(self.unit);
            }
            self.out.push_str(text);
        }
        self.out.push('\n');
        self
    }

    /// A line, then one level deeper.
    pub fn open(&mut self, text: impl AsRef<str>) -> &mut Self {
        self.line(text);
        self.depth += 1;
        self
    }

    /// One level shallower, then a line (none when `text` is empty).
    pub fn close(&mut self, text: impl AsRef<str>) -> &mut Self {
        self.depth = self.depth.saturating_sub(1);
        if !text.as_ref().is_empty() {
            self.line(text);
        }
        self
    }

    /// A blank line.
    pub fn blank(&mut self) -> &mut Self {
        self.line("")
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.out
    }
}

/// The lines of a scenario's header comment: pattern, count, risk, and where its target came
/// from.
pub fn header(scenario: &Scenario) -> Vec<String> {
    let mut lines = vec![
        format!(
            "Pattern {}: \"{}\"",
            scenario.pattern,
            naming::comment_text(&scenario.template, 160)
        ),
        format!(
            "Seen {} times · risk {:.2} ({} priority) · category {}",
            scenario.count,
            scenario.risk,
            scenario.priority.as_str(),
            scenario.category
        ),
    ];
    if let Target::Code(code) = &scenario.target {
        lines.push(origin_note(code));
        if let Some(error) = &code.error {
            lines.push(format!(
                "The logs show {}: {}",
                naming::comment_text(&error.class, 80),
                naming::comment_text(&error.message, 120)
            ));
        }
        if let Some(frame) = &code.dependency.frame {
            lines.push(format!(
                "Stubbed: {} ({}), which failed in the logs",
                naming::comment_text(&frame.qualified(), 80),
                code.dependency.kind.label()
            ));
        }
    }
    lines
}

fn origin_note(code: &Code) -> String {
    let unit = naming::comment_text(&code_path(code), 120);
    match code.origin {
        super::plan::Origin::Stack => format!("Unit under test: {unit} (from the stack trace)"),
        super::plan::Origin::Message => format!("Unit under test: {unit} (named in the message)"),
        super::plan::Origin::Guessed => format!(
            "Unit under test: {unit} (named after the message: point it at the code that logs this)"
        ),
    }
}

/// `module:Owner.function`.
pub fn code_path(code: &Code) -> String {
    match &code.owner {
        Some(owner) => format!("{}:{owner}.{}", code.module, code.function),
        None => format!("{}:{}", code.module, code.function),
    }
}

/// A case's test name in the chosen naming, as words.
pub fn case_words(case: &Case, naming_style: Naming) -> Vec<String> {
    match naming_style {
        // The parenthesis repeats the pattern; the docstring or comment keeps it.
        Naming::Descriptive => naming::words(case.title.split(" (").next().unwrap_or_default()),
        Naming::Compact => case
            .short
            .split('_')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// Names unique within one file: a repeated name gets `_2`, `_3`, …
#[derive(Default)]
pub struct UniqueNames(std::collections::HashMap<String, u32>);

impl UniqueNames {
    /// `name`, or `name_N` when it was given before.
    pub fn take(&mut self, name: String) -> String {
        let n = self.0.entry(name.clone()).or_insert(0);
        *n += 1;
        if *n == 1 { name } else { format!("{name}_{n}") }
    }
}

/// The comment naming a call's arguments (their values are the pattern's), if it has any.
pub fn arguments_note(case: &Case, args: &[Arg]) -> Option<String> {
    if args.is_empty() {
        return None;
    }
    let names: Vec<&str> = args.iter().map(|a| a.name.as_str()).collect();
    let source = if case.kind == CaseKind::Reproduce {
        ", as the logs show them"
    } else {
        ""
    };
    Some(format!("Arguments{source}: {}", names.join(", ")))
}

/// The arguments as a comma-separated list of `literal`s.
pub fn call_arguments(args: &[Arg], literal: impl Fn(&Value) -> String) -> String {
    args.iter()
        .map(|a| literal(&a.value))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The class and message of the failure a stub raises: the logged error's, or a generic one.
pub fn logged_failure(code: &Code) -> (&str, String) {
    let error = code.error.as_ref();
    (
        error.map_or("DependencyError", |e| e.class.as_str()),
        naming::comment_text(
            error.map_or("failure seen in the logs", |e| e.message.as_str()),
            200,
        ),
    )
}

/// The class a unit lives in, for languages where every function has one: its owner, or one
/// named after the last part of its module (`worker/render.py` → `Render`).
pub fn class_of(code: &Code) -> String {
    match code.owner.as_deref().filter(|o| naming::is_identifier(o)) {
        Some(owner) => owner.to_owned(),
        None => {
            let last = code
                .module
                .rsplit(['.', '/', '\\'])
                .find(|p| !p.is_empty() && !matches!(*p, "py" | "js" | "ts" | "rb" | "php" | "go"))
                .unwrap_or("App");
            naming::pascal(&naming::words(last))
        }
    }
}

//! Manual test cases: the same plan written for a person to carry out, with preconditions,
//! steps, expected result, test data and acceptance criteria; exported as CSV or Markdown.

use app::api::testgen::ManualCase;

use super::plan::{Call, Case, Expect, Plan, Scenario, Stub, Target, Value};
use crate::reports::csv_cell;

/// One manual case per planned test.
pub fn cases(plan: &Plan) -> Vec<ManualCase> {
    let mut out = Vec::new();
    for scenario in &plan.scenarios {
        for case in &scenario.cases {
            out.push(manual_case(out.len() + 1, scenario, case));
        }
    }
    out
}

fn manual_case(n: usize, scenario: &Scenario, case: &Case) -> ManualCase {
    let mut preconditions = Vec::new();
    let mut steps = Vec::new();
    let mut data = Vec::new();
    match (&scenario.target, &case.call) {
        (Target::Endpoint(_), Call::Request { method, path, body }) => {
            preconditions.push("The service under test runs and its address is known".into());
            steps.push(format!("Send {method} {path} to the service"));
            if let Some(body) = body {
                steps.push(format!("with the body {body}"));
                data.push(format!("body: {body}"));
            }
            steps.push("Note the status code and the response body".into());
            data.push(format!("path: {path}"));
        }
        (Target::Page(_), Call::Visit { path }) => {
            preconditions
                .push("The site under test runs; a browser with its developer console open".into());
            steps.push(format!("Open {path}"));
            steps.push("Watch the page and the console while it loads".into());
            data.push(format!("page: {path}"));
        }
        (Target::Code(code), Call::Invoke { args, failures }) => {
            let unit = match &code.owner {
                Some(owner) => format!("{owner}.{}", code.function),
                None => code.function.clone(),
            };
            preconditions.push(format!(
                "A test environment where {unit} ({}) can be called",
                code.module
            ));
            match failures {
                Stub::FailsThenAnswers(n) => preconditions.push(format!(
                    "{} fails the first {n} time(s) it is called, then answers",
                    code.dependency.kind.label()
                )),
                Stub::AlwaysFails => {
                    preconditions.push(format!("{} is unavailable", code.dependency.kind.label()))
                }
                Stub::None => {}
            }
            steps.push(format!(
                "Call {unit} with {}",
                if args.is_empty() {
                    "no arguments".to_owned()
                } else {
                    args.iter()
                        .map(|a| format!("{} = {}", a.name, show(&a.value)))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
            steps.push("Note what it returns or raises, and what it logs".into());
            data.extend(
                args.iter()
                    .map(|a| format!("{}: {}", a.name, show(&a.value))),
            );
        }
        _ => {}
    }
    let (expected, acceptance) = expectation(&case.expect);
    ManualCase {
        id: format!("TC-{n:03}"),
        title: case.title.clone(),
        test_type: scenario.test_type(),
        pattern: scenario.pattern.clone(),
        priority: scenario.priority.as_str().into(),
        preconditions,
        steps,
        expected,
        test_data: data,
        acceptance,
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Str(s) if s.is_empty() => "(empty)".into(),
        Value::Str(s) => format!("\"{s}\""),
        Value::Int(n) => n.to_string(),
        Value::Null => "(none)".into(),
    }
}

fn expectation(expect: &Expect) -> (String, Vec<String>) {
    match expect {
        Expect::NoServerError => (
            "The service answers with a status below 500".into(),
            vec![
                "No 5xx status".into(),
                "The response arrives within 10 seconds".into(),
            ],
        ),
        Expect::ClientError => (
            "The service refuses the request with a 4xx status".into(),
            vec![
                "Status 400–499".into(),
                "No 5xx status and no stack trace in the body".into(),
            ],
        ),
        Expect::Refused { leaks } => (
            "The request is refused with a 4xx status and reveals nothing".into(),
            std::iter::once("Status 400–499".to_owned())
                .chain(
                    leaks
                        .iter()
                        .map(|l| format!("The body does not contain \"{l}\"")),
                )
                .collect(),
        ),
        Expect::PageLoads => (
            "The page loads without an error page".into(),
            vec![
                "Status below 500".into(),
                "No error text on the page".into(),
                "No errors in the console".into(),
            ],
        ),
        Expect::Recovers => (
            "The call succeeds after trying the failed dependency again".into(),
            vec![
                "No error reaches the caller".into(),
                "The dependency was called at least twice".into(),
            ],
        ),
        Expect::FailsCleanly => (
            "The call fails with the application's own error, not the dependency's raw one".into(),
            vec![
                "An error is raised or returned".into(),
                "It is not the dependency's raw error".into(),
            ],
        ),
        Expect::NoCrash { class } => (
            format!("The call does not raise {class}"),
            vec![
                format!("No {class}"),
                "Bad input may be refused with another error".into(),
            ],
        ),
        Expect::Rejects => (
            "The input is refused with an error".into(),
            vec![
                "An error is raised or returned".into(),
                "Nothing is saved".into(),
            ],
        ),
    }
}

/// The cases as CSV (RFC 4180, formula cells defused); lists are joined with ` | `.
pub fn csv(cases: &[ManualCase]) -> String {
    let mut out = String::from(
        "id,title,type,pattern,priority,preconditions,steps,expected,test_data,acceptance_criteria\r\n",
    );
    for c in cases {
        let row = [
            c.id.clone(),
            c.title.clone(),
            c.test_type.as_str().into(),
            c.pattern.clone(),
            c.priority.clone(),
            c.preconditions.join(" | "),
            c.steps
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{}. {s}", i + 1))
                .collect::<Vec<_>>()
                .join(" | "),
            c.expected.clone(),
            c.test_data.join(" | "),
            c.acceptance.join(" | "),
        ];
        out.push_str(
            &row.iter()
                .map(|v| csv_cell(v))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// The cases as Markdown, one section each.
pub fn markdown(cases: &[ManualCase]) -> String {
    let mut out = format!(
        "# Manual test cases\n\n{} case(s), riskiest patterns first.\n",
        cases.len()
    );
    for c in cases {
        out.push_str(&format!(
            "\n## {} — {}\n\n- **Type:** {}\n- **Pattern:** {}\n- **Priority:** {}\n\n**Preconditions**\n\n",
            c.id,
            escape(&c.title),
            c.test_type.as_str(),
            c.pattern,
            c.priority
        ));
        for p in &c.preconditions {
            out.push_str(&format!("- {}\n", escape(p)));
        }
        out.push_str("\n**Steps**\n\n");
        for (i, s) in c.steps.iter().enumerate() {
            out.push_str(&format!("{}. {}\n", i + 1, escape(s)));
        }
        out.push_str(&format!("\n**Expected result:** {}\n", escape(&c.expected)));
        if !c.test_data.is_empty() {
            out.push_str("\n**Test data**\n\n");
            for d in &c.test_data {
                out.push_str(&format!("- `{}`\n", d.replace('`', "'")));
            }
        }
        out.push_str("\n**Acceptance criteria**\n\n");
        for a in &c.acceptance {
            out.push_str(&format!("- [ ] {}\n", escape(a)));
        }
    }
    out
}

/// Markdown text with the characters that would start markup escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

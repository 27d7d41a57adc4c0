//! Go suites with the standard `testing` package: API tests with `net/http` in package
//! `regression`, unit tests beside each package as table-free subtests. Go cannot replace a
//! function at run time, so unit tests call the code with the logged inputs and check that it
//! neither panics nor (for refused input) succeeds; stubbing a dependency needs the interface
//! the code takes, which the README explains.

use app::api::testgen::{FileKind, Language};

use super::{Draft, Options, groups};
use crate::testgen::naming::{self, quoted};
use crate::testgen::plan::{Call, Case, Code, Expect, Scenario, Target, Value};
use crate::testgen::writer::{UniqueNames, Writer, case_words, header};

/// The files of a Go suite.
pub fn render(scenarios: &[&Scenario], options: &Options) -> Vec<Draft> {
    let mut files = Vec::new();
    for ((dir, group), members) in groups(scenarios) {
        let (path, package) = if dir == "unit" {
            let package = members
                .first()
                .and_then(|s| match &s.target {
                    Target::Code(code) => Some(package_of(code)),
                    _ => None,
                })
                .unwrap_or_else(|| "app".into());
            (format!("{package}/{group}_regression_test.go"), package)
        } else {
            (
                format!("regression/{group}_api_test.go"),
                "regression".to_owned(),
            )
        };
        files.push(test_file(path, &package, &members, options));
    }
    files.push(Draft::new(
        "regression/support_test.go",
        FileKind::Fixture,
        Some(Language::Go),
        support(options),
    ));
    files.push(Draft::new(
        "go.mod",
        FileKind::Manifest,
        None,
        go_mod(options),
    ));
    files
}

/// The Go package a unit belongs to: the last element of its import path.
fn package_of(code: &Code) -> String {
    let last = code
        .module
        .trim_end_matches(".go")
        .rsplit(['/', '.'])
        .find(|p| !p.is_empty() && !matches!(*p, "py" | "js" | "ts" | "rb" | "php"))
        .unwrap_or("app");
    let name: String = last
        .to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        "app".into()
    } else {
        name
    }
}

/// The call of a unit: `Function(args)` or `(&Owner{}).Method(args)`; exported names as Go
/// writes them.
fn call_of(code: &Code, args: &[crate::testgen::plan::Arg]) -> String {
    let function = if naming::is_identifier(&code.function) && !code.function.contains('_') {
        code.function.clone()
    } else {
        naming::pascal(&naming::words(&code.function))
    };
    let args = args
        .iter()
        .map(|a| literal(&a.value))
        .collect::<Vec<_>>()
        .join(", ");
    match code.owner.as_deref().filter(|o| naming::is_identifier(o)) {
        Some(owner) => format!("(&{owner}{{}}).{function}({args})"),
        None => format!("{function}({args})"),
    }
}

fn test_file(path: String, package: &str, scenarios: &[&Scenario], options: &Options) -> Draft {
    let unit = scenarios
        .iter()
        .any(|s| matches!(s.target, Target::Code(_)));
    // The tests first: the imports are those they use (Go refuses an unused one).
    let mut w = Writer::new("\t");
    let group = path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches("_regression_test.go");
    let guard = format!("noPanic{}", naming::pascal(&naming::words(group)));
    let mut tests = 0;
    let mut functions = UniqueNames::default();
    for scenario in scenarios {
        w.blank();
        for line in header(scenario) {
            w.line(format!("// {line}"));
        }
        w.line(format!(
            "// Priority {}, category {}.",
            scenario.priority.as_str(),
            scenario.category
        ));
        let name = functions.take(format!("Test{}", naming::pascal(&scenario.words)));
        w.open(format!("func {name}(t *testing.T) {{"));
        let mut names = UniqueNames::default();
        for (i, case) in scenario.cases.iter().enumerate() {
            if i > 0 {
                w.blank();
            }
            let sub = names.take(case_words(case, options.preferences.naming).join("_"));
            test_case(&mut w, scenario, case, &sub, &guard);
            tests += 1;
        }
        w.close("}");
    }
    if unit {
        w.blank();
        w.line(format!(
            "// {guard} fails the test when the code under test panicked."
        ));
        w.open(format!("func {guard}(t *testing.T) {{"));
        w.line("t.Helper()");
        w.open("if r := recover(); r != nil {");
        w.line("t.Fatalf(\"panicked: %v\", r)");
        w.close("}");
        w.close("}");
    }
    let body = w.finish();
    let mut head = Writer::new("\t");
    head.line(format!(
        "// Regression tests generated by Faultline from {} logged pattern(s).",
        scenarios.len()
    ));
    head.line(format!("package {package}"));
    head.blank();
    if body.contains("strings.") {
        head.line("import (");
        head.line("\t\"strings\"");
        head.line("\t\"testing\"");
        head.line(")");
    } else {
        head.line("import \"testing\"");
    }
    let patterns = scenarios.iter().map(|s| s.pattern.clone()).collect();
    Draft::new(
        path,
        FileKind::Test,
        Some(Language::Go),
        head.finish() + &body,
    )
    .with_tests(tests, patterns)
}

fn test_case(w: &mut Writer, scenario: &Scenario, case: &Case, name: &str, guard: &str) {
    w.line(format!("// {}", naming::comment_text(&case.title, 160)));
    w.open(format!("t.Run({}, func(t *testing.T) {{", quoted(name)));
    match (&scenario.target, &case.call) {
        (Target::Endpoint(_), Call::Request { method, path, body }) => {
            // The answer's body is read only to report it or look into it.
            let reads_body = match &case.expect {
                Expect::NoServerError => true,
                Expect::Refused { leaks } => !leaks.is_empty(),
                _ => false,
            };
            w.line(format!(
                "status, {} := request(t, {}, {}, {})",
                if reads_body { "body" } else { "_" },
                quoted(method),
                quoted(path),
                quoted(body.as_deref().unwrap_or_default())
            ));
            let what = format!("{method} {path}").replace('%', "%%");
            match &case.expect {
                Expect::NoServerError => {
                    w.open("if status >= 500 {");
                    w.line(format!(
                        "t.Fatalf({}, status, body)",
                        quoted(&format!("{what} answered %d: %.200s"))
                    ));
                    w.close("}");
                }
                Expect::Refused { leaks } => {
                    w.open("if status < 400 || status >= 500 {");
                    w.line(format!(
                        "t.Fatalf({}, status)",
                        quoted(&format!("{what} answered %d"))
                    ));
                    w.close("}");
                    for leak in leaks {
                        w.open(format!("if strings.Contains(body, {}) {{", quoted(leak)));
                        w.line(format!(
                            "t.Fatalf(\"the answer reveals %q\", {})",
                            quoted(leak)
                        ));
                        w.close("}");
                    }
                }
                _ => {
                    w.open("if status < 400 || status >= 500 {");
                    w.line(format!(
                        "t.Fatalf({}, status)",
                        quoted(&format!("{what} answered %d"))
                    ));
                    w.close("}");
                }
            }
        }
        (Target::Code(code), Call::Invoke { args, .. }) => {
            let call = call_of(code, args);
            match &case.expect {
                Expect::Rejects | Expect::FailsCleanly => {
                    w.line(format!("defer {guard}(t)"));
                    w.line("// Adjust if it returns more than an error.");
                    w.open(format!("if err := {call}; err == nil {{"));
                    w.line(
                        "t.Fatal(\"the input was accepted; it should be refused with an error\")",
                    );
                    w.close("}");
                }
                Expect::Recovers => {
                    w.line(format!("defer {guard}(t)"));
                    w.line("// Adjust if it returns more than an error.");
                    w.open(format!("if err := {call}; err != nil {{"));
                    w.line("t.Fatalf(\"the call failed: %v\", err)");
                    w.close("}");
                }
                _ => {
                    w.line(format!("defer {guard}(t)"));
                    w.line(format!("{call} // it returned rather than panicking"));
                }
            }
        }
        _ => {}
    }
    w.close("})");
}

fn literal(value: &Value) -> String {
    match value {
        Value::Str(s) => quoted(s),
        Value::Int(n) => n.to_string(),
        Value::Null => "nil".into(),
    }
}

fn support(options: &Options) -> String {
    format!(
        r#"// Helpers for the Faultline suite: the service under test.
package regression

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// defaultBaseURL is where the service under test answers; BASE_URL overrides it.
const defaultBaseURL = {}

var client = &http.Client{{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {{
		return http.ErrUseLastResponse
	}},
}}

// request sends a request (with a JSON body unless body is empty) and returns the status and
// body; the test is skipped without a base URL.
func request(t *testing.T, method, path, body string) (int, string) {{
	t.Helper()
	base := os.Getenv("BASE_URL")
	if base == "" {{
		base = defaultBaseURL
	}}
	if base == "" {{
		t.Skip("set BASE_URL to the address of the service under test")
	}}
	var reader io.Reader
	if body != "" {{
		reader = strings.NewReader(body)
	}}
	req, err := http.NewRequest(method, strings.TrimSuffix(base, "/")+path, reader)
	if err != nil {{
		t.Fatal(err)
	}}
	if body != "" {{
		req.Header.Set("Content-Type", "application/json")
	}}
	resp, err := client.Do(req)
	if err != nil {{
		t.Fatal(err)
	}}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {{
		t.Fatal(err)
	}}
	return resp.StatusCode, string(text)
}}
"#,
        quoted(options.context.base_url.as_deref().unwrap_or_default())
    )
}

fn go_mod(options: &Options) -> String {
    let module = options
        .context
        .module_paths
        .first()
        .filter(|m| m.contains('/') && !m.contains(' '))
        .cloned()
        .unwrap_or_else(|| "faultline/regression".into());
    format!("module {module}\n\ngo 1.21\n")
}

//! JUnit 5 suites: unit tests with Mockito (the failing dependency a `@Mock`, the unit under
//! test its `@InjectMocks`), API tests with `java.net.http.HttpClient`, a `Support` class and a
//! Maven `pom.xml`. Each scenario is a `@Nested` class tagged with its priority and category.

use app::api::testgen::{FileKind, Language};

use super::{Draft, Options, groups};
use crate::testgen::naming::{self, quoted};
use crate::testgen::plan::{Call, Case, Code, Expect, Scenario, Stub, Target, Value};
use crate::testgen::writer::{
    UniqueNames, Writer, arguments_note, call_arguments, case_words, header, logged_failure,
};

/// The files of a JUnit 5 suite.
pub fn render(scenarios: &[&Scenario], options: &Options) -> Vec<Draft> {
    let mut files = Vec::new();
    for ((dir, group), members) in groups(scenarios) {
        let class = naming::pascal(&naming::words(&group));
        let package = match (dir, members.first().map(|s| &s.target)) {
            ("unit", Some(Target::Code(code))) => package_of(code, options),
            _ => "faultline.api".to_owned(),
        };
        let suffix = if dir == "unit" { "Test" } else { "ApiTest" };
        let path = format!(
            "src/test/java/{}/{class}{suffix}.java",
            package.replace('.', "/")
        );
        files.push(test_file(
            path,
            &package,
            &format!("{class}{suffix}"),
            &members,
            options,
        ));
    }
    files.push(Draft::new(
        "src/test/java/faultline/Support.java",
        FileKind::Fixture,
        Some(Language::Java),
        support(options),
    ));
    files.push(Draft::new(
        "pom.xml",
        FileKind::Manifest,
        None,
        pom(options),
    ));
    files
}

/// The Java package of a unit: the stack's package, else the project's first module path,
/// else `app`.
fn package_of(code: &Code, options: &Options) -> String {
    let java_like = |m: &str| {
        !m.is_empty()
            && m.split('.').all(naming::is_identifier)
            && !m.contains('/')
            && m.chars().next().is_some_and(|c| c.is_ascii_lowercase())
    };
    if java_like(&code.module) {
        return code.module.clone();
    }
    options
        .context
        .module_paths
        .iter()
        .map(|m| m.replace('/', "."))
        .find(|m| java_like(m))
        .unwrap_or_else(|| "app".into())
}

/// The class a unit lives in: its owner, or one named after its module.
fn class_of(code: &Code) -> String {
    match &code.owner {
        Some(owner) if naming::is_identifier(owner) => owner.clone(),
        _ => {
            let last = code
                .module
                .rsplit(['.', '/', '\\'])
                .find(|p| !p.is_empty() && !matches!(*p, "py" | "js" | "ts" | "rb" | "php" | "go"))
                .unwrap_or("App");
            naming::pascal(&naming::words(last))
        }
    }
}

fn method_of(function: &str) -> String {
    if naming::is_identifier(function) && !function.contains('_') {
        function.to_owned()
    } else {
        naming::camel(&naming::words(function))
    }
}

fn field_of(class: &str) -> String {
    naming::camel(&naming::words(class))
}

fn test_file(
    path: String,
    package: &str,
    class: &str,
    scenarios: &[&Scenario],
    options: &Options,
) -> Draft {
    let unit = scenarios
        .iter()
        .any(|s| matches!(s.target, Target::Code(_)));
    let mocks = unit
        && scenarios
            .iter()
            .any(|s| matches!(&s.target, Target::Code(c) if c.dependency.frame.is_some()));
    let mut w = Writer::new("    ");
    w.line(format!("package {package};"));
    w.blank();
    w.line("import static org.junit.jupiter.api.Assertions.*;");
    if mocks {
        w.line("import static org.mockito.ArgumentMatchers.any;");
        w.line("import static org.mockito.Mockito.*;");
    }
    w.blank();
    w.line("import faultline.Support;");
    if !unit {
        w.line("import java.net.http.HttpResponse;");
    }
    let set_up = options.preferences.setup_teardown
        && scenarios.iter().any(|s| match &s.target {
            Target::Code(c) => {
                c.owner.as_deref().is_some_and(naming::is_identifier)
                    && c.dependency
                        .frame
                        .as_ref()
                        .and_then(|f| f.owner.as_ref())
                        .is_none()
            }
            _ => false,
        });
    if set_up {
        w.line("import org.junit.jupiter.api.AfterEach;");
        w.line("import org.junit.jupiter.api.BeforeEach;");
    }
    w.line("import org.junit.jupiter.api.DisplayName;");
    w.line("import org.junit.jupiter.api.Nested;");
    w.line("import org.junit.jupiter.api.Tag;");
    w.line("import org.junit.jupiter.api.Test;");
    if mocks {
        w.line("import org.junit.jupiter.api.extension.ExtendWith;");
        w.line("import org.mockito.InjectMocks;");
        w.line("import org.mockito.Mock;");
        w.line("import org.mockito.junit.jupiter.MockitoExtension;");
    }
    w.blank();
    w.line(format!(
        "/** Regression tests generated by Faultline from {} logged pattern(s). */",
        scenarios.len()
    ));
    if mocks {
        w.line("@ExtendWith(MockitoExtension.class)");
    }
    w.open(format!("class {class} {{"));
    let mut tests = 0;
    let mut nested = UniqueNames::default();
    for scenario in scenarios {
        w.blank();
        for line in header(scenario) {
            w.line(format!("// {line}"));
        }
        w.line("@Nested");
        w.line(format!("@Tag({})", quoted(scenario.priority.as_str())));
        w.line(format!(
            "@Tag({})",
            quoted(&naming::identifier(&scenario.category))
        ));
        w.line(format!(
            "@DisplayName({})",
            quoted(&naming::comment_text(&scenario.template, 160))
        ));
        let name = nested.take(naming::pascal(&scenario.words));
        w.open(format!("class {name} {{"));
        if let Target::Code(code) = &scenario.target {
            fields(&mut w, code, options);
        }
        let mut names = UniqueNames::default();
        for case in &scenario.cases {
            w.blank();
            let method = names.take(naming::camel(&case_words(case, options.preferences.naming)));
            test_case(&mut w, scenario, case, &method, options);
            tests += 1;
        }
        w.close("}");
    }
    w.close("}");
    let patterns = scenarios.iter().map(|s| s.pattern.clone()).collect();
    Draft::new(path, FileKind::Test, Some(Language::Java), w.finish()).with_tests(tests, patterns)
}

fn fields(w: &mut Writer, code: &Code, options: &Options) {
    let class = class_of(code);
    let Some(owner) = &code.owner else {
        return;
    };
    if !naming::is_identifier(owner) {
        return;
    }
    if let Some(frame) = &code.dependency.frame
        && let Some(dep) = &frame.owner
    {
        w.blank();
        w.line("@Mock");
        w.line(format!("{dep} {};", field_of(dep)));
        w.blank();
        w.line("@InjectMocks");
        w.line(format!("{class} subject;"));
        return;
    }
    w.blank();
    w.line(format!("{class} subject;"));
    if options.preferences.setup_teardown {
        w.blank();
        w.line("@BeforeEach");
        w.open("void setUp() {");
        w.line(format!("subject = new {class}();"));
        w.close("}");
        w.blank();
        w.line("@AfterEach");
        w.open("void tearDown() {");
        w.line("subject = null;");
        w.close("}");
    }
}

fn test_case(w: &mut Writer, scenario: &Scenario, case: &Case, method: &str, options: &Options) {
    w.line("@Test");
    w.line(format!(
        "@DisplayName({})",
        quoted(&naming::comment_text(&case.title, 200))
    ));
    match (&scenario.target, &case.call) {
        (
            Target::Endpoint(_),
            Call::Request {
                method: verb,
                path,
                body,
            },
        ) => {
            w.open(format!("void {method}() throws Exception {{"));
            w.line(format!(
                "HttpResponse<String> response = Support.request({}, {}, {});",
                quoted(verb),
                quoted(path),
                body.as_deref().map_or_else(|| "null".to_owned(), quoted)
            ));
            let what = quoted(&format!("{verb} {path} answered "));
            match &case.expect {
                Expect::NoServerError => {
                    w.line(format!("assertTrue(response.statusCode() < 500, () -> {what} + response.statusCode());"));
                }
                Expect::Refused { leaks } => {
                    w.line(format!("assertTrue(response.statusCode() >= 400 && response.statusCode() < 500, () -> {what} + response.statusCode());"));
                    for leak in leaks {
                        w.line(format!(
                            "assertFalse(response.body().contains({}));",
                            quoted(leak)
                        ));
                    }
                }
                _ => {
                    w.line(format!("assertTrue(response.statusCode() >= 400 && response.statusCode() < 500, () -> {what} + response.statusCode());"));
                }
            }
            w.close("}");
        }
        (Target::Code(code), Call::Invoke { args, failures }) => {
            w.open(format!("void {method}() {{"));
            let static_call = code
                .owner
                .as_deref()
                .is_none_or(|o| !naming::is_identifier(o));
            let target = if static_call {
                class_of(code)
            } else if options.preferences.setup_teardown || code.dependency.frame.is_some() {
                "subject".to_owned()
            } else {
                w.line(format!(
                    "{} subject = new {}();",
                    class_of(code),
                    class_of(code)
                ));
                "subject".to_owned()
            };
            let stubbed = stub(w, code, *failures);
            if let Some(note) = arguments_note(case, args) {
                w.line(format!("// {note}"));
            }
            let call = format!(
                "{target}.{}({});",
                method_of(&code.function),
                call_arguments(args, literal)
            );
            assertions(w, code, &case.expect, &call, stubbed.as_deref());
            w.close("}");
        }
        _ => {
            w.line(format!("void {method}() {{}}"));
        }
    }
}

/// Stubs the dependency; returns the mock's `verify` target (`field).method(any())`).
fn stub(w: &mut Writer, code: &Code, failures: Stub) -> Option<String> {
    let frame = code.dependency.frame.as_ref()?;
    let dep = frame.owner.as_ref()?;
    if failures == Stub::None || code.owner.is_none() {
        return None;
    }
    let (class, message) = logged_failure(code);
    w.line(format!(
        "Support.Failure failure = Support.failure({}, {});",
        quoted(class),
        quoted(&message)
    ));
    let call = format!("{}).{}(any())", field_of(dep), method_of(&frame.function));
    w.line(format!(
        "// Match {}'s parameters if it takes more than one.",
        frame.qualified()
    ));
    match failures {
        Stub::FailsThenAnswers(n) => {
            let throws = "doThrow(failure).".repeat(n as usize);
            w.line(format!("{throws}doAnswer(invocation -> null).when({call};"));
        }
        _ => {
            w.line(format!("doThrow(failure).when({call};"));
        }
    }
    Some(call)
}

fn assertions(w: &mut Writer, code: &Code, expect: &Expect, call: &str, stubbed: Option<&str>) {
    let _ = code;
    match expect {
        Expect::Recovers => {
            w.line(format!("assertDoesNotThrow(() -> {{ {call} }});"));
            if let Some(target) = stubbed {
                let (field, method) = target.split_once(").").unwrap_or((target, ""));
                w.line(format!("verify({field}, atLeast(2)).{method};"));
            }
        }
        Expect::FailsCleanly => {
            w.line(format!(
                "Exception error = assertThrows(Exception.class, () -> {{ {call} }});"
            ));
            if stubbed.is_some() {
                w.line("assertNotSame(failure, error, \"the dependency's raw error escaped\");");
            }
        }
        Expect::NoCrash { class } => {
            w.open("try {");
            w.line(call);
            w.close("} catch (Exception error) {");
            w.line("    // Refusing bad input with another exception is fine.");
            w.line(format!(
                "    assertNotEquals({}, error.getClass().getSimpleName(), () -> \"unexpected \" + error);",
                quoted(class)
            ));
            w.line("}");
        }
        _ => {
            w.line(format!(
                "assertThrows(Exception.class, () -> {{ {call} }});"
            ));
        }
    }
}

fn literal(value: &Value) -> String {
    match value {
        Value::Str(s) => quoted(s),
        Value::Int(n) if i32::try_from(*n).is_ok() => n.to_string(),
        Value::Int(n) => format!("{n}L"),
        Value::Null => "null".into(),
    }
}

fn support(options: &Options) -> String {
    format!(
        r#"package faultline;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;

/** Helpers for the Faultline suite: the service under test and failures as the logs show them. */
public final class Support {{
    /** Where the service under test answers; BASE_URL overrides it. */
    public static final String DEFAULT_BASE_URL = {};

    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    private Support() {{
    }}

    /** The service's address; skips the test when none is set. */
    public static String baseUrl() {{
        String url = System.getenv().getOrDefault("BASE_URL", DEFAULT_BASE_URL);
        Assumptions.assumeFalse(url.isEmpty(), "set BASE_URL to the address of the service under test");
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }}

    /** Sends a request (a JSON body when one is given) and reads the answer as text. */
    public static HttpResponse<String> request(String method, String path, String body) throws Exception {{
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(baseUrl() + path))
                .timeout(Duration.ofSeconds(10));
        if (body != null) {{
            builder.header("Content-Type", "application/json");
        }}
        HttpRequest.BodyPublisher publisher = body == null
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body);
        return CLIENT.send(builder.method(method, publisher).build(), HttpResponse.BodyHandlers.ofString());
    }}

    /** A failure with the exception class and message the logs show. */
    public static final class Failure extends RuntimeException {{
        private static final long serialVersionUID = 1L;

        /** The class named in the logs. */
        public final String loggedClass;

        Failure(String loggedClass, String message) {{
            super(loggedClass + ": " + message);
            this.loggedClass = loggedClass;
        }}
    }}

    /** A failure with the class name and message the logs show. */
    public static Failure failure(String loggedClass, String message) {{
        return new Failure(loggedClass, message);
    }}
}}
"#,
        quoted(options.context.base_url.as_deref().unwrap_or_default())
    )
}

/// The `<groupId>` of the project's pom snippet, if one was given.
fn group_id(options: &Options) -> String {
    options
        .context
        .framework_config
        .as_deref()
        .and_then(|c| c.split("<groupId>").nth(1))
        .and_then(|rest| rest.split("</groupId>").next())
        .map(str::trim)
        .filter(|g| !g.is_empty() && g.split('.').all(naming::is_identifier))
        .unwrap_or("faultline")
        .to_owned()
}

fn pom(options: &Options) -> String {
    let extra: String = options
        .context
        .dependencies
        .iter()
        .filter_map(|d| {
            let mut parts = d.split(':');
            let (g, a, v) = (parts.next()?, parts.next()?, parts.next()?);
            let (g, a, v) = (naming::xml_escape(g), naming::xml_escape(a), naming::xml_escape(v));
            Some(format!(
                "    <dependency>\n      <groupId>{g}</groupId>\n      <artifactId>{a}</artifactId>\n      <version>{v}</version>\n      <scope>test</scope>\n    </dependency>\n"
            ))
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <!-- Regression tests generated by Faultline from production logs. -->
  <groupId>{}</groupId>
  <artifactId>faultline-regression-tests</artifactId>
  <version>1.0.0</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.10.2</version>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>org.mockito</groupId>
      <artifactId>mockito-junit-jupiter</artifactId>
      <version>5.11.0</version>
      <scope>test</scope>
    </dependency>
{extra}  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-surefire-plugin</artifactId>
        <version>3.2.5</version>
      </plugin>
    </plugins>
  </build>
</project>
"#,
        group_id(options)
    )
}

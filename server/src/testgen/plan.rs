//! The plan: which patterns get tests, what each test calls with which inputs, and what it
//! expects, in terms no language is tied to. Renderers only write it out.
//!
//! A pattern becomes a [`Scenario`] with one target:
//! - an HTTP endpoint, for access-log patterns (`GET /api/cart/{id} 502`): API tests call it
//!   with the paths the logs show, boundary and malformed ids; browser tests visit pages;
//! - a unit of code, for everything else: the function a stack trace names (or the one the
//!   message names, or one in the project's module), called with the pattern's variable values,
//!   its failing dependency stubbed to fail the way the logs show.

use app::api::patterns::{PatternDoc, ResultDoc};
use app::api::testgen::{Preferences, ProjectContext, TestType};

use super::frames::{self, Frame};
use super::naming;

/// How urgent a scenario's tests are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Critical severity or a risk of 0.8 and above.
    Critical,
    /// High severity or a risk of 0.6 and above.
    High,
    /// A risk of 0.4 and above.
    Medium,
    /// The rest.
    Low,
}

impl Priority {
    /// Lower-case name, for tags and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }

    fn of(pattern: &PatternDoc) -> Self {
        let risk = pattern.risk.score;
        if pattern.severity == "critical" || risk >= 0.8 {
            Self::Critical
        } else if pattern.severity == "high" || risk >= 0.6 {
            Self::High
        } else if risk >= 0.4 {
            Self::Medium
        } else {
            Self::Low
        }
    }
}

/// The tests of one pattern.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Pattern id.
    pub pattern: String,
    /// Its template.
    pub template: String,
    /// Its events.
    pub count: u64,
    /// Its risk score.
    pub risk: f64,
    /// Its category.
    pub category: String,
    /// How urgent.
    pub priority: Priority,
    /// What groups it into a file: an endpoint's resource, a code unit's module.
    pub group: String,
    /// The behaviour in words (`payment failed for order`).
    pub words: Vec<String>,
    /// What the tests call.
    pub target: Target,
    /// The tests.
    pub cases: Vec<Case>,
}

impl Scenario {
    /// The test type its cases are.
    pub fn test_type(&self) -> TestType {
        match &self.target {
            Target::Endpoint(_) => TestType::Integration,
            Target::Page(_) => TestType::E2e,
            Target::Code(_) => TestType::Unit,
        }
    }
}

/// What a scenario's tests call.
#[derive(Clone, Debug)]
pub enum Target {
    /// An HTTP endpoint of the service.
    Endpoint(Endpoint),
    /// A page, in a browser.
    Page(Endpoint),
    /// A function or method.
    Code(Code),
}

/// An HTTP endpoint as the logs show it.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `GET`, `POST`, …
    pub method: String,
    /// Route with ids as `{id}`.
    pub route: String,
    /// The status the pattern records.
    pub status: u16,
}

/// A unit of code.
#[derive(Clone, Debug)]
pub struct Code {
    /// Where it lives: a Java package, a source file, a Python module path.
    pub module: String,
    /// Its class, when it is a method.
    pub owner: Option<String>,
    /// The function or method.
    pub function: String,
    /// How the generator found it.
    pub origin: Origin,
    /// The dependency whose failure the pattern records.
    pub dependency: Dependency,
    /// The error the logs show, when known.
    pub error: Option<ErrorInfo>,
}

/// How a code unit was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A stack trace named it.
    Stack,
    /// The message named it.
    Message,
    /// Named after the message, in the project's module: check it.
    Guessed,
}

/// The failing dependency.
#[derive(Clone, Debug)]
pub struct Dependency {
    /// What kind of thing failed.
    pub kind: DependencyKind,
    /// The application frame that called it, which a test stubs.
    pub frame: Option<Frame>,
}

/// Kinds of failure, as far as a test needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DependencyKind {
    /// A database call (timeout, pool exhausted, deadlock, refused connection).
    Database,
    /// An upstream HTTP service answering 5xx.
    Upstream,
    /// Mail delivery.
    Mail,
    /// A cache.
    Cache,
    /// A message queue.
    Queue,
    /// A network timeout or refused connection.
    Network,
    /// Input the code refuses (validation, a constraint).
    Invalid,
    /// Credentials refused.
    Auth,
    /// A programming error (a null, a type error).
    Bug,
    /// Something else.
    Other,
}

impl DependencyKind {
    /// Failures that pass when tried again.
    pub fn transient(self) -> bool {
        matches!(
            self,
            Self::Database
                | Self::Upstream
                | Self::Mail
                | Self::Cache
                | Self::Queue
                | Self::Network
        )
    }

    /// In words, for names and comments.
    pub fn label(self) -> &'static str {
        match self {
            Self::Database => "the database",
            Self::Upstream => "the upstream service",
            Self::Mail => "the mail server",
            Self::Cache => "the cache",
            Self::Queue => "the queue",
            Self::Network => "the network",
            Self::Invalid => "invalid input",
            Self::Auth => "refused credentials",
            Self::Bug => "a programming error",
            Self::Other => "its dependency",
        }
    }

    /// A short word for compact names.
    pub fn short(self) -> &'static str {
        match self {
            Self::Database => "db",
            Self::Upstream => "upstream",
            Self::Mail => "mail",
            Self::Cache => "cache",
            Self::Queue => "queue",
            Self::Network => "net",
            Self::Invalid => "invalid",
            Self::Auth => "auth",
            Self::Bug => "bug",
            Self::Other => "dep",
        }
    }
}

/// An error as the logs show it.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    /// Its class, unqualified (`SQLTransientConnectionException`, `TypeError`).
    pub class: String,
    /// Its message.
    pub message: String,
}

/// One test.
#[derive(Clone, Debug)]
pub struct Case {
    /// Reproduction, boundary or negative.
    pub kind: CaseKind,
    /// What it checks, as a sentence.
    pub title: String,
    /// A short name.
    pub short: String,
    /// What it does.
    pub call: Call,
    /// What must happen.
    pub expect: Expect,
}

/// The kinds of test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseKind {
    /// The situation the logs show.
    Reproduce,
    /// Boundary inputs.
    Edge,
    /// Inputs that must be refused.
    Negative,
}

/// What a test does.
#[derive(Clone, Debug)]
pub enum Call {
    /// An HTTP request.
    Request {
        /// Method.
        method: String,
        /// Path (and query).
        path: String,
        /// A JSON (or deliberately broken) body.
        body: Option<String>,
    },
    /// A call of the code unit.
    Invoke {
        /// Arguments.
        args: Vec<Arg>,
        /// How many times the stubbed dependency fails first (`None`: it always fails; no
        /// stub at all when mocking is off or nothing can be stubbed).
        failures: Stub,
    },
    /// A page visit.
    Visit {
        /// Path.
        path: String,
    },
}

/// How the stubbed dependency behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stub {
    /// No stub.
    None,
    /// Fails this many times, then answers.
    FailsThenAnswers(u32),
    /// Always fails.
    AlwaysFails,
}

/// An argument value.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// Parameter name (snake_case).
    pub name: String,
    /// Value.
    pub value: Value,
}

/// A literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// Null, None, nil.
    Null,
}

/// What must happen.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// The response is not a 5xx.
    NoServerError,
    /// The response is a 4xx.
    ClientError,
    /// A 4xx whose body holds none of these strings (a probe must learn nothing).
    Refused {
        /// Text that would show a leak.
        leaks: Vec<String>,
    },
    /// The page answers below 500, shows no error page and logs no console error.
    PageLoads,
    /// The call returns normally (after the stubbed failures).
    Recovers,
    /// The call raises, but not the raw error of the dependency.
    FailsCleanly,
    /// The call does not raise this error class.
    NoCrash {
        /// The class that must not escape.
        class: String,
    },
    /// The call raises (the input is refused).
    Rejects,
}

/// The plan for an analysis.
pub struct Plan {
    /// Scenarios, riskiest first.
    pub scenarios: Vec<Scenario>,
    /// Error patterns the asked-for types cannot test, with why.
    pub skipped: Vec<(String, String)>,
}

/// Plans tests of `types` for the error patterns (and critical/high ones) of `doc`.
pub fn plan(
    doc: &ResultDoc,
    types: &[TestType],
    preferences: &Preferences,
    context: &ProjectContext,
) -> Plan {
    let mut patterns: Vec<&PatternDoc> = doc.patterns.iter().filter(|p| wanted(p)).collect();
    patterns.sort_by(|a, b| {
        b.risk
            .score
            .total_cmp(&a.risk.score)
            .then(b.count.cmp(&a.count))
            .then(a.id.cmp(&b.id))
    });
    let mut scenarios = Vec::new();
    let mut skipped = Vec::new();
    for pattern in patterns {
        let planned = match http_pattern(&pattern.template) {
            Some(endpoint) if types.contains(&TestType::Integration) => {
                Some(endpoint_scenario(pattern, endpoint, preferences))
            }
            Some(endpoint) if types.contains(&TestType::E2e) && page_like(&endpoint) => {
                Some(page_scenario(pattern, endpoint))
            }
            Some(_) => None,
            None if types.contains(&TestType::Unit) => {
                Some(code_scenario(pattern, preferences, context))
            }
            None => None,
        };
        match planned {
            Some(mut scenario) => {
                scenario
                    .cases
                    .truncate(preferences.max_tests_per_pattern.max(1) as usize);
                scenarios.push(scenario);
            }
            None => skipped.push((pattern.id.clone(), why_skipped(pattern, types))),
        }
    }
    Plan { scenarios, skipped }
}

fn wanted(pattern: &PatternDoc) -> bool {
    pattern.is_error || matches!(pattern.severity.as_str(), "critical" | "high")
}

fn why_skipped(pattern: &PatternDoc, types: &[TestType]) -> String {
    match http_pattern(&pattern.template) {
        Some(e) if types == [TestType::E2e] => format!(
            "{} {} is an API call, not a page: choose an integration framework (pytest, Jest…) for it",
            e.method, e.route
        ),
        Some(_) => "an HTTP request: choose integration tests to test it".into(),
        None => {
            "a failure inside the code: choose unit tests (pytest, Jest, JUnit…) to test it".into()
        }
    }
}

/// `GET /api/cart/{id} 502` → the endpoint.
pub fn http_pattern(template: &str) -> Option<Endpoint> {
    let mut parts = template.split(' ');
    let method = parts.next()?;
    let route = parts.next()?;
    let status = parts.next()?.parse::<u16>().ok()?;
    let known = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    (known.contains(&method)
        && route.starts_with('/')
        && parts.next().is_none()
        && (100..600).contains(&status))
    .then(|| Endpoint {
        method: method.to_owned(),
        route: route.to_owned(),
        status,
    })
}

/// Whether people see this endpoint as a page (not an API call or an asset).
fn page_like(endpoint: &Endpoint) -> bool {
    let route = endpoint.route.to_ascii_lowercase();
    endpoint.method == "GET"
        && !route.starts_with("/api/")
        && !route.contains('.')
        && !route.contains("..")
        && !route.starts_with("/cgi-bin")
        && endpoint.status != 404
}

/// Concrete paths the pattern's samples requested, at most `n`.
fn example_paths(pattern: &PatternDoc, n: usize) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for sample in &pattern.samples {
        if let Some(path) = sample.text.split(' ').nth(1)
            && path.starts_with('/')
            && !paths.iter().any(|p| p == path)
        {
            paths.push(path.to_owned());
        }
    }
    paths.truncate(n);
    paths
}

/// The first path segment that names a resource: `/api/v1/cart/{id}` → `cart`.
fn resource(route: &str) -> String {
    route
        .split('/')
        .find(|s| {
            !s.is_empty()
                && !s.starts_with('{')
                && !matches!(*s, "api" | "v1" | "v2" | "v3")
                && s.chars().any(char::is_alphabetic)
        })
        .map_or_else(
            || "root".into(),
            |s| naming::identifier(&s.to_ascii_lowercase()),
        )
}

/// What a probe of this path would leak if it were served.
fn leak_markers(route: &str) -> Vec<String> {
    let route = route.to_ascii_lowercase();
    let mut leaks = Vec::new();
    if route.contains("passwd") {
        leaks.push("root:x:0:0".into());
    }
    if route.contains(".env") || route.contains("config") {
        leaks.extend([
            "DB_PASSWORD".into(),
            "SECRET_KEY".into(),
            "AWS_SECRET_ACCESS_KEY".into(),
        ]);
    }
    if route.contains(".git") {
        leaks.push("[core]".into());
    }
    if route.contains("wp-") || route.contains("cgi-bin") || route.contains("phpmyadmin") {
        leaks.push("<?php".into());
    }
    leaks
}

fn with_id(route: &str, id: &str) -> String {
    route.replace("{id}", id).replace("{hash}", id)
}

fn endpoint_scenario(pattern: &PatternDoc, endpoint: Endpoint, prefs: &Preferences) -> Scenario {
    let examples = example_paths(pattern, 2);
    let examples = if examples.is_empty() {
        vec![with_id(&endpoint.route, "1")]
    } else {
        examples
    };
    let route = endpoint.route.clone();
    let method = endpoint.method.clone();
    let status = endpoint.status;
    let body = matches!(method.as_str(), "POST" | "PUT" | "PATCH").then(|| "{}".to_owned());
    let request = |path: &str, body: Option<String>| Call::Request {
        method: method.clone(),
        path: path.to_owned(),
        body,
    };
    let probe = status == 404 || pattern.category == "security" || !leak_markers(&route).is_empty();
    let mut cases = Vec::new();
    let (expect, verb) = if probe {
        (
            Expect::Refused {
                leaks: leak_markers(&route),
            },
            "is refused and reveals nothing",
        )
    } else if status >= 500 {
        (Expect::NoServerError, "answers without a server error")
    } else {
        (
            Expect::ClientError,
            "is refused with a client error, not a crash",
        )
    };
    for (i, path) in examples.iter().enumerate() {
        cases.push(Case {
            kind: CaseKind::Reproduce,
            title: format!("{method} {path} {verb} (logged {status})"),
            short: format!(
                "{}_{}",
                pattern.id,
                if i == 0 {
                    "repro".into()
                } else {
                    format!("repro{}", i + 1)
                }
            ),
            call: request(path, body.clone()),
            expect: expect.clone(),
        });
    }
    let has_id = route.contains("{id}");
    if prefs.edge_cases && has_id {
        for (id, what) in [
            ("0", "id 0"),
            ("9223372036854775807", "the largest 64-bit id"),
        ] {
            cases.push(Case {
                kind: CaseKind::Edge,
                title: format!("{method} {route} with {what} answers without a server error"),
                short: format!(
                    "{}_edge_{}",
                    pattern.id,
                    if id == "0" { "zero" } else { "max" }
                ),
                call: request(&with_id(&route, id), body.clone()),
                expect: Expect::NoServerError,
            });
        }
    }
    if prefs.negative_tests {
        if has_id {
            cases.push(Case {
                kind: CaseKind::Negative,
                title: format!(
                    "{method} {route} with a malformed id is refused with a client error"
                ),
                short: format!("{}_neg_malformed_id", pattern.id),
                call: request(&with_id(&route, "not-a-number%27%22"), body.clone()),
                expect: Expect::ClientError,
            });
        }
        if body.is_some() {
            cases.push(Case {
                kind: CaseKind::Negative,
                title: format!(
                    "{method} {route} with a broken JSON body is refused with a client error"
                ),
                short: format!("{}_neg_broken_body", pattern.id),
                call: request(&examples[0], Some("{\"unterminated\": ".into())),
                expect: Expect::ClientError,
            });
        }
    }
    Scenario {
        pattern: pattern.id.clone(),
        template: pattern.template.clone(),
        count: pattern.count,
        risk: pattern.risk.score,
        category: pattern.category.clone(),
        priority: Priority::of(pattern),
        group: resource(&route),
        words: naming::words(&format!("{method} {route}")),
        target: Target::Endpoint(endpoint),
        cases,
    }
}

fn page_scenario(pattern: &PatternDoc, endpoint: Endpoint) -> Scenario {
    let mut paths = example_paths(pattern, 2);
    if paths.is_empty() {
        paths.push(with_id(&endpoint.route, "1"));
    }
    let cases = paths
        .iter()
        .enumerate()
        .map(|(i, path)| Case {
            kind: CaseKind::Reproduce,
            title: format!(
                "the page {path} loads without an error (logged {})",
                endpoint.status
            ),
            short: format!("{}_page{}", pattern.id, i + 1),
            call: Call::Visit { path: path.clone() },
            expect: Expect::PageLoads,
        })
        .collect();
    Scenario {
        pattern: pattern.id.clone(),
        template: pattern.template.clone(),
        count: pattern.count,
        risk: pattern.risk.score,
        category: pattern.category.clone(),
        priority: Priority::of(pattern),
        group: resource(&endpoint.route),
        words: naming::words(&endpoint.route),
        target: Target::Page(endpoint),
        cases,
    }
}

/// Text that names what failed, most telling first: the root cause, the message.
fn failure_text(pattern: &PatternDoc, error: Option<&ErrorInfo>) -> String {
    let mut text = String::new();
    if let Some(e) = error {
        text.push_str(&e.class);
        text.push(' ');
        text.push_str(&e.message);
        text.push(' ');
    }
    text.push_str(&pattern.template);
    if let Some(stack) = pattern.samples.iter().find_map(|s| s.stack.as_deref()) {
        text.push(' ');
        text.push_str(stack);
    }
    text.to_ascii_lowercase()
}

/// What kind of failure `text` describes.
pub fn dependency_kind(text: &str, category: &str) -> DependencyKind {
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if has(&[
        "nullpointer",
        "typeerror",
        "attributeerror",
        "keyerror",
        "indexerror",
        "nomethoderror",
        "nullreference",
        "undefined is not",
        "cannot read propert",
        "nil pointer",
        "unsupported operand",
    ]) {
        DependencyKind::Bug
    } else if has(&[
        "validation",
        "invalid",
        "must be",
        "unique constraint",
        "duplicate key",
        "violates",
    ]) {
        DependencyKind::Invalid
    } else if has(&[
        "password authentication failed",
        "bad credentials",
        "unauthorized",
        "invalid token",
        "login failed",
        "access denied",
    ]) {
        DependencyKind::Auth
    } else if has(&[
        "jdbc",
        "sql",
        "hikari",
        "psycopg",
        "database",
        "deadlock",
        "postgres",
        "mysql",
        "mongo",
        "sequelize",
        "prisma",
        "activerecord",
        "pdo",
        "operationalerror",
        "connection pool",
    ]) {
        DependencyKind::Database
    } else if has(&["smtp", "mail"]) {
        DependencyKind::Mail
    } else if has(&["redis", "memcache", "cache"]) {
        DependencyKind::Cache
    } else if has(&["kafka", "rabbit", "amqp", "sqs", "queue", "broker"]) {
        DependencyKind::Queue
    } else if has(&[
        "upstream",
        "503",
        "502",
        "504",
        "service unavailable",
        "bad gateway",
        "gateway timeout",
    ]) {
        DependencyKind::Upstream
    } else if has(&[
        "timeout",
        "timed out",
        "connection refused",
        "econnrefused",
        "econnreset",
        "unreachable",
        "connection reset",
    ]) {
        DependencyKind::Network
    } else {
        match category {
            "database" => DependencyKind::Database,
            "network" => DependencyKind::Network,
            "dependency" => DependencyKind::Upstream,
            "auth" => DependencyKind::Auth,
            "validation" => DependencyKind::Invalid,
            _ => DependencyKind::Other,
        }
    }
}

/// An identifier the message itself names: `send_invoice` in `Task send_invoice[…] raised`.
fn named_function(template: &str) -> Option<String> {
    template
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .filter(|t| !t.contains('.') && t.len() > 3)
        .find(|t| {
            let snake = t.contains('_')
                && t.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            let camel = t.starts_with(|c: char| c.is_ascii_lowercase())
                && t.chars().any(|c| c.is_ascii_uppercase())
                && t.chars().all(|c| c.is_ascii_alphanumeric());
            (snake || camel) && !t.starts_with('_')
        })
        .map(str::to_owned)
}

/// Words that do not name a value: `for <*>`, `after <*>`.
const NOT_NAMES: [&str; 12] = [
    "for", "from", "to", "of", "in", "at", "on", "after", "the", "with", "by", "is",
];

/// A name for a value from its shape: an address, an e-mail, a `user-10` style id.
fn name_of_value(value: &str) -> Option<String> {
    if value.parse::<std::net::IpAddr>().is_ok() {
        return Some("ip_address".into());
    }
    if value.contains('@') && value.contains('.') {
        return Some("email".into());
    }
    if value.len() == 36 && value.matches('-').count() == 4 {
        return Some("id".into());
    }
    let (prefix, digits) = value.rsplit_once(['-', '_'])?;
    (digits.chars().all(|c| c.is_ascii_digit())
        && !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_alphabetic()))
    .then(|| naming::snake(&naming::words(prefix)))
}

/// The pattern's variables as arguments, at most three: named after the word just before each
/// `<*>` (`order <*>` → `order`), else after the value's shape, with the most frequent value.
/// A pattern without variables that quotes what it refused (`field "email" … (got "a@b")`)
/// gets that value.
fn arguments(pattern: &PatternDoc) -> Vec<Arg> {
    let pieces: Vec<&str> = pattern.template.split("<*>").collect();
    let mut args: Vec<Arg> = Vec::new();
    for (i, variable) in pattern.variables.iter().enumerate().take(3) {
        let raw = variable
            .top
            .first()
            .map(|v| v.value.clone())
            .unwrap_or_default();
        let before = pieces.get(i).copied().unwrap_or_default();
        let word = before
            .split(|c: char| !c.is_alphanumeric())
            .rfind(|w| !w.is_empty())
            .filter(|w| {
                w.chars().any(char::is_alphabetic)
                    && !NOT_NAMES.contains(&w.to_ascii_lowercase().as_str())
            })
            .map(|w| naming::snake(&naming::words(w)))
            .or_else(|| name_of_value(&raw))
            .unwrap_or_else(|| format!("value{}", i + 1));
        let mut name = word;
        if args.iter().any(|a| a.name == name) {
            name = format!("{name}_{}", i + 1);
        }
        let value = match raw.parse::<i64>() {
            Ok(n) if !raw.starts_with('0') || raw == "0" => Value::Int(n),
            _ => Value::Str(raw),
        };
        args.push(Arg { name, value });
    }
    if args.is_empty() {
        let quoted: Vec<&str> = pattern.template.split('"').skip(1).step_by(2).collect();
        if let Some(value) = quoted.last() {
            let name = if quoted.len() > 1 { quoted[0] } else { "value" };
            args.push(Arg {
                name: naming::snake(&naming::words(name)),
                value: Value::Str((*value).to_owned()),
            });
        }
    }
    args
}

/// Boundary values for `args`: zero and empty string.
fn edge_args(args: &[Arg]) -> Vec<Arg> {
    args.iter()
        .map(|a| Arg {
            name: a.name.clone(),
            value: match a.value {
                Value::Int(_) => Value::Int(0),
                _ => Value::Str(String::new()),
            },
        })
        .collect()
}

/// Values the code should refuse: a null for every argument, or one for a call without any.
fn null_args(args: &[Arg]) -> Vec<Arg> {
    if args.is_empty() {
        return vec![Arg {
            name: "value".into(),
            value: Value::Null,
        }];
    }
    args.iter()
        .map(|a| Arg {
            name: a.name.clone(),
            value: Value::Null,
        })
        .collect()
}

fn unqualified(class: &str) -> String {
    class
        .rsplit(['.', ':', '\\'])
        .next()
        .unwrap_or(class)
        .to_owned()
}

fn code_scenario(pattern: &PatternDoc, prefs: &Preferences, context: &ProjectContext) -> Scenario {
    let stack = pattern.samples.iter().find_map(|s| s.stack.as_deref());
    let error = stack
        .and_then(frames::root_cause)
        .map(|(class, message)| ErrorInfo {
            class: unqualified(&class),
            message,
        });
    let app_frames = stack.map(frames::app_frames).unwrap_or_default();
    let kind = dependency_kind(&failure_text(pattern, error.as_ref()), &pattern.category);
    let default_module = context
        .module_paths
        .first()
        .cloned()
        .unwrap_or_else(|| "app".into());
    // The code that failed, and the frame it called (the one a test stubs).
    let (subject, dependency_frame, origin) = match app_frames.as_slice() {
        [] => {
            let (function, origin) = match named_function(&pattern.template) {
                Some(f) => (f, Origin::Message),
                None => (
                    naming::snake(
                        &naming::words(&pattern.template)
                            .into_iter()
                            .take(4)
                            .collect::<Vec<_>>(),
                    ),
                    Origin::Guessed,
                ),
            };
            (
                Frame {
                    module: default_module,
                    owner: None,
                    function,
                },
                None,
                origin,
            )
        }
        [only] => (only.clone(), None, Origin::Stack),
        [inner, outer, ..] if kind != DependencyKind::Bug => {
            (outer.clone(), Some(inner.clone()), Origin::Stack)
        }
        [inner, ..] => (inner.clone(), None, Origin::Stack),
    };
    let args = arguments(pattern);
    let stubbable = prefs.mocking && dependency_frame.is_some();
    let what = naming::words(&pattern.template).join(" ");
    let what = if what.is_empty() {
        subject.function.clone()
    } else {
        what
    };
    let call = subject.owner.as_ref().map_or_else(
        || subject.function.clone(),
        |o| format!("{o}.{}", subject.function),
    );
    let class = error.as_ref().map(|e| e.class.clone());
    let mut cases = Vec::new();
    let id = &pattern.id;
    let invoke = |args: Vec<Arg>, failures: Stub| Call::Invoke { args, failures };
    if kind.transient() && stubbable {
        cases.push(Case {
            kind: CaseKind::Reproduce,
            title: format!("{call} recovers when {} fails once ({what})", kind.label()),
            short: format!("{id}_{}_recovers", kind.short()),
            call: invoke(args.clone(), Stub::FailsThenAnswers(1)),
            expect: Expect::Recovers,
        });
        if prefs.negative_tests {
            cases.push(Case {
                kind: CaseKind::Negative,
                title: format!(
                    "{call} reports a handled error when {} keeps failing",
                    kind.label()
                ),
                short: format!("{id}_{}_fails_cleanly", kind.short()),
                call: invoke(args.clone(), Stub::AlwaysFails),
                expect: Expect::FailsCleanly,
            });
        }
        if prefs.edge_cases && !args.is_empty() {
            cases.push(Case {
                kind: CaseKind::Edge,
                title: format!(
                    "{call} fails cleanly with boundary inputs while {} is down",
                    kind.label()
                ),
                short: format!("{id}_{}_edge", kind.short()),
                call: invoke(edge_args(&args), Stub::AlwaysFails),
                expect: Expect::FailsCleanly,
            });
        }
    } else if matches!(kind, DependencyKind::Invalid | DependencyKind::Auth) {
        let refused = if kind == DependencyKind::Auth {
            "refuses the credentials the logs show"
        } else {
            "refuses the input the logs show"
        };
        cases.push(Case {
            kind: CaseKind::Reproduce,
            title: format!("{call} {refused} ({what})"),
            short: format!("{id}_{}_rejects", kind.short()),
            call: invoke(args.clone(), Stub::None),
            expect: Expect::Rejects,
        });
        if prefs.edge_cases && !args.is_empty() {
            cases.push(Case {
                kind: CaseKind::Edge,
                title: format!("{call} refuses empty and zero inputs"),
                short: format!("{id}_{}_edge_empty", kind.short()),
                call: invoke(edge_args(&args), Stub::None),
                expect: Expect::Rejects,
            });
        }
        if prefs.negative_tests {
            cases.push(Case {
                kind: CaseKind::Negative,
                title: format!("{call} refuses missing inputs"),
                short: format!("{id}_{}_neg_null", kind.short()),
                call: invoke(null_args(&args), Stub::None),
                expect: Expect::Rejects,
            });
        }
    } else {
        let class = class.clone().unwrap_or_else(|| "Error".into());
        let stub = if kind.transient() && stubbable {
            Stub::AlwaysFails
        } else {
            Stub::None
        };
        cases.push(Case {
            kind: CaseKind::Reproduce,
            title: format!("{call} does not raise {class} for the inputs the logs show ({what})"),
            short: format!("{id}_{}_no_crash", kind.short()),
            call: invoke(args.clone(), stub),
            expect: Expect::NoCrash {
                class: class.clone(),
            },
        });
        if prefs.edge_cases && !args.is_empty() {
            cases.push(Case {
                kind: CaseKind::Edge,
                title: format!("{call} does not raise {class} for empty and zero inputs"),
                short: format!("{id}_{}_edge", kind.short()),
                call: invoke(edge_args(&args), stub),
                expect: Expect::NoCrash {
                    class: class.clone(),
                },
            });
        }
        if prefs.negative_tests {
            cases.push(Case {
                kind: CaseKind::Negative,
                title: format!("{call} does not raise {class} for missing inputs"),
                short: format!("{id}_{}_neg_null", kind.short()),
                call: invoke(null_args(&args), stub),
                expect: Expect::NoCrash { class },
            });
        }
    }
    let group = group_of(&subject.module);
    Scenario {
        pattern: pattern.id.clone(),
        template: pattern.template.clone(),
        count: pattern.count,
        risk: pattern.risk.score,
        category: pattern.category.clone(),
        priority: Priority::of(pattern),
        group,
        words: naming::words(&what),
        target: Target::Code(Code {
            module: subject.module,
            owner: subject.owner,
            function: subject.function,
            origin,
            dependency: Dependency {
                kind,
                frame: if stubbable { dependency_frame } else { None },
            },
            error,
        }),
        cases,
    }
}

/// A module's short name for file grouping: `com.shop.checkout` → `checkout`,
/// `src/pricing/client.js` → `pricing_client`.
fn group_of(module: &str) -> String {
    let trimmed = module
        .trim_end_matches(".js")
        .trim_end_matches(".ts")
        .trim_end_matches(".py")
        .trim_end_matches(".rb")
        .trim_end_matches(".php")
        .trim_end_matches(".go");
    let parts: Vec<&str> = trimmed
        .split(['.', '/', '\\'])
        .filter(|p| {
            !p.is_empty()
                && !matches!(
                    *p,
                    "src" | "lib" | "app" | "main" | "com" | "org" | "net" | "io"
                )
        })
        .collect();
    let tail: Vec<String> = parts
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|p| p.to_ascii_lowercase())
        .collect();
    if tail.is_empty() {
        "app".into()
    } else {
        naming::identifier(&tail.join("_"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_log_patterns_become_endpoints() {
        let e = http_pattern("GET /api/cart/{id} 502").expect("an endpoint");
        assert_eq!(
            (e.method.as_str(), e.route.as_str(), e.status),
            ("GET", "/api/cart/{id}", 502)
        );
        assert!(http_pattern("Payment failed for order <*>").is_none());
        assert!(http_pattern("GET /x 502 extra").is_none());
        assert_eq!(resource("/api/v1/cart/{id}"), "cart");
        assert_eq!(resource("/"), "root");
    }

    #[test]
    fn failures_are_classified_by_what_they_name() {
        assert_eq!(
            dependency_kind("sqltransientconnectionexception hikaripool", "payment"),
            DependencyKind::Database
        );
        assert_eq!(
            dependency_kind("upstream pricing-service responded 503", "dependency"),
            DependencyKind::Upstream
        );
        assert_eq!(
            dependency_kind("typeerror: unsupported operand", "payment"),
            DependencyKind::Bug
        );
        assert_eq!(
            dependency_kind("validation failed: field email", "validation"),
            DependencyKind::Invalid
        );
        assert_eq!(
            dependency_kind("smtp connection to failed", "application"),
            DependencyKind::Mail
        );
        assert_eq!(
            dependency_kind("something odd", "application"),
            DependencyKind::Other
        );
    }

    #[test]
    fn named_functions_and_groups() {
        assert_eq!(
            named_function("Task send_invoice[<*>] raised unexpected exception").as_deref(),
            Some("send_invoice")
        );
        assert_eq!(named_function("deadlock detected"), None);
        assert_eq!(group_of("com.shop.checkout"), "shop_checkout");
        assert_eq!(group_of("src/pricing/client.js"), "pricing_client");
        assert_eq!(group_of("app"), "app");
    }

    #[test]
    fn arguments_are_named_after_their_words_or_values() {
        let pattern = |template: &str, values: &[&str]| PatternDoc {
            template: template.into(),
            variables: values
                .iter()
                .map(|v| app::api::patterns::VariableDoc {
                    top: vec![app::api::patterns::ValueCountDoc {
                        value: (*v).into(),
                        count: 1,
                    }],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let names = |p: &PatternDoc| {
            arguments(p)
                .into_iter()
                .map(|a| (a.name, a.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&pattern(
                "Login failed for <*> from <*>: bad credentials",
                &["user-10", "203.0.113.7"]
            )),
            [
                ("user".into(), Value::Str("user-10".into())),
                ("ip_address".into(), Value::Str("203.0.113.7".into()))
            ]
        );
        assert_eq!(
            names(&pattern("Payment failed for order <*>", &["159724"])),
            [("order".into(), Value::Int(159724))]
        );
        assert_eq!(
            names(&pattern("code <*>", &["007"])),
            [("code".into(), Value::Str("007".into()))]
        );
        assert_eq!(
            names(&pattern(
                "validation failed: field \"email\" must be a valid address (got \"a@b\")",
                &[]
            )),
            [("email".into(), Value::Str("a@b".into()))]
        );
    }
}

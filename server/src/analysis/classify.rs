//! Severity, category, business impact and the risk score of a pattern, each with the rule that
//! decided it so the interface can explain it.

use serde::Serialize;

use super::level::Level;

/// How bad a pattern is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational or minor.
    Low,
    /// Worth a look.
    Medium,
    /// A failure users or operators feel.
    High,
    /// Outage, data loss or a crash.
    Critical,
}

impl Severity {
    /// The weight used in the risk score.
    pub fn weight(self) -> f64 {
        match self {
            Self::Critical => 1.0,
            Self::High => 0.75,
            Self::Medium => 0.5,
            Self::Low => 0.25,
        }
    }
}

/// What a pattern is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Authentication and authorisation.
    Auth,
    /// Payments and billing.
    Payment,
    /// Databases and queries.
    Database,
    /// Connections, sockets, DNS, TLS.
    Network,
    /// Memory, disk, CPU, pools, quotas.
    Resource,
    /// Upstream services the application depends on.
    Dependency,
    /// Invalid input.
    Validation,
    /// Settings and environment.
    Configuration,
    /// HTTP requests and responses.
    Api,
    /// Security signals (attacks, scanners).
    Security,
    /// Files and storage.
    Storage,
    /// Everything else the application says.
    Application,
}

/// Keyword rules, first match wins. Keywords are matched against the lower-cased template as
/// whole words or word prefixes.
const CATEGORY_RULES: &[(Category, &[&str])] = &[
    (
        Category::Security,
        &[
            "sql injection",
            "xss",
            "path traversal",
            "attack",
            "malicious",
            "scanner",
            "csrf",
        ],
    ),
    (
        Category::Payment,
        &[
            "payment",
            "charge",
            "invoice",
            "refund",
            "billing",
            "card declined",
            "checkout",
            "stripe",
            "paypal",
        ],
    ),
    (
        Category::Auth,
        &[
            "auth",
            "login",
            "logon",
            "password",
            "credential",
            "unauthorized",
            "forbidden",
            "permission denied",
            "access denied",
            "token",
            "session expired",
            "invalid user",
            "sign in",
            "signin",
            "oauth",
            "saml",
            "mfa",
            "401",
            "403",
        ],
    ),
    (
        Category::Database,
        &[
            "sql",
            "query",
            "database",
            "db ",
            "jdbc",
            "postgres",
            "mysql",
            "mongo",
            "redis",
            "deadlock",
            "transaction",
            "constraint",
            "duplicate key",
            "hikari",
            "connection pool",
            "statement",
            "orm",
            "psycopg",
            "sqlalchemy",
            "sqlite",
            "sqlstate",
        ],
    ),
    (
        Category::Resource,
        &[
            "out of memory",
            "outofmemory",
            "oom",
            "heap",
            "memory",
            "disk full",
            "no space left",
            "quota",
            "cpu",
            "too many open files",
            "exhausted",
            "gc overhead",
            "throttl",
        ],
    ),
    (
        Category::Network,
        &[
            "connection refused",
            "connection reset",
            "timed out",
            "timeout",
            "socket",
            "unreachable",
            "dns",
            "resolve",
            "tls",
            "ssl",
            "handshake",
            "network",
            "broken pipe",
            "econnrefused",
            "econnreset",
            "etimedout",
        ],
    ),
    (
        Category::Dependency,
        &[
            "upstream",
            "service unavailable",
            "bad gateway",
            "gateway timeout",
            "circuit",
            "downstream",
            "external service",
            "503",
            "502",
            "504",
            "dependency",
        ],
    ),
    (
        Category::Validation,
        &[
            "invalid",
            "validation",
            "malformed",
            "must be",
            "required field",
            "missing field",
            "bad request",
            "cannot parse",
            "parse error",
            "unexpected token",
            "schema",
            "422",
            "400",
        ],
    ),
    (
        Category::Configuration,
        &[
            "config",
            "configuration",
            "setting",
            "property",
            "environment variable",
            "not configured",
            "deprecated",
            "feature flag",
        ],
    ),
    (
        Category::Storage,
        &[
            "file",
            "directory",
            "no such file",
            "i/o",
            "io error",
            "read-only",
            "bucket",
            "s3",
            "blob",
            "disk",
        ],
    ),
    (
        Category::Api,
        &[
            "http", "request", "response", "endpoint", "status", "get ", "post ", "put ",
            "delete ", "patch ", "api", "rest", "grpc", "graphql",
        ],
    ),
];

/// Chooses the category of a template.
pub fn categorize(template: &str) -> Category {
    let text = format!(" {} ", template.to_ascii_lowercase());
    for (category, keywords) in CATEGORY_RULES {
        if keywords.iter().any(|k| contains_word(&text, k)) {
            return *category;
        }
    }
    Category::Application
}

/// `keyword` occurs in `text` starting at a word boundary (so "db " does not match "mydb ").
fn contains_word(text: &str, keyword: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(keyword)
        .any(|(i, _)| i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
}

/// Words that make an event an error signal even at INFO level.
const ERROR_SIGNALS: &[&str] = &[
    "exception",
    "error",
    "fail",
    "failed",
    "failure",
    "fatal",
    "panic",
    "timeout",
    "timed out",
    "refused",
    "denied",
    "unable to",
    "cannot",
    "can't",
    "could not",
    "couldn't",
    "abort",
    "crash",
    "unreachable",
    "rejected",
    "invalid",
    "traceback",
    "unauthorized",
    "forbidden",
    "killed",
    "broken pipe",
    "reset by peer",
];

/// Words that make a failure critical.
const CRITICAL_SIGNALS: &[&str] = &[
    "out of memory",
    "outofmemory",
    "oom",
    "panic",
    "segfault",
    "segmentation fault",
    "fatal",
    "data loss",
    "corrupt",
    "deadlock",
    "disk full",
    "no space left",
    "core dumped",
    "unrecoverable",
    "shutting down",
    "kernel",
];

/// Whether an event counts toward error families: WARN or above, a stack trace, an HTTP 5xx
/// status or an error word.
pub fn is_error_signal(
    level: Option<Level>,
    template: &str,
    has_stack: bool,
    status: Option<u16>,
) -> bool {
    if level.is_some_and(Level::is_problem) || has_stack || status.is_some_and(|s| s >= 500) {
        return true;
    }
    if level.is_some_and(|l| l <= Level::Debug) {
        return false;
    }
    let text = format!(" {} ", template.to_ascii_lowercase());
    ERROR_SIGNALS.iter().any(|s| contains_word(&text, s))
}

/// A severity and the rule that chose it.
pub fn severity(
    level: Option<Level>,
    template: &str,
    has_stack: bool,
    status: Option<u16>,
) -> (Severity, &'static str) {
    let text = format!(" {} ", template.to_ascii_lowercase());
    let critical_word = CRITICAL_SIGNALS.iter().any(|s| contains_word(&text, s));
    let error_signal = is_error_signal(level, template, has_stack, status);
    match level {
        Some(Level::Fatal) => (Severity::Critical, "level is FATAL/CRITICAL"),
        _ if critical_word && error_signal => (
            Severity::Critical,
            "failure that names a crash, exhaustion or data loss",
        ),
        Some(Level::Error) => (Severity::High, "level is ERROR"),
        _ if status.is_some_and(|s| s >= 500) => (Severity::High, "HTTP 5xx response"),
        _ if has_stack => (Severity::High, "carries a stack trace"),
        Some(Level::Warn) => (Severity::Medium, "level is WARN"),
        _ if status.is_some_and(|s| s >= 400) => (Severity::Medium, "HTTP 4xx response"),
        _ if error_signal => (
            Severity::Medium,
            "error words at INFO level or without a level",
        ),
        _ => (Severity::Low, "no error signal"),
    }
}

/// Business impact classes, from most to least important.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Sign-in, payments: users cannot get in or pay.
    AuthPayment,
    /// The API users call.
    Api,
    /// Internal machinery.
    Internal,
    /// Log noise and diagnostics.
    Logging,
}

impl Impact {
    /// The value used in the risk score.
    pub fn value(self) -> f64 {
        match self {
            Self::AuthPayment => 1.0,
            Self::Api => 0.7,
            Self::Internal => 0.4,
            Self::Logging => 0.1,
        }
    }
}

/// Business impact of a pattern from its category and whether it is an error at all.
pub fn impact(category: Category, severity: Severity, error_signal: bool) -> Impact {
    match category {
        Category::Auth | Category::Payment | Category::Security => Impact::AuthPayment,
        Category::Api | Category::Dependency | Category::Validation => Impact::Api,
        _ if !error_signal && severity == Severity::Low => Impact::Logging,
        _ => Impact::Internal,
    }
}

/// The risk score and each of its factors, already weighted, so they add up to `score`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Risk {
    /// 0 to 1.
    pub score: f64,
    /// Severity weight × 0.4.
    pub severity: f64,
    /// min(log10(n+1)/2, 0.5) × 0.3.
    pub frequency: f64,
    /// Business impact × 0.2.
    pub impact: f64,
    /// Recency × 0.1.
    pub recency: f64,
    /// The impact class behind `impact`.
    pub impact_class: Impact,
}

/// Computes the risk score. `recency` is 1 when the pattern was seen at the very end of the log
/// and 0 when it was last seen at the very start.
pub fn risk(severity: Severity, count: u64, impact: Impact, recency: f64) -> Risk {
    let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
    let severity_part = round(severity.weight() * 0.4);
    let frequency_part = round((((count + 1) as f64).log10() / 2.0).min(0.5) * 0.3);
    let impact_part = round(impact.value() * 0.2);
    let recency_part = round(recency.clamp(0.0, 1.0) * 0.1);
    Risk {
        score: round(severity_part + frequency_part + impact_part + recency_part),
        severity: severity_part,
        frequency: frequency_part,
        impact: impact_part,
        recency: recency_part,
        impact_class: impact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_from_words() {
        assert_eq!(
            categorize("Connection to <*> timed out after <*> ms"),
            Category::Network
        );
        assert_eq!(
            categorize("HikariPool-1 - Connection is not available, request timed out"),
            Category::Database
        );
        assert_eq!(
            categorize("Failed password for <*> from <*> port <*> ssh2"),
            Category::Auth
        );
        assert_eq!(
            categorize("charge failed: card declined"),
            Category::Payment
        );
        assert_eq!(categorize("GET <*> 503"), Category::Dependency);
        assert_eq!(categorize("Started worker"), Category::Application);
    }

    #[test]
    fn severities_with_their_rules() {
        assert_eq!(
            severity(Some(Level::Fatal), "x", false, None).0,
            Severity::Critical
        );
        assert_eq!(
            severity(
                Some(Level::Error),
                "java.lang.OutOfMemoryError",
                false,
                None
            )
            .0,
            Severity::Critical
        );
        assert_eq!(
            severity(Some(Level::Error), "payment failed", false, None).0,
            Severity::High
        );
        assert_eq!(
            severity(Some(Level::Info), "GET <*> 502", false, Some(502)).0,
            Severity::High
        );
        assert_eq!(
            severity(Some(Level::Warn), "slow", false, None).0,
            Severity::Medium
        );
        assert_eq!(
            severity(None, "login failed", false, None).0,
            Severity::Medium
        );
        assert_eq!(
            severity(Some(Level::Info), "logout succeeded", false, None).0,
            Severity::Low
        );
    }

    #[test]
    fn risk_follows_the_formula() {
        let r = risk(Severity::High, 999, Impact::Api, 1.0);
        assert_eq!(r.severity, 0.3);
        assert_eq!(r.frequency, 0.15);
        assert_eq!(r.impact, 0.14);
        assert_eq!(r.recency, 0.1);
        assert_eq!(r.score, 0.69);
        let low = risk(Severity::Low, 0, Impact::Logging, 0.0);
        assert_eq!(low.frequency, 0.0);
        assert!((low.score - 0.12).abs() < 1e-9);
    }
}

//! Generated regression tests: the frameworks and test types a suite can be written for, the
//! preferences and project context that shape it, and what the server answers (files with
//! their validation, coverage of the error patterns, manual test cases).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A test framework a suite can be generated for.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// Python, pytest.
    #[default]
    Pytest,
    /// JavaScript, Jest.
    Jest,
    /// JavaScript, Mocha with Chai.
    Mocha,
    /// Java, JUnit 5.
    Junit,
    /// Ruby, RSpec.
    Rspec,
    /// PHP, PHPUnit.
    Phpunit,
    /// C#, NUnit.
    Nunit,
    /// Go, the standard `testing` package.
    Gotest,
    /// JavaScript, Playwright Test.
    Playwright,
    /// JavaScript, Cypress.
    Cypress,
    /// Python, Selenium WebDriver under pytest.
    Selenium,
}

/// A programming language a suite is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Python 3.
    Python,
    /// JavaScript (Node.js, CommonJS).
    Javascript,
    /// Java 17.
    Java,
    /// Ruby 3.
    Ruby,
    /// PHP 8.
    Php,
    /// C# 10.
    Csharp,
    /// Go.
    Go,
}

impl Language {
    /// Lower-case name, as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Javascript => "javascript",
            Self::Java => "java",
            Self::Ruby => "ruby",
            Self::Php => "php",
            Self::Csharp => "csharp",
            Self::Go => "go",
        }
    }
}

/// Unit, integration or end-to-end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TestType {
    /// The code that failed, its failing dependency stubbed.
    Unit,
    /// The service's HTTP API, called over the network.
    Integration,
    /// Pages in a real browser.
    E2e,
}

impl TestType {
    /// Every type, as offered.
    pub const ALL: [Self; 3] = [Self::Unit, Self::Integration, Self::E2e];

    /// The name in URLs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unit => "unit",
            Self::Integration => "integration",
            Self::E2e => "e2e",
        }
    }

    /// What the selector says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Unit => "Unit",
            Self::Integration => "Integration (API)",
            Self::E2e => "End-to-end (browser)",
        }
    }

    /// Reads a name from a URL or the command line.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// The frameworks that write tests of this type.
    pub fn frameworks(self) -> Vec<Framework> {
        Framework::ALL
            .into_iter()
            .filter(|f| f.types().contains(&self))
            .collect()
    }
}

impl Framework {
    /// Every framework, as offered.
    pub const ALL: [Self; 11] = [
        Self::Pytest,
        Self::Jest,
        Self::Mocha,
        Self::Junit,
        Self::Rspec,
        Self::Phpunit,
        Self::Nunit,
        Self::Gotest,
        Self::Playwright,
        Self::Cypress,
        Self::Selenium,
    ];

    /// The name in URLs, the API and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pytest => "pytest",
            Self::Jest => "jest",
            Self::Mocha => "mocha",
            Self::Junit => "junit",
            Self::Rspec => "rspec",
            Self::Phpunit => "phpunit",
            Self::Nunit => "nunit",
            Self::Gotest => "gotest",
            Self::Playwright => "playwright",
            Self::Cypress => "cypress",
            Self::Selenium => "selenium",
        }
    }

    /// Reads a name from a URL or the command line (case-insensitive; `go` is taken for
    /// `gotest`, as account preferences once named it).
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim().to_ascii_lowercase();
        if raw == "go" {
            return Some(Self::Gotest);
        }
        Self::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pytest => "pytest",
            Self::Jest => "Jest",
            Self::Mocha => "Mocha + Chai",
            Self::Junit => "JUnit 5",
            Self::Rspec => "RSpec",
            Self::Phpunit => "PHPUnit",
            Self::Nunit => "NUnit",
            Self::Gotest => "Go testing",
            Self::Playwright => "Playwright",
            Self::Cypress => "Cypress",
            Self::Selenium => "Selenium (Python)",
        }
    }

    /// The language its tests are written in.
    pub fn language(self) -> Language {
        match self {
            Self::Pytest | Self::Selenium => Language::Python,
            Self::Jest | Self::Mocha | Self::Playwright | Self::Cypress => Language::Javascript,
            Self::Junit => Language::Java,
            Self::Rspec => Language::Ruby,
            Self::Phpunit => Language::Php,
            Self::Nunit => Language::Csharp,
            Self::Gotest => Language::Go,
        }
    }

    /// Whether the server's sandbox can run its suites (given the toolchain on the host):
    /// NUnit needs .NET, and Cypress downloads its own browser.
    pub fn runs_in_sandbox(self) -> bool {
        !matches!(self, Self::Nunit | Self::Cypress)
    }

    /// The test types it writes.
    pub fn types(self) -> &'static [TestType] {
        match self {
            Self::Playwright | Self::Cypress | Self::Selenium => &[TestType::E2e],
            _ => &[TestType::Unit, TestType::Integration],
        }
    }

    /// Assertion styles it can write; the first is its own.
    pub fn assertion_styles(self) -> &'static [AssertionStyle] {
        match self {
            Self::Mocha => &[
                AssertionStyle::Expect,
                AssertionStyle::Should,
                AssertionStyle::Assert,
            ],
            Self::Rspec => &[AssertionStyle::Expect, AssertionStyle::Should],
            Self::Jest | Self::Playwright | Self::Cypress => &[AssertionStyle::Expect],
            _ => &[AssertionStyle::Assert],
        }
    }
}

impl std::fmt::Display for Framework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How test names read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Naming {
    /// A sentence: `payment is refused cleanly when the database times out`.
    #[default]
    Descriptive,
    /// Short: `p7_db_timeout`.
    Compact,
}

/// How assertions are written, where the framework offers a choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AssertionStyle {
    /// `expect(x).to…`
    #[default]
    Expect,
    /// `x.should…`
    Should,
    /// `assert…`
    Assert,
}

/// How asynchronous calls are written in JavaScript and Python.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AsyncStyle {
    /// `async`/`await`.
    #[default]
    Await,
    /// Promise chains (`.then`), or plain blocking calls in Python.
    Promises,
}

/// What a suite includes and how it is written; per user or per team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Preferences {
    /// Setup and teardown around each test.
    pub setup_teardown: bool,
    /// Stub the failing dependency.
    pub mocking: bool,
    /// Boundary inputs (empty, longest, zero, unicode…).
    pub edge_cases: bool,
    /// Invalid inputs that must be refused.
    pub negative_tests: bool,
    /// The most tests written for one pattern (1 to 20).
    pub max_tests_per_pattern: u8,
    /// How test names read.
    pub naming: Naming,
    /// How assertions are written.
    pub assertion_style: AssertionStyle,
    /// How asynchronous calls are written.
    pub async_style: AsyncStyle,
}

/// The most tests a pattern may get.
pub const MAX_TESTS_PER_PATTERN: u8 = 20;

impl Default for Preferences {
    fn default() -> Self {
        Self {
            setup_teardown: true,
            mocking: true,
            edge_cases: true,
            negative_tests: true,
            max_tests_per_pattern: 5,
            naming: Naming::Descriptive,
            assertion_style: AssertionStyle::Expect,
            async_style: AsyncStyle::Await,
        }
    }
}

/// What the user tells about their project so imports, layout and names fit it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ProjectContext {
    /// The language the project is written in, when it differs from the framework's (for
    /// information in the README; the tests are written in the framework's language).
    pub language: Option<String>,
    /// A snippet of the framework's configuration (`pytest.ini`, `jest.config.js`, `pom.xml`…):
    /// test paths, roots and group ids are read from it.
    pub framework_config: Option<String>,
    /// Module paths of the code under test (`app.billing`, `src/orders`, `com.shop.checkout`),
    /// most specific first; the first is where unnamed code is looked for.
    pub module_paths: Vec<String>,
    /// Where the service under test answers (`http://localhost:8080`).
    pub base_url: Option<String>,
    /// Extra dependencies for the manifest (`name` or `name==version`).
    pub dependencies: Vec<String>,
}

/// A member's or a team's choices for generated tests, kept on the server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TestSettings {
    /// The framework to generate for.
    pub framework: Framework,
    /// The CI system the download carries a configuration for.
    pub ci: CiSystem,
    /// What suites include and how they are written.
    pub preferences: Preferences,
    /// The project the tests are for.
    pub context: ProjectContext,
}

/// Longest framework configuration snippet, in bytes.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024;
/// Most module paths or dependencies.
pub const MAX_LIST: usize = 50;
/// Longest module path, dependency or base URL, in characters.
pub const MAX_ITEM_CHARS: usize = 300;

impl TestSettings {
    /// Problems with the settings, each naming its field; empty when they can be saved.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, message: String| {
            problems.push((field, message));
        };
        let max = self.preferences.max_tests_per_pattern;
        if !(1..=MAX_TESTS_PER_PATTERN).contains(&max) {
            problem(
                "preferences.max_tests_per_pattern",
                format!("Choose between 1 and {MAX_TESTS_PER_PATTERN} tests per pattern."),
            );
        }
        let context = &self.context;
        if let Some(url) = &context.base_url {
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            if !url.is_empty()
                && (!scheme_ok
                    || url.chars().count() > MAX_ITEM_CHARS
                    || url.contains(char::is_whitespace))
            {
                problem(
                    "context.base_url",
                    "Give an http:// or https:// address without spaces.".into(),
                );
            }
        }
        if context
            .framework_config
            .as_ref()
            .is_some_and(|c| c.len() > MAX_CONFIG_BYTES)
        {
            problem(
                "context.framework_config",
                format!(
                    "Keep the configuration under {} KiB.",
                    MAX_CONFIG_BYTES / 1024
                ),
            );
        }
        for (field, list) in [
            ("context.module_paths", &context.module_paths),
            ("context.dependencies", &context.dependencies),
        ] {
            if list.len() > MAX_LIST {
                problem(field, format!("At most {MAX_LIST} entries."));
            } else if list.iter().any(|m| {
                m.trim().is_empty()
                    || m.chars().count() > MAX_ITEM_CHARS
                    || m.chars().any(char::is_control)
                    || m.contains(char::is_whitespace)
            }) {
                problem(
                    field,
                    format!(
                        "One entry per line, without spaces, up to {MAX_ITEM_CHARS} characters each."
                    ),
                );
            }
        }
        if context
            .language
            .as_ref()
            .is_some_and(|l| l.chars().count() > 40)
        {
            problem(
                "context.language",
                "Name the language in at most 40 characters.".into(),
            );
        }
        problems
    }
}

/// Whose settings: the caller's own, or a team's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SettingsOwner {
    /// The signed-in member.
    User,
    /// A team of the organisation.
    Team,
}

/// Longest part of a custom template (prelude, test or epilogue), in bytes.
pub const MAX_TEMPLATE_PART: usize = 16 * 1024;

/// Variables a custom template's test part may use, written once per error pattern, and what
/// each becomes. Text values become literals of the framework's language, quotes included.
pub const TEST_VARIABLES: &[(&str, &str)] = &[
    (
        "test_name",
        "an identifier naming the test, unique in the file (test_payment_failed_p4)",
    ),
    ("title", "the behaviour in words, as a string literal"),
    ("pattern_id", "the pattern's id (p4), plain"),
    ("template", "the pattern's template, as a string literal"),
    ("count", "how many events the pattern has, a number"),
    ("risk", "its risk score from 0 to 1, a number"),
    (
        "severity",
        "critical, high, medium or low, as a string literal",
    ),
    (
        "category",
        "its category (database, network…), as a string literal",
    ),
    ("sample", "its first sample line, as a string literal"),
    (
        "method",
        "the HTTP method of its endpoint, as a string literal (empty when none)",
    ),
    (
        "path",
        "its endpoint's route, ids as {id}, as a string literal (empty when none)",
    ),
    (
        "status",
        "the HTTP status its events record, a number (0 when none)",
    ),
    (
        "function",
        "the function its stack trace names, as a string literal (empty when none)",
    ),
    (
        "module",
        "where that function lives, as a string literal (empty when none)",
    ),
    (
        "exception",
        "the exception class its events show, as a string literal (empty when none)",
    ),
];

/// Variables a custom template's prelude and epilogue may use, written once per file.
pub const FILE_VARIABLES: &[(&str, &str)] = &[
    (
        "class_name",
        "a class name for the file (PaymentChecksTest), for languages that need one",
    ),
    ("suite", "the template's name, as a string literal"),
    (
        "base_url",
        "the project's base URL, as a string literal (empty when none)",
    ),
];

/// What a custom template holds: a file scaffold and a test written once per error pattern.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TemplateInput {
    /// Its name, unique in its team (1 to 80 characters).
    pub name: String,
    /// The framework it is written for.
    pub framework: Framework,
    /// The file's start: imports, fixtures, an opening class.
    pub prelude: String,
    /// One test, written once for every error pattern with tests.
    pub test: String,
    /// The file's end (a closing brace).
    pub epilogue: String,
}

/// A team's custom template, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestTemplate {
    /// Its id.
    pub id: String,
    /// The team it belongs to.
    pub team_id: String,
    /// That team's name.
    pub team: String,
    /// Its name.
    pub name: String,
    /// The framework it is written for.
    pub framework: Framework,
    /// The file's start.
    pub prelude: String,
    /// The test written for every error pattern.
    pub test: String,
    /// The file's end.
    pub epilogue: String,
    /// When it was last saved.
    pub updated_at_ms: i64,
}

impl TestTemplate {
    /// What it holds, to edit or render.
    pub fn input(&self) -> TemplateInput {
        TemplateInput {
            name: self.name.clone(),
            framework: self.framework,
            prelude: self.prelude.clone(),
            test: self.test.clone(),
            epilogue: self.epilogue.clone(),
        }
    }
}

/// Settings as stored, with whose they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StoredSettings {
    /// The caller's own or a team's.
    pub owner: SettingsOwner,
    /// The team, for a team's.
    pub team_id: Option<String>,
    /// The settings (the defaults when none were saved).
    pub settings: TestSettings,
    /// When they were last saved; none for the defaults.
    pub updated_at_ms: Option<i64>,
}

/// A request to generate a suite with explicit choices.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct GenerateRequest {
    /// The framework.
    pub framework: Framework,
    /// The CI system the suite carries a configuration for.
    pub ci: CiSystem,
    /// What the suite includes and how it is written.
    pub preferences: Preferences,
    /// The project the tests are for.
    pub context: ProjectContext,
    /// Test types (empty: all the framework writes).
    pub types: Vec<TestType>,
    /// A team's custom template to add a file from (its framework must be `framework`).
    pub template_id: Option<String>,
}

impl GenerateRequest {
    /// The settings part.
    pub fn settings(&self) -> TestSettings {
        TestSettings {
            framework: self.framework,
            ci: self.ci,
            preferences: self.preferences.clone(),
            context: self.context.clone(),
        }
    }
}

/// CI systems a suite can carry a configuration for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CiSystem {
    /// `.github/workflows/faultline-tests.yml`
    #[default]
    Github,
    /// `.gitlab-ci.yml`
    Gitlab,
    /// `Jenkinsfile`
    Jenkins,
    /// `.circleci/config.yml`
    Circleci,
}

impl CiSystem {
    /// Every system, as offered.
    pub const ALL: [Self; 4] = [Self::Github, Self::Gitlab, Self::Jenkins, Self::Circleci];

    /// The name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Jenkins => "jenkins",
            Self::Circleci => "circleci",
        }
    }

    /// Reads a name from a URL or the command line.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Github => "GitHub Actions",
            Self::Gitlab => "GitLab CI",
            Self::Jenkins => "Jenkins",
            Self::Circleci => "CircleCI",
        }
    }
}

/// What a generated file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// Tests.
    Test,
    /// Shared fixtures and helpers.
    Fixture,
    /// The framework's configuration.
    Config,
    /// The dependency manifest.
    Manifest,
    /// README and test documentation.
    Doc,
    /// The CI configuration.
    Ci,
}

/// A problem found in a generated file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Problem {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// In words.
    pub message: String,
}

/// How a file fared in validation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Validation {
    /// True when the file parsed and passed the framework's checks.
    pub valid: bool,
    /// What checked it (`tree-sitter python`, `json`…); empty when nothing could.
    pub checker: String,
    /// Errors: the file would not run.
    pub errors: Vec<Problem>,
    /// Warnings: it runs, but something is off.
    pub warnings: Vec<Problem>,
}

/// One file of a generated suite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GeneratedFile {
    /// Path inside the suite, `/`-separated.
    pub path: String,
    /// What it is for.
    pub kind: FileKind,
    /// Language of a code file (for highlighting); none for data files.
    pub language: Option<Language>,
    /// The text.
    pub content: String,
    /// Tests it holds.
    pub tests: u32,
    /// Pattern ids it covers.
    pub patterns: Vec<String>,
    /// The validation result.
    pub validation: Validation,
}

/// An error pattern without a test, and what would give it one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Uncovered {
    /// Pattern id.
    pub pattern: String,
    /// Its template.
    pub template: String,
    /// Its risk score.
    pub risk: f64,
    /// What would give it a test.
    pub suggestion: String,
}

/// Which error patterns have tests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Coverage {
    /// Error patterns in the analysis.
    pub error_patterns: u32,
    /// Those with at least one test.
    pub covered: u32,
    /// `covered / error_patterns` (1 when there are none).
    pub ratio: f64,
    /// Patterns (error or not) with tests.
    pub tested_patterns: Vec<String>,
    /// Uncovered error patterns, riskiest first.
    pub uncovered: Vec<Uncovered>,
}

/// A suite: its files, coverage and totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Suite {
    /// The framework.
    pub framework: Framework,
    /// The test types asked for.
    pub types: Vec<TestType>,
    /// Every file.
    pub files: Vec<GeneratedFile>,
    /// Tests in all files.
    pub tests: u32,
    /// Files that passed validation, of those checked.
    pub valid_files: u32,
    /// Files checked.
    pub checked_files: u32,
    /// Coverage of the error patterns.
    pub coverage: Coverage,
    /// Notes on choices the generator made (an unsupported preference, an inferred subject).
    pub notes: Vec<String>,
}

/// The outcome of running a suite in the sandbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunReport {
    /// The framework run.
    pub framework: Framework,
    /// Tests that passed.
    pub passed: u32,
    /// Tests that failed.
    pub failed: u32,
    /// Tests skipped (for instance: no service address, or code not present here).
    pub skipped: u32,
    /// Errors outside tests (a file that would not load).
    pub errors: u32,
    /// Test files (or Go packages) the toolchain could not compile, with the first reason:
    /// typically unit tests naming the project's own classes, which are not in the sandbox.
    #[serde(default)]
    pub unbuilt: Vec<Unbuilt>,
    /// Wall-clock time.
    pub duration_ms: u64,
    /// The runner's exit code; none when it was killed.
    pub exit_code: Option<i32>,
    /// True when the run hit its time limit.
    pub timed_out: bool,
    /// False when the runner wrote no report (the counts are then zero).
    pub reported: bool,
    /// The end of what the runner printed.
    pub output: String,
    /// What confined the run.
    pub isolation: Vec<String>,
}

/// A test file or package that did not compile in a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Unbuilt {
    /// The file's path in the suite, or the Go package.
    pub path: String,
    /// The compiler's first complaint about it.
    pub reason: String,
}

/// A test case written for a person to carry out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ManualCase {
    /// `TC-001`, …
    pub id: String,
    /// What it checks.
    pub title: String,
    /// `unit`, `integration` or `e2e`.
    pub test_type: TestType,
    /// The pattern it guards.
    pub pattern: String,
    /// `critical`, `high`, `medium` or `low`.
    pub priority: String,
    /// What must hold before starting.
    pub preconditions: Vec<String>,
    /// What to do.
    pub steps: Vec<String>,
    /// What should happen.
    pub expected: String,
    /// Values to use, taken from the logs.
    pub test_data: Vec<String>,
    /// When the case passes.
    pub acceptance: Vec<String>,
}

/// What the tests page asks for, from its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestsQuery {
    /// Framework name (empty: the saved one).
    pub framework: String,
    /// `unit`, `integration`, `e2e` or empty for all.
    pub kind: String,
    /// CI system name (empty: the saved one).
    pub ci: String,
    /// A team's custom template to add a file from (empty: none).
    #[serde(default)]
    pub template: String,
    /// Generate with this team's saved settings instead of the caller's (empty: the caller's).
    #[serde(default)]
    pub team: String,
}

impl TestsQuery {
    /// The API's query string (starting with `?`), `org` added.
    pub fn to_query_string(&self, org: &str) -> String {
        let mut parts = Vec::new();
        if !self.framework.is_empty() {
            parts.push(format!(
                "framework={}",
                super::account::urlencode(&self.framework)
            ));
        }
        if !self.kind.is_empty() {
            parts.push(format!("type={}", super::account::urlencode(&self.kind)));
        }
        if !self.ci.is_empty() {
            parts.push(format!("ci={}", super::account::urlencode(&self.ci)));
        }
        if !self.template.is_empty() {
            parts.push(format!(
                "template={}",
                super::account::urlencode(&self.template)
            ));
        }
        if !self.team.is_empty() {
            parts.push(format!("team={}", super::account::urlencode(&self.team)));
        }
        parts.push(format!("org={}", super::account::urlencode(org)));
        format!("?{}", parts.join("&"))
    }
}

/// Generates the suite of analysis `id` as the page's URL asks.
#[server(prefix = "/rpc", endpoint = "tests")]
pub async fn load_tests(
    org: String,
    id: String,
    query: TestsQuery,
) -> Result<Suite, super::error::ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!(
            "/analyses/{}/tests{}",
            super::account::urlencode(&id),
            query.to_query_string(&org)
        ),
        None,
    )
    .await
}

/// The organisation's custom test templates (every team's).
#[server(prefix = "/rpc", endpoint = "test_templates")]
pub async fn list_test_templates(org: String) -> Result<Vec<TestTemplate>, super::error::ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!("/test-templates?org={}", super::account::urlencode(&org)),
        None,
    )
    .await
}

/// Saves a team's custom template: a new one when `id` is empty.
#[server(prefix = "/rpc", endpoint = "save_test_template")]
pub async fn save_test_template(
    org: String,
    team: String,
    id: String,
    input: TemplateInput,
) -> Result<TestTemplate, super::error::ApiError> {
    use super::account::urlencode;
    let base = format!(
        "/orgs/{}/teams/{}/test-templates",
        urlencode(&org),
        urlencode(&team)
    );
    let body = serde_json::to_value(&input).ok();
    if id.is_empty() {
        crate::ssr::call(http::Method::POST, &base, body).await
    } else {
        let path = format!("{base}/{}", urlencode(&id));
        crate::ssr::call(http::Method::PUT, &path, body).await
    }
}

/// Deletes a team's custom template.
#[server(prefix = "/rpc", endpoint = "delete_test_template")]
pub async fn delete_test_template(
    org: String,
    team: String,
    id: String,
) -> Result<(), super::error::ApiError> {
    use super::account::urlencode;
    let path = format!(
        "/orgs/{}/teams/{}/test-templates/{}",
        urlencode(&org),
        urlencode(&team),
        urlencode(&id)
    );
    crate::ssr::call::<serde_json::Value>(http::Method::DELETE, &path, None)
        .await
        .map(drop)
}

/// The file a template writes for analysis `id`, validated, without saving anything.
#[server(prefix = "/rpc", endpoint = "preview_test_template")]
pub async fn preview_test_template(
    org: String,
    id: String,
    input: TemplateInput,
) -> Result<GeneratedFile, super::error::ApiError> {
    use super::account::urlencode;
    crate::ssr::call(
        http::Method::POST,
        &format!(
            "/analyses/{}/tests/template-preview?org={}",
            urlencode(&id),
            urlencode(&org)
        ),
        serde_json::to_value(&input).ok(),
    )
    .await
}

/// The caller's saved test settings in `org`.
#[server(prefix = "/rpc", endpoint = "test_settings")]
pub async fn load_test_settings(org: String) -> Result<StoredSettings, super::error::ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!("/test-settings?org={}", super::account::urlencode(&org)),
        None,
    )
    .await
}

/// Runs the suite the page shows in the server's sandbox, with the caller's saved preferences and
/// project context.
#[server(prefix = "/rpc", endpoint = "run_tests")]
pub async fn run_tests(
    org: String,
    id: String,
    framework: String,
    kind: String,
) -> Result<RunReport, super::error::ApiError> {
    let org_q = super::account::urlencode(&org);
    let saved: StoredSettings = crate::ssr::call(
        http::Method::GET,
        &format!("/test-settings?org={org_q}"),
        None,
    )
    .await?;
    let mut body = serde_json::json!({
        "framework": framework,
        "ci": saved.settings.ci,
        "preferences": saved.settings.preferences,
        "context": saved.settings.context,
    });
    if let Some(kind) = TestType::parse(&kind) {
        body["types"] = serde_json::json!([kind]);
    }
    crate::ssr::call(
        http::Method::POST,
        &format!(
            "/analyses/{}/tests/run?org={org_q}",
            super::account::urlencode(&id)
        ),
        Some(body),
    )
    .await
}

/// Lines of a text area, trimmed, empty ones dropped.
pub fn list_of(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The preferences form's server function, in a module of its own so that its one argument per
/// form field can be allowed: the `server` macro does not carry attributes over to the code it
/// writes.
mod settings_form {
    #![allow(clippy::too_many_arguments, reason = "one argument per form field")]

    use leptos::prelude::*;

    use super::StoredSettings;
    #[cfg(feature = "ssr")]
    use super::list_of;

    /// Saves the caller's test settings from the preferences form (checkboxes send `on`).
    #[server(prefix = "/rpc", endpoint = "save_test_settings")]
    pub async fn save_test_settings(
        org: String,
        framework: String,
        ci: String,
        setup_teardown: Option<String>,
        mocking: Option<String>,
        edge_cases: Option<String>,
        negative_tests: Option<String>,
        max_tests_per_pattern: String,
        naming: String,
        assertion_style: String,
        async_style: String,
        language: String,
        framework_config: String,
        module_paths: String,
        base_url: String,
        dependencies: String,
    ) -> Result<StoredSettings, crate::api::error::ApiError> {
        let optional = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let body = serde_json::json!({
            "framework": framework,
            "ci": ci,
            "preferences": {
                "setup_teardown": setup_teardown.is_some(),
                "mocking": mocking.is_some(),
                "edge_cases": edge_cases.is_some(),
                "negative_tests": negative_tests.is_some(),
                "max_tests_per_pattern": max_tests_per_pattern.trim().parse::<u8>().unwrap_or(0),
                "naming": naming,
                "assertion_style": assertion_style,
                "async_style": async_style,
            },
            "context": {
                "language": optional(&language),
                "framework_config": optional(&framework_config),
                "module_paths": list_of(&module_paths),
                "base_url": optional(&base_url),
                "dependencies": list_of(&dependencies),
            },
        });
        crate::ssr::call(
            http::Method::PUT,
            &format!(
                "/test-settings?org={}",
                crate::api::account::urlencode(&org)
            ),
            Some(body),
        )
        .await
    }
}

pub use settings_form::{SaveTestSettings, save_test_settings};

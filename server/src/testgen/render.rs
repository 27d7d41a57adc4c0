//! Writes a plan out as files in one framework: test files grouped by type and module, shared
//! fixtures, the framework's configuration and the dependency manifest.

mod csharp;
mod golang;
mod java;
mod javascript;
mod php;
mod python;
mod ruby;

use std::collections::BTreeMap;

use app::api::testgen::{FileKind, Framework, Language, Preferences, ProjectContext, TestType};

use super::plan::{Scenario, Target};

/// What renderers need besides the scenarios.
pub struct Options {
    /// The framework.
    pub framework: Framework,
    /// The test types asked for.
    pub types: Vec<TestType>,
    /// Preferences.
    pub preferences: Preferences,
    /// Project context.
    pub context: ProjectContext,
    /// Categories of the scenarios (for markers and tags).
    pub categories: Vec<String>,
}

/// A file before validation.
pub struct Draft {
    /// Path inside the suite.
    pub path: String,
    /// What it is for.
    pub kind: FileKind,
    /// Its language, for code.
    pub language: Option<Language>,
    /// The text.
    pub content: String,
    /// Tests in it.
    pub tests: u32,
    /// Pattern ids it covers.
    pub patterns: Vec<String>,
}

impl Draft {
    /// A file without tests.
    pub fn new(
        path: impl Into<String>,
        kind: FileKind,
        language: Option<Language>,
        content: String,
    ) -> Self {
        Self {
            path: path.into(),
            kind,
            language,
            content,
            tests: 0,
            patterns: Vec::new(),
        }
    }

    /// The same file, holding `tests` tests of `patterns`.
    pub fn with_tests(mut self, tests: u32, patterns: Vec<String>) -> Self {
        self.tests = tests;
        self.patterns = patterns;
        self
    }
}

/// The files of a suite for `scenarios`.
pub fn render(scenarios: &[&Scenario], options: &Options) -> Vec<Draft> {
    match options.framework {
        Framework::Pytest | Framework::Selenium => python::render(scenarios, options),
        Framework::Jest | Framework::Mocha | Framework::Playwright | Framework::Cypress => {
            javascript::render(scenarios, options)
        }
        Framework::Junit => java::render(scenarios, options),
        Framework::Rspec => ruby::render(scenarios, options),
        Framework::Phpunit => php::render(scenarios, options),
        Framework::Nunit => csharp::render(scenarios, options),
        Framework::Gotest => golang::render(scenarios, options),
    }
}

/// Scenarios by (type directory, module group), each group riskiest first, so files are
/// organised by type and module and read by priority.
pub fn groups<'a>(
    scenarios: &[&'a Scenario],
) -> BTreeMap<(&'static str, String), Vec<&'a Scenario>> {
    let mut groups: BTreeMap<(&'static str, String), Vec<&Scenario>> = BTreeMap::new();
    for scenario in scenarios {
        let dir = match scenario.target {
            Target::Endpoint(_) => "integration",
            Target::Page(_) => "e2e",
            Target::Code(_) => "unit",
        };
        groups
            .entry((dir, scenario.group.clone()))
            .or_default()
            .push(scenario);
    }
    for members in groups.values_mut() {
        members.sort_by(|a, b| a.priority.cmp(&b.priority).then(b.risk.total_cmp(&a.risk)));
    }
    groups
}

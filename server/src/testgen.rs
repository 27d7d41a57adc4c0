//! Regression tests from an analysis: a deterministic generator that plans tests for each error
//! pattern (`plan`), writes them in the chosen framework (`render`), checks every file with a
//! real grammar and the framework's rules (`validate`), measures coverage, and packs the suite
//! with its README, configuration, fixtures, manifest and CI configuration (`bundle`).

pub mod bundle;
pub mod custom;
mod frames;
pub mod manual;
mod naming;
pub mod plan;
mod render;
pub mod sandbox;
pub mod settings;
pub mod templates;
pub mod validate;
mod writer;

use app::api::patterns::ResultDoc;
use app::api::testgen::{
    CiSystem, Coverage, Framework, GeneratedFile, Preferences, ProjectContext, Suite, TestType,
    Uncovered,
};

/// What to generate.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The framework.
    pub framework: Framework,
    /// Test types; empty means every type the framework writes.
    pub types: Vec<TestType>,
    /// Preferences.
    pub preferences: Preferences,
    /// Project context.
    pub context: ProjectContext,
    /// The CI system the bundle configures.
    pub ci: CiSystem,
    /// A team's custom template, written as one more file (for this framework only).
    pub template: Option<app::api::testgen::TemplateInput>,
}

impl From<app::api::testgen::GenerateRequest> for Request {
    fn from(body: app::api::testgen::GenerateRequest) -> Self {
        Self {
            framework: body.framework,
            types: body.types,
            preferences: body.preferences,
            context: body.context,
            ci: body.ci,
            template: None,
        }
    }
}

/// Why a request cannot be served.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// The framework does not write tests of this type.
    #[error("{framework} does not write {kind} tests; it writes {offered}")]
    TypeNotOffered {
        /// The framework.
        framework: &'static str,
        /// The type asked for.
        kind: &'static str,
        /// What it writes.
        offered: String,
    },
    /// A preference is out of range.
    #[error("max_tests_per_pattern must be between 1 and {max}")]
    TooManyTests {
        /// The largest allowed.
        max: u8,
    },
}

impl Request {
    /// The test types to write: those asked for, or all the framework writes.
    pub fn types(&self) -> Result<Vec<TestType>, RequestError> {
        let offered = self.framework.types();
        if self.types.is_empty() {
            return Ok(offered.to_vec());
        }
        for kind in &self.types {
            if !offered.contains(kind) {
                return Err(RequestError::TypeNotOffered {
                    framework: self.framework.as_str(),
                    kind: kind.as_str(),
                    offered: offered
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(" and "),
                });
            }
        }
        Ok(self.types.clone())
    }

    fn check(&self) -> Result<(), RequestError> {
        let max = app::api::testgen::MAX_TESTS_PER_PATTERN;
        if !(1..=max).contains(&self.preferences.max_tests_per_pattern) {
            return Err(RequestError::TooManyTests { max });
        }
        Ok(())
    }
}

/// Generates and validates the suite for `doc`.
pub fn generate(doc: &ResultDoc, request: &Request) -> Result<Suite, RequestError> {
    request.check()?;
    let types = request.types()?;
    let mut preferences = request.preferences.clone();
    // Go cannot replace a function at run time: its unit tests call the code as it is.
    if request.framework == Framework::Gotest {
        preferences.mocking = false;
    }
    let plan = plan::plan(doc, &types, &preferences, &request.context);
    let scenarios: Vec<&plan::Scenario> = plan.scenarios.iter().collect();
    let mut categories: Vec<String> = scenarios.iter().map(|s| s.category.clone()).collect();
    categories.sort();
    categories.dedup();
    let options = render::Options {
        framework: request.framework,
        types: types.clone(),
        preferences,
        context: request.context.clone(),
        categories,
    };
    let mut drafts = render::render(&scenarios, &options);
    if let Some(template) = request
        .template
        .as_ref()
        .filter(|t| t.framework == request.framework)
    {
        let base_url = request.context.base_url.as_deref();
        drafts.push(custom::render(template, &scenarios, doc, base_url));
    }
    let coverage = coverage(doc, &plan, &types);
    let notes = notes(&plan, request);
    drafts.extend(bundle::documents(&plan, &options, &coverage, request.ci));
    let files: Vec<GeneratedFile> = drafts
        .into_iter()
        .map(|d| {
            let validation =
                validate::validate(request.framework, &d.path, d.kind, d.language, &d.content);
            GeneratedFile {
                path: d.path,
                kind: d.kind,
                language: d.language,
                content: d.content,
                tests: d.tests,
                patterns: d.patterns,
                validation,
            }
        })
        .collect();
    let checked: Vec<&GeneratedFile> = files
        .iter()
        .filter(|f| !f.validation.checker.is_empty())
        .collect();
    Ok(Suite {
        framework: request.framework,
        types,
        tests: files.iter().map(|f| f.tests).sum(),
        valid_files: checked.iter().filter(|f| f.validation.valid).count() as u32,
        checked_files: checked.len() as u32,
        files,
        coverage,
        notes,
    })
}

fn coverage(doc: &ResultDoc, plan: &plan::Plan, types: &[TestType]) -> Coverage {
    let tested: Vec<String> = plan
        .scenarios
        .iter()
        .filter(|s| !s.cases.is_empty())
        .map(|s| s.pattern.clone())
        .collect();
    let errors: Vec<&app::api::patterns::PatternDoc> =
        doc.patterns.iter().filter(|p| p.is_error).collect();
    let covered = errors.iter().filter(|p| tested.contains(&p.id)).count() as u32;
    let mut uncovered: Vec<Uncovered> = errors
        .iter()
        .filter(|p| !tested.contains(&p.id))
        .map(|p| Uncovered {
            pattern: p.id.clone(),
            template: p.template.clone(),
            risk: p.risk.score,
            suggestion: plan
                .skipped
                .iter()
                .find(|(id, _)| *id == p.id)
                .map(|(_, why)| why.clone())
                .unwrap_or_else(|| suggestion(types)),
        })
        .collect();
    uncovered.sort_by(|a, b| b.risk.total_cmp(&a.risk));
    let total = errors.len() as u32;
    Coverage {
        error_patterns: total,
        covered,
        ratio: if total == 0 {
            1.0
        } else {
            f64::from(covered) / f64::from(total)
        },
        tested_patterns: tested,
        uncovered,
    }
}

fn suggestion(types: &[TestType]) -> String {
    if types.contains(&TestType::Unit) {
        "raise max_tests_per_pattern or turn edge and negative cases on".into()
    } else {
        "add unit tests".into()
    }
}

fn notes(plan: &plan::Plan, request: &Request) -> Vec<String> {
    let mut notes = Vec::new();
    let prefs = &request.preferences;
    // Expect is the default: only a style chosen on purpose is worth a note.
    if prefs.assertion_style != app::api::testgen::AssertionStyle::Expect
        && !request
            .framework
            .assertion_styles()
            .contains(&prefs.assertion_style)
    {
        notes.push(format!(
            "{} writes {} assertions; the {:?} style was not available",
            request.framework.label(),
            format!("{:?}", request.framework.assertion_styles()[0]).to_lowercase(),
            prefs.assertion_style
        ));
    }
    let guessed = plan
        .scenarios
        .iter()
        .filter(|s| matches!(&s.target, plan::Target::Code(c) if c.origin == plan::Origin::Guessed))
        .count();
    if guessed > 0 {
        notes.push(format!(
            "{guessed} unit test group(s) name code after the log message (no stack trace named it): point them at the function that logs the message"
        ));
    }
    if request.framework == Framework::Gotest && prefs.mocking {
        notes.push("Go unit tests call the code as it is: Go cannot replace a function at run time, so stubbing a failing dependency needs the interface your code takes".into());
    }
    if request.framework.language() != app::api::testgen::Language::Javascript
        && prefs.async_style != app::api::testgen::AsyncStyle::Await
    {
        notes.push("the async style applies to JavaScript suites only".into());
    }
    notes
}

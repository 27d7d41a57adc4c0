//! Context: which repository, commit, branch, service, environment and container image the logs
//! come from, read from structured fields, CI variables and repository URLs, each value with
//! the evidence that found it.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::keywords::{Hit, Keyword};
use crate::analysis::events::Event;

/// Distinct values kept per kind.
const MAX_VALUES: usize = 10;

/// What a context value describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `owner/name` or a repository URL.
    Repository,
    /// A commit SHA.
    Commit,
    /// A branch or ref name.
    Branch,
    /// The service or application name.
    Service,
    /// The deployment environment.
    Environment,
    /// A container image reference.
    Image,
}

/// Structured field names, per kind.
const FIELDS: &[(Kind, &[&str])] = &[
    (
        Kind::Repository,
        &[
            "repository",
            "repo",
            "git.repository",
            "vcs.repository",
            "scm.repository",
        ],
    ),
    (
        Kind::Commit,
        &[
            "commit",
            "git_commit",
            "git.commit",
            "sha",
            "git.sha",
            "revision",
            "vcs.revision",
            "commit_sha",
        ],
    ),
    (
        Kind::Branch,
        &["branch", "git.branch", "git_branch", "vcs.branch"],
    ),
    (
        Kind::Service,
        &[
            "service",
            "service.name",
            "service_name",
            "app",
            "application",
            "svc",
            "serviceName",
        ],
    ),
    (
        Kind::Environment,
        &[
            "env",
            "environment",
            "deployment.environment",
            "stage",
            "deployment_environment",
        ],
    ),
    (
        Kind::Image,
        &[
            "image",
            "docker.image",
            "container.image",
            "container_image",
            "image.name",
        ],
    ),
];

/// CI and build variables, per kind.
const VARIABLES: &[(Kind, &[&str])] = &[
    (
        Kind::Repository,
        &[
            "GITHUB_REPOSITORY",
            "CI_PROJECT_PATH",
            "BUILDKITE_REPO",
            "CIRCLE_PROJECT_REPONAME",
            "BITBUCKET_REPO_FULL_NAME",
            "GIT_URL",
        ],
    ),
    (
        Kind::Commit,
        &[
            "GITHUB_SHA",
            "CI_COMMIT_SHA",
            "BUILDKITE_COMMIT",
            "CIRCLE_SHA1",
            "GIT_COMMIT",
            "BITBUCKET_COMMIT",
            "COMMIT_SHA",
        ],
    ),
    (
        Kind::Branch,
        &[
            "GITHUB_REF_NAME",
            "CI_COMMIT_REF_NAME",
            "BUILDKITE_BRANCH",
            "CIRCLE_BRANCH",
            "GIT_BRANCH",
            "BITBUCKET_BRANCH",
        ],
    ),
    (
        Kind::Service,
        &[
            "SERVICE_NAME",
            "OTEL_SERVICE_NAME",
            "DD_SERVICE",
            "APP_NAME",
        ],
    ),
    (
        Kind::Environment,
        &[
            "DD_ENV",
            "DEPLOY_ENV",
            "ENVIRONMENT",
            "RAILS_ENV",
            "NODE_ENV",
            "APP_ENV",
            "CI_ENVIRONMENT_NAME",
        ],
    ),
    (
        Kind::Image,
        &[
            "DOCKER_IMAGE",
            "IMAGE_NAME",
            "CI_REGISTRY_IMAGE",
            "CONTAINER_IMAGE",
        ],
    ),
];

/// Code hosts whose URLs name a repository.
const HOSTS: [&str; 3] = ["github.com/", "gitlab.com/", "bitbucket.org/"];

/// One context value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Value {
    /// What it is.
    pub kind: Kind,
    /// The value.
    pub value: String,
    /// Events that carried it.
    pub count: u64,
    /// How it was found: `field service.name`, `variable GITHUB_SHA`, `repository URL`.
    pub evidence: String,
    /// File and line of the first event that carried it.
    pub file: String,
    /// Line number.
    pub line: u64,
}

/// Collects context values.
#[derive(Default)]
pub struct Collector {
    /// At most [`MAX_VALUES`] per kind, so a linear search is the fastest lookup.
    values: Vec<Value>,
}

impl Collector {
    fn found(
        &mut self,
        kind: Kind,
        value: &str,
        evidence: impl FnOnce() -> String,
        file: &str,
        line: u64,
    ) {
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        if value.is_empty() || value.len() > 200 || value == "-" {
            return;
        }
        let mut of_kind = 0;
        for v in self.values.iter_mut().filter(|v| v.kind == kind) {
            if v.value == value {
                v.count += 1;
                return;
            }
            of_kind += 1;
        }
        if of_kind >= MAX_VALUES {
            return;
        }
        self.values.push(Value {
            kind,
            value: value.to_owned(),
            count: 1,
            evidence: evidence(),
            file: file.to_owned(),
            line,
        });
    }

    /// Looks at one event of `file`; `keywords` are those of its message
    /// ([`super::keywords::scan`]).
    pub fn add(&mut self, event: &Event, file: &str, keywords: &[Hit]) {
        for (name, value) in &event.fields {
            if let Some(&kind) = field_kinds().get(name.as_ref()) {
                self.found(kind, value, || format!("field {name}"), file, event.line);
            }
        }
        let text = &event.message;
        // Each variable name and code host counts once per event, at its first occurrence.
        let mut seen = 0u64;
        for hit in keywords {
            let Keyword::Context(pattern) = hit.keyword else {
                continue;
            };
            if seen & (1 << pattern) != 0 {
                continue;
            }
            match MarkerKind::of(pattern) {
                MarkerKind::Variable(kind, name) => {
                    let i = hit.start;
                    let b = text.as_bytes();
                    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
                        continue;
                    }
                    seen |= 1 << pattern;
                    let rest = &text[hit.end..];
                    let end = rest
                        .find(|c: char| c.is_whitespace() || c == ',' || c == ';')
                        .unwrap_or(rest.len());
                    let mut value = &rest[..end];
                    if kind == Kind::Repository {
                        value = repository_from_url(value).unwrap_or(value);
                    }
                    self.found(kind, value, || format!("variable {name}"), file, event.line);
                }
                MarkerKind::Host => {
                    seen |= 1 << pattern;
                    if let Some(repo) = repository_from_url(&text[hit.start..]) {
                        self.found(
                            Kind::Repository,
                            repo,
                            || "repository URL".to_owned(),
                            file,
                            event.line,
                        );
                    }
                }
            }
        }
    }

    /// The values, by kind and then by how often they occurred.
    pub fn finish(self) -> Vec<Value> {
        let mut values = self.values;
        values.sort_by(|a, b| {
            a.kind
                .cmp(&b.kind)
                .then_with(|| b.count.cmp(&a.count))
                .then_with(|| a.value.cmp(&b.value))
        });
        values
    }
}

/// Structured field name → what it names.
fn field_kinds() -> &'static FxHashMap<&'static str, Kind> {
    static KINDS: OnceLock<FxHashMap<&'static str, Kind>> = OnceLock::new();
    KINDS.get_or_init(|| {
        FIELDS
            .iter()
            .flat_map(|(kind, names)| names.iter().map(move |n| (*n, *kind)))
            .collect()
    })
}

/// What a hit of [`markers`] is.
enum MarkerKind {
    /// `NAME=` of a CI or build variable.
    Variable(Kind, &'static str),
    /// A code host of [`HOSTS`].
    Host,
}

impl MarkerKind {
    fn of(pattern: usize) -> Self {
        variables()
            .get(pattern)
            .map_or(Self::Host, |&(kind, name)| Self::Variable(kind, name))
    }
}

/// Every variable name, in pattern order.
fn variables() -> &'static [(Kind, &'static str)] {
    static LIST: OnceLock<Vec<(Kind, &'static str)>> = OnceLock::new();
    LIST.get_or_init(|| {
        VARIABLES
            .iter()
            .flat_map(|(kind, names)| names.iter().map(move |n| (*kind, *n)))
            .collect()
    })
}

/// `NAME=` for every variable, then every code host: the context markers that
/// [`super::keywords::scan`] finds.
pub(super) fn marker_patterns() -> &'static [String] {
    static PATTERNS: OnceLock<Vec<String>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let patterns: Vec<String> = variables()
            .iter()
            .map(|(_, name)| format!("{name}="))
            .chain(HOSTS.iter().map(|h| (*h).to_owned()))
            .collect();
        debug_assert!(patterns.len() <= 64, "one bit per pattern in `seen`");
        patterns
    })
}

/// `owner/name` from `github.com/owner/name(.git)…` or `https://gitlab.com/group/name`.
fn repository_from_url(text: &str) -> Option<&str> {
    let start = HOSTS
        .iter()
        .find_map(|h| text.find(h).map(|i| i + h.len()))?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ')' | ',' | '#' | '?'))
        .unwrap_or(rest.len());
    let path = rest[..end].trim_end_matches('/');
    let mut parts = path.split('/');
    let (owner, name) = (parts.next()?, parts.next()?);
    let name = name.strip_suffix(".git").unwrap_or(name);
    if owner.is_empty() || name.is_empty() {
        return None;
    }
    let len = owner.len() + 1 + name.len();
    Some(&rest[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adds `event` as the analysis does: with the keywords of its message.
    fn add(c: &mut Collector, event: &Event, file: &str) {
        let mut hits = Vec::new();
        crate::analysis::analyze::keywords::scan(&event.message, &mut hits);
        c.add(event, file, &hits);
    }

    fn event(message: &str, fields: &[(&str, &str)]) -> Event {
        Event {
            line: 7,
            ..Event::with_fields(message, fields)
        }
    }

    #[test]
    fn fields_variables_and_urls() {
        let mut c = Collector::default();
        add(
            &mut c,
            &event("started", &[("service.name", "checkout"), ("env", "prod")]),
            "a.log",
        );
        add(
            &mut c,
            &event(
                "build GITHUB_REPOSITORY=acme/shop GITHUB_SHA=9f8e7d6 GITHUB_REF_NAME=main",
                &[],
            ),
            "a.log",
        );
        add(
            &mut c,
            &event("see https://github.com/acme/shop/issues/4 for details", &[]),
            "a.log",
        );
        add(
            &mut c,
            &event("pulling DOCKER_IMAGE=registry.acme.io/shop/api:1.4.2", &[]),
            "a.log",
        );
        let v = c.finish();
        let find = |k: Kind| {
            v.iter()
                .filter(|x| x.kind == k)
                .map(|x| (x.value.as_str(), x.count, x.evidence.as_str()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            find(Kind::Repository),
            [("acme/shop", 2, "variable GITHUB_REPOSITORY")]
        );
        assert_eq!(find(Kind::Commit), [("9f8e7d6", 1, "variable GITHUB_SHA")]);
        assert_eq!(
            find(Kind::Branch),
            [("main", 1, "variable GITHUB_REF_NAME")]
        );
        assert_eq!(find(Kind::Service), [("checkout", 1, "field service.name")]);
        assert_eq!(find(Kind::Environment), [("prod", 1, "field env")]);
        assert_eq!(
            find(Kind::Image),
            [(
                "registry.acme.io/shop/api:1.4.2",
                1,
                "variable DOCKER_IMAGE"
            )]
        );
        assert_eq!(v[0].line, 7);
    }
}

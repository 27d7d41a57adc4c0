//! Context: which repository, commit, branch, service, environment and container image the logs
//! come from, read from structured fields, CI variables and repository URLs, each value with
//! the evidence that found it.

use rustc_hash::FxHashMap;
use serde::Serialize;

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
    values: FxHashMap<(Kind, String), Value>,
    per_kind: FxHashMap<Kind, usize>,
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
        let key = (kind, value.to_owned());
        if let Some(v) = self.values.get_mut(&key) {
            v.count += 1;
            return;
        }
        let seen = self.per_kind.entry(kind).or_default();
        if *seen >= MAX_VALUES {
            return;
        }
        *seen += 1;
        let entry = Value {
            kind,
            value: key.1.clone(),
            count: 1,
            evidence: evidence(),
            file: file.to_owned(),
            line,
        };
        self.values.insert(key, entry);
    }

    /// Looks at one event of `file`.
    pub fn add(&mut self, event: &Event, file: &str) {
        for (kind, names) in FIELDS {
            for name in *names {
                if let Some(v) = event.field(name) {
                    self.found(*kind, v, || format!("field {name}"), file, event.line);
                }
            }
        }
        let text = &event.message;
        if text.contains('=') {
            for (kind, names) in VARIABLES {
                for name in *names {
                    if let Some(v) = variable(text, name) {
                        let v = if *kind == Kind::Repository {
                            repository_from_url(v).unwrap_or(v)
                        } else {
                            v
                        };
                        self.found(*kind, v, || format!("variable {name}"), file, event.line);
                    }
                }
            }
        }
        for host in HOSTS {
            if let Some(at) = text.find(host)
                && let Some(repo) = repository_from_url(&text[at..])
            {
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

    /// The values, by kind and then by how often they occurred.
    pub fn finish(self) -> Vec<Value> {
        let mut values: Vec<Value> = self.values.into_values().collect();
        values.sort_by(|a, b| {
            a.kind
                .cmp(&b.kind)
                .then_with(|| b.count.cmp(&a.count))
                .then_with(|| a.value.cmp(&b.value))
        });
        values
    }
}

/// The value of `NAME=value` in free text, at a word boundary.
fn variable<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let pattern = format!("{name}=");
    let at = text
        .match_indices(&pattern)
        .find(|(i, _)| {
            *i == 0
                || !text.as_bytes()[i - 1].is_ascii_alphanumeric() && text.as_bytes()[i - 1] != b'_'
        })?
        .0;
    let rest = &text[at + pattern.len()..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .unwrap_or(rest.len());
    Some(&rest[..end])
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

    fn event(message: &str, fields: &[(&str, &str)]) -> Event {
        Event {
            line: 7,
            ..Event::with_fields(message, fields)
        }
    }

    #[test]
    fn fields_variables_and_urls() {
        let mut c = Collector::default();
        c.add(
            &event("started", &[("service.name", "checkout"), ("env", "prod")]),
            "a.log",
        );
        c.add(
            &event(
                "build GITHUB_REPOSITORY=acme/shop GITHUB_SHA=9f8e7d6 GITHUB_REF_NAME=main",
                &[],
            ),
            "a.log",
        );
        c.add(
            &event("see https://github.com/acme/shop/issues/4 for details", &[]),
            "a.log",
        );
        c.add(
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

//! Teams' custom prompts. A team may keep three, each as numbered versions (the latest is used):
//! a system prompt, standing instructions put before every task's own (the task's rules on
//! length and shape stay, so its checks still mean something); an analysis prompt, the question
//! about an analysis or a pattern; and a test prompt, the question for test bodies. Each may use
//! `{{variables}}` filled with the real inputs; the built-in prompts are these templates with
//! their default text, so a preview shows exactly what is sent.

use app::api::ai::{AiTask, PromptKind, PromptVariable, PromptVersion};

use crate::db::Tx;
use crate::testgen::custom::{fill, slots};
use crate::with_tx;

/// The longest prompt accepted, in characters.
pub const MAX_CHARS: usize = 8000;

/// The built-in analysis prompt: the evidence the task gathers.
const ANALYSIS: &str = "{{evidence}}";

/// The built-in test prompt.
const TEST: &str = "{{evidence}}\nTest framework: {{framework}}. File: {{file.path}}.\n{{helpers}}\nThe generator's file:\n{{file}}\nImprove the tests in this file for this pattern.\n";

const PATTERN_VARIABLES: [(&str, &str); 5] = [
    (
        "pattern.id",
        "The pattern's id (p3); empty for questions about a whole analysis",
    ),
    ("pattern.template", "Its template, variables written <*>"),
    ("pattern.count", "How many events it has"),
    ("pattern.severity", "critical, high, medium or low"),
    ("pattern.category", "database, network, auth, api, …"),
];

/// The variables a prompt of `kind` may use, with what each holds.
pub fn variables(kind: PromptKind) -> Vec<PromptVariable> {
    let own: &[(&str, &str)] = match kind {
        PromptKind::System => &[
            ("org", "The organisation's name"),
            ("team", "The team's name"),
            ("task", "explain, recommend, summary or tests"),
        ],
        PromptKind::Analysis => &[
            (
                "evidence",
                "The evidence the task gathers: the pattern's figures, samples, family and chains, or the analysis' riskiest patterns, families, chains, endpoints and findings",
            ),
            ("task", "explain, recommend or summary"),
        ],
        PromptKind::Test => &[
            (
                "evidence",
                "The pattern's figures, variables, samples, family and chains",
            ),
            ("framework", "The test framework (pytest, Jest, …)"),
            ("file.path", "The path of the generator's test file"),
            ("file", "The generator's test file, in a fenced code block"),
            (
                "helpers",
                "The suite's shared fixtures and helpers, each in a fenced code block",
            ),
        ],
    };
    let pattern: &[(&str, &str)] = match kind {
        PromptKind::System => &[],
        _ => &PATTERN_VARIABLES,
    };
    own.iter()
        .chain(pattern)
        .map(|(name, meaning)| PromptVariable {
            name: (*name).to_owned(),
            meaning: (*meaning).to_owned(),
        })
        .collect()
}

/// What a prompt of `kind` is without a team's version.
pub fn built_in(kind: PromptKind) -> &'static str {
    match kind {
        PromptKind::System => "",
        PromptKind::Analysis => ANALYSIS,
        PromptKind::Test => TEST,
    }
}

/// What is wrong with `body` as a prompt of `kind`.
pub fn problems(kind: PromptKind, body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars = body.chars().count();
    if chars > MAX_CHARS {
        out.push(format!(
            "Keep the {} to {MAX_CHARS} characters; it has {chars}.",
            kind.label().to_lowercase()
        ));
    }
    let known = variables(kind);
    let unknown: Vec<String> = slots(body)
        .into_iter()
        .filter(|s| !known.iter().any(|v| v.name == *s))
        .collect();
    if !unknown.is_empty() {
        let names: Vec<String> = known
            .iter()
            .map(|v| format!("{{{{{}}}}}", v.name))
            .collect();
        out.push(format!(
            "Unknown {} {}; the {} may use {}.",
            if unknown.len() == 1 {
                "variable"
            } else {
                "variables"
            },
            unknown
                .iter()
                .map(|u| format!("{{{{{u}}}}}"))
                .collect::<Vec<_>>()
                .join(", "),
            kind.label().to_lowercase(),
            names.join(", ")
        ));
    }
    out
}

/// Where the text of one prompt comes from.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Source {
    /// The built-in prompt.
    #[default]
    BuiltIn,
    /// A team's saved version.
    Saved(u32, String),
    /// A draft being previewed.
    Draft(String),
}

impl Source {
    /// The text of a prompt of `kind`.
    fn text(&self, kind: PromptKind) -> &str {
        match self {
            Self::Saved(_, body) | Self::Draft(body) if !body.trim().is_empty() => body,
            _ => built_in(kind),
        }
    }

    fn describe(&self, kind: PromptKind) -> String {
        let name = kind.as_str();
        match self {
            Self::BuiltIn => format!("{name}: built-in"),
            Self::Saved(v, body) if body.trim().is_empty() => {
                format!("{name}: built-in (v{v})")
            }
            Self::Saved(v, _) => format!("{name}: v{v}"),
            Self::Draft(_) => format!("{name}: draft"),
        }
    }
}

/// The prompts a request uses: a team's, or the built-in ones.
#[derive(Clone, Debug, Default)]
pub struct Chosen {
    /// The organisation's name.
    pub org: String,
    /// The team's name, when a team's prompts are used.
    pub team: Option<String>,
    /// The system prompt.
    pub system: Source,
    /// The analysis prompt.
    pub analysis: Source,
    /// The test prompt.
    pub test: Source,
}

/// The values of the variables a question has.
#[derive(Default)]
pub struct Values {
    /// By name.
    pub pairs: Vec<(&'static str, String)>,
}

impl Values {
    /// With `name` set to `value`.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.pairs.push((name, value.into()));
        self
    }

    /// With the pattern's variables.
    pub fn pattern(self, p: &app::api::patterns::PatternDoc) -> Self {
        self.with("pattern.id", p.id.clone())
            .with("pattern.template", p.template.clone())
            .with("pattern.count", p.count.to_string())
            .with("pattern.severity", p.severity.clone())
            .with("pattern.category", p.category.clone())
    }

    fn get(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
}

impl Chosen {
    /// The source of the prompt of `kind`.
    pub fn source(&self, kind: PromptKind) -> &Source {
        match kind {
            PromptKind::System => &self.system,
            PromptKind::Analysis => &self.analysis,
            PromptKind::Test => &self.test,
        }
    }

    /// The source of the prompt of `kind`, to replace.
    pub fn source_mut(&mut self, kind: PromptKind) -> &mut Source {
        match kind {
            PromptKind::System => &mut self.system,
            PromptKind::Analysis => &mut self.analysis,
            PromptKind::Test => &mut self.test,
        }
    }

    /// The system prompt for `task`: the team's standing instructions, then the task's own.
    pub fn system(&self, task: AiTask, own: &str) -> String {
        let values = Values::default()
            .with("org", self.org.clone())
            .with("team", self.team.clone().unwrap_or_default())
            .with("task", task.as_str());
        let team = fill(self.system.text(PromptKind::System), |n| values.get(n));
        if team.trim().is_empty() {
            own.to_owned()
        } else {
            format!("{}\n\n{own}", team.trim_end())
        }
    }

    /// The question of `kind` (analysis or test) with `values` filled in; variables without a
    /// value (a pattern's, for a question about a whole analysis) are left empty.
    pub fn question(&self, kind: PromptKind, values: &Values) -> String {
        let known = variables(kind);
        fill(self.source(kind).text(kind), |n| {
            values
                .get(n)
                .or_else(|| known.iter().any(|v| v.name == n).then(String::new))
        })
    }

    /// Which versions a `task` uses, for a preview.
    pub fn sources(&self, task: AiTask) -> Vec<String> {
        let question = if task == AiTask::Tests {
            PromptKind::Test
        } else {
            PromptKind::Analysis
        };
        let mut out = Vec::new();
        if let Some(team) = &self.team {
            out.push(format!("team {team}"));
        }
        out.push(self.system.describe(PromptKind::System));
        out.push(self.source(question).describe(question));
        out
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    kind: String,
    version: i32,
    body: String,
    author: String,
    created_at_ms: i64,
}

impl Row {
    fn version(self) -> PromptVersion {
        PromptVersion {
            version: u32::try_from(self.version).unwrap_or(0),
            body: self.body,
            author: self.author,
            created_at_ms: self.created_at_ms,
        }
    }
}

/// The latest version of each of team `team_id`'s prompts.
pub async fn current(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
) -> Result<Vec<(PromptKind, PromptVersion)>, sqlx::Error> {
    let rows: Vec<Row> = with_tx!(tx, c => sqlx::query_as(
        r"select kind, version, body, author, created_at_ms from ai_prompts p
          where org_id = $1 and team_id = $2
            and version = (select max(version) from ai_prompts q
                           where q.org_id = p.org_id and q.team_id = p.team_id and q.kind = p.kind)",
    )
    .bind(org_id)
    .bind(team_id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((PromptKind::parse(&r.kind)?, r.version())))
        .collect())
}

/// Every version of team `team_id`'s prompt of `kind`, newest first.
pub async fn history(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
    kind: PromptKind,
) -> Result<Vec<PromptVersion>, sqlx::Error> {
    let rows: Vec<Row> = with_tx!(tx, c => sqlx::query_as(
        r"select kind, version, body, author, created_at_ms from ai_prompts
          where org_id = $1 and team_id = $2 and kind = $3 order by version desc",
    )
    .bind(org_id)
    .bind(team_id)
    .bind(kind.as_str())
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows.into_iter().map(Row::version).collect())
}

/// Who saves a version.
pub struct Author<'a> {
    /// The user's id.
    pub user_id: &'a str,
    /// Their e-mail address, shown with the version.
    pub email: &'a str,
}

/// Saves `body` as the next version of team `team_id`'s prompt of `kind`.
pub async fn save(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
    kind: PromptKind,
    body: &str,
    author: &Author<'_>,
    now_ms: i64,
) -> Result<PromptVersion, sqlx::Error> {
    let last: Option<i32> = with_tx!(tx, c => sqlx::query_scalar(
        "select max(version) from ai_prompts where org_id = $1 and team_id = $2 and kind = $3",
    )
    .bind(org_id)
    .bind(team_id)
    .bind(kind.as_str())
    .fetch_one(&mut *c)
    .await)?;
    let version = last.unwrap_or(0) + 1;
    let id = uuid::Uuid::now_v7().to_string();
    with_tx!(tx, c => sqlx::query(
        r"insert into ai_prompts (id, org_id, team_id, kind, version, body, created_by, author, created_at_ms)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(team_id)
    .bind(kind.as_str())
    .bind(version)
    .bind(body)
    .bind(author.user_id)
    .bind(author.email)
    .bind(now_ms)
    .execute(&mut *c)
    .await
    .map(drop))?;
    Ok(PromptVersion {
        version: u32::try_from(version).unwrap_or(0),
        body: body.to_owned(),
        author: author.email.to_owned(),
        created_at_ms: now_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_variables_and_long_prompts_are_refused() {
        assert!(
            problems(
                PromptKind::Analysis,
                "Explain: {{evidence}} ({{pattern.count}})"
            )
            .is_empty()
        );
        let found = problems(PromptKind::Analysis, "{{evidence}} {{file}} {{ secret }}");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("Unknown variables {{file}}, {{secret}}"),
            "{found:?}"
        );
        assert!(found[0].contains("{{evidence}}"), "{found:?}");
        assert!(problems(PromptKind::Test, "{{file}}").is_empty());
        assert!(!problems(PromptKind::System, "{{evidence}}").is_empty());
        let long = "x".repeat(MAX_CHARS + 1);
        assert!(problems(PromptKind::System, &long)[0].contains("8000 characters"));
        // The built-in prompts use only their own variables.
        for kind in PromptKind::ALL {
            assert!(problems(kind, built_in(kind)).is_empty(), "{kind:?}");
        }
    }

    #[test]
    fn prompts_are_filled_from_the_chosen_source() {
        let mut chosen = Chosen {
            org: "Acme".into(),
            team: Some("Payments".into()),
            ..Chosen::default()
        };
        // Built-in: the task's own system prompt, the evidence as the question.
        assert_eq!(chosen.system(AiTask::Explain, "OWN"), "OWN");
        let values = Values::default().with("evidence", "EVIDENCE");
        assert_eq!(chosen.question(PromptKind::Analysis, &values), "EVIDENCE");
        chosen.system = Source::Saved(2, "We are {{team}} at {{org}}; task {{task}}.".into());
        chosen.analysis = Source::Draft("Pattern {{pattern.id}}:\n{{evidence}}".into());
        assert_eq!(
            chosen.system(AiTask::Summary, "OWN"),
            "We are Payments at Acme; task summary.\n\nOWN"
        );
        // A pattern variable in a question about the whole analysis is empty.
        assert_eq!(
            chosen.question(PromptKind::Analysis, &values),
            "Pattern :\nEVIDENCE"
        );
        // Values are not read as templates in turn.
        let tricky = Values::default().with("evidence", "{{pattern.id}}");
        assert_eq!(
            chosen.question(PromptKind::Analysis, &tricky),
            "Pattern :\n{{pattern.id}}"
        );
        assert_eq!(
            chosen.sources(AiTask::Explain),
            ["team Payments", "system: v2", "analysis: draft"]
        );
        // An empty saved version goes back to the built-in prompt.
        chosen.system = Source::Saved(3, "  ".into());
        assert_eq!(chosen.system(AiTask::Explain, "OWN"), "OWN");
        assert_eq!(chosen.sources(AiTask::Tests)[1], "system: built-in (v3)");
    }
}

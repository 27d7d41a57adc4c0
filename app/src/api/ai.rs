//! Optional AI: an organisation's model providers, its AI settings, and what a model wrote.
//! Keys go in and never come out: a provider is shown with the last characters of its key only.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The wire format a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible Chat Completions (OpenAI, DeepSeek, Azure OpenAI, Ollama, vLLM, the
    /// llama.cpp server).
    Openai,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini `generateContent`.
    Gemini,
}

impl ProviderKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Openai, Self::Anthropic, Self::Gemini];

    /// The name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
        }
    }

    /// Parses an API name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Openai => "OpenAI-compatible",
            Self::Anthropic => "Anthropic",
            Self::Gemini => "Google Gemini",
        }
    }
}

/// A new provider (`POST /orgs/{org}/ai/providers`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderInput {
    /// A name unique in the organisation.
    pub name: String,
    /// Its wire format.
    pub kind: ProviderKind,
    /// Where it answers, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// The API key; sealed at rest and never returned.
    pub api_key: String,
    /// Model names, the first being the default.
    pub models: Vec<String>,
    /// Price per 1,000 input tokens, in the organisation's currency.
    #[serde(default)]
    pub price_in_per_1k: f64,
    /// Price per 1,000 output tokens.
    #[serde(default)]
    pub price_out_per_1k: f64,
}

/// Changes to a provider (`PATCH`): only the fields given change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderPatch {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new address.
    #[serde(default)]
    pub base_url: Option<String>,
    /// A new key (replaces the sealed one).
    #[serde(default)]
    pub api_key: Option<String>,
    /// New model names.
    #[serde(default)]
    pub models: Option<Vec<String>>,
    /// A new input price.
    #[serde(default)]
    pub price_in_per_1k: Option<f64>,
    /// A new output price.
    #[serde(default)]
    pub price_out_per_1k: Option<f64>,
    /// Its place in the fallback chain (0 first).
    #[serde(default)]
    pub position: Option<u32>,
    /// Whether it is used.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A provider as clients see it: everything but the key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Provider {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its wire format.
    pub kind: ProviderKind,
    /// Where it answers.
    pub base_url: String,
    /// The key's last four characters, as `…abcd`.
    pub key_hint: String,
    /// Model names, the first being the default.
    pub models: Vec<String>,
    /// Price per 1,000 input tokens.
    pub price_in_per_1k: f64,
    /// Price per 1,000 output tokens.
    pub price_out_per_1k: f64,
    /// Its place in the fallback chain (0 first).
    pub position: u32,
    /// Whether it is used.
    pub enabled: bool,
    /// When it last changed.
    pub updated_at_ms: i64,
}

/// What a task is: routing rules and usage name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AiTask {
    /// Explaining a pattern and its root cause.
    Explain,
    /// Fix suggestions.
    Recommend,
    /// Writing or improving test bodies.
    Tests,
    /// Summarising an analysis for the report.
    Summary,
}

impl AiTask {
    /// Every task.
    pub const ALL: [Self; 4] = [Self::Explain, Self::Recommend, Self::Tests, Self::Summary];

    /// The name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Explain => "explain",
            Self::Recommend => "recommend",
            Self::Tests => "tests",
            Self::Summary => "summary",
        }
    }

    /// Parses an API name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// A routing rule: which provider and model a task goes to first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Route {
    /// The task.
    pub task: AiTask,
    /// The provider's id.
    pub provider_id: String,
    /// One of its models; its first when absent.
    #[serde(default)]
    pub model: Option<String>,
}

/// An organisation's AI settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AiSettings {
    /// False turns AI off entirely: nothing is sent anywhere and the built-in engine answers.
    pub enabled: bool,
    /// Replace emails, IP addresses and tokens with placeholders before anything is sent.
    pub redact_pii: bool,
    /// The most the organisation spends on models in a calendar month (UTC); none for no
    /// ceiling.
    #[serde(default)]
    pub monthly_budget: Option<f64>,
    /// Rules by task; a task without one uses the providers in their order.
    #[serde(default)]
    pub routes: Vec<Route>,
}

impl Default for AiSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            redact_pii: true,
            monthly_budget: None,
            routes: Vec::new(),
        }
    }
}

/// `POST /analyses/{id}/ai/explain`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExplainRequest {
    /// The pattern to explain (`p3`).
    pub pattern_id: String,
    /// A provider's id or name to ask first; the routing rules otherwise.
    #[serde(default)]
    pub provider: Option<String>,
    /// A team whose custom prompts to use (its id); the built-in prompts otherwise.
    #[serde(default)]
    pub team: Option<String>,
}

/// `POST /analyses/{id}/ai/recommend`: fix suggestions for one pattern, or for the analysis as
/// a whole when no pattern is named.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecommendRequest {
    /// The pattern (`p3`); none for the whole analysis.
    #[serde(default)]
    pub pattern_id: Option<String>,
    /// A provider's id or name to ask first; the routing rules otherwise.
    #[serde(default)]
    pub provider: Option<String>,
    /// A team whose custom prompts to use (its id); the built-in prompts otherwise.
    #[serde(default)]
    pub team: Option<String>,
}

/// `POST /analyses/{id}/ai/summary`: an executive summary of the analysis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryRequest {
    /// A provider's id or name to ask first; the routing rules otherwise.
    #[serde(default)]
    pub provider: Option<String>,
    /// A team whose custom prompts to use (its id); the built-in prompts otherwise.
    #[serde(default)]
    pub team: Option<String>,
}

/// `POST /analyses/{id}/ai/stream`: one task, its answer streamed as it is written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StreamRequest {
    /// `explain` or `recommend` (with `pattern_id`; `recommend` without one covers the
    /// analysis), or `summary`.
    pub task: AiTask,
    /// The pattern, for the tasks about one.
    #[serde(default)]
    pub pattern_id: Option<String>,
    /// A provider's id or name to ask first; the routing rules otherwise.
    #[serde(default)]
    pub provider: Option<String>,
    /// A team whose custom prompts to use (its id); the built-in prompts otherwise.
    #[serde(default)]
    pub team: Option<String>,
}

/// One model to compare: a provider and one of its models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompareTarget {
    /// The provider's id or name.
    pub provider: String,
    /// One of its models; its first when absent.
    #[serde(default)]
    pub model: Option<String>,
}

/// `POST /analyses/{id}/ai/compare`: the same task on several models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompareRequest {
    /// `explain` or `recommend` (both need `pattern_id`; `recommend` without one covers the
    /// analysis), or `summary`.
    pub task: AiTask,
    /// The pattern, for the tasks about one.
    #[serde(default)]
    pub pattern_id: Option<String>,
    /// One to four models.
    pub targets: Vec<CompareTarget>,
    /// For `tests`: the framework to write in (default: the caller's saved test settings).
    #[serde(default)]
    pub framework: Option<crate::api::testgen::Framework>,
    /// A team whose custom prompts to use (its id); the built-in prompts otherwise.
    #[serde(default)]
    pub team: Option<String>,
}

/// `POST /analyses/{id}/ai/tests`: a model writes (improves) the regression tests of one
/// pattern, starting from the built-in generator's file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AiTestsRequest {
    /// The pattern.
    pub pattern_id: String,
    /// The framework (default: the caller's saved test settings).
    #[serde(default)]
    pub framework: Option<crate::api::testgen::Framework>,
    /// A provider's id or name to ask first.
    #[serde(default)]
    pub provider: Option<String>,
    /// A team whose custom prompts to use (its id); the built-in prompts otherwise.
    #[serde(default)]
    pub team: Option<String>,
}

/// One model's try at a test file, and what validation made of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestAttempt {
    /// The provider's name.
    pub provider: String,
    /// The model.
    pub model: String,
    /// True for the second try, which was shown the first one's problems.
    pub repair: bool,
    /// Whether the file passed validation.
    pub valid: bool,
    /// Tests found in the file.
    pub tests: u32,
    /// What validation found wrong (at most 20).
    pub errors: Vec<crate::api::testgen::Problem>,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// What the call cost.
    pub cost: f64,
    /// True when the answer came from the cache.
    pub cached: bool,
}

/// The answer to `POST /analyses/{id}/ai/tests`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AiTests {
    /// The pattern.
    pub pattern_id: String,
    /// The framework.
    pub framework: crate::api::testgen::Framework,
    /// The file kept: the model's when it passed validation (at once or after its one
    /// repair), else the built-in generator's.
    pub file: crate::api::testgen::GeneratedFile,
    /// Who wrote the kept file: the provider's name, or `faultline` for the generator.
    pub provider: String,
    /// The model, or `built-in`.
    pub model: String,
    /// The built-in generator's file for the pattern, for comparison.
    pub engine: crate::api::testgen::GeneratedFile,
    /// Each model answer and its validation, in order (empty when no model answered).
    pub attempts: Vec<TestAttempt>,
    /// What happened: fallbacks, repairs, a discarded file and why.
    pub notes: Vec<String>,
    /// Input tokens over every attempt.
    pub tokens_in: u64,
    /// Output tokens over every attempt.
    pub tokens_out: u64,
    /// What the attempts cost together.
    pub cost: f64,
}

/// Which of a team's custom prompts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    /// Standing instructions put before every task's own.
    System,
    /// The question about an analysis or a pattern (explanations, fixes, summaries).
    Analysis,
    /// The question for test bodies.
    Test,
}

impl PromptKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::System, Self::Analysis, Self::Test];

    /// The name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Analysis => "analysis",
            Self::Test => "test",
        }
    }

    /// Parses an API name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Self::System => "System prompt",
            Self::Analysis => "Analysis prompt",
            Self::Test => "Test prompt",
        }
    }
}

/// One saved version of a team's prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromptVersion {
    /// 1, 2, … per team and kind.
    pub version: u32,
    /// The text, with `{{variables}}`; empty means the built-in prompt.
    pub body: String,
    /// Who saved it (their e-mail address then).
    pub author: String,
    /// When.
    pub created_at_ms: i64,
}

/// A variable a prompt may use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromptVariable {
    /// Its name, written `{{name}}`.
    pub name: String,
    /// What it holds.
    pub meaning: String,
}

/// A team's prompt of one kind: the version in use, the built-in text, and the variables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamPrompt {
    /// The kind.
    pub kind: PromptKind,
    /// The latest version; none until one is saved.
    #[serde(default)]
    pub current: Option<PromptVersion>,
    /// What is used without a version (or with an empty one).
    pub built_in: String,
    /// The variables it may use.
    pub variables: Vec<PromptVariable>,
}

/// `GET /orgs/{org}/teams/{team}/ai/prompts`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamPrompts {
    /// The team's id.
    pub team_id: String,
    /// Its name.
    pub team: String,
    /// System, analysis and test prompts, in that order.
    pub prompts: Vec<TeamPrompt>,
}

/// `POST /orgs/{org}/teams/{team}/ai/prompts/{kind}`: a new version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromptInput {
    /// The text, with `{{variables}}`; empty goes back to the built-in prompt.
    pub body: String,
}

/// `POST /analyses/{id}/ai/preview`: what a task would send, with this analysis' real inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromptPreviewRequest {
    /// The task.
    pub task: AiTask,
    /// The pattern, for the tasks about one.
    #[serde(default)]
    pub pattern_id: Option<String>,
    /// For `tests`: the framework (default: the caller's saved test settings).
    #[serde(default)]
    pub framework: Option<crate::api::testgen::Framework>,
    /// The team whose saved prompts to use.
    #[serde(default)]
    pub team: Option<String>,
    /// Drafts to try in place of the saved prompts, by kind.
    #[serde(default)]
    pub drafts: Vec<PromptDraft>,
}

/// A draft prompt for a preview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromptDraft {
    /// Which prompt it replaces.
    pub kind: PromptKind,
    /// Its text; empty means the built-in prompt.
    pub body: String,
}

/// What a task would send to a model, after redaction as the organisation has it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromptPreview {
    /// The task.
    pub task: AiTask,
    /// The system prompt.
    pub system: String,
    /// The prompt.
    pub prompt: String,
    /// Which versions were used (`analysis v3`), or `built-in`, or `draft`.
    pub sources: Vec<String>,
}

/// One check of a model's output against what the task asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Check {
    /// What was checked, e.g. `At most 300 words`.
    pub name: String,
    /// Whether the output passed.
    pub passed: bool,
    /// What was found, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One model's result in a comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComparisonRow {
    /// The provider's name, or `faultline` for the built-in engine.
    pub provider: String,
    /// The model, or `built-in`.
    pub model: String,
    /// What it wrote (Markdown; render it sanitised); none when it failed.
    #[serde(default)]
    pub markdown: Option<String>,
    /// Why it wrote nothing.
    #[serde(default)]
    pub error: Option<String>,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// What the call cost.
    pub cost: f64,
    /// True when the answer came from the cache.
    pub cached: bool,
    /// Wall-clock time of the call, retries included.
    pub duration_ms: u64,
    /// The output checked against the task; empty when there is no output.
    pub checks: Vec<Check>,
}

impl ComparisonRow {
    /// A row for `answer`, before its time and checks are known.
    pub fn answered(answer: AiAnswer) -> Self {
        Self {
            provider: answer.provider,
            model: answer.model,
            markdown: Some(answer.markdown),
            error: None,
            tokens_in: answer.tokens_in,
            tokens_out: answer.tokens_out,
            cost: answer.cost,
            cached: answer.cached,
            duration_ms: 0,
            checks: Vec::new(),
        }
    }

    /// A row for a model that did not answer.
    pub fn failed(provider: &str, model: &str, error: String, duration_ms: u64) -> Self {
        Self {
            provider: provider.to_owned(),
            model: model.to_owned(),
            markdown: None,
            error: Some(error),
            tokens_in: 0,
            tokens_out: 0,
            cost: 0.0,
            cached: false,
            duration_ms,
            checks: Vec::new(),
        }
    }
}

/// The answer to `POST /analyses/{id}/ai/compare`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ModelComparison {
    /// The task.
    pub task: AiTask,
    /// The built-in engine first, then each model in the order asked.
    pub rows: Vec<ComparisonRow>,
}

/// What a model (or the built-in engine) wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AiAnswer {
    /// Markdown; render it sanitised.
    pub markdown: String,
    /// The provider's name, or `faultline` for the built-in engine.
    pub provider: String,
    /// The model, or `built-in`.
    pub model: String,
    /// Input tokens counted by the provider (0 from the cache and the built-in engine).
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// What the call cost (0 from the cache and the built-in engine).
    pub cost: f64,
    /// True when the answer came from the cache.
    pub cached: bool,
    /// Why an earlier provider in the chain was passed over, or why the built-in engine
    /// answered.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Calls of one model, or of one task, over a month.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageRow {
    /// The provider's name (empty in the rows by task).
    pub provider: String,
    /// The model (empty in the rows by task).
    pub model: String,
    /// The task (empty in the rows by model).
    pub task: String,
    /// Calls, cached and failed ones included.
    pub calls: u64,
    /// Calls the cache answered.
    pub cached: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Input tokens billed (cached answers' not counted).
    pub tokens_in: u64,
    /// Output tokens billed.
    pub tokens_out: u64,
    /// What they cost.
    pub cost: f64,
}

/// One day's calls and cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Calls.
    pub calls: u64,
    /// Cost.
    pub cost: f64,
}

/// `GET /orgs/{org}/ai/usage`: a calendar month of AI calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AiUsage {
    /// `YYYY-MM` (UTC).
    pub month: String,
    /// What the month's calls cost.
    pub spent: f64,
    /// The organisation's monthly ceiling, if it has one.
    #[serde(default)]
    pub ceiling: Option<f64>,
    /// Every call of the month, as one row.
    pub total: UsageRow,
    /// By provider and model, costliest first.
    pub by_model: Vec<UsageRow>,
    /// By task, costliest first.
    pub by_task: Vec<UsageRow>,
    /// Every day of the month, in order.
    pub days: Vec<UsageDay>,
}

/// Every model of `providers` as (`provider-id/model`, `Provider · model`), as the pages'
/// choices name them.
pub fn model_options(providers: &[Provider]) -> Vec<(String, String)> {
    providers
        .iter()
        .flat_map(|p| {
            p.models
                .iter()
                .map(|m| (format!("{}/{m}", p.id), format!("{} · {m}", p.name)))
        })
        .collect()
}

/// What the organisation page's AI card shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AiAdmin {
    /// Providers, in fallback order.
    pub providers: Vec<Provider>,
    /// The organisation's AI settings.
    pub settings: AiSettings,
    /// This month's calls.
    pub usage: AiUsage,
}

/// An answer with its Markdown rendered to HTML on the server: raw HTML in it shown as text,
/// links only to http(s) and mail addresses, images shown as their description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explained {
    /// The answer as the API gives it.
    pub answer: AiAnswer,
    /// Safe HTML of `answer.markdown`.
    pub html: String,
}

/// Renders model-written Markdown as HTML that cannot run script or load anything: raw HTML
/// becomes text, links keep only http(s) and `mailto:` targets, images become their alt text.
#[cfg(feature = "ssr")]
pub fn safe_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
    let allowed = |url: &str| {
        let lower = url.trim().to_ascii_lowercase();
        lower.starts_with("https://")
            || lower.starts_with("http://")
            || lower.starts_with("mailto:")
    };
    let events = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
    .filter_map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        // The description stays as text; nothing is fetched.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Some(Event::Start(Tag::Link {
            link_type,
            dest_url: if allowed(&dest_url) {
                dest_url
            } else {
                "#".into()
            },
            title,
            id,
        })),
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(feature = "ssr")]
fn org_path(org: &str, rest: &str) -> String {
    format!("/orgs/{}/ai/{rest}", super::account::urlencode(org))
}

/// The providers and settings, for those who may configure AI; `None` for everyone else.
#[server(prefix = "/rpc", endpoint = "ai_admin")]
pub async fn load_ai_admin(org: String) -> Result<Option<AiAdmin>, super::error::ApiError> {
    use crate::ssr::call_if_permitted;
    let get = http::Method::GET;
    let Some(providers) =
        call_if_permitted(get.clone(), &org_path(&org, "providers"), None).await?
    else {
        return Ok(None);
    };
    let Some(settings) = call_if_permitted(get.clone(), &org_path(&org, "settings"), None).await?
    else {
        return Ok(None);
    };
    let Some(usage) = call_if_permitted(get, &org_path(&org, "usage"), None).await? else {
        return Ok(None);
    };
    Ok(Some(AiAdmin {
        providers,
        settings,
        usage,
    }))
}

/// Calendar month `month` (`YYYY-MM`) of the organisation's AI calls.
#[server(prefix = "/rpc", endpoint = "ai_usage")]
pub async fn load_ai_usage(org: String, month: String) -> Result<AiUsage, super::error::ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &org_path(
            &org,
            &format!("usage?month={}", super::account::urlencode(&month)),
        ),
        None,
    )
    .await
}

/// What the pattern page's AI card needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PatternAi {
    /// The organisation's providers (without keys), to pick one.
    pub providers: Vec<Provider>,
    /// Whether the caller may compare models (it spends on several at once).
    pub can_compare: bool,
    /// The organisation's teams, whose custom prompts may be used.
    #[serde(default)]
    pub teams: Vec<super::orgs::TeamView>,
}

/// The providers, and whether the caller may compare them.
#[server(prefix = "/rpc", endpoint = "pattern_ai")]
pub async fn load_pattern_ai(org: String) -> Result<PatternAi, super::error::ApiError> {
    let view: super::orgs::OrgView = crate::ssr::call(
        http::Method::GET,
        &format!("/orgs/{}", super::account::urlencode(&org)),
        None,
    )
    .await?;
    let providers = crate::ssr::call(http::Method::GET, &org_path(&org, "providers"), None).await?;
    let teams = crate::ssr::call(
        http::Method::GET,
        &format!("/orgs/{}/teams", super::account::urlencode(&org)),
        None,
    )
    .await?;
    Ok(PatternAi {
        providers,
        can_compare: view.can("configure_ai"),
        teams,
    })
}

/// A price field: empty is free; anything else unreadable is sent as out of range, so the
/// answer names the field.
#[cfg(feature = "ssr")]
fn price(raw: &str) -> f64 {
    let raw = raw.trim();
    if raw.is_empty() {
        0.0
    } else {
        raw.parse::<f64>()
            .ok()
            .filter(|p| p.is_finite())
            .unwrap_or(-1.0)
    }
}

/// The add-provider form as typed: models separated by commas or spaces, prices as text.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderForm {
    /// Name.
    pub name: String,
    /// `openai`, `anthropic` or `gemini`.
    pub kind: String,
    /// Address.
    pub base_url: String,
    /// API key.
    pub api_key: String,
    /// Model names.
    pub models: String,
    /// Price per 1,000 input tokens (empty: 0).
    #[serde(default)]
    pub price_in: String,
    /// Price per 1,000 output tokens (empty: 0).
    #[serde(default)]
    pub price_out: String,
}

/// Adds a provider from the card's form.
#[server(prefix = "/rpc", endpoint = "add_ai_provider")]
pub async fn add_ai_provider(
    org: String,
    input: ProviderForm,
) -> Result<Provider, super::error::ApiError> {
    let Some(kind) = ProviderKind::parse(&input.kind) else {
        return Err(super::error::ApiError::new(
            422,
            "invalid",
            "Pick the provider's kind.",
        ));
    };
    let body = ProviderInput {
        name: input.name,
        kind,
        base_url: input.base_url,
        api_key: input.api_key,
        models: input
            .models
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        price_in_per_1k: price(&input.price_in),
        price_out_per_1k: price(&input.price_out),
    };
    crate::ssr::call(
        http::Method::POST,
        &org_path(&org, "providers"),
        serde_json::to_value(&body).ok(),
    )
    .await
}

/// Turns a provider on or off.
#[server(prefix = "/rpc", endpoint = "set_ai_provider_enabled")]
pub async fn set_ai_provider_enabled(
    org: String,
    id: String,
    enabled: bool,
) -> Result<Provider, super::error::ApiError> {
    let patch = ProviderPatch {
        enabled: Some(enabled),
        ..ProviderPatch::default()
    };
    crate::ssr::call(
        http::Method::PATCH,
        &org_path(
            &org,
            &format!("providers/{}", super::account::urlencode(&id)),
        ),
        serde_json::to_value(&patch).ok(),
    )
    .await
}

/// Removes a provider.
#[server(prefix = "/rpc", endpoint = "delete_ai_provider")]
pub async fn delete_ai_provider(org: String, id: String) -> Result<(), super::error::ApiError> {
    crate::ssr::call::<serde_json::Value>(
        http::Method::DELETE,
        &org_path(
            &org,
            &format!("providers/{}", super::account::urlencode(&id)),
        ),
        None,
    )
    .await
    .map(drop)
}

/// Saves the switch, redaction and ceiling from the card's form, keeping the routing rules.
#[server(prefix = "/rpc", endpoint = "save_ai_settings")]
pub async fn save_ai_settings(
    org: String,
    enabled: bool,
    redact_pii: bool,
    monthly_budget: String,
) -> Result<AiSettings, super::error::ApiError> {
    let current: AiSettings =
        crate::ssr::call(http::Method::GET, &org_path(&org, "settings"), None).await?;
    let budget = monthly_budget.trim();
    let settings = AiSettings {
        enabled,
        redact_pii,
        monthly_budget: (!budget.is_empty()).then(|| price(budget)),
        routes: current.routes,
    };
    crate::ssr::call(
        http::Method::PUT,
        &org_path(&org, "settings"),
        serde_json::to_value(&settings).ok(),
    )
    .await
}

/// Saves the routing rules from the card's form, keeping the other settings: each task's value
/// is `provider-id/model`, or empty to use the providers in their order.
#[server(prefix = "/rpc", endpoint = "save_ai_routes")]
pub async fn save_ai_routes(
    org: String,
    explain: String,
    recommend: String,
    tests: String,
    summary: String,
) -> Result<AiSettings, super::error::ApiError> {
    let current: AiSettings =
        crate::ssr::call(http::Method::GET, &org_path(&org, "settings"), None).await?;
    let routes = [
        (AiTask::Explain, explain),
        (AiTask::Recommend, recommend),
        (AiTask::Tests, tests),
        (AiTask::Summary, summary),
    ]
    .into_iter()
    .filter_map(|(task, choice)| {
        let (provider, model) = choice.split_once('/')?;
        Some(Route {
            task,
            provider_id: provider.to_owned(),
            model: (!model.is_empty()).then(|| model.to_owned()),
        })
    })
    .collect();
    let settings = AiSettings { routes, ..current };
    crate::ssr::call(
        http::Method::PUT,
        &org_path(&org, "settings"),
        serde_json::to_value(&settings).ok(),
    )
    .await
}

/// A comparison row with its output rendered to safe HTML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparedRow {
    /// The row as the API gives it.
    pub row: ComparisonRow,
    /// Safe HTML of its Markdown, when it has some.
    pub html: Option<String>,
}

/// Compares models on `task` (`explain` or `recommend`) for pattern `pattern`; `targets` are
/// `provider-id/model` pairs as the page's checkboxes name them.
#[server(prefix = "/rpc", endpoint = "compare_models")]
pub async fn compare_models(
    org: String,
    id: String,
    pattern: String,
    task: String,
    targets: Vec<String>,
    team: String,
) -> Result<Vec<ComparedRow>, super::error::ApiError> {
    use super::account::urlencode;
    let Some(task) = AiTask::parse(&task) else {
        return Err(super::error::ApiError::new(
            422,
            "invalid",
            "Pick a task to compare.",
        ));
    };
    let request = CompareRequest {
        task,
        pattern_id: (task != AiTask::Summary).then_some(pattern),
        targets: targets
            .iter()
            .filter_map(|t| t.split_once('/'))
            .map(|(provider, model)| CompareTarget {
                provider: provider.to_owned(),
                model: Some(model.to_owned()),
            })
            .collect(),
        framework: None,
        team: (!team.is_empty()).then_some(team),
    };
    let compared: ModelComparison = crate::ssr::call(
        http::Method::POST,
        &format!(
            "/analyses/{}/ai/compare?org={}",
            urlencode(&id),
            urlencode(&org)
        ),
        serde_json::to_value(&request).ok(),
    )
    .await?;
    Ok(compared
        .rows
        .into_iter()
        .map(|row| ComparedRow {
            html: row.markdown.as_deref().map(safe_html),
            row,
        })
        .collect())
}

/// A model improves the built-in generator's tests for `pattern`; `framework` empty means the
/// caller's saved test settings, `provider` empty means as routed, `team` empty means the
/// built-in prompts.
#[server(prefix = "/rpc", endpoint = "write_tests")]
pub async fn write_tests(
    org: String,
    id: String,
    pattern: String,
    framework: String,
    provider: String,
    team: String,
) -> Result<AiTests, super::error::ApiError> {
    use super::account::urlencode;
    let framework = match framework.trim() {
        "" => None,
        raw => Some(crate::api::testgen::Framework::parse(raw).ok_or_else(|| {
            super::error::ApiError::new(422, "invalid", "Pick a test framework.")
        })?),
    };
    let request = AiTestsRequest {
        pattern_id: pattern,
        framework,
        provider: (!provider.trim().is_empty()).then_some(provider),
        team: (!team.is_empty()).then_some(team),
    };
    crate::ssr::call(
        http::Method::POST,
        &format!(
            "/analyses/{}/ai/tests?org={}",
            urlencode(&id),
            urlencode(&org)
        ),
        serde_json::to_value(&request).ok(),
    )
    .await
}

/// The team prompt editor's data: the prompts, and each one's versions (newest first), in the
/// order of `prompts.prompts`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromptsEditor {
    /// The prompts in use, the built-in texts and the variables.
    pub prompts: TeamPrompts,
    /// Versions of each prompt.
    pub history: Vec<Vec<PromptVersion>>,
}

#[cfg(feature = "ssr")]
fn team_prompts_path(org: &str, team: &str, rest: &str) -> String {
    use super::account::urlencode;
    format!(
        "/orgs/{}/teams/{}/ai/prompts{rest}",
        urlencode(org),
        urlencode(team)
    )
}

/// Team `team`'s prompts and their versions.
#[server(prefix = "/rpc", endpoint = "team_prompts")]
pub async fn load_team_prompts(
    org: String,
    team: String,
) -> Result<PromptsEditor, super::error::ApiError> {
    let prompts: TeamPrompts =
        crate::ssr::call(http::Method::GET, &team_prompts_path(&org, &team, ""), None).await?;
    let mut history = Vec::with_capacity(prompts.prompts.len());
    for p in &prompts.prompts {
        let path = team_prompts_path(&org, &team, &format!("/{}", p.kind.as_str()));
        history.push(crate::ssr::call(http::Method::GET, &path, None).await?);
    }
    Ok(PromptsEditor { prompts, history })
}

/// Saves `body` as the next version of team `team`'s prompt of `kind`.
#[server(prefix = "/rpc", endpoint = "save_team_prompt")]
pub async fn save_team_prompt(
    org: String,
    team: String,
    kind: String,
    body: String,
) -> Result<PromptVersion, super::error::ApiError> {
    let Some(kind) = PromptKind::parse(&kind) else {
        return Err(super::error::ApiError::new(
            422,
            "invalid",
            "Pick the prompt to save.",
        ));
    };
    crate::ssr::call(
        http::Method::POST,
        &team_prompts_path(&org, &team, &format!("/{}", kind.as_str())),
        serde_json::to_value(PromptInput { body }).ok(),
    )
    .await
}

/// A preview in the prompt editor: what `task` would send for the organisation's latest
/// finished analysis (and its riskiest pattern), with the team's prompts and the drafts given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorPreview {
    /// The analysis used.
    pub analysis: String,
    /// The pattern used, for tasks about one.
    pub pattern: Option<String>,
    /// What would be sent.
    pub preview: PromptPreview,
}

/// Previews `task` with team `team`'s prompts, the drafts given (`system`, `analysis`, `test`)
/// tried in their place, on the latest finished analysis of the organisation.
#[server(prefix = "/rpc", endpoint = "preview_team_prompts")]
pub async fn preview_team_prompts(
    org: String,
    team: String,
    task: String,
    system: Option<String>,
    analysis: Option<String>,
    test: Option<String>,
) -> Result<EditorPreview, super::error::ApiError> {
    use super::account::urlencode;
    let invalid = |m: &str| super::error::ApiError::new(422, "invalid", m);
    let task = AiTask::parse(&task).ok_or_else(|| invalid("Pick a task to preview."))?;
    let drafts: Vec<PromptDraft> = [
        (PromptKind::System, system),
        (PromptKind::Analysis, analysis),
        (PromptKind::Test, test),
    ]
    .into_iter()
    .filter_map(|(kind, body)| body.map(|body| PromptDraft { kind, body }))
    .collect();
    let page: super::analyses::HistoryPage = crate::ssr::call(
        http::Method::GET,
        &format!("/analyses?status=done&per_page=1&org={}", urlencode(&org)),
        None,
    )
    .await?;
    let Some(latest) = page.items.into_iter().next() else {
        return Err(invalid(
            "The preview uses the latest finished analysis, and there is none yet: upload a log first.",
        ));
    };
    let pattern = if task == AiTask::Summary {
        None
    } else {
        let patterns: super::patterns::PatternPage = crate::ssr::call(
            http::Method::GET,
            &format!(
                "/analyses/{}/patterns?sort=risk&org={}",
                urlencode(&latest.id),
                urlencode(&org)
            ),
            None,
        )
        .await?;
        patterns
            .items
            .into_iter()
            // Tests are written for error patterns and high or critical ones.
            .find(|p| {
                task != AiTask::Tests
                    || p.is_error
                    || matches!(p.severity.as_str(), "critical" | "high")
            })
            .map(|p| p.id)
    };
    let request = PromptPreviewRequest {
        task,
        pattern_id: pattern.clone(),
        framework: None,
        team: Some(team),
        drafts,
    };
    let preview = crate::ssr::call(
        http::Method::POST,
        &format!(
            "/analyses/{}/ai/preview?org={}",
            urlencode(&latest.id),
            urlencode(&org)
        ),
        serde_json::to_value(&request).ok(),
    )
    .await?;
    Ok(EditorPreview {
        analysis: latest.name,
        pattern,
        preview,
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn model_markdown_cannot_run_or_load_anything() {
        let html = safe_html(
            "## Cause\n\n<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n[ok](https://example.com) [bad](javascript:alert(1)) ![pixel](https://tracker.example/p.gif)\n\n- **bold** `code`",
        );
        assert!(html.contains("<h2>Cause</h2>"), "{html}");
        assert!(
            !html.contains("<script") && html.contains("&lt;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com">ok</a>"#),
            "{html}"
        );
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains("pixel") && !html.contains("tracker.example"),
            "{html}"
        );
        assert!(html.contains("<strong>bold</strong>") && html.contains("<code>code</code>"));
    }
}

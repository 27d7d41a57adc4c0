//! Optional AI: an organisation's model providers, its AI settings, and what a model wrote.
//! Keys go in and never come out: a provider is shown with the last characters of its key only.

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

//! `/api/v1/orgs/{org}/ai/*` and `/api/v1/analyses/{id}/ai/*`: an organisation's model
//! providers and AI settings, and what a model (or the built-in engine) says about an analysis
//! or one of its patterns: explanations, fix suggestions, summaries, test bodies, and models
//! compared.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use app::api::ai::{
    AiAnswer, AiSettings, AiTask, AiTests, AiTestsRequest, AiUsage, Check, CompareRequest,
    ExplainRequest, ModelComparison, PromptInput, PromptKind, PromptPreview, PromptPreviewRequest,
    PromptVersion, Provider, ProviderInput, ProviderKind, ProviderPatch, RecommendRequest,
    StreamRequest, SummaryRequest, TeamPrompt, TeamPrompts, UsageDay,
};
use app::api::patterns::PatternDetail;
use app::api::testgen::Framework;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use super::extract::ApiJson;
use crate::ai::team_prompts::{self, Chosen, Values};
use crate::ai::{self, checks, prompts, store, test_bodies};
use crate::audit;
use crate::http::error::AppError;
use crate::ingest::results::ResultIndex;
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::permission::Permission;
use crate::tenancy::teams;

/// Models a provider may list.
const MAX_MODELS: usize = 20;
/// Longest API key accepted.
const MAX_KEY_CHARS: usize = 4096;
/// The highest price per 1,000 tokens accepted (a typo guard).
const MAX_PRICE: f64 = 1000.0;
/// Output tokens asked for an explanation.
const EXPLAIN_TOKENS: u32 = 800;
/// Output tokens asked for a summary.
const SUMMARY_TOKENS: u32 = 500;

/// The problems of a provider's fields (absent ones are not checked).
struct Fields<'a> {
    name: Option<&'a str>,
    kind: ProviderKind,
    base_url: Option<&'a str>,
    api_key: Option<&'a str>,
    models: Option<&'a [String]>,
    price_in: Option<f64>,
    price_out: Option<f64>,
}

fn problems(f: &Fields) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(name) = f.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            out.push((
                "name",
                "Give the provider a name of 1 to 80 characters.".into(),
            ));
        } else if name.eq_ignore_ascii_case(ai::BUILT_IN) {
            out.push((
                "name",
                format!(
                    "{} is the built-in engine's name; choose another.",
                    ai::BUILT_IN
                ),
            ));
        }
    }
    if let Some(url) = f.base_url {
        match reqwest::Url::parse(url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                if !u.username().is_empty() || u.password().is_some() || u.fragment().is_some() {
                    out.push((
                        "base_url",
                        "The address may not carry credentials or a fragment; the key goes in api_key.".into(),
                    ));
                }
            }
            _ => out.push((
                "base_url",
                format!(
                    "Give the provider's address as an http(s) URL, e.g. {}.",
                    match f.kind {
                        ProviderKind::Openai => "https://api.openai.com/v1",
                        ProviderKind::Anthropic => "https://api.anthropic.com",
                        ProviderKind::Gemini => "https://generativelanguage.googleapis.com/v1beta",
                    }
                ),
            )),
        }
    }
    if let Some(key) = f.api_key {
        let key = key.trim();
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            out.push(("api_key", "Give the provider's API key.".into()));
        } else if key.chars().any(char::is_control) {
            out.push((
                "api_key",
                "The key has control characters (a line break?); paste it again.".into(),
            ));
        }
    }
    if let Some(models) = f.models {
        let valid = |m: &String| {
            !m.is_empty()
                && m.len() <= 200
                && !m.contains("..")
                && m.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'@')
                })
        };
        if models.is_empty() || models.len() > MAX_MODELS {
            out.push((
                "models",
                format!("List 1 to {MAX_MODELS} model names, the default first."),
            ));
        } else if let Some(bad) = models.iter().find(|m| !valid(m)) {
            out.push((
                "models",
                format!("{bad:?} is not a model name (letters, digits, - _ . : / @)."),
            ));
        }
    }
    for (field, price) in [
        ("price_in_per_1k", f.price_in),
        ("price_out_per_1k", f.price_out),
    ] {
        if let Some(p) = price
            && !(p.is_finite() && (0.0..=MAX_PRICE).contains(&p))
        {
            out.push((
                field,
                format!("Give a price per 1,000 tokens between 0 and {MAX_PRICE}."),
            ));
        }
    }
    out
}

/// `…abcd`: the key's last four characters, when it is long enough to spare them.
fn hint(key: &str) -> String {
    let chars: Vec<char> = key.trim().chars().collect();
    if chars.len() >= 12 {
        format!("…{}", chars[chars.len() - 4..].iter().collect::<String>())
    } else {
        "…".into()
    }
}

/// `GET /orgs/{org}/ai/providers`.
#[utoipa::path(get, path = "/orgs/{org}/ai/providers", tag = "ai", summary = "The organisation's model providers",
    description = "In fallback order. Keys are never returned; `key_hint` shows their last characters.",
    params(("org" = String, Path, description = "Organisation slug or id")),
    responses(
        (status = 200, description = "Providers", body = Vec<Provider>),
        (status = 403, description = "The caller may not view analyses", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn list_providers(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Vec<Provider>>, AppError> {
    ctx.require(Permission::ViewAnalyses)?;
    let mut tx = ctx.begin_read(&state.db).await?;
    let list = store::list(&mut tx, &ctx.org.id).await?;
    tx.commit().await?;
    Ok(Json(list.into_iter().map(|s| s.provider).collect()))
}

/// `POST /orgs/{org}/ai/providers`.
#[utoipa::path(post, path = "/orgs/{org}/ai/providers", tag = "ai", summary = "Add a model provider",
    description = "The key is sealed with AES-256-GCM under the server key, bound to the provider, and never echoed. The provider joins the end of the fallback chain. Needs configure_ai; audited as `ai.provider_created` (without the key).",
    params(("org" = String, Path, description = "Organisation slug or id")),
    request_body = ProviderInput,
    responses(
        (status = 201, description = "Added", body = Provider),
        (status = 403, description = "The caller may not configure AI", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "A field is missing or wrong, each problem naming its field", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn create_provider(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<ProviderInput>,
) -> Result<(StatusCode, Json<Provider>), AppError> {
    ctx.require(Permission::ConfigureAi)?;
    let mut found = problems(&Fields {
        name: Some(&body.name),
        kind: body.kind,
        base_url: Some(&body.base_url),
        api_key: Some(&body.api_key),
        models: Some(&body.models),
        price_in: Some(body.price_in_per_1k),
        price_out: Some(body.price_out_per_1k),
    });
    let now = state.clock.now_ms();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = ctx.begin(&state.db).await?;
    if store::name_taken(&mut tx, &ctx.org.id, body.name.trim(), &id).await? {
        found.push(("name", "Another provider has that name.".into()));
    }
    if !found.is_empty() {
        return Err(AppError::fields(found));
    }
    let stored = store::Stored {
        provider: Provider {
            id: id.clone(),
            name: body.name.trim().to_owned(),
            kind: body.kind,
            base_url: body.base_url.trim().trim_end_matches('/').to_owned(),
            key_hint: hint(&body.api_key),
            models: body.models.clone(),
            price_in_per_1k: body.price_in_per_1k,
            price_out_per_1k: body.price_out_per_1k,
            position: store::next_position(&mut tx, &ctx.org.id).await?,
            enabled: true,
            updated_at_ms: now,
        },
        sealed_key: state.ai.seal(body.api_key.trim(), &id),
    };
    store::put(&mut tx, &ctx.org.id, &stored, &ctx.caller.user.id, now).await?;
    let detail = serde_json::json!({"name": stored.provider.name, "kind": body.kind.as_str(), "base_url": stored.provider.base_url, "models": stored.provider.models});
    audit::append(&mut tx, &ctx.event("ai.provider_created", &id, detail), now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(stored.provider)))
}

/// `PATCH /orgs/{org}/ai/providers/{id}`.
#[utoipa::path(patch, path = "/orgs/{org}/ai/providers/{id}", tag = "ai", summary = "Change a model provider",
    description = "Only the fields given change; a new `api_key` replaces the sealed one. Needs configure_ai; audited as `ai.provider_updated` (naming the fields changed, never the key).",
    params(("org" = String, Path, description = "Organisation slug or id"), ("id" = String, Path, description = "Provider id")),
    request_body = ProviderPatch,
    responses(
        (status = 200, description = "Changed", body = Provider),
        (status = 403, description = "The caller may not configure AI", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such provider in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "A field is wrong, each problem naming its field", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn update_provider(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, id)): Path<(String, String)>,
    ApiJson(patch): ApiJson<ProviderPatch>,
) -> Result<Json<Provider>, AppError> {
    ctx.require(Permission::ConfigureAi)?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let mut stored = store::get(&mut tx, &ctx.org.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut found = problems(&Fields {
        name: patch.name.as_deref(),
        kind: stored.provider.kind,
        base_url: patch.base_url.as_deref(),
        api_key: patch.api_key.as_deref(),
        models: patch.models.as_deref(),
        price_in: patch.price_in_per_1k,
        price_out: patch.price_out_per_1k,
    });
    if let Some(name) = &patch.name
        && store::name_taken(&mut tx, &ctx.org.id, name.trim(), &id).await?
    {
        found.push(("name", "Another provider has that name.".into()));
    }
    if !found.is_empty() {
        return Err(AppError::fields(found));
    }
    let mut changed = Vec::new();
    let p = &mut stored.provider;
    if let Some(name) = patch.name {
        p.name = name.trim().to_owned();
        changed.push("name");
    }
    if let Some(url) = patch.base_url {
        p.base_url = url.trim().trim_end_matches('/').to_owned();
        changed.push("base_url");
    }
    if let Some(key) = patch.api_key {
        p.key_hint = hint(&key);
        stored.sealed_key = state.ai.seal(key.trim(), &id);
        changed.push("api_key");
    }
    let p = &mut stored.provider;
    if let Some(models) = patch.models {
        p.models = models;
        changed.push("models");
    }
    if let Some(price) = patch.price_in_per_1k {
        p.price_in_per_1k = price;
        changed.push("price_in_per_1k");
    }
    if let Some(price) = patch.price_out_per_1k {
        p.price_out_per_1k = price;
        changed.push("price_out_per_1k");
    }
    if let Some(position) = patch.position {
        p.position = position;
        changed.push("position");
    }
    if let Some(enabled) = patch.enabled {
        p.enabled = enabled;
        changed.push("enabled");
    }
    p.updated_at_ms = now;
    store::put(&mut tx, &ctx.org.id, &stored, &ctx.caller.user.id, now).await?;
    let detail = serde_json::json!({"name": stored.provider.name, "changed": changed});
    audit::append(&mut tx, &ctx.event("ai.provider_updated", &id, detail), now).await?;
    tx.commit().await?;
    Ok(Json(stored.provider))
}

/// `DELETE /orgs/{org}/ai/providers/{id}`.
#[utoipa::path(delete, path = "/orgs/{org}/ai/providers/{id}", tag = "ai", summary = "Remove a model provider",
    description = "Its sealed key and cached answers go with it; usage records stay. Needs configure_ai; audited as `ai.provider_deleted`.",
    params(("org" = String, Path, description = "Organisation slug or id"), ("id" = String, Path, description = "Provider id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The caller may not configure AI", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such provider in this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn delete_provider(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    ctx.require(Permission::ConfigureAi)?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let stored = store::get(&mut tx, &ctx.org.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    store::delete(&mut tx, &ctx.org.id, &id).await?;
    let detail = serde_json::json!({"name": stored.provider.name});
    audit::append(&mut tx, &ctx.event("ai.provider_deleted", &id, detail), now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /orgs/{org}/ai/settings`.
#[utoipa::path(get, path = "/orgs/{org}/ai/settings", tag = "ai", summary = "The organisation's AI settings",
    params(("org" = String, Path, description = "Organisation slug or id")),
    responses(
        (status = 200, description = "The switch, PII redaction, the monthly ceiling and routing rules", body = AiSettings),
        (status = 403, description = "The caller may not configure AI", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn settings(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<AiSettings>, AppError> {
    ctx.require(Permission::ConfigureAi)?;
    let mut tx = ctx.begin_read(&state.db).await?;
    let settings = store::settings(&mut tx, &ctx.org.id).await?;
    tx.commit().await?;
    Ok(Json(settings))
}

/// Which month of usage.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct UsageQuery {
    /// `YYYY-MM` (UTC); the current month when absent.
    month: Option<String>,
}

/// `GET /orgs/{org}/ai/usage`.
#[utoipa::path(get, path = "/orgs/{org}/ai/usage", tag = "ai", summary = "A month of AI calls and their cost",
    description = "Every call of a calendar month (UTC) summed: in all, by provider and model, by task, and per day, each with calls, cached and failed calls, tokens and cost, beside the monthly ceiling. Needs configure_ai.",
    params(("org" = String, Path, description = "Organisation slug or id"), UsageQuery),
    responses(
        (status = 200, description = "The month's usage", body = AiUsage),
        (status = 403, description = "The caller may not configure AI", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "`month` is not `YYYY-MM`", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn usage(
    State(state): State<AppState>,
    ctx: OrgContext,
    Query(query): Query<UsageQuery>,
) -> Result<Json<AiUsage>, AppError> {
    ctx.require(Permission::ConfigureAi)?;
    let (year, month) = match query.month.as_deref().map(str::trim) {
        None | Some("") => {
            let today = state.clock.now_ms().div_euclid(86_400_000);
            let (y, m, _) = app::time::civil_from_days(today);
            (y, m)
        }
        Some(raw) => parse_month(raw)
            .ok_or_else(|| AppError::field("month", "Give the month as YYYY-MM, e.g. 2026-12."))?,
    };
    let first = app::time::days_from_civil(year, month, 1);
    let next = if month == 12 {
        app::time::days_from_civil(year + 1, 1, 1)
    } else {
        app::time::days_from_civil(year, month + 1, 1)
    };
    let (since, until) = (first * 86_400_000, next * 86_400_000);
    let mut tx = ctx.begin_read(&state.db).await?;
    let total = store::usage(&mut tx, &ctx.org.id, since, until, None)
        .await?
        .pop()
        .unwrap_or_default();
    let by_model = store::usage(&mut tx, &ctx.org.id, since, until, Some(store::By::Model)).await?;
    let by_task = store::usage(&mut tx, &ctx.org.id, since, until, Some(store::By::Task)).await?;
    let per_day = store::usage_by_day(&mut tx, &ctx.org.id, since, until).await?;
    let settings = store::settings(&mut tx, &ctx.org.id).await?;
    tx.commit().await?;
    let days = (first..next)
        .map(|day| {
            let (y, m, d) = app::time::civil_from_days(day);
            let (calls, cost) = per_day
                .iter()
                .find(|(n, _, _)| *n == day)
                .map_or((0, 0.0), |(_, calls, cost)| (*calls, *cost));
            UsageDay {
                day: format!("{y:04}-{m:02}-{d:02}"),
                calls: u64::try_from(calls).unwrap_or(0),
                cost,
            }
        })
        .collect();
    Ok(Json(AiUsage {
        month: format!("{year:04}-{month:02}"),
        spent: total.cost,
        ceiling: settings.monthly_budget,
        total,
        by_model,
        by_task,
        days,
    }))
}

/// `YYYY-MM` → (year, month).
fn parse_month(raw: &str) -> Option<(i64, i64)> {
    let (y, m) = raw.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let (y, m) = (y.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
    ((1970..=9999).contains(&y) && (1..=12).contains(&m)).then_some((y, m))
}

/// `PUT /orgs/{org}/ai/settings`.
#[utoipa::path(put, path = "/orgs/{org}/ai/settings", tag = "ai", summary = "Save the organisation's AI settings",
    description = "`enabled: false` turns AI off entirely (nothing is sent; the built-in engine answers). Routes send a task to a provider (and model) first. Needs configure_ai; audited as `ai.settings_saved`.",
    params(("org" = String, Path, description = "Organisation slug or id")),
    request_body = AiSettings,
    responses(
        (status = 200, description = "Saved", body = AiSettings),
        (status = 403, description = "The caller may not configure AI", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "A wrong ceiling or a route to an unknown provider or model", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn save_settings(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<AiSettings>,
) -> Result<Json<AiSettings>, AppError> {
    ctx.require(Permission::ConfigureAi)?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let providers = store::list(&mut tx, &ctx.org.id).await?;
    let mut found = Vec::new();
    if let Some(budget) = body.monthly_budget
        && !(budget.is_finite() && budget >= 0.0)
    {
        found.push((
            "monthly_budget",
            "Give the monthly ceiling as an amount of 0 or more, or none.".into(),
        ));
    }
    let mut tasks = std::collections::HashSet::new();
    for route in &body.routes {
        if !tasks.insert(route.task) {
            found.push((
                "routes",
                format!("The task {} has two rules.", route.task.as_str()),
            ));
        }
        match providers
            .iter()
            .find(|p| p.provider.id == route.provider_id)
        {
            None => found.push((
                "routes",
                format!(
                    "The rule for {} names no provider of this organisation.",
                    route.task.as_str()
                ),
            )),
            Some(p) => {
                if let Some(model) = &route.model
                    && !p.provider.models.contains(model)
                {
                    found.push((
                        "routes",
                        format!("{} has no model {model:?}.", p.provider.name),
                    ));
                }
            }
        }
    }
    if !found.is_empty() {
        return Err(AppError::fields(found));
    }
    store::save_settings(&mut tx, &ctx.org.id, &body, now).await?;
    let detail = serde_json::json!({"enabled": body.enabled, "redact_pii": body.redact_pii, "monthly_budget": body.monthly_budget, "routes": body.routes.len()});
    audit::append(
        &mut tx,
        &ctx.event("ai.settings_saved", &ctx.org.id, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(body))
}

/// `POST /analyses/{id}/ai/explain`.
#[utoipa::path(post, path = "/analyses/{id}/ai/explain", tag = "ai", summary = "Explain a pattern",
    description = "A model explains the pattern and its likely root cause from the analysis' evidence, through the organisation's routing, fallback chain and cache; without a provider, with AI off, over the monthly ceiling or when every provider fails, the built-in engine answers (`provider: faultline`) and `notes` say why. The answer is Markdown: render it sanitised. Every model call is recorded as usage and audited as `ai.call` (tokens, not content).",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = ExplainRequest,
    responses(
        (status = 200, description = "The explanation", body = AiAnswer),
        (status = 404, description = "No such analysis or pattern in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "`provider` names no provider of this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn explain(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExplainRequest>,
) -> Result<Json<AiAnswer>, AppError> {
    let (_, index) = super::patterns::finished(&state, &ctx, &id).await?;
    let question = Question::new(&index, AiTask::Explain, Some(&body.pattern_id))?;
    let prompts = chosen(&state, &ctx, body.team.as_deref()).await?;
    let answer = ai::ask(
        &state,
        &ctx,
        question.ask(body.provider.as_deref(), &prompts),
        || question.built_in(),
    )
    .await?;
    Ok(Json(answer))
}

/// `POST /analyses/{id}/ai/recommend`.
#[utoipa::path(post, path = "/analyses/{id}/ai/recommend", tag = "ai", summary = "Suggest fixes",
    description = "A model suggests fixes, most effective first, for one pattern (`pattern_id`) or for the whole analysis (without it), from the analysis' evidence: chains, families, failing endpoints, security findings and the engine's own recommendations. Routing, fallback, cache, ceiling, switch, redaction, usage and audit work as for explanations; without a model the built-in engine's recommendations answer.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = RecommendRequest,
    responses(
        (status = 200, description = "The suggestions", body = AiAnswer),
        (status = 404, description = "No such analysis or pattern in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "`provider` names no provider of this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn recommend(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RecommendRequest>,
) -> Result<Json<AiAnswer>, AppError> {
    let (_, index) = super::patterns::finished(&state, &ctx, &id).await?;
    let question = Question::new(&index, AiTask::Recommend, body.pattern_id.as_deref())?;
    let prompts = chosen(&state, &ctx, body.team.as_deref()).await?;
    let answer = ai::ask(
        &state,
        &ctx,
        question.ask(body.provider.as_deref(), &prompts),
        || question.built_in(),
    )
    .await?;
    Ok(Json(answer))
}

/// `POST /analyses/{id}/ai/summary`.
#[utoipa::path(post, path = "/analyses/{id}/ai/summary", tag = "ai", summary = "Summarise an analysis",
    description = "A model writes the analysis' executive summary (a paragraph and up to three next steps) for readers who will not open the logs. Routing, fallback, cache, ceiling, switch, redaction, usage and audit work as for explanations; without a model the built-in engine's summary answers.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = SummaryRequest,
    responses(
        (status = 200, description = "The summary", body = AiAnswer),
        (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "`provider` names no provider of this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn summary(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SummaryRequest>,
) -> Result<Json<AiAnswer>, AppError> {
    let (_, index) = super::patterns::finished(&state, &ctx, &id).await?;
    let question = Question::new(&index, AiTask::Summary, None)?;
    let prompts = chosen(&state, &ctx, body.team.as_deref()).await?;
    let answer = ai::ask(
        &state,
        &ctx,
        question.ask(body.provider.as_deref(), &prompts),
        || question.built_in(),
    )
    .await?;
    Ok(Json(answer))
}

/// `POST /analyses/{id}/ai/tests`.
#[utoipa::path(post, path = "/analyses/{id}/ai/tests", tag = "ai", summary = "Write a pattern's tests with a model",
    description = "A model improves the built-in generator's test file for one pattern, in `framework` (default: the caller's saved test settings), through the organisation's routing, fallback chain and cache. The reply must pass the same validation as the generator's files (the language's grammar and the framework's rules) and hold at least one test; a file that fails is sent back once with its problems, and a repair that fails too is discarded: the generator's file is kept and `notes` say why. `attempts` lists each answer with its validation; `engine` is the generator's file. Nothing a model writes is run on the server. Without a provider, with AI off or over the ceiling, the generator's file answers (`provider: faultline`).",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = AiTestsRequest,
    responses(
        (status = 200, description = "The file kept, the generator's, each attempt and notes", body = AiTests),
        (status = 404, description = "No such analysis or pattern in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "`provider` names no provider of this organisation, or the generator writes no test for the pattern in this framework (saying why)", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn tests(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AiTestsRequest>,
) -> Result<Json<AiTests>, AppError> {
    let (_, index) = super::patterns::finished(&state, &ctx, &id).await?;
    let (detail, base) =
        test_base(&state, &ctx, &index, Some(&body.pattern_id), body.framework).await?;
    let prompts = chosen(&state, &ctx, body.team.as_deref()).await?;
    let written = test_bodies::write(
        &state,
        &ctx,
        &detail,
        &base,
        body.provider.as_deref(),
        &prompts,
    )
    .await?;
    Ok(Json(written))
}

/// `POST /analyses/{id}/ai/compare`.
#[utoipa::path(post, path = "/analyses/{id}/ai/compare", tag = "ai", summary = "Compare models on one task",
    description = "Runs the same task (`explain` or `recommend` for `pattern_id`, `recommend` for the whole analysis without one, `summary`, or `tests` for `pattern_id` in `framework` or the caller's saved one) on one to four models at once, without falling back, and answers a row per model after the built-in engine's: what it wrote or why it did not, tokens, wall-clock time, cost, whether it came from the cache, and checks of the output against what the task asked for (length, sections, list, no raw HTML; for `tests`, the file in one code block, its validation and its tests). `team` picks a team's custom prompts. The cache, breaker, ceiling, switch, redaction, usage and audit apply to each call. Needs `configure_ai`: comparing spends the organisation's money on several models at once.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = CompareRequest,
    responses(
        (status = 200, description = "A row per model", body = ModelComparison),
        (status = 403, description = "The caller may not configure AI", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such analysis or pattern in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "The task cannot be compared, or `targets` names an unknown or disabled provider, an unknown model, a model twice, or more than four", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn compare(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CompareRequest>,
) -> Result<Json<ModelComparison>, AppError> {
    let (_, index) = super::patterns::finished(&state, &ctx, &id).await?;
    ctx.require(Permission::ConfigureAi)?;
    let question = Question::any(
        &state,
        &ctx,
        &index,
        body.task,
        body.pattern_id.as_deref(),
        body.framework,
    )
    .await?;
    let prompts = chosen(&state, &ctx, body.team.as_deref()).await?;
    let rows = ai::compare(
        &state,
        &ctx,
        question.ask(None, &prompts),
        &body.targets,
        || question.built_in(),
        |text| question.checks(text),
    )
    .await?;
    Ok(Json(ModelComparison {
        task: body.task,
        rows,
    }))
}

/// `POST /analyses/{id}/ai/stream`.
#[utoipa::path(post, path = "/analyses/{id}/ai/stream", tag = "ai", summary = "Ask and stream the answer",
    description = "The same tasks as `explain`, `recommend` and `summary`, with the answer sent as server-sent events while the model writes it: `text` events (data: a JSON string, the next piece), `restart` when a provider failed mid-answer and the next one starts over (data: a JSON string saying why; drop the text so far), then one `done` event whose data is `{answer, html}`: the whole answer as the other endpoints give it, and its Markdown rendered to safe HTML. A cached or built-in answer comes as one `text` event. An `error` event (data: `{message}`) ends a stream that failed on the server's side. Problems found before anything is asked (no such analysis or pattern, an unknown provider) answer with their status, as the other endpoints do.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = StreamRequest,
    responses(
        (status = 200, description = "`text/event-stream` of `text`, `restart`, `done` and `error` events", content_type = "text/event-stream"),
        (status = 404, description = "No such analysis or pattern in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "`provider` names no provider of this organisation, or the task needs a pattern", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StreamRequest>,
) -> Result<Response, AppError> {
    let (_, index) = super::patterns::finished(&state, &ctx, &id).await?;
    if body.task == AiTask::Tests {
        return Err(AppError::field(
            "task",
            "Test files are written with POST /analyses/{id}/ai/tests, which validates them; stream explain, recommend or summary.",
        ));
    }
    let question = Question::new(&index, body.task, body.pattern_id.as_deref())?;
    let prompts = chosen(&state, &ctx, body.team.as_deref()).await?;
    if let Some(wanted) = body.provider.as_deref()
        && !ai::knows_provider(&state, &ctx, wanted).await?
    {
        return Err(AppError::fields(vec![(
            "provider",
            format!("This organisation has no provider {wanted:?}."),
        )]));
    }
    let (live, mut written) = tokio::sync::mpsc::unbounded_channel::<ai::Streamed>();
    // Unbounded, so a reader that stops reading never holds up the call; what it holds is
    // bounded by the answer's size.
    let (sink, events) = futures::channel::mpsc::unbounded::<Result<Event, Infallible>>();
    tokio::spawn(async move {
        let asking = ai::ask_live(
            &state,
            &ctx,
            question.ask(body.provider.as_deref(), &prompts),
            || question.built_in(),
            Some(&live),
        );
        tokio::pin!(asking);
        // Pieces are passed on while the router works; the answer closes the stream. A reader
        // that went away does not stop the call: its answer is cached and recorded all the same.
        let result = loop {
            tokio::select! {
                result = &mut asking => break result,
                Some(piece) = written.recv() => {
                    let _ = sink.unbounded_send(Ok(piece_event(piece)));
                }
            }
        };
        while let Ok(piece) = written.try_recv() {
            let _ = sink.unbounded_send(Ok(piece_event(piece)));
        }
        let last = match result {
            Ok(answer) => {
                let html = app::api::ai::safe_html(&answer.markdown);
                Event::default()
                    .event("done")
                    .json_data(serde_json::json!({"answer": answer, "html": html}))
            }
            Err(e) => {
                tracing::warn!(error = %e, "a streamed AI answer failed");
                Event::default().event("error").json_data(
                    serde_json::json!({"message": "The answer could not be completed; try again."}),
                )
            }
        };
        let _ = sink.unbounded_send(Ok(last.unwrap_or_default()));
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// A piece of a streamed answer as a server-sent event.
fn piece_event(piece: ai::Streamed) -> Event {
    let (name, text) = match piece {
        ai::Streamed::Text(text) => ("text", text),
        ai::Streamed::Restart(note) => ("restart", note),
    };
    Event::default()
        .event(name)
        .json_data(text)
        .unwrap_or_default()
}

/// The executive summary a model writes for a report, through the router; none when the
/// built-in engine answered (the report then keeps its own summary).
pub(super) async fn model_summary(
    state: &AppState,
    ctx: &OrgContext,
    index: &Arc<ResultIndex>,
) -> Result<Option<crate::reports::ModelSummary>, AppError> {
    let question = Question::new(index, AiTask::Summary, None)?;
    let prompts = chosen(state, ctx, None).await?;
    let answer = ai::ask(state, ctx, question.ask(None, &prompts), || {
        question.built_in()
    })
    .await?;
    Ok((answer.provider != ai::BUILT_IN).then(|| {
        crate::reports::ModelSummary::new(&answer.provider, &answer.model, &answer.markdown)
    }))
}

/// The prompts a request uses: team `team`'s (404 when the organisation has no such team), or
/// the built-in ones.
async fn chosen(
    state: &AppState,
    ctx: &OrgContext,
    team: Option<&str>,
) -> Result<Chosen, AppError> {
    let mut out = Chosen {
        org: ctx.org.name.clone(),
        ..Chosen::default()
    };
    let Some(team) = team.filter(|t| !t.is_empty()) else {
        return Ok(out);
    };
    let mut tx = ctx.begin_read(&state.db).await?;
    let found = team_named(&mut tx, ctx, team).await?;
    let current = team_prompts::current(&mut tx, &ctx.org.id, team).await?;
    tx.commit().await?;
    out.team = Some(found.name);
    for (kind, version) in current {
        *out.source_mut(kind) = team_prompts::Source::Saved(version.version, version.body);
    }
    Ok(out)
}

/// The prompt kind named in a path (404 for another name).
fn kind_of(raw: &str) -> Result<PromptKind, AppError> {
    PromptKind::parse(raw).ok_or(AppError::NotFound)
}

/// Team `team` of the caller's organisation, or 404.
async fn team_named(
    tx: &mut crate::db::Tx,
    ctx: &OrgContext,
    team: &str,
) -> Result<crate::tenancy::teams::Team, AppError> {
    teams::get(tx, &ctx.org.id, team)
        .await?
        .ok_or_else(|| AppError::Missing("No such team in this organisation.".into()))
}

/// `GET /orgs/{org}/teams/{team}/ai/prompts`.
#[utoipa::path(get, path = "/orgs/{org}/teams/{team}/ai/prompts", tag = "ai", summary = "A team's custom prompts",
    description = "The team's system, analysis and test prompts: the version in use (none until one is saved), the built-in text used without one, and the `{{variables}}` each may use. The AI routes use them when given `team`.",
    params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id")),
    responses(
        (status = 200, description = "The prompts", body = TeamPrompts),
        (status = 404, description = "No such team in this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn team_prompts_of(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team)): Path<(String, String)>,
) -> Result<Json<TeamPrompts>, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let found = team_named(&mut tx, &ctx, &team).await?;
    let current = team_prompts::current(&mut tx, &ctx.org.id, &team).await?;
    tx.commit().await?;
    let prompts = PromptKind::ALL
        .into_iter()
        .map(|kind| TeamPrompt {
            kind,
            current: current
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, v)| v.clone()),
            built_in: team_prompts::built_in(kind).to_owned(),
            variables: team_prompts::variables(kind),
        })
        .collect();
    Ok(Json(TeamPrompts {
        team_id: found.id,
        team: found.name,
        prompts,
    }))
}

/// `GET /orgs/{org}/teams/{team}/ai/prompts/{kind}`.
#[utoipa::path(get, path = "/orgs/{org}/teams/{team}/ai/prompts/{kind}", tag = "ai", summary = "Every version of a team's prompt",
    params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id"), ("kind" = String, Path, description = "`system`, `analysis` or `test`")),
    responses(
        (status = 200, description = "Versions, newest first", body = Vec<PromptVersion>),
        (status = 404, description = "No such team in this organisation, or no such kind", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn prompt_history(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team, kind)): Path<(String, String, String)>,
) -> Result<Json<Vec<PromptVersion>>, AppError> {
    let kind = kind_of(&kind)?;
    let mut tx = ctx.begin_read(&state.db).await?;
    team_named(&mut tx, &ctx, &team).await?;
    let versions = team_prompts::history(&mut tx, &ctx.org.id, &team, kind).await?;
    tx.commit().await?;
    Ok(Json(versions))
}

/// `POST /orgs/{org}/teams/{team}/ai/prompts/{kind}`.
#[utoipa::path(post, path = "/orgs/{org}/teams/{team}/ai/prompts/{kind}", tag = "ai", summary = "Save a new version of a team's prompt",
    description = "The text becomes the next version and is used from now on; an empty text goes back to the built-in prompt (as a version of its own, so the history stays whole). Unknown `{{variables}}` and texts over 8,000 characters are refused. Needs `configure_ai`; audited as `ai.prompt_saved` (team, kind, version and length, not the text).",
    params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id"), ("kind" = String, Path, description = "`system`, `analysis` or `test`")),
    request_body = PromptInput,
    responses(
        (status = 201, description = "The new version", body = PromptVersion),
        (status = 403, description = "The caller may not configure AI", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such team in this organisation, or no such kind", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "Another version was saved at the same moment (`conflict`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Unknown variables, or too long", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn save_prompt(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team, kind)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<PromptInput>,
) -> Result<(StatusCode, Json<PromptVersion>), AppError> {
    ctx.require(Permission::ConfigureAi)?;
    let kind = kind_of(&kind)?;
    let problems = team_prompts::problems(kind, &body.body);
    if !problems.is_empty() {
        return Err(AppError::fields(
            problems.into_iter().map(|m| ("body", m)).collect(),
        ));
    }
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    team_named(&mut tx, &ctx, &team).await?;
    let author = team_prompts::Author {
        user_id: &ctx.caller.user.id,
        email: &ctx.caller.user.email,
    };
    let saved =
        match team_prompts::save(&mut tx, &ctx.org.id, &team, kind, &body.body, &author, now).await
        {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(AppError::Conflict(
                    "conflict",
                    "Someone saved this prompt at the same moment; reload it and save again."
                        .into(),
                ));
            }
            other => other?,
        };
    let detail = serde_json::json!({"team": team, "kind": kind.as_str(), "version": saved.version, "chars": body.body.chars().count()});
    audit::append(&mut tx, &ctx.event("ai.prompt_saved", &team, detail), now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// `POST /analyses/{id}/ai/preview`.
#[utoipa::path(post, path = "/analyses/{id}/ai/preview", tag = "ai", summary = "Preview what a task sends",
    description = "The system prompt and the prompt a task would send for this analysis (and pattern), with its real inputs, in the team's saved prompts or in `drafts` tried in their place, after redaction as the organisation has it. Nothing is sent to any model. Drafts with unknown `{{variables}}` are refused as saving would refuse them.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = PromptPreviewRequest,
    responses(
        (status = 200, description = "What would be sent", body = PromptPreview),
        (status = 404, description = "No such analysis, pattern or team in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "A draft with unknown variables, a task that needs a pattern, or a pattern the generator writes no test for", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn preview(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PromptPreviewRequest>,
) -> Result<Json<PromptPreview>, AppError> {
    let (_, index) = super::patterns::finished(&state, &ctx, &id).await?;
    let mut problems = Vec::new();
    for draft in &body.drafts {
        problems.extend(
            team_prompts::problems(draft.kind, &draft.body)
                .into_iter()
                .map(|m| ("drafts", m)),
        );
    }
    if !problems.is_empty() {
        return Err(AppError::fields(problems));
    }
    let question = Question::any(
        &state,
        &ctx,
        &index,
        body.task,
        body.pattern_id.as_deref(),
        body.framework,
    )
    .await?;
    let mut prompts = chosen(&state, &ctx, body.team.as_deref()).await?;
    for draft in body.drafts {
        *prompts.source_mut(draft.kind) = team_prompts::Source::Draft(draft.body);
    }
    let ask = question.ask(None, &prompts);
    let prompt = ai::outgoing(&state, &ctx, &ask.prompt).await?;
    Ok(Json(PromptPreview {
        task: ask.task,
        system: ask.system,
        prompt,
        sources: prompts.sources(ask.task),
    }))
}

/// The pattern `pattern` and the built-in generator's test file for it, in `framework` or the
/// caller's saved one: where a model writing its tests starts.
async fn test_base(
    state: &AppState,
    ctx: &OrgContext,
    index: &Arc<ResultIndex>,
    pattern: Option<&str>,
    framework: Option<Framework>,
) -> Result<(PatternDetail, test_bodies::Base), AppError> {
    let Some(pattern) = pattern else {
        return Err(AppError::field(
            "pattern_id",
            "Name the pattern to write tests for.",
        ));
    };
    let detail = index.detail(pattern).ok_or(AppError::NotFound)?;
    let mut request = super::testgen::saved_request(state, ctx).await?;
    if let Some(framework) = framework {
        request.framework = framework;
    }
    let label = request.framework.label();
    let (index, id) = (Arc::clone(index), pattern.to_owned());
    let base = tokio::task::spawn_blocking(move || test_bodies::base(&index.doc, &id, &request))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|why| {
            AppError::field(
                "pattern_id",
                format!("The built-in generator writes no {label} test for this pattern: {why}."),
            )
        })?;
    Ok((detail, base))
}

/// A task about an analysis or one of its patterns: what to ask, what the built-in engine
/// answers, and how an answer is checked.
enum Question {
    Explain(Box<PatternDetail>),
    PatternFixes(Box<PatternDetail>),
    AnalysisFixes(Arc<ResultIndex>),
    Summary(Arc<ResultIndex>),
    Tests(Box<(PatternDetail, test_bodies::Base)>),
}

impl Question {
    /// Any task: `tests` in `framework` or the caller's saved one.
    async fn any(
        state: &AppState,
        ctx: &OrgContext,
        index: &Arc<ResultIndex>,
        task: AiTask,
        pattern: Option<&str>,
        framework: Option<Framework>,
    ) -> Result<Self, AppError> {
        if task == AiTask::Tests {
            let found = test_base(state, ctx, index, pattern, framework).await?;
            return Ok(Self::Tests(Box::new(found)));
        }
        Self::new(index, task, pattern)
    }

    /// Any task but `tests`, which needs the caller's test settings ([`Self::any`]).
    fn new(
        index: &Arc<ResultIndex>,
        task: AiTask,
        pattern: Option<&str>,
    ) -> Result<Self, AppError> {
        let detail = |id: &str| index.detail(id).map(Box::new).ok_or(AppError::NotFound);
        Ok(match (task, pattern) {
            (AiTask::Explain, Some(id)) => Self::Explain(detail(id)?),
            (AiTask::Explain, None) => {
                return Err(AppError::field(
                    "pattern_id",
                    "Name the pattern to explain.",
                ));
            }
            (AiTask::Recommend, Some(id)) => Self::PatternFixes(detail(id)?),
            (AiTask::Recommend, None) => Self::AnalysisFixes(Arc::clone(index)),
            (AiTask::Summary, _) => Self::Summary(Arc::clone(index)),
            (AiTask::Tests, _) => {
                return Err(AppError::field(
                    "task",
                    "Ask for explain, recommend or summary.",
                ));
            }
        })
    }

    /// The question in the prompts `using` chose.
    fn ask<'a>(&self, provider: Option<&'a str>, using: &Chosen) -> ai::Ask<'a> {
        let analysis = |task: AiTask, evidence: String, pattern: Option<&PatternDetail>| {
            let values = Values::default()
                .with("evidence", evidence)
                .with("task", task.as_str());
            let values = match pattern {
                Some(d) => values.pattern(&d.pattern),
                None => values,
            };
            using.question(PromptKind::Analysis, &values)
        };
        let (task, system, prompt, max_tokens) = match self {
            Self::Explain(d) => (
                AiTask::Explain,
                ai::explain::SYSTEM,
                analysis(AiTask::Explain, ai::explain::prompt(d), Some(d)),
                EXPLAIN_TOKENS,
            ),
            Self::PatternFixes(d) => (
                AiTask::Recommend,
                prompts::RECOMMEND_SYSTEM,
                analysis(AiTask::Recommend, prompts::pattern_prompt(d), Some(d)),
                EXPLAIN_TOKENS,
            ),
            Self::AnalysisFixes(index) => (
                AiTask::Recommend,
                prompts::RECOMMEND_SYSTEM,
                analysis(
                    AiTask::Recommend,
                    prompts::analysis_prompt(&index.doc),
                    None,
                ),
                EXPLAIN_TOKENS,
            ),
            Self::Summary(index) => (
                AiTask::Summary,
                prompts::SUMMARY_SYSTEM,
                analysis(AiTask::Summary, prompts::analysis_prompt(&index.doc), None),
                SUMMARY_TOKENS,
            ),
            Self::Tests(t) => (
                AiTask::Tests,
                test_bodies::SYSTEM,
                test_bodies::prompt(&t.0, &t.1, using),
                test_bodies::TOKENS,
            ),
        };
        let keep = match self {
            Self::Tests(t) => Some(test_bodies::keep(&t.1)),
            _ => None,
        };
        ai::Ask {
            task,
            system: using.system(task, system),
            prompt,
            provider,
            model: None,
            max_tokens,
            fallback: true,
            keep,
        }
    }

    fn built_in(&self) -> String {
        match self {
            Self::Explain(d) => ai::explain::built_in(d),
            Self::PatternFixes(d) => prompts::pattern_fixes(d),
            Self::AnalysisFixes(index) => prompts::analysis_fixes(&index.doc),
            Self::Summary(index) => prompts::summary(&index.doc),
            Self::Tests(t) => test_bodies::built_in(&t.1),
        }
    }

    /// `text` checked against what the task asked for.
    fn checks(&self, text: &str) -> Vec<Check> {
        match self {
            Self::Explain(_) => checks::check(AiTask::Explain, text),
            Self::PatternFixes(_) | Self::AnalysisFixes(_) => {
                checks::check(AiTask::Recommend, text)
            }
            Self::Summary(_) => checks::check(AiTask::Summary, text),
            Self::Tests(t) => test_bodies::checks(&t.1, text),
        }
    }
}

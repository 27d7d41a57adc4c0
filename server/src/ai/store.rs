//! Providers, settings, the answer cache and usage records in the database. A provider's key is
//! sealed (AES-256-GCM, bound to the provider's id) before it is written and opened only to make
//! a call.

use app::api::ai::{AiSettings, Provider, ProviderKind};

use crate::db::Tx;
use crate::with_tx;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    kind: String,
    base_url: String,
    api_key_sealed: String,
    key_hint: String,
    models: String,
    price_in_per_1k: f64,
    price_out_per_1k: f64,
    position: i32,
    enabled: bool,
    updated_at_ms: i64,
}

/// A provider with its sealed key, as the router needs it.
#[derive(Clone, Debug)]
pub struct Stored {
    /// What clients see.
    pub provider: Provider,
    /// The sealed key.
    pub sealed_key: String,
}

impl From<Row> for Stored {
    fn from(r: Row) -> Self {
        Self {
            provider: Provider {
                id: r.id,
                name: r.name,
                // Only known kinds are written.
                kind: ProviderKind::parse(&r.kind).unwrap_or(ProviderKind::Openai),
                base_url: r.base_url,
                key_hint: r.key_hint,
                models: serde_json::from_str(&r.models).unwrap_or_default(),
                price_in_per_1k: r.price_in_per_1k,
                price_out_per_1k: r.price_out_per_1k,
                position: u32::try_from(r.position).unwrap_or(0),
                enabled: r.enabled,
                updated_at_ms: r.updated_at_ms,
            },
            sealed_key: r.api_key_sealed,
        }
    }
}

const SELECT: &str = r"select id, name, kind, base_url, api_key_sealed, key_hint, models,
        price_in_per_1k, price_out_per_1k, position, enabled, updated_at_ms
    from ai_providers";

/// The providers of `org_id`, in fallback order.
pub async fn list(tx: &mut Tx, org_id: &str) -> Result<Vec<Stored>, sqlx::Error> {
    let sql = format!("{SELECT} where org_id = $1 order by position, lower(name), id");
    let rows: Vec<Row> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org_id)
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows.into_iter().map(Stored::from).collect())
}

/// Provider `id` of `org_id`.
pub async fn get(tx: &mut Tx, org_id: &str, id: &str) -> Result<Option<Stored>, sqlx::Error> {
    let sql = format!("{SELECT} where org_id = $1 and id = $2");
    let row: Option<Row> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(row.map(Stored::from))
}

/// Whether another provider of `org_id` than `except` is named `name`.
pub async fn name_taken(
    tx: &mut Tx,
    org_id: &str,
    name: &str,
    except: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 = with_tx!(tx, c => sqlx::query_scalar(
        "select count(*) from ai_providers where org_id = $1 and lower(name) = lower($2) and id <> $3",
    )
    .bind(org_id)
    .bind(name)
    .bind(except)
    .fetch_one(&mut *c)
    .await)?;
    Ok(n > 0)
}

/// Writes provider `stored` of `org_id` (inserted, or replaced when it exists).
pub async fn put(
    tx: &mut Tx,
    org_id: &str,
    stored: &Stored,
    user_id: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let p = &stored.provider;
    let models = serde_json::to_string(&p.models).unwrap_or_else(|_| "[]".into());
    let position = i32::try_from(p.position).unwrap_or(i32::MAX);
    with_tx!(tx, c => sqlx::query(
        r"insert into ai_providers (id, org_id, name, kind, base_url, api_key_sealed, key_hint,
              models, price_in_per_1k, price_out_per_1k, position, enabled, created_by,
              created_at_ms, updated_at_ms)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
          on conflict (id) do update set name = excluded.name, base_url = excluded.base_url,
              api_key_sealed = excluded.api_key_sealed, key_hint = excluded.key_hint,
              models = excluded.models, price_in_per_1k = excluded.price_in_per_1k,
              price_out_per_1k = excluded.price_out_per_1k, position = excluded.position,
              enabled = excluded.enabled, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(&p.id)
    .bind(org_id)
    .bind(&p.name)
    .bind(p.kind.as_str())
    .bind(&p.base_url)
    .bind(&stored.sealed_key)
    .bind(&p.key_hint)
    .bind(&models)
    .bind(p.price_in_per_1k)
    .bind(p.price_out_per_1k)
    .bind(position)
    .bind(p.enabled)
    .bind(user_id)
    .bind(now_ms)
    .bind(now_ms)
    .execute(&mut *c)
    .await
    .map(drop))?;
    Ok(())
}

/// The next free place at the end of the fallback chain.
pub async fn next_position(tx: &mut Tx, org_id: &str) -> Result<u32, sqlx::Error> {
    let n: Option<i32> = with_tx!(tx, c => sqlx::query_scalar(
        "select max(position) from ai_providers where org_id = $1",
    )
    .bind(org_id)
    .fetch_one(&mut *c)
    .await)?;
    Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(0) + 1))
}

/// Deletes provider `id` of `org_id`, and its cached answers.
pub async fn delete(tx: &mut Tx, org_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    with_tx!(tx, c => sqlx::query("delete from ai_cache where org_id = $1 and provider_id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(drop))?;
    let done = with_tx!(tx, c => sqlx::query("delete from ai_providers where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    enabled: bool,
    redact_pii: bool,
    monthly_budget: Option<f64>,
    routes: String,
}

/// The AI settings of `org_id` (the defaults until saved).
pub async fn settings(tx: &mut Tx, org_id: &str) -> Result<AiSettings, sqlx::Error> {
    let row: Option<SettingsRow> = with_tx!(tx, c => sqlx::query_as(
        "select enabled, redact_pii, monthly_budget, routes from ai_settings where org_id = $1",
    )
    .bind(org_id)
    .fetch_optional(&mut *c)
    .await)?;
    Ok(row.map_or_else(AiSettings::default, |r| AiSettings {
        enabled: r.enabled,
        redact_pii: r.redact_pii,
        monthly_budget: r.monthly_budget,
        routes: serde_json::from_str(&r.routes).unwrap_or_default(),
    }))
}

/// Saves the AI settings of `org_id`.
pub async fn save_settings(
    tx: &mut Tx,
    org_id: &str,
    settings: &AiSettings,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let routes = serde_json::to_string(&settings.routes).unwrap_or_else(|_| "[]".into());
    with_tx!(tx, c => sqlx::query(
        r"insert into ai_settings (org_id, enabled, redact_pii, monthly_budget, routes, updated_at_ms)
          values ($1, $2, $3, $4, $5, $6)
          on conflict (org_id) do update set enabled = excluded.enabled,
              redact_pii = excluded.redact_pii, monthly_budget = excluded.monthly_budget,
              routes = excluded.routes, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(org_id)
    .bind(settings.enabled)
    .bind(settings.redact_pii)
    .bind(settings.monthly_budget)
    .bind(&routes)
    .bind(now_ms)
    .execute(&mut *c)
    .await
    .map(drop))?;
    Ok(())
}

/// A cached answer.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Cached {
    /// The text.
    pub answer: String,
    /// Input tokens of the call that wrote it.
    pub tokens_in: i64,
    /// Output tokens.
    pub tokens_out: i64,
}

/// The answer cached under `key` since `fresh_after_ms`, if any.
pub async fn cached(
    tx: &mut Tx,
    org_id: &str,
    key: &str,
    fresh_after_ms: i64,
) -> Result<Option<Cached>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select answer, tokens_in, tokens_out from ai_cache
          where org_id = $1 and key = $2 and created_at_ms > $3",
    )
    .bind(org_id)
    .bind(key)
    .bind(fresh_after_ms)
    .fetch_optional(&mut *c)
    .await)
}

/// What a cache entry holds.
pub struct CacheEntry<'a> {
    /// The cache key (provider, model and prompt hashed).
    pub key: &'a str,
    /// The provider.
    pub provider_id: &'a str,
    /// The model.
    pub model: &'a str,
    /// The text.
    pub answer: &'a str,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
}

/// Caches an answer (replacing an older one under the same key).
pub async fn cache(
    tx: &mut Tx,
    org_id: &str,
    entry: &CacheEntry<'_>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into ai_cache (org_id, key, provider_id, model, answer, tokens_in, tokens_out, created_at_ms)
          values ($1, $2, $3, $4, $5, $6, $7, $8)
          on conflict (org_id, key) do update set answer = excluded.answer,
              tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out,
              created_at_ms = excluded.created_at_ms",
    )
    .bind(org_id)
    .bind(entry.key)
    .bind(entry.provider_id)
    .bind(entry.model)
    .bind(entry.answer)
    .bind(i64::try_from(entry.tokens_in).unwrap_or(i64::MAX))
    .bind(i64::try_from(entry.tokens_out).unwrap_or(i64::MAX))
    .bind(now_ms)
    .execute(&mut *c)
    .await
    .map(drop))?;
    Ok(())
}

/// One call's usage.
#[derive(Clone, Debug)]
pub struct Usage {
    /// Who asked.
    pub user_id: Option<String>,
    /// The task.
    pub task: &'static str,
    /// The provider's id.
    pub provider_id: Option<String>,
    /// The provider's name.
    pub provider: String,
    /// The model.
    pub model: String,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// What it cost.
    pub cost: f64,
    /// Whether the cache answered.
    pub cached: bool,
    /// `ok`, or why it failed (`rate_limited`, `timeout`, …).
    pub outcome: String,
    /// How long it took.
    pub duration_ms: u64,
}

/// Records a call's usage.
pub async fn record(
    tx: &mut Tx,
    org_id: &str,
    usage: &Usage,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    with_tx!(tx, c => sqlx::query(
        r"insert into ai_usage (id, org_id, user_id, task, provider_id, provider, model, tokens_in,
              tokens_out, cost, cached, outcome, duration_ms, at_ms)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(&usage.user_id)
    .bind(usage.task)
    .bind(&usage.provider_id)
    .bind(&usage.provider)
    .bind(&usage.model)
    .bind(i64::try_from(usage.tokens_in).unwrap_or(i64::MAX))
    .bind(i64::try_from(usage.tokens_out).unwrap_or(i64::MAX))
    .bind(usage.cost)
    .bind(usage.cached)
    .bind(&usage.outcome)
    .bind(i64::try_from(usage.duration_ms).unwrap_or(i64::MAX))
    .bind(now_ms)
    .execute(&mut *c)
    .await
    .map(drop))?;
    Ok(())
}

/// What `org_id` spent on models since `since_ms`.
pub async fn spent_since(tx: &mut Tx, org_id: &str, since_ms: i64) -> Result<f64, sqlx::Error> {
    let total: Option<f64> = with_tx!(tx, c => sqlx::query_scalar(
        "select sum(cost) from ai_usage where org_id = $1 and at_ms >= $2",
    )
    .bind(org_id)
    .bind(since_ms)
    .fetch_one(&mut *c)
    .await)?;
    Ok(total.unwrap_or(0.0))
}

/// What usage rows are summed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// Provider and model.
    Model,
    /// Task.
    Task,
}

#[derive(sqlx::FromRow)]
struct TotalsRow {
    provider: String,
    model: String,
    task: String,
    calls: i64,
    cached: i64,
    failed: i64,
    tokens_in: i64,
    tokens_out: i64,
    cost: f64,
}

impl From<TotalsRow> for app::api::ai::UsageRow {
    fn from(r: TotalsRow) -> Self {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Self {
            provider: r.provider,
            model: r.model,
            task: r.task,
            calls: n(r.calls),
            cached: n(r.cached),
            failed: n(r.failed),
            tokens_in: n(r.tokens_in),
            tokens_out: n(r.tokens_out),
            cost: r.cost,
        }
    }
}

/// The sums of every usage column, as SQL both databases read alike; tokens count what was
/// billed (a cached answer's were not).
const SUMS: &str = r"cast(count(*) as bigint) as calls,
    cast(coalesce(sum(case when cached then 1 else 0 end), 0) as bigint) as cached,
    cast(coalesce(sum(case when outcome <> 'ok' then 1 else 0 end), 0) as bigint) as failed,
    cast(coalesce(sum(case when cached then 0 else tokens_in end), 0) as bigint) as tokens_in,
    cast(coalesce(sum(case when cached then 0 else tokens_out end), 0) as bigint) as tokens_out,
    coalesce(sum(cost), 0.0) as cost";

/// Usage of `org_id` in `[since_ms, until_ms)`, summed `by` model or task (costliest first),
/// or as one row when `by` is none.
pub async fn usage(
    tx: &mut Tx,
    org_id: &str,
    since_ms: i64,
    until_ms: i64,
    by: Option<By>,
) -> Result<Vec<app::api::ai::UsageRow>, sqlx::Error> {
    let (keys, group) = match by {
        Some(By::Model) => (
            "provider, model, '' as task",
            "group by provider, model order by cost desc, calls desc, provider, model",
        ),
        Some(By::Task) => (
            "'' as provider, '' as model, task",
            "group by task order by cost desc, calls desc, task",
        ),
        None => ("'' as provider, '' as model, '' as task", ""),
    };
    let sql = format!(
        "select {keys}, {SUMS} from ai_usage where org_id = $1 and at_ms >= $2 and at_ms < $3 {group}"
    );
    let rows: Vec<TotalsRow> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org_id)
        .bind(since_ms)
        .bind(until_ms)
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Calls and cost of `org_id` per UTC day (days since 1970) in `[since_ms, until_ms)`.
pub async fn usage_by_day(
    tx: &mut Tx,
    org_id: &str,
    since_ms: i64,
    until_ms: i64,
) -> Result<Vec<(i64, i64, f64)>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select cast(at_ms / 86400000 as bigint) as day, cast(count(*) as bigint) as calls,
              coalesce(sum(cost), 0.0) as cost
          from ai_usage where org_id = $1 and at_ms >= $2 and at_ms < $3
          group by cast(at_ms / 86400000 as bigint) order by day",
    )
    .bind(org_id)
    .bind(since_ms)
    .bind(until_ms)
    .fetch_all(&mut *c)
    .await)
}

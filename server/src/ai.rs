//! Optional AI. Faultline works fully without it; an organisation that adds model providers
//! gets explanations, fix suggestions, summaries and test bodies written by a model, and can
//! compare models on the same task.
//!
//! One request goes through the router:
//! 1. AI switched off for the organisation, no provider, or the monthly ceiling reached: the
//!    built-in engine answers, saying why.
//! 2. The chain: the provider the caller named, else the task's routing rule, then every other
//!    enabled provider in order.
//! 3. For each: the cache (provider, model and prompt hashed, with a time to live), then the
//!    circuit breaker (a provider that failed repeatedly rests a while), then the call, retried
//!    on 429, 5xx, timeouts and connection errors with exponential backoff and jitter, honouring
//!    `Retry-After`.
//! 4. Every call is recorded as a usage event with its tokens and cost, and audited (who, task,
//!    provider, model, tokens; never the content). PII is redacted from the prompt first when
//!    the organisation asks for it.
//! 5. Nothing answered: the built-in engine does, with a note per provider on what went wrong.

pub mod checks;
pub mod explain;
pub mod prompts;
pub mod store;
pub mod team_prompts;
pub mod test_bodies;
pub mod wire;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use app::api::ai::{AiAnswer, AiSettings, AiTask, CompareTarget, ComparisonRow};
use sha2::{Digest, Sha256};

use crate::audit;
use crate::crypto::Sealer;
use crate::http::error::AppError;
use crate::state::AppState;
use crate::tenancy::context::OrgContext;

/// The provider name of answers the built-in engine writes.
pub const BUILT_IN: &str = "faultline";

/// How calls are made.
#[derive(Clone, Debug)]
pub struct AiConfig {
    /// One call's time limit (`FAULTLINE_AI_TIMEOUT_SECONDS`, default 60).
    pub timeout: Duration,
    /// Calls to one provider before moving on.
    pub attempts: u32,
    /// The first retry's wait; each later one doubles, plus up to as much again of jitter.
    pub backoff: Duration,
    /// The longest `Retry-After` waited for; a longer one moves on to the next provider.
    pub max_retry_wait: Duration,
    /// Consecutive failed requests that open a provider's circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit keeps the provider out.
    pub breaker_cooldown: Duration,
    /// How long a cached answer is reused (`FAULTLINE_AI_CACHE_SECONDS`, default a day).
    pub cache_ttl: Duration,
}

impl Default for AiConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            attempts: 3,
            backoff: Duration::from_millis(250),
            max_retry_wait: Duration::from_secs(10),
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(60),
            cache_ttl: Duration::from_secs(86_400),
        }
    }
}

/// A provider's recent failures.
#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

/// The router's shared parts.
pub struct Ai {
    client: reqwest::Client,
    sealer: Sealer,
    config: AiConfig,
    breakers: Mutex<HashMap<String, Breaker>>,
}

impl std::fmt::Debug for Ai {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ai")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Ai {
    /// The router, its keys sealed under `secret`.
    pub fn new(secret: &[u8], config: AiConfig) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("faultline/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            sealer: Sealer::new(secret, "ai-provider-key"),
            config,
            breakers: Mutex::default(),
        })
    }

    /// Seals a provider's key, bound to its id.
    pub fn seal(&self, key: &str, provider_id: &str) -> String {
        self.sealer.seal(key, provider_id)
    }

    /// Opens a provider's key.
    pub fn open(&self, sealed: &str, provider_id: &str) -> Result<String, crate::crypto::Tampered> {
        self.sealer.open(sealed, provider_id)
    }

    fn breakers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Breaker>> {
        self.breakers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the provider's circuit is open, how long it stays so.
    fn resting(&self, provider_id: &str) -> Option<Duration> {
        let now = Instant::now();
        let breakers = self.breakers();
        let until = breakers.get(provider_id)?.open_until?;
        (until > now).then(|| until - now)
    }

    fn succeeded(&self, provider_id: &str) {
        self.breakers().remove(provider_id);
    }

    /// Counts a failed request; true when it opened the circuit.
    fn failed(&self, provider_id: &str) -> bool {
        let mut breakers = self.breakers();
        let b = breakers.entry(provider_id.to_owned()).or_default();
        b.failures += 1;
        if b.failures >= self.config.breaker_threshold {
            b.failures = 0;
            b.open_until = Some(Instant::now() + self.config.breaker_cooldown);
            true
        } else {
            false
        }
    }

    /// The wait before retry `attempt` (1-based): the provider's `Retry-After` when it gave
    /// one, else exponential backoff with jitter.
    fn wait(&self, attempt: u32, error: &wire::CallError) -> Duration {
        if let wire::CallError::RateLimited {
            retry_after: Some(wait),
        } = error
        {
            return *wait;
        }
        let base = self.config.backoff * 2u32.saturating_pow(attempt.saturating_sub(1));
        let jitter = base.mul_f64(rand::random::<f64>());
        base + jitter
    }
}

/// Replaces personal data and secrets with placeholders (`[email]`, `[ip]`, `[card]`,
/// `[secret]`).
pub fn redact(text: &str) -> String {
    let spans = crate::analysis::analyze::pii_spans(text);
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, kind) in spans {
        out.push_str(&text[at..start]);
        out.push('[');
        out.push_str(kind);
        out.push(']');
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The first millisecond of the calendar month (UTC) that `now_ms` falls in.
pub fn month_start_ms(now_ms: i64) -> i64 {
    let days = now_ms.div_euclid(86_400_000);
    let (y, m, _) = app::time::civil_from_days(days);
    app::time::days_from_civil(y, m, 1) * 86_400_000
}

fn cache_key(provider_id: &str, model: &str, system: &str, prompt: &str) -> String {
    let mut hash = Sha256::new();
    for part in [provider_id, model, system, prompt] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize())
}

/// One question for a model.
pub struct Ask<'a> {
    /// What it is for (routing and usage name it).
    pub task: AiTask,
    /// The system prompt.
    pub system: String,
    /// The prompt, before redaction.
    pub prompt: String,
    /// A provider's id or name to try first.
    pub provider: Option<&'a str>,
    /// The model of that provider to ask (its first when none, or when it has no such model).
    pub model: Option<&'a str>,
    /// The most tokens to write.
    pub max_tokens: u32,
    /// Whether other providers may answer when the one named fails (false: only it, then the
    /// built-in engine).
    pub fallback: bool,
    /// Which answers are worth caching (all when none): an answer that failed its task's
    /// validation is not replayed.
    pub keep: Option<Keep>,
}

/// Decides whether an answer goes into the cache.
pub type Keep = std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// A step of the chain: a provider and one of its models.
struct Step {
    stored: store::Stored,
    model: String,
}

/// What the router reads before calling anyone.
struct Situation {
    settings: AiSettings,
    providers: Vec<store::Stored>,
    /// Spent this calendar month.
    spent: f64,
}

impl Situation {
    async fn read(state: &AppState, ctx: &OrgContext) -> Result<Self, AppError> {
        let org = ctx.org.id.as_str();
        let mut tx = ctx.begin_read(&state.db).await?;
        let settings = store::settings(&mut tx, org).await?;
        let providers = store::list(&mut tx, org).await?;
        let spent = store::spent_since(&mut tx, org, month_start_ms(state.clock.now_ms())).await?;
        tx.commit().await?;
        Ok(Self {
            settings,
            providers,
            spent,
        })
    }

    /// Why no model may be asked at all, if that is so.
    fn held_back(&self) -> Option<String> {
        if !self.settings.enabled {
            return Some("AI is turned off for this organisation.".into());
        }
        match self.settings.monthly_budget {
            Some(budget) if self.spent >= budget => Some(format!(
                "This month's AI spending ({:.4}) has reached the organisation's ceiling ({budget:.4}).",
                self.spent
            )),
            _ => None,
        }
    }

    /// The prompt as it may leave the server.
    fn outgoing(&self, prompt: &str) -> String {
        if self.settings.redact_pii {
            redact(prompt)
        } else {
            prompt.to_owned()
        }
    }

    /// The provider named `wanted` (by id or name).
    fn find(&self, wanted: &str) -> Option<&store::Stored> {
        self.providers
            .iter()
            .find(|p| p.provider.id == wanted || p.provider.name.eq_ignore_ascii_case(wanted))
    }
}

/// The built-in engine's answer.
fn built_in_answer(markdown: String, notes: Vec<String>) -> AiAnswer {
    AiAnswer {
        markdown,
        provider: BUILT_IN.into(),
        model: "built-in".into(),
        tokens_in: 0,
        tokens_out: 0,
        cost: 0.0,
        cached: false,
        notes,
    }
}

/// What asking one provider's model came to.
enum Outcome {
    /// It answered (or its cached answer did); the answer has no notes yet.
    Answered(AiAnswer),
    /// It did not; the note says why.
    Passed(String),
}

/// A streamed answer as it is written.
#[derive(Clone, Debug, PartialEq)]
pub enum Streamed {
    /// More of the answer.
    Text(String),
    /// The text so far is void (the provider failed mid-answer, as the note says); what
    /// follows starts over.
    Restart(String),
}

/// Where a streamed answer goes.
pub type Live = tokio::sync::mpsc::UnboundedSender<Streamed>;

/// Answers `ask` for the caller's organisation through the router; `built_in` writes the
/// answer when no model does.
pub async fn ask(
    state: &AppState,
    ctx: &OrgContext,
    ask: Ask<'_>,
    built_in: impl FnOnce() -> String,
) -> Result<AiAnswer, AppError> {
    ask_live(state, ctx, ask, built_in, None).await
}

/// `prompt` as it would leave the server for the caller's organisation (redacted when it asks
/// for that), for previews.
pub async fn outgoing(
    state: &AppState,
    ctx: &OrgContext,
    prompt: &str,
) -> Result<String, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let settings = store::settings(&mut tx, &ctx.org.id).await?;
    tx.commit().await?;
    Ok(if settings.redact_pii {
        redact(prompt)
    } else {
        prompt.to_owned()
    })
}

/// Whether the organisation has a provider with this id or name (the router's 422 otherwise).
pub async fn knows_provider(
    state: &AppState,
    ctx: &OrgContext,
    wanted: &str,
) -> Result<bool, AppError> {
    Ok(Situation::read(state, ctx).await?.find(wanted).is_some())
}

/// [`ask`], with the answer also sent to `live` as it is written: models are asked for a
/// stream, a cached or built-in answer goes as one piece, and a provider failing mid-answer is
/// followed by [`Streamed::Restart`] before the next one writes.
pub async fn ask_live(
    state: &AppState,
    ctx: &OrgContext,
    ask: Ask<'_>,
    built_in: impl FnOnce() -> String,
    live: Option<&Live>,
) -> Result<AiAnswer, AppError> {
    let built_in = move || {
        let text = built_in();
        if let Some(live) = live {
            let _ = live.send(Streamed::Text(text.clone()));
        }
        text
    };
    let situation = Situation::read(state, ctx).await?;
    if let Some(wanted) = ask.provider
        && situation.find(wanted).is_none()
    {
        return Err(AppError::field(
            "provider",
            format!("This organisation has no provider {wanted:?}."),
        ));
    }
    if let Some(reason) = situation.held_back() {
        return Ok(built_in_answer(
            built_in(),
            vec![format!("{reason} The built-in engine answered.")],
        ));
    }
    let prompt = situation.outgoing(&ask.prompt);
    let mut chain = chain(
        &situation.settings,
        situation.providers,
        ask.task,
        ask.provider.map(|p| (p, ask.model)),
    );
    if let Some(wanted) = ask.provider.filter(|_| !ask.fallback) {
        chain.retain(|s| {
            let p = &s.stored.provider;
            p.id == wanted || p.name.eq_ignore_ascii_case(wanted)
        });
        if let Some(model) = ask.model {
            chain.retain(|s| s.model == model);
        }
        chain.truncate(1);
        if chain.is_empty() {
            let model = ask.model.map(|m| format!(" ({m})")).unwrap_or_default();
            return Ok(built_in_answer(
                built_in(),
                vec![format!(
                    "{wanted}{model} is no longer available (turned off, removed, or without that model); the built-in engine answered."
                )],
            ));
        }
    }
    if chain.is_empty() {
        return Ok(built_in_answer(
            built_in(),
            vec!["No model provider is configured (or none is enabled); the built-in engine answered.".into()],
        ));
    }
    let mut notes = Vec::new();
    for step in &chain {
        match try_step(state, ctx, step, &ask, &prompt, live).await? {
            Outcome::Answered(answer) => return Ok(AiAnswer { notes, ..answer }),
            Outcome::Passed(note) => notes.push(note),
        }
    }
    notes.push("No provider answered; the built-in engine did.".into());
    Ok(built_in_answer(built_in(), notes))
}

/// Asks `step`'s model `ask` (its `prompt` already redacted as the organisation wants): from
/// the cache when a fresh answer is there, else by calling the provider with retries. Every
/// call, cached or not, is recorded as usage.
async fn try_step(
    state: &AppState,
    ctx: &OrgContext,
    step: &Step,
    ask: &Ask<'_>,
    prompt: &str,
    live: Option<&Live>,
) -> Result<Outcome, AppError> {
    let ai = &state.ai;
    let org = ctx.org.id.as_str();
    let now = state.clock.now_ms();
    let Step { stored, model } = step;
    let provider = &stored.provider;
    let key = cache_key(&provider.id, model, &ask.system, prompt);
    let fresh_after = now - i64::try_from(ai.config.cache_ttl.as_millis()).unwrap_or(i64::MAX);
    let hit = {
        let mut tx = ctx.begin_read(&state.db).await?;
        let hit = store::cached(&mut tx, org, &key, fresh_after).await?;
        tx.commit().await?;
        hit
    };
    // An answer the task no longer accepts (cached before its check existed) is asked afresh.
    if let Some(hit) = hit.filter(|h| ask.keep.as_ref().is_none_or(|keep| keep(&h.answer))) {
        let answer = AiAnswer {
            markdown: hit.answer,
            provider: provider.name.clone(),
            model: model.clone(),
            tokens_in: u64::try_from(hit.tokens_in).unwrap_or(0),
            tokens_out: u64::try_from(hit.tokens_out).unwrap_or(0),
            cost: 0.0,
            cached: true,
            notes: Vec::new(),
        };
        if let Some(live) = live {
            let _ = live.send(Streamed::Text(answer.markdown.clone()));
        }
        let spent = store::Usage {
            tokens_in: answer.tokens_in,
            tokens_out: answer.tokens_out,
            cached: true,
            ..usage(ctx, ask.task, provider, model)
        };
        record(state, ctx, &spent).await?;
        return Ok(Outcome::Answered(answer));
    }
    if let Some(rest) = ai.resting(&provider.id) {
        return Ok(Outcome::Passed(format!(
            "{} was skipped: it failed repeatedly and rests for another {} s.",
            provider.name,
            rest.as_secs().max(1)
        )));
    }
    let api_key = match ai.open(&stored.sealed_key, &provider.id) {
        Ok(key) => key,
        Err(e) => {
            tracing::error!(provider = %provider.id, error = %e, "an AI provider key did not open");
            return Ok(Outcome::Passed(format!(
                "{}'s stored key did not open (it was altered or the server key changed); enter the key again.",
                provider.name
            )));
        }
    };
    let call = wire::Call {
        kind: provider.kind,
        base_url: &provider.base_url,
        api_key: &api_key,
        model,
        system: &ask.system,
        prompt,
        max_tokens: ask.max_tokens,
    };
    let started = Instant::now();
    let mut attempt = 0;
    // Whether text of a failed attempt reached the stream, to be taken back.
    let mut sent = false;
    let outcome = loop {
        attempt += 1;
        let result = match live {
            Some(live) => {
                let mut forward = |text: &str| {
                    sent = true;
                    let _ = live.send(Streamed::Text(text.to_owned()));
                };
                wire::stream(&ai.client, &call, ai.config.timeout, &mut forward).await
            }
            None => wire::complete(&ai.client, &call, ai.config.timeout).await,
        };
        if let (Err(e), Some(live)) = (&result, live)
            && std::mem::take(&mut sent)
        {
            let _ = live.send(Streamed::Restart(format!(
                "{} ({model}) stopped mid-answer: {e}",
                provider.name
            )));
        }
        match result {
            Ok(reply) => break Ok(reply),
            Err(e) if e.retryable() && attempt < ai.config.attempts => {
                let wait = ai.wait(attempt, &e);
                if wait > ai.config.max_retry_wait {
                    break Err(e);
                }
                tracing::info!(provider = %provider.id, attempt, error = %e, wait_ms = wait.as_millis() as u64, "AI call failed; retrying");
                tokio::time::sleep(wait).await;
            }
            Err(e) => break Err(e),
        }
    };
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(reply) => {
            ai.succeeded(&provider.id);
            let cost = (reply.tokens_in as f64 * provider.price_in_per_1k
                + reply.tokens_out as f64 * provider.price_out_per_1k)
                / 1000.0;
            let answer = AiAnswer {
                markdown: reply.text,
                provider: provider.name.clone(),
                model: model.clone(),
                tokens_in: reply.tokens_in,
                tokens_out: reply.tokens_out,
                cost,
                cached: false,
                notes: Vec::new(),
            };
            let worth = ask.keep.as_ref().is_none_or(|keep| keep(&answer.markdown));
            let mut tx = ctx.begin(&state.db).await?;
            if worth {
                store::cache(
                    &mut tx,
                    org,
                    &store::CacheEntry {
                        key: &key,
                        provider_id: &provider.id,
                        model,
                        answer: &answer.markdown,
                        tokens_in: answer.tokens_in,
                        tokens_out: answer.tokens_out,
                    },
                    now,
                )
                .await?;
            }
            tx.commit().await?;
            let spent = store::Usage {
                tokens_in: answer.tokens_in,
                tokens_out: answer.tokens_out,
                cost: answer.cost,
                duration_ms,
                ..usage(ctx, ask.task, provider, model)
            };
            record(state, ctx, &spent).await?;
            Ok(Outcome::Answered(answer))
        }
        Err(e) => {
            // A refusal is about the content, not the provider's health.
            let opened = !matches!(e, wire::CallError::Refused(_)) && ai.failed(&provider.id);
            tracing::warn!(provider = %provider.id, model = %model, error = %e, attempts = attempt, "AI provider failed");
            let note = format!(
                "{} ({model}) failed after {attempt} attempt{}: {e}{}",
                provider.name,
                if attempt == 1 { "" } else { "s" },
                if opened {
                    format!("; it rests for {} s", ai.config.breaker_cooldown.as_secs())
                } else {
                    String::new()
                }
            );
            let failed = store::Usage {
                outcome: e.kind().to_owned(),
                duration_ms,
                ..usage(ctx, ask.task, provider, model)
            };
            record(state, ctx, &failed).await?;
            Ok(Outcome::Passed(note))
        }
    }
}

/// The most models compared at once.
pub const MAX_COMPARED: usize = 4;

/// Asks each of `targets` the same question, all at once and without falling back, and puts
/// the built-in engine's answer first. Each row says what its model wrote or why it did not,
/// with tokens, time, cost and the task's checks. The cache, the breaker, the ceiling, the
/// switch, redaction, usage and audit apply as to any call. `check` checks an output against
/// what the task asked for.
pub async fn compare(
    state: &AppState,
    ctx: &OrgContext,
    ask: Ask<'_>,
    targets: &[CompareTarget],
    built_in: impl FnOnce() -> String,
    check: impl Fn(&str) -> Vec<app::api::ai::Check>,
) -> Result<Vec<ComparisonRow>, AppError> {
    let situation = Situation::read(state, ctx).await?;
    let mut steps = Vec::with_capacity(targets.len());
    let mut problems = Vec::new();
    if targets.is_empty() || targets.len() > MAX_COMPARED {
        problems.push(format!(
            "Pick between 1 and {MAX_COMPARED} models to compare."
        ));
    }
    for target in targets.iter().take(MAX_COMPARED) {
        let Some(stored) = situation.find(&target.provider) else {
            problems.push(format!(
                "This organisation has no provider {:?}.",
                target.provider
            ));
            continue;
        };
        let provider = &stored.provider;
        if !provider.enabled {
            problems.push(format!("{} is turned off.", provider.name));
            continue;
        }
        let model = match target.model.as_deref().map(str::trim) {
            None | Some("") => provider.models.first().cloned(),
            Some(m) => provider.models.iter().find(|x| *x == m).cloned(),
        };
        let Some(model) = model else {
            problems.push(format!(
                "{} has no model {:?}.",
                provider.name,
                target.model.as_deref().unwrap_or_default()
            ));
            continue;
        };
        if steps
            .iter()
            .any(|s: &Step| s.stored.provider.id == provider.id && s.model == model)
        {
            problems.push(format!("{} {model} is named twice.", provider.name));
            continue;
        }
        steps.push(Step {
            stored: stored.clone(),
            model,
        });
    }
    if !problems.is_empty() {
        return Err(AppError::fields(
            problems.into_iter().map(|m| ("targets", m)).collect(),
        ));
    }
    let started = Instant::now();
    let built_in = built_in();
    let mut rows = vec![ComparisonRow {
        checks: check(&built_in),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        ..ComparisonRow::answered(built_in_answer(built_in, Vec::new()))
    }];
    if let Some(reason) = situation.held_back() {
        rows.extend(
            steps.iter().map(|s| {
                ComparisonRow::failed(&s.stored.provider.name, &s.model, reason.clone(), 0)
            }),
        );
        return Ok(rows);
    }
    let prompt = situation.outgoing(&ask.prompt);
    let calls = steps.iter().map(|step| {
        let (ask, prompt, check) = (&ask, &prompt, &check);
        async move {
            let started = Instant::now();
            let outcome = try_step(state, ctx, step, ask, prompt, None).await;
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            outcome.map(|outcome| match outcome {
                Outcome::Answered(answer) => ComparisonRow {
                    checks: check(&answer.markdown),
                    duration_ms,
                    ..ComparisonRow::answered(answer)
                },
                Outcome::Passed(note) => ComparisonRow::failed(
                    &step.stored.provider.name,
                    &step.model,
                    note,
                    duration_ms,
                ),
            })
        }
    });
    for row in futures::future::join_all(calls).await {
        rows.push(row?);
    }
    Ok(rows)
}

/// The providers to try, in order, each with the model to ask.
fn chain(
    settings: &AiSettings,
    providers: Vec<store::Stored>,
    task: AiTask,
    wanted: Option<(&str, Option<&str>)>,
) -> Vec<Step> {
    let mut enabled: Vec<store::Stored> = providers
        .into_iter()
        .filter(|p| p.provider.enabled && !p.provider.models.is_empty())
        .collect();
    let mut first: Option<Step> = None;
    let take = |list: &mut Vec<store::Stored>, at: usize, model: Option<&str>| {
        let stored = list.remove(at);
        let model = model
            .filter(|m| stored.provider.models.iter().any(|x| x == m))
            .map(str::to_owned)
            .unwrap_or_else(|| stored.provider.models[0].clone());
        Step { stored, model }
    };
    if let Some((wanted, model)) = wanted
        && let Some(at) = enabled
            .iter()
            .position(|p| p.provider.id == wanted || p.provider.name.eq_ignore_ascii_case(wanted))
    {
        first = Some(take(&mut enabled, at, model));
    } else if let Some(route) = settings.routes.iter().find(|r| r.task == task)
        && let Some(at) = enabled
            .iter()
            .position(|p| p.provider.id == route.provider_id)
    {
        first = Some(take(&mut enabled, at, route.model.as_deref()));
    }
    let mut out: Vec<Step> = first.into_iter().collect();
    while !enabled.is_empty() {
        out.push(take(&mut enabled, 0, None));
    }
    out
}

/// A usage record of a call for `task` to `provider`'s `model`, with nothing spent yet.
fn usage(
    ctx: &OrgContext,
    task: AiTask,
    provider: &app::api::ai::Provider,
    model: &str,
) -> store::Usage {
    store::Usage {
        user_id: Some(ctx.caller.user.id.clone()),
        task: task.as_str(),
        provider_id: Some(provider.id.clone()),
        provider: provider.name.clone(),
        model: model.to_owned(),
        tokens_in: 0,
        tokens_out: 0,
        cost: 0.0,
        cached: false,
        outcome: "ok".to_owned(),
        duration_ms: 0,
    }
}

/// Records a call's usage and audits it (who, task, provider, model, tokens; never content).
async fn record(state: &AppState, ctx: &OrgContext, usage: &store::Usage) -> Result<(), AppError> {
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    store::record(&mut tx, &ctx.org.id, usage, now).await?;
    let detail = serde_json::json!({
        "task": usage.task,
        "provider": usage.provider,
        "model": usage.model,
        "tokens_in": usage.tokens_in,
        "tokens_out": usage.tokens_out,
        "cost": usage.cost,
        "cached": usage.cached,
        "outcome": usage.outcome,
    });
    let target = usage.provider_id.clone().unwrap_or_default();
    audit::append(&mut tx, &ctx.event("ai.call", target, detail), now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_personal_data() {
        let text =
            "login failed for bob@example.com from 203.0.113.9 with token=sk_live_abcdef1234567890";
        let out = redact(text);
        assert!(!out.contains("bob@example.com"), "{out}");
        assert!(!out.contains("203.0.113.9"), "{out}");
        assert!(!out.contains("abcdef1234567890"), "{out}");
        assert!(out.contains("[email]") && out.contains("[ip]"), "{out}");
        assert_eq!(redact("nothing here"), "nothing here");
    }

    #[test]
    fn months_start_on_the_first() {
        // 2026-12-06T10:00:00Z → 2026-12-01T00:00:00Z.
        let now = app::time::days_from_civil(2026, 12, 6) * 86_400_000 + 36_000_000;
        assert_eq!(
            month_start_ms(now),
            app::time::days_from_civil(2026, 12, 1) * 86_400_000
        );
    }

    #[test]
    fn cache_keys_separate_provider_model_and_prompt() {
        let a = cache_key("p1", "m", "s", "hello");
        assert_eq!(a, cache_key("p1", "m", "s", "hello"));
        assert_ne!(a, cache_key("p2", "m", "s", "hello"));
        assert_ne!(a, cache_key("p1", "n", "s", "hello"));
        assert_ne!(a, cache_key("p1", "m", "s", "hello!"));
        // Parts cannot run into each other.
        assert_ne!(cache_key("ab", "c", "", ""), cache_key("a", "bc", "", ""));
    }
}

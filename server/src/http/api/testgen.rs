//! Generated regression tests of a finished analysis: the suite as JSON (files, validation,
//! coverage), as a ZIP, and as manual test cases; and the settings they are generated with,
//! kept per member and per team.

use app::api::testgen::{
    CiSystem, Framework, GenerateRequest, GeneratedFile, RunReport, SettingsOwner, StoredSettings,
    Suite, TemplateInput, TestSettings, TestTemplate, TestType,
};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::ApiJson;
use crate::audit;
use crate::http::error::AppError;
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::permission::Permission;
use crate::tenancy::teams;
use crate::testgen::{self, Request, bundle, custom, manual, sandbox, settings, templates};

/// Test runs take the machine's cores: one at a time per process.
static RUNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Choices for a suite; each overrides the saved settings it names.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct TestsQuery {
    /// `pytest`, `jest`, `mocha`, `junit`, `rspec`, `phpunit`, `nunit`, `gotest`,
    /// `playwright`, `cypress` or `selenium`.
    framework: Option<String>,
    /// `unit`, `integration` or `e2e`, comma-separated (default: all the framework writes).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// `github`, `gitlab`, `jenkins` or `circleci`.
    ci: Option<String>,
    /// Use this team's saved settings instead of the caller's own.
    team: Option<String>,
    /// Add a file from this custom template (its framework must be the suite's).
    template: Option<String>,
}

fn field(name: &'static str, message: String) -> AppError {
    AppError::field(name, message)
}

/// 422 listing every problem with the settings, or nothing.
fn check(settings: &TestSettings) -> Result<(), AppError> {
    let problems = settings.problems();
    if problems.is_empty() {
        return Ok(());
    }
    Err(AppError::fields(problems))
}

/// The settings the caller's query starts from: the team's or the caller's own.
async fn saved(
    state: &AppState,
    ctx: &OrgContext,
    team: Option<&str>,
) -> Result<TestSettings, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let stored = match team {
        Some(team) => {
            teams::get(&mut tx, &ctx.org.id, team)
                .await?
                .ok_or_else(|| AppError::Missing("No such team in this organisation.".into()))?;
            settings::get(&mut tx, &ctx.org.id, SettingsOwner::Team, team).await?
        }
        None => mine(&mut tx, ctx).await?,
    };
    tx.commit().await?;
    Ok(stored.settings)
}

/// The caller's own settings; until they save some, the account's default framework applies.
async fn mine(tx: &mut crate::db::Tx, ctx: &OrgContext) -> Result<StoredSettings, AppError> {
    let user = &ctx.caller.user;
    Ok(settings::of_member(tx, &ctx.org.id, &user.id, &user.default_framework).await?)
}

/// The request the caller's own saved settings make (for the reports' tests summary).
pub(super) async fn saved_request(state: &AppState, ctx: &OrgContext) -> Result<Request, AppError> {
    request_of(state, ctx, &TestsQuery::default()).await
}

/// The request a query asks for, or 422 naming the field at fault.
async fn request_of(
    state: &AppState,
    ctx: &OrgContext,
    query: &TestsQuery,
) -> Result<Request, AppError> {
    let mut chosen = saved(state, ctx, query.team.as_deref()).await?;
    if let Some(raw) = &query.framework {
        chosen.framework = Framework::parse(raw).ok_or_else(|| {
            let names: Vec<&str> = Framework::ALL.iter().map(|f| f.as_str()).collect();
            field("framework", format!("Choose one of {}.", names.join(", ")))
        })?;
    }
    if let Some(raw) = &query.ci {
        chosen.ci = CiSystem::parse(raw)
            .ok_or_else(|| field("ci", "Choose github, gitlab, jenkins or circleci.".into()))?;
    }
    let types = match &query.kind {
        Some(raw) => raw
            .split(',')
            .filter(|t| !t.trim().is_empty())
            .map(|t| {
                TestType::parse(t.trim())
                    .ok_or_else(|| field("type", "Choose unit, integration or e2e.".into()))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let template = match query.template.as_deref().filter(|t| !t.is_empty()) {
        Some(id) => Some(chosen_template(state, ctx, id, chosen.framework).await?),
        None => None,
    };
    Ok(Request {
        framework: chosen.framework,
        types,
        preferences: chosen.preferences,
        context: chosen.context,
        ci: chosen.ci,
        template,
    })
}

/// Template `id` of the organisation, refused unless it is written for `framework`.
async fn chosen_template(
    state: &AppState,
    ctx: &OrgContext,
    id: &str,
    framework: Framework,
) -> Result<TemplateInput, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let found = templates::get(&mut tx, &ctx.org.id, id).await?;
    tx.commit().await?;
    let template =
        found.ok_or_else(|| field("template", "No such template in this organisation.".into()))?;
    if template.framework != framework {
        return Err(field(
            "template",
            format!(
                "{} is written for {}; choose that framework to use it.",
                template.name,
                template.framework.label()
            ),
        ));
    }
    Ok(template.input())
}

/// Generates the suite off the async threads (a large analysis takes a moment).
async fn build(
    state: &AppState,
    ctx: &OrgContext,
    id: &str,
    request: Request,
) -> Result<(crate::ingest::analyses::Row, Suite, Request), AppError> {
    let (row, index) = super::patterns::finished(state, ctx, id).await?;
    let (suite, request) = tokio::task::spawn_blocking(move || {
        let suite = testgen::generate(&index.doc, &request);
        (suite, request)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let suite = suite.map_err(|e| field("type", e.to_string()))?;
    Ok((row, suite, request))
}

/// `GET /analyses/{id}/tests`.
#[utoipa::path(get, path = "/analyses/{id}/tests", tag = "tests", summary = "Generated tests of an analysis",
    description = "Generates regression tests for the analysis' error patterns with the caller's saved settings (or a team's), overridden by the query: every file with its validation, the coverage of the error patterns and notes.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one"), TestsQuery),
    responses(
        (status = 200, description = "The suite", body = Suite),
        (status = 404, description = "No such analysis (or team) in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "An unknown framework, type or CI system, or a type the framework does not write", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn suite(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    Query(query): Query<TestsQuery>,
) -> Result<Json<Suite>, AppError> {
    let request = request_of(&state, &ctx, &query).await?;
    Ok(Json(build(&state, &ctx, &id, request).await?.1))
}

/// `POST /analyses/{id}/tests`.
#[utoipa::path(post, path = "/analyses/{id}/tests", tag = "tests", summary = "Generate tests with explicit choices",
    description = "As the GET, with the framework, CI system, preferences and project context given in the body instead of the saved settings.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = GenerateRequest,
    responses(
        (status = 200, description = "The suite", body = Suite),
        (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Invalid choices, each naming its field", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn generate(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GenerateRequest>,
) -> Result<Json<Suite>, AppError> {
    check(&body.settings())?;
    let template = match body.template_id.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Some(chosen_template(&state, &ctx, t, body.framework).await?),
        None => None,
    };
    let request = Request {
        template,
        ..Request::from(body)
    };
    Ok(Json(build(&state, &ctx, &id, request).await?.1))
}

/// `POST /analyses/{id}/tests/run`.
#[utoipa::path(post, path = "/analyses/{id}/tests/run", tag = "tests", summary = "Run the generated tests in the sandbox",
    description = "Generates the suite as the POST /tests does and runs it (pytest, Jest or Mocha) in a separate process, in a temporary directory, without network, as an unprivileged user, under CPU, memory and time limits. Needs create_analyses; one run at a time.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = GenerateRequest,
    responses(
        (status = 200, description = "Passed, failed and skipped, the duration and the output", body = RunReport),
        (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`), another run is in progress (`runner_busy`), or the framework's toolchain or the sandbox is missing on this server (`runner_unavailable`, saying which)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "A framework that is not run here, or invalid choices", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn run(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GenerateRequest>,
) -> Result<Json<RunReport>, AppError> {
    // The analysis first: another organisation's answers 404 whatever the body says, and a
    // team share's role counts as it does for the analysis' other actions.
    super::analyses::authorize(&state, &ctx, &id, Permission::CreateAnalyses).await?;
    check(&body.settings())?;
    if !sandbox::runs(body.framework) {
        return Err(field(
            "framework",
            format!(
                "{} suites are not run here: their toolchain is not on the server. pytest, Selenium, Jest, Mocha, Playwright, RSpec, PHPUnit, Go and JUnit suites are.",
                body.framework.label()
            ),
        ));
    }
    let request = Request::from(body);
    let runner = &state.config.test_runner;
    sandbox::ready(request.framework, runner)
        .await
        .map_err(run_error)?;
    let (_, suite, _) = build(&state, &ctx, &id, request).await?;
    // Runs queue for the one slot; a caller waits at most one run's time limit.
    let wait = std::time::Duration::from_secs(runner.wall_seconds + 5);
    let _permit = tokio::time::timeout(wait, RUNS.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            AppError::Conflict(
                "runner_busy",
                "Other test runs are using the sandbox; try again in a minute.".into(),
            )
        })?;
    let report = sandbox::run(&suite, runner).await.map_err(run_error)?;

    tracing::info!(
        analysis = %id,
        framework = %suite.framework,
        passed = report.passed,
        failed = report.failed,
        skipped = report.skipped,
        duration_ms = report.duration_ms,
        "test run finished"
    );
    Ok(Json(report))
}

/// The answer for a run that cannot happen.
fn run_error(e: sandbox::RunError) -> AppError {
    match e {
        sandbox::RunError::Unsupported(_) => field("framework", e.to_string()),
        // The operator's to fix, and safe to say: which runner or tool is missing.
        sandbox::RunError::NoToolchain(_) | sandbox::RunError::NoSandbox(_) => {
            AppError::Conflict("runner_unavailable", format!("{e}."))
        }
        sandbox::RunError::Io(io) => AppError::Internal(io.into()),
    }
}

/// `GET /analyses/{id}/tests.zip`.
#[utoipa::path(get, path = "/analyses/{id}/tests.zip", tag = "tests", summary = "Download the generated tests",
    description = "The suite as a ZIP: tests organised by type, module and priority, shared fixtures, the framework's configuration, the dependency manifest, a README, the test documentation, manual test cases and the chosen CI configuration. Audited as an export.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one"), TestsQuery),
    responses(
        (status = 200, description = "The ZIP, as an attachment", content_type = "application/zip"),
        (status = 404, description = "No such analysis (or team) in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "An unknown framework, type or CI system", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn download(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    Query(query): Query<TestsQuery>,
) -> Result<Response, AppError> {
    let request = request_of(&state, &ctx, &query).await?;
    let (row, suite, request) = build(&state, &ctx, &id, request).await?;
    let bytes = tokio::task::spawn_blocking(move || bundle::zip(&suite))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(e.into()))?;
    let detail = serde_json::json!({
        "format": "tests.zip",
        "framework": request.framework.as_str(),
        "ci": request.ci.as_str(),
        "name": row.name,
    });
    audited_export(&state, &ctx, &id, detail).await?;
    let file = format!("faultline-{}-tests.zip", request.framework);
    Ok(attachment(bytes, "application/zip", &file))
}

/// `GET /analyses/{id}/manual-tests.{format}`.
#[utoipa::path(get, path = "/analyses/{id}/manual-tests.{format}", tag = "tests", summary = "Manual test cases",
    description = "The same checks written for a person: id, title, type, preconditions, steps, expected result, test data and acceptance criteria, as CSV or Markdown. Audited as an export.",
    params(("id" = String, Path, description = "Analysis id"), ("format" = String, Path, description = "`csv` or `md`"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one"), TestsQuery),
    responses(
        (status = 200, description = "The cases, as an attachment"),
        (status = 404, description = "No such analysis in this organisation, or no such format", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn manual_cases(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((id, format)): Path<(String, String)>,
    Query(query): Query<TestsQuery>,
) -> Result<Response, AppError> {
    let content_type = match format.as_str() {
        "csv" => "text/csv; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        _ => {
            return Err(AppError::Missing(
                "Manual test cases are manual-tests.csv or manual-tests.md.".into(),
            ));
        }
    };
    let request = request_of(&state, &ctx, &query).await?;
    let (row, index) = super::patterns::finished(&state, &ctx, &id).await?;
    let types = request.types().map_err(|e| field("type", e.to_string()))?;
    let plan = testgen::plan::plan(&index.doc, &types, &request.preferences, &request.context);
    let cases = manual::cases(&plan);
    let body = if format == "csv" {
        manual::csv(&cases)
    } else {
        manual::markdown(&cases)
    };
    let detail = serde_json::json!({"format": format!("manual-tests.{format}"), "name": row.name});
    audited_export(&state, &ctx, &id, detail).await?;
    Ok(attachment(
        body.into_bytes(),
        content_type,
        &format!("manual-test-cases.{format}"),
    ))
}

async fn audited_export(
    state: &AppState,
    ctx: &OrgContext,
    id: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    audit::append(&mut tx, &ctx.event("analysis.exported", id, detail), now).await?;
    tx.commit().await?;
    Ok(())
}

fn attachment(bytes: Vec<u8>, content_type: &'static str, file: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// `GET /test-settings`.
#[utoipa::path(get, path = "/test-settings", tag = "tests", summary = "Your test-generation settings",
    params(("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses((status = 200, description = "The caller's settings in this organisation (the defaults when none were saved)", body = StoredSettings)))]
pub async fn my_settings(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<StoredSettings>, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let stored = mine(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(stored))
}

/// `PUT /test-settings`.
#[utoipa::path(put, path = "/test-settings", tag = "tests", summary = "Save your test-generation settings",
    params(("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = TestSettings,
    responses(
        (status = 200, description = "Saved", body = StoredSettings),
        (status = 422, description = "Invalid settings, each naming its field", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn save_my_settings(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<TestSettings>,
) -> Result<Json<StoredSettings>, AppError> {
    let user = ctx.caller.user.id.clone();
    save(&state, &ctx, SettingsOwner::User, &user, &body)
        .await
        .map(Json)
}

/// `GET /orgs/{org}/teams/{team}/test-settings`.
#[utoipa::path(get, path = "/orgs/{org}/teams/{team}/test-settings", tag = "tests", summary = "A team's test-generation settings",
    params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id")),
    responses(
        (status = 200, description = "The team's settings (the defaults when none were saved)", body = StoredSettings),
        (status = 404, description = "No such team in this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn team_settings(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team)): Path<(String, String)>,
) -> Result<Json<StoredSettings>, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    teams::get(&mut tx, &ctx.org.id, &team)
        .await?
        .ok_or(AppError::NotFound)?;
    let stored = settings::get(&mut tx, &ctx.org.id, SettingsOwner::Team, &team).await?;
    tx.commit().await?;
    Ok(Json(stored))
}

/// `PUT /orgs/{org}/teams/{team}/test-settings`.
#[utoipa::path(put, path = "/orgs/{org}/teams/{team}/test-settings", tag = "tests", summary = "Save a team's test-generation settings",
    description = "Needs manage_team; audited as `team.test_settings_changed`.",
    params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id")),
    request_body = TestSettings,
    responses(
        (status = 200, description = "Saved", body = StoredSettings),
        (status = 403, description = "The caller may not manage teams", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such team in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Invalid settings, each naming its field", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn save_team_settings(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team)): Path<(String, String)>,
    ApiJson(body): ApiJson<TestSettings>,
) -> Result<Json<StoredSettings>, AppError> {
    ctx.require(Permission::ManageTeam)?;
    {
        let mut tx = ctx.begin_read(&state.db).await?;
        teams::get(&mut tx, &ctx.org.id, &team)
            .await?
            .ok_or(AppError::NotFound)?;
        tx.commit().await?;
    }
    save(&state, &ctx, SettingsOwner::Team, &team, &body)
        .await
        .map(Json)
}

async fn save(
    state: &AppState,
    ctx: &OrgContext,
    owner: SettingsOwner,
    owner_id: &str,
    body: &TestSettings,
) -> Result<StoredSettings, AppError> {
    check(body)?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    settings::put(
        &mut tx,
        &ctx.org.id,
        &owner,
        owner_id,
        body,
        &ctx.caller.user.id,
        now,
    )
    .await?;
    if owner == SettingsOwner::Team {
        let detail = serde_json::json!({"framework": body.framework.as_str()});
        audit::append(
            &mut tx,
            &ctx.event("team.test_settings_changed", owner_id, detail),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(StoredSettings {
        team_id: (owner == SettingsOwner::Team).then(|| owner_id.to_owned()),
        owner,
        settings: body.clone(),
        updated_at_ms: Some(now),
    })
}

/// `GET /test-templates`.
#[utoipa::path(get, path = "/test-templates", tag = "tests", summary = "The organisation's custom test templates",
    description = "Every team's templates: anyone in the organisation may use them (`?template=` on the tests routes).",
    params(("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses((status = 200, description = "Templates, by name", body = Vec<TestTemplate>)))]
pub async fn list_templates(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Vec<TestTemplate>>, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let list = templates::list(&mut tx, &ctx.org.id).await?;
    tx.commit().await?;
    Ok(Json(list))
}

/// `POST /orgs/{org}/teams/{team}/test-templates`.
#[utoipa::path(post, path = "/orgs/{org}/teams/{team}/test-templates", tag = "tests", summary = "Save a custom test template for a team",
    description = "A file scaffold (prelude and epilogue) and a test written once for every error pattern, with `{{variables}}` (see the tests page for the list). Needs manage_team; audited as `team.test_template_saved`.",
    params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id")),
    request_body = TemplateInput,
    responses(
        (status = 201, description = "Saved", body = TestTemplate),
        (status = 403, description = "The caller may not manage teams", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such team in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "A missing name or test, a part too long, or unknown variables, each naming its field", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn create_template(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team)): Path<(String, String)>,
    ApiJson(body): ApiJson<TemplateInput>,
) -> Result<(axum::http::StatusCode, Json<TestTemplate>), AppError> {
    let id = uuid::Uuid::new_v4().to_string();
    let saved = save_template(&state, &ctx, &team, &id, &body, false).await?;
    Ok((axum::http::StatusCode::CREATED, Json(saved)))
}

/// `PUT /orgs/{org}/teams/{team}/test-templates/{id}`.
#[utoipa::path(put, path = "/orgs/{org}/teams/{team}/test-templates/{id}", tag = "tests", summary = "Change a custom test template",
    description = "Needs manage_team; audited as `team.test_template_saved`.",
    params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id"), ("id" = String, Path, description = "Template id")),
    request_body = TemplateInput,
    responses(
        (status = 200, description = "Saved", body = TestTemplate),
        (status = 403, description = "The caller may not manage teams", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such team or template in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Invalid, each problem naming its field", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn update_template(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team, id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<TemplateInput>,
) -> Result<Json<TestTemplate>, AppError> {
    save_template(&state, &ctx, &team, &id, &body, true)
        .await
        .map(Json)
}

/// `DELETE /orgs/{org}/teams/{team}/test-templates/{id}`.
#[utoipa::path(delete, path = "/orgs/{org}/teams/{team}/test-templates/{id}", tag = "tests", summary = "Delete a custom test template",
    description = "Needs manage_team; audited as `team.test_template_deleted`.",
    params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id"), ("id" = String, Path, description = "Template id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller may not manage teams", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such team or template in this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn delete_template(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team, id)): Path<(String, String, String)>,
) -> Result<axum::http::StatusCode, AppError> {
    ctx.require(Permission::ManageTeam)?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let found = templates::get(&mut tx, &ctx.org.id, &id)
        .await?
        .filter(|t| t.team_id == team)
        .ok_or(AppError::NotFound)?;
    templates::delete(&mut tx, &ctx.org.id, &team, &id).await?;
    let detail = serde_json::json!({"template": id, "name": found.name});
    audit::append(
        &mut tx,
        &ctx.event("team.test_template_deleted", &team, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// 422 with one message per field.
async fn save_template(
    state: &AppState,
    ctx: &OrgContext,
    team: &str,
    id: &str,
    body: &TemplateInput,
    existing: bool,
) -> Result<TestTemplate, AppError> {
    ctx.require(Permission::ManageTeam)?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let team_row = teams::get(&mut tx, &ctx.org.id, team)
        .await?
        .ok_or(AppError::NotFound)?;
    if existing
        && templates::get(&mut tx, &ctx.org.id, id)
            .await?
            .filter(|t| t.team_id == team)
            .is_none()
    {
        return Err(AppError::NotFound);
    }
    let mut problems = custom::problems(body);
    if templates::name_taken(&mut tx, &ctx.org.id, team, body.name.trim(), Some(id)).await? {
        problems.push((
            "name",
            format!("{} already has a template of that name.", team_row.name),
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::fields(problems));
    }
    templates::put(
        &mut tx,
        &ctx.org.id,
        team,
        id,
        body,
        &ctx.caller.user.id,
        now,
    )
    .await?;
    let detail = serde_json::json!({"template": id, "name": body.name.trim(), "framework": body.framework.as_str()});
    audit::append(
        &mut tx,
        &ctx.event("team.test_template_saved", team, detail),
        now,
    )
    .await?;
    let saved = templates::get(&mut tx, &ctx.org.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(saved)
}

/// `POST /analyses/{id}/tests/template-preview`.
#[utoipa::path(post, path = "/analyses/{id}/tests/template-preview", tag = "tests", summary = "Try a custom template on an analysis",
    description = "Writes the file a template (saved or not) makes for this analysis' error patterns with the caller's settings, and validates it, without storing anything.",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = TemplateInput,
    responses(
        (status = 200, description = "The file, with its validation", body = GeneratedFile),
        (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Invalid, each problem naming its field", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn preview_template(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TemplateInput>,
) -> Result<Json<GeneratedFile>, AppError> {
    let problems = custom::problems(&body);
    if !problems.is_empty() {
        return Err(AppError::fields(problems));
    }
    let path = custom::path(body.framework, &body.name);
    let mut request = saved_request(&state, &ctx).await?;
    request.framework = body.framework;
    request.types = Vec::new();
    request.template = Some(body);
    let (_, suite, _) = build(&state, &ctx, &id, request).await?;
    suite
        .files
        .into_iter()
        .find(|f| f.path == path)
        .map(Json)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the template's file was not written")))
}

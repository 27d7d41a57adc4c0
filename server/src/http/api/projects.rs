//! `/api/v1/projects`: group an organisation's analyses by service. Anyone who may view
//! analyses sees the projects; creating, renaming and filing analyses takes create_analyses,
//! deleting a project takes delete_analyses (its analyses stay, in no project). Every change
//! is audited.

use app::api::history::Project;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::extract::ApiJson;
use crate::audit;
use crate::http::error::{AppError, FieldError};
use crate::ingest::projects::{self, MAX_DESCRIPTION, MAX_NAME};
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::permission::Permission;

/// `POST /projects` and `PATCH /projects/{id}` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectBody {
    /// Its name, unique in the organisation (ignoring case); analyses whose logs name a service
    /// called like this join it when they finish.
    name: String,
    /// What it is.
    #[serde(default)]
    description: String,
}

impl ProjectBody {
    /// The trimmed name and description, or what is wrong with them.
    fn checked(&self) -> Result<(String, String), AppError> {
        let name = self.name.trim();
        let description = self.description.trim();
        let mut fields = Vec::new();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            fields.push(FieldError {
                field: "name",
                message: format!("Name it in 1 to {MAX_NAME} characters."),
            });
        } else if name.chars().any(char::is_control) {
            fields.push(FieldError {
                field: "name",
                message: "A name cannot hold control characters.".into(),
            });
        }
        if description.chars().count() > MAX_DESCRIPTION {
            fields.push(FieldError {
                field: "description",
                message: format!("Describe it in at most {MAX_DESCRIPTION} characters."),
            });
        }
        if fields.is_empty() {
            Ok((name.to_owned(), description.to_owned()))
        } else {
            Err(AppError::Invalid(fields))
        }
    }
}

fn taken(name: &str) -> AppError {
    AppError::Conflict(
        "project_exists",
        format!("There is already a project called {name:?}."),
    )
}

/// `GET /projects`.
#[utoipa::path(get, path = "/projects", tag = "projects", summary = "List projects",
    params(("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses((status = 200, description = "The organisation's projects, by name, with how many analyses each holds", body = Vec<Project>)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Vec<Project>>, AppError> {
    ctx.require(Permission::ViewAnalyses)?;
    let mut tx = ctx.begin_read(&state.db).await?;
    let found = projects::list(&mut tx, &ctx.org.id).await?;
    tx.commit().await?;
    Ok(Json(found))
}

/// `POST /projects`.
#[utoipa::path(post, path = "/projects", tag = "projects", summary = "Create a project",
    request_body = ProjectBody,
    params(("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 201, description = "Created", body = Project),
        (status = 409, description = "A project of that name exists", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Invalid fields", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<ProjectBody>,
) -> Result<(StatusCode, Json<Project>), AppError> {
    ctx.require(Permission::CreateAnalyses)?;
    let (name, description) = body.checked()?;
    let now = state.clock.now_ms();
    let project = Project {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        description,
        analyses: 0,
        created_at_ms: now,
    };
    let mut tx = ctx.begin(&state.db).await?;
    if projects::name_taken(&mut tx, &ctx.org.id, &project.name, None).await? {
        return Err(taken(&project.name));
    }
    projects::insert(&mut tx, &ctx.org.id, &project, &ctx.caller.user.id).await?;
    audit::append(
        &mut tx,
        &ctx.event(
            "project.created",
            &project.id,
            serde_json::json!({ "name": project.name }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// `PATCH /projects/{id}`.
#[utoipa::path(patch, path = "/projects/{id}", tag = "projects", summary = "Rename a project",
    request_body = ProjectBody,
    params(("id" = String, Path, description = "Project id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "Saved", body = Project),
        (status = 404, description = "No such project in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "Another project has that name", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Invalid fields", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn update(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProjectBody>,
) -> Result<Json<Project>, AppError> {
    ctx.require(Permission::CreateAnalyses)?;
    let (name, description) = body.checked()?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let before = projects::by_id(&mut tx, &ctx.org.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    if projects::name_taken(&mut tx, &ctx.org.id, &name, Some(&id)).await? {
        return Err(taken(&name));
    }
    projects::update(&mut tx, &ctx.org.id, &id, &name, &description).await?;
    audit::append(
        &mut tx,
        &ctx.event(
            "project.updated",
            &id,
            serde_json::json!({ "name": name, "previous_name": before.name }),
        ),
        now,
    )
    .await?;
    let after = projects::by_id(&mut tx, &ctx.org.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Json(after))
}

/// `DELETE /projects/{id}`.
#[utoipa::path(delete, path = "/projects/{id}", tag = "projects", summary = "Delete a project",
    params(("id" = String, Path, description = "Project id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 204, description = "Deleted; its analyses are in no project now"),
        (status = 404, description = "No such project in this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    ctx.require(Permission::DeleteAnalyses)?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let project = projects::by_id(&mut tx, &ctx.org.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    projects::delete(&mut tx, &ctx.org.id, &id).await?;
    audit::append(
        &mut tx,
        &ctx.event(
            "project.deleted",
            &id,
            serde_json::json!({ "name": project.name, "analyses": project.analyses }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

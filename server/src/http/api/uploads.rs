//! `/api/v1/uploads`: log files streamed into storage, as a raw body or a multipart form.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::http::error::AppError;
use crate::ingest::uploads::{self, Limits, Upload, UploadError};
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::permission::Permission;
use crate::tenancy::sharing::Grants;

/// Room for a multipart body's boundaries and part headers beyond the file itself.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// `POST /uploads` query.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// File name for a raw body (a multipart part carries its own).
    name: Option<String>,
    /// Organisation slug or id, when the credential does not imply one.
    #[allow(dead_code)]
    org: Option<String>,
}

/// An upload as answered.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UploadView {
    #[serde(flatten)]
    upload: Upload,
    /// True when the organisation already had this content: the earlier upload is answered
    /// and nothing new is stored.
    duplicate: bool,
}

/// `POST /uploads`: streams one file into storage. Send the file as the raw body (with
/// `?name=`), or as the one file of a `multipart/form-data` body.
#[utoipa::path(post, path = "/uploads", tag = "uploads", summary = "Upload a log file",
    params(UploadQuery),
    request_body(content = Vec<u8>, description = "The file: text, JSON lines or gzip. Raw (`text/plain`, `application/json`, `application/x-ndjson`, `application/gzip`, `application/octet-stream`) or `multipart/form-data` with one file part.", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored", body = UploadView),
        (status = 200, description = "The organisation already has this content; the earlier upload is answered", body = UploadView),
        (status = 413, description = "Larger than the per-file limit (`too_large`) or over the organisation's quota (`quota_exceeded`)", body = crate::http::error::ErrorEnvelope),
        (status = 415, description = "Not text, JSON or gzip; the message names the detected type", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "A damaged or truncated gzip file, or an empty file", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: OrgContext,
    Query(query): Query<UploadQuery>,
    request: Request,
) -> Result<(StatusCode, Json<UploadView>), AppError> {
    ctx.require(Permission::CreateAnalyses)?;
    let content_type = media_type(request.headers());
    let declared = declared_length(request.headers());
    let mut tx = ctx.begin_read(&state.db).await?;
    let limits = uploads::limits(&mut tx, &ctx.org.id, &state.config.ingest, false).await?;
    tx.commit().await?;
    let id = uuid::Uuid::new_v4().to_string();
    let key = uploads::storage_key(&ctx.org.id, &id);

    let (name, received) = if content_type == "multipart/form-data" {
        if let Some(length) = declared
            && let Some(refusal) = limits.refuse(length.saturating_sub(MULTIPART_OVERHEAD))
        {
            return Err(upload_error(refusal));
        }
        receive_multipart(&state, request, &key, limits).await?
    } else {
        accept_type(&content_type)?;
        if let Some(length) = declared
            && let Some(refusal) = limits.refuse(length)
        {
            return Err(upload_error(refusal));
        }
        let name = uploads::clean_name(query.name.as_deref().unwrap_or_default());
        let body = request.into_body().into_data_stream();
        let received = uploads::receive(&state.ingest.storage, &key, body, limits)
            .await
            .map_err(upload_error)?;
        (name, received)
    };

    match record(&state, &ctx, id, key.clone(), name, &received).await {
        Ok(view) => {
            let status = if view.duplicate {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok((status, Json(view)))
        }
        Err(e) => {
            if let Err(removal) = state.ingest.storage.delete(&key).await {
                tracing::warn!(key, error = %removal, "cannot remove an upload that was not recorded");
            }
            Err(e)
        }
    }
}

/// Records a stored file, or answers the earlier upload of the same content (removing the new
/// copy). The quota is checked again under the organisation's lock.
async fn record(
    state: &AppState,
    ctx: &OrgContext,
    id: String,
    key: String,
    name: String,
    received: &uploads::Received,
) -> Result<UploadView, AppError> {
    let mut tx = ctx.begin(&state.db).await?;
    // Only an earlier upload the caller may see is answered: one behind someone's private
    // analysis stays unseen, and this content is recorded anew.
    let grants = Grants::of_caller(&mut tx, ctx, None).await?;
    let earlier = uploads::visible(
        &mut tx,
        &ctx.org.id,
        &grants,
        uploads::Which::Digest(&received.sha256),
    )
    .await?;
    if let Some(earlier) = earlier.into_iter().next() {
        tx.commit().await?;
        state
            .ingest
            .storage
            .delete(&key)
            .await
            .map_err(anyhow::Error::from)?;
        return Ok(UploadView {
            upload: earlier,
            duplicate: true,
        });
    }
    let limits = uploads::limits(&mut tx, &ctx.org.id, &state.config.ingest, true).await?;
    if let Some(refusal) = limits.refuse(received.bytes) {
        return Err(upload_error(refusal));
    }
    let upload = Upload {
        id,
        org_id: ctx.org.id.clone(),
        name,
        bytes: i64::try_from(received.bytes).unwrap_or(i64::MAX),
        sha256: received.sha256.clone(),
        kind: received.kind.as_str().to_owned(),
        storage_key: key,
        created_by: ctx.caller.user.id.clone(),
        created_at_ms: state.clock.now_ms(),
    };
    uploads::insert(&mut tx, &upload).await?;
    tx.commit().await?;
    tracing::info!(upload = %upload.id, bytes = upload.bytes, kind = %upload.kind, "upload stored");
    Ok(UploadView {
        upload,
        duplicate: false,
    })
}

async fn receive_multipart(
    state: &AppState,
    request: Request,
    key: &str,
    limits: Limits,
) -> Result<(String, uploads::Received), AppError> {
    let mut form = Multipart::from_request(request, state).await.map_err(|e| {
        AppError::BadRequest(format!("The form could not be read: {}", e.body_text()))
    })?;
    let mut stored: Option<(String, uploads::Received)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                if stored.is_some() {
                    let _ = state.ingest.storage.delete(key).await;
                }
                return Err(AppError::BadRequest(format!(
                    "The form could not be read: {}",
                    e.body_text()
                )));
            }
        };
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            continue;
        };
        if stored.is_some() {
            let _ = state.ingest.storage.delete(key).await;
            return Err(AppError::field(
                "file",
                "Send one file per request; each file becomes its own upload.",
            ));
        }
        if let Some(part_type) = field.content_type() {
            accept_type(&part_type.to_ascii_lowercase())?;
        }
        let body = field.map(|chunk| chunk.map_err(|e| e.body_text()));
        let received = uploads::receive(&state.ingest.storage, key, Box::pin(body), limits)
            .await
            .map_err(upload_error)?;
        stored = Some((uploads::clean_name(&file_name), received));
    }
    stored.ok_or_else(|| AppError::field("file", "The form has no file in it."))
}

/// The media type without parameters, lower-cased.
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Refuses declared types that cannot be logs. The content is inspected whatever is declared.
fn accept_type(media_type: &str) -> Result<(), AppError> {
    let accepted = media_type.is_empty()
        || media_type.starts_with("text/")
        || matches!(
            media_type,
            "application/json"
                | "application/x-ndjson"
                | "application/jsonl"
                | "application/jsonlines"
                | "application/gzip"
                | "application/x-gzip"
                | "application/octet-stream"
        );
    if accepted {
        return Ok(());
    }
    let hint = if media_type == "application/x-www-form-urlencoded" {
        " (curl sends that for --data-binary: add -H 'Content-Type: application/octet-stream')"
    } else {
        ""
    };
    Err(AppError::Unsupported(format!(
        "Uploads are text, JSON or gzip; {media_type} is not accepted{hint}."
    )))
}

fn upload_error(error: UploadError) -> AppError {
    match error {
        UploadError::TooLarge { .. } => AppError::TooLarge(error.to_string()),
        UploadError::OverQuota { .. } => AppError::OverQuota(error.to_string()),
        UploadError::Refused(refusal) => match refusal {
            crate::ingest::inspect::Refusal::Binary { .. }
            | crate::ingest::inspect::Refusal::NotText => {
                AppError::Unsupported(refusal.to_string())
            }
            other => AppError::field("file", other.to_string()),
        },
        UploadError::Interrupted => AppError::BadRequest(error.to_string()),
        UploadError::Storage(e) => AppError::Unavailable(e.into()),
    }
}

/// `GET /uploads` query.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Organisation slug or id, when the credential does not imply one.
    #[allow(dead_code)]
    org: Option<String>,
}

/// `GET /uploads`: the caller's own uploads and those of the analyses they may see, newest
/// first (at most 500).
#[utoipa::path(get, path = "/uploads", tag = "uploads", summary = "List uploads", description = "The caller's own uploads and those of the analyses they may see (every upload for admins), newest first, at most 500.", params(ListQuery), responses((status = 200, description = "Uploads", body = Vec<Upload>)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Vec<Upload>>, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let grants = Grants::of_caller(&mut tx, &ctx, None).await?;
    if !grants.may_view_any() {
        return Err(AppError::missing(Permission::ViewAnalyses));
    }
    let list = uploads::visible(&mut tx, &ctx.org.id, &grants, uploads::Which::Newest(500)).await?;
    tx.commit().await?;
    Ok(Json(list))
}

/// The limits that apply to the organisation's uploads, in bytes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LimitsView {
    /// Largest single file.
    max_file_bytes: u64,
    /// Bytes of uploads the organisation may keep.
    quota_bytes: u64,
    /// Bytes it keeps now.
    used_bytes: u64,
    /// The largest file the next upload may be, given both limits.
    room_bytes: u64,
}

/// `GET /uploads/limits`: the per-file limit and the quota, so a client can refuse an oversized
/// file before sending it.
#[utoipa::path(get, path = "/uploads/limits", tag = "uploads", summary = "Upload limits and quota use", params(ListQuery), responses((status = 200, description = "Limits in bytes", body = LimitsView)))]
pub async fn limits(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<LimitsView>, AppError> {
    ctx.require(Permission::ViewAnalyses)?;
    let mut tx = ctx.begin_read(&state.db).await?;
    let limits = uploads::limits(&mut tx, &ctx.org.id, &state.config.ingest, false).await?;
    tx.commit().await?;
    Ok(Json(LimitsView {
        max_file_bytes: limits.max_file,
        quota_bytes: limits.quota,
        used_bytes: limits.used,
        room_bytes: limits.room(),
    }))
}

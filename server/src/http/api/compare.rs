//! `/api/v1/compare`: several finished analyses (or the files of one) side by side.

use app::api::compare::{CompareQuery, Comparison, MAX_COMPARED};
use axum::Json;
use axum::extract::{Query, State};

use super::patterns::finished;
use crate::http::error::AppError;
use crate::ingest::compare::{self, Input};
use crate::state::AppState;
use crate::tenancy::context::OrgContext;

/// `GET /compare?ids=a,b,c`: patterns × analyses with counts, rates and changes.
#[utoipa::path(get, path = "/compare", tag = "analyses", summary = "Compare analyses, or the files of one",
    params(("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one"), CompareQuery),
    responses(
        (status = 200, description = "The matrix, its columns and the changes counted", body = Comparison),
        (status = 404, description = "One of the analyses is not in this organisation, or the caller may not see it", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "One of the analyses has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "No ids, or more than 10", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn compare(
    State(state): State<AppState>,
    ctx: OrgContext,
    query: Result<Query<CompareQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Comparison>, AppError> {
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let ids = query.id_list();
    if ids.is_empty() {
        return Err(AppError::field(
            "ids",
            "Pick at least one analysis to compare (two or more, or one of several files).",
        ));
    }
    if ids.len() > MAX_COMPARED {
        return Err(AppError::field(
            "ids",
            format!(
                "At most {MAX_COMPARED} analyses can be compared at once; {} were picked.",
                ids.len()
            ),
        ));
    }
    let mut loaded = Vec::with_capacity(ids.len());
    for id in &ids {
        loaded.push(finished(&state, &ctx, id).await?);
    }
    // Names are part of the key: a renamed analysis shows its new name. JSON keeps the parts
    // apart whatever the names hold.
    let parts: Vec<(&str, &str, i64)> = loaded
        .iter()
        .map(|(row, _)| (row.id.as_str(), row.name.as_str(), row.created_at_ms))
        .collect();
    let key = serde_json::to_string(&parts).map_err(|e| AppError::Internal(e.into()))?;
    let comparisons = &state.ingest.comparisons;
    let matrix = match comparisons.get(&key) {
        Some(matrix) => matrix,
        None => {
            let matrix = tokio::task::spawn_blocking(move || {
                let inputs: Vec<Input<'_>> = loaded
                    .iter()
                    .map(|(row, index)| Input {
                        analysis_id: &row.id,
                        name: &row.name,
                        created_at_ms: row.created_at_ms,
                        doc: &index.doc,
                    })
                    .collect();
                compare::build(&inputs)
            })
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
            let matrix = std::sync::Arc::new(matrix);
            comparisons.put(&key, matrix.clone());
            matrix
        }
    };
    let comparison = matrix.select(&query);
    Ok(Json(comparison))
}

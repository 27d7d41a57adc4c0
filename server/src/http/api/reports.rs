//! `GET /api/v1/analyses/{id}/report.{format}`: a finished analysis as a download (the PDF
//! report, the XLSX workbook, the result JSON, the patterns as CSV, or the Markdown report).
//! Every export is audited.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use app::pages::status::format_date;

use crate::audit;
use crate::http::error::AppError;
use crate::reports;
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::testgen;

/// The query of an export.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ExportQuery {
    /// `ai`: the report's executive summary is written by the organisation's model.
    #[serde(default)]
    summary: Option<String>,
}

/// `GET /analyses/{id}/report.{format}`.
#[utoipa::path(get, path = "/analyses/{id}/report.{format}", tag = "analyses", summary = "Export an analysis",
    params(("id" = String, Path, description = "Analysis id"), ("format" = String, Path, description = "`pdf` (the report, with charts), `xlsx` (Summary, Patterns, Findings, Tests and Timeline sheets), `json` (the result, docs/analysis-format.md), `csv` (every pattern) or `md` (the report as Markdown)"), ("summary" = Option<String>, Query, description = "`ai`: the PDF and Markdown reports' executive summary is written by the organisation's model (routed, cached and recorded as for `POST /analyses/{id}/ai/summary`); without a model answering, the engine's own summary stays"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "The file, as an attachment"),
        (status = 404, description = "No such analysis in this organisation, or no such format", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn export(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((id, format)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (content_type, extension) = match format.as_str() {
        "pdf" => ("application/pdf", "pdf"),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        "json" => ("application/json", "json"),
        "csv" => ("text/csv; charset=utf-8", "csv"),
        "md" => ("text/markdown; charset=utf-8", "md"),
        _ => {
            return Err(AppError::Missing(
                "Reports are report.pdf, report.xlsx, report.json, report.csv or report.md.".into(),
            ));
        }
    };
    let by_model = match query.summary.as_deref() {
        None | Some("" | "engine") => false,
        // A paid model call: not on a link followed from another site (a GET passes the CSRF
        // layer, and `SameSite=Lax` cookies go along with top-level navigation).
        Some("ai") if cross_site(&headers) => {
            return Err(AppError::Forbidden(
                "csrf",
                "A report with a model-written summary is asked for from Faultline's own pages or with an API token.".into(),
            ));
        }
        Some("ai") => true,
        Some(other) => {
            return Err(AppError::field(
                "summary",
                format!("summary is `ai` or `engine`, not {other:?}."),
            ));
        }
    };
    let (row, index) = super::patterns::finished(&state, &ctx, &id).await?;
    let summary = if by_model && matches!(extension, "pdf" | "md") {
        super::ai::model_summary(&state, &ctx, &index).await?
    } else {
        None
    };
    // The documents summarise the tests the caller's saved settings write.
    let request = if matches!(extension, "pdf" | "xlsx") {
        Some(super::testgen::saved_request(&state, &ctx).await?)
    } else {
        None
    };
    let summary_by = summary.as_ref().map(|s| s.by.clone());
    let body = match extension {
        "json" => {
            let key = row.result_key.clone().unwrap_or_default();
            state
                .ingest
                .storage
                .get(&key)
                .await
                .map_err(|e| AppError::Unavailable(e.into()))?
                .to_vec()
        }
        "csv" => reports::patterns_csv(&index).into_bytes(),
        "md" => reports::markdown_with(&row.name, &index.doc, summary.as_ref()).into_bytes(),
        binary => {
            // Laying out and compressing takes a while on a large result: off the async threads.
            let (name, binary) = (row.name.clone(), binary.to_owned());
            let generated = format_date(state.clock.now_ms());
            let request = request.unwrap_or_default();
            tokio::task::spawn_blocking(move || {
                let tests = testgen::generate(&index.doc, &request).map_err(|e| e.to_string())?;
                match binary.as_str() {
                    "pdf" => reports::pdf::pdf_with(
                        &name,
                        &index.doc,
                        &tests,
                        &generated,
                        summary.as_ref(),
                    ),
                    _ => reports::xlsx::xlsx(&name, &index.doc, &tests),
                }
            })
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?
        }
    };
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let detail = serde_json::json!({
        "format": extension,
        "name": row.name,
        "summary": summary_by,
    });
    audit::append(&mut tx, &ctx.event("analysis.exported", &id, detail), now).await?;
    tx.commit().await?;

    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let file = format!("{}.{extension}", file_stem(&row.name));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Whether a browser says the request came from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| !matches!(site, "same-origin" | "none"))
}

/// A file name from an analysis name: letters, digits, `-`, `_` and `.` kept, the rest `-`.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(80)
        .collect();
    let stem = stem.trim_matches(['-', '.']);
    if stem.is_empty() {
        "analysis".to_owned()
    } else {
        stem.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_names_are_plain() {
        assert_eq!(file_stem("api.log and 1 more"), "api.log-and-1-more");
        assert_eq!(file_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("\"; x=1"), "x-1");
        assert_eq!(file_stem("日本"), "analysis");
    }
}

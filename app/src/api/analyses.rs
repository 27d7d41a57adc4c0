//! Analyses as the pages show them: the list, one analysis with its live state and, once
//! done, the parts of its result the page displays. Uploading happens in the browser (it
//! streams files straight to `/api/v1/uploads`); everything else goes through these server
//! functions, which call the JSON API in-process.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::account::urlencode;
use super::error::ApiError;

/// How far an analysis has got.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProgressView {
    /// `queued`, `reading`, `mining`, `correlating`, `generating_tests`, `done`, `failed` or
    /// `cancelled`.
    pub stage: String,
    /// 0 to 100.
    pub percent: f64,
    /// Input bytes read in the current pass.
    #[serde(default)]
    pub bytes_read: u64,
    /// Input bytes in all.
    #[serde(default)]
    pub bytes_total: u64,
    /// Events read in the current pass.
    #[serde(default)]
    pub events: u64,
    /// Physical lines read in the current pass.
    #[serde(default)]
    pub lines: u64,
    /// Patterns found so far.
    #[serde(default)]
    pub patterns: u64,
}

/// The live state pushed by the server as the analysis runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// Analysis id.
    pub id: String,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub status: String,
    /// Progress.
    pub progress: ProgressView,
    /// Increases with every change.
    pub seq: i64,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
}

impl LiveState {
    /// Whether nothing more will happen.
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "done" | "failed" | "cancelled")
    }
}

/// Totals of a finished analysis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryView {
    /// Physical lines.
    pub lines: u64,
    /// Events.
    pub events: u64,
    /// Patterns.
    pub patterns: u64,
    /// Error patterns.
    pub error_patterns: u64,
    /// Error events.
    pub error_events: u64,
    /// Error families.
    pub families: u64,
    /// Critical patterns.
    pub critical_patterns: u64,
    /// First timestamp.
    #[serde(default)]
    pub first_seen: Option<String>,
    /// Last timestamp.
    #[serde(default)]
    pub last_seen: Option<String>,
    /// Seconds between them.
    #[serde(default)]
    pub span_seconds: Option<f64>,
    /// The tests written for its error patterns when it finished, with its author's settings.
    #[serde(default)]
    pub tests: Option<TestsSummary>,
}

/// The suite an analysis' author would see first on its tests page, in figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TestsSummary {
    /// The framework, as named in the API (`pytest`…).
    pub framework: String,
    /// Tests written.
    pub tests: u32,
    /// Files written.
    pub files: u32,
    /// Files that passed validation, of those checked.
    pub valid_files: u32,
    /// Files checked.
    pub checked_files: u32,
    /// Error patterns.
    pub error_patterns: u32,
    /// Error patterns with at least one test.
    pub covered: u32,
}

/// An analysis in a list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisItem {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: String,
    /// Progress.
    pub progress: ProgressView,
    /// Sequence number of the state.
    pub seq: i64,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// The files.
    pub upload_ids: Vec<String>,
    /// When it was asked for.
    pub created_at_ms: i64,
    /// When it ended.
    #[serde(default)]
    pub finished_at_ms: Option<i64>,
    /// Totals, once done.
    #[serde(default)]
    pub summary: Option<SummaryView>,
    /// Who sees it: `org`, `teams` or `private`.
    #[serde(default)]
    pub visibility: String,
    /// What the caller may do with it.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Who started it (user id).
    #[serde(default)]
    pub created_by: String,
    /// Its files' names.
    #[serde(default)]
    pub files: Vec<String>,
    /// The project it is filed under.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The worst severity among its patterns, once done.
    #[serde(default)]
    pub top_severity: Option<String>,
    /// The service its logs name most often.
    #[serde(default)]
    pub service: Option<String>,
    /// The model that enriched it; none for the built-in engine alone.
    #[serde(default)]
    pub model: Option<String>,
}

impl AnalysisItem {
    /// Its live state.
    pub fn live(&self) -> LiveState {
        LiveState {
            id: self.id.clone(),
            status: self.status.clone(),
            progress: self.progress.clone(),
            seq: self.seq,
            error: self.error.clone(),
        }
    }
}

/// One analysis and, once done, what the page shows of its result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisDetail {
    /// The analysis.
    pub item: AnalysisItem,
    /// Files, families and the timeline, once done.
    pub overview: Option<super::patterns::Overview>,
    /// The caller may cancel (create_analyses) and delete (delete_analyses).
    pub can_cancel: bool,
    /// See above.
    pub can_delete: bool,
    /// The organisation's display name.
    pub org_name: String,
    /// The organisation's projects, to file it under.
    #[serde(default)]
    pub projects: Vec<super::history::Project>,
    /// The caller may file it under a project (create_analyses on it).
    #[serde(default)]
    pub can_file: bool,
}

/// The limits on an organisation's uploads, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadLimits {
    /// Largest single file.
    pub max_file_bytes: u64,
    /// Bytes of uploads the organisation may keep.
    pub quota_bytes: u64,
    /// Bytes it keeps now.
    pub used_bytes: u64,
}

impl UploadLimits {
    /// Why files of these sizes cannot all be uploaded, in the server's words, if they cannot.
    pub fn refuse(&self, sizes: &[u64]) -> Option<(usize, String)> {
        use crate::format::binary_size;
        if let Some(i) = sizes.iter().position(|&s| s > self.max_file_bytes) {
            return Some((
                i,
                format!(
                    "The file is larger than this organisation's limit of {}.",
                    binary_size(self.max_file_bytes)
                ),
            ));
        }
        let mut total = self.used_bytes;
        for (i, &s) in sizes.iter().enumerate() {
            total = total.saturating_add(s);
            if total > self.quota_bytes {
                return Some((
                    i,
                    format!(
                        "This upload would go over the organisation's storage quota ({} of {} used). Delete old analyses or ask for a larger quota.",
                        binary_size(self.used_bytes),
                        binary_size(self.quota_bytes)
                    ),
                ));
            }
        }
        None
    }
}

/// One page of the history, as the API answers it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// The analyses on this page.
    pub items: Vec<AnalysisItem>,
    /// Analyses matching, on every page.
    pub total: u64,
    /// This page, from 1.
    pub page: usize,
    /// Pages in all.
    pub pages: usize,
    /// What the filters offer.
    pub facets: super::history::HistoryFacets,
}

/// The analyses page's data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysesList {
    /// The page of the history the query asks for.
    pub page: HistoryPage,
    /// The caller may upload and start analyses, and create projects.
    pub can_create: bool,
    /// The caller may delete projects.
    pub can_delete: bool,
    /// The organisation's upload limits.
    pub limits: UploadLimits,
}

/// A page of the organisation's analyses, as `query` asks.
#[server(prefix = "/rpc", endpoint = "analyses")]
pub async fn list_analyses(
    org: String,
    query: super::history::HistoryQuery,
) -> Result<AnalysesList, ApiError> {
    use crate::ssr::call;
    let org_view: super::orgs::OrgView = call(
        http::Method::GET,
        &format!("/orgs/{}", urlencode(&org)),
        None,
    )
    .await?;
    let qs = query.to_query_string();
    let sep = if qs.is_empty() { "?" } else { "&" };
    let page = call(
        http::Method::GET,
        &format!("/analyses{qs}{sep}org={}", urlencode(&org)),
        None,
    )
    .await?;
    let limits = call(
        http::Method::GET,
        &format!("/uploads/limits?org={}", urlencode(&org)),
        None,
    )
    .await?;
    Ok(AnalysesList {
        page,
        can_create: org_view.can("create_analyses"),
        can_delete: org_view.can("delete_analyses"),
        limits,
    })
}

/// One analysis, with the displayed parts of its result once done.
#[server(prefix = "/rpc", endpoint = "analysis")]
pub async fn load_analysis(org: String, id: String) -> Result<AnalysisDetail, ApiError> {
    use crate::ssr::call;
    let org_view: super::orgs::OrgView = call(
        http::Method::GET,
        &format!("/orgs/{}", urlencode(&org)),
        None,
    )
    .await?;
    let item: AnalysisItem = call(
        http::Method::GET,
        &format!(
            "/analyses/{}?result=false&org={}",
            urlencode(&id),
            urlencode(&org)
        ),
        None,
    )
    .await?;
    let overview = if item.status == "done" {
        Some(
            call(
                http::Method::GET,
                &format!(
                    "/analyses/{}/overview?org={}",
                    urlencode(&id),
                    urlencode(&org)
                ),
                None,
            )
            .await?,
        )
    } else {
        None
    };
    let projects = call(
        http::Method::GET,
        &format!("/projects?org={}", urlencode(&org)),
        None,
    )
    .await?;
    let may = |p: &str| item.permissions.iter().any(|x| x == p);
    Ok(AnalysisDetail {
        can_cancel: may("create_analyses"),
        can_delete: may("delete_analyses"),
        can_file: may("create_analyses"),
        org_name: org_view.name,
        projects,
        item,
        overview,
    })
}

/// Starts an analysis of uploads the browser sent; returns its id.
#[server(prefix = "/rpc", endpoint = "start_analysis")]
pub async fn start_analysis(
    org: String,
    upload_ids: Vec<String>,
    name: Option<String>,
    project: Option<String>,
) -> Result<String, ApiError> {
    use crate::ssr::call;
    let mut body = serde_json::json!({"upload_ids": upload_ids});
    if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
        body["name"] = name.into();
    }
    if let Some(project) = project.filter(|p| !p.is_empty()) {
        body["project_id"] = project.into();
    }
    let reply: serde_json::Value = call(
        http::Method::POST,
        &format!("/analyses?org={}", urlencode(&org)),
        Some(body),
    )
    .await?;
    Ok(reply["id"].as_str().unwrap_or_default().to_owned())
}

/// Cancels a queued or running analysis.
#[server(prefix = "/rpc", endpoint = "cancel_analysis")]
pub async fn cancel_analysis(org: String, id: String) -> Result<(), ApiError> {
    use crate::ssr::call;
    call::<serde_json::Value>(
        http::Method::POST,
        &format!(
            "/analyses/{}/cancel?org={}",
            urlencode(&id),
            urlencode(&org)
        ),
        None,
    )
    .await
    .map(drop)
}

/// Deletes an analysis.
#[server(prefix = "/rpc", endpoint = "delete_analysis")]
pub async fn delete_analysis(org: String, id: String) -> Result<(), ApiError> {
    use crate::ssr::call;
    call::<serde_json::Value>(
        http::Method::DELETE,
        &format!("/analyses/{}?org={}", urlencode(&id), urlencode(&org)),
        None,
    )
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::UploadLimits;

    #[test]
    fn limits_refuse_before_sending() {
        let limits = UploadLimits {
            max_file_bytes: 1000,
            quota_bytes: 2500,
            used_bytes: 500,
        };
        assert_eq!(limits.refuse(&[1000, 1000]), None);
        let (i, message) = limits.refuse(&[10, 1001]).expect("too large");
        assert_eq!(i, 1);
        assert_eq!(
            message,
            "The file is larger than this organisation's limit of 1000 bytes."
        );
        let (i, message) = limits.refuse(&[900, 900, 900]).expect("over quota");
        assert_eq!(i, 2);
        assert!(message.contains("(500 bytes of 2.4 KiB used)"), "{message}");
    }
}

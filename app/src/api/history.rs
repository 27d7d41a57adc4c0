//! The history of an organisation's analyses: search, filters, sorting and pages (all in the
//! URL, as on the pattern table), and the projects that group analyses by service.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::account::urlencode;
use super::error::ApiError;

/// Rows per page unless the API caller asks otherwise.
pub const PAGE_SIZE: usize = 25;
/// The most rows one page may hold.
pub const MAX_PAGE_SIZE: usize = 100;
/// What `model` is for analyses no model enriched.
pub const BUILT_IN: &str = "built-in";

/// The order of the history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HistorySort {
    /// Newest first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// By name, A to Z.
    Name,
    /// Most events first.
    Events,
}

impl HistorySort {
    /// Every order, as offered.
    pub const ALL: [Self; 4] = [Self::Newest, Self::Oldest, Self::Name, Self::Events];

    /// The name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::Name => "name",
            Self::Events => "events",
        }
    }

    /// What the sort menu says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Newest => "Newest first",
            Self::Oldest => "Oldest first",
            Self::Name => "Name",
            Self::Events => "Most events",
        }
    }

    /// From its URL name; unknown names sort newest first.
    pub fn parse(raw: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .unwrap_or_default()
    }
}

/// The date presets.
pub const PRESETS: [(&str, &str); 3] = [
    ("today", "Today"),
    ("week", "Last 7 days"),
    ("month", "Last 30 days"),
];

/// What the history shows, as in its URL. Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[serde(default)]
pub struct HistoryQuery {
    /// Words each shown analysis has in its name, a file name or a pattern's template
    /// (case-insensitive; every word must match).
    pub q: String,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub status: String,
    /// The worst severity among its patterns: `critical`, `high`, `medium` or `low`.
    pub severity: String,
    /// The model that enriched it, or `built-in` for the engine alone.
    pub model: String,
    /// The author's user id.
    pub author: String,
    /// A project id, or `none` for analyses in no project.
    pub project: String,
    /// A team id: analyses shared with the team or started by its members.
    pub team: String,
    /// `today` (since midnight UTC), `week` or `month` (the last 7 or 30 days).
    pub preset: String,
    /// From this day (`YYYY-MM-DD`, UTC), when no preset is given.
    pub since: String,
    /// To this day, inclusive.
    pub until: String,
    /// Order.
    pub sort: HistorySort,
    /// Page, from 1.
    pub page: usize,
    /// Rows per page (API callers; at most 100).
    pub per_page: usize,
}

impl HistoryQuery {
    /// Whether any filter or search is set (sorting and paging aside).
    pub fn is_filtered(&self) -> bool {
        [
            &self.q,
            &self.status,
            &self.severity,
            &self.model,
            &self.author,
            &self.project,
            &self.team,
            &self.preset,
            &self.since,
            &self.until,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }

    /// This query on page `page`.
    pub fn on_page(&self, page: usize) -> Self {
        Self {
            page,
            ..self.clone()
        }
    }

    /// The query string (without defaults), for links.
    pub fn to_query_string(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut add = |k: &str, v: &str| {
            if !v.is_empty() {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        };
        add("q", &self.q);
        add("status", &self.status);
        add("severity", &self.severity);
        add("model", &self.model);
        add("author", &self.author);
        add("project", &self.project);
        add("team", &self.team);
        add("preset", &self.preset);
        add("since", &self.since);
        add("until", &self.until);
        if self.sort != HistorySort::Newest {
            add("sort", self.sort.as_str());
        }
        if self.page > 1 {
            add("page", &self.page.to_string());
        }
        if self.per_page > 0 && self.per_page != PAGE_SIZE {
            add("per_page", &self.per_page.to_string());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// Reads the query from URL parameters.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |k: &str| get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        Self {
            q: text("q"),
            status: text("status"),
            severity: text("severity"),
            model: text("model"),
            author: text("author"),
            project: text("project"),
            team: text("team"),
            preset: text("preset"),
            since: text("since"),
            until: text("until"),
            sort: HistorySort::parse(&text("sort")),
            page: get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1),
            per_page: get("per_page").and_then(|p| p.parse().ok()).unwrap_or(0),
        }
    }

    /// The rows per page this query asks for.
    pub fn page_size(&self) -> usize {
        match self.per_page {
            0 => PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        }
    }

    /// The creation times this query keeps, `[since, until)` in Unix milliseconds, at
    /// `now_ms`; the message says what is wrong with the dates.
    pub fn range_ms(&self, now_ms: i64) -> Result<(Option<i64>, Option<i64>), String> {
        const DAY: i64 = 86_400_000;
        match self.preset.as_str() {
            "" => {}
            "today" => return Ok((Some(now_ms - now_ms.rem_euclid(DAY)), None)),
            "week" => return Ok((Some(now_ms - 7 * DAY), None)),
            "month" => return Ok((Some(now_ms - 30 * DAY), None)),
            other => {
                return Err(format!(
                    "There is no date preset {other:?}; use today, week or month."
                ));
            }
        }
        let day = |raw: &str, field: &str| -> Result<Option<i64>, String> {
            if raw.is_empty() {
                return Ok(None);
            }
            parse_day(raw)
                .map(|d| Some(d * DAY))
                .ok_or_else(|| format!("Write the {field} date as YYYY-MM-DD, not {raw:?}."))
        };
        let since = day(&self.since, "from")?;
        let until = day(&self.until, "to")?.map(|d| d + DAY);
        if let (Some(s), Some(u)) = (since, until)
            && s >= u
        {
            return Err("The from date comes after the to date.".into());
        }
        Ok((since, until))
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date that exists.
fn parse_day(raw: &str) -> Option<i64> {
    let mut parts = raw.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let days = crate::time::days_from_civil(y, m, d);
    // A day past the month's end (2026-02-30) comes back as another date.
    (crate::time::civil_from_days(days) == (y, m, d)).then_some(days)
}

/// A project: analyses of one service, grouped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Project {
    /// Id.
    pub id: String,
    /// Name; an analysis whose logs name this service joins the project when it finishes.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Analyses in it.
    pub analyses: u64,
    /// When it was created.
    pub created_at_ms: i64,
}

/// Someone who started analyses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Author {
    /// User id.
    pub id: String,
    /// Display name or email.
    pub name: String,
}

/// A team to scope the history to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamRef {
    /// Team id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// The values the history's filters offer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryFacets {
    /// People who started analyses, by name.
    pub authors: Vec<Author>,
    /// The organisation's projects, by name.
    pub projects: Vec<Project>,
    /// The organisation's teams, by name.
    pub teams: Vec<TeamRef>,
    /// Models used, `built-in` first.
    pub models: Vec<String>,
}

/// The organisation's projects.
#[server(prefix = "/rpc", endpoint = "projects")]
pub async fn list_projects(org: String) -> Result<Vec<Project>, ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!("/projects?org={}", urlencode(&org)),
        None,
    )
    .await
}

/// Creates a project.
#[server(prefix = "/rpc", endpoint = "project_create")]
pub async fn create_project(
    org: String,
    name: String,
    description: String,
) -> Result<Project, ApiError> {
    crate::ssr::call(
        http::Method::POST,
        &format!("/projects?org={}", urlencode(&org)),
        Some(serde_json::json!({ "name": name, "description": description })),
    )
    .await
}

/// Deletes a project; its analyses stay, in no project.
#[server(prefix = "/rpc", endpoint = "project_delete")]
pub async fn delete_project(org: String, id: String) -> Result<(), ApiError> {
    crate::ssr::call::<serde_json::Value>(
        http::Method::DELETE,
        &format!("/projects/{}?org={}", urlencode(&id), urlencode(&org)),
        None,
    )
    .await
    .map(drop)
}

/// Files analysis `id` under project `project` (empty: under none).
#[server(prefix = "/rpc", endpoint = "analysis_project")]
pub async fn set_analysis_project(
    org: String,
    id: String,
    project: String,
) -> Result<(), ApiError> {
    let project = (!project.is_empty()).then_some(project);
    crate::ssr::call::<serde_json::Value>(
        http::Method::PUT,
        &format!(
            "/analyses/{}/project?org={}",
            urlencode(&id),
            urlencode(&org)
        ),
        Some(serde_json::json!({ "project_id": project })),
    )
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn the_query_string_round_trips_without_defaults() {
        let q = HistoryQuery {
            q: "payment timeout".into(),
            status: "done".into(),
            sort: HistorySort::Events,
            page: 3,
            ..HistoryQuery::default()
        };
        let s = q.to_query_string();
        assert_eq!(s, "?q=payment%20timeout&status=done&sort=events&page=3");
        let params: Vec<(String, String)> = s[1..]
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("k=v");
                (k.to_owned(), v.replace("%20", " "))
            })
            .collect();
        let back = HistoryQuery::from_params(|k| {
            params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        });
        assert_eq!(back, q);
        assert_eq!(HistoryQuery::default().to_query_string(), "");
        assert!(!HistoryQuery::default().is_filtered());
        assert!(q.is_filtered());
    }

    #[test]
    fn presets_and_days_become_ranges() {
        let now = 20_000 * DAY + 5 * 3_600_000; // 05:00 UTC
        let preset = |p: &str| {
            HistoryQuery {
                preset: p.into(),
                ..HistoryQuery::default()
            }
            .range_ms(now)
        };
        assert_eq!(preset("today"), Ok((Some(20_000 * DAY), None)));
        assert_eq!(preset("week"), Ok((Some(now - 7 * DAY), None)));
        assert_eq!(preset("month"), Ok((Some(now - 30 * DAY), None)));
        assert!(preset("year").is_err());

        let days = |since: &str, until: &str| {
            HistoryQuery {
                since: since.into(),
                until: until.into(),
                ..HistoryQuery::default()
            }
            .range_ms(now)
        };
        let d = crate::time::days_from_civil(2026, 12, 1) * DAY;
        assert_eq!(
            days("2026-12-01", "2026-12-01"),
            Ok((Some(d), Some(d + DAY)))
        );
        assert_eq!(days("", "2026-12-01"), Ok((None, Some(d + DAY))));
        assert!(days("2026-02-30", "").is_err(), "no such day");
        assert!(days("1 Dec 2026", "").is_err());
        assert!(days("2026-12-02", "2026-12-01").is_err(), "reversed");
    }
}

//! Batch comparison: several finished analyses side by side (or the files of one), as a matrix
//! of patterns × columns with counts, rates and how each pattern changed from the first column
//! to the last, and the error trend across them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::account::urlencode;
use super::error::ApiError;

/// The most analyses one comparison takes.
pub const MAX_COMPARED: usize = 10;
/// Rows shown unless asked otherwise.
pub const ROWS: usize = 100;
/// The most rows one answer holds.
pub const MAX_ROWS: usize = 1000;
/// A rate at least this many times the first column's counts as risen (and its inverse as
/// fallen).
pub const CHANGE_FACTOR: f64 = 1.5;

/// The order of the matrix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CompareSort {
    /// The largest change first: new patterns, then by how far the rate moved, then gone
    /// ones; steady ones last.
    #[default]
    Change,
    /// Most events in all columns first.
    Count,
    /// Worst severity first.
    Severity,
    /// Template text.
    Template,
}

impl CompareSort {
    /// Every order, as offered.
    pub const ALL: [Self; 4] = [Self::Change, Self::Count, Self::Severity, Self::Template];

    /// The name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Change => "change",
            Self::Count => "count",
            Self::Severity => "severity",
            Self::Template => "template",
        }
    }

    /// What the sort menu says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Change => "Largest change",
            Self::Count => "Most events",
            Self::Severity => "Worst severity",
            Self::Template => "Template",
        }
    }

    /// From its URL name; unknown names sort by change.
    pub fn parse(raw: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .unwrap_or_default()
    }
}

/// What to compare and how to show it, as in the page's URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[serde(default)]
pub struct CompareQuery {
    /// Analysis ids, comma-separated, 1 to 10. One analysis of several files compares its
    /// files.
    pub ids: String,
    /// Keep patterns whose template contains every word (case-insensitive).
    pub q: String,
    /// Keep only patterns that are new, gone, risen or fallen.
    pub changed: bool,
    /// Order of the rows.
    #[cfg_attr(feature = "ssr", param(value_type = Option<CompareSort>))]
    pub sort: CompareSort,
    /// Rows to return (default 100, at most 1000).
    pub limit: Option<usize>,
}

impl CompareQuery {
    /// The analysis ids, in the order given, without blanks or repeats.
    pub fn id_list(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for id in self.ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_owned());
            }
        }
        ids
    }

    /// Rows asked for, defaulted and capped.
    pub fn rows(&self) -> usize {
        self.limit.unwrap_or(ROWS).clamp(1, MAX_ROWS)
    }

    /// `?ids=…&…`, leaving defaults out.
    pub fn to_query_string(&self) -> String {
        let mut parts = vec![format!("ids={}", urlencode(&self.ids))];
        if !self.q.is_empty() {
            parts.push(format!("q={}", urlencode(&self.q)));
        }
        if self.changed {
            parts.push("changed=true".into());
        }
        if self.sort != CompareSort::Change {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if let Some(limit) = self.limit {
            parts.push(format!("limit={limit}"));
        }
        format!("?{}", parts.join("&"))
    }

    /// From URL parameters; `get_all` gives every value of a key (`ids` may repeat, as a
    /// form of checkboxes sends it).
    pub fn from_params(
        get: impl Fn(&str) -> Option<String>,
        get_all: impl Fn(&str) -> Vec<String>,
    ) -> Self {
        Self {
            ids: get_all("ids").join(","),
            q: get("q").unwrap_or_default(),
            changed: get("changed").is_some_and(|v| v == "true" || v == "on"),
            sort: CompareSort::parse(&get("sort").unwrap_or_default()),
            limit: get("limit").and_then(|l| l.parse().ok()),
        }
    }
}

/// How a pattern moved from the first column to the last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Absent from the first column, present in the last.
    New,
    /// Present in the first column, absent from the last.
    Gone,
    /// Its rate rose at least 1.5 times.
    Up,
    /// Its rate fell to 1/1.5 or less.
    Down,
    /// Within those bounds (or absent from both ends).
    #[default]
    Steady,
}

impl Change {
    /// What the badge says.
    pub fn label(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Gone => "gone",
            Self::Up => "rising",
            Self::Down => "falling",
            Self::Steady => "steady",
        }
    }

    /// Whether it is worth showing when only changes are asked for.
    pub fn is_change(self) -> bool {
        self != Self::Steady
    }
}

/// One column of the matrix: an analysis, or one file of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CompareColumn {
    /// The analysis.
    pub analysis_id: String,
    /// The analysis' name, or the file's.
    pub name: String,
    /// The file, when columns are files.
    pub file: Option<String>,
    /// When the analysis was started.
    pub created_at_ms: i64,
    /// The earliest timestamp in its logs.
    pub first_seen: Option<String>,
    /// Events in it.
    pub events: u64,
    /// Events per severity: critical, high, medium, low, info.
    pub severity_events: Vec<u64>,
}

/// One pattern across the columns, matched by its template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CompareRow {
    /// The template.
    pub template: String,
    /// Its worst severity in any column.
    pub severity: String,
    /// Its category.
    pub category: String,
    /// Events in each column.
    pub counts: Vec<u64>,
    /// Events per 1,000 of the column's events, 3 decimals.
    pub rates: Vec<f64>,
    /// Its id in each column's analysis, where it appears.
    pub pattern_ids: Vec<Option<String>>,
    /// First column to last.
    pub change: Change,
    /// The last rate over the first, when both are non-zero.
    pub ratio: Option<f64>,
}

/// The comparison.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Comparison {
    /// The columns, oldest logs first (or the files in order).
    pub columns: Vec<CompareColumn>,
    /// True when the columns are the files of one analysis.
    pub by_file: bool,
    /// The rows kept, in the order asked.
    pub rows: Vec<CompareRow>,
    /// Rows the filters keep, before the limit.
    pub matched: usize,
    /// Distinct patterns in all columns.
    pub total: usize,
    /// Rows per change kind over all patterns: new, gone, rising, falling, steady.
    pub changes: Vec<(Change, usize)>,
}

/// Compares analyses.
#[server(prefix = "/rpc", endpoint = "compare")]
pub async fn load_comparison(org: String, query: CompareQuery) -> Result<Comparison, ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!(
            "/compare{}&org={}",
            query.to_query_string(),
            urlencode(&org)
        ),
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_round_trip_through_their_urls() {
        let q = CompareQuery {
            ids: "a1,b2".into(),
            q: "timed out".into(),
            changed: true,
            sort: CompareSort::Count,
            limit: Some(500),
        };
        let s = q.to_query_string();
        assert_eq!(
            s,
            "?ids=a1%2Cb2&q=timed%20out&changed=true&sort=count&limit=500"
        );
        let params: Vec<(String, String)> = s[1..]
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("k=v");
                (k.to_owned(), v.replace("%20", " ").replace("%2C", ","))
            })
            .collect();
        let back = CompareQuery::from_params(
            |k| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
            |k| {
                params
                    .iter()
                    .filter(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .collect()
            },
        );
        assert_eq!(back, q);
    }

    #[test]
    fn ids_from_checkboxes_are_joined_and_deduplicated() {
        let q = CompareQuery::from_params(
            |_| None,
            |k| {
                if k == "ids" {
                    vec!["a".into(), "b, a".into(), " ".into(), "c".into()]
                } else {
                    Vec::new()
                }
            },
        );
        assert_eq!(q.id_list(), ["a", "b", "c"]);
        assert_eq!(q.rows(), ROWS);
        let many = CompareQuery {
            limit: Some(1_000_000),
            ..q
        };
        assert_eq!(many.rows(), MAX_ROWS);
    }
}

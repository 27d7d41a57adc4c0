//! The pattern table and a pattern's detail: the stored result's shape as far as the workspace
//! reads it (`docs/analysis-format.md`), the table's query, and what the API answers. The
//! server filters, sorts and pages; the pages only show.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::account::urlencode;
use super::error::ApiError;

/// Rows per page of the pattern table.
pub const PER_PAGE: usize = 50;

/// A pattern as stored in the result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PatternDoc {
    /// `p1`, `p2`, … by decreasing count.
    pub id: String,
    /// The template, variables written `<*>`.
    pub template: String,
    /// Events.
    pub count: u64,
    /// Share of all events.
    pub share: f64,
    /// The most common level.
    pub level: Option<String>,
    /// Events per level.
    pub levels: BTreeMap<String, u64>,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: String,
    /// The rule that chose the severity.
    pub severity_rule: String,
    /// Category.
    pub category: String,
    /// Whether its events are error signals.
    pub is_error: bool,
    /// First timestamp.
    pub first_seen: Option<String>,
    /// Last timestamp.
    pub last_seen: Option<String>,
    /// Events per file.
    pub files: Vec<FileCountDoc>,
    /// Example events.
    pub samples: Vec<SampleDoc>,
    /// One per `<*>`, in order.
    pub variables: Vec<VariableDoc>,
    /// Risk with its factors.
    pub risk: RiskDoc,
    /// Its error family.
    pub family: Option<String>,
}

/// A pattern's events in one file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct FileCountDoc {
    /// File name.
    pub file: String,
    /// Events there.
    pub count: u64,
    /// Their share of the file's events.
    pub share: f64,
}

/// An example event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SampleDoc {
    /// File name.
    pub file: String,
    /// First line.
    pub line: u64,
    /// Last line.
    pub end_line: u64,
    /// The message.
    pub text: String,
    /// Its stack trace.
    pub stack: Option<String>,
}

/// Lines shown on each side of a sample event unless asked otherwise.
pub const CONTEXT_LINES: u32 = 5;
/// Most lines on each side a caller may ask for.
pub const MAX_CONTEXT_LINES: u32 = 50;

/// How much surrounding text to read around a sample event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[serde(default)]
pub struct ContextQuery {
    /// Lines before and after the event (default 5, at most 50).
    pub around: Option<u32>,
}

impl ContextQuery {
    /// Lines on each side, defaulted and capped.
    pub fn lines(&self) -> u32 {
        self.around.unwrap_or(CONTEXT_LINES).min(MAX_CONTEXT_LINES)
    }
}

/// A sample event with the lines around it, read back from its file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SampleContext {
    /// File name.
    pub file: String,
    /// The event's first line.
    pub line: u64,
    /// The event's last line.
    pub end_line: u64,
    /// The lines, in order.
    pub lines: Vec<ContextLine>,
    /// True when the event is longer than the lines shown.
    pub cut: bool,
}

/// One line of a [`SampleContext`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ContextLine {
    /// 1-based line number in the (decompressed) file.
    pub number: u64,
    /// The text; invalid UTF-8 replaced.
    pub text: String,
    /// True for the event's own lines.
    pub event: bool,
    /// True when the line was longer than shown.
    pub truncated: bool,
}

/// What one variable held.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct VariableDoc {
    /// Distinct values.
    pub cardinality: u64,
    /// False when `cardinality` is an estimate.
    pub cardinality_exact: bool,
    /// The most frequent values.
    pub top: Vec<ValueCountDoc>,
}

/// A value and how often it was seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ValueCountDoc {
    /// The value.
    pub value: String,
    /// Events with it.
    pub count: u64,
}

/// The risk score and its weighted parts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RiskDoc {
    /// 0 to 1.
    pub score: f64,
    /// Severity part.
    pub severity: f64,
    /// Frequency part.
    pub frequency: f64,
    /// Business-impact part.
    pub impact: f64,
    /// Recency part.
    pub recency: f64,
    /// `auth_payment`, `api`, `internal` or `logging`.
    pub impact_class: String,
}

/// An error family.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct FamilyDoc {
    /// `f1`, …
    pub id: String,
    /// `exception` or `message`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Exception type.
    pub exception: Option<String>,
    /// In-app frames.
    pub frames: Vec<String>,
    /// Member pattern ids.
    pub patterns: Vec<String>,
    /// Events.
    pub count: u64,
    /// Highest member severity.
    pub severity: String,
    /// Category.
    pub category: String,
}

/// A root-cause chain.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ChainDoc {
    /// `c1`, …
    pub id: String,
    /// The likely root cause.
    pub root: String,
    /// Pattern ids in order.
    pub patterns: Vec<String>,
    /// The links between them.
    pub links: Vec<LinkDoc>,
    /// The weakest link's confidence.
    pub confidence: f64,
    /// The window a cause precedes its effect within.
    pub window_ms: i64,
}

/// One cause → effect link.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct LinkDoc {
    /// Cause.
    pub from: String,
    /// Effect.
    pub to: String,
    /// Effect events with a cause event before them.
    pub support: u64,
    /// Share of effect events preceded by the cause.
    pub probability: f64,
    /// Probability over chance.
    pub lift: f64,
    /// Median lag.
    pub lag_ms: i64,
    /// Confidence.
    pub confidence: f64,
}

/// Counts over time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct TimelineDoc {
    /// Bucket size; `None` without timestamps.
    pub bucket_seconds: Option<i64>,
    /// The buckets.
    pub buckets: Vec<BucketDoc>,
    /// Per pattern: `[bucket index, count]` for non-empty buckets.
    pub series: Vec<SeriesDoc>,
    /// Buckets where a pattern rose far above its usual count.
    pub spikes: Vec<SpikeDoc>,
}

/// A pattern's spike in one bucket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SpikeDoc {
    /// Pattern id.
    pub pattern: String,
    /// Bucket start.
    pub start: String,
    /// Events in the bucket.
    pub count: u64,
    /// Its usual count per bucket.
    pub baseline: f64,
}

/// Repository, commit, service and the like, found in the logs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ContextDoc {
    /// What it is (`commit`, `branch`, `service`, …).
    pub kind: String,
    /// The value.
    pub value: String,
    /// Events naming it.
    pub count: u64,
    /// What it was read from.
    pub evidence: String,
    /// First file naming it.
    pub file: String,
    /// And its line.
    pub line: u64,
}

/// One time bucket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BucketDoc {
    /// Its start.
    pub start: String,
    /// Events.
    pub total: u64,
    /// Error events.
    pub errors: u64,
    /// Warning events.
    pub warnings: u64,
}

/// One pattern's counts over time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SeriesDoc {
    /// Pattern id.
    pub pattern: String,
    /// `[bucket index, count]`.
    pub counts: Vec<(usize, u64)>,
}

/// An input file of the analysis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct FileDoc {
    /// Name.
    pub name: String,
    /// Detected format.
    pub format: String,
    /// Lines.
    pub lines: u64,
    /// Events.
    pub events: u64,
}

/// An HTTP endpoint seen in the logs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct EndpointDoc {
    /// Method.
    pub method: String,
    /// Route, ids collapsed to `{id}`.
    pub path: String,
    /// Requests.
    pub count: u64,
    /// `[status, requests]`.
    pub statuses: Vec<(u16, u64)>,
    /// Share of 5xx.
    pub error_rate: f64,
    /// Share of 4xx.
    pub client_error_rate: f64,
}

/// Durations of an endpoint (`endpoint`) or a pattern (`pattern`, `template`), in ms.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct LatencyDoc {
    /// `METHOD /route`, for an endpoint.
    pub endpoint: String,
    /// Pattern id, for a pattern.
    pub pattern: String,
    /// Its template, for a pattern.
    pub template: String,
    /// Timed events.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

/// Durations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PerformanceDoc {
    /// Per endpoint.
    pub endpoints: Vec<LatencyDoc>,
    /// Patterns over the slow threshold.
    pub slow_operations: Vec<LatencyDoc>,
}

/// A security finding.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct FindingDoc {
    /// `sql_injection`, `brute_force`, `secret`, …
    pub kind: String,
    /// How serious.
    pub severity: String,
    /// In words.
    pub description: String,
    /// Events involved.
    pub count: u64,
    /// First seen.
    pub first_seen: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
    /// `[source, events]`: client addresses or accounts.
    pub sources: Vec<(String, u64)>,
    /// `[line, text]`, redacted.
    pub samples: Vec<(u64, String)>,
}

/// A pattern that is new, gone or changed against the previous analysis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ChangeDoc {
    /// Pattern id in this analysis (none for a gone one).
    pub pattern: Option<String>,
    /// Template.
    pub template: String,
    /// Events now (or before, for a gone one).
    pub count: u64,
    /// Rate before.
    pub previous_rate: f64,
    /// Rate now.
    pub rate: f64,
    /// `rate / previous_rate`.
    pub ratio: f64,
}

/// The comparison with the previous analysis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ComparisonDoc {
    /// What rates are counted in.
    pub rate_unit: String,
    /// Patterns only this analysis has.
    pub new: Vec<ChangeDoc>,
    /// Patterns only the previous one had.
    pub gone: Vec<ChangeDoc>,
    /// Patterns whose rate changed.
    pub changed: Vec<ChangeDoc>,
}

/// The parts of a stored result the workspace and the reports read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResultDoc {
    /// Totals.
    pub summary: super::analyses::SummaryView,
    /// Input files.
    pub files: Vec<FileDoc>,
    /// Every pattern, most frequent first.
    pub patterns: Vec<PatternDoc>,
    /// Error families.
    pub families: Vec<FamilyDoc>,
    /// Root-cause chains.
    pub chains: Vec<ChainDoc>,
    /// Counts over time.
    pub timeline: TimelineDoc,
    /// HTTP endpoints.
    pub endpoints: Vec<EndpointDoc>,
    /// Durations.
    pub performance: PerformanceDoc,
    /// Security findings, most severe first.
    pub security: Vec<FindingDoc>,
    /// Against the previous analysis, when one was named.
    pub comparison: Option<ComparisonDoc>,
    /// Repository, commit, service and the like.
    pub context: Vec<ContextDoc>,
}

/// Columns the pattern table sorts by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Events (the default).
    #[default]
    Count,
    /// Risk score.
    Risk,
    /// Severity, then count.
    Severity,
    /// Template text.
    Template,
    /// Category name.
    Category,
    /// Level.
    Level,
    /// Last seen.
    LastSeen,
}

impl SortKey {
    /// Every key, as offered.
    pub const ALL: [Self; 7] = [
        Self::Count,
        Self::Risk,
        Self::Severity,
        Self::Template,
        Self::Category,
        Self::Level,
        Self::LastSeen,
    ];

    /// The name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Risk => "risk",
            Self::Severity => "severity",
            Self::Template => "template",
            Self::Category => "category",
            Self::Level => "level",
            Self::LastSeen => "last_seen",
        }
    }

    /// From its URL name; unknown names sort by count.
    pub fn parse(raw: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .unwrap_or_default()
    }

    /// Whether it sorts largest first unless told otherwise.
    pub fn descends_by_default(self) -> bool {
        matches!(
            self,
            Self::Count | Self::Risk | Self::Severity | Self::Level | Self::LastSeen
        )
    }
}

/// What the pattern table shows: filters, sort and page, as in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[serde(default)]
pub struct PatternQuery {
    /// Words every shown template contains (case-insensitive), or a pattern id.
    pub q: String,
    /// Only this severity (empty: any).
    pub severity: String,
    /// Only this category.
    pub category: String,
    /// Only this level (`none` for patterns without one).
    pub level: String,
    /// Sort column.
    pub sort: SortKey,
    /// Smallest first instead of the column's default.
    pub asc: Option<bool>,
    /// Page, from 1.
    pub page: usize,
}

impl PatternQuery {
    /// Whether rows run smallest first.
    pub fn ascending(&self) -> bool {
        self.asc.unwrap_or(!self.sort.descends_by_default())
    }

    /// The query string for this query (without defaults), for links.
    pub fn to_query_string(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut add = |k: &str, v: &str| {
            if !v.is_empty() {
                parts.push(format!("{k}={}", super::account::urlencode(v)));
            }
        };
        add("q", &self.q);
        add("severity", &self.severity);
        add("category", &self.category);
        add("level", &self.level);
        if self.sort != SortKey::Count {
            add("sort", self.sort.as_str());
        }
        if let Some(asc) = self.asc {
            add("asc", if asc { "true" } else { "false" });
        }
        if self.page > 1 {
            add("page", &self.page.to_string());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// Reads the query from URL parameters.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            q: get("q").unwrap_or_default(),
            severity: get("severity").unwrap_or_default(),
            category: get("category").unwrap_or_default(),
            level: get("level").unwrap_or_default(),
            sort: SortKey::parse(&get("sort").unwrap_or_default()),
            asc: get("asc").and_then(|v| match v.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }),
            page: get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1),
        }
    }
}

/// A row of the pattern table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PatternItem {
    /// Id.
    pub id: String,
    /// Template.
    pub template: String,
    /// Events.
    pub count: u64,
    /// Share of all events.
    pub share: f64,
    /// Level.
    pub level: Option<String>,
    /// Severity.
    pub severity: String,
    /// Category.
    pub category: String,
    /// Risk score.
    pub risk: f64,
    /// Last seen.
    pub last_seen: Option<String>,
    /// Events per timeline bucket, every bucket (empty without timestamps).
    pub spark: Vec<u64>,
    /// Whether it counts as an error (WARN or above, or error signals).
    #[serde(default)]
    pub is_error: bool,
}

/// How many patterns have each value of a column, over the whole analysis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Facets {
    /// Per severity, most severe first.
    pub severity: Vec<(String, u64)>,
    /// Per category, most patterns first.
    pub category: Vec<(String, u64)>,
    /// Per level, most severe first (`none` last).
    pub level: Vec<(String, u64)>,
}

/// One page of the pattern table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PatternPage {
    /// Patterns in the analysis.
    pub total: u64,
    /// Patterns the filters keep.
    pub matched: u64,
    /// This page, from 1.
    pub page: usize,
    /// Pages in all (at least 1).
    pub pages: usize,
    /// The rows.
    pub items: Vec<PatternItem>,
    /// Values to filter by.
    pub facets: Facets,
}

/// One step of a chain as the detail shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChainStep {
    /// Pattern id.
    pub pattern: String,
    /// Its template.
    pub template: String,
    /// Its severity.
    #[serde(default)]
    pub severity: String,
    /// The link from the step before (none for the root).
    pub link: Option<LinkDoc>,
}

/// A chain that a pattern is part of.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChainView {
    /// Id.
    pub id: String,
    /// Weakest link's confidence.
    pub confidence: f64,
    /// Window.
    pub window_ms: i64,
    /// The steps, root first.
    pub steps: Vec<ChainStep>,
}

/// Everything the pattern detail page shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PatternDetail {
    /// The pattern.
    pub pattern: PatternDoc,
    /// Events in the analysis.
    pub events: u64,
    /// Patterns in the analysis.
    pub patterns: u64,
    /// Bucket size of `timeline`.
    pub bucket_seconds: Option<i64>,
    /// `(bucket start, events of this pattern)` for every bucket.
    pub timeline: Vec<(String, u64)>,
    /// Its error family.
    pub family: Option<FamilyDoc>,
    /// Chains it is part of, strongest first.
    pub chains: Vec<ChainView>,
}

/// What the analysis page shows around the pattern table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Overview {
    /// Input files.
    pub files: Vec<FileDoc>,
    /// The largest error families (at most 20).
    pub families: Vec<FamilyDoc>,
    /// Families in all.
    pub family_count: u64,
    /// Bucket size of `buckets`.
    pub bucket_seconds: Option<i64>,
    /// Events over time.
    pub buckets: Vec<BucketDoc>,
    /// Endpoints, most requests first (at most 50).
    pub endpoints: Vec<EndpointDoc>,
    /// Latency per endpoint (at most 12, most requests first).
    pub latency: Vec<LatencyDoc>,
    /// Slow operations.
    pub slow_operations: Vec<LatencyDoc>,
    /// Security findings (at most 20).
    pub security: Vec<FindingDoc>,
    /// Against the previous analysis.
    pub comparison: Option<ComparisonDoc>,
    /// The most confident root-cause chains (at most 12).
    #[serde(default)]
    pub chains: Vec<ChainView>,
    /// Chains in all.
    #[serde(default)]
    pub chain_count: u64,
    /// Events of error patterns per category, largest first (at most 10, the rest summed as
    /// `other`).
    pub errors_by_category: Vec<CategoryMix>,
    /// Events per severity (critical, high, medium, low, info) in each bucket of `buckets`.
    pub severity_by_bucket: Vec<Vec<u64>>,
}

/// Events of one category, per severity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CategoryMix {
    /// The category.
    pub category: String,
    /// Events per severity: critical, high, medium, low, info.
    pub counts: Vec<u64>,
}

/// A page of an analysis' patterns.
#[server(prefix = "/rpc", endpoint = "patterns")]
pub async fn load_patterns(
    org: String,
    id: String,
    query: PatternQuery,
) -> Result<PatternPage, ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!(
            "/analyses/{}/patterns{}",
            urlencode(&id),
            with_org(&query.to_query_string(), &org)
        ),
        None,
    )
    .await
}

/// One pattern of an analysis, in detail.
#[server(prefix = "/rpc", endpoint = "pattern")]
pub async fn load_pattern(
    org: String,
    id: String,
    pattern: String,
) -> Result<PatternDetail, ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!(
            "/analyses/{}/patterns/{}?org={}",
            urlencode(&id),
            urlencode(&pattern),
            urlencode(&org)
        ),
        None,
    )
    .await
}

/// Sample `sample` (0-based) of a pattern, with the lines around it.
#[server(prefix = "/rpc", endpoint = "sample_context")]
pub async fn load_sample_context(
    org: String,
    id: String,
    pattern: String,
    sample: usize,
) -> Result<SampleContext, ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!(
            "/analyses/{}/patterns/{}/samples/{sample}/context?org={}",
            urlencode(&id),
            urlencode(&pattern),
            urlencode(&org)
        ),
        None,
    )
    .await
}

/// `query` (`?a=b` or empty) with `org=` added.
#[cfg(feature = "ssr")]
fn with_org(query: &str, org: &str) -> String {
    let sep = if query.is_empty() { '?' } else { '&' };
    format!("{query}{sep}org={}", urlencode(org))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_round_trip_through_their_urls() {
        let query = PatternQuery {
            q: "connection refused".into(),
            severity: "high".into(),
            sort: SortKey::Risk,
            asc: Some(true),
            page: 3,
            ..PatternQuery::default()
        };
        let url = query.to_query_string();
        assert_eq!(
            url,
            "?q=connection%20refused&severity=high&sort=risk&asc=true&page=3"
        );
        let pairs: Vec<(String, String)> = url[1..]
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.replace("%20", " ")))
            .collect();
        let back = PatternQuery::from_params(|k| {
            pairs
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
        });
        assert_eq!(back, query);
        assert_eq!(PatternQuery::default().to_query_string(), "");
        assert!(
            !PatternQuery::default().ascending(),
            "count sorts largest first"
        );
    }
}

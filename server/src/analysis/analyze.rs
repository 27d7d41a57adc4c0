//! `analyze`: one structured analysis of one or more log files, used by the web app, the test
//! generator, reports and the CLI. Its JSON form is documented in `docs/analysis-format.md`.
//!
//! Two passes over the events: the first mines templates over every event, the second assigns
//! each event its final template and gathers exact per-pattern statistics (counts, time range,
//! levels, variables, samples, requests, durations, time buckets). The input is read and parsed
//! once: the first pass keeps its events in a spool ([`spool`]) for the second, which reads the
//! input again only when the spool was given up. Memory grows with the number of distinct
//! message shapes and 4 bytes per event (each event's shape from the first pass), not with the
//! size of the text.

mod chains;
mod compare;
mod context;
mod families;
mod http;
mod keywords;
pub mod progress;
mod resources;
mod routes;
mod security;
mod spool;
mod stats;
mod timeline;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::classify::{self, Category, Risk, Severity};
use super::events::{Event, Events};
use super::format::Dialect;
use super::level::Level;
use super::mask::{VAR, collapse_whitespace};
use super::miner::{Mined, Miner, ShapeId};
use super::reader::{self, Lines, ReadError};
use super::timestamp::{TimeContext, format_rfc3339};
pub use chains::Chain;
pub use compare::{CompareError, Comparison, compare};
pub use context::{Kind as ContextKind, Value as ContextValue};
pub use families::Family;
pub use resources::{Figure, Kind as ResourceKind};
pub use security::{Finding, pii_spans};
pub use stats::{Percentiles, ValueSummary};
pub use timeline::Timeline;

/// Version of the analysis JSON; bumped on incompatible changes.
pub const SCHEMA_VERSION: &str = "0.1";
/// Samples kept per pattern.
const SAMPLES: usize = 3;
/// Characters of a sample's text kept.
const SAMPLE_CHARS: usize = 2000;
/// Durations above this are slow operations.
const SLOW_MS: f64 = 1000.0;

/// A log to analyse: a name and a way to open it (twice: once per pass).
pub struct Source {
    /// Shown in the analysis (a file name).
    pub name: String,
    /// Its size in bytes, for progress (0 when unknown).
    pub len: u64,
    open: Box<dyn Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync>,
}

impl Source {
    /// A file on disk.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Self {
            name,
            len: std::fs::metadata(&path).map_or(0, |m| m.len()),
            open: Box::new(move || {
                Ok(Box::new(std::fs::File::open(&path)?) as Box<dyn Read + Send>)
            }),
        }
    }

    /// A file on disk shown under `name` (an upload's original file name).
    pub fn named_file(name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            ..Self::file(path)
        }
    }

    /// In-memory bytes (tests, small uploads).
    pub fn bytes(name: impl Into<String>, data: impl Into<std::sync::Arc<[u8]>>) -> Self {
        let data: std::sync::Arc<[u8]> = data.into();
        Self {
            name: name.into(),
            len: data.len() as u64,
            open: Box::new(move || {
                Ok(Box::new(io::Cursor::new(data.clone())) as Box<dyn Read + Send>)
            }),
        }
    }
}

/// Why an analysis could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// A file could not be opened or read (including corrupt gzip).
    #[error("{file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The observer asked to stop.
    #[error("the analysis was cancelled")]
    Cancelled,
}

/// Options that change an analysis.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Year assumed for timestamps without one.
    pub time: TimeContext,
    /// Where the first pass's events are spooled once they outgrow memory (an anonymous
    /// temporary file); the system's temporary directory when `None`.
    pub spool_dir: Option<PathBuf>,
}

/// The analysis.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// [`SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// Totals.
    pub summary: Summary,
    /// Per input file.
    pub files: Vec<FileSummary>,
    /// Every pattern, most frequent first.
    pub patterns: Vec<Pattern>,
    /// Error patterns grouped into families.
    pub families: Vec<Family>,
    /// Root causes and the cascades that follow them.
    pub chains: Vec<Chain>,
    /// Durations, per endpoint and per pattern, and slow operations.
    pub performance: Performance,
    /// Security signals, most severe first.
    pub security: Vec<Finding>,
    /// HTTP endpoints seen.
    pub endpoints: Vec<Endpoint>,
    /// Repository, commit, branch, service, environment and image, with evidence.
    pub context: Vec<ContextValue>,
    /// Counts over time.
    pub timeline: Timeline,
    /// New, gone and changed patterns against a previous analysis, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
}

/// Totals over all files.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Physical lines read.
    pub lines: u64,
    /// Events (a multi-line stack trace is one event).
    pub events: u64,
    /// Distinct patterns.
    pub patterns: usize,
    /// Patterns that are error signals.
    pub error_patterns: usize,
    /// Events that are error signals.
    pub error_events: u64,
    /// Error families.
    pub families: usize,
    /// Patterns of critical severity.
    pub critical_patterns: usize,
    /// Events per level (`none` for events without a level).
    pub levels: BTreeMap<&'static str, u64>,
    /// First timestamp, RFC 3339.
    pub first_seen: Option<String>,
    /// Last timestamp, RFC 3339.
    pub last_seen: Option<String>,
    /// Seconds between them.
    pub span_seconds: Option<f64>,
    /// Lines longer than the reader's limit, cut.
    pub truncated_lines: u64,
}

/// One input file.
#[derive(Clone, Debug, Serialize)]
pub struct FileSummary {
    /// File name.
    pub name: String,
    /// Detected format.
    pub format: &'static str,
    /// Physical lines.
    pub lines: u64,
    /// Events.
    pub events: u64,
}

/// One pattern: a template and everything known about the events that match it.
#[derive(Clone, Debug, Serialize)]
pub struct Pattern {
    /// `p1`, `p2`, … by decreasing count.
    pub id: String,
    /// The template, variables written `<*>`.
    pub template: String,
    /// Events matching it (exact).
    pub count: u64,
    /// Share of all events.
    pub share: f64,
    /// The most common level among its events.
    pub level: Option<Level>,
    /// Events per level.
    pub levels: BTreeMap<&'static str, u64>,
    /// Severity.
    pub severity: Severity,
    /// The rule that chose the severity.
    pub severity_rule: &'static str,
    /// Category.
    pub category: Category,
    /// Whether its events are error signals.
    pub is_error: bool,
    /// First timestamp.
    pub first_seen: Option<String>,
    /// Last timestamp.
    pub last_seen: Option<String>,
    /// Where it appears: events per file and their share of that file's events, so files can
    /// be compared side by side.
    pub files: Vec<FileCount>,
    /// Example events with their location.
    pub samples: Vec<Sample>,
    /// One entry per `<*>`, in order.
    pub variables: Vec<ValueSummary>,
    /// Risk score with its factors.
    pub risk: Risk,
    /// Family id, for error patterns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

/// A pattern's events in one file.
#[derive(Clone, Debug, Serialize)]
pub struct FileCount {
    /// File name.
    pub file: String,
    /// Events of the pattern in the file.
    pub count: u64,
    /// `count` / the file's events, 4 decimals.
    pub share: f64,
}

/// An example event.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// File name.
    pub file: String,
    /// First line of the event.
    pub line: u64,
    /// Last line of the event.
    pub end_line: u64,
    /// The message.
    pub text: String,
    /// Its stack trace, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

/// Durations.
#[derive(Clone, Debug, Serialize)]
pub struct Performance {
    /// Events that reported a duration.
    pub timed_events: u64,
    /// Percentiles per endpoint.
    pub endpoints: Vec<EndpointLatency>,
    /// Percentiles per pattern that reports durations, slowest p95 first.
    pub patterns: Vec<PatternLatency>,
    /// Patterns whose p95 or max exceeds the slow threshold.
    pub slow_operations: Vec<PatternLatency>,
    /// Database statements with durations, the most total time first.
    pub slow_queries: Vec<SlowQuery>,
    /// Memory, pool and cache figures the log states.
    pub resources: Vec<Figure>,
    /// The threshold, in milliseconds.
    pub slow_threshold_ms: f64,
}

/// Latency of an endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointLatency {
    /// `GET /api/users/{id}`.
    pub endpoint: String,
    /// Percentiles.
    #[serde(flatten)]
    pub latency: Percentiles,
}

/// Latency of a pattern.
#[derive(Clone, Debug, Serialize)]
pub struct PatternLatency {
    /// Pattern id.
    pub pattern: String,
    /// Its template.
    pub template: String,
    /// Percentiles.
    #[serde(flatten)]
    pub latency: Percentiles,
}

/// A database statement (a pattern whose text holds SQL) and how long it took.
#[derive(Clone, Debug, Serialize)]
pub struct SlowQuery {
    /// Pattern id.
    pub pattern: String,
    /// The statement, with its values written `<*>`.
    pub statement: String,
    /// Milliseconds spent in it over all its events.
    pub total_ms: f64,
    /// Percentiles.
    #[serde(flatten)]
    pub latency: Percentiles,
}

/// An HTTP endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct Endpoint {
    /// Method.
    pub method: String,
    /// Path with ids collapsed.
    pub path: String,
    /// Requests.
    pub count: u64,
    /// Responses per status code.
    pub statuses: Vec<(u16, u64)>,
    /// Share of 5xx responses among those with a status.
    pub error_rate: f64,
    /// Share of 4xx responses among those with a status.
    pub client_error_rate: f64,
}

/// Per-pattern accumulator for the second pass.
#[derive(Default)]
struct PatternAcc {
    count: u64,
    levels: [u64; 8],
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    last_index: u64,
    files: Vec<u64>,
    samples: Vec<Sample>,
    variables: Vec<stats::TopValues>,
    /// Numeric summaries of the variables, for memory, pool and cache patterns only.
    numbers: Option<Vec<resources::Numbers>>,
    has_stack: bool,
    status: Option<u16>,
    fingerprint: Option<families::Fingerprint>,
    latency: stats::Latency,
    times: chains::Times,
}

/// An endpoint: its method and its path with routes applied.
type EndpointKey = (&'static str, String);

#[derive(Default)]
struct EndpointAcc {
    count: u64,
    statuses: FxHashMap<u16, u64>,
    latency: stats::Latency,
}

fn level_index(level: Option<Level>) -> usize {
    level.map_or(0, |l| l as usize + 1)
}

fn level_name(index: usize) -> &'static str {
    [
        "none", "trace", "debug", "info", "notice", "warn", "error", "fatal",
    ][index]
}

fn level_from_index(index: usize) -> Option<Level> {
    [
        None,
        Some(Level::Trace),
        Some(Level::Debug),
        Some(Level::Info),
        Some(Level::Notice),
        Some(Level::Warn),
        Some(Level::Error),
        Some(Level::Fatal),
    ][index]
}

/// The events of `source`, read in `dialect` when the first pass detected it already.
fn events_of(
    source: &Source,
    time: TimeContext,
    dialect: Option<Dialect>,
    read: &std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> Result<Events<Lines<Box<dyn io::BufRead + Send>>>, AnalyzeError> {
    let read_error = |source_err: io::Error| AnalyzeError::Read {
        file: source.name.clone(),
        source: source_err,
    };
    let input: Box<dyn Read + Send> = Box::new(progress::Counting::new(
        (source.open)().map_err(read_error)?,
        read.clone(),
    ));
    let buffered = reader::open(input).map_err(read_error)?;
    let lines = Lines::new(buffered);
    Ok(match dialect {
        Some(dialect) => Events::with_dialect(lines, dialect),
        None => Events::new(lines, time),
    })
}

fn event_error(file: &str, e: ReadError) -> AnalyzeError {
    let ReadError::Io { source, .. } = e;
    AnalyzeError::Read {
        file: file.to_owned(),
        source,
    }
}

/// What the first pass learns: the miner, the time range and the number of events.
struct Mining {
    /// Its events, for the second pass; `None` when the spool was given up.
    spool: Option<spool::Reader>,
    /// Each file's format, lines and events.
    files: Vec<FileSummary>,
    miner: Miner,
    /// Route templates learned from every request path.
    routes: routes::Routes,
    /// The time range the timeline's buckets cover.
    bucket_range: Option<(i64, i64)>,
    range: Option<(i64, i64)>,
    events: u64,
    /// Each event's shape, in reading order, so the second pass need not mask again.
    shapes: Vec<ShapeId>,
    /// Each source's format, so the second pass need not detect it again.
    dialects: Vec<Dialect>,
}

/// Pass one: mine templates; returns the miner and the time range.
fn mine(
    sources: &[Source],
    time: TimeContext,
    mut spool: spool::Writer,
    tracker: &mut progress::Tracker,
) -> Result<Mining, AnalyzeError> {
    let mut miner = Miner::new();
    let mut routes = routes::Learner::default();
    let mut times = chains::Times::default();
    let mut shapes = Vec::new();
    let mut dialects = Vec::with_capacity(sources.len());
    let mut files = Vec::with_capacity(sources.len());
    let mut range: Option<(i64, i64)> = None;
    let mut events = 0u64;
    // Lines of the files before this one, and of this one up to the event at hand.
    let (mut lines_before, mut last_line) = (0u64, 0u64);
    for source in sources {
        lines_before += last_line;
        last_line = 0;
        let mut file_events = events_of(source, time, None, &tracker.read)?;
        dialects.push(file_events.dialect());
        let events_before = events;
        for event in file_events.by_ref() {
            let event = event.map_err(|e| event_error(&source.name, e))?;
            spool.push(&event);
            last_line = event.end_line;
            if !tracker.tick(events, lines_before + last_line, miner.live_shapes() as u64) {
                return Err(AnalyzeError::Cancelled);
            }
            let exact = if event.field("client_ip").is_some() {
                let request = http::extract(&event);
                if let Some(path) = &request.path {
                    routes.add(path);
                }
                exact_pattern(&event, &request)
            } else {
                if let Some(path) = http::path_of(&event) {
                    routes.add(&path);
                }
                None
            };
            shapes.push(match exact {
                Some(text) => miner.add_exact(&text),
                None => miner.add(&event.message),
            });
            events += 1;
            if let Some(ts) = event.timestamp {
                range = Some(range.map_or((ts, ts), |(a, b)| (a.min(ts), b.max(ts))));
                times.add(ts);
            }
        }
        files.push(FileSummary {
            name: source.name.clone(),
            format: file_events.dialect().format.as_str(),
            lines: file_events.lines_read,
            events: events - events_before,
        });
    }
    Ok(Mining {
        spool: spool.finish(),
        files,
        miner,
        routes: routes.finish(),
        range,
        bucket_range: timeline::range(range, &times.sorted()),
        events,
        shapes,
        dialects,
    })
}

/// Analyses `sources`.
pub fn analyze(sources: &[Source], options: Options) -> Result<Analysis, AnalyzeError> {
    analyze_observed(sources, options, &mut progress::Unobserved)
}

/// Analyses `sources`, reporting progress to `observer`, which may stop it.
pub fn analyze_observed(
    sources: &[Source],
    options: Options,
    observer: &mut dyn progress::Observer,
) -> Result<Analysis, AnalyzeError> {
    let spool = spool::Writer::new(options.spool_dir.clone());
    analyze_spooling(sources, options, observer, spool)
}

/// [`analyze`] with the spool given up at once, so the second pass reads the input again.
#[cfg(test)]
pub(super) fn analyze_rereading(
    sources: &[Source],
    options: Options,
) -> Result<Analysis, AnalyzeError> {
    let spool = spool::Writer::with_limit(0);
    analyze_spooling(sources, options, &mut progress::Unobserved, spool)
}

/// [`analyze_observed`], with the first pass's events kept in `spool`.
fn analyze_spooling(
    sources: &[Source],
    options: Options,
    observer: &mut dyn progress::Observer,
    spool: spool::Writer,
) -> Result<Analysis, AnalyzeError> {
    let total = sources.iter().map(|s| s.len).sum();
    let mut tracker = progress::Tracker::new(observer, total);
    let cancelled = |go_on: bool| {
        if go_on {
            Ok(())
        } else {
            Err(AnalyzeError::Cancelled)
        }
    };
    cancelled(tracker.enter(progress::Stage::Reading, 0))?;
    let Mining {
        spool,
        files,
        miner,
        routes,
        range,
        bucket_range,
        events: total_events,
        shapes,
        dialects,
    } = mine(sources, options.time, spool, &mut tracker)?;
    cancelled(tracker.enter(progress::Stage::Mining, miner.live_shapes() as u64))?;
    let mined = miner.finish_with(|exact| apply_routes(&routes, exact));
    let template_count = mined.templates.len() as u64;
    let mut gather = Gatherer::new(&mined, &routes, &shapes, bucket_range, sources.len());
    // Lines of the files before the one at hand, for progress.
    let mut lines_before = 0u64;
    match spool {
        Some(mut spool) => {
            cancelled(tracker.enter_pass(
                progress::Stage::Correlating,
                template_count,
                spool.len(),
            ))?;
            let mut event = Event::default();
            for (file_index, (source, file)) in sources.iter().zip(&files).enumerate() {
                for _ in 0..file.events {
                    spool
                        .read_into(&mut event)
                        .map_err(|e| AnalyzeError::Read {
                            file: source.name.clone(),
                            source: e,
                        })?;
                    tracker.read.store(spool.position(), Ordering::Relaxed);
                    cancelled(tracker.tick(
                        gather.index,
                        lines_before + event.end_line,
                        template_count,
                    ))?;
                    gather.add(&event, file_index, &source.name);
                }
                lines_before += file.lines;
            }
        }
        None => {
            cancelled(tracker.enter(progress::Stage::Correlating, template_count))?;
            for (file_index, source) in sources.iter().enumerate() {
                let dialect = dialects.get(file_index).copied();
                let mut events = events_of(source, options.time, dialect, &tracker.read)?;
                for event in events.by_ref() {
                    let event = event.map_err(|e| event_error(&source.name, e))?;
                    cancelled(tracker.tick(
                        gather.index,
                        lines_before + event.end_line,
                        template_count,
                    ))?;
                    // The input grew between the passes (a log still being written): count
                    // only what the first pass mined, so every total agrees.
                    if !gather.add(&event, file_index, &source.name) {
                        break;
                    }
                }
                lines_before += events.lines_read;
            }
        }
    }
    let lines = files.iter().map(|f| f.lines).sum();
    let Gatherer {
        acc,
        endpoints,
        timeline,
        security,
        context,
        truncated,
        ..
    } = gather;
    Ok(assemble(AssembleInput {
        mined,
        acc,
        endpoints,
        timeline,
        security,
        context,
        files,
        lines,
        truncated,
        total_events,
        range,
        sources,
    }))
}

/// The second pass: gathers each event into its pattern's statistics, the endpoints, the
/// timeline and the security and context scans.
struct Gatherer<'m> {
    mined: &'m Mined,
    routes: &'m routes::Routes,
    /// Each event's shape from the first pass.
    shapes: &'m [ShapeId],
    literals: Vec<Literals<'m>>,
    file_count: usize,
    acc: Vec<PatternAcc>,
    endpoints: FxHashMap<EndpointKey, EndpointAcc>,
    timeline: timeline::Builder,
    security: security::Scanner,
    context: context::Collector,
    budget: stats::Budget,
    /// The keywords of the event at hand, in a buffer reused for every event.
    keyword_hits: Vec<keywords::Hit>,
    /// Events gathered so far.
    index: u64,
    truncated: u64,
}

impl<'m> Gatherer<'m> {
    fn new(
        mined: &'m Mined,
        routes: &'m routes::Routes,
        shapes: &'m [ShapeId],
        bucket_range: Option<(i64, i64)>,
        file_count: usize,
    ) -> Self {
        Self {
            mined,
            routes,
            shapes,
            literals: mined.templates.iter().map(|t| Literals::of(t)).collect(),
            file_count,
            acc: mined
                .templates
                .iter()
                .map(|t| PatternAcc {
                    numbers: resources::kind_of(t).map(|_| Vec::new()),
                    ..PatternAcc::default()
                })
                .collect(),
            endpoints: FxHashMap::default(),
            timeline: timeline::Builder::new(bucket_range, mined.templates.len()),
            security: security::Scanner::default(),
            context: context::Collector::default(),
            budget: stats::Budget::default(),
            keyword_hits: Vec::new(),
            index: 0,
            truncated: 0,
        }
    }

    /// Gathers the next event, of file `file_index`; false, gathering nothing, when the first
    /// pass saw no more events.
    fn add(&mut self, event: &Event, file_index: usize, file_name: &str) -> bool {
        let template = match self.shapes.get(self.index as usize) {
            Some(&shape) => self.mined.template_of(shape) as usize,
            None => return false,
        };
        let mut request = http::extract(event);
        if let Some(path) = &mut request.path {
            *path = self.routes.apply(path);
        }
        let at = At {
            file_index,
            file_count: self.file_count,
            file_name,
            index: self.index,
        };
        record(
            &mut self.acc[template],
            event,
            &request,
            &self.literals[template],
            &at,
            &mut self.budget,
        );
        self.timeline.add(event.timestamp, event.level, template);
        keywords::scan(&event.message, &mut self.keyword_hits);
        self.security.add(event, request.status, &self.keyword_hits);
        self.context.add(event, file_name, &self.keyword_hits);
        if let (Some(method), Some(path)) = (request.method, request.path) {
            let e = self.endpoints.entry((method, path)).or_default();
            e.count += 1;
            if let Some(status) = request.status {
                *e.statuses.entry(status).or_default() += 1;
            }
            if let Some(ms) = request.duration_ms {
                e.latency.add(ms);
            }
        }
        self.truncated += u64::from(event.truncated);
        self.index += 1;
        true
    }
}

/// Access-log lines are already structured: their pattern is method, route and status
/// (`GET /products/{id} 404`), not something to mine.
fn exact_pattern(event: &Event, request: &http::Request) -> Option<String> {
    event.field("client_ip")?;
    match (&request.method, &request.path, request.status) {
        (Some(method), Some(path), Some(status)) => {
            // Built by hand: this runs for every access-log line, where `format!` costs more
            // than the rest of the pattern's work.
            let mut text = String::with_capacity(method.len() + path.len() + 5);
            text.push_str(method);
            text.push(' ');
            text.push_str(path);
            text.push(' ');
            text.push_str(itoa::Buffer::new().format(status));
            Some(text)
        }
        _ => None,
    }
}

/// An exact pattern's text (`GET /users/alice 200`) with its path rewritten by the learned
/// routes.
fn apply_routes(routes: &routes::Routes, exact: &str) -> String {
    match (exact.split_once(' '), exact.rsplit_once(' ')) {
        (Some((method, _)), Some((_, status))) if method.len() + status.len() + 2 < exact.len() => {
            let path = &exact[method.len() + 1..exact.len() - status.len() - 1];
            format!("{method} {} {status}", routes.apply(path))
        }
        _ => exact.to_owned(),
    }
}

/// Where an event is: its file and its index among all events.
struct At<'a> {
    file_index: usize,
    file_count: usize,
    file_name: &'a str,
    index: u64,
}

fn record(
    p: &mut PatternAcc,
    event: &Event,
    request: &http::Request,
    literals: &Literals,
    at: &At,
    budget: &mut stats::Budget,
) {
    let At {
        file_index,
        file_count,
        file_name,
        index,
    } = *at;
    p.count += 1;
    p.levels[level_index(event.level)] += 1;
    if let Some(ts) = event.timestamp {
        p.first_ms = Some(p.first_ms.map_or(ts, |f| f.min(ts)));
        p.last_ms = Some(p.last_ms.map_or(ts, |l| l.max(ts)));
        p.times.add(ts);
    }
    p.last_index = index;
    if p.files.len() < file_count {
        p.files.resize(file_count, 0);
    }
    p.files[file_index] += 1;
    p.has_stack |= event.stack.is_some();
    if p.status.is_none() {
        p.status = request.status;
    }
    if let Some(ms) = request.duration_ms {
        p.latency.add(ms);
    }
    if p.fingerprint.is_none()
        && let Some(stack) = &event.stack
    {
        p.fingerprint = Some(families::fingerprint(&event.message, stack));
    }
    if p.samples.len() < SAMPLES {
        p.samples.push(Sample {
            file: file_name.to_owned(),
            line: event.line,
            end_line: event.end_line,
            text: event.message.chars().take(SAMPLE_CHARS).collect(),
            stack: event
                .stack
                .as_ref()
                .map(|s| s.chars().take(SAMPLE_CHARS * 4).collect()),
        });
    }
    let variables = literals.variables();
    if variables > 0 {
        let message = collapse_whitespace(&event.message);
        let values = literals.values(&message);
        if p.variables.len() < variables {
            p.variables
                .resize_with(variables, stats::TopValues::default);
        }
        if let Some(values) = values {
            for (slot, value) in p.variables.iter_mut().zip(&values) {
                slot.add(value, budget);
            }
            if let Some(numbers) = &mut p.numbers {
                numbers.resize_with(variables, resources::Numbers::default);
                for (slot, value) in numbers.iter_mut().zip(&values) {
                    slot.add(value);
                }
            }
        }
    }
}

/// A template's literal pieces (the text between its `<*>`s), each with a searcher built once:
/// every event of the pattern is matched against them.
struct Literals<'t> {
    pieces: Vec<&'t str>,
    finders: Vec<memchr::memmem::Finder<'t>>,
}

impl<'t> Literals<'t> {
    fn of(template: &'t str) -> Self {
        let pieces: Vec<&str> = template.split(VAR).collect();
        let finders = pieces
            .iter()
            .map(|p| memchr::memmem::Finder::new(p.as_bytes()))
            .collect();
        Self { pieces, finders }
    }

    /// The number of `<*>`s.
    fn variables(&self) -> usize {
        self.pieces.len().saturating_sub(1)
    }

    /// Matches `message` against the pieces and returns the variable values, leftmost match
    /// first; `None` when the message does not fit the template.
    fn values<'m>(&self, message: &'m str) -> Option<Vec<&'m str>> {
        let (first, rest) = self.pieces.split_first()?;
        let mut at = message.strip_prefix(first).map(|_| first.len())?;
        let mut values = Vec::with_capacity(rest.len());
        for (i, literal) in rest.iter().enumerate() {
            let last = i == rest.len() - 1;
            let end = if last {
                if !message[at..].ends_with(literal) || message.len() - literal.len() < at {
                    return None;
                }
                message.len() - literal.len()
            } else if literal.is_empty() {
                at
            } else {
                // A match of valid UTF-8 in valid UTF-8 starts on a character boundary.
                at + self.finders[i + 1].find(&message.as_bytes()[at..])?
            };
            values.push(&message[at..end]);
            at = end + literal.len();
        }
        Some(values)
    }
}

struct AssembleInput<'a> {
    mined: Mined,
    acc: Vec<PatternAcc>,
    endpoints: FxHashMap<EndpointKey, EndpointAcc>,
    timeline: timeline::Builder,
    security: security::Scanner,
    context: context::Collector,
    files: Vec<FileSummary>,
    lines: u64,
    truncated: u64,
    total_events: u64,
    range: Option<(i64, i64)>,
    sources: &'a [Source],
}

fn assemble(input: AssembleInput) -> Analysis {
    let AssembleInput {
        mined,
        acc,
        endpoints,
        timeline,
        security,
        context,
        files,
        lines,
        truncated,
        total_events,
        range,
        sources,
    } = input;
    // Patterns by decreasing count, ties by first appearance.
    let mut order: Vec<usize> = (0..acc.len()).filter(|&i| acc[i].count > 0).collect();
    order.sort_by(|&a, &b| acc[b].count.cmp(&acc[a].count).then(a.cmp(&b)));
    let mut id_of = vec![String::new(); acc.len()];
    for (rank, &i) in order.iter().enumerate() {
        id_of[i] = format!("p{}", rank + 1);
    }
    let total = total_events.max(1) as f64;
    let mut patterns: Vec<Pattern> = order
        .iter()
        .map(|&i| {
            pattern(
                &id_of[i],
                &mined.templates[i],
                &acc[i],
                total,
                range,
                total_events,
                sources,
            )
        })
        .collect();

    for (p, &i) in patterns.iter_mut().zip(&order) {
        // By position, not name: two inputs may share a file name.
        let per_file = acc[i].files.iter().enumerate().filter(|(_, n)| **n > 0);
        for (f, (file_index, _)) in p.files.iter_mut().zip(per_file) {
            let events = files.get(file_index).map_or(0, |s| s.events);
            f.share = (f.count as f64 / events.max(1) as f64 * 10_000.0).round() / 10_000.0;
        }
    }
    let members = patterns
        .iter()
        .zip(&order)
        .filter(|(p, _)| p.is_error)
        .map(|(p, &i)| families::Member {
            id: p.id.clone(),
            template: p.template.clone(),
            count: p.count,
            severity: p.severity,
            category: p.category,
            fingerprint: acc[i].fingerprint.clone(),
        })
        .collect();
    let families = families::group(members);
    let family_of: FxHashMap<&str, &str> = families
        .iter()
        .flat_map(|f| f.patterns.iter().map(move |p| (p.as_str(), f.id.as_str())))
        .collect();
    for p in &mut patterns {
        p.family = family_of.get(p.id.as_str()).map(|f| (*f).to_owned());
    }

    let candidates = patterns
        .iter()
        .zip(&order)
        .filter(|(p, _)| p.is_error)
        .map(|(p, &i)| chains::Candidate {
            id: &p.id,
            count: p.count,
            times: &acc[i].times,
        })
        .collect();
    let chains = chains::find(candidates, range);
    let performance = performance(&patterns, &order, &acc, &endpoints);
    let mut levels: BTreeMap<&'static str, u64> = BTreeMap::new();
    for p in &acc {
        for (i, n) in p.levels.iter().enumerate().filter(|(_, n)| **n > 0) {
            *levels.entry(level_name(i)).or_default() += n;
        }
    }
    let summary = Summary {
        lines,
        events: total_events,
        patterns: patterns.len(),
        error_patterns: patterns.iter().filter(|p| p.is_error).count(),
        error_events: patterns
            .iter()
            .filter(|p| p.is_error)
            .map(|p| p.count)
            .sum(),
        families: families.len(),
        critical_patterns: patterns
            .iter()
            .filter(|p| p.severity == Severity::Critical)
            .count(),
        levels,
        first_seen: range.map(|r| format_rfc3339(r.0)),
        last_seen: range.map(|r| format_rfc3339(r.1)),
        span_seconds: range.map(|r| (r.1 - r.0) as f64 / 1000.0),
        truncated_lines: truncated,
    };
    Analysis {
        schema_version: SCHEMA_VERSION,
        summary,
        files,
        timeline: timeline.finish(&id_of),
        patterns,
        families,
        chains,
        performance,
        security: security.finish(),
        endpoints: endpoint_list(endpoints),
        context: context.finish(),
        comparison: None,
    }
}

fn pattern(
    id: &str,
    template: &str,
    p: &PatternAcc,
    total: f64,
    range: Option<(i64, i64)>,
    events: u64,
    sources: &[Source],
) -> Pattern {
    let dominant = (0..p.levels.len())
        .max_by_key(|&i| (p.levels[i], i))
        .unwrap_or(0);
    let level = level_from_index(dominant);
    let worst = (0..p.levels.len())
        .rev()
        .find(|&i| p.levels[i] > 0)
        .and_then(level_from_index);
    let is_error = classify::is_error_signal(worst, template, p.has_stack, p.status);
    let (severity, severity_rule) = classify::severity(worst, template, p.has_stack, p.status);
    let category = classify::categorize(template);
    let impact = classify::impact(category, severity, is_error);
    let recency = match (range, p.last_ms) {
        (Some((start, end)), Some(last)) if end > start => {
            (last - start) as f64 / (end - start) as f64
        }
        (Some(_), Some(_)) => 1.0,
        _ => (p.last_index + 1) as f64 / events.max(1) as f64,
    };
    let mut levels = BTreeMap::new();
    for (i, n) in p.levels.iter().enumerate().filter(|(_, n)| **n > 0) {
        levels.insert(level_name(i), *n);
    }
    Pattern {
        id: id.to_owned(),
        template: template.to_owned(),
        count: p.count,
        share: (p.count as f64 / total * 10_000.0).round() / 10_000.0,
        level,
        levels,
        severity,
        severity_rule,
        category,
        is_error,
        first_seen: p.first_ms.map(format_rfc3339),
        last_seen: p.last_ms.map(format_rfc3339),
        files: p
            .files
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| FileCount {
                file: sources[i].name.clone(),
                count: *n,
                share: 0.0,
            })
            .collect(),
        samples: p.samples.clone(),
        variables: p.variables.iter().map(stats::TopValues::summary).collect(),
        risk: classify::risk(severity, p.count, impact, recency),
        family: None,
    }
}

fn performance(
    patterns: &[Pattern],
    order: &[usize],
    acc: &[PatternAcc],
    endpoints: &FxHashMap<EndpointKey, EndpointAcc>,
) -> Performance {
    let mut by_pattern: Vec<PatternLatency> = patterns
        .iter()
        .zip(order)
        .filter_map(|(p, &i)| {
            acc[i].latency.percentiles().map(|latency| PatternLatency {
                pattern: p.id.clone(),
                template: p.template.clone(),
                latency,
            })
        })
        .collect();
    by_pattern.sort_by(|a, b| {
        b.latency
            .p95_ms
            .total_cmp(&a.latency.p95_ms)
            .then_with(|| a.pattern.cmp(&b.pattern))
    });
    let slow = by_pattern
        .iter()
        .filter(|p| p.latency.p95_ms > SLOW_MS || p.latency.max_ms > SLOW_MS)
        .cloned()
        .collect();
    let mut by_endpoint: Vec<EndpointLatency> = endpoints
        .iter()
        .filter_map(|((m, p), e)| {
            e.latency.percentiles().map(|latency| EndpointLatency {
                endpoint: format!("{m} {p}"),
                latency,
            })
        })
        .collect();
    by_endpoint.sort_by(|a, b| {
        b.latency
            .p95_ms
            .total_cmp(&a.latency.p95_ms)
            .then_with(|| a.endpoint.cmp(&b.endpoint))
    });
    let mut slow_queries: Vec<SlowQuery> = patterns
        .iter()
        .zip(order)
        .filter_map(|(p, &i)| {
            let at = sql_start(&p.template)?;
            let latency = acc[i].latency.percentiles()?;
            Some(SlowQuery {
                pattern: p.id.clone(),
                statement: p.template[at..].to_owned(),
                total_ms: (acc[i].latency.total_ms() * 1000.0).round() / 1000.0,
                latency,
            })
        })
        .collect();
    slow_queries.sort_by(|a, b| {
        b.total_ms
            .total_cmp(&a.total_ms)
            .then_with(|| a.pattern.cmp(&b.pattern))
    });
    let resources = patterns
        .iter()
        .zip(order)
        .flat_map(|(p, &i)| {
            acc[i]
                .numbers
                .as_deref()
                .map(|n| resources::figures(&p.id, &p.template, n))
                .unwrap_or_default()
        })
        .collect();
    Performance {
        timed_events: acc.iter().map(|p| p.latency.count()).sum(),
        endpoints: by_endpoint,
        patterns: by_pattern,
        slow_operations: slow,
        slow_queries,
        resources,
        slow_threshold_ms: SLOW_MS,
    }
}

/// Where the SQL statement in a template starts: a statement keyword at a word boundary,
/// followed by more SQL (`SELECT * FROM`, `UPDATE orders SET`).
fn sql_start(template: &str) -> Option<usize> {
    const STARTS: [(&str, &str); 6] = [
        ("SELECT ", " FROM "),
        ("INSERT ", " INTO "),
        ("UPDATE ", " SET "),
        ("DELETE ", " FROM "),
        ("WITH ", " AS "),
        ("MERGE ", " USING "),
    ];
    let upper = template.to_ascii_uppercase();
    STARTS
        .iter()
        .filter_map(|(keyword, then)| {
            let at = upper
                .match_indices(keyword)
                .map(|(i, _)| i)
                .find(|&i| i == 0 || !upper.as_bytes()[i - 1].is_ascii_alphanumeric())?;
            upper[at..].contains(then).then_some(at)
        })
        .min()
}

fn endpoint_list(endpoints: FxHashMap<EndpointKey, EndpointAcc>) -> Vec<Endpoint> {
    let mut list: Vec<Endpoint> = endpoints
        .into_iter()
        .map(|((method, path), e)| {
            let with_status: u64 = e.statuses.values().sum();
            let share = |range: std::ops::Range<u16>| {
                let n: u64 = e
                    .statuses
                    .iter()
                    .filter(|(s, _)| range.contains(s))
                    .map(|(_, n)| n)
                    .sum();
                if with_status == 0 {
                    0.0
                } else {
                    (n as f64 / with_status as f64 * 10_000.0).round() / 10_000.0
                }
            };
            let mut statuses: Vec<(u16, u64)> = e.statuses.iter().map(|(s, n)| (*s, *n)).collect();
            statuses.sort_unstable();
            Endpoint {
                error_rate: share(500..600),
                client_error_rate: share(400..500),
                method: method.to_owned(),
                path,
                count: e.count,
                statuses,
            }
        })
        .collect();
    list.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.path, &a.method).cmp(&(&b.path, &b.method)))
    });
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps every report.
    struct Reports(Vec<progress::Progress>);

    impl progress::Observer for Reports {
        fn progress(&mut self, p: &progress::Progress) -> bool {
            self.0.push(*p);
            true
        }
    }

    /// The golden logs, each a source.
    fn golden_sources() -> Vec<Source> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/logs");
        [
            "java-service.log",
            "nginx-access.log",
            "node-api.jsonl",
            "postgresql.log",
            "python-app.log",
        ]
        .iter()
        .map(|name| Source::file(format!("{dir}/{name}")))
        .collect()
    }

    #[test]
    fn reading_the_input_again_gives_what_the_spool_gives() {
        let sources = golden_sources();
        let json = |spool: spool::Writer| {
            let analysis = analyze_spooling(
                &sources,
                Options::default(),
                &mut progress::Unobserved,
                spool,
            )
            .expect("analyses");
            serde_json::to_string(&analysis).expect("json")
        };
        let spooled = json(spool::Writer::new(None));
        assert!(spooled.contains("java-service.log") && spooled.contains("GET /"));
        // Given up before the first event, and part of the way through the second file.
        assert_eq!(json(spool::Writer::with_limit(0)), spooled);
        assert_eq!(json(spool::Writer::with_limit(300_000)), spooled);
    }

    #[test]
    fn the_second_pass_reports_progress_spooled_or_not() {
        let text: String = (0..20_000)
            .map(|i| format!("2026-12-01T10:00:00Z INFO job {i} done in {i} ms\n"))
            .collect();
        for spool in [spool::Writer::new(None), spool::Writer::with_limit(0)] {
            let mut reports = Reports(Vec::new());
            let source = Source::bytes("a.log", text.clone().into_bytes());
            analyze_spooling(&[source], Options::default(), &mut reports, spool).expect("analyses");
            let second: Vec<&progress::Progress> = reports
                .0
                .iter()
                .filter(|p| p.stage == progress::Stage::Correlating)
                .collect();
            assert!(second.len() >= 4, "{second:?}");
            for pair in second.windows(2) {
                assert!(pair[1].percent >= pair[0].percent, "{second:?}");
                assert!(pair[1].bytes_read >= pair[0].bytes_read, "{second:?}");
            }
            let last = second.last().expect("a report");
            assert!(last.percent > 80.0 && last.percent <= 99.0, "{last:?}");
            assert!(last.bytes_read <= last.bytes_total, "{last:?}");
            assert!(last.bytes_read * 10 > last.bytes_total * 8, "{last:?}");
        }
    }

    #[test]
    fn progress_counts_lines_events_and_patterns_across_files() {
        // Two files of 6,000 events; each event after the first of a file spans two lines.
        let file = |name: &str| {
            let mut text = String::new();
            for i in 0..6_000 {
                text.push_str(&format!("2026-12-01T10:00:00Z ERROR job {i} failed\n"));
                text.push_str("  at worker.run(worker.py:3)\n");
            }
            Source::bytes(name, text.into_bytes())
        };
        let mut reports = Reports(Vec::new());
        analyze_observed(
            &[file("a.log"), file("b.log")],
            Options::default(),
            &mut reports,
        )
        .expect("analyses");
        let reading: Vec<&progress::Progress> = reports
            .0
            .iter()
            .filter(|p| p.stage == progress::Stage::Reading && p.events > 0)
            .collect();
        assert!(reading.len() >= 2, "{:?}", reports.0);
        for p in &reading {
            assert!(p.lines >= p.events, "{p:?}");
        }
        let last = reading.last().expect("a report");
        assert!(
            last.events > 6_000,
            "reports reach the second file: {last:?}"
        );
        assert!(last.lines > 12_000, "lines count across files: {last:?}");
    }

    #[test]
    fn comparison_with_a_previous_run() {
        let before = "INFO job started\nERROR db timeout\nERROR db timeout\nINFO cache warm\nINFO cache warm\nINFO cache warm\nINFO cache warm\nINFO cache warm\n";
        let after = "INFO job started\nERROR db timeout\nERROR db timeout\nERROR db timeout\nERROR db timeout\nERROR db timeout\nERROR db timeout\nWARN disk almost full\n";
        let prev = analyze(
            &[Source::bytes("a.log", before.as_bytes().to_vec())],
            Options::default(),
        )
        .expect("before");
        let cur = analyze(
            &[Source::bytes("a.log", after.as_bytes().to_vec())],
            Options::default(),
        )
        .expect("after");
        let c = compare(&cur, &serde_json::to_string(&prev).expect("json")).expect("compares");
        assert_eq!(c.rate_unit, "per_1000_events");
        assert_eq!(
            c.new
                .iter()
                .map(|e| e.template.as_str())
                .collect::<Vec<_>>(),
            ["disk almost full"]
        );
        assert_eq!(
            c.gone
                .iter()
                .map(|e| e.template.as_str())
                .collect::<Vec<_>>(),
            ["cache warm"]
        );
        assert_eq!(c.changed.len(), 1);
        assert_eq!(
            (c.changed[0].template.as_str(), c.changed[0].ratio),
            ("db timeout", 3.0)
        );
        assert!(compare(&cur, "{\"not\": \"an analysis\"}").is_err());
    }

    #[test]
    fn access_log_routes_learn_name_segments() {
        let names = [
            "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
            "mallory", "oscar", "peggy", "rupert", "sybil", "trent", "victor", "walter", "amy",
            "ben", "cleo", "dan", "eve", "fay", "gil",
        ];
        let mut log = String::new();
        for (i, n) in names.iter().enumerate() {
            log.push_str(&format!(
                "10.0.0.{i} - - [10/Oct/2024:13:55:{:02} +0000] \"GET /users/{n}.{n}/orders HTTP/1.1\" 200 {} \"-\" \"curl/8\"\n",
                i % 60,
                100 + i
            ));
            log.push_str(&format!(
                "10.0.0.{i} - - [10/Oct/2024:13:56:{:02} +0000] \"GET /checkout HTTP/1.1\" 200 512 \"-\" \"curl/8\"\n",
                i % 60
            ));
        }
        let a = analyze(
            &[Source::bytes("access.log", log.into_bytes())],
            Options::default(),
        )
        .expect("analyses");
        let templates: Vec<&str> = a.patterns.iter().map(|p| p.template.as_str()).collect();
        // Equal counts: first appearance first.
        assert_eq!(
            templates,
            ["GET /users/{id}/orders 200", "GET /checkout 200"]
        );
        assert_eq!(a.patterns[0].count, names.len() as u64);
        let paths: Vec<&str> = a.endpoints.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/checkout", "/users/{id}/orders"]);
    }

    #[test]
    fn one_stray_timestamp_does_not_stretch_the_timeline() {
        let mut log = String::new();
        for i in 0..100 {
            log.push_str(&format!("2024-03-01T10:00:{:02}Z INFO tick {i}\n", i % 60));
        }
        log.push_str("2001-01-01T00:00:00Z INFO clock reset\n");
        let a = analyze(
            &[Source::bytes("a.log", log.into_bytes())],
            Options::default(),
        )
        .expect("analyses");
        assert_eq!(a.timeline.outlying_events, 1);
        assert_eq!(a.timeline.bucket_seconds, Some(1));
        let bucketed: u64 = a.timeline.buckets.iter().map(|b| b.total).sum();
        assert_eq!(bucketed, 100);
        assert_eq!(
            a.summary.first_seen.as_deref(),
            Some("2001-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn variable_values_align_with_literals() {
        let lits = Literals::of("Received block <*> of size <*> from <*>");
        assert_eq!(
            lits.values("Received block blk_1 of size 42 from /10.0.0.1"),
            Some(vec!["blk_1", "42", "/10.0.0.1"])
        );
        let lits = Literals::of("<*>:<*> Served");
        assert_eq!(
            lits.values("10.0.0.1:50010 Served"),
            Some(vec!["10.0.0.1", "50010"])
        );
        assert_eq!(lits.values("nothing alike"), None);
        let lits = Literals::of("ü <*> ß <*>");
        assert_eq!(lits.values("ü ßß ß é"), Some(vec!["ßß", "é"]));
        assert_eq!(Literals::of("no variables").variables(), 0);
    }

    #[test]
    fn a_small_service_log() {
        let log = "\
2024-03-01T10:00:00Z INFO api: GET /api/users/1 200 in 12ms
2024-03-01T10:00:01Z INFO api: GET /api/users/2 200 in 15ms
2024-03-01T10:00:02Z ERROR db: connection to 10.0.0.5:5432 timed out after 3000 ms
2024-03-01T10:00:03Z ERROR api: GET /api/users/3 500 in 3012ms
java.lang.IllegalStateException: pool exhausted
\tat com.shop.Pool.get(Pool.java:42)
2024-03-01T10:00:04Z INFO api: GET /api/users/4 200 in 11ms
2024-03-01T10:00:05Z ERROR db: connection to 10.0.0.6:5432 timed out after 3000 ms
";
        let a = analyze(
            &[Source::bytes("app.log", log.as_bytes().to_vec())],
            Options::default(),
        )
        .expect("analyses");
        assert_eq!(a.summary.events, 6);
        assert_eq!(a.summary.lines, 8);
        assert_eq!(a.files[0].format, "plain");
        let top = &a.patterns[0];
        assert_eq!(top.template, "GET <*> <*> in <*>");
        assert_eq!(top.count, 4);
        assert_eq!(top.variables[0].top[0].count, 1);
        let timeout = a
            .patterns
            .iter()
            .find(|p| p.template.contains("timed out"))
            .expect("timeout pattern");
        assert_eq!(timeout.count, 2);
        assert_eq!(timeout.severity, Severity::High);
        assert_eq!(timeout.category, Category::Network);
        assert!(timeout.family.is_some());
        let endpoint = &a.endpoints[0];
        assert_eq!(
            (
                endpoint.method.as_str(),
                endpoint.path.as_str(),
                endpoint.count
            ),
            ("GET", "/api/users/{id}", 4)
        );
        assert_eq!(endpoint.error_rate, 0.25);
        assert_eq!(a.performance.endpoints[0].latency.count, 4);
        assert!(
            a.families
                .iter()
                .any(|f| f.exception.as_deref() == Some("java.lang.IllegalStateException"))
        );
        assert_eq!(
            a.summary.first_seen.as_deref(),
            Some("2024-03-01T10:00:00.000Z")
        );
    }
}

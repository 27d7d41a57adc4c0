//! Finished results as the workspace reads them: parsed once into a [`ResultIndex`] and kept in
//! a small cache (a result never changes once stored), then filtered, sorted and paged for the
//! pattern table, or looked up for one pattern's detail.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::api::patterns::{
    ChainDoc, ChainStep, ChainView, Facets, Overview, PER_PAGE, PatternDetail, PatternDoc,
    PatternItem, PatternPage, PatternQuery, ResultDoc, SortKey,
};

/// Chains the overview shows, most confident first.
const OVERVIEW_CHAINS: usize = 12;

/// Results kept parsed. Each holds every pattern of one analysis; a few analyses being looked
/// at together fit.
const CACHED_RESULTS: usize = 8;

/// A parsed result with what queries need precomputed.
pub struct ResultIndex {
    /// The result.
    pub doc: ResultDoc,
    /// Every template, lower-cased, for search.
    lower: Vec<String>,
    /// Pattern id → position in `doc.patterns`.
    by_id: HashMap<String, usize>,
    /// Position → counts in every timeline bucket.
    spark: Vec<Vec<u64>>,
    /// Events in the analysis.
    events: u64,
    facets: Facets,
}

impl ResultIndex {
    /// Parses a stored result.
    pub fn parse(json: &[u8]) -> Result<Self, serde_json::Error> {
        let doc: ResultDoc = serde_json::from_slice(json)?;
        let events = doc.summary.events;
        Ok(Self::new(doc, events))
    }

    /// Indexes `doc`, which holds `events` events.
    pub fn new(doc: ResultDoc, events: u64) -> Self {
        let lower = doc
            .patterns
            .iter()
            .map(|p| p.template.to_lowercase())
            .collect();
        let by_id = doc
            .patterns
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect::<HashMap<_, _>>();
        let buckets = doc.timeline.buckets.len();
        let mut spark = vec![Vec::new(); doc.patterns.len()];
        for series in &doc.timeline.series {
            if let Some(&i) = by_id.get(&series.pattern) {
                let mut counts = vec![0; buckets];
                for &(bucket, n) in &series.counts {
                    if let Some(slot) = counts.get_mut(bucket) {
                        *slot = n;
                    }
                }
                spark[i] = counts;
            }
        }
        let facets = facets(&doc.patterns);
        Self {
            doc,
            lower,
            by_id,
            spark,
            events,
            facets,
        }
    }

    /// Chain `c` with each step's template and severity.
    fn chain_view(&self, c: &ChainDoc) -> ChainView {
        ChainView {
            id: c.id.clone(),
            confidence: c.confidence,
            window_ms: c.window_ms,
            steps: c
                .patterns
                .iter()
                .map(|pid| {
                    let pattern = self.pattern(pid);
                    ChainStep {
                        pattern: pid.clone(),
                        template: pattern.map(|p| p.template.clone()).unwrap_or_default(),
                        severity: pattern.map(|p| p.severity.clone()).unwrap_or_default(),
                        link: c.links.iter().find(|l| l.to == *pid).cloned(),
                    }
                })
                .collect(),
        }
    }

    /// Files, the largest families and events over time.
    pub fn overview(&self) -> Overview {
        Overview {
            files: self.doc.files.clone(),
            families: self.doc.families.iter().take(20).cloned().collect(),
            family_count: self.doc.families.len() as u64,
            bucket_seconds: self.doc.timeline.bucket_seconds,
            buckets: self.doc.timeline.buckets.clone(),
            endpoints: self.doc.endpoints.iter().take(50).cloned().collect(),
            latency: app::charts::busiest(&self.doc.performance.endpoints),
            slow_operations: self.doc.performance.slow_operations.clone(),
            security: self.doc.security.iter().take(20).cloned().collect(),
            comparison: self.doc.comparison.clone(),
            chains: {
                let mut chains: Vec<&ChainDoc> = self.doc.chains.iter().collect();
                chains.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
                chains
                    .into_iter()
                    .take(OVERVIEW_CHAINS)
                    .map(|c| self.chain_view(c))
                    .collect()
            },
            chain_count: self.doc.chains.len() as u64,
            errors_by_category: app::charts::error_mix(&self.doc.patterns),
            severity_by_bucket: app::charts::severity_by_bucket(&self.doc),
        }
    }

    /// One page of the patterns `query` keeps, in its order.
    pub fn page(&self, query: &PatternQuery) -> PatternPage {
        let needle = query.q.trim().to_lowercase();
        let words: Vec<&str> = needle.split_whitespace().collect();
        let level_of = |p: &PatternDoc| p.level.as_deref().unwrap_or("none").to_owned();
        let mut kept: Vec<usize> = (0..self.doc.patterns.len())
            .filter(|&i| {
                let p = &self.doc.patterns[i];
                (query.severity.is_empty() || p.severity == query.severity)
                    && (query.category.is_empty() || p.category == query.category)
                    && (query.level.is_empty() || level_of(p) == query.level)
                    && (words.is_empty()
                        || p.id == needle
                        || words.iter().all(|w| self.lower[i].contains(w)))
            })
            .collect();
        let patterns = &self.doc.patterns;
        let by = |a: &usize, b: &usize| -> Ordering {
            let (x, y) = (&patterns[*a], &patterns[*b]);
            match query.sort {
                SortKey::Count => x.count.cmp(&y.count),
                SortKey::Risk => x.risk.score.total_cmp(&y.risk.score),
                SortKey::Severity => severity_rank(&x.severity)
                    .cmp(&severity_rank(&y.severity))
                    .then(x.count.cmp(&y.count)),
                SortKey::Template => x.template.cmp(&y.template),
                SortKey::Category => x.category.cmp(&y.category),
                SortKey::Level => {
                    level_rank(x.level.as_deref()).cmp(&level_rank(y.level.as_deref()))
                }
                SortKey::LastSeen => x.last_seen.cmp(&y.last_seen),
            }
        };
        // Stable sorts keep the result's order (most frequent first) among equals, whichever
        // way the column runs.
        if query.ascending() {
            kept.sort_by(by);
        } else {
            kept.sort_by(|a, b| by(b, a));
        }
        let matched = kept.len();
        let pages = matched.div_ceil(PER_PAGE).max(1);
        let page = query.page.clamp(1, pages);
        let items = kept
            .iter()
            .skip((page - 1) * PER_PAGE)
            .take(PER_PAGE)
            .map(|&i| {
                let p = &patterns[i];
                PatternItem {
                    id: p.id.clone(),
                    template: p.template.clone(),
                    count: p.count,
                    share: p.share,
                    level: p.level.clone(),
                    severity: p.severity.clone(),
                    category: p.category.clone(),
                    risk: p.risk.score,
                    last_seen: p.last_seen.clone(),
                    spark: self.spark[i].clone(),
                    is_error: p.is_error,
                }
            })
            .collect();
        PatternPage {
            total: patterns.len() as u64,
            matched: matched as u64,
            page,
            pages,
            items,
            facets: self.facets.clone(),
        }
    }

    /// Pattern `id` as stored.
    pub fn pattern(&self, id: &str) -> Option<&PatternDoc> {
        self.by_id.get(id).map(|&i| &self.doc.patterns[i])
    }

    /// Whether the analysis has pattern `id`.
    pub fn has_pattern(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Everything about pattern `id`, or `None` if the analysis has no such pattern.
    pub fn detail(&self, id: &str) -> Option<PatternDetail> {
        let &i = self.by_id.get(id)?;
        let pattern = self.doc.patterns[i].clone();
        let mut chains: Vec<ChainView> = self
            .doc
            .chains
            .iter()
            .filter(|c| c.patterns.iter().any(|p| p == id))
            .map(|c| self.chain_view(c))
            .collect();
        chains.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        // Two chains through this pattern can share every step up to it and part after it;
        // both are kept, as the engine reports them.
        let family = pattern
            .family
            .as_ref()
            .and_then(|f| self.doc.families.iter().find(|x| x.id == *f).cloned());
        let timeline = self
            .doc
            .timeline
            .buckets
            .iter()
            .zip(self.spark[i].iter().copied().chain(std::iter::repeat(0)))
            .map(|(b, n)| (b.start.clone(), n))
            .collect();
        Some(PatternDetail {
            pattern,
            events: self.events,
            patterns: self.doc.patterns.len() as u64,
            bucket_seconds: self.doc.timeline.bucket_seconds,
            timeline,
            family,
            chains,
        })
    }
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

fn level_rank(level: Option<&str>) -> u8 {
    match level {
        Some("fatal") => 8,
        Some("error") => 7,
        Some("warn") => 6,
        Some("notice") => 5,
        Some("info") => 4,
        Some("debug") => 3,
        Some("trace") => 2,
        Some(_) => 1,
        None => 0,
    }
}

fn facets(patterns: &[PatternDoc]) -> Facets {
    let mut severity: HashMap<&str, u64> = HashMap::new();
    let mut category: HashMap<&str, u64> = HashMap::new();
    let mut level: HashMap<&str, u64> = HashMap::new();
    for p in patterns {
        *severity.entry(&p.severity).or_default() += 1;
        *category.entry(&p.category).or_default() += 1;
        *level
            .entry(p.level.as_deref().unwrap_or("none"))
            .or_default() += 1;
    }
    let sorted = |map: HashMap<&str, u64>, rank: &dyn Fn(&str) -> i64| {
        let mut list: Vec<(String, u64)> =
            map.into_iter().map(|(k, n)| (k.to_owned(), n)).collect();
        list.sort_by(|a, b| rank(&b.0).cmp(&rank(&a.0)).then(a.0.cmp(&b.0)));
        list
    };
    Facets {
        severity: sorted(severity, &|s| i64::from(severity_rank(s))),
        category: {
            let counts = category.clone();
            sorted(category, &|c| counts.get(c).map_or(0, |&n| n as i64))
        },
        level: sorted(level, &|l| {
            i64::from(level_rank(if l == "none" { None } else { Some(l) }))
        }),
    }
}

/// The last few values built from something costly, by key; the least recently used is
/// dropped first.
pub struct Recent<V> {
    entries: Mutex<Vec<(String, Arc<V>)>>,
    capacity: usize,
}

impl<V> Recent<V> {
    /// Keeps at most `capacity` values.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(Vec::with_capacity(capacity + 1)),
            capacity,
        }
    }

    /// The value kept for `key`, now the most recently used.
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let at = entries.iter().position(|(k, _)| k == key)?;
        let entry = entries.remove(at);
        let hit = entry.1.clone();
        entries.push(entry);
        Some(hit)
    }

    /// Keeps `value` for `key`, replacing what was kept for it.
    pub fn put(&self, key: &str, value: Arc<V>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(k, _)| k != key);
        entries.push((key.to_owned(), value));
        if entries.len() > self.capacity {
            entries.remove(0);
        }
    }

    /// Forgets what was kept for `key`.
    pub fn forget(&self, key: &str) {
        self.forget_where(|k| k == key);
    }

    /// Forgets what was kept for every key `stale` picks.
    pub fn forget_where(&self, stale: impl Fn(&str) -> bool) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(k, _)| !stale(k));
    }
}

/// Parsed results by storage key.
pub struct ResultCache(Recent<ResultIndex>);

impl Default for ResultCache {
    fn default() -> Self {
        Self(Recent::new(CACHED_RESULTS))
    }
}

impl ResultCache {
    /// The parsed result stored at `key`, parsed now if it is not kept.
    pub async fn get(
        &self,
        storage: &crate::storage::Storage,
        key: &str,
    ) -> Result<Arc<ResultIndex>, ResultError> {
        if let Some(hit) = self.0.get(key) {
            return Ok(hit);
        }
        let bytes = storage.get(key).await.map_err(ResultError::Storage)?;
        // Parsing a large result takes a while; keep it off the async workers.
        let index = tokio::task::spawn_blocking(move || ResultIndex::parse(&bytes))
            .await
            .map_err(|e| ResultError::Damaged(e.to_string()))?
            .map_err(|e| ResultError::Damaged(e.to_string()))?;
        let index = Arc::new(index);
        self.0.put(key, index.clone());
        Ok(index)
    }

    /// Forgets the result at `key` (its analysis was deleted).
    pub fn forget(&self, key: &str) {
        self.0.forget(key);
    }
}

/// Why a result could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    /// Storage failed.
    #[error("the result could not be read: {0}")]
    Storage(crate::storage::StorageError),
    /// It is not a result.
    #[error("the stored result is damaged: {0}")]
    Damaged(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::patterns::{ChainDoc, LinkDoc, RiskDoc, SeriesDoc, TimelineDoc};

    fn pattern(
        id: &str,
        template: &str,
        count: u64,
        severity: &str,
        level: Option<&str>,
    ) -> PatternDoc {
        PatternDoc {
            id: id.into(),
            template: template.into(),
            count,
            severity: severity.into(),
            category: if template.contains("payment") {
                "payment"
            } else {
                "application"
            }
            .into(),
            level: level.map(str::to_owned),
            risk: RiskDoc {
                score: severity_rank(severity) as f64 / 4.0,
                ..RiskDoc::default()
            },
            last_seen: Some(format!("2026-12-01T10:00:0{}Z", 9 - count % 10)),
            family: (severity == "high").then(|| "f1".to_owned()),
            ..PatternDoc::default()
        }
    }

    fn index(n: usize) -> ResultIndex {
        let mut patterns = vec![
            pattern(
                "p1",
                "request <*> served in <*> ms",
                900,
                "low",
                Some("info"),
            ),
            pattern(
                "p2",
                "payment <*> failed: connection refused",
                50,
                "high",
                Some("error"),
            ),
            pattern("p3", "cache miss for <*>", 50, "medium", Some("warn")),
            pattern("p4", "worker <*> restarted", 3, "high", None),
        ];
        for i in 0..n {
            patterns.push(pattern(
                &format!("p{}", i + 5),
                &format!("filler {i} <*>"),
                1,
                "low",
                Some("debug"),
            ));
        }
        let doc = ResultDoc {
            patterns,
            chains: vec![ChainDoc {
                id: "c1".into(),
                root: "p4".into(),
                patterns: vec!["p4".into(), "p2".into()],
                links: vec![LinkDoc {
                    from: "p4".into(),
                    to: "p2".into(),
                    support: 7,
                    probability: 0.8,
                    lift: 4.0,
                    lag_ms: 120,
                    confidence: 0.42,
                }],
                confidence: 0.42,
                window_ms: 5000,
            }],
            timeline: TimelineDoc {
                bucket_seconds: Some(60),
                buckets: (0..3)
                    .map(|m| app::api::patterns::BucketDoc {
                        start: format!("2026-12-01T10:0{m}:00.000Z"),
                        ..Default::default()
                    })
                    .collect(),
                series: vec![SeriesDoc {
                    pattern: "p2".into(),
                    counts: vec![(0, 20), (2, 30), (9, 1)],
                }],
                ..TimelineDoc::default()
            },
            ..ResultDoc::default()
        };
        ResultIndex::new(doc, 1003 + n as u64)
    }

    fn ids(page: &PatternPage) -> Vec<&str> {
        page.items.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn filters_combine_and_search_matches_all_words() {
        let index = index(0);
        let q = |f: &dyn Fn(&mut PatternQuery)| {
            let mut query = PatternQuery::default();
            f(&mut query);
            index.page(&query)
        };
        assert_eq!(ids(&q(&|_| {})), ["p1", "p2", "p3", "p4"]);
        assert_eq!(ids(&q(&|q| q.severity = "high".into())), ["p2", "p4"]);
        assert_eq!(ids(&q(&|q| q.level = "none".into())), ["p4"]);
        assert_eq!(ids(&q(&|q| q.category = "payment".into())), ["p2"]);
        assert_eq!(ids(&q(&|q| q.q = "REFUSED payment".into())), ["p2"]);
        assert_eq!(
            ids(&q(&|q| q.q = "refused cache".into())),
            Vec::<&str>::new()
        );
        assert_eq!(
            ids(&q(&|q| q.q = "p3".into())),
            ["p3"],
            "a pattern id finds the pattern"
        );
        let none = q(&|q| q.severity = "critical".into());
        assert_eq!((none.matched, none.pages, none.page), (0, 1, 1));
    }

    #[test]
    fn sorts_both_ways_keeping_ties_in_frequency_order() {
        let index = index(0);
        let q = |sort, asc| {
            index.page(&PatternQuery {
                sort,
                asc,
                ..PatternQuery::default()
            })
        };
        assert_eq!(
            ids(&q(SortKey::Count, Some(true))),
            ["p4", "p2", "p3", "p1"]
        );
        assert_eq!(ids(&q(SortKey::Severity, None)), ["p2", "p4", "p3", "p1"]);
        assert_eq!(ids(&q(SortKey::Risk, None)), ["p2", "p4", "p3", "p1"]);
        assert_eq!(
            ids(&q(SortKey::Template, None)),
            ["p3", "p2", "p1", "p4"],
            "text sorts A to Z by default"
        );
        assert_eq!(ids(&q(SortKey::Level, None)), ["p2", "p3", "p1", "p4"]);
    }

    #[test]
    fn pages_hold_fifty_and_clamp() {
        let index = index(120);
        let page = |n| {
            index.page(&PatternQuery {
                page: n,
                ..PatternQuery::default()
            })
        };
        let first = page(1);
        assert_eq!((first.total, first.matched, first.pages), (124, 124, 3));
        assert_eq!(first.items.len(), PER_PAGE);
        let last = page(3);
        assert_eq!(last.items.len(), 24);
        assert_eq!(page(99).page, 3, "past the end shows the last page");
        assert_eq!(first.facets.severity[0], ("high".to_owned(), 2));
        assert_eq!(first.facets.level.last(), Some(&("none".to_owned(), 1)));
    }

    #[test]
    fn sparklines_fill_every_bucket_and_ignore_stray_ones() {
        let page = index(0).page(&PatternQuery::default());
        assert_eq!(page.items[1].spark, [20, 0, 30]);
        assert_eq!(page.items[0].spark, [0u64; 0], "no series, no sparkline");
    }

    #[test]
    fn detail_has_the_chain_family_and_timeline() {
        let index = index(0);
        let detail = index.detail("p2").expect("p2");
        assert_eq!(detail.timeline.len(), 3);
        assert_eq!(
            detail.timeline[2],
            ("2026-12-01T10:02:00.000Z".to_owned(), 30)
        );
        assert_eq!(detail.chains.len(), 1);
        let steps = &detail.chains[0].steps;
        assert_eq!(steps[0].template, "worker <*> restarted");
        assert!(steps[0].link.is_none());
        assert_eq!(steps[1].link.as_ref().map(|l| l.support), Some(7));
        assert!(index.detail("p999").is_none());
        let quiet = index.detail("p1").expect("p1");
        assert_eq!(
            quiet.timeline,
            [
                ("2026-12-01T10:00:00.000Z".to_owned(), 0),
                ("2026-12-01T10:01:00.000Z".to_owned(), 0),
                ("2026-12-01T10:02:00.000Z".to_owned(), 0)
            ]
        );
        assert!(quiet.chains.is_empty());
    }

    #[test]
    fn recent_values_drop_the_least_recently_used() {
        let recent = Recent::new(2);
        recent.put("a", Arc::new(1));
        recent.put("b", Arc::new(2));
        // Reading `a` makes `b` the oldest, so `c` pushes `b` out.
        assert_eq!(recent.get("a").as_deref(), Some(&1));
        recent.put("c", Arc::new(3));
        assert_eq!(recent.get("b"), None);
        assert_eq!(recent.get("a").as_deref(), Some(&1));
        assert_eq!(recent.get("c").as_deref(), Some(&3));
        // Putting a key again replaces its value without growing.
        recent.put("c", Arc::new(4));
        assert_eq!(recent.get("c").as_deref(), Some(&4));
        assert_eq!(recent.get("a").as_deref(), Some(&1));
        recent.forget("a");
        assert_eq!(recent.get("a"), None);
    }
}

//! Comparison with a previous analysis of the same source: which patterns are new, which are
//! gone, and which changed in rate.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::Analysis;

/// A rate must at least double or halve to count as changed …
const CHANGE_FACTOR: f64 = 2.0;
/// … with at least this many events on one side.
const MIN_EVENTS: u64 = 5;

/// The parts of a previous analysis the comparison reads.
#[derive(Debug, Deserialize)]
struct Previous {
    summary: PreviousSummary,
    patterns: Vec<PreviousPattern>,
}

#[derive(Debug, Deserialize)]
struct PreviousSummary {
    events: u64,
    span_seconds: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct PreviousPattern {
    template: String,
    count: u64,
}

/// The comparison section of an analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Events in the previous analysis.
    pub previous_events: u64,
    /// `per_hour` when both analyses have a time span, otherwise `per_1000_events`.
    pub rate_unit: &'static str,
    /// Patterns not seen before.
    pub new: Vec<Entry>,
    /// Patterns seen before but not now.
    pub gone: Vec<Entry>,
    /// Patterns whose rate at least doubled or halved.
    pub changed: Vec<Change>,
}

/// A pattern on one side only.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    /// Current pattern id (new patterns only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Template.
    pub template: String,
    /// Events.
    pub count: u64,
}

/// A pattern whose rate changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// Current pattern id.
    pub pattern: String,
    /// Template.
    pub template: String,
    /// Events before.
    pub previous_count: u64,
    /// Events now.
    pub count: u64,
    /// Rate before.
    pub previous_rate: f64,
    /// Rate now.
    pub rate: f64,
    /// `rate / previous_rate`.
    pub ratio: f64,
}

/// Why a previous analysis could not be used.
#[derive(Debug, thiserror::Error)]
#[error("not a Faultline analysis ({0})")]
pub struct CompareError(#[from] serde_json::Error);

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Compares `current` with the JSON of a previous analysis and returns the comparison.
pub fn compare(current: &Analysis, previous_json: &str) -> Result<Comparison, CompareError> {
    let previous: Previous = serde_json::from_str(previous_json)?;
    let spans = (
        previous.summary.span_seconds.filter(|s| *s > 0.0),
        current.summary.span_seconds.filter(|s| *s > 0.0),
    );
    let (rate_unit, prev_scale, cur_scale) = match spans {
        (Some(p), Some(c)) => ("per_hour", 3600.0 / p, 3600.0 / c),
        _ => (
            "per_1000_events",
            1000.0 / previous.summary.events.max(1) as f64,
            1000.0 / current.summary.events.max(1) as f64,
        ),
    };
    let before: FxHashMap<&str, u64> = previous
        .patterns
        .iter()
        .map(|p| (p.template.as_str(), p.count))
        .collect();
    let now: FxHashMap<&str, u64> = current
        .patterns
        .iter()
        .map(|p| (p.template.as_str(), p.count))
        .collect();
    let mut new = Vec::new();
    let mut changed = Vec::new();
    for p in &current.patterns {
        match before.get(p.template.as_str()) {
            None => new.push(Entry {
                pattern: Some(p.id.clone()),
                template: p.template.clone(),
                count: p.count,
            }),
            Some(&prev) => {
                let (previous_rate, rate) = (prev as f64 * prev_scale, p.count as f64 * cur_scale);
                let ratio = rate / previous_rate.max(f64::MIN_POSITIVE);
                let big_enough = prev.max(p.count) >= MIN_EVENTS;
                if big_enough && (ratio >= CHANGE_FACTOR || ratio <= 1.0 / CHANGE_FACTOR) {
                    changed.push(Change {
                        pattern: p.id.clone(),
                        template: p.template.clone(),
                        previous_count: prev,
                        count: p.count,
                        previous_rate: round(previous_rate),
                        rate: round(rate),
                        ratio: round(ratio),
                    });
                }
            }
        }
    }
    let gone = previous
        .patterns
        .iter()
        .filter(|p| !now.contains_key(p.template.as_str()))
        .map(|p| Entry {
            pattern: None,
            template: p.template.clone(),
            count: p.count,
        })
        .collect();
    changed.sort_by(|a, b| {
        let strength = |c: &Change| c.ratio.max(1.0 / c.ratio.max(f64::MIN_POSITIVE));
        strength(b)
            .total_cmp(&strength(a))
            .then_with(|| a.pattern.cmp(&b.pattern))
    });
    Ok(Comparison {
        previous_events: previous.summary.events,
        rate_unit,
        new,
        gone,
        changed,
    })
}

//! Bounded-memory statistics: top values with counts, and latency percentiles.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Serialize;

/// Distinct values tracked per counter; past this, new values are counted but not named.
pub const MAX_TRACKED: usize = 4096;
/// Values reported per counter.
pub const TOP: usize = 5;

/// Counts values exactly while there are at most [`MAX_TRACKED`] distinct ones.
#[derive(Clone, Debug, Default)]
pub struct TopValues {
    counts: FxHashMap<Box<str>, u64>,
    untracked: u64,
}

/// One value and how often it occurred.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValueCount {
    /// The value.
    pub value: String,
    /// Occurrences.
    pub count: u64,
}

/// A variable's summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValueSummary {
    /// Distinct values seen (a lower bound when `cardinality_exact` is false).
    pub cardinality: u64,
    /// False once more than the tracked number of distinct values occurred.
    pub cardinality_exact: bool,
    /// The most frequent values, most frequent first (ties by value).
    pub top: Vec<ValueCount>,
}

impl TopValues {
    /// Counts one occurrence of `value`.
    pub fn add(&mut self, value: &str) {
        if let Some(count) = self.counts.get_mut(value) {
            *count += 1;
        } else if self.counts.len() < MAX_TRACKED {
            self.counts.insert(value.into(), 1);
        } else {
            self.untracked += 1;
        }
    }

    /// The summary.
    pub fn summary(&self) -> ValueSummary {
        let mut top: Vec<(&str, u64)> = self.counts.iter().map(|(k, v)| (&**k, *v)).collect();
        top.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        ValueSummary {
            cardinality: self.counts.len() as u64 + u64::from(self.untracked > 0),
            cardinality_exact: self.untracked == 0,
            top: top
                .into_iter()
                .take(TOP)
                .map(|(value, count)| ValueCount {
                    value: value.to_owned(),
                    count,
                })
                .collect(),
        }
    }
}

/// Durations in a log-scaled histogram: percentiles within 2 %, memory independent of count.
#[derive(Clone, Debug, Default)]
pub struct Latency {
    buckets: BTreeMap<u32, u64>,
    count: u64,
    max_ms: f64,
    sum_ms: f64,
}

/// Percentiles of a set of durations, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    /// Number of durations.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest (exact).
    pub max_ms: f64,
    /// Mean (exact).
    pub mean_ms: f64,
}

const GROWTH: f64 = 1.02;

impl Latency {
    /// Records one duration in milliseconds; negative and non-finite values are ignored.
    pub fn add(&mut self, ms: f64) {
        if !ms.is_finite() || ms < 0.0 {
            return;
        }
        let bucket = ((ms * 1000.0 + 1.0).ln() / GROWTH.ln()) as u32;
        *self.buckets.entry(bucket).or_default() += 1;
        self.count += 1;
        self.sum_ms += ms;
        self.max_ms = self.max_ms.max(ms);
    }

    /// Number of durations.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn quantile(&self, q: f64) -> f64 {
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (&bucket, &n) in &self.buckets {
            seen += n;
            if seen >= rank {
                // Geometric middle of the bucket, back in milliseconds.
                let mid = GROWTH.powf(f64::from(bucket) + 0.5);
                return ((mid - 1.0) / 1000.0).min(self.max_ms);
            }
        }
        self.max_ms
    }

    /// The percentiles, or `None` when nothing was recorded.
    pub fn percentiles(&self) -> Option<Percentiles> {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        (self.count > 0).then(|| Percentiles {
            count: self.count,
            p50_ms: round(self.quantile(0.50)),
            p95_ms: round(self.quantile(0.95)),
            p99_ms: round(self.quantile(0.99)),
            max_ms: round(self.max_ms),
            mean_ms: round(self.sum_ms / self.count as f64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_values_are_exact_and_ordered() {
        let mut t = TopValues::default();
        for v in ["a", "b", "b", "c", "c", "c"] {
            t.add(v);
        }
        let s = t.summary();
        assert_eq!(s.cardinality, 3);
        assert!(s.cardinality_exact);
        assert_eq!(
            s.top[0],
            ValueCount {
                value: "c".into(),
                count: 3
            }
        );
    }

    #[test]
    fn percentiles_within_two_percent() {
        let mut l = Latency::default();
        for i in 1..=1000 {
            l.add(f64::from(i));
        }
        let p = l.percentiles().expect("some");
        for (got, want) in [(p.p50_ms, 500.0), (p.p95_ms, 950.0), (p.p99_ms, 990.0)] {
            assert!((got - want).abs() / want < 0.02, "{got} vs {want}");
        }
        assert_eq!(p.max_ms, 1000.0);
        assert_eq!(p.mean_ms, 500.5);
    }
}

//! Bounded-memory statistics: top values with counts, and latency percentiles.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Serialize;

/// Distinct values named per counter; past this, new values are counted and estimated, not
/// named.
pub const MAX_TRACKED: usize = 1024;
/// Distinct values named over all counters of one analysis, so memory stays bounded however
/// many patterns and variables a log has.
pub const TRACKED_BUDGET: usize = 1 << 20;
/// Values reported per counter.
pub const TOP: usize = 5;
/// HyperLogLog registers (2^8): a standard error of about 6.5 %.
const HLL_BITS: u32 = 8;

/// Names still available to every [`TopValues`] of an analysis.
#[derive(Debug)]
pub struct Budget(usize);

impl Default for Budget {
    fn default() -> Self {
        Self(TRACKED_BUDGET)
    }
}

/// Counts values exactly while there are at most [`MAX_TRACKED`] distinct ones (and the
/// [`Budget`] lasts); estimates how many distinct values there are beyond that.
#[derive(Clone, Debug, Default)]
pub struct TopValues {
    counts: FxHashMap<Box<str>, u64>,
    untracked: u64,
    /// Filled once values go untracked.
    sketch: Option<Box<[u8]>>,
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
    /// Distinct values: exact, or an estimate within a few percent when `cardinality_exact`
    /// is false.
    pub cardinality: u64,
    /// False once more distinct values occurred than are tracked.
    pub cardinality_exact: bool,
    /// The most frequent values, most frequent first (ties by value).
    pub top: Vec<ValueCount>,
}

impl TopValues {
    /// Counts one occurrence of `value`.
    pub fn add(&mut self, value: &str, budget: &mut Budget) {
        if let Some(count) = self.counts.get_mut(value) {
            *count += 1;
            return;
        }
        if self.counts.len() < MAX_TRACKED && budget.0 > 0 {
            budget.0 -= 1;
            self.counts.insert(value.into(), 1);
            return;
        }
        if self.untracked == 0 {
            // Start the estimate with every value named so far.
            let mut sketch = vec![0u8; 1 << HLL_BITS].into_boxed_slice();
            for known in self.counts.keys() {
                observe(&mut sketch, known);
            }
            self.sketch = Some(sketch);
        }
        self.untracked += 1;
        if let Some(sketch) = &mut self.sketch {
            observe(sketch, value);
        }
    }

    /// The summary.
    pub fn summary(&self) -> ValueSummary {
        let mut top: Vec<(&str, u64)> = self.counts.iter().map(|(k, v)| (&**k, *v)).collect();
        // Values are distinct, so this order is total: select the first TOP, then sort them.
        let order = |a: &(&str, u64), b: &(&str, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
        if top.len() > TOP {
            top.select_nth_unstable_by(TOP - 1, order);
            top.truncate(TOP);
        }
        top.sort_unstable_by(order);
        let named = self.counts.len() as u64;
        let cardinality = match &self.sketch {
            // Never fewer than the values named, plus at least one unnamed.
            Some(sketch) => estimate(sketch).max(named + 1),
            None => named,
        };
        ValueSummary {
            cardinality,
            cardinality_exact: self.untracked == 0,
            top: top
                .into_iter()
                .map(|(value, count)| ValueCount {
                    value: value.to_owned(),
                    count,
                })
                .collect(),
        }
    }
}

/// A well-mixed 64-bit hash (FxHash's low bits alone are too regular for HyperLogLog).
fn hash64(value: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    value.hash(&mut h);
    // splitmix64's finaliser.
    let mut z = h.finish().wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn observe(sketch: &mut [u8], value: &str) {
    let h = hash64(value);
    let register = (h >> (64 - HLL_BITS)) as usize;
    let rest = h << HLL_BITS;
    let rank = (rest.leading_zeros() + 1).min(64 - HLL_BITS + 1) as u8;
    if sketch[register] < rank {
        sketch[register] = rank;
    }
}

/// The HyperLogLog estimate, with the small-range (linear counting) correction.
fn estimate(sketch: &[u8]) -> u64 {
    let m = sketch.len() as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let sum: f64 = sketch.iter().map(|&r| 2f64.powi(-i32::from(r))).sum();
    let raw = alpha * m * m / sum;
    let zeros = sketch.iter().filter(|&&r| r == 0).count();
    let value = if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln()
    } else {
        raw
    };
    value.round() as u64
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

    /// Their sum, in milliseconds.
    pub fn total_ms(&self) -> f64 {
        self.sum_ms
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
        let mut budget = Budget::default();
        for v in ["a", "b", "b", "c", "c", "c"] {
            t.add(v, &mut budget);
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
    fn top_values_match_a_full_sort_with_ties() {
        // Counts 1..=6 repeat, so most values tie with others and order by value.
        let mut t = TopValues::default();
        let mut budget = Budget::default();
        let mut expected: Vec<(String, u64)> = Vec::new();
        for i in 0..60u64 {
            let value = format!("v{}", (i * 37) % 60);
            let count = i % 6 + 1;
            for _ in 0..count {
                t.add(&value, &mut budget);
            }
            expected.push((value, count));
        }
        expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let top: Vec<(String, u64)> = t
            .summary()
            .top
            .into_iter()
            .map(|v| (v.value, v.count))
            .collect();
        assert_eq!(top, expected[..TOP]);
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

    #[test]
    fn exact_until_the_limit_then_estimated() {
        let mut budget = Budget::default();
        let mut t = TopValues::default();
        for i in 0..500 {
            t.add(&format!("v{}", i % 50), &mut budget);
        }
        let s = t.summary();
        assert_eq!((s.cardinality, s.cardinality_exact), (50, true));
        assert_eq!(s.top[0].count, 10);

        let mut t = TopValues::default();
        for i in 0..100_000 {
            t.add(&format!("id-{i}"), &mut budget);
        }
        let s = t.summary();
        assert!(!s.cardinality_exact);
        let error = (s.cardinality as f64 - 100_000.0).abs() / 100_000.0;
        assert!(error < 0.2, "estimate {} for 100000", s.cardinality);
    }

    #[test]
    fn the_budget_bounds_every_counter_together() {
        let mut budget = Budget(10);
        let mut a = TopValues::default();
        let mut b = TopValues::default();
        for i in 0..8 {
            a.add(&i.to_string(), &mut budget);
            b.add(&i.to_string(), &mut budget);
        }
        assert_eq!(a.counts.len() + b.counts.len(), 10);
        assert!(!b.summary().cardinality_exact);
        assert!(b.summary().cardinality >= 3);
    }
}

//! Counts over time: buckets whose size adapts to the log's time span, counts per level and per
//! pattern in each bucket, and spikes where a pattern jumps far above its own baseline.

use serde::Serialize;

use crate::analysis::level::Level;
use crate::analysis::timestamp::format_rfc3339;

/// Candidate bucket sizes in seconds, smallest first.
const SIZES: [i64; 15] = [
    1,
    5,
    10,
    30,
    60,
    300,
    600,
    1800,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    7 * 86_400,
    30 * 86_400,
];
/// At most this many buckets.
const MAX_BUCKETS: i64 = 120;
/// A spike is at least this many events …
const SPIKE_MIN: u64 = 5;
/// … and this many standard deviations above the pattern's mean.
const SPIKE_SIGMA: f64 = 3.0;

/// The timeline of an analysis.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timeline {
    /// Bucket size in seconds; `None` when the log has no timestamps.
    pub bucket_seconds: Option<i64>,
    /// The buckets, oldest first.
    pub buckets: Vec<Bucket>,
    /// Per pattern, the non-empty buckets as `[bucket index, count]`.
    pub series: Vec<Series>,
    /// Buckets where a pattern spiked.
    pub spikes: Vec<Spike>,
    /// Events without a timestamp (not in any bucket).
    pub untimed_events: u64,
    /// Events whose time lies far outside the rest (a clock reset, a stray epoch), counted here
    /// rather than stretching the buckets.
    pub outlying_events: u64,
}

/// One time bucket.
#[derive(Clone, Debug, Serialize)]
pub struct Bucket {
    /// Start, RFC 3339.
    pub start: String,
    /// Events.
    pub total: u64,
    /// Events at ERROR or FATAL.
    pub errors: u64,
    /// Events at WARN.
    pub warnings: u64,
}

/// A pattern's counts over time.
#[derive(Clone, Debug, Serialize)]
pub struct Series {
    /// Pattern id.
    pub pattern: String,
    /// `[bucket index, count]` for each non-empty bucket.
    pub counts: Vec<(usize, u64)>,
}

/// A bucket where a pattern spiked.
#[derive(Clone, Debug, Serialize)]
pub struct Spike {
    /// Pattern id.
    pub pattern: String,
    /// Bucket index.
    pub bucket: usize,
    /// Bucket start.
    pub start: String,
    /// Events in the bucket.
    pub count: u64,
    /// The pattern's mean per bucket.
    pub baseline: f64,
}

/// Collects counts during the second pass.
pub struct Builder {
    start: i64,
    size_ms: i64,
    buckets: Vec<(u64, u64, u64)>,
    per_pattern: Vec<Vec<(usize, u64)>>,
    untimed: u64,
    outlying: u64,
    end: i64,
    timed: bool,
}

/// The range the buckets cover: every timestamp, unless a few outliers would stretch it more
/// than tenfold past where 99.8 % of the events lie (`sample`: evenly thinned event times).
pub fn range(full: Option<(i64, i64)>, sample: &[i64]) -> Option<(i64, i64)> {
    let (min, max) = full?;
    if sample.len() < 20 {
        return Some((min, max));
    }
    // Leave out at least one time at each end, and 0.1 % of them.
    let trim = ((sample.len() as f64 * 0.001).ceil() as usize).max(1);
    let (lo, hi) = (sample[trim], sample[sample.len() - 1 - trim]);
    let core = (hi - lo).max(60_000);
    if max - min > 10 * core {
        Some(((lo - core / 20).max(min), (hi + core / 20).min(max)))
    } else {
        Some((min, max))
    }
}

impl Builder {
    /// Sizes buckets for the time `range` (ms since the epoch).
    pub fn new(range: Option<(i64, i64)>, patterns: usize) -> Self {
        let (start, size_s, count) = match range {
            Some((a, b)) => {
                let span = ((b - a) / 1000).max(1);
                let size = SIZES
                    .iter()
                    .copied()
                    .find(|s| span / s < MAX_BUCKETS)
                    .unwrap_or(SIZES[SIZES.len() - 1]);
                let start = a.div_euclid(size * 1000) * size * 1000;
                let count = ((b - start) / (size * 1000) + 1) as usize;
                (start, size, count.min(MAX_BUCKETS as usize + 1))
            }
            None => (0, 0, 0),
        };
        Self {
            start,
            size_ms: size_s * 1000,
            buckets: vec![(0, 0, 0); count],
            per_pattern: vec![Vec::new(); patterns],
            untimed: 0,
            outlying: 0,
            end: range.map_or(0, |(_, b)| b),
            timed: range.is_some(),
        }
    }

    /// Counts one event.
    pub fn add(&mut self, ts: Option<i64>, level: Option<Level>, pattern: usize) {
        let Some(ts) = ts.filter(|_| self.timed) else {
            self.untimed += 1;
            return;
        };
        if ts < self.start || ts > self.end {
            self.outlying += 1;
            return;
        }
        let index = (((ts - self.start) / self.size_ms).max(0) as usize)
            .min(self.buckets.len().saturating_sub(1));
        let bucket = &mut self.buckets[index];
        bucket.0 += 1;
        bucket.1 += u64::from(level.is_some_and(|l| l >= Level::Error));
        bucket.2 += u64::from(level == Some(Level::Warn));
        let series = &mut self.per_pattern[pattern];
        match series.last_mut() {
            Some((i, n)) if *i == index => *n += 1,
            _ => match series.iter_mut().find(|(i, _)| *i == index) {
                Some((_, n)) => *n += 1,
                None => series.push((index, 1)),
            },
        }
    }

    /// The timeline, naming patterns by `ids`.
    pub fn finish(self, ids: &[String]) -> Timeline {
        let start_of = |i: usize| format_rfc3339(self.start + i as i64 * self.size_ms);
        let buckets: Vec<Bucket> = self
            .buckets
            .iter()
            .enumerate()
            .map(|(i, (total, errors, warnings))| Bucket {
                start: start_of(i),
                total: *total,
                errors: *errors,
                warnings: *warnings,
            })
            .collect();
        let mut series = Vec::new();
        let mut spikes = Vec::new();
        for (pattern, mut counts) in self.per_pattern.into_iter().enumerate() {
            if counts.is_empty() || ids[pattern].is_empty() {
                continue;
            }
            counts.sort_unstable();
            spikes.extend(find_spikes(&counts, buckets.len()).into_iter().map(
                |(bucket, count, baseline)| Spike {
                    pattern: ids[pattern].clone(),
                    bucket,
                    start: start_of(bucket),
                    count,
                    baseline,
                },
            ));
            series.push(Series {
                pattern: ids[pattern].clone(),
                counts,
            });
        }
        series.sort_by_key(|s| natural(&s.pattern));
        spikes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.bucket.cmp(&b.bucket)));
        Timeline {
            bucket_seconds: self.timed.then_some(self.size_ms / 1000),
            buckets,
            series,
            spikes,
            untimed_events: self.untimed,
            outlying_events: self.outlying,
        }
    }
}

/// `p12` sorts after `p2`.
fn natural(id: &str) -> u64 {
    id.trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(u64::MAX)
}

/// Buckets far above the series' own mean (over all buckets, empty ones included).
fn find_spikes(counts: &[(usize, u64)], buckets: usize) -> Vec<(usize, u64, f64)> {
    if buckets < 4 {
        return Vec::new();
    }
    let n = buckets as f64;
    let sum: f64 = counts.iter().map(|(_, c)| *c as f64).sum();
    let mean = sum / n;
    let var = counts
        .iter()
        .map(|(_, c)| (*c as f64 - mean).powi(2))
        .sum::<f64>()
        + (n - counts.len() as f64) * mean * mean;
    let sd = (var / n).sqrt();
    counts
        .iter()
        .filter(|(_, c)| *c >= SPIKE_MIN && *c as f64 > mean + SPIKE_SIGMA * sd)
        .map(|(i, c)| (*i, *c, (mean * 100.0).round() / 100.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_size_adapts_and_spikes_are_found() {
        let hour = 3_600_000;
        let mut b = Builder::new(Some((0, 24 * hour)), 1);
        for h in 0..24 {
            let n = if h == 15 { 60 } else { 2 };
            for _ in 0..n {
                b.add(Some(h * hour + 1000), Some(Level::Error), 0);
            }
        }
        let t = b.finish(&["p1".to_owned()]);
        assert_eq!(t.bucket_seconds, Some(1800));
        assert!(t.buckets.len() <= 121);
        assert_eq!(t.spikes.len(), 1);
        assert_eq!(t.spikes[0].count, 60);
        assert_eq!(t.buckets.iter().map(|b| b.total).sum::<u64>(), 2 * 23 + 60);
    }

    #[test]
    fn no_timestamps_no_buckets() {
        let mut b = Builder::new(None, 1);
        b.add(None, None, 0);
        let t = b.finish(&["p1".to_owned()]);
        assert_eq!(t.bucket_seconds, None);
        assert_eq!(t.untimed_events, 1);
    }
}

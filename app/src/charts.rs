//! The charts of an analysis, built from its result: the analysis page draws them on a canvas
//! and the PDF report renders the very same specs on the server, so both always agree.

use crate::api::compare::Comparison;
use crate::api::patterns::{BucketDoc, CategoryMix, LatencyDoc, PatternDoc, ResultDoc};
use crate::components::chart::{ChartSpec, ColorRole, HeatmapSpec, Series};
use crate::format::short;

/// Severities, most severe first, with their colours. [`CategoryMix::counts`] and the rows of
/// [`severity_by_bucket`] follow this order.
pub const SEVERITIES: [(&str, ColorRole); 5] = [
    ("critical", ColorRole::Critical),
    ("high", ColorRole::High),
    ("medium", ColorRole::Medium),
    ("low", ColorRole::Low),
    ("info", ColorRole::Info),
];

/// Position of `severity` in [`SEVERITIES`]; anything unknown counts as info.
pub fn severity_index(severity: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|(name, _)| *name == severity)
        .unwrap_or(SEVERITIES.len() - 1)
}

/// The colour of a severity.
pub fn severity_role(severity: &str) -> ColorRole {
    SEVERITIES[severity_index(severity)].1
}

/// Categories shown in the error distribution; the rest are summed into "other".
const CATEGORIES_SHOWN: usize = 10;

/// `10:05` for minute buckets, `10:05:30` for second buckets, `12-01` for days.
pub fn bucket_label(start: &str, bucket_seconds: Option<i64>) -> String {
    let range = match bucket_seconds {
        Some(s) if s >= 86_400 => 5..10,
        Some(s) if s < 60 => 11..19,
        _ => 11..16,
    };
    start.get(range).unwrap_or(start).to_owned()
}

/// `1 minute`, `5 minutes`, `1 hour`, …
pub fn bucket_name(bucket_seconds: Option<i64>) -> String {
    let Some(s) = bucket_seconds else {
        return "bucket".to_owned();
    };
    let (n, unit) = match s {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3600 == 0 => (s / 3600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    if n == 1 {
        unit.to_owned()
    } else {
        format!("{n} {unit}s")
    }
}

/// Events per bucket, stacked: errors, warnings, the rest. `None` with fewer than two buckets.
pub fn events_over_time(buckets: &[BucketDoc], bucket_seconds: Option<i64>) -> Option<ChartSpec> {
    if buckets.len() < 2 {
        return None;
    }
    let series = |name: &str, role, pick: fn(&BucketDoc) -> u64| Series {
        name: name.into(),
        role,
        values: buckets.iter().map(|b| pick(b) as f64).collect(),
    };
    Some(ChartSpec {
        title: format!("Events per {}", bucket_name(bucket_seconds)),
        x_label: "time (UTC)".into(),
        y_label: "events".into(),
        labels: buckets
            .iter()
            .map(|b| bucket_label(&b.start, bucket_seconds))
            .collect(),
        series: vec![
            series("errors", ColorRole::High, |b| b.errors),
            series("warnings", ColorRole::Medium, |b| b.warnings),
            series("other", ColorRole::Info, |b| {
                b.total.saturating_sub(b.errors + b.warnings)
            }),
        ],
        grouped: false,
    })
}

/// Endpoints shown in the latency chart.
const LATENCY_SHOWN: usize = 12;

/// The endpoints the latency chart shows: the busiest, most requests first.
pub fn busiest(latency: &[LatencyDoc]) -> Vec<LatencyDoc> {
    let mut by_requests = latency.to_vec();
    by_requests.sort_by_key(|l| std::cmp::Reverse(l.count));
    by_requests.truncate(LATENCY_SHOWN);
    by_requests
}

/// p50, p95 and p99 side by side per endpoint. `None` without timed endpoints.
pub fn latency(latency: &[LatencyDoc]) -> Option<ChartSpec> {
    if latency.is_empty() {
        return None;
    }
    let series = |name: &str, role, pick: fn(&LatencyDoc) -> f64| Series {
        name: name.into(),
        role,
        values: latency.iter().map(pick).collect(),
    };
    Some(ChartSpec {
        title: "Latency per endpoint (ms)".into(),
        x_label: "endpoint".into(),
        y_label: "ms".into(),
        labels: latency.iter().map(|l| short(&l.endpoint, 18)).collect(),
        series: vec![
            series("p50", ColorRole::Low, |l| l.p50_ms),
            series("p95", ColorRole::Medium, |l| l.p95_ms),
            series("p99", ColorRole::High, |l| l.p99_ms),
        ],
        grouped: true,
    })
}

/// Events of error patterns per category and severity, largest categories first; categories
/// past the tenth are summed into "other".
pub fn error_mix(patterns: &[PatternDoc]) -> Vec<CategoryMix> {
    let mut by_category: Vec<CategoryMix> = Vec::new();
    for p in patterns.iter().filter(|p| p.is_error) {
        let slot = match by_category.iter().position(|m| m.category == p.category) {
            Some(i) => i,
            None => {
                by_category.push(CategoryMix {
                    category: p.category.clone(),
                    counts: vec![0; SEVERITIES.len()],
                });
                by_category.len() - 1
            }
        };
        by_category[slot].counts[severity_index(&p.severity)] += p.count;
    }
    let total = |m: &CategoryMix| m.counts.iter().sum::<u64>();
    by_category.sort_by(|a, b| {
        total(b)
            .cmp(&total(a))
            .then_with(|| a.category.cmp(&b.category))
    });
    if by_category.len() > CATEGORIES_SHOWN {
        let rest = by_category.split_off(CATEGORIES_SHOWN - 1);
        let mut other = CategoryMix {
            category: "other".into(),
            counts: vec![0; SEVERITIES.len()],
        };
        for m in rest {
            for (sum, n) in other.counts.iter_mut().zip(m.counts) {
                *sum += n;
            }
        }
        by_category.push(other);
    }
    by_category
}

/// The error distribution: one bar per category, stacked by severity. `None` without errors.
pub fn error_distribution(mix: &[CategoryMix]) -> Option<ChartSpec> {
    if mix.is_empty() {
        return None;
    }
    let series = SEVERITIES
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            mix.iter()
                .any(|m| m.counts.get(*i).copied().unwrap_or(0) > 0)
        })
        .map(|(i, (name, role))| Series {
            name: (*name).into(),
            role: *role,
            values: mix
                .iter()
                .map(|m| m.counts.get(i).copied().unwrap_or(0) as f64)
                .collect(),
        })
        .collect();
    Some(ChartSpec {
        title: "Errors by category and severity".into(),
        x_label: "category".into(),
        y_label: "events".into(),
        labels: mix.iter().map(|m| short(&m.category, 14)).collect(),
        series,
        grouped: false,
    })
}

/// The trend across compared columns: one bar per column, stacked by severity, of events per
/// 1,000 (info left out, so errors and warnings are not dwarfed). `None` when no column has
/// any such events.
pub fn comparison_trend(comparison: &Comparison) -> Option<ChartSpec> {
    let per_mille = |column: usize, severity: usize| -> f64 {
        let c = &comparison.columns[column];
        let n = c.severity_events.get(severity).copied().unwrap_or(0);
        if c.events == 0 {
            0.0
        } else {
            (n as f64 * 1000.0 / c.events as f64 * 100.0).round() / 100.0
        }
    };
    let series: Vec<Series> = SEVERITIES[..SEVERITIES.len() - 1]
        .iter()
        .enumerate()
        .filter(|(i, _)| (0..comparison.columns.len()).any(|c| per_mille(c, *i) > 0.0))
        .map(|(i, (name, role))| Series {
            name: (*name).into(),
            role: *role,
            values: (0..comparison.columns.len())
                .map(|c| per_mille(c, i))
                .collect(),
        })
        .collect();
    (!series.is_empty()).then(|| ChartSpec {
        title: "Events per 1,000 by severity across the comparison".into(),
        x_label: if comparison.by_file {
            "file"
        } else {
            "analysis"
        }
        .into(),
        y_label: "per 1,000 events".into(),
        labels: comparison
            .columns
            .iter()
            .map(|c| short(&c.name, 16))
            .collect(),
        series,
        grouped: false,
    })
}

/// Events per severity (rows, in [`SEVERITIES`] order) and bucket (columns), from each
/// pattern's timeline.
pub fn severity_by_bucket(doc: &ResultDoc) -> Vec<Vec<u64>> {
    let buckets = doc.timeline.buckets.len();
    let mut rows = vec![vec![0; buckets]; SEVERITIES.len()];
    let severity: std::collections::HashMap<&str, usize> = doc
        .patterns
        .iter()
        .map(|p| (p.id.as_str(), severity_index(&p.severity)))
        .collect();
    for series in &doc.timeline.series {
        let Some(&row) = severity.get(series.pattern.as_str()) else {
            continue;
        };
        for &(bucket, n) in &series.counts {
            if let Some(cell) = rows[row].get_mut(bucket) {
                *cell += n;
            }
        }
    }
    rows
}

/// The severity × time heat map. `None` with fewer than two buckets or no events.
pub fn severity_heatmap(
    rows: &[Vec<u64>],
    buckets: &[BucketDoc],
    bucket_seconds: Option<i64>,
) -> Option<HeatmapSpec> {
    if buckets.len() < 2 || rows.iter().flatten().all(|&n| n == 0) {
        return None;
    }
    Some(HeatmapSpec {
        title: format!("Severity per {}", bucket_name(bucket_seconds)),
        x_label: "time (UTC)".into(),
        columns: buckets
            .iter()
            .map(|b| bucket_label(&b.start, bucket_seconds))
            .collect(),
        rows: SEVERITIES
            .iter()
            .zip(rows)
            .map(|((name, role), counts)| Series {
                name: (*name).into(),
                role: *role,
                values: counts.iter().map(|&n| n as f64).collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::patterns::{SeriesDoc, TimelineDoc};

    fn pattern(id: &str, category: &str, severity: &str, count: u64, is_error: bool) -> PatternDoc {
        PatternDoc {
            id: id.into(),
            category: category.into(),
            severity: severity.into(),
            count,
            is_error,
            ..PatternDoc::default()
        }
    }

    #[test]
    fn bucket_labels_fit_their_size() {
        assert_eq!(bucket_label("2026-12-01T10:05:00.000Z", Some(60)), "10:05");
        assert_eq!(
            bucket_label("2026-12-01T10:05:30.000Z", Some(1)),
            "10:05:30"
        );
        assert_eq!(
            bucket_label("2026-12-01T00:00:00.000Z", Some(86_400)),
            "12-01"
        );
        assert_eq!(bucket_name(Some(60)), "minute");
        assert_eq!(bucket_name(Some(300)), "5 minutes");
        assert_eq!(bucket_name(Some(7200)), "2 hours");
        assert_eq!(bucket_name(None), "bucket");
    }

    #[test]
    fn the_error_mix_counts_error_events_per_category_and_severity() {
        let mut patterns = vec![
            pattern("p1", "database", "high", 30, true),
            pattern("p2", "database", "critical", 5, true),
            pattern("p3", "api", "medium", 50, true),
            pattern("p4", "api", "info", 900, false),
        ];
        let mix = error_mix(&patterns);
        assert_eq!(mix.len(), 2);
        assert_eq!(mix[0].category, "api", "largest first");
        assert_eq!(
            mix[0].counts,
            vec![0, 0, 50, 0, 0],
            "info events are not errors"
        );
        assert_eq!(mix[1].counts, vec![5, 30, 0, 0, 0]);
        let chart = error_distribution(&mix).expect("a chart");
        let names: Vec<_> = chart.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["critical", "high", "medium"],
            "empty severities left out"
        );
        for i in 0..12 {
            patterns.push(pattern(
                &format!("q{i}"),
                &format!("c{i:02}"),
                "low",
                1,
                true,
            ));
        }
        let mix = error_mix(&patterns);
        assert_eq!(mix.len(), CATEGORIES_SHOWN);
        let other = mix.last().expect("other");
        assert_eq!(
            (other.category.as_str(), other.counts[3]),
            ("other", 5),
            "14 categories: 9 shown, 5 summed"
        );
        assert!(error_distribution(&[]).is_none());
    }

    #[test]
    fn the_heat_map_sums_each_severity_per_bucket() {
        let doc = ResultDoc {
            patterns: vec![
                pattern("p1", "db", "high", 3, true),
                pattern("p2", "db", "high", 2, true),
                pattern("p3", "api", "info", 9, false),
            ],
            timeline: TimelineDoc {
                bucket_seconds: Some(60),
                buckets: vec![
                    BucketDoc {
                        start: "2026-12-01T10:00:00.000Z".into(),
                        ..BucketDoc::default()
                    },
                    BucketDoc {
                        start: "2026-12-01T10:01:00.000Z".into(),
                        ..BucketDoc::default()
                    },
                ],
                series: vec![
                    SeriesDoc {
                        pattern: "p1".into(),
                        counts: vec![(0, 3)],
                    },
                    SeriesDoc {
                        pattern: "p2".into(),
                        counts: vec![(0, 1), (1, 1), (7, 5)],
                    },
                    SeriesDoc {
                        pattern: "p3".into(),
                        counts: vec![(1, 9)],
                    },
                    SeriesDoc {
                        pattern: "gone".into(),
                        counts: vec![(1, 4)],
                    },
                ],
                spikes: Vec::new(),
            },
            ..ResultDoc::default()
        };
        let rows = severity_by_bucket(&doc);
        assert_eq!(rows[1], vec![4, 1], "high: stray buckets ignored");
        assert_eq!(rows[4], vec![0, 9], "info");
        let heat = severity_heatmap(&rows, &doc.timeline.buckets, Some(60)).expect("a map");
        assert_eq!(heat.columns, ["10:00", "10:01"]);
        assert_eq!(heat.rows.len(), 5);
        assert!(severity_heatmap(&rows, &doc.timeline.buckets[..1], Some(60)).is_none());
    }
}

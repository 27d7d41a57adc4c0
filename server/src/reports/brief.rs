//! What the reports say in words: an executive summary of an analysis and recommendations, each
//! drawn from the result's own evidence (families, chains, endpoints, latency, security
//! findings, spikes and the comparison with the previous run) so a reader knows where to start.

use app::api::patterns::{PatternDoc, ResultDoc};
use app::format::{short, thousands};
use app::pages::status::format_uptime;

/// Recommendations kept, most urgent first.
const MAX_RECOMMENDATIONS: usize = 10;
/// An endpoint failing at least this share of at least [`MIN_REQUESTS`] requests is named.
const ERROR_RATE: f64 = 0.05;
const MIN_REQUESTS: u64 = 20;
/// An endpoint or operation this slow at p99 is named.
const SLOW_P99_MS: f64 = 1000.0;

/// How soon a recommendation deserves attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Security findings and critical errors.
    Urgent,
    /// Errors and failures users see.
    High,
    /// Latency, spikes and changes worth a look.
    Normal,
}

impl Priority {
    /// `urgent`, `high`, `normal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::High => "high",
            Self::Normal => "normal",
        }
    }
}

/// One thing to do, with the evidence behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    /// How soon.
    pub priority: Priority,
    /// What to do, in a line.
    pub title: String,
    /// Why: counts, times and where to look.
    pub detail: String,
}

/// The words of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Brief {
    /// The executive summary, a few sentences.
    pub summary: Vec<String>,
    /// Recommendations, most urgent first.
    pub recommendations: Vec<Recommendation>,
}

/// The patterns, riskiest first (ties by count).
pub fn by_risk(doc: &ResultDoc) -> Vec<&PatternDoc> {
    let mut patterns: Vec<_> = doc.patterns.iter().collect();
    patterns.sort_by(|a, b| {
        b.risk
            .score
            .total_cmp(&a.risk.score)
            .then_with(|| b.count.cmp(&a.count))
    });
    patterns
}

/// `12.5 %` of `part` in `whole`.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0 %".to_owned()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Writes the executive summary and the recommendations of `doc`.
pub fn brief(doc: &ResultDoc) -> Brief {
    Brief {
        summary: summary(doc),
        recommendations: recommendations(doc),
    }
}

fn summary(doc: &ResultDoc) -> Vec<String> {
    let s = &doc.summary;
    let mut out = Vec::new();
    let span = s
        .span_seconds
        .map(|secs| format!(" over {}", format_uptime(secs.round() as u64)))
        .unwrap_or_default();
    out.push(format!(
        "{} in {} from {}{span} form {}.",
        plural(s.events, "event", "events"),
        plural(s.lines, "line", "lines"),
        plural(doc.files.len() as u64, "file", "files"),
        plural(s.patterns, "pattern", "patterns"),
    ));
    if s.error_events == 0 {
        out.push("No event was logged as an error.".to_owned());
    } else {
        out.push(format!(
            "{} ({} of all events) {} into {} in {}; {} rated critical.",
            plural(s.error_events, "error event", "error events"),
            percent(s.error_events, s.events),
            if s.error_events == 1 { "falls" } else { "fall" },
            plural(s.error_patterns, "error pattern", "error patterns"),
            plural(s.families, "family", "families"),
            plural(s.critical_patterns, "pattern is", "patterns are"),
        ));
    }
    if let Some(top) = by_risk(doc).first().filter(|p| p.risk.score > 0.0) {
        out.push(format!(
            "The riskiest pattern is {} ({}, risk {:.2}): \"{}\".",
            top.id,
            plural(top.count, "event", "events"),
            top.risk.score,
            short(&top.template, 120)
        ));
    }
    if !doc.chains.is_empty() {
        out.push(format!(
            "{} link errors to what follows them.",
            plural(
                doc.chains.len() as u64,
                "root-cause chain",
                "root-cause chains"
            )
        ));
    }
    if !doc.security.is_empty() {
        let serious = doc
            .security
            .iter()
            .filter(|f| matches!(f.severity.as_str(), "critical" | "high"))
            .count() as u64;
        out.push(format!(
            "{} found, {} of them critical or high.",
            plural(
                doc.security.len() as u64,
                "security finding was",
                "security findings were"
            ),
            thousands(serious)
        ));
    }
    if let Some(c) = &doc.comparison {
        out.push(format!(
            "Against the previous analysis: {} new, {} gone, {} changed in rate.",
            plural(c.new.len() as u64, "pattern", "patterns"),
            thousands(c.gone.len() as u64),
            thousands(c.changed.len() as u64)
        ));
    }
    out
}

fn recommendations(doc: &ResultDoc) -> Vec<Recommendation> {
    let template = |id: &str| {
        doc.patterns
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_owned(), |p| short(&p.template, 100))
    };
    let mut out = Vec::new();

    for f in &doc.security {
        let priority = if matches!(f.severity.as_str(), "critical" | "high") {
            Priority::Urgent
        } else {
            Priority::Normal
        };
        let sources = f
            .sources
            .iter()
            .take(3)
            .map(|(source, n)| format!("{source} ({})", thousands(*n)))
            .collect::<Vec<_>>()
            .join(", ");
        let from = if sources.is_empty() {
            String::new()
        } else {
            format!(" Most from {sources}.")
        };
        out.push(Recommendation {
            priority,
            title: format!("Look into the {} finding", f.kind.replace('_', " ")),
            detail: format!(
                "{} ({}, {} severity).{from}",
                f.description,
                plural(f.count, "event", "events"),
                f.severity
            ),
        });
    }

    for c in doc.chains.iter().take(3) {
        let followers: Vec<String> = c
            .links
            .iter()
            .take(3)
            .map(|l| format!("\"{}\"", template(&l.to)))
            .collect();
        out.push(Recommendation {
            priority: Priority::High,
            title: format!("Fix the root cause {} first", c.root),
            detail: format!(
                "\"{}\" is followed within {} s by {} (confidence {:.2}); fixing it should \
                 remove those too.",
                template(&c.root),
                c.window_ms / 1000,
                followers.join(", "),
                c.confidence
            ),
        });
    }

    for f in doc.families.iter().take(3) {
        let priority = if f.severity == "critical" {
            Priority::Urgent
        } else {
            Priority::High
        };
        let frame = f
            .frames
            .first()
            .map(|frame| format!(" Start at {}.", frame.trim().trim_start_matches("at ")))
            .unwrap_or_default();
        out.push(Recommendation {
            priority,
            title: format!("Fix the error family \"{}\"", short(&f.title, 80)),
            detail: format!(
                "{} in {} ({} severity, {}).{frame}",
                plural(f.count, "event", "events"),
                plural(f.patterns.len() as u64, "pattern", "patterns"),
                f.severity,
                f.category
            ),
        });
    }

    for e in doc
        .endpoints
        .iter()
        .filter(|e| e.count >= MIN_REQUESTS && e.error_rate >= ERROR_RATE)
        .take(3)
    {
        out.push(Recommendation {
            priority: Priority::High,
            title: format!("Stop {} {} failing", e.method, e.path),
            detail: format!(
                "{:.1} % of its {} end in a 5xx status.",
                e.error_rate * 100.0,
                plural(e.count, "request", "requests")
            ),
        });
    }

    let slow = doc
        .performance
        .endpoints
        .iter()
        .map(|l| (l.endpoint.clone(), l))
        .chain(
            doc.performance
                .slow_operations
                .iter()
                .map(|l| (format!("\"{}\"", short(&l.template, 80)), l)),
        )
        .filter(|(_, l)| l.p99_ms >= SLOW_P99_MS)
        .take(3);
    for (what, l) in slow {
        out.push(Recommendation {
            priority: Priority::Normal,
            title: format!("Speed up {what}"),
            detail: format!(
                "p99 {:.0} ms, p50 {:.0} ms, slowest {:.0} ms over {} timed.",
                l.p99_ms,
                l.p50_ms,
                l.max_ms,
                plural(l.count, "event", "events")
            ),
        });
    }

    if let Some(s) = doc.timeline.spikes.first() {
        out.push(Recommendation {
            priority: Priority::Normal,
            title: format!("Explain the spike of {} at {}", s.pattern, s.start),
            detail: format!(
                "\"{}\" reached {} in one bucket against a usual {:.1}.",
                template(&s.pattern),
                thousands(s.count),
                s.baseline
            ),
        });
    }

    if let Some(c) = &doc.comparison {
        let new_errors: Vec<_> = c
            .new
            .iter()
            .filter(|n| {
                n.pattern
                    .as_deref()
                    .is_some_and(|id| doc.patterns.iter().any(|p| p.id == id && p.is_error))
            })
            .collect();
        if let Some(first) = new_errors.first() {
            out.push(Recommendation {
                priority: Priority::High,
                title: "Review the errors new since the previous analysis".to_owned(),
                detail: format!(
                    "{} appeared, the largest \"{}\" ({}).",
                    plural(new_errors.len() as u64, "error pattern", "error patterns"),
                    short(&first.template, 80),
                    plural(first.count, "event", "events")
                ),
            });
        }
    }

    // Stable: within a priority the order above (security, chains, families, …) holds.
    out.sort_by_key(|r| r.priority);
    out.truncate(MAX_RECOMMENDATIONS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> ResultDoc {
        serde_json::from_value(serde_json::json!({
            "summary": {"lines": 1200, "events": 1000, "patterns": 3, "error_patterns": 2, "error_events": 45,
                        "families": 1, "critical_patterns": 1, "span_seconds": 7260.0},
            "files": [{"name": "api.log"}],
            "patterns": [
                {"id": "p1", "template": "GET <*> 200", "count": 955, "severity": "info", "risk": {"score": 0.1}},
                {"id": "p2", "template": "db timeout after <*> ms", "count": 40, "is_error": true, "severity": "high", "risk": {"score": 0.7}},
                {"id": "p3", "template": "payment failed", "count": 5, "is_error": true, "severity": "critical", "risk": {"score": 0.9}}
            ],
            "families": [{"id": "f1", "title": "db timeout", "patterns": ["p2"], "count": 40, "severity": "high", "category": "database",
                          "frames": ["at db.Pool.acquire(Pool.java:88)"]}],
            "chains": [{"id": "c1", "root": "p2", "confidence": 0.8, "window_ms": 5000, "links": [{"from": "p2", "to": "p3"}]}],
            "endpoints": [
                {"method": "POST", "path": "/pay", "count": 100, "error_rate": 0.12},
                {"method": "GET", "path": "/rare", "count": 3, "error_rate": 1.0}
            ],
            "performance": {"endpoints": [{"endpoint": "POST /pay", "count": 100, "p50_ms": 80.0, "p99_ms": 2400.0, "max_ms": 3100.0}]},
            "security": [{"kind": "sql_injection", "severity": "critical", "description": "SQL in a query string", "count": 2,
                          "sources": [["10.0.0.9", 2]]}],
            "timeline": {"spikes": [{"pattern": "p2", "start": "2026-12-01T10:05:00Z", "count": 30, "baseline": 1.5}]},
            "comparison": {"new": [{"pattern": "p3", "template": "payment failed", "count": 5}], "gone": [], "changed": []}
        }))
        .expect("a result")
    }

    #[test]
    fn the_summary_gives_the_scale_errors_and_the_riskiest_pattern() {
        let b = brief(&doc());
        assert_eq!(
            b.summary[0],
            "1,000 events in 1,200 lines from 1 file over 2 h 1 min form 3 patterns."
        );
        assert!(
            b.summary[1].starts_with("45 error events (4.5 % of all events)"),
            "{:?}",
            b.summary
        );
        assert!(
            b.summary[2].contains("p3") && b.summary[2].contains("risk 0.90"),
            "{:?}",
            b.summary
        );
        assert!(
            b.summary
                .iter()
                .any(|s| s.contains("1 security finding was found"))
        );
    }

    #[test]
    fn recommendations_cite_their_evidence_most_urgent_first() {
        let recs = brief(&doc()).recommendations;
        let titles: Vec<&str> = recs.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles[0], "Look into the sql injection finding");
        assert!(recs[0].detail.contains("10.0.0.9 (2)"), "{:?}", recs[0]);
        assert!(titles.contains(&"Fix the root cause p2 first"));
        assert!(titles.contains(&"Stop POST /pay failing"));
        assert!(
            !titles.iter().any(|t| t.contains("/rare")),
            "too few requests to judge"
        );
        assert!(titles.contains(&"Speed up POST /pay"));
        assert!(titles.contains(&"Review the errors new since the previous analysis"));
        assert!(recs.windows(2).all(|w| w[0].priority <= w[1].priority));
        let family = recs
            .iter()
            .find(|r| r.title.contains("family"))
            .expect("family");
        assert!(
            family
                .detail
                .contains("Start at db.Pool.acquire(Pool.java:88)."),
            "{family:?}"
        );
    }

    #[test]
    fn a_quiet_log_gets_a_short_summary_and_nothing_to_do() {
        let quiet: ResultDoc = serde_json::from_value(serde_json::json!({
            "summary": {"lines": 1, "events": 1, "patterns": 1, "error_patterns": 0, "error_events": 0, "families": 0, "critical_patterns": 0},
            "files": [{"name": "a.log"}],
            "patterns": [{"id": "p1", "template": "started", "count": 1, "severity": "info"}]
        }))
        .expect("a result");
        let b = brief(&quiet);
        assert_eq!(b.summary[1], "No event was logged as an error.");
        assert!(b.recommendations.is_empty());
    }
}

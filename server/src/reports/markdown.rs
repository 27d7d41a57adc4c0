//! The Markdown report: the same for `faultline analyze --format markdown` and the web's
//! report.md.

use std::fmt::Write as _;

use app::api::patterns::ResultDoc;
use app::format::thousands;

use super::ModelSummary;
use super::brief::{brief, by_risk};

/// Patterns listed in the Markdown report, riskiest first.
const REPORT_PATTERNS: usize = 25;

/// Text for a Markdown table cell: one line, pipes escaped, in a code span when asked.
fn md_cell(text: &str, code: bool) -> String {
    let flat = text.replace(['\r', '\n'], " ").replace('|', "\\|");
    if code {
        // A backtick run longer than any inside keeps the span intact.
        let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest + 1);
        format!("{fence} {flat} {fence}")
    } else {
        flat
    }
}

/// A model's text as a Markdown paragraph that shows exactly that text: characters Markdown
/// or HTML would act on are escaped, a leading list marker kept as written.
fn md_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The Markdown report of a stored result (JSON), titled `title`.
pub fn markdown_of_json(title: &str, json: &[u8]) -> Result<String, serde_json::Error> {
    Ok(markdown(title, &serde_json::from_slice(json)?))
}

/// Renders the report: summary, files, the riskiest patterns, families, root causes,
/// endpoints, performance, the comparison with the previous run, context and spikes.
pub fn markdown(title: &str, doc: &ResultDoc) -> String {
    markdown_with(title, doc, None)
}

/// [`markdown`], with the executive summary a model wrote in place of the engine's.
pub fn markdown_with(title: &str, doc: &ResultDoc, summary: Option<&ModelSummary>) -> String {
    let mut out = String::new();
    let s = &doc.summary;
    let _ = writeln!(out, "# {}\n", md_cell(title, false));
    let _ = writeln!(out, "| | |\n|---|---:|");
    let when = |t: &Option<String>| t.clone().unwrap_or_else(|| "–".into());
    for (label, value) in [
        ("Lines", thousands(s.lines)),
        ("Events", thousands(s.events)),
        ("Patterns", thousands(s.patterns)),
        ("Error patterns", thousands(s.error_patterns)),
        ("Error events", thousands(s.error_events)),
        ("Error families", thousands(s.families)),
        ("Critical patterns", thousands(s.critical_patterns)),
        ("First event", when(&s.first_seen)),
        ("Last event", when(&s.last_seen)),
    ] {
        let _ = writeln!(out, "| {label} | {value} |");
    }

    let brief = brief(doc);
    match summary {
        Some(written) => {
            for block in &written.blocks {
                let _ = writeln!(out, "\n{}", md_text(block));
            }
            let _ = writeln!(
                out,
                "\n_Summary written by {}; every figure in this report is the engine's._",
                md_text(&written.by)
            );
        }
        None => {
            let _ = writeln!(out, "\n{}", brief.summary.join(" "));
        }
    }
    if !brief.recommendations.is_empty() {
        let _ = writeln!(out, "\n## Recommendations\n");
        for r in &brief.recommendations {
            let _ = writeln!(
                out,
                "- **{}** ({}): {}",
                md_cell(&r.title, false),
                r.priority.as_str(),
                md_cell(&r.detail, false)
            );
        }
    }

    let _ = writeln!(
        out,
        "\n## Files\n\n| File | Format | Lines | Events |\n|---|---|---:|---:|"
    );
    for f in &doc.files {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            md_cell(&f.name, false),
            f.format,
            thousands(f.lines),
            thousands(f.events)
        );
    }

    let by_risk = by_risk(doc);
    let _ = writeln!(
        out,
        "\n## Patterns by risk\n\n| Id | Risk | Severity | Category | Events | Template |\n|---|---:|---|---|---:|---|"
    );
    for p in by_risk.iter().take(REPORT_PATTERNS) {
        let _ = writeln!(
            out,
            "| {} | {:.2} | {} | {} | {} | {} |",
            p.id,
            p.risk.score,
            p.severity,
            p.category,
            thousands(p.count),
            md_cell(&p.template, true)
        );
    }
    if doc.patterns.len() > REPORT_PATTERNS {
        let _ = writeln!(
            out,
            "\n…and {} more patterns in the JSON and CSV exports.",
            thousands((doc.patterns.len() - REPORT_PATTERNS) as u64)
        );
    }

    if !doc.families.is_empty() {
        let _ = writeln!(
            out,
            "\n## Error families\n\n| Id | Kind | Severity | Events | Patterns | Title |\n|---|---|---|---:|---:|---|"
        );
        for f in &doc.families {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                f.id,
                f.kind,
                f.severity,
                thousands(f.count),
                f.patterns.len(),
                md_cell(&f.title, true)
            );
        }
    }

    if !doc.chains.is_empty() {
        let template = |id: &str| {
            doc.patterns
                .iter()
                .find(|p| p.id == id)
                .map_or_else(String::new, |p| md_cell(&p.template, true))
        };
        let _ = writeln!(out, "\n## Root causes and cascades\n");
        for c in &doc.chains {
            let _ = writeln!(
                out,
                "- **{}** (confidence {:.2}): {}",
                c.id,
                c.confidence,
                template(&c.root)
            );
            for l in &c.links {
                let _ = writeln!(
                    out,
                    "  - → {}: {} of its events follow within {} s (lift {:.1}, median lag {} ms)",
                    template(&l.to),
                    thousands(l.support),
                    c.window_ms / 1000,
                    l.lift,
                    l.lag_ms
                );
            }
        }
    }

    if !doc.endpoints.is_empty() {
        let _ = writeln!(
            out,
            "\n## Endpoints\n\n| Endpoint | Requests | 5xx rate | 4xx rate |\n|---|---:|---:|---:|"
        );
        for e in &doc.endpoints {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} % | {:.1} % |",
                md_cell(&format!("{} {}", e.method, e.path), true),
                thousands(e.count),
                e.error_rate * 100.0,
                e.client_error_rate * 100.0
            );
        }
    }

    let perf = &doc.performance;
    if !perf.endpoints.is_empty() || !perf.slow_operations.is_empty() {
        let _ = writeln!(
            out,
            "\n## Performance\n\n| What | Count | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|"
        );
        let rows = perf
            .endpoints
            .iter()
            .map(|e| (md_cell(&e.endpoint, true), e))
            .chain(
                perf.slow_operations
                    .iter()
                    .map(|p| (format!("{} {}", p.pattern, md_cell(&p.template, true)), p)),
            );
        for (what, l) in rows {
            let _ = writeln!(
                out,
                "| {what} | {} | {} | {} | {} | {} |",
                thousands(l.count),
                l.p50_ms,
                l.p95_ms,
                l.p99_ms,
                l.max_ms
            );
        }
    }

    if let Some(c) = &doc.comparison {
        let _ = writeln!(
            out,
            "\n## Compared with the previous analysis\n\n{} new, {} gone, {} changed in rate ({}).\n",
            c.new.len(),
            c.gone.len(),
            c.changed.len(),
            c.rate_unit.replace('_', " ")
        );
        for e in &c.new {
            let _ = writeln!(
                out,
                "- new: {} ({} events)",
                md_cell(&e.template, true),
                thousands(e.count)
            );
        }
        for e in &c.gone {
            let _ = writeln!(
                out,
                "- gone: {} ({} events before)",
                md_cell(&e.template, true),
                thousands(e.count)
            );
        }
        for ch in &c.changed {
            let _ = writeln!(
                out,
                "- ×{:.1}: {} ({} → {})",
                ch.ratio,
                md_cell(&ch.template, true),
                ch.previous_rate,
                ch.rate
            );
        }
    }

    if !doc.context.is_empty() {
        let _ = writeln!(
            out,
            "\n## Context\n\n| Kind | Value | Events | Found by |\n|---|---|---:|---|"
        );
        for v in &doc.context {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} ({}:{}) |",
                v.kind,
                md_cell(&v.value, true),
                thousands(v.count),
                md_cell(&v.evidence, false),
                md_cell(&v.file, false),
                v.line
            );
        }
    }

    if !doc.timeline.spikes.is_empty() {
        let _ = writeln!(
            out,
            "\n## Spikes\n\n| Pattern | Bucket start | Events | Baseline |\n|---|---|---:|---:|"
        );
        for s in &doc.timeline.spikes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                s.pattern,
                s.start,
                thousands(s.count),
                s.baseline
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_has_every_section_the_result_has() {
        let json = serde_json::json!({
            "summary": {"lines": 1200, "events": 1000, "patterns": 2, "error_patterns": 1, "error_events": 40,
                        "families": 1, "critical_patterns": 0, "first_seen": "2026-12-01T10:00:00.000Z", "last_seen": null},
            "files": [{"name": "a|b.log", "format": "plain", "lines": 1200, "events": 1000}],
            "patterns": [
                {"id": "p1", "template": "GET <*> 200", "count": 960, "severity": "low", "category": "api", "risk": {"score": 0.2}},
                {"id": "p2", "template": "db `timeout` after <*> ms", "count": 40, "severity": "high", "category": "database", "risk": {"score": 0.7}}
            ],
            "families": [{"id": "f1", "kind": "message", "title": "db timeout", "patterns": ["p2"], "count": 40, "severity": "high"}],
            "chains": [{"id": "c1", "root": "p1", "patterns": ["p1", "p2"], "confidence": 0.5, "window_ms": 5000,
                        "links": [{"from": "p1", "to": "p2", "support": 12, "lift": 3.0, "lag_ms": 40}]}],
            "endpoints": [{"method": "GET", "path": "/orders/{id}", "count": 960, "error_rate": 0.01, "client_error_rate": 0.0}],
            "performance": {"endpoints": [{"endpoint": "GET /orders/{id}", "count": 960, "p50_ms": 12.0, "p95_ms": 80.5, "p99_ms": 120.0, "max_ms": 300.0}],
                            "slow_operations": []},
            "comparison": {"rate_unit": "per_1k_events", "new": [{"template": "db `timeout` after <*> ms", "count": 40}], "gone": [], "changed": []},
            "context": [{"kind": "commit", "value": "abc123", "count": 3, "evidence": "commit=", "file": "a|b.log", "line": 1}],
            "timeline": {"spikes": [{"pattern": "p2", "start": "2026-12-01T10:05:00.000Z", "count": 30, "baseline": 1.5}]}
        });
        let md = markdown_of_json("nightly", &serde_json::to_vec(&json).expect("json"))
            .expect("renders");
        assert!(md.starts_with("# nightly\n"), "{md}");
        for section in [
            "## Recommendations",
            "## Files",
            "## Patterns by risk",
            "## Error families",
            "## Root causes and cascades",
            "## Endpoints",
            "## Performance",
            "## Compared with the previous analysis",
            "## Context",
            "## Spikes",
        ] {
            assert!(md.contains(section), "{section}:\n{md}");
        }
        let risky = md.find("| p2 |").expect("p2 listed");
        assert!(
            risky < md.find("| p1 |").expect("p1 listed"),
            "riskiest first"
        );
        assert!(md.contains("`` db `timeout` after <*> ms ``"), "{md}");
        assert!(md.contains("| a\\|b.log |"), "{md}");
        assert!(md.contains("| 1,200 |"), "{md}");
        insta::assert_snapshot!("markdown_report", md);
    }

    #[test]
    fn markdown_cells_stay_in_their_column() {
        assert_eq!(md_cell("a | b\nc", false), "a \\| b c");
        assert_eq!(md_cell("run `ls`", true), "`` run `ls` ``");
    }
}

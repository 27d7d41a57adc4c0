//! The analysis as Markdown, for people reading it in a terminal, a pull request or a ticket.

use std::fmt::Write;

use super::analyze::Analysis;

/// Patterns listed in full.
const TOP_PATTERNS: usize = 25;

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('`', "'")
}

/// Renders `analysis`.
pub fn render(analysis: &Analysis) -> String {
    let mut out = String::new();
    let s = &analysis.summary;
    let _ = writeln!(out, "# Log analysis\n");
    let _ = writeln!(out, "| | |\n|---|---:|");
    for (label, value) in [
        ("Lines", s.lines.to_string()),
        ("Events", s.events.to_string()),
        ("Patterns", s.patterns.to_string()),
        ("Error patterns", s.error_patterns.to_string()),
        ("Error events", s.error_events.to_string()),
        ("Error families", s.families.to_string()),
        ("Critical patterns", s.critical_patterns.to_string()),
        (
            "First event",
            s.first_seen.clone().unwrap_or_else(|| "–".into()),
        ),
        (
            "Last event",
            s.last_seen.clone().unwrap_or_else(|| "–".into()),
        ),
    ] {
        let _ = writeln!(out, "| {label} | {value} |");
    }
    let _ = writeln!(
        out,
        "\n## Files\n\n| File | Format | Lines | Events |\n|---|---|---:|---:|"
    );
    for f in &analysis.files {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&f.name),
            f.format,
            f.lines,
            f.events
        );
    }

    let mut by_risk: Vec<_> = analysis.patterns.iter().collect();
    by_risk.sort_by(|a, b| {
        b.risk
            .score
            .total_cmp(&a.risk.score)
            .then_with(|| b.count.cmp(&a.count))
    });
    let _ = writeln!(
        out,
        "\n## Patterns by risk\n\n| Id | Risk | Severity | Category | Count | Template |\n|---|---:|---|---|---:|---|"
    );
    for p in by_risk.iter().take(TOP_PATTERNS) {
        let _ = writeln!(
            out,
            "| {} | {:.2} | {:?} | {:?} | {} | `{}` |",
            p.id,
            p.risk.score,
            p.severity,
            p.category,
            p.count,
            cell(&p.template)
        );
    }
    if analysis.patterns.len() > TOP_PATTERNS {
        let _ = writeln!(
            out,
            "\n…and {} more patterns in the JSON output.",
            analysis.patterns.len() - TOP_PATTERNS
        );
    }

    if !analysis.families.is_empty() {
        let _ = writeln!(
            out,
            "\n## Error families\n\n| Id | Kind | Severity | Events | Patterns | Title |\n|---|---|---|---:|---:|---|"
        );
        for f in &analysis.families {
            let _ = writeln!(
                out,
                "| {} | {} | {:?} | {} | {} | `{}` |",
                f.id,
                f.kind,
                f.severity,
                f.count,
                f.patterns.len(),
                cell(&f.title)
            );
        }
    }
    if !analysis.chains.is_empty() {
        let template = |id: &str| {
            analysis
                .patterns
                .iter()
                .find(|p| p.id == id)
                .map_or_else(String::new, |p| cell(&p.template))
        };
        let _ = writeln!(out, "\n## Root causes and cascades\n");
        for c in &analysis.chains {
            let _ = writeln!(
                out,
                "- **{}** (confidence {:.2}): `{}`",
                c.id,
                c.confidence,
                template(&c.root)
            );
            for l in &c.links {
                let _ = writeln!(
                    out,
                    "  - → `{}`: {} of its events follow within {} s (lift {:.1}, median lag {} ms)",
                    template(&l.to),
                    l.support,
                    c.window_ms / 1000,
                    l.lift,
                    l.lag_ms
                );
            }
        }
    }
    if !analysis.endpoints.is_empty() {
        let _ = writeln!(
            out,
            "\n## Endpoints\n\n| Endpoint | Requests | 5xx rate | 4xx rate |\n|---|---:|---:|---:|"
        );
        for e in &analysis.endpoints {
            let _ = writeln!(
                out,
                "| `{} {}` | {} | {:.1} % | {:.1} % |",
                e.method,
                cell(&e.path),
                e.count,
                e.error_rate * 100.0,
                e.client_error_rate * 100.0
            );
        }
    }
    let perf = &analysis.performance;
    if !perf.endpoints.is_empty() || !perf.slow_operations.is_empty() {
        let _ = writeln!(
            out,
            "\n## Performance\n\n| What | Count | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|"
        );
        let rows = perf
            .endpoints
            .iter()
            .map(|e| (format!("`{}`", cell(&e.endpoint)), &e.latency))
            .chain(
                perf.slow_operations
                    .iter()
                    .map(|p| (format!("{} `{}`", p.pattern, cell(&p.template)), &p.latency)),
            );
        for (what, l) in rows {
            let _ = writeln!(
                out,
                "| {what} | {} | {} | {} | {} | {} |",
                l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
            );
        }
    }
    if let Some(c) = &analysis.comparison {
        let _ = writeln!(
            out,
            "\n## Compared with the previous analysis\n\n{} new, {} gone, {} changed in rate ({}).\n",
            c.new.len(),
            c.gone.len(),
            c.changed.len(),
            c.rate_unit.replace('_', " ")
        );
        for e in &c.new {
            let _ = writeln!(out, "- new: `{}` ({} events)", cell(&e.template), e.count);
        }
        for e in &c.gone {
            let _ = writeln!(
                out,
                "- gone: `{}` ({} events before)",
                cell(&e.template),
                e.count
            );
        }
        for ch in &c.changed {
            let _ = writeln!(
                out,
                "- ×{:.1}: `{}` ({} → {})",
                ch.ratio,
                cell(&ch.template),
                ch.previous_rate,
                ch.rate
            );
        }
    }
    if !analysis.context.is_empty() {
        let _ = writeln!(
            out,
            "\n## Context\n\n| Kind | Value | Events | Found by |\n|---|---|---:|---|"
        );
        for v in &analysis.context {
            let _ = writeln!(
                out,
                "| {:?} | `{}` | {} | {} ({}:{}) |",
                v.kind,
                cell(&v.value),
                v.count,
                v.evidence,
                cell(&v.file),
                v.line
            );
        }
    }
    if !analysis.timeline.spikes.is_empty() {
        let _ = writeln!(
            out,
            "\n## Spikes\n\n| Pattern | Bucket start | Events | Baseline |\n|---|---|---:|---:|"
        );
        for s in &analysis.timeline.spikes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                s.pattern, s.start, s.count, s.baseline
            );
        }
    }
    out
}

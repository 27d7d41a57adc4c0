//! Exports of a finished analysis, rendered from its stored result: the patterns as CSV and a
//! Markdown report (summary, the riskiest patterns, families, root-cause chains, files).

use std::fmt::Write as _;

use app::api::analyses::SummaryView;
use app::format::thousands;

use crate::ingest::results::ResultIndex;

/// Patterns in the Markdown report, riskiest first.
const REPORT_PATTERNS: usize = 25;

/// One RFC 4180 cell, defused: a value a spreadsheet would run as a formula gets a leading `'`.
pub fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// Every pattern, one row each, most frequent first.
pub fn patterns_csv(index: &ResultIndex) -> String {
    let mut out = String::from(
        "id,template,count,share,level,severity,category,is_error,risk,first_seen,last_seen,family\r\n",
    );
    for p in &index.doc.patterns {
        let cells = [
            p.id.clone(),
            p.template.clone(),
            p.count.to_string(),
            p.share.to_string(),
            p.level.clone().unwrap_or_default(),
            p.severity.clone(),
            p.category.clone(),
            p.is_error.to_string(),
            p.risk.score.to_string(),
            p.first_seen.clone().unwrap_or_default(),
            p.last_seen.clone().unwrap_or_default(),
            p.family.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Text for a Markdown table cell: one line, pipes escaped, in code when asked.
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

/// The Markdown report of analysis `name`.
pub fn markdown(name: &str, summary: &SummaryView, index: &ResultIndex) -> String {
    let doc = &index.doc;
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", name.replace(['\r', '\n'], " "));
    let _ = writeln!(out, "## Summary\n");
    let span = match (&summary.first_seen, &summary.last_seen) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "no timestamps".to_owned(),
    };
    for (k, v) in [
        ("Lines", thousands(summary.lines)),
        ("Events", thousands(summary.events)),
        ("Patterns", thousands(summary.patterns)),
        (
            "Error patterns",
            format!(
                "{} ({} events)",
                thousands(summary.error_patterns),
                thousands(summary.error_events)
            ),
        ),
        ("Error families", thousands(summary.families)),
        ("Critical patterns", thousands(summary.critical_patterns)),
        ("Time span", span),
    ] {
        let _ = writeln!(out, "- **{k}:** {v}");
    }

    let mut by_risk: Vec<_> = doc.patterns.iter().collect();
    by_risk.sort_by(|a, b| b.risk.score.total_cmp(&a.risk.score));
    let _ = writeln!(
        out,
        "\n## Riskiest patterns\n\n| Risk | Events | Severity | Category | Pattern | Template |\n|---:|---:|---|---|---|---|"
    );
    for p in by_risk.iter().take(REPORT_PATTERNS) {
        let _ = writeln!(
            out,
            "| {:.2} | {} | {} | {} | {} | {} |",
            p.risk.score,
            thousands(p.count),
            p.severity,
            p.category,
            p.id,
            md_cell(&p.template, true)
        );
    }
    if doc.patterns.len() > REPORT_PATTERNS {
        let _ = writeln!(
            out,
            "\n{} more patterns are in the CSV export.",
            thousands((doc.patterns.len() - REPORT_PATTERNS) as u64)
        );
    }

    if !doc.families.is_empty() {
        let _ = writeln!(
            out,
            "\n## Error families\n\n| Family | Kind | Events | Severity | Patterns |\n|---|---|---:|---|---|"
        );
        for f in &doc.families {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md_cell(&f.title, false),
                f.kind,
                thousands(f.count),
                f.severity,
                f.patterns.join(", ")
            );
        }
    }

    if !doc.chains.is_empty() {
        let _ = writeln!(out, "\n## Root-cause chains\n");
        let template = |id: &str| {
            doc.patterns
                .iter()
                .find(|p| p.id == id)
                .map(|p| md_cell(&p.template, true))
                .unwrap_or_default()
        };
        for c in &doc.chains {
            let _ = writeln!(
                out,
                "- **{}** (confidence {:.2}): {}",
                c.id,
                c.confidence,
                c.patterns
                    .iter()
                    .map(|p| format!("{p} {}", template(p)))
                    .collect::<Vec<_>>()
                    .join(" → ")
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(
            csv_cell("{\"a\":1,\"b\":2}"),
            "\"{\"\"a\"\":1,\"\"b\"\":2}\""
        );
    }

    #[test]
    fn markdown_cells_stay_in_their_column() {
        assert_eq!(md_cell("a | b\nc", false), "a \\| b c");
        assert_eq!(md_cell("run `ls`", true), "`` run `ls` ``");
    }
}

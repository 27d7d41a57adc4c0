//! The XLSX workbook: Summary, Patterns (every one), Findings, Tests and Timeline sheets, each
//! a plain table with a bold, frozen, filterable header so it sorts and pivots as people expect.
//! Text is always written as text, never as a formula.

use app::api::patterns::ResultDoc;
use app::api::testgen::Suite;
use app::charts::{SEVERITIES, severity_by_bucket};
use rust_xlsxwriter::{DocProperties, Format, Workbook, Worksheet, XlsxError};

use super::brief::brief;

/// Excel's longest cell text, and its last row.
const MAX_CELL: usize = 32_767;
const MAX_ROWS: usize = 1_048_575;

/// One cell.
enum Cell {
    Text(String),
    Number(f64),
    Int(u64),
    Bool(bool),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Self {
        s.map_or(Cell::Empty, Cell::Text)
    }
}

/// Text cut to what a cell holds.
fn fit(text: &str) -> String {
    if text.len() <= MAX_CELL {
        return text.to_owned();
    }
    let mut end = MAX_CELL - 3;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Writes a sheet: `columns` as (title, width in characters), then `rows`.
fn sheet(
    workbook: &mut Workbook,
    name: &str,
    columns: &[(&str, f64)],
    rows: impl Iterator<Item = Vec<Cell>>,
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let ws: &mut Worksheet = workbook.add_worksheet();
    ws.set_name(name)?;
    for (c, (title, width)) in columns.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, *title, &bold)?;
        ws.set_column_width(c, *width)?;
    }
    let mut last = 0;
    for (r, row) in rows.take(MAX_ROWS).enumerate() {
        let r = r as u32 + 1;
        last = r;
        for (c, cell) in row.into_iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, c, fit(&s))?;
                }
                Cell::Number(n) if n.is_finite() => {
                    ws.write_number(r, c, n)?;
                }
                Cell::Int(n) => {
                    ws.write_number(r, c, n as f64)?;
                }
                Cell::Bool(b) => {
                    ws.write_boolean(r, c, b)?;
                }
                Cell::Number(_) | Cell::Empty => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !columns.is_empty() {
        ws.autofilter(0, 0, last, columns.len() as u16 - 1)?;
    }
    Ok(())
}

/// The workbook of `doc`, titled `title`.
pub fn xlsx(title: &str, doc: &ResultDoc, tests: &Suite) -> Result<Vec<u8>, String> {
    write(title, doc, tests).map_err(|e| format!("the workbook could not be written: {e}"))
}

fn write(title: &str, doc: &ResultDoc, tests: &Suite) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(title)
            .set_author("Faultline"),
    );
    let s = &doc.summary;
    let words = brief(doc);

    let mut summary: Vec<Vec<Cell>> = vec![
        vec!["Analysis".into(), title.into()],
        vec!["Lines".into(), Cell::Int(s.lines)],
        vec!["Events".into(), Cell::Int(s.events)],
        vec!["Patterns".into(), Cell::Int(s.patterns)],
        vec!["Error patterns".into(), Cell::Int(s.error_patterns)],
        vec!["Error events".into(), Cell::Int(s.error_events)],
        vec!["Error families".into(), Cell::Int(s.families)],
        vec!["Critical patterns".into(), Cell::Int(s.critical_patterns)],
        vec![
            "Security findings".into(),
            Cell::Int(doc.security.len() as u64),
        ],
        vec![
            "Generated tests".into(),
            format!(
                "{} {} ({} of {} error patterns covered)",
                tests.tests,
                tests.framework.as_str(),
                tests.coverage.covered,
                tests.coverage.error_patterns
            )
            .into(),
        ],
        vec!["First event".into(), s.first_seen.clone().into()],
        vec!["Last event".into(), s.last_seen.clone().into()],
        vec![
            "Files".into(),
            doc.files
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
                .into(),
        ],
        vec!["Summary".into(), words.summary.join(" ").into()],
    ];
    for (i, r) in words.recommendations.iter().enumerate() {
        summary.push(vec![
            format!("Recommendation {} ({})", i + 1, r.priority.as_str()).into(),
            format!("{}: {}", r.title, r.detail).into(),
        ]);
    }
    sheet(
        &mut workbook,
        "Summary",
        &[("Item", 28.0), ("Value", 100.0)],
        summary.into_iter(),
    )?;

    sheet(
        &mut workbook,
        "Patterns",
        &[
            ("Id", 8.0),
            ("Template", 70.0),
            ("Events", 10.0),
            ("Share", 8.0),
            ("Level", 8.0),
            ("Severity", 10.0),
            ("Category", 14.0),
            ("Error", 7.0),
            ("Risk", 7.0),
            ("Risk: severity", 8.0),
            ("Risk: frequency", 8.0),
            ("Risk: impact", 8.0),
            ("Risk: recency", 8.0),
            ("Impact class", 14.0),
            ("First seen", 24.0),
            ("Last seen", 24.0),
            ("Family", 8.0),
            ("Example", 60.0),
        ],
        doc.patterns.iter().map(|p| {
            vec![
                p.id.as_str().into(),
                p.template.as_str().into(),
                Cell::Int(p.count),
                Cell::Number(p.share),
                p.level.clone().into(),
                p.severity.as_str().into(),
                p.category.as_str().into(),
                Cell::Bool(p.is_error),
                Cell::Number(p.risk.score),
                Cell::Number(p.risk.severity),
                Cell::Number(p.risk.frequency),
                Cell::Number(p.risk.impact),
                Cell::Number(p.risk.recency),
                p.risk.impact_class.as_str().into(),
                p.first_seen.clone().into(),
                p.last_seen.clone().into(),
                p.family.clone().into(),
                p.samples
                    .first()
                    .map(|x| format!("{}:{} {}", x.file, x.line, x.text))
                    .into(),
            ]
        }),
    )?;

    let template = |id: &str| {
        doc.patterns
            .iter()
            .find(|p| p.id == id)
            .map_or_else(String::new, |p| p.template.clone())
    };
    let security = doc.security.iter().map(|f| {
        vec![
            "security".into(),
            f.kind.as_str().into(),
            f.severity.as_str().into(),
            Cell::Int(f.count),
            f.description.as_str().into(),
            f.first_seen.clone().into(),
            f.last_seen.clone().into(),
            f.sources
                .iter()
                .map(|(s, n)| format!("{s} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
                .into(),
        ]
    });
    let families = doc.families.iter().map(|f| {
        vec![
            "error family".into(),
            f.id.as_str().into(),
            f.severity.as_str().into(),
            Cell::Int(f.count),
            f.title.as_str().into(),
            Cell::Empty,
            Cell::Empty,
            f.patterns.join(", ").into(),
        ]
    });
    let chains = doc.chains.iter().map(|c| {
        let links: Vec<String> = c
            .links
            .iter()
            .map(|l| {
                format!(
                    "{} → {} ({} events, lift {:.1})",
                    l.from, l.to, l.support, l.lift
                )
            })
            .collect();
        vec![
            "root cause".into(),
            c.id.as_str().into(),
            Cell::Empty,
            Cell::Int(c.links.iter().map(|l| l.support).sum()),
            format!("{} {}", c.root, template(&c.root)).into(),
            Cell::Empty,
            Cell::Empty,
            links.join("; ").into(),
        ]
    });
    let endpoints = doc.endpoints.iter().map(|e| {
        vec![
            "endpoint".into(),
            format!("{} {}", e.method, e.path).into(),
            Cell::Empty,
            Cell::Int(e.count),
            format!(
                "{:.1} % 5xx, {:.1} % 4xx",
                e.error_rate * 100.0,
                e.client_error_rate * 100.0
            )
            .into(),
            Cell::Empty,
            Cell::Empty,
            e.statuses
                .iter()
                .map(|(status, n)| format!("{status}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
                .into(),
        ]
    });
    sheet(
        &mut workbook,
        "Findings",
        &[
            ("Type", 14.0),
            ("Id", 24.0),
            ("Severity", 10.0),
            ("Events", 10.0),
            ("Description", 70.0),
            ("First seen", 24.0),
            ("Last seen", 24.0),
            ("Details", 60.0),
        ],
        security.chain(families).chain(chains).chain(endpoints),
    )?;

    sheet(
        &mut workbook,
        "Tests",
        &[
            ("Framework", 14.0),
            ("File", 50.0),
            ("Tests", 8.0),
            ("Patterns", 30.0),
            ("Validation", 40.0),
        ],
        tests.files.iter().filter(|f| f.tests > 0).map(|f| {
            let validation = match f.validation.errors.first() {
                None => "valid".to_owned(),
                Some(e) => format!("line {}: {}", e.line, e.message),
            };
            vec![
                tests.framework.as_str().into(),
                f.path.as_str().into(),
                Cell::Int(u64::from(f.tests)),
                f.patterns.join(", ").into(),
                validation.into(),
            ]
        }),
    )?;

    let rows = severity_by_bucket(doc);
    let mut columns = vec![
        ("Bucket start", 24.0),
        ("Events", 10.0),
        ("Errors", 10.0),
        ("Warnings", 10.0),
    ];
    columns.extend(SEVERITIES.iter().map(|(name, _)| (*name, 10.0)));
    sheet(
        &mut workbook,
        "Timeline",
        &columns,
        doc.timeline.buckets.iter().enumerate().map(|(i, b)| {
            let mut row = vec![
                b.start.as_str().into(),
                Cell::Int(b.total),
                Cell::Int(b.errors),
                Cell::Int(b.warnings),
            ];
            row.extend(
                rows.iter()
                    .map(|r| Cell::Int(r.get(i).copied().unwrap_or(0))),
            );
            row
        }),
    )?;

    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlong_text_is_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_CELL);
        let cut = fit(&long);
        assert!(cut.len() <= MAX_CELL);
        assert!(cut.ends_with('…'));
        assert_eq!(fit("short"), "short");
    }

    #[test]
    fn the_workbook_is_a_zip_with_five_sheets() {
        let doc: ResultDoc = serde_json::from_value(serde_json::json!({
            "summary": {"lines": 1, "events": 1, "patterns": 1, "error_patterns": 0, "error_events": 0, "families": 0, "critical_patterns": 0},
            "patterns": [{"id": "p1", "template": "=HYPERLINK(\"x\")", "count": 1, "severity": "info"}]
        }))
        .expect("a result");
        let tests =
            crate::testgen::generate(&doc, &crate::testgen::Request::default()).expect("a suite");
        let bytes = xlsx("t", &doc, &tests).expect("a workbook");
        assert!(bytes.starts_with(b"PK"), "a zip");
    }
}

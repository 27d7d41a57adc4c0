//! Exports of an analysis, all rendered from its stored result: the patterns as CSV, the
//! Markdown report, the PDF report (with the analysis page's charts rendered to SVG on the
//! server) and the XLSX workbook. [`brief`] holds what the reports say in words: the executive
//! summary and the recommendations.

use crate::ingest::results::ResultIndex;

pub mod brief;
pub mod charts;
mod markdown;
pub mod pdf;
pub mod xlsx;

pub use markdown::{markdown, markdown_of_json, markdown_with};

/// An executive summary a model wrote, as the reports show it: plain text blocks (the model's
/// Markdown read, never rendered, so nothing in it can run) and who wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSummary {
    /// `OpenAI · gpt-4o-mini`.
    pub by: String,
    /// Paragraphs, headings and list items (`• …`, `1. …`), in order.
    pub blocks: Vec<String>,
}

impl ModelSummary {
    /// Reads `markdown` written by `provider`'s `model`.
    pub fn new(provider: &str, model: &str, markdown: &str) -> Self {
        Self {
            by: format!("{provider} · {model}"),
            blocks: text_blocks(markdown),
        }
    }
}

/// The text of `markdown`, one string per paragraph, heading or list item; inline markup and
/// raw HTML become plain text.
pub fn text_blocks(markdown: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut blocks = Vec::new();
    let mut current = String::new();
    // Per open list: the next number, or none for bullets.
    let mut lists: Vec<Option<u64>> = Vec::new();
    let flush = |current: &mut String, blocks: &mut Vec<String>| {
        let text = current.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            blocks.push(text);
        }
        current.clear();
    };
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::List(start)) => {
                flush(&mut current, &mut blocks);
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                flush(&mut current, &mut blocks);
                let indent = "  ".repeat(lists.len().saturating_sub(1));
                match lists.last_mut() {
                    Some(Some(n)) => {
                        current.push_str(&format!("{indent}{n}. "));
                        *n += 1;
                    }
                    _ => current.push_str(&format!("{indent}• ")),
                }
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock,
            ) => {
                flush(&mut current, &mut blocks);
            }
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                current.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => current.push(' '),
            _ => {}
        }
    }
    flush(&mut current, &mut blocks);
    blocks
}

/// An analysis just made, read as the reports read a stored one.
pub fn doc_of_analysis(
    analysis: &crate::analysis::analyze::Analysis,
) -> Result<app::api::patterns::ResultDoc, serde_json::Error> {
    serde_json::from_value(serde_json::to_value(analysis)?)
}

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
}

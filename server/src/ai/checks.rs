//! Checks of a model's output against what its task asked for, shown beside each model in a
//! comparison: something was written, it keeps to the length, it has the asked-for structure,
//! and it carries no raw HTML (which is shown as text, never run).

use app::api::ai::{AiTask, Check};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// What a task's prompt asks of the answer's shape.
struct Shape {
    max_words: usize,
    /// Headings the answer must have, compared without case.
    sections: &'static [&'static str],
    /// Top-level list items it must have (inclusive range), if a list is asked for.
    items: Option<(usize, usize)>,
}

fn shape(task: AiTask) -> Shape {
    match task {
        AiTask::Explain => Shape {
            max_words: super::prompts::EXPLAIN_WORDS,
            sections: &["What it means", "Likely cause", "What to do"],
            items: None,
        },
        AiTask::Recommend => Shape {
            max_words: super::prompts::RECOMMEND_WORDS,
            sections: &[],
            items: Some((1, super::prompts::MAX_FIXES)),
        },
        AiTask::Summary => Shape {
            max_words: super::prompts::SUMMARY_WORDS,
            sections: &["Next steps"],
            items: None,
        },
        AiTask::Tests => Shape {
            max_words: usize::MAX,
            sections: &[],
            items: None,
        },
    }
}

/// What the Markdown holds, as far as the checks care.
#[derive(Default)]
struct Read {
    words: usize,
    headings: Vec<String>,
    top_items: usize,
    html: Option<String>,
}

fn read(markdown: &str) -> Read {
    let mut out = Read::default();
    let mut heading: Option<String> = None;
    let mut lists = 0usize;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => out.headings.extend(heading.take()),
            Event::Start(Tag::List(_)) => lists += 1,
            Event::End(TagEnd::List(_)) => lists = lists.saturating_sub(1),
            Event::Start(Tag::Item) if lists == 1 => out.top_items += 1,
            Event::Text(text) | Event::Code(text) => {
                out.words += text.split_whitespace().count();
                if let Some(h) = &mut heading {
                    h.push_str(&text);
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                out.html
                    .get_or_insert_with(|| html.trim().chars().take(40).collect());
            }
            _ => {}
        }
    }
    out
}

/// A bold line standing alone (`**Likely cause**`) is how some models write a heading.
fn bold_lines(markdown: &str) -> impl Iterator<Item = &str> {
    markdown.lines().filter_map(|l| {
        let l = l.trim().trim_end_matches(':');
        l.strip_prefix("**")?.strip_suffix("**")
    })
}

/// Checks `markdown` against what `task` asked for.
pub fn check(task: AiTask, markdown: &str) -> Vec<Check> {
    let shape = shape(task);
    let read = read(markdown);
    let mut checks = vec![Check {
        name: "Says something".into(),
        passed: read.words > 0,
        detail: (read.words == 0).then(|| "The answer is empty.".into()),
    }];
    if shape.max_words != usize::MAX {
        checks.push(Check {
            name: format!("At most {} words", shape.max_words),
            passed: read.words <= shape.max_words,
            detail: (read.words > shape.max_words).then(|| format!("{} words.", read.words)),
        });
    }
    if !shape.sections.is_empty() {
        let has = |wanted: &str| {
            read.headings
                .iter()
                .map(String::as_str)
                .chain(bold_lines(markdown))
                .any(|h| h.trim().eq_ignore_ascii_case(wanted))
        };
        let missing: Vec<&str> = shape.sections.iter().copied().filter(|s| !has(s)).collect();
        checks.push(Check {
            name: format!("Has the sections {}", shape.sections.join(", ")),
            passed: missing.is_empty(),
            detail: (!missing.is_empty()).then(|| format!("Missing: {}.", missing.join(", "))),
        });
    }
    if let Some((least, most)) = shape.items {
        let n = read.top_items;
        checks.push(Check {
            name: format!("A list of {least} to {most} items"),
            passed: (least..=most).contains(&n),
            detail: (!(least..=most).contains(&n)).then(|| format!("{n} items.")),
        });
    }
    checks.push(Check {
        name: "No raw HTML".into(),
        passed: read.html.is_none(),
        detail: read
            .html
            .map(|h| format!("Contains {h:?}; it is shown as text.")),
    });
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(checks: &[Check]) -> Vec<&str> {
        checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect()
    }

    #[test]
    fn a_well_formed_explanation_passes() {
        let md = "### What it means\n\nThe pool ran dry.\n\n### Likely cause\n\nA leak.\n\n**What to do**\n\n- Raise the pool size.";
        assert_eq!(failed(&check(AiTask::Explain, md)), Vec::<&str>::new());
    }

    #[test]
    fn missing_sections_length_and_html_are_named() {
        let long = "word ".repeat(400);
        let md = format!("## What it means\n\n{long}\n\n<b>bold</b>");
        let checks = check(AiTask::Explain, &md);
        let names = failed(&checks);
        assert!(names.contains(&"At most 300 words"), "{names:?}");
        assert!(names.iter().any(|n| n.starts_with("Has the sections")));
        assert!(names.contains(&"No raw HTML"));
        let sections = checks
            .iter()
            .find(|c| c.name.starts_with("Has the sections"))
            .and_then(|c| c.detail.clone())
            .unwrap_or_default();
        assert_eq!(sections, "Missing: Likely cause, What to do.");
    }

    #[test]
    fn recommendations_are_a_short_list_and_empty_answers_fail() {
        let md = "1. **Raise the pool.** Because.\n   - nested detail\n2. **Add a timeout.** So.";
        assert_eq!(failed(&check(AiTask::Recommend, md)), Vec::<&str>::new());
        let six = (1..=6).map(|i| format!("{i}. fix\n")).collect::<String>();
        assert_eq!(
            failed(&check(AiTask::Recommend, &six)),
            ["A list of 1 to 5 items"]
        );
        let checks = check(AiTask::Summary, "  ");
        let empty = failed(&checks);
        assert!(
            empty.contains(&"Says something") && empty.contains(&"Has the sections Next steps")
        );
    }
}

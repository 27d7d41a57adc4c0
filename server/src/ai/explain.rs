//! Explaining a pattern: the prompt a model gets, and the built-in engine's own explanation,
//! which answers when no model is configured, AI is off, or every provider fails.

use std::fmt::Write as _;

use app::api::patterns::PatternDetail;

/// Characters of a sample or stack trace put in a prompt.
const SAMPLE_CHARS: usize = 600;
const STACK_CHARS: usize = 2000;

/// The system prompt for explanations.
pub const SYSTEM: &str = "You are a senior site-reliability engineer. You explain one recurring \
log pattern from a production service to the engineers who own it: what it means, the most \
likely root cause given the evidence, and what to check or change. Be specific to the evidence; \
say when it is not enough. Answer in Markdown with the headings 'What it means', 'Likely cause' \
and 'What to do'. No more than 300 words.";

fn cut(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// The evidence about the pattern, as the prompt states it.
pub fn prompt(detail: &PatternDetail) -> String {
    let p = &detail.pattern;
    let mut out = String::new();
    let _ = writeln!(out, "Log pattern (variables written <*>): {}", p.template);
    let _ = writeln!(
        out,
        "Seen {} times ({:.2} % of {} events), level {}, severity {} ({}), category {}.",
        p.count,
        p.share * 100.0,
        detail.events,
        p.level.as_deref().unwrap_or("unknown"),
        p.severity,
        p.severity_rule,
        p.category
    );
    if let (Some(first), Some(last)) = (&p.first_seen, &p.last_seen) {
        let _ = writeln!(out, "First seen {first}, last seen {last}.");
    }
    let _ = writeln!(
        out,
        "Risk {:.2} (impact class {}).",
        p.risk.score, p.risk.impact_class
    );
    for (i, v) in p.variables.iter().enumerate().take(6) {
        let values: Vec<String> = v
            .top
            .iter()
            .take(5)
            .map(|t| format!("{} ({})", cut(&t.value, 80), t.count))
            .collect();
        if !values.is_empty() {
            let _ = writeln!(out, "Variable {}: {}", i + 1, values.join(", "));
        }
    }
    if let Some(family) = &detail.family {
        let _ = write!(out, "Error family: {}", family.title);
        if let Some(exception) = &family.exception {
            let _ = write!(out, " (exception {exception})");
        }
        if !family.frames.is_empty() {
            let _ = write!(out, ", top frames: {}", family.frames.join(" < "));
        }
        out.push('\n');
    }
    for chain in detail.chains.iter().take(3) {
        let steps: Vec<String> = chain
            .steps
            .iter()
            .map(|s| format!("[{}] {}", s.pattern, cut(&s.template, 120)))
            .collect();
        let _ = writeln!(
            out,
            "Chain (confidence {:.2}): {}",
            chain.confidence,
            steps.join(" → ")
        );
    }
    for sample in p.samples.iter().take(2) {
        let _ = writeln!(
            out,
            "Sample ({} line {}): {}",
            sample.file,
            sample.line,
            cut(&sample.text, SAMPLE_CHARS)
        );
        if let Some(stack) = &sample.stack {
            let _ = writeln!(out, "Stack trace:\n{}", cut(stack, STACK_CHARS));
        }
    }
    out
}

/// What to check first for a category.
pub fn advice(category: &str) -> &'static [&'static str] {
    match category {
        "database" => &[
            "Check the connection pool's size against the load and for connections that are never returned.",
            "Look at slow queries and locks at the times of the spikes.",
            "Make timeouts and retries explicit, with backoff, so a slow database does not pile up requests.",
        ],
        "network" | "dependency" => &[
            "Check the health and latency of the upstream service at the times shown.",
            "Give calls to it timeouts, bounded retries with backoff, and a circuit breaker.",
            "Decide what users see when it is down (a fallback or a clear error), and test that path.",
        ],
        "auth" => &[
            "Tell apart users mistyping from many failures per address or account (brute force).",
            "Check that failures are rate-limited and that messages do not reveal which part was wrong.",
            "Look for expired or rotated credentials in services that call each other.",
        ],
        "validation" => &[
            "Find the clients sending the rejected input and whether the contract changed.",
            "Make sure invalid input is refused with a 4xx and a message, never a 5xx.",
        ],
        "resource" => &[
            "Chart memory, file handles and disk over the same period; look for steady growth.",
            "Set limits and alerts before the resource runs out, and release what is held on error paths.",
        ],
        "configuration" => &[
            "Compare the configuration of the failing instances with the healthy ones.",
            "Validate configuration at start-up so a bad value fails fast.",
        ],
        "payment" => &[
            "Check the payment provider's status and the failing requests' idempotency keys.",
            "Make sure a failed charge is never retried without an idempotency key.",
        ],
        "security" => &[
            "Block or rate-limit the sources, and confirm nothing reached the application code.",
            "Check that the requests were refused and revealed nothing.",
        ],
        _ => &[
            "Find the code that logs this message and the inputs in the samples.",
            "Reproduce with the logged values in a test; the generated tests are a start.",
        ],
    }
}

/// The built-in engine's explanation, from the analysis alone.
pub fn built_in(detail: &PatternDetail) -> String {
    let p = &detail.pattern;
    let mut out = String::new();
    let _ = writeln!(out, "### What it means\n");
    let _ = writeln!(
        out,
        "`{}` was logged {} times ({:.1} % of all events){}. The engine rates it **{}** ({}) in the **{}** category, with a risk of {:.2}: severity {:.2}, frequency {:.2}, business impact {:.2} ({}), recency {:.2}.",
        p.template.replace('`', "'"),
        p.count,
        p.share * 100.0,
        match (&p.first_seen, &p.last_seen) {
            (Some(first), Some(last)) => format!(" between {first} and {last}"),
            _ => String::new(),
        },
        p.severity,
        p.severity_rule,
        p.category,
        p.risk.score,
        p.risk.severity,
        p.risk.frequency,
        p.risk.impact,
        p.risk.impact_class,
        p.risk.recency,
    );
    let _ = writeln!(out, "\n### Likely cause\n");
    let mut cause = false;
    if let Some(family) = &detail.family {
        cause = true;
        let _ = write!(out, "It belongs to the error family **{}**", family.title);
        if let Some(exception) = &family.exception {
            let _ = write!(out, " (`{exception}`)");
        }
        if let Some(frame) = family.frames.first() {
            let _ = write!(out, ", raised in `{frame}`");
        }
        out.push_str(".\n");
    }
    for chain in detail.chains.iter().take(3) {
        let Some(position) = chain.steps.iter().position(|s| s.pattern == p.id) else {
            continue;
        };
        cause = true;
        if position > 0 {
            let before = &chain.steps[position - 1];
            let _ = writeln!(
                out,
                "- It tends to follow `{}` ({}; chain confidence {:.2}): start there.",
                before.template.replace('`', "'"),
                before.pattern,
                chain.confidence
            );
        }
        if let Some(after) = chain.steps.get(position + 1) {
            let _ = writeln!(
                out,
                "- It tends to come before `{}` ({}; chain confidence {:.2}): fixing it may stop that too.",
                after.template.replace('`', "'"),
                after.pattern,
                chain.confidence
            );
        }
    }
    if !cause {
        out.push_str("The analysis found no stack trace or preceding pattern for it; the samples are the best evidence.\n");
    }
    let _ = writeln!(out, "\n### What to do\n");
    for line in advice(&p.category) {
        let _ = writeln!(out, "- {line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_covers_unknown_categories() {
        assert!(!advice("database").is_empty());
        assert!(!advice("something new").is_empty());
    }
}

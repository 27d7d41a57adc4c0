//! Fix suggestions and summaries: what a model is asked, and what the built-in engine writes
//! when no model answers. Explanations live in [`super::explain`]. Each prompt states the
//! analysis' evidence only; the answers' shape is checked by [`super::checks`].

use std::fmt::Write as _;

use app::api::patterns::{PatternDetail, ResultDoc};
use app::format::short;

use crate::reports::brief;

/// Longest explanation asked for, in words.
pub const EXPLAIN_WORDS: usize = 300;
/// Longest list of fixes asked for, in words.
pub const RECOMMEND_WORDS: usize = 250;
/// Most fixes asked for.
pub const MAX_FIXES: usize = 5;
/// Longest summary asked for, in words.
pub const SUMMARY_WORDS: usize = 200;

/// The system prompt for fix suggestions.
pub const RECOMMEND_SYSTEM: &str = "You are a senior software engineer reviewing production \
evidence. Suggest concrete fixes for the problem the evidence shows, most effective first. \
Answer in Markdown as a numbered list of at most 5 items; each starts with the fix in bold, \
then one or two sentences on why it helps and how to verify it. Base every item on the \
evidence; do not invent services or code. No more than 250 words.";

/// The system prompt for summaries.
pub const SUMMARY_SYSTEM: &str = "You are writing the executive summary of a log analysis for \
engineering managers who will not read the logs. Say in one paragraph what happened, how bad it \
is and what is most likely behind it, with the figures that matter. Then a heading 'Next steps' \
with up to three bullets. Answer in Markdown. No more than 200 words.";

/// The evidence about one pattern, for fix suggestions.
pub fn pattern_prompt(detail: &PatternDetail) -> String {
    let mut out = super::explain::prompt(detail);
    out.push_str("\nSuggest fixes for this pattern.\n");
    out
}

/// The evidence about a whole analysis: its figures, riskiest patterns, families, chains,
/// failing endpoints, security findings, and the engine's own recommendations.
pub fn analysis_prompt(doc: &ResultDoc) -> String {
    let mut out = String::new();
    let words = brief::brief(doc);
    for line in &words.summary {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "\nRiskiest patterns (variables written <*>):");
    for p in brief::by_risk(doc).into_iter().take(8) {
        let _ = writeln!(
            out,
            "- [{}] {} — {} events, level {}, severity {}, category {}, risk {:.2}",
            p.id,
            short(&p.template, 160),
            p.count,
            p.level.as_deref().unwrap_or("unknown"),
            p.severity,
            p.category,
            p.risk.score
        );
    }
    if !doc.families.is_empty() {
        let _ = writeln!(out, "\nError families:");
        for f in doc.families.iter().take(5) {
            let exception = f
                .exception
                .as_deref()
                .map(|e| format!(", exception {e}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} ({} events, {}{exception})",
                short(&f.title, 120),
                f.count,
                f.severity
            );
        }
    }
    let template = |id: &str| {
        doc.patterns
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_owned(), |p| short(&p.template, 80))
    };
    if !doc.chains.is_empty() {
        let _ = writeln!(out, "\nRoot-cause chains:");
        for c in doc.chains.iter().take(3) {
            let steps: Vec<String> = c.patterns.iter().map(|p| template(p)).collect();
            let _ = writeln!(
                out,
                "- {} (confidence {:.2})",
                steps.join(" → "),
                c.confidence
            );
        }
    }
    let failing: Vec<_> = doc
        .endpoints
        .iter()
        .filter(|e| e.error_rate > 0.0)
        .take(5)
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "\nEndpoints with server errors:");
        for e in failing {
            let _ = writeln!(
                out,
                "- {} {}: {} requests, {:.1} % 5xx",
                e.method,
                e.path,
                e.count,
                e.error_rate * 100.0
            );
        }
    }
    if !doc.security.is_empty() {
        let _ = writeln!(out, "\nSecurity findings:");
        for f in doc.security.iter().take(5) {
            let _ = writeln!(
                out,
                "- {} ({}, {} events): {}",
                f.kind.replace('_', " "),
                f.severity,
                f.count,
                short(&f.description, 160)
            );
        }
    }
    if !words.recommendations.is_empty() {
        let _ = writeln!(out, "\nThe analysis engine's own recommendations:");
        for r in words.recommendations.iter().take(6) {
            let _ = writeln!(out, "- [{}] {}: {}", r.priority.as_str(), r.title, r.detail);
        }
    }
    out
}

/// The built-in fix suggestions for one pattern.
pub fn pattern_fixes(detail: &PatternDetail) -> String {
    let p = &detail.pattern;
    let mut items = Vec::new();
    let before = detail.chains.iter().find_map(|c| {
        let at = c.steps.iter().position(|s| s.pattern == p.id)?;
        at.checked_sub(1).map(|i| (&c.steps[i], c.confidence))
    });
    if let Some((before, confidence)) = before {
        items.push(format!(
            "**Fix what comes first.** `{}` ({}) tends to precede this pattern (chain confidence {confidence:.2}); fixing it may stop this one too.",
            short(&before.template, 120).replace('`', "'"),
            before.pattern
        ));
    }
    if let Some(family) = &detail.family
        && let Some(frame) = family.frames.first()
    {
        items.push(format!(
            "**Start at `{}`.** It is the top in-app frame of the {} family{}.",
            frame.replace('`', "'"),
            short(&family.title, 80).replace('`', "'"),
            family
                .exception
                .as_deref()
                .map(|e| format!(" (`{e}`)"))
                .unwrap_or_default()
        ));
    }
    let room = MAX_FIXES.saturating_sub(items.len());
    items.extend(
        super::explain::advice(&p.category)
            .iter()
            .take(room)
            .map(|a| (*a).to_owned()),
    );
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        let _ = writeln!(out, "{}. {item}", i + 1);
    }
    out
}

/// The built-in recommendations for the whole analysis.
pub fn analysis_fixes(doc: &ResultDoc) -> String {
    let words = brief::brief(doc);
    if words.recommendations.is_empty() {
        return "1. **Nothing calls for a fix.** No errors, failing endpoints or security findings stand out; keep the generated tests in CI.\n".into();
    }
    let mut out = String::new();
    for (i, r) in words.recommendations.iter().take(MAX_FIXES).enumerate() {
        let _ = writeln!(out, "{}. **{}.** {}", i + 1, r.title, r.detail);
    }
    out
}

/// The built-in executive summary.
pub fn summary(doc: &ResultDoc) -> String {
    let words = brief::brief(doc);
    let mut out = words.summary.join(" ");
    out.push_str("\n\n### Next steps\n\n");
    if words.recommendations.is_empty() {
        out.push_str("- Nothing stands out; keep the generated tests in CI.\n");
    }
    for r in words.recommendations.iter().take(3) {
        let _ = writeln!(out, "- {}.", r.title);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_prompts_state_the_limits_the_checks_hold_them_to() {
        assert!(
            super::super::explain::SYSTEM.contains(&format!("No more than {EXPLAIN_WORDS} words"))
        );
        assert!(RECOMMEND_SYSTEM.contains(&format!("No more than {RECOMMEND_WORDS} words")));
        assert!(RECOMMEND_SYSTEM.contains(&format!("at most {MAX_FIXES} items")));
        assert!(SUMMARY_SYSTEM.contains(&format!("No more than {SUMMARY_WORDS} words")));
        assert!(SUMMARY_SYSTEM.contains("'Next steps'"));
    }
}

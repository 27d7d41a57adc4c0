//! Error families: error patterns grouped the way people triage them. Stack traces group by
//! exception type plus the top in-app frames (as Sentry does); other messages by similar
//! templates of the same category, never across unrelated wording.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::classify::{Category, Severity};

/// Frames from these prefixes belong to runtimes and frameworks, not the application.
const LIBRARY_FRAMES: [&str; 22] = [
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "kotlin.",
    "scala.",
    "org.springframework.",
    "org.apache.",
    "io.netty.",
    "node:internal",
    "internal/",
    "node_modules",
    "/usr/lib/python",
    "site-packages",
    "<frozen",
    "runtime.",
    "std::",
    "core::",
    "tokio::",
    "System.",
    "Microsoft.",
    "reflect.",
];

/// What identifies a stack trace for grouping.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fingerprint {
    /// `java.lang.IllegalStateException`, `ValueError`, `TypeError`, `panic`.
    pub exception: String,
    /// Up to three in-app frames, outermost last.
    pub frames: Vec<String>,
}

/// Reads the exception type and in-app frames of a stack trace.
pub fn fingerprint(message: &str, stack: &str) -> Fingerprint {
    let mut exception = String::new();
    let mut frames = Vec::new();
    for line in stack.lines().chain(std::iter::once(message)) {
        let t = line.trim();
        if let Some(frame) = frame_of(t) {
            if frames.len() < 3 && !LIBRARY_FRAMES.iter().any(|p| frame.contains(p)) {
                frames.push(frame);
            }
        } else if exception.is_empty() {
            exception = exception_of(t).unwrap_or_default();
        }
    }
    Fingerprint { exception, frames }
}

/// A stack frame's location without line numbers (they move between releases).
fn frame_of(line: &str) -> Option<String> {
    let strip_line = |s: &str| s.split(':').next().unwrap_or(s).to_owned();
    if let Some(rest) = line.strip_prefix("at ") {
        // Java `at a.b.C.m(C.java:10)`, .NET `at A.B.M() in x.cs:line 3`, Node `at fn (file:1:2)`
        // and `at async fn (file:1:2)` (the same frame, awaited).
        let rest = rest.strip_prefix("async ").unwrap_or(rest);
        let name = rest.split(['(', ' ']).next().unwrap_or(rest);
        return Some(strip_line(name));
    }
    if let Some(rest) = line.strip_prefix("File \"") {
        // Python `File "app.py", line 3, in handle`.
        let file = rest.split('"').next().unwrap_or(rest);
        let func = rest.rsplit(", in ").next().unwrap_or("");
        return Some(format!("{file} in {func}"));
    }
    if line.ends_with(')') && line.contains('(') && !line.contains(' ') {
        // Go `main.handler(0x1, 0x2)`.
        return line.split('(').next().map(str::to_owned);
    }
    None
}

/// `java.lang.NullPointerException: x` → `java.lang.NullPointerException`; `panic: …` → `panic`.
fn exception_of(line: &str) -> Option<String> {
    let line = line.strip_prefix("Caused by: ").unwrap_or(line);
    let line = line
        .strip_prefix("Exception in thread ")
        .map_or(line, |rest| {
            rest.split_once(' ').map_or(rest, |(_, tail)| tail)
        });
    let name = line.split([':', ' ']).next()?;
    if name == "panic" {
        return Some("panic".to_owned());
    }
    let looks_like_type = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))
        && (name.ends_with("Exception")
            || name.ends_with("Error")
            || name.ends_with("Throwable")
            || name.ends_with("Fault"));
    looks_like_type.then(|| name.to_owned())
}

/// One error pattern as families see it.
#[derive(Clone, Debug)]
pub struct Member {
    /// Pattern id.
    pub id: String,
    /// Template text.
    pub template: String,
    /// Events.
    pub count: u64,
    /// Severity.
    pub severity: Severity,
    /// Category.
    pub category: Category,
    /// Fingerprint of the pattern's stack traces, when it has them.
    pub fingerprint: Option<Fingerprint>,
}

/// A group of related error patterns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Family {
    /// `f1`, `f2`, … in order of decreasing event count.
    pub id: String,
    /// `exception` or `message`.
    pub kind: &'static str,
    /// A short title: the exception type, or the most frequent template.
    pub title: String,
    /// The exception type, for exception families.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
    /// In-app frames that identify it, for exception families.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<String>,
    /// Member pattern ids, most frequent first.
    pub patterns: Vec<String>,
    /// Events in all member patterns.
    pub count: u64,
    /// The highest member severity.
    pub severity: Severity,
    /// The category of the most frequent member.
    pub category: Category,
}

/// Word sets overlap enough for two messages to be one family.
const SIMILARITY: f64 = 0.6;

fn words(template: &str) -> Vec<String> {
    let mut w: Vec<String> = template
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .map(str::to_ascii_lowercase)
        .collect();
    w.sort();
    w.dedup();
    w
}

fn jaccard(a: &[String], b: &[String]) -> f64 {
    let common = a.iter().filter(|w| b.binary_search(w).is_ok()).count();
    let union = a.len() + b.len() - common;
    if union == 0 {
        1.0
    } else {
        common as f64 / union as f64
    }
}

/// Groups error patterns into families.
pub fn group(mut members: Vec<Member>) -> Vec<Family> {
    members.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
    let mut exception_groups: BTreeMap<Fingerprint, Vec<Member>> = BTreeMap::new();
    let mut message_groups: Vec<(Vec<String>, Vec<Member>)> = Vec::new();
    for member in members {
        match member
            .fingerprint
            .clone()
            .filter(|f| !f.exception.is_empty())
        {
            Some(fp) => exception_groups.entry(fp).or_default().push(member),
            None => {
                let w = words(&member.template);
                // The first word carries the verb or subject: "login failed" vs "logout succeeded".
                let first = w.first().cloned();
                let found = message_groups.iter_mut().find(|(gw, group)| {
                    group[0].category == member.category
                        && words(&group[0].template).first() == first.as_ref()
                        && jaccard(gw, &w) >= SIMILARITY
                });
                match found {
                    Some((_, group)) => group.push(member),
                    None => message_groups.push((w, vec![member])),
                }
            }
        }
    }
    let mut families: Vec<Family> = exception_groups
        .into_iter()
        .map(|(fp, group)| family("exception", Some(fp), group))
        .chain(
            message_groups
                .into_iter()
                .map(|(_, group)| family("message", None, group)),
        )
        .collect();
    families.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.title.cmp(&b.title)));
    for (i, f) in families.iter_mut().enumerate() {
        f.id = format!("f{}", i + 1);
    }
    families
}

fn family(kind: &'static str, fingerprint: Option<Fingerprint>, group: Vec<Member>) -> Family {
    let title = match &fingerprint {
        Some(fp) => fp.exception.clone(),
        None => group[0].template.clone(),
    };
    let (exception, frames) =
        fingerprint.map_or((None, Vec::new()), |fp| (Some(fp.exception), fp.frames));
    Family {
        id: String::new(),
        kind,
        title,
        exception,
        frames,
        patterns: group.iter().map(|m| m.id.clone()).collect(),
        count: group.iter().map(|m| m.count).sum(),
        severity: group
            .iter()
            .map(|m| m.severity)
            .max()
            .unwrap_or(Severity::Low),
        category: group[0].category,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, template: &str, fp: Option<Fingerprint>) -> Member {
        Member {
            id: id.into(),
            template: template.into(),
            count: 1,
            severity: Severity::High,
            category: Category::Auth,
            fingerprint: fp,
        }
    }

    #[test]
    fn java_fingerprint_skips_library_frames() {
        let stack = "java.lang.IllegalStateException: pool exhausted\n\tat java.util.X.y(X.java:1)\n\tat com.shop.Pool.get(Pool.java:42)\n\tat com.shop.Pay.charge(Pay.java:10)";
        let fp = fingerprint("charge failed", stack);
        assert_eq!(fp.exception, "java.lang.IllegalStateException");
        assert_eq!(fp.frames, ["com.shop.Pool.get", "com.shop.Pay.charge"]);
        let py = fingerprint(
            "x",
            "Traceback (most recent call last):\n  File \"app.py\", line 3, in handle\nValueError: bad",
        );
        assert_eq!(
            (py.exception.as_str(), py.frames.as_slice()),
            ("ValueError", &["app.py in handle".to_owned()][..])
        );
    }

    #[test]
    fn an_awaited_node_frame_is_the_same_frame() {
        let stack = "TypeError: Cannot read properties of undefined (reading 'id')\n    at async OrderService.create (/app/src/orders.js:41:17)\n    at Router.handle (/app/src/router.js:9:3)";
        let fp = fingerprint("create failed", stack);
        assert_eq!(fp.exception, "TypeError");
        assert_eq!(
            fp.frames,
            ["OrderService.create", "Router.handle"],
            "no frame named async"
        );
    }

    #[test]
    fn unrelated_messages_stay_apart() {
        let families = group(vec![
            member("p1", "login failed for user <*>", None),
            member("p2", "logout succeeded for user <*>", None),
            member("p3", "login failed for user <*> from <*>", None),
        ]);
        assert_eq!(families.len(), 2);
        assert_eq!(
            families
                .iter()
                .find(|f| f.patterns.contains(&"p1".to_owned()))
                .map(|f| f.patterns.len()),
            Some(2)
        );
    }

    #[test]
    fn same_exception_same_frames_is_one_family() {
        let fp = Fingerprint {
            exception: "E".into(),
            frames: vec!["a.b".into()],
        };
        let families = group(vec![
            member("p1", "x <*>", Some(fp.clone())),
            member("p2", "y", Some(fp)),
        ]);
        assert_eq!(families.len(), 1);
        assert_eq!(families[0].kind, "exception");
    }
}

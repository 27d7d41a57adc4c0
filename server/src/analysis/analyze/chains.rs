//! Root causes and cascades: error patterns that precede others within a short window more often
//! than chance would place them there (a database timeout, then API 500s), reported as chains
//! with their evidence.
//!
//! For a pair (A, B): `probability` is the share of B's events with an A event in the window
//! before them; `coverage` is the share of the log's time span that lies within a window after
//! some A event, which is that probability for a B placed at random. `lift` is their ratio.

use serde::Serialize;

/// Timestamps kept per pattern; past this the series is thinned evenly.
pub const MAX_TIMES: usize = 4096;
/// Error patterns considered, the most frequent first.
const MAX_PATTERNS: usize = 60;
/// A link needs at least this many preceded events …
const MIN_SUPPORT: u64 = 3;
/// … this lift …
const MIN_LIFT: f64 = 2.0;
/// … and this probability.
const MIN_PROBABILITY: f64 = 0.5;

/// Event times of one pattern, thinned evenly when there are too many.
#[derive(Clone, Debug, Default)]
pub struct Times {
    times: Vec<i64>,
    stride: u64,
    seen: u64,
}

impl Times {
    /// Records one event time.
    pub fn add(&mut self, ts: i64) {
        if self.stride == 0 {
            self.stride = 1;
        }
        if self.seen.is_multiple_of(self.stride) {
            self.times.push(ts);
            if self.times.len() >= MAX_TIMES {
                // Keep every other time and sample half as often from now on.
                let mut i = 0;
                self.times.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
            }
        }
        self.seen += 1;
    }

    /// The kept times, in order.
    pub fn sorted(&self) -> Vec<i64> {
        let mut t = self.times.clone();
        t.sort_unstable();
        t
    }

    /// True when some times were dropped.
    pub fn thinned(&self) -> bool {
        self.stride > 1
    }
}

/// Evidence that one pattern leads to another.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Link {
    /// The earlier pattern.
    pub from: String,
    /// The later pattern.
    pub to: String,
    /// Events of `to` with a `from` event in the window before them.
    pub support: u64,
    /// `support` / events of `to` (in the sample).
    pub probability: f64,
    /// `probability` over what chance would give.
    pub lift: f64,
    /// Median time from the latest preceding `from` event, in milliseconds.
    pub lag_ms: i64,
    /// 0 to 1: probability × (1 − 1/lift) × min(1, support/10).
    pub confidence: f64,
}

/// A root cause and what follows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chain {
    /// `c1`, `c2`, … by decreasing confidence.
    pub id: String,
    /// The first pattern: the likely root cause.
    pub root: String,
    /// The patterns in order.
    pub patterns: Vec<String>,
    /// One link per step.
    pub links: Vec<Link>,
    /// The weakest link's confidence.
    pub confidence: f64,
    /// The window used, in milliseconds.
    pub window_ms: i64,
    /// True when some pattern's times were sampled rather than complete.
    pub sampled: bool,
}

/// A candidate pattern: id, event count and its times.
pub struct Candidate<'a> {
    /// Pattern id.
    pub id: &'a str,
    /// Events.
    pub count: u64,
    /// Event times.
    pub times: &'a Times,
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The window for a log spanning `span_ms`: a minute, or a twentieth of a short log.
fn window_for(span_ms: i64) -> i64 {
    (span_ms / 20).clamp(1000, 60_000)
}

/// Share of `[start, end]` covered by `[t, t + window)` for the times `a`.
fn coverage(a: &[i64], window: i64, start: i64, end: i64) -> f64 {
    let span = (end - start).max(1) as f64;
    let mut covered = 0i64;
    let mut reach = i64::MIN;
    for &t in a {
        let (lo, hi) = (t.max(reach), (t + window).min(end));
        if hi > lo {
            covered += hi - lo;
        }
        reach = reach.max(t + window);
    }
    (covered as f64 / span).min(1.0)
}

fn link(
    from: &Candidate,
    a: &[i64],
    to: &Candidate,
    b: &[i64],
    window: i64,
    range: (i64, i64),
) -> Option<Link> {
    let mut lags = Vec::new();
    let mut j = 0;
    for &t in b {
        while j < a.len() && a[j] < t {
            j += 1;
        }
        // The latest A strictly before t.
        if j > 0 && t - a[j - 1] <= window {
            lags.push(t - a[j - 1]);
        }
    }
    let support = lags.len() as u64;
    if support < MIN_SUPPORT || b.is_empty() {
        return None;
    }
    let probability = support as f64 / b.len() as f64;
    let chance = coverage(a, window, range.0, range.1).max(1e-9);
    let lift = probability / chance;
    if lift < MIN_LIFT || probability < MIN_PROBABILITY {
        return None;
    }
    lags.sort_unstable();
    let confidence = probability * (1.0 - 1.0 / lift) * (support as f64 / 10.0).min(1.0);
    Some(Link {
        from: from.id.to_owned(),
        to: to.id.to_owned(),
        support,
        probability: round(probability),
        lift: round(lift),
        lag_ms: lags[lags.len() / 2],
        confidence: round(confidence),
    })
}

/// Finds chains among error patterns over the time `range` (ms).
pub fn find(mut candidates: Vec<Candidate>, range: Option<(i64, i64)>) -> Vec<Chain> {
    let Some(range) = range.filter(|r| r.1 > r.0) else {
        return Vec::new();
    };
    let window = window_for(range.1 - range.0);
    candidates.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.id.cmp(y.id)));
    candidates.truncate(MAX_PATTERNS);
    let times: Vec<Vec<i64>> = candidates.iter().map(|c| c.times.sorted()).collect();
    let mut links = Vec::new();
    for (i, from) in candidates.iter().enumerate() {
        for (j, to) in candidates.iter().enumerate() {
            if i == j || times[i].first() >= times[j].first() {
                continue; // a cause starts before its effect
            }
            if let Some(l) = link(from, &times[i], to, &times[j], window, range) {
                links.push(l);
            }
        }
    }
    // Keep the stronger direction of each pair.
    links.sort_by(|x, y| {
        y.confidence
            .total_cmp(&x.confidence)
            .then_with(|| (&x.from, &x.to).cmp(&(&y.from, &y.to)))
    });
    let sampled = candidates.iter().any(|c| c.times.thinned());
    assemble(links, window, sampled)
}

/// Greedily strings the strongest links into chains: each pattern is the target of at most one
/// link, chains start at patterns nothing explains, and a pattern with several effects starts a
/// chain for each.
fn assemble(links: Vec<Link>, window: i64, sampled: bool) -> Vec<Chain> {
    let mut best_into: Vec<Link> = Vec::new();
    for l in links {
        if !best_into.iter().any(|b| b.to == l.to) && !creates_cycle(&best_into, &l) {
            best_into.push(l);
        }
    }
    let roots: Vec<String> = {
        let mut r: Vec<String> = best_into
            .iter()
            .map(|l| l.from.clone())
            .filter(|f| !best_into.iter().any(|l| &l.to == f))
            .collect();
        r.sort();
        r.dedup();
        r
    };
    let mut chains = Vec::new();
    for root in roots {
        // One chain per path from the root to a pattern that explains nothing further, so a
        // cause with two effects yields both.
        let mut paths = Vec::new();
        walk(&best_into, vec![root.clone()], Vec::new(), &mut paths);
        for (patterns, chain_links) in paths {
            let confidence = chain_links.iter().map(|l| l.confidence).fold(1.0, f64::min);
            chains.push(Chain {
                id: String::new(),
                root: root.clone(),
                patterns,
                links: chain_links,
                confidence,
                window_ms: window,
                sampled,
            });
        }
    }
    chains.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.root.cmp(&b.root))
    });
    for (i, c) in chains.iter_mut().enumerate() {
        c.id = format!("c{}", i + 1);
    }
    chains
}

/// Extends `patterns` along every link out of its last pattern, strongest first, collecting
/// each finished path. The links form a forest (one link into each pattern, no cycles), so
/// every path ends.
fn walk(
    links: &[Link],
    patterns: Vec<String>,
    path: Vec<Link>,
    out: &mut Vec<(Vec<String>, Vec<Link>)>,
) {
    let Some(last) = patterns.last() else {
        return;
    };
    let mut next: Vec<&Link> = links
        .iter()
        .filter(|l| &l.from == last && !patterns.contains(&l.to))
        .collect();
    if next.is_empty() {
        if !path.is_empty() {
            out.push((patterns, path));
        }
        return;
    }
    next.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.to.cmp(&b.to))
    });
    for l in next {
        let mut p = patterns.clone();
        p.push(l.to.clone());
        let mut links_so_far = path.clone();
        links_so_far.push(l.clone());
        walk(links, p, links_so_far, out);
    }
}

fn creates_cycle(links: &[Link], new: &Link) -> bool {
    let mut at = new.from.clone();
    for _ in 0..=links.len() {
        if at == new.to {
            return true;
        }
        match links.iter().find(|l| l.to == at) {
            Some(l) => at = l.from.clone(),
            None => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(ts: impl IntoIterator<Item = i64>) -> Times {
        let mut t = Times::default();
        for x in ts {
            t.add(x);
        }
        t
    }

    #[test]
    fn a_timeout_that_precedes_errors_is_a_root_cause() {
        let minute = 60_000;
        // DB timeouts at five moments over a day; API 500s 2 s after each; unrelated noise.
        let incidents = [3, 90, 400, 800, 1200].map(|m| m * minute);
        let db = times(incidents.iter().flat_map(|&t| [t, t + 500]));
        let api = times(
            incidents
                .iter()
                .flat_map(|&t| [t + 2000, t + 2500, t + 3000]),
        );
        let noise = times((0..40).map(|i| i * 36 * minute + 7 * minute));
        let chains = find(
            vec![
                Candidate {
                    id: "p2",
                    count: 15,
                    times: &api,
                },
                Candidate {
                    id: "p5",
                    count: 10,
                    times: &db,
                },
                Candidate {
                    id: "p9",
                    count: 40,
                    times: &noise,
                },
            ],
            Some((0, 1440 * minute)),
        );
        assert_eq!(chains.len(), 1, "{chains:#?}");
        let c = &chains[0];
        assert_eq!(c.root, "p5");
        assert_eq!(c.patterns, ["p5", "p2"]);
        assert_eq!(c.links[0].support, 15);
        assert_eq!(c.links[0].lag_ms, 2000);
        assert!(c.links[0].lift > 10.0);
    }

    #[test]
    fn a_cause_with_two_effects_gives_two_chains() {
        let minute = 60_000;
        let incidents = [3, 90, 400, 800, 1200].map(|m| m * minute);
        let db = times(incidents.iter().flat_map(|&t| [t, t + 500]));
        let api = times(incidents.iter().flat_map(|&t| [t + 2000, t + 2500]));
        let queue = times(incidents.iter().flat_map(|&t| [t + 4000, t + 4500]));
        let candidates = vec![
            Candidate {
                id: "p1",
                count: 10,
                times: &db,
            },
            Candidate {
                id: "p2",
                count: 10,
                times: &api,
            },
            Candidate {
                id: "p3",
                count: 10,
                times: &queue,
            },
        ];
        let chains = find(candidates, Some((0, 1440 * minute)));
        let paths: Vec<Vec<&str>> = chains
            .iter()
            .map(|c| c.patterns.iter().map(String::as_str).collect())
            .collect();
        // p3 follows p2 as closely as p1, so the strongest link into p3 decides its parent;
        // whichever it is, p1 must reach both p2 and p3.
        assert!(chains.iter().all(|c| c.root == "p1"), "{paths:?}");
        let reached: std::collections::BTreeSet<&str> = paths.iter().flatten().copied().collect();
        assert_eq!(reached.into_iter().collect::<Vec<_>>(), ["p1", "p2", "p3"]);
    }

    #[test]
    fn branches_are_each_reported() {
        let link = |from: &str, to: &str, confidence: f64| Link {
            from: from.to_owned(),
            to: to.to_owned(),
            support: 5,
            probability: 1.0,
            lift: 10.0,
            lag_ms: 100,
            confidence,
        };
        let chains = assemble(
            vec![
                link("a", "b", 0.9),
                link("a", "c", 0.5),
                link("b", "d", 0.8),
            ],
            1000,
            false,
        );
        let paths: Vec<Vec<&str>> = chains
            .iter()
            .map(|c| c.patterns.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(paths, [vec!["a", "b", "d"], vec!["a", "c"]]);
        assert_eq!(chains[0].confidence, 0.8);
        assert_eq!(chains[1].confidence, 0.5);
    }

    #[test]
    fn no_timestamps_no_chains() {
        assert!(find(Vec::new(), None).is_empty());
    }

    #[test]
    fn thinning_keeps_a_spread_sample() {
        let t = times(0..20_000);
        assert!(t.thinned());
        assert!(t.times.len() < MAX_TIMES);
        assert!(t.times.last().is_some_and(|&l| l > 15_000));
    }
}

//! Memory, connection-pool and cache figures, where the log states them: the numeric variables
//! of patterns that talk about memory (`heap used <*> MB`), pools (`Pool stats (total=<*>,
//! active=<*>, …)`) or caches (`Cache hit ratio <*> … evictions=<*>`), summarised per figure.

use serde::Serialize;

/// What a figure measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Heap, resident set, memory use, garbage collection.
    Memory,
    /// Connection or worker pools.
    Pool,
    /// Caches: hit ratios, sizes, evictions.
    Cache,
}

/// Words that make a pattern about each kind, looked for in its template (lower-cased).
const MEMORY_WORDS: [&str; 9] = [
    "heap", "memory", "rss", " mem ", "mem=", "gc ", "total-vm", "garbage", "swap",
];
const POOL_WORDS: [&str; 5] = ["pool", "connections", "in_use", "idle=", "waiting="];
const CACHE_WORDS: [&str; 3] = ["cache", "hit ratio", "evictions"];

/// The kind a template is about, if any (pool before cache before memory: "pool stats … idle"
/// is about a pool even when it mentions memory).
pub fn kind_of(template: &str) -> Option<Kind> {
    let t = template.to_ascii_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if any(&POOL_WORDS) {
        Some(Kind::Pool)
    } else if any(&CACHE_WORDS) {
        Some(Kind::Cache)
    } else if any(&MEMORY_WORDS) {
        Some(Kind::Memory)
    } else {
        None
    }
}

/// Numeric values of one variable slot.
#[derive(Clone, Debug, Default)]
pub struct Numbers {
    count: u64,
    other: u64,
    min: f64,
    max: f64,
    sum: f64,
    last: f64,
    unit: Option<Box<str>>,
}

impl Numbers {
    /// Counts `value` if it is a number, with an optional unit (`512`, `0.93`, `3800M`, `93%`,
    /// `900 MB`); the first unit seen is the slot's.
    pub fn add(&mut self, value: &str) {
        let Some((number, unit)) = split_number(value) else {
            self.other += 1;
            return;
        };
        if self.count == 0 {
            self.min = number;
            self.max = number;
            if !unit.is_empty() {
                self.unit = Some(unit.into());
            }
        }
        self.count += 1;
        self.min = self.min.min(number);
        self.max = self.max.max(number);
        self.sum += number;
        self.last = number;
    }

    /// True when (nearly) every value was a number.
    fn numeric(&self) -> bool {
        self.count > 0 && self.other * 10 <= self.count
    }
}

fn split_number(value: &str) -> Option<(f64, &str)> {
    let value = value.trim();
    let end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(end);
    let unit = unit.trim();
    if number.is_empty()
        || unit.len() > 4
        || !unit.bytes().all(|b| b.is_ascii_alphabetic() || b == b'%')
    {
        return None;
    }
    number
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(|n| (n, unit))
}

/// One figure: a numeric variable of a resource pattern.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figure {
    /// What it measures.
    pub kind: Kind,
    /// The pattern's id.
    pub pattern: String,
    /// The pattern's template.
    pub template: String,
    /// Which variable: the words before it in the template (`active`, `heap used`).
    pub name: String,
    /// Its position among the template's variables, from 0.
    pub variable: usize,
    /// The unit written after the values (`MB`, `%`, `ms`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Values read.
    pub count: u64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value, 3 decimals.
    pub mean: f64,
    /// The value of the last event read.
    pub last: f64,
}

/// The figures of one pattern, given its template and per-variable numbers.
pub fn figures(pattern: &str, template: &str, numbers: &[Numbers]) -> Vec<Figure> {
    let Some(kind) = kind_of(template) else {
        return Vec::new();
    };
    let literals: Vec<&str> = template.split(super::VAR).collect();
    numbers
        .iter()
        .enumerate()
        .filter(|(_, n)| n.numeric())
        .map(|(i, n)| (i, n, label(literals.get(i).copied().unwrap_or(""))))
        .filter(|(_, n, name)| is_figure(name, n.unit.as_deref()))
        .map(|(i, n, name)| Figure {
            kind,
            pattern: pattern.to_owned(),
            template: template.to_owned(),
            name: if name.is_empty() {
                format!("value {}", i + 1)
            } else {
                name
            },
            variable: i,
            unit: n.unit.as_deref().map(str::to_owned),
            count: n.count,
            min: n.min,
            max: n.max,
            mean: (n.sum / n.count as f64 * 1000.0).round() / 1000.0,
            last: n.last,
        })
        .collect()
}

/// Words that name a measurement; other numbers in these messages are ids (`Killed process
/// <*>`, `cache miss for quote:<*>`), unless a unit says they measure something.
const FIGURE_WORDS: [&str; 31] = [
    "total",
    "active",
    "idle",
    "waiting",
    "pending",
    "max",
    "min",
    "size",
    "used",
    "free",
    "heap",
    "rss",
    "usage",
    "evictions",
    "hits",
    "misses",
    "ratio",
    "memory",
    "mem",
    "pause",
    "open",
    "in_use",
    "wait_count",
    "wait_duration",
    "capacity",
    "limit",
    "available",
    "connections",
    "of",
    "ttl",
    "bytes",
];
const MEASURE_UNITS: [&str; 14] = [
    "b", "kb", "mb", "gb", "k", "m", "g", "kib", "mib", "gib", "%", "ms", "s", "us",
];

fn is_figure(name: &str, unit: Option<&str>) -> bool {
    let last = name
        .rsplit([' ', '-'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    FIGURE_WORDS.contains(&last.as_str())
        || name.to_ascii_lowercase().ends_with("-vm")
        || unit.is_some_and(|u| MEASURE_UNITS.contains(&u.to_ascii_lowercase().as_str()))
}

/// The last one or two words before a variable: `Pool stats (total=` → `total`,
/// `heap used ` → `heap used`.
fn label(before: &str) -> String {
    let words: Vec<&str> = before
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';' | '[' | ']'))
        .map(|w| w.trim_end_matches(['=', ':']))
        .filter(|w| !w.is_empty() && w.bytes().any(|b| b.is_ascii_alphabetic()))
        .collect();
    match words.as_slice() {
        [] => String::new(),
        [.., last] if before.trim_end().ends_with(['=', ':']) => (*last).to_owned(),
        [.., a, b] => format!("{a} {b}"),
        [only] => (*only).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(values: &[&[&str]]) -> Vec<Numbers> {
        let slots = values.first().map_or(0, |v| v.len());
        let mut out = vec![Numbers::default(); slots];
        for row in values {
            for (n, v) in out.iter_mut().zip(*row) {
                n.add(v);
            }
        }
        out
    }

    #[test]
    fn pool_figures_are_named_after_their_keys() {
        let t = "HikariPool-1 - Pool stats (total=<*>, active=<*>, idle=<*>, waiting=<*>)";
        let f = figures(
            "p3",
            t,
            &numbers(&[&["10", "8", "2", "0"], &["10", "10", "0", "4"]]),
        );
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["total", "active", "idle", "waiting"]);
        assert!(f.iter().all(|f| f.kind == Kind::Pool));
        assert_eq!(
            (f[1].min, f[1].max, f[1].mean, f[1].last),
            (8.0, 10.0, 9.0, 10.0)
        );
        assert_eq!(f[3].max, 4.0);
    }

    #[test]
    fn memory_with_units_and_cache_ratios() {
        let f = figures(
            "p1",
            "heap used <*> of <*>, rss <*>",
            &numbers(&[
                &["512 MB", "1024 MB", "700 MB"],
                &["900 MB", "1024 MB", "950 MB"],
            ]),
        );
        assert_eq!(f[0].kind, Kind::Memory);
        assert_eq!(
            (f[0].name.as_str(), f[0].unit.as_deref()),
            ("heap used", Some("MB"))
        );
        assert_eq!(f[2].name, "rss");
        let f = figures(
            "p2",
            "Cache hit ratio <*> for region prices",
            &numbers(&[&["0.70"], &["0.90"]]),
        );
        assert_eq!((f[0].kind, f[0].mean), (Kind::Cache, 0.8));
        assert!(figures("p4", "user <*> logged in", &numbers(&[&["42"]])).is_empty());
        let f = figures(
            "p6",
            "[<*>] Out of memory: Killed process <*> (java) total-vm:<*>, anon-rss:<*>",
            &numbers(&[&["12.5", "4242", "1000kB", "900kB"]]),
        );
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["total-vm", "anon-rss"]);
        // Names are no figures.
        assert!(
            figures(
                "p5",
                "cache miss for <*>",
                &numbers(&[&["plan:1"], &["quote:2"]])
            )
            .is_empty()
        );
    }
}

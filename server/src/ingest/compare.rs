//! Batch comparison of finished results: patterns matched by template across analyses (or
//! across the files of one), counted, turned into rates so columns of different sizes compare
//! fairly, and classified by how they moved from the first column to the last.

use std::cmp::Ordering;
use std::collections::HashMap;

use app::api::compare::{
    CHANGE_FACTOR, Change, CompareColumn, CompareQuery, CompareRow, CompareSort, Comparison,
};
use app::api::patterns::ResultDoc;
use app::charts::{SEVERITIES, severity_index};

/// Comparisons kept built; a matrix of two results of 10,000 patterns each takes tens of
/// milliseconds to build, while filtering and sorting it again takes a few.
pub const CACHED_MATRICES: usize = 8;

/// One analysis to compare.
pub struct Input<'a> {
    /// Its id.
    pub analysis_id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// When it was started.
    pub created_at_ms: i64,
    /// Its result.
    pub doc: &'a ResultDoc,
}

/// A row being filled in.
struct Acc {
    template: String,
    severity: usize,
    category: String,
    counts: Vec<u64>,
    pattern_ids: Vec<Option<String>>,
}

/// The rows so far, one per distinct template.
struct Rows {
    rows: Vec<Acc>,
    by_template: HashMap<String, usize>,
    width: usize,
}

impl Rows {
    /// The row of `template`, added empty the first time it is seen.
    fn row(&mut self, template: &str, category: &str) -> &mut Acc {
        let i = match self.by_template.get(template) {
            Some(&i) => i,
            None => {
                self.rows.push(Acc {
                    template: template.to_owned(),
                    severity: SEVERITIES.len() - 1,
                    category: category.to_owned(),
                    counts: vec![0; self.width],
                    pattern_ids: vec![None; self.width],
                });
                self.by_template
                    .insert(template.to_owned(), self.rows.len() - 1);
                self.rows.len() - 1
            }
        };
        &mut self.rows[i]
    }
}

/// Every row of a comparison, built once for its inputs; each request then filters, sorts and
/// cuts it.
pub struct Matrix {
    columns: Vec<CompareColumn>,
    by_file: bool,
    rows: Vec<CompareRow>,
    changes: Vec<(Change, usize)>,
}

/// Compares `inputs` as `query` asks (see [`build`]).
pub fn compare(inputs: &[Input<'_>], query: &CompareQuery) -> Comparison {
    build(inputs).select(query)
}

/// The matrix of `inputs`. One input with several files compares its files; otherwise each
/// input is a column, ordered by the earliest timestamp in its logs when every one has one,
/// else by when it was started.
pub fn build(inputs: &[Input<'_>]) -> Matrix {
    let by_file = inputs.len() == 1 && inputs[0].doc.files.len() > 1;
    let mut columns = Vec::new();
    let mut order: Vec<&Input<'_>> = inputs.iter().collect();
    if order.iter().all(|i| i.doc.summary.first_seen.is_some()) {
        order.sort_by(|a, b| a.doc.summary.first_seen.cmp(&b.doc.summary.first_seen));
    } else {
        order.sort_by_key(|i| i.created_at_ms);
    }
    let width = if by_file {
        inputs[0].doc.files.len()
    } else {
        order.len()
    };
    let mut matrix = Rows {
        rows: Vec::new(),
        by_template: HashMap::new(),
        width,
    };
    if by_file {
        let input = &inputs[0];
        let files = &input.doc.files;
        let mut severity_events = vec![vec![0u64; SEVERITIES.len()]; files.len()];
        for p in &input.doc.patterns {
            let row = matrix.row(&p.template, &p.category);
            let sev = severity_index(&p.severity);
            row.severity = row.severity.min(sev);
            for fc in &p.files {
                if let Some(c) = files.iter().position(|f| f.name == fc.file) {
                    row.counts[c] += fc.count;
                    row.pattern_ids[c] = Some(p.id.clone());
                    severity_events[c][sev] += fc.count;
                }
            }
        }
        for (f, sev) in files.iter().zip(severity_events) {
            columns.push(CompareColumn {
                analysis_id: input.analysis_id.to_owned(),
                name: f.name.clone(),
                file: Some(f.name.clone()),
                created_at_ms: input.created_at_ms,
                first_seen: None,
                events: f.events,
                severity_events: sev,
            });
        }
    } else {
        for (c, input) in order.iter().enumerate() {
            let mut severity_events = vec![0u64; SEVERITIES.len()];
            for p in &input.doc.patterns {
                let row = matrix.row(&p.template, &p.category);
                let sev = severity_index(&p.severity);
                row.severity = row.severity.min(sev);
                row.counts[c] += p.count;
                row.pattern_ids[c].get_or_insert_with(|| p.id.clone());
                severity_events[sev] += p.count;
            }
            columns.push(CompareColumn {
                analysis_id: input.analysis_id.to_owned(),
                name: input.name.to_owned(),
                file: None,
                created_at_ms: input.created_at_ms,
                first_seen: input.doc.summary.first_seen.clone(),
                events: input.doc.summary.events,
                severity_events,
            });
        }
    }

    let events: Vec<u64> = columns.iter().map(|c| c.events).collect();
    let rows: Vec<CompareRow> = matrix
        .rows
        .into_iter()
        .map(|acc| row(acc, &events))
        .collect();
    let changes = [
        Change::New,
        Change::Gone,
        Change::Up,
        Change::Down,
        Change::Steady,
    ]
    .map(|kind| (kind, rows.iter().filter(|r| r.change == kind).count()))
    .to_vec();
    Matrix {
        columns,
        by_file,
        rows,
        changes,
    }
}

impl Matrix {
    /// The rows `query` asks for: matching its words and change filter, sorted, at most
    /// its row count.
    pub fn select(&self, query: &CompareQuery) -> Comparison {
        let words: Vec<String> = query.q.split_whitespace().map(str::to_lowercase).collect();
        let mut chosen: Vec<&CompareRow> = self
            .rows
            .iter()
            .filter(|r| {
                (!query.changed || r.change.is_change()) && {
                    let lower = r.template.to_lowercase();
                    words.iter().all(|w| lower.contains(w.as_str()))
                }
            })
            .collect();
        let matched = chosen.len();
        chosen.sort_by(|a, b| order(a, b, query.sort));
        chosen.truncate(query.rows());
        Comparison {
            columns: self.columns.clone(),
            by_file: self.by_file,
            rows: chosen.into_iter().cloned().collect(),
            matched,
            total: self.rows.len(),
            changes: self.changes.clone(),
        }
    }
}

fn row(acc: Acc, events: &[u64]) -> CompareRow {
    let rates: Vec<f64> = acc
        .counts
        .iter()
        .zip(events)
        .map(|(&n, &e)| {
            if e == 0 {
                0.0
            } else {
                (n as f64 * 1000.0 / e as f64 * 1000.0).round() / 1000.0
            }
        })
        .collect();
    let (first, last) = (acc.counts[0], acc.counts[acc.counts.len() - 1]);
    let (first_rate, last_rate) = (rates[0], rates[rates.len() - 1]);
    let ratio = (first > 0 && last > 0 && first_rate > 0.0)
        .then(|| ((last_rate / first_rate) * 1000.0).round() / 1000.0);
    let change = if acc.counts.len() < 2 {
        Change::Steady
    } else if first == 0 && last > 0 {
        Change::New
    } else if first > 0 && last == 0 {
        Change::Gone
    } else {
        match ratio {
            Some(r) if r >= CHANGE_FACTOR => Change::Up,
            Some(r) if r <= 1.0 / CHANGE_FACTOR => Change::Down,
            _ => Change::Steady,
        }
    };
    CompareRow {
        template: acc.template,
        severity: SEVERITIES[acc.severity].0.to_owned(),
        category: acc.category,
        counts: acc.counts,
        rates,
        pattern_ids: acc.pattern_ids,
        change,
        ratio,
    }
}

/// How rows are ordered when sorted `by`.
fn order(a: &CompareRow, b: &CompareRow, by: CompareSort) -> Ordering {
    let total = |r: &CompareRow| r.counts.iter().sum::<u64>();
    match by {
        CompareSort::Change => {
            let key = |r: &CompareRow| -> (u8, f64) {
                match r.change {
                    Change::New => (0, 0.0),
                    Change::Up | Change::Down => (1, -r.ratio.map_or(0.0, |x| x.ln().abs())),
                    Change::Gone => (2, 0.0),
                    Change::Steady => (3, 0.0),
                }
            };
            let (ka, kb) = (key(a), key(b));
            ka.0.cmp(&kb.0)
                .then(ka.1.total_cmp(&kb.1))
                .then(total(b).cmp(&total(a)))
                .then_with(|| a.template.cmp(&b.template))
        }
        CompareSort::Count => total(b)
            .cmp(&total(a))
            .then_with(|| a.template.cmp(&b.template)),
        CompareSort::Severity => severity_index(&a.severity)
            .cmp(&severity_index(&b.severity))
            .then(total(b).cmp(&total(a)))
            .then_with(|| a.template.cmp(&b.template)),
        CompareSort::Template => a.template.cmp(&b.template),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::patterns::{FileCountDoc, FileDoc, PatternDoc};

    fn pattern(id: &str, template: &str, severity: &str, count: u64) -> PatternDoc {
        PatternDoc {
            id: id.into(),
            template: template.into(),
            severity: severity.into(),
            category: "other".into(),
            count,
            ..PatternDoc::default()
        }
    }

    fn doc(first_seen: &str, events: u64, patterns: Vec<PatternDoc>) -> ResultDoc {
        let mut doc = ResultDoc::default();
        doc.summary.events = events;
        doc.summary.first_seen = Some(first_seen.into());
        doc.patterns = patterns;
        doc
    }

    #[test]
    fn analyses_line_up_by_template_oldest_logs_first() {
        // Given newest first; the logs' own times put them in order.
        let later = doc(
            "2026-12-02T00:00:00Z",
            2000,
            vec![
                pattern("p1", "timeout <*>", "high", 400),
                pattern("p2", "disk full", "critical", 10),
                pattern("p3", "ok <*>", "info", 1000),
            ],
        );
        let earlier = doc(
            "2026-12-01T00:00:00Z",
            1000,
            vec![
                pattern("p1", "ok <*>", "info", 500),
                pattern("p2", "timeout <*>", "medium", 100),
                pattern("p3", "cache miss", "low", 50),
            ],
        );
        let inputs = [
            Input {
                analysis_id: "b",
                name: "Tuesday",
                created_at_ms: 1,
                doc: &later,
            },
            Input {
                analysis_id: "a",
                name: "Monday",
                created_at_ms: 2,
                doc: &earlier,
            },
        ];
        let c = compare(&inputs, &CompareQuery::default());
        let names: Vec<&str> = c.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Monday", "Tuesday"]);
        assert!(!c.by_file);
        assert_eq!(c.total, 4);
        let find = |t: &str| c.rows.iter().find(|r| r.template == t).expect(t);

        let timeout = find("timeout <*>");
        assert_eq!(timeout.counts, [100, 400]);
        assert_eq!(timeout.rates, [100.0, 200.0], "per 1,000 events");
        assert_eq!(timeout.ratio, Some(2.0));
        assert_eq!(timeout.change, Change::Up);
        assert_eq!(timeout.severity, "high", "the worst of both");
        assert_eq!(
            timeout.pattern_ids,
            [Some("p2".to_owned()), Some("p1".to_owned())]
        );

        assert_eq!(find("disk full").change, Change::New);
        assert_eq!(find("cache miss").change, Change::Gone);
        let ok = find("ok <*>");
        assert_eq!(ok.rates, [500.0, 500.0]);
        assert_eq!(ok.change, Change::Steady);

        // New first, then the largest moves, then gone, steady last.
        let order: Vec<&str> = c.rows.iter().map(|r| r.template.as_str()).collect();
        assert_eq!(order, ["disk full", "timeout <*>", "cache miss", "ok <*>"]);
        assert_eq!(
            c.changes,
            [
                (Change::New, 1),
                (Change::Gone, 1),
                (Change::Up, 1),
                (Change::Down, 0),
                (Change::Steady, 1)
            ]
        );
        assert_eq!(c.columns[1].severity_events, [10, 400, 0, 0, 1000]);

        let changed = compare(
            &inputs,
            &CompareQuery {
                changed: true,
                q: "TIME".into(),
                ..CompareQuery::default()
            },
        );
        assert_eq!(changed.matched, 1);
        assert_eq!(changed.rows[0].template, "timeout <*>");
        let limited = compare(
            &inputs,
            &CompareQuery {
                sort: CompareSort::Count,
                limit: Some(2),
                ..CompareQuery::default()
            },
        );
        assert_eq!(limited.matched, 4);
        let order: Vec<&str> = limited.rows.iter().map(|r| r.template.as_str()).collect();
        assert_eq!(order, ["ok <*>", "timeout <*>"]);
    }

    #[test]
    fn one_analysis_of_several_files_compares_its_files() {
        let mut d = doc(
            "2026-12-01T00:00:00Z",
            300,
            vec![pattern("p1", "refused <*>", "high", 30)],
        );
        d.files = vec![
            FileDoc {
                name: "api-1.log".into(),
                events: 100,
                ..FileDoc::default()
            },
            FileDoc {
                name: "api-2.log".into(),
                events: 200,
                ..FileDoc::default()
            },
        ];
        d.patterns[0].files = vec![FileCountDoc {
            file: "api-2.log".into(),
            count: 30,
            share: 0.15,
        }];
        let c = compare(
            &[Input {
                analysis_id: "a",
                name: "Both",
                created_at_ms: 0,
                doc: &d,
            }],
            &CompareQuery::default(),
        );
        assert!(c.by_file);
        let names: Vec<&str> = c.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["api-1.log", "api-2.log"]);
        assert_eq!(c.rows[0].counts, [0, 30]);
        assert_eq!(c.rows[0].rates, [0.0, 150.0]);
        assert_eq!(c.rows[0].change, Change::New);
        assert_eq!(c.rows[0].pattern_ids, [None, Some("p1".to_owned())]);
    }
}

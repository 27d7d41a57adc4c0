//! Template mining: every message gets a template with its variables written `<*>`, with exact
//! counts over all messages (no sampling). One fixed configuration serves every input.
//!
//! The method, in four steps over *distinct* masked messages (so repeated lines cost one hash
//! lookup):
//! 1. mask numbers, ids, addresses, paths, URLs, sizes and times ([`super::mask`]);
//! 2. merge masked forms of the same shape and first word that differ in at most a third of
//!    their words, Drain-style;
//! 3. split a merged position again when it takes fewer than four values: those are constants
//!    (`LOOKING`/`LEADING`, `SCREEN_ON`/`SCREEN_OFF`), while names with many values are variables;
//! 4. merge templates that differ only in the length of a run of variables (lists), then
//!    normalise the text ([`canonical`]).

use rustc_hash::FxHashMap;

use super::mask::{Masker, VAR};

mod canonical;
mod tokens;

pub use canonical::canonical;
use tokens::{Token, is_word, render, tokenize};

/// Share of a message's words that may differ for two masked forms to merge.
const MAX_DIFF_SHARE: f64 = 0.34;
/// Clusters a new shape is compared with in its bucket (same length and first word).
const MAX_BUCKET_SCAN: usize = 1024;
/// A merged position with fewer distinct values than this is a constant, not a variable.
const MIN_VARIABLE_VALUES: usize = 4;
/// The same for a message's first word, which names the message far more often than not
/// (`tickTime set to <*>`, `maxSessionTimeout set to <*>`).
const MIN_VARIABLE_FIRST_WORDS: usize = 8;
/// The same after `=`, where values are more often genuinely variable.
const MIN_VARIABLE_VALUES_AFTER_EQUALS: usize = 3;
/// Raw messages remembered to skip re-masking repeats; past this the cache is cleared so memory
/// stays bounded on huge inputs.
const RAW_CACHE_LIMIT: usize = 1 << 16;
/// Lookups after which the raw cache is dropped if fewer than one in ten hit.
const RAW_TRIAL: u64 = 20_000;

/// Identifies a distinct masked message as [`Miner::add`] first met it. Ids stay valid after the
/// miner folds shapes together to bound its memory.
pub type ShapeId = u32;

/// Live shapes that trigger folding them into their clusters ([`Miner::compact`]).
const COMPACT_AT: usize = 32_768;

/// Collects messages; [`Miner::finish`] turns them into templates.
///
/// Memory: every distinct masked message is kept until [`COMPACT_AT`] of them accumulate; then
/// they are clustered and each cluster is kept as one shape (its template, variables and all),
/// so a log whose lines never repeat costs 4 bytes per distinct message plus the clusters.
pub struct Miner {
    raw: FxHashMap<Box<str>, ShapeId>,
    /// Masked text → the id it was first given.
    shapes: FxHashMap<Box<str>, ShapeId>,
    /// Templates given as is ([`Miner::add_exact`]), kept apart from masked shapes.
    exact: FxHashMap<Box<str>, ShapeId>,
    /// Id → index of its live shape in `shape_info`.
    slots: Vec<u32>,
    /// Live shapes: masked text, count and first message index.
    shape_info: Vec<ShapeInfo>,
    /// Live shapes that trigger the next compaction.
    compact_at: usize,
    messages: u64,
    raw_lookups: u64,
    raw_hits: u64,
    raw_disabled: bool,
    /// The masked form of the message at hand, in a buffer reused for every message.
    masked: String,
    /// Masking's own buffers, reused for every message.
    masker: Masker,
}

impl Default for Miner {
    fn default() -> Self {
        Self {
            raw: FxHashMap::default(),
            shapes: FxHashMap::default(),
            exact: FxHashMap::default(),
            slots: Vec::new(),
            shape_info: Vec::new(),
            compact_at: COMPACT_AT,
            messages: 0,
            raw_lookups: 0,
            raw_hits: 0,
            raw_disabled: false,
            masked: String::new(),
            masker: Masker::default(),
        }
    }
}

struct ShapeInfo {
    masked: Box<str>,
    count: u64,
    first: u64,
    exact: bool,
    /// A cluster kept as one shape by [`Miner::compact`]: its variables stay variables.
    folded: bool,
}

/// The result of mining: templates and which shape maps to which template.
#[derive(Debug)]
pub struct Mined {
    /// Template texts, in order of first appearance.
    pub templates: Vec<String>,
    /// For each shape id, its template index.
    pub shape_template: Vec<u32>,
    /// Messages per template.
    pub counts: Vec<u64>,
}

impl Mined {
    /// The template index of `shape`.
    pub fn template_of(&self, shape: ShapeId) -> u32 {
        self.shape_template[shape as usize]
    }
}

impl Miner {
    /// An empty miner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of messages added.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// A miner that compacts after `live` shapes (tests exercise compaction on small inputs).
    #[cfg(test)]
    fn compacting_at(live: usize) -> Self {
        Self {
            compact_at: live,
            ..Self::default()
        }
    }

    /// Shapes held now (after any compaction).
    pub fn live_shapes(&self) -> usize {
        self.shape_info.len()
    }

    fn count(&mut self, id: ShapeId) {
        let slot = self.slots[id as usize] as usize;
        self.shape_info[slot].count += 1;
    }

    fn new_shape(&mut self, info: ShapeInfo) -> ShapeId {
        let id = ShapeId::try_from(self.slots.len()).unwrap_or(ShapeId::MAX);
        self.slots
            .push(u32::try_from(self.shape_info.len()).unwrap_or(u32::MAX));
        self.shape_info.push(info);
        id
    }

    /// Adds an event whose pattern is already known (an access-log line's `GET /users/{id} 404`):
    /// the text is its template as is, neither masked nor merged with others.
    pub fn add_exact(&mut self, template: &str) -> ShapeId {
        let index = self.messages;
        self.messages += 1;
        if let Some(&id) = self.exact.get(template) {
            self.count(id);
            return id;
        }
        let id = self.new_shape(ShapeInfo {
            masked: template.into(),
            count: 1,
            first: index,
            exact: true,
            folded: false,
        });
        self.exact.insert(template.into(), id);
        id
    }

    /// Adds one message; returns the id of its masked shape.
    pub fn add(&mut self, message: &str) -> ShapeId {
        let index = self.messages;
        self.messages += 1;
        self.raw_lookups += 1;
        if let Some(&id) = self.raw.get(message) {
            self.raw_hits += 1;
            self.count(id);
            return id;
        }
        // Taken out while in use: a new shape may compact the miner, which borrows all of it.
        let mut masked = std::mem::take(&mut self.masked);
        self.masker.mask_into(message, &mut masked);
        let id = match self.shapes.get(masked.as_str()) {
            Some(&id) => {
                self.count(id);
                id
            }
            None => {
                let text: Box<str> = masked.as_str().into();
                let id = self.new_shape(ShapeInfo {
                    masked: text.clone(),
                    count: 1,
                    first: index,
                    exact: false,
                    folded: false,
                });
                self.shapes.insert(text, id);
                if self.shape_info.len() >= self.compact_at {
                    self.compact();
                }
                id
            }
        };
        self.masked = masked;
        self.remember_raw(message, id);
        id
    }

    /// Caches a raw message's shape while repeats are common enough to pay for it: logs whose
    /// lines all differ (fresh ids everywhere) skip the cache after a short trial.
    fn remember_raw(&mut self, message: &str, shape: ShapeId) {
        if self.raw_disabled {
            return;
        }
        if self.raw_lookups >= RAW_TRIAL && self.raw_hits * 10 < self.raw_lookups {
            self.raw_disabled = true;
            self.raw = FxHashMap::default();
            return;
        }
        if self.raw.len() >= RAW_CACHE_LIMIT {
            self.raw.clear();
        }
        self.raw.insert(message.into(), shape);
    }

    /// Clusters the live shapes and keeps each cluster as one shape whose text is its template.
    /// Every id keeps pointing at the shape its messages now belong to.
    fn compact(&mut self) {
        let shapes = self.tokenised();
        let clusters = cluster(&shapes);
        let mut infos: Vec<ShapeInfo> = Vec::with_capacity(clusters.len());
        let mut new_slot = vec![0u32; shapes.len()];
        let mut by_text: FxHashMap<(bool, String), u32> = FxHashMap::default();
        for c in &clusters {
            let text = render(&c.template);
            let count: u64 = c.members.iter().map(|&m| shapes[m].count).sum();
            let first = c
                .members
                .iter()
                .map(|&m| shapes[m].first)
                .min()
                .unwrap_or(0);
            let slot = *by_text.entry((c.exact, text.clone())).or_insert_with(|| {
                infos.push(ShapeInfo {
                    masked: text.into(),
                    count: 0,
                    first,
                    exact: c.exact,
                    folded: !c.exact,
                });
                u32::try_from(infos.len() - 1).unwrap_or(u32::MAX)
            });
            let info = &mut infos[slot as usize];
            info.count += count;
            info.first = info.first.min(first);
            for &m in &c.members {
                new_slot[m] = slot;
            }
        }
        drop(shapes);
        for slot in &mut self.slots {
            *slot = new_slot[*slot as usize];
        }
        // Each live text is found again under an id that points at its shape.
        let mut id_of_slot = vec![ShapeId::MAX; infos.len()];
        for (id, &slot) in self.slots.iter().enumerate() {
            let first = &mut id_of_slot[slot as usize];
            if *first == ShapeId::MAX {
                *first = ShapeId::try_from(id).unwrap_or(ShapeId::MAX);
            }
        }
        self.shapes = infos
            .iter()
            .zip(&id_of_slot)
            .filter(|(info, _)| !info.exact)
            .map(|(info, &id)| (info.masked.clone(), id))
            .collect();
        self.shape_info = infos;
        // Past a log whose clusters alone are many, compact less often.
        self.compact_at = COMPACT_AT.max(self.shape_info.len() * 2);
    }

    fn tokenised(&self) -> Vec<Shape<'_>> {
        self.shape_info
            .iter()
            .map(|info| Shape {
                tokens: tokenize(&info.masked),
                masked: &info.masked,
                count: info.count,
                first: info.first,
                exact: info.exact,
                folded: info.folded,
            })
            .collect()
    }

    /// Clusters the shapes into templates.
    pub fn finish(self) -> Mined {
        self.finish_with(str::to_owned)
    }

    /// [`Miner::finish`], with the texts given to [`Miner::add_exact`] rewritten by `exact` first
    /// (exact templates whose rewritten texts agree become one template).
    pub fn finish_with(self, exact: impl Fn(&str) -> String) -> Mined {
        let shapes = self.tokenised();
        let finals = cluster(&shapes);
        let mut mined = assemble(finals, &shapes, exact);
        // Per id, the template of its live shape.
        let by_slot = std::mem::take(&mut mined.shape_template);
        mined.shape_template = self.slots.iter().map(|&s| by_slot[s as usize]).collect();
        mined
    }
}

/// Steps 2 to 4 over `shapes`; exact shapes come out as clusters of their own.
fn cluster<'a>(shapes: &[Shape<'a>]) -> Vec<Cluster<'a>> {
    let clusters = merge_across_first_words(merge_similar(shapes));
    let split = clusters
        .into_iter()
        .flat_map(|c| split_constants(c, shapes))
        .collect();
    let mut finals = collapse_runs(split);
    finals.extend(
        shapes
            .iter()
            .enumerate()
            .filter(|(_, s)| s.exact)
            .map(|(i, s)| Cluster {
                template: s.tokens.clone(),
                members: vec![i],
                exact: true,
            }),
    );
    finals
}

/// A distinct masked message, tokenised.
struct Shape<'a> {
    tokens: Vec<Token<'a>>,
    masked: &'a str,
    count: u64,
    first: u64,
    exact: bool,
    folded: bool,
}

/// A group of shapes with a shared template.
struct Cluster<'a> {
    template: Vec<Token<'a>>,
    members: Vec<usize>,
    /// The template is given, not mined: keep its text as is.
    exact: bool,
}

/// Step 2: Drain-style merge of same-shaped forms, seeded by the most frequent forms first.
fn merge_similar<'a>(shapes: &[Shape<'a>]) -> Vec<Cluster<'a>> {
    let mut order: Vec<usize> = (0..shapes.len()).filter(|&i| !shapes[i].exact).collect();
    // Frequent forms seed clusters; ties by text keep the result independent of input order.
    order.sort_by(|&a, &b| {
        shapes[b]
            .count
            .cmp(&shapes[a].count)
            .then_with(|| shapes[a].masked.cmp(shapes[b].masked))
    });
    let mut buckets: FxHashMap<(usize, &str), Vec<usize>> = FxHashMap::default();
    let mut clusters: Vec<Cluster> = Vec::new();
    for index in order {
        let tokens = &shapes[index].tokens;
        let anchor = match tokens.first() {
            Some(t) if is_word(t.text) => t.text,
            _ => "*",
        };
        let words = tokens.iter().filter(|t| is_word(t.text)).count().max(1);
        let allowed = (words as f64 * MAX_DIFF_SHARE).floor() as usize;
        let bucket = buckets.entry((tokens.len(), anchor)).or_default();
        let mut best: Option<(usize, usize)> = None;
        // Bounded like Drain's max children, so inputs that never merge stay linear.
        for &c in bucket.iter().take(MAX_BUCKET_SCAN) {
            if let Some(diff) = differences(&clusters[c].template, tokens, shapes[index].folded)
                && diff <= allowed
                && best.is_none_or(|(_, d)| diff < d)
            {
                best = Some((c, diff));
            }
        }
        match best {
            Some((c, _)) => {
                let cluster = &mut clusters[c];
                for (slot, token) in cluster.template.iter_mut().zip(tokens) {
                    if slot.text != token.text {
                        slot.text = VAR;
                    }
                }
                cluster.members.push(index);
            }
            None => {
                bucket.push(clusters.len());
                clusters.push(Cluster {
                    template: tokens.clone(),
                    members: vec![index],
                    exact: false,
                });
            }
        }
    }
    clusters
}

/// Step 2b: clusters whose first word differs but whose rest agrees (`alice : TTY=pts/<*> …`,
/// `bob : TTY=pts/<*> …`) merge. Step 3 splits them again unless the first word takes many
/// values, so `Starting x`/`Stopping x` stay apart.
fn merge_across_first_words(clusters: Vec<Cluster<'_>>) -> Vec<Cluster<'_>> {
    let mut index: FxHashMap<(bool, Vec<Token>), usize> = FxHashMap::default();
    let mut out: Vec<Cluster> = Vec::with_capacity(clusters.len());
    for cluster in clusters {
        let t = &cluster.template;
        // A variable first word (a folded cluster, or masked) joins too; step 3 decides.
        let mergeable = t.len() >= 3 && {
            let first = t[0].text;
            is_word(first) && !first.contains(VAR) || first == VAR
        };
        if !mergeable {
            out.push(cluster);
            continue;
        }
        // Everything after the first word must agree: when two positions vary together
        // (`mapred.job.id is deprecated. Instead, use mapreduce.job.id`), each pair is its own
        // message, not one message with two variables.
        let key = (t[0].space_before, t[1..].to_vec());
        match index.get(&key) {
            Some(&c) => {
                out[c].template[0].text = VAR;
                out[c].members.extend(cluster.members);
            }
            None => {
                index.insert(key, out.len());
                out.push(cluster);
            }
        }
    }
    out
}

/// Positions where `template` and `tokens` differ, if they may merge: punctuation must match,
/// and only words (or a variable in the template against a word) may differ.
/// A folded shape's variables may also meet words.
fn differences(template: &[Token], tokens: &[Token], folded: bool) -> Option<usize> {
    let mut diff = 0;
    for (a, b) in template.iter().zip(tokens) {
        if a.text == b.text {
            continue;
        }
        let b_ok = is_word(b.text) || (folded && b.text == VAR);
        if (a.text == VAR || is_word(a.text)) && b_ok {
            diff += 1;
        } else {
            return None;
        }
    }
    Some(diff)
}

/// Step 3: a merged position with few distinct values is a constant: split the cluster by it.
fn split_constants<'a>(cluster: Cluster<'a>, shapes: &[Shape<'a>]) -> Vec<Cluster<'a>> {
    let template = &cluster.template;
    let mut constant_positions = Vec::new();
    for (i, slot) in template.iter().enumerate() {
        let member_var = |m: &usize| shapes[*m].tokens[i].text == VAR;
        if slot.text != VAR
            || cluster.members.iter().all(member_var)
            // A folded cluster already decided this position is a variable.
            || cluster
                .members
                .iter()
                .any(|m| shapes[*m].folded && member_var(m))
        {
            continue;
        }
        let mut values: Vec<&str> = cluster
            .members
            .iter()
            .map(|&m| shapes[m].tokens[i].text)
            .collect();
        values.sort_unstable();
        values.dedup();
        let after_equals = i > 0 && template[i - 1].text == "=";
        let needed = if i == 0 {
            MIN_VARIABLE_FIRST_WORDS
        } else if after_equals {
            MIN_VARIABLE_VALUES_AFTER_EQUALS
        } else {
            MIN_VARIABLE_VALUES
        };
        if values.len() < needed {
            constant_positions.push(i);
        }
    }
    if constant_positions.is_empty() {
        return vec![cluster];
    }
    let mut parts: Vec<Cluster> = Vec::new();
    let mut index: FxHashMap<Vec<&str>, usize> = FxHashMap::default();
    for &m in &cluster.members {
        let key: Vec<&str> = constant_positions
            .iter()
            .map(|&i| shapes[m].tokens[i].text)
            .collect();
        let part = *index.entry(key).or_insert_with(|| {
            let mut t = template.clone();
            for &i in &constant_positions {
                t[i] = shapes[m].tokens[i];
            }
            parts.push(Cluster {
                template: t,
                members: Vec::new(),
                exact: false,
            });
            parts.len() - 1
        });
        parts[part].members.push(m);
    }
    parts
}

/// A template's tokens with runs of variables folded: (text, space before).
type Skeleton<'a> = Vec<(&'a str, bool)>;

/// The shape of a template with every run of space-separated variables folded into one marker.
fn skeleton<'a>(template: &[Token<'a>]) -> Skeleton<'a> {
    let mut out: Skeleton<'a> = Vec::with_capacity(template.len());
    for token in template {
        if token.text == VAR
            && token.space_before
            && out.last().is_some_and(|&(t, _)| t == VAR || t == "<*>+")
        {
            if let Some(last) = out.last_mut() {
                last.0 = "<*>+";
            }
            continue;
        }
        out.push((token.text, token.space_before));
    }
    out
}

/// Step 4: templates that differ only in how many variables a run holds are one template whose
/// run is a single `<*>` (a list of ids). Fixed-length runs keep every variable.
fn collapse_runs(clusters: Vec<Cluster<'_>>) -> Vec<Cluster<'_>> {
    let mut groups: Vec<(Skeleton, Vec<Cluster>)> = Vec::new();
    let mut index: FxHashMap<Skeleton, usize> = FxHashMap::default();
    for cluster in clusters {
        let key = skeleton(&cluster.template);
        match index.get(&key) {
            Some(&g) => groups[g].1.push(cluster),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![cluster]));
            }
        }
    }
    let mut out = Vec::new();
    for (key, members) in groups {
        let same_length = members
            .windows(2)
            .all(|w| w[0].template.len() == w[1].template.len());
        if members.len() == 1 || same_length {
            out.extend(members);
            continue;
        }
        let template = key
            .into_iter()
            .map(|(text, space_before)| Token {
                text: if text == "<*>+" { VAR } else { text },
                space_before,
            })
            .collect();
        let members = members.into_iter().flat_map(|c| c.members).collect();
        out.push(Cluster {
            template,
            members,
            exact: false,
        });
    }
    out
}

/// Renders and normalises each cluster's text; clusters whose texts agree become one template.
fn assemble(clusters: Vec<Cluster>, shapes: &[Shape], exact: impl Fn(&str) -> String) -> Mined {
    let mut shape_template = vec![0u32; shapes.len()];
    let mut by_text: FxHashMap<String, u32> = FxHashMap::default();
    let mut texts: Vec<(String, u64)> = Vec::new();
    let mut counts: Vec<u64> = Vec::new();
    for cluster in clusters {
        let text = if cluster.exact {
            exact(&render(&cluster.template))
        } else {
            canonical(&render(&cluster.template))
        };
        let first = cluster
            .members
            .iter()
            .map(|&m| shapes[m].first)
            .min()
            .unwrap_or(u64::MAX);
        let id = *by_text.entry(text.clone()).or_insert_with(|| {
            texts.push((text, first));
            counts.push(0);
            u32::try_from(texts.len() - 1).unwrap_or(u32::MAX)
        });
        let entry = &mut texts[id as usize];
        entry.1 = entry.1.min(first);
        for &m in &cluster.members {
            shape_template[m] = id;
            counts[id as usize] += shapes[m].count;
        }
    }
    // Number templates by first appearance so output is stable and reads top to bottom.
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].1);
    let mut renumber = vec![0u32; texts.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = u32::try_from(new).unwrap_or(u32::MAX);
    }
    Mined {
        templates: order.iter().map(|&i| texts[i].0.clone()).collect(),
        counts: order.iter().map(|&i| counts[i]).collect(),
        shape_template: shape_template
            .into_iter()
            .map(|t| renumber[t as usize])
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mine(lines: &[&str]) -> Vec<String> {
        let mut miner = Miner::new();
        let shapes: Vec<ShapeId> = lines.iter().map(|l| miner.add(l)).collect();
        let mined = miner.finish();
        shapes
            .iter()
            .map(|&s| mined.templates[mined.template_of(s) as usize].clone())
            .collect()
    }

    #[test]
    fn names_with_many_values_become_variables() {
        let users = ["webmaster", "test", "oracle", "admin", "support", "guest"];
        let lines: Vec<String> = users
            .iter()
            .map(|u| format!("Invalid user {u} from 10.0.0.{}", u.len()))
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert!(mine(&refs).iter().all(|t| t == "Invalid user <*> from <*>"));
    }

    #[test]
    fn few_alternatives_stay_separate_templates() {
        let lines = [
            "Notification: state LOOKING for 3",
            "Notification: state LEADING for 4",
            "Notification: state LOOKING for 5",
            "Notification: state LEADING for 6",
        ];
        let got = mine(&lines);
        assert_eq!(got[0], "Notification: state LOOKING for <*>");
        assert_eq!(got[1], "Notification: state LEADING for <*>");
        assert_eq!(got[2], got[0]);
    }

    #[test]
    fn a_first_word_with_many_values_is_a_variable() {
        let users = ["ann", "bo", "cy", "di", "ed", "flo", "gus", "hal", "ivy"];
        let lines: Vec<String> = users
            .iter()
            .map(|u| format!("{u} : TTY=pts/1 ; USER=root ; COMMAND=/bin/ls"))
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let got = mine(&refs);
        assert!(got.iter().all(|t| t == &got[0]), "{got:?}");
        assert!(got[0].starts_with("<*> : TTY="), "{got:?}");
        // A handful of setting names are each their own message.
        let got = mine(&["tickTime set to 3000", "maxSessionTimeout set to 4000"]);
        assert_ne!(got[0], got[1]);
    }

    #[test]
    fn login_failed_and_logout_succeeded_never_merge() {
        let got = mine(&["login failed", "logout succeeded", "login failed"]);
        assert_ne!(got[0], got[1]);
    }

    #[test]
    fn lists_of_varying_length_are_one_variable() {
        let got = mine(&[
            "ask 10.0.0.1:50010 to delete blk_1",
            "ask 10.0.0.2:50010 to delete blk_1 blk_2 blk_3",
            "ask 10.0.0.3:50010 to delete blk_4 blk_5",
        ]);
        assert!(
            got.iter().all(|t| t == "ask <*>:<*> to delete <*>"),
            "{got:?}"
        );
    }

    #[test]
    fn compaction_keeps_templates_and_counts() {
        // (`root` is one of the literals the canonical form always masks.)
        let names = [
            "amy", "ben", "cy", "dot", "eve", "fin", "gus", "hal", "ivo", "jo",
        ];
        let lines: Vec<String> = (0..3000)
            .map(|i| match i % 3 {
                0 => format!(
                    "{} : TTY=pts/{} ; USER=root",
                    names[i % 10].repeat(1 + i % 7),
                    i
                ),
                1 => format!("Started Session {i} of User {}", names[(i / 3) % 10]),
                _ => format!("cache {} for key {}", ["hit", "miss"][i % 2], i * 7),
            })
            .collect();
        let run = |mut miner: Miner| {
            let ids: Vec<ShapeId> = lines.iter().map(|l| miner.add(l)).collect();
            let live = miner.live_shapes();
            let mined = miner.finish();
            let templates: Vec<String> = ids
                .iter()
                .map(|&s| mined.templates[mined.template_of(s) as usize].clone())
                .collect();
            (templates, mined.counts.iter().sum::<u64>(), live)
        };
        let (plain, total, _) = run(Miner::new());
        let (compacted, compacted_total, live) = run(Miner::compacting_at(50));
        assert_eq!(total, 3000);
        assert_eq!(compacted_total, 3000);
        assert!(live < 200, "{live} live shapes");
        assert_eq!(plain, compacted);
        let distinct: std::collections::BTreeSet<&String> = plain.iter().collect();
        assert_eq!(
            distinct.into_iter().collect::<Vec<_>>(),
            [
                "<*> : TTY=pts/<*> ; USER=<*>",
                "Started Session <*> of User <*>",
                "cache hit for key <*>",
                "cache miss for key <*>",
            ]
        );
    }

    #[test]
    fn counts_are_exact() {
        let mut miner = Miner::new();
        for i in 0..1000 {
            miner.add(&format!("request {i} took {}ms", i % 7));
            if i % 10 == 0 {
                miner.add("cache warmed");
            }
        }
        let mined = miner.finish();
        assert_eq!(mined.templates, ["request <*> took <*>", "cache warmed"]);
        assert_eq!(mined.counts, [1000, 100]);
    }
}

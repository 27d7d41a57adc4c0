//! Route templates learned from the paths themselves: a path segment that takes many values
//! under the same parent (`/users/alice/orders`, `/users/bob.smith/orders`, …) is an identifier,
//! even when nothing in its text says so. Segments that look like ids (numbers, UUIDs, hashes)
//! are collapsed before learning by [`super::http::path_template`].

use rustc_hash::FxHashMap;

use crate::analysis::needle::split_byte;

/// A parent with at least this many distinct child segments has a variable child.
const VARIABLE_CHILDREN: usize = 24;
/// Nodes kept in all; past this a parent that meets a new child treats it as variable, so
/// memory stays bounded whatever the input.
const MAX_NODES: usize = 200_000;
/// Segments learned per path; deeper ones are kept as they are.
const MAX_DEPTH: usize = 32;
/// The placeholder for a learned variable segment.
pub const ID: &str = "{id}";

#[derive(Default)]
struct Node {
    children: FxHashMap<Box<str>, u32>,
    /// Too many children to track: variable whatever else happens.
    overflow: bool,
}

/// Collects paths (pass one), then rewrites them with learned variables ([`Routes::finish`]).
#[derive(Default)]
pub struct Learner {
    nodes: Vec<Node>,
}

impl Learner {
    /// Records one path template (ids already collapsed, query dropped).
    pub fn add(&mut self, path: &str) {
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let mut at = 0usize;
        for segment in segments(path).take(MAX_DEPTH) {
            let next = self.nodes.len();
            let node = &mut self.nodes[at];
            if node.overflow {
                // Everything below an overflowing parent shares one child.
                at = *node.children.entry(ID.into()).or_insert(next as u32) as usize;
            } else if let Some(&child) = node.children.get(segment) {
                at = child as usize;
                continue;
            } else if node.children.len() >= VARIABLE_CHILDREN * 8 || next >= MAX_NODES {
                node.overflow = true;
                at = *node.children.entry(ID.into()).or_insert(next as u32) as usize;
            } else {
                node.children.insert(segment.into(), next as u32);
                at = next;
            }
            if at == next {
                self.nodes.push(Node::default());
            }
        }
    }

    /// Decides which segments are variables.
    pub fn finish(self) -> Routes {
        let mut routes = Routes::default();
        if !self.nodes.is_empty() {
            routes.nodes.push(RouteNode::default());
            build(&self.nodes, &[0], 0, &mut routes.nodes);
        }
        routes
    }
}

/// Builds the route node `out_index` from the learned nodes `sources` (several when a variable
/// parent merged the subtrees of all its children).
fn build(learned: &[Node], sources: &[u32], out_index: usize, out: &mut Vec<RouteNode>) {
    let mut distinct: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    let mut overflow = false;
    for &s in sources {
        let node = &learned[s as usize];
        overflow |= node.overflow;
        for (segment, &child) in &node.children {
            distinct.entry(segment).or_default().push(child);
        }
    }
    if overflow || distinct.len() >= VARIABLE_CHILDREN {
        let children: Vec<u32> = distinct.into_values().flatten().collect();
        let index = out.len();
        out.push(RouteNode::default());
        out[out_index].variable = Some(index as u32);
        build(learned, &children, index, out);
        return;
    }
    let mut names: Vec<(&str, Vec<u32>)> = distinct.into_iter().collect();
    names.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (segment, children) in names {
        let index = out.len();
        out.push(RouteNode::default());
        out[out_index].children.insert(segment.into(), index as u32);
        build(learned, &children, index, out);
    }
}

#[derive(Default)]
struct RouteNode {
    children: FxHashMap<Box<str>, u32>,
    variable: Option<u32>,
}

/// Learned route templates.
#[derive(Default)]
pub struct Routes {
    nodes: Vec<RouteNode>,
}

impl Routes {
    /// `path` with learned variable segments written [`ID`]; unchanged when nothing was learned
    /// about it.
    pub fn apply(&self, path: &str) -> String {
        let mut out = String::with_capacity(path.len());
        let mut at = if self.nodes.is_empty() { None } else { Some(0) };
        for (i, segment) in split_byte(path, b'/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            if i == 0 || i > MAX_DEPTH {
                out.push_str(segment);
                continue;
            }
            let node = at.map(|a: usize| &self.nodes[a]);
            match node {
                Some(n) if n.variable.is_some() => {
                    out.push_str(ID);
                    at = n.variable.map(|v| v as usize);
                }
                Some(n) => {
                    out.push_str(segment);
                    at = n.children.get(segment).map(|&c| c as usize);
                }
                None => out.push_str(segment),
            }
        }
        out
    }
}

/// The segments after the leading `/`.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    split_byte(path, b'/').skip(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learn(paths: &[String]) -> Routes {
        let mut learner = Learner::default();
        for p in paths {
            learner.add(p);
        }
        learner.finish()
    }

    #[test]
    fn many_names_under_one_parent_are_a_variable() {
        let mut paths: Vec<String> = (0..40)
            .map(|i| {
                format!(
                    "/users/name-{}/orders",
                    ["ann", "bo", "cy", "di"][i % 4].repeat(i + 1)
                )
            })
            .collect();
        paths.push("/users/me/settings".to_owned());
        paths.push("/checkout".to_owned());
        let routes = learn(&paths);
        assert_eq!(routes.apply("/users/bo/orders"), "/users/{id}/orders");
        assert_eq!(
            routes.apply("/users/someone-new/orders"),
            "/users/{id}/orders"
        );
        assert_eq!(routes.apply("/users/me/settings"), "/users/{id}/settings");
        assert_eq!(routes.apply("/checkout"), "/checkout");
        assert_eq!(routes.apply("/"), "/");
    }

    #[test]
    fn a_few_fixed_routes_stay_literal() {
        let paths: Vec<String> = ["orders", "invoices", "plans", "members", "reports"]
            .iter()
            .flat_map(|r| (0..50).map(move |_| format!("/v1/{r}")))
            .collect();
        let routes = learn(&paths);
        assert_eq!(routes.apply("/v1/plans"), "/v1/plans");
        assert_eq!(routes.apply("/v2/unseen"), "/v2/unseen");
    }

    #[test]
    fn memory_is_bounded_for_endless_distinct_paths() {
        let mut learner = Learner::default();
        for i in 0..(MAX_NODES as u64 * 2) {
            learner.add(&format!("/a{}/b{}", i % 7, i));
        }
        assert!(learner.nodes.len() <= MAX_NODES + 16);
        let routes = learner.finish();
        assert_eq!(routes.apply("/a3/b99"), "/a3/{id}");
    }
}

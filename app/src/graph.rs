//! Root-cause chains laid out as one graph: every chain is a path of patterns, and chains that
//! share patterns share nodes. Nodes sit in columns by how far down a chain they come (causes
//! on the left, what follows on the right); edges carry the link's evidence.

use std::collections::HashMap;

use crate::api::patterns::{ChainView, LinkDoc};

/// Width of a node box.
pub const NODE_W: f64 = 220.0;
/// Height of a node box.
pub const NODE_H: f64 = 48.0;
const COLUMN_GAP: f64 = 90.0;
const ROW_GAP: f64 = 22.0;
const MARGIN: f64 = 8.0;

/// A pattern in the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Pattern id.
    pub pattern: String,
    /// Its template.
    pub template: String,
    /// Its severity.
    pub severity: String,
    /// Column: 0 for root causes.
    pub column: usize,
    /// Top-left corner.
    pub x: f64,
    /// Top-left corner.
    pub y: f64,
}

/// A link between two nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// Index of the earlier pattern in [`Graph::nodes`].
    pub from: usize,
    /// Index of the later one.
    pub to: usize,
    /// The evidence.
    pub link: LinkDoc,
    /// SVG path data, from the right of `from` to the left of `to`.
    pub path: String,
}

/// The laid-out graph.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// Nodes, column by column.
    pub nodes: Vec<Node>,
    /// Edges, one per distinct cause → effect pair.
    pub edges: Vec<Edge>,
    /// Size of the drawing.
    pub width: f64,
    /// Size of the drawing.
    pub height: f64,
}

/// Lays out `chains`. A pattern's column is the furthest position it has in any chain, so
/// every link points rightwards unless chains disagree about order (then it curves back).
pub fn layout(chains: &[ChainView]) -> Graph {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut nodes: Vec<Node> = Vec::new();
    for chain in chains {
        for (position, step) in chain.steps.iter().enumerate() {
            match index.get(step.pattern.as_str()) {
                Some(&i) => nodes[i].column = nodes[i].column.max(position),
                None => {
                    index.insert(&step.pattern, nodes.len());
                    nodes.push(Node {
                        pattern: step.pattern.clone(),
                        template: step.template.clone(),
                        severity: step.severity.clone(),
                        column: position,
                        x: 0.0,
                        y: 0.0,
                    });
                }
            }
        }
    }
    // Rows: first come, first placed, within each column.
    let columns = nodes.iter().map(|n| n.column + 1).max().unwrap_or(0);
    let mut rows = vec![0usize; columns];
    for node in &mut nodes {
        let row = rows[node.column];
        rows[node.column] += 1;
        node.x = MARGIN + node.column as f64 * (NODE_W + COLUMN_GAP);
        node.y = MARGIN + row as f64 * (NODE_H + ROW_GAP);
    }
    let tallest = rows.iter().copied().max().unwrap_or(0);

    let mut edges: Vec<Edge> = Vec::new();
    for chain in chains {
        for step in &chain.steps {
            let Some(link) = &step.link else { continue };
            let (Some(&from), Some(&to)) =
                (index.get(link.from.as_str()), index.get(link.to.as_str()))
            else {
                continue;
            };
            if edges.iter().any(|e| e.from == from && e.to == to) {
                continue;
            }
            edges.push(Edge {
                from,
                to,
                link: link.clone(),
                path: curve(&nodes[from], &nodes[to]),
            });
        }
    }
    nodes.sort_by(|a, b| a.column.cmp(&b.column).then(a.y.total_cmp(&b.y)));
    // Sorting moved the nodes; point the edges at their new places.
    let place: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.pattern.as_str(), i))
        .collect();
    for edge in &mut edges {
        edge.from = place[edge.link.from.as_str()];
        edge.to = place[edge.link.to.as_str()];
    }
    // A link that points back loops below the nodes: leave it room.
    let loops = edges.iter().any(|e| nodes[e.to].x <= nodes[e.from].x);
    let height = if tallest == 0 {
        0.0
    } else {
        2.0 * MARGIN
            + tallest as f64 * NODE_H
            + (tallest - 1) as f64 * ROW_GAP
            + if loops { 2.0 * NODE_H } else { 0.0 }
    };
    Graph {
        width: if columns == 0 {
            0.0
        } else {
            2.0 * MARGIN + columns as f64 * NODE_W + (columns - 1) as f64 * COLUMN_GAP
        },
        height,
        nodes,
        edges,
    }
}

/// A cubic curve from the middle of `a`'s right side to the middle of `b`'s left side (or,
/// for a link that points back, looping below).
fn curve(a: &Node, b: &Node) -> String {
    let (x1, y1) = (a.x + NODE_W, a.y + NODE_H / 2.0);
    let (x2, y2) = (b.x, b.y + NODE_H / 2.0);
    if x2 > x1 {
        let bend = (x2 - x1) / 2.0;
        format!(
            "M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}",
            x1 + bend,
            x2 - bend
        )
    } else {
        let drop = NODE_H;
        format!(
            "M{x1:.1},{y1:.1} C{:.1},{:.1} {:.1},{:.1} {x2:.1},{y2:.1}",
            x1 + COLUMN_GAP,
            y1 + drop * 2.0,
            x2 - COLUMN_GAP,
            y2 + drop * 2.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::patterns::ChainStep;

    fn link(from: &str, to: &str) -> Option<LinkDoc> {
        Some(LinkDoc {
            from: from.into(),
            to: to.into(),
            support: 10,
            probability: 0.9,
            lift: 4.0,
            lag_ms: 1200,
            confidence: 0.7,
        })
    }

    fn chain(ids: &[&str]) -> ChainView {
        ChainView {
            id: "c".into(),
            confidence: 0.7,
            window_ms: 5000,
            steps: ids
                .iter()
                .enumerate()
                .map(|(i, id)| ChainStep {
                    pattern: (*id).into(),
                    template: format!("template of {id}"),
                    severity: "high".into(),
                    link: (i > 0).then(|| link(ids[i - 1], id)).flatten(),
                })
                .collect(),
        }
    }

    #[test]
    fn shared_patterns_are_one_node_and_causes_come_first() {
        // db timeout → pool exhausted → 503, and db timeout → retry storm.
        let g = layout(&[chain(&["p4", "p2", "p1"]), chain(&["p4", "p7"])]);
        let at: Vec<(&str, usize)> = g
            .nodes
            .iter()
            .map(|n| (n.pattern.as_str(), n.column))
            .collect();
        assert_eq!(at, [("p4", 0), ("p2", 1), ("p7", 1), ("p1", 2)]);
        assert_eq!(g.edges.len(), 3, "one edge per distinct link");
        for e in &g.edges {
            assert_eq!(g.nodes[e.from].pattern, e.link.from);
            assert_eq!(g.nodes[e.to].pattern, e.link.to);
            assert!(g.nodes[e.from].x < g.nodes[e.to].x, "links point right");
            assert!(e.path.starts_with('M'), "{}", e.path);
        }
        // Two nodes in column 1, stacked; the drawing holds them all.
        assert!(g.nodes[2].y > g.nodes[1].y);
        assert!(
            g.nodes
                .iter()
                .all(|n| n.x + NODE_W <= g.width && n.y + NODE_H <= g.height)
        );
    }

    #[test]
    fn a_pattern_late_in_one_chain_moves_right_and_nothing_is_drawn_for_no_chains() {
        let g = layout(&[chain(&["p1", "p2"]), chain(&["p3", "p5", "p1"])]);
        let column = |p: &str| g.nodes.iter().find(|n| n.pattern == p).map(|n| n.column);
        assert_eq!(column("p1"), Some(2));
        assert_eq!(
            column("p2"),
            Some(1),
            "placed when first seen, before p1 moved"
        );
        // p1 → p2 now points back: it still gets a path.
        let back = g
            .edges
            .iter()
            .find(|e| e.link.from == "p1" && e.link.to == "p2")
            .expect("edge");
        assert!(back.path.contains('C'));
        assert_eq!(layout(&[]), Graph::default());
    }
}

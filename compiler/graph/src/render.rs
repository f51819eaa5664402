//! Renderings of the resource graph: sorted text (for tests and diffs), DOT, JSON and Mermaid.

use berth_model::ResourceGraph;
use petgraph::visit::EdgeRef;

/// An output format of `berth graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per node and per edge, sorted.
    Text,
    /// Graphviz DOT.
    Dot,
    /// JSON: nodes in creation order and edges.
    Json,
    /// A Mermaid flowchart.
    Mermaid,
}

/// Renders the graph; every format lists nodes in creation order and edges sorted.
pub fn render(g: &ResourceGraph, format: Format) -> String {
    let name = |i: petgraph::graph::NodeIndex| g.graph[i].address.to_string();
    let mut edges: Vec<(String, String, &'static str)> =
        g.graph.edge_references().map(|e| (name(e.source()), name(e.target()), e.weight().name())).collect();
    edges.sort();
    let nodes: Vec<String> = g.order.iter().map(|&i| name(i)).collect();
    match format {
        Format::Text => {
            let mut out = String::new();
            for n in &nodes {
                out.push_str(&format!("node {n}\n"));
            }
            for (a, b, k) in &edges {
                out.push_str(&format!("edge {a} -> {b} ({k})\n"));
            }
            out
        }
        Format::Dot => {
            let mut out = String::from("digraph berth {\n  rankdir = LR;\n  node [shape = box];\n");
            for n in &nodes {
                out.push_str(&format!("  {};\n", dot_id(n)));
            }
            for (a, b, k) in &edges {
                out.push_str(&format!("  {} -> {} [label = \"{k}\"];\n", dot_id(a), dot_id(b)));
            }
            out.push_str("}\n");
            out
        }
        Format::Json => {
            let json = serde_json::json!({
                "format_version": "1",
                "nodes": nodes,
                "edges": edges.iter().map(|(a, b, k)| serde_json::json!({"from": a, "to": b, "kind": k})).collect::<Vec<_>>(),
            });
            let mut s = serde_json::to_string_pretty(&json).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Mermaid => {
            let id = |n: &str| nodes.iter().position(|x| x == n).map_or_else(|| "n".to_string(), |i| format!("n{i}"));
            let mut out = String::from("flowchart LR\n");
            for (i, n) in nodes.iter().enumerate() {
                out.push_str(&format!("  n{i}[\"{}\"]\n", n.replace('"', "#quot;")));
            }
            for (a, b, k) in &edges {
                out.push_str(&format!("  {} -->|{k}| {}\n", id(a), id(b)));
            }
            out
        }
    }
}

fn dot_id(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

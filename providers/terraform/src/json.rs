//! Renders the configuration in Terraform's JSON syntax: block types and labels become nested
//! objects (`resource` → type → name → body), nested blocks objects (an array when a block
//! type repeats), numbers and bools stay JSON numbers and bools, and strings are templates, so
//! references are written `"${aws_instance.dh000.id}"` and a literal `${` as `$${`.

use crate::hcl;
use crate::ir::{Block, Body, Expr, Item};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Blocks grouped by their labels, in label order.
enum Level<'a> {
    /// The bodies of the blocks with this label path (several only for repeated providers).
    Bodies(Vec<&'a Body>),
    /// The next label.
    Labels(BTreeMap<&'a str, Level<'a>>),
}

impl<'a> Level<'a> {
    fn insert(&mut self, labels: &'a [String], body: &'a Body) {
        match (self, labels.split_first()) {
            (Level::Bodies(bodies), None) => bodies.push(body),
            (Level::Labels(map), Some((first, rest))) => {
                let empty = if rest.is_empty() { Level::Bodies(Vec::new()) } else { Level::Labels(BTreeMap::new()) };
                map.entry(first.as_str()).or_insert(empty).insert(rest, body);
            }
            // Blocks of one type take the same number of labels; a mismatch cannot be built.
            _ => {}
        }
    }
}

/// Renders top-level blocks as one JSON document, block types and labels in sorted order.
pub(crate) fn render(blocks: &[Block], capacity: usize) -> String {
    let mut kinds: BTreeMap<&str, Level<'_>> = BTreeMap::new();
    for b in blocks {
        let empty = if b.labels.is_empty() { Level::Bodies(Vec::new()) } else { Level::Labels(BTreeMap::new()) };
        kinds.entry(b.kind).or_insert(empty).insert(&b.labels, &b.body);
    }
    let mut out = String::with_capacity(capacity);
    out.push('{');
    for (i, (kind, level)) in kinds.iter().enumerate() {
        entry_start(&mut out, i, 1, kind);
        write_level(&mut out, level, 1);
    }
    out.push_str("\n}\n");
    out
}

fn newline(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// `,` unless first, a new line, and `"key": `.
fn entry_start(out: &mut String, index: usize, level: usize, key: &str) {
    if index > 0 {
        out.push(',');
    }
    newline(out, level);
    string(out, key);
    out.push_str(": ");
}

fn write_level(out: &mut String, level: &Level<'_>, depth: usize) {
    match level {
        Level::Bodies(bodies) => write_bodies(out, bodies, depth),
        Level::Labels(map) => {
            out.push('{');
            for (i, (label, next)) in map.iter().enumerate() {
                entry_start(out, i, depth + 1, label);
                write_level(out, next, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

/// One body as an object, several as an array of objects.
fn write_bodies(out: &mut String, bodies: &[&Body], depth: usize) {
    match bodies {
        [one] => write_body(out, one, depth),
        many => {
            out.push('[');
            for (i, b) in many.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_body(out, b, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
    }
}

fn write_body(out: &mut String, body: &Body, depth: usize) {
    out.push('{');
    let mut written_blocks: Vec<&str> = Vec::new();
    let mut index = 0;
    for item in &body.0 {
        match item {
            Item::Attr(name, e) => {
                entry_start(out, index, depth + 1, name);
                write_expr(out, e, depth + 1);
            }
            Item::Block(b) => {
                if written_blocks.contains(&b.kind) {
                    continue;
                }
                written_blocks.push(b.kind);
                let same: Vec<&Body> = body
                    .0
                    .iter()
                    .filter_map(|it| if let Item::Block(o) = it { (o.kind == b.kind).then_some(&o.body) } else { None })
                    .collect();
                entry_start(out, index, depth + 1, b.kind);
                write_bodies(out, &same, depth + 1);
            }
        }
        index += 1;
    }
    if index > 0 {
        newline(out, depth);
    }
    out.push('}');
}

fn write_expr(out: &mut String, e: &Expr, depth: usize) {
    match e {
        Expr::Str(s) => template(out, s),
        Expr::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Expr::Ref(r) => {
            out.push_str("\"${");
            out.push_str(r);
            out.push_str("}\"");
        }
        Expr::Bare(r) => string(out, r),
        Expr::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, item, depth);
            }
            out.push(']');
        }
        Expr::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                // Object keys are templates too.
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                template(out, k);
                out.push_str(": ");
                write_expr(out, v, depth + 1);
            }
            if !entries.is_empty() {
                newline(out, depth);
            }
            out.push('}');
        }
        Expr::Base64Heredoc(text) => {
            let mut t = String::with_capacity(text.len() + 24);
            t.push_str("${base64encode(");
            hcl::quoted(&mut t, text);
            t.push_str(")}");
            string(out, &t);
        }
    }
}

/// A literal string as a JSON template string: `${` and `%{` doubled.
fn template(out: &mut String, s: &str) {
    out.push('"');
    hcl::escape_string(out, s, true);
    out.push('"');
}

/// A JSON string literal.
fn string(out: &mut String, s: &str) {
    out.push('"');
    hcl::escape_string(out, s, false);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_labels_and_keeps_numbers() {
        let mut sc = Body::new();
        sc.attr("min_size", Expr::Int(100));
        let mut body = Body::new();
        body.attr("cluster_name", Expr::Ref("aws_eks_cluster.c.name".into()))
            .attr("note", Expr::str("${not} a ref"))
            .block("scaling_config", sc)
            .attr("depends_on", Expr::List(vec![Expr::Bare("aws_eks_addon.c".into())]));
        let text = render(&[Block::resource("aws_eks_node_group", "c_np", body)], 0);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let r = &v["resource"]["aws_eks_node_group"]["c_np"];
        assert_eq!(r["cluster_name"], "${aws_eks_cluster.c.name}");
        assert_eq!(r["note"], "$${not} a ref");
        assert_eq!(r["scaling_config"]["min_size"], 100);
        assert_eq!(r["depends_on"][0], "aws_eks_addon.c");
    }

    #[test]
    fn strings_escape_like_hcl_and_only_templates_double_directives() {
        let (mut t, mut s) = (String::new(), String::new());
        template(&mut t, "a\"b\\c${d}%{e}\n\u{1}");
        string(&mut s, "a\"${d}");
        assert_eq!(t, r#""a\"b\\c$${d}%%{e}\n\u0001""#);
        assert_eq!(s, r#""a\"${d}""#);
        let mut h = String::new();
        hcl::quoted(&mut h, "a\"b\\c${d}%{e}\n\u{1}");
        assert_eq!(h, t, "an HCL string and a JSON template string are written alike");
    }

    #[test]
    fn repeated_blocks_become_arrays() {
        let mut body = Body::new();
        for key in ["a", "b"] {
            let mut t = Body::new();
            t.attr("key", Expr::str(key));
            body.block("taint", t);
        }
        let mut p = Body::new();
        p.attr("region", Expr::str("x"));
        let mut q = Body::new();
        q.attr("alias", Expr::str("y"));
        let text = render(
            &[
                Block::resource("t", "n", body),
                Block::new("provider", vec!["aws".into()], p),
                Block::new("provider", vec!["aws".into()], q),
            ],
            0,
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["resource"]["t"]["n"]["taint"][1]["key"], "b");
        assert_eq!(v["provider"]["aws"][1]["alias"], "y");
    }
}

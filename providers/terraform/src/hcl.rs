//! Renders the configuration as Terraform's native syntax, in the canonical layout of
//! `terraform fmt`: two-space indents, the `=` of consecutive one-line attributes aligned, and
//! a blank line between a run of one-line attributes and a multi-line item.

use crate::ir::{Block, Body, Expr, Item};
use std::fmt::Write;

/// Renders top-level blocks, one blank line apart, after a comment header.
pub(crate) fn render(header: &str, blocks: &[Block], capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    for block in blocks {
        out.push('\n');
        write_block(&mut out, block, 0);
    }
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_block(out: &mut String, block: &Block, level: usize) {
    indent(out, level);
    out.push_str(block.kind);
    for label in &block.labels {
        out.push(' ');
        quoted(out, label);
    }
    out.push_str(" {\n");
    write_body(out, &block.body, level + 1);
    indent(out, level);
    out.push_str("}\n");
}

/// True if the item spans several lines (so it breaks `terraform fmt`'s alignment).
fn multi_line(item: &Item) -> bool {
    match item {
        Item::Block(_) => true,
        Item::Attr(_, e) => matches!(e, Expr::Base64Heredoc(_)) || matches!(e, Expr::Map(m) if !m.is_empty()),
    }
}

fn write_body(out: &mut String, body: &Body, level: usize) {
    let items = &body.0;
    let mut i = 0;
    while i < items.len() {
        if i > 0 {
            out.push('\n');
        }
        // A multi-line item on its own, or a run of one-line attributes with aligned `=`.
        let run = items[i..].iter().take_while(|it| !multi_line(it)).count().max(1);
        let width =
            items[i..i + run].iter().map(|it| if let Item::Attr(n, _) = it { n.len() } else { 0 }).max().unwrap_or(0);
        for item in &items[i..i + run] {
            match item {
                Item::Block(b) => write_block(out, b, level),
                Item::Attr(name, e) => {
                    indent(out, level);
                    out.push_str(name);
                    pad(out, width - name.len());
                    out.push_str(" = ");
                    write_value(out, e, level);
                }
            }
        }
        i += run;
    }
}

fn pad(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// A value after `name = `, on as many lines as it needs, ending with a newline.
fn write_value(out: &mut String, e: &Expr, level: usize) {
    match e {
        Expr::Map(entries) if !entries.is_empty() => {
            out.push_str("{\n");
            let keys: Vec<String> = entries.iter().map(|(k, _)| key(k)).collect();
            // terraform fmt measures the key column in characters.
            let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
            for (k, (_, v)) in keys.iter().zip(entries) {
                indent(out, level + 1);
                out.push_str(k);
                pad(out, width - k.chars().count());
                out.push_str(" = ");
                write_inline(out, v);
                out.push('\n');
            }
            indent(out, level);
            out.push_str("}\n");
        }
        Expr::Base64Heredoc(text) => {
            out.push_str("base64encode(<<-EOT\n");
            for line in text.lines() {
                if !line.is_empty() {
                    indent(out, level + 1);
                    escape_directives(out, line);
                }
                out.push('\n');
            }
            indent(out, level);
            out.push_str("EOT\n");
            indent(out, level);
            out.push_str(")\n");
        }
        _ => {
            write_inline(out, e);
            out.push('\n');
        }
    }
}

/// A value on one line.
fn write_inline(out: &mut String, e: &Expr) {
    match e {
        Expr::Str(s) => quoted(out, s),
        Expr::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Expr::Ref(r) | Expr::Bare(r) => out.push_str(r),
        Expr::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_inline(out, item);
            }
            out.push(']');
        }
        Expr::Map(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
            } else {
                out.push_str("{ ");
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&key(k));
                    out.push_str(" = ");
                    write_inline(out, v);
                }
                out.push_str(" }");
            }
        }
        Expr::Base64Heredoc(text) => {
            out.push_str("base64encode(");
            quoted(out, text);
            out.push(')');
        }
    }
}

/// An object key: bare if it is an identifier, quoted otherwise.
fn key(k: &str) -> String {
    let ident = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(k, "true" | "false" | "null");
    if ident {
        k.to_string()
    } else {
        let mut s = String::with_capacity(k.len() + 2);
        quoted(&mut s, k);
        s
    }
}

/// A quoted string literal.
pub(crate) fn quoted(out: &mut String, s: &str) {
    out.push('"');
    escape_string(out, s, true);
    out.push('"');
}

/// Escapes text for a heredoc or JSON template, where only `${` and `%{` are special.
pub(crate) fn escape_directives(out: &mut String, s: &str) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if matches!(c, '$' | '%') && chars.peek() == Some(&'{') {
            out.push(c);
        }
    }
}

/// Escapes the inside of a quoted string, the same way for HCL and JSON: quotes,
/// backslashes and control characters; with `templates`, also the `${` and `%{` sequences
/// that would start an interpolation or directive (HCL strings and JSON template strings).
pub(crate) fn escape_string(out: &mut String, s: &str, templates: bool) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if templates && chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_runs_and_separates_multi_line_items() {
        let mut tags = Body::new();
        tags.attr("desired_size", Expr::Int(3)).attr("max_size", Expr::Int(4));
        let mut body = Body::new();
        body.attr("name", Expr::str("a"))
            .attr("role_arn", Expr::Ref("var.role".into()))
            .block("scaling_config", tags)
            .attr("tags", Expr::Map(vec![("Name".into(), Expr::str("a")), ("berth:address".into(), Expr::str("x.a"))]));
        let text = render("header", &[Block::resource("aws_x", "a", body)], 0);
        assert_eq!(
            text,
            "# header\n\nresource \"aws_x\" \"a\" {\n  name     = \"a\"\n  role_arn = var.role\n\n  scaling_config {\n    desired_size = 3\n    max_size     = 4\n  }\n\n  tags = {\n    Name            = \"a\"\n    \"berth:address\" = \"x.a\"\n  }\n}\n"
        );
    }

    #[test]
    fn aligns_map_keys_by_characters_like_terraform_fmt() {
        let mut body = Body::new();
        body.attr("tags", Expr::Map(vec![("é".into(), Expr::str("x")), ("ab".into(), Expr::str("y"))]));
        let text = render("", &[Block::new("locals", Vec::new(), body)], 0);
        assert_eq!(text, "\nlocals {\n  tags = {\n    \"é\" = \"x\"\n    ab  = \"y\"\n  }\n}\n");
    }

    #[test]
    fn escapes_templates_and_quotes() {
        let mut s = String::new();
        quoted(&mut s, "a\"b\\c${d}%{e}\n$f");
        assert_eq!(s, r#""a\"b\\c$${d}%%{e}\n$f""#);
    }
}

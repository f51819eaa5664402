//! `berth fmt`: prints a spec file in the canonical layout platform engineers know from
//! `terraform fmt`, keeping every comment and the exact text of every literal.

use hcl_edit::expr::{
    Expression, ForExpr, Object, ObjectKey, ObjectValueAssignment, ObjectValueTerminator, TraversalOperator,
};
use hcl_edit::parser::{Error, parse_body};
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::{Decorate, Span};
use std::ops::Range;

/// Formats one spec file's text into berth's canonical layout.
///
/// Two spaces of indentation per open block or bracket; `=` aligned over runs of adjacent
/// single-line attributes (and object items on their own lines), a single space around it
/// otherwise; at most one blank line in a row, none after `{` or before `}`; no trailing
/// whitespace; exactly one final newline. Comments stay where they are. Strings, templates,
/// heredocs and numbers are copied verbatim, and line breaks inside expressions are kept (only
/// re-indented). One-line blocks are expanded, empty ones become `name {}`, CRLF becomes LF.
///
/// # Errors
///
/// The syntax error when `text` is not valid HCL.
pub fn format_source(text: &str) -> Result<String, Error> {
    if text.contains('\r') {
        parse_body(text)?; // report syntax errors at offsets of the caller's text
    }
    let src = text.replace("\r\n", "\n");
    let body = parse_body(&src)?;
    let mut printer = Printer { src: &src, out: String::new(), indent: 0, line: 0 };
    printer.body(&body, false);
    let out = printer.out.trim_end();
    Ok(if out.is_empty() { String::new() } else { format!("{out}\n") })
}

/// Whitespace and comments of a decor, with runs of spaces dropped.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    /// A run of this many line breaks.
    Nl(usize),
    /// A comment (or, defensively, any other non-blank text), copied verbatim.
    Text(&'a str),
}

fn pieces(raw: &str) -> Vec<Piece<'_>> {
    let (mut pieces, mut rest) = (Vec::new(), raw);
    while let Some(c) = rest.chars().next() {
        let len = match c {
            ' ' | '\t' | '\r' | '\n' => 1,
            _ if rest.starts_with("/*") => rest.find("*/").map_or(rest.len(), |i| i + 2),
            _ if c == '#' || rest.starts_with("//") => rest.find('\n').unwrap_or(rest.len()),
            _ => rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len()),
        };
        match (c, pieces.last_mut()) {
            ('\n', Some(Piece::Nl(n))) => *n += 1,
            ('\n', _) => pieces.push(Piece::Nl(1)),
            (' ' | '\t' | '\r', _) => {}
            _ => pieces.push(Piece::Text(rest[..len].trim_end())),
        }
        rest = &rest[len..];
    }
    pieces
}

fn has_comment(raw: &str) -> bool {
    pieces(raw).iter().any(|p| matches!(p, Piece::Text(_)))
}

fn pre(node: &impl Decorate) -> &str {
    node.decor().prefix().map_or("", |raw| &**raw)
}

fn suf(node: &impl Decorate) -> &str {
    node.decor().suffix().map_or("", |raw| &**raw)
}

/// An attribute or object item, whose `=` may be aligned with its neighbours'.
struct Row {
    /// Offset in the output just after the key, where padding goes.
    at: usize,
    /// Width of the key in characters.
    width: usize,
    /// The item fits on a line of its own, so it can take part in a run.
    single: bool,
    /// A blank line or comment precedes it, so it starts a new run.
    fresh: bool,
}

/// A body entry that ends any run (a block).
const BREAK: Row = Row { at: 0, width: 0, single: false, fresh: true };

struct Printer<'s> {
    src: &'s str,
    out: String,
    /// Indentation level of lines started inside the innermost open block or bracket.
    indent: usize,
    /// Indentation level of the current output line.
    line: usize,
}

impl<'s> Printer<'s> {
    fn newline(&mut self, indent: usize) {
        if self.out.is_empty() {
            return;
        }
        self.out.truncate(self.out.trim_end_matches([' ', '\t']).len());
        self.out.push('\n');
        self.out.push_str(&"  ".repeat(indent));
        self.line = indent;
    }

    /// Prints the decor `raw`: `default` if it is only spaces; otherwise its comments and line
    /// breaks, re-indented. `open`/`close`: `raw` follows an opening or precedes a closing bracket,
    /// so a blank line there is dropped and the closing bracket gets the opening line's indent.
    fn gap(&mut self, raw: &str, default: &str, open: bool, close: bool) {
        let pieces = pieces(raw);
        if pieces.is_empty() && !self.out.ends_with([' ', '\n']) {
            self.out.push_str(default);
        }
        let last = pieces.len().saturating_sub(1);
        for (i, piece) in pieces.iter().enumerate() {
            match *piece {
                Piece::Nl(n) => {
                    let closing = close && i == last;
                    if n > 1 && !closing && !(open && i == 0) {
                        self.newline(0);
                    }
                    self.newline(if closing { self.indent.saturating_sub(1) } else { self.indent });
                }
                Piece::Text(text) => {
                    if !self.out.is_empty() && !self.out.ends_with([' ', '\n']) {
                        self.out.push(' ');
                    }
                    self.out.push_str(text);
                    if i == last && raw.ends_with([' ', '\t']) {
                        self.out.push(' ');
                    }
                }
            }
        }
    }

    /// Prints `f` between two brackets; lines it starts are indented one level past the opening line.
    fn nest(&mut self, open: &str, close: &str, f: impl FnOnce(&mut Self)) {
        self.out.push_str(open);
        let saved = std::mem::replace(&mut self.indent, self.line + 1);
        f(self);
        self.out.push_str(close);
        self.indent = saved;
    }

    /// The source text between two nodes, which is their decor: hcl-edit leaves a few decors
    /// (binary and traversal operators') unresolved, so those are read from the source instead.
    fn between(&self, a: Option<Range<usize>>, b: Option<Range<usize>>) -> Option<&'s str> {
        self.src.get(a?.end..b?.start)
    }

    fn word(&mut self, node: &impl Decorate, text: &str, before: &str, after: &str) {
        self.gap(pre(node), before, false, false);
        self.out.push_str(text);
        self.gap(suf(node), after, false, false);
    }

    fn deco(&mut self, expr: &Expression, (before, after): (&str, &str), open: bool, close: bool) {
        self.gap(pre(expr), before, open, false);
        self.expr(expr);
        self.gap(suf(expr), after, false, close);
    }

    fn sub(&mut self, expr: &Expression, before: &str, after: &str) {
        self.deco(expr, (before, after), false, false);
    }

    fn body(&mut self, body: &Body, nested: bool) {
        let mut rows = Vec::new();
        for (i, structure) in body.iter().enumerate() {
            let lead = pre(structure);
            self.gap(&format!("\n{lead}"), "", i == 0, false);
            match structure {
                Structure::Attribute(attr) => {
                    let start = self.out.len();
                    self.out.push_str(attr.key.as_str());
                    let fresh = !pieces(lead).is_empty();
                    rows.push(self.assign(start, &attr.key, '=', &attr.value, fresh));
                }
                Structure::Block(block) => {
                    self.block(block);
                    rows.push(BREAK);
                }
            }
            self.gap(suf(structure), "", false, false);
        }
        let nl = if nested || !body.is_empty() { "\n" } else { "" };
        self.gap(&format!("{nl}{}", suf(body)), "", body.is_empty(), true);
        self.align(&rows);
    }

    fn block(&mut self, block: &Block) {
        self.word(&block.ident, block.ident.as_str(), "", " ");
        for label in &block.labels {
            let src = self.src;
            let text = label.span().and_then(|r| src.get(r)).unwrap_or(label.as_str());
            self.word(label, text, "", " ");
        }
        let body = &block.body;
        if body.is_empty() && !has_comment(pre(body)) && !has_comment(suf(body)) {
            self.out.push_str("{}");
            return;
        }
        self.nest("{", "}", |p| {
            p.gap(pre(body), "", false, false);
            p.body(body, true);
        });
    }

    /// Prints `<key decor> = value` after a key printed from `start`, returning its row.
    fn assign(&mut self, start: usize, key: &impl Decorate, op: char, value: &Expression, fresh: bool) -> Row {
        let at = self.out.len();
        self.gap(suf(key), if op == '=' { " " } else { "" }, false, false);
        self.out.push(op);
        let value_start = self.out.len();
        self.sub(value, " ", "");
        let single = !self.out[value_start..].contains('\n') && !has_comment(suf(key));
        Row { at, width: self.out[start..at].chars().count(), single, fresh }
    }

    /// Pads the keys of each run of single-line rows to the run's widest key.
    fn align(&mut self, rows: &[Row]) {
        let mut pads = Vec::new();
        let mut run: Vec<&Row> = Vec::new();
        for row in rows.iter().chain([&BREAK]) {
            if !row.single || row.fresh {
                let width = run.iter().map(|r| r.width).max().unwrap_or(0);
                pads.extend(run.drain(..).map(|r| (r.at, width - r.width)));
            }
            if row.single {
                run.push(row);
            }
        }
        for (at, pad) in pads.into_iter().rev().filter(|&(_, pad)| pad > 0) {
            self.out.insert_str(at, &" ".repeat(pad));
        }
    }

    fn expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Array(array) => {
                let tail = if array.trailing_comma() { "," } else { "" };
                self.list(["[", "]"], array.iter().collect(), tail, array.trailing());
            }
            Expression::Object(object) => self.object(object),
            Expression::Parenthesis(paren) => self.nest("(", ")", |p| p.deco(paren.inner(), ("", ""), true, true)),
            Expression::FuncCall(call) => {
                for part in &call.name.namespace {
                    self.word(part, part.as_str(), "", "");
                    self.out.push_str("::");
                }
                self.word(&call.name.name, call.name.name.as_str(), "", "");
                let args = &call.args;
                let tail = if args.expand_final() {
                    "..."
                } else if args.trailing_comma() {
                    ","
                } else {
                    ""
                };
                self.list(["(", ")"], args.iter().collect(), tail, args.trailing());
            }
            Expression::Traversal(traversal) => {
                self.gap(pre(&traversal.expr), "", false, false);
                self.expr(&traversal.expr);
                let mut prev = traversal.expr.span();
                for op in &traversal.operators {
                    self.gap(self.between(prev, op.span()).unwrap_or(pre(op)), "", false, false);
                    prev = op.span();
                    let bracket = matches!(op.value(), TraversalOperator::FullSplat(_) | TraversalOperator::Index(_));
                    self.nest(if bracket { "[" } else { "." }, if bracket { "]" } else { "" }, |p| match op.value() {
                        TraversalOperator::GetAttr(name) => p.word(name, name.as_str(), "", ""),
                        TraversalOperator::AttrSplat(splat) | TraversalOperator::FullSplat(splat) => {
                            p.word(splat, "*", "", "");
                        }
                        TraversalOperator::LegacyIndex(index) => p.word(index, &index.to_string(), "", ""),
                        TraversalOperator::Index(index) => p.deco(index, ("", ""), true, true),
                    });
                }
            }
            Expression::Conditional(cond) => {
                self.sub(&cond.cond_expr, "", " ");
                self.out.push('?');
                self.sub(&cond.true_expr, " ", " ");
                self.out.push(':');
                self.sub(&cond.false_expr, " ", "");
            }
            Expression::BinaryOp(op) => {
                self.gap(pre(&op.lhs_expr), "", false, false);
                self.expr(&op.lhs_expr);
                let (lhs, operator, rhs) = (op.lhs_expr.span(), op.operator.span(), op.rhs_expr.span());
                self.gap(self.between(lhs, operator.clone()).unwrap_or(pre(&op.operator)), " ", false, false);
                self.out.push_str(op.operator.as_str());
                self.gap(self.between(operator, rhs).unwrap_or(suf(&op.operator)), " ", false, false);
                self.expr(&op.rhs_expr);
                self.gap(suf(&op.rhs_expr), "", false, false);
            }
            Expression::UnaryOp(op) => {
                self.out.push_str(op.operator.as_str());
                self.sub(&op.expr, "", "");
            }
            Expression::ForExpr(for_expr) => self.for_expr(for_expr),
            leaf => match leaf.span().and_then(|r| self.src.get(r)) {
                Some(text) => self.out.push_str(text),
                None => self.out.push_str(&leaf.to_string()),
            },
        }
    }

    fn list(&mut self, [open, close]: [&str; 2], items: Vec<&Expression>, tail: &str, trailing: &str) {
        if items.is_empty() && !has_comment(trailing) {
            self.out.push_str(open);
            self.out.push_str(close);
            return;
        }
        self.nest(open, close, |p| {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    p.out.push(',');
                }
                let last = i + 1 == items.len() && tail.is_empty();
                p.deco(item, (if i == 0 { "" } else { " " }, ""), i == 0, last);
            }
            p.out.push_str(tail); // empty for an empty list
            p.gap(trailing, "", items.is_empty(), true);
        });
    }

    fn object(&mut self, object: &Object) {
        let items: Vec<_> = object.iter().collect();
        let trailing: &str = object.trailing();
        if items.is_empty() && !has_comment(trailing) {
            self.out.push_str("{}");
            return;
        }
        let mut rows = Vec::new();
        self.nest("{", "}", |p| {
            let mut nl = "";
            for (i, &(key, value)) in items.iter().enumerate() {
                let lead = format!("{nl}{}", pre(key));
                p.gap(&lead, " ", i == 0, false);
                let start = p.out.len();
                match key {
                    ObjectKey::Ident(ident) => p.out.push_str(ident.as_str()),
                    ObjectKey::Expression(expr) => p.expr(expr),
                }
                let equals = value.assignment() == ObjectValueAssignment::Equals;
                let fresh = pieces(&lead) != [Piece::Nl(1)];
                let mut row = p.assign(start, key, if equals { '=' } else { ':' }, value.expr(), fresh);
                let next = items.get(i + 1).map_or(trailing, |(key, _)| pre(*key));
                nl = if value.terminator() == ObjectValueTerminator::Newline { "\n" } else { "" };
                let ends_line = !nl.is_empty() || next.trim_start_matches([' ', '\t']).starts_with('\n');
                row.single &= equals && lead.contains('\n') && ends_line;
                rows.push(row);
                if value.terminator() == ObjectValueTerminator::Comma {
                    p.out.push(',');
                }
            }
            p.gap(&format!("{nl}{trailing}"), " ", items.is_empty(), true);
        });
        self.align(&rows);
    }

    fn for_expr(&mut self, for_expr: &ForExpr) {
        // `[for v in xs : f(v)]` but `{ for k, v in m : k => v }`, as terraform writes them.
        let (open, close, pad) = if for_expr.key_expr.is_some() { ("{", "}", " ") } else { ("[", "]", "") };
        self.nest(open, close, |p| {
            let intro = &for_expr.intro;
            p.gap(pre(intro), pad, true, false);
            p.out.push_str("for");
            if let Some(key) = &intro.key_var {
                p.word(key, key.as_str(), " ", "");
                p.out.push(',');
            }
            p.word(&intro.value_var, intro.value_var.as_str(), " ", " ");
            p.out.push_str("in");
            p.sub(&intro.collection_expr, " ", " ");
            p.out.push(':');
            if let Some(key) = &for_expr.key_expr {
                p.sub(key, " ", " ");
                p.out.push_str("=>");
            }
            let cond = for_expr.cond.as_ref();
            p.deco(&for_expr.value_expr, (" ", ""), false, cond.is_none() && !for_expr.grouping);
            if for_expr.grouping {
                p.out.push_str("...");
            }
            if let Some(cond) = cond {
                p.gap(pre(cond), " ", false, false);
                p.out.push_str("if");
                p.deco(&cond.expr, (" ", ""), false, true);
            }
            if !p.out.ends_with([' ', '\n']) {
                p.out.push_str(pad);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl_edit::expr::{Array, FuncArgs};
    use hcl_edit::visit_mut::{VisitMut, visit_array_mut, visit_func_args_mut, visit_object_mut};

    fn fmt(text: &str) -> String {
        format_source(text).unwrap()
    }

    /// The parse of `text` with the whitespace hcl-edit keeps before closing brackets dropped, so
    /// bodies compare by structure alone (`Body`'s `PartialEq` already ignores all other decor).
    fn structure(text: &str) -> Body {
        struct Trailers;
        impl VisitMut for Trailers {
            fn visit_array_mut(&mut self, node: &mut Array) {
                node.set_trailing("");
                visit_array_mut(self, node);
            }
            fn visit_object_mut(&mut self, node: &mut Object) {
                node.set_trailing("");
                visit_object_mut(self, node);
            }
            fn visit_func_args_mut(&mut self, node: &mut FuncArgs) {
                node.set_trailing("");
                visit_func_args_mut(self, node);
            }
        }
        let mut body = parse_body(text).unwrap();
        Trailers.visit_body_mut(&mut body);
        body
    }

    const SAMPLE: &str = r#"# berth spec: staging cluster
// owned by the platform team


variable "region" {

    default="eu-west-1"   # primary region
}
host "db1" {
  zone = "a"
  size="large"
  tags = {
    env="staging"
    team = "platform" # who to page
    cost_center= 42
  }


  volume "data0" {
    size_gb = 100
    mount = "/var/lib/data"
  }
  volume "logs" {
  }
}

cluster "main" {
  hosts = [
    host.db1,   # primary
      host.db2,
  ]
  region = var.region
  /* quorum is computed */
  quorum = length(local.hosts) / 2 + 1
}

service "api" {
  for_each = {for name, h in var.hosts: name => h if h.enabled}
  image  = "registry/api:${var.version}"
  replicas= var.env == "prod" ? 3 : 1
  ports = [ 8080,9090 ]
  env = {
    LOG_LEVEL = "info"
    URL = "https://${each.key}.${var.domain}/"
  }
  health { path = "/healthz" }
  script = <<-EOT
    #!/bin/sh
      echo "starting ${each.key}"   
    exec api
  EOT
  args = merge(local.defaults, {
         verbose = true
     })
  labels = [for k, v in var.labels: "${k}=${v}"]
}
"#;

    #[test]
    fn aligns_equals_over_runs_of_single_line_attributes() {
        let input = "a = 1\nbbb = 2\ncc=\"x\"\n\nd = 4\neeeee = 5\n# note\nf = 6\ngg = 7\nblk {}\n\
                     h = 8\niiii = [\n1,\n]\nj = 9\nkk = 10\n";
        let expected = "a   = 1\nbbb = 2\ncc  = \"x\"\n\nd     = 4\neeeee = 5\n# note\nf  = 6\ngg = 7\nblk {}\n\
                        h = 8\niiii = [\n  1,\n]\nj  = 9\nkk = 10\n";
        assert_eq!(fmt(input), expected);
    }

    #[test]
    fn keeps_full_line_trailing_and_block_comments_in_place() {
        let input = "# header\n// second\n\n\n/* block\n   comment */\nhost \"a\" {   # after brace\nzone = \"a\"   // trailing\n\
                     \x20   size = /* inline */ \"large\"\n  ports = [\n  80, # http\n   # in array\n    443,\n  ]\n\
                     \x20 sum = a /* op */ + b.c /* dot */ .d\n\n    # closing\n}\n# end\n";
        let expected = r#"# header
// second

/* block
   comment */
host "a" { # after brace
  zone = "a" // trailing
  size = /* inline */ "large"
  ports = [
    80, # http
    # in array
    443,
  ]
  sum = a /* op */ + b.c /* dot */ .d

  # closing
}
# end
"#;
        assert_eq!(fmt(input), expected);
    }

    #[test]
    fn indents_nested_blocks_by_two_spaces() {
        let input =
            "cluster \"main\" {\nregion = \"eu\"\n      host \"a\" {\nvolume   \"data0\"{\nsize_gb=100\n}\n  }\n}";
        let expected = "cluster \"main\" {\n  region = \"eu\"\n  host \"a\" {\n    volume \"data0\" {\n      \
                        size_gb = 100\n    }\n  }\n}\n";
        assert_eq!(fmt(input), expected);
    }

    #[test]
    fn lays_out_multi_line_arrays_and_objects() {
        let input = "zones = [\n\"a\",\n       \"b\",\n]\ntags = {\n\nenv = \"prod\"\n\"cost-center\" = 42\n    nested = {\n\
                     deep = true\n    }\n\n}\none = {a=1,bb=2}\npairs = [{\n    x = 1\n  }, {\ny = 2\n}]\nempty = [\n]\n";
        let expected = r#"zones = [
  "a",
  "b",
]
tags = {
  env           = "prod"
  "cost-center" = 42
  nested = {
    deep = true
  }
}
one = { a = 1, bb = 2 }
pairs = [{
  x = 1
}, {
  y = 2
}]
empty = []
"#;
        assert_eq!(fmt(input), expected);
    }

    #[test]
    fn normalises_spaces_inside_expressions_but_not_strings() {
        let input = "a = x+y *z\nb = ! var.flag\nc = f( 1,\"p  q\" )\nd = var.list[ 0 ].name\ne = var.x?1:2\n\
                     f = [for s in var.l: upper(s) if s != \"\"]\ng = {for k,v in m: k=>v...}\n";
        let expected = "a = x + y * z\nb = !var.flag\nc = f(1, \"p  q\")\nd = var.list[0].name\ne = var.x ? 1 : 2\n\
                        f = [for s in var.l : upper(s) if s != \"\"]\ng = { for k, v in m : k => v... }\n";
        assert_eq!(fmt(input), expected);
    }

    #[test]
    fn copies_heredocs_verbatim() {
        let heredocs = "script = <<EOT\n  keep   this   spacing   \n\ttabs too\nEOT\n\
                        indented = <<-EOT\n      deeper\n    base\n    EOT\n";
        assert_eq!(fmt(heredocs), heredocs);
        assert_eq!(fmt("svc {\n      run = <<EOT\nx   \nEOT\n}"), "svc {\n  run = <<EOT\nx   \nEOT\n}\n");
    }

    #[test]
    fn formats_a_realistic_spec_idempotently() {
        let once = fmt(SAMPLE);
        assert_eq!(fmt(&once), once);
        assert!(once.lines().all(|line| line == line.trim_end() || line.starts_with("      echo")), "{once}");
        assert!(!once.contains("\n\n\n") && !once.contains("{\n\n") && !once.contains("\n\n}"), "{once}");
        assert!(once.ends_with("}\n") && !once.ends_with("\n\n"));
        for line in [
            "# berth spec: staging cluster\n// owned by the platform team\n\nvariable \"region\" {\n",
            "  default = \"eu-west-1\" # primary region\n",
            "    env         = \"staging\"\n    team        = \"platform\" # who to page\n    cost_center = 42\n",
            "  }\n\n  volume \"data0\" {\n    size_gb = 100\n    mount   = \"/var/lib/data\"\n  }\n  volume \"logs\" {}\n",
            "    host.db1, # primary\n    host.db2,\n",
            "  for_each = { for name, h in var.hosts : name => h if h.enabled }\n  image    = \"registry/api:${var.version}\"\n",
            "  health {\n    path = \"/healthz\"\n  }\n",
            "    #!/bin/sh\n      echo \"starting ${each.key}\"   \n    exec api\n  EOT\n",
            "  args = merge(local.defaults, {\n    verbose = true\n  })\n",
        ] {
            assert!(once.contains(line), "missing {line:?} in:\n{once}");
        }
    }

    #[test]
    fn preserves_the_parsed_structure() {
        assert_ne!(structure("a = [1, 2]"), structure("a = [1, 3]"), "the comparison must see changes");
        for input in [SAMPLE, "a = [\n1,\n2 ]\nb = { x = 1 }\nc = f(\n  1,\n)\n", "x {\n}\n"] {
            assert_eq!(structure(&fmt(input)), structure(input), "{input}");
        }
    }

    #[test]
    fn odd_layouts_are_stable_and_keep_their_comments() {
        for input in [
            "a /* c */ = 1\nbb = 2\n",
            "x = f(/* c */ a)\ny = [ /* c */ ]\nz = { /* c */ }\nw = { # c\n a = 1 }\n",
            "x = (\n  a\n  + b # why\n  ? c\n  : d\n)\ny = (\n  foo\n  .bar /* c */ .baz[0]\n)\n",
            "x = {\n  a = 1, # c\n  bb = 2\n  # tail\n}\ny = [\n  1\n  ,2\n]\nz = [1, # one\n  2]\n",
            "x = [\n  for s in var.l :\n    upper(s)\n    if s != \"\"\n]\ny = {for k, v in m : k => v... if v}\n",
            "b {\n  # only comment\n}\nc { # c\n}\nd {\n\n\n  a = 1\n\n\n\n  c = 2\n\n\n}\n\n\n\ne = 3",
            "m = {\n  a: 1\n  bb: 2\n}\nx = a.b[*].c\ny = a.*.b\nz = a.0\nw = provider::ns::fn(1)\nv = f(xs...)\n",
        ] {
            let once = fmt(input);
            assert_eq!(fmt(&once), once, "{input}");
            assert_eq!(structure(&once), structure(input), "{input}");
            for marker in ["#", "//", "/*"] {
                assert_eq!(once.matches(marker).count(), input.matches(marker).count(), "{marker} in {once}");
            }
        }
    }

    #[test]
    fn handles_empty_files_line_endings_and_syntax_errors() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n\n  \n"), "");
        assert_eq!(fmt("\n\n# only a comment   \n\n\n"), "# only a comment\n");
        assert_eq!(fmt("a = 1\r\nb {\r\n}\r\n"), "a = 1\nb {}\n");
        assert!(format_source("host \"a\" {\n  zone = \n}\n").is_err());
    }
}

//! Spec syntax: HCL read with hcl-edit, which keeps every byte span, so each value can be
//! traced back to its file, line and column.

pub mod format;

pub use hcl_edit;

use berth_diag::{Diagnostic, FileId, Sources, Span, codes};
use hcl_edit::structure::Body;

/// Parses one file of `sources` into its HCL body, or the syntax error as a diagnostic.
pub fn parse(sources: &Sources, file: FileId) -> Result<Body, Box<Diagnostic>> {
    let source = sources.get(file);
    hcl_edit::parser::parse_body(source.text()).map_err(|err| {
        let loc = err.location();
        let offset = loc.offset().min(source.text().len());
        let message = err.message().lines().next().unwrap_or("invalid syntax").to_string();
        if message.contains("redefined attribute") {
            return Box::new(
                Diagnostic::error(&codes::SYNTAX_DUPLICATE_ATTRIBUTE, Span::new(file, offset, offset + 1), message)
                    .with_label("set again here")
                    .with_help(codes::SYNTAX_DUPLICATE_ATTRIBUTE.fix),
            );
        }
        Box::new(
            Diagnostic::error(&codes::SYNTAX_PARSE, Span::new(file, offset, offset + 1), message.clone())
                .with_label(expected_label(&message))
                .with_help("blocks are `type \"label\" { ... }`, attributes `name = value`, one per line"),
        )
    })
}

fn expected_label(message: &str) -> String {
    match message.split_once("expected ") {
        Some((_, rest)) => format!("expected {rest}"),
        None => "here".to_string(),
    }
}

/// The span of an hcl-edit node in `file`, or an empty span at the start if the node has none.
pub fn span_of(file: FileId, node: &impl hcl_edit::Span) -> Span {
    node.span().map_or(Span::new(file, 0, 0), |r| Span::from_range(file, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_points_at_the_offending_line() {
        let mut sources = Sources::new();
        let file = sources.add("bad.hcl", "host \"a\" {\n  zone = \n}\n");
        let err = parse(&sources, file).unwrap_err();
        assert_eq!(err.code.name, "syntax::parse");
        let (_, at) = sources.locate(err.span.unwrap());
        assert!(at.line >= 2, "{at:?}");
    }
}

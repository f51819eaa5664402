//! A YAML writer for the JSON values this target builds: block style, 2-space indentation,
//! keys in the value's order, multi-line strings as literal blocks.
//!
//! Strings are written plain only where YAML 1.1 readers (PyYAML, cloud-init, docker-compose
//! 1.x) and YAML 1.2 readers (Compose v2) both read them back as that string; everything else
//! is double-quoted. YAML serializers that follow YAML 1.2 only (serde_yaml, serde_norway)
//! write `on`, `no` or `22:22` bare, which YAML 1.1 reads as true, false and 1342.

use serde_json::{Map, Value};
use std::fmt::Write as _;

/// The value as a YAML document.
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = String::new();
    node(&mut out, value, 0);
    out
}

/// Writes a value whose block lines start at `indent`; a scalar is written on its own line.
fn node(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => mapping(out, map, indent),
        Value::Array(items) if !items.is_empty() => sequence(out, items, indent),
        _ => {
            pad(out, indent);
            after_indicator(out, value, indent);
        }
    }
}

fn mapping(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        entry(out, key, value, indent);
    }
}

/// Writes `key: value` as one entry of a block mapping whose keys start at `indent`.
pub(crate) fn entry(out: &mut String, key: &str, value: &Value, indent: usize) {
    self::key(out, key, indent);
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            mapping(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            sequence(out, a, indent + 2);
        }
        _ => {
            out.push(' ');
            after_indicator(out, value, indent + 2);
        }
    }
}

/// Writes `key:` at `indent`, without what follows the colon.
pub(crate) fn key(out: &mut String, key: &str, indent: usize) {
    pad(out, indent);
    scalar(out, key);
    out.push(':');
}

/// Writes `key: string` with its line end, the string as [`str_after_indicator`] does.
pub(crate) fn str_entry(out: &mut String, key: &str, s: &str, indent: usize) {
    self::key(out, key, indent);
    out.push(' ');
    str_after_indicator(out, s, indent + 2);
}

/// Writes `- string` at `indent` with its line end.
pub(crate) fn str_item(out: &mut String, s: &str, indent: usize) {
    pad(out, indent);
    out.push_str("- ");
    str_after_indicator(out, s, indent + 2);
}

/// Writes a string after `key: ` or `- `, with its line end: a literal block indented to
/// `indent` if it has several lines and can be one, else a plain or double-quoted scalar.
pub(crate) fn str_after_indicator(out: &mut String, s: &str, indent: usize) {
    if literal_ok(s) {
        literal(out, s, indent);
    } else {
        scalar(out, s);
    }
    out.push('\n');
}

fn sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => compact(out, item, indent + 2),
            Value::Array(a) if !a.is_empty() => compact(out, item, indent + 2),
            _ => after_indicator(out, item, indent + 2),
        }
    }
}

/// A collection in a sequence entry: its first line continues the `- ` line.
fn compact(out: &mut String, value: &Value, indent: usize) {
    let start = out.len();
    node(out, value, indent);
    out.replace_range(start..start + indent, "");
}

/// A scalar or empty collection after `key: ` or `- `, with its line end; multi-line strings
/// become literal blocks indented to `indent`.
fn after_indicator(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::String(s) => return str_after_indicator(out, s, indent),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
    }
    out.push('\n');
}

/// True if a string can be a literal block: several lines, no characters that need escapes,
/// and a first line that does not start with white space (its indentation is detected).
fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && s.chars().all(|c| c == '\n' || c == '\t' || !needs_escape(c))
}

/// A literal block scalar (`|`), chomped to keep exactly the string's trailing newlines.
fn literal(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// Writes a string as a plain scalar where that is unambiguous, else double-quoted.
fn scalar(out: &mut String, s: &str) {
    if plain_ok(s) { out.push_str(s) } else { quoted(out, s) }
}

/// Words that YAML 1.1 reads as booleans or null.
const RESERVED: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];

/// True if every YAML 1.1 and 1.2 reader takes `s`, written plain, as this string: it starts
/// with a letter, `_`, `/` or one or two `-` before a letter (no number, date, sexagesimal or
/// indicator can), uses only letters, digits and `_./:@=+,-`, does not end with `:`, and is
/// not a boolean or null word.
fn plain_ok(s: &str) -> bool {
    let dashes = s.len() - s.trim_start_matches('-').len();
    let start = s[dashes..].chars().next();
    let start_ok = match dashes {
        0 => start.is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/'),
        1 | 2 => start.is_some_and(|c| c.is_ascii_alphabetic()),
        _ => false,
    };
    start_ok
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./:@=+,-".contains(c))
        && !s.ends_with(':')
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

/// Characters a double-quoted scalar must escape: controls, and the ones YAML 1.1 takes as line
/// breaks or byte-order marks.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

fn quoted(q: &mut String, s: &str) {
    q.reserve(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(q, "\\u{:04x}", u32::from(c));
            }
            c => q.push(c),
        }
    }
    q.push('"');
}

fn pad(out: &mut String, indent: usize) {
    const SPACES: &str = "                                ";
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        left -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::to_string;
    use serde_json::json;

    #[test]
    fn collections_are_indented_by_two() {
        let v = json!({
            "a": { "b": [1, "x", { "c": true, "d": null }, ["p", "q"]], "e": {}, "f": [] },
            "g": 0.5,
        });
        assert_eq!(
            to_string(&v),
            "a:\n  b:\n    - 1\n    - x\n    - c: true\n      d: null\n    - - p\n      - q\n  e: {}\n  f: []\ng: 0.5\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "on",
            "No",
            "TRUE",
            "y",
            "null",
            "",
            "22:22",
            "8080:80",
            "2g",
            "0644",
            "1.5",
            "-1",
            "---",
            "-",
            "a: b",
            "a #b",
            "a:",
            "*x",
            "!x",
            "~",
            "x y",
            "é",
            "\"",
            "2001-12-14",
            "=",
            "<<",
        ] {
            let out = to_string(&json!({ "k": s }));
            assert!(out.starts_with("k: \""), "{s:?} -> {out}");
        }
        for s in [
            "unless-stopped",
            "nginx:1.27",
            "/mnt/data0",
            "--system",
            "-d",
            "defaults,nofail",
            "http://localhost/",
            "max-size",
            "CMD-SHELL",
            "a=b",
        ] {
            assert_eq!(to_string(&json!({ "k": s })), format!("k: {s}\n"));
        }
    }

    #[test]
    fn quoted_strings_escape_what_yaml_needs() {
        assert_eq!(
            to_string(&json!(["a\"b\\c", "tab\there", "nel\u{85}", "\u{2028}"])),
            "- \"a\\\"b\\\\c\"\n- \"tab\\there\"\n- \"nel\\u0085\"\n- \"\\u2028\"\n"
        );
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_that_keep_their_newlines() {
        let v = json!({ "one": "a\n  b\n", "none": "a\nb", "two": "a\n\nb\n\n", "lead": " a\nb\n" });
        assert_eq!(
            to_string(&v),
            "one: |\n  a\n    b\nnone: |-\n  a\n  b\ntwo: |+\n  a\n\n  b\n\nlead: \" a\\nb\\n\"\n"
        );
        assert_eq!(to_string(&json!([{ "content": "x\n" }])), "- content: |\n    x\n");
    }
}

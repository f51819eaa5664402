//! The YAML writer of the emitters, for the `serde_json` values they build: block style,
//! 2-space indentation, keys in the value's order, multi-line strings as literal blocks.
//!
//! berth writes YAML itself rather than through a serde serializer because the readers of its
//! files are YAML 1.1 readers (PyYAML, cloud-init, docker-compose 1.x, Helm's and kubectl's
//! go-yaml) as well as YAML 1.2 ones (Compose v2). Serializers that follow YAML 1.2 only
//! (`serde_yaml`, its maintained fork `serde_norway`) write `on`, `no` or `22:22` bare, which
//! YAML 1.1 reads as true, false and 1342. Here a string is plain only where every reader takes
//! it back as that string; numbers are written so that YAML 1.1 reads them as numbers
//! (`1.0e+20`, not `1e20`); and the characters YAML 1.1 takes as line breaks or byte-order
//! marks (U+0085, U+2028, U+2029, U+FEFF) are escaped in double quotes like control characters,
//! never left in a plain, single-quoted or literal-block scalar where a reader would change
//! them.
//!
//! A [`Style`] says how sequences are indented and how strings are quoted; each emitter keeps
//! one, e.g. [`Style::COMPOSE`] or [`Style::KUBECTL`].

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

/// How a YAML text is laid out and its strings quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// Whether a block sequence that is the value of a key is indented two columns under the
    /// key (`key:\n  - a`) or starts at the key's column (`key:\n- a`, as `kubectl` writes).
    pub indent_sequences: bool,
    /// How strings that cannot be plain are written.
    pub quoting: Quoting,
}

/// Which strings are plain and how the others are quoted. Either way a string with a control
/// character or one of U+0085, U+2028, U+2029, U+FEFF is double-quoted with that character
/// escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quoting {
    /// Plain only when the string starts with a letter, `_`, `/` or one or two `-` before a
    /// letter (no number, date, sexagesimal or indicator can), uses only letters, digits and
    /// `_./:@=+,-`, does not end with `:` and is not a boolean or null word; otherwise
    /// double-quoted.
    Double,
    /// Plain when the string starts with a letter, digit, `/`, `.` or `_` (never `-`), uses
    /// only letters, digits, spaces and `_./:@+=,-`, and no YAML 1.1 reader resolves it to a
    /// boolean, null or number (so `500m` and `a b` are plain, `-c` is not); otherwise
    /// single-quoted, so that Helm template actions (`'{{ .Files.Get "f" }}'`) keep their text
    /// as written.
    Single,
}

impl Style {
    /// Compose files and cloud-init user data: sequences indented under their key, strings
    /// double-quoted.
    pub const COMPOSE: Style = Style { indent_sequences: true, quoting: Quoting::Double };
    /// Kubernetes manifests and Helm charts, as `kubectl get -o yaml` writes them: sequences
    /// at their key's column, strings single-quoted.
    pub const KUBECTL: Style = Style { indent_sequences: false, quoting: Quoting::Single };

    /// The value as a YAML document, ending in a newline.
    pub fn document(self, value: &Value) -> String {
        let mut out = String::new();
        self.node(&mut out, value, 0);
        out
    }

    /// The value as a YAML document with the keys of every object sorted.
    pub fn sorted_document(self, mut value: Value) -> String {
        value.sort_all_objects();
        self.document(&value)
    }

    /// The values as one multi-document YAML text, `---` between documents.
    pub fn documents(self, values: &[Value]) -> String {
        let mut out = String::new();
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            self.node(&mut out, value, 0);
        }
        out
    }

    /// Writes `key: value` as one entry of a block mapping whose keys start at `indent`.
    pub fn entry(self, out: &mut String, key: &str, value: &Value, indent: usize) {
        self.key(out, key, indent);
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                self.mapping(out, m, indent + 2);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                self.sequence(out, a, if self.indent_sequences { indent + 2 } else { indent });
            }
            _ => {
                out.push(' ');
                self.after_indicator(out, value, indent + 2);
            }
        }
    }

    /// Writes `key:` at `indent`, without what follows the colon.
    pub fn key(self, out: &mut String, key: &str, indent: usize) {
        pad(out, indent);
        self.scalar(out, key);
        out.push(':');
    }

    /// Writes `key: string` with its line end, the string as [`Style::str_after_indicator`]
    /// does.
    pub fn str_entry(self, out: &mut String, key: &str, s: &str, indent: usize) {
        self.key(out, key, indent);
        out.push(' ');
        self.str_after_indicator(out, s, indent + 2);
    }

    /// Writes `- string` at `indent` with its line end.
    pub fn str_item(self, out: &mut String, s: &str, indent: usize) {
        pad(out, indent);
        out.push_str("- ");
        self.str_after_indicator(out, s, indent + 2);
    }

    /// Writes a string after `key: ` or `- `, with its line end: a literal block indented to
    /// `indent` if it has several lines and can be one, else a plain or quoted scalar.
    pub fn str_after_indicator(self, out: &mut String, s: &str, indent: usize) {
        if literal_ok(s) {
            literal(out, s, indent);
        } else {
            self.scalar(out, s);
        }
        out.push('\n');
    }

    /// Writes a value whose block lines start at `indent`; a scalar is written on its own line.
    fn node(self, out: &mut String, value: &Value, indent: usize) {
        match value {
            Value::Object(m) if !m.is_empty() => self.mapping(out, m, indent),
            Value::Array(a) if !a.is_empty() => self.sequence(out, a, indent),
            _ => {
                pad(out, indent);
                self.after_indicator(out, value, indent);
            }
        }
    }

    fn mapping(self, out: &mut String, map: &Map<String, Value>, indent: usize) {
        for (key, value) in map {
            self.entry(out, key, value, indent);
        }
    }

    /// Writes a block sequence whose `- ` start at `indent`.
    fn sequence(self, out: &mut String, items: &[Value], indent: usize) {
        for item in items {
            pad(out, indent);
            out.push_str("- ");
            match item {
                Value::Object(m) if !m.is_empty() => self.compact(out, item, indent + 2),
                Value::Array(a) if !a.is_empty() => self.compact(out, item, indent + 2),
                _ => self.after_indicator(out, item, indent + 2),
            }
        }
    }

    /// A collection in a sequence entry: its first line continues the `- ` line.
    fn compact(self, out: &mut String, value: &Value, indent: usize) {
        let start = out.len();
        self.node(out, value, indent);
        out.replace_range(start..start + indent, "");
    }

    /// A scalar or empty collection after `key: ` or `- `, with its line end; multi-line
    /// strings become literal blocks indented to `indent`.
    fn after_indicator(self, out: &mut String, value: &Value, indent: usize) {
        match value {
            Value::String(s) => return self.str_after_indicator(out, s, indent),
            Value::Object(_) => out.push_str("{}"),
            Value::Array(_) => out.push_str("[]"),
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => number(out, n),
        }
        out.push('\n');
    }

    /// Writes a string on one line: plain where that is unambiguous, else quoted.
    fn scalar(self, out: &mut String, s: &str) {
        match self.quoting {
            Quoting::Double if double_plain_ok(s) => out.push_str(s),
            Quoting::Single if single_plain_ok(s) => out.push_str(s),
            Quoting::Single if !s.chars().any(needs_escape) => {
                out.push('\'');
                out.push_str(&s.replace('\'', "''"));
                out.push('\'');
            }
            _ => double_quoted(out, s),
        }
    }
}

/// Writes a number as YAML 1.1 reads it: a float's exponent needs a `.` and a sign
/// (`1.0e+20`; YAML 1.1 reads `1e20` as a string).
fn number(out: &mut String, n: &Number) {
    let s = n.to_string();
    let Some((mantissa, exp)) = s.split_once('e') else {
        out.push_str(&s);
        return;
    };
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push('e');
    if !exp.starts_with(['+', '-']) {
        out.push('+');
    }
    out.push_str(exp);
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

/// Words that YAML 1.1 reads as booleans or null.
const RESERVED: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];

/// True for a word of [`RESERVED`], in any case.
fn reserved(s: &str) -> bool {
    s.len() <= 5 && RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

/// The plain strings of [`Quoting::Double`].
fn double_plain_ok(s: &str) -> bool {
    let dashes = s.len() - s.trim_start_matches('-').len();
    let start = s[dashes..].chars().next();
    let start_ok = match dashes {
        0 => start.is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/'),
        1 | 2 => start.is_some_and(|c| c.is_ascii_alphabetic()),
        _ => false,
    };
    start_ok
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b':' | b'@' | b'=' | b'+' | b',' | b'-')
        })
        && !s.ends_with(':')
        && !reserved(s)
}

/// The plain strings of [`Quoting::Single`]: safe characters only (letters, digits, spaces
/// and `_./:@+=,-`, starting with a letter, digit, `/`, `.` or `_`), no `: ` or ` #`, no
/// trailing space or `:`, and nothing a YAML 1.1 reader resolves to a boolean, null or number.
fn single_plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let safe = |b: u8| {
        b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'.' | b'/' | b':' | b'@' | b'+' | b'=' | b',' | b'-')
    };
    if !(first.is_ascii_alphanumeric() || "/._".contains(first)) || !s.bytes().all(safe) {
        return false;
    }
    if s.ends_with([' ', ':']) || s.contains(": ") || s.contains(" #") {
        return false;
    }
    if reserved(s) || [".inf", ".nan"].iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return false;
    }
    // Integers, floats, hex, octal, binary and sexagesimal numbers of YAML 1.1 all start with
    // a digit, sign or dot and use no other letters than these.
    let numeric = |c: char| c.is_ascii_hexdigit() || "xXoO_.:+-".contains(c);
    !("0123456789+-.".contains(first) && s.chars().all(numeric))
}

/// Characters a double-quoted scalar must escape: controls (U+0085 among them), and the ones
/// YAML 1.1 takes as line breaks or byte-order marks.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

fn double_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
    use super::Style;
    use serde_json::json;

    fn compose(value: &serde_json::Value) -> String {
        Style::COMPOSE.document(value)
    }

    fn kubectl(value: &serde_json::Value) -> String {
        Style::KUBECTL.document(value)
    }

    #[test]
    fn collections_are_indented_by_two() {
        let v = json!({
            "a": { "b": [1, "x", { "c": true, "d": null }, ["p", "q"]], "e": {}, "f": [] },
            "g": 0.5,
        });
        assert_eq!(
            compose(&v),
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
            let out = compose(&json!({ "k": s }));
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
            assert_eq!(compose(&json!({ "k": s })), format!("k: {s}\n"));
        }
    }

    #[test]
    fn quoted_strings_escape_what_yaml_needs() {
        assert_eq!(
            compose(&json!(["a\"b\\c", "tab\there", "nel\u{85}", "\u{2028}"])),
            "- \"a\\\"b\\\\c\"\n- \"tab\\there\"\n- \"nel\\u0085\"\n- \"\\u2028\"\n"
        );
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_that_keep_their_newlines() {
        let v = json!({ "one": "a\n  b\n", "none": "a\nb", "two": "a\n\nb\n\n", "lead": " a\nb\n" });
        assert_eq!(compose(&v), "one: |\n  a\n    b\nnone: |-\n  a\n  b\ntwo: |+\n  a\n\n  b\n\nlead: \" a\\nb\\n\"\n");
        assert_eq!(compose(&json!([{ "content": "x\n" }])), "- content: |\n    x\n");
    }

    #[test]
    fn ambiguous_strings_are_quoted_and_helm_expressions_stay_valid_yaml() {
        let text = kubectl(&json!({
            "a": "on", "b": "1.0", "c": "{{ .Files.Get \"files/x\" | b64enc }}", "d": "null", "e": "x\ny\n",
            "f": "500m", "g": "1:20", "h": "it's", "i": "/etc/tls", "j": "0x1F", "k": "a: b", "l": "\u{1}",
            "m": "busybox:1.36", "n": "", "o": 1e20, "p": "No",
        }));
        let expected = "a: 'on'\nb: '1.0'\nc: '{{ .Files.Get \"files/x\" | b64enc }}'\nd: 'null'\ne: |\n  x\n  y\n\
                        f: 500m\ng: '1:20'\nh: 'it''s'\ni: /etc/tls\nj: '0x1F'\nk: 'a: b'\nl: \"\\u0001\"\n\
                        m: busybox:1.36\n'n': ''\no: 1.0e+20\np: 'No'\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn nesting_follows_kubectl() {
        let v = json!({"spec": {"containers": [{"name": "app", "args": ["a", "b"], "env": []}], "empty": {}},
                       "script": ["sh", "-c", "one\n\ntwo"]});
        let expected = "spec:\n  containers:\n  - name: app\n    args:\n    - a\n    - b\n    env: []\n  empty: {}\n\
                        script:\n- sh\n- '-c'\n- |-\n  one\n\n  two\n";
        assert_eq!(kubectl(&v), expected);
    }

    #[test]
    fn documents_are_separated() {
        assert_eq!(Style::KUBECTL.documents(&[json!({"a": 1}), json!({"b": 2})]), "a: 1\n---\nb: 2\n");
    }

    #[test]
    fn yaml_1_1_booleans_null_and_numbers_are_quoted_in_both_styles() {
        for s in ["on", "On", "off", "no", "NO", "yes", "y", "n", "true", "False", "null", "22:22", "1:20:30", "0644"] {
            assert_eq!(compose(&json!([s])), format!("- \"{s}\"\n"));
            assert_eq!(kubectl(&json!([s])), format!("- '{s}'\n"));
        }
        for s in ["1.5", "-1", "+1", ".5", "1e3", "0x1F", "0b101", "1_000", ".inf", ".NaN"] {
            assert_eq!(compose(&json!([s])), format!("- \"{s}\"\n"), "{s}");
            assert_eq!(kubectl(&json!([s])), format!("- '{s}'\n"), "{s}");
        }
    }

    #[test]
    fn yaml_1_1_line_breaks_and_byte_order_marks_are_escaped_in_both_styles() {
        for (c, escaped) in
            [('\u{85}', "\\u0085"), ('\u{2028}', "\\u2028"), ('\u{2029}', "\\u2029"), ('\u{feff}', "\\ufeff")]
        {
            // On one line: never plain or single-quoted.
            let one = format!("a{c}b");
            assert_eq!(compose(&json!({ "k": one })), format!("k: \"a{escaped}b\"\n"));
            assert_eq!(kubectl(&json!({ "k": one })), format!("k: \"a{escaped}b\"\n"));
            // On several lines: never a literal block.
            let multi = format!("a{c}\nb\n");
            assert_eq!(compose(&json!({ "k": multi })), format!("k: \"a{escaped}\\nb\\n\"\n"));
            assert_eq!(kubectl(&json!({ "k": multi })), format!("k: \"a{escaped}\\nb\\n\"\n"));
            // As a key.
            assert_eq!(kubectl(&json!({ one.clone(): 1 })), format!("\"a{escaped}b\": 1\n"));
        }
    }

    #[test]
    fn float_exponents_have_a_dot_and_a_sign_in_both_styles() {
        let v = json!([1e20, 1.5e300, 1e-7, 2.5e-10, 0.5, 7, -3]);
        let expected = "- 1.0e+20\n- 1.5e+300\n- 1.0e-7\n- 2.5e-10\n- 0.5\n- 7\n- -3\n";
        assert_eq!(compose(&v), expected);
        assert_eq!(kubectl(&v), expected);
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_in_both_styles() {
        let v = json!({ "s": { "script": "set -e\n\necho 'hi'\n", "tab": "\tx\ny" }, "l": ["a\nb"] });
        assert_eq!(
            compose(&v),
            "s:\n  script: |\n    set -e\n\n    echo 'hi'\n  tab: \"\\tx\\ny\"\nl:\n  - |-\n    a\n    b\n"
        );
        assert_eq!(
            kubectl(&v),
            "s:\n  script: |\n    set -e\n\n    echo 'hi'\n  tab: \"\\tx\\ny\"\nl:\n- |-\n  a\n  b\n"
        );
    }

    #[test]
    fn sorted_documents_sort_every_object() {
        let v = json!({ "b": [{ "z": 1, "a": 2 }], "a": { "d": 1, "c": 2 } });
        assert_eq!(Style::COMPOSE.sorted_document(v), "a:\n  c: 2\n  d: 1\nb:\n  - a: 2\n    z: 1\n");
    }

    #[test]
    fn output_is_deterministic() {
        let v = json!({ "k": ["on", "x y", 1e20, { "m": "a\nb\n", "n": "\u{2028}" }], "e": {} });
        for style in [Style::COMPOSE, Style::KUBECTL] {
            let first = style.document(&v);
            for _ in 0..3 {
                assert_eq!(style.document(&v.clone()), first);
                assert_eq!(style.documents(&[v.clone(), v.clone()]), format!("{first}---\n{first}"));
            }
        }
    }
}

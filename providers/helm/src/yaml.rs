//! YAML text of Kubernetes objects.
//!
//! Objects are built as `serde_json` values (insertion-ordered, so `apiVersion`, `kind`,
//! `metadata`, `spec` come first as people expect) and written here, in the block style of
//! `kubectl get -o yaml`. berth writes YAML itself rather than through a serde serializer
//! because the readers of these files are YAML 1.1 readers (Helm's and kubectl's go-yaml,
//! PyYAML): `serde_norway`, the maintained fork of `serde_yaml`, writes YAML 1.2 and leaves
//! `on`, `yes` or `n` unquoted, which those readers take for booleans. Here a string is plain
//! only when it is made of safe characters and no YAML 1.1 reader could take it for anything
//! but a string; otherwise it is single-quoted (so Helm expressions stay valid YAML),
//! multi-line strings are literal blocks, and strings with control characters are
//! double-quoted with JSON escapes.

use serde_json::{Map, Value};

/// The objects as one multi-document YAML text, `---` between documents.
pub(crate) fn documents(objects: &[Value]) -> String {
    let mut out = String::new();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_string(o));
    }
    out
}

/// One value as a YAML document, ending in a newline.
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => seq(&mut out, a, 0),
        Value::String(s) if s.contains('\n') && block_ok(s) => block(&mut out, s, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn map(out: &mut String, m: &Map<String, Value>, indent: usize) {
    for (k, v) in m {
        pad(out, indent);
        out.push_str(&string(k));
        out.push(':');
        value_after(out, v, indent);
    }
}

fn seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        // A nested collection is written two columns in, then its first indent becomes "- ".
        let mut nested = String::new();
        match item {
            Value::Object(m) if !m.is_empty() => map(&mut nested, m, indent + 2),
            Value::Array(a) if !a.is_empty() => seq(&mut nested, a, indent + 2),
            _ => {
                pad(out, indent);
                out.push('-');
                value_after(out, item, indent);
                continue;
            }
        }
        pad(out, indent);
        out.push_str("- ");
        out.push_str(&nested[indent + 2..]);
    }
}

/// A value after `key:` or `-` at `indent`.
fn value_after(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            map(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            seq(out, a, indent);
        }
        Value::String(s) if s.contains('\n') && block_ok(s) => {
            out.push(' ');
            block(out, s, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// Whether a multi-line string can be a literal block: printable, no carriage returns, and a
/// first line that does not start with a space (which would need an indentation indicator).
fn block_ok(s: &str) -> bool {
    !s.starts_with([' ', '\n']) && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
}

/// A literal block scalar with its chomping indicator, lines at `indent`.
fn block(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in s[..body.len() + trailing.saturating_sub(1)].split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) => string(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Numbers as YAML 1.1 reads them: a float's exponent needs a `.` and a sign (`1.0e+20`).
fn number(n: &serde_json::Number) -> String {
    let s = n.to_string();
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let mantissa = if mantissa.contains('.') { mantissa.to_string() } else { format!("{mantissa}.0") };
            let exp = if exp.starts_with(['+', '-']) { exp.to_string() } else { format!("+{exp}") };
            format!("{mantissa}e{exp}")
        }
        None => s,
    }
}

/// A string: plain when unambiguous, else single-quoted, else double-quoted.
fn string(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else if s.chars().all(|c| !c.is_control()) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// Whether a string may be written plain: safe characters only, and nothing a YAML 1.1 reader
/// resolves to a bool, null or number.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let safe = |c: char| c.is_ascii_alphanumeric() || " _./:@+=,-".contains(c);
    if !(first.is_ascii_alphanumeric() || "/._".contains(first)) || !s.chars().all(safe) {
        return false;
    }
    if s.ends_with([' ', ':']) || s.contains(": ") || s.contains(" #") {
        return false;
    }
    const WORDS: &[&str] = &["y", "yes", "n", "no", "true", "false", "on", "off", "null", ".inf", ".nan"];
    if WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return false;
    }
    // Integers, floats, hex, octal, binary and sexagesimal numbers of YAML 1.1 all start with
    // a digit, sign or dot and use no other letters than these.
    let numeric = |c: char| c.is_ascii_hexdigit() || "xXoO_.:+-".contains(c);
    !("0123456789+-.".contains(first) && s.chars().all(numeric))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted_and_helm_expressions_stay_valid_yaml() {
        let text = to_string(&json!({
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
        assert_eq!(to_string(&v), expected);
    }

    #[test]
    fn documents_are_separated() {
        assert_eq!(documents(&[json!({"a": 1}), json!({"b": 2})]), "a: 1\n---\nb: 2\n");
    }
}

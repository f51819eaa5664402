//! The built-in functions of the spec language: the ones a Terraform user expects.
//!
//! Every function is one row of `FUNCTIONS`: its name, its parameters and its body. Results
//! and messages follow Terraform's (`Invalid value for "newbits" parameter: ...`), with two
//! berth extras, `parse_size` and `parse_duration`. References to objects pass through the
//! collection functions; one to an attribute known only after apply cannot be computed with.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use berth_model::{ArcStr, Object, Reference, Value, format_number};
use ipnet::IpNet;
use regex::Regex;
use sha2::{Digest as _, Sha256};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::iter::Peekable;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::CharIndices;
use std::sync::OnceLock;

/// Why a function call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnError {
    /// What is wrong, e.g. `Invalid value for "newbits" parameter: insufficient address space
    /// to extend prefix of 24 by 10.`
    pub message: String,
    /// The zero-based argument at fault, when one is.
    pub arg: Option<usize>,
}

/// Every function name, sorted (for "did you mean" hints and docs).
pub fn names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| FUNCTIONS.iter().map(|f| f.0).collect())
}

/// Calls the built-in function `name` with evaluated arguments.
pub fn call(name: &str, args: &[Value]) -> Result<Value, FnError> {
    let Ok(i) = FUNCTIONS.binary_search_by(|f| f.0.cmp(name)) else {
        return Err(fail(format!("there is no function named {name:?}")));
    };
    let (_, sig, body) = FUNCTIONS[i];
    arity(sig, args.len())?;
    body(&Args { sig, vals: args })
}

type Out = Result<Value, FnError>;

/// A function's body.
type Body = fn(&Args<'_>) -> Out;

/// The most elements `range` and `setproduct` build.
const MAX_ELEMENTS: usize = 10_000_000;

/// Each function: name, parameters (`x?` optional, `xs*` zero or more, `xs+` one or more), body.
/// Sorted by name.
const FUNCTIONS: &[(&str, &str, Body)] = &[
    ("abs", "num", |a| num(a.num(0)?.abs())),
    ("alltrue", "list", |a| Ok(Value::Bool(a.items(0, "bool", boolean)?.into_iter().all(|b| b)))),
    ("anytrue", "list", |a| Ok(Value::Bool(a.items(0, "bool", boolean)?.into_iter().any(|b| b)))),
    ("base64decode", "str", base64decode),
    ("base64encode", "str", |a| string(BASE64.encode(a.str(0)?.as_bytes()))),
    ("ceil", "num", |a| num(a.num(0)?.ceil())),
    ("chomp", "str", |a| string(a.str(0)?.trim_end_matches(['\r', '\n']))),
    ("chunklist", "list size", chunklist),
    ("cidrhost", "prefix hostnum", cidrhost),
    ("cidrnetmask", "prefix", cidrnetmask),
    ("cidrsubnet", "prefix newbits netnum", cidrsubnet),
    ("cidrsubnets", "prefix newbits*", cidrsubnets),
    ("coalesce", "vals+", |a| {
        let found = a.vals.iter().find(|v| !v.is_null() && v.as_str() != Some(""));
        found.cloned().ok_or_else(|| fail("no non-null, non-empty-string arguments"))
    }),
    ("coalescelist", "vals+", coalescelist),
    ("compact", "list", compact),
    ("concat", "seqs+", |a| {
        let lists = (0..a.vals.len()).map(|i| a.list(i)).collect::<Result<Vec<_>, _>>()?;
        Ok(Value::list(lists.concat()))
    }),
    ("contains", "list value", |a| Ok(Value::Bool(a.list(0)?.contains(&a.vals[1])))),
    ("distinct", "list", |a| {
        let mut out: Vec<Value> = Vec::new();
        for v in a.list(0)? {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        Ok(Value::list(out))
    }),
    ("element", "list index", element),
    ("endswith", "str suffix", |a| Ok(Value::Bool(a.str(0)?.ends_with(&*a.str(1)?)))),
    ("flatten", "list", |a| Ok(Value::list(flatten(a.list(0)?)))),
    ("floor", "num", |a| num(a.num(0)?.floor())),
    ("format", "format args*", |a| string(render(a, &a.str(0)?, &a.vals[1..])?)),
    ("formatlist", "format args*", formatlist),
    ("indent", "spaces str", |a| {
        let spaces = usize::try_from(a.int(0)?).ok().filter(|n| *n <= 1000);
        let spaces = spaces.ok_or_else(|| a.err(0, "must be between 0 and 1000"))?;
        string(a.str(1)?.replace('\n', &format!("\n{}", " ".repeat(spaces))))
    }),
    ("index", "list value", |a| {
        let found = a.list(0)?.iter().position(|v| *v == a.vals[1]);
        found.map(count).ok_or_else(|| a.err(1, "item not found"))
    }),
    ("join", "separator lists+", |a| {
        let mut parts = Vec::new();
        for i in 1..a.vals.len() {
            parts.extend(a.items(i, "string", text)?);
        }
        string(parts.join(&*a.str(0)?))
    }),
    ("jsondecode", "str", |a| {
        let json = serde_json::from_str(&a.str(0)?).map_err(|e| a.err(0, e))?;
        Ok(Value::from_json(&json))
    }),
    ("jsonencode", "val", |a| string(json(&a.vals[0]).map_err(|r| a.err(0, unknown_msg(r)))?)),
    ("keys", "inputMap", |a| Ok(Value::list(a.obj(0)?.keys().map(|k| Value::String(k.clone())).collect()))),
    ("length", "value", |a| match &a.vals[0] {
        Value::String(s) => Ok(count(s.chars().count())),
        Value::List(l) => Ok(count(l.len())),
        Value::Object(o) => Ok(count(o.len())),
        _ => Err(a.bad(0, "string, list or map")),
    }),
    ("log", "num base", |a| num(a.num(0)?.log(a.num(1)?))),
    ("lookup", "inputMap key default?", |a| {
        let key = a.str(1)?;
        match (a.obj(0)?.get(&key), a.vals.get(2)) {
            (Some(v), _) | (None, Some(v)) => Ok(v.clone()),
            (None, None) => Err(a.err(1, format!("the map has no key {key:?} and no default was given"))),
        }
    }),
    ("lower", "str", |a| string(a.str(0)?.to_lowercase())),
    ("max", "numbers+", |a| fold(a, f64::max)),
    ("merge", "maps*", |a| {
        let mut out = BTreeMap::new();
        for i in (0..a.vals.len()).filter(|i| !a.vals[*i].is_null()) {
            out.extend(a.obj(i)?.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(Value::object(out.into()))
    }),
    ("min", "numbers+", |a| fold(a, f64::min)),
    ("one", "list", |a| match a.list(0)? {
        [] => Ok(Value::Null),
        [v] => Ok(v.clone()),
        _ => Err(a.err(0, "must be a list, set, or tuple value with either zero or one elements")),
    }),
    ("parse_duration", "duration", parse_duration),
    ("parse_size", "size", parse_size),
    ("parseint", "number base", parseint),
    ("pow", "num power", |a| num(a.num(0)?.powf(a.num(1)?))),
    ("range", "params params? params?", range),
    ("regex", "pattern string", |a| regex(a, false)),
    ("regexall", "pattern string", |a| regex(a, true)),
    ("replace", "str substr replace", |a| {
        let (s, find, with) = (a.str(0)?, a.str(1)?, a.str(2)?);
        match find.strip_prefix('/').and_then(|f| f.strip_suffix('/')) {
            Some(re) => string(pattern(a, 1, re)?.replace_all(&s, &*with)),
            None => string(s.replace(&*find, &with)),
        }
    }),
    ("reverse", "list", |a| Ok(Value::list(a.list(0)?.iter().rev().cloned().collect()))),
    ("setintersection", "first_set other_sets*", |a| sets(a, |acc, other| acc.retain(|v| other.contains(v)))),
    ("setproduct", "sets sets+", setproduct),
    ("setsubtract", "a b", |a| sets(a, |acc, other| acc.retain(|v| !other.contains(v)))),
    ("setunion", "first_set other_sets*", |a| sets(a, |acc, other| acc.extend_from_slice(other))),
    ("sha256", "str", |a| string(format!("{:x}", Sha256::digest(a.str(0)?.as_bytes())))),
    ("signum", "num", |a| {
        let n = a.num(0)?;
        num(if n == 0.0 { 0.0 } else { n.signum() })
    }),
    ("slice", "list start_index end_index", slice),
    ("sort", "list", |a| {
        let mut items = a.items(0, "string", text)?;
        items.sort();
        Ok(Value::list(items.into_iter().map(Value::string).collect()))
    }),
    ("split", "separator str", |a| {
        let (sep, s) = (a.str(0)?, a.str(1)?);
        Ok(Value::list(if sep.is_empty() {
            s.chars().map(|c| Value::string(c.to_string())).collect()
        } else {
            s.split(&*sep).map(Value::string).collect()
        }))
    }),
    ("startswith", "str prefix", |a| Ok(Value::Bool(a.str(0)?.starts_with(&*a.str(1)?)))),
    ("strrev", "str", |a| string(a.str(0)?.chars().rev().collect::<String>())),
    ("substr", "str offset length", substr),
    ("sum", "list", |a| {
        let numbers = a.items(0, "number", number)?;
        if numbers.is_empty() {
            return Err(a.err(0, "cannot sum an empty list"));
        }
        num(numbers.iter().sum())
    }),
    ("title", "str", |a| string(title(&a.str(0)?))),
    ("tobool", "v", |a| nullable(a, || Ok(Value::Bool(a.bool(0)?)))),
    ("tolist", "v", |a| nullable(a, || Ok(Value::list(unify(a.list(0)?.to_vec()))))),
    ("tomap", "v", |a| {
        nullable(a, || {
            let map = a.obj(0)?;
            Ok(Value::object(map.keys().cloned().zip(unify(map.values().cloned().collect())).collect()))
        })
    }),
    ("tonumber", "v", |a| nullable(a, || num(a.num(0)?))),
    ("toset", "v", |a| nullable(a, || Ok(set(a.list(0)?.to_vec())))),
    ("tostring", "v", |a| nullable(a, || string(a.str(0)?))),
    ("transpose", "values", transpose),
    ("trim", "str cutset", |a| {
        let cutset = a.str(1)?;
        string(a.str(0)?.trim_matches(|c: char| cutset.contains(c)))
    }),
    ("trimprefix", "str prefix", |a| {
        let s = a.str(0)?;
        string(s.strip_prefix(&*a.str(1)?).unwrap_or(&s))
    }),
    ("trimspace", "str", |a| string(a.str(0)?.trim())),
    ("trimsuffix", "str suffix", |a| {
        let s = a.str(0)?;
        string(s.strip_suffix(&*a.str(1)?).unwrap_or(&s))
    }),
    ("upper", "str", |a| string(a.str(0)?.to_uppercase())),
    ("values", "mapping", |a| Ok(Value::list(a.obj(0)?.values().cloned().collect()))),
    ("zipmap", "keys values", |a| {
        let (keys, values) = (a.items(0, "string", text)?, a.list(1)?);
        if keys.len() != values.len() {
            let why = format!("number of keys ({}) does not match number of values ({})", keys.len(), values.len());
            return Err(a.err(1, why));
        }
        Ok(Value::object(keys.into_iter().map(Cow::into_owned).zip(values.iter().cloned()).collect()))
    }),
];

/// The arguments of one call, with the function's parameter list for messages.
struct Args<'a> {
    sig: &'static str,
    vals: &'a [Value],
}

impl<'a> Args<'a> {
    /// An error about argument `i`, in Terraform's words.
    fn err(&self, i: usize, why: impl Display) -> FnError {
        let name = self.sig.split(' ').take(i + 1).last().unwrap_or_default().trim_end_matches(['?', '*', '+']);
        FnError { message: format!("Invalid value for \"{name}\" parameter: {why}."), arg: Some(i) }
    }

    /// Argument `i` is not the `want` it should be.
    fn bad(&self, i: usize, want: &str) -> FnError {
        let v = &self.vals[i];
        self.err(i, if v.is_null() { "argument must not be null".into() } else { mismatch(v, want) })
    }

    fn str(&self, i: usize) -> Result<Cow<'a, str>, FnError> {
        text(&self.vals[i]).ok_or_else(|| self.bad(i, "string"))
    }

    fn num(&self, i: usize) -> Result<f64, FnError> {
        number(&self.vals[i]).ok_or_else(|| self.bad(i, "number"))
    }

    fn int(&self, i: usize) -> Result<i64, FnError> {
        let n = self.num(i)?;
        let why = || self.err(i, format!("must be a whole number, got {}", format_number(n)));
        Value::Number(n).as_integer().ok_or_else(why)
    }

    fn bool(&self, i: usize) -> Result<bool, FnError> {
        boolean(&self.vals[i]).ok_or_else(|| self.bad(i, "bool"))
    }

    fn list(&self, i: usize) -> Result<&'a [Value], FnError> {
        self.vals[i].as_list().ok_or_else(|| self.bad(i, "list"))
    }

    fn obj(&self, i: usize) -> Result<&'a Object, FnError> {
        self.vals[i].as_object().ok_or_else(|| self.bad(i, "map"))
    }

    /// The elements of list argument `i`, each converted to a `want`.
    fn items<T>(&self, i: usize, want: &str, convert: impl Fn(&'a Value) -> Option<T>) -> Result<Vec<T>, FnError> {
        let why = |k, v| self.err(i, format!("element {k}: {}", mismatch(v, want)));
        self.list(i)?.iter().enumerate().map(|(k, v)| convert(v).ok_or_else(|| why(k, v))).collect()
    }
}

/// Checks the argument count against a parameter list such as `inputMap key default?`.
fn arity(sig: &str, n: usize) -> Result<(), FnError> {
    let (count, min) =
        sig.split(' ').fold((0, 0), |(count, min), p| (count + 1, min + usize::from(!p.ends_with(['?', '*']))));
    let max = if sig.ends_with(['*', '+']) { usize::MAX } else { count };
    if (min..=max).contains(&n) {
        return Ok(());
    }
    let (expects, shown) = match max {
        usize::MAX => (format!("at least {min}"), min),
        _ if max == min => (min.to_string(), min),
        _ => (format!("{min} to {max}"), max),
    };
    let expects = format!("expects {expects} argument{}, got {n}", if shown == 1 { "" } else { "s" });
    if n < min {
        let missing = sig.split(' ').nth(n).unwrap_or_default().trim_end_matches(['?', '*', '+']);
        Err(FnError { message: format!("{expects}: missing \"{missing}\"."), arg: None })
    } else {
        Err(FnError { message: format!("{expects}."), arg: Some(max) })
    }
}

/// An error about the call as a whole.
fn fail(why: impl Display) -> FnError {
    FnError { message: format!("{why}."), arg: None }
}

/// Why `v` is not a `want`.
fn mismatch(v: &Value, want: &str) -> String {
    match v {
        Value::Null => "must not be null".into(),
        Value::Ref(r) if !r.attribute.is_empty() => unknown_msg(r),
        Value::String(_) if matches!(want, "number" | "bool") => format!("cannot convert {v} to {want}"),
        _ => format!("{want} required, got {}", v.type_name()),
    }
}

fn unknown_msg(r: &Reference) -> String {
    format!("{r} is not known until apply")
}

/// A type conversion: null stays null.
fn nullable(a: &Args<'_>, convert: impl FnOnce() -> Out) -> Out {
    if a.vals[0].is_null() { Ok(Value::Null) } else { convert() }
}

fn num(n: f64) -> Out {
    Ok(Value::Number(n))
}

fn count(n: usize) -> Value {
    Value::Number(n as f64)
}

fn string(s: impl Into<ArcStr>) -> Out {
    Ok(Value::string(s))
}

/// A string, number or bool as text, the conversions Terraform makes for a string parameter.
fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(format_number(*n))),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// A number, or a string that spells one.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::String(s) => s.parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}

/// A bool, or the string `"true"` or `"false"`.
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The first attribute reference in `v` that is known only after apply.
fn unknown(v: &Value) -> Option<&Reference> {
    match v {
        Value::Ref(r) if !r.attribute.is_empty() => Some(r),
        Value::List(l) => l.iter().find_map(unknown),
        Value::Object(o) => o.values().find_map(unknown),
        _ => None,
    }
}

/// Compact JSON with sorted keys, escaping `<`, `>` and `&` as Terraform does.
fn json(v: &Value) -> Result<String, &Reference> {
    if let Some(r) = unknown(v) {
        return Err(r);
    }
    let mut out = String::new();
    for c in v.to_json().to_string().chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Converts a mix of strings, numbers and bools to strings, as Terraform unifies element types.
fn unify(items: Vec<Value>) -> Vec<Value> {
    let kinds: BTreeSet<_> = items.iter().filter(|v| !v.is_null()).map(Value::type_name).collect();
    if kinds.len() < 2 || !kinds.iter().all(|k| matches!(*k, "bool" | "number" | "string")) {
        return items;
    }
    items.into_iter().map(|v| text(&v).map(Value::string).unwrap_or(v)).collect()
}

/// A set: unified, sorted and without duplicates.
fn set(items: Vec<Value>) -> Value {
    let mut items = unify(items);
    items.sort_by(compare);
    items.dedup();
    Value::list(items)
}

/// The order of set elements, as Terraform's: by type, then by value (numbers by size,
/// strings by bytes).
pub(crate) fn compare(x: &Value, y: &Value) -> Ordering {
    let rank = |v: &Value| match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::List(_) => 4,
        Value::Object(_) => 5,
        Value::Ref(_) => 6,
    };
    match (x, y) {
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Number(a), Value::Number(b)) => a.total_cmp(b),
        (Value::String(a), Value::String(b)) => a.cmp(b),
        (Value::List(a), Value::List(b)) => {
            let first = a.iter().zip(b.iter()).map(|(p, q)| compare(p, q)).find(|o| o.is_ne());
            first.unwrap_or(a.len().cmp(&b.len()))
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut first = a.iter().zip(b.iter()).map(|((k, v), (l, w))| k.cmp(l).then_with(|| compare(v, w)));
            first.find(|o| o.is_ne()).unwrap_or(a.len().cmp(&b.len()))
        }
        (Value::Ref(a), Value::Ref(b)) => a.cmp(b),
        _ => rank(x).cmp(&rank(y)),
    }
}

/// `setintersection`, `setsubtract`, `setunion`: folds the other arguments into the first.
fn sets(a: &Args<'_>, op: fn(&mut Vec<Value>, &[Value])) -> Out {
    let mut acc = a.list(0)?.to_vec();
    for i in 1..a.vals.len() {
        op(&mut acc, a.list(i)?);
    }
    Ok(set(acc))
}

fn fold(a: &Args<'_>, f: fn(f64, f64) -> f64) -> Out {
    let mut acc = a.num(0)?;
    for i in 1..a.vals.len() {
        acc = f(acc, a.num(i)?);
    }
    num(acc)
}

fn parseint(a: &Args<'_>) -> Out {
    let (s, base) = (a.str(0)?, a.int(1)?);
    let Some(base) = u32::try_from(base).ok().filter(|b| (2..=62).contains(b)) else {
        return Err(a.err(1, "must be between 2 and 62"));
    };
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    let digit = |c: char| {
        let d = c.to_digit(36)? + if base > 36 && c.is_ascii_uppercase() { 26 } else { 0 };
        (d < base).then_some(d)
    };
    let parsed = digits.chars().try_fold(0u128, |n, c| n.checked_mul(base.into())?.checked_add(digit(c)?.into()));
    match parsed.filter(|_| !digits.is_empty()) {
        Some(n) => num(if negative { -(n as f64) } else { n as f64 }),
        None => Err(a.err(0, format!("cannot parse {s:?} as a base {base} integer"))),
    }
}

fn base64decode(a: &Args<'_>) -> Out {
    let bytes = BASE64.decode(a.str(0)?.as_bytes()).map_err(|_| a.err(0, "the given value is not valid base64"))?;
    string(String::from_utf8(bytes).map_err(|_| a.err(0, "the decoded bytes are not valid UTF-8"))?)
}

/// Renders a `format` spec with `vals`, the call's arguments after the spec.
fn render(a: &Args<'_>, spec: &str, vals: &[Value]) -> Result<String, FnError> {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = spec.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some((_, f)) = chars.next_if(|(_, f)| "-+ 0#".contains(*f)) {
            flags.push(f);
        }
        let width = digits(&mut chars);
        let precision = chars.next_if(|(_, c)| *c == '.').map(|_| digits(&mut chars).unwrap_or(0));
        let Some((end, verb)) = chars.next() else {
            return Err(a.err(0, format!("unterminated format verb at {at}")));
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let directive = &spec[at..end + verb.len_utf8()];
        if width.max(precision).unwrap_or(0) > 1000 {
            return Err(a.err(0, format!("width or precision of \"{directive}\" at {at} is above 1000")));
        }
        let Some(v) = vals.get(next) else {
            let why =
                format!("not enough arguments for \"{directive}\" at {at}: need {} but have {}", next + 1, vals.len());
            return Err(a.err(0, why));
        };
        next += 1;
        let bad = |why: String| a.err(next, format!("unsupported value for \"{directive}\" at {at}: {why}"));
        let sign = |negative: bool| {
            if negative {
                "-"
            } else if flags.contains('+') {
                "+"
            } else if flags.contains(' ') {
                " "
            } else {
                ""
            }
        };
        let (sign, body, numeric) = match verb {
            's' | 'q' => {
                let s = text(v).ok_or_else(|| bad(mismatch(v, "string")))?;
                let s: String = s.chars().take(precision.unwrap_or(usize::MAX)).collect();
                ("", if verb == 'q' { serde_json::Value::from(s).to_string() } else { s }, false)
            }
            'v' if flags.contains('#') => ("", json(v).map_err(|r| bad(unknown_msg(r)))?, false),
            'v' => match text(v) {
                Some(s) => ("", s.into_owned(), false),
                None => ("", json(v).map_err(|r| bad(unknown_msg(r)))?, false),
            },
            't' => ("", boolean(v).ok_or_else(|| bad(mismatch(v, "bool")))?.to_string(), false),
            'd' | 'b' | 'o' | 'x' | 'X' => {
                let n = number(v).ok_or_else(|| bad(mismatch(v, "number")))?;
                let i = Value::Number(n).as_integer().ok_or_else(|| bad("an integer is required".into()))?;
                let m = i.unsigned_abs();
                let body = match verb {
                    'b' => format!("{m:b}"),
                    'o' => format!("{m:o}"),
                    'x' => format!("{m:x}"),
                    'X' => format!("{m:X}"),
                    _ => m.to_string(),
                };
                (sign(i < 0), body, true)
            }
            'f' => {
                let n = number(v).ok_or_else(|| bad(mismatch(v, "number")))?;
                (sign(n < 0.0), format!("{:.*}", precision.unwrap_or(6), n.abs()), true)
            }
            _ => return Err(a.err(0, format!("unsupported format verb \"{directive}\" at {at}"))),
        };
        let pad = width.unwrap_or(0).saturating_sub(sign.len() + body.chars().count());
        out.push_str(&if flags.contains('-') {
            format!("{sign}{body}{}", " ".repeat(pad))
        } else if numeric && flags.contains('0') {
            format!("{sign}{}{body}", "0".repeat(pad))
        } else {
            format!("{}{sign}{body}", " ".repeat(pad))
        });
    }
    if next < vals.len() {
        return Err(a.err(next + 1, format!("too many arguments; no verbs expect argument {}", next + 1)));
    }
    Ok(out)
}

/// A run of decimal digits in a format spec.
fn digits(chars: &mut Peekable<CharIndices<'_>>) -> Option<usize> {
    let mut n = None;
    while let Some((_, d)) = chars.next_if(|(_, d)| d.is_ascii_digit()) {
        n = Some(n.unwrap_or(0usize).saturating_mul(10).saturating_add(d as usize - '0' as usize));
    }
    n
}

fn formatlist(a: &Args<'_>) -> Out {
    let spec = a.str(0)?;
    let mut rows: Option<(usize, usize)> = None;
    for (i, v) in a.vals.iter().enumerate().skip(1) {
        let Some(list) = v.as_list() else { continue };
        match rows {
            Some((len, j)) if len != list.len() => {
                let why = format!(
                    "argument {i} has length {}, which is inconsistent with argument {j} of length {len}",
                    list.len()
                );
                return Err(a.err(i, why));
            }
            _ => rows = Some((list.len(), i)),
        }
    }
    let row = |k: usize| -> Vec<Value> {
        a.vals[1..].iter().map(|v| v.as_list().map_or_else(|| v.clone(), |l| l[k].clone())).collect()
    };
    let lines = (0..rows.map_or(1, |r| r.0)).map(|k| render(a, &spec, &row(k)).map(Value::string));
    Ok(Value::list(lines.collect::<Result<_, _>>()?))
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut word_start = true;
    for c in s.chars() {
        if word_start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        word_start = if c.is_ascii() { !(c.is_ascii_alphanumeric() || c == '_') } else { c.is_whitespace() };
    }
    out
}

fn substr(a: &Args<'_>) -> Out {
    let (s, offset, length) = (a.str(0)?, a.int(1)?, a.int(2)?);
    let chars: Vec<char> = s.chars().collect();
    let total = chars.len() as i64;
    let start = if offset < 0 { (total + offset).max(0) } else { offset.min(total) };
    let end = if length < 0 { total } else { start.saturating_add(length).min(total) };
    string(chars[start as usize..end as usize].iter().collect::<String>())
}

fn regex(a: &Args<'_>, all: bool) -> Out {
    let (source, s) = (a.str(0)?, a.str(1)?);
    let re = pattern(a, 0, &source)?;
    let named: Vec<&str> = re.capture_names().flatten().collect();
    if !named.is_empty() && named.len() + 1 < re.captures_len() {
        return Err(a.err(0, "invalid regular expression: must not mix named and unnamed capture groups"));
    }
    let group = |m: Option<regex::Match<'_>>| m.map_or(Value::Null, |m| Value::string(m.as_str()));
    let mut found = re.captures_iter(&s).map(|c| match re.captures_len() {
        1 => group(c.get(0)),
        _ if named.is_empty() => Value::list(c.iter().skip(1).map(group).collect()),
        _ => Value::object(named.iter().map(|n| (n.to_string(), group(c.name(n)))).collect()),
    });
    if all {
        Ok(Value::list(found.collect()))
    } else {
        found.next().ok_or_else(|| a.err(1, "pattern did not match any part of the given string"))
    }
}

/// Compiles the regular expression `source`, given in argument `i`.
fn pattern(a: &Args<'_>, i: usize, source: &str) -> Result<Regex, FnError> {
    Regex::new(source).map_err(|e| a.err(i, format!("invalid regular expression: {e}")))
}

fn chunklist(a: &Args<'_>) -> Out {
    let list = a.list(0)?;
    let size = usize::try_from(a.int(1)?).map_err(|_| a.err(1, "the size argument must be positive"))?;
    if size == 0 {
        return Ok(Value::list(vec![a.vals[0].clone()]));
    }
    Ok(Value::list(list.chunks(size).map(|c| Value::list(c.to_vec())).collect()))
}

fn coalescelist(a: &Args<'_>) -> Out {
    for i in (0..a.vals.len()).filter(|i| !a.vals[*i].is_null()) {
        if !a.list(i)?.is_empty() {
            return Ok(a.vals[i].clone());
        }
    }
    Err(fail("no non-null, non-empty list arguments"))
}

fn compact(a: &Args<'_>) -> Out {
    let mut out = Vec::new();
    for (k, v) in a.list(0)?.iter().enumerate().filter(|(_, v)| !v.is_null()) {
        let s = text(v).ok_or_else(|| a.err(0, format!("element {k}: {}", mismatch(v, "string"))))?;
        if !s.is_empty() {
            out.push(Value::string(s));
        }
    }
    Ok(Value::list(out))
}

fn element(a: &Args<'_>) -> Out {
    let list = a.list(0)?;
    let index =
        usize::try_from(a.int(1)?).map_err(|_| a.err(1, "cannot use element function with a negative index"))?;
    if list.is_empty() {
        return Err(a.err(0, "cannot use element function with an empty list"));
    }
    Ok(list[index % list.len()].clone())
}

fn flatten(list: &[Value]) -> Vec<Value> {
    list.iter().flat_map(|v| v.as_list().map_or_else(|| vec![v.clone()], flatten)).collect()
}

fn range(a: &Args<'_>) -> Out {
    let (start, limit) = if a.vals.len() == 1 { (0.0, a.num(0)?) } else { (a.num(0)?, a.num(1)?) };
    let step = if a.vals.len() == 3 { a.num(2)? } else { (limit - start).signum() };
    if step == 0.0 {
        return Err(a.err(2, "step must not be zero"));
    }
    let limit_arg = a.vals.len().min(2) - 1;
    if step < 0.0 && limit > start {
        return Err(a.err(limit_arg, "limit must be less than start when step is negative"));
    }
    if step > 0.0 && limit < start {
        return Err(a.err(limit_arg, "limit must be greater than start when step is positive"));
    }
    let n = ((limit - start) / step).ceil();
    if n.is_nan() || n > MAX_ELEMENTS as f64 {
        let why = format!("the range has {} elements, more than the limit of {MAX_ELEMENTS}", format_number(n));
        return Err(a.err(limit_arg, why));
    }
    // Counting in units of the last decimal place written keeps `range(0, 1, 0.1)` exact.
    let unit = 10f64.powi(decimals(start).max(decimals(step)));
    let (unit, first, by) = if start.abs().max(limit.abs()) * unit < 9e15 {
        (unit, (start * unit).round(), (step * unit).round())
    } else {
        (1.0, start, step)
    };
    Ok(Value::list((0..n as usize).map(|i| Value::Number((first + i as f64 * by) / unit)).collect()))
}

/// How many decimal places `n` has, as written.
fn decimals(n: f64) -> i32 {
    format_number(n).split_once('.').map_or(0, |(_, fraction)| fraction.len() as i32)
}

fn setproduct(a: &Args<'_>) -> Out {
    let lists = (0..a.vals.len()).map(|i| a.list(i)).collect::<Result<Vec<_>, _>>()?;
    let total = lists.iter().try_fold(1usize, |n, l| n.checked_mul(l.len())).filter(|n| *n <= MAX_ELEMENTS);
    if total.is_none() {
        return Err(fail(format!("the product has more than {MAX_ELEMENTS} elements")));
    }
    let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
    for list in lists {
        rows = rows
            .iter()
            .flat_map(|r| list.iter().map(move |v| [r.as_slice(), std::slice::from_ref(v)].concat()))
            .collect();
    }
    Ok(Value::list(rows.into_iter().map(Value::list).collect()))
}

fn slice(a: &Args<'_>) -> Out {
    let list = a.list(0)?;
    let start = usize::try_from(a.int(1)?).map_err(|_| a.err(1, "start index must not be negative"))?;
    let end = usize::try_from(a.int(2)?).map_err(|_| a.err(2, "end index must not be negative"))?;
    if end > list.len() {
        return Err(a.err(2, "end index must not be greater than the length of the list"));
    }
    if start > end {
        return Err(a.err(1, "start index must not be greater than end index"));
    }
    Ok(Value::list(list[start..end].to_vec()))
}

fn transpose(a: &Args<'_>) -> Out {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (key, list) in a.obj(0)? {
        let why = |v: &Value, want| a.err(0, format!("element {key:?}: {}", mismatch(v, want)));
        for v in list.as_list().ok_or_else(|| why(list, "list"))? {
            let value = text(v).ok_or_else(|| why(v, "string"))?.into_owned();
            out.entry(value).or_default().push(Value::string(key.as_str()));
        }
    }
    Ok(Value::object(out.into_iter().map(|(k, v)| (k, Value::list(v))).collect()))
}

/// A CIDR argument as (network address with host bits cleared, address width, prefix length).
fn cidr(a: &Args<'_>, i: usize) -> Result<(u128, u8, u8), FnError> {
    let s = a.str(i)?;
    match s.parse::<IpNet>() {
        Ok(IpNet::V4(n)) => Ok((u32::from(n.network()).into(), 32, n.prefix_len())),
        Ok(IpNet::V6(n)) => Ok((u128::from(n.network()), 128, n.prefix_len())),
        Err(_) => Err(a.err(i, format!("invalid CIDR expression {s:?}"))),
    }
}

/// The host part of a network: `bits` ones.
fn ones(bits: u8) -> u128 {
    u128::MAX.checked_shr(128 - u32::from(bits)).unwrap_or(0)
}

fn ip(value: u128, width: u8) -> IpAddr {
    if width == 32 { IpAddr::V4(Ipv4Addr::from(value as u32)) } else { IpAddr::V6(Ipv6Addr::from(value)) }
}

fn cidrhost(a: &Args<'_>) -> Out {
    let (base, width, prefix) = cidr(a, 0)?;
    let number = a.int(1)?;
    let max = ones(width - prefix);
    let host = match u128::try_from(number) {
        Ok(n) => Some(n).filter(|n| *n <= max),
        Err(_) => max.checked_sub(u128::from(number.unsigned_abs()) - 1),
    };
    match host {
        Some(host) => string(ip(base | host, width).to_string()),
        None => Err(a.err(1, format!("prefix of {prefix} bits cannot accommodate a host numbered {number}"))),
    }
}

fn cidrnetmask(a: &Args<'_>) -> Out {
    let (_, width, prefix) = cidr(a, 0)?;
    if width != 32 {
        return Err(a.err(0, "IPv6 addresses cannot have a netmask"));
    }
    string(ip(ones(32) & !ones(32 - prefix), 32).to_string())
}

fn cidrsubnet(a: &Args<'_>) -> Out {
    let (base, width, prefix) = cidr(a, 0)?;
    let Some(newbits) = u8::try_from(a.int(1)?).ok().filter(|b| *b <= 32) else {
        return Err(a.err(1, "must be between 0 and 32"));
    };
    let len = prefix + newbits;
    if len > width {
        return Err(a.err(1, format!("insufficient address space to extend prefix of {prefix} by {newbits}")));
    }
    let netnum = a.int(2)?;
    let Some(n) = u128::try_from(netnum).ok().filter(|n| *n <= ones(newbits)) else {
        return Err(a.err(2, format!("prefix extension of {newbits} does not accommodate a subnet numbered {netnum}")));
    };
    string(format!("{}/{len}", ip(base | n.checked_shl(u32::from(width - len)).unwrap_or(0), width)))
}

fn cidrsubnets(a: &Args<'_>) -> Out {
    let (base, width, prefix) = cidr(a, 0)?;
    let last = base | ones(width - prefix);
    let mut free = Some(base);
    let mut out: Vec<Value> = Vec::new();
    for i in 1..a.vals.len() {
        let newbits = a.int(i)?;
        let len = i64::from(prefix) + newbits;
        if newbits < 1 {
            return Err(a.err(i, "must extend prefix by at least one bit"));
        }
        if len > i64::from(width) {
            let version = if width == 32 { 4 } else { 6 };
            let why = format!("would extend prefix to {len} bits, which is too long for an IPv{version} address");
            return Err(a.err(i, why));
        }
        let size = 1u128 << (i64::from(width) - len);
        let aligned = free.and_then(|f| f.checked_add(size - 1)).map(|e| e & !(size - 1));
        let start = aligned.filter(|s| s + (size - 1) <= last);
        let Some(start) = start else {
            let after = out.last().map(ToString::to_string).unwrap_or_default();
            let why =
                format!("not enough remaining address space for a subnet with a prefix of {len} bits after {after}");
            return Err(a.err(i, why));
        };
        out.push(Value::string(format!("{}/{len}", ip(start, width))));
        free = start.checked_add(size);
    }
    Ok(Value::list(out))
}

/// `parse_size("16Gi")`: bytes, from a decimal number with an optional decimal (`k`, `M`, `G`,
/// `T`, `P`, `E`) or binary (`Ki`, `Mi`, ...) unit and an optional `B`.
fn parse_size(a: &Args<'_>) -> Out {
    let s = a.str(0)?;
    let bad = || a.err(0, format!("{s:?} is not a size such as 512Mi, 16Gi or 2G"));
    let (amount, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let unit = unit.strip_suffix('B').unwrap_or(unit);
    let (scale, base) = match unit.strip_suffix('i') {
        Some(scale) if !scale.is_empty() => (scale, 1024u128),
        _ => (unit, 1000),
    };
    let units = ["", "k", "M", "G", "T", "P", "E"];
    let power = units.iter().position(|u| *u == scale || (scale == "K" && *u == "k")).ok_or_else(bad)?;
    let (whole, fraction) = amount.trim().split_once('.').unwrap_or((amount.trim(), ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let bytes = digits.parse::<u128>().ok().and_then(|n| n.checked_mul(base.pow(power as u32)));
    match (bytes, 10u128.checked_pow(fraction.len() as u32)) {
        (Some(bytes), Some(divisor)) if bytes % divisor == 0 => num((bytes / divisor) as f64),
        (Some(_), Some(_)) => Err(a.err(0, format!("{s:?} is not a whole number of bytes"))),
        _ => Err(bad()),
    }
}

/// `parse_duration("1h30m")`: seconds, from Go-style durations (`ns`, `us`, `ms`, `s`, `m`,
/// `h`) plus `d` for days.
fn parse_duration(a: &Args<'_>) -> Out {
    let s = a.str(0)?;
    let bad = || a.err(0, format!("{s:?} is not a duration such as 30s, 15m, 48h or 1h30m"));
    if s == "0" {
        return num(0.0);
    }
    let (mut rest, mut nanos) = (&*s, 0.0);
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let amount: f64 = rest[..split].parse().map_err(|_| bad())?;
        rest = &rest[split..];
        let split = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..split] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            _ => return Err(bad()),
        };
        nanos += amount * unit;
        rest = &rest[split..];
    }
    num(nanos / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::Address;

    /// One call a line: `name [arguments] => result`, in JSON.
    const RESULTS: &str = r##"
abs [-3.5] => 3.5
alltrue [[true, "true"]] => true
anytrue [[false, true]] => true
base64decode ["aGVsbG8="] => "hello"
base64encode ["hello"] => "aGVsbG8="
ceil [1.2] => 2
chomp ["hi\r\n\n"] => "hi"
chunklist [["a", "b", "c"], 2] => [["a", "b"], ["c"]]
cidrhost ["10.12.112.0/20", 16] => "10.12.112.16"
cidrhost ["10.12.112.0/20", -1] => "10.12.127.255"
cidrhost ["fd00:fd12:3456:7890:00a2::/72", 34] => "fd00:fd12:3456:7890::22"
cidrnetmask ["172.16.0.0/12"] => "255.240.0.0"
cidrsubnet ["10.1.2.0/24", 4, 15] => "10.1.2.240/28"
cidrsubnet ["fd00:fd12:3456:7890::/56", 16, 162] => "fd00:fd12:3456:7800:a200::/72"
cidrsubnets ["10.1.0.0/16", 4, 4, 8, 4] => ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"]
cidrsubnets ["fd00:fd12:3456:7890::/56", 16, 32] => ["fd00:fd12:3456:7800::/72", "fd00:fd12:3456:7800:100::/88"]
coalesce [null, "", "b"] => "b"
coalescelist [[], ["c"]] => ["c"]
compact [["a", "", null, "b"]] => ["a", "b"]
concat [["a"], [1, 2]] => ["a", 1, 2]
contains [["a", "b"], "b"] => true
distinct [["b", "a", "b"]] => ["b", "a"]
element [["a", "b", "c"], 4] => "b"
endswith ["hello", "lo"] => true
flatten [[["a", ["b"]], [], "c"]] => ["a", "b", "c"]
floor [-1.5] => -2
format ["Hello, %s!", "Ander"] => "Hello, Ander!"
format ["%03d|%-4s|%5.2f|%q|%t|%%|%x", 7, "ab", 3.14159, "a\"b", true, 255] => "007|ab  | 3.14|\"a\\\"b\"|true|%|ff"
format ["%v %v %#v %+d", "s", [1, {"a": null}], "s", 5] => "s [1,{\"a\":null}] \"s\" +5"
formatlist ["%s-%d", ["a", "b"], 1] => ["a-1", "b-1"]
index [["a", "b"], "b"] => 1
indent [2, "a\nb\n"] => "a\n  b\n  "
join ["-", ["a", "b"], ["c", 1]] => "a-b-c-1"
jsondecode ["{\"b\": [1, true], \"a\": null}"] => {"a": null, "b": [1, true]}
jsonencode [{"b": "<&>", "a": [1, 2.5, null]}] => "{\"a\":[1,2.5,null],\"b\":\"\\u003c\\u0026\\u003e\"}"
keys [{"b": 1, "a": 2}] => ["a", "b"]
length ["héllo"] => 5
length [{"a": [1, 2]}] => 1
log [16, 2] => 4
lookup [{"a": "x"}, "a"] => "x"
lookup [{"a": "x"}, "b", "d"] => "d"
lower ["HeLLo"] => "hello"
max [12, 54, 3] => 54
merge [{"a": 1, "b": 2}, null, {"b": 3}] => {"a": 1, "b": 3}
min [12, 54, 3] => 3
one [[]] => null
one [["x"]] => "x"
parse_duration ["1h30m"] => 5400
parse_duration ["2d500ms"] => 172800.5
parse_size ["16Gi"] => 17179869184
parse_size ["2G"] => 2000000000
parse_size ["4.1M"] => 4100000
parse_size ["1.5KiB"] => 1536
parseint ["FF", 16] => 255
parseint ["-1010", 2] => -10
pow [3, 2] => 9
range [3] => [0, 1, 2]
range [3, 0] => [3, 2, 1]
range [0, 1, 0.25] => [0, 0.25, 0.5, 0.75]
range [1, 0.5, -0.1] => [1, 0.9, 0.8, 0.7, 0.6]
regex ["[a-z]+", "53abc"] => "abc"
regex ["(\\d+)-(\\d+)", "2019-02"] => ["2019", "02"]
regex ["(?P<y>\\d+)-(?P<m>\\d+)", "2019-02"] => {"m": "02", "y": "2019"}
regexall ["[a-z]+", "1234abcd5678efgh9"] => ["abcd", "efgh"]
replace ["1 + 2 + 3", "+", "-"] => "1 - 2 - 3"
replace ["hello world", "/w(.*)d/", "$1"] => "hello orl"
reverse [[1, 2, 3]] => [3, 2, 1]
setintersection [["a", "b", "c"], ["b", "c", "d"], ["c", "b"]] => ["b", "c"]
setproduct [["a", "b"], [1, 2]] => [["a", 1], ["a", 2], ["b", 1], ["b", 2]]
setsubtract [["a", "b", "c"], ["a", "c"]] => ["b"]
setunion [["b", "a"], ["c", "a"]] => ["a", "b", "c"]
sha256 ["hello world"] => "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
signum [-7] => -1
slice [["a", "b", "c", "d"], 1, 3] => ["b", "c"]
sort [[3, 10]] => ["10", "3"]
split [",", "foo,bar"] => ["foo", "bar"]
split [",", ""] => [""]
startswith ["hello", "he"] => true
strrev ["héllo"] => "olléh"
substr ["hello world", 1, 4] => "ello"
substr ["héllo", -3, -1] => "llo"
substr ["hello", 10, 2] => ""
sum [[10, 2.5, "3"]] => 15.5
title ["hello world_x-y"] => "Hello World_x-Y"
tobool ["true"] => true
tobool [null] => null
tolist [["a", 1, true]] => ["a", "1", "true"]
tomap [{"a": 1, "b": "x"}] => {"a": "1", "b": "x"}
tonumber ["1.5"] => 1.5
toset [["c", "a", "c", "b"]] => ["a", "b", "c"]
tostring [2.5] => "2.5"
transpose [{"a": ["1", "2"], "b": ["2", "3"]}] => {"1": ["a"], "2": ["a", "b"], "3": ["b"]}
trim ["?!hello?!", "!?"] => "hello"
trimprefix ["helloworld", "hello"] => "world"
trimspace ["  hello\n"] => "hello"
trimsuffix ["helloworld", "world"] => "hello"
upper ["hello"] => "HELLO"
values [{"b": 1, "a": 2}] => [2, 1]
zipmap [["a", "b"], [1, 2]] => {"a": 1, "b": 2}
"##;

    /// One failing call a line: `name [arguments] => argument at fault or -: part of the message`.
    const ERRORS: &str = r##"
abs [1, 2] => 1: expects 1 argument, got 2.
lookup [{}] => -: expects 2 to 3 arguments, got 1: missing "key".
join [","] => -: expects at least 2 arguments, got 1: missing "lists".
setproduct [[1]] => -: expects at least 2 arguments, got 1
range [1, 2, 3, 4] => 3: expects 1 to 3 arguments, got 4.
nosuch [] => -: there is no function named "nosuch".
upper [[1]] => 0: Invalid value for "str" parameter: string required, got list.
abs ["x"] => 0: Invalid value for "num" parameter: cannot convert "x" to number.
length [null] => 0: argument must not be null
join [",", ["a", null]] => 1: element 1: must not be null
element [[1], 1.5] => 1: must be a whole number, got 1.5
element [[], 0] => 0: cannot use element function with an empty list
element [[1], -1] => 1: cannot use element function with a negative index
cidrsubnet ["10.0.0.0/24", 9, 0] => 1: insufficient address space to extend prefix of 24 by 9
cidrsubnet ["10.0.0.0/16", 4, 16] => 2: prefix extension of 4 does not accommodate a subnet numbered 16
cidrsubnet ["10.0.0.0/33", 1, 0] => 0: invalid CIDR expression "10.0.0.0/33"
cidrhost ["10.0.0.0/30", 4] => 1: prefix of 30 bits cannot accommodate a host numbered 4
cidrnetmask ["fd00::/8"] => 0: IPv6 addresses cannot have a netmask
cidrsubnets ["10.0.0.0/24", 1, 1, 1] => 3: not enough remaining address space for a subnet with a prefix of 25 bits
range [20000000] => 0: the range has 20000000 elements, more than the limit of 10000000
range [0, 10, -1] => 1: limit must be less than start when step is negative
lookup [{"a": 1}, "b"] => 1: the map has no key "b" and no default was given
format ["%s and %s", "a"] => 0: not enough arguments for "%s" at 7: need 2 but have 1
format ["%s", "a", "b"] => 2: too many arguments; no verbs expect argument 2
format ["%d", 1.5] => 1: unsupported value for "%d" at 0: an integer is required
formatlist ["%s%s", ["a"], ["b", "c"]] => 2: argument 2 has length 2, which is inconsistent with argument 1
slice [[1, 2], 0, 3] => 2: end index must not be greater than the length of the list
one [[1, 2]] => 0: either zero or one elements
sum [[]] => 0: cannot sum an empty list
parseint ["1g", 16] => 0: cannot parse "1g" as a base 16 integer
regex ["[", "a"] => 0: invalid regular expression
regex ["x", "a"] => 1: pattern did not match any part of the given string
base64decode ["!!"] => 0: the given value is not valid base64
zipmap [["a"], []] => 1: number of keys (1) does not match number of values (0)
parse_size ["16Gx"] => 0: "16Gx" is not a size such as 512Mi, 16Gi or 2G
parse_size ["0.1"] => 0: "0.1" is not a whole number of bytes
parse_duration ["5"] => 0: "5" is not a duration such as 30s, 15m, 48h or 1h30m
coalesce [null, ""] => -: no non-null, non-empty-string arguments.
transpose [{"a": "x"}] => 0: element "a": list required, got string
"##;

    fn from_json(text: &str) -> Value {
        Value::from_json(&serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}")))
    }

    /// A case line as its function name, its arguments and what follows `=>`.
    fn parse(line: &str) -> (&str, Vec<Value>, &str) {
        let (name, rest) = line.split_once(' ').expect("a name");
        let (args, want) = rest.split_once(" => ").expect("an arrow");
        (name, from_json(args).as_list().expect("an argument list").to_vec(), want)
    }

    #[test]
    fn functions_compute_what_terraform_computes() {
        for line in RESULTS.trim().lines() {
            let (name, args, want) = parse(line);
            assert_eq!(call(name, &args).map_err(|e| e.message), Ok(from_json(want)), "{line}");
        }
        let tested: BTreeSet<&str> = RESULTS.trim().lines().map(|line| parse(line).0).collect();
        assert!(names().iter().eq(tested.iter()), "every function has a case, and names() is sorted");
    }

    #[test]
    fn errors_are_specific_and_name_the_argument() {
        for line in ERRORS.trim().lines() {
            let (name, args, want) = parse(line);
            let (arg, message) = want.split_once(": ").expect("argument: message");
            let e = call(name, &args).expect_err(line);
            assert!(e.message.contains(message), "{line}: {}", e.message);
            assert_eq!(e.arg, arg.parse().ok(), "{line}");
        }
    }

    #[test]
    fn references_pass_through_collections_and_unknowns_stop_string_functions() {
        let ip = Value::reference(Address::new("host", "a"), vec!["ip".into()]);
        let host = Value::reference(Address::new("host", "b"), Vec::new());
        let both = Value::list(vec![ip.clone(), host.clone()]);
        let concat = call("concat", &[Value::list(vec![ip.clone()]), Value::list(vec![host.clone()])]);
        assert_eq!(concat, Ok(both.clone()));
        assert_eq!(call("element", &[both.clone(), Value::Number(3.0)]), Ok(host.clone()));
        assert_eq!(call("length", std::slice::from_ref(&both)), Ok(Value::Number(2.0)));
        let unknowns =
            [("upper", vec![ip.clone()]), ("jsonencode", vec![both]), ("format", vec![Value::string("%s"), ip])];
        for (name, args) in unknowns {
            let e = call(name, &args).expect_err(name);
            assert!(e.message.contains("host.a.ip is not known until apply"), "{name}: {}", e.message);
        }
        let e = call("upper", &[host]).expect_err("an object reference is no string");
        assert_eq!(e.message, "Invalid value for \"str\" parameter: string required, got reference.");
    }
}

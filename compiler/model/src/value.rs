//! Values of the spec language, as the resolver computes them.
//!
//! Collections are reference-counted so that `each.value` or `var.fleet` can be handed to
//! thousands of instances without copying. Maps iterate in key order, as in Terraform, so
//! evaluation is deterministic.

use crate::Address;
use arcstr::ArcStr;
use rustc_hash::FxHashSet as HashSet;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A spec value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`: absent.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number (integers are exact up to 2^53).
    Number(f64),
    /// A string.
    String(ArcStr),
    /// A list, tuple or set (sets are kept sorted and without duplicates).
    List(Arc<Vec<Value>>),
    /// A map or object, in key order.
    Object(Arc<Object>),
    /// A reference to a declared object, or to an attribute only known once it exists
    /// (`cluster.c000.endpoint`): emitters render it as a reference in the target language.
    Ref(Arc<Reference>),
}

/// What a [`Value::Ref`] points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// The object.
    pub address: Address,
    /// The attribute path inside it; empty for the object itself.
    pub attribute: Vec<String>,
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<ArcStr>) -> Self {
        Value::String(s.into())
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Self {
        Value::List(Arc::new(items))
    }

    /// An object value.
    pub fn object(items: Object) -> Self {
        Value::Object(Arc::new(items))
    }

    /// A reference to an object.
    pub fn reference(address: Address, attribute: Vec<String>) -> Self {
        Value::Ref(Arc::new(Reference { address, attribute }))
    }

    /// The name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Object(_) => "object",
            Value::Ref(r) if r.attribute.is_empty() => "reference",
            Value::Ref(_) => "unknown value",
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as a whole number, if it is one and fits.
    pub fn as_integer(&self) -> Option<i64> {
        self.as_number().filter(|n| n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15).map(|n| n as i64)
    }

    /// The bool, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entries, if this is an object.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The reference, if this is one.
    pub fn as_ref(&self) -> Option<&Reference> {
        match self {
            Value::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True if the value is, or contains, a reference to an attribute known only after apply.
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Ref(r) => !r.attribute.is_empty(),
            Value::List(l) => l.iter().any(Value::is_unknown),
            Value::Object(o) => o.values().any(Value::is_unknown),
            _ => false,
        }
    }

    /// Converts to JSON; references become their address text (`${host.a.id}` style).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Object(o) => {
                serde_json::Value::Object(o.iter().map(|(k, v)| (k.to_string(), v.to_json())).collect())
            }
            Value::Ref(r) => serde_json::Value::String(format!("${{{r}}}")),
        }
    }

    /// Converts from JSON (variable files, `jsondecode`).
    pub fn from_json(json: &serde_json::Value) -> Self {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::string(s.as_str()),
            serde_json::Value::Array(a) => Value::list(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => {
                Value::object(o.iter().map(|(k, v)| (k.as_str(), Value::from_json(v))).collect())
            }
        }
    }
}

/// Reads a value straight from JSON (or any self-describing format), without an intermediate
/// document: variable files of fleets run to megabytes. Object keys are shared: such a file
/// repeats a handful of keys in tens of thousands of objects.
impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let keys = RefCell::new(HashSet::default());
        ValueSeed { keys: &keys }.deserialize(deserializer)
    }
}

/// The keys read so far, each kept once.
type KeyTable = RefCell<HashSet<ArcStr>>;

/// Deserializes one value, sharing its object keys through the table.
#[derive(Clone, Copy)]
struct ValueSeed<'k> {
    keys: &'k KeyTable,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::string(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::list(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key_seed(KeySeed { keys: self.keys })? {
            entries.push((key, map.next_value_seed(self)?));
        }
        Ok(Value::object(Object::from(entries)))
    }
}

/// Deserializes an object key, taking it from the table when it was read before.
struct KeySeed<'k> {
    keys: &'k KeyTable,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ArcStr;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<ArcStr, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ArcStr;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, s: &str) -> Result<ArcStr, E> {
        let mut keys = self.keys.borrow_mut();
        if let Some(key) = keys.get(s) {
            return Ok(key.clone());
        }
        let key = ArcStr::from(s);
        keys.insert(key.clone());
        Ok(key)
    }
}

/// Objects of at most this many entries are searched by a scan.
const SCANNED: usize = 8;

/// The entries of an object value: a vector sorted by key, without duplicate keys.
///
/// Spec objects are small (a fleet's variable file holds tens of thousands of four-key
/// objects), and a sorted vector takes a fraction of a B-tree's memory, searches as fast and
/// iterates in the same order as `BTreeMap` would.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object(Vec<(ArcStr, Value)>);

/// What iterating over an [`Object`] by reference yields.
type ObjectIter<'a> = std::iter::Map<std::slice::Iter<'a, (ArcStr, Value)>, fn(&(ArcStr, Value)) -> (&ArcStr, &Value)>;

impl Object {
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True without entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        // Most objects are a handful of entries: a scan, comparing length and first letter
        // first, compares the text of one key where a binary search compares three.
        if self.0.len() <= SCANNED {
            return self.0.iter().find(|(k, _)| crate::schema::same_name(k, key)).map(|(_, v)| v);
        }
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|i| &self.0[i].1)
    }

    /// The entries in key order.
    pub fn iter(&self) -> ObjectIter<'_> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &ArcStr> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.0.iter().map(|(_, v)| v)
    }
}

/// Sorts the entries by key; of entries with the same key the last wins, as in a `BTreeMap`.
impl<K: Into<ArcStr>> From<Vec<(K, Value)>> for Object {
    fn from(entries: Vec<(K, Value)>) -> Self {
        let mut entries: Vec<(ArcStr, Value)> = entries.into_iter().map(|(k, v)| (k.into(), v)).collect();
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut deduped: Vec<(ArcStr, Value)> = Vec::with_capacity(entries.len());
            for entry in entries {
                match deduped.last_mut() {
                    Some(last) if last.0 == entry.0 => *last = entry,
                    _ => deduped.push(entry),
                }
            }
            entries = deduped;
        }
        entries.shrink_to_fit();
        Object(entries)
    }
}

impl<K: Into<ArcStr>> From<BTreeMap<K, Value>> for Object {
    fn from(map: BTreeMap<K, Value>) -> Self {
        Object(map.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl<K: Into<ArcStr>> FromIterator<(K, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        Object::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a ArcStr, &'a Value);
    type IntoIter = ObjectIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// Formats a number the way HCL writes it: whole numbers without a fraction.
pub fn format_number(n: f64) -> String {
    let mut text = String::new();
    let _ = write_number(&mut text, n);
    text
}

/// Writes a number as [`format_number`] formats it.
pub fn write_number(out: &mut impl fmt::Write, n: f64) -> fmt::Result {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        out.write_str(itoa::Buffer::new().format(n as i64))
    } else if n.abs() >= 1e21 {
        write!(out, "{n:e}")
    } else {
        write!(out, "{n}")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.address)?;
        for a in &self.attribute {
            write!(f, ".{a}")?;
        }
        Ok(())
    }
}

/// Renders a value in HCL syntax, for messages and `berth` outputs.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write_number(f, *n),
            Value::String(s) => write!(f, "{:?}", &**s),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Object(o) => {
                f.write_str("{")?;
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_str("}")
            }
            Value::Ref(r) => write!(f, "{r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_without_spurious_fractions() {
        assert_eq!(Value::Number(3.0).to_string(), "3");
        assert_eq!(Value::Number(0.25).to_string(), "0.25");
        assert_eq!(Value::Number(64000.0).to_json(), serde_json::json!(64000));
    }

    #[test]
    fn json_round_trip_keeps_structure() {
        let j = serde_json::json!({"b": [1, "x", null, true], "a": {"c": 2.5}});
        assert_eq!(Value::from_json(&j).to_json(), j);
        let direct: Value = serde_json::from_str(&j.to_string()).unwrap();
        assert_eq!(direct, Value::from_json(&j));
    }

    #[test]
    fn objects_keep_key_order_and_the_last_of_a_duplicate_key() {
        let o: Object =
            [("b", 1.0), ("a", 2.0), ("b", 3.0)].into_iter().map(|(k, n)| (k.to_string(), Value::Number(n))).collect();
        assert_eq!(o.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(o.get("b"), Some(&Value::Number(3.0)));
        assert_eq!(o.get("c"), None);
        let direct: Value = serde_json::from_str(r#"{"z": 1, "y": 2, "z": 3}"#).unwrap();
        assert_eq!(direct.to_string(), "{y = 2, z = 3}");
    }
}

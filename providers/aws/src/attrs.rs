//! Desired attributes read with their types, and tags both ways.

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use berth_plan::{EngineError, Request};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The tag holding the resource address (`host.dh000:aws_instance`).
pub(crate) const ADDRESS_TAG: &str = "berth:address";
/// The tag holding the state's lineage.
pub(crate) const LINEAGE_TAG: &str = "berth:lineage";
/// The tag AWS consoles show as the object's name.
const NAME_TAG: &str = "Name";

/// Typed access to one request's desired attributes.
pub(crate) struct Attrs<'a> {
    kind: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> Attrs<'a> {
    /// The attributes of `request`.
    pub(crate) fn of(request: &Request<'a>) -> Self {
        Self { kind: request.kind, map: request.attrs }
    }

    /// Attributes of kind `kind` read from `map` (an object as observed).
    pub(crate) fn over(kind: &'a str, map: &'a Map<String, Value>) -> Self {
        Self { kind, map }
    }

    fn wrong(&self, name: &str, what: &str) -> EngineError {
        EngineError::permanent(format!("{}: attribute `{name}` must be {what}", self.kind))
    }

    /// A required string.
    pub(crate) fn str(&self, name: &str) -> Result<&'a str, EngineError> {
        self.opt_str(name)?.ok_or_else(|| self.wrong(name, "set"))
    }

    /// An optional string.
    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<&'a str>, EngineError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong(name, "a string")),
        }
    }

    /// An optional string, or a number given as one (a launch template version).
    pub(crate) fn opt_text(&self, name: &str) -> Result<Option<String>, EngineError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(self.wrong(name, "a string or a number")),
        }
    }

    /// A required integer that fits an `i32`.
    pub(crate) fn int(&self, name: &str) -> Result<i32, EngineError> {
        self.opt_int(name)?.ok_or_else(|| self.wrong(name, "set"))
    }

    /// An optional integer that fits an `i32`.
    pub(crate) fn opt_int(&self, name: &str) -> Result<Option<i32>, EngineError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                v.as_i64().and_then(|i| i32::try_from(i).ok()).map(Some).ok_or_else(|| self.wrong(name, "an integer"))
            }
        }
    }

    /// An optional list of strings (empty when unset).
    pub(crate) fn strs(&self, name: &str) -> Result<Vec<String>, EngineError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| self.wrong(name, "a list of strings")))
                .collect(),
            Some(_) => Err(self.wrong(name, "a list of strings")),
        }
    }

    /// An optional boolean.
    pub(crate) fn opt_bool(&self, name: &str) -> Result<Option<bool>, EngineError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.wrong(name, "true or false")),
        }
    }

    /// The `tags` map (empty when unset).
    pub(crate) fn tags(&self) -> Result<BTreeMap<&'a str, &'a str>, EngineError> {
        self.strings("tags")
    }

    /// An optional map of strings (empty when unset).
    pub(crate) fn strings(&self, name: &str) -> Result<BTreeMap<&'a str, &'a str>, EngineError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| Ok((k.as_str(), v.as_str().ok_or_else(|| self.wrong(name, "a map of strings"))?)))
                .collect(),
            Some(_) => Err(self.wrong(name, "a map of strings")),
        }
    }

    /// An optional nested object (`scaling_config`), read the same way.
    pub(crate) fn nested(&self, name: &str) -> Result<Option<Attrs<'a>>, EngineError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Attrs { kind: self.kind, map })),
            Some(_) => Err(self.wrong(name, "an object")),
        }
    }

    /// An optional list of nested objects (`taints`; empty when unset).
    pub(crate) fn list(&self, name: &str) -> Result<Vec<Attrs<'a>>, EngineError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Object(map) => Ok(Attrs { kind: self.kind, map }),
                    _ => Err(self.wrong(name, "a list of objects")),
                })
                .collect(),
            Some(_) => Err(self.wrong(name, "a list of objects")),
        }
    }
}

/// The berth address of a resource address: the part before the kind.
pub(crate) fn berth_address(address: &str) -> &str {
    address.split_once(':').map_or(address, |(a, _)| a)
}

/// Every tag a created object carries: the desired tags, `Name` (the berth address unless the
/// spec names it), the resource address and the lineage.
pub(crate) fn tag_map<'a>(request: &Request<'a>) -> Result<BTreeMap<&'a str, &'a str>, EngineError> {
    let mut tags = Attrs::of(request).tags()?;
    tags.entry(NAME_TAG).or_insert_with(|| berth_address(request.address));
    tags.insert(ADDRESS_TAG, request.address);
    tags.insert(LINEAGE_TAG, request.lineage);
    Ok(tags)
}

/// [`tag_map`] as EC2 tags.
pub(crate) fn creation_tags(request: &Request<'_>) -> Result<Vec<Tag>, EngineError> {
    Ok(tag_map(request)?.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect())
}

/// [`creation_tags`] as the tag specification of a creation call.
pub(crate) fn tag_spec(request: &Request<'_>, kind: ResourceType) -> Result<TagSpecification, EngineError> {
    Ok(TagSpecification::builder().resource_type(kind).set_tags(Some(creation_tags(request)?)).build())
}

/// The value of tag `key`.
pub(crate) fn tag<'t>(tags: &'t [Tag], key: &str) -> Option<&'t str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(Tag::value)
}

/// The observed tags in the form of the desired `tags` attribute: without berth's own tags, and
/// without a `Name` berth gave by default. An empty map when nothing is left, never absent: a
/// refresh compares only the attributes an object shows, so leaving `tags` out would hide every
/// tag deleted out of band (a spec's `Name` removed from an instance went unreported).
pub(crate) fn observed_tags(tags: &[Tag]) -> Value {
    observed_pairs(tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))))
}

/// [`observed_tags`] of tags given as key-value pairs (the other APIs' tags).
pub(crate) fn observed_pairs<'t>(tags: impl IntoIterator<Item = (&'t str, &'t str)> + Clone) -> Value {
    let default_name = tags.clone().into_iter().find(|(k, _)| *k == ADDRESS_TAG).map(|(_, v)| berth_address(v));
    let map: Map<String, Value> = tags
        .into_iter()
        .filter(|(k, v)| *k != ADDRESS_TAG && *k != LINEAGE_TAG && !(*k == NAME_TAG && Some(*v) == default_name))
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    Value::Object(map)
}

/// The keys of `have` (tags as observed, or as the object carries them) that `want` lacks:
/// the tags to remove. berth's own tags are never removed.
pub(crate) fn dropped_tags(have: Option<&Value>, want: &BTreeMap<&str, &str>) -> Vec<String> {
    have.and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
        .filter(|k| !want.contains_key(k.as_str()))
        .cloned()
        .collect()
}

/// Builds an attribute map, leaving out unset values.
#[derive(Default)]
pub(crate) struct Observed(Map<String, Value>);

impl Observed {
    /// Sets `name` if `value` is set.
    pub(crate) fn set(mut self, name: &str, value: Option<impl Into<Value>>) -> Self {
        if let Some(v) = value {
            self.0.insert(name.to_owned(), v.into());
        }
        self
    }

    /// The attributes.
    pub(crate) fn done(self) -> Map<String, Value> {
        self.0
    }
}

/// The desired attributes of `request` plus the outputs it does not set itself.
pub(crate) fn with_outputs(request: &Request<'_>, outputs: Map<String, Value>) -> Map<String, Value> {
    let mut attrs = request.attrs.clone();
    for (k, v) in outputs {
        attrs.entry(k).or_insert(v);
    }
    attrs
}

/// Sorted strings as a JSON list (sets such as security group ids compare in this form).
pub(crate) fn sorted(mut items: Vec<String>) -> Value {
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}

/// Longest idempotency token the creation calls take (RunInstances, CreateVolume,
/// CreateLaunchTemplate; EKS takes as long).
const TOKEN_MAX: usize = 64;

/// The request's idempotency token as the creation calls take it.
pub(crate) fn token<'a>(request: &Request<'a>) -> &'a str {
    request.token.get(..TOKEN_MAX).unwrap_or(request.token)
}

/// The error for an answer that lacks what the call returns (`instance id`).
pub(crate) fn missing(what: &str) -> EngineError {
    EngineError::permanent(format!("the API's answer has no {what}"))
}

/// Accepts an object that exists already under the name a creation asked for if it is the one
/// an earlier attempt of this creation made (a run that died before recording it): its tags
/// carry the request's address and lineage. Anything else is an error naming both.
pub(crate) fn ours(
    request: &Request<'_>,
    what: &str,
    address: Option<&str>,
    lineage: Option<&str>,
) -> Result<(), EngineError> {
    if address == Some(request.address) && lineage == Some(request.lineage) {
        return Ok(());
    }
    Err(EngineError::permanent(format!(
        "{what} exists already, but not as {} of this state (its {ADDRESS_TAG} tag is {}, its {LINEAGE_TAG} tag {}): \
         delete or rename it, or give the object another name in the spec",
        request.address,
        address.unwrap_or("absent"),
        lineage.unwrap_or("absent"),
    )))
}

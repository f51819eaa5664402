//! The objects a spec wants: what the targets' `resources` functions produce and the plan
//! compares with the state.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The key that marks a reference in a desired value: `{"$ref": ADDRESS, "attr": NAME}`.
const REF_KEY: &str = "$ref";

/// One object the spec wants, as its engine will create it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// `<berth address>:<kind>[.<part>]`, e.g. `host.dh000:aws_instance`.
    pub address: String,
    /// The engine that applies it: `aws`, `kubernetes`, `docker`.
    pub engine: String,
    /// The API's kind of object: `aws_instance`, `apps/v1/StatefulSet`, `docker_container`.
    pub kind: String,
    /// Desired attributes; values known only after apply are [`reference`]s.
    pub attrs: Map<String, Value>,
    /// Addresses of the resources it needs first: every one it refers to, and more.
    pub deps: Vec<String>,
    /// Attributes whose change replaces the object instead of updating it.
    pub replace_on: Vec<String>,
    /// The environment it belongs to, torn down with it by `berth gc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

impl Resource {
    /// A resource whose dependencies are the resources its attributes refer to.
    pub fn new(address: String, engine: &str, kind: &str, attrs: Map<String, Value>) -> Self {
        let mut deps = Vec::new();
        for value in attrs.values() {
            collect_references(value, &mut deps);
        }
        deps.sort();
        deps.dedup();
        Self {
            address,
            engine: engine.to_owned(),
            kind: kind.to_owned(),
            attrs,
            deps,
            replace_on: Vec::new(),
            environment: None,
        }
    }

    /// Sets the attributes whose change forces replacement.
    pub fn replace_on(mut self, attrs: &[&str]) -> Self {
        self.replace_on = attrs.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    /// Puts it in an environment.
    pub fn in_environment(mut self, environment: Option<String>) -> Self {
        self.environment = environment;
        self
    }

    /// Adds a dependency the attributes do not show.
    pub fn depends_on(mut self, address: &str) -> Self {
        if let Err(at) = self.deps.binary_search_by(|d| d.as_str().cmp(address)) {
            self.deps.insert(at, address.to_owned());
        }
        self
    }
}

/// A value known only after apply: attribute `attr` of the resource at `address`.
pub fn reference(address: &str, attr: &str) -> Value {
    let mut m = Map::with_capacity(2);
    m.insert(REF_KEY.into(), Value::String(address.into()));
    m.insert("attr".into(), Value::String(attr.into()));
    Value::Object(m)
}

/// The address and attribute a value refers to, if it is a [`reference`].
pub fn as_reference(value: &Value) -> Option<(&str, &str)> {
    let m = value.as_object()?;
    if m.len() != 2 {
        return None;
    }
    Some((m.get(REF_KEY)?.as_str()?, m.get("attr")?.as_str()?))
}

fn collect_references(value: &Value, out: &mut Vec<String>) {
    if let Some((address, _)) = as_reference(value) {
        out.push(address.to_owned());
        return;
    }
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, out)),
        Value::Object(m) => m.values().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

/// `value` with every reference replaced through `lookup`; `None` if one is not known yet.
pub fn resolve(value: &Value, lookup: &dyn Fn(&str, &str) -> Option<Value>) -> Option<Value> {
    if let Some((address, attr)) = as_reference(value) {
        return lookup(address, attr);
    }
    Some(match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, lookup)).collect::<Option<_>>()?),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| Some((k.clone(), resolve(v, lookup)?))).collect::<Option<_>>()?)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_become_dependencies_and_resolve() {
        let mut attrs = Map::new();
        attrs.insert("volume_id".into(), reference("v:aws_ebs_volume", "id"));
        attrs.insert("groups".into(), json!([reference("g:aws_security_group", "id"), "sg-1"]));
        let r = Resource::new("a:aws_volume_attachment".into(), "aws", "aws_volume_attachment", attrs)
            .depends_on("z:other")
            .depends_on("g:aws_security_group");
        assert_eq!(r.deps, ["g:aws_security_group", "v:aws_ebs_volume", "z:other"]);

        let lookup =
            |address: &str, attr: &str| (address == "g:aws_security_group" && attr == "id").then(|| json!("sg-9"));
        assert_eq!(resolve(&r.attrs["groups"], &lookup), Some(json!(["sg-9", "sg-1"])));
        assert_eq!(resolve(&r.attrs["volume_id"], &lookup), None);
        assert_eq!(as_reference(&json!({"$ref": "a", "attr": "b", "x": 1})), None);
    }
}

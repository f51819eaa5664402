//! The plan: the difference between the objects a spec wants and the recorded state, per
//! resource address.

use crate::resource::{Resource, as_reference, resolve};
use crate::state::State;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The plan format this berth writes and reads.
pub const PLAN_FORMAT: u32 = 1;

/// What apply will do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// It does not exist yet.
    Create,
    /// It exists and changes in place.
    Update,
    /// It exists and is deleted, then created again, because an attribute forces it.
    Replace,
    /// It exists and the spec no longer has it.
    Delete,
    /// It exists as the spec wants it.
    NoOp,
}

impl Action {
    /// Every action, in the order summaries list them.
    pub const ALL: [Action; 5] = [Action::Create, Action::Update, Action::Replace, Action::Delete, Action::NoOp];

    /// The action's name in summaries and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
        }
    }
}

/// The planned change of one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Resource address.
    pub address: String,
    /// Its engine.
    pub engine: String,
    /// Its kind.
    pub kind: String,
    /// What happens to it.
    pub action: Action,
    /// The recorded attributes (absent for a creation and a no-op).
    pub before: Option<Map<String, Value>>,
    /// The desired attributes, with references to objects not created yet left as references
    /// (absent for a deletion and a no-op).
    pub after: Option<Map<String, Value>>,
    /// The attributes that differ between `before` and `after`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// For a replacement: the changed attributes that force it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_because: Vec<String>,
    /// The addresses it needs first (for a deletion: the ones recorded, deleted after it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<String>,
}

/// A plan: every change, made against one snapshot of one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_FORMAT`] when written.
    pub format_version: u32,
    /// The lineage of the state it was made against.
    pub lineage: String,
    /// The serial of that state: a saved plan applies only to that snapshot.
    pub serial: u64,
    /// The spec it was made from, as given on the command line (empty when unknown).
    #[serde(default)]
    pub spec: String,
    /// A digest of the desired objects ([`spec_digest`]), to tell plans of different specs
    /// apart; set where a plan is saved or printed as JSON, empty otherwise.
    #[serde(default)]
    pub spec_digest: String,
    /// One change per address, no-ops included, in address order.
    pub resource_changes: Vec<Change>,
}

impl Plan {
    /// The changes that do something.
    pub fn actions(&self) -> impl Iterator<Item = &Change> {
        self.resource_changes.iter().filter(|c| c.action != Action::NoOp)
    }

    /// True if applying the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.actions().next().is_none()
    }

    /// The number of changes of each action.
    pub fn counts(&self) -> BTreeMap<Action, usize> {
        let mut counts = BTreeMap::new();
        for c in &self.resource_changes {
            *counts.entry(c.action).or_insert(0) += 1;
        }
        counts
    }

    /// The plan as a saved plan file or `--json` document.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a plan always serializes");
        out.push(b'\n');
        out
    }

    /// Reads a saved plan, refusing one of another format.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let plan: Plan = serde_json::from_slice(bytes).map_err(|e| format!("the file is not a berth plan: {e}"))?;
        if plan.format_version != PLAN_FORMAT {
            return Err(format!(
                "the plan has format version {}, this berth reads {PLAN_FORMAT}; make the plan again with this berth",
                plan.format_version
            ));
        }
        Ok(plan)
    }
}

/// Plans the way from `state` to `desired`. Desired objects must have unique addresses and
/// acyclic dependencies (the graph stage guarantees both). The plan's `spec_digest` is left
/// empty: hashing every desired object is a third of a fleet plan's time, and only a saved or
/// JSON plan needs it.
pub fn diff(desired: &[Resource], state: &State) -> Plan {
    let by_address: FxHashMap<&str, &Resource> = desired.iter().map(|r| (r.address.as_str(), r)).collect();
    let mut planned: FxHashMap<&str, Planned> =
        FxHashMap::with_capacity_and_hasher(desired.len(), rustc_hash::FxBuildHasher);
    let mut changes = Vec::with_capacity(desired.len() + 8);
    for r in desired {
        plan_one(r, &by_address, state, &mut planned);
    }
    for r in desired {
        let p = planned.remove(r.address.as_str()).expect("every resource is planned");
        let recorded = state.resources.get(&r.address);
        changes.push(Change {
            address: r.address.clone(),
            engine: r.engine.clone(),
            kind: r.kind.clone(),
            action: p.action,
            // An unchanged object carries no attributes: at fleet scale they would be most of
            // the plan, twice over.
            before: recorded.filter(|_| p.action != Action::NoOp).map(|rec| rec.attrs.clone()),
            after: (p.action != Action::NoOp).then_some(p.after),
            changed: p.changed,
            replace_because: p.replace_because,
            deps: r.deps.clone(),
        });
    }
    for (address, rec) in &state.resources {
        if !by_address.contains_key(address.as_str()) {
            changes.push(Change {
                address: address.clone(),
                engine: rec.engine.clone(),
                kind: rec.kind.clone(),
                action: Action::Delete,
                before: Some(rec.attrs.clone()),
                after: None,
                changed: Vec::new(),
                replace_because: Vec::new(),
                deps: rec.deps.clone(),
            });
        }
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    Plan {
        format_version: crate::diff::PLAN_FORMAT,
        lineage: state.lineage.clone(),
        serial: state.serial,
        spec: String::new(),
        spec_digest: String::new(),
        resource_changes: changes,
    }
}

/// A digest of the desired objects, independent of their order: what a saved plan records of
/// its spec.
pub fn spec_digest(desired: &[Resource]) -> String {
    use sha2::Digest;
    let mut sorted: Vec<&Resource> = desired.iter().collect();
    sorted.sort_by(|a, b| a.address.cmp(&b.address));
    // Hashed as it is written: at fleet scale the JSON would be a hundred megabytes.
    let mut hasher = sha2::Sha256::new();
    serde_json::to_writer(&mut hasher, &sorted).expect("resources always serialize");
    hex::encode(hasher.finalize())
}

struct Planned {
    action: Action,
    after: Map<String, Value>,
    changed: Vec<String>,
    replace_because: Vec<String>,
}

/// Plans one resource after its dependencies, so that a reference to an object that keeps its
/// id resolves to the recorded value and one to an object being created stays unknown.
fn plan_one<'a>(
    r: &'a Resource,
    by_address: &FxHashMap<&str, &'a Resource>,
    state: &State,
    planned: &mut FxHashMap<&'a str, Planned>,
) {
    let mut stack = vec![(r, false)];
    while let Some((r, deps_done)) = stack.pop() {
        if planned.contains_key(r.address.as_str()) {
            continue;
        }
        if !deps_done {
            stack.push((r, true));
            for d in &r.deps {
                if let Some(dep) = by_address.get(d.as_str())
                    && !planned.contains_key(d.as_str())
                {
                    stack.push((dep, false));
                }
            }
            continue;
        }
        let known = |address: &str, attr: &str| -> Option<Value> {
            let rec = state.resources.get(address)?;
            match planned.get(address) {
                Some(p) if p.action == Action::Create || p.action == Action::Replace => None,
                Some(p) if p.changed.iter().any(|c| c == attr) => None,
                _ => rec.value(attr),
            }
        };
        let mut changed = Vec::new();
        let recorded = state.resources.get(&r.address);
        if let Some(rec) = recorded {
            for (name, value) in &r.attrs {
                if !rec.attrs.get(name).is_some_and(|old| same_resolved(value, old, &known)) {
                    changed.push(name.clone());
                }
            }
        }
        let action = match recorded {
            None => Action::Create,
            Some(rec) => {
                changed.extend(rec.attrs.keys().filter(|k| !r.attrs.contains_key(*k)).cloned());
                changed.sort();
                if rec.kind != r.kind {
                    Action::Replace
                } else if changed.is_empty() {
                    Action::NoOp
                } else if changed.iter().any(|c| r.replace_on.contains(c)) {
                    Action::Replace
                } else {
                    Action::Update
                }
            }
        };
        // Most objects of an unchanged fleet are no-ops, which carry no attributes.
        let after = if action == Action::NoOp {
            Map::new()
        } else {
            r.attrs
                .iter()
                .map(|(name, value)| (name.clone(), resolve(value, &known).unwrap_or_else(|| value.clone())))
                .collect()
        };
        let replace_because = if action == Action::Replace {
            changed.iter().filter(|c| r.replace_on.contains(c)).cloned().collect()
        } else {
            Vec::new()
        };
        planned.insert(&r.address, Planned { action, after, changed, replace_because });
    }
}

/// True if `value` with its references resolved through `lookup` equals `recorded`; what
/// `resolve(value) == Some(recorded)` says, without copying the value.
fn same_resolved(value: &Value, recorded: &Value, lookup: &dyn Fn(&str, &str) -> Option<Value>) -> bool {
    if let Some((address, attr)) = as_reference(value) {
        return lookup(address, attr).as_ref() == Some(recorded);
    }
    match (value, recorded) {
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| same_resolved(v, w, lookup))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same_resolved(v, w, lookup)))
        }
        _ => value == recorded,
    }
}

/// True if a value still holds a reference to an object not created yet.
pub fn is_unknown(value: &Value) -> bool {
    if as_reference(value).is_some() {
        return true;
    }
    match value {
        Value::Array(items) => items.iter().any(is_unknown),
        Value::Object(m) => m.values().any(is_unknown),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::reference;
    use crate::state::Recorded;
    use serde_json::json;

    fn attrs(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn record(state: &mut State, r: &Resource, id: &str) {
        let lookup = |address: &str, attr: &str| state.resources.get(address).and_then(|rec| rec.value(attr));
        let resolved: Map<String, Value> =
            r.attrs.iter().map(|(k, v)| (k.clone(), resolve(v, &lookup).unwrap())).collect();
        state.resources.insert(
            r.address.clone(),
            Recorded {
                engine: r.engine.clone(),
                kind: r.kind.clone(),
                id: id.into(),
                attrs: resolved,
                outputs: Map::new(),
                deps: r.deps.clone(),
            },
        );
    }

    fn fleet(ami: &str, size: u64) -> Vec<Resource> {
        vec![
            Resource::new("h:aws_instance".into(), "aws", "aws_instance", attrs(json!({"ami": ami, "type": "x1"})))
                .replace_on(&["ami"]),
            Resource::new(
                "h.v:aws_volume_attachment".into(),
                "aws",
                "aws_volume_attachment",
                attrs(json!({"instance_id": reference("h:aws_instance", "id"), "size": size})),
            )
            .replace_on(&["instance_id"]),
        ]
    }

    #[test]
    fn plans_creation_no_op_update_replacement_and_deletion() {
        let mut state = State::new("l".into());
        let first = diff(&fleet("a", 1), &state);
        assert_eq!(first.counts(), BTreeMap::from([(Action::Create, 2)]));
        assert_eq!(first.resource_changes[0].after.as_ref().unwrap()["instance_id"], reference("h:aws_instance", "id"));

        for (r, id) in fleet("a", 1).iter().zip(["i-1", "vai-1"]) {
            record(&mut state, r, id);
        }
        assert!(diff(&fleet("a", 1), &state).is_empty());

        let update = diff(&fleet("a", 2), &state);
        let change = update.actions().next().unwrap();
        assert_eq!((change.address.as_str(), change.action), ("h.v:aws_volume_attachment", Action::Update));
        assert_eq!(change.changed, ["size"]);

        // A replaced instance gets a new id, which replaces what refers to it.
        let replace = diff(&fleet("b", 1), &state);
        let actions: Vec<_> =
            replace.actions().map(|c| (c.address.as_str(), c.action, c.replace_because.clone())).collect();
        assert_eq!(
            actions,
            [
                ("h.v:aws_volume_attachment", Action::Replace, vec!["instance_id".to_owned()]),
                ("h:aws_instance", Action::Replace, vec!["ami".to_owned()]),
            ]
        );

        let gone = diff(&fleet("a", 1)[..1], &state);
        let change = gone.actions().next().unwrap();
        assert_eq!((change.address.as_str(), change.action), ("h.v:aws_volume_attachment", Action::Delete));
        assert_eq!(change.deps, ["h:aws_instance"]);
    }

    #[test]
    fn saved_plans_round_trip_and_digests_ignore_order() {
        let state = State::new("l".into());
        let mut desired = fleet("a", 1);
        let mut plan = diff(&desired, &state);
        plan.spec_digest = spec_digest(&desired);
        assert_eq!(Plan::parse(&plan.to_json()).unwrap(), plan);
        desired.reverse();
        assert_eq!(spec_digest(&desired), plan.spec_digest);
        assert_ne!(spec_digest(&fleet("a", 2)), plan.spec_digest);
        let mut other = plan.clone();
        other.format_version = 7;
        assert!(Plan::parse(&other.to_json()).unwrap_err().contains("format version 7"));
    }
}

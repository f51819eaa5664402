//! The shape of an object as berth applied it: what `read` reports, so that a plan after an
//! apply is clean and a change by someone else shows as drift.
//!
//! A live object carries far more than berth sent (defaults, status, other managers' fields).
//! Its `metadata.managedFields` entry of field manager `berth` (operation `Apply`) lists
//! exactly the fields berth set, in the `fieldsV1` notation (`f:name`, list items as
//! `k:{keys}` or `v:value`); [`project`] keeps those fields of the live object and nothing
//! else, then drops the labels and annotations the engine adds itself.
//!
//! Secret data never leaves the engine in clear: every value of a Secret's `data` is reported
//! as a placeholder `{"$secret": DIGEST}`: the placeholder berth applied if the value is still
//! the one it applied (the engine records both in [`SECRET_ANNOTATION`]), else the SHA-256 of
//! the value, which differs from any desired placeholder and so shows as drift.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use berth_plan::hex_sha256;
use serde_json::{Map, Value, json};

/// The field manager of every apply.
pub(crate) const MANAGER: &str = "berth";

/// The label that marks an object berth manages.
pub(crate) const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// The label with the state lineage of the object.
pub(crate) const LINEAGE_LABEL: &str = "berth.dev/lineage";

/// The annotation with the object's resource address, which `find` reports.
pub(crate) const RESOURCE_ANNOTATION: &str = "berth.dev/resource";

/// The annotation that maps each Secret data key to `"<placeholder> <sha256 of the value>"`.
pub(crate) const SECRET_ANNOTATION: &str = "berth.dev/secret-data";

/// The key of a secret placeholder.
pub(crate) const SECRET_KEY: &str = "$secret";

/// The placeholder digest of a Secret data value, if the value is a placeholder.
pub(crate) fn placeholder(value: &Value) -> Option<&str> {
    let m = value.as_object()?;
    if m.len() != 1 {
        return None;
    }
    m.get(SECRET_KEY)?.as_str()
}

/// The live object as berth applied it: its `apiVersion`, `kind`, name and namespace, the
/// fields berth's apply owns, without the engine's own labels and annotations, and with
/// Secret data as placeholders.
pub(crate) fn project(live: &Value, api_version: &str, kind: &str) -> Value {
    let mut owned: Map<String, Value> = Map::new();
    for entry in live["metadata"]["managedFields"].as_array().into_iter().flatten() {
        let ours = entry["manager"] == MANAGER
            && entry["operation"] == "Apply"
            && entry.get("subresource").is_none_or(|s| s.as_str().is_none_or(str::is_empty));
        if let (true, Some(fields)) = (ours, entry["fieldsV1"].as_object()) {
            merge_fields(&mut owned, fields);
        }
    }
    let mut out = match pick(live, &owned) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!(kind));
    let meta = out.entry("metadata").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        for key in ["namespace", "name"] {
            if let Some(v) = live["metadata"].get(key) {
                meta.insert(key.into(), v.clone());
            }
        }
    }
    let recorded = live["metadata"]["annotations"][SECRET_ANNOTATION].as_str().unwrap_or_default();
    strip(&mut out, "labels", &[MANAGED_BY_LABEL, LINEAGE_LABEL]);
    strip(&mut out, "annotations", &[RESOURCE_ANNOTATION, SECRET_ANNOTATION]);
    if api_version == "v1" && kind == "Secret" {
        let recorded: Map<String, Value> = serde_json::from_str(recorded).unwrap_or_default();
        if let Some(Value::Object(data)) = out.get_mut("data") {
            for (key, value) in data.iter_mut() {
                let bytes = value.as_str().and_then(|v| STANDARD.decode(v).ok()).unwrap_or_default();
                let digest = hex_sha256(&bytes);
                let applied = recorded.get(key).and_then(Value::as_str).and_then(|r| r.split_once(' '));
                *value = match applied {
                    Some((placeholder, sha)) if sha == digest => json!({ SECRET_KEY: placeholder }),
                    _ => json!({ SECRET_KEY: digest }),
                };
            }
        }
    }
    Value::Object(out)
}

/// Adds the field set `from` to `into`.
fn merge_fields(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        let slot = into.entry(k.clone()).or_insert_with(|| json!({}));
        if let (Some(slot), Some(v)) = (slot.as_object_mut(), v.as_object()) {
            merge_fields(slot, v);
        }
    }
}

/// The parts of `value` that the field set `fields` names; `None` if none of them exist.
fn pick(value: &Value, fields: &Map<String, Value>) -> Option<Value> {
    if fields.keys().all(|k| k == ".") {
        return Some(value.clone());
    }
    match value {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, sub) in fields {
                let Some(name) = k.strip_prefix("f:") else { continue };
                let (Some(v), Some(sub)) = (m.get(name), sub.as_object()) else { continue };
                if let Some(picked) = pick(v, sub) {
                    out.insert(name.to_owned(), picked);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => {
            let picked: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let sub = fields.iter().find(|(k, _)| names_item(k, i, item))?.1.as_object()?;
                    pick(item, sub)
                })
                .collect();
            Some(Value::Array(picked))
        }
        _ => None,
    }
}

/// True if the `fieldsV1` list element `key` (`k:{…}`, `v:…`, `i:N`) names `item` at `index`.
fn names_item(key: &str, index: usize, item: &Value) -> bool {
    if let Some(keys) = key.strip_prefix("k:") {
        let Ok(Value::Object(keys)) = serde_json::from_str::<Value>(keys) else { return false };
        // A key field the server defaulted (a port's `protocol`) may be absent from the item.
        return keys.iter().all(|(k, v)| item.get(k).is_none_or(|iv| iv == v))
            && keys.keys().any(|k| item.get(k).is_some());
    }
    if let Some(v) = key.strip_prefix("v:") {
        return serde_json::from_str::<Value>(v).is_ok_and(|v| v == *item);
    }
    key.strip_prefix("i:").and_then(|i| i.parse::<usize>().ok()) == Some(index)
}

/// Removes `keys` from `metadata.<map>`, and the map if that empties it.
fn strip(object: &mut Map<String, Value>, map: &str, keys: &[&str]) {
    let Some(Value::Object(meta)) = object.get_mut("metadata") else { return };
    let Some(Value::Object(m)) = meta.get_mut(map) else { return };
    let before = m.len();
    for k in keys {
        m.remove(*k);
    }
    if m.is_empty() && before > 0 {
        meta.remove(map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_what_berth_applied() {
        let live = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {
                "name": "db", "namespace": "data", "uid": "u", "resourceVersion": "7",
                "labels": {"app": "db", MANAGED_BY_LABEL: "berth", LINEAGE_LABEL: "l", "other": "x"},
                "annotations": {RESOURCE_ANNOTATION: "c:v1/Service/data/db"},
                "managedFields": [
                    {"manager": "berth", "operation": "Apply", "fieldsV1": {
                        "f:metadata": {"f:labels": {"f:app": {}, format!("f:{MANAGED_BY_LABEL}"): {}, format!("f:{LINEAGE_LABEL}"): {}},
                                       "f:annotations": {format!("f:{RESOURCE_ANNOTATION}"): {}}},
                        "f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}, "f:port": {}}},
                                   "f:selector": {}}}},
                    {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:metadata": {"f:labels": {"f:other": {}}}}}
                ]
            },
            "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.1", "selector": {"app": "db"},
                     "ports": [{"name": "web", "port": 80, "protocol": "TCP", "targetPort": 80}, {"name": "x", "port": 81}]},
            "status": {}
        });
        assert_eq!(
            project(&live, "v1", "Service"),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "db", "namespace": "data", "labels": {"app": "db"}},
                   "spec": {"selector": {"app": "db"}, "ports": [{"name": "web", "port": 80}]}})
        );
    }

    #[test]
    fn secret_data_becomes_placeholders() {
        let value = STANDARD.encode(b"key");
        let recorded = json!({"tls.key": format!("p1 {}", hex_sha256(b"key")), "tls.crt": "p2 0000"}).to_string();
        let live = json!({
            "metadata": {"name": "s", "namespace": "n", "annotations": {SECRET_ANNOTATION: recorded},
                         "managedFields": [{"manager": "berth", "operation": "Apply", "fieldsV1": {
                             "f:data": {"f:tls.key": {}, "f:tls.crt": {}},
                             "f:metadata": {"f:annotations": {format!("f:{SECRET_ANNOTATION}"): {}}}}}]},
            "data": {"tls.key": value, "tls.crt": STANDARD.encode(b"changed")}
        });
        let p = project(&live, "v1", "Secret");
        assert_eq!(p["data"]["tls.key"], json!({"$secret": "p1"}));
        assert_eq!(p["data"]["tls.crt"], json!({"$secret": hex_sha256(b"changed")}));
        assert!(p["metadata"].get("annotations").is_none());
        assert!(!p.to_string().contains(&value));
    }
}

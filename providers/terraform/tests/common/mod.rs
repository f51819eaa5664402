//! Helpers shared by the Terraform target's tests.

#![allow(dead_code, reason = "each test crate uses part of the helpers")]
#![allow(clippy::disallowed_methods, reason = "tests read the examples")]

use berth_terraform::TerraformEmitter;
use std::collections::BTreeMap;

/// The small cloud spec of `tests/specs/cloud`, relative to the workspace root.
pub const CLOUD: &str = "providers/terraform/tests/specs/cloud";

/// The Terraform files of a spec (HCL and JSON), by path relative to the target directory.
pub fn emit(spec: &str, var_files: &[&str]) -> BTreeMap<String, String> {
    let (tree, diags) = berth_tests::emit(&TerraformEmitter { json: true }, spec, var_files);
    assert!(diags.is_empty(), "{spec}: {diags:?}");
    tree.iter()
        .map(|(path, file)| (path.to_string(), String::from_utf8(file.contents.clone()).expect("UTF-8 output")))
        .collect()
}

/// The cloud spec with the hosts of one of its variable files (`hosts-3`, `hosts-4`).
pub fn cloud(hosts: &str) -> BTreeMap<String, String> {
    emit(CLOUD, &[&format!("{CLOUD}/{hosts}.json")])
}

/// Every example with the variable files of its `golden-args`: (spec, var files).
pub fn examples() -> Vec<(String, Vec<String>)> {
    let root = berth_tests::root();
    let mut names: Vec<String> = std::fs::read_dir(root.join("examples"))
        .expect("examples/")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let args =
                std::fs::read_to_string(root.join("examples").join(&name).join("golden-args")).unwrap_or_default();
            let words: Vec<&str> = args.split_whitespace().collect();
            let var_files = words.windows(2).filter(|w| w[0] == "--var-file").map(|w| w[1].to_string()).collect();
            (format!("examples/{name}"), var_files)
        })
        .collect()
}

/// The merged JSON documents of `json/*.tf.json`: block type → labels → body.
pub fn json_config(files: &BTreeMap<String, String>) -> serde_json::Map<String, serde_json::Value> {
    let mut all = serde_json::Map::new();
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".tf.json")) {
        let doc: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{path}: {e}"));
        merge(&mut all, doc.as_object().expect("an object").clone());
    }
    all
}

/// Merges nested objects (files of one module declare disjoint blocks).
fn merge(into: &mut serde_json::Map<String, serde_json::Value>, from: serde_json::Map<String, serde_json::Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(serde_json::Value::Object(a)), serde_json::Value::Object(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

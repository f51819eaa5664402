//! The objects `berth apply` sends are the chart's objects: the same manifests, one resource
//! each, namespaces first, and no certificate bytes in them.

use berth_helm::{HelmEmitter, SECRET_KEY};
use berth_model::{EmitInput, Emitter};
use berth_tests::FIXED_NOW_UNIX;
use serde_json::Value;

const BASIC: &str = "providers/helm/tests/specs/basic";

#[test]
fn resources_are_the_charts_objects() {
    let (model, graph) = berth_tests::compile(BASIC, &[]);
    let input = EmitInput { model: &model, graph: &graph };
    let (tree, _) = HelmEmitter { now_unix: FIXED_NOW_UNIX, threads: 0 }.emit(input);
    let resources = berth_helm::resources(input, FIXED_NOW_UNIX);
    let mut chart_objects: Vec<Value> = Vec::new();
    for (path, file) in tree.iter() {
        if path.contains("/templates/") {
            let text = std::str::from_utf8(&file.contents).unwrap();
            chart_objects.extend(text.split("\n---\n").map(|d| serde_norway::from_str::<Value>(d).unwrap()));
        }
    }
    assert_eq!(resources.len(), chart_objects.len());
    for r in &resources {
        assert_eq!(r.engine, "kubernetes");
        let m = &r.attrs["manifest"];
        assert_eq!(r.kind, format!("{}/{}", m["apiVersion"].as_str().unwrap(), m["kind"].as_str().unwrap()));
        let cluster = r.address.split_once(':').unwrap().0;
        assert_eq!(r.attrs["cluster"], cluster.trim_start_matches("cluster."));
        let twin = chart_objects
            .iter()
            .find(|o| o["kind"] == m["kind"] && o["metadata"] == m["metadata"])
            .unwrap_or_else(|| panic!("{} is not in the chart", r.address));
        if m["kind"] == "Secret" {
            for (key, value) in m["data"].as_object().unwrap() {
                assert!(value[SECRET_KEY].as_str().is_some_and(|d| d.len() == 64), "{key}: {value}");
                assert!(twin["data"][key].as_str().unwrap().contains("{{"), "the chart reads it from values");
            }
        } else {
            assert_eq!(m, twin, "{}", r.address);
        }
        if let Some(ns) = m["metadata"]["namespace"].as_str() {
            assert!(r.deps.contains(&format!("{cluster}:v1/Namespace/{ns}")), "{}: {:?}", r.address, r.deps);
        }
    }
    let addresses: Vec<&str> = resources.iter().map(|r| r.address.as_str()).collect();
    assert!(addresses.contains(&"cluster.a:apps/v1/StatefulSet/data/db"), "{addresses:?}");
    assert!(addresses.contains(&"cluster.b:v1/Namespace/web"), "{addresses:?}");
    assert!(!serde_json::to_string(&resources).unwrap().contains("BEGIN"));

    let (secrets, diags) = berth_helm::secret_data(input, FIXED_NOW_UNIX);
    assert!(!diags.has_errors());
    let placeholders: Vec<&str> = resources
        .iter()
        .filter(|r| r.kind == "v1/Secret")
        .flat_map(|r| r.attrs["manifest"]["data"].as_object().unwrap().values())
        .map(|v| v[SECRET_KEY].as_str().unwrap())
        .collect();
    assert!(!placeholders.is_empty());
    assert!(placeholders.iter().all(|p| secrets.get(*p).is_some_and(|b| b.starts_with(b"-----BEGIN"))));
}

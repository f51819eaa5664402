//! The objects `berth apply` creates directly against the Terraform configuration of the same
//! spec: one object per Terraform resource, of the same kind, name, tags and region, with
//! references where Terraform has them; and the refusal of clusters without IAM roles.

mod common;

use berth_model::EmitInput;
use berth_plan::{Resource, as_reference};
use common::{CLOUD, examples, json_config};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The kinds the cloud spec and the examples render.
const KINDS: &[&str] = &[
    "aws_instance",
    "aws_ebs_volume",
    "aws_volume_attachment",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_eks_cluster",
    "aws_eks_addon",
    "aws_launch_template",
    "aws_eks_node_group",
    "aws_lb",
    "aws_lb_target_group",
    "aws_lb_listener",
];

fn resources_of(spec: &str, var_files: &[&str]) -> Vec<Resource> {
    let (model, graph) = berth_tests::compile(spec, var_files);
    berth_terraform::resources(EmitInput { model: &model, graph: &graph })
}

fn terraform_of(spec: &str, var_files: &[&str]) -> Map<String, Value> {
    json_config(&common::emit(spec, var_files))
}

/// The region of a Terraform block: its provider alias, else the configuration's default.
fn region(config: &Map<String, Value>, block: &Value) -> String {
    match block.get("provider").and_then(Value::as_str) {
        Some(alias) => alias.trim_start_matches("aws.").replace('_', "-"),
        None => config["variable"]["region"]["default"].as_str().expect("a default region").to_owned(),
    }
}

/// What identifies an object in both: its kind, its berth address (the Terraform tag, the
/// resource address before the kind) and its name or description.
type Key = (String, String, String);

fn key_of_terraform(kind: &str, block: &Value) -> Option<Key> {
    let tags = block.get("tags");
    let address = tags.and_then(|t| t["berth:address"].as_str());
    let name = tags.and_then(|t| t["Name"].as_str()).or_else(|| block.get("description")?.as_str());
    Some((kind.to_owned(), address.unwrap_or_default().to_owned(), name?.to_owned()))
}

fn key_of_resource(r: &Resource) -> Option<Key> {
    let address = r.address.split_once(':').map(|(a, _)| a).unwrap_or_default();
    let name = r.attrs.get("tags").and_then(|t| t["Name"].as_str()).or_else(|| r.attrs.get("description")?.as_str());
    let tagged = r.attrs.contains_key("tags");
    Some((r.kind.clone(), if tagged { address.to_owned() } else { String::new() }, name?.to_owned()))
}

#[test]
fn every_terraform_resource_is_an_object_of_the_same_kind_name_tags_and_region() {
    let mut specs: Vec<(String, Vec<String>)> = vec![(CLOUD.to_owned(), vec![format!("{CLOUD}/hosts-3.json")])];
    specs.extend(examples());
    for (spec, var_files) in &specs {
        let var_files: Vec<&str> = var_files.iter().map(String::as_str).collect();
        let config = terraform_of(spec, &var_files);
        let resources = resources_of(spec, &var_files);
        let blocks = config.get("resource").and_then(Value::as_object).cloned().unwrap_or_default();
        for (kind, named) in &blocks {
            assert!(KINDS.contains(&kind.as_str()), "{spec}: {kind} is not applied directly");
            let named = named.as_object().expect("named blocks");
            let ours: Vec<&Resource> = resources.iter().filter(|r| r.kind == *kind).collect();
            assert_eq!(ours.len(), named.len(), "{spec}: {kind}: as many objects as Terraform resources");
            let by_key: BTreeMap<Key, &Resource> =
                ours.iter().filter_map(|r| Some((key_of_resource(r)?, *r))).collect();
            for (name, block) in named {
                let Some(key) = key_of_terraform(kind, block) else {
                    assert_eq!(kind, "aws_volume_attachment", "{spec}: {kind}.{name} has neither tags nor description");
                    continue;
                };
                let r = by_key.get(&key).unwrap_or_else(|| panic!("{spec}: no object for {kind}.{name} ({key:?})"));
                assert_eq!(r.attrs["region"], region(&config, block), "{spec}: {kind}.{name}: region");
                for attr in ["name", "node_group_name", "port", "protocol", "internal", "load_balancer_type", "version"]
                {
                    if let (Some(want), Some(have)) = (block.get(attr), r.attrs.get(attr)) {
                        assert_eq!(have, want, "{spec}: {kind}.{name}: {attr}");
                    }
                }
                let tags: Option<Map<String, Value>> = block["tags"].as_object().map(|t| {
                    t.iter().filter(|(k, _)| *k != "berth:address").map(|(k, v)| (k.clone(), v.clone())).collect()
                });
                if let Some(tags) = tags {
                    assert_eq!(r.attrs["tags"], Value::Object(tags), "{spec}: {kind}.{name}: tags");
                }
            }
        }
        assert_eq!(resources.len(), blocks.values().map(|b| b.as_object().map_or(0, Map::len)).sum::<usize>());
    }
}

/// The attribute `attr` of `r` refers to `attribute` of an object of kind `kind`.
fn refers(r: &Resource, path: &[&str], kind: &str, attribute: &str) -> bool {
    let mut value = &r.attrs[path[0]];
    for p in &path[1..] {
        value = &value[*p];
    }
    as_reference(value).is_some_and(|(address, attr)| address.ends_with(&format!(":{kind}")) && attr == attribute)
}

#[test]
fn values_known_after_apply_are_references() {
    let resources = resources_of(CLOUD, &[&format!("{CLOUD}/hosts-3.json")]);
    let of = |kind: &'static str| resources.iter().filter(move |r| r.kind == kind);
    for g in of("aws_lb_target_group") {
        assert!(refers(g, &["vpc_id"], "aws_eks_cluster", "vpc_id"), "{}", g.address);
        assert!(g.deps.iter().any(|d| d.ends_with(":aws_eks_cluster")), "{}", g.address);
    }
    for l in of("aws_lb_listener") {
        assert!(refers(l, &["load_balancer_arn"], "aws_lb", "arn"), "{}", l.address);
        assert!(refers(l, &["default_action", "target_group_arn"], "aws_lb_target_group", "arn"), "{}", l.address);
    }
    let cluster_rules: Vec<&Resource> = of("aws_security_group_rule")
        .filter(|r| refers(r, &["security_group_id"], "aws_eks_cluster", "cluster_security_group_id"))
        .collect();
    assert_eq!(cluster_rules.len(), of("aws_lb_listener").count(), "one rule on the cluster's group per listener");
    for g in of("aws_eks_node_group") {
        assert!(refers(g, &["cluster_name"], "aws_eks_cluster", "name"), "{}", g.address);
        if g.attrs.contains_key("launch_template") {
            assert!(refers(g, &["launch_template", "id"], "aws_launch_template", "id"), "{}", g.address);
            assert!(refers(g, &["launch_template", "version"], "aws_launch_template", "latest_version"));
        }
    }
    let dense = of("aws_eks_node_group").find(|g| g.address.contains("dense")).expect("the dense pool");
    assert!(dense.deps.iter().any(|d| d.ends_with(":aws_eks_addon")), "prefix delegation needs the VPC CNI first");
    assert_eq!(
        dense.attrs["launch_template"]["id"],
        berth_plan::reference("cluster.east.node_pool.dense:aws_launch_template", "id")
    );
    let system = of("aws_eks_node_group").find(|g| g.address.contains("system")).expect("the system pool");
    assert_eq!(
        system.attrs["taints"],
        serde_json::json!([{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}])
    );
    let west = of("aws_eks_cluster").find(|c| c.address.starts_with("cluster.west")).expect("west");
    assert_eq!(west.attrs["role_arn"], "arn:aws:iam::123456789012:role/west-eks");
    assert!(west.replace_on.contains(&"role_arn".to_owned()) && !west.replace_on.contains(&"version".to_owned()));
}

#[test]
fn clusters_without_iam_roles_are_refused_with_what_to_set() {
    let (model, graph) = berth_tests::compile(CLOUD, &[&format!("{CLOUD}/hosts-3.json")]);
    let diags = berth_terraform::apply_diagnostics(EmitInput { model: &model, graph: &graph });
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "east sets neither role, west both: {messages:#?}");
    assert!(diags.iter().all(|d| d.is_error() && d.code.name == "apply::iam-role" && d.span.is_some()));
    assert!(messages[0].contains("cluster east sets no `role_arn`"), "{}", messages[0]);
    assert!(messages[1].contains("`node_role_arn`"), "{}", messages[1]);
    let help = diags.iter().next().and_then(|d| d.help.as_deref()).unwrap_or_default();
    assert!(help.contains("set `role_arn`"), "{help}");
}

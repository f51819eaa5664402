//! The same cloud objects as the configuration, as the objects berth applies directly: one
//! [`Resource`] per Terraform resource, with the same names, tags and dependencies.

use super::{Plan, SECURITY_GROUP_NAME_MAX, sorted_by};
use crate::names::{aws_name, tag_address};
use berth_model::Model;
use berth_plan::{Resource, reference};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The engine of every resource here.
const ENGINE: &str = "aws";

/// The AWS objects of the model's hosts: per host its security group and egress rule (when
/// forwards reach it), its instance, and per volume the volume and its attachment; per forward
/// to a container the ingress rule on its host's group. Clusters and load balancers are not
/// yet applied directly (the Terraform configuration covers them).
pub(crate) fn resources(model: &Model) -> Vec<Resource> {
    let plan = Plan::new(model);
    let environment = |meta: &berth_model::Meta| meta.environment.map(|e| model.environments[e].meta.name.clone());
    let mut out = Vec::with_capacity(model.hosts.len() * 5 + plan.host_forwards.len());
    for i in sorted_by(plan.hosts.len(), |i| &plan.hosts[i].name) {
        let (host, hp) = (&model.hosts[i], &plan.hosts[i]);
        let first = out.len();
        let base = tag_address(&host.meta.address);
        let region = Value::String(hp.region.clone());
        let mut groups: Vec<Value> = Vec::with_capacity(host.security_groups.len() + 1);
        if hp.egress.is_some() {
            let sg = format!("{base}:aws_security_group");
            let mut attrs = Map::new();
            attrs.insert("region".into(), region.clone());
            attrs.insert("name".into(), aws_name(&hp.name, SECURITY_GROUP_NAME_MAX).into());
            attrs.insert(
                "description".into(),
                format!("Ports berth forwards to the containers on {}", host.meta.name).into(),
            );
            if let Some(subnet) = &host.subnet {
                attrs.insert("subnet_id".into(), subnet.as_str().into());
            }
            attrs.insert("tags".into(), tags(&host.meta.name, &host.tags));
            out.push(Resource::new(sg.clone(), ENGINE, "aws_security_group", attrs).replace_on(&[
                "region",
                "name",
                "description",
                "subnet_id",
            ]));
            out.push(rule(
                format!("{base}:aws_security_group_rule.egress"),
                &region,
                json!({
                    "type": "egress",
                    "security_group_id": reference(&sg, "id"),
                    "protocol": "-1",
                    "from_port": 0,
                    "to_port": 0,
                    "cidr_blocks": ["0.0.0.0/0"],
                    "description": format!("Outbound traffic of {base}"),
                }),
            ));
            groups.push(reference(&sg, "id"));
        }
        groups.extend(host.security_groups.iter().map(|g| Value::String(g.clone())));

        let instance = format!("{base}:aws_instance");
        let mut attrs = Map::new();
        attrs.insert("region".into(), region.clone());
        attrs.insert("ami".into(), host.ami.as_str().into());
        attrs.insert("instance_type".into(), host.instance_type.as_str().into());
        attrs.insert("availability_zone".into(), host.zone.as_str().into());
        if let Some(subnet) = &host.subnet {
            attrs.insert("subnet_id".into(), subnet.as_str().into());
        }
        attrs.insert("vpc_security_group_ids".into(), Value::Array(groups));
        attrs.insert("tags".into(), tags(&host.meta.name, &host.tags));
        out.push(Resource::new(instance.clone(), ENGINE, "aws_instance", attrs).replace_on(&[
            "region",
            "ami",
            "instance_type",
            "availability_zone",
            "subnet_id",
        ]));

        for v in sorted_by(host.volumes.len(), |v| &hp.volumes[v]) {
            let vol = &host.volumes[v];
            let vbase = tag_address(&vol.address);
            let volume = format!("{vbase}:aws_ebs_volume");
            let mut attrs = Map::new();
            attrs.insert("region".into(), region.clone());
            attrs.insert("availability_zone".into(), host.zone.as_str().into());
            attrs.insert("type".into(), vol.volume_type.as_str().into());
            attrs.insert("size".into(), vol.size_gib.into());
            if let Some(iops) = vol.iops {
                attrs.insert("iops".into(), iops.into());
            }
            if let Some(t) = vol.throughput {
                attrs.insert("throughput".into(), t.into());
            }
            attrs.insert("tags".into(), tags(&format!("{}-{}", host.meta.name, vol.name), &host.tags));
            out.push(
                Resource::new(volume.clone(), ENGINE, "aws_ebs_volume", attrs)
                    .replace_on(&["region", "availability_zone"]),
            );

            let mut attrs = Map::new();
            attrs.insert("region".into(), region.clone());
            attrs.insert("device_name".into(), vol.device.as_str().into());
            attrs.insert("volume_id".into(), reference(&volume, "id"));
            attrs.insert("instance_id".into(), reference(&instance, "id"));
            out.push(
                Resource::new(format!("{vbase}:aws_volume_attachment"), ENGINE, "aws_volume_attachment", attrs)
                    .replace_on(&["region", "device_name", "volume_id", "instance_id"]),
            );
        }
        for r in &mut out[first..] {
            r.environment = environment(&host.meta);
        }
    }
    for i in sorted_by(plan.host_forwards.len(), |i| &plan.host_forwards[i].name) {
        let hf = &plan.host_forwards[i];
        let (f, host) = (&model.forwards[hf.forward], &model.hosts[hf.host]);
        let sg = format!("{}:aws_security_group", tag_address(&host.meta.address));
        let (v6, v4): (Vec<&String>, Vec<&String>) = f.sources.iter().partition(|s| s.contains(':'));
        let address = tag_address(&f.meta.address);
        let mut attrs = json!({
            "type": "ingress",
            "security_group_id": reference(&sg, "id"),
            "protocol": f.protocol,
            "from_port": f.port,
            "to_port": f.port,
        });
        if !v4.is_empty() {
            attrs["cidr_blocks"] = json!(v4);
        }
        if !v6.is_empty() {
            attrs["ipv6_cidr_blocks"] = json!(v6);
        }
        attrs["description"] = json!(format!("berth {address}"));
        let region = Value::String(plan.hosts[hf.host].region.clone());
        out.push(
            rule(format!("{address}:aws_security_group_rule"), &region, attrs).in_environment(environment(&f.meta)),
        );
    }
    out
}

/// A security group rule; rules have no updatable attributes, so any change replaces one.
fn rule(address: String, region: &Value, body: Value) -> Resource {
    let mut attrs = Map::with_capacity(8);
    attrs.insert("region".into(), region.clone());
    if let Value::Object(body) = body {
        attrs.extend(body);
    }
    let names: Vec<String> = attrs.keys().cloned().collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Resource::new(address, ENGINE, "aws_security_group_rule", attrs).replace_on(&names)
}

/// `Name` and the spec's own tags; the engine adds `berth:address` and `berth:lineage`.
fn tags(name: &str, extra: &BTreeMap<String, String>) -> Value {
    let mut all: BTreeMap<&str, String> = extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    all.entry("Name").or_insert_with(|| name.to_owned());
    Value::Object(all.into_iter().map(|(k, v)| (k.to_owned(), Value::String(v))).collect())
}

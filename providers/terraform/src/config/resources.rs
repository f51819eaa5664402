//! The same cloud objects as the configuration, as the objects berth applies directly: one
//! [`Resource`] per Terraform resource, with the same names, tags and dependencies.

use super::{
    AMI_TYPE, LAUNCH_TEMPLATE_NAME_MAX, LB_NAME_MAX, NO_TAGS, NODE_GROUP_NAME_MAX, Plan, SECURITY_GROUP_NAME_MAX,
    TARGET_GROUP_NAME_MAX, VPC_CNI_CONFIGURATION, lb_address, node_config, sorted_by, taint_parts,
};
use crate::names::{aws_name, ident, tag_address};
use berth_diag::{Diagnostic, Diagnostics, codes};
use berth_model::{Address, Cluster, Forward, Meta, Model};
use berth_plan::{Resource, reference};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The engine of every resource here.
const ENGINE: &str = "aws";

/// The AWS objects of the model, in the order the configuration lists them:
///
/// - per host its security group and egress rule (when forwards reach it), its instance, and
///   per volume the volume and its attachment;
/// - per cluster its EKS cluster, the VPC CNI add-on (when a node pool uses prefix
///   delegation), per node pool its launch template (when kubelet settings need one) and node
///   group, and its network load balancer (declared, or needed by a forward);
/// - per forward to a service and cluster a target group in the cluster's VPC, a listener on
///   the cluster's load balancer, and an ingress rule on the cluster's security group;
/// - per forward to a container the ingress rule on its host's group.
///
/// Values EKS and ELB decide (the cluster's VPC and security group, the ARNs) are references.
/// A cluster without `role_arn` or `node_role_arn` gets no role attribute: [`diagnostics`]
/// refuses to apply it.
pub(crate) fn resources(model: &Model) -> Vec<Resource> {
    let plan = Plan::new(model);
    let environment = |meta: &Meta| meta.environment.map(|e| model.environments[e].meta.name.to_string());
    let pools: usize = model.clusters.iter().map(|c| c.node_pools.len()).sum();
    let mut out = Vec::with_capacity(
        model.hosts.len() * 5
            + plan.host_forwards.len()
            + model.clusters.len() * 3
            + pools * 2
            + plan.lb_forwards.len() * 3,
    );
    for i in sorted_by(plan.hosts.len(), |i| &plan.hosts[i].name) {
        let first = out.len();
        host(&plan, i, &mut out);
        for r in &mut out[first..] {
            r.environment = environment(&model.hosts[i].meta);
        }
    }
    for ci in sorted_by(plan.clusters.len(), |i| &plan.clusters[i].name) {
        let first = out.len();
        cluster(&plan, ci, &mut out);
        for r in &mut out[first..] {
            r.environment = environment(&model.clusters[ci].meta);
        }
    }
    let mut per_cluster: Vec<Vec<usize>> = vec![Vec::new(); plan.clusters.len()];
    for i in sorted_by(plan.lb_forwards.len(), |i| &plan.lb_forwards[i].name) {
        per_cluster[plan.lb_forwards[i].cluster].push(i);
    }
    for ci in sorted_by(plan.clusters.len(), |i| &plan.clusters[i].name) {
        for &i in &per_cluster[ci] {
            let lf = &plan.lb_forwards[i];
            let (f, c) = (&model.forwards[lf.forward], &model.clusters[lf.cluster]);
            let first = out.len();
            lb_forward(f, c, &lf.name, &lf.address, &mut out);
            for r in &mut out[first..] {
                r.environment = environment(&f.meta).or_else(|| environment(&c.meta));
            }
        }
    }
    for i in sorted_by(plan.host_forwards.len(), |i| &plan.host_forwards[i].name) {
        let hf = &plan.host_forwards[i];
        let (f, host) = (&model.forwards[hf.forward], &model.hosts[hf.host]);
        let sg = format!("{}:aws_security_group", tag_address(&host.meta.address));
        let region = Value::String(plan.hosts[hf.host].region.clone());
        let address = tag_address(&f.meta.address);
        out.push(
            rule(
                format!("{address}:aws_security_group_rule"),
                &region,
                ingress(f, f.port, reference(&sg, "id"), &address),
            )
            .in_environment(environment(&f.meta)),
        );
    }
    out
}

/// Errors for what the model's AWS objects lack to be created directly: the IAM roles of
/// clusters that leave them to Terraform variables.
pub(crate) fn diagnostics(model: &Model) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for c in &model.clusters {
        let roles = [
            ("role_arn", c.role_arn.is_none(), "eks_cluster_role_arn", "the control plane", "its EKS cluster"),
            ("node_role_arn", c.node_role_arn.is_none(), "eks_node_role_arn", "the nodes", "its node groups"),
        ];
        for (attr, missing, variable, of, what) in roles {
            if !missing {
                continue;
            }
            diags.push(
                Diagnostic::error(
                    &codes::APPLY_IAM_ROLE,
                    c.meta.span,
                    format!(
                        "cluster {} sets no `{attr}`: berth cannot create {what} directly (the Terraform \
                         configuration takes the role of {of} as var.{variable})",
                        c.meta.name
                    ),
                )
                .with_label("this cluster")
                .with_help(format!(
                    "set `{attr}` on the cluster to the ARN of the IAM role of {of}, for instance from a variable \
                     (`{attr} = var.{variable}`), or leave AWS out of this run with `--only kubernetes`"
                )),
            );
        }
    }
    diags
}

/// A host's objects.
fn host(plan: &Plan<'_>, i: usize, out: &mut Vec<Resource>) {
    let (host, hp) = (&plan.model.hosts[i], &plan.hosts[i]);
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
            Resource::new(volume.clone(), ENGINE, "aws_ebs_volume", attrs).replace_on(&["region", "availability_zone"]),
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
}

/// A cluster's objects: the EKS cluster, its VPC CNI add-on, its node pools' launch templates
/// and node groups, and its load balancer.
fn cluster(plan: &Plan<'_>, ci: usize, out: &mut Vec<Resource>) {
    let (c, cp) = (&plan.model.clusters[ci], &plan.clusters[ci]);
    let base = tag_address(&c.meta.address);
    let region = Value::String(c.region.clone());
    let eks = format!("{base}:aws_eks_cluster");
    let mut attrs = Map::new();
    attrs.insert("region".into(), region.clone());
    attrs.insert("name".into(), c.meta.name.as_str().into());
    if let Some(role) = &c.role_arn {
        attrs.insert("role_arn".into(), role.as_str().into());
    }
    attrs.insert("version".into(), c.version.as_str().into());
    attrs.insert("subnet_ids".into(), set(&c.subnets));
    attrs.insert("tags".into(), tags(&c.meta.name, NO_TAGS));
    out.push(Resource::new(eks.clone(), ENGINE, "aws_eks_cluster", attrs).replace_on(&[
        "region",
        "name",
        "role_arn",
        "subnet_ids",
    ]));

    let addon = format!("{base}:aws_eks_addon");
    if cp.prefix_delegation {
        let mut attrs = Map::new();
        attrs.insert("region".into(), region.clone());
        attrs.insert("cluster_name".into(), reference(&eks, "name"));
        attrs.insert("addon_name".into(), "vpc-cni".into());
        attrs.insert("configuration_values".into(), VPC_CNI_CONFIGURATION.into());
        attrs.insert("tags".into(), tags(&format!("{}-vpc-cni", c.meta.name), NO_TAGS));
        out.push(Resource::new(addon.clone(), ENGINE, "aws_eks_addon", attrs).replace_on(&[
            "region",
            "cluster_name",
            "addon_name",
        ]));
    }

    for p in sorted_by(c.node_pools.len(), |p| &cp.pools[p]) {
        let pool = &c.node_pools[p];
        let pbase = tag_address(&pool.address);
        let template =
            (pool.max_pods_explicit || pool.prefix_delegation).then(|| format!("{pbase}:aws_launch_template"));
        if let Some(lt) = &template {
            let mut attrs = Map::new();
            attrs.insert("region".into(), region.clone());
            attrs.insert("name".into(), aws_name(&cp.pools[p], LAUNCH_TEMPLATE_NAME_MAX).into());
            attrs.insert(
                "description".into(),
                format!("kubelet settings of node pool {} of {}", pool.name, c.meta.name).into(),
            );
            attrs.insert("user_data".into(), node_config(pool.max_pods).into());
            attrs.insert("tags".into(), tags(&format!("{}-{}", c.meta.name, pool.name), NO_TAGS));
            out.push(Resource::new(lt.clone(), ENGINE, "aws_launch_template", attrs).replace_on(&["region", "name"]));
        }
        let mut attrs = Map::new();
        attrs.insert("region".into(), region.clone());
        attrs.insert("cluster_name".into(), reference(&eks, "name"));
        attrs.insert("node_group_name".into(), aws_name(&ident(&[&pool.name]), NODE_GROUP_NAME_MAX).into());
        if let Some(role) = &c.node_role_arn {
            attrs.insert("node_role_arn".into(), role.as_str().into());
        }
        attrs.insert("subnet_ids".into(), set(&c.subnets));
        attrs.insert("instance_types".into(), json!([pool.instance_type]));
        if template.is_some() {
            attrs.insert("ami_type".into(), AMI_TYPE.into());
        }
        if !pool.labels.is_empty() {
            attrs.insert("labels".into(), json!(pool.labels));
        }
        attrs.insert(
            "scaling_config".into(),
            json!({"desired_size": pool.desired, "max_size": pool.max, "min_size": pool.min}),
        );
        if let Some(lt) = &template {
            attrs.insert(
                "launch_template".into(),
                json!({"id": reference(lt, "id"), "version": reference(lt, "latest_version")}),
            );
        }
        let taints: Vec<Value> = pool
            .taints
            .iter()
            .filter_map(|t| taint_parts(t))
            .map(|(key, value, effect)| {
                let mut t = json!({"key": key, "effect": effect});
                if !value.is_empty() {
                    t["value"] = json!(value);
                }
                t
            })
            .collect();
        if !taints.is_empty() {
            attrs.insert("taints".into(), Value::Array(taints));
        }
        attrs.insert("tags".into(), tags(&format!("{}-{}", c.meta.name, pool.name), NO_TAGS));
        let mut group = Resource::new(format!("{pbase}:aws_eks_node_group"), ENGINE, "aws_eks_node_group", attrs)
            .replace_on(&[
                "region",
                "cluster_name",
                "node_group_name",
                "node_role_arn",
                "subnet_ids",
                "instance_types",
                "ami_type",
            ]);
        if cp.prefix_delegation && pool.prefix_delegation {
            group = group.depends_on(&addon);
        }
        out.push(group);
    }

    if cp.lb {
        let (internal, subnets) = c.load_balancer.as_ref().map_or((true, &c.subnets), |lb| (lb.internal, &lb.subnets));
        let name = aws_name(&cp.name, LB_NAME_MAX);
        let mut attrs = Map::new();
        attrs.insert("region".into(), region);
        attrs.insert("name".into(), name.as_str().into());
        attrs.insert("internal".into(), internal.into());
        attrs.insert("load_balancer_type".into(), "network".into());
        attrs.insert("subnets".into(), set(subnets));
        attrs.insert("tags".into(), tags(&name, NO_TAGS));
        out.push(
            Resource::new(format!("{}:aws_lb", tag_address(&lb_address(&c.meta.address))), ENGINE, "aws_lb", attrs)
                .replace_on(&["region", "name", "internal", "load_balancer_type", "subnets"]),
        );
    }
}

/// A forward's objects on one cluster: its target group in the cluster's VPC, its listener on
/// the cluster's load balancer, and the ingress rule on the cluster's security group.
fn lb_forward(f: &Forward, c: &Cluster, name: &str, address: &Address, out: &mut Vec<Resource>) {
    let base = tag_address(address);
    let eks = format!("{}:aws_eks_cluster", tag_address(&c.meta.address));
    let lb = format!("{}:aws_lb", tag_address(&lb_address(&c.meta.address)));
    let region = Value::String(c.region.clone());
    let tg_name = aws_name(name, TARGET_GROUP_NAME_MAX);
    let protocol = f.protocol.to_ascii_uppercase();

    let tg = format!("{base}:aws_lb_target_group");
    let mut attrs = Map::new();
    attrs.insert("region".into(), region.clone());
    attrs.insert("name".into(), tg_name.as_str().into());
    attrs.insert("port".into(), f.target_port.into());
    attrs.insert("protocol".into(), protocol.as_str().into());
    attrs.insert("target_type".into(), "ip".into());
    attrs.insert("vpc_id".into(), reference(&eks, "vpc_id"));
    attrs.insert("tags".into(), tags(&tg_name, NO_TAGS));
    out.push(Resource::new(tg.clone(), ENGINE, "aws_lb_target_group", attrs).replace_on(&[
        "region",
        "name",
        "port",
        "protocol",
        "target_type",
        "vpc_id",
    ]));

    let mut attrs = Map::new();
    attrs.insert("region".into(), region.clone());
    attrs.insert("load_balancer_arn".into(), reference(&lb, "arn"));
    attrs.insert("port".into(), f.port.into());
    attrs.insert("protocol".into(), protocol.into());
    attrs.insert("default_action".into(), json!({"type": "forward", "target_group_arn": reference(&tg, "arn")}));
    attrs.insert("tags".into(), tags(&tg_name, NO_TAGS));
    out.push(
        Resource::new(format!("{base}:aws_lb_listener"), ENGINE, "aws_lb_listener", attrs)
            .replace_on(&["region", "load_balancer_arn"]),
    );

    let group = reference(&eks, "cluster_security_group_id");
    out.push(rule(format!("{base}:aws_security_group_rule"), &region, ingress(f, f.target_port, group, &base)));
}

/// A list the API keeps as a set (subnets), sorted: the engines report sets sorted, so that a
/// refresh finds no change where only the order differs.
fn set(items: &[String]) -> Value {
    let mut items: Vec<&String> = items.iter().collect();
    items.sort();
    items.dedup();
    json!(items)
}

/// An ingress rule letting a forward's sources in on one port of `group`.
fn ingress(f: &Forward, port: u16, group: Value, address: &str) -> Value {
    let (v6, v4): (Vec<String>, Vec<String>) = f.sources.iter().cloned().partition(|s| s.contains(':'));
    let mut attrs = json!({
        "type": "ingress",
        "security_group_id": group,
        "protocol": f.protocol,
        "from_port": port,
        "to_port": port,
    });
    if !v4.is_empty() {
        attrs["cidr_blocks"] = set(&v4);
    }
    if !v6.is_empty() {
        attrs["ipv6_cidr_blocks"] = set(&v6);
    }
    attrs["description"] = json!(format!("berth {address}"));
    attrs
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

//! EKS clusters, their managed node groups and add-ons.
//!
//! Ids: a cluster's is its name, a node group's `CLUSTER:NODEGROUP`, an add-on's
//! `CLUSTER:ADDON` (as Terraform spells them). Creations take the request's token as
//! `clientRequestToken`; one whose name is taken accepts the object if its tags carry the
//! request's address and lineage. EKS has no batch read: reads and waits describe each object,
//! all of them at once.

use crate::api::{Api, ApiError, filter};
use crate::attrs::{
    ADDRESS_TAG, Attrs, LINEAGE_TAG, Observed, missing, observed_pairs, ours, sorted, tag_map, token, with_outputs,
};
use crate::wait::{Status, Waited, Waiter, wait};
use aws_sdk_eks::types::{
    Addon, AddonStatus, AmiTypes, Cluster, ClusterStatus, LaunchTemplateSpecification, Nodegroup,
    NodegroupScalingConfig, NodegroupStatus, Taint, TaintEffect, UpdateLabelsPayload, UpdateTaintsPayload,
    VpcConfigRequest,
};
use berth_plan::{Applied, EngineError, Found, Request};
use futures::future::try_join_all;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

/// The error EKS answers a creation whose name is taken, and a deletion of a cluster that still
/// has node groups.
const IN_USE: &str = "ResourceInUseException";

/// The tag EKS puts on a cluster's security group.
const CLUSTER_NAME_TAG: &str = "aws:eks:cluster-name";

/// `CLUSTER:NAME`.
fn pair_id(cluster: &str, name: &str) -> String {
    format!("{cluster}:{name}")
}

/// The cluster and name of a `CLUSTER:NAME` id.
fn parse_pair(id: &str, what: &str) -> Result<(String, String), EngineError> {
    id.split_once(':')
        .filter(|(c, n)| !c.is_empty() && !n.is_empty())
        .map(|(c, n)| (c.to_owned(), n.to_owned()))
        .ok_or_else(|| EngineError::permanent(format!("`{id}` is not {what} id (CLUSTER:NAME)")))
}

fn eks_tags(request: &Request<'_>) -> Result<HashMap<String, String>, EngineError> {
    Ok(tag_map(request)?.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

/// `tags` in the form of the desired `tags` attribute.
fn observed(tags: Option<&HashMap<String, String>>) -> Value {
    let mut pairs: Vec<(&str, &str)> = tags.into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.sort_unstable();
    observed_pairs(pairs)
}

/// The berth address and lineage of an object's tags.
fn berth_tags(tags: Option<&HashMap<String, String>>) -> (Option<&str>, Option<&str>) {
    let get = |k: &str| tags.and_then(|t| t.get(k)).map(String::as_str);
    (get(ADDRESS_TAG), get(LINEAGE_TAG))
}

/// Reads objects one call each, all at once; `None` for one that does not exist.
async fn each<T, F, Fut>(ids: Vec<String>, read: F) -> Result<HashMap<String, T>, ApiError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Option<T>, ApiError>>,
{
    let read = &read;
    let found = try_join_all(ids.into_iter().map(|id| async move {
        match read(id.clone()).await {
            Ok(item) => Ok(item.map(|i| (id, i))),
            Err(e) if e.not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }))
    .await?;
    Ok(found.into_iter().flatten().collect())
}

/// Clusters by name.
pub(crate) async fn clusters(api: &Api, names: Vec<String>) -> Result<HashMap<String, Cluster>, ApiError> {
    each(names, |name| async move {
        let out = api.call_eks("DescribeCluster", api.eks().describe_cluster().name(name).send()).await?;
        Ok(out.cluster().cloned())
    })
    .await
}

/// Node groups by `CLUSTER:NODEGROUP` id.
pub(crate) async fn node_groups(api: &Api, ids: Vec<String>) -> Result<HashMap<String, Nodegroup>, ApiError> {
    each(ids, |id| async move {
        let Some((cluster, name)) = id.split_once(':') else { return Ok(None) };
        let describe = api.eks().describe_nodegroup().cluster_name(cluster).nodegroup_name(name);
        Ok(api.call_eks("DescribeNodegroup", describe.send()).await?.nodegroup().cloned())
    })
    .await
}

/// Add-ons by `CLUSTER:ADDON` id.
pub(crate) async fn addons(api: &Api, ids: Vec<String>) -> Result<HashMap<String, Addon>, ApiError> {
    each(ids, |id| async move {
        let Some((cluster, name)) = id.split_once(':') else { return Ok(None) };
        let describe = api.eks().describe_addon().cluster_name(cluster).addon_name(name);
        Ok(api.call_eks("DescribeAddon", describe.send()).await?.addon().cloned())
    })
    .await
}

impl Waited for Cluster {
    fn waiter(api: &Api) -> &Waiter<Self> {
        &api.clusters
    }

    fn fetch(api: &Api, ids: Vec<String>) -> impl Future<Output = Result<HashMap<String, Self>, ApiError>> + Send {
        clusters(api, ids)
    }
}

impl Waited for Nodegroup {
    fn waiter(api: &Api) -> &Waiter<Self> {
        &api.node_groups
    }

    fn fetch(api: &Api, ids: Vec<String>) -> impl Future<Output = Result<HashMap<String, Self>, ApiError>> + Send {
        node_groups(api, ids)
    }
}

impl Waited for Addon {
    fn waiter(api: &Api) -> &Waiter<Self> {
        &api.addons
    }

    fn fetch(api: &Api, ids: Vec<String>) -> impl Future<Output = Result<HashMap<String, Self>, ApiError>> + Send {
        addons(api, ids)
    }
}

fn cluster_active(c: Option<&Cluster>) -> Status {
    let Some(c) = c else { return Status::Pending("not listed yet".into()) };
    match c.status() {
        Some(ClusterStatus::Active) => Status::Done,
        Some(ClusterStatus::Creating | ClusterStatus::Updating | ClusterStatus::Pending) | None => {
            Status::Pending(c.status().map_or("creating", ClusterStatus::as_str).to_owned())
        }
        Some(other) => Status::Failed(format!("it is {}", other.as_str())),
    }
}

fn cluster_gone(c: Option<&Cluster>) -> Status {
    match c.map(Cluster::status) {
        None => Status::Done,
        Some(Some(ClusterStatus::Failed)) => Status::Failed("its deletion failed".into()),
        Some(other) => Status::Pending(other.map_or("deleting", ClusterStatus::as_str).to_owned()),
    }
}

/// True for a cluster that is on its way to be gone.
fn is_deleting(c: &Cluster) -> bool {
    c.status() == Some(&ClusterStatus::Deleting)
}

/// Creates a cluster and returns when it is active.
pub(crate) async fn create_cluster(api: &Arc<Api>, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let name = a.str("name")?;
    let create = api
        .eks()
        .create_cluster()
        .name(name)
        .role_arn(a.str("role_arn")?)
        .set_version(a.opt_str("version")?.map(str::to_owned))
        .resources_vpc_config(VpcConfigRequest::builder().set_subnet_ids(Some(a.strs("subnet_ids")?)).build())
        .client_request_token(token(request))
        .set_tags(Some(eks_tags(request)?));
    let cluster = match api.call_eks("CreateCluster", create.send()).await {
        Ok(out) => out.cluster().cloned().ok_or_else(|| missing("cluster"))?,
        Err(e) if e.is(IN_USE) => {
            let out = api.call_eks("DescribeCluster", api.eks().describe_cluster().name(name).send()).await?;
            let cluster = out.cluster().cloned().ok_or_else(|| missing("cluster"))?;
            let (address, lineage) = berth_tags(cluster.tags());
            ours(request, &format!("EKS cluster {name}"), address, lineage)?;
            cluster
        }
        Err(e) => return Err(e.into()),
    };
    let cluster = match cluster_active(Some(&cluster)) {
        Status::Done => cluster,
        _ => wait(api, name, "active", Box::new(cluster_active)).await?.ok_or_else(|| missing("cluster"))?,
    };
    let outputs = cluster_outputs(api, &cluster).await?;
    Ok(Applied { attrs: with_outputs(request, outputs), id: name.to_owned() })
}

/// A cluster's attributes in the form of the desired ones, plus `arn`, `endpoint`, `vpc_id`
/// and `cluster_security_group_id` where EKS reports them.
pub(crate) fn observe_cluster(c: &Cluster) -> Map<String, Value> {
    let vpc = c.resources_vpc_config();
    Observed::default()
        .set("name", c.name())
        .set("role_arn", c.role_arn())
        .set("version", c.version())
        .set("subnet_ids", vpc.map(|v| sorted(v.subnet_ids().to_vec())))
        .set("tags", Some(observed(c.tags())))
        .set("arn", c.arn())
        .set("endpoint", c.endpoint())
        .set("vpc_id", vpc.and_then(|v| v.vpc_id()))
        .set("cluster_security_group_id", vpc.and_then(|v| v.cluster_security_group_id()))
        .done()
}

/// [`observe_cluster`] with what a target group and a rule need from it looked up where EKS
/// does not report it (moto does not): the cluster's VPC is its subnets', and its security
/// group the one of that VPC that carries the tag EKS gives it (`aws:eks:cluster-name`), if
/// any.
pub(crate) async fn cluster_outputs(api: &Api, c: &Cluster) -> Result<Map<String, Value>, EngineError> {
    let mut attrs = observe_cluster(c);
    let name = c.name().unwrap_or_default();
    if !attrs.contains_key("vpc_id") {
        let subnet = c
            .resources_vpc_config()
            .and_then(|v| v.subnet_ids().first())
            .ok_or_else(|| EngineError::permanent(format!("EKS cluster {name} reports neither a VPC nor subnets")))?;
        let described = api.call("DescribeSubnets", api.ec2().describe_subnets().subnet_ids(subnet).send()).await?;
        let vpc = described.subnets().first().and_then(|s| s.vpc_id());
        attrs.insert("vpc_id".into(), json!(vpc.ok_or_else(|| missing("VPC of the cluster's subnet"))?));
    }
    if !attrs.contains_key("cluster_security_group_id") {
        let vpc = attrs["vpc_id"].as_str().unwrap_or_default().to_owned();
        let groups = api
            .ec2()
            .describe_security_groups()
            .filters(filter("vpc-id", [vpc]))
            .filters(filter(&format!("tag:{CLUSTER_NAME_TAG}"), [name]));
        let described = api.call("DescribeSecurityGroups", groups.send()).await?;
        if let Some(group) = described.security_groups().first().and_then(|g| g.group_id()) {
            attrs.insert("cluster_security_group_id".into(), json!(group));
        }
    }
    Ok(attrs)
}

/// Upgrades a cluster's Kubernetes version and returns when it is active again.
pub(crate) async fn update_cluster_version(
    api: &Arc<Api>,
    request: &Request<'_>,
    name: &str,
) -> Result<(), EngineError> {
    let a = Attrs::of(request);
    let update = api.eks().update_cluster_version().name(name).version(a.str("version")?);
    api.call_eks("UpdateClusterVersion", update.send()).await?;
    wait(api, name, "active", Box::new(cluster_active)).await?;
    Ok(())
}

/// Deletes a cluster once its node groups are gone, and returns when it is gone.
pub(crate) async fn delete_cluster(api: &Arc<Api>, name: &str) -> Result<(), EngineError> {
    crate::network::delete_when_free(api, name, IN_USE, || {
        api.call_eks("DeleteCluster", api.eks().delete_cluster().name(name).send())
    })
    .await?;
    wait(api, name, "deleted", Box::new(cluster_gone)).await?;
    Ok(())
}

fn node_group_active(g: Option<&Nodegroup>) -> Status {
    let Some(g) = g else { return Status::Pending("not listed yet".into()) };
    match g.status() {
        Some(NodegroupStatus::Active) => Status::Done,
        Some(NodegroupStatus::Creating | NodegroupStatus::Updating) | None => {
            Status::Pending(g.status().map_or("creating", NodegroupStatus::as_str).to_owned())
        }
        Some(other) => {
            let issues: Vec<String> = g
                .health()
                .map(|h| h.issues())
                .unwrap_or_default()
                .iter()
                .filter_map(|i| i.message().map(str::to_owned))
                .collect();
            let why = if issues.is_empty() { String::new() } else { format!(" ({})", issues.join("; ")) };
            Status::Failed(format!("it is {}{why}", other.as_str()))
        }
    }
}

fn node_group_gone(g: Option<&Nodegroup>) -> Status {
    match g.map(Nodegroup::status) {
        None => Status::Done,
        Some(Some(NodegroupStatus::DeleteFailed)) => Status::Failed("its deletion failed".into()),
        Some(other) => Status::Pending(other.map_or("deleting", NodegroupStatus::as_str).to_owned()),
    }
}

/// The `scaling_config` attribute.
fn scaling(a: &Attrs<'_>) -> Result<Option<NodegroupScalingConfig>, EngineError> {
    let Some(s) = a.nested("scaling_config")? else { return Ok(None) };
    Ok(Some(
        NodegroupScalingConfig::builder()
            .set_min_size(s.opt_int("min_size")?)
            .set_max_size(s.opt_int("max_size")?)
            .set_desired_size(s.opt_int("desired_size")?)
            .build(),
    ))
}

/// The `launch_template` attribute (`id`, `version`).
fn launch_template(a: &Attrs<'_>) -> Result<Option<LaunchTemplateSpecification>, EngineError> {
    let Some(t) = a.nested("launch_template")? else { return Ok(None) };
    Ok(Some(
        LaunchTemplateSpecification::builder()
            .set_id(t.opt_str("id")?.map(str::to_owned))
            .set_version(t.opt_text("version")?)
            .build(),
    ))
}

/// The `taints` attribute.
fn taints(a: &Attrs<'_>) -> Result<Vec<Taint>, EngineError> {
    a.list("taints")?
        .iter()
        .map(|t| {
            Ok(Taint::builder()
                .key(t.str("key")?)
                .set_value(t.opt_str("value")?.map(str::to_owned))
                .effect(TaintEffect::from(t.str("effect")?))
                .build())
        })
        .collect()
}

fn owned(map: BTreeMap<&str, &str>) -> HashMap<String, String> {
    map.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// Creates a node group and returns when it is active.
pub(crate) async fn create_node_group(api: &Arc<Api>, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let (cluster, name) = (a.str("cluster_name")?, a.str("node_group_name")?);
    let labels = a.strings("labels")?;
    let taints = taints(&a)?;
    let create = api
        .eks()
        .create_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .node_role(a.str("node_role_arn")?)
        .set_subnets(Some(a.strs("subnet_ids")?))
        .set_instance_types(Some(a.strs("instance_types")?).filter(|t| !t.is_empty()))
        .set_ami_type(a.opt_str("ami_type")?.map(AmiTypes::from))
        .set_labels((!labels.is_empty()).then(|| owned(labels)))
        .set_taints((!taints.is_empty()).then_some(taints))
        .set_scaling_config(scaling(&a)?)
        .set_launch_template(launch_template(&a)?)
        .client_request_token(token(request))
        .set_tags(Some(eks_tags(request)?));
    let id = pair_id(cluster, name);
    let group = match api.call_eks("CreateNodegroup", create.send()).await {
        Ok(out) => out.nodegroup().cloned().ok_or_else(|| missing("node group"))?,
        Err(e) if e.is(IN_USE) => {
            let group = node_groups(api, vec![id.clone()]).await?.remove(&id).ok_or_else(|| missing("node group"))?;
            let (address, lineage) = berth_tags(group.tags());
            ours(request, &format!("node group {name} of EKS cluster {cluster}"), address, lineage)?;
            group
        }
        Err(e) => return Err(e.into()),
    };
    let group = match node_group_active(Some(&group)) {
        Status::Done => group,
        _ => wait(api, &id, "active", Box::new(node_group_active)).await?.ok_or_else(|| missing("node group"))?,
    };
    Ok(Applied { attrs: with_outputs(request, observe_node_group(&group)), id })
}

/// A node group's attributes in the form of the desired ones, plus `arn`.
pub(crate) fn observe_node_group(g: &Nodegroup) -> Map<String, Value> {
    let scaling = g.scaling_config().map(|s| {
        let mut m = Map::new();
        for (k, v) in [("desired_size", s.desired_size()), ("max_size", s.max_size()), ("min_size", s.min_size())] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    });
    let template = g.launch_template().map(|t| {
        let mut m = Map::new();
        if let Some(id) = t.id() {
            m.insert("id".into(), json!(id));
        }
        if let Some(v) = t.version() {
            m.insert("version".into(), v.parse::<u64>().map_or_else(|_| json!(v), |n| json!(n)));
        }
        Value::Object(m)
    });
    let taints: Vec<Value> = g
        .taints()
        .iter()
        .map(|t| {
            let mut m = Map::new();
            if let Some(k) = t.key() {
                m.insert("key".into(), json!(k));
            }
            if let Some(v) = t.value().filter(|v| !v.is_empty()) {
                m.insert("value".into(), json!(v));
            }
            if let Some(e) = t.effect() {
                m.insert("effect".into(), json!(e.as_str()));
            }
            Value::Object(m)
        })
        .collect();
    let labels: BTreeMap<&String, &String> = g.labels().into_iter().flatten().collect();
    Observed::default()
        .set("cluster_name", g.cluster_name())
        .set("node_group_name", g.nodegroup_name())
        .set("node_role_arn", g.node_role())
        .set("subnet_ids", Some(sorted(g.subnets().to_vec())))
        .set("instance_types", Some(sorted(g.instance_types().to_vec())))
        .set("ami_type", g.ami_type().map(AmiTypes::as_str))
        .set("labels", Some(json!(labels)))
        .set("scaling_config", scaling)
        .set("launch_template", template)
        .set("taints", Some(Value::Array(taints)))
        .set("tags", Some(observed(g.tags())))
        .set("arn", g.nodegroup_arn())
        .done()
}

/// Node group attributes EKS changes in place: UpdateNodegroupConfig for the first three,
/// UpdateNodegroupVersion for the launch template's version.
pub(crate) const NODE_GROUP_IN_PLACE: &[&str] = &["scaling_config", "labels", "taints", "launch_template"];

/// Changes a node group's scaling, labels, taints or launch template version in place and
/// returns when it is active again; `current` is the group as read.
pub(crate) async fn update_node_group(
    api: &Arc<Api>,
    request: &Request<'_>,
    id: &str,
    changed: &[&str],
    current: &Map<String, Value>,
) -> Result<(), EngineError> {
    let (cluster, name) = parse_pair(id, "a node group")?;
    let a = Attrs::of(request);
    if changed.iter().any(|c| ["scaling_config", "labels", "taints"].contains(c)) {
        let mut update = api.eks().update_nodegroup_config().cluster_name(&cluster).nodegroup_name(&name);
        if changed.contains(&"scaling_config") {
            update = update.set_scaling_config(scaling(&a)?);
        }
        if changed.contains(&"labels") {
            let want = a.strings("labels")?;
            let removed: Vec<String> = current
                .get("labels")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys())
                .filter(|k| !want.contains_key(k.as_str()))
                .cloned()
                .collect();
            let payload = UpdateLabelsPayload::builder()
                .set_add_or_update_labels((!want.is_empty()).then(|| owned(want)))
                .set_remove_labels((!removed.is_empty()).then_some(removed))
                .build();
            update = update.labels(payload);
        }
        if changed.contains(&"taints") {
            let want = taints(&a)?;
            let keep = |t: &Taint| want.iter().any(|w| w.key() == t.key() && w.effect() == t.effect());
            let have = Attrs::over(request.kind, current);
            let removed: Vec<Taint> = taints(&have)?.into_iter().filter(|t| !keep(t)).collect();
            let payload = UpdateTaintsPayload::builder()
                .set_add_or_update_taints((!want.is_empty()).then_some(want))
                .set_remove_taints((!removed.is_empty()).then_some(removed))
                .build();
            update = update.taints(payload);
        }
        api.call_eks("UpdateNodegroupConfig", update.client_request_token(token(request)).send()).await?;
        wait(api, id, "active", Box::new(node_group_active)).await?;
    }
    if changed.contains(&"launch_template") {
        let update = api
            .eks()
            .update_nodegroup_version()
            .cluster_name(&cluster)
            .nodegroup_name(&name)
            .set_launch_template(launch_template(&a)?);
        api.call_eks("UpdateNodegroupVersion", update.send()).await?;
        wait(api, id, "active", Box::new(node_group_active)).await?;
    }
    Ok(())
}

/// Deletes a node group and returns when it is gone.
pub(crate) async fn delete_node_group(api: &Arc<Api>, id: &str) -> Result<(), EngineError> {
    let (cluster, name) = parse_pair(id, "a node group")?;
    let delete = api.eks().delete_nodegroup().cluster_name(&cluster).nodegroup_name(&name);
    match api.call_eks("DeleteNodegroup", delete.send()).await {
        Err(e) if e.not_found() => return Ok(()),
        other => other?,
    };
    wait(api, id, "deleted", Box::new(node_group_gone)).await?;
    Ok(())
}

fn addon_active(a: Option<&Addon>) -> Status {
    let Some(a) = a else { return Status::Pending("not listed yet".into()) };
    match a.status() {
        Some(AddonStatus::Active) => Status::Done,
        Some(AddonStatus::Creating | AddonStatus::Updating) | None => {
            Status::Pending(a.status().map_or("creating", AddonStatus::as_str).to_owned())
        }
        Some(other) => Status::Failed(format!("it is {}", other.as_str())),
    }
}

fn addon_gone(a: Option<&Addon>) -> Status {
    match a.map(Addon::status) {
        None => Status::Done,
        Some(Some(AddonStatus::DeleteFailed)) => Status::Failed("its deletion failed".into()),
        Some(other) => Status::Pending(other.map_or("deleting", AddonStatus::as_str).to_owned()),
    }
}

/// Installs an add-on and returns when it is active.
pub(crate) async fn create_addon(api: &Arc<Api>, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let (cluster, name) = (a.str("cluster_name")?, a.str("addon_name")?);
    let create = api
        .eks()
        .create_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .set_configuration_values(a.opt_str("configuration_values")?.map(str::to_owned))
        .client_request_token(token(request))
        .set_tags(Some(eks_tags(request)?));
    let id = pair_id(cluster, name);
    let addon = match api.call_eks("CreateAddon", create.send()).await {
        Ok(out) => out.addon().cloned().ok_or_else(|| missing("add-on"))?,
        Err(e) if e.is(IN_USE) => {
            let addon = addons(api, vec![id.clone()]).await?.remove(&id).ok_or_else(|| missing("add-on"))?;
            let (address, lineage) = berth_tags(addon.tags());
            ours(request, &format!("add-on {name} of EKS cluster {cluster}"), address, lineage)?;
            addon
        }
        Err(e) => return Err(e.into()),
    };
    let addon = match addon_active(Some(&addon)) {
        Status::Done => addon,
        _ => wait(api, &id, "active", Box::new(addon_active)).await?.ok_or_else(|| missing("add-on"))?,
    };
    Ok(Applied { attrs: with_outputs(request, observe_addon(&addon)), id })
}

/// An add-on's attributes in the form of the desired ones, plus `arn`.
pub(crate) fn observe_addon(a: &Addon) -> Map<String, Value> {
    Observed::default()
        .set("cluster_name", a.cluster_name())
        .set("addon_name", a.addon_name())
        .set("configuration_values", a.configuration_values())
        .set("tags", Some(observed(a.tags())))
        .set("arn", a.addon_arn())
        .done()
}

/// Changes an add-on's configuration in place and returns when it is active again.
pub(crate) async fn update_addon(api: &Arc<Api>, request: &Request<'_>, id: &str) -> Result<(), EngineError> {
    let (cluster, name) = parse_pair(id, "an add-on")?;
    let a = Attrs::of(request);
    let update = api
        .eks()
        .update_addon()
        .cluster_name(&cluster)
        .addon_name(&name)
        .configuration_values(a.opt_str("configuration_values")?.unwrap_or_default())
        .client_request_token(token(request));
    api.call_eks("UpdateAddon", update.send()).await?;
    wait(api, id, "active", Box::new(addon_active)).await?;
    Ok(())
}

/// Removes an add-on and returns when it is gone.
pub(crate) async fn delete_addon(api: &Arc<Api>, id: &str) -> Result<(), EngineError> {
    let (cluster, name) = parse_pair(id, "an add-on")?;
    let delete = api.eks().delete_addon().cluster_name(&cluster).addon_name(&name);
    match api.call_eks("DeleteAddon", delete.send()).await {
        Err(e) if e.not_found() => return Ok(()),
        other => other?,
    };
    wait(api, id, "deleted", Box::new(addon_gone)).await?;
    Ok(())
}

/// Sets the desired tags on the EKS object `arn` and removes the ones the spec dropped.
pub(crate) async fn retag(
    api: &Api,
    request: &Request<'_>,
    arn: &str,
    have: Option<&Value>,
) -> Result<(), EngineError> {
    let add = api.eks().tag_resource().resource_arn(arn).set_tags(Some(eks_tags(request)?));
    api.call_eks("TagResource", add.send()).await?;
    let dropped = crate::attrs::dropped_tags(have, &tag_map(request)?);
    if !dropped.is_empty() {
        let remove = api.eks().untag_resource().resource_arn(arn).set_tag_keys(Some(dropped));
        api.call_eks("UntagResource", remove.send()).await?;
    }
    Ok(())
}

/// What [`read`] found.
pub(crate) struct Read {
    /// Live clusters by name, with their outputs made sure of.
    pub(crate) clusters: HashMap<String, Map<String, Value>>,
    /// Node groups by id.
    pub(crate) node_groups: HashMap<String, Nodegroup>,
    /// Add-ons by id.
    pub(crate) addons: HashMap<String, Addon>,
}

/// Reads clusters, node groups and add-ons, every one at once; a cluster being deleted is
/// gone.
pub(crate) async fn read(
    api: &Api,
    cluster_names: Vec<String>,
    group_ids: Vec<String>,
    addon_ids: Vec<String>,
) -> Result<Read, EngineError> {
    let (found, node_groups, addons) =
        tokio::try_join!(clusters(api, cluster_names), node_groups(api, group_ids), addons(api, addon_ids))?;
    let live = found.into_iter().filter(|(_, c)| !is_deleting(c));
    let clusters = try_join_all(
        live.map(|(name, c)| async move { Ok::<_, EngineError>((name, cluster_outputs(api, &c).await?)) }),
    )
    .await?
    .into_iter()
    .collect();
    Ok(Read { clusters, node_groups, addons })
}

/// Every cluster, node group and (with `addons`) add-on tagged with `lineage` (any berth
/// lineage with `None`): the region's clusters listed and described, and the node groups and
/// add-ons of berth's clusters.
pub(crate) async fn find(api: &Api, lineage: Option<&str>, with_addons: bool) -> Result<Vec<Found>, ApiError> {
    let names = api
        .pages(|token| {
            let request = api.eks().list_clusters().set_next_token(token);
            async move {
                let out = api.call_eks("ListClusters", request.send()).await?;
                Ok((out.clusters().to_vec(), out.next_token().map(str::to_owned)))
            }
        })
        .await?;
    let described = clusters(api, names).await?;
    let mine = |tags: Option<&HashMap<String, String>>| -> Option<(String, String)> {
        let (address, of) = berth_tags(tags);
        let (address, of) = (address?, of?);
        lineage.is_none_or(|l| l == of).then(|| (address.to_owned(), of.to_owned()))
    };
    let found_of = |kind: &str, id: String, (address, lineage): (String, String)| Found {
        address,
        kind: kind.to_owned(),
        id,
        lineage,
    };
    let mut found = Vec::new();
    let mut ours = Vec::new();
    for (name, c) in &described {
        if let Some(of) = mine(c.tags()).filter(|_| !is_deleting(c)) {
            found.push(found_of(crate::EKS_CLUSTER, name.clone(), of));
            ours.push(name.clone());
        }
    }
    let listed = try_join_all(ours.iter().map(|cluster| async move {
        let groups = api
            .pages(|token| {
                let request = api.eks().list_nodegroups().cluster_name(cluster).set_next_token(token);
                async move {
                    let out = api.call_eks("ListNodegroups", request.send()).await?;
                    Ok((out.nodegroups().to_vec(), out.next_token().map(str::to_owned)))
                }
            })
            .await?;
        let addons = if !with_addons {
            Vec::new()
        } else {
            api.pages(|token| {
                let request = api.eks().list_addons().cluster_name(cluster).set_next_token(token);
                async move {
                    let out = api.call_eks("ListAddons", request.send()).await?;
                    Ok((out.addons().to_vec(), out.next_token().map(str::to_owned)))
                }
            })
            .await?
        };
        let ids = |names: Vec<String>| names.into_iter().map(|n| pair_id(cluster, &n)).collect::<Vec<_>>();
        Ok::<_, ApiError>((ids(groups), ids(addons)))
    }))
    .await?;
    let (group_ids, addon_ids): (Vec<Vec<String>>, Vec<Vec<String>>) = listed.into_iter().unzip();
    let (groups, addons) = tokio::try_join!(node_groups(api, group_ids.concat()), addons(api, addon_ids.concat()))?;
    for (id, g) in groups {
        if let Some(of) = mine(g.tags()).filter(|_| g.status() != Some(&NodegroupStatus::Deleting)) {
            found.push(found_of(crate::NODE_GROUP, id, of));
        }
    }
    for (id, a) in addons {
        if let Some(of) = mine(a.tags()).filter(|_| a.status() != Some(&AddonStatus::Deleting)) {
            found.push(found_of(crate::ADDON, id, of));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_eks_states_are_waited_through() {
        use aws_sdk_eks::types::{Issue, NodegroupHealth};
        let cluster = |s: ClusterStatus| Cluster::builder().status(s).build();
        assert!(
            matches!(cluster_active(Some(&cluster(ClusterStatus::Creating))), Status::Pending(s) if s == "CREATING")
        );
        assert!(matches!(cluster_active(Some(&cluster(ClusterStatus::Active))), Status::Done));
        assert!(matches!(cluster_active(Some(&cluster(ClusterStatus::Failed))), Status::Failed(_)));
        assert!(matches!(cluster_active(None), Status::Pending(_)), "not listed yet");
        assert!(matches!(cluster_gone(Some(&cluster(ClusterStatus::Deleting))), Status::Pending(_)));
        assert!(matches!(cluster_gone(None), Status::Done));
        let group = |s: NodegroupStatus| Nodegroup::builder().status(s).build();
        assert!(matches!(node_group_active(Some(&group(NodegroupStatus::Creating))), Status::Pending(_)));
        assert!(matches!(node_group_active(Some(&group(NodegroupStatus::Updating))), Status::Pending(_)));
        let failed = Nodegroup::builder()
            .status(NodegroupStatus::CreateFailed)
            .health(NodegroupHealth::builder().issues(Issue::builder().message("no capacity").build()).build())
            .build();
        assert!(matches!(node_group_active(Some(&failed)), Status::Failed(why) if why.contains("no capacity")));
        assert!(matches!(node_group_gone(Some(&group(NodegroupStatus::Deleting))), Status::Pending(_)));
        assert!(matches!(node_group_gone(None), Status::Done));
    }

    #[test]
    fn pair_ids_round_trip() {
        assert_eq!(parse_pair(&pair_id("b0", "np00"), "a node group").unwrap(), ("b0".into(), "np00".into()));
        assert!(parse_pair("b0", "a node group").is_err());
        assert!(parse_pair(":np00", "a node group").is_err());
    }
}

//! From the checked model to Terraform configuration, file by file.
//!
//! Names are decided first, for every object at once ([`Plan`]), so that each resource refers
//! to the others by reference (`aws_instance.dh000.id`) and a name never depends on which
//! other objects exist (beyond resolving the rare clash of two sanitised names).

mod resources;

use crate::ir::{Block, Body, Expr};
use crate::names::{aws_name, ident, tag_address, unique};
use berth_model::{Address, ForwardTarget, Model, NodePool};
use std::collections::{BTreeMap, BTreeSet};

/// The AWS provider release line the configuration is written for.
pub(crate) const AWS_PROVIDER: &str = "~> 5.80";
/// The oldest Terraform that reads the configuration (0.15: provider source addresses, and
/// nothing newer is used).
pub(crate) const TERRAFORM_VERSION: &str = ">= 0.15.0";
/// EKS managed node groups read kubelet settings from a NodeConfig in the launch template's
/// user data on this AMI family.
const AMI_TYPE: &str = "AL2023_x86_64_STANDARD";
/// Longest load balancer name AWS takes.
const LB_NAME_MAX: usize = 32;
/// Longest target group name AWS takes.
const TARGET_GROUP_NAME_MAX: usize = 32;
/// Longest node group name EKS takes.
const NODE_GROUP_NAME_MAX: usize = 63;
/// Longest launch template name EC2 takes.
const LAUNCH_TEMPLATE_NAME_MAX: usize = 128;
/// Longest security group name EC2 takes.
const SECURITY_GROUP_NAME_MAX: usize = 255;
/// The VPC CNI add-on's configuration when a node pool uses prefix delegation.
const VPC_CNI_CONFIGURATION: &str = r#"{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}"#;
/// No tags beyond `Name` and `berth:address`.
const NO_TAGS: &BTreeMap<String, String> = &BTreeMap::new();

/// One output file: its name without `.tf`, and its blocks in writing order.
pub(crate) struct File {
    /// `hosts`, `clusters`, ...
    pub(crate) stem: &'static str,
    /// The blocks, in writing order.
    pub(crate) blocks: Vec<Block>,
}

/// Terraform names and regions of every object, decided before any block is written.
struct Plan<'m> {
    model: &'m Model,
    /// The region of `provider "aws"` (the first cluster's, else the first host's).
    primary: String,
    hosts: Vec<HostPlan>,
    clusters: Vec<ClusterPlan>,
    /// Forwards placed on load balancers, one per forward and cluster.
    lb_forwards: Vec<LbForward>,
    /// Forwards to containers: ports opened on the container's host.
    host_forwards: Vec<HostForward>,
}

struct HostPlan {
    /// Its Terraform identifier.
    name: String,
    /// The region of its availability zone.
    region: String,
    /// Volume identifiers, parallel to `Host::volumes`.
    volumes: Vec<String>,
    /// The identifier of its egress rule, if berth gives it a security group (it has forwards).
    egress: Option<String>,
}

struct ClusterPlan {
    /// Its Terraform identifier.
    name: String,
    /// Node group identifiers, parallel to `Cluster::node_pools`.
    pools: Vec<String>,
    /// Whether it gets a load balancer (declared, or a forward lands on it).
    lb: bool,
    /// Whether a node pool uses prefix delegation (the VPC CNI add-on is configured for it).
    prefix_delegation: bool,
}

/// A forward on one cluster's load balancer: a target group, a listener and a rule.
struct LbForward {
    /// Index into `Model::forwards`.
    forward: usize,
    /// Index into `Model::clusters`.
    cluster: usize,
    /// The Terraform identifier of its three resources.
    name: String,
    /// The forward's address, with the cluster as its share when it listens on every cluster.
    address: Address,
}

/// A forward to a container: a rule on its host's security group.
struct HostForward {
    /// Index into `Model::forwards`.
    forward: usize,
    /// Index into `Model::hosts`.
    host: usize,
    /// The Terraform identifier of its rule.
    name: String,
}

pub(crate) use resources::{diagnostics, resources};

/// Builds every file; files without blocks are left out, and a model with neither hosts nor
/// clusters gives no files.
pub(crate) fn build(model: &Model) -> Vec<File> {
    if model.hosts.is_empty() && model.clusters.is_empty() {
        return Vec::new();
    }
    let plan = Plan::new(model);
    let files = vec![
        File { stem: "versions", blocks: plan.versions() },
        File { stem: "variables", blocks: plan.variables() },
        File { stem: "hosts", blocks: plan.hosts() },
        File { stem: "clusters", blocks: plan.clusters() },
        File { stem: "load_balancers", blocks: plan.load_balancers() },
        File { stem: "outputs", blocks: plan.outputs() },
    ];
    files.into_iter().filter(|f| !f.blocks.is_empty()).collect()
}

/// The region of an availability zone: `eu-west-1a` → `eu-west-1`, and for Local and
/// Wavelength Zones (`us-west-2-lax-1a`) the parent region; a zone not of that form as is.
fn zone_region(zone: &str) -> &str {
    let trimmed = zone.trim_end_matches(|c: char| c.is_ascii_lowercase());
    let mut end = 0;
    for part in trimmed.split('-') {
        end += part.len();
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            return &trimmed[..end];
        }
        end += 1;
    }
    zone
}

/// Indices `0..n` sorted by the names `name(i)`.
fn sorted_by<'a>(n: usize, name: impl Fn(usize) -> &'a str) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| name(a).cmp(name(b)));
    order
}

/// `Name` and `berth:address`, over the spec's own tags.
fn tags(name: &str, address: &Address, extra: &BTreeMap<String, String>) -> Expr {
    let mut all: BTreeMap<&str, String> = extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    all.entry("Name").or_insert_with(|| name.to_string());
    all.insert("berth:address", tag_address(address));
    Expr::Map(all.into_iter().map(|(k, v)| (k.to_string(), Expr::Str(v))).collect())
}

/// The address of a cluster's load balancer, as the resource graph names it.
fn lb_address(cluster: &Address) -> Address {
    cluster.nested("load_balancer", "load_balancer", None)
}

fn reference(parts: &[&str]) -> Expr {
    Expr::Ref(parts.join("."))
}

/// NodeConfig for AL2023 managed nodes, in the MIME multi-part form EKS merges with its own.
fn node_config(max_pods: u64) -> String {
    format!(
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"BERTH\"\n\n--BERTH\nContent-Type: application/node.eks.aws\n\n---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: {max_pods}\n\n--BERTH--\n"
    )
}

/// A taint `key[=value]:Effect` as EKS spells it: key, value (empty when none) and effect
/// (`NO_SCHEDULE`, ...).
fn taint_parts(spec: &str) -> Option<(&str, &str, &'static str)> {
    let (kv, effect) = spec.rsplit_once(':')?;
    let effect = match effect {
        "NoSchedule" => "NO_SCHEDULE",
        "PreferNoSchedule" => "PREFER_NO_SCHEDULE",
        "NoExecute" => "NO_EXECUTE",
        _ => return None,
    };
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    Some((key, value, effect))
}

/// A taint `key[=value]:Effect` as the node group's taint block.
fn taint(spec: &str) -> Option<Body> {
    let (key, value, effect) = taint_parts(spec)?;
    let mut b = Body::new();
    b.attr("key", Expr::str(key));
    if !value.is_empty() {
        b.attr("value", Expr::str(value));
    }
    b.attr("effect", Expr::str(effect));
    Some(b)
}

impl<'m> Plan<'m> {
    fn new(model: &'m Model) -> Self {
        let primary = model
            .clusters
            .first()
            .map(|c| c.region.clone())
            .or_else(|| model.hosts.first().map(|h| zone_region(&h.zone).to_string()))
            .unwrap_or_default();

        let host_names =
            unique(model.hosts.iter().map(|h| (ident(&[&h.meta.name]), h.meta.address.to_string())).collect());
        let cluster_names =
            unique(model.clusters.iter().map(|c| (ident(&[&c.meta.name]), c.meta.address.to_string())).collect());

        let mut volume_names = unique(
            model
                .hosts
                .iter()
                .zip(&host_names)
                .flat_map(|(h, hn)| h.volumes.iter().map(move |v| (ident(&[hn, &v.name]), v.address.to_string())))
                .collect(),
        )
        .into_iter();
        let mut pool_names = unique(
            model
                .clusters
                .iter()
                .zip(&cluster_names)
                .flat_map(|(c, cn)| c.node_pools.iter().map(move |p| (ident(&[cn, &p.name]), p.address.to_string())))
                .collect(),
        )
        .into_iter();

        // Which clusters run each service, and its home: one pass over the shares.
        let mut by_service: Vec<Vec<(u64, usize)>> = vec![Vec::new(); model.services.len()];
        for s in &model.placement.shares {
            if let Some(v) = by_service.get_mut(s.service) {
                v.push((s.first_ordinal, s.cluster));
            }
        }
        let mut lb_wanted: Vec<bool> = model.clusters.iter().map(|c| c.load_balancer.is_some()).collect();
        let mut lb_candidates = Vec::new();
        let mut host_candidates = Vec::new();
        for (fi, f) in model.forwards.iter().enumerate() {
            match f.target {
                ForwardTarget::Service(s) if s < by_service.len() => {
                    let home = by_service[s].iter().min().map(|&(_, c)| c);
                    for &(_, c) in &by_service[s] {
                        if f.home_only && Some(c) != home {
                            continue;
                        }
                        let cluster = &model.clusters[c];
                        lb_wanted[c] = true;
                        let (name, address) = if f.home_only {
                            (ident(&[&f.meta.name]), Address::clone(&f.meta.address))
                        } else {
                            (
                                ident(&[&f.meta.name, &cluster.meta.name]),
                                f.meta.address.share(cluster.meta.name.as_str()),
                            )
                        };
                        lb_candidates.push((fi, c, name, address));
                    }
                }
                ForwardTarget::Container(c) => {
                    if let Some(&h) = model.placement.container_hosts.get(c).filter(|&&h| h < model.hosts.len()) {
                        host_candidates.push((fi, h, ident(&[&f.meta.name]), f.meta.address.to_string()));
                    }
                }
                ForwardTarget::Service(_) => {}
            }
        }
        let with_sg: BTreeSet<usize> = host_candidates.iter().map(|&(_, h, _, _)| h).collect();

        // Security group rules share one namespace: forwards and the egress rules of hosts.
        let mut rule_candidates: Vec<(String, String)> =
            Vec::with_capacity(lb_candidates.len() + host_candidates.len() + with_sg.len());
        rule_candidates.extend(lb_candidates.iter().map(|(_, _, n, a)| (n.clone(), a.to_string())));
        rule_candidates.extend(host_candidates.iter().map(|(_, _, n, a)| (n.clone(), a.clone())));
        rule_candidates.extend(
            with_sg
                .iter()
                .map(|&h| (ident(&[&host_names[h], "egress"]), format!("{}#egress", model.hosts[h].meta.address))),
        );
        let mut rule_names = unique(rule_candidates).into_iter();

        let lb_forwards = lb_candidates
            .into_iter()
            .map(|(forward, cluster, _, address)| LbForward {
                forward,
                cluster,
                name: rule_names.next().unwrap_or_default(),
                address,
            })
            .collect();
        let host_forwards = host_candidates
            .into_iter()
            .map(|(forward, host, _, _)| HostForward { forward, host, name: rule_names.next().unwrap_or_default() })
            .collect();
        let mut egress: BTreeMap<usize, String> =
            with_sg.iter().map(|&h| (h, rule_names.next().unwrap_or_default())).collect();

        let hosts = model
            .hosts
            .iter()
            .zip(host_names)
            .enumerate()
            .map(|(i, (h, name))| HostPlan {
                name,
                region: if h.zone.is_empty() { primary.clone() } else { zone_region(&h.zone).to_string() },
                volumes: volume_names.by_ref().take(h.volumes.len()).collect(),
                egress: egress.remove(&i),
            })
            .collect();
        let clusters = model
            .clusters
            .iter()
            .zip(cluster_names)
            .zip(lb_wanted)
            .map(|((c, name), lb)| ClusterPlan {
                name,
                pools: pool_names.by_ref().take(c.node_pools.len()).collect(),
                lb,
                prefix_delegation: c.node_pools.iter().any(|p| p.prefix_delegation),
            })
            .collect();
        Plan { model, primary, hosts, clusters, lb_forwards, host_forwards }
    }

    /// `provider = aws.ALIAS` for objects outside the primary region.
    fn provider(&self, body: &mut Body, region: &str) {
        if region != self.primary {
            body.attr("provider", Expr::Bare(format!("aws.{}", region.replace('-', "_"))));
        }
    }

    fn regions(&self) -> BTreeSet<&str> {
        let mut r: BTreeSet<&str> = self.model.clusters.iter().map(|c| c.region.as_str()).collect();
        r.extend(self.hosts.iter().map(|h| h.region.as_str()));
        r.remove(self.primary.as_str());
        r
    }

    fn versions(&self) -> Vec<Block> {
        let mut aws = Body::new();
        aws.attr(
            "aws",
            Expr::Map(vec![("source".into(), Expr::str("hashicorp/aws")), ("version".into(), Expr::str(AWS_PROVIDER))]),
        );
        let mut tf = Body::new();
        tf.attr("required_version", Expr::str(TERRAFORM_VERSION)).block("required_providers", aws);
        let mut blocks = vec![Block::new("terraform", Vec::new(), tf)];
        let mut primary = Body::new();
        primary.attr("region", Expr::Ref("var.region".into()));
        blocks.push(Block::new("provider", vec!["aws".into()], primary));
        for region in self.regions() {
            let mut b = Body::new();
            b.attr("alias", Expr::str(region.replace('-', "_"))).attr("region", Expr::str(region));
            blocks.push(Block::new("provider", vec!["aws".into()], b));
        }
        blocks
    }

    fn variables(&self) -> Vec<Block> {
        let variable = |name: &str, default: Option<&str>, description: &str| {
            let mut b = Body::new();
            b.attr("type", Expr::Bare("string".into()));
            if let Some(d) = default {
                b.attr("default", Expr::str(d));
            }
            b.attr("description", Expr::str(description));
            Block::new("variable", vec![name.to_string()], b)
        };
        let mut blocks = vec![variable(
            "region",
            Some(&self.primary),
            "AWS region of the clusters and hosts (others get their own provider alias).",
        )];
        if self.model.clusters.iter().any(|c| c.role_arn.is_none()) {
            blocks.push(variable(
                "eks_cluster_role_arn",
                None,
                "IAM role ARN of the EKS control planes whose spec sets no role_arn.",
            ));
        }
        if self.model.clusters.iter().any(|c| c.node_role_arn.is_none()) {
            blocks.push(variable(
                "eks_node_role_arn",
                None,
                "IAM role ARN of the EKS nodes of clusters whose spec sets no node_role_arn.",
            ));
        }
        blocks
    }

    fn hosts(&self) -> Vec<Block> {
        let mut blocks = Vec::with_capacity(self.hosts.len() * 5);
        for i in sorted_by(self.hosts.len(), |i| &self.hosts[i].name) {
            let (host, plan) = (&self.model.hosts[i], &self.hosts[i]);
            let name = plan.name.as_str();
            let mut groups: Vec<Expr> = Vec::with_capacity(host.security_groups.len() + 1);
            if let Some(egress) = &plan.egress {
                if let Some(subnet) = &host.subnet {
                    let mut b = Body::new();
                    self.provider(&mut b, &plan.region);
                    b.attr("id", Expr::str(subnet));
                    blocks.push(Block::new("data", vec!["aws_subnet".into(), name.into()], b));
                }
                let mut sg = Body::new();
                self.provider(&mut sg, &plan.region);
                sg.attr("name", Expr::str(aws_name(name, SECURITY_GROUP_NAME_MAX))).attr(
                    "description",
                    Expr::str(format!("Ports berth forwards to the containers on {}", host.meta.name)),
                );
                if host.subnet.is_some() {
                    sg.attr("vpc_id", reference(&["data.aws_subnet", name, "vpc_id"]));
                }
                sg.attr("tags", tags(&host.meta.name, &host.meta.address, &host.tags));
                blocks.push(Block::resource("aws_security_group", name, sg));

                let mut rule = Body::new();
                self.provider(&mut rule, &plan.region);
                rule.attr("type", Expr::str("egress"))
                    .attr("security_group_id", reference(&["aws_security_group", name, "id"]))
                    .attr("protocol", Expr::str("-1"))
                    .attr("from_port", Expr::Int(0))
                    .attr("to_port", Expr::Int(0))
                    .attr("cidr_blocks", Expr::strs(&["0.0.0.0/0"]))
                    .attr("description", Expr::str(format!("Outbound traffic of {}", tag_address(&host.meta.address))));
                blocks.push(Block::resource("aws_security_group_rule", egress, rule));
                groups.push(reference(&["aws_security_group", name, "id"]));
            }
            groups.extend(host.security_groups.iter().map(Expr::str));

            let mut b = Body::new();
            self.provider(&mut b, &plan.region);
            b.attr("ami", Expr::str(&host.ami))
                .attr("instance_type", Expr::str(&host.instance_type))
                .attr("availability_zone", Expr::str(&host.zone));
            if let Some(subnet) = &host.subnet {
                b.attr("subnet_id", Expr::str(subnet));
            }
            if !groups.is_empty() {
                b.attr("vpc_security_group_ids", Expr::List(groups));
            }
            b.attr("tags", tags(&host.meta.name, &host.meta.address, &host.tags));
            blocks.push(Block::resource("aws_instance", name, b));

            for v in sorted_by(host.volumes.len(), |v| &plan.volumes[v]) {
                let (vol, vname) = (&host.volumes[v], plan.volumes[v].as_str());
                let mut b = Body::new();
                self.provider(&mut b, &plan.region);
                b.attr("availability_zone", reference(&["aws_instance", name, "availability_zone"]))
                    .attr("type", Expr::str(&vol.volume_type))
                    .attr("size", Expr::Int(vol.size_gib));
                if let Some(iops) = vol.iops {
                    b.attr("iops", Expr::Int(iops));
                }
                if let Some(t) = vol.throughput {
                    b.attr("throughput", Expr::Int(t));
                }
                b.attr("tags", tags(&format!("{}-{}", host.meta.name, vol.name), &vol.address, &host.tags));
                blocks.push(Block::resource("aws_ebs_volume", vname, b));

                let mut a = Body::new();
                self.provider(&mut a, &plan.region);
                a.attr("device_name", Expr::str(&vol.device))
                    .attr("volume_id", reference(&["aws_ebs_volume", vname, "id"]))
                    .attr("instance_id", reference(&["aws_instance", name, "id"]));
                blocks.push(Block::resource("aws_volume_attachment", vname, a));
            }
        }
        blocks
    }

    fn clusters(&self) -> Vec<Block> {
        let mut blocks = Vec::new();
        for ci in sorted_by(self.clusters.len(), |i| &self.clusters[i].name) {
            let (c, plan) = (&self.model.clusters[ci], &self.clusters[ci]);
            let name = plan.name.as_str();
            let mut b = Body::new();
            self.provider(&mut b, &c.region);
            b.attr("name", Expr::str(c.meta.name.as_str()))
                .attr(
                    "role_arn",
                    c.role_arn.as_ref().map_or_else(|| Expr::Ref("var.eks_cluster_role_arn".into()), Expr::str),
                )
                .attr("version", Expr::str(&c.version));
            let mut vpc = Body::new();
            vpc.attr("subnet_ids", Expr::strs(&c.subnets));
            b.block("vpc_config", vpc).attr("tags", tags(&c.meta.name, &c.meta.address, NO_TAGS));
            blocks.push(Block::resource("aws_eks_cluster", name, b));

            let addon = ident(&[name, "vpc_cni"]);
            if plan.prefix_delegation {
                let mut b = Body::new();
                self.provider(&mut b, &c.region);
                b.attr("cluster_name", reference(&["aws_eks_cluster", name, "name"]))
                    .attr("addon_name", Expr::str("vpc-cni"))
                    .attr("configuration_values", Expr::str(VPC_CNI_CONFIGURATION))
                    .attr("tags", tags(&format!("{}-vpc-cni", c.meta.name), &c.meta.address, NO_TAGS));
                blocks.push(Block::resource("aws_eks_addon", &addon, b));
            }

            for p in sorted_by(c.node_pools.len(), |p| &plan.pools[p]) {
                let (pool, pname) = (&c.node_pools[p], plan.pools[p].as_str());
                let template = pool.max_pods_explicit || pool.prefix_delegation;
                if template {
                    blocks.push(self.launch_template(c.region.as_str(), &c.meta.name, pool, pname));
                }
                blocks.push(self.node_group(
                    c,
                    name,
                    pool,
                    pname,
                    template,
                    plan.prefix_delegation.then_some(addon.as_str()),
                ));
            }
        }
        blocks
    }

    fn launch_template(&self, region: &str, cluster: &str, pool: &NodePool, name: &str) -> Block {
        let mut b = Body::new();
        self.provider(&mut b, region);
        b.attr("name", Expr::str(aws_name(name, LAUNCH_TEMPLATE_NAME_MAX)))
            .attr("description", Expr::str(format!("kubelet settings of node pool {} of {cluster}", pool.name)))
            .attr("user_data", Expr::Base64Heredoc(node_config(pool.max_pods)))
            .attr("tags", tags(&format!("{cluster}-{}", pool.name), &pool.address, NO_TAGS));
        Block::resource("aws_launch_template", name, b)
    }

    fn node_group(
        &self,
        c: &berth_model::Cluster,
        cluster: &str,
        pool: &NodePool,
        name: &str,
        template: bool,
        addon: Option<&str>,
    ) -> Block {
        let mut b = Body::new();
        self.provider(&mut b, &c.region);
        b.attr("cluster_name", reference(&["aws_eks_cluster", cluster, "name"]))
            .attr("node_group_name", Expr::str(aws_name(&ident(&[&pool.name]), NODE_GROUP_NAME_MAX)))
            .attr(
                "node_role_arn",
                c.node_role_arn.as_ref().map_or_else(|| Expr::Ref("var.eks_node_role_arn".into()), Expr::str),
            )
            .attr("subnet_ids", Expr::strs(&c.subnets))
            .attr("instance_types", Expr::strs(&[&pool.instance_type]));
        if template {
            b.attr("ami_type", Expr::str(AMI_TYPE));
        }
        if !pool.labels.is_empty() {
            b.attr("labels", Expr::Map(pool.labels.iter().map(|(k, v)| (k.clone(), Expr::str(v))).collect()));
        }
        let mut scaling = Body::new();
        scaling
            .attr("desired_size", Expr::Int(pool.desired))
            .attr("max_size", Expr::Int(pool.max))
            .attr("min_size", Expr::Int(pool.min));
        b.block("scaling_config", scaling);
        if template {
            let mut lt = Body::new();
            lt.attr("id", reference(&["aws_launch_template", name, "id"]))
                .attr("version", reference(&["aws_launch_template", name, "latest_version"]));
            b.block("launch_template", lt);
        }
        for t in pool.taints.iter().filter_map(|t| taint(t)) {
            b.block("taint", t);
        }
        if let (Some(addon), true) = (addon, pool.prefix_delegation) {
            b.attr("depends_on", Expr::List(vec![Expr::Bare(format!("aws_eks_addon.{addon}"))]));
        }
        b.attr("tags", tags(&format!("{}-{}", c.meta.name, pool.name), &pool.address, NO_TAGS));
        Block::resource("aws_eks_node_group", name, b)
    }

    fn load_balancers(&self) -> Vec<Block> {
        let mut blocks =
            Vec::with_capacity(self.clusters.len() + self.lb_forwards.len() * 3 + self.host_forwards.len());
        let mut per_cluster: Vec<Vec<usize>> = vec![Vec::new(); self.clusters.len()];
        for i in sorted_by(self.lb_forwards.len(), |i| &self.lb_forwards[i].name) {
            per_cluster[self.lb_forwards[i].cluster].push(i);
        }
        for ci in sorted_by(self.clusters.len(), |i| &self.clusters[i].name) {
            let (c, plan) = (&self.model.clusters[ci], &self.clusters[ci]);
            if !plan.lb {
                continue;
            }
            let name = plan.name.as_str();
            let (internal, subnets) =
                c.load_balancer.as_ref().map_or((true, &c.subnets), |lb| (lb.internal, &lb.subnets));
            let lb_name = aws_name(name, LB_NAME_MAX);
            let mut b = Body::new();
            self.provider(&mut b, &c.region);
            b.attr("name", Expr::str(&lb_name))
                .attr("internal", Expr::Bool(internal))
                .attr("load_balancer_type", Expr::str("network"))
                .attr("subnets", Expr::strs(subnets))
                .attr("tags", tags(&lb_name, &lb_address(&c.meta.address), NO_TAGS));
            blocks.push(Block::resource("aws_lb", name, b));

            for &i in &per_cluster[ci] {
                let lf = &self.lb_forwards[i];
                let f = &self.model.forwards[lf.forward];
                let tg_name = aws_name(&lf.name, TARGET_GROUP_NAME_MAX);
                let protocol = f.protocol.to_ascii_uppercase();
                let mut tg = Body::new();
                self.provider(&mut tg, &c.region);
                tg.attr("name", Expr::str(&tg_name))
                    .attr("port", Expr::Int(u64::from(f.target_port)))
                    .attr("protocol", Expr::str(&protocol))
                    .attr("target_type", Expr::str("ip"))
                    .attr("vpc_id", Expr::Ref(format!("aws_eks_cluster.{name}.vpc_config[0].vpc_id")))
                    .attr("tags", tags(&tg_name, &lf.address, NO_TAGS));
                blocks.push(Block::resource("aws_lb_target_group", &lf.name, tg));

                let mut action = Body::new();
                action
                    .attr("type", Expr::str("forward"))
                    .attr("target_group_arn", reference(&["aws_lb_target_group", &lf.name, "arn"]));
                let mut l = Body::new();
                self.provider(&mut l, &c.region);
                l.attr("load_balancer_arn", reference(&["aws_lb", name, "arn"]))
                    .attr("port", Expr::Int(u64::from(f.port)))
                    .attr("protocol", Expr::str(&protocol))
                    .block("default_action", action)
                    .attr("tags", tags(&tg_name, &lf.address, NO_TAGS));
                blocks.push(Block::resource("aws_lb_listener", &lf.name, l));

                let mut r = Body::new();
                self.provider(&mut r, &c.region);
                self.ingress(
                    &mut r,
                    f,
                    f.target_port,
                    Expr::Ref(format!("aws_eks_cluster.{name}.vpc_config[0].cluster_security_group_id")),
                    &lf.address,
                );
                blocks.push(Block::resource("aws_security_group_rule", &lf.name, r));
            }
        }
        for i in sorted_by(self.host_forwards.len(), |i| &self.host_forwards[i].name) {
            let hf = &self.host_forwards[i];
            let f = &self.model.forwards[hf.forward];
            let host = &self.hosts[hf.host];
            let mut r = Body::new();
            self.provider(&mut r, &host.region);
            self.ingress(&mut r, f, f.port, reference(&["aws_security_group", &host.name, "id"]), &f.meta.address);
            blocks.push(Block::resource("aws_security_group_rule", &hf.name, r));
        }
        blocks
    }

    /// An ingress rule letting a forward's sources in on one port.
    fn ingress(&self, r: &mut Body, f: &berth_model::Forward, port: u16, group: Expr, address: &Address) {
        let (v6, v4): (Vec<&String>, Vec<&String>) = f.sources.iter().partition(|s| s.contains(':'));
        r.attr("type", Expr::str("ingress"))
            .attr("security_group_id", group)
            .attr("protocol", Expr::str(&f.protocol))
            .attr("from_port", Expr::Int(u64::from(port)))
            .attr("to_port", Expr::Int(u64::from(port)));
        if !v4.is_empty() {
            r.attr("cidr_blocks", Expr::strs(&v4));
        }
        if !v6.is_empty() {
            r.attr("ipv6_cidr_blocks", Expr::strs(&v6));
        }
        r.attr("description", Expr::str(format!("berth {}", tag_address(address))));
    }

    fn outputs(&self) -> Vec<Block> {
        let output = |name: String, value: Expr, description: String| {
            let mut b = Body::new();
            b.attr("value", value).attr("description", Expr::str(description));
            Block::new("output", vec![name], b)
        };
        let mut blocks = Vec::with_capacity(self.clusters.len() * 2 + self.lb_forwards.len() + self.hosts.len());
        for ci in sorted_by(self.clusters.len(), |i| &self.clusters[i].name) {
            let (c, plan) = (&self.model.clusters[ci], &self.clusters[ci]);
            let name = plan.name.as_str();
            blocks.push(output(
                format!("{name}_endpoint"),
                reference(&["aws_eks_cluster", name, "endpoint"]),
                format!("API server endpoint of {}.", c.meta.address),
            ));
            if plan.lb {
                blocks.push(output(
                    format!("{name}_load_balancer_dns_name"),
                    reference(&["aws_lb", name, "dns_name"]),
                    format!("DNS name of the load balancer of {}.", c.meta.address),
                ));
            }
        }
        for i in sorted_by(self.lb_forwards.len(), |i| &self.lb_forwards[i].name) {
            let lf = &self.lb_forwards[i];
            blocks.push(output(
                format!("{}_target_group_arn", lf.name),
                reference(&["aws_lb_target_group", &lf.name, "arn"]),
                format!(
                    "Target group of {}, for the cluster's load balancer controller to register pods in.",
                    lf.address
                ),
            ));
        }
        for i in sorted_by(self.hosts.len(), |i| &self.hosts[i].name) {
            let name = &self.hosts[i].name;
            blocks.push(output(
                format!("{name}_private_ip"),
                reference(&["aws_instance", name, "private_ip"]),
                format!("Private IP address of {}.", self.model.hosts[i].meta.address),
            ));
        }
        blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_map_to_their_region() {
        assert_eq!(zone_region("eu-west-1a"), "eu-west-1");
        assert_eq!(zone_region("us-gov-west-1b"), "us-gov-west-1");
        assert_eq!(zone_region("us-west-2-lax-1a"), "us-west-2");
        assert_eq!(zone_region("weird"), "weird");
    }

    #[test]
    fn taints_become_blocks() {
        let b = taint("dedicated=gpu:NoSchedule").unwrap();
        assert_eq!(b.0.len(), 3);
        assert_eq!(taint("only-key:NoExecute").unwrap().0.len(), 2);
        assert!(taint("no-effect").is_none());
    }
}

//! Semantic checks over the placed model: node and cluster capacity against the catalogue and
//! the Kubernetes envelope, Docker hosts against their instance type and address pools,
//! volume limits, forwards, images and environment expiry.

use crate::CheckContext;
use crate::place::pool_prefix;
use berth_diag::{Diagnostic, Diagnostics, codes};
use berth_model::{ForwardTarget, Model};
use berth_stdlib::catalogue;
use std::collections::BTreeMap;

/// Nodes per cluster Kubernetes supports.
const MAX_NODES_PER_CLUSTER: u64 = 5_000;
/// Overlay filesystems stack about this many layers.
const MAX_LAYERS: usize = 125;

pub(crate) fn check(model: &Model, cx: CheckContext, diags: &mut Diagnostics) {
    clusters(model, diags);
    hosts(model, diags);
    forwards(model, diags);
    images(model, diags);
    environments(model, cx, diags);
}

fn clusters(model: &Model, diags: &mut Diagnostics) {
    let mut placed = vec![0u64; model.clusters.len()];
    for s in &model.placement.shares {
        placed[s.cluster] += s.replicas;
    }
    for (ci, c) in model.clusters.iter().enumerate() {
        let mut nodes = 0;
        for p in &c.node_pools {
            if !(p.min <= p.desired && p.desired <= p.max && p.max >= 1) {
                diags.push(
                    Diagnostic::error(&codes::CAPACITY_NODE_POOL_SIZE, p.span, format!("{} has min {}, desired {}, max {}", p.address, p.min, p.desired, p.max))
                        .with_label("expected min <= desired <= max, max >= 1")
                        .with_help(codes::CAPACITY_NODE_POOL_SIZE.fix),
                );
            }
            nodes += p.max;
            let Some(it) = catalogue::instance_type(&p.instance_type) else { continue };
            if p.prefix_delegation && !it.nitro {
                diags.push(
                    Diagnostic::error(&codes::CAPACITY_PODS_PER_NODE, p.span, format!("{} asks for prefix delegation, but {} is not a Nitro instance", p.address, it.name))
                        .with_label("prefix delegation needs Nitro")
                        .with_help(format!("use a Nitro type such as {}, or drop prefix_delegation", nitro_alternative(it))),
                );
                continue;
            }
            let limit = if p.prefix_delegation { it.eks_max_pods_prefix_delegation().unwrap_or(it.eks_max_pods()) } else { it.eks_max_pods() };
            if p.max_pods > u64::from(limit) {
                diags.push(
                    Diagnostic::error(&codes::CAPACITY_PODS_PER_NODE, p.span, format!("{} sets kubelet max_pods {}, but a {} node runs at most {limit} pods on EKS", p.address, p.max_pods, it.name))
                        .with_label(eni_explanation(it, p.prefix_delegation))
                        .with_help(raise_hint(it, p.max_pods)),
                );
            }
        }
        if nodes > MAX_NODES_PER_CLUSTER {
            diags.push(
                Diagnostic::error(&codes::CAPACITY_SCALE, c.meta.span, format!("{} can grow to {nodes} nodes; Kubernetes supports {MAX_NODES_PER_CLUSTER} per cluster", c.meta.address))
                    .with_label("beyond 5,000 nodes")
                    .with_help(codes::CAPACITY_SCALE.fix),
            );
        }
        if c.max_pods.is_some_and(|m| m > crate::place::MAX_PODS_PER_CLUSTER) {
            diags.push(
                Diagnostic::error(&codes::CAPACITY_SCALE, c.meta.span, format!("{} caps pods at {}; Kubernetes supports 150,000 per cluster", c.meta.address, c.max_pods.unwrap_or(0)))
                    .with_label("beyond 150,000 pods")
                    .with_help(codes::CAPACITY_SCALE.fix),
            );
        }
        let node_room: u64 = c.node_pools.iter().filter(|p| !p.system).map(|p| p.desired * p.max_pods).sum();
        let workload_nodes: u64 = c.node_pools.iter().filter(|p| !p.system).map(|p| p.desired).sum();
        if placed[ci] > node_room && !c.node_pools.is_empty() {
            let per_node = placed[ci].div_ceil(workload_nodes.max(1));
            let pool = c.node_pools.iter().find(|p| !p.system).unwrap_or(&c.node_pools[0]);
            let mut d = Diagnostic::error(
                &codes::CAPACITY_PODS_PER_NODE,
                c.meta.span,
                format!("{} pods on {} nodes of {} need {per_node} pods per node; its nodes run at most {} ({} in all)", placed[ci], workload_nodes, c.meta.address, pool.max_pods, node_room),
            )
            .with_note(pool.span, "the node pool");
            if let Some(it) = catalogue::instance_type(&pool.instance_type) {
                let needed = placed[ci].div_ceil(pool.max_pods.max(1));
                d = d.with_label(eni_explanation(it, pool.prefix_delegation)).with_help(format!("{} nodes would be needed; {}", needed, raise_hint(it, per_node)));
            }
            diags.push(d);
        }
    }
}

fn eni_explanation(it: &catalogue::InstanceType, prefix: bool) -> String {
    if prefix {
        format!("{}: prefix delegation allows {} pods per node", it.name, it.eks_max_pods_prefix_delegation().unwrap_or(0))
    } else {
        format!("{}: {} ENIs x ({} IPv4 - 1) + 2 = {} pods per node", it.name, it.enis, it.ipv4_per_eni, it.eks_max_pods())
    }
}

fn raise_hint(it: &catalogue::InstanceType, wanted: u64) -> String {
    match it.eks_max_pods_prefix_delegation() {
        Some(pd) if u64::from(pd) >= wanted => {
            format!("enable prefix_delegation on this Nitro type and set max_pods = {wanted} (up to {pd}), or add nodes")
        }
        Some(_) => "even prefix delegation does not reach that: add nodes or split the pods over more node pools".to_string(),
        None => format!("{} is not Nitro, so prefix delegation cannot raise it: add nodes, or move to a Nitro type such as {} with prefix_delegation = true", it.name, nitro_alternative(it)),
    }
}

/// A Nitro type with at least the vCPUs of `it`, for hints.
fn nitro_alternative(it: &catalogue::InstanceType) -> String {
    catalogue::instance_types()
        .iter()
        .filter(|t| t.nitro && t.vcpus >= it.vcpus.min(128))
        .min_by_key(|t| (t.vcpus, t.name.clone()))
        .map_or_else(|| "m6i.32xlarge".to_string(), |t| t.name.clone())
}

fn hosts(model: &Model, diags: &mut Diagnostics) {
    let mut cpus = vec![0.0f64; model.hosts.len()];
    let mut mem = vec![0u64; model.hosts.len()];
    let mut count = vec![0usize; model.hosts.len()];
    let mut networks: Vec<BTreeMap<&str, usize>> = vec![BTreeMap::new(); model.hosts.len()];
    for (i, c) in model.containers.iter().enumerate() {
        let Some(&h) = model.placement.container_hosts.get(i) else { continue };
        if h >= model.hosts.len() {
            continue;
        }
        cpus[h] += c.cpus;
        mem[h] += c.memory_bytes;
        count[h] += 1;
        if c.networks.is_empty() {
            *networks[h].entry("default").or_default() += 1;
        }
        for n in &c.networks {
            *networks[h].entry(n.as_str()).or_default() += 1;
        }
    }
    for (h, host) in model.hosts.iter().enumerate() {
        if host.vcpus > 0 && cpus[h] > f64::from(host.vcpus) * host.docker.cpu_overcommit {
            diags.push(
                Diagnostic::error(&codes::CAPACITY_HOST, host.meta.span, format!("the {} containers on {} are limited to {} CPUs in all; a {} has {} vCPUs, and cpu_overcommit allows {}x", count[h], host.meta.address, berth_model::format_number(cpus[h]), host.instance_type, host.vcpus, host.docker.cpu_overcommit))
                    .with_label("CPU limits over the instance type")
                    .with_help("place fewer containers there, lower their cpus, or raise docker { cpu_overcommit } if they are mostly idle"),
            );
        }
        let mem_mib = mem[h] >> 20;
        if host.memory_mib > 0 && mem_mib > host.memory_mib {
            diags.push(
                Diagnostic::error(&codes::CAPACITY_HOST, host.meta.span, format!("the {} containers on {} ask for {} MiB; a {} has {} MiB", count[h], host.meta.address, mem_mib, host.instance_type, host.memory_mib))
                    .with_label("memory over the instance type")
                    .with_help(codes::CAPACITY_HOST.fix),
            );
        }
        let biggest = networks[h].values().copied().max().unwrap_or(0);
        let needed = pool_prefix(biggest);
        if host.docker.address_pool_size > needed {
            diags.push(
                Diagnostic::error(&codes::CAPACITY_ADDRESS_POOL, host.meta.span, format!("{} puts {biggest} containers on one network, but its pools are /{} (room for {})", host.meta.address, host.docker.address_pool_size, (1u64 << (32 - u32::from(host.docker.address_pool_size))).saturating_sub(3)))
                    .with_label(format!("needs /{needed} pools"))
                    .with_help(format!("set address_pool_size = {needed} or less, or leave it unset")),
            );
        }
        if let Ok(base) = crate::formats::cidr(&host.docker.address_pool_base) {
            let base_len = base.prefix_len();
            let pools = if host.docker.address_pool_size >= base_len { 1u64 << (host.docker.address_pool_size - base_len).min(63) } else { 0 };
            if pools < networks[h].len() as u64 {
                diags.push(
                    Diagnostic::error(&codes::CAPACITY_ADDRESS_POOL, host.meta.span, format!("{} needs {} networks, but {} split into /{} gives {pools}", host.meta.address, networks[h].len(), host.docker.address_pool_base, host.docker.address_pool_size))
                        .with_label("too few address pools")
                        .with_help("use a larger address_pool_base or a smaller pool"),
                );
            }
        }
        volumes(host, diags);
    }
}

fn volumes(host: &berth_model::Host, diags: &mut Diagnostics) {
    let mut mounts: BTreeMap<&str, berth_diag::Span> = BTreeMap::new();
    let mut devices: BTreeMap<&str, berth_diag::Span> = BTreeMap::new();
    for v in &host.volumes {
        // (min GiB, max GiB, max IOPS, max IOPS per GiB, throughput allowed)
        let limits = match v.volume_type.as_str() {
            "gp3" => Some((1, 16_384, 16_000, 500, true)),
            "gp2" => Some((1, 16_384, 0, 0, false)),
            "io1" => Some((4, 16_384, 64_000, 50, false)),
            "io2" => Some((4, 65_536, 256_000, 1_000, false)),
            "st1" | "sc1" => Some((125, 16_384, 0, 0, false)),
            _ => None,
        };
        if let Some((min, max, max_iops, per_gib, throughput)) = limits {
            let mut problem = |msg: String, label: &str| {
                diags.push(Diagnostic::error(&codes::VOLUME_LIMITS, v.span, msg).with_label(label.to_string()).with_help(codes::VOLUME_LIMITS.fix));
            };
            if v.size_gib < min || v.size_gib > max {
                problem(format!("{} is {} GiB; {} volumes are {min}-{max} GiB", v.address, v.size_gib, v.volume_type), "size out of range");
            }
            if let Some(iops) = v.iops {
                if max_iops == 0 {
                    problem(format!("{} sets iops, which {} volumes do not take", v.address, v.volume_type), "no provisioned IOPS on this type");
                } else if iops > max_iops {
                    problem(format!("{} asks for {iops} IOPS; {} allows at most {max_iops}", v.address, v.volume_type), "IOPS over the type's maximum");
                } else if iops > v.size_gib * per_gib {
                    problem(format!("{} asks for {iops} IOPS on {} GiB; {} allows {per_gib} IOPS per GiB", v.address, v.size_gib, v.volume_type), "IOPS over the per-GiB ratio");
                }
            } else if matches!(v.volume_type.as_str(), "io1" | "io2") {
                problem(format!("{} is {} and needs `iops`", v.address, v.volume_type), "io1/io2 need iops");
            }
            if let Some(t) = v.throughput {
                if !throughput {
                    problem(format!("{} sets throughput, which only gp3 volumes take", v.address), "no throughput on this type");
                } else if !(125..=1000).contains(&t) {
                    problem(format!("{} asks for {t} MiB/s; gp3 allows 125-1000", v.address), "throughput out of range");
                }
            }
        }
        let device_ok = ["/dev/sd", "/dev/xvd"].iter().any(|p| v.device.strip_prefix(p).is_some_and(|rest| rest.len() == 1 && ('f'..='p').contains(&rest.chars().next().unwrap_or('a'))));
        if !v.mount.starts_with('/') || !device_ok {
            diags.push(
                Diagnostic::error(&codes::VOLUME_MOUNT, v.span, format!("{} has device {:?} and mount {:?}", v.address, v.device, v.mount))
                    .with_label("expected /dev/sd[f-p] and an absolute mount point")
                    .with_help(codes::VOLUME_MOUNT.fix),
            );
        }
        for (seen, key, what) in [(&mut mounts, v.mount.as_str(), "mount point"), (&mut devices, v.device.as_str(), "device")] {
            if let Some(first) = seen.insert(key, v.span) {
                diags.push(
                    Diagnostic::error(&codes::VOLUME_MOUNT, v.span, format!("{} reuses {what} {key:?}", v.address))
                        .with_note(first, "first used here")
                        .with_help(codes::VOLUME_MOUNT.fix),
                );
            }
        }
    }
}

fn forwards(model: &Model, diags: &mut Diagnostics) {
    let mut ports: BTreeMap<(String, u16), berth_diag::Span> = BTreeMap::new();
    for f in &model.forwards {
        let places: Vec<String> = match f.target {
            ForwardTarget::Service(s) if s < model.services.len() => {
                let shares: Vec<usize> = model.shares_of(s).map(|sh| sh.cluster).collect();
                let home = model.home_cluster(s);
                shares.into_iter().filter(|c| !f.home_only || Some(*c) == home).map(|c| format!("load balancer of {}", model.clusters[c].meta.name)).collect()
            }
            ForwardTarget::Container(c) if c < model.containers.len() => {
                model.placement.container_hosts.get(c).filter(|&&h| h < model.hosts.len()).map(|&h| format!("host {}", model.hosts[h].meta.name)).into_iter().collect()
            }
            _ => continue,
        };
        if places.is_empty() {
            diags.push(
                Diagnostic::error(&codes::FORWARD_NOWHERE, f.meta.span, format!("{} forwards to something that runs nowhere", f.meta.address))
                    .with_label("no backends")
                    .with_help(codes::FORWARD_NOWHERE.fix),
            );
        }
        for place in places {
            if let Some(first) = ports.insert((place.clone(), f.port), f.meta.span) {
                diags.push(
                    Diagnostic::error(&codes::FORWARD_CONFLICT, f.meta.span, format!("port {} on the {place} is forwarded twice", f.port))
                        .with_label("second forward on this port")
                        .with_note(first, "first forward")
                        .with_help(codes::FORWARD_CONFLICT.fix),
                );
            }
        }
    }
}

fn images(model: &Model, diags: &mut Diagnostics) {
    for img in &model.images {
        if img.layers.len() > MAX_LAYERS {
            diags.push(
                Diagnostic::error(&codes::IMAGE_LAYERS, img.meta.span, format!("{} has {} layers; overlay stacks at most about {MAX_LAYERS}", img.meta.address, img.layers.len()))
                    .with_label("too many layers")
                    .with_help(codes::IMAGE_LAYERS.fix),
            );
        }
        for pair in img.layers.windows(2) {
            if pair[0].changes > pair[1].changes {
                diags.push(
                    Diagnostic::warning(&codes::IMAGE_LAYERS, pair[1].span, format!("layer {:?} changes less often ({:?}) than {:?} below it ({:?})", pair[1].name, pair[1].changes, pair[0].name, pair[0].changes))
                        .with_label("stabler layer above a faster one")
                        .with_note(pair[0].span, "the faster-changing layer")
                        .with_help("order layers from stable to fast-changing so caches hold"),
                );
            }
        }
        if let Some(budget) = img.stable_budget {
            let stable: u64 = img.layers.iter().filter(|l| l.changes < berth_model::Cadence::Release).filter_map(|l| l.size).sum();
            if stable > budget {
                diags.push(
                    Diagnostic::error(&codes::IMAGE_LAYERS, img.meta.span, format!("the stable layers of {} total {} MiB, over the budget of {} MiB", img.meta.address, stable >> 20, budget >> 20))
                        .with_label("over stable_budget")
                        .with_help("trim the stable layers or raise stable_budget"),
                );
            }
        }
    }
}

fn environments(model: &Model, cx: CheckContext, diags: &mut Diagnostics) {
    for e in &model.environments {
        if let Some(at) = e.expires_unix
            && at <= cx.now_unix
        {
            diags.push(
                Diagnostic::warning(&codes::ENVIRONMENT_EXPIRED, e.meta.span, format!("{} expired at {}", e.meta.address, e.expires.as_deref().unwrap_or("?")))
                    .with_label(format!("owner {}", e.owner))
                    .with_help(codes::ENVIRONMENT_EXPIRED.fix),
            );
        }
    }
}

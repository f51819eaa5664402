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
    forward_quotas(model, diags);
    images(model, diags);
    environments(model, cx, diags);
}

fn clusters(model: &Model, diags: &mut Diagnostics) {
    let mut placed = vec![0u64; model.clusters.len()];
    for s in &model.placement.shares {
        placed[s.cluster] = placed[s.cluster].saturating_add(s.replicas);
    }
    for (ci, c) in model.clusters.iter().enumerate() {
        let mut nodes: u64 = 0;
        for p in &c.node_pools {
            if !(p.min <= p.desired && p.desired <= p.max && p.max >= 1) {
                diags.push(
                    Diagnostic::error(
                        &codes::CAPACITY_NODE_POOL_SIZE,
                        p.span,
                        format!("{} has min {}, desired {}, max {}", p.address, p.min, p.desired, p.max),
                    )
                    .with_label("expected min <= desired <= max, max >= 1")
                    .with_help(codes::CAPACITY_NODE_POOL_SIZE.fix),
                );
            }
            nodes = nodes.saturating_add(p.max);
            let Some(it) = catalogue::instance_type(&p.instance_type) else { continue };
            if p.prefix_delegation && !it.nitro {
                diags.push(
                    Diagnostic::error(
                        &codes::CAPACITY_PODS_PER_NODE,
                        p.span,
                        format!("{} asks for prefix delegation, but {} is not a Nitro instance", p.address, it.name),
                    )
                    .with_label("prefix delegation needs Nitro")
                    .with_help(format!(
                        "use a Nitro type such as {}, or drop prefix_delegation",
                        nitro_alternative(it)
                    )),
                );
                continue;
            }
            let limit = if p.prefix_delegation {
                it.eks_max_pods_prefix_delegation().unwrap_or(it.eks_max_pods())
            } else {
                it.eks_max_pods()
            };
            if p.max_pods > u64::from(limit) {
                diags.push(
                    Diagnostic::error(
                        &codes::CAPACITY_PODS_PER_NODE,
                        p.span,
                        format!(
                            "{} sets kubelet max_pods {}, but a {} node runs at most {limit} pods on EKS",
                            p.address, p.max_pods, it.name
                        ),
                    )
                    .with_label(eni_explanation(it, p.prefix_delegation))
                    .with_help(raise_hint(it, p.max_pods)),
                );
            }
        }
        if nodes > MAX_NODES_PER_CLUSTER {
            diags.push(
                Diagnostic::error(
                    &codes::CAPACITY_SCALE,
                    c.meta.span,
                    format!(
                        "{} can grow to {nodes} nodes; Kubernetes supports {MAX_NODES_PER_CLUSTER} per cluster",
                        c.meta.address
                    ),
                )
                .with_label("beyond 5,000 nodes")
                .with_help(codes::CAPACITY_SCALE.fix),
            );
        }
        if c.max_pods.is_some_and(|m| m > crate::place::MAX_PODS_PER_CLUSTER) {
            diags.push(
                Diagnostic::error(
                    &codes::CAPACITY_SCALE,
                    c.meta.span,
                    format!(
                        "{} caps pods at {}; Kubernetes supports 150,000 per cluster",
                        c.meta.address,
                        c.max_pods.unwrap_or(0)
                    ),
                )
                .with_label("beyond 150,000 pods")
                .with_help(codes::CAPACITY_SCALE.fix),
            );
        }
        let node_room: u64 = c
            .node_pools
            .iter()
            .filter(|p| !p.system)
            .fold(0u64, |n, p| n.saturating_add(p.desired.saturating_mul(p.max_pods)));
        let workload_nodes: u64 =
            c.node_pools.iter().filter(|p| !p.system).fold(0u64, |n, p| n.saturating_add(p.desired));
        if placed[ci] > node_room && !c.node_pools.is_empty() {
            let per_node = placed[ci].div_ceil(workload_nodes.max(1));
            let pool = c.node_pools.iter().find(|p| !p.system).unwrap_or(&c.node_pools[0]);
            let mut d = Diagnostic::error(
                &codes::CAPACITY_PODS_PER_NODE,
                c.meta.span,
                format!(
                    "{} pods on {} nodes of {} need {per_node} pods per node; its nodes run at most {} ({} in all)",
                    placed[ci], workload_nodes, c.meta.address, pool.max_pods, node_room
                ),
            )
            .with_note(pool.span, "the node pool");
            if let Some(it) = catalogue::instance_type(&pool.instance_type) {
                let needed = placed[ci].div_ceil(pool.max_pods.max(1));
                d = d.with_label(eni_explanation(it, pool.prefix_delegation)).with_help(format!(
                    "{} nodes would be needed; {}",
                    needed,
                    raise_hint(it, per_node)
                ));
            }
            diags.push(d);
        }
    }
}

fn eni_explanation(it: &catalogue::InstanceType, prefix: bool) -> String {
    if prefix {
        format!(
            "{}: prefix delegation allows {} pods per node",
            it.name,
            it.eks_max_pods_prefix_delegation().unwrap_or(0)
        )
    } else {
        format!(
            "{}: {} ENIs x ({} IPv4 - 1) + 2 = {} pods per node",
            it.name,
            it.enis,
            it.ipv4_per_eni,
            it.eks_max_pods()
        )
    }
}

fn raise_hint(it: &catalogue::InstanceType, wanted: u64) -> String {
    match it.eks_max_pods_prefix_delegation() {
        Some(pd) if u64::from(pd) >= wanted => {
            format!(
                "enable prefix_delegation on this Nitro type and set max_pods = {wanted} (up to {pd}), or add nodes"
            )
        }
        Some(_) => {
            "even prefix delegation does not reach that: add nodes or split the pods over more node pools".to_string()
        }
        None => format!(
            "{} is not Nitro, so prefix delegation cannot raise it: add nodes, or move to a Nitro type such as {} with prefix_delegation = true",
            it.name,
            nitro_alternative(it)
        ),
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
    let mut networks: Vec<BTreeMap<&str, usize>> = vec![BTreeMap::new(); model.hosts.len()];
    let mut on_host: Vec<Vec<usize>> = vec![Vec::new(); model.hosts.len()];
    for (i, c) in model.containers.iter().enumerate() {
        let Some(&h) = model.placement.container_hosts.get(i) else { continue };
        if h >= model.hosts.len() {
            continue;
        }
        cpus[h] += c.cpus;
        mem[h] = mem[h].saturating_add(c.memory_bytes);
        on_host[h].push(i);
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
                Diagnostic::error(&codes::CAPACITY_HOST, host.meta.span, format!("the {} containers on {} are limited to {} CPUs in all; a {} has {} vCPUs, and cpu_overcommit allows {}x", on_host[h].len(), host.meta.address, berth_model::format_number(cpus[h]), host.instance_type, host.vcpus, host.docker.cpu_overcommit))
                    .with_label("CPU limits over the instance type")
                    .with_help("place fewer containers there, lower their cpus, or raise docker { cpu_overcommit } if they are mostly idle"),
            );
        }
        let mem_mib = mem[h] >> 20;
        if host.memory_mib > 0 && mem_mib > host.memory_mib {
            diags.push(
                Diagnostic::error(
                    &codes::CAPACITY_HOST,
                    host.meta.span,
                    format!(
                        "the {} containers on {} ask for {} MiB; a {} has {} MiB",
                        on_host[h].len(),
                        host.meta.address,
                        mem_mib,
                        host.instance_type,
                        host.memory_mib
                    ),
                )
                .with_label("memory over the instance type")
                .with_help(codes::CAPACITY_HOST.fix),
            );
        }
        let biggest = networks[h].values().copied().max().unwrap_or(0);
        let needed = pool_prefix(biggest);
        if host.docker.address_pool_size > needed {
            diags.push(
                Diagnostic::error(
                    &codes::CAPACITY_ADDRESS_POOL,
                    host.meta.span,
                    format!(
                        "{} puts {biggest} containers on one network, but its pools are /{} (room for {})",
                        host.meta.address,
                        host.docker.address_pool_size,
                        (1u64 << (32 - u32::from(host.docker.address_pool_size))).saturating_sub(3)
                    ),
                )
                .with_label(format!("needs /{needed} pools"))
                .with_help(format!("set address_pool_size = {needed} or less, or leave it unset")),
            );
        }
        if let Ok(base) = crate::formats::cidr(&host.docker.address_pool_base) {
            let base_len = base.prefix_len();
            let pools = if host.docker.address_pool_size >= base_len {
                1u64 << (host.docker.address_pool_size - base_len).min(63)
            } else {
                0
            };
            if pools < networks[h].len() as u64 {
                diags.push(
                    Diagnostic::error(
                        &codes::CAPACITY_ADDRESS_POOL,
                        host.meta.span,
                        format!(
                            "{} needs {} networks, but {} split into /{} gives {pools}",
                            host.meta.address,
                            networks[h].len(),
                            host.docker.address_pool_base,
                            host.docker.address_pool_size
                        ),
                    )
                    .with_label("too few address pools")
                    .with_help("use a larger address_pool_base or a smaller pool"),
                );
            }
        }
        volumes(host, diags);
        volume_balance(model, h, &on_host[h], diags);
    }
}

/// Warns when the IOPS demand balanced onto a volume ([`Model::data_volumes`]) exceeds what it
/// delivers. `on_host` are the host's containers.
fn volume_balance(model: &Model, h: usize, on_host: &[usize], diags: &mut Diagnostics) {
    let host = &model.hosts[h];
    let mut on: Vec<Vec<usize>> = vec![Vec::new(); host.volumes.len()];
    for (c, v) in model.data_volumes_among(h, on_host) {
        on[v].push(c);
    }
    for (v, containers) in host.volumes.iter().zip(&on) {
        let demand = containers.iter().fold(v.iops_demand.unwrap_or(0), |sum, &c| {
            sum.saturating_add(model.containers[c].iops_demand.unwrap_or(0))
        });
        if containers.is_empty() || demand <= v.iops_capacity() {
            continue;
        }
        let names: Vec<&str> = containers.iter().take(5).map(|&c| model.containers[c].meta.name.as_str()).collect();
        let more = containers.len().saturating_sub(names.len());
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        diags.push(
            Diagnostic::warning(
                &codes::VOLUME_BALANCE,
                v.span,
                format!(
                    "{} carries {demand} IOPS of demand but delivers {} (containers {}{more})",
                    v.address,
                    v.iops_capacity(),
                    names.join(", ")
                ),
            )
            .with_label("IOPS demand over the volume's IOPS")
            .with_note(model.containers[containers[0]].meta.span, "the first container balanced onto it")
            .with_help(codes::VOLUME_BALANCE.fix),
        );
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
        // A size that failed to parse was reported already: its limits cannot be judged.
        if let Some((min, max, max_iops, per_gib, throughput)) = limits.filter(|_| v.size_gib > 0) {
            let mut problem = |msg: String, label: &str| {
                diags.push(
                    Diagnostic::error(&codes::VOLUME_LIMITS, v.span, msg)
                        .with_label(label.to_string())
                        .with_help(codes::VOLUME_LIMITS.fix),
                );
            };
            if v.size_gib < min || v.size_gib > max {
                problem(
                    format!("{} is {} GiB; {} volumes are {min}-{max} GiB", v.address, v.size_gib, v.volume_type),
                    "size out of range",
                );
            }
            if let Some(iops) = v.iops {
                if max_iops == 0 {
                    problem(
                        format!("{} sets iops, which {} volumes do not take", v.address, v.volume_type),
                        "no provisioned IOPS on this type",
                    );
                } else if iops > max_iops {
                    problem(
                        format!("{} asks for {iops} IOPS; {} allows at most {max_iops}", v.address, v.volume_type),
                        "IOPS over the type's maximum",
                    );
                } else if iops > v.size_gib.saturating_mul(per_gib) {
                    problem(
                        format!(
                            "{} asks for {iops} IOPS on {} GiB; {} allows {per_gib} IOPS per GiB",
                            v.address, v.size_gib, v.volume_type
                        ),
                        "IOPS over the per-GiB ratio",
                    );
                }
            } else if matches!(v.volume_type.as_str(), "io1" | "io2") {
                problem(format!("{} is {} and needs `iops`", v.address, v.volume_type), "io1/io2 need iops");
            }
            if let Some(t) = v.throughput {
                if !throughput {
                    problem(
                        format!("{} sets throughput, which only gp3 volumes take", v.address),
                        "no throughput on this type",
                    );
                } else if !(125..=1000).contains(&t) {
                    problem(
                        format!("{} asks for {t} MiB/s; gp3 allows 125-1000", v.address),
                        "throughput out of range",
                    );
                }
            }
        }
        let device_ok = ["/dev/sd", "/dev/xvd"].iter().any(|p| {
            v.device
                .strip_prefix(p)
                .is_some_and(|rest| rest.len() == 1 && ('f'..='p').contains(&rest.chars().next().unwrap_or('a')))
        });
        if !v.mount.starts_with('/') || !device_ok {
            diags.push(
                Diagnostic::error(
                    &codes::VOLUME_MOUNT,
                    v.span,
                    format!("{} has device {:?} and mount {:?}", v.address, v.device, v.mount),
                )
                .with_label("expected /dev/sd[f-p] and an absolute mount point")
                .with_help(codes::VOLUME_MOUNT.fix),
            );
        }
        for (seen, key, what) in
            [(&mut mounts, v.mount.as_str(), "mount point"), (&mut devices, v.device.as_str(), "device")]
        {
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
                shares
                    .into_iter()
                    .filter(|c| !f.home_only || Some(*c) == home)
                    .map(|c| format!("load balancer of {}", model.clusters[c].meta.name))
                    .collect()
            }
            ForwardTarget::Container(c) if c < model.containers.len() => model
                .placement
                .container_hosts
                .get(c)
                .filter(|&&h| h < model.hosts.len())
                .map(|&h| format!("host {}", model.hosts[h].meta.name))
                .into_iter()
                .collect(),
            _ => continue,
        };
        if places.is_empty() {
            diags.push(
                Diagnostic::error(
                    &codes::FORWARD_NOWHERE,
                    f.meta.span,
                    format!("{} forwards to something that runs nowhere", f.meta.address),
                )
                .with_label("no backends")
                .with_help(codes::FORWARD_NOWHERE.fix),
            );
        }
        for place in places {
            if let Some(first) = ports.insert((place.clone(), f.port), f.meta.span) {
                diags.push(
                    Diagnostic::error(
                        &codes::FORWARD_CONFLICT,
                        f.meta.span,
                        format!("port {} on the {place} is forwarded twice", f.port),
                    )
                    .with_label("second forward on this port")
                    .with_note(first, "first forward")
                    .with_help(codes::FORWARD_CONFLICT.fix),
                );
            }
        }
    }
}

/// Listeners (and target groups) per network load balancer: AWS takes at most this many.
const MAX_LISTENERS_PER_LB: usize = 50;

/// Every forward to a service is a listener and a target group on the load balancer of each
/// cluster it lands on; more than AWS allows on one load balancer is an error at the forward
/// that goes over.
fn forward_quotas(model: &Model, diags: &mut Diagnostics) {
    // The clusters of every service with the ordinal of their first replica, in one pass.
    let mut clusters_of: Vec<Vec<(u64, usize)>> = vec![Vec::new(); model.services.len()];
    for s in &model.placement.shares {
        if let Some(v) = clusters_of.get_mut(s.service) {
            v.push((s.first_ordinal, s.cluster));
        }
    }
    let mut listeners = vec![0usize; model.clusters.len()];
    let mut over: Vec<Option<&berth_model::Forward>> = vec![None; model.clusters.len()];
    for f in &model.forwards {
        let ForwardTarget::Service(s) = f.target else { continue };
        let Some(clusters) = clusters_of.get(s) else { continue };
        let home = clusters.iter().min().map(|&(_, c)| c);
        for &(_, c) in clusters {
            if f.home_only && Some(c) != home {
                continue;
            }
            listeners[c] += 1;
            if listeners[c] == MAX_LISTENERS_PER_LB + 1 {
                over[c] = Some(f);
            }
        }
    }
    for (c, f) in over.into_iter().enumerate() {
        let Some(f) = f else { continue };
        let cl = &model.clusters[c];
        diags.push(
            Diagnostic::error(
                &codes::FORWARD_QUOTA,
                f.meta.span,
                format!("the load balancer of {} gets {} listeners and target groups, one per forward; AWS allows {MAX_LISTENERS_PER_LB} listeners per load balancer", cl.meta.address, listeners[c]),
            )
            .with_label(format!("listener {} on the load balancer of {}", MAX_LISTENERS_PER_LB + 1, cl.meta.name))
            .with_note(cl.meta.span, "the cluster whose load balancer is over its quota")
            .with_help(codes::FORWARD_QUOTA.fix),
        );
    }
}

fn images(model: &Model, diags: &mut Diagnostics) {
    for img in &model.images {
        if img.layers.len() > MAX_LAYERS {
            diags.push(
                Diagnostic::error(
                    &codes::IMAGE_LAYERS,
                    img.meta.span,
                    format!(
                        "{} has {} layers; overlay stacks at most about {MAX_LAYERS}",
                        img.meta.address,
                        img.layers.len()
                    ),
                )
                .with_label("too many layers")
                .with_help(codes::IMAGE_LAYERS.fix),
            );
        }
        for pair in img.layers.windows(2) {
            if pair[0].changes > pair[1].changes {
                diags.push(
                    Diagnostic::warning(
                        &codes::IMAGE_LAYERS,
                        pair[1].span,
                        format!(
                            "layer {:?} changes less often ({:?}) than {:?} below it ({:?})",
                            pair[1].name, pair[1].changes, pair[0].name, pair[0].changes
                        ),
                    )
                    .with_label("stabler layer above a faster one")
                    .with_note(pair[0].span, "the faster-changing layer")
                    .with_help("order layers from stable to fast-changing so caches hold"),
                );
            }
        }
        if let Some(budget) = img.stable_budget {
            let stable: u64 =
                img.layers.iter().filter(|l| l.changes < berth_model::Cadence::Release).filter_map(|l| l.size).sum();
            if stable > budget {
                diags.push(
                    Diagnostic::error(
                        &codes::IMAGE_LAYERS,
                        img.meta.span,
                        format!(
                            "the stable layers of {} total {} MiB, over the budget of {} MiB",
                            img.meta.address,
                            stable >> 20,
                            budget >> 20
                        ),
                    )
                    .with_label("over stable_budget")
                    .with_help("trim the stable layers or raise stable_budget"),
                );
            }
        }
        if let Err(e) = crate::formats::image_reference(&format!("{}:{}", img.repository, img.tag)) {
            diags.push(
                Diagnostic::error(
                    &codes::FORMAT_IMAGE,
                    img.meta.span,
                    format!("{} is pushed as {e}", img.meta.address),
                )
                .with_label("repository and tag")
                .with_help(codes::FORMAT_IMAGE.fix),
            );
        }
        image_paths(img, diags);
    }
}

/// Layer names, paths, commands and the environment must be expressible in a Dockerfile and
/// stay inside the image (destinations) and the spec's directory (sources).
fn image_paths(img: &berth_model::Image, diags: &mut Diagnostics) {
    let clean = |p: &str| !p.chars().any(char::is_control) && p.split('/').all(|c| c != "." && c != "..");
    let mut bad = |span, what: String, rule: &str| {
        diags.push(
            Diagnostic::error(&codes::SCHEMA_INVALID_VALUE, span, format!("{} {what}", img.meta.address))
                .with_label(rule.to_string())
                .with_help(format!("write {rule}")),
        );
    };
    for l in &img.layers {
        if l.name.is_empty()
            || l.name == "."
            || l.name == ".."
            || l.name.contains(['/', '\\'])
            || l.name.chars().any(char::is_control)
        {
            bad(l.span, format!("names a layer {:?}", l.name), "a layer name usable as a directory name");
        }
        for (dest, src) in &l.files {
            if !(dest.starts_with('/') && clean(dest)) {
                bad(
                    l.span,
                    format!("layer {:?} copies to {dest:?}", l.name),
                    "destinations as absolute paths without . or ..",
                );
            }
            if src.is_empty() || src.starts_with('/') || !clean(src) {
                bad(
                    l.span,
                    format!("layer {:?} copies from {src:?}", l.name),
                    "sources as paths relative to the spec, without . or ..",
                );
            }
        }
        for dest in l.content.keys() {
            if !(dest.starts_with('/') && clean(dest)) || dest.ends_with('/') {
                bad(
                    l.span,
                    format!("layer {:?} generates {dest:?}", l.name),
                    "generated files as absolute file paths without . or ..",
                );
            }
        }
        if l.run.iter().any(|r| r.contains(['\n', '\r'])) {
            bad(l.span, format!("layer {:?} has a `run` command of several lines", l.name), "each command on one line");
        }
    }
    for (key, value) in &img.env {
        if key.is_empty() || key.contains('=') || key.chars().any(char::is_whitespace) || value.contains(['\n', '\r']) {
            bad(
                img.meta.span,
                format!("sets the environment variable {key:?} to {value:?}"),
                "names without '=' or spaces, and values of one line",
            );
        }
    }
    if img.labels.iter().any(|(k, v)| k.contains(['\n', '\r']) || v.contains(['\n', '\r'])) {
        bad(img.meta.span, "has a label of several lines".to_string(), "labels of one line");
    }
}

fn environments(model: &Model, cx: CheckContext, diags: &mut Diagnostics) {
    for e in &model.environments {
        if let Some(at) = e.expires_unix
            && at <= cx.now_unix
        {
            diags.push(
                Diagnostic::warning(
                    &codes::ENVIRONMENT_EXPIRED,
                    e.meta.span,
                    format!("{} expired at {}", e.meta.address, e.expires.as_deref().unwrap_or("?")),
                )
                .with_label(format!("owner {}", e.owner))
                .with_help(codes::ENVIRONMENT_EXPIRED.fix),
            );
        }
    }
}

//! Placement: which clusters run how many replicas of each service, and which host runs each
//! container. Services are placed in declaration order, each under every cluster's free room
//! (its pod cap, else the Kubernetes envelope); containers by their strategy.

use berth_diag::{Diagnostic, Diagnostics, codes};
use berth_model::{ContainerStrategy, Model, ServiceStrategy, Share};

/// Pods per cluster that Kubernetes supports, the cap where a cluster declares none.
pub(crate) const MAX_PODS_PER_CLUSTER: u64 = 150_000;

pub(crate) fn place(model: &mut Model, diags: &mut Diagnostics) {
    place_services(model, diags);
    place_containers(model, diags);
    derive(model);
}

fn place_services(model: &mut Model, diags: &mut Diagnostics) {
    let mut free: Vec<u64> = model.clusters.iter().map(|c| c.max_pods.unwrap_or(MAX_PODS_PER_CLUSTER)).collect();
    let mut shares = Vec::new();
    for (si, svc) in model.services.iter().enumerate() {
        if svc.clusters.is_empty() {
            continue;
        }
        let before = free.clone();
        let mut plan: Vec<(usize, u64)> = Vec::new();
        let mut remaining = svc.replicas;
        match svc.strategy {
            ServiceStrategy::Fill => {
                for &c in &svc.clusters {
                    let take = remaining.min(free[c]);
                    plan.push((c, take));
                    remaining -= take;
                }
            }
            ServiceStrategy::Spread => {
                // Water-filling: an even share for every cluster with room, repeated until
                // everything is placed or no cluster has room left.
                let mut taken = vec![0u64; svc.clusters.len()];
                loop {
                    let open: Vec<usize> =
                        (0..svc.clusters.len()).filter(|&i| free[svc.clusters[i]] > taken[i]).collect();
                    if remaining == 0 || open.is_empty() {
                        break;
                    }
                    let n = open.len() as u64;
                    let (each, mut extra) = (remaining / n, remaining % n);
                    let mut progressed = false;
                    for i in open {
                        let want = each + u64::from(extra > 0);
                        extra = extra.saturating_sub(1);
                        let take = want.min(free[svc.clusters[i]] - taken[i]);
                        taken[i] += take;
                        remaining -= take;
                        progressed |= take > 0;
                    }
                    if !progressed {
                        break;
                    }
                }
                plan.extend(svc.clusters.iter().copied().zip(taken));
            }
            ServiceStrategy::Pinned => {
                for &c in &svc.clusters {
                    let n = svc.pinned.get(&c).copied().unwrap_or(0);
                    if n > free[c] {
                        let cl = &model.clusters[c];
                        diags.push(
                            Diagnostic::error(
                                &codes::CAPACITY_PODS_PER_CLUSTER,
                                svc.meta.span,
                                format!(
                                    "{} pins {n} pods on {}, which has room for {}",
                                    svc.meta.address, cl.meta.name, free[c]
                                ),
                            )
                            .with_label("over the cluster's pod cap")
                            .with_note(
                                cl.meta.span,
                                format!(
                                    "{} caps pods at {}",
                                    cl.meta.name,
                                    cl.max_pods.unwrap_or(MAX_PODS_PER_CLUSTER)
                                ),
                            )
                            .with_help("pin fewer pods there, or raise the cluster's max_pods"),
                        );
                    }
                    plan.push((c, n));
                }
                remaining = 0;
            }
        }
        if remaining > 0 {
            let room: Vec<String> =
                svc.clusters.iter().map(|&c| format!("{} {}", model.clusters[c].meta.name, before[c])).collect();
            diags.push(
                Diagnostic::error(
                    &codes::CAPACITY_UNPLACEABLE,
                    svc.meta.span,
                    format!(
                        "{} replicas of {} do not fit: free room is {}",
                        remaining,
                        svc.meta.address,
                        room.join(", ")
                    ),
                )
                .with_label(format!("{} replicas", svc.replicas))
                .with_help("add clusters to its placement, raise the clusters' max_pods, or lower replicas"),
            );
        }
        let mut ordinal = 0;
        for (c, n) in plan {
            if n == 0 {
                continue;
            }
            free[c] = free[c].saturating_sub(n);
            shares.push(Share { service: si, cluster: c, replicas: n, first_ordinal: ordinal });
            ordinal = ordinal.saturating_add(n);
        }
    }
    model.placement.shares = shares;
}

fn place_containers(model: &mut Model, diags: &mut Diagnostics) {
    let mut hosts = Vec::with_capacity(model.containers.len());
    let mut cpu_used = vec![0.0f64; model.hosts.len()];
    let mut mem_used = vec![0u64; model.hosts.len()];
    // Round-robin advances one cursor per distinct candidate list, in declaration order.
    let mut cursors: Vec<(&[usize], usize)> = Vec::new();
    let all_hosts: Vec<usize> = (0..model.hosts.len()).collect();
    for c in &model.containers {
        let candidates: &[usize] = if c.candidate_hosts.is_empty() { &all_hosts } else { &c.candidate_hosts };
        if candidates.is_empty() {
            diags.push(
                Diagnostic::error(
                    &codes::PLACEMENT_STRATEGY,
                    c.meta.span,
                    format!("{} has no host to run on", c.meta.address),
                )
                .with_label("no candidate hosts")
                .with_help("declare a host, or name one in placement { hosts = [...] }"),
            );
            hosts.push(usize::MAX);
            continue;
        }
        let chosen = match c.strategy {
            ContainerStrategy::Pinned => candidates[0],
            ContainerStrategy::RoundRobin => {
                // Most containers share one list (every host): found by identity before contents.
                let same = |list: &&[usize]| std::ptr::eq(*list, candidates) || *list == candidates;
                let slot = match cursors.iter().position(|(list, _)| same(list)) {
                    Some(i) => i,
                    None => {
                        cursors.push((candidates, 0));
                        cursors.len() - 1
                    }
                };
                let (list, next) = &mut cursors[slot];
                let h = list[*next % list.len()];
                *next += 1;
                h
            }
            ContainerStrategy::BinPack => {
                let mem_mib = c.memory_bytes >> 20;
                let fits = |&h: &usize| {
                    let host = &model.hosts[h];
                    cpu_used[h] + c.cpus <= f64::from(host.vcpus) && mem_used[h] + mem_mib <= host.memory_mib
                };
                // First fit in candidate order keeps placement stable when containers are added.
                candidates.iter().copied().find(fits).unwrap_or(candidates[0])
            }
        };
        cpu_used[chosen] += c.cpus;
        mem_used[chosen] = mem_used[chosen].saturating_add(c.memory_bytes >> 20);
        hosts.push(chosen);
    }
    model.placement.container_hosts = hosts;
}

/// The prefix length of a Docker address pool that fits `containers` plus the network,
/// gateway and broadcast addresses (at least a /28).
pub(crate) fn pool_prefix(containers: usize) -> u8 {
    let mut bits = 4;
    while (1usize << bits) < containers + 3 {
        bits += 1;
    }
    32 - bits as u8
}

/// Fills in what placement decides: each cluster's pod capacity and, where the spec leaves
/// it open, each host's address pool size.
pub(crate) fn derive(model: &mut Model) {
    for c in &mut model.clusters {
        let nodes: u64 = c
            .node_pools
            .iter()
            .filter(|p| !p.system)
            .fold(0u64, |n, p| n.saturating_add(p.desired.saturating_mul(p.max_pods)));
        c.pod_capacity = nodes.min(c.max_pods.unwrap_or(MAX_PODS_PER_CLUSTER));
    }
    let mut per_host = vec![0usize; model.hosts.len()];
    for &h in &model.placement.container_hosts {
        if let Some(n) = per_host.get_mut(h) {
            *n += 1;
        }
    }
    for (h, host) in model.hosts.iter_mut().enumerate() {
        if host.docker.address_pool_size == 0 {
            host.docker.address_pool_size = pool_prefix(per_host[h]);
        }
    }
}

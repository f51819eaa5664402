//! The Compose networks of a host and, when containers ask for fixed addresses, their subnets.
//!
//! Containers join the networks they name, else the host's one network `default`. Docker gives
//! a container a fixed address (`ipv4_address`, `docker run --ip`) only on a network with a
//! configured subnet, so a container `address` fixes the subnet of its first network: the block
//! of the host's pool size (`address_pool_size`) that contains the address. Then every other
//! network of the host gets a configured subnet too, the first free blocks of
//! `address_pool_base` in name order, so that none of them can be handed a block that a fixed
//! one needs. Hosts without fixed addresses leave every subnet to dockerd's
//! `default-address-pools`.

use berth_diag::{Diagnostic, Diagnostics, codes};
use berth_model::{Container, Model};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// The network of containers that name none.
pub(crate) const DEFAULT_NETWORK: &str = "default";

/// The networks of a host's containers and the addressing they need.
#[derive(Debug, Default)]
pub(crate) struct Networks {
    /// Every network a container on the host joins, in name order.
    pub names: BTreeSet<String>,
    /// Configured subnets by network name; empty when no container has a fixed address.
    pub subnets: BTreeMap<String, String>,
    /// Fixed addresses on their first network, by container index.
    pub fixed: BTreeMap<usize, String>,
}

/// The networks a container joins, first one first.
pub(crate) fn of(c: &Container) -> Vec<&str> {
    if c.networks.is_empty() { vec![DEFAULT_NETWORK] } else { c.networks.iter().map(String::as_str).collect() }
}

/// Plans the networks of host `h`, whose containers are `on_host` (indices in declaration
/// order); addresses that cannot be given are reported.
pub(crate) fn plan(model: &Model, h: usize, on_host: &[usize], diags: &mut Diagnostics) -> Networks {
    let host = &model.hosts[h];
    let prefix = host.docker.address_pool_size;
    let mut plan = Networks::default();
    // Fixed blocks by network, with the container that fixed each.
    let mut blocks: BTreeMap<&str, (u32, &Container)> = BTreeMap::new();
    for &i in on_host {
        let c = &model.containers[i];
        let nets = of(c);
        for n in &nets {
            if !plan.names.contains(*n) {
                plan.names.insert(n.to_string());
            }
        }
        let Some(ip) = c.address.as_deref().and_then(|a| a.parse::<Ipv4Addr>().ok()) else { continue };
        let (ip, net) = (u32::from(ip), nets[0]);
        let block = ip & mask(prefix);
        let offset = u64::from(ip - block);
        let problem = if offset < 2 || offset + 1 >= 1u64 << (32 - u32::from(prefix.min(32))) {
            Some(format!("it is the network, gateway or broadcast address of {}/{prefix}", Ipv4Addr::from(block)))
        } else if let Some(&(b, first)) = blocks.get(net) {
            (b != block).then(|| format!("{} already put it on {}/{prefix}", first.meta.address, Ipv4Addr::from(b)))
        } else if let Some((other, _)) = blocks.iter().find(|(_, (b, _))| *b == block) {
            Some(format!("network {other:?} is already on {}/{prefix}", Ipv4Addr::from(block)))
        } else {
            blocks.insert(net, (block, c));
            None
        };
        match problem {
            None => {
                plan.fixed.insert(i, Ipv4Addr::from(ip).to_string());
            }
            Some(why) => diags.push(
                Diagnostic::error(
                    &codes::SCHEMA_INVALID_VALUE,
                    c.meta.span,
                    format!("{} cannot have address {} on network {net:?}: {why}", c.meta.address, Ipv4Addr::from(ip)),
                )
                .with_label("address not usable")
                .with_help(format!(
                    "give each network's containers addresses inside one /{prefix} block (host {}'s address_pool_size), not its first two or last address",
                    host.meta.name
                )),
            ),
        }
    }
    if blocks.is_empty() {
        return plan;
    }
    let taken: BTreeSet<u32> = blocks.values().map(|(b, _)| *b).collect();
    let mut free = free_blocks(&host.docker.address_pool_base, prefix).filter(|b| !taken.contains(b));
    for name in &plan.names {
        let block = match blocks.get(name.as_str()) {
            Some(&(b, _)) => b,
            None => match free.next() {
                Some(b) => b,
                None => {
                    diags.push(
                        Diagnostic::error(
                            &codes::CAPACITY_ADDRESS_POOL,
                            host.meta.span,
                            format!(
                                "{} has no /{prefix} block of {} left for network {name:?} beside the fixed addresses",
                                host.meta.address, host.docker.address_pool_base
                            ),
                        )
                        .with_label("too few address pools")
                        .with_help("use a larger address_pool_base or a smaller pool"),
                    );
                    continue;
                }
            },
        };
        plan.subnets.insert(name.clone(), format!("{}/{prefix}", Ipv4Addr::from(block)));
    }
    plan
}

/// The network mask of a prefix length.
fn mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix.min(32))).unwrap_or(0)
}

/// The blocks of a prefix length inside a CIDR base, in address order (none if it is malformed).
fn free_blocks(base: &str, prefix: u8) -> impl Iterator<Item = u32> {
    let parsed =
        base.split_once('/').and_then(|(a, l)| Some((u32::from(a.parse::<Ipv4Addr>().ok()?), l.parse::<u8>().ok()?)));
    let (start, count) = match parsed {
        Some((addr, len)) if len <= prefix && prefix <= 32 => (addr & mask(len), 1u64 << (prefix - len)),
        _ => (0, 0),
    };
    let step = 1u64 << (32 - u32::from(prefix.min(32)));
    (0..count).map(move |k| (u64::from(start) + k * step) as u32)
}

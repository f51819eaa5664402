//! nftables target: the firewall side of `forward`. Every rule is derived from where the
//! forward's target runs, so a moved container, a service on a new cluster or a dropped
//! forward changes every ruleset it touches in one build, and nothing stale is left.
//!
//! # Files
//!
//! - `host-HOST.nft` for every Docker host, the ruleset of that host;
//! - `gateway-CLUSTER.nft` for every cluster, the ruleset of the cluster's gateway: the
//!   dedicated machine between the sources and the cluster's load balancer.
//!
//! A host or cluster that no forward reaches still gets its file, which only removes berth's
//! table: loading it clears the rules a forward that moved away left behind.
//!
//! # Ruleset shape
//!
//! Each file owns `table inet berth` and nothing else. It starts with `table inet berth` and
//! `delete table inet berth` (the idiom for nftables before 1.0.8, which lacks `destroy
//! table`) and then declares the table whole, all in one transaction: loading it twice gives
//! the same ruleset as loading it once, stale sets and chains go with the old table, and
//! other tables (Docker's, the distribution's) are never flushed.
//!
//! Per forward, a named set of allowed source networks per address family (`fwd_NAME_v4`,
//! `fwd_NAME_v6`, only when not empty). The filter rules match the connection as the client
//! addressed it (conntrack's original destination port), so they hold whatever NAT happens
//! after them, berth's own or Docker's port publishing: allowed sources are accepted, the
//! rest dropped. Every rule has a counter; rules of a forward carry its address as comment.
//!
//! - **input**: policy drop, with established/related, loopback, ICMP and ICMPv6 (IPv6 needs
//!   neighbour discovery), DHCPv6 replies, SSH (tcp 22) and a Docker host's `tcp://`
//!   endpoint accepted from anywhere, unless a forward of the machine claims that port, and
//!   then the forward's sources decide. On hosts, the forwards' filter rules.
//! - **forward**: on a host, policy accept (its containers' own traffic crosses it; Docker
//!   keeps guarding its other published ports) with the forwards' filter rules, whose final
//!   drop makes forwarded ports default-drop; on a gateway, policy drop with
//!   established/related and the forwards' filter rules.
//! - **prerouting** (nat, hosts with an `address` only): a forward to a container with an
//!   `address` is DNATed from `HOST_ADDRESS:port` to `CONTAINER_ADDRESS:target_port` and
//!   routed over the Docker network. Without a container `address`, the backend is the port
//!   Docker publishes on the host for `target_port` (`"HOST:CONTAINER"` in `ports`, else
//!   `target_port` itself): when that is not the forward's port, the forward is redirected
//!   to it (Docker's userland proxy, on by default, takes it from there).
//!
//! Gateways do no NAT: the cluster's load balancer (Terraform's) maps `port` to the
//! service's `target_port`, and its address is known only after apply. A gateway filters
//! the forward's `port` from its sources, for every cluster running the service (the home
//! cluster only with `on = "home"`).

mod render;

use berth_diag::Diagnostics;
use berth_model::{Container, EmitInput, Emitter, Forward, ForwardTarget, Host, Model, OutputTree};

/// The nftables target.
#[derive(Debug, Default)]
pub struct NftablesEmitter;

impl Emitter for NftablesEmitter {
    fn target(&self) -> &'static str {
        "nftables"
    }

    fn emit(&self, input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        let mut tree = OutputTree::new();
        for ruleset in rulesets(input.model) {
            tree.add(ruleset.file.clone(), render::render(&ruleset));
        }
        (tree, Diagnostics::new())
    }
}

/// The SSH port, accepted from anywhere unless a forward claims it.
const SSH_PORT: u16 = 22;
/// Docker's port for a `tcp://` endpoint that names none.
const DOCKER_PORT: u16 = 2375;

/// What kind of machine a ruleset is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A Docker host: forwards are filtered on input and forward, and DNATed to their
    /// containers when the host has an `address`; the forward chain's policy stays accept.
    Host,
    /// A cluster's gateway: forwards are filtered on the forward chain, whose policy is drop.
    Gateway,
}

/// The ruleset of one machine.
#[derive(Debug)]
struct Ruleset {
    /// Its file name in the target's directory (`host-NAME.nft`, `gateway-NAME.nft`).
    file: String,
    /// The address of the host or cluster it belongs to.
    owner: String,
    /// The kind of machine.
    role: Role,
    /// Ports accepted from anywhere on input besides the forwards, with a comment each.
    open_ports: Vec<(u16, &'static str)>,
    /// The forwards it enforces, in address order.
    forwards: Vec<Enforced>,
}

/// One forward as one machine enforces it.
#[derive(Debug)]
struct Enforced {
    /// The forward's address, for comments.
    address: String,
    /// The stem of its set names (`fwd_NAME`).
    set: String,
    /// `tcp` or `udp`.
    protocol: String,
    /// The port clients connect to.
    port: u16,
    /// Allowed IPv4 source networks.
    v4: Vec<String>,
    /// Allowed IPv6 source networks.
    v6: Vec<String>,
    /// How the port is translated on this machine, if at all.
    nat: Option<Nat>,
    /// Where it leads, for the header comment.
    to: String,
}

/// Destination NAT of a forward on a host.
#[derive(Debug)]
enum Nat {
    /// `ip daddr LISTEN dport PORT dnat ip to ADDRESS:TO_PORT`.
    Dnat {
        /// The host's address.
        listen: String,
        /// The container's address.
        address: String,
        /// The container's port.
        to_port: u16,
    },
    /// `ip daddr LISTEN dport PORT redirect to :TO_PORT`.
    Redirect {
        /// The host's address.
        listen: String,
        /// The port Docker publishes on the host.
        to_port: u16,
    },
}

/// Every ruleset of a model: one per host, then one per cluster.
fn rulesets(model: &Model) -> Vec<Ruleset> {
    let mut out = Vec::new();
    for (h, host) in model.hosts.iter().enumerate() {
        let forwards = model.forwards.iter().filter_map(|f| match f.target {
            ForwardTarget::Container(c) if model.placement.container_hosts.get(c) == Some(&h) => {
                model.containers.get(c).map(|container| on_host(f, host, container))
            }
            _ => None,
        });
        let mut open_ports = vec![(SSH_PORT, "ssh")];
        if let Some(port) = host.endpoint.as_deref().and_then(endpoint_port) {
            open_ports.push((port, "docker endpoint"));
        }
        out.push(ruleset(
            format!("host-{}.nft", host.meta.name),
            host.meta.address.to_string(),
            Role::Host,
            open_ports,
            forwards,
        ));
    }
    for (c, cluster) in model.clusters.iter().enumerate() {
        let forwards = model.forwards.iter().filter_map(|f| match f.target {
            ForwardTarget::Service(s) if runs_there(model, f, s, c) => {
                let service = &model.services[s];
                let to = format!(
                    "{} on {} (its load balancer forwards to port {})",
                    service.meta.address, cluster.meta.address, f.target_port
                );
                Some(enforced(f, None, to))
            }
            _ => None,
        });
        out.push(ruleset(
            format!("gateway-{}.nft", cluster.meta.name),
            cluster.meta.address.to_string(),
            Role::Gateway,
            vec![(SSH_PORT, "ssh")],
            forwards,
        ));
    }
    out
}

/// A ruleset with its forwards in address order; ports a forward claims are not open to all.
fn ruleset(
    file: String,
    owner: String,
    role: Role,
    mut open_ports: Vec<(u16, &'static str)>,
    forwards: impl Iterator<Item = Enforced>,
) -> Ruleset {
    let mut forwards: Vec<Enforced> = forwards.collect();
    forwards.sort_by(|a, b| a.address.cmp(&b.address));
    open_ports.retain(|(port, _)| !forwards.iter().any(|f| f.protocol == "tcp" && f.port == *port));
    Ruleset { file, owner, role, open_ports, forwards }
}

/// Whether forward `f` to service `s` listens for cluster `c`: the service has replicas there,
/// and it is the home cluster if the forward is `on = "home"`.
fn runs_there(model: &Model, f: &Forward, s: usize, c: usize) -> bool {
    s < model.services.len()
        && model.shares_of(s).any(|share| share.cluster == c && share.replicas > 0)
        && (!f.home_only || model.home_cluster(s) == Some(c))
}

/// A forward to `container` as its host enforces it.
fn on_host(f: &Forward, host: &Host, container: &Container) -> Enforced {
    let backend_port = published_port(&container.ports, f.target_port, &f.protocol).unwrap_or(f.target_port);
    let nat = match (&host.address, &container.address) {
        (Some(listen), Some(address)) => {
            Some(Nat::Dnat { listen: listen.clone(), address: address.clone(), to_port: f.target_port })
        }
        (Some(listen), None) if backend_port != f.port => {
            Some(Nat::Redirect { listen: listen.clone(), to_port: backend_port })
        }
        _ => None,
    };
    let to = match &nat {
        Some(Nat::Dnat { address, to_port, .. }) => format!("{} at {address}:{to_port}", container.meta.address),
        Some(Nat::Redirect { to_port, .. }) => {
            format!("{} published on port {to_port} of the host", container.meta.address)
        }
        None if host.address.is_some() => {
            format!("{} published on port {} of the host", container.meta.address, f.port)
        }
        None => {
            format!("{} (no NAT: the host has no address; Docker must publish port {})", container.meta.address, f.port)
        }
    };
    enforced(f, nat, to)
}

/// The parts of a forward every machine enforcing it shares.
fn enforced(f: &Forward, nat: Option<Nat>, to: String) -> Enforced {
    let (v6, v4): (Vec<String>, Vec<String>) = f.sources.iter().cloned().partition(|s| s.contains(':'));
    let stem: String = f.meta.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    Enforced {
        address: f.meta.address.to_string(),
        set: format!("fwd_{stem}"),
        protocol: f.protocol.clone(),
        port: f.port,
        v4,
        v6,
        nat,
        to,
    }
}

/// The host port Docker publishes for `container_port`/`protocol`, from `ports` entries in
/// Docker's `[IP:]HOST:CONTAINER[/PROTOCOL]` form; entries without a fixed host port or with
/// ranges do not count.
fn published_port(ports: &[String], container_port: u16, protocol: &str) -> Option<u16> {
    ports.iter().find_map(|entry| {
        let (mapping, proto) = entry.split_once('/').unwrap_or((entry, "tcp"));
        let mut parts = mapping.rsplit(':');
        let inner: u16 = parts.next()?.parse().ok()?;
        let outer: u16 = parts.next()?.parse().ok()?;
        (proto == protocol && inner == container_port).then_some(outer)
    })
}

/// The port of a `tcp://HOST[:PORT]` Docker endpoint; None for other schemes.
fn endpoint_port(endpoint: &str) -> Option<u16> {
    let rest = endpoint.strip_prefix("tcp://")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once(':') {
        Some((_, port)) if !port.contains(']') => port.parse().ok(),
        _ => Some(DOCKER_PORT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_follow_dockers_syntax() {
        let ports: Vec<String> = ["9090:80", "127.0.0.1:5353:53/udp", "[::1]:8443:443", "3000", "8000-8001:7000-7001"]
            .map(String::from)
            .into();
        assert_eq!(published_port(&ports, 80, "tcp"), Some(9090));
        assert_eq!(published_port(&ports, 53, "udp"), Some(5353));
        assert_eq!(published_port(&ports, 53, "tcp"), None);
        assert_eq!(published_port(&ports, 443, "tcp"), Some(8443));
        assert_eq!(published_port(&ports, 3000, "tcp"), None);
        assert_eq!(published_port(&ports, 7000, "tcp"), None);
    }

    #[test]
    fn endpoint_ports() {
        assert_eq!(endpoint_port("tcp://10.0.0.5:2376"), Some(2376));
        assert_eq!(endpoint_port("tcp://docker.internal"), Some(DOCKER_PORT));
        assert_eq!(endpoint_port("tcp://[fd00::5]"), Some(DOCKER_PORT));
        assert_eq!(endpoint_port("tcp://[fd00::5]:2376/"), Some(2376));
        assert_eq!(endpoint_port("unix:///var/run/docker.sock"), None);
    }
}

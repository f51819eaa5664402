//! The checked model: every resource typed, validated, with placement decided. This is what
//! the graph builder and every emitter read; nothing here refers back to syntax trees.

use crate::{Address, ArcStr, Value};
use berth_diag::Span;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A checked spec.
#[derive(Debug, Default)]
pub struct Model {
    /// Machines running Docker engines.
    pub hosts: Vec<Host>,
    /// Docker workloads.
    pub containers: Vec<Container>,
    /// Kubernetes clusters.
    pub clusters: Vec<Cluster>,
    /// Kubernetes workloads.
    pub services: Vec<Service>,
    /// Helm releases.
    pub releases: Vec<Release>,
    /// Container images.
    pub images: Vec<Image>,
    /// Certificate issuers.
    pub issuers: Vec<Issuer>,
    /// TLS certificates.
    pub certificates: Vec<Certificate>,
    /// Port forwards.
    pub forwards: Vec<Forward>,
    /// Environments.
    pub environments: Vec<Environment>,
    /// Root module outputs.
    pub outputs: Vec<Output>,
    /// Where every service's replicas and every container run.
    pub placement: Placement,
}

/// What every resource has.
#[derive(Debug, Clone)]
pub struct Meta {
    /// Its address, shared with its graph node.
    pub address: Arc<Address>,
    /// Its real name (label, for_each key or label-index).
    pub name: ArcStr,
    /// Its block in the spec.
    pub span: Span,
    /// The environment it belongs to (an index into [`Model::environments`]).
    pub environment: Option<usize>,
    /// Objects it depends on (explicit `depends_on` and references), by address.
    pub depends_on: Vec<Address>,
}

/// An EC2 instance running Docker.
#[derive(Debug, Clone)]
pub struct Host {
    /// Address, name, span.
    pub meta: Meta,
    /// Instance type name (checked against the catalogue).
    pub instance_type: String,
    /// vCPUs of the instance type.
    pub vcpus: u32,
    /// Memory of the instance type in MiB.
    pub memory_mib: u64,
    /// Machine image.
    pub ami: String,
    /// Availability zone.
    pub zone: String,
    /// Subnet id.
    pub subnet: Option<String>,
    /// Extra security groups.
    pub security_groups: Vec<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Extra sysctls.
    pub sysctls: BTreeMap<String, String>,
    /// Docker endpoint for apply.
    pub endpoint: Option<String>,
    /// The host's IPv4 address where its forwards listen (`ip daddr` of the nftables NAT rules).
    pub address: Option<String>,
    /// EBS volumes.
    pub volumes: Vec<Volume>,
    /// Docker engine settings.
    pub docker: DockerEngine,
}

/// An EBS volume of a host.
#[derive(Debug, Clone)]
pub struct Volume {
    /// Address (`host.a.volume.data0`).
    pub address: Address,
    /// Its label.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// EBS type.
    pub volume_type: String,
    /// Size in GiB.
    pub size_gib: u64,
    /// Provisioned IOPS.
    pub iops: Option<u64>,
    /// Throughput in MiB/s.
    pub throughput: Option<u64>,
    /// Device name.
    pub device: String,
    /// Mount point.
    pub mount: String,
    /// Filesystem.
    pub filesystem: String,
    /// Declared IOPS demand of the data meant for it.
    pub iops_demand: Option<u64>,
}

/// daemon.json settings of a host.
#[derive(Debug, Clone)]
pub struct DockerEngine {
    /// data-root.
    pub data_root: String,
    /// Log driver.
    pub log_driver: String,
    /// Log rotation size.
    pub log_max_size: String,
    /// Rotated files kept.
    pub log_max_file: u32,
    /// Base of default-address-pools.
    pub address_pool_base: String,
    /// Prefix length of each pool.
    pub address_pool_size: u8,
    /// live-restore.
    pub live_restore: bool,
    /// max-concurrent-downloads.
    pub max_concurrent_downloads: u32,
    /// How many times its vCPUs the CPU limits of its containers may add up to.
    pub cpu_overcommit: f64,
}

/// A Docker workload.
#[derive(Debug, Clone)]
pub struct Container {
    /// Address, name, span.
    pub meta: Meta,
    /// Image reference (shared with the spec's value: a fleet has tens of thousands).
    pub image: ArcStr,
    /// CPUs.
    pub cpus: f64,
    /// Memory limit in bytes.
    pub memory_bytes: u64,
    /// Restart policy.
    pub restart: &'static str,
    /// Networks.
    pub networks: Box<[String]>,
    /// Published ports.
    pub ports: Box<[String]>,
    /// Environment.
    pub env: BTreeMap<String, String>,
    /// Command.
    pub command: Box<[String]>,
    /// Health check command.
    pub healthcheck: Box<[String]>,
    /// Bind mounts.
    pub volumes: Box<[String]>,
    /// IOPS demand.
    pub iops_demand: Option<u64>,
    /// Fixed IPv4 address on its Docker network (`docker run --ip`); forwards DNAT to it.
    pub address: Option<String>,
    /// Placement strategy.
    pub strategy: ContainerStrategy,
    /// Candidate hosts (indices into [`Model::hosts`]); empty when the spec names none, which
    /// means every host.
    pub candidate_hosts: Vec<usize>,
}

/// How containers are put on hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerStrategy {
    /// In declaration order, one host after the other.
    RoundRobin,
    /// On the host with the most free room that fits.
    BinPack,
    /// On the one host named.
    Pinned,
}

/// A Kubernetes cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Address, name, span.
    pub meta: Meta,
    /// Provider (eks).
    pub provider: String,
    /// Kubernetes version.
    pub version: String,
    /// Region.
    pub region: String,
    /// Subnets.
    pub subnets: Vec<String>,
    /// Pod cap for placement, if declared.
    pub max_pods: Option<u64>,
    /// Control-plane role.
    pub role_arn: Option<String>,
    /// Node role.
    pub node_role_arn: Option<String>,
    /// kubeconfig context.
    pub context: String,
    /// Suffix of multi-cluster service DNS names.
    pub dns_suffix: String,
    /// Kubernetes labels added to every object rendered on the cluster, pods included.
    pub pod_labels: BTreeMap<String, String>,
    /// Node pools.
    pub node_pools: Vec<NodePool>,
    /// Its load balancer, if declared or needed by a forward.
    pub load_balancer: Option<LoadBalancer>,
    /// Pods the cluster can run (sum over workload node pools, bounded by the cap).
    pub pod_capacity: u64,
}

/// A node group.
#[derive(Debug, Clone)]
pub struct NodePool {
    /// Address (`cluster.c000.node_pool.np00`).
    pub address: Address,
    /// Name.
    pub name: String,
    /// Where declared.
    pub span: Span,
    /// Instance type.
    pub instance_type: String,
    /// Minimum nodes.
    pub min: u64,
    /// Desired nodes.
    pub desired: u64,
    /// Maximum nodes.
    pub max: u64,
    /// Node labels.
    pub labels: BTreeMap<String, String>,
    /// Taints, `key=value:Effect`.
    pub taints: Vec<String>,
    /// kubelet max-pods in effect.
    pub max_pods: u64,
    /// Whether kubelet max-pods was set explicitly (needs a launch template).
    pub max_pods_explicit: bool,
    /// Prefix delegation on.
    pub prefix_delegation: bool,
    /// Reserved for kube-system.
    pub system: bool,
}

/// A cluster's load balancer.
#[derive(Debug, Clone)]
pub struct LoadBalancer {
    /// Internal or internet-facing.
    pub internal: bool,
    /// Subnets.
    pub subnets: Vec<String>,
}

/// A Kubernetes workload.
#[derive(Debug, Clone)]
pub struct Service {
    /// Address, name, span.
    pub meta: Meta,
    /// StatefulSet or Deployment.
    pub workload: Workload,
    /// Replicas over all clusters.
    pub replicas: u64,
    /// Image.
    pub image: String,
    /// Named ports, in name order.
    pub ports: BTreeMap<String, u16>,
    /// CPU request in millicores.
    pub cpu_millis: Option<u64>,
    /// CPU request as written.
    pub cpu: Option<String>,
    /// Memory request as written (Kubernetes quantity).
    pub memory: Option<String>,
    /// Environment.
    pub env: BTreeMap<String, String>,
    /// Command.
    pub command: Vec<String>,
    /// Namespace.
    pub namespace: String,
    /// Headless Service.
    pub headless: bool,
    /// `podManagementPolicy: Parallel`.
    pub parallel: bool,
    /// Services whose DNS must resolve first (indices into [`Model::services`]).
    pub wait_for: Vec<usize>,
    /// Mounted certificate (index into [`Model::certificates`]).
    pub certificate: Option<usize>,
    /// Mount path of the certificate.
    pub tls_mount: String,
    /// Max unavailable pods.
    pub disruption_budget: Option<u64>,
    /// URL of a data snapshot an init container restores into the pod's local `/data` volume.
    pub restore_from: Option<String>,
    /// Placement rule.
    pub strategy: ServiceStrategy,
    /// Candidate clusters (indices into [`Model::clusters`]), in order.
    pub clusters: Vec<usize>,
    /// Pinned counts per candidate cluster index.
    pub pinned: BTreeMap<usize, u64>,
}

/// Kubernetes workload kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// A StatefulSet (stable pod names, per-pod DNS with a headless Service).
    StatefulSet,
    /// A Deployment.
    Deployment,
}

/// How a service's replicas are shared over its clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStrategy {
    /// Fill clusters in order, up to each one's free room.
    Fill,
    /// Spread evenly, the remainder to the first clusters.
    Spread,
    /// Counts given per cluster.
    Pinned,
}

/// A Helm release.
#[derive(Debug, Clone)]
pub struct Release {
    /// Address, name, span.
    pub meta: Meta,
    /// Chart: `stdlib/NAME` or a path.
    pub chart: String,
    /// Chart version.
    pub version: Option<String>,
    /// Values.
    pub values: Value,
    /// Clusters (indices into [`Model::clusters`]).
    pub clusters: Vec<usize>,
    /// Namespace.
    pub namespace: String,
    /// Certificate handed to the chart.
    pub certificate: Option<usize>,
}

/// A layered image.
#[derive(Debug, Clone)]
pub struct Image {
    /// Address, name, span.
    pub meta: Meta,
    /// Base image.
    pub base: String,
    /// Target repository.
    pub repository: String,
    /// Tag.
    pub tag: String,
    /// Entrypoint.
    pub entrypoint: Vec<String>,
    /// Command.
    pub cmd: Vec<String>,
    /// Environment.
    pub env: BTreeMap<String, String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Budget for the stable part in bytes.
    pub stable_budget: Option<u64>,
    /// Layers, stable first.
    pub layers: Vec<Layer>,
}

/// One image layer.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Name.
    pub name: String,
    /// Where declared.
    pub span: Span,
    /// How often it changes.
    pub changes: Cadence,
    /// Files copied in: destination = source.
    pub files: BTreeMap<String, String>,
    /// Generated files: destination = text.
    pub content: BTreeMap<String, String>,
    /// Dockerfile RUN commands.
    pub run: Vec<String>,
    /// Expected size in bytes.
    pub size: Option<u64>,
}

/// How often a layer changes, slowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cadence {
    /// Never.
    Never,
    /// About once a year.
    Yearly,
    /// About once a month.
    Monthly,
    /// About once a week.
    Weekly,
    /// About once a day.
    Daily,
    /// On every release.
    Release,
}

/// A certificate issuer.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// Address, name, span.
    pub meta: Meta,
    /// Kind and settings.
    pub kind: IssuerKind,
}

/// Where certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerKind {
    /// A CA berth generates and keeps outside the reviewed output.
    Ca {
        /// CA common name.
        common_name: String,
        /// Validity in seconds.
        validity_secs: u64,
    },
    /// Vault, read through External Secrets Operator.
    Vault {
        /// Secret path.
        path: String,
        /// SecretStore name.
        store: String,
    },
    /// cert-manager.
    CertManager {
        /// ClusterIssuer name.
        issuer: String,
    },
}

/// A TLS certificate.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// Address, name, span.
    pub meta: Meta,
    /// SANs.
    pub dns_names: Vec<String>,
    /// Issuer (index into [`Model::issuers`]).
    pub issuer: usize,
    /// Validity in seconds.
    pub validity_secs: u64,
    /// Secret name.
    pub secret_name: String,
}

/// A forwarded port.
#[derive(Debug, Clone)]
pub struct Forward {
    /// Address, name, span.
    pub meta: Meta,
    /// What it forwards to.
    pub target: ForwardTarget,
    /// Listening port.
    pub port: u16,
    /// Backend port.
    pub target_port: u16,
    /// tcp or udp.
    pub protocol: String,
    /// Allowed source networks.
    pub sources: Vec<String>,
    /// Only on the home cluster.
    pub home_only: bool,
}

/// The target of a forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardTarget {
    /// A service (index into [`Model::services`]).
    Service(usize),
    /// A container (index into [`Model::containers`]).
    Container(usize),
}

/// An environment.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Address, name, span.
    pub meta: Meta,
    /// Owner.
    pub owner: String,
    /// Expiry as seconds since the Unix epoch.
    pub expires_unix: Option<i64>,
    /// Expiry as written.
    pub expires: Option<String>,
    /// Lifetime from first apply in seconds.
    pub ttl_secs: Option<u64>,
    /// Description.
    pub description: Option<String>,
}

/// A root-module output.
#[derive(Debug, Clone)]
pub struct Output {
    /// Name.
    pub name: String,
    /// Value.
    pub value: Value,
    /// Redacted in plans and logs.
    pub sensitive: bool,
}

/// Decided placement.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// Service shares: which service runs how many replicas where, in service then cluster order.
    pub shares: Vec<Share>,
    /// The host of each container (index into [`Model::hosts`]), parallel to [`Model::containers`].
    pub container_hosts: Vec<usize>,
}

/// A service's replicas on one cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// Service index.
    pub service: usize,
    /// Cluster index.
    pub cluster: usize,
    /// Replicas there.
    pub replicas: u64,
    /// Ordinal of the first of these replicas among the service's replicas.
    pub first_ordinal: u64,
}

impl Model {
    /// What every resource has, kind by kind in declaration order.
    pub fn metas(&self) -> impl Iterator<Item = &Meta> {
        self.hosts
            .iter()
            .map(|x| &x.meta)
            .chain(self.containers.iter().map(|x| &x.meta))
            .chain(self.clusters.iter().map(|x| &x.meta))
            .chain(self.services.iter().map(|x| &x.meta))
            .chain(self.releases.iter().map(|x| &x.meta))
            .chain(self.images.iter().map(|x| &x.meta))
            .chain(self.issuers.iter().map(|x| &x.meta))
            .chain(self.certificates.iter().map(|x| &x.meta))
            .chain(self.forwards.iter().map(|x| &x.meta))
            .chain(self.environments.iter().map(|x| &x.meta))
    }

    /// The shares of one service, in cluster order.
    pub fn shares_of(&self, service: usize) -> impl Iterator<Item = &Share> {
        self.placement.shares.iter().filter(move |s| s.service == service)
    }

    /// The home cluster of a service: where its first replica runs.
    pub fn home_cluster(&self, service: usize) -> Option<usize> {
        self.shares_of(service).min_by_key(|s| s.first_ordinal).map(|s| s.cluster)
    }

    /// The containers placed on one host, in declaration order.
    pub fn containers_on(&self, host: usize) -> impl Iterator<Item = (usize, &Container)> {
        self.containers.iter().enumerate().filter(move |(i, _)| self.placement.container_hosts.get(*i) == Some(&host))
    }

    /// The containers of every host (indices into [`Model::containers`], in declaration order),
    /// indexed by host: [`Model::containers_on`] for all hosts in one pass.
    pub fn containers_by_host(&self) -> Vec<Vec<usize>> {
        let mut on_host = vec![Vec::new(); self.hosts.len()];
        for (i, &h) in self.placement.container_hosts.iter().enumerate().take(self.containers.len()) {
            if let Some(list) = on_host.get_mut(h) {
                list.push(i);
            }
        }
        on_host
    }

    /// Storage balancing: the volume (an index into the host's [`Host::volumes`]) that keeps the
    /// data of each container on `host` with an `iops_demand`, as (container index, volume
    /// index) in declaration order. Each such container goes to the volume with the most IOPS
    /// left after the volume's own `iops_demand` and the containers before it (the first
    /// declared on ties), so the same spec always gives the same assignment. Empty when the
    /// host has no volumes.
    pub fn data_volumes(&self, host: usize) -> Vec<(usize, usize)> {
        self.balance_volumes(host, self.containers_on(host).map(|(i, _)| i))
    }

    /// [`Model::data_volumes`] of `host` given its containers `on_host` (as from
    /// [`Model::containers_by_host`]), without a pass over every container of the model.
    pub fn data_volumes_among(&self, host: usize, on_host: &[usize]) -> Vec<(usize, usize)> {
        self.balance_volumes(host, on_host.iter().copied())
    }

    fn balance_volumes(&self, host: usize, on_host: impl Iterator<Item = usize>) -> Vec<(usize, usize)> {
        let Some(h) = self.hosts.get(host) else { return Vec::new() };
        let mut left: Vec<i128> =
            h.volumes.iter().map(|v| i128::from(v.iops_capacity()) - i128::from(v.iops_demand.unwrap_or(0))).collect();
        let mut assigned = Vec::new();
        for i in on_host {
            let Some(demand) = self.containers[i].iops_demand else { continue };
            let mut best: Option<usize> = None;
            for (v, &l) in left.iter().enumerate() {
                if best.is_none_or(|b| l > left[b]) {
                    best = Some(v);
                }
            }
            let Some(v) = best else { break };
            left[v] -= i128::from(demand);
            assigned.push((i, v));
        }
        assigned
    }
}

impl Volume {
    /// The IOPS the volume delivers: its provisioned `iops`, else its type's baseline (gp3
    /// 3,000; gp2 3 per GiB within 100-16,000; st1 500; sc1 250).
    pub fn iops_capacity(&self) -> u64 {
        if let Some(iops) = self.iops {
            return iops;
        }
        match self.volume_type.as_str() {
            "gp2" => self.size_gib.saturating_mul(3).clamp(100, 16_000),
            "st1" => 500,
            "sc1" => 250,
            _ => 3_000,
        }
    }
}

//! The schema of every resource block: its attributes with their types and defaults, its nested
//! blocks, and the attributes only known once the object exists. The resolver reads it to tell
//! a reference to a computed attribute from a dangling one; the checker converts and validates
//! against it; docs/spec.md is checked against it.

/// The type an attribute takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Any string.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Bool,
    /// Anything (Helm values, labels passed through).
    Any,
    /// A list of strings.
    Strings,
    /// A map of strings (numbers and bools are converted).
    StringMap,
    /// One of the listed words.
    Enum(&'static [&'static str]),
    /// A reference to an object of one of the listed kinds.
    Ref(&'static [&'static str]),
    /// A list of references to objects of the listed kinds.
    Refs(&'static [&'static str]),
    /// A network in CIDR notation.
    Cidr,
    /// A list of networks in CIDR notation.
    Cidrs,
    /// A TCP/UDP port, 1..=65535.
    Port,
    /// A map of names to ports.
    PortMap,
    /// A Kubernetes CPU quantity (`500m`, `2`).
    Cpu,
    /// A byte size (`512Mi`, `16Gi`, or a number of bytes).
    Size,
    /// A duration (`90s`, `48h`, `7d`).
    Duration,
    /// An RFC 3339 timestamp.
    Timestamp,
    /// An OCI image reference.
    Image,
    /// A list of objects (each checked by the consumer).
    Objects,
}

impl Ty {
    /// How the type is named in messages and docs.
    pub fn describe(self) -> String {
        match self {
            Ty::String => "string".into(),
            Ty::Integer => "whole number".into(),
            Ty::Number => "number".into(),
            Ty::Bool => "bool".into(),
            Ty::Any => "any value".into(),
            Ty::Strings => "list of strings".into(),
            Ty::StringMap => "map of strings".into(),
            Ty::Enum(words) => {
                format!("one of {}", words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(", "))
            }
            Ty::Ref(kinds) => format!("reference to a {}", kinds.join(" or ")),
            Ty::Refs(kinds) => format!("list of references to {}", kinds.join(" or ")),
            Ty::Cidr => "CIDR network".into(),
            Ty::Cidrs => "list of CIDR networks".into(),
            Ty::Port => "port (1-65535)".into(),
            Ty::PortMap => "map of names to ports".into(),
            Ty::Cpu => "CPU quantity (e.g. \"500m\", 2)".into(),
            Ty::Size => "size (e.g. \"512Mi\", \"16Gi\")".into(),
            Ty::Duration => "duration (e.g. \"48h\", \"7d\")".into(),
            Ty::Timestamp => "RFC 3339 timestamp".into(),
            Ty::Image => "image reference".into(),
            Ty::Objects => "list of objects".into(),
        }
    }
}

/// A default value, as written in the spec.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Default {
    /// Required: no default.
    Required,
    /// Optional without a default (null).
    None,
    /// A string.
    Str(&'static str),
    /// A number.
    Num(f64),
    /// A bool.
    Bool(bool),
}

/// One attribute of a block.
#[derive(Debug)]
pub struct AttrSchema {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Its default, or whether it is required.
    pub default: Default,
    /// One line for docs and hints.
    pub doc: &'static str,
}

/// A block type: a resource kind or a nested block of one.
#[derive(Debug)]
pub struct BlockSchema {
    /// The block type name.
    pub name: &'static str,
    /// True if it takes a name label (`volume "data0" { }`); nested blocks without a label
    /// appear at most once.
    pub labelled: bool,
    /// Its attributes.
    pub attrs: &'static [AttrSchema],
    /// Its nested block types.
    pub blocks: &'static [BlockSchema],
    /// Attributes known only once the object exists (ids, endpoints, addresses).
    pub computed: &'static [&'static str],
    /// One line for docs.
    pub doc: &'static str,
}

impl BlockSchema {
    /// The attribute of this name.
    pub fn attr(&self, name: &str) -> Option<&'static AttrSchema>
    where
        Self: 'static,
    {
        self.attrs
            .iter()
            .find(|a| same_name(a.name, name))
            .or_else(|| if self.is_resource() { META_ATTRS.iter().find(|a| same_name(a.name, name)) } else { None })
    }

    /// The nested block type of this name.
    pub fn block(&self, name: &str) -> Option<&'static BlockSchema>
    where
        Self: 'static,
    {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// True for top-level resource kinds (as opposed to nested blocks).
    pub fn is_resource(&self) -> bool {
        RESOURCES.iter().any(|r| std::ptr::eq(r, self))
    }

    /// Every attribute name this block accepts, meta-arguments included.
    pub fn attr_names(&self) -> Vec<&'static str>
    where
        Self: 'static,
    {
        let mut names: Vec<&'static str> = self.attrs.iter().map(|a| a.name).collect();
        if self.is_resource() {
            names.extend(META_ATTRS.iter().map(|a| a.name));
        }
        names
    }
}

/// Whether two attribute names (or object keys) are the same. Bodies and objects are searched
/// by name for every attribute read (millions of times in a fleet), and names of one length
/// mostly differ in their first letter: comparing it first spares most comparisons of the
/// whole text.
#[inline]
pub fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Finds a resource kind by name.
pub fn resource(kind: &str) -> Option<&'static BlockSchema> {
    RESOURCES.iter().find(|r| r.name == kind)
}

/// The block types the resolver handles itself, beside the resources.
pub const LANGUAGE_BLOCKS: &[&str] = &["variable", "locals", "output", "module"];

/// Arguments every resource block takes, handled by the resolver.
pub static META_ATTRS: &[AttrSchema] = &[
    attr(
        "for_each",
        Ty::Any,
        Default::None,
        "Map, object or set of strings: one instance per key (`each.key`, `each.value`).",
    ),
    attr("count", Ty::Integer, Default::None, "Number of instances (`count.index`)."),
    attr("depends_on", Ty::Any, Default::None, "Objects that must exist before this one."),
    attr(
        "name",
        Ty::String,
        Default::None,
        "The object's real name; defaults to the label, the for_each key, or label-index with count.",
    ),
    attr(
        "environment",
        Ty::Ref(&["environment"]),
        Default::None,
        "The environment this object belongs to (torn down with it).",
    ),
];

const fn attr(name: &'static str, ty: Ty, default: Default, doc: &'static str) -> AttrSchema {
    AttrSchema { name, ty, default, doc }
}

const REQ: Default = Default::Required;
const NONE: Default = Default::None;

/// Every resource kind, in the order docs/spec.md presents them.
pub static RESOURCES: &[BlockSchema] = &[
    BlockSchema {
        name: "host",
        labelled: true,
        doc: "A machine (an EC2 instance) that runs a Docker engine.",
        attrs: &[
            attr("instance_type", Ty::String, REQ, "Instance type, from the stdlib catalogue."),
            attr("ami", Ty::String, REQ, "Machine image id."),
            attr("zone", Ty::String, REQ, "Availability zone, e.g. eu-west-1a."),
            attr("subnet", Ty::String, NONE, "Subnet id."),
            attr("security_groups", Ty::Strings, NONE, "Extra security group ids."),
            attr("tags", Ty::StringMap, NONE, "Tags on the instance and its volumes."),
            attr("sysctls", Ty::StringMap, NONE, "Kernel settings beyond the ones berth sizes to the host."),
            attr("endpoint", Ty::String, NONE, "Docker Engine endpoint for direct apply (unix:// or tcp://)."),
            attr(
                "address",
                Ty::String,
                NONE,
                "IPv4 address where the host's forwards listen; with it, they are DNATed to their containers.",
            ),
        ],
        blocks: &[
            BlockSchema {
                name: "volume",
                labelled: true,
                doc: "An EBS volume attached to the host.",
                attrs: &[
                    attr(
                        "type",
                        Ty::Enum(&["gp2", "gp3", "io1", "io2", "st1", "sc1"]),
                        Default::Str("gp3"),
                        "EBS volume type.",
                    ),
                    attr("size", Ty::Size, REQ, "Size, e.g. \"16000Gi\" or \"2Ti\"."),
                    attr("iops", Ty::Integer, NONE, "Provisioned IOPS (io1, io2, gp3)."),
                    attr("throughput", Ty::Integer, NONE, "Throughput in MiB/s (gp3 only)."),
                    attr("device", Ty::String, REQ, "Device name, e.g. /dev/sdf."),
                    attr("mount", Ty::String, REQ, "Mount point, e.g. /mnt/data0."),
                    attr(
                        "filesystem",
                        Ty::Enum(&["xfs", "ext4"]),
                        Default::Str("xfs"),
                        "Filesystem created on first boot.",
                    ),
                    attr(
                        "iops_demand",
                        Ty::Integer,
                        NONE,
                        "IOPS the data placed here is expected to use, for balancing.",
                    ),
                ],
                blocks: &[],
                computed: &["id"],
            },
            BlockSchema {
                name: "docker",
                labelled: false,
                doc: "Docker engine settings (daemon.json).",
                attrs: &[
                    attr("data_root", Ty::String, NONE, "Docker's data-root; defaults to docker/ on the first volume."),
                    attr(
                        "log_driver",
                        Ty::Enum(&["json-file", "local", "journald", "syslog", "none"]),
                        Default::Str("json-file"),
                        "Default log driver.",
                    ),
                    attr("log_max_size", Ty::String, Default::Str("50m"), "Log rotation size."),
                    attr("log_max_file", Ty::Integer, Default::Num(5.0), "Rotated log files kept."),
                    attr(
                        "address_pool_base",
                        Ty::Cidr,
                        Default::Str("172.16.0.0/12"),
                        "Base network of default-address-pools.",
                    ),
                    attr(
                        "address_pool_size",
                        Ty::Integer,
                        NONE,
                        "Prefix length of each pool; sized to the containers when unset.",
                    ),
                    attr(
                        "live_restore",
                        Ty::Bool,
                        Default::Bool(true),
                        "Keep containers running while dockerd restarts.",
                    ),
                    attr("max_concurrent_downloads", Ty::Integer, Default::Num(3.0), "Parallel layer downloads."),
                    attr(
                        "cpu_overcommit",
                        Ty::Number,
                        Default::Num(4.0),
                        "How many times the vCPUs the containers' CPU limits may add up to (limits cap bursts, they reserve nothing).",
                    ),
                ],
                blocks: &[],
                computed: &[],
            },
        ],
        computed: &["id", "private_ip", "public_ip", "arn"],
    },
    BlockSchema {
        name: "container",
        labelled: true,
        doc: "A Docker workload placed on hosts.",
        attrs: &[
            attr("image", Ty::Image, REQ, "Image reference."),
            attr("cpus", Ty::Number, REQ, "CPUs (may be fractional)."),
            attr("memory", Ty::Size, REQ, "Memory limit, e.g. \"512Mi\"."),
            attr(
                "restart",
                Ty::Enum(&["no", "always", "on-failure", "unless-stopped"]),
                Default::Str("unless-stopped"),
                "Restart policy.",
            ),
            attr("networks", Ty::Strings, NONE, "Networks to join; defaults to one network per host."),
            attr("ports", Ty::Strings, NONE, "Published ports, \"HOST:CONTAINER\"."),
            attr("env", Ty::StringMap, NONE, "Environment variables."),
            attr("command", Ty::Strings, NONE, "Command override."),
            attr("healthcheck", Ty::Strings, NONE, "Health check command (CMD form)."),
            attr("volumes", Ty::Strings, NONE, "Bind mounts, \"VOLUME_NAME:/path\" with a volume of the host."),
            attr("iops_demand", Ty::Integer, NONE, "IOPS the container's data needs, for balancing volumes."),
            attr(
                "address",
                Ty::String,
                NONE,
                "Fixed IPv4 address on its Docker network (docker run --ip); forwards to it DNAT there.",
            ),
        ],
        blocks: &[BlockSchema {
            name: "placement",
            labelled: false,
            doc: "Where the container runs.",
            attrs: &[
                attr(
                    "strategy",
                    Ty::Enum(&["round-robin", "bin-pack", "pinned"]),
                    Default::Str("round-robin"),
                    "How hosts are chosen.",
                ),
                attr("hosts", Ty::Refs(&["host"]), NONE, "Candidate hosts; all hosts when unset."),
            ],
            blocks: &[],
            computed: &[],
        }],
        computed: &["id"],
    },
    BlockSchema {
        name: "cluster",
        labelled: true,
        doc: "A Kubernetes cluster.",
        attrs: &[
            attr("provider", Ty::Enum(&["eks"]), Default::Str("eks"), "Managed Kubernetes provider."),
            attr("version", Ty::String, REQ, "Kubernetes version, e.g. \"1.31\"."),
            attr("region", Ty::String, REQ, "Cloud region."),
            attr("subnets", Ty::Strings, REQ, "Subnet ids of the control plane and nodes."),
            attr("max_pods", Ty::Integer, NONE, "The cluster's pod cap used by placement."),
            attr("role_arn", Ty::String, NONE, "IAM role of the control plane; a Terraform variable when unset."),
            attr("node_role_arn", Ty::String, NONE, "IAM role of the nodes; a Terraform variable when unset."),
            attr("context", Ty::String, NONE, "kubeconfig context for direct apply; defaults to the cluster name."),
            attr(
                "dns_suffix",
                Ty::String,
                Default::Str("svc.clusterset.local"),
                "Suffix of multi-cluster service names.",
            ),
            attr(
                "pod_labels",
                Ty::StringMap,
                NONE,
                "Kubernetes labels added to every object berth renders on this cluster, pods included.",
            ),
        ],
        blocks: &[
            BlockSchema {
                name: "node_pool",
                labelled: true,
                doc: "A managed node group.",
                attrs: &[
                    attr("instance_type", Ty::String, REQ, "Instance type, from the stdlib catalogue."),
                    attr("min", Ty::Integer, REQ, "Minimum nodes."),
                    attr("desired", Ty::Integer, NONE, "Desired nodes; defaults to min."),
                    attr("max", Ty::Integer, REQ, "Maximum nodes."),
                    attr("labels", Ty::StringMap, NONE, "Node labels."),
                    attr("taints", Ty::Strings, NONE, "Taints, \"key=value:Effect\"."),
                    attr("max_pods", Ty::Integer, NONE, "kubelet max-pods; defaults to the instance type's ENI limit."),
                    attr(
                        "prefix_delegation",
                        Ty::Bool,
                        Default::Bool(false),
                        "Assign /28 prefixes to ENIs (Nitro only) to run more pods per node.",
                    ),
                    attr(
                        "system",
                        Ty::Bool,
                        Default::Bool(false),
                        "Reserved for kube-system: no workloads are placed here.",
                    ),
                ],
                blocks: &[],
                computed: &["id", "arn"],
            },
            BlockSchema {
                name: "load_balancer",
                labelled: false,
                doc: "The cluster's network load balancer that forwards reach.",
                attrs: &[
                    attr("internal", Ty::Bool, Default::Bool(true), "Internal (not internet-facing)."),
                    attr("subnets", Ty::Strings, NONE, "Subnets; the cluster's when unset."),
                ],
                blocks: &[],
                computed: &["arn", "dns_name"],
            },
        ],
        computed: &["id", "arn", "endpoint", "certificate_authority"],
    },
    BlockSchema {
        name: "service",
        labelled: true,
        doc: "A Kubernetes workload placed over one or more clusters.",
        attrs: &[
            attr(
                "workload",
                Ty::Enum(&["StatefulSet", "Deployment"]),
                Default::Str("StatefulSet"),
                "Kubernetes workload kind.",
            ),
            attr("replicas", Ty::Integer, REQ, "Pods in all clusters together."),
            attr("image", Ty::Image, REQ, "Image reference."),
            attr("ports", Ty::PortMap, NONE, "Named container ports, e.g. { http = 8080 }."),
            attr("cpu", Ty::Cpu, NONE, "CPU request per pod."),
            attr("memory", Ty::Size, NONE, "Memory request (and limit) per pod."),
            attr("env", Ty::StringMap, NONE, "Environment variables."),
            attr("command", Ty::Strings, NONE, "Command override."),
            attr("namespace", Ty::String, Default::Str("default"), "Namespace."),
            attr("headless", Ty::Bool, Default::Bool(false), "Give the Service no cluster IP: one DNS record per pod."),
            attr(
                "pod_management",
                Ty::Enum(&["OrderedReady", "Parallel"]),
                Default::Str("OrderedReady"),
                "StatefulSet pod management policy.",
            ),
            attr(
                "wait_for",
                Ty::Refs(&["service"]),
                NONE,
                "Services whose DNS names must resolve before this one starts.",
            ),
            attr("certificate", Ty::Ref(&["certificate"]), NONE, "Certificate mounted as a Secret."),
            attr("tls_mount", Ty::String, Default::Str("/etc/tls"), "Where the certificate is mounted."),
            attr("disruption_budget", Ty::Integer, NONE, "Max unavailable pods (PodDisruptionBudget)."),
            attr(
                "restore_from",
                Ty::String,
                NONE,
                "URL of a data snapshot (tar.gz) that an init container unpacks into the pod's local /data volume before the app starts.",
            ),
        ],
        blocks: &[BlockSchema {
            name: "placement",
            labelled: false,
            doc: "Which clusters run the service, and how replicas are shared.",
            attrs: &[
                attr("clusters", Ty::Refs(&["cluster"]), REQ, "Candidate clusters, in order."),
                attr(
                    "strategy",
                    Ty::Enum(&["fill", "spread", "pinned"]),
                    Default::Str("fill"),
                    "Fill clusters in order, spread evenly, or pin counts.",
                ),
                attr("counts", Ty::StringMap, NONE, "Pinned replicas per cluster name."),
            ],
            blocks: &[],
            computed: &[],
        }],
        computed: &["id"],
    },
    BlockSchema {
        name: "release",
        labelled: true,
        doc: "A Helm release of a chart on named clusters.",
        attrs: &[
            attr("chart", Ty::String, REQ, "stdlib/NAME or a local chart path."),
            attr("version", Ty::String, NONE, "Chart version."),
            attr("values", Ty::Any, NONE, "Chart values."),
            attr("clusters", Ty::Refs(&["cluster"]), REQ, "Clusters to install on."),
            attr("namespace", Ty::String, Default::Str("default"), "Namespace."),
            attr("certificate", Ty::Ref(&["certificate"]), NONE, "Certificate handed to the chart as a Secret."),
        ],
        blocks: &[],
        computed: &[],
    },
    BlockSchema {
        name: "image",
        labelled: true,
        doc: "A container image built from a base and ordered layers, stable first.",
        attrs: &[
            attr("base", Ty::Image, REQ, "Base image reference."),
            attr("repository", Ty::String, REQ, "Target repository, e.g. registry.example.com/team/app."),
            attr("tag", Ty::String, Default::Str("latest"), "Tag to push."),
            attr("entrypoint", Ty::Strings, NONE, "Entrypoint."),
            attr("cmd", Ty::Strings, NONE, "Default command."),
            attr("env", Ty::StringMap, NONE, "Environment."),
            attr("labels", Ty::StringMap, NONE, "Image labels."),
            attr("stable_budget", Ty::Size, NONE, "Size budget of the stable layers."),
        ],
        blocks: &[BlockSchema {
            name: "layer",
            labelled: true,
            doc: "One layer, in order from stable to fast-changing.",
            attrs: &[
                attr(
                    "changes",
                    Ty::Enum(&["never", "yearly", "monthly", "weekly", "daily", "release"]),
                    Default::Str("release"),
                    "How often its content changes.",
                ),
                attr("files", Ty::StringMap, NONE, "Files: destination path = source path (relative to the spec)."),
                attr("content", Ty::StringMap, NONE, "Generated files: destination path = text."),
                attr("run", Ty::Strings, NONE, "Commands for the Dockerfile (Docker builds only)."),
                attr("size", Ty::Size, NONE, "Expected size, for the budget check."),
            ],
            blocks: &[],
            computed: &["digest"],
        }],
        computed: &["digest"],
    },
    BlockSchema {
        name: "issuer",
        labelled: true,
        doc: "Where certificates come from: a CA berth runs, Vault, or cert-manager.",
        attrs: &[
            attr("type", Ty::Enum(&["ca", "vault", "cert-manager"]), REQ, "Issuer type."),
            attr("common_name", Ty::String, NONE, "CA common name (type ca)."),
            attr("validity", Ty::Duration, Default::Str("87600h"), "CA validity (type ca)."),
            attr("vault_path", Ty::String, NONE, "Secret path (type vault, read through External Secrets)."),
            attr("secret_store", Ty::String, NONE, "External Secrets store (type vault)."),
            attr("issuer_name", Ty::String, NONE, "cert-manager ClusterIssuer (type cert-manager)."),
        ],
        blocks: &[],
        computed: &[],
    },
    BlockSchema {
        name: "certificate",
        labelled: true,
        doc: "A TLS certificate delivered to services as a Kubernetes Secret.",
        attrs: &[
            attr("dns_names", Ty::Strings, REQ, "DNS names (SANs)."),
            attr("issuer", Ty::Ref(&["issuer"]), REQ, "The issuer."),
            attr("validity", Ty::Duration, Default::Str("2160h"), "Validity."),
            attr("secret_name", Ty::String, NONE, "Secret name; defaults to NAME-tls."),
        ],
        blocks: &[],
        computed: &["fingerprint"],
    },
    BlockSchema {
        name: "forward",
        labelled: true,
        doc: "A load-balancer or host port forwarded to wherever a service or container runs.",
        attrs: &[
            attr("to", Ty::Ref(&["service", "container"]), REQ, "The service or container."),
            attr("port", Ty::Port, REQ, "Listening port."),
            attr("target_port", Ty::Port, NONE, "Backend port; the target's first port when unset."),
            attr("protocol", Ty::Enum(&["tcp", "udp"]), Default::Str("tcp"), "Protocol."),
            attr("sources", Ty::Cidrs, REQ, "Networks allowed in."),
            attr(
                "on",
                Ty::Enum(&["home", "all"]),
                Default::Str("all"),
                "Listen on the load balancer of every cluster running it, or only its home cluster.",
            ),
        ],
        blocks: &[],
        computed: &[],
    },
    BlockSchema {
        name: "environment",
        labelled: true,
        doc: "A named environment with an owner and an expiry, torn down by `berth gc`.",
        attrs: &[
            attr("owner", Ty::String, REQ, "Who to ask about it."),
            attr("expires", Ty::Timestamp, NONE, "When it is due for teardown."),
            attr("ttl", Ty::Duration, NONE, "Lifetime from its first apply."),
            attr("description", Ty::String, NONE, "What it is for."),
        ],
        blocks: &[],
        computed: &["created"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_documented() {
        fn walk(b: &BlockSchema) {
            let mut seen = std::collections::BTreeSet::new();
            for a in b.attrs {
                assert!(seen.insert(a.name), "{}.{} twice", b.name, a.name);
                assert!(a.doc.ends_with('.'), "{}.{} undocumented", b.name, a.name);
            }
            for n in b.blocks {
                assert!(seen.insert(n.name), "{}.{} twice", b.name, n.name);
                walk(n);
            }
        }
        let mut kinds = std::collections::BTreeSet::new();
        for r in RESOURCES {
            assert!(kinds.insert(r.name));
            assert!(!LANGUAGE_BLOCKS.contains(&r.name));
            walk(r);
        }
        assert!(resource("host").unwrap().attr("for_each").is_some());
        assert!(resource("host").unwrap().block("volume").unwrap().attr("for_each").is_none());
    }

    /// The check stage reads an unset list or map as empty without looking at its default.
    #[test]
    fn lists_and_maps_have_no_default() {
        fn walk(b: &BlockSchema) {
            for a in b.attrs {
                if matches!(a.ty, Ty::Strings | Ty::StringMap | Ty::Refs(_) | Ty::Cidrs | Ty::PortMap) {
                    assert!(
                        matches!(a.default, Default::None | Default::Required),
                        "{}.{} has a default",
                        b.name,
                        a.name
                    );
                }
            }
            b.blocks.iter().for_each(walk);
        }
        RESOURCES.iter().for_each(walk);
    }
}

//! The registry of diagnostic codes: one place that names and documents every problem berth
//! reports. `berth explain CODE` prints an entry; a test proves the names are unique and every
//! entry is documented.

/// A documented diagnostic code, such as `capacity::pods-per-node`.
#[derive(Debug, PartialEq, Eq)]
pub struct Code {
    /// The stable name, `area::problem`.
    pub name: &'static str,
    /// The fixed one-line summary every diagnostic of this code starts with.
    pub summary: &'static str,
    /// What the problem is and why berth rejects or warns about it.
    pub explanation: &'static str,
    /// How to fix it, in general.
    pub fix: &'static str,
}

impl Code {
    /// Finds a code by its name.
    pub fn by_name(name: &str) -> Option<&'static Code> {
        ALL_CODES.iter().copied().find(|c| c.name == name)
    }
}

macro_rules! registry {
    ($($ident:ident = $name:literal, $summary:literal, $explanation:literal, $fix:literal;)*) => {
        /// Every diagnostic code, as statics to cite at the call site.
        pub mod codes {
            use super::Code;
            $(
                #[doc = $summary]
                pub static $ident: Code = Code {
                    name: $name,
                    summary: $summary,
                    explanation: $explanation,
                    fix: $fix,
                };
            )*
        }
        /// All codes, in registry order.
        pub static ALL_CODES: &[&Code] = &[$(&codes::$ident),*];
    };
}

registry! {
    SYNTAX_PARSE = "syntax::parse", "invalid HCL syntax",
        "The file is not valid HCL: berth could not read its structure, so nothing in it is checked further.",
        "Fix the syntax at the marked position; `berth fmt` only runs on files that parse.";
    SYNTAX_DUPLICATE_ATTRIBUTE = "syntax::duplicate-attribute", "attribute set twice",
        "An attribute appears twice in one block; HCL allows each argument once.",
        "Remove one of the two, or merge their values.";
    IO_READ = "io::read", "file cannot be read",
        "A spec file, module or variable file named on the command line or by a `module` block could not be read.",
        "Check the path; module sources are relative to the file that names them.";
    SCHEMA_UNKNOWN_BLOCK = "schema::unknown-block", "unknown block type",
        "berth knows a fixed set of block types (host, container, cluster, service, ...); this one is not among them where it appears.",
        "Use one of the block types listed in docs/spec.md; the hint names the closest.";
    SCHEMA_UNKNOWN_ATTRIBUTE = "schema::unknown-attribute", "unknown attribute",
        "The block does not take an attribute of this name; a misspelt attribute would otherwise be silently ignored.",
        "Use one of the attributes listed in docs/spec.md for this block; the hint names the closest.";
    SCHEMA_MISSING_ATTRIBUTE = "schema::missing-attribute", "required attribute missing",
        "The block cannot be built without this attribute.",
        "Add the attribute; docs/spec.md shows an example.";
    SCHEMA_WRONG_TYPE = "schema::wrong-type", "value of the wrong type",
        "The attribute's value has a type other than the one the block needs, such as a string where a number is expected.",
        "Write a value of the expected type; numbers are unquoted, lists use [ ], objects { }.";
    SCHEMA_INVALID_VALUE = "schema::invalid-value", "value not allowed",
        "The value has the right type but is not one of the values this attribute allows.",
        "Use one of the values the message lists.";
    SCHEMA_LABELS = "schema::labels", "wrong number of block labels",
        "Each block type takes a fixed number of labels: `host \"name\" { }` takes one, `locals { }` none.",
        "Give the block exactly the labels docs/spec.md shows.";
    SCHEMA_DUPLICATE_NAME = "schema::duplicate-name", "duplicate name",
        "Two objects of one kind have the same name, so references and generated files would collide.",
        "Rename one of them; names are unique per kind after for_each and count are expanded.";
    SCHEMA_NAME = "schema::name", "invalid name",
        "Names become Kubernetes object names, DNS labels, Terraform addresses and file names, so they must be DNS labels: lower-case letters, digits and '-', at most 63 characters, starting with a letter and ending with a letter or digit.",
        "Rename the object to a valid DNS label.";
    REF_UNKNOWN = "ref::unknown", "reference to something that does not exist",
        "An expression names a block, variable, local, attribute or nested object that is not declared.",
        "Declare it, or fix the name; the hint names the closest one that exists.";
    REF_CYCLE = "ref::cycle", "values depend on each other in a cycle",
        "Evaluating a value needs the value itself, through the chain of references shown.",
        "Break the cycle by computing one of the values from something else.";
    REF_KIND = "ref::kind", "reference to the wrong kind of object",
        "The attribute refers to an object, but of another kind than it needs, e.g. a host where a cluster is expected.",
        "Refer to an object of the kind named in the message.";
    EVAL_TYPE = "eval::type", "operation on a value of the wrong type",
        "An operator, index, template or `for` expression was applied to a value it cannot take, such as adding a string to a number.",
        "Convert the value first (tonumber, tostring, tolist) or use another operation.";
    EVAL_INDEX = "eval::index", "index or key not found",
        "An index is out of range, or a key is not in the map or object.",
        "Check the collection's length or keys; `lookup(map, key, default)` gives a default.";
    EVAL_FUNCTION = "eval::function", "function call failed",
        "A built-in function was called with arguments it cannot take, or is not a known function.",
        "See docs/spec.md for the functions and their arguments.";
    EVAL_LIMIT = "eval::limit", "evaluation too large",
        "A `for_each` or `count` would make more than a million instances, a `for` expression or template would grow beyond berth's limits, or values are computed from a chain of more than 200 others.",
        "Use smaller values; berth caps instances at 1 million, collections at 10 million elements, strings at 64 MiB and value chains at 200.";
    META_FOR_EACH = "meta::for-each", "invalid for_each or count",
        "`for_each` takes a map, an object or a set of strings; `count` a whole number from 0; a block cannot have both.",
        "Give for_each a map or set of strings, or count a non-negative integer, not both.";
    VAR_MISSING = "var::missing", "required variable has no value",
        "The variable has no default and no value was given with --var or --var-file.",
        "Pass it with `--var NAME=VALUE` or a variable file, or give it a default.";
    VAR_UNDECLARED = "var::undeclared", "value given for an undeclared variable",
        "A --var or a variable file sets a variable that the spec does not declare.",
        "Declare the variable with a `variable` block, or drop the value.";
    VAR_VALIDATION = "var::validation", "variable value fails its validation",
        "A `validation` block of the variable evaluated to false for the given value.",
        "Pass a value that meets the condition; the message is the variable's own error_message.";
    VAR_TYPE = "var::type", "invalid variable type",
        "The `type` of a variable is not a type expression berth understands.",
        "Use string, number, bool, any, list(T), set(T), map(T), object({...}) or tuple([...]).";
    MODULE_SOURCE = "module::source", "module cannot be loaded",
        "The module's source is not a local directory with .hcl files, nor a stdlib module (`stdlib/NAME`).",
        "Use a path relative to this file, or one of the stdlib modules listed in docs/spec.md.";
    MODULE_CYCLE = "module::cycle", "module includes itself",
        "A module calls itself, directly or through other modules, which would never end.",
        "Remove the recursive module call.";
    FORMAT_CIDR = "format::cidr", "malformed CIDR",
        "The value is not an IPv4 or IPv6 network in CIDR notation, or has host bits set.",
        "Write it as address/prefix with the host bits zero, e.g. 10.0.0.0/8.";
    FORMAT_PORT = "format::port", "port out of range",
        "A port must be a whole number from 1 to 65535.",
        "Use a port in 1..=65535.";
    FORMAT_QUANTITY = "format::quantity", "malformed quantity",
        "CPU and memory are Kubernetes quantities: a number with an optional suffix (m, k, M, G, T, Ki, Mi, Gi, Ti).",
        "Write e.g. `500m` CPU or `512Mi` memory.";
    FORMAT_DURATION = "format::duration", "malformed duration",
        "Durations are a number and a unit, combined: `90s`, `15m`, `48h`, `7d`, `1h30m`.",
        "Write the duration with s, m, h or d units.";
    FORMAT_TIMESTAMP = "format::timestamp", "malformed timestamp",
        "Timestamps are RFC 3339 with a time zone, e.g. `2026-11-27T18:00:00Z`.",
        "Write the timestamp in RFC 3339 with `Z` or an offset.";
    FORMAT_IMAGE = "format::image", "invalid image reference",
        "An image reference is `[registry/]repository[:tag][@digest]` with lower-case repository components.",
        "Write a valid reference such as `registry.example.com/team/app:1.2.3`.";
    FORMAT_SIZE = "format::size", "malformed size",
        "Sizes are a number with a unit: `512Mi`, `16Gi`, `2Ti`, or plain bytes.",
        "Write the size with a binary unit (Ki, Mi, Gi, Ti).";
    GRAPH_CYCLE = "graph::cycle", "dependency cycle",
        "Resources depend on each other in a cycle, so there is no order to create them in. The message prints the cycle's path.",
        "Remove one of the dependencies on the path.";
    CATALOGUE_INSTANCE_TYPE = "catalogue::instance-type", "unknown instance type",
        "The instance type is not in berth's catalogue (stdlib/catalogue), so its CPU, memory and network limits are unknown.",
        "Use an instance type from the catalogue; the hint names the closest. To add one, extend stdlib/catalogue/instance-types.hcl with its published figures.";
    CAPACITY_PODS_PER_NODE = "capacity::pods-per-node", "more pods per node than the node can run",
        "Each node runs at most kubelet max-pods pods, and on EKS without prefix delegation at most ENIs x (IPv4 per ENI - 1) + 2, because every pod takes an IP address of the node's network interfaces.",
        "Add nodes, lower the pods, or enable prefix delegation on a Nitro instance type and raise kubelet max_pods.";
    CAPACITY_PODS_PER_CLUSTER = "capacity::pods-per-cluster", "more pods than the cluster's cap",
        "The pods placed on a cluster exceed its declared pod cap (`max_pods`).",
        "Raise the cap, add clusters to the service's placement, or lower replicas.";
    CAPACITY_UNPLACEABLE = "capacity::unplaceable", "replicas cannot be placed",
        "The service's replicas do not fit the free room of the clusters it may run on.",
        "Add clusters to its placement, raise cluster caps, or lower its replicas; the message lists the free room per cluster.";
    CAPACITY_HOST = "capacity::host", "containers exceed the host",
        "The memory limits of the containers placed on a Docker host add up to more than its instance type has, or their CPU limits to more than its vCPUs times `cpu_overcommit` (4 unless set).",
        "Place fewer containers there, use a bigger instance type, or lower the containers' requests.";
    CAPACITY_ADDRESS_POOL = "capacity::address-pool", "address pool too small",
        "A Docker host's default address pools cannot give every network on the host a subnet large enough for its containers.",
        "Use a larger base network or a smaller pool size, or place fewer containers on the host.";
    CAPACITY_SCALE = "capacity::scale", "beyond the Kubernetes scale envelope",
        "Kubernetes is tested up to 5,000 nodes and 150,000 pods per cluster; beyond that the control plane is unsupported.",
        "Split the workload over more clusters.";
    CAPACITY_NODE_POOL_SIZE = "capacity::node-pool-size", "node pool sizes out of order",
        "A node pool needs min <= desired <= max, and max at least 1.",
        "Order the sizes so that min <= desired <= max.";
    VOLUME_LIMITS = "volume::limits", "volume setting beyond its type's limits",
        "EBS volume types bound size, IOPS and throughput: io2 up to 256,000 IOPS and 1,000 IOPS per GiB, io1 up to 64,000 and 50 per GiB, gp3 up to 16,000 IOPS and 1,000 MiB/s, throughput only on gp3.",
        "Use values within the volume type's limits, or another type.";
    VOLUME_MOUNT = "volume::mount", "invalid volume mount or device",
        "Mount points must be absolute paths and devices /dev/sd[f-p] or /dev/xvd[f-p], each used once per host.",
        "Give every volume its own absolute mount point and device.";
    VOLUME_BALANCE = "volume::balance", "volume carries more IOPS than it delivers",
        "berth balances the data of containers that declare `iops_demand` over their host's volumes: each goes to the volume with the most IOPS left (provisioned `iops`, else the type's baseline, less the volume's own `iops_demand`), and its directory VOLUME_MOUNT/containers/NAME is mounted at /data. When a volume's share of the demand still exceeds what it delivers, the containers on it will queue for I/O. A warning: the files are still generated.",
        "Provision more IOPS on the host's volumes, add a volume, lower the declared demand, or place some of the containers on another host.";
    ENVIRONMENT_EXPIRED = "environment::expired", "environment has expired",
        "The environment's `expires` time has passed: it is due for `berth gc`, and applying it again would resurrect it. A warning, so that specs keep building after the date.",
        "Move `expires` forward if it should live on, or run `berth gc` to tear it down.";
    ENVIRONMENT_LIFETIME = "environment::lifetime", "environment lifetime given twice",
        "An environment takes either `expires` (a timestamp) or `ttl` (a duration from its first apply), not both.",
        "Keep one of `expires` and `ttl`.";
    PLACEMENT_STRATEGY = "placement::strategy", "placement cannot be followed",
        "The placement names no target, or a pinned placement's counts do not add up to the replicas.",
        "Name at least one cluster or host; pinned counts must sum to the replica count.";
    FORWARD_CONFLICT = "forward::conflict", "two forwards on one port",
        "Two forwards listen on the same port of the same load balancer or host.",
        "Give each forward its own port.";
    FORWARD_NOWHERE = "forward::nowhere", "forward to a service that runs nowhere",
        "The forwarded service or container has no replicas placed anywhere, so the forward would have no backends.",
        "Place the service, or remove the forward.";
    FORWARD_CIDR_OVERLAP = "forward::cidr-overlap", "overlapping source networks",
        "Two source networks of one forward overlap; one of them is redundant and often a typo.",
        "Remove the narrower network or fix the prefix.";
    FORWARD_QUOTA = "forward::quota", "too many forwards on one load balancer",
        "Every forward that lands on a cluster's network load balancer becomes one listener and one target group there. AWS allows at most 50 listeners and 100 target groups per load balancer, so more forwards than that fail halfway through `terraform apply`; with one target group per listener, the listener quota is the one reached first.",
        "Spread the forwarded services over more clusters, use `on = \"home\"` so a forward listens only on its service's home cluster, or drop forwards that are not needed.";
    CERTIFICATE_ISSUER = "certificate::issuer", "invalid certificate issuer",
        "An issuer of type `ca` is issued by berth; `vault` needs a path and store; `cert-manager` an issuer name.",
        "Give the issuer the attributes its type needs.";
    HELM_SIZE = "helm::size", "Helm chart or Secret over 1 MiB",
        "Helm stores every release as a Secret holding the gzipped chart (templates, files, values) and its rendered manifest, and Kubernetes caps a Secret at 1 MiB; an install of a larger release fails. berth renders one chart per cluster, so the estimate covers all services, certificates and releases placed on that cluster. A Secret object berth renders (a TLS Secret) is held to the same 1 MiB cap.",
        "Spread the cluster's services over more clusters (each cluster gets its own chart), move some releases to another cluster, or shrink large release values; for a Secret, issue fewer or smaller certificates.";
    CERTIFICATE_ISSUE = "certificate::issue", "certificate cannot be issued",
        "berth issues the certificates of `ca` issuers itself (a CA per issuer and build, leaf keys kept in the secrets directory); this certificate could not be built, typically because a DNS name is not a valid SAN.",
        "Give the certificate valid DNS names (letters, digits, '-', '.', an optional leading `*.`).";
    DOCKER_USER_DATA = "docker::user-data", "cloud-init over EC2's user-data limit",
        "A Docker host's cloud-init carries its daemon.json, sysctl file and compose file (compressed) to the machine as EC2 user data, which holds at most 16 KB.",
        "Place fewer containers on the host, or spread them over more hosts.";
    APPLY_IAM_ROLE = "apply::iam-role", "IAM role needed to apply a cluster directly",
        "EKS creates a cluster only with the IAM role of its control plane, and a node group only with the IAM role of its nodes. A cluster that sets no `role_arn` or `node_role_arn` leaves them to the Terraform variables `eks_cluster_role_arn` and `eks_node_role_arn`, which `berth build` writes; `berth plan` and `berth apply` create the cluster themselves and have no such variable, so they refuse the spec before creating anything.",
        "Set `role_arn` and `node_role_arn` on the cluster (for instance from variables of the spec), or apply without AWS with `--only kubernetes`.";
    IMAGE_LAYERS = "image::layers", "image layers out of order or too many",
        "Overlay filesystems stack at most about 125 layers, and a layer that changes more often placed below one that changes less defeats caching.",
        "Order layers from stable to fast-changing and merge layers to stay under the limit.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_well_formed_and_documented() {
        let mut seen = BTreeSet::new();
        for code in ALL_CODES {
            assert!(seen.insert(code.name), "duplicate code {}", code.name);
            let (area, problem) = code.name.split_once("::").expect("area::problem");
            let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '-');
            assert!(ok(area) && ok(problem), "malformed code {}", code.name);
            assert!(code.summary.len() > 8, "{} has no summary", code.name);
            assert!(code.explanation.ends_with('.'), "{} explanation is not a sentence", code.name);
            assert!(code.fix.ends_with('.'), "{} fix is not a sentence", code.name);
        }
        assert_eq!(Code::by_name("capacity::pods-per-node"), Some(&codes::CAPACITY_PODS_PER_NODE));
    }
}

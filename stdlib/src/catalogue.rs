//! The EC2 instance-type catalogue behind berth's capacity checks.
//!
//! The figures live in `catalogue/instance-types.hcl` (its header names the sources), which is
//! embedded in the binary and parsed once, on first use. Look a type up with [`instance_type`],
//! or walk them all with [`instance_types`].

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use std::sync::OnceLock;

/// The embedded catalogue.
const SOURCE: &str = include_str!("../catalogue/instance-types.hcl");

/// The identifier of the catalogue's blocks.
const BLOCK: &str = "instance_type";

/// The attributes every block must set, and the only ones it may.
const FIELDS: [&str; 9] = [
    "vcpus",
    "memory_mib",
    "enis",
    "ipv4_per_eni",
    "nitro",
    "local_disks",
    "local_disk_gib",
    "ebs_max_iops",
    "network_gbps",
];

/// One EC2 instance type, with the published figures berth plans capacity from.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceType {
    /// The API name, such as `m6i.8xlarge`.
    pub name: String,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory in MiB (the published GiB x 1024).
    pub memory_mib: u64,
    /// Maximum network interfaces (ENIs) on the default network card.
    pub enis: u32,
    /// IPv4 addresses per network interface, the primary address included.
    pub ipv4_per_eni: u32,
    /// Whether the type is built on the Nitro System (bare-metal sizes included); `false` means
    /// Xen, where the VPC CNI cannot delegate prefixes.
    pub nitro: bool,
    /// Instance store volumes; 0 for EBS-only types.
    pub local_disks: u32,
    /// Size of each instance store volume, as AWS publishes it; 0 when there are none.
    pub local_disk_gib: u32,
    /// Maximum EBS IOPS at 16 KiB I/O (the burst figure for sizes that burst).
    pub ebs_max_iops: u32,
    /// Network bandwidth in Gbps (the burst figure for sizes that burst).
    pub network_gbps: f64,
}

impl InstanceType {
    /// EKS max pods with the VPC CNI in secondary-IP mode: ENIs x (IPv4 per ENI - 1) + 2.
    ///
    /// Each interface's primary address is not handed to pods; the 2 are the host-network pods
    /// (the VPC CNI and kube-proxy). This is the figure in `eni-max-pods.txt`.
    pub fn eks_max_pods(&self) -> u32 {
        self.enis.saturating_mul(self.ipv4_per_eni.saturating_sub(1)).saturating_add(2)
    }

    /// With prefix delegation (Nitro only): the EKS recommendation,
    /// min(110 if vcpus < 30 else 250, ENIs x ((IPv4 per ENI - 1) x 16) + 2); `None` if not Nitro.
    ///
    /// Each secondary address slot holds a /28 prefix of 16 addresses; the cap is the one
    /// `max-pods-calculator.sh` applies.
    pub fn eks_max_pods_prefix_delegation(&self) -> Option<u32> {
        if !self.nitro {
            return None;
        }
        let cap = if self.vcpus < 30 { 110 } else { 250 };
        let by_addresses =
            self.enis.saturating_mul(self.ipv4_per_eni.saturating_sub(1).saturating_mul(16)).saturating_add(2);
        Some(cap.min(by_addresses))
    }
}

/// Looks up a type by name.
pub fn instance_type(name: &str) -> Option<&'static InstanceType> {
    let all = instance_types();
    all.binary_search_by(|t| t.name.as_str().cmp(name)).ok().map(|index| &all[index])
}

/// Every type, sorted by name.
pub fn instance_types() -> &'static [InstanceType] {
    static CATALOGUE: OnceLock<Vec<InstanceType>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        // The catalogue ships inside the crate, and the tests parse it: a malformed one is a bug.
        parse(SOURCE).unwrap_or_else(|err| panic!("the embedded catalogue/instance-types.hcl is malformed: {err}"))
    })
}

/// Parses a catalogue into its types, sorted by name.
fn parse(source: &str) -> Result<Vec<InstanceType>, String> {
    let body = hcl_edit::parser::parse_body(source).map_err(|err| err.to_string())?;
    let mut types = Vec::new();
    for structure in body.iter() {
        match structure {
            Structure::Block(block) if block.has_ident(BLOCK) => types.push(parse_block(block)?),
            Structure::Block(block) => {
                return Err(format!("unexpected block `{}`: only `{BLOCK}` blocks are allowed", block.ident.as_str()));
            }
            Structure::Attribute(attr) => {
                return Err(format!("unexpected top-level attribute `{}`", attr.key.as_str()));
            }
        }
    }
    types.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = types.windows(2).find(|pair| pair[0].name == pair[1].name) {
        return Err(format!("`{}` is listed more than once", pair[0].name));
    }
    Ok(types)
}

/// Parses one `instance_type "<name>" { ... }` block.
fn parse_block(block: &Block) -> Result<InstanceType, String> {
    let name = match block.labels.as_slice() {
        [label] if label.is_string() && !label.as_str().is_empty() => label.as_str().to_owned(),
        _ => {
            return Err(format!("each `{BLOCK}` block takes exactly one label: the type's name as a string"));
        }
    };
    let fields = Fields::collect(&name, &block.body)?;
    let parsed = InstanceType {
        vcpus: fields.u32("vcpus")?,
        memory_mib: fields.integer("memory_mib")?,
        enis: fields.u32("enis")?,
        ipv4_per_eni: fields.u32("ipv4_per_eni")?,
        nitro: fields.bool("nitro")?,
        local_disks: fields.u32("local_disks")?,
        local_disk_gib: fields.u32("local_disk_gib")?,
        ebs_max_iops: fields.u32("ebs_max_iops")?,
        network_gbps: fields.float("network_gbps")?,
        name,
    };
    check(&parsed)?;
    Ok(parsed)
}

/// Rejects figures no real instance type has.
fn check(parsed: &InstanceType) -> Result<(), String> {
    let problem = if parsed.vcpus == 0 {
        "`vcpus` must be at least 1"
    } else if parsed.memory_mib == 0 {
        "`memory_mib` must be at least 1"
    } else if parsed.enis == 0 {
        "`enis` must be at least 1"
    } else if parsed.ipv4_per_eni == 0 {
        "`ipv4_per_eni` must be at least 1"
    } else if parsed.ebs_max_iops == 0 {
        "`ebs_max_iops` must be at least 1"
    } else if parsed.network_gbps <= 0.0 {
        "`network_gbps` must be positive"
    } else if (parsed.local_disks == 0) != (parsed.local_disk_gib == 0) {
        "`local_disks` and `local_disk_gib` must both be 0 or both be set"
    } else {
        return Ok(());
    };
    Err(format!("`{}`: {problem}", parsed.name))
}

/// The attributes of one block, checked against [`FIELDS`].
struct Fields<'a> {
    /// The type the block describes, for error messages.
    name: &'a str,
    /// Each attribute's key and value, in file order.
    values: Vec<(&'a str, &'a Expression)>,
}

impl<'a> Fields<'a> {
    /// Collects a block body's attributes, rejecting nested blocks and unknown keys (the HCL
    /// parser already rejects a key set twice in one body).
    fn collect(name: &'a str, body: &'a Body) -> Result<Self, String> {
        let mut values: Vec<(&str, &Expression)> = Vec::new();
        for structure in body.iter() {
            let attr = match structure {
                Structure::Attribute(attr) => attr,
                Structure::Block(block) => {
                    return Err(format!("`{name}`: unexpected nested block `{}`", block.ident.as_str()));
                }
            };
            let key = attr.key.as_str();
            if !FIELDS.contains(&key) {
                return Err(format!("`{name}`: unknown attribute `{key}`"));
            }
            values.push((key, &attr.value));
        }
        Ok(Fields { name, values })
    }

    /// The value of `key`.
    fn get(&self, key: &str) -> Result<&'a Expression, String> {
        self.values
            .iter()
            .find(|(seen, _)| *seen == key)
            .map(|(_, value)| *value)
            .ok_or_else(|| format!("`{}`: `{key}` is missing", self.name))
    }

    /// The value of `key` as a non-negative integer.
    fn integer(&self, key: &str) -> Result<u64, String> {
        self.get(key)?
            .as_number()
            .and_then(|number| number.as_u64())
            .ok_or_else(|| self.invalid(key, "a non-negative integer"))
    }

    /// The value of `key` as a non-negative integer that fits in a `u32`.
    fn u32(&self, key: &str) -> Result<u32, String> {
        u32::try_from(self.integer(key)?).map_err(|_| self.invalid(key, "an integer below 2^32"))
    }

    /// The value of `key` as a boolean.
    fn bool(&self, key: &str) -> Result<bool, String> {
        self.get(key)?.as_bool().ok_or_else(|| self.invalid(key, "`true` or `false`"))
    }

    /// The value of `key` as a finite number.
    fn float(&self, key: &str) -> Result<f64, String> {
        self.get(key)?
            .as_number()
            .and_then(|number| number.as_f64())
            .filter(|value| value.is_finite())
            .ok_or_else(|| self.invalid(key, "a number"))
    }

    /// The error for a value of the wrong kind.
    fn invalid(&self, key: &str, expected: &str) -> String {
        format!("`{}`: `{key}` must be {expected}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type in the catalogue with its value in amazon-vpc-cni-k8s `misc/eni-max-pods.txt`.
    const ENI_MAX_PODS: &[(&str, u32)] = &[
        ("c6i.12xlarge", 234),
        ("c6i.16xlarge", 737),
        ("c6i.24xlarge", 737),
        ("c6i.2xlarge", 58),
        ("c6i.32xlarge", 737),
        ("c6i.4xlarge", 234),
        ("c6i.8xlarge", 234),
        ("c6i.large", 29),
        ("c6i.metal", 737),
        ("c6i.xlarge", 58),
        ("i3.16xlarge", 737),
        ("i3.2xlarge", 58),
        ("i3.4xlarge", 234),
        ("i3.8xlarge", 234),
        ("i3.large", 29),
        ("i3.metal", 737),
        ("i3.xlarge", 58),
        ("i4i.12xlarge", 234),
        ("i4i.16xlarge", 737),
        ("i4i.24xlarge", 437),
        ("i4i.2xlarge", 58),
        ("i4i.32xlarge", 737),
        ("i4i.4xlarge", 234),
        ("i4i.8xlarge", 234),
        ("i4i.large", 29),
        ("i4i.metal", 737),
        ("i4i.xlarge", 58),
        ("m5.12xlarge", 234),
        ("m5.16xlarge", 737),
        ("m5.24xlarge", 737),
        ("m5.2xlarge", 58),
        ("m5.4xlarge", 234),
        ("m5.8xlarge", 234),
        ("m5.large", 29),
        ("m5.xlarge", 58),
        ("m6i.12xlarge", 234),
        ("m6i.16xlarge", 737),
        ("m6i.24xlarge", 737),
        ("m6i.2xlarge", 58),
        ("m6i.32xlarge", 737),
        ("m6i.4xlarge", 234),
        ("m6i.8xlarge", 234),
        ("m6i.large", 29),
        ("m6i.metal", 737),
        ("m6i.xlarge", 58),
        ("r6i.12xlarge", 234),
        ("r6i.16xlarge", 737),
        ("r6i.24xlarge", 737),
        ("r6i.2xlarge", 58),
        ("r6i.32xlarge", 737),
        ("r6i.4xlarge", 234),
        ("r6i.8xlarge", 234),
        ("r6i.large", 29),
        ("r6i.metal", 737),
        ("r6i.xlarge", 58),
        ("t3.large", 35),
        ("t3.medium", 17),
        ("x1.16xlarge", 234),
        ("x1.32xlarge", 234),
        ("x1e.32xlarge", 234),
    ];

    fn get(name: &str) -> &'static InstanceType {
        instance_type(name).unwrap_or_else(|| panic!("`{name}` is not in the catalogue"))
    }

    /// A minimal valid block, with `extra` spliced into its body.
    fn block(name: &str, extra: &str) -> String {
        format!(
            "instance_type \"{name}\" {{\n  vcpus = 2\n  memory_mib = 8192\n  enis = 3\n  \
             ipv4_per_eni = 10\n  nitro = true\n  local_disks = 0\n  local_disk_gib = 0\n  \
             ebs_max_iops = 40000\n  network_gbps = 12.5\n{extra}}}\n"
        )
    }

    #[test]
    fn every_block_parses_with_all_fields() {
        let blocks = SOURCE.lines().filter(|line| line.starts_with("instance_type ")).count();
        let all = instance_types();
        assert_eq!(all.len(), blocks);
        assert_eq!(all.len(), ENI_MAX_PODS.len());
        for t in all {
            assert!(t.vcpus > 0 && t.memory_mib > 0, "{}", t.name);
            assert!(t.enis > 0 && t.ipv4_per_eni > 1, "{}", t.name);
            assert!(t.ebs_max_iops > 0 && t.network_gbps > 0.0, "{}", t.name);
            assert_eq!(t.local_disks == 0, t.local_disk_gib == 0, "{}", t.name);
        }
    }

    #[test]
    fn x1_32xlarge_figures() {
        let x1 = get("x1.32xlarge");
        assert_eq!(
            *x1,
            InstanceType {
                name: "x1.32xlarge".to_owned(),
                vcpus: 128,
                memory_mib: 1952 * 1024,
                enis: 8,
                ipv4_per_eni: 30,
                nitro: false,
                local_disks: 2,
                local_disk_gib: 1920,
                ebs_max_iops: 80_000,
                network_gbps: 25.0,
            }
        );
        assert_eq!(x1.eks_max_pods(), 234);
    }

    #[test]
    fn eks_max_pods_matches_well_known_values() {
        for (name, pods) in [
            ("x1.32xlarge", 234),
            ("m6i.8xlarge", 234),
            ("m6i.16xlarge", 737),
            ("c6i.16xlarge", 737),
            ("r6i.8xlarge", 234),
            ("m5.large", 29),
            ("t3.medium", 17),
            ("i3.16xlarge", 737),
        ] {
            assert_eq!(get(name).eks_max_pods(), pods, "{name}");
        }
    }

    #[test]
    fn eks_max_pods_matches_eni_max_pods_for_every_type() {
        for &(name, pods) in ENI_MAX_PODS {
            assert_eq!(get(name).eks_max_pods(), pods, "{name}");
        }
    }

    #[test]
    fn names_are_unique_and_sorted() {
        let all = instance_types();
        for pair in all.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} / {}", pair[0].name, pair[1].name);
        }
    }

    #[test]
    fn lookup_finds_every_type_and_nothing_else() {
        for t in instance_types() {
            assert!(std::ptr::eq(get(&t.name), t));
        }
        assert!(instance_type("m6i.7xlarge").is_none());
        assert!(instance_type("").is_none());
    }

    #[test]
    fn prefix_delegation_only_on_nitro() {
        for t in instance_types() {
            let xen = t.name.starts_with("x1") || (t.name.starts_with("i3.") && t.name != "i3.metal");
            assert_eq!(!t.nitro, xen, "{}", t.name);
            assert_eq!(t.eks_max_pods_prefix_delegation().is_none(), xen, "{}", t.name);
        }
        assert_eq!(get("m6i.large").eks_max_pods_prefix_delegation(), Some(110));
        assert_eq!(get("m6i.4xlarge").eks_max_pods_prefix_delegation(), Some(110));
        assert_eq!(get("m6i.8xlarge").eks_max_pods_prefix_delegation(), Some(250));
        assert_eq!(get("m6i.metal").eks_max_pods_prefix_delegation(), Some(250));
        assert_eq!(get("t3.medium").eks_max_pods_prefix_delegation(), Some(110));
        assert_eq!(get("i3.metal").eks_max_pods_prefix_delegation(), Some(250));
    }

    #[test]
    fn prefix_delegation_is_capped_by_addresses_on_tiny_types() {
        // t3.nano: 2 ENIs x 2 addresses -> 2 x (1 x 16) + 2 = 34, below the 110 cap.
        let nano = InstanceType {
            name: "t3.nano".to_owned(),
            vcpus: 2,
            memory_mib: 512,
            enis: 2,
            ipv4_per_eni: 2,
            nitro: true,
            local_disks: 0,
            local_disk_gib: 0,
            ebs_max_iops: 11_800,
            network_gbps: 5.0,
        };
        assert_eq!(nano.eks_max_pods(), 4);
        assert_eq!(nano.eks_max_pods_prefix_delegation(), Some(34));
    }

    #[test]
    fn parse_accepts_a_minimal_block() {
        let parsed = parse(&block("m6i.large", "")).expect("valid");
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].name, "m6i.large");
        assert_eq!(parsed[0].network_gbps, 12.5);
    }

    #[test]
    fn parse_rejects_malformed_catalogues() {
        let missing = "instance_type \"a.large\" {\n  vcpus = 2\n}\n";
        let cases = [
            (missing.to_owned(), "`memory_mib` is missing"),
            (block("a.large", "  vpcus = 2\n"), "unknown attribute `vpcus`"),
            (block("a.large", "  enis = 4\n"), "redefined attribute"),
            (block("a.large", "  nested {}\n"), "unexpected nested block `nested`"),
            (block("a.large", "") + &block("a.large", ""), "`a.large` is listed more than once"),
            ("vcpus = 2\n".to_owned(), "unexpected top-level attribute `vcpus`"),
            ("machine \"a\" {}\n".to_owned(), "unexpected block `machine`"),
            ("instance_type {}\n".to_owned(), "exactly one label"),
            ("instance_type \"a\" \"b\" {}\n".to_owned(), "exactly one label"),
            (block("a.large", "").replace("nitro = true", "nitro = \"yes\""), "`nitro` must be `true` or `false`"),
            (block("a.large", "").replace("enis = 3", "enis = 2.5"), "`enis` must be a non-negative integer"),
            (block("a.large", "").replace("enis = 3", "enis = -3"), "`enis` must be a non-negative integer"),
            (block("a.large", "").replace("enis = 3", "enis = 4294967296"), "`enis` must be an integer below 2^32"),
            (block("a.large", "").replace("vcpus = 2", "vcpus = 0"), "`vcpus` must be at least 1"),
            (block("a.large", "").replace("local_disks = 0", "local_disks = 2"), "`local_disks` and `local_disk_gib`"),
            ("instance_type \"a\" {\n".to_owned(), ""),
        ];
        for (source, expected) in cases {
            match parse(&source) {
                Ok(_) => panic!("accepted:\n{source}"),
                Err(err) => assert!(err.contains(expected), "{err:?} lacks {expected:?}"),
            }
        }
    }
}

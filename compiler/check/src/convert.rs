//! Conversion of resolved instances into the typed model, one kind at a time.

use crate::formats;
use crate::read::{Reader, port_of};
use berth_diag::{Diagnostic, Diagnostics, Span, codes, did_you_mean};
use berth_model::schema::{self, BlockSchema};
use berth_model::*;
use berth_resolve::{Body, ResolvedOutput, Resource};
use berth_stdlib::catalogue;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Model indices of the resources received so far, for resolving references.
#[derive(Default)]
struct Index {
    /// Every resource address received, with its model index (`None` for one left out
    /// because its name was taken).
    by_address: HashMap<Arc<Address>, Option<usize>>,
    /// The same, by where the address of a reference in the spec is: the resolver shares one
    /// reference per object, so the fleet's hundreds of thousands of references to its
    /// clusters each cost a pointer lookup, not hashing an address. Each entry holds its
    /// reference, so that no other address can take its place while the spec is consumed.
    by_location: HashMap<usize, (Arc<Reference>, usize)>,
}

impl Index {
    fn get(&self, address: &Address) -> Option<usize> {
        let location = std::ptr::from_ref(address) as usize;
        match self.by_location.get(&location) {
            Some((_, i)) => Some(*i),
            None => self.by_address.get(address).copied().flatten(),
        }
    }

    fn received(&self, address: &Address) -> bool {
        self.by_address.contains_key(address)
    }

    /// Adds every reference in a body's values, nested blocks included, by where it is. A
    /// long list is walked once however many bodies hold it (`lists`: those seen), since the
    /// resolver shares a value alike in every instance.
    fn add_locations(&mut self, body: &Body, lists: &mut HashSet<usize>) {
        fn walk(index: &mut Index, value: &Value, lists: &mut HashSet<usize>) {
            match value {
                Value::Ref(r) => {
                    let location = std::ptr::from_ref(&r.address) as usize;
                    if !index.by_location.contains_key(&location)
                        && let Some(&Some(i)) = index.by_address.get(&r.address)
                    {
                        index.by_location.insert(location, (Arc::clone(r), i));
                    }
                }
                Value::List(items) if items.len() <= 8 || lists.insert(Arc::as_ptr(items) as usize) => {
                    items.iter().for_each(|v| walk(index, v, lists));
                }
                Value::Object(entries) => entries.values().for_each(|v| walk(index, v, lists)),
                _ => {}
            }
        }
        for attr in &body.attrs {
            walk(self, &attr.value, lists);
        }
        for block in &body.blocks {
            self.add_locations(&block.body, lists);
        }
    }
}

/// A resource received and not yet converted: it waits until every resource it refers to
/// has been received, so that references declared ahead of their objects resolve.
struct Pending {
    schema: &'static BlockSchema,
    address: Arc<Address>,
    name: ArcStr,
    span: Span,
    body: Body,
    references: Vec<Arc<Reference>>,
    depends_on: Vec<(Address, Span)>,
    /// False when its name was taken: reported, and left out of the model.
    accepted: bool,
    /// How many of its references, from the first, are known to have been received.
    received: usize,
}

impl Pending {
    /// True once everything it refers to has been received; remembers how far it got.
    fn ready(&mut self, index: &Index) -> bool {
        while let Some(r) = self.references.get(self.received) {
            if !index.received(&r.address) {
                return false;
            }
            self.received += 1;
        }
        self.depends_on.iter().all(|(a, _)| index.received(&a.resource()))
    }
}

/// Converts resource instances into the model as the resolver hands them on, consuming them:
/// each instance's body is dropped once converted, and its address and name move into the
/// model. Instances are converted in the order received; one that refers to a resource not
/// yet received waits for it (and those after it wait their turn).
#[derive(Default)]
pub(crate) struct Converter {
    model: Model,
    diags: Diagnostics,
    index: Index,
    names: HashMap<(&'static str, ArcStr), Span>,
    /// Model indices handed out per kind, and instances announced per kind (to size the
    /// model's vectors once).
    counts: HashMap<&'static str, (usize, usize)>,
    pending: VecDeque<Pending>,
    /// Lists whose references are in the index already.
    lists: HashSet<usize>,
    /// See [`Cx::placement`].
    placement: Option<SharedList>,
    /// See [`Cx::valid_images`].
    valid_images: HashSet<ArcStr>,
}

impl Converter {
    /// Sizes the model for `instances` more resources of a kind.
    pub(crate) fn expect(&mut self, schema: &'static BlockSchema, instances: usize) {
        let announced = {
            let entry = self.counts.entry(schema.name).or_default();
            entry.1 += instances;
            entry.1
        };
        self.index.by_address.reserve(instances);
        self.names.reserve(instances);
        let m = &mut self.model;
        let room = |len: usize| announced.saturating_sub(len);
        match schema.name {
            "host" => m.hosts.reserve_exact(room(m.hosts.len())),
            "container" => m.containers.reserve_exact(room(m.containers.len())),
            "cluster" => m.clusters.reserve_exact(room(m.clusters.len())),
            "service" => m.services.reserve_exact(room(m.services.len())),
            "release" => m.releases.reserve_exact(room(m.releases.len())),
            "image" => m.images.reserve_exact(room(m.images.len())),
            "issuer" => m.issuers.reserve_exact(room(m.issuers.len())),
            "certificate" => m.certificates.reserve_exact(room(m.certificates.len())),
            "forward" => m.forwards.reserve_exact(room(m.forwards.len())),
            "environment" => m.environments.reserve_exact(room(m.environments.len())),
            _ => {}
        }
    }

    /// Receives the next resource instance; converts it and those before it once what they
    /// refer to has been received.
    pub(crate) fn add(&mut self, resource: Resource) {
        let Resource { schema, address, name, span, body, references, depends_on } = resource;
        let address = Arc::new(address);
        let accepted = self.accept(schema, &address, &name, span);
        let index = accepted.then(|| {
            let entry = self.counts.entry(schema.name).or_default();
            entry.0 += 1;
            entry.0 - 1
        });
        self.index.by_address.insert(Arc::clone(&address), index);
        self.pending.push_back(Pending {
            schema,
            address,
            name,
            span,
            body,
            references,
            depends_on,
            accepted,
            received: 0,
        });
        while let Some(next) = self.pending.front_mut() {
            if !next.ready(&self.index) {
                break;
            }
            let next = self.pending.pop_front().expect("a resource is pending");
            self.convert(next);
        }
    }

    /// Checks a resource's name: a DNS label, and not taken by another of its kind.
    fn accept(&mut self, schema: &'static BlockSchema, address: &Address, name: &ArcStr, span: Span) -> bool {
        if let Err(message) = formats::dns_label(name) {
            self.diags.push(
                Diagnostic::error(&codes::SCHEMA_NAME, span, format!("{address} has an invalid name: {message}"))
                    .with_label("this name")
                    .with_help("rename it, or set `name` to a DNS label"),
            );
        }
        let first = match self.names.entry((schema.name, name.clone())) {
            Entry::Occupied(first) => *first.get(),
            Entry::Vacant(slot) => {
                slot.insert(span);
                return true;
            }
        };
        self.diags.push(
            Diagnostic::error(&codes::SCHEMA_DUPLICATE_NAME, span, format!("two {}s are named {name:?}", schema.name))
                .with_label("second one")
                .with_note(first, "first one")
                .with_help("names are unique per kind after for_each and count; rename one"),
        );
        false
    }

    fn convert(&mut self, r: Pending) {
        if !r.accepted {
            return;
        }
        self.index.add_locations(&r.body, &mut self.lists);
        let reader = Reader::new(&r.body, r.schema, r.span, &mut self.diags);
        let mut cx = Cx {
            index: &self.index,
            diags: &mut self.diags,
            placement: self.placement.take(),
            valid_images: &mut self.valid_images,
        };
        let meta = cx.meta(
            Meta { address: r.address, name: r.name, span: r.span, environment: None, depends_on: Vec::new() },
            &reader,
            &r.references,
            &r.depends_on,
        );
        let model = &mut self.model;
        match r.schema.name {
            "host" => model.hosts.push(cx.host(&reader, meta)),
            "container" => model.containers.push(cx.container(&reader, meta)),
            "cluster" => model.clusters.push(cx.cluster(&reader, meta)),
            "service" => model.services.push(cx.service(&reader, meta)),
            "release" => model.releases.push(cx.release(&reader, meta)),
            "image" => model.images.push(cx.image(&reader, meta)),
            "issuer" => model.issuers.push(cx.issuer(&reader, meta)),
            "certificate" => model.certificates.push(cx.certificate(&reader, meta)),
            "forward" => model.forwards.push(cx.forward(&reader, meta)),
            "environment" => model.environments.push(cx.environment(&reader, meta)),
            other => unreachable!("resource kind {other} has no conversion"),
        }
        self.placement = cx.placement;
    }

    /// Converts what still waits (it refers to something never received, which is
    /// reported), and completes the model with the root module's outputs.
    pub(crate) fn finish(mut self, outputs: Vec<ResolvedOutput>) -> (Model, Diagnostics) {
        while let Some(next) = self.pending.pop_front() {
            self.convert(next);
        }
        let mut model = self.model;
        for f in &mut model.forwards {
            if f.target_port == 0 {
                f.target_port = match f.target {
                    ForwardTarget::Service(s) => {
                        model.services.get(s).and_then(|s| s.ports.values().next().copied()).unwrap_or(f.port)
                    }
                    ForwardTarget::Container(_) => f.port,
                };
            }
        }
        model.outputs =
            outputs.into_iter().map(|o| Output { name: o.name, value: o.value, sensitive: o.sensitive }).collect();
        (model, self.diags)
    }
}

struct Cx<'a> {
    index: &'a Index,
    diags: &'a mut Diagnostics,
    /// The last service placement list converted: the resolver computes an attribute alike in
    /// every instance once, so a fleet's services share one list naming every cluster, and it
    /// is converted once, not once per service.
    placement: Option<SharedList>,
    /// The image references found valid so far, each checked once.
    valid_images: &'a mut HashSet<ArcStr>,
}

/// A list of references converted, with the list (which keeps its identity) and what it
/// became: the pointers of its references and the model indices they resolve to.
struct SharedList {
    list: Arc<Vec<Value>>,
    /// Where its references are.
    pointers: HashSet<usize>,
    indices: Vec<usize>,
}

impl SharedList {
    /// This list, if `value` is it (the same list, not an equal one).
    fn of(&self, value: Option<&Value>) -> Option<&Self> {
        match value {
            Some(Value::List(list)) if Arc::ptr_eq(list, &self.list) => Some(self),
            _ => None,
        }
    }
}

impl Cx<'_> {
    /// Completes a resource's meta: its environment, and what it depends on (its references
    /// and `depends_on`).
    fn meta(
        &mut self,
        mut meta: Meta,
        reader: &Reader<'_>,
        references: &[Arc<Reference>],
        explicit: &[(Address, Span)],
    ) -> Meta {
        meta.environment = reader.reference("environment", self.diags).and_then(|(a, s)| self.resolve(a, s));
        // Not orders of creation: `wait_for` is a wait at run time (DNS), and placement
        // candidates are ordered by the placement edges of the shares actually placed.
        let mut not_ordering: Vec<&Arc<Reference>> = Vec::new();
        let placement = reader.blocks("placement").flat_map(|b| b.body.attrs.iter());
        let mut known = None;
        for attr in reader.attr("wait_for").into_iter().chain(placement) {
            let memo = self.placement.as_ref().and_then(|m| m.of(Some(&attr.value)));
            if memo.is_some() {
                known = memo;
            }
            not_ordering.extend(attr.value.as_list().unwrap_or_default().iter().filter_map(|v| match v {
                Value::Ref(r) if memo.is_none() => Some(r),
                _ => None,
            }));
        }
        // The resolver shares one reference per object, so most are found by where they are
        // (a service's placement names every cluster of the fleet); the rest by address.
        let shared: HashSet<usize> = not_ordering.iter().map(|r| Arc::as_ptr(r) as usize).collect();
        let known_addresses = || known.into_iter().flat_map(|m| m.list.iter()).filter_map(Value::as_ref);
        let ordering = |to: &&Arc<Reference>| {
            let pointer = Arc::as_ptr(to) as usize;
            !shared.contains(&pointer)
                && !known.is_some_and(|m| m.pointers.contains(&pointer))
                && !not_ordering.iter().any(|r| r.address == to.address)
                && !known_addresses().any(|r| r.address == to.address)
        };
        let mut depends_on: Vec<Address> = references.iter().filter(ordering).map(|to| to.address.clone()).collect();
        for (a, span) in explicit {
            if self.index.get(&a.resource()).is_none() {
                self.dangling(a, *span);
            }
            depends_on.push(a.clone());
        }
        depends_on.sort();
        depends_on.dedup();
        meta.depends_on = depends_on;
        meta
    }

    fn resolve(&mut self, address: &Address, span: Span) -> Option<usize> {
        let found = self.index.get(address);
        if found.is_none() {
            self.dangling(address, span);
        }
        found
    }

    fn dangling(&mut self, address: &Address, span: Span) {
        self.diags.push(
            Diagnostic::error(&codes::REF_UNKNOWN, span, format!("{address} was dropped because of an earlier error"))
                .with_help("fix the errors reported for it first"),
        );
    }

    fn instance_type(&mut self, name: &str, span: Span) -> Option<&'static catalogue::InstanceType> {
        let found = catalogue::instance_type(name);
        if found.is_none() {
            let mut d =
                Diagnostic::error(&codes::CATALOGUE_INSTANCE_TYPE, span, format!("unknown instance type {name:?}"))
                    .with_label("not in the catalogue");
            d = match did_you_mean(name, catalogue::instance_types().iter().map(|t| t.name.as_str())) {
                Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                None => d.with_help(codes::CATALOGUE_INSTANCE_TYPE.fix),
            };
            self.diags.push(d);
        }
        found
    }

    fn host(&mut self, rd: &Reader<'_>, meta: Meta) -> Host {
        let d = &mut *self.diags;
        let instance_type = rd.string("instance_type", d).unwrap_or_default();
        let it = if instance_type.is_empty() {
            None
        } else {
            self.instance_type(&instance_type, rd.span_of("instance_type"))
        };
        let d = &mut *self.diags;
        let vol_schema = schema_block("host", "volume");
        let mut volumes = Vec::new();
        for b in rd.blocks("volume") {
            let v = Reader::new(&b.body, vol_schema, b.span, d);
            volumes.push(Volume {
                address: b.address.clone(),
                name: b.name.clone().unwrap_or_default(),
                span: b.span,
                volume_type: v.string("type", d).unwrap_or_default(),
                size_gib: v.size("size", true, d).map_or(0, |b| b.div_ceil(1 << 30)),
                iops: v.integer("iops", d),
                throughput: v.integer("throughput", d),
                device: v.string("device", d).unwrap_or_default(),
                mount: v.string("mount", d).unwrap_or_default(),
                filesystem: v.string("filesystem", d).unwrap_or_default(),
                iops_demand: v.integer("iops_demand", d),
            });
        }
        let docker_schema = schema_block("host", "docker");
        let empty = berth_resolve::Body::default();
        let docker_block = rd.blocks("docker").next();
        let dk = Reader::optional(docker_block.map(|b| (&b.body, b.span)), &empty, docker_schema, meta.span, d);
        let data_root = dk.string("data_root", d).unwrap_or_else(|| {
            volumes
                .first()
                .map_or_else(|| "/var/lib/docker".to_string(), |v| format!("{}/docker", v.mount.trim_end_matches('/')))
        });
        let docker = DockerEngine {
            data_root,
            log_driver: dk.string("log_driver", d).unwrap_or_default(),
            log_max_size: dk.string("log_max_size", d).unwrap_or_default(),
            log_max_file: dk.integer("log_max_file", d).unwrap_or(5) as u32,
            address_pool_base: dk.string("address_pool_base", d).unwrap_or_default(),
            address_pool_size: dk.integer("address_pool_size", d).map_or(0, |n| n.min(32) as u8),
            live_restore: dk.bool("live_restore", d).unwrap_or(true),
            max_concurrent_downloads: dk.integer("max_concurrent_downloads", d).unwrap_or(3) as u32,
            cpu_overcommit: dk.number("cpu_overcommit", d).unwrap_or(4.0),
        };
        Host {
            meta,
            vcpus: it.map_or(0, |t| t.vcpus),
            memory_mib: it.map_or(0, |t| t.memory_mib),
            instance_type,
            ami: rd.string("ami", d).unwrap_or_default(),
            zone: rd.string("zone", d).unwrap_or_default(),
            subnet: rd.string("subnet", d),
            security_groups: rd.strings("security_groups", d),
            tags: rd.string_map("tags", d),
            sysctls: rd.string_map("sysctls", d),
            endpoint: rd.string("endpoint", d),
            address: ipv4_address(rd, d),
            volumes,
            docker,
        }
    }

    fn container(&mut self, rd: &Reader<'_>, meta: Meta) -> Container {
        let d = &mut *self.diags;
        let placement_schema = schema_block("container", "placement");
        let empty = berth_resolve::Body::default();
        let pb = rd.blocks("placement").next();
        let p = Reader::optional(pb.map(|b| (&b.body, b.span)), &empty, placement_schema, rd.span(), d);
        let strategy = match p.word("strategy", d) {
            Some("bin-pack") => ContainerStrategy::BinPack,
            Some("pinned") => ContainerStrategy::Pinned,
            _ => ContainerStrategy::RoundRobin,
        };
        let hosts = p.references("hosts", d);
        if strategy == ContainerStrategy::Pinned && hosts.len() != 1 {
            d.push(
                Diagnostic::error(
                    &codes::PLACEMENT_STRATEGY,
                    p.span_of("hosts"),
                    format!("a pinned container names exactly one host, not {}", hosts.len()),
                )
                .with_label("expected one host")
                .with_help("write hosts = [host.NAME]"),
            );
        }
        let candidate_hosts = hosts.iter().filter_map(|(a, s)| self.resolve(a, *s)).collect();
        let d = &mut *self.diags;
        Container {
            meta,
            image: rd.image("image", self.valid_images, d).unwrap_or_default(),
            cpus: rd.number("cpus", d).unwrap_or(0.0),
            memory_bytes: rd.size("memory", false, d).unwrap_or(0),
            restart: rd.word("restart", d).unwrap_or_default(),
            networks: rd.strings("networks", d).into(),
            ports: rd.strings("ports", d).into(),
            env: rd.string_map("env", d),
            command: rd.strings("command", d).into(),
            healthcheck: rd.strings("healthcheck", d).into(),
            volumes: rd.strings("volumes", d).into(),
            iops_demand: rd.integer("iops_demand", d),
            address: ipv4_address(rd, d),
            strategy,
            candidate_hosts,
        }
    }

    fn cluster(&mut self, rd: &Reader<'_>, meta: Meta) -> Cluster {
        let pool_schema = schema_block("cluster", "node_pool");
        let mut node_pools = Vec::new();
        for b in rd.blocks("node_pool") {
            let d = &mut *self.diags;
            let p = Reader::new(&b.body, pool_schema, b.span, d);
            let instance_type = p.string("instance_type", d).unwrap_or_default();
            let min = p.integer("min", d).unwrap_or(0);
            let max = p.integer("max", d).unwrap_or(0);
            let desired = p.integer("desired", d).unwrap_or(min);
            let explicit = p.integer("max_pods", d);
            let prefix_delegation = p.bool("prefix_delegation", d).unwrap_or(false);
            let system = p.bool("system", d).unwrap_or(false);
            let labels = p.string_map("labels", d);
            let taints = p.strings("taints", d);
            taint_problems(&p, &taints, d);
            let it = if instance_type.is_empty() {
                None
            } else {
                self.instance_type(&instance_type, p.span_of("instance_type"))
            };
            let limit = it.map_or(0, |t| {
                if prefix_delegation {
                    t.eks_max_pods_prefix_delegation().unwrap_or(t.eks_max_pods())
                } else {
                    t.eks_max_pods()
                }
            });
            node_pools.push(NodePool {
                address: b.address.clone(),
                name: b.name.clone().unwrap_or_default(),
                span: b.span,
                instance_type,
                min,
                desired,
                max,
                labels,
                taints,
                max_pods: explicit.unwrap_or(u64::from(limit)),
                max_pods_explicit: explicit.is_some(),
                prefix_delegation,
                system,
            });
        }
        let d = &mut *self.diags;
        let lb_schema = schema_block("cluster", "load_balancer");
        let subnets = rd.strings("subnets", d);
        let load_balancer = rd.blocks("load_balancer").next().map(|b| {
            let l = Reader::new(&b.body, lb_schema, b.span, d);
            let lb_subnets = l.strings("subnets", d);
            LoadBalancer {
                internal: l.bool("internal", d).unwrap_or(true),
                subnets: if lb_subnets.is_empty() { subnets.clone() } else { lb_subnets },
            }
        });
        Cluster {
            context: rd.string("context", d).unwrap_or_else(|| meta.name.to_string()),
            meta,
            provider: rd.string("provider", d).unwrap_or_default(),
            version: rd.string("version", d).unwrap_or_default(),
            region: rd.string("region", d).unwrap_or_default(),
            subnets,
            max_pods: rd.integer("max_pods", d),
            role_arn: rd.string("role_arn", d),
            node_role_arn: rd.string("node_role_arn", d),
            dns_suffix: rd.string("dns_suffix", d).unwrap_or_default(),
            pod_labels: pod_labels(rd, d),
            node_pools,
            load_balancer,
            pod_capacity: 0,
        }
    }

    fn service(&mut self, rd: &Reader<'_>, meta: Meta) -> Service {
        let d = &mut *self.diags;
        let mut ports = BTreeMap::new();
        if let Some(attr) = rd.attr("ports") {
            match attr.value.as_object() {
                Some(map) => {
                    for (i, (name, v)) in map.iter().enumerate() {
                        if let Some(p) = port_of(v, attr.element_span(i), "ports", d) {
                            ports.insert(name.to_string(), p);
                        }
                    }
                }
                None => d.push(
                    Diagnostic::error(
                        &codes::SCHEMA_WRONG_TYPE,
                        attr.span(),
                        format!("`ports` must be a map of names to ports, not {}", attr.value.type_name()),
                    )
                    .with_label("expected { name = port }")
                    .with_help("write ports = { http = 8080 }"),
                ),
            }
        }
        let cpu = match rd.any("cpu") {
            Value::Number(n) => Some(format_number(n)),
            Value::Null => None,
            _ => rd.string("cpu", d),
        };
        let cpu_millis = cpu.as_deref().and_then(|c| match formats::cpu_millis(c) {
            Ok(m) => Some(m),
            Err(e) => {
                d.push(
                    Diagnostic::error(&codes::FORMAT_QUANTITY, rd.span_of("cpu"), e)
                        .with_label("expected a CPU quantity")
                        .with_help(codes::FORMAT_QUANTITY.fix),
                );
                None
            }
        });
        let memory = rd.string("memory", d);
        if let Some(m) = &memory
            && let Err(e) = formats::size_bytes(m)
        {
            d.push(
                Diagnostic::error(&codes::FORMAT_QUANTITY, rd.span_of("memory"), e)
                    .with_label("expected a memory quantity")
                    .with_help(codes::FORMAT_QUANTITY.fix),
            );
        }
        let placement_schema = schema_block("service", "placement");
        let empty = berth_resolve::Body::default();
        let pb = rd.blocks("placement").next();
        if pb.is_none() {
            d.push(
                Diagnostic::error(&codes::SCHEMA_MISSING_ATTRIBUTE, rd.span(), "a service needs a `placement` block")
                    .with_label("missing placement { clusters = [...] }")
                    .with_help("add placement { clusters = [cluster.NAME] }"),
            );
        }
        let p = Reader::optional(pb.map(|b| (&b.body, b.span)), &empty, placement_schema, rd.span(), d);
        let strategy = match p.word("strategy", d) {
            Some("spread") => ServiceStrategy::Spread,
            Some("pinned") => ServiceStrategy::Pinned,
            _ => ServiceStrategy::Fill,
        };
        let counts = p.string_map("counts", d);
        let counts_span = p.span_of("counts");
        let list = p.attr("clusters").map(|a| &a.value);
        let memo = self.placement.as_ref().and_then(|m| m.of(list));
        let (cluster_refs, clusters) = match memo {
            // The same list as the last service's: its references were checked then.
            Some(m) if counts.is_empty() => (Vec::new(), m.indices.clone()),
            _ => {
                let cluster_refs = if pb.is_some() { p.references("clusters", d) } else { Vec::new() };
                let clusters: Vec<usize> = cluster_refs.iter().filter_map(|(a, s)| self.resolve(a, *s)).collect();
                if let Some(Value::List(list)) = list {
                    let pointers =
                        list.iter().filter_map(Value::as_ref).map(|r| std::ptr::from_ref(r) as usize).collect();
                    self.placement = Some(SharedList { list: Arc::clone(list), pointers, indices: clusters.clone() });
                }
                (cluster_refs, clusters)
            }
        };
        if pb.is_some() && p.attr("clusters").is_some_and(|a| a.value.as_list().is_some_and(<[Value]>::is_empty)) {
            self.diags.push(
                Diagnostic::error(&codes::PLACEMENT_STRATEGY, p.span_of("clusters"), "the placement names no cluster")
                    .with_label("empty list")
                    .with_help("list at least one cluster: placement { clusters = [cluster.NAME] }"),
            );
        }
        let mut count_errors = false;
        let mut pinned = BTreeMap::new();
        for (name, count) in &counts {
            let pos = cluster_refs.iter().position(|(a, _)| {
                &a.label == name || a.key.as_ref().is_some_and(|k| matches!(k, Key::Str(s) if s == name))
            });
            match (pos.and_then(|i| clusters.get(i)), count.parse::<u64>()) {
                (Some(&c), Ok(n)) => {
                    pinned.insert(c, n);
                }
                _ => {
                    count_errors = true;
                    self.diags.push(
                        Diagnostic::error(
                            &codes::PLACEMENT_STRATEGY,
                            counts_span,
                            format!(
                                "pinned count {name:?} = {count:?} does not name a listed cluster and a whole number"
                            ),
                        )
                        .with_label("expected CLUSTER = COUNT")
                        .with_help("key counts by the names of the clusters in `clusters`"),
                    );
                }
            }
        }
        let replicas = rd.integer("replicas", &mut Diagnostics::new()).unwrap_or(0);
        let total = pinned.values().fold(0u64, |t, n| t.saturating_add(*n));
        if strategy == ServiceStrategy::Pinned && !count_errors && total != replicas {
            self.diags.push(
                Diagnostic::error(
                    &codes::PLACEMENT_STRATEGY,
                    counts_span,
                    format!("pinned counts add up to {total}, not the {replicas} replicas"),
                )
                .with_label("counts do not match replicas")
                .with_help("make the counts sum to the replica count"),
            );
        }
        let d = &mut *self.diags;
        let wait_for = rd.references("wait_for", d);
        let wait_for = wait_for.iter().filter_map(|(a, s)| self.resolve(a, *s)).collect();
        let d = &mut *self.diags;
        let certificate = rd.reference("certificate", d).and_then(|(a, s)| self.resolve(a, s));
        let d = &mut *self.diags;
        Service {
            workload: if rd.word("workload", d) == Some("Deployment") {
                Workload::Deployment
            } else {
                Workload::StatefulSet
            },
            replicas: rd.integer("replicas", d).unwrap_or(0),
            image: rd.image("image", self.valid_images, d).map(|s| s.to_string()).unwrap_or_default(),
            ports,
            cpu_millis,
            cpu,
            memory,
            env: rd.string_map("env", d),
            command: rd.strings("command", d),
            namespace: checked_name(rd, "namespace", formats::dns_label, d),
            headless: rd.bool("headless", d).unwrap_or(false),
            parallel: rd.word("pod_management", d) == Some("Parallel"),
            wait_for,
            certificate,
            tls_mount: rd.string("tls_mount", d).unwrap_or_default(),
            disruption_budget: rd.integer("disruption_budget", d),
            restore_from: rd.string("restore_from", d),
            strategy,
            clusters,
            pinned,
            meta,
        }
    }

    fn release(&mut self, rd: &Reader<'_>, meta: Meta) -> Release {
        let d = &mut *self.diags;
        let cluster_refs = rd.references("clusters", d);
        let clusters = cluster_refs.iter().filter_map(|(a, s)| self.resolve(a, *s)).collect();
        let d = &mut *self.diags;
        let certificate = rd.reference("certificate", d).and_then(|(a, s)| self.resolve(a, s));
        let d = &mut *self.diags;
        Release {
            chart: rd.string("chart", d).unwrap_or_default(),
            version: rd.string("version", d),
            values: rd.any("values"),
            clusters,
            namespace: checked_name(rd, "namespace", formats::dns_label, d),
            certificate,
            meta,
        }
    }

    fn image(&mut self, rd: &Reader<'_>, meta: Meta) -> Image {
        let d = &mut *self.diags;
        let layer_schema = schema_block("image", "layer");
        let mut layers = Vec::new();
        for b in rd.blocks("layer") {
            let l = Reader::new(&b.body, layer_schema, b.span, d);
            let changes = match l.word("changes", d) {
                Some("never") => Cadence::Never,
                Some("yearly") => Cadence::Yearly,
                Some("monthly") => Cadence::Monthly,
                Some("weekly") => Cadence::Weekly,
                Some("daily") => Cadence::Daily,
                _ => Cadence::Release,
            };
            layers.push(Layer {
                name: b.name.clone().unwrap_or_default(),
                span: b.span,
                changes,
                files: l.string_map("files", d),
                content: l.string_map("content", d),
                run: l.strings("run", d),
                size: l.size("size", false, d),
            });
        }
        Image {
            base: rd.string("base", d).unwrap_or_default(),
            repository: rd.string("repository", d).unwrap_or_default(),
            tag: rd.string("tag", d).unwrap_or_default(),
            entrypoint: rd.strings("entrypoint", d),
            cmd: rd.strings("cmd", d),
            env: rd.string_map("env", d),
            labels: rd.string_map("labels", d),
            stable_budget: rd.size("stable_budget", false, d),
            layers,
            meta,
        }
    }

    fn issuer(&mut self, rd: &Reader<'_>, meta: Meta) -> Issuer {
        let d = &mut *self.diags;
        let kind = rd.string("type", d).unwrap_or_default();
        let need = |name: &str, d: &mut Diagnostics| {
            rd.string(name, d).unwrap_or_else(|| {
                d.push(
                    Diagnostic::error(
                        &codes::CERTIFICATE_ISSUER,
                        rd.span_of("type"),
                        format!("an issuer of type {kind:?} needs `{name}`"),
                    )
                    .with_label(format!("needs `{name}`"))
                    .with_help(codes::CERTIFICATE_ISSUER.fix),
                );
                String::new()
            })
        };
        let kind = match kind.as_str() {
            "vault" => IssuerKind::Vault { path: need("vault_path", d), store: need("secret_store", d) },
            "cert-manager" => IssuerKind::CertManager { issuer: need("issuer_name", d) },
            _ => IssuerKind::Ca {
                common_name: rd.string("common_name", d).unwrap_or_else(|| format!("{} CA", meta.name)),
                validity_secs: rd.duration("validity", d).unwrap_or(0),
            },
        };
        Issuer { meta, kind }
    }

    fn certificate(&mut self, rd: &Reader<'_>, meta: Meta) -> Certificate {
        let d = &mut *self.diags;
        let issuer = rd.reference("issuer", d).and_then(|(a, s)| self.resolve(a, s)).unwrap_or(usize::MAX);
        let d = &mut *self.diags;
        Certificate {
            dns_names: rd.strings("dns_names", d),
            issuer,
            validity_secs: rd.duration("validity", d).unwrap_or(0),
            secret_name: rd
                .attr("secret_name")
                .map(|_| checked_name(rd, "secret_name", formats::dns_subdomain, d))
                .unwrap_or_else(|| format!("{}-tls", meta.name)),
            meta,
        }
    }

    fn forward(&mut self, rd: &Reader<'_>, meta: Meta) -> Forward {
        let d = &mut *self.diags;
        let target = rd.reference("to", d).and_then(|(a, s)| {
            let kind = a.kind.clone();
            self.resolve(a, s)
                .map(|i| if kind == "service" { ForwardTarget::Service(i) } else { ForwardTarget::Container(i) })
        });
        let d = &mut *self.diags;
        let sources = rd.strings("sources", d);
        let sources_attr = rd.attr("sources");
        let mut nets = Vec::new();
        for (i, s) in sources.iter().enumerate() {
            let span = sources_attr.map_or(rd.span(), |a| a.element_span(i));
            match formats::cidr(s) {
                Ok(n) => nets.push((n, span)),
                Err(e) => d.push(
                    Diagnostic::error(&codes::FORMAT_CIDR, span, e)
                        .with_label("expected a CIDR network")
                        .with_help(codes::FORMAT_CIDR.fix),
                ),
            }
        }
        for (i, (a, sa)) in nets.iter().enumerate() {
            for (b, sb) in &nets[i + 1..] {
                if a.contains(b) || b.contains(a) {
                    d.push(
                        Diagnostic::error(&codes::FORWARD_CIDR_OVERLAP, *sb, format!("{b} overlaps {a}"))
                            .with_label("overlaps another source")
                            .with_note(*sa, "this network")
                            .with_help("remove the narrower network or fix the prefix"),
                    );
                }
            }
        }
        Forward {
            target: target.unwrap_or(ForwardTarget::Service(usize::MAX)),
            port: rd.port("port", d).unwrap_or(0),
            target_port: rd.port("target_port", d).unwrap_or(0),
            protocol: rd.string("protocol", d).unwrap_or_default(),
            sources,
            home_only: rd.word("on", d) == Some("home"),
            meta,
        }
    }

    fn environment(&mut self, rd: &Reader<'_>, meta: Meta) -> Environment {
        let d = &mut *self.diags;
        let expires = rd.string("expires", d);
        let ttl = rd.duration("ttl", d);
        if expires.is_some() && ttl.is_some() {
            d.push(
                Diagnostic::error(
                    &codes::ENVIRONMENT_LIFETIME,
                    rd.span_of("ttl"),
                    "an environment takes `expires` or `ttl`, not both",
                )
                .with_label("second lifetime")
                .with_note(rd.span_of("expires"), "expires is set here")
                .with_help(codes::ENVIRONMENT_LIFETIME.fix),
            );
        }
        Environment {
            owner: rd.string("owner", d).unwrap_or_default(),
            expires_unix: expires.as_deref().and_then(|e| formats::timestamp_unix(e).ok()),
            expires,
            ttl_secs: ttl,
            description: rd.string("description", d),
            meta,
        }
    }
}

/// A cluster's `pod_labels`, each a valid Kubernetes label that does not take over one of the
/// labels berth sets itself (`app`, `berth.dev/...`).
fn pod_labels(rd: &Reader<'_>, d: &mut Diagnostics) -> BTreeMap<String, String> {
    let mut labels = rd.string_map("pod_labels", d);
    labels.retain(|key, value| {
        let problem = if key == "app" || key.starts_with("berth.dev/") {
            Some(format!("label {key:?} is set by berth itself"))
        } else {
            label_key_problem(key).or_else(|| label_value_problem(value))
        };
        if let Some(message) = &problem {
            d.push(
                Diagnostic::error(&codes::SCHEMA_INVALID_VALUE, rd.span_of("pod_labels"), format!("pod_labels: {message}"))
                    .with_label("not a usable Kubernetes label")
                    .with_help("keys are [prefix/]name with a DNS-subdomain prefix; names and values are at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric"),
            );
        }
        problem.is_none()
    });
    labels
}

/// Why a string is not a Kubernetes label key, if it is not.
fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = key.rsplit_once('/').map_or((None, key), |(p, n)| (Some(p), n));
    if let Some(p) = prefix
        && formats::dns_subdomain(p).is_err()
    {
        return Some(format!("the prefix of label key {key:?} is not a DNS subdomain"));
    }
    if name.is_empty() {
        return Some(format!("label key {key:?} has an empty name"));
    }
    label_value_problem(name).map(|_| format!("the name of label key {key:?} is not a label name"))
}

/// Why a string is not a Kubernetes label value, if it is not.
fn label_value_problem(value: &str) -> Option<String> {
    let ok_chars = value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let ok_ends = value.is_empty()
        || (value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()));
    (value.len() > 63 || !ok_chars || !ok_ends).then(|| format!("label value {value:?} is not a label value"))
}

/// The `address` attribute of a host or container: an IPv4 address (nftables DNATs to it).
fn ipv4_address(rd: &Reader<'_>, d: &mut Diagnostics) -> Option<String> {
    let address = rd.string("address", d)?;
    if address.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some(address);
    }
    d.push(
        Diagnostic::error(
            &codes::SCHEMA_INVALID_VALUE,
            rd.span_of("address"),
            format!("`address` cannot be {address:?}"),
        )
        .with_label("expected an IPv4 address")
        .with_help("write a dotted-quad IPv4 address without a prefix, e.g. \"10.0.1.15\""),
    );
    None
}

/// Reports node pool taints that are not `KEY[=VALUE]:EFFECT` with one of the three Kubernetes
/// effects: the only form EKS node groups (and kubelet) take.
fn taint_problems(p: &Reader<'_>, taints: &[String], d: &mut Diagnostics) {
    for (i, t) in taints.iter().enumerate() {
        let ok = t.rsplit_once(':').is_some_and(|(kv, effect)| {
            let key = kv.split_once('=').map_or(kv, |(k, _)| k);
            matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute")
                && !key.is_empty()
                && !kv.contains(char::is_whitespace)
        });
        if !ok {
            let span = p.attr("taints").map_or(p.span(), |a| a.element_span(i));
            d.push(
                Diagnostic::error(&codes::SCHEMA_INVALID_VALUE, span, format!("taint {t:?} is not KEY=VALUE:EFFECT"))
                    .with_label("expected KEY[=VALUE]:NoSchedule, PreferNoSchedule or NoExecute")
                    .with_help("write a taint as \"dedicated=gpu:NoSchedule\""),
            );
        }
    }
}

/// A string attribute that Kubernetes uses as a name (a namespace, a Secret name), checked
/// with `valid`; a bad one is reported at its value as `schema::name`.
fn checked_name(rd: &Reader<'_>, name: &str, valid: fn(&str) -> Result<(), String>, d: &mut Diagnostics) -> String {
    let value = rd.string(name, d).unwrap_or_default();
    if let Err(message) = valid(&value) {
        d.push(
            Diagnostic::error(&codes::SCHEMA_NAME, rd.span_of(name), format!("`{name}`: {message}"))
                .with_label("Kubernetes wants a DNS name here")
                .with_help("use lower-case letters, digits and '-' (and '.' between labels of a Secret name), starting and ending alphanumeric"),
        );
    }
    value
}

fn schema_block(kind: &str, block: &str) -> &'static BlockSchema {
    schema::resource(kind).and_then(|r| r.block(block)).unwrap_or_else(|| panic!("schema has no {kind}.{block}"))
}

#[cfg(test)]
mod label_tests {
    use super::{label_key_problem, label_value_problem};

    #[test]
    fn kubernetes_labels() {
        assert_eq!(label_key_problem("fleet/cluster"), None);
        assert_eq!(label_key_problem("team"), None);
        assert_eq!(label_key_problem("app.kubernetes.io/part-of"), None);
        assert!(label_key_problem("Fleet_/x").is_some());
        assert!(label_key_problem("a/").is_some());
        assert!(label_key_problem("-x").is_some());
        assert_eq!(label_value_problem(""), None);
        assert_eq!(label_value_problem("c000"), None);
        assert!(label_value_problem("a b").is_some());
        assert!(label_value_problem(&"x".repeat(64)).is_some());
    }
}

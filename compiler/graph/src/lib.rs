//! The graph stage: the checked model becomes the [`ResourceGraph`] every emitter and the
//! apply engine walk. It is built by small named passes (nodes, containment, placement,
//! references), then checked for cycles and ordered: dependencies first, ties by address.

mod render;

pub use render::{Format, render};

use berth_diag::{Diagnostic, Diagnostics, Span, codes};
use berth_model::{Address, Edge, Item, Model, Node, ResourceGraph};
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Builds the graph of a model. On a cycle, the graph has no order and the cycle is reported.
pub fn build(model: &Model) -> (ResourceGraph, Diagnostics) {
    let mut b = Builder {
        model,
        graph: DiGraph::new(),
        spans: Vec::new(),
        edges: HashSet::default(),
        resources: Resources::new(model),
        node_meta: Vec::new(),
    };
    b.add_nodes();
    b.resources.group(&b.node_meta);
    b.add_containment();
    b.add_placement();
    b.add_references();
    let mut diags = Diagnostics::new();
    let order = match b.order() {
        Ok(order) => order,
        Err(cycle) => {
            let path: Vec<String> = cycle.iter().map(|&n| b.graph[n].address.to_string()).collect();
            let mut d = Diagnostic::error(
                &codes::GRAPH_CYCLE,
                b.spans[cycle[0].index()],
                format!("dependency cycle: {} -> {}", path.join(" -> "), path[0]),
            )
            .with_label("depends on itself through the path")
            .with_help(codes::GRAPH_CYCLE.fix);
            for &n in &cycle[1..] {
                d = d.with_note(b.spans[n.index()], format!("{} is on the cycle", b.graph[n].address));
            }
            diags.push(d);
            Vec::new()
        }
    };
    (ResourceGraph { graph: b.graph, order }, diags)
}

/// Where each kind's resources start in [`Model::metas`] order.
#[derive(Clone, Copy)]
struct Bases {
    host: usize,
    container: usize,
    cluster: usize,
    service: usize,
    release: usize,
    image: usize,
    issuer: usize,
    certificate: usize,
    forward: usize,
    environment: usize,
}

impl Bases {
    fn new(m: &Model) -> Self {
        let host = 0;
        let container = host + m.hosts.len();
        let cluster = container + m.containers.len();
        let service = cluster + m.clusters.len();
        let release = service + m.services.len();
        let image = release + m.releases.len();
        let issuer = image + m.images.len();
        let certificate = issuer + m.issuers.len();
        let forward = certificate + m.certificates.len();
        let environment = forward + m.forwards.len();
        Bases { host, container, cluster, service, release, image, issuer, certificate, forward, environment }
    }
}

/// The graph nodes of every resource. Resources are numbered in [`Model::metas`] order; those
/// sharing an address share their nodes, as nodes belong to the resource address they are in.
struct Resources<'m> {
    bases: Bases,
    /// The group (the first resource with the address) of every resource address.
    by_address: HashMap<&'m Address, u32>,
    /// The group of every resource.
    group: Vec<u32>,
    /// The nodes of group `g` are `nodes[start[g]..start[g + 1]]`, in creation order.
    start: Vec<u32>,
    nodes: Vec<NodeIndex>,
}

impl<'m> Resources<'m> {
    fn new(m: &'m Model) -> Self {
        let mut by_address = HashMap::with_capacity_and_hasher(m.metas().count(), Default::default());
        let mut group = Vec::new();
        for (i, meta) in m.metas().enumerate() {
            group.push(*by_address.entry(meta.address.as_ref()).or_insert(i as u32));
        }
        Resources { bases: Bases::new(m), by_address, group, start: Vec::new(), nodes: Vec::new() }
    }

    /// Files the nodes by group, given the resource of each node in creation order.
    fn group(&mut self, node_meta: &[u32]) {
        let mut start = vec![0u32; self.group.len() + 1];
        for &r in node_meta {
            start[self.group[r as usize] as usize + 1] += 1;
        }
        for g in 1..start.len() {
            start[g] += start[g - 1];
        }
        let mut next = start.clone();
        self.nodes = vec![NodeIndex::end(); node_meta.len()];
        for (n, &r) in node_meta.iter().enumerate() {
            let g = self.group[r as usize] as usize;
            self.nodes[next[g] as usize] = NodeIndex::new(n);
            next[g] += 1;
        }
        self.start = start;
    }

    /// The nodes of resource `r` (a [`Model::metas`] index).
    fn of(&self, r: usize) -> &[NodeIndex] {
        let g = self.group[r] as usize;
        &self.nodes[self.start[g] as usize..self.start[g + 1] as usize]
    }

    /// The first node of resource `r`.
    fn first(&self, r: usize) -> Option<NodeIndex> {
        self.of(r).first().copied()
    }

    /// The nodes of the resource an address is in.
    fn of_address(&self, address: &Address) -> &[NodeIndex] {
        let found = if address.nested.is_empty() && address.share.is_none() {
            self.by_address.get(address)
        } else {
            self.by_address.get(&address.resource())
        };
        found.map_or(&[], |&g| self.of(g as usize))
    }
}

/// Which parts of a cluster a placed object waits for.
#[derive(Clone, Copy)]
enum ClusterPart {
    /// Its node pools (a share needs nodes).
    NodePools,
    /// Its load balancer (a forward listens on it).
    LoadBalancer,
}

impl ClusterPart {
    fn holds(self, item: Item) -> bool {
        match self {
            ClusterPart::NodePools => matches!(item, Item::NodePool(..)),
            ClusterPart::LoadBalancer => matches!(item, Item::LoadBalancer(_)),
        }
    }
}

struct Builder<'m> {
    model: &'m Model,
    graph: DiGraph<Node, Edge>,
    spans: Vec<Span>,
    /// Edges added so far, so each pair is joined once without scanning a node's edges.
    edges: HashSet<(NodeIndex, NodeIndex)>,
    /// Nodes of each resource.
    resources: Resources<'m>,
    /// The resource (a [`Model::metas`] index) of each node, while nodes are added.
    node_meta: Vec<u32>,
}

impl Builder<'_> {
    fn node(&mut self, address: impl Into<Arc<Address>>, item: Item, span: Span, resource: usize) -> NodeIndex {
        let n = self.graph.add_node(Node { address: address.into(), item });
        self.spans.push(span);
        self.node_meta.push(resource as u32);
        n
    }

    fn edge(&mut self, from: NodeIndex, to: NodeIndex, kind: Edge) {
        if from != to && self.edges.insert((from, to)) {
            self.graph.add_edge(from, to, kind);
        }
    }

    /// Pass 1: one node per object.
    fn add_nodes(&mut self) {
        let m = self.model;
        let at = self.resources.bases;
        let nodes = m.environments.len()
            + m.hosts.iter().map(|h| 1 + h.volumes.len()).sum::<usize>()
            + m.clusters.iter().map(|c| 1 + c.node_pools.len() + usize::from(c.load_balancer.is_some())).sum::<usize>()
            + m.issuers.len()
            + m.certificates.len()
            + m.images.len()
            + m.placement.shares.len()
            + m.releases.iter().map(|r| r.clusters.len()).sum::<usize>()
            + m.containers.len()
            + m.forwards.len();
        self.graph.reserve_nodes(nodes);
        // Most objects wait for one other (a container for its host): about an edge each.
        self.edges.reserve(nodes);
        self.spans.reserve(nodes);
        self.node_meta.reserve(nodes);
        for (i, e) in m.environments.iter().enumerate() {
            self.node(e.meta.address.clone(), Item::Environment(i), e.meta.span, at.environment + i);
        }
        for (i, h) in m.hosts.iter().enumerate() {
            self.node(h.meta.address.clone(), Item::Host(i), h.meta.span, at.host + i);
            for (v, vol) in h.volumes.iter().enumerate() {
                self.node(vol.address.clone(), Item::Volume(i, v), vol.span, at.host + i);
            }
        }
        for (i, c) in m.clusters.iter().enumerate() {
            self.node(c.meta.address.clone(), Item::Cluster(i), c.meta.span, at.cluster + i);
            for (p, pool) in c.node_pools.iter().enumerate() {
                self.node(pool.address.clone(), Item::NodePool(i, p), pool.span, at.cluster + i);
            }
            if c.load_balancer.is_some() {
                self.node(
                    c.meta.address.nested("load_balancer", "load_balancer", None),
                    Item::LoadBalancer(i),
                    c.meta.span,
                    at.cluster + i,
                );
            }
        }
        for (i, x) in m.issuers.iter().enumerate() {
            self.node(x.meta.address.clone(), Item::Issuer(i), x.meta.span, at.issuer + i);
        }
        for (i, x) in m.certificates.iter().enumerate() {
            self.node(x.meta.address.clone(), Item::Certificate(i), x.meta.span, at.certificate + i);
        }
        for (i, x) in m.images.iter().enumerate() {
            self.node(x.meta.address.clone(), Item::Image(i), x.meta.span, at.image + i);
        }
        for (i, s) in m.placement.shares.iter().enumerate() {
            let svc = &m.services[s.service];
            let on = &m.clusters[s.cluster].meta.name;
            self.node(svc.meta.address.share(on.as_str()), Item::Share(i), svc.meta.span, at.service + s.service);
        }
        for (i, r) in m.releases.iter().enumerate() {
            for &c in &r.clusters {
                let address = r.meta.address.share(m.clusters[c].meta.name.as_str());
                self.node(address, Item::Release(i, c), r.meta.span, at.release + i);
            }
        }
        for (i, c) in m.containers.iter().enumerate() {
            self.node(c.meta.address.clone(), Item::Container(i), c.meta.span, at.container + i);
        }
        for (i, f) in m.forwards.iter().enumerate() {
            self.node(f.meta.address.clone(), Item::Forward(i), f.meta.span, at.forward + i);
        }
    }

    /// Pass 2: an object's parts and an environment's members come after it.
    fn add_containment(&mut self) {
        let m = self.model;
        let at = self.resources.bases;
        for i in 0..self.node_meta.len() {
            let n = NodeIndex::new(i);
            if !self.graph[n].address.nested.is_empty()
                && let Some(parent) = self.resources.first(self.node_meta[i] as usize)
            {
                self.edge(parent, n, Edge::Contains);
            }
        }
        let mut edges = Vec::new();
        for (r, meta) in m.metas().enumerate() {
            if let Some(e) = meta.environment.filter(|&e| e < m.environments.len())
                && let Some(from) = self.resources.first(at.environment + e)
            {
                edges.extend(self.resources.of(r).iter().map(|&to| (from, to)));
            }
        }
        for (from, to) in edges {
            self.edge(from, to, Edge::Contains);
        }
    }

    /// Pass 3: shares after their cluster, its node pools and the certificate they mount,
    /// releases after their cluster, containers after their host, certificates after their
    /// issuer, forwards after every share of their service and the load balancers in front of
    /// them, or after their container.
    fn add_placement(&mut self) {
        let m = self.model;
        let at = self.resources.bases;
        // (the resource whose first node an edge starts at, or whose every node, and the dependent)
        let mut one: Vec<(usize, NodeIndex)> = Vec::new();
        let mut all: Vec<(usize, NodeIndex)> = Vec::new();
        // Parts of a cluster before a dependent.
        let mut parts: Vec<(usize, ClusterPart, NodeIndex)> = Vec::new();
        for n in self.graph.node_indices() {
            match self.graph[n].item {
                Item::Share(i) => {
                    let s = m.placement.shares[i];
                    one.push((at.cluster + s.cluster, n));
                    parts.push((at.cluster + s.cluster, ClusterPart::NodePools, n));
                    if let Some(cert) = m.services[s.service].certificate {
                        one.push((at.certificate + cert, n));
                    }
                }
                Item::Release(_, c) => one.push((at.cluster + c, n)),
                Item::Container(i) => {
                    if let Some(&h) = m.placement.container_hosts.get(i).filter(|&&h| h < m.hosts.len()) {
                        one.push((at.host + h, n));
                    }
                }
                Item::Certificate(i) => {
                    let issuer = m.certificates[i].issuer;
                    if issuer < m.issuers.len() {
                        one.push((at.issuer + issuer, n));
                    }
                }
                Item::Forward(i) => match m.forwards[i].target {
                    berth_model::ForwardTarget::Service(s) if s < m.services.len() => {
                        all.push((at.service + s, n));
                        for sh in m.shares_of(s) {
                            parts.push((at.cluster + sh.cluster, ClusterPart::LoadBalancer, n));
                        }
                    }
                    berth_model::ForwardTarget::Container(c) if c < m.containers.len() => {
                        one.push((at.container + c, n));
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        for (from, to) in one {
            if let Some(f) = self.resources.first(from) {
                self.edge(f, to, Edge::Placement);
            }
        }
        let all: Vec<(NodeIndex, NodeIndex)> =
            all.into_iter().flat_map(|(from, to)| self.resources.of(from).iter().map(move |&f| (f, to))).collect();
        for (from, to) in all {
            self.edge(from, to, Edge::Placement);
        }
        let parts: Vec<(NodeIndex, NodeIndex)> = parts
            .into_iter()
            .flat_map(|(resource, part, to)| {
                let graph = &self.graph;
                self.resources.of(resource).iter().filter(move |&&f| part.holds(graph[f].item)).map(move |&f| (f, to))
            })
            .collect();
        for (from, to) in parts {
            self.edge(from, to, Edge::Placement);
        }
    }

    /// Pass 4: every reference and `depends_on` in the spec.
    fn add_references(&mut self) {
        let m = self.model;
        let mut edges = Vec::new();
        for (r, meta) in m.metas().enumerate() {
            let tos = self.resources.of(r);
            for dep in &meta.depends_on {
                if dep.kind == "environment" {
                    continue;
                }
                // The object itself (every share of a service), not its parts.
                let objects =
                    self.resources.of_address(dep).iter().filter(|&&n| self.graph[n].address.nested.is_empty());
                for &from in objects {
                    edges.extend(tos.iter().map(|&to| (from, to)));
                }
            }
        }
        for (from, to) in edges {
            self.edge(from, to, Edge::Reference);
        }
    }

    /// Kahn's algorithm with ties broken by address, so the order is the same on every run.
    /// On a cycle, returns one cycle's nodes.
    fn order(&self) -> Result<Vec<NodeIndex>, Vec<NodeIndex>> {
        // Rank every node by its address text once (all texts in one buffer); the queue then
        // orders plain integers.
        let mut text = String::new();
        let mut ends = Vec::with_capacity(self.graph.node_count());
        for n in self.graph.node_indices() {
            self.graph[n].address.push_to(&mut text);
            ends.push(text.len());
        }
        let name = |n: NodeIndex| {
            let start = if n.index() == 0 { 0 } else { ends[n.index() - 1] };
            &text[start..ends[n.index()]]
        };
        let mut by_name: Vec<NodeIndex> = self.graph.node_indices().collect();
        // Instances come in runs already sorted by key; the stable sort finds the runs.
        by_name.sort_by(|&a, &b| name(a).cmp(name(b)).then(a.cmp(&b)));
        let mut rank = vec![0usize; by_name.len()];
        for (r, n) in by_name.iter().enumerate() {
            rank[n.index()] = r;
        }
        let key = |n: NodeIndex| (name(n).to_string(), n);
        let mut indegree = vec![0usize; self.graph.node_count()];
        for e in self.graph.raw_edges() {
            indegree[e.target().index()] += 1;
        }
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = self
            .graph
            .node_indices()
            .filter(|n| indegree[n.index()] == 0)
            .map(|n| std::cmp::Reverse(rank[n.index()]))
            .collect();
        let mut order = Vec::with_capacity(indegree.len());
        while let Some(std::cmp::Reverse(r)) = ready.pop() {
            let n = by_name[r];
            order.push(n);
            for d in self.graph.neighbors_directed(n, petgraph::Direction::Outgoing) {
                indegree[d.index()] -= 1;
                if indegree[d.index()] == 0 {
                    ready.push(std::cmp::Reverse(rank[d.index()]));
                }
            }
        }
        if order.len() == indegree.len() {
            return Ok(order);
        }
        let sccs = petgraph::algo::tarjan_scc(&self.graph);
        let scc = sccs.into_iter().find(|s| s.len() > 1).unwrap_or_default();
        let members: BTreeMap<String, NodeIndex> = scc.iter().map(|&n| key(n)).collect();
        let Some((_, &start)) = members.iter().next() else { return Err(Vec::new()) };
        // Walk inside the component from its smallest address until the path closes.
        let mut path = vec![start];
        let mut seen = BTreeSet::from([start]);
        loop {
            let cur = *path.last().unwrap_or(&start);
            let next = self
                .graph
                .neighbors_directed(cur, petgraph::Direction::Outgoing)
                .filter(|n| members.values().any(|m| m == n))
                .min_by_key(|&n| key(n));
            match next {
                Some(n) if n == start || seen.contains(&n) => {
                    let pos = path.iter().position(|&p| p == n).unwrap_or(0);
                    return Err(path[pos..].to_vec());
                }
                Some(n) => {
                    seen.insert(n);
                    path.push(n);
                }
                None => return Err(path),
            }
        }
    }
}

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

/// Builds the graph of a model. On a cycle, the graph has no order and the cycle is reported.
pub fn build(model: &Model) -> (ResourceGraph, Diagnostics) {
    let mut b = Builder {
        model,
        graph: DiGraph::new(),
        by_resource: HashMap::default(),
        spans: Vec::new(),
        edges: HashSet::default(),
    };
    b.add_nodes();
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

struct Builder<'m> {
    model: &'m Model,
    graph: DiGraph<Node, Edge>,
    /// Nodes of each resource address (a service has one per share).
    by_resource: HashMap<Address, Vec<NodeIndex>>,
    spans: Vec<Span>,
    /// Edges added so far, so each pair is joined once without scanning a node's edges.
    edges: HashSet<(NodeIndex, NodeIndex)>,
}

impl Builder<'_> {
    fn node(&mut self, address: Address, item: Item, span: Span) -> NodeIndex {
        let resource = address.resource();
        let n = self.graph.add_node(Node { address, item });
        self.spans.push(span);
        self.by_resource.entry(resource).or_default().push(n);
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
        for (i, e) in m.environments.iter().enumerate() {
            self.node(e.meta.address.clone(), Item::Environment(i), e.meta.span);
        }
        for (i, h) in m.hosts.iter().enumerate() {
            self.node(h.meta.address.clone(), Item::Host(i), h.meta.span);
            for (v, vol) in h.volumes.iter().enumerate() {
                self.node(vol.address.clone(), Item::Volume(i, v), vol.span);
            }
        }
        for (i, c) in m.clusters.iter().enumerate() {
            self.node(c.meta.address.clone(), Item::Cluster(i), c.meta.span);
            for (p, pool) in c.node_pools.iter().enumerate() {
                self.node(pool.address.clone(), Item::NodePool(i, p), pool.span);
            }
            if c.load_balancer.is_some() {
                self.node(
                    c.meta.address.nested("load_balancer", "load_balancer", None),
                    Item::LoadBalancer(i),
                    c.meta.span,
                );
            }
        }
        for (i, x) in m.issuers.iter().enumerate() {
            self.node(x.meta.address.clone(), Item::Issuer(i), x.meta.span);
        }
        for (i, x) in m.certificates.iter().enumerate() {
            self.node(x.meta.address.clone(), Item::Certificate(i), x.meta.span);
        }
        for (i, x) in m.images.iter().enumerate() {
            self.node(x.meta.address.clone(), Item::Image(i), x.meta.span);
        }
        for (i, s) in m.placement.shares.iter().enumerate() {
            let svc = &m.services[s.service];
            let on = &m.clusters[s.cluster].meta.name;
            self.node(svc.meta.address.share(on.as_str()), Item::Share(i), svc.meta.span);
        }
        for (i, r) in m.releases.iter().enumerate() {
            for &c in &r.clusters {
                self.node(r.meta.address.share(m.clusters[c].meta.name.as_str()), Item::Release(i, c), r.meta.span);
            }
        }
        for (i, c) in m.containers.iter().enumerate() {
            self.node(c.meta.address.clone(), Item::Container(i), c.meta.span);
        }
        for (i, f) in m.forwards.iter().enumerate() {
            self.node(f.meta.address.clone(), Item::Forward(i), f.meta.span);
        }
    }

    fn nodes_of(&self, address: &Address) -> Vec<NodeIndex> {
        self.by_resource.get(&address.resource()).cloned().unwrap_or_default()
    }

    fn first(&self, address: &Address) -> Option<NodeIndex> {
        self.by_resource.get(address).and_then(|v| v.first().copied())
    }

    /// Pass 2: an object's parts and an environment's members come after it.
    fn add_containment(&mut self) {
        let indices: Vec<NodeIndex> = self.graph.node_indices().collect();
        for n in indices {
            let address = self.graph[n].address.clone();
            if !address.nested.is_empty()
                && let Some(parent) = self.first(&address.resource())
            {
                self.edge(parent, n, Edge::Contains);
            }
        }
        let m = self.model;
        let metas = m.metas();
        let mut edges = Vec::new();
        for meta in metas {
            if let Some(env) = meta.environment.and_then(|e| m.environments.get(e)) {
                for to in self.nodes_of(&meta.address) {
                    if let Some(from) = self.first(&env.meta.address) {
                        edges.push((from, to));
                    }
                }
            }
        }
        for (from, to) in edges {
            self.edge(from, to, Edge::Contains);
        }
    }

    /// Pass 3: shares after their cluster and its node pools, releases after their cluster,
    /// containers after their host, certificates after their issuer, forwards after every
    /// share of their service and the load balancers in front of them.
    fn add_placement(&mut self) {
        let m = self.model;
        // (the one node an edge starts at, or every node of a service, and the dependent)
        let mut one: Vec<(Address, NodeIndex)> = Vec::new();
        let mut all: Vec<(Address, NodeIndex)> = Vec::new();
        for n in self.graph.node_indices() {
            match self.graph[n].item {
                Item::Share(i) => {
                    let s = m.placement.shares[i];
                    let cluster = &m.clusters[s.cluster];
                    one.push((cluster.meta.address.clone(), n));
                    one.extend(cluster.node_pools.iter().map(|p| (p.address.clone(), n)));
                    if let Some(cert) = m.services[s.service].certificate {
                        one.push((m.certificates[cert].meta.address.clone(), n));
                    }
                }
                Item::Release(_, c) => one.push((m.clusters[c].meta.address.clone(), n)),
                Item::Container(i) => {
                    if let Some(h) = m.placement.container_hosts.get(i).and_then(|&h| m.hosts.get(h)) {
                        one.push((h.meta.address.clone(), n));
                    }
                }
                Item::Certificate(i) => {
                    if let Some(issuer) = m.issuers.get(m.certificates[i].issuer) {
                        one.push((issuer.meta.address.clone(), n));
                    }
                }
                Item::Forward(i) => match m.forwards[i].target {
                    berth_model::ForwardTarget::Service(s) if s < m.services.len() => {
                        all.push((m.services[s].meta.address.clone(), n));
                        for sh in m.shares_of(s) {
                            let c = &m.clusters[sh.cluster];
                            if c.load_balancer.is_some() {
                                one.push((c.meta.address.nested("load_balancer", "load_balancer", None), n));
                            }
                        }
                    }
                    berth_model::ForwardTarget::Container(c) if c < m.containers.len() => {
                        one.push((m.containers[c].meta.address.clone(), n));
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        for (from, to) in one {
            if let Some(f) = self.first(&from) {
                self.edge(f, to, Edge::Placement);
            }
        }
        for (from, to) in all {
            for f in self.nodes_of(&from) {
                self.edge(f, to, Edge::Placement);
            }
        }
    }

    /// Pass 4: every reference and `depends_on` in the spec.
    fn add_references(&mut self) {
        let m = self.model;
        let metas = m.metas();
        let mut edges = Vec::new();
        for meta in metas {
            let tos = self.nodes_of(&meta.address);
            for dep in &meta.depends_on {
                if dep.kind == "environment" {
                    continue;
                }
                // The object itself (every share of a service), not its parts.
                let objects = self.nodes_of(dep).into_iter().filter(|&n| self.graph[n].address.nested.is_empty());
                for from in objects.collect::<Vec<_>>() {
                    for &to in &tos {
                        edges.push((from, to));
                    }
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
        // Rank every node by its address text once; the queue then orders plain integers.
        let mut by_name: Vec<(String, NodeIndex)> =
            self.graph.node_indices().map(|n| (self.graph[n].address.to_string(), n)).collect();
        by_name.sort_unstable();
        let mut rank = vec![0usize; by_name.len()];
        for (r, (_, n)) in by_name.iter().enumerate() {
            rank[n.index()] = r;
        }
        let key = |n: NodeIndex| (by_name[rank[n.index()]].0.clone(), n);
        let mut indegree: Vec<usize> = self
            .graph
            .node_indices()
            .map(|n| self.graph.neighbors_directed(n, petgraph::Direction::Incoming).count())
            .collect();
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = self
            .graph
            .node_indices()
            .filter(|n| indegree[n.index()] == 0)
            .map(|n| std::cmp::Reverse(rank[n.index()]))
            .collect();
        let mut order = Vec::with_capacity(indegree.len());
        while let Some(std::cmp::Reverse(r)) = ready.pop() {
            let n = by_name[r].1;
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

//! The resource graph: one node per object berth creates, an edge from each object to the
//! objects that need it first. Built once by `berth-graph`; walked by emitters and apply.

use crate::Address;
use petgraph::graph::{DiGraph, NodeIndex};
use std::sync::Arc;

/// Which model item a node stands for (indices into the [`crate::Model`] vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Item {
    /// `Model::hosts[i]`.
    Host(usize),
    /// Volume `v` of host `h`.
    Volume(usize, usize),
    /// `Model::containers[i]`.
    Container(usize),
    /// `Model::clusters[i]`.
    Cluster(usize),
    /// Node pool `p` of cluster `c`.
    NodePool(usize, usize),
    /// The load balancer of cluster `c`.
    LoadBalancer(usize),
    /// `Model::placement.shares[i]`: a service's replicas on one cluster.
    Share(usize),
    /// `Model::releases[r]` on `Model::clusters[c]`.
    Release(usize, usize),
    /// `Model::images[i]`.
    Image(usize),
    /// `Model::issuers[i]`.
    Issuer(usize),
    /// `Model::certificates[i]`.
    Certificate(usize),
    /// `Model::forwards[i]`.
    Forward(usize),
    /// `Model::environments[i]`.
    Environment(usize),
}

/// A graph node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The object's address (shared with the model's, for resource instances).
    pub address: Arc<Address>,
    /// The model item.
    pub item: Item,
}

/// Why one object comes before another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edge {
    /// The dependent is part of the dependency (a volume of its host).
    Contains,
    /// The dependent refers to the dependency in the spec.
    Reference,
    /// Placement put the dependent there (a share on its cluster, a container on its host).
    Placement,
    /// `depends_on`.
    Explicit,
}

impl Edge {
    /// The edge's name in renderings.
    pub fn name(self) -> &'static str {
        match self {
            Edge::Contains => "contains",
            Edge::Reference => "reference",
            Edge::Placement => "placement",
            Edge::Explicit => "depends_on",
        }
    }
}

/// The complete, acyclic resource graph, with its creation order.
#[derive(Debug, Default)]
pub struct ResourceGraph {
    /// Edges point from a dependency to its dependent.
    pub graph: DiGraph<Node, Edge>,
    /// Every node in creation order (dependencies first; ties by address).
    pub order: Vec<NodeIndex>,
}

impl ResourceGraph {
    /// The node with this index.
    pub fn node(&self, index: NodeIndex) -> &Node {
        &self.graph[index]
    }

    /// Nodes in creation order.
    pub fn in_order(&self) -> impl Iterator<Item = &Node> {
        self.order.iter().map(|&i| &self.graph[i])
    }

    /// The nodes a node depends on.
    pub fn dependencies(&self, index: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.neighbors_directed(index, petgraph::Direction::Incoming)
    }

    /// The nodes that depend on a node.
    pub fn dependents(&self, index: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.neighbors_directed(index, petgraph::Direction::Outgoing)
    }
}

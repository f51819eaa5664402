//! The check stage: from resolved instances to the typed [`Model`].
//!
//! It validates every body against the schema (names, types, formats, required attributes),
//! resolves references to model indices, checks names and duplicates, decides placement of
//! services on clusters and containers on hosts, and checks capacity against the stdlib
//! catalogue. All problems are reported, not just the first. The current time is an input.

mod capacity;
mod convert;
pub mod formats;
mod place;
mod read;

use berth_diag::Diagnostics;
use berth_model::Model;
use berth_model::schema::BlockSchema;
use berth_resolve::{Resolved, ResolvedOutput, Resolving};

/// What the checks need besides the spec.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext {
    /// Now, in seconds since the Unix epoch (for environment expiry).
    pub now_unix: i64,
}

/// Checks a resolved spec and builds its model, consuming the spec as it goes. The model is
/// complete where the spec was valid; with errors, parts of it may be missing.
pub fn check(resolved: Resolved, cx: CheckContext) -> (Model, Diagnostics) {
    let mut checker = Checker::default();
    let mut kinds: Vec<(&'static BlockSchema, usize)> = Vec::new();
    for r in &resolved.resources {
        match kinds.iter_mut().find(|(schema, _)| std::ptr::eq(*schema, r.schema)) {
            Some((_, n)) => *n += 1,
            None => kinds.push((r.schema, 1)),
        }
    }
    for (schema, instances) in kinds {
        checker.add(Resolving::Declaration { schema, instances });
    }
    for resource in resolved.resources {
        checker.add(Resolving::Resource(resource));
    }
    checker.finish(resolved.outputs, cx)
}

/// [`check`] fed as the resolver goes ([`berth_resolve::resolve_into`]), perhaps on another
/// thread: each instance is converted as soon as what it refers to has arrived, and the checks
/// of the whole model run at the end. The model is the same as [`check`]'s.
#[derive(Default)]
pub struct Checker {
    converter: convert::Converter,
}

impl Checker {
    /// Takes what the resolver hands on next.
    pub fn add(&mut self, item: Resolving) {
        match item {
            Resolving::Declaration { schema, instances } => self.converter.expect(schema, instances),
            Resolving::Resource(resource) => self.converter.add(resource),
        }
    }

    /// Completes the model with the root module's outputs once the resolver is done, and runs
    /// the checks of the whole model: placement and capacity.
    pub fn finish(self, outputs: Vec<ResolvedOutput>, cx: CheckContext) -> (Model, Diagnostics) {
        let (mut model, mut diags) = self.converter.finish(outputs);
        place::place(&mut model, &mut diags);
        capacity::check(&model, cx, &mut diags);
        (model, diags)
    }
}

#[cfg(test)]
mod tests;

/// The placement decisions as a JSON document for reviewers: service shares per cluster and
/// the host of every container, in declaration order.
pub fn placement_report(model: &berth_model::Model) -> String {
    let services: Vec<serde_json::Value> = model
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let shares: serde_json::Map<String, serde_json::Value> = model
                .shares_of(i)
                .map(|sh| (model.clusters[sh.cluster].meta.name.to_string(), serde_json::json!(sh.replicas)))
                .collect();
            serde_json::json!({"service": s.meta.address.to_string(), "replicas": s.replicas, "shares": shares})
        })
        .collect();
    let clusters: Vec<serde_json::Value> = model
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let pods: u64 = model.placement.shares.iter().filter(|s| s.cluster == i).map(|s| s.replicas).sum();
            serde_json::json!({"cluster": c.meta.address.to_string(), "pods": pods, "capacity": c.pod_capacity})
        })
        .collect();
    let on_host = model.containers_by_host();
    let hosts: Vec<serde_json::Value> = model
        .hosts
        .iter()
        .zip(&on_host)
        .map(|(host, on)| {
            let names: Vec<&str> = on.iter().map(|&c| model.containers[c].meta.name.as_str()).collect();
            serde_json::json!({"host": host.meta.address.to_string(), "containers": names.len(), "address_pool_size": host.docker.address_pool_size, "placed": names})
        })
        .collect();
    let doc = serde_json::json!({"format_version": "1", "clusters": clusters, "services": services, "hosts": hosts});
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

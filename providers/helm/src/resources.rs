//! The objects of every cluster's chart as the objects `berth apply` sends (engine
//! `kubernetes`), rendered as Helm would render the chart with its values and the secrets
//! values: the same objects, from the same builders (objects module).
//!
//! Secret data never appears in a [`Resource`]: the data of a berth-issued certificate's
//! Secret is a placeholder `{"$secret": DIGEST}` per key, and [`secret_data`] gives the
//! engine the bytes behind each DIGEST. Certificates are issued anew on every run, so DIGEST is
//! not a digest of the bytes (that would change every plan) but of what decides them: the
//! issuer, every use of its certificates (identity, cluster, namespace) and the renewal period.
//! Any change there gives every Secret of the issuer new placeholders, so all of them are
//! applied together with certificates of one new CA (peers keep trusting each other); nothing
//! else changes them, so a plan after an apply is clean. Renewal: the period is half the
//! shortest validity among the issuer's certificates and its CA, so the first apply after half
//! a certificate's life renews it.

use crate::chart::{ClusterPlan, Plan};
use crate::objects::{Template, cluster_templates};
use crate::tls::{Issued, identity_hash};
use berth_diag::Diagnostics;
use berth_model::{IssuerKind, Model};
use berth_plan::{Resource, hex_sha256};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The engine of every resource here.
const ENGINE: &str = "kubernetes";

/// The key of a secret placeholder: `{"$secret": DIGEST}`.
pub const SECRET_KEY: &str = "$secret";

/// Every object of every cluster's chart, addressed
/// `<cluster address>:<apiVersion>/<Kind>/<namespace>/<name>` (cluster-scoped objects without
/// the namespace), of kind `<apiVersion>/<Kind>`, with attributes `cluster` (the kubeconfig
/// context) and `manifest`. Objects in a namespace berth creates depend on it.
pub(crate) fn resources(model: &Model, now_unix: i64) -> Vec<Resource> {
    let plan = Plan::new(model);
    let versions = versions(model, &plan, now_unix);
    let placeholder = |ci: usize, key: &str| match versions.get(&model.certificates[ci].issuer) {
        Some(version) => json!({ SECRET_KEY: placeholder(version, &model.certificates[ci].meta.name, key) }),
        None => Value::Null,
    };
    // Clusters are listed on every core, each on its own; the objects come back in cluster
    // order.
    let charted: Vec<usize> = (0..plan.clusters.len()).filter(|&c| !plan.clusters[c].is_empty()).collect();
    berth_model::par::map(charted, 0, |c| cluster_resources(model, c, &plan.clusters[c], &placeholder))
        .into_iter()
        .flatten()
        .collect()
}

/// The objects of one cluster with a chart.
fn cluster_resources(
    model: &Model,
    c: usize,
    cp: &ClusterPlan,
    placeholder: &(dyn Fn(usize, &str) -> Value + Sync),
) -> Vec<Resource> {
    let cluster = &model.clusters[c];
    let base = cluster.meta.address.to_string();
    let templates: Vec<Template> = cluster_templates(model, c, cp, placeholder);
    let namespaces: Vec<String> = templates
        .iter()
        .flat_map(|t| &t.objects)
        .filter(|o| o.manifest["kind"] == "Namespace")
        .filter_map(|o| o.manifest["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let mut out = Vec::new();
    for o in templates.into_iter().flat_map(|t| t.objects) {
        let m = &o.manifest;
        let kind =
            format!("{}/{}", m["apiVersion"].as_str().unwrap_or_default(), m["kind"].as_str().unwrap_or_default());
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let namespace = m["metadata"]["namespace"].as_str().map(str::to_string);
        let address = match &namespace {
            Some(ns) => format!("{base}:{kind}/{ns}/{name}"),
            None => format!("{base}:{kind}/{name}"),
        };
        let mut attrs = Map::with_capacity(2);
        attrs.insert("cluster".into(), json!(cluster.context));
        attrs.insert("manifest".into(), o.manifest);
        let mut r = Resource::new(address, ENGINE, &kind, attrs)
            .replace_on(&["cluster"])
            .in_environment(o.environment.map(|e| model.environments[e].meta.name.to_string()));
        if let Some(ns) = namespace.filter(|ns| namespaces.contains(ns)) {
            r = r.depends_on(&format!("{base}:v1/Namespace/{ns}"));
        }
        out.push(r);
    }
    out
}

/// Issues the certificates berth issues and gives, for every placeholder [`resources`] made at
/// the same `now_unix`, the bytes of that Secret key (PEM text; the engine base64-encodes it).
pub(crate) fn secret_data(model: &Model, now_unix: i64, diags: &mut Diagnostics) -> BTreeMap<String, Vec<u8>> {
    let plan = Plan::new(model);
    let versions = versions(model, &plan, now_unix);
    let issued = Issued::issue(model, plan.certificates(), now_unix, 0, diags);
    let mut out = BTreeMap::new();
    for ci in plan.certificates() {
        let cert = &model.certificates[ci];
        let (Some(files), Some(version)) = (issued.get(ci), versions.get(&cert.issuer)) else { continue };
        for (key, pem) in files.by_name() {
            out.insert(placeholder(version, &cert.meta.name, key), pem.as_bytes().to_vec());
        }
    }
    out
}

/// The version of the certificates of every `ca` issuer in use, by issuer index: a SHA-256 of
/// the issuer, every use of its certificates, and the renewal period `now_unix` falls in.
fn versions(model: &Model, plan: &Plan, now_unix: i64) -> BTreeMap<usize, String> {
    let mut texts: BTreeMap<usize, (String, u64)> = BTreeMap::new();
    for (c, cp) in plan.clusters.iter().enumerate() {
        for (&ci, namespaces) in &cp.certificates {
            let cert = &model.certificates[ci];
            let Some(issuer) = model.issuers.get(cert.issuer) else { continue };
            let IssuerKind::Ca { validity_secs, .. } = &issuer.kind else { continue };
            let (text, shortest) = texts
                .entry(cert.issuer)
                .or_insert_with(|| (format!("issuer={}\n", issuer.meta.address), *validity_secs));
            *shortest = (*shortest).min(cert.validity_secs);
            for ns in namespaces {
                text.push_str(&format!("use={} {} {ns}\n", identity_hash(model, ci), model.clusters[c].meta.name));
            }
        }
    }
    texts
        .into_iter()
        .map(|(issuer, (mut text, shortest))| {
            let period = i64::try_from(shortest / 2).unwrap_or(i64::MAX).max(1);
            text.push_str(&format!("period={}\n", now_unix.div_euclid(period)));
            (issuer, hex_sha256(text.as_bytes()))
        })
        .collect()
}

/// The placeholder digest of one key of a certificate's Secret.
fn placeholder(version: &str, certificate: &str, key: &str) -> String {
    hex_sha256(format!("{version}/{certificate}/{key}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_differ_per_key_and_version() {
        assert_ne!(placeholder("v1", "db", "tls.key"), placeholder("v1", "db", "tls.crt"));
        assert_ne!(placeholder("v1", "db", "tls.key"), placeholder("v2", "db", "tls.key"));
        assert_eq!(placeholder("v1", "db", "tls.key").len(), 64);
    }
}

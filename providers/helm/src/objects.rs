//! The Kubernetes objects of one cluster, grouped by the chart template that holds them: the
//! one source of both the chart files (chart module) and the objects `berth apply` sends
//! (resources module).
//!
//! The only part the two readers render differently is the data of the Secrets of
//! certificates berth issues: the chart reads it from the secrets values with a template
//! action, apply puts a placeholder there that the engine fills in.

use crate::chart::ClusterPlan;
use crate::tls;
use crate::workload::{CLUSTER_LABEL, add_labels, address_annotation, share_objects};
use berth_model::Model;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The value of one key of a berth-issued certificate's Secret `data`, given the certificate
/// (an index into [`Model::certificates`]) and the key (`tls.key`).
pub(crate) type SecretValue<'a> = &'a dyn Fn(usize, &str) -> Value;

/// One template of a cluster's chart.
#[derive(Debug)]
pub(crate) struct Template {
    /// Its path in the chart (`templates/service-db.yaml`).
    pub(crate) path: String,
    /// Its objects, in order.
    pub(crate) objects: Vec<Object>,
}

/// One Kubernetes object.
#[derive(Debug)]
pub(crate) struct Object {
    /// The manifest.
    pub(crate) manifest: Value,
    /// The environment it belongs to (an index into [`Model::environments`]).
    pub(crate) environment: Option<usize>,
}

/// Objects of one environment.
fn in_environment(manifests: Vec<Value>, environment: Option<usize>) -> Vec<Object> {
    manifests.into_iter().map(|manifest| Object { manifest, environment }).collect()
}

/// The templates of cluster `c`: one per service share and per certificate, in the plan's
/// order, then the namespaces berth uses there (none for `default` and `kube-*`).
pub(crate) fn cluster_templates(
    model: &Model,
    c: usize,
    cp: &ClusterPlan,
    secret_value: SecretValue<'_>,
) -> Vec<Template> {
    let cluster = &model.clusters[c];
    let mut labels = cluster.pod_labels.clone();
    labels.insert(CLUSTER_LABEL.to_string(), cluster.meta.name.to_string());
    let mut templates = Vec::with_capacity(cp.shares.len() + cp.certificates.len() + 1);
    // Per namespace, the environments of what uses it: `None` for something in no environment.
    let mut users: BTreeMap<&str, BTreeSet<Option<usize>>> = BTreeMap::new();
    for &si in &cp.shares {
        let share = &model.placement.shares[si];
        let s = &model.services[share.service];
        users.entry(s.namespace.as_str()).or_default().insert(s.meta.environment);
        templates.push(Template {
            path: format!("templates/service-{}.yaml", s.meta.name),
            objects: in_environment(share_objects(model, share, &labels), s.meta.environment),
        });
    }
    for &ri in &cp.releases {
        let r = &model.releases[ri];
        users.entry(r.namespace.as_str()).or_default().insert(r.meta.environment);
    }
    for (&ci, nss) in &cp.certificates {
        let cert = &model.certificates[ci];
        templates.push(Template {
            path: format!("templates/certificate-{}.yaml", cert.meta.name),
            objects: in_environment(
                nss.iter().map(|ns| tls::object(model, ci, ns, &labels, secret_value)).collect(),
                cert.meta.environment,
            ),
        });
    }
    let namespaces: Vec<(&str, Option<usize>)> = users
        .into_iter()
        .filter(|(ns, _)| *ns != "default" && !ns.starts_with("kube-"))
        .map(|(ns, envs)| {
            // A namespace goes with an environment only if everything in it does.
            let env = if envs.len() == 1 { envs.into_iter().next().flatten() } else { None };
            (ns, env.or(cluster.meta.environment))
        })
        .collect();
    if !namespaces.is_empty() {
        let mut annotations = address_annotation(&cluster.meta.address.to_string());
        annotations.insert("helm.sh/resource-policy".into(), json!("keep"));
        let objects = namespaces
            .iter()
            .map(|&(ns, environment)| Object {
                manifest: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": add_labels(&labels, &[]), "annotations": annotations}}),
                environment,
            })
            .collect();
        templates.push(Template { path: "templates/namespaces.yaml".into(), objects });
    }
    templates
}

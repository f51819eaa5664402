//! One chart per cluster.
//!
//! ```text
//! helm/README.md                          how to install (reviewed)
//! helm/<cluster>/Chart.yaml               apiVersion v2; `release` blocks as dependencies
//! helm/<cluster>/values.yaml              the dependencies' values, under their release names
//! helm/<cluster>/templates/namespaces.yaml            namespaces berth uses (kept on uninstall)
//! helm/<cluster>/templates/service-<name>.yaml        the service's share: workload, Service, PDB
//! helm/<cluster>/templates/certificate-<name>.yaml    its Secret, ExternalSecret or Certificate
//! helm/<cluster>/secrets.yaml             secrets directory only: the certificates berth issued,
//!                                         a values file for `helm install -f`
//! ```
//!
//! Every object is labelled `berth.dev/cluster=<cluster>` plus the cluster's `pod_labels`
//! (and `app=<service>` for a service's objects) and annotated with the berth address it comes
//! from. Templates are plain manifests: the only Helm expressions read berth-issued certificates
//! from the secrets values (`berthTls`, see the tls module), written as quoted YAML strings.
//!
//! Chart references of `release` blocks: `stdlib/NAME` is chart `NAME` of the Helm repository
//! `berth-stdlib` (`@berth-stdlib`, added with `helm repo add`); `SCHEME://.../NAME` (`oci://`,
//! `https://`) is chart `NAME` of that repository; anything else is a local chart directory
//! (`file://PATH`, relative to the chart). Nothing is vendored: `helm dependency build` fetches
//! the dependencies before an install.

use crate::objects::cluster_templates;
use crate::size::{ChartFile, RELEASE_LIMIT, release_bytes};
use crate::tls::{self, Issued};
use crate::workload::address_annotation;
use berth_diag::{Diagnostic, Diagnostics, codes};
use berth_model::yaml::Style;
use berth_model::{IssuerKind, Model, OutputTree, Release};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The version of every chart berth renders: berth's own.
pub(crate) const CHART_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Helm repository name that `stdlib/NAME` chart references point to.
pub(crate) const STDLIB_REPOSITORY: &str = "@berth-stdlib";

/// How charts are written: in the style of `kubectl get -o yaml`, strings single-quoted so
/// that the template actions in them stay as written.
const YAML: Style = Style::KUBECTL;

/// What goes on one cluster.
#[derive(Debug, Default)]
pub(crate) struct ClusterPlan {
    /// Shares placed there (indices into `Model::placement.shares`), in service order.
    pub(crate) shares: Vec<usize>,
    /// Certificates needed there, with the namespaces that need them.
    pub(crate) certificates: BTreeMap<usize, BTreeSet<String>>,
    /// Releases installed there (indices into `Model::releases`).
    pub(crate) releases: Vec<usize>,
}

impl ClusterPlan {
    pub(crate) fn is_empty(&self) -> bool {
        self.shares.is_empty() && self.releases.is_empty()
    }
}

/// What goes on every cluster, found in one pass over shares and releases.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Per cluster, parallel to `Model::clusters`.
    pub(crate) clusters: Vec<ClusterPlan>,
}

impl Plan {
    /// Groups shares, certificates and releases by cluster (the check stage has already
    /// refused namespaces and Secret names that Kubernetes would not take).
    pub(crate) fn new(model: &Model) -> Self {
        let mut clusters: Vec<ClusterPlan> = model.clusters.iter().map(|_| ClusterPlan::default()).collect();
        for (i, share) in model.placement.shares.iter().enumerate() {
            let Some(cp) = clusters.get_mut(share.cluster) else { continue };
            cp.shares.push(i);
            let s = &model.services[share.service];
            if let Some(c) = s.certificate {
                cp.certificates.entry(c).or_default().insert(s.namespace.clone());
            }
        }
        for (ri, r) in model.releases.iter().enumerate() {
            for &c in &r.clusters {
                let Some(cp) = clusters.get_mut(c) else { continue };
                cp.releases.push(ri);
                if let Some(cert) = r.certificate {
                    cp.certificates.entry(cert).or_default().insert(r.namespace.clone());
                }
            }
        }
        Plan { clusters }
    }

    /// Every certificate in use on some cluster, each once.
    pub(crate) fn certificates(&self) -> BTreeSet<usize> {
        self.clusters.iter().flat_map(|c| c.certificates.keys().copied()).collect()
    }
}

/// One file of a chart.
struct File {
    path: String,
    contents: Vec<u8>,
    secret: bool,
    template: bool,
}

/// Renders the chart of every cluster that runs something, the clusters on `threads` threads
/// (0: what the machine offers), and reports charts over Helm's release size limit.
pub(crate) fn render_all(
    model: &Model,
    plan: &Plan,
    issued: &Issued,
    threads: usize,
    diags: &mut Diagnostics,
) -> OutputTree {
    let mut tree = OutputTree::new();
    let charted: Vec<usize> = (0..plan.clusters.len()).filter(|&c| !plan.clusters[c].is_empty()).collect();
    let rendered =
        berth_model::par::map(charted, threads, |c| (c, render_cluster(model, c, &plan.clusters[c], issued)));
    for (c, files) in rendered {
        let cp = &plan.clusters[c];
        let cluster = &model.clusters[c];
        let sizes: Vec<ChartFile<'_>> = files
            .iter()
            .map(|f| ChartFile { contents: &f.contents, template: f.template, inlined: f.secret })
            .collect();
        let bytes = release_bytes(&sizes);
        if bytes > RELEASE_LIMIT {
            diags.push(
                Diagnostic::error(&codes::HELM_SIZE, cluster.meta.span, format!(
                    "the chart of cluster {} would make a Helm release of about {} KiB, over Helm's 1 MiB limit",
                    cluster.meta.name,
                    bytes >> 10
                ))
                .with_label(format!("{} service shares and {} releases on this cluster", cp.shares.len(), cp.releases.len()))
                .with_help("split the workload: place some services on another cluster (each cluster gets its own chart), or move releases or shrink their values"),
            );
        }
        for f in files {
            let path = format!("{}/{}", cluster.meta.name, f.path);
            if f.secret { tree.add_secret(path, f.contents) } else { tree.add(path, f.contents) }
        }
    }
    if !tree.is_empty() {
        tree.add("README.md", README);
    }
    tree
}

const README: &str = "\
# Helm charts rendered by berth

One chart per cluster: `helm/<cluster>/`. Its templates are plain manifests of the services
placed there (their share of the replicas), their Services, PodDisruptionBudgets and TLS
Secrets; `release` blocks are chart dependencies with their values in values.yaml.

Certificates of `ca` issuers are issued by berth on every build. They are not in this
directory: berth writes them, per cluster, to one Helm values file in its secrets directory
(mode 0600, `OUT.secrets` by default), `OUT.secrets/helm/<cluster>/secrets.yaml`. Pass it to
every install and upgrade; without it the chart's TLS Secrets fail to render, naming the file:

    helm dependency build OUT/helm/<cluster>      # only if Chart.yaml has dependencies
    helm upgrade --install <cluster> OUT/helm/<cluster> --namespace berth --create-namespace \\
        -f OUT.secrets/helm/<cluster>/secrets.yaml    # only if that file exists

Objects carry their own namespaces; the chart creates them (and keeps them on uninstall).
Vault certificates come through External Secrets (`ExternalSecret`), cert-manager ones through
`Certificate` objects: those operators must run on the cluster.
";

fn render_cluster(model: &Model, c: usize, cp: &ClusterPlan, issued: &Issued) -> Vec<File> {
    let cluster = &model.clusters[c];
    let mut files = Vec::new();
    let mut add =
        |path: String, contents: Vec<u8>, template: bool| files.push(File { path, contents, secret: false, template });

    let releases: Vec<&Release> = cp.releases.iter().map(|&r| &model.releases[r]).collect();
    add("Chart.yaml".into(), chart_yaml(model, c, &releases).into_bytes(), false);
    let by_ca = |ci: usize| {
        model.issuers.get(model.certificates[ci].issuer).is_some_and(|i| matches!(i.kind, IssuerKind::Ca { .. }))
    };
    let berth_issued: Vec<usize> = cp.certificates.keys().copied().filter(|&ci| by_ca(ci)).collect();
    add("values.yaml".into(), values_yaml(&cluster.meta.name, &releases, !berth_issued.is_empty()).into_bytes(), false);

    let action = |ci: usize, key: &str| {
        json!(tls::secret_value_action(&model.certificates[ci].meta.name, key, &cluster.meta.name))
    };
    for t in cluster_templates(model, c, cp, &action) {
        let manifests: Vec<Value> = t.objects.into_iter().map(|o| o.manifest).collect();
        add(t.path, YAML.documents(&manifests).into_bytes(), true);
    }
    if !berth_issued.is_empty() {
        let mut text = format!(
            "# The certificates berth issued for cluster {name}: helm install -f this file.\n\
             # It holds their private keys: keep it out of version control.\n",
            name = cluster.meta.name
        );
        text.push_str(&YAML.document(&tls::secrets_values(model, issued, &berth_issued)));
        // Not in the chart: the CLI writes it under the secrets directory, at the chart's path.
        files.push(File { path: "secrets.yaml".into(), contents: text.into_bytes(), secret: true, template: false });
    }
    files
}

fn chart_yaml(model: &Model, c: usize, releases: &[&Release]) -> String {
    let cluster = &model.clusters[c];
    let mut chart = Map::new();
    chart.insert("apiVersion".into(), json!("v2"));
    chart.insert("name".into(), json!(cluster.meta.name));
    chart.insert("description".into(), json!(format!("The workloads berth places on cluster {}.", cluster.meta.name)));
    chart.insert("type".into(), json!("application"));
    chart.insert("version".into(), json!(CHART_VERSION));
    if let Some(v) = kube_version(&cluster.version) {
        chart.insert("kubeVersion".into(), json!(v));
    }
    chart.insert("annotations".into(), Value::Object(address_annotation(&cluster.meta.address.to_string())));
    if !releases.is_empty() {
        chart.insert("dependencies".into(), releases.iter().map(|r| dependency(r)).collect());
    }
    YAML.document(&Value::Object(chart))
}

/// `>= MAJOR.MINOR.PATCH-0` for a cluster version like `1.31`, so that Helm also accepts
/// provider builds (`v1.31.2-eks-...`).
fn kube_version(version: &str) -> Option<String> {
    let parts: Vec<&str> = version.trim_start_matches('v').split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let get = |i: usize| parts.get(i).copied().unwrap_or("0");
    Some(format!(">= {}.{}.{}-0", get(0), get(1), get(2)))
}

/// A release as a chart dependency, aliased to the release's name.
fn dependency(r: &Release) -> Value {
    let (name, repository) = chart_source(&r.chart);
    json!({"name": name, "version": r.version.as_deref().unwrap_or("*"), "repository": repository, "alias": r.meta.name})
}

/// The chart name and repository of a `chart` reference.
fn chart_source(chart: &str) -> (String, String) {
    let chart = chart.trim_end_matches('/');
    if let Some(name) = chart.strip_prefix("stdlib/") {
        return (name.to_string(), STDLIB_REPOSITORY.to_string());
    }
    let (dir, name) = chart.rsplit_once('/').unwrap_or(("", chart));
    if chart.contains("://") {
        (name.to_string(), dir.to_string())
    } else {
        (name.to_string(), format!("file://{chart}"))
    }
}

fn values_yaml(cluster: &str, releases: &[&Release], berth_issued: bool) -> String {
    let mut out = String::from("# Values of the chart's dependencies, under the names of their `release` blocks.\n");
    if berth_issued {
        out.push_str(&format!(
            "# The certificates berth issues come in another values file, -f OUT.secrets/{}.\n",
            tls::secrets_values_path(cluster)
        ));
    }
    if releases.is_empty() {
        out.push_str(if berth_issued {
            "# This chart has none: its templates are plain manifests.\n"
        } else {
            "# This chart has none: its templates are plain manifests and take no values.\n"
        });
        return out;
    }
    let values: Map<String, Value> = releases
        .iter()
        .map(|r| (r.meta.name.to_string(), if r.values.is_null() { json!({}) } else { r.values.to_json() }))
        .collect();
    out.push_str(&YAML.document(&Value::Object(values)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_references() {
        assert_eq!(chart_source("stdlib/mongodb"), ("mongodb".into(), "@berth-stdlib".into()));
        assert_eq!(
            chart_source("oci://registry.example.com/charts/redis"),
            ("redis".into(), "oci://registry.example.com/charts".into())
        );
        assert_eq!(chart_source("./charts/app"), ("app".into(), "file://./charts/app".into()));
    }

    #[test]
    fn kube_versions() {
        assert_eq!(kube_version("1.31").as_deref(), Some(">= 1.31.0-0"));
        assert_eq!(kube_version("v1.30.2").as_deref(), Some(">= 1.30.2-0"));
        assert_eq!(kube_version("latest"), None);
    }
}

//! Kubernetes target: one Helm chart per cluster, with certificates as Secrets.
//!
//! For every cluster that runs something, `helm/<cluster>/` holds a chart whose templates are
//! plain Kubernetes manifests (one file per service share and per certificate), so that the
//! reviewed output reads like the objects it creates and parses as YAML without Helm:
//!
//! - each service share becomes a StatefulSet or Deployment with the share's replicas, its
//!   Service (headless with `publishNotReadyAddresses` where asked, so DNS waits cannot
//!   deadlock), a PodDisruptionBudget, and init containers that restore data (`restore_from`)
//!   and wait, bounded and with backoff, until the multi-cluster DNS names it needs resolve;
//! - each certificate becomes a `kubernetes.io/tls` Secret (issuer type `ca`: berth issues the
//!   certificate, writes it with every other one of the cluster to one Helm values file,
//!   `helm/<cluster>/secrets.yaml`, in the secrets directory, never in the reviewed output, and
//!   the template reads it from those values: `helm install -f .../secrets.yaml`), an External
//!   Secrets `ExternalSecret` (type `vault`) or a cert-manager `Certificate` (type
//!   `cert-manager`);
//! - `release` blocks become chart dependencies, their values under the release's name.
//!
//! The same objects also come as the objects `berth apply` sends through the Kubernetes API
//! ([`resources`], with the data of berth-issued certificates from [`secret_data`]).
//!
//! The chart module describes the layout, the tls module the certificate design, and the
//! resources module how secrets stay out of plans and state.

mod chart;
mod objects;
mod resources;
mod size;
mod tls;
mod workload;

use berth_diag::Diagnostics;
use berth_model::{EmitInput, Emitter, OutputTree};
use berth_plan::Resource;
pub use resources::SECRET_KEY;
use std::collections::BTreeMap;

/// Every Kubernetes object the charts of the spec's clusters hold (`release` dependencies
/// aside, which Helm fetches), as the objects `berth apply` sends: engine `kubernetes`, kind
/// `<apiVersion>/<Kind>` (`apps/v1/StatefulSet`, `v1/Service`), address
/// `<cluster address>:<kind>/<namespace>/<name>` (`<cluster address>:<kind>/<name>` for
/// cluster-scoped objects), attributes `cluster` (the kubeconfig context that reaches it) and
/// `manifest` (the object, without the labels the engine adds). Objects in a namespace berth
/// creates depend on its Namespace. The data of a berth-issued certificate's Secret is a
/// placeholder `{"$secret": DIGEST}` per key, stable between runs at `now_unix` of one renewal
/// period (the resources module says how); [`secret_data`] gives the bytes.
pub fn resources(input: EmitInput<'_>, now_unix: i64) -> Vec<Resource> {
    resources::resources(input.model, now_unix)
}

/// Issues the certificates berth issues, at `now_unix`, and gives the bytes behind every
/// placeholder that [`resources`] makes at the same time: DIGEST → PEM text. Secret: for the
/// engine only, never for plans, state or logs.
pub fn secret_data(input: EmitInput<'_>, now_unix: i64) -> (BTreeMap<String, Vec<u8>>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let data = resources::secret_data(input.model, now_unix, &mut diags);
    (data, diags)
}

/// The helm target.
#[derive(Debug, Default)]
pub struct HelmEmitter {
    /// When certificates are issued, in seconds since the Unix epoch (the CLI passes the
    /// clock in; the emitter never reads it).
    pub now_unix: i64,
    /// Threads that sign certificates; 0 takes what the machine offers (at most 8). The
    /// output is the same whatever the number.
    pub threads: usize,
}

impl Emitter for HelmEmitter {
    fn target(&self) -> &'static str {
        "helm"
    }

    fn emit(&self, input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        let mut diags = Diagnostics::new();
        let plan = chart::Plan::new(input.model);
        let issued = tls::Issued::issue(input.model, plan.certificates(), self.now_unix, self.threads, &mut diags);
        let tree = chart::render_all(input.model, &plan, &issued, self.threads, &mut diags);
        (tree, diags)
    }
}

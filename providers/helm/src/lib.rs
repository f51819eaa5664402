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
//! The chart module describes the layout and the tls module the certificate design.

mod chart;
mod size;
mod tls;
mod workload;

use berth_diag::Diagnostics;
use berth_model::{EmitInput, Emitter, OutputTree};

/// The helm target.
#[derive(Debug, Default)]
pub struct HelmEmitter {
    /// When certificates are issued, in seconds since the Unix epoch (the CLI passes the
    /// clock in; the emitter never reads it).
    pub now_unix: i64,
}

impl Emitter for HelmEmitter {
    fn target(&self) -> &'static str {
        "helm"
    }

    fn emit(&self, input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        let mut diags = Diagnostics::new();
        let plan = chart::Plan::new(input.model);
        let issued = tls::Issued::issue(input.model, plan.certificates(), self.now_unix, &mut diags);
        let tree = chart::render_all(input.model, &plan, &issued, &mut diags);
        (tree, diags)
    }
}

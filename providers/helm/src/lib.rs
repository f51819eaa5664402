//! Kubernetes target: one Helm chart per cluster, with certificates as Secrets.

use berth_diag::Diagnostics;
use berth_model::{EmitInput, Emitter, OutputTree};

/// The helm target.
#[derive(Debug, Default)]
pub struct HelmEmitter;

impl Emitter for HelmEmitter {
    fn target(&self) -> &'static str {
        "helm"
    }

    fn emit(&self, _input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        (OutputTree::new(), Diagnostics::new())
    }
}

//! Docker host target: daemon.json, compose.yaml, sysctl.d and cloud-init per host.

use berth_diag::Diagnostics;
use berth_model::{EmitInput, Emitter, OutputTree};

/// The docker target.
#[derive(Debug, Default)]
pub struct DockerEmitter;

impl Emitter for DockerEmitter {
    fn target(&self) -> &'static str {
        "docker"
    }

    fn emit(&self, _input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        (OutputTree::new(), Diagnostics::new())
    }
}

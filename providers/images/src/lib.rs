//! Images target: a Dockerfile per image (and daemonless OCI builds).

use berth_diag::Diagnostics;
use berth_model::{EmitInput, Emitter, OutputTree};

/// The images target.
#[derive(Debug, Default)]
pub struct ImagesEmitter;

impl Emitter for ImagesEmitter {
    fn target(&self) -> &'static str {
        "images"
    }

    fn emit(&self, _input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        (OutputTree::new(), Diagnostics::new())
    }
}

//! nftables target: per host a ruleset that forwards and filters what the spec's forwards allow.

use berth_diag::Diagnostics;
use berth_model::{EmitInput, Emitter, OutputTree};

/// The nftables target.
#[derive(Debug, Default)]
pub struct NftablesEmitter;

impl Emitter for NftablesEmitter {
    fn target(&self) -> &'static str {
        "nftables"
    }

    fn emit(&self, _input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        (OutputTree::new(), Diagnostics::new())
    }
}

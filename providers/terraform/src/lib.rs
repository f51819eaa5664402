//! Terraform target: the cloud side of a spec as Terraform HCL (and JSON).

use berth_diag::Diagnostics;
use berth_model::{EmitInput, Emitter, OutputTree};

/// The terraform target.
#[derive(Debug, Default)]
pub struct TerraformEmitter {
    /// Also write `.tf.json` files.
    pub json: bool,
}

impl Emitter for TerraformEmitter {
    fn target(&self) -> &'static str {
        "terraform"
    }

    fn emit(&self, _input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        (OutputTree::new(), Diagnostics::new())
    }
}

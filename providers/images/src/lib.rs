//! Images target: a Dockerfile per image, and — outside the pure emitter — daemonless,
//! reproducible builds into an OCI image layout and pushes to a registry.
//!
//! - [`ImagesEmitter`] writes `images/NAME/Dockerfile` and the files of each layer's
//!   `content` under `images/NAME/content/LAYER/` (pure, like every emitter);
//! - [`build_layout`] builds an image into an OCI image layout without a daemon: one
//!   uncompressed tar layer per spec layer, with fixed times, owners and modes and sorted
//!   entries, so the same spec and sources give the same digests on every run;
//! - [`push`] uploads a layout's image to a registry over the OCI distribution API, skipping
//!   the blobs the registry already has; [`build_and_push`] builds into a temporary layout
//!   first.

mod dockerfile;
mod error;
#[allow(clippy::disallowed_methods, reason = "the daemonless build reads layer sources")]
mod layer;
#[allow(clippy::disallowed_methods, reason = "the daemonless build reads the base layout and writes the image's")]
mod layout;
#[allow(clippy::disallowed_methods, reason = "a push reads the layout it uploads")]
mod push;

use berth_diag::Diagnostics;
use berth_model::{Cadence, EmitInput, Emitter, OutputTree};

pub use error::Error;
pub use layout::{Blob, ImageDigests, LayerDigest, SCRATCH, build_layout};
pub use push::{PushReport, build_and_push, push};

/// The images target.
#[derive(Debug, Default)]
pub struct ImagesEmitter;

impl Emitter for ImagesEmitter {
    fn target(&self) -> &'static str {
        "images"
    }

    fn emit(&self, input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        let mut tree = OutputTree::new();
        for image in &input.model.images {
            tree.merge_under(&image.meta.name, dockerfile::render(image));
        }
        (tree, Diagnostics::new())
    }
}

/// How often a layer changes, in words: "changes weekly".
fn cadence_phrase(cadence: Cadence) -> &'static str {
    match cadence {
        Cadence::Never => "never changes",
        Cadence::Yearly => "changes yearly",
        Cadence::Monthly => "changes monthly",
        Cadence::Weekly => "changes weekly",
        Cadence::Daily => "changes daily",
        Cadence::Release => "changes on every release",
    }
}

/// A destination path inside the image without its leading, trailing and doubled slashes:
/// `/opt/calc/` is `opt/calc`, `/` is empty.
fn relative_dest(dest: &str) -> String {
    dest.split('/').filter(|c| !c.is_empty()).collect::<Vec<_>>().join("/")
}

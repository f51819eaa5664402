//! Helm's release size limit.
//!
//! Helm keeps each release in a Secret: the release as JSON (chart templates and files
//! base64-encoded, values, and the rendered manifest), gzipped, base64-encoded. Kubernetes caps
//! a Secret at 1 MiB, so an install of a larger release fails, late and far from its cause.
//! [`release_bytes`] estimates that Secret's size for a chart: the stored chart files and the
//! manifest they render to (the templates, with the secrets values whose certificates the TLS
//! Secrets inline), compressed as Helm compresses them. The secrets values file is not a chart
//! file but the release's values; counting it like one (base64-encoded) overestimates a little.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

/// Kubernetes caps a Secret, and so a Helm release, at 1 MiB.
pub(crate) const RELEASE_LIMIT: usize = 1 << 20;

/// What the release JSON holds beyond the chart (metadata, status, hooks), generously.
const ENVELOPE: usize = 16 << 10;

/// One file of a chart, as Helm stores and renders it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChartFile<'a> {
    /// Its contents.
    pub(crate) contents: &'a [u8],
    /// A template: its text is rendered into the manifest.
    pub(crate) template: bool,
    /// A file the templates inline base64-encoded (the secrets values).
    pub(crate) inlined: bool,
}

/// The estimated size in bytes of the Secret that stores a release of a chart made of `files`.
pub(crate) fn release_bytes(files: &[ChartFile<'_>]) -> usize {
    let b64 = |n: usize| n.div_ceil(3) * 4;
    // Uncompressed, every byte of the JSON counts: if even that fits, no need to compress.
    let raw: usize = files
        .iter()
        .map(|f| {
            b64(f.contents.len())
                + if f.template { f.contents.len() } else { 0 }
                + if f.inlined { b64(f.contents.len()) } else { 0 }
        })
        .sum();
    if b64(raw + ENVELOPE) <= RELEASE_LIMIT {
        return b64(raw + ENVELOPE);
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    for f in files {
        let encoded = STANDARD.encode(f.contents);
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(encoded.as_bytes());
        if f.template {
            let _ = gz.write_all(f.contents);
        }
        if f.inlined {
            let _ = gz.write_all(encoded.as_bytes());
        }
    }
    let compressed = gz.finish().map_or(raw, |v| v.len());
    b64(compressed + ENVELOPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_charts_fit_without_compressing() {
        let t = b"apiVersion: v1\nkind: Service\n".repeat(100);
        let n = release_bytes(&[ChartFile { contents: &t, template: true, inlined: false }]);
        assert!(n < RELEASE_LIMIT && n > t.len());
    }

    #[test]
    fn repetitive_charts_compress_and_noise_does_not() {
        let t = b"apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: x\n".repeat(40_000);
        assert!(t.len() > RELEASE_LIMIT);
        assert!(release_bytes(&[ChartFile { contents: &t, template: true, inlined: false }]) < RELEASE_LIMIT);
        // An LCG's bytes do not compress: 600 KiB of them, stored and inlined, are too much.
        let mut x: u64 = 1;
        let noise: Vec<u8> = (0..600 << 10)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                (x >> 56) as u8
            })
            .collect();
        assert!(release_bytes(&[ChartFile { contents: &noise, template: false, inlined: true }]) > RELEASE_LIMIT);
    }
}

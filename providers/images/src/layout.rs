//! Daemonless builds into an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`).
//!
//! Layers are uncompressed tars (`application/vnd.oci.image.layer.v1.tar`): compression
//! would tie the digests to one version of a compressor, and the bulk of a JVM image, its
//! jars, is compressed already. Every JSON document is written with its object keys sorted,
//! so the digests depend on nothing but the spec, the layer sources and the base.

use crate::error::Error;
use crate::{cadence_phrase, layer};
use berth_model::Image;
use oci_spec::image::{
    Arch, Config, Descriptor, DescriptorBuilder, Digest, History, HistoryBuilder, ImageConfiguration, ImageIndex,
    ImageIndexBuilder, ImageManifest, ImageManifestBuilder, MediaType, Os,
};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The base that needs no layout: an empty file system.
pub const SCRATCH: &str = "scratch";

/// The annotation of `index.json` that names an image by its tag.
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The annotation containerd reads for the full reference.
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// A blob: its digest (`sha256:HEX`) and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Blob {
    /// `sha256:` and 64 hex digits.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
}

/// A layer the spec declares, as built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDigest {
    /// The layer's name in the spec.
    pub name: String,
    /// Its tar (uncompressed, so also its diff id).
    pub blob: Blob,
}

/// What a daemonless build wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDigests {
    /// The image manifest: its digest is the image's.
    pub manifest: Blob,
    /// The image configuration.
    pub config: Blob,
    /// The base image's layers, copied from the base layout.
    pub base_layers: Vec<Blob>,
    /// The spec's layers, in order.
    pub layers: Vec<LayerDigest>,
}

impl fmt::Display for ImageDigests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "manifest {} ({} bytes)", self.manifest.digest, self.manifest.size)?;
        writeln!(f, "config   {} ({} bytes)", self.config.digest, self.config.size)?;
        for b in &self.base_layers {
            writeln!(f, "base     {} ({} bytes)", b.digest, b.size)?;
        }
        for l in &self.layers {
            writeln!(f, "layer    {} ({} bytes) {}", l.blob.digest, l.blob.size, l.name)?;
        }
        Ok(())
    }
}

/// Builds `image` into the OCI image layout `out` (created if missing) without a daemon.
///
/// Layer sources are read relative to `spec_dir`. A `scratch` base needs nothing else; any
/// other base is read from the OCI layout `base_layout` (its manifest named by the base's
/// reference or tag, or its only one), since the build never pulls. Blobs already in `out`
/// stay (they are content-addressed); `index.json` then names this image alone, by its tag.
/// Layers with `run` commands need a daemon and are refused.
pub fn build_layout(
    image: &Image,
    spec_dir: &Path,
    out: &Path,
    base_layout: Option<&Path>,
) -> Result<ImageDigests, Error> {
    if let Some(l) = image.layers.iter().find(|l| !l.run.is_empty()) {
        return Err(Error::Unbuildable(format!(
            "layer {:?} of {} has `run` commands, which need a container to run in; build images/{}/Dockerfile with Docker instead",
            l.name, image.meta.address, image.meta.name
        )));
    }
    let base = match (image.base.as_str(), base_layout) {
        (SCRATCH, _) => Base::scratch(),
        (_, Some(dir)) => Base::read(dir, &image.base)?,
        (_, None) => {
            return Err(Error::Unbuildable(format!(
                "the base {:?} of {} would have to be pulled; pass --base-layout DIR with an OCI layout of it, or build images/{}/Dockerfile with Docker",
                image.base, image.meta.address, image.meta.name
            )));
        }
    };
    let store = Store::create(out)?;
    let mut base_layers = Vec::new();
    if let Some(dir) = &base.dir {
        for d in &base.layers {
            base_layers.push(store.copy_from(dir, d)?);
        }
    }
    let mut layers = Vec::new();
    for l in &image.layers {
        let blob = store.write_with(|w| layer::write_tar(l, spec_dir, w))?;
        layers.push(LayerDigest { name: l.name.clone(), blob });
    }
    let config = configuration(image, base.config, &layers)?;
    let config = store.write_json(&config)?;
    let mut descriptors = base.layers;
    for l in &layers {
        descriptors.push(descriptor(MediaType::ImageLayer, &l.blob, None)?);
    }
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(MediaType::ImageConfig, &config, None)?)
        .layers(descriptors)
        .build()
        .map_err(spec_error)?;
    let manifest = store.write_json(&manifest)?;
    let names = HashMap::from([
        (REF_NAME.to_string(), image.tag.clone()),
        (CONTAINERD_NAME.to_string(), format!("{}:{}", image.repository, image.tag)),
    ]);
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![descriptor(MediaType::ImageManifest, &manifest, Some(names))?])
        .build()
        .map_err(spec_error)?;
    store.replace(&out.join("index.json"), &canonical_json(&index)?)?;
    Ok(ImageDigests { manifest, config, base_layers, layers })
}

/// The image configuration: the base's, with the spec's layers, environment, labels,
/// entrypoint and command on top (an entrypoint resets the base's command, as in Docker).
fn configuration(
    image: &Image,
    mut config: ImageConfiguration,
    layers: &[LayerDigest],
) -> Result<ImageConfiguration, Error> {
    let mut exec: Config = config.config().clone().unwrap_or_default();
    let mut env = exec.env().clone().unwrap_or_default();
    for (key, value) in &image.env {
        let entry = format!("{key}={value}");
        match env.iter_mut().find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key) {
            Some(e) => *e = entry,
            None => env.push(entry),
        }
    }
    exec.set_env((!env.is_empty()).then_some(env));
    let mut labels = exec.labels().clone().unwrap_or_default();
    labels.extend(image.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    exec.set_labels((!labels.is_empty()).then_some(labels));
    if !image.entrypoint.is_empty() {
        exec.set_entrypoint(Some(image.entrypoint.clone()));
        exec.set_cmd(None);
    }
    if !image.cmd.is_empty() {
        exec.set_cmd(Some(image.cmd.clone()));
    }
    config.set_config(Some(exec));
    config.set_created(None);
    config.rootfs_mut().diff_ids_mut().extend(layers.iter().map(|l| l.blob.digest.clone()));
    let mut history = config.history().clone().unwrap_or_default();
    for (l, layer) in layers.iter().zip(&image.layers) {
        history.push(history_entry(&format!(
            "berth: layer {:?} of {}, {}",
            l.name,
            image.meta.address,
            cadence_phrase(layer.changes)
        ))?);
    }
    config.set_history(Some(history));
    Ok(config)
}

fn history_entry(created_by: &str) -> Result<History, Error> {
    HistoryBuilder::default().created_by(created_by).build().map_err(spec_error)
}

/// A descriptor of a blob.
fn descriptor(
    media_type: MediaType,
    blob: &Blob,
    annotations: Option<HashMap<String, String>>,
) -> Result<Descriptor, Error> {
    let digest = Digest::from_str(&blob.digest).map_err(spec_error)?;
    let builder = DescriptorBuilder::default().media_type(media_type).digest(digest).size(blob.size);
    match annotations {
        Some(a) => builder.annotations(a),
        None => builder,
    }
    .build()
    .map_err(spec_error)
}

fn spec_error(e: impl fmt::Display) -> Error {
    Error::Layout(e.to_string())
}

/// JSON with every object's keys sorted: oci-spec keeps labels and annotations in hash maps.
pub(crate) fn canonical_json(value: &impl Serialize) -> Result<Vec<u8>, Error> {
    let mut v = serde_json::to_value(value).map_err(spec_error)?;
    v.sort_all_objects();
    serde_json::to_vec(&v).map_err(spec_error)
}

/// The base image: its layers (as the base manifest describes them) and configuration.
struct Base {
    /// Its layout; none for scratch.
    dir: Option<PathBuf>,
    layers: Vec<Descriptor>,
    config: ImageConfiguration,
}

impl Base {
    fn scratch() -> Self {
        let mut config = ImageConfiguration::default();
        config.set_os(Os::Linux);
        config.set_architecture(Arch::default());
        Base { dir: None, layers: Vec::new(), config }
    }

    /// Reads the image `reference` from the OCI layout `dir`.
    fn read(dir: &Path, reference: &str) -> Result<Self, Error> {
        let index: ImageIndex = read_json(&dir.join("index.json"))?;
        let mut chosen = select(&index, reference, dir)?;
        if is_index(chosen.media_type()) {
            let nested: ImageIndex = read_json(&blob_path(dir, chosen.digest()))?;
            chosen = nested
                .manifests()
                .iter()
                .find(|m| {
                    m.platform().as_ref().is_some_and(|p| *p.os() == Os::Linux && *p.architecture() == Arch::default())
                })
                .cloned()
                .ok_or_else(|| {
                    Error::Layout(format!(
                        "{reference} in {} has no manifest for linux/{}",
                        dir.display(),
                        Arch::default()
                    ))
                })?;
        }
        let manifest: ImageManifest = read_json(&blob_path(dir, chosen.digest()))?;
        let config: ImageConfiguration = read_json(&blob_path(dir, manifest.config().digest()))?;
        if config.rootfs().diff_ids().len() != manifest.layers().len() {
            return Err(Error::Layout(format!(
                "{reference} in {}: the manifest has {} layers, the configuration {}",
                dir.display(),
                manifest.layers().len(),
                config.rootfs().diff_ids().len()
            )));
        }
        Ok(Base { dir: Some(dir.to_path_buf()), layers: manifest.layers().clone(), config })
    }
}

/// The manifest of `reference` in a layout's index: the one named by the full reference or
/// its tag, or the only one.
fn select(index: &ImageIndex, reference: &str, dir: &Path) -> Result<Descriptor, Error> {
    let name = reference.split('@').next().unwrap_or(reference);
    let tag = name.rsplit_once(':').filter(|(_, t)| !t.contains('/')).map_or("latest", |(_, t)| t);
    let name_of = |d: &Descriptor, key: &str| d.annotations().as_ref().and_then(|a| a.get(key)).cloned();
    let named: Vec<&Descriptor> = index
        .manifests()
        .iter()
        .filter(|d| {
            name_of(d, REF_NAME).is_some_and(|n| n == reference || n == tag)
                || name_of(d, CONTAINERD_NAME).is_some_and(|n| n == reference)
        })
        .collect();
    match (named.as_slice(), index.manifests().as_slice()) {
        ([one], _) => Ok((*one).clone()),
        ([], [only]) => Ok(only.clone()),
        _ => {
            let mut names: Vec<String> = index.manifests().iter().filter_map(|d| name_of(d, REF_NAME)).collect();
            names.sort();
            Err(Error::Layout(format!(
                "{} does not name exactly one image {reference:?}; it names {names:?}",
                dir.display()
            )))
        }
    }
}

fn is_index(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::ImageIndex)
        || media_type.to_string() == "application/vnd.docker.distribution.manifest.list.v2+json"
}

/// Where a layout keeps a blob.
pub(crate) fn blob_path(dir: &Path, digest: &Digest) -> PathBuf {
    dir.join("blobs").join(digest.algorithm().as_ref()).join(digest.digest())
}

/// Reads a JSON document of a layout.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Error> {
    let bytes = fs::read(path).map_err(Error::io(path))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Layout(format!("{}: {e}", path.display())))
}

/// The blobs directory of a layout being written.
struct Store {
    blobs: PathBuf,
}

impl Store {
    /// Creates `out/blobs/sha256` and `out/oci-layout`.
    fn create(out: &Path) -> Result<Self, Error> {
        let blobs = out.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).map_err(Error::io(&blobs))?;
        let store = Store { blobs };
        store.replace(&out.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        Ok(store)
    }

    /// Streams a blob through `write` into the store and returns its digest.
    fn write_with(&self, write: impl FnOnce(&mut Hashing<fs::File>) -> Result<(), Error>) -> Result<Blob, Error> {
        let (tmp, blob) = self.write_temp(write)?;
        self.commit(&tmp, blob)
    }

    /// Streams bytes through `write` into a temporary file of the store (removed on failure).
    fn write_temp(
        &self,
        write: impl FnOnce(&mut Hashing<fs::File>) -> Result<(), Error>,
    ) -> Result<(PathBuf, Blob), Error> {
        let tmp = self.temp_path();
        let file = fs::File::create(&tmp).map_err(Error::io(&tmp))?;
        let mut w = Hashing { inner: file, hasher: Sha256::new(), size: 0 };
        match write(&mut w).and_then(|()| w.inner.sync_all().map_err(Error::io(&tmp))) {
            Ok(()) => Ok((tmp, w.blob())),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// Moves a temporary file to its place as the blob `blob`.
    fn commit(&self, tmp: &Path, blob: Blob) -> Result<Blob, Error> {
        let path = self.blobs.join(hex(&blob.digest));
        fs::rename(tmp, &path).map_err(Error::io(&path))?;
        Ok(blob)
    }

    /// Writes a JSON document (keys sorted) as a blob.
    fn write_json(&self, value: &impl Serialize) -> Result<Blob, Error> {
        let bytes = canonical_json(value)?;
        self.write_with(|w| w.write_all(&bytes).map_err(Error::io(&self.blobs)))
    }

    /// Copies a blob of the layout `from` into the store, checking its digest and size.
    fn copy_from(&self, from: &Path, d: &Descriptor) -> Result<Blob, Error> {
        let src = blob_path(from, d.digest());
        let mut file = fs::File::open(&src).map_err(Error::io(&src))?;
        let (tmp, blob) = self.write_temp(|w| io::copy(&mut file, w).map(drop).map_err(Error::io(&src)))?;
        if blob.digest != d.digest().to_string() || blob.size != d.size() {
            let _ = fs::remove_file(&tmp);
            return Err(Error::Layout(format!(
                "{} does not match its digest {} and size {}",
                src.display(),
                d.digest(),
                d.size()
            )));
        }
        self.commit(&tmp, blob)
    }

    /// Replaces a file atomically.
    fn replace(&self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
        let tmp = self.temp_path();
        fs::write(&tmp, bytes).map_err(Error::io(&tmp))?;
        fs::rename(&tmp, path).map_err(Error::io(path))
    }

    /// A fresh temporary file name inside the store (so renames stay on one file system).
    fn temp_path(&self) -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        self.blobs.join(format!(".tmp-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)))
    }
}

/// The hex digits of a `sha256:` digest.
fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// A writer that hashes and counts what passes through.
pub(crate) struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W> Hashing<W> {
    fn blob(&self) -> Blob {
        Blob { digest: format!("sha256:{:x}", self.hasher.clone().finalize()), size: self.size }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

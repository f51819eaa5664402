//! Pushes an image from an OCI layout to a registry over the OCI distribution API: each
//! blob is looked up first (`HEAD`) and uploaded only when the registry lacks it (`POST` an
//! upload, then `PUT` the blob with its digest); the manifest goes last, under the tag.
//!
//! The client is `ureq` without TLS: this build pushes over plain HTTP, and only to a
//! registry on the loopback network (a local registry, a mirror or a tunnel).

use crate::error::Error;
use crate::layout::{Blob, REF_NAME, blob_path, build_layout, read_json};
use berth_model::Image;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use ureq::Agent;
use ureq::http::Response;

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// Where the image went: `HOST:PORT/REPOSITORY:TAG`.
    pub reference: String,
    /// The manifest put under the tag.
    pub manifest: Blob,
    /// Blobs the registry lacked, uploaded.
    pub uploaded: Vec<Blob>,
    /// Blobs the registry had, skipped.
    pub skipped: Vec<Blob>,
}

impl fmt::Display for PushReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "pushed {}@{}", self.reference, self.manifest.digest)?;
        let bytes: u64 = self.uploaded.iter().map(|b| b.size).sum();
        writeln!(f, "blobs: {} uploaded ({bytes} bytes), {} skipped", self.uploaded.len(), self.skipped.len())?;
        for b in &self.uploaded {
            writeln!(f, "uploaded {} ({} bytes)", b.digest, b.size)?;
        }
        for b in &self.skipped {
            writeln!(f, "skipped  {} ({} bytes)", b.digest, b.size)?;
        }
        Ok(())
    }
}

/// Pushes the image tagged `image.tag` in the OCI layout `layout` to `registry`
/// (`http://127.0.0.1:PORT`) as `image.repository` (less its registry host) and tag.
pub fn push(layout: &Path, image: &Image, registry: &str) -> Result<PushReport, Error> {
    let origin = loopback_origin(registry)?;
    let repository = repository_path(&image.repository)?;
    let tag = &image.tag;
    let index: ImageIndex = read_json(&layout.join("index.json"))?;
    let entry = index
        .manifests()
        .iter()
        .find(|d| d.annotations().as_ref().and_then(|a| a.get(REF_NAME)) == Some(tag))
        .ok_or_else(|| {
            Error::Layout(format!(
                "{} holds no image tagged {tag:?}; build it with `berth image build`",
                layout.display()
            ))
        })?;
    let manifest_path = blob_path(layout, entry.digest());
    let manifest_bytes = fs::read(&manifest_path).map_err(Error::io(&manifest_path))?;
    let manifest_blob =
        Blob { digest: format!("sha256:{:x}", Sha256::digest(&manifest_bytes)), size: manifest_bytes.len() as u64 };
    if manifest_blob.digest != entry.digest().to_string() {
        return Err(Error::Layout(format!("{} does not match its digest {}", manifest_path.display(), entry.digest())));
    }
    let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| Error::Layout(format!("{}: {e}", manifest_path.display())))?;
    let mut descriptors: Vec<&Descriptor> = Vec::new();
    for d in std::iter::once(manifest.config()).chain(manifest.layers()) {
        if !descriptors.iter().any(|seen| seen.digest() == d.digest()) {
            descriptors.push(d);
        }
    }

    let client = Client::new(&origin, &repository);
    client.check_api()?;
    let (mut uploaded, mut skipped) = (Vec::new(), Vec::new());
    for d in descriptors {
        let blob = Blob { digest: d.digest().to_string(), size: d.size() };
        if client.has_blob(&blob)? {
            skipped.push(blob);
        } else {
            client.upload_blob(&blob, &blob_path(layout, d.digest()))?;
            uploaded.push(blob);
        }
    }
    client.put_manifest(tag, entry.media_type().as_ref(), manifest_bytes, &manifest_blob)?;
    let host = origin.trim_start_matches("http://");
    Ok(PushReport { reference: format!("{host}/{repository}:{tag}"), manifest: manifest_blob, uploaded, skipped })
}

/// Builds `image` (layer sources relative to `spec_dir`, base from `base_layout`) into a
/// temporary layout, removed afterwards, and pushes it like [`push`].
pub fn build_and_push(
    image: &Image,
    spec_dir: &Path,
    base_layout: Option<&Path>,
    registry: &str,
) -> Result<PushReport, Error> {
    loopback_origin(registry)?;
    let dir = TempDir::create()?;
    build_layout(image, spec_dir, &dir.0, base_layout)?;
    push(&dir.0, image, registry)
}

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn create() -> Result<Self, Error> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        loop {
            let dir = std::env::temp_dir().join(format!(
                "berth-image-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            match fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(dir)(e)),
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `http://HOST[:PORT]` of a loopback registry URL.
fn loopback_origin(registry: &str) -> Result<String, Error> {
    let refuse = |why: &str| Error::Registry(format!("{registry:?}: {why}"));
    let Some(rest) = registry.strip_prefix("http://") else {
        return Err(refuse("expected http://HOST:PORT; this build has no TLS and pushes only to a loopback registry"));
    };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains(['/', '@', '?', '#']) {
        return Err(refuse("expected http://HOST:PORT with nothing after it"));
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(refuse("plain HTTP is allowed only to a loopback address (127.0.0.0/8, ::1, localhost)"));
    }
    Ok(format!("http://{authority}"))
}

/// The repository's path in the registry: the repository less a leading registry host
/// (a first component with a `.` or `:`, or `localhost`).
fn repository_path(repository: &str) -> Result<String, Error> {
    let path = match repository.split_once('/') {
        Some((host, rest)) if host.contains(['.', ':']) || host == "localhost" => rest,
        _ => repository,
    };
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
            && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
            && c.ends_with(|ch: char| ch.is_ascii_alphanumeric())
    };
    if path.split('/').all(component_ok) {
        Ok(path.to_string())
    } else {
        Err(Error::Registry(format!(
            "{repository:?} is not a repository name: lower-case letters, digits and separators"
        )))
    }
}

/// Requests to one repository of one registry.
struct Client {
    agent: Agent,
    origin: String,
    repository: String,
}

impl Client {
    fn new(origin: &str, repository: &str) -> Self {
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Client { agent, origin: origin.to_string(), repository: repository.to_string() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.origin, self.repository)
    }

    /// `GET /v2/`: the registry speaks the API and lets us in.
    fn check_api(&self) -> Result<(), Error> {
        let url = format!("{}/v2/", self.origin);
        let resp = self.agent.get(&url).call().map_err(|e| self.failed("GET", &url, e))?;
        match resp.status().as_u16() {
            200 => Ok(()),
            401 => Err(Error::Registry(format!("{url} asks for credentials, which berth does not send yet"))),
            _ => Err(unexpected("GET", &url, resp)),
        }
    }

    /// `HEAD /v2/REPO/blobs/DIGEST`: whether the registry has the blob.
    fn has_blob(&self, blob: &Blob) -> Result<bool, Error> {
        let url = self.url(&format!("blobs/{}", blob.digest));
        let resp = self.agent.head(&url).call().map_err(|e| self.failed("HEAD", &url, e))?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(unexpected("HEAD", &url, resp)),
        }
    }

    /// A monolithic upload: `POST /v2/REPO/blobs/uploads/`, then `PUT LOCATION?digest=`.
    fn upload_blob(&self, blob: &Blob, path: &Path) -> Result<(), Error> {
        let url = self.url("blobs/uploads/");
        let resp = self.agent.post(&url).send_empty().map_err(|e| self.failed("POST", &url, e))?;
        if resp.status().as_u16() != 202 {
            return Err(unexpected("POST", &url, resp));
        }
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Registry(format!("POST {url} gave no upload location")))?;
        let mut put = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}{location}", self.origin)
        };
        put.push(if put.contains('?') { '&' } else { '?' });
        put.push_str(&format!("digest={}", blob.digest.replace(':', "%3A")));
        let file = fs::File::open(path).map_err(Error::io(path))?;
        let resp = self
            .agent
            .put(&put)
            .header("content-type", "application/octet-stream")
            .send(file)
            .map_err(|e| self.failed("PUT", &put, e))?;
        if resp.status().as_u16() != 201 {
            return Err(unexpected("PUT", &put, resp));
        }
        Ok(())
    }

    /// `PUT /v2/REPO/manifests/TAG`; the registry must agree on the digest.
    fn put_manifest(&self, tag: &str, media_type: &str, bytes: Vec<u8>, blob: &Blob) -> Result<(), Error> {
        let url = self.url(&format!("manifests/{tag}"));
        let resp = self
            .agent
            .put(&url)
            .header("content-type", media_type)
            .send(bytes)
            .map_err(|e| self.failed("PUT", &url, e))?;
        if resp.status().as_u16() != 201 {
            return Err(unexpected("PUT", &url, resp));
        }
        match resp.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()) {
            Some(d) if d != blob.digest => {
                Err(Error::Registry(format!("PUT {url}: the registry computed {d}, berth {}", blob.digest)))
            }
            _ => Ok(()),
        }
    }

    fn failed(&self, method: &str, url: &str, e: ureq::Error) -> Error {
        Error::Registry(format!("{method} {url}: {e} (is a registry listening on {}?)", self.origin))
    }
}

/// An unexpected status, with the start of the registry's explanation.
fn unexpected(method: &str, url: &str, mut resp: Response<ureq::Body>) -> Error {
    let status = resp.status();
    let body = resp.body_mut().with_config().limit(4096).read_to_string().unwrap_or_default();
    Error::Registry(format!("{method} {url}: {status} {}", body.trim()))
}

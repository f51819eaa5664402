//! Daemonless builds into an OCI image layout: the same spec gives the same digests, a change
//! to the fast layer changes only that layer, the configuration and the manifest, layers are
//! normalised tars, and a base image comes from a local layout.

#![allow(clippy::disallowed_methods, reason = "tests read the layouts they build")]

use berth_images::{Error, ImageDigests, build_layout};
use berth_model::Image;
use berth_tests::TempDir;
use std::fs;
use std::path::{Path, PathBuf};

const SPEC: &str = "providers/images/tests/specs/layered.hcl";
const RELEASE_2: &str = "providers/images/tests/specs/release-2.json";

/// The image of the layered spec, with variable files.
fn layered(var_files: &[&str]) -> Image {
    let (mut model, _) = berth_tests::compile(SPEC, var_files);
    model.images.remove(0)
}

fn spec_dir() -> PathBuf {
    berth_tests::root().join("providers/images/tests/specs")
}

fn build(image: &Image, out: &Path, base: Option<&Path>) -> ImageDigests {
    build_layout(image, &spec_dir(), out, base).unwrap_or_else(|e| panic!("build failed: {e}"))
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let path = layout.join("blobs/sha256").join(digest.trim_start_matches("sha256:"));
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(layout: &Path, digest: &str) -> serde_json::Value {
    serde_json::from_slice(&blob(layout, digest)).expect("JSON blob")
}

#[test]
fn the_same_spec_gives_the_same_digests_on_every_run() {
    let (a, b) = (TempDir::new("images-a"), TempDir::new("images-b"));
    let image = layered(&[]);
    let first = build(&image, a.path(), None);
    let second = build(&image, b.path(), None);
    assert_eq!(first, second);
    assert_eq!(fs::read(a.path().join("index.json")).ok(), fs::read(b.path().join("index.json")).ok());
    // Pinned: nothing of the machine (umask, directory order, clock, user) reaches a digest.
    let layers: Vec<(&str, &str)> = first.layers.iter().map(|l| (l.name.as_str(), l.blob.digest.as_str())).collect();
    assert_eq!(
        layers,
        [
            ("libs", "sha256:bb8d0640ebf7d723ebd4d55256b97721d9aaa8b89808452645c63becacb25243"),
            ("bin", "sha256:fd691a86f289aae07651ae6426b8c793b0a719b3dbb5a25ab665abad768cc8ef"),
            ("release", "sha256:503963e910fdb8d9ad776ae2c26789fe2592c740fcdd7fff143634a87ea1abcd"),
        ]
    );
    assert!(first.base_layers.is_empty());
}

#[test]
fn a_change_to_the_fast_layer_changes_only_it_the_config_and_the_manifest() {
    let (a, b) = (TempDir::new("images-v1"), TempDir::new("images-v2"));
    let v1 = build(&layered(&[]), a.path(), None);
    let v2 = build(&layered(&[RELEASE_2]), b.path(), None);
    let changed: Vec<&str> =
        v1.layers.iter().zip(&v2.layers).filter(|(x, y)| x.blob != y.blob).map(|(x, _)| x.name.as_str()).collect();
    assert_eq!(changed, ["release"]);
    assert_ne!(v1.config, v2.config);
    assert_ne!(v1.manifest, v2.manifest);
}

/// (path, type, mode, uid, gid, mtime, link target) of every entry of a layer.
type Entry = (String, char, u32, u64, u64, u64, String);

fn entries(layout: &Path, digest: &str) -> Vec<Entry> {
    let bytes = blob(layout, digest);
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut out = Vec::new();
    for e in archive.entries().expect("a tar") {
        let e = e.expect("an entry");
        let h = e.header();
        let kind = match h.entry_type() {
            tar::EntryType::Directory => 'd',
            tar::EntryType::Regular => 'f',
            tar::EntryType::Symlink => 'l',
            other => panic!("unexpected entry type {other:?}"),
        };
        let link = e.link_name().expect("link name").map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
        let path = e.path().expect("path").to_string_lossy().into_owned();
        out.push((
            path,
            kind,
            h.mode().expect("mode"),
            h.uid().expect("uid"),
            h.gid().expect("gid"),
            h.mtime().expect("mtime"),
            link,
        ));
    }
    out
}

#[test]
fn layers_are_sorted_owned_by_root_timeless_and_with_fixed_modes() {
    let dir = TempDir::new("images-tar");
    let built = build(&layered(&[]), dir.path(), None);
    let entry = |path: &str, kind, mode, link: &str| (path.to_string(), kind, mode, 0, 0, 0, link.to_string());
    assert_eq!(
        entries(dir.path(), &built.layers[0].blob.digest),
        [
            entry("opt/", 'd', 0o755, ""),
            entry("opt/app/", 'd', 0o755, ""),
            entry("opt/app/lib/", 'd', 0o755, ""),
            entry("opt/app/lib/core.txt", 'f', 0o644, ""),
            entry("opt/app/lib/native/", 'd', 0o755, ""),
            entry("opt/app/lib/native/libfast.so", 'f', 0o644, ""),
            entry("opt/app/lib/native/libfast.so.1", 'l', 0o777, "libfast.so"),
        ]
    );
    assert_eq!(
        entries(dir.path(), &built.layers[1].blob.digest).last(),
        Some(&entry("opt/app/bin/run", 'f', 0o755, ""))
    );
    let release: Vec<String> = entries(dir.path(), &built.layers[2].blob.digest).into_iter().map(|e| e.0).collect();
    assert_eq!(release, ["etc/", "etc/app/", "etc/app/release.conf", "opt/", "opt/app/", "opt/app/VERSION"]);
}

#[test]
fn the_configuration_carries_the_spec_and_the_manifest_lists_every_layer() {
    let dir = TempDir::new("images-config");
    let built = build(&layered(&[]), dir.path(), None);
    let config = json(dir.path(), &built.config.digest);
    assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/opt/app/bin/run"]));
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["--serve"]));
    assert_eq!(config["config"]["Env"], serde_json::json!(["APP_HOME=/opt/app"]));
    assert_eq!(config["config"]["Labels"]["org.opencontainers.image.version"], "1.0.0");
    assert_eq!(config["os"], "linux");
    let diff_ids: Vec<String> = built.layers.iter().map(|l| l.blob.digest.clone()).collect();
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!(diff_ids));
    assert_eq!(config["history"].as_array().map(Vec::len), Some(3));
    let manifest = json(dir.path(), &built.manifest.digest);
    assert_eq!(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(manifest["config"]["digest"], built.config.digest.as_str());
    let layers: Vec<&str> =
        manifest["layers"].as_array().expect("layers").iter().map(|l| l["digest"].as_str().expect("digest")).collect();
    assert_eq!(layers, diff_ids);
    assert!(
        manifest["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .all(|l| l["mediaType"] == "application/vnd.oci.image.layer.v1.tar")
    );
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("index.json")).expect("index.json")).expect("JSON");
    assert_eq!(index["manifests"][0]["digest"], built.manifest.digest.as_str());
    assert_eq!(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "test");
    assert_eq!(
        fs::read_to_string(dir.path().join("oci-layout")).ok().as_deref(),
        Some(r#"{"imageLayoutVersion":"1.0.0"}"#)
    );
}

#[test]
fn a_base_image_comes_from_a_local_layout_and_is_never_pulled() {
    let (base_dir, out) = (TempDir::new("images-base"), TempDir::new("images-derived"));
    let base = build(&layered(&[]), base_dir.path(), None);
    let mut derived = layered(&[RELEASE_2]);
    derived.base = "registry.example.com/berth/layered:test".into();
    derived.layers.retain(|l| l.name == "release");
    derived.entrypoint.clear();
    derived.cmd = vec!["--debug".into()];
    derived.env.insert("MODE".into(), "debug".into());

    let refused = build_layout(&derived, &spec_dir(), out.path(), None).expect_err("no base layout");
    assert!(matches!(&refused, Error::Unbuildable(m) if m.contains("--base-layout")), "{refused}");

    let built = build(&derived, out.path(), Some(base_dir.path()));
    let base_layers: Vec<_> = base.layers.iter().map(|l| l.blob.clone()).collect();
    assert_eq!(built.base_layers, base_layers);
    let config = json(out.path(), &built.config.digest);
    assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/opt/app/bin/run"]), "the base's entrypoint stays");
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["--debug"]));
    assert_eq!(config["config"]["Env"], serde_json::json!(["APP_HOME=/opt/app", "MODE=debug"]));
    assert_eq!(config["rootfs"]["diff_ids"].as_array().map(Vec::len), Some(4));
    assert_eq!(config["history"].as_array().map(Vec::len), Some(4));
    for b in &built.base_layers {
        assert_eq!(blob(out.path(), &b.digest), blob(base_dir.path(), &b.digest));
    }
}

#[test]
fn run_commands_and_escaping_paths_are_refused() {
    let dir = TempDir::new("images-refused");
    let mut image = layered(&[]);
    image.layers[1].run = vec!["chmod +x /opt/app/bin/run".into()];
    let e = build_layout(&image, &spec_dir(), dir.path(), None).expect_err("run needs a daemon");
    assert!(matches!(&e, Error::Unbuildable(m) if m.contains("`run`")), "{e}");
    let mut image = layered(&[]);
    image.layers[1].files.insert("/etc/passwd".into(), "../../../etc/passwd".into());
    let e = build_layout(&image, &spec_dir(), dir.path(), None).expect_err("sources stay in the spec's directory");
    assert!(e.to_string().contains("inside the spec's directory"), "{e}");
}

#[test]
fn a_source_link_that_leads_out_of_the_spec_directory_is_refused() {
    let specs = TempDir::new("images-link-specs");
    std::os::unix::fs::symlink("/etc", specs.path().join("host-etc")).expect("symlink");
    let out = TempDir::new("images-link-out");
    let mut image = layered(&[]);
    let mut layer = image.layers.remove(1);
    layer.files = [("/copied".to_string(), "host-etc".to_string())].into();
    layer.content.clear();
    image.layers = vec![layer];
    let e = build_layout(&image, specs.path(), out.path(), None).expect_err("the link leads to /etc");
    assert!(e.to_string().contains("inside the spec's directory"), "{e}");
}

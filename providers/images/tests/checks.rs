//! The check stage's image rules that the builds rely on: a valid base reference or
//! `scratch`, a valid reference to push to, and layer names, paths and values a Dockerfile
//! and a layer can hold.

use berth_diag::Sources;
use berth_resolve::{Inputs, MemoryLoader, resolve};

/// `code: message` of every diagnostic of a one-file spec.
fn diagnostics(spec: &str) -> Vec<String> {
    let loader = MemoryLoader { files: vec![("spec.hcl".into(), spec.into())] };
    let mut sources = Sources::new();
    let (resolved, mut diags) = resolve(&loader, &mut sources, "spec.hcl", &Inputs::default());
    let (_, more) = berth_check::check(resolved.expect("resolved"), berth_check::CheckContext { now_unix: 0 });
    diags.extend(more);
    diags.sorted().iter().map(|d| format!("{}: {}", d.code.name, d.message)).collect()
}

fn image(base: &str, layer: &str) -> String {
    format!("image \"app\" {{\n  base       = \"{base}\"\n  repository = \"registry.example.com/app\"\n{layer}\n}}\n")
}

#[test]
fn the_base_is_scratch_or_a_valid_reference() {
    for base in [
        "scratch",
        "eclipse-temurin:21-jre",
        "registry.example.com:5000/team/base:1.2@sha256:0123456789abcdef0123456789abcdef",
    ] {
        assert_eq!(diagnostics(&image(base, "")), Vec::<String>::new(), "{base}");
    }
    let diags = diagnostics(&image("Registry.example.com/Team/Base:1", ""));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].starts_with("format::image: "), "{diags:?}");
}

#[test]
fn the_repository_and_tag_form_a_valid_reference() {
    let diags = diagnostics(&image("scratch", "  tag = \"release 1\""));
    assert_eq!(
        diags,
        [
            r#"format::image: image.app is pushed as "registry.example.com/app:release 1" is not a valid image reference: a tag is 1-128 letters, digits, '_', '.' or '-'"#
        ]
    );
}

#[test]
fn layer_paths_stay_inside_the_image_and_the_spec() {
    let layer = r#"
  env = { "A B" = "x" }
  layer "../up" {
    files   = { "opt/app" = "build/app", "/opt/lib" = "../outside", "/opt/etc" = "/etc" }
    content = { "/opt/app/../VERSION" = "1", "/opt/dir/" = "x" }
    run     = ["echo one\necho two"]
  }"#;
    let diags = diagnostics(&image("scratch", layer));
    assert_eq!(
        diags,
        [
            r#"schema::invalid-value: image.app sets the environment variable "A B" to "x""#,
            r#"schema::invalid-value: image.app layer "../up" copies from "../outside""#,
            r#"schema::invalid-value: image.app layer "../up" copies from "/etc""#,
            r#"schema::invalid-value: image.app layer "../up" copies to "opt/app""#,
            r#"schema::invalid-value: image.app layer "../up" generates "/opt/app/../VERSION""#,
            r#"schema::invalid-value: image.app layer "../up" generates "/opt/dir/""#,
            r#"schema::invalid-value: image.app layer "../up" has a `run` command of several lines"#,
            r#"schema::invalid-value: image.app names a layer "../up""#,
        ]
    );
}

//! The real Terraform judges the target's output for every example (the fleet with
//! `examples/fleet/fleet-1.json`) and the small cloud spec of `tests/specs/cloud`:
//!
//! - `terraform fmt -check -diff` finds every `.tf` file in canonical format;
//! - `terraform validate` with the real hashicorp/aws 3.39.0 provider, installed offline from
//!   the filesystem mirror of tests/setup.sh, accepts both the `.tf` and the `.tf.json`
//!   module (an override file pins 3.39.0 over the configuration's `~> 5.80`);
//! - every resource and data type, argument and nested block of the JSON configuration exists
//!   in the schema the provider itself reports (`terraform providers schema -json`), with a
//!   value of the right type, and required ones are set. That build of Terraform skips
//!   unknown arguments during validate, so this check is the one that catches them.
//!
//! aws 3.39.0 is from May 2021; the configuration is written for aws 5.x. What 3.39.0 lacks
//! is listed in [`SCHEMA_GAPS`] and [`VALIDATE_GAPS`] and tolerated there, nowhere else.
//!
//! Terraform is the CloudRail build of 0.15.0-rc2: it writes logs to stderr and prefixes its
//! standard output with `o:`, both of which are stripped here.

#![allow(clippy::disallowed_methods, reason = "tests write files and run tools")]

mod common;

use berth_tests::TempDir;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The provider release that validates the output.
const AWS_VALIDATE_VERSION: &str = "3.39.0";

/// Arguments and blocks that the configuration writes for aws 5.x and aws 3.39.0 does not
/// know: (resource type, name, why it is written anyway).
const SCHEMA_GAPS: &[(&str, &str, &str)] = &[
    (
        "aws_lb_listener",
        "tags",
        "listener tags arrived in aws 3.40 (hashicorp/terraform-provider-aws#19286); every taggable resource is tagged",
    ),
    ("aws_eks_node_group", "taint", "node group taints arrived after 3.39; written only for pools with taints"),
    (
        "aws_eks_addon",
        "configuration_values",
        "add-on configuration arrived in aws 4.x; written only for clusters with prefix delegation",
    ),
];

/// Validation errors of aws 3.39.0 that are its age, not faults: (exact summary, why).
const VALIDATE_GAPS: &[(&str, &str)] = &[(
    "expected ami_type to be one of [AL2_x86_64 AL2_x86_64_GPU AL2_ARM_64], got AL2023_x86_64_STANDARD",
    "AL2023 node AMIs postdate 3.39; node groups whose launch template carries a NodeConfig need them",
)];

/// Meta-arguments every resource and data block takes.
const META: &[&str] = &["provider", "depends_on", "count", "for_each", "lifecycle"];

/// Every case: (label, Terraform files by relative path), emitted once per test binary.
fn cases() -> &'static [(String, BTreeMap<String, String>)] {
    static CASES: OnceLock<Vec<(String, BTreeMap<String, String>)>> = OnceLock::new();
    CASES.get_or_init(|| {
        let mut cases: Vec<(String, BTreeMap<String, String>)> = common::examples()
            .into_iter()
            .map(|(spec, vars)| {
                let files = common::emit(&spec, &vars.iter().map(String::as_str).collect::<Vec<_>>());
                (spec.trim_start_matches("examples/").to_string(), files)
            })
            .collect();
        cases.push(("cloud".to_string(), common::cloud("hosts-4")));
        assert!(cases.len() >= 4, "the examples and the cloud spec");
        cases
    })
}

/// Writes a case's files under `dir`.
fn write(dir: &Path, files: &BTreeMap<String, String>) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
}

/// Terraform from tests/setup.sh, installing providers only from its filesystem mirror.
struct Terraform {
    bin: PathBuf,
    config: PathBuf,
    _dir: TempDir,
}

impl Terraform {
    fn new(label: &str) -> Self {
        let tools = berth_tests::tools();
        let dir = TempDir::new(&format!("terraform-cli-{label}"));
        let config = dir.path().join("terraform.rc");
        let mirror = tools.join("tf-mirror");
        assert!(mirror.is_dir(), "{} is missing: run tests/setup.sh", mirror.display());
        std::fs::write(
            &config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
                mirror.display().to_string()
            ),
        )
        .unwrap();
        Terraform { bin: tools.join("bin/terraform"), config, _dir: dir }
    }

    /// Runs terraform in `dir`: (success, exit code, standard output without `o:`/`e:`).
    fn run(&self, dir: &Path, args: &[&str]) -> (bool, Option<i32>, String) {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(dir)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_CLI_CONFIG_FILE", &self.config)
            .env_remove("TF_LOG")
            .env_remove("TF_PLUGIN_CACHE_DIR");
        let out = berth_tests::output_within(&mut cmd, std::time::Duration::from_secs(300));
        let stdout = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.strip_prefix("o:").or_else(|| l.strip_prefix("e:")).unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("Error")).take(20).collect();
        let text =
            if out.status.success() || errors.is_empty() { stdout } else { format!("{stdout}\n{}", errors.join("\n")) };
        (out.status.success(), out.status.code(), text)
    }

    /// `terraform init` with aws pinned to [`AWS_VALIDATE_VERSION`] by an override file.
    fn init(&self, dir: &Path) {
        std::fs::write(
            dir.join("berth_test_override.tf"),
            format!("terraform {{\n  required_providers {{\n    aws = {{\n      source  = \"hashicorp/aws\"\n      version = \"{AWS_VALIDATE_VERSION}\"\n    }}\n  }}\n}}\n"),
        )
        .unwrap();
        let (ok, _, out) = self.run(dir, &["init", "-backend=false", "-input=false", "-no-color"]);
        assert!(ok, "terraform init in {}:\n{out}", dir.display());
    }
}

#[test]
fn terraform_fmt_changes_nothing() {
    let tf = Terraform::new("fmt");
    for (label, files) in cases() {
        let dir = TempDir::new(&format!("terraform-fmt-{label}"));
        write(dir.path(), files);
        let (ok, code, out) = tf.run(dir.path(), &["fmt", "-check", "-diff", "-no-color", "."]);
        assert!(ok, "{label}: terraform fmt -check exited {code:?}:\n{out}");
    }
}

#[test]
fn terraform_validate_accepts_hcl_and_json_with_aws_3() {
    let tf = Terraform::new("validate");
    for (label, files) in cases() {
        let dir = TempDir::new(&format!("terraform-validate-{label}"));
        write(dir.path(), files);
        for module in [dir.path().to_path_buf(), dir.path().join("json")] {
            tf.init(&module);
            let (_, _, out) = tf.run(&module, &["validate", "-json", "-no-color"]);
            let report: Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{label}: validate -json: {e}\n{out}"));
            let problems: Vec<String> = report["diagnostics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["severity"] == "error")
                .filter(|d| !VALIDATE_GAPS.iter().any(|(summary, _)| d["summary"] == *summary))
                .map(|d| {
                    format!(
                        "{}:{}: {} {}",
                        d["range"]["filename"], d["range"]["start"]["line"], d["summary"], d["detail"]
                    )
                })
                .collect();
            assert!(
                problems.is_empty(),
                "{label} ({}): terraform validate:\n{}",
                module.display(),
                problems.join("\n")
            );
            assert!(report["diagnostics"].is_array(), "{label}: no validate report:\n{out}");
        }
    }
}

/// The resource and data source schemas of aws 3.39.0, from the provider itself.
fn provider_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let tf = Terraform::new("schema");
        let dir = TempDir::new("terraform-schema");
        std::fs::write(dir.path().join("main.tf"), "").unwrap();
        tf.init(dir.path());
        let (ok, _, out) = tf.run(dir.path(), &["providers", "schema", "-json"]);
        assert!(ok, "terraform providers schema:\n{out}");
        let all: Value = serde_json::from_str(&out).expect("providers schema -json");
        all["provider_schemas"]["registry.terraform.io/hashicorp/aws"].clone()
    })
}

/// Checks a body against a block schema; problems go to `out` as `where: what`.
fn check_body(ty: &str, body: &Map<String, Value>, block: &Value, at: &str, out: &mut Vec<String>) {
    let attrs = block["attributes"].as_object().cloned().unwrap_or_default();
    let blocks = block["block_types"].as_object().cloned().unwrap_or_default();
    for (key, value) in body {
        let here = format!("{at}.{key}");
        if let Some(a) = attrs.get(key) {
            if a["optional"] != true && a["required"] != true {
                out.push(format!("{here}: computed only, cannot be set"));
            }
            check_type(value, &a["type"], &here, out);
        } else if let Some(b) = blocks.get(key) {
            let items: Vec<&Map<String, Value>> = match value {
                Value::Object(o) => vec![o],
                Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
                _ => {
                    out.push(format!("{here}: a block written as an argument"));
                    continue;
                }
            };
            if b["max_items"].as_u64().is_some_and(|m| items.len() as u64 > m) {
                out.push(format!("{here}: {} blocks, at most {}", items.len(), b["max_items"]));
            }
            for item in items {
                check_body(ty, item, &b["block"], &here, out);
            }
        } else {
            let meta = at.matches('.').count() == 1 && META.contains(&key.as_str());
            let gap = SCHEMA_GAPS.iter().any(|&(t, n, _)| t == ty && n == key);
            if !meta && !gap {
                out.push(format!("{here}: no such argument or block in aws {AWS_VALIDATE_VERSION}"));
            }
        }
    }
    for (name, a) in &attrs {
        if a["required"] == true && !body.contains_key(name) {
            out.push(format!("{at}: required argument {name} missing"));
        }
    }
    for (name, b) in &blocks {
        if b["min_items"].as_u64().unwrap_or(0) > 0 && !body.contains_key(name) {
            out.push(format!("{at}: required block {name} missing"));
        }
    }
}

/// Checks a JSON value against a cty type; `"${...}"` expressions may have any type.
fn check_type(value: &Value, ty: &Value, at: &str, out: &mut Vec<String>) {
    if let Value::String(s) = value
        && s.starts_with("${")
        && s.ends_with('}')
        && s.matches("${").count() == 1
    {
        return;
    }
    let ok = match (ty, value) {
        (Value::String(t), v) => match t.as_str() {
            "string" => v.is_string(),
            "number" => v.is_number(),
            "bool" => v.is_boolean(),
            _ => true,
        },
        (Value::Array(t), Value::Array(items)) if matches!(t[0].as_str(), Some("list" | "set")) => {
            for (i, item) in items.iter().enumerate() {
                check_type(item, &t[1], &format!("{at}[{i}]"), out);
            }
            true
        }
        (Value::Array(t), Value::Object(entries)) if t[0] == "map" => {
            for (k, item) in entries {
                check_type(item, &t[1], &format!("{at}.{k}"), out);
            }
            true
        }
        (Value::Array(t), Value::Object(entries)) if t[0] == "object" => entries.keys().all(|k| t[1].get(k).is_some()),
        _ => false,
    };
    if !ok {
        out.push(format!("{at}: {value} is not of type {ty}"));
    }
}

#[test]
fn every_emitted_argument_is_in_the_aws_provider_schema() {
    let schema = provider_schema();
    let sections = [("resource", "resource_schemas"), ("data", "data_source_schemas")];
    for (label, files) in cases() {
        let config = common::json_config(files);
        let mut problems = Vec::new();
        let mut checked = 0;
        for (section, key) in sections {
            for (ty, named) in config.get(section).and_then(Value::as_object).into_iter().flatten() {
                let Some(s) = schema[key].get(ty) else {
                    problems.push(format!("{section} type {ty} does not exist in aws {AWS_VALIDATE_VERSION}"));
                    continue;
                };
                for (name, body) in named.as_object().unwrap() {
                    check_body(ty, body.as_object().unwrap(), &s["block"], &format!("{ty}.{name}"), &mut problems);
                    checked += 1;
                }
            }
        }
        for body in config
            .get("provider")
            .and_then(|p| p.get("aws"))
            .into_iter()
            .flat_map(|p| if let Value::Array(a) = p { a.clone() } else { vec![p.clone()] })
        {
            let mut body = body.as_object().unwrap().clone();
            body.remove("alias");
            check_body("provider", &body, &schema["provider"]["block"], "provider.aws", &mut problems);
        }
        assert!(checked > 0, "{label}: nothing checked");
        assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
    }
}

#[test]
fn the_tolerated_gaps_are_real() {
    // A gap that 3.39.0 knows after all is stale and must go from the list.
    let schema = provider_schema();
    for &(ty, name, why) in SCHEMA_GAPS {
        let block = &schema["resource_schemas"][ty]["block"];
        assert!(block.is_object(), "{ty} unknown to aws {AWS_VALIDATE_VERSION}");
        assert!(
            block["attributes"].get(name).is_none() && block["block_types"].get(name).is_none(),
            "{ty}.{name} exists in aws {AWS_VALIDATE_VERSION}: {why}"
        );
    }
}

//! The charts of every example, judged by the real tools that install them: `helm lint` of
//! Helm v4's library (two builds of it), an offline render, and strict Kubernetes 1.31 schemas
//! for every rendered object. Needs tests/setup.sh (`berth_tests::tools()`).

#![allow(clippy::disallowed_methods, reason = "the test writes charts to disk for the real tools")]

use berth_helm::HelmEmitter;
use berth_tests::{FIXED_NOW_UNIX, TempDir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The Kubernetes version the examples' clusters run.
const KUBE: &str = "1.31";

/// How long check_charts.py may take for every chart.
const CHECK_LIMIT: Duration = Duration::from_secs(600);

/// Renders a spec's charts into `dir`, and the secret files apart from them into `dir.secrets`,
/// as the CLI writes its secrets directory. Returns the arguments of check_charts.py: each
/// chart directory, followed by `-f SECRETS_VALUES` when berth issued certificates for it.
fn write_charts(spec: &str, var_files: &[&str], dir: &Path) -> Vec<PathBuf> {
    let (tree, diags) = berth_tests::emit(&HelmEmitter { now_unix: FIXED_NOW_UNIX, threads: 0 }, spec, var_files);
    assert!(!diags.has_errors(), "{spec}: {diags:?}");
    let secrets = dir.with_extension("secrets");
    let mut args = Vec::new();
    for (path, file) in tree.iter() {
        let target = if file.secret { secrets.join(path) } else { dir.join(path) };
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, &file.contents).unwrap();
        if let Some(chart) = path.strip_suffix("/Chart.yaml") {
            args.push(dir.join(chart));
            let values = secrets.join(chart).join("secrets.yaml");
            if tree.get(&format!("{chart}/secrets.yaml")).is_some() {
                args.extend([PathBuf::from("-f"), values]);
            }
        }
    }
    assert!(!args.is_empty(), "{spec} has no charts");
    args
}

#[test]
fn example_charts_lint_render_and_validate() {
    let tools = berth_tests::tools();
    let root = TempDir::new("helm-real-tools");
    let mut args = Vec::new();
    for (name, spec, vars) in [
        ("bank", "examples/bank-multicluster", &[][..]),
        ("esw", "examples/esw-central", &[]),
        ("fleet", "examples/fleet", &["examples/fleet/fleet-1.json"]),
        ("basic", "providers/helm/tests/specs/basic", &[]),
    ] {
        args.extend(write_charts(spec, vars, &root.path().join(name)));
    }
    let charts = args.iter().filter(|a| a.join("Chart.yaml").exists()).count();
    assert!(args.iter().any(|a| a == Path::new("-f")), "no chart with berth-issued certificates");
    let script = berth_tests::root().join("providers/helm/tests/tools/check_charts.py");
    let out = berth_tests::output_within(
        Command::new(tools.join("venv/bin/python")).arg(script).arg(&tools).arg(KUBE).args(&args),
        CHECK_LIMIT,
    );
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "real tools rejected the charts:\n{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("{charts} passed, 0 failed")), "{stdout}");
}

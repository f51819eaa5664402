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

/// Renders a spec's charts into `dir`, with the secret files copied into each chart the way an
/// operator combines the reviewed output with the secrets directory before installing.
/// Returns the chart directories.
fn write_charts(spec: &str, var_files: &[&str], dir: &Path) -> Vec<PathBuf> {
    let (tree, diags) = berth_tests::emit(&HelmEmitter { now_unix: FIXED_NOW_UNIX }, spec, var_files);
    assert!(!diags.has_errors(), "{spec}: {diags:?}");
    let mut charts = Vec::new();
    for (path, file) in tree.iter() {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, &file.contents).unwrap();
        if let Some(chart) = path.strip_suffix("/Chart.yaml") {
            charts.push(dir.join(chart));
        }
    }
    assert!(!charts.is_empty(), "{spec} has no charts");
    charts
}

#[test]
fn example_charts_lint_render_and_validate() {
    let tools = berth_tests::tools();
    let root = TempDir::new("helm-real-tools");
    let mut charts = Vec::new();
    for (name, spec, vars) in [
        ("bank", "examples/bank-multicluster", &[][..]),
        ("esw", "examples/esw-central", &[]),
        ("fleet", "examples/fleet", &["examples/fleet/fleet-1.json"]),
        ("basic", "providers/helm/tests/specs/basic", &[]),
    ] {
        charts.extend(write_charts(spec, vars, &root.path().join(name)));
    }
    let script = berth_tests::root().join("providers/helm/tests/tools/check_charts.py");
    let out = berth_tests::output_within(
        Command::new(tools.join("venv/bin/python")).arg(script).arg(&tools).arg(KUBE).args(&charts),
        CHECK_LIMIT,
    );
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "real tools rejected the charts:\n{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("{} passed, 0 failed", charts.len())), "{stdout}");
}

//! The docker target judged by the real tools (installed by tests/setup.sh; needs root):
//! dockerd 20.10 loads every distinct daemon.json of the examples and refuses an unknown key,
//! Docker Compose v2 accepts the compose files, this kernel accepts the sysctl files, and one
//! emitted host runs its containers on a throwaway dockerd, which restarts a killed one.
//!
//! Every dockerd is a [`berth_tests::Dockerd`]: fresh network and mount namespaces, its own
//! socket, data-root, exec-root and pidfile under a temporary directory, stopped by PID and the
//! directory removed even when a test fails. Every wait is bounded.

#![allow(clippy::disallowed_methods, reason = "tests write emitted files and run tools")]

use berth_model::OutputTree;
use berth_tests::{Dockerd, TempDir, signal, try_run, wait_until};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// How long a dockerd, a command or a container state change may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The example specs, with their variable files.
const EXAMPLES: &[(&str, &[&str])] = &[
    ("examples/esw-central", &[]),
    ("examples/bank-multicluster", &[]),
    ("examples/fleet", &["examples/fleet/fleet-1.json"]),
];

fn emit(spec: &str, var_files: &[&str]) -> OutputTree {
    let (tree, diags) = berth_tests::emit(&berth_docker::DockerEmitter::default(), spec, var_files);
    assert!(!diags.has_errors(), "{spec}: {diags:?}");
    tree
}

/// The emitted files whose path ends with `suffix`, over all examples, as (path, text).
fn example_files(suffix: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (spec, vars) in EXAMPLES {
        for (path, file) in emit(spec, vars).iter().filter(|(p, _)| p.ends_with(suffix)) {
            files.push((format!("{spec}: {path}"), String::from_utf8(file.contents.clone()).expect("UTF-8")));
        }
    }
    files
}

/// [`try_run`] within [`TIMEOUT`], failing the test if the command does not finish in time.
fn run(cmd: &mut Command) -> (bool, String) {
    try_run(cmd, TIMEOUT).unwrap_or_else(|| panic!("{cmd:?} could not start or did not finish within {TIMEOUT:?}"))
}

#[test]
fn dockerd_accepts_every_daemon_json_of_the_examples() {
    let distinct: BTreeSet<String> = example_files("/daemon.json").into_iter().map(|(_, text)| text).collect();
    assert!(distinct.len() >= 2, "expected the esw-central and fleet daemon.json files");
    for config in &distinct {
        let mut dockerd = Dockerd::start(config);
        assert!(dockerd.ready(), "dockerd did not come up with\n{config}\n{}", dockerd.log());
    }
}

#[test]
fn dockerd_refuses_a_daemon_json_with_an_unknown_key() {
    let (_, config) = example_files("/daemon.json").into_iter().next().expect("a daemon.json");
    let mut broken: Value = serde_json::from_str(&config).expect("JSON");
    broken["log-rotate"] = json!(true);
    let mut dockerd = Dockerd::start(&broken.to_string());
    let status = dockerd.exits().expect("dockerd should exit on an unknown key");
    assert!(!status.success());
    let log = dockerd.log();
    assert!(log.contains("the following directives don't match any configuration option: log-rotate"), "{log}");
}

#[test]
fn compose_v2_accepts_the_compose_files() {
    let compose = berth_tests::tools().join("bin/docker-compose");
    let mut files: Vec<(String, String)> = Vec::new();
    let mut fleet = 0;
    let specs = ["basic", "addresses", "e2e"].into_iter().flat_map(|s| spec_files(s, "/compose.yaml"));
    for (path, text) in example_files("/compose.yaml").into_iter().chain(specs) {
        // Every esw-central and spec host; two fleet hosts (their files differ only in products).
        if path.starts_with("examples/fleet") {
            fleet += 1;
            if fleet > 2 {
                continue;
            }
        }
        files.push((path, text));
    }
    assert!(files.len() >= 14, "{files:?}");
    for (path, text) in files {
        let dir = TempDir::new("compose");
        fs::write(dir.path().join("compose.yaml"), &text).expect("write compose.yaml");
        let (ok, out) = run(Command::new(&compose)
            .arg("-f")
            .arg(dir.path().join("compose.yaml"))
            .args(["config", "-q"])
            .env_remove("COMPOSE_FILE"));
        assert!(ok, "{path}: docker compose config -q: {out}");
    }
}

/// The emitted files of a spec under tests/specs whose path ends with `suffix`.
fn spec_files(name: &str, suffix: &str) -> Vec<(String, String)> {
    emit(&format!("providers/docker/tests/specs/{name}.hcl"), &[])
        .iter()
        .filter(|(p, _)| p.ends_with(suffix))
        .map(|(p, f)| (format!("{name}: {p}"), String::from_utf8(f.contents.clone()).expect("UTF-8")))
        .collect()
}

#[test]
fn this_kernel_accepts_the_sysctl_files() {
    let mut settings = BTreeSet::new();
    for (path, text) in example_files("/90-berth.conf").into_iter().chain(spec_files("basic", "/90-berth.conf")) {
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (key, value) = line.split_once(" = ").unwrap_or_else(|| panic!("{path}: not `key = value`: {line}"));
            settings.insert((key.to_string(), value.to_string()));
        }
    }
    let mut applied = 0;
    for (key, value) in &settings {
        let proc = format!("/proc/sys/{}", key.replace('.', "/"));
        if !key.starts_with("net.") {
            // Setting these would change the machine: they only have to exist.
            assert!(Path::new(&proc).exists(), "{key} does not exist on this kernel");
            continue;
        }
        // In a private network namespace: kept global, read-only there, or the value read back
        // after writing it.
        let script = concat!(
            r#"[ -e "$1" ] || { echo global; exit; }; "#,
            r#"[ -w "$1" ] || { echo read-only; exit; }; "#,
            r#"sysctl -q -w "$2=$3" && sysctl -n "$2""#,
        );
        let (ok, out) = run(Command::new("unshare").args(["--net", "sh", "-c", script, "sh", &proc, key, value]));
        assert!(ok, "{key} = {value}: {out}");
        match out.trim() {
            "global" | "read-only" => assert!(Path::new(&proc).exists(), "{key} does not exist on this kernel"),
            read => {
                let want: Vec<&str> = value.split_whitespace().collect();
                assert_eq!(read.split_whitespace().collect::<Vec<_>>(), want, "{key} = {value}: {out}");
                applied += 1;
            }
        }
    }
    assert!(applied >= 3, "no net.* key was applied: {settings:?}");
}

#[test]
fn an_emitted_host_runs_its_containers_and_docker_restarts_a_killed_one() {
    let tree = emit("providers/docker/tests/specs/e2e.hcl", &[]);
    let file =
        |p: &str| String::from_utf8(tree.get(p).unwrap_or_else(|| panic!("no {p}")).contents.clone()).expect("UTF-8");
    let mut dockerd = Dockerd::start(&file("e2e/daemon.json"));
    assert!(dockerd.ready(), "dockerd did not come up: {}", dockerd.log());

    let work = TempDir::new("docker-e2e");
    let image = berth_tests::busybox_tar(&work);
    let (ok, out) = run(dockerd.docker().arg("import").arg(&image).arg("berth-test/busybox:1"));
    assert!(ok, "docker import: {out}");

    fs::write(work.path().join("compose.yaml"), file("e2e/compose.yaml")).expect("write compose.yaml");
    let compose = berth_tests::tools().join("bin/docker-compose");
    let (ok, out) = run(Command::new(&compose)
        .args(["-p", berth_docker::PROJECT, "-f"])
        .arg(work.path().join("compose.yaml"))
        .args(["up", "-d"])
        .env("DOCKER_HOST", format!("unix://{}", dockerd.socket().display())));
    assert!(ok, "docker compose up -d: {out}\n{}", dockerd.log());

    let running = |dockerd: &Dockerd| {
        let (_, out) = run(dockerd.docker().args(["ps", "--filter", "status=running", "--format", "{{.Names}}"]));
        out.split_whitespace().map(String::from).collect::<BTreeSet<_>>()
    };
    let names: BTreeSet<String> = (0..3).map(|i| format!("berth-sleeper-{i}-1")).collect();
    assert!(
        wait_until("the sleepers to run", TIMEOUT, || running(&dockerd) == names),
        "running: {:?}, want {names:?}",
        running(&dockerd)
    );

    // Running, PID, restarts and fixed address of the second sleeper.
    let state = |dockerd: &Dockerd| {
        let format =
            "{{.State.Running}} {{.State.Pid}} {{.RestartCount}} {{.NetworkSettings.Networks.berth_default.IPAddress}}";
        let (ok, out) = run(dockerd.docker().args(["inspect", "-f", format, "berth-sleeper-1-1"]));
        assert!(ok, "docker inspect: {out}");
        out.trim().to_string()
    };
    let before = state(&dockerd);
    let pid: u32 =
        before.split(' ').nth(1).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no PID in {before:?}"));
    assert!(before.starts_with("true ") && before.ends_with(" 0 172.16.0.11"), "{before}");
    signal(pid, "-KILL");
    let restarted =
        |s: &str| s.starts_with("true ") && s.ends_with(" 1 172.16.0.11") && !s.contains(&format!(" {pid} "));
    assert!(
        wait_until("the killed sleeper to restart", TIMEOUT, || restarted(&state(&dockerd))),
        "not restarted after kill -9 {pid}: {}",
        state(&dockerd)
    );
    assert!(
        wait_until("the sleepers to run again", TIMEOUT, || running(&dockerd) == names),
        "running after the restart: {:?}",
        running(&dockerd)
    );
}

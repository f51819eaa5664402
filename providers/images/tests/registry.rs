//! Real-tool tests of pushes and of the built image, with Debian's `docker-registry`
//! (distribution 2.8) and `dockerd` (docker.io), both installed by tests/setup.sh.
//!
//! The image is tests/specs/hello.hcl: a static busybox (Debian's busybox-static, copied into
//! a temporary spec directory) in a `never` layer and a generated release file in the fast
//! layer. What was uploaded is counted on the registry's side: its blob files on disk and the
//! upload `PUT`s in its access log. Every wait is bounded; every registry and daemon is
//! stopped and every temporary directory removed by guards, also when a test fails.

#![allow(clippy::disallowed_methods, reason = "tests set up fixtures and read the registry's storage")]

use berth_images::{build_and_push, build_layout, push};
use berth_model::Image;
use berth_tests::{TempDir, wait_until};
use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SPEC: &str = "providers/images/tests/specs/hello.hcl";
const RELEASE_2: &str = "providers/images/tests/specs/release-2.json";
/// Debian's busybox-static.
const BUSYBOX: &str = "/bin/busybox";

/// A child process, stopped when dropped: SIGTERM, up to `grace` to exit, then SIGKILL.
struct Process {
    child: Child,
    grace: Duration,
}

impl Process {
    fn spawn(cmd: &mut Command, log: &Path, grace: Duration) -> Self {
        let file = fs::File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = file.try_clone().expect("log handle");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}; run tests/setup.sh"));
        Process { child, grace }
    }

    /// Panics with the log if the process has already exited.
    fn assert_running(&mut self, log: &Path) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("it exited with {status}:\n{}", fs::read_to_string(log).unwrap_or_default());
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
            let deadline = Instant::now() + self.grace;
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A free TCP port on the loopback address.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// One plain HTTP/1.0 GET on the loopback address: the status line and headers, and body.
fn http_get(port: u16, path: &str, accept: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: {accept}\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// A `docker-registry serve` with its own storage and log, on a free loopback port.
struct Registry {
    _process: Process,
    port: u16,
    storage: PathBuf,
    log: PathBuf,
}

impl Registry {
    fn start(dir: &Path) -> Self {
        let port = free_port();
        let storage = dir.join("storage");
        let config = dir.join("registry.yml");
        let yaml = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        fs::write(&config, yaml).expect("registry config");
        let log = dir.join("registry.log");
        let mut process =
            Process::spawn(Command::new("docker-registry").arg("serve").arg(&config), &log, Duration::from_secs(5));
        let ready = wait_until("the registry's /v2/", Duration::from_secs(30), || {
            process.assert_running(&log);
            http_get(port, "/v2/", "*/*")
                .is_some_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"))
        });
        assert!(ready, "the registry did not answer /v2/:\n{}", fs::read_to_string(&log).unwrap_or_default());
        Registry { _process: process, port, storage, log }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The digests of the blobs the registry stores (layers, configs and manifests).
    fn blobs(&self) -> BTreeSet<String> {
        let root = self.storage.join("docker/registry/v2/blobs/sha256");
        let mut out = BTreeSet::new();
        for prefix in fs::read_dir(&root).into_iter().flatten().flatten() {
            for blob in fs::read_dir(prefix.path()).into_iter().flatten().flatten() {
                if blob.path().join("data").is_file() {
                    out.insert(format!("sha256:{}", blob.file_name().to_string_lossy()));
                }
            }
        }
        out
    }

    /// How many blob uploads the registry's access log shows: `PUT /v2/.../blobs/uploads/`.
    fn upload_puts(&self) -> usize {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().filter(|l| l.contains("\"PUT /v2/") && l.contains("/blobs/uploads/")).count()
    }
}

/// A spec directory holding what hello.hcl copies: fixture/busybox.
fn hello_spec_dir(tmp: &Path) -> PathBuf {
    assert!(Path::new(BUSYBOX).is_file(), "{BUSYBOX} is missing: run tests/setup.sh (busybox-static)");
    let dir = tmp.join("spec");
    fs::create_dir_all(dir.join("fixture")).expect("spec dir");
    fs::copy(BUSYBOX, dir.join("fixture/busybox")).expect("copy busybox");
    dir
}

fn hello(var_files: &[&str]) -> Image {
    let (mut model, _) = berth_tests::compile(SPEC, var_files);
    model.images.remove(0)
}

#[test]
fn a_second_push_uploads_only_the_changed_layer() {
    let tmp = TempDir::new("images-push");
    let registry = Registry::start(tmp.path());
    let spec_dir = hello_spec_dir(tmp.path());
    let (v1, v2) = (hello(&[]), hello(&[RELEASE_2]));

    let layout = tmp.path().join("layout-v1");
    let built = build_layout(&v1, &spec_dir, &layout, None).unwrap_or_else(|e| panic!("{e}"));
    let first = push(&layout, &v1, &registry.url()).unwrap_or_else(|e| panic!("{e}"));
    let mut expected: BTreeSet<String> = built.layers.iter().map(|l| l.blob.digest.clone()).collect();
    expected.insert(built.config.digest.clone());
    expected.insert(built.manifest.digest.clone());
    assert_eq!(registry.blobs(), expected, "the registry stores the layers, the config and the manifest");
    assert_eq!(registry.upload_puts(), 3, "two layers and the config uploaded");
    assert_eq!((first.uploaded.len(), first.skipped.len()), (3, 0));
    let tagged =
        http_get(registry.port, "/v2/berth/hello/manifests/test", "application/vnd.oci.image.manifest.v1+json")
            .unwrap_or_default();
    assert!(
        tagged.to_ascii_lowercase().contains(&format!("docker-content-digest: {}", built.manifest.digest)),
        "{tagged}"
    );

    let before = registry.blobs();
    let second = build_and_push(&v2, &spec_dir, None, &registry.url()).unwrap_or_else(|e| panic!("{e}"));
    let added: BTreeSet<String> = registry.blobs().difference(&before).cloned().collect();
    let v2_layout = tmp.path().join("layout-v2");
    let rebuilt = build_layout(&v2, &spec_dir, &v2_layout, None).unwrap_or_else(|e| panic!("{e}"));
    let layers: BTreeSet<String> = rebuilt.layers.iter().map(|l| l.blob.digest.clone()).collect();
    let added_layers: Vec<&String> = added.intersection(&layers).collect();
    assert_eq!(
        added_layers,
        [&rebuilt.layers[1].blob.digest],
        "exactly one layer blob, the release layer's, was stored"
    );
    assert_eq!(added.len(), 3, "besides it only the new config and manifest: {added:?}");
    assert!(added.contains(&rebuilt.config.digest) && added.contains(&rebuilt.manifest.digest));
    assert_eq!(registry.upload_puts(), 3 + 2, "the second push uploaded one layer and the config");
    assert_eq!(second.manifest, rebuilt.manifest);
    assert_eq!((second.uploaded.len(), second.skipped.len()), (2, 1));
}

/// A throwaway dockerd with its own socket, data, exec root and pid file, no bridge and no
/// iptables rules, trusting the test registry over plain HTTP. Declare it after the registry
/// and the directories, so that it stops first.
struct Docker {
    _process: Process,
    socket: PathBuf,
}

impl Docker {
    fn start(dir: &Path, registry_port: u16) -> Self {
        fs::create_dir_all(dir).expect("docker dir");
        let socket = dir.join("docker.sock");
        let log = dir.join("dockerd.log");
        let mut cmd = Command::new("dockerd");
        cmd.arg("--host")
            .arg(format!("unix://{}", socket.display()))
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .args(["--storage-driver=vfs", "--bridge=none", "--iptables=false", "--ip6tables=false"])
            .arg(format!("--insecure-registry=127.0.0.1:{registry_port}"))
            .env_remove("DOCKER_HOST");
        let mut process = Process::spawn(&mut cmd, &log, Duration::from_secs(20));
        let ready = wait_until("dockerd", Duration::from_secs(60), || {
            process.assert_running(&log);
            docker_cli(&socket, &["version"], Duration::from_secs(10)).status.success()
        });
        assert!(ready, "dockerd did not answer:\n{}", fs::read_to_string(&log).unwrap_or_default());
        Docker { _process: process, socket }
    }

    fn cli(&self, args: &[&str], limit: Duration) -> Output {
        docker_cli(&self.socket, args, limit)
    }
}

/// Runs the docker CLI of dockerd's package against the daemon at `socket`, killed after
/// `limit`.
fn docker_cli(socket: &Path, args: &[&str], limit: Duration) -> Output {
    let bin = if Path::new("/usr/bin/docker").is_file() { "/usr/bin/docker" } else { "docker" };
    let mut child = Command::new(bin)
        .arg("--host")
        .arg(format!("unix://{}", socket.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}; run tests/setup.sh"));
    let deadline = Instant::now() + limit;
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    child.wait_with_output().expect("docker output")
}

#[test]
fn docker_pulls_the_pushed_image_and_runs_it() {
    let tmp = TempDir::new("images-docker");
    let registry = Registry::start(tmp.path());
    let spec_dir = hello_spec_dir(tmp.path());
    let image = hello(&[]);
    build_and_push(&image, &spec_dir, None, &registry.url()).unwrap_or_else(|e| panic!("{e}"));
    let docker = Docker::start(&tmp.path().join("docker"), registry.port);
    let reference = format!("127.0.0.1:{}/berth/hello:test", registry.port);
    let pulled = docker.cli(&["pull", &reference], Duration::from_secs(120));
    assert!(pulled.status.success(), "docker pull: {}", String::from_utf8_lossy(&pulled.stderr));
    let ran = docker.cli(&["run", "--rm", "--network", "none", &reference], Duration::from_secs(120));
    assert!(ran.status.success(), "docker run: {}", String::from_utf8_lossy(&ran.stderr));
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "berth-ok\n");
}

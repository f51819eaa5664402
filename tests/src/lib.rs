//! Helpers shared by berth's end-to-end tests: where the workspace is and how to run the
//! `berth` binary (built by `cargo build -p berth` before the tests run).

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_path_buf()
}

/// The `berth` binary: `$BERTH_BIN`, else the workspace's debug build.
pub fn berth_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BERTH_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let bin = target.join("debug").join("berth");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p berth` first (the README's test command does)",
        bin.display()
    );
    bin
}

/// A `berth` command run from the workspace root, with a fixed clock and no colour.
pub fn berth() -> Command {
    let mut c = Command::new(berth_bin());
    c.current_dir(root()).env("BERTH_NOW", FIXED_NOW).env("NO_COLOR", "1").env_remove("BERTH_DIAGNOSTICS");
    c
}

/// The time every test runs at, so expiry checks are reproducible.
pub const FIXED_NOW: &str = "2026-11-25T00:00:00Z";

/// [`FIXED_NOW`] in seconds since the Unix epoch, for emitters that take the clock as a number.
pub const FIXED_NOW_UNIX: i64 = 1_795_564_800;

/// Runs a command and returns its output, failing the test if it could not start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Reads module files from disk for [`compile`].
struct DiskLoader;

impl berth_resolve::Loader for DiskLoader {
    fn module_files(&self, path: &str) -> Result<Vec<(String, String)>, String> {
        let p = root().join(path);
        if p.is_file() {
            return std::fs::read_to_string(&p).map(|t| vec![(path.to_string(), t)]).map_err(|e| e.to_string());
        }
        let mut names: Vec<String> = std::fs::read_dir(&p)
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".hcl"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| std::fs::read_to_string(p.join(&n)).map(|t| (format!("{path}/{n}"), t)).map_err(|e| e.to_string()))
            .collect()
    }
}

/// Runs the compiler stages on a spec (a path relative to the workspace root, with variable
/// files likewise) at [`FIXED_NOW`], for emitter tests. Panics with the diagnostics if the
/// spec has errors.
pub fn compile(spec: &str, var_files: &[&str]) -> (berth_model::Model, berth_model::ResourceGraph) {
    let mut sources = berth_diag::Sources::new();
    let mut inputs = berth_resolve::Inputs::default();
    for f in var_files {
        let text = std::fs::read_to_string(root().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        inputs.var_files.push(sources.add(*f, text));
    }
    let (resolved, mut diags) = berth_resolve::resolve(&DiskLoader, &mut sources, spec, &inputs);
    let resolved = resolved.unwrap_or_else(|| panic!("{spec} did not load: {diags:?}"));
    let (model, more) = berth_check::check(resolved, berth_check::CheckContext { now_unix: FIXED_NOW_UNIX });
    diags.extend(more);
    let (graph, more) = berth_graph::build(&model);
    diags.extend(more);
    let errors: Vec<String> =
        diags.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", d.code.name, d.message)).collect();
    assert!(errors.is_empty(), "{spec} has errors: {errors:#?}");
    (model, graph)
}

/// Compiles a spec like [`compile`] and runs one emitter on it: its files and diagnostics.
pub fn emit(
    emitter: &dyn berth_model::Emitter,
    spec: &str,
    var_files: &[&str],
) -> (berth_model::OutputTree, berth_diag::Diagnostics) {
    let (model, graph) = compile(spec, var_files);
    emitter.emit(berth_model::EmitInput { model: &model, graph: &graph })
}

/// One file of an output tree as text; panics, listing the tree, if there is no such file or
/// it is not UTF-8.
pub fn file_text(tree: &berth_model::OutputTree, path: &str) -> String {
    let file = tree
        .get(path)
        .unwrap_or_else(|| panic!("no {path} among {:?}", tree.iter().map(|(p, _)| p).collect::<Vec<_>>()));
    String::from_utf8(file.contents.clone()).unwrap_or_else(|e| panic!("{path} is not UTF-8: {e}"))
}

/// A fresh directory under the system temporary directory, removed when dropped, after
/// anything mounted below it is unmounted (tests that mount there need not clean up).
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates an empty directory whose name holds the process id, a counter and `label`.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("berth-{}-{n}-{label}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("cannot clear {}: {e}", dir.display()));
        }
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file into the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let dir = self.0.to_string_lossy();
        let below = format!("{dir}/");
        let mut points: Vec<&str> =
            mounts.lines().filter_map(|l| l.split(' ').nth(1)).filter(|p| *p == dir || p.starts_with(&below)).collect();
        // The deepest first, so that nothing still holds a mount point being unmounted.
        points.reverse();
        for point in points {
            let _ = Command::new("umount").arg("-l").arg(point).status();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Calls `f` until it returns true, sleeping 200 ms between tries, for at most `limit`.
/// Returns whether it came true; if not, says on stderr that `what` did not happen.
pub fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            eprintln!("{what}: not within {limit:?}");
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The directory of the real tools installed by tests/setup.sh.
pub fn tools() -> PathBuf {
    let dir = std::env::var_os("BERTH_TOOLS").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/berth-tools"),
        PathBuf::from,
    );
    assert!(dir.join("venv/bin/python").exists(), "{} lacks the test tools: run tests/setup.sh", dir.display());
    dir
}

/// Runs a command to its end like [`Command::output`], but for at most `limit`: a tool that
/// hangs fails the test with what it printed instead of stalling CI.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = err.join().unwrap_or_default();
                panic!("{cmd:?} did not finish within {limit:?}:\n{}", String::from_utf8_lossy(&stderr));
            }
        }
    };
    Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() }
}

/// Runs a command to completion within `limit`: (success, stdout and stderr together), or
/// `None` if it could not start or did not finish in time (it is killed then). Never panics,
/// so guards may use it while a test is failing.
pub fn try_run(cmd: &mut Command, limit: Duration) -> Option<(bool, String)> {
    let dir = TempDir::new("run");
    let out = std::fs::File::create(dir.path().join("out")).ok()?;
    let err = out.try_clone().ok()?;
    let mut child = cmd.stdin(std::process::Stdio::null()).stdout(out).stderr(err).spawn().ok()?;
    let mut status = None;
    if !wait_until(&format!("{cmd:?} to finish"), limit, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    }) {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    Some((status.is_some_and(|s| s.success()), std::fs::read_to_string(dir.path().join("out")).unwrap_or_default()))
}

/// How long a dockerd or a docker CLI command may take.
const DOCKERD_TIMEOUT: Duration = Duration::from_secs(30);

/// A throwaway dockerd from Debian's docker.io (tests/setup.sh installs it; needs root),
/// started with a copy of a daemon.json in fresh network and mount namespaces, with its own
/// socket, data-root, exec-root and pidfile under a temporary directory, no default bridge and
/// no iptables rules. A restart keeps the network namespace, as a machine's does. Stopped by
/// PID (after its containers are removed), and its containerd with it, when dropped.
#[derive(Debug)]
pub struct Dockerd {
    child: std::process::Child,
    args: Vec<std::ffi::OsString>,
    /// The daemon's network namespace, held open once it stops so that a restart re-enters it.
    netns: Option<std::fs::File>,
    dir: TempDir,
}

impl Dockerd {
    /// Starts dockerd with `config` (daemon.json text) without waiting for it: see
    /// [`Dockerd::ready`]. Keys that would touch the machine's own engine (data-root,
    /// exec-root, pidfile, hosts) point into the temporary directory: rewritten in the copy
    /// where `config` sets them, else given as flags; the storage driver is vfs unless set.
    pub fn start(config: &str) -> Self {
        use serde_json::{Value, json};
        let dir = TempDir::new("dockerd");
        let mut flags: Vec<String> = Vec::new();
        let mut copy: Value = serde_json::from_str(config).expect("daemon.json is JSON");
        for (key, name) in [("data-root", "data"), ("exec-root", "exec"), ("pidfile", "dockerd.pid")] {
            let path = dir.path().join(name).display().to_string();
            match copy.get_mut(key) {
                Some(v) => *v = json!(path),
                None => flags.push(format!("--{key}={path}")),
            }
        }
        let host = format!("unix://{}", dir.path().join("docker.sock").display());
        match copy.get_mut("hosts") {
            Some(v) => *v = json!([host]),
            None => flags.extend(["-H".to_string(), host]),
        }
        if copy.get("storage-driver").is_none() {
            flags.push("--storage-driver=vfs".into());
        }
        dir.write("daemon.json", serde_json::to_vec_pretty(&copy).expect("JSON"));
        let mut args: Vec<std::ffi::OsString> = ["dockerd", "--config-file"].iter().map(Into::into).collect();
        args.push(dir.path().join("daemon.json").into());
        args.extend(flags.into_iter().map(Into::into));
        args.extend(["--bridge=none", "--iptables=false"].iter().map(Into::into));
        let child = Self::spawn(&args, None, dir.path());
        Dockerd { child, args, netns: None, dir }
    }

    /// `dockerd ARGS` in a fresh mount namespace and in a fresh network namespace, or in
    /// `netns` when given.
    fn spawn(args: &[std::ffi::OsString], netns: Option<&std::fs::File>, dir: &Path) -> std::process::Child {
        use std::os::fd::AsRawFd;
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(dir.join("dockerd.log")).expect("log file");
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/proc/{}/fd/{}", std::process::id(), ns.as_raw_fd())).args(["unshare", "--mount"]);
                c
            }
            None => {
                let mut c = Command::new("unshare");
                c.args(["--net", "--mount"]);
                c
            }
        };
        cmd.args(args)
            .env_remove("DOCKER_HOST")
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("cannot start dockerd (tests/setup.sh installs docker.io)")
    }

    /// Holds the running daemon's network namespace open for [`Dockerd::restart`] (unless it
    /// is still the test's own: the daemon has not unshared yet).
    fn keep_netns(&mut self) {
        use std::os::unix::fs::MetadataExt;
        if self.netns.is_some() {
            return;
        }
        let path = format!("/proc/{}/ns/net", self.child.id());
        let own = std::fs::metadata("/proc/self/ns/net").map(|m| m.ino()).ok();
        if let Ok(ns) = std::fs::File::open(&path)
            && ns.metadata().map(|m| m.ino()).ok() != own
        {
            self.netns = Some(ns);
        }
    }

    /// Its socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// Its socket as a Docker endpoint, `unix:///…/docker.sock`.
    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// Its process id, which is also the process whose namespaces it runs in.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it logged, over every start.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// Waits for the daemon to answer `/_ping`; false if it exited or did not answer in time.
    pub fn ready(&mut self) -> bool {
        let socket = self.socket();
        let child = &mut self.child;
        wait_until("dockerd to answer /_ping", DOCKERD_TIMEOUT, || {
            child.try_wait().expect("wait").is_some() || ping(&socket)
        }) && ping(&socket)
    }

    /// Waits for the daemon to exit by itself; its exit status if it did.
    pub fn exits(&mut self) -> Option<std::process::ExitStatus> {
        let child = &mut self.child;
        let mut status = None;
        wait_until("dockerd to exit", DOCKERD_TIMEOUT, || {
            status = child.try_wait().expect("wait");
            status.is_some()
        });
        status
    }

    /// Stops the daemon with SIGTERM (SIGKILL if it does not exit in time), leaving its
    /// containers and data for [`Dockerd::restart`].
    pub fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.keep_netns();
            signal(self.child.id(), "-TERM");
            let child = &mut self.child;
            if !wait_until("dockerd to stop", DOCKERD_TIMEOUT, || child.try_wait().ok().flatten().is_some()) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Kills the daemon with SIGKILL, as a crash would: no shutdown, its containerd killed
    /// with it, containers and data left for [`Dockerd::restart`]. Returns once that
    /// containerd is reaped: until then its pid passes for a live containerd, which a new
    /// daemon would wait for in vain.
    pub fn kill(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.keep_netns();
            let containerd = self.containerd();
            let _ = self.child.kill();
            let _ = self.child.wait();
            if let Some(pid) = containerd {
                let gone = wait_until("the killed dockerd's containerd to be reaped", DOCKERD_TIMEOUT, || {
                    !Path::new(&format!("/proc/{pid}")).exists()
                });
                assert!(gone, "containerd {pid} outlived its killed dockerd");
            }
        }
    }

    /// The pid of the containerd this daemon started, if it runs.
    fn containerd(&self) -> Option<u32> {
        let pidfile = self.dir.path().join("exec/containerd/containerd.pid");
        let pid = std::fs::read_to_string(pidfile).ok()?.trim().parse::<u32>().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        String::from_utf8_lossy(&cmdline).contains(&*self.dir.path().to_string_lossy()).then_some(pid)
    }

    /// Starts the stopped (or killed) daemon again with the same settings, socket, data and
    /// network namespace, without waiting; stops it first if it runs.
    pub fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(&self.args, self.netns.as_ref(), self.dir.path());
    }

    /// The docker CLI, talking to this daemon.
    pub fn docker(&self) -> Command {
        let mut c = Command::new("/usr/bin/docker");
        c.arg("-H").arg(self.endpoint()).env_remove("DOCKER_HOST");
        c
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // Containers outlive dockerd under live-restore: remove them first.
            if let Some((true, ids)) = try_run(self.docker().args(["ps", "-aq"]), DOCKERD_TIMEOUT) {
                let ids: Vec<&str> = ids.split_whitespace().collect();
                if !ids.is_empty() {
                    let _ = try_run(self.docker().args(["rm", "-f"]).args(&ids), DOCKERD_TIMEOUT);
                }
            }
            self.stop();
        }
        // The containerd this dockerd started, if it outlived it.
        if let Some(pid) = self.containerd() {
            signal(pid, "-KILL");
        }
    }
}

/// The statically linked busybox of Debian's busybox-static (tests/setup.sh installs it).
pub const BUSYBOX: &str = "/bin/busybox";

/// The image a [`Registry`] serves: busybox with its applets `sh`, `sleep` and `true`.
pub const BUSYBOX_IMAGE: &str = "127.0.0.1:5000/berth/busybox:1";

/// Writes into `dir` a tar of a root file system holding [`BUSYBOX`] and its applets `sh`,
/// `sleep` and `true`, for `docker import`; returns its path.
pub fn busybox_tar(dir: &TempDir) -> PathBuf {
    assert!(Path::new(BUSYBOX).exists(), "{BUSYBOX} is missing: run tests/setup.sh (busybox-static)");
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).expect("rootfs");
    std::fs::copy(BUSYBOX, rootfs.join("bin/busybox")).expect("copy busybox");
    for applet in ["sh", "sleep", "true"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).expect("symlink");
    }
    let tar = dir.path().join("busybox.tar");
    let (ok, out) = try_run(Command::new("tar").arg("-C").arg(&rootfs).arg("-cf").arg(&tar).arg("."), DOCKERD_TIMEOUT)
        .expect("tar runs");
    assert!(ok, "tar: {out}");
    tar
}

/// A `docker-registry` (Debian's) on 127.0.0.1:5000 inside the network namespace of a
/// [`Dockerd`], holding [`BUSYBOX_IMAGE`]: imported and pushed with the docker CLI, then removed
/// from the daemon, so that whoever applies containers of it makes the daemon pull it over
/// loopback (never from the internet). Killed when dropped.
#[derive(Debug)]
pub struct Registry {
    child: std::process::Child,
    dir: TempDir,
}

impl Registry {
    /// Starts the registry beside `dockerd` (which must answer already) and fills it.
    pub fn start(dockerd: &Dockerd) -> Self {
        let dir = TempDir::new("registry");
        let netns = format!("--net=/proc/{}/ns/net", dockerd.pid());
        let (ok, out) =
            try_run(Command::new("nsenter").args([&netns, "ip", "link", "set", "lo", "up"]), DOCKERD_TIMEOUT)
                .expect("nsenter ip link");
        assert!(ok, "lo up: {out}");
        let config = dir.write(
            "registry.yml",
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:5000\n",
                dir.path().join("storage").display()
            ),
        );
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = Command::new("nsenter")
            .arg(&netns)
            .arg("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("cannot start docker-registry: run tests/setup.sh");
        let registry = Registry { child, dir };

        let docker = |args: &[&str]| {
            let (ok, out) = try_run(dockerd.docker().args(args), DOCKERD_TIMEOUT)
                .unwrap_or_else(|| panic!("docker {args:?} did not finish within {DOCKERD_TIMEOUT:?}"));
            assert!(ok, "docker {args:?}: {out}\n{}", dockerd.log());
        };
        let tar = busybox_tar(&registry.dir);
        docker(&["import", &tar.display().to_string(), BUSYBOX_IMAGE]);
        let pushed = wait_until("the registry to take the image", DOCKERD_TIMEOUT, || {
            try_run(dockerd.docker().args(["push", BUSYBOX_IMAGE]), DOCKERD_TIMEOUT).is_some_and(|(ok, _)| ok)
        });
        let log = std::fs::read_to_string(registry.dir.path().join("registry.log")).unwrap_or_default();
        assert!(pushed, "docker push {BUSYBOX_IMAGE} failed:\n{log}\n{}", dockerd.log());
        docker(&["rmi", BUSYBOX_IMAGE]);
        registry
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a signal to a process by PID.
pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").args([sig, &pid.to_string()]).stderr(std::process::Stdio::null()).status();
}

/// True if the daemon behind `socket` answers `GET /_ping` with `OK`.
fn ping(socket: &Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = String::new();
    s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n").is_ok()
        && s.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.0 200")
        && answer.ends_with("OK")
}

/// One cluster of the Kubernetes API stand-in (tests/kube-standin/server.py; no real API
/// server can run here), with a kubeconfig whose context is the cluster's name; killed when
/// dropped.
#[derive(Debug)]
pub struct KubeStandIn {
    child: std::process::Child,
    port: u16,
    kubeconfig: PathBuf,
}

impl KubeStandIn {
    /// Starts a stand-in whose kubeconfig has the context `context`.
    pub fn start(dir: &TempDir, context: &str) -> Self {
        let port_file = dir.path().join(format!("{context}.port"));
        let kubeconfig = dir.path().join(format!("{context}.kubeconfig"));
        let child = Command::new("python3")
            .arg(root().join("tests/kube-standin/server.py"))
            .args(["--port", "0", "--port-file"])
            .arg(&port_file)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["--context", context])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs the stand-in");
        let mut s = KubeStandIn { child, port: 0, kubeconfig };
        let started = wait_until("the stand-in writes its port", Duration::from_secs(30), || {
            std::fs::read_to_string(&port_file).ok().and_then(|p| p.trim().parse().ok()).is_some_and(|p| {
                s.port = p;
                true
            })
        });
        assert!(started, "the stand-in for {context} did not start");
        s
    }

    /// Its kubeconfig file.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// One HTTP request to the stand-in: status and body.
    pub fn http(&self, method: &str, path: &str, content_type: &str, body: &str) -> (u16, serde_json::Value) {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("the stand-in listens");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("a timeout");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: kubectl/v1.30\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("the request goes out");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("the stand-in answers");
        let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status line");
        (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
    }

    /// Every object berth manages on this cluster, as `(kind, namespace, name)`, counted
    /// through the stand-in's own listing.
    pub fn berth_objects(&self) -> Vec<(String, String, String)> {
        let (status, list) = self.http("GET", "/standin/objects", "application/json", "");
        assert_eq!(status, 200);
        let mut out: Vec<_> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|o| o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "berth")
            .map(|o| {
                let m = &o["metadata"];
                let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
                (s(&o["kind"]), s(&m["namespace"]), s(&m["name"]))
            })
            .collect();
        out.sort();
        out
    }
}

impl Drop for KubeStandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `moto` EC2 server (from the tools venv, PyPI `moto[server]`) on a free port of
/// 127.0.0.1, killed when dropped.
#[derive(Debug)]
pub struct Moto {
    child: std::process::Child,
    url: String,
}

impl Moto {
    /// Starts the server and waits until it listens.
    pub fn start() -> Self {
        let port = free_port();
        let bin = tools().join("venv/bin/moto_server");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e} (run tests/setup.sh)", bin.display()));
        let moto = Moto { child, url: format!("http://127.0.0.1:{port}") };
        let up = wait_until("moto_server listens", Duration::from_secs(60), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "moto_server did not start on port {port}");
        moto
    }

    /// Its endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The environment that points the AWS configuration chain (and berth) at this server.
    pub fn env(&self) -> [(&'static str, String); 5] {
        [
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// Runs a Python snippet with boto3's EC2 client of us-east-1 bound to `ec2` and
    /// `client(service, region)` giving any other, and returns what it prints: the tests'
    /// independent view of what exists.
    pub fn python(&self, code: &str) -> String {
        let script = format!(
            "import boto3, json\n\
             def client(service, region='us-east-1'):\n    \
                 return boto3.client(service, endpoint_url={url:?}, region_name=region, \
                 aws_access_key_id='testing', aws_secret_access_key='testing')\n\
             ec2 = client('ec2')\n{code}",
            url = self.url
        );
        let out =
            output_within(Command::new(tools().join("venv/bin/python")).args(["-c", &script]), Duration::from_secs(60));
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "boto3 snippet failed: {stderr}");
        stdout.trim_end().to_owned()
    }

    /// The id of moto's default Ubuntu machine image.
    pub fn ami(&self) -> String {
        self.python(
            "print(next(i['ImageId'] for i in ec2.describe_images()['Images'] \
             if i.get('Name', '').startswith('ubuntu/images/hvm-ssd/ubuntu-')))",
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}

/// A PostgreSQL server of its own, from Debian's `postgresql` (tests/setup.sh installs it), on
/// a free port of 127.0.0.1 with a cluster in a temporary directory, user `berth` trusted
/// without a password. Run as the `postgres` user when the tests run as root, since the server
/// refuses root. Stopped, and its directory removed, when dropped.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: TempDir,
}

impl Postgres {
    /// Creates the cluster and starts the server, waiting until it accepts connections.
    pub fn start() -> Self {
        use std::os::unix::fs::MetadataExt;
        let bin = postgres_bin();
        let as_postgres = std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
        let dir = TempDir::new("postgres");
        let data = dir.path().join("data");
        if as_postgres {
            let (id, _) = text(&run(Command::new("id").args(["-u", "postgres"])));
            let owner = id.trim().parse().expect("no postgres user: run tests/setup.sh");
            std::os::unix::fs::chown(dir.path(), Some(owner), None)
                .unwrap_or_else(|e| panic!("cannot give {} to postgres: {e}", dir.path().display()));
        }
        let port = free_port();
        let server = Postgres { bin, data, port, as_postgres, _dir: dir };
        let data = server.data.to_string_lossy().into_owned();
        server.run("initdb", &["-D", &data, "-U", "berth", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        let options = format!("-p {port} -c listen_addresses=127.0.0.1 -k {data} -c fsync=off -c max_connections=50");
        let log = format!("{data}/server.log");
        server.run("pg_ctl", &["-D", &data, "-o", &options, "-l", &log, "-w", "-t", "60", "start"]);
        server
    }

    /// The URL of the `postgres` database as user `berth`.
    pub fn url(&self) -> String {
        format!("postgres://berth@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs SQL with `psql` and returns its unaligned output, failing the test on an error.
    pub fn psql(&self, sql: &str) -> String {
        let port = self.port.to_string();
        let args = ["-h", "127.0.0.1", "-p", &port, "-U", "berth", "-d", "postgres", "-X", "-q", "-tA"];
        let out = output_within(
            Command::new(self.bin.join("psql")).args(args).args(["-v", "ON_ERROR_STOP=1", "-c", sql]),
            Duration::from_secs(60),
        );
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "psql -c {sql:?} failed: {stderr}");
        stdout.trim_end().to_string()
    }

    /// Runs one of the server's programs to its end, failing the test with the server's log
    /// if it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let out = output_within(&mut self.command(program, args), Duration::from_secs(120));
        let (stdout, stderr) = text(&out);
        let log = std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default();
        assert!(out.status.success(), "{program} failed:\n{stdout}{stderr}\nserver log:\n{log}");
    }

    /// One of the server's programs, run as the `postgres` user when we are root.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        cmd.args(args).current_dir("/");
        cmd
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Bounded by pg_ctl's own timeout; never panics, since a test may be failing already.
        let data = self.data.to_string_lossy().into_owned();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "-t", "60", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// The directory of Debian's PostgreSQL server programs, the newest version installed.
fn postgres_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).expect("no PostgreSQL server in /usr/lib/postgresql: run tests/setup.sh")
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_now_unix_is_fixed_now() {
        assert_eq!(berth_check::formats::timestamp_unix(super::FIXED_NOW), Ok(super::FIXED_NOW_UNIX));
    }
}

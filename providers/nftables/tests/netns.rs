//! The rulesets against the real nft and kernel, always inside network namespaces these tests
//! make, so the machine's own ruleset and network are never touched: `nft -c` accepts every
//! file, loading a file twice is loading it once (and leaves other tables alone), and a
//! forward carries TCP from an allowed client through a gateway to its backend while a client
//! that is not allowed gets nowhere. Needs root, `nft`, `ip`, `unshare` and `python3`.

#![allow(clippy::disallowed_methods, reason = "tests write rulesets to files and run tools")]

use berth_model::OutputTree;
use berth_nftables::NftablesEmitter;
use berth_tests::TempDir;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The nftables output of `tests/specs/SPEC`.
fn emit(spec: &str) -> OutputTree {
    berth_tests::emit(&NftablesEmitter, &format!("providers/nftables/tests/specs/{spec}"), &[]).0
}

/// A name no other test of this run, nor any concurrent run, uses.
fn unique(label: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("berth-{}-{}-{label}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A temporary directory holding the files of an output tree.
fn write_tree(tree: &OutputTree) -> TempDir {
    let dir = TempDir::new("nft");
    for (path, file) in tree.iter() {
        dir.write(path, &file.contents);
    }
    dir
}

/// Runs a command; returns its stdout, or panics with everything it said.
fn run(cmd: &mut Command) -> String {
    let out = berth_tests::output_within(cmd, std::time::Duration::from_secs(60));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{}{}", out.status, text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// A shell script run in a fresh network namespace of its own, gone when it ends.
fn in_private_netns(script: &str) -> String {
    run(Command::new("unshare").args(["-n", "sh", "-euc", script]))
}

#[test]
fn nft_accepts_every_ruleset() {
    let mut checked = 0;
    for spec in ["e2e.hcl", "mixed.hcl", "moved-before.hcl", "moved-after.hcl"] {
        let tree = emit(spec);
        let files = write_tree(&tree);
        for (name, _) in tree.iter() {
            run(Command::new("unshare").args(["-n", "nft", "-c", "-f"]).arg(files.path().join(name)));
            checked += 1;
        }
    }
    assert_eq!(checked, 14, "1 + 6 + 3 + 4 files");
}

#[test]
fn loading_twice_is_loading_once_and_other_tables_stay() {
    let tree = emit("mixed.hcl");
    let files = write_tree(&tree);
    let (edge, idle) = (files.path().join("host-edge.nft"), files.path().join("host-idle.nft"));
    // Someone else's table (Docker's, say) is there first and must survive every load.
    let script = format!(
        "nft 'add table ip other; add chain ip other pre {{ type nat hook prerouting priority dstnat; }}; add rule ip other pre tcp dport 1 counter'
         nft -f {edge}; nft list ruleset > {once}
         nft -f {edge}; nft list ruleset > {twice}
         cmp {once} {twice}
         cat {twice}; echo '=== cleared'
         nft -f {idle}; nft list ruleset",
        edge = edge.display(),
        idle = idle.display(),
        once = files.path().join("once.txt").display(),
        twice = files.path().join("twice.txt").display(),
    );
    let out = in_private_netns(&script);
    let (loaded, cleared) = out.split_once("=== cleared\n").expect("both listings");
    assert!(loaded.contains("table inet berth {") && loaded.contains("set fwd_api_v6 {"), "{loaded}");
    assert!(loaded.contains("dnat ip to 172.20.0.10:8443 comment \"forward.api\""), "{loaded}");
    for listing in [loaded, cleared] {
        assert!(
            listing.contains("table ip other {") && listing.contains("tcp dport 1 counter"),
            "the other table is gone:\n{listing}"
        );
    }
    assert!(!cleared.contains("berth"), "host-idle.nft leaves berth's rules behind:\n{cleared}");
}

/// Network namespaces and the processes in them, removed when dropped (also when a test
/// fails half-way).
struct Namespaces {
    names: Vec<String>,
    children: Vec<Child>,
}

impl Namespaces {
    fn new(labels: &[&str]) -> Self {
        let mut ns = Namespaces { names: Vec::new(), children: Vec::new() };
        for label in labels {
            let name = unique(label);
            run(Command::new("ip").args(["netns", "add", &name]));
            ns.names.push(name);
            run(Command::new("ip").args(["-n", ns.name(label), "link", "set", "lo", "up"]));
        }
        ns
    }

    /// The full name of the namespace made for `label`.
    fn name(&self, label: &str) -> &str {
        self.names.iter().find(|n| n.ends_with(&format!("-{label}"))).unwrap_or_else(|| panic!("no namespace {label}"))
    }

    /// `ip -n NS ARGS`.
    fn ip(&self, label: &str, args: &str) {
        run(Command::new("ip").args(["-n", self.name(label)]).args(args.split_whitespace()));
    }

    /// A command run inside a namespace.
    fn exec(&self, label: &str, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", self.name(label), program]);
        cmd
    }

    /// Connects namespace `a` (interface `a_if`, `a_addr`) to `b` (`b_if`, `b_addr`).
    fn link(&self, (a, a_if, a_addr): (&str, &str, &str), (b, b_if, b_addr): (&str, &str, &str)) {
        self.ip(a, &format!("link add {a_if} type veth peer name {b_if} netns {}", self.name(b)));
        for (ns, dev, addr) in [(a, a_if, a_addr), (b, b_if, b_addr)] {
            self.ip(ns, &format!("addr add {addr} dev {dev}"));
            self.ip(ns, &format!("link set {dev} up"));
        }
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// A TCP server that answers every connection with `k`, for at most 30 seconds.
const SERVER: &str = r#"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
s.settimeout(30)
print("ready", flush=True)
try:
    while True:
        c, _ = s.accept()
        c.sendall(b"k")
        c.close()
except socket.timeout:
    pass
"#;

/// Connects to HOST PORT within 2 seconds and prints the first byte, or `failed: WHY`.
const CLIENT: &str = r#"
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    print(c.recv(1).decode() or "closed")
except OSError as e:
    print("failed:", type(e).__name__)
"#;

#[test]
fn a_forward_reaches_the_backend_from_allowed_sources_only() {
    let tree = emit("e2e.hcl");
    let files = write_tree(&tree);
    // client-ok 10.123.1.2 and client-bad 10.123.2.2 reach the gateway (host "gw", address
    // 10.123.1.1); behind it the backend (container "app", 10.123.3.2) listens on 9000.
    let mut ns = Namespaces::new(&["cok", "cbad", "gw", "be"]);
    ns.link(("gw", "to-ok", "10.123.1.1/24"), ("cok", "eth0", "10.123.1.2/24"));
    ns.link(("gw", "to-bad", "10.123.2.1/24"), ("cbad", "eth0", "10.123.2.2/24"));
    ns.link(("gw", "to-be", "10.123.3.1/24"), ("be", "eth0", "10.123.3.2/24"));
    ns.ip("cok", "route add default via 10.123.1.1");
    ns.ip("cbad", "route add default via 10.123.2.1");
    ns.ip("be", "route add default via 10.123.3.1");
    run(ns.exec("gw", "sysctl").args(["-qw", "net.ipv4.ip_forward=1"]));
    run(ns.exec("gw", "nft").arg("-f").arg(files.path().join("host-gw.nft")));

    let mut server = ns
        .exec("be", "python3")
        .args(["-c", SERVER, "9000"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the backend");
    let stdout = server.stdout.take();
    ns.children.push(server);
    wait_ready(stdout);

    let connect = |label: &str, host: &str, port: &str| {
        run(ns.exec(label, "python3").args(["-c", CLIENT, host, port])).trim().to_string()
    };
    assert_eq!(connect("cok", "10.123.1.1", "8080"), "k", "client-ok through the forward");
    // Dropped, so the connection times out (`socket.timeout` before Python 3.10).
    let refused = connect("cbad", "10.123.1.1", "8080");
    assert!(
        ["failed: TimeoutError", "failed: timeout"].contains(&refused.as_str()),
        "client-bad through the forward: {refused}"
    );
    // Control: client-bad has a working route to the backend (the forward chain of a Docker
    // host lets other traffic pass), so what stopped it above was the forward's filter.
    assert_eq!(connect("cbad", "10.123.3.2", "9000"), "k", "client-bad straight to the backend");

    let chain = run(ns.exec("gw", "nft").args(["list", "chain", "inet", "berth", "forward"]));
    let packets = |verdict: &str| {
        let line = chain
            .lines()
            .find(|l| l.contains("forward.web") && l.contains(verdict))
            .unwrap_or_else(|| panic!("no {verdict} rule:\n{chain}"));
        let n =
            line.split("counter packets ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse::<u64>().ok());
        n.unwrap_or_else(|| panic!("no counter in {line}"))
    };
    assert!(packets("accept") >= 1 && packets("drop") >= 1, "the forward's counters did not count:\n{chain}");
}

/// Waits, at most ten seconds, until the server prints its first line.
fn wait_ready(stdout: Option<ChildStdout>) {
    use std::io::BufRead;
    let stdout = stdout.expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the backend printed nothing within 10 s");
    assert_eq!(line.trim(), "ready", "the backend did not start");
}

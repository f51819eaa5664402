//! Apply under API faults, against a real `moto` EC2 server (and PostgreSQL for the state):
//! throttling, server errors and dropped connections through `tests/fault-proxy/proxy.py`; a
//! permanent error on one object; two applies racing on one state (local file and
//! PostgreSQL), and a lock left by a killed run; objects changed and deleted out of band. The
//! Kubernetes side behind the same proxy, and a real dockerd killed and started again in the
//! middle of an apply of containers. What exists is always counted through the APIs (boto3
//! straight against moto, the stand-in's listing, the docker CLI), never through berth.

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

mod fixtures;

use berth_tests::{Postgres, output_within, text, wait_until};
use fixtures::{FaultProxy, Fleet, Platform, StateWatch, wanted_containers};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(120);

/// The fleet at S=1: 8 instances, 16 volumes, all 16 attached.
const WHOLE: (usize, usize, usize) = (8, 16, 16);

fn ok(out: &Output) -> (String, String) {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "berth failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// `retries N` of the summary's "API calls (aws): …" line.
fn retries(log: &str) -> u64 {
    let line = log.lines().find(|l| l.starts_with("API calls (aws):")).unwrap_or_else(|| panic!("no API calls: {log}"));
    let n = line.rsplit_once("retries ").unwrap_or_else(|| panic!("no retries in {line}")).1;
    n.trim().parse().unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Throttling (`RequestLimitExceeded`), HTTP 503 and dropped connections on 30 % of the calls:
/// the SDK's standard retries carry the apply through, the summary counts them, and exactly
/// the spec exists. The proxy forwards a call after 3 faults in a row: the SDK makes 5
/// attempts per call, and without the cap a 30 % rate fails a call on all 5 about once per
/// 400 calls. `BERTH_FAULT_SEEDS` (default `1,2`) sets the seeds; tests/faults.sh runs more.
#[test]
fn throttling_server_errors_and_dropped_connections_are_retried_to_exactly_the_spec() {
    let seeds = std::env::var("BERTH_FAULT_SEEDS").unwrap_or_else(|_| "1,2".into());
    let mut fleet = Fleet::new("throttle");
    for seed in seeds.split(',') {
        let proxy = FaultProxy::start(fleet.moto.url(), &["--rate", "0.3", "--seed", seed, "--max-streak", "3"]);
        fleet.endpoint = Some(proxy.url().to_owned());
        let start = Instant::now();
        let (_, log) = ok(&output_within(&mut fleet.apply(), LIMIT));
        let took = start.elapsed();
        assert!(log.contains("Apply complete"), "{log}");
        assert_eq!(fleet.counts(), WHOLE, "seed {seed}: not exactly the spec");
        let injected = proxy.injected();
        let retried = retries(&log);
        eprintln!("seed {seed}: {took:?}, proxy {}, berth retries {retried}", proxy.stats());
        assert!(injected > 0, "seed {seed}: the proxy injected nothing: {}", proxy.stats());
        // Every fault is followed by another attempt (3 in a row at most, of 5), and berth
        // counts each.
        assert_eq!(retried, injected, "seed {seed}: retries counted against faults injected: {log}");
        assert!(took < Duration::from_secs(60), "seed {seed}: the apply took {took:?}");

        // Through the faults still, a refreshing plan finds exactly what was applied.
        let clean = output_within(fleet.berth("plan").args(["--refresh", "--detailed-exitcode"]), LIMIT);
        assert_eq!(clean.status.code(), Some(0), "seed {seed}: {:?}", text(&clean));
        fleet.endpoint = None;
        fleet.reset();
    }
}

/// One host's subnet does not exist (moto accepts any AMI, but not an unknown subnet): its
/// instance fails, the attachments of its volumes are skipped, and every other host is whole.
#[test]
fn a_permanent_error_fails_that_object_and_its_dependents_only() {
    let mut fleet = Fleet::new("permanent");
    fleet.prepare_with(|doc| doc["dockerHosts"][3]["subnet"] = "subnet-00000000".into());
    let out = output_within(&mut fleet.apply(), LIMIT);
    let (_, log) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("Apply FAILED"), "{log}");
    let failed: Vec<&str> = log.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(failed.len(), 1, "one object failed: {log}");
    assert!(failed[0].starts_with("error: host.fleet/dh003:aws_instance:"), "{log}");
    assert!(failed[0].contains("InvalidSubnetID.NotFound"), "{log}");
    let row = |kind: &str| -> Vec<String> {
        let line = log.lines().find(|l| l.starts_with(kind)).unwrap_or_else(|| panic!("no {kind} row: {log}"));
        line.split_whitespace().skip(1).map(str::to_owned).collect()
    };
    // created updated replaced deleted failed skipped
    assert_eq!(row("aws_instance "), ["7", "0", "0", "0", "1", "0"], "{log}");
    assert_eq!(row("aws_ebs_volume "), ["16", "0", "0", "0", "0", "0"], "{log}");
    assert_eq!(row("aws_volume_attachment "), ["14", "0", "0", "0", "0", "2"], "{log}");

    let hosts = fleet.per_host();
    let names: Vec<&str> = hosts.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names.len(), 7, "{hosts:?}");
    assert!(!names.iter().any(|n| n.contains("dh003")), "{hosts:?}");
    assert!(hosts.iter().all(|(_, i, a)| (*i, *a) == (1, 2)), "every other host whole: {hosts:?}");
    assert_eq!(fleet.counts(), (7, 16, 14));
}

/// A `berth apply` started in the background; killed when dropped.
struct Running(Child);

impl Running {
    fn spawn(cmd: &mut std::process::Command) -> Self {
        Running(cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("berth"))
    }

    fn id(&self) -> u32 {
        self.0.id()
    }

    /// Waits for it (at most [`LIMIT`]) and returns its output.
    fn finish(mut self) -> Output {
        let done = wait_until("a background berth to finish", LIMIT, || self.0.try_wait().ok().flatten().is_some());
        assert!(done, "a background berth did not finish");
        let child = std::mem::replace(&mut self.0, std::process::Command::new("true").spawn().expect("true"));
        child.wait_with_output().expect("its output")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two applies at once on one state: the first, slowed down by a proxy that delays every
/// call, holds the lock; a second with `--lock-timeout 0s` fails at once naming it (its
/// process id), one with `--lock-timeout 60s` waits and then finds nothing to do; exactly the
/// spec exists. A run killed with SIGKILL while it holds the lock does not wedge the next.
fn two_applies_at_once(fleet: &Fleet) {
    let slow = FaultProxy::start(fleet.moto.url(), &["--rate", "0", "--delay", "0.4"]);
    let mut slowed = fleet.apply();
    slowed.env("AWS_ENDPOINT_URL", slow.url());

    let first = Running::spawn(&mut slowed);
    // It calls AWS only once it holds the lock.
    let busy = wait_until("the first apply calls AWS", LIMIT, || slow.stats()["forwarded"].as_u64() > Some(0));
    assert!(busy, "the first apply never called AWS");
    let waiting = Running::spawn(fleet.apply().args(["--lock-timeout", "60s"]));
    let refused = output_within(fleet.apply().args(["--lock-timeout", "0s"]), LIMIT);
    let (_, err) = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(err.contains("is locked by apply") && err.contains(&format!("pid {}", first.id())), "{err}");

    let first = first.finish();
    let (_, log) = ok(&first);
    assert!(log.contains("Apply complete"), "{log}");
    let (said, log) = ok(&waiting.finish());
    let log = format!("{said}{log}");
    assert!(log.contains("Apply complete") || log.contains("No changes"), "{log}");
    assert!(!log.contains("aws_instance                        8"), "the waiting run created again: {log}");
    assert_eq!(fleet.counts(), WHOLE, "two applies made more than the spec");

    // Killed while it holds the lock: the lock goes with it.
    let (_, log) = ok(&output_within(fleet.berth("destroy").arg("--auto-approve"), LIMIT));
    assert_eq!(fleet.counts().0, 0, "{log}");
    let killed = Running::spawn(&mut slowed);
    let before = slow.stats()["forwarded"].as_u64();
    let busy = wait_until("the apply to be killed calls AWS", LIMIT, || slow.stats()["forwarded"].as_u64() > before);
    assert!(busy, "the apply to be killed never called AWS");
    let pid = killed.id();
    drop(killed);
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    let out = output_within(fleet.apply().args(["--lock-timeout", "0s"]), LIMIT);
    let (_, log) = text(&out);
    assert!(out.status.success(), "the lock of killed pid {pid} wedged the next run:\n{log}");
    assert!(start.elapsed() < Duration::from_secs(60));
    assert_eq!(fleet.counts(), WHOLE);
    let clean = output_within(fleet.berth("plan").args(["--refresh", "--detailed-exitcode"]), LIMIT);
    assert_eq!(clean.status.code(), Some(0), "{:?}", text(&clean));
}

#[test]
fn two_applies_on_a_local_state_take_turns_and_a_killed_holder_does_not_wedge() {
    let fleet = Fleet::new("lock-local");
    two_applies_at_once(&fleet);
}

#[test]
fn two_applies_on_a_postgres_state_take_turns_and_a_killed_holder_does_not_wedge() {
    let pg = Postgres::start();
    let mut fleet = Fleet::new("lock-pg");
    fleet.state_arg = pg.url();
    two_applies_at_once(&fleet);
}

/// A volume resized, an instance's `Name` tag (the spec's host name) deleted and another
/// instance terminated, all out of band: `plan --refresh` reports each as
/// drift (exit 2) and `repair` (the verbs given) puts them back, after which a refreshing plan
/// is clean and exactly the spec exists, counted through boto3.
fn drift_reported_and_repaired(label: &str, repair: &[&[&str]]) {
    let fleet = Fleet::new(label);
    ok(&output_within(&mut fleet.apply(), LIMIT));
    assert_eq!(fleet.counts(), WHOLE);

    let ids = fleet.python(
        "f = lambda n: [{'Name': 'tag:berth:address', 'Values': [n]}]\n\
         v0 = ec2.describe_volumes(Filters=f('host.fleet/dh001.volume.data/vol0:aws_ebs_volume'))['Volumes'][0]\n\
         i = [x for r in ec2.describe_instances(Filters=f('host.fleet/dh005:aws_instance'))['Reservations'] \
              for x in r['Instances']][0]\n\
         h = [x for r in ec2.describe_instances(Filters=f('host.fleet/dh002:aws_instance'))['Reservations'] \
              for x in r['Instances']][0]\n\
         ec2.modify_volume(VolumeId=v0['VolumeId'], Size=v0['Size'] + 100)\n\
         ec2.delete_tags(Resources=[h['InstanceId']], Tags=[{'Key': 'Name'}])\n\
         ec2.terminate_instances(InstanceIds=[i['InstanceId']])\n\
         print(v0['Size'] + 100, i['InstanceId'])",
    );
    let (size, instance) = ids.split_once(' ').expect("a size and an instance");

    let plan = output_within(fleet.berth("plan").args(["--refresh", "--detailed-exitcode"]), LIMIT);
    let (said, err) = text(&plan);
    assert_eq!(plan.status.code(), Some(2), "{said}\n{err}");
    let drift: Vec<&str> = err.lines().filter(|l| l.starts_with("drift: ")).collect();
    let has = |address: &str, what: &str| drift.iter().any(|l| l.contains(address) && l.contains(what));
    assert!(has("host.fleet/dh001.volume.data/vol0:aws_ebs_volume", size), "the resize: {drift:#?}");
    assert!(has("host.fleet/dh005:aws_instance", "no longer exists"), "{instance} terminated: {drift:#?}");
    assert!(has("host.fleet/dh002:aws_instance", "tags"), "the deleted Name tag: {drift:#?}");
    assert!(said.contains("size = 16100 -> 16000") && said.contains("+ host.fleet/dh005:aws_instance"), "{said}");

    let mut log = String::new();
    for verb in repair {
        let out = output_within(fleet.berth(verb[0]).args(&verb[1..]), LIMIT);
        let (o, e) = text(&out);
        log.push_str(&format!("berth {}:\n{o}{e}", verb.join(" ")));
        assert!(out.status.success(), "{log}");
    }
    let clean = output_within(fleet.berth("plan").args(["--refresh", "--detailed-exitcode"]), LIMIT);
    assert_eq!(clean.status.code(), Some(0), "the drift was not repaired:\n{log}\nplan: {:?}", text(&clean));
    assert_eq!(fleet.counts(), WHOLE, "{log}");
    let sizes = fleet.python(
        "f = [{'Name': 'tag-key', 'Values': ['berth:lineage']}]\n\
         print(sorted(set(x['Size'] for x in ec2.describe_volumes(Filters=f)['Volumes'])))",
    );
    assert_eq!(sizes, "[16000]", "the resized volume is back to its size: {log}");
    let names = fleet.python(
        "f = [{'Name': 'tag-key', 'Values': ['berth:lineage']}]\n\
         print(' '.join(sorted(t['Value'] for r in ec2.describe_instances(Filters=f)['Reservations'] \
                               for i in r['Instances'] if i['State']['Name'] == 'running' \
                               for t in i['Tags'] if t['Key'] == 'Name')))",
    );
    assert_eq!(names, (0..8).map(|n| format!("dh{n:03}")).collect::<Vec<_>>().join(" "), "{log}");
}

#[test]
fn drift_is_reported_by_plan_and_repaired_by_refresh_then_apply() {
    drift_reported_and_repaired("drift-refresh", &[&["refresh"], &["apply", "--auto-approve"]]);
}

/// `berth apply` reads the real objects before it plans, so it repairs drift by itself.
#[test]
fn drift_is_reported_by_plan_and_repaired_by_apply_alone() {
    drift_reported_and_repaired("drift-apply", &[&["apply", "--auto-approve"]]);
}

/// One cluster with three services, for the Kubernetes side under faults.
const CLUSTER_SPEC: &str = r#"
cluster "c" {
  version  = "1.31"
  region   = "us-east-1"
  subnets  = ["subnet-a", "subnet-b"]
  max_pods = 100

  node_pool "pool" {
    instance_type = "m6i.4xlarge"
    min           = 2
    max           = 2
  }
}

service "web" {
  for_each  = toset(["a", "b", "c"])
  replicas  = 2
  image     = "registry.example/${each.key}:1.0"
  ports     = { http = 8080 }
  cpu       = "100m"
  memory    = "128Mi"
  namespace = "web"

  placement {
    clusters = [cluster.c]
  }
}
"#;

/// The Kubernetes side behind the fault proxy: 429 (with a `Status` body and `Retry-After`),
/// 503 and dropped connections on 30 % of the calls to the stand-in; the engine's own retries
/// (6 attempts) carry the apply through, the summary counts them, and exactly the spec exists
/// in the stand-in.
#[test]
fn the_kubernetes_side_retries_429_503_and_dropped_connections_to_exactly_the_spec() {
    let dir = berth_tests::TempDir::new("kube-faults");
    let standin = berth_tests::KubeStandIn::start(&dir, "c");
    let spec = dir.write("main.hcl", CLUSTER_SPEC);
    let kubeconfig = std::fs::read_to_string(standin.kubeconfig()).expect("the kubeconfig");
    let direct = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("server:").map(|s| s.trim().trim_matches('"').to_owned()))
        .expect("a server in the kubeconfig");
    let proxy =
        FaultProxy::start(&direct, &["--rate", "0.3", "--seed", "3", "--faults", "429,503,drop", "--max-streak", "4"]);
    let faulty = dir.write("faulty.kubeconfig", kubeconfig.replace(&direct, proxy.url()));
    let state = dir.path().join("state.json");
    let run = |kubeconfig: &std::path::Path, args: &[&str]| {
        let mut cmd = berth_tests::berth();
        cmd.args(args)
            .arg(&spec)
            .arg("--state")
            .arg(&state)
            .args(["--only", "kubernetes"])
            .env("KUBECONFIG", kubeconfig);
        output_within(&mut cmd, LIMIT)
    };

    let start = Instant::now();
    let (_, log) = ok(&run(&faulty, &["apply", "--auto-approve"]));
    let took = start.elapsed();
    let calls = log.lines().find(|l| l.starts_with("API calls (kubernetes):")).unwrap_or_else(|| panic!("{log}"));
    let retried: u64 = calls
        .split(", ")
        .find_map(|c| c.rsplit_once("retries ").map(|(_, n)| n.trim().parse().expect("a count")))
        .unwrap_or(0);
    eprintln!("kubernetes: {took:?}, proxy {}, berth retries {retried}", proxy.stats());
    assert!(proxy.injected() > 0, "the proxy injected nothing: {}", proxy.stats());
    assert!(retried > 0, "no retries counted: {log}");
    assert!(took < Duration::from_secs(60), "the apply took {took:?}");

    let count = |path: &str| {
        let (status, body) = standin.http("GET", path, "application/json", "");
        assert_eq!(status, 200, "{path}: {body}");
        body["items"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(count("/apis/apps/v1/namespaces/web/statefulsets"), 3, "{log}");
    assert_eq!(count("/api/v1/namespaces/web/services"), 3, "{log}");
    let clean = run(standin.kubeconfig(), &["plan", "--refresh", "--detailed-exitcode"]);
    assert_eq!(clean.status.code(), Some(0), "{:?}", text(&clean));
}

/// Sends SIGINT to a process, as Ctrl-C does.
fn interrupt(pid: u32) {
    let sent = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().expect("kill");
    assert!(sent.success(), "kill -INT {pid} failed");
}

/// Ctrl-C during an apply: no new work starts, the calls in flight finish, the state is saved
/// whole and the run says it was stopped; the next run finishes the job. A second Ctrl-C exits
/// at once (130), and the state is still whole.
#[test]
fn ctrl_c_stops_starting_work_saves_the_state_and_a_second_exits_at_once() {
    let fleet = Fleet::new("ctrl-c");
    let slow = FaultProxy::start(fleet.moto.url(), &["--rate", "0", "--delay", "0.3"]);
    let mut slowed = fleet.apply();
    slowed.args(["--parallelism", "2"]).env("AWS_ENDPOINT_URL", slow.url());

    let run = Running::spawn(&mut slowed);
    // Past the lookups that come before the walk: creations are under way.
    let busy = wait_until("the apply creates", LIMIT, || slow.stats()["forwarded"].as_u64() > Some(10));
    assert!(busy, "the apply never called AWS");
    interrupt(run.id());
    let out = run.finish();
    let (_, log) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("interrupted") && log.contains("the apply was stopped"), "{log}");
    assert!(fleet.counts().0 < WHOLE.0, "the interrupted run started everything anyway: {log}");
    fleet.saved().expect("the state is saved");

    // Calls that take a second each: the second Ctrl-C comes while they are in flight.
    let slower = FaultProxy::start(fleet.moto.url(), &["--rate", "0", "--delay", "1.0"]);
    let mut slowed = fleet.apply();
    slowed.env("AWS_ENDPOINT_URL", slower.url());
    let run = Running::spawn(&mut slowed);
    let busy = wait_until("the apply calls AWS again", LIMIT, || slower.stats()["forwarded"].as_u64() > Some(6));
    assert!(busy, "the second apply never called AWS");
    let start = Instant::now();
    interrupt(run.id());
    std::thread::sleep(Duration::from_millis(20));
    interrupt(run.id());
    let out = run.finish();
    assert_eq!(out.status.code(), Some(130), "{:?}", text(&out));
    assert!(start.elapsed() < Duration::from_secs(5), "the second Ctrl-C did not exit at once");
    fleet.saved().expect("the state is whole after the second Ctrl-C");
    // Calls the dead run left in the proxy still reach moto. Real EC2 would dedupe the re-run's
    // creations by ClientToken; moto does not, so the re-run waits until they are through.
    std::thread::sleep(Duration::from_secs(2));

    ok(&output_within(&mut fleet.apply(), LIMIT));
    assert_eq!(fleet.counts(), WHOLE);
    let clean = output_within(fleet.berth("plan").args(["--refresh", "--detailed-exitcode"]), LIMIT);
    assert_eq!(clean.status.code(), Some(0), "{:?}", text(&clean));
}

/// dockerd killed (SIGKILL, as a crash) and started again on the same socket, data-root and
/// network namespace while `berth apply --only docker` creates 24 containers on it: the apply
/// waits for the daemon and finishes, or fails naming the daemon, without a panic; the state is
/// a whole document with a serial that never goes back at every moment; the re-run leaves
/// exactly the spec's containers, each running on its networks, no duplicate and nothing
/// orphaned (counted by berth's labels through the docker CLI), and a refreshing plan is clean.
/// The daemon is down for `BERTH_DOCKERD_DOWN_SECONDS`, by default 15: longer than the engine
/// retries one call (at most 14.2 s), shorter than the walk tries an object (at least 35 s), so
/// that every object in flight is tried again from its creation, which meets the containers
/// the daemon made before it died. tests/faults.sh also runs it with 0.5 and with 90 (longer
/// than berth waits: the apply fails).
#[test]
fn dockerd_restarted_mid_apply_is_waited_for_and_the_rerun_converges() {
    const CONTAINERS: usize = 24;
    let down: f64 = std::env::var("BERTH_DOCKERD_DOWN_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(15.0);
    let mut platform = Platform::new("dockerd-restart", CONTAINERS);
    let endpoint = platform.docker.dockerd.endpoint();
    let watch = StateWatch::start(platform.state());
    let mut apply = platform.apply();
    apply.args(["--only", "docker"]);
    let run = Running::spawn(&mut apply);

    // The first containers exist (the image is pulled), more are being made: the daemon dies.
    let started = wait_until("the first containers to exist", LIMIT, || !platform.docker.containers().is_empty());
    assert!(started, "the apply created no container");
    let before = platform.saved().map(|s| s.serial);
    platform.docker.dockerd.kill();
    std::thread::sleep(Duration::from_secs_f64(down));
    platform.docker.dockerd.restart();

    let out = run.finish();
    let (said, log) = text(&out);
    let log = format!("{said}{log}");
    assert!(!log.contains("panicked") && !log.contains("RUST_BACKTRACE"), "{log}");
    match out.status.code() {
        Some(0) => assert!(log.contains("Apply complete"), "{log}"),
        Some(1) => {
            let errors: Vec<&str> = log.lines().filter(|l| l.starts_with("error: ")).collect();
            assert!(!errors.is_empty(), "a failed apply says why: {log}");
            assert!(errors.iter().all(|e| e.contains(&endpoint)), "every error names the daemon {endpoint}: {log}");
        }
        code => panic!("exit code {code:?}: {log}"),
    }
    let summary = log.split_once("\nkind ").map_or("", |(_, s)| s);
    eprintln!("berth across a restart after {down} s: exit {:?}\nkind {summary}", out.status.code());
    assert!(platform.docker.dockerd.ready(), "dockerd did not come back: {}", platform.docker.dockerd.log());
    let after = platform.saved().expect("a state").serial;
    assert!(before.is_none_or(|b| after >= b), "the serial went back from {before:?} to {after}");

    let rerun = output_within(platform.apply().args(["--only", "docker"]), LIMIT);
    ok(&rerun);
    let reads = watch.finish();
    assert!(reads > 0, "the state was never read");
    assert_eq!(platform.docker.containers(), wanted_containers(CONTAINERS), "{:?}", text(&rerun));
    assert_eq!(platform.docker.networks(), ["berth_back", "berth_default"]);
    let clean =
        output_within(platform.berth("plan").args(["--only", "docker", "--refresh", "--detailed-exitcode"]), LIMIT);
    assert_eq!(clean.status.code(), Some(0), "{:?}", text(&clean));
}

/// A run killed between creating a container and starting it leaves a container that exists,
/// carries this state's lineage and reads as absent (never started), and no record of it:
/// `berth destroy` deletes it with the rest (counted through the docker CLI), where it used to
/// leave it behind.
#[test]
fn a_destroy_deletes_the_containers_a_dead_run_never_started() {
    let platform = Platform::new("unfinished", 4);
    ok(&output_within(platform.apply().args(["--only", "docker"]), LIMIT));
    assert_eq!(platform.docker.containers(), wanted_containers(4));
    let lineage = platform.saved().expect("a state").lineage;
    let image = platform.docker.docker(&["inspect", "--format", "{{.Config.Image}}", "fleet-1"]);
    // What the dead run left: fleet-1 made again by it, under its labels, and never started.
    platform.docker.docker(&["rm", "-f", "fleet-1"]);
    let address = "container.fleet/1:docker_container";
    let (address_label, lineage_label) = (format!("berth.address={address}"), format!("berth.lineage={lineage}"));
    platform.docker.docker(&[
        "create",
        "--name",
        "fleet-1",
        "--label",
        &address_label,
        "--label",
        &lineage_label,
        image.trim(),
        "sleep",
        "3600",
    ]);
    let left = platform.docker.containers();
    assert!(left.iter().any(|c| c.1 == "fleet-1" && c.2 == "created"), "{left:?}");

    let (_, log) = ok(&output_within(platform.berth("destroy").args(["--only", "docker", "--auto-approve"]), LIMIT));
    assert!(log.contains(&format!("found {address}~")) && log.contains("to be deleted"), "{log}");
    assert_eq!(platform.docker.containers(), Vec::new(), "{log}");
    assert_eq!(platform.docker.networks(), Vec::<String>::new(), "{log}");
}

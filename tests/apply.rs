//! `berth plan`, `apply`, `destroy` and `gc` end to end against a real `moto` EC2 server on
//! 127.0.0.1: what exists is counted through the EC2 API (boto3), never through berth's state.

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

use berth_tests::{Moto, TempDir, berth, output_within, text};
use std::process::Output;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(180);

/// Two hosts with a data volume each, the volume size a variable, one host in an environment
/// that expires at the end of 2026-11-26 and one in an environment that lives on.
const SPEC: &str = r#"
variable "ami" {
  type = string
}

variable "size" {
  type    = string
  default = "100Gi"
}

environment "short" {
  owner   = "qa"
  expires = "2026-11-26T23:59:59Z"
}

environment "long" {
  owner   = "qa"
  expires = "2030-01-01T00:00:00Z"
}

host "a" {
  instance_type = "m5.large"
  ami           = var.ami
  zone          = "us-east-1a"
  environment   = environment.short
  tags          = { team = "qa" }

  volume "data" {
    type   = "gp3"
    size   = var.size
    device = "/dev/sdf"
    mount  = "/mnt/data"
  }
}

host "b" {
  instance_type = "m5.large"
  ami           = var.ami
  zone          = "us-east-1a"
  environment   = environment.long

  volume "data" {
    type   = "gp3"
    size   = var.size
    device = "/dev/sdf"
    mount  = "/mnt/data"
  }
}
"#;

/// A spec directory beside a moto server.
struct Fixture {
    moto: Moto,
    dir: TempDir,
    ami: String,
}

impl Fixture {
    fn new(label: &str) -> Self {
        let moto = Moto::start();
        let dir = TempDir::new(label);
        dir.write("main.hcl", SPEC);
        let ami = moto.ami();
        Fixture { moto, dir, ami }
    }

    /// Runs berth with the spec, the AMI and the state beside the spec, on 2026-11-25.
    fn berth(&self, args: &[&str], extra: &[&str]) -> Output {
        self.berth_at("2026-11-25T12:00:00Z", args, extra)
    }

    /// Runs berth as [`Fixture::berth`] does, at the time `now`.
    fn berth_at(&self, now: &str, args: &[&str], extra: &[&str]) -> Output {
        let spec = self.dir.path().to_string_lossy().into_owned();
        let mut cmd = berth();
        cmd.args(args).arg(&spec).args(["--var", &format!("ami={}", self.ami), "--now", now]);
        cmd.args(extra).envs(self.moto.env()).env("NO_COLOR", "1");
        output_within(&mut cmd, LIMIT)
    }

    /// Live instances, and volumes attached, that carry a berth lineage tag.
    fn counts(&self) -> (usize, usize) {
        let out = self.moto.python(&format!(
            "{BY_LINEAGE}\n\
             i = [x for r in ec2.describe_instances(Filters=f)['Reservations'] for x in r['Instances'] \
                  if x['State']['Name'] not in ('terminated', 'shutting-down')]\n\
             v = [x for x in ec2.describe_volumes(Filters=f)['Volumes'] \
                  if any(a['State'] == 'attached' for a in x['Attachments'])]\n\
             print(len(i), len(v))"
        ));
        let (i, v) = out.split_once(' ').expect("two counts");
        (i.parse().unwrap(), v.parse().unwrap())
    }

    /// The sizes of the volumes berth made, sorted.
    fn sizes(&self) -> String {
        self.moto.python(&format!(
            "{BY_LINEAGE}\nprint(sorted(v['Size'] for v in ec2.describe_volumes(Filters=f)['Volumes']))"
        ))
    }
}

/// A boto3 filter `f` for the objects berth tagged with a lineage.
const BY_LINEAGE: &str = "f = [{'Name': 'tag-key', 'Values': ['berth:lineage']}]";

fn ok(out: &Output) -> (String, String) {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "berth failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

#[test]
fn apply_converges_a_change_is_planned_exactly_and_destroy_leaves_nothing() {
    let f = Fixture::new("apply-moto");
    assert_eq!(f.counts(), (0, 0));

    let plan = f.berth(&["plan"], &["--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{:?}", text(&plan));
    assert!(text(&plan).0.contains("Plan: 6 to create, 0 to update"), "{}", text(&plan).0);

    let (_, log) = ok(&f.berth(&["apply"], &["--auto-approve"]));
    assert!(log.contains("Apply complete"), "{log}");
    assert!(log.contains("RunInstances 2"), "the summary counts the API calls: {log}");
    assert_eq!(f.counts(), (2, 2));

    // What exists is what the state says: a refreshing plan finds nothing to do.
    let clean = f.berth(&["plan"], &["--refresh", "--detailed-exitcode"]);
    assert_eq!(clean.status.code(), Some(0), "{:?}", text(&clean));
    assert!(text(&clean).0.contains("No changes: the 6 objects match the spec."));

    // One variable changes two volumes, and nothing else.
    let change = f.berth(&["plan"], &["--var", "size=200Gi", "--detailed-exitcode", "--json"]);
    assert_eq!(change.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&change.stdout).expect("plan JSON");
    assert_eq!(doc["format_version"], 1);
    let changes: Vec<(String, String, String)> = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no-op")
        .map(|c| {
            (c["address"].as_str().unwrap().into(), c["action"].as_str().unwrap().into(), c["changed"].to_string())
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("host.a.volume.data:aws_ebs_volume".into(), "update".into(), r#"["size"]"#.into()),
            ("host.b.volume.data:aws_ebs_volume".into(), "update".into(), r#"["size"]"#.into()),
        ]
    );
    ok(&f.berth(&["apply"], &["--var", "size=200Gi", "--auto-approve"]));
    assert_eq!(f.sizes(), "[200, 200]");
    let again = f.berth(&["plan"], &["--var", "size=200Gi", "--refresh", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{:?}", text(&again));

    // A saved plan applies only to the state it was made against.
    let saved = f.dir.path().join("saved.json");
    let saved = saved.to_string_lossy();
    ok(&f.berth(&["plan"], &["--var", "size=300Gi", "-o", &saved]));
    ok(&f.berth(&["apply"], &["--var", "size=250Gi", "--auto-approve"]));
    // A saved plan is applied with the variables it was made with (berth keeps no sensitive
    // value in a plan file, so it compiles its spec again).
    let apply_saved = |size: &str| {
        let mut cmd = berth();
        cmd.args(["apply", &saved, "--auto-approve", "--var", &format!("ami={}", f.ami), "--var", size])
            .envs(f.moto.env());
        output_within(&mut cmd, LIMIT)
    };
    let stale = apply_saved("size=300Gi");
    assert_eq!(stale.status.code(), Some(1));
    assert!(text(&stale).1.contains("changed since"), "{}", text(&stale).1);
    assert_eq!(f.sizes(), "[250, 250]", "the stale plan changed nothing");
    ok(&f.berth(&["plan"], &["--var", "size=300Gi", "-o", &saved]));
    let other = apply_saved("size=350Gi");
    assert!(text(&other).1.contains("another version"), "{:?}", text(&other));
    ok(&apply_saved("size=300Gi"));
    assert_eq!(f.sizes(), "[300, 300]", "the saved plan was applied");

    let (_, log) = ok(&f.berth(&["destroy"], &["--auto-approve"]));
    assert!(log.contains("Apply complete"), "{log}");
    assert_eq!(f.counts(), (0, 0));
    assert_eq!(f.sizes(), "[]");
}

#[test]
fn gc_deletes_expired_environments_only_and_apply_leaves_them_out() {
    let f = Fixture::new("gc-moto");
    ok(&f.berth(&["apply"], &["--auto-approve"]));
    assert_eq!(f.counts(), (2, 2));

    // Friday evening: the short environment has expired.
    let later = "2026-11-27T18:00:00Z";
    let (said, _) = ok(&f.berth_at(later, &["gc"], &["--dry-run"]));
    assert!(said.contains("environment short: expired, its expiry 2026-11-26T23:59:59Z has passed"), "{said}");
    assert!(said.contains("environment long: live"), "{said}");
    assert!(said.contains("3 to delete"), "{said}");
    assert_eq!(f.counts(), (2, 2), "a dry run deletes nothing");

    ok(&f.berth_at(later, &["gc"], &[]));
    assert_eq!(f.counts(), (1, 1));
    let names = f.moto.python(
        "print(sorted(t['Value'] for r in ec2.describe_instances()['Reservations'] for i in r['Instances'] \
         if i['State']['Name'] == 'running' for t in i.get('Tags', []) if t['Key'] == 'Name'))",
    );
    assert_eq!(names, "['b']");

    // The expired environment is not brought back by the next apply.
    let plan = f.berth_at(later, &["plan"], &["--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{:?}", text(&plan));
    assert!(text(&plan).1.contains("environment short has expired"), "{}", text(&plan).1);
}

#[test]
fn a_locked_state_names_its_holder_and_a_bad_state_is_refused_untouched() {
    use berth_apply::backend::{Backend, LocalBackend, LockInfo};
    let f = Fixture::new("lock-moto");
    let state = f.dir.path().join("berth.state.json");

    // Another run holds the lock: refused at once, naming it; with --lock-timeout, berth waits.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let backend = LocalBackend::new(&state);
    let holder = LockInfo::new("apply", jiff::Timestamp::UNIX_EPOCH);
    let guard = runtime.block_on(backend.lock(&holder, Duration::ZERO)).expect("the lock is free");
    let out = f.berth(&["apply"], &["--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    let (_, err) = text(&out);
    assert!(err.contains("is locked by apply") && err.contains(&holder.id), "{err}");
    assert_eq!(f.counts(), (0, 0), "nothing was applied without the lock");
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        drop(guard);
    });
    ok(&f.berth(&["apply"], &["--auto-approve", "--lock-timeout", "60s"]));
    release.join().unwrap();
    assert_eq!(f.counts(), (2, 2));
    let before = std::fs::read(&state).expect("the state beside the spec");

    // A truncated state: a clear error, and nothing written.
    std::fs::write(&state, &before[..before.len() / 2]).unwrap();
    let out = f.berth(&["apply"], &["--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    let (_, err) = text(&out);
    assert!(err.contains("not a valid state document") && err.contains("backup"), "{err}");
    assert_eq!(std::fs::read(&state).unwrap(), &before[..before.len() / 2]);
    std::fs::write(&state, &before).unwrap();
    assert_eq!(f.counts(), (2, 2), "nothing was created twice");
}

#[test]
fn a_lost_state_is_refused_with_its_lineage_and_adopted_without_duplicates() {
    let f = Fixture::new("lost-moto");
    ok(&f.berth(&["apply"], &["--auto-approve"]));
    assert_eq!(f.counts(), (2, 2));
    let state = f.dir.path().join("berth.state.json");
    let lineage = berth_plan::State::parse(&std::fs::read(&state).unwrap()).unwrap().lineage;
    for suffix in ["", ".backup"] {
        std::fs::remove_file(format!("{}{suffix}", state.display())).unwrap();
    }

    let out = f.berth(&["apply"], &["--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    let (_, err) = text(&out);
    assert!(err.contains("holds no state, but 6 objects of this spec exist"), "{err}");
    assert!(err.contains(&format!("--lineage {lineage}")), "{err}");
    assert_eq!(f.counts(), (2, 2), "nothing created twice");

    let (_, log) = ok(&f.berth(&["apply"], &["--auto-approve", "--lineage", &lineage]));
    assert!(log.contains("adopted host.a:aws_instance"), "{log}");
    assert_eq!(f.counts(), (2, 2), "the objects were adopted, not created again");
    let clean = f.berth(&["plan"], &["--refresh", "--detailed-exitcode"]);
    assert_eq!(clean.status.code(), Some(0), "{:?}", text(&clean));
}

/// A cluster whose IAM roles are left to Terraform variables.
const CLUSTER_WITHOUT_ROLES: &str = r#"
cluster "c" {
  version = "1.31"
  region  = "us-east-1"
  subnets = ["subnet-a", "subnet-b"]

  node_pool "p" {
    instance_type = "m6i.large"
    min           = 1
    max           = 1
  }
}
"#;

#[test]
fn a_cluster_without_iam_roles_is_refused_before_anything_is_created() {
    let moto = Moto::start();
    let dir = TempDir::new("roles-moto");
    let spec = dir.path().to_string_lossy().into_owned();
    dir.write("main.hcl", CLUSTER_WITHOUT_ROLES);
    let run = |args: &[&str]| {
        let mut cmd = berth();
        cmd.args(args).arg(&spec).envs(moto.env()).env("NO_COLOR", "1");
        output_within(&mut cmd, LIMIT)
    };
    for verb in [&["plan"][..], &["apply", "--auto-approve"]] {
        let out = run(verb);
        assert_eq!(out.status.code(), Some(1), "{verb:?}: {:?}", text(&out));
        let (_, err) = text(&out);
        assert!(err.contains("apply::iam-role") && err.contains("main.hcl:2:1"), "{err}");
        assert!(err.contains("cluster c sets no `role_arn`") && err.contains("`node_role_arn`"), "{err}");
        assert!(err.contains("--only kubernetes"), "the hint says what to do: {err}");
    }
    assert!(!dir.path().join("berth.state.json").exists(), "no state was started");
    let clusters = moto.python("print(len(client('eks').list_clusters()['clusters']))");
    assert_eq!(clusters, "0");
    // Without AWS in the run, nothing needs the roles.
    let kube = run(&["plan", "--only", "kubernetes", "--detailed-exitcode"]);
    assert_eq!(kube.status.code(), Some(0), "{:?}", text(&kube));
}

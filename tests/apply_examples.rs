//! Each example's cloud side applied to a real `moto` EC2 server and its clusters to the
//! Kubernetes stand-in (one per cluster; no real API server can run here): a refreshing plan
//! afterwards finds nothing to do, and destroy leaves nothing, counted through the APIs. The
//! examples' Docker hosts run thousands of containers from registries that cannot be reached
//! here; the Docker engine is applied end to end in providers/dockerd's tests.

use berth_tests::{KubeStandIn, Moto, TempDir, berth, output_within, root, text};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(300);

/// An example with its state in `dir`, its clusters on stand-ins, its hosts on `moto`.
struct Example<'a> {
    spec: &'a str,
    dir: &'a TempDir,
    moto: &'a Moto,
    kubeconfig: String,
    var_file: Option<String>,
}

impl Example<'_> {
    fn berth(&self, args: &[&str]) -> Command {
        let mut cmd = berth();
        cmd.args(args)
            .arg(self.spec)
            .arg("--state")
            .arg(self.dir.path().join("state.json"))
            .current_dir(root())
            .envs(self.moto.env())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("NO_COLOR", "1");
        if let Some(f) = &self.var_file {
            cmd.args(["--var-file", f]);
        }
        if !args.contains(&"--now") {
            cmd.args(["--now", "2026-11-25T12:00:00Z"]);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        output_within(&mut self.berth(args), LIMIT)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{} {args:?} failed:\n{stdout}\n{stderr}", self.spec);
        stderr
    }

    /// A refreshing plan of one engine's objects finds nothing to do.
    fn clean(&self, engine: &str) {
        let out = self.run(&["plan", "--only", engine, "--refresh", "--detailed-exitcode"]);
        assert_eq!(out.status.code(), Some(0), "{} {engine}: {:?}", self.spec, text(&out));
    }
}

/// Instances and volumes that carry berth's lineage tag, live.
fn aws_objects(moto: &Moto) -> (usize, usize) {
    let out = moto.python(
        "f = [{'Name': 'tag-key', 'Values': ['berth:lineage']}]\n\
         i = [x for r in ec2.describe_instances(Filters=f)['Reservations'] for x in r['Instances'] \
              if x['State']['Name'] not in ('terminated', 'shutting-down')]\n\
         print(len(i), len(ec2.describe_volumes(Filters=f)['Volumes']))",
    );
    let (i, v) = out.split_once(' ').expect("two counts");
    (i.parse().unwrap(), v.parse().unwrap())
}

fn kubeconfig(clusters: &[KubeStandIn]) -> String {
    let files: Vec<&str> = clusters.iter().map(|c| c.kubeconfig().to_str().expect("a UTF-8 path")).collect();
    files.join(":")
}

#[test]
fn esw_central_hosts_and_cluster_apply_cleanly_and_destroy_to_nothing() {
    let (moto, dir) = (Moto::start(), TempDir::new("esw-apply"));
    let subnets = moto.python(
        "print(json.dumps({'subnets': [next(s['SubnetId'] for s in ec2.describe_subnets()['Subnets'] \
         if s['AvailabilityZone'] == z) for z in ('us-east-1a', 'us-east-1b', 'us-east-1c')]}))",
    );
    let vars = dir.write("subnets.json", subnets);
    let clusters = [KubeStandIn::start(&dir, "central")];
    let example = Example {
        spec: "examples/esw-central",
        dir: &dir,
        moto: &moto,
        kubeconfig: kubeconfig(&clusters),
        var_file: Some(vars.to_string_lossy().into_owned()),
    };

    let log = example.ok(&["apply", "--only", "aws", "--auto-approve"]);
    assert!(log.contains("RunInstances 8"), "{log}");
    assert_eq!(aws_objects(&moto), (8, 8), "8 hosts, each with its data volume");
    example.ok(&["apply", "--only", "kubernetes", "--auto-approve"]);
    let portal = |kind: &str| (kind.to_owned(), "default".to_owned(), "portal".to_owned());
    assert_eq!(clusters[0].berth_objects(), [portal("Deployment"), portal("Service")]);
    example.clean("aws");
    example.clean("kubernetes");

    example.ok(&["destroy", "--only", "kubernetes", "--auto-approve"]);
    example.ok(&["destroy", "--only", "aws", "--auto-approve"]);
    assert_eq!(aws_objects(&moto), (0, 0));
    assert_eq!(clusters[0].berth_objects(), []);
}

#[test]
fn bank_multicluster_clusters_apply_in_parallel_and_destroy_to_nothing() {
    let (moto, dir) = (Moto::start(), TempDir::new("bank-apply"));
    let names = ["b0", "b1", "b2", "b3", "stress"];
    let clusters: Vec<KubeStandIn> = names.iter().map(|n| KubeStandIn::start(&dir, n)).collect();
    let example = Example {
        spec: "examples/bank-multicluster",
        dir: &dir,
        moto: &moto,
        kubeconfig: kubeconfig(&clusters),
        var_file: None,
    };
    assert!(Path::new(&root().join(example.spec)).is_dir());

    let log = example.ok(&["apply", "--auto-approve"]);
    assert!(log.contains("Apply complete"), "{log}");
    for (name, cluster) in names.iter().zip(&clusters) {
        assert!(!cluster.berth_objects().is_empty(), "nothing applied to {name}");
    }
    example.clean("kubernetes");

    // Friday evening: gc tears the stress environment down and leaves the rest.
    let canary = |c: &KubeStandIn| c.berth_objects().iter().filter(|(_, _, name)| name == "calc-canary").count();
    let stress = &clusters[4];
    assert!(canary(stress) > 0);
    let friday = example.run(&["gc", "--now", "2026-11-27T18:30:00Z"]);
    let (said, err) = text(&friday);
    assert!(friday.status.success(), "{said}\n{err}");
    assert!(said.contains("environment stress: expired"), "{said}\n{err}");
    assert_eq!(canary(stress), 0, "the expired environment's objects are gone");
    for (name, cluster) in names.iter().zip(&clusters).take(4) {
        assert!(!cluster.berth_objects().is_empty(), "gc took {name}'s objects too");
    }
    example.ok(&["destroy", "--auto-approve"]);
    for (name, cluster) in names.iter().zip(&clusters) {
        assert_eq!(cluster.berth_objects(), [], "{name} still has berth's objects");
    }
}

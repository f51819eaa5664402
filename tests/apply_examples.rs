//! Each example's cloud side applied to a real `moto` server (EC2, ELBv2, EKS) and its clusters'
//! Kubernetes objects to the Kubernetes stand-in (one per cluster; no real API server can run
//! here): a refreshing plan afterwards finds nothing to do, and destroy leaves nothing, counted
//! through the APIs (boto3), not through berth's state. The examples' Docker hosts run
//! thousands of containers from registries that cannot be reached here; the Docker engine is
//! applied end to end in providers/dockerd's tests.
//!
//! The examples name subnets and IAM roles that moto does not have: the tests give them moto's
//! default subnets and made-up role ARNs through the examples' variables (whose defaults keep
//! the golden output), and create the security group EKS gives each cluster with a load
//! balancer, which moto's EKS does not.

use berth_tests::{KubeStandIn, Moto, TempDir, berth, output_within, root, text};
use std::collections::BTreeMap;
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

/// The IAM roles the examples take from variables, as moto accepts them.
const ROLES: &str = r#""eks_role_arn": "arn:aws:iam::123456789012:role/eks",
    "eks_node_role_arn": "arn:aws:iam::123456789012:role/eks-nodes""#;

/// What exists of the clusters' side in `region`, through the EKS, ELBv2 and EC2 APIs:
/// clusters, node groups, load balancers, target groups, listeners, and berth's security group
/// rules (one per group and port).
fn cluster_objects(moto: &Moto, region: &str) -> BTreeMap<String, u64> {
    let out = moto.python(&format!(
        "r = {region:?}\n\
         eks, elb, e2 = client('eks', r), client('elbv2', r), client('ec2', r)\n\
         cl = eks.list_clusters()['clusters']\n\
         lbs = elb.describe_load_balancers()['LoadBalancers']\n\
         f = [{{'Name': 'tag-key', 'Values': ['berth:lineage']}}]\n\
         rules = {{(x['GroupId'], x['FromPort']) for x in e2.describe_security_group_rules(Filters=f)['SecurityGroupRules']}}\n\
         print(json.dumps({{'clusters': len(cl), \
             'node_groups': sum(len(eks.list_nodegroups(clusterName=c)['nodegroups']) for c in cl), \
             'load_balancers': len(lbs), 'target_groups': len(elb.describe_target_groups()['TargetGroups']), \
             'listeners': sum(len(elb.describe_listeners(LoadBalancerArn=l['LoadBalancerArn'])['Listeners']) \
                              for l in lbs), \
             'rules': len(rules)}}))"
    ));
    serde_json::from_str(&out).expect("counts as JSON")
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// The "API calls (aws): …" line of an apply's summary.
fn aws_calls(log: &str) -> &str {
    log.lines().find(|l| l.starts_with("API calls (aws):")).unwrap_or_else(|| panic!("no AWS calls in:\n{log}"))
}

fn kubeconfig(clusters: &[KubeStandIn]) -> String {
    let files: Vec<&str> = clusters.iter().map(|c| c.kubeconfig().to_str().expect("a UTF-8 path")).collect();
    files.join(":")
}

#[test]
fn esw_central_hosts_and_cluster_apply_cleanly_and_destroy_to_nothing() {
    let (moto, dir) = (Moto::start(), TempDir::new("esw-apply"));
    let subnets = moto.python(
        "print(json.dumps([next(s['SubnetId'] for s in ec2.describe_subnets()['Subnets'] \
         if s['AvailabilityZone'] == z and s['DefaultForAz']) for z in ('us-east-1a', 'us-east-1b', 'us-east-1c')]))",
    );
    let vars = dir.write("vars.json", format!("{{\"subnets\": {subnets}, {ROLES}}}"));
    let clusters = [KubeStandIn::start(&dir, "central")];
    let example = Example {
        spec: "examples/esw-central",
        dir: &dir,
        moto: &moto,
        kubeconfig: kubeconfig(&clusters),
        var_file: Some(vars.to_string_lossy().into_owned()),
    };

    let log = example.ok(&["apply", "--only", "aws", "--auto-approve"]);
    let calls = aws_calls(&log);
    assert!(calls.contains("RunInstances 8") && calls.contains("CreateNodegroup 1"), "{log}");
    assert_eq!(aws_objects(&moto), (8, 8), "8 hosts, each with its data volume");
    let cluster = counts(&[("clusters", 1), ("node_groups", 1)]);
    let none = counts(&[("load_balancers", 0), ("target_groups", 0), ("listeners", 0), ("rules", 0)]);
    assert_eq!(cluster_objects(&moto, "us-east-1"), cluster.clone().into_iter().chain(none.clone()).collect());
    example.ok(&["apply", "--only", "kubernetes", "--auto-approve"]);
    let portal = |kind: &str| (kind.to_owned(), "default".to_owned(), "portal".to_owned());
    assert_eq!(clusters[0].berth_objects(), [portal("Deployment"), portal("Service")]);
    example.clean("aws");
    example.clean("kubernetes");

    example.ok(&["destroy", "--only", "kubernetes", "--auto-approve"]);
    example.ok(&["destroy", "--only", "aws", "--auto-approve"]);
    assert_eq!(aws_objects(&moto), (0, 0));
    let gone = counts(&[("clusters", 0), ("node_groups", 0)]);
    assert_eq!(cluster_objects(&moto, "us-east-1"), gone.into_iter().chain(none).collect());
    assert_eq!(clusters[0].berth_objects(), []);
}

#[test]
fn bank_multicluster_clusters_apply_in_parallel_and_destroy_to_nothing() {
    let (moto, dir) = (Moto::start(), TempDir::new("bank-apply"));
    // moto's default subnets of eu-west-1 for every cluster, and the security group EKS gives
    // each cluster that a forward's rule goes on.
    let subnets = moto.python(
        "e2 = client('ec2', 'eu-west-1')\n\
         d = sorted((s['AvailabilityZone'], s['SubnetId'], s['VpcId']) for s in e2.describe_subnets()['Subnets'] \
                    if s['DefaultForAz'])[:3]\n\
         for c in ('b0', 'b1', 'b2', 'b3'):\n    \
             e2.create_security_group(GroupName='eks-cluster-sg-' + c, Description='EKS created security group', \
                 VpcId=d[0][2], TagSpecifications=[{'ResourceType': 'security-group', \
                 'Tags': [{'Key': 'aws:eks:cluster-name', 'Value': c}]}])\n\
         ids = [s for _, s, _ in d]\n\
         print(json.dumps({**{c: ids for c in ('b0', 'b1', 'b2', 'b3')}, 'stress': ids[:2]}))",
    );
    let vars = dir.write("vars.json", format!("{{\"subnets\": {subnets}, {ROLES}}}"));
    let names = ["b0", "b1", "b2", "b3", "stress"];
    let clusters: Vec<KubeStandIn> = names.iter().map(|n| KubeStandIn::start(&dir, n)).collect();
    let example = Example {
        spec: "examples/bank-multicluster",
        dir: &dir,
        moto: &moto,
        kubeconfig: kubeconfig(&clusters),
        var_file: Some(vars.to_string_lossy().into_owned()),
    };
    assert!(Path::new(&root().join(example.spec)).is_dir());

    let log = example.ok(&["apply", "--auto-approve"]);
    assert!(log.contains("Apply complete"), "{log}");
    let calls = aws_calls(&log);
    eprintln!("bank-multicluster: {calls}");
    for created in [
        "CreateCluster 5",
        "CreateNodegroup 41",
        "CreateLoadBalancer 4",
        "CreateTargetGroup 8",
        "CreateListener 8",
        "AuthorizeSecurityGroupIngress 8",
    ] {
        assert!(calls.contains(created), "{created}: {calls}");
    }
    let all = counts(&[
        ("clusters", 5),
        ("node_groups", 41),
        ("load_balancers", 4),
        ("target_groups", 8),
        ("listeners", 8),
        ("rules", 8),
    ]);
    assert_eq!(cluster_objects(&moto, "eu-west-1"), all);
    for (name, cluster) in names.iter().zip(&clusters) {
        assert!(!cluster.berth_objects().is_empty(), "nothing applied to {name}");
    }
    example.clean("aws");
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
    let mut left = all.clone();
    left.insert("clusters".into(), 4);
    left.insert("node_groups".into(), 40);
    assert_eq!(cluster_objects(&moto, "eu-west-1"), left, "the stress cluster and its node group are gone");
    for (name, cluster) in names.iter().zip(&clusters).take(4) {
        assert!(!cluster.berth_objects().is_empty(), "gc took {name}'s objects too");
    }
    example.ok(&["destroy", "--auto-approve"]);
    for (name, cluster) in names.iter().zip(&clusters) {
        assert_eq!(cluster.berth_objects(), [], "{name} still has berth's objects");
    }
    assert_eq!(cluster_objects(&moto, "eu-west-1"), all.keys().map(|k| (k.clone(), 0)).collect());
}

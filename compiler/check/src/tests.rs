//! Check-stage tests on small in-memory specs.

use crate::{CheckContext, check};
use berth_diag::Sources;
use berth_resolve::{Inputs, MemoryLoader, resolve};

fn run(spec: &str) -> (berth_model::Model, Vec<String>) {
    let loader = MemoryLoader { files: vec![("spec.hcl".into(), spec.into())] };
    let mut sources = Sources::new();
    let (resolved, mut diags) = resolve(&loader, &mut sources, "spec.hcl", &Inputs::default());
    let (model, more) = check(resolved.expect("resolved"), CheckContext { now_unix: 0 });
    diags.extend(more);
    (model, diags.sorted().iter().map(|d| format!("{}: {}", d.code.name, d.message)).collect())
}

#[test]
fn fill_places_services_in_order_under_cluster_caps() {
    let spec = r#"
cluster "a" {
  version = "1.31"
  region = "eu-west-1"
  subnets = ["s"]
  max_pods = 100
  node_pool "p" {
    instance_type = "m6i.8xlarge"
    min = 10
    max = 10
  }
}
cluster "b" {
  version = "1.31"
  region = "eu-west-1"
  subnets = ["s"]
  max_pods = 100
  node_pool "p" {
    instance_type = "m6i.8xlarge"
    min = 10
    max = 10
  }
}
service "x" {
  replicas = 70
  image = "r/x:1"
  placement { clusters = [cluster.a, cluster.b] }
}
service "y" {
  replicas = 50
  image = "r/y:1"
  placement { clusters = [cluster.a, cluster.b] }
}
"#;
    let (model, diags) = run(spec);
    assert!(diags.is_empty(), "{diags:?}");
    let shares: Vec<(usize, usize, u64)> =
        model.placement.shares.iter().map(|s| (s.service, s.cluster, s.replicas)).collect();
    assert_eq!(shares, vec![(0, 0, 70), (1, 0, 30), (1, 1, 20)]);
    assert_eq!(model.home_cluster(1), Some(0));
}

#[test]
fn pods_beyond_the_eni_limit_are_flagged_with_the_real_limit() {
    let spec = r#"
cluster "k8s" {
  version = "1.31"
  region = "us-east-1"
  subnets = ["s"]
  node_pool "big" {
    instance_type = "x1.32xlarge"
    min = 4
    max = 4
  }
}
service "apps" {
  replicas = 1400
  image = "r/app:1"
  placement { clusters = [cluster.k8s] }
}
"#;
    let (_, diags) = run(spec);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].starts_with("capacity::pods-per-node"), "{diags:?}");
    assert!(diags[0].contains("350 pods per node") && diags[0].contains("at most 234"), "{diags:?}");
}

#[test]
fn round_robin_puts_container_j_on_host_j_mod_h() {
    let mut spec = String::new();
    for h in 0..3 {
        spec.push_str(&format!(
            "host \"h{h}\" {{\n  instance_type = \"m6i.large\"\n  ami = \"ami-1\"\n  zone = \"a\"\n}}\n"
        ));
    }
    spec.push_str("container \"c\" {\n  count = 7\n  image = \"r/c:1\"\n  cpus = 0.1\n  memory = \"64Mi\"\n}\n");
    let (model, diags) = run(&spec);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(model.placement.container_hosts, vec![0, 1, 2, 0, 1, 2, 0]);
    assert_eq!(model.hosts[0].docker.address_pool_size, 28);
}

#[test]
fn iops_demand_is_balanced_and_an_overloaded_volume_warns() {
    let spec = r#"
host "h" {
  instance_type = "m6i.large"
  ami = "ami-1"
  zone = "a"
  volume "fast" {
    type = "io2"
    size = "100Gi"
    iops = 5000
    device = "/dev/sdf"
    mount = "/mnt/fast"
    iops_demand = 1000
  }
  volume "slow" {
    size = "100Gi"
    device = "/dev/sdg"
    mount = "/mnt/slow"
  }
}
container "db" {
  count = 3
  image = "r/db:1"
  cpus = 0.1
  memory = "64Mi"
  iops_demand = 2500
}
"#;
    let (model, diags) = run(spec);
    // fast has 4000 left, slow (gp3) 3000: db-0 -> fast (1500 left), db-1 -> slow (500 left),
    // db-2 -> fast (1500 beats 500), which then carries 1000 + 2 x 2500 of its 5000 IOPS.
    assert_eq!(model.data_volumes(0), vec![(0, 0), (1, 1), (2, 0)]);
    assert_eq!(
        diags,
        ["volume::balance: host.h.volume.fast carries 6000 IOPS of demand but delivers 5000 (containers db-0, db-2)"]
    );
}

/// Three clusters with room to spare and two services, the first with `replicas` pods.
fn two_services(strategy: &str, replicas: u64) -> String {
    let mut spec = String::new();
    for c in ["a", "b", "c"] {
        spec.push_str(&format!(
            "cluster \"{c}\" {{\n  version = \"1.31\"\n  region = \"eu-west-1\"\n  subnets = [\"s\"]\n  max_pods = 1000\n  node_pool \"p\" {{\n    instance_type = \"m6i.8xlarge\"\n    min = 10\n    max = 10\n  }}\n}}\n"
        ));
    }
    for (name, n) in [("grows", replicas), ("other", 30)] {
        spec.push_str(&format!(
            "service \"{name}\" {{\n  replicas = {n}\n  image = \"r/{name}:1\"\n  placement {{\n    clusters = [cluster.a, cluster.b, cluster.c]\n    strategy = \"{strategy}\"\n  }}\n}}\n"
        ));
    }
    spec
}

fn shares_of(model: &berth_model::Model, service: usize) -> Vec<(usize, u64)> {
    model.shares_of(service).map(|s| (s.cluster, s.replicas)).collect()
}

#[test]
fn spread_keeps_other_services_in_place_when_one_grows() {
    let (before, d1) = run(&two_services("spread", 10));
    let (after, d2) = run(&two_services("spread", 400));
    assert!(d1.is_empty() && d2.is_empty(), "{d1:?} {d2:?}");
    assert_eq!(shares_of(&before, 0), vec![(0, 4), (1, 3), (2, 3)]);
    assert_eq!(shares_of(&after, 0), vec![(0, 134), (1, 133), (2, 133)]);
    assert_eq!(shares_of(&before, 1), shares_of(&after, 1));
    assert_eq!(shares_of(&after, 1), vec![(0, 10), (1, 10), (2, 10)]);
}

#[test]
fn fill_keeps_earlier_services_in_place_when_a_later_one_grows() {
    let mut grown = two_services("fill", 10);
    grown = grown.replace("replicas = 30", "replicas = 2500");
    let (before, _) = run(&two_services("fill", 10));
    let (after, d) = run(&grown);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(shares_of(&before, 0), shares_of(&after, 0));
    assert_eq!(shares_of(&after, 1), vec![(0, 990), (1, 1000), (2, 510)]);
}

#[test]
fn services_sharing_one_placement_list_each_get_its_clusters_and_no_ordering_on_them() {
    let mut spec = two_services("fill", 10);
    spec.push_str(
        r#"
issuer "ca" {
  type = "ca"
  common_name = "fleet CA"
}
certificate "c" {
  dns_names = ["s.example"]
  issuer = issuer.ca
}
service "s" {
  for_each = { one = 10, two = 20, three = 30 }
  replicas = each.value
  image = "r/s:1"
  certificate = certificate.c
  placement { clusters = [cluster.b, cluster.c] }
}
service "t" {
  replicas = 5
  image = "r/t:1"
  placement { clusters = [cluster.c] }
}
"#,
    );
    let (model, diags) = run(&spec);
    assert!(diags.is_empty(), "{diags:?}");
    let of = |name: &str| model.services.iter().find(|s| s.meta.address.to_string() == name).expect(name);
    for name in [r#"service.s["one"]"#, r#"service.s["three"]"#, r#"service.s["two"]"#] {
        assert_eq!(of(name).clusters, vec![1, 2], "{name}");
        let depends_on: Vec<String> = of(name).meta.depends_on.iter().map(ToString::to_string).collect();
        assert_eq!(depends_on, vec!["certificate.c"], "{name}");
    }
    assert_eq!(of("service.t").clusters, vec![2]);
    assert_eq!(of("service.other").clusters, vec![0, 1, 2]);
}

/// Resolves and checks as the CLI does: each instance handed to the checker as the resolver
/// evaluates it.
fn run_streamed(spec: &str) -> (berth_model::Model, Vec<String>) {
    let loader = MemoryLoader { files: vec![("spec.hcl".into(), spec.into())] };
    let mut sources = Sources::new();
    let mut checker = crate::Checker::default();
    let (resolved, mut diags) =
        berth_resolve::resolve_into(&loader, &mut sources, "spec.hcl", &Inputs::default(), &mut |item| {
            checker.add(item);
        });
    let (model, more) = checker.finish(resolved.expect("resolved").outputs, CheckContext { now_unix: 0 });
    diags.extend(more);
    (model, diags.sorted().iter().map(|d| format!("{}: {}", d.code.name, d.message)).collect())
}

#[test]
fn references_to_objects_declared_later_resolve_and_a_taken_name_keeps_indices_in_order() {
    let cluster = |name: &str| {
        format!(
            r#"
cluster "{name}" {{
  version = "1.31"
  region = "eu-west-1"
  subnets = ["s"]
  max_pods = 100
  node_pool "p" {{
    instance_type = "m6i.8xlarge"
    min = 10
    max = 10
  }}
}}
"#
        )
    };
    let spec = format!(
        r#"
service "first" {{
  replicas = 10
  image = "r/x:1"
  wait_for = [service.second]
  placement {{ clusters = [cluster.b, cluster.a] }}
}}
service "dup" {{
  name = "first"
  replicas = 1
  image = "r/x:1"
  placement {{ clusters = [cluster.a] }}
}}
{a}
service "second" {{
  replicas = 5
  image = "r/y:1"
  placement {{ clusters = [cluster.b] }}
}}
{b}
"#,
        a = cluster("a"),
        b = cluster("b"),
    );
    for (model, diags) in [run(&spec), run_streamed(&spec)] {
        assert_eq!(diags, vec![r#"schema::duplicate-name: two services are named "first""#], "{diags:?}");
        let services: Vec<String> = model.services.iter().map(|s| s.meta.address.to_string()).collect();
        assert_eq!(services, vec!["service.first", "service.second"]);
        assert_eq!(model.services[0].clusters, vec![1, 0]);
        assert_eq!(model.services[0].wait_for, vec![1]);
        assert_eq!(model.services[1].clusters, vec![1]);
        let clusters: Vec<&str> = model.clusters.iter().map(|c| c.meta.name.as_str()).collect();
        assert_eq!(clusters, vec!["a", "b"]);
    }
}

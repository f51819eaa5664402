//! The AWS engine's EKS and ELBv2 kinds, and objects in several regions, against a real `moto`
//! server on 127.0.0.1: create, read, find, update in place, refused replacement, idempotent
//! re-creation and deletion, each checked through the APIs themselves.
//!
//! moto 5.2.1 answers CreateCluster and CreateNodegroup with `ACTIVE` (EKS says `CREATING`
//! for minutes) and CreateLoadBalancer with `provisioning` (then `active`); it reports no VPC
//! and no security group of a cluster, tags no node group after its creation, and lacks
//! UpdateClusterVersion, UpdateNodegroupVersion and add-ons. The tests give the cluster the
//! security group EKS would create (tagged `aws:eks:cluster-name`), which the engine falls
//! back to.

mod common;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use berth_aws::{
    AwsEngine, EKS_CLUSTER, LAUNCH_TEMPLATE, LISTENER, LOAD_BALANCER, NODE_GROUP, Options, SECURITY_GROUP,
    SECURITY_GROUP_RULE, TARGET_GROUP, VPC,
};
use berth_plan::Engine;
use berth_tests::Moto;
use common::{Desired, LINEAGE, config, loader, sorted, spent};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

const ROLE: &str = "arn:aws:iam::123456789012:role/eks";
const NODE_ROLE: &str = "arn:aws:iam::123456789012:role/nodes";

fn options() -> Options {
    Options { concurrency: 8, wait_timeout: Duration::from_secs(60) }
}

/// The default VPC of `region` and its subnets in two zones.
async fn default_network(ec2: &aws_sdk_ec2::Client) -> (String, Vec<String>) {
    let subnets = ec2.describe_subnets().send().await.expect("DescribeSubnets");
    let mut in_zones: BTreeMap<&str, &aws_sdk_ec2::types::Subnet> = BTreeMap::new();
    for s in subnets.subnets().iter().filter(|s| s.default_for_az() == Some(true)) {
        in_zones.entry(s.availability_zone().unwrap_or_default()).or_insert(s);
    }
    let two: Vec<&aws_sdk_ec2::types::Subnet> = in_zones.into_values().take(2).collect();
    assert_eq!(two.len(), 2, "moto has default subnets in two zones");
    let vpc = two[0].vpc_id().expect("a VPC").to_owned();
    (vpc, two.iter().map(|s| s.subnet_id().expect("an id").to_owned()).collect())
}

/// The security group EKS gives a cluster, which moto does not create.
async fn cluster_group(ec2: &aws_sdk_ec2::Client, vpc: &str, cluster: &str) -> String {
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::SecurityGroup)
        .tags(Tag::builder().key("aws:eks:cluster-name").value(cluster).build())
        .build();
    let created = ec2
        .create_security_group()
        .group_name(format!("eks-cluster-sg-{cluster}"))
        .description("EKS created security group")
        .vpc_id(vpc)
        .tag_specifications(tags)
        .send()
        .await
        .expect("CreateSecurityGroup");
    created.group_id().expect("a group id").to_owned()
}

/// What exists through the EKS and ELBv2 APIs: clusters, node groups, load balancers, target
/// groups and listeners.
async fn remaining(moto: &Moto, region: &str) -> [usize; 5] {
    let config = config(moto, region).await;
    let eks = aws_sdk_eks::Client::new(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let clusters = eks.list_clusters().send().await.expect("ListClusters").clusters().to_vec();
    let mut groups = 0;
    for c in &clusters {
        groups += eks.list_nodegroups().cluster_name(c).send().await.expect("ListNodegroups").nodegroups().len();
    }
    let balancers = elb.describe_load_balancers().send().await.expect("DescribeLoadBalancers");
    let mut listeners = 0;
    for lb in balancers.load_balancers() {
        let arn = lb.load_balancer_arn().expect("an ARN");
        listeners += elb.describe_listeners().load_balancer_arn(arn).send().await.expect("listeners").listeners().len();
    }
    let target_groups = elb.describe_target_groups().send().await.expect("DescribeTargetGroups").target_groups().len();
    [clusters.len(), groups, balancers.load_balancers().len(), target_groups, listeners]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_node_groups_and_load_balancers_against_moto() {
    let moto = Moto::start();
    let ec2 = aws_sdk_ec2::Client::new(&config(&moto, "us-east-1").await);
    let engine = AwsEngine::new(loader(&moto), options()).await;
    let (vpc, subnets) = default_network(&ec2).await;
    let group = cluster_group(&ec2, &vpc, "c1").await;

    let cluster = Desired::new(
        "cluster.c1:aws_eks_cluster",
        EKS_CLUSTER,
        json!({"name": "c1", "role_arn": ROLE, "version": "1.31", "subnet_ids": subnets, "tags": {"Name": "c1"}}),
    );
    let created = cluster.create(&engine).await;
    assert_eq!(created.id, "c1");
    assert_eq!(created.attrs["vpc_id"], json!(vpc), "the VPC of its subnets");
    assert_eq!(created.attrs["cluster_security_group_id"], json!(group));
    assert!(created.attrs["arn"].as_str().is_some_and(|a| a.ends_with(":cluster/c1")));

    let template = Desired::new(
        "cluster.c1.node_pool.p:aws_launch_template",
        LAUNCH_TEMPLATE,
        json!({"name": "c1-p", "description": "kubelet settings of node pool p of c1",
               "user_data": "MIME-Version: 1.0\nmaxPods: 20\n", "tags": {"Name": "c1-p"}}),
    );
    let lt = template.create(&engine).await;
    assert_eq!(lt.attrs["latest_version"], json!(1));
    let node_group = Desired::new(
        "cluster.c1.node_pool.p:aws_eks_node_group",
        NODE_GROUP,
        json!({"cluster_name": "c1", "node_group_name": "p", "node_role_arn": NODE_ROLE, "subnet_ids": subnets,
               "instance_types": ["m6i.large"], "ami_type": "AL2023_x86_64_STANDARD",
               "labels": {"pool": "p"}, "scaling_config": {"desired_size": 2, "max_size": 3, "min_size": 2},
               "launch_template": {"id": lt.id, "version": 1},
               "taints": [{"key": "dedicated", "value": "p", "effect": "NO_SCHEDULE"}],
               "tags": {"Name": "c1-p"}}),
    );
    let ng = node_group.create(&engine).await;
    assert_eq!(ng.id, "c1:p");

    let balancer = Desired::new(
        "cluster.c1.load_balancer.load_balancer:aws_lb",
        LOAD_BALANCER,
        json!({"name": "c1", "internal": true, "load_balancer_type": "network", "subnets": subnets,
               "tags": {"Name": "c1"}}),
    );
    let lb = balancer.create(&engine).await;
    assert!(lb.id.contains(":loadbalancer/") && lb.id.contains("/c1/"), "{}", lb.id);
    assert_eq!(lb.attrs["arn"], json!(lb.id));
    assert!(lb.attrs["dns_name"].is_string());
    let target_group = Desired::new(
        "forward.api@c1:aws_lb_target_group",
        TARGET_GROUP,
        json!({"name": "api-c1", "port": 8443, "protocol": "TCP", "target_type": "ip", "vpc_id": vpc,
               "tags": {"Name": "api-c1"}}),
    );
    let tg = target_group.create(&engine).await;
    let listener = Desired::new(
        "forward.api@c1:aws_lb_listener",
        LISTENER,
        json!({"load_balancer_arn": lb.id, "port": 443, "protocol": "TCP",
               "default_action": {"type": "forward", "target_group_arn": tg.id}, "tags": {"Name": "api-c1"}}),
    );
    let li = listener.create(&engine).await;
    let rule = Desired::new(
        "forward.api@c1:aws_security_group_rule",
        SECURITY_GROUP_RULE,
        json!({"type": "ingress", "security_group_id": group, "protocol": "tcp", "from_port": 8443,
               "to_port": 8443, "cidr_blocks": ["10.0.0.0/8"], "description": "berth forward.api@c1"}),
    );
    let rl = rule.create(&engine).await;

    // Read gives back every desired attribute; the ELBv2 objects in one call per kind and
    // their tags in one more.
    let all = [&cluster, &template, &node_group, &balancer, &target_group, &listener, &rule];
    let ids = [&created.id, &lt.id, &ng.id, &lb.id, &tg.id, &li.id, &rl.id];
    let objects: Vec<(&str, &str)> = all.iter().zip(ids).map(|(d, id)| (d.kind, id.as_str())).collect();
    let before = engine.calls();
    let read = engine.read(&objects).await.expect("read");
    let read_calls = spent(&before, &engine.calls());
    for call in ["DescribeLoadBalancers", "DescribeTargetGroups", "DescribeListeners", "DescribeTags"] {
        assert_eq!(read_calls.get(call), Some(&1), "{call}: {read_calls:?}");
    }
    assert_eq!(read_calls.get("DescribeCluster"), Some(&1), "{read_calls:?}");
    assert_eq!(read_calls.get("DescribeNodegroup"), Some(&1), "{read_calls:?}");
    for ((desired, id), seen) in all.iter().zip(ids).zip(&read) {
        let seen = seen.as_ref().unwrap_or_else(|| panic!("{} is not read back", desired.address));
        assert_eq!(&seen.id, id);
        for (k, v) in &desired.attrs {
            assert_eq!(seen.attrs.get(k).map(sorted), Some(sorted(v)), "{}: {k} as read", desired.address);
        }
    }

    // Find by lineage: every object, by the address it was created for.
    let found = engine.find(Some(LINEAGE)).await.expect("find");
    assert_eq!(found, common::found(&all, &ids));

    // Creating again what exists (a run that died before recording it) gives the same object;
    // the same name under another lineage is refused, naming both.
    assert_eq!(cluster.create(&engine).await.id, created.id);
    assert_eq!(node_group.create(&engine).await.id, ng.id);
    assert_eq!(template.create(&engine).await.id, lt.id);
    assert_eq!(target_group.create(&engine).await.id, tg.id);
    let foreign = cluster.try_create(&engine, "another-lineage").await.expect_err("another state's cluster");
    assert!(foreign.message.contains("exists already") && foreign.message.contains(LINEAGE), "{foreign}");

    // Update in place: the node group's scaling, labels and taints; tags of the cluster, the
    // load balancer and the target group; the listener's port; the template's user data (a
    // new version).
    let mut changed = node_group.with("scaling_config", json!({"desired_size": 3, "max_size": 4, "min_size": 2}));
    changed.insert("labels".into(), json!({"pool": "p", "tier": "work"}));
    changed.insert("taints".into(), json!([]));
    node_group.update(&engine, &ng.id, &changed).await.expect("scale, relabel, untaint");
    cluster
        .update(&engine, &created.id, &cluster.with("tags", json!({"Name": "c1", "team": "risk"})))
        .await
        .expect("retag");
    let retagged = balancer.with("tags", json!({"team": "risk"}));
    balancer.update(&engine, &lb.id, &retagged).await.expect("retag the load balancer");
    listener.update(&engine, &li.id, &listener.with("port", json!(8443))).await.expect("move the listener");
    let updated = template
        .update(&engine, &lt.id, &template.with("user_data", json!("MIME-Version: 1.0\nmaxPods: 30\n")))
        .await
        .expect("a new version");
    assert_eq!(updated.attrs["latest_version"], json!(2));
    let read = engine.read(&objects).await.expect("read");
    let attrs = |i: usize| &read[i].as_ref().expect("still there").attrs;
    assert_eq!(attrs(2)["scaling_config"], json!({"desired_size": 3, "max_size": 4, "min_size": 2}));
    assert_eq!(attrs(2)["labels"], json!({"pool": "p", "tier": "work"}));
    assert_eq!(attrs(2)["taints"], json!([]));
    assert_eq!(attrs(0)["tags"], json!({"Name": "c1", "team": "risk"}));
    assert_eq!(attrs(3)["tags"], json!({"team": "risk"}), "the Name tag removed");
    assert_eq!(attrs(5)["port"], json!(8443));
    assert_eq!(attrs(1)["user_data"], json!("MIME-Version: 1.0\nmaxPods: 30\n"));
    assert_eq!(attrs(1)["latest_version"], json!(2));
    let refused = node_group
        .update(&engine, &ng.id, &node_group.with("instance_types", json!(["m6i.xlarge"])))
        .await
        .expect_err("instance types do not change in place");
    assert!(refused.message.contains("instance_types") && refused.message.contains("replaced"), "{refused}");

    // Delete in reverse order; deleting again is no error; nothing is left.
    for (desired, id) in all.iter().zip(ids).rev() {
        engine.delete(desired.kind, id).await.unwrap_or_else(|e| panic!("delete {}: {e}", desired.address));
    }
    engine.delete(NODE_GROUP, &ng.id).await.expect("a node group already gone");
    engine.delete(LOAD_BALANCER, &lb.id).await.expect("a load balancer already gone");
    let read = engine.read(&objects).await.expect("read after delete");
    assert!(read.iter().all(Option::is_none), "still there: {read:?}");
    assert!(engine.find(Some(LINEAGE)).await.expect("find").is_empty());
    assert_eq!(remaining(&moto, "us-east-1").await, [0; 5]);
    eprintln!("calls in all: {:?}", engine.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_several_regions_apply_in_one_run() {
    let moto = Moto::start();
    let engine = AwsEngine::new(loader(&moto), options()).await;
    let regions = ["us-east-1", "eu-west-1"];
    let mut made = Vec::new();
    for region in regions {
        let vpc = Desired::new(
            &format!("network.{region}:aws_vpc"),
            VPC,
            json!({"region": region, "cidr_block": "10.7.0.0/16", "tags": {"Name": region}}),
        );
        let vpc_id = vpc.create(&engine).await.id;
        let group = Desired::new(
            &format!("host.{region}:aws_security_group"),
            SECURITY_GROUP,
            json!({"region": region, "name": "berth", "description": "one per region", "vpc_id": vpc_id}),
        );
        let group_id = group.create(&engine).await.id;
        made.push((VPC, vpc_id, region));
        made.push((SECURITY_GROUP, group_id, region));
    }
    let eu = config(&moto, "eu-west-1").await;
    let (_, subnets) = default_network(&aws_sdk_ec2::Client::new(&eu)).await;
    let balancer = Desired::new(
        "cluster.eu.load_balancer.load_balancer:aws_lb",
        LOAD_BALANCER,
        json!({"region": "eu-west-1", "name": "eu", "internal": true, "load_balancer_type": "network",
               "subnets": subnets}),
    );
    let lb = balancer.create(&engine).await;
    assert!(lb.id.starts_with("arn:aws:elasticloadbalancing:eu-west-1:"), "{}", lb.id);
    made.push((LOAD_BALANCER, lb.id.clone(), "eu-west-1"));

    // Each object is where its region says, seen through that region's API.
    for region in regions {
        let ec2 = aws_sdk_ec2::Client::new(&config(&moto, region).await);
        let tagged = aws_sdk_ec2::types::Filter::builder().name("tag:berth:lineage").values(LINEAGE).build();
        let vpcs = ec2.describe_vpcs().filters(tagged).send().await.expect("DescribeVpcs");
        assert_eq!(vpcs.vpcs().len(), 1, "{region}");
        assert_eq!(vpcs.vpcs()[0].vpc_id(), made.iter().find(|m| m.0 == VPC && m.2 == region).map(|m| m.1.as_str()));
    }
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&eu);
    assert_eq!(elb.describe_load_balancers().send().await.expect("DescribeLoadBalancers").load_balancers().len(), 1);

    // One read covers both regions, one listing per kind and region.
    let objects: Vec<(&str, &str)> = made.iter().map(|(kind, id, _)| (*kind, id.as_str())).collect();
    let before = engine.calls();
    let read = engine.read(&objects).await.expect("read");
    assert!(read.iter().all(Option::is_some), "{read:?}");
    assert_eq!(spent(&before, &engine.calls()).get("DescribeVpcs"), Some(&2));
    let found = engine.find(Some(LINEAGE)).await.expect("find");
    assert_eq!(found.len(), made.len(), "{found:#?}");

    // A new engine finds the objects where the state says they are, and deletes them there.
    let fresh = AwsEngine::new(loader(&moto), options()).await;
    let eu_vpc = made.iter().find(|m| m.0 == VPC && m.2 == "eu-west-1").expect("the eu VPC");
    let unaware = fresh.read(&[(VPC, eu_vpc.1.as_str())]).await.expect("read");
    assert_eq!(unaware, [None], "without its region the VPC is looked for in us-east-1");
    let told = AwsEngine::new(loader(&moto), options())
        .await
        .with_objects(made.iter().map(|(kind, id, region)| (*kind, Some(*region), Some(id.as_str()))));
    assert_eq!(told.find(Some(LINEAGE)).await.expect("find").len(), made.len());
    assert!(told.read(&objects).await.expect("read").iter().all(Option::is_some));
    for (kind, id, _) in made.iter().rev() {
        told.delete(kind, id).await.unwrap_or_else(|e| panic!("delete {kind} {id}: {e}"));
    }
    assert!(told.find(Some(LINEAGE)).await.expect("find").is_empty());
    assert_eq!(remaining(&moto, "eu-west-1").await, [0; 5]);
    for region in regions {
        let ec2 = aws_sdk_ec2::Client::new(&config(&moto, region).await);
        let tagged = aws_sdk_ec2::types::Filter::builder().name("tag:berth:lineage").values(LINEAGE).build();
        let groups = ec2.describe_security_groups().filters(tagged).send().await.expect("DescribeSecurityGroups");
        assert!(groups.security_groups().is_empty(), "{region}: {groups:?}");
    }
}

//! The AWS engine against a real `moto` server on 127.0.0.1 (from the tools venv that
//! tests/setup.sh installs): create, read, find, update, idempotent re-creation, batched waits
//! and deletion, each checked through the EC2 API itself.

mod common;

use aws_sdk_ec2::types::Filter;
use berth_aws::{
    AwsEngine, INSTANCE, Options, SECURITY_GROUP, SECURITY_GROUP_RULE, SUBNET, VOLUME, VOLUME_ATTACHMENT, VPC,
};
use berth_plan::{Engine, Request};
use berth_tests::Moto;
use common::{Desired, LINEAGE, loader, raw, sorted, spent};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

fn by_lineage() -> Filter {
    Filter::builder().name("tag:berth:lineage").values(LINEAGE).build()
}

/// What still exists of the lineage, per kind, counted through Describe calls.
async fn remaining(ec2: &aws_sdk_ec2::Client) -> BTreeMap<&'static str, usize> {
    let instances = ec2.describe_instances().filters(by_lineage()).send().await.unwrap();
    let live = instances
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| i.state().and_then(|s| s.name()).is_none_or(|n| n.as_str() != "terminated"))
        .count();
    let volumes = ec2.describe_volumes().filters(by_lineage()).send().await.unwrap().volumes().len();
    let groups = ec2.describe_security_groups().filters(by_lineage()).send().await.unwrap().security_groups().len();
    let subnets = ec2.describe_subnets().filters(by_lineage()).send().await.unwrap().subnets().len();
    let vpcs = ec2.describe_vpcs().filters(by_lineage()).send().await.unwrap().vpcs().len();
    BTreeMap::from([
        ("instances", live),
        ("volumes", volumes),
        ("groups", groups),
        ("subnets", subnets),
        ("vpcs", vpcs),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applies_reads_finds_and_deletes_against_moto() {
    let moto = Moto::start();
    let ec2 = raw(&moto).await;
    let options = Options { concurrency: 8, wait_timeout: Duration::from_secs(60) };
    let engine = AwsEngine::new(loader(&moto), options).await;

    let ami = ubuntu_ami(&ec2).await;

    // Shared: a VPC, a subnet, a group with an ingress and an egress rule.
    let vpc =
        Desired::new("network.fleet:aws_vpc", VPC, json!({"cidr_block": "10.0.0.0/16", "tags": {"Name": "fleet"}}));
    let vpc_id = vpc.create(&engine).await.id;
    let subnet = Desired::new(
        "network.fleet.subnet.a:aws_subnet",
        SUBNET,
        json!({"vpc_id": vpc_id, "cidr_block": "10.0.0.0/20", "availability_zone": "us-east-1a"}),
    );
    let subnet_id = subnet.create(&engine).await.id;
    let group = Desired::new(
        "host.dh000:aws_security_group",
        SECURITY_GROUP,
        json!({"name": "dh000", "description": "Ports berth forwards to the containers on dh000",
               "vpc_id": vpc_id, "tags": {"Name": "dh000", "team": "infra"}}),
    );
    let group_id = group.create(&engine).await.id;
    let ssh = Desired::new(
        "host.dh000:aws_security_group_rule.ssh",
        SECURITY_GROUP_RULE,
        json!({"type": "ingress", "security_group_id": group_id, "protocol": "tcp", "from_port": 22, "to_port": 22,
               "cidr_blocks": ["10.0.0.0/8"], "description": "ssh"}),
    );
    let egress = Desired::new(
        "host.dh000:aws_security_group_rule.egress",
        SECURITY_GROUP_RULE,
        json!({"type": "egress", "security_group_id": group_id, "protocol": "-1", "from_port": 0, "to_port": 0,
               "cidr_blocks": ["0.0.0.0/0"], "description": "Outbound traffic of host.dh000"}),
    );
    let ssh_id = ssh.create(&engine).await.id;
    let egress_id = egress.create(&engine).await.id;
    assert_eq!(egress_id, format!("{group_id}/egress/-1/0/0/0.0.0.0/0"));

    // One host: instance, volume in its zone, attachment. Its calls are the per-host cost.
    let before = engine.calls();
    let instance = Desired::new(
        "host.dh000:aws_instance",
        INSTANCE,
        json!({"ami": ami, "instance_type": "x1.32xlarge", "subnet_id": subnet_id,
               "vpc_security_group_ids": [group_id], "tags": {"Name": "dh000"}}),
    );
    let created = instance.create(&engine).await;
    let instance_id = created.id.clone();
    let zone = created.attrs["availability_zone"].clone();
    assert_eq!(zone, "us-east-1a", "the zone is an output for the volume");
    let volume = Desired::new(
        "host.dh000.volume.data:aws_ebs_volume",
        VOLUME,
        json!({"availability_zone": zone, "type": "io2", "size": 1000, "iops": 16000, "tags": {"Name": "dh000-data"}}),
    );
    let volume_id = volume.create(&engine).await.id;
    let attachment = Desired::new(
        "host.dh000.volume.data:aws_volume_attachment",
        VOLUME_ATTACHMENT,
        json!({"device_name": "/dev/sdf", "volume_id": volume_id, "instance_id": instance_id}),
    );
    let attachment_id = attachment.create(&engine).await.id;
    let per_host = spent(&before, &engine.calls());
    eprintln!("calls for one host: {per_host:?}");
    // moto answers RunInstances with `pending` and CreateVolume with `creating`, as EC2 does:
    // one poll each, which concurrent hosts share.
    for (call, most) in [
        ("RunInstances", 1),
        ("CreateVolume", 1),
        ("AttachVolume", 1),
        ("DescribeInstances", 1),
        ("DescribeVolumes", 1),
    ] {
        assert!(per_host.get(call).copied().unwrap_or(0) <= most, "{call}: {per_host:?}");
    }
    assert!(per_host.values().sum::<u64>() <= 5, "{per_host:?}");

    // Read gives back every desired attribute, sets sorted.
    let all = [&vpc, &subnet, &group, &ssh, &egress, &instance, &volume, &attachment];
    let ids = [&vpc_id, &subnet_id, &group_id, &ssh_id, &egress_id, &instance_id, &volume_id, &attachment_id];
    let objects: Vec<(&str, &str)> = all.iter().zip(ids).map(|(d, id)| (d.kind, id.as_str())).collect();
    let before = engine.calls();
    let read = engine.read(&objects).await.expect("read");
    let read_calls = spent(&before, &engine.calls());
    assert_eq!(read_calls.values().sum::<u64>(), 5, "one Describe per listing: {read_calls:?}");
    for ((desired, id), seen) in all.iter().zip(ids).zip(&read) {
        let seen = seen.as_ref().unwrap_or_else(|| panic!("{} is not read back", desired.address));
        assert_eq!(&seen.id, id);
        for (k, v) in &desired.attrs {
            assert_eq!(seen.attrs.get(k).map(sorted), Some(sorted(v)), "{}: {k} as read", desired.address);
        }
    }
    assert!(read[5].as_ref().unwrap().attrs["private_ip"].is_string(), "the instance's private IP is an output");

    // The instance carries the request's token, which EC2 dedupes RunInstances with.
    let described = ec2.describe_instances().instance_ids(&instance_id).send().await.unwrap();
    let launched = &described.reservations()[0].instances()[0];
    assert_eq!(launched.client_token(), Some(instance.token().as_str()));
    let tags: BTreeMap<&str, &str> = launched.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
    assert_eq!(tags.get("berth:address"), Some(&"host.dh000:aws_instance"));
    assert_eq!(tags.get("berth:lineage"), Some(&LINEAGE));
    // Creating what exists again (a run that stopped before recording it) gives the same object.
    assert_eq!(ssh.create(&engine).await.id, ssh_id);
    assert_eq!(attachment.create(&engine).await.id, attachment_id);

    // Find by lineage: every object, by the address it was created for.
    let found = engine.find(Some(LINEAGE)).await.expect("find");
    assert_eq!(found, common::found(&all, &ids));

    // Update in place: tags and the volume's size.
    let mut retagged = instance.attrs.clone();
    retagged.insert("tags".into(), json!({"Name": "dh000", "role": "docker"}));
    let token = instance.token();
    let request =
        Request { address: &instance.address, kind: INSTANCE, attrs: &retagged, lineage: LINEAGE, token: &token };
    engine.update(request, &instance_id).await.expect("retag");
    let mut bigger = volume.attrs.clone();
    bigger.insert("size".into(), json!(2000));
    let token = volume.token();
    let request = Request { address: &volume.address, kind: VOLUME, attrs: &bigger, lineage: LINEAGE, token: &token };
    engine.update(request, &volume_id).await.expect("resize");
    let read = engine.read(&[(INSTANCE, &instance_id), (VOLUME, &volume_id)]).await.expect("read");
    assert_eq!(read[0].as_ref().unwrap().attrs["tags"], json!({"Name": "dh000", "role": "docker"}));
    assert_eq!(read[1].as_ref().unwrap().attrs["size"], json!(2000));
    let mut moved = instance.attrs.clone();
    moved.insert("instance_type".into(), json!("m5.large"));
    let request =
        Request { address: &instance.address, kind: INSTANCE, attrs: &moved, lineage: LINEAGE, token: &token };
    let refused = engine.update(request, &instance_id).await.expect_err("an instance type does not change in place");
    assert!(refused.message.contains("instance_type"), "{refused}");

    // API errors carry the AWS code and say whether to retry.
    let broken = Desired::new(
        "host.bad:aws_instance",
        INSTANCE,
        json!({"ami": ami, "instance_type": "t3.micro", "subnet_id": "subnet-00000000"}),
    );
    let token = broken.token();
    let request =
        Request { address: &broken.address, kind: INSTANCE, attrs: &broken.attrs, lineage: LINEAGE, token: &token };
    let error = engine.create(request).await.expect_err("no such subnet");
    assert!(error.message.contains("RunInstances: InvalidSubnetID.NotFound"), "{error}");
    assert!(!error.retryable);

    // Delete in reverse order; deleting again is no error; nothing is left.
    for (desired, id) in all.iter().zip(ids).rev() {
        engine.delete(desired.kind, id).await.unwrap_or_else(|e| panic!("delete {}: {e}", desired.address));
    }
    engine.delete(INSTANCE, &instance_id).await.expect("an instance already gone");
    engine.delete(SECURITY_GROUP_RULE, &ssh_id).await.expect("a rule already gone");
    let read = engine.read(&objects).await.expect("read after delete");
    assert!(read.iter().all(Option::is_none), "still there: {read:?}");
    assert!(engine.find(Some(LINEAGE)).await.expect("find").is_empty());
    let zero = BTreeMap::from([("groups", 0), ("instances", 0), ("subnets", 0), ("volumes", 0), ("vpcs", 0)]);
    assert_eq!(remaining(&ec2).await, zero);
    eprintln!("calls in all: {:?}", engine.calls());
}

/// The AMI moto lists first among its Ubuntu images.
async fn ubuntu_ami(ec2: &aws_sdk_ec2::Client) -> String {
    let images = ec2
        .describe_images()
        .filters(Filter::builder().name("name").values("ubuntu/images/hvm-ssd/ubuntu-*").build())
        .send()
        .await
        .expect("DescribeImages");
    images.images().iter().filter_map(|i| i.image_id()).min().expect("moto has an Ubuntu AMI").to_owned()
}

/// Creates host `i`'s instance, volume and attachment, one after the other; returns their ids.
async fn host(engine: AwsEngine, ami: String, i: usize) -> [String; 3] {
    let instance = Desired::new(
        &format!("host.h{i:03}:aws_instance"),
        INSTANCE,
        json!({"ami": ami, "instance_type": "x1.32xlarge", "tags": {"Name": format!("h{i:03}")}}),
    );
    let created = instance.create(&engine).await;
    let volume = Desired::new(
        &format!("host.h{i:03}.volume.data:aws_ebs_volume"),
        VOLUME,
        json!({"availability_zone": created.attrs["availability_zone"], "type": "io2", "size": 1000, "iops": 16000}),
    );
    let volume_id = volume.create(&engine).await.id;
    let attachment = Desired::new(
        &format!("host.h{i:03}.volume.data:aws_volume_attachment"),
        VOLUME_ATTACHMENT,
        json!({"device_name": "/dev/sdf", "volume_id": volume_id, "instance_id": created.id}),
    );
    let attachment_id = attachment.create(&engine).await.id;
    [created.id, volume_id, attachment_id]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_in_parallel_share_their_waits() {
    const HOSTS: usize = 16;
    let moto = Moto::start();
    let ami = ubuntu_ami(&raw(&moto).await).await;
    let engine = AwsEngine::new(loader(&moto), Options { concurrency: 8, wait_timeout: Duration::from_secs(60) }).await;
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..HOSTS {
        tasks.spawn(host(engine.clone(), ami.clone(), i));
    }
    let mut hosts = Vec::new();
    while let Some(done) = tasks.join_next().await {
        hosts.push(done.expect("host task"));
    }
    let created = engine.calls();
    eprintln!("{HOSTS} hosts created in {:.2?}, calls: {created:?}", started.elapsed());
    for call in ["RunInstances", "CreateVolume", "AttachVolume"] {
        assert_eq!(created.get(call), Some(&(HOSTS as u64)), "{call}: {created:?}");
    }
    // 16 instance waits and 32 volume waits (available, then attached), in a few shared polls.
    let polls =
        created.get("DescribeInstances").copied().unwrap_or(0) + created.get("DescribeVolumes").copied().unwrap_or(0);
    assert!(polls < HOSTS as u64, "{polls} polls for {} waits: {created:?}", 3 * HOSTS);

    // Tear down each host in reverse order, all hosts at once.
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for [instance, volume, attachment] in hosts {
        let engine = engine.clone();
        tasks.spawn(async move {
            engine.delete(VOLUME_ATTACHMENT, &attachment).await?;
            engine.delete(VOLUME, &volume).await?;
            engine.delete(INSTANCE, &instance).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("teardown task").expect("delete");
    }
    let deleted = spent(&created, &engine.calls());
    eprintln!("{HOSTS} hosts deleted in {:.2?}, calls: {deleted:?}", started.elapsed());
    let polls =
        deleted.get("DescribeInstances").copied().unwrap_or(0) + deleted.get("DescribeVolumes").copied().unwrap_or(0);
    assert!(polls < HOSTS as u64, "{polls} polls for {} waits: {deleted:?}", 3 * HOSTS);
    assert!(engine.find(Some(LINEAGE)).await.expect("find").is_empty());
}

/// `AwsEngine::from_env` takes endpoint, region and credentials from the environment. The
/// test runs itself again in a child process with them set (a test cannot change its own
/// environment safely), where the engine finds the objects created here.
#[test]
fn the_standard_chain_reads_the_environment() {
    const CHILD: &str = "BERTH_AWS_TEST_CHILD";
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if std::env::var_os(CHILD).is_some() {
        let found = runtime.block_on(async {
            let engine = AwsEngine::from_env(Options::default()).await;
            engine.find(Some(LINEAGE)).await.expect("find through the environment's endpoint")
        });
        assert_eq!(found.len(), 1, "{found:?}");
        return;
    }
    let moto = Moto::start();
    let vpc = Desired::new("network.env:aws_vpc", VPC, json!({"cidr_block": "10.1.0.0/16"}));
    runtime.block_on(async { vpc.create(&AwsEngine::new(loader(&moto), Options::default()).await).await });
    let exe = std::env::current_exe().expect("test binary");
    let out = berth_tests::output_within(
        std::process::Command::new(exe)
            .args(["--exact", "the_standard_chain_reads_the_environment", "--nocapture"])
            .env(CHILD, "1")
            .envs(moto.env())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        Duration::from_secs(120),
    );
    let (stdout, stderr) = berth_tests::text(&out);
    assert!(out.status.success() && stdout.contains("1 passed"), "the child failed:\n{stdout}\n{stderr}");
}

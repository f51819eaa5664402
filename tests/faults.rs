//! Apply under faults, against a real `moto` EC2 server: a `berth apply` killed with SIGKILL at
//! many moments, each followed by a re-run that must converge to exactly the spec — no
//! duplicate and nothing orphaned, counted through the EC2 API — with the state a whole
//! document at every kill.
//!
//! `BERTH_KILL_POINTS` sets how many kill points (default 8, spread over the length of a whole
//! apply); `tests/faults.sh` runs many more.

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

use berth_plan::State;
use berth_tests::{Moto, TempDir, berth, output_within, root, text};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(300);
const REGION: &str = "eu-west-1";

/// The AWS side of the fleet workload at S=1 (8 hosts with two io2 volumes each), its AMI and
/// subnet replaced by ones moto knows.
struct Fleet {
    moto: Moto,
    dir: TempDir,
    vars: String,
}

impl Fleet {
    fn new() -> Self {
        let moto = Moto::start();
        let dir = TempDir::new("faults");
        let mut fleet = Fleet { moto, vars: String::new(), dir };
        fleet.prepare();
        fleet
    }

    /// Writes the fleet's variables with an AMI and a subnet of the moto server as it is now
    /// (a reset makes new default subnets).
    fn prepare(&mut self) {
        let found = self.python(
            "ami = next(i['ImageId'] for i in ec2.describe_images()['Images'] \
                        if i.get('Name', '').startswith('ubuntu/images/hvm-ssd/ubuntu-'))\n\
             subnet = next(s['SubnetId'] for s in ec2.describe_subnets()['Subnets'] \
                           if s['AvailabilityZone'] == 'eu-west-1a')\n\
             print(ami, subnet)",
        );
        let (ami, subnet) = found.split_once(' ').expect("an AMI and a subnet");
        let text = std::fs::read_to_string(root().join("examples/fleet/fleet-1.json")).expect("fleet-1.json");
        let mut doc: serde_json::Value = serde_json::from_str(&text).expect("fleet JSON");
        for host in doc["dockerHosts"].as_array_mut().expect("hosts") {
            host["ami"] = ami.into();
            host["subnet"] = subnet.into();
            host["availabilityZone"] = "eu-west-1a".into();
        }
        self.vars = self.dir.write("fleet.json", doc.to_string()).to_string_lossy().into_owned();
    }

    fn state(&self) -> std::path::PathBuf {
        self.dir.path().join("state.json")
    }

    fn apply(&self) -> Command {
        let mut cmd = self.berth("apply");
        cmd.arg("--auto-approve");
        cmd
    }

    /// `berth VERB` on the fleet's AWS side with this fleet's state and moto.
    fn berth(&self, verb: &str) -> Command {
        let mut cmd = berth();
        cmd.args([verb, "examples/fleet", "--only", "aws", "--var-file", &self.vars])
            .arg("--state")
            .arg(self.state())
            .current_dir(root())
            .envs(self.moto.env())
            .env("AWS_REGION", REGION)
            .env("NO_COLOR", "1");
        cmd
    }

    fn python(&self, code: &str) -> String {
        self.moto.python(&format!("ec2 = boto3.client('ec2', endpoint_url={:?}, region_name={REGION:?}, aws_access_key_id='testing', aws_secret_access_key='testing')\n{code}", self.moto.url()))
    }

    /// Live instances, live volumes and attached volumes carrying berth's lineage tag.
    fn counts(&self) -> (usize, usize, usize) {
        let out = self.python(
            "f = [{'Name': 'tag-key', 'Values': ['berth:lineage']}]\n\
             i = [x for p in ec2.get_paginator('describe_instances').paginate(Filters=f) \
                  for r in p['Reservations'] for x in r['Instances'] \
                  if x['State']['Name'] not in ('terminated', 'shutting-down')]\n\
             v = [x for p in ec2.get_paginator('describe_volumes').paginate(Filters=f) for x in p['Volumes']]\n\
             a = [x for x in v if any(t['State'] == 'attached' for t in x['Attachments'])]\n\
             print(len(i), len(v), len(a))",
        );
        let n: Vec<usize> = out.split(' ').map(|n| n.parse().expect("a count")).collect();
        (n[0], n[1], n[2])
    }

    /// Empties moto, removes the state and writes new variables.
    fn reset(&mut self) {
        self.python(&format!(
            "import urllib.request\nurllib.request.urlopen(urllib.request.Request({:?}, method='POST'))",
            format!("{}/moto-api/reset", self.moto.url())
        ));
        for suffix in ["", ".backup", ".lock"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.state().display()));
        }
        self.prepare();
    }

    /// The state on disk, which must be a whole document whenever it exists.
    fn saved(&self) -> Option<State> {
        let bytes = std::fs::read(self.state()).ok()?;
        Some(State::parse(&bytes).unwrap_or_else(|e| panic!("the state is broken after a kill: {e}")))
    }
}

#[test]
fn an_apply_killed_at_any_moment_converges_on_rerun_without_duplicates() {
    let points: u32 = std::env::var("BERTH_KILL_POINTS").ok().and_then(|n| n.parse().ok()).unwrap_or(8);
    let mut fleet = Fleet::new();
    let whole = (8, 16, 16);

    // One undisturbed apply gives the span the kill points cover.
    let start = Instant::now();
    let out = output_within(&mut fleet.apply(), LIMIT);
    let span = start.elapsed();
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(fleet.counts(), whole);

    for point in 0..points {
        fleet.reset();
        let delay = span.mul_f64(f64::from(point) / f64::from(points.max(1)) * 1.2);
        let mut child = fleet.apply().stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("berth");
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        // A call the dead run had in flight may still complete on the server. Real EC2 then
        // dedupes the re-run's creation by its ClientToken; moto does not, so the re-run
        // starts once moto is done with it, as a CI retry would anyway.
        std::thread::sleep(Duration::from_millis(500));
        let before = fleet.saved();

        let out = output_within(&mut fleet.apply(), LIMIT);
        assert!(out.status.success(), "kill point {point} ({delay:?}): the re-run failed: {}", text(&out).1);
        assert_eq!(fleet.counts(), whole, "kill point {point} ({delay:?}): not exactly the spec after the re-run");
        let after = fleet.saved().expect("a state after the re-run");
        if let Some(before) = before {
            assert_eq!(after.lineage, before.lineage, "kill point {point}: the lineage changed");
            assert!(after.serial >= before.serial, "kill point {point}: the serial went back");
        }
        let clean = output_within(fleet.berth("plan").args(["--refresh", "--detailed-exitcode"]), LIMIT);
        assert_eq!(clean.status.code(), Some(0), "kill point {point}: {:?}", text(&clean));
    }
}

//! The Docker engine against a real dockerd (Debian's docker.io, installed by tests/setup.sh;
//! needs root). Each test starts its own daemon ([`berth_tests::Dockerd`]: own namespaces,
//! socket, data-root, exec-root and pidfile) and, inside the daemon's network namespace, a
//! [`berth_tests::Registry`] on 127.0.0.1:5000 holding a busybox image (Debian's
//! busybox-static, imported and pushed with the docker CLI, then removed from the daemon so
//! that the engine has to pull it). What exists is counted through the docker CLI, not through berth. Every
//! wait is bounded; every process is stopped by a guard.

#![allow(clippy::disallowed_methods, reason = "tests set up fixtures and run tools")]

use berth_dockerd::{ADDRESS_LABEL, DockerEngine};
use berth_model::EmitInput;
use berth_plan::{Applied, Engine, Recorded, Request, Resource, State, diff, resolve};
use berth_tests::{BUSYBOX_IMAGE as IMAGE, Dockerd, Registry, TempDir, try_run, wait_until};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const SPEC: &str = "providers/dockerd/tests/specs/host.hcl";
const TIMEOUT: Duration = Duration::from_secs(60);

/// A daemon with the test image in its registry, the spec's resources for it, and an engine.
struct Fixture {
    engine: DockerEngine,
    resources: Vec<Resource>,
    lineage: String,
    // Dropped in this order: the daemon before the registry and the directory.
    dockerd: Dockerd,
    _registry: Registry,
    _dir: TempDir,
}

/// Runs the docker CLI of `dockerd`, failing the test unless it succeeds in time.
fn docker(dockerd: &Dockerd, args: &[&str]) -> String {
    let (ok, out) = try_run(dockerd.docker().args(args), TIMEOUT)
        .unwrap_or_else(|| panic!("docker {args:?} did not finish within {TIMEOUT:?}"));
    assert!(ok, "docker {args:?}: {out}\n{}", dockerd.log());
    out
}

/// Names of what `docker KIND ls` shows with berth's address label.
fn labelled(dockerd: &Dockerd, kind: &str) -> BTreeSet<String> {
    let mut args = vec![kind, "ls", "--filter", "label=berth.address", "--format", "{{.Name}}"];
    if kind == "container" {
        args = vec!["ps", "-a", "--filter", "label=berth.address", "--format", "{{.Names}}"];
    }
    docker(dockerd, &args).split_whitespace().map(str::to_owned).collect()
}

impl Fixture {
    fn new() -> Self {
        let dir = TempDir::new("dockerd-engine");
        let mut dockerd = Dockerd::start("{}");
        assert!(dockerd.ready(), "dockerd did not come up: {}", dockerd.log());
        let registry = Registry::start(&dockerd);

        let vars = dir.write("vars.json", json!({ "endpoint": dockerd.endpoint() }).to_string());
        let (model, graph) = berth_tests::compile(SPEC, &[vars.to_str().expect("UTF-8 path")]);
        let resources = berth_docker::resources(EmitInput { model: &model, graph: &graph });
        let engine = DockerEngine::with_default_endpoint(None).with_endpoints([dockerd.endpoint()]);
        Fixture { engine, resources, lineage: "lineage-1".into(), dockerd, _registry: registry, _dir: dir }
    }

    /// Creates every resource after its dependencies, references resolved from what was
    /// created: the applied objects by address.
    async fn apply(&self) -> BTreeMap<String, Applied> {
        let mut applied: BTreeMap<String, Applied> = BTreeMap::new();
        // The hosts' instances are another engine's: here they exist already.
        let done = |d: &str, applied: &BTreeMap<String, Applied>| {
            applied.contains_key(d) || !self.resources.iter().any(|r| r.address == d)
        };
        let state = State::new(self.lineage.clone());
        while applied.len() < self.resources.len() {
            let ready: Vec<&Resource> = self
                .resources
                .iter()
                .filter(|r| !applied.contains_key(&r.address) && r.deps.iter().all(|d| done(d, &applied)))
                .collect();
            assert!(!ready.is_empty(), "a dependency is missing");
            for r in ready {
                let attrs = self.resolved(r, &applied);
                let token = state.token(&r.address);
                let request = Request {
                    address: &r.address,
                    kind: &r.kind,
                    attrs: &attrs,
                    lineage: &self.lineage,
                    token: &token,
                };
                let done = self
                    .engine
                    .create(request)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}\n{}", r.address, self.dockerd.log()));
                applied.insert(r.address.clone(), done);
            }
        }
        applied
    }

    /// The attributes of `r` with every reference replaced by the applied value.
    fn resolved(&self, r: &Resource, applied: &BTreeMap<String, Applied>) -> Map<String, Value> {
        let lookup = |address: &str, attr: &str| applied.get(address).and_then(|a| a.attrs.get(attr).cloned());
        r.attrs.iter().map(|(k, v)| (k.clone(), resolve(v, &lookup).expect("dependencies applied"))).collect()
    }

    /// Reads every resource by the id it was applied with.
    async fn read(&self, applied: &BTreeMap<String, Applied>) -> Result<Vec<Option<Applied>>, berth_plan::EngineError> {
        let objects: Vec<(&str, &str)> =
            self.resources.iter().map(|r| (r.kind.as_str(), applied[&r.address].id.as_str())).collect();
        self.engine.read(&objects).await
    }

    /// Calls of one name made so far.
    fn calls(&self, name: &str) -> u64 {
        self.engine.calls().get(name).copied().unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_read_find_adopt_and_delete() {
    let f = Fixture::new();
    let names = |kind: &str| -> BTreeSet<String> {
        f.resources.iter().filter(|r| r.kind == kind).map(|r| r.attrs["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(
        names("docker_network"),
        BTreeSet::from(["berth_back".into(), "berth_default".into(), "berth_front".into()])
    );

    let applied = f.apply().await;
    assert_eq!(f.calls("ImageCreate"), 1, "the image is pulled once for three containers: {:?}", f.engine.calls());
    let running = docker(&f.dockerd, &["ps", "--filter", "status=running", "--format", "{{.Names}}"]);
    assert_eq!(
        running.split_whitespace().collect::<BTreeSet<_>>(),
        BTreeSet::from(["sleeper-0", "sleeper-1", "worker"])
    );
    let ip = docker(&f.dockerd, &["inspect", "-f", "{{.NetworkSettings.Networks.berth_front.IPAddress}}", "sleeper-1"]);
    assert_eq!(ip.trim(), "172.16.0.11");
    let joined = docker(
        &f.dockerd,
        &[
            "inspect",
            "-f",
            "{{len .NetworkSettings.Networks}} {{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}",
            "sleeper-0",
        ],
    );
    assert_eq!(joined.trim(), format!("2 100000000 {}", 16 << 20));
    assert_eq!(labelled(&f.dockerd, "network"), names("docker_network"));

    // Read: one listing per kind on the one endpoint, the attributes as applied, so a plan
    // made from what was read changes nothing.
    let before = f.engine.calls();
    let read = f.read(&applied).await.expect("read");
    let after = f.engine.calls();
    let made: u64 = after.values().sum::<u64>() - before.values().sum::<u64>();
    assert_eq!(made, 2, "{before:?} → {after:?}");
    let mut state = State::new(f.lineage.clone());
    for (r, got) in f.resources.iter().zip(&read) {
        let got = got.as_ref().unwrap_or_else(|| panic!("{} was not read", r.address));
        let want = f.resolved(r, &applied);
        let (attrs, outputs): (Map<String, Value>, Map<String, Value>) =
            got.attrs.clone().into_iter().partition(|(k, _)| r.attrs.contains_key(k));
        assert_eq!(attrs, want, "{}", r.address);
        assert_eq!(outputs["docker_id"], applied[&r.address].attrs["docker_id"]);
        if r.kind == "docker_container" {
            assert_eq!(outputs["state"], "running");
        }
        state.resources.insert(
            r.address.clone(),
            Recorded {
                engine: "docker".into(),
                kind: r.kind.clone(),
                id: got.id.clone(),
                attrs,
                outputs,
                deps: r.deps.clone(),
            },
        );
    }
    assert!(diff(&f.resources, &state).is_empty(), "a plan after apply is clean");

    // Find by lineage: everything, and nothing of another lineage.
    let found: BTreeSet<(String, String)> =
        f.engine.find(Some(&f.lineage)).await.expect("find").into_iter().map(|x| (x.address, x.kind)).collect();
    let want: BTreeSet<(String, String)> = f.resources.iter().map(|r| (r.address.clone(), r.kind.clone())).collect();
    assert_eq!(found, want);
    assert!(f.engine.find(Some("another")).await.expect("find").is_empty());

    // Creating again adopts what exists: the same objects, nothing new.
    let sleeper = f.resources.iter().find(|r| r.address == "container.sleeper/0:docker_container").expect("sleeper-0");
    let attrs = f.resolved(sleeper, &applied);
    let token = State::new(f.lineage.clone()).token(&sleeper.address);
    let again =
        Request { address: &sleeper.address, kind: &sleeper.kind, attrs: &attrs, lineage: &f.lineage, token: &token };
    let adopted = f.engine.create(again).await.expect("adopted");
    assert_eq!(adopted.attrs["docker_id"], applied[&sleeper.address].attrs["docker_id"]);
    let front = f.resources.iter().find(|r| r.address == "host.d1:docker_network.front").expect("front");
    let net_attrs = f.resolved(front, &applied);
    let again =
        Request { address: &front.address, kind: &front.kind, attrs: &net_attrs, lineage: &f.lineage, token: &token };
    assert_eq!(
        f.engine.create(again).await.expect("adopted").attrs["docker_id"],
        applied[&front.address].attrs["docker_id"]
    );
    assert_eq!(labelled(&f.dockerd, "container").len(), 3);
    assert_eq!(labelled(&f.dockerd, "network").len(), 3);

    // Made but never started, on its first network only (a run died in between): it reads as
    // absent, and creating it makes it again, on both networks, running.
    let half = f.resources.iter().find(|r| r.address == "container.sleeper/1:docker_container").expect("sleeper-1");
    let labels = docker(&f.dockerd, &["inspect", "-f", "{{json .Config.Labels}}", "sleeper-1"]);
    let labels: BTreeMap<String, String> = serde_json::from_str(&labels).expect("labels");
    docker(&f.dockerd, &["rm", "-f", "sleeper-1"]);
    let mut create = vec!["create".to_owned(), "--name=sleeper-1".into(), "--network=berth_front".into()];
    create.extend(labels.iter().map(|(k, v)| format!("--label={k}={v}")));
    create.extend([IMAGE.to_owned(), "sleep".into(), "3600".into()]);
    let made = docker(&f.dockerd, &create.iter().map(String::as_str).collect::<Vec<_>>());
    let index = f.resources.iter().position(|r| r.address == half.address).expect("an index");
    assert!(f.read(&applied).await.expect("read")[index].is_none(), "a container never started reads as absent");
    let (half_attrs, half_token) = (f.resolved(half, &applied), State::new(f.lineage.clone()).token(&half.address));
    let remake = Request {
        address: &half.address,
        kind: &half.kind,
        attrs: &half_attrs,
        lineage: &f.lineage,
        token: &half_token,
    };
    let remade = f.engine.create(remake).await.expect("made again");
    assert_ne!(remade.attrs["docker_id"], made.trim(), "the half-made container was replaced");
    let status =
        docker(&f.dockerd, &["inspect", "-f", "{{.State.Status}} {{len .NetworkSettings.Networks}}", "sleeper-1"]);
    assert_eq!(status.trim(), "running 2");

    // The same name in another lineage, or an object berth did not make, is refused.
    let other = Request { lineage: "lineage-2", ..again };
    let refused = f.engine.create(other).await.expect_err("another lineage's network");
    assert!(refused.message.contains("is not host.d1:docker_network.front") && !refused.retryable, "{refused}");
    docker(&f.dockerd, &["create", "--name", "intruder", IMAGE, "sleep", "1"]);
    let mut intruder = attrs.clone();
    intruder.insert("name".into(), "intruder".into());
    let request = Request {
        address: "container.intruder:docker_container",
        attrs: &intruder,
        ..Request { address: "", kind: &sleeper.kind, attrs: &attrs, lineage: &f.lineage, token: &token }
    };
    let refused = f.engine.create(request).await.expect_err("a container berth did not make");
    assert!(refused.message.contains("named \"intruder\" already exists"), "{refused}");

    // A volume, created, found and deleted like the others.
    let volume_attrs: Map<String, Value> =
        json!({ "endpoint": f.dockerd.endpoint(), "name": "berth-data" }).as_object().cloned().expect("object");
    let volume = Request {
        address: "host.d1:docker_volume.data",
        kind: "docker_volume",
        attrs: &volume_attrs,
        lineage: &f.lineage,
        token: &token,
    };
    let made = f.engine.create(volume).await.expect("volume");
    assert_eq!(labelled(&f.dockerd, "volume"), BTreeSet::from(["berth-data".to_owned()]));
    assert!(f.engine.find(Some(&f.lineage)).await.expect("find").iter().any(|x| x.kind == "docker_volume"));
    assert_eq!(
        f.engine.read(&[("docker_volume", &made.id)]).await.expect("read")[0].as_ref().map(|a| &a.attrs["name"]),
        Some(&json!("berth-data"))
    );
    f.engine.delete("docker_volume", &made.id).await.expect("delete volume");

    // Delete, dependents first; deleting again is no error; nothing is left.
    for r in f.resources.iter().rev() {
        f.engine.delete(&r.kind, &applied[&r.address].id).await.unwrap_or_else(|e| panic!("{}: {e}", r.address));
    }
    for r in &f.resources {
        f.engine.delete(&r.kind, &applied[&r.address].id).await.expect("already gone");
    }
    for kind in ["container", "network", "volume"] {
        assert!(labelled(&f.dockerd, kind).is_empty(), "{kind}s left: {:?}", labelled(&f.dockerd, kind));
    }
    assert!(f.read(&applied).await.expect("read").iter().all(Option::is_none));
    let all = docker(&f.dockerd, &["ps", "-a", "--format", "{{.Names}} {{.Label \"berth.address\"}}"]);
    assert_eq!(all.trim(), "intruder", "only the container berth did not make is left");
    assert!(!all.contains(ADDRESS_LABEL));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dockerd_restart_between_calls_is_survived_and_a_dead_one_fails_cleanly() {
    let mut f = Fixture::new();
    let applied = f.apply().await;

    // Down while a read starts, up again a moment later: the read retries until it answers.
    let objects: Vec<(&str, &str)> =
        f.resources.iter().map(|r| (r.kind.as_str(), applied[&r.address].id.as_str())).collect();
    f.dockerd.stop();
    let retries = f.calls("retries");
    let (engine, dockerd) = (&f.engine, &mut f.dockerd);
    let (read, ()) = tokio::join!(engine.read(&objects), async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        dockerd.restart();
    });
    let read = read.unwrap_or_else(|e| panic!("read across a restart: {e}\n{}", f.dockerd.log()));
    assert!(f.calls("retries") > retries, "the restarting daemon was retried: {:?}", f.engine.calls());
    assert!(read.iter().all(Option::is_some), "everything is still there after a restart");
    assert!(
        wait_until("the containers to run again", TIMEOUT, || {
            try_run(f.dockerd.docker().args(["ps", "-q"]), TIMEOUT).is_some_and(|(_, out)| out.lines().count() == 3)
        }),
        "unless-stopped containers come back with their daemon"
    );

    // Down for good: the engine gives up after its bounded retries with a transient error.
    f.dockerd.stop();
    let started = std::time::Instant::now();
    let failed = f.engine.delete("docker_container", &applied["container.worker:docker_container"].id).await;
    let e = failed.expect_err("no daemon");
    assert!(e.retryable && e.message.contains("deleting docker_container worker"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(40), "bounded: {:?}", started.elapsed());
}

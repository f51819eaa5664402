//! The Kubernetes engine against the stand-in API server (tests/kube-standin, one process per
//! cluster): apply, a clean plan after apply, one change as one update, conflicts with another
//! field manager, find by lineage, delete, and no secret data outside the engine. What exists is
//! counted through the stand-in's own API, not through berth's results.

use berth_kube::KubeEngine;
use berth_model::EmitInput;
use berth_plan::{Action, Applied, Engine, Recorded, Resource, State, diff};
use berth_tests::{FIXED_NOW_UNIX, KubeStandIn, TempDir, compile};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

const SPEC: &str = "providers/kube/tests/specs/small";
const LINEAGE: &str = "0123456789abcdef0123456789abcdef";

/// Both clusters of the spec, and an engine that reaches them.
fn clusters(dir: &TempDir) -> (KubeStandIn, KubeStandIn, Vec<PathBuf>) {
    let (a, b) = (KubeStandIn::start(dir, "a"), KubeStandIn::start(dir, "b"));
    let files = vec![a.kubeconfig().to_path_buf(), b.kubeconfig().to_path_buf()];
    (a, b, files)
}

/// The spec's Kubernetes objects and the data behind their secret placeholders.
fn desired(var_files: &[&str]) -> (Vec<Resource>, BTreeMap<String, Vec<u8>>) {
    let (model, graph) = compile(SPEC, var_files);
    let input = EmitInput { model: &model, graph: &graph };
    let (secrets, diags) = berth_helm::secret_data(input, FIXED_NOW_UNIX);
    assert!(!diags.has_errors(), "{diags:?}");
    (berth_helm::resources(input, FIXED_NOW_UNIX), secrets)
}

fn request<'a>(r: &'a Resource, token: &'a str) -> berth_plan::Request<'a> {
    berth_plan::Request { address: &r.address, kind: &r.kind, attrs: &r.attrs, lineage: LINEAGE, token }
}

/// Applies resources, namespaces first, the rest at once, and records them as the walk does.
async fn apply(engine: &KubeEngine, resources: &[Resource], state: &mut State) {
    let token = "0".repeat(64);
    let (namespaces, rest): (Vec<&Resource>, Vec<&Resource>) = resources.iter().partition(|r| r.kind == "v1/Namespace");
    for wave in [namespaces, rest] {
        let results = futures::future::join_all(wave.iter().map(|r| async {
            match state.resources.get(&r.address) {
                Some(rec) => engine.update(request(r, &token), &rec.id).await,
                None => engine.create(request(r, &token)).await,
            }
        }))
        .await;
        for (r, result) in wave.iter().zip(results) {
            let applied = result.unwrap_or_else(|e| panic!("{}: {e}", r.address));
            record(state, r, applied);
        }
    }
}

fn record(state: &mut State, r: &Resource, applied: Applied) {
    let outputs = applied.attrs.into_iter().filter(|(k, _)| !r.attrs.contains_key(k)).collect();
    state.resources.insert(
        r.address.clone(),
        Recorded {
            engine: r.engine.clone(),
            kind: r.kind.clone(),
            id: applied.id,
            attrs: r.attrs.clone(),
            outputs,
            deps: r.deps.clone(),
        },
    );
}

/// The state as the engine reads the objects now (what `berth plan --refresh` compares).
async fn refreshed(engine: &KubeEngine, state: &State) -> State {
    let objects: Vec<(&str, &str)> = state.resources.values().map(|r| (r.kind.as_str(), r.id.as_str())).collect();
    let read = engine.read(&objects).await.expect("read");
    let mut fresh = state.clone();
    for ((address, rec), observed) in state.resources.iter().zip(read) {
        let observed = observed.unwrap_or_else(|| panic!("{address} is gone"));
        let fresh_rec = fresh.resources.get_mut(address).expect("recorded");
        assert_eq!(observed.id, rec.id);
        for (k, v) in fresh_rec.attrs.iter_mut() {
            *v = observed.attrs.get(k).cloned().unwrap_or(Value::Null);
        }
    }
    fresh
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
}

#[test]
fn apply_gives_a_clean_plan_and_one_change_one_update() {
    let dir = TempDir::new("kube-apply");
    let (a, b, files) = clusters(&dir);
    let engine = KubeEngine::new().with_kubeconfig(files).with_secrets(desired(&[]).1);
    let (resources, _) = desired(&[]);
    runtime().block_on(async {
        let mut state = State::new(LINEAGE.into());
        apply(&engine, &resources, &mut state).await;
        assert_eq!(a.berth_objects().len() + b.berth_objects().len(), resources.len());
        assert!(b.berth_objects().contains(&("Deployment".into(), "web".into(), "api".into())));

        let calls_before = engine.calls();
        let fresh = refreshed(&engine, &state).await;
        let plan = diff(&resources, &fresh);
        assert!(plan.is_empty(), "{:#?}", plan.actions().collect::<Vec<_>>());
        // One LIST per cluster, kind and namespace, no GET per object.
        let lists: u64 = engine.calls().iter().filter(|(k, _)| k.starts_with("list ")).map(|(_, n)| n).sum::<u64>()
            - calls_before.iter().filter(|(k, _)| k.starts_with("list ")).map(|(_, n)| n).sum::<u64>();
        let mut groups: Vec<(String, String, String)> = fresh
            .resources
            .values()
            .map(|r| {
                let (context, rest) = r.id.split_once('/').unwrap();
                (context.to_owned(), r.kind.clone(), rest.rsplit_once('/').unwrap().0.to_owned())
            })
            .collect();
        groups.sort();
        groups.dedup();
        assert_eq!(lists, groups.len() as u64, "{:?}", engine.calls());
        assert!(!engine.calls().keys().any(|k| k.starts_with("get ")));

        let (changed, _) = desired(&["providers/kube/tests/specs/small/newer-api.json"]);
        let plan = diff(&changed, &fresh);
        let actions: Vec<_> = plan.actions().map(|c| (c.address.as_str(), c.action, c.changed.clone())).collect();
        assert_eq!(actions, [("cluster.b:apps/v1/Deployment/web/api", Action::Update, vec!["manifest".to_owned()])]);
        apply(&engine, &changed, &mut state).await;
        assert!(diff(&changed, &refreshed(&engine, &state).await).is_empty());
        let (_, deployment) = b.http("GET", "/apis/apps/v1/namespaces/web/deployments/api", "application/json", "");
        assert_eq!(deployment["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example.com/api:1.1");
    });
}

#[test]
fn conflicts_name_the_field_and_its_manager_until_forced() {
    let dir = TempDir::new("kube-conflict");
    let (_a, b, files) = clusters(&dir);
    let (resources, secrets) = desired(&[]);
    let engine = KubeEngine::new().with_kubeconfig(files.clone()).with_secrets(secrets.clone());
    runtime().block_on(async {
        let mut state = State::new(LINEAGE.into());
        apply(&engine, &resources, &mut state).await;
        let (status, _) = b.http(
            "PATCH",
            "/apis/apps/v1/namespaces/web/deployments/api?fieldManager=kubectl",
            "application/merge-patch+json",
            r#"{"spec":{"replicas":5}}"#,
        );
        assert_eq!(status, 200);
        let fresh = refreshed(&engine, &state).await;
        let plan = diff(&resources, &fresh);
        let drifted: Vec<&str> = plan.actions().map(|c| c.address.as_str()).collect();
        assert_eq!(drifted, ["cluster.b:apps/v1/Deployment/web/api"]);

        let api = resources.iter().find(|r| r.address == drifted[0]).unwrap();
        let token = "0".repeat(64);
        let id = &state.resources[&api.address].id;
        let err = engine.update(request(api, &token), id).await.unwrap_err();
        assert!(!err.retryable);
        for part in [".spec.replicas", "kubectl", "--force-conflicts"] {
            assert!(err.message.contains(part), "{part} not in {err}");
        }

        let forced = KubeEngine::new().with_kubeconfig(files).with_secrets(secrets).force_conflicts(true);
        forced.update(request(api, &token), id).await.expect("a forced apply takes the field over");
        assert!(diff(&resources, &refreshed(&engine, &state).await).is_empty());
        let (_, deployment) = b.http("GET", "/apis/apps/v1/namespaces/web/deployments/api", "application/json", "");
        assert_eq!(deployment["spec"]["replicas"], 2);
    });
}

#[test]
fn find_by_lineage_and_delete_leaves_nothing() {
    let dir = TempDir::new("kube-delete");
    let (a, b, files) = clusters(&dir);
    let (resources, secrets) = desired(&[]);
    let engine = KubeEngine::new().with_kubeconfig(files).with_secrets(secrets).with_clusters(["a".into(), "b".into()]);
    runtime().block_on(async {
        let mut state = State::new(LINEAGE.into());
        apply(&engine, &resources, &mut state).await;

        let found = engine.find(Some(LINEAGE)).await.expect("find");
        let mut expected: Vec<(String, String, String)> =
            state.resources.iter().map(|(a, r)| (a.clone(), r.kind.clone(), r.id.clone())).collect();
        expected.sort();
        let found: Vec<_> = found.into_iter().map(|f| (f.address, f.kind, f.id)).collect();
        assert_eq!(found, expected);
        assert!(engine.find(Some("another")).await.expect("find").is_empty());

        // Pruning: the plan of an empty spec deletes everything, objects before their namespaces.
        let plan = diff(&[], &state);
        assert!(plan.actions().all(|c| c.action == Action::Delete));
        let (namespaces, rest): (Vec<_>, Vec<_>) = plan.actions().partition(|c| c.kind == "v1/Namespace");
        for wave in [rest, namespaces] {
            let results =
                futures::future::join_all(wave.iter().map(|c| engine.delete(&c.kind, &state.resources[&c.address].id)))
                    .await;
            assert!(results.iter().all(Result::is_ok), "{results:?}");
        }
        assert_eq!(a.berth_objects(), []);
        assert_eq!(b.berth_objects(), []);
        // Deleting what is gone is fine.
        let (kind, id) = state.resources.values().map(|r| (r.kind.clone(), r.id.clone())).next().unwrap();
        engine.delete(&kind, &id).await.expect("gone is fine");
        let read = engine.read(&[(kind.as_str(), id.as_str())]).await.expect("read");
        assert_eq!(read, [None]);
    });
}

#[test]
fn secret_data_stays_out_of_resources_and_state() {
    let dir = TempDir::new("kube-secrets");
    let (a, _b, files) = clusters(&dir);
    let (resources, secrets) = desired(&[]);
    assert!(!secrets.is_empty());
    let engine = KubeEngine::new().with_kubeconfig(files).with_secrets(secrets.clone());
    let secret = resources.iter().find(|r| r.address == "cluster.a:v1/Secret/data/db-tls").expect("the db Secret");
    for key in ["ca.crt", "tls.crt", "tls.key"] {
        let digest = secret.attrs["manifest"]["data"][key]["$secret"].as_str().expect("a placeholder");
        assert!(secrets.contains_key(digest));
    }
    // The same spec at the same time gives the same placeholders, although keys are new.
    let (again, other) = desired(&[]);
    assert_eq!(again, resources);
    assert_ne!(other.values().collect::<Vec<_>>(), secrets.values().collect::<Vec<_>>());

    runtime().block_on(async {
        let mut state = State::new(LINEAGE.into());
        apply(&engine, &resources, &mut state).await;
        let fresh = refreshed(&engine, &state).await;
        let (_, live) = a.http("GET", "/api/v1/namespaces/data/secrets/db-tls", "application/json", "");
        let key = secrets.values().find(|v| v.starts_with(b"-----BEGIN PRIVATE KEY")).expect("a key");
        let encoded = base64_of(key);
        assert!(live["data"].as_object().unwrap().values().any(|v| *v == json!(encoded)), "the cluster has the key");
        let plan = diff(&resources, &fresh);
        let text = format!(
            "{}{}{}",
            serde_json::to_string(&resources).unwrap(),
            String::from_utf8_lossy(&fresh.to_bytes()),
            String::from_utf8_lossy(&plan.to_json())
        );
        assert!(!text.contains("PRIVATE KEY") && !text.contains(&encoded[..40]), "secret data leaked");
        assert!(!text.contains(&base64_of(&secrets.values().next().unwrap()[..30])[..30]));
    });
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

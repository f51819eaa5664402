//! The Helm target on small specs: what each chart holds, and what must never leak into the
//! reviewed output.

use berth_helm::HelmEmitter;
use berth_model::OutputTree;
use berth_tests::FIXED_NOW_UNIX;
use serde_json::Value;

const BASIC: &str = "providers/helm/tests/specs/basic";

/// The charts of a spec, which must emit without errors.
fn emit(spec: &str, var_files: &[&str]) -> OutputTree {
    let (tree, diags) = berth_tests::emit(&HelmEmitter { now_unix: FIXED_NOW_UNIX, threads: 0 }, spec, var_files);
    assert!(!diags.has_errors(), "{diags:?}");
    tree
}

/// The YAML documents of a reviewed file.
fn docs(tree: &OutputTree, path: &str) -> Vec<Value> {
    let file = tree
        .get(path)
        .unwrap_or_else(|| panic!("no {path}; files: {:?}", tree.iter().map(|(p, _)| p).collect::<Vec<_>>()));
    assert!(!file.secret, "{path} is secret");
    let text = std::str::from_utf8(&file.contents).expect("utf-8");
    text.split("\n---\n").map(|d| serde_norway::from_str(d).unwrap_or_else(|e| panic!("{path}: {e}\n{d}"))).collect()
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter().find(|d| d["kind"] == kind).unwrap_or_else(|| panic!("no {kind} in {docs:#?}"))
}

#[test]
fn each_cluster_gets_its_share_of_every_service() {
    let tree = emit(BASIC, &[]);
    let db_a = docs(&tree, "a/templates/service-db.yaml");
    let db_b = docs(&tree, "b/templates/service-db.yaml");
    assert_eq!(kind(&db_a, "StatefulSet")["spec"]["replicas"], 10);
    assert_eq!(kind(&db_b, "StatefulSet")["spec"]["replicas"], 2);
    assert_eq!(kind(&docs(&tree, "b/templates/service-api.yaml"), "Deployment")["spec"]["replicas"], 4);
    assert!(tree.get("a/templates/service-api.yaml").is_none(), "api is pinned to b only");
    assert!(tree.get("a/templates/service-web.yaml").is_none());
    for chart in ["a", "b"] {
        let meta: Value =
            serde_norway::from_slice(&tree.get(&format!("{chart}/Chart.yaml")).unwrap().contents).unwrap();
        assert_eq!(meta["apiVersion"], "v2");
        assert_eq!(meta["name"], chart);
    }
}

#[test]
fn statefulsets_are_parallel_headless_and_budgeted() {
    let tree = emit(BASIC, &[]);
    let db = docs(&tree, "a/templates/service-db.yaml");
    let sts = kind(&db, "StatefulSet");
    assert_eq!(sts["spec"]["podManagementPolicy"], "Parallel");
    assert_eq!(sts["spec"]["serviceName"], "db");
    let svc = kind(&db, "Service");
    assert_eq!(svc["spec"]["clusterIP"], "None");
    assert_eq!(svc["spec"]["publishNotReadyAddresses"], true);
    // A budget of 3 over 12 replicas: 2 of the 10 on a, at least 1 of the 2 on b.
    assert_eq!(kind(&db, "PodDisruptionBudget")["spec"]["maxUnavailable"], 2);
    assert_eq!(kind(&docs(&tree, "b/templates/service-db.yaml"), "PodDisruptionBudget")["spec"]["maxUnavailable"], 1);
    // web is an OrderedReady StatefulSet with a ClusterIP Service and no budget.
    let web = docs(&tree, "b/templates/service-web.yaml");
    assert_eq!(kind(&web, "StatefulSet")["spec"]["podManagementPolicy"], "OrderedReady");
    assert!(kind(&web, "Service")["spec"].get("clusterIP").is_none());
    assert!(web.iter().all(|d| d["kind"] != "PodDisruptionBudget"));
}

#[test]
fn pods_wait_for_the_dns_names_they_need() {
    let tree = emit(BASIC, &[]);
    let api = docs(&tree, "b/templates/service-api.yaml");
    let init = &kind(&api, "Deployment")["spec"]["template"]["spec"]["initContainers"];
    assert_eq!(init[0]["name"], "wait-for-dns");
    assert_eq!(init[0]["image"], "busybox:1.36");
    let cmd: Vec<&str> = init[0]["command"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(cmd[..2], ["sh", "-c"]);
    assert!(cmd[2].contains("sleep") && cmd[2].contains("deadline"), "bounded, with backoff: {}", cmd[2]);
    // api is not headless: it waits for db only.
    assert_eq!(cmd[3..], ["wait-for-dns", "db.data.svc.clusterset.local"]);
    // db is headless: its members wait for their own name, after restoring their data.
    let db = docs(&tree, "a/templates/service-db.yaml");
    let pod = &kind(&db, "StatefulSet")["spec"]["template"]["spec"];
    assert_eq!(pod["initContainers"][0]["name"], "restore");
    assert_eq!(pod["initContainers"][0]["env"][0]["value"], "https://blob.example.com/snapshots/db/latest.tar.gz");
    assert_eq!(pod["initContainers"][1]["name"], "wait-for-dns");
    assert_eq!(pod["initContainers"][1]["command"].as_array().unwrap().last().unwrap(), "db.data.svc.clusterset.local");
    assert_eq!(pod["volumes"][0]["secret"]["secretName"], "db-tls");
    assert_eq!(pod["volumes"][1]["name"], "data");
    let app = &pod["containers"][0];
    assert_eq!(app["name"], "app");
    assert_eq!(app["volumeMounts"][0]["mountPath"], "/etc/tls");
    assert_eq!(app["resources"]["requests"]["cpu"], "500m");
}

#[test]
fn objects_carry_the_cluster_labels_and_their_address() {
    let tree = emit(BASIC, &[]);
    let db = docs(&tree, "a/templates/service-db.yaml");
    for d in &db {
        let labels = &d["metadata"]["labels"];
        assert_eq!(labels["app"], "db");
        assert_eq!(labels["berth.dev/cluster"], "a");
        assert_eq!(labels["fleet/cluster"], "a");
        assert_eq!(labels["team"], "data");
        assert_eq!(d["metadata"]["annotations"]["berth.dev/address"], "service.db[a]");
    }
    let pod_labels = &kind(&db, "StatefulSet")["spec"]["template"]["metadata"]["labels"];
    assert_eq!(pod_labels["fleet/cluster"], "a");
    // Cluster b has no pod_labels: only berth's own.
    let b = docs(&tree, "b/templates/service-db.yaml");
    assert!(b[0]["metadata"]["labels"].get("fleet/cluster").is_none());
}

#[test]
fn certificates_come_from_their_issuers() {
    let tree = emit(BASIC, &[]);
    let secret = docs(&tree, "a/templates/certificate-db.yaml");
    assert_eq!(secret.len(), 1);
    assert_eq!(secret[0]["kind"], "Secret");
    assert_eq!(secret[0]["type"], "kubernetes.io/tls");
    assert_eq!(secret[0]["metadata"]["namespace"], "data");
    let action = secret[0]["data"]["tls.crt"].as_str().unwrap();
    assert!(action.starts_with("{{ dig \"berthTls\" \"db\" \"tls.crt\" \"\" .Values.AsMap | required "), "{action}");
    assert!(action.contains("-f OUT.secrets/helm/a/secrets.yaml") && action.ends_with("| b64enc }}"), "{action}");
    let es = docs(&tree, "b/templates/certificate-api.yaml");
    assert_eq!(es[0]["apiVersion"], "external-secrets.io/v1beta1");
    assert_eq!(es[0]["kind"], "ExternalSecret");
    assert_eq!(es[0]["spec"]["secretStoreRef"]["name"], "test-vault");
    assert_eq!(es[0]["spec"]["target"]["template"]["type"], "kubernetes.io/tls");
    assert_eq!(es[0]["spec"]["data"][1]["remoteRef"]["key"], "secret/test/api");
    let cm = docs(&tree, "b/templates/certificate-web.yaml");
    assert_eq!(cm[0]["apiVersion"], "cert-manager.io/v1");
    assert_eq!(cm[0]["spec"]["secretName"], "web-tls");
    assert_eq!(cm[0]["spec"]["issuerRef"]["name"], "letsencrypt");
    assert_eq!(cm[0]["spec"]["duration"], "2160h0m0s");
    // The issued certificates are secret, one values file per cluster, as the template reads them.
    let values = |chart: &str| -> Value {
        let f = tree.get(&format!("{chart}/secrets.yaml")).unwrap_or_else(|| panic!("{chart}/secrets.yaml"));
        assert!(f.secret);
        serde_norway::from_slice(&f.contents).unwrap()
    };
    let (a, b) = (values("a"), values("b"));
    for name in ["tls.crt", "tls.key", "ca.crt"] {
        for v in [&a, &b] {
            assert!(v["berthTls"]["db"][name].as_str().unwrap().starts_with("-----BEGIN "), "{name}: {v:?}");
        }
    }
    assert!(b["berthTls"].get("api").is_none(), "Vault certificates are not issued by berth");
    assert_eq!(tree.iter().filter(|(_, f)| f.secret).count(), 2, "one secret file per cluster");
    // One CA per build: both clusters' certificates trust the same one.
    assert_eq!(a["berthTls"]["db"]["ca.crt"], b["berthTls"]["db"]["ca.crt"]);
}

#[test]
fn the_pod_hash_follows_the_certificate() {
    let hash = |tree: &OutputTree| {
        kind(&docs(tree, "a/templates/service-db.yaml"), "StatefulSet")["spec"]["template"]["metadata"]["annotations"]
            ["berth.dev/certificate-hash"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let before = emit(BASIC, &[]);
    let after = emit(BASIC, &["providers/helm/tests/specs/basic/other-db-names.json"]);
    assert_eq!(hash(&before).len(), 64);
    assert_ne!(hash(&before), hash(&after), "a changed certificate must roll the pods");
    let secret = docs(&before, "a/templates/certificate-db.yaml");
    assert_eq!(
        secret[0]["metadata"]["annotations"]["berth.dev/certificate-hash"].as_str(),
        Some(hash(&before).as_str())
    );
    // Services with other certificates are not rolled.
    let api = |tree: &OutputTree| docs(tree, "b/templates/service-api.yaml")[0]["spec"]["template"]["metadata"].clone();
    assert_eq!(api(&before), api(&after));
}

#[test]
fn reviewed_files_are_deterministic_and_hold_no_key() {
    let public = |tree: &OutputTree| {
        tree.iter().filter(|(_, f)| !f.secret).map(|(p, f)| (p.to_string(), f.contents.clone())).collect::<Vec<_>>()
    };
    let one = emit(BASIC, &[]);
    let two = emit(BASIC, &[]);
    assert_eq!(public(&one), public(&two));
    for (path, contents) in public(&one) {
        let text = String::from_utf8(contents).unwrap();
        assert!(!text.contains("PRIVATE KEY") && !text.contains("BEGIN CERTIFICATE"), "{path} holds key material");
    }
    let key = one.get("a/secrets.yaml").unwrap();
    assert!(String::from_utf8_lossy(&key.contents).contains("PRIVATE KEY"));
    assert!(public(&one).iter().all(|(p, _)| !p.ends_with("secrets.yaml")));
}

#[test]
fn releases_are_dependencies_with_their_values() {
    let tree = emit(BASIC, &[]);
    let chart: Value = serde_norway::from_slice(&tree.get("a/Chart.yaml").unwrap().contents).unwrap();
    let dep = &chart["dependencies"][0];
    assert_eq!(dep["name"], "redis");
    assert_eq!(dep["alias"], "cache");
    assert_eq!(dep["version"], "19.6.0");
    assert_eq!(dep["repository"], "@berth-stdlib");
    let values: Value = serde_norway::from_slice(&tree.get("a/values.yaml").unwrap().contents).unwrap();
    assert_eq!(values["cache"]["replica"]["replicaCount"], 2);
    let b: Value = serde_norway::from_slice(&tree.get("b/Chart.yaml").unwrap().contents).unwrap();
    assert!(b.get("dependencies").is_none());
    // Namespaces the chart uses are created and kept.
    let ns = docs(&tree, "a/templates/namespaces.yaml");
    assert_eq!(ns.iter().map(|n| n["metadata"]["name"].as_str().unwrap()).collect::<Vec<_>>(), ["data"]);
    assert_eq!(ns[0]["metadata"]["annotations"]["helm.sh/resource-policy"], "keep");
}

#[test]
fn a_chart_over_helms_release_limit_is_an_error() {
    // 1.5 MB of pseudo-random letters: they compress to about 6 bits a byte, not enough.
    let mut x: u64 = 7;
    let blob: String = (0..1_500_000)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            char::from(b'a' + ((x >> 40) % 26) as u8)
        })
        .collect();
    let dir = berth_tests::TempDir::new("helm-large");
    let vars = dir.write("large.json", serde_json::json!({ "blob": blob }).to_string());
    let (_, diags) = berth_tests::emit(
        &HelmEmitter { now_unix: FIXED_NOW_UNIX, threads: 0 },
        "providers/helm/tests/specs/large-release",
        &[vars.to_str().unwrap()],
    );
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{diags:?}");
    assert_eq!(errors[0].code.name, "helm::size");
    assert!(
        errors[0].message.contains("cluster small") && errors[0].message.contains("1 MiB"),
        "{}",
        errors[0].message
    );
}

#[test]
fn output_is_the_same_whatever_the_number_of_threads() {
    let (model, graph) = berth_tests::compile("examples/fleet", &["examples/fleet/fleet-1.json"]);
    let input = berth_model::EmitInput { model: &model, graph: &graph };
    let emit = |threads| {
        let (tree, diags) = berth_model::Emitter::emit(&HelmEmitter { now_unix: FIXED_NOW_UNIX, threads }, input);
        assert!(!diags.has_errors(), "{diags:?}");
        tree
    };
    // Key material is new on every build: of secret files, compare which certificates they hold.
    let shape = |tree: &OutputTree| {
        tree.iter()
            .map(|(p, f)| {
                let contents = if f.secret {
                    let values: Value = serde_norway::from_slice(&f.contents).unwrap();
                    let certs = values["berthTls"].as_object().unwrap();
                    certs.iter().map(|(c, keys)| format!("{c}: {:?}\n", keys.as_object().unwrap().keys())).collect()
                } else {
                    String::from_utf8(f.contents.clone()).unwrap()
                };
                (p.to_string(), f.secret, contents)
            })
            .collect::<Vec<_>>()
    };
    let one = shape(&emit(1));
    assert!(one.iter().any(|(_, secret, certs)| *secret && certs.contains("tls.key")), "the fleet issues certificates");
    for threads in [2, 3, 8] {
        assert!(one == shape(&emit(threads)), "{threads} threads gave other output than one");
    }
}

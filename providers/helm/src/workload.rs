//! The objects of one service share: its workload, Service and PodDisruptionBudget.
//!
//! Pods start with init containers, in this order:
//!
//! 1. `restore` (services with `restore_from`): unpacks the snapshot into the pod's `/data`,
//!    an `emptyDir` on the node's local disk (NVMe on storage-optimised nodes), unless the
//!    volume already holds data. It runs the service's own image, which must have `curl` or
//!    `wget` and `tar`, as the app's data tools ship with the app.
//! 2. `wait-for-dns`: waits until every name the pod needs resolves in multi-cluster DNS
//!    (`<service>.<namespace>.<cluster dns_suffix>`): those of the services in `wait_for` and,
//!    for a headless service, its own, so that a member starts only once it is registered.
//!    Each name is tried with exponential backoff (1 s doubling to 30 s); after
//!    [`DNS_WAIT_SECS`] the container fails and the kubelet retries it with its own backoff.
//!    Headless Services publish not-ready addresses, so members waiting on each other resolve.
//!
//! Pods get no service-link environment variables (`enableServiceLinks: false`): with hundreds
//! of services in a namespace they only slow pod start; services are found through DNS.

use crate::tls::{HASH_ANNOTATION, identity_hash};
use berth_model::{Model, Share, Workload};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The label berth puts on every object with the name of its cluster.
pub(crate) const CLUSTER_LABEL: &str = "berth.dev/cluster";

/// The annotation with the berth address of the object's source.
pub(crate) const ADDRESS_ANNOTATION: &str = "berth.dev/address";

/// The image of the `wait-for-dns` init container.
pub(crate) const WAIT_IMAGE: &str = "busybox:1.36";

/// How long one run of `wait-for-dns` waits for all names before it fails.
pub(crate) const DNS_WAIT_SECS: u32 = 600;

/// Where `restore` unpacks a service's snapshot, and the app finds it.
pub(crate) const DATA_MOUNT: &str = "/data";

const WAIT_SCRIPT: &str = r#"deadline=$(( $(date +%s) + __SECS__ ))
for name in "$@"; do
  delay=1
  until nslookup "$name" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "wait-for-dns: $name did not resolve within __SECS__s" >&2
      exit 1
    fi
    echo "wait-for-dns: waiting for $name, next try in ${delay}s"
    sleep "$delay"
    delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
  done
  echo "wait-for-dns: $name resolves"
done
"#;

const RESTORE_SCRIPT: &str = r#"set -eu
if [ -n "$(ls -A "$RESTORE_TO" 2>/dev/null)" ]; then
  echo "restore: $RESTORE_TO already holds data"
  exit 0
fi
if command -v curl >/dev/null 2>&1; then
  fetch="curl -fsSL --retry 5 --retry-delay 10"
elif command -v wget >/dev/null 2>&1; then
  fetch="wget -q -O -"
else
  echo "restore: the image has neither curl nor wget" >&2
  exit 1
fi
echo "restore: $RESTORE_FROM into $RESTORE_TO"
$fetch "$RESTORE_FROM" | tar -xzf - -C "$RESTORE_TO"
"#;

/// Labels as a YAML mapping: the cluster's labels, then `extra` over them, in key order.
pub(crate) fn add_labels(labels: &BTreeMap<String, String>, extra: &[(&str, &str)]) -> Value {
    let mut all = labels.clone();
    for (k, v) in extra {
        all.insert((*k).to_string(), (*v).to_string());
    }
    Value::Object(all.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// The `berth.dev/address` annotation.
pub(crate) fn address_annotation(address: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(ADDRESS_ANNOTATION.to_string(), json!(address));
    m
}

/// The multi-cluster DNS name of a service as seen from a cluster.
pub(crate) fn dns_name(model: &Model, service: usize, cluster: usize) -> String {
    let s = &model.services[service];
    format!("{}.{}.{}", s.meta.name, s.namespace, model.clusters[cluster].dns_suffix)
}

/// The names the pods of a service wait for on a cluster, in order, without repeats.
pub(crate) fn dns_waits(model: &Model, service: usize, cluster: usize) -> Vec<String> {
    let s = &model.services[service];
    let mut names: Vec<String> = Vec::with_capacity(s.wait_for.len() + 1);
    let own = s.headless.then_some(service);
    for &dep in s.wait_for.iter().chain(own.iter()) {
        let name = dns_name(model, dep, cluster);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The PodDisruptionBudget's `maxUnavailable` of a share: the service's budget in proportion
/// to the share (so the clusters together stay within it), at least 1 unless the budget is 0.
pub(crate) fn share_budget(budget: u64, share: u64, replicas: u64) -> u64 {
    if budget == 0 || replicas == 0 {
        return 0;
    }
    (u128::from(budget) * u128::from(share) / u128::from(replicas)).clamp(1, u128::from(budget)) as u64
}

/// The objects of one share: workload, Service (when it is headless or has ports) and
/// PodDisruptionBudget (when the service has a budget).
pub(crate) fn share_objects(model: &Model, share: &Share, cluster_labels: &BTreeMap<String, String>) -> Vec<Value> {
    let s = &model.services[share.service];
    let cluster = &model.clusters[share.cluster];
    let name = s.meta.name.as_str();
    let labels = add_labels(cluster_labels, &[("app", name)]);
    let annotations = address_annotation(&s.meta.address.share(cluster.meta.name.as_str()).to_string());
    // Values go into their objects by move (or clone where reused): `json!` would copy each one
    // through serde's serializer, most of the Kubernetes objects' cost in a fleet plan.
    let metadata = object([
        ("name", json!(name)),
        ("namespace", json!(s.namespace)),
        ("labels", labels.clone()),
        ("annotations", Value::Object(annotations)),
    ]);
    let selector = json!({"matchLabels": {"app": name}});

    let mut pod_annotations = Map::new();
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if let Some(ci) = s.certificate {
        pod_annotations.insert(HASH_ANNOTATION.to_string(), json!(identity_hash(model, ci)));
        volumes.push(json!({"name": "tls", "secret": {"secretName": model.certificates[ci].secret_name}}));
        mounts.push(json!({"name": "tls", "mountPath": s.tls_mount, "readOnly": true}));
    }
    let mut init = Vec::new();
    if let Some(url) = &s.restore_from {
        volumes.push(json!({"name": "data", "emptyDir": {}}));
        mounts.push(json!({"name": "data", "mountPath": DATA_MOUNT}));
        init.push(json!({
            "name": "restore",
            "image": s.image,
            "command": ["sh", "-c", RESTORE_SCRIPT],
            "env": [{"name": "RESTORE_FROM", "value": url}, {"name": "RESTORE_TO", "value": DATA_MOUNT}],
            "resources": resources(s),
            "volumeMounts": [{"name": "data", "mountPath": DATA_MOUNT}],
        }));
    }
    let waits = dns_waits(model, share.service, share.cluster);
    if !waits.is_empty() {
        let mut command = vec![
            "sh".to_string(),
            "-c".to_string(),
            WAIT_SCRIPT.replace("__SECS__", &DNS_WAIT_SECS.to_string()),
            "wait-for-dns".to_string(),
        ];
        command.extend(waits);
        init.push(json!({
            "name": "wait-for-dns",
            "image": WAIT_IMAGE,
            "command": command,
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
        }));
    }

    let mut app = Map::new();
    app.insert("name".into(), json!("app"));
    app.insert("image".into(), json!(s.image));
    if !s.command.is_empty() {
        app.insert("command".into(), json!(s.command));
    }
    if !s.ports.is_empty() {
        app.insert("ports".into(), s.ports.iter().map(|(n, p)| json!({"name": n, "containerPort": p})).collect());
    }
    if !s.env.is_empty() {
        app.insert("env".into(), s.env.iter().map(|(n, v)| json!({"name": n, "value": v})).collect());
    }
    let res = resources(s);
    if res.as_object().is_some_and(|r| !r.is_empty()) {
        app.insert("resources".into(), res);
    }
    if !mounts.is_empty() {
        app.insert("volumeMounts".into(), Value::Array(mounts));
    }

    let mut pod_spec = Map::new();
    pod_spec.insert("enableServiceLinks".into(), json!(false));
    if !init.is_empty() {
        pod_spec.insert("initContainers".into(), Value::Array(init));
    }
    pod_spec.insert("containers".into(), Value::Array(vec![Value::Object(app)]));
    if !volumes.is_empty() {
        pod_spec.insert("volumes".into(), Value::Array(volumes));
    }
    let mut template_meta = Map::new();
    template_meta.insert("labels".into(), labels);
    if !pod_annotations.is_empty() {
        template_meta.insert("annotations".into(), Value::Object(pod_annotations));
    }
    let template = object([("metadata", Value::Object(template_meta)), ("spec", Value::Object(pod_spec))]);

    let workload = match s.workload {
        Workload::StatefulSet => object([
            ("apiVersion", json!("apps/v1")),
            ("kind", json!("StatefulSet")),
            ("metadata", metadata.clone()),
            (
                "spec",
                object([
                    ("replicas", json!(share.replicas)),
                    ("serviceName", json!(name)),
                    ("podManagementPolicy", json!(if s.parallel { "Parallel" } else { "OrderedReady" })),
                    ("selector", selector.clone()),
                    ("template", template),
                ]),
            ),
        ]),
        Workload::Deployment => object([
            ("apiVersion", json!("apps/v1")),
            ("kind", json!("Deployment")),
            ("metadata", metadata.clone()),
            (
                "spec",
                object([("replicas", json!(share.replicas)), ("selector", selector.clone()), ("template", template)]),
            ),
        ]),
    };
    let mut objects = vec![workload];

    if s.headless || !s.ports.is_empty() {
        let mut spec = Map::new();
        if s.headless {
            spec.insert("clusterIP".into(), json!("None"));
            spec.insert("publishNotReadyAddresses".into(), json!(true));
        }
        spec.insert("selector".into(), json!({"app": name}));
        if !s.ports.is_empty() {
            spec.insert(
                "ports".into(),
                s.ports.iter().map(|(n, p)| json!({"name": n, "port": p, "targetPort": p})).collect(),
            );
        }
        objects.push(object([
            ("apiVersion", json!("v1")),
            ("kind", json!("Service")),
            ("metadata", metadata.clone()),
            ("spec", Value::Object(spec)),
        ]));
    }
    if let Some(budget) = s.disruption_budget {
        objects.push(object([
            ("apiVersion", json!("policy/v1")),
            ("kind", json!("PodDisruptionBudget")),
            ("metadata", metadata),
            (
                "spec",
                object([
                    ("maxUnavailable", json!(share_budget(budget, share.replicas, s.replicas))),
                    ("selector", selector),
                ]),
            ),
        ]));
    }
    objects
}

/// A JSON object of these entries, in this order, the values moved in.
fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// CPU and memory requests, memory also as the limit.
fn resources(s: &berth_model::Service) -> Value {
    let mut requests = Map::new();
    if let Some(cpu) = &s.cpu {
        requests.insert("cpu".into(), json!(cpu));
    }
    if let Some(mem) = &s.memory {
        requests.insert("memory".into(), json!(mem));
    }
    let mut r = Map::new();
    if !requests.is_empty() {
        r.insert("requests".into(), Value::Object(requests));
    }
    if let Some(mem) = &s.memory {
        r.insert("limits".into(), json!({"memory": mem}));
    }
    Value::Object(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_shared_in_proportion() {
        assert_eq!(share_budget(30, 75, 300), 7);
        assert_eq!(share_budget(30, 300, 300), 30);
        assert_eq!(share_budget(1, 10, 300), 1);
        assert_eq!(share_budget(0, 10, 300), 0);
    }
}

//! The Kubernetes apply engine: the objects of the Helm target (`berth_helm::resources`) go
//! to their clusters by server-side apply with field manager `berth`, through kube's dynamic
//! API, so custom resources (cert-manager `Certificate`, External Secrets `ExternalSecret`)
//! work like built-in kinds.
//!
//! - A resource's kind is `<apiVersion>/<Kind>` (`apps/v1/StatefulSet`), its attributes
//!   `cluster` (the kubeconfig context) and `manifest`; its id is
//!   `<context>/<namespace>/<name>` (the namespace empty for cluster-scoped objects).
//! - Every applied object gets the labels `app.kubernetes.io/managed-by: berth` and
//!   `berth.dev/lineage: <lineage>` and the annotation `berth.dev/resource: <address>`, by
//!   which `find` reports it. `read` lists per cluster, kind and namespace with the managed-by
//!   selector, one LIST for all objects of that group, and reports each as berth applied it
//!   (fields module). Objects that left the spec are deleted through the plan's deletions,
//!   which the state's inventory gives.
//! - Secret data comes from [`KubeEngine::with_secrets`]: the manifests carry placeholders
//!   `{"$secret": DIGEST}` and only the engine sees the bytes (fields module).
//! - A field another manager owns makes the apply fail with the field and the manager named,
//!   unless [`KubeEngine::force_conflicts`] takes such fields over.
//! - Clients are made per cluster on first use; calls go out under a limit per cluster, with
//!   retries and jittered backoff on throttling, server errors and lost connections.

mod api;
mod fields;

use api::{Cluster, Clusters, engine_error, status_code};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use berth_plan::{Applied, BoxFuture, Engine, EngineError, Found, Request, hex_sha256};
use fields::{LINEAGE_LABEL, MANAGED_BY_LABEL, MANAGER, RESOURCE_ANNOTATION, SECRET_ANNOTATION, placeholder, project};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

/// Calls in flight per cluster unless [`KubeEngine::with_concurrency`] says otherwise.
const DEFAULT_CONCURRENCY: usize = 16;

/// Objects per page of a LIST.
const PAGE: u32 = 500;

/// Pages one LIST follows at most (a million objects of one kind in one namespace).
const MAX_PAGES: usize = 2000;

/// How long a delete waits for an object with finalizers to go.
const DELETE_WAIT: Duration = Duration::from_secs(300);

/// The kinds `find` looks through besides those given to [`KubeEngine::with_kinds`]: every
/// kind the Helm target renders.
const KINDS: [&str; 8] = [
    "v1/Namespace",
    "v1/Service",
    "v1/Secret",
    "apps/v1/StatefulSet",
    "apps/v1/Deployment",
    "policy/v1/PodDisruptionBudget",
    "external-secrets.io/v1beta1/ExternalSecret",
    "cert-manager.io/v1/Certificate",
];

/// What one LIST of `read` covers: context, kind and namespace.
type ListGroup<'a> = (&'a str, &'a str, &'a str);

/// The Kubernetes engine.
pub struct KubeEngine {
    clusters: Clusters,
    concurrency: usize,
    kubeconfig: Vec<PathBuf>,
    secrets: BTreeMap<String, Vec<u8>>,
    find_in: BTreeSet<String>,
    kinds: BTreeSet<String>,
    force_conflicts: bool,
}

impl Default for KubeEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl KubeEngine {
    /// An engine without clients yet (the kubeconfig is read on the first call), without
    /// secret data, that finds nothing until given clusters.
    pub fn new() -> Self {
        Self {
            clusters: Clusters::new(DEFAULT_CONCURRENCY, Vec::new()),
            concurrency: DEFAULT_CONCURRENCY,
            kubeconfig: Vec::new(),
            secrets: BTreeMap::new(),
            find_in: BTreeSet::new(),
            kinds: KINDS.iter().map(|k| (*k).to_owned()).collect(),
            force_conflicts: false,
        }
    }

    /// The bytes behind the manifests' secret placeholders, by digest
    /// (`berth_helm::secret_data` of the same run).
    pub fn with_secrets(mut self, secrets: BTreeMap<String, Vec<u8>>) -> Self {
        self.secrets = secrets;
        self
    }

    /// The kubeconfig contexts `find` looks in.
    pub fn with_clusters(mut self, contexts: impl IntoIterator<Item = String>) -> Self {
        self.find_in.extend(contexts);
        self
    }

    /// More kinds (`<apiVersion>/<Kind>`) for `find` to look through.
    pub fn with_kinds(mut self, kinds: impl IntoIterator<Item = String>) -> Self {
        self.kinds.extend(kinds);
        self
    }

    /// Take over fields that another field manager owns instead of failing (`--force-conflicts`).
    pub fn force_conflicts(mut self, force: bool) -> Self {
        self.force_conflicts = force;
        self
    }

    /// At most `n` calls in flight per cluster.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self.clusters = Clusters::new(n, self.kubeconfig.clone());
        self
    }

    /// Reads these kubeconfig files, joined in order, instead of `$KUBECONFIG` or
    /// `~/.kube/config`.
    pub fn with_kubeconfig(mut self, files: Vec<PathBuf>) -> Self {
        self.kubeconfig = files;
        self.clusters = Clusters::new(self.concurrency, self.kubeconfig.clone());
        self
    }

    /// Creates or changes an object by server-side apply.
    async fn apply(&self, request: Request<'_>) -> Result<Applied, EngineError> {
        let address = request.address;
        let context = request
            .attrs
            .get("cluster")
            .and_then(Value::as_str)
            .ok_or_else(|| EngineError::permanent(format!("{address}: the resource has no `cluster` attribute")))?;
        let Some(Value::Object(manifest)) = request.attrs.get("manifest") else {
            return Err(EngineError::permanent(format!("{address}: the resource has no `manifest` attribute")));
        };
        let kind = Kind::parse(request.kind)?;
        let name = manifest_str(manifest, "name")
            .ok_or_else(|| EngineError::permanent(format!("{address}: the manifest has no metadata.name")))?;
        let namespace = manifest_str(manifest, "namespace").unwrap_or_default();
        let body = self.body(&request, manifest, &kind)?;
        let cluster = self.clusters.get(context).await?;
        let api = kind.api(&cluster, namespace);
        let mut params = PatchParams::apply(MANAGER);
        if self.force_conflicts {
            params = params.force();
        }
        let patch = Patch::Apply(&body);
        let applied = self
            .clusters
            .call(&cluster, &format!("apply {}", request.kind), || api.patch(name, &params, &patch))
            .await
            .map_err(|e| apply_error(&cluster.context, address, &e))?;
        let live = serde_json::to_value(&applied)
            .map_err(|e| EngineError::permanent(format!("{address}: the API's answer does not serialize: {e}")))?;
        Ok(applied_of(context, &kind, &live))
    }

    /// The object to apply: the manifest with berth's labels and annotations, and the bytes of
    /// its secret placeholders.
    fn body(&self, request: &Request<'_>, manifest: &Map<String, Value>, kind: &Kind) -> Result<Value, EngineError> {
        let mut body = manifest.clone();
        let meta = body.entry("metadata").or_insert_with(|| json!({}));
        let labels = meta.as_object_mut().map(|m| m.entry("labels").or_insert_with(|| json!({})));
        if let Some(Value::Object(labels)) = labels {
            labels.insert(MANAGED_BY_LABEL.into(), json!(MANAGER));
            labels.insert(LINEAGE_LABEL.into(), json!(request.lineage));
        }
        let mut recorded = Map::new();
        if kind.is_secret()
            && let Some(Value::Object(data)) = body.get_mut("data")
        {
            for (key, value) in data.iter_mut() {
                let Some(digest) = placeholder(value) else { continue };
                let bytes = self.secrets.get(digest).ok_or_else(|| {
                    EngineError::permanent(format!(
                        "{}: no data for the secret placeholder of data.{key}: the secret data must come from the run \
                         that made the plan; plan again",
                        request.address
                    ))
                })?;
                recorded.insert(key.clone(), json!(format!("{digest} {}", hex_sha256(bytes))));
                *value = json!(STANDARD.encode(bytes));
            }
        }
        let meta = body.get_mut("metadata").and_then(Value::as_object_mut).expect("metadata was inserted above");
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Value::Object(annotations) = annotations {
            annotations.insert(RESOURCE_ANNOTATION.into(), json!(request.address));
            if !recorded.is_empty() {
                annotations.insert(SECRET_ANNOTATION.into(), json!(Value::Object(recorded).to_string()));
            }
        }
        Ok(Value::Object(body))
    }

    /// Reads objects: one LIST per cluster, kind and namespace.
    async fn read_all(&self, objects: &[(&str, &str)]) -> Result<Vec<Option<Applied>>, EngineError> {
        let mut groups: BTreeMap<ListGroup<'_>, Vec<(usize, &str)>> = BTreeMap::new();
        for (i, (kind, id)) in objects.iter().enumerate() {
            let id = Id::parse(id)?;
            groups.entry((id.context, kind, id.namespace)).or_default().push((i, id.name));
        }
        let lists = groups.iter().map(|(&(context, kind, namespace), _)| async move {
            let found = self.list(context, kind, namespace, &format!("{MANAGED_BY_LABEL}={MANAGER}")).await?;
            Ok::<_, EngineError>(found.map(|items| {
                let kind = Kind::parse(kind).expect("parsed by list");
                items
                    .into_iter()
                    .filter_map(|o| Some((o["metadata"]["name"].as_str()?.to_owned(), applied_of(context, &kind, &o))))
                    .collect::<BTreeMap<String, Applied>>()
            }))
        });
        let mut out = vec![None; objects.len()];
        for (result, members) in futures::future::join_all(lists).await.into_iter().zip(groups.values()) {
            let Some(mut by_name) = result? else { continue };
            for &(i, name) in members {
                out[i] = by_name.remove(name);
            }
        }
        Ok(out)
    }

    /// Every object of a kind in a namespace (all namespaces if empty) of a cluster that
    /// matches a label selector; `None` if the cluster does not serve the kind.
    async fn list(
        &self,
        context: &str,
        kind: &str,
        namespace: &str,
        selector: &str,
    ) -> Result<Option<Vec<Value>>, EngineError> {
        let k = Kind::parse(kind)?;
        let cluster = self.clusters.get(context).await?;
        let api = k.api(&cluster, namespace);
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params = ListParams::default().labels(selector).limit(PAGE);
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let page = match self.clusters.call(&cluster, &format!("list {kind}"), || api.list(&params)).await {
                Ok(page) => page,
                Err(e) if status_code(&e) == Some(404) => return Ok(None),
                Err(e) => return Err(engine_error(context, &format!("listing {kind}"), &e)),
            };
            for item in page.items {
                items.push(serde_json::to_value(&item).map_err(|e| {
                    EngineError::permanent(format!("cluster {context}: a listed {kind} does not serialize: {e}"))
                })?);
            }
            token = page.metadata.continue_.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(Some(items));
            }
        }
        Err(EngineError::permanent(format!("cluster {context}: listing {kind} did not end after {MAX_PAGES} pages")))
    }

    /// Deletes an object in the background (its dependents go after it) and waits, bounded,
    /// while finalizers keep it.
    async fn delete_one(&self, kind: &str, id: &str) -> Result<(), EngineError> {
        let k = Kind::parse(kind)?;
        let id = Id::parse(id)?;
        let cluster = self.clusters.get(id.context).await?;
        let api = k.api(&cluster, id.namespace);
        let what = format!("deleting {kind} {}", id.display());
        let params = DeleteParams::background();
        match self.clusters.call(&cluster, &format!("delete {kind}"), || api.delete(id.name, &params)).await {
            Ok(either) if either.is_right() => return Ok(()),
            Ok(_) => {}
            Err(e) if status_code(&e) == Some(404) => return Ok(()),
            Err(e) => return Err(engine_error(id.context, &what, &e)),
        }
        let deadline = tokio::time::Instant::now() + DELETE_WAIT;
        let mut delay = Duration::from_millis(250);
        loop {
            match self.clusters.call(&cluster, &format!("get {kind}"), || api.get_opt(id.name)).await {
                Ok(None) => return Ok(()),
                Ok(Some(_)) if tokio::time::Instant::now() < deadline => {}
                Ok(Some(_)) => {
                    return Err(EngineError::transient(format!(
                        "cluster {}: {what}: still there after {}s (finalizers?)",
                        id.context,
                        DELETE_WAIT.as_secs()
                    )));
                }
                Err(e) => return Err(engine_error(id.context, &what, &e)),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Every object of the lineage (of any lineage with `None`) in the clusters and kinds
    /// `find` looks through.
    async fn find_all(&self, lineage: Option<&str>) -> Result<Vec<Found>, EngineError> {
        let selector = match lineage {
            Some(lineage) => format!("{MANAGED_BY_LABEL}={MANAGER},{LINEAGE_LABEL}={lineage}"),
            None => format!("{MANAGED_BY_LABEL}={MANAGER},{LINEAGE_LABEL}"),
        };
        let pairs: Vec<(&str, &str)> =
            self.find_in.iter().flat_map(|c| self.kinds.iter().map(move |k| (c.as_str(), k.as_str()))).collect();
        let lists = pairs.iter().map(|&(context, kind)| {
            let selector = &selector;
            async move { self.list(context, kind, "", selector).await.map(|items| (context, kind, items)) }
        });
        let mut found = Vec::new();
        for result in futures::future::join_all(lists).await {
            let (context, kind, items) = result?;
            for o in items.into_iter().flatten() {
                let meta = &o["metadata"];
                let (Some(address), Some(name), Some(of)) = (
                    meta["annotations"][RESOURCE_ANNOTATION].as_str(),
                    meta["name"].as_str(),
                    meta["labels"][LINEAGE_LABEL].as_str(),
                ) else {
                    continue;
                };
                let namespace = meta["namespace"].as_str().unwrap_or_default();
                found.push(Found {
                    address: address.to_owned(),
                    kind: kind.to_owned(),
                    id: format!("{context}/{namespace}/{name}"),
                    lineage: of.to_owned(),
                });
            }
        }
        found.sort();
        Ok(found)
    }
}

impl Engine for KubeEngine {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn create<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Applied, EngineError>> {
        Box::pin(self.apply(request))
    }

    fn update<'a>(&'a self, request: Request<'a>, _id: &'a str) -> BoxFuture<'a, Result<Applied, EngineError>> {
        Box::pin(self.apply(request))
    }

    fn delete<'a>(&'a self, kind: &'a str, id: &'a str) -> BoxFuture<'a, Result<(), EngineError>> {
        Box::pin(self.delete_one(kind, id))
    }

    fn read<'a>(
        &'a self,
        objects: &'a [(&'a str, &'a str)],
    ) -> BoxFuture<'a, Result<Vec<Option<Applied>>, EngineError>> {
        Box::pin(self.read_all(objects))
    }

    fn find<'a>(&'a self, lineage: Option<&'a str>) -> BoxFuture<'a, Result<Vec<Found>, EngineError>> {
        Box::pin(self.find_all(lineage))
    }

    fn calls(&self) -> BTreeMap<String, u64> {
        self.clusters.calls()
    }
}

/// A kind, `<apiVersion>/<Kind>`, as the API addresses it.
struct Kind {
    api_version: String,
    kind: String,
    resource: ApiResource,
}

impl Kind {
    fn parse(kind: &str) -> Result<Self, EngineError> {
        let bad = || EngineError::permanent(format!("{kind:?} is not a Kubernetes kind (<apiVersion>/<Kind>)"));
        let (api_version, name) = kind.rsplit_once('/').ok_or_else(bad)?;
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        if name.is_empty() || version.is_empty() {
            return Err(bad());
        }
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, name));
        Ok(Self { api_version: api_version.to_owned(), kind: name.to_owned(), resource })
    }

    fn is_secret(&self) -> bool {
        self.api_version == "v1" && self.kind == "Secret"
    }

    /// The API of this kind in a namespace, or cluster-wide if `namespace` is empty.
    fn api(&self, cluster: &Cluster, namespace: &str) -> Api<DynamicObject> {
        if namespace.is_empty() {
            Api::all_with(cluster.client.clone(), &self.resource)
        } else {
            Api::namespaced_with(cluster.client.clone(), namespace, &self.resource)
        }
    }
}

/// An object's id: `<context>/<namespace>/<name>`; contexts may hold `/`, names cannot.
struct Id<'a> {
    context: &'a str,
    namespace: &'a str,
    name: &'a str,
}

impl<'a> Id<'a> {
    fn parse(id: &'a str) -> Result<Self, EngineError> {
        let mut parts = id.rsplitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(namespace), Some(context)) if !name.is_empty() && !context.is_empty() => {
                Ok(Self { context, namespace, name })
            }
            _ => Err(EngineError::permanent(format!(
                "{id:?} is not a Kubernetes object id (<context>/<namespace>/<name>)"
            ))),
        }
    }

    fn display(&self) -> String {
        if self.namespace.is_empty() { self.name.to_owned() } else { format!("{}/{}", self.namespace, self.name) }
    }
}

fn manifest_str<'m>(manifest: &'m Map<String, Value>, key: &str) -> Option<&'m str> {
    manifest.get("metadata")?.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// What the engine reports for a live object: its id, `cluster`, `manifest` as berth applied
/// it, and `uid`.
fn applied_of(context: &str, kind: &Kind, live: &Value) -> Applied {
    let meta = &live["metadata"];
    let namespace = meta["namespace"].as_str().unwrap_or_default();
    let name = meta["name"].as_str().unwrap_or_default();
    let mut attrs = Map::with_capacity(3);
    attrs.insert("cluster".into(), json!(context));
    attrs.insert("manifest".into(), project(live, &kind.api_version, &kind.kind));
    if let Some(uid) = meta["uid"].as_str() {
        attrs.insert("uid".into(), json!(uid));
    }
    Applied { id: format!("{context}/{namespace}/{name}"), attrs }
}

/// The error of a failed apply; a conflict names each field and the manager that owns it.
fn apply_error(context: &str, address: &str, e: &kube::Error) -> EngineError {
    if let kube::Error::Api(status) = e
        && status.code == 409
    {
        let conflicts: Vec<String> = status
            .details
            .iter()
            .flat_map(|d| &d.causes)
            .filter(|c| c.reason == "FieldManagerConflict")
            .map(|c| format!("{} is owned by another field manager ({})", c.field, c.message))
            .collect();
        if !conflicts.is_empty() {
            return EngineError::permanent(format!(
                "cluster {context}: {address}: server-side apply conflicts: {}; `--force-conflicts` takes these fields \
                 over for berth",
                conflicts.join("; ")
            ));
        }
    }
    engine_error(context, &format!("applying {address}"), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_ids_parse() {
        let k = Kind::parse("apps/v1/StatefulSet").unwrap();
        assert_eq!((k.api_version.as_str(), k.resource.plural.as_str()), ("apps/v1", "statefulsets"));
        let k = Kind::parse("v1/Secret").unwrap();
        assert!(k.is_secret() && k.resource.group.is_empty());
        assert_eq!(Kind::parse("cert-manager.io/v1/Certificate").unwrap().resource.plural, "certificates");
        assert!(Kind::parse("Secret").is_err());
        let id = Id::parse("arn:aws:eks:eu-west-1:1:cluster/a/data/db").unwrap();
        assert_eq!((id.context, id.namespace, id.name), ("arn:aws:eks:eu-west-1:1:cluster/a", "data", "db"));
        let id = Id::parse("a//data").unwrap();
        assert_eq!((id.context, id.namespace, id.name), ("a", "", "data"));
        assert!(Id::parse("a/b").is_err());
    }
}

//! The Docker apply engine: creates, reads, finds and deletes the networks, volumes and
//! containers that `berth_docker::resources` describes, through the Docker Engine API (bollard).
//!
//! - **Endpoints.** Every object names its daemon in its `endpoint` attribute; the engine keeps
//!   one client per endpoint, connected on first use. The endpoint
//!   [`berth_docker::DEFAULT_ENDPOINT`] (a host whose spec names none) goes where `DOCKER_HOST`
//!   points when it is set; an endpoint the spec names is always used as written.
//! - **Ids** are `ENDPOINT#NAME`: Docker names are unique per daemon and are the idempotency
//!   keys. Creating an object whose name exists adopts it when its labels carry the same
//!   address and lineage, and fails otherwise.
//! - **Labels.** Every object carries `berth.address` (its resource address), `berth.lineage`
//!   and `berth.attrs`, the attributes it was created with (endpoint aside): Docker objects
//!   cannot change, so what they were created with is what they are, and [`Engine::read`]
//!   reports it from one listing per endpoint and kind.
//! - **Images** missing on the daemon are pulled from the registry their reference names, once
//!   per endpoint and image.
//! - **Containers** are created, joined to their other networks and started; `create` returns
//!   when the daemon has started the process (health checks are not waited for). A container
//!   of this address and lineage that exists already is adopted if it was started, and made
//!   again if it never was (an attempt or a run died before it was done: it may lack networks,
//!   and a crashed daemon may have lost its task); such a container reads as absent, so that
//!   the plan creates it. `delete` removes with force, which stops a running container first.
//! - **Retries.** Lost connections, timeouts and 5xx answers are retried with jittered,
//!   doubling pauses, at most eight attempts per call; a restarted daemon is reconnected.

mod client;
mod config;

use berth_docker::DEFAULT_ENDPOINT;
use berth_plan::{Applied, BoxFuture, Engine, EngineError, Found, Request};
use bollard::models::{ContainerSummaryStateEnum, NetworkConnectRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
    ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder,
};
use client::{Clients, status};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The label holding an object's resource address.
pub const ADDRESS_LABEL: &str = "berth.address";
/// The label holding the lineage of the state that created an object.
pub const LINEAGE_LABEL: &str = "berth.lineage";
/// The label holding the attributes an object was created with, as JSON.
pub const ATTRS_LABEL: &str = "berth.attrs";

/// The kinds this engine applies.
const KINDS: [&str; 3] = ["docker_network", "docker_volume", "docker_container"];

/// Image pulls by endpoint and image reference, each done at most once.
type Pulls = HashMap<(String, String), Arc<OnceCell<()>>>;

/// The Docker engine.
pub struct DockerEngine {
    clients: Clients,
    /// Endpoints [`Engine::find`] searches beyond those used so far.
    endpoints: Mutex<BTreeSet<String>>,
    /// One pull at a time per endpoint and image.
    pulls: Mutex<Pulls>,
}

impl DockerEngine {
    /// An engine whose default endpoint is `DOCKER_HOST` when set, else the local socket.
    pub fn from_env() -> Self {
        Self::with_default_endpoint(std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
    }

    /// An engine whose default endpoint goes to `default` (the local socket when `None`).
    pub fn with_default_endpoint(default: Option<String>) -> Self {
        Self {
            clients: Clients::new(default.unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned())),
            endpoints: Mutex::new(BTreeSet::new()),
            pulls: Mutex::new(HashMap::new()),
        }
    }

    /// Adds endpoints for [`Engine::find`] to search: those of the desired objects, so that
    /// objects of a lost state are found before the engine has used an endpoint.
    pub fn with_endpoints<S: Into<String>>(self, endpoints: impl IntoIterator<Item = S>) -> Self {
        self.endpoints.lock().expect("endpoints").extend(endpoints.into_iter().map(Into::into));
        self
    }

    fn remember(&self, endpoint: &str) {
        let mut known = self.endpoints.lock().expect("endpoints");
        if !known.contains(endpoint) {
            known.insert(endpoint.to_owned());
        }
    }

    async fn create_object(&self, req: Request<'_>) -> Result<Applied, EngineError> {
        let endpoint = config::text(req.attrs, "endpoint").map_err(EngineError::permanent)?;
        let name = config::text(req.attrs, "name").map_err(EngineError::permanent)?;
        self.remember(endpoint);
        let mut recorded = req.attrs.clone();
        recorded.remove("endpoint");
        let labels = HashMap::from([
            (ADDRESS_LABEL.to_owned(), req.address.to_owned()),
            (LINEAGE_LABEL.to_owned(), req.lineage.to_owned()),
            (ATTRS_LABEL.to_owned(), Value::Object(recorded).to_string()),
        ]);
        let ours = |found: &HashMap<String, String>| {
            found.get(ADDRESS_LABEL).map(String::as_str) == Some(req.address)
                && found.get(LINEAGE_LABEL).map(String::as_str) == Some(req.lineage)
        };
        let not_ours = |found: &HashMap<String, String>| {
            EngineError::permanent(format!(
                "a {} named {name:?} already exists on {endpoint} and is not {} of this state (its {ADDRESS_LABEL} is {:?}); remove or rename it",
                req.kind,
                req.address,
                found.get(ADDRESS_LABEL).map_or("absent", String::as_str)
            ))
        };
        let docker_id = match req.kind {
            "docker_network" => {
                // Older daemons accept a second network of the same name: look first.
                let existing = self.list_networks(endpoint, Some(("name", name))).await?;
                match existing.into_iter().find(|n| n.name.as_deref() == Some(name)) {
                    Some(n) if ours(&n.labels.clone().unwrap_or_default()) => n.id.unwrap_or_default(),
                    Some(n) => return Err(not_ours(&n.labels.unwrap_or_default())),
                    None => {
                        let body = config::network(req.attrs, labels).map_err(EngineError::permanent)?;
                        self.clients
                            .call(endpoint, "NetworkCreate", |d| {
                                let body = body.clone();
                                async move { d.create_network(body).await }
                            })
                            .await
                            .map_err(|e| self.clients.error(&format!("creating network {name}"), endpoint, &e))?
                            .id
                    }
                }
            }
            "docker_volume" => {
                let body = config::volume(req.attrs, labels).map_err(EngineError::permanent)?;
                // Creating a volume that exists returns it unchanged.
                let volume = self
                    .clients
                    .call(endpoint, "VolumeCreate", |d| {
                        let body = body.clone();
                        async move { d.create_volume(body).await }
                    })
                    .await
                    .map_err(|e| self.clients.error(&format!("creating volume {name}"), endpoint, &e))?;
                if !ours(&volume.labels) {
                    return Err(not_ours(&volume.labels));
                }
                volume.name
            }
            "docker_container" => self.create_container(req, endpoint, name, labels, ours, not_ours).await?,
            other => return Err(EngineError::permanent(format!("the docker engine does not apply {other}"))),
        };
        let mut attrs = req.attrs.clone();
        attrs.insert("docker_id".into(), docker_id.into());
        if req.kind == "docker_container" {
            attrs.insert("state".into(), "running".into());
        }
        Ok(Applied { id: format!("{endpoint}#{name}"), attrs })
    }

    async fn create_container(
        &self,
        req: Request<'_>,
        endpoint: &str,
        name: &str,
        labels: HashMap<String, String>,
        ours: impl Fn(&HashMap<String, String>) -> bool,
        not_ours: impl Fn(&HashMap<String, String>) -> EngineError,
    ) -> Result<String, EngineError> {
        let body = config::container(req.attrs, labels).map_err(EngineError::permanent)?;
        let image = body.image.clone().unwrap_or_default();
        self.ensure_image(endpoint, &image).await?;
        let options = CreateContainerOptionsBuilder::default().name(name).build();
        let networks = config::networks(req.attrs).map_err(EngineError::permanent)?;
        let mut removed = false;
        let id = loop {
            let created = self
                .clients
                .call(endpoint, "ContainerCreate", |d| {
                    let (options, body) = (options.clone(), body.clone());
                    async move { d.create_container(Some(options), body).await }
                })
                .await;
            let e = match created {
                Ok(c) => {
                    // The first network is joined at creation; the others before the start.
                    self.connect(endpoint, name, networks.get(1..).unwrap_or_default()).await?;
                    break c.id;
                }
                Err(e) if status(&e) == Some(409) => e,
                Err(e) => return Err(self.clients.error(&format!("creating container {name}"), endpoint, &e)),
            };
            let existing = self.list_containers(endpoint, Some(("name", &format!("^/{name}$")))).await?;
            match existing.into_iter().next() {
                Some(c) if ours(&c.labels.clone().unwrap_or_default()) => {
                    if c.state != Some(ContainerSummaryStateEnum::CREATED) || removed {
                        break c.id.unwrap_or_default();
                    }
                    // Never started: made by an attempt or a run that died before it was done,
                    // maybe short of networks, maybe with a task its daemon lost in a crash.
                    // Made again from the start.
                    self.delete_object("docker_container", &format!("{endpoint}#{name}")).await?;
                    removed = true;
                }
                Some(c) => return Err(not_ours(&c.labels.unwrap_or_default())),
                None => return Err(self.clients.error(&format!("creating container {name}"), endpoint, &e)),
            }
        };
        // Starting a running container is answered 304, which is no error.
        self.clients
            .call(endpoint, "ContainerStart", |d| async move { d.start_container(name, None).await })
            .await
            .map_err(|e| self.clients.error(&format!("starting container {name}"), endpoint, &e))?;
        Ok(id)
    }

    /// Connects container `name` to `networks`.
    async fn connect(&self, endpoint: &str, name: &str, networks: &[String]) -> Result<(), EngineError> {
        for network in networks {
            let connect = NetworkConnectRequest { container: name.to_owned(), ..Default::default() };
            self.clients
                .call(endpoint, "NetworkConnect", |d| {
                    let connect = connect.clone();
                    async move { d.connect_network(network, connect).await }
                })
                .await
                .map_err(|e| self.clients.error(&format!("connecting container {name} to {network}"), endpoint, &e))?;
        }
        Ok(())
    }

    /// Pulls `image` onto the daemon unless it is there, once per endpoint and image.
    async fn ensure_image(&self, endpoint: &str, image: &str) -> Result<(), EngineError> {
        let cell = {
            let mut pulls = self.pulls.lock().expect("pulls");
            pulls.entry((endpoint.to_owned(), image.to_owned())).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            let inspected =
                self.clients.call(endpoint, "ImageInspect", |d| async move { d.inspect_image(image).await }).await;
            match inspected {
                Ok(_) => return Ok(()),
                Err(e) if status(&e) == Some(404) => {}
                Err(e) => return Err(self.clients.error(&format!("looking for image {image}"), endpoint, &e)),
            }
            let (from, tag) = split_tag(image);
            let options = CreateImageOptionsBuilder::default().from_image(from).tag(tag).build();
            self.clients
                .call(endpoint, "ImageCreate", |d| {
                    let options = options.clone();
                    async move {
                        let mut progress = d.create_image(Some(options), None, None);
                        while let Some(step) = progress.next().await {
                            step?;
                        }
                        Ok(())
                    }
                })
                .await
                .map_err(|e| self.clients.error(&format!("pulling image {image}"), endpoint, &e))
        })
        .await
        .copied()
    }

    async fn list_containers(
        &self,
        endpoint: &str,
        filter: Option<(&str, &str)>,
    ) -> Result<Vec<bollard::models::ContainerSummary>, EngineError> {
        let filters = filters(filter);
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        self.clients
            .call(endpoint, "ContainerList", |d| {
                let options = options.clone();
                async move { d.list_containers(Some(options)).await }
            })
            .await
            .map_err(|e| self.clients.error("listing containers", endpoint, &e))
    }

    async fn list_networks(
        &self,
        endpoint: &str,
        filter: Option<(&str, &str)>,
    ) -> Result<Vec<bollard::models::Network>, EngineError> {
        let options = ListNetworksOptionsBuilder::default().filters(&filters(filter)).build();
        self.clients
            .call(endpoint, "NetworkList", |d| {
                let options = options.clone();
                async move { d.list_networks(Some(options)).await }
            })
            .await
            .map_err(|e| self.clients.error("listing networks", endpoint, &e))
    }

    async fn list_volumes(
        &self,
        endpoint: &str,
        filter: Option<(&str, &str)>,
    ) -> Result<Vec<bollard::models::Volume>, EngineError> {
        let options = ListVolumesOptionsBuilder::default().filters(&filters(filter)).build();
        self.clients
            .call(endpoint, "VolumeList", |d| {
                let options = options.clone();
                async move { d.list_volumes(Some(options)).await }
            })
            .await
            .map(|r| r.volumes.unwrap_or_default())
            .map_err(|e| self.clients.error("listing volumes", endpoint, &e))
    }

    /// Every object of `kind` on `endpoint` whose labels match `filter` (`label=...`), as
    /// (name, labels, Docker id, outputs).
    async fn list(&self, endpoint: &str, kind: &str, filter: (&str, &str)) -> Result<Vec<Listed>, EngineError> {
        Ok(match kind {
            "docker_network" => self
                .list_networks(endpoint, Some(filter))
                .await?
                .into_iter()
                .map(|n| Listed::new(n.name, n.labels, n.id, None))
                .collect(),
            "docker_volume" => self
                .list_volumes(endpoint, Some(filter))
                .await?
                .into_iter()
                .map(|v| Listed::new(Some(v.name), Some(v.labels), None, None))
                .collect(),
            _ => self
                .list_containers(endpoint, Some(filter))
                .await?
                .into_iter()
                .map(|c| {
                    let name = c.names.and_then(|n| n.into_iter().next()).map(|n| n.trim_start_matches('/').to_owned());
                    Listed::new(name, c.labels, c.id, c.state.map(|s| s.to_string()))
                })
                .collect(),
        })
    }

    async fn read_objects(&self, objects: &[(&str, &str)]) -> Result<Vec<Option<Applied>>, EngineError> {
        let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        for (i, (kind, id)) in objects.iter().enumerate() {
            let (endpoint, _) = split_id(id)?;
            if !KINDS.contains(kind) {
                return Err(EngineError::permanent(format!("the docker engine does not apply {kind}")));
            }
            groups.entry((endpoint, kind)).or_default().push(i);
        }
        let mut out = vec![None; objects.len()];
        for ((endpoint, kind), wanted) in groups {
            self.remember(endpoint);
            let listed = self.list(endpoint, kind, ("label", ADDRESS_LABEL)).await?;
            let by_name: HashMap<&str, &Listed> = listed.iter().map(|l| (l.name.as_str(), l)).collect();
            for i in wanted {
                let (_, name) = split_id(objects[i].1)?;
                out[i] = by_name.get(name).and_then(|l| l.applied(endpoint, objects[i].1));
            }
        }
        Ok(out)
    }

    async fn find_objects(&self, lineage: Option<&str>) -> Result<Vec<Found>, EngineError> {
        let endpoints: Vec<String> = self.endpoints.lock().expect("endpoints").iter().cloned().collect();
        let filter = lineage.map_or_else(|| LINEAGE_LABEL.to_owned(), |l| format!("{LINEAGE_LABEL}={l}"));
        let mut found = Vec::new();
        for endpoint in &endpoints {
            for kind in KINDS {
                for l in self.list(endpoint, kind, ("label", &filter)).await? {
                    if let (Some(address), Some(of)) = (l.labels.get(ADDRESS_LABEL), l.labels.get(LINEAGE_LABEL)) {
                        found.push(Found {
                            address: address.clone(),
                            kind: kind.to_owned(),
                            id: format!("{endpoint}#{}", l.name),
                            lineage: of.clone(),
                        });
                    }
                }
            }
        }
        found.sort();
        Ok(found)
    }

    async fn delete_object(&self, kind: &str, id: &str) -> Result<(), EngineError> {
        let (endpoint, name) = split_id(id)?;
        self.remember(endpoint);
        let result = match kind {
            "docker_network" => {
                self.clients.call(endpoint, "NetworkDelete", |d| async move { d.remove_network(name).await }).await
            }
            "docker_volume" => {
                let options = RemoveVolumeOptionsBuilder::default().build();
                self.clients
                    .call(endpoint, "VolumeDelete", |d| {
                        let options = options.clone();
                        async move { d.remove_volume(name, Some(options)).await }
                    })
                    .await
            }
            "docker_container" => {
                // Forced: stopped and removed in one call.
                let options = RemoveContainerOptionsBuilder::default().force(true).build();
                self.clients
                    .call(endpoint, "ContainerDelete", |d| {
                        let options = options.clone();
                        async move { d.remove_container(name, Some(options)).await }
                    })
                    .await
            }
            other => return Err(EngineError::permanent(format!("the docker engine does not apply {other}"))),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) => Err(self.clients.error(&format!("deleting {kind} {name}"), endpoint, &e)),
        }
    }
}

/// An object as a listing shows it.
struct Listed {
    name: String,
    labels: HashMap<String, String>,
    docker_id: Option<String>,
    state: Option<String>,
}

impl Listed {
    fn new(
        name: Option<String>,
        labels: Option<HashMap<String, String>>,
        docker_id: Option<String>,
        state: Option<String>,
    ) -> Self {
        Self { name: name.unwrap_or_default(), labels: labels.unwrap_or_default(), docker_id, state }
    }

    /// The object as created (its `berth.attrs` and endpoint) plus its Docker id and state;
    /// `None` if it lacks berth's attributes label, or if it is a container that was created
    /// but never started: a run died or failed before it was done, and creating it makes it
    /// again.
    fn applied(&self, endpoint: &str, id: &str) -> Option<Applied> {
        if self.state.as_deref() == Some("created") {
            return None;
        }
        let Ok(Value::Object(recorded)) = serde_json::from_str::<Value>(self.labels.get(ATTRS_LABEL)?) else {
            return None;
        };
        let mut attrs = Map::with_capacity(recorded.len() + 3);
        attrs.insert("endpoint".into(), endpoint.into());
        attrs.extend(recorded);
        if let Some(docker_id) = &self.docker_id {
            attrs.insert("docker_id".into(), docker_id.as_str().into());
        }
        if let Some(state) = &self.state {
            attrs.insert("state".into(), state.as_str().into());
        }
        Some(Applied { id: id.to_owned(), attrs })
    }
}

/// The endpoint and name of an id `ENDPOINT#NAME`.
fn split_id(id: &str) -> Result<(&str, &str), EngineError> {
    id.rsplit_once('#')
        .filter(|(e, n)| !e.is_empty() && !n.is_empty())
        .ok_or_else(|| EngineError::permanent(format!("{id:?} is not a docker engine id (ENDPOINT#NAME)")))
}

/// The repository and tag of an image reference (`latest` when it has none; a digest stays in
/// the repository part).
fn split_tag(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// A listing filter: `{"label": ["berth.lineage=..."]}`.
fn filters(filter: Option<(&str, &str)>) -> HashMap<String, Vec<String>> {
    filter.map(|(k, v)| (k.to_owned(), vec![v.to_owned()])).into_iter().collect()
}

impl Engine for DockerEngine {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn create<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Applied, EngineError>> {
        Box::pin(self.create_object(request))
    }

    /// Docker objects cannot change: every attribute of every kind replaces the object, so an
    /// update is never planned and is refused.
    fn update<'a>(&'a self, request: Request<'a>, _id: &'a str) -> BoxFuture<'a, Result<Applied, EngineError>> {
        Box::pin(async move {
            Err(EngineError::permanent(format!(
                "{} cannot be changed in place: Docker objects are replaced",
                request.address
            )))
        })
    }

    fn delete<'a>(&'a self, kind: &'a str, id: &'a str) -> BoxFuture<'a, Result<(), EngineError>> {
        Box::pin(self.delete_object(kind, id))
    }

    fn read<'a>(
        &'a self,
        objects: &'a [(&'a str, &'a str)],
    ) -> BoxFuture<'a, Result<Vec<Option<Applied>>, EngineError>> {
        Box::pin(self.read_objects(objects))
    }

    fn find<'a>(&'a self, lineage: Option<&'a str>) -> BoxFuture<'a, Result<Vec<Found>, EngineError>> {
        Box::pin(self.find_objects(lineage))
    }

    fn calls(&self) -> BTreeMap<String, u64> {
        self.clients.calls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_image_references_split() {
        assert_eq!(split_id("unix:///run/d.sock#web").unwrap(), ("unix:///run/d.sock", "web"));
        assert!(split_id("web").is_err() && split_id("unix:///x#").is_err());
        assert_eq!(split_tag("127.0.0.1:5000/berth/busybox:1"), ("127.0.0.1:5000/berth/busybox", "1"));
        assert_eq!(split_tag("127.0.0.1:5000/berth/busybox"), ("127.0.0.1:5000/berth/busybox", "latest"));
        assert_eq!(split_tag("nginx"), ("nginx", "latest"));
        assert_eq!(split_tag("r/x@sha256:ab"), ("r/x@sha256:ab", ""));
    }
}

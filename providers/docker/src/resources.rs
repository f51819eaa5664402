//! The Docker objects of the hosts as `berth apply` creates them through the Docker Engine API:
//! the networks and containers that `compose.yaml` describes, with the same names, settings,
//! fixed addresses and bind mounts.
//!
//! Addresses are `<berth address>:<kind>[.<name>]` with the berth address as
//! [`tag_address`] spells it: `host.h1:docker_network.front`, `container.web:docker_container`.
//! Every object has an `endpoint` attribute: the host's `endpoint`, else [`DEFAULT_ENDPOINT`],
//! which the engine may point elsewhere (`DOCKER_HOST`); so the spec's endpoint always wins and
//! the recorded attribute does not depend on the environment of a run.
//!
//! Compose files name no Docker volumes (a container's storage is bind mounts of directories
//! on the host's EBS volumes), so no `docker_volume` objects come from a spec yet.

use crate::{PROJECT, compose, networks};
use berth_diag::Diagnostics;
use berth_model::{Model, tag_address};
use berth_plan::{Resource, reference};
use serde_json::{Map, Value, json};

/// The engine of every resource here.
const ENGINE: &str = "docker";

/// The endpoint of a host whose spec names none: the local socket, or where the engine's
/// `DOCKER_HOST` points.
pub const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";

/// The Docker objects of every host with containers: per host its networks (named
/// `berth_NAME`, as Compose names them in project [`PROJECT`]) and per container one container
/// named after it, joined to its networks by reference. Every object waits for its host's
/// instance when the same run creates it. Docker objects cannot change, so any changed
/// attribute replaces one.
pub(crate) fn resources(model: &Model) -> Vec<Resource> {
    let on_host = model.containers_by_host();
    let environment = |meta: &berth_model::Meta| meta.environment.map(|e| model.environments[e].meta.name.to_string());
    let mut out = Vec::with_capacity(model.containers.len() + model.hosts.len());
    // Problems are the emitter's to report; here they only leave a setting out, as in compose.yaml.
    let mut ignored = Diagnostics::new();
    for (h, host) in model.hosts.iter().enumerate() {
        let on_host = &on_host[h];
        if on_host.is_empty() {
            continue;
        }
        let base = tag_address(&host.meta.address);
        let endpoint = Value::String(host.endpoint.clone().unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned()));
        let plan = networks::plan(model, h, on_host, &mut ignored);
        for name in &plan.names {
            let mut attrs = Map::new();
            attrs.insert("endpoint".into(), endpoint.clone());
            attrs.insert("name".into(), format!("{PROJECT}_{name}").into());
            if let Some(subnet) = plan.subnets.get(name) {
                attrs.insert("subnet".into(), subnet.as_str().into());
            }
            out.push(
                immutable(format!("{base}:docker_network.{name}"), "docker_network", attrs)
                    .depends_on(&format!("{base}:aws_instance"))
                    .in_environment(environment(&host.meta)),
            );
        }

        let mut logging = json!({ "driver": host.docker.log_driver });
        if let Some(opts) = crate::daemon::log_opts(&host.docker) {
            logging["options"] = opts;
        }
        let mut data = model.data_volumes_among(h, on_host).into_iter().peekable();
        // A later container of the same name replaces an earlier one, as in compose.yaml.
        let mut containers: Vec<(&str, Resource)> = Vec::with_capacity(on_host.len());
        for &i in on_host {
            let c = &model.containers[i];
            let data = match data.peek() {
                Some(&(d, v)) if d == i => {
                    data.next();
                    Some(&host.volumes[v])
                }
                _ => None,
            };
            let mut attrs = Map::new();
            attrs.insert("endpoint".into(), endpoint.clone());
            attrs.insert("name".into(), c.meta.name.as_str().into());
            attrs.insert("image".into(), c.image.as_str().into());
            if !c.command.is_empty() {
                attrs.insert("command".into(), json!(c.command));
            }
            attrs.insert("cpus".into(), json!(c.cpus));
            attrs.insert("memory".into(), c.memory_bytes.into());
            if !c.env.is_empty() {
                attrs.insert("environment".into(), json!(c.env));
            }
            if !c.healthcheck.is_empty() {
                attrs.insert("healthcheck".into(), json!(compose::healthcheck_test(&c.healthcheck)));
            }
            attrs.insert("logging".into(), logging.clone());
            let nets =
                networks::of(c).into_iter().map(|n| reference(&format!("{base}:docker_network.{n}"), "name")).collect();
            attrs.insert("networks".into(), Value::Array(nets));
            if let Some(ip) = plan.fixed.get(&i) {
                attrs.insert("ipv4_address".into(), ip.as_str().into());
            }
            if !c.ports.is_empty() {
                attrs.insert("ports".into(), json!(c.ports));
            }
            attrs.insert("restart".into(), c.restart.into());
            let binds = compose::binds(host, c, data, &mut ignored);
            if !binds.is_empty() {
                attrs.insert("binds".into(), json!(binds));
            }
            let address = format!("{}:docker_container", tag_address(&c.meta.address));
            let container = immutable(address, "docker_container", attrs)
                .depends_on(&format!("{base}:aws_instance"))
                .in_environment(environment(&c.meta));
            containers.push((c.meta.name.as_str(), container));
        }
        containers.reverse();
        containers.sort_by(|a, b| a.0.cmp(b.0));
        containers.dedup_by(|later, earlier| later.0 == earlier.0);
        out.extend(containers.into_iter().map(|(_, r)| r));
    }
    out
}

/// Every attribute of a network.
const NETWORK_ATTRS: &[&str] = &["endpoint", "name", "subnet"];

/// Every attribute of a container.
const CONTAINER_ATTRS: &[&str] = &[
    "endpoint",
    "name",
    "image",
    "command",
    "cpus",
    "memory",
    "environment",
    "healthcheck",
    "logging",
    "networks",
    "ipv4_address",
    "ports",
    "restart",
    "binds",
];

/// A resource that a change of any attribute, also one given or left out, replaces.
fn immutable(address: String, kind: &str, attrs: Map<String, Value>) -> Resource {
    let all = if kind == "docker_network" { NETWORK_ATTRS } else { CONTAINER_ATTRS };
    debug_assert!(attrs.keys().all(|k| all.contains(&k.as_str())), "{kind} attributes: {attrs:?}");
    Resource::new(address, ENGINE, kind, attrs).replace_on(all)
}

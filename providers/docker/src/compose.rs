//! `compose.yaml`: one Compose service per container placed on the host, named after the
//! container, with its limits, restart policy, the host's log rotation, networks (see
//! [`crate::networks`]), ports, environment, command, health check and bind mounts.
//!
//! A container's directory on a host volume is `MOUNT/containers/NAME`. A container with
//! `iops_demand` gets it on its balanced volume, mounted at [`crate::DATA_TARGET`]; a
//! `volumes` entry `VOLUME:/path[:mode]` naming a host volume mounts the subdirectory
//! `MOUNT/containers/NAME/path` there, and an absolute host path is mounted as written.

use crate::{DATA_TARGET, daemon, networks, to_yaml};
use berth_diag::{Diagnostic, Diagnostics, codes};
use berth_model::{Container, Host, Model, Volume};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The host's compose file. Entries of `volumes` that name no volume of the host, and fixed
/// addresses that cannot be given, are reported.
pub(crate) fn render(model: &Model, h: usize, diags: &mut Diagnostics) -> String {
    let host = &model.hosts[h];
    let data: BTreeMap<usize, usize> = model.data_volumes(h).into_iter().collect();
    let plan = networks::plan(model, h, diags);
    let mut services = Map::new();
    for (i, c) in model.containers_on(h) {
        let nets = networks::of(c);
        let nets = match plan.fixed.get(&i) {
            Some(ip) => nets
                .iter()
                .enumerate()
                .map(|(k, n)| (n.to_string(), if k == 0 { json!({ "ipv4_address": ip }) } else { json!({}) }))
                .collect::<Map<_, _>>()
                .into(),
            None => json!(nets),
        };
        let mut logging = json!({ "driver": host.docker.log_driver });
        if let Some(opts) = daemon::log_opts(&host.docker) {
            logging["options"] = opts;
        }
        let mut s = json!({
            "image": c.image,
            "cpus": cpus(c.cpus),
            "mem_limit": mem_limit(c.memory_bytes),
            "restart": c.restart,
            "logging": logging,
            "networks": nets,
        });
        if !c.ports.is_empty() {
            s["ports"] = json!(c.ports);
        }
        if !c.env.is_empty() {
            s["environment"] = json!(c.env);
        }
        if !c.command.is_empty() {
            s["command"] = json!(c.command);
        }
        if !c.healthcheck.is_empty() {
            s["healthcheck"] = json!({ "test": healthcheck_test(&c.healthcheck) });
        }
        let binds = binds(host, c, data.get(&i).map(|&v| &host.volumes[v]), diags);
        if !binds.is_empty() {
            s["volumes"] = json!(binds);
        }
        services.insert(c.meta.name.clone(), s);
    }
    let mut doc = json!({ "services": services });
    if !plan.names.is_empty() {
        let declared = plan.names.iter().map(|n| {
            let network = match plan.subnets.get(n) {
                Some(subnet) => json!({ "ipam": { "config": [{ "subnet": subnet }] } }),
                None => json!({}),
            };
            (n.clone(), network)
        });
        doc["networks"] = declared.collect::<Map<_, _>>().into();
    }
    to_yaml(doc)
}

/// CPUs as a whole number where they are one (`2`, not `2.0`).
fn cpus(cpus: f64) -> Value {
    if cpus.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&cpus) { json!(cpus as u64) } else { json!(cpus) }
}

/// A memory limit in the largest binary unit that divides it (`512m`, `2g`), else in bytes.
fn mem_limit(bytes: u64) -> Value {
    for (unit, shift) in [("g", 30), ("m", 20), ("k", 10)] {
        if bytes > 0 && bytes.trailing_zeros() >= shift {
            return json!(format!("{}{unit}", bytes >> shift));
        }
    }
    json!(bytes)
}

/// The health check in Compose's list form: `CMD` first unless the spec already says how
/// (`CMD`, `CMD-SHELL`, `NONE`).
fn healthcheck_test(check: &[String]) -> Vec<&str> {
    let given = check.iter().map(String::as_str);
    match check.first().map(String::as_str) {
        Some("CMD" | "CMD-SHELL" | "NONE") => given.collect(),
        _ => std::iter::once("CMD").chain(given).collect(),
    }
}

/// The container's bind mounts: its `volumes` entries, then its balanced data directory.
fn binds(host: &Host, c: &Container, data: Option<&Volume>, diags: &mut Diagnostics) -> Vec<String> {
    let dir = |v: &Volume| format!("{}/containers/{}", v.mount.trim_end_matches('/'), c.meta.name);
    let mut binds = Vec::new();
    let mut targets = BTreeSet::new();
    for entry in &c.volumes {
        let (source, rest) = entry.split_once(':').unwrap_or((entry, ""));
        let target = rest.split(':').next().unwrap_or_default();
        targets.insert(target);
        if source.starts_with('/') {
            binds.push(entry.clone());
        } else if let Some(v) = host.volumes.iter().find(|v| v.name == source)
            && target.starts_with('/')
        {
            binds.push(format!("{}{target}:{rest}", dir(v)));
        } else {
            let names: Vec<&str> = host.volumes.iter().map(|v| v.name.as_str()).collect();
            diags.push(
                Diagnostic::error(
                    &codes::VOLUME_MOUNT,
                    c.meta.span,
                    format!(
                        "{} mounts {entry:?}, which is not VOLUME:/path with a volume of {}",
                        c.meta.address, host.meta.address
                    ),
                )
                .with_label("expected VOLUME:/path with a volume of its host")
                .with_help(if names.is_empty() {
                    "the host declares no volumes: give an absolute host path, or add a volume block".to_string()
                } else {
                    format!("name one of the host's volumes ({}) before an absolute container path", names.join(", "))
                }),
            );
        }
    }
    if let Some(v) = data
        && !targets.contains(DATA_TARGET)
    {
        binds.push(format!("{}:{DATA_TARGET}", dir(v)));
    }
    binds
}

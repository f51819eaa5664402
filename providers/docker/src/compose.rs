//! `compose.yaml`: one Compose service per container placed on the host, named after the
//! container, with its limits, restart policy, the host's log rotation, networks (see
//! [`crate::networks`]), ports, environment, command, health check and bind mounts.
//!
//! A container's directory on a host volume is `MOUNT/containers/NAME`. A container with
//! `iops_demand` gets it on its balanced volume, mounted at [`crate::DATA_TARGET`]; a
//! `volumes` entry `VOLUME:/path[:mode]` naming a host volume mounts the subdirectory
//! `MOUNT/containers/NAME/path` there, and an absolute host path is mounted as written.

use crate::{DATA_TARGET, YAML, daemon, networks};
use berth_diag::{Diagnostic, Diagnostics, codes};
use berth_model::{Container, Host, Model, Volume};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The host's compose file, written straight into one string (services and networks in name
/// order, every mapping's keys sorted). `on_host` lists the indices of the containers placed
/// on host `h`, in declaration order. Entries of `volumes` that name no volume of the host,
/// and fixed addresses that cannot be given, are reported in declaration order.
pub(crate) fn render(model: &Model, h: usize, on_host: &[usize], diags: &mut Diagnostics) -> String {
    let host = &model.hosts[h];
    let mut data = model.data_volumes_among(h, on_host).into_iter().peekable();
    let plan = networks::plan(model, h, on_host, diags);
    // The same logging block for every service of the host.
    let mut logging = json!({ "driver": host.docker.log_driver });
    if let Some(opts) = daemon::log_opts(&host.docker) {
        logging["options"] = opts;
    }
    let mut logging_block = String::new();
    YAML.entry(&mut logging_block, "logging", &logging, 4);

    // Services in declaration order (so that diagnostics are), then copied in name order.
    let mut body = String::with_capacity(on_host.len() * (320 + logging_block.len()));
    let mut spans: Vec<(&str, usize, usize)> = Vec::with_capacity(on_host.len());
    for &i in on_host {
        let c = &model.containers[i];
        let data = match data.peek() {
            Some(&(d, v)) if d == i => {
                data.next();
                Some(&host.volumes[v])
            }
            _ => None,
        };
        let start = body.len();
        service(&mut body, c, plan.fixed.get(&i).map(String::as_str), &logging_block);
        let binds = binds(host, c, data, diags);
        if !binds.is_empty() {
            YAML.key(&mut body, "volumes", 4);
            body.push('\n');
            for b in &binds {
                YAML.str_item(&mut body, b, 6);
            }
        }
        spans.push((c.meta.name.as_str(), start, body.len()));
    }
    // A later service of the same name replaces an earlier one, as in a mapping.
    spans.sort_by(|a, b| a.0.cmp(b.0));
    spans.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            *earlier = *later;
        }
        same
    });

    let mut out = String::with_capacity(body.len() + spans.iter().map(|s| s.0.len() + 4).sum::<usize>() + 256);
    if !plan.names.is_empty() {
        out.push_str("networks:\n");
        for name in &plan.names {
            YAML.key(&mut out, name, 2);
            match plan.subnets.get(name) {
                Some(subnet) => {
                    out.push_str("\n    ipam:\n      config:\n        - subnet: ");
                    YAML.str_after_indicator(&mut out, subnet, 10);
                }
                None => out.push_str(" {}\n"),
            }
        }
    }
    if spans.is_empty() {
        out.push_str("services: {}\n");
    } else {
        out.push_str("services:\n");
        for (name, start, end) in spans {
            YAML.key(&mut out, name, 2);
            out.push('\n');
            out.push_str(&body[start..end]);
        }
    }
    out
}

/// Writes the keys of a service before `volumes`, in key order, at indentation 4.
fn service(out: &mut String, c: &Container, fixed: Option<&str>, logging_block: &str) {
    if !c.command.is_empty() {
        out.push_str("    command:\n");
        for arg in &c.command {
            YAML.str_item(out, arg, 6);
        }
    }
    out.push_str("    cpus: ");
    cpus(out, c.cpus);
    out.push('\n');
    if !c.env.is_empty() {
        out.push_str("    environment:\n");
        for (k, v) in &c.env {
            YAML.str_entry(out, k, v, 6);
        }
    }
    if !c.healthcheck.is_empty() {
        out.push_str("    healthcheck:\n      test:\n");
        for arg in healthcheck_test(&c.healthcheck) {
            YAML.str_item(out, arg, 8);
        }
    }
    YAML.str_entry(out, "image", &c.image, 4);
    out.push_str(logging_block);
    out.push_str("    mem_limit: ");
    mem_limit(out, c.memory_bytes);
    out.push('\n');
    out.push_str("    networks:\n");
    let nets = networks::of(c);
    match fixed {
        Some(ip) => {
            // A mapping: names sorted, the address on the first network.
            let mut named: BTreeMap<&str, bool> = BTreeMap::new();
            for (k, n) in nets.iter().enumerate() {
                named.insert(n, k == 0);
            }
            for (n, first) in named {
                YAML.key(out, n, 6);
                if first {
                    out.push_str("\n        ipv4_address: ");
                    YAML.str_after_indicator(out, ip, 10);
                } else {
                    out.push_str(" {}\n");
                }
            }
        }
        None => {
            for n in nets {
                YAML.str_item(out, n, 6);
            }
        }
    }
    if !c.ports.is_empty() {
        out.push_str("    ports:\n");
        for p in &c.ports {
            YAML.str_item(out, p, 6);
        }
    }
    YAML.str_entry(out, "restart", c.restart, 4);
}

/// Writes CPUs as a whole number where they are one (`2`, not `2.0`), else as JSON writes them.
fn cpus(out: &mut String, cpus: f64) {
    if cpus.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&cpus) {
        let _ = write!(out, "{}", cpus as u64);
    } else {
        match serde_json::Number::from_f64(cpus) {
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => out.push_str("null"),
        }
    }
}

/// Writes a memory limit in the largest binary unit that divides it (`"512m"`, `"2g"`), else
/// in bytes.
fn mem_limit(out: &mut String, bytes: u64) {
    for (unit, shift) in [("g", 30), ("m", 20), ("k", 10)] {
        if bytes > 0 && bytes.trailing_zeros() >= shift {
            // Starts with a digit: always double-quoted.
            let _ = write!(out, "\"{}{unit}\"", bytes >> shift);
            return;
        }
    }
    let _ = write!(out, "{bytes}");
}

/// The health check in Compose's list form: `CMD` first unless the spec already says how
/// (`CMD`, `CMD-SHELL`, `NONE`).
pub(crate) fn healthcheck_test(check: &[String]) -> Vec<&str> {
    let given = check.iter().map(String::as_str);
    match check.first().map(String::as_str) {
        Some("CMD" | "CMD-SHELL" | "NONE") => given.collect(),
        _ => std::iter::once("CMD").chain(given).collect(),
    }
}

/// The container's bind mounts: its `volumes` entries, then its balanced data directory.
pub(crate) fn binds(host: &Host, c: &Container, data: Option<&Volume>, diags: &mut Diagnostics) -> Vec<String> {
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

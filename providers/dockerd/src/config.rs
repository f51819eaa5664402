//! The Docker API bodies of the desired objects: what `berth_docker::resources` describes,
//! turned into network, volume and container creation requests.

use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HealthConfig, HostConfig, HostConfigLogConfig, Ipam,
    IpamConfig, NetworkCreateRequest, NetworkingConfig, PortBinding, PortMap, RestartPolicy, RestartPolicyNameEnum,
    VolumeCreateRequest,
};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A string attribute.
pub(crate) fn text<'a>(attrs: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    attrs.get(name).and_then(Value::as_str).ok_or_else(|| format!("attribute `{name}` is missing or not a string"))
}

/// An optional list of strings.
fn strings(attrs: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, String> {
    let Some(value) = attrs.get(name) else { return Ok(None) };
    let items = value.as_array().ok_or_else(|| format!("attribute `{name}` is not a list"))?;
    items
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| format!("attribute `{name}` holds a non-string")))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// An optional map of strings.
fn string_map(value: Option<&Value>, name: &str) -> Result<Option<HashMap<String, String>>, String> {
    let Some(value) = value else { return Ok(None) };
    let m = value.as_object().ok_or_else(|| format!("attribute `{name}` is not an object"))?;
    m.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|v| (k.clone(), v.to_owned()))
                .ok_or_else(|| format!("attribute `{name}.{k}` is not a string"))
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// A bridge network with the name and, when given, the subnet of the attributes.
pub(crate) fn network(
    attrs: &Map<String, Value>,
    labels: HashMap<String, String>,
) -> Result<NetworkCreateRequest, String> {
    let ipam = match attrs.get("subnet") {
        Some(subnet) => {
            let subnet = subnet.as_str().ok_or("attribute `subnet` is not a string")?;
            Some(Ipam {
                config: Some(vec![IpamConfig { subnet: Some(subnet.to_owned()), ..Default::default() }]),
                ..Default::default()
            })
        }
        None => None,
    };
    Ok(NetworkCreateRequest {
        name: text(attrs, "name")?.to_owned(),
        driver: Some("bridge".into()),
        ipam,
        labels: Some(labels),
        ..Default::default()
    })
}

/// A volume with the name, driver (`local` when absent) and driver options of the attributes.
pub(crate) fn volume(
    attrs: &Map<String, Value>,
    labels: HashMap<String, String>,
) -> Result<VolumeCreateRequest, String> {
    Ok(VolumeCreateRequest {
        name: Some(text(attrs, "name")?.to_owned()),
        driver: Some(attrs.get("driver").and_then(Value::as_str).unwrap_or("local").to_owned()),
        driver_opts: string_map(attrs.get("driver_opts"), "driver_opts")?,
        labels: Some(labels),
        ..Default::default()
    })
}

/// A container as the attributes describe it, joined to its first network at creation (the
/// others are connected before it starts, as the API takes one network at creation on older
/// daemons).
pub(crate) fn container(
    attrs: &Map<String, Value>,
    labels: HashMap<String, String>,
) -> Result<ContainerCreateBody, String> {
    let networks = networks(attrs)?;
    let (exposed, bindings) = ports(&strings(attrs, "ports")?.unwrap_or_default())?;
    let cpus = attrs.get("cpus").and_then(Value::as_f64).ok_or("attribute `cpus` is missing or not a number")?;
    let memory =
        attrs.get("memory").and_then(Value::as_i64).ok_or("attribute `memory` is missing or not an integer")?;
    let restart = text(attrs, "restart")?;
    let restart: RestartPolicyNameEnum = restart.parse().map_err(|_| format!("unknown restart policy {restart:?}"))?;
    let logging = attrs.get("logging").and_then(Value::as_object);
    let log_config = match logging {
        Some(l) => Some(HostConfigLogConfig {
            typ: Some(text(l, "driver")?.to_owned()),
            config: string_map(l.get("options"), "logging.options")?,
        }),
        None => None,
    };
    let env = string_map(attrs.get("environment"), "environment")?.map(|m| {
        let mut env: Vec<String> = m.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.sort();
        env
    });
    let first = networks.first().ok_or("attribute `networks` is empty")?;
    let endpoint = EndpointSettings {
        ipam_config: attrs
            .get("ipv4_address")
            .and_then(Value::as_str)
            .map(|ip| EndpointIpamConfig { ipv4_address: Some(ip.to_owned()), ..Default::default() }),
        ..Default::default()
    };
    Ok(ContainerCreateBody {
        image: Some(text(attrs, "image")?.to_owned()),
        cmd: strings(attrs, "command")?,
        env,
        healthcheck: strings(attrs, "healthcheck")?.map(|test| HealthConfig { test: Some(test), ..Default::default() }),
        labels: Some(labels),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(HostConfig {
            nano_cpus: Some((cpus * 1e9).round() as i64),
            memory: Some(memory),
            restart_policy: Some(RestartPolicy { name: Some(restart), maximum_retry_count: None }),
            log_config,
            binds: strings(attrs, "binds")?,
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            network_mode: Some(first.clone()),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(first.clone(), endpoint)])),
        }),
        ..Default::default()
    })
}

/// The names of the networks a container joins, first one first.
pub(crate) fn networks(attrs: &Map<String, Value>) -> Result<Vec<String>, String> {
    strings(attrs, "networks").map(Option::unwrap_or_default)
}

/// Exposed ports and port bindings from Docker's short syntax,
/// `[[IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, where ports may be ranges (`8000-8002`) and an
/// IPv6 address is bracketed.
pub(crate) fn ports(specs: &[String]) -> Result<(Vec<String>, PortMap), String> {
    let mut exposed = Vec::new();
    let mut bindings = PortMap::new();
    for spec in specs {
        let bad = || format!("port {spec:?} is not [[IP:]HOST:]CONTAINER[/PROTOCOL]");
        let (rest, proto) = spec.rsplit_once('/').unwrap_or((spec, "tcp"));
        if !matches!(proto, "tcp" | "udp" | "sctp") {
            return Err(bad());
        }
        let (ip, rest) = match rest.strip_prefix('[') {
            Some(v6) => {
                let (ip, rest) = v6.split_once("]:").ok_or_else(bad)?;
                (Some(ip), rest)
            }
            None => match rest.matches(':').count() {
                2 => rest.split_once(':').map(|(ip, r)| (Some(ip), r)).ok_or_else(bad)?,
                _ => (None, rest),
            },
        };
        let (host, container) = match rest.split_once(':') {
            Some((h, c)) => (h, c),
            None if ip.is_none() => ("", rest),
            None => return Err(bad()),
        };
        let container = range(container).ok_or_else(bad)?;
        let host_range = if host.is_empty() { None } else { Some(range(host).ok_or_else(bad)?) };
        let count = container.1 - container.0;
        for (k, port) in (container.0..=container.1).enumerate() {
            let key = format!("{port}/{proto}");
            let host_port = match host_range {
                None => String::new(),
                Some((a, b)) if count == 0 => {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}-{b}")
                    }
                }
                Some((a, b)) if b - a == count => (a + k as u16).to_string(),
                Some(_) => return Err(format!("port {spec:?} maps ranges of different lengths")),
            };
            if !exposed.contains(&key) {
                exposed.push(key.clone());
            }
            let binding =
                PortBinding { host_ip: ip.filter(|i| !i.is_empty()).map(str::to_owned), host_port: Some(host_port) };
            bindings.entry(key).or_insert_with(|| Some(Vec::new())).get_or_insert_with(Vec::new).push(binding);
        }
    }
    Ok((exposed, bindings))
}

/// A port or a range of ports, `N` or `N-M` with N ≤ M.
fn range(text: &str) -> Option<(u16, u16)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (a, b): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
    (a > 0 && a <= b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(specs: &[&str]) -> Vec<(String, Option<String>, String)> {
        let specs: Vec<String> = specs.iter().map(|s| (*s).to_owned()).collect();
        let (_, bindings) = ports(&specs).unwrap();
        let mut out: Vec<_> = bindings
            .into_iter()
            .flat_map(|(k, b)| b.unwrap().into_iter().map(move |b| (k.clone(), b.host_ip, b.host_port.unwrap())))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn ports_follow_dockers_short_syntax() {
        assert_eq!(bound(&["8080:80"]), [("80/tcp".into(), None, "8080".into())]);
        assert_eq!(bound(&["53/udp"]), [("53/udp".into(), None, String::new())]);
        assert_eq!(bound(&["127.0.0.1:9000:90"]), [("90/tcp".into(), Some("127.0.0.1".into()), "9000".into())]);
        assert_eq!(bound(&["[::1]:9000:90/udp"]), [("90/udp".into(), Some("::1".into()), "9000".into())]);
        assert_eq!(
            bound(&["7000-7001:8000-8001"]),
            [("8000/tcp".into(), None, "7000".into()), ("8001/tcp".into(), None, "7001".into())]
        );
        assert_eq!(bound(&["9000-9009:80"]), [("80/tcp".into(), None, "9000-9009".into())]);
        for bad in ["x:80", "80/icmp", "1-3:4-5", "0", "1.2.3.4:80", "9:8:7:6"] {
            assert!(ports(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}

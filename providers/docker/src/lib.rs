//! Docker host target. For every host, under `HOST/`:
//!
//! - `daemon.json`: the engine settings of `docker { }` (data-root, logging, address pools);
//! - `compose.yaml`: one service per container placed on the host;
//! - `sysctl.d/90-berth.conf`: kernel settings sized to the host and its containers;
//! - `cloud-init.yaml`: first-boot user data that formats and mounts the volumes, installs the
//!   three files above (embedded gzip-compressed and base64-encoded, to fit EC2's 16 KB of user
//!   data) and starts the containers.
//!
//! Containers that declare `iops_demand` keep their data on the volume chosen by
//! [`berth_model::Model::data_volumes`]; the check stage warns when a volume is overloaded.

mod cloud_init;
mod compose;
mod daemon;
mod networks;
mod resources;
mod sysctl;

use berth_diag::{Diagnostic, Diagnostics, codes};
use berth_model::yaml::Style;
use berth_model::{EmitInput, Emitter, Model, OutputTree};
use berth_plan::Resource;
pub use resources::DEFAULT_ENDPOINT;

/// Where `daemon.json` goes on the host.
pub const DAEMON_PATH: &str = "/etc/docker/daemon.json";
/// Where the sysctl file goes on the host.
pub const SYSCTL_PATH: &str = "/etc/sysctl.d/90-berth.conf";
/// Where the compose file goes on the host.
pub const COMPOSE_PATH: &str = "/opt/berth/compose.yaml";
/// The Compose project of the containers on every host (`docker compose -p`).
pub const PROJECT: &str = "berth";
/// Where a container's balanced data directory is mounted inside it.
pub const DATA_TARGET: &str = "/data";
/// How this target writes YAML: sequences indented under their key, as Compose files usually
/// are, and ambiguous strings double-quoted for PyYAML, cloud-init and Compose.
const YAML: Style = Style::COMPOSE;

/// The Docker objects `compose.yaml` describes, as `berth apply` creates them through the
/// Docker Engine API: per host with containers its networks and containers (engine `docker`,
/// kinds `docker_network` and `docker_container`), addressed `<berth address>:<kind>[.<name>]`.
pub fn resources(input: EmitInput<'_>) -> Vec<Resource> {
    resources::resources(input.model)
}

/// The docker target.
#[derive(Debug, Default)]
pub struct DockerEmitter {
    /// Threads that render hosts; 0 takes what the machine offers (at most 8). The output is
    /// the same whatever the number.
    pub threads: usize,
}

impl Emitter for DockerEmitter {
    fn target(&self) -> &'static str {
        "docker"
    }

    fn emit(&self, input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        let model = input.model;
        let on_host = model.containers_by_host();
        // Hosts are independent: render them on a few threads (each with its own compressor),
        // then add the files and the diagnostics in host order.
        let hosts: Vec<usize> = (0..model.hosts.len()).collect();
        let rendered = berth_model::par::map_with(hosts, self.threads, cloud_init::Gzip::new, |gzip, h| {
            render_host(model, h, &on_host[h], gzip)
        });
        let mut tree = OutputTree::new();
        let mut diags = Diagnostics::new();
        for (host, files) in model.hosts.iter().zip(rendered) {
            let dir = &host.meta.name;
            tree.add(format!("{dir}/daemon.json"), files.daemon);
            tree.add(format!("{dir}/compose.yaml"), files.compose);
            tree.add(format!("{dir}/sysctl.d/90-berth.conf"), files.sysctl);
            tree.add(format!("{dir}/cloud-init.yaml"), files.cloud_init);
            diags.extend(files.diags);
        }
        (tree, diags)
    }
}

/// The files of one host and what rendering them reported.
struct HostFiles {
    daemon: String,
    compose: String,
    sysctl: String,
    cloud_init: String,
    diags: Diagnostics,
}

/// Renders the files of host `h`, whose containers are `on_host`.
fn render_host(model: &Model, h: usize, on_host: &[usize], gzip: &mut cloud_init::Gzip) -> HostFiles {
    let host = &model.hosts[h];
    let mut diags = Diagnostics::new();
    let daemon = daemon::render(host);
    let compose = compose::render(model, h, on_host, &mut diags);
    let sysctl = sysctl::render(model, h, on_host.len(), &mut diags);
    let cloud_init = cloud_init::render(host, &daemon, &sysctl, &compose, gzip);
    if cloud_init.len() > USER_DATA_LIMIT {
        diags.push(
            Diagnostic::error(
                &codes::DOCKER_USER_DATA,
                host.meta.span,
                format!(
                    "the cloud-init of {} is {} bytes, over EC2's {USER_DATA_LIMIT}",
                    host.meta.address,
                    cloud_init.len()
                ),
            )
            .with_label(format!("{} containers", on_host.len()))
            .with_help(codes::DOCKER_USER_DATA.fix),
        );
    }
    HostFiles { daemon, compose, sysctl, cloud_init, diags }
}

/// EC2 accepts at most this much user data (before base64).
const USER_DATA_LIMIT: usize = 16 * 1024;

#[cfg(test)]
mod tests;

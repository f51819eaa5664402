//! Docker host target. For every host, under `HOST/`:
//!
//! - `daemon.json`: the engine settings of `docker { }` (data-root, logging, address pools);
//! - `compose.yaml`: one service per container placed on the host;
//! - `sysctl.d/90-berth.conf`: kernel settings sized to the host and its containers;
//! - `cloud-init.yaml`: first-boot user data that formats and mounts the volumes, installs the
//!   three files above and starts the containers.
//!
//! Containers that declare `iops_demand` keep their data on the volume chosen by
//! [`berth_model::Model::data_volumes`]; the check stage warns when a volume is overloaded.

mod cloud_init;
mod compose;
mod daemon;
mod networks;
mod sysctl;
mod yaml;

use berth_diag::Diagnostics;
use berth_model::{EmitInput, Emitter, OutputTree};

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

/// The docker target.
#[derive(Debug, Default)]
pub struct DockerEmitter;

impl Emitter for DockerEmitter {
    fn target(&self) -> &'static str {
        "docker"
    }

    fn emit(&self, input: EmitInput<'_>) -> (OutputTree, Diagnostics) {
        let model = input.model;
        let mut tree = OutputTree::new();
        let mut diags = Diagnostics::new();
        for (h, host) in model.hosts.iter().enumerate() {
            let daemon = daemon::render(host);
            let compose = compose::render(model, h, &mut diags);
            let sysctl = sysctl::render(model, h, &mut diags);
            let cloud_init = cloud_init::render(host, &daemon, &sysctl, &compose);
            let dir = &host.meta.name;
            tree.add(format!("{dir}/daemon.json"), daemon);
            tree.add(format!("{dir}/compose.yaml"), compose);
            tree.add(format!("{dir}/sysctl.d/90-berth.conf"), sysctl);
            tree.add(format!("{dir}/cloud-init.yaml"), cloud_init);
        }
        (tree, diags)
    }
}

/// A JSON value as a YAML document, objects sorted by key.
fn to_yaml(mut value: serde_json::Value) -> String {
    value.sort_all_objects();
    yaml::to_string(&value)
}

#[cfg(test)]
mod tests;

//! `cloud-init.yaml`: the host's first-boot user data (`#cloud-config`). It creates a
//! filesystem on every volume that has none (`fs_setup`: mkfs.xfs or mkfs.ext4), mounts it
//! (`mounts`, `nofail`), writes `daemon.json`, the sysctl file and the compose file, loads
//! `nf_conntrack` now and at every boot (so its sysctl applies), and finally applies the
//! sysctls, restarts Docker and starts the containers.

use crate::{COMPOSE_PATH, DAEMON_PATH, PROJECT, SYSCTL_PATH, to_yaml};
use berth_model::Host;
use serde_json::json;

/// Where the module list goes on the host.
const MODULES_PATH: &str = "/etc/modules-load.d/berth.conf";

/// The host's user data, given the contents of its other files.
pub(crate) fn render(host: &Host, daemon: &str, sysctl: &str, compose: &str) -> String {
    let file = |path: &str, content: &str| json!({ "path": path, "permissions": "0644", "content": content });
    let mut doc = json!({
        "write_files": [
            file(DAEMON_PATH, daemon),
            file(SYSCTL_PATH, sysctl),
            file(MODULES_PATH, "nf_conntrack\n"),
            file(COMPOSE_PATH, compose),
        ],
        "runcmd": [
            ["modprobe", "nf_conntrack"],
            ["sysctl", "--system"],
            ["systemctl", "restart", "docker"],
            ["docker", "compose", "-p", PROJECT, "-f", COMPOSE_PATH, "up", "-d"],
        ],
    });
    if !host.volumes.is_empty() {
        doc["fs_setup"] = host
            .volumes
            .iter()
            .map(|v| json!({ "device": v.device, "filesystem": v.filesystem, "partition": "none", "overwrite": false }))
            .collect();
        doc["mounts"] = host
            .volumes
            .iter()
            .map(|v| json!([v.device, v.mount, v.filesystem, "defaults,nofail", "0", fsck_pass(&v.filesystem)]))
            .collect();
    }
    format!("#cloud-config\n{}", to_yaml(doc))
}

/// The fstab pass of a filesystem: xfs is never checked at boot (fsck.xfs does nothing), ext4
/// after the root filesystem.
fn fsck_pass(filesystem: &str) -> &'static str {
    if filesystem == "xfs" { "0" } else { "2" }
}

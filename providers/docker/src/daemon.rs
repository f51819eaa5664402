//! `daemon.json`: the Docker engine settings of a host, limited to keys dockerd 20.10 knows.

use berth_model::{DockerEngine, Host};
use serde_json::{Value, json};

/// The host's `daemon.json`: pretty JSON with sorted keys and a trailing newline.
pub(crate) fn render(host: &Host) -> String {
    let d = &host.docker;
    let mut doc = json!({
        "data-root": d.data_root,
        "default-address-pools": [{ "base": d.address_pool_base, "size": d.address_pool_size }],
        "live-restore": d.live_restore,
        "log-driver": d.log_driver,
        "max-concurrent-downloads": d.max_concurrent_downloads,
    });
    if let Some(opts) = log_opts(d) {
        doc["log-opts"] = opts;
    }
    doc.sort_all_objects();
    let mut text = serde_json::to_string_pretty(&doc).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// The rotation options of the host's log driver (`max-size`, `max-file`, both strings), for
/// the drivers that rotate (`json-file`, `local`); dockerd refuses them for the others.
pub(crate) fn log_opts(d: &DockerEngine) -> Option<Value> {
    matches!(d.log_driver.as_str(), "json-file" | "local")
        .then(|| json!({ "max-file": d.log_max_file.to_string(), "max-size": d.log_max_size }))
}

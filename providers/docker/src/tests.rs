//! Emitter tests on small specs under tests/specs, compiled at a fixed time.

use crate::cloud_init::Gzip;
use crate::{COMPOSE_PATH, DAEMON_PATH, DockerEmitter, SYSCTL_PATH};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use berth_diag::Diagnostics;
use berth_model::{EmitInput, Emitter, OutputTree};
use berth_tests::file_text;
use flate2::read::GzDecoder;
use std::io::Read;

const BASIC: &str = "providers/docker/tests/specs/basic.hcl";

/// The files of a spec, which must emit without diagnostics.
fn emit(spec: &str, var_files: &[&str]) -> OutputTree {
    let (tree, diags) = berth_tests::emit(&DockerEmitter::default(), spec, var_files);
    assert!(diags.is_empty(), "{diags:?}");
    tree
}

/// Diagnostics as `code: message`.
fn messages(diags: &Diagnostics) -> Vec<String> {
    diags.iter().map(|d| format!("{}: {}", d.code.name, d.message)).collect()
}

#[test]
fn every_host_gets_its_four_files() {
    let tree = emit(BASIC, &[]);
    let paths: Vec<&str> = tree.iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "h1/cloud-init.yaml",
            "h1/compose.yaml",
            "h1/daemon.json",
            "h1/sysctl.d/90-berth.conf",
            "h2/cloud-init.yaml",
            "h2/compose.yaml",
            "h2/daemon.json",
            "h2/sysctl.d/90-berth.conf",
        ]
    );
}

#[test]
fn daemon_json_is_sorted_pretty_and_sized() {
    let tree = emit(BASIC, &[]);
    assert_eq!(
        file_text(&tree, "h1/daemon.json"),
        r#"{
  "data-root": "/mnt/fast/docker",
  "default-address-pools": [
    {
      "base": "172.16.0.0/12",
      "size": 28
    }
  ],
  "live-restore": true,
  "log-driver": "json-file",
  "log-opts": {
    "max-file": "3",
    "max-size": "10m"
  },
  "max-concurrent-downloads": 3
}
"#
    );
    // journald does not rotate: no log-opts, which dockerd would refuse for it.
    let h2: serde_json::Value = serde_json::from_str(&file_text(&tree, "h2/daemon.json")).expect("JSON");
    assert_eq!(h2["log-driver"], "journald");
    assert!(h2.get("log-opts").is_none());
    assert_eq!(h2["data-root"], "/var/lib/docker");
    assert_eq!(h2["default-address-pools"][0]["size"], 24);
}

#[test]
fn compose_lists_every_placed_container() {
    let tree = emit(BASIC, &[]);
    let h1 = file_text(&tree, "h1/compose.yaml");
    assert!(h1.starts_with("networks:\n  default: {}\n  front: {}\nservices:\n"), "{h1}");
    assert!(
        h1.contains(
            "  web:
    cpus: 0.5
    environment:
      DEBUG: \"true\"
      MODE: \"on\"
    healthcheck:
      test:
        - CMD
        - curl
        - -f
        - http://localhost/
    image: nginx:1.27
    logging:
      driver: json-file
      options:
        max-file: \"3\"
        max-size: \"10m\"
    mem_limit: \"512m\"
    networks:
      - front
    ports:
      - \"8080:80\"
    restart: unless-stopped
"
        ),
        "{h1}"
    );
    assert!(h1.contains("  db-0:\n    cpus: 2\n"), "{h1}");
    assert!(h1.contains("    mem_limit: \"2g\"\n    networks:\n      - default\n"), "{h1}");
    let h2 = file_text(&tree, "h2/compose.yaml");
    assert!(h2.contains("    command:\n      - run\n      - --fast\n"), "{h2}");
    assert!(h2.contains("    logging:\n      driver: journald\n    mem_limit: 100000000\n"), "{h2}");
    assert!(h2.contains("    restart: \"no\"\n"), "{h2}");
    assert!(!h2.contains("volumes"), "{h2}");
}

#[test]
fn data_directories_follow_the_iops_balance() {
    let tree = emit(BASIC, &[]);
    let h1 = file_text(&tree, "h1/compose.yaml");
    // fast has 20,000 IOPS, slow 10,000 less its own 500: db-0 and db-1 go to fast
    // (12,000 then 4,000 left), db-2 to slow (9,500 left beats 4,000).
    for (db, volume) in [("db-0", "/mnt/fast"), ("db-1", "/mnt/fast"), ("db-2", "/mnt/slow")] {
        let expected = format!(
            "    volumes:\n      - /mnt/slow/containers/{db}/var/log/postgresql:/var/log/postgresql:ro\n      - {volume}/containers/{db}:/data\n"
        );
        assert!(h1.contains(&expected), "{db}: {h1}");
    }
}

#[test]
fn sysctls_are_sized_and_overridden_by_the_spec() {
    let tree = emit(BASIC, &[]);
    let h1 = file_text(&tree, "h1/sysctl.d/90-berth.conf");
    let lines: Vec<&str> = h1.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        [
            "fs.inotify.max_user_instances = 1024",
            "fs.inotify.max_user_watches = 524288",
            "kernel.pid_max = 4194304",
            "net.core.somaxconn = 4096",
            "net.ipv4.ip_local_port_range = 10240 65535",
            "net.ipv4.neigh.default.gc_thresh1 = 128",
            "net.ipv4.neigh.default.gc_thresh2 = 512",
            "net.ipv4.neigh.default.gc_thresh3 = 1024",
            "net.ipv4.tcp_max_syn_backlog = 65535",
            "net.netfilter.nf_conntrack_max = 262144",
            "vm.max_map_count = 262144",
            "vm.swappiness = 10",
        ]
    );
    assert!(
        h1.starts_with("# Generated by berth for host h1: m6i.2xlarge (8 vCPUs, 32768 MiB), 4 containers.\n"),
        "{h1}"
    );
}

#[test]
fn cloud_init_formats_mounts_and_installs_everything() {
    let tree = emit(BASIC, &[]);
    let h1 = file_text(&tree, "h1/cloud-init.yaml");
    assert!(h1.starts_with("#cloud-config\n"), "{h1}");
    assert!(
        h1.contains(
            "fs_setup:
  - device: /dev/sdf
    filesystem: xfs
    overwrite: false
    partition: none
  - device: /dev/sdg
    filesystem: ext4
    overwrite: false
    partition: none
mounts:
  - - /dev/sdf
    - /mnt/fast
    - xfs
    - defaults,nofail
    - \"0\"
    - \"0\"
  - - /dev/sdg
    - /mnt/slow/
    - ext4
    - defaults,nofail
    - \"0\"
    - \"2\"
runcmd:
  - - modprobe
    - nf_conntrack
  - - sysctl
    - --system
  - - systemctl
    - restart
    - docker
  - - docker
    - compose
    - -p
    - berth
    - -f
    - /opt/berth/compose.yaml
    - up
    - -d
"
        ),
        "{h1}"
    );
    // The installed files are the emitted ones, byte for byte, compressed.
    assert_embedded_files_are_the_emitted_ones(&tree, "h1");
    assert!(h1.contains("\n  # compose.yaml beside this file: the containers of the host.\n  - content: H4sI"), "{h1}");
    let h2 = file_text(&tree, "h2/cloud-init.yaml");
    assert!(!h2.contains("fs_setup") && !h2.contains("mounts"), "{h2}");
}

/// The `write_files` of a host's cloud-init, decoded: (path, contents, encoding).
fn written_files(tree: &OutputTree, host: &str) -> Vec<(String, Vec<u8>, Option<String>)> {
    let doc: serde_json::Value =
        serde_norway::from_str(&file_text(tree, &format!("{host}/cloud-init.yaml"))).expect("cloud-init is YAML");
    let files = doc["write_files"].as_array().expect("write_files");
    files
        .iter()
        .map(|f| {
            let content = f["content"].as_str().expect("content");
            let encoding = f.get("encoding").map(|e| e.as_str().expect("encoding").to_string());
            let bytes = match encoding.as_deref() {
                None => content.as_bytes().to_vec(),
                Some("gz+b64") => {
                    let gz = STANDARD.decode(content).expect("base64");
                    let mut plain = Vec::new();
                    GzDecoder::new(&gz[..]).read_to_end(&mut plain).expect("gzip");
                    plain
                }
                Some(other) => panic!("unexpected encoding {other}"),
            };
            (f["path"].as_str().expect("path").to_string(), bytes, encoding)
        })
        .collect()
}

/// Asserts that the host's cloud-init installs exactly the files emitted beside it.
fn assert_embedded_files_are_the_emitted_ones(tree: &OutputTree, host: &str) {
    let files = written_files(tree, host);
    let paths: Vec<&str> = files.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/etc/docker/daemon.json",
            "/etc/sysctl.d/90-berth.conf",
            "/etc/modules-load.d/berth.conf",
            "/opt/berth/compose.yaml"
        ]
    );
    for (name, path) in
        [("daemon.json", DAEMON_PATH), ("sysctl.d/90-berth.conf", SYSCTL_PATH), ("compose.yaml", COMPOSE_PATH)]
    {
        let (_, bytes, encoding) = files.iter().find(|(p, _, _)| p == path).expect("installed");
        assert_eq!(encoding.as_deref(), Some("gz+b64"), "{host}: {path}");
        assert_eq!(
            std::str::from_utf8(bytes).expect("UTF-8"),
            &file_text(tree, &format!("{host}/{name}")),
            "{host}: {path} is not {name}"
        );
    }
    let (_, modules, encoding) = &files[2];
    assert_eq!((modules.as_slice(), encoding), (&b"nf_conntrack\n"[..], &None));
}

#[test]
fn cloud_init_of_a_fleet_host_fits_ec2_user_data() {
    let tree = emit("examples/fleet", &["examples/fleet/fleet-1.json"]);
    let mut hosts = 0;
    for (path, file) in tree.iter().filter(|(p, _)| p.ends_with("/cloud-init.yaml")) {
        let host = path.trim_end_matches("/cloud-init.yaml");
        let compose = file_text(&tree, &format!("{host}/compose.yaml"));
        assert!(compose.matches("\n    image: ").count() >= 312, "{path}");
        // EC2 takes at most 16 KB of user data; leave room for the hosts to grow.
        assert!(file.contents.len() < 16 * 1024, "{path}: {} bytes", file.contents.len());
        assert!(file.contents.len() < compose.len() / 4, "{path}: {} bytes", file.contents.len());
        assert_embedded_files_are_the_emitted_ones(&tree, host);
        hosts += 1;
    }
    assert_eq!(hosts, 8);
}

#[test]
fn gzip_is_deterministic_and_round_trips() {
    let text = "services:\n  web:\n    image: nginx\n".repeat(100);
    let a = Gzip::new().compress(text.as_bytes());
    // A reused compressor gives the same bytes.
    let mut gzip = Gzip::new();
    gzip.compress(b"something else");
    assert_eq!(gzip.compress(text.as_bytes()), a);
    // No modification time, no file name, fastest level, unknown OS.
    assert_eq!(a[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255]);
    let mut plain = String::new();
    let mut decoder = GzDecoder::new(&a[..]);
    decoder.read_to_string(&mut plain).expect("gzip");
    assert_eq!(plain, text);
    let header = decoder.header().expect("header");
    assert_eq!((header.mtime(), header.filename()), (0, None));
    assert_eq!(Gzip::new().compress(b""), Gzip::new().compress(b""));
    let mut empty = Vec::new();
    GzDecoder::new(&Gzip::new().compress(b"")[..]).read_to_end(&mut empty).expect("gzip");
    assert!(empty.is_empty());
}

#[test]
fn a_mount_of_a_volume_the_host_lacks_is_an_error() {
    let (tree, diags) =
        berth_tests::emit(&DockerEmitter::default(), "providers/docker/tests/specs/unknown-volume.hcl", &[]);
    assert_eq!(
        messages(&diags),
        [
            "volume::mount: container.app mounts \"logs:/var/log/app\", which is not VOLUME:/path with a volume of host.h"
        ]
    );
    // Absolute host paths are mounted as written.
    assert!(file_text(&tree, "h/compose.yaml").contains("    volumes:\n      - /etc/app:/etc/app:ro\n"));
}

#[test]
fn fixed_addresses_configure_the_subnets_of_every_network() {
    let tree = emit("providers/docker/tests/specs/addresses.hcl", &[]);
    let compose = file_text(&tree, "edge/compose.yaml");
    assert!(
        compose.starts_with(
            "networks:
  back:
    ipam:
      config:
        - subnet: \"10.10.0.0/27\"
  default:
    ipam:
      config:
        - subnet: \"10.10.0.32/27\"
  front:
    ipam:
      config:
        - subnet: \"10.10.0.64/27\"
services:
"
        ),
        "{compose}"
    );
    assert!(compose.contains("    networks:\n      - front\n      - back\n"), "{compose}");
    assert!(compose.contains("    networks:\n      default:\n        ipv4_address: \"10.10.0.40\"\n"), "{compose}");
    assert!(
        compose.contains("    networks:\n      back: {}\n      default:\n        ipv4_address: \"10.10.0.41\"\n"),
        "{compose}"
    );
}

#[test]
fn values_that_cannot_be_written_are_errors() {
    let (_, diags) = berth_tests::emit(&DockerEmitter::default(), "providers/docker/tests/specs/bad-values.hcl", &[]);
    assert_eq!(
        messages(&diags),
        [
            "schema::invalid-value: container.gateway cannot have address 10.10.0.33 on network \"default\": it is the network, gateway or broadcast address of 10.10.0.32/27",
            "schema::invalid-value: container.stray cannot have address 10.10.1.5 on network \"default\": container.lb already put it on 10.10.0.32/27",
            "schema::invalid-value: host.edge sets sysctl \"net core\" to \"1\"",
            "schema::invalid-value: host.edge sets sysctl \"vm.swappiness\" to \"10\\n11\"",
        ]
    );
}

#[test]
fn output_is_deterministic() {
    assert_eq!(emit(BASIC, &[]), emit(BASIC, &[]));
}

#[test]
fn pool_sizes_fit_the_containers_of_each_fleet_host() {
    let tree = emit("examples/fleet", &["examples/fleet/fleet-1.json"]);
    let mut daemons = 0;
    for (path, file) in tree.iter().filter(|(p, _)| p.ends_with("/daemon.json")) {
        let d: serde_json::Value = serde_json::from_slice(&file.contents).expect("JSON");
        // 312 or 313 containers + 3 addresses need 512: a /23.
        assert_eq!(d["default-address-pools"][0]["size"], 23, "{path}");
        assert!(d["data-root"].as_str().is_some_and(|r| r.starts_with("/mnt/data0/")), "{path}");
        daemons += 1;
    }
    assert_eq!(daemons, 8);
    let services: usize = tree
        .iter()
        .filter(|(p, _)| p.ends_with("/compose.yaml"))
        .map(|(_, f)| std::str::from_utf8(&f.contents).expect("UTF-8").matches("\n    image: ").count())
        .sum();
    assert_eq!(services, 2_500);
}

#[test]
fn a_host_whose_cloud_init_exceeds_ec2_user_data_is_an_error() {
    let mut spec = String::from(
        "host \"big\" {\n  instance_type = \"x1.32xlarge\"\n  ami = \"ami-1\"\n  zone = \"us-east-1a\"\n  docker {\n    cpu_overcommit = 100\n  }\n}\n",
    );
    for i in 0..4000 {
        spec.push_str(&format!(
            "container \"c{i:04}\" {{\n  image = \"registry.example.com/team/product-{i}:{i}.0.{}\"\n  cpus = 0.25\n  memory = \"64Mi\"\n  env = {{ TOKEN_{i} = \"{:x}\" }}\n}}\n",
            i % 7,
            (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ));
    }
    let dir = berth_tests::TempDir::new("docker-user-data");
    let path = dir.write("main.hcl", spec);
    let (_, diags) = berth_tests::emit(&DockerEmitter::default(), path.to_str().unwrap(), &[]);
    let codes: Vec<&str> = diags.iter().map(|d| d.code.name).collect();
    assert_eq!(codes, vec!["docker::user-data"], "{diags:?}");
}

#[test]
fn output_is_the_same_whatever_the_number_of_threads() {
    let (model, graph) = berth_tests::compile("examples/fleet", &["examples/fleet/fleet-1.json"]);
    let input = EmitInput { model: &model, graph: &graph };
    let (one, _) = DockerEmitter { threads: 1 }.emit(input);
    for threads in [2, 3, 8] {
        let (many, _) = DockerEmitter { threads }.emit(input);
        assert!(one == many, "{threads} threads gave other output than one");
    }
    assert_eq!(one.len(), 8 * 4, "four files for each of the eight hosts");
}

#[test]
fn resources_are_the_objects_of_the_compose_files() {
    use berth_plan::{Resource, as_reference};
    let (model, graph) = berth_tests::compile(BASIC, &[]);
    let resources = crate::resources(EmitInput { model: &model, graph: &graph });
    let summary: Vec<(&str, &str, &[String])> =
        resources.iter().map(|r| (r.address.as_str(), r.kind.as_str(), r.deps.as_slice())).collect();
    let (h1, h2) = ("host.h1:aws_instance".to_owned(), "host.h2:aws_instance".to_owned());
    let front = [h1.clone(), "host.h1:docker_network.front".to_owned()];
    let default1 = [h1.clone(), "host.h1:docker_network.default".to_owned()];
    let default2 = [h2.clone(), "host.h2:docker_network.default".to_owned()];
    let (host1, host2) = ([h1], [h2]);
    assert_eq!(
        summary,
        [
            ("host.h1:docker_network.default", "docker_network", &host1[..]),
            ("host.h1:docker_network.front", "docker_network", &host1[..]),
            ("container.db/0:docker_container", "docker_container", &default1[..]),
            ("container.db/1:docker_container", "docker_container", &default1[..]),
            ("container.db/2:docker_container", "docker_container", &default1[..]),
            ("container.web:docker_container", "docker_container", &front[..]),
            ("host.h2:docker_network.default", "docker_network", &host2[..]),
            ("container.worker:docker_container", "docker_container", &default2[..]),
        ]
    );
    let by = |a: &str| -> &Resource { resources.iter().find(|r| r.address == a).unwrap() };
    let net = by("host.h1:docker_network.front");
    assert_eq!(
        serde_json::Value::Object(net.attrs.clone()),
        serde_json::json!({
            "endpoint": crate::DEFAULT_ENDPOINT,
            "name": "berth_front",
        })
    );
    let web = by("container.web:docker_container");
    assert_eq!(as_reference(&web.attrs["networks"][0]), Some(("host.h1:docker_network.front", "name")));
    let compose = file_text(&emit(BASIC, &[]), "h1/compose.yaml");
    let db1 = by("container.db/1:docker_container");
    for bind in db1.attrs["binds"].as_array().unwrap() {
        assert!(compose.contains(&format!("- {}", bind.as_str().unwrap())), "{bind} not in\n{compose}");
    }
    assert_eq!(db1.attrs["memory"], serde_json::json!(2u64 << 30));
    assert_eq!(web.attrs["healthcheck"], serde_json::json!(["CMD", "curl", "-f", "http://localhost/"]));
    assert_eq!(
        web.attrs["logging"],
        serde_json::json!({"driver": "json-file", "options": {"max-file": "3", "max-size": "10m"}})
    );
    assert!(web.replace_on.iter().any(|a| a == "command"), "a command given later replaces the container");
}

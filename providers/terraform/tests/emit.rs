//! The Terraform target on small specs: names, references, tags, stability when a host is
//! added, and the HCL and JSON files describing the same configuration.

mod common;

use common::{CLOUD, cloud, emit, json_config};
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::template::Element;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Resource types that take tags.
const TAGGED: &[&str] = &[
    "aws_instance",
    "aws_ebs_volume",
    "aws_security_group",
    "aws_eks_cluster",
    "aws_eks_addon",
    "aws_eks_node_group",
    "aws_launch_template",
    "aws_lb",
    "aws_lb_target_group",
    "aws_lb_listener",
];

fn resources(config: &Map<String, Value>) -> &Map<String, Value> {
    config["resource"].as_object().expect("resources")
}

fn names(config: &Map<String, Value>, ty: &str) -> BTreeSet<String> {
    resources(config).get(ty).and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

fn body<'a>(config: &'a Map<String, Value>, ty: &str, name: &str) -> &'a Value {
    resources(config).get(ty).and_then(|t| t.get(name)).unwrap_or_else(|| panic!("no {ty}.{name}"))
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn resources_are_named_after_berth_names() {
    let c = json_config(&cloud("hosts-3"));
    assert_eq!(names(&c, "aws_instance"), set(&["batch", "web_a", "web_c"]));
    assert_eq!(
        names(&c, "aws_ebs_volume"),
        set(&["batch_data", "batch_logs", "web_a_data", "web_a_logs", "web_c_data", "web_c_logs"])
    );
    assert_eq!(names(&c, "aws_volume_attachment"), names(&c, "aws_ebs_volume"));
    assert_eq!(names(&c, "aws_eks_cluster"), set(&["east", "west"]));
    assert_eq!(names(&c, "aws_eks_node_group"), set(&["east_capped", "east_dense", "east_system", "west_work"]));
    assert_eq!(
        names(&c, "aws_launch_template"),
        set(&["east_capped", "east_dense"]),
        "only pools that set kubelet's max-pods"
    );
    assert_eq!(names(&c, "aws_eks_addon"), set(&["east_vpc_cni"]), "the VPC CNI of the cluster with prefix delegation");
    // `west` has no load_balancer block; the forward to a service on it gives it one.
    assert_eq!(names(&c, "aws_lb"), set(&["east", "west"]));
    assert_eq!(names(&c, "aws_lb_target_group"), set(&["api_admin", "api_east", "api_west"]));
    assert_eq!(names(&c, "aws_lb_listener"), names(&c, "aws_lb_target_group"));
    assert_eq!(names(&c, "aws_security_group"), set(&["web_a"]), "only the host a forward reaches");
    assert_eq!(
        names(&c, "aws_security_group_rule"),
        set(&["api_admin", "api_east", "api_west", "gateway", "web_a_egress"])
    );

    let fleet = json_config(&emit("examples/fleet", &["examples/fleet/fleet-1.json"]));
    assert!(names(&fleet, "aws_instance").contains("dh000"));
    assert!(names(&fleet, "aws_eks_node_group").contains("c000_np00"));
    assert!(names(&fleet, "aws_lb_listener").contains("svc_0000"));
}

#[test]
fn cross_resource_values_are_references() {
    let c = json_config(&cloud("hosts-3"));
    let att = body(&c, "aws_volume_attachment", "web_a_logs");
    assert_eq!(att["instance_id"], "${aws_instance.web_a.id}");
    assert_eq!(att["volume_id"], "${aws_ebs_volume.web_a_logs.id}");
    assert_eq!(
        body(&c, "aws_ebs_volume", "web_a_logs")["availability_zone"],
        "${aws_instance.web_a.availability_zone}"
    );
    assert_eq!(body(&c, "aws_instance", "web_a")["vpc_security_group_ids"], json!(["${aws_security_group.web_a.id}"]));
    let ng = body(&c, "aws_eks_node_group", "east_dense");
    assert_eq!(ng["cluster_name"], "${aws_eks_cluster.east.name}");
    assert_eq!(ng["launch_template"]["id"], "${aws_launch_template.east_dense.id}");
    assert_eq!(ng["depends_on"], json!(["aws_eks_addon.east_vpc_cni"]));
    assert_eq!(ng["scaling_config"], json!({"desired_size": 3, "max_size": 6, "min_size": 3}));
    let listener = body(&c, "aws_lb_listener", "api_west");
    assert_eq!(listener["load_balancer_arn"], "${aws_lb.west.arn}");
    assert_eq!(listener["default_action"]["target_group_arn"], "${aws_lb_target_group.api_west.arn}");
    assert_eq!(body(&c, "aws_lb_target_group", "api_west")["vpc_id"], "${aws_eks_cluster.west.vpc_config[0].vpc_id}");
    assert_eq!(
        body(&c, "aws_security_group_rule", "api_west")["security_group_id"],
        "${aws_eks_cluster.west.vpc_config[0].cluster_security_group_id}"
    );
    let gateway = body(&c, "aws_security_group_rule", "gateway");
    assert_eq!(gateway["security_group_id"], "${aws_security_group.web_a.id}");
    assert_eq!(gateway["cidr_blocks"], json!(["10.0.0.0/8"]));
    assert_eq!(gateway["ipv6_cidr_blocks"], json!(["fd00::/8"]));
    // Roles: literals where the spec gives them, variables where it does not.
    assert_eq!(body(&c, "aws_eks_cluster", "east")["role_arn"], "${var.eks_cluster_role_arn}");
    assert_eq!(body(&c, "aws_eks_node_group", "east_system")["node_role_arn"], "${var.eks_node_role_arn}");
    assert_eq!(body(&c, "aws_eks_cluster", "west")["role_arn"], "arn:aws:iam::123456789012:role/west-eks");
    assert!(c["variable"].get("eks_cluster_role_arn").is_some_and(|v| v.get("default").is_none()));
    // Objects outside the first cluster's region use a provider alias.
    assert_eq!(body(&c, "aws_ebs_volume", "batch_logs")["provider"], "aws.us_east_1");
    assert_eq!(body(&c, "aws_lb", "west")["provider"], "aws.eu_central_1");
    assert!(body(&c, "aws_lb", "east").get("provider").is_none());

    // Every reference points at something declared.
    let mut declared: BTreeSet<String> = BTreeSet::new();
    for (ty, named) in resources(&c) {
        declared.extend(named.as_object().unwrap().keys().map(|n| format!("{ty}.{n}")));
    }
    for (ty, named) in c["data"].as_object().unwrap() {
        declared.extend(named.as_object().unwrap().keys().map(|n| format!("data.{ty}.{n}")));
    }
    declared.extend(c["variable"].as_object().unwrap().keys().map(|n| format!("var.{n}")));
    let mut refs = Vec::new();
    collect_refs(&Value::Object(c.clone()), &mut refs);
    assert!(refs.len() > 40);
    for r in refs {
        let parts: Vec<&str> = r.split(['.', '[']).collect();
        let target = if parts[0] == "var" || parts[0] == "data" {
            parts[..2 + usize::from(parts[0] == "data")].join(".")
        } else {
            parts[..2].join(".")
        };
        assert!(declared.contains(&target), "{r} refers to nothing declared");
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Some(inner) = s.strip_prefix("${").and_then(|s| s.strip_suffix('}')).filter(|s| !s.contains('(')) {
                out.push(inner.to_string());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[test]
fn taggable_resources_carry_name_and_address() {
    let c = json_config(&cloud("hosts-3"));
    let tag_chars = |s: &str| s.chars().all(|ch| ch.is_alphanumeric() || " _.:/=+-@".contains(ch));
    let mut seen = 0;
    for (ty, named) in resources(&c) {
        for (name, b) in named.as_object().unwrap() {
            let tags = &b["tags"];
            if !TAGGED.contains(&ty.as_str()) {
                assert!(tags.is_null(), "{ty}.{name} takes no tags");
                continue;
            }
            seen += 1;
            let address = tags["berth:address"].as_str().unwrap_or_else(|| panic!("{ty}.{name} has no berth:address"));
            assert!(tags["Name"].is_string(), "{ty}.{name} has no Name");
            assert!(tag_chars(address), "{ty}.{name}: {address} has characters AWS tags refuse");
        }
    }
    assert!(seen > 20);
    let vol = &body(&c, "aws_ebs_volume", "web_a_logs")["tags"];
    assert_eq!(vol["berth:address"], "host.docker/web-a.volume.logs");
    assert_eq!(vol["team"], "platform", "the host's tags reach its volumes");
    assert_eq!(body(&c, "aws_lb_listener", "api_west")["tags"]["berth:address"], "forward.api@west");
}

/// `new` without the top-level blocks whose label mentions `name`.
fn without_blocks_of(new: &str, name: &str) -> String {
    let mut out = String::with_capacity(new.len());
    let mut chunk = String::new();
    let mut skip = false;
    for line in new.split_inclusive('\n') {
        if line.starts_with(|c: char| c.is_ascii_alphabetic()) && line.trim_end().ends_with('{') {
            skip = line.contains(&format!("\"{name}"))
                && line.split('"').any(|l| l == name || l.starts_with(&format!("{name}_")));
            // The blank line before a dropped block goes with it.
            if skip && chunk == "\n" {
                chunk.clear();
            }
        }
        if !skip {
            out.push_str(&chunk);
            chunk.clear();
            if line == "\n" {
                chunk.push_str(line);
            } else {
                out.push_str(line);
            }
        } else if line == "}\n" {
            skip = false;
        }
    }
    out.push_str(&chunk);
    out
}

#[test]
fn adding_a_host_adds_its_blocks_and_changes_no_other_line() {
    let before = cloud("hosts-3");
    let after = cloud("hosts-4");
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    for (path, old) in &before {
        let new = &after[path];
        if path.ends_with(".tf.json") {
            continue;
        }
        let stripped = without_blocks_of(new, "web_b");
        assert_eq!(&stripped, old, "{path}: adding web-b changed lines beyond its own blocks");
        let added = new.lines().count() - old.lines().count();
        match path.as_str() {
            "hosts.tf" => assert!(added > 30, "hosts.tf gained only {added} lines"),
            "outputs.tf" => assert_eq!(added, 5),
            _ => assert_eq!(added, 0, "{path}"),
        }
    }
    // The JSON files: the same resources, plus web-b's.
    let (old, new) = (json_config(&before), json_config(&after));
    for (ty, named) in resources(&new) {
        for (name, b) in named.as_object().unwrap() {
            match resources(&old).get(ty).and_then(|t| t.get(name)) {
                Some(o) => assert_eq!(o, b, "{ty}.{name} changed"),
                None => assert!(name.starts_with("web_b"), "{ty}.{name} is new"),
            }
        }
    }
}

#[test]
fn emission_is_deterministic() {
    assert_eq!(cloud("hosts-4"), cloud("hosts-4"));
}

#[test]
fn json_and_hcl_describe_the_same_configuration() {
    for (spec, vars) in
        [(CLOUD.to_string(), vec![format!("{CLOUD}/hosts-4.json")]), ("examples/bank-multicluster".to_string(), vec![])]
    {
        let files = emit(&spec, &vars.iter().map(String::as_str).collect::<Vec<_>>());
        let mut stems = 0;
        for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".tf") && !p.contains('/')) {
            let json_text = &files[&format!("json/{path}.json")];
            let from_json: Value = serde_json::from_str(json_text).unwrap();
            assert_eq!(hcl_as_json(text), from_json, "{spec}: {path} and json/{path}.json differ");
            stems += 1;
        }
        assert!(stems >= 5, "{spec}: {stems} files");
    }
}

/// Reads HCL with hcl-edit into the JSON-syntax document it stands for.
fn hcl_as_json(text: &str) -> Value {
    let body = hcl_edit::parser::parse_body(text).unwrap_or_else(|e| panic!("not HCL: {e}\n{text}"));
    Value::Object(body_as_json(&body))
}

/// A body as a JSON object: attributes by name, blocks by type and then label, an array of
/// bodies once a block repeats.
fn body_as_json(body: &Body) -> Map<String, Value> {
    let mut m = Map::new();
    for structure in body {
        match structure {
            Structure::Attribute(a) => {
                m.insert(a.key.as_str().to_string(), expr_as_json(a.key.as_str(), &a.value));
            }
            Structure::Block(b) => {
                let mut slot = m.entry(b.ident.as_str()).or_insert(Value::Null);
                for label in &b.labels {
                    if slot.is_null() {
                        *slot = Value::Object(Map::new());
                    }
                    slot =
                        slot.as_object_mut().expect("labels nest objects").entry(label.as_str()).or_insert(Value::Null);
                }
                let inner = Value::Object(body_as_json(&b.body));
                match slot {
                    Value::Null => *slot = inner,
                    Value::Array(a) => a.push(inner),
                    other => *other = Value::Array(vec![other.take(), inner]),
                }
            }
        }
    }
    m
}

/// An attribute's value as JSON syntax writes it: literals as themselves (strings as
/// templates), other expressions as `"${...}"` templates, except where JSON syntax takes them
/// as plain strings (a variable's `type`, `provider`, `depends_on`).
fn expr_as_json(key: &str, e: &Expression) -> Value {
    match e {
        Expression::Null(_) => Value::Null,
        Expression::Bool(b) => json!(**b),
        Expression::Number(n) => json!(n.as_u64().unwrap_or_else(|| panic!("{key}: not a whole number: {e}"))),
        Expression::String(s) => json!(template(s)),
        Expression::Array(items) => Value::Array(items.iter().map(|i| expr_as_json(key, i)).collect()),
        Expression::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let k = match k {
                        ObjectKey::Ident(i) => i.as_str().to_string(),
                        ObjectKey::Expression(Expression::String(s)) => template(s),
                        other => panic!("{key}: unexpected object key {other:?}"),
                    };
                    (k, expr_as_json(key, v.expr()))
                })
                .collect(),
        ),
        Expression::FuncCall(f) if f.name.name.as_str() == "base64encode" => {
            let args: Vec<&Expression> = f.args.iter().collect();
            let [Expression::HeredocTemplate(heredoc)] = args[..] else { panic!("{key}: base64encode of {e}") };
            let text: String = heredoc
                .template
                .iter()
                .map(|element| match element {
                    Element::Literal(l) => l.as_str(),
                    _ => panic!("{key}: the heredoc is not plain text: {e}"),
                })
                .collect();
            json!(format!("${{base64encode({})}}", Expression::from(text)))
        }
        _ if matches!(key, "type" | "provider" | "depends_on") => json!(e.to_string().trim()),
        _ => json!(format!("${{{}}}", e.to_string().trim())),
    }
}

/// A literal string as a JSON template: `${` and `%{` doubled.
fn template(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

#[test]
fn only_files_with_blocks_are_written() {
    let files = emit("examples/esw-central", &[]);
    let stems: BTreeSet<&str> = files.keys().filter(|p| !p.contains('/')).map(String::as_str).collect();
    // Central's cluster has no load balancer and nothing forwarded.
    assert_eq!(stems, ["clusters.tf", "hosts.tf", "outputs.tf", "variables.tf", "versions.tf"].into_iter().collect());
    let counts: BTreeMap<&str, usize> = ["aws_instance", "aws_ebs_volume", "aws_eks_node_group"]
        .into_iter()
        .map(|t| {
            (
                t,
                files["hosts.tf"].matches(&format!("resource \"{t}\"")).count()
                    + files["clusters.tf"].matches(&format!("resource \"{t}\"")).count(),
            )
        })
        .collect();
    assert_eq!(counts, [("aws_ebs_volume", 8), ("aws_eks_node_group", 1), ("aws_instance", 8)].into_iter().collect());
}

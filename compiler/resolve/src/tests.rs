//! Resolver tests on in-memory specs: language semantics, each with a value that can differ.

use crate::{Inputs, MemoryLoader, Resolved, resolve};
use berth_diag::Sources;
use berth_model::Value;

fn run_files(files: &[(&str, &str)], root: &str, inputs: Inputs) -> (Resolved, Vec<String>) {
    let loader = MemoryLoader { files: files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect() };
    let mut sources = Sources::new();
    let (resolved, diags) = resolve(&loader, &mut sources, root, &inputs);
    let messages = diags.sorted().iter().map(|d| format!("{}: {}", d.code.name, d.message)).collect();
    (resolved.unwrap_or_default(), messages)
}

fn run(spec: &str) -> (Resolved, Vec<String>) {
    run_files(&[("spec.hcl", spec)], "spec.hcl", Inputs::default())
}

fn attr(r: &Resolved, address: &str, name: &str) -> Value {
    let res = r.resources.iter().find(|x| x.address.to_string() == address).unwrap_or_else(|| panic!("no {address}"));
    res.body.attr(name).unwrap_or_else(|| panic!("no {address}.{name}")).value.clone()
}

#[test]
fn for_each_count_and_names() {
    let (r, d) = run(r#"
locals { zones = { a = "eu-west-1a", b = "eu-west-1b" } }
host "h" {
  for_each = local.zones
  instance_type = "m6i.large"
  ami = "ami-1"
  zone = each.value
  subnet = "s-${each.key}"
}
environment "e" {
  count = 2
  owner = "o${count.index}"
}
"#);
    assert!(d.is_empty(), "{d:?}");
    let names: Vec<(String, String)> =
        r.resources.iter().map(|x| (x.address.to_string(), x.name.to_string())).collect();
    assert_eq!(
        names,
        vec![
            (r#"host.h["a"]"#.into(), "a".into()),
            (r#"host.h["b"]"#.into(), "b".into()),
            ("environment.e[0]".into(), "e-0".into()),
            ("environment.e[1]".into(), "e-1".into())
        ]
    );
    assert_eq!(attr(&r, r#"host.h["b"]"#, "subnet"), Value::string("s-b"));
    assert_eq!(attr(&r, "environment.e[1]", "owner"), Value::string("o1"));
}

#[test]
fn references_self_nested_iterators_and_computed_attributes() {
    let (r, d) = run(r#"
host "a" {
  instance_type = "m6i.large"
  ami = "ami-1"
  zone = "z"
  volume "v" {
    for_each = { data0 = "/mnt/d0", data1 = "/mnt/d1" }
    device = "/dev/sd${volume.key == "data0" ? "f" : "g"}"
    mount = volume.value
    size = "10Gi"
  }
  docker { data_root = "${self.volume.v["data1"].mount}/docker" }
  tags = { twin = host.b.zone, id = "x" }
}
host "b" {
  instance_type = "m6i.large"
  ami = host.a.ami
  zone = "z2"
  subnet = host.a.volume.v["data0"].device
}
output "id" { value = host.a.id }
"#);
    assert!(d.is_empty(), "{d:?}");
    let a = r.resources.iter().find(|x| x.address.to_string() == "host.a").unwrap();
    let docker = a.body.blocks.iter().find(|b| b.kind == "docker").unwrap();
    assert_eq!(docker.body.attr("data_root").unwrap().value, Value::string("/mnt/d1/docker"));
    let devices: Vec<Value> = a
        .body
        .blocks
        .iter()
        .filter(|b| b.kind == "volume")
        .map(|b| b.body.attr("device").unwrap().value.clone())
        .collect();
    assert_eq!(devices, vec![Value::string("/dev/sdf"), Value::string("/dev/sdg")]);
    assert_eq!(attr(&r, "host.b", "subnet"), Value::string("/dev/sdf"));
    let b = r.resources.iter().find(|x| x.address.to_string() == "host.b").unwrap();
    assert_eq!(b.references.iter().map(ToString::to_string).collect::<Vec<_>>(), vec!["host.a"]);
    assert_eq!(a.references.iter().map(ToString::to_string).collect::<Vec<_>>(), vec!["host.b"]);
    assert_eq!(r.outputs[0].value.to_string(), "host.a.id");
    assert!(r.outputs[0].value.is_unknown());
}

#[test]
fn expressions_templates_and_for() {
    let (r, d) = run(r#"
locals {
  xs = [for i in range(5) : i * 2 if i != 2]
  by_parity = { for i in range(5) : (i % 2 == 0 ? "even" : "odd") => i... }
  inverted = { for k, v in { a = "x", b = "y" } : v => k }
  objs = [{ n = "a" }, { n = "b" }]
  names = local.objs[*].n
  text = "%{ for n in local.names }(${n})%{ endfor }%{ if length(local.xs) > 3 }!%{ else }?%{ endif }"
}
environment "e" {
  owner = jsonencode([local.xs, local.by_parity, local.text, local.inverted])
}
"#);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        attr(&r, "environment.e", "owner"),
        Value::string(r#"[[0,2,6,8],{"even":[0,2,4],"odd":[1,3]},"(a)(b)!",{"x":"a","y":"b"}]"#)
    );
}

#[test]
fn modules_variables_and_outputs() {
    let files = [
        (
            "root/main.hcl",
            r#"
variable "n" { type = number }
module "m" {
  for_each = toset(["x", "y"])
  source = "./mod"
  label = "${each.key}-${var.n}"
}
environment "e" { owner = module.m["y"].upper }
"#,
        ),
        (
            "root/mod/main.hcl",
            r#"
variable "label" { type = string }
output "upper" { value = upper(var.label) }
environment "inner" {
  name = "env-${var.label}"
  owner = "o"
}
"#,
        ),
    ];
    let inputs = Inputs { vars: vec![("n".into(), "7".into())], var_files: Vec::new() };
    let (r, d) = run_files(&files, "root", inputs);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(attr(&r, "environment.e", "owner"), Value::string("Y-7"));
    let inner: Vec<(String, String)> = r
        .resources
        .iter()
        .filter(|x| x.address.label == "inner")
        .map(|x| (x.address.to_string(), x.name.to_string()))
        .collect();
    assert_eq!(
        inner,
        vec![
            (r#"module.m["x"].environment.inner"#.into(), "env-x-7".into()),
            (r#"module.m["y"].environment.inner"#.into(), "env-y-7".into())
        ]
    );
}

#[test]
fn validation_may_read_other_variables() {
    let spec = r#"
variable "hosts" {
  type = number
  default = 2
}
variable "containers" {
  type = number
  default = 700
  validation {
    condition = var.containers <= var.hosts * 320
    error_message = "too many containers per host"
  }
}
"#;
    let (_, d) = run(spec);
    assert_eq!(d, vec![r#"var::validation: variable "containers": too many containers per host"#.to_string()]);
}

#[test]
fn cycles_are_reported_with_their_path() {
    let (_, d) = run(
        "locals {\n  a = local.b + 1\n  b = local.c\n  c = local.a\n}\nenvironment \"e\" { owner = tostring(local.a) }\n",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].starts_with("ref::cycle: cycle: local.a -> local.b -> local.c -> local.a"), "{d:?}");
}

#[test]
fn dangling_references_suggest_the_closest_name() {
    let (_, d) = run("locals { zone = \"a\" }\nenvironment \"e\" { owner = local.zoen }\n");
    assert_eq!(d, vec![r#"ref::unknown: there is no local "zoen""#.to_string()]);
}

#[test]
fn keyed_for_sorts_its_keys_and_names_the_first_repeated_one() {
    let (r, d) = run(r#"
locals { sizes = { for s in ["m", "xl", "l"] : s => length(s) } }
environment "e" {
  owner = jsonencode(local.sizes)
}
"#);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(attr(&r, "environment.e", "owner"), Value::string(r#"{"l":1,"m":1,"xl":2}"#));
    let (_, d) = run(r#"
locals { dup = { for s in ["b", "c", "a", "c", "b"] : s => 1 } }
environment "e" {
  owner = jsonencode(local.dup)
}
"#);
    assert_eq!(d, vec![r#"schema::duplicate-name: the `for` expression makes key "c" twice"#], "{d:?}");
}

#[test]
fn a_for_variable_does_not_reach_into_the_values_it_uses() {
    let (r, d) = run(r#"
variable "region" {
  type = string
  default = "eu-west-1"
}
locals {
  inner = var.region
  picked = [for var in ["q"] : local.inner]
}
environment "e" { owner = local.picked[0] }
"#);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(attr(&r, "environment.e", "owner"), Value::string("eu-west-1"));
}

#[test]
fn an_attribute_alike_in_every_instance_keeps_each_instances_references() {
    let (r, d) = run(r#"
host "h" {
  for_each = { a = "z1", b = "z2" }
  instance_type = "m6i.large"
  ami = "ami-1"
  zone = each.value
  subnet = host.h["a"].zone
  tags = { peer = host.other.zone }
}
host "other" {
  instance_type = "m6i.large"
  ami = "ami-1"
  zone = "z3"
}
"#);
    assert!(d.is_empty(), "{d:?}");
    let references = |address: &str| {
        let res = r.resources.iter().find(|x| x.address.to_string() == address).unwrap();
        res.references.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    assert_eq!(references(r#"host.h["a"]"#), vec!["host.other"]);
    assert_eq!(references(r#"host.h["b"]"#), vec![r#"host.h["a"]"#, "host.other"]);
    assert_eq!(attr(&r, r#"host.h["b"]"#, "subnet"), Value::string("z1"));
}

#[test]
fn a_variable_file_text_is_released_once_bound_unless_a_message_points_into_it() {
    let loader = MemoryLoader {
        files: vec![(
            "spec.hcl".into(),
            "variable \"n\" { type = number }\nenvironment \"e\" {\n  owner = \"o${var.n}\"\n}\n".into(),
        )],
    };
    let resolve_with = |json: &str| {
        let mut sources = Sources::new();
        let file = sources.add("vars.json", json);
        let inputs = Inputs { vars: Vec::new(), var_files: vec![file] };
        let (resolved, diags) = resolve(&loader, &mut sources, "spec.hcl", &inputs);
        let messages: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
        (resolved.unwrap_or_default(), messages, sources.get(file).text().len())
    };
    let (resolved, messages, kept) = resolve_with(r#"{"n": 7}"#);
    assert!(messages.is_empty(), "{messages:?}");
    assert_eq!(attr(&resolved, "environment.e", "owner"), Value::string("o7"));
    assert_eq!(kept, 0, "the text of a bound variable file is dropped");
    let wrong = r#"{"n": "seven"}"#;
    let (_, messages, kept) = resolve_with(wrong);
    assert!(messages.iter().any(|m| m.contains("number")), "{messages:?}");
    assert_eq!(kept, wrong.len(), "a message points into the file: its text stays");
}

#[test]
fn an_iterator_attribute_it_does_not_have_is_named_with_what_it_has() {
    let (_, d) = run(r#"
environment "e" {
  for_each = { a = "x" }
  owner = each.name
}
environment "c" {
  count = 1
  owner = "o${count.value}"
}
"#);
    assert_eq!(d, vec!["ref::unknown: `each` has only `key` and `value`", "ref::unknown: `count` has only `index`"]);
}

#[test]
fn lowered_iterator_fields_and_templates_give_the_general_values_and_messages() {
    let (r, d) = run(r#"
locals {
  items = {
    a = { image = "img:1", mib = 512, on = true, tags = { tier = "web" } }
    b = { image = "img:2", mib = 1.5, on = false, tags = { tier = "db" } }
  }
}
environment "e" {
  for_each = local.items
  owner = each.value.image
  text = "${each.key}:${each.value.mib}Mi:${each.value.on}"
  tier = each.value.tags.tier
  whole = each.value.tags
}
environment "n" {
  count = 2
  owner = "n${count.index}"
  index = count.index
}
"#);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(attr(&r, r#"environment.e["b"]"#, "owner"), Value::string("img:2"));
    assert_eq!(attr(&r, r#"environment.e["a"]"#, "text"), Value::string("a:512Mi:true"));
    assert_eq!(attr(&r, r#"environment.e["b"]"#, "text"), Value::string("b:1.5Mi:false"));
    assert_eq!(attr(&r, r#"environment.e["a"]"#, "tier"), Value::string("web"));
    assert_eq!(attr(&r, r#"environment.e["b"]"#, "whole").to_string(), r#"{tier = "db"}"#);
    assert_eq!(attr(&r, "environment.n[1]", "owner"), Value::string("n1"));
    assert_eq!(attr(&r, "environment.n[1]", "index"), Value::Number(1.0));

    // What a lowered form cannot give is left to the general evaluator, which reports it.
    let (_, d) = run(r#"
environment "bad" {
  for_each = { a = { list = [1], n = 1 } }
  text = "${each.value.list}"
  missing = each.value.nope
  deep = each.value.n.x
  index = count.index
}
"#);
    let expected = [
        "a template can hold strings, numbers and bools",
        "has no attribute `nope`",
        "cannot read attribute `x` of a number",
        "`count` is only defined in a block with `count`",
    ];
    for text in expected {
        assert!(d.iter().any(|m| m.contains(text)), "no {text:?} in {d:?}");
    }
}

#[test]
fn a_keyed_for_reading_its_variables_gives_the_general_entries() {
    let (r, d) = run(r#"
locals {
  list = [{ name = "b", n = 1, tags = { t = "x" } }, { name = "a", n = 2, tags = { t = "y" } }]
  map = { a = { x = 1 }, b = { x = 2 } }
}
environment "e" {
  owner = jsonencode({
    by_name = { for p in local.list : p.name => p.tags.t }
    by_n = { for i, p in local.list : p.n => i }
    swapped = { for k, v in local.map : v.x => k }
    keyed = { for k, v in local.map : k => v }
  })
}
"#);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        attr(&r, "environment.e", "owner"),
        Value::string(
            r#"{"by_n":{"1":0,"2":1},"by_name":{"a":"y","b":"x"},"keyed":{"a":{"x":1},"b":{"x":2}},"swapped":{"1":"a","2":"b"}}"#
        )
    );
    let (_, d) = run(r#"
locals { list = [{ name = "a" }, { name = "b" }, { name = "a" }, { n = 1 }] }
environment "e" { owner = jsonencode({ for p in local.list : p.name => p }) }
"#);
    assert_eq!(d, vec![r#"eval::index: the object has no attribute `name`"#], "{d:?}");
}

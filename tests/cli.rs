//! berth's command line as a user and CI see it: exit codes, both diagnostic formats, every
//! problem reported in one run, atomic output, `fmt`, `graph`, `explain`, `completions`,
//! variables from the command line and from files, and redaction of sensitive values.

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

use berth_tests::{TempDir, berth, root, run, text};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A spec with three distinct errors, at lines 2, 6 and 11.
const THREE_ERRORS: &str = r#"host "a" {
  instance_type = "m5.nope"
  ami           = "ami-1"
  zone          = "us-east-1a"
  subnet        = "subnet-1"
  bogus         = 1
}

container "c" {
  image  = "registry.example/c:1.0"
  cpus   = "lots"
  memory = "1Gi"
}
"#;

/// A spec whose only error is an unknown attribute at line 6, column 3.
const UNKNOWN_ATTRIBUTE: &str = r#"host "a" {
  instance_type = "m5.large"
  ami           = "ami-1"
  zone          = "us-east-1a"
  subnet        = "subnet-1"
  bogus         = 1
}
"#;

/// A spec with one numeric variable `n`.
const NUMBER_VARIABLE: &str = r#"variable "n" {
  type    = number
  default = 1
}
"#;

/// A valid spec laid out badly, with every kind of comment.
const UGLY: &str = "# top comment\n// slash comment\nhost \"a\" {\ninstance_type=\"m5.large\" # trailing comment\n    ami = \"ami-1\"\n  /* block comment */ zone=\"us-east-1a\"\n      subnet        =   \"subnet-1\"\n}\n";

/// The exit code, failing the test if the process was killed by a signal.
fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or_else(|| panic!("berth was killed: {}", out.status))
}

/// Runs `berth --diagnostics json ARGS` and returns its exit code and diagnostics.
fn json_diagnostics(args: &[&str]) -> (i32, Vec<Value>) {
    let out = run(berth().args(["--diagnostics", "json"]).args(args));
    let (stdout, stderr) = text(&out);
    let parsed: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout of berth {args:?} is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    let Value::Array(diags) = parsed else {
        panic!("stdout of berth {args:?} is not a JSON array:\n{stdout}");
    };
    (code(&out), diags)
}

/// The `code` of each diagnostic.
fn codes(diags: &[Value]) -> Vec<&str> {
    diags.iter().map(|d| d["code"].as_str().unwrap_or_else(|| panic!("diagnostic without a code: {d}"))).collect()
}

/// The folders of `examples/`, each with its spec arguments (the folder and the words of its
/// `golden-args` file).
fn examples() -> Vec<(String, Vec<String>)> {
    let dir = root().join("examples");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no examples in {}", dir.display());
    names
        .into_iter()
        .map(|name| {
            let mut args = vec![format!("examples/{name}")];
            if let Ok(words) = fs::read_to_string(dir.join(&name).join("golden-args")) {
                args.extend(words.split_whitespace().map(str::to_string));
            }
            (name, args)
        })
        .collect()
}

/// Every file and folder under `dir` with its contents (empty for folders and for `dir`).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in fs::read_dir(&path).unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display())) {
                pending.push(entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display())).path());
            }
            out.insert(path, Vec::new());
        } else {
            let contents = fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            out.insert(path, contents);
        }
    }
    out
}

/// The names in `dir` that look like berth's staging folders or files.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.contains("berth-tmp"))
        .collect()
}

#[test]
fn exit_codes() {
    let tmp = TempDir::new("exit");
    let bad = tmp.write("bad.hcl", UNKNOWN_ATTRIBUTE);
    let (example, args) = &examples()[0];

    let ok = run(berth().arg("check").args(args));
    assert_eq!(code(&ok), 0, "check of examples/{example}:\n{}", text(&ok).1);
    let failed = run(berth().arg("check").arg(&bad));
    assert_eq!(code(&failed), 1, "check of a spec with an error:\n{}", text(&failed).1);
    let usage = run(berth().args(["check", "--no-such-flag"]).args(args));
    assert_eq!(code(&usage), 2, "an unknown flag:\n{}", text(&usage).1);
}

#[test]
fn json_diagnostics_locate_the_error() {
    let tmp = TempDir::new("json");
    let spec = tmp.write("spec.hcl", UNKNOWN_ATTRIBUTE);
    let (exit, diags) = json_diagnostics(&["check", spec.to_str().expect("temporary paths are UTF-8")]);
    assert_eq!(exit, 1);
    assert_eq!(diags.len(), 1, "one diagnostic expected: {diags:#?}");
    let d = &diags[0];
    assert_eq!(d["code"], "schema::unknown-attribute", "{d:#}");
    assert_eq!(d["severity"], "error", "{d:#}");
    assert_eq!(d["location"]["file"], spec.to_str().expect("temporary paths are UTF-8"), "{d:#}");
    assert_eq!(d["location"]["line"], 6, "{d:#}");
    assert_eq!(d["location"]["column"], 3, "{d:#}");
}

#[test]
fn human_diagnostics_are_plain_text_with_location_and_help() {
    let tmp = TempDir::new("human");
    let spec = tmp.write("spec.hcl", UNKNOWN_ATTRIBUTE);
    // NO_COLOR is set by `berth()`; without it, stderr is still a pipe, not a terminal.
    for no_color in [true, false] {
        let mut cmd = berth();
        if !no_color {
            cmd.env_remove("NO_COLOR");
        }
        let out = run(cmd.arg("check").arg(&spec));
        let (_, stderr) = text(&out);
        assert_eq!(code(&out), 1, "{stderr}");
        assert!(!stderr.contains('\x1b'), "ANSI escape in diagnostics (NO_COLOR set: {no_color}):\n{stderr}");
        assert!(stderr.contains(&format!("{}:6:3", spec.display())), "no file:line:col:\n{stderr}");
        assert!(stderr.contains("schema::unknown-attribute"), "no code:\n{stderr}");
        assert!(stderr.contains("help: `host` takes:"), "no help text:\n{stderr}");
    }
}

#[test]
fn every_error_is_reported_in_one_run() {
    let tmp = TempDir::new("many");
    let spec = tmp.write("spec.hcl", THREE_ERRORS);
    let (exit, diags) = json_diagnostics(&["check", spec.to_str().expect("temporary paths are UTF-8")]);
    assert_eq!(exit, 1);
    let found: BTreeSet<(&str, u64)> =
        diags.iter().map(|d| (d["code"].as_str().unwrap_or(""), d["location"]["line"].as_u64().unwrap_or(0))).collect();
    let expected =
        BTreeSet::from([("catalogue::instance-type", 2), ("schema::unknown-attribute", 6), ("schema::wrong-type", 11)]);
    assert_eq!(found, expected, "{diags:#?}");
    assert_eq!(diags.len(), 3, "{diags:#?}");

    let out = run(berth().arg("check").arg(&spec));
    let (_, stderr) = text(&out);
    assert!(stderr.contains("3 error(s), 0 warning(s)"), "{stderr}");
}

#[test]
fn a_failed_build_leaves_the_output_alone() {
    let tmp = TempDir::new("atomic");
    let (out, secrets) = (tmp.path().join("out"), tmp.path().join("secrets"));
    let (example, args) = &examples()[0];
    let good = run(berth().arg("build").args(args).arg("-o").arg(&out).arg("--secrets-dir").arg(&secrets));
    assert_eq!(code(&good), 0, "build of examples/{example}:\n{}", text(&good).1);
    assert!(out.is_dir(), "the build wrote no {}", out.display());
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new(), "staging left beside OUT after a build");
    let before = snapshot(tmp.path());

    let bad = tmp.write("bad.hcl", THREE_ERRORS);
    let failed = run(berth().arg("build").arg(&bad).arg("-o").arg(&out).arg("--secrets-dir").arg(&secrets));
    assert_eq!(code(&failed), 1, "build of a spec with errors:\n{}", text(&failed).1);
    fs::remove_file(&bad).unwrap_or_else(|e| panic!("cannot remove {}: {e}", bad.display()));
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new(), "staging left beside OUT after a failed build");
    let after = snapshot(tmp.path());
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "a failed build changed which files exist"
    );
    assert!(after == before, "a failed build changed the contents of the output");
}

#[test]
fn fmt_check_lists_unformatted_files_and_changes_nothing() {
    let tmp = TempDir::new("fmt-check");
    let file = tmp.write("ugly.hcl", UGLY);
    let out = run(berth().args(["fmt", "--check"]).arg(&file));
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 1, "fmt --check of an unformatted file:\n{stdout}{stderr}");
    assert!(stdout.lines().any(|l| l == file.to_string_lossy()), "the file is not listed:\n{stdout}");
    assert_eq!(fs::read_to_string(&file).expect("the file is still there"), UGLY, "fmt --check changed the file");
}

#[test]
fn fmt_rewrites_once_and_keeps_comments() {
    let tmp = TempDir::new("fmt");
    let file = tmp.write("ugly.hcl", UGLY);
    let first = run(berth().arg("fmt").arg(&file));
    assert_eq!(code(&first), 0, "fmt:\n{}", text(&first).1);
    let formatted = fs::read_to_string(&file).expect("the file is still there");
    assert_ne!(formatted, UGLY, "fmt did not rewrite the file");
    assert!(formatted.contains("  ami           = \"ami-1\"\n"), "attributes not aligned:\n{formatted}");
    for comment in ["# top comment", "// slash comment", "# trailing comment", "/* block comment */"] {
        assert!(formatted.contains(comment), "fmt dropped {comment:?}:\n{formatted}");
    }

    let second = run(berth().arg("fmt").arg(&file));
    assert_eq!(code(&second), 0, "second fmt:\n{}", text(&second).1);
    assert_eq!(fs::read_to_string(&file).expect("the file is still there"), formatted, "fmt is not idempotent");
    let check = run(berth().args(["fmt", "--check"]).arg(&file));
    assert_eq!(code(&check), 0, "fmt --check after fmt:\n{}", text(&check).0);
}

#[test]
fn examples_are_canonically_formatted() {
    let out = run(berth().args(["fmt", "--check", "examples"]));
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "examples not in canonical format (run `berth fmt examples`):\n{stdout}{stderr}");
}

#[test]
fn graph_renders_every_example_in_every_format() {
    for (example, args) in examples() {
        for (format, start) in [("dot", "digraph"), ("mermaid", "flowchart")] {
            let out = run(berth().args(["graph", "--format", format]).args(&args));
            let (stdout, stderr) = text(&out);
            assert_eq!(code(&out), 0, "graph --format {format} of {example}:\n{stderr}");
            assert!(stdout.starts_with(start), "graph --format {format} of {example} does not start with {start:?}");
        }

        let out = run(berth().args(["graph", "--format", "json"]).args(&args));
        let (stdout, stderr) = text(&out);
        assert_eq!(code(&out), 0, "graph --format json of {example}:\n{stderr}");
        let graph: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("graph --format json of {example} is not JSON: {e}"));
        let nodes: BTreeSet<&str> = graph["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("graph of {example} has no `nodes` array"))
            .iter()
            .map(|n| n.as_str().unwrap_or_else(|| panic!("node of {example} is not a string: {n}")))
            .collect();
        assert!(!nodes.is_empty(), "graph of {example} has no nodes");
        let edges = graph["edges"].as_array().unwrap_or_else(|| panic!("graph of {example} has no `edges` array"));
        for edge in edges {
            for end in ["from", "to"] {
                let node = edge[end].as_str().unwrap_or_else(|| panic!("edge of {example} without `{end}`: {edge}"));
                assert!(nodes.contains(node), "edge of {example} ends at {node:?}, which is not a node: {edge}");
            }
        }
    }
}

#[test]
fn explain_shows_a_code_and_hints_at_unknown_ones() {
    let out = run(berth().args(["explain", "capacity::pods-per-node"]));
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(stdout.starts_with("capacity::pods-per-node: "), "{stdout}");
    assert!(stdout.contains("max-pods") && stdout.contains("\nFix: "), "no explanation and fix:\n{stdout}");

    let typo = run(berth().args(["explain", "capacity::pods-per-nod"]));
    let (_, stderr) = text(&typo);
    assert_ne!(code(&typo), 0, "an unknown code succeeded");
    assert!(stderr.contains("did you mean capacity::pods-per-node?"), "no suggestion:\n{stderr}");

    let unknown = run(berth().args(["explain", "no-such::code"]));
    let (_, stderr) = text(&unknown);
    assert_ne!(code(&unknown), 0, "an unknown code succeeded");
    assert!(stderr.contains("`berth explain` lists them"), "no hint:\n{stderr}");
}

#[test]
fn completions_name_the_binary() {
    let out = run(berth().args(["completions", "bash"]));
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(stdout.contains("berth"), "{stdout}");
}

#[test]
fn var_of_an_undeclared_variable_is_an_error() {
    let tmp = TempDir::new("var");
    let spec = tmp.write("spec.hcl", NUMBER_VARIABLE);
    let (exit, diags) =
        json_diagnostics(&["check", spec.to_str().expect("temporary paths are UTF-8"), "--var", "nope=1"]);
    assert_eq!(exit, 1);
    assert_eq!(codes(&diags), ["var::undeclared"], "{diags:#?}");
}

#[test]
fn var_file_with_a_wrong_type_is_an_error_in_that_file() {
    let tmp = TempDir::new("var-file");
    let spec = tmp.write("spec.hcl", NUMBER_VARIABLE);
    // The variable's name also appears as a nested key, before the top-level one.
    let vars = tmp.write("vars.json", "{\n  \"nn\": {\"n\": 1},\n  \"n\": \"three\"\n}\n");
    let vars = vars.to_str().expect("temporary paths are UTF-8");
    let (exit, diags) =
        json_diagnostics(&["check", spec.to_str().expect("temporary paths are UTF-8"), "--var-file", vars]);
    assert_eq!(exit, 1);
    assert_eq!(codes(&diags), ["var::undeclared", "schema::wrong-type"], "{diags:#?}");
    let at = |d: &Value| (d["location"]["line"].clone(), d["location"]["column"].clone());
    assert_eq!(at(&diags[0]), (2.into(), 3.into()), "{:#}", diags[0]);
    assert_eq!(diags[1]["location"]["file"], vars, "{:#}", diags[1]);
    assert_eq!(at(&diags[1]), (3.into(), 3.into()), "{:#}", diags[1]);
}

#[test]
fn sensitive_values_never_appear_in_diagnostics() {
    const SECRET: &str = "zz9.hushhush";
    const GIVEN: &str = "qq7.whisperwhisper";
    let tmp = TempDir::new("sensitive");
    let spec = tmp.write(
        "spec.hcl",
        format!(
            r#"variable "itype" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}

host "a" {{
  instance_type = var.itype
  ami           = "ami-1"
  zone          = "us-east-1a"
  subnet        = "subnet-1"
}}
"#
        ),
    );
    let given = format!("itype={GIVEN}");
    for (value, vars) in [(SECRET, vec![]), (GIVEN, vec!["--var", given.as_str()])] {
        for format in ["human", "json"] {
            let out = run(berth().args(["--diagnostics", format, "check"]).arg(&spec).args(&vars));
            let (stdout, stderr) = text(&out);
            let all = format!("{stdout}{stderr}");
            assert_eq!(code(&out), 1, "an unknown instance type passed:\n{all}");
            assert!(all.contains("catalogue::instance-type"), "not the expected error:\n{all}");
            assert!(!all.contains(value), "the sensitive value {value:?} is shown ({format}):\n{all}");
            assert!(all.contains("(sensitive)"), "no \"(sensitive)\" in its place ({format}):\n{all}");
        }
    }
}

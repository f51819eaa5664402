//! Bad specs with inline expectations: every case in `tests/bad/` is checked with
//! `berth check CASE --diagnostics json`, and the diagnostics it prints must be exactly the
//! ones its files announce, no more and no fewer.
//!
//! A case is a `*.hcl` file directly in `tests/bad/`, or a subdirectory of it checked as one
//! spec (for modules: its `*.hcl` files at any depth may carry annotations). Annotations are
//! comments:
//!
//! - `# expect: SEVERITY CODE`, trailing the line where the diagnostic's primary location
//!   starts, e.g. `replicas = 1400 # expect: error capacity::pods-per-node`. Several on one line
//!   are separated by `;`: `# expect: error a::b; warning c::d`. A code expected twice on one
//!   line is written twice.
//! - `# expect-nowhere: SEVERITY CODE`, on any line of the case, for a diagnostic without a
//!   location (a problem of the whole run, such as a module cycle).
//! - `# args: ARG...`, on any line: extra command-line arguments for this case, split on
//!   whitespace (for `--var`, which a spec cannot set itself).
//!
//! SEVERITY is `error` or `warning`. The comparison is by multiset of (file, line, severity,
//! code), so every missing and every unexpected diagnostic is listed. Beyond that each case
//! must exit 1 when it expects an error and 0 otherwise, never panic, and give every located
//! diagnostic a message and a help. Together the cases must cover every code `berth explain`
//! lists, except the few in [`NOT_COVERED`].

#![allow(clippy::disallowed_methods, reason = "tests read the spec files")]

use berth_tests::{berth, root, run, text};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Registry codes no case produces, with the reason. Keep it short: a code listed here that a
/// case does produce fails the test, so entries are removed as soon as they are covered.
const NOT_COVERED: &[(&str, &str)] = &[
    // Found while the targets are emitted, which `berth build` does and `berth check` does not.
    ("helm::size", "emitted by `berth build` only"),
    ("docker::user-data", "emitted by `berth build` only"),
    ("certificate::issue", "emitted by `berth build` only"),
    ("apply::iam-role", "emitted by `berth plan` and `berth apply` only (tests/apply.rs)"),
];

/// The issue asks for at least this many bad specs.
const MIN_CASES: usize = 60;

/// One diagnostic as compared: file (None when it has no location), line, severity, code.
type Key = (Option<String>, usize, String, String);

/// What a case's files announce.
#[derive(Default)]
struct Expectations {
    diagnostics: BTreeMap<Key, usize>,
    args: Vec<String>,
    /// Malformed annotations, as failure lines.
    problems: Vec<String>,
}

#[test]
fn bad_specs_report_exactly_their_annotated_diagnostics() {
    let root = root();
    let registry = registry_codes();
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    let cases = cases(&root.join("tests/bad"));
    for case in &cases {
        let expected = expectations(&root, case);
        covered.extend(expected.diagnostics.keys().map(|k| k.3.clone()));
        failures.extend(expected.problems.iter().cloned());
        failures.extend(check_case(case, &expected));
    }
    if cases.len() < MIN_CASES {
        failures.push(format!("tests/bad: {} cases, the issue asks for at least {MIN_CASES}", cases.len()));
    }
    for code in &covered {
        if !registry.contains(code) {
            failures.push(format!("tests/bad: expects {code}, which is not in the registry (`berth explain`)"));
        }
    }
    for (code, why) in NOT_COVERED {
        if covered.contains(*code) {
            failures.push(format!("tests/bad: {code} is covered now; remove it from NOT_COVERED ({why})"));
        }
        if !registry.contains(*code) {
            failures.push(format!("tests/bad: NOT_COVERED lists {code}, which is not in the registry"));
        }
    }
    let excused: BTreeSet<&str> = NOT_COVERED.iter().map(|(c, _)| *c).collect();
    for code in &registry {
        if !covered.contains(code) && !excused.contains(code.as_str()) {
            failures.push(format!("tests/bad: no case produces {code}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) in {} bad specs:\n{}\n",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The codes `berth explain` lists, one per line as the first column.
fn registry_codes() -> BTreeSet<String> {
    let out = run(berth().arg("explain"));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "berth explain failed:\n{stderr}");
    let codes: BTreeSet<String> =
        stdout.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect();
    assert!(codes.len() > 40, "berth explain listed only {} codes:\n{stdout}", codes.len());
    codes
}

/// The cases in `dir`, as paths relative to the workspace root, sorted.
fn cases(dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut names: Vec<String> =
        entries.map(|e| e.expect("directory entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
        .into_iter()
        .filter(|n| dir.join(n).is_dir() || n.ends_with(".hcl"))
        .map(|n| format!("tests/bad/{n}"))
        .collect()
}

/// The spec files of a case (the file itself, or every `.hcl` file under the directory),
/// relative to the workspace root.
fn case_files(root: &Path, case: &str) -> Vec<String> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<String>) {
        let path = root.join(rel);
        if path.is_file() {
            out.push(rel.to_string());
            return;
        }
        let entries = std::fs::read_dir(&path).unwrap_or_else(|e| panic!("cannot list {rel}: {e}"));
        let mut names: Vec<String> =
            entries.map(|e| e.expect("directory entry").file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        for n in names {
            let child = format!("{rel}/{n}");
            if root.join(&child).is_dir() || n.ends_with(".hcl") {
                walk(root, &child, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, case, &mut out);
    out
}

/// Reads the annotations of every file of a case. Files are read as bytes, so a case may hold
/// text that is not UTF-8.
fn expectations(root: &Path, case: &str) -> Expectations {
    let mut exp = Expectations::default();
    for file in case_files(root, case) {
        let bytes = std::fs::read(root.join(&file)).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        for (i, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            let at = format!("{file}:{}", i + 1);
            if let Some(pos) = line.find("# args:") {
                exp.args.extend(line[pos + "# args:".len()..].split_whitespace().map(str::to_string));
                continue;
            }
            let Some(pos) = line.find("# expect") else { continue };
            let rest = &line[pos + "# expect".len()..];
            let (located, list) = if let Some(list) = rest.strip_prefix(':') {
                (true, list)
            } else if let Some(list) = rest.strip_prefix("-nowhere:") {
                (false, list)
            } else if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
                continue; // prose such as "# expected"
            } else {
                exp.problems.push(format!(
                    "{at}: malformed annotation: write `# expect: SEVERITY CODE` or `# expect-nowhere: SEVERITY CODE`"
                ));
                continue;
            };
            for item in list.split(';') {
                match item.split_whitespace().collect::<Vec<_>>().as_slice() {
                    [severity @ ("error" | "warning"), code] if code.contains("::") => {
                        let key = (
                            located.then(|| file.clone()),
                            if located { i + 1 } else { 0 },
                            (*severity).to_string(),
                            (*code).to_string(),
                        );
                        *exp.diagnostics.entry(key).or_default() += 1;
                    }
                    _ => exp.problems.push(format!(
                        "{at}: malformed expectation {:?}: write `error CODE` or `warning CODE`",
                        item.trim()
                    )),
                }
            }
        }
    }
    exp
}

/// Runs one case and returns its failures, one line each.
fn check_case(case: &str, expected: &Expectations) -> Vec<String> {
    let out = run(berth().args(["check", case, "--diagnostics", "json"]).args(&expected.args));
    let (stdout, stderr) = text(&out);
    let mut failures = Vec::new();
    if out.status.code() == Some(101) || stderr.contains("panicked") {
        return vec![format!("{case}: berth panicked ({}):\n{stderr}", out.status)];
    }
    let diags: Vec<serde_json::Value> = match serde_json::from_str(&stdout) {
        Ok(serde_json::Value::Array(items)) => items,
        _ => {
            return vec![format!(
                "{case}: stdout is not a JSON array of diagnostics ({}):\n{stdout}{stderr}",
                out.status
            )];
        }
    };
    let mut actual: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for d in &diags {
        let field = |name: &str| d[name].as_str().unwrap_or_default().to_string();
        let (code, severity, message) = (field("code"), field("severity"), field("message"));
        let location = &d["location"];
        let file = location["file"].as_str().map(|f| f.trim_start_matches("./").to_string());
        let line = location["line"].as_u64().map_or(0, |l| l as usize);
        if file.is_some() {
            let at = format!("{}:{line}", file.as_deref().unwrap_or_default());
            if message.trim().is_empty() {
                failures.push(format!("{at}: {severity} {code} has an empty message"));
            }
            if d["help"].as_str().is_none_or(|h| h.trim().is_empty()) {
                failures.push(format!("{at}: {severity} {code} has no help: {message}"));
            }
        }
        actual.entry((file, line, severity, code)).or_default().push(message);
    }
    let place = |key: &Key| match &key.0 {
        Some(file) => format!("{file}:{}", key.1),
        None => format!("{case} (no location)"),
    };
    for (key, &want) in &expected.diagnostics {
        let got = actual.get(key).map_or(0, Vec::len);
        if got < want {
            let times = if want - got > 1 { format!(" ({} times)", want - got) } else { String::new() };
            failures.push(format!("{}: missing {} {}{times}", place(key), key.2, key.3));
        }
    }
    for (key, messages) in &actual {
        let want = expected.diagnostics.get(key).copied().unwrap_or(0);
        for message in messages.iter().skip(want) {
            failures.push(format!("{}: unexpected {} {}: {message}", place(key), key.2, key.3));
        }
    }
    let wants_error = expected.diagnostics.keys().any(|k| k.2 == "error");
    let wanted_code = i32::from(wants_error);
    if out.status.code() != Some(wanted_code) {
        failures.push(format!("{case}: exit status {}, expected {wanted_code}", out.status));
    }
    failures
}

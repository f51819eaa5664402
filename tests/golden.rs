//! Every example is a golden test: for `examples/NAME`, the files `berth build` writes, the
//! stderr of `berth check` (`check.txt`) and `berth graph --format text` (`graph.txt`) must
//! equal `golden/NAME/` byte for byte. Extra command-line arguments for an example go in
//! `examples/NAME/golden-args`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p berth-tests --test golden` rewrites `golden/` exactly
//! (stale files and folders removed); review the diff before committing. Without it, a
//! golden folder with no example fails.
//!
//! The same builds also show that output is deterministic (whatever `--threads`), that an unchanged rebuild leaves
//! the output alone, and that no private key reaches the reviewable output.

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

use berth_tests::{TempDir, berth, root, run, text};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Files of a directory tree: path relative to its root (`/`-separated) to contents.
type Tree = BTreeMap<String, Vec<u8>>;

/// The golden file holding the stderr of `berth check` (not build output).
const CHECK_FILE: &str = "check.txt";
/// The golden file holding `berth graph --format text` (not build output).
const GRAPH_FILE: &str = "graph.txt";

/// How many entries of each kind a failure lists before summarising the rest.
const LIST_LIMIT: usize = 20;

/// Whether this run rewrites `golden/` instead of comparing with it.
fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The names of the folders in `examples/`, sorted.
fn examples() -> Vec<String> {
    subdirectories(&root().join("examples"))
}

/// The names of the folders directly inside `dir`, sorted; none if `dir` does not exist.
fn subdirectories(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The spec arguments of an example: its folder, then the words of its `golden-args` file.
fn spec_args(example: &str) -> Vec<String> {
    let mut args = vec![format!("examples/{example}")];
    let extra = root().join("examples").join(example).join("golden-args");
    if let Ok(words) = fs::read_to_string(&extra) {
        args.extend(words.split_whitespace().map(str::to_string));
    }
    args
}

/// Runs `berth build` of an example into `out` and `secrets`, failing the test unless it
/// succeeds; returns its stderr.
fn build(example: &str, out: &Path, secrets: &Path) -> String {
    build_on(example, out, secrets, 0)
}

/// [`build`] with `--threads`, 0 being what the machine offers.
fn build_on(example: &str, out: &Path, secrets: &Path, threads: usize) -> String {
    let args = spec_args(example);
    let output = run(berth()
        .arg("build")
        .args(&args)
        .arg("-o")
        .arg(out)
        .arg("--secrets-dir")
        .arg(secrets)
        .arg("--threads")
        .arg(threads.to_string()));
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "`berth build {}` failed ({}):\n{stderr}", args.join(" "), output.status);
    stderr
}

/// What an example's golden folder should hold, and the secret files its build wrote.
struct Produced {
    golden: Tree,
    secrets: Tree,
}

/// Builds, checks and graphs an example.
fn produce(example: &str) -> Produced {
    let tmp = TempDir::new(example);
    let (out, secrets) = (tmp.path().join("out"), tmp.path().join("secrets"));
    build(example, &out, &secrets);
    let mut golden = read_tree(&out);
    for reserved in [CHECK_FILE, GRAPH_FILE] {
        assert!(
            !golden.contains_key(reserved),
            "`berth build` of {example} wrote {reserved}, which the golden folder keeps for another command"
        );
    }
    let args = spec_args(example);
    let check = run(berth().arg("check").args(&args));
    assert!(check.status.success(), "`berth check {}` failed ({}):\n{}", args.join(" "), check.status, text(&check).1);
    golden.insert(CHECK_FILE.to_string(), check.stderr);
    let graph = run(berth().args(["graph", "--format", "text"]).args(&args));
    assert!(graph.status.success(), "`berth graph {}` failed ({}):\n{}", args.join(" "), graph.status, text(&graph).1);
    golden.insert(GRAPH_FILE.to_string(), graph.stdout);
    Produced { golden, secrets: read_tree(&secrets) }
}

/// Every file under `dir` (none if it does not exist).
fn read_tree(dir: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, tree: &mut Tree) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
            let path = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path();
            if path.is_dir() {
                walk(root, &path, tree);
            } else {
                let rel = path.strip_prefix(root).expect("walked paths are under the root");
                let name = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                tree.insert(name, fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())));
            }
        }
    }
    let mut tree = Tree::new();
    if dir.is_dir() {
        walk(dir, dir, &mut tree);
    }
    tree
}

/// The differences between a golden tree and a produced one, one line each; empty if equal.
fn differences(golden: &Tree, produced: &Tree) -> Vec<String> {
    let missing: Vec<String> = produced.keys().filter(|p| !golden.contains_key(*p)).cloned().collect();
    let extra: Vec<String> = golden.keys().filter(|p| !produced.contains_key(*p)).cloned().collect();
    let differing: Vec<String> = produced
        .iter()
        .filter_map(|(p, new)| {
            golden.get(p).filter(|old| *old != new).map(|old| format!("{p}: {}", first_difference(old, new)))
        })
        .collect();
    let mut lines = Vec::new();
    let mut list = |what: &str, items: Vec<String>| {
        for item in items.iter().take(LIST_LIMIT) {
            lines.push(format!("{what}: {item}"));
        }
        if items.len() > LIST_LIMIT {
            lines.push(format!("{what}: ... and {} more", items.len() - LIST_LIMIT));
        }
    };
    list("missing from golden", missing);
    list("extra in golden", extra);
    list("differs", differing);
    lines
}

/// Where two files first differ: the line number and both lines.
fn first_difference(old: &[u8], new: &[u8]) -> String {
    let (mut old_lines, mut new_lines) = (old.split(|&b| b == b'\n'), new.split(|&b| b == b'\n'));
    let mut number = 1;
    loop {
        match (old_lines.next(), new_lines.next()) {
            (Some(a), Some(b)) if a == b => number += 1,
            (a, b) => return format!("line {number}\n    golden: {}\n    built:  {}", shown(a), shown(b)),
        }
    }
}

/// A line for a failure message, shortened if long.
fn shown(line: Option<&[u8]>) -> String {
    let Some(line) = line else {
        return "<end of file>".to_string();
    };
    let line = String::from_utf8_lossy(line);
    let mut chars = line.chars();
    let head: String = chars.by_ref().take(200).collect();
    if chars.next().is_some() { format!("{head:?}...") } else { format!("{head:?}") }
}

/// Makes `dir` hold exactly `tree`, touching only files that change.
fn rewrite(dir: &Path, tree: &Tree) {
    for stale in read_tree(dir).keys().filter(|p| !tree.contains_key(*p)) {
        let path = dir.join(stale);
        fs::remove_file(&path).unwrap_or_else(|e| panic!("cannot remove {}: {e}", path.display()));
    }
    if dir.is_dir() {
        remove_empty_dirs(dir);
    }
    let current = read_tree(dir);
    for (rel, contents) in tree {
        if current.get(rel) == Some(contents) {
            continue;
        }
        let path = dir.join(rel);
        let parent = path.parent().expect("a golden file has a folder");
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        fs::write(&path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

/// Removes the empty folders below `dir`.
fn remove_empty_dirs(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path();
        if path.is_dir() {
            remove_empty_dirs(&path);
            if fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none()) {
                fs::remove_dir(&path).unwrap_or_else(|e| panic!("cannot remove {}: {e}", path.display()));
            }
        }
    }
}

#[test]
fn every_example_matches_its_golden_folder() {
    let examples = examples();
    assert!(!examples.is_empty(), "no examples found in {}", root().join("examples").display());
    let mut failures = Vec::new();
    for example in &examples {
        let produced = produce(example).golden;
        let dir = root().join("golden").join(example);
        if updating() {
            rewrite(&dir, &produced);
            continue;
        }
        let diffs = differences(&read_tree(&dir), &produced);
        if !diffs.is_empty() {
            failures.push(format!(
                "golden/{example} (`berth build {}`):\n  {}",
                spec_args(example).join(" "),
                diffs.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "output differs from golden/; if the change is intended, run\n  UPDATE_GOLDEN=1 cargo test -p berth-tests --test golden\nand review the diff.\n\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn every_golden_folder_has_an_example() {
    let golden = root().join("golden");
    let examples = examples();
    let orphans: Vec<String> = subdirectories(&golden).into_iter().filter(|g| !examples.contains(g)).collect();
    if updating() {
        for orphan in &orphans {
            let path = golden.join(orphan);
            fs::remove_dir_all(&path).unwrap_or_else(|e| panic!("cannot remove {}: {e}", path.display()));
        }
        return;
    }
    assert!(
        orphans.is_empty(),
        "golden folders without an example in examples/: {}; remove them (UPDATE_GOLDEN=1 does)",
        orphans.join(", ")
    );
}

/// The standard base64 encoding, without padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Text that shows a private key: the PEM label, and the start of a base64-encoded PEM
/// private key (as in a Kubernetes Secret's `data`).
fn private_key_markers() -> Vec<String> {
    let mut markers = vec!["PRIVATE KEY".to_string()];
    for kind in ["", "RSA ", "EC ", "OPENSSH "] {
        let header = format!("-----BEGIN {kind}PRIVATE KEY");
        // Only whole three-byte groups encode the same whatever follows them.
        let whole = header.len() / 3 * 3;
        markers.push(base64(&header.as_bytes()[..whole]));
    }
    markers
}

#[test]
fn base64_matches_the_standard_encoding() {
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"-----BEGIN "), "LS0tLS1CRUdJTiA");
}

/// The longest line of a secret file, if long enough to be found only where the secret was
/// copied (a line of a key's base64 body).
fn fingerprint(secret: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(secret);
    let longest = text.lines().map(str::trim).max_by_key(|l| l.len())?;
    (longest.len() >= 32).then(|| longest.to_string())
}

#[test]
fn no_private_key_reaches_the_golden_files() {
    let markers = private_key_markers();
    let mut leaks = Vec::new();
    for example in examples() {
        let produced = produce(&example);
        let fingerprints: Vec<(&String, String)> =
            produced.secrets.iter().filter_map(|(path, contents)| Some((path, fingerprint(contents)?))).collect();
        for (path, contents) in &produced.golden {
            let contents = String::from_utf8_lossy(contents);
            if let Some(marker) = markers.iter().find(|m| contents.contains(m.as_str())) {
                leaks.push(format!("golden/{example}/{path} contains {marker:?}"));
            }
            for (secret, line) in fingerprints.iter().filter(|(_, line)| contents.contains(line.as_str())) {
                leaks.push(format!("golden/{example}/{path} contains the line {line:?} of the secret file {secret}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets in reviewable output:\n  {}", leaks.join("\n  "));
}

/// Identity and modification time of every file and folder under `dir`, `dir` itself as "".
fn stamps(dir: &Path) -> BTreeMap<String, (u64, i64, i64)> {
    fn walk(root: &Path, path: &Path, out: &mut BTreeMap<String, (u64, i64, i64)>) {
        let meta = fs::symlink_metadata(path).unwrap_or_else(|e| panic!("cannot stat {}: {e}", path.display()));
        let rel = path.strip_prefix(root).expect("walked paths are under the root").to_string_lossy().into_owned();
        out.insert(rel, (meta.ino(), meta.mtime(), meta.mtime_nsec()));
        if meta.is_dir() {
            for entry in fs::read_dir(path).unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display())) {
                walk(root, &entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display())).path(), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn builds_are_deterministic_and_unchanged_rebuilds_touch_nothing() {
    for example in examples() {
        let tmp = TempDir::new(&example);
        let first = tmp.path().join("first");
        build(&example, &first, &tmp.path().join("first.secrets"));
        // Certificates are signed on `--threads` threads: output is the same whatever the number.
        for threads in [1, 3] {
            let other = tmp.path().join(format!("threads-{threads}"));
            build_on(&example, &other, &tmp.path().join(format!("threads-{threads}.secrets")), threads);
            let diffs = differences(&read_tree(&first), &read_tree(&other));
            assert!(
                diffs.is_empty(),
                "two builds of {example} differ (first as golden, the one on {threads} threads as built):\n  {}",
                diffs.join("\n  ")
            );
        }

        let before = stamps(&first);
        let stderr = build(&example, &first, &tmp.path().join("first.secrets"));
        assert!(
            stderr.contains("unchanged"),
            "rebuilding {example} into the same folder did not report \"unchanged\":\n{stderr}"
        );
        let after = stamps(&first);
        let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        let touched: Vec<&String> = paths.into_iter().filter(|p| before.get(*p) != after.get(*p)).collect();
        assert!(
            touched.is_empty(),
            "rebuilding {example} unchanged touched the output (created, removed, replaced or modified): {touched:?}"
        );
    }
}

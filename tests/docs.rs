//! docs/spec.md, the reference of the spec language, checked against the compiler:
//!
//! - every resource kind has a section whose attribute table lists exactly the kind's
//!   attributes, nested blocks and nested blocks' attributes (as `block.attr`), with the right
//!   type and default, and whose computed-attribute table lists exactly its computed ones;
//! - the meta-arguments table lists exactly `META_ATTRS`;
//! - the functions table lists exactly `berth_resolve::functions::names()`, each with a
//!   description and an example;
//! - every diagnostic code `berth explain` lists is in the diagnostics table (`AREA | CODE, ...`);
//! - every ```hcl block starting with `# example: complete` passes `berth check`, and together
//!   they declare every resource kind.

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

use berth_model::schema::{AttrSchema, BlockSchema, Default as Dflt, META_ATTRS, RESOURCES, Ty};
use berth_tests::{berth, root, run, text};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The first line of an example that must pass `berth check` on its own.
const COMPLETE: &str = "# example: complete";

fn spec_md() -> String {
    let path = root().join("docs/spec.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A level-2 section: its title and its lines.
struct Section {
    title: String,
    lines: Vec<String>,
}

/// A markdown table: header cells and rows of cells, backticks removed and trimmed.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Splits the document at `## ` headings outside code fences.
fn sections(doc: &str) -> Vec<Section> {
    let mut out = vec![Section { title: String::new(), lines: Vec::new() }];
    let mut fenced = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        match line.strip_prefix("## ") {
            Some(title) if !fenced => out.push(Section { title: title.trim().to_string(), lines: Vec::new() }),
            _ => out.last_mut().expect("one section at least").lines.push(line.to_string()),
        }
    }
    out
}

/// The section whose title's first word (backticks removed) is `name`.
fn section<'a>(all: &'a [Section], name: &str) -> &'a Section {
    all.iter()
        .find(|s| s.title.replace('`', "").split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("docs/spec.md has no `## {name}` section"))
}

/// The tables of a section (outside code fences; indented tables in list items included).
fn tables(section: &Section) -> Vec<Table> {
    let mut out = Vec::new();
    let mut current: Vec<Vec<String>> = Vec::new();
    let mut fenced = false;
    let mut flush = |current: &mut Vec<Vec<String>>| {
        if current.len() >= 2 {
            let mut rows = std::mem::take(current);
            let header = rows.remove(0);
            rows.remove(0); // the |---| separator
            out.push(Table { header, rows });
        }
        current.clear();
    };
    for line in &section.lines {
        let t = line.trim();
        if t.starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && t.starts_with('|') {
            current.push(cells(t));
        } else {
            flush(&mut current);
        }
    }
    flush(&mut current);
    out
}

/// The cells of a table row; `\|` is a literal pipe.
fn cells(row: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = row.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    if !cell.trim().is_empty() {
        cells.push(cell);
    }
    cells.into_iter().map(|c| c.replace('`', "").trim().to_string()).collect()
}

/// The one table of a section whose first header cell is `first`.
fn table<'a>(tables: &'a [Table], first: &str, section: &str) -> Option<&'a Table> {
    let found: Vec<&Table> = tables.iter().filter(|t| t.header.first().is_some_and(|h| h == first)).collect();
    assert!(found.len() <= 1, "section `{section}` has {} tables headed `{first}`", found.len());
    found.first().copied()
}

/// How the docs name a type in the Type column (the vocabulary of "Value types").
fn type_name(ty: Ty) -> String {
    match ty {
        Ty::String => "string".into(),
        Ty::Integer => "whole number".into(),
        Ty::Number => "number".into(),
        Ty::Bool => "bool".into(),
        Ty::Any => "any".into(),
        Ty::Strings => "list of strings".into(),
        Ty::StringMap => "map of strings".into(),
        Ty::Enum(words) => format!("one of {}", words.join(", ")),
        Ty::Ref(kinds) => format!("reference to {}", kinds.join(" or ")),
        Ty::Refs(kinds) => format!("list of references to {}", kinds.join(" or ")),
        Ty::Cidr => "CIDR".into(),
        Ty::Cidrs => "list of CIDRs".into(),
        Ty::Port => "port".into(),
        Ty::PortMap => "map of ports".into(),
        Ty::Cpu => "CPU quantity".into(),
        Ty::Size => "size".into(),
        Ty::Duration => "duration".into(),
        Ty::Timestamp => "timestamp".into(),
        Ty::Image => "image reference".into(),
        Ty::Objects => "list of objects".into(),
    }
}

/// How the docs write a default in the Default column.
fn default_text(d: Dflt) -> String {
    match d {
        Dflt::Required => "required".into(),
        Dflt::None => "—".into(),
        Dflt::Str(s) => format!("\"{s}\""),
        Dflt::Num(n) => berth_model::format_number(n),
        Dflt::Bool(b) => b.to_string(),
    }
}

/// A row the attribute table of a kind must have.
enum Expected {
    Attr(&'static AttrSchema),
    Block(&'static BlockSchema),
}

/// Checks an attribute table against the expected rows, both ways; problems go to `errors`.
fn check_attribute_table(where_: &str, table: &Table, expected: &BTreeMap<String, Expected>, errors: &mut Vec<String>) {
    if table.header.len() < 4 {
        errors.push(format!("{where_}: the attribute table needs Attribute | Type | Default | Description columns"));
        return;
    }
    let mut documented = BTreeSet::new();
    for row in &table.rows {
        let [name, ty, default, description, ..] = row.as_slice() else {
            errors.push(format!("{where_}: row {row:?} has fewer than 4 cells"));
            continue;
        };
        if !documented.insert(name.clone()) {
            errors.push(format!("{where_}: `{name}` is listed twice"));
        }
        if description.is_empty() {
            errors.push(format!("{where_}: `{name}` has no description"));
        }
        match expected.get(name) {
            None => errors.push(format!("{where_}: `{name}` is documented but not in the schema")),
            Some(Expected::Attr(a)) => {
                let (want_ty, want_default) = (type_name(a.ty), default_text(a.default));
                if *ty != want_ty {
                    errors.push(format!("{where_}: `{name}` has type {ty:?}, the schema says {want_ty:?}"));
                }
                if *default != want_default {
                    errors
                        .push(format!("{where_}: `{name}` has default {default:?}, the schema says {want_default:?}"));
                }
            }
            Some(Expected::Block(b)) => {
                if !ty.starts_with("block") || ty.contains("labelled") != b.labelled {
                    let want = if b.labelled { "block, labelled, ..." } else { "block, ... (no label)" };
                    errors.push(format!("{where_}: nested block `{name}` should have type {want:?}, not {ty:?}"));
                }
            }
        }
    }
    for name in expected.keys().filter(|n| !documented.contains(*n)) {
        errors.push(format!("{where_}: `{name}` is in the schema but not in the attribute table"));
    }
}

#[test]
fn every_kind_attribute_and_nested_block_is_in_its_section() {
    let doc = spec_md();
    let all = sections(&doc);
    let mut errors = Vec::new();
    for kind in RESOURCES {
        let s = section(&all, kind.name);
        let tables = tables(s);
        let where_ = format!("## {}", kind.name);
        let mut expected = BTreeMap::new();
        let mut computed: BTreeSet<String> = kind.computed.iter().map(|c| c.to_string()).collect();
        for a in kind.attrs {
            expected.insert(a.name.to_string(), Expected::Attr(a));
        }
        for b in kind.blocks {
            expected.insert(b.name.to_string(), Expected::Block(b));
            for a in b.attrs {
                expected.insert(format!("{}.{}", b.name, a.name), Expected::Attr(a));
            }
            computed.extend(b.computed.iter().map(|c| format!("{}.{c}", b.name)));
        }
        match table(&tables, "Attribute", &where_) {
            Some(t) => check_attribute_table(&where_, t, &expected, &mut errors),
            None => errors.push(format!("{where_}: no attribute table (first header cell `Attribute`)")),
        }
        let documented: BTreeSet<String> = table(&tables, "Computed attribute", &where_)
            .map(|t| t.rows.iter().filter_map(|r| r.first().cloned()).collect())
            .unwrap_or_default();
        for c in computed.symmetric_difference(&documented) {
            let state = if computed.contains(c) {
                "is computed but not in the computed-attribute table"
            } else {
                "is listed as computed but the schema has no such computed attribute"
            };
            errors.push(format!("{where_}: `{c}` {state}"));
        }
    }
    assert!(errors.is_empty(), "docs/spec.md disagrees with compiler/model/src/schema.rs:\n  {}", errors.join("\n  "));
}

#[test]
fn meta_arguments_are_documented() {
    let doc = spec_md();
    let all = sections(&doc);
    let s = section(&all, "Meta-arguments");
    let tables = tables(s);
    let t = table(&tables, "Attribute", "Meta-arguments").expect("## Meta-arguments has an attribute table");
    let expected = META_ATTRS.iter().map(|a| (a.name.to_string(), Expected::Attr(a))).collect();
    let mut errors = Vec::new();
    check_attribute_table("## Meta-arguments", t, &expected, &mut errors);
    assert!(errors.is_empty(), "docs/spec.md disagrees with META_ATTRS:\n  {}", errors.join("\n  "));
}

#[test]
fn every_function_is_documented() {
    let doc = spec_md();
    let all = sections(&doc);
    let tables = tables(section(&all, "Functions"));
    let t = table(&tables, "Function", "Functions").expect("## Functions has a table headed `Function`");
    let mut errors = Vec::new();
    let mut documented = BTreeSet::new();
    for row in &t.rows {
        let [signature, description, example, ..] = row.as_slice() else {
            errors.push(format!("row {row:?} has fewer than 3 cells"));
            continue;
        };
        let name = signature.split('(').next().unwrap_or_default().trim().to_string();
        if description.is_empty() {
            errors.push(format!("`{name}` has no description"));
        }
        if !example.contains(&format!("{name}(")) {
            errors.push(format!("`{name}` has no example calling it"));
        }
        if !documented.insert(name.clone()) {
            errors.push(format!("`{name}` is listed twice"));
        }
    }
    let names: BTreeSet<String> = berth_resolve::functions::names().iter().map(|n| n.to_string()).collect();
    for n in names.difference(&documented) {
        errors.push(format!("`{n}` is a function but not documented"));
    }
    for n in documented.difference(&names) {
        errors.push(format!("`{n}` is documented but is not a function"));
    }
    assert!(errors.is_empty(), "the functions table of docs/spec.md is out of date:\n  {}", errors.join("\n  "));
}

#[test]
fn every_diagnostic_code_is_listed() {
    let out = run(berth().arg("explain"));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "berth explain failed: {stderr}");
    let doc = spec_md();
    let all = sections(&doc);
    let tables = tables(section(&all, "Diagnostics"));
    let t = table(&tables, "Area", "Diagnostics").expect("## Diagnostics has a table headed `Area`");
    let mut documented = BTreeSet::new();
    for row in &t.rows {
        let [area, codes, ..] = row.as_slice() else { panic!("diagnostics row {row:?} needs Area | Codes") };
        documented.extend(codes.split(',').map(|c| format!("{area}::{}", c.trim())));
    }
    let codes: BTreeSet<String> =
        stdout.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect();
    assert!(!codes.is_empty(), "berth explain listed no codes");
    let missing: Vec<&String> = codes.difference(&documented).collect();
    let stale: Vec<&String> = documented.difference(&codes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "diagnostics table of docs/spec.md: missing {missing:?}, not codes {stale:?}"
    );
}

/// The ```hcl blocks marked complete, with the title of the section they are in.
fn complete_examples(doc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in sections(doc) {
        let mut block: Option<Vec<&str>> = None;
        for line in &s.lines {
            match &mut block {
                None if line.trim_end() == "```hcl" => block = Some(Vec::new()),
                None => {}
                Some(lines) if line.trim_end() == "```" => {
                    if lines.first() == Some(&COMPLETE) {
                        out.push((s.title.clone(), lines.join("\n") + "\n"));
                    }
                    block = None;
                }
                Some(lines) => lines.push(line),
            }
        }
        assert!(block.is_none(), "an ```hcl block in `## {}` is not closed", s.title);
    }
    out
}

#[test]
fn complete_examples_pass_berth_check() {
    let examples = complete_examples(&spec_md());
    assert!(
        examples.len() >= 5,
        "docs/spec.md has {} examples marked `{COMPLETE}`, expected at least 5",
        examples.len()
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("docs-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let mut failures = Vec::new();
    let mut kinds = BTreeSet::new();
    for (i, (title, source)) in examples.iter().enumerate() {
        for line in source.lines() {
            if let Some(kind) = RESOURCES.iter().find(|r| line.starts_with(&format!("{} \"", r.name))) {
                kinds.insert(kind.name);
            }
        }
        let file = dir.join(format!("example-{i:02}.hcl"));
        std::fs::write(&file, source).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        let out = run(berth().arg("check").arg(&file));
        if !out.status.success() {
            let (_, stderr) = text(&out);
            failures.push(format!("example {i} in `## {title}` ({}):\n{stderr}", file.display()));
        }
    }
    assert!(failures.is_empty(), "examples in docs/spec.md fail `berth check`:\n\n{}", failures.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
    let missing: Vec<&str> = RESOURCES.iter().map(|r| r.name).filter(|k| !kinds.contains(k)).collect();
    assert!(missing.is_empty(), "no complete example in docs/spec.md declares {missing:?}");
}

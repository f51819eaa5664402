//! The checks the Terraform target relies on, on the bad specs of `tests/specs/bad/`: each file
//! announces its diagnostics with `# expect: SEVERITY CODE` trailing the line where they start
//! (several separated by `;`), as in the workspace's `tests/bad/`, and the check stage must
//! report exactly those, each with a label and a help.

#![allow(clippy::disallowed_methods, reason = "tests read the spec files")]

use berth_diag::{Severity, Sources};
use berth_resolve::{Inputs, MemoryLoader, resolve};
use std::collections::BTreeMap;

/// (line, severity, code) → how many.
type Found = BTreeMap<(usize, String, String), usize>;

fn expected(text: &str) -> Found {
    let mut out = Found::new();
    for (i, line) in text.lines().enumerate() {
        let Some((_, list)) = line.split_once("# expect: ") else { continue };
        for item in list.split(';') {
            let (severity, code) = item.trim().split_once(' ').expect("SEVERITY CODE");
            *out.entry((i + 1, severity.to_string(), code.to_string())).or_default() += 1;
        }
    }
    out
}

fn reported(name: &str, text: &str) -> Found {
    let loader = MemoryLoader { files: vec![(name.to_string(), text.to_string())] };
    let mut sources = Sources::new();
    let (resolved, mut diags) = resolve(&loader, &mut sources, name, &Inputs::default());
    let resolved = resolved.unwrap_or_else(|| panic!("{name} did not resolve: {diags:?}"));
    let (_, more) = berth_check::check(&resolved, berth_check::CheckContext { now_unix: 0 });
    diags.extend(more);
    let mut out = Found::new();
    for d in diags.iter() {
        let span = d.span.unwrap_or_else(|| panic!("{name}: {} has no location", d.message));
        assert!(d.label.is_some() && d.help.is_some(), "{name}: {} lacks a label or a help", d.message);
        let line = text[..span.start as usize].matches('\n').count() + 1;
        let severity = if d.severity == Severity::Error { "error" } else { "warning" };
        *out.entry((line, severity.to_string(), d.code.name.to_string())).or_default() += 1;
    }
    out
}

#[test]
fn bad_specs_report_exactly_their_annotated_diagnostics() {
    let dir = berth_tests::root().join("providers/terraform/tests/specs/bad");
    let mut paths: Vec<_> =
        std::fs::read_dir(&dir).expect("specs/bad").filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    assert!(paths.len() >= 5);
    let mut failures = Vec::new();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let (want, got) = (expected(&text), reported(&name, &text));
        assert!(!want.is_empty(), "{name} announces nothing");
        if want != got {
            failures.push(format!("{name}: expected {want:?}, reported {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

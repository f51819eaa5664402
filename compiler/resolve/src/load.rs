//! Loading: the root module and, transitively, every module it calls, parsed once each.

use crate::Loader;
use berth_diag::{Diagnostic, Diagnostics, FileId, Sources, codes};
use berth_syntax::span_of;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use std::collections::BTreeMap;

/// Every module of a spec, parsed. `modules[0]` is the root.
pub(crate) struct Program {
    pub modules: Vec<Module>,
}

/// One module directory.
pub(crate) struct Module {
    /// Its directory as written (for relative sources and `path.module`).
    pub dir: String,
    /// Its files, parsed.
    pub files: Vec<(FileId, Body)>,
    /// Module calls by label: the index of the called module.
    pub calls: BTreeMap<String, usize>,
}

/// The prefix that names a stdlib module source.
const STDLIB: &str = "stdlib/";

pub(crate) fn load(loader: &dyn Loader, sources: &mut Sources, root: &str, diags: &mut Diagnostics) -> Option<Program> {
    let root_files = match loader.module_files(root) {
        Ok(files) => files,
        Err(message) => {
            diags.push(
                Diagnostic::error(&codes::IO_READ, None, format!("cannot read {root}: {message}"))
                    .with_help("pass a spec file or a directory of .hcl files"),
            );
            return None;
        }
    };
    let root_dir = match root_files.as_slice() {
        [(path, _)] if path == root.trim_end_matches('/') => parent(path),
        _ => root.trim_end_matches('/').to_string(),
    };
    let mut program = Program { modules: Vec::new() };
    let mut by_dir: BTreeMap<String, usize> = BTreeMap::new();
    by_dir.insert(root_dir.clone(), 0);
    program.modules.push(parse_module(root_dir, root_files, sources, diags));
    // Breadth-first over module calls; each directory is loaded once.
    let mut next = 0;
    while next < program.modules.len() {
        let calls = module_calls(&program.modules[next]);
        for (label, source, _file, span) in calls {
            let Some(source) = source else {
                diags.push(
                    Diagnostic::error(&codes::MODULE_SOURCE, span, format!("module {label:?} has no literal `source`"))
                        .with_label("expected source = \"./path\" or \"stdlib/NAME\"")
                        .with_help("module sources are plain strings, resolved before evaluation"),
                );
                continue;
            };
            let dir = if let Some(name) = source.strip_prefix(STDLIB) {
                format!("<stdlib>/{name}")
            } else {
                join(&program.modules[next].dir, &source)
            };
            if let Some(&index) = by_dir.get(&dir) {
                program.modules[next].calls.insert(label, index);
                continue;
            }
            let files = if let Some(name) = source.strip_prefix(STDLIB) {
                berth_stdlib::modules::files(name)
                    .map(|fs| fs.iter().map(|(n, t)| (format!("<stdlib>/{name}/{n}"), (*t).to_string())).collect())
                    .ok_or_else(|| {
                        format!(
                            "there is no stdlib module {name:?} (there are: {})",
                            berth_stdlib::modules::names().join(", ")
                        )
                    })
            } else {
                loader.module_files(&dir)
            };
            match files {
                Ok(files) => {
                    let index = program.modules.len();
                    by_dir.insert(dir.clone(), index);
                    program.modules[next].calls.insert(label, index);
                    program.modules.push(parse_module(dir, files, sources, diags));
                }
                Err(message) => diags.push(
                    Diagnostic::error(&codes::MODULE_SOURCE, span, format!("module {label:?}: {message}"))
                        .with_label("this source")
                        .with_help("local sources are directories relative to this file, like \"./modules/db\""),
                ),
            }
        }
        next += 1;
    }
    if let Some(cycle) = find_cycle(&program) {
        let names: Vec<&str> = cycle.iter().map(|&m| program.modules[m].dir.as_str()).collect();
        diags.push(
            Diagnostic::error(
                &codes::MODULE_CYCLE,
                None,
                format!("modules call each other in a cycle: {}", names.join(" -> ")),
            )
            .with_help("remove one of the module calls on this path"),
        );
        return None;
    }
    Some(program)
}

fn parse_module(dir: String, files: Vec<(String, String)>, sources: &mut Sources, diags: &mut Diagnostics) -> Module {
    let mut parsed = Vec::new();
    for (name, text) in files {
        let file = sources.add(name, text);
        match berth_syntax::parse(sources, file) {
            Ok(body) => parsed.push((file, body)),
            Err(d) => diags.push(*d),
        }
    }
    Module { dir, files: parsed, calls: BTreeMap::new() }
}

type Call = (String, Option<String>, FileId, berth_diag::Span);

/// The module calls of a module: label, literal source, file, and the span of the source
/// (or of the block when it has none).
fn module_calls(module: &Module) -> Vec<Call> {
    let mut calls = Vec::new();
    for (file, body) in &module.files {
        for block in body.blocks().filter(|b| b.ident.as_str() == "module") {
            let Some(label) = block.labels.first() else { continue };
            let source_expr = source_attr(block);
            let source = source_expr.and_then(|e| e.as_str().map(str::to_string));
            let span = source_expr.map_or_else(|| span_of(*file, &block.ident), |e| span_of(*file, e));
            calls.push((label.as_str().to_string(), source, *file, span));
        }
    }
    calls
}

fn source_attr(block: &Block) -> Option<&Expression> {
    block.body.attributes().find(|a| a.key.as_str() == "source").map(|a| &a.value)
}

fn find_cycle(program: &Program) -> Option<Vec<usize>> {
    fn visit(p: &Program, m: usize, stack: &mut Vec<usize>, done: &mut Vec<bool>) -> Option<Vec<usize>> {
        if let Some(pos) = stack.iter().position(|&s| s == m) {
            let mut cycle = stack[pos..].to_vec();
            cycle.push(m);
            return Some(cycle);
        }
        if done[m] {
            return None;
        }
        stack.push(m);
        for &callee in p.modules[m].calls.values() {
            if let Some(c) = visit(p, callee, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done[m] = true;
        None
    }
    let mut done = vec![false; program.modules.len()];
    visit(program, 0, &mut Vec::new(), &mut done)
}

fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => path[..i].to_string(),
        None => ".".to_string(),
    }
}

/// Joins a relative module source onto a directory, folding `.` and `..`.
fn join(dir: &str, source: &str) -> String {
    if source.starts_with('/') {
        return source.trim_end_matches('/').to_string();
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    let absolute = dir.starts_with('/');
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn join_folds_dots() {
        assert_eq!(join("examples/bank", "./modules/db"), "examples/bank/modules/db");
        assert_eq!(join("examples/bank/modules/db", "../../shared"), "examples/bank/shared");
        assert_eq!(join(".", "./m"), "m");
        assert_eq!(join("/abs/x", "../y"), "/abs/y");
    }
}

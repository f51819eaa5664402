//! The file system side of the resolver: module directories and variable files.

use berth_resolve::Loader;
use std::path::Path;

/// Reads spec files from disk.
pub struct FsLoader;

impl Loader for FsLoader {
    fn module_files(&self, path: &str) -> Result<Vec<(String, String)>, String> {
        let p = Path::new(path);
        if p.is_file() {
            return std::fs::read_to_string(p).map(|t| vec![(path.to_string(), t)]).map_err(|e| e.to_string());
        }
        let entries = std::fs::read_dir(p).map_err(|e| e.to_string())?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".hcl"))
            .collect();
        names.sort();
        if names.is_empty() {
            return Err("no .hcl files there".to_string());
        }
        let dir = path.trim_end_matches('/');
        names
            .into_iter()
            .map(|n| {
                let full = format!("{dir}/{n}");
                std::fs::read_to_string(&full).map(|t| (full, t)).map_err(|e| e.to_string())
            })
            .collect()
    }
}

/// Every `.hcl` file under the given paths (directories recursively), sorted.
pub fn spec_files(paths: &[String]) -> Result<Vec<String>, String> {
    fn walk(dir: &Path, out: &mut Vec<String>) -> Result<(), String> {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "hcl") {
                out.push(p.to_string_lossy().into_owned());
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        let p = Path::new(path);
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(path.clone());
        } else {
            return Err(format!("{path}: no such file or directory"));
        }
    }
    Ok(out)
}

//! One spec layer as a reproducible tar: the files it copies and generates, their parent
//! directories, in path order, owned by root, with fixed modes and the time 0.

use crate::error::Error;
use crate::relative_dest;
use berth_model::Layer;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// The time of every entry: the Unix epoch, as `SOURCE_DATE_EPOCH=0` would give.
const MTIME: u64 = 0;

/// What one path of the layer is.
enum Node<'a> {
    /// A directory (mode 0755).
    Dir,
    /// A file copied from the spec's directory: mode 0755 if the source is executable by
    /// anyone, else 0644.
    File { source: PathBuf, size: u64, executable: bool },
    /// A generated file (mode 0644).
    Text(&'a str),
    /// A symbolic link found inside a copied directory.
    Symlink(PathBuf),
}

/// Writes the tar of `layer` to `out`, reading its `files` relative to `spec_dir`.
pub(crate) fn write_tar(layer: &Layer, spec_dir: &Path, out: impl Write) -> Result<(), Error> {
    let nodes = collect(layer, spec_dir)?;
    let mut builder = tar::Builder::new(out);
    for (path, node) in &nodes {
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(MTIME);
        header.set_size(0);
        let written = match node {
            Node::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                builder.append_data(&mut header, format!("{path}/"), io::empty())
            }
            Node::File { source, size, executable } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(if *executable { 0o755 } else { 0o644 });
                header.set_size(*size);
                let file = fs::File::open(source).map_err(Error::io(source))?;
                builder.append_data(&mut header, path, Exact { inner: file, left: *size })
            }
            Node::Text(text) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(text.len() as u64);
                builder.append_data(&mut header, path, text.as_bytes())
            }
            Node::Symlink(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                builder.append_link(&mut header, path, target)
            }
        };
        written.map_err(|e| match node {
            Node::File { source, .. } => Error::Io { path: source.clone(), source: e },
            _ => Error::Unbuildable(format!("layer {:?}: /{path}: {e}", layer.name)),
        })?;
    }
    builder.into_inner().map_err(|e| Error::Unbuildable(format!("layer {:?}: {e}", layer.name)))?;
    Ok(())
}

/// Every path of the layer (relative, without slashes at either end) and what it is.
fn collect<'a>(layer: &'a Layer, spec_dir: &Path) -> Result<BTreeMap<String, Node<'a>>, Error> {
    let mut nodes = BTreeMap::new();
    let conflict = |path: &str| Error::Unbuildable(format!("layer {:?} writes /{path} twice", layer.name));
    for (dest, src) in &layer.files {
        let source = source_path(spec_dir, src).ok_or_else(|| {
            Error::Unbuildable(format!(
                "layer {:?}: the source {src:?} must be a path inside the spec's directory",
                layer.name
            ))
        })?;
        let target = checked_dest(layer, dest)?;
        let meta = fs::metadata(&source).map_err(Error::io(&source))?;
        if meta.is_dir() {
            if !target.is_empty() {
                insert(&mut nodes, target.clone(), Node::Dir).map_err(|p| conflict(&p))?;
            }
            walk(&source, &target, &mut nodes).map_err(|e| match e {
                Walk::Io(e) => e,
                Walk::Conflict(p) => conflict(&p),
            })?;
        } else {
            let name = source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let path = if dest.ends_with('/') { join(&target, &name) } else { target };
            if path.is_empty() {
                return Err(Error::Unbuildable(format!("layer {:?}: a file cannot be copied to /", layer.name)));
            }
            insert(&mut nodes, path, file_node(source, &meta)).map_err(|p| conflict(&p))?;
        }
    }
    for (dest, text) in &layer.content {
        let path = checked_dest(layer, dest)?;
        if path.is_empty() || dest.ends_with('/') {
            return Err(Error::Unbuildable(format!(
                "layer {:?}: generated content needs a file path, not {dest:?}",
                layer.name
            )));
        }
        insert(&mut nodes, path, Node::Text(text)).map_err(|p| conflict(&p))?;
    }
    let paths: Vec<String> = nodes.keys().cloned().collect();
    for path in paths {
        let mut parent = path.as_str();
        while let Some((up, _)) = parent.rsplit_once('/') {
            insert(&mut nodes, up.to_string(), Node::Dir).map_err(|p| conflict(&p))?;
            parent = up;
        }
    }
    Ok(nodes)
}

/// Adds a node; two directories at one path are one. Errs with the path on a clash.
fn insert<'a>(nodes: &mut BTreeMap<String, Node<'a>>, path: String, node: Node<'a>) -> Result<(), String> {
    match nodes.get(&path) {
        None => {
            nodes.insert(path, node);
            Ok(())
        }
        Some(Node::Dir) if matches!(node, Node::Dir) => Ok(()),
        Some(_) => Err(path),
    }
}

/// Why a directory walk stopped.
enum Walk {
    /// Reading failed.
    Io(Error),
    /// A path was written twice.
    Conflict(String),
}

/// Adds everything under the directory `dir` below `dest`; symbolic links stay links.
fn walk<'a>(dir: &Path, dest: &str, nodes: &mut BTreeMap<String, Node<'a>>) -> Result<(), Walk> {
    for entry in fs::read_dir(dir).map_err(|e| Walk::Io(Error::io(dir)(e)))? {
        let entry = entry.map_err(|e| Walk::Io(Error::io(dir)(e)))?;
        let source = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| Walk::Io(Error::Unbuildable(format!("{} is not UTF-8", source.display()))))?;
        let path = join(dest, &name);
        let meta = fs::symlink_metadata(&source).map_err(|e| Walk::Io(Error::io(&source)(e)))?;
        let node = if meta.file_type().is_symlink() {
            Node::Symlink(fs::read_link(&source).map_err(|e| Walk::Io(Error::io(&source)(e)))?)
        } else if meta.is_dir() {
            walk(&source, &path, nodes)?;
            Node::Dir
        } else if meta.is_file() {
            file_node(source, &meta)
        } else {
            return Err(Walk::Io(Error::Unbuildable(format!(
                "{} is neither a file, a directory nor a symbolic link",
                source.display()
            ))));
        };
        insert(nodes, path, node).map_err(Walk::Conflict)?;
    }
    Ok(())
}

fn file_node<'a>(source: PathBuf, meta: &fs::Metadata) -> Node<'a> {
    Node::File { source, size: meta.len(), executable: meta.permissions().mode() & 0o111 != 0 }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

/// A destination as a relative path; it must be absolute and free of `.` and `..`.
fn checked_dest(layer: &Layer, dest: &str) -> Result<String, Error> {
    if !dest.starts_with('/') || dest.split('/').any(|c| c == "." || c == "..") {
        return Err(Error::Unbuildable(format!(
            "layer {:?}: the destination {dest:?} must be an absolute path without . or ..",
            layer.name
        )));
    }
    Ok(relative_dest(dest))
}

/// A source below the spec's directory: relative, without `..`, and not a link that leads out
/// of it (links inside a copied directory are archived as links, never followed).
fn source_path(spec_dir: &Path, src: &str) -> Option<PathBuf> {
    let rel = Path::new(src);
    let inside = !src.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside {
        return None;
    }
    let path = spec_dir.join(rel);
    match (path.canonicalize(), spec_dir.canonicalize()) {
        (Ok(real), Ok(root)) => real.starts_with(root).then_some(path),
        // A missing source is reported by the read that follows, naming the file.
        _ => Some(path),
    }
}

/// A reader of exactly `left` more bytes: a file that shrinks while it is archived fails
/// the build instead of corrupting the tar.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank while it was archived"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

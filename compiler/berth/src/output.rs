//! Writing generated files: the output directory is replaced as a whole, atomically, so a
//! failed or interrupted build never leaves it half-written; an unchanged tree is left alone.

use berth_model::OutputTree;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What a write did.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// The directory already held exactly these files; nothing was touched.
    Unchanged,
    /// The directory was replaced.
    Replaced,
}

/// Replaces `out` with the reviewable files of `tree`, and `secrets` with its secret files
/// (mode 0600), each atomically.
pub fn write_tree(tree: &OutputTree, out: &Path, secrets: &Path) -> std::io::Result<Written> {
    let public: Vec<(&str, &[u8])> =
        tree.iter().filter(|(_, f)| !f.secret).map(|(p, f)| (p, f.contents.as_slice())).collect();
    let secret: Vec<(&str, &[u8])> =
        tree.iter().filter(|(_, f)| f.secret).map(|(p, f)| (p, f.contents.as_slice())).collect();
    let written = replace_dir(out, &public, 0o644)?;
    if !secret.is_empty() {
        replace_dir(secrets, &secret, 0o600)?;
    }
    Ok(written)
}

fn replace_dir(out: &Path, files: &[(&str, &[u8])], mode: u32) -> std::io::Result<Written> {
    if same_tree(out, files) {
        return Ok(Written::Unchanged);
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let name = out.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.berth-tmp-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    let result = (|| {
        // Directories first, each once (files come in path order); then the files, on every
        // core, since creating thousands of small files is most of a fresh build's write.
        let mut made: std::collections::HashSet<&Path> = std::collections::HashSet::new();
        for (path, _) in files {
            if let Some(dir) = Path::new(path).parent()
                && made.insert(dir)
            {
                fs::create_dir_all(staging.join(dir))?;
            }
        }
        each_in_parallel(files, |(path, contents)| {
            let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(staging.join(path))?;
            f.write_all(contents)
        })?;
        if mode == 0o600 {
            fs::set_permissions(&staging, fs::Permissions::from_mode(0o700))?;
        }
        swap_in(&staging, out)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result.map(|()| Written::Replaced)
}

/// Puts `staging` at `out`: an atomic exchange when `out` exists, else a rename.
fn swap_in(staging: &Path, out: &Path) -> std::io::Result<()> {
    if !out.exists() {
        return fs::rename(staging, out);
    }
    match rustix::fs::renameat_with(rustix::fs::CWD, staging, rustix::fs::CWD, out, rustix::fs::RenameFlags::EXCHANGE) {
        Ok(()) => fs::remove_dir_all(staging),
        Err(_) => {
            // No RENAME_EXCHANGE on this file system: move the old tree aside first.
            let old: PathBuf = staging.with_extension("old");
            fs::rename(out, &old)?;
            fs::rename(staging, out)?;
            fs::remove_dir_all(old)
        }
    }
}

fn same_tree(out: &Path, files: &[(&str, &[u8])]) -> bool {
    if !out.is_dir() {
        return false;
    }
    let mut existing = Vec::new();
    if collect(out, out, &mut existing).is_err() || existing.len() != files.len() {
        return false;
    }
    existing.sort();
    let mut wanted: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
    wanted.sort_unstable();
    existing.iter().map(String::as_str).eq(wanted.iter().copied())
        && each_in_parallel(files, |(p, c)| {
            if fs::read(out.join(p))? == *c { Ok(()) } else { Err(std::io::ErrorKind::InvalidData.into()) }
        })
        .is_ok()
}

/// Runs `work` on every item, the items split over the machine's cores; the first error wins.
fn each_in_parallel<T: Sync>(items: &[T], work: impl Fn(&T) -> std::io::Result<()> + Sync) -> std::io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8);
    let chunk = items.len().div_ceil(threads).max(64);
    std::thread::scope(|scope| {
        let running: Vec<_> = items.chunks(chunk).map(|part| scope.spawn(|| part.iter().try_for_each(&work))).collect();
        running.into_iter().try_for_each(|t| t.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(root, &p, out)?;
        } else {
            out.push(p.strip_prefix(root).map_err(std::io::Error::other)?.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Writes one file atomically (temporary file, fsync, rename), for `berth fmt`.
pub fn write_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("berth-tmp-{}", std::process::id()));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    if let Ok(meta) = fs::metadata(path) {
        fs::set_permissions(&tmp, meta.permissions())?;
    }
    fs::rename(&tmp, path)
}

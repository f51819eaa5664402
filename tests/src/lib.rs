//! Helpers shared by berth's end-to-end tests: where the workspace is and how to run the
//! `berth` binary (built by `cargo build -p berth` before the tests run).

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_path_buf()
}

/// The `berth` binary: `$BERTH_BIN`, else the workspace's debug build.
pub fn berth_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BERTH_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let bin = target.join("debug").join("berth");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p berth` first (the README's test command does)",
        bin.display()
    );
    bin
}

/// A `berth` command run from the workspace root, with a fixed clock and no colour.
pub fn berth() -> Command {
    let mut c = Command::new(berth_bin());
    c.current_dir(root()).env("BERTH_NOW", FIXED_NOW).env("NO_COLOR", "1").env_remove("BERTH_DIAGNOSTICS");
    c
}

/// The time every test runs at, so expiry checks are reproducible.
pub const FIXED_NOW: &str = "2026-11-25T00:00:00Z";

/// [`FIXED_NOW`] in seconds since the Unix epoch, for emitters that take the clock as a number.
pub const FIXED_NOW_UNIX: i64 = 1_795_564_800;

/// Runs a command and returns its output, failing the test if it could not start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Reads module files from disk for [`compile`].
struct DiskLoader;

impl berth_resolve::Loader for DiskLoader {
    fn module_files(&self, path: &str) -> Result<Vec<(String, String)>, String> {
        let p = root().join(path);
        if p.is_file() {
            return std::fs::read_to_string(&p).map(|t| vec![(path.to_string(), t)]).map_err(|e| e.to_string());
        }
        let mut names: Vec<String> = std::fs::read_dir(&p)
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".hcl"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| std::fs::read_to_string(p.join(&n)).map(|t| (format!("{path}/{n}"), t)).map_err(|e| e.to_string()))
            .collect()
    }
}

/// Runs the compiler stages on a spec (a path relative to the workspace root, with variable
/// files likewise) at [`FIXED_NOW`], for emitter tests. Panics with the diagnostics if the
/// spec has errors.
pub fn compile(spec: &str, var_files: &[&str]) -> (berth_model::Model, berth_model::ResourceGraph) {
    let mut sources = berth_diag::Sources::new();
    let mut inputs = berth_resolve::Inputs::default();
    for f in var_files {
        let text = std::fs::read_to_string(root().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        inputs.var_files.push(sources.add(*f, text));
    }
    let (resolved, mut diags) = berth_resolve::resolve(&DiskLoader, &mut sources, spec, &inputs);
    let resolved = resolved.unwrap_or_else(|| panic!("{spec} did not load: {diags:?}"));
    let (model, more) = berth_check::check(&resolved, berth_check::CheckContext { now_unix: FIXED_NOW_UNIX });
    diags.extend(more);
    let (graph, more) = berth_graph::build(&model);
    diags.extend(more);
    let errors: Vec<String> =
        diags.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", d.code.name, d.message)).collect();
    assert!(errors.is_empty(), "{spec} has errors: {errors:#?}");
    (model, graph)
}

/// Compiles a spec like [`compile`] and runs one emitter on it: its files and diagnostics.
pub fn emit(
    emitter: &dyn berth_model::Emitter,
    spec: &str,
    var_files: &[&str],
) -> (berth_model::OutputTree, berth_diag::Diagnostics) {
    let (model, graph) = compile(spec, var_files);
    emitter.emit(berth_model::EmitInput { model: &model, graph: &graph })
}

/// One file of an output tree as text; panics, listing the tree, if there is no such file or
/// it is not UTF-8.
pub fn file_text(tree: &berth_model::OutputTree, path: &str) -> String {
    let file = tree
        .get(path)
        .unwrap_or_else(|| panic!("no {path} among {:?}", tree.iter().map(|(p, _)| p).collect::<Vec<_>>()));
    String::from_utf8(file.contents.clone()).unwrap_or_else(|e| panic!("{path} is not UTF-8: {e}"))
}

/// A fresh directory under the system temporary directory, removed when dropped, after
/// anything mounted below it is unmounted (tests that mount there need not clean up).
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates an empty directory whose name holds the process id, a counter and `label`.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("berth-{}-{n}-{label}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("cannot clear {}: {e}", dir.display()));
        }
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file into the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let dir = self.0.to_string_lossy();
        let below = format!("{dir}/");
        let mut points: Vec<&str> =
            mounts.lines().filter_map(|l| l.split(' ').nth(1)).filter(|p| *p == dir || p.starts_with(&below)).collect();
        // The deepest first, so that nothing still holds a mount point being unmounted.
        points.reverse();
        for point in points {
            let _ = Command::new("umount").arg("-l").arg(point).status();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Calls `f` until it returns true, sleeping 200 ms between tries, for at most `limit`.
/// Returns whether it came true; if not, says on stderr that `what` did not happen.
pub fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            eprintln!("{what}: not within {limit:?}");
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The directory of the real tools installed by tests/setup.sh.
pub fn tools() -> PathBuf {
    let dir = std::env::var_os("BERTH_TOOLS").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/berth-tools"),
        PathBuf::from,
    );
    assert!(dir.join("venv/bin/python").exists(), "{} lacks the test tools: run tests/setup.sh", dir.display());
    dir
}

/// Runs a command to its end like [`Command::output`], but for at most `limit`: a tool that
/// hangs fails the test with what it printed instead of stalling CI.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = err.join().unwrap_or_default();
                panic!("{cmd:?} did not finish within {limit:?}:\n{}", String::from_utf8_lossy(&stderr));
            }
        }
    };
    Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_now_unix_is_fixed_now() {
        assert_eq!(berth_check::formats::timestamp_unix(super::FIXED_NOW), Ok(super::FIXED_NOW_UNIX));
    }
}

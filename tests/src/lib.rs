//! Helpers shared by berth's end-to-end tests: where the workspace is and how to run the
//! `berth` binary (built by `cargo build -p berth` before the tests run).

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    assert!(bin.exists(), "{} is missing: run `cargo build -p berth` first (the README's test command does)", bin.display());
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

/// Runs a command and returns its output, failing the test if it could not start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

//! What the backend tests share: state documents that show when they are cut short, and helper
//! processes (this test binary run again) that hold a lock or save in a loop until killed.

use berth_apply::backend::{Backend, LocalBackend, LockInfo, PostgresBackend};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Set in a helper process: what it does (`hold` or `save`), a space, and the backend (`local
/// PATH` or `postgres URL NAME`).
pub const HELPER: &str = "BERTH_APPLY_TEST_HELPER";

/// How long a helper lives at most if nobody kills it.
const HELPER_LIFE: Duration = Duration::from_secs(60);

/// A lock record as a run of `operation` makes it.
pub fn info(operation: &str) -> LockInfo {
    LockInfo::new(operation, jiff::Timestamp::UNIX_EPOCH)
}

/// A state document with this serial, between 100 bytes and 200 KB long depending on it.
pub fn doc(serial: u64) -> Vec<u8> {
    let pad = "x".repeat(usize::try_from(serial * 7919 % 200_000).unwrap() + 100);
    serde_json::to_vec(&serde_json::json!({ "serial": serial, "pad": pad })).unwrap()
}

/// The serial of a document made by [`doc`]; fails the test if the document is not whole.
pub fn serial_of(bytes: &[u8]) -> u64 {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not a whole document ({} bytes): {e}", bytes.len()));
    let serial = value["serial"].as_u64().expect("a serial");
    assert_eq!(bytes, doc(serial), "document {serial} differs from what was saved");
    serial
}

/// The backend a helper's spec names.
fn backend_of(spec: &str) -> Box<dyn Backend> {
    match spec.split(' ').collect::<Vec<_>>()[..] {
        ["local", path] => Box::new(LocalBackend::new(path)),
        ["postgres", url, name] => Box::new(PostgresBackend::new(url, name).unwrap()),
        _ => panic!("unknown backend {spec:?}"),
    }
}

/// The body of a helper process: does what [`HELPER`] says, printing `locked` once it holds the
/// lock and `saved` after its first save, which follows the stored document's serial. Returns at once in an ordinary test run.
pub fn helper_main() {
    let Ok(task) = std::env::var(HELPER) else { return };
    let (what, spec) = task.split_once(' ').expect("what and backend");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let backend = backend_of(spec);
        let mut guard = backend.lock(&info("apply"), Duration::ZERO).await.unwrap();
        println!("locked");
        let deadline = Instant::now() + HELPER_LIFE;
        match what {
            "hold" => tokio::time::sleep(HELPER_LIFE).await,
            "save" => {
                let first = backend.load().await.unwrap().map_or(0, |d| serial_of(&d)) + 1;
                for serial in first.. {
                    if Instant::now() > deadline {
                        break;
                    }
                    guard.save(&doc(serial)).await.unwrap();
                    if serial == first {
                        println!("saved");
                    }
                }
            }
            _ => panic!("unknown helper task {what:?}"),
        }
    });
}

/// A helper process, killed (SIGKILL) when dropped.
pub struct Helper {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Helper {
    /// Starts this test binary again running only `test` (whose body is [`helper_main`]) with
    /// the task `what` on `backend`.
    pub fn start(test: &str, what: &str, backend: &str) -> Self {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new(exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(HELPER, format!("{what} {backend}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Helper { child, lines }
    }

    /// The helper's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the helper prints a line ending in `line`; fails the test if it does not within 30 s.
    pub fn wait_for(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                // libtest may have begun the line with the test's name.
                Ok(l) if l.ends_with(line) => return,
                Ok(_) => {}
                Err(e) => panic!("the helper did not print {line:?}: {e}"),
            }
        }
    }

    /// Kills the helper with SIGKILL and reaps it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

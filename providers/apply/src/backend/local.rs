//! The state in a local file, locked with an open-file-description `fcntl` lock.
//!
//! Beside the state file `S` live `S.lock` (the lock; its contents name the holder), `S.backup`
//! (the document the last save replaced) and, for a moment during a save, `S.tmp`. All are
//! created with mode 0600.

use super::{Backend, BackendError, BoxFuture, LockGuard, LockInfo, backoff};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, fcntl};
use nix::libc;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The state in a file, e.g. `berth.state.json` in the spec's directory.
///
/// The lock is an `F_OFD_SETLK` write lock on the whole of `S.lock`. It belongs to the open file,
/// not to the process, so a second run (or a second backend in the same process) is refused,
/// and the kernel releases it when the holder closes the file or dies, even by `kill -9`. The
/// lock file itself is never removed, so every run locks the same file.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    files: Arc<Files>,
}

#[derive(Debug)]
struct Files {
    state: PathBuf,
    lock: PathBuf,
    backup: PathBuf,
    tmp: PathBuf,
    backup_tmp: PathBuf,
}

impl LocalBackend {
    /// The state in the file at `path` (which need not exist yet); its lock, backup and
    /// temporary files go beside it.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let state = path.into();
        let beside = |suffix: &str| {
            let mut name = OsString::from(state.as_os_str());
            name.push(suffix);
            PathBuf::from(name)
        };
        let files = Files {
            lock: beside(".lock"),
            backup: beside(".backup"),
            tmp: beside(".tmp"),
            backup_tmp: beside(".backup.tmp"),
            state,
        };
        LocalBackend { files: Arc::new(files) }
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.files.state
    }

    /// The lock file, `<state>.lock`.
    pub fn lock_path(&self) -> &Path {
        &self.files.lock
    }

    /// The backup of the previous document, `<state>.backup`.
    pub fn backup_path(&self) -> &Path {
        &self.files.backup
    }
}

impl Backend for LocalBackend {
    fn describe(&self) -> String {
        self.files.state.display().to_string()
    }

    fn lock<'a>(
        &'a self,
        info: &'a LockInfo,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Box<dyn LockGuard>, BackendError>> {
        Box::pin(async move {
            let record = serde_json::to_vec(info).expect("a lock record serialises");
            let deadline = Instant::now() + timeout;
            for attempt in 0.. {
                let (files, record) = (self.files.clone(), record.clone());
                if let Some(file) = blocking(move || try_lock(&files.lock, &record)).await? {
                    return Ok(Box::new(LocalLock { file, files: self.files.clone() }) as Box<dyn LockGuard>);
                }
                match backoff(attempt, deadline) {
                    Some(pause) => tokio::time::sleep(pause).await,
                    None => break,
                }
            }
            let files = self.files.clone();
            let holder = blocking(move || Ok(read_holder(&files.lock))).await?;
            Err(BackendError::Locked { state: self.describe(), holder, waited: timeout })
        })
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, BackendError>> {
        let files = self.files.clone();
        Box::pin(blocking(move || read_if_exists(&files.state)))
    }

    fn load_backup(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, BackendError>> {
        let files = self.files.clone();
        Box::pin(blocking(move || read_if_exists(&files.backup)))
    }
}

/// The held lock: the open lock file. Closing it releases the lock.
struct LocalLock {
    file: File,
    files: Arc<Files>,
}

impl LockGuard for LocalLock {
    fn save<'a>(&'a mut self, bytes: &'a [u8]) -> BoxFuture<'a, Result<(), BackendError>> {
        let (files, bytes) = (self.files.clone(), bytes.to_vec());
        Box::pin(blocking(move || replace(&files, &bytes)))
    }

    fn release(self: Box<Self>) -> BoxFuture<'static, Result<(), BackendError>> {
        drop(self);
        Box::pin(async { Ok(()) })
    }
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        // Clear the record while still holding the lock, so it never names a past holder;
        // closing the file (when the field drops) releases the lock.
        let _ = self.file.set_len(0);
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BackendError> + Send + 'static,
) -> Result<T, BackendError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BackendError::Failed(format!("the state file task did not finish: {e}")))?
}

/// Opens the lock file and tries once to lock it; on success records the holder in it.
fn try_lock(path: &Path, record: &[u8]) -> Result<Option<File>, BackendError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| failed("cannot open the lock file", path, &e))?;
    let whole_file = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    match fcntl(&file, FcntlArg::F_OFD_SETLK(&whole_file)) {
        Ok(_) => {}
        Err(Errno::EAGAIN | Errno::EACCES) => return Ok(None),
        Err(e) => return Err(failed("cannot lock", path, &io::Error::from(e))),
    }
    file.set_len(0)
        .and_then(|()| file.write_all_at(record, 0))
        .map_err(|e| failed("cannot record the lock holder in", path, &e))?;
    Ok(Some(file))
}

/// The holder recorded in the lock file; `None` if it has not written its record yet.
fn read_holder(path: &Path) -> Option<Box<LockInfo>> {
    std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, BackendError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(failed("cannot read the state from", path, &e)),
    }
}

/// Replaces the state file with `bytes` so that it holds the old or the new document whole at
/// every moment, also across a crash or power loss: the new document goes to a temporary file
/// that is flushed to disk, the current one is hard-linked as the backup, the temporary file is
/// renamed over the state, and the directory is flushed.
fn replace(files: &Files, bytes: &[u8]) -> Result<(), BackendError> {
    remove_if_exists(&files.tmp)?;
    let mut tmp = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&files.tmp)
        .map_err(|e| failed("cannot create", &files.tmp, &e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.sync_all())
        .map_err(|e| failed("cannot write the state to", &files.tmp, &e))?;
    drop(tmp);

    remove_if_exists(&files.backup_tmp)?;
    match std::fs::hard_link(&files.state, &files.backup_tmp) {
        Ok(()) => std::fs::rename(&files.backup_tmp, &files.backup)
            .map_err(|e| failed("cannot keep the previous state as", &files.backup, &e))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed("cannot keep the previous state as", &files.backup_tmp, &e)),
    }

    std::fs::rename(&files.tmp, &files.state).map_err(|e| failed("cannot replace the state", &files.state, &e))?;
    let dir = match files.state.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| failed("cannot flush the directory", dir, &e))
}

fn remove_if_exists(path: &Path) -> Result<(), BackendError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(failed("cannot remove the leftover", path, &e)),
        _ => Ok(()),
    }
}

fn failed(what: &str, path: &Path, e: &io::Error) -> BackendError {
    BackendError::Failed(format!(
        "{what} {}: {e}; check that its directory exists, is writable and has room",
        path.display()
    ))
}

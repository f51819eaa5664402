//! State backends: where the state document lives and how one run at a time gets to write it.
//!
//! A backend stores the document as opaque bytes (the caller serialises it and checks its
//! lineage and serial). Writing goes through the [`LockGuard`] that [`Backend::lock`] returns,
//! so only the run holding the lock can save. A lock is released when its guard is released or
//! dropped, and also when the process holding it dies, even by `kill -9`: by the kernel for
//! [`LocalBackend`], by the server ending the session for [`PostgresBackend`].

#[allow(clippy::disallowed_methods, reason = "the local backend reads and writes the state file")]
mod local;
mod postgres;

pub use local::LocalBackend;
pub use postgres::PostgresBackend;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// A boxed future that can be sent between threads, so that [`Backend`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who holds a lock: recorded by the holder, shown to anyone who finds the state locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A random identifier of this lock (32 hex digits).
    pub id: String,
    /// The command that took the lock, such as `apply` or `destroy`.
    pub operation: String,
    /// The user and host that run it, as `user@host`.
    pub who: String,
    /// The process id of the holder on its host.
    pub pid: u32,
    /// When the lock was asked for, in RFC 3339.
    pub created: String,
}

impl LockInfo {
    /// Describes a lock about to be taken by this process for `operation` at `now`, with a fresh
    /// random id.
    pub fn new(operation: &str, now: jiff::Timestamp) -> Self {
        LockInfo {
            id: crate::random_id(now),
            operation: operation.to_string(),
            who: format!("{}@{}", user_name(), host_name()),
            pid: std::process::id(),
            created: now.to_string(),
        }
    }
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, pid {}, since {}, lock id {})", self.operation, self.who, self.pid, self.created, self.id)
    }
}

fn user_name() -> String {
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(user)) => user.name,
        _ => std::env::var("USER").unwrap_or_else(|_| format!("uid {uid}")),
    }
}

fn host_name() -> String {
    nix::unistd::gethostname().map_or_else(|_| "unknown-host".to_string(), |h| h.to_string_lossy().into_owned())
}

/// Why a backend could not do what it was asked.
#[derive(Debug)]
pub enum BackendError {
    /// Another run holds the lock on the state.
    Locked {
        /// The state, as [`Backend::describe`] names it.
        state: String,
        /// The holder, if it has recorded itself yet.
        holder: Option<Box<LockInfo>>,
        /// How long this run waited for the lock.
        waited: Duration,
    },
    /// Reading or writing the state failed; the message says what and where.
    Failed(String),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Locked { state, holder, waited } => {
                let by = holder
                    .as_ref()
                    .map_or_else(|| "another run that has not recorded who it is yet".to_string(), |h| h.to_string());
                if waited.is_zero() {
                    write!(f, "state {state} is locked by {by}; wait for it with --lock-timeout 5m, or ask them")
                } else {
                    write!(
                        f,
                        "state {state} is still locked after waiting {}, by {by}; wait longer with \
                         --lock-timeout, or ask them",
                        human(*waited)
                    )
                }
            }
            BackendError::Failed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BackendError {}

/// A duration as people write it: `300ms`, `45s`, `5m`, `2m30s`.
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (0, 0) => format!("{}ms", d.as_millis()),
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// Where the state lives.
pub trait Backend: Send + Sync {
    /// Names the state for messages, e.g. `/srv/spec/berth.state.json` or
    /// `"prod" in PostgreSQL db@127.0.0.1:5432`.
    fn describe(&self) -> String;

    /// Takes the lock, recording `info` as its holder. If another run holds it, tries again
    /// until `timeout` has passed (at once with zero), then fails with
    /// [`BackendError::Locked`] naming the holder.
    fn lock<'a>(
        &'a self,
        info: &'a LockInfo,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Box<dyn LockGuard>, BackendError>>;

    /// The stored document, or `None` if nothing was ever saved. Needs no lock: a save in
    /// progress never shows, the document read is the previous or the next whole one.
    fn load(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, BackendError>>;

    /// The document that the last save replaced, or `None` if there was none: the way back when
    /// the current one is damaged.
    fn load_backup(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, BackendError>>;
}

/// A held lock: the only way to write the state. Dropping it releases the lock too, without
/// waiting for the release to finish.
pub trait LockGuard: Send {
    /// Replaces the stored document atomically (a reader sees the old or the new one whole,
    /// also after a crash), keeping the replaced one as the backup.
    fn save<'a>(&'a mut self, bytes: &'a [u8]) -> BoxFuture<'a, Result<(), BackendError>>;

    /// Releases the lock and clears the holder's record.
    fn release(self: Box<Self>) -> BoxFuture<'static, Result<(), BackendError>>;
}

/// How long to sleep between tries for a lock: growing from 50 ms to 1 s, never past
/// `deadline`. `None` once the deadline has passed.
fn backoff(attempt: u32, deadline: Instant) -> Option<Duration> {
    let left = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
    let step = Duration::from_millis(50).saturating_mul(1 << attempt.min(5)).min(Duration::from_secs(1));
    Some(step.min(left))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_millis(300)), "300ms");
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(300)), "5m");
        assert_eq!(human(Duration::from_secs(150)), "2m30s");
    }

    #[test]
    fn backoff_grows_to_a_second_and_stops_at_the_deadline() {
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(backoff(0, far), Some(Duration::from_millis(50)));
        assert_eq!(backoff(2, far), Some(Duration::from_millis(200)));
        assert_eq!(backoff(9, far), Some(Duration::from_secs(1)));
        assert_eq!(backoff(0, Instant::now()), None);
        assert!(backoff(9, Instant::now() + Duration::from_millis(100)).unwrap() <= Duration::from_millis(100));
    }

    #[test]
    fn a_lock_info_names_this_process() {
        let a = LockInfo::new("apply", jiff::Timestamp::UNIX_EPOCH);
        let b = LockInfo::new("apply", jiff::Timestamp::UNIX_EPOCH);
        assert_eq!(a.pid, std::process::id());
        assert_eq!(a.created, "1970-01-01T00:00:00Z");
        assert_eq!(a.id.len(), 32);
        assert_ne!(a.id, b.id);
        assert!(a.who.contains('@'), "{}", a.who);
        let shown =
            BackendError::Locked { state: "s.json".into(), holder: Some(Box::new(a.clone())), waited: Duration::ZERO };
        assert_eq!(
            shown.to_string(),
            format!(
                "state s.json is locked by apply ({}, pid {}, since 1970-01-01T00:00:00Z, lock id {}); \
                 wait for it with --lock-timeout 5m, or ask them",
                a.who, a.pid, a.id
            )
        );
    }
}

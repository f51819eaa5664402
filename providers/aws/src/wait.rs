//! Batched waits: every object of a kind waiting at a moment is covered by one round of reads.
//!
//! A waiter keeps the pending waits of its kind in one region. The first wait starts a
//! background poller; each round it reads every pending id together (one Describe call for
//! EC2 objects, chunked by the filter limit, and load balancers; one call per pending object,
//! all at once, for EKS, which has no batch read), settles the waits whose object reached its
//! state, and sleeps: briefly while new waits keep arriving, then twice as long each round up
//! to a ceiling. It stops when nothing is pending.

use crate::api::{Api, ApiError};
use crate::list::by_ids;
use aws_sdk_ec2::types::{Instance, Volume};
use berth_plan::EngineError;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The pause before a round that covers waits not yet polled: long enough to gather a batch.
const FIRST_POLL: Duration = Duration::from_millis(25);

/// The longest pause between two rounds.
const MAX_POLL: Duration = Duration::from_secs(4);

/// What a wait makes of its object in the latest listing.
pub(crate) enum Status {
    /// The object reached the state waited for.
    Done,
    /// Not yet: the state it is in, for the timeout message.
    Pending(String),
    /// It will never get there: why.
    Failed(String),
}

/// A check of one listed object (`None` if the listing did not have it).
pub(crate) type Check<T> = Box<dyn Fn(Option<&T>) -> Status + Send>;

/// A kind of object that can be waited for.
pub(crate) trait Waited: Clone + Send + Sync + 'static {
    /// The waiter of this kind.
    fn waiter(api: &Api) -> &Waiter<Self>;

    /// The objects with these ids that exist, by id, read together.
    fn fetch(api: &Api, ids: Vec<String>) -> impl Future<Output = Result<HashMap<String, Self>, ApiError>> + Send;
}

impl Waited for Instance {
    fn waiter(api: &Api) -> &Waiter<Self> {
        &api.instances
    }

    fn fetch(api: &Api, ids: Vec<String>) -> impl Future<Output = Result<HashMap<String, Self>, ApiError>> + Send {
        by_ids(api, ids)
    }
}

impl Waited for Volume {
    fn waiter(api: &Api) -> &Waiter<Self> {
        &api.volumes
    }

    fn fetch(api: &Api, ids: Vec<String>) -> impl Future<Output = Result<HashMap<String, Self>, ApiError>> + Send {
        by_ids(api, ids)
    }
}

struct Entry<T> {
    id: String,
    check: Check<T>,
    goal: &'static str,
    deadline: Instant,
    polled: bool,
    last: String,
    done: oneshot::Sender<Result<Option<T>, EngineError>>,
}

struct Pending<T> {
    entries: Vec<Entry<T>>,
    running: bool,
}

/// The pending waits of one kind.
pub(crate) struct Waiter<T> {
    what: &'static str,
    pending: Mutex<Pending<T>>,
}

impl<T: Waited> Waiter<T> {
    /// An idle waiter for objects called `what` in messages.
    pub(crate) fn new(what: &'static str) -> Self {
        Self { what, pending: Mutex::new(Pending { entries: Vec::new(), running: false }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending<T>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Waits until `check` says object `id` reached `goal` (e.g. "running"); returns the object as
/// last listed, or `None` if the check accepted its absence.
pub(crate) async fn wait<T: Waited>(
    api: &Arc<Api>,
    id: &str,
    goal: &'static str,
    check: Check<T>,
) -> Result<Option<T>, EngineError> {
    let (tx, rx) = oneshot::channel();
    let start = {
        let mut p = T::waiter(api).lock();
        p.entries.push(Entry {
            id: id.to_owned(),
            check,
            goal,
            deadline: Instant::now() + api.wait_timeout,
            polled: false,
            last: "not listed yet".into(),
            done: tx,
        });
        !std::mem::replace(&mut p.running, true)
    };
    if start {
        tokio::spawn(poll::<T>(Arc::clone(api)));
    }
    rx.await.unwrap_or_else(|_| Err(EngineError::transient("the AWS engine's waiter stopped")))
}

/// The background poller of one kind: runs while waits are pending.
async fn poll<T: Waited>(api: Arc<Api>) {
    let waiter = T::waiter(&api);
    let mut pause = FIRST_POLL;
    loop {
        tokio::time::sleep(pause).await;
        let ids: Vec<String> = {
            let mut p = waiter.lock();
            p.entries
                .iter_mut()
                .map(|e| {
                    e.polled = true;
                    e.id.clone()
                })
                .collect()
        };
        let listed = T::fetch(&api, ids).await.map_err(|e| e.error);
        let mut p = waiter.lock();
        let now = Instant::now();
        let entries = std::mem::take(&mut p.entries);
        for mut e in entries {
            if !e.polled {
                p.entries.push(e);
                continue;
            }
            let outcome = match &listed {
                Ok(map) => {
                    let item = map.get(&e.id);
                    match (e.check)(item) {
                        Status::Done => Some(Ok(item.cloned())),
                        Status::Failed(why) => Some(Err(EngineError::permanent(format!(
                            "{} {} will not become {}: {why}",
                            waiter.what, e.id, e.goal
                        )))),
                        Status::Pending(state) => {
                            e.last = state;
                            None
                        }
                    }
                }
                Err(err) if !err.retryable => Some(Err(err.clone())),
                Err(err) => {
                    e.last = err.message.clone();
                    None
                }
            };
            let outcome = outcome.or_else(|| {
                (now >= e.deadline).then(|| {
                    Err(EngineError::transient(format!(
                        "timed out after {} s waiting for {} {} to become {} (last seen: {})",
                        api.wait_timeout.as_secs(),
                        waiter.what,
                        e.id,
                        e.goal,
                        e.last
                    )))
                })
            });
            match outcome {
                // A dropped receiver means the caller stopped waiting: nothing to tell.
                Some(result) => drop(e.done.send(result)),
                None => p.entries.push(e),
            }
        }
        if p.entries.is_empty() {
            p.running = false;
            return;
        }
        pause = if p.entries.iter().any(|e| !e.polled) { FIRST_POLL } else { (pause * 2).min(MAX_POLL) };
    }
}

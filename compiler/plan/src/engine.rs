//! The interface of an apply engine: the one thing a target implements to create, change, read
//! and delete its objects through a real API. The walk in `berth-apply` drives it; an engine
//! never sees the plan, the state or another engine.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that [`Engine`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an engine is asked to create or update.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The resource address (`host.dh000:aws_instance`).
    pub address: &'a str,
    /// The kind (`aws_instance`).
    pub kind: &'a str,
    /// Desired attributes, every reference already replaced by its value.
    pub attrs: &'a Map<String, Value>,
    /// The state's lineage, for tags and labels.
    pub lineage: &'a str,
    /// An idempotency token, the same for every attempt to create this object in this lineage
    /// (64 hex digits; an API that takes fewer uses a prefix).
    pub token: &'a str,
}

/// An object as an engine reports it after creating, updating or reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The API's id of the object (`i-0abc…`, `ns/kind/name`, a container name).
    pub id: String,
    /// Its attributes in the form of the desired ones, plus outputs (`private_ip`, `arn`).
    pub attrs: Map<String, Value>,
}

/// An object an engine found through berth's tags or labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    /// The resource address from its tag or label.
    pub address: String,
    /// Its kind.
    pub kind: String,
    /// Its id.
    pub id: String,
    /// The lineage of the state that created it, from its tag or label.
    pub lineage: String,
}

/// Why an engine call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    /// What went wrong, in the API's words where it gave some (`InvalidAMIID.NotFound: …`).
    pub message: String,
    /// True if trying again later may succeed (throttling, a server error, a lost connection)
    /// after the engine's own retries ran out.
    pub retryable: bool,
}

impl EngineError {
    /// A failure that will not go away by itself.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: false }
    }

    /// A failure that may go away by itself.
    pub fn transient(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: true }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EngineError {}

/// An apply engine: AWS, Kubernetes or Docker.
///
/// `create` and `update` return only when the object is usable (an instance running, a volume
/// attached). Engines batch their waits and reads: one listing call covers every object of a
/// kind waiting at that moment, never one poll per object.
pub trait Engine: Send + Sync {
    /// The engine's name, as `--only` spells it: `aws`, `kubernetes`, `docker`.
    fn name(&self) -> &'static str;

    /// Creates an object.
    fn create<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Applied, EngineError>>;

    /// Changes an existing object in place.
    fn update<'a>(&'a self, request: Request<'a>, id: &'a str) -> BoxFuture<'a, Result<Applied, EngineError>>;

    /// Deletes an object and returns when it is gone; an object already gone is not an error.
    fn delete<'a>(&'a self, kind: &'a str, id: &'a str) -> BoxFuture<'a, Result<(), EngineError>>;

    /// Reads objects by kind and id, in the order asked; `None` for one that no longer exists.
    fn read<'a>(
        &'a self,
        objects: &'a [(&'a str, &'a str)],
    ) -> BoxFuture<'a, Result<Vec<Option<Applied>>, EngineError>>;

    /// Every object carrying this lineage's tag or label; with `None`, every object carrying
    /// any berth lineage (to tell a lost state from a new one).
    fn find<'a>(&'a self, lineage: Option<&'a str>) -> BoxFuture<'a, Result<Vec<Found>, EngineError>>;

    /// API calls made so far by call name (`RunInstances`), retries under `retries`.
    fn calls(&self) -> BTreeMap<String, u64>;
}

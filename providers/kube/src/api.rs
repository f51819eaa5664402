//! Clients per cluster, created on first use from the kubeconfig context of the cluster's
//! name (`KUBECONFIG` honoured, several files joined), each with its own concurrency limit;
//! every API call counted per verb and kind and retried with jittered backoff while the API
//! is throttling, failing on its side or unreachable.

use berth_plan::EngineError;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, Semaphore};

/// Attempts per call, the first one included.
const MAX_ATTEMPTS: u32 = 6;

/// The first retry waits up to this long; each next one twice as long, up to [`MAX_DELAY`].
const BASE_DELAY: Duration = Duration::from_millis(200);

/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// One cluster: its client and its limit on calls in flight.
pub(crate) struct Cluster {
    /// The kubeconfig context that reaches it.
    pub(crate) context: String,
    /// The API client.
    pub(crate) client: Client,
    limit: Semaphore,
}

/// The clients of every cluster reached so far, and the call counts.
pub(crate) struct Clusters {
    concurrency: usize,
    files: Vec<PathBuf>,
    kubeconfig: OnceCell<Kubeconfig>,
    clusters: Mutex<HashMap<String, Arc<OnceCell<Arc<Cluster>>>>>,
    calls: Mutex<BTreeMap<String, u64>>,
}

impl Clusters {
    /// No clients yet; at most `concurrency` calls in flight per cluster; the kubeconfig from
    /// `files`, joined in order, or if none from `$KUBECONFIG`, else `~/.kube/config`.
    pub(crate) fn new(concurrency: usize, files: Vec<PathBuf>) -> Self {
        Self {
            concurrency: concurrency.max(1),
            files,
            kubeconfig: OnceCell::new(),
            clusters: Mutex::new(HashMap::new()),
            calls: Mutex::new(BTreeMap::new()),
        }
    }

    /// The cluster of a kubeconfig context, its client made on first use.
    pub(crate) async fn get(&self, context: &str) -> Result<Arc<Cluster>, EngineError> {
        let cell = {
            let mut clusters = self.clusters.lock().unwrap_or_else(|e| e.into_inner());
            clusters.entry(context.to_owned()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            let kubeconfig = self
                .kubeconfig
                .get_or_try_init(|| async { read_kubeconfig(&self.files) })
                .await?;
            let options = KubeConfigOptions { context: Some(context.to_owned()), ..KubeConfigOptions::default() };
            let config = Config::from_custom_kubeconfig(kubeconfig.clone(), &options).await.map_err(|e| {
                EngineError::permanent(format!(
                    "cluster {context}: no usable kubeconfig context {context:?}: {e} (a cluster is reached through the \
                     context of its name, or the one its `context` attribute names)"
                ))
            })?;
            let client = Client::try_from(config)
                .map_err(|e| EngineError::permanent(format!("cluster {context}: cannot make a client: {e}")))?;
            Ok(Arc::new(Cluster { context: context.to_owned(), client, limit: Semaphore::new(self.concurrency) }))
        })
        .await
        .cloned()
    }

    /// Runs one API call on a cluster under its limit, counted as `name` (`apply
    /// apps/v1/StatefulSet`), retried while [`retryable`].
    pub(crate) async fn call<T, F, Fut>(&self, cluster: &Cluster, name: &str, mut f: F) -> Result<T, kube::Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let _permit = cluster.limit.acquire().await.expect("the limit is never closed");
        let mut delay = BASE_DELAY;
        let mut attempt = 1;
        loop {
            self.count(name);
            match f().await {
                Err(e) if attempt < MAX_ATTEMPTS && retryable(&e) => {
                    self.count("retries");
                    tokio::time::sleep(jitter(delay)).await;
                    delay = (delay * 2).min(MAX_DELAY);
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    fn count(&self, name: &str) {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        *calls.entry(name.to_owned()).or_insert(0) += 1;
    }

    /// The calls made so far by name, retries under `retries`.
    pub(crate) fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The kubeconfig of `files` joined in order, or if none the one kube finds (`$KUBECONFIG`,
/// several files joined, else `~/.kube/config`).
fn read_kubeconfig(files: &[PathBuf]) -> Result<Kubeconfig, EngineError> {
    let failed = |e: kube::config::KubeconfigError| {
        EngineError::permanent(format!("cannot read the kubeconfig ($KUBECONFIG, else ~/.kube/config): {e}"))
    };
    let mut joined: Option<Kubeconfig> = None;
    for f in files {
        let next = Kubeconfig::read_from(f).map_err(failed)?;
        joined = Some(match joined {
            Some(j) => j.merge(next).map_err(failed)?,
            None => next,
        });
    }
    match joined {
        Some(j) => Ok(j),
        None => Kubeconfig::read().map_err(failed),
    }
}

/// True for failures that may go away: throttling (429), server errors (5xx) and lost or
/// refused connections.
pub(crate) fn retryable(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(status) => status.code == 429 || status.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// The HTTP status of an API error.
pub(crate) fn status_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// An engine error for a failed call about `what` on `cluster`.
pub(crate) fn engine_error(cluster: &str, what: &str, e: &kube::Error) -> EngineError {
    let message = match e {
        kube::Error::Api(status) => format!("cluster {cluster}: {what}: {} ({})", status.message, status.code),
        other => format!("cluster {cluster}: {what}: {other}"),
    };
    EngineError { message, retryable: retryable(e) }
}

/// A random duration between half of `delay` and `delay`.
fn jitter(delay: Duration) -> Duration {
    let random = RandomState::new().hash_one(0u8);
    let half = delay / 2;
    half + Duration::from_nanos(random % (half.as_nanos().max(1) as u64))
}

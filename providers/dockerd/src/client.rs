//! The Docker clients, one per endpoint and created on first use, the call counters, and the
//! bounded retries with jittered backoff around every API call.

use berth_docker::DEFAULT_ENDPOINT;
use berth_plan::EngineError;
use bollard::Docker;
use bollard::errors::Error;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::time::Duration;

/// Attempts of one call before its error is returned.
const ATTEMPTS: u32 = 8;
/// The first pause before a retry; it doubles with every attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// Clients by endpoint, and what they did.
pub(crate) struct Clients {
    /// Where the endpoint [`DEFAULT_ENDPOINT`] really is (`DOCKER_HOST` when set).
    default: String,
    clients: Mutex<HashMap<String, Docker>>,
    calls: Mutex<BTreeMap<String, u64>>,
}

impl Clients {
    /// No clients yet; `default` stands in for [`DEFAULT_ENDPOINT`].
    pub(crate) fn new(default: String) -> Self {
        Self { default, clients: Mutex::new(HashMap::new()), calls: Mutex::new(BTreeMap::new()) }
    }

    /// Calls made so far by name, retries under `retries`.
    pub(crate) fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.lock().expect("counters").clone()
    }

    fn count(&self, name: &str) {
        *self.calls.lock().expect("counters").entry(name.to_owned()).or_insert(0) += 1;
    }

    /// Calls `f` with the client of `endpoint` until it succeeds, fails for good, or
    /// [`ATTEMPTS`] are used up; connection errors, timeouts and 5xx answers are retried after
    /// a jittered, doubling pause. Each attempt counts as one call `name`.
    pub(crate) async fn call<T, F, Fut>(&self, endpoint: &str, name: &str, f: F) -> Result<T, Error>
    where
        F: Fn(Docker) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let result = match self.client(endpoint).await {
                Ok(docker) => {
                    self.count(name);
                    f(docker).await
                }
                Err(e) => Err(e),
            };
            match result {
                Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                    self.count("retries");
                    if matches!(
                        e,
                        Error::SocketNotFoundError(_) | Error::HyperLegacyError { .. } | Error::IOError { .. }
                    ) {
                        // A restarted daemon may come back elsewhere in its answers: connect anew.
                        self.clients.lock().expect("clients").remove(endpoint);
                    }
                    tokio::time::sleep(jittered(backoff)).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Where the daemon of an endpoint really is.
    fn address<'a>(&'a self, endpoint: &'a str) -> &'a str {
        if endpoint == DEFAULT_ENDPOINT { &self.default } else { endpoint }
    }

    /// An engine error from a Docker error, saying what was being done on which daemon, and
    /// what to do when the daemon did not answer at all.
    pub(crate) fn error(&self, doing: &str, endpoint: &str, e: &Error) -> EngineError {
        let address = self.address(endpoint);
        let mut message = format!("{doing} on {address}: {e}");
        if !retryable(e) {
            return EngineError::permanent(message);
        }
        if status(e).is_none() {
            message.push_str(&format!(
                " (the Docker daemon at {address} did not answer {ATTEMPTS} attempts: check that it runs, then apply again)"
            ));
        }
        EngineError::transient(message)
    }

    /// The client of an endpoint, connecting and agreeing on the API version on first use.
    async fn client(&self, endpoint: &str) -> Result<Docker, Error> {
        if let Some(docker) = self.clients.lock().expect("clients").get(endpoint) {
            return Ok(docker.clone());
        }
        let docker = Docker::connect_with_host(self.address(endpoint))?;
        self.count("Version");
        let docker = docker.negotiate_version().await?;
        self.clients.lock().expect("clients").insert(endpoint.to_owned(), docker.clone());
        Ok(docker)
    }
}

/// True for errors that may go away: no connection, a timeout, a server error.
pub(crate) fn retryable(e: &Error) -> bool {
    match e {
        Error::DockerResponseServerError { status_code, .. } => *status_code >= 500,
        Error::SocketNotFoundError(_)
        | Error::HyperLegacyError { .. }
        | Error::IOError { .. }
        | Error::RequestTimeoutError
        | Error::HyperResponseError { .. } => true,
        _ => false,
    }
}

/// The HTTP status of an error answer, if the daemon gave one.
pub(crate) fn status(e: &Error) -> Option<u16> {
    match e {
        Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// Half of `d` plus a random part of the other half.
fn jittered(d: Duration) -> Duration {
    let random = RandomState::new().build_hasher().finish();
    let half = d / 2;
    half + Duration::from_nanos(random % (half.as_nanos() as u64).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_and_lost_connections_are_retried_client_errors_not() {
        let server = |status_code| Error::DockerResponseServerError { status_code, message: "x".into() };
        assert!(retryable(&server(500)) && retryable(&server(503)));
        assert!(!retryable(&server(404)) && !retryable(&server(409)));
        assert!(retryable(&Error::SocketNotFoundError("/run/d.sock".into())));
        let clients = Clients::new("unix:///run/d.sock".into());
        let e = clients.error("creating network n", DEFAULT_ENDPOINT, &server(503));
        assert!(e.retryable && e.message.starts_with("creating network n on unix:///run/d.sock: "), "{e}");
        let e = clients.error("creating network n", "unix:///x.sock", &Error::SocketNotFoundError("/x.sock".into()));
        assert!(e.retryable && e.message.contains("the Docker daemon at unix:///x.sock did not answer"), "{e}");
        assert!(!clients.error("starting container c", "unix:///x.sock", &server(404)).retryable);
        assert_eq!(status(&server(409)), Some(409));
        for _ in 0..100 {
            let d = jittered(Duration::from_millis(400));
            assert!(d >= Duration::from_millis(200) && d < Duration::from_millis(400), "{d:?}");
        }
    }
}

//! The EC2 client as the engine uses it: one place where every call is limited, counted and its
//! error turned into an [`EngineError`].

use crate::wait::Waiter;
use aws_config::ConfigLoader;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ec2::config::retry::RetryConfig;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ec2::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, Instance, Volume};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use berth_plan::EngineError;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Most values one filter of a Describe call takes.
pub(crate) const FILTER_VALUES: usize = 200;

/// Most pages one listing reads before it gives up (a bound, not an expected size).
const MAX_PAGES: usize = 1000;

/// Attempts per call, the first one included (the SDK's standard mode, jittered backoff).
const MAX_ATTEMPTS: u32 = 5;

/// Error codes of a throttled or briefly unavailable API: worth another try later.
const TRANSIENT_CODES: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "ServiceUnavailable",
    "Unavailable",
    "InternalError",
    "InsufficientInstanceCapacity",
];

/// The shared half of the engine: the client, the limit on calls in flight, the counters and
/// the batched waiters. Background waiters hold it through an `Arc`.
pub(crate) struct Api {
    client: Client,
    limit: Semaphore,
    counts: Mutex<BTreeMap<&'static str, u64>>,
    attempts: Arc<AtomicU64>,
    /// How long a create or delete waits for its object at most.
    pub(crate) wait_timeout: Duration,
    /// Instances waited for.
    pub(crate) instances: Waiter<Instance>,
    /// Volumes (and their attachments) waited for.
    pub(crate) volumes: Waiter<Volume>,
}

impl Api {
    /// A client configured by `loader`, with berth's HTTP client and retry settings.
    pub(crate) async fn new(loader: ConfigLoader, concurrency: usize, wait_timeout: Duration) -> Self {
        let http =
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
        let shared =
            loader.http_client(http).retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)).load().await;
        let attempts = Arc::new(AtomicU64::new(0));
        let config =
            aws_sdk_ec2::config::Builder::from(&shared).interceptor(CountAttempts(Arc::clone(&attempts))).build();
        Self {
            client: Client::from_conf(config),
            limit: Semaphore::new(concurrency.max(1)),
            counts: Mutex::new(BTreeMap::new()),
            attempts,
            wait_timeout,
            instances: Waiter::new("instance"),
            volumes: Waiter::new("volume"),
        }
    }

    /// The EC2 client, for building requests.
    pub(crate) fn ec2(&self) -> &Client {
        &self.client
    }

    /// The region the configuration names.
    pub(crate) fn region(&self) -> Option<&str> {
        self.client.config().region().map(|r| r.as_ref())
    }

    /// Sends one request under the concurrency limit and counts it as `name`.
    pub(crate) async fn call<T, E>(
        &self,
        name: &'static str,
        request: impl Future<Output = Result<T, SdkError<E>>>,
    ) -> Result<T, ApiError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let _permit = self.limit.acquire().await.map_err(|_| ApiError::closed())?;
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()).entry(name).or_default() += 1;
        request.await.map_err(|e| ApiError::from_sdk(name, &e))
    }

    /// Calls made so far by name, and `retries`: attempts beyond the first of each call.
    pub(crate) fn counts(&self) -> BTreeMap<String, u64> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let calls: u64 = counts.values().sum();
        let mut out: BTreeMap<String, u64> = counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        out.insert("retries".into(), self.attempts.load(Ordering::Relaxed).saturating_sub(calls));
        out
    }

    /// Every page of a Describe call: `page(token)` sends one request and returns its items
    /// and the next token.
    pub(crate) async fn pages<T, F, Fut>(&self, mut page: F) -> Result<Vec<T>, ApiError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, Option<String>), ApiError>>,
    {
        let mut items = Vec::new();
        let mut token = None;
        for _ in 0..MAX_PAGES {
            let (mut more, next) = page(token).await?;
            items.append(&mut more);
            match next.filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t),
                None => return Ok(items),
            }
        }
        Err(ApiError { code: None, error: EngineError::permanent(format!("a listing went past {MAX_PAGES} pages")) })
    }
}

/// A filter `name` = any of `values`.
pub(crate) fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder().name(name).set_values(Some(values.into_iter().map(Into::into).collect())).build()
}

/// A failed call: the API's error code, if it gave one, and the engine's error.
#[derive(Debug)]
pub(crate) struct ApiError {
    /// The AWS error code (`InvalidGroup.NotFound`).
    pub(crate) code: Option<String>,
    /// The error as the engine reports it.
    pub(crate) error: EngineError,
}

impl ApiError {
    fn closed() -> Self {
        Self { code: None, error: EngineError::permanent("the AWS engine is shutting down") }
    }

    fn from_sdk<E>(call: &str, e: &SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = e.code().map(str::to_owned);
        let status = e.raw_response().map(|r| r.status().as_u16());
        let retryable = match e {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
            SdkError::ResponseError(_) => true,
            _ => status.is_some_and(|s| s >= 500) || code.as_deref().is_some_and(|c| TRANSIENT_CODES.contains(&c)),
        };
        let message = match (&code, e.message()) {
            (Some(code), Some(message)) => format!("{call}: {code}: {message}"),
            (Some(code), None) => format!("{call}: {code}"),
            _ => format!("{call}: {}", DisplayErrorContext(e)),
        };
        Self { code, error: EngineError { message, retryable } }
    }

    /// True if the API said the object does not exist (any `*.NotFound` code).
    pub(crate) fn not_found(&self) -> bool {
        self.code.as_deref().is_some_and(|c| c.ends_with("NotFound"))
    }

    /// True if the error code is `code`.
    pub(crate) fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl From<ApiError> for EngineError {
    fn from(e: ApiError) -> Self {
        e.error
    }
}

/// Counts every attempt the SDK makes, so retries are attempts beyond the calls.
#[derive(Debug)]
struct CountAttempts(Arc<AtomicU64>);

impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "berth-count-attempts"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

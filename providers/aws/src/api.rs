//! The AWS clients as the engine uses them: one set (EC2, ELBv2, EKS) per region, built from one
//! loaded configuration; one place where every call is limited, counted and its error turned
//! into an [`EngineError`].

use crate::wait::Waiter;
use aws_config::SdkConfig;
use aws_sdk_ec2::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ec2::config::{ConfigBag, Intercept, Region, RuntimeComponents};
use aws_sdk_ec2::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, Instance, Volume};
use aws_sdk_eks::types::{Addon, Cluster, Nodegroup};
use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;
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

/// Error codes of a throttled or briefly unavailable API: worth another try later.
const TRANSIENT_CODES: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ServerException",
    "Unavailable",
    "InternalError",
    "InsufficientInstanceCapacity",
];

/// What every region's clients share: the loaded configuration, the call counters, the limits
/// and the wait timeout.
pub(crate) struct Shared {
    config: SdkConfig,
    counts: Mutex<BTreeMap<&'static str, u64>>,
    attempts: Arc<AtomicU64>,
    concurrency: usize,
    /// How long a create or delete waits for its object at most.
    pub(crate) wait_timeout: Duration,
}

impl Shared {
    /// The shared half of every region's clients: `config` is loaded with berth's HTTP client
    /// and retry settings.
    pub(crate) fn new(config: SdkConfig, concurrency: usize, wait_timeout: Duration) -> Self {
        Self {
            config,
            counts: Mutex::new(BTreeMap::new()),
            attempts: Arc::new(AtomicU64::new(0)),
            concurrency: concurrency.max(1),
            wait_timeout,
        }
    }

    /// The region the configuration names.
    pub(crate) fn region(&self) -> Option<&str> {
        self.config.region().map(|r| r.as_ref())
    }

    /// Calls made so far by name, and `retries`: attempts beyond the first of each call.
    pub(crate) fn counts(&self) -> BTreeMap<String, u64> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let calls: u64 = counts.values().sum();
        let mut out: BTreeMap<String, u64> = counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        out.insert("retries".into(), self.attempts.load(Ordering::Relaxed).saturating_sub(calls));
        out
    }
}

/// The APIs berth calls, each under a limit of its own per region.
#[derive(Clone, Copy)]
enum Service {
    Ec2 = 0,
    Elb = 1,
    Eks = 2,
}

/// The clients of one region: the limits on calls in flight per API, and the batched waiters.
/// Background waiters hold it through an `Arc`.
pub(crate) struct Api {
    shared: Arc<Shared>,
    ec2: aws_sdk_ec2::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    eks: aws_sdk_eks::Client,
    limits: [Semaphore; 3],
    /// How long a create or delete waits for its object at most.
    pub(crate) wait_timeout: Duration,
    /// Instances waited for.
    pub(crate) instances: Waiter<Instance>,
    /// Volumes (and their attachments) waited for.
    pub(crate) volumes: Waiter<Volume>,
    /// Load balancers waited for.
    pub(crate) load_balancers: Waiter<LoadBalancer>,
    /// EKS clusters waited for.
    pub(crate) clusters: Waiter<Cluster>,
    /// Node groups waited for.
    pub(crate) node_groups: Waiter<Nodegroup>,
    /// EKS add-ons waited for.
    pub(crate) addons: Waiter<Addon>,
}

impl Api {
    /// The clients of `region`, configured as `shared` with the region overridden.
    pub(crate) fn new(shared: Arc<Shared>, region: &str) -> Self {
        let counter = || CountAttempts(Arc::clone(&shared.attempts));
        let region_of = || Region::new(region.to_owned());
        let ec2 = aws_sdk_ec2::config::Builder::from(&shared.config).region(region_of()).interceptor(counter()).build();
        let elb = aws_sdk_elasticloadbalancingv2::config::Builder::from(&shared.config)
            .region(region_of())
            .interceptor(counter())
            .build();
        let eks = aws_sdk_eks::config::Builder::from(&shared.config).region(region_of()).interceptor(counter()).build();
        let limit = || Semaphore::new(shared.concurrency);
        Self {
            ec2: aws_sdk_ec2::Client::from_conf(ec2),
            elb: aws_sdk_elasticloadbalancingv2::Client::from_conf(elb),
            eks: aws_sdk_eks::Client::from_conf(eks),
            limits: [limit(), limit(), limit()],
            wait_timeout: shared.wait_timeout,
            instances: Waiter::new("instance"),
            volumes: Waiter::new("volume"),
            load_balancers: Waiter::new("load balancer"),
            clusters: Waiter::new("EKS cluster"),
            node_groups: Waiter::new("node group"),
            addons: Waiter::new("EKS add-on"),
            shared,
        }
    }

    /// The EC2 client, for building requests.
    pub(crate) fn ec2(&self) -> &aws_sdk_ec2::Client {
        &self.ec2
    }

    /// The ELBv2 client, for building requests.
    pub(crate) fn elb(&self) -> &aws_sdk_elasticloadbalancingv2::Client {
        &self.elb
    }

    /// The EKS client, for building requests.
    pub(crate) fn eks(&self) -> &aws_sdk_eks::Client {
        &self.eks
    }

    /// Sends one EC2 request under the EC2 limit and counts it as `name`.
    pub(crate) async fn call<T, E>(
        &self,
        name: &'static str,
        request: impl Future<Output = Result<T, SdkError<E>>>,
    ) -> Result<T, ApiError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.limited(Service::Ec2, name, request).await
    }

    /// Sends one ELBv2 request under the ELBv2 limit and counts it as `name`.
    pub(crate) async fn call_elb<T, E>(
        &self,
        name: &'static str,
        request: impl Future<Output = Result<T, SdkError<E>>>,
    ) -> Result<T, ApiError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.limited(Service::Elb, name, request).await
    }

    /// Sends one EKS request under the EKS limit and counts it as `name`.
    pub(crate) async fn call_eks<T, E>(
        &self,
        name: &'static str,
        request: impl Future<Output = Result<T, SdkError<E>>>,
    ) -> Result<T, ApiError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.limited(Service::Eks, name, request).await
    }

    async fn limited<T, E>(
        &self,
        service: Service,
        name: &'static str,
        request: impl Future<Output = Result<T, SdkError<E>>>,
    ) -> Result<T, ApiError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let _permit = self.limits[service as usize].acquire().await.map_err(|_| ApiError::closed())?;
        *self.shared.counts.lock().unwrap_or_else(|e| e.into_inner()).entry(name).or_default() += 1;
        request.await.map_err(|e| ApiError::from_sdk(name, &e))
    }

    /// Every page of a listing: `page(token)` sends one request and returns its items and the
    /// next token.
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

    /// True if the API said the object does not exist (`*.NotFound`, `LoadBalancerNotFound`,
    /// `ResourceNotFoundException`).
    pub(crate) fn not_found(&self) -> bool {
        self.code.as_deref().is_some_and(|c| c.ends_with("NotFound") || c.ends_with("NotFoundException"))
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

/// Counts every attempt the SDKs make, so retries are attempts beyond the calls.
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

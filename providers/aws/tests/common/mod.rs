//! Helpers shared by the AWS engine's tests against moto.

#![allow(dead_code, reason = "each test crate uses part of the helpers")]

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_ec2::config::{Credentials, Region};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use berth_aws::AwsEngine;
use berth_plan::{Applied, Engine, EngineError, Found, Request, hex_sha256};
use berth_tests::Moto;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The lineage every object of these tests is created with.
pub const LINEAGE: &str = "5d7c0f5e-moto-test";

/// The standard configuration chain pointed at `moto` with its test credentials.
pub fn loader(moto: &Moto) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto.url())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
}

/// The configuration of the raw clients that check what exists, outside the engine.
pub async fn config(moto: &Moto, region: &str) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    loader(moto).region(Region::new(region.to_owned())).http_client(http).load().await
}

/// A raw EC2 client of us-east-1.
pub async fn raw(moto: &Moto) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&config(moto, "us-east-1").await)
}

/// What a find by [`LINEAGE`] must return for `all` created with `ids`: every object by the
/// address it was created for, in find's order.
pub fn found(all: &[&Desired], ids: &[&String]) -> Vec<Found> {
    let mut found: Vec<Found> = all
        .iter()
        .zip(ids)
        .map(|(d, id)| Found {
            address: d.address.clone(),
            kind: d.kind.to_owned(),
            id: (*id).clone(),
            lineage: LINEAGE.to_owned(),
        })
        .collect();
    found.sort();
    found
}

/// One desired object.
pub struct Desired {
    /// Its resource address.
    pub address: String,
    /// Its kind.
    pub kind: &'static str,
    /// Its desired attributes.
    pub attrs: Map<String, Value>,
}

impl Desired {
    /// An object; `attrs` must be a JSON object.
    pub fn new(address: &str, kind: &'static str, attrs: Value) -> Self {
        let Value::Object(attrs) = attrs else { panic!("attributes must be an object") };
        Self { address: address.to_owned(), kind, attrs }
    }

    /// Its idempotency token in [`LINEAGE`].
    pub fn token(&self) -> String {
        hex_sha256(format!("{LINEAGE}/{}/0", self.address).as_bytes())
    }

    /// Creates it in `lineage`, as the walk would.
    pub async fn try_create(&self, engine: &AwsEngine, lineage: &str) -> Result<Applied, EngineError> {
        let token = self.token();
        let request = Request { address: &self.address, kind: self.kind, attrs: &self.attrs, lineage, token: &token };
        engine.create(request).await
    }

    /// Creates it, and checks that the engine reports every desired attribute back (a
    /// `region` aside, which picks the clients and is no attribute of the object).
    pub async fn create(&self, engine: &AwsEngine) -> Applied {
        let applied = self.try_create(engine, LINEAGE).await.unwrap_or_else(|e| panic!("create {}: {e}", self.address));
        for (k, v) in self.attrs.iter().filter(|(k, _)| *k != "region") {
            assert_eq!(applied.attrs.get(k), Some(v), "{}: {k} as created", self.address);
        }
        applied
    }

    /// Updates it in place to `attrs`.
    pub async fn update(
        &self,
        engine: &AwsEngine,
        id: &str,
        attrs: &Map<String, Value>,
    ) -> Result<Applied, EngineError> {
        let token = self.token();
        let request = Request { address: &self.address, kind: self.kind, attrs, lineage: LINEAGE, token: &token };
        engine.update(request, id).await
    }

    /// Its attributes with `name` set to `value`.
    pub fn with(&self, name: &str, value: Value) -> Map<String, Value> {
        let mut attrs = self.attrs.clone();
        attrs.insert(name.to_owned(), value);
        attrs
    }
}

/// `value` with its lists sorted, as sets compare.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items = items.clone();
            items.sort_by_cached_key(Value::to_string);
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// Counts of `after` minus `before`, without the zeros.
pub fn spent(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after.iter().map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0))).filter(|(_, v)| *v > 0).collect()
}

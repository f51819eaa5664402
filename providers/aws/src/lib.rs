//! The AWS apply engine: creates, changes, reads, finds and deletes the EC2 objects of a spec
//! (VPCs, subnets, security groups and rules, instances, EBS volumes and their attachments)
//! through aws-sdk-ec2, behind [`berth_plan::Engine`].
//!
//! Configuration comes from the standard AWS chain (`AWS_REGION`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL`, ...). Every created object is tagged `berth:address` (the resource
//! address), `berth:lineage` and `Name` (the berth address unless the spec names it);
//! RunInstances and CreateVolume take the request's idempotency token as `ClientToken`. Calls
//! go out under one concurrency limit with the SDK's standard retries (jittered backoff); waits
//! for instances and volumes are batched, one Describe call per kind covering every object
//! waiting at that moment.

mod api;
mod attrs;
mod compute;
mod list;
mod network;
mod wait;

use api::{Api, FILTER_VALUES, filter};
use attrs::{ADDRESS_TAG, LINEAGE_TAG, berth_address, creation_tags, tag};
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_ec2::types::{Instance, SecurityGroup, SecurityGroupRule, Subnet, Tag, Volume, VolumeState, Vpc};
use berth_plan::{Applied, BoxFuture, Engine, EngineError, Found, Request};
use list::{Listed, by_ids};
use network::Rule;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// A VPC: `cidr_block`, `tags`.
pub const VPC: &str = "aws_vpc";
/// A subnet: `vpc_id`, `cidr_block`, `availability_zone`, `tags`.
pub const SUBNET: &str = "aws_subnet";
/// A security group: `name`, `description`, `vpc_id`, `tags`; output `arn`.
pub const SECURITY_GROUP: &str = "aws_security_group";
/// A security group rule: `type` (`ingress`/`egress`), `security_group_id`, `protocol`,
/// `from_port`, `to_port`, `cidr_blocks`, `description`. EC2 has no id for such a rule, so its
/// id is berth's: `<group>/<type>/<protocol>/<from>/<to>/<sorted cidrs, comma-separated>`, ports
/// 0 for protocol `-1` (e.g. `sg-1/egress/-1/0/0/0.0.0.0/0`).
pub const SECURITY_GROUP_RULE: &str = "aws_security_group_rule";
/// An instance: `ami`, `instance_type`, `availability_zone`, `subnet_id`,
/// `vpc_security_group_ids`, `tags`; outputs `availability_zone`, `private_ip`, `public_ip`.
pub const INSTANCE: &str = "aws_instance";
/// An EBS volume: `availability_zone`, `type`, `size`, `iops`, `throughput`, `tags`.
pub const VOLUME: &str = "aws_ebs_volume";
/// A volume attachment: `device_name`, `volume_id`, `instance_id`; id `vai-<volume>-<instance>`.
/// Found through its volume: its address is the volume's berth address with this kind.
pub const VOLUME_ATTACHMENT: &str = "aws_volume_attachment";

/// Every kind the engine applies.
pub const KINDS: &[&str] = &[VPC, SUBNET, SECURITY_GROUP, SECURITY_GROUP_RULE, INSTANCE, VOLUME, VOLUME_ATTACHMENT];

/// Attributes that are sets: compared sorted.
const SETS: &[&str] = &["vpc_security_group_ids", "cidr_blocks"];

/// Volume attributes ModifyVolume changes in place.
const VOLUME_IN_PLACE: &[&str] = &["size", "type", "iops", "throughput"];

/// How an [`AwsEngine`] works.
#[derive(Debug, Clone)]
pub struct Options {
    /// Most EC2 calls in flight at once (EC2 rate-limits per account).
    pub concurrency: usize,
    /// Longest wait for one object to become usable or gone.
    pub wait_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self { concurrency: 32, wait_timeout: Duration::from_secs(600) }
    }
}

/// The AWS engine. Cheap to share: clones use the same client, limit and counters.
#[derive(Clone)]
pub struct AwsEngine {
    api: Arc<Api>,
}

impl AwsEngine {
    /// An engine configured from the standard AWS chain (environment, profiles, instance
    /// metadata). Needs a tokio runtime: waits run on background tasks.
    pub async fn from_env(options: Options) -> Self {
        Self::new(aws_config::defaults(BehaviorVersion::latest()), options).await
    }

    /// An engine configured by `loader` (the standard chain with some settings fixed, such as a
    /// region or an endpoint); berth sets the HTTP client (rustls with ring) and the retries.
    pub async fn new(loader: ConfigLoader, options: Options) -> Self {
        Self { api: Arc::new(Api::new(loader, options.concurrency, options.wait_timeout).await) }
    }

    /// The request without its `region`, which must be the engine's: berth applies one region
    /// per run, the one the AWS configuration names.
    fn in_region(&self, request: &Request<'_>) -> Result<Map<String, Value>, EngineError> {
        let mut attrs = request.attrs.clone();
        if let Some(Value::String(region)) = attrs.remove("region") {
            let configured = self.api.region();
            if configured != Some(region.as_str()) {
                return Err(EngineError::permanent(format!(
                    "{} is in region {region}, but the AWS configuration names {}: apply each region in a run \
                     of its own, with AWS_REGION={region} and --target for its objects",
                    request.address,
                    configured.unwrap_or("no region")
                )));
            }
        }
        Ok(attrs)
    }

    async fn create_one(&self, request: Request<'_>) -> Result<Applied, EngineError> {
        let attrs = self.in_region(&request)?;
        let request = Request { attrs: &attrs, ..request };
        let api = &self.api;
        match request.kind {
            VPC => network::create_vpc(api, &request).await,
            SUBNET => network::create_subnet(api, &request).await,
            SECURITY_GROUP => network::create_security_group(api, &request).await,
            SECURITY_GROUP_RULE => network::create_rule(api, &request).await,
            INSTANCE => compute::create_instance(api, &request).await,
            VOLUME => compute::create_volume(api, &request).await,
            VOLUME_ATTACHMENT => compute::create_attachment(api, &request).await,
            other => Err(unknown(other)),
        }
    }

    async fn update_one(&self, request: Request<'_>, id: &str) -> Result<Applied, EngineError> {
        let attrs = self.in_region(&request)?;
        let request = Request { attrs: &attrs, ..request };
        let current = read(&self.api, &[(request.kind, id)])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| EngineError::permanent(format!("{} {id} no longer exists", request.kind)))?;
        let changed: Vec<&str> = request
            .attrs
            .iter()
            .filter(|(name, want)| {
                // An empty list is what the API leaves out (an instance without security
                // groups in moto): absent and empty are the same value.
                let have = current.attrs.get(*name).map(|v| normal(name, v));
                *name != "tags"
                    && *name != "subnet_id"
                    && Some(normal(name, want)) != have
                    && !(is_empty(want) && have.as_ref().is_none_or(is_empty))
            })
            .map(|(name, _)| name.as_str())
            .collect();
        match request.kind {
            _ if changed.is_empty() => {}
            VOLUME if changed.iter().all(|c| VOLUME_IN_PLACE.contains(c)) => {
                compute::modify_volume(&self.api, &request, id).await?
            }
            SECURITY_GROUP_RULE if changed == ["description"] => {
                network::update_rule_description(&self.api, &request, id).await?
            }
            kind => {
                return Err(EngineError::permanent(format!(
                    "{kind} {id}: {} cannot change in place; the object must be replaced",
                    changed.join(", ")
                )));
            }
        }
        let some_tags = |t: &&Value| t.as_object().is_some_and(|m| !m.is_empty());
        let want_tags = request.attrs.get("tags").filter(some_tags);
        let have_tags = current.attrs.get("tags").filter(some_tags);
        if ![SECURITY_GROUP_RULE, VOLUME_ATTACHMENT].contains(&request.kind) && want_tags != have_tags {
            self.retag(&request, id, &current).await?;
        }
        Ok(Applied { attrs: attrs::with_outputs(&request, current.attrs), id: id.to_owned() })
    }

    /// Sets the desired tags on `id` and removes the ones the spec dropped.
    async fn retag(&self, request: &Request<'_>, id: &str, current: &Applied) -> Result<(), EngineError> {
        let api = &self.api;
        let tags = creation_tags(request)?;
        let create = api.ec2().create_tags().resources(id).set_tags(Some(tags.clone()));
        api.call("CreateTags", create.send()).await?;
        let dropped: Vec<Tag> = current
            .attrs
            .get("tags")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
            .filter(|k| !tags.iter().any(|t| t.key() == Some(k.as_str())))
            .map(|k| Tag::builder().key(k).build())
            .collect();
        if !dropped.is_empty() {
            api.call("DeleteTags", api.ec2().delete_tags().resources(id).set_tags(Some(dropped)).send()).await?;
        }
        Ok(())
    }

    async fn delete_one(&self, kind: &str, id: &str) -> Result<(), EngineError> {
        let api = &self.api;
        match kind {
            VPC => network::delete_vpc(api, id).await,
            SUBNET => network::delete_subnet(api, id).await,
            SECURITY_GROUP => network::delete_security_group(api, id).await,
            SECURITY_GROUP_RULE => network::delete_rule(api, id).await,
            INSTANCE => compute::delete_instance(api, id).await,
            VOLUME => compute::delete_volume(api, id).await,
            VOLUME_ATTACHMENT => compute::delete_attachment(api, id).await,
            other => Err(unknown(other)),
        }
    }
}

fn unknown(kind: &str) -> EngineError {
    EngineError::permanent(format!("the AWS engine does not apply kind `{kind}`"))
}

/// A value in the form it is compared in: sets sorted.
fn normal(name: &str, value: &Value) -> Value {
    match value {
        Value::Array(items) if SETS.contains(&name) => {
            let mut items = items.clone();
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// True for an empty list or map, or null.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

fn is_live(v: &Volume) -> bool {
    !matches!(v.state(), Some(VolumeState::Deleting | VolumeState::Deleted))
}

/// Reads objects in one Describe call per listing (chunked by the filter limit).
async fn read(api: &Api, objects: &[(&str, &str)]) -> Result<Vec<Option<Applied>>, EngineError> {
    let (mut instances, mut volumes, mut groups, mut vpcs, mut subnets) = (vec![], vec![], vec![], vec![], vec![]);
    let mut rules = HashMap::new();
    for &(kind, id) in objects {
        let list = match kind {
            INSTANCE => &mut instances,
            VOLUME => &mut volumes,
            VOLUME_ATTACHMENT => {
                volumes.push(compute::parse_attachment_id(id)?.0.to_owned());
                continue;
            }
            SECURITY_GROUP => &mut groups,
            SECURITY_GROUP_RULE => {
                let rule = Rule::parse(id)?;
                groups.push(rule.group.clone());
                rules.insert(id, rule);
                continue;
            }
            VPC => &mut vpcs,
            SUBNET => &mut subnets,
            other => return Err(unknown(other)),
        };
        list.push(id.to_owned());
    }
    let (instances, volumes, groups, vpcs, subnets) = tokio::try_join!(
        by_ids::<Instance>(api, instances),
        by_ids::<Volume>(api, volumes),
        by_ids::<SecurityGroup>(api, groups),
        by_ids::<Vpc>(api, vpcs),
        by_ids::<Subnet>(api, subnets),
    )?;
    let applied = |id: &str, attrs: Map<String, Value>| Applied { id: id.to_owned(), attrs };
    Ok(objects
        .iter()
        .map(|&(kind, id)| match kind {
            INSTANCE => {
                instances.get(id).filter(|i| !compute::is_gone(i)).map(|i| applied(id, compute::observe_instance(i)))
            }
            VOLUME => volumes.get(id).filter(|v| is_live(v)).map(|v| applied(id, compute::observe_volume(v))),
            VOLUME_ATTACHMENT => {
                let volume = compute::parse_attachment_id(id).ok()?.0;
                volumes.get(volume).and_then(|v| compute::observe_attachment(v, id))
            }
            SECURITY_GROUP => groups.get(id).map(|g| applied(id, network::observe_security_group(g))),
            SECURITY_GROUP_RULE => {
                let rule = rules.get(id)?;
                groups.get(&rule.group).and_then(|g| rule.observe(g)).map(|attrs| applied(id, attrs))
            }
            VPC => vpcs.get(id).map(|v| applied(id, network::observe_vpc(v))),
            SUBNET => subnets.get(id).map(|s| applied(id, network::observe_subnet(s))),
            _ => None,
        })
        .collect())
}

/// Objects of kind `kind` in `items` that carry an address tag.
fn tagged<T: Listed>(kind: &str, items: &[T], live: impl Fn(&T) -> bool) -> impl Iterator<Item = Found> {
    items.iter().filter(move |i| live(i)).filter_map(move |i| {
        Some(Found {
            address: tag(i.tags(), ADDRESS_TAG)?.to_owned(),
            kind: kind.to_owned(),
            id: i.key()?.to_owned(),
            lineage: tag(i.tags(), LINEAGE_TAG)?.to_owned(),
        })
    })
}

/// Every object tagged with `lineage` (any lineage with `None`): one listing per kind, rules
/// through their groups and attachments through their volumes.
async fn find(api: &Api, lineage: Option<&str>) -> Result<Vec<Found>, EngineError> {
    let by_lineage = || match lineage {
        Some(lineage) => filter(&format!("tag:{LINEAGE_TAG}"), [lineage]),
        None => filter("tag-key", [LINEAGE_TAG]),
    };
    let (instances, volumes, groups, vpcs, subnets) = tokio::try_join!(
        Instance::list(api, by_lineage()),
        Volume::list(api, by_lineage()),
        SecurityGroup::list(api, by_lineage()),
        Vpc::list(api, by_lineage()),
        Subnet::list(api, by_lineage()),
    )?;
    let mut found: Vec<Found> = tagged(INSTANCE, &instances, |i| !compute::is_gone(i))
        .chain(tagged(VOLUME, &volumes, is_live))
        .chain(tagged(SECURITY_GROUP, &groups, |_| true))
        .chain(tagged(VPC, &vpcs, |_| true))
        .chain(tagged(SUBNET, &subnets, |_| true))
        .collect();
    for v in volumes.iter().filter(|v| is_live(v)) {
        let (Some(address), Some(of)) = (tag(v.tags(), ADDRESS_TAG), tag(v.tags(), LINEAGE_TAG)) else { continue };
        let address = format!("{}:{VOLUME_ATTACHMENT}", berth_address(address));
        found.extend(compute::attachments_of(v).into_iter().map(|id| Found {
            address: address.clone(),
            kind: VOLUME_ATTACHMENT.to_owned(),
            id,
            lineage: of.to_owned(),
        }));
    }
    let group_ids: Vec<&str> = groups.iter().filter_map(SecurityGroup::group_id).collect();
    let mut rules: BTreeMap<&str, (Rule, &str)> = BTreeMap::new();
    let mut listed = Vec::new();
    for chunk in group_ids.chunks(FILTER_VALUES) {
        listed.extend(SecurityGroupRule::list(api, filter("group-id", chunk.iter().copied())).await?);
    }
    for r in listed.iter() {
        let Some(of) = tag(r.tags(), LINEAGE_TAG).filter(|of| lineage.is_none_or(|l| l == *of)) else { continue };
        let (Some(address), Some(group), Some(protocol)) = (tag(r.tags(), ADDRESS_TAG), r.group_id(), r.ip_protocol())
        else {
            continue;
        };
        let egress = r.is_egress().unwrap_or_default();
        let (from, to) = (r.from_port().unwrap_or_default(), r.to_port().unwrap_or_default());
        let (rule, _) =
            rules.entry(address).or_insert_with(|| (Rule::new(group, egress, protocol, from, to, Vec::new()), of));
        rule.cidrs.extend(r.cidr_ipv4().map(str::to_owned));
    }
    for (address, (mut rule, of)) in rules {
        rule.cidrs.sort();
        rule.cidrs.dedup();
        found.push(Found {
            address: address.to_owned(),
            kind: SECURITY_GROUP_RULE.to_owned(),
            id: rule.id(),
            lineage: of.to_owned(),
        });
    }
    found.sort();
    Ok(found)
}

impl Engine for AwsEngine {
    fn name(&self) -> &'static str {
        "aws"
    }

    fn create<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Applied, EngineError>> {
        Box::pin(self.create_one(request))
    }

    fn update<'a>(&'a self, request: Request<'a>, id: &'a str) -> BoxFuture<'a, Result<Applied, EngineError>> {
        Box::pin(self.update_one(request, id))
    }

    fn delete<'a>(&'a self, kind: &'a str, id: &'a str) -> BoxFuture<'a, Result<(), EngineError>> {
        Box::pin(self.delete_one(kind, id))
    }

    fn read<'a>(
        &'a self,
        objects: &'a [(&'a str, &'a str)],
    ) -> BoxFuture<'a, Result<Vec<Option<Applied>>, EngineError>> {
        Box::pin(read(&self.api, objects))
    }

    fn find<'a>(&'a self, lineage: Option<&'a str>) -> BoxFuture<'a, Result<Vec<Found>, EngineError>> {
        Box::pin(find(&self.api, lineage))
    }

    fn calls(&self) -> BTreeMap<String, u64> {
        self.api.counts()
    }
}

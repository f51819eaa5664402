//! The AWS apply engine: creates, changes, reads, finds and deletes the AWS objects of a spec
//! behind [`berth_plan::Engine`]: through aws-sdk-ec2 VPCs, subnets, security groups and rules,
//! instances, EBS volumes and their attachments, and launch templates; through
//! aws-sdk-elasticloadbalancingv2 load balancers, target groups and listeners; through
//! aws-sdk-eks clusters, node groups and add-ons.
//!
//! Configuration comes from the standard AWS chain (`AWS_REGION`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL`, ...). An object's `region` attribute picks the region it goes to (the
//! configured one without it): the engine keeps one set of clients per region, built when a
//! region is first used from the one loaded configuration. Every created object is tagged
//! `berth:address` (the resource address), `berth:lineage` and `Name` (the berth address unless
//! the spec names it); creation calls that take an idempotency token (RunInstances,
//! CreateVolume, CreateLaunchTemplate, CreateCluster, CreateNodegroup, CreateAddon) get the
//! request's, and ELBv2, which takes none, is deduplicated by name and tags. Calls go out under
//! one concurrency limit per API and region with the SDKs' standard retries (jittered backoff);
//! waits are batched per kind and region: one Describe call covering every instance, volume or
//! load balancer waiting at that moment, and for EKS, which has no batch read, one call per
//! waiting object, all at once.

mod api;
mod attrs;
mod compute;
mod eks;
mod lb;
mod list;
mod network;
mod template;
mod wait;

use api::{Api, Shared, filter};
use attrs::{ADDRESS_TAG, LINEAGE_TAG, berth_address, creation_tags, dropped_tags, tag, tag_map};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_ec2::types::{Instance, SecurityGroup, SecurityGroupRule, Subnet, Tag, Volume, VolumeState, Vpc};
use aws_sdk_eks::types::{AddonStatus, NodegroupStatus};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use berth_plan::{Applied, BoxFuture, Engine, EngineError, Found, Request};
use futures::future::try_join_all;
use list::{Listed, by_ids};
use network::Rule;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
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
/// A launch template: `name`, `description`, `user_data` (plain text; sent base64-encoded),
/// `tags`; output `latest_version`. A new description or user data is a new version.
pub const LAUNCH_TEMPLATE: &str = "aws_launch_template";
/// An EKS cluster: `name`, `role_arn`, `version`, `subnet_ids`, `tags`; outputs `arn`,
/// `endpoint`, `vpc_id`, `cluster_security_group_id`; id its name. A new `version` upgrades it
/// in place.
pub const EKS_CLUSTER: &str = "aws_eks_cluster";
/// An EKS managed node group: `cluster_name`, `node_group_name`, `node_role_arn`,
/// `subnet_ids`, `instance_types`, `ami_type`, `labels`, `scaling_config` (`desired_size`,
/// `max_size`, `min_size`), `launch_template` (`id`, `version`), `taints` (`key`, `value`,
/// `effect`), `tags`; output `arn`; id `CLUSTER:NODEGROUP`. Scaling, labels, taints and the
/// launch template's version change in place.
pub const NODE_GROUP: &str = "aws_eks_node_group";
/// An EKS add-on: `cluster_name`, `addon_name`, `configuration_values`, `tags`; output `arn`;
/// id `CLUSTER:ADDON`. The configuration changes in place.
pub const ADDON: &str = "aws_eks_addon";
/// A load balancer: `name`, `internal`, `load_balancer_type`, `subnets`, `tags`; outputs `arn`,
/// `dns_name`; id its ARN.
pub const LOAD_BALANCER: &str = "aws_lb";
/// A target group: `name`, `port`, `protocol`, `target_type`, `vpc_id`, `tags`; output `arn`;
/// id its ARN.
pub const TARGET_GROUP: &str = "aws_lb_target_group";
/// A listener: `load_balancer_arn`, `port`, `protocol`, `default_action` (`type`,
/// `target_group_arn`), `tags`; output `arn`; id its ARN. Port, protocol and action change in
/// place.
pub const LISTENER: &str = "aws_lb_listener";

/// Every kind the engine applies.
pub const KINDS: &[&str] = &[
    VPC,
    SUBNET,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    INSTANCE,
    VOLUME,
    VOLUME_ATTACHMENT,
    LAUNCH_TEMPLATE,
    EKS_CLUSTER,
    NODE_GROUP,
    ADDON,
    LOAD_BALANCER,
    TARGET_GROUP,
    LISTENER,
];

/// The kinds that ELBv2 applies.
const ELB_KINDS: &[&str] = &[LOAD_BALANCER, TARGET_GROUP, LISTENER];

/// The kinds that EKS applies.
const EKS_KINDS: &[&str] = &[EKS_CLUSTER, NODE_GROUP, ADDON];

/// Attributes that are sets: compared sorted.
const SETS: &[&str] = &["vpc_security_group_ids", "cidr_blocks", "subnet_ids", "subnets", "instance_types", "taints"];

/// Volume attributes ModifyVolume changes in place.
const VOLUME_IN_PLACE: &[&str] = &["size", "type", "iops", "throughput"];

/// Listener attributes ModifyListener changes in place.
const LISTENER_IN_PLACE: &[&str] = &["port", "protocol", "default_action"];

/// Attempts per call, the first one included (the SDKs' standard mode, jittered backoff).
const MAX_ATTEMPTS: u32 = 5;

/// How an [`AwsEngine`] works.
#[derive(Debug, Clone)]
pub struct Options {
    /// Most calls in flight at once per API (EC2, ELBv2, EKS) and region: AWS rate-limits per
    /// account, API and region.
    pub concurrency: usize,
    /// Longest wait for one object to become usable or gone.
    pub wait_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self { concurrency: 32, wait_timeout: Duration::from_secs(600) }
    }
}

/// The AWS engine. Cheap to share: clones use the same clients, limits and counters.
#[derive(Clone)]
pub struct AwsEngine {
    inner: Arc<Inner>,
}

/// The kinds and regions [`Engine::find`] looks through (EC2's instances, volumes and networks
/// always).
#[derive(Default, Clone)]
struct Scope {
    /// Kinds of the spec's and the state's objects, and of objects created or found.
    kinds: BTreeSet<String>,
    /// Their regions.
    regions: BTreeSet<String>,
}

/// The clients per region and what the engine knows about where objects are.
struct Inner {
    shared: Arc<Shared>,
    /// The clients of each region used so far.
    regions: Mutex<BTreeMap<String, Arc<Api>>>,
    /// What `find` looks through.
    scope: Mutex<Scope>,
    /// The region of each object id the engine was told of, created or found.
    located: Mutex<HashMap<String, String>>,
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
        let http =
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
        let config =
            loader.http_client(http).retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)).load().await;
        let shared = Arc::new(Shared::new(config, options.concurrency, options.wait_timeout));
        Self {
            inner: Arc::new(Inner {
                shared,
                regions: Mutex::new(BTreeMap::new()),
                scope: Mutex::new(Scope::default()),
                located: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Tells the engine of objects it will be asked about: `(kind, region, id)` of the spec's
    /// objects (no id yet) and of the state's, the configured region where one names none.
    /// [`Engine::find`] looks through these kinds in these regions (and the regions the engine
    /// has used; the configured one when there are none); [`Engine::read`] and
    /// [`Engine::delete`] look for a recorded object in its region (the configured one for ids
    /// it was not told of).
    pub fn with_objects<'a>(
        self,
        objects: impl IntoIterator<Item = (&'a str, Option<&'a str>, Option<&'a str>)>,
    ) -> Self {
        {
            let mut scope = self.inner.scope.lock().unwrap_or_else(|e| e.into_inner());
            let mut located = self.inner.located.lock().unwrap_or_else(|e| e.into_inner());
            for (kind, region, id) in objects {
                scope.kinds.insert(kind.to_owned());
                if let Some(region) = region.or(self.inner.shared.region()) {
                    scope.regions.insert(region.to_owned());
                    if let Some(id) = id {
                        located.insert(id.to_owned(), region.to_owned());
                    }
                }
            }
        }
        self
    }

    /// The configured region.
    fn default_region(&self) -> Result<String, EngineError> {
        self.inner
            .shared
            .region()
            .map(str::to_owned)
            .ok_or_else(|| EngineError::permanent("no AWS region is configured: set AWS_REGION or a profile's region"))
    }

    /// The clients of `region`, built on first use.
    fn api(&self, region: &str) -> Arc<Api> {
        let mut regions = self.inner.regions.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            regions
                .entry(region.to_owned())
                .or_insert_with(|| Arc::new(Api::new(Arc::clone(&self.inner.shared), region))),
        )
    }

    /// Records that `id` (of kind `kind`) is in `region`.
    fn remember(&self, kind: &str, id: &str, region: &str) {
        self.inner.located.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_owned(), region.to_owned());
        let mut scope = self.inner.scope.lock().unwrap_or_else(|e| e.into_inner());
        scope.kinds.insert(kind.to_owned());
        scope.regions.insert(region.to_owned());
    }

    /// The region of a recorded object: as told or seen, else the one its ARN names, else the
    /// configured one.
    fn region_of(&self, id: &str) -> Result<String, EngineError> {
        if let Some(region) = self.inner.located.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            return Ok(region.clone());
        }
        match id.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(2)).filter(|r| !r.is_empty()) {
            Some(region) => Ok(region.to_owned()),
            None => self.default_region(),
        }
    }

    /// The request's region (the configured one when it names none) and its attributes without
    /// it.
    fn in_region(&self, request: &Request<'_>) -> Result<(String, Map<String, Value>), EngineError> {
        let mut attrs = request.attrs.clone();
        let region = match attrs.remove("region") {
            Some(Value::String(region)) => region,
            None | Some(Value::Null) => self.default_region()?,
            Some(other) => {
                return Err(EngineError::permanent(format!(
                    "{}: `region` must be a string, not {other}",
                    request.address
                )));
            }
        };
        Ok((region, attrs))
    }

    async fn create_one(&self, request: Request<'_>) -> Result<Applied, EngineError> {
        let (region, attrs) = self.in_region(&request)?;
        let request = Request { attrs: &attrs, ..request };
        let api = &self.api(&region);
        let applied = match request.kind {
            VPC => network::create_vpc(api, &request).await,
            SUBNET => network::create_subnet(api, &request).await,
            SECURITY_GROUP => network::create_security_group(api, &request).await,
            SECURITY_GROUP_RULE => network::create_rule(api, &request).await,
            INSTANCE => compute::create_instance(api, &request).await,
            VOLUME => compute::create_volume(api, &request).await,
            VOLUME_ATTACHMENT => compute::create_attachment(api, &request).await,
            LAUNCH_TEMPLATE => template::create(api, &request).await,
            EKS_CLUSTER => eks::create_cluster(api, &request).await,
            NODE_GROUP => eks::create_node_group(api, &request).await,
            ADDON => eks::create_addon(api, &request).await,
            LOAD_BALANCER => lb::create_load_balancer(api, &request).await,
            TARGET_GROUP => lb::create_target_group(api, &request).await,
            LISTENER => lb::create_listener(api, &request).await,
            other => Err(unknown(other)),
        }?;
        self.remember(request.kind, &applied.id, &region);
        Ok(applied)
    }

    async fn update_one(&self, request: Request<'_>, id: &str) -> Result<Applied, EngineError> {
        let (region, attrs) = self.in_region(&request)?;
        let request = Request { attrs: &attrs, ..request };
        let api = &self.api(&region);
        let current = Box::pin(read_region(api, &[(request.kind, id)]))
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
        let all_in = |allowed: &[&str]| changed.iter().all(|c| allowed.contains(c));
        let mut outputs = Map::new();
        match request.kind {
            _ if changed.is_empty() => {}
            VOLUME if all_in(VOLUME_IN_PLACE) => compute::modify_volume(api, &request, id).await?,
            SECURITY_GROUP_RULE if changed == ["description"] => {
                network::update_rule_description(api, &request, id).await?
            }
            LAUNCH_TEMPLATE if all_in(template::IN_PLACE) => outputs = template::new_version(api, &request, id).await?,
            EKS_CLUSTER if changed == ["version"] => eks::update_cluster_version(api, &request, id).await?,
            NODE_GROUP if all_in(eks::NODE_GROUP_IN_PLACE) => {
                eks::update_node_group(api, &request, id, &changed, &current.attrs).await?
            }
            ADDON if changed == ["configuration_values"] => eks::update_addon(api, &request, id).await?,
            LISTENER if all_in(LISTENER_IN_PLACE) => lb::modify_listener(api, &request, id).await?,
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
            let have = current.attrs.get("tags");
            if ELB_KINDS.contains(&request.kind) {
                lb::retag(api, &request, id, have).await?;
            } else if EKS_KINDS.contains(&request.kind) {
                let arn = current.attrs.get("arn").and_then(Value::as_str).ok_or_else(|| attrs::missing("ARN"))?;
                eks::retag(api, &request, arn, have).await?;
            } else {
                retag_ec2(api, &request, id, have).await?;
            }
        }
        self.remember(request.kind, id, &region);
        let mut observed = current.attrs;
        observed.extend(outputs);
        Ok(Applied { attrs: attrs::with_outputs(&request, observed), id: id.to_owned() })
    }

    async fn delete_one(&self, kind: &str, id: &str) -> Result<(), EngineError> {
        let api = &self.api(&self.region_of(id)?);
        match kind {
            VPC => network::delete_vpc(api, id).await,
            SUBNET => network::delete_subnet(api, id).await,
            SECURITY_GROUP => network::delete_security_group(api, id).await,
            SECURITY_GROUP_RULE => network::delete_rule(api, id).await,
            INSTANCE => compute::delete_instance(api, id).await,
            VOLUME => compute::delete_volume(api, id).await,
            VOLUME_ATTACHMENT => compute::delete_attachment(api, id).await,
            LAUNCH_TEMPLATE => template::delete(api, id).await,
            EKS_CLUSTER => eks::delete_cluster(api, id).await,
            NODE_GROUP => eks::delete_node_group(api, id).await,
            ADDON => eks::delete_addon(api, id).await,
            LOAD_BALANCER => lb::delete_load_balancer(api, id).await,
            TARGET_GROUP => lb::delete_target_group(api, id).await,
            LISTENER => lb::delete_listener(api, id).await,
            other => Err(unknown(other)),
        }
    }

    /// Reads objects region by region, every region at once.
    async fn read_all(&self, objects: &[(&str, &str)]) -> Result<Vec<Option<Applied>>, EngineError> {
        let mut by_region: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, (_, id)) in objects.iter().enumerate() {
            by_region.entry(self.region_of(id)?).or_default().push(i);
        }
        let read = try_join_all(by_region.into_iter().map(|(region, indices)| async move {
            let part: Vec<(&str, &str)> = indices.iter().map(|&i| objects[i]).collect();
            let read = Box::pin(read_region(&self.api(&region), &part)).await?;
            Ok::<_, EngineError>(indices.into_iter().zip(read))
        }))
        .await?;
        let mut out = vec![None; objects.len()];
        for (i, applied) in read.into_iter().flatten() {
            out[i] = applied;
        }
        Ok(out)
    }

    /// Finds objects in every region the engine knows of, all at once, and remembers where
    /// they are.
    async fn find_all(&self, lineage: Option<&str>) -> Result<Vec<Found>, EngineError> {
        let Scope { kinds, mut regions } = self.inner.scope.lock().unwrap_or_else(|e| e.into_inner()).clone();
        regions.extend(self.inner.regions.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned());
        if regions.is_empty() {
            regions.insert(self.default_region()?);
        }
        let any = |of: &[&str]| of.iter().any(|k| kinds.contains(*k));
        let families = Families {
            templates: kinds.contains(LAUNCH_TEMPLATE),
            elb: any(ELB_KINDS),
            eks: any(EKS_KINDS),
            addons: kinds.contains(ADDON),
        };
        let found = try_join_all(regions.into_iter().map(|region| async move {
            let found = Box::pin(find_region(&self.api(&region), lineage, families)).await?;
            Ok::<_, EngineError>((region, found))
        }))
        .await?;
        let mut all = Vec::new();
        for (region, found) in found {
            for f in &found {
                self.remember(&f.kind, &f.id, &region);
            }
            all.extend(found);
        }
        all.sort();
        Ok(all)
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
            items.sort_by_cached_key(Value::to_string);
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

/// Sets the desired tags on the EC2 object `id` and removes the ones the spec dropped.
async fn retag_ec2(api: &Api, request: &Request<'_>, id: &str, have: Option<&Value>) -> Result<(), EngineError> {
    let tags = creation_tags(request)?;
    let create = api.ec2().create_tags().resources(id).set_tags(Some(tags));
    api.call("CreateTags", create.send()).await?;
    let dropped: Vec<Tag> =
        dropped_tags(have, &tag_map(request)?).into_iter().map(|k| Tag::builder().key(k).build()).collect();
    if !dropped.is_empty() {
        api.call("DeleteTags", api.ec2().delete_tags().resources(id).set_tags(Some(dropped)).send()).await?;
    }
    Ok(())
}

fn is_live(v: &Volume) -> bool {
    !matches!(v.state(), Some(VolumeState::Deleting | VolumeState::Deleted))
}

/// Reads objects of one region: one Describe call per EC2 listing (chunked by the filter
/// limit), the ELBv2 objects in one call per kind and their tags together, and each EKS object
/// with a call of its own, all at once.
async fn read_region(api: &Api, objects: &[(&str, &str)]) -> Result<Vec<Option<Applied>>, EngineError> {
    let (mut instances, mut volumes, mut groups, mut vpcs, mut subnets) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut templates, mut clusters, mut node_groups, mut addons) = (vec![], vec![], vec![], vec![]);
    let mut elb = lb::Wanted::default();
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
            LAUNCH_TEMPLATE => &mut templates,
            EKS_CLUSTER => &mut clusters,
            NODE_GROUP => &mut node_groups,
            ADDON => &mut addons,
            LOAD_BALANCER => &mut elb.load_balancers,
            TARGET_GROUP => &mut elb.target_groups,
            LISTENER => &mut elb.listeners,
            other => return Err(unknown(other)),
        };
        list.push(id.to_owned());
    }
    let (instances, volumes, groups, vpcs, subnets, templates, elb, eks) = tokio::try_join!(
        async { Ok::<_, EngineError>(by_ids::<Instance>(api, instances).await?) },
        async { Ok(by_ids::<Volume>(api, volumes).await?) },
        async { Ok(by_ids::<SecurityGroup>(api, groups).await?) },
        async { Ok(by_ids::<Vpc>(api, vpcs).await?) },
        async { Ok(by_ids::<Subnet>(api, subnets).await?) },
        async { Ok(Box::pin(template::read(api, templates)).await?) },
        async { Ok(Box::pin(lb::read(api, elb)).await?) },
        Box::pin(eks::read(api, clusters, node_groups, addons)),
    )?;
    let applied = |id: &str, attrs: Map<String, Value>| Applied { id: id.to_owned(), attrs };
    let no_tags = Vec::new();
    let elb_tags = |arn: &str| Some(elb.tags.get(arn).unwrap_or(&no_tags));
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
            LAUNCH_TEMPLATE => templates.get(id).map(|t| applied(id, t.clone())),
            EKS_CLUSTER => eks.clusters.get(id).map(|c| applied(id, c.clone())),
            NODE_GROUP => eks
                .node_groups
                .get(id)
                .filter(|g| g.status() != Some(&NodegroupStatus::Deleting))
                .map(|g| applied(id, eks::observe_node_group(g))),
            ADDON => eks
                .addons
                .get(id)
                .filter(|a| a.status() != Some(&AddonStatus::Deleting))
                .map(|a| applied(id, eks::observe_addon(a))),
            LOAD_BALANCER => {
                elb.load_balancers.get(id).map(|l| applied(id, lb::observe_load_balancer(l, elb_tags(id))))
            }
            TARGET_GROUP => elb.target_groups.get(id).map(|g| applied(id, lb::observe_target_group(g, elb_tags(id)))),
            LISTENER => elb.listeners.get(id).map(|l| applied(id, lb::observe_listener(l, elb_tags(id)))),
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

/// Which APIs beyond EC2's instances, volumes and networks [`find_region`] looks through.
#[derive(Clone, Copy)]
struct Families {
    /// Launch templates.
    templates: bool,
    /// Load balancers, target groups, listeners.
    elb: bool,
    /// EKS clusters and node groups.
    eks: bool,
    /// EKS add-ons.
    addons: bool,
}

/// Every object of one region tagged with `lineage` (any lineage with `None`), each API at once.
async fn find_region(api: &Api, lineage: Option<&str>, families: Families) -> Result<Vec<Found>, EngineError> {
    let (mut found, templates, elb, eks) = tokio::try_join!(
        async { Ok::<_, EngineError>(Box::pin(find_ec2(api, lineage)).await?) },
        async { if families.templates { Ok(Box::pin(template::find(api, lineage)).await?) } else { Ok(Vec::new()) } },
        async { if families.elb { Ok(Box::pin(lb::find(api, lineage)).await?) } else { Ok(Vec::new()) } },
        async {
            if families.eks { Ok(Box::pin(eks::find(api, lineage, families.addons)).await?) } else { Ok(Vec::new()) }
        },
    )?;
    found.extend(templates.into_iter().chain(elb).chain(eks));
    Ok(found)
}

/// Every EC2 network, instance and volume object tagged with `lineage` (any lineage with
/// `None`): one listing per kind, rules through their groups and attachments through their
/// volumes.
async fn find_ec2(api: &Api, lineage: Option<&str>) -> Result<Vec<Found>, api::ApiError> {
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
    // Rules are listed by their own tags: a forward's rule may be on a group berth did not
    // create (a cluster's security group).
    let listed = SecurityGroupRule::list(api, by_lineage()).await?;
    let mut rules: BTreeMap<&str, (Rule, &str)> = BTreeMap::new();
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
        Box::pin(self.read_all(objects))
    }

    fn find<'a>(&'a self, lineage: Option<&'a str>) -> BoxFuture<'a, Result<Vec<Found>, EngineError>> {
        Box::pin(self.find_all(lineage))
    }

    fn calls(&self) -> BTreeMap<String, u64> {
        self.inner.shared.counts()
    }
}

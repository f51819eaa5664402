//! Network load balancers, their target groups and listeners, through ELBv2. Their ids are
//! their ARNs. ELBv2 takes no idempotency token: names are unique per region, so a creation
//! that finds its name taken accepts the object if its tags carry the request's address and
//! lineage (an earlier attempt of the same creation), and fails otherwise.

use crate::api::{Api, ApiError};
use crate::attrs::{ADDRESS_TAG, Attrs, LINEAGE_TAG, Observed, missing, observed_pairs, ours, tag_map, with_outputs};
use crate::wait::{Status, Waited, wait};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Listener, LoadBalancer, LoadBalancerSchemeEnum, LoadBalancerStateEnum,
    LoadBalancerTypeEnum, ProtocolEnum, Tag, TargetGroup, TargetTypeEnum,
};
use berth_plan::{Applied, EngineError, Found, Request};
use futures::future::try_join_all;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

/// Most ARNs one DescribeTags, DescribeLoadBalancers or DescribeListeners call takes.
const ARNS_PER_CALL: usize = 20;

/// Most items one page of a listing holds.
const PAGE_SIZE: i32 = 400;

/// The tags of ELB objects by ARN, as key-value pairs.
pub(crate) type Tags = HashMap<String, Vec<(String, String)>>;

fn elb_tags(request: &Request<'_>) -> Result<Vec<Tag>, EngineError> {
    Ok(tag_map(request)?.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect())
}

/// The value of tag `key` among `tags`.
fn tag_of<'t>(tags: Option<&'t Vec<(String, String)>>, key: &str) -> Option<&'t str> {
    tags?.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `tags` in the form of the desired `tags` attribute.
fn observed(tags: Option<&Vec<(String, String)>>) -> Value {
    observed_pairs(tags.into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The tags of these objects, read in calls of [`ARNS_PER_CALL`].
pub(crate) async fn tags_of(api: &Api, arns: &[String]) -> Result<Tags, ApiError> {
    let mut out = Tags::with_capacity(arns.len());
    for chunk in arns.chunks(ARNS_PER_CALL) {
        let request = api.elb().describe_tags().set_resource_arns(Some(chunk.to_vec()));
        let described = api.call_elb("DescribeTags", request.send()).await?;
        for d in described.tag_descriptions() {
            let Some(arn) = d.resource_arn() else { continue };
            let pairs =
                d.tags().iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())));
            out.insert(arn.to_owned(), pairs.collect());
        }
    }
    Ok(out)
}

/// Objects by ARN, read in calls of [`ARNS_PER_CALL`] ARNs; ELBv2 fails a whole call when one
/// of its ARNs is gone, so then every object of the kind is listed instead.
async fn by_arns<T, C, CF, L, LF>(
    arns: Vec<String>,
    key: fn(&T) -> Option<&str>,
    chunk: C,
    all: L,
) -> Result<HashMap<String, T>, ApiError>
where
    C: Fn(Vec<String>) -> CF,
    CF: Future<Output = Result<Vec<T>, ApiError>>,
    L: FnOnce() -> LF,
    LF: Future<Output = Result<Vec<T>, ApiError>>,
{
    let mut found = HashMap::with_capacity(arns.len());
    for part in arns.chunks(ARNS_PER_CALL) {
        match chunk(part.to_vec()).await {
            Ok(items) => found.extend(items.into_iter().filter_map(|i| Some((key(&i)?.to_owned(), i)))),
            Err(e) if e.not_found() => {
                let wanted: HashSet<&String> = arns.iter().collect();
                return Ok(all()
                    .await?
                    .into_iter()
                    .filter_map(|i| Some((key(&i)?.to_owned(), i)))
                    .filter(|(arn, _)| wanted.contains(arn))
                    .collect());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// Every load balancer of the region.
async fn all_load_balancers(api: &Api) -> Result<Vec<LoadBalancer>, ApiError> {
    api.pages(|marker| {
        let request = api.elb().describe_load_balancers().page_size(PAGE_SIZE).set_marker(marker);
        async move {
            let out = api.call_elb("DescribeLoadBalancers", request.send()).await?;
            Ok((out.load_balancers().to_vec(), out.next_marker().map(str::to_owned)))
        }
    })
    .await
}

/// Every target group of the region.
async fn all_target_groups(api: &Api) -> Result<Vec<TargetGroup>, ApiError> {
    api.pages(|marker| {
        let request = api.elb().describe_target_groups().page_size(PAGE_SIZE).set_marker(marker);
        async move {
            let out = api.call_elb("DescribeTargetGroups", request.send()).await?;
            Ok((out.target_groups().to_vec(), out.next_marker().map(str::to_owned)))
        }
    })
    .await
}

/// Every listener of one load balancer (none if it is gone).
async fn listeners_of(api: &Api, load_balancer: &str) -> Result<Vec<Listener>, ApiError> {
    let listed = api
        .pages(|marker| {
            let request = api.elb().describe_listeners().load_balancer_arn(load_balancer).set_marker(marker);
            async move {
                let out = api.call_elb("DescribeListeners", request.send()).await?;
                Ok((out.listeners().to_vec(), out.next_marker().map(str::to_owned)))
            }
        })
        .await;
    match listed {
        Err(e) if e.not_found() => Ok(Vec::new()),
        other => other,
    }
}

/// Load balancers by ARN.
pub(crate) async fn load_balancers(api: &Api, arns: Vec<String>) -> Result<HashMap<String, LoadBalancer>, ApiError> {
    by_arns(
        arns,
        |l: &LoadBalancer| l.load_balancer_arn(),
        |part| async move {
            let request = api.elb().describe_load_balancers().set_load_balancer_arns(Some(part));
            Ok(api.call_elb("DescribeLoadBalancers", request.send()).await?.load_balancers().to_vec())
        },
        || all_load_balancers(api),
    )
    .await
}

/// Target groups by ARN.
pub(crate) async fn target_groups(api: &Api, arns: Vec<String>) -> Result<HashMap<String, TargetGroup>, ApiError> {
    by_arns(
        arns,
        |g: &TargetGroup| g.target_group_arn(),
        |part| async move {
            let request = api.elb().describe_target_groups().set_target_group_arns(Some(part));
            Ok(api.call_elb("DescribeTargetGroups", request.send()).await?.target_groups().to_vec())
        },
        || all_target_groups(api),
    )
    .await
}

/// The load balancer a listener ARN belongs to:
/// `arn:…:listener/net/NAME/LB/LISTENER` → `arn:…:loadbalancer/net/NAME/LB`.
fn load_balancer_of(listener: &str) -> Option<String> {
    let (head, rest) = listener.split_once(":listener/")?;
    let (lb, _) = rest.rsplit_once('/')?;
    Some(format!("{head}:loadbalancer/{lb}"))
}

/// Listeners by ARN: read with their ARNs, or per load balancer when one of them is gone.
pub(crate) async fn listeners(api: &Api, arns: Vec<String>) -> Result<HashMap<String, Listener>, ApiError> {
    let balancers: Vec<String> = {
        let mut b: Vec<String> = arns.iter().filter_map(|a| load_balancer_of(a)).collect();
        b.sort();
        b.dedup();
        b
    };
    by_arns(
        arns,
        |l: &Listener| l.listener_arn(),
        |part| async move {
            let request = api.elb().describe_listeners().set_listener_arns(Some(part));
            Ok(api.call_elb("DescribeListeners", request.send()).await?.listeners().to_vec())
        },
        || async move {
            let mut all = Vec::new();
            for lb in &balancers {
                all.extend(listeners_of(api, lb).await?);
            }
            Ok(all)
        },
    )
    .await
}

impl Waited for LoadBalancer {
    fn waiter(api: &Api) -> &crate::wait::Waiter<Self> {
        &api.load_balancers
    }

    fn fetch(api: &Api, ids: Vec<String>) -> impl Future<Output = Result<HashMap<String, Self>, ApiError>> + Send {
        load_balancers(api, ids)
    }
}

fn active(lb: Option<&LoadBalancer>) -> Status {
    let Some(lb) = lb else { return Status::Pending("not listed yet".into()) };
    let state = lb.state();
    match state.and_then(|s| s.code()) {
        Some(LoadBalancerStateEnum::Active | LoadBalancerStateEnum::ActiveImpaired) => Status::Done,
        Some(LoadBalancerStateEnum::Provisioning) | None => Status::Pending("provisioning".into()),
        Some(other) => Status::Failed(format!(
            "it is {}{}",
            other.as_str(),
            state.and_then(|s| s.reason()).map(|r| format!(" ({r})")).unwrap_or_default()
        )),
    }
}

/// Creates a load balancer and returns when it is active.
pub(crate) async fn create_load_balancer(api: &Arc<Api>, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let name = a.str("name")?;
    let scheme = if a.opt_bool("internal")?.unwrap_or(false) {
        LoadBalancerSchemeEnum::Internal
    } else {
        LoadBalancerSchemeEnum::InternetFacing
    };
    let create = api
        .elb()
        .create_load_balancer()
        .name(name)
        .set_subnets(Some(a.strs("subnets")?))
        .scheme(scheme)
        .r#type(LoadBalancerTypeEnum::from(a.opt_str("load_balancer_type")?.unwrap_or("application")))
        .set_tags(Some(elb_tags(request)?));
    let lb = match api.call_elb("CreateLoadBalancer", create.send()).await {
        Ok(out) => out.load_balancers().first().cloned().ok_or_else(|| missing("load balancer"))?,
        Err(e) if e.is("DuplicateLoadBalancerName") => {
            let named = api.elb().describe_load_balancers().names(name);
            let lb = api.call_elb("DescribeLoadBalancers", named.send()).await?.load_balancers().first().cloned();
            let lb = lb.ok_or_else(|| missing("load balancer of that name"))?;
            let arn = lb.load_balancer_arn().ok_or_else(|| missing("load balancer ARN"))?.to_owned();
            claim(api, request, &format!("load balancer {name}"), &arn).await?;
            lb
        }
        Err(e) => return Err(e.into()),
    };
    let arn = lb.load_balancer_arn().ok_or_else(|| missing("load balancer ARN"))?.to_owned();
    let lb = match active(Some(&lb)) {
        Status::Done => lb,
        _ => wait(api, &arn, "active", Box::new(active)).await?.ok_or_else(|| missing("load balancer"))?,
    };
    Ok(Applied { attrs: with_outputs(request, observe_load_balancer(&lb, None)), id: arn })
}

/// Fails unless the object `arn` carries the request's address and lineage.
async fn claim(api: &Api, request: &Request<'_>, what: &str, arn: &str) -> Result<(), EngineError> {
    let tags = tags_of(api, &[arn.to_owned()]).await?;
    let tags = tags.get(arn);
    ours(request, what, tag_of(tags, ADDRESS_TAG), tag_of(tags, LINEAGE_TAG))
}

/// A load balancer's attributes in the form of the desired ones, plus `arn` and `dns_name`;
/// `tags` when they were read.
pub(crate) fn observe_load_balancer(lb: &LoadBalancer, tags: Option<&Vec<(String, String)>>) -> Map<String, Value> {
    let mut subnets: Vec<&str> = lb.availability_zones().iter().filter_map(|z| z.subnet_id()).collect();
    subnets.sort_unstable();
    Observed::default()
        .set("name", lb.load_balancer_name())
        .set("internal", lb.scheme().map(|s| *s == LoadBalancerSchemeEnum::Internal))
        .set("load_balancer_type", lb.r#type().map(LoadBalancerTypeEnum::as_str))
        .set("subnets", (!subnets.is_empty()).then(|| json!(subnets)))
        .set("tags", tags.map(|t| observed(Some(t))))
        .set("arn", lb.load_balancer_arn())
        .set("dns_name", lb.dns_name())
        .done()
}

/// Deletes a load balancer; one already gone is success.
pub(crate) async fn delete_load_balancer(api: &Api, arn: &str) -> Result<(), EngineError> {
    match api.call_elb("DeleteLoadBalancer", api.elb().delete_load_balancer().load_balancer_arn(arn).send()).await {
        Err(e) if !e.not_found() => Err(e.into()),
        _ => Ok(()),
    }
}

/// Creates a target group.
pub(crate) async fn create_target_group(api: &Api, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let name = a.str("name")?;
    let create = api
        .elb()
        .create_target_group()
        .name(name)
        .port(a.int("port")?)
        .protocol(ProtocolEnum::from(a.str("protocol")?))
        .target_type(TargetTypeEnum::from(a.opt_str("target_type")?.unwrap_or("instance")))
        .set_vpc_id(a.opt_str("vpc_id")?.map(str::to_owned))
        .set_tags(Some(elb_tags(request)?));
    let group = match api.call_elb("CreateTargetGroup", create.send()).await {
        Ok(out) => out.target_groups().first().cloned().ok_or_else(|| missing("target group"))?,
        Err(e) if e.is("DuplicateTargetGroupName") => {
            let named = api.elb().describe_target_groups().names(name);
            let group = api.call_elb("DescribeTargetGroups", named.send()).await?.target_groups().first().cloned();
            let group = group.ok_or_else(|| missing("target group of that name"))?;
            let arn = group.target_group_arn().ok_or_else(|| missing("target group ARN"))?.to_owned();
            claim(api, request, &format!("target group {name}"), &arn).await?;
            group
        }
        Err(e) => return Err(e.into()),
    };
    let arn = group.target_group_arn().ok_or_else(|| missing("target group ARN"))?.to_owned();
    Ok(Applied { attrs: with_outputs(request, observe_target_group(&group, None)), id: arn })
}

/// A target group's attributes in the form of the desired ones, plus `arn`; `tags` when they
/// were read.
pub(crate) fn observe_target_group(g: &TargetGroup, tags: Option<&Vec<(String, String)>>) -> Map<String, Value> {
    Observed::default()
        .set("name", g.target_group_name())
        .set("port", g.port())
        .set("protocol", g.protocol().map(ProtocolEnum::as_str))
        .set("target_type", g.target_type().map(TargetTypeEnum::as_str))
        .set("vpc_id", g.vpc_id())
        .set("tags", tags.map(|t| observed(Some(t))))
        .set("arn", g.target_group_arn())
        .done()
}

/// Deletes a target group once no listener uses it; one already gone is success.
pub(crate) async fn delete_target_group(api: &Api, arn: &str) -> Result<(), EngineError> {
    crate::network::delete_when_free(api, arn, "ResourceInUse", || {
        api.call_elb("DeleteTargetGroup", api.elb().delete_target_group().target_group_arn(arn).send())
    })
    .await
}

/// The `default_action` attribute as ELBv2's action: forward to one target group.
fn default_action(a: &Attrs<'_>) -> Result<Action, EngineError> {
    let action = a
        .nested("default_action")?
        .ok_or_else(|| EngineError::permanent("aws_lb_listener: attribute `default_action` must be set".to_owned()))?;
    Ok(Action::builder()
        .r#type(ActionTypeEnum::from(action.str("type")?))
        .set_target_group_arn(action.opt_str("target_group_arn")?.map(str::to_owned))
        .build())
}

/// Creates a listener.
pub(crate) async fn create_listener(api: &Api, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let (lb, port) = (a.str("load_balancer_arn")?, a.int("port")?);
    let create = api
        .elb()
        .create_listener()
        .load_balancer_arn(lb)
        .port(port)
        .protocol(ProtocolEnum::from(a.str("protocol")?))
        .default_actions(default_action(&a)?)
        .set_tags(Some(elb_tags(request)?));
    let listener = match api.call_elb("CreateListener", create.send()).await {
        Ok(out) => out.listeners().first().cloned().ok_or_else(|| missing("listener"))?,
        Err(e) if e.is("DuplicateListener") => {
            let listener = listeners_of(api, lb).await?.into_iter().find(|l| l.port() == Some(port));
            let listener = listener.ok_or_else(|| missing("listener on that port"))?;
            let arn = listener.listener_arn().ok_or_else(|| missing("listener ARN"))?.to_owned();
            claim(api, request, &format!("the listener on port {port} of {lb}"), &arn).await?;
            listener
        }
        Err(e) => return Err(e.into()),
    };
    let arn = listener.listener_arn().ok_or_else(|| missing("listener ARN"))?.to_owned();
    Ok(Applied { attrs: with_outputs(request, observe_listener(&listener, None)), id: arn })
}

/// A listener's attributes in the form of the desired ones, plus `arn`; `tags` when they were
/// read.
pub(crate) fn observe_listener(l: &Listener, tags: Option<&Vec<(String, String)>>) -> Map<String, Value> {
    let action = l.default_actions().first().map(|a| {
        let mut m = Map::new();
        if let Some(t) = a.r#type() {
            m.insert("type".into(), json!(t.as_str()));
        }
        if let Some(g) = a.target_group_arn() {
            m.insert("target_group_arn".into(), json!(g));
        }
        Value::Object(m)
    });
    Observed::default()
        .set("load_balancer_arn", l.load_balancer_arn())
        .set("port", l.port())
        .set("protocol", l.protocol().map(ProtocolEnum::as_str))
        .set("default_action", action)
        .set("tags", tags.map(|t| observed(Some(t))))
        .set("arn", l.listener_arn())
        .done()
}

/// Changes a listener's port, protocol and default action in place.
pub(crate) async fn modify_listener(api: &Api, request: &Request<'_>, arn: &str) -> Result<(), EngineError> {
    let a = Attrs::of(request);
    let modify = api
        .elb()
        .modify_listener()
        .listener_arn(arn)
        .port(a.int("port")?)
        .protocol(ProtocolEnum::from(a.str("protocol")?))
        .default_actions(default_action(&a)?);
    api.call_elb("ModifyListener", modify.send()).await?;
    Ok(())
}

/// Deletes a listener; one already gone is success.
pub(crate) async fn delete_listener(api: &Api, arn: &str) -> Result<(), EngineError> {
    match api.call_elb("DeleteListener", api.elb().delete_listener().listener_arn(arn).send()).await {
        Err(e) if !e.not_found() => Err(e.into()),
        _ => Ok(()),
    }
}

/// Sets the desired tags on `arn` and removes the ones the spec dropped.
pub(crate) async fn retag(
    api: &Api,
    request: &Request<'_>,
    arn: &str,
    have: Option<&Value>,
) -> Result<(), EngineError> {
    let add = api.elb().add_tags().resource_arns(arn).set_tags(Some(elb_tags(request)?));
    api.call_elb("AddTags", add.send()).await?;
    let dropped = crate::attrs::dropped_tags(have, &tag_map(request)?);
    if !dropped.is_empty() {
        let remove = api.elb().remove_tags().resource_arns(arn).set_tag_keys(Some(dropped));
        api.call_elb("RemoveTags", remove.send()).await?;
    }
    Ok(())
}

/// What [`read`] reads: load balancers, target groups and listeners by ARN.
#[derive(Default)]
pub(crate) struct Wanted {
    /// Load balancer ARNs.
    pub(crate) load_balancers: Vec<String>,
    /// Target group ARNs.
    pub(crate) target_groups: Vec<String>,
    /// Listener ARNs.
    pub(crate) listeners: Vec<String>,
}

/// What [`read`] found, with every object's tags.
pub(crate) struct Read {
    /// Load balancers by ARN.
    pub(crate) load_balancers: HashMap<String, LoadBalancer>,
    /// Target groups by ARN.
    pub(crate) target_groups: HashMap<String, TargetGroup>,
    /// Listeners by ARN.
    pub(crate) listeners: HashMap<String, Listener>,
    /// Tags by ARN.
    pub(crate) tags: Tags,
}

/// Reads the objects of `wanted` and their tags: one Describe call per kind (per twenty ARNs)
/// and one DescribeTags call per twenty objects found.
pub(crate) async fn read(api: &Api, wanted: Wanted) -> Result<Read, ApiError> {
    let (load_balancers, target_groups, listeners) = tokio::try_join!(
        async {
            if wanted.load_balancers.is_empty() {
                Ok(HashMap::new())
            } else {
                load_balancers(api, wanted.load_balancers).await
            }
        },
        async {
            if wanted.target_groups.is_empty() {
                Ok(HashMap::new())
            } else {
                target_groups(api, wanted.target_groups).await
            }
        },
        async { if wanted.listeners.is_empty() { Ok(HashMap::new()) } else { listeners(api, wanted.listeners).await } },
    )?;
    let mut arns: Vec<String> =
        load_balancers.keys().chain(target_groups.keys()).chain(listeners.keys()).cloned().collect();
    arns.sort();
    let tags = tags_of(api, &arns).await?;
    Ok(Read { load_balancers, target_groups, listeners, tags })
}

/// Every load balancer, target group and listener tagged with `lineage` (any berth lineage
/// with `None`): one listing of load balancers and one of target groups, their tags, and the
/// listeners of berth's load balancers.
pub(crate) async fn find(api: &Api, lineage: Option<&str>) -> Result<Vec<Found>, ApiError> {
    let (balancers, groups) = tokio::try_join!(all_load_balancers(api), all_target_groups(api))?;
    let mut arns: Vec<String> = balancers
        .iter()
        .filter_map(LoadBalancer::load_balancer_arn)
        .chain(groups.iter().filter_map(TargetGroup::target_group_arn))
        .map(str::to_owned)
        .collect();
    let mut tags = tags_of(api, &arns).await?;
    let berth = |tags: &Tags, arn: &str| -> Option<(String, String)> {
        let t = tags.get(arn);
        let (address, of) = (tag_of(t, ADDRESS_TAG)?, tag_of(t, LINEAGE_TAG)?);
        lineage.is_none_or(|l| l == of).then(|| (address.to_owned(), of.to_owned()))
    };
    let found_of = |kind: &str, arn: &str, (address, lineage): (String, String)| Found {
        address,
        kind: kind.to_owned(),
        id: arn.to_owned(),
        lineage,
    };
    let mut found = Vec::new();
    let mut ours: Vec<&str> = Vec::new();
    for arn in balancers.iter().filter_map(LoadBalancer::load_balancer_arn) {
        if let Some(of) = berth(&tags, arn) {
            found.push(found_of(crate::LOAD_BALANCER, arn, of));
            ours.push(arn);
        }
    }
    for arn in groups.iter().filter_map(TargetGroup::target_group_arn) {
        if let Some(of) = berth(&tags, arn) {
            found.push(found_of(crate::TARGET_GROUP, arn, of));
        }
    }
    let listed = try_join_all(ours.into_iter().map(|lb| listeners_of(api, lb))).await?;
    arns = listed.iter().flatten().filter_map(|l| l.listener_arn().map(str::to_owned)).collect();
    tags.extend(tags_of(api, &arns).await?);
    for arn in &arns {
        if let Some(of) = berth(&tags, arn) {
            found.push(found_of(crate::LISTENER, arn, of));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisioning_load_balancers_are_waited_for() {
        use aws_sdk_elasticloadbalancingv2::types::LoadBalancerState;
        let lb = |code: LoadBalancerStateEnum| {
            LoadBalancer::builder().state(LoadBalancerState::builder().code(code).reason("no subnet").build()).build()
        };
        assert!(matches!(active(Some(&lb(LoadBalancerStateEnum::Provisioning))), Status::Pending(_)));
        assert!(matches!(active(Some(&lb(LoadBalancerStateEnum::Active))), Status::Done));
        assert!(
            matches!(active(Some(&lb(LoadBalancerStateEnum::Failed))), Status::Failed(why) if why.contains("no subnet"))
        );
        assert!(matches!(active(None), Status::Pending(_)));
    }

    #[test]
    fn listeners_belong_to_their_load_balancer() {
        assert_eq!(
            load_balancer_of(
                "arn:aws:elasticloadbalancing:eu-west-1:1:listener/net/b0/50dc6c495c0c9188/f2f7dc8efc522ab2"
            )
            .as_deref(),
            Some("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/b0/50dc6c495c0c9188")
        );
        assert_eq!(load_balancer_of("arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/1"), None);
    }
}

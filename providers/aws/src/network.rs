//! VPCs, subnets, security groups and their rules.

use crate::api::{Api, ApiError};
use crate::attrs::{Attrs, Observed, missing, observed_tags, tag_spec, with_outputs};
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, SecurityGroup, Subnet, Vpc};
use berth_plan::{Applied, EngineError, Request};
use serde_json::{Map, Value};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The protocol AWS spells for "every protocol", whose ports are meaningless.
const ALL_PROTOCOLS: &str = "-1";

/// The error code EC2 answers a deletion with while something still uses the object.
pub(crate) const DEPENDENCY_VIOLATION: &str = "DependencyViolation";

/// Runs a deletion, again while the API answers `busy` (something still depends on the object:
/// an instance still releasing its network interface), until the wait timeout. Gone is success.
pub(crate) async fn delete_when_free<F, Fut, T>(
    api: &Api,
    what: &str,
    busy: &str,
    mut delete: F,
) -> Result<(), EngineError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let deadline = Instant::now() + api.wait_timeout;
    let mut pause = Duration::from_millis(500);
    loop {
        match delete().await {
            Ok(_) => return Ok(()),
            Err(e) if e.not_found() => return Ok(()),
            Err(e) if e.is(busy) && Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) if e.is(busy) => {
                return Err(EngineError::transient(format!(
                    "{what} still in use after {} s: {}",
                    api.wait_timeout.as_secs(),
                    e.error.message
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Creates a VPC.
pub(crate) async fn create_vpc(api: &Api, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let create = api
        .ec2()
        .create_vpc()
        .cidr_block(a.str("cidr_block")?)
        .tag_specifications(tag_spec(request, ResourceType::Vpc)?);
    let out = api.call("CreateVpc", create.send()).await?;
    let vpc = out.vpc().ok_or_else(|| missing("VPC"))?;
    let id = vpc.vpc_id().ok_or_else(|| missing("VPC id"))?.to_owned();
    Ok(Applied { attrs: with_outputs(request, observe_vpc(vpc)), id })
}

/// A VPC's attributes in the form of the desired ones.
pub(crate) fn observe_vpc(v: &Vpc) -> Map<String, Value> {
    Observed::default().set("cidr_block", v.cidr_block()).set("tags", Some(observed_tags(v.tags()))).done()
}

/// Deletes a VPC once nothing in it is left.
pub(crate) async fn delete_vpc(api: &Api, id: &str) -> Result<(), EngineError> {
    delete_when_free(api, id, DEPENDENCY_VIOLATION, || api.call("DeleteVpc", api.ec2().delete_vpc().vpc_id(id).send()))
        .await
}

/// Creates a subnet.
pub(crate) async fn create_subnet(api: &Api, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let create = api
        .ec2()
        .create_subnet()
        .vpc_id(a.str("vpc_id")?)
        .cidr_block(a.str("cidr_block")?)
        .set_availability_zone(a.opt_str("availability_zone")?.map(str::to_owned))
        .tag_specifications(tag_spec(request, ResourceType::Subnet)?);
    let out = api.call("CreateSubnet", create.send()).await?;
    let subnet = out.subnet().ok_or_else(|| missing("subnet"))?;
    let id = subnet.subnet_id().ok_or_else(|| missing("subnet id"))?.to_owned();
    Ok(Applied { attrs: with_outputs(request, observe_subnet(subnet)), id })
}

/// A subnet's attributes in the form of the desired ones.
pub(crate) fn observe_subnet(s: &Subnet) -> Map<String, Value> {
    Observed::default()
        .set("vpc_id", s.vpc_id())
        .set("cidr_block", s.cidr_block())
        .set("availability_zone", s.availability_zone())
        .set("tags", Some(observed_tags(s.tags())))
        .done()
}

/// Deletes a subnet once nothing in it is left.
pub(crate) async fn delete_subnet(api: &Api, id: &str) -> Result<(), EngineError> {
    delete_when_free(api, id, DEPENDENCY_VIOLATION, || {
        api.call("DeleteSubnet", api.ec2().delete_subnet().subnet_id(id).send())
    })
    .await
}

/// The rule AWS gives every new group (all traffic out), which berth states explicitly instead.
fn default_egress() -> IpPermission {
    IpPermission::builder()
        .ip_protocol(ALL_PROTOCOLS)
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build()
}

/// Creates a security group without AWS's default egress rule (as Terraform does): the spec's
/// rules are all it allows.
pub(crate) async fn create_security_group(api: &Api, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let vpc = match (a.opt_str("vpc_id")?, a.opt_str("subnet_id")?) {
        (Some(vpc), _) => Some(vpc.to_owned()),
        (None, Some(subnet)) => Some(vpc_of_subnet(api, subnet).await?),
        (None, None) => None,
    };
    let create = api
        .ec2()
        .create_security_group()
        .group_name(a.str("name")?)
        .description(a.opt_str("description")?.unwrap_or("Managed by berth"))
        .set_vpc_id(vpc)
        .tag_specifications(tag_spec(request, ResourceType::SecurityGroup)?);
    let out = api.call("CreateSecurityGroup", create.send()).await?;
    let id = out.group_id().ok_or_else(|| missing("group id"))?.to_owned();
    let revoke = api.ec2().revoke_security_group_egress().group_id(&id).ip_permissions(default_egress());
    match api.call("RevokeSecurityGroupEgress", revoke.send()).await {
        Err(e) if !e.is("InvalidPermission.NotFound") => return Err(e.into()),
        _ => {}
    }
    let outputs = Observed::default().set("arn", out.security_group_arn()).done();
    Ok(Applied { attrs: with_outputs(request, outputs), id })
}

/// The VPC of a subnet: where a group for the hosts in that subnet belongs.
async fn vpc_of_subnet(api: &Api, subnet: &str) -> Result<String, EngineError> {
    let out = api.call("DescribeSubnets", api.ec2().describe_subnets().subnet_ids(subnet).send()).await?;
    out.subnets()
        .first()
        .and_then(|s| s.vpc_id())
        .map(str::to_owned)
        .ok_or_else(|| EngineError::permanent(format!("subnet {subnet} has no VPC")))
}

/// A security group's attributes in the form of the desired ones.
pub(crate) fn observe_security_group(g: &SecurityGroup) -> Map<String, Value> {
    Observed::default()
        .set("name", g.group_name())
        .set("description", g.description())
        .set("vpc_id", g.vpc_id())
        .set("tags", Some(observed_tags(g.tags())))
        .set("arn", g.security_group_arn())
        .done()
}

/// Deletes a security group once no instance uses it.
pub(crate) async fn delete_security_group(api: &Api, id: &str) -> Result<(), EngineError> {
    delete_when_free(api, id, DEPENDENCY_VIOLATION, || {
        api.call("DeleteSecurityGroup", api.ec2().delete_security_group().group_id(id).send())
    })
    .await
}

/// A security group rule as berth identifies it: the group, the direction, the protocol, the
/// ports and the CIDR blocks. Its id is `<group>/<ingress|egress>/<protocol>/<from>/<to>/<cidrs>`
/// with the CIDR blocks sorted and joined by commas, e.g. `sg-1/egress/-1/0/0/0.0.0.0/0`; ports
/// of the all-protocols rule are 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The security group.
    pub(crate) group: String,
    /// True for an egress rule.
    pub(crate) egress: bool,
    /// `tcp`, `udp`, `icmp` or `-1`.
    pub(crate) protocol: String,
    /// First port.
    pub(crate) from: i32,
    /// Last port.
    pub(crate) to: i32,
    /// Sorted CIDR blocks.
    pub(crate) cidrs: Vec<String>,
}

impl Rule {
    /// The rule `request` describes.
    fn of(request: &Request<'_>) -> Result<Self, EngineError> {
        let a = Attrs::of(request);
        let egress = match a.str("type")? {
            "ingress" => false,
            "egress" => true,
            other => return Err(EngineError::permanent(format!("rule type `{other}` is neither ingress nor egress"))),
        };
        let mut cidrs = a.strs("cidr_blocks")?;
        cidrs.sort();
        cidrs.dedup();
        Ok(Self::new(
            a.str("security_group_id")?,
            egress,
            a.str("protocol")?,
            a.int("from_port")?,
            a.int("to_port")?,
            cidrs,
        ))
    }

    /// A rule, its ports zero when it covers every protocol.
    pub(crate) fn new(group: &str, egress: bool, protocol: &str, from: i32, to: i32, cidrs: Vec<String>) -> Self {
        let all = protocol == ALL_PROTOCOLS;
        Self {
            group: group.to_owned(),
            egress,
            protocol: protocol.to_owned(),
            from: if all { 0 } else { from },
            to: if all { 0 } else { to },
            cidrs,
        }
    }

    /// The rule an id names.
    pub(crate) fn parse(id: &str) -> Result<Self, EngineError> {
        let bad = || EngineError::permanent(format!("`{id}` is not a security group rule id"));
        let parts: Vec<&str> = id.splitn(6, '/').collect();
        let [group, kind, protocol, from, to, cidrs] = parts[..] else { return Err(bad()) };
        let egress = match kind {
            "ingress" => false,
            "egress" => true,
            _ => return Err(bad()),
        };
        let port = |p: &str| p.parse::<i32>().map_err(|_| bad());
        let cidrs = cidrs.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect();
        Ok(Self::new(group, egress, protocol, port(from)?, port(to)?, cidrs))
    }

    /// The rule's id.
    pub(crate) fn id(&self) -> String {
        let kind = if self.egress { "egress" } else { "ingress" };
        format!("{}/{kind}/{}/{}/{}/{}", self.group, self.protocol, self.from, self.to, self.cidrs.join(","))
    }

    fn permission(&self, description: Option<&str>) -> IpPermission {
        let all = self.protocol == ALL_PROTOCOLS;
        let ranges = self
            .cidrs
            .iter()
            .map(|c| IpRange::builder().cidr_ip(c).set_description(description.map(str::to_owned)).build());
        IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port((!all).then_some(self.from))
            .set_to_port((!all).then_some(self.to))
            .set_ip_ranges(Some(ranges.collect()))
            .build()
    }

    /// The rule as it stands in `group`: its attributes, `None` if none of its CIDR blocks is
    /// there.
    pub(crate) fn observe(&self, group: &SecurityGroup) -> Option<Map<String, Value>> {
        let permissions = if self.egress { group.ip_permissions_egress() } else { group.ip_permissions() };
        let all = self.protocol == ALL_PROTOCOLS;
        let mut cidrs = Vec::new();
        let mut description = None;
        for p in permissions.iter().filter(|p| {
            p.ip_protocol() == Some(self.protocol.as_str())
                && (all || (p.from_port() == Some(self.from) && p.to_port() == Some(self.to)))
        }) {
            for r in p.ip_ranges() {
                if let Some(c) = r.cidr_ip().filter(|c| self.cidrs.iter().any(|w| w == c)) {
                    cidrs.push(Value::String(c.to_owned()));
                    description = description.or(r.description());
                }
            }
        }
        if cidrs.is_empty() {
            return None;
        }
        cidrs.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        cidrs.dedup();
        Some(
            Observed::default()
                .set("type", Some(if self.egress { "egress" } else { "ingress" }))
                .set("security_group_id", Some(self.group.as_str()))
                .set("protocol", Some(self.protocol.as_str()))
                .set("from_port", Some(self.from))
                .set("to_port", Some(self.to))
                .set("cidr_blocks", Some(cidrs))
                .set("description", description)
                .done(),
        )
    }
}

/// Authorises a rule; a rule that exists already counts as created.
pub(crate) async fn create_rule(api: &Api, request: &Request<'_>) -> Result<Applied, EngineError> {
    let rule = Rule::of(request)?;
    let permission = rule.permission(Attrs::of(request).opt_str("description")?);
    let tags = tag_spec(request, ResourceType::SecurityGroupRule)?;
    let result = if rule.egress {
        let call = api.ec2().authorize_security_group_egress().group_id(&rule.group).ip_permissions(permission);
        api.call("AuthorizeSecurityGroupEgress", call.tag_specifications(tags).send()).await.map(drop)
    } else {
        let call = api.ec2().authorize_security_group_ingress().group_id(&rule.group).ip_permissions(permission);
        api.call("AuthorizeSecurityGroupIngress", call.tag_specifications(tags).send()).await.map(drop)
    };
    match result {
        Err(e) if !e.is("InvalidPermission.Duplicate") => Err(e.into()),
        _ => Ok(Applied { id: rule.id(), attrs: request.attrs.clone() }),
    }
}

/// Changes a rule's description in place.
pub(crate) async fn update_rule_description(api: &Api, request: &Request<'_>, id: &str) -> Result<(), EngineError> {
    let rule = Rule::parse(id)?;
    let permission = rule.permission(Some(Attrs::of(request).opt_str("description")?.unwrap_or_default()));
    if rule.egress {
        let call =
            api.ec2().update_security_group_rule_descriptions_egress().group_id(&rule.group).ip_permissions(permission);
        api.call("UpdateSecurityGroupRuleDescriptionsEgress", call.send()).await?;
    } else {
        let call = api
            .ec2()
            .update_security_group_rule_descriptions_ingress()
            .group_id(&rule.group)
            .ip_permissions(permission);
        api.call("UpdateSecurityGroupRuleDescriptionsIngress", call.send()).await?;
    }
    Ok(())
}

/// Revokes a rule; a rule or group already gone is success.
pub(crate) async fn delete_rule(api: &Api, id: &str) -> Result<(), EngineError> {
    let rule = Rule::parse(id)?;
    let permission = rule.permission(None);
    let result = if rule.egress {
        let call = api.ec2().revoke_security_group_egress().group_id(&rule.group).ip_permissions(permission);
        api.call("RevokeSecurityGroupEgress", call.send()).await.map(drop)
    } else {
        let call = api.ec2().revoke_security_group_ingress().group_id(&rule.group).ip_permissions(permission);
        api.call("RevokeSecurityGroupIngress", call.send()).await.map(drop)
    };
    match result {
        Err(e) if !e.not_found() => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_round_trip() {
        let rule = Rule::new("sg-1", true, "-1", -1, -1, vec!["0.0.0.0/0".into(), "10.0.0.0/8".into()]);
        assert_eq!(rule.id(), "sg-1/egress/-1/0/0/0.0.0.0/0,10.0.0.0/8");
        assert_eq!(Rule::parse(&rule.id()).unwrap(), rule);
        let tcp = Rule::new("sg-2", false, "tcp", 22, 22, vec!["10.0.0.0/8".into()]);
        assert_eq!(Rule::parse(&tcp.id()).unwrap(), tcp);
        assert!(Rule::parse("sg-1/sideways/tcp/1/2/0.0.0.0/0").is_err());
        assert!(Rule::parse("sg-1/egress").is_err());
    }
}

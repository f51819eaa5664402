//! Listings: every page of one Describe call for a filter, per kind of EC2 object.

use crate::api::{Api, ApiError, FILTER_VALUES, filter};
use aws_sdk_ec2::types::{Filter, Instance, SecurityGroup, SecurityGroupRule, Subnet, Tag, Volume, Vpc};
use std::collections::HashMap;

/// An EC2 object that a Describe call lists.
pub(crate) trait Listed: Clone + Send + Sync + 'static {
    /// The filter that selects objects by id (`instance-id`).
    const ID_FILTER: &'static str;
    /// Its id.
    fn key(&self) -> Option<&str>;
    /// Its tags.
    fn tags(&self) -> &[Tag];
    /// Every object matching `filter`.
    fn list(api: &Api, filter: Filter) -> impl Future<Output = Result<Vec<Self>, ApiError>> + Send;
}

/// The objects with these ids that exist, by id: one call per [`FILTER_VALUES`] ids.
pub(crate) async fn by_ids<T: Listed>(api: &Api, mut ids: Vec<String>) -> Result<HashMap<String, T>, ApiError> {
    ids.sort_unstable();
    ids.dedup();
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(FILTER_VALUES) {
        let items = T::list(api, filter(T::ID_FILTER, chunk.iter().cloned())).await?;
        found.extend(items.into_iter().filter_map(|i| Some((i.key()?.to_owned(), i))));
    }
    Ok(found)
}

/// Lists one kind: `$call` is the operation's name, `$items` takes the items from a page.
macro_rules! listed {
    ($type:ty, $id_filter:literal, $key:ident, $op:ident, $call:literal, |$out:ident| $items:expr) => {
        impl Listed for $type {
            const ID_FILTER: &'static str = $id_filter;

            fn key(&self) -> Option<&str> {
                self.$key()
            }

            fn tags(&self) -> &[Tag] {
                <$type>::tags(self)
            }

            async fn list(api: &Api, filter: Filter) -> Result<Vec<Self>, ApiError> {
                api.pages(|token| {
                    let request = api.ec2().$op().filters(filter.clone()).set_next_token(token);
                    async move {
                        let $out = api.call($call, request.send()).await?;
                        Ok(($items, $out.next_token().map(str::to_owned)))
                    }
                })
                .await
            }
        }
    };
}

listed!(Instance, "instance-id", instance_id, describe_instances, "DescribeInstances", |out| out
    .reservations()
    .iter()
    .flat_map(|r| r.instances().iter().cloned())
    .collect());
listed!(Volume, "volume-id", volume_id, describe_volumes, "DescribeVolumes", |out| out.volumes().to_vec());
listed!(Vpc, "vpc-id", vpc_id, describe_vpcs, "DescribeVpcs", |out| out.vpcs().to_vec());
listed!(Subnet, "subnet-id", subnet_id, describe_subnets, "DescribeSubnets", |out| out.subnets().to_vec());
listed!(SecurityGroup, "group-id", group_id, describe_security_groups, "DescribeSecurityGroups", |out| out
    .security_groups()
    .to_vec());
listed!(
    SecurityGroupRule,
    "security-group-rule-id",
    security_group_rule_id,
    describe_security_group_rules,
    "DescribeSecurityGroupRules",
    |out| out.security_group_rules().to_vec()
);

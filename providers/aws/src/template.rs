//! EC2 launch templates: the kubelet settings of EKS node groups. A change of `description` or
//! `user_data` is a new version of the template, in place (`latest_version` grows and node
//! groups that refer to it roll to it).

use crate::api::{Api, ApiError, filter};
use crate::attrs::{
    ADDRESS_TAG, Attrs, LINEAGE_TAG, Observed, missing, observed_tags, ours, tag, tag_spec, token, with_outputs,
};
use aws_sdk_ec2::types::{LaunchTemplate, RequestLaunchTemplateData, ResourceType};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use berth_plan::{Applied, EngineError, Found, Request};
use futures::future::try_join_all;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Most ids one DescribeLaunchTemplates call takes.
const IDS_PER_CALL: usize = 200;

/// Template attributes a new version changes in place.
pub(crate) const IN_PLACE: &[&str] = &["description", "user_data"];

/// The request's `user_data` (plain text) as the launch template data (base64).
fn data(a: &Attrs<'_>) -> Result<RequestLaunchTemplateData, EngineError> {
    Ok(RequestLaunchTemplateData::builder().set_user_data(a.opt_str("user_data")?.map(|u| BASE64.encode(u))).build())
}

/// Creates a launch template.
pub(crate) async fn create(api: &Api, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let name = a.str("name")?;
    let create = api
        .ec2()
        .create_launch_template()
        .launch_template_name(name)
        .set_version_description(a.opt_str("description")?.map(str::to_owned))
        .launch_template_data(data(&a)?)
        .client_token(token(request))
        .tag_specifications(tag_spec(request, ResourceType::LaunchTemplate)?);
    let template = match api.call("CreateLaunchTemplate", create.send()).await {
        Ok(out) => out.launch_template().cloned().ok_or_else(|| missing("launch template"))?,
        Err(e) if e.is("InvalidLaunchTemplateName.AlreadyExistsException") => {
            let named = api.ec2().describe_launch_templates().launch_template_names(name);
            let out = api.call("DescribeLaunchTemplates", named.send()).await?;
            let template = out.launch_templates().first().cloned().ok_or_else(|| missing("launch template"))?;
            let what = format!("launch template {name}");
            ours(request, &what, tag(template.tags(), ADDRESS_TAG), tag(template.tags(), LINEAGE_TAG))?;
            template
        }
        Err(e) => return Err(e.into()),
    };
    let id = template.launch_template_id().ok_or_else(|| missing("launch template id"))?.to_owned();
    let outputs = Observed::default().set("latest_version", template.latest_version_number()).done();
    Ok(Applied { attrs: with_outputs(request, outputs), id })
}

/// Makes the request's description and user data the template's latest version; returns the
/// new `latest_version`.
pub(crate) async fn new_version(api: &Api, request: &Request<'_>, id: &str) -> Result<Map<String, Value>, EngineError> {
    let a = Attrs::of(request);
    let create = api
        .ec2()
        .create_launch_template_version()
        .launch_template_id(id)
        .set_version_description(a.opt_str("description")?.map(str::to_owned))
        .launch_template_data(data(&a)?);
    let out = api.call("CreateLaunchTemplateVersion", create.send()).await?;
    let version = out.launch_template_version().and_then(|v| v.version_number());
    Ok(Observed::default().set("latest_version", Some(version.ok_or_else(|| missing("version number"))?)).done())
}

/// Deletes a launch template; one already gone is success.
pub(crate) async fn delete(api: &Api, id: &str) -> Result<(), EngineError> {
    match api.call("DeleteLaunchTemplate", api.ec2().delete_launch_template().launch_template_id(id).send()).await {
        Err(e) if !e.not_found() => Err(e.into()),
        _ => Ok(()),
    }
}

/// Every launch template of the region that matches `filters`.
async fn list(api: &Api, filters: Vec<aws_sdk_ec2::types::Filter>) -> Result<Vec<LaunchTemplate>, ApiError> {
    api.pages(|token| {
        let request = api.ec2().describe_launch_templates().set_filters(Some(filters.clone())).set_next_token(token);
        async move {
            let out = api.call("DescribeLaunchTemplates", request.send()).await?;
            Ok((out.launch_templates().to_vec(), out.next_token().map(str::to_owned)))
        }
    })
    .await
}

/// Launch templates by id, with their latest version's description and user data: one
/// DescribeLaunchTemplates call per [`IDS_PER_CALL`] ids (every template of the region when one
/// of them is gone), one DescribeLaunchTemplateVersions call per template found.
pub(crate) async fn read(api: &Api, ids: Vec<String>) -> Result<HashMap<String, Map<String, Value>>, ApiError> {
    let mut found: Vec<LaunchTemplate> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_CALL) {
        let request = api.ec2().describe_launch_templates().set_launch_template_ids(Some(chunk.to_vec()));
        match api.call("DescribeLaunchTemplates", request.send()).await {
            Ok(out) => found.extend(out.launch_templates().iter().cloned()),
            Err(e) if e.not_found() => {
                found = list(api, Vec::new()).await?;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    found.retain(|t| t.launch_template_id().is_some_and(|id| ids.iter().any(|i| i == id)));
    let observed = try_join_all(found.iter().map(|t| async move {
        let id = t.launch_template_id().unwrap_or_default();
        let versions = api.ec2().describe_launch_template_versions().launch_template_id(id).versions("$Latest");
        let out = api.call("DescribeLaunchTemplateVersions", versions.send()).await?;
        let latest = out.launch_template_versions().first();
        let user_data = latest
            .and_then(|v| v.launch_template_data())
            .and_then(|d| d.user_data())
            .and_then(|u| BASE64.decode(u).ok())
            .and_then(|u| String::from_utf8(u).ok());
        let attrs = Observed::default()
            .set("name", t.launch_template_name())
            .set("description", latest.and_then(|v| v.version_description()))
            .set("user_data", user_data)
            .set("tags", Some(observed_tags(t.tags())))
            .set("latest_version", t.latest_version_number())
            .done();
        Ok::<_, ApiError>((id.to_owned(), attrs))
    }))
    .await?;
    Ok(observed.into_iter().collect())
}

/// Every launch template tagged with `lineage` (any berth lineage with `None`).
pub(crate) async fn find(api: &Api, lineage: Option<&str>) -> Result<Vec<Found>, ApiError> {
    let by_lineage = match lineage {
        Some(lineage) => filter(&format!("tag:{LINEAGE_TAG}"), [lineage]),
        None => filter("tag-key", [LINEAGE_TAG]),
    };
    Ok(list(api, vec![by_lineage])
        .await?
        .iter()
        .filter_map(|t| {
            Some(Found {
                address: tag(t.tags(), ADDRESS_TAG)?.to_owned(),
                kind: crate::LAUNCH_TEMPLATE.to_owned(),
                id: t.launch_template_id()?.to_owned(),
                lineage: tag(t.tags(), LINEAGE_TAG)?.to_owned(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_data_goes_out_in_base64() {
        let attrs = json!({"user_data": "MIME-Version: 1.0\n"});
        let request = Request {
            address: "a:aws_launch_template",
            kind: "aws_launch_template",
            attrs: attrs.as_object().unwrap(),
            lineage: "l",
            token: "t",
        };
        let d = data(&Attrs::of(&request)).unwrap();
        assert_eq!(d.user_data(), Some("TUlNRS1WZXJzaW9uOiAxLjAK"));
    }
}

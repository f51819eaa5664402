//! Instances, EBS volumes and volume attachments.

use crate::api::Api;
use crate::attrs::{Attrs, Observed, missing, observed_tags, sorted, tag_spec, token, with_outputs};
use crate::wait::{Status, wait};
use aws_sdk_ec2::types::{
    Instance, InstanceStateName, InstanceType, Placement, ResourceType, Volume, VolumeAttachmentState, VolumeState,
    VolumeType,
};
use berth_plan::{Applied, EngineError, Request};
use serde_json::{Map, Value};
use std::sync::Arc;

fn instance_state(i: &Instance) -> Option<&InstanceStateName> {
    i.state().and_then(|s| s.name())
}

fn running(i: Option<&Instance>) -> Status {
    let Some(i) = i else { return Status::Pending("not listed yet".into()) };
    match instance_state(i) {
        Some(InstanceStateName::Running) => Status::Done,
        Some(InstanceStateName::Pending) | None => Status::Pending("pending".into()),
        Some(other) => Status::Failed(format!(
            "it is {}{}",
            other.as_str(),
            i.state_reason().and_then(|r| r.message()).map(|m| format!(" ({m})")).unwrap_or_default()
        )),
    }
}

fn terminated(i: Option<&Instance>) -> Status {
    match i.and_then(instance_state) {
        None | Some(InstanceStateName::Terminated) => Status::Done,
        Some(other) => Status::Pending(other.as_str().to_owned()),
    }
}

/// True for an instance that is, or is on its way to be, gone.
pub(crate) fn is_gone(i: &Instance) -> bool {
    matches!(instance_state(i), Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown))
}

/// Launches an instance and returns when it is running.
pub(crate) async fn create_instance(api: &Arc<Api>, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let groups = a.strs("vpc_security_group_ids")?;
    // Groups go on the instance itself (not through a network interface), so that reads see them.
    let mut run = api
        .ec2()
        .run_instances()
        .image_id(a.str("ami")?)
        .instance_type(InstanceType::from(a.str("instance_type")?))
        .min_count(1)
        .max_count(1)
        .client_token(token(request))
        .set_subnet_id(a.opt_str("subnet_id")?.map(str::to_owned))
        .set_security_group_ids((!groups.is_empty()).then_some(groups))
        .tag_specifications(tag_spec(request, ResourceType::Instance)?);
    if let Some(zone) = a.opt_str("availability_zone")? {
        run = run.placement(Placement::builder().availability_zone(zone).build());
    }
    let out = api.call("RunInstances", run.send()).await?;
    let launched = out.instances().first().ok_or_else(|| missing("instance"))?;
    let id = launched.instance_id().ok_or_else(|| missing("instance id"))?.to_owned();
    let instance = match running(Some(launched)) {
        Status::Done => launched.clone(),
        _ => wait(api, &id, "running", Box::new(running)).await?.ok_or_else(|| missing("instance"))?,
    };
    Ok(Applied { attrs: with_outputs(request, observe_instance(&instance)), id })
}

/// An instance's attributes in the form of the desired ones, plus `private_ip` and `public_ip`.
pub(crate) fn observe_instance(i: &Instance) -> Map<String, Value> {
    let groups: Vec<String> = i.security_groups().iter().filter_map(|g| g.group_id().map(str::to_owned)).collect();
    Observed::default()
        .set("ami", i.image_id())
        .set("instance_type", i.instance_type().map(InstanceType::as_str))
        .set("availability_zone", i.placement().and_then(|p| p.availability_zone()))
        .set("subnet_id", i.subnet_id())
        .set("vpc_security_group_ids", (!groups.is_empty()).then(|| sorted(groups)))
        .set("tags", Some(observed_tags(i.tags())))
        .set("private_ip", i.private_ip_address())
        .set("public_ip", i.public_ip_address())
        .done()
}

/// Terminates an instance and returns when it is terminated.
pub(crate) async fn delete_instance(api: &Arc<Api>, id: &str) -> Result<(), EngineError> {
    let out = match api.call("TerminateInstances", api.ec2().terminate_instances().instance_ids(id).send()).await {
        Err(e) if e.not_found() => return Ok(()),
        other => other?,
    };
    let state = out.terminating_instances().first().and_then(|c| c.current_state()).and_then(|s| s.name());
    if state != Some(&InstanceStateName::Terminated) {
        wait(api, id, "terminated", Box::new(terminated)).await?;
    }
    Ok(())
}

fn available(v: Option<&Volume>) -> Status {
    match v.and_then(Volume::state) {
        Some(VolumeState::Available) => Status::Done,
        Some(VolumeState::Creating) => Status::Pending("creating".into()),
        None => Status::Pending("not listed yet".into()),
        Some(other) => Status::Failed(format!("it is {}", other.as_str())),
    }
}

fn deleted(v: Option<&Volume>) -> Status {
    match v.and_then(Volume::state) {
        None | Some(VolumeState::Deleted) => Status::Done,
        Some(other) => Status::Pending(other.as_str().to_owned()),
    }
}

/// Creates a volume and returns when it is available.
pub(crate) async fn create_volume(api: &Arc<Api>, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let create = api
        .ec2()
        .create_volume()
        .availability_zone(a.str("availability_zone")?)
        .volume_type(VolumeType::from(a.str("type")?))
        .size(a.int("size")?)
        .set_iops(a.opt_int("iops")?)
        .set_throughput(a.opt_int("throughput")?)
        .client_token(token(request))
        .tag_specifications(tag_spec(request, ResourceType::Volume)?);
    let out = api.call("CreateVolume", create.send()).await?;
    let id = out.volume_id().ok_or_else(|| missing("volume id"))?.to_owned();
    if out.state() != Some(&VolumeState::Available) {
        wait(api, &id, "available", Box::new(available)).await?;
    }
    Ok(Applied { attrs: request.attrs.clone(), id })
}

/// A volume's attributes in the form of the desired ones.
pub(crate) fn observe_volume(v: &Volume) -> Map<String, Value> {
    Observed::default()
        .set("availability_zone", v.availability_zone())
        .set("type", v.volume_type().map(VolumeType::as_str))
        .set("size", v.size())
        .set("iops", v.iops())
        .set("throughput", v.throughput())
        .set("tags", Some(observed_tags(v.tags())))
        .done()
}

/// Changes a volume's size, type, IOPS or throughput in place (the volume stays in use).
pub(crate) async fn modify_volume(api: &Api, request: &Request<'_>, id: &str) -> Result<(), EngineError> {
    let a = Attrs::of(request);
    let modify = api
        .ec2()
        .modify_volume()
        .volume_id(id)
        .size(a.int("size")?)
        .volume_type(VolumeType::from(a.str("type")?))
        .set_iops(a.opt_int("iops")?)
        .set_throughput(a.opt_int("throughput")?);
    api.call("ModifyVolume", modify.send()).await?;
    Ok(())
}

/// Deletes a volume and returns when it is gone.
pub(crate) async fn delete_volume(api: &Arc<Api>, id: &str) -> Result<(), EngineError> {
    match api.call("DeleteVolume", api.ec2().delete_volume().volume_id(id).send()).await {
        Err(e) if e.not_found() => return Ok(()),
        other => other?,
    };
    wait(api, id, "deleted", Box::new(deleted)).await?;
    Ok(())
}

/// The id berth gives an attachment: `vai-<volume id>-<instance id>`.
fn attachment_id(volume: &str, instance: &str) -> String {
    format!("vai-{volume}-{instance}")
}

/// The volume and instance ids of an attachment id.
pub(crate) fn parse_attachment_id(id: &str) -> Result<(&str, &str), EngineError> {
    id.strip_prefix("vai-")
        .and_then(|rest| rest.rfind("-i-").map(|at| (&rest[..at], &rest[at + 1..])))
        .ok_or_else(|| EngineError::permanent(format!("`{id}` is not an attachment id (vai-<volume>-<instance>)")))
}

/// The attachment of `v` to `instance`, if any.
fn attachment_state<'v>(v: &'v Volume, instance: &str) -> Option<&'v VolumeAttachmentState> {
    v.attachments().iter().find(|a| a.instance_id() == Some(instance)).and_then(|a| a.state())
}

/// Attaches a volume and returns when it is attached.
pub(crate) async fn create_attachment(api: &Arc<Api>, request: &Request<'_>) -> Result<Applied, EngineError> {
    let a = Attrs::of(request);
    let (volume, instance) = (a.str("volume_id")?, a.str("instance_id")?);
    let attach = api.ec2().attach_volume().device(a.str("device_name")?).volume_id(volume).instance_id(instance);
    let state = match api.call("AttachVolume", attach.send()).await {
        Ok(out) => out.state().cloned(),
        // Attached already (a run that stopped before recording it): the wait tells to what.
        Err(e) if e.is("VolumeInUse") => None,
        Err(e) => return Err(e.into()),
    };
    if state != Some(VolumeAttachmentState::Attached) {
        let target = instance.to_owned();
        let check = move |v: Option<&Volume>| {
            let Some(v) = v else { return Status::Failed("the volume is gone".into()) };
            match attachment_state(v, &target) {
                Some(VolumeAttachmentState::Attached) => Status::Done,
                Some(s) => Status::Pending(s.as_str().to_owned()),
                None => match v.attachments().first().and_then(|x| x.instance_id()) {
                    Some(other) => Status::Failed(format!("it is attached to {other}")),
                    None => Status::Pending("not attached yet".into()),
                },
            }
        };
        wait(api, volume, "attached", Box::new(check)).await?;
    }
    Ok(Applied { id: attachment_id(volume, instance), attrs: request.attrs.clone() })
}

/// The attachment `id` as seen on its volume, if the volume is attached to that instance.
pub(crate) fn observe_attachment(v: &Volume, id: &str) -> Option<Applied> {
    let (volume, instance) = parse_attachment_id(id).ok()?;
    let a = v.attachments().iter().find(|a| a.instance_id() == Some(instance))?;
    match a.state() {
        Some(VolumeAttachmentState::Attached | VolumeAttachmentState::Attaching | VolumeAttachmentState::Busy) => {}
        _ => return None,
    }
    let attrs = Observed::default()
        .set("device_name", a.device())
        .set("volume_id", Some(volume))
        .set("instance_id", Some(instance))
        .done();
    Some(Applied { id: id.to_owned(), attrs })
}

/// The ids of the attachments of a volume that are attached or attaching.
pub(crate) fn attachments_of(v: &Volume) -> Vec<String> {
    let Some(volume) = v.volume_id() else { return Vec::new() };
    v.attachments()
        .iter()
        .filter(|a| matches!(a.state(), Some(VolumeAttachmentState::Attached | VolumeAttachmentState::Attaching)))
        .filter_map(|a| a.instance_id())
        .map(|instance| attachment_id(volume, instance))
        .collect()
}

/// Detaches a volume and returns when it is detached.
pub(crate) async fn delete_attachment(api: &Arc<Api>, id: &str) -> Result<(), EngineError> {
    let (volume, instance) = parse_attachment_id(id)?;
    let detach = api.ec2().detach_volume().volume_id(volume).instance_id(instance);
    let state = match api.call("DetachVolume", detach.send()).await {
        Ok(out) => out.state().cloned(),
        Err(e) if e.not_found() || e.is("IncorrectState") => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if state != Some(VolumeAttachmentState::Detached) {
        let target = instance.to_owned();
        let check = move |v: Option<&Volume>| match v.and_then(|v| attachment_state(v, &target)) {
            None | Some(VolumeAttachmentState::Detached) => Status::Done,
            Some(s) => Status::Pending(s.as_str().to_owned()),
        };
        wait(api, volume, "detached", Box::new(check)).await?;
    }
    Ok(())
}

//! Writing first while the hub is out of reach: the same core rules the hub applies
//! (setting 2 reads the number, setting 4 preselects the channel), over what this desktop
//! last synced — so a message can be composed offline and wait in the outbox.

use crate::error::CmdError;
use crate::local::LocalStore;
use crate::vm::{ChannelVm, ComposeVm};
use switchboard_core::{self as core, Channel, Employee};
use switchboard_wire::ChannelView;

pub fn channel_vm(v: &ChannelView) -> ChannelVm {
    let ch = channel(v);
    let usable = core::channel_usable(&ch);
    ChannelVm {
        id: v.id.clone(),
        name: v.name.clone(),
        transport: v.transport,
        state: v.state.as_str().to_owned(),
        usable: usable.is_ok(),
        why: usable.err(),
    }
}

fn channel(v: &ChannelView) -> Channel {
    Channel {
        id: v.id.clone(),
        transport: v.transport,
        name: v.name.clone(),
        state: v.state,
        open_lines: v.open_lines,
    }
}

/// The composer from the local store; an unreadable number names its raw value.
pub fn compose_locally(store: &LocalStore, phone: &str) -> Result<ComposeVm, CmdError> {
    let settings = store.settings()?.unwrap_or_default();
    let me = store
        .me()?
        .ok_or_else(|| CmdError::new("signed_out", "not synced yet"))?;
    let views = store.channels()?;
    let address = core::read_crm_phone(phone, settings.eight_as_plus7)
        .map_err(|e| CmdError::new("invalid_phone", e))?;
    let employee = Employee {
        id: me.id,
        name: me.name,
        role: me.role,
        receives_new_clients: me.receives_new_clients,
        priority_channel_id: me.priority_channel_id,
    };
    let channels: Vec<Channel> = views.iter().map(channel).collect();
    let pre = core::preselect_channel(&employee, &channels);
    Ok(ComposeVm {
        channel_id: pre.as_ref().ok().cloned(),
        reason: pre.err(),
        address: address.to_string(),
        display: address.international(),
        channels: views.iter().map(channel_vm).collect(),
    })
}

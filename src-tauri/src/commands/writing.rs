//! Writing first: reading a number, preselecting the channel, finding a CRM client, sending.

use crate::app::{App, StoreOnly};
use crate::error::{CmdError, CmdResult};
use crate::local;
use crate::ui_events::{emit, StoreChanged};
use crate::vm::*;
use switchboard_client::ClientError;
use tauri::{AppHandle, Manager};

/// The workspace's channels, for people.
pub(super) async fn workspace_channels(state: &App) -> CmdResult<Vec<ChannelVm>> {
    let all = state.hub().await?.channels().await?;
    Ok(all.iter().map(crate::compose::channel_vm).collect())
}

/// Writing first: reads the number (typed, pasted, or a CRM phone as typed) under setting 2
/// and preselects the priority channel (setting 4) — both decided by core's rules, on the hub,
/// or here from the synced store when the hub is out of reach.
pub async fn compose(app: &AppHandle, phone: String) -> CmdResult<ComposeVm> {
    let state = app.state::<App>();
    let v = match state.hub().await?.compose_phone(&phone).await {
        Ok(v) => v,
        Err(ClientError::Unreachable(_)) => {
            return crate::compose::compose_locally(state.store()?.as_ref(), &phone)
        }
        Err(e) => return Err(e.into()),
    };
    let channels = workspace_channels(&state).await?;
    Ok(ComposeVm {
        channel_id: v.channel_id,
        reason: v.reason,
        address: v.address,
        display: v.display,
        // The hub's order and usability, with names for people.
        channels: v
            .channels
            .iter()
            .filter_map(|c| channels.iter().find(|ch| ch.id == c.id).cloned())
            .collect(),
    })
}

/// CRM leads, contacts and deals matching a title or a phone, each phone read under setting 2.
pub async fn crm_search(app: &AppHandle, query: String) -> CmdResult<Vec<CrmCardVm>> {
    let found = app.state::<App>().hub().await?.crm_search(&query).await?;
    Ok(found
        .into_iter()
        .map(|e| CrmCardVm {
            kind: e.kind,
            id: e.id,
            title: e.title,
            closed: e.closed,
            phones: e.numbers.into_iter().map(PhoneVm::from).collect(),
        })
        .collect())
}

/// Writing first on a chosen channel to a number the composer read (E.164). The message is
/// kept here until the hub takes it; answers with its chat once the hub did.
pub async fn send_first(
    app: &AppHandle,
    channel_id: String,
    phone: String,
    display: String,
    text: String,
) -> CmdResult<SendResultVm> {
    if text.trim().is_empty() {
        return Err(CmdError::new("empty", "nothing to send"));
    }
    super::replies::no_holes(&text)?;
    let c = app.state::<App>().client().await?;
    let key = uuid::Uuid::new_v4().to_string();
    c.store.enqueue(&local::OutboxItem {
        key: key.clone(),
        chat: None,
        channel_id: Some(channel_id),
        phone: Some(phone),
        display: Some(display),
        text,
        created_at: super::chats::now_rfc3339(),
        error: None,
        error_code: None,
        error_owner: None,
        file: None,
    })?;
    emit(app, StoreChanged(crate::vm::StoreChange::everything()));
    let taken = c
        .flush_outbox(&StoreOnly::of(app, &c))
        .await
        .unwrap_or_default();
    let chat = taken.into_iter().find(|(k, _)| *k == key).map(|(_, c)| c);
    Ok(SendResultVm { key, chat })
}

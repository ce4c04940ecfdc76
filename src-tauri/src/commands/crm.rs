//! The CRM beside a chat, the workspace's CRM connection, and opening a card in the browser.

use crate::app::App;
use crate::error::{CmdError, CmdResult};
use crate::vm::*;
use switchboard_wire::{CrmConnect, CrmEvents};
use tauri::{AppHandle, Manager};

/// The CRM entities a chat belongs to, fresh from the hub.
pub async fn chat_crm(app: &AppHandle, chat: String) -> CmdResult<Vec<CrmPanelVm>> {
    let state = app.state::<App>();
    let Some(view) = state.store()?.chat(&chat)? else {
        return Ok(Vec::new());
    };
    let hub = state.hub().await?;
    let mut out = Vec::new();
    for r in view.crm {
        let e = hub.crm_entity(r.kind, &r.id).await?;
        out.push(CrmPanelVm {
            kind: e.kind,
            id: e.id,
            title: e.title,
            closed: e.closed,
            stage: e.stage,
            responsible: e.responsible_name,
            url: e.url,
            phones: e.numbers.into_iter().map(PhoneVm::from).collect(),
        });
    }
    Ok(out)
}

/// Re-queues a message's failed CRM timeline entries.
pub async fn retry_mirror(app: &AppHandle, id: String) -> CmdResult<()> {
    app.state::<App>().hub().await?.retry_mirror(&id).await?;
    Ok(())
}

/// The workspace's CRM (supervisors).
pub async fn crm_connection(app: &AppHandle) -> CmdResult<CrmConnectionVm> {
    let v = app.state::<App>().hub().await?.crm_connection().await?;
    Ok(v.into())
}

/// Check connection: the portal and user behind a webhook URL; nothing is saved.
pub async fn check_crm(app: &AppHandle, webhook_url: String) -> CmdResult<CrmConnectionVm> {
    let hub = app.state::<App>().hub().await?;
    Ok(hub.check_crm(&CrmConnect { webhook_url }).await?.into())
}

/// Connects Bitrix24 (the hub checks and stores the URL; it never comes back whole).
pub async fn connect_crm(app: &AppHandle, webhook_url: String) -> CmdResult<CrmConnectionVm> {
    let hub = app.state::<App>().hub().await?;
    Ok(hub.connect_crm(&CrmConnect { webhook_url }).await?.into())
}

/// Back to the built-in CRM.
pub async fn disconnect_crm(app: &AppHandle) -> CmdResult<CrmConnectionVm> {
    let v = app.state::<App>().hub().await?.disconnect_crm().await?;
    Ok(v.into())
}

/// Stores the application token of the portal's outgoing webhook (empty: stop taking events).
pub async fn set_crm_events(
    app: &AppHandle,
    application_token: String,
) -> CmdResult<CrmConnectionVm> {
    let hub = app.state::<App>().hub().await?;
    let events = CrmEvents { application_token };
    Ok(hub.set_crm_events(&events).await?.into())
}

/// Opens a CRM entity's card in the browser. The address comes from the hub, not the page, and
/// only an https portal address is opened.
pub async fn open_in_crm(
    app: &AppHandle,
    kind: switchboard_core::EntityKind,
    id: String,
) -> CmdResult<()> {
    let e = app
        .state::<App>()
        .hub()
        .await?
        .crm_entity(kind, &id)
        .await?;
    let url = e
        .url
        .filter(|u| crm_card_url_ok(u))
        .ok_or_else(|| CmdError::new("no_crm_link", "this CRM has no page to open"))?;
    open::that_detached(url).map_err(|e| CmdError::new("open_failed", e.to_string()))
}

/// A CRM card address the app may hand to the browser: https, a host, nothing else.
fn crm_card_url_ok(u: &str) -> bool {
    reqwest::Url::parse(u)
        .is_ok_and(|p| p.scheme() == "https" && p.host_str().is_some() && p.username().is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_https_portal_addresses_are_opened() {
        assert!(super::crm_card_url_ok(
            "https://example.bitrix24.ru/crm/deal/details/5/"
        ));
        for bad in [
            "http://example.bitrix24.ru/crm/deal/details/5/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user@example.bitrix24.ru/",
            "not a url",
        ] {
            assert!(!super::crm_card_url_ok(bad), "{bad}");
        }
    }
}

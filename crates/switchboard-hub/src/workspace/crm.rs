//! The CRM as callers see it: which entities they may see, editing the built-in CRM,
//! connecting Bitrix24.

use super::{non_empty, non_empty_if, Refusal, WsResult};
use crate::json::*;
use crate::store::{self, bitrix_index, Caller, Tx};
use std::time::Duration;
use switchboard_core::{self as core, CrmRef, EntityKind};

/// `leads`, `contacts` or `deals` as a path names them; anything else is no such kind.
pub fn kind_of(plural: &str) -> Result<EntityKind, Refusal> {
    EntityKind::parse(plural)
        .filter(|k| k.plural() == plural)
        .ok_or(Refusal::NotFound("CRM entity kind"))
}

/// Whether `caller` may see `entity` (the administrator sees all; an employee by core's
/// `can_see_entity`, over the responsibles of the chats linked to it).
pub fn may_see_entity(c: &Tx, caller: &Caller, entity: &CrmEntityView) -> WsResult<bool> {
    Ok(match caller {
        Caller::Admin => true,
        Caller::Employee(me) => {
            let r = CrmRef {
                kind: entity.kind,
                id: entity.id.clone(),
            };
            let chats = store::linked_chat_responsibles(c, &r)?;
            core::can_see_entity(
                me,
                entity.responsible_id.as_deref(),
                chats.iter().map(Option::as_deref),
            )
        }
    })
}

/// A CRM entity the caller may see; else not found, as if it did not exist.
pub fn visible_entity(c: &Tx, caller: &Caller, r: &CrmRef) -> WsResult<CrmEntityView> {
    let entity = store::entity(c, r)?.ok_or(Refusal::NotFound("CRM entity"))?;
    if may_see_entity(c, caller, &entity)? {
        Ok(entity)
    } else {
        Err(Refusal::NotFound("CRM entity").into())
    }
}

/// An entity with its numbers read under setting 2.
pub fn entity(c: &Tx, caller: &Caller, r: &CrmRef) -> WsResult<CrmEntityView> {
    let eight = store::settings(c)?.eight_as_plus7;
    Ok(store::with_numbers(visible_entity(c, caller, r)?, eight))
}

/// Leads, contacts and deals by title or phone that the caller may see.
pub fn search(c: &Tx, caller: &Caller, q: &str) -> WsResult<Vec<CrmEntityView>> {
    let eight = store::settings(c)?.eight_as_plus7;
    let mut visible = |e: &CrmEntityView| may_see_entity(c, caller, e);
    Ok(store::search_entities(c, q, 20, &mut visible)?
        .into_iter()
        .map(|e| store::with_numbers(e, eight))
        .collect())
}

pub fn timeline(c: &Tx, caller: &Caller, r: &CrmRef) -> WsResult<Vec<TimelineEntry>> {
    visible_entity(c, caller, r)?;
    Ok(store::timeline(c, r)?)
}

/// The built-in CRM is edited here; a connected Bitrix24 portal is edited in the portal.
fn built_in_only(c: &Tx) -> WsResult<()> {
    if bitrix_index::bitrix(c)?.is_some() {
        return Err(Refusal::CrmIsBitrix24.into());
    }
    Ok(())
}

/// A built-in deal's contact must be a contact of the built-in CRM, named as the hub names it.
fn existing_contact(c: &Tx, contact: Option<&str>) -> WsResult<()> {
    let Some(id) = contact else { return Ok(()) };
    let r = CrmRef {
        kind: EntityKind::Contact,
        id: id.to_owned(),
    };
    if store::entity(c, &r)?.is_none() {
        return Err(Refusal::bad_field("contact_id", "no such contact").into());
    }
    Ok(())
}

/// A new lead, contact or deal (`kind` as the path names it) in the built-in CRM.
pub fn create_entity(c: &Tx, kind: &str, e: &NewCrmEntity) -> WsResult<String> {
    built_in_only(c)?;
    let kind = kind_of(kind)?;
    non_empty("title", &e.title)?;
    existing_contact(c, e.contact_id.as_deref())?;
    Ok(store::insert_entity(c, kind, e)?)
}

pub fn patch_entity(c: &Tx, kind: &str, id: &str, p: &CrmEntityPatch) -> WsResult<CrmEntityView> {
    built_in_only(c)?;
    let r = CrmRef {
        kind: kind_of(kind)?,
        id: id.to_owned(),
    };
    non_empty_if("title", p.title.as_deref())?;
    if let Some(contact) = &p.contact_id {
        existing_contact(c, contact.as_deref())?;
    }
    Ok(store::patch_entity(c, &r, p)?.ok_or(Refusal::NotFound("CRM entity"))?)
}

/// Stores Bitrix24's outgoing-webhook application token (empty: stop accepting its events).
pub fn set_event_token(c: &Tx, token: &str) -> WsResult<bitrix_index::BitrixConnection> {
    let set = (!token.is_empty()).then_some(token);
    if !bitrix_index::set_event_token(c, set)? {
        return Err(Refusal::CrmNotConnected.into());
    }
    bitrix_index::bitrix(c)?.ok_or(Refusal::CrmNotConnected.into())
}

/// Check connection: the portal and user behind a Bitrix24 webhook URL; nothing is saved.
pub async fn check_webhook(url: &str) -> Result<(String, String), Refusal> {
    let client =
        crate::bitrix::Bitrix24::new(url, Duration::from_secs(15), crate::bitrix::Rate::STANDARD)
            .map_err(|e| Refusal::bad_field("webhook_url", e.to_string()))?;
    client
        .check()
        .await
        .map_err(|e| Refusal::CrmUnreachable(format!("{}: {e}", client.portal())))
}

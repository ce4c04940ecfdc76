//! Handing a chat to a colleague: the responsible of the CRM entities that decide it changes
//! (the built-in CRM here, Bitrix24 in the portal first), so the CRM and Switchboard agree; a
//! line in the conversation says who handed it to whom, the new responsible is notified, and
//! the hand-over is recorded.

use super::chats::visible_chat;
use super::{Refusal, WsResult};
use crate::json::*;
use crate::store::{self, bitrix_index, Tx};
use switchboard_core::{self as core, CrmRef, Employee, MessageKind};

/// Whom `me` may hand `chat` to: the active employees with access to chats, but its
/// responsible (refused as [`plan`] refuses when `me` may not hand it over).
pub fn candidates(c: &Tx, me: &Employee, chat: &str) -> WsResult<Vec<TransferCandidate>> {
    let row = visible_chat(c, me, chat)?;
    if !core::may_transfer(me, row.responsible_id.as_deref(), &store::settings(c)?) {
        return Err(Refusal::Forbidden("hand this chat over").into());
    }
    // In Bitrix24 the portal names responsibles by its users: those without one cannot be.
    let bitrix = bitrix_index::bitrix(c)?.is_some();
    Ok(store::employee_list(c)?
        .into_iter()
        .filter(|e| e.active && e.role != core::Role::None)
        .filter(|e| !bitrix || e.crm_user_id.is_some())
        .filter(|e| Some(e.id.as_str()) != row.responsible_id.as_deref())
        .map(|e| TransferCandidate {
            id: e.id,
            name: e.name,
            role: e.role,
        })
        .collect())
}

/// What a hand-over will change, as checked.
#[derive(Debug, Clone)]
pub struct Plan {
    pub chat: String,
    pub from: Option<String>,
    pub to: Employee,
    /// The open CRM entities of the chat whose responsible is the chat's (`from`): theirs
    /// becomes `to`'s. Entities someone else answers (a colleague's lead on the same number)
    /// are left as they are — changing them would move that colleague's chats too.
    pub entities: Vec<CrmRef>,
    /// Bitrix24: the portal's webhook and `to`'s user there (`ASSIGNED_BY_ID`).
    pub bitrix: Option<(String, String)>,
    /// Bitrix24: each entity's `ASSIGNED_BY_ID` before (to put back if the portal takes some
    /// of the change and not the rest).
    pub previous: Vec<Option<String>>,
}

/// Whether `me` may hand `chat` to `to`, and what it would change. Nothing is written.
pub fn plan(c: &Tx, me: &Employee, chat: &str, to: &str) -> WsResult<Plan> {
    let row = visible_chat(c, me, chat)?;
    let settings = store::settings(c)?;
    if !core::may_transfer(me, row.responsible_id.as_deref(), &settings) {
        return Err(Refusal::Forbidden("hand this chat over").into());
    }
    let target = match store::employee(c, to)? {
        Some(e) if store::is_active(c, to)? == Some(true) => e,
        _ => return Err(Refusal::bad_field("to", "no such active employee").into()),
    };
    if !core::may_receive_chats(&target) {
        return Err(
            Refusal::bad_field("to", format!("{} has no access to chats", target.name)).into(),
        );
    }
    if row.responsible_id.as_deref() == Some(to) {
        return Err(Refusal::AlreadyResponsible(target.name).into());
    }
    let bitrix = match bitrix_index::bitrix(c)? {
        None => None,
        Some(conn) => {
            let user = store::crm_user_of(c, to)?
                .ok_or_else(|| Refusal::NoCrmUser(target.name.clone()))?;
            Some((conn.webhook_url, user))
        }
    };
    let source = store::links::source(c)?;
    let mut entities = Vec::new();
    for r in store::links(c, chat)? {
        if let Some((responsible, false)) = store::links::link_facts(c, source, &r)? {
            if responsible == row.responsible_id {
                entities.push(r);
            }
        }
    }
    let mut previous = Vec::new();
    if bitrix.is_some() {
        for r in &entities {
            previous.push(store::bitrix_assigned(c, r)?);
        }
    }
    Ok(Plan {
        chat: chat.to_owned(),
        from: row.responsible_id,
        entities,
        to: target,
        bitrix,
        previous,
    })
}

/// The hand-over written: `updated` are the entities whose responsible the CRM now says is
/// `plan.to` (all of the plan's in the built-in CRM, which this writes; those the portal took
/// in Bitrix24). The chat's new responsible, its line, the record and `to`'s notification.
pub fn apply(
    c: &Tx,
    by: &Employee,
    plan: &Plan,
    updated: &[CrmRef],
    now: &str,
) -> WsResult<(TransferView, Vec<(String, NotifyEvent)>)> {
    let to = &plan.to.id;
    match &plan.bitrix {
        None => {
            for r in updated {
                let patch = CrmEntityPatch {
                    responsible_id: Some(Some(to.clone())),
                    ..CrmEntityPatch::default()
                };
                store::patch_entity(c, r, &patch)?;
            }
        }
        Some((_, user)) => {
            for r in updated {
                store::set_bitrix_assigned(c, r, user)?;
            }
            store::links::relink_entities(c, updated)?;
        }
    }
    if plan.entities.is_empty() {
        // No CRM entity decides it: `to` answers it as if they had written first.
        store::answer_as_writer(c, &plan.chat, to)?;
    }
    let row = store::chat_row_by_id(c, &plan.chat)?.ok_or(Refusal::NotFound("chat"))?;
    if row.responsible_id.as_deref() != Some(to.as_str()) {
        // Nothing is recorded or told: the transaction is undone.
        tracing::warn!(chat = %plan.chat, "after the hand-over the CRM names another responsible");
        return Err(Refusal::HandOverDiverged.into());
    }
    // "Sofia → Boris" when Sofia handed her own (or nobody's) chat; "Sofia: Anna → Boris".
    let line = match plan.from.as_deref() {
        Some(from) if from != by.id => {
            format!(
                "{}: {} → {}",
                by.name,
                store::employee_name(c, from)?,
                plan.to.name
            )
        }
        _ => format!("{} → {}", by.name, plan.to.name),
    };
    let id = store::new_id();
    store::insert_system_line(
        c,
        &id,
        &plan.chat,
        MessageKind::Transfer,
        &line,
        &by.id,
        now,
    )?;
    let view = TransferView {
        at: now.to_owned(),
        by: by.id.clone(),
        chat: plan.chat.clone(),
        from: plan.from.clone(),
        to: to.clone(),
        entities: updated.to_vec(),
    };
    store::record_transfer(c, &view)?;
    let mut notes = Vec::new();
    if *to != by.id {
        notes.push((
            to.clone(),
            NotifyEvent {
                chat: plan.chat.clone(),
                title: row.title.clone(),
                text: line,
                kind: MessageKind::Transfer,
                crm: store::notify_crm_of(c, &plan.chat)?,
            },
        ));
    }
    Ok((view, notes))
}

/// Every hand-over, newest first (at most `limit`).
pub fn transfers(c: &Tx, limit: u32) -> WsResult<Vec<TransferView>> {
    Ok(store::transfers(c, limit)?)
}

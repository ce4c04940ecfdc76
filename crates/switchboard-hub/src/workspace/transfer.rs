//! Handing a chat to a colleague: the responsible of the CRM entities that decide it changes
//! (the built-in CRM here, Bitrix24 in the portal first), so the CRM and Switchboard agree; a
//! line in the conversation says who handed it to whom, the new responsible is notified, and
//! the hand-over is recorded.

use super::chats::visible_chat;
use super::{Refusal, WsResult};
use crate::json::*;
use crate::store::{self, bitrix_index, Cached, Tx};
use rusqlite::{params, OptionalExtension};
use switchboard_core::{self as core, CrmRef, Employee, MessageKind};

/// Whom `me` may hand `chat` to: the active employees with access to chats, but its
/// responsible (refused as [`plan`] refuses when `me` may not hand it over).
pub fn candidates(c: &Tx, me: &Employee, chat: &str) -> WsResult<Vec<TransferCandidate>> {
    let row = visible_chat(c, me, chat)?;
    if !core::may_transfer(me, row.responsible_id.as_deref(), &store::settings(c)?) {
        return Err(Refusal::Forbidden("hand this chat over").into());
    }
    Ok(store::employee_list(c)?
        .into_iter()
        .filter(|e| e.active && e.role != core::Role::None)
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
    /// The open CRM entities linked to the chat (their responsible becomes `to`'s).
    pub entities: Vec<CrmRef>,
    /// Bitrix24: the portal's webhook and `to`'s user there (`ASSIGNED_BY_ID`).
    pub bitrix: Option<(String, String)>,
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
            let user: Option<String> = c
                .one(
                    "SELECT crm_user_id FROM employees WHERE id = ?1",
                    [to],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let user = user.ok_or_else(|| Refusal::NoCrmUser(target.name.clone()))?;
            Some((conn.webhook_url, user))
        }
    };
    Ok(Plan {
        chat: chat.to_owned(),
        from: row.responsible_id,
        entities: store::links(c, chat)?,
        to: target,
        bitrix,
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
                c.exec(
                    "UPDATE bitrix_entities SET assigned_by_id = ?3 WHERE kind = ?1 AND id = ?2",
                    params![r.kind.as_str(), r.id, user],
                )?;
            }
            store::links::relink_entities(c, updated)?;
        }
    }
    if plan.entities.is_empty() {
        // No CRM entity decides it: `to` answers it as if they had written first (their lead
        // is made in Bitrix24, as for a first message).
        c.exec(
            "UPDATE chats SET lead_for = ?2, crm_checked = 0 WHERE id = ?1",
            params![plan.chat, to],
        )?;
        store::links::relink(
            c,
            store::links::Scope::Chats(std::slice::from_ref(&plan.chat)),
        )?;
    }
    let row = store::chat_row_by_id(c, &plan.chat)?.ok_or(Refusal::NotFound("chat"))?;
    if row.responsible_id.as_deref() != Some(to.as_str()) {
        tracing::warn!(chat = %plan.chat, "after the hand-over the CRM names another responsible");
    }
    let name = |id: &str| -> rusqlite::Result<String> {
        c.one("SELECT name FROM employees WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .map(|n| n.unwrap_or_else(|| id.to_owned()))
    };
    // "Sofia → Boris" when Sofia handed her own (or nobody's) chat; "Sofia: Anna → Boris".
    let line = match plan.from.as_deref() {
        Some(from) if from != by.id => {
            format!("{}: {} → {}", by.name, name(from)?, plan.to.name)
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
    let entities: Vec<CrmRef> = updated.to_vec();
    c.exec(
        "INSERT INTO transfers (at, by_id, chat, from_id, to_id, entities) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            now,
            by.id,
            plan.chat,
            plan.from,
            to,
            serde_json::to_string(&entities).unwrap_or_else(|_| "[]".into())
        ],
    )?;
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
    Ok((
        TransferView {
            at: now.to_owned(),
            by: by.id.clone(),
            chat: plan.chat.clone(),
            from: plan.from.clone(),
            to: to.clone(),
            entities,
        },
        notes,
    ))
}

/// Every hand-over, newest first (at most `limit`).
pub fn transfers(c: &Tx, limit: u32) -> WsResult<Vec<TransferView>> {
    let mut stmt = c.prepare_cached(
        "SELECT at, by_id, chat, from_id, to_id, entities FROM transfers ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        let entities: String = r.get(5)?;
        Ok(TransferView {
            at: r.get(0)?,
            by: r.get(1)?,
            chat: r.get(2)?,
            from: r.get(3)?,
            to: r.get(4)?,
            entities: serde_json::from_str(&entities).unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

//! Chats: rows, what one viewer sees of them, opening one, and the unanswered count over time.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::HashMap;
use switchboard_core::{
    self as core, read_crm_phone, Badge, Channel, ChatEvent, ChatFacts, CrmRef, Direction,
    Employee, EntityKind, Settings, Transport,
};

#[derive(Debug, Clone)]
pub struct ChatRow {
    pub id: String,
    pub channel_id: String,
    pub chat_type: String,
    pub chat_id: String,
    pub title: String,
    pub responsible_id: Option<String>,
    pub unanswered: u32,
    pub escalated: bool,
    pub last_activity_at: String,
    pub last_message: Option<LastMessage>,
}

impl ChatRow {
    pub fn facts(&self) -> ChatFacts<'_> {
        ChatFacts {
            responsible: self.responsible_id.as_deref(),
            unanswered: self.unanswered,
            escalated: self.escalated,
        }
    }
}

pub(super) const CHAT_SELECT: &str = "SELECT c.id, c.channel_id, c.chat_type, c.chat_id, c.title, c.responsible_id, c.unanswered, \
     c.last_activity_at, m.id, m.direction, m.text, m.at, c.escalated, coalesce(m.kind, 'text'), m.media_name, m.media_duration_ms \
     FROM chats c LEFT JOIN messages m ON m.id = c.last_message_id";

pub(super) fn chat_row(r: &Row) -> rusqlite::Result<ChatRow> {
    let last_id: Option<String> = r.get(8)?;
    let last_message = match last_id {
        Some(id) => Some(LastMessage {
            id,
            direction: direction(&r.get::<_, String>(9)?),
            text: r.get(10)?,
            at: r.get(11)?,
            kind: core::MessageKind::parse(&r.get::<_, String>(13)?),
            media_name: r.get(14)?,
            media_duration_ms: r.get::<_, Option<i64>>(15)?.map(|n| n.max(0) as u64),
        }),
        None => None,
    };
    Ok(ChatRow {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        chat_type: r.get(2)?,
        chat_id: r.get(3)?,
        title: r.get(4)?,
        responsible_id: r.get(5)?,
        unanswered: r.get(6)?,
        escalated: r.get(12)?,
        last_activity_at: r.get(7)?,
        last_message,
    })
}

pub(super) fn direction(s: &str) -> Direction {
    if s == "in" {
        Direction::In
    } else {
        Direction::Out
    }
}

pub(super) fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::In => "in",
        Direction::Out => "out",
    }
}

pub fn chat_row_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<ChatRow>> {
    conn.one(&format!("{CHAT_SELECT} WHERE c.id = ?1"), [id], chat_row)
        .optional()
}

/// The chat as `viewer` sees it, or `None` when they may not see it.
pub fn chat_view(
    conn: &Connection,
    viewer: &Employee,
    row: &ChatRow,
    settings: &Settings,
) -> rusqlite::Result<Option<ChatView>> {
    let Some(badge) = core::badge(viewer, &row.facts(), settings) else {
        return Ok(None);
    };
    Ok(Some(view_of(row, links(conn, &row.id)?, badge)))
}

pub(super) fn view_of(row: &ChatRow, crm: Vec<CrmRef>, unanswered: Badge) -> ChatView {
    ChatView {
        id: row.id.clone(),
        channel_id: row.channel_id.clone(),
        chat_type: row.chat_type.clone(),
        chat_id: row.chat_id.clone(),
        title: row.title.clone(),
        responsible_id: row.responsible_id.clone(),
        crm,
        last_message: row.last_message.clone(),
        last_activity_at: row.last_activity_at.clone(),
        unanswered,
        escalated: row.escalated,
    }
}

/// Every chat `viewer` sees, newest activity first.
pub fn visible_chats(conn: &Connection, viewer: &Employee) -> rusqlite::Result<Vec<ChatView>> {
    let settings = settings(conn)?;
    let mut all_links: HashMap<String, Vec<CrmRef>> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT chat, kind, entity_id FROM chat_links ORDER BY kind, entity_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            all_links.entry(r.get(0)?).or_default().push(CrmRef {
                kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Lead),
                id: r.get(2)?,
            });
        }
    }
    let mut stmt = conn.prepare_cached(&format!(
        "{CHAT_SELECT} ORDER BY c.last_activity_at DESC, c.id"
    ))?;
    let rows = stmt.query_map([], chat_row)?;
    let mut out = Vec::new();
    for row in rows {
        let row = row?;
        if let Some(badge) = core::badge(viewer, &row.facts(), &settings) {
            let crm = all_links.remove(&row.id).unwrap_or_default();
            out.push(view_of(&row, crm, badge));
        }
    }
    Ok(out)
}

pub(super) fn find_chat(
    conn: &Connection,
    channel_id: &str,
    chat_type: &str,
    chat_id: &str,
) -> rusqlite::Result<Option<String>> {
    conn.one(
        "SELECT id FROM chats WHERE channel_id = ?1 AND chat_type = ?2 AND chat_id = ?3",
        params![channel_id, chat_type, chat_id],
        |r| r.get(0),
    )
    .optional()
}

/// Finds or opens the chat with a client; a new chat is linked to its CRM entities at once.
pub(super) fn open_chat(
    conn: &Connection,
    channel: &Channel,
    chat_type: &str,
    chat_id: &str,
    title: &str,
    client_phone: Option<&str>,
    at: &str,
) -> rusqlite::Result<String> {
    if let Some(id) = find_chat(conn, &channel.id, chat_type, chat_id)? {
        return Ok(id);
    }
    let id = new_id();
    conn.exec(
        "INSERT INTO chats (id, channel_id, chat_type, chat_id, title, client_phone, last_activity_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, channel.id, chat_type, chat_id, title, client_phone, at],
    )?;
    record_change(conn, ChangeKind::Chat, &id)?;
    crate::store::links::relink(
        conn,
        crate::store::links::Scope::Chats(std::slice::from_ref(&id)),
    )?;
    Ok(id)
}

/// Opens (or finds) the chat for `writer` writing first to `phone` (E.164) on `channel`. A
/// new chat is titled after the CRM client it links to (contact, then lead, then deal). A
/// number the CRM does not know gets a lead with the writer responsible — the client goes
/// to the first responder, and the chat stays visible to the one who started it.
pub fn open_first_chat(
    conn: &Connection,
    channel: &Channel,
    chat_id: &str,
    phone: &str,
    writer: &str,
    now: &str,
) -> rusqlite::Result<String> {
    let existed = find_chat(conn, &channel.id, channel.transport.chat_type(), chat_id)?;
    let shown =
        read_crm_phone(phone, false).map_or_else(|_| phone.to_owned(), |n| n.international());
    let id = open_chat(
        conn,
        channel,
        channel.transport.chat_type(),
        chat_id,
        &shown,
        Some(phone),
        now,
    )?;
    let bitrix = crate::store::links::source(conn)? == switchboard_core::CrmKind::Bitrix24;
    if existed.is_none() && links(conn, &id)?.is_empty() && bitrix {
        // The portal gets the lead from the CRM sync (crm.lead.add, after one more look with
        // crm.duplicate.findbycomm); until it is linked, the writer answers the chat.
        conn.exec(
            "UPDATE chats SET lead_for = ?2, responsible_id = ?2, crm_checked = 0 WHERE id = ?1",
            params![id, writer],
        )?;
        record_change(conn, ChangeKind::Chat, &id)?;
    } else if existed.is_none() && links(conn, &id)?.is_empty() {
        insert_entity(
            conn,
            EntityKind::Lead,
            &NewCrmEntity {
                title: shown.clone(),
                phones: vec![phone.to_owned()],
                responsible_id: Some(writer.to_owned()),
                contact_id: None,
                closed: false,
                stage: None,
            },
        )?;
    }
    if existed.is_none() {
        // Titled after its client: the contact, else the lead, else the deal.
        let mut linked = links(conn, &id)?;
        linked.sort_by_key(|r| match r.kind {
            EntityKind::Contact => 0,
            EntityKind::Lead => 1,
            EntityKind::Deal => 2,
        });
        let client = match linked.first() {
            Some(r) => entity(conn, r)?.map(|e| e.title),
            None => None,
        };
        if let Some(title) = client {
            conn.exec(
                "UPDATE chats SET title = ?2 WHERE id = ?1",
                params![id, title],
            )?;
            record_change(conn, ChangeKind::Chat, &id)?;
        }
    }
    Ok(id)
}

/// The E.164 number of a client, from the chat id of a phone messenger or the contact's phone.
pub(super) fn client_phone(
    transport: Transport,
    chat_id: &str,
    contact_phone: Option<&str>,
) -> Option<String> {
    let candidate = if transport.addresses_by_phone() {
        Some(chat_id)
    } else {
        contact_phone
    }?;
    let digits = candidate.trim_start_matches('+');
    read_crm_phone(&format!("+{digits}"), false)
        .ok()
        .map(|n| n.to_string())
}

/// Applies an unanswered-count event at time `at` to a chat (core decides the new count).
/// The first unanswered client message starts the wait; an answer ends it and any escalation.
/// `now` bounds the wait's start (a client's clock ahead of ours does not shorten it).
pub fn apply_chat_event(
    conn: &Connection,
    chat: &str,
    event: ChatEvent,
    at: &str,
    now: &str,
) -> Db {
    let count: u32 = conn.one("SELECT unanswered FROM chats WHERE id = ?1", [chat], |r| {
        r.get(0)
    })?;
    let new = core::unanswered_after(count, event);
    match (count, new) {
        (0, n) if n > 0 => conn.exec(
            "UPDATE chats SET unanswered = ?2, waiting_since = min(?3, ?4) WHERE id = ?1",
            params![chat, new, at, now],
        )?,
        (_, 0) => conn.exec(
            "UPDATE chats SET unanswered = 0, waiting_since = NULL, escalated = 0 WHERE id = ?1",
            params![chat],
        )?,
        _ => conn.exec(
            "UPDATE chats SET unanswered = ?2 WHERE id = ?1",
            params![chat, new],
        )?,
    };
    record_change(conn, ChangeKind::Chat, chat)?;
    Ok(())
}

/// How often the hub looks for chats due to escalate.
pub const ESCALATION_TICK: std::time::Duration = std::time::Duration::from_secs(5);

/// Escalates every chat due at `now_ms` (once each) and names the supervisors to notify.
pub fn escalation_tick(
    conn: &Connection,
    now_ms: i64,
) -> rusqlite::Result<Vec<(String, NotifyEvent)>> {
    let settings = settings(conn)?;
    if settings.escalate_after_minutes.is_none() {
        return Ok(Vec::new());
    }
    let waiting: Vec<(String, u32, String)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, unanswered, waiting_since FROM chats \
             WHERE unanswered > 0 AND escalated = 0 AND waiting_since IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let staff = employees(conn)?;
    let mut notify = Vec::new();
    for (chat, unanswered, since) in waiting {
        let since_ms = time_ms(&since);
        if !core::escalation_due(unanswered, since_ms, now_ms, &settings) {
            continue;
        }
        conn.exec("UPDATE chats SET escalated = 1 WHERE id = ?1", [&chat])?;
        record_change(conn, ChangeKind::Chat, &chat)?;
        let Some(row) = chat_row_by_id(conn, &chat)? else {
            continue;
        };
        let minutes = (now_ms - since_ms) / 60_000;
        let last = row.last_message.as_ref().map_or("", |m| m.text.as_str());
        let event = NotifyEvent {
            chat: chat.clone(),
            title: row.title.clone(),
            text: preview(&format!("{minutes} min without a reply: {last}")),
            kind: core::MessageKind::Text,
            crm: notify_crm(conn, &links(conn, &chat)?)?,
        };
        for id in core::escalation_recipients(&staff, &row.facts(), &settings) {
            notify.push((id, event.clone()));
        }
    }
    Ok(notify)
}

//! The Bitrix24 connection and the hub's index of the portal's leads, contacts and deals
//! (`crm_connection`, `bitrix_entities`, `bitrix_stages`, `crm_dirty`): storage only; the
//! rounds that fill it from the portal are `crm_sync`'s.

use super::{Cached, Db};
use crate::json::CrmEntityView;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use switchboard_core::{CrmKind, EntityKind};

/// The stored connection (the webhook URL is a secret and stays in the hub).
#[derive(Clone)]
pub struct BitrixConnection {
    pub webhook_url: String,
    pub portal: String,
    pub user_name: String,
    /// The outgoing webhook's application token (a secret too), when events are set up.
    pub event_token: Option<String>,
    /// The secret in the events handler's path (`/webhooks/bitrix24/<secret>`): made when the
    /// portal is connected, its own — the provider's ingress secret is never shown.
    pub events_secret: String,
}

pub fn bitrix(conn: &Connection) -> rusqlite::Result<Option<BitrixConnection>> {
    conn.one(
        "SELECT webhook_url, portal, user_name, event_token, events_secret FROM crm_connection WHERE id = 1 AND kind = 'bitrix24'",
        [],
        |r| {
            Ok(BitrixConnection {
                webhook_url: r.get(0)?,
                portal: r.get(1)?,
                user_name: r.get(2)?,
                event_token: r.get(3)?,
                events_secret: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            })
        },
    )
    .optional()
}

/// Whether `secret` is the events handler's (a wrong one, or none stored, is `false`).
pub fn events_secret_matches(conn: &Connection, secret: &str) -> rusqlite::Result<bool> {
    Ok(bitrix(conn)?.is_some_and(|b| {
        !b.events_secret.is_empty()
            && super::constant_time_eq(b.events_secret.as_bytes(), secret.as_bytes())
    }))
}

/// Stores (or, with `None`, forgets) the outgoing webhook's application token. `false`: Bitrix24
/// is not connected.
pub fn set_event_token(conn: &Connection, token: Option<&str>) -> rusqlite::Result<bool> {
    let n = conn.exec(
        "UPDATE crm_connection SET event_token = ?1 WHERE id = 1 AND kind = 'bitrix24'",
        [token],
    )?;
    Ok(n > 0)
}

/// What became of an event from the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventVerdict {
    /// The entity is marked to be fetched again (or dropped).
    Recorded,
    /// Not an event about a lead, contact or deal: nothing to do.
    Ignored,
    /// No application token is stored: events are not accepted.
    NotConfigured,
    /// The application token does not match.
    BadToken,
}

/// The entity an event names: `ONCRMDEALUPDATE` → (deal, not deleted).
pub fn event_target(event: &str) -> Option<(EntityKind, bool)> {
    let rest = event.to_ascii_uppercase();
    let rest = rest.strip_prefix("ONCRM")?;
    let (kind, op) = [
        ("LEAD", EntityKind::Lead),
        ("CONTACT", EntityKind::Contact),
        ("DEAL", EntityKind::Deal),
    ]
    .into_iter()
    .find_map(|(p, k)| rest.strip_prefix(p).map(|op| (k, op.to_owned())))?;
    match op.as_str() {
        "ADD" | "UPDATE" => Some((kind, false)),
        "DELETE" => Some((kind, true)),
        _ => None,
    }
}

/// Checks an event's application token and marks the entity it names.
pub fn record_event(
    conn: &Connection,
    event: &str,
    id: &str,
    token: &str,
) -> rusqlite::Result<EventVerdict> {
    let stored = bitrix(conn)?.and_then(|b| b.event_token);
    let Some(stored) = stored else {
        return Ok(EventVerdict::NotConfigured);
    };
    if !super::constant_time_eq(stored.as_bytes(), token.as_bytes()) {
        return Ok(EventVerdict::BadToken);
    }
    let Some((kind, deleted)) = event_target(event) else {
        return Ok(EventVerdict::Ignored);
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(EventVerdict::Ignored);
    }
    // Durable before the answer: a deletion stays on the list until a sync round has applied
    // it (each event bumps `rev`, so one that comes during a round is not cleared by it).
    conn.exec(
        "INSERT INTO crm_dirty (kind, id, deleted) VALUES (?1, ?2, ?3) \
         ON CONFLICT (kind, id) DO UPDATE SET deleted = excluded.deleted, rev = rev + 1, \
         attempts = 0, next_try_ms = 0",
        params![kind.as_str(), id, deleted],
    )?;
    Ok(EventVerdict::Recorded)
}

/// How often an entity the portal will not give is asked again before it is given up.
pub const REFUSED_TRIES: i64 = 20;

/// The portal would not give this entity: ask again later (1 s doubling to an hour), or give
/// up after [`REFUSED_TRIES`] (the poll still brings it if it changes and becomes readable).
pub fn refused_again(conn: &Connection, kind: EntityKind, id: &str, rev: i64, now: &str) -> Db {
    let attempts: i64 = conn
        .query_row(
            "SELECT attempts FROM crm_dirty WHERE kind = ?1 AND id = ?2 AND rev = ?3",
            params![kind.as_str(), id, rev],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0)
        + 1;
    if attempts >= REFUSED_TRIES {
        tracing::warn!(kind = kind.as_str(), %id, attempts, "the portal keeps refusing an entity; given up");
        conn.exec(
            "DELETE FROM crm_dirty WHERE kind = ?1 AND id = ?2 AND rev = ?3",
            params![kind.as_str(), id, rev],
        )?;
        return Ok(());
    }
    let pause_ms = (1000i64 << attempts.min(12)).min(3_600_000);
    conn.exec(
        "UPDATE crm_dirty SET attempts = ?4, next_try_ms = ?5 WHERE kind = ?1 AND id = ?2 AND rev = ?3",
        params![kind.as_str(), id, rev, attempts, super::time_ms(now) + pause_ms],
    )?;
    Ok(())
}

/// Entries not yet written name the old CRM's entities: they are dropped, and their messages
/// say why they are not in the CRM.
pub fn settle_queue(conn: &Connection) -> Db {
    conn.exec(
        "UPDATE messages SET mirror_skip = 'crm_changed' WHERE id IN \
         (SELECT message_id FROM mirror_queue WHERE state <> 'written' AND message_id IS NOT NULL) \
         AND id NOT IN (SELECT message_id FROM mirror_queue WHERE state = 'written' AND message_id IS NOT NULL)",
        [],
    )?;
    let ids: Vec<String> = {
        let mut s = conn.prepare_cached(
            "SELECT DISTINCT message_id FROM mirror_queue WHERE state <> 'written' AND message_id IS NOT NULL",
        )?;
        let rows = s.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    conn.exec("DELETE FROM mirror_queue WHERE state <> 'written'", [])?;
    for id in ids {
        super::record_change(conn, super::ChangeKind::Message, &id)?;
    }
    Ok(())
}

/// Connects Bitrix24: the index starts empty and fills on the next sync.
pub fn connect(conn: &Connection, c: &BitrixConnection, now: &str) -> Db {
    settle_queue(conn)?;
    // The same portal again keeps its outgoing webhook's token and handler address.
    conn.exec(
        "INSERT OR REPLACE INTO crm_connection (id, kind, webhook_url, portal, user_name, connected_at, cursor, event_token, events_secret) \
         VALUES (1, 'bitrix24', ?1, ?2, ?3, ?4, '{}', \
                 (SELECT event_token FROM crm_connection WHERE id = 1 AND portal = ?2), \
                 coalesce((SELECT events_secret FROM crm_connection WHERE id = 1 AND portal = ?2), ?5))",
        params![c.webhook_url, c.portal, c.user_name, now, super::new_token()],
    )?;
    conn.exec("DELETE FROM bitrix_entities", [])?;
    super::links::clear(conn, CrmKind::Bitrix24)?;
    conn.exec("DELETE FROM crm_dirty", [])?;
    conn.exec("UPDATE chats SET crm_checked = 0", [])?;
    super::relink_all(conn)
}

/// Back to the built-in CRM.
pub fn disconnect(conn: &Connection) -> Db {
    settle_queue(conn)?;
    conn.exec("DELETE FROM crm_connection", [])?;
    conn.exec("DELETE FROM bitrix_entities", [])?;
    super::links::clear(conn, CrmKind::Bitrix24)?;
    conn.exec("DELETE FROM crm_dirty", [])?;
    super::relink_all(conn)
}

/// The portal's entities (all, or `only` one) as the app shows them (responsibles mapped to
/// employees by their CRM user id).
pub fn entities(
    conn: &Connection,
    only: Option<&switchboard_core::CrmRef>,
) -> rusqlite::Result<Vec<CrmEntityView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT b.kind, b.id, b.title, b.phones, e.id, b.contact_id, b.closed, e.name, \
                coalesce(s.name, b.stage), b.contact_ids \
         FROM bitrix_entities b LEFT JOIN employees e ON e.crm_user_id = b.assigned_by_id \
         LEFT JOIN bitrix_stages s ON s.list = b.stage_list AND s.status_id = b.stage \
         WHERE ?1 IS NULL OR (b.kind = ?1 AND b.id = ?2) \
         ORDER BY b.kind, CAST(b.id AS INTEGER) DESC",
    )?;
    let rows = stmt.query_map(
        params![only.map(|r| r.kind.as_str()), only.map(|r| r.id.as_str())],
        |r| {
            let kind: String = r.get(0)?;
            let phones: String = r.get(3)?;
            let contact_id: Option<String> = r.get(5)?;
            let contacts: Vec<String> =
                serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default();
            Ok(CrmEntityView {
                kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Lead),
                id: r.get(1)?,
                title: r.get(2)?,
                phones: serde_json::from_str(&phones).unwrap_or_default(),
                responsible_id: r.get(4)?,
                other_contact_ids: contacts
                    .into_iter()
                    .filter(|c| Some(c) != contact_id.as_ref())
                    .collect(),
                contact_id,
                closed: r.get(6)?,
                stage: r.get(8)?,
                numbers: Vec::new(),
                responsible_name: r.get(7)?,
                url: None,
            })
        },
    )?;
    rows.collect()
}

/// The portal's link to an entity's card.
pub fn card_url(portal: &str, kind: EntityKind, id: &str) -> String {
    format!("https://{portal}/crm/{}/details/{id}/", kind.as_str())
}

pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Stores entities of one kind as the list/get methods answer them.
pub fn upsert(conn: &Connection, kind: EntityKind, rows: &[Value]) -> Db {
    for r in rows {
        let Some(id) = text(r, "ID") else { continue };
        let title = text(r, "TITLE")
            .or_else(|| {
                let name = [text(r, "NAME"), text(r, "LAST_NAME")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!name.is_empty()).then_some(name)
            })
            .unwrap_or_else(|| format!("{} {id}", kind.as_str()));
        let phones: Vec<String> = r
            .get("PHONE")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|p| text(p, "VALUE")).collect())
            .unwrap_or_default();
        let closed = match kind {
            EntityKind::Deal => text(r, "CLOSED").as_deref() == Some("Y"),
            EntityKind::Lead => text(r, "STATUS_SEMANTIC_ID").is_some_and(|s| s != "P"),
            EntityKind::Contact => false,
        };
        let (stage, list) = match kind {
            EntityKind::Deal => (
                text(r, "STAGE_ID"),
                match text(r, "CATEGORY_ID").as_deref() {
                    None | Some("0") => "DEAL_STAGE".to_owned(),
                    Some(c) => format!("DEAL_STAGE_{c}"),
                },
            ),
            EntityKind::Lead => (text(r, "STATUS_ID"), "STATUS".to_owned()),
            EntityKind::Contact => (None, String::new()),
        };
        // A deal's contacts list is kept (crm.deal.contact.items.get fills it) unless the
        // primary contact changed.
        conn.exec(
            "INSERT INTO bitrix_entities (kind, id, title, phones, assigned_by_id, contact_id, closed, stage, stage_list, contact_ids) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, json_array(?6)) \
             ON CONFLICT (kind, id) DO UPDATE SET title = excluded.title, phones = excluded.phones, \
               assigned_by_id = excluded.assigned_by_id, closed = excluded.closed, stage = excluded.stage, \
               stage_list = excluded.stage_list, \
               contact_ids = CASE WHEN contact_id IS excluded.contact_id THEN contact_ids ELSE excluded.contact_ids END, \
               contact_id = excluded.contact_id",
            params![
                kind.as_str(),
                id,
                title,
                serde_json::to_string(&phones).unwrap_or_else(|_| "[]".into()),
                text(r, "ASSIGNED_BY_ID"),
                text(r, "CONTACT_ID"),
                closed,
                stage,
                list
            ],
        )?;
    }
    Ok(())
}

/// Re-reads one entity of the index into the phone index (or drops it there when it is gone).
pub fn reindex(conn: &Connection, kind: EntityKind, id: &str) -> Db {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT phones, contact_ids FROM bitrix_entities WHERE kind = ?1 AND id = ?2",
            params![kind.as_str(), id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        Some((phones, contacts)) => {
            let phones: Vec<String> = serde_json::from_str(&phones).unwrap_or_default();
            let contacts: Vec<String> = serde_json::from_str(&contacts).unwrap_or_default();
            super::links::index_entity(conn, CrmKind::Bitrix24, kind, id, &phones, &contacts)
        }
        None => super::links::unindex_entity(conn, CrmKind::Bitrix24, kind, id),
    }
}

/// Stores a deal's contacts as `crm.deal.contact.items.get` lists them.
pub fn set_contacts(conn: &Connection, deal: &str, items: &Value) -> Db {
    let ids: Vec<String> = items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| text(i, "CONTACT_ID"))
        .collect();
    conn.exec(
        "UPDATE bitrix_entities SET contact_ids = ?2 WHERE kind = 'deal' AND id = ?1",
        params![
            deal,
            serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())
        ],
    )?;
    Ok(())
}

/// Stores the portal's stage names as `crm.status.list` answers them.
pub fn set_stages(conn: &Connection, rows: &Value) -> Db {
    for r in rows.as_array().into_iter().flatten() {
        if let (Some(list), Some(id), Some(name)) =
            (text(r, "ENTITY_ID"), text(r, "STATUS_ID"), text(r, "NAME"))
        {
            conn.exec(
                "INSERT OR REPLACE INTO bitrix_stages (list, status_id, name) VALUES (?1, ?2, ?3)",
                params![list, id, name],
            )?;
        }
    }
    Ok(())
}

/// The list methods' `DATE_MODIFY` cursor per kind, as stored (JSON; empty when never synced).
pub fn index_cursor(conn: &Connection) -> rusqlite::Result<String> {
    Ok(conn
        .query_row("SELECT cursor FROM crm_connection WHERE id = 1", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .unwrap_or_default())
}

pub fn set_index_cursor(conn: &Connection, cursor: &str) -> Db {
    conn.exec(
        "UPDATE crm_connection SET cursor = ?1 WHERE id = 1",
        [cursor],
    )?;
    Ok(())
}

/// Entities the portal's events named, due to be fetched at `now_ms` (deletions first):
/// (kind, id, deleted, rev).
pub fn dirty_due(
    conn: &Connection,
    now_ms: i64,
    limit: usize,
) -> rusqlite::Result<Vec<(EntityKind, String, bool, i64)>> {
    let mut s = conn.prepare_cached(
        "SELECT kind, id, deleted, rev FROM crm_dirty WHERE next_try_ms <= ?1 \
         ORDER BY deleted DESC, next_try_ms LIMIT ?2",
    )?;
    let rows = s.query_map(params![now_ms, limit as i64], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
        ))
    })?;
    let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(k, id, d, rev)| EntityKind::parse(&k).map(|k| (k, id, d, rev)))
        .collect())
}

/// An event's entity was applied: off the list, unless named again since (a newer `rev`).
pub fn settle_dirty(conn: &Connection, kind: EntityKind, id: &str, rev: i64) -> Db {
    conn.exec(
        "DELETE FROM crm_dirty WHERE kind = ?1 AND id = ?2 AND rev = ?3",
        params![kind.as_str(), id, rev],
    )?;
    Ok(())
}

/// The portal no longer has it.
pub fn forget_entity(conn: &Connection, kind: EntityKind, id: &str) -> Db {
    conn.exec(
        "DELETE FROM bitrix_entities WHERE kind = ?1 AND id = ?2",
        params![kind.as_str(), id],
    )?;
    Ok(())
}

/// New chats whose number the index does not match yet: (chat, phone).
pub fn unchecked_chats(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<(String, String)>> {
    let mut s = conn.prepare_cached(
        "SELECT id, client_phone FROM chats WHERE crm_checked = 0 AND client_phone IS NOT NULL \
         AND id NOT IN (SELECT chat FROM chat_links) LIMIT ?1",
    )?;
    let rows = s.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Whether the portal was asked about a chat's number.
pub fn set_crm_checked(conn: &Connection, chat: &str, checked: bool) -> Db {
    conn.exec(
        "UPDATE chats SET crm_checked = ?2 WHERE id = ?1",
        params![chat, checked],
    )?;
    Ok(())
}

/// A chat written first to a number the portal did not know, still without a lead.
pub struct LeadWanted {
    pub chat: String,
    pub phone: String,
    pub title: String,
    /// The writer's user in the portal (the lead's responsible), when known.
    pub crm_user_id: Option<String>,
}

pub fn leads_wanted(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<LeadWanted>> {
    let mut s = conn.prepare_cached(
        "SELECT ch.id, ch.client_phone, ch.title, e.crm_user_id FROM chats ch \
         LEFT JOIN employees e ON e.id = ch.lead_for AND e.active = 1 \
         WHERE ch.lead_for IS NOT NULL AND ch.crm_checked = 1 AND ch.client_phone IS NOT NULL \
         AND ch.id NOT IN (SELECT chat FROM chat_links) LIMIT ?1",
    )?;
    let rows = s.query_map([limit as i64], |r| {
        Ok(LeadWanted {
            chat: r.get(0)?,
            phone: r.get(1)?,
            title: r.get(2)?,
            crm_user_id: r.get(3)?,
        })
    })?;
    rows.collect()
}

//! The built-in CRM's leads, contacts and deals, their timelines, and the chats linked to them.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension, Row};
use switchboard_core::{CrmRef, EntityKind};

pub(super) fn entity_row(r: &Row) -> rusqlite::Result<CrmEntityView> {
    let kind: String = r.get(0)?;
    let phones: String = r.get(3)?;
    Ok(CrmEntityView {
        kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Lead),
        id: r.get::<_, i64>(1)?.to_string(),
        title: r.get(2)?,
        phones: serde_json::from_str(&phones).unwrap_or_default(),
        responsible_id: r.get(4)?,
        contact_id: r.get::<_, Option<i64>>(5)?.map(|i| i.to_string()),
        other_contact_ids: Vec::new(),
        closed: r.get(6)?,
        stage: r.get(8)?,
        numbers: Vec::new(),
        responsible_name: r.get(7)?,
        url: None,
    })
}

/// Fills in how each phone reads under the current setting 2.
pub fn with_numbers(mut v: CrmEntityView, eight_as_plus7: bool) -> CrmEntityView {
    v.numbers = v
        .phones
        .iter()
        .map(|p| PhoneReading::of(p, eight_as_plus7))
        .collect();
    v
}

/// CRM entities whose title or phones contain `q` (digits compared without formatting),
/// open ones first, at most `limit`.
pub fn search_entities<E: From<rusqlite::Error>>(
    conn: &Connection,
    q: &str,
    limit: usize,
    visible: &mut dyn FnMut(&CrmEntityView) -> Result<bool, E>,
) -> Result<Vec<CrmEntityView>, E> {
    let q = q.trim().to_lowercase();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let mut all = entities(conn)?;
    all.sort_by(|a, b| {
        (a.closed, a.kind.as_str(), &a.title).cmp(&(b.closed, b.kind.as_str(), &b.title))
    });
    let mut found = Vec::new();
    for e in all {
        let phone_hit = digits.len() >= 3
            && e.phones.iter().any(|p| {
                p.chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .contains(&digits)
            });
        if (q.is_empty() || e.title.to_lowercase().contains(&q) || phone_hit) && visible(&e)? {
            found.push(e);
            if found.len() == limit {
                break;
            }
        }
    }
    Ok(found)
}

pub(super) const ENTITY_COLS: &str =
    "kind, id, title, phones, responsible_id, contact_id, closed, \
     (SELECT name FROM employees WHERE employees.id = crm_entities.responsible_id), stage";

pub fn entities(conn: &Connection) -> rusqlite::Result<Vec<CrmEntityView>> {
    if crate::store::bitrix_index::bitrix(conn)?.is_some() {
        return crate::store::bitrix_index::entities(conn, None);
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTITY_COLS} FROM crm_entities ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map([], entity_row)?;
    rows.collect()
}

pub fn entity(conn: &Connection, r: &CrmRef) -> rusqlite::Result<Option<CrmEntityView>> {
    if let Some(b) = crate::store::bitrix_index::bitrix(conn)? {
        return Ok(crate::store::bitrix_index::entities(conn, Some(r))?
            .into_iter()
            .next()
            .map(|mut e| {
                e.url = Some(crate::store::bitrix_index::card_url(
                    &b.portal, e.kind, &e.id,
                ));
                e
            }));
    }
    // Only the id as the hub wrote it ("7", not "07" or "+7"): one entity, one name.
    let Some(id) = r.id.parse::<i64>().ok().filter(|n| n.to_string() == r.id) else {
        return Ok(None);
    };
    conn.one(
        &format!("SELECT {ENTITY_COLS} FROM crm_entities WHERE kind = ?1 AND id = ?2"),
        params![r.kind.as_str(), id],
        entity_row,
    )
    .optional()
}

pub fn insert_entity(
    conn: &Connection,
    kind: EntityKind,
    e: &NewCrmEntity,
) -> rusqlite::Result<String> {
    conn.exec(
        "INSERT INTO crm_entities (kind, title, phones, responsible_id, contact_id, closed, stage) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            kind.as_str(),
            e.title,
            serde_json::to_string(&e.phones).unwrap_or_else(|_| "[]".into()),
            e.responsible_id,
            e.contact_id.as_deref().and_then(|c| c.parse::<i64>().ok()),
            e.closed,
            e.stage
        ],
    )?;
    let id = conn.last_insert_rowid().to_string();
    let r = CrmRef {
        kind,
        id: id.clone(),
    };
    entity_written(conn, &r, &e.phones, e.contact_id.as_deref())?;
    Ok(id)
}

/// A built-in entity was written: its phones into the index, and the chats it touches relinked.
pub(super) fn entity_written(
    conn: &Connection,
    r: &CrmRef,
    phones: &[String],
    contact: Option<&str>,
) -> Db {
    let contacts: Vec<String> = contact.map(str::to_owned).into_iter().collect();
    crate::store::links::index_entity(
        conn,
        switchboard_core::CrmKind::BuiltIn,
        r.kind,
        &r.id,
        phones,
        &contacts,
    )?;
    crate::store::links::relink_entities(conn, std::slice::from_ref(r))
}

pub fn patch_entity(
    conn: &Connection,
    r: &CrmRef,
    p: &CrmEntityPatch,
) -> rusqlite::Result<Option<CrmEntityView>> {
    let Some(mut e) = entity(conn, r)? else {
        return Ok(None);
    };
    if let Some(t) = &p.title {
        e.title.clone_from(t);
    }
    if let Some(ph) = &p.phones {
        e.phones.clone_from(ph);
    }
    if let Some(resp) = &p.responsible_id {
        e.responsible_id.clone_from(resp);
    }
    if let Some(c) = &p.contact_id {
        e.contact_id.clone_from(c);
    }
    if let Some(c) = p.closed {
        e.closed = c;
    }
    if let Some(st) = &p.stage {
        e.stage.clone_from(st);
    }
    conn.exec(
        "UPDATE crm_entities SET title = ?3, phones = ?4, responsible_id = ?5, contact_id = ?6, closed = ?7, stage = ?8 WHERE kind = ?1 AND id = ?2",
        params![
            r.kind.as_str(),
            r.id,
            e.title,
            serde_json::to_string(&e.phones).unwrap_or_else(|_| "[]".into()),
            e.responsible_id,
            e.contact_id.as_deref().and_then(|c| c.parse::<i64>().ok()),
            e.closed,
            e.stage
        ],
    )?;
    entity_written(conn, r, &e.phones, e.contact_id.as_deref())?;
    Ok(Some(e))
}

/// The message an idempotency key already names, as its send was answered, and its author.
pub fn sent_with_key(
    conn: &Connection,
    key: &str,
) -> rusqlite::Result<Option<(SendAccepted, Option<String>)>> {
    conn.one(
        "SELECT id, chat, status, author_id FROM messages WHERE idempotency_key = ?1",
        [key],
        |r| {
            Ok((
                SendAccepted {
                    message_id: r.get(0)?,
                    chat: r.get(1)?,
                    status: switchboard_core::MessageStatus::parse(&r.get::<_, String>(2)?),
                },
                r.get(3)?,
            ))
        },
    )
    .optional()
}

/// The responsibles of every chat with this client number (E.164), on any channel.
pub fn responsibles_of_number(
    conn: &Connection,
    phone: &str,
) -> rusqlite::Result<Vec<Option<String>>> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT responsible_id FROM chats WHERE client_phone = ?1")?;
    let rows = stmt.query_map([phone], |r| r.get(0))?;
    rows.collect()
}

/// The responsibles of the chats linked to an entity (`None` for an unassigned chat).
pub fn linked_chat_responsibles(
    conn: &Connection,
    r: &CrmRef,
) -> rusqlite::Result<Vec<Option<String>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT c.responsible_id FROM chat_links l JOIN chats c ON c.id = l.chat \
         WHERE l.kind = ?1 AND l.entity_id = ?2",
    )?;
    let rows = stmt.query_map(params![r.kind.as_str(), r.id], |r| r.get(0))?;
    rows.collect()
}

pub fn timeline(conn: &Connection, r: &CrmRef) -> rusqlite::Result<Vec<TimelineEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, kind, chat, message_id, text FROM timeline WHERE entity_kind = ?1 AND entity_id = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![r.kind.as_str(), r.id], |r| {
        Ok(TimelineEntry {
            at: r.get(0)?,
            kind: r.get(1)?,
            chat: r.get(2)?,
            message_id: r.get(3)?,
            text: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// Recomputes every chat's CRM links and responsible; records a change for each chat that moved.
pub fn relink_all(conn: &Connection) -> Db {
    crate::store::links::relink(conn, crate::store::links::Scope::All)
}

pub fn links(conn: &Connection, chat: &str) -> rusqlite::Result<Vec<CrmRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, entity_id FROM chat_links WHERE chat = ?1 ORDER BY kind, entity_id",
    )?;
    let rows = stmt.query_map([chat], |r| {
        let kind: String = r.get(0)?;
        Ok(CrmRef {
            kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Lead),
            id: r.get(1)?,
        })
    })?;
    rows.collect()
}

/// The built-in CRM's entry for a queued timeline job, if written.
pub fn timeline_find(
    conn: &Connection,
    job: &super::TimelineJob,
) -> rusqlite::Result<Option<String>> {
    conn.one(
        "SELECT id FROM timeline WHERE entity_kind = ?1 AND entity_id = ?2 AND kind = ?3 \
         AND ((kind = 'message' AND message_id = ?4) OR (kind = 'open_lines_activity' AND chat = ?5))",
        params![
            job.entity.kind.as_str(),
            job.entity.id,
            job.kind,
            job.message_id,
            job.chat
        ],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map(|id| id.map(|i| i.to_string()))
}

/// Writes a queued timeline job into the built-in CRM (once: a repeat finds the first);
/// answers the entry's id.
pub fn timeline_write(conn: &Connection, job: &super::TimelineJob) -> rusqlite::Result<String> {
    conn.exec(
        "INSERT OR IGNORE INTO timeline (entity_kind, entity_id, kind, at, chat, message_id, text) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![job.entity.kind.as_str(), job.entity.id, job.kind, job.at, job.chat, job.message_id, job.text],
    )?;
    Ok(timeline_find(conn, job)?.unwrap_or_default())
}

//! Handing chats over: who the CRM names, the record of every hand-over.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension};
use switchboard_core::CrmRef;

/// Employee `id`'s user in the connected CRM (Bitrix24's `ASSIGNED_BY_ID`), if set.
pub fn crm_user_of(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    conn.one(
        "SELECT crm_user_id FROM employees WHERE id = ?1",
        [id],
        |r| r.get::<_, Option<String>>(0),
    )
    .optional()
    .map(Option::flatten)
}

/// Employee `id`'s name (the id itself for one that is gone).
pub fn employee_name(conn: &Connection, id: &str) -> rusqlite::Result<String> {
    conn.one("SELECT name FROM employees WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()
    .map(|n| n.unwrap_or_else(|| id.to_owned()))
}

/// A portal entity's `ASSIGNED_BY_ID` as the index holds it.
pub fn bitrix_assigned(conn: &Connection, r: &CrmRef) -> rusqlite::Result<Option<String>> {
    conn.one(
        "SELECT assigned_by_id FROM bitrix_entities WHERE kind = ?1 AND id = ?2",
        params![r.kind.as_str(), r.id],
        |r| r.get::<_, Option<String>>(0),
    )
    .optional()
    .map(Option::flatten)
}

/// The index told what the portal took: `r` is now `user`'s.
pub fn set_bitrix_assigned(conn: &Connection, r: &CrmRef, user: &str) -> Db {
    conn.exec(
        "UPDATE bitrix_entities SET assigned_by_id = ?3 WHERE kind = ?1 AND id = ?2",
        params![r.kind.as_str(), r.id, user],
    )
    .map(drop)
}

/// A chat no CRM entity decides becomes `to`'s as if they had written first (their lead is
/// made in Bitrix24, as for a first message); relinked at once.
pub fn answer_as_writer(conn: &Connection, chat: &str, to: &str) -> Db {
    conn.exec(
        "UPDATE chats SET lead_for = ?2, crm_checked = 0 WHERE id = ?1",
        params![chat, to],
    )?;
    links::relink(conn, links::Scope::Chats(&[chat.to_owned()]))
}

/// Records a hand-over.
pub fn record_transfer(conn: &Connection, t: &TransferView) -> Db {
    conn.exec(
        "INSERT INTO transfers (at, by_id, chat, from_id, to_id, entities) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            t.at,
            t.by,
            t.chat,
            t.from,
            t.to,
            serde_json::to_string(&t.entities).unwrap_or_else(|_| "[]".into())
        ],
    )
    .map(drop)
}

/// Every hand-over, newest first (at most `limit`).
pub fn transfers(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<TransferView>> {
    let mut stmt = conn.prepare_cached(
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
    rows.collect()
}

//! Quick replies: the workspace's and each employee's own, and what `{company}` reads as.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension, Row};

/// One stored quick reply and whose it is (`None`: the workspace's).
#[derive(Debug, Clone, PartialEq)]
pub struct QuickReply {
    pub owner_id: Option<String>,
    pub view: QuickReplyView,
}

fn reply_row(r: &Row) -> rusqlite::Result<QuickReply> {
    let owner_id: Option<String> = r.get(1)?;
    Ok(QuickReply {
        view: QuickReplyView {
            id: r.get(0)?,
            title: r.get(2)?,
            text: r.get(3)?,
            personal: owner_id.is_some(),
            updated_at: r.get(4)?,
        },
        owner_id,
    })
}

const COLUMNS: &str = "id, owner_id, title, text, updated_at";

/// Every quick reply `owner` may use: the workspace's, then their own (`None`: the
/// workspace's only), each by title.
pub fn quick_replies(conn: &Connection, owner: Option<&str>) -> rusqlite::Result<QuickRepliesView> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM quick_replies WHERE owner_id IS NULL OR owner_id = ?1 \
         ORDER BY owner_id IS NOT NULL, title COLLATE NOCASE, id"
    ))?;
    let replies = stmt
        .query_map([owner], reply_row)?
        .map(|r| r.map(|q| q.view))
        .collect::<rusqlite::Result<_>>()?;
    Ok(QuickRepliesView {
        company: company_name(conn)?,
        replies,
    })
}

pub fn quick_reply(conn: &Connection, id: &str) -> rusqlite::Result<Option<QuickReply>> {
    conn.one(
        &format!("SELECT {COLUMNS} FROM quick_replies WHERE id = ?1"),
        [id],
        reply_row,
    )
    .optional()
}

/// How many quick replies `owner` has (`None`: the workspace).
pub fn count_quick_replies(conn: &Connection, owner: Option<&str>) -> rusqlite::Result<u64> {
    conn.one(
        "SELECT count(*) FROM quick_replies WHERE owner_id IS ?1",
        [owner],
        |r| r.get(0),
    )
}

/// Logs a change to `owner`'s quick replies (`None`: the workspace's, everyone's).
fn logged(conn: &Connection, owner: Option<&str>) -> Db {
    record_change(conn, ChangeKind::QuickReplies, owner.unwrap_or_default()).map(drop)
}

pub fn insert_quick_reply(
    conn: &Connection,
    owner: Option<&str>,
    title: &str,
    text: &str,
    now: &str,
) -> rusqlite::Result<QuickReply> {
    let id = new_id();
    conn.exec(
        "INSERT INTO quick_replies (id, owner_id, title, text, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, owner, title, text, now],
    )?;
    logged(conn, owner)?;
    quick_reply(conn, &id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// Writes `reply`'s title and text as they now are.
pub fn update_quick_reply(conn: &Connection, reply: &QuickReply) -> Db {
    let v = &reply.view;
    conn.exec(
        "UPDATE quick_replies SET title = ?2, text = ?3, updated_at = ?4 WHERE id = ?1",
        params![v.id, v.title, v.text, v.updated_at],
    )?;
    logged(conn, reply.owner_id.as_deref())
}

pub fn delete_quick_reply(conn: &Connection, reply: &QuickReply) -> Db {
    conn.exec("DELETE FROM quick_replies WHERE id = ?1", [&reply.view.id])?;
    logged(conn, reply.owner_id.as_deref())
}

pub fn company_name(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.one("SELECT company_name FROM settings WHERE id = 1", [], |r| {
        r.get(0)
    })
    .optional()
    .map(Option::flatten)
}

/// Names the workspace's company; logged only when it changed.
pub fn set_company_name(conn: &Connection, name: Option<&str>) -> Db {
    if company_name(conn)?.as_deref() != name {
        conn.exec("UPDATE settings SET company_name = ?1 WHERE id = 1", [name])?;
        logged(conn, None)?;
    }
    Ok(())
}

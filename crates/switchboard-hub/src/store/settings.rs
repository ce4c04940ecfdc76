//! The workspace's settings and their audit.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection};
use switchboard_core::Settings;

pub fn ensure_workspace(conn: &Connection) -> Db {
    let d = Settings::default();
    conn.exec(
        "INSERT OR IGNORE INTO settings (id, save_to_crm_timeline, eight_as_plus7, notify_supervisors_all) VALUES (1, ?1, ?2, ?3)",
        params![d.save_to_crm_timeline, d.eight_as_plus7, d.notify_supervisors_all],
    )?;
    crate::store::links::ensure_index(conn)
}

pub fn settings(conn: &Connection) -> rusqlite::Result<Settings> {
    conn.one(
        "SELECT save_to_crm_timeline, eight_as_plus7, notify_supervisors_all, escalate_after_minutes, sellers_may_transfer FROM settings WHERE id = 1",
        [],
        |r| {
            Ok(Settings {
                save_to_crm_timeline: r.get(0)?,
                eight_as_plus7: r.get(1)?,
                notify_supervisors_all: r.get(2)?,
                escalate_after_minutes: r.get(3)?,
                sellers_may_transfer: r.get(4)?,
            })
        },
    )
}

/// Applies a patch, audits each changed field, and relinks chats when setting 2 changed.
pub fn put_settings(
    conn: &Connection,
    patch: &SettingsPatch,
    by: &str,
    now: &str,
) -> rusqlite::Result<Settings> {
    let old = settings(conn)?;
    let mut new = old;
    let fields = [
        (
            "save_to_crm_timeline",
            patch.save_to_crm_timeline,
            &mut new.save_to_crm_timeline,
        ),
        (
            "eight_as_plus7",
            patch.eight_as_plus7,
            &mut new.eight_as_plus7,
        ),
        (
            "notify_supervisors_all",
            patch.notify_supervisors_all,
            &mut new.notify_supervisors_all,
        ),
        (
            "sellers_may_transfer",
            patch.sellers_may_transfer,
            &mut new.sellers_may_transfer,
        ),
    ];
    let at = now;
    let audit = |field: &str, old: String, new: String| {
        conn.exec(
            "INSERT INTO settings_audit (at, by, field, old, new) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![at, by, field, old, new],
        )
    };
    for (field, value, slot) in fields {
        if let Some(v) = value.filter(|v| v != slot) {
            audit(field, slot.to_string(), v.to_string())?;
            *slot = v;
        }
    }
    if let Some(v) = patch
        .escalate_after_minutes
        .filter(|v| *v != new.escalate_after_minutes)
    {
        let show = |m: Option<u32>| m.map_or("off".to_owned(), |m| m.to_string());
        audit(
            "escalate_after_minutes",
            show(new.escalate_after_minutes),
            show(v),
        )?;
        new.escalate_after_minutes = v;
    }
    if new != old {
        conn.exec(
            "UPDATE settings SET save_to_crm_timeline = ?1, eight_as_plus7 = ?2, notify_supervisors_all = ?3, escalate_after_minutes = ?4, sellers_may_transfer = ?5 WHERE id = 1",
            params![new.save_to_crm_timeline, new.eight_as_plus7, new.notify_supervisors_all, new.escalate_after_minutes, new.sellers_may_transfer],
        )?;
        // A sync sends the settings alone: desktops colour badges from each chat's facts
        // (`core::badge`), so a flip resends no chat.
        record_change(conn, ChangeKind::Settings, "")?;
        if new.eight_as_plus7 != old.eight_as_plus7 {
            relink_all(conn)?;
        }
    }
    Ok(new)
}

pub fn audit(conn: &Connection) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut stmt =
        conn.prepare_cached("SELECT at, by, field, old, new FROM settings_audit ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(AuditEntry {
            at: r.get(0)?,
            by: r.get(1)?,
            field: r.get(2)?,
            old: r.get(3)?,
            new: r.get(4)?,
        })
    })?;
    rows.collect()
}

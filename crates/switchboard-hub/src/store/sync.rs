//! What one viewer is told: the change log replayed through the visibility rules.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchboard_core::{self as core};

/// How many change-log rows one sync answer covers at most.
pub(super) const SYNC_BATCH: i64 = 500;

/// How many recent messages per chat a full snapshot carries.
pub(super) const SNAPSHOT_MESSAGES: u32 = 50;

/// Everything `viewer` may see that changed after `cursor`, in order.
pub fn sync(conn: &Connection, viewer_id: &str, cursor: i64) -> rusqlite::Result<SyncResponse> {
    let Some(viewer) = employee(conn, viewer_id)? else {
        return Ok(SyncResponse {
            changes: vec![],
            cursor,
            has_more: false,
        });
    };
    let max = last_seq(conn)?;
    let mut stmt =
        conn.prepare("SELECT seq, kind, ref FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows: Vec<(i64, String, String)> = stmt
        .query_map(params![cursor, SYNC_BATCH], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    // A kind this hub does not know (a newer hub wrote it) cannot be replayed: a snapshot
    // covers it, as it covers every list change.
    let batch: Vec<(i64, Option<ChangeKind>, String)> = rows
        .into_iter()
        .map(|(seq, kind, reference)| {
            let parsed = ChangeKind::parse(&kind);
            if parsed.is_none() {
                tracing::warn!(seq, kind, "unknown change kind; sending a snapshot");
            }
            (seq, parsed, reference)
        })
        .collect();
    let full = cursor <= 0
        || cursor > max
        || batch
            .iter()
            .any(|(_, kind, _)| !matches!(kind, Some(ChangeKind::Chat | ChangeKind::Message)));
    let settings = settings(conn)?;
    let mut changes = Vec::new();
    if full {
        // A snapshot of now: covers every change up to `max`.
        changes.push(Change::Me {
            employee: employee_view(&viewer),
        });
        changes.push(Change::Settings { settings });
        changes.push(Change::Channels {
            channels: channels(conn)?.iter().map(channel_view).collect(),
        });
        let chats = visible_chats(conn, &viewer)?;
        changes.push(Change::VisibleChats {
            ids: chats.iter().map(|c| c.id.clone()).collect(),
        });
        let visible: BTreeSet<String> = chats.iter().map(|c| c.id.clone()).collect();
        let mut sent: BTreeSet<String> = BTreeSet::new();
        if cursor <= 0 || cursor > max {
            for c in &chats {
                for m in messages(conn, &c.id, None, SNAPSHOT_MESSAGES)? {
                    sent.insert(m.id.clone());
                    changes.push(Change::Message { message: m });
                }
            }
        } else {
            let mut stmt = conn.prepare(
                "SELECT DISTINCT ref FROM changes WHERE seq > ?1 AND kind = 'message' ORDER BY seq",
            )?;
            let ids: Vec<String> = stmt
                .query_map([cursor], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in ids {
                if let Some(m) = message(conn, &id)?
                    .filter(|m| visible.contains(&m.chat) && !sent.contains(&m.id))
                {
                    sent.insert(m.id.clone());
                    changes.push(Change::Message { message: m });
                }
            }
        }
        changes.extend(chats.into_iter().map(|chat| Change::Chat { chat }));
        return Ok(SyncResponse {
            changes,
            cursor: max,
            has_more: false,
        });
    }
    // Incremental: the latest state of each changed chat and message, in log order.
    let mut last_pos: BTreeMap<(Option<ChangeKind>, &str), usize> = BTreeMap::new();
    for (i, (_, kind, reference)) in batch.iter().enumerate() {
        last_pos.insert((*kind, reference.as_str()), i);
    }
    let mut visible_cache: HashMap<String, bool> = HashMap::new();
    for (i, (_, kind, reference)) in batch.iter().enumerate() {
        if last_pos.get(&(*kind, reference.as_str())) != Some(&i) {
            continue;
        }
        match kind {
            Some(ChangeKind::Chat) => match chat_row_by_id(conn, reference)? {
                Some(row) => match chat_view(conn, &viewer, &row, &settings)? {
                    Some(chat) => changes.push(Change::Chat { chat }),
                    None => changes.push(Change::ChatRemoved { id: row.id }),
                },
                None => changes.push(Change::ChatRemoved {
                    id: reference.clone(),
                }),
            },
            Some(ChangeKind::Message) => {
                if let Some(m) = message(conn, reference)? {
                    let visible = match visible_cache.get(&m.chat) {
                        Some(v) => *v,
                        None => {
                            let v = chat_row_by_id(conn, &m.chat)?.is_some_and(|row| {
                                core::can_see(&viewer, row.responsible_id.as_deref())
                            });
                            visible_cache.insert(m.chat.clone(), v);
                            v
                        }
                    };
                    if visible {
                        changes.push(Change::Message { message: m });
                    }
                }
            }
            // A snapshot was sent instead (`full` above).
            Some(ChangeKind::Channels | ChangeKind::Employees | ChangeKind::Settings) | None => {}
        }
    }
    let new_cursor = batch.last().map_or(cursor, |b| b.0);
    Ok(SyncResponse {
        changes,
        cursor: new_cursor,
        has_more: batch.len() as i64 == SYNC_BATCH,
    })
}

//! What one viewer is told: the change log replayed through the visibility rules.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchboard_core::{self as core, Employee, Settings};

/// How many change-log rows one sync answer covers at most.
pub(super) const SYNC_BATCH: i64 = 500;

/// How much history a first sync carries: the recent messages of the newest chats, and of the
/// next newest chats waiting for an answer their unanswered ones. Every chat comes with its last
/// message (the list's preview); a desktop fetches the rest of a chat's history when it is
/// opened. Bounded whatever the workspace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotDepth {
    /// How many chats, newest activity first, come with their recent messages.
    pub chats: usize,
    /// How many recent messages each of them carries.
    pub messages: u32,
    /// How many more chats, newest first, that wait for an answer carry their unanswered
    /// messages (at most `messages` each).
    pub waiting: usize,
}

impl SnapshotDepth {
    pub const DEFAULT: SnapshotDepth = SnapshotDepth {
        chats: 200,
        messages: 50,
        waiting: 2_000,
    };
}

/// Everything `viewer` may see that changed after `cursor`, in order.
pub fn sync(conn: &Connection, viewer_id: &str, cursor: i64) -> rusqlite::Result<SyncResponse> {
    sync_with(conn, viewer_id, cursor, SnapshotDepth::DEFAULT)
}

/// [`sync`] with a first sync's history as deep as `depth` says (benches compare depths).
pub fn sync_with(
    conn: &Connection,
    viewer_id: &str,
    cursor: i64,
    depth: SnapshotDepth,
) -> rusqlite::Result<SyncResponse> {
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
    // What a sync can tell without a snapshot: chats and messages, the channel list, the
    // badges a settings change recoloured, and nothing for another employee's edit. A snapshot
    // when the viewer's own scope may have changed (their own edit), or for what it cannot
    // read (an unknown kind; a settings change recorded without the settings before it).
    //
    // The settings before each settings change of this batch: the desktop's colours were
    // computed under one of them (an earlier answer colours its chats under the settings of
    // its moment, which may lie past the cursor), so a badge any of them coloured differently
    // from now is sent.
    let settings_before: Vec<Option<Settings>> = batch
        .iter()
        .filter(|(_, kind, _)| *kind == Some(ChangeKind::Settings))
        .map(|(_, _, reference)| serde_json::from_str(reference).ok())
        .collect();
    let full = cursor <= 0
        || cursor > max
        || settings_before.iter().any(Option::is_none)
        || batch.iter().any(|(_, kind, reference)| match kind {
            Some(ChangeKind::Employees) => reference.is_empty() || *reference == viewer.id,
            // Settings: above (readable before-settings or a snapshot).
            Some(
                ChangeKind::Chat
                | ChangeKind::Message
                | ChangeKind::Channels
                | ChangeKind::Settings,
            ) => false,
            None => true,
        });
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
            // The newest chats' recent history; every other chat waiting for an answer its
            // unanswered messages (what an operator must read, offline too).
            let mut waiting = 0;
            for (i, c) in chats.iter().enumerate() {
                let limit = if i < depth.chats {
                    depth.messages
                } else if c.unanswered.count > 0 && waiting < depth.waiting {
                    waiting += 1;
                    c.unanswered.count.min(depth.messages)
                } else {
                    0
                };
                if limit == 0 {
                    continue;
                }
                for m in messages(conn, &c.id, None, limit)? {
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
    let settings_before: Vec<Settings> = settings_before.into_iter().flatten().collect();
    let (mut channels_sent, mut settings_sent) = (false, false);
    for (i, (_, kind, reference)) in batch.iter().enumerate() {
        if last_pos.get(&(*kind, reference.as_str())) != Some(&i) {
            continue;
        }
        match kind {
            Some(ChangeKind::Channels) if !channels_sent => {
                channels_sent = true;
                changes.push(Change::Channels {
                    channels: channels(conn)?.iter().map(channel_view).collect(),
                });
            }
            Some(ChangeKind::Settings) if !settings_sent => {
                settings_sent = true;
                changes.push(Change::Settings { settings });
                recoloured(conn, &viewer, &settings_before, &settings, &mut changes)?;
            }
            // Sent once per answer, at the first of them.
            Some(ChangeKind::Channels | ChangeKind::Settings) => {}
            // Another employee's edit: who answers which chat moved with it, logged as chats.
            Some(ChangeKind::Employees) => {}
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
            None => {}
        }
    }
    let new_cursor = batch.last().map_or(cursor, |b| b.0);
    Ok(SyncResponse {
        changes,
        cursor: new_cursor,
        has_more: batch.len() as i64 == SYNC_BATCH,
    })
}

/// The chats whose badge `viewer` sees differently under `now` than under any of `before`:
/// as they are now (settings decide colours, not visibility). Only chats with something
/// unanswered (or escalated) carry a colour, so only those are read.
fn recoloured(
    conn: &Connection,
    viewer: &Employee,
    before: &[Settings],
    now: &Settings,
    out: &mut Vec<Change>,
) -> rusqlite::Result<()> {
    if before.iter().all(|b| b == now) {
        return Ok(());
    }
    let mut stmt = conn.prepare(&waiting_chats())?;
    let rows = stmt.query_map([], chat_row)?;
    for row in rows {
        let row = row?;
        let is = core::badge(viewer, &row.facts(), now);
        if before
            .iter()
            .all(|b| core::badge(viewer, &row.facts(), b) == is)
        {
            continue;
        }
        out.push(match is {
            Some(badge) => Change::Chat {
                chat: view_of(&row, links(conn, &row.id)?, badge),
            },
            None => Change::ChatRemoved { id: row.id },
        });
    }
    Ok(())
}

/// The chats that carry a colour, through the `chats_waiting` index (migration 9).
fn waiting_chats() -> String {
    format!(
        "{CHAT_SELECT} WHERE c.unanswered > 0 OR c.escalated ORDER BY c.last_activity_at DESC, c.id"
    )
}

#[cfg(test)]
mod tests {
    /// A settings change reads the waiting chats through their index, not every chat.
    #[test]
    fn recolouring_reads_the_waiting_chats_by_their_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("open");
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", super::waiting_chats()))
            .expect("plan")
            .query_map([], |r| r.get::<_, String>(3))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        assert!(
            plan.iter()
                .any(|step| step.contains("SCAN c USING INDEX chats_waiting")),
            "{plan:?}"
        );
    }
}

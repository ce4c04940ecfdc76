//! Chats and channels as last synced, and the chat list drawn from them.

use super::{LocalError, LocalResult, LocalStore};
use crate::vm::{ChatFilter, ChatListVm, ChatRowVm};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use switchboard_core::{
    self as core, Badge, BadgeColor, ChatFacts, Counters, Direction, Employee, MessageKind,
    Settings,
};
use switchboard_wire::{ChannelView, ChatView, EmployeeView};

impl LocalStore {
    /// The workspace's channels as last synced.
    pub fn channels(&self) -> LocalResult<Vec<ChannelView>> {
        self.read(|c, _| {
            let mut stmt = c.prepare("SELECT view FROM channels ORDER BY rowid")?;
            let mut out = Vec::new();
            for v in stmt.query_map([], |r| r.get::<_, String>(0))? {
                out.push(serde_json::from_str(&v?)?);
            }
            Ok(out)
        })
    }

    pub fn chat(&self, id: &str) -> LocalResult<Option<ChatView>> {
        self.read(|c, _| {
            let view: Option<String> = c
                .query_row("SELECT view FROM chats WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            Ok(view.map(|v| serde_json::from_str(&v)).transpose()?)
        })
    }

    /// The tray's figures: chats with a red and with a grey badge (SQL over an index).
    pub fn counters(&self) -> LocalResult<Counters> {
        self.read(|c, _| counters(c))
    }

    /// One window of the chat list, chats waiting for an answer first, then by newest
    /// activity: `limit` rows from `offset` of those `filter` keeps, how many it keeps in all,
    /// and the totals of every visible chat.
    pub fn chat_list(
        &self,
        filter: ChatFilter,
        offset: u32,
        limit: u32,
    ) -> LocalResult<ChatListVm> {
        self.read(|c, reader| {
            let colour = match filter {
                ChatFilter::All => None,
                ChatFilter::Mine => Some(BadgeColor::Red),
                ChatFilter::Others => Some(BadgeColor::Grey),
            };
            let mut cache = self.list_cache.lock().map_err(|_| LocalError::Poisoned)?;
            let cache = cache.fresh(c, reader)?;
            let total = cache.total(c, colour)?;
            let counters = cache.counters(c)?;
            // Two shapes, so that each reads its own index (an `IS NULL OR` would read neither):
            // `chats_in_list_order`, or `chats_by_colour` (where every chat waits).
            let mut stmt = match colour {
                None => c.prepare_cached(&format!(
                    "{ROW_COLUMNS} ORDER BY badge_count > 0 DESC, last_activity_at DESC, id \
                     LIMIT ?1 OFFSET ?2"
                ))?,
                Some(_) => c.prepare_cached(&format!(
                    "{ROW_COLUMNS} WHERE badge_color = ?3 ORDER BY last_activity_at DESC, id \
                     LIMIT ?1 OFFSET ?2"
                ))?,
            };
            let mut rows = match colour {
                None => stmt.query(params![limit, offset])?,
                Some(colour) => stmt.query(params![limit, offset, colour.as_str()])?,
            };
            let mut chats = Vec::new();
            while let Some(r) = rows.next()? {
                // The list shows no CRM links: a page does not read them (the open chat's
                // row does).
                chats.push(row_vm(r, &cache.channels, false)?);
            }
            Ok(ChatListVm {
                chats,
                offset,
                total,
                counters,
            })
        })
    }

    /// One chat's row, wherever it stands in the list.
    pub fn chat_row(&self, id: &str) -> LocalResult<Option<ChatRowVm>> {
        self.read(|c, reader| {
            let mut cache = self.list_cache.lock().map_err(|_| LocalError::Poisoned)?;
            let cache = cache.fresh(c, reader)?;
            let mut stmt = c.prepare_cached(&format!("{ROW_COLUMNS} WHERE id = ?1"))?;
            let mut rows = stmt.query([id])?;
            rows.next()?
                .map(|r| row_vm(r, &cache.channels, true))
                .transpose()
        })
    }

    /// Whether I may hand chat `id` to a colleague, as core's rule reads this desktop's copy
    /// (the hub decides again when it is done).
    pub fn may_hand_over(&self, id: &str) -> LocalResult<bool> {
        let (Some(me), Some(settings), Some(chat)) = (self.me()?, self.settings()?, self.chat(id)?)
        else {
            return Ok(false);
        };
        Ok(switchboard_core::may_transfer(
            &employee_of(&me),
            chat.responsible_id.as_deref(),
            &settings,
        ))
    }

    /// The chat waiting for my answer (red) after `current` in the list's order (`forward`),
    /// or before it; round to the first (last) from the end; from the top when `current` is
    /// not one of them. `None` when none waits.
    pub fn next_waiting(
        &self,
        current: Option<&str>,
        forward: bool,
    ) -> LocalResult<Option<String>> {
        self.read(|c, _| {
            let at: Option<(String, String)> = match current {
                Some(id) => c
                    .prepare_cached(
                        "SELECT last_activity_at, id FROM chats WHERE id = ?1 AND badge_color = 'red'",
                    )?
                    .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?,
                None => None,
            };
            // Red chats in the list's order: newest activity first, then by id.
            let (after, first) = if forward {
                (
                    "SELECT id FROM chats WHERE badge_color = 'red' AND (last_activity_at < ?1 \
                     OR (last_activity_at = ?1 AND id > ?2)) ORDER BY last_activity_at DESC, id LIMIT 1",
                    "SELECT id FROM chats WHERE badge_color = 'red' ORDER BY last_activity_at DESC, id LIMIT 1",
                )
            } else {
                (
                    "SELECT id FROM chats WHERE badge_color = 'red' AND (last_activity_at > ?1 \
                     OR (last_activity_at = ?1 AND id < ?2)) ORDER BY last_activity_at, id DESC LIMIT 1",
                    "SELECT id FROM chats WHERE badge_color = 'red' ORDER BY last_activity_at, id DESC LIMIT 1",
                )
            };
            if let Some((at, id)) = &at {
                let next: Option<String> = c
                    .prepare_cached(after)?
                    .query_row(params![at, id], |r| r.get(0))
                    .optional()?;
                if next.is_some() {
                    return Ok(next);
                }
            }
            Ok(c.prepare_cached(first)?.query_row([], |r| r.get(0)).optional()?)
        })
    }

    /// Forgets `chat`'s draft if it is `sent` (a message just sent from it).
    pub fn drop_draft_if(&self, chat: &str, sent: &str) -> LocalResult<()> {
        self.with(|c| {
            c.execute(
                "DELETE FROM drafts WHERE chat = ?1 AND trim(text) = trim(?2)",
                params![chat, sent],
            )?;
            Ok(())
        })
    }

    /// Keeps what is being written in `chat` (blank text forgets it). `true` when it changed.
    pub fn set_draft(&self, chat: &str, text: &str, at: &str) -> LocalResult<bool> {
        self.with(|c| {
            let n = if text.trim().is_empty() {
                c.execute("DELETE FROM drafts WHERE chat = ?1", [chat])?
            } else {
                c.execute(
                    "INSERT INTO drafts (chat, text, at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (chat) DO UPDATE SET text = excluded.text, at = excluded.at \
                     WHERE drafts.text IS NOT excluded.text",
                    params![chat, text, at],
                )?
            };
            Ok(n > 0)
        })
    }
}

/// The most rows one window of the list may ask for.
pub const MAX_PAGE: u32 = 500;

/// What a row of the list reads (public for the bench's floor: the same SQL, bare).
pub const ROW_COLUMNS: &str = "SELECT id, title, channel_id, last_text, last_from_client, \
     last_activity_at, badge_count, badge_color, crm, last_kind, last_media_name, \
     (SELECT d.text FROM drafts d WHERE d.chat = chats.id), last_media_ms FROM chats";

/// What every window of the list reads and only a write changes: the channels, each filter's
/// total and the counters. Kept while the database's `data_version` (as the reader sees it)
/// stays, so scrolling counts nothing again.
#[derive(Default)]
pub(super) struct ListCache {
    /// The `data_version` these were read at.
    at: Option<i64>,
    channels: HashMap<String, ChannelView>,
    totals: HashMap<Option<BadgeColor>, u32>,
    counters: Option<Counters>,
}

impl ListCache {
    /// This cache, emptied first if anything was written since it was filled. On the
    /// `reader`, `data_version` tells (it moves when the writer commits); on the writer itself
    /// it would not, so there it is always emptied.
    fn fresh(&mut self, c: &Connection, reader: bool) -> LocalResult<&mut ListCache> {
        let version = if reader {
            Some(
                c.prepare_cached("PRAGMA data_version")?
                    .query_row([], |r| r.get(0))?,
            )
        } else {
            None
        };
        if version.is_none() || self.at != version {
            *self = ListCache {
                at: version,
                channels: channel_map(c)?,
                ..ListCache::default()
            };
        }
        Ok(self)
    }

    fn total(&mut self, c: &Connection, colour: Option<BadgeColor>) -> LocalResult<u32> {
        if let Some(total) = self.totals.get(&colour) {
            return Ok(*total);
        }
        let total = match colour {
            None => c.query_row("SELECT count(*) FROM chats", [], |r| r.get(0))?,
            Some(colour) => c.query_row(
                "SELECT count(*) FROM chats WHERE badge_color = ?1",
                [colour.as_str()],
                |r| r.get(0),
            )?,
        };
        self.totals.insert(colour, total);
        Ok(total)
    }

    fn counters(&mut self, c: &Connection) -> LocalResult<Counters> {
        if let Some(counters) = self.counters {
            return Ok(counters);
        }
        let counters = counters(c)?;
        self.counters = Some(counters);
        Ok(counters)
    }
}

fn channel_map(c: &Connection) -> LocalResult<HashMap<String, ChannelView>> {
    let mut channels = HashMap::new();
    let mut stmt = c.prepare("SELECT view FROM channels")?;
    for v in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let ch: ChannelView = serde_json::from_str(&v?)?;
        channels.insert(ch.id.clone(), ch);
    }
    Ok(channels)
}

/// A row of [`ROW_COLUMNS`] as the list shows it.
fn row_vm(
    r: &rusqlite::Row,
    channels: &HashMap<String, ChannelView>,
    with_crm: bool,
) -> LocalResult<ChatRowVm> {
    let channel = channels.get(r.get_ref(2)?.as_str().unwrap_or_default());
    let colour: Option<String> = r.get(7)?;
    Ok(ChatRowVm {
        id: r.get(0)?,
        title: r.get(1)?,
        channel_name: channel.map(|c| c.name.clone()).unwrap_or_default(),
        transport: channel.map(|c| c.transport),
        last_text: r.get(3)?,
        last_from_client: r.get(4)?,
        last_at: r.get(5)?,
        badge: Badge {
            count: r.get(6)?,
            color: colour.as_deref().and_then(BadgeColor::parse),
        },
        crm: if with_crm {
            serde_json::from_str(r.get_ref(8)?.as_str().unwrap_or("[]"))?
        } else {
            Vec::new()
        },
        last_kind: MessageKind::parse(r.get_ref(9)?.as_str().unwrap_or("text")),
        last_media_name: r.get(10)?,
        draft: r.get(11)?,
        last_duration: r
            .get::<_, Option<i64>>(12)?
            .map(|n| switchboard_core::duration_label(n.max(0) as u64)),
    })
}

fn counters(c: &Connection) -> LocalResult<Counters> {
    Ok(c.query_row(
        // Two counts over the colour index: a few entries each, not every chat.
        "SELECT (SELECT count(*) FROM chats WHERE badge_color = 'red'), \
         (SELECT count(*) FROM chats WHERE badge_color = 'grey')",
        [],
        |r| {
            Ok(Counters {
                red: r.get(0)?,
                grey: r.get(1)?,
            })
        },
    )?)
}

/// Who this desktop is and the settings it holds: what a badge is coloured under, here as on
/// the hub (`core::badge`).
#[derive(Default)]
pub(super) struct Colouring {
    pub me: Option<Employee>,
    pub settings: Option<Settings>,
}

impl Colouring {
    pub fn load(c: &Connection) -> LocalResult<Colouring> {
        let read = |key: &str| -> rusqlite::Result<Option<String>> {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        };
        let me: Option<EmployeeView> = read("me")?.map(|m| serde_json::from_str(&m)).transpose()?;
        Ok(Colouring {
            me: me.as_ref().map(employee_of),
            settings: read("settings")?
                .map(|s| serde_json::from_str(&s))
                .transpose()?,
        })
    }

    /// The colour of a badge with these facts; `hub` (the hub's colour) until this desktop
    /// knows who it is and the settings.
    fn colour(&self, facts: &ChatFacts, hub: Option<BadgeColor>) -> Option<BadgeColor> {
        match (&self.me, &self.settings) {
            (Some(me), Some(settings)) => match core::badge(me, facts, settings) {
                Some(badge) => badge.color,
                // Not visible by the rules here: the hub sent it, so it is shown as it says.
                None => hub,
            },
            _ => hub,
        }
    }
}

pub(super) fn employee_of(e: &EmployeeView) -> Employee {
    Employee {
        id: e.id.clone(),
        name: e.name.clone(),
        role: e.role,
        receives_new_clients: e.receives_new_clients,
        priority_channel_id: e.priority_channel_id.clone(),
    }
}

/// Colours every waiting chat again under `colours` (who I am or the settings changed);
/// how many badges changed colour.
pub(super) fn recolour(c: &Connection, colours: &Colouring) -> LocalResult<usize> {
    let mut stmt = c.prepare(
        // Every waiting chat has a colour: read through `chats_by_colour`.
        "SELECT id, responsible_id, badge_count, escalated, badge_color FROM chats \
         WHERE badge_color IS NOT NULL",
    )?;
    let mut changed = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let responsible: Option<String> = r.get(1)?;
        let facts = ChatFacts {
            responsible: responsible.as_deref(),
            unanswered: r.get(2)?,
            escalated: r.get(3)?,
        };
        let was: Option<String> = r.get(4)?;
        let was = was.as_deref().and_then(BadgeColor::parse);
        let is = colours.colour(&facts, was);
        if is != was {
            changed.push((r.get::<_, String>(0)?, is));
        }
    }
    let mut update = c.prepare("UPDATE chats SET badge_color = ?2 WHERE id = ?1")?;
    for (id, colour) in &changed {
        update.execute(params![id, colour.map(BadgeColor::as_str)])?;
    }
    Ok(changed.len())
}

pub(super) fn put_chat(c: &Connection, chat: &ChatView, colours: &Colouring) -> LocalResult<()> {
    let last = chat.last_message.as_ref();
    let facts = ChatFacts {
        responsible: chat.responsible_id.as_deref(),
        unanswered: chat.unanswered.count,
        escalated: chat.escalated,
    };
    let colour = colours.colour(&facts, chat.unanswered.color);
    let crm = serde_json::to_string(&chat.crm)?;
    // The index of each CRM entity's chats (Ctrl+K by a CRM title) changes only with the
    // chat's links, not with each of its new messages.
    let before: Option<String> = c
        .prepare_cached("SELECT crm FROM chats WHERE id = ?1")?
        .query_row([&chat.id], |r| r.get(0))
        .optional()?;
    if before.as_deref() != Some(crm.as_str()) {
        c.prepare_cached("DELETE FROM chat_crm WHERE chat = ?1")?
            .execute([&chat.id])?;
        let mut link = c.prepare_cached(
            "INSERT OR IGNORE INTO chat_crm (kind, id, chat) VALUES (?1, ?2, ?3)",
        )?;
        for r in &chat.crm {
            link.execute(params![r.kind.as_str(), r.id, chat.id])?;
        }
    }
    c.prepare_cached(
        "INSERT OR REPLACE INTO chats (id, last_activity_at, view, title, channel_id, badge_count, \
         badge_color, last_text, last_from_client, crm, responsible_id, escalated, last_kind, \
         last_media_name, last_media_ms, client) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        chat.id,
        chat.last_activity_at,
        serde_json::to_string(chat)?,
        chat.title,
        chat.channel_id,
        chat.unanswered.count,
        colour.map(BadgeColor::as_str),
        last.map_or("", |m| m.text.as_str()),
        last.is_some_and(|m| m.direction == Direction::In),
        crm,
        chat.responsible_id,
        chat.escalated,
        last.map_or(MessageKind::Text, |m| m.kind).as_str(),
        last.and_then(|m| m.media_name.as_deref()),
        last.and_then(|m| m.media_duration_ms)
            .map(|d| d.min(i64::MAX as u64) as i64),
        chat.chat_id,
    ])?;
    Ok(())
}

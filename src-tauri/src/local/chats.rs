//! Chats and channels as last synced, and the chat list drawn from them.

use super::{LocalResult, LocalStore};
use crate::vm::{ChatFilter, ChatListVm, ChatRowVm};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use switchboard_core::{Badge, BadgeColor, Counters, Direction};
use switchboard_wire::{ChannelView, ChatView};

impl LocalStore {
    /// The workspace's channels as last synced.
    pub fn channels(&self) -> LocalResult<Vec<ChannelView>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT view FROM channels ORDER BY rowid")?;
            let mut out = Vec::new();
            for v in stmt.query_map([], |r| r.get::<_, String>(0))? {
                out.push(serde_json::from_str(&v?)?);
            }
            Ok(out)
        })
    }

    pub fn chat(&self, id: &str) -> LocalResult<Option<ChatView>> {
        self.with(|c| {
            let view: Option<String> = c
                .query_row("SELECT view FROM chats WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            Ok(view.map(|v| serde_json::from_str(&v)).transpose()?)
        })
    }

    /// The tray's figures: chats with a red and with a grey badge (SQL over an index).
    pub fn counters(&self) -> LocalResult<Counters> {
        self.with(|c| counters(c))
    }

    /// One window of the chat list, newest activity first: `limit` rows from `offset` of those
    /// `filter` keeps, how many it keeps in all, and the totals of every visible chat.
    pub fn chat_list(
        &self,
        filter: ChatFilter,
        offset: u32,
        limit: u32,
    ) -> LocalResult<ChatListVm> {
        self.with(|c| {
            let channels = channel_map(c)?;
            let colour = match filter {
                ChatFilter::All => None,
                ChatFilter::Mine => Some(BadgeColor::Red),
                ChatFilter::Others => Some(BadgeColor::Grey),
            };
            // Two shapes, so that each reads its own index (an `IS NULL OR` would read neither).
            let order = "ORDER BY last_activity_at DESC, id LIMIT ?1 OFFSET ?2";
            let (mut stmt, total) = match colour {
                None => (
                    c.prepare(&format!("{ROW_COLUMNS} {order}"))?,
                    c.query_row("SELECT count(*) FROM chats", [], |r| r.get(0))?,
                ),
                Some(colour) => (
                    c.prepare(&format!("{ROW_COLUMNS} WHERE badge_color = ?3 {order}"))?,
                    c.query_row(
                        "SELECT count(*) FROM chats WHERE badge_color = ?1",
                        [colour.as_str()],
                        |r| r.get(0),
                    )?,
                ),
            };
            let mut rows = match colour {
                None => stmt.query(params![limit, offset])?,
                Some(colour) => stmt.query(params![limit, offset, colour.as_str()])?,
            };
            let mut chats = Vec::new();
            while let Some(r) = rows.next()? {
                chats.push(row_vm(r, &channels)?);
            }
            Ok(ChatListVm {
                chats,
                offset,
                total,
                counters: counters(c)?,
            })
        })
    }

    /// One chat's row, wherever it stands in the list.
    pub fn chat_row(&self, id: &str) -> LocalResult<Option<ChatRowVm>> {
        self.with(|c| {
            let channels = channel_map(c)?;
            let mut stmt = c.prepare(&format!("{ROW_COLUMNS} WHERE id = ?1"))?;
            let mut rows = stmt.query([id])?;
            rows.next()?.map(|r| row_vm(r, &channels)).transpose()
        })
    }
}

/// The most rows one window of the list may ask for.
pub const MAX_PAGE: u32 = 500;

const ROW_COLUMNS: &str = "SELECT id, title, channel_id, last_text, last_from_client, \
     last_activity_at, badge_count, badge_color, crm FROM chats";

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
fn row_vm(r: &rusqlite::Row, channels: &HashMap<String, ChannelView>) -> LocalResult<ChatRowVm> {
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
        crm: serde_json::from_str(r.get_ref(8)?.as_str().unwrap_or("[]"))?,
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

pub(super) fn put_chat(c: &Connection, chat: &ChatView) -> LocalResult<()> {
    let last = chat.last_message.as_ref();
    c.prepare_cached(
        "INSERT OR REPLACE INTO chats (id, last_activity_at, view, title, channel_id, badge_count, \
         badge_color, last_text, last_from_client, crm) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        chat.id,
        chat.last_activity_at,
        serde_json::to_string(chat)?,
        chat.title,
        chat.channel_id,
        chat.unanswered.count,
        chat.unanswered.color.map(BadgeColor::as_str),
        last.map_or("", |m| m.text.as_str()),
        last.is_some_and(|m| m.direction == Direction::In),
        serde_json::to_string(&chat.crm)?,
    ])?;
    Ok(())
}

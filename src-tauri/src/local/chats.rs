//! Chats and channels as last synced, and the chat list drawn from them.

use super::{LocalResult, LocalStore};
use crate::vm::{ChatFilter, ChatListVm, ChatRowVm};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use switchboard_core::{BadgeColor, Counters, Direction};
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

    /// The chat list, newest activity first, and the totals of every visible chat.
    pub fn chat_list(&self, filter: ChatFilter) -> LocalResult<ChatListVm> {
        self.with(|c| {
            let mut channels: HashMap<String, ChannelView> = HashMap::new();
            let mut stmt = c.prepare("SELECT view FROM channels")?;
            for v in stmt.query_map([], |r| r.get::<_, String>(0))? {
                let ch: ChannelView = serde_json::from_str(&v?)?;
                channels.insert(ch.id.clone(), ch);
            }
            let mut stmt =
                c.prepare("SELECT view FROM chats ORDER BY last_activity_at DESC, id")?;
            let mut all = Vec::new();
            for v in stmt.query_map([], |r| r.get::<_, String>(0))? {
                all.push(serde_json::from_str::<ChatView>(&v?)?);
            }
            let counters = Counters::of(all.iter().map(|c| &c.unanswered));
            let chats = all
                .into_iter()
                .filter(|chat| match filter {
                    ChatFilter::All => true,
                    ChatFilter::Mine => chat.unanswered.color == Some(BadgeColor::Red),
                    ChatFilter::Others => chat.unanswered.color == Some(BadgeColor::Grey),
                })
                .map(|chat| {
                    let channel = channels.get(&chat.channel_id);
                    ChatRowVm {
                        channel_name: channel.map(|c| c.name.clone()).unwrap_or_default(),
                        transport: channel.map(|c| c.transport),
                        last_text: chat
                            .last_message
                            .as_ref()
                            .map(|m| m.text.clone())
                            .unwrap_or_default(),
                        last_from_client: chat
                            .last_message
                            .as_ref()
                            .is_some_and(|m| m.direction == Direction::In),
                        last_at: chat.last_activity_at.clone(),
                        id: chat.id,
                        title: chat.title,
                        badge: chat.unanswered,
                        crm: chat.crm,
                    }
                })
                .collect();
            Ok(ChatListVm { chats, counters })
        })
    }
}

pub(super) fn put_chat(c: &Connection, chat: &ChatView) -> LocalResult<()> {
    c.execute(
        "INSERT OR REPLACE INTO chats (id, last_activity_at, view) VALUES (?1, ?2, ?3)",
        params![chat.id, chat.last_activity_at, serde_json::to_string(chat)?],
    )?;
    Ok(())
}

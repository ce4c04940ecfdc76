//! A conversation's messages: the hub's, then what this desktop still holds for the chat.

use super::outbox::{outbox_row, OUTBOX_COLS};
use super::{LocalResult, LocalStore};
use crate::vm::MessageVm;
use rusqlite::{params, Connection};
use switchboard_core::{Direction, MessageStatus};
use switchboard_wire::MessageView;

impl LocalStore {
    /// Stores messages fetched page by page (opening an older conversation).
    /// Stores messages fetched from the hub; `true` when any of them was new or different
    /// (the window redraws only then).
    pub fn put_messages(&self, messages: &[MessageView]) -> LocalResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut changed = false;
            for m in messages {
                changed |= put_message(&tx, m)?;
            }
            tx.commit()?;
            Ok(changed)
        })
    }

    /// A chat's messages, oldest first.
    pub fn messages(&self, chat: &str) -> LocalResult<Vec<MessageVm>> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT view FROM messages WHERE chat = ?1 ORDER BY at, rowid")?;
            let mut out = Vec::new();
            for v in stmt.query_map([chat], |r| r.get::<_, String>(0))? {
                let m: MessageView = serde_json::from_str(&v?)?;
                out.push(MessageVm {
                    id: m.id,
                    direction: m.direction,
                    text: m.text,
                    at: m.at,
                    status: m.status,
                    mirror: crate::vm::MirrorVm::of(&m.mirror),
                    error: m.error,
                    error_code: None,
                    error_owner: None,
                    local: false,
                });
            }
            // Then what this desktop still holds for the chat, in the order written.
            let mut stmt = c.prepare(&format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE chat = ?1 ORDER BY seq"
            ))?;
            for i in stmt.query_map([chat], outbox_row)? {
                let i = i?;
                out.push(MessageVm {
                    status: if i.error.is_some() {
                        MessageStatus::Failed
                    } else {
                        MessageStatus::Pending
                    },
                    id: i.key,
                    direction: Direction::Out,
                    text: i.text,
                    at: i.created_at,
                    error: i.error,
                    error_code: i.error_code,
                    error_owner: i.error_owner,
                    local: true,
                    mirror: crate::vm::MirrorVm::none(),
                });
            }
            Ok(out)
        })
    }
}

/// Stores a message; `true` when it was new or different from the stored one.
pub(super) fn put_message(c: &Connection, m: &MessageView) -> LocalResult<bool> {
    let n = c.execute(
        "INSERT INTO messages (id, chat, at, view) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (id) DO UPDATE SET chat = excluded.chat, at = excluded.at, view = excluded.view \
         WHERE messages.view IS NOT excluded.view",
        params![m.id, m.chat, m.at, serde_json::to_string(m)?],
    )?;
    Ok(n > 0)
}

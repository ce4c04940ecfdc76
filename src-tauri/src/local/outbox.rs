//! The outbox: what this desktop wrote and the hub has not taken yet (it survives restarts;
//! refused or held-back messages stay with their reason until retried or discarded).

use super::{LocalResult, LocalStore};
use crate::vm::PendingFirstVm;
use rusqlite::{params, OptionalExtension};
use switchboard_wire::{ChannelView, MessageView};

/// The outbox code of messages held back because this desktop's sign-in ended (the hub answered
/// 401) before the hub took them: kept, never sent by themselves, Retry or Discard once signed in.
pub const ACCESS_ENDED: &str = "access_ended";

/// A message in this desktop's outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub key: String,
    pub chat: Option<String>,
    pub channel_id: Option<String>,
    pub phone: Option<String>,
    pub display: Option<String>,
    pub text: String,
    pub created_at: String,
    /// Why the hub refused it (`None` while it waits to be sent) …
    pub error: Option<String>,
    /// … the hub's stable code for that …
    pub error_code: Option<String>,
    /// … and, for `client_taken`, whose client it is.
    pub error_owner: Option<String>,
    /// A file (its bytes wait in `LocalStore::outbox_file_path`); `text` is then empty.
    pub file: Option<OutboxFile>,
}

/// A file waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxFile {
    pub name: String,
    /// Read from its bytes.
    pub mime: String,
    pub size: u64,
}

impl OutboxItem {
    /// What the hub is asked to send: a reply in its chat, or a first message to a number;
    /// the outbox key is the idempotency key, so a resend after a lost answer sends once.
    pub fn body(&self) -> switchboard_wire::SendMessage {
        let first = self.chat.is_none();
        switchboard_wire::SendMessage {
            chat: self.chat.clone(),
            channel_id: self.channel_id.clone().filter(|_| first),
            phone: self.phone.clone().filter(|_| first),
            crm: None,
            text: self.text.clone(),
            idempotency_key: self.key.clone(),
        }
    }
}

pub(super) fn outbox_row(r: &rusqlite::Row) -> rusqlite::Result<OutboxItem> {
    Ok(OutboxItem {
        key: r.get(0)?,
        chat: r.get(1)?,
        channel_id: r.get(2)?,
        phone: r.get(3)?,
        display: r.get(4)?,
        text: r.get(5)?,
        created_at: r.get(6)?,
        error: r.get(7)?,
        error_code: r.get(8)?,
        error_owner: r.get(9)?,
        file: match (r.get(10)?, r.get(11)?, r.get::<_, Option<i64>>(12)?) {
            (Some(name), Some(mime), Some(size)) => Some(OutboxFile {
                name,
                mime,
                size: size.max(0) as u64,
            }),
            _ => None,
        },
    })
}

pub(super) const OUTBOX_COLS: &str =
    "key, chat, channel_id, phone, display, text, created_at, error, error_code, error_owner, \
     file_name, file_mime, file_size";

impl LocalStore {
    /// Outbox item `key`'s file, while this desktop holds it: where its bytes are and its type.
    pub fn outbox_file(&self, key: &str) -> LocalResult<Option<(std::path::PathBuf, OutboxFile)>> {
        let Some(path) = self.outbox_file_path(key) else {
            return Ok(None);
        };
        self.read(|c, _| {
            let item = c
                .prepare_cached(&format!("SELECT {OUTBOX_COLS} FROM outbox WHERE key = ?1"))?
                .query_row([key], outbox_row)
                .optional()?;
            Ok(item.and_then(|i| i.file).map(|f| (path.clone(), f)))
        })
    }

    /// Puts a message on the outbox (it survives restarts until the hub takes it).
    pub fn enqueue(&self, item: &OutboxItem) -> LocalResult<()> {
        self.with(|c| {
            c.execute(
                &format!("INSERT OR IGNORE INTO outbox ({OUTBOX_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                params![item.key, item.chat, item.channel_id, item.phone, item.display, item.text, item.created_at, item.error, item.error_code, item.error_owner,
                    item.file.as_ref().map(|f| &f.name), item.file.as_ref().map(|f| &f.mime), item.file.as_ref().map(|f| f.size as i64)],
            )?;
            Ok(())
        })
    }

    /// What waits to be sent (not refused), oldest first.
    pub fn outbox(&self) -> LocalResult<Vec<OutboxItem>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE error IS NULL ORDER BY seq"
            ))?;
            let rows = stmt.query_map([], outbox_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// How many messages this desktop still holds (waiting or refused).
    pub fn outbox_len(&self) -> LocalResult<usize> {
        self.with(|c| {
            Ok(c.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))? as usize)
        })
    }

    /// The hub took it: the outbox row becomes the hub's message, in one transaction.
    pub fn outbox_taken(&self, key: &str, message: &MessageView) -> LocalResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM outbox WHERE key = ?1", [key])?;
            // Stored as any message is (its text, direction and status in their columns, its
            // words for the search), unless a sync brought it first: that copy is newer.
            let held: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ?1)",
                [&message.id],
                |r| r.get(0),
            )?;
            if !held {
                let mut terms = switchboard_db::SearchTerms::default();
                super::messages::put_message(&tx, message, &mut terms)?;
                terms.keep(&tx)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// The hub refused it for good: kept, with the reason (its message, stable code and, for
    /// `client_taken`, whose client it is), until retried or discarded.
    pub fn outbox_refused(
        &self,
        key: &str,
        code: &str,
        message: &str,
        owner: Option<&str>,
    ) -> LocalResult<()> {
        self.with(|c| {
            c.execute(
                "UPDATE outbox SET error = ?2, error_code = ?3, error_owner = ?4 WHERE key = ?1",
                params![key, message, code, owner],
            )?;
            Ok(())
        })
    }

    /// Removes files of the outbox directory that no outbox row names (a crash between
    /// writing a file and queueing it, or between the hub taking it and its copy being moved).
    /// How many went.
    pub fn sweep_outbox_files(&self) -> LocalResult<usize> {
        let Ok(entries) = std::fs::read_dir(&self.outbox_dir) else {
            return Ok(0);
        };
        let keys: std::collections::HashSet<String> = self.with(|c| {
            let mut stmt = c.prepare("SELECT key FROM outbox WHERE file_name IS NOT NULL")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keys.contains(&name) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// A file's upload failed on the way: how many times so far (Retry starts again at 0).
    pub fn upload_failed(&self, key: &str) -> LocalResult<u32> {
        self.with(|c| {
            Ok(c.query_row(
                "UPDATE outbox SET attempts = attempts + 1 WHERE key = ?1 RETURNING attempts",
                [key],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
        })
    }

    /// Holds back every message still waiting to be sent, with a code and message (the sign-in
    /// ended: they must not go by themselves, perhaps as someone else). They stay, as refused
    /// ones do, until retried or discarded. Returns how many were held.
    pub fn outbox_hold(&self, code: &str, message: &str) -> LocalResult<usize> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE outbox SET error = ?2, error_code = ?1, error_owner = NULL WHERE error IS NULL",
                params![code, message],
            )?)
        })
    }

    /// Retry (`true`) puts a refused message back in line; discard (`false`) drops it.
    pub fn outbox_resolve(&self, key: &str, retry: bool) -> LocalResult<bool> {
        self.with(|c| {
            let n = if retry {
                c.execute(
                    "UPDATE outbox SET error = NULL, error_code = NULL, error_owner = NULL, attempts = 0 WHERE key = ?1",
                    [key],
                )?
            } else {
                // Only what was refused or held: one on its way to the hub cannot be taken back.
                c.execute(
                    "DELETE FROM outbox WHERE key = ?1 AND error IS NOT NULL",
                    [key],
                )?
            };
            if !retry && n > 0 {
                // A discarded file's bytes go with it.
                if let Some(path) = self.outbox_file_path(key) {
                    let _ = std::fs::remove_file(path);
                }
            }
            Ok(n > 0)
        })
    }

    /// First messages waiting here (their chat does not exist yet), oldest first.
    pub fn pending_first(&self) -> LocalResult<Vec<PendingFirstVm>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE chat IS NULL ORDER BY seq"
            ))?;
            let items = stmt
                .query_map([], outbox_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::new();
            for i in items {
                let channel: Option<String> = c
                    .query_row(
                        "SELECT view FROM channels WHERE id = ?1",
                        [&i.channel_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                let channel_name = channel
                    .map(|v| serde_json::from_str::<ChannelView>(&v))
                    .transpose()?
                    .map(|ch| ch.name)
                    .unwrap_or_default();
                out.push(PendingFirstVm {
                    display: i.display.or(i.phone).unwrap_or_default(),
                    key: i.key,
                    channel_name,
                    text: i.text,
                    error: i.error,
                    error_code: i.error_code,
                    error_owner: i.error_owner,
                });
            }
            Ok(out)
        })
    }
}

//! The desktop's local store: what this employee sees, synced from the hub, so the app
//! renders (and works offline) from its own SQLite file. A sync answer is applied in one
//! transaction together with its cursor, so a crash never leaves data and cursor apart.

use crate::vm::{ChatFilter, ChatListVm, ChatRowVm, MessageVm, PendingFirstVm};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use switchboard_core::{BadgeColor, Counters, Direction, Settings};
use switchboard_wire::{Change, ChannelView, ChatView, EmployeeView, MessageView, SyncResponse};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/001_local.sql")),
    (2, include_str!("../migrations/002_outbox.sql")),
    (3, include_str!("../migrations/003_refusal.sql")),
];

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
}

impl OutboxItem {
    /// The body of `POST /api/v1/messages`.
    pub fn body(&self) -> serde_json::Value {
        match &self.chat {
            Some(chat) => serde_json::json!({
                "chat": chat, "text": self.text, "idempotency_key": self.key,
            }),
            None => serde_json::json!({
                "channel_id": self.channel_id, "phone": self.phone,
                "text": self.text, "idempotency_key": self.key,
            }),
        }
    }
}

fn outbox_row(r: &rusqlite::Row) -> rusqlite::Result<OutboxItem> {
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
    })
}

const OUTBOX_COLS: &str =
    "key, chat, channel_id, phone, display, text, created_at, error, error_code, error_owner";

/// Makes `dir` (created if missing) this user's alone: mode 0700. The desktop's data directory
/// holds the session's token, the synced chats and the demo hub.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        // An older install made it 0755.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("the local store holds unreadable data: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the local store is unavailable (a thread panicked while using it)")]
    Poisoned,
}

pub type LocalResult<T> = Result<T, LocalError>;

pub struct LocalStore {
    conn: Mutex<Connection>,
}

impl LocalStore {
    /// Opens the store; a corrupt or newer file is an error that names it, never wiped. The file
    /// (it holds the session's token) and its WAL are readable by this user only (0600: the
    /// shared `db::open` creates it so before SQLite does, and narrows an older install's).
    pub fn open(path: &Path) -> Result<LocalStore, switchboard_db::OpenError> {
        Ok(LocalStore {
            conn: Mutex::new(switchboard_db::open(path, MIGRATIONS)?),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> LocalResult<T>) -> LocalResult<T> {
        let mut conn = self.conn.lock().map_err(|_| LocalError::Poisoned)?;
        f(&mut conn)
    }

    pub fn meta(&self, key: &str) -> LocalResult<Option<String>> {
        self.with(|c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    pub fn set_meta(&self, pairs: &[(&str, &str)]) -> LocalResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            for (k, v) in pairs {
                tx.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                    params![k, v],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Puts a message on the outbox (it survives restarts until the hub takes it).
    pub fn enqueue(&self, item: &OutboxItem) -> LocalResult<()> {
        self.with(|c| {
            c.execute(
                &format!("INSERT OR IGNORE INTO outbox ({OUTBOX_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![item.key, item.chat, item.channel_id, item.phone, item.display, item.text, item.created_at, item.error, item.error_code, item.error_owner],
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
            tx.execute(
                "INSERT OR IGNORE INTO messages (id, chat, at, view) VALUES (?1, ?2, ?3, ?4)",
                params![
                    message.id,
                    message.chat,
                    message.at,
                    serde_json::to_string(message)?
                ],
            )?;
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
                    "UPDATE outbox SET error = NULL, error_code = NULL, error_owner = NULL WHERE key = ?1",
                    [key],
                )?
            } else {
                c.execute("DELETE FROM outbox WHERE key = ?1", [key])?
            };
            Ok(n > 0)
        })
    }

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

    /// Forgets the session and everything synced with it.
    pub fn clear(&self) -> LocalResult<()> {
        self.with(|c| {
            c.execute_batch(
                "DELETE FROM meta; DELETE FROM chats; DELETE FROM messages; DELETE FROM channels;",
            )?;
            Ok(())
        })
    }

    pub fn cursor(&self) -> LocalResult<i64> {
        Ok(self
            .meta("cursor")?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    pub fn me(&self) -> LocalResult<Option<EmployeeView>> {
        Ok(self
            .meta("me")?
            .map(|m| serde_json::from_str(&m))
            .transpose()?)
    }

    pub fn settings(&self) -> LocalResult<Option<Settings>> {
        Ok(self
            .meta("settings")?
            .map(|m| serde_json::from_str(&m))
            .transpose()?)
    }

    /// Applies one sync answer and its cursor in one transaction.
    pub fn apply(&self, sync: &SyncResponse) -> LocalResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            for change in &sync.changes {
                match change {
                    Change::Me { employee } => {
                        put_meta(&tx, "me", &serde_json::to_string(employee)?)?
                    }
                    Change::Settings { settings } => {
                        put_meta(&tx, "settings", &serde_json::to_string(settings)?)?
                    }
                    Change::Channels { channels } => {
                        tx.execute("DELETE FROM channels", [])?;
                        for ch in channels {
                            tx.execute(
                                "INSERT INTO channels (id, view) VALUES (?1, ?2)",
                                params![ch.id, serde_json::to_string(ch)?],
                            )?;
                        }
                    }
                    Change::VisibleChats { ids } => {
                        tx.execute(
                            "CREATE TEMP TABLE IF NOT EXISTS keep (id TEXT PRIMARY KEY)",
                            [],
                        )?;
                        tx.execute("DELETE FROM keep", [])?;
                        for id in ids {
                            tx.execute("INSERT OR IGNORE INTO keep (id) VALUES (?1)", [id])?;
                        }
                        tx.execute(
                            "DELETE FROM messages WHERE chat NOT IN (SELECT id FROM keep)",
                            [],
                        )?;
                        tx.execute(
                            "DELETE FROM chats WHERE id NOT IN (SELECT id FROM keep)",
                            [],
                        )?;
                    }
                    Change::Chat { chat } => put_chat(&tx, chat)?,
                    Change::ChatRemoved { id } => {
                        tx.execute("DELETE FROM messages WHERE chat = ?1", [id])?;
                        tx.execute("DELETE FROM chats WHERE id = ?1", [id])?;
                    }
                    Change::Message { message } => {
                        put_message(&tx, message)?;
                    }
                }
            }
            put_meta(&tx, "cursor", &sync.cursor.to_string())?;
            tx.commit()?;
            Ok(())
        })
    }

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
                        "failed"
                    } else {
                        "pending"
                    }
                    .into(),
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

fn put_meta(c: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![key, value],
    )?;
    Ok(())
}

fn put_chat(c: &Connection, chat: &ChatView) -> LocalResult<()> {
    c.execute(
        "INSERT OR REPLACE INTO chats (id, last_activity_at, view) VALUES (?1, ?2, ?3)",
        params![chat.id, chat.last_activity_at, serde_json::to_string(chat)?],
    )?;
    Ok(())
}

/// Stores a message; `true` when it was new or different from the stored one.
fn put_message(c: &Connection, m: &MessageView) -> LocalResult<bool> {
    let n = c.execute(
        "INSERT INTO messages (id, chat, at, view) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (id) DO UPDATE SET chat = excluded.chat, at = excluded.at, view = excluded.view \
         WHERE messages.view IS NOT excluded.view",
        params![m.id, m.chat, m.at, serde_json::to_string(m)?],
    )?;
    Ok(n > 0)
}

//! The desktop's local store: what this employee sees, synced from the hub, so the app
//! renders (and works offline) from its own SQLite file. A sync answer is applied in one
//! transaction together with its cursor, so a crash never leaves data and cursor apart.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::Mutex;
use switchboard_core::Settings;
use switchboard_wire::{Change, EmployeeView, SyncResponse};

mod chats;
mod messages;
mod outbox;

pub use chats::MAX_PAGE;
pub use outbox::{OutboxItem, ACCESS_ENDED};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/001_local.sql")),
    (2, include_str!("../../migrations/002_outbox.sql")),
    (3, include_str!("../../migrations/003_refusal.sql")),
    (4, include_str!("../../migrations/004_chat_columns.sql")),
];

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
                    Change::Chat { chat } => chats::put_chat(&tx, chat)?,
                    Change::ChatRemoved { id } => {
                        tx.execute("DELETE FROM messages WHERE chat = ?1", [id])?;
                        tx.execute("DELETE FROM chats WHERE id = ?1", [id])?;
                    }
                    Change::Message { message } => {
                        messages::put_message(&tx, message)?;
                    }
                }
            }
            put_meta(&tx, "cursor", &sync.cursor.to_string())?;
            tx.commit()?;
            Ok(())
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

//! The desktop's local store: what this employee sees, synced from the hub, so the app
//! renders (and works offline) from its own SQLite file. A sync answer is applied in one
//! transaction together with its cursor, so a crash never leaves data and cursor apart.

use crate::vm::{StoreChange, SyncProgressVm};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use switchboard_core::Settings;
use switchboard_wire::{Change, EmployeeView, QuickRepliesView, SyncResponse};

mod chats;
mod jump;
mod messages;
mod outbox;
mod search;

pub use chats::{MAX_PAGE, ROW_COLUMNS};
pub use messages::MESSAGES_SQL;
pub use outbox::{OutboxFile, OutboxItem, ACCESS_ENDED};
pub use search::{Within, EXAMINED};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/001_local.sql")),
    (2, include_str!("../../migrations/002_outbox.sql")),
    (3, include_str!("../../migrations/003_refusal.sql")),
    (4, include_str!("../../migrations/004_chat_columns.sql")),
    (5, include_str!("../../migrations/005_facts_and_order.sql")),
    (6, include_str!("../../migrations/006_media.sql")),
    (7, include_str!("../../migrations/007_outbox_files.sql")),
    (8, include_str!("../../migrations/008_drafts.sql")),
    (9, include_str!("../../migrations/009_outbox_attempts.sql")),
    (10, include_str!("../../migrations/010_search.sql")),
    (11, include_str!("../../migrations/011_search_by_words.sql")),
    (12, include_str!("../../migrations/012_chats_by_number.sql")),
    (13, include_str!("../../migrations/013_voice_lengths.sql")),
    (14, include_str!("../../migrations/014_jump.sql")),
    (15, include_str!("../../migrations/015_jump_index.sql")),
    (16, include_str!("../../migrations/016_chat_crm.sql")),
    (
        17,
        include_str!("../../migrations/017_chat_crm_in_rust.sql"),
    ),
    (18, include_str!("../../migrations/018_search_terms.sql")),
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
    /// A read-only connection for what the window reads (the list, a chat, its messages): it
    /// never waits for a sync being applied, and keeps its own warm page cache.
    readers: switchboard_db::Readers,
    /// What the chat list reads again and again, kept until the next write (see
    /// [`chats::ListCache`]). Locked only while `conn` is.
    list_cache: Mutex<chats::ListCache>,
    /// Where files written here wait until the hub has them (`<data dir>/outbox`).
    outbox_dir: std::path::PathBuf,
}

impl LocalStore {
    /// Opens the store; a corrupt or newer file is an error that names it, never wiped. The file
    /// (it holds the session's token) and its WAL are readable by this user only (0600: the
    /// shared `db::open` creates it so before SQLite does, and narrows an older install's).
    pub fn open(path: &Path) -> Result<LocalStore, switchboard_db::OpenError> {
        let conn = switchboard_db::open(path, MIGRATIONS)?;
        // What is deleted is overwritten, not left in free pages: clients' messages after a
        // sign-out (Debian's SQLite does so by default, SQLite's own default does not).
        conn.pragma_update(None, "secure_delete", "ON")
            .and_then(|()| switchboard_db::SearchTerms::prepare(&conn))
            .map_err(|source| switchboard_db::OpenError::Sqlite {
                path: path.display().to_string(),
                source,
            })?;
        Ok(LocalStore {
            // One reader: the list cache is keyed on its `data_version`, which each connection
            // counts on its own.
            readers: switchboard_db::Readers::beside(&conn, 1),
            conn: Mutex::new(conn),
            list_cache: Mutex::default(),
            outbox_dir: path
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join("outbox"),
        })
    }

    /// Where the bytes of outbox item `key`'s file wait (keys are this desktop's UUIDs).
    pub fn outbox_file_path(&self, key: &str) -> Option<std::path::PathBuf> {
        (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .then(|| self.outbox_dir.join(key))
    }

    /// This desktop's cache of messages' files (`<data dir>/media`, see `crate::media`).
    pub fn media_cache_dir(&self) -> std::path::PathBuf {
        self.outbox_dir.with_file_name("media")
    }

    /// The directory of waiting files, created owner-only.
    pub fn outbox_dir(&self) -> std::io::Result<&Path> {
        private_dir(&self.outbox_dir)?;
        Ok(&self.outbox_dir)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> LocalResult<T>) -> LocalResult<T> {
        let mut conn = self.conn.lock().map_err(|_| LocalError::Poisoned)?;
        f(&mut conn)
    }

    /// Runs `f` on the read-only connection, in one snapshot (`true`); on the writer when no
    /// reader can be had (`false`).
    fn read<T>(&self, f: impl Fn(&Connection, bool) -> LocalResult<T>) -> LocalResult<T> {
        match self.readers.with(|c| f(c, true)) {
            Some(answer) => answer,
            None => self.with(|c| f(c, false)),
        }
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

    /// Forgets the session and everything synced with it, at once, and leaves none of it in the
    /// file: deleted pages are overwritten (`secure_delete`), the search index's old segments
    /// dropped (`delete-all`; deleting rows only marks them) and the write-ahead log emptied.
    pub fn clear(&self) -> LocalResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute_batch(
                "DELETE FROM meta; DELETE FROM chats; DELETE FROM messages; DELETE FROM channels; \
                 DELETE FROM drafts; DELETE FROM search_terms; \
                 INSERT INTO messages_fts (messages_fts) VALUES ('delete-all');",
            )?;
            tx.commit()?;
            // The session is gone whatever this says: while a reader holds the log (this waits
            // 5 s for it), its pages stay there until later writes reuse them.
            match c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            }) {
                Ok(0) => {}
                Ok(_) => tracing::warn!("the store's log is still read: emptied later"),
                Err(e) => tracing::warn!(error = %e, "the store's log not emptied"),
            }
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

    /// The quick replies last synced (none before the first sync).
    pub fn quick_replies(&self) -> LocalResult<QuickRepliesView> {
        Ok(self.held_quick_replies()?.unwrap_or_default())
    }

    /// The quick replies, if this desktop ever had them (a desktop synced by a version before
    /// them has none until it asks once).
    pub fn held_quick_replies(&self) -> LocalResult<Option<QuickRepliesView>> {
        Ok(self
            .meta(QUICK_REPLIES)?
            .map(|m| serde_json::from_str(&m))
            .transpose()?)
    }

    /// Keeps the quick replies as the hub listed them (asked for once; sync keeps them after).
    pub fn set_quick_replies(&self, replies: &QuickRepliesView) -> LocalResult<()> {
        self.set_meta(&[(QUICK_REPLIES, &serde_json::to_string(replies)?)])
    }

    /// The next page of a snapshot being synced, if one waits.
    pub fn snapshot_page(&self) -> LocalResult<Option<String>> {
        self.meta(SNAPSHOT_PAGE)
    }

    /// How far the snapshot being synced has come, while one is.
    pub fn sync_progress(&self) -> LocalResult<Option<SyncProgressVm>> {
        Ok(self
            .meta(SYNC_PROGRESS)?
            .map(|m| serde_json::from_str(&m))
            .transpose()?)
    }

    /// Syncs again from the start (the hub no longer takes the snapshot's page): what is
    /// here stays until the new snapshot's last page says what to drop.
    pub fn restart_snapshot(&self) -> LocalResult<()> {
        self.with(|c| {
            c.execute(
                "DELETE FROM meta WHERE key IN (?1, ?2)",
                [SNAPSHOT_PAGE, SYNC_PROGRESS],
            )?;
            put_meta(c, "cursor", "0")?;
            Ok(())
        })
    }

    /// Forgets the snapshot being synced (its page and progress), keeping the cursor.
    pub fn end_snapshot(&self) -> LocalResult<()> {
        self.with(|c| {
            c.execute(
                "DELETE FROM meta WHERE key IN (?1, ?2)",
                [SNAPSHOT_PAGE, SYNC_PROGRESS],
            )?;
            Ok(())
        })
    }

    /// Applies one sync answer and its cursor in one transaction; tells what it changed.
    pub fn apply(&self, sync: &SyncResponse) -> LocalResult<StoreChange> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut out = Applied::default();
            let mut colours = chats::Colouring::load(&tx)?;
            let mut recolour = false;
            let mut terms = switchboard_db::SearchTerms::default();
            for change in &sync.changes {
                match change {
                    Change::Me { employee } => {
                        let json = serde_json::to_string(employee)?;
                        if get_meta(&tx, "me")?.as_deref() != Some(json.as_str()) {
                            put_meta(&tx, "me", &json)?;
                            colours.me = Some(chats::employee_of(employee));
                            recolour = true;
                            out.session = true;
                        }
                    }
                    Change::Settings { settings } => {
                        let json = serde_json::to_string(settings)?;
                        if get_meta(&tx, "settings")?.as_deref() != Some(json.as_str()) {
                            put_meta(&tx, "settings", &json)?;
                            colours.settings = Some(*settings);
                            recolour = true;
                            out.session = true;
                        }
                    }
                    Change::Channels { channels } => {
                        tx.execute("DELETE FROM channels", [])?;
                        for ch in channels {
                            tx.execute(
                                "INSERT INTO channels (id, view) VALUES (?1, ?2)",
                                params![ch.id, serde_json::to_string(ch)?],
                            )?;
                        }
                        out.session = true;
                        out.list = true;
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
                        let dropped = tx.execute(
                            "DELETE FROM chats WHERE id NOT IN (SELECT id FROM keep)",
                            [],
                        )?;
                        if dropped > 0 {
                            out.list = true;
                            out.every_chat = true;
                        }
                    }
                    Change::Chat { chat } => {
                        chats::put_chat(&tx, chat, &colours)?;
                        out.list = true;
                        out.chats.insert(chat.id.clone());
                    }
                    Change::ChatRemoved { id } => {
                        tx.execute("DELETE FROM messages WHERE chat = ?1", [id])?;
                        tx.execute("DELETE FROM chats WHERE id = ?1", [id])?;
                        out.list = true;
                        out.chats.insert(id.clone());
                        out.messages.insert(id.clone());
                    }
                    Change::Message { message } => {
                        if messages::put_message(&tx, message, &mut terms)? {
                            out.messages.insert(message.chat.clone());
                        }
                    }
                    // A kind this desktop does not know (a newer hub's): nothing to keep.
                    Change::Unknown => {}
                    Change::QuickReplies { quick_replies } => {
                        let json = serde_json::to_string(quick_replies)?;
                        if get_meta(&tx, QUICK_REPLIES)?.as_deref() != Some(json.as_str()) {
                            put_meta(&tx, QUICK_REPLIES, &json)?;
                            out.session = true;
                        }
                    }
                }
            }
            terms.keep(&tx)?;
            if recolour && chats::recolour(&tx, &colours)? > 0 {
                out.list = true;
                out.every_chat = true;
            }
            // A snapshot's answer says whether more pages wait and how far it has come.
            if let Some(progress) = sync.progress {
                match &sync.page {
                    Some(page) => {
                        put_meta(&tx, SNAPSHOT_PAGE, page)?;
                        let vm = SyncProgressVm {
                            chats: progress.chats.min(u64::from(u32::MAX)) as u32,
                            total: progress.total.min(u64::from(u32::MAX)) as u32,
                        };
                        put_meta(&tx, SYNC_PROGRESS, &serde_json::to_string(&vm)?)?;
                    }
                    None => {
                        tx.execute(
                            "DELETE FROM meta WHERE key IN (?1, ?2)",
                            [SNAPSHOT_PAGE, SYNC_PROGRESS],
                        )?;
                    }
                }
                out.session = true;
            }
            put_meta(&tx, "cursor", &sync.cursor.to_string())?;
            tx.commit()?;
            Ok(out.into())
        })
    }
}

/// The quick replies the employee may use (JSON of `QuickRepliesView`).
const QUICK_REPLIES: &str = "quick_replies";
/// The next page of the snapshot being synced (the hub's token).
const SNAPSHOT_PAGE: &str = "snapshot_page";
/// How far that snapshot has come (JSON of [`SyncProgressVm`]).
const SYNC_PROGRESS: &str = "sync_progress";

/// What one answer changed, gathered while applying it.
#[derive(Default)]
struct Applied {
    list: bool,
    every_chat: bool,
    session: bool,
    chats: BTreeSet<String>,
    messages: BTreeSet<String>,
}

impl From<Applied> for StoreChange {
    fn from(a: Applied) -> StoreChange {
        StoreChange {
            all: false,
            list: a.list,
            every_chat: a.every_chat,
            chats: a.chats.into_iter().collect(),
            messages: a.messages.into_iter().collect(),
            session: a.session,
        }
    }
}

fn get_meta(c: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

fn put_meta(c: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![key, value],
    )?;
    Ok(())
}

//! Every query of the hub. Functions take a connection (or a transaction) and return
//! domain or wire values; the decisions themselves are switchboard-core's.

use rusqlite::{params, Connection};

pub mod bitrix_index;
mod channels;
mod chats;
mod crm;
mod employees;
pub mod links;
pub mod media_queue;
mod messages;
pub mod mirror_queue;
pub mod outbox_queue;
mod replies;
pub mod search;
mod settings;
mod sync;
mod transfers;

/// Statements run again and again are prepared once per connection (parsing SQL was an eighth
/// of a webhook's ingest): `exec` and `one` are `execute` and `query_row` through the
/// connection's statement cache.
pub(crate) trait Cached {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn one<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn one<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

pub use channels::*;
pub use chats::*;
pub use crm::*;
pub use employees::*;
pub use messages::*;
pub use mirror_queue::TimelineJob;
pub use replies::*;
pub use settings::*;
pub use sync::*;
pub use transfers::*;

pub type Db = rusqlite::Result<()>;

/// What an operation above storage runs over: one transaction of the hub's writer, or a
/// reader's read transaction. Code above the runtime names this, not the backend's types, so
/// a second backend (PostgreSQL) changes what stands behind it, not its callers.
pub type Tx = rusqlite::Connection;

/// Why the storage layer could not answer (the HTTP edge turns it into a 500 and logs it).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    pub fn poisoned() -> StoreError {
        StoreError::Unavailable("a thread panicked while holding the database".into())
    }
}

/// A database task that could not finish (it panicked or was cancelled).
impl From<tokio::task::JoinError> for StoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A time as the hub writes them: RFC 3339 UTC with milliseconds (sorts as text).
pub fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Milliseconds since the epoch of a time the hub wrote (0 if unreadable).
pub fn time_ms(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).map_or(0, |t| t.timestamp_millis())
}

/// Logs that `chat`'s responsible moved away from `previous` (see [`ChangeKind::Lost`]).
pub fn record_lost(conn: &Connection, chat: &str, previous: Option<&str>) -> rusqlite::Result<i64> {
    record_change(
        conn,
        ChangeKind::Lost,
        &format!("{chat}\t{}", previous.unwrap_or_default()),
    )
}

pub fn new_id() -> String {
    // Time-ordered (UUIDv7): a new row's key lands at the end of its index, so storing a
    // delivery of 100 messages dirties a page or two of each id index instead of 100.
    uuid::Uuid::now_v7().to_string()
}

/// A fresh bearer token: 256 random bits, hex.
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// What a change-log row names: a chat or a message (its id), or a whole list that changed
/// (channels, employees, settings: every viewer's next sync is a snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    Chat,
    /// A chat's responsible changed from the one its ref names (`chat\tprevious`, empty for
    /// nobody): whoever saw the chat through them may see it no more. Only they are told it
    /// went; nobody else hears of a chat they cannot see.
    Lost,
    Message,
    Channels,
    Employees,
    Settings,
    /// Quick replies: the workspace's (empty ref) or one employee's own (their id).
    QuickReplies,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 7] = [
        ChangeKind::Chat,
        ChangeKind::Lost,
        ChangeKind::Message,
        ChangeKind::Channels,
        ChangeKind::Employees,
        ChangeKind::Settings,
        ChangeKind::QuickReplies,
    ];

    /// As stored in `changes.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Chat => "chat",
            ChangeKind::Lost => "lost",
            ChangeKind::Message => "message",
            ChangeKind::Channels => "channels",
            ChangeKind::Employees => "employees",
            ChangeKind::Settings => "settings",
            ChangeKind::QuickReplies => "quick_replies",
        }
    }

    /// A stored kind; `None` for one this hub does not know (a newer hub wrote it).
    pub fn parse(s: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Appends to the change log; returns the new cursor.
pub fn record_change(
    conn: &Connection,
    kind: ChangeKind,
    reference: &str,
) -> rusqlite::Result<i64> {
    conn.exec(
        "INSERT INTO changes (kind, ref) VALUES (?1, ?2)",
        params![kind.as_str(), reference],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn last_seq(conn: &Connection) -> rusqlite::Result<i64> {
    conn.one("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })
}

#[cfg(test)]
mod tests {
    use super::ChangeKind;

    #[test]
    fn change_kinds_read_back_as_written_and_unknown_ones_are_none() {
        for k in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ChangeKind::parse("attachment"), None);
    }
}

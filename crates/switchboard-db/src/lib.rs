//! SQLite as the hub and the desktop use it: opening (WAL, owner-only files), numbered
//! migrations (each in its own transaction; a newer file is refused, never wiped), the
//! data-dir lock, and read-only connections beside the writer.

use rusqlite::Connection;
use std::fs::File;
use std::path::Path;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("another hub is already serving {dir}: stop it first (the lock file {dir}/hub.lock is held)")]
    Locked { dir: String },
    #[error("the database {path} has schema version {found}, newer than this build knows ({known}); use a newer Switchboard — the file was left as it is")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("cannot open the database {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the data directory {dir} belongs to user {owner}, not to root: a hub run as root would leave files there its own user cannot open; run it as that user (e.g. `sudo -u {sudo_user} switchboard-hub serve --data '{dir}'`, or `sudo systemctl start switchboard-hub`), or set SWITCHBOARD_ALLOW_FOREIGN_DIR=1 where root is meant to own what it writes (a container)")]
    ForeignOwner {
        dir: String,
        owner: u32,
        /// The owner as `sudo -u` takes it: a name, or `'#uid'`.
        sudo_user: String,
    },
    #[error("the system's SQLite is {found}: Switchboard needs SQLite 3.40 or newer, built with FTS5 (as Debian 12's libsqlite3-0 is)")]
    OldSqlite { found: String },
    #[error("cannot use the data directory {dir}: {source}")]
    Io {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

/// Read-only connections beside a database's writer: each read takes a free one (or waits
/// for the next), opened when first needed. Empty for an in-memory database (reads then share
/// the writer).
#[derive(Default)]
pub struct Readers {
    path: String,
    conns: Vec<std::sync::Mutex<Option<Connection>>>,
    next: std::sync::atomic::AtomicUsize,
}

impl Readers {
    /// Up to `n` read-only connections to the file `writer` has open (and migrated).
    pub fn beside(writer: &Connection, n: usize) -> Readers {
        match writer.path().filter(|p| !p.is_empty()) {
            None => Readers::default(),
            Some(path) => Readers {
                path: path.to_owned(),
                conns: (0..n).map(|_| std::sync::Mutex::new(None)).collect(),
                next: Default::default(),
            },
        }
    }

    /// Runs `f` on a free reader (else the next in turn, once free), in one read transaction so
    /// that every statement of `f` sees the same snapshot; `None` when there are none (or one
    /// cannot be opened: the caller falls back to the writer).
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> T) -> Option<T> {
        let n = self.conns.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A slot whose last user panicked is still a connection (the read was rolled back).
        let mut slot = (0..n)
            .find_map(|i| match self.conns[(start + i) % n].try_lock() {
                Ok(slot) => Some(slot),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            })
            .unwrap_or_else(|| {
                self.conns[start % n]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
            });
        if slot.is_none() {
            match self.open() {
                Ok(c) => *slot = Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot open a read-only connection");
                    return None;
                }
            }
        }
        let conn = slot.as_mut()?;
        let answer = match conn.transaction() {
            // Dropped, not committed: a read has nothing to keep.
            Ok(tx) => Some(f(&tx)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot begin a read");
                None
            }
        };
        answer
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        // Readers run the same few queries again and again.
        c.set_prepared_statement_cache_capacity(128);
        Ok(c)
    }
}

/// Checkpoints a WAL database from a thread of its own, so that a writer never stops to copy
/// the log into the database (and wait for the disk) in the middle of a request. The writer
/// rings [`Checkpointer::wrote`] after each commit; the thread checkpoints (passively: it never
/// waits for readers or the writer) at most once per [`CHECKPOINT_PACE`], and once more when
/// it is dropped (which waits for that). The writer keeps SQLite's own checkpoint as a backstop
/// at [`BACKSTOP_PAGES`], should this thread fall behind.
pub struct Checkpointer {
    wake: Option<std::sync::Mutex<std::sync::mpsc::Sender<()>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often the checkpoint thread runs at most while writes go on.
pub const CHECKPOINT_PACE: std::time::Duration = std::time::Duration::from_millis(200);

/// The log's size (pages) at which the writer checkpoints by itself after all.
pub const BACKSTOP_PAGES: i64 = 10_000;

impl Checkpointer {
    /// Takes over checkpoints of the file `writer` has open; `None` for an in-memory database
    /// (the writer keeps its own).
    pub fn beside(writer: &Connection) -> rusqlite::Result<Option<Checkpointer>> {
        let Some(path) = writer.path().filter(|p| !p.is_empty()).map(str::to_owned) else {
            return Ok(None);
        };
        let conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        writer.pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?;
        // The log file is cut back to this after a checkpoint that emptied it.
        writer.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        let (wake, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoints(&conn, &rx))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Some(Checkpointer {
            wake: Some(std::sync::Mutex::new(wake)),
            thread: Some(thread),
        }))
    }

    /// Something was committed: checkpoint soon.
    pub fn wrote(&self) {
        if let Some(Ok(wake)) = self.wake.as_ref().map(|w| w.lock()) {
            let _ = wake.send(());
        }
    }
}

impl Drop for Checkpointer {
    /// The last checkpoint, waited for.
    fn drop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn checkpoints(conn: &Connection, rx: &std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::TryRecvError;
    let checkpoint = || {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpoint failed; the writer's own will do");
        }
    };
    while rx.recv().is_ok() {
        // Whatever is committed meanwhile is covered by this one checkpoint.
        std::thread::sleep(CHECKPOINT_PACE);
        let gone = loop {
            match rx.try_recv() {
                Ok(()) => {}
                Err(TryRecvError::Empty) => break false,
                Err(TryRecvError::Disconnected) => break true,
            }
        };
        checkpoint();
        if gone {
            return;
        }
    }
    checkpoint();
}

/// Holds the data directory for one hub for as long as it lives.
#[derive(Debug)]
pub struct DirLock(#[allow(dead_code, reason = "held for its lock, released on drop")] File);

/// Takes the data directory's lock; a second hub on the same directory gets [`OpenError::Locked`].
pub fn lock_dir(dir: &Path) -> Result<DirLock, OpenError> {
    let io = |source| OpenError::Io {
        dir: dir.display().to_string(),
        source,
    };
    // Judged before anything is made (the directory itself when it exists): a new directory
    // inside another user's is theirs too; one made here is this process's own.
    refuse_foreign_owner(
        dir,
        effective_uid(),
        owner_of(&nearest_existing(dir)).map_err(io)?,
    )?;
    std::fs::create_dir_all(dir).map_err(io)?;
    // Messages, tokens and secrets live here: only the hub's user may enter.
    private(dir, 0o700).map_err(io)?;
    match lock_file(&dir.join("hub.lock")).map_err(io)? {
        Some(file) => Ok(DirLock(file)),
        None => Err(OpenError::Locked {
            dir: dir.display().to_string(),
        }),
    }
}

/// Takes the exclusive lock of the file at `path` (made, owner-only, if missing) for as long as
/// the returned file is held — the process's end releases it too; `None` when another holds it.
pub fn lock_file(path: &Path) -> std::io::Result<Option<File>> {
    let mut options = File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Root never writes into a directory another user owns (the packaged hub's
/// `/var/lib/switchboard-hub`): the files it made would be root's, and the service, run as its
/// own user, could not open them again. Anyone else may only write where they are let.
fn refuse_foreign_owner(dir: &Path, me: Option<u32>, owner: Option<u32>) -> Result<(), OpenError> {
    if std::env::var_os("SWITCHBOARD_ALLOW_FOREIGN_DIR").is_some_and(|v| v == "1") {
        return Ok(());
    }
    match (me, owner) {
        (Some(0), Some(owner)) if owner != 0 => Err(OpenError::ForeignOwner {
            dir: dir.display().to_string(),
            owner,
            sudo_user: user_name(owner).unwrap_or_else(|| format!("'#{owner}'")),
        }),
        _ => Ok(()),
    }
}

/// `dir` if it exists, else its nearest existing parent (a relative name's is the working
/// directory).
fn nearest_existing(dir: &Path) -> std::path::PathBuf {
    let full = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    full.ancestors()
        .find(|a| a.exists())
        .map_or_else(|| std::path::PathBuf::from("."), Path::to_owned)
}

/// This process's effective user: the owner of `/proc/self` (Linux; `None` elsewhere).
fn effective_uid() -> Option<u32> {
    owner_of(Path::new("/proc/self")).ok().flatten()
}

#[cfg(unix)]
fn owner_of(path: &Path) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| Some(m.uid()))
}

#[cfg(not(unix))]
fn owner_of(_path: &Path) -> std::io::Result<Option<u32>> {
    Ok(None)
}

/// The login name of `uid` from `/etc/passwd`, when it is there.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_owned())
    })
}

/// A full-text search kept to some chats looks through at most the newest `examined` matches
/// of `fts` in the `messages_fts` index (the hub's and the desktop's alike), below rowid
/// `below` when given: the rowid of the oldest of them, to bound the search by, and whether
/// there are more (the answer is then partial). `(None, false)` when there are fewer.
pub fn newest_matches_floor(
    conn: &Connection,
    fts: &str,
    examined: u32,
    below: Option<i64>,
) -> rusqlite::Result<(Option<i64>, bool)> {
    let mut stmt = conn.prepare_cached(
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 \
         AND rowid < coalesce(?3, 9223372036854775807) \
         ORDER BY rowid DESC LIMIT 2 OFFSET ?2",
    )?;
    let found: Vec<i64> = stmt
        .query_map(rusqlite::params![fts, examined.max(1) - 1, below], |r| {
            r.get(0)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((found.first().copied(), found.len() > 1))
}

/// The tokenizer of the `messages_fts` indexes, as the hub's and the desktop's migrations write
/// it (their tests hold them to it): words by Unicode's letters and digits, case- and
/// accent-blind (`core::search` says why).
pub const TOKENIZE: &str = "unicode61 remove_diacritics 2";

/// The words of a `messages_fts` index, each once, in table `search_terms` (a database's
/// migration makes it and fills it from the index): what a typed beginning is written out as
/// (`core::search::fts_query_with`), because FTS5 answers a beginning only after merging the
/// lists of every word it begins. Words are added as messages are stored and taken out only
/// with everything (a desktop's sign-out): one no message holds any more finds nothing, but
/// still counts towards a beginning's 512 (past them FTS5 is given the beginning). A text
/// changed in place (the hub's index re-reads it) would need its words noted again: nothing
/// changes a stored text today. Words must be spelled as the index spells them: a text of the
/// letters core knows is split by core (`core::search::index_words`); any other goes through a
/// scratch index of this connection's own (`temp`, emptied at each [`keep`](Self::keep)) with
/// the index's tokenizer.
#[derive(Default)]
pub struct SearchTerms {
    words: std::collections::HashSet<String>,
    scratch: bool,
}

impl SearchTerms {
    /// The scratch index, on the connection that stores messages (once per connection).
    pub fn prepare(conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(&format!(
            "PRAGMA temp_store = MEMORY;
             CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms_new USING fts5(
                text, content = '', detail = none, tokenize = '{}');
             CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms_new_words
                USING fts5vocab(temp, search_terms_new, row);",
            TOKENIZE
        ))
    }

    /// A stored message's text, whose words are kept at [`keep`](Self::keep) (in the same
    /// transaction).
    pub fn note(&mut self, conn: &Connection, text: &str) -> rusqlite::Result<()> {
        match switchboard_core::search::index_words(text) {
            Some(words) => self.words.extend(words),
            None => {
                conn.prepare_cached("INSERT INTO temp.search_terms_new (text) VALUES (?1)")?
                    .execute([text])?;
                self.scratch = true;
            }
        }
        Ok(())
    }

    /// Keeps the words of what was noted (and empties the scratch index).
    pub fn keep(self, conn: &Connection) -> rusqlite::Result<()> {
        let mut put =
            conn.prepare_cached("INSERT OR IGNORE INTO search_terms (term) VALUES (?1)")?;
        for word in &self.words {
            put.execute([word])?;
        }
        if self.scratch {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO search_terms (term) \
                 SELECT term FROM temp.search_terms_new_words",
            )?
            .execute([])?;
            conn.prepare_cached(
                "INSERT INTO temp.search_terms_new (search_terms_new) VALUES ('delete-all')",
            )?
            .execute([])?;
        }
        Ok(())
    }

    /// The FTS5 `MATCH` expression for a search's `words` (`core::search::search_words`), each
    /// beginning written out as the listed words it begins; `None` when no word can be searched.
    pub fn match_expression(
        conn: &Connection,
        words: &[String],
    ) -> rusqlite::Result<Option<String>> {
        let mut failed = None;
        let fts = switchboard_core::search::fts_query_with(words, |term| {
            Self::beginning(conn, term, switchboard_core::search::MAX_EXPANSION)
                .map_err(|e| failed = Some(e))
                .ok()
                .flatten()
        });
        match failed {
            Some(e) => Err(e),
            None => Ok(fts),
        }
    }

    /// The words that begin with `prefix` (as the index spells it), at most `max`; `None` when
    /// there are more.
    pub fn beginning(
        conn: &Connection,
        prefix: &str,
        max: usize,
    ) -> rusqlite::Result<Option<Vec<String>>> {
        // In the order of their bytes, as the table keeps them: from `prefix` to `prefix`
        // followed by the last code point (no word that begins with it sorts after that).
        let found: Vec<String> = conn
            .prepare_cached(
                "SELECT term FROM search_terms WHERE term >= ?1 AND term < ?1 || char(1114111) \
                 ORDER BY term LIMIT ?2",
            )?
            .query_map(rusqlite::params![prefix, max as i64 + 1], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok((found.len() <= max).then_some(found))
    }
}

/// Opens (or creates) a database in WAL mode and brings its schema up to date.
pub fn open(path: &Path, migrations: &[(i64, &str)]) -> Result<Connection, OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    private_file(path).map_err(|source| OpenError::Io {
        dir: path.display().to_string(),
        source,
    })?;
    let mut conn = Connection::open(path).map_err(sqlite)?;
    let fts5: bool = conn
        .query_row("SELECT sqlite_compileoption_used('ENABLE_FTS5')", [], |r| {
            r.get(0)
        })
        .map_err(sqlite)?;
    sqlite_fits(rusqlite::version_number(), fts5)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sqlite)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sqlite)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(sqlite)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sqlite)?;
    migrate(&mut conn, migrations).map_err(|e| match e {
        MigrateError::TooNew { found, known } => OpenError::TooNew {
            path: path.display().to_string(),
            found,
            known,
        },
        MigrateError::Sqlite(e) => sqlite(e),
    })?;
    Ok(conn)
}

/// The system's SQLite (`version` as `sqlite3_libversion_number`) is one the stores work on:
/// 3.40 or newer (Debian 12's), with FTS5 (the search).
pub fn sqlite_fits(version: i32, fts5: bool) -> Result<(), OpenError> {
    if version >= 3_040_000 && fts5 {
        return Ok(());
    }
    let found = format!(
        "{}.{}.{}{}",
        version / 1_000_000,
        version / 1_000 % 1_000,
        version % 1_000,
        if fts5 { "" } else { " without FTS5" }
    );
    Err(OpenError::OldSqlite { found })
}

/// Sets a file's or directory's mode (Unix; elsewhere the platform's defaults stand).
pub fn private(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// A database file readable by its owner only (0600), made so before SQLite first opens it;
/// SQLite gives its `-wal` and `-shm` files the database file's mode. Older files are
/// narrowed too.
fn private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = File::options();
    opts.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    drop(opts.open(path)?);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = std::path::PathBuf::from(p);
        if p.exists() {
            private(&p, 0o600)?;
        }
    }
    Ok(())
}

#[derive(Debug)]
enum MigrateError {
    TooNew { found: i64, known: i64 },
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

fn migrate(conn: &mut Connection, migrations: &[(i64, &str)]) -> Result<(), MigrateError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = migrations.last().map_or(0, |m| m.0);
    if version > known {
        return Err(MigrateError::TooNew {
            found: version,
            known,
        });
    }
    for (number, sql) in migrations.iter().filter(|m| m.0 > version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
        tracing::info!(migration = number, "database migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sqlite_too_old_or_without_fts5_is_named() {
        assert!(sqlite_fits(3_040_000, true).is_ok());
        assert!(sqlite_fits(3_050_004, true).is_ok());
        let old = sqlite_fits(3_039_004, true).expect_err("3.39 is too old");
        assert!(old.to_string().contains("SQLite is 3.39.4:"), "{old}");
        let bare = sqlite_fits(3_045_001, false).expect_err("FTS5 is needed");
        assert!(bare.to_string().contains("3.45.1 without FTS5"), "{bare}");
    }

    #[test]
    fn the_linked_sqlite_fits() {
        let dir = tempfile::tempdir().expect("tempdir");
        open(&dir.path().join("t.db"), &[]).expect("the system's SQLite is 3.40+ with FTS5");
    }

    /// A directory not made yet is judged by its nearest existing parent; a relative name's
    /// is the working directory.
    #[test]
    fn a_new_directory_is_judged_by_its_parent() {
        let parent = tempfile::tempdir().expect("tempdir");
        let deep = parent.path().join("a/b/c");
        assert_eq!(nearest_existing(&deep), parent.path());
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(nearest_existing(Path::new("not-made-yet-hubdata")), cwd);
        assert_eq!(nearest_existing(parent.path()), parent.path());
    }

    /// Root is refused a directory another user owns (by name where `/etc/passwd` has it);
    /// root's own, and anyone not root, go on.
    #[test]
    fn root_is_refused_a_directory_another_user_owns() {
        let dir = Path::new("/var/lib/switchboard-hub");
        let err = refuse_foreign_owner(dir, Some(0), Some(0xfffe)).expect_err("root on another's");
        assert!(
            matches!(err, OpenError::ForeignOwner { owner: 0xfffe, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("/var/lib/switchboard-hub belongs to user 65534"),
            "{err}"
        );
        assert!(refuse_foreign_owner(dir, Some(0), Some(0)).is_ok());
        assert!(refuse_foreign_owner(dir, Some(1000), Some(0xfffe)).is_ok());
        assert!(refuse_foreign_owner(dir, None, Some(0xfffe)).is_ok());
        assert_eq!(user_name(0).as_deref(), Some("root"));
    }

    /// The same through `lock_dir` on a real directory, when this test runs as root (as CI
    /// does): handed to `nobody`, it is refused and nothing is written into it.
    #[cfg(unix)]
    #[test]
    fn lock_dir_as_root_leaves_another_users_directory_alone() {
        if effective_uid() != Some(0) {
            eprintln!("not root: the decision is covered by the test above");
            return;
        }
        let parent = tempfile::tempdir().expect("tempdir");
        let dir = parent.path().join("data");
        std::fs::create_dir(&dir).expect("mkdir");
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown");
        let err = lock_dir(&dir).expect_err("root on nobody's directory");
        assert!(
            matches!(err, OpenError::ForeignOwner { owner: 65534, .. }),
            "{err}"
        );
        assert_eq!(
            std::fs::read_dir(&dir).expect("list").count(),
            0,
            "nothing written"
        );
        // Nor is a new directory made inside it.
        let inner = dir.join("x");
        let err = lock_dir(&inner).expect_err("root inside nobody's directory");
        assert!(matches!(err, OpenError::ForeignOwner { .. }), "{err}");
        assert!(!inner.exists(), "nothing made");
        std::os::unix::fs::chown(&dir, Some(0), Some(0)).expect("chown back");
        lock_dir(&dir).expect("root's own directory");
    }

    /// What is committed reaches the database file from the checkpoint thread, not from the
    /// writer: 6 MB (past SQLite's own 1 000-page checkpoint) stay in the log until the thread
    /// is rung, and are in the file soon after, the thread still running.
    #[test]
    fn the_checkpoint_thread_copies_the_log_into_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let writer = open(&path, &[(1, "CREATE TABLE t (v BLOB NOT NULL);")]).expect("open");
        let checkpoints = Checkpointer::beside(&writer)
            .expect("thread")
            .expect("a file");
        let size = || std::fs::metadata(&path).expect("stat").len();
        let before = size();
        writer
            .execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000) \
                 INSERT INTO t (v) SELECT zeroblob(1000) FROM n",
                [],
            )
            .expect("6 MB");
        assert_eq!(size(), before, "the writer did not checkpoint");
        checkpoints.wrote();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while size() < before + 6_000_000 {
            assert!(std::time::Instant::now() < deadline, "never checkpointed");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        drop(checkpoints);
    }
}

//! The hub's SQLite database: its numbered migrations, on the shared opening code.

pub use switchboard_db::*;

use rusqlite::Connection;
use std::path::Path;

/// The numbered migrations, applied in order inside one transaction each.
/// The hub database's numbered migrations, in order.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/001_init.sql")),
    (2, include_str!("../migrations/002_escalation.sql")),
    (3, include_str!("../migrations/003_outbox.sql")),
    (4, include_str!("../migrations/004_mirror.sql")),
    (5, include_str!("../migrations/005_crm_connection.sql")),
    (6, include_str!("../migrations/006_crm_events.sql")),
    (7, include_str!("../migrations/007_crm_numbers.sql")),
    (8, include_str!("../migrations/008_access.sql")),
    (9, include_str!("../migrations/009_waiting_chats.sql")),
    (10, include_str!("../migrations/010_chats_by_activity.sql")),
    (11, include_str!("../migrations/011_lost.sql")),
    (12, include_str!("../migrations/012_media.sql")),
    (13, include_str!("../migrations/013_public_files.sql")),
    (
        14,
        include_str!("../migrations/014_timeline_file_links.sql"),
    ),
    (15, include_str!("../migrations/015_media_details.sql")),
    (16, include_str!("../migrations/016_quick_replies.sql")),
    (17, include_str!("../migrations/017_transfer.sql")),
    (18, include_str!("../migrations/018_search.sql")),
    (19, include_str!("../migrations/019_search_deferred.sql")),
    (20, include_str!("../migrations/020_search_terms.sql")),
];

/// Opens the hub's own database.
pub fn open_hub(path: &Path) -> Result<Connection, OpenError> {
    let conn = open(path, MIGRATIONS)?;
    // Room for every statement the store runs (see `store::Cached`).
    conn.set_prepared_statement_cache_capacity(256);
    conn.pragma_update(None, "cache_size", -65536)
        // Deleted text is overwritten where that costs no extra write (Debian's SQLite would
        // overwrite every freed page: +36 % of the search index worker's writes, as its
        // merges free pages all the time; the hub deletes no messages).
        .and_then(|()| conn.pragma_update(None, "secure_delete", "FAST"))
        .and_then(|()| SearchTerms::prepare(&conn))
        .map_err(|source| OpenError::Sqlite {
            path: path.display().to_string(),
            source,
        })?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_one_dir_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let _first = lock_dir(dir.path()).expect("first lock");
        let err = lock_dir(dir.path()).expect_err("second lock must fail");
        assert!(
            err.to_string().contains("another hub is already serving"),
            "{err}"
        );
    }

    #[test]
    fn a_newer_database_is_refused_not_wiped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hub.db");
        {
            let conn = open_hub(&path).expect("open");
            conn.pragma_update(None, "user_version", 99).expect("bump");
            conn.execute("INSERT INTO changes (kind, ref) VALUES ('x', 'y')", [])
                .expect("row");
        }
        let err = open_hub(&path).expect_err("newer schema");
        assert!(
            err.to_string().contains("newer than this build knows"),
            "{err}"
        );
        let conn = Connection::open(&path).expect("raw open");
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 1, "nothing was wiped");
    }

    #[cfg(unix)]
    #[test]
    fn data_files_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().expect("tempdir");
        let dir = parent.path().join("data");
        let _lock = lock_dir(&dir).expect("lock");
        let path = dir.join("hub.db");
        // An older install's file, world-readable: narrowed on open.
        std::fs::write(&path, b"").expect("touch");
        private(&path, 0o644).expect("widen");
        let conn = open_hub(&path).expect("open");
        conn.execute("INSERT INTO changes (kind, ref) VALUES ('x', 'y')", [])
            .expect("write");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "data directory");
        for name in ["hub.db", "hub.db-wal", "hub.db-shm"] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
    }

    #[test]
    fn a_corrupt_file_gives_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hub.db");
        std::fs::write(
            &path,
            b"this is not a database, just some bytes that are long enough...",
        )
        .expect("write");
        let err = open_hub(&path).expect_err("corrupt");
        assert!(
            err.to_string().contains("cannot open the database"),
            "{err}"
        );
    }
}

//! Full-text search over every message the hub keeps, limited to what the viewer may see
//! (migration 018); what a search means is `core::search`, as on the desktop.

use super::Cached;
use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension};
use switchboard_core::{search, Employee, Role};

/// How many of the newest matches a search looks through at most when it is kept to some
/// chats (a seller's, a channel, a period): past it the answer says `partial`.
pub const EXAMINED: u32 = 20_000;

/// How many messages one round of the search index's worker takes at most (one short write)…
pub const INDEX_BATCH: i64 = 1_000;
/// …and about how many bytes of their text (long messages make a smaller batch).
pub const INDEX_BATCH_BYTES: i64 = 256 * 1024;

/// Whether messages wait for the search index (a read: an idle hub's worker writes nothing).
pub fn index_waiting(conn: &Connection) -> rusqlite::Result<bool> {
    conn.one(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE rowid > (SELECT upto FROM search_indexed WHERE id = 1))",
        [],
        |r| r.get(0),
    )
}

/// Puts at most `max` messages the search index does not hold yet into it, oldest first (the
/// background worker's round; migration 019); how many.
pub fn index_pending(conn: &Connection, max: i64) -> rusqlite::Result<usize> {
    let upto: i64 = conn.one("SELECT upto FROM search_indexed WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    // The first `max` rows, fewer when their text passes INDEX_BATCH_BYTES (the row that
    // passes it still goes: one very long message is a batch of its own).
    let last: Option<i64> = conn.one(
        "SELECT max(rowid) FROM (SELECT rowid, sum(length(text)) OVER (ORDER BY rowid) - length(text) AS before \
         FROM messages WHERE rowid > ?1 ORDER BY rowid LIMIT ?2) WHERE before < ?3",
        params![upto, max, INDEX_BATCH_BYTES],
        |r| r.get(0),
    )?;
    let Some(last) = last else {
        return Ok(0);
    };
    let n = conn.exec(
        "INSERT INTO messages_fts (rowid, text) SELECT rowid, text FROM messages \
         WHERE rowid > ?1 AND rowid <= ?2",
        params![upto, last],
    )?;
    // And their words to the list a typed beginning is written out from.
    let mut terms = switchboard_db::SearchTerms::default();
    {
        let mut texts =
            conn.prepare_cached("SELECT text FROM messages WHERE rowid > ?1 AND rowid <= ?2")?;
        let mut rows = texts.query(params![upto, last])?;
        while let Some(row) = rows.next()? {
            terms.note(conn, row.get_ref(0)?.as_str().unwrap_or_default())?;
        }
    }
    terms.keep(conn)?;
    conn.exec("UPDATE search_indexed SET upto = ?1 WHERE id = 1", [last])?;
    Ok(n)
}

/// What a search keeps to, besides what the viewer may see.
#[derive(Debug, Clone, Default)]
pub struct Within {
    pub channel: Option<String>,
    /// The chats the viewer is responsible for.
    pub mine: bool,
    /// Messages at or after this time (RFC 3339 UTC, as the hub writes times).
    pub since: Option<String>,
    /// Messages older than this one (its id): the page after an answer's oldest.
    pub before: Option<String>,
}

/// Messages of chats `viewer` may see matching every word of `query`, newest stored first,
/// at most `limit`; kept to `within`, looking through at most `examined` matches when the
/// viewer or the filter keeps to some chats.
pub fn search_messages(
    conn: &Connection,
    viewer: &Employee,
    query: &str,
    within: &Within,
    limit: u32,
    examined: u32,
) -> rusqlite::Result<SearchResults> {
    // Each beginning typed, written out as the words it begins (the index reads those from
    // the newest end; a beginning it would first merge in full).
    let fts = switchboard_db::SearchTerms::match_expression(conn, &search::search_words(query))?;
    let Some(fts) = fts else {
        return Ok(SearchResults::default());
    };
    // Role `none` sees no chat (the route refuses it first; this holds without the route).
    if viewer.role == Role::None {
        return Ok(SearchResults::default());
    }
    let everyone = viewer.role == Role::Supervisor;
    // Older than a message: below its place in the index (unknown: no bound).
    let below: Option<i64> = match &within.before {
        Some(id) => conn
            .one("SELECT rowid FROM messages WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?,
        None => None,
    };
    let kept = !everyone || within.mine || within.channel.is_some() || within.since.is_some();
    // Kept to some chats, the newest `examined` matches bound the search (a word in every
    // message, one seller's few chats, would otherwise read them all).
    let (floor, more) = if kept {
        switchboard_db::newest_matches_floor(conn, &fts, examined, below)?
    } else {
        (None, false)
    };
    // Who may see a chat is core's `can_see`: a supervisor every chat; a seller their own, and
    // nobody's while they receive new clients (role `none` never gets here).
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.chat, m.at, highlight(messages_fts, 0, char(57344), char(57345)) \
         FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid \
         JOIN chats c ON c.id = m.chat \
         WHERE messages_fts MATCH ?1 \
         AND (?3 OR c.responsible_id = ?4 OR (c.responsible_id IS NULL AND ?5)) \
         AND (?6 IS NULL OR c.channel_id = ?6) AND (NOT ?7 OR c.responsible_id = ?4) \
         AND (?8 IS NULL OR m.at >= ?8) AND messages_fts.rowid < coalesce(?10, 9223372036854775807) \
         AND messages_fts.rowid >= coalesce(?9, -9223372036854775808) \
         ORDER BY messages_fts.rowid DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![
            fts,
            limit,
            everyone,
            viewer.id,
            viewer.receives_new_clients,
            within.channel,
            within.mine,
            within.since,
            floor,
            below
        ],
        |r| {
            Ok(SearchHitView {
                message_id: r.get(0)?,
                chat: r.get(1)?,
                at: r.get(2)?,
                parts: search::parts(&r.get::<_, String>(3)?)
                    .into_iter()
                    .map(|(text, hit)| SearchPart { text, hit })
                    .collect(),
            })
        },
    )?;
    let mut hits: Vec<SearchHitView> = rows.collect::<rusqlite::Result<_>>()?;
    hits.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(SearchResults {
        partial: more && hits.len() < limit as usize,
        hits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every word the index's worker puts in the index is in the list a typed beginning is
    /// written out from (texts core splits and texts the scratch index splits alike), and an
    /// older hub gets the list filled from its index when it opens; the index splits words as
    /// the list does.
    #[test]
    fn the_indexs_words_are_all_listed() {
        assert!(
            include_str!("../../migrations/018_search.sql")
                .contains(&format!("tokenize = '{}'", switchboard_db::TOKENIZE)),
            "the list's scratch index must split words as the index does"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hub.db");
        let conn = crate::db::open_hub(&path).expect("open");
        conn.execute_batch("PRAGMA foreign_keys = OFF")
            .expect("pragma");
        let texts = [
            "Здравствуйте, ЗАКАЗ №77412 — «iPhone»",
            "Café İstanbul 👍 Straße",
            "счёт-фактура x² ǅemal",
            "",
        ];
        for (i, text) in texts.iter().cycle().take(2_500).enumerate() {
            conn.execute(
                "INSERT INTO messages (id, chat, direction, text, at, status) \
                 VALUES (?1, 'c1', 'in', ?2 || ' ' || ?1, '2026-12-07T10:00:00Z', 'inbound')",
                params![format!("m{i}"), text],
            )
            .expect("message");
        }
        while index_pending(&conn, INDEX_BATCH).expect("index") > 0 {}
        let unlisted = |conn: &Connection| -> i64 {
            conn.execute_batch(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.v USING fts5vocab(main, messages_fts, row)",
            )
            .expect("vocab");
            conn.query_row(
                "SELECT count(*) FROM temp.v WHERE term NOT IN (SELECT term FROM search_terms)",
                [],
                |r| r.get(0),
            )
            .expect("count")
        };
        assert_eq!(unlisted(&conn), 0);
        let listed = |conn: &Connection, term: &str| {
            switchboard_db::SearchTerms::beginning(conn, term, 10).expect("list")
        };
        assert_eq!(
            listed(&conn, "stra").as_deref(),
            Some(&["straße".to_string()][..])
        );
        assert_eq!(listed(&conn, "m1"), None, "more than 10");
        conn.execute_batch("DROP TABLE search_terms; PRAGMA user_version = 19;")
            .expect("downgrade");
        drop(conn);
        let conn = crate::db::open_hub(&path).expect("upgraded");
        assert_eq!(unlisted(&conn), 0, "filled from the index");
        assert_eq!(
            listed(&conn, "заказ").as_deref(),
            Some(&["заказ".to_string()][..])
        );
    }
}

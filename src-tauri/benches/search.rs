//! Full-text search at volume: `BENCH_MESSAGES` messages (default 2 000 000, over 100 000
//! chats) stored through the local store (the FTS5 index kept by its triggers), then searches
//! for a rare word (one message), a word in a few hundred messages, a common one (every
//! message: only the newest 100 come back; and its first 3 letters) and the first digits of a number. The floor, same run, same
//! file: the same messages stored into a copy of the table without the index, and a bare
//! `LIKE '%word%'` scan finding the rare word.
//! Run: `cargo bench -p switchboard --bench search` (prints figures and ratios).

use rusqlite::params;
use std::time::Instant;
use switchboard_desktop::local::{LocalStore, Within, EXAMINED};
use switchboard_wire::MessageView;

#[path = "../../crates/switchboard-hub/benches/support/perf_md.rs"]
mod perf_md;
mod support {
    pub mod seed;
    pub mod timing;
}
use support::timing::{ms, time};

fn main() -> anyhow::Result<()> {
    let total: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let chats = (total / 20).max(1);
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(&dir.path().join("local.db"))?;
    // The chats first (search answers only messages of chats this desktop holds).
    store.apply(&switchboard_wire::SyncResponse {
        changes: (0..chats)
            .map(|i| switchboard_wire::Change::Chat {
                chat: support::seed::chat(i),
            })
            .collect(),
        cursor: 1,
        has_more: false,
        ..Default::default()
    })?;
    let started = Instant::now();
    for batch in (0..total).collect::<Vec<_>>().chunks(10_000) {
        let ms: Vec<MessageView> = batch
            .iter()
            .map(|i| support::seed::message(*i, chats))
            .collect();
        store.put_messages(&ms)?;
    }
    let stored = started.elapsed();
    // The floor: the same rows, the same upsert, into a table with the same columns and index
    // but no search index.
    let bare = rusqlite::Connection::open(dir.path().join("bare.db"))?;
    bare.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE messages (id TEXT PRIMARY KEY, chat TEXT NOT NULL, at TEXT NOT NULL, view TEXT NOT NULL,
           direction TEXT, text TEXT, status TEXT, error TEXT, mirror TEXT, kind TEXT, media TEXT);
         CREATE INDEX messages_by_chat ON messages (chat, at);",
    )?;
    let started = Instant::now();
    for batch in (0..total).collect::<Vec<_>>().chunks(10_000) {
        let tx = bare.unchecked_transaction()?;
        {
            let mut ins = tx.prepare_cached(
                // The store's own upsert (`local::messages::put_message`), without the index.
                "INSERT INTO messages (id, chat, at, view, direction, text, status, error, mirror, kind, media) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'delivered', NULL, '{}', 'text', NULL) \
                 ON CONFLICT (id) DO UPDATE SET chat = excluded.chat, at = excluded.at, \
                 view = excluded.view, direction = excluded.direction, text = excluded.text, \
                 status = excluded.status, error = excluded.error, mirror = excluded.mirror, \
                 kind = excluded.kind, media = excluded.media \
                 WHERE messages.view IS NOT excluded.view",
            )?;
            for i in batch {
                let m = support::seed::message(*i, chats);
                ins.execute(params![
                    m.id,
                    m.chat,
                    m.at,
                    serde_json::to_string(&m)?,
                    "in",
                    m.text
                ])?;
            }
        }
        tx.commit()?;
    }
    let floor_store = started.elapsed();
    let runs = 21;
    let search = |q: &str| {
        let (med, p95) = time(runs, || {
            store.search(q, 100).expect("search");
        });
        let n = store.search(q, 100).expect("search").hits.len();
        (med, p95, n)
    };
    let rare = search("жираф");
    let few = search("iphone");
    let common = search("заказ");
    let begun = search("здр");
    let number = search("10234");
    // Kept to a filter nothing matches (a channel no chat is on; "mine" with nobody signed in):
    // the worst case, bounded by the newest EXAMINED matches of a word in every message.
    let filtered = |within: Within| {
        let (med, p95) = time(runs, || {
            store.search_in("заказ", 100, &within).expect("search");
        });
        let found = store.search_in("заказ", 100, &within).expect("search");
        assert!(
            found.hits.is_empty() && found.partial,
            "bounded, and says so"
        );
        (med, p95)
    };
    let other_channel = filtered(Within {
        channel: Some("tg".into()),
        ..Within::default()
    });
    let mine = filtered(Within {
        mine: true,
        ..Within::default()
    });
    let (like, _) = time(5, || {
        let n: i64 = bare
            .query_row(
                "SELECT count(*) FROM messages WHERE text LIKE '%Жираф%'",
                [],
                |r| r.get(0),
            )
            .expect("like");
        assert_eq!(n, 1);
    });
    // What the index takes beside the table it indexes (SQLite's own page count per table).
    let raw = rusqlite::Connection::open(dir.path().join("local.db"))?;
    let pages = |like: &str| -> anyhow::Result<f64> {
        let bytes: i64 = raw.query_row(
            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name GLOB ?1",
            [like],
            |r| r.get(0),
        )?;
        Ok(bytes as f64 / 1e6)
    };
    let (table, index, terms) = (
        pages("messages")?,
        pages("messages_fts*")?,
        pages("search_terms")?,
    );
    let size = |p: &str| std::fs::metadata(dir.path().join(p)).map_or(0, |m| m.len());
    let (with, without) = (
        size("local.db") + size("local.db-wal"),
        size("bare.db") + size("bare.db-wal"),
    );
    println!(
        "{total} messages in {chats} chats: stored {:.1} s with the search index, {:.1} s without ({:.2}×); the store's file {} MB (its chats too) vs the bare messages' {} MB",
        stored.as_secs_f64(),
        floor_store.as_secs_f64(),
        stored.as_secs_f64() / floor_store.as_secs_f64(),
        with / 1_000_000,
        without / 1_000_000
    );
    println!(
        "sizes: the messages table {table:.0} MB, its search index {index:.0} MB ({:.2}×), the index's list of words {terms:.0} MB",
        index / table
    );
    for (what, (med, p95, n)) in [
        ("rare word (1 message)", rare),
        ("a few hundred", few),
        ("common (every message)", common),
        ("a 3-letter beginning of a word in every message", begun),
        ("first digits of a number", number),
    ] {
        println!(
            "search {what}: median {:.1} ms, p95 {:.1} ms, {n} hits shown",
            ms(med),
            ms(p95)
        );
    }
    println!(
        "a word in every message kept to a filter nothing matches (the newest {EXAMINED} looked through): another channel median {:.1} ms, p95 {:.1} ms; \"mine\" {:.1} / {:.1} ms",
        ms(other_channel.0), ms(other_channel.1), ms(mine.0), ms(mine.1)
    );
    println!(
        "floor: LIKE scan for the rare word {:.0} ms ({:.0}× the search)",
        ms(like),
        ms(like) / ms(rare.0)
    );
    perf_md::record(
        "search",
        &format!("full-text search on the desktop, {total} messages in {chats} chats (FTS5, words by their beginnings)"),
        &format!(
            "median / p95: a rare word {:.1} / {:.1} ms, a word in ~{} messages {:.1} / {:.1} ms, a word in every message (newest 100 shown) {:.1} / {:.1} ms, 3 letters beginning a word in every message {:.1} / {:.1} ms, the first digits of a number {:.1} / {:.1} ms; a word in every message kept to a filter nothing matches (bounded at the newest {EXAMINED}) {:.1} / {:.1} ms; a bare LIKE scan {:.0} ms ({:.0}× the rare word); the index {index:.0} MB beside the messages table's {table:.0} MB ({:.2}×), its list of words {terms:.0} MB; storing them {:.0} s with the index vs {:.0} s without ({:.2}×), the store's file {} MB (its chats too) vs the bare messages' {} MB",
            ms(rare.0),
            ms(rare.1),
            total / 5_000,
            ms(few.0),
            ms(few.1),
            ms(common.0),
            ms(common.1),
            ms(begun.0),
            ms(begun.1),
            ms(number.0),
            ms(number.1),
            ms(other_channel.0),
            ms(other_channel.1),
            ms(like),
            ms(like) / ms(rare.0),
            index / table,
            stored.as_secs_f64(),
            floor_store.as_secs_f64(),
            stored.as_secs_f64() / floor_store.as_secs_f64(),
            with / 1_000_000,
            without / 1_000_000
        ),
    );
    Ok(())
}

//! Full-text search at volume: `BENCH_MESSAGES` messages (default 2 000 000, over 100 000
//! chats) stored through the local store (the FTS5 index kept by its triggers), then searches
//! for a rare word (one message), a word in a few hundred messages, a common one (every
//! message: only the newest 100 come back) and the first digits of a number. The floor, same run, same
//! file: the same messages stored into a copy of the table without the index, and a bare
//! `LIKE '%word%'` scan finding the rare word.
//! Run: `cargo bench -p switchboard --bench search` (prints figures and ratios).

use rusqlite::params;
use std::time::Instant;
use switchboard_core::{Direction, MessageStatus};
use switchboard_desktop::local::{LocalStore, Within, EXAMINED};
use switchboard_wire::MessageView;

#[path = "../../crates/switchboard-hub/benches/support/perf_md.rs"]
mod perf_md;
mod support {
    pub mod seed;
    pub mod timing;
}
use support::timing::{ms, time};

const WORDS: [&str; 12] = [
    "заказ",
    "доставка",
    "оплата",
    "счёт",
    "скидка",
    "размер",
    "цвет",
    "адрес",
    "курьер",
    "возврат",
    "гарантия",
    "подарок",
];

/// The one message with a rare word.
const RARE: usize = 123_457;

fn text(i: usize) -> String {
    let w = |k: usize| WORDS[(i / k) % WORDS.len()];
    let mut t = format!(
        "Здравствуйте, {} и {} по заказу {}: {}",
        w(1),
        w(7),
        100_000 + i,
        w(13)
    );
    if i % 5_000 == 17 {
        t.push_str(" — и ещё вопрос про iPhone");
    }
    if i == RARE {
        t.push_str(" (промокод Жираф-2026)");
    }
    t
}

fn message(i: usize, chats: usize) -> MessageView {
    MessageView {
        id: format!("m{i:08}"),
        chat: support::seed::chat(i % chats).id,
        direction: if i.is_multiple_of(2) {
            Direction::In
        } else {
            Direction::Out
        },
        text: text(i),
        content_uri: None,
        at: format!(
            "2026-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            1 + (i / 2_000_000) % 12,
            1 + (i / 80_000) % 28,
            (i / 3_600) % 24,
            (i / 60) % 60,
            i % 60
        ),
        author_id: None,
        status: MessageStatus::Delivered,
        error: None,
        mirror: Default::default(),
        kind: Default::default(),
        media: None,
        place: None,
    }
}

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
        let ms: Vec<MessageView> = batch.iter().map(|i| message(*i, chats)).collect();
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
                let m = message(*i, chats);
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
    let size = |p: &str| std::fs::metadata(dir.path().join(p)).map_or(0, |m| m.len());
    let (with, without) = (
        size("local.db") + size("local.db-wal"),
        size("bare.db") + size("bare.db-wal"),
    );
    println!(
        "{total} messages in {chats} chats: stored {:.1} s with the search index, {:.1} s without ({:.2}×); file {} MB vs {} MB",
        stored.as_secs_f64(),
        floor_store.as_secs_f64(),
        stored.as_secs_f64() / floor_store.as_secs_f64(),
        with / 1_000_000,
        without / 1_000_000
    );
    for (what, (med, p95, n)) in [
        ("rare word (1 message)", rare),
        ("a few hundred", few),
        ("common (every message)", common),
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
            "a rare word {:.1} ms (p95 {:.1}), a word in ~{} messages {:.1} ms, a word in every message (newest 100 shown) {:.0} ms, the first digits of a number {:.1} ms; a word in every message kept to a filter nothing matches (bounded at the newest {EXAMINED}) {:.1} ms, p95 {:.1} ms; a bare LIKE scan {:.0} ms ({:.0}× the rare word); storing them {:.0} s with the index vs {:.0} s without ({:.2}×), file {} MB vs {} MB",
            ms(rare.0),
            ms(rare.1),
            total / 5_000,
            ms(few.0),
            ms(common.0),
            ms(number.0),
            ms(other_channel.0),
            ms(other_channel.1),
            ms(like),
            ms(like) / ms(rare.0),
            stored.as_secs_f64(),
            floor_store.as_secs_f64(),
            stored.as_secs_f64() / floor_store.as_secs_f64(),
            with / 1_000_000,
            without / 1_000_000
        ),
    );
    Ok(())
}

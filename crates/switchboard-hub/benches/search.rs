//! The hub's search over all history at volume (#15): `BENCH_MESSAGES` messages (default
//! 2 000 000) in 100 000 chats, then put into the FTS5 index as the hub's worker does; searches as a
//! supervisor (every chat) and as a seller responsible for 20 chats (the newest 20 000
//! matches bound it), for a rare word, a word in a few hundred messages, a word in every
//! message and the first digits of a number; and how long the index's worker takes to index
//! them after they were stored (migration 019). The floor, same run: a bare `LIKE` scan for the
//! rare word.
//! Run: `cargo bench -p switchboard-hub --bench search` (prints figures and ratios).

use rusqlite::params;
use std::time::Instant;
use switchboard_core::{Employee, Role};
use switchboard_hub::{db, store};

mod support {
    pub mod perf_md;
}

const WORDS: [&str; 8] = [
    "заказ",
    "доставка",
    "оплата",
    "счёт",
    "скидка",
    "размер",
    "курьер",
    "возврат",
];
const RARE: usize = 123_457;

fn text(i: usize) -> String {
    let w = |k: usize| WORDS[(i / k) % WORDS.len()];
    let mut t = format!(
        "Здравствуйте, {} и {} по заказу {}",
        w(1),
        w(7),
        100_000 + i
    );
    if i % 5_000 == 17 {
        t.push_str(" — и ещё вопрос про iPhone");
    }
    if i == RARE {
        t.push_str(" (промокод Жираф-2026)");
    }
    t
}

/// Stores `total` messages over `chats` chats (20 of them Anna's) into `conn`.
fn seed(conn: &rusqlite::Connection, total: usize, chats: usize) -> anyhow::Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut chat = tx.prepare(
            "INSERT INTO chats (id, channel_id, chat_type, chat_id, title, client_phone, responsible_id, last_activity_at) \
             VALUES (?1, 'wa', 'whatsapp', ?2, ?3, ?4, ?5, '2026-11-25T10:00:00.000Z')",
        )?;
        for c in 0..chats {
            let number = format!("7916{c:07}");
            let responsible = (c % (chats / 20).max(1) == 0).then_some("anna");
            chat.execute(params![
                format!("c{c:06}"),
                number,
                format!("Клиент {c}"),
                format!("+{number}"),
                responsible
            ])?;
        }
    }
    tx.commit()?;
    for batch in (0..total).collect::<Vec<_>>().chunks(20_000) {
        let tx = conn.unchecked_transaction()?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO messages (id, chat, direction, text, at, status) VALUES (?1, ?2, 'in', ?3, ?4, 'inbound')",
            )?;
            for &i in batch {
                ins.execute(params![
                    format!("m{i:08}"),
                    format!("c{:06}", i % chats),
                    text(i),
                    format!(
                        "2026-{:02}-{:02}T{:02}:{:02}:00.000Z",
                        1 + (i / 200_000) % 12,
                        1 + (i / 8_000) % 28,
                        (i / 60) % 24,
                        i % 60
                    ),
                ])?;
            }
        }
        tx.commit()?;
    }
    Ok(())
}

/// Median and p95 of `runs` runs of `f`, in milliseconds.
fn time(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    (t[runs / 2], t[(runs * 95 / 100).min(runs - 1)])
}

fn main() -> anyhow::Result<()> {
    let total: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let chats = (total / 20).max(20);
    let dir = tempfile::tempdir()?;
    let open = |name: &str| -> anyhow::Result<rusqlite::Connection> {
        let conn = db::open_hub(&dir.path().join(name))?;
        store::ensure_workspace(&conn)?;
        Ok(conn)
    };
    let conn = open("hub.db")?;
    let started = Instant::now();
    seed(&conn, total, chats)?;
    let floor = started.elapsed();
    // The index's worker takes them (migration 019), a batch per write (one transaction, as
    // the hub's writer runs it).
    let started = Instant::now();
    let mut batches = 0;
    loop {
        let tx = conn.unchecked_transaction()?;
        let n = store::search::index_pending(&tx, store::search::INDEX_BATCH)?;
        tx.commit()?;
        if n == 0 {
            break;
        }
        batches += 1;
    }
    let indexing = started.elapsed();
    let bare = &conn;

    let who = |id: &str, role| Employee {
        id: id.into(),
        name: id.into(),
        role,
        receives_new_clients: false,
        priority_channel_id: None,
    };
    let (boss, anna) = (who("boss", Role::Supervisor), who("anna", Role::Seller));
    let runs = 21;
    let search = |viewer: &Employee, q: &str| {
        let within = store::search::Within::default();
        let go = || {
            store::search::search_messages(&conn, viewer, q, &within, 50, store::search::EXAMINED)
                .expect("search")
        };
        let (med, p95) = time(runs, || {
            go();
        });
        let r = go();
        (med, p95, r.hits.len(), r.partial)
    };
    let (like, _) = time(3, || {
        let n: i64 = bare
            .query_row(
                "SELECT count(*) FROM messages WHERE text LIKE '%Жираф%'",
                [],
                |r| r.get(0),
            )
            .expect("like");
        assert_eq!(n, 1);
    });
    println!(
        "{total} messages in {chats} chats: stored in {:.1} s; the index's worker took them in {:.1} s ({batches} writes of {}, {:.1} ms each)",
        floor.as_secs_f64(),
        indexing.as_secs_f64(),
        store::search::INDEX_BATCH,
        indexing.as_secs_f64() * 1e3 / f64::from(batches.max(1)),
    );
    let mut rows = Vec::new();
    for (viewer, label) in [(&boss, "supervisor"), (&anna, "seller (20 chats)")] {
        for (q, what) in [
            ("жираф", "a rare word"),
            ("iphone", "a word in ~400 messages"),
            ("заказ", "a word in every message"),
            ("10234", "the first digits of a number"),
        ] {
            let (med, p95, n, partial) = search(viewer, q);
            println!(
                "{label}, {what} («{q}»): median {med:.1} ms, p95 {p95:.1} ms, {n} found{}",
                if partial { " (partial)" } else { "" }
            );
            rows.push(format!("{label}, {what}: {med:.1} / {p95:.1} ms"));
        }
    }
    println!("floor: a bare LIKE scan for the rare word {like:.0} ms");
    support::perf_md::record(
        "search",
        &format!("hub search over {total} messages in {chats} chats, median / p95 (a bare `LIKE` scan: {like:.0} ms)"),
        &rows.join("; "),
    );
    support::perf_md::record_as(
        "cargo bench -p switchboard-hub --bench search (storing)",
        &format!("hub: the search index's worker taking {total} messages (a batch per write, off the webhook's transaction)"),
        &format!(
            "{:.1} s ({batches} writes of {}, {:.1} ms each); storing them took {:.1} s",
            indexing.as_secs_f64(),
            store::search::INDEX_BATCH,
            indexing.as_secs_f64() * 1e3 / f64::from(batches.max(1)),
            floor.as_secs_f64(),
        ),
    );
    Ok(())
}

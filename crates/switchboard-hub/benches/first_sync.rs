//! A supervisor's first sync at volume: `BENCH_CHATS` chats (default 100 000) × `BENCH_PER_CHAT`
//! client messages (default 5), 2 % of the chats still waiting for an answer. Times the storage
//! answer and its JSON size with history for every chat (how first syncs were: 50 recent
//! messages each) and with today's depth (recent messages for the newest 200 chats, the
//! unanswered ones of every other waiting chat; the rest on open), same run, same file; then one
//! real first sync over HTTP.
//! Run: `cargo bench -p switchboard-hub --bench first_sync` (prints figures and ratios).

use std::time::Instant;
use switchboard_core::{ChatEvent, Role};
use switchboard_hub::json::NewEmployee;
use switchboard_hub::store::{self, SnapshotDepth};
use switchboard_hub::{db, start, ServeConfig};

#[path = "support/perf_md.rs"]
mod perf_md;
#[path = "support/seed.rs"]
mod seed;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One storage answer at `depth`: (seconds, JSON bytes, messages carried).
fn measure(conn: &rusqlite::Connection, boss: &str, depth: SnapshotDepth) -> (f64, usize, usize) {
    let t = Instant::now();
    let answer = store::sync_with(conn, boss, 0, depth).expect("sync");
    let bytes = serde_json::to_vec(&answer).expect("json").len();
    let took = t.elapsed().as_secs_f64();
    let messages = answer
        .changes
        .iter()
        .filter(|c| c.type_name() == "message")
        .count();
    (took, bytes, messages)
}

fn main() -> anyhow::Result<()> {
    let (chats, per_chat) = (env("BENCH_CHATS", 100_000), env("BENCH_PER_CHAT", 5));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("hub.db");
    let t = Instant::now();
    let boss = {
        let conn = db::open_hub(&path)?;
        store::ensure_workspace(&conn)?;
        conn.execute(
            "INSERT INTO channels (id, transport, name, state, open_lines, sandbox) VALUES ('wa', 'whatsapp', 'WA', 'active', 0, 1)",
            [],
        )?;
        let at = "2026-11-25T10:00:00.000Z";
        let tx = conn.unchecked_transaction()?;
        let boss = store::insert_employee(
            &tx,
            &NewEmployee {
                name: "Boss".into(),
                role: Role::Supervisor,
                receives_new_clients: false,
                priority_channel_id: None,
                crm_user_id: None,
            },
        )?;
        store::store_token(&tx, "boss", Some(&boss.id), at)?;
        for i in 0..chats * per_chat {
            let stored = store::ingest(
                &tx,
                &seed::inbound(
                    format!("seed-{i}"),
                    format!("7916{:07}", i % chats),
                    format!("message {i}"),
                ),
                at,
            )?;
            // After each chat's last message: answered, but for one chat in 50.
            if i / chats == per_chat - 1 && i % 50 != 0 {
                if let Some(s) = stored {
                    store::apply_chat_event(&tx, &s.chat, ChatEvent::MarkedAnswered, at, at)?;
                }
            }
        }
        tx.commit()?;
        boss.id
    };
    eprintln!(
        "seeded {chats} chats × {per_chat} messages in {:.1?}",
        t.elapsed()
    );
    let conn = db::open_hub(&path)?;
    let every = SnapshotDepth {
        chats: usize::MAX,
        messages: 50,
        waiting: 0,
    };
    let before = measure(&conn, &boss, every);
    let after = measure(&conn, &boss, SnapshotDepth::DEFAULT);
    drop(conn);
    for (name, (took, bytes, messages)) in [
        ("history for every chat", before),
        ("newest 200 chats", after),
    ] {
        println!(
            "first sync, {name}: {took:.2} s, {:.1} MB, {messages} messages",
            bytes as f64 / 1e6
        );
    }
    println!(
        "ratio (every / newest): time {:.1}×, bytes {:.1}×",
        before.0 / after.0,
        before.1 as f64 / after.1 as f64
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let http_figure = rt.block_on(async {
        let hub = start(ServeConfig::new(
            dir.path().to_owned(),
            ([127, 0, 0, 1], 0).into(),
            false,
        ))
        .await?;
        let t = Instant::now();
        let body = reqwest::Client::new()
            .get(format!("{}/api/v1/sync?cursor=0", hub.url))
            .bearer_auth("boss")
            .send()
            .await?
            .bytes()
            .await?;
        let took = t.elapsed().as_secs_f64();
        hub.stop().await;
        anyhow::Ok((took, body.len()))
    })?;
    println!(
        "over HTTP: {:.2} s, {:.1} MB",
        http_figure.0,
        http_figure.1 as f64 / 1e6
    );
    perf_md::record(
        "first_sync",
        &format!("a supervisor's first sync, {chats} chats × {per_chat} messages, 2 % waiting"),
        &format!(
            "over HTTP {:.2} s, {:.1} MB (history for the newest 200 chats, unanswered messages of the waiting); with history for every chat, as before: {:.2} s, {:.1} MB in storage alone (same run)",
            http_figure.0,
            http_figure.1 as f64 / 1e6,
            before.0,
            before.1 as f64 / 1e6
        ),
    );
    Ok(())
}

//! A supervisor's first sync at volume: `BENCH_CHATS` chats (default 100 000) × `BENCH_PER_CHAT`
//! client messages (default 20: 2 000 000 messages), 2 % of the chats still waiting for an answer. Times, same run,
//! same file: the storage answer with history for every chat in one answer (how first syncs
//! were), today's depth in one answer (how they were before pages), and today's paged snapshot
//! over real HTTP: its first page (what the list paints from) and all its pages.
//! Run: `cargo bench -p switchboard-hub --bench first_sync` (prints figures and ratios).

use anyhow::Context;
use std::time::Instant;
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
    let answer = store::sync_with(conn, boss, 0, None, depth).expect("sync");
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
    let (chats, per_chat) = (env("BENCH_CHATS", 100_000), env("BENCH_PER_CHAT", 20));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("hub.db");
    let t = Instant::now();
    let boss = seed::workspace(&path, 1, chats, per_chat, 50)?
        .pop()
        .context("the supervisor")?;
    eprintln!(
        "seeded {chats} chats × {per_chat} messages in {:.1?}",
        t.elapsed()
    );
    let conn = db::open_hub(&path)?;
    let every = SnapshotDepth {
        chats: usize::MAX,
        messages: 50,
        waiting: 0,
        first_page: usize::MAX,
        page: usize::MAX,
    };
    let one_answer = SnapshotDepth {
        first_page: usize::MAX,
        page: usize::MAX,
        ..SnapshotDepth::DEFAULT
    };
    let before = measure(&conn, &boss, every);
    let unpaged = measure(&conn, &boss, one_answer);
    drop(conn);
    for (name, (took, bytes, messages)) in [
        ("history for every chat, one answer", before),
        ("newest 200 chats, one answer", unpaged),
    ] {
        println!(
            "first sync, {name}: {took:.2} s, {:.1} MB, {messages} messages",
            bytes as f64 / 1e6
        );
    }
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
        let client = switchboard_client::HubClient::new(reqwest::Client::new(), &hub.url, "boss-0");
        let t = Instant::now();
        let mut answer = client.sync(0).await?;
        let first = t.elapsed().as_secs_f64();
        let first_bytes = serde_json::to_vec(&answer)?.len();
        let (mut pages, mut bytes, cursor) = (1, first_bytes, answer.cursor);
        while let Some(page) = answer.page.clone() {
            answer = client.sync_page(cursor, Some(&page)).await?;
            bytes += serde_json::to_vec(&answer)?.len();
            pages += 1;
        }
        let all = t.elapsed().as_secs_f64();
        hub.stop().await;
        anyhow::Ok((first, first_bytes, all, bytes, pages))
    })?;
    let (first, first_bytes, all, bytes, pages) = http_figure;
    println!(
        "paged over HTTP: first page {:.3} s, {:.2} MB; all {pages} pages {:.2} s, {:.1} MB",
        first,
        first_bytes as f64 / 1e6,
        all,
        bytes as f64 / 1e6
    );
    println!(
        "ratio: one answer (storage alone) / first page (over HTTP): time {:.0}×; every chat's history / paged in all: bytes {:.1}×",
        unpaged.0 / first,
        before.1 as f64 / bytes as f64
    );
    perf_md::record(
        "first_sync",
        &format!("a supervisor's first sync, {chats} chats × {per_chat} messages, 2 % waiting"),
        &format!(
            "paged over HTTP: the first page {:.3} s, {:.2} MB; all {pages} pages {:.2} s, {:.1} MB. In one answer (before pages): {:.2} s in storage alone; with history for every chat: {:.2} s, {:.1} MB (same run)",
            first,
            first_bytes as f64 / 1e6,
            all,
            bytes as f64 / 1e6,
            unpaged.0,
            before.0,
            before.1 as f64 / 1e6
        ),
    );
    Ok(())
}

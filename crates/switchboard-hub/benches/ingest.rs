//! Webhook ingest at volume: a workspace of `BENCH_CHATS` chats (default 20 000), then
//! `BENCH_MESSAGES` client messages (default 10 000) to them through the provider webhook over
//! real HTTP, in deliveries of 100 — with no desktop, and with 50 supervisors' desktops on the
//! live stream, each syncing at every change as the desktop does (a burst read first, then one
//! sync, every page followed). The floor, same run: a bare rusqlite insert of the same rows (the
//! message, its chat's new state, the two change-log entries) into the same schema, in
//! transactions of the same 100, on a connection as SQLite comes.
//!
//! Message after message goes to chats spread over the whole workspace ([`scatter`]), as
//! clients write. (In the order the chats were created, the floor touches one page of each
//! index per delivery and runs at memory speed; docs/perf.md gives that figure too.)
//! Run: `cargo bench -p switchboard-hub --bench ingest` (prints figures and ratios);
//! `BENCH_ALONE=1` stops after the hub without desktops (for a profiler).

use futures_util::{FutureExt, StreamExt};
use std::time::{Duration, Instant};
use switchboard_hub::{start, ServeConfig};

#[path = "support/pages.rs"]
mod pages;
#[path = "support/perf_md.rs"]
mod perf_md;
#[path = "support/seed.rs"]
mod seed;

const DESKTOPS: usize = 50;
const DELIVERY: usize = 100;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The chat the `i`th message goes to: clients write in no particular order, so message after
/// message lands on chats spread over the whole workspace (a stride prime to its size visits
/// every chat once per round), not on chats in the order they were created.
fn scatter(i: usize, chats: usize) -> usize {
    (i * 7_919) % chats
}

fn phone(i: usize) -> String {
    format!("7916{i:07}")
}

/// The floor: the rows one client message adds, inserted bare, `DELIVERY` per transaction.
fn bare(path: &std::path::Path, chats: usize, messages: usize) -> anyhow::Result<Duration> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM chats ORDER BY chat_id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(ids.len() == chats);
    let t = Instant::now();
    for batch in 0..messages.div_ceil(DELIVERY) {
        let tx = conn.unchecked_transaction()?;
        for i in batch * DELIVERY..((batch + 1) * DELIVERY).min(messages) {
            let (id, chat) = (format!("bare-{i}"), &ids[scatter(i, chats)]);
            let at = format!("2026-11-26T10:{:02}:{:02}.000Z", (i / 60) % 60, i % 60);
            tx.prepare_cached(
                "INSERT INTO messages (id, chat, provider_message_id, direction, text, at, status) \
                 VALUES (?1, ?2, ?1, 'in', ?3, ?4, 'inbound')",
            )?
            .execute(rusqlite::params![id, chat, format!("message {i}"), at])?;
            tx.prepare_cached(
                "UPDATE chats SET unanswered = unanswered + 1, last_message_id = ?2, \
                 last_activity_at = ?3, waiting_since = coalesce(waiting_since, ?3) WHERE id = ?1",
            )?
            .execute(rusqlite::params![chat, id, at])?;
            let mut log = tx.prepare_cached("INSERT INTO changes (kind, ref) VALUES (?1, ?2)")?;
            log.execute(["message", id.as_str()])?;
            log.execute(["chat", chat.as_str()])?;
        }
        tx.commit()?;
    }
    Ok(t.elapsed())
}

/// Posts `messages` client messages in deliveries of `DELIVERY`; how long it took.
async fn post(
    http: &reqwest::Client,
    webhook: &str,
    chats: usize,
    messages: usize,
    tag: &str,
) -> anyhow::Result<Duration> {
    let t = Instant::now();
    for batch in 0..messages.div_ceil(DELIVERY) {
        let body: Vec<_> = (batch * DELIVERY..((batch + 1) * DELIVERY).min(messages))
            .map(|i| {
                serde_json::json!({"messageId": format!("{tag}-{i}"), "channelId": "wa",
                    "chatType": "whatsapp", "chatId": phone(scatter(i, chats)),
                    "dateTime": "2026-11-26T10:00:00.000Z", "type": "text", "status": "inbound",
                    "text": format!("message {i}")})
            })
            .collect();
        let status = http
            .post(webhook)
            .json(&serde_json::json!({ "messages": body }))
            .send()
            .await?
            .status();
        anyhow::ensure!(status.is_success(), "the webhook answered {status}");
    }
    Ok(t.elapsed())
}

/// One desktop: synced once, then on the live stream, syncing at each burst of events until
/// the stream ends; answers the bytes it synced live.
async fn desktop(http: reqwest::Client, url: String, token: String) -> usize {
    let Some((mut cursor, _)) = pages::sync_all(&http, &url, &token, 0, |_| {}).await else {
        return 0;
    };
    let resp = http
        .get(format!("{url}/api/v1/events"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("events");
    let mut body = Box::pin(resp.bytes_stream());
    let mut bytes = 0;
    while let Some(Ok(_)) = body.next().await {
        // A burst: whatever else has already arrived is read first, then one sync.
        while let Some(Some(Ok(_))) = body.next().now_or_never() {}
        let Some((c, b)) = pages::sync_all(&http, &url, &token, cursor, |_| {}).await else {
            break;
        };
        cursor = c;
        bytes += b;
    }
    bytes
}

fn main() -> anyhow::Result<()> {
    let (chats, messages) = (env("BENCH_CHATS", 20_000), env("BENCH_MESSAGES", 10_000));
    let dir = tempfile::tempdir()?;
    let (hub_dir, floor_dir) = (dir.path().join("hub"), dir.path().join("floor"));
    std::fs::create_dir_all(&hub_dir)?;
    std::fs::create_dir_all(&floor_dir)?;
    let t = Instant::now();
    seed::workspace(&hub_dir.join("hub.db"), DESKTOPS, chats, 1, 0)?;
    seed::workspace(&floor_dir.join("hub.db"), DESKTOPS, chats, 1, 0)?;
    eprintln!(
        "seeded two workspaces of {chats} chats in {:.1?}",
        t.elapsed()
    );
    let floor = bare(&floor_dir.join("hub.db"), chats, messages)?;
    let rate = |d: Duration| messages as f64 / d.as_secs_f64();
    println!(
        "bare rusqlite insert of the same rows: {floor:.2?} ({:.0} msg/s)",
        rate(floor)
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (alone, synced, bytes) = rt.block_on(async {
        let hub = start(ServeConfig::new(
            hub_dir.clone(),
            ([127, 0, 0, 1], 0).into(),
            false,
        ))
        .await?;
        let http = reqwest::Client::new();
        let webhook = format!("{}/webhooks/provider/{}", hub.url, hub.hub.ingress_secret());
        let alone = post(&http, &webhook, chats, messages, "alone").await?;
        if std::env::var("BENCH_ALONE").is_ok() {
            hub.stop().await;
            return anyhow::Ok((alone, alone, 0));
        }
        let desktops: Vec<_> = (0..DESKTOPS)
            .map(|d| tokio::spawn(desktop(http.clone(), hub.url.clone(), format!("boss-{d}"))))
            .collect();
        // Every desktop has its first sync behind it and listens: its stream's first `change`.
        let t = Instant::now();
        while hub.hub.subscribers() < DESKTOPS {
            anyhow::ensure!(
                t.elapsed() < Duration::from_secs(300),
                "desktops not listening"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!(
            "{DESKTOPS} desktops synced and listening after {:.1?}",
            t.elapsed()
        );
        let synced = post(&http, &webhook, chats, messages, "synced").await?;
        hub.stop().await;
        let mut bytes = 0;
        for d in desktops {
            bytes += d.await?;
        }
        anyhow::Ok((alone, synced, bytes))
    })?;
    println!(
        "hub, no desktop: {alone:.2?} ({:.0} msg/s, {:.0} % of the floor)",
        rate(alone),
        100.0 * rate(alone) / rate(floor)
    );
    println!(
        "hub, {DESKTOPS} desktops syncing: {synced:.2?} ({:.0} msg/s, {:.0} % of the floor); they synced {:.1} MB",
        rate(synced),
        100.0 * rate(synced) / rate(floor),
        bytes as f64 / 1e6
    );
    perf_md::record(
        "ingest",
        &format!("webhook ingest, {messages} client messages in deliveries of {DELIVERY} into {chats} chats"),
        &format!(
            "with {DESKTOPS} desktops syncing {:.0} msg/s ({:.0} % of a bare rusqlite insert of the same rows, {:.0} msg/s); with none {:.0} msg/s ({:.0} %)",
            rate(synced),
            100.0 * rate(synced) / rate(floor),
            rate(floor),
            rate(alone),
            100.0 * rate(alone) / rate(floor)
        ),
    );
    Ok(())
}

//! A backlog of 10 000 timeline entries (after a CRM outage) drained into the Bitrix24 fake
//! at its real rate limit (leaky bucket: 50 at once, 2 requests/s), through the mirror queue
//! and the Bitrix24 adapter's batches. Prints the time to drain and the share of the
//! theoretical maximum (2 requests/s × 50 calls per batch = 100 entries/s; the first burst
//! of 50 requests is credited to it too).
//! Run: `cargo bench -p switchboard-hub --bench drain` (prints figures; asserts nothing).

use bitrix24_fake::FakeConfig;
use rusqlite::params;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_hub::api::EdgeHub;
use switchboard_hub::bitrix::{Bitrix24, Rate};
use switchboard_hub::{store, Hub};

const ENTRIES: usize = 10_000;
const DEALS: usize = 100;

#[path = "support/perf_md.rs"]
mod perf_md;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let fake =
        bitrix24_fake::start(([127, 0, 0, 1], 0).into(), FakeConfig::new(1, "benchcode")).await?;
    let deals: Vec<u64> = (0..DEALS)
        .map(|i| fake.fake.add("deal", json!({"TITLE": format!("deal {i}")})))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    let dir = tempfile::tempdir()?;
    let conn = switchboard_hub::db::open_hub(&dir.path().join("hub.db"))?;
    store::ensure_workspace(&conn)?;
    let hub = Hub::new(conn, "secret".into());
    hub.write(move |c| {
        for i in 0..ENTRIES {
            let d = deals[i % DEALS];
            c.execute(
                "INSERT INTO mirror_queue (key, kind, entity_kind, entity_id, chat, message_id, at, text) \
                 VALUES (?1, 'message', 'deal', ?2, 'chat', ?3, '2026-11-25T10:00:00.000Z', ?4)",
                params![format!("message:deal:{d}:m{i}"), d.to_string(), format!("m{i}"), format!("[WhatsApp] → Client: backlog message {i}")],
            )?;
        }
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let port = Arc::new(Bitrix24::new(
        &fake.webhook,
        Duration::from_secs(30),
        Rate::STANDARD,
    )?);
    let started = Instant::now();
    switchboard_hub::mirror::spawn(hub.clone(), port);
    loop {
        let written: i64 = hub
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM mirror_queue WHERE state = 'written'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        if written as usize == ENTRIES {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "only {written} written in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = started.elapsed().as_secs_f64();
    let requests = fake.fake.requests();
    let comments = fake.fake.comments().len();
    // The best any client can do: the first 50 requests at once, then 2 a second, 50 entries each.
    let ideal = ((ENTRIES as f64 / 50.0) - 50.0).max(0.0) / 2.0;
    println!("drain bench: {ENTRIES} timeline entries over {DEALS} deals → Bitrix24 fake (bucket 50, 2 requests/s)");
    println!(
        "  drained in {took:.1} s ({:.0} entries/s) with {requests} requests; {comments} comments written (duplicates: {})",
        ENTRIES as f64 / took,
        comments.saturating_sub(ENTRIES)
    );
    println!(
        "  theoretical best {ideal:.1} s → {:.0}% of the maximum; after the burst {:.0} entries/s (the limit allows 100)",
        ideal / took * 100.0,
        (ENTRIES as f64 - 2500.0) / took
    );
    perf_md::record(
        "drain",
        &format!("{ENTRIES} timeline entries into the Bitrix24 fake at its real rate limit"),
        &format!(
            "{took:.1} s (the theoretical best {ideal:.1} s), duplicates {}",
            comments.saturating_sub(ENTRIES)
        ),
    );
    hub.close();
    Ok(())
}

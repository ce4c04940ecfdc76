//! The real app against a hub at volume: `BENCH_CHATS` chats (default 100 000; one client
//! message each, through the hub's webhook in deliveries of 1 000) and a supervisor who sees
//! them all. Times Connect → first chat row painted and → the whole list known, a new client
//! message → its row on top, and counts the DOM's rows; then sums the PSS of the app and its
//! WebKit processes. Prints figures, asserts nothing.
//! `cargo build --release -p switchboard -p switchboard-hub && SWITCHBOARD_APP=target/release/switchboard \
//!  SWITCHBOARD_HUB=target/release/switchboard-hub \
//!  xvfb-run -a dbus-run-session -- cargo run --release -p switchboard-e2e --bin volume-bench`
//! (the hub is the binary `SWITCHBOARD_HUB` names, else target/debug/switchboard-hub).

use anyhow::{Context, Result};
use serde_json::json;
use std::time::{Duration, Instant};
use switchboard_e2e::*;

#[path = "../../../../crates/switchboard-hub/benches/support/perf_md.rs"]
mod perf_md;

/// (RSS, PSS) in KiB of a process and its descendants.
fn memory_tree(pid: u32) -> (u64, u64) {
    process_tree(pid)
        .into_iter()
        .filter_map(memory)
        .fold((0, 0), |(rss, pss), (r, p)| (rss + r, pss + p))
}

async fn dom(app: &fantoccini::Client, script: &str) -> Result<serde_json::Value> {
    Ok(app.execute(script, vec![]).await?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let chats: usize = std::env::var("BENCH_CHATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let _recorder = Recorder::start().await?;
    let hub = Hub::start()?;
    let channel = hub.channel("whatsapp", "WA").await?;
    let (_, boss) = hub
        .employee(json!({"name": "Vera", "role": "supervisor"}))
        .await?;
    let t = Instant::now();
    for batch in 0..chats.div_ceil(1000) {
        let messages: Vec<_> = (batch * 1000..((batch + 1) * 1000).min(chats))
            .map(|i| {
                json!({"messageId": format!("seed-{i}"), "channelId": channel, "chatType": "whatsapp",
                    "chatId": format!("7916{i:07}"),
                    "dateTime": format!("2026-11-{:02}T{:02}:{:02}:00.000Z", 1 + i / 5000, (i / 60) % 24, i % 60),
                    "type": "text", "status": "inbound", "text": format!("Здравствуйте, заказ {i}"),
                    "contact": {"name": format!("Клиент {i}")}})
            })
            .collect();
        let status = hub.webhook(json!({ "messages": messages })).await?;
        anyhow::ensure!(status == 200, "seeding: the webhook answered {status}");
    }
    println!(
        "seeded {chats} chats through the webhook in {:.1?}",
        t.elapsed()
    );

    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let started = Instant::now();
    sign_in(&app, &hub.url, &boss, "Vera").await?;
    let signed_in = started.elapsed();
    until("the first chat row", Duration::from_secs(300), || async {
        Ok(!chat_rows(&app).await?.is_empty())
    })
    .await?;
    let first_row = started.elapsed();
    let total = format!("{chats}");
    until("the whole list", Duration::from_secs(300), || async {
        let v = dom(
            &app,
            "return document.querySelector('[data-testid=chat-list]')?.dataset.total ?? ''",
        )
        .await?;
        Ok(v.as_str() == Some(total.as_str()))
    })
    .await?;
    let whole = started.elapsed();
    let (_, pss_synced) = memory_tree(pid_of_profile(data.path()).context("app pid")?);

    let mut arrivals = Vec::new();
    for n in 0..5 {
        let marker = format!("volume marker {n}");
        let t = Instant::now();
        hub.webhook(json!({"messages": [{"messageId": format!("marker-{n}"), "channelId": channel,
            "chatType": "whatsapp", "chatId": format!("7916{:07}", n * 7919 % chats),
            "dateTime": format!("2026-12-01T10:00:{n:02}.000Z"), "type": "text", "status": "inbound",
            "text": marker}]}))
            .await?;
        until("the new message on top", Duration::from_secs(60), || async {
            let v = dom(&app, "return document.querySelector('[data-testid=chat-row] .preview')?.textContent ?? ''").await?;
            Ok(v.as_str().is_some_and(|t| t.contains(&marker)))
        })
        .await?;
        arrivals.push(t.elapsed());
    }
    arrivals.sort();
    let rows = dom(
        &app,
        "return document.querySelectorAll('[data-testid=chat-row]').length",
    )
    .await?;
    // Jumps through the list: each time until the rows of the place scrolled to are painted.
    let mut jumps = Vec::new();
    for step in 1..=20 {
        let at = step * 84 * chats / 21;
        let t = Instant::now();
        dom(
            &app,
            &format!("document.querySelector('[data-testid=chat-list]').scrollTop = {at};"),
        )
        .await?;
        until("the rows scrolled to", Duration::from_secs(30), || async {
            let v = dom(
                &app,
                "const l = document.querySelector('[data-testid=chat-list]'); \
                return [...document.querySelectorAll('[data-testid=chat-row]')] \
                  .some(r => { const top = parseFloat(r.parentElement.style.top); \
                    return top >= l.scrollTop - 84 && top <= l.scrollTop + 84; });",
            )
            .await?;
            Ok(v.as_bool() == Some(true))
        })
        .await?;
        jumps.push(t.elapsed());
    }
    jumps.sort();
    let rows_scrolled = dom(
        &app,
        "return document.querySelectorAll('[data-testid=chat-row]').length",
    )
    .await?;
    let (rss, pss) = memory_tree(pid_of_profile(data.path()).context("app pid")?);
    let _ = screenshot(&app, "volume-bench.png").await;
    println!(
        "{chats} chats: signed in {signed_in:.2?}; first row {first_row:.2?}; whole list known {whole:.2?}; \
         new message → row: median {:.2?}, max {:.2?}; DOM rows {rows} (after 20 jumps {rows_scrolled}; \
         a jump → its rows painted: median {:.2?}, max {:.2?}); \
         app + WebKit PSS {} MiB after sync, {} MiB at the end (RSS {} MiB); times polled every 100 ms",
        arrivals[arrivals.len() / 2],
        arrivals[arrivals.len() - 1],
        jumps[jumps.len() / 2],
        jumps[jumps.len() - 1],
        pss_synced / 1024,
        pss / 1024,
        rss / 1024
    );
    perf_md::record_as(
        "cargo run --release -p switchboard-e2e --bin volume-bench",
        &format!("the real app (release) against a hub of {chats} chats, a supervisor"),
        &format!(
            "Connect → first row {:.1} s; new message → row median {:.2} s; a jump → rows painted median {:.2} s; {rows} rows in the DOM; app + WebKit PSS {} MiB (times polled every 100 ms)",
            first_row.as_secs_f64(),
            arrivals[arrivals.len() / 2].as_secs_f64(),
            jumps[jumps.len() / 2].as_secs_f64(),
            pss / 1024
        ),
    );
    app.close().await?;
    Ok(())
}

//! The real app against a hub at volume: `BENCH_CHATS` chats (default 100 000; one client
//! message each, through the hub's webhook in deliveries of 1 000) and a supervisor who sees
//! them all; the newest chat has 50 messages. Times Connect → first chat row painted and → the
//! whole list known, a new client message → its row on top, jumps through the list, opening the
//! chat of 50 messages, and counts the DOM's rows; sums the PSS of the app and its WebKit
//! processes after the sync and around 1 000 chat switches and 100 list scrolls. Prints
//! figures, asserts nothing.
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

/// Clicks a row of the list (`row`: a JS expression) and waits until its conversation is shown
/// (with `messages` messages); the ms it took.
async fn open(app: &fantoccini::Client, row: &str, messages: Option<usize>) -> Result<f64> {
    let shown = format!(
        "document.querySelector('[data-testid=conversation] h2')?.textContent === \
         {row}.querySelector('[data-testid=chat-title]').textContent"
    );
    let done = match messages {
        Some(m) => {
            format!("{shown} && document.querySelectorAll('[data-testid=message]').length === {m}")
        }
        None => shown,
    };
    timed(app, &format!("{row}.click()"), &done).await
}

/// The list's row `n` of those in the DOM.
fn nth_row(n: usize) -> String {
    format!("document.querySelectorAll('[data-testid=chat-row]')[{n}]")
}

/// The list's row titled `title` (it must be in the DOM).
fn row_titled(title: &str) -> String {
    format!(
        "[...document.querySelectorAll('[data-testid=chat-row]')].find(r => \
         r.querySelector('[data-testid=chat-title]').textContent === {title:?})"
    )
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
    hub.seed_clients(&channel, chats).await?;
    // The newest chat has a conversation of 50 messages (what "open a chat" times).
    let newest = format!("7916{:07}", chats - 1);
    let more: Vec<_> = (1..50)
        .map(|k| {
            json!({"messageId": format!("history-{k}"), "channelId": channel, "chatType": "whatsapp",
                "chatId": newest, "dateTime": format!("2026-11-30T23:{:02}:00.000Z", k),
                "type": "text", "status": "inbound", "text": format!("Ещё вопрос {k}")})
        })
        .collect();
    anyhow::ensure!(hub.webhook(json!({ "messages": more })).await? == 200);
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
    // Polled as fast as WebDriver answers (each poll is one round trip).
    loop {
        if !chat_rows(&app).await?.is_empty() {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(300), "no first row");
    }
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
    let pid = pid_of_profile(data.path()).context("app pid")?;
    let (rss, pss) = memory_tree(pid);
    let _ = screenshot(&app, "volume-bench.png").await;

    // Back to the top; opening a chat of 50 messages, from another one, 20 times.
    dom(
        &app,
        "document.querySelector('[data-testid=chat-list]').scrollTop = 0;",
    )
    .await?;
    // The top's own rows, not those still painted where the list was (the newest chat's).
    let newest_row = format!("return !!{}", row_titled(&format!("Клиент {}", chats - 1)));
    until("the top rows", Duration::from_secs(30), || async {
        Ok(dom(&app, &newest_row).await?.as_bool() == Some(true))
    })
    .await?;
    let mut opens = Vec::new();
    for _ in 0..20 {
        open(&app, &nth_row(8), None).await?;
        opens.push(
            open(
                &app,
                &row_titled(&format!("Клиент {}", chats - 1)),
                Some(50),
            )
            .await?,
        );
    }
    let (open_median, open_p95) = median_p95(opens);
    // 1 000 chat switches and 100 list scrolls: the memory must stay flat.
    let (_, pss_before) = memory_tree(pid);
    let mut switches = Vec::new();
    for i in 0..1000 {
        switches.push(open(&app, &nth_row(i % 8), None).await?);
    }
    let (_, pss_switched) = memory_tree(pid);
    for step in 0..100 {
        let at = (step * 7919 % 100) * 84 * chats / 100;
        timed(
            &app,
            &format!("document.querySelector('[data-testid=chat-list]').scrollTop = {at}"),
            "(() => { const l = document.querySelector('[data-testid=chat-list]'); \
               return [...document.querySelectorAll('[data-testid=chat-row]')].some(r => { \
                 const top = parseFloat(r.parentElement.style.top); \
                 return top >= l.scrollTop - 84 && top <= l.scrollTop + 84; }); })()",
        )
        .await?;
    }
    let (_, pss_scrolled) = memory_tree(pid);
    let (switch_median, switch_p95) = median_p95(switches);
    let growth = (pss_scrolled as f64 / pss_before as f64 - 1.0) * 100.0;
    println!(
        "open a chat of 50 messages: median {open_median:.0} ms, p95 {open_p95:.0} ms; \
         1 000 chat switches: median {switch_median:.0} ms, p95 {switch_p95:.0} ms; \
         PSS before {} MiB, after the switches {} MiB, after 100 scrolls {} MiB ({growth:+.1} %)",
        pss_before / 1024,
        pss_switched / 1024,
        pss_scrolled / 1024
    );
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
            "Connect → first row {:.2} s, whole list {:.1} s; new message → row median {:.2} s; a jump → rows painted median {:.2} s; open a chat of 50 messages median {open_median:.0} ms, p95 {open_p95:.0} ms; {rows} rows in the DOM; app + WebKit PSS {} MiB, over 1 000 chat switches and 100 scrolls {} → {} MiB ({growth:+.1} %)",
            first_row.as_secs_f64(),
            whole.as_secs_f64(),
            arrivals[arrivals.len() / 2].as_secs_f64(),
            jumps[jumps.len() / 2].as_secs_f64(),
            pss / 1024,
            pss_before / 1024,
            pss_scrolled / 1024
        ),
    );
    app.close().await?;
    Ok(())
}

//! The real app with clients' files: a chat of `BENCH_IMAGES` photos (default 200, each its
//! own file on the hub, fetched from the provider fake), then a 10 MB document sent by the
//! attach button. Times opening the chat → its newest photos painted, and scrolling back
//! through all of them; sums the PSS of the app and its WebKit processes before the chat is
//! opened, after it and after every photo was shown; while the 10 MB file goes, the longest
//! gap between two frames of the page (a frozen UI would show it). Prints figures, asserts
//! nothing.
//! `cargo build --release -p switchboard -p switchboard-hub -p provider-fake && \
//!  SWITCHBOARD_APP=target/release/switchboard SWITCHBOARD_HUB=target/release/switchboard-hub \
//!  xvfb-run -a dbus-run-session -- cargo run --release -p switchboard-e2e --bin media-bench`

use anyhow::{Context, Result};
use serde_json::json;
use std::time::{Duration, Instant};
use switchboard_e2e::*;

#[path = "../../../../crates/switchboard-hub/benches/support/perf_md.rs"]
mod perf_md;

fn pss_mib(pid: u32) -> f64 {
    process_tree(pid)
        .into_iter()
        .filter_map(memory)
        .map(|(_, pss)| pss)
        .sum::<u64>() as f64
        / 1024.0
}

async fn number(app: &fantoccini::Client, js: &str) -> Result<f64> {
    Ok(app.execute(js, vec![]).await?.as_f64().unwrap_or(0.0))
}

/// Photos in the conversation that are painted (loaded, with pixels).
const PAINTED: &str = "return [...document.querySelectorAll('[data-testid=media-image]')].filter(i => i.complete && i.naturalWidth > 0).length;";
/// Photos in view that are not painted yet.
const WAITING_IN_VIEW: &str = "const l = document.querySelector('.messages').getBoundingClientRect(); \
    return [...document.querySelectorAll('[data-testid=media-image]')].filter(i => { const r = i.getBoundingClientRect(); \
    return r.bottom > l.top && r.top < l.bottom && !(i.complete && i.naturalWidth > 0); }).length;";

#[tokio::main]
async fn main() -> Result<()> {
    let images: usize = std::env::var("BENCH_IMAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let (fake, hub, channel, token) = provider_workspace().await?;
    // The client sends the photos, 50 per delivery; each is its own file on the hub.
    for batch in 0..images.div_ceil(50) {
        let messages: Vec<_> = (batch * 50..((batch + 1) * 50).min(images))
            .map(|i| {
                json!({"messageId": format!("photo-{i}"), "channelId": channel, "chatType": "whatsapp",
                    "chatId": "79164569812", "dateTime": format!("2026-12-06T10:{:02}:{:02}.000Z", i / 60, i % 60),
                    "type": "image", "status": "inbound", "contact": {"name": "Ирина"},
                    "contentUri": format!("{}/_fake/media/invoice-photo.png?filename=photo-{i}.png", fake.url)})
            })
            .collect();
        anyhow::ensure!(hub.webhook(json!({ "messages": messages })).await? == 200);
    }
    let http = reqwest::Client::new();
    until(
        "the hub keeps every photo",
        Duration::from_secs(120),
        || async {
            let chats: serde_json::Value = http
                .get(format!("{}/api/v1/chats", hub.url))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            let Some(chat) = chats[0]["id"].as_str() else {
                return Ok(false);
            };
            let m: serde_json::Value = http
                .get(format!(
                    "{}/api/v1/chats/{chat}/messages?limit=500",
                    hub.url
                ))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            Ok(m.as_array().is_some_and(|a| {
                a.len() == images && a.iter().all(|m| m["media"]["state"] == "stored")
            }))
        },
    )
    .await?;

    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    sign_in(&app, &hub.url, &token, "Selma Seller").await?;
    until("the chat row", Duration::from_secs(30), || async {
        Ok(chat_rows(&app).await?.iter().any(|r| r.0 == "Ирина"))
    })
    .await?;
    let pid = pid_of_profile(data.path()).context("app pid")?;
    tokio::time::sleep(Duration::from_secs(2)).await; // settle before measuring; not a test
    let pss_before = pss_mib(pid);
    let started = Instant::now();
    click(&app, "[data-testid=chat-row]").await?;
    until(
        "the newest photos painted",
        Duration::from_secs(60),
        || async {
            Ok(number(&app, PAINTED).await? >= 1.0 && number(&app, WAITING_IN_VIEW).await? == 0.0)
        },
    )
    .await?;
    let open = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pss_open = pss_mib(pid);
    // Back through the whole conversation: older history comes from the hub as it scrolls up.
    let started = Instant::now();
    until("every photo shown", Duration::from_secs(300), || async {
        app.execute(
            "const l = document.querySelector('.messages'); l.scrollTop = 0; l.dispatchEvent(new Event('scroll'));",
            vec![],
        )
        .await?;
        let all = number(&app, "return document.querySelectorAll('[data-testid=media-image]').length;").await?;
        Ok(all as usize >= images && number(&app, WAITING_IN_VIEW).await? == 0.0)
    })
    .await?;
    // Then down again, each screen painted on the way.
    let screens = number(&app, "const l = document.querySelector('.messages'); return Math.ceil(l.scrollHeight / l.clientHeight);").await?;
    for s in 0..=(screens as usize) {
        app.execute(
            &format!("const l = document.querySelector('.messages'); l.scrollTop = {s} * l.clientHeight;"),
            vec![],
        )
        .await?;
        until(
            "a screen of photos painted",
            Duration::from_secs(30),
            || async { Ok(number(&app, WAITING_IN_VIEW).await? == 0.0) },
        )
        .await?;
    }
    let through = started.elapsed();
    // Far photos are let go (their boxes stay): those held now are the ones around the reader.
    let held = number(&app, PAINTED).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pss_all = pss_mib(pid);

    // A 10 MB document by the attach button, while the page counts its frames.
    let file = data.path().join("report.pdf");
    let mut bytes = b"%PDF-1.4\n".to_vec();
    bytes.resize(switchboard_core::SEND_MAX_BYTES as usize, b'7');
    std::fs::write(&file, &bytes)?;
    app.execute(
        "window.__gap = 0; let last = performance.now(); const f = (t) => { window.__gap = Math.max(window.__gap, t - last); last = t; if (!window.__stop) requestAnimationFrame(f); }; requestAnimationFrame(f);",
        vec![],
    )
    .await?;
    app.find(fantoccini::Locator::Css("[data-testid=attach-input]"))
        .await?
        .send_keys(&file.to_string_lossy())
        .await?;
    until(
        "the file waits to be sent",
        Duration::from_secs(30),
        || async {
            Ok(number(
                &app,
                "return document.querySelectorAll('[data-testid=attached-file]').length;",
            )
            .await?
                == 1.0)
        },
    )
    .await?;
    let started = Instant::now();
    click(&app, "[data-testid=send]").await?;
    until(
        "the provider downloads the file",
        Duration::from_secs(60),
        || async {
            Ok(fake
                .fetched()
                .await?
                .iter()
                .any(|f| f["size"].as_u64() == Some(bytes.len() as u64)))
        },
    )
    .await?;
    let sent = started.elapsed();
    let gap = number(&app, "window.__stop = true; return window.__gap;").await?;
    let pss_sent = pss_mib(pid);
    let figure = format!(
        "open a chat of {images} photos → the newest painted {} ms; back through all of them and down again {:.1} s ({screens} screens, each painted; {held} photos held at the end); app + WebKit PSS {pss_before:.0} MiB before, {pss_open:.0} MiB open, {pss_all:.0} MiB after every photo; a 10 MB document by the attach button → downloaded by the provider {} ms, the page's longest frame gap meanwhile {gap:.0} ms, PSS after {pss_sent:.0} MiB",
        open.as_millis(),
        through.as_secs_f64(),
        sent.as_millis(),
    );
    println!("app {}: {figure}", app_binary()?.display());
    perf_md::record_as(
        "cargo run --release -p switchboard-e2e --bin media-bench",
        "the real app with clients' files (release, Xvfb)",
        &figure,
    );
    app.close().await?;
    Ok(())
}

//! Ctrl+F in the real app over a desktop that holds `BENCH_MESSAGES` messages (default
//! 2 000 000, in 100 000 chats; the desktop search bench's messages, stored with the desktop's
//! own store code): a supervisor signs in to a hub, the app is closed and the hub stopped, the
//! store is filled, and the app opens again (offline, from what it holds). Then words are typed
//! into the search field a letter at a time; each keystroke from the 2nd letter on (each is a
//! search) is timed from its input event to the frame rendered after the answer for what is
//! typed (a word in every message, a rare one, one in a few hundred, numbers), and from the 3rd
//! letter the answer is checked (found; the rare word once). The floor: a first letter, which searches nothing (the page's own round
//! trip). Prints figures and sums the PSS of the app and its WebKit processes.
//! `cargo build --release -p switchboard -p switchboard-hub && SWITCHBOARD_APP=target/release/switchboard \
//!  SWITCHBOARD_HUB=target/release/switchboard-hub xvfb-run -a dbus-run-session -- \
//!  cargo run --release -p switchboard-e2e --features search-bench --bin search-bench`

use anyhow::{Context, Result};
use serde_json::json;
use std::time::{Duration, Instant};
use switchboard_desktop::local::LocalStore;
use switchboard_e2e::*;
use switchboard_wire::{Change, MessageView, SyncResponse};

#[path = "../../../../crates/switchboard-hub/benches/support/perf_md.rs"]
mod perf_md;
#[path = "../../../../src-tauri/benches/support/seed.rs"]
mod seed;

/// Words typed, a letter at a time: in every message, in one, in ~1 of 5 000, a number, in ~1
/// of 4, and a number whose first 3 digits begin 11 000 words (past the 512 a beginning is
/// written out as: FTS5 merges them).
const TYPED: [&str; 6] = ["заказ", "жираф", "iphone", "10234", "доставка", "1005"];

/// Types `typed` into the search field (as one input event); the ms to the frame rendered after
/// the answer for it.
async fn keystroke(app: &fantoccini::Client, typed: &str) -> Result<f64> {
    timed_to_paint(
        app,
        &format!(
            "const f = document.querySelector('[data-testid=search]'); f.value = {typed:?}; \
             f.dispatchEvent(new Event('input', {{ bubbles: true }}))"
        ),
        &format!(
            "document.querySelector('[data-testid=search-results]')?.dataset.query === {typed:?}"
        ),
    )
    .await
}

#[tokio::main]
async fn main() -> Result<()> {
    let total: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let chats = (total / 20).max(1);
    let _recorder = Recorder::start().await?;
    let mut hub = Hub::start()?;
    let (_, boss) = hub
        .employee(json!({"name": "Vera", "role": "supervisor"}))
        .await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    sign_in(&app, &hub.url, &boss, "Vera").await?;
    app.close().await?;
    until("the app gone", Duration::from_secs(30), || async {
        Ok(pid_of_profile(data.path()).is_none())
    })
    .await?;
    hub.stop();

    // What the desktop holds: its store, filled as the desktop's own code fills it.
    let t = Instant::now();
    {
        let store = LocalStore::open(&data.path().join("local.db"))?;
        for page in (0..chats).collect::<Vec<_>>().chunks(1_000) {
            store.apply(&SyncResponse {
                changes: page
                    .iter()
                    .map(|i| Change::Chat {
                        chat: seed::chat(*i),
                    })
                    .collect(),
                cursor: 0,
                has_more: false,
                ..Default::default()
            })?;
        }
        for batch in (0..total).collect::<Vec<_>>().chunks(10_000) {
            let ms: Vec<MessageView> = batch.iter().map(|i| seed::message(*i, chats)).collect();
            store.put_messages(&ms)?;
        }
    }
    println!(
        "stored {chats} chats and {total} messages in {:.1?}",
        t.elapsed()
    );

    let app = driver.launch(data.path()).await?;
    let started = Instant::now();
    until("the list, offline", Duration::from_secs(120), || async {
        Ok(!chat_rows(&app).await?.is_empty())
    })
    .await?;
    println!(
        "the app reopened offline: first row {:.2?}",
        started.elapsed()
    );
    click(&app, "[data-testid=search]").await?;
    let mut keystrokes = Vec::new();
    let mut floor = Vec::new();
    let mut worst: Vec<(String, f64)> = Vec::new();
    for word in TYPED {
        let letters: Vec<char> = word.chars().collect();
        let mut times = Vec::new();
        for n in 1..=letters.len() {
            if n == 1 {
                // One letter searches nothing (too short): the page's own round trip, the floor.
                floor.push(keystroke(&app, &letters[0].to_string()).await?);
                continue;
            }
            let typed: String = letters[..n].iter().collect();
            let ms = keystroke(&app, &typed).await?;
            // The answer is checked, not only timed: from 3 letters on, each word is found (two
            // letters are looked for as a whole word, which these may not be).
            let hits = dom(
                &app,
                "return document.querySelectorAll('[data-testid=search-hit]').length",
            )
            .await?
            .as_u64()
            .unwrap_or(0);
            anyhow::ensure!(n < 3 || hits > 0, "nothing found for «{typed}»");
            times.push(ms);
        }
        let hits = dom(
            &app,
            "return document.querySelectorAll('[data-testid=search-hit]').length",
        )
        .await?;
        anyhow::ensure!(
            word != "жираф" || hits == 1,
            "the rare word is in one message, {hits} shown"
        );
        println!(
            "typing «{word}»: {} ms a keystroke from the 2nd letter ({hits} hits shown at the end)",
            times
                .iter()
                .map(|t| format!("{t:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        worst.push((word.to_string(), times.iter().copied().fold(0.0, f64::max)));
        keystrokes.extend(times);
        if word == TYPED[TYPED.len() - 1] {
            let _ = screenshot(&app, "search-bench.png").await;
        }
        // Cleared: the next word is a new search.
        dom(
            &app,
            "const f = document.querySelector('[data-testid=search]'); f.value = ''; \
             f.dispatchEvent(new Event('input', { bubbles: true }));",
        )
        .await?;
    }
    let (median, p95) = median_p95(keystrokes.clone());
    let (floor_median, _) = median_p95(floor.clone());
    let (_, pss) = memory_tree(pid_of_profile(data.path()).context("app pid")?);
    println!(
        "{} keystrokes from a word's 2nd letter: input event → answer rendered median {median:.0} ms, p95 {p95:.0} ms, max {:.0} ms; floor (a first letter, which searches nothing) median {floor_median:.0} ms ({:.1}×); app + WebKit PSS {} MiB",
        keystrokes.len(),
        keystrokes.iter().copied().fold(0.0, f64::max),
        median / floor_median.max(0.1),
        pss / 1024
    );
    perf_md::record_as(
        "cargo run --release -p switchboard-e2e --features search-bench --bin search-bench",
        &format!("Ctrl+F in the real app (release, offline) holding {total} messages in {chats} chats: a keystroke (input event) → its answer rendered (the frame after it)"),
        &format!(
            "from a word's 2nd letter, each a search (answers checked from the 3rd): median {median:.0} ms, p95 {p95:.0} ms over {} keystrokes (the slowest of each word: {}); floor, a first letter that searches nothing: median {floor_median:.0} ms ({:.1}×); app + WebKit PSS {} MiB",
            keystrokes.len(),
            worst
                .iter()
                .map(|(w, ms)| format!("«{w}» {ms:.0} ms"))
                .collect::<Vec<_>>()
                .join(", "),
            median / floor_median.max(0.1),
            pss / 1024
        ),
    );
    app.close().await?;
    Ok(())
}

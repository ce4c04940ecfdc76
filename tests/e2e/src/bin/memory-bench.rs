//! Memory of the real app on the demo workspace: opens the demo as the supervisor, waits 10 s,
//! then sums RSS and PSS of the app and its WebKit processes; then starts the app again on the
//! same profile and times its cold start to the painted chat list. Prints figures, asserts
//! nothing.
//! `SWITCHBOARD_APP=target/release/switchboard xvfb-run -a dbus-run-session -- \
//!  cargo run --release -p switchboard-e2e --bin memory-bench`

use anyhow::{Context, Result};
use std::time::{Duration, Instant};
use switchboard_e2e::*;

fn name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[tokio::main]
async fn main() -> Result<()> {
    let _recorder = Recorder::start().await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let started = Instant::now();
    let app = driver.launch(data.path()).await?;
    let launched = started.elapsed();
    click(&app, "[data-testid=open-demo]").await?;
    click(&app, "[data-testid=demo-employee][data-role=supervisor]").await?;
    until("the demo's chats", Duration::from_secs(30), || async {
        Ok(chat_rows(&app).await?.len() >= 5)
    })
    .await?;
    let shown = started.elapsed();
    tokio::time::sleep(Duration::from_secs(10)).await; // the measurement is "after 10 s"; not a test
    let pid = pid_of_profile(data.path()).context("app pid")?;
    let tree = process_tree(pid);
    let (mut rss, mut pss) = (0, 0);
    for p in &tree {
        if let Some((r, s)) = memory(*p) {
            println!(
                "  {:<24} pid {p:>7}: RSS {:>7} KiB  PSS {:>7} KiB",
                name(*p),
                r,
                s
            );
            rss += r;
            pss += s;
        }
    }
    println!(
        "app {}: window+session {:.2?}, demo chats shown {:.2?}; after 10 s: {} processes, RSS {} MiB, PSS {} MiB",
        app_binary()?.display(),
        launched,
        shown,
        tree.len(),
        rss / 1024,
        pss / 1024
    );
    app.close().await?;
    // Cold start: the app started again on the same profile resumes the demo session and paints
    // its chat list from the local store (the WebDriver session's start counts in: an upper
    // bound of what a user sees).
    let started = Instant::now();
    let app = driver.launch(data.path()).await?;
    let window = started.elapsed();
    until(
        "the chat list after a restart",
        Duration::from_secs(30),
        || async { Ok(!chat_rows(&app).await?.is_empty()) },
    )
    .await?;
    println!(
        "cold start on the demo: window {:.2?}, chat list painted {:.2?}",
        window,
        started.elapsed()
    );
    app.close().await?;
    Ok(())
}

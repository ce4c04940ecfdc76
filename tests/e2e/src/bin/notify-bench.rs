//! Webhook → `Notify` on D-Bus with the real desktop app: p50/p95/p99 over 100 client messages.
//! Prints figures, asserts nothing. Run under a display and a private bus:
//! `xvfb-run -a dbus-run-session -- cargo run --release -p switchboard-e2e --bin notify-bench`
//! (after `make build`; it drives target/debug/switchboard).

use anyhow::Result;
use serde_json::json;
use std::time::{Duration, Instant};
use switchboard_e2e::*;

#[tokio::main]
async fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let recorder = Recorder::start().await?;
    let hub = Hub::start()?;
    let channel_id = hub.channel("whatsapp", "WA").await?;
    let (_, token) = hub
        .employee(json!({"name": "Bench", "role": "seller", "receives_new_clients": true}))
        .await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    sign_in(&app, &hub.url, &token, "Bench").await?;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let before = recorder.calls().len();
        let phone = format!("7916{:07}", i);
        let t0 = Instant::now();
        let status = hub
            .webhook(client_message(
                &format!("nb{i}"),
                &channel_id,
                &phone,
                &format!("Client {i}"),
                "ping",
            ))
            .await?;
        anyhow::ensure!(status == 200, "webhook answered {status}");
        until("the Notify call", Duration::from_secs(10), || async {
            Ok(recorder.calls().len() > before)
        })
        .await?;
        let call = recorder.calls()[before].clone();
        samples.push(call.at.duration_since(t0));
    }
    app.close().await?;
    // Where the slowest one was (the first message pays for connecting to the bus).
    let slowest = samples
        .iter()
        .enumerate()
        .max_by_key(|(_, d)| **d)
        .map_or(0, |(i, _)| i);
    let first = samples.first().copied().unwrap_or_default();
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "webhook → Notify on D-Bus (real app, debug build): n={n} p50={:.1?} p95={:.1?} p99={:.1?} max={:.1?} \
         (message #{slowest}); the first message {first:.1?}",
        p(0.5),
        p(0.95),
        p(0.99),
        samples[samples.len() - 1]
    );
    Ok(())
}

//! Send throughput through the hub to the provider fake over loopback HTTP, and the time from
//! `POST /api/v1/messages` to the message showing `sent` (the provider's status webhook
//! applied). 50 senders, each writing first and then replying in its own chat:
//! - steady: each sender one message a second (50/s, under the provider's limit) — latency;
//! - burst: each sender 20 messages back to back — throughput at the provider's limit;
//! - burst without the provider's limit and with our pace lifted — the hub's own ceiling.
//!
//! Run: `cargo bench -p switchboard-hub --bench send` (prints figures; asserts nothing).

use provider_fake::{FakeChannel, FakeConfig};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_hub::api::EdgeHub;
use switchboard_hub::provider::ProviderConfig;
use switchboard_hub::{start, HubEvent, ServeConfig};

const SENDERS: usize = 50;
const KEY: &str = "bench-key";

#[path = "support/perf_md.rs"]
mod perf_md;

/// One run's figures: messages/s end to end, send → sent p50 and p95, duplicates.
struct Figures {
    rate: f64,
    p50: Duration,
    p95: Duration,
    duplicates: usize,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    println!("send bench: {SENDERS} concurrent senders, hub → provider fake (loopback HTTP)");
    let steady = run(
        "steady: 50 senders × 10 messages, one a second each (provider limit 500 / 5 s)",
        500,
        450,
        10,
        Duration::from_secs(1),
    )
    .await?;
    let burst = run(
        "burst: 50 senders × 20 messages back to back (provider limit 500 / 5 s)",
        500,
        450,
        20,
        Duration::ZERO,
    )
    .await?;
    let ceiling = run(
        "burst without the provider's limit, our pace lifted (the hub's own ceiling)",
        u32::MAX,
        usize::MAX,
        20,
        Duration::ZERO,
    )
    .await?;
    perf_md::record(
        "send",
        &format!("sends hub → provider fake, {SENDERS} senders"),
        &format!(
            "steady {:.0} msg/s: send → `sent` p50 {:.0} ms, p95 {:.0} ms; burst at the provider's limit {:.0} msg/s; ceiling {:.0} msg/s; {} duplicates",
            steady.rate,
            steady.p50.as_secs_f64() * 1e3,
            steady.p95.as_secs_f64() * 1e3,
            burst.rate,
            ceiling.rate,
            steady.duplicates + burst.duplicates + ceiling.duplicates
        ),
    );
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn run(
    label: &str,
    rate_limit: u32,
    pace: usize,
    per_sender: usize,
    every: Duration,
) -> anyhow::Result<Figures> {
    let mut config = FakeConfig::new(
        KEY,
        vec![FakeChannel::parse("whatsapp:79990000001:active").map_err(anyhow::Error::msg)?],
    );
    config.status_step = Duration::ZERO;
    config.rate_limit = rate_limit;
    let fake = provider_fake::start(([127, 0, 0, 1], 0).into(), config).await?;
    let wa = fake.fake.channels()[0].channel_id.clone();
    let dir = tempfile::tempdir()?;
    let hub = start(ServeConfig {
        provider: Some(ProviderConfig {
            pace_per_5s: pace,
            ..ProviderConfig::new(&fake.url, KEY, Duration::from_secs(10))
        }),
        ..ServeConfig::new(dir.path().to_owned(), ([127, 0, 0, 1], 0).into(), false)
    })
    .await?;
    let http = reqwest::Client::new();
    let admin = hub.admin_token.clone();
    loop {
        let v: Value = http
            .get(format!("{}/api/v1/channels", hub.url))
            .bearer_auth(&admin)
            .send()
            .await?
            .json()
            .await?;
        if v.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut tokens = Vec::new();
    for i in 0..SENDERS {
        let v: Value = http
            .post(format!("{}/api/v1/employees", hub.url))
            .bearer_auth(&admin)
            .json(&json!({"name": format!("Seller {i}"), "role": "seller", "receives_new_clients": false}))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(v["token"].as_str().unwrap_or_default().to_owned());
    }

    // When each of our messages first shows `sent` (or later) in the hub's store.
    let reached: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let watcher = {
        let reached = reached.clone();
        let hub = hub.hub.clone();
        let mut rx = hub.subscribe();
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match rx.recv().await {
                    // Missed some: the query below catches up all the same.
                    Ok(HubEvent::Change(_)) | Err(RecvError::Lagged(_)) => {}
                    Ok(_) => continue,
                    Err(RecvError::Closed) => return,
                }
                let ids = hub
                    .read(|c| {
                        let mut stmt = c.prepare(
                            "SELECT id FROM messages WHERE direction = 'out' AND status IN ('sent', 'delivered', 'read')",
                        )?;
                        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
                        Ok(ids.collect::<rusqlite::Result<Vec<_>>>()?)
                    })
                    .await
                    .unwrap_or_default();
                let now = Instant::now();
                let mut reached = reached.lock().unwrap_or_else(|p| p.into_inner());
                for id in ids {
                    reached.entry(id).or_insert(now);
                }
            }
        })
    };

    let started = Instant::now();
    let mut senders = Vec::new();
    for (n, token) in tokens.into_iter().enumerate() {
        let (http, url, wa) = (http.clone(), hub.url.clone(), wa.clone());
        senders.push(tokio::spawn(async move {
            let mut sent: Vec<(String, Instant)> = Vec::new();
            let mut chat: Option<String> = None;
            let mut tick = tokio::time::interval(every.max(Duration::from_micros(1)));
            for i in 0..per_sender {
                if !every.is_zero() {
                    tick.tick().await;
                }
                let body = match &chat {
                    None => json!({"channel_id": wa, "phone": format!("+7916{:07}", 1_000_000 + n),
                                   "text": format!("hello {n}/{i}"), "idempotency_key": format!("{n}-{i}")}),
                    Some(c) => json!({"chat": c, "text": format!("hello {n}/{i}"), "idempotency_key": format!("{n}-{i}")}),
                };
                let t0 = Instant::now();
                let v: Value = http
                    .post(format!("{url}/api/v1/messages"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?
                    .json()
                    .await?;
                chat = v["chat"].as_str().map(str::to_owned);
                sent.push((v["message_id"].as_str().unwrap_or_default().to_owned(), t0));
            }
            Ok::<_, anyhow::Error>(sent)
        }));
    }
    let mut all = Vec::new();
    for s in senders {
        all.extend(s.await??);
    }
    let accepted_all = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = {
            let reached = reached.lock().unwrap_or_else(|p| p.into_inner());
            all.iter()
                .filter(|(id, _)| reached.contains_key(id))
                .count()
        };
        if done == all.len() {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {done} of {} reached sent (the provider accepted {})",
            all.len(),
            fake.fake.sent().len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    watcher.abort();
    let reached = reached.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut latencies: Vec<Duration> = all
        .iter()
        .filter_map(|(id, t0)| reached.get(id).map(|t| t.duration_since(*t0)))
        .collect();
    latencies.sort();
    let last = all
        .iter()
        .filter_map(|(id, _)| reached.get(id))
        .max()
        .copied()
        .unwrap_or_else(Instant::now);
    let total = last.duration_since(started);
    let provider_got = fake.fake.sent().len();
    println!("\n{label}");
    println!(
        "  {} messages: all accepted by the hub (202) in {:.2} s; all `sent` after {:.2} s → {:.0} messages/s end to end",
        all.len(),
        accepted_all.as_secs_f64(),
        total.as_secs_f64(),
        all.len() as f64 / total.as_secs_f64()
    );
    println!(
        "  send → sent: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; the provider received {provider_got} (duplicates: {})",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.95).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        provider_got.saturating_sub(all.len()),
    );
    hub.stop().await;
    Ok(Figures {
        rate: all.len() as f64 / total.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p95: percentile(&latencies, 0.95),
        duplicates: provider_got.saturating_sub(all.len()),
    })
}

//! Live-path figures over real loopback HTTP (prints, asserts nothing):
//! - webhook accepted → `notify` event at a subscribed client: p50/p95/p99 over 1 000 messages;
//! - settings flip → 50 subscribed clients have synced the new value: p95 over 20 flips.
//!
//! `cargo bench -p switchboard-hub --bench live` (release build).

use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchboard_hub::{start, ServeConfig};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Prints the samples' percentiles; answers (p50, p95, p99) for the figures page.
fn report(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    println!(
        "{name}: n={} p50={:.2?} p95={:.2?} p99={:.2?} max={:.2?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
    (
        percentile(&samples, 0.50),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99),
    )
}

/// Reads SSE events (`event`, `data`) from a response body.
struct Events {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Events {
    async fn open(http: &reqwest::Client, url: &str, token: &str) -> Events {
        let resp = http
            .get(format!("{url}/api/v1/events"))
            .bearer_auth(token)
            .send()
            .await
            .expect("events");
        Events {
            body: Box::pin(resp.bytes_stream()),
            buf: String::new(),
        }
    }

    async fn next(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line
                        .strip_prefix("event: ")
                        .or_else(|| line.strip_prefix("event:"))
                    {
                        event = v.to_owned();
                    } else if let Some(v) = line
                        .strip_prefix("data: ")
                        .or_else(|| line.strip_prefix("data:"))
                    {
                        data.push_str(v);
                    }
                }
                if !event.is_empty() {
                    return (event, data);
                }
                continue;
            }
            let chunk = self.body.next().await.expect("stream open").expect("chunk");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn post(http: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    http.post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json")
}

#[path = "support/perf_md.rs"]
mod perf_md;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let hub = start(ServeConfig::new(dir.path().to_owned(), ([127, 0, 0, 1], 0).into(), false))
            .await
            .expect("hub");
        let http = reqwest::Client::new();
        let admin = hub.admin_token.clone();
        let ch = post(&http, format!("{}/api/v1/channels", hub.url), &admin, json!({"transport": "whatsapp", "name": "WA"})).await;
        let seller = post(&http, format!("{}/api/v1/employees", hub.url), &admin, json!({"name": "S", "role": "seller", "receives_new_clients": true})).await;
        let token = seller["token"].as_str().expect("token").to_owned();
        let webhook = format!("{}/webhooks/provider/{}", hub.url, hub.hub.ingress_secret());

        // 1. webhook → notify.
        let mut events = Events::open(&http, &hub.url, &token).await;
        let mut samples = Vec::with_capacity(1000);
        let total: usize = std::env::var("BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
        for i in 0..total {
            let marker = format!("bench message {i}");
            let body = json!({"messages": [{"messageId": format!("b{i}"), "channelId": ch["id"], "chatType": "whatsapp",
                "chatId": format!("7916{:07}", i % 50), "dateTime": switchboard_hub::clock::now(), "status": "inbound", "text": marker}]});
            let t0 = Instant::now();
            let resp = http.post(&webhook).json(&body).send().await.expect("webhook");
            assert!(resp.status().is_success());
            let wait = async {
                loop {
                    let (event, data) = events.next().await;
                    if event == "notify" && data.contains(&marker) {
                        break;
                    }
                }
            };
            if tokio::time::timeout(Duration::from_secs(10), wait).await.is_err() {
                panic!("no notify for message {i} within 10 s");
            }
            samples.push(t0.elapsed());
            if std::env::var_os("BENCH_TRACE").is_some() && i % 100 == 0 {
                eprintln!("{i} done");
            }
        }
        let notify = report("webhook → notify event (1 subscriber, loopback)", samples);
        eprintln!("part 2: 50 clients");

        // 2. settings flip → 50 clients synced.
        let mut clients = Vec::new();
        for i in 0..50 {
            let e = post(&http, format!("{}/api/v1/employees", hub.url), &admin, json!({"name": format!("E{i}"), "role": "supervisor"})).await;
            let t = e["token"].as_str().expect("token").to_owned();
            let mut ev = Events::open(&http, &hub.url, &t).await;
            ev.next().await; // the initial change
            let cursor = http.get(format!("{}/api/v1/sync?cursor=0", hub.url)).bearer_auth(&t).send().await.expect("sync").json::<Value>().await.expect("json")["cursor"]
                .as_i64()
                .expect("cursor");
            clients.push((t, ev, cursor));
        }
        let mut flips = Vec::new();
        for flip in 0..20 {
            let value = flip % 2 == 0;
            // A person flips a setting now and then: past the live stream's pace (which holds
            // a write back only while writes come faster than it).
            tokio::time::sleep(switchboard_hub::api::CHANGE_PACE).await;
            let t0 = Instant::now();
            let waits = clients.iter_mut().map(|(t, ev, cursor)| {
                let http = http.clone();
                let url = hub.url.clone();
                async move {
                    loop {
                        let (event, _) = ev.next().await;
                        if event != "change" {
                            continue;
                        }
                        let s: Value = http.get(format!("{url}/api/v1/sync?cursor={cursor}")).bearer_auth(&*t).send().await.expect("sync").json().await.expect("json");
                        *cursor = s["cursor"].as_i64().unwrap_or(*cursor);
                        let got = s["changes"].as_array().into_iter().flatten().find(|c| c["type"] == "settings");
                        if got.is_some_and(|c| c["settings"]["notify_supervisors_all"] == value) {
                            return t0.elapsed();
                        }
                    }
                }
            });
            let put = http.put(format!("{}/api/v1/settings", hub.url)).bearer_auth(&admin).json(&json!({"notify_supervisors_all": value})).send();
            let all = tokio::time::timeout(Duration::from_secs(10), futures_util::future::join_all(waits));
            let (times, resp) = tokio::join!(all, put);
            let times = times.unwrap_or_else(|_| panic!("flip {flip}: not every client synced within 10 s"));
            assert!(resp.expect("put").status().is_success());
            flips.extend(times);
        }
        let flip = report("settings flip → 50 clients synced the new value", flips);
        perf_md::record(
            "live",
            "webhook → `notify` at an SSE subscriber; settings flip → 50 clients synced",
            &format!(
                "p50 {:.2} ms, p99 {:.2} ms; flip p95 {:.0} ms",
                notify.0.as_secs_f64() * 1e3,
                notify.2.as_secs_f64() * 1e3,
                flip.1.as_secs_f64() * 1e3
            ),
        );
        hub.stop().await;
    });
}

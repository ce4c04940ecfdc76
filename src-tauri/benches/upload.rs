//! Sending the largest file a channel takes (`core::SEND_MAX_BYTES`, 10 MB) from the desktop's
//! outbox to a real hub on loopback, as the app does: streamed from disk, counted for its
//! progress, kept by the hub (fsync) with its message. Figures: the time from "Send" to the
//! hub's answer and how much the process's peak memory grew meanwhile (the file must never be
//! held whole). The floor, same run, same disk: writing the same bytes to a new file and
//! flushing it, as the hub must at least do.
//! Run: `cargo bench -p switchboard --bench upload` (prints figures and ratios).

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_client::HubClient;
use switchboard_desktop::local::{LocalStore, OutboxFile, OutboxItem};
use switchboard_desktop::sync::{SyncClient, SyncObserver};

#[path = "../../crates/switchboard-hub/benches/support/perf_md.rs"]
mod perf_md;

struct Quiet;
impl SyncObserver for Quiet {
    fn changed(&self, _: &switchboard_desktop::vm::StoreChange) {}
    fn online(&self, _: bool) {}
    fn notify(&self, _: switchboard_wire::NotifyEvent) {}
    fn signed_out(&self) {}
}

/// This process's peak resident memory since the last [`reset_peak`], in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn reset_peak() {
    // "5" resets the peak to the current resident size (proc(5), clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn post(http: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    http.post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let size = switchboard_core::SEND_MAX_BYTES as usize;
    let hub_dir = tempfile::tempdir().expect("tempdir");
    let hub = switchboard_hub::start(switchboard_hub::ServeConfig::new(
        hub_dir.path().to_owned(),
        ([127, 0, 0, 1], 0).into(),
        false,
    ))
    .await
    .expect("hub");
    let http = reqwest::Client::new();
    let channel = post(
        &http,
        format!("{}/api/v1/channels", hub.url),
        &hub.admin_token,
        json!({"transport": "whatsapp", "name": "WA"}),
    )
    .await;
    let seller = post(
        &http,
        format!("{}/api/v1/employees", hub.url),
        &hub.admin_token,
        json!({"name": "S", "role": "seller", "receives_new_clients": true}),
    )
    .await;
    let token = seller["token"].as_str().expect("token").to_owned();
    let sent = post(
        &http,
        format!("{}/api/v1/messages", hub.url),
        &token,
        json!({"channel_id": channel["id"], "phone": "+79164569812", "text": "hi", "idempotency_key": "first"}),
    )
    .await;
    let chat = sent["chat"].as_str().expect("chat").to_owned();
    let local = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(LocalStore::open(&local.path().join("local.db")).expect("store"));
    let client = SyncClient::new(
        HubClient::new(http.clone(), &hub.url, &token),
        store.clone(),
    );
    let dir = store.outbox_dir().expect("outbox").to_owned();
    // A PDF's signature, then bytes that do not compress.
    let mut bytes = b"%PDF-1.4\n".to_vec();
    let mut x: u32 = 2463534242;
    while bytes.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(size);
    let (mut sends, mut floors, mut growth) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // The floor: the same bytes to a new file, flushed.
        let path = local.path().join(format!("floor-{run}"));
        let started = Instant::now();
        tokio::fs::write(&path, &bytes).await.expect("write");
        tokio::fs::File::open(&path)
            .await
            .expect("open")
            .sync_all()
            .await
            .expect("sync");
        floors.push(started.elapsed());
        tokio::fs::remove_file(&path).await.expect("remove");
        // The app's path: the file waits in the outbox (as "Send" leaves it), then goes.
        let key = format!("file-{run}");
        std::fs::write(dir.join(&key), &bytes).expect("outbox file");
        store
            .enqueue(&OutboxItem {
                key: key.clone(),
                chat: Some(chat.clone()),
                channel_id: None,
                phone: None,
                display: None,
                text: String::new(),
                created_at: "2026-12-06T10:00:00.000Z".into(),
                error: None,
                error_code: None,
                error_owner: None,
                file: Some(OutboxFile {
                    name: format!("report-{run}.pdf"),
                    mime: "application/pdf".into(),
                    size: size as u64,
                }),
            })
            .expect("enqueue");
        reset_peak();
        let before = rss_kib();
        let started = Instant::now();
        let taken = client.flush_outbox(&Quiet).await.expect("flush");
        sends.push(started.elapsed());
        assert_eq!(taken.len(), 1, "the hub took the file");
        growth.push(peak_kib().saturating_sub(before));
    }
    let (send, floor) = (median(sends), median(floors));
    growth.sort();
    let grew = growth[growth.len() / 2];
    let mb = size as f64 / (1024.0 * 1024.0);
    println!(
        "{runs} runs of {mb:.0} MB: desktop outbox → hub kept median {send:.2?} ({:.0} MB/s); floor (write + fsync) {floor:.2?}; ratio {:.2}×; peak memory grew {} KiB (max {} KiB) — {:.1} % of the file",
        mb / send.as_secs_f64(),
        send.as_secs_f64() / floor.as_secs_f64(),
        grew,
        growth.last().copied().unwrap_or(0),
        grew as f64 / (size as f64 / 1024.0) * 100.0
    );
    perf_md::record(
        "upload",
        "a 10 MB file (the largest any channel takes) from the desktop's outbox to a hub on loopback, stored with its message",
        &format!(
            "median {} ms ({:.0} MB/s), {:.2}× writing and flushing the same bytes ({} ms); peak memory +{} KiB while it goes ({:.1} % of the file: streamed, never held whole); {runs} runs, desktop and hub in one process",
            send.as_millis(),
            mb / send.as_secs_f64(),
            send.as_secs_f64() / floor.as_secs_f64(),
            floor.as_millis(),
            grew,
            grew as f64 / (size as f64 / 1024.0) * 100.0
        ),
    );
}

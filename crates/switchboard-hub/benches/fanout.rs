//! Settings-flip fan-out at volume: a workspace of `BENCH_CHATS` chats (default 100 000; one
//! client message each, 2 % still unanswered) and 50 supervisors' desktops on the live stream.
//! Each flip of setting 3 is timed until every desktop has synced it, and the sync answers'
//! bytes are summed (desktops colour badges from the chats' facts they hold: a flip sends the
//! settings; the local recolouring is timed by `local_list`). For scale, same run: one supervisor's first sync (the snapshot; before
//! syncs were scoped, every flip made each desktop fetch it again, less its messages).
//! Run: `cargo bench -p switchboard-hub --bench fanout` (prints figures and ratios).

use futures_util::StreamExt;
use std::time::{Duration, Instant};
use switchboard_hub::json::SyncResponse;
use switchboard_hub::{start, ServeConfig};

const DESKTOPS: usize = 50;
const FLIPS: usize = 6;

/// The `cursor` of an SSE `change` event's data.
fn cursor_of(block: &str) -> Option<i64> {
    let data = block.lines().find_map(|l| l.strip_prefix("data:"))?;
    serde_json::from_str::<serde_json::Value>(data.trim()).ok()?["cursor"].as_i64()
}

/// Waits for the next `change` event on a stream; its cursor.
async fn next_change(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
) -> i64 {
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if block.contains("event: change") || block.contains("event:change") {
                if let Some(c) = cursor_of(&block) {
                    return c;
                }
            }
        }
        let chunk = body.next().await.expect("stream open").expect("chunk");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Syncs from `cursor` until the answer is complete (every page of a snapshot too); (new
/// cursor, bytes, saw the value).
async fn sync_all(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    cursor: i64,
    want: bool,
) -> (i64, usize, bool) {
    let mut seen = false;
    let (cursor, bytes) = pages::sync_all(http, url, token, cursor, |body| {
        let s: SyncResponse = serde_json::from_slice(body).expect("sync answer");
        seen |= s.changes.iter().any(|c| {
            matches!(c, switchboard_hub::json::Change::Settings { settings } if settings.notify_supervisors_all == want)
        });
    })
    .await
    .expect("the hub answers");
    (cursor, bytes, seen)
}

#[path = "support/pages.rs"]
mod pages;
#[path = "support/perf_md.rs"]
mod perf_md;
#[path = "support/seed.rs"]
mod seed;

fn main() -> anyhow::Result<()> {
    let chats: usize = std::env::var("BENCH_CHATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    seed::workspace(&dir.path().join("hub.db"), DESKTOPS, chats, 1, 50)?;
    eprintln!("seeded {chats} chats in {:.1?}", t.elapsed());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let hub = start(ServeConfig::new(
            dir.path().to_owned(),
            ([127, 0, 0, 1], 0).into(),
            false,
        ))
        .await?;
        let http = reqwest::Client::new();
        // For scale: one first sync (before, each flip re-sent it to every desktop, less the
        // messages).
        let t = Instant::now();
        let (_, snapshot_bytes, _) = sync_all(&http, &hub.url, "boss-0", 0, false).await;
        let snapshot_time = t.elapsed();
        println!(
            "full snapshot, one supervisor: {snapshot_bytes} bytes in {snapshot_time:.2?}"
        );
        let mut desktops = Vec::new();
        for d in 0..DESKTOPS {
            let token = format!("boss-{d}");
            let resp = http
                .get(format!("{}/api/v1/events", hub.url))
                .bearer_auth(&token)
                .send()
                .await?;
            let mut body = Box::pin(resp.bytes_stream());
            let mut buf = String::new();
            let cursor = next_change(&mut body, &mut buf).await;
            desktops.push((token, body, buf, cursor));
        }
        let (mut times, mut totals) = (Vec::new(), Vec::new());
        for flip in 0..FLIPS {
            let value = flip % 2 == 0;
            // A person flips a setting now and then: past the live stream's pace (which holds
            // a write back only while writes come faster than it).
            tokio::time::sleep(switchboard_hub::api::CHANGE_PACE).await;
            let t0 = Instant::now();
            let put = http
                .put(format!("{}/api/v1/settings", hub.url))
                .bearer_auth(&hub.admin_token)
                .json(&serde_json::json!({ "notify_supervisors_all": value }))
                .send();
            let url = hub.url.clone();
            let waits = desktops.iter_mut().map(|(token, body, buf, cursor)| {
                let (http, url) = (http.clone(), url.clone());
                async move {
                    let mut bytes = 0;
                    loop {
                        next_change(body, buf).await;
                        let (c, b, seen) = sync_all(&http, &url, token, *cursor, value).await;
                        *cursor = c;
                        bytes += b;
                        if seen {
                            return bytes;
                        }
                    }
                }
            });
            let all = tokio::time::timeout(
                Duration::from_secs(120),
                futures_util::future::join_all(waits),
            );
            let (bytes, resp) = tokio::join!(all, put);
            anyhow::ensure!(resp?.status().is_success(), "settings refused");
            let bytes = bytes.map_err(|_| anyhow::anyhow!("flip {flip}: not synced in 120 s"))?;
            let took = t0.elapsed();
            let total: usize = bytes.iter().sum();
            println!("flip {flip}: {DESKTOPS} desktops synced in {took:.2?}, {total} bytes in all");
            times.push(took);
            totals.push(total);
        }
        times.sort();
        totals.sort();
        let (time, total) = (times[FLIPS / 2], totals[FLIPS / 2]);
        let before = snapshot_bytes * DESKTOPS;
        println!(
            "median flip: {time:.2?}, {:.2} MB to {DESKTOPS} desktops; a first sync each: {:.1} MB ({:.0}×)",
            total as f64 / 1e6,
            before as f64 / 1e6,
            before as f64 / total.max(1) as f64
        );
        perf_md::record(
            "fanout",
            &format!("setting-3 flip → {DESKTOPS} supervisors synced, {chats} chats (2 % unanswered; desktops recolour from facts, see local_list)"),
            &format!(
                "median {:.1} ms, {:.1} KB in all (for scale, a first sync each: {:.1} MB; one took {:.2} s)",
                time.as_secs_f64() * 1e3,
                total as f64 / 1e3,
                before as f64 / 1e6,
                snapshot_time.as_secs_f64()
            ),
        );
        hub.stop().await;
        Ok(())
    })
}

//! Reads never hold up writes: a supervisor's full sync (every page) of a 20 000-chat workspace (3 messages
//! each) runs again and again while clients keep writing, one webhook at a time. Times each
//! webhook (request to answer) with the reads on their own read-only connections, and — the
//! floor, same run — with reads sharing the writer's connection as before.
//! Run: `cargo bench -p switchboard-hub --bench readers` (prints figures and the ratio).

use axum::body::Body;
use axum::http::Request;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_hub::store;
use switchboard_hub::{api, db, Hub};
use tower::ServiceExt;

const CHATS: usize = 20_000;
const PER_CHAT: usize = 3;
const WEBHOOKS: usize = 300;

fn seed(path: &std::path::Path) -> anyhow::Result<String> {
    let conn = db::open_hub(path)?;
    store::ensure_workspace(&conn)?;
    store::replace_admin_token(&conn, "admin", &switchboard_hub::clock::now())?;
    conn.execute(
        "INSERT INTO channels (id, transport, name, state, open_lines, sandbox) VALUES ('wa', 'whatsapp', 'WA', 'active', 0, 1)",
        [],
    )?;
    let boss = store::insert_employee(
        &conn,
        &switchboard_hub::json::NewEmployee {
            name: "Boss".into(),
            role: switchboard_core::Role::Supervisor,
            receives_new_clients: false,
            priority_channel_id: None,
            crm_user_id: None,
        },
    )?;
    store::store_token(
        &conn,
        "boss",
        Some(&boss.id),
        &switchboard_hub::clock::now(),
    )?;
    let tx = conn.unchecked_transaction()?;
    for i in 0..CHATS * PER_CHAT {
        store::ingest(
            &tx,
            &seed::inbound(
                format!("seed-{i}"),
                format!("7916{:07}", i % CHATS),
                format!("message {i}"),
            ),
            &switchboard_hub::clock::now(),
        )?;
    }
    tx.commit()?;
    Ok(boss.id)
}

struct Figures {
    p50: Duration,
    p99: Duration,
    max: Duration,
    syncs: usize,
}

async fn run(path: &std::path::Path, readers: usize, label: &str) -> anyhow::Result<Figures> {
    let hub = Hub::with_readers(db::open_hub(path)?, "ingress".into(), readers);
    let router = api::router(hub.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let syncs = Arc::new(AtomicUsize::new(0));
    // The supervisor syncs from the start, again and again.
    let reader = {
        let (router, stop, syncs) = (router.clone(), stop.clone(), syncs.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                // A whole snapshot: its first page, then every next one.
                let mut uri = "/api/v1/sync?cursor=0".to_owned();
                loop {
                    let req = Request::get(&uri)
                        .header("authorization", "Bearer boss")
                        .body(Body::empty())
                        .expect("request");
                    let resp = router.clone().oneshot(req).await.expect("answer");
                    let body = http_body_util::BodyExt::collect(resp.into_body())
                        .await
                        .expect("body")
                        .to_bytes();
                    let head: serde_json::Value = serde_json::from_slice(&body).expect("json");
                    match head["page"].as_str() {
                        Some(page) => {
                            uri = format!(
                                "/api/v1/sync?cursor={}&page={}",
                                head["cursor"],
                                page.replace('|', "%7C")
                            );
                        }
                        None => break,
                    }
                }
                syncs.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Let the first sync get going.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut took = Vec::with_capacity(WEBHOOKS);
    for i in 0..WEBHOOKS {
        let body = serde_json::json!({"messages": [{"messageId": format!("{label}-{i}"), "channelId": "wa",
            "chatType": "whatsapp", "chatId": format!("7916{:07}", i), "dateTime": "2026-11-25T11:00:00.000Z",
            "type": "text", "status": "inbound", "text": "new"}]});
        let req = Request::post("/webhooks/provider/ingress")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let t = Instant::now();
        let resp = router.clone().oneshot(req).await.expect("answer");
        anyhow::ensure!(resp.status().is_success(), "webhook {}", resp.status());
        took.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let _ = reader.await;
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    Ok(Figures {
        p50: at(0.5),
        p99: at(0.99),
        max: *took.last().expect("samples"),
        syncs: syncs.load(Ordering::Relaxed),
    })
}

#[path = "support/perf_md.rs"]
mod perf_md;
#[path = "support/seed.rs"]
mod seed;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("hub.db");
    let t = Instant::now();
    seed(&path)?;
    println!(
        "seeded {CHATS} chats × {PER_CHAT} messages in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let shared = run(&path, 0, "shared").await?;
    let own = run(&path, 4, "readers").await?;
    for (name, f) in [
        ("reads share the writer (before)", &shared),
        ("reads on 4 read-only connections", &own),
    ] {
        println!(
            "{name}: webhook p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} full supervisor syncs meanwhile)",
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.max.as_secs_f64() * 1e3,
            f.syncs
        );
    }
    println!(
        "ratio (before / after): p99 {:.1}×, max {:.1}×",
        shared.p99.as_secs_f64() / own.p99.as_secs_f64(),
        shared.max.as_secs_f64() / own.max.as_secs_f64()
    );
    perf_md::record(
        "readers",
        &format!("webhook latency while a supervisor's full sync of {CHATS} chats × {PER_CHAT} messages runs again and again"),
        &format!(
            "reads sharing the writer: p99 {:.0} ms, max {:.0} ms; on 4 read-only connections: p99 {:.0} ms, max {:.0} ms (same run, release)",
            shared.p99.as_secs_f64() * 1e3,
            shared.max.as_secs_f64() * 1e3,
            own.p99.as_secs_f64() * 1e3,
            own.max.as_secs_f64() * 1e3
        ),
    );
    Ok(())
}

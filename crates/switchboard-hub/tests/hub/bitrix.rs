//! The mirror queue through the Bitrix24 adapter against the Bitrix24 contract fake: exactly
//! once and in order per entity across a 503 storm, 5xx, a timeout after the portal wrote, an
//! outage, and a queue restarted mid-way; batches when a backlog builds; Check connection.

use crate::common;
use common::until;
use switchboard_hub::api::EdgeHub;

use bitrix24_fake::{FakeConfig, Fault, RunningFake};
use rusqlite::params;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchboard_hub::bitrix::{Bitrix24, BitrixError, Rate};
use switchboard_hub::{store, Hub};

async fn fake(drain_per_sec: f64) -> RunningFake {
    let mut cfg = FakeConfig::new(1, "q1w2e3r4t5y6u7i8");
    cfg.drain_per_sec = drain_per_sec;
    cfg.hang = Duration::from_millis(1500);
    bitrix24_fake::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("fake")
}

fn hub(dir: &tempfile::TempDir) -> Hub {
    let conn = switchboard_hub::db::open_hub(&dir.path().join("hub.db")).expect("db");
    store::ensure_workspace(&conn).expect("workspace");
    Hub::new(conn, "secret".into())
}

/// Queues `n` entries for each deal, interleaved, as messages of one chat would be.
async fn queue(hub: &Hub, deals: &[u64], n: usize) {
    let deals = deals.to_vec();
    hub.write(move |c| {
        for i in 0..n {
            for d in &deals {
                c.execute(
                    "INSERT INTO mirror_queue (key, kind, entity_kind, entity_id, chat, message_id, at, text) \
                     VALUES (?1, 'message', 'deal', ?2, 'chat', ?3, '2026-11-25T10:00:00.000Z', ?4)",
                    params![format!("message:deal:{d}:m{i}"), d.to_string(), format!("m{i}-{d}"), format!("[WA] → Client: message {i}")],
                )?;
            }
        }
        Ok(())
    })
    .await
    .expect("queue");
}

/// Per deal, the message numbers in the order they reached the timeline.
fn timelines(f: &RunningFake, deals: &[u64]) -> Vec<Vec<usize>> {
    let comments = f.fake.comments();
    deals
        .iter()
        .map(|d| {
            comments
                .iter()
                .filter(|c| c.entity_id == *d)
                .filter_map(|c| {
                    c.comment
                        .split("message ")
                        .nth(1)?
                        .split('\n')
                        .next()?
                        .parse()
                        .ok()
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn exactly_once_in_order_through_storms_errors_timeouts_and_a_restart() {
    let f = fake(50.0).await;
    let deals: Vec<u64> = (0..3)
        .map(|i| {
            f.fake
                .add("deal", json!({"TITLE": format!("deal {i}")}))
                .expect("deal")
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = hub(&dir);
    queue(&hub, &deals, 40).await;
    // A 503 storm, a 500, a timeout after the portal wrote, then an outage.
    f.fake.inject([Fault::QueryLimit; 6]);
    f.fake.inject([Fault::ServerError, Fault::HangAfterWrite]);
    let port = Arc::new(
        Bitrix24::new(
            &f.webhook,
            Duration::from_millis(500),
            Rate {
                burst: 50.0,
                per_sec: 50.0,
            },
        )
        .expect("port"),
    );
    switchboard_hub::mirror::spawn_with(hub.clone(), port.clone(), Duration::from_millis(20));
    until("some entries written", || async {
        f.fake.comments().len() >= 30
    })
    .await;
    f.fake.outage(Duration::from_millis(700));
    // The hub goes away mid-queue and comes back on the same database.
    hub.close();
    drop(hub);
    let hub = self::hub(&dir);
    switchboard_hub::mirror::spawn_with(hub.clone(), port, Duration::from_millis(20));
    until("all 120 written", || async {
        f.fake.comments().len() >= 120
    })
    .await;
    // Every queue row settled (a row claimed when the hub went away waits out its lease, then
    // asks the portal before writing again): nothing is left to send, so none went twice.
    let states = || async {
        hub.read(|c| {
            let mut s = c.prepare("SELECT state, count(*) FROM mirror_queue GROUP BY state")?;
            let rows = s.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .expect("states")
    };
    until("every queue row written", || async {
        states().await == vec![("written".to_owned(), 120)]
    })
    .await;
    assert_eq!(f.fake.comments().len(), 120, "none twice");
    let expected: Vec<usize> = (0..40).collect();
    for t in timelines(&f, &deals) {
        assert_eq!(t, expected, "in order, each once");
    }
    // Batches were used: far fewer requests than entries.
    assert!(f.fake.requests() < 60, "{} requests", f.fake.requests());
    hub.close();
}

#[tokio::test]
async fn a_missing_entity_fails_with_the_portals_reason_and_others_go_on() {
    let f = fake(50.0).await;
    let deal = f.fake.add("deal", json!({"TITLE": "real"})).expect("deal");
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = hub(&dir);
    queue(&hub, &[deal, 999], 3).await;
    let port = Arc::new(
        Bitrix24::new(
            &f.webhook,
            Duration::from_secs(2),
            Rate {
                burst: 50.0,
                per_sec: 50.0,
            },
        )
        .expect("port"),
    );
    switchboard_hub::mirror::spawn_with(hub.clone(), port, Duration::from_millis(20));
    until("the real deal's three entries", || async {
        f.fake.comments().len() == 3
    })
    .await;
    let failed: Vec<String> = {
        let h = hub.clone();
        let mut out = Vec::new();
        until("the missing deal's rows failed", || {
            let h = h.clone();
            async move {
                h.read(|c| {
                    Ok(c.query_row(
                        "SELECT count(*) FROM mirror_queue WHERE entity_id = '999' AND state = 'failed'",
                        [],
                        |r| r.get::<_, i64>(0),
                    )?)
                })
                .await
                .unwrap_or(0)
                    == 3
            }
        })
        .await;
        out.extend(
            hub.read(|c| {
                let mut s =
                    c.prepare("SELECT DISTINCT error FROM mirror_queue WHERE entity_id = '999'")?;
                let rows = s.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
            .expect("errors"),
        );
        out
    };
    assert_eq!(failed, vec!["OWNER_NOT_FOUND: Not found.".to_owned()]);
    hub.close();
}

#[tokio::test]
async fn check_connection_names_the_portal_and_user_and_a_bad_code_is_refused() {
    let f = fake(2.0).await;
    let port = Bitrix24::new(&f.webhook, Duration::from_secs(2), Rate::STANDARD).expect("port");
    let (portal, user) = port.check().await.expect("check");
    assert_eq!(portal, f.url.trim_start_matches("http://"));
    assert_eq!(user, "Webhook User");
    let wrong = Bitrix24::new(
        &format!("{}/rest/1/wrong/", f.url),
        Duration::from_secs(2),
        Rate::STANDARD,
    )
    .expect("port");
    match wrong.check().await {
        Err(BitrixError::Transient { reason, .. }) => {
            assert!(reason.contains("NO_AUTH_FOUND"), "{reason}")
        }
        other => panic!("expected the webhook refused, got {other:?}"),
    }
}

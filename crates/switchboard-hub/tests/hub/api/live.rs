//! What desktops are told: sync from a cursor, the events stream, streams ending on stop.

use super::*;

#[tokio::test]
async fn sync_replays_what_the_viewer_may_see_from_a_cursor() {
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    t.client_writes("79164569812", "first").await;
    let (_, snap) = t
        .call(&seller, Method::GET, "/api/v1/sync?cursor=0", Value::Null)
        .await;
    let types: Vec<&str> = snap["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    for needed in [
        "me",
        "settings",
        "channels",
        "visible_chats",
        "chat",
        "message",
    ] {
        assert!(
            types.contains(&needed),
            "snapshot lacks {needed}: {types:?}"
        );
    }
    let cursor = snap["cursor"].as_i64().expect("cursor");
    t.client_writes("79164569812", "second").await;
    let (_, inc) = t
        .call(
            &seller,
            Method::GET,
            &format!("/api/v1/sync?cursor={cursor}"),
            Value::Null,
        )
        .await;
    let changes = inc["changes"].as_array().expect("changes");
    assert!(
        changes
            .iter()
            .any(|c| c["type"] == "message" && c["message"]["text"] == "second"),
        "{inc}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c["type"] == "chat" && c["chat"]["unanswered"]["count"] == 2),
        "{inc}"
    );
    assert!(
        !changes.iter().any(|c| c["type"] == "me"),
        "incremental, not a snapshot: {inc}"
    );
    let (_, again) = t
        .call(
            &seller,
            Method::GET,
            &format!("/api/v1/sync?cursor={}", inc["cursor"]),
            Value::Null,
        )
        .await;
    assert_eq!(again["changes"], json!([]));
}

#[tokio::test]
async fn events_stream_notifies_exactly_the_employees_the_rules_name() {
    use futures_util::StreamExt;
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    let (_, boss) = t.employee("B", "supervisor", false).await;
    let open = |token: String| {
        let http = t.http.clone();
        let url = format!("{}/api/v1/events", t.hub.url);
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("events")
                .bytes_stream()
        }
    };
    let mut seller_events = open(seller.clone()).await;
    let mut boss_events = open(boss.clone()).await;
    t.client_writes("79164569812", "ping").await;
    let mut text = String::new();
    while !text.contains("event: notify") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), seller_events.next())
            .await
            .expect("a notify within 5 s")
            .expect("stream open")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("ping"), "{text}");
    // The supervisor's stream carries `change` events but no `notify` (setting off).
    let mut boss_text = String::new();
    while !boss_text.contains("event: change") {
        let chunk = boss_events.next().await.expect("open").expect("chunk");
        boss_text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let settle =
        tokio::time::timeout(std::time::Duration::from_millis(300), boss_events.next()).await;
    if let Ok(Some(Ok(chunk))) = settle {
        boss_text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!boss_text.contains("event: notify"), "{boss_text}");
}

#[tokio::test]
async fn stopping_the_hub_ends_live_event_streams_instead_of_waiting_for_them() {
    use futures_util::StreamExt;
    let t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    let mut events = t
        .http
        .get(format!("{}/api/v1/events", t.hub.url))
        .bearer_auth(seller)
        .send()
        .await
        .expect("events")
        .bytes_stream();
    let first = events.next().await.expect("open").expect("chunk");
    assert!(String::from_utf8_lossy(&first).contains("event: change"));
    // Regression: a graceful shutdown used to wait forever for connected desktops.
    tokio::time::timeout(std::time::Duration::from_secs(10), t.hub.stop())
        .await
        .expect("the hub stops while a desktop is connected");
    assert!(
        events.next().await.is_none_or(|r| r.is_err()),
        "the stream ended"
    );
}

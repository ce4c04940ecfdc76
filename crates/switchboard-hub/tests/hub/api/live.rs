//! What desktops are told: sync from a cursor, the events stream, streams ending on stop.

use super::*;
use switchboard_wire::Change;

#[tokio::test]
async fn sync_replays_what_the_viewer_may_see_from_a_cursor() {
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", Role::Seller, true).await;
    t.client_writes("79164569812", "first").await;
    let seller = t.client(&seller);
    let snap = seller.sync(0).await.expect("sync");
    let types: Vec<&str> = snap.changes.iter().map(Change::type_name).collect();
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
    t.client_writes("79164569812", "second").await;
    let inc = seller.sync(snap.cursor).await.expect("sync");
    let changes = &inc.changes;
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::Message { message } if message.text == "second")),
        "{inc:?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::Chat { chat } if chat.unanswered.count == 2)),
        "{inc:?}"
    );
    assert!(
        !changes.iter().any(|c| matches!(c, Change::Me { .. })),
        "incremental, not a snapshot: {inc:?}"
    );
    let again = seller.sync(inc.cursor).await.expect("sync");
    assert_eq!(again.changes, []);
}

/// A page token the hub did not write is refused by name, and nothing else is answered.
#[tokio::test]
async fn a_page_the_hub_did_not_write_is_refused() {
    let t = T::new().await;
    let (_, seller) = t.employee("S", Role::Seller, true).await;
    let seller = t.client(&seller);
    for bad in [
        "",
        "garbage",
        "wh|x|0|0||",
        "wh|0|0|0|2026-01-01T00:00:00Z|",
        "wh|0|0||",
    ] {
        let e = crate::common::refused(seller.sync_page(0, Some(bad)).await);
        assert_eq!(
            (e.status, e.code.as_str()),
            (400, "invalid_field"),
            "{bad:?}"
        );
        assert!(e.message.contains("page"), "{e:?}");
    }
    // Well formed but absurd counts: answered, not a crash.
    let (_, seller_token) = t.employee("R", Role::Seller, true).await;
    let mut t = t;
    t.client_writes("79164569812", "hi").await;
    let answer = t
        .client(&seller_token)
        .sync_page(
            0,
            Some("wh|18446744073709551615|18446744073709551615|18446744073709551615||"),
        )
        .await
        .expect("a page");
    assert!(answer.page.is_none());
}

/// Role `none` sees no chat, and is not even told which chats changed.
#[tokio::test]
async fn role_none_hears_of_no_chat() {
    let mut t = T::new().await;
    t.employee("S", Role::Seller, true).await;
    let (_, nobody) = t.employee("N", Role::None, false).await;
    let nobody = t.client(&nobody);
    let at = nobody.sync(0).await.expect("sync").cursor;
    t.client_writes("79164569812", "hi").await;
    let answer = nobody.sync(at).await.expect("sync");
    assert!(
        answer.changes.iter().all(|c| !matches!(
            c,
            Change::Chat { .. } | Change::ChatRemoved { .. } | Change::Message { .. }
        )),
        "{answer:?}"
    );
}

#[tokio::test]
async fn events_stream_notifies_exactly_the_employees_the_rules_name() {
    use futures_util::StreamExt;
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", Role::Seller, true).await;
    let (_, boss) = t.employee("B", Role::Supervisor, false).await;
    let open = |token: &str| {
        let hub = t.client(token);
        async move { hub.events().await.expect("events").bytes_stream() }
    };
    let mut seller_events = open(&seller).await;
    let mut boss_events = open(&boss).await;
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
    let (_, seller) = t.employee("S", Role::Seller, true).await;
    let mut events = t
        .client(&seller)
        .events()
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

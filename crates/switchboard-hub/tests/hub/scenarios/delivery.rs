//! Each message once, in order: redelivered webhooks, a hub killed mid-queue, outages and 503 storms.

use super::*;

both!(a_mixed_conversation_lands_once_in_order_despite_redelivery);
both!(a_hub_killed_mid_queue_loses_and_doubles_nothing);
both!(a_five_minute_outage_and_a_503_storm_lose_and_double_nothing);

/// Client, employee, attachment, client again — with a redelivered webhook: each entity's
/// timeline has each message once, in order, with author and channel.
async fn a_mixed_conversation_lands_once_in_order_despite_redelivery(adapter: Adapter) {
    let w = World::new(adapter).await;
    let contact = w
        .add(
            EntityKind::Contact,
            "Ирина",
            &["+79164569812"],
            &w.anna,
            &[],
        )
        .await;
    let deal = w
        .add(EntityKind::Deal, "Поставка", &[], &w.anna, &[&contact.1])
        .await;
    w.client_writes("m1", "79164569812", "Здравствуйте").await;
    w.client_writes("m1", "79164569812", "Здравствуйте").await;
    let chat = w.chat("79164569812").await.id;
    w.reply(&w.anna, &chat, "a1", "Добрый день!").await;
    w.provider(json!({"messages": [{"messageId": "m2", "channelId": w.channel, "chatType": "whatsapp",
        "chatId": "79164569812", "dateTime": "2026-11-25T10:01:00.000Z", "type": "image", "status": "inbound",
        "contentUri": "https://store.example/photo.jpg"}]}))
        .await;
    w.client_writes("m3", "79164569812", "Когда доставка?")
        .await;
    w.client_writes("m1", "79164569812", "Здравствуйте").await;
    for r in [&contact, &deal] {
        until("four entries", || async { w.timeline(r).await.len() >= 4 }).await;
    }
    until("every message shows written", || async {
        let s = w.mirror_states(&chat).await;
        s.len() == 4 && s.iter().all(|m| *m == MirrorState::Written)
    })
    .await;
    for r in [&contact, &deal] {
        let t = w.timeline(r).await;
        assert_eq!(t.len(), 4, "{t:?}");
        assert!(
            t[0].starts_with("[WA] → ") && t[0].ends_with(": Здравствуйте"),
            "{t:?}"
        );
        assert_eq!(t[1], "[WA] ← Анна: Добрый день!", "{t:?}");
        // A file is named (with a link to the hub's copy); the provider's link is not shown.
        assert!(t[2].contains(": Photo: photo.jpg"), "{t:?}");
        assert!(!t[2].contains("store.example"), "{t:?}");
        assert!(t[3].ends_with(": Когда доставка?"), "{t:?}");
    }
}

/// The hub is killed with SIGKILL while entries are queued (and, with Bitrix24, while the portal
/// holds a comment it wrote but never answered): after the restart each is there once, in order.
async fn a_hub_killed_mid_queue_loses_and_doubles_nothing(adapter: Adapter) {
    let mut w = World::new(adapter).await;
    let contact = w
        .add(
            EntityKind::Contact,
            "Ирина",
            &["+79164569812"],
            &w.anna,
            &[],
        )
        .await;
    if adapter == Adapter::Bitrix {
        // The first comment is written, but its answer never comes back.
        w.fake().fake.inject([Fault::HangAfterWrite]);
    }
    w.client_writes("k0", "79164569812", "text 0").await;
    if adapter == Adapter::Bitrix {
        until("the portal wrote the first comment", || async {
            w.timeline(&contact).await.len() == 1
        })
        .await;
    }
    for i in 1..30 {
        w.client_writes(&format!("k{i}"), "79164569812", &format!("text {i}"))
            .await;
    }
    w.crash_and_restart().await;
    for i in 30..40 {
        w.client_writes(&format!("k{i}"), "79164569812", &format!("text {i}"))
            .await;
    }
    until("forty entries", || async {
        w.timeline(&contact).await.len() >= 40
    })
    .await;
    let chat = w.chat("79164569812").await.id;
    until("every message shows written", || async {
        w.mirror_states(&chat)
            .await
            .iter()
            .all(|m| *m == MirrorState::Written)
    })
    .await;
    let texts: Vec<String> = w
        .timeline(&contact)
        .await
        .iter()
        .map(|t| t.rsplit(": ").next().unwrap_or_default().to_owned())
        .collect();
    let want: Vec<String> = (0..40).map(|i| format!("text {i}")).collect();
    assert_eq!(texts, want, "each once, in order");
}

/// The CRM answers only 503 for three seconds (five minutes at this time scale), then a storm
/// of `QUERY_LIMIT_EXCEEDED`: messages wait (pending) and then land once, in order.
async fn a_five_minute_outage_and_a_503_storm_lose_and_double_nothing(adapter: Adapter) {
    let w = World::new(adapter).await;
    let contact = w
        .add(
            EntityKind::Contact,
            "Ирина",
            &["+79164569812"],
            &w.anna,
            &[],
        )
        .await;
    let deal = w
        .add(EntityKind::Deal, "Поставка", &[], &w.anna, &[&contact.1])
        .await;
    let out = w.outage(Duration::from_secs(3));
    for i in 0..20 {
        w.client_writes(&format!("o{i}"), "79164569812", &format!("text {i}"))
            .await;
    }
    let chat = w.chat("79164569812").await.id;
    if out {
        let states = w.mirror_states(&chat).await;
        assert!(
            states.iter().all(|s| *s == MirrorState::Pending),
            "nothing written while the CRM is out: {states:?}"
        );
    }
    until("the outage's messages land", || async {
        w.timeline(&deal).await.len() >= 20
    })
    .await;
    w.storm(25);
    for i in 20..40 {
        w.client_writes(&format!("o{i}"), "79164569812", &format!("text {i}"))
            .await;
    }
    for r in [&contact, &deal] {
        until("forty entries", || async {
            w.timeline(r).await.len() >= 40
        })
        .await;
        let texts: Vec<String> = w
            .timeline(r)
            .await
            .iter()
            .map(|t| t.rsplit(": ").next().unwrap_or_default().to_owned())
            .collect();
        let want: Vec<String> = (0..40).map(|i| format!("text {i}")).collect();
        assert_eq!(texts, want, "each once, in order");
    }
    until("every message shows written", || async {
        w.mirror_states(&chat)
            .await
            .iter()
            .all(|m| *m == MirrorState::Written)
    })
    .await;
}

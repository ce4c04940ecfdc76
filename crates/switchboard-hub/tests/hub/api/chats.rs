//! Chats: badges and their colours, answering, webhooks stored once, CRM links, composing, escalation.

use super::*;

#[tokio::test]
async fn badges_follow_setting3_and_a_flip_recolours_at_once() {
    let mut t = T::new().await;
    let (_, newbie) = t.employee("Newbie", "seller", true).await;
    let (_, other) = t.employee("Other", "seller", false).await;
    let (_, boss) = t.employee("Boss", "supervisor", false).await;
    t.client_writes("79164569812", "hello").await;
    t.client_writes("79164569812", "anyone?").await;
    assert_eq!(t.badge(&newbie).await, Some((2, json!("red"))));
    assert_eq!(
        t.badge(&other).await,
        None,
        "a seller does not see another's chat"
    );
    assert_eq!(t.badge(&boss).await, Some((2, json!("grey"))));
    let (_, c) = t
        .call(&boss, Method::GET, "/api/v1/me/counters", Value::Null)
        .await;
    assert_eq!(c, json!({"red": 0, "grey": 1}));

    let (s, _) = t
        .call(
            &boss,
            Method::PUT,
            "/api/v1/settings",
            json!({"notify_supervisors_all": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t.badge(&boss).await, Some((2, json!("red"))));
    let (_, c) = t
        .call(&boss, Method::GET, "/api/v1/me/counters", Value::Null)
        .await;
    assert_eq!(c, json!({"red": 1, "grey": 0}));
    let audit = t
        .admin(Method::GET, "/api/v1/settings/audit", Value::Null)
        .await;
    assert_eq!(audit[0]["field"], "notify_supervisors_all");
    assert_eq!(
        (audit[0]["old"].as_str(), audit[0]["new"].as_str()),
        (Some("false"), Some("true"))
    );
}

#[tokio::test]
async fn reading_resets_nothing_reply_echo_and_mark_answered_reset() {
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    let (_, boss) = t.employee("B", "supervisor", false).await;
    t.client_writes("79164569812", "one").await;
    let chat = t.chats(&seller).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (s, msgs) = t
        .call(
            &boss,
            Method::GET,
            &format!("/api/v1/chats/{chat}/messages"),
            Value::Null,
        )
        .await;
    assert_eq!(
        (s, msgs.as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    assert_eq!(
        t.badge(&seller).await,
        Some((1, json!("red"))),
        "reading resets nothing"
    );

    let (s, _) = t
        .call(
            &seller,
            Method::POST,
            "/api/v1/messages",
            json!({"chat": chat, "text": "hi!", "idempotency_key": "k1"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(t.badge(&seller).await, Some((0, Value::Null)));
    t.call(
        &seller,
        Method::POST,
        "/api/v1/messages",
        json!({"chat": chat, "text": "hi!", "idempotency_key": "k1"}),
    )
    .await;
    let (_, msgs) = t
        .call(
            &seller,
            Method::GET,
            &format!("/api/v1/chats/{chat}/messages"),
            Value::Null,
        )
        .await;
    assert_eq!(
        msgs.as_array().map(Vec::len),
        Some(2),
        "the same key sends once"
    );

    t.client_writes("79164569812", "two").await;
    let (s, _) = t
        .webhook(t.message("echo-1", "79164569812", "answered from the phone", true))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        t.badge(&seller).await,
        Some((0, Value::Null)),
        "an echo is a reply"
    );

    t.client_writes("79164569812", "three").await;
    let (s, v) = t
        .call(
            &seller,
            Method::POST,
            &format!("/api/v1/chats/{chat}/answered"),
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(t.badge(&seller).await, Some((0, Value::Null)));
}

#[tokio::test]
async fn webhooks_are_idempotent_and_malformed_ones_store_nothing() {
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    let body = t.message("dup", "79164569812", "once", false);
    t.seq += 1;
    for _ in 0..3 {
        assert_eq!(t.webhook(body.clone()).await.0, StatusCode::OK);
    }
    assert_eq!(t.badge(&seller).await, Some((1, json!("red"))));

    let mut bad = t.message("bad", "79031234567", "x", false);
    bad["messages"][0]
        .as_object_mut()
        .expect("obj")
        .remove("chatId");
    let (s, v) = t.webhook(bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["message"], "messages[0].chatId: is required");
    // A body whose second message is bad stores neither.
    let mut two = t.message("ok-2", "79031234567", "fine", false);
    two["messages"]
        .as_array_mut()
        .expect("arr")
        .push(json!({"messageId": 5}));
    assert_eq!(t.webhook(two).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(t.chats(&seller).await.len(), 1, "nothing half-applied");
    assert_eq!(t.webhook(json!({"test": true})).await.0, StatusCode::OK);
    let wrong = t
        .http
        .post(format!("{}/webhooks/provider/wrong", t.hub.url))
        .json(&json!({"test": true}))
        .send()
        .await
        .expect("send");
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn chats_link_to_crm_by_numbers_typed_with_8_and_the_deal_decides_the_responsible() {
    let mut t = T::new().await;
    let (ann, ann_t) = t.employee("Ann", "seller", false).await;
    let (bob, bob_t) = t.employee("Bob", "seller", false).await;
    let contact = t
        .admin(
            Method::POST,
            "/api/v1/crm/contacts",
            json!({"title": "Irina", "phones": ["8 (916) 456-98-12"], "responsible_id": ann}),
        )
        .await;
    let contact_id = contact["id"].as_str().expect("id").to_owned();
    t.client_writes("79164569812", "hello").await;
    let chats = t.chats(&ann_t).await;
    assert_eq!(chats.len(), 1, "matched through setting 2");
    assert_eq!(
        chats[0]["crm"],
        json!([{"kind": "contact", "id": contact_id}])
    );
    let deal = t
        .admin(
            Method::POST,
            "/api/v1/crm/deals",
            json!({"title": "Big deal", "responsible_id": bob, "contact_id": contact_id}),
        )
        .await;
    assert_eq!(
        t.chats(&ann_t).await.len(),
        0,
        "the deal's responsible wins"
    );
    assert_eq!(t.chats(&bob_t).await.len(), 1);
    t.client_writes("79164569812", "second").await;
    // Mirroring runs through the durable queue: wait for it to drain.
    let deal_path = format!(
        "/api/v1/crm/deals/{}/timeline",
        deal["id"].as_str().expect("id")
    );
    let contact_path = format!("/api/v1/crm/contacts/{contact_id}/timeline");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let contact = t.admin(Method::GET, &contact_path, Value::Null).await;
        let deal = t.admin(Method::GET, &deal_path, Value::Null).await;
        let n = |v: &Value| v.as_array().map_or(0, Vec::len);
        if n(&contact) == 2 && n(&deal) >= 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timelines: {contact} {deal}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let timeline = t.admin(Method::GET, &deal_path, Value::Null).await;
    assert_eq!(
        timeline.as_array().map(Vec::len),
        Some(1),
        "only messages after the link: {timeline}"
    );

    // Setting 2 off: "8 (916)…" no longer reads as +7, so the chat loses its links.
    t.admin(
        Method::PUT,
        "/api/v1/settings",
        json!({"eight_as_plus7": false}),
    )
    .await;
    assert_eq!(t.chats(&bob_t).await.len(), 0);
    let entity = t
        .admin(
            Method::GET,
            &format!("/api/v1/crm/contacts/{contact_id}"),
            Value::Null,
        )
        .await;
    assert_eq!(
        entity["phones"],
        json!(["8 (916) 456-98-12"]),
        "the CRM value is never rewritten"
    );
}

#[tokio::test]
async fn compose_reads_the_number_and_preselects_the_priority_channel() {
    let t = T::new().await;
    let v = t
        .admin(
            Method::POST,
            "/api/v1/employees",
            json!({"name": "S", "role": "seller", "priority_channel_id": t.channel}),
        )
        .await;
    let token = v["token"].as_str().expect("token");
    let (s, c) = t
        .call(
            token,
            Method::GET,
            "/api/v1/compose?phone=8%20(916)%20456-98-12",
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["address"], "+79164569812");
    assert_eq!(c["channel_id"], json!(t.channel));
    t.admin(
        Method::PATCH,
        &format!("/api/v1/channels/{}", t.channel),
        json!({"state": "unauthorized"}),
    )
    .await;
    let (_, c) = t
        .call(
            token,
            Method::GET,
            "/api/v1/compose?phone=89164569812",
            Value::Null,
        )
        .await;
    assert_eq!(
        (c["channel_id"].clone(), c["reason"].clone()),
        (Value::Null, json!("unauthorized"))
    );
    let (s, e) = t
        .call(
            token,
            Method::GET,
            "/api/v1/compose?phone=9164569812",
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "invalid_phone");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("9164569812"),
        "names the raw value: {e}"
    );
}

#[tokio::test]
async fn escalation_turns_a_waiting_chat_red_for_supervisors_once_and_an_answer_ends_it() {
    let mut t = T::new().await;
    let (seller_id, seller) = t.employee("S", "seller", false).await;
    let (boss_id, boss) = t.employee("B", "supervisor", false).await;
    t.admin(
        Method::POST,
        "/api/v1/crm/contacts",
        json!({"title": "C", "phones": ["+79164569812"], "responsible_id": seller_id}),
    )
    .await;
    let (s, v) = t
        .call(
            &boss,
            Method::PUT,
            "/api/v1/settings",
            json!({"escalate_after_minutes": 0}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    t.call(
        &boss,
        Method::PUT,
        "/api/v1/settings",
        json!({"escalate_after_minutes": 30}),
    )
    .await;
    // The client writes now (the hub's own 5-second tick sees nothing due for 30 minutes).
    let mut body = t.message("esc-1", "79164569812", "hello?", false);
    body["messages"][0]["dateTime"] = json!(switchboard_hub::clock::now());
    assert_eq!(t.webhook(body).await.0, StatusCode::OK);
    assert_eq!(t.badge(&boss).await, Some((1, json!("grey"))));

    let tick = |minutes: i64| {
        let hub = t.hub.hub.clone();
        async move {
            let at = switchboard_hub::clock::now_ms() + minutes * 60_000;
            hub.write(move |c| Ok(switchboard_hub::store::escalation_tick(c, at)?))
                .await
                .expect("tick")
        }
    };
    assert!(tick(29).await.is_empty(), "not yet due");
    let notified = tick(31).await;
    assert_eq!(
        notified.iter().map(|n| n.0.as_str()).collect::<Vec<_>>(),
        [boss_id.as_str()]
    );
    assert!(
        notified[0].1.text.contains("without a reply"),
        "{:?}",
        notified[0].1
    );
    assert!(tick(60).await.is_empty(), "supervisors are notified once");
    assert_eq!(t.badge(&boss).await, Some((1, json!("red"))));
    assert_eq!(t.badge(&seller).await, Some((1, json!("red"))));

    let chat = t.chats(&seller).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    t.call(
        &seller,
        Method::POST,
        "/api/v1/messages",
        json!({"chat": chat, "text": "here", "idempotency_key": "e1"}),
    )
    .await;
    t.client_writes("79164569812", "thanks").await;
    assert_eq!(
        t.badge(&boss).await,
        Some((1, json!("grey"))),
        "an answer ends the escalation"
    );
}

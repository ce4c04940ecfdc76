//! Chats: badges and their colours, answering, webhooks stored once, CRM links, composing, escalation.

use super::*;
use switchboard_core::{ChannelState, Counters, CrmRef, EntityKind, NoChannelReason};
use switchboard_wire::{ChannelPatch, NewCrmEntity};

#[tokio::test]
async fn badges_follow_setting3_and_a_flip_recolours_at_once() {
    let mut t = T::new().await;
    let (_, newbie) = t.employee("Newbie", Role::Seller, true).await;
    let (_, other) = t.employee("Other", Role::Seller, false).await;
    let (_, boss) = t.employee("Boss", Role::Supervisor, false).await;
    t.client_writes("79164569812", "hello").await;
    t.client_writes("79164569812", "anyone?").await;
    assert_eq!(t.badge(&newbie).await, Some((2, Some(BadgeColor::Red))));
    assert_eq!(
        t.badge(&other).await,
        None,
        "a seller does not see another's chat"
    );
    assert_eq!(t.badge(&boss).await, Some((2, Some(BadgeColor::Grey))));
    let boss_hub = t.client(&boss);
    assert_eq!(
        boss_hub.counters().await.expect("counters"),
        Counters { red: 0, grey: 1 }
    );

    boss_hub
        .put_settings(&SettingsPatch {
            notify_supervisors_all: Some(true),
            ..SettingsPatch::default()
        })
        .await
        .expect("a supervisor changes settings");
    assert_eq!(t.badge(&boss).await, Some((2, Some(BadgeColor::Red))));
    assert_eq!(
        boss_hub.counters().await.expect("counters"),
        Counters { red: 1, grey: 0 }
    );
    let audit = t.admin().settings_audit().await.expect("audit");
    assert_eq!(audit[0].field, "notify_supervisors_all");
    assert_eq!(
        (audit[0].old.as_str(), audit[0].new.as_str()),
        ("false", "true")
    );
}

#[tokio::test]
async fn reading_resets_nothing_reply_echo_and_mark_answered_reset() {
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", Role::Seller, true).await;
    let (_, boss) = t.employee("B", Role::Supervisor, false).await;
    t.client_writes("79164569812", "one").await;
    let chat = t.chats(&seller).await[0].id.clone();
    let msgs = t
        .client(&boss)
        .chat_messages(&chat, None, None)
        .await
        .expect("messages");
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        t.badge(&seller).await,
        Some((1, Some(BadgeColor::Red))),
        "reading resets nothing"
    );

    let seller_hub = t.client(&seller);
    common::send(&seller_hub, &common::reply_in(&chat, "hi!", "k1")).await;
    assert_eq!(t.badge(&seller).await, Some((0, None)));
    seller_hub
        .send_message(&common::reply_in(&chat, "hi!", "k1"))
        .await
        .expect("the same key again");
    let msgs = seller_hub
        .chat_messages(&chat, None, None)
        .await
        .expect("messages");
    assert_eq!(msgs.len(), 2, "the same key sends once");

    t.client_writes("79164569812", "two").await;
    let (s, _) = t
        .webhook(t.message("echo-1", "79164569812", "answered from the phone", true))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        t.badge(&seller).await,
        Some((0, None)),
        "an echo is a reply"
    );

    t.client_writes("79164569812", "three").await;
    seller_hub
        .mark_answered(&chat)
        .await
        .expect("marked answered");
    assert_eq!(t.badge(&seller).await, Some((0, None)));
}

#[tokio::test]
async fn webhooks_are_idempotent_and_malformed_ones_store_nothing() {
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", Role::Seller, true).await;
    let body = t.message("dup", "79164569812", "once", false);
    t.seq += 1;
    for _ in 0..3 {
        assert_eq!(t.webhook(body.clone()).await.0, StatusCode::OK);
    }
    assert_eq!(t.badge(&seller).await, Some((1, Some(BadgeColor::Red))));

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
    let (ann, ann_t) = t.employee("Ann", Role::Seller, false).await;
    let (bob, bob_t) = t.employee("Bob", Role::Seller, false).await;
    let admin = t.admin();
    let contact_id = admin
        .crm_create(
            EntityKind::Contact,
            &NewCrmEntity {
                responsible_id: Some(ann),
                ..common::new_entity("Irina", &["8 (916) 456-98-12"])
            },
        )
        .await
        .expect("contact")
        .id;
    t.client_writes("79164569812", "hello").await;
    let chats = t.chats(&ann_t).await;
    assert_eq!(chats.len(), 1, "matched through setting 2");
    assert_eq!(
        chats[0].crm,
        [CrmRef {
            kind: EntityKind::Contact,
            id: contact_id.clone()
        }]
    );
    let deal = admin
        .crm_create(
            EntityKind::Deal,
            &NewCrmEntity {
                responsible_id: Some(bob),
                contact_id: Some(contact_id.clone()),
                ..common::new_entity("Big deal", &[])
            },
        )
        .await
        .expect("deal")
        .id;
    assert_eq!(
        t.chats(&ann_t).await.len(),
        0,
        "the deal's responsible wins"
    );
    assert_eq!(t.chats(&bob_t).await.len(), 1);
    t.client_writes("79164569812", "second").await;
    // Mirroring runs through the durable queue: wait for it to drain.
    let timeline = |kind: EntityKind, id: &str| {
        let (admin, id) = (admin.clone(), id.to_owned());
        async move { admin.crm_timeline(kind, &id).await.expect("timeline") }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let contact = timeline(EntityKind::Contact, &contact_id).await;
        let deal = timeline(EntityKind::Deal, &deal).await;
        if contact.len() == 2 && !deal.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timelines: {contact:?} {deal:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let deal_timeline = timeline(EntityKind::Deal, &deal).await;
    assert_eq!(
        deal_timeline.len(),
        1,
        "only messages after the link: {deal_timeline:?}"
    );

    // Setting 2 off: "8 (916)…" no longer reads as +7, so the chat loses its links.
    admin
        .put_settings(&SettingsPatch {
            eight_as_plus7: Some(false),
            ..SettingsPatch::default()
        })
        .await
        .expect("settings");
    assert_eq!(t.chats(&bob_t).await.len(), 0);
    let entity = admin
        .crm_entity(EntityKind::Contact, &contact_id)
        .await
        .expect("contact");
    assert_eq!(
        entity.phones,
        ["8 (916) 456-98-12"],
        "the CRM value is never rewritten"
    );
}

#[tokio::test]
async fn compose_reads_the_number_and_preselects_the_priority_channel() {
    let t = T::new().await;
    let admin = t.admin();
    let v = admin
        .create_employee(&NewEmployee {
            priority_channel_id: Some(t.channel.clone()),
            ..new_employee("S", Role::Seller)
        })
        .await
        .expect("employee");
    let seller = t.client(&v.token);
    let c = seller
        .compose_phone("8 (916) 456-98-12")
        .await
        .expect("compose");
    assert_eq!(c.address, "+79164569812");
    assert_eq!(c.channel_id.as_deref(), Some(t.channel.as_str()));
    admin
        .patch_channel(
            &t.channel,
            &ChannelPatch {
                state: Some(ChannelState::Unauthorized),
                name: None,
                open_lines: None,
            },
        )
        .await
        .expect("channel");
    let c = seller.compose_phone("89164569812").await.expect("compose");
    assert_eq!(
        (c.channel_id, c.reason),
        (None, Some(NoChannelReason::Unauthorized))
    );
    let e = assert_refused(
        seller.compose_phone("9164569812").await,
        StatusCode::BAD_REQUEST,
        "invalid_phone",
    );
    assert!(
        e.message.contains("9164569812"),
        "names the raw value: {e:?}"
    );
}

#[tokio::test]
async fn escalation_turns_a_waiting_chat_red_for_supervisors_once_and_an_answer_ends_it() {
    let mut t = T::new().await;
    let (seller, (boss_id, boss)) = escalating(&t).await;
    assert_refused(
        t.client(&boss)
            .put_settings(&SettingsPatch {
                escalate_after_minutes: Some(Some(0)),
                ..SettingsPatch::default()
            })
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    );
    // The client writes now (the hub's own 5-second tick sees nothing due for 30 minutes).
    let mut body = t.message("esc-1", "79164569812", "hello?", false);
    body["messages"][0]["dateTime"] = json!(switchboard_hub::clock::now());
    assert_eq!(t.webhook(body).await.0, StatusCode::OK);
    assert_eq!(t.badge(&boss).await, Some((1, Some(BadgeColor::Grey))));

    assert!(tick(&t, 29).await.is_empty(), "not yet due");
    let notified = tick(&t, 31).await;
    assert_eq!(
        notified.iter().map(|n| n.0.as_str()).collect::<Vec<_>>(),
        [boss_id.as_str()]
    );
    assert!(
        notified[0].1.text.contains("without a reply"),
        "{:?}",
        notified[0].1
    );
    assert!(
        tick(&t, 60).await.is_empty(),
        "supervisors are notified once"
    );
    assert_eq!(t.badge(&boss).await, Some((1, Some(BadgeColor::Red))));
    assert_eq!(t.badge(&seller).await, Some((1, Some(BadgeColor::Red))));

    let chat = t.chats(&seller).await[0].id.clone();
    t.client(&seller)
        .send_message(&common::reply_in(&chat, "here", "e1"))
        .await
        .expect("reply");
    t.client_writes("79164569812", "thanks").await;
    assert_eq!(
        t.badge(&boss).await,
        Some((1, Some(BadgeColor::Grey))),
        "an answer ends the escalation"
    );
}

/// "Mark as unanswered" (answered too early): the chat is red again for its seller, grey for a
/// supervisor, and the escalation timer counts from the moment it was marked — not from the
/// client's old message; a seller who may not see the chat is refused as for any of its routes.
#[tokio::test]
async fn marked_as_unanswered_a_chat_is_owed_a_reply_again_and_escalates_from_then() {
    let t = T::new().await;
    let (seller, (_, boss)) = escalating(&t).await;
    let (_, other) = t.employee("O", Role::Seller, false).await;
    // The client wrote an hour ago; the seller marked it answered at once.
    let mut body = t.message("un-1", "79164569812", "hello?", false);
    body["messages"][0]["dateTime"] = json!(switchboard_hub::clock::format_time(
        chrono::Utc::now() - chrono::Duration::hours(1)
    ));
    assert_eq!(t.webhook(body).await.0, StatusCode::OK);
    let chat = t.chats(&seller).await[0].id.clone();
    t.client(&seller)
        .mark_answered(&chat)
        .await
        .expect("answered");
    assert_eq!(t.badge(&seller).await, Some((0, None)));

    assert_refused(
        t.client(&other).mark_unanswered(&chat).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let view = t
        .client(&seller)
        .mark_unanswered(&chat)
        .await
        .expect("unanswered");
    assert_eq!(view.unanswered.count, 1);
    assert_eq!(t.badge(&seller).await, Some((1, Some(BadgeColor::Red))));
    assert_eq!(t.badge(&boss).await, Some((1, Some(BadgeColor::Grey))));
    // Marking again owes no more than one.
    let again = t
        .client(&seller)
        .mark_unanswered(&chat)
        .await
        .expect("again");
    assert_eq!(again.unanswered.count, 1);

    assert!(
        tick(&t, 29).await.is_empty(),
        "counted from the marking, not the hour-old message"
    );
    assert_eq!(tick(&t, 31).await.len(), 1, "escalated once due");
    assert_eq!(t.badge(&boss).await, Some((1, Some(BadgeColor::Red))));
}

/// A seller whose CRM contact is +7 916 456-98-12 (their token), and a supervisor (id, token)
/// who set escalation after 30 minutes.
async fn escalating(t: &T) -> (String, (String, String)) {
    let (seller_id, seller) = t.employee("S", Role::Seller, false).await;
    let boss = t.employee("B", Role::Supervisor, false).await;
    t.admin()
        .crm_create(
            EntityKind::Contact,
            &NewCrmEntity {
                responsible_id: Some(seller_id),
                ..common::new_entity("C", &["+79164569812"])
            },
        )
        .await
        .expect("contact");
    t.client(&boss.1)
        .put_settings(&SettingsPatch {
            escalate_after_minutes: Some(Some(30)),
            ..SettingsPatch::default()
        })
        .await
        .expect("settings");
    (seller, boss)
}

/// The hub's escalation tick as it would run `minutes` from now: whom it notifies.
async fn tick(t: &T, minutes: i64) -> Vec<(String, switchboard_wire::NotifyEvent)> {
    let at = switchboard_hub::clock::now_ms() + minutes * 60_000;
    t.hub
        .hub
        .write(move |c| Ok(switchboard_hub::store::escalation_tick(c, at)?))
        .await
        .expect("tick")
}

//! What reaches the CRM timeline: Open Lines exempt, setting 1 never back-filling.

use super::*;

both!(open_lines_are_exempt_and_setting_1_never_back_fills);

/// Setting 1 off: nothing is written and turning it on does not back-fill. Open Lines channels:
/// never mirrored, but a chat's first client message makes one Open Lines activity whatever
/// the setting.
async fn open_lines_are_exempt_and_setting_1_never_back_fills(adapter: Adapter) {
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
    w.save_to_timeline(false).await;
    w.client_writes("off-1", "79164569812", "while off").await;
    let chat = w.chat("79164569812").await.id;
    assert_eq!(
        w.mirror_states(&chat).await,
        [MirrorState::Skipped(MirrorSkip::SettingOff)]
    );
    w.save_to_timeline(true).await;
    w.client_writes("on-1", "79164569812", "after on").await;
    until("the message after on", || async {
        w.timeline(&contact).await.len() == 1
    })
    .await;
    assert!(
        w.timeline(&contact).await[0].ends_with(": after on"),
        "no back-fill"
    );

    let ol = w
        .admin()
        .create_channel(&NewChannel {
            open_lines: true,
            ..new_channel(Transport::Viber, "Viber OL")
        })
        .await
        .expect("channel")
        .id;
    w.save_to_timeline(false).await;
    for (id, text) in [
        ("ol-1", "по открытой линии"),
        ("ol-2", "ещё"),
        ("ol-1", "по открытой линии"),
    ] {
        w.provider(
            json!({"messages": [{"messageId": id, "channelId": ol, "chatType": "viber",
            "chatId": "79164569812", "dateTime": "2026-11-25T10:00:00.000Z", "type": "text",
            "status": "inbound", "text": text}]}),
        )
        .await;
    }
    w.save_to_timeline(true).await;
    until("the Open Lines activity", || async {
        w.timeline(&contact).await.len() == 2
    })
    .await;
    let t = w.timeline(&contact).await;
    assert!(
        t[1].starts_with("Open Lines chat started (Viber OL)"),
        "{t:?}"
    );
    let chats = w.chats().await;
    let ol_chat = chats
        .iter()
        .find(|c| c.channel_id == ol)
        .expect("the Open Lines chat");
    let states = w.mirror_states(&ol_chat.id).await;
    assert_eq!(states.len(), 2);
    assert!(states
        .iter()
        .all(|s| *s == MirrorState::Skipped(MirrorSkip::OpenLines)));
    // A later WhatsApp message lands right after the activity: nothing of the Open Lines chat
    // was queued before it (an entity's entries go in order).
    w.client_writes("on-2", "79164569812", "last").await;
    until("the last message", || async {
        w.timeline(&contact)
            .await
            .last()
            .is_some_and(|t| t.ends_with(": last"))
    })
    .await;
    assert_eq!(w.timeline(&contact).await.len(), 3);
}

//! Handing a chat to a colleague (#15): the CRM's responsible changes with it, the chat moves
//! between desktops at once, its new responsible is notified and a line says who handed it to
//! whom; who may, and what is refused.

use super::T;
use crate::common::{self, assert_refused};
use futures_util::StreamExt;
use reqwest::StatusCode;
use switchboard_core::{BadgeColor, EntityKind, MessageKind, Role};
use switchboard_wire::{Change, NewCrmEntity, SettingsPatch};

/// Reads `token`'s live stream until a `notify` event arrives (5 s at most): its text.
async fn next_notify(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
) -> String {
    let mut text = String::new();
    while !text.contains("event: notify") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("a notify within 5 s")
            .expect("stream open")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

#[tokio::test]
async fn a_supervisor_hands_a_sellers_chat_to_another_the_crm_agrees_and_the_chat_moves() {
    let mut t = T::new().await;
    let (anna, anna_t) = t.employee("Anna", Role::Seller, false).await;
    let (boris, boris_t) = t.employee("Boris", Role::Seller, false).await;
    let (_, sofia_t) = t.employee("Sofia", Role::Supervisor, false).await;
    let lead = t
        .admin()
        .crm_create(
            EntityKind::Lead,
            &NewCrmEntity {
                responsible_id: Some(anna.clone()),
                ..common::new_entity("Irina's order", &["8 (916) 456-98-12"])
            },
        )
        .await
        .expect("lead")
        .id;
    t.client_writes("79164569812", "hello").await;
    let chat = t.chats(&anna_t).await[0].id.clone();
    let anna_cursor = t.client(&anna_t).sync(0).await.expect("sync").cursor;
    let mut boris_events = t
        .client(&boris_t)
        .events()
        .await
        .expect("events")
        .bytes_stream();

    // Whom to: everyone with access to chats but Anna.
    let names: Vec<String> = t
        .client(&sofia_t)
        .transfer_candidates(&chat)
        .await
        .expect("candidates")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Boris".to_owned()) && names.contains(&"Sofia".to_owned()));

    let done = t
        .client(&sofia_t)
        .transfer(&chat, &boris)
        .await
        .expect("handed over");
    assert_eq!(
        (done.from.as_deref(), done.to.as_str()),
        (Some(anna.as_str()), boris.as_str())
    );
    assert_eq!(done.entities.len(), 1);
    // The CRM agrees.
    let entity = t
        .admin()
        .crm_entity(EntityKind::Lead, &lead)
        .await
        .expect("lead");
    assert_eq!(entity.responsible_id.as_deref(), Some(boris.as_str()));
    // Anna's desktop is told it went; Boris sees it red (his to answer), with the line.
    let gone = t.client(&anna_t).sync(anna_cursor).await.expect("sync");
    assert!(
        gone.changes
            .iter()
            .any(|c| matches!(c, Change::ChatRemoved { id } if *id == chat)),
        "{gone:?}"
    );
    assert!(t.chats(&anna_t).await.is_empty());
    let bc = t.chats(&boris_t).await;
    assert_eq!(bc.len(), 1);
    assert_eq!(bc[0].unanswered.color, Some(BadgeColor::Red));
    let messages = t
        .client(&boris_t)
        .chat_messages(&chat, None, Some(50))
        .await
        .expect("messages");
    let line = messages.last().expect("the line");
    assert_eq!(line.kind, MessageKind::Transfer);
    assert_eq!(line.text, "Sofia: Anna → Boris");
    // The line owes nobody a reply (still one unanswered), and is not the chat's last message:
    // its row still shows what the client wrote.
    assert_eq!(bc[0].unanswered.count, 1);
    assert_eq!(
        bc[0].last_message.as_ref().map(|m| m.text.as_str()),
        Some("hello")
    );
    let note = next_notify(&mut boris_events).await;
    assert!(note.contains("Sofia: Anna → Boris"), "{note}");
    // Recorded, for supervisors.
    let audit = t.client(&sofia_t).transfers().await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].by, t.client(&sofia_t).me().await.expect("me").id);
    assert_refused(
        t.client(&anna_t).transfers().await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}

#[tokio::test]
async fn a_seller_hands_over_only_their_own_and_only_when_the_workspace_allows() {
    let mut t = T::new().await;
    let (anna, anna_t) = t.employee("Anna", Role::Seller, true).await;
    let (boris, boris_t) = t.employee("Boris", Role::Seller, false).await;
    let (nina, _) = t.employee("Nina", Role::None, false).await;
    // Nobody's chat, Anna receives new clients: she sees it, but it is not hers.
    t.client_writes("79160000001", "hi").await;
    let chat = t.chats(&anna_t).await[0].id.clone();
    assert_refused(
        t.client(&anna_t).transfer(&chat, &boris).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    t.admin()
        .put_settings(&SettingsPatch {
            sellers_may_transfer: Some(true),
            ..SettingsPatch::default()
        })
        .await
        .expect("allowed");
    assert_refused(
        t.client(&anna_t).transfer(&chat, &boris).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // A supervisor gives it to Anna (no CRM entity: hers as if she had written first)…
    let (_, sofia_t) = t.employee("Sofia", Role::Supervisor, false).await;
    let done = t
        .client(&sofia_t)
        .transfer(&chat, &anna)
        .await
        .expect("to Anna");
    assert!(done.entities.is_empty());
    assert_eq!(
        t.chats(&anna_t).await[0].responsible_id.as_deref(),
        Some(anna.as_str())
    );
    // …and now Anna may hand it on: not to role none, not to herself.
    assert_refused(
        t.client(&anna_t).transfer(&chat, &nina).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    );
    assert_refused(
        t.client(&anna_t).transfer(&chat, &anna).await,
        StatusCode::CONFLICT,
        "already_responsible",
    );
    assert_refused(
        t.client(&anna_t).transfer(&chat, "nobody").await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    );
    t.client(&anna_t)
        .transfer(&chat, &boris)
        .await
        .expect("to Boris");
    assert!(t.chats(&anna_t).await.iter().all(|c| c.id != chat));
    // Boris's now: Anna cannot reach it any more.
    assert_refused(
        t.client(&anna_t).transfer(&chat, &anna).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(t.chats(&boris_t).await.len(), 1);
}

/// Only the entities the chat's responsible answers change: a colleague's lead on the same
/// number stays theirs (changing it would move their chats too).
#[tokio::test]
async fn a_colleagues_entity_on_the_same_number_is_left_as_it_is() {
    let mut t = T::new().await;
    let (anna, anna_t) = t.employee("Anna", Role::Seller, false).await;
    let (boris, boris_t) = t.employee("Boris", Role::Seller, false).await;
    let (vera, _) = t.employee("Vera", Role::Seller, false).await;
    let (_, sofia_t) = t.employee("Sofia", Role::Supervisor, false).await;
    let entity = |kind, responsible: &str| {
        let admin = t.admin();
        let responsible = responsible.to_owned();
        async move {
            admin
                .crm_create(
                    kind,
                    &NewCrmEntity {
                        responsible_id: Some(responsible),
                        ..common::new_entity("Irina", &["+79164569812"])
                    },
                )
                .await
                .expect("entity")
                .id
        }
    };
    let veras_lead = entity(EntityKind::Lead, &vera).await;
    let annas_contact = entity(EntityKind::Contact, &anna).await;
    t.client_writes("79164569812", "hello").await;
    let chat = t.chats(&anna_t).await[0].id.clone();
    let done = t
        .client(&sofia_t)
        .transfer(&chat, &boris)
        .await
        .expect("handed over");
    assert_eq!(done.entities.len(), 1, "{done:?}");
    let responsible = |kind, id: String| {
        let admin = t.admin();
        async move {
            admin
                .crm_entity(kind, &id)
                .await
                .expect("entity")
                .responsible_id
        }
    };
    assert_eq!(
        responsible(EntityKind::Contact, annas_contact).await,
        Some(boris.clone())
    );
    assert_eq!(responsible(EntityKind::Lead, veras_lead).await, Some(vera));
    assert_eq!(t.chats(&boris_t).await.len(), 1);
}

//! Chats as the desktop's benches store them: `chat(i)` of a workspace of many.

#![allow(dead_code, reason = "each bench uses what it needs")]

use switchboard_core::{Badge, BadgeColor, CrmRef, Direction, EntityKind};
use switchboard_wire::{ChatView, LastMessage};

/// Chat `i`: 1 % red, 1 % grey, the rest answered; one contact each.
pub fn chat(i: usize) -> ChatView {
    let color = match i % 100 {
        0 => Some(BadgeColor::Red),
        1 => Some(BadgeColor::Grey),
        _ => None,
    };
    ChatView {
        id: format!("chat-{i}"),
        channel_id: "wa".into(),
        chat_type: "whatsapp".into(),
        chat_id: format!("7916{i:07}"),
        title: format!("+7 916 {i:07}"),
        responsible_id: Some(format!("e{}", i % 20)),
        crm: vec![CrmRef {
            kind: EntityKind::Contact,
            id: i.to_string(),
        }],
        last_message: Some(LastMessage {
            id: format!("m-{i}"),
            direction: Direction::In,
            text: format!("Здравствуйте, вопрос по заказу {i}"),
            at: format!(
                "2026-11-{:02}T10:{:02}:{:02}.000Z",
                1 + i % 28,
                i % 60,
                (i / 60) % 60
            ),
            kind: Default::default(),
            media_name: None,
            media_duration_ms: None,
        }),
        last_activity_at: format!(
            "2026-11-{:02}T10:{:02}:{:02}.000Z",
            1 + i % 28,
            i % 60,
            (i / 60) % 60
        ),
        unanswered: Badge {
            count: u32::from(color.is_some()),
            color,
        },
        escalated: false,
    }
}

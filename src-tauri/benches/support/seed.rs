//! Chats and messages as the desktop's benches store them: `chat(i)` of a workspace of many,
//! `message(i, chats)` of their history (what the search bench looks for: a rare word, a word
//! in ~1 of 5 000 messages, a word in every message, numbers).

#![allow(dead_code, reason = "each bench uses what it needs")]

use switchboard_core::{Badge, BadgeColor, CrmRef, Direction, EntityKind, MessageStatus};
use switchboard_wire::{ChatView, LastMessage, MessageView};

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

pub const WORDS: [&str; 12] = [
    "заказ",
    "доставка",
    "оплата",
    "счёт",
    "скидка",
    "размер",
    "цвет",
    "адрес",
    "курьер",
    "возврат",
    "гарантия",
    "подарок",
];

/// The one message with a rare word.
pub const RARE: usize = 123_457;

pub fn text(i: usize) -> String {
    let w = |k: usize| WORDS[(i / k) % WORDS.len()];
    let mut t = format!(
        "Здравствуйте, {} и {} по заказу {}: {}",
        w(1),
        w(7),
        100_000 + i,
        w(13)
    );
    if i % 5_000 == 17 {
        t.push_str(" — и ещё вопрос про iPhone");
    }
    if i == RARE {
        t.push_str(" (промокод Жираф-2026)");
    }
    t
}

pub fn message(i: usize, chats: usize) -> MessageView {
    MessageView {
        id: format!("m{i:08}"),
        chat: chat(i % chats).id,
        direction: if i.is_multiple_of(2) {
            Direction::In
        } else {
            Direction::Out
        },
        text: text(i),
        content_uri: None,
        at: format!(
            "2026-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            1 + (i / 2_000_000) % 12,
            1 + (i / 80_000) % 28,
            (i / 3_600) % 24,
            (i / 60) % 60,
            i % 60
        ),
        author_id: None,
        status: MessageStatus::Delivered,
        error: None,
        mirror: Default::default(),
        kind: Default::default(),
        media: None,
        place: None,
    }
}

//! Seeding a bench's workspace through the storage layer.

#![allow(dead_code, reason = "each bench uses what it needs")]

use switchboard_hub::store::Inbound;

/// A client's text message on the WhatsApp channel `wa`, as the provider's webhook gives it.
pub fn inbound(id: String, chat_id: String, text: String) -> Inbound {
    Inbound {
        provider_message_id: id,
        channel_id: "wa".into(),
        chat_type: "whatsapp".into(),
        chat_id,
        at: "2026-11-25T10:00:00.000Z".into(),
        text,
        content_uri: None,
        is_echo: false,
        author_id: None,
        contact_name: None,
        contact_phone: None,
    }
}

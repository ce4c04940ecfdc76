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
        kind: switchboard_core::MessageKind::Text,
        is_echo: false,
        author_id: None,
        contact_name: None,
        contact_phone: None,
    }
}

/// A workspace in the hub database at `path`: the WhatsApp channel `wa`, `supervisors`
/// supervisors (tokens `boss-0`, `boss-1`, …), and `chats` chats (client numbers
/// `7916NNNNNNN`) of `per_chat` client messages each, answered but for one chat in
/// `waiting_every` (0: none waits). Their ids, in order.
pub fn workspace(
    path: &std::path::Path,
    supervisors: usize,
    chats: usize,
    per_chat: usize,
    waiting_every: usize,
) -> anyhow::Result<Vec<String>> {
    use switchboard_core::{ChatEvent, Role};
    use switchboard_hub::{db, json::NewEmployee, store};
    let conn = db::open_hub(path)?;
    store::ensure_workspace(&conn)?;
    conn.execute(
        "INSERT INTO channels (id, transport, name, state, open_lines, sandbox) VALUES ('wa', 'whatsapp', 'WA', 'active', 0, 1)",
        [],
    )?;
    let at = "2026-11-25T10:00:00.000Z";
    let tx = conn.unchecked_transaction()?;
    let mut ids = Vec::new();
    for d in 0..supervisors {
        let boss = store::insert_employee(
            &tx,
            &NewEmployee {
                name: format!("Supervisor {d}"),
                role: Role::Supervisor,
                receives_new_clients: false,
                priority_channel_id: None,
                crm_user_id: None,
            },
        )?;
        store::store_token(&tx, &format!("boss-{d}"), Some(&boss.id), at)?;
        ids.push(boss.id);
    }
    for i in 0..chats * per_chat {
        let stored = store::ingest(
            &tx,
            &inbound(
                format!("seed-{i}"),
                format!("7916{:07}", i % chats),
                format!("message {i}"),
            ),
            at,
        )?;
        // After each chat's last message: answered, but for one chat in `waiting_every`.
        let waits = waiting_every > 0 && i % waiting_every == 0;
        if i / chats == per_chat - 1 && !waits {
            if let Some(s) = stored {
                store::apply_chat_event(&tx, &s.chat, ChatEvent::MarkedAnswered, at, at)?;
            }
        }
    }
    tx.commit()?;
    Ok(ids)
}

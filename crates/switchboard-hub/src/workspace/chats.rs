//! Chats and messages as an employee sees them: reading, writing first, replying, Retry.

use super::{chat_worker, crm::visible_entity, non_empty, Refusal, WorkspaceError, WsResult};
use crate::json::*;
use crate::store::{self, Caller, Tx};
use switchboard_core::{self as core, read_crm_phone, CrmRef, Employee, Settings, E164};

/// The chat row, if `me` may see it; else not found (a chat one may not see does not exist
/// for them).
pub fn visible_chat(c: &Tx, me: &Employee, id: &str) -> WsResult<store::ChatRow> {
    Ok(store::chat_row_by_id(c, id)?
        .filter(|row| core::can_see(me, row.responsible_id.as_deref()))
        .ok_or(Refusal::NotFound("chat"))?)
}

/// A chat's messages, newest `limit` (1 to 500), or those before the message `before`.
pub fn messages(
    c: &Tx,
    me: &Employee,
    chat: &str,
    before: Option<&str>,
    limit: u32,
) -> WsResult<Vec<MessageView>> {
    visible_chat(c, me, chat)?;
    Ok(store::messages(c, chat, before, limit.clamp(1, 500))?)
}

/// A message's kept file, if `me` may see its chat: its name and type. A message of a chat
/// one may not see, or without a kept file, does not exist for them.
pub fn media(c: &Tx, me: &Employee, message: &str) -> WsResult<(Option<String>, Option<String>)> {
    let kept = store::media_queue::stored(c, message)?.ok_or(Refusal::NotFound("media"))?;
    visible_chat(c, me, &kept.chat).map_err(|_| Refusal::NotFound("media"))?;
    Ok((kept.name, kept.mime))
}

/// "No reply needed": the chat's count goes to 0.
pub fn mark_answered(c: &Tx, me: &Employee, chat: &str, now: &str) -> WsResult<ChatView> {
    visible_chat(c, me, chat)?;
    store::apply_chat_event(c, chat, core::ChatEvent::MarkedAnswered, now, now)?;
    let row = visible_chat(c, me, chat)?;
    Ok(store::chat_view(c, me, &row, &store::settings(c)?)?.ok_or(Refusal::NotFound("chat"))?)
}

/// Marks the chat as unanswered (answered too early): one reply owed when none was, the
/// escalation timer counting from now. Whoever may see the chat may.
pub fn mark_unanswered(c: &Tx, me: &Employee, chat: &str, now: &str) -> WsResult<ChatView> {
    let mut row = visible_chat(c, me, chat)?;
    // Already waiting: nothing changes (its timer keeps counting), and no desktop hears of it.
    if row.unanswered == 0 {
        store::apply_chat_event(c, chat, core::ChatEvent::MarkedUnanswered, now, now)?;
        row = visible_chat(c, me, chat)?;
    }
    Ok(store::chat_view(c, me, &row, &store::settings(c)?)?.ok_or(Refusal::NotFound("chat"))?)
}

/// The address a new message goes to: a typed number, or the first readable phone of a CRM
/// entity the writer may see; each read under setting 2.
pub fn address(
    c: &Tx,
    me: &Employee,
    phone: Option<&str>,
    crm: Option<&str>,
    settings: &Settings,
) -> WsResult<E164> {
    let invalid = |e: core::PhoneError| Refusal::InvalidPhone(e.to_string());
    match (phone, crm) {
        (Some(raw), None) => Ok(read_crm_phone(raw, settings.eight_as_plus7).map_err(invalid)?),
        (None, Some(r)) => {
            let r = CrmRef::parse(r)
                .ok_or_else(|| Refusal::bad_field("crm", "must be <lead|contact|deal>:<id>"))?;
            let entity = visible_entity(c, &Caller::Employee(me.clone()), &r)?;
            let mut first_error = None;
            for raw in &entity.phones {
                match read_crm_phone(raw, settings.eight_as_plus7) {
                    Ok(n) => return Ok(n),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            Err(match first_error {
                Some(e) => invalid(e),
                None => Refusal::InvalidPhone(format!("{r} has no phone number")),
            }
            .into())
        }
        _ => Err(Refusal::bad_field("phone", "give exactly one of phone and crm").into()),
    }
}

/// Writing first: the preselected channel (setting 4) and the number read under setting 2.
pub fn compose(
    c: &Tx,
    me: &Employee,
    phone: Option<&str>,
    crm: Option<&str>,
) -> WsResult<ComposeView> {
    let settings = store::settings(c)?;
    let address = address(c, me, phone, crm, &settings)?;
    let channels = store::channels(c)?;
    let pre = core::preselect_channel(me, &channels);
    Ok(ComposeView {
        channel_id: pre.as_ref().ok().cloned(),
        reason: pre.err(),
        address: address.to_string(),
        display: address.international(),
        channels: channels
            .iter()
            .map(|ch| {
                let usable = core::channel_usable(ch);
                ComposeChannel {
                    id: ch.id.clone(),
                    usable: usable.is_ok(),
                    why: usable.err(),
                }
            })
            .collect(),
    })
}

/// What a message must carry, whatever is stored.
fn check_message(me: &Employee, m: &SendMessage) -> Result<(), Refusal> {
    non_empty("text", &m.text)?;
    non_empty("idempotency_key", &m.idempotency_key)?;
    if m.chat.is_none() {
        // Writing first reaches a client: not for role none.
        chat_worker(Caller::Employee(me.clone()))?;
    }
    Ok(())
}

/// Sends a message: a reply in a chat (that chat's channel), or a first message on a chosen
/// channel. Queued for the outbox; the same idempotency key twice sends once.
pub fn send(c: &Tx, me: &Employee, m: &SendMessage, now: &str) -> WsResult<SendAccepted> {
    check_message(me, m)?;
    // The same key twice sends once: the message it names is the answer. A key names one
    // message of one author: someone else's is not theirs to reuse.
    if let Some((accepted, author)) = store::sent_with_key(c, &m.idempotency_key)? {
        let same_chat = m.chat.as_ref().is_none_or(|want| *want == accepted.chat);
        if author.as_deref() != Some(me.id.as_str()) || !same_chat {
            return Err(Refusal::IdempotencyKeyReused.into());
        }
        return Ok(accepted);
    }
    let chat = match (&m.chat, &m.channel_id) {
        (Some(chat), None) => visible_chat(c, me, chat)?,
        (None, Some(channel_id)) => first_chat(c, me, m, channel_id, now)?,
        _ => {
            return Err(Refusal::bad_field(
                "chat",
                "give either chat, or channel_id with phone or crm",
            )
            .into())
        }
    };
    Ok(store::reply(
        c,
        &chat,
        &me.id,
        &m.text,
        &m.idempotency_key,
        now,
    )?)
}

/// Where a file to send goes, decided before its bytes are read.
pub enum FileTarget {
    /// The key was sent before (by this employee, to this chat): the answer it had.
    Sent(SendAccepted),
    /// A chat the sender may see, and the messenger its channel is on (whose limits apply).
    Chat(core::Transport),
}

/// A key names one message of one author: someone else's, or another chat's, is not theirs
/// to reuse. `Some`: the message the key already made.
fn repeated(c: &Tx, me: &Employee, key: &str, chat: &str) -> WsResult<Option<SendAccepted>> {
    let Some((accepted, author)) = store::sent_with_key(c, key)? else {
        return Ok(None);
    };
    if author.as_deref() != Some(me.id.as_str()) || accepted.chat != chat {
        return Err(Refusal::IdempotencyKeyReused.into());
    }
    Ok(Some(accepted))
}

/// Whether `me` may send a file to `chat` under `key`, and on which messenger.
pub fn file_target(c: &Tx, me: &Employee, chat: &str, key: &str) -> WsResult<FileTarget> {
    non_empty("idempotency_key", key)?;
    // A repeat is answered even if the chat has since moved away: it was sent once already
    // (a "not found" would make the desktop give up on it and a person send it again).
    if let Some(accepted) = repeated(c, me, key, chat)? {
        return Ok(FileTarget::Sent(accepted));
    }
    let row = visible_chat(c, me, chat)?;
    let channel = store::channel(c, &row.channel_id)?.ok_or(Refusal::NotFound("channel"))?;
    Ok(FileTarget::Chat(channel.transport))
}

/// Sends a file the hub has just received (its bytes are put under the returned message's
/// id before the transaction commits). Checked again here: the chat may have moved, or the
/// same key been sent, while the bytes arrived.
pub fn send_file(
    c: &Tx,
    me: &Employee,
    chat: &str,
    key: &str,
    file: &store::NewFile,
    now: &str,
) -> WsResult<(SendAccepted, bool)> {
    if let Some(accepted) = repeated(c, me, key, chat)? {
        return Ok((accepted, false));
    }
    let row = visible_chat(c, me, chat)?;
    let accepted = store::reply_with(c, &row, &me.id, "", Some(file), key, now)?;
    Ok((accepted, true))
}

/// The chat a first message opens (or finds) on `channel_id`, if the client is not someone
/// else's.
fn first_chat(
    c: &Tx,
    me: &Employee,
    m: &SendMessage,
    channel_id: &str,
    now: &str,
) -> WsResult<store::ChatRow> {
    let channel = store::channel(c, channel_id)?
        .ok_or_else(|| Refusal::bad_field("channel_id", "no such channel"))?;
    core::channel_usable(&channel).map_err(|why| Refusal::ChannelUnusable {
        channel: channel.name.clone(),
        why: why.as_str(),
    })?;
    let settings = store::settings(c)?;
    let to = address(c, me, m.phone.as_deref(), m.crm.as_deref(), &settings)?;
    // The client's chats on every channel: one the writer may not see makes the client
    // someone else's (a first message elsewhere would take it over).
    for responsible in store::responsibles_of_number(c, &to.to_string())? {
        if !core::can_see(me, responsible.as_deref()) {
            return Err(client_taken(c, responsible.as_deref())?.into());
        }
    }
    let id = store::open_first_chat(c, &channel, to.digits(), &to.to_string(), &me.id, now)?;
    let row = store::chat_row_by_id(c, &id)?.ok_or(WorkspaceError::Vanished("chat"))?;
    // The number's chat (found, or just linked to its CRM client) is someone else's:
    // refused, and the transaction with anything it opened rolls back.
    if !core::can_see(me, row.responsible_id.as_deref()) {
        return Err(client_taken(c, row.responsible_id.as_deref())?.into());
    }
    Ok(row)
}

/// Writing first to a client someone else answers: refused naming them, so the desktop can
/// say whom to ask.
fn client_taken(c: &Tx, responsible: Option<&str>) -> WsResult<Refusal> {
    let owner = match responsible {
        Some(id) => store::employee(c, id)?.map(|e| e.name),
        None => None,
    };
    Ok(Refusal::ClientTaken { owner })
}

/// What a Retry puts back in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A `failed` message back on the outbox, with the same idempotency key.
    Send,
    /// A message's failed timeline entries (setting 1).
    Mirror,
}

/// A Retry on a message the caller can see; when nothing had failed, refused saying so.
pub fn retry(c: &Tx, me: &Employee, id: &str, what: Retry, now: &str) -> WsResult<MessageView> {
    let m = store::message(c, id)?.ok_or(Refusal::NotFound("message"))?;
    // A message in a chat one may not see does not exist for them either.
    visible_chat(c, me, &m.chat).map_err(|e| match e {
        WorkspaceError::Refused(_) => Refusal::NotFound("message").into(),
        other => other,
    })?;
    let requeued = match what {
        Retry::Send => store::outbox_queue::retry(c, id, now)?,
        Retry::Mirror => store::mirror_queue::retry(c, id)?,
    };
    if !requeued {
        return Err(Refusal::NotFailed(match what {
            Retry::Send => format!(
                "message {} is {}; only a failed message is retried",
                m.id,
                m.status.as_str()
            ),
            Retry::Mirror => format!("message {} has no failed timeline entry", m.id),
        })
        .into());
    }
    store::message(c, id)?.ok_or(WorkspaceError::Vanished("message"))
}

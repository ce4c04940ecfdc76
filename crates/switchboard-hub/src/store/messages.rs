//! Messages: storing what the provider sends (once), statuses, replies, and their CRM mirror rows.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::HashMap;
use switchboard_core::{
    self as core, Channel, ChatEvent, CrmRef, Direction, EntityKind, MessageStatus, Settings,
    TimelineWrite,
};

/// A message's columns, and its mirror state summed over its queue rows (failed beats
/// pending beats written).
pub(super) const MESSAGE_COLS: &str = "id, chat, direction, text, content_uri, at, author_id, status, error, mirror_skip, \
     kind, media_state, media_name, media_mime, media_size, media_error, \
     (SELECT CASE WHEN sum(q.state = 'failed') > 0 THEN 'failed' WHEN sum(q.state = 'pending') > 0 THEN 'pending' \
             WHEN count(*) > 0 THEN 'written' END FROM mirror_queue q WHERE q.message_id = messages.id), \
     (SELECT q.error FROM mirror_queue q WHERE q.message_id = messages.id AND q.state = 'failed' LIMIT 1), \
     media_duration_ms, media_contact";

pub(super) fn message_row(r: &Row) -> rusqlite::Result<MessageView> {
    let kind = core::MessageKind::parse(&r.get::<_, String>(10)?);
    let text: String = r.get(3)?;
    let content_uri: Option<String> = r.get(4)?;
    Ok(MessageView {
        id: r.get(0)?,
        chat: r.get(1)?,
        direction: direction(&r.get::<_, String>(2)?),
        at: r.get(5)?,
        author_id: r.get(6)?,
        status: MessageStatus::parse(&r.get::<_, String>(7)?),
        error: r.get(8)?,
        mirror: mirror_view(
            r.get::<_, Option<String>>(9)?,
            r.get::<_, Option<String>>(16)?,
            r.get(17)?,
        ),
        media: match r.get::<_, Option<String>>(11)? {
            None => None,
            Some(state) => Some(MediaView {
                state: core::MediaState::parse(&state),
                name: r.get(12)?,
                mime: r.get(13)?,
                size: r.get::<_, Option<i64>>(14)?.map(|n| n.max(0) as u64),
                error: r.get(15)?,
                duration_ms: r.get::<_, Option<i64>>(18)?.map(|n| n.max(0) as u64),
                // Written by this hub from a `ContactCard`; one it cannot read is left out.
                contact: r
                    .get::<_, Option<String>>(19)?
                    .and_then(|j| serde_json::from_str(&j).ok()),
            }),
        },
        place: place_of(&kind, &text, content_uri.as_deref()),
        kind,
        text,
        content_uri,
    })
}

/// What a `geo` message's timeline entry says: where, in words and a map link (its text is the
/// place's description and the coordinates read); a link no place could be read from, as the
/// link. `None` for other kinds.
fn geo_body(kind: &core::MessageKind, text: &str, link: Option<&str>) -> Option<String> {
    if *kind != core::MessageKind::Geo {
        return None;
    }
    Some(match (place_of(kind, text, link), link) {
        (Some(p), _) => p.timeline_line(),
        (None, Some(link)) => timeline_body(text, Some(format!("Location: {link}"))),
        (None, None) => timeline_body(text, Some("Location".to_owned())),
    })
}

/// A `geo` message's location, read from its link or its text.
fn place_of(kind: &core::MessageKind, text: &str, link: Option<&str>) -> Option<core::Place> {
    (*kind == core::MessageKind::Geo)
        .then(|| core::read_place(text, link))
        .flatten()
}

pub(super) fn mirror_view(
    skip: Option<String>,
    state: Option<String>,
    error: Option<String>,
) -> MirrorView {
    let state = match (
        state.as_deref(),
        skip.as_deref().and_then(core::MirrorSkip::parse),
    ) {
        (Some("failed"), _) => MirrorState::Failed,
        (Some("pending"), _) => MirrorState::Pending,
        (Some(_), _) => MirrorState::Written,
        (None, Some(skip)) => MirrorState::Skipped(skip),
        (None, None) => MirrorState::None,
    };
    MirrorView { state, error }
}

pub fn message(conn: &Connection, id: &str) -> rusqlite::Result<Option<MessageView>> {
    conn.one(
        &format!("SELECT {MESSAGE_COLS} FROM messages WHERE id = ?1"),
        [id],
        message_row,
    )
    .optional()
}

/// A chat's messages, oldest first: the `limit` latest before `before` (a message id).
pub fn messages(
    conn: &Connection,
    chat: &str,
    before: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<MessageView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLS} FROM messages WHERE chat = ?1 \
         AND (?2 IS NULL OR (at, rowid) < (SELECT at, rowid FROM messages WHERE id = ?2)) \
         ORDER BY at DESC, rowid DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![chat, before, limit], message_row)?;
    let mut out: Vec<MessageView> = rows.collect::<rusqlite::Result<_>>()?;
    out.reverse();
    Ok(out)
}

/// One message as the provider reported it, validated.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub provider_message_id: String,
    pub channel_id: String,
    pub chat_type: String,
    pub chat_id: String,
    pub at: String,
    pub text: String,
    pub content_uri: Option<String>,
    /// The provider's `type`.
    pub kind: core::MessageKind,
    /// `true`: written by an employee from the phone (an echo), not by the client.
    pub is_echo: bool,
    pub author_id: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
}

/// What storing one webhook message did.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub chat: String,
    pub message_id: String,
    /// Employees to notify now, with what.
    pub notify: Vec<(String, NotifyEvent)>,
}

/// How long a notification preview may be, in characters.
pub const PREVIEW_CHARS: usize = 120;

pub fn preview(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= PREVIEW_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(PREVIEW_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// What every message of one webhook delivery reads alike (the settings, the staff, its
/// channels), read once per delivery: storing a message then costs its own rows only. Only
/// for one transaction in which none of these change.
#[derive(Default)]
pub struct DeliveryReads {
    settings: Option<Settings>,
    staff: Option<Vec<core::Employee>>,
    channels: HashMap<String, Option<Channel>>,
}

impl DeliveryReads {
    fn settings(&mut self, conn: &Connection) -> rusqlite::Result<Settings> {
        if let Some(s) = self.settings {
            return Ok(s);
        }
        let s = settings(conn)?;
        self.settings = Some(s);
        Ok(s)
    }

    fn staff(&mut self, conn: &Connection) -> rusqlite::Result<&[core::Employee]> {
        if self.staff.is_none() {
            self.staff = Some(employees(conn)?);
        }
        Ok(self.staff.as_deref().unwrap_or_default())
    }

    fn channel(&mut self, conn: &Connection, id: &str) -> rusqlite::Result<Option<Channel>> {
        if let Some(c) = self.channels.get(id) {
            return Ok(c.clone());
        }
        let c = channel(conn, id)?;
        self.channels.insert(id.to_owned(), c.clone());
        Ok(c)
    }
}

/// Stores one provider message (idempotent on its `messageId`), updates the chat's
/// unanswered count, mirrors it to the built-in CRM and names whom to notify.
/// `Ok(None)`: already stored, or its channel is unknown (logged).
pub fn ingest(conn: &Connection, m: &Inbound, now: &str) -> rusqlite::Result<Option<Ingested>> {
    ingest_with(conn, &mut DeliveryReads::default(), m, now)
}

/// [`ingest`] for one message of a delivery, with what the delivery's messages share.
pub fn ingest_with(
    conn: &Connection,
    reads: &mut DeliveryReads,
    m: &Inbound,
    now: &str,
) -> rusqlite::Result<Option<Ingested>> {
    let seen: Option<String> = conn
        .one(
            "SELECT id FROM messages WHERE provider_message_id = ?1",
            [&m.provider_message_id],
            |r| r.get(0),
        )
        .optional()?;
    if seen.is_some() {
        return Ok(None);
    }
    let Some(channel) = reads.channel(conn, &m.channel_id)? else {
        tracing::warn!(channel = %m.channel_id, message = %m.provider_message_id, "webhook message for an unknown channel skipped");
        return Ok(None);
    };
    if m.is_echo {
        if let Some(chat) = find_chat(conn, &channel.id, &m.chat_type, &m.chat_id)? {
            if adopt_echo(conn, &chat, m)? {
                return Ok(None);
            }
        }
    }
    let phone = client_phone(channel.transport, &m.chat_id, m.contact_phone.as_deref());
    let title = m
        .contact_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| phone.clone())
        .unwrap_or_else(|| m.chat_id.clone());
    let chat = open_chat(
        conn,
        &channel,
        &m.chat_type,
        &m.chat_id,
        &title,
        phone.as_deref(),
        &m.at,
    )?;
    let (dir, status, event) = if m.is_echo {
        (
            Direction::Out,
            MessageStatus::Sent,
            ChatEvent::EmployeeReply,
        )
    } else {
        (
            Direction::In,
            MessageStatus::Inbound,
            ChatEvent::ClientMessage,
        )
    };
    let message_id = new_id();
    let first_client_message = dir == Direction::In
        && !conn.one(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE chat = ?1 AND direction = 'in')",
            [&chat],
            |r| r.get::<_, bool>(0),
        )?;
    insert_message(
        conn,
        &message_id,
        &chat,
        Some(&m.provider_message_id),
        None,
        dir,
        &m.text,
        m.content_uri.as_deref(),
        &m.at,
        m.author_id.as_deref(),
        status,
    )?;
    if m.kind != core::MessageKind::Text || m.content_uri.is_some() {
        conn.exec(
            "UPDATE messages SET kind = ?2 WHERE id = ?1",
            params![message_id, m.kind.as_str()],
        )?;
    }
    // A location's link is a map, not a file: it is read, never fetched.
    if m.content_uri.is_some() && m.kind != core::MessageKind::Geo {
        media_queue::enqueue(
            conn,
            &message_id,
            media_queue::link_name(m.content_uri.as_deref()),
        )?;
    }
    apply_chat_event(conn, &chat, event, &m.at, now)?;
    let settings = reads.settings(conn)?;
    let linked = links(conn, &chat)?;
    // A file goes to the timeline named, with a link to the hub's copy (the provider's own
    // links may not last).
    let file = m
        .content_uri
        .as_ref()
        .filter(|_| m.kind != core::MessageKind::Geo)
        .map(|uri| {
            let name = media_queue::link_name(Some(uri));
            file_line(m.kind, name.as_deref(), None, None)
        });
    let has_file = file.is_some();
    let body = geo_body(&m.kind, &m.text, m.content_uri.as_deref())
        .unwrap_or_else(|| timeline_body(&m.text, file));
    let author = if dir == Direction::In {
        title.clone()
    } else {
        author_name(conn, m.author_id.as_deref())?
    };
    mirror(
        conn,
        &channel,
        &chat,
        &linked,
        &message_id,
        dir,
        first_client_message,
        &body,
        has_file,
        &author,
        &m.at,
        &settings,
    )?;
    let mut notify = Vec::new();
    if let (Direction::In, Some(row)) = (dir, chat_row_by_id(conn, &chat)?) {
        let event = NotifyEvent {
            chat: chat.clone(),
            title: format!("{title} · {}", channel.name),
            // A file without a caption: the desktop names its kind in the viewer's language.
            text: preview(&m.text),
            kind: m.kind,
            crm: notify_crm(conn, &linked)?,
        };
        for id in core::notify_recipients(reads.staff(conn)?, &row.facts(), &settings) {
            notify.push((id, event.clone()));
        }
    }
    Ok(Some(Ingested {
        chat,
        message_id,
        notify,
    }))
}

#[allow(clippy::too_many_arguments, reason = "one row's columns")]
pub(super) fn insert_message(
    conn: &Connection,
    id: &str,
    chat: &str,
    provider_message_id: Option<&str>,
    idempotency_key: Option<&str>,
    dir: Direction,
    text: &str,
    content_uri: Option<&str>,
    at: &str,
    author_id: Option<&str>,
    status: MessageStatus,
) -> Db {
    conn.exec(
        "INSERT INTO messages (id, chat, provider_message_id, idempotency_key, direction, text, content_uri, at, author_id, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![id, chat, provider_message_id, idempotency_key, direction_str(dir), text, content_uri, at, author_id, status.as_str()],
    )?;
    conn.exec(
        "UPDATE chats SET last_message_id = ?2, last_activity_at = max(last_activity_at, ?3) \
         WHERE id = ?1 AND (last_message_id IS NULL OR last_activity_at <= ?3)",
        params![chat, id, at],
    )?;
    record_change(conn, ChangeKind::Message, id)?;
    Ok(())
}

/// A line in a conversation that nobody wrote to the client (`kind`: what it says, e.g. a
/// hand-over): never sent, never mirrored, no reply owed for it.
pub fn insert_system_line(
    conn: &Connection,
    id: &str,
    chat: &str,
    kind: core::MessageKind,
    text: &str,
    author_id: &str,
    at: &str,
) -> Db {
    // Not the chat's last message: its list row, escalation notices and order keep showing
    // what the client last wrote.
    conn.exec(
        "INSERT INTO messages (id, chat, direction, text, at, author_id, status, kind) \
         VALUES (?1, ?2, 'out', ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            chat,
            text,
            at,
            author_id,
            MessageStatus::Delivered.as_str(),
            kind.as_str()
        ],
    )?;
    record_change(conn, ChangeKind::Message, id)?;
    Ok(())
}

/// The CRM entity a notification about `chat` names (see [`notify_crm`]).
pub fn notify_crm_of(conn: &Connection, chat: &str) -> rusqlite::Result<Option<NotifyCrm>> {
    notify_crm(conn, &links(conn, chat)?)
}

/// The CRM entity a notification names: the chat's deal, else contact, else lead.
pub(super) fn notify_crm(
    conn: &Connection,
    linked: &[CrmRef],
) -> rusqlite::Result<Option<NotifyCrm>> {
    for kind in [EntityKind::Deal, EntityKind::Contact, EntityKind::Lead] {
        if let Some(r) = linked.iter().find(|r| r.kind == kind) {
            if let Some(e) = entity(conn, r)? {
                return Ok(Some(NotifyCrm {
                    kind,
                    id: e.id,
                    title: e.title,
                }));
            }
        }
    }
    Ok(None)
}

/// Queues a message for the CRM timelines core names (setting 1, Open Lines), one row per
/// entity with its idempotency key; or records why it is not mirrored. In the caller's
/// transaction, so a stored message always has its mirror rows.
#[allow(clippy::too_many_arguments, reason = "the facts the rule needs")]
pub(super) fn mirror(
    conn: &Connection,
    channel: &Channel,
    chat: &str,
    linked: &[CrmRef],
    message_id: &str,
    dir: Direction,
    first_client_message: bool,
    body: &str,
    file: bool,
    author: &str,
    at: &str,
    settings: &Settings,
) -> Db {
    if let Some(skip) = core::mirror_skip(channel, linked, settings) {
        conn.exec(
            "UPDATE messages SET mirror_skip = ?2 WHERE id = ?1",
            params![message_id, skip.as_str()],
        )?;
    }
    for write in core::timeline_writes(channel, linked, dir, first_client_message, settings) {
        let (entity, kind, msg, text) = match &write {
            TimelineWrite::Message(e) => {
                let arrow = if dir == Direction::In { "→" } else { "←" };
                (
                    e,
                    "message",
                    Some(message_id),
                    format!("[{}] {arrow} {author}: {body}", channel.name),
                )
            }
            TimelineWrite::OpenLinesActivity(e) => (
                e,
                "open_lines_activity",
                None,
                format!("Open Lines chat started ({}): {author}", channel.name),
            ),
        };
        let key = format!(
            "{kind}:{}:{}:{}",
            entity.kind.as_str(),
            entity.id,
            msg.unwrap_or(chat)
        );
        conn.exec(
            "INSERT OR IGNORE INTO mirror_queue (key, kind, entity_kind, entity_id, chat, message_id, at, text, file_link) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![key, kind, entity.kind.as_str(), entity.id, chat, msg, at, text, file && msg.is_some()],
        )?;
    }
    Ok(())
}

/// Queues the messages of `chat` that were stored while it had no CRM link (the CRM index had
/// not seen its client yet), now that it has one. Messages from before a link that existed
/// only later (a deal created afterwards) are not back-filled: this is for clients the CRM
/// already had.
pub fn mirror_unlinked(conn: &Connection, chat: &str) -> Db {
    let Some(row) = chat_row_by_id(conn, chat)? else {
        return Ok(());
    };
    let Some(channel) = channel(conn, &row.channel_id)? else {
        return Ok(());
    };
    let settings = settings(conn)?;
    /// id, direction, text, its file's line, at, author.
    type Waiting = (
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
    );
    let waiting: Vec<Waiting> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, direction, text, media_state, at, author_id, kind, media_name, media_mime, media_size, \
             content_uri FROM messages WHERE chat = ?1 AND mirror_skip = 'not_linked' ORDER BY at, rowid",
        )?;
        let rows = stmt.query_map([chat], |r| {
            let kind = core::MessageKind::parse(&r.get::<_, String>(6)?);
            let text: String = r.get(2)?;
            if let Some(geo) = geo_body(&kind, &text, r.get::<_, Option<String>>(10)?.as_deref()) {
                // Its words are the whole entry (no file line below them).
                return Ok((r.get(0)?, r.get(1)?, geo, None, r.get(4)?, r.get(5)?));
            }
            let file = match r.get::<_, Option<String>>(3)? {
                Some(_) => Some(file_line(
                    core::MessageKind::parse(&r.get::<_, String>(6)?),
                    r.get::<_, Option<String>>(7)?.as_deref(),
                    r.get::<_, Option<String>>(8)?.as_deref(),
                    r.get::<_, Option<i64>>(9)?.map(|n| n.max(0) as u64),
                )),
                None => None,
            };
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, file, r.get(4)?, r.get(5)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (id, dir, text, file, at, author) in waiting {
        let dir = direction(&dir);
        let has_file = file.is_some();
        let body = timeline_body(&text, file);
        let name = if dir == Direction::In {
            row.title.clone()
        } else {
            author_name(conn, author.as_deref())?
        };
        conn.exec(
            "UPDATE messages SET mirror_skip = NULL WHERE id = ?1",
            [&id],
        )?;
        mirror(
            conn,
            &channel,
            chat,
            &links(conn, chat)?,
            &id,
            dir,
            false,
            &body,
            has_file,
            &name,
            &at,
            &settings,
        )?;
        record_change(conn, ChangeKind::Message, &id)?;
    }
    Ok(())
}

/// The employee's name, or their id when unknown.
pub(super) fn author_name(
    conn: &Connection,
    employee_id: Option<&str>,
) -> rusqlite::Result<String> {
    let Some(id) = employee_id else {
        return Ok("employee".into());
    };
    Ok(conn
        .query_row("SELECT name FROM employees WHERE id = ?1", [id], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .unwrap_or_else(|| id.to_owned()))
}

/// Applies a provider status (`sent`, `delivered`, `read`, `error` with its reason) to one
/// of our messages. Statuses arrive out of order and repeated: only a step forward counts;
/// `None` (the provider's `edited`) moves nothing. `Ok(false)`: no such message.
pub fn apply_status(
    conn: &Connection,
    provider_message_id: &str,
    status: Option<MessageStatus>,
    error: Option<&str>,
) -> rusqlite::Result<bool> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT id, status FROM messages WHERE provider_message_id = ?1",
            [provider_message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((id, current)) = row else {
        return Ok(false);
    };
    let current = MessageStatus::parse(&current);
    let status = match status {
        // An error ends the walk unless the message was read already.
        Some(MessageStatus::Error) if current.rank() < MessageStatus::Read.rank() => status,
        Some(MessageStatus::Error) => None,
        Some(s) if s.rank() > current.rank() => Some(s),
        _ => None,
    };
    if let Some(status) = status {
        conn.exec(
            "UPDATE messages SET status = ?2, error = ?3 WHERE id = ?1",
            params![id, status.as_str(), error],
        )?;
        record_change(conn, ChangeKind::Message, &id)?;
    }
    Ok(true)
}

/// Raises an outgoing message to at least `status` (never backwards).
pub fn raise_status(conn: &Connection, id: &str, status: MessageStatus) -> Db {
    let current: Option<String> = conn
        .query_row("SELECT status FROM messages WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    if current.is_some_and(|c| MessageStatus::parse(&c).rank() < status.rank()) {
        conn.exec(
            "UPDATE messages SET status = ?2, error = NULL WHERE id = ?1",
            params![id, status.as_str()],
        )?;
        record_change(conn, ChangeKind::Message, id)?;
    }
    Ok(())
}

/// An echo of a message we sent ourselves, recognised when its `messageId` is not known yet
/// (the hub went down before it read the provider's answer): our oldest outgoing message in
/// that chat with the same text and no provider id. It takes the provider's id, and leaves
/// the outbox — it was delivered.
pub(super) fn adopt_echo(conn: &Connection, chat: &str, m: &Inbound) -> rusqlite::Result<bool> {
    // The provider echoes an API send with our `crmUserId` (the author) as `authorId`; the
    // same text typed on the phone has another author (or none), and must not take the place
    // of ours still waiting in the outbox — ours would then never be sent.
    let Some(author) = m.author_id.as_deref() else {
        return Ok(false);
    };
    let ours: Option<String> = conn
        .query_row(
            "SELECT id FROM messages WHERE chat = ?1 AND direction = 'out' AND provider_message_id IS NULL \
             AND idempotency_key IS NOT NULL AND text = ?2 AND author_id = ?3 \
             AND (media_state IS NULL) = ?4 \
             AND (EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = messages.id) \
                  OR (status = 'failed' AND instr(error, ?5) > 0)) \
             ORDER BY at, id LIMIT 1",
            // A file's echo settles a file of ours, a text's a text; only one still waiting
            // or failed as maybe taken (never one the provider refused).
            params![chat, m.text, author, m.content_uri.is_none(), super::outbox_queue::MAYBE_RECEIVED],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = ours else {
        return Ok(false);
    };
    conn.exec(
        "UPDATE messages SET provider_message_id = ?2 WHERE id = ?1",
        params![id, m.provider_message_id],
    )?;
    conn.exec("DELETE FROM outbox WHERE message_id = ?1", [&id])?;
    let status: String = conn.one("SELECT status FROM messages WHERE id = ?1", [&id], |r| {
        r.get(0)
    })?;
    if MessageStatus::parse(&status) == MessageStatus::Failed {
        // It did go out after all.
        conn.exec(
            "UPDATE messages SET status = 'accepted', error = NULL WHERE id = ?1",
            [&id],
        )?;
    }
    raise_status(conn, &id, MessageStatus::Accepted)?;
    record_change(conn, ChangeKind::Message, &id)?;
    tracing::info!(message = %id, "echo of our own send recognised");
    Ok(true)
}

/// An employee's reply in an existing chat. Sandbox channels have no provider: the message
/// counts as sent at once. Idempotent on `key`.
pub fn reply(
    conn: &Connection,
    chat: &ChatRow,
    author: &str,
    text: &str,
    key: &str,
    now: &str,
) -> rusqlite::Result<SendAccepted> {
    reply_with(conn, chat, author, text, None, key, now)
}

/// A file an employee sends, as the hub keeps it (under the message's id in `media/`).
#[derive(Debug, Clone)]
pub struct NewFile {
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub kind: core::MessageKind,
}

impl NewFile {
    /// How the file reads where only text goes (the CRM's timeline).
    pub fn line(&self) -> String {
        file_line(
            self.kind,
            Some(&self.name),
            Some(&self.mime),
            Some(self.size),
        )
    }
}

/// A file where only text goes (the CRM's timeline): `Photo: name (image/png, 25 KB)`, with
/// what is known of it. Its link to the hub's copy follows when the entry is written.
pub fn file_line(
    kind: core::MessageKind,
    name: Option<&str>,
    mime: Option<&str>,
    size: Option<u64>,
) -> String {
    let label = match kind {
        core::MessageKind::Image => "Photo",
        core::MessageKind::Audio => "Audio",
        core::MessageKind::Video => "Video",
        core::MessageKind::Document => "Document",
        _ => "File",
    };
    let size = size.map(|s| {
        if s >= 1024 * 1024 {
            format!("{:.1} MB", s as f64 / (1024.0 * 1024.0))
        } else {
            format!("{} KB", s.div_ceil(1024))
        }
    });
    let facts: Vec<String> = mime.map(str::to_owned).into_iter().chain(size).collect();
    let mut line = format!("{label}: {}", name.unwrap_or("file"));
    if !facts.is_empty() {
        line.push_str(&format!(" ({})", facts.join(", ")));
    }
    line
}

/// A message as its CRM timeline entry says it: its text, then its file's line.
fn timeline_body(text: &str, file: Option<String>) -> String {
    match (file, text.is_empty()) {
        (Some(line), true) => line,
        (Some(line), false) => format!("{text}\n{line}"),
        (None, _) => text.to_owned(),
    }
}

/// [`reply`], or a file (`text` is then empty: the provider takes text or a file, not both).
/// The message id is returned before the caller's transaction commits, so the caller puts the
/// file's bytes in place under it first.
pub fn reply_with(
    conn: &Connection,
    chat: &ChatRow,
    author: &str,
    text: &str,
    file: Option<&NewFile>,
    key: &str,
    now: &str,
) -> rusqlite::Result<SendAccepted> {
    if let Some((existing, _)) = sent_with_key(conn, key)? {
        return Ok(existing);
    }
    let id = new_id();
    let at = now.to_owned();
    // Sandbox channels have no provider behind them: sent at once. Others go through the outbox.
    let sandbox: bool = conn
        .query_row(
            "SELECT sandbox FROM channels WHERE id = ?1",
            [&chat.channel_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(true);
    let status = if sandbox {
        MessageStatus::Sent
    } else {
        MessageStatus::Queued
    };
    insert_message(
        conn,
        &id,
        &chat.id,
        None,
        Some(key),
        Direction::Out,
        text,
        None,
        &at,
        Some(author),
        status,
    )?;
    if let Some(f) = file {
        conn.exec(
            "UPDATE messages SET kind = ?2, media_state = 'stored', media_name = ?3, media_mime = ?4, media_size = ?5 WHERE id = ?1",
            params![id, f.kind.as_str(), f.name, f.mime, f.size as i64],
        )?;
    }
    if !sandbox {
        enqueue_send(conn, &id, &chat.id, now)?;
    }
    apply_chat_event(conn, &chat.id, ChatEvent::EmployeeReply, &at, now)?;
    if let Some(channel) = channel(conn, &chat.channel_id)? {
        let settings = settings(conn)?;
        let name = author_name(conn, Some(author))?;
        let body = timeline_body(text, file.map(NewFile::line));
        mirror(
            conn,
            &channel,
            &chat.id,
            &links(conn, &chat.id)?,
            &id,
            Direction::Out,
            false,
            &body,
            file.is_some(),
            &name,
            &at,
            &settings,
        )?;
    }
    Ok(SendAccepted {
        message_id: id,
        chat: chat.id.clone(),
        status,
    })
}

/// Puts a stored message on the hub's outbox (sent by the `outbox` worker) (in the caller's transaction).
pub fn enqueue_send(conn: &Connection, message_id: &str, chat: &str, now: &str) -> Db {
    conn.exec(
        "INSERT OR IGNORE INTO outbox (message_id, chat, next_attempt_ms) VALUES (?1, ?2, ?3)",
        params![message_id, chat, time_ms(now)],
    )?;
    Ok(())
}
